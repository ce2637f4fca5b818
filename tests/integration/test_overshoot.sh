#!/usr/bin/env bash
# small-overshoot's segment must start past the client's window as the nodes' conntrack
# has it, not as the backend's capture had it while the stream was still moving: on
# Debian 5.10 under TCG it landed inside the window (the client SACKed it) and the cell
# came out clean where the kernel resets. The injector sends it in a pause of the stream
# (ctreset-inject: send_in_gap). On this kernel, natively: the cells pass as the oracle
# says; in the backend's capture the segment went out after a quiet gap, the client having
# acknowledged every byte the backend sent before it; the client did not acknowledge it
# (out of its window); and ctreset-review's model of a kernel without ignore-delayed finds
# it "SEQ is over upper bound" (INVALID), the model of this kernel not INVALID.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd tcpdump

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
kv() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1; }

"$CTR_TOP/bench/matrix" --trigger small-overshoot --workaround none --topology cross-node \
	--backend iptables-nft --family 4,6 --out "$out/m" >"$out/m.txt" 2>&1
rc=$?
t_check "bench/matrix small-overshoot/none, IPv4 and IPv6: exit status" 0 "$rc" "$(tail -20 "$out/m.txt")"
n=0
while read -r ik; do
	n=$((n + 1))
	d=${ik%/inject.kv} fam=${ik#*-ipv} fam=${fam%%/*}
	seq=$(kv "$ik" probe.seq) ack0=$(kv "$ik" probe.ack)
	t_check "IPv$fam: the injector says it sent in a pause" 1 \
		"$(kv "$ik" probe.explain | grep -c 'sent in a pause of the stream')" "$(kv "$ik" probe.explain)"
	# backend.pcap, in order: the backend's data segments and the client's ACKs; at the
	# probe, the time since the backend's last data segment and whether the client's last
	# ACK covered all of it; after it, the highest ack or SACK edge of the client
	be=$(kv "$ik" backend) be=${be##*:}
	tcpdump -tt -S -nr "$d/backend.pcap" tcp 2>/dev/null | awk -v seq="$seq" -v port="$be" '
		{ src = $3; sub(/:$/, "", $5) }
		function field(name,   i) { for (i = 1; i < NF; i++) if ($i == name) { v = $(i + 1); sub(/,$/, "", v); return v } return "" }
		src ~ ("\\." port "$") {
			s = field("seq"); split(s, r, ":")
			if (r[1] + 0 == seq && !sent) { sent = 1; gap = $1 - tdata; covered = (cack == dend); next }
			if (r[2] != "" && r[2] + 0 != r[1] + 0 && !sent) { tdata = $1; if (r[2] + 0 > dend) dend = r[2] + 0 }
			next
		}
		{ a = field("ack"); if (a == "") next
		  if (!sent) cack = a + 0
		  else { if (a + 0 > after) after = a + 0; if (match($0, /sack 1 \{[0-9]+:[0-9]+\}/)) { sk = substr($0, RSTART + 8, RLENGTH - 9); split(sk, e, ":"); if (e[2] + 0 > after) after = e[2] + 0 } } }
		END { printf "%d %.3f %d %d\n", sent, gap, covered, (after > seq) }' >"$out/gap"
	read -r sent gap covered acked <"$out/gap"
	t_check "IPv$fam: the segment (seq $seq) is in the backend's capture" 1 "$sent"
	t_check "IPv$fam: sent >= 50 ms after the backend's previous data segment (${gap}s)" 1 \
		"$(awk -v g="$gap" 'BEGIN { print (g >= 0.05) }')"
	t_check "IPv$fam: the client's last ACK before it covered all the backend's data" 1 "$covered" \
		"$(tcpdump -tt -S -nr "$d/backend.pcap" tcp 2>/dev/null | grep -B4 -A2 "seq $seq:")"
	t_check "IPv$fam: the client never acknowledged it (out of its window; ack $ack0)" 0 "$acked" \
		"$(tcpdump -tt -S -nr "$d/backend.pcap" tcp 2>/dev/null | grep -A4 "seq $seq:")"
	"$CTR_BIN/ctreset-review" "$d" --behaviours ignore-delayed=0,rcvwnd-workaround=0 >"$out/r0" 2>&1
	t_check "IPv$fam: the model without ignore-delayed: INVALID, SEQ over upper bound $seq" 1 \
		"$(grep -c "conntrack INVALID: SEQ is over upper bound $seq " "$out/r0")" "$(grep -E 'INVALID|result' "$out/r0")"
	# this kernel's model: IGNOREd with ignore-delayed, else INVALID
	own=$(kv "$d/meta.kv" behaviours) want=1
	[[ $own == *ignore-delayed=1* ]] && want=0
	"$CTR_BIN/ctreset-review" "$d" >"$out/r1" 2>&1
	t_check "IPv$fam: the model of the capture's own kernel ($own): INVALID $want time(s)" "$want" \
		"$(grep -c 'conntrack INVALID' "$out/r1")" "$(grep -E 'INVALID|result' "$out/r1")"
done < <(find "$out/m" -path '*small-overshoot+none/inject.kv' -not -path '*/behaviours/*' | sort)
t_check "two cells checked" 2 "$n"
t_done
