#!/bin/bash
# Checks what bench/run-bench.sh wrote into DIR without judging a single
# figure: results.json parses and has every row, each with uvmm's figure
# and its reference's (samples behind them in results-full.json, which
# must agree with it) or a note saying why
# not, no failed run, the machine, versions and date; results.svg is an
# SVG with a bar per measured row; results.md is the table.
# Usage: bench/check-results.sh DIR   Status 0 when all holds.
set -uo pipefail
dir=${1:?usage: bench/check-results.sh DIR}
json=$dir/results.json
full=$dir/results-full.json
if ! jq -e --slurpfile full "$full" 'del(.samples_in) == ($full[0] | del(.raw))' "$json" >/dev/null 2>&1; then
	echo "check-results: $json is not $full without its samples"
	exit 1
fi
want_rows='["1a","1d","1b","1c","2a","2b","2c","3a","3b","3c","3d","4a","4b","5a","5b","6","6b","7a","7b","7c","8a","8b","8c","9a","9b","9c","9d","9e","9f","9g","9h","9i","9j","9k","9l"]'

problems=$(jq -r --argjson want "$want_rows" '
	def need(cond; msg): if cond then empty else msg end;
	need((.rows | map(.id)) == $want; "rows are \(.rows | map(.id)), want \($want)"),
	need(.date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"); "no date"),
	need(.host.kind | IN("hardware", "nested", "pvm", "software"); "no host kind"),
	need(.host.cpu and .host.kernel; "no machine"),
	need(.versions.uvmm and .versions.compiler; "no versions"),
	need(.failed == {}; "failed runs: \(.failed)"),
	(.raw as $raw | .rows[] |
		need(.status != "failed"; "\(.id): \(.note)"),
		need(.status == "ok" or (.note | type) == "string";
		     "\(.id): \(.status) without a reason"),
		need(.uvmm == null or ([.sources.uvmm[] | $raw[.].samples | length > 0] | all);
		     "\(.id): figure without samples"),
		need(.uvmm == null or (.uvmm.median | type) == "number";
		     "\(.id): no median"),
		need(.status != "ok" or (.ratio | type) == "number";
		     "\(.id): measured but no ratio"))
' "$full" 2>&1)
status=$?
if [[ $status != 0 ]]; then
	echo "check-results: $json does not parse: $problems"
	exit 1
fi
bars=$(jq '[.rows[] | select(.ratio != null)] | length' "$json")
if ! grep -q '<svg' "$dir/results.svg" 2>/dev/null; then
	problems+=$'\n'"results.svg missing or not an SVG"
elif (( $(grep -c '<path' "$dir/results.svg") < bars )); then
	problems+=$'\n'"results.svg has fewer shapes than the $bars measured rows"
fi
if (( $(grep -c "^| " "$dir/results.md" 2>/dev/null) < 20 )); then
	problems+=$'\n'"results.md has no full table"
fi
problems=$(sed '/^$/d' <<<"$problems")
if [[ -n $problems ]]; then
	echo "check-results: $dir:"
	sed 's/^/  /' <<<"$problems"
	exit 1
fi
echo "check-results: $json: $(jq '.rows | length' "$json") rows, $bars with a ratio, $(jq '[.raw[].samples | length] | add' "$full") samples"
