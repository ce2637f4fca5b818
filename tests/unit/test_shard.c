/* shard and merge: the split is a pure function of the groups and their costs (the same on
 * every machine, whatever order the groups come in), balanced within one group's cost;
 * the selection's hash is pinned; the merge refuses a missing, duplicated or mismatched
 * shard, naming the cells. */
#include "review/ktap.h"
#include "review/merge.h"
#include "review/shard.h"
#include "tests.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void test_parse(void)
{
	struct shard_spec s;
	const char *bad[] = {"",     "1",    "0/3",  "4/3",	"1/0", "-1/3",
			     "1/3x", " 1/3", "1/+3", "1/99999", "a/b", "1//3"};

	CU_ASSERT_EQUAL(shard_parse("1/3", &s, NULL), 0);
	CU_ASSERT(s.index == 1 && s.total == 3);
	CU_ASSERT_EQUAL(shard_parse("8/8", &s, NULL), 0);
	CU_ASSERT(s.index == 8 && s.total == 8);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(shard_parse(bad[i], &s, NULL), -1);
}

/* the command line, then CTR_SHARD, then JOB_COMPLETION_INDEX (0-based) + CTR_SHARD_TOTAL */
static void test_resolve(void)
{
	struct shard_spec s;
	const char *src;
	char *err = NULL;

	CU_ASSERT_EQUAL(shard_resolve("2/5", "3/5", "0", "5", &s, &src, NULL), 0);
	CU_ASSERT(s.index == 2 && s.total == 5 && !strcmp(src, "--shard"));
	CU_ASSERT_EQUAL(shard_resolve(NULL, "3/5", "0", "5", &s, &src, NULL), 0);
	CU_ASSERT(s.index == 3 && s.total == 5 && !strcmp(src, "CTR_SHARD"));
	CU_ASSERT_EQUAL(shard_resolve(NULL, NULL, "0", "5", &s, &src, NULL), 0);
	CU_ASSERT(s.index == 1 && s.total == 5 && !strcmp(src, "JOB_COMPLETION_INDEX"));
	CU_ASSERT_EQUAL(shard_resolve(NULL, "", "4", "5", &s, &src, NULL), 0);
	CU_ASSERT(s.index == 5 && s.total == 5);
	CU_ASSERT_EQUAL(shard_resolve(NULL, NULL, NULL, NULL, &s, &src, NULL), 0);
	CU_ASSERT(s.index == 1 && s.total == 1 && src == NULL);
	CU_ASSERT_EQUAL(shard_resolve(NULL, NULL, "5", "5", &s, &src, NULL), -1);
	CU_ASSERT_EQUAL(shard_resolve(NULL, NULL, "1", NULL, &s, &src, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "CTR_SHARD_TOTAL"));
	free(err);
	CU_ASSERT_EQUAL(shard_resolve(NULL, NULL, NULL, "3", &s, &src, NULL), -1);
	CU_ASSERT_EQUAL(shard_resolve(NULL, "0/3", "0", "3", &s, &src, NULL), -1);
	CU_ASSERT_EQUAL(shard_resolve("9/3", NULL, NULL, NULL, &s, &src, NULL), -1);
}

#define NG 57

/* a fixed pseudo-random set of group costs (an LCG: no rand(), no seed from the host) */
static void groups(unsigned long *cost, char (*name)[32], const char **key)
{
	unsigned long x = 12345;

	for (size_t i = 0; i < NG; i++) {
		x = x * 1103515245UL + 12345UL;
		cost[i] = 600 + (x >> 8) % 40000;
		snprintf(name[i], sizeof(name[0]), "g%02zu/seq-above+none", i);
		key[i] = name[i];
	}
	cost[7] = cost[8]; /* a tie, broken by the key */
}

static void test_split_deterministic(void)
{
	unsigned long cost[NG], rcost[NG];
	char name[NG][32];
	const char *key[NG], *rkey[NG];
	unsigned a[NG], b[NG], r[NG];

	groups(cost, name, key);
	for (unsigned n = 1; n <= 8; n++) {
		CU_ASSERT_EQUAL_FATAL(shard_split(cost, key, NG, n, a, NULL), 0);
		CU_ASSERT_EQUAL_FATAL(shard_split(cost, key, NG, n, b, NULL), 0);
		CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)), 0);
		/* the groups given in reverse: each group lands in the same shard */
		for (size_t i = 0; i < NG; i++) {
			rcost[i] = cost[NG - 1 - i];
			rkey[i] = key[NG - 1 - i];
		}
		CU_ASSERT_EQUAL_FATAL(shard_split(rcost, rkey, NG, n, r, NULL), 0);
		for (size_t i = 0; i < NG; i++)
			CU_ASSERT_EQUAL(r[NG - 1 - i], a[i]);
	}
	/* pinned: the plan for 3 shards of these groups, as any machine must compute it (the
	 * same figures from an independent Python rendering of the rule: loads 381153,
	 * 381102, 381281) */
	CU_ASSERT_EQUAL_FATAL(shard_split(cost, key, NG, 3, a, NULL), 0);
	{
		char got[NG + 1];

		for (size_t i = 0; i < NG; i++)
			got[i] = (char)('1' + a[i]);
		got[NG] = '\0';
		CU_ASSERT_STRING_EQUAL(got,
				       "131231222132133211311333111323211322131233332223212222311");
	}
	CU_ASSERT_EQUAL(shard_split(cost, key, NG, 0, a, NULL), -1);
}

/* every shard within the dearest group of every other (LPT's bound), and no shard empty
 * while there are more groups than shards */
static void test_split_balance(void)
{
	unsigned long cost[NG], maxc = 0;
	char name[NG][32];
	const char *key[NG];
	unsigned a[NG];

	groups(cost, name, key);
	for (size_t i = 0; i < NG; i++)
		maxc = cost[i] > maxc ? cost[i] : maxc;
	for (unsigned n = 2; n <= 8; n *= 2) {
		unsigned long load[8] = {0}, lo = ~0UL, hi = 0;

		CU_ASSERT_EQUAL_FATAL(shard_split(cost, key, NG, n, a, NULL), 0);
		for (size_t i = 0; i < NG; i++) {
			CU_ASSERT_FATAL(a[i] < n);
			load[a[i]] += cost[i];
		}
		for (unsigned s = 0; s < n; s++) {
			lo = load[s] < lo ? load[s] : lo;
			hi = load[s] > hi ? load[s] : hi;
		}
		CU_ASSERT(lo > 0);
		CU_ASSERT(hi - lo <= maxc);
	}
}

static void test_hash(void)
{
	const char *ids[] = {"a-b-ipv4/seq-above+none", "a-b-ipv4/bad-flags+none", "c/x+y"};
	const char *rev[] = {"c/x+y", "a-b-ipv4/bad-flags+none", "a-b-ipv4/seq-above+none"};
	const char *other[] = {"a-b-ipv4/seq-above+none", "a-b-ipv4/bad-flags+none", "c/x+z"};
	char h1[32], h2[32], h3[32];

	CU_ASSERT_EQUAL(shard_selection_hash(ids, 3, h1, sizeof(h1)), 0);
	CU_ASSERT_EQUAL(shard_selection_hash(rev, 3, h2, sizeof(h2)), 0);
	CU_ASSERT_EQUAL(shard_selection_hash(other, 3, h3, sizeof(h3)), 0);
	CU_ASSERT_STRING_EQUAL(h1, h2);
	CU_ASSERT_STRING_NOT_EQUAL(h1, h3);
	/* pinned: FNV-1a 64 of "a-b-ipv4/bad-flags+none\na-b-ipv4/seq-above+none\nc/x+y\n" */
	CU_ASSERT_STRING_EQUAL(h1, "fnv1a64:2270dd691f4cf3a7");
	CU_ASSERT_EQUAL(shard_selection_hash(ids, 2, h3, sizeof(h3)), 0);
	CU_ASSERT_STRING_NOT_EQUAL(h1, h3);
}

static void test_costs(void)
{
	struct shard_costs c;
	const char *ids[] = {"t-b-ipv4/idle-expiry+none", "t-b-ipv4/seq-above+x",
			     "t-b-ipv4/unknown+none"};
	char t[64];

	CU_ASSERT_EQUAL_FATAL(
	    shard_costs_parse("# how\ncell.idle-expiry=3000\ncell.seq-above=1000\n"
			      "cell.default=500\ngroup=200\n",
			      &c, NULL),
	    0);
	CU_ASSERT_EQUAL(shard_group_cost(&c, ids, 3), 200 + 3000 + 1000 + 500);
	shard_costs_free(&c);
	CU_ASSERT_EQUAL(shard_costs_parse("cell.default=500\n", &c, NULL), -1);
	CU_ASSERT_EQUAL(shard_costs_parse("cell.default=500\ngroup=1\ncell.x=fast\n", &c, NULL),
			-1);
	shard_cell_trigger("cross-node-iptables-nft-ipv4/seq-above+kube-proxy-drop+tcp-loose-0", t,
			   sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "seq-above");
}

/* --- the merge, over runs written here ---------------------------------------------- */

static char top[64];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* the selection: 2 groups of 2 cells (ipv4, ipv6) */
static const char *const sel[] = {"x-nft-ipv4/seq-above+none", "x-nft-ipv4/bad-flags+none",
				  "x-nft-ipv6/seq-above+none", "x-nft-ipv6/bad-flags+none"};

/* a run of shard index/total holding cells first..last of sel, its selection sel[0..nsel) */
static void run(const char *name, const char *kernel, unsigned index, unsigned total, size_t first,
		size_t last, size_t nsel, const char *plan)
{
	char dir[256], path[PATH_MAX], hash[32], text[4096];
	size_t len;

	snprintf(dir, sizeof(dir), "%s/%s", top, name);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(shard_selection_hash((const char **)sel, nsel, hash, sizeof(hash)),
			      0);
	len =
	    (size_t)snprintf(text, sizeof(text),
			     "kind=matrix\nkernel=%s\nrun_id=%s\ndim.trigger=seq-above bad-flags\n"
			     "dim.workaround=none\ndim.topology=x\ndim.backend=nft\n"
			     "dim.family=4 6\nshard=%u/%u\nselection_hash=%s\nplan_hash=%s\n",
			     kernel, name, index, total, hash, plan);
	for (size_t i = 0; i < 4; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "selection=%s\n", sel[i]);
	for (size_t i = first; i <= last && i < 4; i++) {
		char cell[600], t[32], rec[512];

		len += (size_t)snprintf(text + len, sizeof(text) - len, "cell=%s\n", sel[i]);
		snprintf(cell, sizeof(cell), "%s/%.10s", dir, sel[i]);
		mkdir(cell, 0755);
		snprintf(cell, sizeof(cell), "%s/%s", dir, sel[i]);
		CU_ASSERT_EQUAL_FATAL(mkdir(cell, 0755), 0);
		shard_cell_trigger(sel[i], t, sizeof(t));
		snprintf(rec, sizeof(rec),
			 "topology=x\nbackend=nft\nfamily=ipv%c\ntrigger=%s\nworkaround=none\n"
			 "status=pass\nobserved=reset\nexpected=reset\ndecided=1\n",
			 sel[i][9], t);
		snprintf(path, sizeof(path), "%s/record.kv", cell);
		put(path, rec);
	}
	snprintf(path, sizeof(path), "%s/run.kv", dir);
	put(path, text);
}

static void mktop(void)
{
	snprintf(top, sizeof(top), "/tmp/ctr-unit-shard.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(top));
}

static void rmtop(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static int merge_err(char **err)
{
	struct merge m;
	char *dirs[] = {top};
	int rc = merge_load(dirs, 1, &m, err);

	if (rc == 0)
		merge_free(&m);
	return rc;
}

static void test_merge_whole(void)
{
	struct merge m;
	char *dirs[] = {top}, *err = NULL;

	mktop();
	/* shard 2 holds the first group here, 1 the second: the merge goes by the selection */
	run("s2", "6.18", 2, 2, 0, 1, 4, "p");
	run("s1", "6.18", 1, 2, 2, 3, 4, "p");
	CU_ASSERT_EQUAL_FATAL(merge_load(dirs, 1, &m, &err), 0);
	CU_ASSERT_EQUAL(m.n, 1);
	CU_ASSERT_EQUAL_FATAL(m.kernel[0].n, 4);
	CU_ASSERT_STRING_EQUAL(kv_get(&m.kernel[0].rec[0], "trigger"), "seq-above");
	CU_ASSERT_STRING_EQUAL(kv_get(&m.kernel[0].rec[0], "family"), "ipv4");
	CU_ASSERT_STRING_EQUAL(kv_get(&m.kernel[0].rec[3], "trigger"), "bad-flags");
	CU_ASSERT_STRING_EQUAL(kv_get(&m.kernel[0].rec[3], "family"), "ipv6");
	merge_free(&m);
	/* a second kernel's complete run: two kernels */
	run("k2", "5.10", 1, 1, 0, 3, 4, "p");
	CU_ASSERT_EQUAL_FATAL(merge_load(dirs, 1, &m, &err), 0);
	CU_ASSERT_EQUAL(m.n, 2);
	CU_ASSERT_EQUAL(m.all.n, 8);
	merge_free(&m);
	rmtop();
}

static void test_merge_missing(void)
{
	char *err = NULL;

	mktop();
	run("s1", "6.18", 1, 3, 0, 1, 4, "p");
	run("s3", "6.18", 3, 3, 3, 3, 4, "p");
	CU_ASSERT_EQUAL(merge_err(&err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "missing shard 2/3"));
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "missing cell x-nft-ipv6/seq-above+none"));
	CU_ASSERT_PTR_NULL(err && strstr(err, "missing cell x-nft-ipv4"));
	free(err);
	rmtop();
}

static void test_merge_duplicated(void)
{
	char *err = NULL;

	mktop();
	run("s1", "6.18", 1, 2, 0, 1, 4, "p");
	run("s1-again", "6.18", 1, 2, 0, 1, 4, "p");
	run("s2", "6.18", 2, 2, 2, 3, 4, "p");
	CU_ASSERT_EQUAL(merge_err(&err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "duplicated shard 1/2"));
	free(err);
	rmtop();
}

static void test_merge_mismatched(void)
{
	char *err = NULL, path[PATH_MAX];
	FILE *f;

	/* shard 2 of another selection (3 cells: another hash): selection 1 lacks it */
	mktop();
	run("s1", "6.18", 1, 2, 0, 1, 4, "p");
	run("s2", "6.18", 2, 2, 2, 3, 3, "p");
	CU_ASSERT_EQUAL(merge_err(&err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "missing shard 2/2"));
	free(err);
	err = NULL;
	rmtop();
	/* another cost table */
	mktop();
	run("s1", "6.18", 1, 2, 0, 1, 4, "p");
	run("s2", "6.18", 2, 2, 2, 3, 4, "q");
	CU_ASSERT_EQUAL(merge_err(&err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "another cost table"));
	free(err);
	err = NULL;
	rmtop();
	/* a selection= line added by hand: its hash no longer holds */
	mktop();
	run("s1", "6.18", 1, 1, 0, 3, 4, "p");
	snprintf(path, sizeof(path), "%s/s1/run.kv", top);
	f = fopen(path, "ae");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("selection=x-nft-ipv6/ack-above+none\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(merge_err(&err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "cut short or edited"));
	free(err);
	rmtop();
}

void register_shard_tests(void)
{
	CU_pSuite s = suite_add("shard");

	test_add(s, "--shard I/N: 1-based, nothing else", test_parse);
	test_add(s, "the command line, then CTR_SHARD, then JOB_COMPLETION_INDEX", test_resolve);
	test_add(s, "the split: the same whatever the order, pinned", test_split_deterministic);
	test_add(s, "the split: shards within one group's cost, none empty", test_split_balance);
	test_add(s, "the selection's hash: order-free, pinned", test_hash);
	test_add(s, "the cost table: a group's cost, a cell's trigger", test_costs);
	test_add(s, "merge: two shards in the selection's order; two kernels", test_merge_whole);
	test_add(s, "merge: a missing shard names its cells", test_merge_missing);
	test_add(s, "merge: a duplicated shard", test_merge_duplicated);
	test_add(s, "merge: another selection, cost table, an edited selection",
		 test_merge_mismatched);
}
