#!/usr/bin/env bash
# A new user's first minute: the README's commands on a machine where pkg-config knows none
# of the libraries, the first time. This machine has the packages, so the test makes such
# a machine: a throwaway root (an overlayfs whose lower layer is / and whose upper layer
# is a tmpfs, in a private mount namespace), chroots into it, purges the -dev packages,
# gcc and pkg-config there (dpkg's database changes only in the overlay: the host's is
# compared before and after), copies this tree in without build/, and runs, each once and
# the first time:
#   make repro                 (bench/deps installs the packages, then the build and run)
# then, in further throwaway roots made from the same purged one:
#   make check TESTS=repro     (make check's path: deps, unit-san, integration; one
#                               integration test, not the whole suite in a suite)
#   make, as a user            (cannot install: must name the packages, not fail to compile)
# apt-get needs the Debian mirror: without it, or without overlayfs, the test skips and
# says which. Every step is bounded in time (CTR_FRESH_TIMEOUT seconds each, default 600).
#
# usage: sudo tests/integration/test_first_contact.sh
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
# this test runs make check inside its throwaway root: not again in there
[ -z "${CTR_FRESH_ROOT:-}" ] || ctr_skip "already inside a fresh-machine root"
ctr_require_cmd unshare chroot apt-get dpkg-query md5sum tar timeout
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || ctr_skip "this kernel has no overlayfs (the throwaway root needs it)"

limit=${CTR_FRESH_TIMEOUT:-600}
# what a fresh machine lacks: every -dev package bench/deps installs, the compiler driver
# and pkg-config (removing them also removes what depends on them, in the overlay only)
PURGE=(libpcap-dev libpcap0.8-dev libnet1-dev libnl-3-dev libnl-route-3-dev libnl-nf-3-dev
	libcunit1-dev pkg-config gcc)

if [ -z "${CTR_FRESH_NS:-}" ]; then
	w=$(mktemp -d /tmp/ctr-fresh.XXXXXX) || ctr_die "$CTR_EXIT_FAIL" "mktemp failed"
	trap 'rm -rf "$w"' EXIT
	mkdir -p "$w/src" "$w/log" "$w/mnt"
	# the tree as a clean clone has it: the files git knows (tracked, and new ones not
	# ignored), without build/ and earlier runs
	if git -C "$CTR_TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# shellcheck disable=SC2016 # the inner sh expands "$f", not this one
		(cd "$CTR_TOP" && git ls-files -z -c -o --exclude-standard | xargs -0 -r sh -c \
			'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
			tar --null -T - -cf -) | tar -xf - -C "$w/src" || ctr_die "$CTR_EXIT_FAIL" "copying the tree failed"
	else
		tar -C "$CTR_TOP" --exclude=./build --exclude=./pcaps/runs -cf - . | tar -xf - -C "$w/src" ||
			ctr_die "$CTR_EXIT_FAIL" "copying the tree failed"
	fi
else
	w=$CTR_FRESH_NS
fi

host_db() { md5sum </var/lib/dpkg/status; dpkg-query -W -f='${Package} ${Version} ${Status}\n' | md5sum; }
db_before=${CTR_FRESH_DB:-$(host_db)}

# Everything below runs in a private mount namespace of its own (this script again, with
# CTR_FRESH_NS set), on a tmpfs there: the mounts vanish with it, whatever happens.
if [ -z "${CTR_FRESH_NS:-}" ]; then
	CTR_FRESH_NS=$w CTR_FRESH_DB=$db_before timeout -k 10 $((3 * limit)) \
		unshare -m --propagation private "${BASH_SOURCE[0]}"
	rc=$?
	[ $rc = 124 ] && echo "FAIL: the test took more than $((3 * limit))s"
	exit $rc
fi
trap - EXIT # the outer shell removes $w
mount -t tmpfs -o size=6g,mode=755 ctr-fresh "$w/mnt" || ctr_die "$CTR_EXIT_FAIL" "cannot mount a tmpfs on $w/mnt"
mkdir "$w/mnt/purged" || exit 1

# fresh_root STAGE SCRIPT: runs SCRIPT (bash) as root, chrooted in a throwaway overlay
# root over / (and, after the purge stage, over the purged layer), the tree at /src; its
# mounts are gone when it returns. Exit status: SCRIPT's (124 on the time bound).
fresh_root() { # STAGE SCRIPT
	local m=$w/mnt/$1 lower=/ r rc
	[ "$1" = purge ] || lower=$w/mnt/purged:/
	r=$m/root
	t_throwaway_root "$r" "$lower" ctr-fresh &&
		mkdir -p "$r/src" && mount --bind -o ro "$w/src" "$r/src" || return 1
	# its own /run (above): the runs inside make their namespaces and state there
	t_in_root "$r" "$limit" "$2"
	rc=$?
	umount -R "$r" || umount -R -l "$r"
	# the purged root (its upper layer) becomes a lower layer of the next stages
	[ "$1" = purge ] && [ $rc = 0 ] && { cp -a "$m/upper/." "$w/mnt/purged/" || rc=1; }
	rm -rf "$m"
	return $rc
}

# 1. the fresh machine: the packages purged, the mirror reachable
fresh_root purge "
	set -u
	apt-get purge -y -qq ${PURGE[*]} >/dev/null 2>&1 || { echo 'apt-get purge failed'; exit 1; }
	for p in libpcap libnl-3.0 libnl-route-3.0 libnl-nf-3.0 libnet; do
		pkg-config --exists \$p 2>/dev/null && { echo \"pkg-config still knows \$p\"; exit 1; }
	done
	for h in pcap.h pcap/pcap.h libnet.h libnl3/netlink/netlink.h CUnit/CUnit.h; do
		[ -e /usr/include/\$h ] && { echo \"/usr/include/\$h still there\"; exit 1; }
	done
	command -v gcc >/dev/null && { echo 'gcc still there'; exit 1; }
	# the mirror, bounded: without it there is nothing to install (a skip, not a failure)
	timeout 120 apt-get update -qq >/dev/null 2>&1 || exit 4
	exit 0" >"$w/log/purge" 2>&1
rc=$?
case $rc in
0) t_pass "throwaway root: ${PURGE[*]} purged, pkg-config knows none of the libraries, no headers, no gcc" ;;
4) ctr_skip "the Debian mirror is not reachable from this machine (apt-get update failed)" ;;
124) t_fail "preparing the throwaway root took more than ${limit}s"; sed 's/^/  /' "$w/log/purge"; t_done ;;
*) t_fail "preparing the throwaway root failed (exit $rc)"; sed 's/^/  /' "$w/log/purge"; t_done ;;
esac
t_check "the host's package database is untouched by the purge" "$db_before" "$(host_db)"

# 2. the README's first command, the first time
first_run() { # NAME COMMAND
	local t0 rc
	t0=$(ctr_now_ms)
	fresh_root run "cp -a /src /root/ctreset && cd /root/ctreset && $2" >"$w/log/$1" 2>&1
	rc=$?
	t_check "'$2' on the fresh machine, the first time (exit status; $((($(ctr_now_ms) - t0) / 1000)) s)" 0 "$rc" \
		"$(tail -25 "$w/log/$1")"
	return "$rc"
}
# plain make as a user cannot install: it must name the packages, not fail to compile
fresh_root user "cp -a /src /tmp/c && chown -R nobody /tmp/c && cd /tmp/c &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp make" >"$w/log/user" 2>&1
rc=$?
t_check "'make' as a user on the fresh machine: fails (no root to install)" 2 "$rc" "$(tail -n 5 "$w/log/user")"
grep -q "bench/deps: install them with: sudo apt-get install" "$w/log/user" &&
	! grep -qE "undefined reference|No such file or directory|fatal error" "$w/log/user" &&
	t_pass "'make' as a user names the packages to install, before compiling anything" ||
	t_fail "'make' as a user: $(tail -n 5 "$w/log/user")"
if first_run repro "make repro"; then
	grep -q "^bench/deps: installing" "$w/log/repro" && t_pass "make repro installed the packages itself" ||
		t_fail "make repro did not install anything: the root was not fresh"
	n=$(grep -vc '^#' "$CTR_TOP/bench/scenarios")
	t_check "make repro ran every scenario of bench/scenarios ($n)" "1" \
		"$(grep -c "^PASS: $n scenarios as expected" "$w/log/repro")" "$(tail -5 "$w/log/repro")"
fi
first_run check "make check TESTS=repro"
t_check "the host's package database is untouched after the runs" "$db_before" "$(host_db)"
t_done
