/* The fuzz targets: one per parser family of outside input, each in its own file
 * tests/fuzz/fuzz_NAME.c, shared by the libFuzzer binaries (build/fuzz-NAME, make fuzz)
 * and the unit test that replays tests/fuzz/seed/NAME/ and tests/fuzz/regress/NAME/.
 *
 * A new target is one file:
 *
 *	#include "target.h"
 *
 *	FUZZ_TARGET(NAME)
 *	{
 *		... feed data[0..size) to the parser, free what it made, return 0 ...
 *	}
 *
 * and, optionally, a seed corpus in tests/fuzz/seed/NAME/ and a dictionary
 * tests/fuzz/NAME.dict. The Makefile builds every tests/fuzz/fuzz_*.c into build/fuzz-NAME,
 * `make fuzz` runs them all, and the unit tests replay every registered target's seeds and
 * regressions (a crasher goes to tests/fuzz/regress/NAME/). A bug shows as a sanitizer report
 * (ASan, UBSan, LeakSanitizer), never as a return value: return 0. */
#ifndef CTR_FUZZ_TARGET_H
#define CTR_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fuzz_target {
	const char *name;
	int (*one)(const uint8_t *data, size_t size);
	struct fuzz_target *next;
};

/* Registers t (from FUZZ_TARGET's constructor, before main). */
void fuzz_target_add(struct fuzz_target *t);

/* The registered targets, a list in no set order. */
const struct fuzz_target *fuzz_targets(void);

/* data[0..size) as a NUL-terminated string (malloc'd; the caller frees it), or NULL */
char *fuzz_str(const uint8_t *data, size_t size);

/* /dev/null, opened once: where the targets write the reports they render */
FILE *fuzz_sink(void);

/* data[0..size) as the content of a file (one memfd per process, rewritten each call), for
 * the parsers that read a path: writes "/proc/self/fd/N" to path. 0, or -1. */
int fuzz_file(const uint8_t *data, size_t size, char *path, size_t n);

/* Whether this input also goes through the file: one size in eight. A file costs a write,
 * an open and a fresh read buffer (5x the parse of a small input); the choice depends on
 * the input alone, so a replay takes the same path. */
#define FUZZ_VIA_FILE(size) (((size)&7) == 0)

#define FUZZ_TARGET(NAME)                                                                          \
	static int fuzz_one_##NAME(const uint8_t *data, size_t size);                              \
	static struct fuzz_target fuzz_target_##NAME = {#NAME, fuzz_one_##NAME, NULL};             \
	__attribute__((constructor)) static void fuzz_register_##NAME(void)                        \
	{                                                                                          \
		fuzz_target_add(&fuzz_target_##NAME);                                              \
	}                                                                                          \
	static int fuzz_one_##NAME(const uint8_t *data, size_t size)

#endif
