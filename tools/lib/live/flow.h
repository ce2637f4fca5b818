/* Flow finding: which connection through the service VIP is the client's, learned from the
 * handshakes the backend captures see and named by the DNAT node's conntrack table, keyed
 * by the full 4-tuple (never by the client's address alone). */
#ifndef CTR_FLOW_H
#define CTR_FLOW_H

#include "ct.h"
#include "learn.h"

#include <signal.h>
#include <stdbool.h>

#define FLOW_MAX_BACKENDS 8
#define FLOW_MAX_CANDIDATES 64

struct flow_find {
	/* given: the service, the client, each backend's address (captured as backend k) */
	struct ctr_endpoint vip;
	struct ctr_addr client_ip;
	struct ctr_addr backend_ip[FLOW_MAX_BACKENDS];
	int n_backends;
	/* bytes of the server's data the client must have acknowledged before the flow is
	 * named, 0: any (an HTTP response's header alone is data: the event must land in
	 * the body) */
	uint32_t min_acked;
	/* handshakes seen at a backend, not yet named, and which backend saw each */
	struct learn_flow cand[FLOW_MAX_CANDIDATES];
	int cand_backend[FLOW_MAX_CANDIDATES];
	int n_cand;
	/* once named: the flow, its backend, its conntrack entry on the DNAT node */
	struct learn_flow *flow;
	int bk;
	struct ct_flow ct;
};

/* Feeds one segment captured at backend k: before the flow is named, a client's SYN starts
 * a candidate and the candidates learn; after, only the flow learns. Whether the segment
 * is of the named flow (seen at its backend). */
bool flow_see_backend(struct flow_find *ff, int k, const struct ctr_pkt *p);

/* Asks the conntrack table of node_fd's namespace (the DNAT node) which learned candidate
 * is the client's ESTABLISHED connection to the VIP; returns to home_fd. 1 named, 0 not
 * yet, -1 with *err. */
int flow_name(struct flow_find *ff, int node_fd, int home_fd, char **err);

/* Calls pump(ctx, wait_ms, err) (which feeds the captures to flow_see_backend) and asks
 * conntrack every few ms until the flow is named, for at most timeout_ms; stops when
 * *interrupted. 0, or -1 with *err saying what was missing. */
int flow_find(struct flow_find *ff, int node_fd, int home_fd, unsigned timeout_ms,
	      int (*pump)(void *ctx, int wait_ms, char **err), void *ctx,
	      const volatile sig_atomic_t *interrupted, char **err);

/* --delay: keeps pumping for ms, so an event is placed against the flow's state then;
 * fails if the flow closes meanwhile. */
int flow_follow(struct flow_find *ff, unsigned ms, int (*pump)(void *ctx, int wait_ms, char **err),
		void *ctx, const volatile sig_atomic_t *interrupted, char **err);

#endif
