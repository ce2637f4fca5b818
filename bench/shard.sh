# shellcheck shell=bash
# Sharding a bench/matrix run (sourced by bench/matrix): which groups of cells this run
# takes of the selection, decided by ctreset-shard (tools/shard.c; the split and the
# selection's hash in tools/lib/review/shard.c) from --shard I/N, CTR_SHARD, or
# JOB_COMPLETION_INDEX with CTR_SHARD_TOTAL (that order), balanced by the cost table
# CTR_SHARD_COSTS (default bench/shard-costs). Every run records its shard, the selection
# (every cell of the unsharded run) and its hash in run.kv: ctreset-review --render
# FORMAT DIR... merges shards and refuses an incomplete set.

: "${CTR_SHARD_COSTS:=$CTR_TOP/bench/shard-costs}"

# ctr_shard_plan SHARD GROUP... : SHARD is --shard's value ("" when not given); each GROUP
# a bench/matrix group "TOPOLOGY BACKEND FAMILY WORKAROUND[,WORKAROUND...] TRIGGER...".
# Sets CTR_SHARD_PICK (the indices of the shard's groups, a space-separated list),
# CTR_SHARD (I/N), CTR_SHARD_INFO (the plan's key=value lines for run.kv) and
# CTR_SHARD_SAY (one line for the run's header). Non-zero (the reason printed) on a bad
# --shard or environment, or when ctreset-shard cannot run.
# shellcheck disable=SC2034 # its outputs, for bench/matrix
ctr_shard_plan() {
	local shard=$1 g to b f ws tts w t line out rc
	local -a lines=() args=(--plan --costs "$CTR_SHARD_COSTS")
	shift
	[ -z "$shard" ] || args+=(--shard "$shard")
	for g in "$@"; do
		read -r to b f ws tts <<<"$g"
		line=
		for w in ${ws//,/ }; do
			for t in $tts; do line+="${line:+ }$to-$b-ipv$f/$t+$w"; done
		done
		lines+=("$line")
	done
	out=$(printf '%s\n' "${lines[@]}" | "$CTR_BIN/ctreset-shard" "${args[@]}")
	rc=$?
	[ $rc = 0 ] || return $rc
	CTR_SHARD_PICK=$(sed -n 's/^group=//p' <<<"$out" | paste -sd' ')
	CTR_SHARD=$(sed -n 's/^shard=//p' <<<"$out")
	CTR_SHARD_INFO=$(grep -v '^group=' <<<"$out")
	CTR_SHARD_SAY=
	[ "$CTR_SHARD" = 1/1 ] && return 0
	CTR_SHARD_SAY="shard $CTR_SHARD ($(sed -n 's/^shard_source=//p' <<<"$out")): $(sed -n 's/^shard_groups=//p' <<<"$out") of $(sed -n 's/^groups=//p' <<<"$out") groups, $(sed -n 's/^shard_cells=//p' <<<"$out") of $(sed -n 's/^selection_cells=//p' <<<"$out") cells, predicted $(($(sed -n "s/^cost_ms.${CTR_SHARD%/*}=//p" <<<"$out") / 1000)) cell-seconds; selection $(sed -n 's/^selection_hash=//p' <<<"$out")"
}
