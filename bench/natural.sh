# shellcheck shell=bash
# The natural triggers' part of a scenario (sourced by bench/lib.sh): what the workload and
# the injector need so that the workload's own traffic meets the state, and the workload
# side of the keepalive workaround. Nothing here sends a crafted packet.
#
#   ct-flush     the injector runs Debian's `conntrack -F` in node A's namespace mid-flow
#   idle-expiry  the nodes' nf_conntrack_tcp_timeout_established is CTR_IDLE_TIMEOUT s
#                (default 2; the injector's --ct-timeout, restored after the cell); the
#                stream server pauses CTR_IDLE_TIMEOUT + 1.5 s after 300 ms, then sends
#   keepalive    (a workaround) the client sets TCP keepalive, first probe after 1 s idle

# CTR_IDLE_TIMEOUT: 1..60 s (a longer idle would outlast the cell's bounds)
ctr_natural_check() {
	local t=${CTR_IDLE_TIMEOUT:-2}
	[[ $t =~ ^[0-9]+$ ]] && ((10#$t >= 1 && 10#$t <= 60)) ||
		ctr_die "$CTR_EXIT_USAGE" "argument \"$t\" is wrong: CTR_IDLE_TIMEOUT takes 1 to 60 (seconds)"
}

# ctr_natural_opts TRIGGER WORKAROUND: sets CTR_NATURAL_INJECT_OPTS (the injector's
# options, with --server-arg options that continue CTR_SERVER_OPTS) and appends to
# CTR_CLIENT_CMD, for the stream workload. The http workload cannot
# pause nginx: its idle-expiry cell ends inconclusive (the injector sees no idle gap).
ctr_natural_opts() {
	local t=${CTR_IDLE_TIMEOUT:-2} a
	CTR_NATURAL_INJECT_OPTS=()
	[ "$CTR_WORKLOAD" = stream ] || return 0
	if [ "$1" = idle-expiry ]; then
		t=$((10#$t))
		CTR_NATURAL_INJECT_OPTS=(--ct-timeout "$t")
		# the whole stream must outlast the pause: --timeout given last wins
		for a in --pause-after 300 --pause $((t * 1000 + 1500)) --timeout $((t * 1000 + 6000)); do
			CTR_NATURAL_INJECT_OPTS+=(--server-arg "$a")
		done
		CTR_CLIENT_CMD+=(--timeout $((t * 1000 + 6000)))
	fi
	[ "$2" = keepalive ] && CTR_CLIENT_CMD+=(--keepalive 1)
	return 0
}
