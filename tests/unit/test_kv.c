#include "base/kv.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

static void parse_pairs(void)
{
	struct kv kv;
	char *err = NULL;

	CU_ASSERT_EQUAL_FATAL(kv_parse("# comment\na=1\n\nreason=x=y z\r\na=2", &kv, &err), 0);
	CU_ASSERT_EQUAL(kv.n, 3u);
	CU_ASSERT_STRING_EQUAL(kv_get(&kv, "a"), "2"); /* the last one wins */
	CU_ASSERT_STRING_EQUAL(kv_get(&kv, "reason"), "x=y z");
	CU_ASSERT_PTR_NULL(kv_get(&kv, "missing"));
	kv_free(&kv);
}

static void reject_bad_lines(void)
{
	struct kv kv;
	char *err = NULL;

	CU_ASSERT_EQUAL(kv_parse("a=1\nno equals sign\n", &kv, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));
	free(err);
	err = NULL;
	CU_ASSERT_EQUAL(kv_parse("=value\n", &kv, &err), -1);
	free(err);
}

static void write_refuses_injection(void)
{
	char buf[64] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	CU_ASSERT_EQUAL(kv_write(f, "k", "v"), 0);
	CU_ASSERT_EQUAL(kv_write(f, "k", "v\nforged=1"), -1);
	CU_ASSERT_EQUAL(kv_write(f, "k=x", "v"), -1);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "k=v\n");
}

void register_kv_tests(void)
{
	CU_pSuite s = suite_add("kv");

	test_add(s, "parse pairs, comments, CRLF, last wins", parse_pairs);
	test_add(s, "reject lines without a key", reject_bad_lines);
	test_add(s, "writing refuses forged pairs", write_refuses_injection);
}
