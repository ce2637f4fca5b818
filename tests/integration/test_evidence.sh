#!/usr/bin/env bash
# Failures keep their evidence, wherever the run was started from. A planted wrong
# expectation makes a verdict unexpected (the bench itself works, the oracle lies):
# - bench/matrix with a temporary --out that is removed afterwards, as bench/perf and the
#   tests run it: the unexpected cell's artifacts are kept under CTR_KEEP_DIR and the
#   path is printed;
# - bench/perf (--runs 1 --no-matrix) on a copy of the tree whose oracle
#   (bench/matrix.expect) expects the wrong verdict: it fails and keeps the run's
#   artifacts, path printed, though it removes its own temporary directory.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
keep=$out/keep

# the oracle says clean where this kernel resets (seq-above with no workaround)
printf 'seq-above\tnone\t*\t*\t*\tclean\tplanted: a wrong expectation\n' >"$out/wrong.expect"
mkdir -p "$out/tmp"
CTR_KEEP_DIR=$keep "$CTR_TOP/bench/matrix" --trigger seq-above --workaround none --topology cross-node \
	--backend iptables-nft --family 4 --expect "$out/wrong.expect" --out "$out/tmp" >"$out/m.log" 2>&1
rc=$?
rm -rf "$out/tmp" # what a caller with a temporary --out does
t_check "matrix with an unexpected cell: exit 1" 1 "$rc" "$(tail -n 8 "$out/m.log")"
kept=$(sed -n 's/^artifacts of the unexpected cells kept in: //p' "$out/m.log")
t_check "matrix prints where the evidence is kept" "$keep/" "${kept%/*}/" "$(tail -n 8 "$out/m.log")"
cell=$kept/cross-node-iptables-nft-ipv4/seq-above+none
n=0
for f in client.pcap node.pcap backend.pcap inject.kv verdict.kv meta.kv record.kv; do [ -s "$cell/$f" ] && n=$((n + 1)); done
t_check "the unexpected cell's pcaps and records outlive the removed --out" 7 "$n" "$(ls -la "$cell" 2>&1)"
t_check "...its record says why it failed" "fail clean reset planted: a wrong expectation" \
	"$(for k in status expected observed expected_reason; do sed -n "s/^$k=//p" "$cell/record.kv"; done | tr '\n' ' ' | sed 's/ $//')"
t_check "its report is kept beside it" 1 "$(jq '.summary.fail' "$kept/report.json" 2>/dev/null)"

# bench/perf on a tree whose oracle expects clean from seq-above (bench/repro's scenarios
# take their expectation from it): a first row that wins over the true one
top=$out/top
mkdir -p "$top/bench"
for f in "$CTR_TOP"/*; do [ "${f##*/}" = bench ] || ln -s "$f" "$top/${f##*/}"; done
for f in "$CTR_TOP"/bench/*; do [ "${f##*/}" = matrix.expect ] || ln -s "$f" "$top/bench/${f##*/}"; done
{
	printf 'seq-above\tnone\t*\t*\t*\tclean\tplanted: a wrong expectation\n'
	cat "$CTR_TOP/bench/matrix.expect"
} >"$top/bench/matrix.expect"
t_check "the planted oracle expects clean from seq-above" "seq-above                    expected clean" \
	"$(CTR_TOP=$top "$top/bench/repro" --list | grep -o '^seq-above  *expected [a-z]*')"
CTR_TOP=$top CTR_KEEP_DIR=$keep "$top/bench/perf" --runs 1 --no-matrix >"$out/p.log" 2>&1
rc=$?
t_check "perf with a wrong verdict: exit 1" 1 "$rc" "$(tail -n 5 "$out/p.log")"
kept=$(sed -n 's/.*a verdict was wrong: figures would mean nothing; artifacts: //p' "$out/p.log")
t_check "perf prints where the evidence is kept" "$keep/" "${kept%/*}/" "$(tail -n 5 "$out/p.log")"
pcaps=("$kept"/*/seq-above/client.pcap)
n=0
[ -e "${pcaps[0]}" ] && n=${#pcaps[@]}
t_check "perf's run (the wrong scenario's pcaps) outlives its temporary directory" 1 "$n" "$(find "$kept" -maxdepth 2 2>&1 | head)"
t_done
