#!/usr/bin/env bash
# The regression matrix on a representative subset (the crafted and conntrack triggers
# under the firewall and sysctl workarounds live, 7 x 6 of the matrix's 10 triggers x 10
# workarounds; keepalive, tcp-loose-0, kube-proxy-drop+tcp-loose-0 and calico-invalid-drop
# against a crafted trigger, seq-above; the natural triggers are test_natural's; every
# topology, every backend and both families appear; the full matrix is
# `make matrix`): zero unexpected
# cells, TAP that prove accepts, JUnit XML that xmllint parses, a JSON report with every
# cell, each cell's record and the reports rendered again from them the same; the kube-proxy-drop cell on the nft backend is a SKIP with its reason; and cells on
# a reused, reset topology decide as cells on fresh ones (the reset leaves nothing behind);
# the groups start dearest first, never more at once than --max-jobs; at the run's tail
# a group alone is split onto more topologies, each cell still run once.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq prove xmllint conntrack

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
M=$CTR_TOP/bench/matrix

# 1. a subset crossing every dimension: 3 topologies x 3 backends x 2 families for two
# triggers and two workarounds (72 cells), each group on a topology of its own
"$M" --trigger seq-above,bad-flags --workaround none,kube-proxy-drop \
	--out "$out/a" --tap "$out/a.tap" --junit "$out/a.xml" --json "$out/a.json" >"$out/a.txt" 2>&1
rc=$?
t_check "subset: no unexpected cell (exit 0)" 0 "$rc" "$(sed -n '/UNEXPECTED/,$p' "$out/a.txt" | head -30)"
t_check "subset: prove accepts the TAP" 0 "$(prove -e cat "$out/a.tap" >"$out/prove.txt" 2>&1; echo $?)" "$(tail -5 "$out/prove.txt")"
t_check "subset: JUnit XML is well-formed" 0 "$(xmllint --noout "$out/a.xml" 2>&1 >/dev/null; echo $?)"
t_check "subset: JUnit counts every cell" 72 "$(xmllint --xpath 'count(//testcase)' "$out/a.xml")"
t_check "subset: JSON report parses" 0 "$(jq empty "$out/a.json" >/dev/null 2>&1; echo $?)"
t_check "subset: one JSON result per cell" 72 "$(jq '.results | length' "$out/a.json")"
t_check "subset: summary adds up" 72 "$(jq '.summary.pass + .summary.fail + .summary.skip' "$out/a.json")"
t_check "subset: kube-proxy-drop on nft is skipped (3 topologies x 2 families x 2 triggers)" 12 \
	"$(jq '[.results[] | select(.status == "skip" and .backend == "nft" and .workaround == "kube-proxy-drop")] | length' "$out/a.json")"
t_check "subset: a skip says why" 0 "$(jq '[.results[] | select(.status == "skip" and (.skip_reason | length) == 0)] | length' "$out/a.json")"
t_check "subset: TAP marks the skips" 12 "$(grep -c '# SKIP' "$out/a.tap")"
# every report is rendered from the cells' records (ctreset-review writes one per cell,
# a skipped cell too): the same records render the same reports again
rd=$(jq -r '.run_id' "$out/a.json")
rd=$out/a/$rd
t_check "subset: every cell has its record (the skipped ones too)" 72 "$(find "$rd" -name record.kv | wc -l)"
t_check "subset: a skipped cell's record says skip and why" 12 "$(grep -l '^status=skip' "$rd"/*/*/record.kv | xargs grep -l '^skip_reason=.' | wc -l)"
for fmt in json:a.json tap:a.tap junit:a.xml; do
	t_check "subset: the ${fmt%%:*} report rendered again from the records is the same" "" \
		"$("$CTR_BIN/ctreset-review" --render "${fmt%%:*}" "$rd" | diff - "$out/${fmt#*:}" | head -5)"
done
# bench/matrix writes them with --render-to (one load of the records): its misuse is a
# usage error, nothing written
t_check "subset: --render-to with an unknown format is a usage error" 2 \
	"$("$CTR_BIN/ctreset-review" --render summary --render-to nosuch="$out/x" "$rd" >/dev/null 2>&1; echo $?)"
t_check "subset: --render-to without FILE is a usage error" 2 \
	"$("$CTR_BIN/ctreset-review" --render summary --render-to tap "$rd" >/dev/null 2>&1; echo $?)"
t_check "subset: --render-to on a merge of runs is a usage error" 2 \
	"$("$CTR_BIN/ctreset-review" --render summary --render-to tap="$out/x" "$rd" "$rd" >/dev/null 2>&1; echo $?)"
t_check "subset: a refused --render-to wrote nothing" 1 "$([ -e "$out/x" ]; echo $?)"
for key in topology backend family trigger workaround expected observed evidence pcaps conntrack_invalid; do
	t_check "subset: every run cell has '$key'" 60 "$(jq "[.results[] | select(.status != \"skip\") | select(has(\"$key\"))] | length" "$out/a.json")"
done
# CPU placement (bench/lib.sh): each group's cells ran on one CPU, the same for all of
# them (none and kube-proxy-drop share a group, and its topology: a group split at the
# run's tail is two topologies), and the groups were spread over the CPUs
declare -A group_cpus=()
many=0
for f in "$rd"/*/*/inject.kv; do
	c=$(sed -n 's/^cpus=//p' "$f")
	[[ $c =~ ^[0-9]+$ ]] || many=$((many + 1))
	g=$(cat "${f%/inject.kv}/prefix")
	[[ " ${group_cpus[$g]:-} " == *" $c "* ]] || group_cpus[$g]+=" $c"
done
t_check "placement: every cell's injector was kept on one CPU" 0 "$many" "$(grep -h '^cpus=' "$rd"/*/*/inject.kv | sort | uniq -c)"
t_check "placement: each group on one CPU" "" "$(for g in "${!group_cpus[@]}"; do read -ra w <<<"${group_cpus[$g]}"; [ ${#w[@]} = 1 ] || echo "${g##*/}:${group_cpus[$g]}"; done)"
ctr_cpus
if [ ${#CTR_CPUS[@]} -ge 2 ]; then
	t_check "placement: the groups used more than one CPU" 1 \
		"$(($(printf '%s\n' "${group_cpus[@]}" | sort -u | wc -l) > 1))" "$(printf '%s\n' "${group_cpus[@]}" | sort | uniq -c)"
else
	t_skip "placement over several CPUs: this run may use one CPU only (${CTR_CPUS[*]})"
fi
# the evidence says which node's rule moved: node B's on cross-node, node A's on same-node
t_check "cross-node kube-proxy-drop: node B's rule dropped seq-above" 1 \
	"$(jq -r '[.results[] | select(.topology == "cross-node" and .backend == "iptables-nft" and .family == "ipv4" and .trigger == "seq-above" and .workaround == "kube-proxy-drop") | .drop_counter | to_entries[] | select(.key | endswith("-nodeB")) | .value] | .[0]' "$out/a.json")"
t_check "same-node kube-proxy-drop: node A's rule dropped seq-above" 1 \
	"$(jq -r '[.results[] | select(.topology == "same-node" and .backend == "iptables-legacy" and .family == "ipv6" and .trigger == "seq-above" and .workaround == "kube-proxy-drop") | .drop_counter | to_entries[] | select(.key | endswith("-nodeA")) | .value] | .[0]' "$out/a.json")"

# the 7 crafted and conntrack triggers under the 6 firewall and sysctl workarounds, live
# (42 cells: one group, each workaround switched on its topology in turn; --jobs 1: not
# split at the run's tail): each workaround, those that help and those that cannot,
# against each of those triggers
"$M" --jobs 1 --trigger seq-above,seq-below,ack-above,ack-below,bad-flags,small-overshoot,ct-entry-lost \
	--workaround none,kube-proxy-drop,input-drop,nft-invalid-drop,be-liberal,ignore-invalid-rst \
	--topology cross-node --backend iptables-nft --family 4 --out "$out/all" --json "$out/all.json" \
	--tap "$out/all.tap" >"$out/all.txt" 2>&1
t_check "7 triggers x 6 workarounds: no unexpected cell" 0 $? "$(sed -n '/UNEXPECTED/,$p' "$out/all.txt" | head -30)"
t_check "...prove accepts its TAP" 0 "$(prove -e cat "$out/all.tap" >/dev/null 2>&1; echo $?)"
for t in seq-above seq-below ack-above ack-below bad-flags small-overshoot ct-entry-lost; do
	t_check "live: $t ran under all 6 workarounds" 6 \
		"$(jq --arg t "$t" '[.results[] | select(.trigger == $t and .status == "pass" and (.observed | IN("reset", "leak", "clean")))] | length' "$out/all.json")"
done
for w in none kube-proxy-drop input-drop nft-invalid-drop be-liberal ignore-invalid-rst; do
	t_check "live: $w ran against all 7 triggers" 7 \
		"$(jq --arg w "$w" '[.results[] | select(.workaround == $w and .status == "pass")] | length' "$out/all.json")"
done
t_check "live: the 42 cells ran on one topology (an unsharded run's group: all its workarounds)" 1 \
	"$(jq -r '.results[].dir' "$out/all.json" | while read -r d; do cat "$d/prefix"; done | sort -u | wc -l)"
# the workarounds that help do their work: each stops seq-above
t_check "live: seq-above under none, kube-proxy-drop, nft-invalid-drop, be-liberal" "reset clean clean clean" \
	"$(for w in none kube-proxy-drop nft-invalid-drop be-liberal; do jq -r --arg w "$w" '.results[] | select(.trigger == "seq-above" and .workaround == $w) | .observed' "$out/all.json"; done | tr '\n' ' ' | sed 's/ $//')"

# the other workarounds against a crafted trigger, live: keepalive and loose=0 alone do
# not stop seq-above, the DROP rule with loose=0 and Calico's INVALID drop do; Calico's
# (a noflush restore topology/up alone lays) on a topology of its own, the others
# switched in turn on one (--jobs 1: no split)
"$M" --jobs 1 --trigger seq-above --workaround none,keepalive,tcp-loose-0,kube-proxy-drop+tcp-loose-0,calico-invalid-drop \
	--topology cross-node --backend iptables-nft --family 4 --out "$out/rest" --json "$out/rest.json" >"$out/rest.txt" 2>&1
t_check "seq-above x keepalive, tcp-loose-0, drop+loose-0, calico-invalid-drop: no unexpected cell" 0 $? \
	"$(sed -n '/UNEXPECTED/,$p' "$out/rest.txt" | head -30)"
t_check "...observed: none, keepalive, tcp-loose-0 reset; drop+loose-0, calico-invalid-drop clean" \
	"none:reset keepalive:reset tcp-loose-0:reset kube-proxy-drop+tcp-loose-0:clean calico-invalid-drop:clean" \
	"$(jq -r '[.results[] | "\(.workaround):\(.observed)"] | join(" ")' "$out/rest.json")"
prefixes() { jq -r ".results[] | select($1) | .dir" "$out/rest.json" | while read -r d; do cat "$d/prefix"; done | sort -u | wc -l; }
t_check "...the four switched on one topology, calico-invalid-drop on its own" "1 2" \
	"$(prefixes '.workaround != "calico-invalid-drop"') $(prefixes true)"

# the nft backend's switches (IPv6): input-drop's own table, nft-invalid-drop's rule in
# kube-proxy's chain "forward", both removed again, on one topology (--jobs 1: no split)
"$M" --jobs 1 --trigger seq-above --workaround none,input-drop,nft-invalid-drop,be-liberal --topology cross-node \
	--backend nft --family 6 --out "$out/nft" --json "$out/nft.json" >"$out/nft.txt" 2>&1
t_check "nft, switched live: no unexpected cell" 0 $? "$(sed -n '/UNEXPECTED/,$p' "$out/nft.txt" | head -30)"
t_check "nft: the cells ran on one topology" 1 "$(jq -r '.results[].dir' "$out/nft.json" | while read -r d; do cat "$d/prefix"; done | sort -u | wc -l)"
t_check "nft: seq-above under none, input-drop, nft-invalid-drop, be-liberal" "reset reset clean clean" \
	"$(jq -r '[.results[] | .observed] | join(" ")' "$out/nft.json")"
t_check "nft: nft-invalid-drop's counter moved on node B" 1 \
	"$(jq -r '.results[] | select(.workaround == "nft-invalid-drop") | .drop_counter | to_entries[] | select(.key | endswith("-nodeB")) | .value' "$out/nft.json")"

# 1b. a workaround the backend cannot take at all (kube-proxy-drop on nft) between two it
# can: its cells are skipped without a topology, and the group's one topology carries on
# to the next (the switch to the skipped one used to remove it, the next built it anew)
"$M" --topology cross-node --backend nft --family 4 --trigger seq-above \
	--workaround none,kube-proxy-drop,be-liberal --jobs 1 --out "$out/sk" --json "$out/sk.json" >"$out/sk.txt" 2>&1
t_check "a skipped workaround mid-group: no unexpected cell" 0 "$?" "$(tail -5 "$out/sk.txt")"
t_check "a skipped workaround mid-group: 2 passed, 1 skipped" "2 1" "$(jq -r '"\(.summary.pass) \(.summary.skip)"' "$out/sk.json")"
t_check "a skipped workaround mid-group: the group built one topology" 1 \
	"$(find "$out/sk" -name '*.topology.env' | wc -l)" "$(find "$out/sk" -name '*.topology.env')"

# 2. an unexpected cell fails the run and is listed: an oracle that expects the opposite
# (and --no-pin: its cells run wherever this shell may)
sed 's/^seq-above\t\*\t\*\t\*\t\*\treset\t/seq-above\t*\t*\t*\t*\tclean\t/' "$CTR_TOP/bench/matrix.expect" >"$out/wrong.expect"
"$M" --no-pin --expect "$out/wrong.expect" --trigger seq-above,seq-below --workaround none --topology cross-node \
	--backend iptables-nft --family 4 --out "$out/w" --junit "$out/w.xml" --tap "$out/w.tap" >"$out/w.txt" 2>&1
t_check "a wrong expectation fails the run" 1 $?
t_check "...and lists the cell with its pcaps" 1 "$(grep -c 'seq-above/none: expected clean, observed reset' "$out/w.txt")" "$(cat "$out/w.txt")"
t_check "...with a JUnit failure (xmllint), the other cell passing" "1 2" \
	"$(xmllint --xpath 'count(//testcase/failure)' "$out/w.xml") $(xmllint --xpath 'count(//testcase)' "$out/w.xml")"
t_check "...and a JUnit failure count in its suite" 1 "$(xmllint --xpath 'string(//testsuite/@failures)' "$out/w.xml")"
prove -e cat "$out/w.tap" >"$out/wprove.txt" 2>&1
t_check "...whose TAP prove reads as failed" 1 "$(($? != 0))" "$(cat "$out/wprove.txt")"
t_check "...one test of two failed, says prove" 1 "$(grep -cE 'Failed 1/2 subtests' "$out/wprove.txt")" "$(cat "$out/wprove.txt")"
allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
t_check "--no-pin: the cells' injectors could run on every CPU this test may ($allowed)" "$allowed $allowed" \
	"$(sed -n 's/^cpus=//p' "$out"/w/*/*/*/inject.kv | tr '\n' ' ' | sed 's/ $//')"

# 3. reuse: the same cells on one topology reset between cells, against fresh topologies
for mode in reuse fresh; do
	flag=()
	[ $mode = fresh ] && flag=(--fresh)
	"$M" "${flag[@]}" --trigger seq-above,seq-below,ct-entry-lost,seq-above --workaround none \
		--topology cross-node --backend iptables-nft --family 4 --out "$out/$mode" --json "$out/$mode.json" >/dev/null 2>&1
	t_check "$mode: cells as expected" 0 $?
done
t_check "reused topology decides as fresh ones" \
	"$(jq -r '[.results[] | .observed] | join(" ")' "$out/fresh.json")" "$(jq -r '[.results[] | .observed] | join(" ")' "$out/reuse.json")"
t_check "reused cells ran on one topology" 1 "$(jq -r '.results[].dir' "$out/reuse.json" | while read -r d; do cat "$d/prefix"; done | sort -u | wc -l)"
# the reset is complete: each later cell's injector found only the earlier cell's entries
# and left the node tables empty before its own flow (ct_left=0 on every node)
left=0 flushed=0
for d in $(jq -r '.results[].dir' "$out/reuse.json"); do
	while IFS='=' read -r k v; do
		[[ $k == ct_left.* ]] && left=$((left + v))
		[[ $k == ct_flushed.* ]] && flushed=$((flushed + v))
	done <"$d/inject.kv"
done
t_check "reset: every node table empty before each reused cell" 0 "$left"
[ "$flushed" -gt 0 ] && t_pass "reset: the earlier cells' entries were there and were removed ($flushed)" ||
	t_fail "reset: no earlier entry was flushed: the test proves nothing"
t_check "reset: no namespace of the matrix left behind" "" "$(for d in $(jq -r '.results[].dir' "$out/reuse.json"); do ctr_prefix_namespaces "$(cat "$d/prefix")"; done)"

# 4. the schedule (bench/schedule.sh): the groups start dearest first by the cost table
# (the asymmetric topology's two connect cells, 300 + 2 x 1266 ms, before cross-node's two
# seq-above cells, 300 + 2 x 225 ms, though the selection lists cross-node first), and
# --jobs auto never runs more groups at once than --max-jobs: with 1, the first group's
# last cell ended before the second group's first cell started (each cell's prefix file
# is written as it starts, its record.kv as it ends)
"$M" --jobs auto --max-jobs 1 --topology cross-node,asymmetric --trigger seq-above,connect \
	--workaround none,kube-proxy-drop --backend iptables-nft --family 4 --out "$out/s" --json "$out/s.json" >"$out/s.txt" 2>&1
t_check "schedule: no unexpected cell" 0 $? "$(sed -n '/UNEXPECTED/,$p' "$out/s.txt" | head -30)"
sd=$out/s/$(jq -r .run_id "$out/s.json")
t_check "schedule: dearest first (the log: cost, topology)" "2832 asymmetric,750 cross-node" \
	"$(awk -F'\t' '{split($6, g, " "); printf "%s%s %s", sep, $5, g[1]; sep = ","}' "$sd/schedule.log")" "$(cat "$sd/schedule.log")"
t_check "schedule: --max-jobs 1, one group at once by the log" "1 1" "$(cut -f2 "$sd/schedule.log" | paste -sd' ')"
span() { # GLOB FILE: the earliest and latest mtime of FILE in the cells of GLOB
	find "$sd/$1"/*/ -maxdepth 1 -name "$2" -printf '%T@\n' | sort -n | sed -n '1p;$p' | paste -sd' '
}
read -r _ a_end < <(span asymmetric-iptables-nft-ipv4 record.kv)
read -r c_start _ < <(span cross-node-iptables-nft-ipv4 prefix)
t_check "schedule: the asymmetric group's cells all ended before cross-node's began" 1 \
	"$(awk -v a="${a_end:-9e18}" -v c="${c_start:-0}" 'BEGIN {print (a <= c) ? 1 : 0}')" "asymmetric ended $a_end, cross-node began $c_start"
# --jobs auto's busy count: a group in a cell of a waiting trigger (priced at 125% of
# cell.default or more in the cost table) is not busy; one in a cheaper cell, building its
# topology, or that said nothing yet is
# shellcheck source=bench/schedule.sh
. "$CTR_TOP/bench/schedule.sh"
# shellcheck disable=SC2034 # ctr_sched_costs reads it
CTR_SHARD_COSTS=$CTR_TOP/bench/shard-costs
ctr_sched_costs
t_check "schedule: the waiting triggers of the cost table" "connect ct-entry-lost ct-flush delayed-retransmit idle-expiry" \
	"$(printf '%s\n' "${!CTR_SCHED_WAITING[@]}" | sort | paste -sd' ')"
ctr_sched_dir "$out/busy"
for st in 0:idle-expiry 1:seq-above 2:setup 3:ct-flush 4:connect; do
	CTR_SCHED_SLOT=${st%%:*} ctr_sched_state "${st#*:}"
done
ctr_sched_busy 0 1 2 3 4 5
t_check "schedule: busy: seq-above, setup and the slot that said nothing (not idle-expiry, ct-flush, connect)" 3 "$REPLY"
# the order: a group of waiting triggers only (connect) before a dearer one of others
ctr_sched_order 0 "cross-node iptables-nft 4 none,kube-proxy-drop,input-drop seq-above small-overshoot bad-flags" \
	"asymmetric iptables-nft 4 none connect" "cross-node iptables-nft 4 be-liberal seq-below"
t_check "schedule: a group of waiting cells only first, then the others dearest first" \
	"asymmetric:1566 cross-node:1977 cross-node:382" "$(for i in "${!CTR_SCHED_ORDER[@]}"; do printf '%s:%s ' "${CTR_SCHED_ORDER[i]%% *}" "${CTR_SCHED_COSTS[i]}"; done | sed 's/ $//')"
# a claim is had once: by the group or by a split, whichever comes first
ctr_sched_claim 7 0
a=$?
ctr_sched_claim 7 0
t_check "schedule: a workaround claimed twice: the first has it, the second not" "0 1" "$a $?"
ctr_sched_left 7 3
t_check "schedule: ...two of that group's three left" 2 "$REPLY"

# the tail: one group of four workarounds alone, below the floor: split (its later
# workarounds to groups of their own, each on a topology of its own, logged "split"),
# every cell run once, as expected, nothing of the claims left
"$M" --trigger seq-above --workaround none,kube-proxy-drop,input-drop,be-liberal --topology cross-node \
	--backend iptables-nft --family 4 --out "$out/sp" --json "$out/sp.json" >"$out/sp.txt" 2>&1
t_check "split: no unexpected cell" 0 $? "$(sed -n '/UNEXPECTED/,$p' "$out/sp.txt" | head -30)"
sd=$out/sp/$(jq -r .run_id "$out/sp.json")
t_check "split: the group and at least one split of it in the log" 1 \
	"$(awk -F'\t' '$4 == "split" { n++ } END { print (NR >= 2 && n == NR - 1) ? 1 : 0 }' "$sd/schedule.log")" "$(cat "$sd/schedule.log")"
t_check "split: the splits' workarounds: none twice, never the group's first (it had begun)" "0 0" \
	"$(awk -F'\t' '$4 == "split" { split($6, g, " "); print g[4] }' "$sd/schedule.log" | tr ',' '\n' | sort | uniq -d | wc -l) $(awk -F'\t' '$4 == "split" { split($6, g, " "); print g[4] }' "$sd/schedule.log" | tr ',' '\n' | grep -cx none)" "$(cat "$sd/schedule.log")"
t_check "split: as many topologies as lines in the log, each cell run once (one record each)" \
	"$(grep -c . "$sd/schedule.log") 4" \
	"$(cat "$sd"/*/*/prefix | sort -u | wc -l) $(find "$sd" -name record.kv | wc -l)"
t_check "split: the run's .sched (claims) removed" "" "$(ls -A "$sd/.sched" 2>/dev/null)"
t_done
