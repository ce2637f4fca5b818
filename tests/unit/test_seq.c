#include "base/seq.h"
#include "tests.h"

static void compare_across_wrap(void)
{
	CU_ASSERT_TRUE(seq_before(0xfffffff0u, 0x10u));
	CU_ASSERT_TRUE(seq_after(0x10u, 0xfffffff0u));
	CU_ASSERT_FALSE(seq_before(5, 5));
	CU_ASSERT_FALSE(seq_after(5, 5));
	CU_ASSERT_EQUAL(seq_max(0xffffff00u, 0x100u), 0x100u);
	CU_ASSERT_EQUAL(seq_diff(0xffffff00u, 0x100u), 0x200);
	CU_ASSERT_EQUAL(seq_diff(0x100u, 0xffffff00u), -0x200);
	/* half the circle apart: 'before' flips exactly at 2^31 */
	CU_ASSERT_TRUE(seq_before(0, 0x7fffffffu));
	CU_ASSERT_FALSE(seq_before(0, 0x80000001u));
}

static void window_scaling(void)
{
	CU_ASSERT_EQUAL(win_scaled(64, 10), 65536u);
	CU_ASSERT_EQUAL(win_scaled(65535, 0), 65535u);
	CU_ASSERT_EQUAL(win_scaled(100, -1), 100u);
	/* RFC 7323 caps the shift at 14 */
	CU_ASSERT_EQUAL(win_scaled(1, 20), 1u << 14);
	CU_ASSERT_EQUAL(win_scaled(65535, 14), 65535u << 14);
}

void register_seq_tests(void)
{
	CU_pSuite s = suite_add("seq");

	test_add(s, "before/after/max/diff across 2^32", compare_across_wrap);
	test_add(s, "window scale arithmetic", window_scaling);
}
