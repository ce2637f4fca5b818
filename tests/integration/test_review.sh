#!/usr/bin/env bash
# ctreset-review's analysis on fresh bench runs on this kernel: a reset run's captures
# show the leak with conntrack's reason and the RST that killed the backend (exit 6, the
# SVG written and well-formed), a leak that resets nothing exits 5, a clean run shows no
# leak (exit 0), and its command line refuses misuse.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq xmllint

B=$CTR_BIN
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$CTR_TOP/bench/repro" --scenario seq-above --scenario seq-below --out "$out" >"$out/table" 2>&1
t_check "bench runs for the review" 0 $? "$(cat "$out/table")"
runs=("$out"/*/)
run=${runs[0]}
kernel_ge61=0
ctr_version_ge "$(uname -r)" 6.1 && kernel_ge61=1

"$B/ctreset-review" "$run/seq-above" --svg "$out/a.svg" >"$out/a.txt" 2>&1
t_check "reset run: exit $CTR_EXIT_RESET" "$CTR_EXIT_RESET" $? "$(cat "$out/a.txt")"
t_check "reset run: the leak is reported" 1 "$(grep -c '^ .*LEAK .*198.18.2.10:8080 > ' "$out/a.txt")" "$(cat "$out/a.txt")"
t_check "reset run: conntrack's reason" 1 "$(grep -c 'INVALID: SEQ is over upper bound' "$out/a.txt")" "$(cat "$out/a.txt")"
t_check "reset run: the RST answering it resets the backend" 1 \
	"$(grep -c 'RST .*answers the leaked segment.*the backend.s connection is reset' "$out/a.txt")" "$(cat "$out/a.txt")"
t_check "reset run: bench verdict from the analysis" 1 "$(grep -c '^verdict:  reset' "$out/a.txt")" "$(cat "$out/a.txt")"
t_check "reset run: the SVG is well-formed (xmllint), an <svg> root" "0 svg" \
	"$(xmllint --noout "$out/a.svg" 2>&1 >/dev/null; echo $?) $(xmllint --xpath 'local-name(/*)' "$out/a.svg" 2>/dev/null)"
t_check "reset run: the SVG draws the leak in red" 1 \
	"$(($(xmllint --xpath 'count(//*[local-name()="line"][@stroke="#d62728"])' "$out/a.svg" 2>/dev/null || echo 0) > 0))"

# the files alone, no service map: the DNAT is inferred from the client's and backend's views
"$B/ctreset-review" "$run/seq-above/client.pcap" "$run/seq-above/backend.pcap" --format json >"$out/a.json" 2>&1
t_check "files, no service: exit $CTR_EXIT_RESET" "$CTR_EXIT_RESET" $? "$(head -c 600 "$out/a.json")"
t_check "files, no service: the JSON parses (jq)" 0 "$(jq -e 'type == "object"' "$out/a.json" >/dev/null 2>&1; echo $?)" "$(head -c 600 "$out/a.json")"
t_check "files, no service: DNAT inferred" 1 "$(grep -c '"inferred": true' "$out/a.json")"
t_check "files, no service: JSON result reset" reset "$(jq -r '.result' "$out/a.json" 2>/dev/null)"

"$B/ctreset-review" "$run/seq-below" >"$out/b.txt" 2>&1
t_check "seq-below run: exit 0 (nothing leaked)" 0 $? "$(cat "$out/b.txt")"
t_check "seq-below run: no leak" 0 "$(grep -c ' LEAK ' "$out/b.txt")"
if [ $kernel_ge61 = 1 ]; then
	t_check "seq-below run: IGNORE on >= 6.1" 1 "$(grep -c 'IGNORE: SEQ is under lower bound' "$out/b.txt")" "$(cat "$out/b.txt")"
fi
"$B/ctreset-review" --kernel-before-6.1 "$run/seq-below" >"$out/c.txt" 2>&1
t_check "seq-below with --kernel-before-6.1: INVALID in the model" 1 "$(grep -c 'conntrack INVALID: SEQ is under lower bound' "$out/c.txt")" "$(cat "$out/c.txt")"

# a leak that resets nothing: exit 5. bad-flags (SYN|FIN) is INVALID and leaks un-NATed; the
# client's RST (seq 0) is outside the backend's window, the backend survives
"$CTR_TOP/bench/matrix" --trigger bad-flags --workaround none --topology cross-node --backend iptables-nft \
	--family 4 --out "$out/m" --json "$out/m.json" >"$out/m.txt" 2>&1
t_check "bad-flags cell for the review" 0 $? "$(cat "$out/m.txt")"
leakdir=$(jq -r '.results[0].dir' "$out/m.json" 2>/dev/null)
"$B/ctreset-review" "$leakdir" >"$out/l.txt" 2>&1
t_check "leak run: exit $CTR_EXIT_LEAK" "$CTR_EXIT_LEAK" $? "$(cat "$out/l.txt")"
t_check "leak run: the leak is reported, no backend reset" "1 0" \
	"$(($(grep -c ' LEAK ' "$out/l.txt") > 0)) $(grep -c "the backend.s connection is reset" "$out/l.txt")" "$(cat "$out/l.txt")"

"$B/ctreset-review" --format kv "$run/seq-above" >/dev/null 2>&1
t_check "--format kv without --verdict: exit 2" 2 $?
err=$("$B/ctreset-review" --service nonsense "$run/seq-above" 2>&1)
t_check "bad --service: exit 2" 2 $? "$err"
t_check "bad --service: names it" 1 "$(grep -c '"nonsense"' <<<"$err")" "$err"
printf 'not a capture' >"$out/garbage.pcap"
err=$("$B/ctreset-review" "$out/garbage.pcap" 2>&1)
t_check "garbage capture: exit 1" 1 $? "$err"
t_done
