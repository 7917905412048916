# PCI and the device tree: guest/pci-enum and guest/fdt under uvmm, and
# --dump-dtb decoded by dtc. Sourced by tests/boot/run-boot.sh, which
# provides boot_case, run_expect, result_*, $UVMM, $G and $tmp.

boot_case "pci-enum: bus 0 through ECAM and conf1, BARs, MSI-X, MSI, INTx" 1 \
'^PASS: ECAM from the device tree: 0xb0000000
^00:00\.0 1b36:0008 class 060000$
^00:01\.0 1234:7e57 class ff0000$
^  BAR2  mem64 pf 0x100000000 size 0x100000$
^PASS: conf1 and ECAM agree on 2 functions
^PASS: .*BARs: sizes are powers of two, aligned
^PASS: 32-bit BAR0 relocated .*new address only
^PASS: I/O BAR1 relocated
^PASS: 64-bit BAR2 relocated
^PASS: irq: MSI-X vector 0 arrives
^PASS: irq: MSI-X: unmasking delivers the pending vector
^PASS: irq: MSI vector 2 arrives
^PASS: irq: INTx: pin A arrives through IOAPIC GSI 17
^PASS: irq: INTx: a line still high after the EOI interrupts again
^SUMMARY: .* 0 unexpected failures, 0 skipped' -- --device pci-testdev "$G/pci-enum.elf"

# 4 GiB: RAM above 4 GiB pushes the 64-bit window to 6 GiB; two CPUs.
# A production guest sees no test scaffolding: without --device
# pci-testdev the bus holds the host bridge alone.
if run_expect "boot: pci-enum without --device pci-testdev" 1 "$tmp/out" -- \
	"$UVMM" "$G/pci-enum.elf" &&
   expect_lines "boot: pci-enum without --device pci-testdev" "$tmp/out" \
	'^00:00\.0 ' '^SKIP: no uvmm test function' &&
   refuse_lines "boot: pci-enum without --device pci-testdev" "$tmp/out" \
	'^00:0[1-9a-f]\.' '^FAIL'; then
	result_pass "boot: pci-enum without --device pci-testdev: the host bridge alone"
fi

boot_case "pci-enum: 4G and 2 CPUs, 64-bit window above high RAM" 1 \
'^  BAR2  mem64 pf 0x180000000 size 0x100000$
^PASS: 64-bit BAR2 relocated
^SUMMARY: .* 0 unexpected failures, 0 skipped' -- -m 4G -c 2 --device pci-testdev "$G/pci-enum.elf"

boot_case "fdt: memory, CPUs, command line and devices match" 1 \
'^PASS: dtb module at 0x30000
^PASS: memory: 1 nodes add up to 256 MiB
^PASS: CPUs: 3 cpu nodes
^PASS: chosen: bootargs "mem=256M cpus=3 x=y" is the command line
^PASS: chosen: stdout-path /isa/serial@3f8
^PASS: PCI host node: pci-host-ecam-generic
^PASS: interrupt-map: 128 entries
^SUMMARY: .* 0 unexpected failures, 0 skipped' -- \
	-m 256M -c 3 --cmdline "mem=256M cpus=3 x=y" "$G/fdt.elf"

boot_case "fdt: memory split around the hole (4G)" 1 \
'^PASS: memory: 2 nodes add up to 4096 MiB
^SUMMARY: .* 0 unexpected failures' -- -m 4G --cmdline "mem=4G cpus=1" "$G/fdt.elf"

# The checks can fail: a tree that disagrees with what was asked.
boot_case "fdt: a CPU count other than cpus= fails" 3 \
'^FAIL: CPUs: 1 cpu nodes' -- --cmdline "cpus=2" "$G/fdt.elf"

# --dump-dtb: the same tree, in a file that dtc decodes.
if run_expect "boot: --dump-dtb" 1 "$tmp/out" -- "$UVMM" \
	--dump-dtb "$tmp/out.dtb" -c 2 --cmdline "console=ttyS0" "$G/hello.elf"; then
	if ! command -v dtc >/dev/null; then
		result_missing "boot: --dump-dtb: dtc missing (Debian package device-tree-compiler)"
	elif dtc -I dtb -O dts -o "$tmp/out.dts" "$tmp/out.dtb" 2>"$tmp/dtc.err" &&
	   expect_lines "boot: --dump-dtb" "$tmp/out.dts" \
		'compatible = "pci-host-ecam-generic";' \
		'bootargs = "console=ttyS0";' \
		'cpu@1 \{' \
		'compatible = "ns16550a";' \
		'interrupt-map = <0x00 0x00 0x00 0x01 0x01 0x10 0x01'; then
		result_pass "boot: --dump-dtb writes a tree dtc decodes, with the PCI host node"
	else
		result_fail "boot: --dump-dtb: dtc could not decode the tree"
		sed 's/^/    | /' "$tmp/dtc.err" | tail -5
	fi
fi
