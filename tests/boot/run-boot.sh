#!/bin/bash
# Boot tests: each guest program under uvmm, asserting the exit status AND
# the serial lines. Needs /dev/kvm (tests/run-tests.sh arranges one).
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

tmp=$(mktemp -d)
trap 'stop_servers; rm -rf "$tmp" "$sockdir"' EXIT
G=$BUILD/guest
source tests/lib/servers.sh
source tests/lib/kvm-kind.sh
echo "-- KVM: $(kvm_kind_description)"

# boot_case NAME STATUS 'REGEX...' -- UVMM_ARGS...
# The regexes are newline-separated; each must match a line of the output.
boot_case() {
	local name=$1 want=$2 pats=$3
	shift 4
	local -a patterns
	mapfile -t patterns <<<"$pats"
	run_expect "boot: $name" "$want" "$tmp/out" -- "$UVMM" "$@" || return
	expect_lines "boot: $name" "$tmp/out" "${patterns[@]}" || return
	# A guest test that passed printed no FAIL line.
	if [[ "$want" == 1 ]]; then
		refuse_lines "boot: $name" "$tmp/out" "^FAIL" || return
	fi
	result_pass "boot: $name (${LAST_MS} ms)"
}

# Each file in tests/boot/cases/ adds its cases; BOOT_ONLY=PATTERN runs
# only the files whose name matches.
for cases in tests/boot/cases/*.sh; do
	[[ -z ${BOOT_ONLY:-} || $cases == *${BOOT_ONLY}* ]] || continue
	echo "-- $(basename "$cases")"
	source "$cases"
done
exit 0
