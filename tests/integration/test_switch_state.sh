#!/usr/bin/env bash
# A topology whose workaround was switched live (ctr_shared_switch, as the matrix, bench/repro
# and bench/soak switch theirs: ctr_workaround_switch, one process a node) is in exactly the
# state of one built fresh with the workaround it was switched to: the same links,
# addresses, routes, nftables / iptables-legacy rules, sysctls, processes and topology.env
# (tests/integration/topology-state, which leaves out what the kernel derives on its own
# later), on each backend and family, through paths that lay and remove every live
# workaround (the filter-table lines, the nftables tables and chains, the sysctls);
# a workaround a backend cannot take (kube-proxy-drop on nft) is refused, the topology
# removed.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd nft

state=${BASH_SOURCE[0]%/*}/topology-state
out=$(mktemp -d)
prefixes=()
cleanup() {
	local p
	for p in "${prefixes[@]}"; do ctr_destroy_prefix "$p"; done
	rm -rf "$out"
}
trap cleanup EXIT

# fresh TOPOLOGY BACKEND FAMILY WORKAROUND -> the state dump of a fresh build, in $out/fresh
fresh() {
	local p
	p=$(ctr_new_prefix)
	prefixes+=("$p")
	CTR_TOPOLOGY=$1 CTR_BACKEND=$2 CTR_FAMILY=$3 ctr_topology_up "$p" "$4" /dev/null "$out/fresh.err" ||
		{ echo "fresh build failed: $(cat "$out/fresh.err")" >"$out/fresh"; ctr_destroy_prefix "$p"; return; }
	"$state" "$p" >"$out/fresh"
	ctr_destroy_prefix "$p"
}

# path TOPOLOGY BACKEND FAMILY W0 STEP...: builds with W0, switches to each STEP in turn;
# a STEP written =W is compared with a fresh build of W
path() {
	local to=$1 b=$2 f=$3 w0=$4 s w what
	shift 4
	what="$to $b IPv$f: $w0"
	CTR_SHARED=$(ctr_new_prefix)
	prefixes+=("$CTR_SHARED")
	CTR_TOPOLOGY=$to CTR_BACKEND=$b CTR_FAMILY=$f ctr_topology_up "$CTR_SHARED" "$w0" /dev/null "$out/up.err" ||
		{ t_fail "$what: topology/up: $(cat "$out/up.err")"; ctr_shared_end; return; }
	for s; do
		w=${s#=}
		what+=" -> $w"
		ctr_shared_switch "$w"
		[ -n "$CTR_SHARED" ] || { t_fail "$what: the switch failed (topology removed)"; return; }
		[ "$s" = "$w" ] && continue
		"$state" "$CTR_SHARED" >"$out/switched"
		fresh "$to" "$b" "$f" "$w"
		t_check "$what: the switched topology's state is a fresh build's" "" \
			"$(diff "$out/fresh" "$out/switched" | head -20)"
	done
	ctr_shared_end
}

path cross-node iptables-nft 4 none kube-proxy-drop input-drop =kube-proxy-drop+tcp-loose-0 nft-invalid-drop be-liberal =none
path cross-node iptables-legacy 4 none kube-proxy-drop input-drop =kube-proxy-drop+tcp-loose-0 nft-invalid-drop =ignore-invalid-rst
path cross-node nft 4 none input-drop =nft-invalid-drop be-liberal tcp-loose-0 =none
path cross-node iptables-nft 6 none kube-proxy-drop =input-drop nft-invalid-drop =be-liberal
path cross-node nft 6 none nft-invalid-drop =input-drop
path same-node iptables-nft 4 kube-proxy-drop =be-liberal
path host-network nft 4 input-drop =none

# a workaround the backend cannot take: refused, the topology removed (the next cell builds)
CTR_SHARED=$(ctr_new_prefix)
prefixes+=("$CTR_SHARED")
p=$CTR_SHARED
CTR_TOPOLOGY=cross-node CTR_BACKEND=nft ctr_topology_up "$p" none /dev/null "$out/up.err" ||
	t_fail "nft: topology/up: $(cat "$out/up.err")"
ctr_shared_switch kube-proxy-drop
t_check "nft: kube-proxy-drop refused, the topology removed" ":0" "$CTR_SHARED:$(ctr_prefix_namespaces "$p" | wc -l)"
t_done
