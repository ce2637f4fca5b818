# shellcheck shell=bash
# The topology table: what topology/up can build, one entry each. The build itself is
# topology/up's ctr_up_plan_NAME and ctr_up_links_NAME (dashes as underscores).
#
# Fields: summary (one line); matrix=no: not in the matrix's default list (CTR_TOPOLOGIES);
# triggers: the triggers its matrix cells run (default: the injector's, every one; the
# bench's "connect", a legitimate connection, only where this names it);
# families: the families it is built for (default all; the matrix builds no other); namespaces: how many a complete one
# has (the idempotency check; "load" computes its own); sysctl=KEY=VALUE: written in every
# node when it comes up; client_sysctl=KEY=VALUE: written in the client pod; needs:
# commands it needs (a missing one is a skip).

ctr_table_add topology cross-node \
	"the Kubernetes blog's: client pod on node A, backend pod on node B, a routed wire between the nodes" \
	namespaces=4
ctr_table_add topology same-node \
	"both pods on node A's bridge: the reply is bridged, seen by conntrack only through br_netfilter" \
	namespaces=3 \
	sysctl=net.bridge.bridge-nf-call-iptables=1 sysctl=net.bridge.bridge-nf-call-ip6tables=1
ctr_table_add topology host-network \
	"the client is node A's own stack (a host-network pod): DNAT in nat OUTPUT, replies take INPUT" \
	namespaces=3 needs=nft
ctr_table_add topology asymmetric \
	"cross-node, but node B returns the replies over a link of its own into the client pod: node A sees one direction (kubernetes 94861)" \
	triggers=connect families=4 namespaces=4 \
	client_sysctl=net.ipv4.conf.all.rp_filter=0 client_sysctl=net.ipv4.conf.eth1.rp_filter=0
ctr_table_add topology load \
	"cross-node's two nodes with K client pods (on both nodes) and M backend pods behind the VIP" \
	matrix=no families=4

# the matrix's topologies, and every one topology/up builds
ctr_table_names topology matrix no
# shellcheck disable=SC2034 # for the scripts that source this
CTR_TOPOLOGIES=$REPLY
ctr_table_names topology
# shellcheck disable=SC2034 # for the scripts that source this
CTR_TOPOLOGIES_ALL=$REPLY
