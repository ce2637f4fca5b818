#!/usr/bin/env bash
# Two defects found in review, each checked where it bites:
# - tests/ref/bench-captures trapped a function defined nowhere (ctr_cleanup_run): it
#   refreshes the reference captures (into a temporary --out here) and must exit without a
#   "command not found", and leave no namespace of its own behind, also when interrupted;
# - the Makefile's bench-review recipe ended with a stray line of the soak's text.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# namespaces left by the run of PID (its owner record): none once it has exited
left_by() { # PID
	local f n=0 owner
	for f in "$CTR_STATE"/ctr-*/owner; do
		[ -e "$f" ] || continue
		read -r owner _ <"$f" 2>/dev/null
		[ "$owner" = "$1" ] && n=$((n + 1))
	done
	echo "$n"
}

"$CTR_TOP/tests/ref/bench-captures" --out "$out/refs" >"$out/log" 2>"$out/err" &
pid=$!
wait "$pid"
rc=$?
t_check "bench-captures: exit status" 0 "$rc" "$(tail -n 5 "$out/log" "$out/err")"
t_check "bench-captures: every capture recorded" 9 "$(grep -c '^PASS: ' "$out/log")" "$(cat "$out/log")"
t_check "bench-captures: no 'command not found' (every trapped function exists)" 0 \
	"$(grep -c 'command not found' "$out/err")" "$(grep 'command not found' "$out/err")"
t_check "bench-captures: no state of its run left" 0 "$(left_by "$pid")"
n=0
for d in "$out"/refs/*/; do [ -s "$d/client.pcap" ] && [ -s "$d/backend.pcap" ] && n=$((n + 1)); done
t_check "bench-captures: pcaps in every directory" 9 "$n"

# interrupted while its scenarios run: the EXIT trap cleans up what the run owns
"$CTR_TOP/tests/ref/bench-captures" --out "$out/refs2" >"$out/log2" 2>"$out/err2" &
pid=$!
has_state() { [ "$(left_by "$1")" -gt 0 ]; }
# until its first topology is up, or it ended without one (bounded: 300 s, far above the
# second or two it takes, so a loaded machine is no failure)
state_or_gone() { has_state "$1" || ! ctr_pid_running "$1"; }
ctr_busywait 300000 state_or_gone "$pid"
has_state "$pid" || t_fail "bench-captures: no topology of its own seen before it ended (or within 300 s)"
kill -TERM "$pid"
wait "$pid"
rc=$?
t_check "bench-captures interrupted: exit 130" 130 "$rc"
t_check "bench-captures interrupted: no 'command not found'" 0 "$(grep -c 'command not found' "$out/err2")" "$(cat "$out/err2")"
# shellcheck disable=SC2016 # eval expands it
ctr_busywait 5000 eval '! has_state "$pid"'
t_check "bench-captures interrupted: no state of its run left" 0 "$(left_by "$pid")"

recipe=$(make -s -n -C "$CTR_TOP" bench-review 2>/dev/null)
t_check "make bench-review runs bench/perf-review" 1 "$(grep -c '^bench/perf-review$' <<<"$recipe")" "$recipe"
t_check "make bench-review prints no stray soak text" 0 "$(grep -ci soak <<<"$recipe")" "$recipe"
t_done
