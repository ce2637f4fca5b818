/* A batch of bench cells run by one process (ctreset-inject --cells): the cells of one
 * workaround on one topology, each its own arguments after the options they share. The
 * list is NUL-separated words, a cell ended by an empty word (bash: printf '%s\0' WORDS
 * and an empty one). Each cell runs in a forked child of the batch (fork, no exec: its
 * state fresh, its code path a single cell's), and the batch then finishes it as the
 * bench finished a cell after a one-shot injector (bench/lib.sh's ctr_run_scenario): the
 * cell the child left no record.kv of gets its meta.kv, its skip, its "killed by signal"
 * error and its review here; the child's stderr goes into DIR/error only when not empty. */
#ifndef CTRESET_LIVE_BATCH_H
#define CTRESET_LIVE_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* the list: every word points into buf */
struct batch_list {
	char *buf;
	size_t len;
	char ***cells; /* cells[i]: its words, NULL-terminated */
	int *n_words;
	int n_cells;
};

/* Reads the list from PATH ("-": stdin) and splits it. 0, or -1 with *err: PATH
 * unreadable, no cell, a cell with no word, the list not ended by an empty word. */
int batch_list_read(struct batch_list *l, const char *path, char **err);
/* the same from a buffer of LEN bytes (taken over: freed by batch_list_free) */
int batch_list_split(struct batch_list *l, char *buf, size_t len, char **err);
void batch_list_free(struct batch_list *l);

/* what the batch knows of a cell before it runs (its arguments, parsed) */
struct batch_cell {
	const char *out;   /* --out DIR */
	const char **meta; /* its --meta lines, in order */
	int n_meta;
	uint64_t t0_ms;	     /* its --t0-us, ms; 0: the batch gives it one */
	bool has_server;     /* --server-arg given: its server must leave DIR/server.kv */
	const char *trigger; /* its trigger's name (--cell-state) */
	/* the cell's review (the caller's: live/ does not judge), as review_cell_files: its
	 * verdict.kv, result.json and record.kv, or with RECORD_ONLY its record again */
	int (*review)(const char *dir, bool record_only, char **err);
};

/* Finishes a cell after its child ended with wait STATUS (as ctr_run_scenario did after a
 * one-shot injector): ERRFD holds what the child wrote on stderr (read from its start, and
 * appended to by this), START and END the child's fork and end (CLOCK_REALTIME ms).
 * Returns the cell's exit status: the child's (0, 1, 4; 128+N killed by signal N), 1 when
 * it was 0 and this cell's own review failed. */
int batch_cell_finish(const struct batch_cell *c, int status, int errfd, uint64_t start,
		      uint64_t end);

/* the line of a cell killed by SIG ("ctreset-inject was killed by signal 9 (SIGKILL)
 * mid-cell: no record of the event") into BUF */
void batch_killed_line(char *buf, size_t n, int sig);

#endif
