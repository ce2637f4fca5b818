/* Record writing: inject.kv, the injector's account of one run (the flow, what was done to
 * it and when, what the captures showed, how each child ended), read by ctreset-review. */
#ifndef CTR_INJECTKV_H
#define CTR_INJECTKV_H

#include "capture.h"
#include "child.h"
#include "craft.h"
#include "flow.h"
#include "natural.h"
#include "trigger.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* what the event was and what the settle phase saw of it */
struct outcome {
	bool injected;
	char explain[256];
	struct craft_segment probe; /* a crafted trigger's segment */
	struct learn_flow learned;  /* the flow's state when the event was caused */
	const char *settled_by;
	bool probe_left, probe_natted, client_rst, rst_at_backend;
	unsigned leaks;
};

/* now_ms() at each phase; 0: not reached */
struct timings {
	uint64_t start, reset, ready, flow, inject, leak, last_event, settled, server;
};

/* a namespace's conntrack 'invalid' count around the event */
struct ns_invalid {
	const char *ns;
	uint64_t before, after;
	bool ok; /* both read */
};

/* everything inject.kv says, gathered from the run's parts (NULL/0: absent) */
struct record {
	enum trigger trigger;
	const char *error;	   /* why it failed, NULL: it did not */
	const char *capture_error; /* a capture not written whole (truncated), NULL: none */
	const char *skip;	   /* why it could not run here (also the error), NULL: it could */
	const char *hold_ns;	   /* delayed-retransmit: where the segment was held */
	const struct ctr_endpoint *vip;
	const struct flow_find *find;
	const struct outcome *out;
	const struct timings *t;
	const struct natural *nat;
	const struct ns_invalid *invalid;
	int n_invalid;
	const char *const *backend_ns; /* with n_backends > 1, the flow's is recorded */
	int n_backends;
	const char *const *reset_ns;
	const unsigned *reset_killed;
	int n_reset_ns;
	bool reset_scanned; /* the namespaces' processes looked for (not proven gone before) */
	const struct child *srv, *cmd;
	const char *const *flush_ns;
	const unsigned *flushed, *flush_left;
	int n_flush_ns;
	const struct capture *cap_client, *cap_node, *cap_backend;
};

/* One key=value line of inject.kv, the value formatted (at most 511 bytes). */
void record_kv(FILE *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes DIR/inject.kv (through a temporary file and a rename). 0, or -1 with *err. */
int record_write(const char *dir, const struct record *rec, char **err);

#endif
