#!/usr/bin/env bash
# A matrix group's cells handed to C in one exec (bench/lib.sh's ctr_run_cells ->
# ctreset-inject --cells, each cell a fork of it): several cells in one batch each get
# their record, with no ctreset-review process and one injector exec for them all, and
# bash forks once for the batch whatever its number of cells; a cell whose child is killed
# (SIGKILL at its inject.flow fault point) gets its error record and the next cells still
# run, the processes it left found and killed by the next cell's reset (the batch their
# subreaper: a reset looks for them only after a cell left one alive); SIGTERM to the
# batch finishes the running cell, starts no other, exits 130 and leaves no process in
# the topology; bad input (an empty list, a cell without --out, a
# missing file, a list not ended, a bad option in a later cell) is a usage error before
# anything runs.
# shellcheck disable=SC2154 # $out and $prefix: t_shared_topology's (lib.sh)
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_tools

t_shared_topology none
export CTR_BEHAVIOURS_PROBE=0
ctr_load_topology "$prefix"
triggers="seq-above ack-above ct-entry-lost"
read -ra tlist <<<"$triggers"
ctr_natural_load "$triggers" none

# the tools as the runner finds them, each start of the injector and the review logged
mkdir "$out/bin"
for t in ctreset-workload ctreset-shard ctreset-audit; do ln -s "$CTR_BIN/$t" "$out/bin/$t"; done
for t in ctreset-inject ctreset-review; do
	printf '#!/bin/sh\necho %s >>%q\nexec %q "$@"\n' "$t" "$out/execs" "$CTR_BIN/$t" >"$out/bin/$t"
	chmod +x "$out/bin/$t"
done
real_bin=$CTR_BIN
ns_pids() { ctr_prefix_namespaces "$prefix" | sed 's/^/netns pids /' | ip -force -batch - 2>/dev/null | tr '\n' ' '; }
field() { sed -n "s/^$1=//p" "$2" 2>/dev/null; } # KEY FILE

# --- several cells in one batch ----------------------------------------------------------
: >"$out/execs"
mkdir -p "$out/g1"
mkdir -p "$out/sched"
# (a matrix group's slot: the batch writes each cell's trigger there, bench/schedule.sh)
CTR_SCHED_DIR=$out/sched CTR_SCHED_SLOT=0 CTR_BIN=$out/bin ctr_run_cells "$out/g1" batch none "${tlist[@]}" 2>"$out/g1.stderr"
t_check "three cells: ctr_run_cells returns 0" 0 $? "$(cat "$out/g1.stderr")"
t_check "...one injector exec for them all, no review process" "ctreset-inject" "$(cat "$out/execs")"
t_check "...the group's state: the last cell's trigger (the scheduler's)" ct-entry-lost "$(cat "$out/sched/0" 2>/dev/null)"
got= want=
for t in $triggers; do
	d=$out/g1/$t+none
	got+="$t:$(field status "$d/record.kv"):$(field observed "$d/verdict.kv"):$(field scenario "$d/meta.kv") "
	want+="$t:pass:$(field expected "$d/record.kv"):batch/$t/none "
done
t_check "...each cell its record, verdict and meta.kv, as the oracle expects" "$want" "$got" \
	"$(cat "$out"/g1/*/error 2>/dev/null)"
keys=$(cut -d= -f1 "$out/g1/seq-above+none/meta.kv" | tr '\n' ' ')
want="scenario workload topology backend family trigger workaround oracle kernel behaviours"
want+=" behaviours_source service prefix reused_topology time.setup_ms time.inject_ms time.collect_ms"
want+=" time.teardown_ms duration_ms time.verdict_ms "
t_check "...meta.kv's keys each once, in ctr_run_scenario's order" "$want" "$keys"
"$real_bin/ctreset-review" --verdict "$out/g1/ack-above+none" --format kv --record "$out/again.kv" >"$out/again.verdict" 2>&1
t_check "...the review again, offline: the same verdict.kv" "" "$(diff "$out/g1/ack-above+none/verdict.kv" "$out/again.verdict")"
t_check "...no error file, no process left in the topology" "" "$(ls "$out"/g1/*/error 2>/dev/null)$(ns_pids)"
# the batch is its cells' subreaper: after a cell that left no process alive, the next
# one's reset has nothing to look for (its scan of /proc skipped); the first looks
t_check "...the reset scanned before the first cell only (reset.scanned)" "1 0 0" \
	"$(for t in $triggers; do field reset.scanned "$out/g1/$t+none/inject.kv"; done | xargs)"

# bash forks once for a batch, not once a cell (strace: the shell's own clones after the
# marker chdir; the natural lines loaded before it, the cells' directories made)
mkdir -p "$out"/g2/{seq-above,ack-above,ct-entry-lost}+none # as bench/matrix makes them, in one exec
# shellcheck disable=SC2016 # the inner shell's
strace -f -qq -o "$out/strace" -e trace=clone,clone3,fork,vfork,chdir bash -c '
	. "$1/bench/lib.sh"; ctr_natural_load "$3" none; cd /
	ctr_run_cells "$2/g2" fork none $3 $3' _ "$CTR_TOP" "$out" "$triggers" 2>"$out/g2.stderr"
shell=$(awk 'NR == 1 { print $1 }' "$out/strace")
t_check "six cells: the shell forked once after its setup (the injector's start)" 1 \
	"$(awk -v p="$shell" '$1 == p && /chdir\("\/"\)/ { on = 1; next } on && $1 == p && /clone|fork/ { n++ } END { print n + 0 }' "$out/strace")" \
	"$(grep -c . "$out/strace") lines; $(cat "$out/g2.stderr")"

# --- a cell's child killed: its error record, the next cells run ---------------------------
# (the workload's ends as processes: killed with the child, they are orphaned - to the
# batch, its subreaper - and still stream in the pods' namespaces)
mkdir -p "$out/g3"
rm -f "$out/fault"
CTR_WORKLOAD_PROCESS=1 CTR_FAULT_AT=inject.flow CTR_FAULT_FILE=$out/fault ctr_run_cells "$out/g3" kill none "${tlist[@]}" 2>"$out/g3.stderr" &
run=$!
killed= n=0
while kill -0 "$run" 2>/dev/null && ((n < 400)); do
	if [ -s "$out/fault" ]; then
		read -r _ p <"$out/fault"
		rm -f "$out/fault"
		# the first cell's child killed; the others continued from their stop
		if [ -z "$killed" ]; then killed=$p && kill -KILL "$p"; else kill -CONT "$p"; fi
	fi
	n=$((n + 1))
	ctr_sleep 0.05
done
wait "$run"
t_check "a child killed: the batch goes on to its end" 0 $? "$(cat "$out/g3.stderr")"
d=$out/g3/seq-above+none
t_check "...its cell's error says so" 1 \
	"$(grep -c '^ctreset-inject was killed by signal 9 (SIGKILL) mid-cell: no record of the event$' "$d/error")" \
	"$(cat "$d/error" 2>/dev/null)"
t_check "...its record: failed, the error line first, its coordinates and times" \
	"fail|ctreset-inject was killed by signal 9 (SIGKILL) mid-cell: no record of the event|kill/seq-above/none|1" \
	"$(field status "$d/record.kv")|$(field error_line "$d/record.kv" | head -1)|$(field scenario "$d/meta.kv")|$(grep -c '^duration_ms=' "$d/meta.kv")" \
	"$(cat "$d/record.kv" 2>/dev/null)"
t_check "...the next cells ran and passed" "pass pass" \
	"$(field status "$out/g3/ack-above+none/record.kv") $(field status "$out/g3/ct-entry-lost+none/record.kv")"
be=$NS_BACKEND cl=$NS_CLIENT
t_check "...the killed cell's workload processes, left alive, were found and killed by the next cell's reset" \
	"1 1 1" "$(field reset.scanned "$out/g3/ack-above+none/inject.kv") $(field "reset_killed.$be" "$out/g3/ack-above+none/inject.kv") $(field "reset_killed.$cl" "$out/g3/ack-above+none/inject.kv")" \
	"$(grep '^reset' "$out/g3/ack-above+none/inject.kv")"
t_check "...and the cell after that one, which left none, did not look (reset.scanned=0)" 0 \
	"$(field reset.scanned "$out/g3/ct-entry-lost+none/inject.kv")"

# --- SIGTERM to the batch: the running cell finished, no other started, 130, nothing left -----
mkdir -p "$out/g4"
rm -f "$out/fault"
CTR_FAULT_AT=inject.flow CTR_FAULT_FILE=$out/fault ctr_run_cells "$out/g4" term none "${tlist[@]}" 2>"$out/g4.stderr" &
run=$!
if ctr_busywait 15000 test -s "$out/fault"; then
	read -r _ p <"$out/fault"
	batch=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")
	t_check "the batch is the stopped child's parent" "ctreset-inject" "$(cat "/proc/$batch/comm")"
	kill -TERM "$batch"
	kill -CONT "$p"
	wait "$run"
	t_check "SIGTERM: ctr_run_cells returns the batch's 130" 130 $? "$(cat "$out/g4.stderr")"
	t_check "...the running cell was told (its injector: interrupted) and has its record" "interrupted 1" \
		"$(field error "$out/g4/seq-above+none/inject.kv") $([ -s "$out/g4/seq-above+none/record.kv" ] && echo 1)"
	t_check "...no other cell started" "" "$(find "$out/g4/ack-above+none" "$out/g4/ct-entry-lost+none" -type f ! -name prefix)"
	t_check "...the batch and its child gone, no process in the topology" "" \
		"$( (kill -0 "$batch" || kill -0 "$p") 2>/dev/null && echo alive)$(ns_pids)"
	t_check "...and no namespace but the topology's" 4 "$(ctr_prefix_namespaces "$prefix" | wc -l)"
else
	t_fail "SIGTERM: the batch never reached inject.flow" "$(cat "$out/g4.stderr")"
	kill "$run"
fi

# --- bad input: a usage error, nothing run ----------------------------------------------------
common=(--client-ns "$NS_CLIENT" --node-ns "$NS_DNAT_NODE" --backend-ns "$NS_BACKEND" --vip "$VIP_EP")
bad() { # WHAT MESSAGE-PART LIST-FILE
	local msg
	msg=$("$real_bin/ctreset-inject" "${common[@]}" --cells "$3" 2>&1 >/dev/null)
	t_check "bad input, $1: exit 2, saying so" "2 1" "$? $(grep -c -- "$2" <<<"$msg")" "$msg"
}
: >"$out/empty"
bad "an empty list" "no cell in the list" "$out/empty"
printf '%s\0' --trigger seq-above '' >"$out/noout"
bad "a cell without --out" "cell 1 has no --out DIR" "$out/noout"
bad "a missing file" "$out/missing: No such file or directory" "$out/missing"
printf '%s\0' --out "$out/never" --trigger seq-above >"$out/unended"
bad "a list not ended by an empty word" "cell 1 is not ended by an empty word" "$out/unended"
printf '%s\0' --out "$out/never" --trigger seq-above '' --out "$out/never2" --trigger nosuch '' >"$out/badopt"
bad "a bad trigger in the second cell" 'argument "nosuch" is wrong' "$out/badopt"
t_check "...and nothing ran" "" "$(ls -d "$out/never" "$out/never2" 2>/dev/null)"
t_done
