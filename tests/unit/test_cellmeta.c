#include "base/file.h"
#include "base/kv.h"
#include "live/cellmeta.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 when PATH holds exactly TEXT */
static int file_read_all_eq(const char *path, const char *text)
{
	char *got = NULL;
	int same;

	if (file_read(path, 1u << 16, &got, NULL, NULL) != 0)
		return 0;
	same = !strcmp(got, text);
	if (!same)
		fprintf(stderr, "%s:\n%s", path, got);
	free(got);
	return same;
}

/* meta.kv: the given lines, the facts the modules added (the counters' drop.NS lines),
 * the times, each once; time.verdict_ms appended after */
static void meta_written_once_with_the_facts(void)
{
	char dir[] = "/tmp/ctr-unit-cellmeta-XXXXXX", path[256], *err = NULL;
	struct cellmeta m = {.t0_ms = 1000};
	struct cellmeta_times t = {.start = 1040, .inject = 1140, .end = 1141};
	struct kv kv;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL(cellmeta_give(&m, "scenario=x/y", &err), 0);
	CU_ASSERT_EQUAL(cellmeta_give(&m, "behaviours=", &err), 0);
	CU_ASSERT_EQUAL(cellmeta_give(&m, "=nokey", &err), -1);
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(cellmeta_give(&m, "a=b\nc=d", &err), -1);
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(cellmeta_add_fact(&m, "drop.%s=%d", "nodeB", 5), 0);
	CU_ASSERT_EQUAL(cellmeta_add_fact(&m, "drop.%s=%d", "nodeA", 7), 0);
	CU_ASSERT_EQUAL_FATAL(cellmeta_write(&m, dir, &t, &err), 0);
	CU_ASSERT_EQUAL(cellmeta_append(dir, "time.verdict_ms", 3, &err), 0);
	snprintf(path, sizeof(path), "%s/meta.kv", dir);
	CU_ASSERT_EQUAL(file_read_all_eq(path, "scenario=x/y\nbehaviours=\ndrop.nodeB=5\n"
					       "drop.nodeA=7\ntime.setup_ms=40\n"
					       "time.inject_ms=100\ntime.collect_ms=1\n"
					       "time.teardown_ms=0\nduration_ms=141\n"
					       "time.verdict_ms=3\n"),
			1);
	CU_ASSERT_EQUAL(kv_load(path, &kv, &err), 0);
	kv_free(&kv);
	cellmeta_free(&m);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(path), 0);
}

void register_cellmeta_tests(void)
{
	CU_pSuite s = suite_add("cellmeta");

	test_add(s, "meta.kv written once: given lines, the modules' facts, times",
		 meta_written_once_with_the_facts);
}
