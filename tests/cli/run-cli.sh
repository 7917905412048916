#!/bin/bash
# Command-line and bad-image cases: each gets its documented status and one
# line on stderr naming the problem. None of them needs KVM: uvmm checks
# the command line and the image before it opens /dev/kvm.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cli_case NAME STATUS STDERR_REGEX -- ARGS...
cli_case() {
	local name=$1 want=$2 pat=$3
	shift 4
	run_expect "cli: $name" "$want" "$tmp/out" -- "$UVMM" "$@" || return
	expect_lines "cli: $name" "$tmp/out" "$pat" || return
	# A refusal is one line naming the problem, not a page of log.
	if [[ $want != 0 && $(wc -l <"$tmp/out") -ne 1 ]]; then
		result_fail "cli: $name: $(wc -l <"$tmp/out") lines on stderr, expected one"
		sed 's/^/    | /' "$tmp/out" | head -5
		return
	fi
	result_pass "cli: $name"
}

hello=$BUILD/guest/hello.elf

cli_case "--help prints usage" 0 "^usage: uvmm" -- --help
cli_case "--version" 0 "^uvmm [0-9]+\.[0-9]+" -- --version
cli_case "unknown flag" 2 "unknown option '--bogus'" -- --bogus
cli_case "missing image" 2 "no image given" --
cli_case "option without value" 2 "needs a value" -- "$hello" --memory
cli_case "--memory 0" 2 "--memory" -- --memory 0 "$hello"
cli_case "--memory 1T" 2 "--memory: 1T is outside" -- --memory 1T "$hello"
cli_case "--cpus 0" 2 "--cpus" -- --cpus 0 "$hello"
cli_case "--cpus 1000" 2 "--cpus" -- --cpus 1000 "$hello"
# Bad input is status 2 and one line, never "host setup failed" (4) with a
# library's line and the VM's on top of it.
cli_case "--cmdline of 70,000 bytes" 2 "^uvmm: --cmdline is 70000 bytes, at most 32767$" -- \
	--cmdline "$(printf '%070000d' 0)" "$hello"
cli_case "--sandbox maybe" 2 "--sandbox: 'maybe' is not on or off" -- --sandbox maybe "$hello"
cli_case "malformed --device" 2 "--device: unknown key" -- \
	--device vfio-user,socket=/x,bogus=1 "$hello"
cli_case "--device socket path too long" 2 "longer than" -- \
	--device "vfio-user,socket=/$(printf 'a%.0s' {1..200})" "$hello"
cli_case "nonexistent image" 6 "/nonexistent.elf: No such file" -- /nonexistent.elf
cli_case "directory as image" 6 "not a regular file" -- /tmp
mkfifo "$tmp/fifo"
cli_case "FIFO as image" 6 "not a regular file" -- "$tmp/fifo"
: >"$tmp/empty"
cli_case "zero-length image" 6 "empty" -- "$tmp/empty"
head -c 40 "$hello" >"$tmp/truncated.elf"
cli_case "truncated ELF" 6 "truncated" -- "$tmp/truncated.elf"
head -c 8000 "$hello" >"$tmp/cut.elf"
cli_case "ELF cut in its segments" 6 "past the end of the file" -- "$tmp/cut.elf"
perl tests/lib/elf-patch.pl "$hello" "$tmp/nonote.elf" drop-pvh-note
cli_case "ELF without PVH note" 6 "no PVH entry note" -- "$tmp/nonote.elf"
cli_case "ELF that is not an executable" 6 "not an executable" -- "$UVMM"
# Multiboot (guest/multiboot/ and hand-made headers).
mb=$BUILD/guest/multiboot.elf
mb_header() { perl -e 'my ($f, @a) = @ARGV;
	print pack("V*", 0x1badb002, $f, (-(0x1badb002 + $f)) & 0xffffffff, @a),
	      "\0" x 64' -- "$@"; }
mb_header 4 >"$tmp/mb-video.bin"
cli_case "Multiboot header asking for a video mode" 6 "a video mode" -- "$tmp/mb-video.bin"
mb_header 0 >"$tmp/mb-noelf.bin"
cli_case "Multiboot header, not an ELF, no address fields" 6 \
	"not an ELF file and its header has no address fields" -- "$tmp/mb-noelf.bin"
mb_header $((1 << 16)) 0x1000 0x1000 0 0 0x1000 >"$tmp/mb-low.bin"
cli_case "Multiboot load address below 1 MiB" 6 "below 1 MiB" -- "$tmp/mb-low.bin"
head -c 6000 "$mb" >"$tmp/mb-cut.elf"
cli_case "Multiboot ELF cut in its segments" 6 "past the end of the file" -- "$tmp/mb-cut.elf"
perl tests/lib/elf-patch.pl "$BUILD/guest-obj/multiboot64.elf" "$tmp/mb64.elf" drop-pvh-note
cli_case "Multiboot ELF that is 64-bit" 6 "a Multiboot ELF must be 32-bit" -- "$tmp/mb64.elf"
cli_case "Multiboot module missing" 6 "/nonexistent.mod: No such file" -- \
	--initrd /nonexistent.mod "$mb"
head -c 1536K /dev/zero >"$tmp/mod1m5.bin"
cli_case "Multiboot module too big for RAM" 6 \
	"Multiboot module 0 \(1572864 bytes\) does not fit in low RAM" -- \
	--memory 2M --initrd "$tmp/mod1m5.bin" "$mb"
head -c 65536 /dev/urandom >"$tmp/random.bin"
head -c 3M /dev/zero >"$tmp/random3m.bin"
cli_case "random bytes" 6 "unknown image format" -- "$tmp/random.bin"
perl tests/lib/elf-patch.pl "$hello" "$tmp/big.elf" grow-bss $((64 << 20))
cli_case "RAM too small for the image" 6 "does not fit in guest RAM.*needs at least 65 MiB" -- \
	--memory 16M "$tmp/big.elf"
cli_case "image file larger than RAM" 6 "do not fit in 2 MiB" -- \
	--memory 2M "$tmp/random3m.bin"

# ELF program headers that lie about where segments go.
elf_case() {	# elf_case NAME REGEX N ADDR: PT_LOAD N moved to ADDR
	perl tests/lib/elf-patch.pl "$hello" "$tmp/moved.elf" set-paddr "$3" "$4"
	cli_case "$1" 6 "$2" -- "$tmp/moved.elf"
}
elf_case "ELF segments overlapping" "ELF segments overlap at 0x100000" 1 0x100000
elf_case "ELF segment below 1 MiB" "below 1 MiB" 0 0x1000
elf_case "ELF segment outside RAM" "segment 1 .* does not fit in guest RAM" 1 0x200000000
elf_case "ELF segment wrapping around" "wraps around the address space" 1 0xfffffffffffff000

# bzImages (our probe) with a lying setup header: patch_bytes FILE OFF BYTES.
probe=$BUILD/guest/bzimage-probe
patch_bytes() { printf "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none; }
bz_case() {	# bz_case NAME REGEX OFFSET BYTES [HEAD_BYTES]
	if [[ -n ${5:-} ]]; then head -c "$5" "$probe" >"$tmp/bz"; else cp "$probe" "$tmp/bz"; fi
	[[ -n $3 ]] && patch_bytes "$tmp/bz" "$3" "$4"
	cli_case "$1" 6 "$2" -- "$tmp/bz"
}
bz_case "truncated bzImage" "bzImage is truncated: syssize says" "" "" 20000
bz_case "bzImage cut inside its setup" "bzImage setup is 1024 bytes but the file has 1024" "" "" 1024
bz_case "bzImage whose syssize lies" "syssize says 4294967280 bytes" 0x1f4 '\xff\xff\xff\x0f'
bz_case "bzImage whose setup_sects lies" "setup is 131072 bytes but the file has" 0x1f1 '\xff'
bz_case "bzImage of boot protocol 2.05" "protocol 2.05 is too old" 0x206 '\x05\x02'
bz_case "bzImage not loaded high" "not loaded high" 0x211 '\x00'
bz_case "bzImage with init_size 0" "init_size is 0" 0x260 '\x00\x00\x00\x00'
bz_case "bzImage with a bad kernel_alignment" "kernel_alignment 0x300 is not a power of two" 0x230 '\x00\x03\x00\x00'
head -c 65536 /dev/urandom >"$tmp/bzrand"
printf 'HdrS' | dd of="$tmp/bzrand" bs=1 seek=$((0x202)) conv=notrunc status=none
cli_case "random bytes with a HdrS signature" 6 "bzImage" -- "$tmp/bzrand"
cli_case "--initrd that does not exist" 6 "/nonexistent.img: No such file" -- \
	--initrd /nonexistent.img "$probe"

# Malformed --device strings.
cli_case "--device without socket" 2 "socket=PATH is required" -- --device vfio-user "$hello"
cli_case "--device empty socket path" 2 "empty socket path" -- --device vfio-user,socket= "$hello"
cli_case "--device of an unknown type" 2 "unknown device type 'nvme'" -- --device nvme,socket=/x "$hello"
cli_case "--device with a key twice" 2 "socket given twice" -- \
	--device vfio-user,socket=/x,socket=/y "$hello"
cli_case "--device pci-testdev twice" 2 "pci-testdev given twice" -- \
	--device pci-testdev --device pci-testdev "$hello"
cli_case "--device pci-testdev with options" 2 "pci-testdev takes no options" -- \
	--device pci-testdev,socket=/x "$hello"
cli_case "--device pc-testdev twice" 2 "pc-testdev given twice" -- \
	--device pc-testdev --device pci-testdev --device pc-testdev "$hello"
cli_case "--device pc-testdev with options" 2 "pc-testdev takes no options" -- \
	--device pc-testdev,iobase=0xe0 "$hello"
cli_case "--device pc-testdevx" 2 "unknown device type 'pc-testdevx'" -- \
	--device pc-testdevx "$hello"
cli_case "--device with a stray comma" 2 "empty item" -- --device vfio-user,,socket=/x "$hello"
cli_case "--device timeout-ms not a number" 2 "timeout-ms 'abc'" -- \
	--device vfio-user,socket=/x,timeout-ms=abc "$hello"
cli_case "--device timeout-ms 0" 2 "timeout-ms '0'" -- \
	--device vfio-user,socket=/x,timeout-ms=0 "$hello"
cli_case "--device on-error of neither kind" 2 "on-error must be stop, continue or reconnect" -- \
	--device vfio-user,socket=/x,on-error=maybe "$hello"
cli_case "--device reconnect-timeout without on-error=reconnect" 2 \
	"reconnect-timeout needs on-error=reconnect" -- \
	--device vfio-user,socket=/x,reconnect-timeout=5 "$hello"
cli_case "--device reconnect-timeout of 0" 2 \
	"reconnect-timeout '0' is not a number of seconds in 1-3600" -- \
	--device vfio-user,socket=/x,on-error=reconnect,reconnect-timeout=0 "$hello"
cli_case "--device posted-writes of neither kind" 2 "posted-writes must be on or off, not 'yes'" -- \
	--device vfio-user,socket=/x,posted-writes=yes "$hello"
cli_case "--device posted-writes twice" 2 "posted-writes given twice" -- \
	--device vfio-user,socket=/x,posted-writes=on,posted-writes=off "$hello"
cli_case "--device poll-us past its limit" 2 "poll-us '20000' is not a number of microseconds in 0-10000" -- \
	--device vfio-user,socket=/x,poll-us=20000 "$hello"
cli_case "--device poll-us not a number" 2 "poll-us 'x' is not a number" -- \
	--device vfio-user,socket=/x,poll-us=x "$hello"
cli_case "--device wait negative" 2 "wait '-1'" -- --device vfio-user,socket=/x,wait=-1 "$hello"
cli_case "--device empty" 2 "empty device string" -- --device "" "$hello"

# --bios: a raw ROM of 1 byte to 64 KiB, alone (no IMAGE).
: >"$tmp/empty.rom"
cli_case "--bios with an empty ROM" 6 "empty\.rom: the file is empty" -- --bios "$tmp/empty.rom"
head -c $((64 * 1024 + 1)) /dev/zero >"$tmp/big.rom"
cli_case "--bios with a ROM over 64 KiB" 6 \
	"big\.rom: 65537 bytes do not fit in the 64 KiB ROM window" -- --bios "$tmp/big.rom"
cli_case "--bios that is a directory" 6 "not a regular file" -- --bios /tmp
cli_case "--bios together with IMAGE" 2 "--bios runs the ROM alone.*not both" -- \
	--bios "$BUILD/guest/hello-rom.bin" "$hello"

# uvmm-nvme's command line and bad images: status 2 for the command line,
# 1 for an image or socket it cannot use, one line on stderr either way.
nvme_cli_case() {
	local name=$1 want=$2 pat=$3
	shift 4
	run_expect "cli: uvmm-nvme: $name" "$want" "$tmp/out" -- \
		"$BUILD/uvmm-nvme" "$@" || return
	expect_lines "cli: uvmm-nvme: $name" "$tmp/out" "$pat" || return
	if [[ $want != 0 && $(wc -l <"$tmp/out") -ne 1 ]]; then
		result_fail "cli: uvmm-nvme: $name: $(wc -l <"$tmp/out") lines on stderr, expected one"
		sed 's/^/    | /' "$tmp/out" | head -5
		return
	fi
	result_pass "cli: uvmm-nvme: $name"
}

nsock=$tmp/nvme.sock
head -c 100 /dev/zero >"$tmp/tiny.img"
nvme_cli_case "--help prints usage" 0 "^usage: uvmm-nvme" -- --help
nvme_cli_case "no socket" 2 "no SOCKET given" -- --size 1M
nvme_cli_case "two sockets" 2 "one SOCKET only" -- --size 1M a b
nvme_cli_case "neither --image nor --size" 2 "either --image FILE or --size" -- "$nsock"
nvme_cli_case "both --image and --size" 2 "either --image FILE or --size" -- \
	--image "$tmp/tiny.img" --size 1M "$nsock"
nvme_cli_case "unknown option" 2 "unknown option '--bogus'" -- --bogus "$nsock"
nvme_cli_case "option without value" 2 "--queues needs a value" -- "$nsock" --queues
nvme_cli_case "--size 0" 2 "--size: not a size" -- --size 0 "$nsock"
nvme_cli_case "--size 12Q" 2 "--size: not a size" -- --size 12Q "$nsock"
nvme_cli_case "--queues 0" 2 "--queues: 1-64" -- --size 1M --queues 0 "$nsock"
nvme_cli_case "--queues 65" 2 "--queues: 1-64" -- --size 1M --queues 65 "$nsock"
nvme_cli_case "--queue-depth 1" 2 "--queue-depth: 2-4096" -- --size 1M --queue-depth 1 "$nsock"
nvme_cli_case "--queue-depth 5000" 2 "--queue-depth: 2-4096" -- --size 1M --queue-depth 5000 "$nsock"
nvme_cli_case "--block-size 1024" 2 "--block-size: 512 or 4096" -- --size 1M --block-size 1024 "$nsock"
nvme_cli_case "--serial of 21 characters" 2 "--serial: 1-20" -- \
	--size 1M --serial 123456789012345678901 "$nsock"
nvme_cli_case "--readonly without an image" 2 "--readonly needs --image" -- \
	--size 1M --readonly "$nsock"
nvme_cli_case "--size below one block" 2 "less than one 4096-byte block" -- \
	--size 1K --block-size 4096 "$nsock"
nvme_cli_case "nonexistent image" 1 "/nonexistent.img: No such file" -- \
	--image /nonexistent.img "$nsock"
nvme_cli_case "directory as image" 1 "not a regular file or block device" -- \
	--image /tmp "$nsock"
nvme_cli_case "image below one block" 1 "less than one 512-byte block" -- \
	--image "$tmp/tiny.img" "$nsock"
nvme_cli_case "socket path too long" 1 "socket path too long" -- \
	--size 1M "/$(printf 'a%.0s' {1..200})"
: >"$tmp/not-a-socket"
nvme_cli_case "socket path is a file" 1 "exists and is not a socket" -- \
	--size 1M "$tmp/not-a-socket"
mkfifo "$tmp/nvme-fifo"
nvme_cli_case "FIFO as read-only image" 1 "not a regular file or block device" -- \
	--image "$tmp/nvme-fifo" --readonly "$nsock"
nvme_cli_case "--io-threads 65" 2 "--io-threads: 0-64, not '65'" -- \
	--size 1M --io-threads 65 "$nsock"
nvme_cli_case "--sandbox maybe" 2 "--sandbox: 'maybe' is not on or off" -- \
	--size 1M --sandbox maybe "$nsock"
nvme_cli_case "--doorbells mmio" 2 "--doorbells: 'mmio' is not trap or eventfd" -- \
	--size 1M --doorbells mmio "$nsock"
# uvmm-nvme's seccomp filter (nvme/sandbox.c): a forbidden call is caught,
# named, ends the server with status 12, and the socket file still goes
# (its remover process outlives the server). --sandbox on, so that a
# kernel without seccomp fails here instead of leaving a server running.
# Sanitizer builds run without the filter and say so.
if [[ ${SANITIZE:-} == 1 ]]; then
	nvme_cli_case "--sandbox on in a sanitizer build" 1 \
		"sandbox: not in a sanitizer build" -- --size 1M --sandbox on "$nsock"
else
	UVMM_NVME_SANDBOX_SELFTEST=1 nvme_cli_case \
		"sandbox: a forbidden system call ends it with status 12, named" 12 \
		'^uvmm-nvme: sandbox: forbidden system call socket \(41\) on thread [0-9]+; stopping$' -- \
		--size 1M --sandbox on "$nsock"
	for i in $(seq 1 100); do
		[[ -e $nsock ]] || break
		sleep 0.05
	done
	if [[ -e $nsock ]]; then
		result_fail "cli: uvmm-nvme: sandbox: the socket file stayed after status 12"
	else
		result_pass "cli: uvmm-nvme: sandbox: the socket file went with the server"
	fi
fi
# prt_matches_intx LOG: acpiexec's dump of _PRT has 128 entries, each
# {slot << 16 | 0xffff, pin, 0, 16 + (slot + pin) % 8}.
prt_matches_intx() {
	local -a v=()
	local n=0 entries=0 slot
	while read -r line; do
		case $line in
		*"Contains 4 Elements"*) v=() ;;
		*"[Integer] = "*)
			v+=($((16#${line##* })))
			[[ ${#v[@]} -eq 4 ]] || continue
			entries=$((entries + 1))
			slot=$((v[0] >> 16))
			if (((v[0] & 0xffff) != 0xffff || v[1] > 3 ||
			      v[3] != 16 + (slot + v[1]) % 8)); then
				n=$((n + 1))
			fi
			;;
		esac
	done <"$1"
	[[ $entries -eq 128 && $n -eq 0 ]]
}

# --dump-acpi: every boot gets the tables; they decode with iasl -d
# (acpica-tools) without errors, and acpiexec runs the DSDT's _PRT. The
# tables are written before KVM is opened: without /dev/kvm uvmm then
# stops with status 4.
mkdir -p "$tmp/acpi-pvh"
want=4
have_kvm && want=1
if run_expect "cli: --dump-acpi on a PVH image" "$want" "$tmp/out" -- "$UVMM" \
	--serial none --dump-acpi "$tmp/acpi-pvh" "$hello" &&
   [[ -s $tmp/acpi-pvh/dsdt.dat && $(head -c 8 "$tmp/acpi-pvh/rsdp.dat") == "RSD PTR " ]]; then
	result_pass "cli: --dump-acpi on a PVH image writes the tables too"
else
	result_fail "cli: --dump-acpi on a PVH image: no tables in $tmp/acpi-pvh"
fi
cli_case "--dump-acpi into a missing directory" 6 \
	"--dump-acpi: cannot create /nonexistent/acpi/rsdp.dat" -- \
	--dump-acpi /nonexistent/acpi --initrd "$tmp/mb-noelf.bin" \
	--cmdline "mem=128M cpus=2" "$mb"
if ! command -v iasl >/dev/null; then
	result_missing "cli: --dump-acpi decoded by iasl: no iasl (apt-get install acpica-tools)"
else
	mkdir -p "$tmp/acpi"
	want=4
	have_kvm && want=1
	printf 'x\n' >"$tmp/acpi-mod"
	if run_expect "cli: --dump-acpi" "$want" "$tmp/out" -- "$UVMM" -c 2 \
		--serial none --dump-acpi "$tmp/acpi" --initrd "$tmp/acpi-mod" \
		--cmdline "mem=128M cpus=2 module=x" "$mb"; then
		ok=true
		for t in apic dsdt facp facs mcfg rsdt xsdt; do
			if [[ ! -s "$tmp/acpi/$t.dat" ]] ||
			   ! (cd "$tmp/acpi" && iasl -d "$t.dat") >"$tmp/iasl.log" 2>&1 ||
			   grep -qiE "error|warning" "$tmp/acpi/$t.dsl"; then
				result_fail "cli: --dump-acpi: $t.dat does not decode cleanly"
				tail -5 "$tmp/iasl.log" | sed 's/^/    | /'
				ok=false
			fi
		done
		# What iasl reads back is the machine: 2 LAPICs, the PM timer, ECAM.
		if $ok && [[ $(grep -c "Subtable Type : 00 \[Processor Local APIC\]" "$tmp/acpi/apic.dsl") == 2 ]] &&
		   grep -q "PM Timer Block Address : 00000608" "$tmp/acpi/facp.dsl" &&
		   grep -q "Base Address : 00000000B0000000" "$tmp/acpi/mcfg.dsl" &&
		   [[ $(head -c 8 "$tmp/acpi/rsdp.dat") == "RSD PTR " ]]; then
			result_pass "cli: --dump-acpi: 8 tables, iasl -d decodes each (2 LAPICs, PM timer 0x608, ECAM 0xb0000000)"
			# _PRT, as an OS's interpreter runs it: 128 entries,
			# pin P of slot S on GSI 16 + (S + P) % 8 (vmm/pci_irq.h).
			if (cd "$tmp/acpi" && timeout 60 acpiexec -b 'evaluate \_SB.PCI0._PRT' dsdt.dat) >"$tmp/prt.log" 2>&1 &&
			   prt_matches_intx "$tmp/prt.log"; then
				result_pass "cli: --dump-acpi: the DSDT's _PRT routes 32 slots x 4 pins as the MP table does (acpiexec)"
			else
				result_fail "cli: --dump-acpi: the DSDT's _PRT does not evaluate to the INTx routing"
				tail -8 "$tmp/prt.log" | sed 's/^/    | /'
			fi
		elif $ok; then
			result_fail "cli: --dump-acpi: decoded tables do not describe the machine"
			grep -E "Local APIC|PM Timer|Base Address" "$tmp"/acpi/*.dsl | sed 's/^/    | /'
		fi
	fi
fi
