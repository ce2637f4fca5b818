#!/usr/bin/env bash
# The host is sacred: the root namespace's firewall, links, sysctls and namespace list
# are the same after a run, after a run interrupted with SIGINT, and after a run killed
# with SIGKILL followed by the next run (whose reaper must remove what the killed one left).
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# the snapshot sees what it claims to: in a namespace of our own, an address, a route, an
# IPv6 route and the bridge's ip6tables sysctl changed between two snapshots must all show
q=$(ctr_new_prefix)
if ctr_claim "$q" $$ && ip netns add "$q-snap"; then
	ip netns exec "$q-snap" bash -c ". '$CTR_TOP/tests/integration/lib.sh'; t_host_state" >"$out/s1" 2>/dev/null
	v6=$(ip netns exec "$q-snap" cat /proc/sys/net/bridge/bridge-nf-call-ip6tables 2>/dev/null)
	ip -n "$q-snap" link add "$q-d" type veth peer name "$q-e" && ip -n "$q-snap" link set "$q-d" up &&
		ip -n "$q-snap" addr add 198.18.200.1/24 dev "$q-d" && ip -n "$q-snap" route add 198.18.201.0/24 via 198.18.200.2 &&
		ip -n "$q-snap" -6 addr add 2001:2:0:c8::1/64 dev "$q-d" nodad &&
		ip -n "$q-snap" -6 route add 2001:2:0:c9::/64 via 2001:2:0:c8::2
	[ -n "$v6" ] && ip netns exec "$q-snap" sh -c "echo $((1 - v6)) >/proc/sys/net/bridge/bridge-nf-call-ip6tables"
	ip netns exec "$q-snap" bash -c ". '$CTR_TOP/tests/integration/lib.sh'; t_host_state" >"$out/s2" 2>/dev/null
	d=$(diff "$out/s1" "$out/s2" | grep '^>')
	found=
	grep -q "$q-d" <<<"$d" && found+="link "
	grep -q 'inet 198.18.200.1/24' <<<"$d" && found+="address "
	grep -q '^> 198.18.201.0/24 via 198.18.200.2' <<<"$d" && found+="route "
	grep -q '^> 2001:2:0:c9::/64 via 2001:2:0:c8::2' <<<"$d" && found+="route6 "
	[ -n "$v6" ] && grep -q "bridge-nf-call-ip6tables=$((1 - v6))" <<<"$d" && found+="bridge-ip6tables "
	want="link address route route6 "
	[ -n "$v6" ] && want+="bridge-ip6tables "
	t_check "the host snapshot sees a new link, address, route, IPv6 route$([ -n "$v6" ] && echo ", bridge-nf-call-ip6tables")" \
		"$want" "$found" "$d"
	# without br_netfilter there is no such sysctl for a run to change: nothing to see
	[ -z "$v6" ] && echo "note: no /proc/sys/net/bridge in a namespace (br_netfilter not loaded): the bridge sysctls are not in the snapshot"
fi
ctr_destroy_prefix "$q"

t_host_state >"$out/before"

# every prefix our runs used (each scenario directory records its own before building
# anything) must have no namespace or state left; the rest as it was
# shellcheck disable=SC2046 # one prefix a word
compare() { t_host_compare "$1" "$out/before" $(cat "$out"/*/*/*/prefix 2>/dev/null); }

"$CTR_TOP/bench/repro" --scenario seq-above --scenario seq-above/be-liberal --out "$out/complete" >"$out/table" 2>&1
t_check "a complete run passes" 0 $? "$(cat "$out/table")"
compare "after a complete run"

# our_topology DIR: a scenario under DIR has recorded its prefix and built its backend
our_topology() {
	local f
	for f in "$1"/*/*/prefix; do
		[ -e "$f" ] && ctr_prefix_namespaces "$(cat "$f")" | grep -q -- '-backend$' && return 0
	done
	return 1
}

# interrupted: SIGINT while scenarios run (two at once), as Ctrl-C would (a background
# job starts with SIGINT ignored; --default-signal gives it back)
setsid env --default-signal=INT "$CTR_TOP/bench/repro" --out "$out/sigint" --jobs 2 >/dev/null 2>&1 &
pid=$!
if ctr_busywait 5000 our_topology "$out/sigint"; then
	sleep 0.1
	kill -INT "$pid"
	wait "$pid"
	t_check "an interrupted run exits 130" 130 $?
else
	t_fail "SIGINT: no topology was built within 5 s: nothing to interrupt"
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid"
fi
compare "after SIGINT"

# killed: SIGKILL leaves its namespaces behind; the next run's reaper removes them. Killed
# once its topology is built, and once its injector captures (no guessed delay: a run
# of seq-above takes about a second, a kill "0.2 s later" could land after its teardown)
injecting() { compgen -G "$1/*/seq-above/client.pcap" >/dev/null; }
for when in built injecting; do
	runs=$out/killed-$when
	setsid "$CTR_TOP/bench/repro" --scenario seq-above --out "$runs" >/dev/null 2>&1 &
	pid=$!
	case $when in
	built) ctr_busywait 5000 our_topology "$runs" ;;
	injecting) ctr_busywait 5000 injecting "$runs" ;;
	esac
	reached=$?
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	prefix=$(cat "$runs"/*/seq-above/prefix 2>/dev/null)
	if [ $reached -ne 0 ] || ! ctr_valid_prefix "$prefix"; then
		t_fail "SIGKILL once $when: not reached within 5 s (prefix '$prefix'): the kill proves nothing"
		continue
	fi
	left=$(ctr_prefix_namespaces "$prefix" | wc -l)
	t_check "SIGKILL once $when left the killed run's namespaces for the reaper" 1 "$((left > 0))" \
		"namespaces of $prefix: $left"
	"$CTR_TOP/bench/repro" --scenario seq-above --out "$out/next-$when" >"$out/next" 2>&1
	t_check "SIGKILL once $when: the next run passes" 0 $? "$(cat "$out/next")"
	t_check "SIGKILL once $when: the next run's reaper removed the killed run" "0 " \
		"$(ctr_prefix_namespaces "$prefix" | wc -l) $(ls -d "$CTR_STATE/$prefix" 2>/dev/null)"
	compare "after SIGKILL once $when and the next run"
done
t_done
