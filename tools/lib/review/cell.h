/* A bench cell's review: its evidence loaded from the cell's directory (meta.kv,
 * inject.kv, server.kv, client.kv, the pcaps), the verdict decided (a connect cell's from
 * its client's flow), and its outputs written: the verdict as text, key=value or JSON,
 * result.json, and the cell's record (record.h). `ctreset-review --verdict DIR` is this,
 * and so is the injector's --review at the end of a cell. */
#ifndef CTRESET_REVIEW_CELL_H
#define CTRESET_REVIEW_CELL_H

#include "base/kv.h"
#include "review/verdict.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

/* what a cell's directory says, once loaded (cell_evidence_load) */
struct cell_evidence {
	const char *dir;
	struct kv meta, inject, server, client;
	struct verdict_input in;
	struct verdict_result res;
	struct connect_facts connect; /* a connect cell's (meta.kv trigger=connect) */
	bool is_connect;
	char client_pcap[PATH_MAX], backend_pcap[PATH_MAX], node_pcap[PATH_MAX];
	char expected[64], expected_reason[4096]; /* from meta.kv or the oracle it names */
	bool has_expected;
};

/* Loads DIR's evidence into *ev (zeroed first; DIR is kept, not copied): meta.kv,
 * server.kv and client.kv when there (optional), inject.kv (required but for a connect
 * cell), the expectation (meta.kv's expected=, or the oracle it names). 0, or -1 with
 * *err (what was loaded stays in *ev: cell_evidence_free it either way). */
int cell_evidence_load(struct cell_evidence *ev, const char *dir, char **err);
void cell_evidence_free(struct cell_evidence *ev);

enum review_cell_format { REVIEW_CELL_NONE, REVIEW_CELL_TEXT, REVIEW_CELL_KV, REVIEW_CELL_JSON };

/* where review_cell writes; any may be left out (format NONE, NULL paths) */
struct review_cell_out {
	enum review_cell_format format; /* the verdict, written to out in this format */
	FILE *out;
	const char *json_path;	 /* the verdict as JSON (the record's fields) into this file */
	const char *record_path; /* the cell's record (record_save) */
};

/* Reviews the cell in DIR. With record_path and a DIR/skip file, the cell has nothing to
 * decide: only its record is written (why it was skipped) and nothing else. Returns 0
 * once decided and everything written; -1 with a malloc'd message in *err when the
 * evidence cannot be loaded or decided (the record, when asked for, is then written
 * undecided first: status error, the reason in it) or an output cannot be written. */
int review_cell(const char *dir, const struct review_cell_out *o, char **err);
/* The review a bench cell gets after its injector (ctreset-inject --review, a --cells
 * batch): DIR/verdict.kv (kv), DIR/result.json and DIR/record.kv; with RECORD_ONLY the
 * record alone (written again once DIR/error is whole). 0, or -1 with *err: review_cell's,
 * or verdict.kv not writable. */
int review_cell_files(const char *dir, bool record_only, char **err);

#endif
