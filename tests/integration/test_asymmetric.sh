#!/usr/bin/env bash
# Asymmetric routing (kubernetes issue 94861), live, as the matrix's asymmetric cells
# (trigger connect, a row of ctreset-inject's: a legitimate connection, nothing injected):
# node A sees the client's direction only, so the handshake's third packet is INVALID
# there; no drop -> works, kube-proxy's KUBE-FORWARD drop and nftables mode's former
# forward drop -> broken, with node A's DROP counter as the evidence (node B's unmoved),
# be_liberal alone -> works although node A still counts the client's segments INVALID.
# The replies never cross node A. The same cells through bench/repro --topology asymmetric and bench/asymmetric,
# and with kube-proxy 1.31's own rules (broken; works with tcpBeLiberal=true).
# A planted wrong oracle fails the run; a cell without the client's record is
# inconclusive, never a pass; selections that name no asymmetric cell are usage errors.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq conntrack tcpdump nft

work=$(mktemp -d)
trap 'ctr_cleanup_owned $$; rm -rf "$work"' EXIT
M=$CTR_TOP/bench/matrix

# 1. the matrix: two backends x four workarounds (nft has no KUBE-FORWARD: a skip)
"$M" --topology asymmetric --backend iptables-nft,nft --workaround none,kube-proxy-drop,nft-invalid-drop,be-liberal \
	--jobs 2 --out "$work/m" --json "$work/m.json" >"$work/m.txt" 2>&1
t_check "bench/matrix --topology asymmetric: every cell as the oracle says" 0 $? "$(cat "$work/m.txt")"
run=$(dirname "$(echo "$work"/m/*/run.kv)")
j() { jq -r --arg b "$1" --arg w "$2" ".results[] | select(.backend == \$b and .workaround == \$w) | $3" "$work/m.json"; }
t_check "iptables-nft: none works, kube-proxy-drop broken, nft-invalid-drop broken, be-liberal works" \
	"works broken broken works" \
	"$(for w in none kube-proxy-drop nft-invalid-drop be-liberal; do j iptables-nft "$w" .observed; done | xargs)"
t_check "nft: none works, nft-invalid-drop broken, be-liberal works; kube-proxy-drop a skip" \
	"works skip broken works" \
	"$(for w in none kube-proxy-drop nft-invalid-drop be-liberal; do j nft "$w" '.observed // .status'; done | xargs)"
t_check "every cell is trigger connect on ipv4" "connect ipv4" \
	"$(jq -r '[.results[] | "\(.trigger) \(.family)"] | unique | join(",")' "$work/m.json")"
# the evidence of the broken cells: node A's rule dropped the handshake's third packet,
# node B's did not move; nothing of the client's reached the backend, it got nothing
for b in iptables-nft nft; do
	for w in kube-proxy-drop nft-invalid-drop; do
		[ "$(j "$b" "$w" .status)" = skip ] && continue
		read -r da db <<<"$(j "$b" "$w" '[.drop_counter | to_entries[] | select(.key | endswith("nodeA")) | .value][0], [.drop_counter | to_entries[] | select(.key | endswith("nodeB")) | .value][0]' | xargs)"
		[ "${da:-0}" -gt 0 ] 2>/dev/null && [ "$db" = 0 ] &&
			t_pass "$b/$w: node A's DROP rule counted $da, node B's 0" ||
			t_fail "$b/$w: DROP counters nodeA=$da nodeB=$db, expected nodeA > 0, nodeB 0"
		t_check "$b/$w: the client's ACKs reached node A, none the backend; the client got 0 bytes" "yes 0 0" \
			"$(j "$b" "$w" '"\(if .connect.acks_at_node > 0 then "yes" else "no" end) \(.connect.acks_at_backend) \(.connect.client_bytes)"')"
	done
done
# node A holds every flow in SYN_SENT half-way through it: it never saw the SYN-ACK
t_check "node A's conntrack entry is SYN_SENT in every cell that ran" "SYN_SENT" \
	"$(jq -r '[.results[] | select(.status != "skip") | .conntrack_state | to_entries[] | select(.key | endswith("nodeA")) | .value] | unique | join(",")' "$work/m.json")"
# be_liberal: the ACK is still INVALID at node A (a state-table failure), forwarded
inv=$(j iptables-nft be-liberal '[.conntrack_invalid | to_entries[] | select(.key | endswith("nodeA")) | .value][0]')
[ "${inv:-0}" -gt 0 ] 2>/dev/null && t_pass "be-liberal: node A still counted $inv INVALID, and the connection works" ||
	t_fail "be-liberal: node A's INVALID count is '$inv', expected > 0"
# the replies bypass node A: its capture has nothing from the backend, the client's has
d=$run/asymmetric-iptables-nft-ipv4/connect+none
t_check "none: node A's capture has no segment from the backend" 0 \
	"$(tcpdump -nn -r "$d/node.pcap" 'src host 198.18.2.10' 2>/dev/null | wc -l)"
[ "$(tcpdump -nn -r "$d/client.pcap" 'src host 198.18.2.10' 2>/dev/null | wc -l)" -gt 0 ] &&
	t_pass "none: the client's capture has the backend's segments (over node B's own link)" ||
	t_fail "none: nothing from the backend in the client's capture"
t_check "the table: a connect row per backend, no other trigger" "2 0" \
	"$(grep -c '^connect ' "$work/m.txt") $(grep -cE '^(seq|ack|bad|ct-|idle|small|delayed)' "$work/m.txt")"
grep -q 'nothing injected: a legitimate connection' "$d/record.kv" && t_pass "the record says nothing was injected" ||
	t_fail "the record does not say what the cell did"
# the cell is ctreset-inject's, trigger connect (tools/lib/live/trig_connect.c): its record
# says the client's own connection ended it, and it read node A's entry itself
t_check "the injector ran the cell: trigger, how it settled, node A's entry" \
	"connect|SYN_SENT|the client's connection ended" \
	"$(sed -n 's/^trigger=//p; s/^outcome.settled_by=//p; s/^ct_state\..*-nodeA=//p' "$d/inject.kv" | paste -sd'|')" "$(cat "$d/inject.kv" 2>&1)"

# 2. a planted wrong oracle (kube-proxy-drop expected to work): the run fails, the cell is marked
{ printf 'connect\tkube-proxy-drop\tasymmetric\t*\t*\tworks\tplanted\n'; grep -v '^#' "$CTR_TOP/bench/matrix.expect"; } >"$work/wrong.expect"
"$M" --topology asymmetric --backend iptables-nft --workaround kube-proxy-drop --expect "$work/wrong.expect" \
	--out "$work/w" >"$work/w.txt" 2>&1
t_check "a planted wrong oracle: bench/matrix exits 1" 1 $? "$(cat "$work/w.txt")"
grep -q '^connect  *broken !' "$work/w.txt" && t_pass "...and marks the cell 'broken !'" || t_fail "no 'broken !' cell" "$(cat "$work/w.txt")"

# 3. no record of the client (a client that writes none): inconclusive, a failure
mkdir "$work/bin"
ln -s "$CTR_BIN/ctreset-review" "$CTR_BIN/ctreset-inject" "$CTR_BIN/ctreset-shard" "$work/bin/"
# shellcheck disable=SC2016 # the wrapper's own $1 and $@, expanded when it runs
printf '#!/bin/sh\n[ "$1" = client ] && exit 1\nexec "%s/ctreset-workload" "$@"\n' "$CTR_BIN" >"$work/bin/ctreset-workload"
chmod 755 "$work/bin/ctreset-workload"
CTR_BIN=$work/bin "$M" --topology asymmetric --backend iptables-nft --workaround none --out "$work/i" \
	--json "$work/i.json" >"$work/i.txt" 2>&1
t_check "no client record: bench/matrix exits 1" 1 $? "$(cat "$work/i.txt")"
t_check "...the cell is inconclusive, not works" "inconclusive fail" "$(jq -r '.results[0] | "\(.observed) \(.status)"' "$work/i.json")"

# 4. bench/repro --topology asymmetric and bench/asymmetric run the same cells
"$CTR_TOP/bench/repro" --topology asymmetric --scenario seq-above/kube-proxy-drop --out "$work/r" --json "$work/r.json" >"$work/r.txt" 2>&1
t_check "bench/repro --topology asymmetric: passes" 0 $? "$(cat "$work/r.txt")"
t_check "...its scenario is kube-proxy-drop's connect cell, broken" "asymmetric/kube-proxy-drop broken broken" \
	"$(jq -r '.results[0] | "\(.scenario) \(.expected) \(.observed)"' "$work/r.json")"
"$CTR_TOP/bench/asymmetric" --workaround none --out "$work/a" >"$work/a.txt" 2>&1
t_check "bench/asymmetric --workaround none: passes, a matrix run" "0 1" "$? $(grep -c '^matrix: 1 passed' "$work/a.txt")"

# 5. kube-proxy's own rules: 1.31's nfacct-counted drop breaks it (its metric counts the
# drops on node A); with tcpBeLiberal=true (>= 1.29 then writes no drop rule) it works
"$M" --kube-proxy 1.31 --topology asymmetric --backend iptables-nft --out "$work/k" >"$work/k.txt" 2>&1
t_check "kube-proxy 1.31 on the asymmetric topology: as the oracle says" 0 $? "$(cat "$work/k.txt")"
grep -qE '^kube-proxy 1.31, .*connect: BREAKS asymmetric routing.* would show( nodeB \+[0-9]+)? nodeA \+[1-9]' "$work/k.txt" &&
	t_pass "...broken, and kube-proxy's nfacct metric shows node A's drops" || t_fail "no 1.31 line with node A's nfacct drops" "$(cat "$work/k.txt")"
"$M" --kube-proxy 1.31 --kube-proxy-config tcpBeLiberal=true --topology asymmetric --backend iptables-nft \
	--out "$work/kl" >"$work/kl.txt" 2>&1
t_check "kube-proxy 1.31 with tcpBeLiberal=true: as the oracle says" 0 $? "$(cat "$work/kl.txt")"
grep -qE '^connect +works' "$work/kl.txt" && t_pass "...works (be_liberal set, no INVALID drop rule)" || t_fail "not works" "$(cat "$work/kl.txt")"

# 6. selections without an asymmetric cell, and bad input: usage errors
"$M" --topology asymmetric --trigger seq-above --list >/dev/null 2>&1
t_check "--topology asymmetric --trigger seq-above: no cell, usage (2)" 2 $?
"$M" --topology asymmetric --family 6 --list >/dev/null 2>&1
t_check "--topology asymmetric --family 6: no cell, usage (2)" 2 $?
"$M" --topology cross-node --trigger connect --list >/dev/null 2>&1
t_check "--topology cross-node --trigger connect: no cell, usage (2)" 2 $?
"$CTR_TOP/bench/asymmetric" --workaround bogus --list >/dev/null 2>&1
t_check "bench/asymmetric --workaround bogus: usage (2)" 2 $?
"$CTR_TOP/bench/repro" --topology bogus --list >/dev/null 2>&1
t_check "bench/repro --topology bogus: usage (2)" 2 $?
t_check "the default matrix's asymmetric cells: 27 (9 workarounds x 3 backends, ipv4)" 27 \
	"$("$M" --topology asymmetric --list | grep -c '^asymmetric  *[a-z-]*  *ipv4 connect ')"
t_done
