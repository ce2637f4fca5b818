/* The trigger table's rows (tools/lib/live/trig_*.c) and the bench arguments computed from
 * them: each value as bench/natural.sh's formulas gave it before they moved into C. */
#include "live/injectkv.h"
#include "live/trigger.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the values for (CTR_IDLE_TIMEOUT, CTR_TIME_SCALE, workaround): T, pause, gap, stream,
 * stall, curl's keepalive and the http bounds' extra, as the bash formulas had them */
static void bench_values(void)
{
	static const struct {
		unsigned timeout, scale;
		const char *wa;
		unsigned t, pause, gap, stream, stall, ka, extra;
	} cases[] = {
	    /* the bench's defaults: 1 s, 2 s with keepalive */
	    {0, 1, "none", 1, 1400, 2000, 7000, 1600, 3, 5},
	    {0, 1, "keepalive", 2, 2400, 2000, 8000, 2600, 1, 4},
	    /* CTR_IDLE_TIMEOUT wins, keepalive's too */
	    {5, 1, "none", 5, 5400, 2000, 11000, 5600, 7, 13},
	    {5, 1, "keepalive", 5, 5400, 2000, 11000, 5600, 1, 7},
	    {60, 1, "be-liberal", 60, 60400, 2000, 66000, 60600, 62, 123},
	    /* a slow machine: 0.1 s a step past 1 on the idle pause, 1 s on the gap's
	     * bound (the injector ends that pause) and on the stream */
	    {0, 3, "none", 1, 1600, 4000, 9000, 1800, 3, 5},
	    {0, 6, "none", 1, 1900, 7000, 12000, 2100, 4, 7},
	    {0, 7, "none", 1, 2000, 8000, 13000, 2200, 4, 7},
	    {0, 20, "none", 1, 3300, 21000, 26000, 3500, 5, 9},
	    {0, 20, "keepalive", 2, 4300, 21000, 27000, 4500, 1, 6},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trigger_bench_in in = {.idle_timeout_s = cases[i].timeout,
					      .time_scale = cases[i].scale,
					      .workaround = cases[i].wa};
		struct trigger_bench b;

		trigger_bench_values(&in, &b);
		CU_ASSERT_EQUAL(b.ct_timeout_s, cases[i].t);
		CU_ASSERT_EQUAL(b.pause_ms, cases[i].pause);
		CU_ASSERT_EQUAL(b.gap_ms, cases[i].gap);
		CU_ASSERT_EQUAL(b.stream_ms, cases[i].stream);
		CU_ASSERT_EQUAL(b.stall_ms, cases[i].stall);
		CU_ASSERT_EQUAL(b.curl_keepalive_s, cases[i].ka);
		CU_ASSERT_EQUAL(b.http_extra_s, cases[i].extra);
	}
}

/* what ctreset-inject --bench-args prints for NAMES x WORKAROUNDS, one workload */
static char *bench_text(const char *names, const char *was, bool http, unsigned scale, int *rc)
{
	struct trigger_bench_in in = {.time_scale = scale, .http = http};
	char *buf = NULL, *err = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	*rc = trigger_bench_print(f, names, was, &in, &err);
	fclose(f);
	free(err);
	return buf;
}

static void bench_lines(void)
{
	int rc;
	char *s;

	s = bench_text("idle-expiry,seq-above", "none,keepalive", false, 1, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(
	    s, "idle-expiry\tnone\tinject\t--ct-timeout 1\n"
	       "idle-expiry\tnone\tserver\t--pause-after 100 --pause 1400 --timeout 7000\n"
	       "idle-expiry\tnone\tclient\t--timeout 7000\n"
	       "idle-expiry\tkeepalive\tinject\t--ct-timeout 2\n"
	       "idle-expiry\tkeepalive\tserver\t--pause-after 100 --pause 2400 --timeout 8000\n"
	       "idle-expiry\tkeepalive\tclient\t--timeout 8000\n"
	       "idle-expiry\tkeepalive\tclient\t--keepalive 1\n"
	       "seq-above\tkeepalive\tclient\t--keepalive 1\n");
	free(s);
	/* http: no stream lines, no stream keepalive; the stall and the body instead */
	s = bench_text("idle-expiry,delayed-retransmit,ct-flush", "keepalive", true, 20, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(s, "idle-expiry\tkeepalive\tinject\t--ct-timeout 2\n"
				  "idle-expiry\tkeepalive\tstall\t4500 1 6\n"
				  "delayed-retransmit\tkeepalive\tinject\t--hold-ns {backend_node} "
				  "--capture-buffer 8192\n"
				  "delayed-retransmit\tkeepalive\tbody\t3\n");
	free(s);
	s = bench_text("delayed-retransmit,small-overshoot,ct-entry-lost", "none", false, 1, &rc);
	CU_ASSERT_STRING_EQUAL(
	    s, "delayed-retransmit\tnone\tinject\t--hold-ns {backend_node} "
	       "--capture-buffer 8192\n"
	       "delayed-retransmit\tnone\tserver\t--interval 1\n"
	       "small-overshoot\tnone\tserver\t--pause-after 100 --pause 2000 --resume-signal\n"
	       "ct-entry-lost\tnone\tserver\t--pause-after 100 --pause 2000 --resume-signal\n");
	free(s);
	s = bench_text("seq-above,nonsense", "none", false, 1, &rc);
	CU_ASSERT_EQUAL(rc, -1);
	free(s);
}

/* every row: what it must have for its kind; what it does nowhere else is said */
static void rows_complete(void)
{
	for (int t = 0; t < TRIGGER_COUNT; t++) {
		const struct trigger_info *ti = trigger_info(t);

		CU_ASSERT_PTR_NOT_NULL_FATAL(ti);
		CU_ASSERT_PTR_NOT_NULL(ti->cause);
		/* a crafted trigger places and records its segment; no other does */
		CU_ASSERT_EQUAL(ti->place != NULL, ti->kind == TRIGGER_CRAFTED);
		CU_ASSERT(ti->kind != TRIGGER_CRAFTED || ti->evidence);
		/* a probe settles once it left the backend; a legitimate connection once its
		 * client ended (its cause says so); anything else on new data */
		CU_ASSERT_EQUAL(ti->settles_on_data,
				ti->kind != TRIGGER_CRAFTED && ti->kind != TRIGGER_LEGITIMATE);
		/* a legitimate connection, and only it, is watched from its start: no flow
		 * learned first */
		CU_ASSERT_EQUAL(!!(ti->options & TRIGGER_LEARNS_NO_FLOW),
				ti->kind == TRIGGER_LEGITIMATE);
		/* the natural ones have conntrack -E's account and 200 ms of quiet */
		CU_ASSERT_EQUAL(ti->ct_events, ti->kind == TRIGGER_NATURAL);
		CU_ASSERT_EQUAL(ti->quiet_min_ms, ti->kind == TRIGGER_NATURAL ? 200u : 0u);
		/* where it acts is refused in a foreign namespace: what it does there is said */
		CU_ASSERT_EQUAL(ti->acts_in != TRIGGER_ACTS_NOWHERE, ti->acts != NULL);
		CU_ASSERT(!(ti->options & TRIGGER_NEEDS_HOLD_NS) ||
			  ti->acts_in == TRIGGER_ACTS_IN_HOLD);
		CU_ASSERT(ti->acts_in != TRIGGER_ACTS_IN_NODE || ti->kind != TRIGGER_CRAFTED);
	}
}

/* connect, the asymmetric topology's cell: its bench lines (the client to the backend's
 * own address for 1 s, a step of the scale more; the nodes' entries read half-way; the
 * headers kept; keepalive's option after) and its evidence (each node's entry, the DNAT
 * node's first: it is the injector's last namespace) */
static void connect_row(void)
{
	const struct trigger_info *ti = trigger_info(TRIGGER_CONNECT);
	struct natural nat = {.ct_state = {"SYN_RECV", NULL, "SYN_SENT"}};
	struct ns_invalid inv[3] = {{.ns = "p-nodeB"}, {.ns = "p-other"}, {.ns = "p-nodeA"}};
	struct record rec = {
	    .trigger = TRIGGER_CONNECT, .nat = &nat, .invalid = inv, .n_invalid = 3};
	char *s, *buf = NULL;
	size_t len = 0;
	FILE *m;
	int rc;

	CU_ASSERT_EQUAL_FATAL(trigger_parse("connect"), TRIGGER_CONNECT);
	CU_ASSERT_STRING_EQUAL(trigger_kind_name(ti->kind), "legitimate");
	s = bench_text("connect", "none,keepalive", false, 2, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(s,
			       "connect\tnone\tinject\t--snaplen 128 --delay 1000\n"
			       "connect\tnone\tclient\t--connect {backend_ep} --timeout 2000\n"
			       "connect\tkeepalive\tinject\t--snaplen 128 --delay 1000\n"
			       "connect\tkeepalive\tclient\t--connect {backend_ep} --timeout 2000\n"
			       "connect\tkeepalive\tclient\t--keepalive 1\n");
	free(s);
	s = bench_text("connect", "none", true, 1, &rc);
	CU_ASSERT_STRING_EQUAL(s, "connect\tnone\tinject\t--snaplen 128 --delay 500\n");
	free(s);
	m = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ti->evidence);
	ti->evidence(m, &rec);
	fclose(m);
	CU_ASSERT_STRING_EQUAL(buf, "ct_state.p-nodeA=SYN_SENT\nct_state.p-nodeB=SYN_RECV\n");
	free(buf);
}

void register_trigger_tests(void)
{
	CU_pSuite s = suite_add("trigger table");

	test_add(s, "bench values: bench/natural.sh's formulas, in C", bench_values);
	test_add(s, "bench lines: per trigger, workaround and workload", bench_lines);
	test_add(s, "every row complete for its kind", rows_complete);
	test_add(s, "connect: its bench lines and its evidence", connect_row);
}
