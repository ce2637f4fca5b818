#!/usr/bin/env bash
# ct-flush's and ct-entry-lost's entry goes in a pause of the stream, and the pause lasts
# until the entry is gone, however long that takes: under TCG and load conntrack -F took
# 0.3-2.2 s, longer than the pause's old bound (0.8 s), and the table was emptied with the
# stream running, where the client's ACK may make a new, DNATed entry first (a clean cell
# where the oracle says reset). The flush is now the injector's own ctnetlink message;
# natively, with the flush made 0.8 s late (the injector's test hook CTR_FLUSH_DELAY_MS, a
# slow flusher): each cell as the oracle says, the backend still paused when the table was
# empty, and told to resume once it was (within the pause's 2 s bound). The keepalive
# workaround too: its first probe (after 1 s idle) comes while the flush is late.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
kv() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1; }

CTR_FLUSH_DELAY_MS=800 "$CTR_TOP/bench/matrix" --trigger ct-flush --workaround none,keepalive \
	--topology cross-node --backend iptables-nft --family 4 --out "$out/m" >"$out/m.txt" 2>&1
t_check "bench/matrix ct-flush/none,keepalive with a flush 0.8 s late: as the oracle says" 0 $? \
	"$(tail -20 "$out/m.txt")"
n=0
for ik in "$out"/m/*/*/ct-flush+*/inject.kv; do
	[ -f "$ik" ] || continue
	n=$((n + 1))
	w=${ik%/inject.kv} w=${w##*+}
	loss=$(kv "$ik" natural.pause.loss_ms)
	t_check "$w: the flush came in a pause of the stream" 1 \
		"$(kv "$ik" probe.explain | grep -c 'in a pause of the stream')" "$(kv "$ik" probe.explain)"
	t_check "$w: the backend was still paused when the table was empty (loss ${loss} ms)" 0 \
		"$(kv "$ik" natural.pause.resumed_first)" "$(grep '^natural' "$ik")"
	t_check "$w: told to resume once the table was empty, the flush 0.8 s late (800 <= ${loss} < 2000 ms)" 1 \
		"$((${loss:-0} >= 800 && ${loss:-9999} < 2000))" "$(grep '^natural' "$ik")"
	t_check "$w: the backend's own segment made the new entry, un-NATed" 1 \
		"$(kv "$ik" natural.ct_new_from_backend)" "$(cat "${ik%/inject.kv}/ct-events.txt")"
done
t_check "two cells" 2 "$n"

# The keepalive workaround's probe (after 1 s idle) between the loss and the backend's
# resumed segment: under TCG and load the server resumed 590 ms after its signal, the probe
# came first and made a new, DNATed entry (clean). Here a server deaf to the signal
# (--resume-signal dropped, SIGUSR1 ignored: it resumes at the 2 s bound), so the probe comes first every
# time: the injector deletes the entry the probe made, the backend's segment still meets
# none, and the cell resets as the oracle says.
mkdir "$out/deaf"
ln -s "$CTR_BIN/ctreset-review" "$CTR_BIN/ctreset-inject" "$CTR_BIN/ctreset-shard" "$out/deaf/"
cat >"$out/deaf/ctreset-workload" <<EOS
#!/bin/bash
# SIGUSR1 ignored (kept across exec; without --resume-signal no handler replaces it)
trap '' USR1
a=()
for x in "\$@"; do [ "\$x" = --resume-signal ] || a+=("\$x"); done
exec "$CTR_BIN/ctreset-workload" "\${a[@]}"
EOS
chmod 755 "$out/deaf/ctreset-workload"
for t in ct-entry-lost ct-flush; do
	CTR_BIN=$out/deaf "$CTR_TOP/bench/matrix" --trigger "$t" --workaround keepalive \
		--topology cross-node --backend iptables-nft --family 4 --out "$out/k-$t" >"$out/k-$t.txt" 2>&1
	t_check "$t/keepalive, the server resuming at its bound after the client's probe: as the oracle says (reset)" 0 $? \
		"$(tail -20 "$out/k-$t.txt")"
	ik=$(find "$out/k-$t" -path "*/$t+keepalive/inject.kv" | head -1)
	t_check "$t/keepalive: the entry the probe made was deleted again (relost >= 1)" 1 \
		"$(($(kv "$ik" natural.pause.relost) >= 1))" "$(grep '^natural' "$ik")"
done
t_done
