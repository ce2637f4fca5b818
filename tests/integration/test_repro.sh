#!/usr/bin/env bash
# The default scenarios on this kernel: every verdict as the oracle expects, the
# JSON report complete, the artifacts there; a wrong or inconclusive verdict fails the
# run; the soak's JSON parses. The scenarios ran on one topology (reused_topology=1 from
# the second on, one prefix), and with --fresh each on its own.
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
missing=0 named=0
for p in $(jq -r '.results[].pcaps[]' "$json"); do
	named=$((named + 1))
	[ -s "$p" ] || { missing=$((missing + 1)); echo "  missing: $p"; }
done
t_check "every result names its three pcaps (client, node, backend)" "$((3 * n))" "$named"
t_check "every pcap named in the report exists" 0 "$missing"

# a sequential run is kept on one CPU whole from before its behaviour probe: every
# injector of it, the probe's too, ran on the same single CPU
t_check "a sequential run on one CPU: its probe and every scenario" 1 \
	"$(sed -n 's/^cpus=//p' "$out"/*/*/inject.kv "$out"/*/behaviours/probe/*/inject.kv | sort -u | grep -c '^[0-9][0-9]*$')" \
	"$(grep -H '^cpus=' "$out"/*/*/inject.kv "$out"/*/behaviours/probe/*/inject.kv)"

# one after another on one topology, by default; each on its own with --fresh
t_check "one topology for every scenario, reused from the second on" "1 $((n - 1))" \
	"$(cat "$out"/*/*/prefix | sort -u | wc -l) $(cat "$out"/*/*/meta.kv | grep -c '^reused_topology=1$')"
"$CTR_TOP/bench/repro" --fresh --scenario seq-above --scenario seq-above/kube-proxy-drop --out "$out/fresh" >"$out/fresh.txt" 2>&1
t_check "--fresh: the pair passes" 0 $? "$(cat "$out/fresh.txt")"
t_check "--fresh: a topology each, none reused" "2 0" \
	"$(cat "$out"/fresh/*/*/prefix | sort -u | wc -l) $(cat "$out"/fresh/*/*/meta.kv | grep -c '^reused_topology=1$')"

# a wrong verdict fails the run: the expectations of a kernel without ignore-delayed
# (seq-below resets there; given as a parent run's measurement, so not probed) against
# this kernel's clean seq-below. A release number alone (CTR_KERNEL=5.10) no longer
# decides: the probe measures this kernel
if ctr_version_ge "$(uname -r)" 6.1; then
	CTR_KERNEL=5.10 "$CTR_TOP/bench/repro" --scenario seq-below --out "$out/rel" >"$out/rel.txt" 2>&1
	t_check "release 5.10 said, ignore-delayed probed: seq-below passes" 0 $? "$(cat "$out/rel.txt")"
	CTR_BEHAVIOURS=ignore-delayed=0 CTR_BEHAVIOURS_SOURCE=test \
		"$CTR_TOP/bench/repro" --scenario seq-below --out "$out/wrong" --json "$out/wrong.json" >"$out/wrong.txt" 2>&1
	t_check "a wrong verdict: bench/repro exits 1" 1 $? "$(cat "$out/wrong.txt")"
	t_check "...and reports it" "reset clean" "$(jq -r '.results[0] | "\(.expected) \(.observed)"' "$out/wrong.json")"
	t_check "...on the table" 1 "$(grep -c '^FAIL: 1 of 1 scenarios not as expected' "$out/wrong.txt")" "$(cat "$out/wrong.txt")"
else
	t_skip "a wrong verdict: needs a kernel >= 6.1 (this test's oracle is the pre-6.1 expectation)"
fi

# an inconclusive run fails too: the injector, with a capture filter that matches nothing
# of the flow (a real option of it), never learns the flow nor sends its event
mkdir "$out/bin"
ln -s "$CTR_BIN/ctreset-review" "$CTR_BIN/ctreset-workload" "$out/bin/"
printf '#!/bin/sh\nexec "%s/ctreset-inject" --capture-filter "tcp port 1" "$@"\n' "$CTR_BIN" >"$out/bin/ctreset-inject"
chmod 755 "$out/bin/ctreset-inject"
CTR_BIN=$out/bin "$CTR_TOP/bench/repro" --scenario seq-above --out "$out/inc" --json "$out/inc.json" >"$out/inc.txt" 2>&1
t_check "an inconclusive run: bench/repro exits 1" 1 $? "$(cat "$out/inc.txt")"
t_check "...and reports it" "reset inconclusive" "$(jq -r '.results[0] | "\(.expected) \(.observed)"' "$out/inc.json")"

# the soak's JSON summary, one pair, through jq
"$CTR_TOP/bench/soak" --pairs 1 --out "$out/soak" --json "$out/soak.json" >"$out/soak.txt" 2>&1
t_check "bench/soak --pairs 1 passes" 0 $? "$(cat "$out/soak.txt")"
t_check "...its JSON parses (jq) and counts one pair, nothing wrong" "1 0 0 0" \
	"$(jq -r '"\(.pairs) \(.wrong) \(.inconclusive) \(.missing)"' "$out/soak.json" 2>&1)"
t_done
