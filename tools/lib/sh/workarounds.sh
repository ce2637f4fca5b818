# shellcheck shell=bash
# The workaround table: every workaround a topology can come up with, each entry with what
# it lays on every node, how it is reverted, which counter proves it acted, and what it
# needs. topology/up lays them out, topology/workaround applies the live ones, the runners
# read the counters (ctr_workaround_counter); `topology/workaround --list` prints them.
#
# Fields (FIELD=VALUE; a field given twice keeps both values, in order):
#   summary   one line (the third argument)
#   sysctl    KEY=VALUE written in every node namespace when it comes up
#   revert    KEY=VALUE what `topology/workaround revert` writes back
#   ipt       a filter-table line of kube-proxy's iptables-restore input (the backends of
#             lang ipt: iptables-nft, iptables-legacy, ipvs: backends.sh)
#   nft.forward  a rule of kube-proxy's nftables chain "forward" (base chain filter-forward,
#             hook forward, priority -101): in kube-proxy's own table on the nft backend, in a
#             table ip|ip6 kube-proxy of that layout holding only it on the others
#   nft.input a rule of table ip|ip6 ctreset-NAME, chain input (hook input, priority filter)
#             The nft.* fields apply on the nft backend, and on every backend when the entry
#             has no ipt field.
#   noflush   iptables-restore --noflush input loaded after kube-proxy's rules on every
#             backend (with iptables-legacy on that backend, iptables-nft on the others)
#   count.ipt CHAIN: the counter is CHAIN's INVALID DROP rule (filter table; lang ipt)
#   count.nft TABLE CHAIN: the counter is that chain's "ct state invalid counter" rule (as
#             the nft.* fields: the nft backend, or every backend without count.ipt)
#   skip.BACKEND  REASON: this workaround cannot be laid on BACKEND (exit 4, REASON)
#   needs     a command it needs on every backend (a missing one is a skip)
#   of        NAME NAME...: a combination, every field of each part
#   live      yes: topology/workaround apply|revert changes it on a running topology
#   matrix    no: not in the matrix's default list (CTR_WORKAROUNDS)

ctr_table_add workaround none "nothing: the control"
ctr_table_add workaround kube-proxy-drop \
	"KUBE-FORWARD's first rule: -m conntrack --ctstate INVALID -j DROP (kube-proxy PR 74840, v1.15)" \
	ipt='-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP' \
	count.ipt=KUBE-FORWARD \
	skip.nft="kube-proxy's nftables mode has no KUBE-FORWARD chain: its INVALID drop is the nft-invalid-drop workaround" \
	live=yes
ctr_table_add workaround input-drop \
	"Docker's -I INPUT -m conntrack --ctstate INVALID -j DROP: the host-destined path only (moby/libnetwork 1090)" \
	ipt='-I INPUT -m conntrack --ctstate INVALID -j DROP' \
	nft.input='ct state invalid counter drop' \
	count.ipt=INPUT count.nft='ctreset-input-drop input'
ctr_table_add workaround nft-invalid-drop \
	"kube-proxy nftables mode's former \"ct state invalid drop\" in chain forward (1.29; PR 122663 removed it)" \
	nft.forward='ct state invalid counter drop' \
	count.nft='kube-proxy forward' needs=nft
ctr_table_add workaround be-liberal \
	"net.netfilter.nf_conntrack_tcp_be_liberal=1: window failures accepted (kube-proxy PR 120354)" \
	sysctl=net.netfilter.nf_conntrack_tcp_be_liberal=1 revert=net.netfilter.nf_conntrack_tcp_be_liberal=0 \
	live=yes
ctr_table_add workaround ignore-invalid-rst \
	"net.netfilter.nf_conntrack_tcp_ignore_invalid_rst=1 (5.14+: out-of-window RSTs only)" \
	sysctl=net.netfilter.nf_conntrack_tcp_ignore_invalid_rst=1 revert=net.netfilter.nf_conntrack_tcp_ignore_invalid_rst=0 \
	live=yes
ctr_table_add workaround keepalive \
	"nothing in the topology: the client uses TCP keepalive (ctreset-workload client --keepalive 1)"
ctr_table_add workaround tcp-loose-0 \
	"net.netfilter.nf_conntrack_tcp_loose=0: no mid-stream pick-up of a flow" \
	sysctl=net.netfilter.nf_conntrack_tcp_loose=0 revert=net.netfilter.nf_conntrack_tcp_loose=1
ctr_table_add workaround kube-proxy-drop+tcp-loose-0 \
	"both kube-proxy-drop and tcp-loose-0" \
	of='kube-proxy-drop tcp-loose-0'
# Felix's iptables dataplane with DisableConntrackInvalidCheck false (the default): FORWARD's
# first rule jumps to cali-FORWARD, which sends traffic from and to workloads (-i/-o the
# pod bridge cbr0 here; Felix's routed cali+ veths) to per-direction chains starting with
# RELATED,ESTABLISHED ACCEPT then INVALID DROP, before KUBE-FORWARD; inserted after
# kube-proxy's full restore (which would flush it), as Felix inserts its jump
ctr_table_add workaround calico-invalid-drop \
	"Calico Felix's per-workload INVALID drop (cali-fw-/cali-tw- chains), before KUBE-FORWARD" \
	matrix=no noflush='*filter
:cali-FORWARD - [0:0]
:cali-from-wl-dispatch - [0:0]
:cali-to-wl-dispatch - [0:0]
:cali-fw-cbr0 - [0:0]
:cali-tw-cbr0 - [0:0]
-I FORWARD 1 -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD
-A cali-FORWARD -i cbr0 -m comment --comment "cali:8ZoYfO5HKXWbB3pk" -j cali-from-wl-dispatch
-A cali-FORWARD -o cbr0 -m comment --comment "cali:jdEuaPBe14V2hutn" -j cali-to-wl-dispatch
-A cali-from-wl-dispatch -i cbr0 -g cali-fw-cbr0
-A cali-to-wl-dispatch -o cbr0 -g cali-tw-cbr0
-A cali-fw-cbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-fw-cbr0 -m conntrack --ctstate INVALID -j DROP
-A cali-tw-cbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-tw-cbr0 -m conntrack --ctstate INVALID -j DROP
COMMIT'

# the matrix's workarounds, and every one topology/up lays out
ctr_table_names workaround matrix no
# shellcheck disable=SC2034 # for the scripts that source this
CTR_WORKAROUNDS=$REPLY
ctr_table_names workaround
# shellcheck disable=SC2034 # for the scripts that source this
CTR_WORKAROUNDS_ALL=$REPLY

# ctr_workaround_parts NAME -> REPLY: the entries whose fields make NAME (itself, or the
# parts of a combination)
ctr_workaround_parts() {
	ctr_table_get workaround "$1" of || REPLY=$1
}

# ctr_workaround_field NAME FIELD -> REPLY: FIELD of every part of NAME, one value a line
ctr_workaround_field() {
	local p out=
	ctr_workaround_parts "$1"
	for p in $REPLY; do
		ctr_table_get workaround "$p" "$2" && out+="${out:+$'\n'}$REPLY"
	done
	REPLY=$out
	[ -n "$out" ]
}

# ctr_workaround_nft_applies NAME LANG: whether NAME's nft.* fields apply on a backend of
# LANG (ipt or nft): on nft, and everywhere when NAME has no ipt field
ctr_workaround_nft_applies() {
	[ "$2" = nft ] && return 0
	! ctr_workaround_field "$1" ipt
}

# packet count of WORKAROUND's drop rule in NS, for BACKEND and FAMILY -> REPLY; "-" when
# the workaround has no counter on that backend or the rule is not there
ctr_workaround_counter() { # NS WORKAROUND BACKEND FAMILY
	ctr_workaround_counters "$2" "$3" "$4" "$1"
	REPLY=${CTR_COUNTERS[$1]}
}
# the same in every NS given, their reads (an exec each, ~15 ms) all at once ->
# CTR_COUNTERS[NS]
declare -gA CTR_COUNTERS=()
ctr_workaround_counters() { # WORKAROUND BACKEND FAMILY NS...
	local wa=$1 be=$2 fam=$3 lang where= cmd=() parse= ns fd
	local -A fds=()
	shift 3
	CTR_COUNTERS=()
	for ns; do CTR_COUNTERS[$ns]=-; done
	ctr_table_get backend "$be" lang && lang=$REPLY || lang=
	if [ "$lang" = ipt ] && ctr_workaround_field "$wa" count.ipt; then
		where=${REPLY%%$'\n'*}
		ctr_fw_tool "$be" "$fam" save && cmd=("$REPLY" -c -t filter) parse=ctr_ipt_counter_parse
	elif [ -n "$lang" ] && ctr_workaround_field "$wa" count.nft; then
		# (count.ipt absent or lang nft: count.nft applies)
		where=${REPLY%%$'\n'*}
		ctr_nft_family "$fam"
		cmd=(nft list chain "$REPLY" "${where% *}" "${where#* }") parse=ctr_nft_counter_parse
	fi
	[ -n "$parse" ] || return 0
	for ns; do
		exec {fd}< <(nsenter --net="/run/netns/$ns" "${cmd[@]}" 2>/dev/null)
		fds[$ns]=$fd
	done
	for ns; do
		fd=${fds[$ns]}
		"$parse" "$where" <&"$fd"
		exec {fd}<&-
		CTR_COUNTERS[$ns]=$REPLY
	done
	return 0
}
