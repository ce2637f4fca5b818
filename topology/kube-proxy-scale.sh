# shellcheck shell=bash
# Many services at once: the CTR_EXTRA_SERVICES=N dummy services (2 endpoints each) that
# make a node's ruleset the size of a busy cluster's, generated fast enough for N = 10,000
# (sourced by topology/kube-proxy.sh).
#
# Bash loops cost tens of microseconds a statement and 10,000 services take ~100,000
# statements, so everything per service happens in one awk pass: the key list, the chain
# names' hashes (one sha256sum call for every key, cached by the key list's own digest, in
# a cache of its own: the per-run chain-hash.cache is read into a bash array by every run
# and must stay small), and the rules themselves. The address plan's check, ctr_extra_check,
# is tools/lib/sh/addr.sh's.
#
# Layout of dummy service I (IPv4): VIP = service CIDR base + 1000 + I, port 80, name
# default/extra-I:http, endpoints the upper half of the cluster CIDR + 2I and + 2I + 1,
# port 8080. Nothing listens there: nothing connects to them.

# ctr_extra_table N MODE OUT: writes OUT, one dummy service a line, tab-separated:
#   VIP PORT NAME EP1 EP2 SVCHASH EP1HASH EP2HASH
# MODE iptables hashes "NAMEtcp" and "NAMEtcpEP" (kube-proxy's iptables proxier),
# MODE nft "NS/NAME/tcp/PORT" and "NS/NAME/tcp/PORT__IP/EPPORT" (its nftables proxier).
ctr_extra_table() {
	local n=$1 mode=$2 out=$3 work vbase ebase digest cache
	ctr_ip4_to_int "${CTR_SERVICE_CIDR%/*}"
	vbase=$((REPLY + CTR_EXTRA_FIRST_VIP))
	ctr_ip4_to_int "${CTR_CLUSTER_CIDR%/*}"
	ebase=$((REPLY + (1 << (31 - ${CTR_CLUSTER_CIDR#*/}))))
	mkdir -p "$CTR_STATE/hash-bulk" && work=$(mktemp -d "$CTR_STATE/hash.XXXXXX") || return 1
	# the services and their keys, three keys a service, in order
	awk -v n="$n" -v vb="$vbase" -v eb="$ebase" -v mode="$mode" '
	function ip(x) { return int(x / 16777216) "." int(x / 65536) % 256 "." int(x / 256) % 256 "." x % 256 }
	BEGIN {
		for (i = 0; i < n; i++) {
			name = "default/extra-" i ":http"
			e1 = ip(eb + 2 * i) ":8080"; e2 = ip(eb + 2 * i + 1) ":8080"
			print ip(vb + i) "\t80\t" name "\t" e1 "\t" e2 > "'"$work"'/svc"
			if (mode == "nft") { base = "default/extra-" i "/tcp/http"; k0 = base; k1 = base "__" e1; k2 = base "__" e2; sub(/:/, "/", k1); sub(/:/, "/", k2) }
			else { k0 = name "tcp"; k1 = name "tcp" e1; k2 = name "tcp" e2 }
			print k0; print k1; print k2
		}
	}' >"$work/keys" || { rm -rf "$work"; return 1; }
	read -r digest _ < <(sha256sum "$work/keys")
	cache=$CTR_STATE/hash-bulk/$digest
	if [ ! -s "$cache" ]; then
		# one file per key, named so that the shell's sorted glob is the key order
		mkdir "$work/k" && awk -v d="$work/k" '{ f = sprintf("%s/%07d", d, NR); printf "%s", $0 > f; close(f) }' "$work/keys" &&
			(cd "$work/k" && sha256sum -- *) | awk '
			BEGIN { a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; h = "0123456789abcdef" }
			{	# the first 80 bits of the digest in base32, as kube-proxy names its chains
				out = ""
				for (g = 0; g < 4; g++) {
					v = 0
					for (j = 1; j <= 5; j++) v = v * 16 + index(h, substr($1, 5 * g + j, 1)) - 1
					for (b = 3; b >= 0; b--) out = out substr(a, int(v / 32 ^ b) % 32 + 1, 1)
				}
				print out
			}' >"$work/hashes" && [ "$(wc -l <"$work/hashes")" = $((3 * n)) ] &&
			mv -f "$work/hashes" "$cache" || { rm -rf "$work"; return 1; }
		# keep the cache small: the newest few key lists
		# shellcheck disable=SC2012 # the names are hex digests
		ls -t "$CTR_STATE/hash-bulk" | tail -n +9 | sed "s|^|$CTR_STATE/hash-bulk/|" | xargs -r rm -f
	fi
	paste "$work/svc" <(paste - - - <"$cache") >"$out"
	rm -rf "$work"
}

# ctr_extra_iptables TABLE CIDR PART: from ctr_extra_table's TABLE, one part of the
# iptables-restore input (nat table): "chains" (the :KUBE-SVC/SEP declarations),
# "services" (KUBE-SERVICES jumps, which go before the nodeports rule), "rules" (the
# service and endpoint chains), laid out as topology/kube-proxy.sh writes the real one
ctr_extra_iptables() {
	awk -F'\t' -v cidr="$2" -v part="$3" '{
		svc = "KUBE-SVC-" $6; s1 = "KUBE-SEP-" $7; s2 = "KUBE-SEP-" $8
		if (part == "chains") { print ":" svc " - [0:0]"; print ":" s1 " - [0:0]"; print ":" s2 " - [0:0]"; next }
		c = "\"" $3 " cluster IP\""
		if (part == "services") { print "-A KUBE-SERVICES -d " $1 "/32 -p tcp -m comment --comment " c " -m tcp --dport " $2 " -j " svc; next }
		print "-A " svc " ! -s " cidr " -d " $1 "/32 -p tcp -m comment --comment " c " -m tcp --dport " $2 " -j KUBE-MARK-MASQ"
		print "-A " svc " -m comment --comment \"" $3 " -> " $4 "\" -m statistic --mode random --probability 0.5000000000 -j " s1
		print "-A " svc " -m comment --comment \"" $3 " -> " $5 "\" -j " s2
		split($4, a, ":"); split($5, b, ":")
		print "-A " s1 " -s " a[1] "/32 -m comment --comment \"" $3 "\" -j KUBE-MARK-MASQ"
		print "-A " s1 " -p tcp -m comment --comment \"" $3 "\" -m tcp -j DNAT --to-destination " $4
		print "-A " s2 " -s " b[1] "/32 -m comment --comment \"" $3 "\" -j KUBE-MARK-MASQ"
		print "-A " s2 " -p tcp -m comment --comment \"" $3 "\" -m tcp -j DNAT --to-destination " $5
	}' "$1"
}

# ctr_extra_nft TABLE CIDR PART: the same for kube-proxy's nftables layout (table ip
# kube-proxy, as topology/kube-proxy-nft.sh writes it): "chains" (a service chain and two endpoint chains a service, inside the
# table block) and "elements" (the service-ips map's elements, in batches of 1000: one
# huge element statement is slow to parse)
ctr_extra_nft() {
	awk -F'\t' -v cidr="$2" -v part="$3" '{
		split($3, nm, "[/:]"); base = nm[1] "/" nm[2] "/tcp/" nm[3]
		svc = "service-" substr($6, 1, 8) "-" base
		e1 = "endpoint-" substr($7, 1, 8) "-" base "__" $4; sub(/:/, "/", e1)
		e2 = "endpoint-" substr($8, 1, 8) "-" base "__" $5; sub(/:/, "/", e2)
		if (part == "elements") {
			el = $1 " . tcp . " $2 " : goto " svc
			if ((NR - 1) % 1000 == 0) { if (NR > 1) print " }"; printf "add element ip kube-proxy service-ips { %s", el }
			else printf ", %s", el
			next
		}
		split($4, a, ":"); split($5, b, ":")
		print "\tchain " svc " {"
		print "\t\tip daddr " $1 " tcp dport " $2 " ip saddr != " cidr " jump mark-for-masquerade"
		print "\t\tnumgen random mod 2 vmap { 0 : goto " e1 ", 1 : goto " e2 " }"
		print "\t}"
		print "\tchain " e1 " {"
		print "\t\tip saddr " a[1] " jump mark-for-masquerade"
		print "\t\tmeta l4proto tcp dnat to " $4
		print "\t}"
		print "\tchain " e2 " {"
		print "\t\tip saddr " b[1] " jump mark-for-masquerade"
		print "\t\tmeta l4proto tcp dnat to " $5
		print "\t}"
	}
	END { if (part == "elements" && NR) print " }" }' "$1"
}


# ctr_dummy_services LAYOUT FAMILY: the CTR_EXTRA_SERVICES dummy services of a generator
# (LAYOUT iptables or nft). IPv4 ones come from one awk pass into a file whose name goes
# to the caller's `extra`; IPv6 ones are appended to the caller's `svcs` records. Both are
# the calling generator's locals, which bash's dynamic scoping lets this function set.
ctr_dummy_services() {
	local i
	if [ "$2" = 4 ] && [ "${CTR_EXTRA_SERVICES:-0}" -gt 0 ]; then
		extra=$(mkdir -p "$CTR_STATE" && mktemp "$CTR_STATE/hash.extra.XXXXXX") &&
			ctr_extra_table "$CTR_EXTRA_SERVICES" "$1" "$extra" ||
			{ ctr_log "generating $CTR_EXTRA_SERVICES dummy services failed"; rm -f "$extra"; return 1; }
	else
		for ((i = 0; i < CTR_EXTRA_SERVICES; i++)); do
			ctr_extra_service "$i" "$2"
			svcs+=("$REPLY")
		done
	fi
}
