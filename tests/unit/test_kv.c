#include "base/file.h"
#include "base/kv.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* found by fuzz_kv (tests/fuzz/regress/kv/last-line-cr): a last line ending in '\r' without
 * '\n' was read again forever, so kv_load hung on such a file. The alarm turns a hang
 * back into a failed run. */
static void last_line_cr(void)
{
	struct kv kv;

	alarm(10);
	CU_ASSERT_EQUAL_FATAL(kv_parse("a=b\r", &kv, NULL), 0);
	CU_ASSERT_EQUAL(kv.n, 1);
	CU_ASSERT_STRING_EQUAL(kv.pairs[0].value, "b");
	kv_free(&kv);
	CU_ASSERT_EQUAL_FATAL(kv_parse("k=\n\r", &kv, NULL), 0);
	CU_ASSERT_EQUAL(kv.n, 1);
	kv_free(&kv);
	alarm(0);
}

/* the one reader of whole files (kv_load, oracle_load, the audit's dumps): a file past the
 * bound is an error, never cut short (oracle_load used to stop at 4 MiB without a word) */
static void file_read_bounds(void)
{
	char path[] = "/tmp/ctr-unit-file-XXXXXX", *text = NULL, *err = NULL;
	int fd = mkstemp(path);
	size_t n = 0;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, "0123456789", 10), 10);
	close(fd);
	CU_ASSERT_EQUAL(file_read(path, 10, &text, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT_STRING_EQUAL(text, "0123456789");
	free(text);
	CU_ASSERT_EQUAL(file_read(path, 9, &text, &n, &err), -1);
	CU_ASSERT_PTR_NULL(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "larger than 9 bytes"));
	free(err);
	err = NULL;
	unlink(path);
	CU_ASSERT_EQUAL(file_read(path, 9, &text, &n, &err), 1);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_EQUAL(kv_load(path, &(struct kv){0}, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err);
	free(err);
}

void register_kv_tests(void)
{
	CU_pSuite s = suite_add("kv");

	test_add(s, "parse pairs, comments, CRLF, last wins", parse_pairs);
	test_add(s, "reject lines without a key", reject_bad_lines);
	test_add(s, "writing refuses forged pairs", write_refuses_injection);
	test_add(s, "a last line ending in CR without LF ends", last_line_cr);
	test_add(s, "whole files: past the bound an error, a missing one 1", file_read_bounds);
}
