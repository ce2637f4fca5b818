# shellcheck shell=bash
# The natural triggers' part of a scenario (sourced by bench/lib.sh): what the workload and
# the injector need so that the workload's own traffic meets the state. What each trigger
# needs is in its row of the injector's trigger table (`ctreset-inject --bench-args NAME`);
# this fills in the values and adds the workload side of the keepalive workaround.
#
#   {ct_timeout}    the nodes' established timeout T: CTR_IDLE_TIMEOUT s, else 1 s, and 2 s
#                   in the keepalive workaround's cells (its first probe comes after 1 s
#                   idle, TCP_KEEPIDLE's least, and must come before the entry expires)
#   {pause_ms}      T + 0.4 s: how long the stream pauses, past the expiry of the entry
#                   that the client's last (delayed, <= 40 ms) ACK refreshed; an expired
#                   entry is gone at its next lookup, so nothing longer is needed. A slow
#                   machine (CTR_TIME_SCALE S) adds 0.1 s a step of S past 1 (a TCG VM,
#                   S 20: T + 2.3 s), within the injector's bound (2 x (T + 0.3) + 5 s)
#                   and the stream's length
#   {gap_ms}        0.3 s: the bound of ct-flush's and ct-entry-lost's pause of the
#                   stream, the entry lost in it (conntrack -F's exec included); the
#                   injector ends the pause as soon as the entry is gone (the server's
#                   --resume-signal), so the bound counts only when the loss is slower:
#                   0.1 s more a step of CTR_TIME_SCALE past 1, at most 0.8 s (a TCG VM:
#                   an exec there outlasted a 0.3 s pause, and twice in 1525 cells a
#                   0.7 s one, and the client's ACK made a new, DNATed entry first:
#                   clean; past 1 s the keepalive workaround's first probe does the same)
#   {stream_ms}     T + 6 s: how long the stream lasts (it outlasts the pause); 1 s more a
#                   step of CTR_TIME_SCALE past 1 (a TCG VM, S 20: T + 25 s): on Debian
#                   5.10 under TCG and load a stream of T + 6 s had sent 4 KB when its
#                   pause ended, and its timeout's FIN was the "next segment" that leaked
#   {stall_ms}      {pause_ms} + 0.2 s: how long the http workload's nginx is stopped
#                   (bench/http.sh: ctr_http_stall); the idle starts once its socket's
#                   queue drained, a few ms after the stop
#   {backend_node}  the backend's node namespace (node B; node A on same-node)
#   keepalive       (a workaround) the client sets TCP keepalive, first probe after 1 s idle

# CTR_IDLE_TIMEOUT: 1..60 s (a longer idle would outlast the cell's bounds)
ctr_natural_check() {
	local t=${CTR_IDLE_TIMEOUT:-1}
	[[ $t =~ ^[0-9]+$ ]] && ((10#$t >= 1 && 10#$t <= 60)) ||
		ctr_die "$CTR_EXIT_USAGE" "argument \"$t\" is wrong: CTR_IDLE_TIMEOUT takes 1 to 60 (seconds)"
}

# the trigger table's bench lines, once per trigger and process: TRIGGER -> lines
declare -gA CTR_NATURAL_BENCH=()
# ctr_natural_load TRIGGER...: reads them; a runner calls it with its triggers before its
# cells fork, so that no cell execs the injector for them (one exec a trigger and run,
# not one a cell)
ctr_natural_load() {
	local t
	for t; do
		# connect is the bench's own trigger (bench/connect.sh), not the injector's
		[ "$t" != connect ] && [ -z "${CTR_NATURAL_BENCH[$t]+set}" ] || continue
		CTR_NATURAL_BENCH[$t]=$("$CTR_BIN/ctreset-inject" --bench-args "$t") ||
			ctr_die "$CTR_EXIT_FAIL" "ctreset-inject --bench-args $t failed"
	done
}

# ctr_natural_opts TRIGGER WORKAROUND DIR: sets CTR_NATURAL_INJECT_OPTS (the injector's
# options, with --server-arg options that continue CTR_SERVER_OPTS) and appends to
# CTR_CLIENT_CMD. The server and client lines are the stream workload's, the stall line
# the http workload's (nginx stopped mid-response instead of the stream's pause). 1 when
# the workload cannot be given what the trigger needs (DIR/error says why).
ctr_natural_opts() {
	local t=1 where args a gap p
	[ "$2" = keepalive ] && t=2
	[ -z "${CTR_IDLE_TIMEOUT:-}" ] || t=$((10#$CTR_IDLE_TIMEOUT))
	local -a words
	CTR_NATURAL_INJECT_OPTS=()
	ctr_natural_load "$1"
	while IFS=$'\t' read -r where args; do
		[ -n "$where" ] || continue
		args=${args//\{ct_timeout\}/$t}
		p=$((t * 1000 + 400 + 100 * (${CTR_TIME_SCALE:-1} - 1)))
		args=${args//\{pause_ms\}/$p}
		args=${args//\{stall_ms\}/$((p + 200))}
		gap=$((300 + 100 * (${CTR_TIME_SCALE:-1} - 1)))
		args=${args//\{gap_ms\}/$((gap > 800 ? 800 : gap))}
		args=${args//\{stream_ms\}/$((t * 1000 + 6000 + 1000 * (${CTR_TIME_SCALE:-1} - 1)))}
		args=${args//\{backend_node\}/${NS_NODE_B:-$NS_NODE_A}}
		read -ra words <<<"$args"
		case $where in
		inject) CTR_NATURAL_INJECT_OPTS+=("${words[@]}") ;;
		server)
			[ "$CTR_WORKLOAD" = stream ] || continue
			for a in "${words[@]}"; do CTR_NATURAL_INJECT_OPTS+=(--server-arg "$a"); done
			;;
		client) [ "$CTR_WORKLOAD" = stream ] && CTR_CLIENT_CMD+=("${words[@]}") ;;
		stall) [ "$CTR_WORKLOAD" != http ] || ctr_http_stall "$3" "${words[0]}" "$2" || return 1 ;;
		body) ;; # the http workload's, read when nginx starts (bench/http.sh)
		*) ctr_die "$CTR_EXIT_FAIL" "ctreset-inject --bench-args $1: unknown place \"$where\"" ;;
		esac
	done <<<"${CTR_NATURAL_BENCH[$1]}"
	[ "$CTR_WORKLOAD" = stream ] && [ "$2" = keepalive ] && CTR_CLIENT_CMD+=(--keepalive 1)
	return 0
}
