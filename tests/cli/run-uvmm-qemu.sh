#!/bin/bash
# uvmm-qemu against the probes kvm-unit-tests' runner makes before it runs
# a test (scripts/arch-run.bash, scripts/vmm.bash, x86/run), and against
# options it must refuse. None of them starts a VM: the runs themselves
# are boot cases (tests/boot/cases/75-uvmm-qemu.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
Q=$BUILD/uvmm-qemu
mb=$BUILD/guest/multiboot.elf

# The runner's own command line for a test (x86/run), kernel appended.
runner=(--no-reboot -nodefaults -global kvm-pit.lost_tick_policy=discard
	-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4
	-display none -serial stdio -device pci-testdev -machine accel=kvm
	-kernel)

# search_qemu_binary: "$QEMU --help" must say QEMU; status 0, no stderr.
if run_expect "uvmm-qemu: --help" 0 "$tmp/out" -- "$Q" --help &&
   expect_lines "uvmm-qemu: --help" "$tmp/out" "QEMU" "^uvmm-qemu version"; then
	result_pass "uvmm-qemu: --help names QEMU (the runner's search_qemu_binary)"
fi

# x86/run: the test devices, by QEMU's names in quotes.
if run_expect "uvmm-qemu: -device ?" 0 "$tmp/out" -- "$Q" -device '?' &&
   grep -qF '"pc-testdev"' "$tmp/out" && grep -qF '"pci-testdev"' "$tmp/out" &&
   grep -qF '"isa-debug-exit"' "$tmp/out"; then
	result_pass "uvmm-qemu: -device '?' lists \"pc-testdev\", \"pci-testdev\", \"isa-debug-exit\""
elif [[ $LAST_STATUS == 0 ]]; then
	result_fail "uvmm-qemu: -device '?' lacks a device"
	sed 's/^/    | /' "$tmp/out"
fi

# premature_failure: the full command on a missing file must say QEMU's
# words, or every test is reported SKIP.
if run_expect "uvmm-qemu: missing kernel" 1 "$tmp/out" -- "$Q" "${runner[@]}" \
	_NO_FILE_4Uhere_ -smp 1; then
	if grep "_NO_FILE_4Uhere_" "$tmp/out" |
	   grep -q -e "[Cc]ould not \(load\|open\) kernel" &&
	   [[ $(wc -l <"$tmp/out") -eq 1 ]]; then
		result_pass "uvmm-qemu: a missing kernel is QEMU's \"could not load kernel '...'\", status 1"
	else
		result_fail "uvmm-qemu: missing kernel: not QEMU's wording on one line"
		sed 's/^/    | /' "$tmp/out"
	fi
fi

# qemu_probe_maxsmp: too many CPUs names the limit as its last word.
if run_expect "uvmm-qemu: -smp 512" 1 "$tmp/out" -- "$Q" "${runner[@]}" \
	_NO_FILE_4Uhere_ -smp 512; then
	smp=$(grep 'SMP CPUs' "$tmp/out")
	smp=${smp##* }
	if [[ $smp == 64 ]]; then
		result_pass "uvmm-qemu: -smp 512 says the limit the runner reads (64)"
	else
		result_fail "uvmm-qemu: -smp 512: runner would read '$smp'"
		sed 's/^/    | /' "$tmp/out"
	fi
fi

# Refusals: one line naming the option, status 1, never a silent misrun.
refuse() {
	local name=$1 pat=$2
	shift 2
	run_expect "uvmm-qemu: $name" 1 "$tmp/out" -- "$Q" "$@" || return
	expect_lines "uvmm-qemu: $name" "$tmp/out" "^uvmm-qemu: .*$pat" || return
	if [[ $(wc -l <"$tmp/out") -ne 1 ]]; then
		result_fail "uvmm-qemu: $name: $(wc -l <"$tmp/out") lines, expected one"
		return
	fi
	result_pass "uvmm-qemu: $name is refused"
}
refuse "-cpu qemu64" "model 'qemu64' is not supported" -cpu qemu64 -kernel "$mb"
refuse "-cpu max,-x2apic" "'-x2apic' is not supported" -cpu max,-x2apic -kernel "$mb"
refuse "-machine q35" "'q35' is not supported" -machine q35 -kernel "$mb"
refuse "-machine accel=tcg" "'accel=tcg' is not supported" -machine accel=tcg -kernel "$mb"
refuse "-machine kernel_irqchip=split" "'kernel_irqchip=split' is not supported" \
	-machine accel=kvm,kernel_irqchip=split -kernel "$mb"
refuse "-accel tcg" "-accel tcg is not supported" -accel tcg -kernel "$mb"
refuse "-device virtio-net-pci" "-device 'virtio-net-pci' is not supported" \
	-device virtio-net-pci -kernel "$mb"
refuse "isa-debug-exit elsewhere" "'iobase=0x501' is not supported" \
	-device isa-debug-exit,iobase=0x501,iosize=0x2 -kernel "$mb"
refuse "-global other" "-global 'ICH9-LPC.disable_s3=1' is not supported" \
	-global ICH9-LPC.disable_s3=1 -kernel "$mb"
refuse "-smp with maxcpus" "CPU hotplug is not supported" -smp 2,maxcpus=4 -kernel "$mb"
refuse "-m garbage" "-m: '12X' is not a size" -m 12X -kernel "$mb"
refuse "-serial file" "-serial file:/x is not supported" -serial file:/x -kernel "$mb"
refuse "-chardev (migration)" "option -chardev is not supported" \
	-chardev socket,id=mon,path=/x -kernel "$mb"
refuse "no -kernel" "no kernel" -smp 1
refuse "option without value" "-append needs a value" -kernel "$mb" -append
refuse "missing initrd" "could not load initrd '/nonexistent.env'" \
	-kernel "$mb" -initrd /nonexistent.env
