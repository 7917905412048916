# Linux boot protocol: guest/bzimage-probe (our own bzImage that checks
# the zero page, e820, initrd, MP table, ACPI, CPUID, RTC, the UART's interrupt
# and starts every AP), the loader's refusals, and the first seconds of
# Debian's real kernel. Sourced by tests/boot/run-boot.sh, which provides
# boot_case, run_expect, $G, $tmp and $UVMM.

PROBE=$G/bzimage-probe

# An initrd of random bytes; the probe checks size and POSIX cksum.
head -c 1500001 /dev/urandom >"$tmp/initrd.bin"
read -r initrd_sum initrd_size _ < <(cksum "$tmp/initrd.bin")
probe_args() {	# probe_args CPUS MEM
	echo "probe.cpus=$1 probe.mem=$2 probe.initrd_size=$initrd_size probe.initrd_cksum=$initrd_sum probe.tail=end"
}

# What every passing probe run prints (besides no FAIL line).
probe_lines='^PASS: entry: CS is __BOOT_CS
^PASS: zero page: type_of_loader is 0xff
^PASS: zero page: loaded at 0x1000000
^PASS: cmdline: arrived whole
^PASS: boot page tables identity-map
^PASS: e820: RAM adds up to -m
^PASS: initrd: bytes intact
^PASS: MP table: one enabled processor per vCPU
^PASS: MP table: IOAPIC
^PASS: MP table: PCI INTx: [0-9]+ entries
^PASS: MP table: every function.s interrupt pin on bus 0 has its MP entry
^PASS: ACPI: RSDP in 0xe0000-0xfffff
^PASS: ACPI: MADT: [0-9]+ enabled LAPICs, the MP table.s processors
^PASS: ACPI: DSDT .*PCI0 with _CRS and _PRT, and _S5
^PASS: setup_data: one SETUP_DTB entry holding a whole device tree
^PASS: CPUID: leaf 1 initial APIC ID
^PASS: RTC: the time is a date
^PASS: RTC: CMOS memory bytes
^PASS: serial: THR-empty interrupt through IOAPIC pin 4
^SUMMARY: .* 0 unexpected failures'

boot_case "bzimage-probe: 1 vCPU, 128M" 1 \
"$probe_lines
^PASS: SMP: one vCPU: no AP to start" -- \
	--timeout 60 -c 1 -m 128M --initrd "$tmp/initrd.bin" \
	--cmdline "$(probe_args 1 128M)" "$PROBE"

boot_case "bzimage-probe: 4 vCPUs, 1G" 1 \
"$probe_lines
^PASS: SMP: 3 of 3 APs checked in
^PASS: SMP: every AP's LAPIC ID and CPUID APIC IDs .* \(3 of 3\)" -- \
	--timeout 60 -c 4 -m 1G --initrd "$tmp/initrd.bin" \
	--cmdline "$(probe_args 4 1G)" "$PROBE"

boot_case "bzimage-probe: 2 vCPUs, 4G (RAM across the hole)" 1 \
"$probe_lines
^PASS: e820: low RAM ends at 0xb0000000, 1280 MiB above 4 GiB
^PASS: e820: both ends of every RAM entry are RAM
^PASS: SMP: 1 of 1 APs checked in" -- \
	--timeout 60 -c 2 -m 4G --initrd "$tmp/initrd.bin" \
	--cmdline "$(probe_args 2 4G)" "$PROBE"

boot_case "bzimage-probe: no initrd, reset through the i8042 exits 0" 0 \
'^PASS: initrd: none given, none announced
^SUMMARY: .* 0 unexpected failures
^bzimage-probe: resetting through the i8042' -- \
	--timeout 60 -c 2 -m 256M \
	--cmdline "probe.cpus=2 probe.mem=256M probe.initrd=none probe.reset probe.tail=end" \
	"$PROBE"

# The probe can fail: told the wrong RAM size, it says so (status 3).
boot_case "bzimage-probe: -m disagreeing with probe.mem fails" 3 \
'^FAIL: e820: RAM adds up to -m 256 MiB
^SUMMARY: .* [1-9][0-9]* unexpected failures' -- \
	--timeout 60 -m 128M --cmdline "probe.mem=256M probe.initrd=none probe.tail=end" \
	"$PROBE"

# patch FILE OFFSET HEXBYTES: overwrite bytes of a copy of the probe.
patch_bytes() {
	printf "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}

# pref_address 0x2300000 (not 2 MiB aligned): a relocatable kernel runs at
# it rounded up to kernel_alignment, and the probe runs fine there.
cp "$PROBE" "$tmp/probe-reloc"
patch_bytes "$tmp/probe-reloc" 0x258 '\x00\x00\x30\x02'
boot_case "bzimage-probe: relocated to pref_address rounded up (0x2400000)" 1 \
'^bzimage-probe: running at 0x2400000
^PASS: zero page: loaded at 0x2400000: pref_address 0x2300000 rounded up
^PASS: e820: the kernel.s init_size area is in RAM
^SUMMARY: .* 0 unexpected failures' -- \
	--timeout 60 -m 128M --cmdline "probe.mem=128M probe.initrd=none probe.tail=end" \
	"$tmp/probe-reloc"

cp "$PROBE" "$tmp/probe-2.11"
patch_bytes "$tmp/probe-2.11" 0x206 '\x0b\x02'
boot_case "bzImage with boot protocol 2.11 is refused (status 6)" 6 \
'uvmm: .*boot protocol 2.11 is too old: uvmm needs 2.12' -- "$tmp/probe-2.11"

# The RAM it takes: the kernel runs at 16 MiB (pref_address) and needs
# init_size bytes from there; an initrd goes above that, page-aligned.
init_size=$(od -An -tu4 -j $((0x260)) -N4 "$PROBE" | tr -d ' ')
kernel_end=$((16 * 1048576 + init_size))
mib_up() { echo $((($1 + 1048575) / 1048576)); }
boot_case "bzImage that does not fit in -m is refused with the RAM it needs" 6 \
"uvmm: .*the kernel needs RAM up to .* at least $(mib_up $kernel_end) MiB of RAM, -m has 16 MiB" -- \
	-m 16M "$PROBE"

truncate -s 20M "$tmp/big-initrd.bin"
boot_case "initrd that does not fit is refused with the RAM it needs" 6 \
"uvmm: .*the initrd \\(20971520 bytes\\) does not fit above the kernel: at least $(mib_up $(( (kernel_end + 4095) / 4096 * 4096 + 20 * 1048576 ))) MiB of RAM needed, -m has 32 MiB" -- \
	-m 32M --initrd "$tmp/big-initrd.bin" "$PROBE"

# ---- Debian's kernel: its decompressor -------------------------------------
# Booted with earlyprintk, the decompressor prints "KASLR disabled" early
# (with console=ttyS0 alone it prints nothing). That line proves the setup
# header, the command line pointer and the 64-bit handoff with a real
# kernel. On software KVM the rest of the boot takes far too long, so the
# test stops uvmm as soon as the line is there and asserts the line, not
# the status. DEBIAN_KASLR_TIMEOUT: seconds to wait (measured under the
# nested-SVM kvm-host VM: 1.7-2.1 s).
source tests/lib/debian-kernel.sh
if ! debian_fetch --offline; then
	result_missing "boot: Debian decompressor: $DEBIAN_ERROR"
else
	limit=${DEBIAN_KASLR_TIMEOUT:-60}
	out=$tmp/debian.out
	start=$(date +%s%N)
	"$UVMM" --timeout "$limit" -m 256M --cmdline "earlyprintk=ttyS0 nokaslr" \
		"$DEBIAN_KERNEL" >"$out" 2>&1 </dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null && ! grep -q 'KASLR disabled' "$out"; do
		sleep 0.1
	done
	found_ms=$(( ($(date +%s%N) - start) / 1000000 ))
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if grep -q 'KASLR disabled' "$out"; then
		result_pass "boot: Debian $DEBIAN_KVER decompressor prints 'KASLR disabled' (${found_ms} ms)"
	else
		result_fail "boot: Debian $DEBIAN_KVER decompressor: no 'KASLR disabled' within ${limit} s"
		sed 's/^/    | /' "$out" | tail -20
	fi
fi
