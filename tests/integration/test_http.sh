#!/usr/bin/env bash
# The bug as users meet it (bench/repro --workload http): real nginx and curl through the
# service VIP. With no workaround curl exits 56 "Connection reset by peer" and nginx logs
# the reset; with be-liberal the download completes and its sha256 is the payload's.
# Nothing of nginx is left running, and nothing under /etc or /var is written.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_require_cmd jq
ctr_http_require

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
touch "$out/marker"
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
t_check "$s: nginx's connection reset" "reset 104" "$(r $s '"\(.server.end) \(.server.errno)"')"
t_check "$s: nginx logged it" 1 "$(r $s .server.log | grep -c '(104: Connection reset by peer) while sending response to client')"
t_check "$s: nginx sent less than the payload" 1 "$(($(r $s .server.bytes) < size))"
t_check "$s: nginx and curl name the same 4-tuple" "$(r $s .client.local)" "$(r $s .server.peer)"
dir=$(dirname "$(r $s '.pcaps[0]')")
t_check "$s: injector waited for curl (not stopped)" "command.exit=56 command.stopped=0" \
	"$(grep -E '^command\.(exit|stopped)=' "$dir/inject.kv" | tr '\n' ' ' | sed 's/ $//')"
t_check "$s: nginx's error log in the run directory" 1 "$(grep -c 'Connection reset by peer' "$dir/nginx/error.log")"

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
t_check "nothing written under /etc/nginx, /var/log/nginx, /var/lib/nginx" "" \
	"$(find /etc/nginx /var/log/nginx /var/lib/nginx -newer "$out/marker" 2>/dev/null)"

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
