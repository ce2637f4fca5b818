#include "live/batch.h"
#include "review/cell.h"
#include "tests.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* LEN bytes of S split (a copy: batch_list_split takes its buffer); its return */
static int split(struct batch_list *l, const char *s, size_t len, char **err)
{
	char *buf = malloc(len ? len : 1);

	if (!buf)
		return -1;
	memcpy(buf, s, len);
	return batch_list_split(l, buf, len, err);
}

/* NUL-separated words, a cell ended by an empty word; a word may hold spaces and '=' */
static void list_cells_and_words(void)
{
	static const char two[] = "--out\0/a\0--meta\0k=v w\0\0--out\0/b\0\0";
	struct batch_list l;
	char *err = NULL;

	CU_ASSERT_EQUAL_FATAL(split(&l, two, sizeof(two) - 1, &err), 0);
	CU_ASSERT_EQUAL(l.n_cells, 2);
	CU_ASSERT_EQUAL(l.n_words[0], 4);
	CU_ASSERT_EQUAL(l.n_words[1], 2);
	CU_ASSERT_STRING_EQUAL(l.cells[0][3], "k=v w");
	CU_ASSERT_STRING_EQUAL(l.cells[1][1], "/b");
	CU_ASSERT_PTR_NULL(l.cells[0][4]);
	CU_ASSERT_PTR_NULL(l.cells[1][2]);
	batch_list_free(&l);
}

/* what cannot be run says why */
static void list_refused(void)
{
	static const struct {
		const char *s;
		size_t len;
		const char *why;
	} bad[] = {
	    {"", 0, "no cell in the list"},
	    {"--out\0/a", 8, "the list's last word is not ended by a NUL"},
	    {"--out\0/a\0", 9, "cell 1 is not ended by an empty word"},
	    {"--out\0/a\0\0\0", 11, "cell 2 has no word (two empty words in a row)"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct batch_list l;
		char *err = NULL;

		CU_ASSERT_EQUAL(split(&l, bad[i].s, bad[i].len, &err), -1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(err);
		CU_ASSERT_STRING_EQUAL(err, bad[i].why);
		free(err);
		batch_list_free(&l);
	}
}

/* a cell whose child was killed and left nothing: its killed line, the meta.kv the batch
 * knows, an undecided failed record naming the kill */
static void killed_cell_finished(void)
{
	char dir[] = "/tmp/ctr-unit-batch-XXXXXX", path[512], line[256], *text = NULL;
	const char *meta[] = {"scenario=x/y", "trigger=seq-above"};
	struct batch_cell c = {.meta = meta,
			       .n_meta = 2,
			       .t0_ms = 1000,
			       .has_server = true,
			       .review = review_cell_files};
	FILE *f;
	long n;
	int errfd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	c.out = dir;
	errfd = memfd_create("t", 0);
	CU_ASSERT_FATAL(errfd >= 0);
	CU_ASSERT_EQUAL(write(errfd, "its last words\n", 15), 15);
	CU_ASSERT_EQUAL(batch_cell_finish(&c, SIGKILL, errfd, 1040, 1100), 128 + SIGKILL);
	batch_killed_line(line, sizeof(line), SIGKILL);
	CU_ASSERT_STRING_EQUAL(line, "ctreset-inject was killed by signal 9 (SIGKILL) mid-cell: no "
				     "record of the event");
	snprintf(path, sizeof(path), "%s/error", dir);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	text = calloc(1, 4096);
	n = (long)fread(text, 1, 4095, f);
	fclose(f);
	CU_ASSERT(n > 0);
	/* the kill first, the missing server record, the review's words, the child's */
	CU_ASSERT_EQUAL(strncmp(text, line, strlen(line)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nserver left no record\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "its last words\n"));
	free(text);
	snprintf(path, sizeof(path), "%s/meta.kv", dir);
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "grep -qx status=fail '%s/record.kv'", dir);
	CU_ASSERT_EQUAL(system(path), 0);
	snprintf(path, sizeof(path), "grep -qx 'scenario=x/y' '%s/meta.kv'", dir);
	CU_ASSERT_EQUAL(system(path), 0);
	close(errfd);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(path), 0);
}

void register_batch_tests(void)
{
	CU_pSuite s = suite_add("batch");

	test_add(s, "--cells list: NUL-separated words, a cell ended by an empty one",
		 list_cells_and_words);
	test_add(s, "--cells list: what cannot be run says why", list_refused);
	test_add(s, "a killed cell finished: its line, meta.kv, a failed record",
		 killed_cell_finished);
}
