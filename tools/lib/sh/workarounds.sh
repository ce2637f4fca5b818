# shellcheck shell=bash
# The workaround table: every workaround a topology can come up with, each entry with what
# it lays on every node, how it is reverted, which counter proves it acted, and what it
# needs. topology/up lays them out, topology/workaround applies the live ones, the
# injector reads the counters (ctr_workaround_counter_spec: its --count);
# `topology/workaround --list` prints them.
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
#   (every workaround without a noflush field is live: topology/workaround apply|revert,
#   and the runners' switch between scenarios, lay and remove it on a running topology)
#   matrix    no: not in the matrix's default list (CTR_WORKAROUNDS)

ctr_table_add workaround none "nothing: the control"
ctr_table_add workaround kube-proxy-drop \
	"KUBE-FORWARD's first rule: -m conntrack --ctstate INVALID -j DROP (kube-proxy PR 74840, v1.15)" \
	ipt='-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP' \
	count.ipt=KUBE-FORWARD \
	skip.nft="kube-proxy's nftables mode has no KUBE-FORWARD chain: its INVALID drop is the nft-invalid-drop workaround"
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
	sysctl=net.netfilter.nf_conntrack_tcp_be_liberal=1 revert=net.netfilter.nf_conntrack_tcp_be_liberal=0
ctr_table_add workaround ignore-invalid-rst \
	"net.netfilter.nf_conntrack_tcp_ignore_invalid_rst=1 (5.14+: out-of-window RSTs only)" \
	sysctl=net.netfilter.nf_conntrack_tcp_ignore_invalid_rst=1 revert=net.netfilter.nf_conntrack_tcp_ignore_invalid_rst=0
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

# ctr_workaround_skipped NAME BACKEND -> REPLY: whether NAME cannot be laid on BACKEND at
# all (a part's skip.BACKEND field; REPLY its reason): known before any topology
ctr_workaround_skipped() {
	local p
	ctr_workaround_parts "$1"
	for p in $REPLY; do
		ctr_table_get workaround "$p" "skip.$2" && return 0
	done
	return 1
}

# ctr_workaround_nft_applies NAME LANG: whether NAME's nft.* fields apply on a backend of
# LANG (ipt or nft): on nft, and everywhere when NAME has no ipt field
ctr_workaround_nft_applies() {
	[ "$2" = nft ] && return 0
	! ctr_workaround_field "$1" ipt
}

# ctr_workaround_live NAME: whether a running topology can take NAME on and off
# (topology/workaround, ctr_workaround_switch): every workaround but those loaded with a
# noflush restore after kube-proxy's (chains of their own, Felix's: laid by topology/up)
ctr_workaround_live() {
	! ctr_workaround_field "$1" noflush
}

# ctr_sq STRING -> REPLY: STRING in single quotes for sh (dash: no $'...')
ctr_sq() { REPLY="'${1//\'/\'\\\'\'}'"; }

# ctr_workaround_live_cmd apply|revert NAME BACKEND FAMILY -> REPLY: the sh commands that
# apply (or revert) the live workaround NAME on one node, each part of a combination in
# turn, leaving the node as topology/up lays it (or as it lays none): its filter-table
# lines inserted first in their chain with the backend's iptables (once: -C first; revert
# deletes every copy); its nft.forward rules in kube-proxy's chain "forward" on the nft
# backend (a chain of the workarounds' rules only: revert flushes it), elsewhere the table
# of that layout holding them (revert deletes it); its nft.input table (revert deletes
# it); its sysctls written (revert: the table's revert values). The nft layouts are
# topology/kube-proxy-nft.sh's (ctr_nft_forward_table, ctr_nft_input_table: the caller
# sources it). Status 1 (REPLY the reason) when NAME cannot be laid on BACKEND or is
# not live.
ctr_workaround_live_cmd() {
	local action=$1 name=$2 backend=$3 family=$4 ipt line lines cmd=: r rest p lang fam rules=()
	ctr_workaround_live "$name" || { REPLY="$name is laid by topology/up only"; return 1; }
	ctr_workaround_skipped "$name" "$backend" && return 1
	ctr_table_get backend "$backend" lang && lang=$REPLY || lang=ipt
	ctr_nft_family "$family"
	fam=$REPLY
	ctr_workaround_parts "$name"
	for p in $REPLY; do
		if [ "$lang" = ipt ] && ctr_table_get workaround "$p" ipt; then
			lines=$REPLY
			ctr_fw_tool "$backend" "$family" save || { REPLY="no iptables for backend $backend"; return 1; }
			ipt=${REPLY%-save}
			while IFS= read -r line; do
				read -ra r <<<"${line#-[AI] }" # CHAIN ARGS...
				rest=("${r[@]:1}")
				if [ "$action" = apply ]; then
					cmd+=" && { $ipt -t filter -C ${r[*]@Q} 2>/dev/null || $ipt -t filter -I ${r[0]@Q} 1 ${rest[*]@Q}; }"
				else
					cmd+=" && { while $ipt -t filter -D ${r[*]@Q} 2>/dev/null; do :; done; }"
				fi
			done <<<"$lines"
		fi
		if ctr_workaround_nft_applies "$p" "$lang"; then
			if ctr_table_get workaround "$p" nft.forward; then
				mapfile -t rules <<<"$REPLY"
				if [ "$action" = revert ]; then
					[ "$backend" = nft ] && cmd+=" && nft flush chain $fam kube-proxy forward" ||
						cmd+=" && nft delete table $fam kube-proxy"
				elif [ "$backend" = nft ]; then
					for line in "${rules[@]}"; do cmd+=" && nft add rule $fam kube-proxy forward $line"; done
				else
					ctr_sq "$(ctr_nft_forward_table "$family" "${rules[@]}")"
					cmd+=" && printf '%s\n' $REPLY | nft -f -"
				fi
			fi
			if ctr_table_get workaround "$p" nft.input; then
				if [ "$action" = revert ]; then
					cmd+=" && nft delete table $fam ctreset-$p"
				else
					mapfile -t rules <<<"$REPLY"
					ctr_sq "$(ctr_nft_input_table "$family" "ctreset-$p" "${rules[@]}")"
					cmd+=" && printf '%s\n' $REPLY | nft -f -"
				fi
			fi
		fi
		if [ "$action" = apply ]; then ctr_table_get workaround "$p" sysctl; else ctr_table_get workaround "$p" revert; fi &&
			{
				# shellcheck disable=SC2086 # KEY=VALUE words
				ctr_sysctl_cmd $REPLY
				cmd+=$REPLY
			}
	done
	REPLY=$cmd
}

# ctr_workaround_switch_input FROM TO BACKEND FAMILY -> CTR_SW_IPT, CTR_SW_NFT, CTR_SW_SH:
# what turns a node laid with the live workaround FROM into one laid with TO, as one
# input per tool: CTR_SW_IPT the backend's iptables-restore --noflush lines (FROM's
# filter-table lines deleted, TO's inserted first in their chain, as topology/workaround
# apply does), CTR_SW_NFT one `nft -f` script (FROM's nft.* rules removed as revert
# removes them, TO's laid as apply lays them: one transaction), CTR_SW_SH the sysctl
# writes (FROM's revert values, then TO's) as " && echo V >/proc/sys/..." (ctr_sysctl_cmd).
# The switch knows the node's rules from its topology.env: no -C probe, and a delete that
# finds no rule fails the whole restore (the topology is then unfit, not half-switched).
# Status 1 (REPLY the reason) when a part cannot be laid on BACKEND.
ctr_workaround_switch_input() {
	local from=$1 to=$2 backend=$3 family=$4 lang fam p line action rules=()
	CTR_SW_IPT='' CTR_SW_NFT='' CTR_SW_SH=''
	ctr_workaround_skipped "$from" "$backend" && return 1
	ctr_workaround_skipped "$to" "$backend" && return 1
	ctr_table_get backend "$backend" lang && lang=$REPLY || lang=ipt
	ctr_nft_family "$family"
	fam=$REPLY
	for action in revert apply; do
		if [ $action = revert ]; then ctr_workaround_parts "$from"; else ctr_workaround_parts "$to"; fi
		for p in $REPLY; do
			if [ "$lang" = ipt ] && ctr_table_get workaround "$p" ipt; then
				while IFS= read -r line; do
					line=${line#-[AI] } # CHAIN ARGS
					if [ $action = revert ]; then
						CTR_SW_IPT+="-D $line"$'\n'
					else
						CTR_SW_IPT+="-I ${line%% *} 1 ${line#* }"$'\n'
					fi
				done <<<"$REPLY"
			fi
			if ctr_workaround_nft_applies "$p" "$lang"; then
				if ctr_table_get workaround "$p" nft.forward; then
					mapfile -t rules <<<"$REPLY"
					if [ $action = revert ]; then
						if [ "$backend" = nft ]; then CTR_SW_NFT+="flush chain $fam kube-proxy forward"$'\n'; else CTR_SW_NFT+="delete table $fam kube-proxy"$'\n'; fi
					elif [ "$backend" = nft ]; then
						for line in "${rules[@]}"; do CTR_SW_NFT+="add rule $fam kube-proxy forward $line"$'\n'; done
					else
						ctr_nft_forward_table_text "$family" "${rules[@]}"
						CTR_SW_NFT+=$REPLY
					fi
				fi
				if ctr_table_get workaround "$p" nft.input; then
					if [ $action = revert ]; then
						CTR_SW_NFT+="delete table $fam ctreset-$p"$'\n'
					else
						mapfile -t rules <<<"$REPLY"
						ctr_nft_input_table_text "$family" "ctreset-$p" "${rules[@]}"
						CTR_SW_NFT+=$REPLY
					fi
				fi
			fi
			if [ $action = revert ]; then ctr_table_get workaround "$p" revert; else ctr_table_get workaround "$p" sysctl; fi &&
				{
					# shellcheck disable=SC2086 # KEY=VALUE words
					ctr_sysctl_cmd $REPLY
					CTR_SW_SH+=$REPLY
				}
		done
	done
	[ -z "$CTR_SW_IPT" ] || CTR_SW_IPT=$'*filter\n'"${CTR_SW_IPT}COMMIT"$'\n'
	return 0
}

# ctr_workaround_switch PREFIX TO: the loaded topology (ctr_load_topology PREFIX, or its
# WORKAROUND BACKEND FAMILY KUBE_PROXY NS_NODES in the caller's locals:
# ctr_workaround_switch_prefix) changed from its workaround (WORKAROUND) to TO, on every
# node at once: one process a node (nsenter, then sh when there are sysctls to write,
# then at most the backend's iptables-restore --noflush and nft -f: the inputs of
# ctr_workaround_switch_input, written once in the topology's state directory), its
# topology.env and WORKAROUND saying TO (the next cell's injector reads the rule counters
# before it acts). Status 1, nothing changed, when either is not live or the topology is
# a kube-proxy release's; 2 when a node refused (the topology is then unfit: remove it).
ctr_workaround_switch() {
	local to=$2 dir=$CTR_STATE/$1 ns pids=() p rc=0 env cmd=() restore=
	[ "$WORKAROUND" != "$to" ] || return 0
	[ -z "${KUBE_PROXY:-}" ] && ctr_workaround_live "$WORKAROUND" && ctr_workaround_live "$to" || return 1
	ctr_workaround_switch_input "$WORKAROUND" "$to" "$BACKEND" "$FAMILY" || return 1
	if [ -n "$CTR_SW_IPT" ]; then
		ctr_fw_tool "$BACKEND" "$FAMILY" restore || return 1
		restore="$REPLY --noflush $dir/switch.ipt"
		printf '%s' "$CTR_SW_IPT" >"$dir/switch.ipt" || return 2
	fi
	[ -z "$CTR_SW_NFT" ] || printf '%s' "$CTR_SW_NFT" >"$dir/switch.nft" || return 2
	# the fewest execs: the one tool itself when there is no sysctl, else sh running the
	# sysctl writes and exec-ing the last tool
	if [ -z "$CTR_SW_SH" ]; then
		if [ -n "$restore" ] && [ -n "$CTR_SW_NFT" ]; then
			cmd=(sh -c "$restore && exec nft -f $dir/switch.nft")
		elif [ -n "$restore" ]; then
			read -ra cmd <<<"$restore"
		elif [ -n "$CTR_SW_NFT" ]; then
			cmd=(nft -f "$dir/switch.nft")
		fi
	else
		p=${CTR_SW_SH# && }
		[ -z "$restore" ] || { [ -n "$CTR_SW_NFT" ] && p+=" && $restore" || p+=" && exec $restore"; }
		[ -z "$CTR_SW_NFT" ] || p+=" && exec nft -f $dir/switch.nft"
		cmd=(sh -c "$p")
	fi
	if [ ${#cmd[@]} -gt 0 ]; then
		for ns in $NS_NODES; do
			nsenter --net="/run/netns/$ns" "${cmd[@]}" &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || rc=2; done
		[ $rc = 0 ] || return $rc
	fi
	IFS= read -r -d '' env <"$dir/topology.env"
	[ -n "$env" ] || return 2
	env=${env/$'\n'WORKAROUND=$WORKAROUND$'\n'/$'\n'WORKAROUND=$to$'\n'}
	printf '%s' "$env" >"$dir/topology.env" || return 2
	WORKAROUND=$to
}

# ctr_workaround_switch_prefix PREFIX TO: ctr_workaround_switch on PREFIX's topology, its
# topology.env's WORKAROUND BACKEND FAMILY KUBE_PROXY NS_NODES read into this function's
# locals: no fork, and nothing of the topology left in the caller's shell. Status 1 when
# PREFIX has no topology.env.
ctr_workaround_switch_prefix() {
	local WORKAROUND='' BACKEND='' FAMILY='' KUBE_PROXY='' NS_NODES='' k v
	[ -r "$CTR_STATE/$1/topology.env" ] || return 1
	while IFS='=' read -r k v; do
		case $k in
		WORKAROUND | BACKEND | FAMILY | KUBE_PROXY | NS_NODES)
			v=${v#\"}
			printf -v "$k" '%s' "${v%\"}"
			;;
		esac
	done <"$CTR_STATE/$1/topology.env"
	[ -n "$NS_NODES" ] || return 1
	ctr_workaround_switch "$1" "$2"
}

# ctr_workaround_counter_spec WORKAROUND BACKEND FAMILY -> REPLY: where WORKAROUND's drop
# rule counts on BACKEND and FAMILY, as ctreset-inject's --count takes it (ipt-nft:ip:CHAIN,
# ipt-legacy:ip6:CHAIN, nft:ip:TABLE:CHAIN: the injector reads it over netlink in every
# node at its start and at its end); empty when the workaround has no counter there
ctr_workaround_counter_spec() {
	local lang where tool fam
	ctr_table_get backend "$2" lang && lang=$REPLY || lang=
	ctr_nft_family "$3"
	fam=$REPLY
	if [ "$lang" = ipt ] && ctr_workaround_field "$1" count.ipt; then
		where=${REPLY%%$'\n'*}
		ctr_table_get backend "$2" tool || { REPLY=; return 0; }
		tool=$REPLY
		REPLY=ipt-${tool#iptables-}:$fam:$where
	elif [ -n "$lang" ] && ctr_workaround_field "$1" count.nft; then
		# (count.ipt absent or lang nft: count.nft applies)
		where=${REPLY%%$'\n'*}
		REPLY=nft:$fam:${where% *}:${where#* }
	else
		REPLY=
	fi
	return 0
}

# packet count of WORKAROUND's drop rule in NS, for BACKEND and FAMILY -> REPLY; "-" when
# the workaround has no counter on that backend or the rule is not there
ctr_workaround_counter() { # NS WORKAROUND BACKEND FAMILY
	ctr_workaround_counters "$2" "$3" "$4" "$1"
	REPLY=${CTR_COUNTERS[$1]}
}
# the same in every NS given, read by one ctreset-inject --read-counters (netlink, no
# exec a node) -> CTR_COUNTERS[NS]
declare -gA CTR_COUNTERS=()
ctr_workaround_counters() { # WORKAROUND BACKEND FAMILY NS...
	local ns args=() n what val
	ctr_workaround_counter_spec "$1" "$2" "$3"
	shift 3
	CTR_COUNTERS=()
	for ns; do
		CTR_COUNTERS[$ns]=-
		args+=(--stat-ns "$ns")
	done
	[ -n "$REPLY" ] && [ $# -gt 0 ] || return 0
	while IFS=$'\t' read -r n what val; do
		[ "$what" != drop ] || CTR_COUNTERS[$n]=$val
	done < <("$CTR_BIN/ctreset-inject" --read-counters --count "$REPLY" "${args[@]}" 2>/dev/null)
	return 0
}
