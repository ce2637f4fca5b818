/* One report from the runs of many shards, machines or kernels: ctreset-review --render
 * FORMAT DIR... Each DIR is a bench/matrix run (DIR/run.kv) or a directory holding runs
 * (found below it, in path order). The runs are gathered per kernel; within a kernel, the
 * runs of one selection (its hash, shard.h) must be its shards 1..N, each once, from one
 * split (plan_hash), their cells the selection exactly: a missing, duplicated or
 * mismatched shard is an error that names the cells, never a smaller report. */
#ifndef CTR_MERGE_H
#define CTR_MERGE_H

#include "render.h"

#include <stddef.h>
#include <stdio.h>

/* a kernel's merged run: its records in the selections' order */
struct merge {
	struct run *kernel; /* one per kernel, in the order first met */
	size_t n;
	struct run all; /* every kernel's records in one run (for the formats of one list) */
};

/* Loads and checks the runs of dirs. 0, or -1 with *err (every problem, one a line). */
int merge_load(char *const *dirs, size_t ndirs, struct merge *m, char **err);

void merge_free(struct merge *m);

/* Renders m as format (render.h's formats and ktap): table and ktap have a section per
 * kernel; the others one list of every kernel's cells. The return value is render()'s. */
int merge_render(FILE *f, const struct merge *m, const char *format, char **err);

#endif
