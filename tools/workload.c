/* ctreset-workload: the pod workload. The server (backend pod) streams a paced payload to
 * the one connection it accepts; the client (client pod) connects to the service VIP and
 * reads. Each records how its connection ended in a key=value file, which is the bench's
 * evidence that a connection was reset, not just that packets flew. Everything is bounded
 * by --timeout. Two more modes measure rather than stream (bench/scale): "sink" accepts and
 * closes connections, "latency" times --count connects (SYN to SYN-ACK through the VIP, so
 * through every nat rule the node's first packet meets). */
#include "base/addr.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/exitcodes.h"
#include "base/kv.h"
#include "base/opt.h"
#include "base/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested, resume_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* --resume-signal: SIGUSR1 ends the stream's pause at once */
static void on_resume(int sig)
{
	(void)sig;
	resume_requested = 1;
}

enum mode { MODE_SERVER, MODE_CLIENT, MODE_SINK, MODE_LATENCY };
static const char *const mode_names[] = {"server", "client", "sink", "latency"};

struct opts {
	enum mode mode;
	bool server;		/* listens: server or sink */
	struct ctr_endpoint ep; /* listen (server) or connect (client) address */
	const char *result;	/* where the record goes */
	const char *pidfile;
	unsigned timeout_ms;
	unsigned interval_ms;
	unsigned chunk;
	unsigned count;			   /* latency: connects to time */
	unsigned pause_after_ms, pause_ms; /* server: one idle gap in the stream, 0: none */
	bool resume_signal;		   /* server: SIGUSR1 ends the pause */
	unsigned keepalive_s;		   /* client: TCP keepalive idle and interval, 0: off */
	unsigned stop_grace_ms;		   /* client: how long a stop waits for the peer's FIN */
	bool daemon;
	int ready_fd; /* server, sink: a line written here once listening; -1: none */
};

struct record {
	char local[CTR_EPSTRLEN], peer[CTR_EPSTRLEN];
	unsigned long long bytes;
	const char *end; /* reset, closed, stopped, timeout, refused, error */
	int err;	 /* errno of the end, 0 when none */
	unsigned long long duration_ms;
	unsigned long long accepted; /* sink */
	unsigned ok, failed;	     /* latency: connects that completed, that did not */
	uint64_t *connect_us;	     /* latency: each completed connect's time */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: ctreset-workload server --listen IP:PORT --result FILE [options]\n"
	       "       ctreset-workload client --connect IP:PORT --result FILE [options]\n"
	       "       ctreset-workload sink --listen IP:PORT --result FILE [options]\n"
	       "       ctreset-workload latency --connect IP:PORT --result FILE [--count N]\n"
	       "\n"
	       "The bench's pod workload. The server accepts one connection and streams a paced\n"
	       "payload until stopped (SIGTERM/SIGINT), reset, or the timeout; the client reads\n"
	       "until the same. Each writes how its connection ended to FILE (key=value):\n"
	       "end=reset|closed|stopped|timeout|refused|error, errno, bytes, local, peer.\n"
	       "\n"
	       "sink accepts connections and closes each at once until stopped or the timeout\n"
	       "(accepted=N). latency makes --count connections one after the other, each on a\n"
	       "new source port, and times each connect() (SYN to SYN-ACK): count, ok, failed,\n"
	       "min_us, p50_us, p90_us, p99_us, max_us; exit 1 if any failed.\n"
	       "\n"
	       "options:\n"
	       "  --timeout MS     hard bound on the whole run (default 3000, max 600000)\n"
	       "  --interval MS    server: pause between chunks (default 5)\n"
	       "  --chunk BYTES    server: bytes per chunk (default 1024)\n"
	       "  --count N        latency: connections to time (default 100, max 100000)\n"
	       "  --pause-after MS server: after streaming MS, send nothing for --pause MS, then\n"
	       "  --pause MS       stream again (an idle connection, as between requests)\n"
	       "  --resume-signal  server: SIGUSR1 ends the pause at once (--pause is then its\n"
	       "                   bound; a SIGUSR1 outside the pause is ignored): for a parent\n"
	       "                   that acts in the pause and lets the stream resume when done\n"
	       "  --keepalive SEC  client: TCP keepalive, first probe after SEC idle, then every\n"
	       "                   SEC (1..7200; the fix applications use against idle timeouts)\n"
	       "  --stop-grace MS  client: once stopped, send FIN and read until the server's FIN\n"
	       "                   for at most MS (default 200; 0..60000): closing with unread\n"
	       "                   data would send an RST of the bench's own. A server that is\n"
	       "                   gone (reset) never answers, so the bench keeps this short\n"
	       "  --daemon         server, sink: return once listening, keep serving in the\n"
	       "                   background\n"
	       "  --pidfile FILE   write the serving process's pid\n"
	       "  --ready-fd FD    server, sink: write a line to FD (inherited open) once\n"
	       "                   listening, then close it (for a parent that waits on it)\n"
	       "  -h, --help       this text\n"
	       "exit: 0 connection ended as expected (stopped/closed/timeout), 1 reset or error,\n"
	       "      2 usage\n");
}

static unsigned parse_uint(const char *s, const char *what, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v > max || s[0] == '-') {
		fprintf(stderr, "ctreset-workload: argument \"%s\" is wrong: %s must be 0..%u\n", s,
			what, max);
		exit(CTR_EXIT_USAGE);
	}
	return (unsigned)v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"connect", required_argument, NULL, 'c'},
	    {"result", required_argument, NULL, 'r'},
	    {"timeout", required_argument, NULL, 't'},
	    {"interval", required_argument, NULL, 'i'},
	    {"chunk", required_argument, NULL, 'k'},
	    {"daemon", no_argument, NULL, 'd'},
	    {"pidfile", required_argument, NULL, 'p'},
	    {"count", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {"ready-fd", required_argument, NULL, 'R'},
	    {"pause-after", required_argument, NULL, 'a'},
	    {"pause", required_argument, NULL, 'P'},
	    {"keepalive", required_argument, NULL, 'K'},
	    {"stop-grace", required_argument, NULL, 'G'},
	    {"resume-signal", no_argument, NULL, 'U'},
	    {0},
	};
	const char *addr = NULL;
	int c;

	*o = (struct opts){.timeout_ms = 3000,
			   .interval_ms = 5,
			   .chunk = 1024,
			   .count = 100,
			   .ready_fd = -1,
			   .stop_grace_ms = 200};
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		exit(CTR_EXIT_PASS);
	}
	o->mode = MODE_SERVER;
	while (argc >= 2 && strcmp(argv[1], mode_names[o->mode]))
		if (++o->mode > MODE_LATENCY) {
			fprintf(stderr,
				"ctreset-workload: argument \"%s\" is wrong: expected server, "
				"client, sink or latency (see --help)\n",
				argv[1]);
			exit(CTR_EXIT_USAGE);
		}
	if (argc < 2) {
		fprintf(stderr,
			"ctreset-workload: a mode is required: server, client, sink or latency "
			"(see --help)\n");
		exit(CTR_EXIT_USAGE);
	}
	o->server = o->mode == MODE_SERVER || o->mode == MODE_SINK;
	optind = 2;
	opterr = 0; /* a refused option is reported in one line below */
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l':
		case 'c':
			if ((c == 'l') != o->server) {
				fprintf(stderr, "ctreset-workload: --%s is for %s\n",
					c == 'l' ? "listen" : "connect",
					c == 'l' ? "server and sink" : "client and latency");
				exit(CTR_EXIT_USAGE);
			}
			addr = optarg;
			break;
		case 'r':
			o->result = optarg;
			break;
		case 't':
			o->timeout_ms = parse_uint(optarg, "--timeout", 600000);
			break;
		case 'i':
			o->interval_ms = parse_uint(optarg, "--interval", 10000);
			break;
		case 'k':
			o->chunk = parse_uint(optarg, "--chunk", 1 << 20);
			break;
		case 'd':
			o->daemon = true;
			break;
		case 'n':
			o->count = parse_uint(optarg, "--count", 100000);
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'R':
			o->ready_fd = (int)parse_uint(optarg, "--ready-fd", 1023);
			break;
		case 'a':
			o->pause_after_ms = parse_uint(optarg, "--pause-after", 600000);
			break;
		case 'P':
			o->pause_ms = parse_uint(optarg, "--pause", 600000);
			break;
		case 'K':
			o->keepalive_s = parse_uint(optarg, "--keepalive", 7200);
			if (!o->keepalive_s) {
				fprintf(stderr,
					"ctreset-workload: argument \"%s\" is wrong: "
					"--keepalive must be 1..7200\n",
					optarg);
				exit(CTR_EXIT_USAGE);
			}
			break;
		case 'G':
			o->stop_grace_ms = parse_uint(optarg, "--stop-grace", 60000);
			break;
		case 'U':
			o->resume_signal = true;
			break;
		case 'h':
			usage(stdout);
			exit(CTR_EXIT_PASS);
		default:
			fprintf(stderr,
				"ctreset-workload: argument \"%s\" is wrong: unknown option or "
				"missing value (see --help)\n",
				opt_refused(argc, argv));
			exit(CTR_EXIT_USAGE);
		}
	}
	if (o->resume_signal && o->mode != MODE_SERVER) {
		fprintf(stderr, "ctreset-workload: --resume-signal is for server\n");
		exit(CTR_EXIT_USAGE);
	}
	if (optind != argc || !addr || !o->result || !o->timeout_ms || !o->chunk) {
		fprintf(stderr, "ctreset-workload: %s\n",
			optind != argc ? "unexpected argument"
			: !addr ? (o->server ? "--listen is required" : "--connect is required")
			: !o->result ? "--result is required"
				     : "--timeout and --chunk must be positive");
		exit(CTR_EXIT_USAGE);
	}
	if (endpoint_parse(addr, &o->ep) < 0) {
		fprintf(stderr, "ctreset-workload: argument \"%s\" is wrong: expected IP:PORT\n",
			addr);
		exit(CTR_EXIT_USAGE);
	}
	if ((o->daemon || o->ready_fd >= 0) && !o->server) {
		fprintf(stderr, "ctreset-workload: %s is for server and sink\n",
			o->daemon ? "--daemon" : "--ready-fd");
		exit(CTR_EXIT_USAGE);
	}
	if (!o->count) {
		fprintf(stderr, "ctreset-workload: --count must be positive\n");
		exit(CTR_EXIT_USAGE);
	}
}

static socklen_t to_sockaddr(const struct ctr_endpoint *e, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (e->addr.family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(e->port);
		s->sin_addr = e->addr.u.v4;
		return sizeof(*s);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(e->port);
	s6->sin6_addr = e->addr.u.v6;
	return sizeof(*s6);
}

static void from_sockaddr(const struct sockaddr_storage *ss, char *buf)
{
	struct ctr_endpoint e = {0};

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		e.addr.family = AF_INET;
		e.addr.u.v4 = s->sin_addr;
		e.port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		e.addr.family = AF_INET6;
		e.addr.u.v6 = s6->sin6_addr;
		e.port = ntohs(s6->sin6_port);
	}
	endpoint_str(&e, buf);
}

static void names(int fd, struct record *r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		from_sockaddr(&ss, r->local);
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		from_sockaddr(&ss, r->peer);
}

static int write_record(const char *path, const struct opts *o, const struct record *r)
{
	char tmp[4096], num[32];
	FILE *f;

	/* write-then-rename: a reader never sees half a record */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -1;
	kv_write(f, "role", mode_names[o->mode]);
	kv_write(f, "local", r->local[0] ? r->local : "-");
	kv_write(f, "peer", r->peer[0] ? r->peer : "-");
	snprintf(num, sizeof(num), "%llu", r->bytes);
	kv_write(f, "bytes", num);
	kv_write(f, "end", r->end);
	snprintf(num, sizeof(num), "%d", r->err);
	kv_write(f, "errno", num);
	kv_write(f, "error", r->err ? strerror(r->err) : "-");
	snprintf(num, sizeof(num), "%llu", r->duration_ms);
	kv_write(f, "duration_ms", num);
	if (o->mode == MODE_SINK) {
		snprintf(num, sizeof(num), "%llu", r->accepted);
		kv_write(f, "accepted", num);
	}
	if (o->mode == MODE_LATENCY) {
		static const unsigned pct[] = {50, 90, 99};
		static const char *const key[] = {"p50_us", "p90_us", "p99_us"};

		fprintf(f, "count=%u\nok=%u\nfailed=%u\n", o->count, r->ok, r->failed);
		if (r->ok) {
			fprintf(f, "min_us=%llu\n", (unsigned long long)r->connect_us[0]);
			for (int i = 0; i < 3; i++)
				fprintf(f, "%s=%llu\n", key[i],
					(unsigned long long)stats_percentile(r->connect_us, r->ok,
									     pct[i]));
			fprintf(f, "max_us=%llu\n", (unsigned long long)r->connect_us[r->ok - 1]);
		}
	}
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* classify a socket error into the record */
static void ended_by(struct record *r, int e)
{
	r->err = e;
	r->end = (e == ECONNRESET || e == EPIPE) ? "reset"
		 : e == ECONNREFUSED		 ? "refused"
						 : "error";
}

/* Poll fd for events until deadline_ms or the next tick; returns poll's result, with 0 on
 * stop request too (the caller checks stop_requested). */
static int wait_for(int fd, short events, uint64_t until)
{
	struct pollfd p = {.fd = fd, .events = events};
	uint64_t now = now_ms();
	int rc;

	if (now >= until)
		return 0;
	rc = poll(&p, 1, (int)(until - now));
	if (rc < 0 && errno == EINTR)
		return 0;
	return rc < 0 ? -1 : (rc ? p.revents : 0);
}

static void serve(int cfd, const struct opts *o, struct record *r, uint64_t deadline)
{
	char *buf = malloc(o->chunk);
	uint64_t next = now_ms(), pause_at = next + o->pause_after_ms;
	bool paused = !o->pause_ms, in_pause = false;

	if (!buf) {
		ended_by(r, ENOMEM);
		return;
	}
	for (unsigned i = 0; i < o->chunk; i++)
		buf[i] = (char)('a' + i % 26);
	while (!stop_requested) {
		uint64_t now = now_ms();
		int ev;

		if (now >= deadline) {
			r->end = "timeout";
			break;
		}
		if (resume_requested) {
			resume_requested = 0;
			if (in_pause)
				next = now;
		}
		if (now >= next) {
			ssize_t n = send(cfd, buf, o->chunk, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				ended_by(r, errno);
				break;
			}
			if (n > 0)
				r->bytes += (unsigned long long)n;
			next = now + o->interval_ms;
			in_pause = false;
			if (!paused && now >= pause_at) {
				paused = in_pause = true;
				next = now + o->pause_ms;
			}
		}
		/* wake for the next chunk, or at once when the peer resets or closes */
		ev = wait_for(cfd, POLLIN, next < deadline ? next : deadline);
		if (ev < 0) {
			ended_by(r, errno);
			break;
		}
		if (ev & (POLLIN | POLLERR | POLLHUP)) {
			char sink[4096];
			ssize_t n = recv(cfd, sink, sizeof(sink), MSG_DONTWAIT);

			if (n == 0) {
				r->end = "closed";
				break;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				ended_by(r, errno);
				break;
			}
		}
	}
	if (stop_requested && !r->end)
		r->end = "stopped";
	free(buf);
}

/* Reads until EOF, error, the deadline or a stop request. On a stop request it closes
 * gracefully: FIN first, then reads until the server's FIN (bounded). Closing with unread
 * data would send RST, and the bench would see its own stop as a reset of the backend. */
static void drain(int fd, struct record *r, uint64_t deadline, unsigned grace_ms)
{
	char buf[65536];
	bool stopping = false;

	for (;;) {
		int ev;
		ssize_t n;

		if (stop_requested && !stopping) {
			stopping = true;
			shutdown(fd, SHUT_WR);
			if (deadline > now_ms() + grace_ms)
				deadline = now_ms() + grace_ms;
		}
		ev = wait_for(fd, POLLIN, deadline);
		if (ev < 0) {
			ended_by(r, errno);
			return;
		}
		if (!ev) {
			if (now_ms() >= deadline) {
				r->end = stopping ? "stopped" : "timeout";
				return;
			}
			continue;
		}
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0) {
			r->end = stopping ? "stopped" : "closed";
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ended_by(r, errno);
			return;
		}
		r->bytes += (unsigned long long)n;
	}
}

static int run_server(const struct opts *o, struct record *r, uint64_t start)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&o->ep, &ss);
	uint64_t deadline = start + o->timeout_ms;
	int one = 1, lfd, cfd = -1;

	lfd = socket(o->ep.addr.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&ss, len) < 0 ||
	    /* the sink's accept queue must absorb a latency client that outpaces it while it
	     * is descheduled: a full queue drops SYNs, and each costs a 1 s retransmission */
	    listen(lfd, o->mode == MODE_SINK ? SOMAXCONN : 4) < 0) {
		fprintf(stderr, "ctreset-workload: listening on %s: %s\n",
			endpoint_str(&o->ep, r->local), strerror(errno));
		return -1;
	}
	if (o->daemon) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("ctreset-workload: fork");
			return -1;
		}
		if (pid > 0)
			_exit(CTR_EXIT_PASS); /* listening: the caller may connect now */
		setsid();
	}
	if (o->ready_fd >= 0) {
		/* listening: whoever waits on the pipe may let the client connect now */
		if (write(o->ready_fd, "listening\n", 10) != 10) {
			perror("ctreset-workload: --ready-fd");
			return -1;
		}
		close(o->ready_fd);
	}
	if (o->pidfile) {
		FILE *f = fopen(o->pidfile, "we");

		if (f) {
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
	}
	while (!stop_requested && cfd < 0) {
		int ev = wait_for(lfd, POLLIN, deadline);

		if (ev > 0)
			cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		else if (now_ms() >= deadline)
			break;
		/* the sink: close it at once and take the next one */
		if (cfd >= 0 && o->mode == MODE_SINK) {
			names(cfd, r);
			close(cfd);
			cfd = -1;
			r->accepted++;
		}
	}
	close(lfd);
	if (cfd < 0) {
		r->end = stop_requested ? "stopped" : "timeout";
		return 0;
	}
	names(cfd, r);
	serve(cfd, o, r, deadline);
	close(cfd);
	return 0;
}

/* One connect, non-blocking and bounded by until: its time in us, or 0 with errno set
 * (ETIMEDOUT when the SYN-ACK never came). */
static uint64_t timed_connect(const struct opts *o, uint64_t until)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&o->ep, &ss), elen = sizeof(int);
	int fd = socket(o->ep.addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ev, e = 0;
	uint64_t t0, t1 = 0;

	if (fd < 0)
		return 0;
	t0 = now_us();
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		e = errno;
		goto out;
	}
	ev = wait_for(fd, POLLOUT, until);
	t1 = now_us();
	if (ev <= 0) {
		e = ev < 0 ? errno : stop_requested ? EINTR : ETIMEDOUT;
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		e = errno;
out:
	close(fd);
	errno = e;
	return e ? 0 : (t1 > t0 ? t1 - t0 : 1);
}

/* --count connects one after the other, each bounded by a second and all by --timeout */
static int run_latency(const struct opts *o, struct record *r, uint64_t start)
{
	uint64_t deadline = start + o->timeout_ms;

	r->connect_us = calloc(o->count, sizeof(*r->connect_us));
	if (!r->connect_us) {
		ended_by(r, ENOMEM);
		return 0;
	}
	for (unsigned i = 0; i < o->count && !stop_requested; i++) {
		uint64_t now = now_ms(), until = now + 1000 < deadline ? now + 1000 : deadline, us;

		if (now >= deadline) {
			r->end = "timeout";
			break;
		}
		us = timed_connect(o, until);
		if (us) {
			r->connect_us[r->ok++] = us;
		} else {
			r->failed++;
			r->err = errno;
		}
	}
	stats_sort(r->connect_us, r->ok);
	if (r->failed && !stop_requested)
		r->end = "error"; /* exit 1: a figure over failed connects is no figure */
	else if (!r->end)
		r->end = stop_requested ? "stopped" : "closed";
	return 0;
}

/* connect() failed: a stop that came while it waited (EINTR) may have come after the
 * handshake, this process not yet run (a slow guest): the connection is up, or comes up
 * within the stop grace, and must end as a stopped client's does (FIN, the peer's data
 * read), not by close() with data unread (an RST the backend took for the bug's) */
static bool connected_anyway(int fd, const struct opts *o)
{
	int e = errno, soerr = 0;
	socklen_t l = sizeof(soerr);

	if (e == EINTR && stop_requested &&
	    wait_for(fd, POLLOUT, now_ms() + o->stop_grace_ms) > 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) == 0 && soerr == 0)
		return true;
	errno = e;
	return false;
}

static int run_client(const struct opts *o, struct record *r, uint64_t start)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&o->ep, &ss);
	uint64_t deadline = start + o->timeout_ms;
	int fd = socket(o->ep.addr.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, ka = (int)o->keepalive_s, cnt = 5;

	if (fd >= 0 && ka &&
	    (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	     setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &ka, sizeof(ka)) < 0 ||
	     setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &ka, sizeof(ka)) < 0 ||
	     setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0)) {
		ended_by(r, errno);
		close(fd);
		return 0;
	}
	if (fd < 0 || (connect(fd, (struct sockaddr *)&ss, len) < 0 && !connected_anyway(fd, o))) {
		ended_by(r, errno);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	names(fd, r);
	drain(fd, r, deadline, o->stop_grace_ms);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_stop};
	struct record r = {0};
	struct opts o;
	uint64_t start = now_ms();
	int rc;

	parse(argc, argv, &o);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (o.resume_signal) {
		sa.sa_handler = on_resume;
		sigaction(SIGUSR1, &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	rc = o.server		      ? run_server(&o, &r, start)
	     : o.mode == MODE_LATENCY ? run_latency(&o, &r, start)
				      : run_client(&o, &r, start);
	if (rc < 0)
		return CTR_EXIT_FAIL;
	r.duration_ms = now_ms() - start;
	if (write_record(o.result, &o, &r) < 0) {
		fprintf(stderr, "ctreset-workload: writing %s: %s\n", o.result, strerror(errno));
		return CTR_EXIT_FAIL;
	}
	free(r.connect_us);
	return (!strcmp(r.end, "stopped") || !strcmp(r.end, "closed") || !strcmp(r.end, "timeout"))
		   ? CTR_EXIT_PASS
		   : CTR_EXIT_FAIL;
}
