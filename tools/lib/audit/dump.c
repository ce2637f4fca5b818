/* The dump's files: read from a directory, or written by running the standard tools in a
 * namespace (fork, setns in the child, exec with stdout to the file). */
#include "dump.h"
#include "base/err.h"
#include "base/file.h"
#include "live/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct dump_source sources[DUMP_COUNT] = {
    [DUMP_IPT4] = {"iptables-save", {"iptables-save", NULL}},
    [DUMP_IPT6] = {"ip6tables-save", {"ip6tables-save", NULL}},
    [DUMP_IPT4_LEGACY] = {"iptables-legacy-save", {"iptables-legacy-save", NULL}},
    [DUMP_IPT6_LEGACY] = {"ip6tables-legacy-save", {"ip6tables-legacy-save", NULL}},
    [DUMP_NFT_JSON] = {"nft-ruleset.json", {"nft", "-j", "list", "ruleset", NULL}},
    [DUMP_NFT_TXT] = {"nft-ruleset.txt", {"nft", "list", "ruleset", NULL}},
    [DUMP_SYSCTL] = {"sysctl.txt", {"sysctl", "-a", NULL}},
    [DUMP_UNAME] = {"uname.txt", {"uname", "-r", NULL}},
    [DUMP_IPVS] = {"ipvsadm.txt", {"ipvsadm", "-Sn", NULL}},
    [DUMP_LINK] = {"ip-link.txt", {"ip", "-d", "link", NULL}},
};

const struct dump_source *dump_source(enum dump_file f)
{
	return (unsigned)f < DUMP_COUNT ? &sources[f] : NULL;
}

void dump_free(struct dump *d)
{
	for (int i = 0; i < DUMP_COUNT; i++)
		free(d->text[i]);
	memset(d, 0, sizeof(*d));
}

static int read_file(const char *path, const char *name, char **out, char **err)
{
	size_t n;
	int rc = file_read(path, DUMP_MAX_BYTES, out, &n, err);

	if (rc != 0)
		return rc;
	if (strlen(*out) != n) {
		free(*out);
		*out = NULL;
		return err_set(err, "%s: holds a NUL byte: not the text output of %s", name, name);
	}
	return 0;
}

int dump_read(const char *dir, struct dump *d, char **err)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	if (stat(dir, &st) < 0)
		return err_errno(err, errno, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, "%s: not a directory", dir);
	for (int i = 0; i < DUMP_COUNT; i++) {
		char path[4096];
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, sources[i].file);
		rc = read_file(path, sources[i].file, &d->text[i], err);
		if (rc < 0) {
			dump_free(d);
			return -1;
		}
		if (rc > 0)
			snprintf(d->why[i], sizeof(d->why[i]), "no %s in %s", sources[i].file, dir);
	}
	return 0;
}

/* appends "WHAT: WHY" as a line to *notes */
static void note(char **notes, const char *what, const char *why)
{
	char *n = NULL;

	if (asprintf(&n, "%s%s: %s\n", *notes ? *notes : "", what, why) < 0)
		return;
	free(*notes);
	*notes = n;
}

/* runs argv in the namespace nsfd with stdout to path; 0 ran and exited 0, else a
 * sentence in why */
static int run_to(int nsfd, const char *const *argv, const char *path, unsigned timeout_s,
		  char *why, size_t wlen)
{
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), st;
	pid_t pid;
	struct timespec t0, now;

	if (out < 0) {
		snprintf(why, wlen, "cannot write %.160s: %s", path, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(out);
		snprintf(why, wlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(125);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 2);
		}
		dup2(out, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			snprintf(why, wlen, "waitpid: %s", strerror(errno));
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= (time_t)timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(why, wlen, "did not finish within %u s", timeout_s);
			return -1;
		}
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(why, wlen, "not installed");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 125)
		snprintf(why, wlen, "could not enter the namespace");
	else if (WIFEXITED(st))
		snprintf(why, wlen, "exited %d", WEXITSTATUS(st));
	else
		snprintf(why, wlen, "killed by signal %d", WTERMSIG(st));
	return -1;
}

int dump_write_live(const char *netns, const char *dir, unsigned timeout_s, char **notes,
		    char **err)
{
	int fd = netns_open(netns, err);

	*notes = NULL;
	if (fd < 0)
		return -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		close(fd);
		return err_errno(err, errno, "cannot create %s", dir);
	}
	for (int i = 0; i < DUMP_COUNT; i++) {
		char path[4096], why[256];

		snprintf(path, sizeof(path), "%s/%s", dir, sources[i].file);
		if (i == DUMP_UNAME) { /* the kernel is the host's, whatever the namespace */
			struct utsname u;
			FILE *f = fopen(path, "we");

			if (uname(&u) < 0 || !f || fprintf(f, "%s\n", u.release) < 0) {
				if (f)
					fclose(f);
				close(fd);
				return err_errno(err, errno, "cannot write %s", path);
			}
			if (fclose(f) < 0) {
				close(fd);
				return err_errno(err, errno, "cannot write %s", path);
			}
			continue;
		}
		if (run_to(fd, sources[i].argv, path, timeout_s, why, sizeof(why)) < 0) {
			unlink(path);
			note(notes, sources[i].argv[0], why);
			if (!strcmp(why, "could not enter the namespace")) {
				close(fd);
				return err_set(err, "%s: cannot enter the namespace", netns);
			}
		}
	}
	close(fd);
	return 0;
}
