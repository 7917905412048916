# Shared helpers for the shell test runners. Each result is one line in
# $RESULTS ("pass|fail|skip NAME") and one line on stdout
# (PASS:/FAIL:/SKIP: NAME), so runners compose and the top level counts.

: "${BUILD:=build}"
: "${RESULTS:=/dev/null}"

UVMM="$BUILD/uvmm"

result_pass() { echo "PASS: $*"; echo "pass $*" >>"$RESULTS"; }
result_fail() { echo "FAIL: $*"; echo "fail $*" >>"$RESULTS"; }
result_skip() { echo "SKIP: $*"; echo "skip $*" >>"$RESULTS"; }

# A missing prerequisite: a failure in CI, a loud skip elsewhere.
result_missing() {
	if [[ "${CI:-}" == "true" ]]; then
		result_fail "$* (missing prerequisite; CI=true makes this a failure)"
	else
		result_skip "$*"
	fi
}

# run_expect NAME STATUS OUTFILE -- CMD...: runs CMD with a hang guard,
# stdout+stderr to OUTFILE, and checks its exit status.
# Sets LAST_STATUS and LAST_MS.
run_expect() {
	local name=$1 want=$2 out=$3
	shift 4
	local start end
	start=$(date +%s%N)
	timeout -k 5 "${HANG_GUARD:-300}" "$@" >"$out" 2>&1 </dev/null
	LAST_STATUS=$?
	end=$(date +%s%N)
	LAST_MS=$(( (end - start) / 1000000 ))
	if [[ "$LAST_STATUS" != "$want" ]]; then
		result_fail "$name: exit status $LAST_STATUS, expected $want"
		sed 's/^/    | /' "$out" | tail -20
		return 1
	fi
	return 0
}

# expect_lines NAME OUTFILE PATTERN...: every extended regex must match a line.
expect_lines() {
	local name=$1 out=$2 pat
	shift 2
	for pat in "$@"; do
		if ! grep -Eq -- "$pat" "$out"; then
			result_fail "$name: no line matches /$pat/"
			sed 's/^/    | /' "$out" | tail -20
			return 1
		fi
	done
	return 0
}

# refuse_lines NAME OUTFILE PATTERN...: no line may match.
refuse_lines() {
	local name=$1 out=$2 pat
	shift 2
	for pat in "$@"; do
		if grep -Eq -- "$pat" "$out"; then
			result_fail "$name: unexpected line matching /$pat/"
			grep -E -- "$pat" "$out" | head -5 | sed 's/^/    | /'
			return 1
		fi
	done
	return 0
}

have_kvm() {
	[[ -r /dev/kvm && -w /dev/kvm ]]
}
