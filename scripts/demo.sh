#!/bin/bash
# make demo: boots the hello firmware and shows what it printed and how
# uvmm exited. (The vfio-user demo replaces this when the device lands.)
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"

run_demo() {
	echo "\$ $BUILD/uvmm $BUILD/guest/hello.elf"
	"$BUILD/uvmm" "$BUILD/guest/hello.elf"
	local status=$?
	echo "[uvmm exited with status $status: the guest wrote 0 to port 0xf4," \
	     "which isa-debug-exit's rule (V << 1) | 1 turns into 1]"
	return 0
}

if [[ -r /dev/kvm && -w /dev/kvm ]]; then
	run_demo
elif [[ -f tests/kvm-host/run.sh ]]; then
	echo "demo: no /dev/kvm here; running inside a QEMU TCG VM with nested KVM"
	bash tests/kvm-host/run.sh -- env BUILD="$BUILD" bash scripts/demo.sh
else
	echo "demo: no /dev/kvm on this host: uvmm needs KVM" >&2
	exit 1
fi
