/* A bench cell's meta.kv, written once (cellmeta.h). */
#include "live/cellmeta.h"

#include "base/err.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t cellmeta_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cellmeta_give(struct cellmeta *m, const char *line, char **err)
{
	const char *eq = strchr(line, '=');

	if (!eq || eq == line || strchr(line, '\n'))
		return err_set(err, "--meta takes KEY=VALUE (one line, KEY not empty)");
	if (m->n_given == CELLMETA_MAX_LINES)
		return err_set(err, "too many --meta (at most %d)", CELLMETA_MAX_LINES);
	m->given[m->n_given++] = line;
	return 0;
}

int cellmeta_add_fact(struct cellmeta *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (m->n_facts == CELLMETA_MAX_LINES)
		return -1;
	va_start(ap, fmt);
	n = vasprintf(&m->facts[m->n_facts], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	m->n_facts++;
	return 0;
}

int cellmeta_write(const struct cellmeta *m, const char *dir, const struct cellmeta_times *t,
		   char **err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s/meta.kv", dir);
	snprintf(tmp, sizeof(tmp), "%s/.meta.kv.tmp", dir);
	f = fopen(tmp, "we");
	if (!f)
		return err_errno(err, errno, "%s", tmp);
	for (int i = 0; i < m->n_given; i++)
		fprintf(f, "%s\n", m->given[i]);
	for (int i = 0; i < m->n_facts; i++)
		fprintf(f, "%s\n", m->facts[i]);
	fprintf(f,
		"time.setup_ms=%" PRId64 "\ntime.inject_ms=%" PRId64 "\ntime.collect_ms=%" PRId64
		"\ntime.teardown_ms=0\nduration_ms=%" PRId64 "\n",
		(int64_t)(t->start - m->t0_ms), (int64_t)(t->inject - t->start),
		(int64_t)(t->end - t->inject), (int64_t)(t->end - m->t0_ms));
	bad = ferror(f);
	if ((fclose(f) | bad) != 0 || rename(tmp, path) < 0) {
		int e = errno;

		remove(tmp);
		return err_errno(err, e, "%s", path);
	}
	return 0;
}

int cellmeta_append(const char *dir, const char *key, uint64_t value, char **err)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/meta.kv", dir);
	f = fopen(path, "ae");
	if (!f)
		return err_errno(err, errno, "%s", path);
	fprintf(f, "%s=%" PRIu64 "\n", key, value);
	if (fclose(f) != 0)
		return err_errno(err, errno, "%s", path);
	return 0;
}

void cellmeta_free(struct cellmeta *m)
{
	for (int i = 0; i < m->n_facts; i++)
		free(m->facts[i]);
	m->n_facts = 0;
}
