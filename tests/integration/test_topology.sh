#!/usr/bin/env bash
# topology/up, down, workaround and reap: what they build, idempotence, and a one-line
# error naming the problem for bad input, with nothing half-built left behind.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

T=$CTR_TOP/topology
p=$(ctr_new_prefix)
trap 'ctr_destroy_prefix "$p"' EXIT
# every link of the root namespace, by name (a bench link must never land there)
root_links() { ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | tr '\n' ' '; }
links_before=$(root_links)

# chain names against known answers from kube-proxy's own tests (kubernetes
# pkg/proxy/iptables/proxier_test.go and pkg/proxy/nftables/proxier_test.go: service
# ns1/svc1, port p80, TCP, endpoint 10.180.0.1:80 or [fd00:10:180::1]:80)
. "$CTR_TOP/topology/kube-proxy.sh"
. "$CTR_TOP/topology/kube-proxy-nft.sh"
t_check "iptables chain names are kube-proxy's" "KUBE-SVC-XPGD46QRK7WJZT7O KUBE-SEP-SXIVWICOYRO3J4NJ" \
	"$(ctr_kube_proxy_rules 10.20.30.41 80 10.0.0.0/24 ns1/svc1:p80 10.180.0.1:80 | sed -n 's/^:\(KUBE-S[VE][CP]-[A-Z0-9]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
t_check "nftables chain names are kube-proxy's (IPv4)" "service-ULMVA6XW-ns1/svc1/tcp/p80 endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80" \
	"$(ctr_kube_proxy_nft 172.30.0.41 80 10.0.0.0/8 ns1/svc1:p80 10.180.0.1:80 | sed -n 's/^\tchain \([a-z]*-[A-Z0-9]\{8\}-[^ ]*\) {$/\1/p' | tr '\n' ' ' | sed 's/ $//')"
t_check "nftables chain names are kube-proxy's (IPv6)" "service-ULMVA6XW-ns1/svc1/tcp/p80 endpoint-ZVRFLKHO-ns1/svc1/tcp/p80__fd00.10.180..1/80" \
	"$(ctr_kube_proxy_nft fd00:172:30::41 80 fd00:10::/64 ns1/svc1:p80 '[fd00:10:180::1]:80' | sed -n 's/^\tchain \([a-z]*-[A-Z0-9]\{8\}-[^ ]*\) {$/\1/p' | tr '\n' ' ' | sed 's/ $//')"

out=$("$T/up" --prefix "$p")
t_check "up succeeds" 0 $?
t_check "up prints the client pod address" "CLIENT_IP=198.18.1.10" "$(grep ^CLIENT_IP= <<<"$out")"
t_check "four namespaces with the prefix" 4 "$(ctr_prefix_namespaces "$p" | wc -l)"
t_check "client reaches the backend pod across the nodes" 0 \
	"$(ip netns exec "$p-client" ping -c1 -W1 198.18.2.10 >/dev/null 2>&1; echo $?)"
t_check "forwarding on in node A" 1 "$(ip netns exec "$p-nodeA" cat /proc/sys/net/ipv4/ip_forward)"
t_check "DNAT for the VIP in node A" 1 \
	"$(ip netns exec "$p-nodeA" iptables-save -t nat | grep -c -- '-j DNAT --to-destination 198.18.2.10:8080')"
t_check "KUBE-FORWARD jumped from FORWARD" 1 \
	"$(ip netns exec "$p-nodeB" iptables -S FORWARD | grep -c -- '-j KUBE-FORWARD')"
t_check "no link made in the root namespace (all links compared)" "$links_before" "$(root_links)"

again=$("$T/up" --prefix "$p")
t_check "up again on the same topology succeeds" 0 $?
t_check "...and prints the same" "$out" "$again"
err=$("$T/up" --prefix "$p" --workaround be-liberal 2>&1)
t_check "up again with other settings refuses" 1 $? "$err"
t_check "...and leaves the topology whole" 4 "$(ctr_prefix_namespaces "$p" | wc -l)"
ip netns del "$p-client"
err=$("$T/up" --prefix "$p" 2>&1)
t_check "up on an incomplete topology refuses" 1 $? "$err"
"$T/down" --prefix "$p" && "$T/up" --prefix "$p" >/dev/null
t_check "down then up rebuilds it" 4 "$(ctr_prefix_namespaces "$p" | wc -l)"

rule_count() { ip netns exec "$p-$1" iptables -S KUBE-FORWARD | grep -c -- '--ctstate INVALID -j DROP'; }
"$T/workaround" apply kube-proxy-drop --prefix "$p" && "$T/workaround" apply kube-proxy-drop --prefix "$p"
t_check "kube-proxy-drop applied twice is one rule (node A)" 1 "$(rule_count nodeA)"
t_check "kube-proxy-drop is KUBE-FORWARD's first rule" "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP" \
	"$(ip netns exec "$p-nodeB" iptables -S KUBE-FORWARD | sed -n 2p)"
"$T/workaround" revert kube-proxy-drop --prefix "$p"
t_check "kube-proxy-drop reverted" "0 0" "$(rule_count nodeA) $(rule_count nodeB)"
host_liberal=$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)
"$T/workaround" apply be-liberal --prefix "$p"
t_check "be-liberal set in node B" 1 "$(ip netns exec "$p-nodeB" cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)"
t_check "be-liberal not set on the host" "$host_liberal" "$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)"
"$T/workaround" revert be-liberal --prefix "$p"
t_check "be-liberal reverted" 0 "$(ip netns exec "$p-nodeA" cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)"
loose() { ip netns exec "$p-$1" cat /proc/sys/net/netfilter/nf_conntrack_tcp_loose; }
"$T/workaround" apply tcp-loose-0 --prefix "$p"
t_check "tcp-loose-0 applied live: 0 in node A and node B" "0 0" "$(loose nodeA) $(loose nodeB)"
"$T/workaround" revert tcp-loose-0 --prefix "$p"
t_check "tcp-loose-0 reverted: 1 again" "1 1" "$(loose nodeA) $(loose nodeB)"

"$T/down" --prefix "$p"
t_check "down succeeds" 0 $?
t_check "down removes every namespace" 0 "$(ctr_prefix_namespaces "$p" | wc -l)"
"$T/down" --prefix "$p"
t_check "down again is a no-op success" 0 $?

# the load topology: K clients on both nodes, M backends behind the VIP
out=$("$T/up" --prefix "$p" --topology load --clients 4 --same-node 2 --backends 2)
t_check "load: up succeeds" 0 $?
t_check "load: 2 nodes, 4 clients, 2 backends" 8 "$(ctr_prefix_namespaces "$p" | wc -l)"
t_check "load: client addresses on both nodes" 'CLIENT_IPS="198.18.1.10 198.18.1.11 198.18.2.100 198.18.2.101"' \
	"$(grep ^CLIENT_IPS= <<<"$out")"
t_check "load: each client's DNAT node" "CLIENT_NODES=\"$p-nodeA $p-nodeA $p-nodeB $p-nodeB\"" "$(grep ^CLIENT_NODES= <<<"$out")"
reach=0
for c in 0 1 2 3; do
	for b in 10 11; do
		ip netns exec "$p-client$c" ping -c1 -W1 "198.18.2.$b" >/dev/null 2>&1 && reach=$((reach + 1))
	done
done
t_check "load: every client reaches every backend" 8 "$reach"
t_check "load: both endpoints DNATed on node A" 2 \
	"$(ip netns exec "$p-nodeA" iptables-save -t nat | grep -c -- '-j DNAT --to-destination 198.18.2.1[01]:8080')"
t_check "load: random balancing between them" 1 \
	"$(ip netns exec "$p-nodeB" iptables-save -t nat | grep -c -- '--mode random --probability 0.5')"
t_check "load: bridged replies go through node B's conntrack" 1 \
	"$(ip netns exec "$p-nodeB" cat /proc/sys/net/bridge/bridge-nf-call-iptables)"
"$T/down" --prefix "$p"
t_check "load: down removes every namespace" 0 "$(ctr_prefix_namespaces "$p" | wc -l)"

# bad input: exit 2, one line naming the argument, nothing built
bad() { # DESCRIPTION ENV... -- ARGS...
	local what=$1 envs=() err rc
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	err=$(env "${envs[@]}" "$T/up" --prefix "$p" "$@" 2>&1 >/dev/null)
	rc=$?
	t_check "$what: usage error" 2 "$rc" "$err"
	t_check "$what: one line of error" 1 "$(grep -c . <<<"$err")" "$err"
	t_check "$what: nothing built" 0 "$(ctr_prefix_namespaces "$p" | wc -l)"
}
bad "bad pod CIDR" CTR_POD_CIDR_A=198.18.1.0/33 --
bad "CIDR with host bits" CTR_POD_CIDR_B=198.18.2.7/24 --
bad "VIP outside the service range" CTR_VIP=198.18.5.5 --
bad "port out of range" CTR_PORT=70000 --
bad "unknown topology" -- --topology star
bad "unknown workaround" -- --workaround magic
bad "load counts on the cross-node topology" -- --clients 3
bad "no clients" -- --topology load --clients 0
bad "more same-node clients than clients" -- --topology load --clients 2 --same-node 3
err=$("$T/up" --prefix "nope" 2>&1); t_check "bad prefix refused" 2 $? "$err"
err=$("$T/workaround" apply magic --prefix "$p" 2>&1); t_check "unknown workaround name refused" 2 $? "$err"
err=$("$T/workaround" apply be-liberal --prefix "$p" 2>&1); t_check "workaround on a missing topology fails" 1 $? "$err"

# the tables (tools/lib/sh): the lists are derived from them, --list prints them, every
# field an entry names is one the code reads (a misspelt field would be ignored silently)
names() { cut -f1 | tr '\n' ' ' | sed 's/ $//'; }
t_check "workaround --list: every workaround, table order" "$CTR_WORKAROUNDS_ALL" "$("$T/workaround" --list | names)"
t_check "workaround --list: a summary each" 0 "$("$T/workaround" --list | awk -F'\t' 'NF != 2 || $2 == ""' | wc -l)"
t_check "up --list-topologies" "$CTR_TOPOLOGIES_ALL" "$("$T/up" --list-topologies | names)"
t_check "up --list-backends" "$CTR_BACKENDS_ALL" "$("$T/up" --list-backends | names)"
t_check "the matrix's workarounds are the table's but calico-invalid-drop" \
	"none kube-proxy-drop input-drop nft-invalid-drop be-liberal ignore-invalid-rst keepalive tcp-loose-0 kube-proxy-drop+tcp-loose-0" "$CTR_WORKAROUNDS"
t_check "the matrix's topologies and backends" "cross-node same-node host-network asymmetric|iptables-nft iptables-legacy nft|4 6" \
	"$CTR_TOPOLOGIES|$CTR_BACKENDS|$CTR_FAMILIES"
unknown=
for k in "${!CTR_TABLE[@]}"; do
	read -r kind name field <<<"$k"
	case $kind/$field in
	*/summary | */matrix | */needs | */families | topology/namespaces | topology/sysctl | topology/client_sysctl | topology/triggers) ;;
	backend/lang | backend/tool | backend/topologies | backend/mode | family/nft | family/ipt) ;;
	workaround/sysctl | workaround/revert | workaround/ipt | workaround/nft.forward | workaround/nft.input) ;;
	workaround/noflush | workaround/count.ipt | workaround/count.nft | workaround/skip.*) ;;
	workaround/of)
		for w in ${CTR_TABLE[$k]}; do ctr_in_list "$w" "$CTR_WORKAROUNDS_ALL" || unknown+="$name: of $w; "; done ;;
	*) unknown+="$k; " ;;
	esac
	if [ "$field" = sysctl ] || [ "$field" = revert ]; then
		for kv in ${CTR_TABLE[$k]}; do
			key=${kv%%=*}
			[[ $key == net.bridge.* ]] || [ -e "/proc/sys/${key//.//}" ] || unknown+="$name: no /proc/sys/${key//.//}; "
		done
	fi
done
t_check "every table field is one the code reads, every sysctl exists" "" "$unknown"
err=$("$T/workaround" apply calico-invalid-drop --prefix "$p" 2>&1)
t_check "workaround: a table entry that is not live (a noflush restore) is laid out by up" "2 1" \
	"$? $(grep -c 'topology/up --workaround calico-invalid-drop' <<<"$err")" "$err"

# topology/up's functions, sourced (bench/lib.sh) and called in a subshell, build what the
# program builds; the table's counter of the workaround reads its rule
out=$("$T/up" --prefix "$p" --workaround kube-proxy-drop)
"$T/down" --prefix "$p"
fn=$(ctr_up_main --prefix "$p" --workaround kube-proxy-drop)
t_check "ctr_up_main in a subshell prints what the program does" "$out" "$fn"
t_check "...and builds it" 4 "$(ctr_prefix_namespaces "$p" | wc -l)"
ctr_workaround_counter "$p-nodeB" kube-proxy-drop iptables-nft 4
t_check "kube-proxy-drop's counter on node B (table: count.ipt KUBE-FORWARD)" 0 "$REPLY"
ctr_workaround_counter "$p-nodeB" be-liberal iptables-nft 4
t_check "be-liberal has no counter" - "$REPLY"
"$T/down" --prefix "$p"

# asymmetric: cross-node with node B's own return link into the client pod
"$T/up" --prefix "$p" --topology asymmetric >/dev/null
t_check "asymmetric: up succeeds" 0 $?
t_check "asymmetric: node B routes the client pod over its own link" "198.18.1.10 dev veth-asym scope link" \
	"$(ip -n "$p-nodeB" route show 198.18.1.10/32 | sed "s/ *$//")"
t_check "asymmetric: the client's return link is up, rp_filter off" "UP 0" \
	"$(ip -n "$p-client" -br link show eth1 | awk '{print $2}') $(ip netns exec "$p-client" cat /proc/sys/net/ipv4/conf/eth1/rp_filter)"
"$T/down" --prefix "$p"

# the reaper: a topology whose owner is gone is removed, a live owner's is kept
sleep 30 &
live=$!
q=$(ctr_new_prefix)
"$T/up" --prefix "$q" --owner "$live" >/dev/null
"$T/reap" >/dev/null
t_check "reaper keeps a live owner's topology" 4 "$(ctr_prefix_namespaces "$q" | wc -l)"
kill "$live"; wait "$live" 2>/dev/null
"$T/reap" >/dev/null
t_check "reaper removes a dead owner's topology" 0 "$(ctr_prefix_namespaces "$q" | wc -l)"
t_check "reaper removes its state" "" "$(ls -d "$CTR_STATE/$q" 2>/dev/null)"
t_done
