# Sanitizer settings for `make check SANITIZE=1` (tests/run-tests.sh sources
# this when SANITIZE=1). Any ASan, LSan or UBSan report fails the run, twice
# over:
#  - halt_on_error + abort_on_error: the reporting process dies with SIGABRT
#    (status 134), which no test expects, so its own test fails at once;
#  - log_path: every report is also a file under $SANITIZER_LOGS, and
#    sanitize_sweep fails the run for each one. That catches processes whose
#    status no test reads (a device server killed at the end of a boot test,
#    a helper in the background).
# exitcode=66 covers the reports that exit instead of aborting. The options
# travel into the nested KVM host (tests/kvm-host/run.sh passes them on),
# and the log directory is on the shared file system there too.

sanitize_setup() {
	SANITIZER_LOGS=$PWD/$BUILD/sanitizer-logs
	rm -rf "$SANITIZER_LOGS"
	mkdir -p "$SANITIZER_LOGS"
	local common="halt_on_error=1:abort_on_error=1:exitcode=66:print_stacktrace=1:log_path=$SANITIZER_LOGS/report"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-$common:detect_leaks=1:detect_stack_use_after_return=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-$common}
	export SANITIZER_LOGS
	echo "sanitizers: ASAN_OPTIONS=$ASAN_OPTIONS"
}

# One result per report file; one pass when there is none.
sanitize_sweep() {
	local f n=0 first
	for f in "$SANITIZER_LOGS"/report.*; do
		[[ -f $f ]] || continue
		n=$((n + 1))
		first=$(grep -m1 -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:|SUMMARY:' "$f")
		result_fail "sanitizer report ${f##*/}: ${first:-see the file}"
		sed 's/^/    | /' "$f" | head -40
	done
	if [[ $n -eq 0 ]]; then
		result_pass "sanitizers: no report from any process"
	fi
}
