#!/usr/bin/env bash
# ct-flush's and ct-entry-lost's entry goes in a pause of the stream, and the pause lasts
# until the entry is gone, however long that takes: under TCG and load conntrack -F took
# 0.3-2.2 s, longer than the pause's old bound (0.8 s), and the table was emptied with the
# stream running, where the client's ACK may make a new, DNATed entry first (a clean cell
# where the oracle says reset). Natively, with a conntrack that takes 0.8 s before it
# empties the table and 1.5 s after it (its exit on a slow guest): each cell as the oracle
# says, the backend still paused when the table was empty, and told to resume at
# conntrack's account of it, not at its exit. The keepalive workaround too: its first
# probe (after 1 s idle) comes while conntrack runs.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd conntrack

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
kv() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1; }

real=$(command -v conntrack)
mkdir "$out/bin"
cat >"$out/bin/conntrack" <<EOS
#!/bin/bash
[ "\${1-}" = -F ] || exec "$real" "\$@"
sleep 0.8
"$real" "\$@"
rc=\$?
sleep 1.5
exit \$rc
EOS
chmod 755 "$out/bin/conntrack"

PATH=$out/bin:$PATH "$CTR_TOP/bench/matrix" --trigger ct-flush --workaround none,keepalive \
	--topology cross-node --backend iptables-nft --family 4 --out "$out/m" >"$out/m.txt" 2>&1
t_check "bench/matrix ct-flush/none,keepalive with a slow conntrack -F: as the oracle says" 0 $? \
	"$(tail -20 "$out/m.txt")"
n=0
for ik in "$out"/m/*/*/ct-flush+*/inject.kv; do
	[ -f "$ik" ] || continue
	n=$((n + 1))
	w=${ik%/inject.kv} w=${w##*+}
	loss=$(kv "$ik" natural.pause.loss_ms)
	t_check "$w: conntrack -F ran in a pause of the stream" 1 \
		"$(kv "$ik" probe.explain | grep -c 'in a pause of the stream')" "$(kv "$ik" probe.explain)"
	t_check "$w: the backend was still paused when the table was empty (loss ${loss} ms)" 0 \
		"$(kv "$ik" natural.pause.resumed_first)" "$(grep '^natural' "$ik")"
	t_check "$w: told to resume at conntrack's account, before its exit (800 <= ${loss} < 2300 ms)" 1 \
		"$((${loss:-0} >= 800 && ${loss:-9999} < 2300))" "$(grep '^natural' "$ik")"
	t_check "$w: the backend's own segment made the new entry, un-NATed" 1 \
		"$(kv "$ik" natural.ct_new_from_backend)" "$(cat "${ik%/inject.kv}/ct-events.txt")"
done
t_check "two cells" 2 "$n"
t_done
