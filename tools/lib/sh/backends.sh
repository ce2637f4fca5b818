# shellcheck shell=bash
# The backend and family tables: how a node's rules are written (the ruleset language and
# tool of each backend) and the address families; ctr_fw_tool and ctr_nft_family read them.
#
# Backend fields: summary; lang: the workaround fields that apply (ipt: iptables-restore
# input, nft: nft -f scripts; see workarounds.sh); tool: the iptables variant (its
# -restore/-save, ip6 for IPv6); matrix=no: not in the matrix's default list (CTR_BACKENDS);
# families, topologies: what it is modelled for (else a skip naming its mode); needs:
# commands.
# The generators are topology/kube-proxy.sh (ipt), kube-proxy-nft.sh, kube-proxy-ipvs.sh.

ctr_table_add backend iptables-nft \
	"kube-proxy's iptables mode, its iptables-restore input through iptables-nft" \
	lang=ipt tool=iptables-nft
ctr_table_add backend iptables-legacy \
	"the same input through iptables-legacy (x_tables); a kernel without it is a skip" \
	lang=ipt tool=iptables-legacy
ctr_table_add backend nft \
	"kube-proxy's nftables mode: table ip kube-proxy, services map, service-/endpoint- chains" \
	lang=nft needs=nft
ctr_table_add backend ipvs \
	"kube-proxy's IPVS mode: kube-ipvs0, an ipvsadm virtual server, ipsets, its iptables rules" \
	lang=ipt tool=iptables-nft matrix=no families=4 topologies=cross-node mode="IPVS mode"

ctr_table_names backend matrix no
# shellcheck disable=SC2034 # for the scripts that source this
CTR_BACKENDS=$REPLY
ctr_table_names backend
# shellcheck disable=SC2034 # for the scripts that source this
CTR_BACKENDS_ALL=$REPLY

# families: nft is the nft table family, ipt the iptables tools' prefix
ctr_table_add family 4 "IPv4, from 198.18.0.0/15" nft=ip ipt=ip
ctr_table_add family 6 "IPv6, from 2001:2::/48" nft=ip6 ipt=ip6
ctr_table_names family
# shellcheck disable=SC2034 # for the scripts that source this
CTR_FAMILIES=$REPLY

# firewall tool of an iptables backend and family: ctr_fw_tool BACKEND FAMILY restore|save
# -> REPLY (iptables-nft-save, ip6tables-legacy-restore, ...; ipvs: iptables-nft's, whose
# rules it loads); status 1 for a backend without iptables tool (nft)
ctr_fw_tool() {
	ctr_table_get backend "$1" tool || return 1
	REPLY=${CTR_TABLE["family $2 ipt"]:-ip}${REPLY#ip}-$3
}
# nft table family of a bench family -> REPLY
ctr_nft_family() { REPLY=${CTR_TABLE["family $1 nft"]:-ip}; }
