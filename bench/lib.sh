# shellcheck shell=bash
# Running one scenario on a fresh topology: shared by bench/repro and the tests.
. "${BASH_SOURCE[0]%/*}/../topology/lib.sh"

# kernel version as major.minor, and comparisons on it
CTR_KERNEL=${CTR_KERNEL:-$(uname -r)}
ctr_kernel() { echo "$CTR_KERNEL"; }
ctr_version_ge() { # A B: A >= B, both X.Y[.Z...]
	local a b
	a=$(echo "$1" | awk -F. '{printf "%d%04d", $1, $2}')
	b=$(echo "$2" | awk -F. '{printf "%d%04d", $1, $2}')
	((a >= b))
}

# ctr_expected SPEC KERNEL: the verdict SPEC expects on KERNEL, "" if no entry matches
ctr_expected() {
	local entry verdict range IFS=,
	for entry in $1; do
		verdict=${entry%%@*}
		if [[ $entry != *@* ]]; then
			echo "$verdict"; return
		fi
		range=${entry#*@}
		case $range in
		'>='*) ctr_version_ge "$2" "${range#>=}" && { echo "$verdict"; return; } ;;
		'<'*) ctr_version_ge "$2" "${range#<}" || { echo "$verdict"; return; } ;;
		*) ctr_die "$CTR_EXIT_FAIL" "bad kernel range '$range' in expectation '$1'" ;;
		esac
	done
	echo ""
}

# the C tools a run needs, built: dies naming the first one missing
ctr_require_tools() {
	local t
	for t in ctreset-inject ctreset-workload ctreset-review; do
		[ -x "$CTR_BIN/$t" ] || ctr_die "$CTR_EXIT_FAIL" "$CTR_BIN/$t is not built: run 'make'"
	done
}

# prints the scenarios file's rows (tab-separated, comments dropped)
ctr_scenarios() { grep -v '^[[:space:]]*\(#\|$\)' "$CTR_TOP/bench/scenarios"; }

# removes every topology whose owner is PID (default: this shell): the safety net of a
# runner's EXIT trap, after its scenarios had their chance to clean up themselves
ctr_cleanup_owned() {
	local pid=${1:-$$} f owner
	for f in "$CTR_STATE"/ctr-*/owner; do
		[ -e "$f" ] || continue
		read -r owner _ <"$f"
		[ "$owner" = "$pid" ] && ctr_destroy_prefix "$(basename "$(dirname "$f")")"
	done
	return 0
}

# the first SKIP reason left by the scenarios under DIR (ctr_run_scenario's DIR/skip)
ctr_skip_reason() {
	local f
	for f in "$1"/*/skip; do
		[ -s "$f" ] && { head -1 "$f"; return 0; }
	done
	return 1
}

# ctr_run_scenario DIR NAME TRIGGER WORKAROUND EXPECTED REASON
# Builds a fresh topology with the workaround, runs workload and injector, decides the
# verdict and tears everything down, in a subshell of its own: on SIGTERM/SIGINT it stops
# its injector and removes its namespaces before it exits. Leaves in DIR: pcaps,
# inject.kv, server.kv, client.kv, meta.kv, verdict.kv, result.json. Returns 0 when the
# run completed (whatever the verdict), 4 when this kernel cannot build the topology
# (DIR/skip says why), another non-zero status when the bench itself failed (DIR/error).
ctr_run_scenario() (
	dir=$1 name=$2 trigger=$3 workaround=$4 expected=$5 reason=$6
	owner=${CTR_OWNER:-$$}
	inj_pid= rc=0
	mkdir -p "$dir" || exit 1
	ctr_now; t0=$REPLY
	prefix=$(ctr_new_prefix)
	echo "$prefix" >"$dir/prefix"
	abort() {
		[ -n "$inj_pid" ] && kill -TERM "$inj_pid" 2>/dev/null && wait "$inj_pid"
		ctr_destroy_prefix "$prefix"
		exit 130
	}
	trap abort TERM INT
	# the topology scripts run sourced in subshells: a fork, not a new bash each
	(set -- --prefix "$prefix" --owner "$owner" --workaround "$workaround"; . "$CTR_TOP/topology/up") \
		>"$dir/topology.env" 2>"$dir/error"
	rc=$?
	if [ $rc != 0 ]; then
		ctr_destroy_prefix "$prefix"
		# this kernel cannot run it at all: the runner reports a SKIP, not a verdict
		[ $rc = "$CTR_EXIT_SKIP" ] && cp "$dir/error" "$dir/skip"
		exit $rc
	fi
	ctr_load_topology "$prefix"
	ctr_now; t_setup=$REPLY
	{
		echo "scenario=$name"
		echo "topology=$TOPOLOGY"
		echo "trigger=$trigger"
		echo "workaround=$workaround"
		echo "expected=$expected"
		echo "expected_reason=$reason"
		echo "kernel=$CTR_KERNEL"
		echo "service=$SERVICE"
		echo "prefix=$prefix"
	} >"$dir/meta.kv"
	if nsenter --net="/run/netns/$NS_BACKEND" "$CTR_BIN/ctreset-workload" server \
		--listen "$BACKEND_IP:$TARGET_PORT" --result "$dir/server.kv" \
		--pidfile "$dir/server.pid" --daemon --timeout 5000 2>>"$dir/error"; then
		ctr_fault_point scenario.server
		stat_ns=()
		for ns in $NS_NODES; do
			[ "$ns" = "$NS_DNAT_NODE" ] || stat_ns+=(--stat-ns "$ns")
		done
		# in the background, so that a signal reaches the trap at once
		"$CTR_BIN/ctreset-inject" --client-ns "$NS_CLIENT" --node-ns "$NS_DNAT_NODE" \
			--backend-ns "$NS_BACKEND" --node-if "$DNAT_NODE_POD_IF" "${stat_ns[@]}" \
			--vip "$VIP:$PORT" --trigger "$trigger" --out "$dir" -- \
			"$CTR_BIN/ctreset-workload" client --connect "$VIP:$PORT" \
			--result "$dir/client.kv" --timeout 5000 2>>"$dir/error" &
		inj_pid=$!
		wait "$inj_pid" || rc=1
		inj_pid=
	else
		rc=1
	fi
	ctr_now; t_inject=$REPLY
	read -r spid <"$dir/server.pid" 2>/dev/null && kill -TERM "$spid" 2>/dev/null
	ctr_busywait 2000 test -e "$dir/server.kv" || echo "server left no record" >>"$dir/error"
	# the DROP rule's counters say which node stopped the segment
	if [ "$WORKAROUND" = kube-proxy-drop ]; then
		for ns in $NS_NODES; do
			ctr_drop_counter "$ns"
			echo "drop.$ns=$REPLY"
		done >>"$dir/meta.kv"
	fi
	ctr_now; t_end=$REPLY
	ctr_destroy_prefix "$prefix" 2>>"$dir/error"
	ctr_now; t1=$REPLY
	{
		echo "time.setup_ms=$((t_setup - t0))"
		echo "time.inject_ms=$((t_inject - t_setup))"
		echo "time.collect_ms=$((t_end - t_inject))"
		echo "time.teardown_ms=$((t1 - t_end))"
		echo "duration_ms=$((t1 - t0))"
	} >>"$dir/meta.kv"
	"$CTR_BIN/ctreset-review" --verdict "$dir" --format kv >"$dir/verdict.kv" 2>>"$dir/error" || rc=1
	ctr_now
	echo "time.verdict_ms=$((REPLY - t1))" >>"$dir/meta.kv"
	"$CTR_BIN/ctreset-review" --verdict "$dir" --format json >"$dir/result.json" 2>>"$dir/error" || rc=1
	[ -s "$dir/error" ] || rm -f "$dir/error"
	exit $rc
)
