#!/bin/bash
# make check-robust: the parts of the suite that look for memory errors,
# leaks and crashes rather than for behaviour:
#   1. the whole of `make check` built with ASan + UBSan (build/sanitize),
#      failing on any sanitizer report;
#   2. every unit test once under valgrind memcheck (plain build);
#   3. every libFuzzer target for FUZZ_SECONDS (default 20 here), after
#      replaying its regression inputs.
# Hostile servers (tests/servers/NAME.c) and hostile guests (guest/NAME.c)
# with their boot cases (tests/boot/cases/*.sh) need nothing here: part 1
# builds and runs them under the sanitizers, and a report from any process,
# a server in the background included, fails it (tests/lib/sanitize.sh).
# Each part runs to the end even when an earlier one failed. Ends with one
# line "N passed, N failed, N skipped" over all three, and the time each
# part took; non-zero status on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

# The parts pick their own build settings; none leaks in from the caller's
# make (a SANITIZE=1 on its command line, its jobserver).
# BUILD stays unexported: each sub-make and script picks its default.
unset MAKEFLAGS MFLAGS MAKELEVEL BUILD SANITIZE
source tests/lib/common.sh

export RESULTS
mkdir -p build
RESULTS=$(mktemp -p build robust-results.XXXXXX)
part=$(mktemp -p build robust-part.XXXXXX)
trap 'rm -f "$RESULTS" "$part"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)
timings=()

# timed NAME CMD...: runs CMD, records how long it took.
timed() {
	local name=$1 start status
	shift
	start=$(date +%s)
	"$@"
	status=$?
	timings+=("$name: $(( $(date +%s) - start )) s")
	return $status
}

echo "== 1/3 sanitizers: make check SANITIZE=1"
: >"$part"
RESULTS_EXPORT=$part timed "make check SANITIZE=1" \
	make --no-print-directory -j"$jobs" check SANITIZE=1
status=$?
# Its results, marked as such, count here.
sed -E 's/^(pass|fail|skip) /\1 SANITIZE=1: /' "$part" >>"$RESULTS"
if [[ $status -ne 0 ]] && ! grep -q '^fail' "$part"; then
	result_fail "SANITIZE=1: make check failed (status $status) before its tests ran"
fi

echo
echo "== 2/3 valgrind: unit tests under memcheck"
if make --no-print-directory -j"$jobs" all >"$part" 2>&1; then
	timed "valgrind" bash tests/robust/valgrind-unit.sh
else
	tail -20 "$part" | sed 's/^/    | /'
	result_fail "valgrind: make all failed"
fi

echo
echo "== 3/3 fuzzing: ${FUZZ_SECONDS:-20} s per target"
if make --no-print-directory -j"$jobs" fuzz-build >"$part" 2>&1; then
	FUZZ_SECONDS=${FUZZ_SECONDS:-20} timed "fuzz" bash tests/fuzz/run-fuzz.sh
else
	tail -20 "$part" | sed 's/^/    | /'
	result_fail "fuzz: make fuzz-build failed"
fi

pass=$(grep -c '^pass' "$RESULTS")
fail=$(grep -c '^fail' "$RESULTS")
skip=$(grep -c '^skip' "$RESULTS")
echo
echo "== check-robust"
printf '  %s\n' "${timings[@]}"
if [[ $skip -gt 0 ]]; then
	echo "SKIPPED (a prerequisite is missing on this host):"
	grep '^skip' "$RESULTS" | sed 's/^skip /  /'
fi
if [[ $fail -gt 0 ]]; then
	echo "FAILED:"
	grep '^fail' "$RESULTS" | sed 's/^fail /  /'
fi
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
