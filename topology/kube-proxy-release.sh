# shellcheck shell=bash
# kube-proxy release profiles (topology/kube-proxy-releases): which INVALID rule and which
# sysctl a release writes by default for a mode. Sourced by topology/up and bench/matrix;
# needs tools/lib/sh/lib.sh.

CTR_KP_CURRENT=1.33

# ctr_kube_proxy_release VERSION BACKEND CONFIG -> KP_VERSION (1.N), KP_MODE (iptables,
# ipvs, nftables), KP_INVALID (none, drop, drop-nfacct, nft-drop: what the release writes),
# KP_LIBERAL (1 when tcpBeLiberal=true sets nf_conntrack_tcp_be_liberal=1, and then no
# rule), KP_SOURCE (the row's source). Returns 2 with REPLY the reason on bad input.
ctr_kube_proxy_release() {
	local v=$1 backend=$2 config=$3 minor from to mode invalid skips source kv
	[ "$v" = current ] && v=$CTR_KP_CURRENT
	v=${v#v}
	[[ $v =~ ^1\.([0-9]{1,2})(\.[0-9]+)?$ ]] || { REPLY="argument \"$1\" is wrong: kube-proxy VERSION is 1.N (1.14 to 1.99) or current"; return 2; }
	minor=$((10#${BASH_REMATCH[1]}))
	((minor >= 14)) || { REPLY="argument \"$1\" is wrong: profiles start at 1.14 (the last release without the INVALID rule)"; return 2; }
	case $backend in
	iptables-nft | iptables-legacy) KP_MODE=iptables ;;
	nft) KP_MODE=nftables ;;
	ipvs) KP_MODE=ipvs ;;
	*) REPLY="argument \"$backend\" is wrong: no kube-proxy mode for this backend"; return 2 ;;
	esac
	KP_LIBERAL=0
	local IFS=,
	for kv in $config; do
		case $kv in
		tcpBeLiberal=true) KP_LIBERAL=1 ;;
		tcpBeLiberal=false) KP_LIBERAL=0 ;;
		*) REPLY="argument \"$kv\" is wrong: --kube-proxy-config knows tcpBeLiberal=true|false"; return 2 ;;
		esac
	done
	IFS=$' \t\n'
	KP_INVALID='' KP_VERSION=1.$minor
	while IFS=$'\t' read -r from to mode invalid skips _ source; do
		[[ $from =~ ^[0-9]+$ ]] || continue
		[ "$mode" = "$KP_MODE" ] && ((minor >= from && minor <= to)) || continue
		KP_INVALID=$invalid
		# shellcheck disable=SC2034 # for callers
		KP_SOURCE=$source
		if [ "$KP_LIBERAL" = 1 ]; then
			[ "$skips" = yes ] || { REPLY="argument \"tcpBeLiberal=true\" is wrong: kube-proxy $KP_VERSION has no tcpBeLiberal (from 1.29)"; return 2; }
			KP_INVALID=none
		fi
		return 0
	done <"$CTR_TOP/topology/kube-proxy-releases"
	REPLY="argument \"$1\" is wrong: kube-proxy $KP_VERSION has no $KP_MODE mode (nftables mode exists from 1.29)"
	return 2
}

# ctr_kube_proxy_equivalent -> REPLY: the bench workaround whose rules the profile's are
# (none, kube-proxy-drop, nft-invalid-drop, be-liberal), for the oracle
ctr_kube_proxy_equivalent() {
	if [ "$KP_LIBERAL" = 1 ]; then REPLY=be-liberal
	else
		case $KP_INVALID in
		drop | drop-nfacct) REPLY=kube-proxy-drop ;;
		nft-drop) REPLY=nft-invalid-drop ;;
		*) REPLY=none ;;
		esac
	fi
}

# ctr_kube_proxy_versions LIST CONFIG -> REPLY: the releases of a comma list (VERSION,
# current, or all: every release a row of the table starts at, i.e. each profile that
# differs from the one before in some mode), as 1.N, space-separated, each once, in order.
# Returns 2 with REPLY the reason on a bad VERSION.
ctr_kube_proxy_versions() {
	local v out='' from _ IFS=,
	for v in $1; do
		if [ "$v" = all ]; then
			while IFS=$'\t' read -r from _; do
				[[ $from =~ ^[0-9]+$ ]] && [[ " $out " != *" 1.$from "* ]] && out+="${out:+ }1.$from"
			done < <(grep '^[0-9]' "$CTR_TOP/topology/kube-proxy-releases" | sort -n -u -k1,1)
			continue
		fi
		ctr_kube_proxy_release "$v" iptables-nft "" || return 2
		[[ " $out " == *" $KP_VERSION "* ]] || out+="${out:+ }$KP_VERSION"
	done
	[ -n "$out" ] || { REPLY="argument \"$1\" is wrong: --kube-proxy takes VERSION[,VERSION...], current or all"; return 2; }
	REPLY=$out
}

# ctr_kube_proxy_meta VERSION BACKEND CONFIG -> CTR_CELL_META (ctr_cell_meta's extra
# lines): the release's rules judged as the workaround they amount to (oracle.workaround),
# the reason saying so (oracle.note), and the release's facts for the "exposed or not, and
# why" lines (kube_proxy.*). Returns 2 (REPLY the reason) when the pair never existed.
# shellcheck disable=SC2034 # CTR_CELL_META is for ctr_cell_meta
ctr_kube_proxy_meta() {
	CTR_CELL_META=
	ctr_kube_proxy_release "$1" "$2" "$3" || return 2
	ctr_kube_proxy_equivalent
	CTR_CELL_META="oracle.workaround=$REPLY
oracle.note=kube-proxy $KP_VERSION $KP_MODE mode writes ${KP_INVALID}${3:+ ($3)}, i.e. $REPLY
kube_proxy.version=$KP_VERSION
kube_proxy.mode=$KP_MODE
kube_proxy.invalid=$KP_INVALID
kube_proxy.liberal=$KP_LIBERAL${3:+
kube_proxy.config=$3}"
}

# ctr_kube_proxy_label VERSION -> REPLY: the cell's workaround coordinate for a release
# (kube-proxy-1.N: the rules on the nodes are the release's, no other workaround);
# ctr_topology_up turns it back into --kube-proxy 1.N --workaround none
ctr_kube_proxy_label() { REPLY=kube-proxy-$1; }
