# shellcheck shell=bash
# The address plan (defaults, all overridable from the environment), IPv4/IPv6 address
# arithmetic, and the validation every entry point runs before it builds anything.

# --- defaults: RFC 2544 benchmarking range, all overridable from the environment ---------
: "${CTR_CLUSTER_CIDR:=198.18.0.0/16}"   # pods and node wires (kube-proxy --cluster-cidr)
: "${CTR_WIRE_CIDR:=198.18.0.0/30}"      # the link between node A and node B
: "${CTR_POD_CIDR_A:=198.18.1.0/24}"     # node A's pods (client)
: "${CTR_POD_CIDR_B:=198.18.2.0/24}"     # node B's pods (backend)
: "${CTR_SERVICE_CIDR:=198.19.0.0/16}"   # service VIPs
: "${CTR_VIP:=198.19.0.10}"
: "${CTR_PORT:=80}"
: "${CTR_TARGET_PORT:=8080}"
: "${CTR_SERVICE_NAME:=default/ctreset:http}"
# IPv6 (--family 6): the documentation-free benchmarking range 2001:2::/48 (RFC 5180).
# Networks are written "PREFIX::/LEN", host N of one is PREFIX::N (hex).
: "${CTR6_CLUSTER_CIDR:=2001:2::/56}"
: "${CTR6_WIRE_CIDR:=2001:2:0:ff::/64}"
: "${CTR6_POD_CIDR_A:=2001:2:0:1::/64}"
: "${CTR6_POD_CIDR_B:=2001:2:0:2::/64}"
: "${CTR6_SERVICE_CIDR:=2001:2:0:100::/112}"
: "${CTR6_VIP:=2001:2:0:100::10}"
# kube-proxy's --cluster-cidr may name one of each family: its iptables rules use the one
# of the table's family
: "${CTR_EXTRA_SERVICES:=0}" # dummy services (2 endpoints each) loaded beside the real one

# The hot helpers return in REPLY instead of printing: a $(...) costs a fork each, and
# topology/up runs dozens of them.
ctr_ip4_to_int() { # IP -> REPLY
	local IFS=. a b c d
	read -r a b c d <<<"$1"
	REPLY=$(((a << 24) | (b << 16) | (c << 8) | d))
}
ctr_int_to_ip4() { # N -> REPLY
	local n=$1
	REPLY="$(((n >> 24) & 255)).$(((n >> 16) & 255)).$(((n >> 8) & 255)).$((n & 255))"
}
ctr_valid_ip4() {
	local re='^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'
	[[ $1 =~ $re ]]
}
ctr_valid_cidr4() { # the network address itself, /8 to /30, no host bits set
	local ip=${1%/*} len=${1#*/}
	[[ $1 == */* ]] && ctr_valid_ip4 "$ip" && [[ $len =~ ^[0-9]+$ ]] && ((len >= 8 && len <= 30)) || return 1
	ctr_ip4_to_int "$ip"
	((REPLY == (REPLY & ((0xffffffff << (32 - len)) & 0xffffffff))))
}
ctr_valid_port() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); }
ctr_cidr_host() { # CIDR N -> REPLY: the Nth address of the network (never its broadcast)
	local len=${1#*/}
	(($2 >= 1 && $2 < (1 << (32 - len)) - 1)) || return 1
	ctr_ip4_to_int "${1%/*}"
	ctr_int_to_ip4 $((REPLY + $2))
}
ctr_cidr_contains() { # CIDR IP
	local len=${1#*/} net
	ctr_ip4_to_int "${1%/*}"
	net=$REPLY
	ctr_ip4_to_int "$2"
	(((REPLY & ((0xffffffff << (32 - len)) & 0xffffffff)) == net))
}

# Validates the address settings (CTR_* from the environment) before anything is built;
# dies with one line naming the first bad one. Every entry point that builds calls it, so
# bad input never leaves half a topology behind.
ctr_validate_env() {
	local v
	for v in CTR_POD_CIDR_A CTR_POD_CIDR_B CTR_WIRE_CIDR CTR_CLUSTER_CIDR CTR_SERVICE_CIDR; do
		ctr_valid_cidr4 "${!v}" || ctr_die "$CTR_EXIT_USAGE" "$v=\"${!v}\" is wrong: expected an IPv4 network such as 198.18.1.0/24"
	done
	ctr_valid_ip4 "$CTR_VIP" || ctr_die "$CTR_EXIT_USAGE" "CTR_VIP=\"$CTR_VIP\" is wrong: expected an IPv4 address"
	ctr_cidr_contains "$CTR_SERVICE_CIDR" "$CTR_VIP" || ctr_die "$CTR_EXIT_USAGE" "CTR_VIP=\"$CTR_VIP\" is wrong: outside the service range $CTR_SERVICE_CIDR"
	for v in CTR_PORT CTR_TARGET_PORT; do
		ctr_valid_port "${!v}" || ctr_die "$CTR_EXIT_USAGE" "$v=\"${!v}\" is wrong: expected a port 1-65535"
	done
	for v in CTR_POD_CIDR_A CTR_POD_CIDR_B CTR_WIRE_CIDR; do
		ctr_cidr_contains "$CTR_CLUSTER_CIDR" "${!v%/*}" || ctr_die "$CTR_EXIT_USAGE" "$v=\"${!v}\" is wrong: outside the cluster range $CTR_CLUSTER_CIDR"
		ctr_cidr_contains "$CTR_SERVICE_CIDR" "${!v%/*}" && ctr_die "$CTR_EXIT_USAGE" "$v=\"${!v}\" is wrong: overlaps the service range $CTR_SERVICE_CIDR"
	done
	[ "$CTR_POD_CIDR_A" != "$CTR_POD_CIDR_B" ] || ctr_die "$CTR_EXIT_USAGE" "CTR_POD_CIDR_A and CTR_POD_CIDR_B must differ"
	ctr_extra_check "$CTR_EXTRA_SERVICES"
	return 0
}

# IPv6 networks, in the simple form the defaults use: PREFIX::/LEN
ctr_valid_cidr6() {
	local re='^[0-9a-f]{1,4}(:[0-9a-f]{1,4}){0,6}::/([0-9]{1,3})$'
	[[ $1 =~ $re ]] && ((BASH_REMATCH[2] >= 48 && BASH_REMATCH[2] <= 120))
}
ctr_valid_ip6() { [[ $1 =~ ^[0-9a-f:]+$ && $1 == *:*:* ]]; }
ctr_cidr6_host() { # CIDR N -> REPLY: PREFIX::N (hex)
	printf -v REPLY '%s::%x' "${1%%::/*}" "$2"
}
ctr_cidr6_contains() { # CIDR IP: whether IP starts with the network's prefix (simple form)
	[[ $2 == "${1%%::/*}:"* ]]
}

CTR_EXTRA_FIRST_VIP=1000 # offset of the first dummy VIP in the service CIDR

# ctr_extra_check N: dies (usage) when N dummy services do not fit the address plan
ctr_extra_check() {
	local n=$1 slen clen vbase cbase ebase v lo hi
	[[ $n =~ ^[0-9]+$ ]] && ((n <= 50000)) || ctr_die "$CTR_EXIT_USAGE" "CTR_EXTRA_SERVICES=\"$n\" is wrong: expected 0 to 50000"
	((n == 0)) && return 0
	slen=${CTR_SERVICE_CIDR#*/} clen=${CTR_CLUSTER_CIDR#*/}
	((CTR_EXTRA_FIRST_VIP + n < (1 << (32 - slen)) - 1)) ||
		ctr_die "$CTR_EXIT_USAGE" "CTR_EXTRA_SERVICES=$n is wrong: $n VIPs from offset $CTR_EXTRA_FIRST_VIP do not fit the service range $CTR_SERVICE_CIDR"
	((2 * n <= (1 << (31 - clen)) - 1)) ||
		ctr_die "$CTR_EXIT_USAGE" "CTR_EXTRA_SERVICES=$n is wrong: $((2 * n)) endpoints do not fit the upper half of the cluster range $CTR_CLUSTER_CIDR"
	ctr_ip4_to_int "${CTR_SERVICE_CIDR%/*}"
	vbase=$((REPLY + CTR_EXTRA_FIRST_VIP))
	ctr_ip4_to_int "$CTR_VIP"
	((REPLY < vbase || REPLY >= vbase + n)) ||
		ctr_die "$CTR_EXIT_USAGE" "CTR_VIP=\"$CTR_VIP\" is wrong: among the $n dummy services' VIPs (CTR_EXTRA_SERVICES)"
	ctr_ip4_to_int "${CTR_CLUSTER_CIDR%/*}"
	cbase=$REPLY
	ebase=$((cbase + (1 << (31 - clen))))
	# the pods' and the wire's networks must lie below the dummy endpoints
	for v in CTR_POD_CIDR_A CTR_POD_CIDR_B CTR_WIRE_CIDR; do
		ctr_ip4_to_int "${!v%/*}"
		lo=$REPLY hi=$((REPLY + (1 << (32 - ${!v#*/}))))
		((hi <= ebase || lo >= ebase + 2 * n)) ||
			ctr_die "$CTR_EXIT_USAGE" "$v=\"${!v}\" is wrong: overlaps the dummy services' endpoints (upper half of $CTR_CLUSTER_CIDR)"
	done
	return 0
}
