#!/usr/bin/env bash
# A cell handed to C once (ctr_run_scenario's stream path on a shared topology): the
# injector writes the cell's meta.kv once (the runner's lines given with --meta, its
# drop.NS counts, the times) and reviews the cell in-process (--review): no ctreset-review
# process for the cell, meta.kv's keys each once and in the runner's order, and the review
# run again offline on the cell's directory (ctreset-review --verdict DIR) gives the same
# verdict.kv, result.json and record.kv (time.verdict_ms apart: written after the record).
# A cell the injector leaves no record of (here: it refuses a bad --meta line, exit 2) is
# finished by the runner as before: its meta.kv, a failed record, its review and the record
# again with the whole error.
# shellcheck disable=SC2154 # $out and $prefix: t_shared_topology's (lib.sh)
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_tools

t_shared_topology kube-proxy-drop

# the tools as the runner finds them, ctreset-review logging each start
mkdir "$out/bin"
for t in ctreset-inject ctreset-workload ctreset-shard ctreset-audit; do
	ln -s "$CTR_BIN/$t" "$out/bin/$t"
done
printf '#!/bin/sh\necho "$*" >>%q\nexec %q "$@"\n' "$out/reviews" "$CTR_BIN/ctreset-review" >"$out/bin/ctreset-review"
chmod +x "$out/bin/ctreset-review"
real_bin=$CTR_BIN

cell() { # TRIGGER EXPECTED
	local d=$out/$1 keys want
	: >"$out/reviews"
	CTR_BIN=$out/bin ctr_run_scenario "$d" "once/$1" "$1" kube-proxy-drop "$2" test 2>"$out/$1.stderr"
	t_check "$1: the cell completed, $2" "0 $2" "$? $(sed -n 's/^observed=//p' "$d/verdict.kv")" \
		"$(cat "$d/error" "$out/$1.stderr" 2>/dev/null)"
	t_check "$1: no ctreset-review process for the cell (the injector reviewed it)" "" "$(cat "$out/reviews")"
	keys=$(cut -d= -f1 "$d/meta.kv" | sed "s/$prefix/P/" | tr '\n' ' ')
	want="scenario workload topology backend family trigger workaround expected expected_reason kernel"
	# the counters' lines in the injector's order: its --stat-ns namespaces, the DNAT node last
	want+=" behaviours behaviours_source service prefix reused_topology drop.P-nodeB drop.P-nodeA"
	want+=" time.setup_ms time.inject_ms time.collect_ms time.teardown_ms duration_ms time.verdict_ms "
	t_check "$1: meta.kv written once: each key once, in the runner's order, the injector's facts after" \
		"$want" "$keys" "$(cat "$d/meta.kv")"
	"$real_bin/ctreset-review" --verdict "$d" --format kv --json-out "$out/$1.json" \
		--record "$out/$1.record" >"$out/$1.verdict" 2>"$out/$1.review.err"
	t_check "$1: the review again, offline: exit 0" 0 $? "$(cat "$out/$1.review.err")"
	t_check "$1: ...the same verdict.kv" "" "$(diff "$d/verdict.kv" "$out/$1.verdict")"
	t_check "$1: ...the same result.json" "" "$(diff "$d/result.json" "$out/$1.json")"
	t_check "$1: ...the same record.kv (but time.verdict_ms, written after it)" "" \
		"$(diff "$d/record.kv" <(grep -v '^time\.verdict_ms=' "$out/$1.record"))"
}

cell seq-above clean
t_check "seq-above: node B's DROP rule moved by 1 (the injector's count)" 1 \
	"$(sed -n "s/^drop\.$prefix-nodeB=//p" "$out/seq-above/meta.kv")"
t_check "seq-above: nothing kept for the next cell (each injector reads its own before)" "" \
	"$(compgen -G "$CTR_STATE/$prefix/counters")"
cell ct-entry-lost reset
t_check "ct-entry-lost: its own count (before = its injector's reading after the reset): node B moved by 0" 0 \
	"$(sed -n "s/^drop\.$prefix-nodeB=//p" "$out/ct-entry-lost/meta.kv")"

# the injector refuses the cell (a --meta line that is not KEY=VALUE): the runner finishes it
: >"$out/reviews"
CTR_CELL_META="not a pair" CTR_BIN=$out/bin ctr_run_scenario "$out/refused" once/refused seq-above \
	kube-proxy-drop clean test 2>"$out/refused.stderr"
t_check "a refused injector: the cell failed" 1 $?
t_check "...its meta.kv from the runner (coordinates, then the times)" "once/refused not a pair 1" \
	"$(sed -n 's/^scenario=//p' "$out/refused/meta.kv") $(grep -x 'not a pair' "$out/refused/meta.kv") $(grep -c '^duration_ms=' "$out/refused/meta.kv")"
t_check "...its record: failed, undecided, with the injector's words" "fail 0 1" \
	"$(sed -n 's/^status=//p; s/^decided=//p' "$out/refused/record.kv" | tr '\n' ' ')$(grep -c '^error_line=ctreset-inject: .*--meta' "$out/refused/record.kv")" \
	"$(cat "$out/refused/record.kv" "$out/refused/error" 2>/dev/null)"
t_check "...reviewed by the runner: the review, then the record with the whole error" \
	"--verdict $out/refused --format kv --json-out $out/refused/result.json --record $out/refused/record.kv|--verdict $out/refused --record $out/refused/record.kv" \
	"$(tr '\n' '|' <"$out/reviews" | sed 's/|$//')"
t_done
