#!/usr/bin/env bash
# kselftest entry point: the ctreset bench's default slice on the running kernel, in the
# shape of tools/testing/selftests/net/netfilter's tests - one script, its kernel config
# fragment (config, beside it), KTAP on stdout, exit 0 pass, 1 fail, 4 skip.
#
# The slice is bench/kernels' default: every trigger without a workaround on IPv4 and
# IPv6, and every workaround against seq-above on IPv4, on the cross-node topology with
# the iptables-nft backend (the cells where kernels differ). Each cell's verdict is judged
# by the bench's oracle (bench/matrix.expect) for this kernel's release and the behaviours
# the bench probes on it: a kernel that legitimately differs (< 6.1) is not a failure; a
# cell this kernel cannot build (a missing module) is "ok ... # SKIP reason".
#
# usage: [CTR_TOP=DIR] tests/kselftest/ctreset.sh
#   CTR_TOP     the ctreset tree, built (make); default: this script's ../.. (set it when
#               the script is copied into a kernel's selftests tree)
#   CTR_KSFT_OUT  where the runs go (default: a temporary directory, removed on exit)
#
# Under virtme-ng, from a kernel tree built with this config fragment merged:
#   vng --build --config /path/to/ctreset/tests/kselftest/config
#   vng -v --run . --user root --cpus 2 -- /path/to/ctreset/tests/kselftest/ctreset.sh
set -uo pipefail
ksft_pass=0 ksft_fail=1 ksft_skip=4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=${CTR_TOP:-$here/../..}
skip() { printf 'KTAP version 1\n1..0 # SKIP %s\n' "$1"; exit $ksft_skip; }
[ -x "$top/bench/matrix" ] || skip "no ctreset tree at $top (set CTR_TOP)"
[ -x "$top/build/ctreset-review" ] || skip "ctreset is not built in $top (run make there)"
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, netfilter)"

out=${CTR_KSFT_OUT:-}
if [ -z "$out" ]; then
	out=$(mktemp -d) || exit $ksft_fail
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out" || exit $ksft_fail
base=(--topology cross-node --backend iptables-nft)
slices=("--workaround none --family 4,6" "--family 4 --trigger seq-above --workaround kube-proxy-drop,input-drop,nft-invalid-drop,be-liberal,ignore-invalid-rst")
rc=$ksft_pass
for s in "${slices[@]}"; do
	read -ra a <<<"$s"
	"$top/bench/matrix" "${base[@]}" "${a[@]}" --out "$out/runs" >>"$out/bench.log" 2>&1
	m=$?
	case $m in
	0 | 4) ;;
	1) rc=$ksft_fail ;;
	*) echo "# bench/matrix ${base[*]} $s: exit $m (see $out/bench.log)"; rc=$ksft_fail ;;
	esac
done
# one KTAP of both slices' runs (ctreset-review merges them: each selection whole)
if ! "$top/build/ctreset-review" --render ktap "$out/runs" 2>"$out/merge.err"; then
	printf 'KTAP version 1\n1..0\n'
	sed 's/^/# /' "$out/merge.err"
	exit $ksft_fail
fi
"$top/build/ctreset-review" --render summary "$out/runs" | sed 's/^/# /'
s=${PIPESTATUS[0]}
# the summary's 0 pass, 1 fail, 4 nothing could run; a bench that failed to run is a fail
[ $rc = $ksft_fail ] && exit $ksft_fail
case $s in
0) exit $ksft_pass ;;
4) exit $ksft_skip ;;
*) exit $ksft_fail ;;
esac
