# shellcheck shell=bash
# Rule counters read from iptables-save -c's text: the packet count of one INVALID DROP
# rule in a node namespace (bench/load's). The cells' counters are read by the injector
# itself over netlink (--count, tools/lib/live/counters.c; ctr_workaround_counter_spec);
# ctr_workaround_counter reads them the same way for the other runners.

# ctr_ipt_counter NS SAVE CHAIN -> REPLY: packets of CHAIN's "--ctstate INVALID ... -j
# DROP" rule (filter table; the last one if several), "-" when absent. SAVE is the
# backend's save command (iptables-nft-save, ip6tables-legacy-save, ...).
ctr_ipt_counter() { ctr_ipt_counter_parse "$3" < <(nsenter --net="/run/netns/$1" "$2" -c -t filter 2>/dev/null); }
# ctr_ipt_counter_parse CHAIN <SAVE_OUTPUT -> REPLY
ctr_ipt_counter_parse() {
	local line counts
	REPLY=-
	while read -r line; do
		if [[ $line == "["*"-A $1 "*"--ctstate INVALID"*"-j DROP"* ]]; then
			counts=${line%%]*}
			counts=${counts#[}
			REPLY=${counts%%:*}
		fi
	done
}

# packet count of the KUBE-FORWARD INVALID DROP rule in NS -> REPLY, "-" when absent.
# SAVE is the backend's save command (default iptables-save).
ctr_drop_counter() { ctr_ipt_counter "$1" "${2:-iptables-save}" KUBE-FORWARD; }
