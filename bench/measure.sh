#!/bin/bash
# The measuring half of `make bench`: bench/run-bench.sh runs it where
# /dev/kvm works, on the host or inside tests/kvm-host/run.sh's VM, and
# turns what it writes into the table, bench/results.json and the chart.
#
# Usage: bench/measure.sh OUTDIR   (BUILD as for make; UVMM_BENCH_QUICK=1
#        for a smoke run; UVMM_BENCH_LINUX=1 UVMM_BENCH_ONLY=linux for row
#        2c alone under nested KVM). Writes OUTDIR/raw.txt, one figure set
#        a line:
#   BENCH <name> <unit> <ops per sample> <sample>...  samples (ticks, ns,
#                                         B or count; more lines continue)
#   INFO <key> <value...>                 machine, versions, parameters
#   SKIP <name> <why>                     not measured on this host
#   FAIL <name> <why>                     a run went wrong
# and OUTDIR/*.log, the output of the runs that failed. Status 0 even when
# a run failed: the report says which, and fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}"
out=${1:?usage: bench/measure.sh OUTDIR}
mkdir -p "$out"
raw=$out/raw.txt
: >"$raw"

UVMM=$BUILD/uvmm
G=$BUILD/guest
TOOL=$BUILD/bench/benchtool
# UVMM_BENCH_QEMU names another QEMU (tests use a failing one).
QEMU=${UVMM_BENCH_QEMU-$(command -v qemu-system-x86_64 || true)}
QEMU_BIN=$QEMU
qemu_why="qemu-system-x86_64 missing (Debian package qemu-system-x86)"

if [[ ${UVMM_BENCH_QUICK:-} == 1 ]]; then
	start_runs=3 probe_runs=2 linux_runs=1 foot_runs=1 warm=0
	n=100 batches=20 dma_mib=16 dma_runs=2 rtt_n=200 memcpy_runs=3
	nvme_n=50 nvme_mib=16
else
	start_runs=20 probe_runs=15 linux_runs=10 foot_runs=3 warm=1
	n=2000 batches=200 dma_mib=64 dma_runs=5 rtt_n=2000 memcpy_runs=10
	nvme_n=2000 nvme_mib=64
fi

info() { echo "INFO $*" >>"$raw"; }
skip() { echo "SKIP $1 ${*:2}" >>"$raw"; }
fail() { echo "FAIL $1 ${*:2}" >>"$raw"; echo "bench: $1: ${*:2}" >&2; }

# ---- where we are ------------------------------------------------------------
source tests/lib/kvm-kind.sh
host_kind=$(kvm_kind)
info kvm_description "$(kvm_kind_description "$host_kind")"
info host_kind "$host_kind"
info measured_kernel "$(uname -r)"
info measured_cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
info measured_cpus "$(nproc)"
info uvmm_version "$("$UVMM" --version 2>&1 | head -n 1)"
info qemu_version "$("${QEMU:-false}" --version 2>/dev/null | head -n 1)"
info params "start_runs=$start_runs probe_runs=$probe_runs linux_runs=$linux_runs" \
	"footprint_runs=$foot_runs n=$n batches=$batches dma_mib=$dma_mib" \
	"dma_runs=$dma_runs rtt_n=$rtt_n memcpy_runs=$memcpy_runs" \
	"nvme_n=$nvme_n nvme_mib=$nvme_mib"
info dma_mib "$dma_mib"

tsc_khz=$("$TOOL" tsc-khz 2>"$out/tsc.log") || { fail tsc_khz "$(cat "$out/tsc.log")"; tsc_khz=0; }
info tsc_khz "$tsc_khz"

# UNIX sockets cannot live on the kvm-host VM's 9p share: tmpfs.
work=$(mktemp -d -p /dev/shm uvmm-bench.XXXXXX 2>/dev/null || mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

# ---- exec-to-exit timing -------------------------------------------------------
declare -A samples=() failed=()

# timed NAME STATUS CMD...: one run, its nanoseconds added to NAME.
timed() {
	local name=$1 status=$2 ns
	shift 2
	if ns=$("$TOOL" exec -s "$status" -o "$work/$name.log" -- "$@" 2>"$work/err"); then
		samples[$name]+=" $ns"
		return 0
	fi
	[[ -n ${failed[$name]:-} ]] && return 1
	failed[$name]=1
	fail "$name" "$(cat "$work/err")"
	{ echo "\$ $*"; cat "$work/$name.log"; } >"$out/$name.log"
	return 1
}

flush() {	# flush NAME...: the samples gathered so far, as BENCH lines
	local name
	for name in "$@"; do
		[[ -n ${samples[$name]:-} ]] && echo "BENCH $name ns 1${samples[$name]}" >>"$raw"
		unset "samples[$name]"
	done
}

# shellcheck disable=SC2054 # the commas are QEMU's
# microvm leaves its RTC out under KVM unless asked: uvmm has one, and
# bzimage-probe reads it.
qemu_common=(-M microvm,rtc=on -enable-kvm -cpu host -nodefaults -no-user-config
	-display none -no-reboot -serial stdio
	-device isa-debug-exit,iobase=0xf4,iosize=4)

# QEMU with KVM does not start on every host (on PVM, QEMU 7.2 aborts in
# kvm_buf_set_msrs): try it once, and where it fails, its rows carry its
# own message and every uvmm and limit row is still measured.
if [[ -n $QEMU ]]; then
	timeout 60 "$QEMU" "${qemu_common[@]}" -m 128M -kernel "$G/hello.elf" \
		>"$work/qemu-probe.log" 2>&1 </dev/null
	status=$?
	if [[ $status != 1 ]]; then
		qemu_why="QEMU does not run with KVM on this host (status $status): $(grep -v 'warning:' "$work/qemu-probe.log" | grep -m1 . | cut -c1-200)"
		echo "bench: $qemu_why; its rows are skipped" >&2
		QEMU=
	fi
fi

# ---- 2c: Debian's kernel to its /init ------------------------------------------
# Where KVM runs a kernel at speed, or when asked to under nested KVM: then
# bench/run-bench.sh measures this row alone (UVMM_BENCH_ONLY=linux) in a
# kvm-host VM of its own with multi-threaded TCG, which the other rows'
# hundreds of VMs would risk freezing (tests/kvm-host/run.sh says why).
linux_timeout=120
linux_boot() {
	local root=$work/linux-root initrd=$work/linux-initrd.gz
	local cmdline="console=ttyS0 quiet panic=-1"

	source tests/lib/debian-kernel.sh
	if ! debian_fetch; then
		skip linux_uvmm "cannot get Debian's kernel: $DEBIAN_ERROR"
		return
	fi
	mkdir -p "$root/bin" "$root/dev"
	cp "$DEBIAN_BUSYBOX" "$root/bin/busybox"
	cp bench/linux-init "$root/init"
	chmod 755 "$root/init" "$root/bin/busybox"
	if ! (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd"; then
		fail linux_uvmm "building the initramfs failed (cpio, gzip)"
		return
	fi
	info linux_kernel "$DEBIAN_KVER"
	local uv=(-c 2 -m 512M --timeout "$linux_timeout" --initrd "$initrd"
		--cmdline "$cmdline" "$DEBIAN_KERNEL")
	local qe=("${qemu_common[@]}" -smp 2 -m 512M -kernel "$DEBIAN_KERNEL"
		-initrd "$initrd" -append "$cmdline")
	((warm)) && "$UVMM" "${uv[@]}" >/dev/null 2>&1
	for ((i = 0; i < linux_runs; i++)); do
		timed linux_uvmm 1 "$UVMM" "${uv[@]}"
		[[ -n $QEMU ]] && timed linux_qemu 1 timeout "$linux_timeout" "$QEMU" "${qe[@]}"
	done
	flush linux_uvmm linux_qemu
	[[ -n $QEMU ]] || skip linux_qemu "$qemu_why"
}
case $host_kind in
hardware)
	echo "bench: [${SECONDS}s] 2c. Debian kernel to /init ($linux_runs runs)"
	linux_boot
	;;
nested)
	if [[ ${UVMM_BENCH_LINUX:-} == 1 ]]; then
		linux_runs=$((linux_runs < 3 ? linux_runs : 3)) linux_timeout=300
		echo "bench: [${SECONDS}s] 2c. Debian kernel to /init, nested ($linux_runs runs)"
		linux_boot
	else
		skip linux_uvmm "nested KVM in the kvm-host VM: its KVM emulates the kernel's CPL0 code one instruction at a time and, with the single TCG thread the VM runs on by default, Debian's kernel needs over 300 s to /init; make bench LINUX=1 measures it with multi-threaded TCG (20-60 s a boot)"
	fi
	;;
pvm)
	skip linux_uvmm "PVM: KVM emulates every CPL0 instruction of the guest kernel, minutes per boot; needs a host with hardware KVM"
	;;
*)
	skip linux_uvmm "this host's KVM has no VMX/SVM underneath (software virtualization): minutes per boot; needs a host with hardware KVM"
	;;
esac
[[ ${UVMM_BENCH_ONLY:-} == linux ]] && exit 0

# ---- 1: firmware start to exit ---------------------------------------------------
echo "bench: [${SECONDS}s] 1. start to exit ($start_runs runs)"
hello=(-kernel "$G/hello.elf" -m 128M)
if ((warm)); then
	"$UVMM" "$G/hello.elf" >/dev/null 2>&1
	[[ -n $QEMU ]] && "$QEMU" "${qemu_common[@]}" "${hello[@]}" >/dev/null 2>&1
fi
for ((i = 0; i < start_runs; i++)); do
	timed start_uvmm 1 "$UVMM" "$G/hello.elf"
	timed start_rom 1 "$UVMM" --bios "$G/exit-rom.bin"
	timed start_kvm_min 0 "$BUILD/bench/kvm_min"
	[[ -n $QEMU ]] && timed start_qemu 1 "$QEMU" "${qemu_common[@]}" "${hello[@]}"
done
[[ -n $QEMU ]] || skip start_qemu "$qemu_why"
flush start_uvmm start_rom start_kvm_min start_qemu

# ---- 1c: a Multiboot firmware test through uvmm-qemu ------------------------------
# What kvm-unit-tests' runner does with $QEMU: the same QEMU command line,
# once to build/uvmm-qemu and once to QEMU's PC, whose SeaBIOS loads the
# Multiboot image. The guest checks uvmm's promises, so its verdict on
# QEMU may differ (QEMU's e820 and fw_cfg differ): each side's status is
# taken from a first untimed run, and the timed runs must repeat it.
echo "bench: [${SECONDS}s] 1c. Multiboot test, uvmm-qemu and QEMU -M pc ($start_runs runs)"
printf 'uvmm-bench-module\n' >"$work/mb-module"
mb=(-M pc -enable-kvm -cpu host -nodefaults -display none -no-reboot
	-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -m 128M
	-kernel "$G/multiboot.elf" -initrd "$work/mb-module"
	-append "mem=128M cpus=1 module=uvmm-bench-module")
"$BUILD/uvmm-qemu" "${mb[@]}" >/dev/null 2>&1 </dev/null
mb_uvmm_status=$?
[[ -n $QEMU ]] && { timeout 60 "$QEMU" "${mb[@]}" >/dev/null 2>&1 </dev/null
	mb_qemu_status=$?; }
for ((i = 0; i < start_runs; i++)); do
	timed mb_uvmm "$mb_uvmm_status" "$BUILD/uvmm-qemu" "${mb[@]}"
	[[ -n $QEMU ]] && timed mb_qemu "$mb_qemu_status" timeout 60 "$QEMU" "${mb[@]}"
done
[[ -n $QEMU ]] || skip mb_qemu "$qemu_why"
info mb_status "uvmm-qemu $mb_uvmm_status, QEMU ${mb_qemu_status:-not run}"
flush mb_uvmm mb_qemu

# ---- 2: kernel boot --------------------------------------------------------------
echo "bench: [${SECONDS}s] 2. kernel boot ($probe_runs runs each)"
# QEMU enters the same bzImage through its 16-bit setup code (qboot
# calls it); probe.vmm=other skips the few checks only uvmm promises
# (its SETUP_DTB, PCI INTx in the MP table, load address, CMOS CPU count).
for cpus in 1 4; do
	params="probe.cpus=$cpus probe.mem=128M probe.initrd=none"
	args=(-c "$cpus" -m 128M --timeout 60
		--cmdline "$params probe.tail=end" "$G/bzimage-probe")
	qargs=("${qemu_common[@]}" -smp "$cpus" -m 128M -kernel "$G/bzimage-probe"
		-append "$params probe.vmm=other probe.tail=end")
	if ((warm)); then
		"$UVMM" "${args[@]}" >/dev/null 2>&1
		[[ -n $QEMU ]] && timeout 60 "$QEMU" "${qargs[@]}" >/dev/null 2>&1
	fi
	for ((i = 0; i < probe_runs; i++)); do
		timed "probe${cpus}_uvmm" 1 "$UVMM" "${args[@]}"
		[[ -n $QEMU ]] && timed "probe${cpus}_qemu" 1 timeout 60 "$QEMU" "${qargs[@]}"
	done
	flush "probe${cpus}_uvmm" "probe${cpus}_qemu"
	[[ -n $QEMU ]] || skip "probe${cpus}_qemu" "$qemu_why"
done

# ---- 3-6: the vfio-user device, guest-timed at CPL3 ------------------------------
echo "bench: [${SECONDS}s] 3-6. vfio-user device: trapped accesses, mmap'ed BAR, DMA, MSI-X (n=$n)"
# wait_listening LOG: up to 5 s for a server to log that it listens.
wait_listening() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
start_server() {	# start_server NAME [ARGS...]: sampledev on $work/NAME.sock
	local name=$1
	shift
	"$BUILD/tests/servers/sampledev" "$@" "$work/$name.sock" 2>"$work/$name.srv" &
	pids+=($!)
	wait_listening "$work/$name.srv"
}
# UVMM_PHASES: uvmm and the first server note when each message passed
# (common/phase.h), for the breakdown of row 3b. The first server and
# uvmm's client poll for BENCH_POLL_US (default 200; 0: off) before
# sleeping, as a field server such as SPDK's polls: here a sleeping
# thread's wake-up costs more than the socket.
poll_us=${BENCH_POLL_US:-200}
info poll_us "$poll_us"
if UVMM_PHASES=$work/phases.srv start_server dev0 --poll-us "$poll_us" &&
	start_server dev1 --no-dma-fd; then
	UVMM_PHASES=$work/phases.cli \
	"$UVMM" -m $((2 * dma_mib + 128))M --timeout 600 --device pci-testdev \
		--device "vfio-user,socket=$work/dev0.sock,poll-us=$poll_us" \
		--device "vfio-user,socket=$work/dev1.sock" \
		--cmdline "bench.n=$n bench.batches=$batches bench.dma_mib=$dma_mib bench.dma_runs=$dma_runs" \
		"$G/bench-vfu.elf" >"$work/vfu.out" 2>&1 </dev/null
	status=$?
	tr -d '\r' <"$work/vfu.out" | grep '^BENCH ' >>"$raw"
	if [[ $status != 1 ]] || grep -q '^FAIL' "$work/vfu.out"; then
		fail bench_vfu "uvmm bench-vfu.elf: status $status (want 1), $(grep -m1 '^FAIL' "$work/vfu.out" || tail -n 1 "$work/vfu.out")"
		cp "$work/vfu.out" "$out/bench_vfu.log"
	fi
else
	fail bench_vfu "sampledev did not start: $(cat "$work"/dev*.srv)"
fi
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()
# The BAR0 reads (REGION_READ = 9 of region 0) of the first device, its
# records joined on the message id; the server's times must fall inside
# the client's (the second device's ids are another series).
if [[ -s $work/phases.cli && -s $work/phases.srv ]]; then
	awk '
	FNR == NR { rx[$1] = $5; tx[$1] = $6; next }
	$2 == 9 && $3 == 0 && ($1 in rx) && $5 <= rx[$1] && rx[$1] <= tx[$1] &&
	tx[$1] <= $6 && $4 && $4 <= $5 && $6 <= $7 {
		o = o " " ($5 - $4); s = s " " (rx[$1] - $5)
		w = w " " (tx[$1] - rx[$1]); b = b " " ($6 - tx[$1])
		e = e " " ($7 - $6); u = u " " ($7 - $4); n++
	}
	END {
		if (!n) exit 1
		print "BENCH phase_to_send ns 1" o
		print "BENCH phase_to_server ns 1" s
		print "BENCH phase_server ns 1" w
		print "BENCH phase_to_client ns 1" b
		print "BENCH phase_to_entry ns 1" e
		print "BENCH phase_in_uvmm ns 1" u
	}' "$work/phases.srv" "$work/phases.cli" >>"$raw" ||
		skip phase_in_uvmm "no BAR0 read found in both phase records"
else
	skip phase_in_uvmm "no phase records (UVMM_PHASES) from uvmm or the server"
fi

# The parts of the limits that need no guest, in the same run.
echo "bench: [${SECONDS}s] socketpair round trips, memcpy"
if ! "$BUILD/bench/vfu_rtt" --raw "$rtt_n" >>"$raw" 2>"$out/vfu_rtt.log"; then
	fail bare_rtt "vfu_rtt: $(tail -n 1 "$out/vfu_rtt.log")"
fi
if ! "$TOOL" memcpy "$dma_mib" "$memcpy_runs" >>"$raw" 2>"$out/memcpy.log"; then
	fail memcpy "$(tail -n 1 "$out/memcpy.log")"
fi

# ---- 8: uvmm-nvme, no guest needed -----------------------------------------------
# bench/nvme_io is the client and a polling driver (I/O queue without
# interrupts): 4 KiB random reads of an image in the page cache through
# uvmm-nvme at depth 1 and 32, and sequential 128 KiB reads 4 at a time,
# and pread() of the same blocks.
# The image lives beside the results, on a disk's file system as a user's
# would (tmpfs may lack RWF_NOWAIT, which uvmm-nvme's cached reads use).
echo "bench: [${SECONDS}s] 8. uvmm-nvme 4 KiB random reads, depth 1 and 32; 128 KiB sequential (n=$nvme_n)"
if [[ ! -x $BUILD/uvmm-nvme || ! -x $BUILD/bench/nvme_io ]]; then
	for name in nvme_qd1 nvme_qd32 nvme_seq128; do
		skip "$name" "$BUILD/uvmm-nvme or $BUILD/bench/nvme_io missing"
	done
elif ! "$BUILD/bench/nvme_io" --make-image "$out/nvme.img" "$nvme_mib" 2>"$out/nvme_io.log"; then
	fail nvme_qd1 "nvme_io --make-image: $(tail -n 1 "$out/nvme_io.log")"
else
	"$BUILD/uvmm-nvme" --poll-us "$poll_us" --image "$out/nvme.img" \
		"$work/nvme.sock" 2>"$work/nvme.srv" &
	nvme_pid=$!
	pids+=("$nvme_pid")
	wait_listening "$work/nvme.srv"
	if ! "$BUILD/bench/nvme_io" --raw "$nvme_n" "$work/nvme.sock" "$out/nvme.img" \
			>>"$raw" 2>"$out/nvme_io.log"; then
		fail nvme_qd1 "nvme_io: $(tail -n 1 "$out/nvme_io.log") (server: $(tail -n 1 "$work/nvme.srv"))"
	fi
	kill "$nvme_pid" 2>/dev/null
	wait "$nvme_pid" 2>/dev/null
	rm -f "$out/nvme.img"
fi

# ---- 9: NVMe I/O timed by the guest, uvmm + uvmm-nvme against QEMU's nvme ---------
# guest/nvme-bench.c, the same ELF under both, on a fresh sparse image of
# nvme_mib MiB that it fills untimed first (the host's page cache holds it
# then, for both: uvmm-nvme reads and writes it with preadv/pwritev, QEMU
# with cache=writeback), times 4 KiB random reads and writes at queue
# depth 1 and 32 at CPL3, and checks every block it reads. uvmm-nvme
# three ways: doorbells trapped (each a posted REGION_WRITE), SQ tail
# doorbells as ioeventfds (--doorbells eventfd, which needs the guest's
# shadow doorbells: nvmeb.shadow=1), and both sides polling
# (--poll-us, poll-us=) with the I/O on the loop's thread (--io-threads
# 0): with the guest's vCPU and the polling loop each holding one of two
# CPUs, a write handed to an I/O thread waited for the scheduler's next
# tick (~4 ms) before it ran. QEMU -M pc (SeaBIOS; PVH through -kernel) with
# -device nvme twice: register doorbells, the reference of trap and poll;
# shadow doorbells with ioeventfd=on, the reference of eventfd.
echo "bench: [${SECONDS}s] 9. guest-timed NVMe 4 KiB random I/O, depth 1 and 32: uvmm-nvme and QEMU nvme (n=$nvme_n)"
nvmeg_img=$out/nvmeg.img
nvmeg_args="nvmeb.n=$nvme_n nvmeb.mib=$nvme_mib"
nvmeg_measures="rd_qd1 wr_qd1 rd_qd32 wr_qd32"
info nvmeg_cache "uvmm-nvme: host page cache (preadv/pwritev); QEMU: cache=writeback"
nvmeg_fresh_image() {
	rm -f "$nvmeg_img"
	truncate -s "${nvme_mib}M" "$nvmeg_img"
}
# nvmeg_guest RUN CMD...: one run of nvme-bench.elf, its samples renamed
# nvmeg_RUN_*. A QEMU that does not get to run the guest (status neither
# 1 nor 3) is a skip saying why; a guest that reports a failure fails.
nvmeg_guest() {
	local run=$1 log=$work/nvmeg-$1.out status m
	shift
	"$@" >"$log" 2>&1 </dev/null
	status=$?
	if [[ $run == qemu* && $status != 1 && $status != 3 ]]; then
		for m in $nvmeg_measures; do
			skip "nvmeg_${run}_$m" "QEMU -M pc with -device nvme did not run the guest (status $status): $(grep -v 'warning:' "$log" | grep -m1 . | cut -c1-200)"
		done
		return
	fi
	if [[ $status != 1 ]] || grep -q '^FAIL' "$log"; then
		fail "nvmeg_$run" "nvme-bench.elf ($run): status $status (want 1), $(grep -m1 '^FAIL' "$log" || tail -n 1 "$log")"
		cp "$log" "$out/nvmeg_$run.log"
		return
	fi
	tr -d '\r' <"$log" | sed -n "s/^BENCH nvmeb_/BENCH nvmeg_${run}_/p" >>"$raw"
}
# nvmeg_uvmm RUN "UVMM-NVME OPTIONS" "DEVICE OPTIONS" "GUEST ARGS"
nvmeg_uvmm() {
	local run=$1 sock=$work/nvmeg.sock pid
	nvmeg_fresh_image
	# shellcheck disable=SC2086 # the options are words
	"$BUILD/uvmm-nvme" $2 --image "$nvmeg_img" "$sock" 2>"$work/nvmeg-$run.srv" &
	pid=$!
	pids+=("$pid")
	wait_listening "$work/nvmeg-$run.srv"
	nvmeg_guest "$run" "$UVMM" --timeout 300 \
		--device "vfio-user,socket=$sock$3" \
		--cmdline "$nvmeg_args $4" "$G/nvme-bench.elf"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
# nvmeg_qemu RUN "NVME DEVICE PROPERTIES" "GUEST ARGS"
nvmeg_qemu() {
	nvmeg_fresh_image
	nvmeg_guest "$1" timeout 300 "$QEMU" -M pc -enable-kvm -cpu host \
		-nodefaults -no-user-config -display none -no-reboot -m 128M \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel "$G/nvme-bench.elf" -append "$nvmeg_args $3" \
		-drive "file=$nvmeg_img,if=none,id=d0,format=raw,cache=writeback" \
		-device "nvme,drive=d0,serial=uvmm-bench$2"
}
if [[ ! -x $BUILD/uvmm-nvme || ! -f $G/nvme-bench.elf ]]; then
	for run in trap efd poll qemu qemushadow; do
		for m in $nvmeg_measures; do
			skip "nvmeg_${run}_$m" "$BUILD/uvmm-nvme or $G/nvme-bench.elf missing"
		done
	done
else
	nvmeg_uvmm trap "" "" ""
	nvmeg_uvmm efd "--doorbells eventfd" "" "nvmeb.shadow=1"
	nvmeg_uvmm poll "--poll-us $poll_us --io-threads 0" ",poll-us=$poll_us" ""
	if [[ -n $QEMU ]]; then
		nvmeg_qemu qemu "" ""
		nvmeg_qemu qemushadow ",ioeventfd=on" "nvmeb.shadow=1"
	else
		for run in qemu qemushadow; do
			for m in $nvmeg_measures; do
				skip "nvmeg_${run}_$m" "$qemu_why"
			done
		done
	fi
	rm -f "$nvmeg_img"
fi

# ---- 7: footprint ------------------------------------------------------------------
echo "bench: [${SECONDS}s] 7. footprint with an idle guest ($foot_runs runs)"
# footprint NAME CMD...: /proc/PID/status of CMD once its guest idles.
footprint() {
	local name=$1 log=$work/$1.idle pid i k v status
	shift
	rm -f "$log"	# not the last run's BENCH-IDLE
	"$@" >"$log" 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -q BENCH-IDLE "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q BENCH-IDLE "$log"; then
		fail "rss_$name" "the idle guest did not say BENCH-IDLE: $(tail -n 1 "$log")"
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
		return 1
	fi
	sleep 1		# let start-up threads finish
	# One read of the whole file: bash's read seeks back after each
	# line, and the kernel renders the file anew at each seek, so a
	# figure that changes width in between would garble the lines.
	status=$(cat "/proc/$pid/status" 2>/dev/null)
	declare -A st=()
	while read -r k v _; do
		[[ $k == [A-Za-z]*: ]] && st[${k%:}]=$v
	done <<<"$status"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for k in VmRSS RssAnon RssFile RssShmem Threads; do
		if [[ ! ${st[$k]:-} =~ ^[0-9]+$ ]]; then
			fail "rss_$name" "no $k in /proc/$pid/status: $(tail -n 1 "$log")"
			return 1
		fi
	done
	# Guest RAM is a memfd in both (RssShmem): the rest is the VMM's own.
	samples[rss_$name]+=" $(((st[VmRSS] - st[RssShmem]) * 1024))"
	samples[anon_$name]+=" $((st[RssAnon] * 1024))"
	samples[file_$name]+=" $((st[RssFile] * 1024))"
	samples[shmem_$name]+=" $((st[RssShmem] * 1024))"
	samples[threads_$name]+=" ${st[Threads]}"
}
for ((i = 0; i < foot_runs; i++)); do
	footprint uvmm "$UVMM" -m 128M "$G/bench-idle.elf"
	[[ -n $QEMU ]] && footprint qemu "$QEMU" "${qemu_common[@]}" \
		-object memory-backend-memfd,id=ram,size=128M \
		-M microvm,memory-backend=ram -m 128M -kernel "$G/bench-idle.elf"
done
for name in rss anon file shmem threads; do
	for vmm in uvmm qemu; do
		unit=B
		[[ $name == threads ]] && unit=count
		[[ -n ${samples[${name}_$vmm]:-} ]] &&
			echo "BENCH ${name}_$vmm $unit 1${samples[${name}_$vmm]}" >>"$raw"
	done
done
strip -o "$work/uvmm.stripped" "$UVMM" 2>/dev/null || cp "$UVMM" "$work/uvmm.stripped"
echo "BENCH size_uvmm B 1 $(stat -c %s "$work/uvmm.stripped")" >>"$raw"
info libs_uvmm "$(ldd "$UVMM" 2>/dev/null | wc -l)"
# The binary's size needs no KVM; its footprint does.
if [[ -n $QEMU_BIN ]]; then
	echo "BENCH size_qemu B 1 $(stat -L -c %s "$QEMU_BIN")" >>"$raw"
	info libs_qemu "$(ldd "$QEMU_BIN" 2>/dev/null | wc -l)"
else
	skip size_qemu "$qemu_why"
fi
if [[ -z $QEMU ]]; then
	for name in rss threads; do skip "${name}_qemu" "$qemu_why"; done
fi
info measure_seconds "$SECONDS"
echo "bench: [${SECONDS}s] measured"
