/* stats: nearest-rank percentiles, as bench/soak's awk computes them too. */
#include "base/stats.h"
#include "tests.h"

static void percentiles(void)
{
	uint64_t v[] = {50, 10, 40, 20, 30, 60, 70, 80, 90, 100};

	stats_sort(v, 10);
	CU_ASSERT_EQUAL(v[0], 10);
	CU_ASSERT_EQUAL(v[9], 100);
	CU_ASSERT_EQUAL(stats_percentile(v, 10, 50), 50);
	CU_ASSERT_EQUAL(stats_percentile(v, 10, 90), 90);
	CU_ASSERT_EQUAL(stats_percentile(v, 10, 99), 100);
	CU_ASSERT_EQUAL(stats_percentile(v, 10, 100), 100);
	CU_ASSERT_EQUAL(stats_percentile(v, 10, 1), 10);
	CU_ASSERT_EQUAL(stats_percentile(v, 1, 50), 10);
	CU_ASSERT_EQUAL(stats_percentile(v, 0, 50), 0);
}

static void odd_counts(void)
{
	uint64_t v[] = {3, 1, 2};

	stats_sort(v, 3);
	CU_ASSERT_EQUAL(stats_percentile(v, 3, 50), 2); /* the median of three */
	CU_ASSERT_EQUAL(stats_percentile(v, 3, 34), 2);
	CU_ASSERT_EQUAL(stats_percentile(v, 3, 33), 1);
}

void register_stats_tests(void)
{
	CU_pSuite s = suite_add("stats");

	test_add(s, "nearest-rank percentiles of ten values", percentiles);
	test_add(s, "the median of an odd count is its middle value", odd_counts);
}
