# shellcheck shell=bash
# ctreset-audit beside the bench (sourced by bench/lib.sh): bench/matrix --audit and
# bench/repro --audit run it on node A of each topology once its workaround (or kube-proxy
# release) is on, as a user would on a node, then compare every measured cell with what it
# predicted for the cell's topology (the client's path), family and trigger.

# ctr_audit_node PREFIX OUT WORKAROUND: OUT.audit.{txt,kv,json} from node A's namespace
# (the matrix: GROUP/WORKAROUND, one for the group's cells of that workaround; bench/repro:
# CELL/node, the scenario's own)
# (live; its dump kept in OUT.dump) and OUT.audit-offline.{txt,kv} from that dump. The
# keepalive workaround is the client's (ctreset-workload client --keepalive 1), nothing a
# node shows: the audit is told, as a user would tell it. An audit that cannot run leaves
# no .kv: every cell of the group then disagrees ("no audit").
ctr_audit_node() {
	local ka=()
	[ "$3" != keepalive ] || ka=(--keepalive 1)
	"$CTR_BIN/ctreset-audit" --netns "/run/netns/$1-nodeA" --dump "$2.dump" "${ka[@]}" \
		--kv "$2.audit.kv" --json "$2.audit.json" >"$2.audit.txt" 2>&1
	"$CTR_BIN/ctreset-audit" --from "$2.dump" "${ka[@]}" --kv "$2.audit-offline.kv" \
		>"$2.audit-offline.txt" 2>&1
	return 0
}

# ctr_audit_agree RUN_DIR: the live audits and the offline ones against the measured
# cells (ctreset-audit --agree); status 1 when a measured cell disagrees with either
ctr_audit_agree() {
	local n rc=0
	for n in audit audit-offline; do
		"$CTR_BIN/ctreset-audit" --agree "$1" --name "$n" || [ $? = "$CTR_EXIT_SKIP" ] || rc=1
	done
	return $rc
}
