/* Every fuzz target (tests/fuzz/fuzz_*.c, registered through target.h) runs again over its
 * seed corpus (tests/fuzz/seed/NAME/) and its regressions (tests/fuzz/regress/NAME/: the
 * crashers the fuzzer found, and edge cases seeded by hand). What it guards shows under
 * `make unit-san`: a sanitizer report fails the run. */
#include "target.h"
#include "tests.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* runs t over every file of tests/fuzz/KIND/NAME; how many */
static unsigned replay_dir(const struct fuzz_target *t, const char *kind)
{
	char dir[PATH_MAX];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/../../tests/fuzz/%s/%s", ref_dir, kind, t->name);
	d = opendir(dir);
	if (!d)
		return 0;
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
		CU_ASSERT_EQUAL(t->one(buf, len), 0);
		n++;
	}
	closedir(d);
	return n;
}

static void replay(void)
{
	static const char *const want[] = {"review", "kv", "record", "oracle", "svcmap", "audit"};
	unsigned targets = 0, inputs = 0;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (const struct fuzz_target *t = fuzz_targets(); t; t = t->next) {
		unsigned seeds = replay_dir(t, "seed"), regress = replay_dir(t, "regress");

		inputs += seeds + regress;
		/* each target's corpus is there, not silently empty */
		if (!seeds)
			fprintf(stderr, "fuzz target %s: no seed in tests/fuzz/seed/%s\n", t->name,
				t->name);
		CU_ASSERT_TRUE(seeds > 0);
		if (!strcmp(t->name, "review"))
			CU_ASSERT_TRUE(regress >= 8);
		targets++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* what the replay adds to make unit and make check */
	fprintf(stderr, "fuzz replay: %u targets, %u inputs, %.0f ms ", targets, inputs,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	/* the targets of every parser family are linked in (a constructor not run would
	 * silently replay nothing) */
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct fuzz_target *t = fuzz_targets();

		while (t && strcmp(t->name, want[i]))
			t = t->next;
		CU_ASSERT_PTR_NOT_NULL(t);
	}
	CU_ASSERT_TRUE(targets >= sizeof(want) / sizeof(want[0]));
}

void register_fuzz_regress_tests(void)
{
	CU_pSuite s = suite_add("fuzz regressions");

	test_add(s, "every fuzz target replays its seeds and tests/fuzz/regress clean", replay);
}
