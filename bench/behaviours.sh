# shellcheck shell=bash
# Kernel behaviours, measured: which of the netfilter changes the oracle's rows depend on
# (tools/lib/review/behaviour.h) the running kernel has, found by probe cells on a
# private topology, once per run; bench/repro and bench/matrix judge every cell by them
# (each cell's meta.kv carries behaviours= and behaviours_source=, ctreset-review reads
# them). The release number decides only what no probe measured, and the output says so.
#
#   ignore-delayed (6e250dcbff1d, v6.1): the probe cell is seq-below (the Kubernetes e2e
#     packet, seq = the client's ack - 100000) on cross-node/iptables-nft/ipv4 without a
#     workaround. With the behaviour conntrack IGNOREs it ("SEQ is under lower bound"):
#     it reaches the client from the VIP (outcome.probe_natted_at_client=1); without it,
#     INVALID: it reaches the client from the backend's own address
#     (outcome.leaked_at_client=1). Anything else (not injected, not seen) measures
#     nothing, and the release decides.
#   rcvwnd-workaround (cf97769c761a, v6.0, 5.19.9, 5.15.68): not probed. It only moves
#     td_end past an overshoot, the segment itself stays INVALID before ignore-delayed
#     (whose probe covers the verdicts): no cell's verdict depends on it, and seeing it
#     takes an ACK of the overshoot from the client, which no trigger sends. The release
#     decides, said as such.
#
# A run started by another (bench/kernels' guest runs bench/repro, then bench/matrix)
# takes the behaviours its parent measured: CTR_BEHAVIOURS and CTR_BEHAVIOURS_SOURCE are
# exported. CTR_BEHAVIOURS_PROBE=0 skips the probe (the release decides, said as such).

# ctr_behaviours DIR: measures into DIR (DIR/behaviours.kv; the probe cell's directory
# DIR/probe/ignore-delayed, deep enough and its record renamed probe-record.kv so that no
# runner or test takes it for one of the run's cells) unless a parent did; sets and exports CTR_BEHAVIOURS (NAME=0|1,...: what was measured)
# and CTR_BEHAVIOURS_SOURCE (one line: probed, how long, and what the release decided)
ctr_behaviours() {
	local dir=$1 t0 kv probe_ms natted leaked injected
	[ -z "${CTR_BEHAVIOURS_SOURCE:-}" ] || return 0
	CTR_BEHAVIOURS=
	if [ "${CTR_BEHAVIOURS_PROBE:-1}" = 0 ]; then
		CTR_BEHAVIOURS_SOURCE="not probed (CTR_BEHAVIOURS_PROBE=0): every behaviour from the release number $CTR_KERNEL"
		export CTR_BEHAVIOURS CTR_BEHAVIOURS_SOURCE
		return 0
	fi
	ctr_now
	t0=$REPLY
	mkdir -p "$dir" || ctr_die "$CTR_EXIT_FAIL" "cannot create $dir"
	# the probe cell on a topology of its own (never the run's shared one), whatever
	# topology, backend, family and workload the run is for
	(
		# shellcheck disable=SC2034 # read by ctr_run_scenario (CTR_PLACE: one CPU, as a
		# sequential run's)
		CTR_REUSE_PREFIX= CTR_KEEP_TOPOLOGY= CTR_PLACE=$$ CTR_CELL_META= KUBE_PROXY=
		export CTR_TOPOLOGY=cross-node CTR_BACKEND=iptables-nft CTR_FAMILY=4 CTR_WORKLOAD=stream
		export CTR_BEHAVIOURS= CTR_BEHAVIOURS_SOURCE=probe
		ctr_run_scenario "$dir/probe/ignore-delayed" probe-ignore-delayed seq-below none
	) >/dev/null 2>"$dir/probe.err"
	mv -f "$dir/probe/ignore-delayed/record.kv" "$dir/probe/ignore-delayed/probe-record.kv" 2>/dev/null
	ctr_now
	probe_ms=$((REPLY - t0))
	kv=$dir/probe/ignore-delayed/inject.kv
	injected=$(sed -n 's/^injected=//p' "$kv" 2>/dev/null)
	natted=$(sed -n 's/^outcome.probe_natted_at_client=//p' "$kv" 2>/dev/null)
	leaked=$(sed -n 's/^outcome.leaked_at_client=//p' "$kv" 2>/dev/null)
	if [ "$injected" = 1 ] && [ "$natted" = 1 ] && [ "$leaked" = 0 ]; then
		CTR_BEHAVIOURS=ignore-delayed=1
	elif [ "$injected" = 1 ] && [ "$leaked" = 1 ]; then
		CTR_BEHAVIOURS=ignore-delayed=0
	fi
	if [ -n "$CTR_BEHAVIOURS" ]; then
		CTR_BEHAVIOURS_SOURCE="probed in $probe_ms ms: $CTR_BEHAVIOURS (seq-below's segment reached the client $([ "$natted" = 1 ] && echo "from the VIP: IGNOREd" || echo "from the backend's own address: INVALID")); rcvwnd-workaround not probed: from the release number $CTR_KERNEL"
	else
		CTR_BEHAVIOURS_SOURCE="probe failed in $probe_ms ms (injected=${injected:-?} natted=${natted:-?} leaked=${leaked:-?}; $dir/probe/ignore-delayed): every behaviour from the release number $CTR_KERNEL"
	fi
	export CTR_BEHAVIOURS CTR_BEHAVIOURS_SOURCE
	printf 'behaviours=%s\nbehaviours_source=%s\nprobe_ms=%s\n' "$CTR_BEHAVIOURS" "$CTR_BEHAVIOURS_SOURCE" "$probe_ms" >"$dir/behaviours.kv"
}

# ctr_behaviours_line: what the run's cells are judged by, for a runner's header: the
# measured list and, for every behaviour, the value the oracle will use
ctr_behaviours_line() {
	printf 'behaviours: %s (%s)\n' "$("$CTR_BIN/ctreset-review" --behaviours-of "$CTR_KERNEL" ${CTR_BEHAVIOURS:+--behaviours "$CTR_BEHAVIOURS"} 2>/dev/null || echo "${CTR_BEHAVIOURS:-none measured}")" "$CTR_BEHAVIOURS_SOURCE"
}
