#!/usr/bin/env bash
# The natural triggers, live: resets that no crafted packet causes. ct-flush (Debian's
# `conntrack -F` in node A mid-flow) and idle-expiry (the flow idles past the nodes'
# shortened established timeout, then the backend sends), each under the workarounds
# that do and do not help, on the cross-node topology; the evidence that the reset came
# from the workload's own traffic (conntrack's NEW event for the backend's segment, no
# probe in any capture); bad input (a timeout out of range is a usage error); a flow that
# never idles is inconclusive, never a pass. And asymmetric routing (bench/asymmetric):
# the INVALID DROP rule kills a handshake whose replies bypass node A.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq conntrack unshare nsenter tcpdump

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
M=$CTR_TOP/bench/matrix

# 1. both triggers x the workarounds that matter (12 cells), against the oracle
"$M" --trigger ct-flush,idle-expiry \
	--workaround none,kube-proxy-drop,be-liberal,keepalive,tcp-loose-0,kube-proxy-drop+tcp-loose-0 \
	--topology cross-node --backend iptables-nft --family 4 --jobs 3 --out "$out/m" \
	--json "$out/m.json" >"$out/m.txt" 2>&1
t_check "matrix: every natural cell as the oracle says" 0 $? "$(cat "$out/m.txt")"
obs() { jq -r --arg t "$1" --arg w "$2" '.results[] | select(.trigger == $t and .workaround == $w) | .observed' "$out/m.json"; }
dir() { jq -r --arg t "$1" --arg w "$2" '.results[] | select(.trigger == $t and .workaround == $w) | .dir' "$out/m.json"; }
kv() { sed -n "s/^$2=//p" "$1" | head -1; }
t_check "ct-flush: none, kube-proxy-drop, be-liberal, keepalive, tcp-loose-0 reset; drop+loose-0 clean" \
	"reset reset reset reset reset clean" \
	"$(for w in none kube-proxy-drop be-liberal keepalive tcp-loose-0 kube-proxy-drop+tcp-loose-0; do obs ct-flush "$w"; done | xargs)"
t_check "idle-expiry: none, kube-proxy-drop, be-liberal, tcp-loose-0 reset; keepalive, drop+loose-0 clean" \
	"reset reset reset clean reset clean" \
	"$(for w in none kube-proxy-drop be-liberal keepalive tcp-loose-0 kube-proxy-drop+tcp-loose-0; do obs idle-expiry "$w"; done | xargs)"

# 2. the evidence that the traffic itself did it
d=$(dir ct-flush none)
t_check "ct-flush: Debian's conntrack -F ran in node A and said so" \
	"0 conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied." \
	"$(kv "$d/inject.kv" natural.conntrack_flush.exit) $(kv "$d/inject.kv" natural.conntrack_flush.output | sed 's/v[0-9.]* (/v1.4.7 (/')"
be=$(kv "$d/inject.kv" backend)
t_check "ct-flush: conntrack's NEW event for an entry picked up from the backend's side" 1 \
	"$(grep -c "\[NEW\] tcp .* ESTABLISHED src=${be%:*} dst=$(kv "$d/inject.kv" client | sed 's/:.*//') sport=${be##*:} " "$d/ct-events.txt")" \
	"$(cat "$d/ct-events.txt")"
t_check "ct-flush: the event recorded in inject.kv" 1 "$(kv "$d/inject.kv" natural.ct_new_from_backend)"
t_check "ct-flush: nothing crafted (no probe.* in inject.kv)" 0 "$(grep -c '^probe\.seq=' "$d/inject.kv")"
probes=0
for t in ct-flush idle-expiry; do
	for w in none kube-proxy-drop be-liberal keepalive tcp-loose-0 kube-proxy-drop+tcp-loose-0; do
		probes=$((probes + $(cat "$(dir "$t" "$w")"/*.pcap | grep -ac 'ctreset probe')))
	done
done
t_check "no capture of the 12 cells holds the injector's probe payload" 0 "$probes"
d=$(dir idle-expiry none)
idle=$(kv "$d/inject.kv" natural.idle_ms)
[ "${idle:-0}" -ge 2500 ] && t_pass "idle-expiry: the flow idled $idle ms (> 2 s timeout + 0.5 s)" ||
	t_fail "idle-expiry: idle gap ${idle:-none} ms, expected >= 2500"
t_check "idle-expiry: the backend's resumed segment started an entry with the 2 s timeout" 1 \
	"$(grep -c '\[NEW\] tcp      6 2 ESTABLISHED src=' "$d/ct-events.txt")" "$(cat "$d/ct-events.txt")"
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
	CTR_IDLE_TIMEOUT=$v "$CTR_TOP/bench/repro" --scenario idle-expiry --out "$out/bad" >"$out/bad.txt" 2>&1
	t_check "CTR_IDLE_TIMEOUT=$v: bench/repro exits 2" 2 $? "$(cat "$out/bad.txt")"
done
for v in 0 86401 2s; do
	"$CTR_BIN/ctreset-inject" --client-ns x --node-ns x --backend-ns x --vip 198.19.0.10:80 \
		--out "$out/o" --trigger idle-expiry --ct-timeout "$v" >/dev/null 2>"$out/bad.txt"
	t_check "ctreset-inject --ct-timeout $v: exit 2" 2 $? "$(cat "$out/bad.txt")"
done
# the namespace guard: conntrack -F and the timeout only in a namespace a run created; a
# namespace of nobody's run (a container's) holding one entry: refused, the entry stays
t_foreign_netns 30
nsenter --net="$foreign" conntrack -I -p tcp -s 198.18.9.1 -d 198.18.9.2 --sport 40000 --dport 80 \
	--state ESTABLISHED -t 120 -u ASSURED >/dev/null 2>&1
for opt in "--trigger ct-flush" "--trigger idle-expiry" "--ct-timeout 5"; do
	# shellcheck disable=SC2086 # option and value
	"$CTR_BIN/ctreset-inject" --client-ns ctr-000000-none --node-ns "$foreign" --backend-ns ctr-000000-none \
		--vip 198.19.0.10:80 --out "$out/o" $opt >/dev/null 2>"$out/bad.txt"
	t_check "$opt in a foreign namespace refused: exit 2" 2 $? "$(cat "$out/bad.txt")"
done
t_check "...its entry still there, its timeout the kernel's default (5 days)" "1 432000" \
	"$(nsenter --net="$foreign" conntrack -C) $(nsenter --net="$foreign" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established)"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
"$CTR_BIN/ctreset-workload" client --connect 198.19.0.10:80 --result "$out/r" --keepalive 0 2>"$out/bad.txt"
t_check "ctreset-workload --keepalive 0: exit 2" 2 $? "$(cat "$out/bad.txt")"

# 4. a flow that never idles (a server that ignores --pause) is inconclusive, not a pass
mkdir "$out/bin"
ln -s "$CTR_BIN/ctreset-review" "$CTR_BIN/ctreset-inject" "$out/bin/"
cat >"$out/bin/ctreset-workload" <<EOS
#!/bin/bash
a=()
while [ \$# -gt 0 ]; do
	case \$1 in --pause | --pause-after) shift 2 ;; *) a+=("\$1"); shift ;; esac
done
exec "$CTR_BIN/ctreset-workload" "\${a[@]}"
EOS
chmod 755 "$out/bin/ctreset-workload"
CTR_BIN=$out/bin "$CTR_TOP/bench/repro" --scenario idle-expiry --out "$out/inc" --json "$out/inc.json" >"$out/inc.txt" 2>&1
t_check "no idle: bench/repro exits 1" 1 $? "$(cat "$out/inc.txt")"
t_check "...the cell is inconclusive" "reset inconclusive" "$(jq -r '.results[0] | "\(.expected) \(.observed)"' "$out/inc.json")"
t_check "...and says the flow never idled" 1 \
	"$(cat "$out/inc/"*/idle-expiry/inject.kv 2>/dev/null | grep -c '^error=.*\(never idled\|closed before it idled\)')" \
	"$(grep '^error=' "$out/inc/"*/idle-expiry/inject.kv 2>/dev/null)"

# 5. asymmetric routing (kubernetes issue 94861): node A sees one direction only
"$CTR_TOP/bench/asymmetric" --out "$out/asym" >"$out/asym.txt" 2>&1
t_check "asymmetric: none works, kube-proxy-drop fails, be-liberal works" 0 $? "$(cat "$out/asym.txt")"
a=$(echo "$out/asym/"asym-*)
t_check "asymmetric: node A holds the flow in SYN_SENT (it never saw the SYN-ACK)" "SYN_SENT SYN_SENT SYN_SENT" \
	"$(for w in none kube-proxy-drop be-liberal; do sed -n 's/^nodeA_ct_state=//p' "$a/$w/result.kv"; done | xargs)"
dr=$(sed -n 's/^nodeA_drop_pkts=//p' "$a/kube-proxy-drop/result.kv")
[ "${dr:-0}" -gt 0 ] && t_pass "asymmetric/kube-proxy-drop: node A's DROP rule dropped the handshake's ACK ($dr)" ||
	t_fail "asymmetric/kube-proxy-drop: node A's DROP counter did not move"
t_check "asymmetric/kube-proxy-drop: no client ACK reached the backend; the client got nothing" "0 0" \
	"$(sed -n 's/^client_acks_at_backend=//p;s/^client_bytes=//p' "$a/kube-proxy-drop/result.kv" | xargs)"
t_check "asymmetric/none: the replies came back over node B's link, not node A" 0 \
	"$(tcpdump -nn -r "$a/none/node.pcap" 'src host 198.18.2.10' 2>/dev/null | wc -l)"
[ "$(tcpdump -nn -r "$a/none/client-return.pcap" 'src host 198.18.2.10' 2>/dev/null | wc -l)" -gt 0 ] &&
	t_pass "asymmetric/none: the client's return link carried the backend's segments" ||
	t_fail "asymmetric/none: nothing from the backend on the client's return link"
t_done
