# shellcheck shell=bash
# The live detector beside the bench (sourced by bench/lib.sh): with CTR_DETECT=1
# (bench/repro --detect, bench/matrix --detect) every cell runs ctreset-review --live on
# node A's pod-facing interface (the host-network topology: its uplink, where a host
# client's traffic leaves DNATed), in node A's namespace, as a user would run it on a
# node: started before the injector, stopped with SIGTERM once it is done. Its
# metrics file gives the cell's detect.leaks (ctreset_unnated_segments_total) and
# detect.resets (ctreset_resets_total) in meta.kv; the cell's record compares them
# with its verdict, and a disagreement fails the cell (tools/lib/review/record.c).
# In DIR: detect.txt (its lines and summary), detect.jsonl (its events), detect.prom.

CTR_DETECT_PID=

# ctr_detect_start DIR: the detector started, capturing when this returns (it writes its
# metrics file once its captures are open); DIR/meta.kv gets detect.start_ms, how long
# that took. One that failed to start leaves its reason in DIR/detect.txt, read by
# ctr_detect_stop; one not capturing within CTR_DETECT_START_MS (default 30000: under a
# load of 20-30 on 2 cores a start can take seconds) is stopped, and the cell records
# detect.error (compared as an error, never as a miss: the cell's SYN would have passed
# unseen)
ctr_detect_started() { [ -e "$1" ] || ! kill -0 "$CTR_DETECT_PID" 2>/dev/null; }
ctr_detect_start() {
	local t0
	CTR_DETECT_PID=
	[ "${CTR_DETECT:-0}" = 1 ] || return 0
	rm -f "$1/detect.prom"
	ctr_now
	t0=$REPLY
	"$CTR_BIN/ctreset-review" --live "$DNAT_NODE_POD_IF" --netns "$NS_DNAT_NODE" \
		--metrics "$1/detect.prom" --json-lines "$1/detect.jsonl" >"$1/detect.txt" 2>&1 &
	CTR_DETECT_PID=$!
	if ! ctr_busywait "${CTR_DETECT_START_MS:-30000}" ctr_detect_started "$1/detect.prom"; then
		ctr_detect_abort
		echo "detect.error=not capturing after ${CTR_DETECT_START_MS:-30000} ms" >>"$1/meta.kv"
		return 0
	fi
	ctr_now
	echo "detect.start_ms=$((REPLY - t0))" >>"$1/meta.kv"
	return 0
}

# ctr_detect_gone PID: the process has ended (no longer there, or a zombie not yet waited)
ctr_detect_gone() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}
# ctr_detect_kill PID -> its exit status: SIGTERM, and again after 3 s when it still runs
# (a TERM that came between the fork and the exec was taken by the forked shell's trap,
# the cell's, and lost: the detector never saw it), then SIGKILL after 3 s more: a stop
# bounded in time whatever the timing of the signal
ctr_detect_kill() {
	kill -TERM "$1" 2>/dev/null
	ctr_busywait 3000 ctr_detect_gone "$1" || {
		kill -TERM "$1" 2>/dev/null
		ctr_busywait 3000 ctr_detect_gone "$1" || kill -KILL "$1" 2>/dev/null
	}
	wait "$1"
}

# ctr_detect_stop DIR: stops it (SIGTERM: it prints its summary and writes its metrics a
# last time) and appends its counts to DIR/meta.kv: detect.leaks, detect.resets,
# detect.predicted, detect.kernel_drops; detect.error when it did not run to its end
# (exit 0 nothing leaked, 5 a leak, 6 a reset)
ctr_detect_stop() {
	local rc
	[ -n "$CTR_DETECT_PID" ] || return 0
	ctr_detect_kill "$CTR_DETECT_PID"
	rc=$?
	CTR_DETECT_PID=
	if { [ $rc = 0 ] || [ $rc = "$CTR_EXIT_LEAK" ] || [ $rc = "$CTR_EXIT_RESET" ]; } && [ -s "$1/detect.prom" ]; then
		awk '$1 == "ctreset_unnated_segments_total" { print "detect.leaks=" $2 }
			$1 == "ctreset_resets_total" { print "detect.resets=" $2 }
			$1 == "ctreset_predicted_unnated_segments_total" { print "detect.predicted=" $2 }
			$1 ~ /^ctreset_kernel_drops_total/ { d += $2 }
			END { print "detect.kernel_drops=" d + 0 }' "$1/detect.prom"
	else
		printf 'detect.error=exit %s: %s\n' "$rc" "$(grep -m1 '^ctreset-review:' "$1/detect.txt" 2>/dev/null || tail -n1 "$1/detect.txt" 2>/dev/null)"
	fi >>"$1/meta.kv"
}

# ctr_detect_abort: a cell interrupted: the detector goes with it
ctr_detect_abort() {
	[ -z "$CTR_DETECT_PID" ] || ctr_detect_kill "$CTR_DETECT_PID"
	CTR_DETECT_PID=
}
