# Hostile vfio-user servers: tests/servers/evil misbehaves one way per run
# (lies, breaks the framing, closes, stalls, sends bad DMA requests) and
# uvmm must end with status 10 and a line naming the problem, without
# hanging, crashing or touching memory it should not (the sanitizer build
# runs these cases too). With on-error=continue the VM must live on, the
# dead device reading all-ones, and uvmm must not leak the fds the server
# pushed at it. Sourced by tests/boot/run-boot.sh (boot_case, run_expect,
# $G, $tmp).

EVIL=$BUILD/tests/servers/evil
if [[ ! -x $EVIL ]]; then
	result_missing "boot: hostile servers: $EVIL is not built (make)"
	return 0
fi
# UNIX sockets need a local filesystem (see 40-vfio-user.sh).
evil_dir=$(mktemp -d -p /dev/shm uvmm-evil.XXXXXX 2>/dev/null || mktemp -d)
evil_pids=()
# timeout-ms: long where the server fails at once, so that a slow start
# on a loaded machine never times out by accident; HTMO=1000 before a
# case whose misbehaviour is about the timeout.
EVIL_TMO=5000
# uvmm's lines about device 0: the client's, and vm.c's at start-up.
VFU0='^uvmm: (vm: )?vfio-user\[0\]'
hostile_start=$SECONDS

# Every external command costs ~150 ms in the nested KVM host (tests/
# kvm-host), so the waits below use bash builtins only: a nap is a read
# timing out on a pipe nobody writes, a clock is $EPOCHREALTIME.
exec {evil_nap_fd}<> <(:)
evil_nap() { read -r -t "$1" -u "$evil_nap_fd" _; }
clock_ms() { NOW=$(( ${EPOCHREALTIME//[!0-9]/} / 1000 )); }

# line_has REGEX FILE...: whether a whole line (one with its newline: the
# guest prints a character at a time) matches; it is left in MATCH, its
# groups in BASH_REMATCH.
line_has() {
	local re=$1 f line
	shift
	for f; do
		[[ -r $f ]] || continue
		while IFS= read -r line; do
			if [[ $line =~ $re ]]; then
				MATCH=$line
				return 0
			fi
		done <"$f"
	done
	return 1
}

# wait_line REGEX SECONDS FILE...: until a line matches (0) or not (1).
wait_line() {
	local re=$1 n=$(($2 * 20))
	shift 2
	while (( n-- > 0 )); do
		line_has "$re" "$@" && return 0
		evil_nap 0.05
	done
	return 1
}

# evil_start NAME ARGS...: evil with ARGS on $evil_dir/NAME.sock, once it
# listens. Sets ESOCK, ELOG, EPID.
evil_start() {
	local name=$1
	shift
	ESOCK=$evil_dir/$name.sock
	ELOG=$tmp/evil-$name.log
	: >"$ELOG"
	"$EVIL" "$@" "$ESOCK" 2>"$ELOG" &
	EPID=$!
	evil_pids+=("$EPID")
	wait_line "listening on" 10 "$ELOG" && return 0
	echo "    | evil did not start:"
	sed 's/^/    | /' "$ELOG"
	return 1
}

# launch CASE TAG DEVOPTS GUEST [UVMM_ARGS...] -- EVIL_ARGS...: evil on
# TAG's socket (a failed start fails CASE), then uvmm in the background with
# "--device vfio-user,socket=...,DEVOPTS", UVMM_ARGS and $G/GUEST.elf; VMM
# is its pid. Status 1 when evil did not start.
launch() {
	local case=$1 tag=$2 devopts=$3 guest=$4
	local -a vargs=()
	shift 4
	while [[ $# -gt 0 && $1 != -- ]]; do vargs+=("$1"); shift; done
	[[ $# -gt 0 ]] && shift
	if ! evil_start "$tag" "$@"; then
		result_fail "boot: hostile: $case: evil did not start"
		evil_stop
		return 1
	fi
	: >"$tmp/hout"	# before the background job: no stale line may match
	"$UVMM" --device "vfio-user,socket=$ESOCK,$devopts" \
		"${vargs[@]}" "$G/$guest.elf" >"$tmp/hout" 2>&1 </dev/null &
	VMM=$!
}

# No server may outlive its case.
evil_stop() {
	local pid n
	for pid in "${evil_pids[@]}"; do
		kill "$pid" 2>/dev/null
		n=50
		while (( n-- > 0 )) && kill -0 "$pid" 2>/dev/null; do
			evil_nap 0.05
		done
		kill -KILL "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
	done
	evil_pids=()
}

# When evil misbehaved (CLOCK_REALTIME ms), from its MISBEHAVE line.
misbehave_ms() {
	T0=
	line_has '^evil: MISBEHAVE .* at ([0-9]+) ms:' "$ELOG" &&
		T0=${BASH_REMATCH[1]}
}

# watch_vmm PID OUT LIMIT: waits for uvmm (killed past LIMIT seconds).
# Sets VSTATUS, and LINE_AT / EXIT_AT (ms) when its first vfio-user[0]
# line appeared and when it exited.
watch_vmm() {
	local pid=$1 out=$2 n=$(($3 * 20))
	LINE_AT=
	while (( n-- > 0 )); do
		if [[ -z $LINE_AT ]] && line_has "$VFU0" "$out"; then
			clock_ms
			LINE_AT=$NOW
		fi
		kill -0 "$pid" 2>/dev/null || break
		evil_nap 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	VSTATUS=$?
	clock_ms
	EXIT_AT=$NOW
	[[ -z $LINE_AT ]] && line_has "$VFU0" "$out" && LINE_AT=$EXIT_AT
}

hostile_fail() {	# hostile_fail NAME WHY
	result_fail "boot: hostile: $1: $2"
	sed 's/^/    | uvmm: /' "$tmp/hout" | tail -8
	sed 's/^/    | evil: /' "$ELOG" | tail -6
}

# [HTMO=MS] hostile NAME REGEX GUEST EVIL_ARGS... [-- UVMM_ARGS...]
# One misbehaviour: uvmm must exit 10 with a vfio-user[0] line matching
# REGEX. With --on-signal/--now-on-signal, evil is signalled once the
# guest printed its first line (the VM runs). It must say why within 1 s
# of the misbehaviour, or of the timeout when HTMO is set (the issue's
# bound), give or take 2 s for a slow, loaded test machine; how long it
# took, and when it exited, is printed.
hostile() {
	local name=$1 re=$2 guest=$3 t0 line tmo=${HTMO:-$EVIL_TMO}
	local bound=$(( ${HTMO:-0} + 1000 + 2000 ))
	local -a eargs=() vargs=()
	shift 3
	while [[ $# -gt 0 && $1 != -- ]]; do eargs+=("$1"); shift; done
	[[ $# -gt 0 ]] && shift
	vargs=("$@")
	launch "$name" h "timeout-ms=$tmo" "$guest" "${vargs[@]}" -- "${eargs[@]}" ||
		return
	local vmm=$VMM
	if [[ " ${eargs[*]} " == *" --on-signal "* ||
	      " ${eargs[*]} " == *" --now-on-signal "* ]]; then
		wait_line '^vfio-user-loop: reading|^spin:' 60 "$tmp/hout" &&
			kill -USR1 "$EPID"
	fi
	watch_vmm $vmm "$tmp/hout" 60
	misbehave_ms
	t0=$T0
	line=
	line_has "$VFU0.*($re)" "$tmp/hout" && line=$MATCH
	if [[ -z $t0 ]]; then
		hostile_fail "$name" "evil never misbehaved (uvmm status $VSTATUS)"
	elif [[ $VSTATUS != 10 ]]; then
		hostile_fail "$name" "uvmm exit status $VSTATUS, expected 10"
	elif [[ -z $line ]]; then
		hostile_fail "$name" "no vfio-user[0] line matches /$re/"
	elif (( LINE_AT - t0 > bound )); then
		hostile_fail "$name" "said why $((LINE_AT - t0)) ms after the misbehaviour (bound $bound ms)"
	else
		result_pass "boot: hostile: $name: status 10, said why $((LINE_AT - t0)) ms and exited $((EXIT_AT - t0)) ms after it (timeout $tmo ms)"
		echo "    | $line"
	fi
	evil_stop
}

# ---- a faithful run first: evil's own device works through the proxy.

if evil_start sane --mode none; then
	boot_case "hostile: evil --mode none passes vfio-user-basic through" 1 \
'^PASS: .*5555:0001
^PASS: .*scratch space
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$ESOCK,timeout-ms=$EVIL_TMO" \
		"$G/vfio-user-basic.elf"
fi
evil_stop

# ---- the socket closed at each step of the connection sequence.

CLOSED='peer closed|Broken pipe|Connection reset|truncated'
hostile "closed after accept" "$CLOSED" hello --close-at accept
hostile "closed on receiving VERSION" "$CLOSED" hello --close-at VERSION --before
hostile "closed after VERSION" "$CLOSED" hello --close-at VERSION
hostile "closed after the first DMA_MAP" "$CLOSED" hello --close-at DMA_MAP
hostile "closed after the second DMA_MAP (RAM above 4 GiB)" "$CLOSED" hello \
	--close-at DMA_MAP:2 -- -m 3200M
hostile "closed after DEVICE_GET_INFO" "$CLOSED" hello --close-at DEVICE_GET_INFO
hostile "closed after the first REGION_INFO" "$CLOSED" hello \
	--close-at DEVICE_GET_REGION_INFO
hostile "closed after BAR2's REGION_INFO with its fd" "$CLOSED" hello \
	--close-at DEVICE_GET_REGION_INFO:4
hostile "closed after the last REGION_INFO" "$CLOSED" hello \
	--close-at DEVICE_GET_REGION_INFO:9
hostile "closed after the first IRQ_INFO" "$CLOSED" hello \
	--close-at DEVICE_GET_IRQ_INFO
hostile "closed after the last IRQ_INFO" "$CLOSED" hello \
	--close-at DEVICE_GET_IRQ_INFO:3
hostile "closed after the config space read" "$CLOSED" hello \
	--close-at REGION_READ
hostile "closed after DEVICE_RESET" "$CLOSED" hello --close-at DEVICE_RESET
hostile "closed after SET_IRQS (INTx wired)" "$CLOSED" vfio-user-loop \
	--close-at DEVICE_SET_IRQS
hostile "closed while the guest runs" "$CLOSED" vfio-user-loop \
	--mode close --now-on-signal

# ---- broken replies during the connection sequence.

hostile "VERSION reply with a wrong id" "reply id|matches no request" hello \
	--mode wrong-id --at VERSION
hostile "REGION_INFO reply with a wrong id" "matches no request" hello \
	--mode wrong-id --at DEVICE_GET_REGION_INFO:4
hostile "DEVICE_GET_INFO reply 4 bytes short" "payload 12 bytes, expected 16" hello \
	--mode wrong-size --at DEVICE_GET_INFO
hostile "config space read reply 4 bytes short" "REGION_READ reply" hello \
	--mode wrong-size --at REGION_READ
hostile "REGION_INFO reply truncated, then closed" "truncated" hello \
	--mode truncated --at DEVICE_GET_REGION_INFO:4
hostile "DMA_MAP reply with a 4 GiB size" "msg_size 4294967295" hello \
	--mode huge-size --at DMA_MAP
hostile "IRQ_INFO reply with size 15" "msg_size 15" hello \
	--mode small-size --at DEVICE_GET_IRQ_INFO:2
hostile "REGION_INFO reply with 506 fds" "506 fds" hello \
	--mode too-many-fds --at DEVICE_GET_REGION_INFO:4
hostile "VERSION reply with 253 fds" "fds|twin" hello \
	--mode too-many-fds --fds 253 --at VERSION
hostile "garbage before VERSION" "msg_size|unknown|flags" hello \
	--mode garbage --at accept
hostile "garbage instead of the DEVICE_RESET reply" "msg_size|unknown|flags" hello \
	--mode garbage --at DEVICE_RESET
hostile "ERROR flag on every reply from VERSION on" "refused VERSION|Input/output" hello \
	--mode error --at VERSION
hostile "ERROR flag on every reply from DEVICE_GET_INFO on" "DEVICE_GET_INFO" hello \
	--mode error --at DEVICE_GET_INFO
HTMO=1000 hostile "no reply to DEVICE_GET_INFO" "no reply to DEVICE_GET_INFO" hello \
	--mode no-reply --at DEVICE_GET_INFO
HTMO=1000 hostile "REGION_INFO reply after the timeout" "no reply to DEVICE_GET_REGION_INFO" hello \
	--mode late-reply --delay-ms 2000 --at DEVICE_GET_REGION_INFO:4
HTMO=1000 hostile "VERSION reply trickled a byte at a time" "stalled|timed out" hello \
	--mode trickle --at VERSION
HTMO=1000 hostile "REGION_INFO payload trickled a byte at a time" "payload of .*timed out" hello \
	--mode trickle-body --at DEVICE_GET_REGION_INFO:4

# ---- region and IRQ info that does not fit.

hostile "BAR2 size not a power of two" "not a power of two" hello \
	--mode region-size-odd
hostile "BAR2 size 2^63" "not a power of two up to 64 GiB" hello \
	--mode region-size-huge
hostile "BAR2 mmap offset + size wrapping 2^64" "offset \+ size overflows" hello \
	--mode region-offset-wrap
hostile "sparse mmap area past the end of BAR2" "sparse area" hello \
	--mode sparse-outside
hostile "sparse mmap area across the end of BAR2" "sparse area" hello \
	--mode sparse-overlap
hostile "sparse mmap area wrapping 2^64" "sparse area" hello \
	--mode sparse-wrap
hostile "0xffffffff sparse mmap areas" "sparse areas do not fit" hello \
	--mode sparse-count
hostile "MSI-X count 2^32-1" "count 4294967295" hello --mode irq-count
hostile "INTx count 2^32-1" "count 4294967295" hello --mode irq-count --irq 0

# ioeventfd entries KVM cannot take (IOREGIONFD, the shadow type, a size
# KVM has no length for, unknown flags): each refused with a warning,
# those writes trap, the device works.
if evil_start iofd --mode io-fd-types; then
	boot_case "hostile: io fds KVM cannot take are refused, the device works" 1 \
'type 1 refused: IOREGIONFD and shadow ioeventfds are not in mainline KVM
type 2 refused: IOREGIONFD and shadow
0x88, \+3\) type 0 refused: size is not 1, 2, 4 or 8
0x8c, \+4\) type 0 refused: unknown flags
^PASS: .*5555:0001
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$ESOCK,timeout-ms=$EVIL_TMO" \
		"$G/vfio-user-basic.elf"
fi
evil_stop

# An mmap offset past the end of the server's fd fits the protocol: uvmm
# must not map it, and traps the BAR instead.
if evil_start far --mode region-offset-far; then
	boot_case "hostile: BAR2 mmap offset past the fd's end: trapped, not mapped" 1 \
'unusable: trapping it instead
^PASS: .*5555:0001
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$ESOCK,timeout-ms=$EVIL_TMO" \
		"$G/vfio-user-basic.elf"
fi
evil_stop

# ---- broken replies while the guest drives the device.

hostile "wrong reply id at run time" "matches no request" vfio-user-loop \
	--mode wrong-id --on-signal
hostile "a reply sent twice at run time" "matches no request" vfio-user-loop \
	--mode duplicate --on-signal
hostile "short REGION_READ reply at run time" "REGION_READ reply" vfio-user-loop \
	--mode wrong-size --on-signal
hostile "truncated reply at run time" "truncated" vfio-user-loop \
	--mode truncated --on-signal
hostile "4 GiB size field at run time" "msg_size 4294967295" vfio-user-loop \
	--mode huge-size --on-signal
hostile "REGION_READ reply with 506 fds at run time" "506 fds" vfio-user-loop \
	--mode too-many-fds --on-signal
hostile "garbage at run time" "msg_size|unknown|flags" vfio-user-loop \
	--mode garbage --on-signal
HTMO=1000 hostile "no reply at run time" "no reply to REGION_READ" vfio-user-loop \
	--mode no-reply --on-signal
HTMO=1000 hostile "reply after the timeout at run time" "no reply to REGION_READ" vfio-user-loop \
	--mode late-reply --delay-ms 2000 --on-signal
# The socket never falls silent, yet the reply does not come.
HTMO=1000 hostile "no reply, but a DMA request every 100 ms" "no reply to REGION_READ" vfio-user-loop \
	--mode busy-no-reply --on-signal
HTMO=1000 hostile "a reply trickled a byte every 200 ms" "stalled|timed out" vfio-user-loop \
	--mode trickle --on-signal
hostile "1000 DMA requests at once" "server requests queued" vfio-user-loop \
	--mode dma-flood --now-on-signal

# ---- DMA requests for memory that is not guest RAM: each refused with an
# error reply (like an IOMMU fault), the VM going on; one inside RAM
# served. -m 3200M puts RAM on both sides of the 3-4 GiB hole.

if evil_start dma --mode dma --at REGION_READ; then
	boot_case "hostile: DMA_READ/DMA_WRITE outside RAM, across its end, wrapping: refused" 1 \
'server DMA_READ .*Bad address
server DMA_WRITE .*Bad address
^PASS: .*scratch space
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$ESOCK,timeout-ms=$EVIL_TMO" \
		-m 3200M "$G/vfio-user-basic.elf"
	if grep -q 'dma: all [0-9]* requests answered, 0 wrongly' "$ELOG"; then
		result_pass "boot: hostile: every bad DMA request refused, the one inside RAM served ($(grep -c 'server DMA_\|server request' "$tmp/out") refusals logged)"
	else
		result_fail "boot: hostile: DMA requests answered wrongly"
		sed 's/^/    | evil: /' "$ELOG" | tail -8
	fi
fi
evil_stop

# ---- on-error=continue: the VM lives on, and no fd leaks.

# continue_fds NAME WAIT_REGEX EVIL_ARGS...: a spinning guest, the server
# misbehaves unprompted (--now-on-signal); uvmm's fds before and after
# must not grow (listed if they do), and it must still run.
continue_fds() {
	local name=$1 until=$2 vmm nb na
	local -a before after
	shift 2
	launch "on-error=continue, $name" c "timeout-ms=$EVIL_TMO,on-error=continue" \
		spin --timeout 60 -- "$@" --now-on-signal || return
	vmm=$VMM
	if ! wait_line '^spin:' 60 "$tmp/hout"; then
		kill -KILL $vmm 2>/dev/null; wait $vmm 2>/dev/null
		hostile_fail "on-error=continue, $name" "the guest never ran"
		evil_stop
		return
	fi
	ls -l /proc/$vmm/fd >"$tmp/fds-before" 2>&1
	before=(/proc/$vmm/fd/*)
	kill -USR1 "$EPID"
	wait_line "$until" 10 "$tmp/hout" "$ELOG"
	evil_nap 0.3
	after=(/proc/$vmm/fd/*)
	nb=${#before[@]} na=${#after[@]}
	if ! kill -0 $vmm 2>/dev/null; then
		wait $vmm 2>/dev/null
		hostile_fail "on-error=continue, $name" "uvmm ended (status $?) instead of running on"
	elif ! line_has "$until" "$tmp/hout" "$ELOG"; then
		kill -KILL $vmm; wait $vmm 2>/dev/null
		hostile_fail "on-error=continue, $name" "no line matches /$until/"
	elif (( na > nb )); then
		ls -l /proc/$vmm/fd >"$tmp/fds-after" 2>&1
		kill -KILL $vmm; wait $vmm 2>/dev/null
		hostile_fail "on-error=continue, $name" "uvmm's fds grew from $nb to $na"
		diff "$tmp/fds-before" "$tmp/fds-after" | sed 's/^/    | /' | head -20
	else
		kill -TERM $vmm
		watch_vmm $vmm "$tmp/hout" 30
		if [[ $VSTATUS == 143 ]]; then
			result_pass "boot: hostile: on-error=continue, $name: the VM runs on, uvmm's fds $nb before, $na after"
		else
			hostile_fail "on-error=continue, $name" "SIGTERM ended uvmm with $VSTATUS, not 143"
		fi
	fi
	evil_stop
}

DEAD='on-error=continue'
continue_fds "an unsolicited reply with 506 fds" "$DEAD" --mode too-many-fds
continue_fds "garbage" "$DEAD" --mode garbage
continue_fds "a truncated message, then close" "$DEAD" --mode truncated
continue_fds "a 4 GiB size field" "$DEAD" --mode huge-size
continue_fds "bad DMA requests (the device lives)" 'dma: all [0-9]+ requests answered, 0 wrongly' --mode dma

# The guest keeps reading the device: the dead device reads all-ones.
continue_loop() {	# [HTMO=MS] continue_loop NAME EVIL_ARGS...
	local name=$1 vmm tmo=${HTMO:-$EVIL_TMO}
	shift
	launch "on-error=continue, $name" l "timeout-ms=$tmo,on-error=continue" \
		vfio-user-loop --timeout 60 -- "$@" --on-signal || return
	vmm=$VMM
	wait_line '^vfio-user-loop: reading' 60 "$tmp/hout" && kill -USR1 "$EPID"
	watch_vmm $vmm "$tmp/hout" 60
	if [[ $VSTATUS == 1 ]] && line_has 'on-error=continue' "$tmp/hout" &&
	   line_has 'all-ones after the server died' "$tmp/hout" &&
	   ! line_has '^FAIL' "$tmp/hout"; then
		result_pass "boot: hostile: on-error=continue, $name: the guest reads all-ones and ends normally"
	else
		hostile_fail "on-error=continue, $name" "status $VSTATUS"
	fi
	evil_stop
}

continue_loop "wrong reply id" --mode wrong-id
HTMO=1000 continue_loop "reply after the timeout" --mode late-reply --delay-ms 2000

# An ERROR reply to a guest's BAR access: the guest cannot be given a
# true value. on-error=stop (the default) ends the VM with status 10 and
# one line naming the access; on-error=continue reads all-ones, says so
# once, and the device stays.
hostile "ERROR reply to the guest's BAR read" \
	"refused the guest's BAR0 read at offset 0x0 size 4" \
	vfio-user-loop --mode error --on-signal
if launch "ERROR replies at run time, on-error=continue" err \
	"timeout-ms=$EVIL_TMO,on-error=continue" \
	vfio-user-loop --timeout 60 -- --mode error --on-signal; then
	vmm=$VMM
	wait_line '^vfio-user-loop: reading' 60 "$tmp/hout" && kill -USR1 "$EPID"
	watch_vmm $vmm "$tmp/hout" 60
	nref=$(grep -c "refused the guest's BAR0 read" "$tmp/hout")
	if [[ $VSTATUS == 1 ]] && ! line_has '^FAIL' "$tmp/hout" &&
	   [[ $nref == 1 ]] && line_has "$VFU0.*reads all-ones \(on-error=continue, said once\)" "$tmp/hout" &&
	   ! line_has "device is dead" "$tmp/hout"; then
		result_pass "boot: hostile: ERROR replies at run time, on-error=continue: all-ones, said once, the device stays"
	else
		hostile_fail "ERROR replies at run time, on-error=continue" "status $VSTATUS, $nref lines about the refused read"
	fi
fi
evil_stop

exec {evil_nap_fd}>&-
rm -rf "$evil_dir"
echo "    (50-hostile-server.sh: $((SECONDS - hostile_start)) s)"
