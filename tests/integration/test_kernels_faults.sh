#!/usr/bin/env bash
# bench/kernels when the VM goes wrong, each ending in a clear result, never a hang:
# 1. KVM that runs the probe but whose guests stay silent (a stand-in qemu first on PATH,
#    tests/integration/qemu-kvm-silent): with --accel auto the first kernel is given up
#    under KVM after --kvm-boot seconds and rerun under TCG, and so is every later kernel
#    of the run; the log, the table and kernels.kv say why. With --accel kvm that kernel
#    is inconclusive at once (no fallback asked for).
# 2. qemu killed (SIGKILL) while its guest runs the command (the 5.10 kernel of that same
#    run): that kernel is inconclusive with the signal named and its console kept,
#    nothing of the VM is left.
# 3. bench/kernels killed (SIGKILL) at a fault point: what it left in the kernel cache is
#    reaped by the next run (here one with bad input: an unknown Debian series, exit 2,
#    which names the suites it searched).
# Around it all: the host's namespaces, firewall, links, sysctls, mounts, /boot,
# /lib/modules, apt and package database unchanged, no qemu of ours left.
# The VMs boot Debian 6.1 and 5.10 (downloaded into the kernel cache, CTR_KERNELS_CACHE,
# the first time) under TCG.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_vm

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
K=$CTR_TOP/bench/kernels
cache=${CTR_KERNELS_CACHE:-$CTR_TOP/build/kernels-cache}
t_host_state >"$out/before"
t_vm_host_state "$out" >"$out/before.extra"
kv() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1; } # FILE KEY

# a PATH where qemu-system-x86_64 is the stand-in, the real one named to it
stub=$out/bin
mkdir -p "$stub"
ln -s "$CTR_TOP/tests/integration/qemu-kvm-silent" "$stub/qemu-system-x86_64"
export CTR_QEMU_REAL
CTR_QEMU_REAL=$(command -v qemu-system-x86_64)

# 1. auto: KVM probed fine, the first guest (6.1) silent -> TCG for it and for the next
# one (5.10); without the fallback the silent guest would wait out --timeout and be
# inconclusive. 2. Then 5.10's qemu is killed while its guest runs its command.
bound=8
: >"$out/qemu.calls"
# shellcheck disable=SC2016 # the guest's shell expands it
CTR_QEMU_LOG=$out/qemu.calls PATH=$stub:$PATH "$K" --kernel debian:6.1 --kernel debian:5.10 --jobs 1 \
	--kvm-boot $bound --timeout 300 --cmd 'uname -r; case $(uname -r) in 5.10.*) sleep 600 ;; esac' \
	--out "$out/a" >"$out/a.table" 2>"$out/a.log" &
kp=$!
k510=$out/a/debian-5.10
# (its command has begun when its uname -r is on the console)
guest_running() { grep -q '^5\.10\.' "$k510/console.log" 2>/dev/null || ! kill -0 "$kp" 2>/dev/null; }
ctr_busywait 600000 guest_running
qp=$(cat "$k510/qemu.pid" 2>/dev/null)
if grep -q '^5\.10\.' "$k510/console.log" 2>/dev/null && [ -n "$qp" ]; then
	t_pass "debian-5.10's guest runs its command (qemu $qp)"
	kill -KILL "$qp"
	ended() { ! kill -0 "$kp" 2>/dev/null; }
	ctr_busywait 30000 ended && t_pass "bench/kernels ended after qemu was killed" || t_fail "bench/kernels still runs 30 s after qemu was killed"
else
	t_fail "debian-5.10's guest never ran its command" "$(cat "$out/a.log" "$out/a.table")"
	kill -KILL "$kp" 2>/dev/null
fi
wait "$kp"
t_check "exit 1 (debian-5.10's qemu killed)" 1 "$?" "$(cat "$out/a.log" "$out/a.table")"
t_check "the stand-in ran: the probe once, under KVM" 1 "$(grep -c '^probe ' "$out/qemu.calls")" "$(cat "$out/qemu.calls")"
grep -q '^acceleration: kvm (a probe VM ran under KVM)' "$out/a.log" && t_pass "the probe chose KVM" ||
	t_fail "the probe did not choose KVM" "$(cat "$out/a.log")"
t_check "qemu calls: the probe, debian-6.1 silent under KVM, then under TCG, then debian-5.10 under TCG" \
	"probe -name - -accel kvm|kvm-silent -name ctr-kernels-debian-6.1 -accel kvm|real -name ctr-kernels-debian-6.1 -accel tcg|real -name ctr-kernels-debian-5.10 -accel tcg" \
	"$(paste -sd'|' "$out/qemu.calls")"
msg="debian-6.1 wrote 0 bytes to its console and its init did not start in $bound s under KVM"
grep -qF "debian-6.1: $msg" "$out/a.log" && grep -q 'falling back to TCG for it and the rest of the run' "$out/a.log" &&
	t_pass "the log says why: $(grep -F "$msg" "$out/a.log" | head -1)" || t_fail "no fallback reason in the log" "$(cat "$out/a.log")"
grep -q "^debian-6.1 .* tcg (KVM given up after $bound s: $msg" "$out/a.table" && t_pass "the table's debian-6.1 line says tcg and why" ||
	t_fail "the table's debian-6.1 line" "$(cat "$out/a.table")"
r=$out/a/kernels.kv
t_check "kernels.kv: accel (the probe's choice)" kvm "$(kv "$r" accel)" "$(cat "$r" 2>/dev/null)"
[[ $(kv "$r" accel_fallback) == "TCG from debian-6.1 on: $msg"* ]] && t_pass "kernels.kv: accel_fallback says why" ||
	t_fail "kernels.kv: accel_fallback is '$(kv "$r" accel_fallback)'"
for l in debian-6.1 debian-5.10; do
	t_check "kernels.kv: $l ran under tcg" tcg "$(kv "$r" "$l.accel")"
	rel=$(kv "$r" "$l.release")
	tr -d '\r' <"$out/a/$l/console.log" 2>/dev/null | grep -qxF "$rel" && t_pass "$l: the guest ran its command under TCG (uname -r: $rel)" ||
		t_fail "$l: no '$rel' in its console" "$(tail -5 "$out/a/$l/console.log" 2>/dev/null)"
done
t_check "kernels.kv: debian-6.1 passed" pass "$(kv "$r" debian-6.1.state)"
t_check "the silent KVM attempt's console kept, empty" 0 "$(stat -c %s "$out/a/debian-6.1/console-kvm.log" 2>/dev/null || echo none)"
[ -n "$(kv "$r" debian-6.1.accel_note)" ] && [ -z "$(kv "$r" debian-5.10.accel_note)" ] &&
	t_pass "kernels.kv: the note is on debian-6.1 only (5.10 never tried KVM)" || t_fail "accel notes: $(grep accel_note "$r")"
# qemu killed mid-kernel: a clear error, the console kept and shown, nothing of it left
t_check "kernels.kv: debian-5.10 inconclusive" inconclusive "$(kv "$r" debian-5.10.state)"
grep -q '^debian-5.10 .* INCONCLUSIVE: qemu was killed (signal KILL) while the guest ran its command' "$out/a.table" &&
	t_pass "the table says qemu was killed, the signal named" || t_fail "no clear error" "$(cat "$out/a.table")"
grep -q '^    ctr-init: running' "$out/a.table" && t_pass "the console's last lines printed" || t_fail "no console lines in the output"
[ -e "$k510/qemu.pid" ] && t_fail "the dead qemu's pidfile left" || t_pass "no stale qemu pidfile"

# --accel kvm: no fallback asked for: that kernel inconclusive after the bound, not the timeout
: >"$out/qemu.calls"
CTR_QEMU_LOG=$out/qemu.calls PATH=$stub:$PATH "$K" --kernel debian:6.1 --accel kvm --kvm-boot 3 --timeout 300 \
	--cmd 'uname -r' --out "$out/k" >"$out/k.table" 2>&1
t_check "--accel kvm, a silent guest: exit 1" 1 "$?" "$(cat "$out/k.table")"
grep -q 'INCONCLUSIVE: debian-6.1 wrote 0 bytes .* in 3 s under KVM .*--accel kvm asked for' "$out/k.table" &&
	t_pass "inconclusive, and says why" || t_fail "no inconclusive line" "$(cat "$out/k.table")"
t_check "--accel kvm: no TCG attempt" "kvm-silent -name ctr-kernels-debian-6.1 -accel kvm" "$(paste -sd'|' "$out/qemu.calls")"

# 3. bench/kernels SIGKILLed while it probes KVM (its probe firmware written): what it left
# in the cache is reaped by the next run, which (an unknown series) exits 2 naming suites
rm -f "$out/fault"
CTR_FAULT_AT=kernels.probe CTR_FAULT_FILE=$out/fault setsid "$K" --kernel debian:6.1 --cmd true \
	--out "$out/f" >"$out/f.log" 2>&1 &
fp=$!
if ctr_busywait 60000 test -s "$out/fault"; then
	left=$(compgen -G "$cache/.probe.$fp.*")
	[ -n "$left" ] && t_pass "stopped at kernels.probe, left: ${left//$'\n'/ }" || t_fail "nothing left at the fault point"
	kill -KILL -- "-$fp"
	wait "$fp" 2>/dev/null
	"$K" --kernel debian:4.2 --out "$out/r" >"$out/r.log" 2>&1
	t_check "debian:4.2: exit 2" 2 "$?" "$(cat "$out/r.log")"
	grep -q 'no linux-image-4.2.\*-amd64-unsigned package in bullseye, bullseye-security, bookworm, bookworm-security, trixie, trixie-security' "$out/r.log" &&
		t_pass "debian:4.2 names the suites it searched" || t_fail "message: $(cat "$out/r.log")"
	grep -qF "reaped what a killed bench/kernels left in $cache: .probe.$fp." "$out/r.log" && t_pass "the next run says what it reaped" ||
		t_fail "the next run did not say it reaped .probe.$fp.*" "$(cat "$out/r.log")"
	compgen -G "$cache/.probe.$fp.*" >/dev/null && t_fail "still there: $(compgen -G "$cache/.probe.$fp.*")" || t_pass "reaped"
else
	t_fail "bench/kernels never reached kernels.probe" "$(cat "$out/f.log")"
	kill -KILL -- "-$fp" 2>/dev/null
fi

# the host as it was
t_host_compare "(namespaces, firewall, links, sysctls)" "$out/before"
for _ in 1 2 3; do
	t_vm_host_state "$out" | diff "$out/before.extra" - >"$out/diff" && break
	sleep 1
done
[ -s "$out/diff" ] && t_fail "host state changed" "$(cat "$out/diff")" || t_pass "mounts, /boot, /lib/modules, apt, dpkg unchanged, no qemu of ours left"
t_done
