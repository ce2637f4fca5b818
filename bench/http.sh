# shellcheck shell=bash
# The http workload: the bug as users meet it. nginx (Debian's package, unmodified) serves
# a random payload from the backend pod, curl downloads it through the service VIP from a
# client pod; each side's own record says how the download ended. Sourced by bench/lib.sh.
#
# Pacing: nginx's limit_rate paces each response, so a download lasts long enough to be
# hit mid-transfer (size / rate). curl's own --limit-rate does not do it here: curl 7.88
# reads up to 100 buffers per wake-up while data keeps arriving, and against a server on
# the same machine a 4 MiB download at --limit-rate 500K took 0.01 s.
#
# Why curl sees "Connection reset by peer": once the backend's socket is reset, a client
# that only reads sends nothing, so nothing tells it (the download just stalls). The next
# segment it sends (a window update, or here a TCP keepalive probe after 1 s idle,
# --keepalive-time 1) is DNATed to the backend pod, which has no socket for it and
# answers RST; node A un-NATs that RST, and curl exits 56.

: "${CTR_HTTP_SIZE:=4194304}" # payload bytes
: "${CTR_HTTP_RATE:=2m}"      # nginx limit_rate per response (k, m: KiB/s, MiB/s)
CTR_HTTP_URL_PATH=/payload

# ctr_http_require: SKIP (exit 4) naming the Debian package when a program is missing
ctr_http_require() {
	local cmd pkg
	for cmd in nginx:nginx curl:curl sha256sum:coreutils; do
		pkg=${cmd#*:} cmd=${cmd%%:*}
		command -v "$cmd" >/dev/null 2>&1 ||
			ctr_skip "the http workload needs $cmd (Debian package $pkg; 'sudo make deps' installs it)"
	done
}

# ctr_size_bytes SIZE -> REPLY: bytes of 123, 64K, 4M (KiB, MiB); 1 on a bad size
ctr_size_bytes() {
	local n=${1%[kKmM]}
	[[ $n =~ ^[0-9]+$ ]] || return 1
	case $1 in
	*[kK]) REPLY=$((n * 1024)) ;;
	*[mM]) REPLY=$((n * 1048576)) ;;
	*) REPLY=$n ;;
	esac
	((REPLY >= 1))
}

# ctr_http_check_config: usage errors for CTR_HTTP_SIZE and CTR_HTTP_RATE
ctr_http_check_config() {
	ctr_size_bytes "$CTR_HTTP_SIZE" && ((REPLY <= 1073741824)) ||
		ctr_die "$CTR_EXIT_USAGE" "argument \"$CTR_HTTP_SIZE\" is wrong: payload size is 1 byte to 1G (e.g. 4M)"
	[[ $CTR_HTTP_RATE =~ ^[1-9][0-9]*[km]?$ ]] ||
		ctr_die "$CTR_EXIT_USAGE" "argument \"$CTR_HTTP_RATE\" is wrong: rate is bytes per second, e.g. 512k or 2m"
}

# ctr_http_max_time -> REPLY: curl's --max-time in s, twice the paced duration plus 5,
# at most 55 (the injector waits for curl at most 60 s)
ctr_http_max_time() {
	local size rate
	ctr_size_bytes "$CTR_HTTP_SIZE" && size=$REPLY
	ctr_size_bytes "$CTR_HTTP_RATE" && rate=$REPLY
	REPLY=$((2 * size / rate + 5))
	((REPLY <= 55)) || REPLY=55
}

# ctr_http_payload FILE: writes CTR_HTTP_SIZE random bytes to FILE and their sha256 to
# FILE.sha256; the hash -> REPLY
ctr_http_payload() {
	local size
	ctr_size_bytes "$CTR_HTTP_SIZE" && size=$REPLY
	head -c "$size" /dev/urandom >"$1" && [ "$(stat -c %s "$1")" = "$size" ] || return 1
	read -r REPLY _ < <(sha256sum "$1") && echo "$REPLY" >"$1.sha256"
}

# ctr_nginx_start NS DIR LISTEN PAYLOAD [RATE]: runs nginx in NS with a configuration written to
# DIR/nginx.conf; everything it writes (pid, logs, temp files) stays under DIR, nothing
# under /etc or /var is read or changed. nginx runs in the foreground (daemon off) as a
# child of the calling shell, so that ctr_nginx_stop, called from that same shell, reaps
# it: nothing of a run outlives it, not even as a zombie of init's. Returns once nginx
# listens (it writes its pid file after binding), 1 if it exits first or takes over 5 s.
# Logs: DIR/access.log (one line per request, format below), DIR/error.log
# (at level info: nginx logs a client's reset there, "(104: Connection reset by peer)").
ctr_nginx_start() {
	local ns=$1 dir=$2 listen=$3 payload=$4 rate=${5:-$CTR_HTTP_RATE} pid
	mkdir -p "$dir/tmp" || return 1
	rm -f "$dir/nginx.pid"
	cat >"$dir/nginx.conf" <<NGINX || return 1
# written by ctreset for one run; started with -p $dir/ -e $dir/error.log
daemon off;
pid $dir/nginx.pid;
# the run directory may be private to root (mktemp -d)
user root;
worker_processes 1;
error_log $dir/error.log info;
worker_shutdown_timeout 2s;
events { worker_connections 512; }
http {
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	default_type application/octet-stream;
	# \$remote_addr:\$remote_port is the client pod's own address: kube-proxy DNATs, it
	# does not SNAT pod-to-service traffic, so this matches curl's local address
	log_format ctreset 'client=\$remote_addr:\$remote_port server=\$server_addr:\$server_port '
		'conn=\$connection status=\$status body=\$body_bytes_sent '
		'completion=\$request_completion msec=\$msec';
	access_log $dir/access.log ctreset;
	sendfile on;
	server {
		listen $listen;
		location = $CTR_HTTP_URL_PATH {
			alias $payload;
			limit_rate $rate;
		}
		location / { return 404; }
	}
}
NGINX
	# nsenter enters a network namespace without forking: $! is nginx's master
	nsenter --net="/run/netns/$ns" nginx -q -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" </dev/null &
	pid=$!
	echo "$pid" >"$dir/master.pid"
	ctr_busywait 5000 ctr_nginx_listening "$dir" "$pid" && return 0
	ctr_nginx_stop "$dir"
	return 1
}
# ctr_nginx_listening DIR PID: nginx wrote its pid file (after binding); fails at once
# when it exited instead
ctr_nginx_listening() {
	local p
	ctr_pid_running "$2" || return 0 # gone: the busywait ends, the caller checks
	{ read -r p <"$1/nginx.pid"; } 2>/dev/null && [ "$p" = "$2" ]
}

# ctr_nginx_worker DIR -> REPLY: the pid of nginx's worker (worker_processes 1), the
# process that serves the download; 1 when it has not appeared within 2 s
ctr_nginx_worker() {
	local master
	read -r master <"$1/master.pid" 2>/dev/null || return 1
	ctr_busywait 2000 ctr_nginx_worker_of "$master"
}
ctr_nginx_worker_of() { REPLY=$(pgrep -P "$1" -x nginx) && [[ $REPLY =~ ^[0-9]+$ ]]; }

# ctr_nginx_stop DIR: graceful stop (SIGQUIT lets running responses end, bounded by
# worker_shutdown_timeout), then SIGTERM, then SIGKILL; returns once the master is gone
# and reaped (by this shell, its parent)
ctr_nginx_stop() {
	local pid sig
	read -r pid <"$1/master.pid" 2>/dev/null || return 0
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	for sig in QUIT TERM KILL; do
		ctr_pid_running "$pid" nginx || break
		kill -"$sig" "$pid" 2>/dev/null
		ctr_busywait 3000 ctr_pid_gone "$pid" && break
	done
	ctr_pid_running "$pid" nginx && return 1
	wait "$pid" 2>/dev/null
	return 0
}

# ctr_pid_running PID [COMM]: alive and not a zombie (a daemon's parent is init, which
# may reap it late), and named COMM when given
ctr_pid_running() {
	local stat comm
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	comm=${stat#*(} comm=${comm%%)*} stat=${stat##*) }
	[ "${stat:0:1}" != Z ] && { [ -z "${2-}" ] || [ "$comm" = "$2" ]; }
}
ctr_pid_gone() { ! ctr_pid_running "$1"; }

# ctr_nginx_requests DIR SIZE: one line per request nginx logged, tab-separated:
#   client(ip:port) server(ip:port) conn status body completion msec end errno message
# end: reset (the error log has errno 104 ECONNRESET, or 32 EPIPE after one, for this
# connection), closed (completion OK and SIZE body bytes sent), short (neither).
# message: nginx's own error text for the connection, or -.
ctr_nginx_requests() {
	[ -r "$1/access.log" ] || return 0
	awk -v size="$2" '
	FNR == NR {
		# 2026/11/26 06:21:04 [info] 7303#7303: *1 client prematurely closed connection
		#   (104: Connection reset by peer) while sending response to client, client: ...
		if (match($0, / \*[0-9]+ /) && match($0, /\([0-9]+: [^)]*\)/)) {
			errtext = substr($0, RSTART + 1, RLENGTH - 2)
			split(errtext, e, ":")
			split($0, a, /\*/); split(a[2], b, " "); conn = b[1]
			msg = substr($0, index($0, "*" conn " ") + length(conn) + 2)
			sub(/, client: .*/, "", msg)
			if (!(conn in errno)) { errno[conn] = e[1]; message[conn] = msg }
		}
		next
	}
	{
		delete f
		for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
		c = f["conn"]; en = (c in errno) ? errno[c] : 0
		if (en == 104 || en == 32) end = "reset"
		else if (f["completion"] == "OK" && f["body"] == size) end = "closed"
		else end = "short"
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f["client"], f["server"], c, f["status"],
			f["body"], (f["completion"] == "" ? "-" : f["completion"]), f["msec"], end, en,
			((c in message) ? message[c] : "-")
	}' "$1/error.log" "$1/access.log"
}

# ctr_curl_end EXIT ERRORMSG INTACT -> REPLY: how a download ended, as client.kv says it
# (client_end_parse in tools/lib/review/verdict.c): complete (exit 0, sha256 of what it wrote is
# the payload's), reset (exit 56, "Connection reset by peer"), failed (anything else)
ctr_curl_end() {
	if [ "$1" = 0 ] && [ "$3" = 1 ]; then
		REPLY=complete
	elif [ "$1" = 56 ] && [[ $2 == *"reset by peer"* ]]; then
		REPLY=reset
	else
		REPLY=failed
	fi
}

# curl's --write-out for one download, key=value lines (client.kv's raw form)
CTR_CURL_WRITE_OUT='exit=%{exitcode}\nerror=%{errormsg}\nhttp_code=%{http_code}\nbytes=%{size_download}\nlocal=%{local_ip}:%{local_port}\npeer=%{remote_ip}:%{remote_port}\ntime_total=%{time_total}\n'

# ctr_curl_args OUT URL -> CTR_CURL: the client's command line, writing the body to OUT
ctr_curl_args() {
	ctr_http_max_time
	CTR_CURL=(curl --silent --show-error --max-time "$REPLY" --keepalive-time 1 --output "$1" "$2")
}

# --- one-shot: the pieces ctr_run_scenario calls for CTR_WORKLOAD=http --------------------

# ctr_http_server_start DIR: the payload (CTR_HTTP_PAYLOAD, made in DIR if unset) and
# nginx in the backend pod; meta.kv gets the payload's size and sha256. A trigger whose
# bench arguments have a "body N" line (ctreset-inject --bench-args) is served a body N times the
# payload, at N times the rate (the same duration), written into DIR and removed with the
# download: delayed-retransmit releases its held segment once the backend has sent the
# client's max window past it, and receive autotuning grows curl's to 2.9-4.8 MB
# (measured), more than a 4 MiB body holds after the flow is learned.
ctr_http_server_start() {
	local dir=$1 payload=${CTR_HTTP_PAYLOAD:-} times=1 rate where args trigger workaround i
	if [ -z "$payload" ]; then
		payload=$dir/payload
		ctr_http_payload "$payload" || { echo "cannot write the payload $payload" >>"$dir/error"; return 1; }
	fi
	trigger=$(sed -n 's/^trigger=//p' "$dir/meta.kv")
	workaround=$(sed -n 's/^workaround=//p' "$dir/meta.kv")
	ctr_natural_lines "$trigger" "$workaround"
	while IFS=$'\t' read -r where args; do
		[ "$where" != body ] || times=$args
	done <<<"$REPLY"
	rate=$CTR_HTTP_RATE
	if [ "$times" != 1 ]; then
		for ((i = 0; i < times; i++)); do cat "$payload"; done >"$dir/body" &&
			read -r REPLY _ < <(sha256sum "$dir/body") && echo "$REPLY" >"$dir/body.sha256" ||
			{ echo "cannot write the body $dir/body" >>"$dir/error"; return 1; }
		payload=$dir/body
		ctr_size_bytes "$CTR_HTTP_RATE" && rate=$((REPLY * times))
	fi
	{
		echo "payload=$payload"
		echo "payload.bytes=$(stat -c %s "$payload")"
		echo "payload.sha256=$(cat "$payload.sha256")"
		echo "http.rate=$rate"
	} >>"$dir/meta.kv"
	ctr_nginx_start "$NS_BACKEND" "$dir/nginx" "$BACKEND_IP:$TARGET_PORT" "$payload" "$rate" 2>>"$dir/error"
}

# ctr_http_stall DIR MS KEEPALIVE EXTRA: idle-expiry under http (the trigger's "stall"
# line, ctreset-inject --bench-args: bench/triggers.sh). nginx cannot pause a response by
# itself the way the stream server does (--pause-after/--pause), so the injector stops
# nginx's worker mid-response for MS (SIGSTOP, then SIGCONT: a backend that stalls, as
# behind a slow upstream or in a long pause of the application) and the flow idles; when it
# continues, its next segment is the first packet after the idle, as in production when a
# server resumes a response. A client that speaks first after an idle (a second request on
# a keep-alive connection) is not a reset: its segment is picked up from the client's side,
# DNATed, and the reply NATed (measured: curl, two requests 2.5 s apart on one connection,
# nodes' timeout 1 s: both complete, nothing leaked). curl's TCP keepalive (to notice a
# reset) is KEEPALIVE s (past the stall unless the cell's workaround is keepalive), and its
# --max-time and the injector's --wait-command grow by EXTRA s: the injector computes both.
# Appends to CTR_NATURAL_INJECT_OPTS; edits CTR_CLIENT_CMD and CTR_INJECT_OPTS.
ctr_http_stall() {
	local i
	ctr_nginx_worker "$1/nginx" || { echo "nginx's worker not found" >>"$1/error"; return 1; }
	CTR_NATURAL_INJECT_OPTS+=(--stall-pid "$REPLY" --stall "$2")
	for i in "${!CTR_CLIENT_CMD[@]}"; do
		case ${CTR_CLIENT_CMD[i]} in
		--keepalive-time) CTR_CLIENT_CMD[i + 1]=$3 ;;
		--max-time) CTR_CLIENT_CMD[i + 1]=$((CTR_CLIENT_CMD[i + 1] + $4)) ;;
		esac
	done
	for i in "${!CTR_INJECT_OPTS[@]}"; do
		[ "${CTR_INJECT_OPTS[i]}" != --wait-command ] || CTR_INJECT_OPTS[i + 1]=$((CTR_INJECT_OPTS[i + 1] + $4 * 1000))
	done
}

# ctr_http_client DIR -> CTR_CLIENT_CMD, CTR_INJECT_OPTS: curl under the injector, which
# waits for it to finish (a download's end is part of the outcome). Its --write-out goes
# to the injector's stdout (DIR/client.out), its error message to DIR/curl.err.
# shellcheck disable=SC2034 # CTR_CLIENT_CMD and CTR_INJECT_OPTS are read by ctr_run_scenario
ctr_http_client() {
	ctr_curl_args "$1/download" "http://$VIP:$PORT$CTR_HTTP_URL_PATH"
	CTR_CLIENT_CMD=("${CTR_CURL[@]}" --stderr "$1/curl.err" --write-out "$CTR_CURL_WRITE_OUT")
	ctr_http_max_time
	# a 4 MiB transfer through three whole-frame captures overflows the default 1 MiB ring
	# the flow is learned once curl acknowledged 64 KiB of it: the response's header is
	# data too, and a flow learned from it alone (nginx's worker descheduled between its
	# writev of the header and its first sendfile) could be reset before any of the body,
	# nginx logging 0 bytes sent (test_http's "server.bytes=0", ~1 in 10 make check runs)
	CTR_INJECT_OPTS=(--wait-command $(((REPLY + 2) * 1000)) --capture-buffer 4096 --learn-bytes 65536)
}

# ctr_http_records DIR: stops nginx, then writes client.kv (curl's outcome, the download's
# sha256 against the payload's) and server.kv (nginx's record of the same 4-tuple), the
# records ctreset-review reads; the download itself is removed (its hash is kept)
ctr_http_records() {
	local dir=$1 k v exit=- error=- bytes=- local_ep=- peer=- code=- sha=- want intact=0 size
	local -A meta=()
	ctr_nginx_stop "$dir/nginx" || echo "nginx did not stop" >>"$dir/error"
	while IFS='=' read -r k v; do meta[$k]=$v; done <"$dir/meta.kv"
	want=${meta[payload.sha256]:-} size=${meta[payload.bytes]:-0}
	if [ -s "$dir/client.out" ]; then
		while IFS='=' read -r k v; do
			case $k in
			exit) exit=$v ;; error) error=${v:--} ;; bytes) bytes=$v ;; local) local_ep=$v ;;
			peer) peer=$v ;; http_code) code=$v ;;
			esac
		done <"$dir/client.out"
	fi
	if [ -e "$dir/download" ]; then
		read -r sha _ < <(sha256sum "$dir/download")
		[ "$sha" = "$want" ] && intact=1
		rm -f "$dir/download"
	fi
	rm -f "$dir/body" # a cell's own longer body (its hash stays in meta.kv and body.sha256)
	ctr_curl_end "$exit" "$error" "$intact"
	{
		echo "role=client"
		echo "program=curl"
		echo "local=$local_ep"
		echo "peer=$peer"
		echo "end=$REPLY"
		echo "exit=$exit"
		echo "error=$error"
		echo "http_code=$code"
		echo "bytes=$bytes"
		echo "payload_bytes=$size"
		echo "sha256=$sha"
		echo "intact=$intact"
		echo "stderr=$(head -c 300 "$dir/curl.err" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')"
	} >"$dir/client.kv"

	# nginx's line for the injected flow (inject.kv's client), else curl's own 4-tuple
	local flow line client server conn status body completion end errno message
	flow=$(sed -n 's/^client=//p' "$dir/inject.kv" 2>/dev/null)
	[ -n "$flow" ] || flow=$local_ep
	line=$(ctr_nginx_requests "$dir/nginx" "$size" | awk -F'\t' -v c="$flow" '$1 == c' | tail -1)
	if [ -z "$line" ]; then
		echo "nginx logged no request from $flow" >>"$dir/error"
		return 0
	fi
	IFS=$'\t' read -r client server conn status body completion _ end errno message <<<"$line"  # (_: nginx's msec)
	{
		echo "role=server"
		echo "program=nginx"
		echo "local=$server"
		echo "peer=$client"
		echo "bytes=$body"
		echo "end=$end"
		echo "errno=$errno"
		case $errno in
		104) echo "error=Connection reset by peer" ;;
		32) echo "error=Broken pipe" ;;
		0) echo "error=-" ;;
		*) echo "error=errno $errno" ;;
		esac
		echo "status=$status"
		echo "completion=$completion"
		echo "connection=$conn"
		echo "log=$message"
	} >"$dir/server.kv"
}
