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
tdir=$(mktemp -d)
err=$("$B/ctreset-inject" --client-ns ctr-000000-none --node-ns ctr-000000-none --backend-ns ctr-000000-none \
	--vip 198.19.0.10:80 --out "$tdir" 2>&1)
t_check "missing namespace: exit 1" 1 $? "$err"
t_check "missing namespace: says which" 1 "$(grep -c 'ctr-000000-none' <<<"$err")" "$err"
t_check "missing namespace: inject.kv records the failure" "injected=0" "$(grep ^injected= "$tdir/inject.kv")"
"$B/ctreset-review" --verdict "$tdir" --format kv >"$tdir/v" 2>&1
t_check "review of a failed injection: inconclusive" "observed=inconclusive" "$(grep ^observed= "$tdir/v")"
err=$("$B/ctreset-workload" server --listen 198.19.0.10 --result /tmp/x 2>&1)
t_check "workload: bad address exits 2" 2 $? "$err"
err=$("$B/ctreset-workload" client --connect 198.19.0.10:80 --result /tmp/x --resume-signal 2>&1)
t_check "workload: --resume-signal on a client exits 2" 2 $? "$err"
# --resume-signal: the server's pause (5 s here) ends at SIGUSR1, sent 0.5 s into it;
# without the signal the same stream stays paused (~20 chunks of 1 KiB before it)
p=$(ctr_new_prefix)
ip netns add "$p-x" && ip -n "$p-x" link set lo up
wdir=$(mktemp -d)
for sig in yes no; do
	flag=()
	[ $sig = yes ] && flag=(--resume-signal)
	ip netns exec "$p-x" "$B/ctreset-workload" server --listen 127.0.0.1:7001 --result "$wdir/s.$sig" \
		--pause-after 100 --pause 5000 "${flag[@]}" --timeout 8000 --ready-fd 3 3>"$wdir/ready.$sig" &
	spid=$!
	ctr_busywait 2000 test -s "$wdir/ready.$sig"
	ip netns exec "$p-x" "$B/ctreset-workload" client --connect 127.0.0.1:7001 --result "$wdir/c.$sig" --timeout 8000 &
	cpid=$!
	ctr_sleep 0.6
	[ $sig = yes ] && kill -USR1 "$spid"
	ctr_sleep 1.4
	kill -TERM "$cpid" "$spid" 2>/dev/null
	wait "$cpid" "$spid"
done
sb() { sed -n 's/^bytes=//p' "$wdir/s.$1"; }
t_check "workload --resume-signal: SIGUSR1 in the pause resumed the stream (over 60 KiB sent)" 1 \
	"$(($(sb yes) > 61440))" "with the signal $(sb yes) bytes, without $(sb no)"
t_check "...without it the stream stayed paused (under 60 KiB)" 1 "$(($(sb no) < 61440))" "$(sb no) bytes"
ctr_destroy_prefix "$p"
rm -rf "$wdir"
err=$("$B/ctreset-review" --verdict /nonexistent 2>&1)
t_check "review: missing run directory exits 1" 1 $? "$err"
err=$("$CTR_TOP/bench/repro" --scenario no-such-scenario 2>&1)
t_check "repro: unknown scenario exits 2" 2 $? "$err"
rm -rf "$tdir"
# the trigger table as other scripts read it: one line per trigger, name TAB kind TAB
# summary, kinds from a fixed set, names unique, each accepted by --trigger (bench/matrix
# and tests/ref/bench-captures derive their lists from it)
list=$("$B/ctreset-inject" --list-triggers)
t_check "--list-triggers exits 0" 0 $?
t_check "--list-triggers: three tab-separated fields a line, kind crafted|conntrack|natural|legitimate" "" \
	"$(awk -F'\t' 'NF != 3 || $1 !~ /^[a-z-]+$/ || $2 !~ /^(crafted|conntrack|natural|legitimate)$/ || $3 == ""' <<<"$list")" "$list"
t_check "--list-triggers: names unique" "$(wc -l <<<"$list")" "$(cut -f1 <<<"$list" | sort -u | wc -l)"
t_check "--list-triggers: the natural ones" "ct-flush idle-expiry delayed-retransmit" \
	"$(awk -F'\t' '$2 == "natural" { print $1 }' <<<"$list" | xargs)"
t_check "--list-triggers: the legitimate one (the asymmetric topology's cell)" "connect" \
	"$(awk -F'\t' '$2 == "legitimate" { print $1 }' <<<"$list" | xargs)"
while IFS=$'\t' read -r t _; do
	"$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --vip 198.19.0.10:80 --out /tmp/x \
		--trigger "$t" --help >/dev/null 2>&1 || t_fail "--trigger $t refused"
done <<<"$list"
# the values themselves: tests/unit/test_trigger.c; here the command line's way to them
t_check "--bench-args idle-expiry: what the bench gives it, computed" \
	"idle-expiry	none	inject	--ct-timeout 1|idle-expiry	none	server	--pause-after 100 --pause 1400 --timeout 7000|idle-expiry	none	client	--timeout 7000" \
	"$("$B/ctreset-inject" --bench-args idle-expiry | paste -sd'|')"
t_check "--bench-args idle-expiry, http, keepalive, scale 20, timeout 3: the stall" \
	"idle-expiry	keepalive	inject	--ct-timeout 3|idle-expiry	keepalive	stall	5500 1 7" \
	"$("$B/ctreset-inject" --bench-args idle-expiry --bench-workload http --bench-workaround keepalive \
		--bench-scale 20 --bench-timeout 3 | paste -sd'|')"
t_check "--bench-args seq-above: nothing" "" "$("$B/ctreset-inject" --bench-args seq-above)"
"$B/ctreset-inject" --bench-args seq-above --bench-timeout 61 >/dev/null 2>&1
t_check "--bench-timeout 61: exit 2" 2 $?
"$B/ctreset-inject" --bench-args nonsense >/dev/null 2>&1
t_check "--bench-args of an unknown trigger: exit 2" 2 $?
t_done
