#!/usr/bin/env bash
# A run killed with SIGKILL at a chosen point — while topology/up builds, while the
# injector runs, while the namespaces are torn down — and then the next run: no
# namespace, link, rule, sysctl, state or process of the killed run is left behind.
# topology/up killed mid-build on its own: the plain reaper removes what it left.
#
# The kill points are deterministic: CTR_FAULT_AT=POINT makes the run stop itself there
# (ctr_fault_point in tools/lib/sh/fault.sh) and the test then kills its whole process group.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$CTR_TOP/topology/reap" >/dev/null
t_host_state >"$out/before"

# Other people's runs on this machine may die and wait for a reaper at any moment (their
# own tests kill runs too): ctr-* namespaces and state are judged by prefix, ours (the
# killed run's, asserted reaped above each comparison), the rest of the host as it was.
# Nothing is reaped before the snapshot: that would hide what our own run left.
compare() { # WHAT
	# shellcheck disable=SC2031 # the loop below sets prefix in this shell
	t_host_compare "$1" "$out/before" ${prefix:+"$prefix"}
}

# start CMD... in its own process group with the fault armed; waits until it stopped at
# the point; leaves its pid in $pid. Returns 1 if the point was never reached.
start_until() { # POINT CMD...
	local point=$1
	shift
	rm -f "$out/fault"
	CTR_FAULT_AT=$point CTR_FAULT_FILE=$out/fault setsid "$@" >"$out/log" 2>&1 &
	pid=$!
	ctr_busywait 15000 test -s "$out/fault"
}
kill_group() {
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
# a process that still runs (a zombie is dead: this machine's init may never reap it)
alive() { local s; { read -r s <"/proc/$1/stat"; } 2>/dev/null && [[ ${s##*) } != [ZX]* ]]; }
# pids of every process inside the namespaces of PREFIX
ns_pids() { ctr_prefix_namespaces "$1" | sed 's/^/netns pids /' | ip -force -batch - 2>/dev/null | sort -n | tr '\n' ' '; }

# --- bench/repro killed at each phase, then the next run -------------------------------------
for point in up.namespaces up.links scenario.server inject.flow inject.sent teardown.namespaces teardown.state; do
	runs=$out/runs-$point
	if ! start_until "$point" "$CTR_TOP/bench/repro" --scenario seq-above --out "$runs"; then
		t_fail "$point: the run never reached the point" "$(cat "$out/log")"
		kill_group
		continue
	fi
	prefix=$(cat "$runs"/*/seq-above/prefix 2>/dev/null)
	ctr_valid_prefix "$prefix" || { t_fail "$point: no prefix recorded"; kill_group; continue; }
	procs=$(ns_pids "$prefix")
	case $point in
	up.*) t_check "$point: killed while its namespaces exist" 1 "$([ -n "$(ctr_prefix_namespaces "$prefix")" ] && echo 1)" ;;
	scenario.server | inject.*)
		t_check "$point: killed while the workload runs in its namespaces" 1 "$([ -n "$procs" ] && echo 1)"
		;;
	teardown.namespaces)
		t_check "$point: killed with its processes gone and its namespaces there" "1 " \
			"$([ -n "$(ctr_prefix_namespaces "$prefix")" ] && echo 1) $procs"
		;;
	teardown.state)
		t_check "$point: killed with its namespaces gone and its state there" "0 1" \
			"$(ctr_prefix_namespaces "$prefix" | wc -l) $([ -d "$CTR_STATE/$prefix" ] && echo 1)"
		;;
	esac
	kill_group
	t_check "$point: the killed run is dead" 1 "$(ctr_prefix_dead "$prefix" && echo 1)"
	"$CTR_TOP/bench/repro" --scenario seq-above --out "$runs" >"$out/next" 2>&1
	t_check "$point: the next run passes" 0 $? "$(cat "$out/next")"
	t_check "$point: the next run reaped the killed one" "0 " \
		"$(ctr_prefix_namespaces "$prefix" | wc -l) $(ls -d "$CTR_STATE/$prefix" 2>/dev/null)"
	left=
	for p in $procs; do alive "$p" && left+="$p "; done
	t_check "$point: no process of the killed run survives" "" "$left" "$(ps -o pid,args -p "${left// /,}0" 2>/dev/null)"
	compare "after SIGKILL at $point and the next run"
done

# --- topology/up killed mid-build, by hand (no owner): the plain reaper cleans it -----------
for point in up.namespaces up.links; do
	prefix=$(ctr_new_prefix)
	if ! start_until "$point" "$CTR_TOP/topology/up" --prefix "$prefix"; then
		t_fail "topology/up at $point: never reached the point" "$(cat "$out/log")"
		kill_group
		ctr_destroy_prefix "$prefix"
		continue
	fi
	kill_group
	t_check "topology/up killed at $point left namespaces" 1 "$([ -n "$(ctr_prefix_namespaces "$prefix")" ] && echo 1)"
	err=$("$CTR_TOP/topology/up" --prefix "$prefix" 2>&1 >/dev/null)
	t_check "topology/up on the half-built prefix refuses" 1 $? "$err"
	t_check "...in one line" 1 "$(grep -c . <<<"$err")" "$err"
	"$CTR_TOP/topology/reap" >/dev/null
	t_check "topology/up killed at $point: reaped" "0 " \
		"$(ctr_prefix_namespaces "$prefix" | wc -l) $(ls -d "$CTR_STATE/$prefix" 2>/dev/null)"
	compare "after topology/up killed at $point and the reaper"
done

# a topology completed by hand stays: the reaper never takes it
prefix=$(ctr_new_prefix)
"$CTR_TOP/topology/up" --prefix "$prefix" >/dev/null
"$CTR_TOP/topology/reap" >/dev/null
t_check "a complete hand-made topology survives the reaper" 4 "$(ctr_prefix_namespaces "$prefix" | wc -l)"
"$CTR_TOP/topology/down" --prefix "$prefix"
compare "after a hand-made topology and topology/down"
t_done
