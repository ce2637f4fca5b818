#include "stats.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void stats_sort(uint64_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u64);
}

uint64_t stats_percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
	size_t rank;

	if (!n)
		return 0;
	if (pct > 100)
		pct = 100;
	rank = ((size_t)pct * n + 99) / 100; /* ceil(pct/100 * n), 1-based */
	return sorted[rank ? rank - 1 : 0];
}
