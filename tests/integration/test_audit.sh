#!/usr/bin/env bash
# ctreset-audit on real bench nodes: live in node A of topology/up with kube-proxy 1.31
# (iptables-nft) and 1.33 (nft), its --dump holding exactly the files --from takes, the
# offline judgement from that dump the same as the live one, and the verdicts the oracle
# gives those releases; bench/matrix --audit and bench/repro --audit on a slice, every
# measured cell as the audit predicted, and --agree failing on a planted disagreement;
# bad input (usage, a namespace that is gone, a garbled dump) a clear error or "unknown,
# because". The full agreement run (every configuration of the default matrix, --kube-proxy
# all, tcpBeLiberal, Calico) is bench/audit-agreement, not part of make check.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq

wd=$(mktemp -d)
prefixes=()
cleanup() {
	local p
	for p in "${prefixes[@]}"; do "$CTR_TOP/topology/down" --prefix "$p" >/dev/null 2>&1; done
	rm -rf "$wd"
}
trap cleanup EXIT
# shellcheck disable=SC2034 # read by t_exit (lib.sh)
T_EXIT_OUT=$wd/bad.out T_EXIT_ERR=$wd/bad.err
A=$CTR_BIN/ctreset-audit UP=$CTR_TOP/topology/up
t_host_state >"$wd/before"

# 1. usage and bad input
t_exit 2 "--from with --netns is a usage error" "$A" --from "$wd" --netns x
t_exit 2 "--kernel that is not a release is a usage error" "$A" --from "$wd" --kernel latest
t_exit 2 "--keepalive 0 is a usage error" "$A" --from "$wd" --keepalive 0
t_exit 2 "an unknown option is a usage error" "$A" --frobnicate
t_exit 1 "a namespace that does not exist is an error" "$A" --netns ctr-000000-gone
grep -q "ctr-000000-gone" "$wd/bad.err" && t_pass "the error names the namespace" || t_fail "the error names the namespace: $(cat "$wd/bad.err")"
t_exit 1 "--from a directory that does not exist is an error" "$A" --from "$wd/none"
mkdir -p "$wd/garbled"
printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n' >"$wd/garbled/iptables-save"
printf 'net.netfilter.nf_conntrack_tcp_be_liberal = 0\n' >"$wd/garbled/sysctl.txt"
t_exit 1 "a truncated iptables-save: exit 1" "$A" --from "$wd/garbled"
grep -q "unknown, because iptables-save: table filter has no COMMIT" "$wd/bad.out" &&
	t_pass "a truncated dump: every verdict unknown, because it is truncated" ||
	t_fail "a truncated dump: every verdict unknown, because it is truncated: $(head -20 "$wd/bad.out")"

# 2. live on kube-proxy releases' nodes, then offline from the dump
live() { # NAME VERSION BACKEND WANT_MODE WANT_FORM WANT_SEQ_ABOVE WANT_ACK_ABOVE
	local name=$1 p
	"$UP" --kube-proxy "$2" --backend "$3" --owner $$ >"$wd/$name.up" 2>"$wd/$name.err"
	t_check "topology/up --kube-proxy $2 --backend $3" 0 "$?" "$(cat "$wd/$name.err")"
	p=$(sed -n 's/^PREFIX=//p' "$wd/$name.up")
	[ -n "$p" ] || return
	prefixes+=("$p")
	"$A" --netns "$p-nodeA" --dump "$wd/$name.dump" --json "$wd/$name.json" --kv "$wd/$name.kv" >"$wd/$name.txt" 2>&1
	t_check "ctreset-audit --netns on kube-proxy $2's node A" 0 "$?" "$(tail -5 "$wd/$name.txt")"
	# a command that failed (ipvsadm on a kernel without IPVS) writes no file, and says so
	want="ip-link.txt ip6tables-legacy-save ip6tables-save iptables-legacy-save iptables-save ipvsadm.txt nft-ruleset.json nft-ruleset.txt sysctl.txt uname.txt"
	grep -q "^  - live: ipvsadm: .*(no file)" "$wd/$name.txt" && want=${want/ ipvsadm.txt/}
	t_check "kube-proxy $2: the dump holds exactly the files --from takes (those whose command ran)" \
		"$want" "$(cd "$wd/$name.dump" && printf '%s\n' * | LC_ALL=C sort | paste -sd' ')"
	t_check "kube-proxy $2: mode and INVALID rule" "$4 $5" \
		"$(jq -r '.families[0] | "\(.mode) \(.invalid_rule)"' "$wd/$name.json")"
	t_check "kube-proxy $2: cross-node seq-above and ack-above (ipv4)" "$6 $7" \
		"$(jq -r '[.results[] | select(.path == "cross-node" and .family == 4 and (.trigger == "seq-above" or .trigger == "ack-above")) | .verdict] | join(" ")' "$wd/$name.json")"
	t_check "kube-proxy $2: every result has trigger, family, verdict and why" 0 \
		"$(jq '[.results[] | select(.trigger == null or .family == null or .verdict == null or .why == null)] | length' "$wd/$name.json")"
	"$A" --from "$wd/$name.dump" --kv "$wd/$name.offline.kv" >/dev/null 2>&1
	t_check "kube-proxy $2: --from its dump judges every cell as live" "" \
		"$(diff "$wd/$name.kv" "$wd/$name.offline.kv")"
	# both nft forms were dumped: the JSON read (said so); each alone judges as live
	grep -q "nft-ruleset.json and nft-ruleset.txt both given: nft-ruleset.json read" "$wd/$name.txt" &&
		t_pass "kube-proxy $2: both nft forms given, the report says the JSON was read" ||
		t_fail "kube-proxy $2: both nft forms given, the report says the JSON was read: $(grep nft-ruleset "$wd/$name.txt")"
	local only
	for only in json txt; do
		rm -rf "$wd/$name.$only"
		cp -r "$wd/$name.dump" "$wd/$name.$only"
		rm -f "$wd/$name.$only/nft-ruleset.$([ "$only" = json ] && echo txt || echo json)"
		"$A" --from "$wd/$name.$only" --kv "$wd/$name.$only.kv" >"$wd/$name.$only.out" 2>&1
		t_check "kube-proxy $2: --from its dump with only nft-ruleset.$only judges every cell as live" "" \
			"$(diff "$wd/$name.kv" "$wd/$name.$only.kv")" "$(grep -i 'unknown\|nft-ruleset' "$wd/$name.$only.out" | head -3)"
	done
}
live kp131 1.31 iptables-nft iptables drop-nfacct "clean" "clean"
live kp133 1.33 nft nftables none "reset" "leak"
# --probe: the kernel's behaviours measured by the bench's probe cell on a topology of its
# own; node A's rules and net.* sysctls (its namespace's; the global ones, fs.*, kernel.*,
# move on their own) unchanged, the verdicts those of the release here
if [ ${#prefixes[@]} -gt 1 ]; then
	nodea=${prefixes[1]}-nodeA
	node_state() { ip netns exec "$nodea" nft list ruleset; ip netns exec "$nodea" sysctl -a 2>/dev/null | grep '^net\.' | grep -v '^net.netfilter.nf_conntrack_count\|stable_secret'; }
	node_state >"$wd/probe.before" 2>&1
	probes_before=$(find /tmp -maxdepth 1 -name 'ctreset-audit-probe-*' | wc -l)
	"$A" --netns "$nodea" --probe --json "$wd/probe.json" --kv "$wd/probe.kv" >"$wd/probe.txt" 2>&1
	t_check "--probe on kube-proxy 1.33's node A" 0 "$?" "$(tail -5 "$wd/probe.txt")"
	IFS=. read -r kmaj kmin _ </proc/sys/kernel/osrelease
	want=ignore-delayed=0
	[ "$kmaj" -gt 6 ] || { [ "$kmaj" = 6 ] && [ "${kmin%%[!0-9]*}" -ge 1 ]; } && want=ignore-delayed=1
	t_check "--probe: ignore-delayed measured as the release $kmaj.$kmin has it" "$want" \
		"$(jq -r '.kernel.behaviours' "$wd/probe.json")" "$(grep '^probe:' "$wd/probe.txt")"
	grep -q "^probe: probed in [0-9]* ms" "$wd/probe.txt" && t_pass "--probe: the report says what was probed, how long" ||
		t_fail "--probe: the report says what was probed, how long: $(grep -i probe "$wd/probe.txt" | head -3)"
	t_check "--probe: every verdict the same as the release's" "" "$(diff "$wd/kp133.kv" "$wd/probe.kv")"
	node_state >"$wd/probe.after" 2>&1
	t_check "--probe: node A's rules and sysctls unchanged" "" "$(diff "$wd/probe.before" "$wd/probe.after")"
	t_check "--probe: its temporary directory removed" "$probes_before" \
		"$(find /tmp -maxdepth 1 -name 'ctreset-audit-probe-*' | wc -l)"
fi
t_exit 2 "--probe with --from is a usage error" "$A" --probe --from "$wd"
# the namespace removed: what was a live node is an error now, named
if [ ${#prefixes[@]} -gt 0 ]; then
	"$CTR_TOP/topology/down" --prefix "${prefixes[0]}" >/dev/null 2>&1
	t_exit 1 "a namespace removed since is an error" "$A" --netns "${prefixes[0]}-nodeA"
fi

# 3. the bench proves the audit: a slice of the matrix, and of repro
M=$CTR_TOP/bench/matrix
"$M" --audit --topology cross-node --backend iptables-nft --family 4 --workaround none,kube-proxy-drop \
	--trigger seq-above,ack-above,ct-entry-lost --out "$wd/m" >"$wd/m.out" 2>"$wd/m.err"
t_check "bench/matrix --audit on 6 cells" 0 "$?" "$(tail -8 "$wd/m.out")" "$(tail -3 "$wd/m.err")"
for n in audit audit-offline audit-offline-json audit-offline-txt; do
	grep -q "^audit $n: 6 cells measured, 6 agree, 0 disagree" "$wd/m.out" &&
		t_pass "matrix: the $n predicted all 6 cells" || t_fail "matrix: the $n predicted all 6 cells: $(grep '^audit\|^DISAGREE' "$wd/m.out")"
done
for n in audit-offline audit-offline-json audit-offline-txt; do
	grep -q "^audit $n same as live: 2 of 2 nodes" "$wd/m.out" &&
		t_pass "matrix: the $n of both nodes is the live audit, whole" || t_fail "matrix: the $n of both nodes is the live audit: $(grep '^audit\|^DIFFER' "$wd/m.out")"
done
run=$(find "$wd/m" -mindepth 1 -maxdepth 1 -type d | head -1)
g=$run/cross-node-iptables-nft-ipv4
if [ -n "$run" ] && [ -f "$g/none.audit.kv" ] && [ -f "$g/kube-proxy-drop.dump/iptables-save" ]; then
	# the offline audits judged again from the dumps (bench/audit-agreement --rejudge):
	# as the run's, then with kube-proxy-drop's dump missing its INVALID drop (as a
	# support bundle cut short might): every offline audit of that node differs from the
	# live one and disagrees with the cells
	"$CTR_TOP/bench/audit-agreement" --rejudge "$run" >"$wd/rejudge.out" 2>&1
	t_check "audit-agreement --rejudge: every dump judged as live" 0 "$?" "$(cat "$wd/rejudge.out")"
	grep -q "^total: 2 configurations, 6 cells, 6 measured; agree: live 6, dump 6, json 6, txt 6; 2 of 2 dumps judged as live" "$wd/rejudge.out" &&
		t_pass "audit-agreement --rejudge counts them" || t_fail "audit-agreement --rejudge counts them: $(cat "$wd/rejudge.out")"
	sed -i '/INVALID.*-j DROP/d' "$g/kube-proxy-drop.dump/iptables-save"
	"$CTR_TOP/bench/audit-agreement" --rejudge "$run" >"$wd/rejudge2.out" 2>&1
	t_check "audit-agreement --rejudge fails on a dump judged otherwise than live" 1 "$?" "$(cat "$wd/rejudge2.out")"
	grep -q "DIFFER cross-node-iptables-nft-ipv4/kube-proxy-drop.audit.kv" "$wd/rejudge2.out" &&
		grep -q "^total: 2 configurations, 6 cells, 6 measured; agree: live 6, dump 4, json 4, txt 4; 1 of 2 dumps judged as live" "$wd/rejudge2.out" &&
		t_pass "audit-agreement --rejudge names the node and counts the cells" ||
		t_fail "audit-agreement --rejudge names the node and counts the cells: $(cat "$wd/rejudge2.out")"
	# a planted disagreement: the audit of workaround none says seq-above is clean
	sed -i 's/^verdict.cross-node.ipv4.seq-above=.*/verdict.cross-node.ipv4.seq-above=clean/' \
		"$run/cross-node-iptables-nft-ipv4/none.audit.kv"
	"$A" --agree "$run" >"$wd/agree.out" 2>&1
	t_check "--agree fails on a cell the audit got wrong" 1 "$?" "$(cat "$wd/agree.out")"
	grep -q "^DISAGREE cross-node-iptables-nft-ipv4/seq-above+none: measured reset" "$wd/agree.out" &&
		t_pass "--agree names the cell" || t_fail "--agree names the cell: $(cat "$wd/agree.out")"
else
	t_fail "bench/matrix --audit left no audit in $run"
fi
"$CTR_TOP/bench/repro" --audit --scenario seq-above --scenario seq-above/kube-proxy-drop --out "$wd/r" >"$wd/r.out" 2>"$wd/r.err"
t_check "bench/repro --audit on 2 scenarios" 0 "$?" "$(tail -8 "$wd/r.out")" "$(tail -3 "$wd/r.err")"
grep -q "^audit audit: 2 cells measured, 2 agree" "$wd/r.out" && t_pass "repro: the audit predicted both" ||
	t_fail "repro: the audit predicted both: $(grep '^audit\|^DISAGREE' "$wd/r.out")"
t_exit 2 "bench/repro --audit --fresh is a usage error" "$CTR_TOP/bench/repro" --audit --fresh --list
t_exit 2 "bench/matrix --audit --fresh is a usage error" "$M" --audit --fresh --list

for p in "${prefixes[@]}"; do "$CTR_TOP/topology/down" --prefix "$p" >/dev/null 2>&1; done
prefixes=()
t_host_state >"$wd/after"
diff -u "$wd/before" "$wd/after" >"$wd/diff" && t_pass "host state unchanged" || t_fail "host state changed: $(cat "$wd/diff")"
t_done
