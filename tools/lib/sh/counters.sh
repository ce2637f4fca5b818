# shellcheck shell=bash
# Rule counters read from iptables-save -c's text: the packet count of one INVALID DROP
# rule in a node namespace, the cross-check of tests/integration/test_counters.sh. The
# bench reads its counters over netlink: a cell's injector itself (--count,
# tools/lib/live/counters.c; ctr_workaround_counter_spec), the other runners through
# ctr_workaround_counters (one ctreset-inject --read-counters for every node).

# ctr_ipt_counter_parse CHAIN <SAVE_OUTPUT -> REPLY: packets of CHAIN's "--ctstate INVALID
# ... -j DROP" rule (filter table; the last one if several) in the output of SAVE -c -t
# filter (SAVE the backend's save command: iptables-nft-save, ip6tables-legacy-save, ...),
# "-" when absent
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
