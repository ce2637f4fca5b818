#!/usr/bin/env bash
# ctreset-review's analysis on fresh bench runs on this kernel: a reset run's captures
# show the leak with conntrack's reason and the RST that killed the backend (exit 6, the
# SVG written), a clean run shows no leak (exit 0), and its command line refuses misuse.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

B=$CTR_BIN
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$CTR_TOP/bench/repro" --scenario seq-above --scenario seq-below --out "$out" >"$out/table" 2>&1
t_check "bench runs for the review" 0 $? "$(cat "$out/table")"
run=$(ls -d "$out"/*/ | head -1)
kernel_ge61=0
ctr_version_ge "$(uname -r)" 6.1 && kernel_ge61=1

"$B/ctreset-review" "$run/seq-above" --svg "$out/a.svg" >"$out/a.txt" 2>&1
t_check "reset run: exit $CTR_EXIT_RESET" "$CTR_EXIT_RESET" $? "$(cat "$out/a.txt")"
t_check "reset run: the leak is reported" 1 "$(grep -c '^ .*LEAK .*198.18.2.10:8080 > ' "$out/a.txt")" "$(cat "$out/a.txt")"
t_check "reset run: conntrack's reason" 1 "$(grep -c 'INVALID: SEQ is over upper bound' "$out/a.txt")" "$(cat "$out/a.txt")"
t_check "reset run: the RST answering it resets the backend" 1 \
	"$(grep -c 'RST .*answers the leaked segment.*the backend.s connection is reset' "$out/a.txt")" "$(cat "$out/a.txt")"
t_check "reset run: bench verdict from the analysis" 1 "$(grep -c '^verdict:  reset' "$out/a.txt")" "$(cat "$out/a.txt")"
grep -q '<line [^>]*stroke="#d62728"' "$out/a.svg"
t_check "reset run: the SVG draws the leak in red" 0 $?

# the files alone, no service map: the DNAT is inferred from the client's and backend's views
"$B/ctreset-review" "$run/seq-above/client.pcap" "$run/seq-above/backend.pcap" --format json >"$out/a.json" 2>&1
t_check "files, no service: exit $CTR_EXIT_RESET" "$CTR_EXIT_RESET" $? "$(head -c 600 "$out/a.json")"
t_check "files, no service: DNAT inferred" 1 "$(grep -c '"inferred": true' "$out/a.json")"

"$B/ctreset-review" "$run/seq-below" >"$out/b.txt" 2>&1
t_check "seq-below run: exit 0 (nothing leaked)" 0 $? "$(cat "$out/b.txt")"
t_check "seq-below run: no leak" 0 "$(grep -c ' LEAK ' "$out/b.txt")"
if [ $kernel_ge61 = 1 ]; then
	t_check "seq-below run: IGNORE on >= 6.1" 1 "$(grep -c 'IGNORE: SEQ is under lower bound' "$out/b.txt")" "$(cat "$out/b.txt")"
fi
"$B/ctreset-review" --kernel-before-6.1 "$run/seq-below" >"$out/c.txt" 2>&1
t_check "seq-below with --kernel-before-6.1: INVALID in the model" 1 "$(grep -c 'conntrack INVALID: SEQ is under lower bound' "$out/c.txt")" "$(cat "$out/c.txt")"

"$B/ctreset-review" --format kv "$run/seq-above" >/dev/null 2>&1
t_check "--format kv without --verdict: exit 2" 2 $?
err=$("$B/ctreset-review" --service nonsense "$run/seq-above" 2>&1)
t_check "bad --service: exit 2" 2 $? "$err"
t_check "bad --service: names it" 1 "$(grep -c '"nonsense"' <<<"$err")" "$err"
printf 'not a capture' >"$out/garbage.pcap"
err=$("$B/ctreset-review" "$out/garbage.pcap" 2>&1)
t_check "garbage capture: exit 1" 1 $? "$err"
t_done
