/* The workaround rule's counters from OUT/after.NS (aftercount.h). */
#include "live/aftercount.h"

#include "base/err.h"
#include "base/file.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int aftercount_parse_spec(struct aftercount *a, const char *spec, char **err)
{
	if (!strcmp(spec, "nft")) {
		a->kind = AFTERCOUNT_NFT;
	} else if (!strncmp(spec, "ipt:", 4) && spec[4] && !strchr(spec + 4, ' ')) {
		a->kind = AFTERCOUNT_IPT;
		a->chain = spec + 4;
	} else {
		return err_set(err, "--count-parse takes ipt:CHAIN or nft");
	}
	return 0;
}

static bool is_count(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int aftercount_add_before(struct aftercount *a, const char *arg, char **err)
{
	const char *eq = strchr(arg, '=');
	size_t kl = eq ? (size_t)(eq - arg) : 0;

	if (!eq || !kl || (strcmp(eq + 1, "-") && !is_count(eq + 1)) ||
	    strlen(eq + 1) >= sizeof(a->before[0]))
		return err_set(err, "--count-before takes NS=COUNT or NS=-");
	if (a->n == AFTERCOUNT_MAX_NS)
		return err_set(err, "too many --count-before (at most %d)", AFTERCOUNT_MAX_NS);
	a->ns[a->n] = strndup(arg, kl);
	if (!a->ns[a->n])
		return err_set(err, "out of memory");
	snprintf(a->before[a->n++], sizeof(a->before[0]), "%s", eq + 1);
	return 0;
}

/* s contains a, then b after it, then c after that */
static bool in_order(const char *s, const char *x, const char *y, const char *z)
{
	return (s = strstr(s, x)) && (s = strstr(s + strlen(x), y)) &&
	       strstr(s + strlen(y), z) != NULL;
}

/* one line, as bash's `read -r` gives it to the parsers: blanks at both ends dropped */
static void count_line(const struct aftercount *a, char *line, char *out, size_t n)
{
	char *p, *e;

	while (*line == ' ' || *line == '\t')
		line++;
	e = line + strlen(line);
	while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	if (a->kind == AFTERCOUNT_IPT) {
		char head[512];

		/* "[PKTS:BYTES] -A CHAIN ... --ctstate INVALID ... -j DROP" */
		snprintf(head, sizeof(head), "-A %s ", a->chain);
		if (line[0] != '[' || !in_order(line + 1, head, "--ctstate INVALID", "-j DROP"))
			return;
		p = line + 1;
		e = strchr(p, ']');
		if (e)
			*e = 0;
		e = strchr(p, ':');
		if (e)
			*e = 0;
		snprintf(out, n, "%s", p);
	} else if ((p = strstr(line, "ct state invalid counter packets "))) {
		p += strlen("ct state invalid counter packets ");
		e = strchr(p, ' ');
		if (e)
			*e = 0;
		snprintf(out, n, "%s", p);
	}
}

void aftercount_read(const struct aftercount *a, const char *text, char *out, size_t n)
{
	char *copy = strdup(text), *save = NULL;

	snprintf(out, n, "-");
	if (!copy)
		return;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		count_line(a, line, out, n);
	free(copy);
}

int aftercount_collect(const struct aftercount *a, const char *out_dir, struct cellmeta *m,
		       char **err)
{
	char after[AFTERCOUNT_MAX_NS][24];
	FILE *f = NULL;
	int rc = 0;

	for (int i = 0; i < a->n; i++) {
		char path[PATH_MAX], *text = NULL;

		snprintf(after[i], sizeof(after[i]), "-");
		snprintf(path, sizeof(path), "%s/after.%s", out_dir, a->ns[i]);
		if (a->kind != AFTERCOUNT_NONE && file_read(path, 1u << 24, &text, NULL, NULL) == 0)
			aftercount_read(a, text, after[i], sizeof(after[i]));
		free(text);
		if (!strcmp(after[i], "-"))
			continue;
		if (!strcmp(a->before[i], "-"))
			cellmeta_add_fact(m, "drop.%s=%s", a->ns[i], after[i]);
		else
			cellmeta_add_fact(m, "drop.%s=%" PRId64, a->ns[i],
					  (int64_t)(strtoull(after[i], NULL, 10) -
						    strtoull(a->before[i], NULL, 10)));
	}
	if (!a->state)
		return 0;
	f = fopen(a->state, "we");
	if (!f)
		return err_errno(err, errno, "%s", a->state);
	for (int i = 0; i < a->n; i++)
		fprintf(f, "%s=%s\n", a->ns[i], after[i]);
	if (fclose(f) != 0)
		rc = err_errno(err, errno, "%s", a->state);
	return rc;
}
