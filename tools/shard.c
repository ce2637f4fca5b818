/* ctreset-shard: the shard of a bench run (bench/matrix, bench/kernels), decided from the
 * command line or the environment, and the groups of cells that fall in it.
 *
 *   ctreset-shard --resolve [--shard I/N]
 *   ctreset-shard --plan [--shard I/N] --costs FILE <GROUPS
 *
 * The split and the hash are tools/lib/review/shard.c's. */
#include "base/err.h"
#include "base/exitcodes.h"
#include "base/kv.h"
#include "base/opt.h"
#include "review/shard.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: ctreset-shard --resolve [--shard I/N]\n"
	      "       ctreset-shard --plan [--shard I/N] --costs FILE <GROUPS\n"
	      "\n"
	      "The shard a run takes, first match wins: --shard I/N (1-based, as Playwright's),\n"
	      "else CTR_SHARD=I/N, else Kubernetes' JOB_COMPLETION_INDEX=K (0-based) with\n"
	      "CTR_SHARD_TOTAL=N (the Indexed Job's completions; one without the other is an\n"
	      "error); none: 1/1, the whole selection.\n"
	      "\n"
	      "--resolve prints shard=I/N and shard_source= (--shard, CTR_SHARD,\n"
	      "JOB_COMPLETION_INDEX, or empty).\n"
	      "\n"
	      "--plan reads the selection's groups on stdin, one a line, each its cells' ids\n"
	      "(TOPOLOGY-BACKEND-ipvF/TRIGGER+WORKAROUND) separated by spaces: the cells of a\n"
	      "group share a topology and are never split. Each group costs the table's group=\n"
	      "plus its cells' cell.TRIGGER= (cell.default= for a trigger it lacks), in ms; the\n"
	      "groups, dearest first (a tie: the first cell id in byte order), each go to the\n"
	      "shard of least cost so far. Prints key=value lines: shard, shard_source,\n"
	      "selection_hash (fnv1a64 over the sorted cell ids), selection_cells, plan_hash\n"
	      "(the cost table's), groups, shard_groups, shard_cells, cost_ms.I (each shard's\n"
	      "predicted cost), then group=LINE (0-based) for each group of this shard, in\n"
	      "input order.\n"
	      "exit: 0, 1 unreadable input, 2 usage\n",
	      f);
}

struct groups {
	char **line;   /* each line, split in place into ids */
	char ***ids;   /* ids[g][k] */
	size_t *nids;  /* ids of each group */
	size_t n, cap; /* groups */
};

static int read_groups(FILE *in, struct groups *g, char **err)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;

	memset(g, 0, sizeof(*g));
	while ((len = getline(&buf, &cap, in)) >= 0) {
		size_t k = 0, m = 0;
		char *save = NULL;

		if (len && buf[len - 1] == '\n')
			buf[len - 1] = '\0';
		if (!buf[strspn(buf, " \t")])
			continue;
		if (g->n == g->cap) {
			size_t nc = g->cap ? g->cap * 2 : 64;
			char **nl = realloc(g->line, nc * sizeof(*nl));
			char ***ni = nl ? realloc(g->ids, nc * sizeof(*ni)) : NULL;
			size_t *nn = ni ? realloc(g->nids, nc * sizeof(*nn)) : NULL;

			if (nl)
				g->line = nl;
			if (ni)
				g->ids = ni;
			if (!nn) {
				free(buf);
				return err_set(err, "out of memory");
			}
			g->nids = nn;
			g->cap = nc;
		}
		g->line[g->n] = strdup(buf);
		for (const char *p = buf; *p; p++)
			m += *p == ' ';
		g->ids[g->n] = calloc(m + 1, sizeof(char *));
		if (!g->line[g->n] || !g->ids[g->n]) {
			free(buf);
			return err_set(err, "out of memory");
		}
		for (char *t = strtok_r(g->line[g->n], " \t", &save); t;
		     t = strtok_r(NULL, " \t", &save))
			g->ids[g->n][k++] = t;
		g->nids[g->n] = k;
		g->n++;
	}
	free(buf);
	if (ferror(in))
		return err_set(err, "cannot read the groups on stdin");
	return 0;
}

static void groups_free(struct groups *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->line[i]);
		free(g->ids[i]);
	}
	free(g->line);
	free(g->ids);
	free(g->nids);
}

static int plan(const struct shard_spec *sp, const char *source, const char *costs_path)
{
	struct shard_costs costs;
	struct groups g;
	char *err = NULL, hash[32];
	const char **all;
	unsigned long *cost;
	unsigned long long *per, ph = SHARD_FNV_OFFSET;
	unsigned *assign;
	size_t ncells = 0, k = 0, sg = 0, sc = 0;

	if (shard_costs_load(costs_path, &costs, &err) < 0)
		die(CTR_EXIT_FAIL, err);
	if (read_groups(stdin, &g, &err) < 0)
		die(CTR_EXIT_FAIL, err);
	for (size_t i = 0; i < g.n; i++)
		ncells += g.nids[i];
	all = malloc((ncells ? ncells : 1) * sizeof(*all));
	cost = malloc((g.n ? g.n : 1) * sizeof(*cost));
	assign = malloc((g.n ? g.n : 1) * sizeof(*assign));
	per = calloc(sp->total, sizeof(*per));
	if (!all || !cost || !assign || !per)
		die(CTR_EXIT_FAIL, (err_set(&err, "out of memory"), err));
	for (size_t i = 0; i < g.n; i++) {
		for (size_t j = 0; j < g.nids[i]; j++)
			all[k++] = g.ids[i][j];
		cost[i] = shard_group_cost(&costs, (const char *const *)g.ids[i], g.nids[i]);
	}
	if (shard_selection_hash(all, ncells, hash, sizeof(hash)) < 0)
		die(CTR_EXIT_FAIL, (err_set(&err, "out of memory"), err));
	/* the first cell of a group names it (a cell is in one group only) */
	for (size_t i = 0; i < g.n; i++)
		all[i] = g.nids[i] ? g.ids[i][0] : "";
	if (shard_split(cost, all, g.n, sp->total, assign, &err) < 0)
		die(CTR_EXIT_FAIL, err);
	for (size_t i = 0; i < costs.kv.n; i++) {
		ph = shard_fnv(ph, costs.kv.pairs[i].key, strlen(costs.kv.pairs[i].key));
		ph = shard_fnv(ph, "=", 1);
		ph = shard_fnv(ph, costs.kv.pairs[i].value, strlen(costs.kv.pairs[i].value));
		ph = shard_fnv(ph, "\n", 1);
	}
	for (size_t i = 0; i < g.n; i++) {
		per[assign[i]] += cost[i];
		if (assign[i] == sp->index - 1) {
			sg++;
			sc += g.nids[i];
		}
	}
	printf("shard=%u/%u\nshard_source=%s\nselection_hash=%s\nselection_cells=%zu\n"
	       "plan_hash=fnv1a64:%016llx\ngroups=%zu\nshard_groups=%zu\nshard_cells=%zu\n",
	       sp->index, sp->total, source ? source : "", hash, ncells, ph, g.n, sg, sc);
	for (unsigned s = 0; s < sp->total; s++)
		printf("cost_ms.%u=%llu\n", s + 1, per[s]);
	for (size_t i = 0; i < g.n; i++)
		if (assign[i] == sp->index - 1)
			printf("group=%zu\n", i);
	free(all);
	free(cost);
	free(assign);
	free(per);
	groups_free(&g);
	shard_costs_free(&costs);
	if (fflush(stdout) != 0)
		die(CTR_EXIT_FAIL, (err_set(&err, "cannot write stdout"), err));
	return CTR_EXIT_PASS;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"resolve", no_argument, NULL, 'R'},     {"plan", no_argument, NULL, 'P'},
	    {"shard", required_argument, NULL, 's'}, {"costs", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},	     {0},
	};
	const char *shard = NULL, *costs = NULL, *source;
	struct shard_spec sp;
	int c, resolve = 0, do_plan = 0;
	char *err = NULL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'R':
			resolve = 1;
			break;
		case 'P':
			do_plan = 1;
			break;
		case 's':
			shard = optarg;
			break;
		case 'c':
			costs = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTR_EXIT_PASS;
		default:
			return opt_bad(opt_refused(argc, argv),
				       "unknown option or missing value (see --help)");
		}
	}
	if (optind != argc)
		return opt_bad(argv[optind], "no argument is taken (the groups come on stdin)");
	if (resolve + do_plan != 1)
		return opt_bad(argc > 1 ? argv[1] : "", "--resolve or --plan, one of them");
	if (do_plan && !costs)
		return opt_bad("--plan", "--plan needs --costs FILE");
	if (shard_resolve(shard, getenv("CTR_SHARD"), getenv("JOB_COMPLETION_INDEX"),
			  getenv("CTR_SHARD_TOTAL"), &sp, &source, &err) < 0) {
		int rc = opt_bad(shard ? shard : "environment", err);

		free(err);
		return rc;
	}
	if (resolve) {
		printf("shard=%u/%u\nshard_source=%s\n", sp.index, sp.total, source ? source : "");
		return CTR_EXIT_PASS;
	}
	return plan(&sp, source, costs);
}
