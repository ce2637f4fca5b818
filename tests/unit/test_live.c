/* The live layer's seams that need no root: the hold's NFQUEUE ruleset, inject.kv as
 * record.c writes it (delayed-retransmit's evidence, a skip), child supervision (ready
 * line, stop, exit strings) and flow finding's candidates. */
#include "live/child.h"
#include "live/flow.h"
#include "live/hold.h"
#include "live/injectkv.h"
#include "live/stream.h"
#include "base/clock.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static struct ctr_tuple tuple(const char *src, const char *dst)
{
	struct ctr_tuple t;

	if (endpoint_parse(src, &t.src) || endpoint_parse(dst, &t.dst))
		abort();
	return t;
}

static void hold_rules(void)
{
	struct ctr_tuple t4 = tuple("198.18.2.10:8080", "198.18.1.10:40000");
	struct ctr_tuple t6 = tuple("[2001:2:0:2::a]:8080", "[2001:2:0:1::a]:40000");
	char buf[1024], small[64];

	CU_ASSERT_EQUAL_FATAL(hold_ruleset(&t4, 7, buf, sizeof(buf)), 0);
	/* before conntrack (-200), only the flow's backend -> client direction, fail-open */
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "type filter hook prerouting priority -300;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ip saddr 198.18.2.10 ip daddr 198.18.1.10 tcp sport "
					   "8080 tcp dport 40000 queue num 7 bypass\n"));
	/* a leftover table of a killed run is replaced, not added to */
	CU_ASSERT_EQUAL(
	    strncmp(buf, "table inet ctreset-hold {}\ndelete table inet ctreset-hold\n", 56), 0);
	CU_ASSERT_EQUAL_FATAL(hold_ruleset(&t6, 9, buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ip6 saddr 2001:2:0:2::a ip6 daddr 2001:2:0:1::a tcp "
					   "sport 8080 tcp dport 40000 queue num 9 bypass\n"));
	CU_ASSERT_EQUAL(hold_ruleset(&t4, 7, small, sizeof(small)), -1);
}

/* reads DIR/inject.kv whole into buf */
static void slurp(const char *dir, char *buf, size_t n)
{
	char path[512];
	FILE *f;
	size_t got;

	snprintf(path, sizeof(path), "%s/inject.kv", dir);
	f = fopen(path, "re");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
}

static void record_delayed(void)
{
	char dir[] = "/tmp/ctr-unit-record.XXXXXX", buf[8192];
	struct ctr_endpoint vip;
	struct flow_find ff = {0};
	struct outcome out = {.injected = true, .settled_by = "quiet"};
	struct timings t = {.start = 1000,
			    .reset = 1001,
			    .ready = 1020,
			    .flow = 1100,
			    .inject = 1700,
			    .settled = 1900};
	struct natural nat = {.held = true,
			      .held_seq = 1940902140u,
			      .held_ack = 3377007876u,
			      .held_len = 1024,
			      .hold_ms = 590,
			      .release_server_end = 1941017852u,
			      .release_client_maxwin = 81920,
			      .below_window = true,
			      .held_at_client = 1};
	struct record rec = {.trigger = TRIGGER_DELAYED_RETRANSMIT,
			     .vip = &vip,
			     .find = &ff,
			     .out = &out,
			     .t = &t,
			     .nat = &nat,
			     .hold_ns = "ctr-000001-nodeB"};
	char *err = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL_FATAL(endpoint_parse("198.19.0.10:80", &vip), 0);
	snprintf(out.explain, sizeof(out.explain), "held");
	CU_ASSERT_EQUAL_FATAL(record_write(dir, &rec, &err), 0);
	slurp(dir, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "trigger=delayed-retransmit\ninjected=1\nerror=-\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "natural.held.ns=ctr-000001-nodeB\n"
					   "natural.held.seq=1940902140\n"
					   "natural.held.ack=3377007876\n"
					   "natural.held.len=1024\n"
					   "natural.held.delay_ms=590\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "natural.held.below_window=1\n"
					   "natural.held.natted_at_client=1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "time.inject_ms=700\n"));
	CU_ASSERT_PTR_NULL(strstr(buf, "probe.seq=")); /* nothing crafted */
	CU_ASSERT_PTR_NULL(strstr(buf, "skip="));

	/* NFQUEUE unavailable: not injected, the reason is the error and the skip */
	out.injected = false;
	nat.held = false;
	rec.error = rec.skip = "NFQUEUE unavailable in ctr-000001-nodeB: x";
	CU_ASSERT_EQUAL_FATAL(record_write(dir, &rec, &err), 0);
	slurp(dir, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "injected=0\nerror=NFQUEUE unavailable in "
					   "ctr-000001-nodeB: x\nskip=NFQUEUE unavailable"));
	CU_ASSERT_PTR_NULL(strstr(buf, "natural.held"));
	CU_ASSERT_PTR_NULL(strstr(buf, "outcome."));

	/* a crafted trigger records its segment, no natural.* key */
	out.injected = true;
	rec.error = rec.skip = NULL;
	rec.trigger = TRIGGER_SEQ_ABOVE;
	out.probe.seq = 77;
	CU_ASSERT_EQUAL_FATAL(record_write(dir, &rec, &err), 0);
	slurp(dir, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "probe.seq=77\n"));
	CU_ASSERT_PTR_NULL(strstr(buf, "natural."));
	snprintf(buf, sizeof(buf), "%s/inject.kv", dir);
	unlink(buf);
	rmdir(dir);
	free(err);
}

static void children(void)
{
	char *ready[] = {"sh", "-c", "echo up >&3; exec sleep 5", NULL};
	char *quits[] = {"sh", "-c", "exit 3", NULL};
	char *nothing[] = {"/nonexistent/ctreset-none", NULL};
	struct child c;
	char *err = NULL, s[32];

	CU_ASSERT_EQUAL_FATAL(child_start(&c, NULL, ready, 3000, CHILD_AUTO, &err), 0);
	CU_ASSERT_FALSE(child_reaped(&c));
	child_stop(&c, true, 1000);
	CU_ASSERT_TRUE(c.exited && c.stopped);
	child_exit_str(&c, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "signal 15");

	/* exits without its ready line: an error, and it is reaped by child_stop */
	CU_ASSERT_EQUAL(child_start(&c, NULL, quits, 3000, CHILD_AUTO, &err), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exited before it listened"));
	free(err);
	err = NULL;
	/* its pipe closes a moment before it can be reaped: wait for that, then nothing to stop */
	for (int i = 0; i < 2000 && !child_reaped(&c); i++)
		usleep(1000);
	child_stop(&c, false, 1000);
	child_exit_str(&c, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "3");
	CU_ASSERT_FALSE(c.stopped);

	/* no such program: the child exits 127, found by child_reaped */
	CU_ASSERT_EQUAL_FATAL(child_start(&c, NULL, nothing, 0, CHILD_AUTO, &err), 0);
	for (int i = 0; i < 2000 && !child_reaped(&c); i++)
		usleep(1000);
	child_exit_str(&c, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "127");
	CU_ASSERT_TRUE(c.t_end > 0);

	c = (struct child){0};
	child_exit_str(&c, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "unknown");
	/* --reset-ns takes only a bench namespace, by name */
	CU_ASSERT_EQUAL(child_reset_ns((const char *[]){"../etc"}, 1, (unsigned[1]){0}, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err);
	free(err);
}

/* the file's text into buf (empty when it cannot be read) */
static void read_text(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	size_t got = f ? fread(buf, 1, n - 1, f) : 0;

	buf[got] = '\0';
	if (f)
		fclose(f);
}

/* the stream workload as a thread of this program: build/ctreset-workload is beside
 * build/unit-tests, so child_start runs it in-process (no fork), with its records */
static void workload_threads(void)
{
	char exe[PATH_MAX], wl[PATH_MAX + 32], dir[] = "/tmp/ctr-unit-wl-XXXXXX", ep[32];
	char srec[PATH_MAX], crec[PATH_MAX], buf[1024], s[32], *slash, *err = NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct child srv, cli;
	unsigned long long bytes = 0;
	const char *b;

	CU_ASSERT_FATAL(n > 0);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	CU_ASSERT_PTR_NOT_NULL_FATAL(slash);
	*slash = '\0';
	snprintf(wl, sizeof(wl), "%s/ctreset-workload", exe);
	CU_ASSERT_EQUAL_FATAL(access(wl, X_OK), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(ep, sizeof(ep), "127.0.0.1:%d", 40000 + getpid() % 20000);
	snprintf(srec, sizeof(srec), "%s/server.kv", dir);
	snprintf(crec, sizeof(crec), "%s/client.kv", dir);
	{
		/* one chunk, then a pause of 4 s only a resume ends */
		char *sa[] = {wl,	   "server", "--listen",	ep,
			      "--result",  srec,     "--ready-fd",	"3",
			      "--timeout", "8000",   "--pause-after",	"0",
			      "--pause",   "4000",   "--resume-signal", NULL};
		char *ca[] = {wl,   "client",	 "--connect", ep,  "--result",
			      crec, "--timeout", "8000",      NULL};

		CU_ASSERT_EQUAL_FATAL(child_start(&srv, NULL, sa, 3000, CHILD_AUTO, &err), 0);
		CU_ASSERT_TRUE(srv.in_process && srv.pid == 0 && child_started(&srv));
		CU_ASSERT_STRING_EQUAL(sa[7], "3"); /* argv as it was */
		CU_ASSERT_EQUAL_FATAL(child_start(&cli, NULL, ca, 0, CHILD_AUTO, &err), 0);
		CU_ASSERT_TRUE(cli.in_process);
		usleep(300000);
		CU_ASSERT_FALSE(child_reaped(&srv));
		CU_ASSERT_EQUAL(child_signal(&srv, SIGUSR1), 0);
		usleep(200000);
		child_stop(&cli, true, 1000);
		CU_ASSERT_TRUE(cli.exited && cli.stopped);
		child_exit_str(&cli, s, sizeof(s));
		CU_ASSERT_STRING_EQUAL(s, "0");
		/* the client's FIN: the server ends by itself, closed */
		for (int i = 0; i < 2000 && !child_reaped(&srv); i++)
			usleep(1000);
		CU_ASSERT_TRUE(srv.exited && srv.t_end > 0);
		child_stop(&srv, false, 2000);
		CU_ASSERT_FALSE(srv.stopped);
		child_exit_str(&srv, s, sizeof(s));
		CU_ASSERT_STRING_EQUAL(s, "0");
		CU_ASSERT_EQUAL(child_signal(&srv, SIGUSR1), -1);
		read_text(crec, buf, sizeof(buf));
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, "role=client\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, "end=stopped\n"));
		read_text(srec, buf, sizeof(buf));
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, "role=server\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, "end=closed\n"));
		b = strstr(buf, "bytes=");
		if (b)
			bytes = strtoull(b + 6, NULL, 10);
		/* more than the chunk before the pause: the resume ended it */
		CU_ASSERT(bytes > 1024);
	}
	{
		/* nobody connects: stopped at once (its poll woken), its record says so */
		char *sa[] = {wl,   "server",	 "--listen", ep,  "--result",
			      srec, "--timeout", "60000",    NULL};
		char *sr[] = {wl,	   "server", "--listen",   ep,	"--result", srec,
			      "--timeout", "60000",  "--ready-fd", "3", NULL};
		uint64_t t0;

		CU_ASSERT_EQUAL_FATAL(child_start(&srv, NULL, sa, 0, CHILD_AUTO, &err), 0);
		CU_ASSERT_TRUE(srv.in_process);
		usleep(50000);
		t0 = now_ms();
		child_stop(&srv, false, 5000);
		CU_ASSERT(now_ms() - t0 < 1000);
		CU_ASSERT_TRUE(srv.exited && srv.stopped);
		CU_ASSERT_EQUAL(srv.t_end, 0);
		read_text(srec, buf, sizeof(buf));
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, "end=stopped\n"));
		/* the same as a process: forked (CHILD_PROCESS), stopped by SIGTERM, exit 0. Its
		 * ready line is awaited, not a fixed sleep: the handler is set before it listens,
		 * and a process not there yet after 50 ms (an ASan build on a fresh machine, the
		 * first-contact test) died of the SIGTERM instead ("signal 15") */
		CU_ASSERT_EQUAL_FATAL(child_start(&srv, NULL, sr, 5000, CHILD_PROCESS, &err), 0);
		CU_ASSERT_TRUE(srv.pid > 0 && !srv.in_process);
		child_stop(&srv, false, 5000);
		child_exit_str(&srv, s, sizeof(s));
		CU_ASSERT_STRING_EQUAL(s, "0");
	}
	{
		/* a usage error: a process, which says so and exits 2 as it always did */
		char *bad[] = {wl, "client", "--connect", ep, "--result", crec, "--bogus", NULL};

		CU_ASSERT_EQUAL_FATAL(child_start(&cli, NULL, bad, 0, CHILD_AUTO, &err), 0);
		CU_ASSERT_TRUE(cli.pid > 0 && !cli.in_process);
		for (int i = 0; i < 2000 && !child_reaped(&cli); i++)
			usleep(1000);
		child_exit_str(&cli, s, sizeof(s));
		CU_ASSERT_STRING_EQUAL(s, "2");
	}
	unlink(srec);
	unlink(crec);
	rmdir(dir);
	free(err);
}

/* stream_parse: the workload's usage errors returned, argv left as it was */
static void stream_options(void)
{
	char *ok[] = {"w", "server",  "--listen", "10.0.0.1:80",     "--result",
		      "r", "--pause", "5",	  "--resume-signal", NULL};
	char *resume_client[] = {"w",	     "client", "--connect",	  "10.0.0.1:80",
				 "--result", "r",      "--resume-signal", NULL};
	char *nomode[] = {"w", NULL};
	char *badmode[] = {"w", "serve", NULL};
	char *noaddr[] = {"w", "client", "--result", "r", NULL};
	char *ka0[] = {"w", "client",	   "--connect", "10.0.0.1:80", "--result",
		       "r", "--keepalive", "0",		NULL};
	char *help[] = {"w", "--help", NULL};
	struct stream_opts o;
	char *err = NULL;

	CU_ASSERT_EQUAL(stream_parse(9, ok, &o, &err), 0);
	CU_ASSERT_TRUE(o.server && o.resume_signal && o.pause_ms == 5 && o.ready_fd == -1);
	CU_ASSERT_STRING_EQUAL(o.result, "r");
	CU_ASSERT_EQUAL(stream_parse(7, resume_client, &o, &err), -1);
	CU_ASSERT_STRING_EQUAL(err, "--resume-signal is for server");
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(stream_parse(1, nomode, &o, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a mode is required"));
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(stream_parse(2, badmode, &o, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "\"serve\" is wrong"));
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(stream_parse(4, noaddr, &o, &err), -1);
	CU_ASSERT_STRING_EQUAL(err, "--connect is required");
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(stream_parse(8, ka0, &o, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--keepalive must be 1..7200"));
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(stream_parse(2, help, &o, &err), 0);
	CU_ASSERT_TRUE(o.help);
}

static struct ctr_pkt seg(const struct ctr_tuple *t, uint32_t seq, uint32_t ack, uint8_t flags,
			  uint32_t len, int wscale)
{
	return (struct ctr_pkt){.tuple = *t,
				.seq = seq,
				.ack = ack,
				.flags = flags,
				.win = 502,
				.payload_len = len,
				.wscale = wscale};
}

/* a SYN to backend k starts a candidate there, once; other backends' and other hosts'
 * SYNs do not; nothing is "the flow" before conntrack names it */
static void flow_candidates(void)
{
	struct flow_find ff = {.n_backends = 2};
	struct ctr_tuple c2s = tuple("198.18.1.10:40000", "198.18.2.10:8080");
	struct ctr_tuple other = tuple("198.18.1.10:40001", "198.18.2.99:8080");
	struct ctr_tuple s2c = tuple_reverse(&c2s);
	struct ctr_pkt p;

	CU_ASSERT_EQUAL_FATAL(addr_parse("198.18.2.10", &ff.backend_ip[1]), 0);
	CU_ASSERT_EQUAL_FATAL(addr_parse("198.18.2.11", &ff.backend_ip[0]), 0);
	p = seg(&c2s, 1000, 0, TCPF_SYN, 0, 7);
	CU_ASSERT_FALSE(flow_see_backend(&ff, 0, &p)); /* not backend 0's address */
	CU_ASSERT_EQUAL(ff.n_cand, 0);
	CU_ASSERT_FALSE(flow_see_backend(&ff, 1, &p));
	CU_ASSERT_FALSE(flow_see_backend(&ff, 1, &p)); /* a retransmitted SYN: still one */
	CU_ASSERT_EQUAL_FATAL(ff.n_cand, 1);
	CU_ASSERT_EQUAL(ff.cand_backend[0], 1);
	CU_ASSERT_TRUE(tuple_eq(&ff.cand[0].tuple, &s2c));
	p = seg(&other, 5, 0, TCPF_SYN, 0, 7);
	flow_see_backend(&ff, 1, &p);
	CU_ASSERT_EQUAL(ff.n_cand, 1);
	p = seg(&s2c, 9000, 1001, TCPF_SYN | TCPF_ACK, 0, 7);
	CU_ASSERT_FALSE(flow_see_backend(&ff, 1, &p));
	CU_ASSERT_TRUE(ff.cand[0].server.syn_seen);
	CU_ASSERT_PTR_NULL(ff.flow);
	/* named (as flow_name does): now its backend's segments are the flow's */
	ff.flow = &ff.cand[0];
	ff.bk = 1;
	p = seg(&s2c, 9001, 1001, TCPF_ACK | TCPF_PSH, 100, -1);
	CU_ASSERT_TRUE(flow_see_backend(&ff, 1, &p));
	CU_ASSERT_FALSE(flow_see_backend(&ff, 0, &p));
	CU_ASSERT_EQUAL(ff.flow->server.end, 9101u);
}

void register_live_tests(void)
{
	CU_pSuite s = suite_add("live: hold, record, child, flow");

	test_add(s, "the hold's NFQUEUE ruleset (IPv4, IPv6, too small)", hold_rules);
	test_add(s, "inject.kv: delayed-retransmit's evidence, a skip, a crafted trigger",
		 record_delayed);
	test_add(s, "child: ready line, stop, exit status, missing program", children);
	test_add(s, "child: the stream workload in a thread (ready, resume, stop, records)",
		 workload_threads);
	test_add(s, "stream: the workload's options and usage errors", stream_options);
	test_add(s, "flow finding: candidates per backend, the named flow", flow_candidates);
}
