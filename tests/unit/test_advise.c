/* bench/advise's page (ctreset-review --render advise|advise-json): the committed fixture
 * run byte for byte, and its exit status: a cell not as expected, a missing cell, a run
 * where nothing was decided. */
#include "base/kv.h"
#include "review/advise.h"
#include "review/render.h"
#include "tests.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf)
		buf[ *len = fread(buf, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return buf;
}

/* renders run in format into a new string; *rc the renderer's status */
static char *render_str(const struct run *run, const char *format, int *rc, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	*rc = render(f, run, format, NULL);
	fclose(f);
	return buf;
}

static void test_advise_fixture(void)
{
	static const char *const formats[] = {"advise", "advise-json"};
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct run run;
	char *err = NULL;

	/* ref_dir is <CTR_TOP>/pcaps/ref */
	snprintf(dir, sizeof(dir), "%s/../../tests/unit/fixtures/render/advise", ref_dir);
	if (run_load(dir, &run, &err) < 0) {
		CU_FAIL(err);
		free(err);
		return;
	}
	CU_ASSERT_EQUAL(run.n, 20);
	for (size_t i = 0; i < 2; i++) {
		size_t len = 0, wlen = 0;
		int rc;
		char *buf = render_str(&run, formats[i], &rc, &len), *want;

		CU_ASSERT_EQUAL(rc, 0);
		snprintf(path, sizeof(path), "%s/expect.%s", dir, formats[i]);
		want = slurp(path, &wlen);
		CU_ASSERT_PTR_NOT_NULL(want);
		if (want && (wlen != len || memcmp(want, buf, len))) {
			fprintf(stderr, "\nadvise %s differs from %s:\n%s", formats[i], path, buf);
			CU_FAIL("the rendered page differs from its expected form");
		}
		if (i == 0 && buf) {
			/* the trade-off: the drop stops the crafted reset, not the flush; the
			 * drop with loose=0 stops the flush by stalling and breaks asymmetric
			 * routing; seq-below resets nothing, so it is no column */
			CU_ASSERT_PTR_NOT_NULL(strstr(buf, "kube-proxy-drop              stops "
							   "         no: reset      no: reset      "
							   "breaks asym\n"));
			CU_ASSERT_PTR_NOT_NULL(strstr(buf, "stalls: ct-flush,idle-expiry\n"));
			CU_ASSERT_PTR_NOT_NULL(strstr(buf, "(left out): seq-below\n"));
			CU_ASSERT_PTR_NOT_NULL(strstr(buf, "keepalive / ct-flush: skip\n  why: "
							   "conntrack (conntrack-tools) not "
							   "installed\n"));
			/* the breaks column from the matrix's connect cells, keepalive's too;
			 * the evidence: node A's DROP counter and where the ACKs went */
			CU_ASSERT_PTR_NOT_NULL(strstr(buf, "keepalive                    no: reset "
							   "     skip           stops          "
							   "asym ok\n"));
			CU_ASSERT_PTR_NOT_NULL(
			    strstr(buf, "kube-proxy-drop / connect: breaks asym\n"));
			CU_ASSERT_PTR_NOT_NULL(strstr(buf,
						      "client ACKs at node A 4, at the backend "
						      "0; conntrack nodeA SYN_SENT nodeB "
						      "SYN_RECV; ct invalid nodeA+3 nodeB+0; "
						      "DROP rule pkts nodeA=3 nodeB=0\n"));
			CU_ASSERT_PTR_NOT_NULL(
			    strstr(buf, "pcaps: /top/pcaps/runs/RUN/asymmetric-iptables-nft-ipv4/"
					"connect+kube-proxy-drop/{client,node,backend}.pcap\n"));
		}
		free(want);
		free(buf);
	}
	run_free(&run);
}

/* a run of one workaround row and two triggers, from texts */
/* The page's EVIDENCE lines, derived here from the records they came from (the golden
 * was written by the renderer it tests): each cell of a column ("W / T: ...") with its
 * record's reason, evidence (a skip: its reason) and pcaps */
static void test_advise_golden_from_records(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], want[8192];
	struct kv run;
	size_t len, cells = 0;
	char *page;

	snprintf(dir, sizeof(dir), "%s/../../tests/unit/fixtures/render/advise", ref_dir);
	snprintf(path, sizeof(path), "%s/run.kv", dir);
	CU_ASSERT_EQUAL_FATAL(kv_load(path, &run, NULL), 0);
	snprintf(path, sizeof(path), "%s/expect.advise", dir);
	page = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(page);
	for (size_t i = 0; i < run.n; i++) {
		struct kv rec;
		const char *w, *t, *head;
		bool skip;

		if (strcmp(run.pairs[i].key, "cell"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/record.kv", dir, run.pairs[i].value);
		CU_ASSERT_EQUAL_FATAL(kv_load(path, &rec, NULL), 0);
		w = kv_get(&rec, "workaround");
		t = kv_get(&rec, "trigger");
		CU_ASSERT_FATAL(w && t && kv_get(&rec, "status") && kv_get(&rec, "dir"));
		skip = !strcmp(kv_get(&rec, "status"), "skip");
		snprintf(want, sizeof(want), "\n%s / %s: ", w, t);
		head = strstr(page, want);
		if (!strcmp(t, "seq-below")) { /* no reset without a workaround: no column */
			CU_ASSERT_PTR_NULL(head);
			kv_free(&rec);
			continue;
		}
		cells++;
		CU_ASSERT_PTR_NOT_NULL_FATAL(head);
		head = strchr(head + 1, '\n');
		CU_ASSERT_PTR_NOT_NULL_FATAL(head);
		if (skip)
			snprintf(want, sizeof(want),
				 "\n  why: %s\n  pcaps: %s/{client,node,backend}.pcap\n",
				 kv_get(&rec, "skip_reason"), kv_get(&rec, "dir"));
		else
			snprintf(want, sizeof(want),
				 "\n  why: %s\n  evidence: %s\n  oracle (expected %s): %s\n"
				 "  pcaps: %s/{client,node,backend}.pcap\n",
				 kv_get(&rec, "reason"), kv_get(&rec, "evidence"),
				 kv_get(&rec, "expected"), kv_get(&rec, "expected_reason"),
				 kv_get(&rec, "dir"));
		if (strncmp(head, want, strlen(want)))
			fprintf(stderr, "\nexpect.advise, %s / %s: wanted%s", w, t, want);
		CU_ASSERT_EQUAL(strncmp(head, want, strlen(want)), 0);
		kv_free(&rec);
	}
	CU_ASSERT_EQUAL(cells, 16); /* 20 cells, seq-below's 4 left out */
	free(page);
	kv_free(&run);
}

static void make_run(struct run *run, const char *info, const char *const *recs, size_t n)
{
	memset(run, 0, sizeof(*run));
	CU_ASSERT_EQUAL_FATAL(kv_parse(info, &run->info, NULL), 0);
	run->rec = calloc(n ? n : 1, sizeof(*run->rec));
	CU_ASSERT_PTR_NOT_NULL_FATAL(run->rec);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(kv_parse(recs[i], &run->rec[i], NULL), 0);
	run->n = n;
}

static const char info[] = "kind=advise\nkernel=k\ndim.workaround=none kube-proxy-drop\n"
			   "dim.trigger=seq-above\n";

static void test_advise_status(void)
{
	const char *const ok[] = {
	    "trigger=seq-above\nworkaround=none\nstatus=pass\ndecided=1\nobserved=reset\n",
	    "trigger=seq-above\nworkaround=kube-proxy-drop\nstatus=pass\ndecided=1\n"
	    "observed=clean\nbackend_end=closed\n"};
	/* planted: the drop's cell not as its oracle expects */
	const char *const bad[] = {
	    ok[0], "trigger=seq-above\nworkaround=kube-proxy-drop\nstatus=fail\ndecided=1\n"
		   "observed=reset\nexpected=clean\n"};
	const char *const skipped[] = {
	    "trigger=seq-above\nworkaround=none\nstatus=skip\nskip_reason=no conntrack\n",
	    "trigger=seq-above\nworkaround=kube-proxy-drop\nstatus=skip\n"
	    "skip_reason=no conntrack\n"};
	struct run run;
	size_t len;
	int rc;
	char *buf;

	make_run(&run, info, ok, 2);
	buf = render_str(&run, "advise", &rc, &len);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "kube-proxy-drop              stops          "
					   "not measured\n"));
	free(buf);
	run_free(&run);

	make_run(&run, info, bad, 2);
	buf = render_str(&run, "advise", &rc, &len);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "no: reset !"));
	free(buf);
	buf = render_str(&run, "advise-json", &rc, &len);
	CU_ASSERT_EQUAL(rc, 1);
	free(buf);
	run_free(&run);

	/* the drop's cell missing: "not run", not a pass */
	make_run(&run, info, ok, 1);
	buf = render_str(&run, "advise", &rc, &len);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "not run"));
	free(buf);
	run_free(&run);

	/* nothing decided: 4, never a pass; the skipped trigger stays a column */
	make_run(&run, info, skipped, 2);
	buf = render_str(&run, "advise", &rc, &len);
	CU_ASSERT_EQUAL(rc, 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "WORKAROUND                   seq-above "));
	free(buf);
	run_free(&run);

	CU_ASSERT(render_known("advise") && render_known("advise-json"));
}

void register_advise_tests(void)
{
	CU_pSuite s = suite_add("advise");

	test_add(s, "the fixture run's page, text and JSON", test_advise_fixture);
	test_add(s, "the fixture's golden page: each cell's evidence as its record says",
		 test_advise_golden_from_records);
	test_add(s, "exit status: pass, a planted fail, a missing cell, nothing decided",
		 test_advise_status);
}
