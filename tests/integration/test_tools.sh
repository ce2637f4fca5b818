#!/usr/bin/env bash
# The C tools' command lines: help, usage errors, and clear failures for missing pieces.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

B=$CTR_BIN
for t in ctreset-inject ctreset-workload ctreset-review; do
	"$B/$t" --help >/dev/null
	t_check "$t --help exits 0" 0 $?
	"$B/$t" --no-such-option >/dev/null 2>&1
	t_check "$t with an unknown option exits 2" 2 $?
done
err=$("$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --vip 198.19.0.10:80 --out /tmp/x --trigger nonsense 2>&1)
t_check "unknown trigger: exit 2" 2 $? "$err"
t_check "unknown trigger: names it" 1 "$(grep -c '"nonsense"' <<<"$err")" "$err"
err=$("$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --vip 198.19.0.10 --out /tmp/x 2>&1)
t_check "VIP without port: exit 2" 2 $? "$err"
for bad in "--snaplen 10" "--wait-command 0" "--delay -1" "--capture-buffer 0"; do
	# shellcheck disable=SC2086 # option and value
	err=$("$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --vip 198.19.0.10:80 --out /tmp/x $bad 2>&1)
	t_check "inject $bad: exit 2" 2 $? "$err"
	t_check "inject $bad: names the value" 1 "$(grep -c "\"${bad#* }\"" <<<"$err")" "$err"
done
nine=()
for i in 1 2 3 4 5 6 7 8 9; do nine+=(--backend-ns "b$i"); done
err=$("$B/ctreset-inject" --client-ns a --node-ns b "${nine[@]}" --vip 198.19.0.10:80 --out /tmp/x 2>&1)
t_check "inject with 9 backends: exit 2" 2 $? "$err"
p=$(ctr_new_prefix)
ip netns add "$p-x" && ip -n "$p-x" link set lo up
fout=$(mktemp -d)
err=$("$B/ctreset-inject" --client-ns "$p-x" --node-ns "$p-x" --backend-ns "$p-x" --client-if lo \
	--backend-if lo --vip 198.19.0.10:80 --out "$fout" --capture-filter "tcp and nonsense(" 2>&1)
t_check "inject with a bad capture filter: exit 1" 1 $? "$err"
t_check "inject with a bad capture filter: says so" 1 "$(grep -c "filter 'tcp and nonsense('" <<<"$err")" "$err"
ctr_destroy_prefix "$p"
rm -rf "$fout"
out=$(mktemp -d)
err=$("$B/ctreset-inject" --client-ns ctr-000000-none --node-ns ctr-000000-none --backend-ns ctr-000000-none \
	--vip 198.19.0.10:80 --out "$out" 2>&1)
t_check "missing namespace: exit 1" 1 $? "$err"
t_check "missing namespace: says which" 1 "$(grep -c 'ctr-000000-none' <<<"$err")" "$err"
t_check "missing namespace: inject.kv records the failure" "injected=0" "$(grep ^injected= "$out/inject.kv")"
"$B/ctreset-review" --verdict "$out" --format kv >"$out/v" 2>&1
t_check "review of a failed injection: inconclusive" "observed=inconclusive" "$(grep ^observed= "$out/v")"
err=$("$B/ctreset-workload" server --listen 198.19.0.10 --result /tmp/x 2>&1)
t_check "workload: bad address exits 2" 2 $? "$err"
err=$("$B/ctreset-review" --verdict /nonexistent 2>&1)
t_check "review: missing run directory exits 1" 1 $? "$err"
err=$("$CTR_TOP/bench/repro" --scenario no-such-scenario 2>&1)
t_check "repro: unknown scenario exits 2" 2 $? "$err"
rm -rf "$out"
t_done
