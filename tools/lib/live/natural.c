/* The natural triggers' node actions: the established timeout, conntrack -F, conntrack -E. */
#include "natural.h"
#include "child.h"
#include "netns.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CT_TIMEOUT_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established"

/* writes v into the current namespace's established timeout; *old gets what was there */
static int write_timeout(long v, long *old, char **err)
{
	FILE *f = fopen(CT_TIMEOUT_SYSCTL, "r+e");
	int rc = 0;

	if (!f)
		return err_errno(err, errno, "%s", CT_TIMEOUT_SYSCTL);
	if (old && fscanf(f, "%ld", old) != 1)
		rc = err_set(err, "%s: unreadable", CT_TIMEOUT_SYSCTL);
	else if (fseek(f, 0, SEEK_SET) < 0 || fprintf(f, "%ld\n", v) < 0)
		rc = err_errno(err, errno, "%s", CT_TIMEOUT_SYSCTL);
	if (fclose(f) != 0 && !rc)
		rc = err_errno(err, errno, "%s", CT_TIMEOUT_SYSCTL);
	return rc;
}

int natural_set_timeouts(struct natural *nat, const char *const ns[], int n, unsigned secs,
			 int home_fd, char **err)
{
	for (int i = 0; secs && i < n && i < NATURAL_MAX_NS; i++) {
		if (netns_enter(ns[i], err) < 0 ||
		    write_timeout(secs, &nat->old_timeout[i], err) < 0) {
			netns_set(home_fd, "home", NULL);
			return err_wrap(err, "--ct-timeout in %s", ns[i]);
		}
		nat->timeout_set[i] = true;
	}
	return netns_set(home_fd, "home", err);
}

void natural_restore_timeouts(struct natural *nat, const char *const ns[], int n, int home_fd)
{
	char *err = NULL;

	for (int i = 0; i < n && i < NATURAL_MAX_NS; i++) {
		if (!nat->timeout_set[i])
			continue;
		if (netns_enter(ns[i], &err) < 0 ||
		    write_timeout(nat->old_timeout[i], NULL, &err) < 0) {
			fprintf(stderr, "%s: restoring the timeout in %s: %s\n",
				program_invocation_short_name, ns[i], err);
			free(err);
			err = NULL;
		}
	}
	netns_set(home_fd, "home", NULL);
}

int natural_conntrack_flush(struct natural *nat, int node_fd, const char *node_ns,
			    void (*said)(void *ctx), void *ctx, char **err)
{
	int fds[2], st;
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_errno(err, errno, "fork");
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		if (netns_set(node_fd, node_ns, NULL) < 0)
			_exit(127);
		execlp("conntrack", "conntrack", "-F", (char *)NULL);
		dprintf(STDERR_FILENO, "conntrack: %s", strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while (got < sizeof(nat->flush_out) - 1 &&
	       (n = read(fds[0], nat->flush_out + got, sizeof(nat->flush_out) - 1 - got)) > 0) {
		got += (size_t)n;
		if (said) {
			said(ctx);
			said = NULL;
		}
	}
	close(fds[0]);
	nat->flush_out[got] = 0;
	nat->flush_out[strcspn(nat->flush_out, "\n")] = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "waitpid conntrack");
	nat->flush_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (nat->flush_status != 0)
		return err_set(err, "conntrack -F in %s exited %d: %s", node_ns, nat->flush_status,
			       nat->flush_out);
	return 0;
}

/* An entry picked up from the backend's side (original source the backend, destination
 * the client) is the evidence that the backend's own segment started a new, un-NATed
 * entry; it is gone again at once when the only reply it sees is the client's RST, so a
 * later look at the table would miss it: the event log keeps it. */
void natural_events_start(struct natural *nat, const char *dir, int node_fd, const char *node_ns)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/ct-events.txt", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	nat->ev_pid = fork();
	if (nat->ev_pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (netns_set(node_fd, node_ns, NULL) < 0)
			_exit(127);
		execlp("conntrack", "conntrack", "-E", "-p", "tcp", "-e", "NEW,DESTROY", "-o",
		       "timestamp", (char *)NULL);
		_exit(127);
	}
	close(fd);
	/* the subscription is made before the trigger, which is seconds away */
}

void natural_events_stop(struct natural *nat, const char *dir, const struct ct_flow *ct,
			 const struct ctr_endpoint *vip)
{
	char path[PATH_MAX], line[1024], be[160], cl[160], a[CTR_ADDRSTRLEN], b[CTR_ADDRSTRLEN];
	FILE *f;

	if (nat->ev_pid <= 0)
		return;
	/* conntrack -E has printed the last events once it sleeps again: the kernel queued
	 * every event on its socket when it happened (before this call), and a queued event
	 * makes a sleeping reader runnable at once; so "sleeping now" means "read them all".
	 * Bounded by the 100 ms that used to be a fixed wait here. */
	for (int i = 0; i < 100 && child_proc_state(nat->ev_pid) != 'S'; i++)
		usleep(1000);
	kill(nat->ev_pid, SIGTERM);
	while (waitpid(nat->ev_pid, NULL, 0) < 0 && errno == EINTR)
		;
	nat->ev_pid = 0;
	if (!ct)
		return;
	snprintf(path, sizeof(path), "%s/ct-events.txt", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	snprintf(be, sizeof(be), "src=%s dst=%s sport=%u dport=%u ",
		 addr_str(&ct->reply.src.addr, b), addr_str(&ct->orig.src.addr, a),
		 ct->reply.src.port, ct->orig.src.port);
	snprintf(cl, sizeof(cl), "src=%s dst=%s sport=%u dport=%u ",
		 addr_str(&ct->orig.src.addr, a), addr_str(&vip->addr, b), ct->orig.src.port,
		 vip->port);
	while (fgets(line, sizeof(line), f)) {
		char *o = strstr(line, "src=");

		if (!strstr(line, "[NEW]") || !o)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(o, be, strlen(be)) && !nat->ct_pickup++)
			snprintf(nat->pickup_line, sizeof(nat->pickup_line), "%.290s", line);
		else if (!strncmp(o, cl, strlen(cl)))
			nat->ct_renat++;
	}
	fclose(f);
}
