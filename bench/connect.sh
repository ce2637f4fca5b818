# shellcheck shell=bash
# The connect cell (trigger "connect"): one legitimate connection, nothing injected, to see
# what a workaround does to ordinary traffic. It is the cell of the asymmetric topology
# (kubernetes issue 94861): the client pod connects to the backend pod's own address (no
# VIP) through node A's FORWARD hook, where kube-proxy's KUBE-FORWARD chain is, and node B
# returns the replies over a link of its own into the client pod, so node A's conntrack
# sees one direction only: the SYN (entry in SYN_SENT), then the handshake's third packet,
# an ACK from the original direction, which tcp_conntracks[] maps SYN_SENT -> INVALID
# ("invalid state", whatever be_liberal says). Without an INVALID drop on that path it is
# forwarded and the connection works; with one it is dropped, and every later segment:
# the connection never completes. The verdict (works / broken / inconclusive) is
# ctreset-review's (verdict_judge_connect), from the captures and the client's record.
# Sourced by bench/lib.sh.

# ctr_conntrack_invalid NS -> REPLY: the namespace's conntrack "invalid" count (conntrack
# -S, summed over the CPUs), "-" when it cannot be read
ctr_conntrack_invalid() {
	local line n=0 any=0
	while read -r line; do
		[[ $line =~ (^|\ )invalid=([0-9]+) ]] && { n=$((n + BASH_REMATCH[2])); any=1; }
	done < <(nsenter --net="/run/netns/$1" conntrack -S 2>/dev/null)
	REPLY=-
	[ $any = 0 ] || REPLY=$n
}

# ctr_run_connect DIR NAME WORKAROUND: the connect cell on a fresh topology (CTR_TOPOLOGY,
# default asymmetric; CTR_BACKEND, CTR_FAMILY as ctr_topology_up), or on CTR_REUSE_PREFIX's
# (built by the caller with the same workaround: its conntrack tables are flushed and
# left up), in a subshell of its own that removes what it made on SIGTERM/SIGINT. Leaves
# in DIR: client.pcap (every link of the client pod), node.pcap (node A's pod link),
# backend.pcap, server.kv, client.kv, meta.kv (with drop.NS, invalid.NS, ct_state.NS: the
# flow's entry half-way through it, and capture.PLACE.dropped), verdict.kv, result.json and record.kv. Returns as
# ctr_run_scenario: 0 completed (any verdict), 4 this machine cannot build the cell
# (DIR/skip), else non-zero (DIR/error).
ctr_run_connect() (
	[ -z "$CTR_PLACE" ] || ctr_place "$CTR_PLACE"
	dir=$1 workaround=$3 rc=0
	reuse=${CTR_REUSE_PREFIX:-} caps=() server_pid= client_pid=
	: "${CTR_TOPOLOGY:=asymmetric}"
	export CTR_TOPOLOGY
	# shellcheck disable=SC2034 # read by ctr_cell_meta: ctreset-workload's, whatever the runner's
	CTR_WORKLOAD=stream
	[ -d "$dir" ] || mkdir -p "$dir" || exit 1
	ctr_now; t0=$REPLY
	ctr_cell_meta "$dir" "$2" connect "$workaround"
	prefix=${reuse:-$(ctr_new_prefix)}
	echo "$prefix" >"$dir/prefix"
	stop() {
		[ ${#caps[@]} -eq 0 ] || { kill -TERM "${caps[@]}" 2>/dev/null; wait "${caps[@]}" 2>/dev/null; }
		caps=()
		[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null
		[ -z "$client_pid" ] || kill "$client_pid" 2>/dev/null
		server_pid= client_pid=
	}
	trap 'stop; [ -n "$reuse" ] || ctr_destroy_prefix "$prefix"; exit 130' TERM INT
	if [ -z "$reuse" ]; then
		ctr_cell_topology_up "$dir" "$prefix" "$workaround" || exit
	fi
	ctr_load_topology "$prefix"
	# a reused topology: no entry of an earlier cell (the first cell: nothing to flush)
	if [ -n "$reuse" ]; then
		for ns in $NS_NODES; do nsenter --net="/run/netns/$ns" conntrack -F >/dev/null 2>&1; done
	fi
	ctr_now; t_setup=$REPLY
	{
		echo "prefix=$prefix"
		[ -n "$reuse" ] && echo reused_topology=1 || echo reused_topology=0
	} >>"$dir/meta.kv"
	ctr_counted_workaround
	cwa=$REPLY
	declare -A drop0=() inv0=() acct0=()
	for ns in $NS_NODES; do
		ctr_workaround_counter "$ns" "$cwa" "$BACKEND" "$FAMILY"; drop0[$ns]=$REPLY
		ctr_conntrack_invalid "$ns"; inv0[$ns]=$REPLY
		# a kube-proxy release's nfacct counter (from 1.31: its metric)
		[ -z "${KUBE_PROXY:-}" ] || { ctr_nfacct_counter "$ns"; acct0[$ns]=$REPLY; }
	done
	# captures: everything the client pod sees (its eth0 out, its return link in), node A's
	# pod link, the backend's eth0
	scale=${CTR_TIME_SCALE:-1}
	for cap in "$NS_CLIENT:any:client" "$NS_NODE_A:$DNAT_NODE_POD_IF:node" "$NS_BACKEND:eth0:backend"; do
		IFS=: read -r ns ifc place <<<"$cap"
		ip netns exec "$ns" tcpdump -nn -U --immediate-mode -s 128 -i "$ifc" -w "$dir/$place.pcap" tcp 2>"$dir/$place.tcpdump" &
		caps+=($!)
	done
	# each tcpdump says "listening on" once its socket is open (bounded: 5 s a scale)
	for _ in $(seq $((100 * scale))); do
		[ "$(cat "$dir"/*.tcpdump 2>/dev/null | grep -c 'listening on')" -ge 3 ] && break
		ctr_sleep 0.05
	done
	# --daemon returns once the server listens
	if ip netns exec "$NS_BACKEND" "$CTR_BIN/ctreset-workload" server --listen "$BACKEND_EP" \
		--result "$dir/server.kv" --timeout $((2000 * scale)) --daemon --pidfile "$dir/server.pid" 2>>"$dir/error"; then
		server_pid=$(cat "$dir/server.pid" 2>/dev/null)
		ka=()
		[ "$workaround" != keepalive ] || ka=(--keepalive 1)
		ip netns exec "$NS_CLIENT" "$CTR_BIN/ctreset-workload" client --connect "$BACKEND_EP" \
			--result "$dir/client.kv" --timeout $((1000 * scale)) "${ka[@]}" 2>>"$dir/error" &
		client_pid=$!
		# each node's entry of the flow half-way through it (at its end the client's RST,
		# when it closes with unread data, deletes an entry that never saw a reply)
		ctr_sleep "$((500 * scale / 1000)).$((500 * scale % 1000))"
		for ns in $NS_NODES; do
			st=$(nsenter --net="/run/netns/$ns" conntrack -L -p tcp --orig-dst "$BACKEND_IP" 2>/dev/null |
				grep -o 'tcp *6 [0-9]* [A-Z_]*' | awk '{print $4; exit}')
			echo "ct_state.$ns=${st:-none}"
		done >>"$dir/meta.kv"
		wait "$client_pid"
		client_pid=
	else
		echo "the backend's server did not start" >>"$dir/error"
		rc=1
	fi
	ctr_now; t_inject=$REPLY
	# the client's last segments (its FIN) through the nodes and into the captures
	ctr_sleep 0.2
	for ns in $NS_NODES; do
		ctr_workaround_counter "$ns" "$cwa" "$BACKEND" "$FAMILY"
		ctr_drop_delta "$ns" "${drop0[$ns]}" "$REPLY"
		ctr_conntrack_invalid "$ns"
		[ "$REPLY" = - ] || [ "${inv0[$ns]}" = - ] || echo "invalid.$ns=$((REPLY - inv0[$ns]))"
		[ -n "${acct0[$ns]:-}" ] || continue
		ctr_nfacct_counter "$ns"
		[ "$REPLY" = - ] || [ "${acct0[$ns]}" = - ] || echo "nfacct.$ns=$((REPLY - acct0[$ns]))"
	done >>"$dir/meta.kv"
	stop
	for place in client node backend; do
		n=$(sed -n 's/^\([0-9]*\) packets dropped by kernel$/\1/p' "$dir/$place.tcpdump")
		echo "capture.$place.dropped=${n:-0}"
	done >>"$dir/meta.kv"
	ctr_now; t_end=$REPLY
	[ -n "$reuse" ] || ctr_destroy_prefix "$prefix" 2>>"$dir/error"
	ctr_now; t1=$REPLY
	{
		echo "time.setup_ms=$((t_setup - t0))"
		echo "time.inject_ms=$((t_inject - t_setup))"
		echo "time.collect_ms=$((t_end - t_inject))"
		echo "time.teardown_ms=$((t1 - t_end))"
		echo "duration_ms=$((t1 - t0))"
	} >>"$dir/meta.kv"
	[ -s "$dir/error" ] || rm -f "$dir/error"
	"$CTR_BIN/ctreset-review" --verdict "$dir" --format kv --json-out "$dir/result.json" \
		--record "$dir/record.kv" >"$dir/verdict.kv" 2>>"$dir/error" || rc=1
	[ -s "$dir/error" ] || rm -f "$dir/error"
	[ ! -e "$dir/error" ] || ctr_cell_record "$dir"
	exit $rc
)
