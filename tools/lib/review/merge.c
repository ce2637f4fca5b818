/* The merge of runs (merge.h): found, loaded, gathered per kernel and per selection,
 * checked complete, and their records put back in the selection's order, so that the
 * renderers (render.c, ktap.c) see one run a kernel, as if it had run unsharded. */
#include "merge.h"
#include "base/err.h"
#include "ktap.h"
#include "shard.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* a growing text (the errors, the merged run.kv) */
struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void bput(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bput(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *ns = realloc(b->s, nc);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = nc;
		b->s[b->len] = '\0';
	}
}

struct strs {
	char **v;
	size_t n, cap;
};

static int strs_add(struct strs *a, const char *s)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		char **nv = realloc(a->v, nc * sizeof(*nv));

		if (!nv)
			return -1;
		a->v = nv;
		a->cap = nc;
	}
	if (!(a->v[a->n] = strdup(s)))
		return -1;
	a->n++;
	return 0;
}

static void strs_free(struct strs *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_run(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, RUN_FILE);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* the run directories below dir (depth at most 6), a bench/matrix run's only */
static int find_runs(const char *dir, int depth, struct strs *out)
{
	DIR *d;
	struct dirent *e;

	if (has_run(dir)) {
		char p[PATH_MAX];
		struct kv info;

		snprintf(p, sizeof(p), "%s/%s", dir, RUN_FILE);
		if (kv_load(p, &info, NULL) == 0) {
			const char *k = kv_get(&info, "kind");
			int rc = k && !strcmp(k, "matrix") ? strs_add(out, dir) : 0;

			kv_free(&info);
			return rc;
		}
		return 0;
	}
	if (depth >= 6 || !(d = opendir(dir)))
		return 0;
	while ((e = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && find_runs(p, depth + 1, out) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

struct loaded {
	char *dir;
	struct run run;
	const char *kernel, *hash, *plan;
	unsigned index, total;
	bool sharded; /* records a selection */
	int group;    /* its selection's index in its kernel */
};

static const char *info(const struct loaded *l, const char *key, const char *dflt)
{
	const char *v = kv_get(&l->run.info, key);

	return v ? v : dflt;
}

/* the cell ids of a run's cell= (or selection=) lines, in order */
static size_t ids_of(const struct run *run, const char *key, const char **out)
{
	size_t n = 0;

	for (size_t i = 0; i < run->info.n; i++)
		if (!strcmp(run->info.pairs[i].key, key)) {
			if (out)
				out[n] = run->info.pairs[i].value;
			n++;
		}
	return n;
}

/* appends the words of w not yet in list (a space-separated list) */
static void union_words(struct buf *list, const char *w)
{
	char word[256];

	while (*w) {
		size_t len = strcspn(w, " ");
		bool seen = false;

		if (len && len < sizeof(word)) {
			snprintf(word, sizeof(word), "%.*s", (int)len, w);
			for (const char *p = list->s ? list->s : ""; *p;) {
				size_t l2 = strcspn(p, " ");

				if (l2 == len && !strncmp(p, word, len))
					seen = true;
				p += l2;
				p += strspn(p, " ");
			}
			if (!seen)
				bput(list, "%s%s", list->len ? " " : "", word);
		}
		w += len;
		w += strspn(w, " ");
	}
}

/* the checks of one selection (runs sel[0..n) of one kernel); problems into e */
static void check_selection(struct loaded **sel, size_t n, struct buf *e)
{
	const struct loaded *a = sel[0];
	size_t nsel = ids_of(&a->run, "selection", NULL);
	const char **ids = calloc(nsel ? nsel : 1, sizeof(*ids));
	size_t *seen = calloc(nsel ? nsel : 1, sizeof(*seen));
	const struct loaded **by_index = calloc(a->total + 1, sizeof(*by_index));
	char hash[32];
	size_t missing = 0;

	if (!ids || !seen || !by_index) {
		e->oom = true;
		goto out;
	}
	ids_of(&a->run, "selection", ids);
	for (size_t i = 0; i < n; i++) {
		const struct loaded *l = sel[i];
		size_t nc = ids_of(&l->run, "cell", NULL);
		const char **cells = calloc(nc ? nc : 1, sizeof(*cells));
		size_t m = ids_of(&l->run, "selection", NULL);
		const char **mine = calloc(m ? m : 1, sizeof(*mine));

		if (!cells || !mine) {
			free(cells);
			free(mine);
			e->oom = true;
			goto out;
		}
		/* the recorded selection is the one its hash names (not cut short, not edited) */
		ids_of(&l->run, "selection", mine);
		if (shard_selection_hash(mine, m, hash, sizeof(hash)) == 0 && strcmp(hash, l->hash))
			bput(
			    e,
			    "%s: its %zu selection= lines hash to %s, not to the selection_hash=%s "
			    "it records (cut short or edited)\n",
			    l->dir, m, hash, l->hash);
		free(mine);
		if (strcmp(l->plan, a->plan))
			bput(
			    e,
			    "%s: shard %u/%u was split with another cost table (plan_hash %s) than "
			    "%s's (%s): its shards do not fit together\n",
			    l->dir, l->index, l->total, l->plan, a->dir, a->plan);
		if (l->total != a->total)
			bput(e, "%s: shard %u/%u, but %s is shard %u/%u of the same selection\n",
			     l->dir, l->index, l->total, a->dir, a->index, a->total);
		else if (by_index[l->index])
			bput(e, "duplicated shard %u/%u (kernel %s, selection %s): %s and %s\n",
			     l->index, l->total, l->kernel, l->hash, by_index[l->index]->dir,
			     l->dir);
		else
			by_index[l->index] = l;
		ids_of(&l->run, "cell", cells);
		for (size_t c = 0; c < nc; c++) {
			size_t k;

			for (k = 0; k < nsel && strcmp(ids[k], cells[c]); k++)
				;
			if (k == nsel)
				bput(e, "%s: cell %s is not in the selection it records\n", l->dir,
				     cells[c]);
			else if (seen[k]++)
				bput(e, "cell %s is in two runs (kernel %s): %s among them\n",
				     cells[c], l->kernel, l->dir);
		}
		free(cells);
	}
	for (size_t k = 0; k < nsel; k++)
		missing += !seen[k];
	if (missing || a->total != n) {
		bput(e, "kernel %s, selection %s (%zu cells, %u shards):", a->kernel, a->hash, nsel,
		     a->total);
		for (unsigned s = 1; s <= a->total; s++)
			if (!by_index[s])
				bput(e, " missing shard %u/%u;", s, a->total);
		bput(e, " runs given:");
		for (size_t i = 0; i < n; i++)
			bput(e, " %u/%u %s;", sel[i]->index, sel[i]->total, sel[i]->dir);
		bput(e, " %zu cell(s) in no run:\n", missing);
		for (size_t k = 0; k < nsel; k++)
			if (!seen[k])
				bput(e, "  missing cell %s\n", ids[k]);
	}
out:
	free(ids);
	free(seen);
	free(by_index);
}

/* the kernel's merged run: its selections' records, each selection in its order */
static int build(struct loaded *ls, size_t nl, const char *kernel, struct run *out, struct buf *e)
{
	struct buf text = {0}, dims[5] = {{0}};
	static const char *const dim[] = {"dim.trigger", "dim.workaround", "dim.topology",
					  "dim.backend", "dim.family"};
	size_t total = 0, c = 0;
	long wall = 0;
	const struct loaded *first = NULL;
	char *err = NULL;

	for (size_t i = 0; i < nl; i++) {
		if (strcmp(ls[i].kernel, kernel))
			continue;
		if (!first)
			first = &ls[i];
		total += ls[i].run.n;
		if (atol(info(&ls[i], "wall_ms", "0")) > wall)
			wall = atol(info(&ls[i], "wall_ms", "0"));
		for (int d = 0; d < 5; d++)
			union_words(&dims[d], info(&ls[i], dim[d], ""));
	}
	bput(&text, "kind=matrix\ntop=%s\nkernel=%s\nrun_id=", info(first, "top", ""), kernel);
	for (size_t i = 0; i < nl; i++)
		if (!strcmp(ls[i].kernel, kernel))
			bput(&text, "%s%s", &ls[i] == first ? "" : "+", info(&ls[i], "run_id", ""));
	bput(&text, "\njobs=%s\nwall_ms=%ld\nfresh=%s\nkube_proxy=%s\n", info(first, "jobs", "0"),
	     wall, info(first, "fresh", "0"), info(first, "kube_proxy", ""));
	for (int d = 0; d < 5; d++) {
		bput(&text, "%s=%s\n", dim[d], dims[d].s ? dims[d].s : "");
		free(dims[d].s);
	}
	for (size_t i = 0; i < nl; i++)
		if (!strcmp(ls[i].kernel, kernel))
			bput(&text, "merged=%s %u/%u %s\n", ls[i].hash, ls[i].index, ls[i].total,
			     ls[i].dir);
	memset(out, 0, sizeof(*out));
	if (text.oom || kv_parse(text.s, &out->info, &err) < 0) {
		free(text.s);
		bput(e, "cannot merge: %s\n", err ? err : "out of memory");
		free(err);
		return -1;
	}
	free(text.s);
	out->rec = calloc(total ? total : 1, sizeof(*out->rec));
	if (!out->rec) {
		e->oom = true;
		return -1;
	}
	/* each selection in the order first met, its records in the selection's order */
	for (size_t i = 0; i < nl; i++) {
		size_t nsel;
		const char **sel;

		if (strcmp(ls[i].kernel, kernel))
			continue;
		if (!ls[i].sharded) {
			for (size_t r = 0; r < ls[i].run.n; r++) {
				out->rec[c++] = ls[i].run.rec[r];
				memset(&ls[i].run.rec[r], 0, sizeof(ls[i].run.rec[r]));
			}
			continue;
		}
		bool first_of_sel = true;

		for (size_t j = 0; j < i; j++)
			if (!strcmp(ls[j].kernel, kernel) && ls[j].group == ls[i].group)
				first_of_sel = false;
		if (!first_of_sel)
			continue;
		nsel = ids_of(&ls[i].run, "selection", NULL);
		sel = calloc(nsel ? nsel : 1, sizeof(*sel));
		if (!sel) {
			e->oom = true;
			return -1;
		}
		ids_of(&ls[i].run, "selection", sel);
		for (size_t k = 0; k < nsel; k++)
			for (size_t j = i; j < nl; j++) {
				const char *cells[1];
				size_t r = 0;

				if (strcmp(ls[j].kernel, kernel) || ls[j].group != ls[i].group)
					continue;
				for (size_t p = 0; p < ls[j].run.info.n; p++) {
					if (strcmp(ls[j].run.info.pairs[p].key, "cell"))
						continue;
					cells[0] = ls[j].run.info.pairs[p].value;
					if (!strcmp(cells[0], sel[k]) && r < ls[j].run.n &&
					    c < total) {
						out->rec[c++] = ls[j].run.rec[r];
						memset(&ls[j].run.rec[r], 0,
						       sizeof(ls[j].run.rec[r]));
					}
					r++;
				}
			}
		free(sel);
	}
	out->n = c;
	return 0;
}

int merge_load(char *const *dirs, size_t ndirs, struct merge *m, char **err)
{
	struct strs found = {0};
	struct loaded *ls = NULL;
	struct buf e = {0};
	struct strs kernels = {0};
	size_t nl = 0;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < ndirs; i++) {
		size_t before = found.n;

		if (has_run(dirs[i])) {
			if (strs_add(&found, dirs[i]) < 0)
				goto oom;
			continue;
		}
		if (find_runs(dirs[i], 0, &found) < 0)
			goto oom;
		if (found.n == before)
			bput(&e,
			     "%s: no bench/matrix run in it (no run.kv of kind=matrix below it)\n",
			     dirs[i]);
		qsort(found.v + before, found.n - before, sizeof(*found.v), by_str);
	}
	if (e.len)
		goto fail;
	ls = calloc(found.n ? found.n : 1, sizeof(*ls));
	if (!ls)
		goto oom;
	for (; nl < found.n; nl++) {
		struct loaded *l = &ls[nl];
		char *lerr = NULL;
		struct shard_spec sp = {1, 1};

		l->dir = found.v[nl];
		if (run_load(l->dir, &l->run, &lerr) < 0) {
			bput(&e, "%s: %s\n", l->dir, lerr);
			free(lerr);
			memset(&l->run, 0, sizeof(l->run));
			continue;
		}
		l->kernel = info(l, "kernel", "?");
		l->hash = info(l, "selection_hash", "");
		l->plan = info(l, "plan_hash", "");
		l->sharded = *l->hash;
		if (l->sharded && shard_parse(info(l, "shard", ""), &sp, &lerr) < 0) {
			bput(&e, "%s: shard=%s: %s\n", l->dir, info(l, "shard", ""), lerr);
			free(lerr);
		}
		l->index = sp.index;
		l->total = sp.total;
	}
	if (e.len)
		goto fail;
	if (nl > 1)
		for (size_t i = 0; i < nl; i++)
			if (!ls[i].sharded)
				bput(
				    &e,
				    "%s: the run records no selection (a bench/matrix from before "
				    "--shard): nothing says whether the runs given make it whole\n",
				    ls[i].dir);
	/* the selections of each kernel, each checked */
	for (size_t i = 0; i < nl; i++) {
		size_t k;

		for (k = 0; k < kernels.n && strcmp(kernels.v[k], ls[i].kernel); k++)
			;
		if (k == kernels.n && strs_add(&kernels, ls[i].kernel) < 0)
			goto oom;
		ls[i].group = -1;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(ls[j].kernel, ls[i].kernel) &&
			    !strcmp(ls[j].hash, ls[i].hash)) {
				ls[i].group = ls[j].group;
				break;
			}
		if (ls[i].group < 0)
			ls[i].group = (int)i;
	}
	for (size_t i = 0; i < nl; i++) {
		struct loaded **sel;
		size_t n = 0;

		if (!ls[i].sharded || ls[i].group != (int)i)
			continue;
		sel = calloc(nl, sizeof(*sel));
		if (!sel)
			goto oom;
		for (size_t j = i; j < nl; j++)
			if (!strcmp(ls[j].kernel, ls[i].kernel) && ls[j].group == (int)i)
				sel[n++] = &ls[j];
		check_selection(sel, n, &e);
		free(sel);
	}
	if (e.len || e.oom)
		goto fail;
	m->kernel = calloc(kernels.n ? kernels.n : 1, sizeof(*m->kernel));
	if (!m->kernel)
		goto oom;
	for (size_t k = 0; k < kernels.n; k++) {
		if (build(ls, nl, kernels.v[k], &m->kernel[k], &e) < 0)
			goto fail;
		m->n++;
	}
	/* every kernel's records in one run, sharing the kernels' (all.rec holds copies) */
	{
		size_t total = 0, c = 0;
		struct buf text = {0};
		char *kerr = NULL;

		for (size_t k = 0; k < m->n; k++)
			total += m->kernel[k].n;
		m->all.rec = calloc(total ? total : 1, sizeof(*m->all.rec));
		if (!m->all.rec)
			goto oom;
		for (size_t k = 0; k < m->n; k++)
			for (size_t r = 0; r < m->kernel[k].n; r++)
				m->all.rec[c++] = m->kernel[k].rec[r];
		m->all.n = c;
		for (size_t p = 0; p < m->kernel[0].info.n; p++) {
			const char *key = m->kernel[0].info.pairs[p].key;

			if (!strcmp(key, "kernel") && m->n > 1) {
				bput(&text, "kernel=");
				for (size_t k = 0; k < m->n; k++)
					bput(&text, "%s%s", k ? ", " : "",
					     kv_get(&m->kernel[k].info, "kernel"));
				bput(&text, "\n");
			} else {
				bput(&text, "%s=%s\n", key, m->kernel[0].info.pairs[p].value);
			}
		}
		if (text.oom || kv_parse(text.s ? text.s : "", &m->all.info, &kerr) < 0) {
			free(text.s);
			bput(&e, "cannot merge: %s\n", kerr ? kerr : "out of memory");
			free(kerr);
			goto fail;
		}
		free(text.s);
	}
	rc = 0;
	goto done;
oom:
	e.oom = true;
fail:
	if (e.oom)
		err_set(err, "out of memory");
	else {
		if (e.len && e.s[e.len - 1] == '\n')
			e.s[--e.len] = '\0';
		err_set(err, "the runs do not merge into one report:\n%s", e.s);
	}
	merge_free(m);
done:
	for (size_t i = 0; i < nl; i++)
		run_free(&ls[i].run);
	free(ls);
	free(e.s);
	strs_free(&found);
	strs_free(&kernels);
	return rc;
}

void merge_free(struct merge *m)
{
	for (size_t k = 0; k < m->n; k++)
		run_free(&m->kernel[k]);
	free(m->kernel);
	free(m->all.rec); /* copies of the kernels' records, freed above */
	kv_free(&m->all.info);
	memset(m, 0, sizeof(*m));
}

int merge_render(FILE *f, const struct merge *m, const char *format, char **err)
{
	if (!strcmp(format, "ktap"))
		return ktap_render(f, m->kernel, m->n), 0;
	if (m->n == 1)
		return render(f, &m->kernel[0], format, err);
	if (!strcmp(format, "table")) {
		for (size_t k = 0; k < m->n; k++) {
			fprintf(f, "%skernel %s\n", k ? "\n" : "",
				kv_get(&m->kernel[k].info, "kernel"));
			if (render(f, &m->kernel[k], format, err) < 0)
				return -1;
		}
		return 0;
	}
	return render(f, &m->all, format, err);
}
