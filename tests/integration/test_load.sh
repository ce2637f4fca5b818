#!/usr/bin/env bash
# bench/load, short: curl loops against nginx on two backends, with injections. With no
# workaround the injected downloads are reset (curl 56, nginx 104, matched by 4-tuple)
# and no other; with be-liberal every download completes intact. --detect: the live
# detector on both nodes flags exactly the connections curl saw reset, drops nothing, and
# flags nothing under be-liberal. Everything is torn down.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
ctr_http_require
ctr_require_cmd xmllint

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$CTR_TOP/bench/load" --detect --duration 6 --clients 2 --same-node 1 --workaround none --workaround be-liberal \
	--out "$out" >"$out/report" 2>&1
rc=$?
t_check "bench/load exit status" 0 "$rc" "$(cat "$out/report")"
runs=("$out"/load-*)
run=${runs[0]}
[ -e "$run" ] || run=
declare -A none=() lib=()
while IFS='=' read -r k v; do none[$k]=$v; done <"$run/none/summary.kv"
while IFS='=' read -r k v; do lib[$k]=$v; done <"$run/be-liberal/summary.kv"
state="$(cat "$out/report")"

t_check "none: downloads were made" 1 "$((${none[attempted]:-0} > 0))" "$state"
t_check "none: nginx logged every download (matched by 4-tuple)" "${none[attempted]:-x}" "${none[matched]:-}" "$state"
t_check "none: curl and nginx agree on each download" 0 "${none[disagree]:-x}" "$state"
t_check "none: at least one injection landed" 1 "$((${none[injected]:-0} > 0))" "$state"
t_check "none: downloads were reset" 1 "$((${none[reset]:-0} > 0))" "$state"
t_check "none: nginx saw as many resets as curl" "${none[reset]:-x}" "${none[nginx_reset]:-}" "$state"
t_check "none: every reset is on an injected download" "${none[reset]:-x}" "${none[reset_injected]:-}" "$state"
t_check "none: nothing else failed" 0 "${none[failed]:-x}" "$state"
t_check "be-liberal: injections landed" 1 "$((${lib[injected]:-0} > 0))" "$state"
t_check "be-liberal: nothing leaked" 0 "${lib[leaks]:-x}" "$state"
t_check "be-liberal: no reset" "0 0" "${lib[reset]:-x} ${lib[nginx_reset]:-x}" "$state"
t_check "be-liberal: every download complete and intact" "${lib[attempted]:-x}" "${lib[complete]:-}" "$state"
t_check "the report has a row per workaround, and one per workaround of the detector" 4 "$(grep -cE '^(none|be-liberal) ' "$run/report.txt")"
t_check "none: the detector flagged reset the connections nginx saw reset, no other" \
	"${none[nginx_reset]:-x} ${none[nginx_reset]:-x} 0 0" \
	"${none[nginx_reset_flows]:-} ${none[detect_reset_flows]:-} ${none[detect_missed]:-} ${none[detect_false]:-}" "$state"
t_check "none: the detector flagged un-NATed the connections the injector saw leak" \
	"0 0 ${none[injector_leak_flows]:-x}" "${none[detect_leak_missed]:-} ${none[detect_leak_false]:-} ${none[detect_leak_flows]:-}" "$state"
t_check "the detectors ran on both nodes to their end, with no kernel drop" "0 0 0 0" \
	"${none[detect_drops]:-x} ${none[detect_errors]:-x} ${lib[detect_drops]:-x} ${lib[detect_errors]:-x}" "$state"
t_check "the detectors read segments" "1 1" "$((${none[detect_segments]:-0} > 0)) $((${lib[detect_segments]:-0} > 0))"
t_check "be-liberal: the detector flagged nothing" "0 0" "${lib[detect_reset_flows]:-x} ${lib[detect_leak_flows]:-x}" "$state"
if command -v gnuplot >/dev/null 2>&1; then
	t_check "the plot is written (svg, png)" "1 1" "$([ -s "$run/resets.svg" ] && echo 1) $([ -s "$run/resets.png" ] && echo 1)"
	t_check "the SVG plot is well-formed (xmllint)" "0 svg" \
		"$(xmllint --noout "$run/resets.svg" 2>&1 >/dev/null; echo $?) $(xmllint --xpath 'local-name(/*)' "$run/resets.svg" 2>/dev/null)"
	t_check "the PNG plot starts with PNG's signature" 89504e470d0a1a0a "$(head -c 8 "$run/resets.png" | od -An -tx1 | tr -d ' \n')"
else
	t_skip "bench/load's plot: no gnuplot (Debian package gnuplot-nox)"
fi
t_check "the payload is removed" "" "$(ls "$run/payload" 2>/dev/null)"
t_check "no process of the run left" "" "$(pgrep -a -f "$out" || true)"
left=0
while read -r p; do
	left=$((left + $(ctr_prefix_namespaces "$p" | wc -l)))
done <<<"$(sed -n 's/^prefix=//p' "$run"/*/meta.kv)"
t_check "no namespace of the run left" 0 "$left"
t_done
