/* The verdict on the committed reference captures of real runs (pcaps/ref/), one per
 * verdict, plus the cross-checks that make a run inconclusive. */
#include "base/kv.h"
#include "tests.h"
#include "review/verdict.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ref {
	char client[PATH_MAX + 32], backend[PATH_MAX + 32];
	struct verdict_input in;
};

/* loads pcaps/ref/NAME: endpoints from its inject.kv, backend end from its server.kv */
static void load_ref(const char *name, struct ref *r)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct kv inj, srv;
	char *err = NULL;
	const char *end;

	memset(r, 0, sizeof(*r));
	snprintf(dir, sizeof(dir), "%s", ref_path(name));
	snprintf(path, sizeof(path), "%s/inject.kv", dir);
	CU_ASSERT_EQUAL_FATAL(kv_load(path, &inj, &err), 0);
	snprintf(path, sizeof(path), "%s/server.kv", dir);
	CU_ASSERT_EQUAL_FATAL(kv_load(path, &srv, &err), 0);
	CU_ASSERT_EQUAL_FATAL(endpoint_parse(kv_get(&inj, "client"), &r->in.client), 0);
	CU_ASSERT_EQUAL_FATAL(endpoint_parse(kv_get(&inj, "backend"), &r->in.backend), 0);
	r->in.injected = !strcmp(kv_get(&inj, "injected"), "1");
	end = kv_get(&srv, "end");
	r->in.backend_end = !strcmp(end, "reset") ? BACKEND_END_RESET : BACKEND_END_ALIVE;
	snprintf(r->client, sizeof(r->client), "%s/client.pcap", dir);
	snprintf(r->backend, sizeof(r->backend), "%s/backend.pcap", dir);
	r->in.client_pcap = r->client;
	r->in.backend_pcap = r->backend;
	kv_free(&inj);
	kv_free(&srv);
}

static void decide(struct ref *r, struct verdict_result *res)
{
	char *err = NULL;

	CU_ASSERT_EQUAL(verdict_decide(&r->in, res, &err), 0);
	free(err);
}

static void reset_capture(void)
{
	struct ref r;
	struct verdict_result res;

	load_ref("reset", &r);
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_RESET);
	CU_ASSERT_EQUAL(res.leaked_packets, 1u);
	CU_ASSERT_TRUE(res.client_rst);
	CU_ASSERT_TRUE(res.rst_at_backend);
	/* the leaked segment comes from the backend pod's own address... */
	CU_ASSERT_TRUE(endpoint_eq(&res.first_leak.tuple.src, &r.in.backend));
	/* ...and the client's RST carries its ack as seq: that is why it kills the socket */
	CU_ASSERT_EQUAL(res.first_rst.seq, res.first_leak.ack);
	CU_ASSERT_TRUE(endpoint_eq(&res.first_rst.tuple.dst, &r.in.backend));
}

static void leak_capture(void)
{
	struct ref r;
	struct verdict_result res;

	load_ref("leak", &r);
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_LEAK);
	CU_ASSERT_TRUE(res.leaked_packets > 0);
	CU_ASSERT_TRUE(res.client_rst);
	CU_ASSERT_FALSE(res.backend_reset);
}

static void clean_capture(void)
{
	struct ref r;
	struct verdict_result res;

	load_ref("clean", &r);
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_CLEAN);
	CU_ASSERT_EQUAL(res.leaked_packets, 0u);
	CU_ASSERT_FALSE(res.client_rst);
}

/* what must never pass as a result */
static void inconclusive_cases(void)
{
	struct ref r;
	struct verdict_result res;
	char *err = NULL;

	load_ref("reset", &r);
	r.in.injected = false;
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_INCONCLUSIVE);

	load_ref("reset", &r);
	r.in.backend_end = BACKEND_END_UNKNOWN;
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_INCONCLUSIVE);

	/* the workload says reset, but no leak in the capture: something else reset it */
	load_ref("clean", &r);
	r.in.backend_end = BACKEND_END_RESET;
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_INCONCLUSIVE);

	/* clean captures that lost packets prove nothing; a leak seen in them still counts */
	load_ref("clean", &r);
	r.in.dropped = 3;
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_INCONCLUSIVE);
	load_ref("reset", &r);
	r.in.dropped = 3;
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_RESET);

	/* the workload says reset, but the backend capture holds no RST from the client */
	load_ref("reset", &r);
	snprintf(r.backend, sizeof(r.backend), "%s/leak/backend.pcap", ref_dir);
	r.in.backend_pcap = r.backend; /* another run's flow: no RST of this 4-tuple in it */
	decide(&r, &res);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_INCONCLUSIVE);

	load_ref("reset", &r);
	r.in.client_pcap = "/nonexistent/client.pcap";
	CU_ASSERT_EQUAL(verdict_decide(&r.in, &res, &err), -1);
	CU_ASSERT_EQUAL(res.verdict, VERDICT_INCONCLUSIVE);
	CU_ASSERT_PTR_NOT_NULL(err);
	free(err);
}

/* the decision alone, on facts however found (verdict_decide's scan or the analysis) */
static void judge(void)
{
	const struct verdict_facts reset = {.injected = true,
					    .backend_end = BACKEND_END_RESET,
					    .backend_captured = true,
					    .leaked_packets = 1,
					    .client_rst = true,
					    .rst_at_backend = true};
	struct verdict_facts f;
	struct verdict_result r;

	verdict_judge(&reset, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_RESET);
	CU_ASSERT_TRUE(r.backend_reset);
	f = reset, f.backend_end = BACKEND_END_ALIVE;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_LEAK);
	f.leaked_packets = 0, f.client_rst = f.rst_at_backend = false;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_CLEAN);
	f = reset, f.injected = false;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f = reset, f.rst_at_backend = false; /* a reset the captures cannot explain */
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f.backend_captured = false; /* ...unless nothing was captured at the backend */
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_RESET);
	f = reset, f.client_rst = false;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f = reset, f.leaked_packets = 0;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f = reset, f.backend_end = BACKEND_END_UNKNOWN;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	/* clean only from complete captures */
	f = reset, f.backend_end = BACKEND_END_ALIVE, f.leaked_packets = 0, f.dropped = 3;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	/* the client's record cross-checks it */
	f = reset, f.client_end = CLIENT_END_COMPLETE;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	CU_ASSERT_EQUAL(r.client_end, CLIENT_END_COMPLETE);
	f = reset, f.client_end = CLIENT_END_RESET;
	verdict_judge(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_RESET);
}

/* the client's own record must agree with the rest, or the run proves nothing */
static void client_cross_checks(void)
{
	static const struct {
		const char *ref;
		enum client_end client;
		enum verdict want;
	} cases[] = {
	    {"reset", CLIENT_END_RESET, VERDICT_RESET},		  /* curl 56: what users see */
	    {"reset", CLIENT_END_STOPPED, VERDICT_RESET},	  /* a stream client, stopped */
	    {"reset", CLIENT_END_FAILED, VERDICT_RESET},	  /* e.g. a timeout: still reset */
	    {"reset", CLIENT_END_COMPLETE, VERDICT_INCONCLUSIVE}, /* whole transfer: no */
	    {"clean", CLIENT_END_COMPLETE, VERDICT_CLEAN},	  /* the workaround: intact */
	    {"clean", CLIENT_END_UNKNOWN, VERDICT_CLEAN},	  /* no record: not checked */
	    {"clean", CLIENT_END_RESET, VERDICT_INCONCLUSIVE},
	    {"clean", CLIENT_END_FAILED, VERDICT_INCONCLUSIVE},
	    {"leak", CLIENT_END_COMPLETE, VERDICT_LEAK},
	    {"leak", CLIENT_END_RESET, VERDICT_INCONCLUSIVE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ref r;
		struct verdict_result res;

		load_ref(cases[i].ref, &r);
		r.in.client_end = cases[i].client;
		decide(&r, &res);
		CU_ASSERT_EQUAL(res.verdict, cases[i].want);
		CU_ASSERT_EQUAL(res.client_end, cases[i].client);
		if (res.verdict != cases[i].want)
			fprintf(stderr, "case %zu: %s + client %s: got %s (%s)\n", i, cases[i].ref,
				client_end_name(cases[i].client), verdict_name(res.verdict),
				res.reason);
	}
}

static void client_end_names(void)
{
	CU_ASSERT_EQUAL(client_end_parse("complete"), CLIENT_END_COMPLETE);
	CU_ASSERT_EQUAL(client_end_parse("closed"), CLIENT_END_COMPLETE);
	CU_ASSERT_EQUAL(client_end_parse("reset"), CLIENT_END_RESET);
	CU_ASSERT_EQUAL(client_end_parse("stopped"), CLIENT_END_STOPPED);
	CU_ASSERT_EQUAL(client_end_parse("timeout"), CLIENT_END_STOPPED);
	CU_ASSERT_EQUAL(client_end_parse("failed"), CLIENT_END_FAILED);
	CU_ASSERT_EQUAL(client_end_parse("refused"), CLIENT_END_FAILED);
	CU_ASSERT_EQUAL(client_end_parse("bogus"), CLIENT_END_UNKNOWN);
	CU_ASSERT_EQUAL(client_end_parse(NULL), CLIENT_END_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(client_end_name(CLIENT_END_RESET), "reset");
}

static void names(void)
{
	CU_ASSERT_EQUAL(verdict_parse("reset"), VERDICT_RESET);
	CU_ASSERT_EQUAL(verdict_parse("clean"), VERDICT_CLEAN);
	CU_ASSERT_EQUAL(verdict_parse("leak"), VERDICT_LEAK);
	CU_ASSERT_EQUAL(verdict_parse("inconclusive"), VERDICT_INCONCLUSIVE);
	CU_ASSERT_EQUAL(verdict_parse("pass"), -1);
	CU_ASSERT_STRING_EQUAL(verdict_name(VERDICT_RESET), "reset");
}

/* a connect cell's decision (the asymmetric topology: works / broken), each way to be
 * inconclusive */
static void connect_judge(void)
{
	const struct connect_facts works = {.client_record = true,
					    .client_bytes = 300032,
					    .backend_captured = true,
					    .synack_at_client = 1,
					    .acks_at_node = 165,
					    .acks_at_backend = 157};
	const struct connect_facts broken = {.client_record = true,
					     .backend_captured = true,
					     .synack_at_client = 2,
					     .acks_at_node = 4};
	struct connect_facts f;
	struct verdict_result r;

	verdict_judge_connect(&works, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_WORKS);
	CU_ASSERT_STRING_EQUAL(verdict_name(r.verdict), "works");
	verdict_judge_connect(&broken, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_BROKEN);
	CU_ASSERT_STRING_EQUAL(verdict_name(r.verdict), "broken");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "(4 segments at node A)"));
	CU_ASSERT_EQUAL(verdict_parse("broken"), VERDICT_BROKEN);
	f = works, f.client_record = false; /* no record: nothing to say */
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f = broken, f.synack_at_client = 0; /* the return path, not conntrack */
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f = works, f.acks_at_backend = 0; /* bytes, yet nothing of the client's arrived */
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f.backend_captured = false; /* ...unless there is no capture at the backend */
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_WORKS);
	f = broken, f.acks_at_node = 0; /* no ACK seen leaving the client */
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f = broken, f.acks_at_backend = 1; /* the ACK arrived: not what the drop does */
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f = broken, f.backend_captured = false; /* absence needs the backend's capture */
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
	f = broken, f.dropped = 2; /* ...and a complete one */
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_INCONCLUSIVE);
}

/* the committed captures of a real broken connect cell (asymmetric, kube-proxy-drop):
 * the client's capture is on every link of the pod (Linux cooked), the SYN-ACK came
 * back twice over node B's link, the client's ACK, its repeat and two FINs reached node
 * A, none the backend */
static void connect_capture(void)
{
	char c[PATH_MAX], n[PATH_MAX], b[PATH_MAX];
	struct ctr_endpoint cl, be;
	struct connect_facts f = {.client_record = true};
	struct verdict_result r;
	char *err = NULL;

	snprintf(c, sizeof(c), "%s/client.pcap", ref_path("connect/broken"));
	snprintf(n, sizeof(n), "%s/node.pcap", ref_path("connect/broken"));
	snprintf(b, sizeof(b), "%s/backend.pcap", ref_path("connect/broken"));
	CU_ASSERT_EQUAL_FATAL(endpoint_parse("198.18.1.10:58300", &cl), 0);
	CU_ASSERT_EQUAL_FATAL(endpoint_parse("198.18.2.10:8080", &be), 0);
	CU_ASSERT_EQUAL(connect_count(c, n, b, &cl, &be, &f, &err), 0);
	free(err);
	CU_ASSERT_EQUAL(f.synack_at_client, 2u);
	CU_ASSERT_EQUAL(f.acks_at_node, 4u);
	CU_ASSERT_EQUAL(f.acks_at_backend, 0u);
	CU_ASSERT_TRUE(f.backend_captured);
	verdict_judge_connect(&f, &r);
	CU_ASSERT_EQUAL(r.verdict, VERDICT_BROKEN);
	/* another flow's: nothing of it in these captures */
	CU_ASSERT_EQUAL_FATAL(endpoint_parse("198.18.1.10:58301", &cl), 0);
	CU_ASSERT_EQUAL(connect_count(c, n, b, &cl, &be, &f, &err), 0);
	CU_ASSERT_EQUAL(f.synack_at_client + f.acks_at_node, 0u);
	/* an unreadable capture is an error, not a count */
	err = NULL;
	CU_ASSERT_EQUAL(connect_count("/nonexistent.pcap", n, b, &cl, &be, &f, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err);
	free(err);
}

void register_verdict_tests(void)
{
	CU_pSuite s = suite_add("verdict");

	test_add(s, "reference reset run", reset_capture);
	test_add(s, "reference leak run (ack-above)", leak_capture);
	test_add(s, "reference clean run (kube-proxy-drop)", clean_capture);
	test_add(s, "inconclusive: no injection, no record, unexplained reset", inconclusive_cases);
	test_add(s, "verdict_judge's decision table", judge);
	test_add(s, "verdict_judge_connect's decision table (works, broken)", connect_judge);
	test_add(s, "reference broken connect run (asymmetric, kube-proxy-drop)", connect_capture);
	test_add(s, "verdict names", names);
	test_add(s, "the client's record cross-checks the verdict", client_cross_checks);
	test_add(s, "client end names", client_end_names);
}
