#!/usr/bin/env bash
# bench/kernels on another kernel: Debian 6.1 booted in a qemu VM (KVM when it works, else
# TCG) over the host's root, bench/repro inside, every verdict as bench/scenarios expects
# for 6.1; then its faults: a VM over its time bound is inconclusive (never a pass) with
# its console kept, a bench/kernels killed with SIGKILL leaves no qemu, bad specs are
# usage errors and a kernel without veth is a SKIP. Around it all: the host's namespaces,
# firewall, links, sysctls, mounts, /boot, /lib/modules and package database unchanged,
# no qemu of ours left. The first run on a machine downloads one kernel package (~70 MB).
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq
command -v qemu-system-x86_64 >/dev/null || ctr_skip "no qemu-system-x86_64 (sudo make deps installs qemu-system-x86)"
[ -x /bin/busybox ] || ctr_skip "no /bin/busybox (sudo make deps installs busybox-static)"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
K=$CTR_TOP/bench/kernels

# what the VM runs must not touch: mounts (other runs' /run/netns mounts come and go, so
# those are left out), /boot, /lib/modules, the package database, qemu processes
host_extra() {
	echo "## mounts"
	awk '$5 !~ "^/run/netns/" {print $5, $9}' /proc/self/mountinfo | sort
	echo "## boot"
	ls -la --time-style=+%s /boot 2>&1
	echo "## modules"
	ls -la --time-style=+%s /lib/modules 2>&1
	echo "## dpkg"
	md5sum /var/lib/dpkg/status
	# other runs' VMs (another checkout's bench/kernels) come and go: only ours count
	echo "## qemu of this test's bench/kernels"
	pgrep -af 'qemu-system-x86_64 -name ctr-kernels-' | grep -F "$out/" || true
}
t_host_state >"$out/before"
host_extra >"$out/before.extra"

# 1. Debian 6.1, bench/repro inside
"$K" --kernel debian:6.1 --slice "" --out "$out/k" --timeout 600 >"$out/table" 2>"$out/log"
rc=$?
t_check "bench/kernels --kernel debian:6.1 exit status" 0 "$rc" "$(cat "$out/log" "$out/table")"
accel=$(sed -n 's/^acceleration: \([a-z]*\) .*/\1/p' "$out/log")
[[ $accel == kvm || $accel == tcg ]] && t_pass "acceleration said: $(grep '^acceleration:' "$out/log")" || t_fail "no acceleration line"
j=$out/k/debian-6.1/repro.json
rel=$(jq -r .kernel "$j" 2>/dev/null)
[[ $rel == 6.1.* ]] && t_pass "bench/repro ran on the guest kernel ($rel)" || t_fail "bench/repro's kernel is '$rel', not 6.1.*"
t_check "the guest command's status came back" 0 "$(cat "$out/k/debian-6.1/status" 2>/dev/null)"
grep -q 'ctr-init: running' "$out/k/debian-6.1/console.log" 2>/dev/null && t_pass "console log kept" || t_fail "no console log"
n=0
while IFS=$'\t' read -r name trigger workaround; do
	want=$(ctr_oracle_ask 6.1 <<<"$trigger $workaround cross-node iptables-nft 4" | cut -f1)
	got=$(jq -r --arg s "$name" '.results[] | select(.scenario == $s) | .observed' "$j" 2>/dev/null)
	t_check "6.1: $name is $want (the oracle for 6.1)" "$want" "$got"
	row=$(grep "^repro $name " "$out/table" | awk '{print $NF}')
	t_check "6.1: the table's $name cell" "$want" "$row" "$(cat "$out/table")"
	n=$((n + 1))
done < <(ctr_scenarios)
[ $n -ge 4 ] && t_pass "$n scenarios judged" || t_fail "only $n scenarios"
grep -q '^PASS: 1 kernel' "$out/table" && t_pass "summary PASS" || t_fail "no PASS summary"
ls "$out"/k/debian-6.1/matrix-*.json >/dev/null 2>&1 && t_fail "--slice \"\" ran bench/matrix" || t_pass "--slice \"\": bench/repro only"

# 2. a VM over its bound: killed, inconclusive, exit 1, its console kept and printed
"$K" --kernel debian:6.1 --slice "" --out "$out/t" --timeout 10 >"$out/t.table" 2>&1
t_check "a VM over --timeout: exit 1" 1 "$?" "$(cat "$out/t.table")"
grep -q 'INCONCLUSIVE: no result after --timeout 10 s' "$out/t.table" && t_pass "timeout reported inconclusive" || t_fail "timeout not reported" "$(cat "$out/t.table")"
grep -q '^PASS' "$out/t.table" && t_fail "a timed-out run printed PASS" || t_pass "no PASS after a timeout"
[ -e "$out/t/debian-6.1/console.log" ] && t_pass "console of the killed VM kept" || t_fail "no console of the killed VM"

# 3. SIGKILL of bench/kernels mid-boot: its VM dies with it (PR_SET_PDEATHSIG)
"$K" --kernel debian:6.1 --slice "" --out "$out/s" --timeout 300 >/dev/null 2>&1 &
kp=$!
for _ in $(seq 1 100); do [ -s "$out/s/debian-6.1/qemu.pid" ] && break; sleep 0.2; done
qp=$(cat "$out/s/debian-6.1/qemu.pid" 2>/dev/null)
[ -n "$qp" ] && t_pass "VM started (qemu $qp)" || t_fail "no qemu pidfile within 20 s"
kill -KILL "$kp"
wait "$kp" 2>/dev/null
for _ in $(seq 1 25); do [ -n "$qp" ] && kill -0 "$qp" 2>/dev/null || break; sleep 0.2; done
[ -n "$qp" ] && kill -0 "$qp" 2>/dev/null && { t_fail "qemu $qp still runs after SIGKILL of bench/kernels"; kill -KILL "$qp"; } || t_pass "no qemu left after SIGKILL"

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

# the host as it was
for _ in 1 2 3; do
	t_host_state >"$out/after"
	host_extra >"$out/after.extra"
	diff --unchanged-line-format= --old-line-format='-%L' --new-line-format='+%L' \
		"$out/before" "$out/after" | grep -v '^[-+]ctr-' >"$out/diff"
	diff "$out/before.extra" "$out/after.extra" >>"$out/diff"
	[ -s "$out/diff" ] || break
	sleep 1
done
[ -s "$out/diff" ] && t_fail "host state changed" "$(cat "$out/diff")" || t_pass "host state unchanged (namespaces, firewall, links, sysctls, mounts, /boot, /lib/modules, dpkg, qemu)"
t_done
