#!/usr/bin/env bash
# Shards (bench/matrix --shard I/N) and their merge (ctreset-review --render FORMAT DIR...)
# on this kernel: a slice of the default matrix (cross-node, iptables-nft and nft, IPv4 and
# IPv6, seq-above and bad-flags, none and kube-proxy-drop: 16 cells in 4 groups) run whole,
# then in 3 shards at once through GNU parallel; the shards hold the selection exactly,
# never split a group, and their merge equals the whole run cell for cell (status,
# observed and expected verdicts); one shard's directory removed, the merge fails naming
# each of its cells; the KTAP of a run and of the merge pass a strict KTAP parser
# (ktap-check); CTR_SHARD and JOB_COMPLETION_INDEX give the shard --shard does, and the
# command line wins.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq parallel

B=$CTR_BIN
M=$CTR_TOP/bench/matrix
K=${BASH_SOURCE[0]%/*}/ktap-check
# shellcheck disable=SC2054 # the filters take comma lists
S=(--topology cross-node --backend iptables-nft,nft --family 4,6 --trigger seq-above,bad-flags
	--workaround none,kube-proxy-drop --jobs 2)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# --- which shard: the command line, then CTR_SHARD, then JOB_COMPLETION_INDEX ------------
"$M" "${S[@]}" --list --shard 2/3 >"$out/l-cmd" 2>&1
t_check "--list --shard 2/3: exit 0" 0 $? "$(cat "$out/l-cmd")"
CTR_SHARD=2/3 "$M" "${S[@]}" --list >"$out/l-env" 2>&1
t_check "CTR_SHARD=2/3 lists what --shard 2/3 does" "$(cat "$out/l-cmd")" "$(cat "$out/l-env")"
JOB_COMPLETION_INDEX=1 CTR_SHARD_TOTAL=3 "$M" "${S[@]}" --list >"$out/l-job" 2>&1
t_check "JOB_COMPLETION_INDEX=1 CTR_SHARD_TOTAL=3 lists what --shard 2/3 does" "$(cat "$out/l-cmd")" "$(cat "$out/l-job")"
CTR_SHARD=3/3 JOB_COMPLETION_INDEX=0 CTR_SHARD_TOTAL=3 "$M" "${S[@]}" --list --shard 2/3 >"$out/l-win" 2>&1
t_check "the command line wins over CTR_SHARD and JOB_COMPLETION_INDEX" "$(cat "$out/l-cmd")" "$(cat "$out/l-win")"
CTR_SHARD=2/3 JOB_COMPLETION_INDEX=0 CTR_SHARD_TOTAL=3 "$M" "${S[@]}" --list >"$out/l-win2" 2>&1
t_check "CTR_SHARD wins over JOB_COMPLETION_INDEX" "$(cat "$out/l-cmd")" "$(cat "$out/l-win2")"
JOB_COMPLETION_INDEX=1 "$M" "${S[@]}" --list >"$out/l-bad" 2>&1
t_check "JOB_COMPLETION_INDEX without CTR_SHARD_TOTAL: usage error naming it" "2 1" \
	"$? $(grep -c 'without CTR_SHARD_TOTAL' "$out/l-bad")" "$(cat "$out/l-bad")"
"$M" "${S[@]}" --list --shard 4/3 >"$out/l-bad" 2>&1
t_check "--shard 4/3: usage error" 2 $? "$(cat "$out/l-bad")"

# an empty shard (4 groups, 8 shards): it records itself (its shard, the selection) and exits 0
"$M" "${S[@]}" --shard 8/8 --out "$out/empty" >"$out/empty.log" 2>&1
t_check "--shard 8/8 of 4 groups: exit 0, nothing run" "0 1" "$? $(grep -c 'nothing to run' "$out/empty.log")" "$(cat "$out/empty.log")"
t_check "... its run.kv: shard 8/8, 16 selection lines, no cell" "8/8 16 0" \
	"$(sed -n 's/^shard=//p' "$out"/empty/*/run.kv) $(grep -c '^selection=' "$out"/empty/*/run.kv) $(grep -c '^cell=' "$out"/empty/*/run.kv)"

# a sharded run's groups hold at most 36 cells (an unsharded run's, test_matrix: a
# topology's every workaround): one topology's 90 cells (9 workarounds x 10 triggers) are
# 3 groups of 3 workarounds
"$M" --topology cross-node --backend iptables-nft --family 4 --shard 4096/4096 --out "$out/big" >"$out/big.log" 2>&1
t_check "sharded: 90 cells of one topology in 3 groups" "0 3 90" \
	"$? $(sed -n 's/^groups=//p' "$out"/big/*/run.kv) $(grep -c '^selection=' "$out"/big/*/run.kv)" "$(cat "$out/big.log")"

# --- the whole slice, and its 3 shards through GNU parallel ------------------------------
"$M" "${S[@]}" --out "$out/whole" >"$out/whole.log" 2>&1
t_check "the whole slice: exit 0" 0 $? "$(tail -20 "$out/whole.log")"
whole=$(echo "$out"/whole/*/)
parallel --will-cite --halt never -j3 "$M" "${S[@]}" --shard {}/3 --out "$out/shards/shard-{}" \
	'>' "$out/shard-{}.log" '2>&1' ::: 1 2 3
t_check "3 shards through GNU parallel: every one exit 0" 0 $? "$(tail -n 5 "$out"/shard-*.log)"

# the shards' cells: the selection exactly, each cell once, a group in one shard only
sel=$(grep '^selection=' "$whole/run.kv" | cut -d= -f2- | sort)
got=$(cat "$out"/shards/shard-*/*/run.kv | grep '^cell=' | cut -d= -f2- | sort)
t_check "the shards' cells are the whole run's selection, each once" "$sel" "$got"
t_check "the selection: 16 cells" 16 "$(grep -c . <<<"$sel")"
split=$(for i in 1 2 3; do grep '^cell=' "$out"/shards/shard-$i/*/run.kv | cut -d= -f2 | cut -d/ -f1 | sort -u | sed "s/\$/ $i/"; done |
	awk '{ s[$1] = s[$1] " " $2 } END { for (g in s) if (split(s[g], a, " ") > 1) print g s[g] }')
t_check "no group (a topology's cells) split between shards" "" "$split"
empty=0
for i in 1 2 3; do [ "$(grep -c '^cell=' "$out"/shards/shard-$i/*/run.kv)" -gt 0 ] || empty=$((empty + 1)); done
t_check "4 groups in 3 shards: none empty" 0 "$empty"
t_check "each shard records its shard and the whole selection's hash" \
	"1/3 2/3 3/3 $(sed -n 's/^selection_hash=//p' "$whole/run.kv")" \
	"$(for i in 1 2 3; do sed -n 's/^shard=//p' "$out"/shards/shard-$i/*/run.kv; done | paste -sd' ') $(sed -n 's/^selection_hash=//p' "$out"/shards/shard-*/*/run.kv | sort -u)"

t_check "each shard's report.json says its shard and the selection's hash" \
	"1/3 2/3 3/3 $(sed -n 's/^selection_hash=//p' "$whole/run.kv")" \
	"$(for i in 1 2 3; do jq -r .shard "$out"/shards/shard-$i/*/report.json; done | paste -sd' ') $(jq -r .selection_hash "$out"/shards/shard-*/*/report.json | sort -u)"

# --- the merge equals the whole run, cell for cell ------------------------------------------
cells() { jq -r '.results[] | [.cell, .status, .observed // "-", .expected // "-"] | @tsv' "$1"; }
"$B/ctreset-review" --render json "$out/shards" >"$out/merged.json" 2>"$out/merge.err"
t_check "merge (json): exit 0" 0 $? "$(cat "$out/merge.err")"
cells "$whole/report.json" >"$out/whole.cells"
cells "$out/merged.json" >"$out/merged.cells"
t_check "merged = whole, cell for cell (cell, status, observed, expected, in order)" \
	"$(cat "$out/whole.cells")" "$(cat "$out/merged.cells")" "$(diff "$out/whole.cells" "$out/merged.cells")"
t_check "merged: 16 cells" 16 "$(grep -c . "$out/merged.cells")"
"$B/ctreset-review" --render table "$whole" >"$out/whole.table"
"$B/ctreset-review" --render table "$out/shards" >"$out/merged.table"
t_check "merged table = whole table" "$(cat "$out/whole.table")" "$(cat "$out/merged.table")"
"$B/ctreset-review" --render summary "$out"/shards/shard-{1,2,3} >"$out/merged.summary"
t_check "merge (summary) of the three directories: exit 0" 0 $? "$(cat "$out/merged.summary")"
"$B/ctreset-review" --render tap "$out/shards" >"$out/merged.tap"
t_check "merged TAP: the plan of 16" "1..16" "$(sed -n 2p "$out/merged.tap")"
"$B/ctreset-review" --render junit "$out/shards" >"$out/merged.xml"
t_check "merged JUnit: 16 testcases" 16 "$(grep -c '<testcase ' "$out/merged.xml")"

# --- KTAP: the run's, the merge's -------------------------------------------------------------
"$K" "$whole/matrix.ktap" >"$out/k1" 2>&1
t_check "bench/matrix's KTAP passes the strict parser" 0 $? "$(cat "$out/k1")" "$(cat "$whole/matrix.ktap")"
"$B/ctreset-review" --render ktap "$out/shards" >"$out/merged.ktap"
"$K" "$out/merged.ktap" >"$out/k2" 2>&1
t_check "the merge's KTAP passes the strict parser" 0 $? "$(cat "$out/k2")" "$(cat "$out/merged.ktap")"
t_check "KTAP: a subtest per topology group (4), a result per cell (16)" "4 16" \
	"$(grep -c '^ok\|^not ok' "$out/merged.ktap") $(grep -c '^  ok\|^  not ok' "$out/merged.ktap")"
skips=$(jq '[.results[] | select(.status == "skip")] | length' "$whole/report.json")
t_check "KTAP: a SKIP directive with its reason for each skipped cell ($skips)" "$skips" \
	"$(grep -c '^  ok [0-9]* [^#]* # SKIP [^ ]' "$out/merged.ktap")"
# a second kernel's run (this one's, renamed): a subtest per kernel around the groups
cp -a "$whole" "$out/k2run"
sed -i 's/^kernel=.*/kernel=0.0-other/' "$out/k2run/run.kv"
"$B/ctreset-review" --render ktap "$out/shards" "$out/k2run" >"$out/kernels.ktap"
"$K" "$out/kernels.ktap" >"$out/k3" 2>&1
t_check "two kernels' KTAP (kernel > group > cell) passes the strict parser" 0 $? "$(cat "$out/k3")"
t_check "two kernels' KTAP: 2 kernels, 8 groups, 32 cells" "2 8 32" \
	"$(grep -c '^ok\|^not ok' "$out/kernels.ktap") $(grep -c '^  ok\|^  not ok' "$out/kernels.ktap") $(grep -c '^    ok\|^    not ok' "$out/kernels.ktap")"

# --- a shard missing: the merge fails, naming its cells ---------------------------------------
mapfile -t gone < <(grep '^cell=' "$out"/shards/shard-2/*/run.kv | cut -d= -f2-)
rm -rf "$out/shards/shard-2"
"$B/ctreset-review" --render table "$out/shards" >"$out/miss.out" 2>"$out/miss.err"
t_check "shard 2's directory removed: the merge exits 1" 1 $? "$(cat "$out/miss.err")"
t_check "... and prints no report" "" "$(cat "$out/miss.out")"
t_check "... it names shard 2/3 missing" 1 "$(grep -c 'missing shard 2/3' "$out/miss.err")" "$(cat "$out/miss.err")"
named=0
for c in "${gone[@]}"; do grep -qxF "  missing cell $c" "$out/miss.err" && named=$((named + 1)); done
t_check "... and each of its ${#gone[@]} cells" "${#gone[@]} ${#gone[@]}" "$named $(grep -c '^  missing cell ' "$out/miss.err")" "$(cat "$out/miss.err")"
t_check "... (shard 2 had cells)" 1 "$((${#gone[@]} > 0))"
"$B/ctreset-review" --render ktap "$out/shards" "$whole" >/dev/null 2>"$out/dup.err"
t_check "a shard given with the whole run (another plan: 1/1): the merge fails" 1 $? "$(cat "$out/dup.err")"
t_done
