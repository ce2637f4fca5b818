# shellcheck shell=bash
# How bench/matrix starts its groups of cells (sourced by it): dearest first, and as many at
# once as the CPU has room for.
#
# A group's cost is the cost table's (CTR_SHARD_COSTS, bench/shard-costs: the one
# --shard balances by): its topology up and down (group=) plus each of its cells'
# (cell.TRIGGER=, cell.default= for a trigger the table lacks). The groups start dearest
# first (longest processing time first: the long waits, idle-expiry's above all, start
# early and the run ends on short groups, not on one that started last and waits alone).
#
# How many at once: a cell mostly waits (its flow, an idle timeout, a pause, a quiet
# period) and a group runs its cells one after another, so a fixed number of groups
# either leaves the CPU idle while they all wait or overloads it. With --jobs auto (the
# default) at least CTR_SCHED_FLOOR groups run (default three per CPU: what a fixed
# --jobs was before, measured as where 2 cores stop being idle on average), and every
# CTR_SCHED_SAMPLE_MS (default 300 ms) another starts when either
#   - fewer than the floor are busy and the machine is not overloaded: a group whose
#     cell is of a waiting trigger (its cost in the table at least CTR_SCHED_WAIT_PCT
#     percent of cell.default, default 125: idle-expiry, ct-flush, ct-entry-lost,
#     delayed-retransmit, connect) does not count, so the waits of several groups
#     overlap (each group says its cell in a file of the run's .sched/ as the cell
#     starts); overloaded: more processes runnable (/proc/stat procs_running) than
#     CTR_SCHED_RUNQ_MAX (default three per CPU). Past that the cells' own timing
#     stretches: a full matrix that grew to 16 groups at load 20-43 (others' benches, and
#     a second matrix) had 4 delayed-retransmit cells whose flow ended while its segment
#     was held, against 0 or 1 unexpected cell in runs at a floor of 6; or
#   - the machine's CPU (/proc/stat, every CPU's busy time) was at least
#     CTR_SCHED_IDLE_PCT percent idle (default 20) over the last sample,
# up to the cap (--max-jobs, default eight per CPU, at most 32: each group is a topology
# of five namespaces and a dozen processes). A group that starts is given a sample's time
# to show its load before the next is decided.

# ctr_sched_costs: the cost table into CTR_SCHED_COST (KEY -> ms), and the waiting
# triggers into CTR_SCHED_WAITING (TRIGGER -> 1)
declare -gA CTR_SCHED_COST=() CTR_SCHED_WAITING=()
ctr_sched_costs() {
	local k v
	CTR_SCHED_COST=([group]=300 [cell.default]=250) CTR_SCHED_WAITING=()
	[ -r "${CTR_SHARD_COSTS:-}" ] || return 0
	while IFS='=' read -r k v; do
		[[ $k =~ ^(group|cell\.[A-Za-z0-9_+.-]+)$ && $v =~ ^[0-9]+$ ]] && CTR_SCHED_COST[$k]=$v
	done <"$CTR_SHARD_COSTS"
	local pct=${CTR_SCHED_WAIT_PCT:-125} dflt=${CTR_SCHED_COST[cell.default]}
	for k in "${!CTR_SCHED_COST[@]}"; do
		[[ $k == cell.* && $k != cell.default ]] || continue
		v=${CTR_SCHED_COST[$k]}
		[ $((v * 100)) -lt $((dflt * pct)) ] || CTR_SCHED_WAITING[${k#cell.}]=1
	done
	return 0
}

# ctr_sched_dir RUN_DIR: where the groups say what they run (RUN_DIR/.sched/SLOT)
CTR_SCHED_DIR=
ctr_sched_dir() {
	CTR_SCHED_DIR=$1/.sched
	mkdir -p "$CTR_SCHED_DIR"
}
# ctr_sched_state WHAT: in a group (CTR_SCHED_SLOT set by the runner), what it runs now:
# a cell's trigger, or setup (its topology built or switched)
ctr_sched_state() {
	[ -z "${CTR_SCHED_SLOT:-}" ] || [ -z "$CTR_SCHED_DIR" ] || echo "$1" >"$CTR_SCHED_DIR/$CTR_SCHED_SLOT"
}
# ctr_sched_claim SLOT K: the K-th workaround of group SLOT taken, by the group itself
# as it comes to it (first to last) or by the scheduler splitting the group (last to
# first): a file of the run's .sched/ made with O_EXCL (noclobber), so exactly one of
# them gets it. Status 1 when the other had it. Without a run's .sched/: 0.
ctr_sched_claim() {
	[ -n "${CTR_SCHED_DIR:-}" ] && [ -n "$1" ] || return 0
	local rc
	set -C
	{ : >"$CTR_SCHED_DIR/claim.$1.$2"; } 2>/dev/null
	rc=$?
	set +C
	return $rc
}
# ctr_sched_left SLOT N -> REPLY: how many of group SLOT's N workarounds nobody took yet
ctr_sched_left() {
	local f n=0
	for f in "$CTR_SCHED_DIR/claim.$1".*; do [ -e "$f" ] && n=$((n + 1)); done
	REPLY=$(($2 - n))
}
# ctr_sched_busy SLOT... -> REPLY: how many of those groups are busy: not in a cell of a
# waiting trigger (a group that said nothing yet is building its topology: busy)
ctr_sched_busy() {
	local slot state n=0
	for slot; do
		state=
		[ -r "$CTR_SCHED_DIR/$slot" ] && read -r state <"$CTR_SCHED_DIR/$slot"
		[ -n "${CTR_SCHED_WAITING[${state:-setup}]:-}" ] || n=$((n + 1))
	done
	REPLY=$n
}

# ctr_sched_cost GROUP [FRESH] -> REPLY: a group's cost in ms ("TOPOLOGY BACKEND FAMILY
# WORKAROUND[,...] TRIGGER..."); FRESH 1: every cell builds its own topology
ctr_sched_cost() {
	local ws tts w t c cells=0 sum=0
	read -r _ _ _ ws tts <<<"$1"
	for w in ${ws//,/ }; do
		for t in $tts; do
			c=${CTR_SCHED_COST[cell.$t]:-${CTR_SCHED_COST[cell.default]}}
			sum=$((sum + c)) cells=$((cells + 1))
		done
	done
	if [ "${2:-0}" = 1 ]; then
		REPLY=$((sum + cells * CTR_SCHED_COST[group]))
	else
		REPLY=$((sum + CTR_SCHED_COST[group]))
	fi
}

# ctr_sched_order FRESH GROUP... -> CTR_SCHED_ORDER (the groups, dearest first; equal
# costs keep their order) and CTR_SCHED_COSTS (each one's cost, in that order). Before
# them all, dearest first too, the groups whose every trigger is a waiting one (the
# asymmetric topology's connect cells): their cells wait, they barely use the CPU, and
# started last by their cost they ran alone at the end, one cell after another (a TCG
# guest's full matrix: its 3 connect groups started at 403 s, when the CPU gate let them,
# and ended the run at 570 s)
ctr_sched_order() {
	local fresh=$1 i lines= c idx t waits
	shift
	CTR_SCHED_ORDER=() CTR_SCHED_COSTS=()
	local -a g=("$@")
	[ ${#g[@]} -gt 0 ] || return 0
	ctr_sched_costs
	for ((i = 0; i < ${#g[@]}; i++)); do
		ctr_sched_cost "${g[i]}" "$fresh"
		waits=1
		for t in ${g[i]#* * * * }; do [ -n "${CTR_SCHED_WAITING[$t]:-}" ] || waits=0; done
		lines+="$waits $REPLY $i"$'\n'
	done
	while read -r _ c idx; do
		CTR_SCHED_ORDER+=("${g[idx]}")
		CTR_SCHED_COSTS+=("$c")
	done < <(printf '%s' "$lines" | sort -k1,1nr -k2,2nr -k3,3n)
}

# ctr_sched_idle -> REPLY: the percentage of the machine's CPU time that was idle (idle
# and iowait) since the previous call (its first call: since boot), from /proc/stat;
# CTR_SCHED_RUNQ: the processes runnable now (its procs_running)
CTR_SCHED_LAST= CTR_SCHED_RUNQ=0
ctr_sched_idle() {
	local _c u n s i w q sq st total idle lt li k v
	{
		read -r _c u n s i w q sq st _
		# shellcheck disable=SC2034 # read by bench/matrix
		while read -r k v _; do [ "$k" != procs_running ] || { CTR_SCHED_RUNQ=$v; break; }; done
	} </proc/stat
	total=$((u + n + s + i + w + q + sq + st)) idle=$((i + w))
	REPLY=0
	if [ -n "$CTR_SCHED_LAST" ]; then
		read -r lt li <<<"$CTR_SCHED_LAST"
		((total > lt)) && REPLY=$((100 * (idle - li) / (total - lt)))
	else
		((total > 0)) && REPLY=$((100 * idle / total))
	fi
	CTR_SCHED_LAST="$total $idle"
}

# ctr_sched_sleep MS: waits without a process (a read that times out on a pipe nobody
# writes to)
CTR_SCHED_FD=
ctr_sched_sleep() {
	local frac=00$(($1 % 1000))
	[ -n "$CTR_SCHED_FD" ] || exec {CTR_SCHED_FD}<> <(:)
	read -rt "$(($1 / 1000)).${frac: -3}" -u "$CTR_SCHED_FD" _
	return 0
}
