#!/usr/bin/env bash
# The default scenarios on this kernel: every verdict as bench/scenarios expects, the
# JSON report complete, the artifacts there.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
json=$out/report.json
"$CTR_TOP/bench/repro" --out "$out" --json "$json" >"$out/table" 2>&1
rc=$?
t_check "bench/repro exit status" 0 "$rc" "$(cat "$out/table")"
t_check "report is JSON" 0 "$(jq empty "$json" >/dev/null 2>&1; echo $?)"
t_check "report names the running kernel" "$(uname -r)" "$(jq -r .kernel "$json")"
n=$(ctr_scenarios | wc -l)
t_check "one result per scenario" "$n" "$(jq '.results | length' "$json")"
for key in topology trigger workaround expected observed client_rst backend_reset leaked_packets pcaps duration_ms; do
	t_check "every result has '$key'" "$n" "$(jq "[.results[] | select(has(\"$key\"))] | length" "$json")"
done
while IFS=$'\t' read -r name expected observed crst breset leaked; do
	t_check "$name: observed = expected" "$expected" "$observed" "$(grep -A2 "^$name " "$out/table")"
	case $observed in
	reset)
		t_check "$name: client RST and backend reset recorded" "true true" "$crst $breset"
		[ "$leaked" -gt 0 ] && t_pass "$name: leaked segments counted ($leaked)" || t_fail "$name: reset without a leaked segment"
		;;
	clean) t_check "$name: nothing leaked" "0 false" "$leaked $breset" ;;
	esac
done < <(jq -r '.results[] | [.scenario, .expected, .observed, .client_rst, .backend_reset, .leaked_packets] | @tsv' "$json")
missing=0
for p in $(jq -r '.results[].pcaps[]' "$json"); do
	[ -s "$p" ] || { missing=$((missing + 1)); echo "  missing: $p"; }
done
t_check "every pcap named in the report exists" 0 "$missing"
t_done
