#!/usr/bin/env bash
# Kernel behaviours measured, not guessed (bench/behaviours.sh): bench/repro probes them
# once, on a topology of its own that is gone afterwards; this kernel (>= 6.1: 6.18 on
# the project's machine) must be found to have ignore-delayed (6e250dcbff1d); every
# cell's record carries the behaviours and its expectation says a probe decided. A run
# given behaviours by its parent probes nothing and is judged by them: the same kernel
# said to lack ignore-delayed expects seq-below to reset, and fails when it does not.
# ctreset-review's model follows a capture's behaviours (its meta.kv, or --behaviours).
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
kv() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1; }

if ! ctr_version_ge "$(uname -r)" 6.1; then
	ctr_skip "this kernel ($(uname -r)) is older than 6.1: ignore-delayed's presence is what this test asserts"
fi

"$CTR_TOP/bench/repro" --scenario seq-below --out "$out/a" >"$out/a.txt" 2>&1
rc=$?
t_check "bench/repro --scenario seq-below exit status" 0 "$rc" "$(cat "$out/a.txt")"
run=$(find "$out/a" -mindepth 1 -maxdepth 1 -type d | head -1)
bk=$run/behaviours/behaviours.kv
t_check "the probe found ignore-delayed present on $(uname -r)" "ignore-delayed=1" "$(kv "$bk" behaviours)" \
	"$(cat "$bk" 2>&1; cat "$run/behaviours/probe.err" 2>/dev/null)"
t_check "its source says probed" 1 "$(kv "$bk" behaviours_source | grep -c '^probed in [0-9]* ms')" "$(cat "$bk" 2>&1)"
t_check "the run's header says what the oracle takes" 1 \
	"$(grep -c '^behaviours: ignore-delayed=1 rcvwnd-workaround=1(release) (probed in' "$out/a.txt")" "$(head -3 "$out/a.txt")"
probe=$run/behaviours/probe/ignore-delayed
t_check "the probe cell saw its segment NATed at the client" "1 1 0" \
	"$(kv "$probe/inject.kv" injected) $(kv "$probe/inject.kv" outcome.probe_natted_at_client) $(kv "$probe/inject.kv" outcome.leaked_at_client)"
pp=$(cat "$probe/prefix" 2>/dev/null) cp=$(cat "$run/seq-below/prefix" 2>/dev/null)
[ -n "$pp" ] && [ "$pp" != "$cp" ] && t_pass "the probe ran on a topology of its own ($pp, the scenario on $cp)" ||
	t_fail "the probe's topology '$pp' is not its own (scenario: '$cp')"
left=$(find /run/netns -maxdepth 1 -name "$pp-*" 2>/dev/null | wc -l)
t_check "the probe's namespaces are gone" 0 "$left"
rec=$run/seq-below/record.kv
t_check "the cell's record carries the behaviours" "ignore-delayed=1" "$(kv "$rec" behaviours)"
t_check "its expectation was chosen by the probed behaviour" 1 \
	"$(kv "$rec" expected_reason | grep -c '\[behaviour ignore-delayed present, probed\]')" "$(kv "$rec" expected_reason)"

# behaviours from the parent: no probe, the oracle by them (this kernel said to lack it)
CTR_BEHAVIOURS=ignore-delayed=0 CTR_BEHAVIOURS_SOURCE="given by the test" \
	"$CTR_TOP/bench/repro" --scenario seq-below --out "$out/b" --json "$out/b.json" >"$out/b.txt" 2>&1
rc=$?
t_check "said to lack ignore-delayed, seq-below's clean is a mismatch (exit 1)" 1 "$rc" "$(cat "$out/b.txt")"
t_check "...expected reset, observed clean" "reset clean" "$(jq -r '.results[0] | .expected + " " + .observed' "$out/b.json")"
t_check "...and nothing was probed" 0 "$(find "$out/b" -path '*/behaviours/*' | wc -l)"

# the review's model follows the capture's kernel
cell=$run/seq-below
"$CTR_BIN/ctreset-review" "$cell" >"$out/r1.txt" 2>&1
t_check "review of the capture, its own behaviours: the e2e packet IGNOREd" 1 \
	"$(grep -c 'conntrack IGNORE: SEQ is under lower bound' "$out/r1.txt")" "$(cat "$out/r1.txt")"
"$CTR_BIN/ctreset-review" "$cell" --behaviours ignore-delayed=0 >"$out/r2.txt" 2>&1
t_check "review with --behaviours ignore-delayed=0: INVALID" 1 \
	"$(grep -c 'conntrack INVALID: SEQ is under lower bound' "$out/r2.txt")" "$(cat "$out/r2.txt")"
mkdir -p "$out/c" && cp "$cell"/*.pcap "$out/c/" && sed 's/^behaviours=.*/behaviours=ignore-delayed=0/' "$cell/meta.kv" >"$out/c/meta.kv"
"$CTR_BIN/ctreset-review" "$out/c" >"$out/r3.txt" 2>&1
t_check "review of a capture whose meta.kv says ignore-delayed=0: INVALID" 1 \
	"$(grep -c 'conntrack INVALID: SEQ is under lower bound' "$out/r3.txt")" "$(head -3 "$out/r3.txt")"
"$CTR_BIN/ctreset-review" "$cell" --behaviours ignore-delayed=maybe >/dev/null 2>"$out/r4.txt"
t_check "a malformed --behaviours is a usage error" 2 "$?" "$(cat "$out/r4.txt")"
t_done
