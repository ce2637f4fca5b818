#!/usr/bin/env bash
# Processes a run starts, it reaps: during `bench/repro --workload http`, each scenario's
# nginx master is a descendant of the run (not a daemon reparented to init); after it, the
# master (its pid recorded in the scenario's nginx/ directory) is gone the moment the run
# returns, neither running nor a zombie waiting for init; and no process names the run's
# directory any more.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd nginx curl

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$CTR_TOP/bench/repro" --workload http --scenario seq-above --scenario seq-above/kube-proxy-drop \
	--payload-size 1M --out "$out" >"$out/log" 2>&1 &
repro=$!
# while it runs: every nginx master of the run (its title names the run's directory) must
# descend from the run, not from init or a subreaper (a daemon's fork)
ppid_of() { sed 's/^.*) . \([0-9]*\).*/\1/' "/proc/$1/stat" 2>/dev/null; }
descends() { # PID ANCESTOR
	local p=$1 n=0
	while [ -n "$p" ] && [ "$p" -gt 1 ] && [ $n -lt 64 ]; do
		[ "$p" = "$2" ] && return 0
		p=$(ppid_of "$p") n=$((n + 1))
	done
	return 1
}
declare -A seen=() orphan=()
# until the run ends (bounded: 600 s, far above its few seconds even on a loaded machine)
ctr_now
start=$REPLY
while ctr_pid_running "$repro"; do
	ctr_now
	((REPLY - start < 600000)) || {
		t_fail "bench/repro still running after 600 s"
		kill "$repro"
		break
	}
	for p in $(pgrep -f "nginx: master process .*$out" 2>/dev/null); do
		# a worker just forked keeps its master's title until it sets its own: its
		# parent is an nginx (a master's is the run's shell)
		pp=$(ppid_of "$p")
		[ -n "$pp" ] && [ "$(cat "/proc/$pp/comm" 2>/dev/null)" = nginx ] && continue
		seen[$p]=1
		# (one that exited meanwhile has no parent to judge)
		descends "$p" "$repro" || { pp=$(ppid_of "$p") && [ -n "$pp" ] && orphan[$p]="ppid $pp"; }
	done
	sleep 0.05
done
wait "$repro"
rc=$?
# at once: a zombie of init's lasts only until init gets to it
states= pidfiles=0
for f in "$out"/*/*/nginx/master.pid "$out"/*/*/nginx/nginx.pid; do
	[ -e "$f" ] || continue
	read -r pid <"$f"
	[ -n "$pid" ] && [ "${f##*/}" = master.pid ] && pidfiles=$((pidfiles + 1))
	state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null)
	comm=$(cat "/proc/$pid/comm" 2>/dev/null)
	[ "$comm" = nginx ] && states+=" $pid:$state"
done
t_check "bench/repro --workload http: exit status" 0 "$rc" "$(tail -n 5 "$out/log")"
t_check "nginx masters seen during the run" 2 "${#seen[@]}"
# (without them the check below would pass having looked at nothing)
t_check "each of the 2 scenarios recorded its master's pid (nginx/master.pid)" 2 "$pidfiles" \
	"$(ls "$out"/*/*/nginx/ 2>/dev/null)"
t_check "every nginx master a descendant of the run (pid: parent)" "" "$(for p in "${!orphan[@]}"; do printf '%s: %s ' "$p" "${orphan[$p]}"; done)"
t_check "no nginx master of the run left, running or zombie (pid:state)" "" "$states" \
	"$(ps -o pid,ppid,stat,comm -p "${states// /,}" 2>/dev/null)"
t_check "no process names the run's directory" "" "$(pgrep -af "$out" | grep -v pgrep)"
t_done
