/* Holding one segment back in a node (delayed-retransmit): an NFQUEUE rule in that node's
 * namespace sends the flow's backend->client packets to a queue this process reads through
 * libnl-nf; each is accepted at once but the first data segment, kept without a verdict
 * until hold_release() re-injects it (NF_ACCEPT), so it crosses the node's conntrack late. */
#ifndef CTR_HOLD_H
#define CTR_HOLD_H

#include "base/addr.h"

#include <stdbool.h>
#include <stdint.h>

struct hold;

/* the segment held, once one is */
struct hold_seg {
	uint32_t seq, ack, len;
	uint64_t t_held; /* now_ms() when it was queued */
};

/* Opens queue `queue` in the namespace ns (a name as netns_enter() takes it) and loads
 * there a rule queueing the packets of s2c (backend -> client, as the node sees them) in
 * prerouting before conntrack, with bypass (no reader: accepted): iptables' NFQUEUE target
 * in raw PREROUTING (comment ctreset-hold), or where that fails (no iptables, no NFQUEUE
 * target) the nftables table inet ctreset-hold (a chain at priority -300).
 * Returns to home_fd. NULL with *err on failure; *unavailable is then set when the machine
 * cannot queue (no nfnetlink_queue, the queue taken by another process, neither rule
 * accepted): a skip, not a failure. */
struct hold *hold_new(const char *ns, int home_fd, const struct ctr_tuple *s2c, uint16_t queue,
		      bool *unavailable, char **err);

/* The queue socket's fd, to poll for readability. */
int hold_fd(const struct hold *h);

/* Reads what is queued: accepts every packet but the first data segment (no SYN, FIN or
 * RST), which is held. 0, or -1 with *err. */
int hold_dispatch(struct hold *h, char **err);

/* Whether a segment is held (or was, and has been released); *seg describes it. */
bool hold_held(const struct hold *h, struct hold_seg *seg);

/* Re-injects the held segment with NF_ACCEPT. 0, or -1 with *err. */
int hold_release(struct hold *h, char **err);

/* Removes the rule (in its namespace, returning to home_fd), accepts what is still
 * queued, closes the queue (a segment still held is dropped with it) and frees h. The
 * nft failure, if any, goes to *err (may be NULL); h is freed whatever happens. NULL is a
 * no-op. 0 or -1. */
int hold_free(struct hold *h, int home_fd, char **err);

/* The ruleset hold_new() loads for s2c into buf (for the tests). */
int hold_ruleset(const struct ctr_tuple *s2c, uint16_t queue, char *buf, size_t n);

#endif
