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
void register_trigger_tests(void);
void register_kv_tests(void);
void register_cellmeta_tests(void);
void register_batch_tests(void);
void register_verdict_tests(void);
void register_ctwin_tests(void);
void register_svcmap_tests(void);
void register_pcapfile_tests(void);
void register_analyse_tests(void);
void register_report_tests(void);
void register_fuzz_regress_tests(void);
void register_capture_tests(void);
void register_stats_tests(void);
void register_record_tests(void);
void register_advise_tests(void);
void register_live_tests(void);
void register_audit_tests(void);
void register_shard_tests(void);
void register_counters_tests(void);
void register_ctevents_tests(void);

/* adds a suite or aborts the run: a suite that cannot register must not pass silently */
CU_pSuite suite_add(const char *name);
void test_add(CU_pSuite s, const char *name, CU_TestFunc fn);

/* Registers a test that cannot run here as skipped: CUnit 2.1 has no skip, so it is added
 * inactive (CUnit's summary counts it under "Inactive", never under "Passed") and main
 * prints "SKIP: SUITE: NAME: WHY" and counts it in its closing line. */
void test_skip(CU_pSuite s, const char *name, CU_TestFunc fn, const char *why);

/* Parses LEN bytes of BUF with a real parser: ARGV[0] is run with the text on its
 * standard input (e.g. {"jq", "-e", ".", NULL} or {"xmllint", "--noout", "-", NULL}).
 * Returns its exit status, 127 when it cannot be run; its messages go to stderr. */
int parse_with(const char *const argv[], const char *buf, size_t len);

#endif
