/* Unit test runner: every suite, CUnit's basic interface, non-zero exit on any failure.
 * Its last line is the summary CI reads: "unit: N passed, N failed, N skipped". */
#include "tests.h"

#include <CUnit/Basic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

#define MAX_SKIPS 16
static struct {
	const char *suite, *name, *why;
} skips[MAX_SKIPS];
static unsigned nskips;

void test_skip(CU_pSuite s, const char *name, CU_TestFunc fn, const char *why)
{
	CU_pTest t = CU_add_test(s, name, fn);

	if (!t || nskips == MAX_SKIPS || CU_set_test_active(t, CU_FALSE) != CUE_SUCCESS) {
		fprintf(stderr, "cannot add skipped test %s\n", name);
		exit(2);
	}
	skips[nskips].suite = s->pName;
	skips[nskips].name = name;
	skips[nskips].why = why;
	nskips++;
}

int parse_with(const char *const argv[], const char *buf, size_t len)
{
	int in[2], status;
	pid_t pid;

	fflush(NULL);
	if (pipe(in) < 0)
		return 127;
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return 127;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[0]);
		close(in[1]);
		/* the parser's verdict is its exit status; its output is not wanted */
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s (jq and xmllint: 'sudo make deps')\n", argv[0]);
		_exit(127);
	}
	close(in[0]);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(in[1], buf + off, len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(in[1]);
	if (waitpid(pid, &status, 0) < 0)
		return 127;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(void)
{
	static char dir[PATH_MAX];
	const char *top = getenv("CTR_TOP");
	unsigned failed, run, tests_failed;

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
	register_trigger_tests();
	register_kv_tests();
	register_cellmeta_tests();
	register_batch_tests();
	register_verdict_tests();
	register_ctwin_tests();
	register_svcmap_tests();
	register_pcapfile_tests();
	register_analyse_tests();
	register_report_tests();
	register_fuzz_regress_tests();
	register_capture_tests();
	register_stats_tests();
	register_record_tests();
	register_advise_tests();
	register_live_tests();
	register_audit_tests();
	register_shard_tests();
	register_counters_tests();
	register_ctevents_tests();
	/* a skipped test is inactive: reported as such, not as a failure nor a pass */
	CU_set_fail_on_inactive(CU_FALSE);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	tests_failed = CU_get_number_of_tests_failed();
	failed = CU_get_number_of_failures() + tests_failed;
	if (CU_get_number_of_suites_failed())
		failed++;
	printf("\n");
	for (unsigned i = 0; i < nskips; i++) /* before the cleanup frees the suites' names */
		printf("SKIP: %s: %s: %s\n", skips[i].suite, skips[i].name, skips[i].why);
	CU_cleanup_registry();
	printf("unit: %u passed, %u failed, %u skipped\n", run - tests_failed, tests_failed,
	       nskips);
	return failed ? 1 : 0;
}
