# The project's vfio-user test servers for boot cases: start one on a
# socket and wait until it listens, stop them all, wait for a background
# uvmm with a bound. Sourced by tests/boot/run-boot.sh, so every case file
# (and BOOT_ONLY runs of one) has them.

SAMPLEDEV=$BUILD/tests/servers/sampledev
server_pids=()
# UNIX sockets need a local filesystem: /dev/shm is tmpfs on any Linux,
# including inside tests/kvm-host, where /tmp is the host's over 9p.
sockdir=$(mktemp -d -p /dev/shm uvmm-vfu.XXXXXX 2>/dev/null || mktemp -d)

# start_server NAME [ARGS...]: starts sampledev on $tmp/NAME.sock and waits
# until it listens. Sets SOCK.
start_server() {
	local name=$1 i
	shift
	SOCK=$sockdir/$name.sock
	"$SAMPLEDEV" "$@" "$SOCK" 2>"$tmp/$name.log" &
	server_pids+=($!)
	for i in $(seq 1 100); do
		grep -q "listening on" "$tmp/$name.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "    | sampledev did not start:"
	sed 's/^/    | /' "$tmp/$name.log"
	return 1
}

# Every server must be gone once its test is over: no leftover processes.
stop_servers() {
	local pid i ticks=50
	# A sanitizer report is written while its stack is symbolized, which
	# takes seconds on a loaded machine: let it finish, or the sweep
	# finds a report cut after its first lines.
	[[ ${SANITIZE:-} == 1 ]] && ticks=300
	for pid in "${server_pids[@]}"; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
		# A server that ignores SIGTERM must not hang the suite.
		for i in $(seq 1 "$ticks"); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
	done
	server_pids=()
}

# wait_bounded PID SECONDS: wait for a background uvmm, killing it (status
# 137) if it runs past SECONDS, so a hang is a failure, never a stall.
wait_bounded() {
	local pid=$1 limit=$2 i
	for i in $(seq 1 $((limit * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
}
