/* Every report of a bench run, rendered from its cells' records (record.h): bench/repro's
 * table and JSON, bench/matrix's tables, UNEXPECTED list, kube-proxy lines, TAP, JUnit
 * and JSON, and each runner's closing line. */
#ifndef CTR_RENDER_H
#define CTR_RENDER_H

#include "base/kv.h"

#include <stdio.h>

#define RUN_FILE "run.kv"

/* A run: what its runner wrote in RUN_DIR/run.kv (kind=repro|matrix, top, kernel,
 * run_id, jobs, wall_ms, fresh, workload, kube_proxy, dim.<dimension>=values, and one
 * cell=DIR per cell in order, a relative DIR under RUN_DIR) and each cell's record. */
struct run {
	struct kv info;
	struct kv *rec; /* one per cell=, in order */
	size_t n;
};

/* Loads RUN_DIR/run.kv and the records of its cells; a cell without DIR/record.kv gets
 * one built from what it left (meta.kv, skip, error): no verdict, so not a pass.
 * 0, or -1 with *err. */
int run_load(const char *run_dir, struct run *run, char **err);

void run_free(struct run *run);

/* Writes the report format of run to f: table, json, tap, junit, unexpected (matrix:
 * the cells not as expected), failed (their directories, one a line), summary (the
 * closing line) or advise / advise-json (bench/advise's page, advise.h). Returns the
 * run's exit status for summary and advise* (0 pass, 1 fail, 4 nothing could run), 0 for
 * the others, -1 with *err for an unknown format. */
int render(FILE *f, const struct run *run, const char *format, char **err);

/* Whether format is one render() knows. */
int render_known(const char *format);

#endif
