#!/bin/bash
# make bench: measures (bench/measure.sh, where /dev/kvm works: here, or in
# tests/kvm-host/run.sh's nested-KVM VM when this host has none), then
# prints the table and writes results.json (the figures, the machine, the
# versions, the date), results-full.json (the same with every sample) and
# results.svg (the chart, with gnuplot).
#
# Usage: bench/run-bench.sh   (after make all; BUILD as for make)
#   QUICK=1      a smoke run of every row (under a minute; make check)
#   LINUX=1      without /dev/kvm too, boot Debian's kernel for row 2c
#                (3 runs each, in a second kvm-host VM: linux_row_nested)
#   BENCH_OUT=D  where results.{json,svg,md} go (default bench/; with
#                QUICK=1 $BUILD/bench/quick, so a smoke run never
#                overwrites the figures README.md shows). The samples,
#                results-full.json, go beside them, except into bench/,
#                which is committed: then to $BUILD/bench/.
#   BENCH_POLL_US=N  how long the first test server and uvmm's client
#                look for the next message before sleeping (rows 3-6;
#                default 200, 0: they sleep at once)
# Status: 0 when every row was measured or says why not; 1 when a run
# failed or a row is missing.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}"
quick=${QUICK:-}
[[ $quick == 1 ]] || quick=0
if [[ $quick == 1 ]]; then
	dest=${BENCH_OUT:-$BUILD/bench/quick}
else
	dest=${BENCH_OUT:-bench}
fi
work=$BUILD/bench/run
start=$SECONDS

for tool in jq gnuplot; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench: $tool missing: run scripts/setup-deps.sh bench" >&2
		exit 1
	fi
done
for f in "$BUILD/uvmm" "$BUILD/bench/benchtool" "$BUILD/bench/vfu_rtt" \
	 "$BUILD/guest/bench-vfu.elf" "$BUILD/tests/servers/sampledev" \
	 "$BUILD/uvmm-qemu" "$BUILD/guest/multiboot.elf"; do
	if [[ ! -x $f && ! -f $f ]]; then
		echo "bench: $f missing: run make all first" >&2
		exit 1
	fi
done

# Row 2c in a kvm-host VM of its own: a Linux boot takes minutes on one
# TCG thread, so this VM runs multi-threaded TCG, which the other rows'
# many VMs could freeze (tests/kvm-host/run.sh). Its figures replace the
# first run's "not measured" line.
linux_row_nested() {
	local dir=$work/linux
	echo "bench: row 2c: Debian's kernel in a second kvm-host VM (multi-threaded TCG)"
	mkdir -p "$dir"
	KVM_HOST_TCG_THREAD=multi UVMM_BENCH_LINUX=1 UVMM_BENCH_ONLY=linux \
		bash tests/kvm-host/run.sh --timeout 1500 -- \
		env BUILD="$BUILD" bash bench/measure.sh "$dir"
	local st=$?
	grep -v '^SKIP linux_' "$work/raw.txt" >"$work/raw.tmp"
	if [[ $st == 0 ]]; then
		grep -E '^(BENCH|SKIP|FAIL) linux_|^INFO linux_kernel ' "$dir/raw.txt" >>"$work/raw.tmp"
		cp "$dir"/linux_*.log "$work/" 2>/dev/null
	else
		echo "FAIL linux_uvmm the kvm-host VM for row 2c failed (status $st)" >>"$work/raw.tmp"
	fi
	mv "$work/raw.tmp" "$work/raw.txt"
}

rm -rf "$work"
mkdir -p "$work" "$dest"
export UVMM_BENCH_QUICK=$quick
if [[ -r /dev/kvm && -w /dev/kvm ]]; then
	bash bench/measure.sh "$work"
	status=$?
else
	echo "bench: no /dev/kvm here: measuring in the kvm-host VM (nested KVM under QEMU's TCG)"
	timeout=900
	[[ $quick == 1 ]] && timeout=300
	bash tests/kvm-host/run.sh --timeout "$timeout" -- \
		env BUILD="$BUILD" BENCH_POLL_US="${BENCH_POLL_US:-200}" \
		bash bench/measure.sh "$work"
	status=$?
	if [[ $status == 0 && ${LINUX:-} == 1 ]]; then
		linux_row_nested
	fi
fi
raw=$work/raw.txt
if [[ $status != 0 || ! -s $raw ]]; then
	echo "bench: measuring failed (status $status)" >&2
	exit 1
fi

# ---- what the measuring side cannot see: the machine, the build ------------
{
	echo "INFO date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "INFO quick $quick"
	echo "INFO host_cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "INFO host_cpus $(nproc)"
	echo "INFO host_memory $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "INFO host_kernel $(uname -r)"
	echo "INFO compiler $(${CC:-gcc} --version | head -n 1)"
	echo "INFO build release: -O2 -g, no sanitizers, into $BUILD/ (make's default flags)"
	echo "INFO git $(git describe --always --dirty 2>/dev/null || echo unknown)"
	echo "INFO wall_seconds $((SECONDS - start))"
} >>"$raw"

json=$dest/results.json
full=$dest/results-full.json
[[ $(realpath "$dest") == $(realpath bench) ]] && full=$BUILD/bench/results-full.json
if ! jq -R -s -f bench/report.jq "$raw" >"$full.tmp"; then
	echo "bench: bench/report.jq failed on $raw" >&2
	exit 1
fi
mv "$full.tmp" "$full"
# What is committed: every figure and statistic, not the thousands of
# samples behind them (a diff of every bench run would be those).
jq --arg full "$full" 'del(.raw) | .samples_in = $full' "$full" >"$json"
jq -r --arg fmt md -f bench/table.jq "$json" >"$dest/results.md"

# The chart: one bar per row, coloured by group.
jq -r '
	{start: "0x4e79a7", boot: "0xf28e2b", trap: "0xe15759", mmap: "0x76b7b2",
	 dma: "0x59a14f", irq: "0xedc948", footprint: "0xb07aa1",
	 nvme: "0x9c755f"} as $colour |
	.rows[] | "\(.id) \(.ratio // 0) \($colour[.group]) \"\(.id) \(.name)\""
' "$json" >"$work/chart.dat"
heading=$(jq -r '"uvmm / reference, \(.date[:10]), \(.host.description)\(if .quick then " (QUICK=1)" else "" end)"' "$json")
if ! gnuplot -e "data='$work/chart.dat'; out='$dest/results.svg'; heading='$heading'" \
	bench/chart.gp 2>"$work/gnuplot.log"; then
	echo "bench: gnuplot failed: $(tail -n 3 "$work/gnuplot.log")" >&2
	exit 1
fi

echo
jq -r --arg fmt text -f bench/table.jq "$json"
echo
echo "bench: $json, $dest/results.svg, $dest/results.md ($((SECONDS - start)) s in all, $(jq .measure_seconds "$json") s measuring)"

# Every row measured or saying why not; no run failed.
bad=$(jq -r '.rows[] | select(.status == "failed" or (.status != "ok" and .note == null)) | .id' "$json")
if [[ -n $bad ]] || [[ $(jq '.failed | length' "$json") != 0 ]]; then
	echo "bench: failed: $(jq -r '.failed | to_entries[] | "\(.key): \(.value)"' "$json" | head -n 5)" >&2
	echo "bench: logs in $work/" >&2
	exit 1
fi
exit 0
