# shellcheck shell=bash
# Fault points: where a test may stop a run to SIGKILL it at an exact step.

# Test hook (tests/integration/test_faults.sh): with CTR_FAULT_AT=NAME, the shell that
# reaches point NAME writes its pid to $CTR_FAULT_FILE and stops itself, so the test can
# SIGKILL the run at exactly that point instead of after a guessed delay. Points:
# up.namespaces, up.links (topology/up), scenario.server (ctr_run_scenario: the backend
# serving, no injector yet), teardown.namespaces, teardown.state (ctr_destroy_prefix);
# ctreset-inject has inject.flow (flow found and learned, workload running, nothing sent)
# and inject.sent (segment sent, outcome not yet collected).
ctr_fault_point() {
	[ "${CTR_FAULT_AT:-}" = "$1" ] || return 0
	echo "$1 $BASHPID" >"${CTR_FAULT_FILE:?CTR_FAULT_AT needs CTR_FAULT_FILE}"
	kill -STOP "$BASHPID"
}
