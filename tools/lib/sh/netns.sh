# shellcheck shell=bash
# Namespaces of a run: sysctls only inside them, and a topology's state
# file (topology.env, written by topology/up).

# ctr_sysctl_cmd KEY=VALUE... -> REPLY: " && echo VALUE >/proc/sys/KEY/PATH" for each,
# the writes a node's one `sh -c` makes (its namespace's sysctls, no exec a key)
ctr_sysctl_cmd() {
	local kv key
	REPLY=
	for kv; do
		key=${kv%%=*}
		REPLY+=" && echo ${kv#*=} >/proc/sys/${key//.//}"
	done
}
# ctr_sysctl NS KEY VALUE: only ever inside a bench namespace
ctr_sysctl() {
	[[ $1 == ctr-* ]] || ctr_die "$CTR_EXIT_FAIL" "refusing sysctl outside a bench namespace: '$1'"
	nsenter --net="/run/netns/$1" sysctl -qw "$2=$3"
}

# state file of a topology
ctr_topology_env() { echo "$CTR_STATE/$1/topology.env"; }
ctr_load_topology() {
	local f=$CTR_STATE/$1/topology.env # ctr_topology_env, without a fork
	[ -r "$f" ] || ctr_die "$CTR_EXIT_FAIL" "no topology with prefix '$1' (no $f)"
	# shellcheck disable=SC1090
	. "$f"
}
