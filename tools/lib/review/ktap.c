/* The KTAP report (ktap.h), from the cells' records as every other report. */
#include "ktap.h"
#include "record.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *get(const struct kv *r, const char *key, const char *dflt)
{
	const char *v = kv_get(r, key);

	return v && *v ? v : dflt;
}

static bool is(const struct kv *r, const char *key, const char *want)
{
	const char *v = kv_get(r, key);

	return v && !strcmp(v, want);
}

/* s on one line, without '#' when it is a description (a '#' starts a directive) */
static void put(FILE *f, const char *s, bool desc)
{
	for (; *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : desc && *s == '#' ? '_' : *s, f);
}

static void group_of(const struct kv *r, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s/%s", get(r, "topology", "?"), get(r, "backend", "?"),
		 get(r, "family", "?"));
}

enum result { R_PASS, R_FAIL, R_SKIP };

/* one cell's result line (and the diagnostics before a failure's) */
static enum result cell(FILE *f, const char *ind, size_t num, const struct kv *r)
{
	char name[256];

	snprintf(name, sizeof(name), "%s/%s", get(r, "trigger", "?"), get(r, "workaround", "?"));
	if (is(r, "status", "skip")) {
		fprintf(f, "%sok %zu ", ind, num);
		put(f, name, true);
		fputs(" # SKIP ", f);
		put(f, get(r, "skip_reason", "no reason recorded"), false);
		fputc('\n', f);
		return R_SKIP;
	}
	if (is(r, "status", "pass")) {
		fprintf(f, "%sok %zu ", ind, num);
		put(f, name, true);
		fputs(": ", f);
		put(f, get(r, "observed", "?"), true);
		fputc('\n', f);
		return R_PASS;
	}
	fprintf(f, "%s# %s: expected %s, observed %s\n", ind, name, get(r, "expected", "?"),
		get(r, "observed", "inconclusive"));
	if (*get(r, "reason", "")) {
		fprintf(f, "%s# reason: ", ind);
		put(f, kv_get(r, "reason"), false);
		fputc('\n', f);
	}
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->pairs[i].key, "error_line")) {
			fprintf(f, "%s# error: ", ind);
			put(f, r->pairs[i].value, false);
			fputc('\n', f);
		}
	if (*get(r, "evidence", "")) {
		fprintf(f, "%s# evidence: ", ind);
		put(f, kv_get(r, "evidence"), false);
		fputc('\n', f);
	}
	fprintf(f, "%s# pcaps: ", ind);
	put(f, get(r, "dir", "?"), false);
	fprintf(f, "\n%snot ok %zu ", ind, num);
	put(f, name, true);
	fputc('\n', f);
	return R_FAIL;
}

/* the result line of a subtest from its children's: not ok when one failed, SKIP when
 * every one skipped (the first one's reason) */
static enum result parent(FILE *f, const char *ind, size_t num, const char *name, unsigned fail,
			  unsigned pass, const char *skip_why)
{
	fprintf(f, "%s%s %zu ", ind, fail ? "not ok" : "ok", num);
	put(f, name, true);
	if (fail) {
		fputc('\n', f);
		return R_FAIL;
	}
	if (!pass) {
		fputs(" # SKIP ", f);
		put(f, skip_why ? skip_why : "no cell", false);
		fputc('\n', f);
		return R_SKIP;
	}
	fputc('\n', f);
	return R_PASS;
}

struct tally {
	unsigned pass, fail, skip;
	const char *skip_why;
};

/* a kernel's run: a subtest per group, at indentation ind */
static void groups(FILE *f, const char *ind, const struct run *run, struct tally *t)
{
	char(*names)[256] = calloc(run->n ? run->n : 1, sizeof(*names));
	size_t ng = 0;
	char sub[64];

	if (!names)
		return;
	for (size_t i = 0; i < run->n; i++) {
		char g[256];
		size_t k;

		group_of(&run->rec[i], g, sizeof(g));
		for (k = 0; k < ng && strcmp(names[k], g); k++)
			;
		if (k == ng)
			snprintf(names[ng++], sizeof(names[0]), "%s", g);
	}
	snprintf(sub, sizeof(sub), "%s  ", ind);
	fprintf(f, "%s1..%zu\n", ind, ng);
	for (size_t k = 0; k < ng; k++) {
		struct tally gt = {0};
		size_t num = 0;

		fprintf(f, "%sKTAP version 1\n%s# Subtest: ", sub, sub);
		put(f, names[k], false);
		fputc('\n', f);
		for (size_t i = 0; i < run->n; i++) {
			char g[256];

			group_of(&run->rec[i], g, sizeof(g));
			num += !strcmp(g, names[k]);
		}
		fprintf(f, "%s1..%zu\n", sub, num);
		num = 0;
		for (size_t i = 0; i < run->n; i++) {
			char g[256];

			group_of(&run->rec[i], g, sizeof(g));
			if (strcmp(g, names[k]))
				continue;
			switch (cell(f, sub, ++num, &run->rec[i])) {
			case R_PASS:
				gt.pass++;
				break;
			case R_FAIL:
				gt.fail++;
				break;
			case R_SKIP:
				gt.skip++;
				if (!gt.skip_why)
					gt.skip_why = get(&run->rec[i], "skip_reason", "");
				break;
			}
		}
		fprintf(f, "%s# %s: %u passed, %u failed, %u skipped\n", sub, names[k], gt.pass,
			gt.fail, gt.skip);
		parent(f, ind, k + 1, names[k], gt.fail, gt.pass, gt.skip_why);
		t->pass += gt.pass;
		t->fail += gt.fail;
		t->skip += gt.skip;
		if (!t->skip_why)
			t->skip_why = gt.skip_why;
	}
	free(names);
}

int ktap_render(FILE *f, const struct run *runs, size_t n)
{
	struct tally all = {0};

	fputs("KTAP version 1\n", f);
	if (n == 1) {
		fprintf(f, "# ctreset bench/matrix on %s\n", get(&runs[0].info, "kernel", "?"));
		if (*get(&runs[0].info, "shard", "") &&
		    strcmp(get(&runs[0].info, "shard", ""), "1/1"))
			fprintf(f, "# shard %s of selection %s (%s cells)\n",
				get(&runs[0].info, "shard", ""),
				get(&runs[0].info, "selection_hash", "?"),
				get(&runs[0].info, "selection_cells", "?"));
		groups(f, "", &runs[0], &all);
	} else {
		fprintf(f, "1..%zu\n", n);
		for (size_t k = 0; k < n; k++) {
			struct tally kt = {0};
			char name[256];

			snprintf(name, sizeof(name), "kernel %s",
				 get(&runs[k].info, "kernel", "?"));
			fputs("  KTAP version 1\n  # Subtest: ", f);
			put(f, name, false);
			fputc('\n', f);
			groups(f, "  ", &runs[k], &kt);
			parent(f, "", k + 1, name, kt.fail, kt.pass, kt.skip_why);
			all.pass += kt.pass;
			all.fail += kt.fail;
			all.skip += kt.skip;
		}
	}
	fprintf(f, "# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n", all.pass,
		all.fail, all.skip);
	if (all.pass + all.fail)
		return all.fail ? 1 : 0;
	return 4;
}
