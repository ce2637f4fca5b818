/* A bench cell's record (DIR/record.kv), written once by ctreset-review: its coordinates,
 * expectation and reason, verdict, status, evidence, timings and artifacts, or why it
 * did not run. Every report is rendered from the set of records (render.h). */
#ifndef CTR_RECORD_H
#define CTR_RECORD_H

#include "base/kv.h"
#include "base/pkt.h"
#include "verdict.h"

#include <stddef.h>
#include <stdio.h>

#define RECORD_FILE "record.kv"

/* What a record is made of: the cell's directory and what the bench left in it. */
struct record_input {
	const char *dir;
	const struct kv *meta, *inject, *server, *client; /* empty when the file is missing */
	const struct verdict_result *res;		  /* NULL: no verdict was decided */
	const char *expected, *expected_reason;		  /* NULL: no expectation */
	const char *pcaps[3];				  /* client, node, backend */
	const struct connect_facts *connect; /* a connect cell's counts (res its verdict) */
};

/* Builds the record into *rec (zeroed first): status skip when DIR/skip exists (its first
 * line the reason), pass when the verdict is the expected one, else fail (the first
 * lines of DIR/error kept). 0, or -1 with *err. */
int record_build(const struct record_input *in, struct kv *rec, char **err);

/* The cell's expectation from its meta.kv: expected= (and expected_reason=) when the
 * caller wrote them, else the oracle= file's row for the cell's coordinates (trigger,
 * oracle.workaround or workaround, topology, backend, family) on its kernel=, its
 * reason prefixed with "oracle.note: ". Writes "" and 0 when meta names neither. */
int record_expectation(const struct kv *meta, char *expected, size_t elen, char *reason,
		       size_t rlen, char **err);

/* Writes rec to path (through a temporary file and a rename). 0, or -1 with *err. */
int record_save(const char *path, const struct kv *rec, char **err);

/* The value of key in rec, or dflt. */
const char *record_get(const struct kv *rec, const char *key, const char *dflt);

/* The record's fields as the review's JSON result (the members of one object, without
 * its braces), as bench/repro --json and the matrix's report.json carry them. */
void record_json_fields(FILE *f, const struct kv *rec, int *first);

/* "SRC > DST [FLAGS] seq S ack A len L", the form of a record's leak= and rst= */
void record_seg_str(const struct ctr_pkt *p, char *buf, size_t n);

#endif
