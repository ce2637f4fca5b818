/* Sharding a bench run: which slice of a selection of cells one machine runs (--shard I/N,
 * 1-based as Playwright's), decided the same way everywhere. The unit of the split is a
 * group of cells sharing one topology (never split); groups are balanced by the measured
 * cost of their cells (a committed table, bench/shard-costs). The selection (every cell of
 * the unsharded run) is named by a hash each shard records, so a merge (merge.h) can tell
 * the shards of one selection from those of another. */
#ifndef CTR_SHARD_H
#define CTR_SHARD_H

#include "base/kv.h"

#include <stddef.h>

/* shard index/total: index 1..total */
struct shard_spec {
	unsigned index, total;
};

#define SHARD_MAX 4096

/* Parses "I/N" (1 <= I <= N <= SHARD_MAX, decimal, nothing else). 0, or -1 with *err. */
int shard_parse(const char *s, struct shard_spec *out, char **err);

/* Where the shard comes from, first match wins: the command line's --shard (cmdline, NULL
 * when not given), else CTR_SHARD=I/N, else Kubernetes' JOB_COMPLETION_INDEX (0-based)
 * with CTR_SHARD_TOTAL=N (one without the other is an error, as is a malformed value of
 * the one that wins). *source is set to "--shard", "CTR_SHARD", "JOB_COMPLETION_INDEX" or
 * NULL when none is set (then *out is 1/1: the whole selection). The env values are passed
 * in (NULL when unset). 0, or -1 with *err. */
int shard_resolve(const char *cmdline, const char *ctr_shard, const char *job_index,
		  const char *job_total, struct shard_spec *out, const char **source, char **err);

/* The cost table: cell.TRIGGER=MS (a cell's mean wall time), cell.default=MS (a trigger the
 * table lacks), group=MS (a group's topology up and down); '#' lines say how it was
 * measured. */
struct shard_costs {
	struct kv kv;
	unsigned long dflt, group;
};

/* Loads path into *c. 0, or -1 with *err (no cell.default or group is an error). */
int shard_costs_load(const char *path, struct shard_costs *c, char **err);

/* The same from text (NUL-terminated). */
int shard_costs_parse(const char *text, struct shard_costs *c, char **err);

void shard_costs_free(struct shard_costs *c);

/* A cell's trigger from its id, the run's relative cell directory TOPO-BACKEND-ipvF/TRIGGER+
 * WORKAROUND: the text after the last '/' up to the first '+' after it (buf, n). */
void shard_cell_trigger(const char *id, char *buf, size_t n);

/* A group's cost: the group's overhead plus each cell's (ids: its cells). */
unsigned long shard_group_cost(const struct shard_costs *c, const char *const *ids, size_t n);

/* The split: assign[g] (0-based shard) for each of n groups of cost[g], key[g] a name
 * unique to the group (ties are broken by it, byte order): the groups by cost, the
 * dearest first, each to the shard of least cost so far (the lowest index on a tie). A
 * pure function of its inputs. 0, or -1 with *err (total 0). */
int shard_split(const unsigned long *cost, const char *const *key, size_t n, unsigned total,
		unsigned *assign, char **err);

/* The selection's name: "fnv1a64:" and 16 hex digits of FNV-1a over the cell ids sorted in
 * byte order, each followed by '\n' (the order the ids are given in does not matter; a
 * duplicated id counts twice). out holds at least 25 bytes. -1 when out of memory. */
int shard_selection_hash(const char *const *ids, size_t n, char *out, size_t len);

/* FNV-1a 64 of len bytes, continuing from h (start with SHARD_FNV_OFFSET) */
#define SHARD_FNV_OFFSET 0xcbf29ce484222325ULL
unsigned long long shard_fnv(unsigned long long h, const void *p, size_t len);

#endif
