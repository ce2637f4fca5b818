#!/usr/bin/env bash
# bench/kernels on other kernels: Debian 5.10 and 6.1 booted in qemu VMs side by side (KVM
# when it works, else TCG) over the host's root, bench/repro inside each, every verdict as
# the oracle (bench/matrix.expect) says for that kernel; then its faults: a VM over its time
# bound is inconclusive (never a pass) with its console kept, a bench/kernels killed with
# SIGKILL leaves no qemu, bad specs are usage errors, a kernel without veth is a SKIP, and
# so is a Debian kernel whose package lists or package cannot be downloaded (the reason
# said). Around it all: the host's namespaces, firewall, links, sysctls,
# mounts, /boot, /lib/modules, apt sources, lists and package database unchanged, no qemu
# of ours left. The first run on a machine fetches the lists of Debian's suites (~28 MB)
# and two kernel packages (~70 MB each) into the kernel cache (CTR_KERNELS_CACHE).
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_vm

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
K=$CTR_TOP/bench/kernels

t_host_state >"$out/before"
t_vm_host_state "$out" >"$out/before.extra"

# 1. Debian 5.10 and 6.1, bench/repro inside each
"$K" --kernel debian:5.10 --kernel debian:6.1 --slice "" --out "$out/k" --timeout 600 >"$out/table" 2>"$out/log"
rc=$?
t_check "bench/kernels --kernel debian:5.10 --kernel debian:6.1 exit status" 0 "$rc" "$(cat "$out/log" "$out/table")"
accel=$(sed -n 's/^acceleration: \([a-z]*\) .*/\1/p' "$out/log")
[[ $accel == kvm || $accel == tcg ]] && t_pass "acceleration said: $(grep '^acceleration:' "$out/log")" || t_fail "no acceleration line"
# the scenarios bench/repro must judge: the rows of bench/scenarios, counted here on their own
n_want=$(grep -cvE '^[[:space:]]*(#|$)' "$CTR_TOP/bench/scenarios")
for series in 5.10 6.1; do
	kd=$out/k/debian-$series j=$out/k/debian-$series/repro.json
	rel=$(jq -r .kernel "$j" 2>/dev/null)
	[[ $rel == "$series".* ]] && t_pass "bench/repro ran on the guest kernel ($rel)" || t_fail "bench/repro's kernel is '$rel', not $series.*"
	t_check "$series: the guest command's status came back" 0 "$(cat "$kd/status" 2>/dev/null)"
	grep -q 'ctr-init: running' "$kd/console.log" 2>/dev/null && t_pass "$series: console log kept" || t_fail "$series: no console log"
	n=0
	while IFS=$'\t' read -r name trigger workaround; do
		want=$(ctr_oracle_ask "$series" <<<"$trigger $workaround cross-node iptables-nft 4" | cut -f1)
		got=$(jq -r --arg s "$name" '.results[] | select(.scenario == $s) | .observed' "$j" 2>/dev/null)
		t_check "$series: $name is $want (the oracle for $series)" "$want" "$got"
		n=$((n + 1))
	done < <(ctr_scenarios)
	t_check "$series: scenarios judged (the rows of bench/scenarios)" "$n_want" "$n"
	t_check "$series: bench/repro's results" "$n_want" "$(jq '.results | length' "$j" 2>/dev/null)"
done
# the table: one row per scenario, one column per kernel, each cell the oracle's verdict
t_check "the table's rows" "$n_want" "$(grep -c '^repro ' "$out/table")" "$(cat "$out/table")"
while IFS=$'\t' read -r name trigger workaround; do
	want=
	for series in 5.10 6.1; do want+=" $(ctr_oracle_ask "$series" <<<"$trigger $workaround cross-node iptables-nft 4" | cut -f1)"; done
	t_check "the table's $name row (5.10, 6.1)" "$want" "$(grep "^repro $name " "$out/table" | awk '{printf " %s", $(NF - 1); printf " %s", $NF}')"
done < <(ctr_scenarios)
grep -q '^PASS: 2 kernel' "$out/table" && t_pass "summary PASS" || t_fail "no PASS summary"
ls "$out"/k/debian-*/matrix-*.json >/dev/null 2>&1 && t_fail "--slice \"\" ran bench/matrix" || t_pass "--slice \"\": bench/repro only"

# 2. a VM over its bound: killed, inconclusive, exit 1, its console kept and printed
"$K" --kernel debian:6.1 --slice "" --out "$out/t" --timeout 10 >"$out/t.table" 2>&1
t_check "a VM over --timeout: exit 1" 1 "$?" "$(cat "$out/t.table")"
grep -q 'INCONCLUSIVE: no result after --timeout 10 s' "$out/t.table" && t_pass "timeout reported inconclusive" || t_fail "timeout not reported" "$(cat "$out/t.table")"
grep -q '^PASS' "$out/t.table" && t_fail "a timed-out run printed PASS" || t_pass "no PASS after a timeout"
[ -e "$out/t/debian-6.1/console.log" ] && t_pass "console of the killed VM kept" || t_fail "no console of the killed VM"

# 3. SIGKILL of bench/kernels mid-boot: its VM dies with it (PR_SET_PDEATHSIG). Before
# qemu starts, bench/kernels probes KVM, looks the package up and may build an initramfs:
# wait for the pidfile or for bench/kernels to end, within the run's own bound
"$K" --kernel debian:6.1 --slice "" --out "$out/s" --timeout 300 >"$out/s.log" 2>&1 &
kp=$!
vm_or_end() { [ -s "$out/s/debian-6.1/qemu.pid" ] || ! kill -0 "$kp" 2>/dev/null; }
ctr_busywait 300000 vm_or_end
qp=$(cat "$out/s/debian-6.1/qemu.pid" 2>/dev/null)
[ -n "$qp" ] && t_pass "VM started (qemu $qp)" || t_fail "no qemu pidfile: bench/kernels ended or 300 s passed first" "$(cat "$out/s.log")"
kill -KILL "$kp"
wait "$kp" 2>/dev/null
qemu_gone() { [ -z "$qp" ] || ! kill -0 "$qp" 2>/dev/null; }
ctr_busywait 10000 qemu_gone && t_pass "no qemu left after SIGKILL" || { t_fail "qemu $qp still runs 10 s after SIGKILL of bench/kernels"; kill -KILL "$qp"; }

# 4. bad input: usage errors before anything runs, a kernel without veth is a SKIP
"$K" --kernel debian:six >"$out/e" 2>&1
t_check "bad debian spec: exit 2" 2 "$?" "$(cat "$out/e")"
"$K" --kernel nosuch >"$out/e" 2>&1
t_check "unknown spec: exit 2" 2 "$?" "$(cat "$out/e")"
img=
for f in "$CTR_TOP"/build/kernels-cache/x/linux-image-6.1.*/boot/vmlinuz-* "${CTR_KERNELS_CACHE:-/nonexistent}"/x/linux-image-6.1.*/boot/vmlinuz-*; do
	[ -e "$f" ] && { img=$f; break; }
done
"$K" --kernel "$img" >"$out/e" 2>&1
t_check "bzImage without --modules: exit 2" 2 "$?" "$(cat "$out/e")"
grep -q 'needs --modules' "$out/e" && t_pass "names --modules" || t_fail "message: $(cat "$out/e")"
fake=$out/fake/lib/modules/6.1.0-fake
mkdir -p "$fake"
printf 'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko\nkernel/net/9p/9pnet_virtio.ko:\nkernel/fs/overlayfs/overlay.ko:\nkernel/net/netfilter/nf_conntrack.ko:\n' >"$fake/modules.dep"
: >"$fake/modules.builtin"
"$K" --kernel "$img" --modules "$fake" --out "$out/f" >"$out/e" 2>&1
t_check "kernel without veth: exit 4 (SKIP)" 4 "$?" "$(cat "$out/e")"
grep -q 'SKIP: kernel without veth' "$out/e" && t_pass "skip names veth" || t_fail "skip reason: $(cat "$out/e")"

# Debian's suites through bench/kernels' own apt, in a cache of their own: the lists of
# the six suites fetched there (the host's apt untouched: below); a series none of them
# has is a usage error naming them
dc=$out/cache-fresh
CTR_KERNELS_CACHE=$dc "$K" --kernel debian:4.2 --out "$out/d0" >"$out/e" 2>&1
t_check "debian:4.2: exit 2" 2 "$?" "$(cat "$out/e")"
grep -q '^bench/kernels: debian:4.2: no linux-image-4.2.\*-amd64-unsigned package in bullseye, bullseye-security, bookworm, bookworm-security, trixie, trixie-security' "$out/e" &&
	t_pass "debian:4.2 names the suites it searched" || t_fail "message" "$(cat "$out/e")"
t_check "the private lists: one Packages file per suite" \
	"bookworm bookworm-security bullseye bullseye-security trixie trixie-security" \
	"$(for f in "$dc"/apt/lists/*_Packages; do f=${f##*_dists_}; echo "${f%%_*}"; done | sort | xargs)"
# a Debian kernel whose package or package lists cannot be downloaded: a SKIP with the
# reason (no proxy listens on port 9: every fetch fails)
CTR_KERNELS_CACHE=$dc http_proxy=http://127.0.0.1:9 "$K" --kernel debian:6.1 --cmd true --out "$out/d1" >"$out/e" 2>&1
t_check "a package that cannot be downloaded: exit 4 (SKIP)" 4 "$?" "$(cat "$out/e")"
grep -q '^debian-6.1: SKIP: download of linux-image-6\.1\..*-amd64-unsigned failed: .*127.0.0.1' "$out/e" &&
	t_pass "the skip says why: $(grep -m1 SKIP "$out/e" | cut -c1-160)" || t_fail "skip reason" "$(cat "$out/e")"
CTR_KERNELS_CACHE=$out/cache-empty http_proxy=http://127.0.0.1:9 "$K" --kernel debian:6.1 --cmd true --out "$out/d2" >"$out/e" 2>&1
t_check "no package lists to be had: exit 4 (SKIP)" 4 "$?" "$(cat "$out/e")"
grep -q "^debian-6.1: SKIP: could not fetch Debian's package lists: .*127.0.0.1" "$out/e" &&
	t_pass "the skip says why: $(grep -m1 SKIP "$out/e" | cut -c1-160)" || t_fail "skip reason" "$(cat "$out/e")"

# the host as it was
for _ in 1 2 3; do
	t_host_state >"$out/after"
	t_vm_host_state "$out" >"$out/after.extra"
	diff --unchanged-line-format= --old-line-format='-%L' --new-line-format='+%L' \
		"$out/before" "$out/after" | grep -v '^[-+]ctr-' >"$out/diff"
	diff "$out/before.extra" "$out/after.extra" >>"$out/diff"
	[ -s "$out/diff" ] || break
	sleep 1
done
[ -s "$out/diff" ] && t_fail "host state changed" "$(cat "$out/diff")" || t_pass "host state unchanged (namespaces, firewall, links, sysctls, mounts, /boot, /lib/modules, apt, dpkg, qemu)"
t_done
