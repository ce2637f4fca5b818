/* The shard split (shard.h): nothing here depends on the machine, the locale or a hash
 * seed - the same selection and cost table give the same shards everywhere. */
#include "shard.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a decimal number 0..max, nothing else (no sign, no space, no hex) */
static int number(const char *s, size_t len, unsigned long max, unsigned long *v)
{
	unsigned long n = 0;

	if (!len || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n > max)
		return -1;
	*v = n;
	return 0;
}

int shard_parse(const char *s, struct shard_spec *out, char **err)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	unsigned long i, n;

	if (!slash || number(s, (size_t)(slash - s), SHARD_MAX, &i) < 0 ||
	    number(slash + 1, strlen(slash + 1), SHARD_MAX, &n) < 0 || i < 1 || n < 1 || i > n)
		return err_set(err, "a shard is I/N, 1 <= I <= N <= %d (1-based), not '%s'",
			       SHARD_MAX, s ? s : "");
	out->index = (unsigned)i;
	out->total = (unsigned)n;
	return 0;
}

int shard_resolve(const char *cmdline, const char *ctr_shard, const char *job_index,
		  const char *job_total, struct shard_spec *out, const char **source, char **err)
{
	unsigned long k, n;

	out->index = out->total = 1;
	*source = NULL;
	if (cmdline) {
		*source = "--shard";
		return shard_parse(cmdline, out, err);
	}
	if (ctr_shard && *ctr_shard) {
		*source = "CTR_SHARD";
		if (shard_parse(ctr_shard, out, err) < 0)
			return err_wrap(err, "CTR_SHARD");
		return 0;
	}
	if (!(job_index && *job_index) && !(job_total && *job_total))
		return 0;
	if (!(job_index && *job_index))
		return err_set(err, "CTR_SHARD_TOTAL=%s is set without JOB_COMPLETION_INDEX",
			       job_total);
	if (!(job_total && *job_total))
		return err_set(err,
			       "JOB_COMPLETION_INDEX=%s is set without CTR_SHARD_TOTAL (the "
			       "Indexed Job's completions): set it, or CTR_SHARD=1/1 to run the "
			       "whole selection",
			       job_index);
	if (number(job_total, strlen(job_total), SHARD_MAX, &n) < 0 || n < 1)
		return err_set(err, "CTR_SHARD_TOTAL is 1 to %d, not '%s'", SHARD_MAX, job_total);
	if (number(job_index, strlen(job_index), SHARD_MAX, &k) < 0 || k >= n)
		return err_set(err,
			       "JOB_COMPLETION_INDEX is 0 to %lu (CTR_SHARD_TOTAL=%lu), not '%s'",
			       n - 1, n, job_index);
	*source = "JOB_COMPLETION_INDEX";
	out->index = (unsigned)k + 1;
	out->total = (unsigned)n;
	return 0;
}

static int costs_check(struct shard_costs *c, char **err)
{
	const char *names[] = {"cell.default", "group"};
	unsigned long *dst[] = {&c->dflt, &c->group};

	for (int i = 0; i < 2; i++) {
		const char *v = kv_get(&c->kv, names[i]);

		if (!v || number(v, strlen(v), 100000000UL, dst[i]) < 0) {
			kv_free(&c->kv);
			return err_set(err, "the cost table needs %s=MS (milliseconds)", names[i]);
		}
	}
	for (size_t i = 0; i < c->kv.n; i++) {
		unsigned long v;
		const char *val = c->kv.pairs[i].value;

		if (number(val, strlen(val), 100000000UL, &v) < 0) {
			int rc = err_set(err, "the cost table's %s is not milliseconds: '%s'",
					 c->kv.pairs[i].key, val);

			kv_free(&c->kv);
			return rc;
		}
	}
	return 0;
}

int shard_costs_parse(const char *text, struct shard_costs *c, char **err)
{
	memset(c, 0, sizeof(*c));
	if (kv_parse(text, &c->kv, err) < 0)
		return -1;
	return costs_check(c, err);
}

int shard_costs_load(const char *path, struct shard_costs *c, char **err)
{
	memset(c, 0, sizeof(*c));
	if (kv_load(path, &c->kv, err) < 0)
		return -1;
	if (costs_check(c, err) < 0)
		return err_wrap(err, "%s", path);
	return 0;
}

void shard_costs_free(struct shard_costs *c)
{
	kv_free(&c->kv);
	memset(c, 0, sizeof(*c));
}

void shard_cell_trigger(const char *id, char *buf, size_t n)
{
	const char *s = strrchr(id, '/');
	size_t len;

	s = s ? s + 1 : id;
	len = strcspn(s, "+");
	snprintf(buf, n, "%.*s", (int)len, s);
}

unsigned long shard_group_cost(const struct shard_costs *c, const char *const *ids, size_t n)
{
	unsigned long sum = c->group;

	for (size_t i = 0; i < n; i++) {
		char t[128], key[160];
		const char *v;

		shard_cell_trigger(ids[i], t, sizeof(t));
		snprintf(key, sizeof(key), "cell.%s", t);
		v = kv_get(&c->kv, key);
		sum += v ? strtoul(v, NULL, 10) : c->dflt;
	}
	return sum;
}

struct order {
	const unsigned long *cost;
	const char *const *key;
};

/* qsort_r's comparison: the dearest first; on a tie the key in byte order (strcmp: no
 * locale), then the index (two groups with one key: still a total order) */
static int by_cost(const void *a, const void *b, void *arg)
{
	const struct order *o = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int k;

	if (o->cost[i] != o->cost[j])
		return o->cost[i] > o->cost[j] ? -1 : 1;
	k = strcmp(o->key[i], o->key[j]);
	if (k)
		return k;
	return i < j ? -1 : i > j;
}

int shard_split(const unsigned long *cost, const char *const *key, size_t n, unsigned total,
		unsigned *assign, char **err)
{
	struct order o = {cost, key};
	unsigned long long *load;
	size_t *idx;

	if (total < 1)
		return err_set(err, "a split into 0 shards");
	idx = malloc((n ? n : 1) * sizeof(*idx));
	load = calloc(total, sizeof(*load));
	if (!idx || !load) {
		free(idx);
		free(load);
		return err_set(err, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), by_cost, &o);
	for (size_t i = 0; i < n; i++) {
		unsigned best = 0;

		for (unsigned s = 1; s < total; s++)
			if (load[s] < load[best])
				best = s;
		assign[idx[i]] = best;
		load[best] += cost[idx[i]];
	}
	free(idx);
	free(load);
	return 0;
}

unsigned long long shard_fnv(unsigned long long h, const void *p, size_t len)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int shard_selection_hash(const char *const *ids, size_t n, char *out, size_t len)
{
	const char **sorted = malloc((n ? n : 1) * sizeof(*sorted));
	unsigned long long h = SHARD_FNV_OFFSET;

	if (!sorted)
		return -1;
	memcpy(sorted, ids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_str);
	for (size_t i = 0; i < n; i++) {
		h = shard_fnv(h, sorted[i], strlen(sorted[i]));
		h = shard_fnv(h, "\n", 1);
	}
	free(sorted);
	snprintf(out, len, "fnv1a64:%016llx", h);
	return 0;
}
