/* CUnit suites: each tests/unit/test_<module>.c registers its suite through one function
 * listed here and called from main.c. */
#ifndef CTR_TESTS_H
#define CTR_TESTS_H

#include <CUnit/CUnit.h>

/* Directory of the committed reference captures (pcaps/ref), set by main from CTR_TOP. */
extern const char *ref_dir;

/* ref_path("reset") -> "<ref_dir>/reset"; a static buffer, valid until the next call */
const char *ref_path(const char *name);

void register_addr_tests(void);
void register_seq_tests(void);
void register_pkt_tests(void);
void register_craft_tests(void);
void register_learn_tests(void);
void register_kv_tests(void);
void register_verdict_tests(void);
void register_ctwin_tests(void);
void register_svcmap_tests(void);
void register_pcapfile_tests(void);
void register_analyse_tests(void);
void register_report_tests(void);
void register_fuzz_regress_tests(void);
void register_capture_tests(void);
void register_stats_tests(void);

/* adds a suite or aborts the run: a suite that cannot register must not pass silently */
CU_pSuite suite_add(const char *name);
void test_add(CU_pSuite s, const char *name, CU_TestFunc fn);

#endif
