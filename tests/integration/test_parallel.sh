#!/usr/bin/env bash
# Four runs started at once, each of the control + workaround pair: every run passes with
# the expected verdicts, each run had a topology of its own (distinct prefixes), its two
# scenarios one after the other on it (bench/repro's default), and
# the host is as before once they are all done.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq

RUNS=4
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$CTR_TOP/topology/reap" >/dev/null
t_host_state >"$out/before"

pids=()
for ((i = 1; i <= RUNS; i++)); do
	"$CTR_TOP/bench/repro" --scenario seq-above --scenario seq-above/kube-proxy-drop \
		--out "$out/runs$i" --json "$out/r$i.json" >"$out/table$i" 2>&1 &
	pids+=($!)
done
for ((i = 1; i <= RUNS; i++)); do
	wait "${pids[i - 1]}"
	t_check "run $i of $RUNS started at once passes" 0 $? "$(cat "$out/table$i")"
	t_check "run $i: seq-above reset, with kube-proxy-drop clean" "seq-above=reset seq-above/kube-proxy-drop=clean" \
		"$(jq -r '[.results[] | "\(.scenario)=\(.observed)"] | join(" ")' "$out/r$i.json" 2>/dev/null)" "$(cat "$out/table$i")"
	# at once, before anyone's reaper (other runs on this machine reap dead leftovers)
	t_check "run $i left no namespace of its own" "" \
		"$(cat "$out/runs$i"/*/*/prefix 2>/dev/null | while read -r p; do ctr_prefix_namespaces "$p"; done | tr '\n' ' ')"
done
t_check "every run had its own topology, both its scenarios on it" "$((2 * RUNS)) $RUNS $RUNS" \
	"$(cat "$out"/runs*/*/*/prefix | wc -l) $(cat "$out"/runs*/*/*/prefix | sort -u | wc -l) $(
		for ((i = 1; i <= RUNS; i++)); do cat "$out/runs$i"/*/*/prefix | sort -u | wc -l; done | grep -c '^1$')"
# the snapshot before any reaping: a run that left something behind must show here
# shellcheck disable=SC2046 # one prefix a word
t_host_compare "after $RUNS parallel runs" "$out/before" $(cat "$out"/runs*/*/*/prefix)
t_done
