# shellcheck shell=bash
# ctreset shared bash library: sourced by topology/, bench/ and tests/ scripts.
#
# - Exit codes come from tools/lib/base/exitcodes.h (one definition for C and bash).
# - Every namespace of a run is named "<prefix>-<role>" with prefix "ctr-XXXXXX" (hex),
#   and its owner is recorded in $CTR_STATE/<prefix>/owner so that `ctr_reap` can remove
#   the namespaces of runs that died (SIGKILL) without touching live ones.
# - Nothing here touches the root namespace's firewall or sysctls: every command names its
#   namespace (ip -n NS / ip netns exec NS).

_d=${BASH_SOURCE[0]%/*}
[ "$_d" = "${BASH_SOURCE[0]}" ] && _d=.
CTR_TOP=${CTR_TOP:-$(cd "$_d/.." && pwd)} # (no dirname exec: every script sources this)
unset _d
CTR_STATE=${CTR_STATE:-/run/ctreset}
CTR_BIN=${CTR_BIN:-$CTR_TOP/build}

while read -r _def _name _value _; do
	[[ $_def == "#define" && $_name == CTR_EXIT_* ]] && printf -v "$_name" '%s' "$_value"
done <"$CTR_TOP/tools/lib/base/exitcodes.h"
unset _def _name _value

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

# the values the topology scripts support, one place
CTR_TOPOLOGIES="cross-node same-node host-network" # the matrix's; topology/up also builds "load"
CTR_BACKENDS="iptables-nft iptables-legacy nft"
CTR_FAMILIES="4 6"
CTR_WORKAROUNDS="none kube-proxy-drop input-drop nft-invalid-drop be-liberal ignore-invalid-rst keepalive tcp-loose-0 kube-proxy-drop+tcp-loose-0"
ctr_in_list() { [[ " $2 " == *" $1 "* ]]; } # WORD "LIST"

ctr_log() { printf '%s\n' "$*" >&2; }
ctr_die() {
	local code=$1
	shift
	printf '%s: %s\n' "${CTR_PROG:-${0##*/}}" "$*" >&2
	exit "$code"
}
ctr_skip() { printf 'SKIP: %s\n' "$*"; exit "$CTR_EXIT_SKIP"; }

ctr_require_root() {
	[ "$EUID" -eq 0 ] || ctr_die "$CTR_EXIT_SKIP" "needs root (network namespaces, raw sockets, netfilter): run with sudo"
}

ctr_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || ctr_die "$CTR_EXIT_SKIP" "missing command '$c' (run 'sudo make deps')"
	done
}

ctr_now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
ctr_now() { local t=${EPOCHREALTIME/[.,]/}; REPLY=$((t / 1000)); } # ms -> REPLY, no fork

# ctr_sleep SECONDS: a sleep without a fork: read with a timeout on a FIFO nobody writes
# (opened read-write, so the open does not block and the read never sees EOF)
CTR_SLEEP_FD=
ctr_sleep() {
	if [ -z "$CTR_SLEEP_FD" ]; then
		local fifo
		fifo=$(mktemp -u "${TMPDIR:-/tmp}/ctreset-sleep.XXXXXX") && mkfifo -m 600 "$fifo" &&
			exec {CTR_SLEEP_FD}<>"$fifo" && rm -f "$fifo" || { sleep "$1"; return 0; }
	fi
	read -r -t "$1" -u "$CTR_SLEEP_FD" _ || true
}

# true when a command's error message says the kernel lacks a feature (no nf_tables, an
# iptables table or match not built, an unknown link type, a missing /proc/sys knob) rather
# than that the command was wrong: the caller skips instead of failing
ctr_kernel_lacks() {
	[[ $1 =~ (not supported|do you need to insmod|Unknown device type|Could not fetch rule set generation id|Couldn.t load|Directory nonexistent|No such file or directory) ]]
}

# Poll, don't sleep: ctr_busywait TIMEOUT_MS cmd args... (5 ms steps)
ctr_busywait() {
	local timeout_ms=$1 start
	shift
	ctr_now
	start=$REPLY
	until "$@"; do
		ctr_now
		((REPLY - start >= timeout_ms)) && return 1
		ctr_sleep 0.005
	done
}

# Test hook (tests/integration/test_faults.sh): with CTR_FAULT_AT=NAME, the shell that
# reaches point NAME writes its pid to $CTR_FAULT_FILE and stops itself, so the test can
# SIGKILL the run at exactly that point instead of after a guessed delay. Points:
# up.namespaces, up.links (topology/up), scenario.server (ctr_run_scenario: the backend
# serving, no injector yet), teardown.namespaces, teardown.state (ctr_destroy_prefix);
# ctreset-inject has inject.flow (flow found and learned, workload running, nothing sent)
# and inject.sent (segment sent, outcome not yet collected).
ctr_fault_point() {
	[ "${CTR_FAULT_AT:-}" = "$1" ] || return 0
	echo "$1 $BASHPID" >"${CTR_FAULT_FILE:?CTR_FAULT_AT needs CTR_FAULT_FILE}"
	kill -STOP "$BASHPID"
}

# --- defer: undo stack, run in reverse order on exit ---------------------------------------
CTR_DEFER=()
ctr_defer() { CTR_DEFER+=("$*"); }
ctr_run_deferred() {
	local i
	for ((i = ${#CTR_DEFER[@]} - 1; i >= 0; i--)); do
		eval "${CTR_DEFER[i]}" >/dev/null 2>&1 || true
	done
	CTR_DEFER=()
}

# --- addresses --------------------------------------------------------------------------------
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

# firewall tool of a backend and family: ctr_fw_tool BACKEND FAMILY restore|save -> REPLY
ctr_fw_tool() {
	local six=
	[ "$2" = 6 ] && six=6
	case $1 in
	iptables-nft) REPLY=ip${six}tables-nft-$3 ;;
	iptables-legacy) REPLY=ip${six}tables-legacy-$3 ;;
	*) REPLY= ; return 1 ;;
	esac
}
# nft table family of a bench family
ctr_nft_family() { [ "$1" = 6 ] && REPLY=ip6 || REPLY=ip; }

# --- run identity and the reaper ---------------------------------------------------------------
# 24 random bits; topology/up refuses a prefix in use, so a collision fails loudly
ctr_new_prefix() { printf 'ctr-%06x\n' $((((RANDOM << 15) ^ RANDOM ^ (BASHPID << 7)) & 0xffffff)); }
ctr_valid_prefix() { [[ $1 =~ ^ctr-[0-9a-f]{6}$ ]]; }

# start time of a pid (field 22 of /proc/PID/stat): a recycled pid has another
ctr_pid_start() { # PID -> REPLY
	local stat fields
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -ra fields <<<"${stat##*) }"
	REPLY=${fields[19]}
}

# ctr_claim PREFIX OWNER_PID: records the owner; OWNER_PID 0 = manual (never auto-reaped).
# The state directory appears with its owner file already in it (a directory renamed into
# place): a reaper running at that moment in another run must never see a prefix without
# an owner, which it would take for a dead run's and remove under the live one.
# Re-claiming an existing prefix replaces the owner file the same way.
ctr_claim() {
	local dir=$CTR_STATE/$1 tmp owner=manual
	if [ "$2" != 0 ]; then
		ctr_pid_start "$2" || return 1
		owner="$2 $REPLY"
	fi
	[ -d "$CTR_STATE" ] || mkdir -p "$CTR_STATE" || return 1
	if [ -d "$dir" ]; then
		echo "$owner" >"$dir/owner.tmp" && mv -f "$dir/owner.tmp" "$dir/owner"
		return
	fi
	# two execs, not four (mktemp and chmod): a name of this shell's own, mode at mkdir
	tmp=$CTR_STATE/.claim.$BASHPID.$RANDOM$RANDOM
	mkdir -m 755 "$tmp" || return 1
	echo "$owner" >"$tmp/owner" && mv -T "$tmp" "$dir" || { rm -rf "$tmp"; return 1; }
}

# true when the run that made PREFIX is gone
ctr_prefix_dead() {
	local owner pid start
	{ read -r owner <"$CTR_STATE/$1/owner"; } 2>/dev/null || return 0
	[ "$owner" = manual ] && return 1
	read -r pid start <<<"$owner"
	[ -n "$pid" ] && ctr_pid_start "$pid" && [ "$REPLY" = "$start" ] && return 1
	return 0
}

# the namespaces of PREFIX, one a line (ip netns keeps them as files in /run/netns)
ctr_prefix_namespaces() {
	local f
	for f in /run/netns/"$1"-*; do
		[ -e "$f" ] && echo "${f##*/}"
	done
	return 0
}

# removes every namespace of PREFIX, the processes in them first (a process keeps a
# deleted namespace alive), then its state. One ip call lists the pids, one deletes.
ctr_destroy_prefix() {
	local ns=() f pids batch
	for f in /run/netns/"$1"-*; do
		[ -e "$f" ] && ns+=("${f##*/}")
	done
	if [ ${#ns[@]} -gt 0 ]; then
		# here-strings, not pipes: no fork for printf
		printf -v batch 'netns pids %s\n' "${ns[@]}"
		pids=$(ip -force -batch - <<<"$batch" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ctr_fault_point teardown.namespaces
		printf -v batch 'netns del %s\n' "${ns[@]}"
		ip -force -batch - <<<"$batch" 2>/dev/null
	fi
	ctr_fault_point teardown.state
	rm -rf "${CTR_STATE:?}/$1"
}

# reaps runs whose owner died; with "all", every ctreset run (manual ones too). Also
# removes the scratch left by a run killed in the middle of a claim or a hashing (older
# than a minute: a live one is done with it in milliseconds).
ctr_reap() {
	local p f reaped=0
	local -A seen=()
	# (find only when there is scratch at all: usually none, and no exec)
	for f in "$CTR_STATE"/.claim.* "$CTR_STATE"/hash.*; do
		[ -e "$f" ] || continue
		find "$CTR_STATE" -mindepth 1 -maxdepth 1 \( -name '.claim.*' -o -name 'hash.*' \) \
			-mmin +1 -exec rm -rf {} + 2>/dev/null
		break
	done
	# the prefixes of every bench namespace (ip netns keeps them as files in /run/netns)
	# and every state directory, each once, without ip, awk, grep, ls or sort
	for f in /run/netns/ctr-*; do
		p=${f##*/}
		p=${p:0:10}
		[ -e "$f" ] && ctr_valid_prefix "$p" && seen[$p]=1
	done
	for f in "$CTR_STATE"/ctr-*; do
		p=${f##*/}
		[ -e "$f" ] && ctr_valid_prefix "$p" && seen[$p]=1
	done
	for p in "${!seen[@]}"; do
		if [ "${1:-}" = all ] || ctr_prefix_dead "$p"; then
			# a fault point is armed for the run's own teardown, not for its reaper's
			CTR_FAULT_AT= ctr_destroy_prefix "$p"
			reaped=$((reaped + 1))
		fi
	done
	echo "$reaped"
}

# --- namespaces ------------------------------------------------------------------------------
ctr_ns() { echo "$1-$2"; } # PREFIX ROLE

ctr_netns_add() {
	ip netns add "$1" || return 1
	ip -n "$1" link set lo up
}

# ctr_sysctl NS KEY VALUE: only ever inside a bench namespace
ctr_sysctl() {
	[[ $1 == ctr-* ]] || ctr_die "$CTR_EXIT_FAIL" "refusing sysctl outside a bench namespace: '$1'"
	nsenter --net="/run/netns/$1" sysctl -qw "$2=$3"
}

# state file of a topology
ctr_topology_env() { echo "$CTR_STATE/$1/topology.env"; }
ctr_load_topology() {
	local f=$CTR_STATE/$1/topology.env # ctr_topology_env, without a fork
	[ -r "$f" ] || ctr_die "$CTR_EXIT_FAIL" "no topology with prefix '$1' (no $f)"
	# shellcheck disable=SC1090
	. "$f"
}

# packet count of the KUBE-FORWARD INVALID DROP rule in NS -> REPLY, "-" when absent.
# SAVE is the backend's save command (default iptables-save).
ctr_drop_counter() {
	local line counts save=${2:-iptables-save}
	REPLY=-
	while read -r line; do
		if [[ $line == "["*"-A KUBE-FORWARD "*"--ctstate INVALID"*"-j DROP"* ]]; then
			counts=${line%%]*}
			counts=${counts#[}
			REPLY=${counts%%:*}
		fi
	done < <(nsenter --net="/run/netns/$1" "$save" -c -t filter 2>/dev/null)
}

# packet count of WORKAROUND's drop rule in NS, for BACKEND and FAMILY -> REPLY; "-" when
# the workaround has no rule or the rule is not there
ctr_workaround_counter() { # NS WORKAROUND BACKEND FAMILY
	local ns=$1 line counts table chain
	REPLY=-
	set -- "$1" "$2" "${3/#ipvs/iptables-nft}" "$4" # IPVS mode's rules are iptables-nft's
	case $2/$3 in
	kube-proxy-drop/iptables-* | kube-proxy-drop+*/iptables-*)
		ctr_fw_tool "$3" "$4" save && ctr_drop_counter "$ns" "$REPLY"
		return 0 ;;
	input-drop/iptables-*)
		ctr_fw_tool "$3" "$4" save || return 0
		while read -r line; do
			if [[ $line == "["*"-A INPUT "*"--ctstate INVALID"*"-j DROP"* ]]; then
				counts=${line%%]*}
				counts=${counts#[}
				REPLY=${counts%%:*}
			fi
		done < <(nsenter --net="/run/netns/$ns" "$REPLY" -c -t filter 2>/dev/null)
		return 0 ;;
	input-drop/nft) table=ctreset-input-drop chain=input ;;
	nft-invalid-drop/*) table=kube-proxy chain=forward ;;
	*) return 0 ;;
	esac
	ctr_nft_family "$4"
	while read -r line; do
		if [[ $line == *"ct state invalid counter packets "* ]]; then
			counts=${line#*counter packets }
			REPLY=${counts%% *}
		fi
	done < <(nsenter --net="/run/netns/$ns" nft list chain "$REPLY" "$table" "$chain" 2>/dev/null)
}

# the dummy services of CTR_EXTRA_SERVICES: their address plan and fast generators
. "${BASH_SOURCE[0]%/*}/kube-proxy-scale.sh"
