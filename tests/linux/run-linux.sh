#!/bin/bash
# make check-linux: Debian's kernel with a busybox initramfs, all the way to
# a shell. For hosts whose KVM runs guest kernel code at native speed
# (hardware VMX/SVM). Three boots of 2 vCPUs and 512M:
#   1. /init prints a marker, checks the CPU count and the memory against
#      what uvmm was given, and reports its verdict through /dev/port to
#      the debug-exit port (status 1 = pass);
#   2. an interactive shell on the serial console, driven through a
#      pseudo-terminal: it is sent `echo $((6*7))` and must answer 42; then
#      Ctrl-A x quits uvmm (status 0);
#   3. uvmm-nvme attached with on-error=reconnect, killed and restarted
#      twice while /init writes and reads back through Linux's nvme
#      driver (LINUX_RESTART_SECS of I/O, default 60).
# Each boot stage has a deadline; a host that cannot run a full kernel in
# time (no /dev/kvm, or software KVM, which stays in the decompressor for
# minutes) fails at the first missed stage with a message saying so,
# instead of hanging. Knobs: LINUX_CPUS, LINUX_MEM (MiB),
# LINUX_DEADLINE_DECOMPRESS / _KERNEL / _INIT / _DONE (seconds),
# LINUX_ONLY (a comma-separated subset of init,shell,restart).
set -uo pipefail
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
source tests/lib/common.sh
source tests/lib/debian-kernel.sh

cpus=${LINUX_CPUS:-2}
mem_mib=${LINUX_MEM:-512}
mem=$((mem_mib * 1048576))
# Deadlines, counted from uvmm's start.
dl_decompress=${LINUX_DEADLINE_DECOMPRESS:-60}
dl_kernel=${LINUX_DEADLINE_KERNEL:-120}
dl_init=${LINUX_DEADLINE_INIT:-300}
dl_done=${LINUX_DEADLINE_DONE:-420}

export RESULTS
mkdir -p "$BUILD"
RESULTS=$(mktemp -p "$BUILD" linux-results.XXXXXX)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$RESULTS"' EXIT

finish() {
	local pass fail
	pass=$(grep -c '^pass' "$RESULTS")
	fail=$(grep -c '^fail' "$RESULTS")
	echo
	echo "check-linux: $pass passed, $fail failed"
	[[ $fail -eq 0 && $pass -gt 0 ]]
	exit
}

# ---- can this host run it at all? ---------------------------------------
if ! have_kvm; then
	result_fail "linux: no usable /dev/kvm on this host: make check-linux boots a full Linux kernel and needs KVM with hardware virtualization (VMX or SVM). Without it, tests/kvm-host/run.sh -- make check-linux tries under nested SVM emulated by QEMU (slow)"
	finish
fi
if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	echo "check-linux: note: this CPU shows no vmx/svm flag, so KVM here may be software virtualization;" \
		"if the kernel misses a deadline below, that is why"
fi
if [[ ! -x $UVMM ]]; then
	result_fail "linux: $UVMM missing (run make first)"
	finish
fi
if ! debian_fetch; then
	result_fail "linux: cannot get Debian's kernel and busybox-static: $DEBIAN_ERROR"
	finish
fi
if ! debian_fetch_nvme; then
	result_fail "linux: cannot get the kernel's NVMe modules: $DEBIAN_ERROR"
	finish
fi
echo "check-linux: Debian kernel $DEBIAN_KVER, $cpus vCPUs, $mem_mib MiB"

# ---- the initramfs: busybox and our /init, cpio newc, gzip -------------
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys}
cp "$DEBIAN_BUSYBOX" "$root/bin/busybox"
cp tests/linux/init "$root/init"
cp "$BUILD/tests/linux/bar-read" "$BUILD/tests/linux/rtc-tick" "$root/bin/"
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/bar-read" "$root/bin/rtc-tick"
mkdir -p "$root/lib/nvme" "$root/tmp"
cp "$DEBIAN_NVME_MODULES"/*.ko "$DEBIAN_NVME_MODULES/order" "$root/lib/nvme/"
if ! (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initramfs.cpio.gz"; then
	result_fail "linux: building the initramfs failed (cpio missing?)"
	finish
fi

cmdline="console=ttyS0 earlyprintk=ttyS0 panic=-1 uvmm.cpus=$cpus uvmm.mem=$mem"
uvmm_args=(--timeout "$((dl_done + 30))" -c "$cpus" -m "${mem_mib}M"
	--initrd "$tmp/initramfs.cpio.gz")

# watch_boot NAME PID OUT: follows OUT while PID runs, checking each
# stage's deadline; kills PID and fails NAME at the first one missed.
# Returns 0 when the guest reached its /init in time.
watch_boot() {
	local name=$1 pid=$2 out=$3 start=$SECONDS elapsed stage
	local -a stages=(
		"KASLR disabled|Decompressing Linux|Linux version@$dl_decompress@the decompressor's first line"
		"Linux version@$dl_kernel@the kernel's banner (Linux version)"
		"UVMM-INIT: started@$dl_init@the initramfs's /init"
	)
	for stage in "${stages[@]}"; do
		local pat=${stage%%@*} rest=${stage#*@}
		local limit=${rest%%@*} what=${rest#*@}
		while ! grep -qE "$pat" "$out"; do
			elapsed=$((SECONDS - start))
			if ! kill -0 "$pid" 2>/dev/null; then
				result_fail "$name: uvmm exited before $what appeared"
				tail -n 15 "$out" | sed 's/^/    | /'
				return 1
			fi
			if ((elapsed >= limit)); then
				kill "$pid" 2>/dev/null
				result_fail "$name: $what did not appear within $limit s: this host's KVM cannot run a full Linux kernel (software virtualization, or far too slow); stopped"
				tail -n 5 "$out" | sed 's/^/    | /'
				return 1
			fi
			sleep 0.5
		done
		echo "  $name: $what after $((SECONDS - start)) s"
	done
	return 0
}

# LINUX_ONLY=init,shell,restart: the boots to run (default all three).
want_boot() {
	[[ -z ${LINUX_ONLY:-} || ,$LINUX_ONLY, == *,$1,* ]]
}

# wait_verdict PID OUT: waits (until the done deadline, counted from
# $start) for uvmm to end after /init's verdict, prints /init's lines;
# returns uvmm's status.
wait_verdict() {
	local pid=$1 out=$2 status
	while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < dl_done)); do
		sleep 0.5
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
	status=$?
	grep '^UVMM-INIT:' "$out" | sed 's/\r$//; s/^/    /'
	return "$status"
}

# ---- 1: /init's checks and verdict, with a vfio-user device ------------
# The test device server; its socket on a local file system (/dev/shm),
# since /tmp may be 9p inside tests/kvm-host.
sockdir=$(mktemp -d -p /dev/shm uvmm-linux.XXXXXX 2>/dev/null || mktemp -d)
"$BUILD/tests/servers/sampledev" "$sockdir/sampledev.sock" 2>"$tmp/sampledev.log" &
server=$!
# uvmm-nvme with a 16 MiB image (on /dev/shm with its socket): /init
# writes with Debian's nvme driver, the host reads the image afterwards.
nvme_img=$sockdir/nvme.img
truncate -s 16M "$nvme_img"
"$BUILD/uvmm-nvme" -v --image "$nvme_img" --serial LINUXE2E "$sockdir/nvme.sock" \
	2>"$tmp/nvme.log" &
nvme_server=$!
trap 'kill $server $nvme_server 2>/dev/null; rm -rf "$tmp" "$RESULTS" "$sockdir"' EXIT
for _ in $(seq 1 100); do
	grep -q "listening on" "$tmp/sampledev.log" && grep -q "listening on" "$tmp/nvme.log" &&
		break
	sleep 0.05
done
vfu_id=$(awk '$2 == "SAMPLEDEV_ID_MAGIC" { print $3 }' abi/sampledev.h)
printf -v vfu_ids '%04x:%04x' \
	"$(awk '$2 == "SAMPLEDEV_VENDOR_ID" { print $3 }' abi/sampledev.h)" \
	"$(awk '$2 == "SAMPLEDEV_DEVICE_ID" { print $3 }' abi/sampledev.h)"
if want_boot init; then
	out=$tmp/boot.out
	start=$SECONDS
	# -v: uvmm logs where it put each BAR, for the comparison with sysfs.
	"$UVMM" -v "${uvmm_args[@]}" --device "vfio-user,socket=$sockdir/sampledev.sock" \
		--device "vfio-user,socket=$sockdir/nvme.sock" \
		--cmdline "$cmdline uvmm.vfu=$vfu_ids uvmm.vfu_id=$vfu_id uvmm.nvme=32768" \
		"$DEBIAN_KERNEL" >"$out" 2>&1 </dev/null &
	pid=$!
	if watch_boot "linux: boot to /init" "$pid" "$out"; then
		wait_verdict "$pid" "$out"
		status=$?
		if [[ $status == 1 ]] && grep -q '^UVMM-INIT: verdict 0' "$out" &&
		   ! grep -q '^UVMM-INIT: FAIL' "$out"; then
			result_pass "linux: boot to /init: $cpus CPUs and $mem_mib MiB seen, verdict through /dev/port (status 1, $((SECONDS - start)) s)"
		else
			result_fail "linux: boot to /init: uvmm status $status (want 1: /init's verdict 0 through port 0xf4)"
			tail -n 15 "$out" | sed 's/^/    | /'
		fi
		# The pattern /init wrote through Debian's nvme driver, in the image.
		if cmp -s <(head -c 1048576 "$DEBIAN_BUSYBOX") \
			<(dd if="$nvme_img" bs=65536 skip=16 count=16 2>/dev/null); then
			result_pass "linux: nvme: the 1 MiB Linux wrote to /dev/nvme0n1 is in uvmm-nvme's image at 1 MiB"
		else
			result_fail "linux: nvme: the image does not hold what Linux wrote to /dev/nvme0n1"
			tail -n 5 "$tmp/nvme.log" | sed 's/^/    | /'
		fi
		# Linux's driver takes the shadow doorbells uvmm-nvme offers.
		if grep -q "shadow doorbells on" "$tmp/nvme.log"; then
			result_pass "linux: nvme: Linux's driver set up shadow doorbells (Doorbell Buffer Config)"
		else
			result_fail "linux: nvme: Linux's driver did not set up shadow doorbells"
		fi
		# Linux keeps the BARs where uvmm put them (no reassignment).
		bars=0 moved=0
		while read -r bar start _; do
			bars=$((bars + 1))
			want=$(sed -nE "s/.*vfio-user\[0\] BAR${bar#BAR}: decodes at (0x[0-9a-f]+).*/\1/p" "$out" | tail -n 1)
			if [[ -z $want ]] || (( start != want )); then
				echo "    $bar: Linux has $start, uvmm logged ${want:-nothing}"
				moved=$((moved + 1))
			fi
		done < <(sed -nE 's/\r$//; s/^UVMM-INIT: vfu resource (BAR[0-5]) (0x[0-9a-f]+) .*/\1 \2/p' "$out")
		if (( bars > 0 && moved == 0 )); then
			result_pass "linux: the vfio-user device's $bars BARs in /sys/bus/pci/devices/*/resource are where uvmm assigned them"
		else
			result_fail "linux: vfio-user BARs: $bars listed by /init, $moved not where uvmm put them"
		fi
	else
		wait "$pid" 2>/dev/null
	fi
fi

# ---- 2: an interactive shell through a pseudo-terminal -------------------
# script(1) gives uvmm a terminal on stdin/stdout (so its console input
# thread runs, in raw mode); we type into script's stdin through a pipe
# (a coprocess: no FIFO, which the kvm-host VM's 9p /tmp cannot hold),
# kept open until the end, since EOF there would end the session.
if want_boot shell; then
	if ! command -v script >/dev/null; then
		result_fail "linux: interactive shell: script(1) (util-linux) missing"
		finish
	fi
	out=$tmp/shell.out
	start=$SECONDS
	printf -v cmd '%q ' "$UVMM" "${uvmm_args[@]}" --cmdline "$cmdline uvmm.shell" "$DEBIAN_KERNEL"
	coproc SHELL_SESSION { exec script -q -e -c "$cmd" /dev/null >"$out" 2>&1; }
	pid=$SHELL_SESSION_PID
	exec 3>&"${SHELL_SESSION[1]}"
	if watch_boot "linux: interactive shell" "$pid" "$out"; then
		ok=
		while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < dl_done)); do
			if grep -q 'uvmm-linux# ' "$out"; then
				ok=prompt
				break
			fi
			sleep 0.5
		done
		if [[ $ok == prompt ]]; then
			printf 'echo $((6*7))\r' >&3
			while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < dl_done)); do
				if tr -d '\r' <"$out" | grep -qx '42'; then
					ok=42
					break
				fi
				sleep 0.5
			done
		fi
		printf '\001x' >&3	# Ctrl-A x: uvmm quits, status 0
		for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		kill "$pid" 2>/dev/null
		wait "$pid"
		status=$?
		if [[ $ok == 42 && $status == 0 ]]; then
			result_pass "linux: interactive shell: typed echo \$((6*7)) through a pty, read 42, Ctrl-A x quit with status 0 ($((SECONDS - start)) s)"
		else
			result_fail "linux: interactive shell: ${ok:-no prompt}, uvmm status $status (want the line 42 and status 0)"
			tr -d '\r' <"$out" | tail -n 15 | sed 's/^/    | /'
		fi
	else
		wait "$pid" 2>/dev/null
	fi
	exec 3>&-
fi

# ---- 3: uvmm-nvme restarted twice under Linux's I/O ----------------------
# uvmm attaches uvmm-nvme with on-error=reconnect; /init writes and reads
# back (O_DIRECT) and compares for LINUX_RESTART_SECS (uvmm.nvme_restart) while
# this harness kills the server with SIGKILL twice and starts a new one on
# the same socket and image each time. The data must check out, the
# driver must have reset the controller, and nothing may report an I/O
# error; uvmm says one line per reconnect.
if want_boot restart; then
	restart_secs=${LINUX_RESTART_SECS:-60}
	# LINUX_RESTARTS=0: the same I/O with no restart, as a control.
	want_restarts=${LINUX_RESTARTS:-2}
	norestart=
	((want_restarts == 0)) && norestart=" uvmm.nvme_norestart"
	start_nvme() {
		"$BUILD/uvmm-nvme" --image "$nvme_img" --serial LINUXE2E "$sockdir/nvme.sock" \
			2>>"$tmp/nvme-restart.log" &
		nvme_server=$!
		for _ in $(seq 1 100); do
			[[ -S $sockdir/nvme.sock ]] && break
			sleep 0.05
		done
	}
	kill "$nvme_server" 2>/dev/null
	wait "$nvme_server" 2>/dev/null
	rm -f "$sockdir/nvme.sock"
	: >"$tmp/nvme-restart.log"
	start_nvme
	out=$tmp/restart.out
	err=$tmp/restart.err
	start=$SECONDS
	"$UVMM" "${uvmm_args[@]}" \
		--device "vfio-user,socket=$sockdir/nvme.sock,on-error=reconnect,reconnect-timeout=60" \
		--cmdline "$cmdline uvmm.nvme=32768 uvmm.nvme_restart=$restart_secs$norestart" \
		"$DEBIAN_KERNEL" >"$out" 2>"$err" </dev/null &
	pid=$!
	if watch_boot "linux: nvme restarts" "$pid" "$out"; then
		restarts=0
		while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < dl_done)) &&
		      ! grep -q 'UVMM-INIT: nvme-restart: go' "$out"; do
			sleep 0.5
		done
		# Two restarts, a third of the loop apart, so the driver recovers
		# from the first before the second.
		pauses=($((restart_secs / 6)) $((restart_secs / 3)))
		for pause in "${pauses[@]:0:want_restarts}"; do
			sleep "$pause"
			kill -0 "$pid" 2>/dev/null || break
			kill -KILL "$nvme_server"
			wait "$nvme_server" 2>/dev/null
			sleep 1
			start_nvme
			restarts=$((restarts + 1))
			echo "  linux: nvme restarts: uvmm-nvme killed and started again ($restarts)"
		done
		wait_verdict "$pid" "$out"
		status=$?
		grep -E 'reconnect' "$err" | sed 's/^/    uvmm: /'
		reconnects=$(grep -c 'reconnected after' "$err")
		if [[ $status == 1 ]] && grep -q '^UVMM-INIT: verdict 0' "$out" &&
		   ! grep -q '^UVMM-INIT: FAIL' "$out" &&
		   [[ $restarts == "$want_restarts" && $reconnects == "$want_restarts" ]]; then
			result_pass "linux: nvme: uvmm-nvme killed and restarted $restarts times under dd: every round exact, no I/O error, $reconnects reconnects ($((SECONDS - start)) s)"
		else
			result_fail "linux: nvme restarts: uvmm status $status, $restarts restarts, $reconnects reconnects (want status 1, /init's verdict 0, $want_restarts and $want_restarts)"
			grep -vE 'drop_caches' "$out" | tail -n 60 | sed 's/^/    | /'
			tail -n 5 "$err" | sed 's/^/    | /'
		fi
	else
		wait "$pid" 2>/dev/null
	fi
	kill "$nvme_server" 2>/dev/null
fi
finish
