/* Unit test runner: every suite, CUnit's basic interface, non-zero exit on any failure. */
#include "tests.h"

#include <CUnit/Basic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ref_dir = "pcaps/ref";

const char *ref_path(const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", ref_dir, name);
	return buf;
}

CU_pSuite suite_add(const char *name)
{
	CU_pSuite s = CU_add_suite(name, NULL, NULL);

	if (!s) {
		fprintf(stderr, "cannot add suite %s: %s\n", name, CU_get_error_msg());
		exit(2);
	}
	return s;
}

void test_add(CU_pSuite s, const char *name, CU_TestFunc fn)
{
	if (!CU_add_test(s, name, fn)) {
		fprintf(stderr, "cannot add test %s: %s\n", name, CU_get_error_msg());
		exit(2);
	}
}

int main(void)
{
	static char dir[PATH_MAX];
	const char *top = getenv("CTR_TOP");
	unsigned failed;

	if (top) {
		snprintf(dir, sizeof(dir), "%s/pcaps/ref", top);
		ref_dir = dir;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	register_addr_tests();
	register_seq_tests();
	register_pkt_tests();
	register_craft_tests();
	register_learn_tests();
	register_kv_tests();
	register_verdict_tests();
	register_ctwin_tests();
	register_svcmap_tests();
	register_pcapfile_tests();
	register_analyse_tests();
	register_report_tests();
	register_fuzz_regress_tests();
	register_capture_tests();
	register_stats_tests();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_suites_failed())
		failed++;
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
