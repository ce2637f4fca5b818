# shellcheck shell=bash
# kube-proxy's IPVS-mode layout for one service (sourced by topology/up; needs
# tools/lib/sh/lib.sh and topology/kube-proxy.sh, which it sources). IPv4 only.
#
# What kube-proxy's IPVS proxier (pkg/proxy/ipvs/proxier.go) does on every node, as read
# in the stored copy of that file (the 1.26/1.27 generation: KUBE-PROXY-FIREWALL,
# component-helpers sysctl, no conntrackTCPLiberal field; see topology/kube-proxy-releases):
#   sysctls  net.ipv4.vs.conntrack=1 (IPVS keeps conntrack entries, so iptables' nat and
#            masquerade see the flow), net.ipv4.vs.expire_nodest_conn=1,
#            net.ipv4.vs.expire_quiescent_template=1, net.ipv4.ip_forward=1;
#            net.ipv4.vs.conn_reuse_mode is left as is on kernels >= 5.9 (set to 0 on
#            4.1 .. 5.8): every kernel this bench boots is >= 5.9, so it is not written.
#   links    the dummy kube-ipvs0 (left DOWN, as kube-proxy leaves it) holding each VIP
#            as a /32: the VIP is a local address, the client's SYN takes INPUT, where
#            IPVS's LOCAL_IN hook (ip_vs_remote_request4) schedules it
#   ipvs     a virtual server per service port (scheduler rr), each endpoint a real
#            server in masquerade mode (-m: IPVS's own DNAT, ip_vs_nat_xmit)
#   ipsets   KUBE-CLUSTER-IP (hash:ip,port: VIP,tcp:PORT), KUBE-LOOP-BACK
#            (hash:ip,port,ip: an endpoint on this node talking to itself through the VIP)
#   iptables nat: PREROUTING/OUTPUT -> KUBE-SERVICES (cluster IP not from the cluster
#            CIDR -> KUBE-MARK-MASQ; LOCAL destinations -> KUBE-NODE-PORT; cluster IPs
#            ACCEPT), POSTROUTING -> KUBE-POSTROUTING (KUBE-LOOP-BACK hairpin masquerade,
#            marked packets masqueraded); filter: FORWARD -> KUBE-FORWARD (mark ACCEPT,
#            RELATED,ESTABLISHED ACCEPT: no INVALID drop in any IPVS proxier read),
#            INPUT -> KUBE-NODE-PORT, INPUT/FORWARD -> KUBE-PROXY-FIREWALL,
#            KUBE-SOURCE-RANGES-FIREWALL -j DROP.
# A workaround's filter lines go before KUBE-FORWARD's accepts, as in iptables mode (the
# kube-proxy-drop workaround: a rule IPVS mode never writes itself).

# shellcheck source=topology/kube-proxy.sh
. "${BASH_SOURCE[0]%/*}/kube-proxy.sh"

# ctr_kube_proxy_ipvs_setup VIP PORT NAME ENDPOINT... -> a shell script (sh) for one
# node namespace: sysctls, kube-ipvs0, the virtual server and its real servers, ipsets
ctr_kube_proxy_ipvs_setup() {
	local vip=$1 port=$2 name=$3 ep
	shift 3
	cat <<SH
set -e
echo 1 >/proc/sys/net/ipv4/vs/conntrack
echo 1 >/proc/sys/net/ipv4/vs/expire_nodest_conn
echo 1 >/proc/sys/net/ipv4/vs/expire_quiescent_template
ip link add kube-ipvs0 type dummy
ip addr add $vip/32 dev kube-ipvs0
ipvsadm -A -t $vip:$port -s rr
SH
	for ep in "$@"; do echo "ipvsadm -a -t $vip:$port -r $ep -m -w 1"; done
	cat <<SH
ipset create KUBE-CLUSTER-IP hash:ip,port comment
ipset add KUBE-CLUSTER-IP $vip,tcp:$port comment "$name cluster IP"
ipset create KUBE-LOOP-BACK hash:ip,port,ip
SH
	for ep in "$@"; do echo "ipset add KUBE-LOOP-BACK ${ep%:*},tcp:${ep##*:},${ep%:*}"; done
}

# ctr_kube_proxy_ipvs_rules CLUSTER_CIDR [FILTER_LINE]... -> iptables-restore input of
# IPVS mode, with a workaround's filter lines
ctr_kube_proxy_ipvs_rules() {
	local cidr=$1 text
	shift
	read -r -d '' text <<RULES
*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE
-A KUBE-SERVICES ! -s $cidr -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
COMMIT
*filter
:KUBE-FORWARD - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SOURCE-RANGES-FIREWALL - [0:0]
-A INPUT -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT
-A FORWARD -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A KUBE-SOURCE-RANGES-FIREWALL -j DROP
RULES
	printf '%s\n' "$text"
	ctr_kube_forward_rules "$@"
}

# ctr_ipvs_missing -> 0 when this kernel and machine can build IPVS mode; else 1 with
# REPLY the reason (for a skip)
ctr_ipvs_missing() {
	local t
	for t in ipvsadm ipset; do
		command -v "$t" >/dev/null 2>&1 || { REPLY="$t not installed (bench/deps installs Debian's $t)"; return 0; }
	done
	if [ ! -d /proc/sys/net/ipv4/vs ] && ! modprobe -q ip_vs 2>/dev/null; then
		REPLY="kernel $(uname -r) without IPVS (no /proc/sys/net/ipv4/vs, modprobe ip_vs fails): run it in a VM, e.g. bench/kernels --kernel debian:6.1"
		return 0
	fi
	if ! modprobe -q dummy 2>/dev/null && ! grep -qw dummy /proc/modules 2>/dev/null &&
		[ ! -d /sys/module/dummy ]; then
		REPLY="kernel $(uname -r) without the dummy link type (kube-ipvs0): run it in a VM, e.g. bench/kernels --kernel debian:6.1"
		return 0
	fi
	return 1
}
