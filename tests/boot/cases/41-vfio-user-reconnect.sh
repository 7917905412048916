# on-error=reconnect (vfio-user/device.c): the test device's server is
# killed and started again on the same socket while
# guest/vfio-user-reconnect.c keeps reads, writes, BAR2, DMA and MSI-X
# going and checks every result; and the ways a reconnect must fail.
# Every case runs under the sandbox (on by default, off in sanitizer
# builds), so the reconnect path's system calls are allowed there.

RC_DEV="on-error=reconnect"

# wait_line FILE REGEX SECONDS: until a line of FILE matches (0) or not (1).
wait_line() {
	local i
	for i in $(seq 1 $(($3 * 20))); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_count FILE REGEX N SECONDS: until N lines of FILE match.
wait_count() {
	local i
	for i in $(seq 1 $(($4 * 20))); do
		[[ $(grep -Ec "$2" "$1" 2>/dev/null) -ge $3 ]] && return 0
		sleep 0.05
	done
	return 1
}

# kill_server: kill -9 the newest server and reap it.
kill_server() {
	kill -KILL "${server_pids[-1]}" 2>/dev/null
	{ wait "${server_pids[-1]}"; } 2>/dev/null
}

rc_fail() {
	result_fail "boot: reconnect: $1"
	sed 's/^/    | /' "$tmp/out" | tail -8
	sed 's/^/    | /' "$tmp/err" | tail -8
}

# ---- 20 restarts while the guest works, no fd growth -------------------------
#
# Every other server maps no guest memory (--no-dma-fd): its DMA goes by
# DMA_READ/DMA_WRITE messages, so some kills land while one is in flight.
restarts=20
if start_server rc; then
	"$UVMM" --device "vfio-user,socket=$SOCK,$RC_DEV,reconnect-timeout=20" \
		--cmdline secs=25 "$G/vfio-user-reconnect.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vmm=$!
	ok=1
	wait_line "$tmp/out" 'restart the server at will' 30 || ok=0
	fds_first= fds_last=
	for i in $(seq 1 $restarts); do
		[[ $ok == 1 ]] || break
		kill_server
		sleep 0.1
		if (( i % 2 )); then
			start_server rc --no-dma-fd || { ok=0; break; }
		else
			start_server rc || { ok=0; break; }
		fi
		wait_count "$tmp/err" 'reconnected after' "$i" 20 || { ok=0; break; }
		fds_last=$(ls "/proc/$vmm/fd" 2>/dev/null | wc -l)
		[[ -n $fds_first ]] || fds_first=$fds_last
		sleep 0.2
	done
	wait_bounded $vmm 120
	status=$?
	lines=$(grep -c '^uvmm: ' "$tmp/err")
	back=$(grep -Ec '^uvmm: vfio-user\[0\] \(.*\): reconnected after [0-9]+ ms \(reconnect [0-9]+, [0-9]+ attempts\); the device.s state was replayed$' "$tmp/err")
	longest_back=$(grep -Eo 'reconnected after [0-9]+ ms' "$tmp/err" | grep -Eo '[0-9]+' | sort -n | tail -1)
	stall=$(grep -Eo 'longest access [0-9]+ us' "$tmp/out" | grep -Eo '[0-9]+')
	if [[ $ok == 1 && $status == 1 && $back == "$restarts" && $lines == "$restarts" &&
	      $fds_first == "$fds_last" ]] &&
	   grep -Eq '^PASS: [0-9]+ rounds exact \(0 wrong\)' "$tmp/out" &&
	   grep -q '^SUMMARY: .* 0 unexpected failures' "$tmp/out" &&
	   ! grep -q '^FAIL' "$tmp/out"; then
		result_pass "boot: reconnect: $restarts server restarts during guest I/O, every round exact, one line each, fds $fds_first before and after (longest guest stall ${stall} us, longest reconnect ${longest_back} ms)"
	else
		rc_fail "$restarts restarts: ok $ok, status $status, $back reconnect lines of $lines, fds $fds_first -> $fds_last"
	fi
	grep -E '^PASS: [0-9]+ rounds|^INFO' "$tmp/out" | sed 's/^/    | /'
fi
stop_servers

# ---- the replay at -v; a server that dies during it -----------------------------
#
# evil passes messages through to a sampledev look-alike and closes the
# connection after the third region info reply: in the middle of the
# replay. uvmm tries again; the next server is a real one.
if start_server replay; then
	"$UVMM" -v --device "vfio-user,socket=$SOCK,$RC_DEV,reconnect-timeout=20" \
		--cmdline secs=6 "$G/vfio-user-reconnect.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vmm=$!
	ok=1
	wait_line "$tmp/out" 'restart the server at will' 30 || ok=0
	kill_server
	"$BUILD/tests/servers/evil" --close-at DEVICE_GET_REGION_INFO:3 "$SOCK" \
		2>"$tmp/evil.log" &
	evil=$!
	wait_line "$tmp/evil.log" 'MISBEHAVE' 20 || ok=0
	{ wait $evil; } 2>/dev/null
	start_server replay || ok=0
	wait_bounded $vmm 60
	status=$?
	sandbox_ok=1
	if [[ ${SANITIZE:-} != 1 ]] &&
	   ! grep -q 'seccomp filter on every thread' "$tmp/err"; then
		sandbox_ok=0
	fi
	if [[ $ok == 1 && $status == 1 && $sandbox_ok == 1 ]] &&
	   grep -q 'failed during the replay' "$tmp/err" &&
	   grep -q 'replay: DMA_MAP of [0-9]* RAM regions' "$tmp/err" &&
	   grep -q 'replay: same device; [0-9]* mmap areas, [0-9]* doorbells' "$tmp/err" &&
	   grep -q 'replay: SET_IRQS MSI-X, 8 vectors' "$tmp/err" &&
	   [[ $(grep -c 'reconnected after' "$tmp/err") == 1 ]] &&
	   grep -q '^SUMMARY: .* 0 unexpected failures' "$tmp/out"; then
		result_pass "boot: reconnect: a server that dies during the replay, then one that takes it (-v traces it)"
	else
		rc_fail "died during the replay: ok $ok, status $status, sandbox $sandbox_ok"
	fi
fi
stop_servers

# ---- a server that dies with its DMA_READ in flight -----------------------------
#
# DMA by messages (--no-dma-fd); the server ends itself (status 9) once
# its 5th DMA_READ request is on the socket, before the client's reply:
# the client finds the connection gone while it serves that request. A
# new server takes over and the guest's round that spanned it runs again.
if start_server dma-read --no-dma-fd --exit-in-dma-read 5; then
	first=${server_pids[-1]}
	"$UVMM" --device "vfio-user,socket=$SOCK,$RC_DEV,reconnect-timeout=20" \
		--cmdline secs=4 "$G/vfio-user-reconnect.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vmm=$!
	ok=1
	wait_bounded "$first" 30
	died=$?
	cp "$tmp/dma-read.log" "$tmp/dma-read-1.log"
	start_server dma-read --no-dma-fd || ok=0
	wait_bounded $vmm 60
	status=$?
	if [[ $ok == 1 && $died == 9 && $status == 1 ]] &&
	   grep -q 'DMA_READ id [0-9]* sent: exiting before its reply' "$tmp/dma-read-1.log" &&
	   [[ $(grep -c 'reconnected after' "$tmp/err") == 1 ]] &&
	   grep -Eq '^PASS: [0-9]+ rounds exact \(0 wrong\)' "$tmp/out" &&
	   grep -q '^SUMMARY: .* 0 unexpected failures' "$tmp/out"; then
		result_pass "boot: reconnect: a server that dies with a DMA_READ in flight, then one that takes over: every round exact"
	else
		rc_fail "died with a DMA_READ in flight: ok $ok, server status $died, uvmm status $status"
	fi
fi
stop_servers

# ---- a different device on the same socket: status 10 --------------------------
#
# uvmm-nvme, an NVMe controller, where the test device was.
if start_server other; then
	"$UVMM" --device "vfio-user,socket=$SOCK,$RC_DEV,reconnect-timeout=20" \
		--cmdline secs=60 "$G/vfio-user-reconnect.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vmm=$!
	ok=1
	wait_line "$tmp/out" 'restart the server at will' 30 || ok=0
	kill_server
	"$BUILD/uvmm-nvme" --size 1M "$SOCK" 2>"$tmp/nvme.log" &
	server_pids+=($!)
	wait_bounded $vmm 60
	status=$?
	if [[ $ok == 1 && $status == 10 ]] &&
	   grep -Eq '^uvmm: vfio-user\[0\] \(.*\): .*; the server came back as a different device: [a-zA-Z ]+ 0x[0-9a-f]+, was 0x[0-9a-f]+$' "$tmp/err" &&
	   [[ $(grep -c '^uvmm: ' "$tmp/err") == 1 ]]; then
		result_pass "boot: reconnect: a different device on the socket ends uvmm with status 10, one line"
	else
		rc_fail "different device: ok $ok, status $status"
	fi
fi
stop_servers

# ---- a server that never comes back: status 10 after reconnect-timeout ---------
if start_server gone; then
	"$UVMM" --device "vfio-user,socket=$SOCK,$RC_DEV,reconnect-timeout=2" \
		--cmdline secs=60 "$G/vfio-user-reconnect.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vmm=$!
	ok=1
	wait_line "$tmp/out" 'restart the server at will' 30 || ok=0
	# Taken before the kill: uvmm cannot have seen the loss earlier.
	start=$(date +%s%N)
	kill_server
	wait_bounded $vmm 60
	status=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	# It waits the whole timeout: never less than the 2 s it was given.
	if [[ $ok == 1 && $status == 10 && $ms -ge 2000 ]] &&
	   grep -Eq '^uvmm: vfio-user\[0\] \(.*\): .*; the server did not come back within (2 s|the reconnect-timeout)' "$tmp/err" &&
	   [[ $(grep -c '^uvmm: ' "$tmp/err") == 1 ]]; then
		result_pass "boot: reconnect: a server that never comes back: status 10, one line, ${ms} ms after the kill (reconnect-timeout=2)"
	else
		rc_fail "never back: ok $ok, status $status, ${ms} ms"
	fi
fi
stop_servers

# ---- SIGTERM while accesses wait for a server: uvmm ends as always ----------------
if start_server term; then
	"$UVMM" --device "vfio-user,socket=$SOCK,$RC_DEV,reconnect-timeout=60" \
		--cmdline secs=60 "$G/vfio-user-reconnect.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vmm=$!
	ok=1
	wait_line "$tmp/out" 'restart the server at will' 30 || ok=0
	kill_server
	sleep 0.5
	kill -TERM $vmm
	# Far below the 60 s the accesses could wait: the stop wakes them.
	wait_bounded $vmm 20
	status=$?
	if [[ $ok == 1 && $status == 143 ]]; then
		result_pass "boot: reconnect: SIGTERM while the device reconnects ends uvmm with 143"
	else
		rc_fail "SIGTERM while reconnecting: ok $ok, status $status"
	fi
fi
stop_servers

# ---- NVMe: the firmware driver resets the controller and loses nothing ---------
#
# uvmm-nvme on a disk image, killed twice and started again on it while
# guest/nvme.c (nvme.mode=reconnect) writes, reads back and checks one
# block at a time: a restarted controller is a fresh one, the driver
# resets it when a command gets no completion and issues it again.
rc_img=$sockdir/rc-nvme.img
truncate -s 8M "$rc_img"
rc_nvme() {
	"$BUILD/uvmm-nvme" --image "$rc_img" "$SOCK" 2>>"$tmp/nvme.log" &
	server_pids+=($!)
}
SOCK=$sockdir/rc-nvme.sock
rc_nvme
if wait_line "$tmp/nvme.log" 'listening' 20; then
	"$UVMM" --device "vfio-user,socket=$SOCK,$RC_DEV,reconnect-timeout=20" \
		--cmdline "nvme.mode=reconnect secs=8" "$G/nvme.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vmm=$!
	ok=1
	wait_line "$tmp/out" 'restart the server at will' 30 || ok=0
	for i in 1 2; do
		[[ $ok == 1 ]] || break
		sleep 1.5
		kill_server
		sleep 0.2
		rc_nvme
		wait_count "$tmp/err" 'reconnected after' "$i" 20 || ok=0
	done
	wait_bounded $vmm 90
	status=$?
	summary=$(grep -Eo '[0-9]+ blocks written and read back exact, [0-9]+ controller resets, lba 0 intact after [0-9]+ of them' "$tmp/out")
	resets=$(grep -c 'resetting the controller' "$tmp/out")
	if [[ $ok == 1 && $status == 1 && -n $summary && $resets -ge 1 ]] &&
	   [[ $(grep -c '^uvmm: ' "$tmp/err") == 2 ]] &&
	   grep -q '^SUMMARY: .* 0 unexpected failures' "$tmp/out" &&
	   ! grep -q '^FAIL' "$tmp/out"; then
		result_pass "boot: reconnect: uvmm-nvme restarted twice under the firmware driver: $summary"
	else
		rc_fail "nvme: ok $ok, status $status, $resets resets"
	fi
else
	result_fail "boot: reconnect: uvmm-nvme did not start"
fi
stop_servers
rm -f "$rc_img"
