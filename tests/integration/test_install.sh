#!/usr/bin/env bash
# The installed ctreset, used where no checkout is: the two ways of installing it, each
# exercised with the checkout hidden (an empty tmpfs mounted over it), as a user would.
#
# 1. make install PREFIX=<a temporary directory>: no file of the installed tree names the
#    checkout; then, from a scratch directory: ctreset --version, ctreset help matrix,
#    ctreset repro (every scenario, artifacts in ./ctreset-runs), ctreset review of a
#    committed reference capture (pcaps/ref/leak), man ctreset (from PREFIX/share/man),
#    ctreset repro as a user (must say it needs root, exit 4); make uninstall leaves no
#    file in PREFIX.
# 2. The Debian package: built once (tools/deb, without its unit tests: make check runs
#    them), lintian finds no error; then in the first-contact test's kind of throwaway root
#    (an overlayfs over /, a private mount namespace, chrooted), with three of its Depends
#    purged there (conntrack, tcpdump, libnet1): apt-get install ./ctreset_*.deb brings
#    them back, and from / the same commands as above (man ctreset from the system's
#    manual); apt-get purge ctreset leaves no file behind: the overlay's upper layer, which
#    holds every file the root gained, has none named ctreset but the run's ./ctreset-runs.
# apt-get needs the Debian mirror: without it the package's half is a SKIP saying so.
# The host's package database is compared before and after. CTR_INSTALL_DEB=FILE uses that
# .deb instead of building one. Every step is bounded (CTR_INSTALL_TIMEOUT s, default 600).
#
# usage: sudo tests/integration/test_install.sh
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
[ -z "${CTR_FRESH_ROOT:-}" ] || ctr_skip "already inside a fresh-machine root"
ctr_require_cmd unshare chroot apt-get dpkg-query md5sum timeout make setpriv
limit=${CTR_INSTALL_TIMEOUT:-600}
scenarios=$(grep -vc '^#' "$CTR_TOP/bench/scenarios")
ref=$CTR_TOP/pcaps/ref/leak
host_db() { md5sum </var/lib/dpkg/status; dpkg-query -W -f='${Package} ${Version} ${Status}\n' | md5sum; }

if [ -z "${CTR_INSTALL_NS:-}" ]; then
	w=$(mktemp -d /tmp/ctr-install.XXXXXX) || ctr_die "$CTR_EXIT_FAIL" "mktemp failed"
	trap 'rm -rf "$w"' EXIT
	db=$(host_db)
	# every mount below is in a private mount namespace of its own: gone with it
	CTR_INSTALL_NS=$w CTR_INSTALL_DB=$db timeout -k 10 $((4 * limit)) \
		unshare -m --propagation private "${BASH_SOURCE[0]}"
	rc=$?
	[ $rc = 124 ] && echo "FAIL: the test took more than $((4 * limit))s"
	exit $rc
fi
w=$CTR_INSTALL_NS
trap - EXIT # the outer shell removes $w
# (readable by the user who runs ctreset as a user: mktemp made it root's only)
chmod 755 "$w" && mkdir -p "$w/log" "$w/cwd" || exit 1

# exercise LABEL OUT CTRESET MAN...: the commands a user runs, from the current directory,
# each one's output in OUT/NAME and exit status in OUT/NAME.rc (bash, for a chroot too)
exercise_script() { # OUT CTRESET MAN...
	local out=$1 c=$2
	shift 2
	cat <<-EOF
		o=$out
		mkdir -p "\$o"
		run() { local n=\$1; shift; "\$@" >"\$o/\$n" 2>&1; echo \$? >"\$o/\$n.rc"; }
		run version $c --version
		run help $c help matrix
		run repro $c repro
		run review $c review "$out/ref"
		MANPAGER=cat MANWIDTH=100 run man $*
		run user setpriv --reuid=nobody --regid=nogroup --clear-groups $c repro
		ls ctreset-runs >"\$o/runs" 2>&1
	EOF
}

# checks LABEL OUT VERSION CWD: the outputs of exercise_script
checks() { # LABEL OUT VERSION CWD
	local l=$1 o=$2
	t_check "$l: ctreset --version" "ctreset $3" "$(cat "$o/version")"
	grep -q -- '--trigger T' "$o/help" && [ "$(cat "$o/help.rc")" = 0 ] &&
		t_pass "$l: ctreset help matrix prints matrix's options" ||
		t_fail "$l: ctreset help matrix: exit $(cat "$o/help.rc"), $(head -3 "$o/help")"
	t_check "$l: ctreset repro (exit status)" 0 "$(cat "$o/repro.rc")" "$(tail -15 "$o/repro")"
	t_check "$l: ctreset repro ran every scenario of bench/scenarios ($scenarios), as expected" 1 \
		"$(grep -c "^PASS: $scenarios scenarios as expected" "$o/repro")" "$(tail -5 "$o/repro")"
	grep -q "artifacts in $4/ctreset-runs/" "$o/repro" && [ "$(wc -l <"$o/runs")" = 1 ] &&
		t_pass "$l: ctreset repro's artifacts are in ./ctreset-runs/RUN-ID of the current directory" ||
		t_fail "$l: artifacts: $(grep -m1 artifacts "$o/repro"); ./ctreset-runs: $(cat "$o/runs")"
	grep -q '^verdict: *leak' "$o/review" && [ "$(cat "$o/review.rc")" = "$CTR_EXIT_LEAK" ] &&
		t_pass "$l: ctreset review of pcaps/ref/leak: verdict leak (exit $CTR_EXIT_LEAK)" ||
		t_fail "$l: ctreset review: exit $(cat "$o/review.rc"), $(tail -3 "$o/review")"
	grep -q 'SUBCOMMANDS' "$o/man" && grep -q 'ctreset-runs' "$o/man" && [ "$(cat "$o/man.rc")" = 0 ] &&
		t_pass "$l: man ctreset" || t_fail "$l: man ctreset: exit $(cat "$o/man.rc"), $(head -3 "$o/man")"
	grep -q 'needs root' "$o/user" && [ "$(cat "$o/user.rc")" = "$CTR_EXIT_SKIP" ] &&
		t_pass "$l: ctreset repro as a user says it needs root (exit $CTR_EXIT_SKIP)" ||
		t_fail "$l: ctreset repro as a user: exit $(cat "$o/user.rc"), $(cat "$o/user")"
}

# 1. make install into a temporary PREFIX
p=$w/prefix
t0=$(ctr_now_ms)
timeout "$limit" make -s -C "$CTR_TOP" install PREFIX="$p" >"$w/log/install" 2>&1
t_check "make install PREFIX=$p (exit status)" 0 "$?" "$(tail -5 "$w/log/install")"
t_check "no file of the installed tree names the checkout ($CTR_TOP)" "" "$(grep -rlI -- "$CTR_TOP" "$p")"
t_check "every link of the installed tree points inside it" "" \
	"$(find "$p" -type l | while read -r f; do t=$(readlink -f "$f"); [[ $t == "$p"/* && -e $t ]] || echo "$f -> $(readlink "$f")"; done)"
mkdir -p "$w/out.prefix" && cp -r "$ref" "$w/out.prefix/ref"
# the checkout hidden, in a mount namespace of its own
(cd "$w/cwd" && timeout "$limit" unshare -m --propagation private bash -c \
	"mount -t tmpfs -o size=1m,mode=700 ctr-hide '$CTR_TOP' && $(exercise_script "$w/out.prefix" "$p/bin/ctreset" man -M "$p/share/man" ctreset)")
version=$(git -C "$CTR_TOP" describe --tags --always --dirty 2>/dev/null || echo unknown)
checks "make install" "$w/out.prefix" "$version" "$w/cwd"
timeout "$limit" make -s -C "$CTR_TOP" uninstall PREFIX="$p" >"$w/log/uninstall" 2>&1
t_check "make uninstall (exit status)" 0 "$?" "$(tail -5 "$w/log/uninstall")"
t_check "make uninstall leaves no file in PREFIX" "" "$(cd "$p" && find . ! -type d)"
echo "# make install part: $((($(ctr_now_ms) - t0) / 1000)) s"

# 2. the Debian package
t0=$(ctr_now_ms)
deb=${CTR_INSTALL_DEB:-}
if [ -z "$deb" ]; then
	"$CTR_TOP/bench/deps" --package >"$w/log/deps" 2>&1 || { t_fail "bench/deps --package: $(tail -3 "$w/log/deps")"; t_done; }
	DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" timeout "$limit" "$CTR_TOP/tools/deb" "$w/deb" >"$w/log/deb" 2>&1
	t_check "tools/deb builds the package (exit status)" 0 "$?" "$(tail -10 "$w/log/deb")"
	deb=$(ls "$w"/deb/ctreset_*_amd64.deb 2>/dev/null)
	echo "# the package built in $((($(ctr_now_ms) - t0) / 1000)) s: ${deb##*/}, $(stat -c %s "$deb" 2>/dev/null) bytes"
fi
[ -f "$deb" ] || { t_fail "no package to install (${deb:-none built})"; t_done; }
pkgver=$(dpkg-deb -f "$deb" Version)
timeout "$limit" lintian "$deb" >"$w/log/lintian" 2>&1
grep -v '^running with root' "$w/log/lintian" | sed 's/^/# lintian: /'
t_check "lintian finds no error in ${deb##*/}" 0 "$(grep -c '^E:' "$w/log/lintian")" "$(cat "$w/log/lintian")"

grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
if ! grep -qw overlay /proc/filesystems; then
	t_skip "the package in a throwaway root: this kernel has no overlayfs"
	t_done
fi
m=$w/root
r=$m/root
t_throwaway_root "$r" / ctr-install &&
	mount -t tmpfs -o size=1m,mode=700 ctr-hide "$r$CTR_TOP" ||
	{ t_fail "cannot make the throwaway root"; t_done; }
mkdir -p "$r/tmp/pkg/out" && cp "$deb" "$r/tmp/pkg/" && cp -r "$ref" "$r/tmp/pkg/out/ref" || exit 1
in_root() { t_in_root "$r" "$limit" "cd / && $1"; } # SCRIPT: from /
DEPS=(conntrack tcpdump libnet1)
installed_of() { in_root "dpkg-query -W -f='\${db:Status-Abbrev}' ${DEPS[*]} 2>/dev/null | grep -o 'ii' | wc -l"; }
in_root "timeout 120 apt-get update -qq >/dev/null 2>&1 || exit 4
	apt-get purge -y -qq ${DEPS[*]} >/dev/null 2>&1 || exit 1" >"$w/log/purge" 2>&1
rc=$?
if [ $rc = 4 ]; then
	t_skip "the package in a throwaway root: the Debian mirror is not reachable (apt-get update failed)"
	umount -R "$r"
	t_done
fi
t_check "throwaway root: ${DEPS[*]} purged" "0 0" "$rc $(installed_of)" "$(tail -5 "$w/log/purge")"
in_root "apt-get install -y -q --no-install-recommends /tmp/pkg/${deb##*/}" >"$w/log/apt-install" 2>&1
t_check "apt-get install ./${deb##*/} in the throwaway root (exit status)" 0 "$?" "$(tail -10 "$w/log/apt-install")"
t_check "it brought back its Depends ${DEPS[*]}" "${#DEPS[@]}" "$(installed_of)" "$(grep -E '^(Unpacking|Setting up)' "$w/log/apt-install")"
in_root "$(exercise_script /tmp/pkg/out ctreset man ctreset)"
checks "the package" "$r/tmp/pkg/out" "$pkgver" ""
in_root "dpkg -L ctreset >/tmp/pkg/files && apt-get purge -y -q ctreset" >"$w/log/apt-purge" 2>&1
t_check "apt-get purge ctreset (exit status)" 0 "$?" "$(tail -5 "$w/log/apt-purge")"
left=$(while read -r f; do [ -d "$r$f" ] || [ ! -e "$r$f" ] && [ ! -L "$r$f" ] || echo "$f"; done <"$r/tmp/pkg/files")
t_check "apt-get purge ctreset: none of the package's $(wc -l <"$r/tmp/pkg/files") paths is left" "" "$left"
# every file the root gained is in the upper layer: only the run's artifacts may be ctreset's
t_check "apt-get purge ctreset: no file named ctreset left anywhere in the root (but ./ctreset-runs)" "/ctreset-runs" \
	"$(cd "$m/upper" && find . -iname '*ctreset*' -prune | sed 's/^\.//' | sort | paste -sd' ')"
umount -R "$r" || umount -R -l "$r"
echo "# the package part: $((($(ctr_now_ms) - t0) / 1000)) s"
t_check "the host's package database is untouched" "${CTR_INSTALL_DB}" "$(host_db)"
t_done
