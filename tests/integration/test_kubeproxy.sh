#!/usr/bin/env bash
# kube-proxy as clusters run it: the release profiles (topology/up --kube-proxy) lay out
# exactly the INVALID rule, nfacct object and sysctl topology/kube-proxy-releases lists,
# on iptables-nft and nftables here; bench/matrix --kube-proxy measures seq-above against
# them with the oracle's verdicts and says "exposed or not, and why" (two releases in one
# run, 1.31's nfacct counter in the record and the line), bench/repro --kube-proxy ends
# with the same line; bad input is a usage error. IPVS mode: on a kernel without IPVS (this
# machine's) topology/up --backend ipvs is a skip naming the reason; then bench/repro
# --backend ipvs runs for real inside a Debian 6.1 VM (bench/kernels, about a minute under
# TCG), every scenario of bench/scenarios (the natural ones too) clean as the oracle's IPVS
# row expects, and ct-entry-lost's matrix cell clean there too. Host state unchanged around it all (t_host_compare: other runs' namespaces
# judged by prefix, our own runs' must be gone). bench/kube-proxy-table natively: 16 rows, each
# cell the verdict its run recorded.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd nfacct ipvsadm ipset jq

wd=$(mktemp -d)
trap 'rm -rf "$wd"' EXIT
UP=$CTR_TOP/topology/up DOWN=$CTR_TOP/topology/down M=$CTR_TOP/bench/matrix R=$CTR_TOP/bench/repro
t_host_state >"$wd/before"

# 1. bad input: usage errors, nothing built
bad() { # DESCRIPTION ARGS...
	local what=$1
	shift
	"$@" >"$wd/bad.out" 2>"$wd/bad.err"
	t_check "$what is a usage error" 2 "$?" "$(cat "$wd/bad.err")"
}
bad "--kube-proxy 1.13 (before the profiles)" "$UP" --kube-proxy 1.13
bad "--kube-proxy 1.x" "$UP" --kube-proxy 1.x
bad "nftables mode in 1.28" "$UP" --kube-proxy 1.28 --backend nft
bad "tcpBeLiberal in 1.28" "$UP" --kube-proxy 1.28 --kube-proxy-config tcpBeLiberal=true
bad "an unknown --kube-proxy-config key" "$UP" --kube-proxy 1.31 --kube-proxy-config foo=1
bad "--kube-proxy-config without --kube-proxy" "$UP" --kube-proxy-config tcpBeLiberal=true
bad "an unknown backend" "$UP" --backend ipvx
bad "bench/matrix --kube-proxy with a workaround" "$M" --kube-proxy 1.31 --workaround be-liberal --list
bad "bench/matrix --kube-proxy 1.20 --backend nft" "$M" --kube-proxy 1.20 --backend nft --list
bad "bench/matrix --kube-proxy with an unknown release in the list" "$M" --kube-proxy 1.31,1.13 --list
bad "bench/matrix --kube-proxy 1.15,1.31 --backend nft (1.15 had none of them)" "$M" --kube-proxy 1.15,1.31 --backend nft --list
bad "bench/matrix --kube-proxy all with tcpBeLiberal named for 1.15" "$M" --kube-proxy all,1.15 --kube-proxy-config tcpBeLiberal=true --list
bad "bench/repro --kube-proxy 1.28 --backend nft" "$R" --kube-proxy 1.28 --backend nft --list
bad "bench/repro --kube-proxy with an unknown release" "$R" --kube-proxy 2.0 --list
bad "bench/repro --kube-proxy-config without --kube-proxy" "$R" --kube-proxy-config tcpBeLiberal=true --list
# a list: each release a workaround value, a pair that never existed left out
"$M" --kube-proxy 1.14,1.31 --backend iptables-nft,nft --topology cross-node --family 4 --trigger seq-above --list >"$wd/l.out" 2>"$wd/l.err"
t_check "bench/matrix --kube-proxy 1.14,1.31 --list" 0 "$?" "$(cat "$wd/l.err")"
t_check "the list has iptables-nft x 2 releases + nft x 1.31" \
	"iptables-nft kube-proxy-1.14 reset|iptables-nft kube-proxy-1.31 clean|nft kube-proxy-1.31 reset" \
	"$(awk '{print $2, $5, $7}' "$wd/l.out" | paste -sd'|')"
all=$("$M" --kube-proxy all --backend nft --topology cross-node --family 4 --trigger seq-above --list 2>/dev/null | awk '{print $5}' | paste -sd' ')
t_check "--kube-proxy all --backend nft: the releases with nftables mode the table starts a row at" \
	"kube-proxy-1.29 kube-proxy-1.30 kube-proxy-1.31" "$all"

# 2. each profile's rules in node A (and node B the same), as topology/kube-proxy-releases says
profile() { # VERSION BACKEND CONFIG WANT_RULE WANT_LIBERAL WANT_NFACCT
	local v=$1 b=$2 cfg=$3 want=$4 lib=$5 acct=$6 p got ns
	"$UP" --kube-proxy "$v" --backend "$b" ${cfg:+--kube-proxy-config "$cfg"} >"$wd/up" 2>"$wd/up.err"
	t_check "topology/up --kube-proxy $v --backend $b${cfg:+ $cfg}" 0 "$?" "$(cat "$wd/up.err")"
	p=$(sed -n 's/^PREFIX=//p' "$wd/up")
	[ -n "$p" ] || return
	ours+=("$p")
	for ns in "$p-nodeA" "$p-nodeB"; do
		if [ "$b" = nft ]; then
			got=$(ip netns exec "$ns" nft list ruleset | grep -o 'ct state invalid.*drop' | sed 's/ counter packets [0-9]* bytes [0-9]*//' | head -1)
		else
			got=$(ip netns exec "$ns" iptables-nft-save -t filter | grep -- '--ctstate INVALID' | tr -s ' ')
		fi
		t_check "$v $b${cfg:+ $cfg} $ns: INVALID rule" "$want" "$got"
		t_check "$v $b${cfg:+ $cfg} $ns: nf_conntrack_tcp_be_liberal" "$lib" \
			"$(ip netns exec "$ns" cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal)"
		got=$(ip netns exec "$ns" nfacct list 2>/dev/null | grep -c 'ct_state_invalid_dropped_pkts')
		t_check "$v $b${cfg:+ $cfg} $ns: nfacct ct_state_invalid_dropped_pkts objects" "$acct" "$got"
	done
	grep -qx "KUBE_PROXY=$v" "$wd/up" || [ "$v" = current ] || t_fail "topology.env lacks KUBE_PROXY=$v"
	"$DOWN" --prefix "$p" >/dev/null 2>&1 || t_fail "topology/down $p"
}
ours=()
profile 1.14 iptables-nft "" "" 0 0
profile 1.15 iptables-nft "" "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP" 0 0
profile 1.29 iptables-nft "" "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP" 0 0
profile 1.29 iptables-nft tcpBeLiberal=true "" 1 0
profile 1.31 iptables-nft "" "-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP" 0 1
profile 1.29 nft "" "ct state invalid drop" 0 0
profile current nft "" "" 0 0
profile current nft tcpBeLiberal=true "" 1 0

# 3. measured: seq-above against the releases' rules, verdicts as the oracle says; two
# releases in one run, each its own column, TAP name, JSON object and report line, and
# 1.31's nfacct counter moved on node B (where the DROP rule stopped the segment); on
# the nft backend 1.14 (no nftables mode) is no cell: its column says n/a
"$M" --kube-proxy 1.14,1.31 --backend iptables-nft,nft --topology cross-node --family 4 --trigger seq-above \
	--out "$wd/m2" >"$wd/m2.out" 2>"$wd/m2.err"
t_check "bench/matrix --kube-proxy 1.14,1.31 --trigger seq-above matches the oracle" 0 "$?" "$(tail -n 20 "$wd/m2.out"; tail -n 5 "$wd/m2.err")"
t_check "TAP names the release of each cell" \
	"ok 1 - cross-node/iptables-nft/ipv4 seq-above/kube-proxy-1.14: reset|ok 2 - cross-node/iptables-nft/ipv4 seq-above/kube-proxy-1.31: clean|ok 3 - cross-node/nft/ipv4 seq-above/kube-proxy-1.31: reset" \
	"$(grep '^ok' "$wd"/m2/*/matrix.tap | paste -sd'|')"
t_check "JSON: each cell's kube_proxy version and workaround" "1.14 kube-proxy-1.14|1.31 kube-proxy-1.31|1.31 kube-proxy-1.31" \
	"$(jq -r '.results[] | "\(.kube_proxy.version) \(.workaround)"' "$wd"/m2/*/report.json | paste -sd'|')"
t_check "the table: nft's row n/a under 1.14 (a release without nftables mode), reset under 1.31" \
	"seq-above n/a reset" "$(sed -n '/^cross-node \/ nft \/ ipv4$/,/^$/p' "$wd/m2.out" | awk '$1 == "seq-above" { print $1, $2, $3 }')"
grep -q "^kube-proxy 1.14, iptables mode (iptables-nft, ipv4, cross-node), seq-above: EXPOSED" "$wd/m2.out" ||
	t_fail "the 1.14 line says EXPOSED: $(grep '^kube-proxy ' "$wd/m2.out")"
line=$(grep "^kube-proxy 1.31, iptables mode (iptables-nft, ipv4, cross-node), seq-above: not exposed" "$wd/m2.out")
[[ $line =~ ct_state_invalid_dropped_pkts\ -j\ DROP.*kubeproxy_iptables_ct_state_invalid_dropped_packets_total\ would\ show.*nodeB\ \+([0-9]+) ]] &&
	((BASH_REMATCH[1] > 0)) && t_pass "1.31 seq-above: the DROP rule and nfacct's +${BASH_REMATCH[1]} on node B in the report line" ||
	t_fail "the 1.31 line names the nfacct rule and a nonzero metric on node B: $(grep '^kube-proxy ' "$wd/m2.out")"
n=$(sed -n 's/^nfacct\.ctr-[0-9a-f]*-nodeB=//p' "$wd"/m2/*/*/seq-above+kube-proxy-1.31/record.kv)
[ "${n:-0}" -gt 0 ] && t_pass "1.31 seq-above record: nfacct.nodeB=$n" || t_fail "1.31 seq-above record has no nonzero nfacct.nodeB: $(grep nfacct "$wd"/m2/*/*/seq-above+kube-proxy-1.31/record.kv)"
grep -q '^evidence=.*DROP rule pkts.* nodeB=[1-9]' "$wd"/m2/*/*/seq-above+kube-proxy-1.31/record.kv &&
	t_pass "1.31 seq-above evidence: the release's DROP rule counted on node B" ||
	t_fail "1.31 seq-above evidence lacks node B's DROP rule pkts: $(grep '^evidence=' "$wd"/m2/*/*/seq-above+kube-proxy-1.31/record.kv)"
n=$(grep -c '^nfacct\.' "$wd"/m2/*/*/seq-above+kube-proxy-1.14/record.kv)
t_check "1.14 (no nfacct object): no nfacct counter in the record" 0 "$n"

# bench/repro --kube-proxy: the scenarios without a workaround, a paste-able line each
"$R" --kube-proxy current --backend nft --scenario seq-above --scenario seq-above/be-liberal --out "$wd/r" >"$wd/r.out" 2>"$wd/r.err"
t_check "bench/repro --kube-proxy current --backend nft --scenario seq-above" 0 "$?" "$(tail -n 20 "$wd/r.out"; tail -n 5 "$wd/r.err")"
grep -q "^left out with --kube-proxy .*: seq-above/be-liberal" "$wd/r.out" || t_fail "repro says it left seq-above/be-liberal out: $(head -3 "$wd/r.out")"
t_check "bench/repro --kube-proxy: one kube-proxy line, the matrix's sentence" \
	"kube-proxy 1.33, nftables mode (nft, ipv4, cross-node), seq-above: EXPOSED: the client pod resets the backend's connection (Connection reset by peer) - no INVALID drop rule, nf_conntrack_tcp_be_liberal=0" \
	"$(grep '^kube-proxy ' "$wd/r.out")"

for spec in "1.15 iptables-nft not exposed" "current nft EXPOSED"; do
	read -r v b want <<<"$spec"
	"$M" --kube-proxy "$v" --backend "$b" --topology cross-node --family 4 --trigger seq-above \
		--out "$wd/m" >"$wd/m.out" 2>"$wd/m.err"
	t_check "bench/matrix --kube-proxy $v --backend $b --trigger seq-above matches the oracle" 0 "$?" "$(tail -n 20 "$wd/m.out"; tail -n 5 "$wd/m.err")"
	grep -q "^kube-proxy .*(${b}, ipv4, cross-node), seq-above: ${want}" "$wd/m.out" ||
		t_fail "the report line for $v $b says '$want': $(grep '^kube-proxy ' "$wd/m.out")"
done

# 4. IPVS mode: a skip here (no IPVS or dummy), a real run in the Debian 6.1 VM
if ! . "$CTR_TOP/topology/kube-proxy-ipvs.sh" || ! ctr_ipvs_missing; then
	t_fail "this kernel has IPVS: run bench/repro --backend ipvs natively instead (test to be extended)"
else
	"$UP" --backend ipvs >"$wd/ipvs.out" 2>"$wd/ipvs.err"
	t_check "topology/up --backend ipvs without IPVS is a skip" 4 "$?" "$(cat "$wd/ipvs.err")"
	grep -q "without IPVS\|without the dummy" "$wd/ipvs.err" || t_fail "the skip names the reason: $(cat "$wd/ipvs.err")"
fi
if command -v qemu-system-x86_64 >/dev/null && [ -x /bin/busybox ]; then
	# (and ct-entry-lost, no scenario of bench/scenarios: one matrix cell in the same VM)
	"$CTR_TOP/bench/kernels" --kernel debian:6.1 --out "$wd/k" --timeout 600 --cmd 'bench/repro --backend ipvs &&
		bench/matrix --backend ipvs --trigger ct-entry-lost --workaround none --topology cross-node --family 4' \
		>"$wd/k.out" 2>"$wd/k.err"
	t_check "bench/repro --backend ipvs, bench/matrix ct-entry-lost in a Debian 6.1 VM: every cell as the oracle's IPVS row" 0 "$?" \
		"$(tail -5 "$wd/k.err")" "$(grep -v '^\[' "$wd"/k/*/console.log 2>/dev/null | tail -25)"
	# the table's rows: each scenario of bench/scenarios, expected and observed clean
	names=$(grep -v '^#' "$CTR_TOP/bench/scenarios" | cut -f1)
	t_check "the VM ran every scenario of bench/scenarios ($(wc -l <<<"$names")), each clean" \
		"$(awk '{ print $1, "clean", "clean" }' <<<"$names" | paste -sd'|')" \
		"$(cat "$wd"/k/*/console.log 2>/dev/null | tr -d '\r' | awk -v l="$(paste -sd' ' <<<"$names")" '
			BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) s[a[i]] = 1 }
			($1 in s) && NF >= 3 && $2 != "expected" { print $1, $2, $3 }' | paste -sd'|')"
	t_check "...and ct-entry-lost clean in IPVS mode (the matrix's table)" clean \
		"$(cat "$wd"/k/*/console.log 2>/dev/null | tr -d '\r' | awk '/^cross-node \/ ipvs \/ ipv4$/ { b = 1 } b && $1 == "ct-entry-lost" { print $2; exit }')"
else
	t_fail "no qemu-system-x86_64 or busybox-static (sudo make deps): IPVS mode cannot run on this kernel"
fi

# bench/kube-proxy-table, natively: the README's exposure table, one row per release
# profile and mode (16: 1.14 and 1.15 without nftables mode), each cell the verdict its
# bench/matrix run recorded (EXPOSED reset, partly leak, no clean, skip), exit 0
kt=$wd/kpt
"$CTR_TOP/bench/kube-proxy-table" --out "$kt" >"$wd/kpt.txt" 2>&1
t_check "bench/kube-proxy-table exits 0" 0 "$?" "$(tail -5 "$wd/kpt.txt")"
rows=$(grep -E '^\| (1\.|current)' "$wd/kpt.txt")
t_check "...16 rows: every release profile in each mode it had" 16 "$(grep -c . <<<"$rows")" "$rows"
mism=
while IFS='|' read -r _ rel mode a b c _; do
	rel=$(xargs <<<"$rel") mode=$(xargs <<<"$mode")
	v=${rel%% *} lib=
	[[ $rel == *tcpBeLiberal=true ]] && lib=-liberal
	j=$kt/kube-proxy-$v$lib-$mode.json
	want=$(jq -r '[.results[] | select(.trigger == "seq-above", .trigger == "ack-above", .trigger == "ct-entry-lost")]
		| sort_by(["seq-above", "ack-above", "ct-entry-lost"] as $o | .trigger as $t | $o | index($t))
		| map(if .status == "skip" then "skip" else {reset: "EXPOSED", leak: "partly", clean: "no"}[.observed] // "?" end)
		| join(" ")' "$j" 2>/dev/null)
	got="$(xargs <<<"$a") $(xargs <<<"$b") $(xargs <<<"$c")"
	[ "$want" = "$got" ] || mism+="$rel/$mode: table '$got', its run '$want' ($j); "
done <<<"$rows"
t_check "...each cell the verdict its run recorded" "" "$mism"
t_check "...1.14 iptables is exposed to seq-above, 1.15 iptables is not (KUBE-FORWARD's DROP)" "EXPOSED no" \
	"$(awk -F'|' '$2 ~ /^ 1\.14 $/ && $3 ~ /iptables-nft/ { a = $4 } $2 ~ /^ 1\.15 $/ && $3 ~ /iptables-nft/ { b = $4 } END { gsub(/ /, "", a); gsub(/ /, "", b); print a, b }' <<<"$rows")"

# shellcheck disable=SC2046 # one prefix a word
t_host_compare "around the test" "$wd/before" "${ours[@]}" $(find "$wd" -name prefix -exec cat {} + 2>/dev/null | sort -u)
t_done
