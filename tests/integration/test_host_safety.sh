#!/usr/bin/env bash
# The host is sacred: the root namespace's firewall, links, sysctls and namespace list
# are the same after a run, after a run interrupted with SIGINT, and after a run killed
# with SIGKILL followed by the next run's reaper.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
t_host_state >"$out/before"

compare() { # WHAT
	local try left=0 p f
	# Other engineers' runs create and remove ctr-* namespaces at any moment, so those are
	# judged by prefix: every prefix our runs used (each scenario directory records its
	# own before building anything) must have no namespace left; the rest of the host
	# state must be as it was (a difference gone a second later was caught mid-change).
	for try in 1 2 3; do
		t_host_state >"$out/after"
		diff --unchanged-line-format= --old-line-format='-%L' --new-line-format='+%L' \
			"$out/before" "$out/after" | grep -v '^[-+]ctr-' >"$out/diff"
		[ -s "$out/diff" ] || break
		sleep 1
	done
	for f in "$out"/runs/*/*/prefix; do
		[ -e "$f" ] || continue
		read -r p <"$f"
		for ns in $(ctr_prefix_namespaces "$p"); do
			echo "+$ns (left by our run)" >>"$out/diff"
			left=$((left + 1))
		done
	done
	if [ ! -s "$out/diff" ]; then
		t_pass "host state unchanged $1"
	else
		t_fail "host state changed $1"
		sed 's/^/  /' "$out/diff"
	fi
}

compare "after a complete run"

# interrupted: SIGINT while scenarios run (two at once), as Ctrl-C would (a background
# job starts with SIGINT ignored; --default-signal gives it back)
setsid env --default-signal=INT "$CTR_TOP/bench/repro" --out "$out/runs" --jobs 2 >/dev/null 2>&1 &
pid=$!
ctr_busywait 5000 compgen -G "/run/netns/ctr-*-backend" >/dev/null
sleep 0.1
kill -INT "$pid"
wait "$pid"
t_check "an interrupted run exits 130" 130 $?
compare "after SIGINT"

# killed: SIGKILL leaves its namespaces; the next run's reaper removes them
for delay in 0.05 0.2; do
	setsid "$CTR_TOP/bench/repro" --out "$out/runs" >/dev/null 2>&1 &
	pid=$!
	ctr_busywait 5000 compgen -G "/run/netns/ctr-*-nodeA" >/dev/null
	sleep "$delay"
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	left=$(ls /run/netns 2>/dev/null | grep -c '^ctr-' || true)
	[ "$left" -gt 0 ] && t_pass "SIGKILL after ${delay}s left $left namespace(s) for the reaper" ||
		t_pass "SIGKILL after ${delay}s left nothing to reap"
	"$CTR_TOP/topology/reap" >/dev/null
	compare "after SIGKILL at ${delay}s and the reaper"
done
t_done
