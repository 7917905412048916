# vfio-user: guests driving tests/servers/sampledev through uvmm's client,
# and the failure paths (server killed, hung, absent). Sourced by
# tests/boot/run-boot.sh, which provides boot_case, run_expect, $G, $tmp.

vfu_case() {	# vfu_case NAME STATUS REGEXES PROGRAM [UVMM ARGS...]
	local name=$1 want=$2 pats=$3 prog=$4
	shift 4
	if start_server dev0; then
		boot_case "$name" "$want" "$pats" -- \
			--device "vfio-user,socket=$SOCK" "$@" "$G/$prog.elf"
	else
		result_fail "boot: $name: server did not start"
	fi
	stop_servers
}

vfu_case "vfio-user: IDs, BARs, config and BAR0 registers" 1 \
'^PASS: .*5555:0001
^PASS: .*BAR0
^PASS: .*scratch
^SUMMARY: .* 0 unexpected failures' vfio-user-basic

# Posted BAR writes: every one reaches the server, in order, before a
# later read; the server counts the NO_REPLY ones.
vfu_case "vfio-user: posted BAR0 writes arrive in order (posted-writes on)" 1 \
'^PASS: batch 1: 64 writes arrived in order
^PASS: batch 2: 64 writes arrived in order
^batch 1: 64 of 64 writes posted
^batch 2: 64 of 64 writes posted
^PASS: a config space write is not posted
^SUMMARY: .* 0 unexpected failures' vfio-user-posted

# Polling on both sides (poll-us): the same exact results, in order.
if start_server polling --poll-us 500; then
	boot_case "vfio-user: the server and uvmm poll 500 us before sleeping: posted writes, reads and doorbells exact" 1 \
'^PASS: batch 1: 64 writes arrived in order
^PASS: batch 2: 64 writes arrived in order
^PASS: a config space write is not posted
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$SOCK,poll-us=500" \
		"$G/vfio-user-posted.elf"
fi
stop_servers
if start_server polling-irq --poll-us 500; then
	boot_case "vfio-user: interrupts with the server and uvmm polling" 1 \
'^PASS: MSI-X vector 0 raised by the server.s ioeventfd doorbell thread
^PASS: INTx left asserted at the EOI delivered again
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$SOCK,poll-us=500" \
		"$G/vfio-user-irq.elf"
fi
stop_servers

if start_server posted-off; then
	boot_case "vfio-user: posted-writes=off sends every write with a reply" 1 \
'^PASS: batch 2: 64 writes arrived in order
^batch 1: 0 of 64 writes posted
^batch 2: 0 of 64 writes posted
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$SOCK,posted-writes=off" \
		"$G/vfio-user-posted.elf"
fi
stop_servers

# A server that answers NO_REPLY writes anyway (as Cloud Hypervisor's
# does): the replies are dropped, posting stops for that server after the
# first such reply is seen (by the reads after batch 1 at the latest), the
# connection lives on.
if start_server reply-always --reply-always; then
	boot_case "vfio-user: a server that answers posted writes: replies dropped, posting stops" 1 \
'server replied to posted \(NO_REPLY\) REGION_WRITE id [0-9]+: reply dropped
^PASS: batch 1: 64 writes arrived in order
^PASS: batch 2: 64 writes arrived in order
^batch 1: [1-9][0-9]* of 64 writes posted
^batch 2: 0 of 64 writes posted
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$SOCK" "$G/vfio-user-posted.elf"
fi
stop_servers

# ioeventfd doorbells from DEVICE_GET_REGION_IO_FDS: the server counts
# eventfd signals and no REGION_WRITE for them; they follow BAR0.
vfu_case "vfio-user: ioeventfd doorbells signal the server without a message" 1 \
'^PASS: doorbell rung 32 times: 32 eventfd signals \(want 32\), 0 by message
^PASS: datamatch doorbell: 1 match, 3 other values
^PASS: decoding off: no signal
^PASS: old BAR0 address: no signal
^PASS: BAR0 moved: doorbell rung 5 times there
^SUMMARY: .* 0 unexpected failures' vfio-user-doorbell

vfu_case "vfio-user: mmap-able BAR2 both ways" 1 \
'^PASS: .*BAR2
^SUMMARY: .* 0 unexpected failures' vfio-user-mmap

vfu_case "vfio-user: DMA through the server's mapping of guest RAM" 1 \
'^PASS: .*DMA
^SUMMARY: .* 0 unexpected failures' vfio-user-dma

if start_server nodmafd --no-dma-fd; then
	boot_case "vfio-user: DMA through DMA_READ/DMA_WRITE messages (--no-dma-fd)" 1 \
'^PASS: .*DMA
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$SOCK" "$G/vfio-user-dma.elf"
fi
stop_servers

vfu_case "vfio-user: MSI-X, MSI and INTx each delivered once; INTx left asserted fires again; an ioeventfd doorbell raises MSI-X" 1 \
'^PASS: .*MSI-X
^PASS: MSI-X vector 0 raised by the server.s ioeventfd doorbell thread
^PASS: .*MSI
^PASS: .*INTx
^PASS: INTx left asserted at the EOI delivered again
^SUMMARY: .* 0 unexpected failures' vfio-user-irq

vfu_case "vfio-user: device reset" 1 \
'^PASS: .*reset
^SUMMARY: .* 0 unexpected failures' vfio-user-reset

# -vv names what a REGION_READ/WRITE was about: BAR0's ID register read
# (region 0, offset 0, 4 bytes) and the value the server gave.
vfu_case "vfio-user: -vv traces a BAR read with region, offset, length and value" 1 \
'REGION_READ id [0-9]+ size 32 region 0 offset 0 len 4 value 0x75766d6d -> reply 20
REGION_WRITE id [0-9]+ size 34 region 7 offset 0x4 len 2 value 0x[0-9a-f]+ ->
^SUMMARY: .* 0 unexpected failures' vfio-user-basic -vv

# sampledev --strict-pci acts on its own config space as QEMU's vfio-user
# server does: BAR accesses are refused until the BAR is programmed and
# decoding is on there, MSI-X fires only when enabled there and unmasked
# by SET_IRQS. uvmm must keep the server's copy in step (write-through of
# the header and the MSI/MSI-X capabilities, SET_IRQS MASK/UNMASK).
strict_case() {	# strict_case NAME REGEXES PROGRAM
	if start_server strict --strict-pci; then
		boot_case "vfio-user --strict-pci: $1" 1 "$2" -- \
			--device "vfio-user,socket=$SOCK" "$G/$3.elf"
	else
		result_fail "boot: vfio-user --strict-pci: $1: server did not start"
	fi
	stop_servers
}

strict_case "BAR0 registers once uvmm programmed BARs and COMMAND" \
'^PASS: .*BAR0
^PASS: .*scratch
^SUMMARY: .* 0 unexpected failures' vfio-user-basic
strict_case "MSI-X, MSI and INTx each delivered once" \
'^PASS: .*MSI-X
^PASS: .*MSI
^PASS: .*INTx
^SUMMARY: .* 0 unexpected failures' vfio-user-irq
strict_case "DMA" \
'^PASS: .*DMA
^SUMMARY: .* 0 unexpected failures' vfio-user-dma
strict_case "mmap-able BAR2" \
'^PASS: .*BAR2
^SUMMARY: .* 0 unexpected failures' vfio-user-mmap
strict_case "device reset" \
'^PASS: .*reset
^SUMMARY: .* 0 unexpected failures' vfio-user-reset

if start_server a && sock_a=$SOCK && start_server b; then
	boot_case "vfio-user: two servers in two slots" 1 \
'^PASS: .*two devices
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$sock_a" --device "vfio-user,socket=$SOCK" \
		"$G/vfio-user-two.elf"
fi
stop_servers

# A machine reset ends uvmm; the device is reset with it (sampledev counts:
# once at attach, once after the guest's reset).
if start_server rst -v; then
	boot_case "vfio-user: the guest's reset resets the device" 0 \
'^reset: pulsing the reset line' -- \
		--device "vfio-user,socket=$SOCK" "$G/reset.elf" &&
	if grep -q 'DEVICE_RESET: reset 2$' "$tmp/rst.log"; then
		result_pass "boot: vfio-user: DEVICE_RESET reached the server after the guest's reset"
	else
		result_fail "boot: vfio-user: no second DEVICE_RESET after the guest's reset"
		sed 's/^/    | /' "$tmp/rst.log" | tail -5
	fi
fi
stop_servers

# ---- failures: status 10, one clear line, no hang, no leftover process.

if run_expect "boot: vfio-user: no server" 10 "$tmp/out" -- "$UVMM" \
	--device "vfio-user,socket=$sockdir/absent.sock" "$G/hello.elf"; then
	expect_lines "boot: vfio-user: no server" "$tmp/out" \
		'vfio-user\[0\]: cannot connect to .*absent.sock' &&
		result_pass "boot: vfio-user: no server exits 10 naming it"
fi

if run_expect "boot: vfio-user: wait=1 for a server that never comes" 10 \
	"$tmp/out" -- "$UVMM" --device "vfio-user,socket=$sockdir/late.sock,wait=1" \
	"$G/hello.elf"; then
	if (( LAST_MS >= 1000 )); then
		result_pass "boot: vfio-user: wait=1 retries, then exits 10"
	else
		result_fail "boot: vfio-user: wait=1 gave up after ${LAST_MS} ms"
	fi
fi

# A server that starts after uvmm: wait= lets a CI script start both at once.
( sleep 1; exec "$SAMPLEDEV" "$sockdir/later.sock" 2>"$tmp/later.log" ) &
later=$!
boot_case "vfio-user: wait=10 finds a server that starts later" 1 \
'^SUMMARY: .* 0 unexpected failures' -- \
	--device "vfio-user,socket=$sockdir/later.sock,wait=10" "$G/vfio-user-basic.elf"
kill -KILL $later 2>/dev/null; { wait $later; } 2>/dev/null
pkill -f "$sockdir/later.sock" 2>/dev/null

# Killed in the middle of a guest test: the guest keeps poking BAR0.
if start_server killed; then
	"$UVMM" --device "vfio-user,socket=$SOCK,timeout-ms=1000" \
		"$G/vfio-user-loop.elf" >"$tmp/out" 2>&1 </dev/null &
	vmm=$!
	sleep 2
	kill -KILL "${server_pids[-1]}"
	start=$(date +%s%N)
	wait_bounded $vmm 60
	status=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [[ $status == 10 ]] && grep -Eq '^uvmm: vfio-user\[0\] \(' "$tmp/out"; then
		result_pass "boot: vfio-user: server killed mid-test exits 10 (${ms} ms after the kill)"
	else
		result_fail "boot: vfio-user: server killed mid-test: status $status"
		sed 's/^/    | /' "$tmp/out" | tail -5
	fi
fi
stop_servers

# Stopped (SIGSTOP): it never answers; the timeout must fire.
if start_server hung; then
	"$UVMM" --device "vfio-user,socket=$SOCK,timeout-ms=500" \
		"$G/vfio-user-loop.elf" >"$tmp/out" 2>&1 </dev/null &
	vmm=$!
	sleep 2
	kill -STOP "${server_pids[-1]}"
	start=$(date +%s%N)
	wait_bounded $vmm 60
	status=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	kill -CONT "${server_pids[-1]}"
	if [[ $status == 10 ]] && grep -Eq '^uvmm: vfio-user\[0\] \(.*(timed out|timeout|no reply)' "$tmp/out"; then
		result_pass "boot: vfio-user: hung server exits 10 after the timeout (${ms} ms after SIGSTOP)"
	else
		result_fail "boot: vfio-user: hung server: status $status"
		sed 's/^/    | /' "$tmp/out" | tail -5
	fi
fi
stop_servers

# on-error=continue: the VM goes on, the dead device reads all-ones.
if start_server cont; then
	"$UVMM" --device "vfio-user,socket=$SOCK,timeout-ms=500,on-error=continue" \
		--timeout 8 "$G/vfio-user-loop.elf" >"$tmp/out" 2>&1 </dev/null &
	vmm=$!
	sleep 2
	kill -KILL "${server_pids[-1]}"
	wait_bounded $vmm 60
	status=$?
	if [[ $status == 1 ]] && grep -q 'on-error=continue' "$tmp/out" &&
	   grep -q 'all-ones after the server died' "$tmp/out" && ! grep -q '^FAIL' "$tmp/out"; then
		result_pass "boot: vfio-user: on-error=continue keeps the VM running, device reads all-ones"
	else
		result_fail "boot: vfio-user: on-error=continue: status $status"
		sed 's/^/    | /' "$tmp/out" | tail -8
	fi
fi
stop_servers

