# shellcheck shell=bash
# ctreset-audit beside the bench (sourced by bench/lib.sh): bench/matrix --audit and
# bench/repro --audit run it on node A of each topology once its workaround (or kube-proxy
# release) is on, as a user would on a node, then compare every measured cell with what it
# predicted for the cell's topology (the client's path), family and trigger.

# the offline audits of each node, from its dump (OUT.dump): audit-offline the whole dump
# (nft-ruleset.json read when both nft files are there), audit-offline-json without
# nft-ruleset.txt, audit-offline-txt without nft-ruleset.json
CTR_AUDIT_OFFLINE=(audit-offline audit-offline-json audit-offline-txt)

# ctr_audit_node PREFIX OUT WORKAROUND: OUT.audit.{txt,kv,json} from node A's namespace
# (the matrix: GROUP/WORKAROUND, one for the group's cells of that workaround; bench/repro:
# CELL/node, the scenario's own)
# (live; its dump kept in OUT.dump) and OUT.NAME.{txt,kv} from that dump for each NAME of
# CTR_AUDIT_OFFLINE (the one-format dumps in OUT.dump-json, OUT.dump-txt). The
# keepalive workaround is the client's (ctreset-workload client --keepalive 1), nothing a
# node shows: the audit is told, as a user would tell it. An audit that cannot run leaves
# no .kv: every cell of the group then disagrees ("no audit").
ctr_audit_node() {
	local ka=()
	[ "$3" != keepalive ] || ka=(--keepalive 1)
	"$CTR_BIN/ctreset-audit" --netns "/run/netns/$1-nodeA" --dump "$2.dump" "${ka[@]}" \
		--kv "$2.audit.kv" --json "$2.audit.json" >"$2.audit.txt" 2>&1
	ctr_audit_offline "$2" "$3"
}

# ctr_audit_offline OUT WORKAROUND: the offline audits of ctr_audit_node from OUT.dump
# (bench/audit-agreement --rejudge runs them again on a finished run's dumps)
ctr_audit_offline() {
	local ka=() f
	[ "$2" != keepalive ] || ka=(--keepalive 1)
	rm -rf "$1.dump-json" "$1.dump-txt" "$1".audit-offline*.kv
	mkdir -p "$1.dump-json" "$1.dump-txt"
	for f in "$1.dump"/*; do
		[ -e "$f" ] || continue
		[ "${f##*/}" = nft-ruleset.txt ] || cp "$f" "$1.dump-json/"
		[ "${f##*/}" = nft-ruleset.json ] || cp "$f" "$1.dump-txt/"
	done
	"$CTR_BIN/ctreset-audit" --from "$1.dump" "${ka[@]}" --kv "$1.audit-offline.kv" \
		>"$1.audit-offline.txt" 2>&1
	for f in json txt; do
		"$CTR_BIN/ctreset-audit" --from "$1.dump-$f" "${ka[@]}" --kv "$1.audit-offline-$f.kv" \
			>"$1.audit-offline-$f.txt" 2>&1
	done
	return 0
}

# ctr_audit_same RUN_DIR: every node's offline audits against its live one, whole
# (kernel, workarounds, every path, family and trigger, measured by a cell or not): one
# "DIFFER" line per offline audit that is not the live one, then a summary line per
# offline name; status 1 when one differs or is missing
ctr_audit_same() {
	local live n rc=0 nodes=0
	local -A same=()
	while IFS= read -r live; do
		nodes=$((nodes + 1))
		for n in "${CTR_AUDIT_OFFLINE[@]}"; do
			if [ -s "$live" ] && cmp -s "$live" "${live%.audit.kv}.$n.kv"; then
				same[$n]=$((${same[$n]:-0} + 1))
			else
				printf 'DIFFER %s: %s\n' "${live#"$1"/}" "$( (diff "$live" "${live%.audit.kv}.$n.kv" 2>&1 || :) | grep '^[<>]' | head -3 | tr '\n' ' ')"
				rc=1
			fi
		done
	done < <(find "$1" -name '*.audit.kv' ! -path '*/behaviours/*' | sort)
	for n in "${CTR_AUDIT_OFFLINE[@]}"; do
		printf 'audit %s same as live: %d of %d nodes (every path, family and trigger)\n' "$n" "${same[$n]:-0}" "$nodes"
	done
	return $rc
}

# ctr_audit_agree RUN_DIR: the live audits and the offline ones against the measured
# cells (ctreset-audit --agree), and each offline one against the live one whole
# (ctr_audit_same); status 1 when a measured cell disagrees with either or a node's
# offline audit is not its live one
ctr_audit_agree() {
	local n rc=0
	for n in audit "${CTR_AUDIT_OFFLINE[@]}"; do
		"$CTR_BIN/ctreset-audit" --agree "$1" --name "$n" || [ $? = "$CTR_EXIT_SKIP" ] || rc=1
	done
	ctr_audit_same "$1" || rc=1
	return $rc
}
