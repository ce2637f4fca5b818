# shellcheck shell=bash
# Running one scenario, on a fresh topology or a shared one: shared by bench/repro and the tests.
# shellcheck source=tools/lib/sh/lib.sh
. "${BASH_SOURCE[0]%/*}/../tools/lib/sh/lib.sh"
# shellcheck source=topology/up
. "${BASH_SOURCE[0]%/*}/../topology/up" # its functions: ctr_topology_up calls ctr_up_main
# shellcheck source=bench/http.sh
. "${BASH_SOURCE[0]%/*}/http.sh"
# shellcheck source=bench/triggers.sh
. "${BASH_SOURCE[0]%/*}/triggers.sh"
# shellcheck source=bench/audit.sh
. "${BASH_SOURCE[0]%/*}/audit.sh"
# shellcheck source=bench/detect.sh
. "${BASH_SOURCE[0]%/*}/detect.sh"
# shellcheck source=bench/behaviours.sh
. "${BASH_SOURCE[0]%/*}/behaviours.sh"

# kernel version as major.minor, and comparisons on it
[ -n "${CTR_KERNEL:-}" ] || read -r CTR_KERNEL </proc/sys/kernel/osrelease # (uname -r, no exec)
ctr_kernel() { echo "$CTR_KERNEL"; }
ctr_version_ge() { # A B: A >= B, both X.Y[.Z...] (the oracle's ranges are ctreset-review's)
	local re='^([0-9]+)(\.([0-9]+))?' a=0 b=0
	[[ $1 =~ $re ]] && a=$((10#${BASH_REMATCH[1]} * 10000 + 10#${BASH_REMATCH[3]:-0}))
	[[ $2 =~ $re ]] && b=$((10#${BASH_REMATCH[1]} * 10000 + 10#${BASH_REMATCH[3]:-0}))
	((a >= b))
}

# --- CPU placement -------------------------------------------------------------------------
# A runner keeps each unit of its parallel work (a matrix group, a scenario of --jobs N)
# on one CPU with every process it starts, and a sequential run on one CPU whole: a
# process then never migrates, its memory map has been live on that CPU alone, and the
# copy-on-write faults and unmaps of every fork and exec (a cell has about eight) flush
# that CPU's TLB without an IPI to the others, an IPI being a hypercall on a VM like this
# 2-CPU one. Measured here, back to back: the full matrix 345.9 CPU-seconds unplaced,
# 313.2 placed (wall 191.8 s, 185.3 s); 120 cells at --jobs 6, 23.1-30.1 CPU-seconds
# unplaced, 19.3-22.6 placed over three pairs of runs; the pair 442-450 ms, 386-408 placed.
# CTR_PIN=0 (the runners' --no-pin) leaves placement to the scheduler. Placement is speed,
# never correctness: without taskset (util-linux) nothing is placed.
: "${CTR_PIN:=1}"
# ctr_cpus -> CTR_CPUS: the CPUs this shell may run on, in order (its affinity: a cpuset
# or taskset around the run is kept)
ctr_cpus() {
	local line r a i
	CTR_CPUS=()
	while IFS= read -r line; do
		[[ $line == Cpus_allowed_list:* ]] || continue
		IFS=, read -ra r <<<"${line#*:}"
		for a in "${r[@]}"; do
			a=${a//[[:space:]]/}
			if [[ $a =~ ^([0-9]+)-([0-9]+)$ ]]; then
				for ((i = BASH_REMATCH[1]; i <= BASH_REMATCH[2]; i++)); do CTR_CPUS+=("$i"); done
			elif [[ $a =~ ^[0-9]+$ ]]; then
				CTR_CPUS+=("$a")
			fi
		done
	done </proc/self/status
	[ ${#CTR_CPUS[@]} -gt 0 ] || CTR_CPUS=(0)
}
# ctr_pin CPU [PID]: PID (default this shell, and so everything it starts from now on)
# kept on CPU
ctr_pin() {
	[ "$CTR_PIN" = 1 ] || return 0
	taskset -pc "$1" "${2:-$BASHPID}" >/dev/null 2>&1 || true
}
# ctr_place K: this shell on the K-th of its CPUs (modulo their number): the K-th unit of
# a runner's parallel work, or a sequential run (K its pid: two runs at once are spread).
# A scenario started in the background with CTR_PLACE=K set places itself so
# (ctr_run_scenario), before it starts anything.
CTR_PLACE=
ctr_place() {
	[ "$CTR_PIN" = 1 ] || return 0
	ctr_cpus
	ctr_pin "${CTR_CPUS[$1 % ${#CTR_CPUS[@]}]}"
}

# the C tools a run needs, built: dies naming the first one missing
ctr_require_tools() {
	local t
	for t in ctreset-inject ctreset-workload ctreset-review; do
		[ -x "$CTR_BIN/$t" ] || ctr_die "$CTR_EXIT_FAIL" "$CTR_BIN/$t is not built: run 'make'"
	done
}

# the scenarios file's rows (name, trigger, workaround; tab-separated, comments and blank
# lines dropped), read by bash itself (no grep: every runner starts with it):
# ctr_scenario_rows fills CTR_SCENARIO_ROWS, ctr_scenarios prints them
ctr_scenario_rows() {
	local line
	CTR_SCENARIO_ROWS=()
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] || CTR_SCENARIO_ROWS+=("$line")
	done <"$CTR_TOP/bench/scenarios"
}
ctr_scenarios() {
	ctr_scenario_rows
	[ ${#CTR_SCENARIO_ROWS[@]} -eq 0 ] || printf '%s\n' "${CTR_SCENARIO_ROWS[@]}"
}

# the oracle every cell's expectation comes from (bench/repro's and bench/matrix's):
# ctreset-review matches it, for a cell's record and for --list
: "${CTR_ORACLE:=$CTR_TOP/bench/matrix.expect}"

# ctr_oracle_ask KERNEL <CELLS: for each "TRIGGER WORKAROUND TOPOLOGY BACKEND FAMILY" line,
# "EXPECTED<tab>REASON" from CTR_ORACLE (EXPECTED empty when nothing matches) with the
# behaviours measured (CTR_BEHAVIOURS; none: the release decides); exit 2 with the reason
# when CTR_ORACLE is unreadable or has no row
ctr_oracle_ask() { "$CTR_BIN/ctreset-review" --oracle "$CTR_ORACLE" --kernel "$1" ${CTR_BEHAVIOURS:+--behaviours "$CTR_BEHAVIOURS"}; }

# ctr_cell_meta DIR NAME TRIGGER WORKAROUND [EXPECTED REASON]: the cell's coordinates in
# DIR/meta.kv, before anything runs (a cell that cannot be built has them too): the
# expectation given, else the oracle the review matches them against; CTR_CELL_META's
# lines (key=value) appended (bench/matrix --kube-proxy: oracle.workaround, oracle.note,
# kube_proxy.*)
ctr_cell_meta() {
	ctr_cell_meta_lines "$@"
	ctr_cell_meta_write "$1"
}
# ctr_cell_meta_lines DIR NAME TRIGGER WORKAROUND [EXPECTED REASON] -> CTR_META_LINES:
# those lines, not written (the injector writes them with its own: --meta), no fork
ctr_cell_meta_lines() {
	local rest=${CTR_CELL_META:-}
	CTR_META_LINES=("scenario=$2" "workload=$CTR_WORKLOAD" "topology=${CTR_TOPOLOGY:-cross-node}"
		"backend=${CTR_BACKEND:-iptables-nft}" "family=ipv${CTR_FAMILY:-4}" "trigger=$3"
		"workaround=$4")
	if [ $# -ge 5 ]; then
		CTR_META_LINES+=("expected=$5" "expected_reason=$6")
	else
		CTR_META_LINES+=("oracle=$CTR_ORACLE")
	fi
	CTR_META_LINES+=("kernel=$CTR_KERNEL" "behaviours=${CTR_BEHAVIOURS:-}"
		"behaviours_source=${CTR_BEHAVIOURS_SOURCE:-not probed: the release number decides}")
	while [ -n "$rest" ]; do
		CTR_META_LINES+=("${rest%%$'\n'*}")
		[[ $rest == *$'\n'* ]] && rest=${rest#*$'\n'} || rest=
	done
}
# ctr_cell_meta_write DIR: CTR_META_LINES into DIR/meta.kv (replaced)
ctr_cell_meta_write() { printf '%s\n' "${CTR_META_LINES[@]}" >"$1/meta.kv"; }

# ctr_cell_record DIR: the record of a cell that did not run (DIR/skip or DIR/error says
# why), for the reports: ctreset-review writes it, as it does for the cells that ran
ctr_cell_record() { "$CTR_BIN/ctreset-review" --verdict "$1" --record "$1/record.kv" >/dev/null 2>&1 || [ -s "$1/record.kv" ]; }

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

# --- workloads: what runs in the pods while the injector acts ------------------------------
# CTR_WORKLOAD=stream (default): ctreset-workload's paced stream, stopped by the bench
# once the outcome is captured. CTR_WORKLOAD=http: nginx and curl (bench/http.sh), the
# download left to finish or fail by itself.
# shellcheck disable=SC2034 # read by the runners (bench/repro)
CTR_WORKLOADS="stream http"
: "${CTR_WORKLOAD:=stream}"
# CTR_TIME_SCALE=N multiplies the workload's and injector's time bounds (a slow machine,
# e.g. a TCG VM of bench/kernels, where 3 s to see a handshake is not enough)
[[ ${CTR_TIME_SCALE:-1} =~ ^[1-9][0-9]?$ ]] || CTR_TIME_SCALE=1

# ctr_workload_server_start DIR: the backend pod's server, listening when it returns; or,
# for stream, CTR_SERVER_OPTS: the injector starts it in the backend pod once its captures
# are live, waits for its ready line, and stops it and waits for its record at the end
# (no nsenter, no daemon, no polling for server.kv: fewer processes a cell). Its pace: a
# chunk every CTR_STREAM_INTERVAL ms (default 20; a trigger's own --interval wins:
# delayed-retransmit's 1). What a cell waits for after its event, the backend's next
# segment, does not wait for the pace: the injector has the server send its next chunk at
# once (stream_ctl_kick). Measured on the full matrix, 3 runs each: 221-229 thousand
# context switches at 5 ms, 176-182 thousand at 20 with the kick, verdicts identical and
# the cells' mean times within a few ms.
[[ ${CTR_STREAM_INTERVAL:=20} =~ ^[1-9][0-9]{0,3}$ ]] ||
	ctr_die "$CTR_EXIT_USAGE" "CTR_STREAM_INTERVAL=$CTR_STREAM_INTERVAL is wrong: the stream's pace takes 1 to 9999 ms"
ctr_workload_server_start() {
	CTR_SERVER_OPTS=()
	case $CTR_WORKLOAD in
	stream)
		local a
		for a in "$CTR_BIN/ctreset-workload" server --listen "$BACKEND_EP" \
			--result "$1/server.kv" --ready-fd 3 --interval "$CTR_STREAM_INTERVAL" --timeout $((5000 * ${CTR_TIME_SCALE:-1})); do
			CTR_SERVER_OPTS+=(--server-arg "$a")
		done
		;;
	http) ctr_http_server_start "$1" && ctr_fault_point scenario.server ;;
	esac
}

# ctr_workload_client DIR -> CTR_CLIENT_CMD (run by the injector in the client pod),
# CTR_INJECT_OPTS (what the injector needs for it), CTR_CLIENT_STDOUT (where the client's
# stdout goes: DIR/client.out; /dev/null for stream, which prints nothing there)
ctr_workload_client() {
	CTR_CLIENT_STDOUT=$1/client.out
	case $CTR_WORKLOAD in
	stream)
		CTR_CLIENT_STDOUT=/dev/null
		# a stopped client waits at most 100 ms for the server's FIN (alive, it answers in
		# a few; gone, as in most reset cells, it never does and the whole wait is lost)
		CTR_CLIENT_CMD=("$CTR_BIN/ctreset-workload" client --connect "$VIP_EP"
			--result "$1/client.kv" --timeout $((5000 * ${CTR_TIME_SCALE:-1}))
			--stop-grace $((100 * ${CTR_TIME_SCALE:-1})))
		CTR_INJECT_OPTS=()
		;;
	http) ctr_http_client "$1" ;;
	esac
}

# ctr_workload_finish DIR: stops the server and leaves server.kv and client.kv in DIR
# (stream: the injector stopped its server and waited for it; this only checks)
ctr_workload_finish() {
	case $CTR_WORKLOAD in
	stream) [ -e "$1/server.kv" ] || echo "server left no record" >>"$1/error" ;; # the injector waited
	http) ctr_http_records "$1" ;;
	esac
}

# ctr_topology_up PREFIX WORKAROUND OUT ERR: topology/up (its ctr_up_main in a subshell:
# a fork, not a new bash) for CTR_TOPOLOGY, CTR_BACKEND and CTR_FAMILY (defaults
# cross-node, iptables-nft, 4), owned by CTR_OWNER (default this shell). Its exit status:
# 0, or 4 when this kernel or machine lacks a piece (ERR says which). WORKAROUND
# kube-proxy-1.N (a release's cell, ctr_kube_proxy_label) is --kube-proxy 1.N and no
# workaround.
ctr_topology_up() {
	[[ $2 == kube-proxy-[0-9]* ]] && set -- "$1" none "$3" "$4" "${2#kube-proxy-}"
	(ctr_up_main --prefix "$1" --owner "${CTR_OWNER:-$$}" --workaround "$2" ${5:+--kube-proxy "$5"} \
		--topology "${CTR_TOPOLOGY:-cross-node}" --backend "${CTR_BACKEND:-iptables-nft}" \
		--family "${CTR_FAMILY:-4}") >"$3" 2>"$4"
}

# ctr_cell_topology_up DIR PREFIX WORKAROUND: a cell's own topology (ctr_topology_up,
# state in DIR/topology.env); when it cannot be built: its namespaces removed, DIR/skip
# (this machine lacks a piece: status 4) or DIR/error, and the cell's record. Returns the
# status of topology/up.
ctr_cell_topology_up() {
	local up
	ctr_topology_up "$2" "$3" "$1/topology.env" "$1/error"
	up=$?
	[ $up != 0 ] || return 0
	ctr_destroy_prefix "$2"
	if [ $up = "$CTR_EXIT_SKIP" ]; then
		sed 's/^[^:]*: //' "$1/error" >"$1/skip"
		rm -f "$1/error"
	fi
	# (a cell whose meta.kv the injector was to write has its coordinates all the same)
	[ -e "$1/meta.kv" ] || ctr_cell_meta_write "$1"
	ctr_cell_record "$1"
	return $up
}

# ctr_counted_workaround -> REPLY: the workaround whose rule a cell's counters read: the
# topology's (WORKAROUND), or on a kube-proxy release's topology the workaround its rules
# amount to (CTR_CELL_META's oracle.workaround)
ctr_counted_workaround() {
	REPLY=$WORKAROUND
	[ -z "${KUBE_PROXY:-}" ] || [[ ${CTR_CELL_META:-} != *oracle.workaround=* ]] ||
		{ REPLY=${CTR_CELL_META#*oracle.workaround=}; REPLY=${REPLY%%$'\n'*}; }
}

# ctr_reset_topology PREFIX: makes a topology that ran a scenario fit for the next one, as
# if new: every process in its namespaces gone. Every node's conntrack table is emptied by
# the next cell's injector (--flush-ct, recorded in its inject.kv as ct_flushed/ct_left);
# the workaround and the rules stay: a cell reuses a topology only of its own topology,
# backend, family and workaround (or one switched to it: ctr_workaround_switch). The
# counters the bench reads are differences taken around each injection, so nothing else
# carries over.
ctr_reset_topology() {
	local ns=() f pids
	for f in /run/netns/"$1"-*; do
		[ -e "$f" ] && ns+=("${f##*/}")
	done
	[ ${#ns[@]} -gt 0 ] || return 1
	pids=$(printf 'netns pids %s\n' "${ns[@]}" | ip -force -batch - 2>/dev/null)
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null
	return 0
}

# One topology for scenarios run one after another (bench/repro, bench/soak, a matrix
# group), named by CTR_SHARED: each scenario runs as `CTR_REUSE_PREFIX=$CTR_SHARED
# CTR_KEEP_TOPOLOGY=1 ctr_run_scenario ...` between ctr_shared_switch and
# ctr_shared_keep (the matrix builds its group's topology itself); ctr_shared_end
# removes it.
CTR_SHARED=
# ctr_shared_switch WORKAROUND: the shared topology made fit for a scenario with
# WORKAROUND (ctr_workaround_switch_prefix: the topology's variables in its locals, no
# fork), or removed when it cannot be (the scenario then builds the next one)
ctr_shared_switch() {
	[ -z "$CTR_SHARED" ] || ctr_workaround_switch_prefix "$CTR_SHARED" "$1" || ctr_shared_end
}
# ctr_shared_keep DIR: after a scenario in DIR: the topology it built, when it is up, is
# the shared one
ctr_shared_keep() {
	[ -z "$CTR_SHARED" ] || return 0
	{ read -r CTR_SHARED <"$1/prefix" && [ -e "$CTR_STATE/$CTR_SHARED/topology.env" ] &&
		[ -e "/run/netns/$CTR_SHARED-nodeA" ]; } 2>/dev/null || CTR_SHARED=
}
ctr_shared_end() {
	[ -z "$CTR_SHARED" ] || ctr_destroy_prefix "$CTR_SHARED"
	CTR_SHARED=
}

# kube-proxy's nfacct object: releases from 1.31 count their INVALID DROP through it (the
# metric kubeproxy_iptables_ct_state_invalid_dropped_packets_total is this counter), read
# over netlink by each cell's injector (--nfacct)
CTR_NFACCT_NAME=ct_state_invalid_dropped_pkts

# The injector's options, built by ctr_run_scenario (one cell) and ctr_run_cells (a
# group's cells in one injector) alike, with no fork.
# ctr_inject_topology_opts REUSE -> CTR_TOPO_OPTS: those of the loaded topology, the same
# for each of its cells: its namespaces, interfaces and VIP; the nodes whose statistics
# the injector reads; the workaround rule's counters (and a kube-proxy release's nfacct
# object's), read over netlink in every node after its reset and flush and at its end,
# what moved written into meta.kv (drop.NS, nfacct.NS: the evidence of which node
# stopped the segment). On a reused topology (REUSE, its prefix, not empty) every node's
# conntrack table flushed first and, for the stream workload, every process left in its
# namespaces killed first (the http workload's are: ctr_reset_topology).
ctr_inject_topology_opts() {
	local f ns
	CTR_TOPO_OPTS=(--client-ns "$NS_CLIENT" --node-ns "$NS_DNAT_NODE" --backend-ns "$NS_BACKEND"
		--client-if "$CLIENT_CAPTURE_IF" --node-if "$DNAT_NODE_POD_IF" --vip "$VIP_EP")
	if [ -n "$1" ] && [ "$CTR_WORKLOAD" = stream ]; then
		for f in /run/netns/"$1"-*; do
			[ -e "$f" ] && CTR_TOPO_OPTS+=(--reset-ns "${f##*/}")
		done
	fi
	ctr_counted_workaround
	ctr_workaround_counter_spec "$REPLY" "$BACKEND" "$FAMILY"
	[ -z "$REPLY" ] || CTR_TOPO_OPTS+=(--count "$REPLY")
	[ -z "${KUBE_PROXY:-}" ] || CTR_TOPO_OPTS+=(--nfacct "$CTR_NFACCT_NAME")
	for ns in $NS_NODES; do
		[ "$ns" = "$NS_DNAT_NODE" ] || CTR_TOPO_OPTS+=(--stat-ns "$ns")
		[ -z "$1" ] || CTR_TOPO_OPTS+=(--flush-ct "$ns")
	done
	# a client without an address of its own on the capture device (nflog)
	[ "$CLIENT_CAPTURE_IF" = "$CLIENT_IF" ] || CTR_TOPO_OPTS+=(--client-ip "$CLIENT_IP")
}
# ctr_inject_cell_opts DIR TRIGGER WORKAROUND -> CTR_CELL_OPTS: one cell's (its directory,
# trigger, server - CTR_SERVER_OPTS, ctr_workload_server_start's -, the trigger's own
# options, the workload's, the time bounds after them) and CTR_CLIENT_CMD, the client the
# injector runs after `--`; 1 when the workload cannot be given what the trigger needs
# (ctr_natural_opts: DIR/error says why)
ctr_inject_cell_opts() {
	local rc=0
	ctr_workload_client "$1"
	ctr_natural_opts "$2" "$3" "$1" || rc=1
	CTR_CELL_OPTS=(--out "$1" --trigger "$2" "${CTR_SERVER_OPTS[@]}" "${CTR_NATURAL_INJECT_OPTS[@]}"
		"${CTR_INJECT_OPTS[@]}" --flow-timeout $((3000 * ${CTR_TIME_SCALE:-1}))
		--settle $((1000 * ${CTR_TIME_SCALE:-1})) --quiet $((30 * ${CTR_TIME_SCALE:-1})))
	return $rc
}

# ctr_run_scenario DIR NAME TRIGGER WORKAROUND [EXPECTED REASON]
# Builds a fresh topology with the workaround (CTR_TOPOLOGY, CTR_BACKEND, CTR_FAMILY pick
# which: see ctr_topology_up), runs the workload (CTR_WORKLOAD) and the injector, decides
# the verdict and tears everything down, in a subshell of its own: on SIGTERM/SIGINT it
# stops its injector and removes its namespaces before it exits. With CTR_REUSE_PREFIX
# set, it runs on that topology instead (built by the caller with the same workaround),
# resets it first (the stream workload: the injector's --reset-ns, recorded in inject.kv
# as reset_killed.*; http: ctr_reset_topology) and leaves it up; with CTR_KEEP_TOPOLOGY=1
# it builds its own and leaves that up (DIR/prefix names it). Without EXPECTED, the
# expectation is CTR_ORACLE's for the cell (ctr_cell_meta). Leaves in DIR: pcaps,
# inject.kv, server.kv, client.kv, meta.kv, verdict.kv, result.json and record.kv, the
# cell's record the reports are rendered from (and for http: nginx/ with its
# configuration and logs, client.out, curl.err); a cell that could not be built leaves
# its record too. Returns 0 when the run completed
# (whatever the verdict), 4 when this machine cannot build the cell (DIR/skip says why),
# else non-zero (DIR/error says why).
ctr_run_scenario() (
	[ -z "$CTR_PLACE" ] || ctr_place "$CTR_PLACE"
	dir=$1 trigger=$3 workaround=$4
	reuse=${CTR_REUSE_PREFIX:-} keep=
	[ -n "$reuse" ] || keep=${CTR_KEEP_TOPOLOGY:-}
	inj_pid= rc=0
	[ -d "$dir" ] || mkdir -p "$dir" || exit 1
	t0_us=${EPOCHREALTIME/[.,]/} t0=$((t0_us / 1000))
	# one hand-over: the injector writes meta.kv once (the lines given with --meta and
	# its own) and reviews the cell in-process (--review): for the stream workload on a
	# topology left up after the cell (nothing of the cell's is left to do after the
	# injector), without the detector. Else meta.kv is written here and the review runs
	# after: http's records, the detector's counts and a topology's teardown come after
	# the injector. A cell the injector leaves no record.kv of (killed, refused) is
	# finished here the same way.
	oneshot= flushed=0
	[ "$CTR_WORKLOAD" = stream ] && [ "${CTR_DETECT:-0}" != 1 ] && [ -n "$reuse$keep" ] && oneshot=1
	ctr_cell_meta_lines "$@"
	meta_flush() { # the lines not yet in DIR/meta.kv (the first: the file replaced)
		local i
		for ((i = flushed; i < ${#CTR_META_LINES[@]}; i++)); do
			printf '%s\n' "${CTR_META_LINES[i]}"
		done >>"$dir/meta.kv"
		flushed=${#CTR_META_LINES[@]}
	}
	[ -n "$oneshot" ] || { rm -f "$dir/meta.kv"; meta_flush; }
	if [ -n "$reuse" ]; then
		prefix=$reuse
	else
		ctr_new_prefix_reply
		prefix=$REPLY
	fi
	echo "$prefix" >"$dir/prefix"
	abort() {
		[ -n "$inj_pid" ] && kill -TERM "$inj_pid" 2>/dev/null && wait "$inj_pid"
		ctr_detect_abort
		[ "$CTR_WORKLOAD" = http ] && ctr_nginx_stop "$dir/nginx"
		[ -n "$reuse" ] || ctr_destroy_prefix "$prefix"
		exit 130
	}
	trap abort TERM INT
	# the cell finished here: after the injector, its facts into meta.kv, the review
	ctr_run_scenario_finish() {
		# a one-shot injector that left no record: meta.kv whole from here
		[ "$flushed" != 0 ] || { rm -f "$dir/meta.kv"; meta_flush; }
		ctr_now; t_inject=$REPLY
		ctr_workload_finish "$dir"
		ctr_now; t_end=$REPLY
		[ -n "$reuse$keep" ] || ctr_destroy_prefix "$prefix" 2>>"$dir/error"
		ctr_now; t1=$REPLY
		{
			echo "time.setup_ms=$((t_setup - t0))"
			echo "time.inject_ms=$((t_inject - t_setup))"
			echo "time.collect_ms=$((t_end - t_inject))"
			echo "time.teardown_ms=$((t1 - t_end))"
			echo "duration_ms=$((t1 - t0))"
		} >>"$dir/meta.kv"
		# one review, every record: the verdict's kv and json, and the cell's record (none has
		# time.verdict_ms: it is written after)
		"$CTR_BIN/ctreset-review" --verdict "$dir" --format kv --json-out "$dir/result.json" \
			--record "$dir/record.kv" >"$dir/verdict.kv" 2>>"$errf" || rc=1
		ctr_now
		echo "time.verdict_ms=$((REPLY - t1))" >>"$dir/meta.kv"
	}
	errf=$dir/error done_by_injector=
	if [ -n "$reuse" ]; then
		# what the injector and the review say on stderr goes to a scratch file of the
		# topology, copied into DIR/error only when not empty: no empty file to rm a cell
		errf=$CTR_STATE/$prefix/cell.err
		: >"$errf"
		ctr_load_topology "$prefix"
		# (the stream workload's namespaces are reset by the injector: --reset-ns)
		if [ "$CTR_WORKLOAD" != stream ]; then
			ctr_reset_topology "$prefix" 2>"$dir/error" || { echo "resetting $prefix failed" >>"$dir/error"; exit 1; }
		fi
	else
		ctr_cell_topology_up "$dir" "$prefix" "$workaround" || exit
		ctr_load_topology "$prefix"
	fi
	ctr_now; t_setup=$REPLY
	reused=0
	[ -z "$reuse" ] || reused=1
	# shellcheck disable=SC2030 # this cell's, in its subshell (ctr_run_cells has its own)
	CTR_META_LINES+=("service=$SERVICE" "prefix=$prefix" "reused_topology=$reused")
	[ -n "$oneshot" ] || meta_flush
	ctr_inject_topology_opts "$reuse"
	if ctr_workload_server_start "$dir"; then
		ctr_inject_cell_opts "$dir" "$trigger" "$workaround" || rc=1
		extra=()
		if [ -n "$oneshot" ]; then
			extra+=(--review --t0-us "$t0_us")
			for a in "${CTR_META_LINES[@]}"; do extra+=(--meta "$a"); done
		fi
		ctr_detect_start "$dir"
		# in the background, so that a signal reaches the trap at once; the client's
		# stdout (curl's --write-out) is the injector's
		"$CTR_BIN/ctreset-inject" "${CTR_TOPO_OPTS[@]}" "${CTR_CELL_OPTS[@]}" "${extra[@]}" -- \
			"${CTR_CLIENT_CMD[@]}" >"$CTR_CLIENT_STDOUT" 2>>"$errf" &
		inj_pid=$!
		wait "$inj_pid"
		inj_rc=$?
		inj_pid=
		# the injector finished the cell (its record.kv is there): nothing of it is left
		[ -z "$oneshot" ] || [ ! -e "$dir/record.kv" ] || done_by_injector=1
		if [ $inj_rc != 0 ]; then
			rc=1
			# exit 4: this machine cannot cause the trigger (e.g. no NFQUEUE): a skip,
			# with its reason
			[ -n "$done_by_injector" ] || [ $inj_rc != "$CTR_EXIT_SKIP" ] ||
				sed -n 's/^skip=//p' "$dir/inject.kv" >"$dir/skip"
			# killed (by a person, the OOM killer): said first, before what it left undone
			((inj_rc <= 128)) || echo "ctreset-inject was killed by signal $((inj_rc - 128)) (SIG$(kill -l $((inj_rc - 128)))) mid-cell: no record of the event" >>"$dir/error"
		fi
		ctr_detect_stop "$dir"
	else
		rc=1
	fi
	[ -n "$done_by_injector" ] || ctr_run_scenario_finish
	[ ! -e "$dir/client.out" ] || [ -s "$dir/client.out" ] || rm -f "$dir/client.out"
	if [ "$errf" != "$dir/error" ] && [ -s "$errf" ]; then
		IFS= read -r -d '' line <"$errf"
		printf '%s' "$line" >>"$dir/error"
	fi
	[ ! -e "$dir/error" ] || [ -s "$dir/error" ] || rm -f "$dir/error"
	# the record again with the whole error, once it is all there (the review's own
	# message came after its record)
	[ ! -e "$dir/error" ] || ctr_cell_record "$dir"
	exit $rc
)

# ctr_run_cells DIR NAME WORKAROUND TRIGGER...: the cells DIR/TRIGGER+WORKAROUND (scenario
# NAME/TRIGGER/WORKAROUND) one after another on the shared topology CTR_REUSE_PREFIX, each
# as ctr_run_scenario runs it there, all handed to one `ctreset-inject --cells` (each cell
# a fork of it, no exec: no bash subshell, no injector start a cell). Their arguments are
# built here with no fork (the options they share once; each cell's words NUL-separated
# into the topology's state, CTR_STATE/PREFIX/cells). The injector runs in the background:
# a signal reaches the caller's trap at once, and ctr_cells_stop passes it on. Where the
# one-shot path does not apply (the http workload, --detect, no CTR_REUSE_PREFIX):
# ctr_run_scenario per cell. Returns 0, or the injector's 130 when it was stopped.
CTR_CELLS_PID=
ctr_run_cells() {
	local dir=$1 name=$2 w=$3 prefix=${CTR_REUSE_PREFIX:-} t d a list st
	local -a common=() cell=()
	shift 3
	[ $# -gt 0 ] || return 0 # (printf would write one empty word: a cell with none)
	if [ "$CTR_WORKLOAD" != stream ] || [ "${CTR_DETECT:-0}" = 1 ] || [ -z "$prefix" ]; then
		for t; do
			ctr_sched_state "$t"
			ctr_run_scenario "$dir/$t+$w" "$name/$t/$w" "$t" "$w"
		done
		return 0
	fi
	ctr_load_topology "$prefix"
	ctr_inject_topology_opts "$prefix"
	common=("${CTR_TOPO_OPTS[@]}" --t0-us "${EPOCHREALTIME/[.,]/}")
	[ -z "${CTR_SCHED_SLOT:-}" ] || [ -z "${CTR_SCHED_DIR:-}" ] ||
		common+=(--cell-state "$CTR_SCHED_DIR/$CTR_SCHED_SLOT")
	for t; do
		d=$dir/$t+$w
		[ -d "$d" ] || mkdir -p "$d" || return 1
		echo "$prefix" >"$d/prefix"
		ctr_cell_meta_lines "$d" "$name/$t/$w" "$t" "$w"
		CTR_META_LINES+=("service=$SERVICE" "prefix=$prefix" "reused_topology=1")
		ctr_workload_server_start "$d"
		ctr_inject_cell_opts "$d" "$t" "$w"
		cell+=("${CTR_CELL_OPTS[@]}")
		for a in "${CTR_META_LINES[@]}"; do cell+=(--meta "$a"); done
		cell+=(-- "${CTR_CLIENT_CMD[@]}" '')
	done
	list=$CTR_STATE/$prefix/cells
	printf '%s\0' "${cell[@]}" >"$list" || return 1
	# LD_BIND_NOW: every library's functions bound once in the batch, not again in each
	# cell's fork (the injector unsets it for what it runs)
	LD_BIND_NOW=1 "$CTR_BIN/ctreset-inject" "${common[@]}" --cells "$list" >/dev/null &
	CTR_CELLS_PID=$!
	wait "$CTR_CELLS_PID"
	st=$?
	# (a trap that ran meanwhile waited for it itself)
	CTR_CELLS_PID=
	[ $st != 130 ] || return 130
	return 0
}
# ctr_cells_stop: in a trap, the running ctr_run_cells' injector stopped (SIGTERM: its
# running cell finished, no other started) and waited for
ctr_cells_stop() {
	[ -n "$CTR_CELLS_PID" ] || return 0
	kill -TERM "$CTR_CELLS_PID" 2>/dev/null
	wait "$CTR_CELLS_PID" 2>/dev/null
	CTR_CELLS_PID=
}
