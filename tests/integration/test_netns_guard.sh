#!/usr/bin/env bash
# ctreset-inject's namespace guard: --flush-ct and ct-entry-lost's entry deletion act only
# on namespaces a ctreset run created (/run/netns/ctr-XXXXXX-* with an owner recorded),
# never on PID 1's, unless --allow-foreign-netns / --allow-host-netns say so. Each refusal
# is checked on a namespace holding one conntrack entry: refused = exit 2 and the entry
# still there; allowed = the entry gone (so a refusal is not just a failure elsewhere).
# The host's own table is never flushed: PID 1's namespace is refused on the host by
# comparison only, and the allowed path is tested in a new PID namespace, whose PID 1 has
# a network namespace of its own (where the tool runs too).
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd conntrack unshare nsenter ip
B=$CTR_BIN
[ -x "$B/ctreset-inject" ] || ctr_die "$CTR_EXIT_FAIL" "$B/ctreset-inject is not built: run 'make'"

out=$(mktemp -d)
prefix=$(ctr_new_prefix)
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; ctr_destroy_prefix "$prefix"; rm -rf "$out"' EXIT

# one ESTABLISHED entry in the namespace NSPATH (a file for nsenter --net)
add_entry() { nsenter --net="$1" conntrack -I -p tcp -s 198.18.9.1 -d 198.18.9.2 --sport 40000 \
	--dport 80 --state ESTABLISHED -t 120 -u ASSURED >/dev/null 2>&1; }
count() { nsenter --net="$1" conntrack -C 2>/dev/null; }
# inject with the namespace NS to flush; the other namespaces do not exist (after the
# flush, the injector fails on them: exit 1). Prints the exit status.
inject_flush() { # NS [OPTION...]
	local ns=$1
	shift
	rm -rf "$out/o"
	"$B/ctreset-inject" --client-ns ctr-000000-none --node-ns ctr-000000-none \
		--backend-ns ctr-000000-none --vip 198.19.0.10:80 --out "$out/o" --flush-ct "$ns" "$@" \
		>/dev/null 2>"$out/err"
	echo $?
}

# 1. a namespace of nobody's run (a container's, a pod's): refused, then allowed
t_foreign_netns 60 # -> $foreign, $holder
# shellcheck disable=SC2154 # foreign: set by t_foreign_netns
add_entry "$foreign" || ctr_skip "conntrack -I failed: no nf_conntrack here"
t_check "foreign namespace: one entry to begin with" 1 "$(count "$foreign")"
t_check "foreign namespace: --flush-ct refused (exit 2)" 2 "$(inject_flush "$foreign")" "$(cat "$out/err")"
grep -q "no ctreset run created it.*--allow-foreign-netns" "$out/err" && t_pass "foreign namespace: the refusal says why and what overrides it" ||
	t_fail "foreign namespace: refusal message: $(cat "$out/err")"
t_check "foreign namespace: the entry is still there" 1 "$(count "$foreign")"
t_check "foreign namespace: nothing written (no --out directory)" no "$([ -e "$out/o" ] && echo yes || echo no)"
t_check "foreign namespace: ct-entry-lost's deletion refused (exit 2)" 2 \
	"$("$B/ctreset-inject" --client-ns ctr-000000-none --node-ns "$foreign" --backend-ns ctr-000000-none \
		--vip 198.19.0.10:80 --out "$out/o" --trigger ct-entry-lost >/dev/null 2>&1; echo $?)"
t_check "foreign namespace: --allow-foreign-netns flushes it (then fails on the missing pods: exit 1)" 1 \
	"$(inject_flush "$foreign" --allow-foreign-netns)" "$(cat "$out/err")"
t_check "foreign namespace: the entry is gone with --allow-foreign-netns" 0 "$(count "$foreign")"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
holder=

# 2. a namespace of this run: ctr-XXXXXX-ROLE with an owner recorded (as topology/up makes)
ns=$prefix-guard
ctr_claim "$prefix" $$ || ctr_die "$CTR_EXIT_FAIL" "cannot record $prefix in $CTR_STATE"
ip netns add "$ns" || ctr_die "$CTR_EXIT_FAIL" "ip netns add $ns failed"
for form in "$ns" "/run/netns/$ns"; do
	add_entry "/run/netns/$ns"
	t_check "run's namespace as '$form': flushed without options (exit 1 after it)" 1 "$(inject_flush "$form")" "$(cat "$out/err")"
	t_check "run's namespace as '$form': the entry is gone" 0 "$(count "/run/netns/$ns")"
done
# the same name without the run's owner record is not enough: the injector looks in an
# empty state directory (the real record stays: without it, any run's reaper would take
# the namespace for a dead run's and remove it)
add_entry "/run/netns/$ns"
mkdir -p "$out/nostate"
t_check "ctr-* name without an owner record: refused (exit 2)" 2 "$(CTR_STATE=$out/nostate inject_flush "$ns")" "$(cat "$out/err")"
t_check "ctr-* name without an owner record: the entry is still there" 1 "$(count "/run/netns/$ns")"

# 3. the host's namespace: PID 1's (when this machine lets root read /proc/1/ns: a sandbox
# may not), else this shell's, the initial one. Refused with and without
# --allow-foreign-netns, by comparison alone: the refusal comes before anything is opened.
host=/proc/1/ns/net
readlink "$host" >/dev/null 2>&1 || host=/proc/$$/ns/net
t_check "host ($host): --flush-ct refused (exit 2)" 2 "$(inject_flush "$host")" "$(cat "$out/err")"
grep -q "it is the host's network namespace" "$out/err" && t_pass "host: the refusal says it is the host's namespace" ||
	t_fail "host: refusal message: $(cat "$out/err")"
t_check "host: --allow-foreign-netns does not cover the host's namespace (exit 2)" 2 \
	"$(inject_flush "$host" --allow-foreign-netns)" "$(cat "$out/err")"
t_check "host: nothing written (no --out directory)" no "$([ -e "$out/o" ] && echo yes || echo no)"
t_check "host: ct-entry-lost with --node-ns $host refused (exit 2)" 2 \
	"$("$B/ctreset-inject" --client-ns ctr-000000-none --node-ns "$host" --backend-ns ctr-000000-none \
		--vip 198.19.0.10:80 --out "$out/o" --trigger ct-entry-lost >/dev/null 2>&1; echo $?)"

# 4. --allow-host-netns, where PID 1 is not the host's init: a new PID namespace whose PID 1
# (this bash) has a new network namespace
export -f add_entry count inject_flush
export B out
# shellcheck disable=SC2016 # the script runs in the inner bash
unshare --pid --fork --mount-proc --net bash -c '
	add_entry /proc/1/ns/net || exit 9
	echo "refused=$(inject_flush /proc/1/ns/net --allow-foreign-netns) left=$(count /proc/1/ns/net)"
	echo "allowed=$(inject_flush /proc/1/ns/net --allow-host-netns) left=$(count /proc/1/ns/net)"
' >"$out/pid1" 2>&1
t_check "PID 1's namespace (own PID namespace): refused without --allow-host-netns, entry kept" \
	"refused=2 left=1" "$(sed -n 1p "$out/pid1")" "$(cat "$out/pid1")"
t_check "PID 1's namespace (own PID namespace): flushed with --allow-host-netns" \
	"allowed=1 left=0" "$(sed -n 2p "$out/pid1")" "$(cat "$out/pid1")"
t_done
