#!/usr/bin/env bash
# The stream workload's two ends as threads of the injector (child.c): the cells whose
# server pauses and is resumed by the injector (idle-expiry, ct-entry-lost,
# small-overshoot) and a crafted one (seq-above), run once in-process (no exec of
# ctreset-workload) and once with CTR_WORKLOAD_PROCESS=1 (ctreset-inject
# --workload-process: two execs a cell, as before): each cell as the oracle says both
# times, the same verdict, server.kv and client.kv with the same keys, inject.kv's
# server.* and command.* the same keys and exit statuses. A planted fault (the in-process
# client's run skipped, no client.kv) fails 16 of these checks.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_tools
command -v strace >/dev/null || ctr_skip "needs strace (the execs of the run counted)"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
triggers=idle-expiry,ct-entry-lost,small-overshoot,seq-above
filter=(--trigger "$triggers" --workaround none --topology cross-node --backend iptables-nft --family 4)

t_exit 0 "--help says --workload-process" sh -c "'$CTR_BIN/ctreset-inject' --help | grep -q -- '--workload-process'"

run() { # NAME [ENV...]: the cells, every exec of the run logged
	env "${@:2}" strace -f --seccomp-bpf -qq -e trace=execve -e signal=none -o "$out/$1.execs" \
		"$CTR_TOP/bench/matrix" "${filter[@]}" --out "$out/$1" --json "$out/$1.json" >"$out/$1.txt" 2>&1
	t_check "$1: bench/matrix passes (4 cells as the oracle says)" "0 4" \
		"$? $(jq '[.results[] | select(.status == "pass")] | length' "$out/$1.json" 2>/dev/null)" \
		"$(tail -20 "$out/$1.txt")"
}
run thread
run process CTR_WORKLOAD_PROCESS=1
execs() { grep -c 'execve("[^"]*/ctreset-workload"' "$out/$1.execs"; }
t_check "in-process: no exec of ctreset-workload" 0 "$(execs thread)"
# (and the behaviours probe's cell, when the run probes: 10)
n=$(execs process)
t_check "--workload-process: at least two a cell (server, client)" yes "$([ "$n" -ge 8 ] && echo yes || echo "no: $n")"

keys() { cut -d= -f1 "$1" 2>/dev/null | tr '\n' ' '; }
# their keys and exit statuses (whether one ended by itself or was stopped is the run's
# timing: a server may see the stopped client's FIN before it is stopped itself)
children() { sed -nE 's/^((server|command)\.exit=.*)/\1/p; s/^((server|command)\.[a-z_]*)=.*/\1/p' "$1" 2>/dev/null | tr '\n' ' '; }
for t in ${triggers//,/ }; do
	a=$(jq -r --arg t "$t" '.results[] | select(.trigger == $t) | .dir' "$out/thread.json")
	b=$(jq -r --arg t "$t" '.results[] | select(.trigger == $t) | .dir' "$out/process.json")
	va=$(sed -n 's/^observed=//p' "$a/verdict.kv" 2>/dev/null)
	vb=$(sed -n 's/^observed=//p' "$b/verdict.kv" 2>/dev/null)
	t_check "$t: the same verdict in-process and as processes" "$vb" "$va"
	for f in server.kv client.kv; do
		ka=$(keys "$a/$f")
		t_check "$t: $f has the same keys (role local peer bytes end errno ...)" "$(keys "$b/$f")" "$ka"
		[ -n "$ka" ] || t_fail "$t: no $f in-process"
	done
	t_check "$t: inject.kv's server.* and command.* the same keys and exit statuses" \
		"$(children "$b/inject.kv")" "$(children "$a/inject.kv")"
done
t_done
