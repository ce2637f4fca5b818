/* Order statistics of measured values (bench figures). */
#ifndef CTR_STATS_H
#define CTR_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Sorts v[0..n) ascending, in place. */
void stats_sort(uint64_t *v, size_t n);

/* The nearest-rank percentile pct (1..100) of sorted v[0..n): the smallest value with at
 * least pct% of the values at or below it. 0 when n is 0. */
uint64_t stats_percentile(const uint64_t *sorted, size_t n, unsigned pct);

#endif
