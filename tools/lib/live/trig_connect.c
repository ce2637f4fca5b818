/* connect: nothing is done to any flow. The client's own connection is the event: a
 * legitimate connection, to see what a workaround does to ordinary traffic. It is the cell
 * of the asymmetric topology (kubernetes issue 94861): the client pod connects to the
 * backend pod's own address (no VIP) through node A's FORWARD hook, where kube-proxy's
 * KUBE-FORWARD chain is, and node B returns the replies over a link of its own into the
 * client pod, so node A's conntrack sees one direction only: the SYN (entry in SYN_SENT),
 * then the handshake's third packet, an ACK from the original direction, which
 * tcp_conntracks[] maps SYN_SENT -> INVALID ("invalid state", whatever be_liberal says).
 * Without an INVALID drop on that path it is forwarded and the connection works; with one
 * it is dropped, and every later segment: the connection never completes. No flow is found
 * nor learned first (it may never complete); the verdict (works / broken / inconclusive) is
 * ctreset-review's, from the captures and the client's record (client.kv local, peer). */
#include "trig.h"
#include "base/clock.h"
#include "base/err.h"
#include "ct.h"
#include "netns.h"

#include <stdio.h>
#include <stdlib.h>

/* the client's entry in the current namespace's table: the TCP entry from its address */
struct entry_find {
	const struct ctr_addr *client;
	const char *state; /* ct_state_name, NULL: none */
};

static int entry_match(void *ctx, const struct ct_flow *fl)
{
	struct entry_find *e = ctx;

	if (!addr_eq(&fl->orig.src.addr, e->client))
		return 0;
	e->state = ct_state_name(fl->tcp_state);
	return 1;
}

/* each node's entry of the flow, read once half-way through it (at its end the client's
 * RST, when it closes with unread data, deletes an entry that never saw a reply): the
 * node's view of the handshake (node A's SYN_SENT: it never saw the SYN-ACK) */
static void read_states(struct inject_run *r)
{
	for (int i = 0; i < r->o->n_stat_ns; i++) {
		struct entry_find e = {.client = &r->find.client_ip};
		char *err = NULL;

		if (netns_enter(r->o->stat_ns[i], &err) == 0 && ct_dump(entry_match, &e, &err) == 0)
			r->nat.ct_state[i] = e.state ? e.state : "none";
		free(err);
	}
	netns_set(r->home_fd, "home", NULL);
}

/* Waits for the client command to end by itself (bounded: --flow-timeout), reading the
 * nodes' entries --delay ms after it started (default 500), then 200 ms for its last
 * segments (its FIN) to cross the nodes into the captures: the outcome is settled. */
static int cause(struct inject_run *r, char **err)
{
	const uint64_t t0 = now_ms(); /* the command started moments ago: no flow to find */
	const uint64_t at = t0 + (r->o->delay_ms ? r->o->delay_ms : 500);
	const uint64_t deadline = t0 + r->o->flow_timeout_ms;
	bool read = false;
	uint64_t end;

	if (!child_started(&r->cmd))
		return err_set(err, "connect needs the client's command (after --)");
	while (!child_reaped(&r->cmd)) {
		uint64_t now = now_ms();

		if (*r->interrupted)
			return err_set(err, "interrupted");
		if (now >= deadline)
			return err_set(err, "the client's connection did not end within %u ms",
				       r->o->flow_timeout_ms);
		if (!read && now >= at) {
			read_states(r);
			read = true;
		}
		if (r->pump(r, 5, err) < 0)
			return -1;
	}
	if (!read)
		read_states(r); /* a client that ended first: what is left */
	for (end = now_ms() + 200; now_ms() < end && !*r->interrupted;)
		if (r->pump(r, 5, err) < 0)
			return -1;
	snprintf(r->out.explain, sizeof(r->out.explain),
		 "nothing done: the client's own connection ran %llu ms (a legitimate "
		 "connection)",
		 (unsigned long long)(r->cmd.t_end > t0 ? r->cmd.t_end - t0 : 0));
	r->out.settled_by = "the client's connection ended";
	return 0;
}

/* each node's entry half-way through the flow: node A's (the DNAT node's, last of the
 * namespaces) first */
static void evidence(FILE *f, const struct record *rec)
{
	char key[300];

	for (int k = 0; k < rec->n_invalid; k++) {
		int i = (k + rec->n_invalid - 1) % rec->n_invalid;

		if (!rec->nat->ct_state[i])
			continue;
		snprintf(key, sizeof(key), "ct_state.%s", rec->invalid[i].ns);
		record_kv(f, key, "%s", rec->nat->ct_state[i]);
	}
}

/* the stream workload's client, to the backend pod's own address ({backend_ep}, the
 * cell's), for 1 s (a step of the scale more); the nodes' entries read half-way; the
 * captures keep the headers (128 bytes). The http workload has no connect cell. */
static void bench(FILE *f, const struct trigger_bench *b)
{
	const unsigned scale = b->in->time_scale ? b->in->time_scale : 1;

	fprintf(f, "inject\t--snaplen 128 --delay %u\n", 500 * scale);
	if (!b->in->http)
		fprintf(f, "client\t--connect {backend_ep} --timeout %u\n", 1000 * scale);
}

const struct trigger_info trig_connect = {
    .name = "connect",
    .kind = TRIGGER_LEGITIMATE,
    .summary = "legitimate: nothing done; the client's own connection to the backend's "
	       "address (asymmetric routing) is the event",
    .cause = cause,
    .options = TRIGGER_LEARNS_NO_FLOW,
    .evidence = evidence,
    .bench = bench,
};
