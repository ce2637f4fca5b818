#!/usr/bin/env bash
# Bad input at every entry point: unknown names, bad addresses and ports, a missing tool
# or binary, a kernel without the firewall backend (simulated: PATH holds a stand-in), and
# no root (run as nobody). Each gets one line naming the problem — exit 2 for a usage
# error, 1 for a failure, 4 (SKIP) for what this machine lacks — and leaves no namespace
# or state behind.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root

out=$(mktemp -d)
chmod 755 "$out"
trap 'rm -rf "$out"' EXIT
"$CTR_TOP/topology/reap" >/dev/null
# The commands here keep their state (claims, owners) in a directory of this test's own:
# what they leave is told from what other people's runs on this machine leave (their
# killed runs wait for the next reaper at any moment) by where its state is.
CTR_SHARED_STATE=$CTR_STATE
CTR_STATE=$out/state
export CTR_STATE
mkdir -p "$CTR_STATE"
R=$CTR_TOP/bench/repro S=$CTR_TOP/bench/soak T=$CTR_TOP/topology B=$CTR_BIN

# what a finished command may have left: any state in our directory (its owner still
# alive is a process left behind), any namespace of ours; a namespace whose state is in
# the shared directory is someone else's run
leftovers() {
	local f p
	for f in /run/netns/ctr-* "$CTR_STATE"/ctr-*; do
		[ -e "$f" ] || continue
		p=${f##*/}
		p=${p:0:10}
		[ ! -e "$CTR_STATE/$p" ] && [ -e "$CTR_SHARED_STATE/$p" ] && continue
		[ -e "$f" ] && echo "${f##*/}$([ -e "$CTR_STATE/$p/owner" ] && ! ctr_prefix_dead "$p" && echo " (owner alive: $(cat "$CTR_STATE/$p/owner"))")"
	done
}

# Other people's runs on this machine die and leave things too: a command is judged by
# what is left that was not there before it, and its reaper's note about theirs ("reaped
# N dead run(s)") is not part of its error.
before_cmd() { leftovers | sort >"$out/left.before"; }
left_since() { leftovers | sort | comm -13 "$out/left.before" - | tr '\n' ' '; }

# expect RC WORD DESCRIPTION -- CMD...: exit RC, one line on stderr that contains WORD,
# nothing left behind (stdout may say what the run was about to do)
expect() {
	local rc=$1 word=$2 what=$3 msg got
	shift 4
	before_cmd
	msg=$("$@" 2>&1 >/dev/null)
	got=$?
	msg=$(grep -v 'reaped [0-9]* dead run(s)$' <<<"$msg")
	t_check "$what: exit $rc" "$rc" "$got" "$msg"
	t_check "$what: one line" 1 "$(grep -c . <<<"$msg")" "$msg"
	t_check "$what: names '$word'" 1 "$(grep -ciF -- "$word" <<<"$msg")" "$msg"
	t_check "$what: nothing left behind" "" "$(left_since)"
}

# a PATH of this machine's commands without the named ones
path_without() {
	local dir d c
	dir=$(mktemp -d "$out/path.XXXXXX")
	# one ln for them all (thousands of commands: a fork each would take minutes on a
	# loaded machine); a name already linked from an earlier directory stays
	for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
		[ -d "$d" ] && [ ! -L "$d" ] || continue
		find "$d" -maxdepth 1 \( -type f -o -type l \) -perm -u+x -print0 |
			xargs -0 -r ln -s -t "$dir" -- 2>/dev/null
	done
	for c in "$@"; do rm -f "$dir/$c"; done
	chmod 755 "$dir"
	echo "$dir"
}
nocmd=$(path_without iptables-restore iptables-nft-restore)
# a kernel without nf_tables: iptables-nft's own message (iptables 1.8, nft backend)
nokernel=$(path_without iptables-restore iptables-nft-restore)
for c in iptables-restore iptables-nft-restore; do
	cat >"$nokernel/$c" <<'EOF'
#!/bin/sh
cat >/dev/null
echo "iptables-restore v1.8.9 (nf_tables): Could not fetch rule set generation id: Protocol not supported" >&2
exit 1
EOF
	chmod 755 "$nokernel/$c"
done
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# a kernel without br_netfilter: no /proc/sys/net/bridge; the node's sh says so as dash would
nobridge=$(path_without sh)
cat >"$nobridge/sh" <<'EOF'
#!/bin/dash
case "$*" in
*bridge-nf-call-iptables*)
	echo "sh: 1: cannot create /proc/sys/net/bridge/bridge-nf-call-iptables: Directory nonexistent" >&2
	exit 2
	;;
esac
exec /bin/dash "$@"
EOF
chmod 755 "$nobridge/sh"

# --- bench/repro ----------------------------------------------------------------------------
expect 2 no-such-scenario "repro: unknown scenario" -- "$R" --scenario no-such-scenario
expect 2 --bogus "repro: unknown option" -- "$R" --bogus
expect 2 '"0"' "repro: --jobs 0" -- "$R" --jobs 0
expect 2 CTR_POD_CIDR_A "repro: bad pod CIDR" -- env CTR_POD_CIDR_A=198.18.1.0/33 "$R"
expect 2 CTR_WIRE_CIDR "repro: CIDR with host bits" -- env CTR_WIRE_CIDR=198.18.0.1/30 "$R"
expect 2 CTR_VIP "repro: VIP outside the service range" -- env CTR_VIP=198.18.7.7 "$R"
expect 2 CTR_PORT "repro: port 0" -- env CTR_PORT=0 "$R"
expect 2 CTR_TARGET_PORT "repro: port not a number" -- env CTR_TARGET_PORT=http "$R"
expect 1 "not built" "repro: a tool not built" -- env CTR_BIN="$out/nobin" "$R"
expect 1 "cannot create" "repro: artifacts directory impossible" -- "$R" --out /proc/ctreset
expect 4 iptables-restore "repro: iptables-restore missing" -- env PATH="$nocmd" "$R" --scenario seq-above
expect 4 nf_tables "repro: kernel without the nft backend" -- env PATH="$nokernel" "$R" --scenario seq-above
expect 2 --bogus "matrix: unknown option" -- "$CTR_TOP/bench/matrix" --bogus
expect 2 --bogus "load: unknown option" -- "$CTR_TOP/bench/load" --bogus
expect 2 --pairs "soak: --pairs 0" -- "$S" --pairs 0
expect 2 CTR_VIP "soak: bad VIP" -- env CTR_VIP=nope "$S" --pairs 1
expect 4 nf_tables "soak: kernel without the nft backend" -- env PATH="$nokernel" "$S" --pairs 1

# --- topology/ ------------------------------------------------------------------------------
p=$(ctr_new_prefix)
trap 'ctr_destroy_prefix "$p"; rm -rf "$out"' EXIT # should a refused up have built it after all
expect 4 iptables-nft-restore "up: iptables-nft-restore missing" -- env PATH="$nocmd" "$T/up" --prefix "$p"
expect 4 nf_tables "up: kernel without the nft backend" -- env PATH="$nokernel" "$T/up" --prefix "$p"
t_check "up: nothing of the refused prefix remains" "" "$(ctr_prefix_namespaces "$p")$(ls -d "$CTR_STATE/$p" 2>/dev/null)"
expect 4 bridge-nf-call-iptables "up --topology load: kernel without br_netfilter" -- env PATH="$nobridge" "$T/up" --prefix "$p" --topology load --clients 2 --backends 1
expect 2 CTR_EXTRA_SERVICES "up: dummy services not a number" -- env CTR_EXTRA_SERVICES=many "$T/up" --prefix "$p"
expect 2 CTR_EXTRA_SERVICES "up: more dummy services than the cluster range holds" -- env CTR_EXTRA_SERVICES=40000 "$T/up" --prefix "$p"
expect 2 CTR_VIP "up: VIP among the dummy services'" -- env CTR_EXTRA_SERVICES=10 CTR_VIP=198.19.3.235 "$T/up" --prefix "$p"
expect 2 CTR_EXTRA_SERVICES "repro: bad dummy services" -- env CTR_EXTRA_SERVICES=-1 "$R"
expect 2 --services "scale: --services empty" -- "$CTR_TOP/bench/scale" --services ""
expect 2 ipvs "scale: unknown backend" -- "$CTR_TOP/bench/scale" --backends ipvs
expect 2 CTR_EXTRA_SERVICES "scale: N too big" -- "$CTR_TOP/bench/scale" --services "0 99999"
expect 2 --bogus "up: unknown option" -- "$T/up" --bogus
expect 2 --owner "up: --owner without a value" -- "$T/up" --owner
expect 2 --prefix "down: no prefix" -- "$T/down"
expect 2 ctr-zz "down: bad prefix" -- "$T/down" --prefix ctr-zz
expect 2 --all-of-it "reap: unknown option" -- "$T/reap" --all-of-it
expect 2 fix "workaround: unknown action" -- "$T/workaround" fix be-liberal --prefix "$p"
expect 2 magic "workaround: unknown name" -- "$T/workaround" apply magic --prefix "$p"
expect 2 "workaround name" "workaround: no name" -- "$T/workaround" apply
expect 1 "$p" "workaround: no such topology" -- "$T/workaround" apply be-liberal --prefix "$p"
expect 2 --vip "kube-proxy-rules: missing arguments" -- "$T/kube-proxy-rules" --vip 198.19.0.10

# --- the C tools ------------------------------------------------------------------------------
for t in ctreset-inject ctreset-workload ctreset-review; do
	expect 2 --bogus "$t: unknown option" -- "$B/$t" --bogus
done
expect 2 --vip "inject: --vip without a value" -- "$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --out "$out/x" --vip
expect 2 198.19.0.10 "inject: VIP without a port" -- "$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --out "$out/x" --vip 198.19.0.10
expect 2 70000 "inject: port out of range" -- "$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --out "$out/x" --vip 198.19.0.10:70000
expect 2 sideways "inject: unknown trigger" -- "$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --out "$out/x" --vip 198.19.0.10:80 --trigger sideways
expect 1 ctr-000000-none "inject: missing namespace" -- "$B/ctreset-inject" --client-ns ctr-000000-none --node-ns ctr-000000-none --backend-ns ctr-000000-none --vip 198.19.0.10:80 --out "$out/x"
expect 2 sideways "workload: unknown mode" -- "$B/ctreset-workload" sideways
expect 2 -1 "workload: negative timeout" -- "$B/ctreset-workload" client --connect 198.19.0.10:80 --result "$out/r" --timeout -1
expect 2 198.19.0.300:80 "workload: bad address" -- "$B/ctreset-workload" client --connect 198.19.0.300:80 --result "$out/r"
expect 1 198.19.0.10:8080 "workload: address not on this host" -- "$B/ctreset-workload" server --listen 198.19.0.10:8080 --result "$out/r"
expect 2 yaml "review: unknown format" -- "$B/ctreset-review" --verdict "$out" --format yaml
expect 1 "$out/none" "review: missing run directory" -- "$B/ctreset-review" --verdict "$out/none"
mkdir -p "$out/garbage"
printf 'injected=1\nclient=not-an-endpoint\n' >"$out/garbage/inject.kv"
expect 1 not-an-endpoint "review: corrupt inject.kv" -- "$B/ctreset-review" --verdict "$out/garbage"

# --- not root: every entry point says so in one line (SKIP), builds nothing --------------------
# as nobody, from a copy of the checkout nobody can read when it cannot read this one (a
# clone under /root): the checks must not depend on where the clone lives
nb=$CTR_TOP
if ! nobody test -r "$CTR_TOP/tools/lib/sh/lib.sh" || ! nobody test -x "$CTR_BIN/ctreset-inject"; then
	nb=$out/checkout
	mkdir -p "$nb" && tar -C "$CTR_TOP" --exclude=./.git --exclude=./pcaps/runs -cf - . | tar -C "$nb" -xpf -
	chmod -R a+rX "$nb"
	echo "note: as nobody from a copy of the checkout in $nb ($CTR_TOP is not readable by nobody)"
fi
if ! nobody test -r "$nb/tools/lib/sh/lib.sh" || ! nobody test -x "$nb/build/ctreset-inject"; then
	t_skip "the non-root checks: neither $CTR_TOP nor a copy in $nb is readable by nobody"
else
	nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env CTR_TOP="$nb" CTR_BIN="$nb/build" "$@"; }
	R=$nb/bench/repro S=$nb/bench/soak T=$nb/topology B=$nb/build
	expect 4 root "nobody: repro" -- nobody "$R"
	expect 4 root "nobody: soak" -- nobody "$S" --pairs 1
	expect 4 root "nobody: scale" -- nobody "$nb/bench/scale"
	expect 4 root "nobody: up" -- nobody "$T/up"
	expect 4 root "nobody: down" -- nobody "$T/down" --prefix "$p"
	expect 4 root "nobody: reap" -- nobody "$T/reap"
	expect 4 root "nobody: workaround" -- nobody "$T/workaround" apply be-liberal --prefix "$p"
	expect 4 root "nobody: inject" -- nobody "$B/ctreset-inject" --client-ns a --node-ns b --backend-ns c --vip 198.19.0.10:80 --out "$out/x"
	# make: the bench's own line says why; make adds its "Error 4" line after it
	for target in repro soak bench bench-scale; do
		before_cmd
		msg=$(nobody make -s -C "$nb" "$target" SOAK_PAIRS=1 2>&1)
		rc=$?
		t_check "nobody: make $target fails" 1 "$([ "$rc" -ne 0 ] && echo 1)" "$msg"
		t_check "nobody: make $target says it needs root" 1 "$(grep -c 'needs root' <<<"$msg")" "$msg"
		t_check "nobody: make $target left nothing" "" "$(left_since)"
	done
fi
t_done
