/* The conntrack table of the current network namespace, read and changed through
 * libnl-nf-3 (ctnetlink). */
#ifndef CTR_CT_H
#define CTR_CT_H

#include "base/addr.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

struct ct_flow {
	struct ctr_tuple orig;	/* as the first packet had it: client -> VIP */
	struct ctr_tuple reply; /* as replies are expected: backend -> client */
	uint8_t tcp_state;	/* TCP_CONNTRACK_* (3 = ESTABLISHED) */
	uint32_t id;
};

#define CT_TCP_ESTABLISHED 3

/* a netfilter netlink socket (libnl nfnl_connect), in this thread's namespace; NULL with
 * *err */
struct nl_sock *ct_nfnl_open(char **err);

/* The TCP entry whose reply tuple is reply (as the backend sends: backend -> client),
 * looked up by its hash (no walk of the table every namespace shares, as a dump is):
 * 1 and *flow, 0 when there is none, -1 with *err. */
int ct_get_by_reply(const struct ctr_tuple *reply, struct ct_flow *flow, char **err);

/* Deletes the entry with this original tuple. 0, or -1 with *err. */
int ct_delete(const struct ct_flow *flow, char **err);

/* Empties the conntrack table of the current namespace (every family), then counts what
 * is in it: *removed entries were there before, *left are there after (a packet in
 * flight may create one at once). 0, or -1 with *err. */
int ct_flush(unsigned *removed, unsigned *left, char **err);

/* Sum over CPUs of the "invalid" column of /proc/net/stat/nf_conntrack of the current
 * namespace: packets conntrack could not track or judged out of window. */
int ct_invalid_count(uint64_t *out, char **err);

/* Calls cb for every TCP entry of the current namespace's table (one dump over ctnetlink;
 * it walks the table all namespaces share, so callers space their calls out). A non-zero
 * return from cb stops the walk. 0, or -1 with *err. */
typedef int (*ct_dump_cb)(void *ctx, const struct ct_flow *flow);
int ct_dump(ct_dump_cb cb, void *ctx, char **err);

/* The same over sockets opened once, in the namespace current at ct_handle_open (a
 * socket keeps its namespace): a process that watches a namespace need not enter it
 * again. NULL with *err; ct_handle_close(NULL) is a no-op. */
struct ct_handle;
struct ct_handle *ct_handle_open(char **err);
int ct_handle_get_by_reply(struct ct_handle *h, const struct ctr_tuple *reply, struct ct_flow *flow,
			   char **err);
int ct_handle_dump(struct ct_handle *h, ct_dump_cb cb, void *ctx, char **err);
void ct_handle_close(struct ct_handle *h);

const char *ct_state_name(uint8_t state);

/* conntrack -E's line (conntrack-tools 1.4.7, -o timestamp) for one ctnetlink event
 * message: "[SEC.USEC]\t    [NEW] tcp      6 120 SYN_SENT src=.. dst=.. sport=.. dport=..
 * [UNREPLIED] src=.. ..", the stamp (the time read) from ts. Into buf (len bytes, cut
 * there): its length; 0 for a message that is not a TCP entry's NEW or DESTROY event
 * (what `-p tcp -e NEW,DESTROY` leaves out), -1 for one that does not parse. */
struct nlmsghdr;
struct timespec;
int ct_event_format(struct nlmsghdr *nlh, const struct timespec *ts, char *buf, size_t len);

/* A ctnetlink event subscription (NFNLGRP_CONNTRACK_NEW and _DESTROY, as conntrack -E
 * -e NEW,DESTROY) of the namespace current at ct_events_open; its socket keeps it. */
struct ct_events;
struct ct_events *ct_events_open(char **err);
int ct_events_fd(const struct ct_events *ev);

/* Reads, without waiting, what is queued (at most max messages) and writes each TCP NEW or
 * DESTROY event's line (ct_event_format, stamped now) to f; events the kernel dropped on a
 * full socket are a WARNING line, as conntrack prints. The lines written, or -1 with *err. */
int ct_events_read(struct ct_events *ev, FILE *f, unsigned max, char **err);
void ct_events_close(struct ct_events *ev);

#endif
