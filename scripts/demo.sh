#!/bin/bash
# make demo: starts the vfio-user test device server, boots guest/demo.c
# against it (config, registers, shared BAR, DMA, MSI-X, narrated on the
# serial console), shows the exit status and stops the server.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"

run_demo() {
	local dir sock server status
	dir=$(mktemp -d -p /dev/shm uvmm-demo.XXXXXX 2>/dev/null || mktemp -d)
	sock=$dir/sampledev.sock
	echo "\$ $BUILD/tests/servers/sampledev $sock &"
	"$BUILD/tests/servers/sampledev" "$sock" &
	server=$!
	echo "\$ $BUILD/uvmm --device vfio-user,socket=$sock,wait=5 $BUILD/guest/demo.elf"
	"$BUILD/uvmm" --device "vfio-user,socket=$sock,wait=5" "$BUILD/guest/demo.elf"
	status=$?
	echo "[uvmm exited with status $status: 1 means the guest passed (it wrote" \
	     "0 to port 0xf4, and isa-debug-exit's rule (V << 1) | 1 makes that 1)]"
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	rm -rf "$dir"
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
