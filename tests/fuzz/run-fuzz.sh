#!/bin/bash
# make fuzz: for each $BUILD/fuzz/fuzz_NAME, replay the regression inputs
# in tests/fuzz/regressions/NAME/ (each must pass), then fuzz for
# FUZZ_SECONDS on a scratch copy of tests/fuzz/corpus/NAME/. A crash, leak,
# timeout or out-of-memory fails the target; its input is copied into
# tests/fuzz/regressions/NAME/ so every later run replays it.
# Prints executions per target and ends with "N passed, N failed, N skipped".
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 60),
# FUZZ_ONLY=GLOB (targets whose name, without fuzz_, matches), RESULTS (append there too),
# FUZZ_KEEP_CORPUS=1 (merge what the run found back into the seed corpus).
set -uo pipefail
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
source tests/lib/common.sh

seconds=${FUZZ_SECONDS:-60}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "run-fuzz: FUZZ_SECONDS=$seconds is not a number" >&2; exit 2; }

own_results=
if [[ $RESULTS == /dev/null ]]; then
	RESULTS=$(mktemp -p "${TMPDIR:-/tmp}" fuzz-results.XXXXXX)
	own_results=1
fi
work=$(mktemp -d -p "${TMPDIR:-/tmp}" uvmm-fuzz.XXXXXX)
trap 'rm -rf "$work"; [[ -n $own_results ]] && rm -f "$RESULTS"' EXIT

# libFuzzer's own limits: a hang of 10 s and 2 GiB of RSS are failures.
# Leak checking stays on (LSan runs after every input that leaked).
fuzz_flags=(-timeout=10 -rss_limit_mb=2048 -close_fd_mask=2
	-print_final_stats=1 -detect_leaks=1)
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${FUZZ_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

shopt -s nullglob
targets=("$BUILD"/fuzz/fuzz_*)
if [[ ${#targets[@]} -eq 0 ]]; then
	result_missing "fuzz: no targets in $BUILD/fuzz (run make fuzz-build)"
fi

summary=()
for bin in "${targets[@]}"; do
	[[ -x $bin ]] || continue
	target=$(basename "$bin")
	name=${target#fuzz_}
	[[ -z ${FUZZ_ONLY:-} || $name == ${FUZZ_ONLY} ]] || continue
	regress=tests/fuzz/regressions/$name
	seeds=tests/fuzz/corpus/$name

	# 1. Regression inputs: each once, all must pass.
	inputs=("$regress"/*)
	if [[ ${#inputs[@]} -gt 0 ]]; then
		if "$bin" "${fuzz_flags[@]}" "${inputs[@]}" >"$work/$name.replay" 2>&1; then
			result_pass "fuzz: $name replays ${#inputs[@]} regression inputs"
		else
			result_fail "fuzz: $name fails a regression input in $regress"
			grep -E 'ERROR|FUZZ_CHECK|runtime error|Running:' "$work/$name.replay" |
				tail -5 | sed 's/^/    | /'
		fi
	fi

	# 2. Fuzz for a bounded time on a scratch copy of the seeds.
	[[ $seconds -gt 0 ]] || continue
	if [[ ! -d $seeds ]]; then
		result_missing "fuzz: $name has no seed corpus in $seeds (make fuzz-corpus)"
		continue
	fi
	mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
	cp "$seeds"/* "$work/$name/corpus/" 2>/dev/null
	start=$(date +%s)
	"$bin" "${fuzz_flags[@]}" -max_total_time="$seconds" \
		-artifact_prefix="$work/$name/artifacts/" \
		"$work/$name/corpus" >"$work/$name.log" 2>&1
	status=$?
	took=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$name.log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$work/$name.log" | tail -1)
	found=$(ls "$work/$name/corpus" | wc -l)
	artifacts=("$work/$name/artifacts"/*)
	line="$name: ${execs:-?} executions in ${took} s (${rate:-?}/s), ${cov:-cov: ?}, corpus $found"
	summary+=("$line")
	if [[ $status -ne 0 || ${#artifacts[@]} -gt 0 ]]; then
		mkdir -p "$regress"
		for a in "${artifacts[@]}"; do
			cp "$a" "$regress/"
			echo "    | kept $(basename "$a") as $regress/$(basename "$a")"
		done
		grep -E 'ERROR|FUZZ_CHECK|runtime error|SUMMARY' "$work/$name.log" |
			head -8 | sed 's/^/    | /'
		result_fail "fuzz: $name: status $status after ${execs:-?} executions (input kept in $regress)"
	else
		result_pass "fuzz: $line"
	fi
	if [[ -n ${FUZZ_KEEP_CORPUS:-} ]]; then
		# Minimise what the run found into the seeds (libFuzzer's merge).
		"$bin" -merge=1 "$seeds" "$work/$name/corpus" >/dev/null 2>&1
	fi
done

if [[ ${#summary[@]} -gt 0 ]]; then
	echo
	echo "fuzz executions (FUZZ_SECONDS=$seconds):"
	printf '  %s\n' "${summary[@]}"
fi
pass=$(grep -c '^pass fuzz' "$RESULTS")
fail=$(grep -c '^fail fuzz' "$RESULTS")
skip=$(grep -c '^skip fuzz' "$RESULTS")
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
