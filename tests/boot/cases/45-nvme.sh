# uvmm-nvme: the firmware NVMe driver (guest/nvme.c) against the NVMe
# server, the image checked from the host afterwards, a second client on
# the same server, DMA by messages, and the server killed during I/O;
# then the benchmark's driver (guest/nvme-bench.c) with trapped and with
# eventfd doorbells.
# Sourced by tests/boot/run-boot.sh (boot_case, run_expect, $G, $tmp).

NVME=$BUILD/uvmm-nvme
nvme_dir=$(mktemp -d -p /dev/shm uvmm-nvme.XXXXXX 2>/dev/null || mktemp -d)
nvme_pid=

# nvme_start NAME ARGS...: starts uvmm-nvme on $nvme_dir/NAME.sock and
# waits until it listens. Sets NVME_SOCK.
nvme_start() {
	local name=$1 i
	shift
	NVME_SOCK=$nvme_dir/$name.sock
	NVME_LOG=$nvme_dir/$name.log
	"$NVME" "$@" "$NVME_SOCK" 2>"$NVME_LOG" &
	nvme_pid=$!
	for i in $(seq 1 100); do
		grep -q "listening on" "$NVME_LOG" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "    | uvmm-nvme did not start:"
	sed 's/^/    | /' "$NVME_LOG"
	return 1
}

# nvme_stop: SIGTERM, then the status it exited with in NVME_STATUS.
nvme_stop() {
	local i
	NVME_STATUS=none
	[[ -n $nvme_pid ]] || return
	kill "$nvme_pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$nvme_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$nvme_pid" 2>/dev/null
	wait "$nvme_pid" 2>/dev/null
	NVME_STATUS=$?
	nvme_pid=
}

# nvme_block_ok IMAGE BS LBA: the block starts with the driver's header.
nvme_block_ok() {
	local want
	want=$(printf 'uvmm-nvme lba %08x' "$3")
	[[ $(dd if="$1" bs="$2" skip="$3" count=1 2>/dev/null | head -c 22) == "$want" ]]
}

# nvme_zero IMAGE BS LBA COUNT: those blocks are all zeros.
nvme_zero() {
	cmp -s <(dd if="$1" bs="$2" skip="$3" count="$4" 2>/dev/null) \
		<(head -c $(($2 * $4)) /dev/zero)
}

# The image as guest/nvme.c leaves it: the pattern everywhere but the
# Write Zeroes (64-79) and deallocated (256-383) blocks.
nvme_check_image() {
	local name=$1 img=$2 bs=$3 blocks=$4 lba bad=
	for lba in 0 1 8 63 80 255 384 1000 $((blocks / 2)) $((blocks - 1)); do
		nvme_block_ok "$img" "$bs" "$lba" || bad="$bad $lba"
	done
	nvme_zero "$img" "$bs" 64 16 || bad="$bad zero-64"
	nvme_zero "$img" "$bs" 256 128 || bad="$bad dealloc-256"
	if [[ -z $bad ]]; then
		result_pass "boot: $name: the host finds the pattern and the zeroed blocks in the image"
	else
		result_fail "boot: $name: image blocks wrong:$bad"
	fi
}

img=$nvme_dir/disk.img
truncate -s 8M "$img"
if nvme_start disk --image "$img" --serial NVMETEST01; then
	boot_case "nvme: firmware driver on uvmm-nvme --image (512-byte blocks)" 1 \
'^PASS: .*16384 blocks of 512 bytes
^PASS: wrote the pattern over all 16384 blocks
^PASS: read all 16384 blocks back
^PASS: every I/O queue raised its own MSI-X vector
^PASS: read all 16384 blocks back with shadow doorbells
^PASS: three commands run on a shadow tail the register did not name
^PASS: Write Zeroes
^PASS: Dataset Management deallocate
^PASS: AER: Invalid Doorbell Write Value
^PASS: normal shutdown
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$NVME_SOCK" "$G/nvme.elf"
	# The server outlives its client and takes the next one.
	if kill -0 "$nvme_pid" 2>/dev/null; then
		boot_case "nvme: a second client on the same server, malformed commands only" 1 \
'^PASS: .*Invalid Opcode
^PASS: .*Invalid Queue Deletion
^PASS: the controller still reads after all that
^SUMMARY: .* 0 unexpected failures' -- \
			--cmdline nvme.mode=malformed \
			--device "vfio-user,socket=$NVME_SOCK" "$G/nvme.elf"
	else
		result_fail "boot: nvme: uvmm-nvme exited when its first client left"
	fi
	nvme_stop
	if [[ $NVME_STATUS == 0 && ! -e $NVME_SOCK ]]; then
		result_pass "boot: nvme: SIGTERM: uvmm-nvme flushed, removed its socket and exited 0"
	else
		result_fail "boot: nvme: SIGTERM: status $NVME_STATUS, socket $( [[ -e $NVME_SOCK ]] && echo left || echo gone)"
		sed 's/^/    | /' "$NVME_LOG" | tail -5
	fi
	if [[ $(stat -c %s "$img") == $((8 * 1024 * 1024)) ]]; then
		nvme_check_image "nvme (512)" "$img" 512 16384
	else
		result_fail "boot: nvme: the image changed size ($(stat -c %s "$img"))"
	fi
else
	result_fail "boot: nvme: uvmm-nvme did not start"
fi
nvme_stop

# 4 KiB blocks on a memory disk, every DMA by DMA_READ/DMA_WRITE messages.
if nvme_start mem --size 4M --block-size 4096 --no-dma-fd; then
	boot_case "nvme: 4 KiB blocks, memory disk, DMA by messages (--no-dma-fd)" 1 \
'^PASS: .*1024 blocks of 4096 bytes
^PASS: read all 1024 blocks back
^PASS: Dataset Management deallocate
^SUMMARY: .* 0 unexpected failures' -- \
		--device "vfio-user,socket=$NVME_SOCK" "$G/nvme.elf"
else
	result_fail "boot: nvme: uvmm-nvme --size did not start"
fi
nvme_stop

# INTx instead of MSI-X: level-triggered through the IOAPIC, INTMS/INTMC.
# --io-threads 0: every command on the message loop's thread (the other
# cases use the I/O threads).
if nvme_start intx --size 1M --io-threads 0; then
	boot_case "nvme: INTx, masked by INTMS and unmasked by INTMC" 1 \
'^PASS: INTx: a read completed through its level interrupt
^PASS: INTx: INTMS held the line back
^PASS: INTx: INTMC let the unread completion assert the line
^SUMMARY: .* 0 unexpected failures' -- \
		--cmdline nvme.mode=intx \
		--device "vfio-user,socket=$NVME_SOCK" "$G/nvme.elf"
fi
nvme_stop

# A read-only image: the driver's writes fail, so its run fails; the
# image is untouched.
img=$nvme_dir/ro.img
head -c 1048576 /dev/urandom >"$img"
sum_before=$(md5sum <"$img")
if nvme_start ro --image "$img" --readonly; then
	boot_case "nvme: --readonly: writes refused, the image untouched" 3 \
'^PASS: Identify Namespace 1
^INFO: queue 1: status 0x20
^FAIL: wrote the pattern' -- \
		--device "vfio-user,socket=$NVME_SOCK" "$G/nvme.elf"
	if [[ $(md5sum <"$img") == "$sum_before" ]]; then
		result_pass "boot: nvme: --readonly image unchanged"
	else
		result_fail "boot: nvme: --readonly image changed"
	fi
fi
nvme_stop

# The server killed in the middle of the driver's writes: status 10.
img=$nvme_dir/kill.img
truncate -s 8M "$img"
if nvme_start kill --image "$img"; then
	"$UVMM" --timeout 60 --cmdline nvme.mode=hang \
		--device "vfio-user,socket=$NVME_SOCK,timeout-ms=2000" \
		"$G/nvme.elf" >"$tmp/nvme-kill.out" 2>&1 </dev/null &
	uvmm_pid=$!
	for i in $(seq 1 200); do
		grep -q "writing until stopped" "$tmp/nvme-kill.out" && break
		sleep 0.05
	done
	sleep 0.2
	kill -KILL "$nvme_pid"
	wait "$nvme_pid" 2>/dev/null
	nvme_pid=
	for i in $(seq 1 100); do
		kill -0 "$uvmm_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$uvmm_pid" 2>/dev/null
	wait "$uvmm_pid"
	st=$?
	if [[ $st == 10 ]] && grep -q "writing until stopped" "$tmp/nvme-kill.out" &&
		grep -q '^uvmm: vfio-user' "$tmp/nvme-kill.out"; then
		result_pass "boot: nvme: server killed during I/O: status 10 ($(grep -m1 '^uvmm: ' "$tmp/nvme-kill.out"))"
	else
		result_fail "boot: nvme: server killed during I/O: status $st"
		sed 's/^/    | /' "$tmp/nvme-kill.out" | tail -5
	fi
fi
nvme_stop

# The benchmark's driver (guest/nvme-bench.c, make bench row 9) briefly:
# with --doorbells eventfd the I/O SQ tail doorbells are ioeventfds that
# carry no value, so only a guest with shadow doorbells gets its commands
# run; and the default trapped doorbells with a guest ringing registers.
nvme_bench_case() {	# nvme_bench_case NAME "SERVER OPTIONS" "GUEST ARGS" DOORBELLS EXTRA
	local img=$nvme_dir/bench.img
	rm -f "$img"
	truncate -s 4M "$img"
	# shellcheck disable=SC2086 # the options are words
	if ! nvme_start bench $2 --image "$img"; then
		result_fail "boot: $1: uvmm-nvme did not start"
		return
	fi
	boot_case "$1" 1 \
"^BENCH-START n=20 region=4 MiB depth=32 batch=32 doorbells=$4
^BENCH nvmeb_rd_qd1 ticks 1 [0-9]+
^BENCH nvmeb_wr_qd1 ticks 1 [0-9]+
^BENCH nvmeb_rd_qd32 ticks 32 [0-9]+
^BENCH nvmeb_wr_qd32 ticks 32 [0-9]+
^INFO: check: 1024 I/Os
^PASS: every command completed
^PASS: every read found its block's latest stamp
^SUMMARY: .* 0 unexpected failures$5" -- \
		-v --timeout 120 --device "vfio-user,socket=$NVME_SOCK" \
		--cmdline "nvmeb.n=20 nvmeb.mib=4 $3" "$G/nvme-bench.elf"
	nvme_stop
}
nvme_bench_case "nvme-bench: --doorbells eventfd, guest with shadow doorbells" \
	"--doorbells eventfd" "nvmeb.shadow=1" shadow \
	$'\n^uvmm: .*vfio-user\\[0\\].*BAR0: 4 doorbells taken as KVM ioeventfds'
nvme_bench_case "nvme-bench: trapped doorbells, guest ringing the registers" \
	"" "" mmio ''
rm -rf "$nvme_dir"
