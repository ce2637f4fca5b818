/* The reports of a run, each a pure function of run.kv and the cells' records: the
 * layouts bench/repro and bench/matrix print (README.md documents them). */
#include "render.h"
#include "advise.h"
#include "base/err.h"
#include "base/json.h"
#include "ktap.h"
#include "record.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* value of key, or dflt when it is missing or empty (bash's ${v:-dflt}) */
static const char *val(const struct kv *kv, const char *key, const char *dflt)
{
	const char *v = kv_get(kv, key);

	return v && *v ? v : dflt;
}

static bool is(const struct kv *kv, const char *key, const char *want)
{
	const char *v = kv_get(kv, key);

	return v && !strcmp(v, want);
}

int run_load(const char *run_dir, struct run *run, char **err)
{
	char path[PATH_MAX];

	memset(run, 0, sizeof(*run));
	snprintf(path, sizeof(path), "%s/%s", run_dir, RUN_FILE);
	if (kv_load(path, &run->info, err) < 0)
		return -1;
	for (size_t i = 0; i < run->info.n; i++)
		if (!strcmp(run->info.pairs[i].key, "cell"))
			run->n++;
	run->rec = calloc(run->n ? run->n : 1, sizeof(*run->rec));
	if (!run->rec) {
		kv_free(&run->info);
		return err_set(err, "out of memory");
	}
	for (size_t i = 0, c = 0; i < run->info.n; i++) {
		const char *cell = run->info.pairs[i].value;
		char dir[PATH_MAX - 64];
		struct kv meta = {0};
		char exp[64], why[4096];
		struct record_input in = {.dir = dir};

		if (strcmp(run->info.pairs[i].key, "cell"))
			continue;
		/* a relative cell is under the run's directory */
		snprintf(dir, sizeof(dir), "%s%s%s", cell[0] == '/' ? "" : run_dir,
			 cell[0] == '/' ? "" : "/", cell);
		snprintf(path, sizeof(path), "%s/%s", dir, RECORD_FILE);
		if (kv_load(path, &run->rec[c], NULL) == 0) {
			c++;
			continue;
		}
		/* the cell left no record (killed, or its review never ran) */
		snprintf(path, sizeof(path), "%s/meta.kv", dir);
		if (kv_load(path, &meta, NULL) < 0)
			memset(&meta, 0, sizeof(meta));
		in.meta = &meta;
		if (record_expectation(&meta, exp, sizeof(exp), why, sizeof(why), NULL) == 0 &&
		    (kv_get(&meta, "expected") || kv_get(&meta, "oracle"))) {
			in.expected = exp;
			in.expected_reason = why;
		}
		if (record_build(&in, &run->rec[c], err) < 0) {
			kv_free(&meta);
			run->n = c;
			run_free(run);
			return -1;
		}
		kv_free(&meta);
		c++;
	}
	return 0;
}

void run_free(struct run *run)
{
	for (size_t i = 0; i < run->n; i++)
		kv_free(&run->rec[i]);
	free(run->rec);
	kv_free(&run->info);
	memset(run, 0, sizeof(*run));
}

/* dir with the run's top directory and its '/' taken off the front (${d#"$CTR_TOP"/}) */
static const char *rel(const struct run *run, const char *dir)
{
	const char *top = kv_get(&run->info, "top");
	size_t n = top ? strlen(top) : 0;

	if (n && !strncmp(dir, top, n) && dir[n] == '/')
		return dir + n + 1;
	return dir;
}

/* "TOPOLOGY/BACKEND/FAMILY TRIGGER/WORKAROUND", the matrix's name of a cell */
static void cell_name(const struct kv *r, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s/%s %s/%s", val(r, "topology", "?"), val(r, "backend", "?"),
		 val(r, "family", "?"), val(r, "trigger", "?"), val(r, "workaround", "?"));
}

/* the error's first max lines, each followed by sep */
static void error_lines(const struct kv *r, int max, const char *sep, char *buf, size_t n,
			bool trailing)
{
	int k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n && k < max; i++) {
		if (strcmp(r->pairs[i].key, "error_line"))
			continue;
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", k && !trailing ? sep : "",
			 r->pairs[i].value);
		if (trailing)
			snprintf(buf + strlen(buf), n - strlen(buf), "%s", sep);
		k++;
	}
}

static void xml(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

struct counts {
	unsigned pass, fail, skip;
};

static struct counts count(const struct run *run)
{
	struct counts c = {0};

	for (size_t i = 0; i < run->n; i++) {
		if (is(&run->rec[i], "status", "skip"))
			c.skip++;
		else if (is(&run->rec[i], "status", "pass"))
			c.pass++;
		else
			c.fail++;
	}
	return c;
}

/* --- bench/repro ------------------------------------------------------------------ */

static void repro_http(FILE *f, const struct kv *r)
{
	const char *intact = kv_get(r, "client.intact");

	fprintf(f, "%-26s curl exit %s", "", val(r, "client.exit", "?"));
	if (strcmp(val(r, "client.error", "-"), "-"))
		fprintf(f, " \"%s\"", kv_get(r, "client.error"));
	fprintf(f, ", %s of %s bytes", val(r, "client.bytes", "?"),
		val(r, "client.payload_bytes", "?"));
	if (intact && !strcmp(intact, "1"))
		fputs(", sha256 = payload's", f);
	else if (intact && !strcmp(intact, "0"))
		fputs(", sha256 differs", f);
	fprintf(f, "; nginx %s", val(r, "server.end", "no record"));
	if (strcmp(val(r, "server.errno", "0"), "0"))
		fprintf(f, " (%s: %s)", kv_get(r, "server.errno"),
			record_get(r, "server.error", ""));
	fprintf(f, " after %s bytes\n", val(r, "server.bytes", "?"));
	if (strcmp(val(r, "server.log", "-"), "-"))
		fprintf(f, "%-26s nginx: %s\n", "", kv_get(r, "server.log"));
}

static void repro_table(FILE *f, const struct run *run)
{
	char buf[4096];

	fprintf(f, "%-26s %-9s %-9s %s\n", "SCENARIO", "EXPECTED", "OBSERVED", "EVIDENCE");
	for (size_t i = 0; i < run->n; i++) {
		const struct kv *r = &run->rec[i];
		const char *expected = record_get(r, "expected", "");
		const char *observed = record_get(r, "observed", "inconclusive");
		bool ok = !strcmp(expected, observed);

		fprintf(f, "%-26s %-9s %-9s %s\n", record_get(r, "scenario", "?"), expected,
			observed, record_get(r, "evidence", ""));
		if (is(r, "workload", "http"))
			repro_http(f, r);
		fprintf(f, "%-26s %s  pcaps: %s/{client,node,backend}.pcap  %s ms\n", "",
			ok ? "ok" : "FAIL", rel(run, record_get(r, "dir", "?")),
			val(r, "duration_ms", "?"));
		if (!ok) {
			error_lines(r, 3, "\n", buf, sizeof(buf), false);
			fprintf(f, "%-26s reason: %s\n", "", val(r, "reason", buf));
		}
	}
}

static void repro_json(FILE *f, const struct run *run)
{
	const char *sep = "";

	fprintf(f,
		"{\"kernel\": \"%s\", \"run_id\": \"%s\", \"jobs\": %ld, \"wall_ms\": %ld, "
		"\"results\": [",
		record_get(&run->info, "kernel", ""), record_get(&run->info, "run_id", ""),
		atol(record_get(&run->info, "jobs", "0")),
		atol(record_get(&run->info, "wall_ms", "0")));
	for (size_t i = 0; i < run->n; i++) {
		int first = 1;

		if (!is(&run->rec[i], "decided", "1"))
			continue; /* no verdict, no result (the table says why) */
		fprintf(f, "%s\n  {", sep);
		record_json_fields(f, &run->rec[i], &first);
		fputc('}', f);
		sep = ",";
	}
	fputs("\n]}\n", f);
}

static int repro_summary(FILE *f, const struct run *run)
{
	struct counts c = count(run);

	if (c.fail + c.skip == 0 && run->n > 0) {
		fprintf(f, "PASS: %zu scenarios as expected in %s ms\n", run->n,
			record_get(&run->info, "wall_ms", "?"));
		return 0;
	}
	fprintf(f, "FAIL: %u of %zu scenarios not as expected\n", c.fail + c.skip, run->n);
	return 1;
}

/* --- bench/matrix ----------------------------------------------------------------- */

/* the next space-separated word of *s into buf; false at the end */
static bool word(const char **s, char *buf, size_t n)
{
	size_t len;

	*s += strspn(*s, " ");
	len = strcspn(*s, " ");
	if (!len)
		return false;
	snprintf(buf, n, "%.*s", (int)len, *s);
	*s += len;
	return true;
}

/* the records of one table (to, b, fam), gathered in one pass: the table's rows and
 * columns are then looked up among its own cells, not among every cell of the run (a
 * lookup per cell over all 1647 cells made --render table 0.6 s of strcmp) */
struct table_recs {
	const struct kv **r;
	size_t n;
};

static void table_gather(const struct run *run, const char *to, const char *b, const char *fam,
			 struct table_recs *tr)
{
	tr->n = 0;
	for (size_t i = 0; i < run->n; i++) {
		const struct kv *r = &run->rec[i];

		if (is(r, "topology", to) && is(r, "backend", b) && is(r, "family", fam))
			tr->r[tr->n++] = r;
	}
}

static const struct kv *find(const struct table_recs *tr, const char *w, const char *t)
{
	for (size_t i = 0; i < tr->n; i++)
		if (is(tr->r[i], "workaround", w) && is(tr->r[i], "trigger", t))
			return tr->r[i];
	return NULL;
}

/* some record of the table [of trigger t] */
static bool any_record(const struct table_recs *tr, const char *t)
{
	for (size_t i = 0; i < tr->n; i++)
		if (!t || is(tr->r[i], "trigger", t))
			return true;
	return false;
}

/* A table per topology/backend/family that has cells, a row per trigger that has some: a
 * topology runs only its own triggers (asymmetric: connect) and families (asymmetric:
 * IPv4). */
static void matrix_tables(FILE *f, const struct run *run)
{
	const char *tos = record_get(&run->info, "dim.topology", "");
	char to[64], b[64], fa[16], fam[32], w[64], t[64];
	struct table_recs tr = {.r = calloc(run->n ? run->n : 1, sizeof(*tr.r))};

	if (!tr.r)
		return;
	for (const char *p1 = tos; word(&p1, to, sizeof(to));)
		for (const char *p2 = record_get(&run->info, "dim.backend", "");
		     word(&p2, b, sizeof(b));)
			for (const char *p3 = record_get(&run->info, "dim.family", "");
			     word(&p3, fa, sizeof(fa));) {
				const char *ws = record_get(&run->info, "dim.workaround", "");

				snprintf(fam, sizeof(fam), "ipv%s", fa);
				table_gather(run, to, b, fam, &tr);
				if (!any_record(&tr, NULL))
					continue;
				fprintf(f, "\n%s / %s / %s\n%-16s", to, b, fam, "");
				for (const char *p = ws; word(&p, w, sizeof(w));)
					fprintf(f, " %-18s", w);
				fputc('\n', f);
				for (const char *pt = record_get(&run->info, "dim.trigger", "");
				     word(&pt, t, sizeof(t));) {
					if (!any_record(&tr, t))
						continue;
					fprintf(f, "%-16s", t);
					for (const char *p = ws; word(&p, w, sizeof(w));) {
						const struct kv *r = find(&tr, w, t);
						char cell[64];

						/* n/a: a kube-proxy release without this mode */
						snprintf(cell, sizeof(cell), "%s%s",
							 r ? val(r, "observed", "?")
							 : *record_get(&run->info, "kube_proxy", "")
							     ? "n/a"
							     : "?",
							 r && is(r, "status", "fail") ? " !" : "");
						fprintf(f, " %-18s", cell);
					}
					fputc('\n', f);
				}
			}
	free(tr.r);
}

/* the cell counted INVALID packets on its nodes, and every count is 0 */
static bool none_invalid(const struct kv *r)
{
	bool any = false;

	for (size_t i = 0; i < r->n; i++)
		if (!strncmp(r->pairs[i].key, "invalid.", 8)) {
			if (strcmp(r->pairs[i].value, "0"))
				return false;
			any = true;
		}
	return any;
}

/* --kube-proxy: a line per cell an SRE can paste: release, mode, what decides, verdict */
static void matrix_kube_proxy(FILE *f, const struct run *run)
{
	if (!*record_get(&run->info, "kube_proxy", ""))
		return;
	fputc('\n', f);
	for (size_t i = 0; i < run->n; i++) {
		const struct kv *r = &run->rec[i];
		const char *inv = record_get(r, "kube_proxy.invalid", ""), *obs, *verdict;
		char why[1024];

		if (!kv_get(r, "kube_proxy.mode"))
			continue;
		if (!strcmp(inv, "drop"))
			snprintf(why, sizeof(why),
				 "KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP");
		else if (!strcmp(inv, "drop-nfacct"))
			snprintf(why, sizeof(why),
				 "KUBE-FORWARD --ctstate INVALID -m nfacct --nfacct-name "
				 "ct_state_invalid_dropped_pkts -j DROP");
		else if (!strcmp(inv, "nft-drop"))
			snprintf(why, sizeof(why), "ct state invalid drop (nftables mode, 1.29)");
		else
			snprintf(why, sizeof(why), "no INVALID drop rule");
		if (is(r, "kube_proxy.liberal", "1"))
			snprintf(why, sizeof(why),
				 "nf_conntrack_tcp_be_liberal=1 set by tcpBeLiberal=true, so no "
				 "INVALID rule");
		else
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 ", nf_conntrack_tcp_be_liberal=0");
		if (is(r, "backend", "ipvs"))
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "; IPVS un-NATs replies itself (ip_vs_reply4), whatever conntrack "
				 "says");
		obs = val(r, "observed", "?");
		if (!strcmp(obs, "reset"))
			verdict = "EXPOSED: the client pod resets the backend's connection "
				  "(Connection reset by peer)";
		else if (!strcmp(obs, "leak"))
			verdict = "partly exposed: segments reach the client un-NATed, its RST "
				  "misses the backend's window, the connection survives";
		else if (!strcmp(obs, "clean"))
			verdict = "not exposed: nothing leaked un-NATed, no reset";
		else if (!strcmp(obs, "broken")) /* the asymmetric topology's connect cell */
			verdict = "BREAKS asymmetric routing: the handshake's third packet is "
				  "INVALID where only one direction passes, and dropped";
		else if (!strcmp(obs, "works"))
			verdict = "asymmetric routing works: nothing drops the INVALID handshake "
				  "ACK";
		else
			verdict = NULL;
		fprintf(f, "kube-proxy %s, %s mode (%s, %s, %s), %s: ",
			record_get(r, "kube_proxy.version", "?"), kv_get(r, "kube_proxy.mode"),
			val(r, "backend", "?"), val(r, "family", "?"), val(r, "topology", "?"),
			val(r, "trigger", "?"));
		/* reset or leak with nothing INVALID: the rule and the sysctl never applied */
		if ((!strcmp(val(r, "observed", ""), "reset") ||
		     !strcmp(val(r, "observed", ""), "leak")) &&
		    none_invalid(r))
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "; but conntrack marked nothing INVALID (the entry was lost, the "
				 "segment was NEW), so neither applies");
		/* from 1.31: what the release's own metric shows (nfacct) */
		if (*record_get(r, "evidence.nfacct", ""))
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "; %s",
				 kv_get(r, "evidence.nfacct"));
		if (verdict)
			fprintf(f, "%s - %s\n", verdict, why);
		else
			fprintf(f, "unknown: %s - %s\n", obs, why);
	}
}

/* why a cell failed: the verdict's reason, else the first two lines of its error */
static void fail_why(const struct kv *r, char *buf, size_t n)
{
	error_lines(r, 2, " ", buf, n, true);
	if (*val(r, "reason", ""))
		snprintf(buf, n, "%s", kv_get(r, "reason"));
}

static void matrix_tap(FILE *f, const struct run *run)
{
	char name[512];

	fprintf(f, "TAP version 13\n1..%zu\n", run->n);
	for (size_t i = 0; i < run->n; i++) {
		const struct kv *r = &run->rec[i];

		cell_name(r, name, sizeof(name));
		if (is(r, "status", "skip"))
			fprintf(f, "ok %zu - %s # SKIP %s\n", i + 1, name,
				record_get(r, "skip_reason", ""));
		else if (is(r, "status", "pass"))
			fprintf(f, "ok %zu - %s: %s\n", i + 1, name, record_get(r, "observed", ""));
		else
			fprintf(f,
				"not ok %zu - %s: expected %s, observed %s\n  # evidence: %s\n  # "
				"pcaps: %s\n",
				i + 1, name, val(r, "expected", "?"),
				record_get(r, "observed", "inconclusive"),
				record_get(r, "evidence", ""), record_get(r, "dir", ""));
	}
}

static void junit_time(FILE *f, const char *ms)
{
	long v = atol(ms);

	fprintf(f, "%ld.%03ld", v / 1000, v % 1000);
}

static void matrix_junit(FILE *f, const struct run *run)
{
	struct counts c = count(run);
	char buf[8192];

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"ctreset-matrix\" tests=\"%zu\" failures=\"%u\" "
		"skipped=\"%u\" time=\"",
		run->n, c.fail, c.skip);
	junit_time(f, record_get(&run->info, "wall_ms", "0"));
	fputs("\">\n  <testsuite name=\"matrix on ", f);
	xml(f, record_get(&run->info, "kernel", ""));
	fprintf(f, "\" tests=\"%zu\" failures=\"%u\" errors=\"0\" skipped=\"%u\">\n", run->n,
		c.fail, c.skip);
	for (size_t i = 0; i < run->n; i++) {
		const struct kv *r = &run->rec[i];

		fprintf(f, "    <testcase classname=\"%s.%s.%s\" name=\"%s/%s\" time=\"",
			val(r, "topology", "?"), val(r, "backend", "?"), val(r, "family", "?"),
			val(r, "trigger", "?"), val(r, "workaround", "?"));
		if (is(r, "status", "skip")) {
			fputs("0\"><skipped message=\"", f);
			xml(f, record_get(r, "skip_reason", ""));
			fputs("\"/></testcase>\n", f);
			continue;
		}
		junit_time(f, val(r, "duration_ms", "0"));
		if (is(r, "status", "pass")) {
			fputs("\"/>\n", f);
			continue;
		}
		snprintf(buf, sizeof(buf), "expected %s, observed %s", val(r, "expected", "?"),
			 record_get(r, "observed", "inconclusive"));
		fputs("\"><failure message=\"", f);
		xml(f, buf);
		fputs("\">", f);
		xml(f, record_get(r, "evidence", ""));
		fputs("; ", f);
		fail_why(r, buf, sizeof(buf));
		xml(f, buf);
		fputs("; pcaps in ", f);
		xml(f, record_get(r, "dir", ""));
		fputs("</failure></testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
}

static void json_list(FILE *f, const char *key, const char *words, const char *prefix,
		      const char *after)
{
	char w[128], buf[160];
	const char *sep = "";

	fprintf(f, "\"%s\": [", key);
	for (const char *p = words; word(&p, w, sizeof(w)); sep = ", ") {
		snprintf(buf, sizeof(buf), "%s%s", prefix, w);
		fputs(sep, f);
		json_str(f, buf);
	}
	fprintf(f, "]%s", after);
}

static void matrix_json_cell(FILE *f, const struct kv *r)
{
	char name[512], buf[4096];
	int first = 1;

	cell_name(r, name, sizeof(name));
	fputc('{', f);
	if (is(r, "status", "skip") || !is(r, "decided", "1")) {
		json_kv_str(f, &first, "cell", name);
		json_kv_str(f, &first, "topology", val(r, "topology", "?"));
		json_kv_str(f, &first, "backend", val(r, "backend", "?"));
		json_kv_str(f, &first, "family", val(r, "family", "?"));
		json_kv_str(f, &first, "trigger", val(r, "trigger", "?"));
		json_kv_str(f, &first, "workaround", val(r, "workaround", "?"));
		json_kv_str(f, &first, "status", record_get(r, "status", "fail"));
		if (is(r, "status", "skip")) {
			json_kv_str(f, &first, "skip_reason", record_get(r, "skip_reason", ""));
			fputc('}', f);
			return;
		}
		json_kv_str(f, &first, "observed", record_get(r, "observed", "inconclusive"));
		error_lines(r, 3, "\n", buf, sizeof(buf), false);
		json_kv_str(f, &first, "error", buf);
	} else {
		record_json_fields(f, r, &first);
		json_kv_str(f, &first, "cell", name);
		json_kv_str(f, &first, "status", record_get(r, "status", "fail"));
		json_kv_str(f, &first, "evidence", record_get(r, "evidence", ""));
	}
	json_kv_str(f, &first, "dir", record_get(r, "dir", ""));
	fputc('}', f);
}

static void matrix_json(FILE *f, const struct run *run)
{
	const struct kv *in = &run->info;
	struct counts c = count(run);
	const char *sep = "";

	fprintf(f,
		"{\"kernel\": \"%s\", \"run_id\": \"%s\", \"jobs\": %ld, "
		"\"fresh_topologies\": %s, \"wall_ms\": %ld,\n \"dimensions\": {",
		record_get(in, "kernel", ""), record_get(in, "run_id", ""),
		atol(record_get(in, "jobs", "0")), is(in, "fresh", "1") ? "true" : "false",
		atol(record_get(in, "wall_ms", "0")));
	json_list(f, "trigger", record_get(in, "dim.trigger", ""), "", ", ");
	json_list(f, "workaround", record_get(in, "dim.workaround", ""), "", ", ");
	json_list(f, "topology", record_get(in, "dim.topology", ""), "", ", ");
	json_list(f, "backend", record_get(in, "dim.backend", ""), "", ", ");
	json_list(f, "family", record_get(in, "dim.family", ""), "ipv", "},\n");
	/* the shard of the selection this run is (bench/matrix --shard; merge.h) */
	if (*record_get(in, "shard", ""))
		fprintf(f,
			" \"shard\": \"%s\", \"selection_hash\": \"%s\", \"selection_cells\": "
			"%ld,\n",
			record_get(in, "shard", ""), record_get(in, "selection_hash", ""),
			atol(record_get(in, "selection_cells", "0")));
	fprintf(f,
		" \"summary\": {\"cells\": %zu, \"pass\": %u, \"fail\": %u, \"skip\": %u},\n "
		"\"results\": [",
		run->n, c.pass, c.fail, c.skip);
	for (size_t i = 0; i < run->n; i++) {
		fprintf(f, "%s\n  ", sep);
		matrix_json_cell(f, &run->rec[i]);
		sep = ",";
	}
	fputs("\n]}\n", f);
}

static void matrix_unexpected(FILE *f, const struct run *run)
{
	char name[512], why[4096];

	if (!count(run).fail)
		return;
	fputs("UNEXPECTED:\n", f);
	for (size_t i = 0; i < run->n; i++) {
		const struct kv *r = &run->rec[i];

		if (!is(r, "status", "fail"))
			continue;
		cell_name(r, name, sizeof(name));
		fail_why(r, why, sizeof(why));
		fprintf(f,
			"  %s: expected %s, observed %s (%s)\n    evidence: %s\n    probe: %s\n  "
			"  oracle: %s\n    pcaps: %s/{client,node,backend}.pcap\n",
			name, val(r, "expected", "?"), record_get(r, "observed", "inconclusive"),
			why, record_get(r, "evidence", ""), record_get(r, "probe", "?"),
			record_get(r, "expected_reason", ""), rel(run, record_get(r, "dir", "")));
	}
}

static int matrix_summary(FILE *f, const struct run *run)
{
	struct counts c = count(run);
	const char *first = NULL, *dir = NULL;

	fprintf(f, "matrix: %u passed, %u failed, %u skipped in %s ms\n", c.pass, c.fail, c.skip,
		record_get(&run->info, "wall_ms", "?"));
	if (c.pass + c.fail)
		return c.fail ? 1 : 0;
	/* nothing ran: not a pass; the reason of the first skipped cell by its path */
	for (size_t i = 0; i < run->n; i++) {
		const char *d = record_get(&run->rec[i], "dir", "");

		if (is(&run->rec[i], "status", "skip") && (!dir || strcmp(d, dir) < 0)) {
			dir = d;
			first = record_get(&run->rec[i], "skip_reason", "");
		}
	}
	fprintf(f, "SKIP: no cell could be built here: %s\n", first ? first : "");
	return 4;
}

int render_known(const char *format)
{
	static const char *const known[] = {"table",	   "json",   "tap",	"junit",
					    "unexpected",  "failed", "summary", "advise",
					    "advise-json", "ktap"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(format, known[i]))
			return 1;
	return 0;
}

int render(FILE *f, const struct run *run, const char *format, char **err)
{
	bool matrix = is(&run->info, "kind", "matrix");

	if (!strcmp(format, "table")) {
		if (matrix) {
			matrix_tables(f, run);
			matrix_kube_proxy(f, run);
		} else {
			repro_table(f, run);
			matrix_kube_proxy(f, run); /* bench/repro --kube-proxy */
		}
	} else if (!strcmp(format, "json")) {
		if (matrix)
			matrix_json(f, run);
		else
			repro_json(f, run);
	} else if (!strcmp(format, "tap")) {
		matrix_tap(f, run);
	} else if (!strcmp(format, "ktap")) {
		ktap_render(f, run, 1);
	} else if (!strcmp(format, "junit")) {
		matrix_junit(f, run);
	} else if (!strcmp(format, "unexpected")) {
		matrix_unexpected(f, run);
	} else if (!strcmp(format, "failed")) {
		for (size_t i = 0; i < run->n; i++)
			if (is(&run->rec[i], "status", "fail"))
				fprintf(f, "%s\n", record_get(&run->rec[i], "dir", ""));
	} else if (!strcmp(format, "advise") || !strcmp(format, "advise-json")) {
		return advise_render(f, run, !strcmp(format, "advise-json"));
	} else if (!strcmp(format, "summary")) {
		return matrix ? matrix_summary(f, run) : repro_summary(f, run);
	} else {
		return err_set(err,
			       "--render takes table, json, tap, junit, ktap, unexpected, failed, "
			       "summary, advise or advise-json, not '%s'",
			       format);
	}
	return 0;
}
