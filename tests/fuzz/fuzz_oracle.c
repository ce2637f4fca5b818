/* The oracle file (bench/matrix.expect, oracle.h): parsed from memory and, one size in
 * eight, loaded from a file (the two must agree), then the first 16 rows' specs evaluated
 * and matched: the cells are made of those rows' own patterns (the first two alternatives
 * of each column, '*' as a value no pattern names), on kernels below and above the 6.1
 * boundary, none, and the first four rows' reasons read as versions. */
#include "target.h"
#include "review/oracle.h"

#include <stdlib.h>
#include <string.h>

/* the n-th '|' alternative of pat (or pat when it has fewer), into buf */
static const char *alt(const char *pat, unsigned n, char *buf, size_t len)
{
	const char *p = pat;

	if (!strcmp(pat, "*"))
		return "fuzz-none";
	for (unsigned i = 0; i < n; i++) {
		const char *bar = strchr(p, '|');

		if (!bar)
			break;
		p = bar + 1;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(p, "|"), p);
	return buf;
}

static void match_rows(const struct oracle *o, const char *kernel, const char *behaviours)
{
	char expected[64], reason[512], *err = NULL;

	for (size_t i = 0; i < o->n && i < 16; i++) {
		for (unsigned n = 0; n < 2; n++) {
			char b[5][128];
			struct oracle_cell cell = {
			    .trigger = alt(o->rows[i].col[0], n, b[0], sizeof(b[0])),
			    .workaround = alt(o->rows[i].col[1], n, b[1], sizeof(b[1])),
			    .topology = alt(o->rows[i].col[2], n, b[2], sizeof(b[2])),
			    .backend = alt(o->rows[i].col[3], n, b[3], sizeof(b[3])),
			    .family = alt(o->rows[i].col[4], n, b[4], sizeof(b[4])),
			};

			oracle_expect(o, &cell, kernel, behaviours, expected, sizeof(expected),
				      reason, sizeof(reason), &err);
			free(err);
			err = NULL;
		}
		oracle_spec_eval(o->rows[i].spec, kernel, behaviours, expected, sizeof(expected),
				 &err);
		free(err);
		err = NULL;
	}
}

FUZZ_TARGET(oracle)
{
	static const char *const kernels[] = {"", "5.15.0", "6.1.0-57-amd64", "6.18.44"};
	/* none probed (the release decides), one probed, both probed against the release */
	static const char *const behaviours[] = {NULL, "ignore-delayed=0",
						 "ignore-delayed=1,rcvwnd-workaround=0"};
	char path[64], *text = fuzz_str(data, size), *err = NULL;
	struct oracle mem, file;
	int rc_mem, rc_file;

	if (!text)
		return 0;
	rc_mem = oracle_parse(text, "fuzz.expect", &mem, &err);
	free(err);
	err = NULL;
	if (FUZZ_VIA_FILE(size) && fuzz_file(data, size, path, sizeof(path)) == 0) {
		rc_file = oracle_load(path, &file, &err);
		free(err);
		err = NULL;
		if (rc_file != rc_mem || (rc_file == 0 && file.n != mem.n))
			abort();
		if (rc_file == 0)
			oracle_free(&file);
	}
	if (rc_mem == 0) {
		for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++)
			for (size_t b = 0; b < sizeof(behaviours) / sizeof(behaviours[0]); b++)
				match_rows(&mem, kernels[k], behaviours[b]);
		/* a version written in a reason, compared both ways with the others */
		for (size_t i = 0; i < mem.n && i < 4; i++) {
			const char *r = mem.rows[i].reason;

			match_rows(&mem, r, NULL);
			match_rows(&mem, kernels[3], r); /* the reason as a behaviours list */
			for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++)
				if (!oracle_version_ge(r, kernels[k]) &&
				    !oracle_version_ge(kernels[k], r))
					abort(); /* a total order: one of the two holds */
		}
		oracle_free(&mem);
	}
	free(text);
	return 0;
}
