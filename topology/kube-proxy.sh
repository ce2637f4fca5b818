# shellcheck shell=bash
# kube-proxy's iptables-mode ruleset for one service, as a function (sourced by
# topology/up and topology/kube-proxy-rules; needs topology/lib.sh).

# the workaround of kube-proxy PR 74840, as iptables arguments
CTR_INVALID_DROP_RULE=(KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP)

# ctr_chain_hashes KEY... -> CTR_HASHES: kube-proxy's chain-name suffix of each key, the
# first 16 characters of base32(sha256(key)), i.e. the first 80 bits of the digest. Known
# keys come from a cache in $CTR_STATE, so a run of many scenarios hashes once.
ctr_chain_hashes() {
	local cache=$CTR_STATE/chain-hash.cache k h tmp i=0 files=() missing=() hex
	local alphabet=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 out half v b
	local -A known=()
	CTR_HASHES=()
	if [ -r "$cache" ]; then
		while IFS=$'\t' read -r k h; do known[$k]=$h; done <"$cache"
	fi
	for k in "$@"; do
		[ -n "${known[$k]:-}" ] || missing+=("$k")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		mkdir -p "$CTR_STATE" && tmp=$(mktemp -d "$CTR_STATE/hash.XXXXXX") || return 1
		for k in "${missing[@]}"; do
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
			known[${missing[i]}]=$out
			printf '%s\t%s\n' "${missing[i]}" "$out" >>"$cache"
			i=$((i + 1))
		done < <(sha256sum "${files[@]}")
		rm -rf "$tmp"
	fi
	for k in "$@"; do
		[ -n "${known[$k]:-}" ] || return 1
		CTR_HASHES+=("${known[$k]}")
	done
}

# ctr_kube_proxy_rules VIP PORT CLUSTER_CIDR NAME ENDPOINT... -> iptables-restore input:
# nat PREROUTING/OUTPUT -> KUBE-SERVICES -> KUBE-SVC-<hash> -> KUBE-SEP-<hash>
# (statistic random for >1 endpoint, KUBE-MARK-MASQ for hairpin) -> DNAT,
# KUBE-POSTROUTING masquerades marked packets; filter FORWARD -> KUBE-FORWARD.
# With CTR_KP_INVALID_DROP=1, KUBE-FORWARD starts with kube-proxy's INVALID DROP rule
# (PR 74840), as kube-proxy >= 1.15 lays it out. With CTR_EXTRA_SERVICES=N, N dummy
# services of 2 endpoints each come with it (topology/kube-proxy-scale.sh), their
# KUBE-SERVICES rules before the real one's: the real service's first packet walks the
# whole list, the worst case of iptables' linear match.
ctr_kube_proxy_rules() {
	local vip=$1 port=$2 cidr=$3 name=$4 svc comment n i left ep extra=
	shift 4
	local endpoints=("$@") keys=("${name}tcp") seps=()
	for ep in "${endpoints[@]}"; do keys+=("${name}tcp$ep"); done
	ctr_chain_hashes "${keys[@]}" || { ctr_log "hashing chain names failed"; return 1; }
	svc="KUBE-SVC-${CTR_HASHES[0]}"
	for i in "${CTR_HASHES[@]:1}"; do seps+=("KUBE-SEP-$i"); done
	comment="\"$name cluster IP\""
	if [ "${CTR_EXTRA_SERVICES:-0}" -gt 0 ]; then
		extra=$(mkdir -p "$CTR_STATE" && mktemp "$CTR_STATE/hash.extra.XXXXXX") &&
			ctr_extra_table "$CTR_EXTRA_SERVICES" iptables "$extra" ||
			{ ctr_log "generating $CTR_EXTRA_SERVICES dummy services failed"; rm -f "$extra"; return 1; }
	fi
	echo "*nat"
	printf ':%s - [0:0]\n' KUBE-SERVICES KUBE-NODEPORTS KUBE-POSTROUTING KUBE-MARK-MASQ "$svc" "${seps[@]}"
	[ -n "$extra" ] && ctr_extra_iptables "$extra" "$cidr" chains
	local text
	read -r -d '' text <<RULES
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
RULES
	printf '%s\n' "$text"
	[ -n "$extra" ] && ctr_extra_iptables "$extra" "$cidr" services
	read -r -d '' text <<RULES
-A KUBE-SERVICES -d $vip/32 -p tcp -m comment --comment $comment -m tcp --dport $port -j $svc
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A $svc ! -s $cidr -d $vip/32 -p tcp -m comment --comment $comment -m tcp --dport $port -j KUBE-MARK-MASQ
RULES
	printf '%s\n' "$text"
	n=${#endpoints[@]}
	for i in "${!endpoints[@]}"; do
		left=$((n - i))
		if [ "$left" -gt 1 ]; then
			# kube-proxy: probability 1/left, printed with 10 decimals
			printf -- '-A %s -m comment --comment "%s -> %s" -m statistic --mode random --probability 0.%010d -j %s\n' \
				"$svc" "$name" "${endpoints[i]}" $((10000000000 / left)) "${seps[i]}"
		else
			echo "-A $svc -m comment --comment \"$name -> ${endpoints[i]}\" -j ${seps[i]}"
		fi
	done
	for i in "${!endpoints[@]}"; do
		echo "-A ${seps[i]} -s ${endpoints[i]%:*}/32 -m comment --comment \"$name\" -j KUBE-MARK-MASQ"
		echo "-A ${seps[i]} -p tcp -m comment --comment \"$name\" -m tcp -j DNAT --to-destination ${endpoints[i]}"
	done
	if [ -n "$extra" ]; then
		ctr_extra_iptables "$extra" "$cidr" rules
		rm -f "$extra"
	fi
	printf 'COMMIT\n*filter\n:KUBE-FORWARD - [0:0]\n'
	printf -- '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD\n'
	[ "${CTR_KP_INVALID_DROP:-0}" = 1 ] && printf -- '-A %s\n' "${CTR_INVALID_DROP_RULE[*]}"
	read -r -d '' text <<'RULES'
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
RULES
	printf '%s\n' "$text"
}
