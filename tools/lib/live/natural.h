/* What the natural triggers do to a node besides waiting (nothing is crafted): the
 * established timeout written and restored (idle-expiry), what conntrack(8) does in the
 * DNAT node done over ctnetlink from the injector (ct-flush's -F, every natural trigger's -E
 * event log), and the account of each for inject.kv. */
#ifndef CTR_NATURAL_H
#define CTR_NATURAL_H

#include "ct.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct natural_events;

#define NATURAL_MAX_NS 4

struct natural {
	/* --ct-timeout: each namespace's value before (restored), whether it was written */
	long old_timeout[NATURAL_MAX_NS];
	bool timeout_set[NATURAL_MAX_NS];
	/* ct-flush: the flush's status (0: done, as conntrack -F's exit) and account */
	int flush_status;
	char flush_out[160];
	/* idle-expiry: the idle gap seen; how long the backend's program was stopped
	 * (--stall-pid), 0: it was not */
	uint64_t idle_ms, stalled_ms;
	/* the event log (natural.c) while it runs; afterwards the NEW entries of the flow
	 * picked up from the backend's side (the first one's line) and re-made from the
	 * client's */
	struct natural_events *events;
	unsigned ct_pickup, ct_renat;
	char pickup_line[300];
	/* delayed-retransmit: the segment held in the backend's node (hold.h), how long, the
	 * flow's state when it was released, and its copies that reached the client NATed */
	bool held;
	uint32_t held_seq, held_ack, held_len;
	uint64_t hold_ms;
	uint32_t release_server_end, release_client_maxwin, release_client_reached;
	bool below_window; /* its end <= server end - client max window: under the lower bound */
	unsigned held_at_client;
	/* connect: each --stat-ns namespace's entry of the client's flow half-way through it
	 * (ct_state_name, "none"), NULL: not read */
	const char *ct_state[NATURAL_MAX_NS];
	/* ct-flush, ct-entry-lost (trig_lost.c): the pause as the injector met it: how long
	 * the wire had been quiet when it was taken, how long the loss took, and whether the
	 * backend's data came back before the loss was done (-1: no pause) */
	uint64_t pause_quiet_ms, loss_ms;
	int resumed_first;
	unsigned relost; /* the flow's entry deleted again before the backend resumed */
};

/* Writes secs into nf_conntrack_tcp_timeout_established of each namespace ns[0..n-1]
 * (per namespace: the host's stays), remembering the old values; back to home_fd. */
int natural_set_timeouts(struct natural *nat, const char *const ns[], int n, unsigned secs,
			 int home_fd, char **err);

/* Writes the remembered values back; failures are printed (a program's last step). */
void natural_restore_timeouts(struct natural *nat, const char *const ns[], int n, int home_fd);

/* Empties the conntrack table of node_fd's namespace (named node_ns) as `conntrack -F`
 * does, a conntrack-tools restart or a cleanup script: the same ctnetlink message
 * (IPCTNL_MSG_CT_DELETE, no tuple), sent from here, no exec; back to home_fd. The status
 * and an account (the entries before and after) are kept. said (NULL: none) is called with
 * ctx once the kernel acknowledged it: the table was empty then. 0, or -1 with *err. */
int natural_conntrack_flush(struct natural *nat, int node_fd, const char *node_ns, int home_fd,
			    void (*said)(void *ctx), void *ctx, char **err);

/* Subscribes in node_fd's namespace to its TCP entries' NEW and DESTROY events (what
 * `conntrack -E -p tcp -e NEW,DESTROY -o timestamp` prints, in its format: ct.h), read by a
 * thread into DIR/ct-events.txt. Failing to start it is not fatal: the captures are the
 * evidence. */
void natural_events_start(struct natural *nat, const char *dir, int node_fd, const char *node_ns);

/* Stops it and counts, for the flow ct (NULL: none found), the NEW entries picked up from
 * the backend's side and those made again from the client's (to vip). */
void natural_events_stop(struct natural *nat, const char *dir, const struct ct_flow *ct,
			 const struct ctr_endpoint *vip);

#endif
