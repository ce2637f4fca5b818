# shellcheck shell=bash
# defer: an undo stack, each undo registered right after its create, run in reverse order.

CTR_DEFER=()
ctr_defer() { CTR_DEFER+=("$*"); }
ctr_run_deferred() {
	local i
	for ((i = ${#CTR_DEFER[@]} - 1; i >= 0; i--)); do
		eval "${CTR_DEFER[i]}" >/dev/null 2>&1 || true
	done
	CTR_DEFER=()
}
