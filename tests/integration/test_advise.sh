#!/usr/bin/env bash
# bench/advise, live: a small matrix slice (seq-above, ct-flush x none, kube-proxy-drop,
# kube-proxy-drop+tcp-loose-0) and its asymmetric connect cells rendered as the one-page trade-off
# (and once without --from: one cell measured by bench/advise itself):
# each cell as measured (the drop stops the crafted reset, not the flush; the drop with
# loose=0 stops the flush by stalling; the drop breaks asymmetric routing), each cell's
# evidence pointing at pcaps that exist; the page rendered again from the same records
# is the same; bad input (unknown option, --from a directory that is not a matrix run,
# a workaround the run lacks) is a usage error; a run where nothing ran is 4, not a pass.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq conntrack tcpdump

work=$(mktemp -d)
trap 'ctr_cleanup_owned $$; rm -rf "$work"' EXIT
A=$CTR_TOP/bench/advise

"$CTR_TOP/bench/matrix" --trigger seq-above,ct-flush --workaround none,kube-proxy-drop,kube-proxy-drop+tcp-loose-0 \
	--topology cross-node --backend iptables-nft --family 4 --jobs 2 --out "$work/m" >"$work/m.txt" 2>&1
t_check "the matrix slice: every cell as the oracle says" 0 $? "$(cat "$work/m.txt")"
run=$(dirname "$(echo "$work"/m/*/run.kv)")

# 1. the page from that run, the asymmetric connect cells measured for the three workarounds
"$A" --from "$run" --out "$work/a" --json "$work/a.json" >"$work/a.txt" 2>&1
t_check "bench/advise --from RUN: exit 0 (every record as expected)" 0 $? "$(cat "$work/a.txt")"
cell() { jq -r --arg w "$1" --arg t "$2" '.rows[] | select(.workaround == $w) | (.resets[], .asymmetric_routing) | select(.trigger == $t) | .cell' "$work/a.json"; }
t_check "none: seq-above and ct-flush reset, asymmetric routing works" "reset reset asym ok" \
	"$(cell none seq-above) $(cell none ct-flush) $(cell none connect)"
t_check "kube-proxy-drop: stops seq-above, not ct-flush, breaks asymmetric routing" "stops no: reset breaks asym" \
	"$(cell kube-proxy-drop seq-above) $(cell kube-proxy-drop ct-flush) $(cell kube-proxy-drop connect)"
t_check "kube-proxy-drop+tcp-loose-0: stops both, ct-flush by stalling, breaks asymmetric routing" \
	"stops stops(stall) breaks asym ct-flush" \
	"$(cell kube-proxy-drop+tcp-loose-0 seq-above) $(cell kube-proxy-drop+tcp-loose-0 ct-flush) $(cell kube-proxy-drop+tcp-loose-0 connect) $(jq -r '.rows[2].stalls | join(",")' "$work/a.json")"
grep -q '^kube-proxy-drop  *stops  *no: reset  *breaks asym$' "$work/a.txt" &&
	t_pass "the text table has the row kube-proxy-drop: stops, no: reset, breaks asym" ||
	t_fail "the text table lacks kube-proxy-drop's row: $(cat "$work/a.txt")"
# every cell's evidence names pcaps that exist
missing=0 n=0
while IFS= read -r p; do
	for f in $(eval echo "$p"); do n=$((n + 1)); [ -s "$f" ] || missing=$((missing + 1)); done
done < <(sed -n 's/^  pcaps: //p' "$work/a.txt")
t_check "the evidence names 27 pcaps (9 cells x 3), each there and not empty" "27 0" "$n $missing"
adv=$(dirname "$(echo "$work"/a/advise-*/run.kv)")
asym=$(sed -n 's/^asymmetric_run=//p' "$adv/run.kv")

# 2. the same records, rendered again without measuring: the same page
"$A" --from "$run" --asymmetric-from "$asym" --out "$work/b" --json "$work/b.json" >"$work/b.txt" 2>&1
t_check "--asymmetric-from: exit 0" 0 $? "$(cat "$work/b.txt")"
t_check "--asymmetric-from: the same rows" "$(jq -c .rows "$work/a.json")" "$(jq -c .rows "$work/b.json")"
"$A" --from "$run" --no-asymmetric --workaround none,kube-proxy-drop --out "$work/c" >"$work/c.txt" 2>&1
t_check "--no-asymmetric --workaround: two rows, asymmetric routing not measured" "0 2" \
	"$? $(grep -cE '^(none|kube-proxy-drop) +[a-z].* not measured$' "$work/c.txt")"

# without --from: bench/advise runs the matrix slice itself (one cell here: none x
# seq-above) and renders the page from that run
"$A" --workaround none --trigger seq-above --no-asymmetric --jobs 1 --out "$work/f" --json "$work/f.json" >"$work/f.txt" 2>&1
t_check "without --from: exit 0, its own matrix run of one cell, none / seq-above: reset" "0 1 reset" \
	"$? $(grep -c '^cell=' "$work"/f/advise-*/matrix/*/run.kv 2>/dev/null) $(jq -r '.rows[] | select(.workaround == "none") | .resets[] | select(.trigger == "seq-above") | .cell' "$work/f.json")" \
	"$(cat "$work/f.txt")"

# 3. bad input: usage errors, nothing written
"$A" --bogus >/dev/null 2>&1
t_check "an unknown option: usage (2)" 2 $?
mkdir -p "$work/notarun"
"$A" --from "$work/notarun" --no-asymmetric --out "$work/d" >/dev/null 2>"$work/d.err"
t_check "--from a directory that is not a run: usage (2)" "2 1" "$? $(grep -c 'takes a matrix run' "$work/d.err")"
"$A" --from "$asym" --no-asymmetric --out "$work/d" >/dev/null 2>&1
t_check "--from bench/asymmetric's run (a matrix run without the cross-node slice): usage (2)" 2 $?
"$A" --from "$run" --no-asymmetric --workaround be-liberal --out "$work/d" >/dev/null 2>&1
t_check "--workaround the run does not have: usage (2)" 2 $?
"$A" --from "$run" --asymmetric-from "$asym" --no-asymmetric >/dev/null 2>&1
t_check "--asymmetric-from with --no-asymmetric: usage (2)" 2 $?
t_check "no page written for the bad inputs" 0 "$(find "$work/d" -name advise.txt 2>/dev/null | wc -l)"

# 4. nothing ran (a run whose cells could not be built: each left only a skip): 4
mkdir -p "$work/skip/cross-node-iptables-nft-ipv4/seq-above+none"
echo "no conntrack here" >"$work/skip/cross-node-iptables-nft-ipv4/seq-above+none/skip"
printf 'kind=matrix\nkernel=k\ndim.workaround=none\ndim.trigger=seq-above\ncell=cross-node-iptables-nft-ipv4/seq-above+none\n' >"$work/skip/run.kv"
"$A" --from "$work/skip" --no-asymmetric --out "$work/e" >"$work/e.txt" 2>&1
t_check "a run where nothing ran: 4 (a skip, never a pass)" "4 1" "$? $(grep -c '^SKIP' "$work/e.txt")"
t_done
