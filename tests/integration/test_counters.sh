#!/usr/bin/env bash
# The counters the injector reads itself over netlink (--count, --nfacct; tools/lib/live/
# counters.c) against the tools' own reading of the same rules, on real topologies: for
# iptables-nft and iptables-legacy (kube-proxy-drop: KUBE-FORWARD's INVALID DROP rule,
# iptables-*-save -c) and nft (nft-invalid-drop: kube-proxy's chain forward, nft list
# chain), ipv4 and ipv6, after a seq-above cell moved node B's rule (non-zero); the cell's
# meta.kv drop lines (the injector's before/after) as the tools read the rule; a chain
# that is not there ("-" both ways); an nfacct object moved by traffic (nfacct get) and
# one that is not there.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_tools
ctr_require_cmd nft nfacct iptables-legacy-save ip6tables-legacy-save

work=$(mktemp -d)
trap 'ctr_cleanup_owned $$; rm -rf "$work"' EXIT

# c_read SPEC NS -> the injector's reading of SPEC in NS ("-": not there)
c_read() { "$CTR_BIN/ctreset-inject" --read-counters --count "$1" --stat-ns "$2" | cut -f3; }
# tool_read BACKEND FAMILY WHERE NS -> the tools' reading: the save's [PKTS:BYTES] of
# WHERE's (a chain's) INVALID DROP rule, or nft's "counter packets N" in WHERE (TABLE
# CHAIN) on the nft backend; "-" when there is none
tool_read() {
	local line
	if [ "$1" = nft ]; then
		ctr_nft_family "$2"
		# shellcheck disable=SC2086 # TABLE CHAIN
		line=$(nsenter --net="/run/netns/$4" nft list chain "$REPLY" $3 2>/dev/null |
			sed -n 's/.*ct state invalid counter packets \([0-9]*\) .*/\1/p' | tail -1)
		echo "${line:--}"
	else
		ctr_fw_tool "$1" "$2" save
		ctr_ipt_counter_parse "$3" < <(nsenter --net="/run/netns/$4" "$REPLY" -c -t filter 2>/dev/null)
		echo "$REPLY"
	fi
}

for cell in iptables-nft:4:kube-proxy-drop iptables-nft:6:kube-proxy-drop \
	iptables-legacy:4:kube-proxy-drop iptables-legacy:6:kube-proxy-drop \
	nft:4:nft-invalid-drop nft:6:nft-invalid-drop; do
	IFS=: read -r b f w <<<"$cell"
	d=$work/$b-$f
	CTR_BACKEND=$b CTR_FAMILY=$f CTR_KEEP_TOPOLOGY=1 CTR_WORKLOAD=stream \
		ctr_run_scenario "$d" "counters/$b/$f" seq-above "$w" clean test 2>"$d.stderr"
	rc=$?
	if [ $rc = "$CTR_EXIT_SKIP" ]; then
		t_skip "$b ipv$f: $(cat "$d/skip" 2>/dev/null)"
		continue
	fi
	t_check "$b ipv$f $w: the seq-above cell completed, clean" "0 clean" \
		"$rc $(sed -n 's/^observed=//p' "$d/verdict.kv")" "$(cat "$d/error" "$d.stderr" 2>/dev/null)"
	p=$(cat "$d/prefix")
	ctr_workaround_counter_spec "$w" "$b" "$f"
	spec=$REPLY
	ctr_table_get workaround "$w" "$([ "$b" = nft ] && echo count.nft || echo count.ipt)"
	where=$REPLY
	c=() t=() m=()
	for n in nodeA nodeB; do
		c+=("$(c_read "$spec" "$p-$n")")
		t+=("$(tool_read "$b" "$f" "$where" "$p-$n")")
		m+=("$(sed -n "s/^drop\.$p-$n=//p" "$d/meta.kv")")
	done
	t_check "$b ipv$f: $spec read over netlink = the tools' reading, node A and node B" \
		"${t[*]}" "${c[*]}"
	t_check "$b ipv$f: node B's rule moved (the segment dropped there), node A's did not" \
		"1 0" "$([ "${t[1]}" -gt 0 ] 2>/dev/null && echo 1) ${t[0]}"
	t_check "$b ipv$f: the cell's meta.kv drop lines = the tools' reading (a new topology: 0 before)" \
		"${t[*]}" "${m[*]}" "$(grep '^drop\.' "$d/meta.kv")"
	# a chain that is not there
	if [ "$b" = nft ]; then
		ctr_nft_family "$f"
		absent=nft:$REPLY:kube-proxy:no-such-chain nwhere="kube-proxy no-such-chain"
	else
		absent=${spec%:*}:KUBE-NO-SUCH-CHAIN nwhere=KUBE-NO-SUCH-CHAIN
	fi
	t_check "$b ipv$f: a chain that is not there: - both ways" "- -" \
		"$(c_read "$absent" "$p-nodeB") $(tool_read "$b" "$f" "$nwhere" "$p-nodeB")"
	if [ "$b$f" = iptables-nft4 ]; then
		# an nfacct object in node B, counting its own OUTPUT traffic (pings to itself)
		nb=/run/netns/$p-nodeB
		nsenter --net="$nb" sh -c 'nfacct add ctreset-test &&
			iptables-nft -A OUTPUT -m nfacct --nfacct-name ctreset-test &&
			ip link set lo up && ping -c 3 -i 0.2 -q 127.0.0.1' >/dev/null 2>&1
		want=$(nsenter --net="$nb" nfacct get ctreset-test 2>/dev/null |
			sed -n 's/.*pkts = 0*\([0-9][0-9]*\),.*/\1/p')
		got=$("$CTR_BIN/ctreset-inject" --read-counters --nfacct ctreset-test --stat-ns "$p-nodeB" | cut -f3)
		t_check "nfacct: an object moved by traffic read over netlink = nfacct get (non-zero)" \
			"$want 1" "$got $([ "${want:-0}" -gt 0 ] && echo 1)"
		t_check "nfacct: an object that is not there: - (nfacct get fails)" "- 1" \
			"$("$CTR_BIN/ctreset-inject" --read-counters --nfacct no-such-object --stat-ns "$p-nodeB" | cut -f3) $(nsenter --net="$nb" nfacct get no-such-object >/dev/null 2>&1 || echo 1)"
	fi
	ctr_destroy_prefix "$p"
done
t_done
