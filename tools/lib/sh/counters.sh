# shellcheck shell=bash
# Rule counters: the packet count of one INVALID DROP rule in a node namespace, read with
# iptables-save -c or nft list chain: the evidence that a workaround's rule acted.

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

# ctr_nft_counter_parse <NFT_LIST_OUTPUT -> REPLY: packets of the chain's "ct state invalid
# counter" rule (`nft list chain`'s output), "-" when the chain or the rule is not there
ctr_nft_counter_parse() {
	local line counts
	REPLY=-
	while read -r line; do
		if [[ $line == *"ct state invalid counter packets "* ]]; then
			counts=${line#*counter packets }
			REPLY=${counts%% *}
		fi
	done
}
