#!/bin/bash
# make check: unit tests, command-line tests, boot tests. Ends with one
# line "N passed, N failed, N skipped" and a non-zero status on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
source tests/lib/common.sh
source tests/lib/kvm-kind.sh

# Which KVM the boot tests run on: their figures and the guest runtime's
# paths differ (guest/README.md).
if have_kvm; then
	echo "== KVM: $(kvm_kind_description)"
else
	echo "== KVM: none here; the boot tests run in the kvm-host VM: $(kvm_kind_description nested)"
fi

export RESULTS
mkdir -p "$BUILD"
RESULTS=$(mktemp -p "$BUILD" results.XXXXXX)
trap 'rm -f "$RESULTS"' EXIT
# SANITIZE=1 (make check SANITIZE=1): any sanitizer report fails the run.
if [[ ${SANITIZE:-} == 1 ]]; then
	source tests/lib/sanitize.sh
	sanitize_setup
fi

echo "== unit tests"
for t in "$BUILD"/tests/unit/test_*; do
	[[ -x "$t" ]] || continue
	name=$(basename "$t")
	out=$(timeout -k 5 300 "$t" 2>&1)
	status=$?
	passed=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || echo 0)
	failed=$(grep -oE '^\[  FAILED  \] [0-9]+ test' <<<"$out" | grep -oE '[0-9]+' || echo 0)
	for _ in $(seq 1 "$passed"); do echo "pass unit $name" >>"$RESULTS"; done
	if [[ $status -ne 0 || $failed -ne 0 ]]; then
		grep -E '^\[  (FAILED|ERROR)|LINE' <<<"$out" | sed 's/^/    | /'
		result_fail "unit: $name (status $status, $failed failed)"
	else
		echo "PASS: unit: $name ($passed tests)"
	fi
done

echo "== command line and bad images"
bash tests/cli/run-cli.sh
bash tests/cli/run-uvmm-qemu.sh
bash tests/cli/install-lib.sh

echo "== docs"
bash tests/cli/doc-links.sh

echo "== boot tests"
if have_kvm; then
	bash tests/boot/run-boot.sh
elif [[ -x tests/kvm-host/run.sh || -f tests/kvm-host/run.sh ]]; then
	# No KVM here: run the boot tests in a VM that has it (nested SVM
	# under QEMU's TCG), so they still run for real.
	bash tests/kvm-host/run.sh -- env RESULTS="$RESULTS" BUILD="$BUILD" \
		bash tests/boot/run-boot.sh
	status=$?
	if [[ $status -ne 0 ]]; then
		result_missing "boot: no /dev/kvm and the nested KVM host failed (status $status)"
	fi
else
	result_missing "boot: no /dev/kvm on this host"
fi

# make bench QUICK=1: every row runs and results.json is whole; no figure
# is judged (bench/check-results.sh). Benchmarks measure the release
# build, so the sanitizer run does its sweep instead.
if [[ ${SANITIZE:-} == 1 ]]; then
	echo "== sanitizer reports"
	sanitize_sweep
else
	echo "== benchmarks (QUICK=1 smoke run)"
	bench_dir=$(mktemp -d -p "$BUILD" bench-quick.XXXXXX)
	SECONDS=0
	if ! bash scripts/setup-deps.sh bench >"$bench_dir/log" 2>&1; then
		result_missing "bench: QUICK=1 smoke run: packages missing ($(tail -n 1 "$bench_dir/log"))"
	elif QUICK=1 BENCH_OUT="$bench_dir" bash bench/run-bench.sh >>"$bench_dir/log" 2>&1 &&
		bash bench/check-results.sh "$bench_dir" >>"$bench_dir/log" 2>&1; then
		result_pass "bench: QUICK=1 smoke run: every row measured or says why not, results.json and chart whole ($SECONDS s)"
		rm -rf "$bench_dir"
	else
		result_fail "bench: QUICK=1 smoke run (all output: $bench_dir/log)"
		tail -n 20 "$bench_dir/log" | sed 's/^/    | /'
	fi
	# Where QEMU cannot start with KVM (QEMU 7.2 on PVM), its rows say
	# why in its own words and the run still succeeds.
	bench_dir=$(mktemp -d -p "$BUILD" bench-noqemu.XXXXXX)
	SECONDS=0
	if UVMM_BENCH_QEMU=tests/lib/qemu-aborts.sh QUICK=1 BENCH_OUT="$bench_dir" \
		bash bench/run-bench.sh >"$bench_dir/log" 2>&1 &&
	   bash bench/check-results.sh "$bench_dir" >>"$bench_dir/log" 2>&1 &&
	   [[ $(grep -c "reference not measured: QEMU does not run with KVM on this host (status 134): .*kvm_buf_set_msrs" "$bench_dir/results.md") -ge 5 ]]; then
		result_pass "bench: QUICK=1 with a QEMU that aborts: its rows say why, every uvmm row measured ($SECONDS s)"
		rm -rf "$bench_dir"
	else
		result_fail "bench: QUICK=1 with a QEMU that aborts (all output: $bench_dir/log)"
		tail -n 20 "$bench_dir/log" | sed 's/^/    | /'
	fi
fi
# make check-robust counts these results in its own summary.
[[ -n ${RESULTS_EXPORT:-} ]] && cat "$RESULTS" >>"$RESULTS_EXPORT"

pass=$(grep -c '^pass' "$RESULTS")
fail=$(grep -c '^fail' "$RESULTS")
skip=$(grep -c '^skip' "$RESULTS")
echo
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
