# shellcheck shell=bash
# A cell's trigger arguments (sourced by bench/lib.sh): what the workload and the injector
# need so that the workload's own traffic meets the state is computed by the injector, each
# value and its margin in the trigger's row (tools/lib/live/trig_*.c; `ctreset-inject
# --bench-args NAME --bench-workaround W`). This loads them, one exec a run, and hands each
# line where it goes; it computes nothing. The one name the injector cannot know,
# {backend_node} (the backend's node namespace), is the cell's.

# CTR_IDLE_TIMEOUT (the nodes' established timeout for every cell): the injector's range
ctr_natural_check() {
	local out
	[ -n "${CTR_IDLE_TIMEOUT:-}" ] || return 0
	out=$("$CTR_BIN/ctreset-inject" --bench-args seq-above --bench-timeout "$CTR_IDLE_TIMEOUT" 2>&1 >/dev/null)
	[ $? != "$CTR_EXIT_USAGE" ] || ctr_die "$CTR_EXIT_USAGE" "${out#ctreset-inject: }"
}

# the lines, once per trigger, workaround and workload: "TRIGGER WORKAROUND WORKLOAD" ->
# WHERE<TAB>ARGS lines
declare -gA CTR_NATURAL_BENCH=()
# ctr_natural_load "TRIGGER..." ["WORKAROUND..."]: reads them (workarounds: none by
# default); a runner calls it with its triggers and workarounds before its cells fork, so
# that no cell execs the injector for them (one exec a run, not one a cell)
ctr_natural_load() {
	local t w where args ts= ws= out
	local -A fresh=()
	for t in $1; do
		for w in ${2:-none}; do
			[ -z "${CTR_NATURAL_BENCH["$t $w $CTR_WORKLOAD"]+set}" ] || continue
			fresh["$t $w"]=1
			ctr_in_list "$t" "${ts//,/ }" || ts+=${ts:+,}$t
			ctr_in_list "$w" "${ws//,/ }" || ws+=${ws:+,}$w
		done
	done
	[ -n "$ts" ] || return 0
	out=$("$CTR_BIN/ctreset-inject" --bench-args "$ts" --bench-workaround "$ws" \
		--bench-workload "$CTR_WORKLOAD" --bench-scale "${CTR_TIME_SCALE:-1}" \
		${CTR_IDLE_TIMEOUT:+--bench-timeout "$CTR_IDLE_TIMEOUT"}) ||
		ctr_die "$CTR_EXIT_FAIL" "ctreset-inject --bench-args $ts failed"
	for t in "${!fresh[@]}"; do CTR_NATURAL_BENCH["$t $CTR_WORKLOAD"]=; done
	while IFS=$'\t' read -r t w where args; do
		[ -n "${fresh["$t $w"]+set}" ] || continue
		CTR_NATURAL_BENCH["$t $w $CTR_WORKLOAD"]+=$where$'\t'$args$'\n'
	done <<<"$out"
}

# ctr_natural_lines TRIGGER WORKAROUND -> REPLY: the cell's lines (loaded if they were not)
ctr_natural_lines() {
	ctr_natural_load "$1" "$2"
	REPLY=${CTR_NATURAL_BENCH["$1 $2 $CTR_WORKLOAD"]:-}
}

# ctr_natural_opts TRIGGER WORKAROUND DIR: sets CTR_NATURAL_INJECT_OPTS (the injector's
# options, with --server-arg options that continue CTR_SERVER_OPTS) and appends to
# CTR_CLIENT_CMD. The server and client lines are the stream workload's, the stall and
# body lines the http workload's (nginx stopped mid-response instead of the stream's
# pause; a longer body). 1 when the workload cannot be given what the trigger needs
# (DIR/error says why).
ctr_natural_opts() {
	local where args a lines
	local -a words
	CTR_NATURAL_INJECT_OPTS=()
	ctr_natural_lines "$1" "$2"
	lines=$REPLY
	while IFS=$'\t' read -r where args; do
		[ -n "$where" ] || continue
		args=${args//\{backend_node\}/${NS_NODE_B:-$NS_NODE_A}}
		args=${args//\{backend_ep\}/$BACKEND_EP}
		read -ra words <<<"$args"
		case $where in
		inject) CTR_NATURAL_INJECT_OPTS+=("${words[@]}") ;;
		server) for a in "${words[@]}"; do CTR_NATURAL_INJECT_OPTS+=(--server-arg "$a"); done ;;
		client) CTR_CLIENT_CMD+=("${words[@]}") ;;
		stall) ctr_http_stall "$3" "${words[@]}" || return 1 ;;
		body) ;; # read when nginx starts (bench/http.sh)
		*) ctr_die "$CTR_EXIT_FAIL" "ctreset-inject --bench-args $1: unknown place \"$where\"" ;;
		esac
	done <<<"$lines"
	return 0
}
