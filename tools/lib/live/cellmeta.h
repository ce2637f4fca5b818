/* A bench cell's meta.kv, written once by the injector at its end (--review): the lines
 * the runner knows (--meta KEY=VALUE: the cell's coordinates, its expectation, the
 * topology's service and prefix), then the facts the injector's modules add (the rule
 * counters' drop.NS=N lines: cellmeta_add_fact), then the cell's times. After the
 * review, time.verdict_ms is appended (the review's own time, as the bench always
 * wrote it: after the record). */
#ifndef CTRESET_LIVE_CELLMETA_H
#define CTRESET_LIVE_CELLMETA_H

#include <stdint.h>

#define CELLMETA_MAX_LINES 128

struct cellmeta {
	const char *given[CELLMETA_MAX_LINES]; /* --meta lines, in order (argv's) */
	int n_given;
	char *facts[CELLMETA_MAX_LINES]; /* the modules' lines, malloc'd, in order */
	int n_facts;
	uint64_t t0_ms; /* the cell's start (--t0-us), CLOCK_REALTIME: bash's EPOCHREALTIME */
};

/* the times of a cell, CLOCK_REALTIME ms */
struct cellmeta_times {
	uint64_t start;	 /* the injector started: the end of the runner's setup */
	uint64_t inject; /* the injector's run done, its record written */
	uint64_t end;	 /* its facts collected */
};

uint64_t cellmeta_now_ms(void);

/* a --meta line: KEY=VALUE, KEY not empty, no newline. 0, or -1 with *err */
int cellmeta_give(struct cellmeta *m, const char *line, char **err);

/* one fact line KEY=VALUE a module adds (printf-style). 0, or -1 when out of room */
int cellmeta_add_fact(struct cellmeta *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* DIR/meta.kv: the given lines, the facts, then time.setup_ms, time.inject_ms,
 * time.collect_ms, time.teardown_ms (0: the injector tears nothing down) and duration_ms
 * from t0. Replaces the file whole (written to a temporary name, then renamed).
 * 0, or -1 with *err. */
int cellmeta_write(const struct cellmeta *m, const char *dir, const struct cellmeta_times *t,
		   char **err);

/* appends KEY=VALUE to DIR/meta.kv (time.verdict_ms, after the review) */
int cellmeta_append(const char *dir, const char *key, uint64_t value, char **err);

void cellmeta_free(struct cellmeta *m);

#endif
