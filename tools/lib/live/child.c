/* Child supervision: start in a namespace (with a ready line on fd 3), reap, terminate
 * within bounds; --reset-ns's kill-and-wait over /proc. */
#include "child.h"
#include "netns.h"
#include "base/clock.h"
#include "base/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESET_MAX_NS 8
#define RESET_MAX_PIDS 1024

int child_start(struct child *c, const char *ns, char *const argv[], unsigned ready_ms, char **err)
{
	int fd, pipefd[2] = {-1, -1}, rc;
	struct pollfd pfd;
	char b;

	*c = (struct child){0};
	fd = ns ? netns_open(ns, err) : -1;
	if (ns && fd < 0)
		return -1;
	if (ready_ms && pipe2(pipefd, O_CLOEXEC) < 0) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, errno, "pipe");
	}
	c->pid = fork();
	if (c->pid < 0) {
		c->pid = 0;
		if (fd >= 0)
			close(fd);
		if (ready_ms) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return err_errno(err, errno, "fork");
	}
	if (c->pid == 0) {
		/* the ready pipe on fd 3, open across the exec (dup2 onto itself keeps CLOEXEC) */
		if ((ns && netns_set(fd, ns, NULL) < 0) ||
		    (ready_ms && (pipefd[1] == 3 ? fcntl(3, F_SETFD, 0) : dup2(pipefd[1], 3)) < 0))
			_exit(127);
		setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: running %s: %s\n", program_invocation_short_name, argv[0],
			strerror(errno));
		_exit(127);
	}
	if (fd >= 0)
		close(fd);
	if (!ready_ms)
		return 0;
	close(pipefd[1]);
	pfd = (struct pollfd){.fd = pipefd[0], .events = POLLIN};
	rc = poll(&pfd, 1, (int)ready_ms);
	rc = rc > 0 && read(pipefd[0], &b, 1) == 1 ? 0
	     : rc == 0 ? err_set(err, "the server (%s) did not listen within %u s", argv[0],
				 ready_ms / 1000)
	     : rc < 0 && errno == EINTR
		 ? err_set(err, "interrupted while the server (%s) started", argv[0])
		 : err_set(err, "the server (%s) exited before it listened", argv[0]);
	close(pipefd[0]);
	return rc;
}

bool child_reaped(struct child *c)
{
	if (c->pid > 0 && !c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
		c->exited = true;
		c->t_end = now_ms();
	}
	return c->exited;
}

bool terminate_child(pid_t pid, bool group_term, unsigned grace_ms, int *status)
{
	uint64_t until;

	if (group_term)
		kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	until = now_ms() + grace_ms;
	while (now_ms() < until) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		poll(NULL, 0, 1);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	return waitpid(pid, status, 0) == pid;
}

void child_stop(struct child *c, bool group, unsigned grace_ms)
{
	if (c->pid <= 0 || child_reaped(c))
		return;
	c->stopped = true;
	if (terminate_child(c->pid, group, grace_ms, &c->status))
		c->exited = true;
}

void child_exit_str(const struct child *c, char *buf, size_t n)
{
	if (c->exited && WIFEXITED(c->status))
		snprintf(buf, n, "%d", WEXITSTATUS(c->status));
	else if (c->exited && WIFSIGNALED(c->status))
		snprintf(buf, n, "signal %d", WTERMSIG(c->status));
	else
		snprintf(buf, n, "unknown");
}

char child_proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* a process that still runs (a zombie's sockets are closed already) */
static bool alive(pid_t pid)
{
	char st = child_proc_state(pid);

	return st && st != 'Z' && st != 'X';
}

/* as `ip netns pids` finds them: /proc/PID/ns/net is that namespace. What
 * ctr_reset_topology did with an ip exec, a kill and no wait. */
int child_reset_ns(const char *const names[], int n, unsigned killed[], char **err)
{
	struct stat want[RESET_MAX_NS];
	pid_t pids[RESET_MAX_PIDS];
	unsigned n_pids = 0;
	uint64_t until;
	struct dirent *de;
	DIR *d;

	if (n > RESET_MAX_NS)
		return err_set(err, "at most %d --reset-ns", RESET_MAX_NS);
	/* only a bench namespace, by name; the caller has already refused the host's and any
	 * namespace no run created (the guard of --flush-ct and ct-entry-lost) */
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		if (strncmp(names[i], "ctr-", 4) || strchr(names[i], '/'))
			return err_set(err, "--reset-ns %s: only a bench namespace (ctr-*) by name",
				       names[i]);
		snprintf(path, sizeof(path), "/run/netns/%s", names[i]);
		if (stat(path, &want[i]) < 0)
			return err_errno(err, errno, "namespace %s", path);
	}
	d = opendir("/proc");
	if (!d)
		return err_errno(err, errno, "/proc");
	while ((de = readdir(d))) {
		char path[64], *end;
		long pid = strtol(de->d_name, &end, 10);
		struct stat st;

		if (*end || pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st) < 0)
			continue;
		for (int i = 0; i < n; i++)
			if (st.st_dev == want[i].st_dev && st.st_ino == want[i].st_ino) {
				if (kill((pid_t)pid, SIGKILL) == 0 && n_pids < RESET_MAX_PIDS)
					pids[n_pids++] = (pid_t)pid;
				killed[i]++;
				break;
			}
	}
	closedir(d);
	until = now_ms() + 2000;
	for (unsigned k = 0; k < n_pids; k++)
		while (alive(pids[k])) {
			if (now_ms() >= until)
				return err_set(
				    err,
				    "pid %d in a --reset-ns namespace survived SIGKILL for 2 s",
				    (int)pids[k]);
			poll(NULL, 0, 1);
		}
	return 0;
}
