#!/usr/bin/env bash
# The live detector (ctreset-review --live) on real bench nodes: bench/repro --detect on a
# reset scenario (seq-above: 1 un-NATed segment, 1 reset, as the verdict) and a clean one
# (seq-below: nothing flagged), each record's detect.* and the JSON report's detect
# object; the metrics file's format (Prometheus text exposition: HELP and TYPE before
# each family, a sample a line); SIGTERM ends it with its summary; bad input (usage, an
# interface that does not exist, a namespace that does not exist) a clear error; an
# interface deleted under it and a namespace removed under it end it with an error and
# its summary, never a crash. The whole matrix with --detect is not part of make check.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

wd=$(mktemp -d)
prefixes=()
det_pid=
cleanup() {
	local p
	[ -z "$det_pid" ] || kill "$det_pid" 2>/dev/null
	for p in "${prefixes[@]}"; do "$CTR_TOP/topology/down" --prefix "$p" >/dev/null 2>&1; done
	rm -rf "$wd"
}
trap cleanup EXIT
# shellcheck disable=SC2034 # read by t_exit (lib.sh)
T_EXIT_OUT=$wd/bad.out T_EXIT_ERR=$wd/bad.err
R=$CTR_BIN/ctreset-review
t_host_state >"$wd/before"


# 1. usage and bad input
t_exit 2 "--live with --ladder is a usage error" "$R" --live eth0 --ladder
t_exit 2 "--duration 0 is a usage error" "$R" --live eth0 --duration 0
t_exit 2 "--netns without --live is a usage error" "$R" --netns x
t_exit 2 "--max-flows 3 is a usage error" "$R" --live eth0 --max-flows 3
t_exit 1 "a namespace that does not exist is an error" "$R" --live eth0 --netns ctr-000000-gone --duration 1
grep -q "ctr-000000-gone" "$wd/bad.err" && t_pass "the error names the namespace" ||
	t_fail "the error names the namespace: $(cat "$wd/bad.err")"

# 2. the bench proves it: a reset scenario and a clean one
"$CTR_TOP/bench/repro" --detect --scenario seq-above --scenario seq-below --out "$wd/r" \
	--json "$wd/r.json" >"$wd/r.out" 2>"$wd/r.err"
t_check "bench/repro --detect on seq-above and seq-below" 0 "$?" "$(tail -8 "$wd/r.out")" "$(tail -3 "$wd/r.err")"
run=$(find "$wd/r" -mindepth 1 -maxdepth 1 -type d | head -1)
rec() { sed -n "s/^$2=//p" "$run/$1/record.kv" 2>/dev/null | head -1; }
t_check "seq-above: observed, detect.leaks, detect.resets, detect.verdict, status" \
	"reset 1 1 reset pass" \
	"$(rec seq-above observed) $(rec seq-above detect.leaks) $(rec seq-above detect.resets) $(rec seq-above detect.verdict) $(rec seq-above status)" \
	"$(cat "$run/seq-above/detect.txt" 2>/dev/null)"
t_check "seq-below: observed, detect.leaks, detect.resets, detect.verdict, status" \
	"clean 0 0 clean pass" \
	"$(rec seq-below observed) $(rec seq-below detect.leaks) $(rec seq-below detect.resets) $(rec seq-below detect.verdict) $(rec seq-below status)" \
	"$(cat "$run/seq-below/detect.txt" 2>/dev/null)"
t_check "seq-above: its line names the leak and the reset, as they happened" 2 \
	"$(grep -cE '^[0-9T:.-]+Z (leak  veth-pod client .* from the backend .* itself, not the VIP; conntrack: INVALID|rst   veth-pod client .* answering the un-NATed segment; seq is the receiver.s next expected: it resets)' "$run/seq-above/detect.txt")" \
	"$(cat "$run/seq-above/detect.txt")"
t_check "seq-above: how long the detector took to start capturing is recorded" 1 \
	"$([[ $(sed -n 's/^detect.start_ms=//p' "$run/seq-above/meta.kv") =~ ^[0-9]+$ ]] && echo 1)"
# a detector not capturing in time (CTR_DETECT_START_MS=0): the cell records an error and
# fails, never a miss
CTR_DETECT_START_MS=0 "$CTR_TOP/bench/repro" --detect --scenario seq-above --out "$wd/late" >"$wd/late.out" 2>&1
t_check "a detector not capturing in time fails the cell" 1 "$?" "$(tail -8 "$wd/late.out")"
late=$(find "$wd/late" -mindepth 1 -maxdepth 1 -type d | head -1)
t_check "... its record says error, its meta.kv why" "error|detect.error=not capturing after 0 ms" \
	"$(sed -n 's/^detect.verdict=//p' "$late/seq-above/record.kv")|$(grep '^detect.error=' "$late/seq-above/meta.kv")"
# the stop is bounded whatever the signal's timing: a TERM taken by a forked shell's trap
# before its exec (as a cell's, whose abort is trapped) is lost; the detector's stop sends
# it again, then SIGKILL
(
	trap ': the TERM, lost' TERM
	ctr_sleep 0.5
	exec sleep 60
) &
lost=$!
ctr_sleep 0.1
ctr_now
t0=$REPLY
ctr_detect_kill "$lost"
rc=$?
ctr_now
t_check "ctr_detect_kill: a TERM lost before the exec, the process still stopped, by the second TERM, within 3.5 s" \
	"143 1" "$rc $(((REPLY - t0) < 3500))" "$((REPLY - t0)) ms"
t_check "the JSON report: a detect object per result with leaks and resets" "1 1|0 0" \
	"$(jq -r '[.results[] | "\(.detect.leaks) \(.detect.resets)"] | join("|")' "$wd/r.json" 2>&1)"
t_check "seq-above's JSON lines: a leak, then an RST that resets" "leak false|rst true" \
	"$(jq -r '"\(.event) \(.resets // false)"' "$run/seq-above/detect.jsonl" 2>&1 | paste -sd'|')"

# 3. the metrics file: text exposition, every family with HELP and TYPE, samples numbers
prom=$run/seq-above/detect.prom
if [ -s "$prom" ]; then
	t_check "metrics: every line a HELP, a TYPE or a sample NAME{LABELS} VALUE" "" \
		"$(grep -vE '^# (HELP [a-z_]+ .+|TYPE [a-z_]+ (counter|gauge))$|^[a-z_]+(\{interface="[^"]+"\})? [0-9]+$' "$prom")"
	t_check "metrics: each sample's family has its HELP and TYPE before it" "" \
		"$(awk '/^# HELP/ { h[$3] = 1; next } /^# TYPE/ { t[$3] = 1; next }
			{ n = $1; sub(/\{.*/, "", n); if (!h[n] || !t[n]) print n }' "$prom")"
	t_check "metrics: ctreset_unnated_segments_total, ctreset_resets_total, kernel drops" \
		"1 1 0" "$(awk '$1 == "ctreset_unnated_segments_total" { a = $2 } $1 == "ctreset_resets_total" { b = $2 }
			$1 ~ /^ctreset_kernel_drops_total/ { c += $2 } END { print a, b, c + 0 }' "$prom")"
	t_check "metrics: no temporary file left beside it" "" "$(find "$run/seq-above" -name 'detect.prom.tmp*')"
else
	t_fail "seq-above left no metrics file"
fi

# 4. on a topology of its own: a bad interface, SIGTERM, an interface deleted, the
# namespace removed
"$CTR_TOP/topology/up" --owner $$ >"$wd/up" 2>"$wd/up.err"
t_check "topology/up" 0 "$?" "$(cat "$wd/up.err")"
p=$(sed -n 's/^PREFIX=//p' "$wd/up")
if [ -n "$p" ]; then
	prefixes+=("$p")
	t_exit 1 "an interface that does not exist is an error" "$R" --live nosuch0 --netns "$p-nodeA" --duration 1
	grep -q "nosuch0" "$wd/bad.err" && t_pass "the error names the interface" ||
		t_fail "the error names the interface: $(cat "$wd/bad.err")"
	# start DESCRIPTION IFACE: the detector in the background, capturing when it returns
	start() {
		rm -f "$wd/m.prom"
		"$R" --live "$2" --netns "$p-nodeA" --metrics "$wd/m.prom" >"$wd/$1.out" 2>"$wd/$1.err" &
		det_pid=$!
		ctr_busywait 5000 test -e "$wd/m.prom" || t_fail "$1: the detector did not start: $(cat "$wd/$1.err")"
	}
	gone() { ! kill -0 "$det_pid" 2>/dev/null; }
	stopped() { # DESCRIPTION EXIT: waits (bounded, 5 s) for it to end by itself
		ctr_busywait 5000 gone || { t_fail "$1: still running 5 s later"; kill "$det_pid"; }
		wait "$det_pid"
		t_check "$1: exit status" "$2" "$?" "$(cat "$wd/$1.err")"
		det_pid=
	}
	start sigterm veth-pod
	kill -TERM "$det_pid"
	stopped sigterm 0
	grep -q "^summary: .* segments, .* connections tracked" "$wd/sigterm.out" &&
		grep -q "^  kernel drops (pcap_stats): veth-pod 0$" "$wd/sigterm.out" &&
		t_pass "SIGTERM: the summary, with the kernel's drops" ||
		t_fail "SIGTERM: the summary, with the kernel's drops: $(cat "$wd/sigterm.out")"

	start ifdown veth-pod
	ip -n "$p-nodeA" link del veth-pod
	stopped ifdown 1
	grep -q "veth-pod" "$wd/ifdown.err" && grep -q "^summary:" "$wd/ifdown.out" &&
		t_pass "an interface deleted under it: an error naming it, and the summary" ||
		t_fail "an interface deleted under it: an error naming it, and the summary: $(cat "$wd/ifdown.err" "$wd/ifdown.out")"

	start nsgone wire0
	ip netns del "$p-nodeA"
	stopped nsgone 1
	grep -q "namespace $p-nodeA vanished" "$wd/nsgone.err" && grep -q "^summary:" "$wd/nsgone.out" &&
		t_pass "the namespace removed under it: an error naming it, and the summary" ||
		t_fail "the namespace removed under it: an error naming it, and the summary: $(cat "$wd/nsgone.err" "$wd/nsgone.out")"
fi

for p in "${prefixes[@]}"; do "$CTR_TOP/topology/down" --prefix "$p" >/dev/null 2>&1; done
prefixes=()
t_host_state >"$wd/after"
diff -u "$wd/before" "$wd/after" >"$wd/diff" && t_pass "host state unchanged" || t_fail "host state changed: $(cat "$wd/diff")"
t_done
