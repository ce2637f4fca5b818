/* The stream workload: ctreset-workload's option parsing, its serve/drain/connect loops and
 * its record, for its main and for the injector's in-process variant (child.c). */
#include "stream.h"
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const mode_names[] = {"server", "client", "sink", "latency"};

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

/* a run: its options, how it is told to stop, what it records */
struct run {
	const struct stream_opts *o;
	struct stream_ctl *ctl;
	struct record r;
	bool ready_closed; /* o->ready_fd written and closed */
};

static bool stopping(const struct run *s)
{
	return atomic_load(&s->ctl->stop) != 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int stream_ctl_init(struct stream_ctl *c, char **err)
{
	atomic_init(&c->stop, 0);
	atomic_init(&c->resume, 0);
	atomic_init(&c->kick, 0);
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return c->wake_fd < 0 ? err_errno(err, errno, "eventfd") : 0;
}

void stream_ctl_free(struct stream_ctl *c)
{
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	c->wake_fd = -1;
}

static void wake(struct stream_ctl *c)
{
	uint64_t one = 1;
	int e = errno;

	if (write(c->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, a wakeup pending already */
	}
	errno = e;
}

void stream_ctl_stop(struct stream_ctl *c)
{
	atomic_store(&c->stop, 1);
	wake(c);
}

void stream_ctl_resume(struct stream_ctl *c)
{
	atomic_store(&c->resume, 1);
	wake(c);
}

void stream_ctl_kick(struct stream_ctl *c)
{
	atomic_store(&c->kick, 1);
	wake(c);
}

static int bad_uint(char **err, const char *s, const char *what, unsigned max)
{
	return err_set(err, "argument \"%s\" is wrong: %s must be 0..%u", s, what, max);
}

static int parse_uint(const char *s, const char *what, unsigned max, unsigned *v, char **err)
{
	char *end;
	unsigned long l;

	errno = 0;
	l = strtoul(s, &end, 10);
	if (errno || *end || !*s || l > max || s[0] == '-')
		return bad_uint(err, s, what, max);
	*v = (unsigned)l;
	return 0;
}

/* the options after the mode word: args[0] is the mode, as getopt's argv[0] */
static int parse_opts(int argc, char **args, struct stream_opts *o, const char **addr, char **err)
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
	unsigned v;
	int c;

	optind = 0; /* a full restart of getopt: the caller may have parsed its own */
	opterr = 0; /* a refused option is reported in one line below */
	while ((c = getopt_long(argc, args, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l':
		case 'c':
			if ((c == 'l') != o->server)
				return err_set(err, "--%s is for %s",
					       c == 'l' ? "listen" : "connect",
					       c == 'l' ? "server and sink" : "client and latency");
			*addr = optarg;
			break;
		case 'r':
			o->result = optarg;
			break;
		case 't':
			if (parse_uint(optarg, "--timeout", 600000, &o->timeout_ms, err) < 0)
				return -1;
			break;
		case 'i':
			if (parse_uint(optarg, "--interval", 10000, &o->interval_ms, err) < 0)
				return -1;
			break;
		case 'k':
			if (parse_uint(optarg, "--chunk", 1 << 20, &o->chunk, err) < 0)
				return -1;
			break;
		case 'd':
			o->daemon = true;
			break;
		case 'n':
			if (parse_uint(optarg, "--count", 100000, &o->count, err) < 0)
				return -1;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'R':
			if (parse_uint(optarg, "--ready-fd", 1023, &v, err) < 0)
				return -1;
			o->ready_fd = (int)v;
			break;
		case 'a':
			if (parse_uint(optarg, "--pause-after", 600000, &o->pause_after_ms, err) <
			    0)
				return -1;
			break;
		case 'P':
			if (parse_uint(optarg, "--pause", 600000, &o->pause_ms, err) < 0)
				return -1;
			break;
		case 'K':
			if (parse_uint(optarg, "--keepalive", 7200, &o->keepalive_s, err) < 0)
				return -1;
			if (!o->keepalive_s)
				return err_set(
				    err, "argument \"%s\" is wrong: --keepalive must be 1..7200",
				    optarg);
			break;
		case 'G':
			if (parse_uint(optarg, "--stop-grace", 60000, &o->stop_grace_ms, err) < 0)
				return -1;
			break;
		case 'U':
			o->resume_signal = true;
			break;
		case 'h':
			o->help = true;
			return 0;
		default:
			return err_set(err,
				       "argument \"%s\" is wrong: unknown option or missing value "
				       "(see --help)",
				       opt_refused(argc, args));
		}
	}
	if (optind != argc)
		return err_set(err, "unexpected argument");
	return 0;
}

int stream_parse(int argc, char *const argv[], struct stream_opts *o, char **err)
{
	const char *addr = NULL;
	char **args;
	int rc;

	*o = (struct stream_opts){.timeout_ms = 3000,
				  .interval_ms = 5,
				  .chunk = 1024,
				  .count = 100,
				  .ready_fd = -1,
				  .stop_grace_ms = 200};
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		o->help = true;
		return 0;
	}
	if (argc < 2)
		return err_set(err,
			       "a mode is required: server, client, sink or latency (see --help)");
	o->mode = STREAM_SERVER;
	while (strcmp(argv[1], mode_names[o->mode]))
		if (++o->mode > STREAM_LATENCY)
			return err_set(err,
				       "argument \"%s\" is wrong: expected server, client, sink or "
				       "latency (see --help)",
				       argv[1]);
	o->server = o->mode == STREAM_SERVER || o->mode == STREAM_SINK;
	/* a copy getopt_long may reorder: the caller's argv stays as it was */
	args = malloc(sizeof(char *) * (size_t)argc);
	if (!args)
		return err_set(err, "out of memory");
	memcpy(args, argv + 1, sizeof(char *) * (size_t)(argc - 1));
	args[argc - 1] = NULL;
	rc = parse_opts(argc - 1, args, o, &addr, err);
	free(args);
	if (rc < 0 || o->help)
		return rc;
	if (o->resume_signal && o->mode != STREAM_SERVER)
		return err_set(err, "--resume-signal is for server");
	if (!addr || !o->result || !o->timeout_ms || !o->chunk)
		return err_set(err, "%s",
			       !addr
				   ? (o->server ? "--listen is required" : "--connect is required")
			       : !o->result ? "--result is required"
					    : "--timeout and --chunk must be positive");
	if (endpoint_parse(addr, &o->ep) < 0)
		return err_set(err, "argument \"%s\" is wrong: expected IP:PORT", addr);
	if ((o->daemon || o->ready_fd >= 0) && !o->server)
		return err_set(err, "%s is for server and sink",
			       o->daemon ? "--daemon" : "--ready-fd");
	if (!o->count)
		return err_set(err, "--count must be positive");
	return 0;
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

static int write_record(const char *path, const struct stream_opts *o, const struct record *r)
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
	if (o->mode == STREAM_SINK) {
		snprintf(num, sizeof(num), "%llu", r->accepted);
		kv_write(f, "accepted", num);
	}
	if (o->mode == STREAM_LATENCY) {
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

/* Polls fd for events until `until`, and the run's wake eventfd beside it; returns poll's
 * result (fd's revents), with 0 on a timeout, a signal or a wakeup (the caller checks its
 * stop; a wakeup is consumed). */
static int wait_for(const struct run *s, int fd, short events, uint64_t until)
{
	struct pollfd p[2] = {{.fd = fd, .events = events},
			      {.fd = s->ctl->wake_fd, .events = POLLIN}};
	uint64_t now = now_ms();
	int rc;

	if (now >= until)
		return 0;
	rc = poll(p, 2, (int)(until - now));
	if (rc < 0 && errno == EINTR)
		return 0;
	if (rc < 0)
		return -1;
	if (p[1].revents) {
		uint64_t n;

		if (read(s->ctl->wake_fd, &n, sizeof(n)) < 0) {
			/* EAGAIN: another wait consumed it */
		}
	}
	return p[0].revents;
}

/* wait_for with no bound but a stop (a connect, bounded by the kernel's SYN retries as a
 * blocking connect() was): fd's revents, 0 once stopped, -1 on a poll error */
static int wait_unbounded(const struct run *s, int fd, short events)
{
	for (;;) {
		int ev;

		if (stopping(s))
			return 0;
		ev = wait_for(s, fd, events, now_ms() + 60000);
		if (ev)
			return ev;
	}
}

/* what the client sent, read and dropped (without blocking): 1 when something was read,
 * 0 when nothing is pending, -1 when the connection ended (EOF: closed, or its error:
 * r->end set) */
static int sink_read(int cfd, struct record *r)
{
	char sink[4096];
	ssize_t n = recv(cfd, sink, sizeof(sink), MSG_DONTWAIT);

	if (n > 0)
		return 1;
	if (n == 0) {
		r->end = "closed";
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	ended_by(r, errno);
	return -1;
}

static void serve(struct run *s, int cfd, uint64_t deadline)
{
	const struct stream_opts *o = s->o;
	struct record *r = &s->r;
	char *buf = malloc(o->chunk);
	uint64_t next = now_ms(), pause_at = next + o->pause_after_ms;
	bool paused = !o->pause_ms, in_pause = false;

	if (!buf) {
		ended_by(r, ENOMEM);
		return;
	}
	for (unsigned i = 0; i < o->chunk; i++)
		buf[i] = (char)('a' + i % 26);
	while (!stopping(s)) {
		uint64_t now = now_ms();
		int ev;

		if (now >= deadline) {
			r->end = "timeout";
			break;
		}
		/* a resume outside the pause is ignored (--resume-signal's contract); one
		 * before --resume-signal's handler existed could not come */
		if (atomic_exchange(&s->ctl->resume, 0) && o->resume_signal && in_pause)
			next = now;
		/* a kick outside the pause: the next chunk now (the pace goes on from it) */
		if (atomic_exchange(&s->ctl->kick, 0) && !in_pause)
			next = now;
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
		ev = wait_for(s, cfd, POLLIN, next < deadline ? next : deadline);
		if (ev < 0) {
			ended_by(r, errno);
			break;
		}
		if ((ev & (POLLIN | POLLERR | POLLHUP)) && sink_read(cfd, r) < 0)
			break;
	}
	/* a stop can come with the reset it follows unseen: the bench stops the server once
	 * its capture shows the client's RST (plus 5 ms), the wake and the socket's error land
	 * in one poll or the stop is checked first, and the run said "stopped" of a connection
	 * the RST had killed (a full matrix at load, seq-above/input-drop, "reset although the
	 * backend's connection survived"). What the socket holds decides, read to its end */
	for (int k = 0; stopping(s) && !r->end && k < 64 && sink_read(cfd, r) > 0; k++)
		;
	if (stopping(s) && !r->end)
		r->end = "stopped";
	free(buf);
}

/* Reads until EOF, error, the deadline or a stop request. On a stop request it closes
 * gracefully: FIN first, then reads until the server's FIN (bounded). Closing with unread
 * data would send RST, and the bench would see its own stop as a reset of the backend. */
static void drain(struct run *s, int fd, uint64_t deadline)
{
	struct record *r = &s->r;
	const unsigned grace_ms = s->o->stop_grace_ms;
	char buf[65536];
	bool closing = false;

	for (;;) {
		int ev;
		ssize_t n;

		if (stopping(s) && !closing) {
			closing = true;
			shutdown(fd, SHUT_WR);
			if (deadline > now_ms() + grace_ms)
				deadline = now_ms() + grace_ms;
		}
		ev = wait_for(s, fd, POLLIN, deadline);
		if (ev < 0) {
			ended_by(r, errno);
			return;
		}
		if (!ev) {
			if (now_ms() >= deadline) {
				r->end = closing ? "stopped" : "timeout";
				return;
			}
			continue;
		}
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0) {
			r->end = closing ? "stopped" : "closed";
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

static int run_server(struct run *s, uint64_t start)
{
	const struct stream_opts *o = s->o;
	struct record *r = &s->r;
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&o->ep, &ss);
	uint64_t deadline = start + o->timeout_ms;
	int one = 1, lfd, cfd = -1;

	lfd = socket(o->ep.addr.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&ss, len) < 0 ||
	    /* the sink's accept queue must absorb a latency client that outpaces it while it
	     * is descheduled: a full queue drops SYNs, and each costs a 1 s retransmission */
	    listen(lfd, o->mode == STREAM_SINK ? SOMAXCONN : 4) < 0) {
		fprintf(stderr, "ctreset-workload: listening on %s: %s\n",
			endpoint_str(&o->ep, r->local), strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	if (o->daemon) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("ctreset-workload: fork");
			close(lfd);
			return -1;
		}
		if (pid > 0)
			_exit(CTR_EXIT_PASS); /* listening: the caller may connect now */
		setsid();
	}
	if (o->ready_fd >= 0) {
		/* listening: whoever waits on the pipe may let the client connect now */
		ssize_t n = write(o->ready_fd, "listening\n", 10);

		close(o->ready_fd);
		s->ready_closed = true;
		if (n != 10) {
			perror("ctreset-workload: --ready-fd");
			close(lfd);
			return -1;
		}
	}
	if (o->pidfile) {
		FILE *f = fopen(o->pidfile, "we");

		if (f) {
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
	}
	while (!stopping(s) && cfd < 0) {
		int ev = wait_for(s, lfd, POLLIN, deadline);

		if (ev > 0)
			cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		else if (now_ms() >= deadline)
			break;
		/* the sink: close it at once and take the next one */
		if (cfd >= 0 && o->mode == STREAM_SINK) {
			names(cfd, r);
			close(cfd);
			cfd = -1;
			r->accepted++;
		}
	}
	close(lfd);
	if (cfd < 0) {
		r->end = stopping(s) ? "stopped" : "timeout";
		return 0;
	}
	names(cfd, r);
	serve(s, cfd, deadline);
	close(cfd);
	return 0;
}

/* One connect, non-blocking and bounded by until: its time in us, or 0 with errno set
 * (ETIMEDOUT when the SYN-ACK never came). */
static uint64_t timed_connect(const struct run *s, uint64_t until)
{
	const struct stream_opts *o = s->o;
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
	ev = wait_for(s, fd, POLLOUT, until);
	t1 = now_us();
	if (ev <= 0) {
		e = ev < 0 ? errno : stopping(s) ? EINTR : ETIMEDOUT;
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
static int run_latency(struct run *s, uint64_t start)
{
	const struct stream_opts *o = s->o;
	struct record *r = &s->r;
	uint64_t deadline = start + o->timeout_ms;

	r->connect_us = calloc(o->count, sizeof(*r->connect_us));
	if (!r->connect_us) {
		ended_by(r, ENOMEM);
		return 0;
	}
	for (unsigned i = 0; i < o->count && !stopping(s); i++) {
		uint64_t now = now_ms(), until = now + 1000 < deadline ? now + 1000 : deadline, us;

		if (now >= deadline) {
			r->end = "timeout";
			break;
		}
		us = timed_connect(s, until);
		if (us) {
			r->connect_us[r->ok++] = us;
		} else {
			r->failed++;
			r->err = errno;
		}
	}
	stats_sort(r->connect_us, r->ok);
	if (r->failed && !stopping(s))
		r->end = "error"; /* exit 1: a figure over failed connects is no figure */
	else if (!r->end)
		r->end = stopping(s) ? "stopped" : "closed";
	return 0;
}

/* The client's connect, as a blocking connect() was (bounded by the kernel's SYN retries)
 * but ended by a stop too: 0 once connected, else -1 with errno (EINTR: stopped first). A
 * stop that came while it waited may have come after the handshake, the run not yet
 * scheduled (a slow guest): the connection is up, or comes up within the stop grace, and
 * must end as a stopped client's does (FIN, the peer's data read), not by close() with
 * data unread (an RST the backend took for the bug's). */
static int client_connect(const struct run *s, int fd, const struct sockaddr *sa, socklen_t len)
{
	int soerr = 0, fl = fcntl(fd, F_GETFL);
	socklen_t l = sizeof(soerr);
	bool stopped;
	int ev;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS)
		return -1;
	ev = wait_unbounded(s, fd, POLLOUT);
	stopped = ev == 0;
	if (stopped) /* connected within the grace, or EINTR as a signalled connect() */
		ev = wait_for(s, fd, POLLOUT, now_ms() + s->o->stop_grace_ms);
	if (ev < 0)
		return -1;
	if (ev == 0) {
		errno = EINTR;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) < 0)
		return -1;
	if (soerr) {
		errno = stopped ? EINTR : soerr;
		return -1;
	}
	return fcntl(fd, F_SETFL, fl);
}

static int run_client(struct run *s, uint64_t start)
{
	const struct stream_opts *o = s->o;
	struct record *r = &s->r;
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
	if (fd < 0 || client_connect(s, fd, (struct sockaddr *)&ss, len) < 0) {
		ended_by(r, errno);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	names(fd, r);
	drain(s, fd, deadline);
	close(fd);
	return 0;
}

int stream_run(const struct stream_opts *o, struct stream_ctl *ctl)
{
	struct run s = {.o = o, .ctl = ctl};
	struct record *r = &s.r;
	uint64_t start = now_ms();
	int rc;

	rc = o->server			 ? run_server(&s, start)
	     : o->mode == STREAM_LATENCY ? run_latency(&s, start)
					 : run_client(&s, start);
	if (o->ready_fd >= 0 && !s.ready_closed)
		close(o->ready_fd);
	if (rc < 0) {
		free(r->connect_us);
		return CTR_EXIT_FAIL;
	}
	r->duration_ms = now_ms() - start;
	if (write_record(o->result, o, r) < 0) {
		fprintf(stderr, "ctreset-workload: writing %s: %s\n", o->result, strerror(errno));
		free(r->connect_us);
		return CTR_EXIT_FAIL;
	}
	free(r->connect_us);
	return (!strcmp(r->end, "stopped") || !strcmp(r->end, "closed") ||
		!strcmp(r->end, "timeout"))
		   ? CTR_EXIT_PASS
		   : CTR_EXIT_FAIL;
}
