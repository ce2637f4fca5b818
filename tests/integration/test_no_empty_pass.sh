#!/usr/bin/env bash
# No pass without work: every runner fails (exit 1), or says usage (2) or skip (4), when it
# would otherwise have run nothing, and says why. The cases:
#   bench/repro  an empty scenario list (a scenarios file without rows, in a copy of the
#                tree); /dev/fd missing (a private mount namespace with a /dev of its
#                own: process substitutions read nothing there, as seen in the wild) is
#                no reason to run nothing: bench/repro depends on no /dev/fd and must run
#                its scenario and pass there
#   bench/matrix a filter that matches no cell (an empty value would select everything)
#   bench/scale  --backends ""
#   bench/soak   --pairs 0
# bench/load's phase without a download or an injection, and bench/perf's matrix without a
# cell, end in the same kind of check (read there); they take minutes to provoke.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# expect CODE WHAT PATTERN -- COMMAND...: exit status CODE and PATTERN in its output
expect() {
	local code=$1 what=$2 pat=$3 rc
	shift 4
	"$@" >"$out/o" 2>&1
	rc=$?
	t_check "$what: exit $code" "$code" "$rc" "$(tail -5 "$out/o")"
	grep -qE -- "$pat" "$out/o" && t_pass "$what: says why" || t_fail "$what: no '$pat' in: $(tail -3 "$out/o")"
	grep -q '^PASS: 0 ' "$out/o" && t_fail "$what: printed a pass of nothing: $(grep '^PASS' "$out/o")"
}

# a copy of the tree (symlinks) whose bench/scenarios has no row
top=$out/top
mkdir -p "$top/bench"
for f in "$CTR_TOP"/*; do [ "${f##*/}" = bench ] || ln -s "$f" "$top/${f##*/}"; done
for f in "$CTR_TOP"/bench/*; do [ "${f##*/}" = scenarios ] || ln -s "$f" "$top/bench/${f##*/}"; done
grep '^#' "$CTR_TOP/bench/scenarios" >"$top/bench/scenarios"
expect 1 "repro with no scenario in bench/scenarios" "no scenario to run" -- \
	env CTR_TOP="$top" "$top/bench/repro" --out "$out/runs"
expect 1 "repro --list with no scenario" "no scenario in" -- env CTR_TOP="$top" "$top/bench/repro" --list

# /dev without fd, stdin, stdout, stderr: only the device nodes a run needs
# shellcheck disable=SC2016 # the script runs in the inner bash
unshare -m --propagation private bash -c '
	mount -t tmpfs -o mode=755 ctr-nofd /dev || exit 9
	mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
		mknod -m 444 /dev/urandom c 1 9 && mknod -m 444 /dev/random c 1 8 || exit 9
	[ ! -e /dev/fd ] || exit 9
	exec "$1/bench/repro" --scenario seq-above --out "$2"' ctr-nofd "$CTR_TOP" "$out/nofd" >"$out/nofd.log" 2>&1
rc=$?
if [ $rc = 9 ]; then
	t_fail "repro without /dev/fd: could not make a /dev without fd"
else
	t_check "repro without /dev/fd: exit 0 having run its one scenario (no /dev/fd dependence)" "0 1" \
		"$rc $(grep -c '^PASS: 1 scenarios as expected' "$out/nofd.log")" "$(tail -5 "$out/nofd.log")"
fi

M=$CTR_TOP/bench/matrix
for f in --trigger --workaround --topology --backend --family; do
	expect 2 "matrix $f ''" "$f takes a value" -- "$M" "$f" "" --list
done
expect 2 "matrix --trigger ,," "--trigger takes a value" -- "$M" --trigger ,, --workaround none --list
expect 2 "scale --backends ''" "--backends needs" -- "$CTR_TOP/bench/scale" --backends ""
expect 2 "soak --pairs 0" "--pairs takes 1" -- "$CTR_TOP/bench/soak" --pairs 0
t_done
