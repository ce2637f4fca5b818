/* KTAP version 1 (the kernel's Documentation/dev-tools/ktap.rst), the report kernel CI
 * reads (kselftest runners, KernelCI, LKFT): a test per topology/backend/family group,
 * each a subtest holding its cells; with several kernels a test per kernel holding those.
 * A skipped cell is "ok N name # SKIP reason"; a failed one "not ok" after "# " lines
 * saying what was expected and observed. */
#ifndef CTR_KTAP_H
#define CTR_KTAP_H

#include "render.h"

#include <stdio.h>

/* runs[0..n): one per kernel (n 1: no kernel level). Returns the exit status the
 * results amount to: 0 every cell as expected, 1 one was not, 4 nothing could run. */
int ktap_render(FILE *f, const struct run *runs, size_t n);

#endif
