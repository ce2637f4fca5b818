#!/usr/bin/env bash
# kube-proxy as clusters run it: the release profiles (topology/up --kube-proxy) lay out
# exactly the INVALID rule, nfacct object and sysctl topology/kube-proxy-releases lists,
# on iptables-nft and nftables here; bench/matrix --kube-proxy measures seq-above against
# them with the oracle's verdicts and says "exposed or not, and why"; bad input is a usage
# error. IPVS mode: on a kernel without IPVS (this machine's) topology/up --backend ipvs
# is a skip naming the reason; then bench/repro --backend ipvs runs for real inside a
# Debian 6.1 VM (bench/kernels, about a minute under TCG), every scenario as
# bench/scenarios-ipvs expects. Host state unchanged around it all.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd nfacct ipvsadm ipset

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
UP=$CTR_TOP/topology/up DOWN=$CTR_TOP/topology/down M=$CTR_TOP/bench/matrix
t_host_state >"$out/before"

# 1. bad input: usage errors, nothing built
bad() { # DESCRIPTION ARGS...
	local what=$1
	shift
	"$@" >"$out/bad.out" 2>"$out/bad.err"
	t_check "$what is a usage error" 2 "$?" "$(cat "$out/bad.err")"
}
bad "--kube-proxy 1.13 (before the profiles)" "$UP" --kube-proxy 1.13
bad "--kube-proxy 1.x" "$UP" --kube-proxy 1.x
bad "nftables mode in 1.28" "$UP" --kube-proxy 1.28 --backend nft
bad "tcpBeLiberal in 1.28" "$UP" --kube-proxy 1.28 --kube-proxy-config tcpBeLiberal=true
bad "an unknown --kube-proxy-config key" "$UP" --kube-proxy 1.31 --kube-proxy-config foo=1
bad "--kube-proxy-config without --kube-proxy" "$UP" --kube-proxy-config tcpBeLiberal=true
bad "an unknown backend" "$UP" --backend ipvx
bad "bench/matrix --kube-proxy with a workaround" "$M" --kube-proxy 1.31 --workaround be-liberal --list
bad "bench/matrix --kube-proxy 1.20 --backend nft" "$M" --kube-proxy 1.20 --backend nft --list

# 2. each profile's rules in node A (and node B the same), as topology/kube-proxy-releases says
profile() { # VERSION BACKEND CONFIG WANT_RULE WANT_LIBERAL WANT_NFACCT
	local v=$1 b=$2 cfg=$3 want=$4 lib=$5 acct=$6 p got ns
	"$UP" --kube-proxy "$v" --backend "$b" ${cfg:+--kube-proxy-config "$cfg"} >"$out/up" 2>"$out/up.err"
	t_check "topology/up --kube-proxy $v --backend $b${cfg:+ $cfg}" 0 "$?" "$(cat "$out/up.err")"
	p=$(sed -n 's/^PREFIX=//p' "$out/up")
	[ -n "$p" ] || return
	for ns in "$p-nodeA" "$p-nodeB"; do
		if [ "$b" = nft ]; then
			got=$(ip netns exec "$ns" nft list ruleset | grep -o 'ct state invalid.*drop' | sed 's/ counter packets [0-9]* bytes [0-9]*//' | head -1)
		else
			got=$(ip netns exec "$ns" iptables-nft-save -t filter | grep -- '--ctstate INVALID' | tr -s ' ')
		fi
		t_check "$v $b${cfg:+ $cfg} $ns: INVALID rule" "$want" "$got"
		t_check "$v $b${cfg:+ $cfg} $ns: nf_conntrack_tcp_be_liberal" "$lib" \
			"$(ip netns exec "$ns" cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)"
		got=$(ip netns exec "$ns" nfacct list 2>/dev/null | grep -c 'ct_state_invalid_dropped_pkts')
		t_check "$v $b${cfg:+ $cfg} $ns: nfacct ct_state_invalid_dropped_pkts objects" "$acct" "$got"
	done
	grep -qx "KUBE_PROXY=$v" "$out/up" || [ "$v" = current ] || t_fail "topology.env lacks KUBE_PROXY=$v"
	"$DOWN" --prefix "$p" >/dev/null 2>&1 || t_fail "topology/down $p"
}
profile 1.14 iptables-nft "" "" 0 0
profile 1.15 iptables-nft "" "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP" 0 0
profile 1.29 iptables-nft "" "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP" 0 0
profile 1.29 iptables-nft tcpBeLiberal=true "" 1 0
profile 1.31 iptables-nft "" "-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP" 0 1
profile 1.29 nft "" "ct state invalid drop" 0 0
profile current nft "" "" 0 0
profile current nft tcpBeLiberal=true "" 1 0

# 3. measured: seq-above against the releases' rules, verdicts as the oracle says
for spec in "1.14 iptables-nft EXPOSED" "1.15 iptables-nft not exposed" "current nft EXPOSED" "current iptables-nft not exposed"; do
	read -r v b want <<<"$spec"
	"$M" --kube-proxy "$v" --backend "$b" --topology cross-node --family 4 --trigger seq-above \
		--out "$out/m" >"$out/m.out" 2>"$out/m.err"
	t_check "bench/matrix --kube-proxy $v --backend $b --trigger seq-above matches the oracle" 0 "$?" "$(tail -n 20 "$out/m.out"; tail -n 5 "$out/m.err")"
	grep -q "^kube-proxy .*(${b}, ipv4, cross-node), seq-above: ${want}" "$out/m.out" ||
		t_fail "the report line for $v $b says '$want': $(grep '^kube-proxy ' "$out/m.out")"
done

# 4. IPVS mode: a skip here (no IPVS or dummy), a real run in the Debian 6.1 VM
if ! . "$CTR_TOP/topology/kube-proxy-ipvs.sh" || ! ctr_ipvs_missing; then
	t_fail "this kernel has IPVS: run bench/repro --backend ipvs natively instead (test to be extended)"
else
	"$UP" --backend ipvs >"$out/ipvs.out" 2>"$out/ipvs.err"
	t_check "topology/up --backend ipvs without IPVS is a skip" 4 "$?" "$(cat "$out/ipvs.err")"
	grep -q "without IPVS\|without the dummy" "$out/ipvs.err" || t_fail "the skip names the reason: $(cat "$out/ipvs.err")"
fi
if command -v qemu-system-x86_64 >/dev/null && [ -x /bin/busybox ]; then
	"$CTR_TOP/bench/kernels" --kernel debian:6.1 --cmd 'bench/repro --backend ipvs' --out "$out/k" --timeout 600 \
		>"$out/k.out" 2>"$out/k.err"
	t_check "bench/repro --backend ipvs in a Debian 6.1 VM: every scenario as bench/scenarios-ipvs" 0 "$?" \
		"$(tail -5 "$out/k.err")" "$(grep -v '^\[' "$out"/k/*/console.log 2>/dev/null | tail -25)"
	n=$(grep -c '^seq-\(above\|below\)' "$out"/k/*/console.log 2>/dev/null)
	t_check "the VM ran the 4 IPVS scenarios" 4 "${n:-0}"
else
	t_fail "no qemu-system-x86_64 or busybox-static (sudo make deps): IPVS mode cannot run on this kernel"
fi

t_host_state >"$out/after"
diff -u "$out/before" "$out/after" >"$out/diff" && t_pass "host state unchanged" || t_fail "host state changed: $(cat "$out/diff")"
t_done
