#!/bin/bash
# make check-linux: Debian's kernel with a busybox initramfs, all the way to
# a shell, with a vfio-user device and uvmm-nvme attached. One boot of 2
# vCPUs and 512M does everything (LINUX_ONLY=all, the default):
#   - /init prints a marker, checks the CPU count, the memory, ACPI, the
#     PCI bus, the UART's and the RTC's interrupts and the vfio-user
#     device (its BARs where uvmm put them), loads Debian's nvme driver,
#     which must find /dev/nvme0n1 on uvmm-nvme, writes a pattern with dd
#     and reads it back; the host finds it in the image afterwards;
#   - uvmm-nvme is attached with on-error=reconnect, and killed and
#     started again twice while /init writes and reads back through the
#     driver (LINUX_RESTART_SECS of I/O, default 60): every round exact,
#     a controller reset in dmesg, no I/O error, two reconnects;
#   - /init prints its verdict and hands the console to a shell on a
#     pseudo-terminal: it is sent `echo $((6*7))` and must answer 42;
#     then Ctrl-A x quits uvmm (status 0).
# LINUX_ONLY=init,shell,restart runs the three as separate boots instead
# (init: the checks, then the verdict through /dev/port, status 1;
# shell: the shell alone; restart: uvmm-nvme alone with the restarts;
# LINUX_RESTARTS=0 runs restart's I/O without them, as a control).
#
# Where KVM is not hardware VMX/SVM (no /dev/kvm, PVM, software KVM: guest
# kernel code runs in KVM's instruction emulator, minutes per boot), the
# script runs itself inside tests/kvm-host/run.sh's VM (nested SVM under
# QEMU's TCG), and there only the init boot runs unless LINUX_ONLY says
# otherwise (see below); LINUX_NESTED=0 refuses the VM and runs here.
# Each boot stage has a deadline; a host that cannot run a full kernel in
# time fails at the first missed stage with a message saying so, instead
# of hanging. Knobs: LINUX_CPUS, LINUX_MEM (MiB),
# LINUX_DEADLINE_DECOMPRESS / _KERNEL / _INIT / _DONE (seconds).
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
# The boots' logs and the initramfs on a local file system: inside the
# kvm-host VM /tmp is the host's, over 9p, and the guest's console would
# go out through 9p byte by byte while the harness reads it twice a second.
tmp=$(mktemp -d -p /dev/shm uvmm-linux.XXXXXX 2>/dev/null || mktemp -d)
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
source tests/lib/kvm-kind.sh
kind=$(kvm_kind)
if [[ ! -x $UVMM ]]; then
	result_fail "linux: $UVMM missing (run make first)"
	finish
fi
# The kvm-host VM has no network: Debian's packages come first, here.
if ! debian_fetch; then
	result_fail "linux: cannot get Debian's kernel and busybox-static: $DEBIAN_ERROR"
	finish
fi
if ! debian_fetch_modules; then
	result_fail "linux: cannot get the kernel's NVMe and ext4 modules: $DEBIAN_ERROR"
	finish
fi
if [[ $kind != hardware && $kind != nested && ${LINUX_NESTED:-1} != 0 ]]; then
	# The VM's CPU model, for QEMU's emulation of nested SVM (README.md,
	# "Linux"): without XSAVE (with it, the nested guest's CPUID leaf 0xd
	# reports a size that does not follow the XCR0 it sets and Debian's
	# kernel turns XSAVE off mid-boot) and without 1 GiB pages (with
	# them, an instruction fetch right after a nested page fault at the
	# same RIP sometimes took a #PF whose delivery triple-faulted the
	# guest). One TCG thread (make check's mode there) left the nested
	# kernel asleep for good early in its initcalls, both of the VM's
	# CPUs idle: this boot takes one thread per CPU.
	# Now and then the VM's own kernel dies inside KVM (its GS base
	# garbage after a VMRUN, a #GP on every use of it: QEMU's SVM
	# emulation, seen in about 1 boot of 18): status 5 from kvm-host,
	# which says so. That run proves nothing either way, so it runs
	# again, twice at most; any other failure stands.
	echo "check-linux: $(kvm_kind_description "$kind") here: booting Linux in the kvm-host VM" \
		"(nested SVM under QEMU's TCG, tests/kvm-host/run.sh)"
	rm -rf "$tmp" "$RESULTS"
	trap - EXIT
	for attempt in 1 2 3; do
		KVM_HOST_FORCE_VM=1 KVM_HOST_CPU=${LINUX_HOST_CPU:-max,-xsave,-pdpe1gb} \
			KVM_HOST_TCG_THREAD=${LINUX_TCG_THREAD:-multi} \
			KVM_HOST_KVM_AMD=${LINUX_KVM_AMD:-} \
			bash tests/kvm-host/run.sh --timeout "${LINUX_HOST_TIMEOUT:-1500}" -- \
			bash tests/linux/run-linux.sh
		status=$?
		[[ $status == 5 && $attempt -lt 3 ]] || exit "$status"
		echo "check-linux: the kvm-host VM's kernel died (not the guest's, not uvmm's); starting it again"
	done
fi
if [[ $kind == none ]]; then
	result_fail "linux: no usable /dev/kvm on this host: make check-linux boots a full Linux kernel and needs KVM"
	finish
fi
if [[ $kind != hardware && $kind != nested ]]; then
	echo "check-linux: note: $(kvm_kind_description "$kind"): guest kernel code is emulated;" \
		"if the kernel misses a deadline below, that is why"
fi
echo "check-linux: Debian kernel $DEBIAN_KVER, $cpus vCPUs, $mem_mib MiB"

# ---- the initramfs: busybox and our /init, cpio newc, gzip -------------
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys}
cp "$DEBIAN_BUSYBOX" "$root/bin/busybox"
cp tests/linux/init "$root/init"
cp "$BUILD/tests/linux/bar-read" "$BUILD/tests/linux/rtc-tick" "$root/bin/"
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/bar-read" "$root/bin/rtc-tick"
mkdir -p "$root/lib/mods" "$root/tmp"
cp "$DEBIAN_MODULES"/*.ko "$DEBIAN_MODULES/order" "$root/lib/mods/"
if ! (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initramfs.cpio.gz"; then
	result_fail "linux: building the initramfs failed (cpio missing?)"
	finish
fi

cmdline="console=ttyS0 earlyprintk=ttyS0 panic=-1 uvmm.cpus=$cpus uvmm.mem=$mem"
uvmm_args=(--timeout "$((dl_done + 30))" -c "$cpus" -m "${mem_mib}M"
	--initrd "$tmp/initramfs.cpio.gz")

# uvmm_threads: what each uvmm thread is doing (state, kernel wait
# channel and stack where readable), for a guest that stopped making
# progress: vCPUs blocked in KVM, or waiting on a device, or spinning.
uvmm_threads() {
	local p t
	for p in $(pgrep -x uvmm); do
		for t in /proc/"$p"/task/*; do
			echo "    uvmm $p thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)):" \
				"state $(awk '{ print $3 }' "$t/stat" 2>/dev/null)," \
				"wchan $(cat "$t/wchan" 2>/dev/null)"
			sed -n '1,6s/^/        /p' "$t/stack" 2>/dev/null
		done
	done
}

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
				result_fail "$name: $what did not appear within $limit s: this host's KVM cannot run a full Linux kernel (software virtualization, or far too slow), or the guest hung; stopped"
				tail -n 5 "$out" | sed 's/^/    | /'
				uvmm_threads
				kill "$pid" 2>/dev/null
				return 1
			fi
			sleep 0.5
		done
		echo "  $name: $what after $((SECONDS - start)) s"
	done
	return 0
}

# LINUX_ONLY=all (the default) or a list of init,shell,restart. Inside
# the kvm-host VM the default is init: there QEMU's emulation of the host
# CPU fails now and then the longer a boot runs (README.md, "Linux"), and
# the restarts and the shell add two minutes of it.
only=${LINUX_ONLY:-all}
[[ $kind == nested && -z ${LINUX_ONLY:-} ]] && only=init
want_boot() {
	[[ ,$only, == *,$1,* ]]
}

# wait_exit PID: waits (until the done deadline, counted from $start)
# for uvmm to end; returns uvmm's status.
wait_exit() {
	local pid=$1
	while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < dl_done)); do
		sleep 0.5
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
}

# init_lines OUT: /init's lines, for the log.
init_lines() {
	grep -a '^UVMM-INIT:' "$1" | sed 's/\r$//; s/^/    /'
}

# init_passed OUT: /init printed verdict 0 and no FAIL line.
init_passed() {
	tr -d '\r' <"$1" | grep -q '^UVMM-INIT: verdict 0' &&
		! grep -aq '^UVMM-INIT: FAIL' "$1"
}

# Servers: sampledev, and uvmm-nvme with a 16 MiB image. Sockets and image
# in $tmp, on /dev/shm with the logs (a socket cannot live on 9p). /init
# writes with Debian's nvme driver, the host reads the image afterwards.
sockdir=$tmp
"$BUILD/tests/servers/sampledev" "$sockdir/sampledev.sock" 2>"$tmp/sampledev.log" &
server=$!
nvme_img=$sockdir/nvme.img
truncate -s 16M "$nvme_img"
: >"$tmp/nvme.log"
# start_nvme: a uvmm-nvme on the image and socket (-v: the shadow
# doorbell line), appending to nvme.log; waits for its socket.
start_nvme() {
	rm -f "$sockdir/nvme.sock"
	"$BUILD/uvmm-nvme" -v --image "$nvme_img" --serial LINUXE2E "$sockdir/nvme.sock" \
		2>>"$tmp/nvme.log" &
	nvme_server=$!
	for _ in $(seq 1 100); do
		[[ -S $sockdir/nvme.sock ]] && break
		sleep 0.05
	done
}
start_nvme
trap 'kill $server $nvme_server 2>/dev/null; rm -rf "$tmp" "$RESULTS"' EXIT
for _ in $(seq 1 100); do
	grep -q "listening on" "$tmp/sampledev.log" && break
	sleep 0.05
done
vfu_id=$(awk '$2 == "SAMPLEDEV_ID_MAGIC" { print $3 }' abi/sampledev.h)
printf -v vfu_ids '%04x:%04x' \
	"$(awk '$2 == "SAMPLEDEV_VENDOR_ID" { print $3 }' abi/sampledev.h)" \
	"$(awk '$2 == "SAMPLEDEV_DEVICE_ID" { print $3 }' abi/sampledev.h)"
vfu_cmdline="uvmm.vfu=$vfu_ids uvmm.vfu_id=$vfu_id uvmm.nvme=32768"
restart_secs=${LINUX_RESTART_SECS:-60}
want_restarts=${LINUX_RESTARTS:-2}
nvme_reconnect="vfio-user,socket=$sockdir/nvme.sock,on-error=reconnect,reconnect-timeout=60"

# check_devices NAME OUT: what the boot with both devices left behind:
# the pattern in the image, the shadow doorbells, the BARs.
check_devices() {
	local name=$1 out=$2 bars=0 moved=0 bar bstart want
	# The pattern /init wrote through Debian's nvme driver, in the image.
	if cmp -s <(head -c 1048576 "$DEBIAN_BUSYBOX") \
		<(dd if="$nvme_img" bs=65536 skip=16 count=16 2>/dev/null); then
		result_pass "$name: nvme: the 1 MiB Linux wrote to /dev/nvme0n1 is in uvmm-nvme's image at 1 MiB"
	else
		result_fail "$name: nvme: the image does not hold what Linux wrote to /dev/nvme0n1"
		tail -n 5 "$tmp/nvme.log" | sed 's/^/    | /'
	fi
	# The ext2 file system /init made in the first MiB: whole by e2fsck,
	# and its file holding what /init wrote.
	dd if="$nvme_img" of="$tmp/fs.img" bs=1024 count=1024 2>/dev/null
	if e2fsck -fn "$tmp/fs.img" >"$tmp/fsck.out" 2>&1 &&
	   cmp -s <(head -c 262144 "$DEBIAN_BUSYBOX") \
		<(debugfs -R "cat /busybox-head" "$tmp/fs.img" 2>/dev/null); then
		result_pass "$name: nvme: e2fsck finds the guest's ext2 clean, debugfs reads its file back"
	else
		result_fail "$name: nvme: the guest's ext2 file system is not clean or lost its file"
		tail -n 5 "$tmp/fsck.out" | sed 's/^/    | /'
	fi
	# Linux's driver takes the shadow doorbells uvmm-nvme offers.
	if grep -q "shadow doorbells on" "$tmp/nvme.log"; then
		result_pass "$name: nvme: Linux's driver set up shadow doorbells (Doorbell Buffer Config)"
	else
		result_fail "$name: nvme: Linux's driver did not set up shadow doorbells"
	fi
	# Linux keeps the BARs where uvmm put them (no reassignment).
	while read -r bar bstart _; do
		bars=$((bars + 1))
		want=$(sed -nE "s/.*vfio-user\[0\] BAR${bar#BAR}: decodes at (0x[0-9a-f]+).*/\1/p" "$out" | tail -n 1)
		if [[ -z $want ]] || (( bstart != want )); then
			echo "    $bar: Linux has $bstart, uvmm logged ${want:-nothing}"
			moved=$((moved + 1))
		fi
	done < <(sed -nE 's/\r$//; s/^UVMM-INIT: vfu resource (BAR[0-5]) (0x[0-9a-f]+) .*/\1 \2/p' "$out")
	if (( bars > 0 && moved == 0 )); then
		result_pass "$name: the vfio-user device's $bars BARs in /sys/bus/pci/devices/*/resource are where uvmm assigned them"
	else
		result_fail "$name: vfio-user BARs: $bars listed by /init, $moved not where uvmm put them"
	fi
}

# restart_nvme PID OUT: once /init says go, kills uvmm-nvme with SIGKILL
# $want_restarts times, a third of the I/O loop apart so that the driver
# recovers from one before the next, and starts a new one on the same
# socket and image each time. Sets restarts.
restart_nvme() {
	local pid=$1 out=$2 pause
	restarts=0
	while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < dl_done)) &&
	      ! grep -aq 'UVMM-INIT: nvme-restart: go' "$out"; do
		sleep 0.5
	done
	for pause in $((restart_secs / 6)) $((restart_secs / 3)); do
		((restarts < want_restarts)) || break
		sleep "$pause"
		kill -0 "$pid" 2>/dev/null || break
		kill -KILL "$nvme_server"
		wait "$nvme_server" 2>/dev/null
		sleep 1
		start_nvme
		restarts=$((restarts + 1))
		echo "  linux: uvmm-nvme killed and started again ($restarts)"
	done
}

# check_restarts NAME OUT: the restarts happened and uvmm reconnected
# after each; /init's I/O checks are in its verdict.
check_restarts() {
	local name=$1 out=$2 reconnects
	grep -a 'reconnect' "$out" | tr -d '\r' | grep -v '^UVMM-INIT' | sed 's/^/    /'
	reconnects=$(grep -ac 'reconnected after' "$out")
	if [[ $restarts == "$want_restarts" && $reconnects == "$want_restarts" ]]; then
		result_pass "$name: nvme: uvmm-nvme killed and restarted $restarts times under dd, $reconnects reconnects; /init's rounds are in its verdict"
	else
		result_fail "$name: nvme restarts: $restarts restarts, $reconnects reconnects (want $want_restarts and $want_restarts)"
		tail -n 5 "$tmp/nvme.log" | sed 's/^/    | /'
	fi
}

# type_into FD TEXT: into the pty; in a subshell, so that a uvmm already
# gone (SIGPIPE) fails the check instead of killing the harness.
type_into() {
	(printf '%s' "$2" >&"$1") 2>/dev/null
}

# shell_session NAME PID OUT FD: at the shell's prompt, types
# echo $((6*7)) into FD (the pty's input), waits for the line 42, then
# Ctrl-A x; passes NAME if 42 came back and uvmm ended with status 0.
shell_session() {
	local name=$1 pid=$2 out=$3 fd=$4 ok= status
	while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < dl_done)); do
		if grep -aq 'uvmm-linux# ' "$out"; then
			ok=prompt
			break
		fi
		sleep 0.5
	done
	if [[ $ok == prompt ]]; then
		type_into "$fd" $'echo $((6*7))\r'
		while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < dl_done)); do
			if tr -d '\r' <"$out" | grep -qx '42'; then
				ok=42
				break
			fi
			sleep 0.5
		done
	fi
	type_into "$fd" $'\001x'	# Ctrl-A x: uvmm quits, status 0
	for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	kill "$pid" 2>/dev/null
	wait "$pid"
	status=$?
	if [[ $ok == 42 && $status == 0 ]]; then
		result_pass "$name: interactive shell: typed echo \$((6*7)) through a pty, read 42, Ctrl-A x quit with status 0 ($((SECONDS - start)) s)"
	else
		result_fail "$name: interactive shell: ${ok:-no prompt}, uvmm status $status (want the line 42 and status 0)"
		tr -d '\r' <"$out" | grep -v drop_caches | tail -n 40 | sed 's/^/    | /'
	fi
}

# start_pty_uvmm OUT ARGS...: uvmm under script(1), which gives it a
# terminal on stdin/stdout (so its console input thread runs, in raw
# mode); we type into script's stdin through a pipe (a coprocess: no
# FIFO, which the kvm-host VM's 9p /tmp cannot hold), kept open on fd 3
# until the end, since EOF there would end the session. Sets pid.
start_pty_uvmm() {
	local out=$1 cmd
	shift
	printf -v cmd '%q ' "$UVMM" "$@"
	coproc SHELL_SESSION { exec script -q -e -c "$cmd" /dev/null >"$out" 2>&1; }
	pid=$SHELL_SESSION_PID
	exec 3>&"${SHELL_SESSION[1]}"
}

if { want_boot all || want_boot shell; } && ! command -v script >/dev/null; then
	result_fail "linux: interactive shell: script(1) (util-linux) missing"
	finish
fi

# ---- all: everything in one boot ----------------------------------------
if want_boot all; then
	out=$tmp/all.out
	start=$SECONDS
	dl_done=$((dl_done + restart_secs))
	# -v: uvmm logs where it put each BAR, for the comparison with sysfs.
	start_pty_uvmm "$out" -v --timeout "$((dl_done + 30))" -c "$cpus" -m "${mem_mib}M" \
		--initrd "$tmp/initramfs.cpio.gz" \
		--device "vfio-user,socket=$sockdir/sampledev.sock" --device "$nvme_reconnect" \
		--cmdline "$cmdline $vfu_cmdline uvmm.nvme_restart=$restart_secs uvmm.shell" \
		"$DEBIAN_KERNEL"
	if watch_boot "linux" "$pid" "$out"; then
		restart_nvme "$pid" "$out"
		shell_session "linux" "$pid" "$out" 3
		init_lines "$out"
		if init_passed "$out"; then
			result_pass "linux: /init: every check passed ($cpus CPUs, $mem_mib MiB, ACPI, PCI, IRQs, the vfio-user device, nvme I/O across the restarts)"
		else
			result_fail "linux: /init: a check failed or no verdict (want verdict 0 and no FAIL line)"
		fi
		check_devices "linux" "$out"
		check_restarts "linux" "$out"
	else
		wait "$pid" 2>/dev/null
	fi
	exec 3>&-
	dl_done=$((dl_done - restart_secs))
fi

# ---- init: /init's checks and verdict through /dev/port ------------------
if want_boot init; then
	out=$tmp/boot.out
	start=$SECONDS
	"$UVMM" -v "${uvmm_args[@]}" --device "vfio-user,socket=$sockdir/sampledev.sock" \
		--device "vfio-user,socket=$sockdir/nvme.sock" \
		--cmdline "$cmdline $vfu_cmdline" \
		"$DEBIAN_KERNEL" >"$out" 2>&1 </dev/null &
	pid=$!
	if watch_boot "linux: boot to /init" "$pid" "$out"; then
		wait_exit "$pid"
		status=$?
		init_lines "$out"
		if [[ $status == 1 ]] && init_passed "$out"; then
			result_pass "linux: boot to /init: $cpus CPUs and $mem_mib MiB seen, verdict through /dev/port (status 1, $((SECONDS - start)) s)"
		else
			result_fail "linux: boot to /init: uvmm status $status (want 1: /init's verdict 0 through port 0xf4)"
			tail -n 15 "$out" | sed 's/^/    | /'
		fi
		check_devices "linux: boot to /init" "$out"
	else
		wait "$pid" 2>/dev/null
	fi
fi

# ---- shell: an interactive shell through a pseudo-terminal ---------------
if want_boot shell; then
	out=$tmp/shell.out
	start=$SECONDS
	start_pty_uvmm "$out" "${uvmm_args[@]}" --cmdline "$cmdline uvmm.shell" "$DEBIAN_KERNEL"
	if watch_boot "linux: interactive shell" "$pid" "$out"; then
		shell_session "linux" "$pid" "$out" 3
	else
		wait "$pid" 2>/dev/null
	fi
	exec 3>&-
fi

# ---- restart: uvmm-nvme alone, restarted under Linux's I/O ---------------
# uvmm attaches uvmm-nvme with on-error=reconnect; /init writes and reads
# back (O_DIRECT) and compares for LINUX_RESTART_SECS (uvmm.nvme_restart)
# while the harness kills the server with SIGKILL twice and starts a new
# one on the same socket and image each time. The data must check out,
# the driver must have reset the controller, and nothing may report an I/O
# error; uvmm says one line per reconnect.
if want_boot restart; then
	norestart=
	((want_restarts == 0)) && norestart=" uvmm.nvme_norestart"
	out=$tmp/restart.out
	start=$SECONDS
	"$UVMM" "${uvmm_args[@]}" --device "$nvme_reconnect" \
		--cmdline "$cmdline uvmm.nvme=32768 uvmm.nvme_restart=$restart_secs$norestart" \
		"$DEBIAN_KERNEL" >"$out" 2>&1 </dev/null &
	pid=$!
	if watch_boot "linux: nvme restarts" "$pid" "$out"; then
		restart_nvme "$pid" "$out"
		wait_exit "$pid"
		status=$?
		init_lines "$out"
		if [[ $status == 1 ]] && init_passed "$out"; then
			result_pass "linux: nvme restarts: every round exact, no I/O error (status 1, $((SECONDS - start)) s)"
		else
			result_fail "linux: nvme restarts: uvmm status $status (want 1, /init's verdict 0)"
			grep -avE 'drop_caches' "$out" | tail -n 60 | sed 's/^/    | /'
		fi
		check_restarts "linux: nvme restarts" "$out"
	else
		wait "$pid" 2>/dev/null
	fi
fi
finish
