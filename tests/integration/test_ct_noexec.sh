#!/usr/bin/env bash
# The natural triggers' conntrack work is done over ctnetlink from the injector: with a
# `conntrack` first in the injector's PATH that only records that it was run (and fails),
# the ct-flush, ct-entry-lost, idle-expiry and delayed-retransmit cells (cross-node,
# iptables-nft, IPv4, no workaround) give the oracle's verdicts, nothing ran that
# conntrack, and the event log (ct-events.txt) and the flush's account are there: the NEW
# event of the entry the backend's segment started after the flush, the table emptied.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq

work=$(mktemp -d)
trap 'ctr_cleanup_owned $$; rm -rf "$work"' EXIT

mkdir "$work/bin" "$work/stub"
printf '#!/bin/sh\necho "conntrack $*" >>%q\nexit 1\n' "$work/ran" >"$work/stub/conntrack"
chmod 755 "$work/stub/conntrack"
for t in ctreset-review ctreset-workload ctreset-shard ctreset-audit; do
	ln -s "$CTR_BIN/$t" "$work/bin/$t"
done
# shellcheck disable=SC2016 # the wrapper's own $PATH and $@, expanded when it runs
printf '#!/bin/sh\nPATH=%q:$PATH exec %q "$@"\n' "$work/stub" "$CTR_BIN/ctreset-inject" >"$work/bin/ctreset-inject"
chmod 755 "$work/bin/ctreset-inject"

CTR_BIN=$work/bin "$CTR_TOP/bench/matrix" --trigger ct-flush,ct-entry-lost,idle-expiry,delayed-retransmit \
	--workaround none --topology cross-node --backend iptables-nft --family 4 --jobs 2 \
	--out "$work/m" --json "$work/m.json" >"$work/m.txt" 2>&1
t_check "the four cells as the oracle says, conntrack not runnable" 0 $? "$(cat "$work/m.txt")"
t_check "...ct-flush, ct-entry-lost, idle-expiry reset; delayed-retransmit clean (>= 6.1: IGNORE)" \
	"ct-entry-lost:reset ct-flush:reset delayed-retransmit:clean idle-expiry:reset" \
	"$(jq -r '[.results[] | "\(.trigger):\(.observed)"] | sort | join(" ")' "$work/m.json")"
t_check "...no conntrack was run" "" "$(cat "$work/ran" 2>/dev/null)"
d=$(jq -r '.results[] | select(.trigger == "ct-flush") | .dir' "$work/m.json")
kv() { sed -n "s/^$2=//p" "$1" | head -1; }
be=$(kv "$d/inject.kv" backend)
t_check "ct-flush: the flush emptied node A's table" "0 1" \
	"$(kv "$d/inject.kv" natural.conntrack_flush.exit) $(kv "$d/inject.kv" natural.conntrack_flush.output | grep -c 'table has been emptied')"
t_check "ct-flush: the event log has the flushed entry's DESTROY and the backend's NEW entry" "1 1" \
	"$(grep -c "\[DESTROY\] tcp      6 [0-9]* ESTABLISHED src=$(kv "$d/inject.kv" client | sed 's/:.*//') .* \[USERSPACE\] portid=" "$d/ct-events.txt") $(grep -c "\[NEW\] tcp      6 [0-9]* ESTABLISHED src=${be%:*} dst=$(kv "$d/inject.kv" client | sed 's/:.*//') sport=${be##*:} " "$d/ct-events.txt")" \
	"$(cat "$d/ct-events.txt")"
t_check "ct-flush: inject.kv has the backend's NEW event" 1 "$(kv "$d/inject.kv" natural.ct_new_from_backend)"
t_done
