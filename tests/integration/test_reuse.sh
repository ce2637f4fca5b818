#!/usr/bin/env bash
# The matrix's shared topology, cell after cell (ctr_run_scenario with CTR_REUSE_PREFIX),
# as the speed work left it: the injector starts the stream server and stops it (its
# record is on disk when the cell ends, nothing of the workload is left in the
# namespaces), kills what a previous cell left there (--reset-ns: planted sleeps in the
# client pod and in node B, dead after the next cell, counted in inject.kv), and the rule
# counters of a cell are its own (the injector reads them before and after it acts)
# (seq-above then seq-below with kube-proxy-drop: node B's rule moved by 1, then by 0);
# then bench/repro's switch of the shared topology's workaround (ctr_workaround_switch):
# to none, seq-above resets (the rule is gone from both nodes), back to kube-proxy-drop
# it is clean again and its counter counts from 0; to input-drop (its INPUT rule), to
# nft-invalid-drop (an nftables table of kube-proxy's layout, seq-above clean and its
# counter moved), to kube-proxy-drop+tcp-loose-0 (both parts: the rule and the sysctl at
# 0) and back to none, each leaving exactly its own rules; a workaround topology/up alone
# lays (calico-invalid-drop, a noflush restore) is refused, nothing changed; an idle-expiry
# cell's --ct-timeout is the nodes' only while the cell runs.
# shellcheck disable=SC2154 # $out and $prefix: t_shared_topology's (lib.sh)
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_tools

sleeps=()
kill_sleeps() { [ ${#sleeps[@]} -eq 0 ] || kill -9 "${sleeps[@]}" 2>/dev/null; }
alive() { local s; { read -r s <"/proc/$1/stat"; } 2>/dev/null && [[ ${s##*) } != [ZX]* ]]; }
ns_pids() { ctr_prefix_namespaces "$1" | sed 's/^/netns pids /' | ip -force -batch - 2>/dev/null | tr '\n' ' '; }

t_shared_topology kube-proxy-drop kill_sleeps

cell() { # TRIGGER EXPECTED
	ctr_run_scenario "$out/$1" "reuse/$1" "$1" kube-proxy-drop "$2" "test" 2>"$out/$1.stderr"
	t_check "$1: the cell completed" 0 $? "$(cat "$out/$1/error" "$out/$1.stderr" 2>/dev/null)"
	t_check "$1: verdict" "$2" "$(sed -n 's/^observed=//p' "$out/$1/verdict.kv")" "$(cat "$out/$1/verdict.kv")"
	t_check "$1: the server's record was written before the cell ended" 1 "$([ -s "$out/$1/server.kv" ] && echo 1)"
	t_check "$1: the injector waited for the server it started" "0 0" \
		"$(sed -n 's/^server.exit=//p' "$out/$1/inject.kv") $(grep -c '^end=timeout' "$out/$1/server.kv")"
	t_check "$1: nothing of the workload is left in the namespaces" "" "$(ns_pids "$prefix")"
	t_check "$1: one review made both records" 1 "$([ -s "$out/$1/verdict.kv" ] && [ -s "$out/$1/result.json" ] && echo 1)"
	t_check "$1: no error file" "" "$(ls "$out/$1/error" 2>/dev/null)"
}

cell seq-above clean
t_check "seq-above: the injector read each node's counter itself (--count): a drop line a node, no file of a command's output" "2 " \
	"$(grep -c "^drop\.$prefix-node[AB]=" "$out/seq-above/meta.kv") $(compgen -G "$out/seq-above/after.*")"
t_check "seq-above: node B's DROP rule moved by 1, node A's by 0" "1 0" \
	"$(sed -n "s/^drop\.$prefix-nodeB=//p" "$out/seq-above/meta.kv") $(sed -n "s/^drop\.$prefix-nodeA=//p" "$out/seq-above/meta.kv")"

# what a crashed cell could leave behind: a process in the client pod and one in node B
for ns in client nodeB; do
	nsenter --net="/run/netns/$prefix-$ns" sleep 30 &
	sleeps+=($!)
done
# (the list taken at each try: both sleeps in their namespaces, however slow to start)
two_planted() { [ "$(wc -w <<<"$(ns_pids "$prefix")")" -ge 2 ]; }
ctr_busywait 10000 two_planted
t_check "two planted processes in the namespaces" 2 "$(wc -w <<<"$(ns_pids "$prefix")")"

cell seq-below clean
t_check "seq-below: the planted processes were killed before the cell" "" \
	"$(for p in "${sleeps[@]}"; do alive "$p" && echo "$p"; done)"
t_check "seq-below: inject.kv counts them per namespace" "1 1 0 0" \
	"$(for ns in client nodeB nodeA backend; do sed -n "s/^reset_killed\.$prefix-$ns=//p" "$out/seq-below/inject.kv"; done | tr '\n' ' ' | sed 's/ $//')"
t_check "seq-below: its own counters (seq-above's drop not counted again): node B's rule moved by 0" 0 \
	"$(sed -n "s/^drop\.$prefix-nodeB=//p" "$out/seq-below/meta.kv")"

switch() { # TO: the topology's workaround switched, in a fork as bench/repro does it
	(ctr_load_topology "$prefix" && ctr_workaround_switch "$prefix" "$1")
}
wa_rules() { # the INVALID DROP rules in node A and node B
	for ns in nodeA nodeB; do
		ip netns exec "$prefix-$ns" iptables -S KUBE-FORWARD | grep -c INVALID
	done | tr '\n' ' '
}
switch calico-invalid-drop
t_check "switch to calico-invalid-drop (laid by topology/up only) refused" 1 $?
t_check "...nothing changed: WORKAROUND and the rules" "kube-proxy-drop 1 1 " \
	"$(sed -n 's/^WORKAROUND=//p' "$out/topology.env" "$CTR_STATE/$prefix/topology.env" | tail -1) $(wa_rules)"
switch none
t_check "switch to none" 0 $?
t_check "...the rule gone from both nodes, topology.env says none" "none 0 0 " \
	"$(sed -n 's/^WORKAROUND=//p' "$CTR_STATE/$prefix/topology.env") $(wa_rules)"
ctr_run_scenario "$out/none" reuse/none seq-above none reset test 2>"$out/none.stderr"
t_check "seq-above after the switch to none: reset" reset "$(sed -n 's/^observed=//p' "$out/none/verdict.kv")" \
	"$(cat "$out/none/verdict.kv" "$out/none.stderr" 2>/dev/null)"
switch kube-proxy-drop
t_check "switch back to kube-proxy-drop" 0 $?
ctr_run_scenario "$out/back" reuse/back seq-above kube-proxy-drop clean test 2>"$out/back.stderr"
t_check "seq-above after the switch back: clean" clean "$(sed -n 's/^observed=//p' "$out/back/verdict.kv")" \
	"$(cat "$out/back/verdict.kv" "$out/back.stderr" 2>/dev/null)"
t_check "...node B's new rule counted from 0: moved by 1" 1 "$(sed -n "s/^drop\.$prefix-nodeB=//p" "$out/back/meta.kv")"

# every other workaround of the matrix, switched in turn: what each node then holds
state() { # per node: INVALID rules in INPUT, in KUBE-FORWARD; nft table ip kube-proxy; tcp_loose
	local ns
	for ns in nodeA nodeB; do
		printf '%s:%s,%s,%s,%s ' "$ns" \
			"$(ip netns exec "$prefix-$ns" iptables -S INPUT | grep -c INVALID)" \
			"$(ip netns exec "$prefix-$ns" iptables -S KUBE-FORWARD | grep -c INVALID)" \
			"$(ip netns exec "$prefix-$ns" nft list tables | grep -cx 'table ip kube-proxy')" \
			"$(nsenter --net="/run/netns/$prefix-$ns" cat /proc/sys/net/netfilter/nf_conntrack_tcp_loose)"
	done | sed 's/ $//'
}
switch none
t_check "switch to none: no rule of a workaround, tcp_loose 1" "nodeA:0,0,0,1 nodeB:0,0,0,1" "$(state)"
switch input-drop
t_check "switch to input-drop: its INPUT rule on both nodes, nothing else" "nodeA:1,0,0,1 nodeB:1,0,0,1" "$(state)"
switch nft-invalid-drop
t_check "switch to nft-invalid-drop: the INPUT rule gone, table ip kube-proxy on both nodes" \
	"nodeA:0,0,1,1 nodeB:0,0,1,1" "$(state)"
ctr_run_scenario "$out/nftd" reuse/nftd seq-above nft-invalid-drop clean test 2>"$out/nftd.stderr"
t_check "seq-above under the switched-to nft-invalid-drop: clean" clean "$(sed -n 's/^observed=//p' "$out/nftd/verdict.kv")" \
	"$(cat "$out/nftd/verdict.kv" "$out/nftd.stderr" 2>/dev/null)"
t_check "...its nft counter moved on node B by 1" 1 "$(sed -n "s/^drop\.$prefix-nodeB=//p" "$out/nftd/meta.kv")"
switch kube-proxy-drop+tcp-loose-0
t_check "switch to kube-proxy-drop+tcp-loose-0: the table gone, KUBE-FORWARD's rule and tcp_loose 0" \
	"nodeA:0,1,0,0 nodeB:0,1,0,0" "$(state)"
switch none
t_check "switch back to none: every node as before" "nodeA:0,0,0,1 nodeB:0,0,0,1" "$(state)"

# a natural trigger's --ct-timeout on the shared topology: the nodes' established timeout
# is the cell's while it runs (its entry picked up with 1 s), the one before after it
tmo() { for ns in nodeA nodeB; do ip netns exec "$prefix-$ns" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established; done | xargs; }
t0=$(tmo)
ctr_natural_load idle-expiry
ctr_run_scenario "$out/idle" reuse/idle idle-expiry none reset test 2>"$out/idle.stderr"
t_check "idle-expiry on the shared topology: reset, its entry picked up with the cell's 1 s timeout" "reset 1" \
	"$(sed -n 's/^observed=//p' "$out/idle/verdict.kv") $(grep -c '\[NEW\] tcp      6 1 ESTABLISHED src=' "$out/idle/ct-events.txt")" \
	"$(cat "$out/idle/verdict.kv" "$out/idle.stderr" "$out/idle/ct-events.txt" 2>/dev/null)"
t_check "...the nodes' established timeout restored after the cell ($t0)" "$t0" "$(tmo)"
t_done
