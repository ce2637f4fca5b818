/* The analysis on the reference captures: real bench runs of every trigger
 * (pcaps/ref/bench) and synthetic ones (pcaps/ref/synth). What each asserts is what a
 * reviewer reads off the report: leaks, the RST answering each, what it killed. */
#include "review/analyse.h"
#include "base/kv.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run {
	struct svcmap svc;
	struct analyse *a;
	const struct review_flow *f; /* the first flow */
};

/* analyses captures DIR/<name> for each "role:name" in spec ("client:client.pcap ..."),
 * with service (NULL: none, the analysis may infer) */
static void analyse_run(struct run *r, const char *dir, const char *spec, const char *service,
			const struct analyse_opts *opts)
{
	static const struct analyse_opts defaults = {0};
	struct pcapfile *readers[ANALYSE_MAX_CAPS];
	char buf[512], *save = NULL, *tok, *err = NULL;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	if (service)
		CU_ASSERT_EQUAL_FATAL(svcmap_parse(&r->svc, service, &err), 0);
	r->a = analyse_new(opts ? opts : &defaults, &r->svc, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->a);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char path[1024], *colon = strchr(tok, ':');
		enum cap_role role = CAP_UNKNOWN;

		CU_ASSERT_PTR_NOT_NULL_FATAL(colon);
		*colon = '\0';
		if (!strcmp(tok, "client"))
			role = CAP_CLIENT;
		else if (!strcmp(tok, "node"))
			role = CAP_NODE;
		else if (!strcmp(tok, "backend"))
			role = CAP_BACKEND;
		snprintf(path, sizeof(path), "%s/%s", ref_path(dir), colon + 1);
		readers[n] = pcapfile_open(path, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(readers[n]);
		CU_ASSERT_EQUAL_FATAL(analyse_add_capture(r->a, path, role, &err), (int)n);
		n++;
	}
	CU_ASSERT_EQUAL_FATAL(analyse_merge(r->a, readers, n, &err), 0);
	for (size_t i = 0; i < n; i++)
		pcapfile_close(readers[i]);
	analyse_finish(r->a);
	r->f = analyse_flow(r->a, 0);
	free(err);
}

static void run_free(struct run *r)
{
	analyse_free(r->a);
	svcmap_free(&r->svc);
}

#define BENCH3 "client:client.pcap node:node.pcap backend:backend.pcap"
#define SVC "198.19.0.10:80=198.18.2.10:8080"

/* the first row with all the notes in mask, or NULL */
static const struct review_row *row_with(const struct review_flow *f, uint8_t mask)
{
	for (size_t i = 0; f && i < f->nrows; i++)
		if ((f->rows[i].notes & mask) == mask)
			return &f->rows[i];
	return NULL;
}

static void bench_reset(void)
{
	const struct review_row *leak, *rst;
	struct run r;

	analyse_run(&r, "bench/seq-above", BENCH3, SVC, NULL);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_RESET);
	CU_ASSERT_EQUAL(analyse_flow_count(r.a), 1u); /* VIP and backend views: one flow */
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.f);
	CU_ASSERT_TRUE(r.f->nat);
	CU_ASSERT_TRUE(r.f->handshake);
	CU_ASSERT_EQUAL(r.f->n_leak, 1u);
	CU_ASSERT_EQUAL(r.f->n_invalid, 1u);
	leak = row_with(r.f, ROW_LEAK | ROW_WINDOW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(leak);
	CU_ASSERT_EQUAL(leak->ct.verdict, CTWIN_INVALID);
	CU_ASSERT_EQUAL(leak->ct.reason, CTWIN_R_SEQ_OVER);
	CU_ASSERT_TRUE(leak->nat_skipped);
	CU_ASSERT_EQUAL(leak->leaked_at, 0x3u); /* client and node, not backend */
	CU_ASSERT_EQUAL(leak->seen, 0x7u);
	rst = row_with(r.f, ROW_RST | ROW_UNNAT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rst);
	CU_ASSERT_EQUAL(rst->seq, leak->ack);
	CU_ASSERT_EQUAL(rst->answers, leak->row);
	CU_ASSERT_EQUAL(rst->effect, CTWIN_RST_RESETS);
	CU_ASSERT_TRUE(rst->seen & 0x4u);		      /* it reached the backend */
	CU_ASSERT_EQUAL(rst->ct.reason, CTWIN_R_NEW_INVALID); /* no entry for client->backend */
	CU_ASSERT_EQUAL(r.f->kill_row, rst->row);
	CU_ASSERT_EQUAL(r.f->end, END_RESET_BY_LEAK);
	run_free(&r);
}

/* ack-above: leaked, answered, but the RST's seq is outside the backend's window */
static void bench_leak_survived(void)
{
	const struct review_row *rst;
	struct run r;

	analyse_run(&r, "bench/ack-above", BENCH3, SVC, NULL);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_LEAK);
	CU_ASSERT_EQUAL(row_with(r.f, ROW_LEAK)->ct.reason, CTWIN_R_ACK_OVER);
	rst = row_with(r.f, ROW_RST | ROW_UNNAT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rst);
	CU_ASSERT_TRUE(rst->answers >= 0);
	CU_ASSERT_EQUAL(rst->effect, CTWIN_RST_IGNORED);
	CU_ASSERT_EQUAL(r.f->kill_row, -1);
	run_free(&r);
}

/* bad-flags: the client answers a segment without ACK with RST|ACK acknowledging it */
static void bench_bad_flags(void)
{
	const struct review_row *rst;
	struct run r;

	analyse_run(&r, "bench/bad-flags", BENCH3, SVC, NULL);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_LEAK);
	CU_ASSERT_EQUAL(row_with(r.f, ROW_LEAK)->ct.reason, CTWIN_R_FLAGS);
	rst = row_with(r.f, ROW_RST | ROW_UNNAT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rst);
	CU_ASSERT_TRUE(rst->answers >= 0);
	run_free(&r);
}

/* seq-below: IGNORE since 6.1, NAT applies, nothing leaks; INVALID before 6.1 */
static void bench_clean(void)
{
	struct analyse_opts old = {.ct.no_ignore_delayed = true, .ct.no_rcvwnd_workaround = true};
	struct run r;

	analyse_run(&r, "bench/seq-below", BENCH3, SVC, NULL);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_CLEAN);
	CU_ASSERT_EQUAL(r.f->n_ignore, 1u);
	CU_ASSERT_EQUAL(r.f->n_invalid, 0u);
	CU_ASSERT_EQUAL(r.f->n_leak, 0u);
	run_free(&r);
	analyse_run(&r, "bench/seq-below", BENCH3, SVC, &old);
	CU_ASSERT_EQUAL(r.f->n_invalid, 1u);
	CU_ASSERT_TRUE(row_with(r.f, ROW_WINDOW)->nat_skipped);
	run_free(&r);
}

/* delayed-retransmit (a real run, pcaps/ref/natural; headers only): one backend segment
 * (seq 2592303331, len 1024) held 604 ms in node B and released below the window. The
 * backend's capture has it at its send time, where it is in window; the node and the
 * client saw it 604 ms later, and the model judges it in the order the node saw it:
 * IGNORE since 6.1 ("SEQ is under lower bound", NAT applies, as the run observed),
 * INVALID before (NAT skipped, yet the captures saw it NATed: the other kernel's rule) */
static void natural_delayed(void)
{
	struct analyse_opts old = {.ct.no_ignore_delayed = true, .ct.no_rcvwnd_workaround = true};
	const struct review_row *held;
	struct run r;

	analyse_run(&r, "natural/delayed-retransmit", BENCH3, SVC, NULL);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_CLEAN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.f);
	CU_ASSERT_EQUAL(r.f->n_ignore, 1u);
	CU_ASSERT_EQUAL(r.f->n_invalid, 0u);
	held = row_with(r.f, ROW_WINDOW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	CU_ASSERT_EQUAL(held->seq, 2592303331u);
	CU_ASSERT_EQUAL(held->len, 1024u);
	CU_ASSERT_EQUAL(held->ct.verdict, CTWIN_IGNORE);
	CU_ASSERT_EQUAL(held->ct.reason, CTWIN_R_SEQ_UNDER);
	CU_ASSERT_FALSE(held->seen & 0x4u); /* at the node and the client, not the backend */
	CU_ASSERT_TRUE(held->natted_at & 0x2u);
	run_free(&r);
	analyse_run(&r, "natural/delayed-retransmit", "node:node.pcap backend:backend.pcap", SVC,
		    NULL);
	CU_ASSERT_EQUAL(r.f->n_ignore, 1u); /* the node's capture alone carries it */
	run_free(&r);
	analyse_run(&r, "natural/delayed-retransmit", BENCH3, SVC, &old);
	CU_ASSERT_EQUAL(r.f->n_invalid, 1u);
	CU_ASSERT_EQUAL(r.f->n_ignore, 0u);
	held = row_with(r.f, ROW_WINDOW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	CU_ASSERT_EQUAL(held->seq, 2592303331u);
	CU_ASSERT_TRUE(held->nat_skipped);
	run_free(&r);
	/* the backend's capture alone cannot show it: it never saw the late copy */
	analyse_run(&r, "natural/delayed-retransmit", "backend:backend.pcap", SVC, NULL);
	CU_ASSERT_EQUAL(r.f->n_ignore + r.f->n_invalid, 0u);
	run_free(&r);
}

/* kube-proxy-drop: INVALID at the node, seen at the backend, at no client-side capture */
static void bench_dropped(void)
{
	const struct review_row *d;
	struct run r;

	analyse_run(&r, "bench/seq-above+kube-proxy-drop", BENCH3, SVC, NULL);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_CLEAN);
	d = row_with(r.f, ROW_WINDOW | ROW_DROPPED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->seen, 0x4u);
	run_free(&r);
}

/* be-liberal: accepted by the node; the model says so when told the sysctl */
static void bench_be_liberal(void)
{
	struct analyse_opts lib = {.ct.be_liberal = true};
	struct run r;

	analyse_run(&r, "bench/seq-above+be-liberal", BENCH3, SVC, &lib);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_CLEAN);
	CU_ASSERT_EQUAL(r.f->n_liberal, 1u);
	CU_ASSERT_EQUAL(r.f->n_invalid, 0u);
	run_free(&r);
	/* without: the model calls it INVALID, yet the client saw it NATed */
	analyse_run(&r, "bench/seq-above+be-liberal", BENCH3, SVC, NULL);
	CU_ASSERT_EQUAL(r.f->n_invalid, 1u);
	CU_ASSERT_NOT_EQUAL(row_with(r.f, ROW_WINDOW)->natted_at, 0u);
	CU_ASSERT_EQUAL(r.f->n_leak, 0u);
	run_free(&r);
}

/* the conntrack entry deleted: a leak the window model cannot explain */
static void bench_entry_lost(void)
{
	const struct review_row *leak;
	struct run r;

	analyse_run(&r, "bench/ct-entry-lost", BENCH3, SVC, NULL);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_RESET);
	leak = row_with(r.f, ROW_LEAK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(leak);
	CU_ASSERT_TRUE(leak->modelled);
	CU_ASSERT_FALSE(leak->nat_skipped);
	CU_ASSERT_EQUAL(r.f->n_invalid, 0u);
	run_free(&r);
}

/* no service map: the same SYN seen at the client (to the VIP) and at the backend (to the
 * backend) tells the DNAT */
static void nat_inferred(void)
{
	const struct svcmap *svc;
	struct run r;

	analyse_run(&r, "bench/seq-above", "client:client.pcap backend:backend.pcap", NULL, NULL);
	CU_ASSERT_TRUE(r.f->nat);
	CU_ASSERT_TRUE(r.f->nat_inferred);
	svc = analyse_services(r.a);
	CU_ASSERT_EQUAL(svc->n, 1u);
	CU_ASSERT_TRUE(svc->v[0].inferred);
	CU_ASSERT_EQUAL(svc->v[0].vip.port, 80);
	CU_ASSERT_EQUAL(svc->v[0].backend.port, 8080);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_RESET);
	run_free(&r);
	/* the backend's capture first on the command line: merged by time all the same */
	analyse_run(&r, "bench/seq-above", "backend:backend.pcap client:client.pcap", NULL, NULL);
	CU_ASSERT_EQUAL(analyse_services(r.a)->v[0].vip.port, 80);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_RESET);
	run_free(&r);
}

/* one capture at the client is enough for the leak and its RST */
static void client_only(void)
{
	struct run r;

	analyse_run(&r, "bench/seq-above", "client:client.pcap", SVC, NULL);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_RESET);
	CU_ASSERT_EQUAL(row_with(r.f, ROW_LEAK)->ct.reason, CTWIN_R_SEQ_OVER);
	run_free(&r);
	/* the backend's alone shows no leak: nothing there is past the NAT */
	analyse_run(&r, "bench/seq-above", "backend:backend.pcap", SVC, NULL);
	CU_ASSERT_EQUAL(r.f->n_leak, 0u);
	CU_ASSERT_EQUAL(r.f->n_invalid, 1u);
	run_free(&r);
}

/* a capture spanning the NAT (-i any): each reply twice, VIP twin after the backend's;
 * only the one without a NATed twin is a leak */
static void nat_spanning_capture(void)
{
	const char *svcs[2] = {NULL, "10.96.0.10:80=10.2.0.20:8080"};

	for (int i = 0; i < 2; i++) {
		struct run r;

		analyse_run(&r, "synth", "any:nat-any.pcap", svcs[i], NULL);
		CU_ASSERT_EQUAL(analyse_flow_count(r.a), 1u);
		CU_ASSERT_TRUE(r.f->nat);
		CU_ASSERT_EQUAL(r.f->n_leak, 1u);
		CU_ASSERT_EQUAL(r.f->segs[1], 5u); /* SYN-ACK, 3 data, the leak: once each */
		CU_ASSERT_EQUAL(r.f->n_unnat, 1u);
		CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_RESET);
		run_free(&r);
	}
}

static void link_types(void)
{
	static const char *const files[] = {"seq-over.pcap",	 "link-vlan.pcap", "link-sll.pcap",
					    "link-sll2.pcap",	 "link-raw.pcap",  "link-ipv6.pcap",
					    "link-pcapng.pcapng"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char spec[64];
		struct run r;

		snprintf(spec, sizeof(spec), "any:%s", files[i]);
		analyse_run(&r, "synth", spec, NULL, NULL);
		CU_ASSERT_EQUAL(analyse_flow_count(r.a), 1u);
		CU_ASSERT_EQUAL(r.f->n_invalid, 1u);
		CU_ASSERT_EQUAL(row_with(r.f, ROW_WINDOW)->ct.reason, CTWIN_R_SEQ_OVER);
		CU_ASSERT_EQUAL(r.f->end, END_CLOSED);
		CU_ASSERT_FALSE(r.f->nat);
		run_free(&r);
	}
}

static void broken_inputs(void)
{
	struct run r;

	analyse_run(&r, "synth", "any:malformed.pcap", NULL, NULL);
	CU_ASSERT_EQUAL(analyse_cap(r.a, 0)->stats.malformed, 5u);
	CU_ASSERT_EQUAL(r.f->n_invalid, 1u);
	run_free(&r);
	analyse_run(&r, "synth", "any:cut.pcap", NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(analyse_cap(r.a, 0)->warning);
	CU_ASSERT_EQUAL(r.f->segs[0] + r.f->segs[1], 15u);
	run_free(&r);
	analyse_run(&r, "synth", "any:header-only.pcap", NULL, NULL);
	CU_ASSERT_EQUAL(analyse_flow_count(r.a), 0u);
	CU_ASSERT_EQUAL(analyse_result(r.a), RESULT_CLEAN);
	run_free(&r);
}

/* memory follows connections: 5000 INVALID segments keep max_rows rows */
static void bounded_rows(void)
{
	struct analyse_opts o = {.max_rows = 16};
	struct ctr_pkt p = {0};
	struct analyse *a = analyse_new(&o, NULL, NULL);
	const struct review_flow *f;
	char *err = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(analyse_add_capture(a, "x", CAP_UNKNOWN, NULL), 0);
	CU_ASSERT_EQUAL(analyse_packet(a, 1, &p, &err), -1); /* capture 1 does not exist */
	free(err);
	endpoint_parse("10.0.0.1:40000", &p.tuple.src);
	endpoint_parse("10.0.0.2:80", &p.tuple.dst);
	for (int i = 0; i < 5000; i++) {
		p.ts_us = 1000000 + (uint64_t)i * 1000;
		p.flags = TCPF_SYN | TCPF_FIN; /* INVALID every time */
		p.seq = (uint32_t)i;
		p.ip_id = (uint16_t)i;
		CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	}
	analyse_finish(a);
	f = analyse_flow(a, 0);
	CU_ASSERT_EQUAL(f->n_invalid, 5000u);
	CU_ASSERT_TRUE(f->nrows <= 16u);
	CU_ASSERT_EQUAL(f->rows_dropped + f->nrows, 5000u);
	analyse_free(a);
}

/* the bench verdict judged on the analysis equals the one verdict_decide's own scan gives,
 * on every reference run */
static void verdict_agrees(void)
{
	static const char *const runs[] = {"bench/seq-above",
					   "bench/seq-above+kube-proxy-drop",
					   "bench/seq-above+be-liberal",
					   "bench/seq-below",
					   "bench/ack-above",
					   "bench/ack-below",
					   "bench/bad-flags",
					   "bench/small-overshoot",
					   "bench/ct-entry-lost"};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char client[1024], backend[1024], path[1024], *err = NULL;
		struct verdict_result scan, judged = {0};
		struct verdict_input in = {0};
		struct verdict_facts f = {0};
		struct kv inj, srv, meta;
		struct run r;

		snprintf(path, sizeof(path), "%s/inject.kv", ref_path(runs[i]));
		CU_ASSERT_EQUAL_FATAL(kv_load(path, &inj, &err), 0);
		snprintf(path, sizeof(path), "%s/server.kv", ref_path(runs[i]));
		CU_ASSERT_EQUAL_FATAL(kv_load(path, &srv, &err), 0);
		snprintf(path, sizeof(path), "%s/meta.kv", ref_path(runs[i]));
		CU_ASSERT_EQUAL_FATAL(kv_load(path, &meta, &err), 0);
		snprintf(client, sizeof(client), "%s/client.pcap", ref_path(runs[i]));
		snprintf(backend, sizeof(backend), "%s/backend.pcap", ref_path(runs[i]));
		in.client_pcap = client;
		in.backend_pcap = backend;
		in.injected = !strcmp(kv_get(&inj, "injected"), "1");
		endpoint_parse(kv_get(&inj, "client"), &in.client);
		endpoint_parse(kv_get(&inj, "backend"), &in.backend);
		in.backend_end =
		    !strcmp(kv_get(&srv, "end"), "reset") ? BACKEND_END_RESET : BACKEND_END_ALIVE;
		CU_ASSERT_EQUAL(verdict_decide(&in, &scan, &err), 0);
		analyse_run(&r, runs[i], BENCH3, SVC, NULL);
		f.injected = in.injected;
		f.backend_end = in.backend_end;
		analyse_verdict_facts(r.a, &f);
		verdict_judge(&f, &judged);
		CU_ASSERT_EQUAL(judged.verdict, scan.verdict);
		CU_ASSERT_STRING_EQUAL(verdict_name(judged.verdict), kv_get(&meta, "expected"));
		CU_ASSERT_EQUAL(f.leaked_packets != 0, scan.leaked_packets != 0);
		CU_ASSERT_EQUAL(f.client_rst, scan.client_rst);
		CU_ASSERT_EQUAL(f.rst_at_backend, scan.rst_at_backend);
		run_free(&r);
		kv_free(&inj);
		kv_free(&srv);
		kv_free(&meta);
		free(err);
	}
}

/* the live detector's hook: seq-above's client capture alone raises the leak, then the
 * RST answering it, in that order and once each */
struct events {
	int n;
	uint8_t notes[4];
	const struct review_row *answers;
	enum ctwin_rst_effect effect;
};

static void on_event(void *ctx, const struct review_flow *f, const struct review_row *r, int cap)
{
	struct events *e = ctx;

	(void)cap;
	if (e->n < 4)
		e->notes[e->n] = r->notes & (ROW_LEAK | ROW_RST | ROW_UNNAT);
	e->n++;
	if (r->notes & ROW_RST) {
		e->answers = analyse_rst_answers(f, r, false);
		e->effect = r->effect;
	}
}

static void live_events(void)
{
	struct events ev = {0};
	struct analyse_opts o = {.event = on_event, .event_ctx = &ev};
	struct run r;

	analyse_run(&r, "bench/seq-above", "client:client.pcap", SVC, &o);
	CU_ASSERT_EQUAL(ev.n, 2);
	CU_ASSERT_EQUAL(ev.notes[0], ROW_LEAK);
	CU_ASSERT_EQUAL(ev.notes[1], ROW_RST | ROW_UNNAT);
	CU_ASSERT_PTR_NOT_NULL(ev.answers);
	CU_ASSERT_EQUAL(ev.effect, CTWIN_RST_RESETS);
	run_free(&r);
	memset(&ev, 0, sizeof(ev));
	analyse_run(&r, "bench/seq-below", "client:client.pcap", SVC, &o);
	CU_ASSERT_EQUAL(ev.n, 0);
	run_free(&r);
}

/* the live detector's bound: idle connections go, then the least recently active down to
 * the cap; those left are found again (not duplicated), a forgotten one starts afresh */
static void evict_bounded(void)
{
	struct analyse_opts o = {.max_rows = 8};
	struct analyse *a = analyse_new(&o, NULL, NULL);
	struct ctr_pkt p = {0};
	char addr[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(analyse_add_capture(a, "x", CAP_UNKNOWN, NULL), 0);
	endpoint_parse("10.0.0.2:80", &p.tuple.dst);
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d:40000", 1 + i / 250, 1 + i % 250);
		endpoint_parse(addr, &p.tuple.src);
		p.ts_us = 1000000 + (uint64_t)i * 1000; /* flow i last seen at 1 s + i ms */
		p.flags = TCPF_SYN;
		p.seq = (uint32_t)i;
		CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	}
	CU_ASSERT_EQUAL(analyse_flow_count(a), 1000u);
	/* idle: the first 100 (last seen before 1.1 s) */
	CU_ASSERT_EQUAL(analyse_evict(a, 2000000, 900000, 0, NULL), 100);
	CU_ASSERT_EQUAL(analyse_flow_count(a), 900u);
	/* the cap: 500 left, the most recent */
	CU_ASSERT_EQUAL(analyse_evict(a, 2000000, 10000000, 500, NULL), 400);
	CU_ASSERT_EQUAL(analyse_flow_count(a), 500u);
	for (size_t i = 0; i < analyse_flow_count(a); i++)
		CU_ASSERT_TRUE(analyse_flow(a, i)->first_us >= 1000000 + 500 * 1000);
	/* a kept one's next segment joins it; a forgotten one's makes a new connection */
	endpoint_parse("10.0.4.250:40000", &p.tuple.src); /* flow 999 */
	p.flags = TCPF_ACK;
	p.ts_us = 3000000;
	CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	CU_ASSERT_EQUAL(analyse_flow_count(a), 500u);
	endpoint_parse("10.0.1.1:40000", &p.tuple.src); /* flow 0 */
	CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	CU_ASSERT_EQUAL(analyse_flow_count(a), 501u);
	analyse_free(a);
}

/* a copy of a segment is one with every field the same (seq, ack, length, window, IPv4
 * id, flags): two segments whose fields differ but whose digest is the same (length 1 and
 * id 5, length 2 and id 4) stay two; a copy found in the ring of recent ones up to its
 * oldest entry; the same fields 300 ms later are a new segment */
static void twins_exact(void)
{
	struct analyse *a = analyse_new(&(struct analyse_opts){0}, NULL, NULL);
	const struct review_flow *f;
	struct ctr_pkt p = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(analyse_add_capture(a, "x", CAP_UNKNOWN, NULL), 0);
	endpoint_parse("10.0.0.1:40000", &p.tuple.src);
	endpoint_parse("10.0.0.2:80", &p.tuple.dst);
	p.flags = TCPF_ACK | TCPF_PSH;
	p.seq = 1000;
	p.ack = 2000;
	p.win = 512;
	p.ts_us = 1000000;
	p.payload_len = 1;
	p.ip_id = 5;
	CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	p.payload_len = 2;
	p.ip_id = 4;
	p.ts_us += 10;
	CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	f = analyse_flow(a, 0);
	CU_ASSERT_EQUAL(analyse_flow_count(a), 1u);
	CU_ASSERT_EQUAL(f->segs[0], 2u);
	p.ts_us += 10; /* the same again (the other interface of "-i any"): a sighting */
	CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	CU_ASSERT_EQUAL(f->segs[0], 2u);
	/* 8 more: the ring (8 entries) holds segments 3 to 10 */
	for (int i = 3; i <= 10; i++) {
		p.seq = 1000u + 100u * (unsigned)i;
		p.ip_id = (uint16_t)(10 + i);
		p.ts_us += 10;
		CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	}
	CU_ASSERT_EQUAL(f->segs[0], 10u);
	for (int i = 3; i <= 10; i++) { /* each found again, the oldest included */
		p.seq = 1000u + 100u * (unsigned)i;
		p.ip_id = (uint16_t)(10 + i);
		p.ts_us += 10;
		CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	}
	CU_ASSERT_EQUAL(f->segs[0], 10u);
	p.ts_us += 300000; /* segment 10 again, 300 ms on: a retransmission, not a copy */
	CU_ASSERT_EQUAL(analyse_packet(a, 0, &p, NULL), 0);
	CU_ASSERT_EQUAL(f->segs[0], 11u);
	analyse_free(a);
}

void register_analyse_tests(void)
{
	CU_pSuite s = suite_add("analyse");

	test_add(s, "bench seq-above: leak, its RST, the backend reset", bench_reset);
	test_add(s, "bench ack-above: leak, RST out of the backend's window", bench_leak_survived);
	test_add(s, "bench bad-flags: RST|ACK answering a segment without ACK", bench_bad_flags);
	test_add(s, "bench seq-below: IGNORE >= 6.1, INVALID before", bench_clean);
	test_add(s, "natural delayed-retransmit: judged in the node's order (IGNORE >= 6.1)",
		 natural_delayed);
	test_add(s, "bench kube-proxy-drop: INVALID dropped past the node", bench_dropped);
	test_add(s, "bench be-liberal: forgiven when modelled, NATed anyway", bench_be_liberal);
	test_add(s, "bench ct-entry-lost: a leak without INVALID", bench_entry_lost);
	test_add(s, "DNAT inferred from one SYN at two points, any order", nat_inferred);
	test_add(s, "client capture alone; backend capture alone", client_only);
	test_add(s, "a capture spanning the NAT: NATed twins are no leak", nat_spanning_capture);
	test_add(s, "every link type and pcapng", link_types);
	test_add(s, "malformed frames, a cut file, an empty one", broken_inputs);
	test_add(s, "rows per connection stay bounded", bounded_rows);
	test_add(s, "bench verdict from the analysis = verdict_decide's", verdict_agrees);
	test_add(s, "live: the event hook raises the leak, then its RST", live_events);
	test_add(s, "live: idle and over-the-cap connections forgotten", evict_bounded);
	test_add(s, "a copy is every field the same; found across the ring", twins_exact);
}
