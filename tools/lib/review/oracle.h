/* The oracle (bench/matrix.expect): the verdict each bench cell should have on a kernel,
 * and why. The one place that matches a cell against it, for bench/repro and bench/matrix. */
#ifndef CTR_ORACLE_H
#define CTR_ORACLE_H

#include <stddef.h>

/* one row: five patterns (a value, alternatives joined by '|', or '*'), the expectation
 * (VERDICT or VERDICT@RANGE,...; RANGE is +NAME or -NAME, a behaviour (behaviour.h)
 * present or absent, or <X.Y or >=X.Y on the release) and its reason */
struct oracle_row {
	char *col[5]; /* trigger, workaround, topology, backend, family */
	char *spec, *reason;
};

struct oracle {
	char *name; /* the file's base name, for "no row of NAME matches" */
	struct oracle_row *rows;
	size_t n;
};

/* The cell a row is matched against; family is "4" or "6" (an "ipv" prefix is dropped). */
struct oracle_cell {
	const char *trigger, *workaround, *topology, *backend, *family;
};

/* Loads path (tab-separated rows; '#' and blank lines skipped). 0, or -1 with *err (also
 * for a file without a row, or a row without its seven columns). */
int oracle_load(const char *path, struct oracle *o, char **err);

/* Parses text as oracle_load does a file's; name is what messages call it. */
int oracle_parse(const char *text, const char *name, struct oracle *o, char **err);

void oracle_free(struct oracle *o);

/* The expectation of the FIRST row whose patterns all match cell, on kernel (release
 * X.Y[...]) with behaviours (a list, behaviour.h; NULL or "": none probed, the release
 * decides): *expected is its verdict ("" when no row matches or no range holds) and
 * reason why (the row's reason, with "[behaviour NAME present|absent, probed|from the
 * release number ...]" when a behaviour decided; or which of the two is missing),
 * written to the buffers given. 0, or -1 with *err for a malformed range in the
 * matching row or a malformed behaviours list. */
int oracle_expect(const struct oracle *o, const struct oracle_cell *cell, const char *kernel,
		  const char *behaviours, char *expected, size_t elen, char *reason, size_t rlen,
		  char **err);

/* The verdict spec expects on kernel with behaviours, "" when no entry's range holds
 * (written to out). 0, or -1 with *err on a range that is none of +NAME, -NAME, <X.Y,
 * >=X.Y, an unknown behaviour or a malformed list. */
int oracle_spec_eval(const char *spec, const char *kernel, const char *behaviours, char *out,
		     size_t n, char **err);

/* a >= b for kernel versions X.Y[.Z...] (major and minor only; unparsable is 0.0) */
int oracle_version_ge(const char *a, const char *b);

#endif
