/* bench/advise's page from a run's records: rows the workarounds, columns the resets that
 * happen without one, each cell stops / does not stop, and what each workaround breaks. */
#include "advise.h"
#include "base/json.h"
#include "record.h"

#include <stdbool.h>
#include <string.h>

/* the asymmetric topology's cell (tools/lib/live/trig_connect.c): a legitimate connection */
#define ASYM_TRIGGER "connect"
#define MAX_WORDS 32

struct words {
	char w[MAX_WORDS][64];
	size_t n;
};

/* the space-separated words of s (at most MAX_WORDS) */
static void split(const char *s, struct words *out)
{
	out->n = 0;
	while (*s && out->n < MAX_WORDS) {
		size_t len;

		s += strspn(s, " ");
		len = strcspn(s, " ");
		if (!len)
			break;
		snprintf(out->w[out->n++], sizeof(out->w[0]), "%.*s", (int)len, s);
		s += len;
	}
}

static bool is(const struct kv *kv, const char *key, const char *want)
{
	const char *v = kv_get(kv, key);

	return v && !strcmp(v, want);
}

static const struct kv *find(const struct run *run, const char *w, const char *t)
{
	for (size_t i = 0; i < run->n; i++)
		if (is(&run->rec[i], "workaround", w) && is(&run->rec[i], "trigger", t))
			return &run->rec[i];
	return NULL;
}

/* the trigger resets (or leaks) without a workaround: a column of the page; without a
 * decided record of none (none not run, skipped, inconclusive) it is one too: unknown is
 * not harmless */
static bool is_reset(const struct run *run, const char *t)
{
	const struct kv *r = find(run, "none", t);

	if (!r || !is(r, "decided", "1"))
		return true;
	return is(r, "observed", "reset") || is(r, "observed", "leak");
}

/* the connection stalls instead: no leak, but the backend's connection neither closed in
 * order nor reset (the bench stopped it) */
static bool stalls(const struct kv *r)
{
	return r && is(r, "observed", "clean") && is(r, "backend_end", "stopped");
}

/* the cell's word: for none the reset itself, for a workaround whether it stops it */
static const char *cell_word(const struct kv *r, bool baseline)
{
	const char *obs;

	if (!r)
		return "not run";
	if (is(r, "status", "skip"))
		return "skip";
	if (!is(r, "decided", "1"))
		return "inconclusive";
	obs = record_get(r, "observed", "?");
	if (baseline)
		return obs;
	if (!strcmp(obs, "clean"))
		return stalls(r) ? "stops(stall)" : "stops";
	if (!strcmp(obs, "reset"))
		return "no: reset";
	if (!strcmp(obs, "leak"))
		return "no: leak";
	return obs;
}

static const char *asym_word(const struct kv *r)
{
	if (!r)
		return "not measured";
	if (is(r, "status", "skip"))
		return "skip";
	if (!is(r, "decided", "1"))
		return "inconclusive";
	if (is(r, "observed", "broken"))
		return "breaks asym";
	if (is(r, "observed", "works"))
		return "asym ok";
	return record_get(r, "observed", "inconclusive");
}

/* why: the record's reason, or its first error line, or its skip reason */
static const char *why(const struct kv *r)
{
	if (is(r, "status", "skip"))
		return record_get(r, "skip_reason", "");
	if (*record_get(r, "reason", ""))
		return kv_get(r, "reason");
	return record_get(r, "error_line", "no verdict");
}

struct tally {
	unsigned decided, bad;
};

static void tally(struct tally *t, const struct kv *r)
{
	if (!r) {
		t->bad++;
		return;
	}
	if (is(r, "decided", "1"))
		t->decided++;
	if (is(r, "status", "fail"))
		t->bad++;
}

static void page_text(FILE *f, const struct run *run, const struct words *ws,
		      const struct words *ts, struct tally *tl)
{
	const char *sep = "";

	fprintf(f, "kernel %s: which workaround stops which reset, and what it breaks\n",
		record_get(&run->info, "kernel", "?"));
	fprintf(f, "matrix run %s; asymmetric run %s\n\n",
		record_get(&run->info, "matrix_run", "-"),
		record_get(&run->info, "asymmetric_run", "-"));
	fprintf(f, "%-28s", "WORKAROUND");
	for (size_t j = 0; j < ts->n; j++)
		if (is_reset(run, ts->w[j]))
			fprintf(f, " %-14s", ts->w[j]);
	fputs(" BREAKS\n", f);
	for (size_t i = 0; i < ws->n; i++) {
		const char *w = ws->w[i];
		char stall[512] = "";

		fprintf(f, "%-28s", w);
		for (size_t j = 0; j < ts->n; j++) {
			const struct kv *r = find(run, w, ts->w[j]);
			char c[32];

			if (stalls(r))
				snprintf(stall + strlen(stall), sizeof(stall) - strlen(stall),
					 "%s%s", *stall ? "," : "", ts->w[j]);
			if (!is_reset(run, ts->w[j]))
				continue;
			tally(tl, r);
			snprintf(c, sizeof(c), "%s%s", cell_word(r, !strcmp(w, "none")),
				 r && is(r, "status", "fail") ? " !" : "");
			fprintf(f, " %-14s", c);
		}
		fprintf(f, " %s", asym_word(find(run, w, ASYM_TRIGGER)));
		if (*stall)
			fprintf(f, "; stalls: %s", stall);
		fputc('\n', f);
	}
	fputs("\nno reset without a workaround on this kernel (left out): ", f);
	for (size_t j = 0; j < ts->n; j++)
		if (!is_reset(run, ts->w[j])) {
			fprintf(f, "%s%s", sep, ts->w[j]);
			sep = " ";
		}
	fputs(*sep ? "\n" : "none\n", f);
	fputs("\"stops\": clean (nothing un-NATed reached the client); \"no: reset\": the "
	      "client pod still resets the backend; \"no: leak\": un-NATed segments still "
	      "reach the client; \"stops(stall)\": no reset, but the connection hangs (the "
	      "backend's connection neither closed nor reset); \"breaks asym\": with "
	      "asymmetric routing the connection fails; \"!\": not as the oracle expects.\n",
	      f);
	fputs("\nEVIDENCE\n", f);
	for (size_t i = 0; i < ws->n; i++)
		for (size_t j = 0; j <= ts->n; j++) {
			const char *t = j < ts->n ? ts->w[j] : ASYM_TRIGGER;
			const struct kv *r = find(run, ws->w[i], t);
			bool asym = j == ts->n;

			if (!asym && !is_reset(run, t))
				continue;
			if (asym && r) /* not measured: said so, not a failure */
				tally(tl, r);
			fprintf(f, "%s / %s: %s\n", ws->w[i], t,
				asym ? asym_word(r) : cell_word(r, !strcmp(ws->w[i], "none")));
			if (!r)
				continue;
			fprintf(f, "  why: %s\n", why(r));
			if (*record_get(r, "evidence", ""))
				fprintf(f, "  evidence: %s\n", kv_get(r, "evidence"));
			if (*record_get(r, "expected_reason", ""))
				fprintf(f, "  oracle (expected %s): %s\n",
					record_get(r, "expected", "?"),
					kv_get(r, "expected_reason"));
			fprintf(f, "  pcaps: %s/{client,node,backend}.pcap\n",
				record_get(r, "dir", "?"));
		}
}

static void json_cell(FILE *f, const struct kv *r, const char *t, const char *word)
{
	int first = 1;

	fputc('{', f);
	json_kv_str(f, &first, "trigger", t);
	json_kv_str(f, &first, "cell", word);
	if (r) {
		json_kv_str(f, &first, "observed", record_get(r, "observed", "inconclusive"));
		json_kv_str(f, &first, "status", record_get(r, "status", "fail"));
		json_kv_str(f, &first, "why", why(r));
		json_kv_str(f, &first, "evidence", record_get(r, "evidence", ""));
		json_kv_str(f, &first, "oracle", record_get(r, "expected_reason", ""));
		json_kv_str(f, &first, "dir", record_get(r, "dir", ""));
	}
	fputc('}', f);
}

static void page_json(FILE *f, const struct run *run, const struct words *ws,
		      const struct words *ts, struct tally *tl)
{
	const char *sep = "";

	fputs("{\"kernel\": ", f);
	json_str(f, record_get(&run->info, "kernel", ""));
	fputs(", \"matrix_run\": ", f);
	json_str(f, record_get(&run->info, "matrix_run", ""));
	fputs(", \"asymmetric_run\": ", f);
	json_str(f, record_get(&run->info, "asymmetric_run", ""));
	fputs(",\n \"no_reset\": [", f);
	for (size_t j = 0; j < ts->n; j++)
		if (!is_reset(run, ts->w[j])) {
			fputs(sep, f);
			json_str(f, ts->w[j]);
			sep = ", ";
		}
	fputs("],\n \"rows\": [", f);
	for (size_t i = 0; i < ws->n; i++) {
		const char *w = ws->w[i];
		const struct kv *a = find(run, w, ASYM_TRIGGER);

		fprintf(f, "%s\n  {\"workaround\": ", i ? "," : "");
		json_str(f, w);
		fputs(", \"resets\": [", f);
		sep = "";
		for (size_t j = 0; j < ts->n; j++) {
			const struct kv *r = find(run, w, ts->w[j]);

			if (!is_reset(run, ts->w[j]))
				continue;
			tally(tl, r);
			fputs(sep, f);
			json_cell(f, r, ts->w[j], cell_word(r, !strcmp(w, "none")));
			sep = ", ";
		}
		fputs("],\n   \"stalls\": [", f);
		sep = "";
		for (size_t j = 0; j < ts->n; j++)
			if (stalls(find(run, w, ts->w[j]))) {
				fputs(sep, f);
				json_str(f, ts->w[j]);
				sep = ", ";
			}
		fputs("],\n   \"asymmetric_routing\": ", f);
		if (a)
			tally(tl, a);
		json_cell(f, a, ASYM_TRIGGER, asym_word(a));
		fputc('}', f);
	}
	fputs("\n]}\n", f);
}

int advise_render(FILE *f, const struct run *run, int json)
{
	struct words ws, ts;
	struct tally tl = {0};

	split(record_get(&run->info, "dim.workaround", ""), &ws);
	split(record_get(&run->info, "dim.trigger", ""), &ts);
	/* connect is the "breaks" column, not a reset's */
	for (size_t j = 0; j < ts.n; j++)
		if (!strcmp(ts.w[j], ASYM_TRIGGER)) {
			memmove(&ts.w[j], &ts.w[j + 1], (ts.n - j - 1) * sizeof(ts.w[0]));
			ts.n--;
			j--;
		}
	if (json)
		page_json(f, run, &ws, &ts, &tl);
	else
		page_text(f, run, &ws, &ts, &tl);
	if (!tl.decided)
		return 4;
	return tl.bad ? 1 : 0;
}
