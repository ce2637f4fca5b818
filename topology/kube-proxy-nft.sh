# shellcheck shell=bash
# kube-proxy's nftables-mode ruleset for one service (and CTR_EXTRA_SERVICES dummy ones),
# as a function (sourced by topology/up; needs tools/lib/sh/lib.sh, and
# topology/kube-proxy.sh for the hashes and the dummy services, which it sources).
#
# Laid out as kube-proxy's nftables proxier (pkg/proxy/nftables/proxier.go) names things:
# one table "ip kube-proxy" (ip6 for IPv6); base chains nat-prerouting and nat-output
# (hook prerouting/output, priority dstnat) jumping to "services", which looks the
# destination up in the verdict map service-ips (daddr . l4proto . dport : goto chain);
# one chain service-<hash>-<ns>/<name>/tcp/<port> per service, which marks non-cluster
# sources for masquerade and picks an endpoint with numgen random mod N into
# endpoint-<hash>-<ns>/<name>/tcp/<port>__<ip>/<port>, which DNATs; nat-postrouting
# masquerades marked packets; filter-forward (hook forward priority -101) jumps to chain
# "forward". kube-proxy's nftables mode first had "ct state invalid drop" in that chain
# and removed it (PR 122663): the nft-invalid-drop workaround puts it back, counted
# (--forward).

# shellcheck source=topology/kube-proxy.sh
. "${BASH_SOURCE[0]%/*}/kube-proxy.sh"

# ctr_kube_proxy_nft [--forward RULE]... VIP PORT CLUSTER_CIDR NAME ENDPOINT... -> an
# `nft -f` script that (re)creates table ip|ip6 kube-proxy in one transaction, as
# kube-proxy syncs it; each --forward RULE is a rule of its chain "forward" (a
# workaround's: tools/lib/sh/workarounds.sh)
ctr_kube_proxy_nft() {
	local forward=()
	while [ "${1-}" = --forward ]; do
		forward+=("$2")
		shift 2
	done
	local vip=$1 port=$2 cidr=$3 name=$4 fam=ip addr=ipv4_addr family=4
	shift 4
	local svcs=() keys=() hashes k=0 i j rest ep sv sp sn base
	local eps svc epc n elements=() chains=() vmap epip epport extra=
	if [[ $vip == *:* ]]; then fam=ip6 addr=ipv6_addr family=6; fi
	svcs+=("$vip $port $name $*")
	# IPv4 dummy services in one awk pass (topology/kube-proxy-scale.sh), IPv6 ones here
	ctr_dummy_services nft "$family" || return 1
	# the chain-name hash: as the iptables mode's, of "<ns>/<name>/tcp/<port>"
	for i in "${svcs[@]}"; do
		read -r _ _ sn rest <<<"$i"
		base=${sn%%:*}/tcp/${sn##*:}
		keys+=("$base")
		# the endpoint's key is its chain name's tail: IP/PORT, an IPv6 IP's ":" as "."
		for ep in $rest; do
			epip=${ep%:*} epport=${ep##*:}
			epip=${epip#[} epip=${epip%]}
			keys+=("${base}__${epip//:/.}/$epport")
		done
	done
	ctr_chain_hashes "${keys[@]}" || { ctr_log "hashing chain names failed"; return 1; }
	hashes=("${CTR_HASHES[@]}")
	for i in "${svcs[@]}"; do
		read -r sv sp sn rest <<<"$i"
		read -ra eps <<<"$rest"
		base=${sn%%:*}/tcp/${sn##*:}
		svc="service-${hashes[k]:0:8}-$base"
		k=$((k + 1))
		elements+=("$sv . tcp . $sp : goto $svc")
		n=${#eps[@]}
		vmap=
		local body=()
		for j in "${!eps[@]}"; do
			epip=${eps[j]%:*}
			epport=${eps[j]##*:}
			epip=${epip#[}
			epip=${epip%]}
			# a chain name is an unquoted nft string here: no ":" (IPv6 as dots)
			epc="endpoint-${hashes[k]:0:8}-${base}__${epip//:/.}/$epport"
			k=$((k + 1))
			vmap+="${vmap:+, }$j : goto $epc"
			body+=("chain $epc {
		$fam saddr $epip jump mark-for-masquerade
		meta l4proto tcp dnat to ${eps[j]}
	}")
		done
		chains+=("chain $svc {
		$fam daddr $sv tcp dport $sp $fam saddr != $cidr jump mark-for-masquerade
		numgen random mod $n vmap { $vmap }
	}" "${body[@]}")
	done
	local drop=
	[ ${#forward[@]} = 0 ] || printf -v drop '%s\n\t\t' "${forward[@]}"
	drop=${drop%$'\n\t\t'}
	# "add table" then "delete table" then the definition: a fresh table in one
	# transaction, whether or not it existed
	local text
	IFS= read -r -d '' text <<NFT
add table $fam kube-proxy
delete table $fam kube-proxy
table $fam kube-proxy {
	comment "rules for kube-proxy"
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain nat-output {
		type nat hook output priority -100; policy accept;
		jump services
	}
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}
	chain filter-forward {
		type filter hook forward priority -101; policy accept;
		jump forward
	}
	chain forward {
		$drop
	}
	chain mark-for-masquerade {
		meta mark set meta mark | 0x00004000
	}
	chain masquerading {
		meta mark & 0x00004000 == 0x00000000 return
		meta mark set meta mark ^ 0x00004000
		masquerade fully-random
	}
	map service-ips {
		type $addr . inet_proto . inet_service : verdict
		comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
	}
	chain services {
		$fam daddr . meta l4proto . th dport vmap @service-ips
	}
NFT
	printf '%s' "$text"
	printf '\t%s\n' "${chains[@]}"
	[ -n "$extra" ] && ctr_extra_nft "$extra" "$cidr" chains
	echo "}"
	# elements after the chains they name, in batches (one huge element line is slow)
	if [ -n "$extra" ]; then
		ctr_extra_nft "$extra" "$cidr" elements
		rm -f "$extra"
	fi
	for ((i = 0; i < ${#elements[@]}; i += 500)); do
		local IFS=,
		printf 'add element %s kube-proxy service-ips { %s }\n' "$fam" "${elements[*]:i:500}"
		unset IFS
	done
}

# ctr_nft_forward_table FAMILY RULE... -> an `nft -f` script with only kube-proxy's
# nftables "forward" chain holding RULEs (a workaround's nft.forward, such as the former
# nftables-mode INVALID drop) on a node whose services are not nftables rules
ctr_nft_forward_table() {
	ctr_nft_forward_table_text "$@"
	printf '%s' "$REPLY"
}
# the same -> REPLY (no fork, no exec: the topology's builds and switches)
ctr_nft_forward_table_text() {
	local fam=ip rules
	[ "$1" = 6 ] && fam=ip6
	shift
	printf -v rules '%s\n\t\t' "$@"
	rules=${rules%$'\n\t\t'}
	IFS= read -r -d '' REPLY <<NFT
table $fam kube-proxy {
	chain filter-forward {
		type filter hook forward priority -101; policy accept;
		jump forward
	}
	chain forward {
		$rules
	}
}
NFT
	return 0
}

# ctr_nft_input_table FAMILY TABLE RULE... -> an `nft -f` script with table TABLE whose
# chain input (hook input, priority filter) holds RULEs: a workaround's nft.input, such
# as Docker's INPUT rule in nft's own words
ctr_nft_input_table() {
	ctr_nft_input_table_text "$@"
	printf '%s' "$REPLY"
}
# the same -> REPLY
ctr_nft_input_table_text() {
	local fam=ip table=$2 rules
	[ "$1" = 6 ] && fam=ip6
	shift 2
	printf -v rules '%s\n\t\t' "$@"
	rules=${rules%$'\n\t\t'}
	IFS= read -r -d '' REPLY <<NFT
table $fam $table {
	chain input {
		type filter hook input priority filter; policy accept;
		$rules
	}
}
NFT
	return 0
}
