/* The oracle file and its matching: first matching row wins, its entries picked for the
 * kernel by behaviour (+NAME/-NAME: probed, else the release fallback) or by release
 * (<X.Y, >=X.Y) (the rules bench/matrix.expect's header states). */
#include "oracle.h"
#include "base/err.h"
#include "base/file.h"
#include "behaviour.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void oracle_free(struct oracle *o)
{
	for (size_t i = 0; i < o->n; i++) {
		for (int c = 0; c < 5; c++)
			free(o->rows[i].col[c]);
		free(o->rows[i].spec);
		free(o->rows[i].reason);
	}
	free(o->rows);
	free(o->name);
	memset(o, 0, sizeof(*o));
}

/* one line into a row: seven tab-separated columns, the last running to the end */
static int parse_row(const char *line, size_t len, struct oracle_row *r)
{
	char **dst[7] = {&r->col[0], &r->col[1], &r->col[2], &r->col[3],
			 &r->col[4], &r->spec,	 &r->reason};
	const char *p = line, *end = line + len;

	memset(r, 0, sizeof(*r));
	for (int c = 0; c < 7; c++) {
		const char *tab = c < 6 ? memchr(p, '\t', (size_t)(end - p)) : NULL;
		const char *stop = tab ? tab : end;

		if (c < 6 && !tab)
			return -1;
		*dst[c] = dup_n(p, (size_t)(stop - p));
		if (!*dst[c])
			return -1;
		p = tab ? tab + 1 : end;
	}
	return 0;
}

int oracle_parse(const char *text, const char *name, struct oracle *o, char **err)
{
	const char *line = text;
	unsigned lineno = 0;

	memset(o, 0, sizeof(*o));
	o->name = strdup(name);
	if (!o->name)
		return err_set(err, "out of memory");
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *p = line;

		lineno++;
		while (p < line + len && (*p == ' ' || *p == '\t'))
			p++;
		if (p < line + len && *p != '#') {
			struct oracle_row *rows = realloc(o->rows, (o->n + 1) * sizeof(*rows));

			if (!rows) {
				oracle_free(o);
				return err_set(err, "out of memory");
			}
			o->rows = rows;
			if (parse_row(line, len, &o->rows[o->n]) < 0) {
				o->n++; /* freed with the rest */
				oracle_free(o);
				return err_set(err, "%s: line %u: expected 7 tab-separated columns",
					       name, lineno);
			}
			o->n++;
		}
		line += nl ? len + 1 : len;
	}
	if (!o->n) {
		err_set(err, "%s: no oracle rows in it", name);
		oracle_free(o);
		return -1;
	}
	return 0;
}

int oracle_load(const char *path, struct oracle *o, char **err)
{
	const char *base = strrchr(path, '/');
	char *text;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = file_read(path, 4u << 20, &text, NULL, err);
	if (rc > 0)
		return err_set(err, "%s: cannot read the oracle: no such file", path);
	if (rc < 0)
		return err_wrap(err, "cannot read the oracle");
	rc = oracle_parse(text, base ? base + 1 : path, o, err);
	free(text);
	return rc;
}

/* a run of digits as a number, saturating at VERSION_MAX (no kernel's version is longer: a
 * longer one would overflow a long) */
#define VERSION_MAX 999999L
static long version_part(const char **p)
{
	long v = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++)
		if (v < VERSION_MAX)
			v = v * 10 + (**p - '0');
	return v < VERSION_MAX ? v : VERSION_MAX;
}

int oracle_version_ge(const char *a, const char *b)
{
	long v[2][2] = {{0, 0}, {0, 0}};
	const char *s[2] = {a, b};

	for (int i = 0; i < 2; i++) {
		const char *p = s[i];

		if (*p < '0' || *p > '9')
			continue;
		v[i][0] = version_part(&p);
		if (*p == '.' && p[1] >= '0' && p[1] <= '9') {
			p++;
			v[i][1] = version_part(&p);
		}
	}
	return v[0][0] > v[1][0] || (v[0][0] == v[1][0] && v[0][1] >= v[1][1]);
}

/* Whether range holds for the kernel: <X.Y, >=X.Y on the release; +NAME, -NAME on the
 * behaviour NAME (behaviour.h: from the list, else the release). 1, 0, or -1 with *err;
 * a behaviour range writes to note how its value was known. */
static int range_holds(const char *range, const char *spec, const char *kernel,
		       const char *behaviours, char *note, size_t nn, char **err)
{
	bool from_list;
	int has;

	if (!strncmp(range, ">=", 2))
		return oracle_version_ge(kernel, range + 2);
	if (range[0] == '<')
		return !oracle_version_ge(kernel, range + 1);
	if (range[0] != '+' && range[0] != '-')
		return err_set(err, "bad kernel range '%s' in expectation '%s'", range, spec);
	has = behaviour_has(behaviours, kernel, range + 1, &from_list, err);
	if (has < 0)
		return err_wrap(err, "expectation '%s'", spec);
	if (note && nn)
		snprintf(note, nn, "behaviour %s %s, %s", range + 1, has ? "present" : "absent",
			 from_list ? "probed" : "from the release number (no probe: the fallback)");
	return range[0] == '+' ? has : !has;
}

static int spec_eval(const char *spec, const char *kernel, const char *behaviours, char *out,
		     size_t n, char *note, size_t nn, char **err)
{
	const char *p = spec;

	out[0] = '\0';
	if (note && nn)
		note[0] = '\0';
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *at = memchr(p, '@', len);
		char range[64];
		int holds;

		if (!at) {
			snprintf(out, n, "%.*s", (int)len, p);
			return 0;
		}
		snprintf(range, sizeof(range), "%.*s", (int)(len - (size_t)(at + 1 - p)), at + 1);
		holds = range_holds(range, spec, kernel, behaviours, note, nn, err);
		if (holds < 0)
			return -1;
		if (holds) {
			snprintf(out, n, "%.*s", (int)(at - p), p);
			return 0;
		}
		p += comma ? len + 1 : len;
	}
	return 0;
}

int oracle_spec_eval(const char *spec, const char *kernel, const char *behaviours, char *out,
		     size_t n, char **err)
{
	return spec_eval(spec, kernel, behaviours, out, n, NULL, 0, err);
}

static int pat_match(const char *pat, const char *v)
{
	size_t vl = strlen(v);

	if (!strcmp(pat, "*"))
		return 1;
	for (const char *p = pat;;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == vl && !strncmp(p, v, vl))
			return 1;
		if (!bar)
			return 0;
		p = bar + 1;
	}
}

int oracle_expect(const struct oracle *o, const struct oracle_cell *cell, const char *kernel,
		  const char *behaviours, char *expected, size_t elen, char *reason, size_t rlen,
		  char **err)
{
	const char *family = cell->family;
	const char *v[5];
	char note[160];

	if (!strncmp(family, "ipv", 3))
		family += 3;
	v[0] = cell->trigger;
	v[1] = cell->workaround;
	v[2] = cell->topology;
	v[3] = cell->backend;
	v[4] = family;
	expected[0] = '\0';
	snprintf(reason, rlen, "no row of %s matches this cell", o->name);
	for (size_t i = 0; i < o->n; i++) {
		const struct oracle_row *r = &o->rows[i];
		int c;

		for (c = 0; c < 5 && pat_match(r->col[c], v[c]); c++)
			;
		if (c < 5)
			continue;
		if (spec_eval(r->spec, kernel, behaviours, expected, elen, note, sizeof(note),
			      err) < 0)
			return -1;
		if (expected[0])
			snprintf(reason, rlen, "%s%s%s%s", r->reason, note[0] ? " [" : "", note,
				 note[0] ? "]" : "");
		else
			snprintf(reason, rlen, "no kernel range of '%s' holds for %s", r->spec,
				 kernel);
		return 0;
	}
	return 0;
}
