#!/bin/bash
# Every unit test binary once under valgrind memcheck, with leak checking:
# any memcheck error, any leak (definite, indirect or possible), any fd the
# test opened and left open at exit, or a failing test fails it.
# Runs the plain build (valgrind and ASan do not mix): $BUILD defaults to
# build, `make all` first. Ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
source tests/lib/common.sh

own_results=
if [[ $RESULTS == /dev/null ]]; then
	RESULTS=$(mktemp -p "${TMPDIR:-/tmp}" valgrind-results.XXXXXX)
	own_results=1
fi
tmp=$(mktemp -d -p "${TMPDIR:-/tmp}" uvmm-valgrind.XXXXXX)
trap 'rm -rf "$tmp"; [[ -n $own_results ]] && rm -f "$RESULTS"' EXIT

# Distinct from any status a test gives itself.
VG_STATUS=97
vg=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=all
	--errors-for-leak-kinds=definite,indirect,possible
	--error-exitcode=$VG_STATUS --track-fds=yes --num-callers=30
	--child-silent-after-fork=yes)

if ! command -v valgrind >/dev/null; then
	result_missing "valgrind: not installed (Debian package valgrind)"
fi

# Fds open at exit that the process did not inherit: each "Open ..."
# block of --track-fds whose next line is not "<inherited from parent>".
leaked_fds() {
	awk '/== Open (file descriptor|AF_|pipe|socket)/ { open = $0; next }
	     open != "" { if ($0 !~ /inherited from parent/) print open; open = "" }' "$1"
}

shopt -s nullglob
for t in "$BUILD"/tests/unit/test_*; do
	[[ -x $t ]] || continue
	command -v valgrind >/dev/null || break
	name=$(basename "$t")
	start=$(date +%s%N)
	timeout -k 5 600 "${vg[@]}" --log-file="$tmp/$name.vg" "$t" \
		>"$tmp/$name.out" 2>&1 </dev/null
	status=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	tests=$(grep -oE '^\[  PASSED  \] [0-9]+' "$tmp/$name.out" | grep -oE '[0-9]+$')
	errors=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$tmp/$name.vg" | tail -1 | grep -oE '[0-9]+$')
	fds=$(leaked_fds "$tmp/$name.vg")
	if [[ $status -eq 0 && ${errors:-0} -eq 0 && -z $fds ]]; then
		result_pass "valgrind: $name (${tests:-0} tests, ${ms} ms)"
		continue
	fi
	if [[ $status -eq $VG_STATUS || ${errors:-0} -ne 0 ]]; then
		result_fail "valgrind: $name: ${errors:-?} memcheck errors"
		grep -E '^==[0-9]+== (Invalid|Conditional|Syscall|Mismatched|[0-9,]+ bytes in|   (at|by) )' \
			"$tmp/$name.vg" | head -30 | sed 's/^/    | /'
	elif [[ -n $fds ]]; then
		result_fail "valgrind: $name: fds left open at exit"
		sed 's/^/    | /' <<<"$fds"
	else
		result_fail "valgrind: $name: status $status"
		grep -E '^\[  (FAILED|ERROR)|LINE' "$tmp/$name.out" | head -10 | sed 's/^/    | /'
	fi
done

pass=$(grep -c '^pass valgrind' "$RESULTS")
fail=$(grep -c '^fail valgrind' "$RESULTS")
skip=$(grep -c '^skip valgrind' "$RESULTS")
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
