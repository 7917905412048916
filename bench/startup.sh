#!/bin/bash
# Exec-to-exit time of `uvmm hello.elf` against the floor (bench/kvm_min),
# median and spread of N runs each, interleaved so both see the same noise.
# Usage: bench/startup.sh [RUNS]   (needs /dev/kvm; BUILD as for make)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
runs=${1:-20}
mkdir -p "$BUILD/bench"
cc -O2 -o "$BUILD/bench/kvm_min" bench/kvm_min.c

ns() { date +%s%N; }
time_one() {
	local t0 t1
	t0=$(ns)
	"$@" >/dev/null 2>&1 || true
	t1=$(ns)
	echo $(( (t1 - t0) / 1000 ))
}
stats() {	# median min max of microsecond values on stdin
	sort -n | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d %d %d\n", m, v[1], v[NR] }'
}
: >"$BUILD/bench/uvmm.us"
: >"$BUILD/bench/kvm_min.us"
for _ in $(seq "$runs"); do
	time_one "$BUILD/uvmm" "$BUILD/guest/hello.elf" >>"$BUILD/bench/uvmm.us"
	time_one "$BUILD/bench/kvm_min" >>"$BUILD/bench/kvm_min.us"
done
read -r um umin umax < <(stats <"$BUILD/bench/uvmm.us")
read -r km kmin kmax < <(stats <"$BUILD/bench/kvm_min.us")
printf 'uvmm hello.elf exec->exit: median %d us (min %d, max %d), %d runs\n' \
	"$um" "$umin" "$umax" "$runs"
printf 'kvm_min (create VM, hlt):   median %d us (min %d, max %d), %d runs\n' \
	"$km" "$kmin" "$kmax" "$runs"
awk -v a="$um" -v b="$km" 'BEGIN { printf "ratio: %.2fx\n", a / b }'
