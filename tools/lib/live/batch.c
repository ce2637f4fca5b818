/* ctreset-inject --cells: the list of cells, and each cell finished after its child (the
 * steps bench/lib.sh's ctr_run_scenario took after a one-shot injector, in its order) */
#include "live/batch.h"

#include "base/err.h"
#include "base/exitcodes.h"
#include "live/cellmeta.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int batch_list_split(struct batch_list *l, char *buf, size_t len, char **err)
{
	size_t i = 0;
	int words = 0;

	*l = (struct batch_list){.buf = buf, .len = len};
	if (!len)
		return err_set(err, "no cell in the list");
	if (buf[len - 1] != '\0')
		return err_set(err, "the list's last word is not ended by a NUL");
	while (i < len) {
		char *w = buf + i;
		size_t wl = strlen(w);

		if (!wl) {
			char ***cells;
			int *n;

			if (!words)
				return err_set(err,
					       "cell %d has no word (two empty words in a row)",
					       l->n_cells + 1);
			cells = realloc(l->cells, sizeof(*cells) * (size_t)(l->n_cells + 1));
			if (cells)
				l->cells = cells;
			n = realloc(l->n_words, sizeof(*n) * (size_t)(l->n_cells + 1));
			if (n)
				l->n_words = n;
			if (!cells || !n)
				return err_set(err, "out of memory");
			l->cells[l->n_cells] = calloc((size_t)words + 1, sizeof(char *));
			if (!l->cells[l->n_cells])
				return err_set(err, "out of memory");
			l->n_words[l->n_cells++] = words;
			words = 0;
		} else {
			words++;
		}
		i += wl + 1;
	}
	if (words)
		return err_set(err, "cell %d is not ended by an empty word", l->n_cells + 1);
	/* the words, in place */
	i = 0;
	for (int c = 0; c < l->n_cells; c++) {
		for (int k = 0; k < l->n_words[c]; k++) {
			l->cells[c][k] = buf + i;
			i += strlen(buf + i) + 1;
		}
		i++; /* the empty word */
	}
	return 0;
}

int batch_list_read(struct batch_list *l, const char *path, char **err)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	*l = (struct batch_list){0};
	if (fd < 0)
		return err_errno(err, errno, "--cells %s", path);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 16384);

			if (!b) {
				free(buf);
				return err_set(err, "out of memory");
			}
			buf = b;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			if (fd != STDIN_FILENO)
				close(fd);
			return err_errno(err, e, "--cells %s", path);
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (batch_list_split(l, buf, len, err) < 0)
		return err_wrap(err, "--cells %s", path);
	return 0;
}

void batch_list_free(struct batch_list *l)
{
	for (int c = 0; l->cells && c < l->n_cells; c++)
		free(l->cells[c]);
	free(l->cells);
	free(l->n_words);
	free(l->buf);
	*l = (struct batch_list){0};
}

void batch_killed_line(char *buf, size_t n, int sig)
{
	const char *abbrev = sigabbrev_np(sig);

	snprintf(buf, n,
		 "ctreset-inject was killed by signal %d (SIG%s) mid-cell: no record of the event",
		 sig, abbrev ? abbrev : "?");
}

static void path_of(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static bool exists(const char *dir, const char *name)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), dir, name);
	return access(p, F_OK) == 0;
}

/* appends LEN bytes to DIR/NAME (created) */
static void append(const char *dir, const char *name, const char *s, size_t len)
{
	char p[PATH_MAX];
	int fd;

	path_of(p, sizeof(p), dir, name);
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	while (len) {
		ssize_t w = write(fd, s, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		s += w;
		len -= (size_t)w;
	}
	close(fd);
}

static void append_line(const char *dir, const char *name, const char *line)
{
	append(dir, name, line, strlen(line));
	append(dir, name, "\n", 1);
}

/* exit 4 of a child that left no record: DIR/skip from inject.kv's skip= lines (bash's
 * `sed -n 's/^skip=//p' DIR/inject.kv >DIR/skip`: the file made even when there is none) */
static void skip_from_inject(const char *dir)
{
	char p[PATH_MAX], line[8192];
	FILE *in, *out;

	path_of(p, sizeof(p), dir, "skip");
	out = fopen(p, "we");
	if (!out)
		return;
	path_of(p, sizeof(p), dir, "inject.kv");
	in = fopen(p, "re");
	while (in && fgets(line, sizeof(line), in))
		if (!strncmp(line, "skip=", 5))
			fputs(line + 5, out);
	if (in)
		fclose(in);
	fclose(out);
}

/* the child's stderr (ERRFD, from its start) appended to DIR/error when there is any */
static void copy_errors(const char *dir, int errfd)
{
	char buf[16384];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(errfd, buf, sizeof(buf), off)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0) {
			append(dir, "error", buf, (size_t)n);
			off += n;
		}
}

/* what the review's own program would say on stderr, into ERRFD */
static void say(int errfd, const char *prog, const char *msg)
{
	if (dprintf(errfd, "%s: %s\n", prog, msg ? msg : "out of memory") < 0)
		return;
}

/* the cell the child left no record of, finished here: meta.kv whole, the server's
 * record checked, the review, time.verdict_ms. 0, or -1 when the review failed. */
static int finish_unrecorded(const struct batch_cell *c, int errfd, uint64_t start, uint64_t end)
{
	struct cellmeta m = {.t0_ms = c->t0_ms};
	struct cellmeta_times t = {.start = start, .inject = end};
	char *err = NULL;
	int rc = 0;

	for (int i = 0; i < c->n_meta && i < CELLMETA_MAX_LINES; i++)
		m.given[m.n_given++] = c->meta[i];
	if (c->has_server && !exists(c->out, "server.kv"))
		append_line(c->out, "error", "server left no record");
	t.end = cellmeta_now_ms();
	if (cellmeta_write(&m, c->out, &t, &err) < 0) {
		say(errfd, "ctreset-inject", err);
		free(err);
		err = NULL;
	}
	if (c->review(c->out, false, &err) < 0) {
		say(errfd, "ctreset-review", err);
		free(err);
		err = NULL;
		rc = -1;
	}
	if (cellmeta_append(c->out, "time.verdict_ms", cellmeta_now_ms() - t.end, &err) < 0) {
		say(errfd, "ctreset-inject", err);
		free(err);
	}
	return rc;
}

int batch_cell_finish(const struct batch_cell *c, int status, int errfd, uint64_t start,
		      uint64_t end)
{
	int rc = WIFEXITED(status)     ? WEXITSTATUS(status)
		 : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
				       : CTR_EXIT_FAIL;
	bool recorded = exists(c->out, "record.kv");
	char p[PATH_MAX];
	struct stat st;

	if (rc && !recorded && rc == CTR_EXIT_SKIP)
		skip_from_inject(c->out);
	if (rc > 128) { /* killed (by a person, the OOM killer): said first */
		char line[256];

		batch_killed_line(line, sizeof(line), rc - 128);
		append_line(c->out, "error", line);
	}
	if (!recorded && finish_unrecorded(c, errfd, start, end) < 0 && !rc)
		rc = CTR_EXIT_FAIL;
	copy_errors(c->out, errfd);
	path_of(p, sizeof(p), c->out, "error");
	if (stat(p, &st) == 0 && st.st_size == 0)
		remove(p);
	else if (stat(p, &st) == 0) {
		/* the record again with the whole error, once it is all there */
		char *err = NULL;

		c->review(c->out, true, &err);
		free(err);
	}
	return rc;
}
