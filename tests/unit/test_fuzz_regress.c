/* Every input under tests/fuzz/regress/ (crashers the fuzzer found, and the edge cases
 * seeded by hand) runs through decoding, the analysis and every report again. What it
 * guards shows under `make unit-san`: a sanitizer report fails the run. */
#include "entry.h"
#include "tests.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void replay(void)
{
	char dir[PATH_MAX];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/../../tests/fuzz/regress", ref_dir);
	d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d))) {
		char path[PATH_MAX + 256];
		static uint8_t buf[1 << 20];
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		CU_ASSERT_PTR_NOT_NULL(f);
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		CU_ASSERT_EQUAL(fuzz_review_one(buf, len), 0);
		n++;
	}
	closedir(d);
	CU_ASSERT_TRUE(n >= 8); /* the corpus is there, not silently empty */
}

void register_fuzz_regress_tests(void)
{
	CU_pSuite s = suite_add("fuzz regressions");

	test_add(s, "tests/fuzz/regress replays clean", replay);
}
