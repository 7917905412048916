# uvmm-qemu running a test the way kvm-unit-tests' runner does (x86/run's
# command line, the environment file as -initrd): the guest's verdict in
# the exit status, its output on stdout, nothing on stderr. Sourced by
# tests/boot/run-boot.sh, which provides $G and $tmp.

Q=$BUILD/uvmm-qemu
printf 'uvmm-module-0123456789\n' >"$tmp/env"
runner=(--no-reboot -nodefaults -global kvm-pit.lost_tick_policy=discard
	-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4
	-display none -serial stdio -device pci-testdev -machine accel=kvm
	-kernel)

# qemu_case NAME STATUS 'REGEX...' -- ARGS...: stdout must match, stderr
# must stay empty (the runner fails a test on any line there).
qemu_case() {
	local name=$1 want=$2 pats=$3 status
	shift 4
	local -a patterns
	mapfile -t patterns <<<"$pats"
	timeout -k 5 120 "$Q" "$@" >"$tmp/qout" 2>"$tmp/qerr" </dev/null
	status=$?
	if [[ $status != "$want" ]]; then
		result_fail "uvmm-qemu: $name: exit status $status, expected $want"
		cat "$tmp/qout" "$tmp/qerr" | tail -20 | sed 's/^/    | /'
		return
	fi
	expect_lines "uvmm-qemu: $name" "$tmp/qout" "${patterns[@]}" || return
	if [[ -s "$tmp/qerr" ]]; then
		result_fail "uvmm-qemu: $name: stderr is not empty"
		sed 's/^/    | /' "$tmp/qerr" | head -5
		return
	fi
	result_pass "uvmm-qemu: $name"
}

qemu_case "the runner's command line: a passing test exits 1, stderr empty" 1 \
'^PASS: multiboot: the first word is the kernel.s name
^PASS: multiboot: module holds the file.s bytes
^PASS: fw_cfg RAM_SIZE 0x10000000 = mem=0x10000000
^PASS: fw_cfg NB_CPUS 2 = cpus=2
^PASS: pc-testdev: 0x200e: ISA line 14 interrupts
^SUMMARY: .* 0 unexpected failures' -- "${runner[@]}" "$G/multiboot.elf" \
	-smp 2 -m 256 -cpu max,+x2apic \
	-append "mem=256M cpus=2 module=uvmm-module-0123456789 pc-testdev" \
	-initrd "$tmp/env"

qemu_case "a failing test exits 3 (the guest's 1 through isa-debug-exit)" 3 \
'^FAIL: fw_cfg NB_CPUS 1 = cpus=4' -- "${runner[@]}" "$G/multiboot.elf" \
	-append "mem=128M cpus=4 module=uvmm-module-0123456789 pc-testdev" \
	-initrd "$tmp/env"

# -m takes MiB without a suffix, as QEMU; G works too.
qemu_case "-m 1G" 1 '^PASS: fw_cfg RAM_SIZE 0x40000000 = mem=0x40000000' -- \
	"${runner[@]}" "$G/multiboot.elf" -m 1G \
	-append "mem=1G cpus=1 module=uvmm-module-0123456789 pc-testdev" \
	-initrd "$tmp/env"
