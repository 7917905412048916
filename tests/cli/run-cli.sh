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
head -c 65536 /dev/urandom >"$tmp/random.bin"
head -c 3M /dev/zero >"$tmp/random3m.bin"
cli_case "random bytes" 6 "unknown image format" -- "$tmp/random.bin"
perl tests/lib/elf-patch.pl "$hello" "$tmp/big.elf" grow-bss $((64 << 20))
cli_case "RAM too small for the image" 6 "does not fit in guest RAM.*needs at least 65 MiB" -- \
	--memory 16M "$tmp/big.elf"
cli_case "image file larger than RAM" 6 "do not fit in 2 MiB" -- \
	--memory 2M "$tmp/random3m.bin"
