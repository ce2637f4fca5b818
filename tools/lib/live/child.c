/* Child supervision: start in a namespace (with a ready line on fd 3), reap, terminate
 * within bounds, as a process or (the stream workload) a thread; --reset-ns's
 * kill-and-wait over /proc. */
#include "child.h"
#include "netns.h"
#include "stream.h"
#include "base/clock.h"
#include "base/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* the in-process child: a thread running the stream workload in a namespace */
struct child_thread {
	pthread_t tid;
	struct stream_opts o;  /* its strings point into the caller's argv */
	struct stream_ctl ctl; /* its stop and resume */
	int ns_fd;	       /* the namespace it enters first, -1: the caller's */
	const char *ns;	       /* its name, for a message */
	int done_fd;	       /* an eventfd written once the run has ended */
	atomic_bool done;      /* the run has ended: rc is set */
	int rc;		       /* stream_run's exit status, 127: it never ran */
};

#define RESET_MAX_NS 8
#define RESET_MAX_PIDS 1024

/* argv[0] is the ctreset-workload installed beside this program (the same file: a
 * wrapper of that name elsewhere, a test's, stays a process) */
static bool own_workload(const char *path)
{
	const char *base = strrchr(path, '/');
	char dir[PATH_MAX], mine[PATH_MAX + 32], *slash;
	struct stat a, b;
	ssize_t n;

	if (!base || strcmp(base + 1, "ctreset-workload"))
		return false;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		return false;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash)
		return false;
	*slash = '\0';
	snprintf(mine, sizeof(mine), "%s/ctreset-workload", dir);
	return stat(path, &a) == 0 && stat(mine, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void *thread_main(void *arg)
{
	struct child_thread *t = arg;
	uint64_t one = 1;
	char *e = NULL;

	if (t->ns_fd >= 0 && netns_set(t->ns_fd, t->ns, &e) < 0) {
		fprintf(stderr, "%s: ctreset-workload: %s\n", program_invocation_short_name, e);
		free(e);
		if (t->o.ready_fd >= 0)
			close(t->o.ready_fd);
	} else {
		t->rc = stream_run(&t->o, &t->ctl);
	}
	if (t->ns_fd >= 0)
		close(t->ns_fd);
	atomic_store(&t->done, true);
	if (write(t->done_fd, &one, sizeof(one)) < 0) {
		/* an eventfd's counter does not fill with one write */
	}
	return NULL;
}

static void thread_free(struct child_thread *t)
{
	stream_ctl_free(&t->ctl);
	if (t->done_fd >= 0)
		close(t->done_fd);
	free(t);
}

/* The stream workload in a thread: 1 when argv is not one a thread runs (the caller forks
 * it); else 0 (the thread runs, owning ns_fd and ready_w) or -1 with *err. */
static int thread_start(struct child *c, int ns_fd, const char *ns, char *const argv[], int ready_w,
			char **err)
{
	struct child_thread *t;
	struct stream_opts o;
	sigset_t all, old;
	int argc = 0, rc;
	char *perr = NULL;

	while (argv[argc])
		argc++;
	/* a usage error is the process's to print and exit 2 with, as it did; --daemon forks
	 * and --pidfile names a process: both stay processes */
	if (stream_parse(argc, argv, &o, &perr) < 0 || o.help || o.daemon || o.pidfile) {
		free(perr);
		return 1;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(err, "out of memory");
	t->o = o;
	t->o.ready_fd = ready_w;
	t->ns_fd = ns_fd;
	t->ns = ns;
	t->rc = 127;
	atomic_init(&t->done, false);
	t->ctl.wake_fd = -1;
	t->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->done_fd < 0) {
		rc = err_errno(err, errno, "eventfd");
		thread_free(t);
		return rc;
	}
	if (stream_ctl_init(&t->ctl, err) < 0) {
		thread_free(t);
		return -1;
	}
	/* signals stay with the main thread (its waits end on them); SIGPIPE of a ready line
	 * nobody reads any more stays pending on this thread, the write fails EPIPE */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->tid, NULL, thread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		thread_free(t);
		return err_errno(err, rc, "pthread_create");
	}
	c->thread = t;
	c->in_process = true;
	return 0;
}

/* waits for the ready line (a byte) on fd, closes it */
static int wait_ready(int fd, const char *prog, unsigned ready_ms, char **err)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char b;
	int rc;

	rc = poll(&pfd, 1, (int)ready_ms);
	rc = rc > 0 && read(fd, &b, 1) == 1 ? 0
	     : rc == 0
		 ? err_set(err, "the server (%s) did not listen within %u s", prog, ready_ms / 1000)
	     : rc < 0 && errno == EINTR
		 ? err_set(err, "interrupted while the server (%s) started", prog)
		 : err_set(err, "the server (%s) exited before it listened", prog);
	close(fd);
	return rc;
}

int child_start(struct child *c, const char *ns, char *const argv[], unsigned ready_ms,
		enum child_how how, char **err)
{
	int fd, pipefd[2] = {-1, -1}, rc;

	*c = (struct child){0};
	fd = ns ? netns_open(ns, err) : -1;
	if (ns && fd < 0)
		return -1;
	if (ready_ms && pipe2(pipefd, O_CLOEXEC) < 0) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, errno, "pipe");
	}
	if (how == CHILD_AUTO && own_workload(argv[0])) {
		rc = thread_start(c, fd, ns, argv, ready_ms ? pipefd[1] : -1, err);
		if (rc <= 0) {
			/* the thread owns fd and the pipe's write end now, or nobody does */
			if (rc < 0) {
				if (fd >= 0)
					close(fd);
				if (ready_ms) {
					close(pipefd[0]);
					close(pipefd[1]);
				}
				return -1;
			}
			return ready_ms ? wait_ready(pipefd[0], argv[0], ready_ms, err) : 0;
		}
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
	return wait_ready(pipefd[0], argv[0], ready_ms, err);
}

bool child_started(const struct child *c)
{
	return c->pid > 0 || c->in_process;
}

/* a thread whose run has ended: joined, its status as a process's exit with its code */
static void thread_join(struct child *c)
{
	struct child_thread *t = c->thread;

	pthread_join(t->tid, NULL);
	c->status = (t->rc & 0xff) << 8;
	c->exited = true;
	c->thread = NULL;
	thread_free(t);
}

bool child_reaped(struct child *c)
{
	if (c->thread && !c->exited && atomic_load(&c->thread->done)) {
		thread_join(c);
		c->t_end = now_ms();
	}
	if (c->pid > 0 && !c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
		c->exited = true;
		c->t_end = now_ms();
	}
	return c->exited;
}

int child_signal(struct child *c, int sig)
{
	if (!child_started(c) || child_reaped(c)) {
		errno = ESRCH;
		return -1;
	}
	if (c->pid > 0)
		return kill(c->pid, sig);
	if (!c->thread) { /* left running by child_stop: it was told to stop already */
		errno = ESRCH;
		return -1;
	}
	if (sig == SIGTERM || sig == SIGINT)
		stream_ctl_stop(&c->thread->ctl);
	else if (sig == SIGUSR1 && c->thread->o.resume_signal)
		stream_ctl_resume(&c->thread->ctl);
	else if (sig != SIGUSR1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void child_kick(struct child *c)
{
	if (child_started(c) && !child_reaped(c) && c->pid <= 0 && c->thread)
		stream_ctl_kick(&c->thread->ctl);
}

/* told to stop, up to grace_ms for the run to end: joined, or detached and left */
static void thread_stop(struct child *c, unsigned grace_ms)
{
	struct child_thread *t = c->thread;
	uint64_t until = now_ms() + grace_ms;

	stream_ctl_stop(&t->ctl);
	while (!atomic_load(&t->done)) {
		struct pollfd p = {.fd = t->done_fd, .events = POLLIN};
		uint64_t now = now_ms();

		if (now >= until) {
			/* it cannot be killed: its loops are bounded by its --timeout and their
			 * poll deadlines; its memory is its own until then (never freed) */
			pthread_detach(t->tid);
			c->thread = NULL;
			return;
		}
		poll(&p, 1, (int)(until - now));
	}
	thread_join(c);
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
	if (!child_started(c) || child_reaped(c))
		return;
	c->stopped = true;
	if (c->in_process) {
		if (c->thread)
			thread_stop(c, grace_ms);
		return;
	}
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
