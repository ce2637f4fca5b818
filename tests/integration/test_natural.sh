#!/usr/bin/env bash
# The natural triggers, live: resets that no crafted packet causes. ct-flush (a table flush,
# `conntrack -F`'s ctnetlink message, in node A mid-flow) and idle-expiry (the flow idles past the nodes'
# shortened established timeout, then the backend sends), each under the workarounds
# that do and do not help, on the cross-node topology (and without a workaround and with
# drop+loose-0 on same-node and host-network); the evidence that the reset came
# from the workload's own traffic (conntrack's NEW event for the backend's segment, no
# probe in any capture); bad input (a timeout out of range is a usage error); a flow that
# never idles is inconclusive, never a pass. delayed-retransmit (one backend segment held
# in the backend's node with NFQUEUE, released once the window moved on): IGNOREd on this
# kernel, the held copy reaches the client NATed; its bad input (NFQUEUE unavailable is a
# skip, a hold longer than the flow and a flow that ends before a segment is held are
# inconclusive) and the rule gone after the run. (Asymmetric routing: test_asymmetric.sh.)
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq conntrack unshare nsenter tcpdump

work=$(mktemp -d)
trap 'ctr_cleanup_owned $$; rm -rf "$work"' EXIT
M=$CTR_TOP/bench/matrix

# 1. both triggers x the workarounds that matter (12 cells), against the oracle
"$M" --trigger ct-flush,idle-expiry \
	--workaround none,kube-proxy-drop,be-liberal,keepalive,tcp-loose-0,kube-proxy-drop+tcp-loose-0 \
	--topology cross-node --backend iptables-nft --family 4 --jobs 3 --out "$work/m" \
	--json "$work/m.json" >"$work/m.txt" 2>&1
t_check "matrix: every natural cell as the oracle says" 0 $? "$(cat "$work/m.txt")"
obs() { jq -r --arg t "$1" --arg w "$2" '.results[] | select(.trigger == $t and .workaround == $w) | .observed' "$work/m.json"; }
dir() { jq -r --arg t "$1" --arg w "$2" '.results[] | select(.trigger == $t and .workaround == $w) | .dir' "$work/m.json"; }
kv() { sed -n "s/^$2=//p" "$1" | head -1; }
t_check "ct-flush: none, kube-proxy-drop, be-liberal, keepalive, tcp-loose-0 reset; drop+loose-0 clean" \
	"reset reset reset reset reset clean" \
	"$(for w in none kube-proxy-drop be-liberal keepalive tcp-loose-0 kube-proxy-drop+tcp-loose-0; do obs ct-flush "$w"; done | xargs)"
t_check "idle-expiry: none, kube-proxy-drop, be-liberal, tcp-loose-0 reset; keepalive, drop+loose-0 clean" \
	"reset reset reset clean reset clean" \
	"$(for w in none kube-proxy-drop be-liberal keepalive tcp-loose-0 kube-proxy-drop+tcp-loose-0; do obs idle-expiry "$w"; done | xargs)"

# ...and on the other topologies, without a workaround and with the one that stops both
# on cross-node (8 cells): same-node as cross-node; on host-network the flushed flow's
# segment is for node A itself, its INPUT path, where KUBE-FORWARD's drop never looks
"$M" --trigger ct-flush,idle-expiry --workaround none,kube-proxy-drop+tcp-loose-0 \
	--topology same-node,host-network --backend iptables-nft --family 4 --jobs 3 --out "$work/t" \
	--json "$work/t.json" >"$work/t.txt" 2>&1
t_check "matrix: the natural cells on same-node and host-network as the oracle says" 0 $? "$(cat "$work/t.txt")"
t_check "...same-node: none resets, drop+loose-0 clean; host-network: ct-flush resets under drop+loose-0 too" \
	"same-node/ct-flush/none:reset same-node/idle-expiry/none:reset same-node/ct-flush/kube-proxy-drop+tcp-loose-0:clean same-node/idle-expiry/kube-proxy-drop+tcp-loose-0:clean host-network/ct-flush/none:reset host-network/idle-expiry/none:reset host-network/ct-flush/kube-proxy-drop+tcp-loose-0:reset host-network/idle-expiry/kube-proxy-drop+tcp-loose-0:clean" \
	"$(jq -r '[.results[] | "\(.topology)/\(.trigger)/\(.workaround):\(.observed)"] | join(" ")' "$work/t.json")"

# 2. the evidence that the traffic itself did it
d=$(dir ct-flush none)
t_check "ct-flush: the flush (conntrack -F's ctnetlink message) emptied node A's table and said so" \
	"0 ctnetlink: connection tracking table has been emptied (N entries before, 0 after)" \
	"$(kv "$d/inject.kv" natural.conntrack_flush.exit) $(kv "$d/inject.kv" natural.conntrack_flush.output | sed 's/([1-9][0-9]* entries/(N entries/')"
be=$(kv "$d/inject.kv" backend)
t_check "ct-flush: the event log's NEW event for an entry picked up from the backend's side" 1 \
	"$(grep -c "\[NEW\] tcp .* ESTABLISHED src=${be%:*} dst=$(kv "$d/inject.kv" client | sed 's/:.*//') sport=${be##*:} " "$d/ct-events.txt")" \
	"$(cat "$d/ct-events.txt")"
t_check "ct-flush: the event recorded in inject.kv" 1 "$(kv "$d/inject.kv" natural.ct_new_from_backend)"
# (probe.explain is every trigger's account; a crafted segment's keys are the others)
t_check "ct-flush: nothing crafted (no probe.* but probe.explain in inject.kv)" "" \
	"$(grep '^probe\.' "$d/inject.kv" | grep -v '^probe\.explain=')"
probes=0
for t in ct-flush idle-expiry; do
	for w in none kube-proxy-drop be-liberal keepalive tcp-loose-0 kube-proxy-drop+tcp-loose-0; do
		probes=$((probes + $(cat "$(dir "$t" "$w")"/*.pcap | grep -ac 'ctreset probe')))
	done
done
t_check "no capture of the 12 cells holds the injector's probe payload" 0 "$probes"
d=$(dir idle-expiry none)
idle=$(kv "$d/inject.kv" natural.idle_ms)
[ "${idle:-0}" -ge 1300 ] && t_pass "idle-expiry: the flow idled $idle ms (> the 1 s timeout + 0.3 s)" ||
	t_fail "idle-expiry: idle gap ${idle:-none} ms, expected >= 1300"
t_check "idle-expiry: the backend's resumed segment started an entry with the 1 s timeout" 1 \
	"$(grep -c '\[NEW\] tcp      6 1 ESTABLISHED src=' "$d/ct-events.txt")" "$(cat "$d/ct-events.txt")"
d=$(dir idle-expiry keepalive)
# the client's segments inside the idle gap (backend data before and after it >= 2 s apart)
ka=$(tcpdump -nn -tt -r "$d/client.pcap" tcp 2>/dev/null | awk '
	$3 ~ /^198\.19\.0\.10\./ && / length [1-9]/ { if (last && $1 - last >= 2) { gap0 = last; gap1 = $1 } last = $1 }
	$3 ~ /^198\.18\.1\.10\./ { t[n++] = $1 }
	END { for (i = 0; i < n; i++) if (gap1 && t[i] > gap0 && t[i] < gap1) c++; print c + 0 }')
[ "$ka" -gt 0 ] && t_pass "idle-expiry/keepalive: the client sent $ka keepalive segment(s) inside the idle gap" ||
	t_fail "idle-expiry/keepalive: no client segment inside the idle gap"
t_check "idle-expiry/keepalive: no entry picked up from the backend" 0 "$(kv "$d/inject.kv" natural.ct_new_from_backend)"
d=$(dir idle-expiry kube-proxy-drop+tcp-loose-0)
nb=$(kv "$d/meta.kv" "drop\.[^=]*-nodeB")
[ "${nb:-0}" -gt 0 ] && t_pass "idle-expiry/drop+loose-0: node B's DROP rule stopped the backend's segments ($nb)" ||
	t_fail "idle-expiry/drop+loose-0: node B's DROP counter did not move ($(grep drop "$d/meta.kv" | xargs))"
d=$(dir ct-flush tcp-loose-0)
na=$(kv "$d/inject.kv" "invalid\.[^=]*-nodeA")
[ "${na:-0}" -gt 0 ] && t_pass "ct-flush/tcp-loose-0: node A counted the picked-up segment INVALID ($na)" ||
	t_fail "ct-flush/tcp-loose-0: node A's invalid counter did not move"

# 3. bad input: a timeout out of range is a usage error, nothing built
for v in 0 61 x; do
	CTR_IDLE_TIMEOUT=$v "$CTR_TOP/bench/repro" --scenario idle-expiry --out "$work/bad" >"$work/bad.txt" 2>&1
	t_check "CTR_IDLE_TIMEOUT=$v: bench/repro exits 2" 2 $? "$(cat "$work/bad.txt")"
done
# (the namespace guard would refuse --node-ns x with exit 2 too: the reason tells them apart)
for v in 0 86401 2s; do
	"$CTR_BIN/ctreset-inject" --client-ns x --node-ns x --backend-ns x --vip 198.19.0.10:80 \
		--out "$work/o" --trigger idle-expiry --ct-timeout "$v" >/dev/null 2>"$work/bad.txt"
	t_check "ctreset-inject --ct-timeout $v: exit 2, the range named" "2 1" \
		"$? $(grep -c "argument \"$v\" is wrong: --ct-timeout must be 1..86400 seconds" "$work/bad.txt")" "$(cat "$work/bad.txt")"
done
# the namespace guard: conntrack -F and the timeout only in a namespace a run created; a
# namespace of nobody's run (a container's) holding one entry: refused, the entry stays
t_foreign_netns 30 # -> $foreign, $holder
# shellcheck disable=SC2154 # foreign: set by t_foreign_netns
nsenter --net="$foreign" conntrack -I -p tcp -s 198.18.9.1 -d 198.18.9.2 --sport 40000 --dport 80 \
	--state ESTABLISHED -t 120 -u ASSURED >/dev/null 2>&1
for opt in "--trigger ct-flush" "--trigger idle-expiry" "--ct-timeout 5"; do
	# shellcheck disable=SC2086 # option and value
	"$CTR_BIN/ctreset-inject" --client-ns ctr-000000-none --node-ns "$foreign" --backend-ns ctr-000000-none \
		--vip 198.19.0.10:80 --out "$work/o" $opt >/dev/null 2>"$work/bad.txt"
	t_check "$opt in a foreign namespace refused: exit 2" 2 $? "$(cat "$work/bad.txt")"
done
t_check "...its entry still there, its timeout the kernel's default (5 days)" "1 432000" \
	"$(nsenter --net="$foreign" conntrack -C) $(nsenter --net="$foreign" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established)"
# shellcheck disable=SC2154 # holder: set by t_foreign_netns
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
"$CTR_BIN/ctreset-workload" client --connect 198.19.0.10:80 --result "$work/r" --keepalive 0 2>"$work/bad.txt"
t_check "ctreset-workload --keepalive 0: exit 2" 2 $? "$(cat "$work/bad.txt")"

# 4. a flow that never idles (a server that ignores --pause) is inconclusive, not a pass
mkdir "$work/bin"
ln -s "$CTR_BIN/ctreset-review" "$CTR_BIN/ctreset-inject" "$CTR_BIN/ctreset-shard" "$work/bin/"
cat >"$work/bin/ctreset-workload" <<EOS
#!/bin/bash
a=()
while [ \$# -gt 0 ]; do
	case \$1 in --pause | --pause-after) shift 2 ;; *) a+=("\$1"); shift ;; esac
done
exec "$CTR_BIN/ctreset-workload" "\${a[@]}"
EOS
chmod 755 "$work/bin/ctreset-workload"
CTR_BIN=$work/bin "$CTR_TOP/bench/repro" --scenario idle-expiry --out "$work/inc" --json "$work/inc.json" >"$work/inc.txt" 2>&1
t_check "no idle: bench/repro exits 1" 1 $? "$(cat "$work/inc.txt")"
t_check "...the cell is inconclusive" "reset inconclusive" "$(jq -r '.results[0] | "\(.expected) \(.observed)"' "$work/inc.json")"
t_check "...and says the flow never idled" 1 \
	"$(cat "$work/inc/"*/idle-expiry/inject.kv 2>/dev/null | grep -c '^error=.*\(never idled\|closed before it idled\)')" \
	"$(grep '^error=' "$work/inc/"*/idle-expiry/inject.kv 2>/dev/null)"

# 5. delayed-retransmit on the three topologies, with and without the DROP rule and
# be_liberal (9 cells), against the oracle
"$M" --trigger delayed-retransmit --workaround none,kube-proxy-drop,be-liberal \
	--topology cross-node,same-node,host-network --backend iptables-nft --family 4 --jobs 3 \
	--out "$work/d" --json "$work/d.json" >"$work/d.txt" 2>&1
t_check "matrix: every delayed-retransmit cell as the oracle says" 0 $? "$(cat "$work/d.txt")"
dcell() { jq -r --arg to "$1" --arg w "$2" '.results[] | select(.topology == $to and .workaround == $w) | .dir' "$work/d.json"; }
t_check "delayed-retransmit: all 9 cells clean (kernel >= 6.1: IGNORE)" "clean clean clean clean clean clean clean clean clean" \
	"$(jq -r '.results[].observed' "$work/d.json" | xargs)"
for to in cross-node same-node host-network; do
	for w in none kube-proxy-drop be-liberal; do
		d=$(dcell "$to" "$w")
		i=$d/inject.kv
		hns=$(kv "$i" natural.held.ns)
		seq=$(kv "$i" natural.held.seq) len=$(kv "$i" natural.held.len)
		# the backend's node holds it: node B, node A where both pods are on it
		want=nodeB
		[ "$to" = same-node ] && want=nodeA
		t_check "$to/$w: held in the backend's node, released below the window, NATed at the client" \
			"$want 1 1 0" "${hns##*-} $(kv "$i" natural.held.below_window) $(kv "$i" natural.held.natted_at_client) $(kv "$i" outcome.leaked_at_client)" \
			"$(grep -E '^(error|probe.explain|natural)' "$i")"
		# the captures: the backend sent it at least twice (the held original, then its
		# retransmission); the client got them, from the VIP, the held one last, with
		# the original's TCP timestamp (the same packet, released, not a third copy)
		# (no filter expression: host-network's client capture is NFLOG, which has none)
		copies() { tcpdump -S -nn -r "$1" 2>/dev/null | grep "seq $seq:$((seq + len)),"; }
		tsv() { copies "$1" | sed -n 's/.*TS val \([0-9]*\).*/\1/p'; }
		b=$(tsv "$d/backend.pcap" | xargs) c=$(tsv "$d/client.pcap" | xargs)
		from=$(copies "$d/client.pcap" | sed -n 's/.* IP \(truncated-ip - [0-9]* bytes missing! \)\{0,1\}\([^ ]*\) > .*/\2/p' | sort -u | xargs)
		vip=$(kv "$i" vip)
		# (a loaded machine may retransmit more than once while it is held: at least 2)
		t_check "$to/$w: the client got the held segment and its retransmission(s) from the VIP, the held one (backend's first copy) last" \
			"1 ${b%% *} ${vip%:*}.${vip##*:}" "$(($(wc -w <<<"$c") >= 2)) ${c##* } $from" "backend TS vals: $b; client: $c; from $from"
		t_check "$to/$w: conntrack counted nothing INVALID on any node (IGNORE is not INVALID)" "0 0" \
			"$(grep -c '^invalid\..*=[1-9]' "$i") $(grep -c '^drop\..*=[1-9]' "$d/meta.kv")" "$(grep -E '^(invalid|drop)\.' "$i" "$d/meta.kv")"
	done
done

# bad input: the stream server that ends the flow after one chunk (no segment left to
# hold), an injector holding longer than the flow lasts, an injector that cannot find
# nft or iptables (NFQUEUE unavailable: a skip with the reason). Each a wrapper in CTR_BIN.
bad() { # NAME: a bin dir with links to the real tools
	mkdir -p "$work/$1"
	ln -sf "$CTR_BIN/ctreset-review" "$CTR_BIN/ctreset-inject" "$CTR_BIN/ctreset-workload" "$CTR_BIN/ctreset-shard" "$work/$1/"
	rm -f "$work/$1/$2"
}
cell() { # BIN-DIR NAME: one cross-node delayed-retransmit cell with that CTR_BIN
	CTR_BIN=$1 "$M" --trigger delayed-retransmit --workaround none --topology cross-node \
		--backend iptables-nft --family 4 --out "$work/$2" --json "$work/$2.json" >"$work/$2.txt" 2>&1
}
bad flowend ctreset-workload
cat >"$work/flowend/ctreset-workload" <<EOS
#!/bin/bash
# the server sends its first chunk, then ends the flow (SIGTERM) once the injector's hold
# is in place in node B (its nft table, or iptables' NFQUEUE rule where nft has no queue
# expression, as on this kernel; bounded: 8 s, before the second chunk at 10 s)
[ "\$1" = server ] || exec "$CTR_BIN/ctreset-workload" "\$@"
"$CTR_BIN/ctreset-workload" "\$@" --interval 10000 --timeout 30000 &
s=\$!
trap 'kill -TERM \$s; wait \$s; exit 143' TERM # the injector stopping it
exec 3>&-
ns=\$(ip netns identify)
for ((i = 0; i < 160; i++)); do
	ip netns exec "\${ns%-*}-nodeB" sh -c 'nft list ruleset; iptables-save -t raw' 2>/dev/null |
		grep -q ctreset-hold && break
	sleep 0.05
done
kill -TERM \$s
wait \$s
EOS
chmod 755 "$work/flowend/ctreset-workload"
cell "$work/flowend" flowend
t_check "flow ended before a segment was held: bench/matrix exits 1, the cell inconclusive" "1 inconclusive" \
	"$? $(jq -r '.results[0].observed' "$work/flowend.json")" "$(cat "$work/flowend.txt")"
t_check "...inject.kv: not injected, no segment held because the flow ended" "0 1" \
	"$(kv "$(jq -r '.results[0].dir' "$work/flowend.json")/inject.kv" injected) $(grep -c '^error=no segment held: the flow ended' "$(jq -r '.results[0].dir' "$work/flowend.json")/inject.kv")" \
	"$(grep '^error=' "$(jq -r '.results[0].dir' "$work/flowend.json")/inject.kv")"
bad longhold ctreset-inject
printf '#!/bin/bash\nexec "%s" --hold 30000 "$@"\n' "$CTR_BIN/ctreset-inject" >"$work/longhold/ctreset-inject"
chmod 755 "$work/longhold/ctreset-inject"
cell "$work/longhold" longhold
rc=$?
d=$(jq -r '.results[0].dir' "$work/longhold.json")
t_check "a hold (30 s) longer than the flow (5 s): exit 1, inconclusive, says so" "1 inconclusive 0 1" \
	"$rc $(jq -r '.results[0].observed' "$work/longhold.json") $(kv "$d/inject.kv" injected) $(grep -c '^error=the flow ended while the segment was held.*longer than the flow' "$d/inject.kv")" \
	"$(grep '^error=' "$d/inject.kv")"
bad nonfq ctreset-inject
printf '#!/bin/bash\nPATH=/usr/bin:/bin exec "%s" "$@"\n' "$CTR_BIN/ctreset-inject" >"$work/nonfq/ctreset-inject"
chmod 755 "$work/nonfq/ctreset-inject"
cell "$work/nonfq" nonfq
rc=$?
d=$(dirname "$(find "$work/nonfq" -name inject.kv | head -1)")
t_check "no nft and no iptables (NFQUEUE unavailable): bench/matrix exits 4, the cell a skip" "4 skip" \
	"$rc $(jq -r '.results[0].status' "$work/nonfq.json")" "$(cat "$work/nonfq.txt")"
t_check "...with the reason, in inject.kv and the report" "1 1" \
	"$(grep -c '^skip=NFQUEUE unavailable in .*nft.*iptables' "$d/inject.kv") $(jq -r '.results[0].skip_reason' "$work/nonfq.json" | grep -c 'NFQUEUE unavailable')" \
	"$(grep -E '^(skip|error)=' "$d/inject.kv")"
# (with --hold-ns: without it the run stops for that first, whatever --hold says)
for v in 0 60001; do
	"$CTR_BIN/ctreset-inject" --client-ns x --node-ns x --backend-ns x --vip 198.19.0.10:80 \
		--out "$work/o" --trigger delayed-retransmit --hold-ns x --hold $v >/dev/null 2>"$work/bad.txt"
	t_check "ctreset-inject delayed-retransmit --hold $v: exit 2, the range named" "2 1" \
		"$? $(grep -c "argument \"$v\" is wrong: --hold must be 1..60000" "$work/bad.txt")" "$(cat "$work/bad.txt")"
done
"$CTR_BIN/ctreset-inject" --client-ns x --node-ns x --backend-ns x --vip 198.19.0.10:80 \
	--out "$work/o" --trigger delayed-retransmit --hold-ns >/dev/null 2>"$work/bad.txt"
t_check "ctreset-inject delayed-retransmit --hold-ns without a value: exit 2" 2 $? "$(cat "$work/bad.txt")"
"$CTR_BIN/ctreset-inject" --client-ns x --node-ns x --backend-ns x --vip 198.19.0.10:80 \
	--out "$work/o" --trigger delayed-retransmit >/dev/null 2>"$work/bad.txt"
t_check "ctreset-inject delayed-retransmit without --hold-ns: exit 2" 2 $? "$(cat "$work/bad.txt")"
t_foreign_netns 30
"$CTR_BIN/ctreset-inject" --client-ns ctr-000000-none --node-ns ctr-000000-none --backend-ns ctr-000000-none \
	--vip 198.19.0.10:80 --out "$work/o" --trigger delayed-retransmit --hold-ns "$foreign" >/dev/null 2>"$work/bad.txt"
t_check "--hold-ns in a foreign namespace refused: exit 2" 2 $? "$(cat "$work/bad.txt")"
# (the hold tries iptables' NFQUEUE rule first, an nft table only without it)
t_check "...no rule was written there (no nft table ctreset-hold, no NFQUEUE rule)" "0" \
	"$( (nsenter --net="$foreign" nft list ruleset; nsenter --net="$foreign" iptables-nft-save) 2>/dev/null | grep -c 'ctreset-hold\|NFQUEUE\|queue')"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# the rule lives only while the segment is held: on a topology that outlives the run,
# node B has no queue rule after a success and after a failure (a hold too long)
"$CTR_TOP/topology/up" --owner $$ >"$work/topo.env" 2>"$work/topo.err"
t_check "a cross-node topology for the injector alone" 0 $? "$(cat "$work/topo.err")"
# shellcheck source=/dev/null # what topology/up printed: KEY=VALUE lines
. "$work/topo.env"
# shellcheck disable=SC2031 # NS_* and the like: from topo.env here, not ctr_run_scenario's
for hold in "" 30000; do
	o=$work/direct$hold
	mkdir -p "$o"
	srv=()
	for a in "$CTR_BIN/ctreset-workload" server --listen "$BACKEND_EP" --result "$o/server.kv" --ready-fd 3 --timeout 5000; do
		srv+=(--server-arg "$a")
	done
	"$CTR_BIN/ctreset-inject" --client-ns "$NS_CLIENT" --node-ns "$NS_DNAT_NODE" --backend-ns "$NS_BACKEND" \
		--stat-ns "$NS_NODE_B" --vip "$VIP_EP" --trigger delayed-retransmit --hold-ns "$NS_NODE_B" \
		${hold:+--hold "$hold"} --out "$o" "${srv[@]}" -- \
		"$CTR_BIN/ctreset-workload" client --connect "$VIP_EP" --result "$o/client.kv" --timeout 5000 2>"$o/err"
	rc=$?
	left=$( (ip netns exec "$NS_NODE_B" iptables-nft-save; ip netns exec "$NS_NODE_B" nft list ruleset) 2>/dev/null | grep -c 'NFQUEUE\|ctreset-hold')
	t_check "ctreset-inject ${hold:+--hold $hold }(exit $rc): no queue rule left in node B" "$([ -n "$hold" ] && echo 1 || echo 0) 0" "$rc $left" "$(cat "$o/err")"
done
ctr_cleanup_owned $$

t_done
