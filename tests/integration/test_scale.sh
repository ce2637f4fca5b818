#!/usr/bin/env bash
# Many services (CTR_EXTRA_SERVICES): the dummy services' rules are kube-proxy's layout
# with the right chain-name hashes, the test service still works behind them and comes
# last in KUBE-SERVICES, the nftables ruleset loads with every service in its map, and a
# short bench/scale run produces its figures, its plot and the right verdicts.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq xmllint
. "$CTR_TOP/topology/kube-proxy.sh"
. "$CTR_TOP/topology/kube-proxy-nft.sh"

N=200
out=$(mktemp -d)
p=$(ctr_new_prefix)
trap 'ctr_destroy_prefix "$p"; rm -rf "$out"' EXIT

# the bulk hashes are the per-key ones (kube-proxy's base32 of sha256)
ctr_extra_table 3 iptables "$out/t" && ctr_extra_table 3 nft "$out/n"
t_check "3 dummy services in the table" 3 "$(wc -l <"$out/t")"
IFS=$'\t' read -r _ _ name ep1 ep2 h0 h1 h2 < <(sed -n 3p "$out/t")
ctr_chain_hashes "${name}tcp" "${name}tcp$ep1" "${name}tcp$ep2"
t_check "bulk chain hashes = per-key hashes (iptables keys)" "${CTR_HASHES[*]}" "$h0 $h1 $h2"
IFS=$'\t' read -r _ _ _ ep1 _ h0 h1 _ < <(sed -n 2p "$out/n")
# kube-proxy's nftables endpoint key writes the endpoint IP/PORT (its chain name's tail)
ctr_chain_hashes "default/extra-1/tcp/http" "default/extra-1/tcp/http__${ep1/:/\/}"
t_check "bulk chain hashes = per-key hashes (nftables keys)" "${CTR_HASHES[0]} ${CTR_HASHES[1]}" "$h0 $h1"

CTR_EXTRA_SERVICES=$N "$CTR_TOP/topology/up" --prefix "$p" >"$out/env"
t_check "up with $N dummy services" 0 $?
nat=$(ip netns exec "$p-nodeA" iptables-save -t nat)
t_check "one KUBE-SVC chain per service" $((N + 1)) "$(grep -c '^:KUBE-SVC-' <<<"$nat")"
t_check "two KUBE-SEP chains per dummy service" $((2 * N + 1)) "$(grep -c '^:KUBE-SEP-' <<<"$nat")"
t_check "the test service's KUBE-SERVICES rule is the last service rule" "-A KUBE-SERVICES -d $CTR_VIP/32" \
	"$(grep -- '^-A KUBE-SERVICES -d' <<<"$nat" | tail -1 | cut -d' ' -f1-4)"
t_check "the nodeports rule stays last" 1 "$(grep -- '^-A KUBE-SERVICES' <<<"$nat" | tail -1 | grep -c KUBE-NODEPORTS)"
ip netns exec "$p-backend" "$CTR_BIN/ctreset-workload" sink --listen 198.18.2.10:8080 --result "$out/sink.kv" \
	--daemon --pidfile "$out/sink.pid" --timeout 20000
ip netns exec "$p-client" "$CTR_BIN/ctreset-workload" latency --connect "$CTR_VIP:$CTR_PORT" --count 20 \
	--result "$out/lat.kv" --timeout 20000
t_check "20 connects through the VIP behind $N services" "ok=20 failed=0" \
	"$(grep -E '^(ok|failed)=' "$out/lat.kv" | tr '\n' ' ' | sed 's/ $//')" "$(cat "$out/lat.kv")"
kill "$(cat "$out/sink.pid")" 2>/dev/null
ctr_destroy_prefix "$p"

# the nftables layout: one transaction, every service in the map
if command -v nft >/dev/null 2>&1; then
	CTR_EXTRA_SERVICES=$N ctr_kube_proxy_nft "$CTR_VIP" "$CTR_PORT" "$CTR_CLUSTER_CIDR" default/ctreset:http 198.18.2.10:8080 >"$out/nft"
	ctr_claim "$p" $$ && ip netns add "$p-nft"
	err=$(ip netns exec "$p-nft" nft -f "$out/nft" 2>&1)
	t_check "the nftables ruleset of $N + 1 services loads" 0 $? "$err"
	t_check "service-ips holds every service" $((N + 1)) \
		"$(ip netns exec "$p-nft" nft -j list map ip kube-proxy service-ips | jq '.nftables[1].map.elem | length')"
	ctr_destroy_prefix "$p"
else
	t_skip "nftables ruleset of $N + 1 services: no nft command (Debian package nftables)"
fi

# the benchmark itself, small: figures for both backends, a plot, the verdicts at N=100
err=$("$CTR_TOP/bench/scale" --services "0 100" --count 20 --loads 1 --out "$out/runs" 2>&1)
t_check "bench/scale at 0 and 100 services passes" 0 $? "$err"
tsv=$(ls "$out"/runs/scale-*/scale.tsv 2>/dev/null)
t_check "a row per backend and N" 4 "$(tail -n +2 "$tsv" | wc -l)" "$err"
for b in iptables nft; do
	t_check "$b verdicts at 100 services: reset, then clean" "reset clean" \
		"$(awk -F'\t' -v b=$b '$1 == b && $2 == 100 {print $12, $13}' "$tsv")" "$err"
done
if command -v gnuplot >/dev/null 2>&1; then
	svg=$(dirname "$tsv")/latency.svg
	t_check "the plot is there" 1 "$([ -s "$svg" ] && echo 1)"
	t_check "the plot is well-formed SVG (xmllint)" "0 svg" \
		"$(xmllint --noout "$svg" 2>&1 >/dev/null; echo $?) $(xmllint --xpath 'local-name(/*)' "$svg" 2>/dev/null)"
else
	t_skip "bench/scale's plot: no gnuplot (Debian package gnuplot-nox)"
fi
t_done
