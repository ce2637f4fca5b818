# shellcheck shell=bash
# Running one scenario on a fresh topology: shared by bench/repro and the tests.
. "$(dirname "${BASH_SOURCE[0]}")/../topology/lib.sh"

# kernel version as major.minor, and comparisons on it
ctr_kernel() { uname -r; }
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

# prints the scenarios file's rows (tab-separated, comments dropped)
ctr_scenarios() { grep -v '^[[:space:]]*\(#\|$\)' "$CTR_TOP/bench/scenarios"; }

CTR_RUN_PREFIXES=()
# removes every topology this process made; for EXIT traps
ctr_cleanup_run() {
	local p
	for p in "${CTR_RUN_PREFIXES[@]}"; do
		ctr_destroy_prefix "$p"
	done
	CTR_RUN_PREFIXES=()
}

# ctr_run_scenario DIR NAME TRIGGER WORKAROUND EXPECTED REASON
# Builds a fresh topology, applies the workaround, runs workload and injector, decides the
# verdict and tears everything down. Leaves in DIR: pcaps, inject.kv, server.kv,
# client.kv, meta.kv, verdict.kv, result.json. Returns 0 when the run completed (whatever
# the verdict), non-zero when the bench itself failed (then DIR/error says why).
ctr_run_scenario() {
	local dir=$1 name=$2 trigger=$3 workaround=$4 expected=$5 reason=$6
	local prefix t0 t1 spid ns
	mkdir -p "$dir" || return 1
	t0=$(ctr_now_ms)
	prefix=$(ctr_new_prefix)
	CTR_RUN_PREFIXES+=("$prefix")
	if ! "$CTR_TOP/topology/up" --prefix "$prefix" --owner "$$" >"$dir/topology.env" 2>"$dir/error"; then
		ctr_destroy_prefix "$prefix"
		return 1
	fi
	(
		set -u
		ctr_load_topology "$prefix"
		"$CTR_TOP/topology/workaround" apply "$workaround" --prefix "$prefix" || exit 1
		t_setup=$(ctr_now_ms)
		{
			echo "scenario=$name"
			echo "topology=$TOPOLOGY"
			echo "trigger=$trigger"
			echo "workaround=$workaround"
			echo "expected=$expected"
			echo "expected_reason=$reason"
			echo "kernel=$(ctr_kernel)"
			echo "service=$SERVICE"
			echo "prefix=$prefix"
		} >"$dir/meta.kv"
		ip netns exec "$NS_BACKEND" "$CTR_BIN/ctreset-workload" server \
			--listen "$BACKEND_IP:$TARGET_PORT" --result "$dir/server.kv" \
			--pidfile "$dir/server.pid" --daemon --timeout 5000 || exit 1
		# shellcheck disable=SC2086
		"$CTR_BIN/ctreset-inject" --client-ns "$NS_CLIENT" --node-ns "$NS_DNAT_NODE" \
			--backend-ns "$NS_BACKEND" --node-if "$DNAT_NODE_POD_IF" \
			$(for ns in $NS_NODES; do [ "$ns" = "$NS_DNAT_NODE" ] || printf -- '--stat-ns %s ' "$ns"; done) \
			--vip "$VIP:$PORT" --trigger "$trigger" --out "$dir" -- \
			"$CTR_BIN/ctreset-workload" client --connect "$VIP:$PORT" \
			--result "$dir/client.kv" --timeout 5000
		rc=$?
		t_inject=$(ctr_now_ms)
		spid=$(cat "$dir/server.pid" 2>/dev/null)
		[ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
		ctr_busywait 2000 test -e "$dir/server.kv" || echo "server left no record" >>"$dir/error"
		for ns in $NS_NODES; do
			echo "drop.$ns=$(ctr_drop_counter "$ns")"
		done >>"$dir/meta.kv"
		t_end=$(ctr_now_ms)
		{
			echo "time.setup_ms=$((t_setup - t0))"
			echo "time.inject_ms=$((t_inject - t_setup))"
			echo "time.collect_ms=$((t_end - t_inject))"
		} >>"$dir/meta.kv"
		exit $rc
	) 2>>"$dir/error"
	local rc=$? td
	td=$(ctr_now_ms)
	"$CTR_TOP/topology/down" --prefix "$prefix" 2>>"$dir/error"
	t1=$(ctr_now_ms)
	echo "time.teardown_ms=$((t1 - td))" >>"$dir/meta.kv"
	echo "duration_ms=$((t1 - t0))" >>"$dir/meta.kv"
	"$CTR_BIN/ctreset-review" --verdict "$dir" --format kv >"$dir/verdict.kv" 2>>"$dir/error" || rc=1
	"$CTR_BIN/ctreset-review" --verdict "$dir" --format json >"$dir/result.json" 2>>"$dir/error" || rc=1
	[ -s "$dir/error" ] || rm -f "$dir/error"
	return $rc
}
