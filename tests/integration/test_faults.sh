#!/usr/bin/env bash
# A run killed with SIGKILL at a chosen point — while topology/up builds, while the
# injector runs, while the namespaces are torn down — and then the next run: no
# namespace, link, rule, sysctl, state or process of the killed run is left behind.
# topology/up killed mid-build on its own: the plain reaper removes what it left.
#
# The kill points are deterministic: CTR_FAULT_AT=POINT makes the run stop itself there
# (ctr_fault_point in tools/lib/sh/fault.sh) and the test then kills its whole process group.
#
# Faults with nothing lost: a full output disk (a 64 KiB tmpfs in a private mount
# namespace), a capture the disk does not take whole, a node namespace deleted under a
# running matrix, the injector killed mid-cell: each a clear error, no record claiming a
# pass it could not write, the host as it was, and the next run reaps what is left.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
# The fault points arm every cell a run starts, the kernel-behaviour probe's own cell
# (bench/behaviours.sh) first: the runs here take the behaviours from the release, so
# that the armed point and the deleted namespace are the run's cells' (the probe has its
# own test, test_behaviours)
export CTR_BEHAVIOURS_PROBE=0

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
# tids of every task inside them, threads too: the stream workload's ends are threads of
# the injector (live/child.c), which itself stays in the host's namespace
ns_tasks() {
	local ns want=()
	for ns in $(ctr_prefix_namespaces "$1"); do
		want+=("net:[$(stat -L -c %i "/run/netns/$ns")]")
	done
	[ ${#want[@]} -gt 0 ] || return 0
	find /proc/[0-9]*/task/[0-9]*/ns/net -maxdepth 0 -printf '%l %p\n' 2>/dev/null |
		awk -v w="${want[*]}" 'BEGIN { n = split(w, a, " "); for (i = 1; i <= n; i++) in_ns[a[i]] = 1 }
			$1 in in_ns { split($2, p, "/"); print p[5] }' | sort -n | tr '\n' ' '
}

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
		# the workload runs there as threads of the injector: no process of its own
		# (there were two, exec'd, before the workload ran in-process)
		tasks=$(ns_tasks "$prefix")
		t_check "$point: killed while the workload runs in its namespaces (threads of the injector, no process)" "1 " \
			"$([ -n "$tasks" ] && echo 1) $procs"
		procs+=$tasks
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

# a run that keeps its state elsewhere (a CTR_STATE of its own: a test's, another user's)
# is not this state's to reap, nor ours its: each sees the other's namespaces without an
# owner record, and neither reaper may take them (test_inputs' runs, whose state is the
# test's own, once took every other live run's namespaces on the machine)
mkdir -p "$out/private-state"
prefix=$(ctr_new_prefix)
"$CTR_TOP/topology/up" --prefix "$prefix" >/dev/null
CTR_STATE=$out/private-state "$CTR_TOP/topology/reap" >/dev/null
t_check "a reaper with a state directory of its own leaves another state's topology alone" 4 "$(ctr_prefix_namespaces "$prefix" | wc -l)"
"$CTR_TOP/topology/down" --prefix "$prefix"
prefix=$(ctr_new_prefix)
CTR_STATE=$out/private-state "$CTR_TOP/topology/up" --prefix "$prefix" >/dev/null
"$CTR_TOP/topology/reap" >/dev/null
t_check "the shared reaper leaves a topology whose state is elsewhere alone" 4 "$(ctr_prefix_namespaces "$prefix" | wc -l)"
CTR_STATE=$out/private-state "$CTR_TOP/topology/down" --prefix "$prefix"
t_check "...and its own topology/down removes it, state too" "0 0" \
	"$(ctr_prefix_namespaces "$prefix" | wc -l) $(find "$out/private-state" -mindepth 1 -name "ctr-*" | wc -l)"
compare "after topologies with state of two directories and their reapers"

# --- faults with nothing lost -----------------------------------------------------------------
# drive PID: until the run PID ends (at most 180 s), continue each injector that stopped
# itself at the armed point (CTR_FAULT_AT arms every cell's); 1 if it outlived the bound
drive() {
	local t0=$SECONDS p st
	while alive "$1"; do
		((SECONDS - t0 < 180)) || return 1
		if [ -s "$out/fault" ]; then
			read -r _ p <"$out/fault"
			stopped() { { read -r st <"/proc/$p/stat"; } 2>/dev/null && [[ ${st##*) } == T* ]]; }
			ctr_busywait 5000 stopped
			rm -f "$out/fault"
			kill -CONT "$p" 2>/dev/null
		fi
		ctr_sleep 0.05
	done
	wait "$1" 2>/dev/null
}
# the prefixes the cells under DIR ran on
cell_prefixes() { cat "$1"/*/prefix "$1"/*/*/prefix 2>/dev/null | sort -u; }
# after a fault: the run's namespaces and state gone once the next run reaped, the host
# as it was. WHAT PREFIXES...
after_fault() {
	local what=$1 p left=
	shift
	"$CTR_TOP/bench/repro" --scenario seq-above --out "$out/next-runs" >"$out/next" 2>&1
	t_check "$what: the next run passes" 0 $? "$(cat "$out/next")"
	for p; do
		[ -z "$(ctr_prefix_namespaces "$p")" ] && [ ! -e "$CTR_STATE/$p" ] || left+="$p "
	done
	t_check "$what: nothing of its topologies left after the next run" "" "$left" \
		"$(ip netns list | grep -E "^(${left// /|}x)" || true)"
	prefix=
	compare "after $what and the next run"
}

# a full output disk: bench/repro stops with the kernel's error and exit 1; a cell it could
# not write has no record, and every record that says pass has its cell written whole
disk=$out/disk
mkdir -p "$disk" "$out/disk-copy"
# shellcheck disable=SC2016 # the inner shell's arguments
unshare -m --propagation private bash -c 'mount -t tmpfs -o size=64k ctreset-test "$1" || exit 9
	"$2/bench/repro" --scenario seq-above --scenario seq-above/kube-proxy-drop --out "$1/runs" >"$3/disk.log" 2>&1
	echo $? >"$3/disk.rc"
	cp -a "$1/runs/." "$3/disk-copy/"' _ "$disk" "$CTR_TOP" "$out"
t_check "full disk: the tmpfs was private to the run" "" "$(findmnt -n "$disk" || true)"
t_check "full disk: exit 1" 1 "$(cat "$out/disk.rc" 2>/dev/null)" "$(cat "$out/disk.log" 2>/dev/null)"
t_check "full disk: the error says so" 1 "$(grep -c -m1 'No space left on device' "$out/disk.log")" "$(cat "$out/disk.log")"
whole=0 unwritten=0 bad=
for d in "$out"/disk-copy/*/*/; do
	d=${d%/}
	if ! grep -qx status=pass "$d/record.kv" 2>/dev/null; then
		unwritten=$((unwritten + 1))
		continue
	fi
	whole=$((whole + 1))
	for f in inject.kv verdict.kv client.pcap node.pcap backend.pcap; do [ -s "$d/$f" ] || bad+="${d##*/}/$f empty; "; done
	grep -qx 'error=-' "$d/inject.kv" || bad+="${d##*/}: injector error; "
	! grep -q '^capture_error=' "$d/inject.kv" || bad+="${d##*/}: a capture not written whole; "
done
t_check "full disk: a cell could not be written (the disk did fill)" 1 "$((unwritten > 0))" "$(ls -R "$out/disk-copy")"
t_check "full disk: every record that says pass has its cell written whole ($whole)" "" "$bad"
t_check "full disk: the closing line is not PASS" 0 "$(grep -c '^PASS' "$out/disk.log")"
mapfile -t pfx < <(cell_prefixes "$out"/disk-copy/*)
after_fault "a full disk" "${pfx[@]}"

# a capture the disk does not take whole: the injector fails (exit 1, inject.kv's
# capture_error), and the review decides nothing on a cell that says so
prefix=$(ctr_new_prefix)
"$CTR_TOP/topology/up" --prefix "$prefix" --owner $$ >/dev/null
ctr_load_topology "$prefix"
cell=$out/full-capture
mkdir -p "$cell"
ln -s /dev/full "$cell/client.pcap"
ip netns exec "$NS_BACKEND" "$CTR_BIN/ctreset-workload" server --listen "$BACKEND_EP" \
	--result "$cell/server.kv" --daemon --pidfile "$cell/server.pid"
"$CTR_BIN/ctreset-inject" --client-ns "$NS_CLIENT" --node-ns "$NS_DNAT_NODE" --backend-ns "$NS_BACKEND" \
	--node-if "$DNAT_NODE_POD_IF" --vip "$VIP_EP" --trigger seq-above --out "$cell" -- \
	"$CTR_BIN/ctreset-workload" client --connect "$VIP_EP" --result "$cell/client.kv" >"$out/inj.log" 2>&1
t_check "a capture to a full device: the injector fails" 1 $? "$(cat "$out/inj.log")"
t_check "...and inject.kv says which capture and why" \
	"capture_error=capture client: writing $cell/client.pcap: No space left on device" \
	"$(grep '^capture_error=' "$cell/inject.kv")"
kill "$(cat "$cell/server.pid")" 2>/dev/null
"$CTR_TOP/topology/down" --prefix "$prefix"
# a whole cell of the full-disk run that passed, told its client capture was cut short
good=$(grep -lx status=pass "$out"/disk-copy/*/*/record.kv | head -1)
if [ -n "$good" ]; then
	cp -a "${good%/record.kv}" "$out/cut"
	echo "capture_error=capture client: writing client.pcap: No space left on device" >>"$out/cut/inject.kv"
	"$CTR_BIN/ctreset-review" --verdict "$out/cut" --record "$out/cut/record.kv" >/dev/null 2>&1
	t_check "a cell whose capture was cut short: no verdict, no pass" "observed=inconclusive status=fail" \
		"$(grep -E '^(observed|status)=' "$out/cut/record.kv" | sort | tr '\n' ' ' | sed 's/ $//')"
else
	t_fail "no whole cell of the full-disk run to plant a cut capture in"
fi
prefix=
compare "after a capture to a full device"

# a node namespace deleted under a running matrix: every cell after it fails naming it, the
# matrix exits 1, and nothing of its topology is left
rm -f "$out/fault"
CTR_KEEP_DIR=$out/keep CTR_FAULT_AT=inject.flow CTR_FAULT_FILE=$out/fault setsid "$CTR_TOP/bench/matrix" \
	--trigger seq-above,ack-above,bad-flags --workaround none --topology cross-node --backend iptables-nft \
	--family 4 --jobs 1 --out "$out/mruns" >"$out/m.log" 2>&1 &
pid=$!
if ctr_busywait 30000 test -s "$out/fault"; then
	read -r _ ipid <"$out/fault"
	gone=$(tr '\0' ' ' <"/proc/$ipid/cmdline" | grep -o -- '--stat-ns ctr-[0-9a-f]*-nodeB' | cut -d' ' -f2)
	t_check "matrix: a node namespace to delete" 1 "$([ -n "$gone" ] && [ -e "/run/netns/$gone" ] && echo 1)"
	ip netns del "$gone"
	drive "$pid"
	t_check "matrix with $gone deleted: ends, exit 1" 1 $? "$(tail -20 "$out/m.log")"
	t_check "...the cells after it name the missing namespace" 1 \
		"$(grep -c -m1 "namespace /run/netns/$gone: No such file or directory" "$out/m.log")" "$(tail -20 "$out/m.log")"
	t_check "...no cell passed" 1 "$(grep -c '^matrix: 0 passed' "$out/m.log")" "$(tail -3 "$out/m.log")"
	after_fault "a node namespace deleted under a matrix" "${gone%-nodeB}"
else
	t_fail "matrix: never reached inject.flow" "$(cat "$out/m.log")"
	kill_group
fi

# the injector killed mid-cell: the cell fails saying so, the run goes on to its next cell
rm -f "$out/fault"
CTR_FAULT_AT=inject.flow CTR_FAULT_FILE=$out/fault setsid "$CTR_TOP/bench/repro" --scenario seq-above \
	--scenario seq-above/kube-proxy-drop --out "$out/kruns" >"$out/k.log" 2>&1 &
pid=$!
if ctr_busywait 30000 test -s "$out/fault"; then
	read -r _ ipid <"$out/fault"
	rm -f "$out/fault"
	kill -KILL "$ipid"
	drive "$pid"
	t_check "injector killed: the run ends, exit 1" 1 $? "$(cat "$out/k.log")"
	t_check "...its cell says the injector was killed" 1 \
		"$(grep -c -m1 '^error_line=ctreset-inject was killed by signal 9 (SIGKILL) mid-cell' "$out"/kruns/*/seq-above/record.kv)" \
		"$(grep '^error_line' "$out"/kruns/*/seq-above/record.kv)"
	t_check "...and the run went on to the next cell" 1 "$([ -s "$(echo "$out"/kruns/*/seq-above+kube-proxy-drop/record.kv)" ] && echo 1)"
	mapfile -t pfx < <(cell_prefixes "$out"/kruns/*)
	after_fault "the injector killed mid-cell" "${pfx[@]}"
else
	t_fail "repro: never reached inject.flow" "$(cat "$out/k.log")"
	kill_group
fi
t_done
