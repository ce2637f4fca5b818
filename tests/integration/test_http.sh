#!/usr/bin/env bash
# The bug as users meet it (bench/repro --workload http): real nginx and curl through the
# service VIP. With no workaround curl exits 56 "Connection reset by peer" and nginx logs
# the reset; with be-liberal the download completes and its sha256 is the payload's.
# Nothing of nginx is left running, and nothing under /etc, /var or /run is written (what
# apt, the journal and postgres write aside).
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq
ctr_http_require

out=$(mktemp -d)
# a failed run keeps its evidence (the runs' pcaps, records, nginx's logs, the table):
# moved under CTR_KEEP_DIR (default pcaps/runs/), its path printed
keep_on_failure() {
	local keep=${CTR_KEEP_DIR:-$CTR_TOP/pcaps/runs}/test_http-${out##*.}
	if [ "$T_FAILS" -gt 0 ] && mkdir -p "${keep%/*}" && mv "$out" "$keep"; then
		echo "kept the failed run's artifacts in $keep"
	else
		rm -rf "$out"
	fi
}
trap keep_on_failure EXIT
# every file under /etc, /var and /run with its mtime and size (a listing, not find
# -newer: this machine's clock and its files' mtimes need not agree), less the trees that
# the package manager, the journal, postgres and other people's bench runs write
host_files() {
	find /etc /var /run -xdev \( -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/cache/apt \
		-o -path /var/cache/debconf -o -path /var/log/apt -o -path /var/log/journal -o -path /var/lib/systemd \
		-o -path /var/tmp -o -path /var/lib/postgresql -o -path /var/log/postgresql -o -path /run/netns \
		-o -path "$CTR_STATE" -o -path /run/systemd -o -path /run/user \) -prune -o \
		! -path /var/log/dpkg.log ! -path /var/log/alternatives.log ! -path /etc/ld.so.cache \
		-printf '%p %T@ %s\n' 2>/dev/null | sort
}
host_files >"$out/host-files"
json=$out/report.json
"$CTR_TOP/bench/repro" --workload http --scenario seq-above --scenario seq-above/be-liberal \
	--out "$out/runs" --json "$json" >"$out/table" 2>&1
rc=$?
t_check "repro --workload http exit status" 0 "$rc" "$(cat "$out/table")"
t_check "two results" 2 "$(jq '.results | length' "$json" 2>/dev/null)" "$(cat "$out/table")"
sha=$(cat "$out"/runs/*/payload.sha256)
size=$(stat -c %s "$out"/runs/*/payload)
t_check "the payload is 4 MiB" 4194304 "$size"

r() { jq -r --arg s "$1" ".results[] | select(.scenario == \$s) | $2" "$json"; }
s=seq-above
t_check "$s: workload recorded" http "$(r $s .workload)"
t_check "$s: verdict" reset "$(r $s .observed)" "$(grep -A3 "^$s " "$out/table")"
t_check "$s: curl exit" 56 "$(r $s .client.exit)"
t_check "$s: curl's message" "Recv failure: Connection reset by peer" "$(r $s .client.error)"
t_check "$s: curl's stderr" "curl: (56) Recv failure: Connection reset by peer" "$(r $s .client.stderr)"
t_check "$s: download not intact" 0 "$(r $s .client.intact)"
t_check "$s: client end" reset "$(r $s .client_end)"
# the client's RST reaches nginx reading (ECONNRESET, 104) or on its next write (EPIPE, 32:
# the socket was reset): either is the backend's connection killed
t_check "$s: nginx's connection reset (104 or 32)" "reset 1" \
	"$(r $s '"\(.server.end) \(.server.errno)"' | sed -E 's/ (104|32)$/ 1/')"
t_check "$s: nginx logged it" 1 "$(r $s .server.log | grep -cE '\((104: Connection reset by peer|32: Broken pipe)\) while sending response to client')"
sent=$(r $s .server.bytes)
t_check "$s: nginx sent some but less than the payload" 1 \
	"$([[ $sent =~ ^[0-9]+$ ]] && ((sent > 0 && sent < size)) && echo 1)" "server.bytes=$sent, payload $size"
t_check "$s: nginx and curl name the same 4-tuple" "$(r $s .client.local)" "$(r $s .server.peer)"
dir=$(dirname "$(r $s '.pcaps[0]')")
t_check "$s: injector waited for curl (not stopped)" "command.exit=56 command.stopped=0" \
	"$(grep -E '^command\.(exit|stopped)=' "$dir/inject.kv" | tr '\n' ' ' | sed 's/ $//')"
t_check "$s: nginx's error log in the run directory" 1 "$(grep -cE 'Connection reset by peer|Broken pipe' "$dir/nginx/error.log")"

s=seq-above/be-liberal
t_check "$s: verdict" clean "$(r $s .observed)" "$(grep -A3 "^$s " "$out/table")"
t_check "$s: curl exit" 0 "$(r $s .client.exit)"
t_check "$s: whole payload downloaded" "$size" "$(r $s .client.bytes)"
t_check "$s: sha256 is the payload's" "$sha" "$(r $s .client.sha256)"
t_check "$s: client end" complete "$(r $s .client_end)"
t_check "$s: nginx completed the response" "closed $size" "$(r $s '"\(.server.end) \(.server.bytes)"')"

missing=0
for p in $(jq -r '.results[].pcaps[]' "$json"); do
	[ -s "$p" ] || { missing=$((missing + 1)); echo "  missing: $p"; }
done
t_check "every pcap named in the report exists" 0 "$missing"
t_check "no nginx of the run left running" "" "$(pgrep -a -f "$out/runs" || true)"
t_check "nothing written under /etc, /var or /run (what apt, the journal and postgres write aside)" "" \
	"$(diff "$out/host-files" <(host_files) | sed -n 's/^[<>] \([^ ]*\) .*/\1/p' | sort -u)"

# a missing program is a SKIP that names its package: a PATH without nginx
bin=$out/bin
mkdir "$bin"
for f in /usr/local/sbin/* /usr/sbin/* /sbin/*; do
	[ "${f##*/}" = nginx ] || [ -e "$bin/${f##*/}" ] || ln -s "$f" "$bin/${f##*/}"
done
msg=$(PATH="$bin:/usr/local/bin:/usr/bin:/bin" "$CTR_TOP/bench/repro" --workload http --out "$out/runs" 2>&1)
t_check "without nginx: SKIP" "$CTR_EXIT_SKIP" $? "$msg"
t_check "without nginx: names the package" 1 "$(grep -c 'needs nginx (Debian package nginx' <<<"$msg")" "$msg"
t_done
