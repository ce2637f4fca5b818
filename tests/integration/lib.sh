# shellcheck shell=bash
# Integration test helpers: one PASS/FAIL/SKIP line per check, kselftest exit codes.
. "${BASH_SOURCE[0]%/*}/../../bench/lib.sh"

T_FAILS=0 T_PASSES=0 T_SKIPS=0
t_pass() { printf 'PASS: %s\n' "$*"; T_PASSES=$((T_PASSES + 1)); }
t_fail() { printf 'FAIL: %s\n' "$*"; T_FAILS=$((T_FAILS + 1)); }
# t_skip WHAT: REASON: a group of checks that did not run, and why. The runner counts
# each such line and a run with one is not green unless CTR_ALLOW_SKIP=1.
t_skip() { printf 'SKIP: %s\n' "$*"; T_SKIPS=$((T_SKIPS + 1)); }
# t_check DESCRIPTION EXPECTED ACTUAL [STATE...]: on mismatch prints both and the state
t_check() {
	local what=$1 want=$2 got=$3
	shift 3
	if [ "$want" = "$got" ]; then
		t_pass "$what"
	else
		t_fail "$what: expected '$want', found '$got'"
		[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/  /'
	fi
	return 0
}
# t_exit EXIT DESCRIPTION CMD...: runs CMD and checks its exit status; on a mismatch the
# failure shows the first lines of what it printed (stderr first). What it printed stays
# in $T_EXIT_OUT and $T_EXIT_ERR when the test names them (for further checks), else in
# files removed at once.
t_exit() {
	local want=$1 what=$2 o=${T_EXIT_OUT:-} e=${T_EXIT_ERR:-} rc
	shift 2
	[ -n "$o" ] || o=$(mktemp)
	[ -n "$e" ] || e=$(mktemp)
	"$@" >"$o" 2>"$e"
	rc=$?
	t_check "$what" "$want" "$rc" "$(cat "$e" "$o" | head -5)"
	[ -n "${T_EXIT_OUT:-}" ] || rm -f "$o"
	[ -n "${T_EXIT_ERR:-}" ] || rm -f "$e"
}
t_done() {
	if [ "$T_FAILS" -gt 0 ]; then exit "$CTR_EXIT_FAIL"; fi
	if [ "$T_PASSES" -eq 0 ]; then
		[ "$T_SKIPS" -gt 0 ] && exit "$CTR_EXIT_SKIP"
		echo "FAIL: no check ran"
		exit "$CTR_EXIT_FAIL"
	fi
	exit "$CTR_EXIT_PASS"
}
# t_foreign_netns SECONDS: a network namespace no ctreset run made (as a container's or a
# pod's), held by a `sleep SECONDS` in the background: sets holder (its pid, to kill) and
# foreign (/proc/PID/ns/net) once the namespace really exists
t_foreign_netns() {
	unshare --net sleep "$1" &
	holder=$!
	# (a function: its readlink runs at each try, not once before the first)
	unshared() { [ "$(readlink "/proc/$holder/ns/net" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ]; }
	ctr_busywait 5000 unshared || ctr_die "$CTR_EXIT_FAIL" "unshare --net did not start"
	# shellcheck disable=SC2034 # the calling test reads it
	foreign=/proc/$holder/ns/net
}
# t_throwaway_root ROOT LOWER NAME: an overlay of LOWER (a lowerdir= list) at ROOT, its
# upper and work layers beside ROOT, with /proc, /sys, /dev and a tmpfs /run and /tmp of its
# own: a throwaway root to chroot into. The caller removes it (umount -R ROOT).
t_throwaway_root() {
	local r=$1 m=${1%/*}
	mkdir -p "$m/upper" "$m/work" "$r" &&
		mount -t overlay "$3" -o "lowerdir=$2,upperdir=$m/upper,workdir=$m/work" "$r" &&
		mount -t proc proc "$r/proc" &&
		mount --rbind /sys "$r/sys" && mount --make-rslave "$r/sys" &&
		mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev" &&
		mount -t tmpfs -o mode=755 "$3-run" "$r/run" && mkdir -p "$r/run/lock" &&
		mount -t tmpfs "$3-tmp" "$r/tmp"
}
# t_in_root ROOT LIMIT SCRIPT: SCRIPT (bash) as root chrooted in ROOT with a clean
# environment, bounded by LIMIT seconds (exit 124 past it)
t_in_root() {
	timeout -k 10 "$2" chroot "$1" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 CTR_FRESH_ROOT=1 DEBIAN_FRONTEND=noninteractive bash -c "$3"
}

t_require_root() { [ "$EUID" -eq 0 ] || ctr_skip "needs root (network namespaces, netfilter)"; }

# t_shared_topology WORKAROUND [CLEANUP]: $out, a temporary directory, and $prefix, a
# topology built with WORKAROUND (ctr_topology_up; its state in $out/topology.env), the
# stream workload's cells' CTR_REUSE_PREFIX; both removed on exit, after CLEANUP (a
# command of the test's, e.g. killing what it started). A topology that cannot be built
# fails the test, with topology/up's error.
t_shared_topology() {
	out=$(mktemp -d)
	prefix=$(ctr_new_prefix)
	T_CLEANUP=${2:-:}
	trap '$T_CLEANUP; ctr_destroy_prefix "$prefix"; rm -rf "$out"' EXIT
	ctr_topology_up "$prefix" "$1" "$out/topology.env" "$out/up.err" ||
		{ t_fail "topology up" "$(cat "$out/up.err")"; t_done; }
	export CTR_REUSE_PREFIX=$prefix CTR_WORKLOAD=stream
}

# The host state a run must leave as it found it: the root namespace's firewall (every
# backend), links, addresses, routes (every table, both families), the sysctls a run
# could touch, and the namespaces of ctreset runs that are not alive (a live run of
# someone else is not ours to judge). Lifetimes and expiry timers, which count down by
# themselves, are left out.
t_host_state() {
	local s p ns
	echo "## netns"
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		p=${ns%-*}
		if [[ $ns == ctr-* ]] && ctr_valid_prefix "$p"; then
			ctr_prefix_dead "$p" || continue
			# a run that finished since the listing removed its namespaces before its
			# state: its namespace is gone now, it was not left behind
			[ -e "/run/netns/$ns" ] || continue
		fi
		echo "$ns"
	done
	echo "## state of dead runs"
	for p in "$CTR_STATE"/ctr-*; do
		[ -e "$p" ] || continue
		p=${p##*/}
		ctr_valid_prefix "$p" && ! ctr_prefix_dead "$p" && continue
		# gone since the listing (a run that finished), or its owner written since
		[ -e "$CTR_STATE/$p" ] || continue
		ctr_valid_prefix "$p" && ! ctr_prefix_dead "$p" && continue
		echo "$p"
	done
	echo "## links"
	ip -o link show | sed 's/^[0-9]*: //; s/ qlen.*//; s/link\/ether [0-9a-f:]*//'
	echo "## addresses"
	ip -o addr show | sed 's/^[0-9]*: //; s/\\ *valid_lft.*//'
	echo "## routes"
	{ ip -4 route show table all; ip -6 route show table all; } | sed 's/ expires [0-9]*sec//; s/ age [0-9.]*sec//'
	for s in iptables-save iptables-legacy-save ip6tables-save ip6tables-legacy-save; do
		command -v "$s" >/dev/null 2>&1 || continue
		echo "## $s"
		"$s" 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
	done
	echo "## nft"
	nft list ruleset 2>/dev/null
	echo "## sysctl"
	for s in net/netfilter/nf_conntrack_tcp_be_liberal net/netfilter/nf_conntrack_tcp_loose \
		net/netfilter/nf_conntrack_tcp_ignore_invalid_rst net/ipv4/ip_forward \
		net/ipv6/conf/all/forwarding net/bridge/bridge-nf-call-iptables \
		net/bridge/bridge-nf-call-ip6tables net/bridge/bridge-nf-call-arptables; do
		[ -r "/proc/sys/$s" ] && echo "$s=$(cat "/proc/sys/$s")"
	done
}

# t_host_compare WHAT BEFORE [PREFIX...]: one check that the host is as t_host_state wrote
# BEFORE, taken now, with nothing reaped first. Other people's runs create and remove
# ctr-* namespaces at any moment, so those lines are judged by prefix instead: each PREFIX
# (our runs') must have no namespace and no state left. A difference gone a second later
# was another run caught mid-change: three tries.
t_host_compare() {
	local what=$1 before=$2 try p ns d line
	shift 2
	for try in 1 2 3; do
		d=$(diff --unchanged-line-format= --old-line-format='-%L' --new-line-format='+%L' \
			"$before" <(t_host_state) | grep -v '^[-+]ctr-')
		for p in "$@"; do
			for ns in $(ctr_prefix_namespaces "$p"); do d+=$'\n'"+$ns (namespace left by our run)"; done
			[ -e "$CTR_STATE/$p" ] && d+=$'\n'"+$CTR_STATE/$p (state left by our run)"
		done
		d=$(sed '/^$/d' <<<"$d")
		[ -z "$d" ] && break
		[ $try -lt 3 ] && sleep 1
	done
	if [ -z "$d" ]; then
		t_pass "host state unchanged $what"
	else
		t_fail "host state changed $what"
		while IFS= read -r line; do printf '  %s\n' "$line"; done <<<"$d"
	fi
}

# t_require_vm: what a test that boots bench/kernels' VMs needs, else it skips saying why
t_require_vm() {
	t_require_root
	ctr_require_cmd jq
	command -v qemu-system-x86_64 >/dev/null || ctr_skip "no qemu-system-x86_64 (sudo make deps installs qemu-system-x86)"
	[ -x /bin/busybox ] || ctr_skip "no /bin/busybox (sudo make deps installs busybox-static)"
}

# t_vm_host_state DIR: what a bench/kernels run must leave as it was besides t_host_state:
# mounts (other runs' /run/netns mounts come and go, so those are left out), /boot,
# /lib/modules, the host's apt (sources, lists, package cache) and package database, and
# the qemu processes of the runs whose output is under DIR (other checkouts' VMs come and
# go: only ours count)
t_vm_host_state() {
	echo "## mounts"
	awk '$5 !~ "^/run/netns/" {print $5, $9}' /proc/self/mountinfo | sort
	echo "## boot"
	ls -la --time-style=+%s /boot 2>&1
	echo "## modules"
	ls -la --time-style=+%s /lib/modules 2>&1
	echo "## apt and dpkg"
	md5sum /etc/apt/sources.list /etc/apt/sources.list.d/* /var/lib/dpkg/status 2>&1
	ls -la --time-style=+%s /var/lib/apt/lists /var/cache/apt /var/cache/apt/archives 2>&1
	echo "## qemu of this test's bench/kernels"
	pgrep -af 'qemu-system-x86_64 -name ctr-kernels-' | grep -F "$1/" || true
}
