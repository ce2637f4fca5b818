# shellcheck shell=bash
# kube-proxy's iptables-mode ruleset for one service, as a function (sourced by
# topology/up and topology/kube-proxy-rules; needs tools/lib/sh/lib.sh).

# the dummy services of CTR_EXTRA_SERVICES: their fast generators
# shellcheck source=topology/kube-proxy-scale.sh
. "${BASH_SOURCE[0]%/*}/kube-proxy-scale.sh"

# ctr_chain_hashes KEY... -> CTR_HASHES: kube-proxy's chain-name suffix of each key, the
# first 16 characters of base32(sha256(key)), i.e. the first 80 bits of the digest. Known
# keys come from a cache in $CTR_STATE, so a run of many scenarios hashes once.
ctr_chain_hashes() {
	local cache=$CTR_STATE/chain-hash.cache k h tmp i=0 files=() uncached=() hex
	local alphabet=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 out half v b
	local -A known=()
	CTR_HASHES=()
	if [ -r "$cache" ]; then
		while IFS=$'\t' read -r k h; do known[$k]=$h; done <"$cache"
	fi
	for k in "$@"; do
		[ -n "${known[$k]:-}" ] || uncached+=("$k")
	done
	if [ ${#uncached[@]} -gt 0 ]; then
		mkdir -p "$CTR_STATE" && tmp=$(mktemp -d "$CTR_STATE/hash.XXXXXX") || return 1
		for k in "${uncached[@]}"; do
			printf '%s' "$k" >"$tmp/$i"
			files+=("$tmp/$i")
			i=$((i + 1))
		done
		i=0
		while read -r hex _; do
			out=
			for half in "${hex:0:10}" "${hex:10:10}"; do
				v=$((16#$half))
				for ((b = 35; b >= 0; b -= 5)); do out+=${alphabet:$(((v >> b) & 31)):1}; done
			done
			known[${uncached[i]}]=$out
			printf '%s\t%s\n' "${uncached[i]}" "$out" >>"$cache"
			i=$((i + 1))
		done < <(sha256sum "${files[@]}")
		rm -rf "$tmp"
	fi
	for k in "$@"; do
		[ -n "${known[$k]:-}" ] || return 1
		CTR_HASHES+=("${known[$k]}")
	done
}

# ctr_extra_service I FAMILY -> REPLY="VIP PORT NAME ENDPOINT ENDPOINT": the Ith dummy
# service of CTR_EXTRA_SERVICES, its VIP in the service range, two endpoints that need not
# exist (nothing connects to them: they make the ruleset the size of a busy node's)
ctr_extra_service() {
	local i=$1 vip e1 e2
	if [ "$2" = 6 ]; then
		ctr_cidr6_host "$CTR6_SERVICE_CIDR" $((0x1000 + i)); vip=$REPLY
		ctr_cidr6_host "$CTR6_POD_CIDR_B" $((0x1000 + 2 * i)); e1="[$REPLY]:8080"
		ctr_cidr6_host "$CTR6_POD_CIDR_B" $((0x1001 + 2 * i)); e2="[$REPLY]:8080"
	else
		# as topology/kube-proxy-scale.sh lays them out (ctr_extra_check)
		ctr_ip4_to_int "${CTR_SERVICE_CIDR%/*}"; ctr_int_to_ip4 $((REPLY + CTR_EXTRA_FIRST_VIP + i)); vip=$REPLY
		ctr_ip4_to_int "${CTR_CLUSTER_CIDR%/*}"
		local base=$((REPLY + (1 << (31 - ${CTR_CLUSTER_CIDR#*/}))))
		ctr_int_to_ip4 $((base + 2 * i)); e1=$REPLY:8080
		ctr_int_to_ip4 $((base + 2 * i + 1)); e2=$REPLY:8080
	fi
	REPLY="$vip 80 default/extra-$i:http $e1 $e2"
}

# ctr_kube_proxy_rules [--filter LINE]... VIP PORT CLUSTER_CIDR NAME ENDPOINT...
#   -> iptables-restore input (ip6tables-restore when VIP is IPv6; endpoints then written
# [IP]:PORT): nat PREROUTING/OUTPUT -> KUBE-SERVICES -> KUBE-SVC-<hash> -> KUBE-SEP-<hash>
# (statistic random for >1 endpoint, KUBE-MARK-MASQ for hairpin) -> DNAT,
# KUBE-POSTROUTING masquerades marked packets; filter FORWARD -> KUBE-FORWARD.
# Each --filter LINE goes into the filter table before KUBE-FORWARD's accepts: a
# workaround's rule (tools/lib/sh/workarounds.sh), such as kube-proxy's INVALID DROP
# (PR 74840), as kube-proxy >= 1.15 lays it out. With CTR_EXTRA_SERVICES=N, N dummy
# services of 2 endpoints each come with it, in the one restore input, their
# KUBE-SERVICES rules before the real one's: the real service's first packet walks the
# whole list, the worst case of iptables' linear match. IPv4 dummies come from one awk
# pass (topology/kube-proxy-scale.sh: 10,000 in about a second), IPv6 ones from
# ctr_extra_service, one at a time.
ctr_kube_proxy_rules() {
	local filter=()
	while [ "${1-}" = --filter ]; do
		filter+=("$2")
		shift 2
	done
	local vip=$1 port=$2 cidr=$3 name=$4 family=4 host=32 i j n=0 text extra=
	shift 4
	local svcs=() keys=() hashes k=0 rest ep comment
	[[ $vip == *:* ]] && family=6 host=128
	# one record per service: "VIP PORT NAME EP..."
	svcs+=("$vip $port $name $*")
	ctr_dummy_services iptables "$family" || return 1
	for i in "${svcs[@]}"; do
		read -r _ _ j rest <<<"$i"
		keys+=("${j}tcp")
		for ep in $rest; do keys+=("${j}tcp$ep"); done
	done
	ctr_chain_hashes "${keys[@]}" || { ctr_log "hashing chain names failed"; return 1; }
	hashes=("${CTR_HASHES[@]}")
	local chains=() nat_rules=() svc seps eps sv sp sn left ep epip
	for i in "${svcs[@]}"; do
		read -r sv sp sn rest <<<"$i"
		read -ra eps <<<"$rest"
		svc="KUBE-SVC-${hashes[k]}"
		k=$((k + 1))
		seps=()
		for ep in "${eps[@]}"; do seps+=("KUBE-SEP-${hashes[k]}"); k=$((k + 1)); done
		chains+=("$svc" "${seps[@]}")
		comment="\"$sn cluster IP\""
		nat_rules+=("-A KUBE-SERVICES -d $sv/$host -p tcp -m comment --comment $comment -m tcp --dport $sp -j $svc")
		nat_rules+=("-A $svc ! -s $cidr -d $sv/$host -p tcp -m comment --comment $comment -m tcp --dport $sp -j KUBE-MARK-MASQ")
		n=${#eps[@]}
		for j in "${!eps[@]}"; do
			left=$((n - j))
			if [ "$left" -gt 1 ]; then
				# kube-proxy: probability 1/left, printed with 10 decimals
				printf -v text -- '-A %s -m comment --comment "%s -> %s" -m statistic --mode random --probability 0.%010d -j %s' \
					"$svc" "$sn" "${eps[j]}" $((10000000000 / left)) "${seps[j]}"
				nat_rules+=("$text")
			else
				nat_rules+=("-A $svc -m comment --comment \"$sn -> ${eps[j]}\" -j ${seps[j]}")
			fi
		done
		for j in "${!eps[@]}"; do
			epip=${eps[j]%:*}
			epip=${epip#[}
			epip=${epip%]}
			nat_rules+=("-A ${seps[j]} -s $epip/$host -m comment --comment \"$sn\" -j KUBE-MARK-MASQ")
			nat_rules+=("-A ${seps[j]} -p tcp -m comment --comment \"$sn\" -m tcp -j DNAT --to-destination ${eps[j]}")
		done
	done
	echo "*nat"
	printf ':%s - [0:0]\n' KUBE-SERVICES KUBE-NODEPORTS KUBE-POSTROUTING KUBE-MARK-MASQ "${chains[@]}"
	[ -n "$extra" ] && ctr_extra_iptables "$extra" "$cidr" chains
	read -r -d '' text <<'RULES'
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
RULES
	printf '%s\n' "$text"
	# the service rules first (the dummies' before the real one), the nodeports catch-all
	# last, as kube-proxy orders them
	[ -n "$extra" ] && ctr_extra_iptables "$extra" "$cidr" services
	# (bash filters, not two greps: two execs and four forks fewer a topology)
	for text in "${nat_rules[@]}"; do [[ $text == "-A KUBE-SERVICES "* ]] && printf '%s\n' "$text"; done
	echo '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
	for text in "${nat_rules[@]}"; do [[ $text == "-A KUBE-SERVICES "* ]] || printf '%s\n' "$text"; done
	if [ -n "$extra" ]; then
		ctr_extra_iptables "$extra" "$cidr" rules
		rm -f "$extra"
	fi
	printf 'COMMIT\n*filter\n:KUBE-FORWARD - [0:0]\n'
	printf -- '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD\n'
	ctr_kube_forward_rules "${filter[@]}"
}

# ctr_kube_forward_rules [LINE]...: the end of the filter table both iptables and IPVS
# mode write: the workaround lines given (KUBE-FORWARD's INVALID drop, Docker's INPUT
# drop, ...), KUBE-FORWARD's accepts, COMMIT
ctr_kube_forward_rules() {
	local text
	[ $# = 0 ] || printf '%s\n' "$@"
	read -r -d '' text <<'RULES'
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
RULES
	printf '%s\n' "$text"
}
