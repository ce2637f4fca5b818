/* The oracle's matching, a cell's record (its status, evidence and expectation) and the
 * renderer: every report of the committed fixture runs (tests/unit/fixtures/render)
 * byte for byte as expected, JSON that jq accepts, JUnit that xmllint accepts, TAP that
 * prove reads. */
#include "review/behaviour.h"
#include "review/oracle.h"
#include "review/record.h"
#include "review/render.h"
#include "tests.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* <CTR_TOP>/REL, from ref_dir (<CTR_TOP>/pcaps/ref) */
static const char *top_path(const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/../../%s", ref_dir, rel);
	return buf;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 >= cap) {
			char *t = realloc(buf, cap = cap * 2 + 8192);

			if (!t)
				break;
			buf = t;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got == 4096);
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static void test_version(void)
{
	CU_ASSERT_TRUE(oracle_version_ge("6.1.0-57-amd64", "6.1"));
	CU_ASSERT_TRUE(oracle_version_ge("6.18.44-fc", "6.1"));
	CU_ASSERT_TRUE(oracle_version_ge("6.10", "6.9")); /* minor as a number */
	CU_ASSERT_FALSE(oracle_version_ge("6.0.9", "6.1"));
	CU_ASSERT_FALSE(oracle_version_ge("5.10", "6.1"));
	CU_ASSERT_TRUE(oracle_version_ge("10.0", "9.99"));
	/* found by fuzz_oracle (tests/fuzz/regress/oracle/): a 19-digit version overflowed a
	 * long (UBSan: signed integer overflow); a minor of 5 digits spilled into the major */
	CU_ASSERT_TRUE(oracle_version_ge("99999999999999999999.9", "6.1"));
	CU_ASSERT_FALSE(oracle_version_ge("6.1", "99999999999999999999999.99999999999999999"));
	CU_ASSERT_FALSE(oracle_version_ge("6.10000", "7.0"));
	CU_ASSERT_TRUE(oracle_version_ge("7.0", "6.10000"));
}

static void test_spec(void)
{
	char v[32];
	char *err = NULL;

	CU_ASSERT_EQUAL(
	    oracle_spec_eval("clean@>=6.1,reset@<6.1", "6.18.1", NULL, v, sizeof(v), NULL), 0);
	CU_ASSERT_STRING_EQUAL(v, "clean");
	CU_ASSERT_EQUAL(
	    oracle_spec_eval("clean@>=6.1,reset@<6.1", "5.10", NULL, v, sizeof(v), NULL), 0);
	CU_ASSERT_STRING_EQUAL(v, "reset");
	CU_ASSERT_EQUAL(oracle_spec_eval("leak", "5.10", NULL, v, sizeof(v), NULL), 0);
	CU_ASSERT_STRING_EQUAL(v, "leak");
	CU_ASSERT_EQUAL(oracle_spec_eval("clean@>=7.0", "6.18", NULL, v, sizeof(v), NULL), 0);
	CU_ASSERT_STRING_EQUAL(v, "");
	CU_ASSERT_EQUAL(oracle_spec_eval("clean@~6", "6.18", NULL, v, sizeof(v), &err), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad kernel range '~6'"));
	free(err);
}

/* rows chosen by behaviour: the same release, other behaviours, another row; the
 * release only when the list does not name the behaviour, and the reason says which */
static void test_oracle_behaviours(void)
{
	static const char text[] =
	    "seq-below\t*\t*\t*\t*\tclean@+ignore-delayed,reset@-ignore-"
	    "delayed\tthe e2e packet\n"
	    "small-overshoot\t*\t*\t*\t*\treset@-ignore-delayed,clean\tover\n";
	struct oracle o;
	struct oracle_cell c = {"seq-below", "none", "cross-node", "nft", "4"};
	char e[32], r[512], v[64];
	char *err = NULL;
	bool from_list;

	CU_ASSERT_EQUAL_FATAL(oracle_parse(text, "b.expect", &o, NULL), 0);
	/* a 5.15 with 6e250dcbff1d backported (as a distribution may) and one without */
	CU_ASSERT_EQUAL(oracle_expect(&o, &c, "5.15.0-91-generic", "ignore-delayed=1", e, sizeof(e),
				      r, sizeof(r), NULL),
			0);
	CU_ASSERT_STRING_EQUAL(e, "clean");
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "[behaviour ignore-delayed present, probed]"));
	CU_ASSERT_EQUAL(oracle_expect(&o, &c, "5.15.0-91-generic", "ignore-delayed=0", e, sizeof(e),
				      r, sizeof(r), NULL),
			0);
	CU_ASSERT_STRING_EQUAL(e, "reset");
	/* a 6.18 whose probe found it missing is judged by the probe, not by 6.18 */
	CU_ASSERT_EQUAL(
	    oracle_expect(&o, &c, "6.18.44", "ignore-delayed=0", e, sizeof(e), r, sizeof(r), NULL),
	    0);
	CU_ASSERT_STRING_EQUAL(e, "reset");
	/* no probe: the release decides, and the reason says so */
	CU_ASSERT_EQUAL(
	    oracle_expect(&o, &c, "5.10.0-32-amd64", NULL, e, sizeof(e), r, sizeof(r), NULL), 0);
	CU_ASSERT_STRING_EQUAL(e, "reset");
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "from the release number"));
	CU_ASSERT_EQUAL(
	    oracle_expect(&o, &c, "6.1.0-57-amd64", "", e, sizeof(e), r, sizeof(r), NULL), 0);
	CU_ASSERT_STRING_EQUAL(e, "clean");
	/* a probed list naming another behaviour leaves this one to the release */
	CU_ASSERT_EQUAL(
	    oracle_expect(&o, &c, "5.10", "rcvwnd-workaround=1", e, sizeof(e), r, sizeof(r), NULL),
	    0);
	CU_ASSERT_STRING_EQUAL(e, "reset");
	/* an entry without a range is the default */
	c.trigger = "small-overshoot";
	CU_ASSERT_EQUAL(
	    oracle_expect(&o, &c, "5.10", "ignore-delayed=1", e, sizeof(e), r, sizeof(r), NULL), 0);
	CU_ASSERT_STRING_EQUAL(e, "clean");
	/* unknown behaviours and malformed lists are errors, not guesses */
	CU_ASSERT_EQUAL(oracle_spec_eval("clean@+no-such", "6.18", NULL, v, sizeof(v), &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "unknown behaviour 'no-such'"));
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(oracle_spec_eval("clean@+ignore-delayed", "6.18", "ignore-delayed=yes", v,
					 sizeof(v), &err),
			-1);
	free(err);
	oracle_free(&o);
	/* the release fallback: mainline, and the stable releases that took the backport */
	CU_ASSERT_EQUAL(behaviour_has(NULL, "5.15.68", "rcvwnd-workaround", &from_list, NULL), 1);
	CU_ASSERT_FALSE(from_list);
	CU_ASSERT_EQUAL(behaviour_has(NULL, "5.15.67", "rcvwnd-workaround", NULL, NULL), 0);
	CU_ASSERT_EQUAL(behaviour_has(NULL, "5.19.9", "rcvwnd-workaround", NULL, NULL), 1);
	CU_ASSERT_EQUAL(behaviour_has(NULL, "5.10.223", "rcvwnd-workaround", NULL, NULL), 0);
	CU_ASSERT_EQUAL(behaviour_has(NULL, "6.0", "rcvwnd-workaround", NULL, NULL), 1);
	CU_ASSERT_EQUAL(behaviour_has(NULL, "6.0.19", "ignore-delayed", NULL, NULL), 0);
	CU_ASSERT_EQUAL(
	    behaviour_has("ignore-delayed=1", "5.10", "ignore-delayed", &from_list, NULL), 1);
	CU_ASSERT_TRUE(from_list);
	behaviours_from_release("5.15.70-x", v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "ignore-delayed=0,rcvwnd-workaround=1");
}

static const char oracle_text[] =
    "# a comment\n"
    "\n"
    "*\t*\tcross-node\tipvs\t4\tclean\tipvs row\n"
    "seq-above\tkube-proxy-drop|be-liberal\t*\t*\t*\tclean\tthe drop\n"
    "seq-above\t*\t*\t*\t*\treset\tthe rest\n"
    "seq-below\t*\t*\t*\t6\tclean@>=7.0\tfuture\n"
    "seq-below\t*\t*\t*\t*\tclean@>=6.1,reset@<6.1\tthe e2e packet\n";

static void expect(const struct oracle *o, const char *t, const char *w, const char *b,
		   const char *f, const char *kernel, const char *want, const char *why)
{
	struct oracle_cell c = {t, w, "cross-node", b, f};
	char e[32], r[256];

	CU_ASSERT_EQUAL_FATAL(oracle_expect(o, &c, kernel, NULL, e, sizeof(e), r, sizeof(r), NULL),
			      0);
	CU_ASSERT_STRING_EQUAL(e, want);
	CU_ASSERT_STRING_EQUAL(r, why);
}

static void test_oracle_match(void)
{
	struct oracle o;

	CU_ASSERT_EQUAL_FATAL(oracle_parse(oracle_text, "t.expect", &o, NULL), 0);
	CU_ASSERT_EQUAL(o.n, 5);
	/* the first matching row wins; alternatives; "*"; "ipv4" is family 4 */
	expect(&o, "seq-above", "none", "ipvs", "ipv4", "6.18", "clean", "ipvs row");
	expect(&o, "seq-above", "none", "ipvs", "6", "6.18", "reset", "the rest");
	expect(&o, "seq-above", "be-liberal", "nft", "4", "6.18", "clean", "the drop");
	expect(&o, "seq-above", "none", "nft", "4", "6.18", "reset", "the rest");
	expect(&o, "seq-below", "none", "nft", "ipv4", "5.10", "reset", "the e2e packet");
	/* a matching row whose ranges all miss decides: no expectation, said why */
	expect(&o, "seq-below", "none", "nft", "6", "6.18", "",
	       "no kernel range of 'clean@>=7.0' holds for 6.18");
	expect(&o, "ack-above", "none", "nft", "4", "6.18", "",
	       "no row of t.expect matches this cell");
	oracle_free(&o);
}

static void test_oracle_bad(void)
{
	struct oracle o;
	char *err = NULL;

	CU_ASSERT_EQUAL(oracle_parse("# only comments\n\n", "e.expect", &o, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "no oracle rows"));
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(oracle_parse("# x\nseq-above\t*\t*\treset\tshort\n", "s.expect", &o, &err),
			-1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "line 2"));
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(oracle_load("/nonexistent/x.expect", &o, &err), -1);
	free(err);
}

/* the tree's oracle gives bench/repro's scenarios their verdicts, IPVS's too */
static void test_oracle_tree(void)
{
	struct oracle o;
	char *err = NULL;

	if (oracle_load(top_path("bench/matrix.expect"), &o, &err) < 0) {
		CU_FAIL(err);
		free(err);
		return;
	}
	{
		struct oracle_cell c = {"seq-above", "none", "cross-node", "iptables-nft", "4"};
		char e[32], r[2048];

		oracle_expect(&o, &c, "6.18", NULL, e, sizeof(e), r, sizeof(r), NULL);
		CU_ASSERT_STRING_EQUAL(e, "reset");
		CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"SEQ is over upper bound\" is INVALID"));
		c.workaround = "kube-proxy-drop";
		oracle_expect(&o, &c, "6.18", NULL, e, sizeof(e), r, sizeof(r), NULL);
		CU_ASSERT_STRING_EQUAL(e, "clean");
		c.trigger = "idle-expiry", c.workaround = "keepalive";
		oracle_expect(&o, &c, "6.18", NULL, e, sizeof(e), r, sizeof(r), NULL);
		CU_ASSERT_STRING_EQUAL(e, "clean");
		c.trigger = "ct-flush", c.workaround = "none";
		oracle_expect(&o, &c, "6.18", NULL, e, sizeof(e), r, sizeof(r), NULL);
		CU_ASSERT_STRING_EQUAL(e, "reset");
		c.trigger = "seq-below";
		oracle_expect(&o, &c, "5.10", NULL, e, sizeof(e), r, sizeof(r), NULL);
		CU_ASSERT_STRING_EQUAL(e, "reset");
		/* the asymmetric topology's connect cells: what each workaround breaks */
		{
			static const struct {
				const char *w, *want;
			} asym[] = {{"none", "works"},
				    {"kube-proxy-drop", "broken"},
				    {"nft-invalid-drop", "broken"},
				    {"kube-proxy-drop+tcp-loose-0", "broken"},
				    {"calico-invalid-drop", "broken"},
				    {"be-liberal", "works"},
				    {"input-drop", "works"},
				    {"tcp-loose-0", "works"},
				    {"keepalive", "works"}};
			struct oracle_cell a = {"connect", "", "asymmetric", "nft", "4"};

			for (size_t i = 0; i < sizeof(asym) / sizeof(asym[0]); i++) {
				a.workaround = asym[i].w;
				oracle_expect(&o, &a, "6.18", NULL, e, sizeof(e), r, sizeof(r),
					      NULL);
				CU_ASSERT_STRING_EQUAL(e, asym[i].want);
			}
			a.workaround = "kube-proxy-drop";
			oracle_expect(&o, &a, "6.18", NULL, e, sizeof(e), r, sizeof(r), NULL);
			CU_ASSERT_PTR_NOT_NULL(strstr(r, "SYN_SENT"));
			a.topology = "cross-node"; /* connect runs nowhere else: no row */
			oracle_expect(&o, &a, "6.18", NULL, e, sizeof(e), r, sizeof(r), NULL);
			CU_ASSERT_STRING_EQUAL(e, "");
		}
		c.backend = "ipvs"; /* the oracle's IPVS row: all clean */
		for (const char *t = "seq-above"; t;
		     t = strcmp(t, "seq-above") ? NULL : "seq-below") {
			c.trigger = t;
			oracle_expect(&o, &c, "6.1.0", NULL, e, sizeof(e), r, sizeof(r), NULL);
			CU_ASSERT_STRING_EQUAL(e, "clean");
		}
	}
	oracle_free(&o);
}

static void parse(struct kv *kv, const char *text)
{
	CU_ASSERT_EQUAL_FATAL(kv_parse(text, kv, NULL), 0);
}

static void pkt(struct ctr_pkt *p, const char *src, const char *dst, uint8_t flags, uint32_t seq,
		uint32_t ack, uint16_t len)
{
	memset(p, 0, sizeof(*p));
	CU_ASSERT_EQUAL_FATAL(endpoint_parse(src, &p->tuple.src), 0);
	CU_ASSERT_EQUAL_FATAL(endpoint_parse(dst, &p->tuple.dst), 0);
	p->flags = flags;
	p->seq = seq;
	p->ack = ack;
	p->payload_len = len;
}

static char tmpdir[64];

static const char *mktmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctr-unit-record.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
	return tmpdir;
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void rmtmp(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* a reset: the evidence sentence and its parts, the status, the JSON */
static void test_record_reset(void)
{
	struct kv meta, inject, server, client, rec;
	struct verdict_result r = {.verdict = VERDICT_RESET,
				   .reason = "it reset",
				   .leaked_packets = 2,
				   .client_rst = true,
				   .rst_at_backend = true,
				   .backend_reset = true,
				   .client_end = CLIENT_END_RESET};
	struct record_input in = {.dir = "/nonexistent/cell",
				  .meta = &meta,
				  .inject = &inject,
				  .server = &server,
				  .client = &client,
				  .res = &r,
				  .expected = "reset",
				  .expected_reason = "why",
				  .pcaps = {"c.pcap", "n.pcap", "b.pcap"}};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int first = 1;
	static const char *const jq[] = {
	    "jq", "-e",
	    ".observed == \"reset\" and .client_rst and .leaked_packets == 2 and "
	    ".server.bytes == 1024 and .conntrack_invalid[\"invalid-x-nodeB\"] == 1 and "
	    ".drop_counter[\"ctr-x-nodeA\"] == 0 and (.pcaps | length) == 3 and "
	    ".expected == \"reset\" and .duration_ms == 153",
	    NULL};

	parse(&meta,
	      "scenario=s\ntopology=cross-node\nbackend=nft\nfamily=ipv4\ntrigger=seq-above\n"
	      "workaround=kube-proxy-drop\nkernel=6.18\ndrop.ctr-x-nodeA=0\ndrop.ctr-x-nodeB=-\n"
	      "duration_ms=153\ntime.setup_ms=8\n");
	parse(&inject, "injected=1\nprobe.explain=seq past the window\n"
		       "invalid.invalid-x-nodeB=1\ninvalid.ctr-x-nodeA=2\n");
	parse(&server, "end=reset\nbytes=1024\nerror=Connection reset by peer\n");
	parse(&client, "end=reset\n");
	pkt(&r.first_leak, "198.18.2.10:8080", "198.18.1.10:5000", 0x18, 100, 200, 14);
	pkt(&r.first_rst, "198.18.1.10:5000", "198.18.2.10:8080", 0x04, 200, 0, 0);
	CU_ASSERT_EQUAL_FATAL(record_build(&in, &rec, NULL), 0);
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "status", ""), "pass");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "evidence", ""),
			       "leak 2 (198.18.2.10:8080 > 198.18.1.10:5000); client RST "
			       "198.18.1.10:5000 > 198.18.2.10:8080 seq 200; backend ECONNRESET; "
			       "ct invalid nodeB+1 nodeA+2; DROP rule pkts nodeA=0");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "evidence.rst", ""),
			       "client RST 198.18.1.10:5000 > 198.18.2.10:8080 seq 200");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "evidence.drop", ""), "DROP rule pkts nodeA=0");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "probe", ""), "seq past the window");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "server.bytes", ""), "1024");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "time.setup_ms", ""), "8");
	CU_ASSERT_PTR_NULL(kv_get(&rec, "skip_reason"));
	f = open_memstream(&buf, &len);
	fputc('{', f);
	record_json_fields(f, &rec, &first);
	fputc('}', f);
	fclose(f);
	CU_ASSERT_EQUAL(parse_with(jq, buf, len), 0);
	free(buf);
	/* the same verdict against another expectation: a failure */
	in.expected = "clean";
	kv_free(&rec);
	CU_ASSERT_EQUAL_FATAL(record_build(&in, &rec, NULL), 0);
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "status", ""), "fail");
	kv_free(&rec);
	/* no expectation (no oracle row): never a pass */
	in.expected = "";
	CU_ASSERT_EQUAL_FATAL(record_build(&in, &rec, NULL), 0);
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "status", ""), "fail");
	kv_free(&rec);
	kv_free(&meta);
	kv_free(&inject);
	kv_free(&server);
	kv_free(&client);
}

/* a cell that did not run: skipped (the reason), or failed (its error's first lines) */
static void test_record_undecided(void)
{
	const char *dir = mktmp();
	struct kv meta, rec, back;
	struct record_input in = {.dir = dir, .meta = &meta, .expected = "clean"};
	char path[PATH_MAX];

	parse(&meta, "topology=cross-node\ntrigger=seq-above\n");
	put(dir, "error", "one\ntwo\nthree\nfour\n");
	CU_ASSERT_EQUAL_FATAL(record_build(&in, &rec, NULL), 0);
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "status", ""), "fail");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "observed", ""), "inconclusive");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "decided", ""), "0");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "error_line", ""), "three"); /* the last of 3 */
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "evidence", ""),
			       "leak 0; no client RST; ct invalid ?");
	/* saved and read back the same; a value's newline cannot forge a pair */
	snprintf(path, sizeof(path), "%s/record.kv", dir);
	CU_ASSERT_EQUAL_FATAL(record_save(path, &rec, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(kv_load(path, &back, NULL), 0);
	CU_ASSERT_EQUAL(back.n, rec.n);
	kv_free(&back);
	kv_free(&rec);
	put(dir, "skip", "no nft here\nsecond line\n");
	CU_ASSERT_EQUAL_FATAL(record_build(&in, &rec, NULL), 0);
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "status", ""), "skip");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "observed", ""), "skip");
	CU_ASSERT_STRING_EQUAL(record_get(&rec, "skip_reason", ""), "no nft here");
	kv_free(&rec);
	kv_free(&meta);
	rmtmp(dir);
}

static void test_record_expectation(void)
{
	const char *dir = mktmp();
	struct kv meta;
	char e[32], r[512], text[PATH_MAX + 256];
	char *err = NULL;

	/* the caller's expectation wins */
	parse(&meta, "expected=leak\nexpected_reason=given\noracle=/nonexistent\n");
	CU_ASSERT_EQUAL(record_expectation(&meta, e, sizeof(e), r, sizeof(r), NULL), 0);
	CU_ASSERT_STRING_EQUAL(e, "leak");
	CU_ASSERT_STRING_EQUAL(r, "given");
	kv_free(&meta);
	/* else the oracle's, as the workaround the rules amount to, its note first */
	put(dir, "o.expect", oracle_text);
	snprintf(text, sizeof(text),
		 "trigger=seq-above\nworkaround=none\ntopology=cross-node\nbackend=nft\n"
		 "family=ipv4\nkernel=6.18\noracle=%s/o.expect\noracle.workaround=be-liberal\n"
		 "oracle.note=kube-proxy 1.29 writes none, i.e. be-liberal\n",
		 dir);
	parse(&meta, text);
	CU_ASSERT_EQUAL(record_expectation(&meta, e, sizeof(e), r, sizeof(r), NULL), 0);
	CU_ASSERT_STRING_EQUAL(e, "clean");
	CU_ASSERT_STRING_EQUAL(r, "kube-proxy 1.29 writes none, i.e. be-liberal: the drop");
	kv_free(&meta);
	/* an oracle that cannot be read is an error, not a silent pass */
	parse(&meta, "trigger=seq-above\noracle=/nonexistent/o.expect\n");
	CU_ASSERT_EQUAL(record_expectation(&meta, e, sizeof(e), r, sizeof(r), &err), -1);
	free(err);
	kv_free(&meta);
	/* neither: no expectation */
	parse(&meta, "trigger=seq-above\n");
	CU_ASSERT_EQUAL(record_expectation(&meta, e, sizeof(e), r, sizeof(r), NULL), 0);
	CU_ASSERT_STRING_EQUAL(e, "");
	kv_free(&meta);
	rmtmp(dir);
}

/* every format of a fixture run, against its expect.FORMAT; the run's summary status */
static void render_fixture(const char *name, int want_summary)
{
	static const char *const formats[] = {"table",	    "json",   "tap",	"junit",
					      "unexpected", "failed", "summary"};
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct run run;
	char *err = NULL;

	snprintf(dir, sizeof(dir), "%s", top_path("tests/unit/fixtures/render"));
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s", name);
	if (run_load(dir, &run, &err) < 0) {
		CU_FAIL(err);
		free(err);
		return;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char *buf = NULL, *want;
		size_t len = 0, wlen = 0;
		FILE *f = open_memstream(&buf, &len);
		int rc = render(f, &run, formats[i], NULL);

		fclose(f);
		CU_ASSERT_EQUAL(rc, strcmp(formats[i], "summary") ? 0 : want_summary);
		snprintf(path, sizeof(path), "%s/expect.%s", dir, formats[i]);
		want = slurp(path, &wlen);
		CU_ASSERT_PTR_NOT_NULL(want);
		if (want && (wlen != len || memcmp(want, buf, len))) {
			fprintf(stderr, "\n%s %s differs from %s:\n%s", name, formats[i], path,
				buf);
			CU_FAIL("a rendered report differs from its expected form");
		}
		if (!strcmp(formats[i], "json")) {
			static const char *const jq[] = {"jq", "-e", ".results | length > 0", NULL};

			CU_ASSERT_EQUAL(parse_with(jq, buf, len), 0);
		} else if (!strcmp(formats[i], "junit")) {
			static const char *const xl[] = {"xmllint", "--noout", "-", NULL};

			CU_ASSERT_EQUAL(parse_with(xl, buf, len), 0);
		} else if (!strcmp(formats[i], "tap")) {
			static const char *const pr[] = {"prove", "-e", "cat", "/dev/stdin", NULL};

			/* prove reads it, and passes it only when no cell failed */
			CU_ASSERT_EQUAL(parse_with(pr, buf, len) == 0, want_summary == 0);
		}
		free(want);
		free(buf);
	}
	CU_ASSERT_EQUAL(render(stdout, &run, "html", &err), -1);
	free(err);
	run_free(&run);
}

/* the value of a record's key, "" when it has none */
static const char *rv(const struct kv *rec, const char *key)
{
	const char *v = kv_get(rec, key);

	return v ? v : "";
}

/* the table's cell of a matrix record: its block ("topology / backend / family"), the
 * workaround's column in the block's header line, the trigger's row */
static void golden_table_cell(const char *table, const struct kv *rec, const char *want)
{
	char head[256], col[128], row[128], got[128];
	const char *b, *h, *r, *c, *e;
	size_t off, n;

	snprintf(head, sizeof(head), "\n%s / %s / %s\n", rv(rec, "topology"), rv(rec, "backend"),
		 rv(rec, "family"));
	b = strstr(table, head);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	h = b + strlen(head); /* the header line: the workarounds */
	e = strchr(h, '\n');
	snprintf(col, sizeof(col), " %s ", rv(rec, "workaround"));
	c = strstr(h, col);
	CU_ASSERT_FATAL(c && e && c < e);
	off = (size_t)(c + 1 - h);
	snprintf(row, sizeof(row), "\n%s ", rv(rec, "trigger"));
	r = strstr(e, row);
	CU_ASSERT_FATAL(r && (!strstr(e, "\n\n") || r < strstr(e, "\n\n")));
	r++;
	n = strcspn(r + off, "\n");
	snprintf(got, sizeof(got), "%.*s", (int)n, r + off);
	/* the cell runs to two spaces (a cell may hold one: "reset !") */
	if ((e = strstr(got, "  ")))
		got[e - got] = '\0';
	if (strcmp(got, want))
		fprintf(stderr, "\n%s: table cell '%s', its record says '%s'\n", rv(rec, "dir"),
			got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
}

/* DIR/expect.FORMAT's text, NULL when it cannot be read */
static char *golden(const char *dir, const char *format)
{
	char path[PATH_MAX + 128];
	size_t len;

	snprintf(path, sizeof(path), "%s/expect.%s", dir, format);
	return slurp(path, &len);
}

/* A fixture's golden files (expect.*) were written by the renderer they test: their key
 * lines are derived here from the records they came from, by this code, not the
 * renderer's: each cell's TAP line, its JSON verdict, its table cell (matrix) or row
 * (repro), the summary's counts and the list of failed cells. */
static void golden_from_records(const char *name)
{
	char dir[PATH_MAX + 64], path[PATH_MAX + 128], line[4096], failed[8192] = "";
	char *tap, *json, *table, *summary, *fail_list, *err = NULL;
	unsigned n = 0, pass = 0, fail = 0, skip = 0;
	size_t len;
	struct kv run;
	bool repro;

	snprintf(dir, sizeof(dir), "%s/%s", top_path("tests/unit/fixtures/render"), name);
	snprintf(path, sizeof(path), "%s/run.kv", dir);
	CU_ASSERT_EQUAL_FATAL(kv_load(path, &run, &err), 0);
	repro = !strcmp(rv(&run, "kind"), "repro");
	tap = golden(dir, "tap");
	json = golden(dir, "json");
	table = golden(dir, "table");
	summary = golden(dir, "summary");
	fail_list = golden(dir, "failed");
	CU_ASSERT_FATAL(tap && json && table && summary && fail_list);
	for (size_t i = 0; i < run.n; i++) {
		const char *st;
		char label[512], cell[64];
		struct kv rec;

		if (strcmp(run.pairs[i].key, "cell"))
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s/record.kv", dir, run.pairs[i].value);
		CU_ASSERT_EQUAL_FATAL(kv_load(path, &rec, &err), 0);
		st = rv(&rec, "status");
		snprintf(label, sizeof(label), "%s/%s/%s %s/%s", rv(&rec, "topology"),
			 rv(&rec, "backend"), rv(&rec, "family"), rv(&rec, "trigger"),
			 rv(&rec, "workaround"));
		if (!strcmp(st, "pass")) {
			pass++;
			snprintf(line, sizeof(line), "\nok %u - %s: %s\n", n, label,
				 rv(&rec, "observed"));
			snprintf(cell, sizeof(cell), "%s", rv(&rec, "observed"));
		} else if (!strcmp(st, "skip")) {
			skip++;
			snprintf(line, sizeof(line), "\nok %u - %s # SKIP %s\n", n, label,
				 rv(&rec, "skip_reason"));
			snprintf(cell, sizeof(cell), "skip");
		} else {
			CU_ASSERT_STRING_EQUAL(st, "fail");
			fail++;
			snprintf(line, sizeof(line), "\nnot ok %u - %s: expected %s, observed %s\n",
				 n, label, rv(&rec, "expected"), rv(&rec, "observed"));
			snprintf(cell, sizeof(cell), "%s !", rv(&rec, "observed"));
			snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed), "%s\n",
				 rv(&rec, "dir"));
		}
		if (!strstr(tap, line))
			fprintf(stderr, "\n%s: no TAP line '%s'\n", name, line + 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(tap, line));
		/* JSON: one result for a decided cell, with its verdict; none without one */
		{
			char filter[1024];
			const char *jq[] = {"jq", "-e", filter, NULL};

			snprintf(filter, sizeof(filter),
				 "[.results[] | select(.scenario == \"%s\")] | length == %d and "
				 "all(.observed == \"%s\" and .expected == \"%s\")",
				 rv(&rec, "scenario"), !strcmp(rv(&rec, "decided"), "1"),
				 rv(&rec, "observed"), rv(&rec, "expected"));
			len = strlen(json);
			if (parse_with(jq, json, len) != 0)
				fprintf(stderr, "\n%s: expect.json fails %s\n", name, filter);
			CU_ASSERT_EQUAL(parse_with(jq, json, len), 0);
		}
		if (repro) { /* the row: scenario, expected, observed */
			snprintf(line, sizeof(line), "\n%-26s %-9s %s ", rv(&rec, "scenario"),
				 rv(&rec, "expected"), rv(&rec, "observed"));
			if (!strstr(table, line))
				fprintf(stderr, "\n%s: no table row '%s'\n", name, line + 1);
			CU_ASSERT_PTR_NOT_NULL(strstr(table, line));
		} else {
			golden_table_cell(table, &rec, cell);
		}
		kv_free(&rec);
	}
	CU_ASSERT(n > 0);
	if (repro && !fail && !skip)
		snprintf(line, sizeof(line), "PASS: %u scenarios as expected in %s ms\n", n,
			 rv(&run, "wall_ms"));
	else if (repro)
		snprintf(line, sizeof(line), "FAIL: %u of %u scenarios not as expected\n",
			 fail + skip, n);
	else
		snprintf(line, sizeof(line), "matrix: %u passed, %u failed, %u skipped in %s ms\n",
			 pass, fail, skip, rv(&run, "wall_ms"));
	CU_ASSERT_EQUAL(strncmp(summary, line, strlen(line)), 0);
	snprintf(line, sizeof(line), "TAP version 13\n1..%u\n", n);
	CU_ASSERT_EQUAL(strncmp(tap, line, strlen(line)), 0);
	CU_ASSERT_STRING_EQUAL(fail_list, failed);
	free(tap);
	free(json);
	free(table);
	free(summary);
	free(fail_list);
	kv_free(&run);
}

static void test_render_matrix(void)
{
	render_fixture("matrix", 1);
}

static void test_golden_from_records(void)
{
	golden_from_records("matrix");
	golden_from_records("matrix-asym");
	golden_from_records("kube-proxy");
	golden_from_records("repro");
}

/* the asymmetric topology's connect cells beside cross-node's: a table only where there
 * are cells (no asymmetric IPv6), no connect row in cross-node's, a planted fail */
static void test_render_matrix_asym(void)
{
	render_fixture("matrix-asym", 1);
}

static void test_render_kube_proxy(void)
{
	render_fixture("kube-proxy", 0);
}

static void test_render_repro(void)
{
	render_fixture("repro", 1);
}

/* a run where nothing could be built is not a pass; a cell without a record still counts */
static void test_render_nothing_ran(void)
{
	const char *dir = mktmp();
	char text[2 * PATH_MAX + 256], cell[PATH_MAX];
	struct run run;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(cell, sizeof(cell), "%s/c", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(cell, 0700), 0);
	put(cell, "meta.kv",
	    "topology=cross-node\nbackend=nft\nfamily=ipv4\ntrigger=seq-above\n"
	    "workaround=kube-proxy-drop\nexpected=clean\n");
	put(cell, "skip", "no KUBE-FORWARD here\n");
	snprintf(text, sizeof(text), "kind=matrix\nwall_ms=5\ncell=%s\ncell=%s\n",
		 top_path("tests/unit/fixtures/render/matrix/cross-node-nft-ipv4/"
			  "seq-above+kube-proxy-drop"),
		 "c");
	put(dir, "run.kv", text);
	CU_ASSERT_EQUAL_FATAL(run_load(dir, &run, NULL), 0);
	CU_ASSERT_EQUAL(run.n, 2);
	f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(render(f, &run, "summary", NULL), 4);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf, "matrix: 0 passed, 0 failed, 2 skipped in 5 ms\nSKIP: "));
	free(buf);
	run_free(&run);
	/* its skip gone, the record-less cell is a failure */
	snprintf(cell, sizeof(cell), "%s/c/skip", dir);
	CU_ASSERT_EQUAL(unlink(cell), 0);
	CU_ASSERT_EQUAL_FATAL(run_load(dir, &run, NULL), 0);
	CU_ASSERT_STRING_EQUAL(record_get(&run.rec[1], "status", ""), "fail");
	CU_ASSERT_STRING_EQUAL(record_get(&run.rec[1], "trigger", ""), "seq-above");
	f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(render(f, &run, "summary", NULL), 1);
	fclose(f);
	free(buf);
	run_free(&run);
	rmtmp(dir);
}

void register_record_tests(void)
{
	CU_pSuite s = suite_add("record");

	test_add(s, "kernel versions compare by major and minor", test_version);
	test_add(s, "an expectation's kernel ranges", test_spec);
	test_add(s, "the oracle: first matching row, alternatives, *, family", test_oracle_match);
	test_add(s, "the oracle: malformed files are errors", test_oracle_bad);
	test_add(s, "the oracle: rows chosen by behaviour, the release only as the fallback",
		 test_oracle_behaviours);
	test_add(s, "the tree's oracle: bench/repro's verdicts, IPVS's", test_oracle_tree);
	test_add(s, "a record: evidence, parts, status, JSON", test_record_reset);
	test_add(s, "a record of a cell that did not run", test_record_undecided);
	test_add(s, "a record's expectation: given, or the oracle's", test_record_expectation);
	test_add(s, "render: the matrix fixture, every format", test_render_matrix);
	test_add(s, "render: the matrix fixture with asymmetric connect cells, every format",
		 test_render_matrix_asym);
	test_add(s, "render: the kube-proxy fixture", test_render_kube_proxy);
	test_add(s, "render: the repro fixture", test_render_repro);
	test_add(s, "render: nothing ran is a skip, a cell without record a failure",
		 test_render_nothing_ran);
	test_add(s, "the fixtures' golden reports: each key line as its record says",
		 test_golden_from_records);
}
