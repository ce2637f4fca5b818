/* libFuzzer's entry for build/fuzz-NAME: the binary links one fuzz_NAME.c, so exactly one
 * target is registered; linked into the fuzz binaries only, never the unit tests. */
#include "target.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_target *t = fuzz_targets();

	if (!t || t->next)
		abort(); /* a build linking no target, or two, is a Makefile bug */
	return t->one(data, size);
}
