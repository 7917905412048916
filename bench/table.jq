# The table of bench/results.json: jq -r --arg fmt text|md -f bench/table.jq
# text: what make bench prints; md: what README.md shows.

def r($d): (. * pow(10; $d) | round) / pow(10; $d);

# Three significant digits or so, in a unit that fits.
def num: if . >= 100 then r(0) elif . >= 10 then r(1) else r(2) end | tostring;

def human($unit):
	if . == null then "-"
	elif $unit == "ns" then
		if . >= 1e9 then (. / 1e9 | num) + " s"
		elif . >= 1e6 then (. / 1e6 | num) + " ms"
		elif . >= 1e3 then (. / 1e3 | num) + " us"
		else (num) + " ns" end
	elif $unit == "B" then
		if . >= 1048576 then (. / 1048576 | num) + " MiB"
		elif . >= 1024 then (. / 1024 | num) + " KiB"
		else (r(0) | tostring) + " B" end
	else r(1) | tostring end;

def fig($unit):
	if . == null or .median == null then "-"
	elif .n == 1 then (.median | human($unit))
	else "\(.median | human($unit)) [\(.p10 | human($unit)) - \(.p90 | human($unit))]"
	end;

def ratio: if . == null then "-" else (r(2) | tostring) + "x" end;

def pad($w): tostring | if length < $w then . + (" " * ($w - length)) else . end;

. as $res |
($res.host.description + (if $res.host.cpu then " on " + $res.host.cpu else "" end)
 + (if $res.host.cpus then ", \($res.host.cpus) CPUs" else "" end)) as $machine |
[$res.rows[] | . as $row | {
	id, name, what, refname: .reference.name, ref: .reference.what,
	u: ($row.uvmm | fig($row.unit)),
	rf: (if $row.reference.median then ($row.reference | fig($row.unit)) else "-" end),
	ratio: ($row.ratio | ratio),
	note: ($row.note // "")
}] as $rows |
($res.phases // null) as $ph |
(if $ph then
	"3b, phase by phase (medians of \($ph.n) BAR0 reads stamped by uvmm and the server): KVM exit + re-entry \($ph.kvm_exit_entry | human("ns")); in uvmm until the request is sent \($ph.to_send | human("ns")); socket to the server \($ph.to_server | human("ns")); the server's work \($ph.server | human("ns")); socket back to the client \($ph.to_client | human("ns")); reply to vCPU re-entry \($ph.to_entry | human("ns")). Rows 3-6: \(if ($res.poll_us // 0) > 0 then "the first server and uvmm's client look for the next message for \($res.poll_us) us before sleeping (BENCH_POLL_US)" else "the server and uvmm's client sleep at once (BENCH_POLL_US=0)" end)"
 else null end) as $phline |
if $fmt == "md" then
	"Measured \($res.date) on \($machine)\(if $res.quick then " (QUICK=1 smoke run)" else "" end); \($res.versions.uvmm), \($res.versions.qemu // "no QEMU").",
	"",
	"| # | measure | uvmm: median [p10 - p90] | reference | reference: median [p10 - p90] | ratio |",
	"|---|---|---|---|---|---|",
	($rows[] | "| \(.id) | \(.what) | \(.u) | \(.ref) | \(.rf) | \(.ratio) |"),
	"",
	($rows[] | select(.note != "") | "- \(.id): \(.note)"),
	(if $phline then "", "- " + $phline else empty end)
else
	"uvmm benchmarks, \($res.date)\(if $res.quick then " (QUICK=1: a smoke run, figures not for reading)" else "" end)",
	"host: \($machine)",
	"versions: \($res.versions.uvmm); \($res.versions.qemu // "no QEMU"); \($res.versions.compiler // "")",
	"",
	"\("#" | pad(3)) \("measure" | pad(26)) \("uvmm: median [p10 - p90]" | pad(32)) \("reference" | pad(19)) \("median [p10 - p90]" | pad(32)) ratio",
	($rows[] | "\(.id | pad(3)) \(.name | pad(26)) \(.u | pad(32)) \(.refname | pad(19)) \(.rf | pad(32)) \(.ratio)"),
	"",
	($rows[] | select(.note != "") | "\(.id): \(.note)"),
	(if $phline then "", $phline else empty end)
end
