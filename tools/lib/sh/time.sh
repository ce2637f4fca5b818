# shellcheck shell=bash
# Time without forks: milliseconds now, a sleep on a FIFO, and polling with a timeout.

ctr_now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
ctr_now() { local t=${EPOCHREALTIME/[.,]/}; REPLY=$((t / 1000)); } # ms -> REPLY, no fork

# ctr_sleep SECONDS: a sleep without a fork: read with a timeout on a FIFO nobody writes
# (opened read-write, so the open does not block and the read never sees EOF)
CTR_SLEEP_FD=
ctr_sleep() {
	if [ -z "$CTR_SLEEP_FD" ]; then
		local fifo
		fifo=$(mktemp -u "${TMPDIR:-/tmp}/ctreset-sleep.XXXXXX") && mkfifo -m 600 "$fifo" &&
			exec {CTR_SLEEP_FD}<>"$fifo" && rm -f "$fifo" || { sleep "$1"; return 0; }
	fi
	read -r -t "$1" -u "$CTR_SLEEP_FD" _ || true
}

# Poll, don't sleep: ctr_busywait TIMEOUT_MS cmd args... (5 ms steps)
ctr_busywait() {
	local timeout_ms=$1 start
	shift
	ctr_now
	start=$REPLY
	until "$@"; do
		ctr_now
		((REPLY - start >= timeout_ms)) && return 1
		ctr_sleep 0.005
	done
}
