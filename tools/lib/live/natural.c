/* The natural triggers' node actions: the established timeout, the table's flush and the
 * event log over ctnetlink (what conntrack -F and conntrack -E do, without their exec). */
#include "natural.h"
#include "netns.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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

/* Test hook, as CTR_FAULT_AT: CTR_FLUSH_DELAY_MS=N (1-5000) makes the flush start N ms
 * late, a slow flusher (conntrack -F's exec took 0.3-2.2 s under TCG and load):
 * tests/integration/test_slow_loss.sh holds the pause to lasting until the table is empty */
static void flush_test_delay(void)
{
	const char *v = getenv("CTR_FLUSH_DELAY_MS");
	char *end;
	unsigned long ms = v ? strtoul(v, &end, 10) : 0;

	if (v && *v && !*end && ms >= 1 && ms <= 5000)
		usleep((useconds_t)(ms * 1000));
}

int natural_conntrack_flush(struct natural *nat, int node_fd, const char *node_ns, int home_fd,
			    void (*said)(void *ctx), void *ctx, char **err)
{
	unsigned removed = 0, left = 0;
	char *e = NULL;
	int rc;

	nat->flush_status = 1;
	flush_test_delay();
	if (netns_set(node_fd, node_ns, err) < 0)
		return snprintf(nat->flush_out, sizeof(nat->flush_out), "%s", *err), -1;
	rc = ct_flush(&removed, &left, &e);
	netns_set(home_fd, "home", NULL);
	if (rc < 0) {
		snprintf(nat->flush_out, sizeof(nat->flush_out), "%s", e);
		err_set(err, "flushing the conntrack table in %s: %s", node_ns, e);
		free(e);
		return -1;
	}
	/* the kernel acknowledged the flush: the table was empty then */
	nat->flush_status = 0;
	snprintf(nat->flush_out, sizeof(nat->flush_out),
		 "ctnetlink: connection tracking table has been emptied (%u entries before, %u "
		 "after)",
		 removed, left);
	if (said)
		said(ctx);
	return 0;
}

/* the event log's reader: a thread of the injector with the subscription's socket (in the
 * DNAT node's namespace), each event stamped as it is read, as conntrack -E stamps it */
struct natural_events {
	struct ct_events *ev;
	FILE *out;
	int stop_fd; /* an eventfd: written once, the reader drains the socket and ends */
	pthread_t thread;
	unsigned lines;
};

/* bounds: a cell's node sees tens of TCP entries made and gone; a reader that met this
 * many is stopped (its log says so) */
#define EVENTS_MAX_LINES 100000u
#define EVENTS_READ_BATCH 256u

static void *events_run(void *arg)
{
	struct natural_events *ne = arg;
	struct pollfd p[2] = {{.fd = ct_events_fd(ne->ev), .events = POLLIN},
			      {.fd = ne->stop_fd, .events = POLLIN}};
	char *err = NULL;
	int n;

	while (ne->lines < EVENTS_MAX_LINES) {
		/* the stop is always seen within a second */
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		/* the stop after what is queued: every event of the cell was queued on the
		 * socket when it happened, before the stop */
		n = ct_events_read(ne->ev, ne->out, EVENTS_READ_BATCH, &err);
		if (n < 0)
			break;
		ne->lines += (unsigned)n;
		if (p[1].revents & POLLIN)
			break;
	}
	if (err)
		fprintf(ne->out, "ERROR: %s\n", err);
	else if (ne->lines >= EVENTS_MAX_LINES)
		fprintf(ne->out, "ERROR: stopped after %u events\n", ne->lines);
	free(err);
	fprintf(ne->out, "ctreset-inject (ctnetlink): %u flow events have been shown.\n",
		ne->lines);
	return NULL;
}

static void events_free(struct natural_events *ne)
{
	if (ne->out)
		fclose(ne->out);
	if (ne->stop_fd >= 0)
		close(ne->stop_fd);
	ct_events_close(ne->ev);
	free(ne);
}

/* An entry picked up from the backend's side (original source the backend, destination
 * the client) is the evidence that the backend's own segment started a new, un-NATed
 * entry; it is gone again at once when the only reply it sees is the client's RST, so a
 * later look at the table would miss it: the event log keeps it. */
void natural_events_start(struct natural *nat, const char *dir, int node_fd, const char *node_ns)
{
	struct natural_events *ne = calloc(1, sizeof(*ne));
	char path[PATH_MAX], *err = NULL;
	sigset_t all, old;
	int here;

	if (!ne)
		return;
	ne->stop_fd = eventfd(0, EFD_CLOEXEC);
	snprintf(path, sizeof(path), "%s/ct-events.txt", dir);
	ne->out = fopen(path, "we");
	/* the socket is made in the node's namespace and keeps it; this thread goes back */
	here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ne->stop_fd < 0 || !ne->out || here < 0 || netns_set(node_fd, node_ns, &err) < 0) {
		if (here >= 0)
			close(here);
		events_free(ne);
		free(err);
		return;
	}
	ne->ev = ct_events_open(&err);
	netns_set(here, "home", NULL);
	close(here);
	if (!ne->ev) {
		fprintf(ne->out, "ERROR: %s\n", err);
		free(err);
		events_free(ne);
		return;
	}
	/* signals stay with the main thread (its waits end on them) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&ne->thread, NULL, events_run, ne) != 0)
		events_free(ne);
	else
		nat->events = ne;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* subscribed before this returns: every event from here on is queued for the reader */
}

void natural_events_stop(struct natural *nat, const char *dir, const struct ct_flow *ct,
			 const struct ctr_endpoint *vip)
{
	char path[PATH_MAX], line[1024], be[160], cl[160], a[CTR_ADDRSTRLEN], b[CTR_ADDRSTRLEN];
	struct natural_events *ne = nat->events;
	FILE *f;

	if (!ne)
		return;
	/* the reader reads what is queued and ends, within its poll's second */
	if (write(ne->stop_fd, &(uint64_t){1}, sizeof(uint64_t)) == sizeof(uint64_t))
		pthread_join(ne->thread, NULL);
	else
		pthread_cancel(ne->thread), pthread_join(ne->thread, NULL);
	events_free(ne);
	nat->events = NULL;
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
