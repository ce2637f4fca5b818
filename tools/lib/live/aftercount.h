/* The workaround rule's counters of a cell, from what --after-arg's command left in
 * OUT/after.NS (iptables-*-save -c, or nft list chain): drop.NS=AFTER-BEFORE fact lines
 * for meta.kv, and the readings for the next cell on the same topology (its BEFORE).
 * The C reading of bench/lib.sh's ctr_workaround_counters_from and ctr_drop_delta (the
 * parsers of tools/lib/sh/counters.sh), so that the injector writes the cell's facts
 * whole; the counters read over netlink (branch cnt25) replace it. */
#ifndef CTRESET_LIVE_AFTERCOUNT_H
#define CTRESET_LIVE_AFTERCOUNT_H

#include "live/cellmeta.h"

#include <stddef.h>

#define AFTERCOUNT_MAX_NS 16

struct aftercount {
	enum { AFTERCOUNT_NONE, AFTERCOUNT_IPT, AFTERCOUNT_NFT } kind;
	const char *chain; /* ipt: the chain of the INVALID DROP rule */
	const char *ns[AFTERCOUNT_MAX_NS];
	char before[AFTERCOUNT_MAX_NS][24]; /* a count, or "-" */
	int n;
	const char *state; /* where the readings go for the next cell (NS=N lines), or NULL */
};

/* --count-parse: "ipt:CHAIN" or "nft". 0, or -1 with *err */
int aftercount_parse_spec(struct aftercount *a, const char *spec, char **err);
/* --count-before NS=N|NS=-: a node and its reading before (in the order of the lines).
 * 0, or -1 with *err */
int aftercount_add_before(struct aftercount *a, const char *arg, char **err);

/* the count in one after file's text: the last matching rule's packets, "-" if none */
void aftercount_read(const struct aftercount *a, const char *text, char *out, size_t n);

/* each node's drop.NS fact into m (none for a rule not there), and the state file.
 * 0, or -1 with *err (the state file) */
int aftercount_collect(const struct aftercount *a, const char *out_dir, struct cellmeta *m,
		       char **err);

#endif
