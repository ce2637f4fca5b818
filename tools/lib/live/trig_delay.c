/* delayed-retransmit: nothing crafted. The flow's next backend data segment is held in the
 * backend's node (NFQUEUE, before its conntrack); the client misses it and the backend
 * retransmits it (SACK/fast retransmit), the flow goes on, and once the backend has sent
 * more than the client's max window past it (--hold: after that long) the held copy is
 * released: a real retransmission, below the window conntrack tracks. */
#include "trig.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/seq.h"

#include <stdio.h>

#define HOLD_QUEUE 7	   /* its NFQUEUE number (per namespace) */
#define HOLD_EXTRA_MS 1000 /* without --hold: --flow-timeout + this for the window to move */
#define HOLD_MARGIN 32768u /* bytes past conntrack's lower bound before the release */

/* after a failure: a segment still held is dropped, the rule goes */
static void cleanup(struct inject_run *r)
{
	hold_free(r->hold, r->home_fd, NULL);
	r->hold = NULL;
}

/* Bounded; no segment held, or a flow that ends while it is held, is an error, never a
 * pass. */
static int delay_segment(struct inject_run *r, char **err)
{
	const struct inject_opts *o = r->o;
	const struct learn_flow *f = r->find.flow;
	struct hold_seg seg;
	uint64_t t0;
	bool unavailable;
	int64_t past = 0;

	r->hold = hold_new(o->hold_ns, r->home_fd, &f->tuple, HOLD_QUEUE, &unavailable, err);
	if (!r->hold) {
		r->skip = unavailable;
		return -1;
	}
	for (t0 = now_ms(); !hold_held(r->hold, &seg);) {
		if (*r->interrupted)
			return err_set(err, "interrupted");
		if (f->server.closed || f->client.closed)
			return err_set(err,
				       "no segment held: the flow ended before the backend sent "
				       "one more through %s",
				       o->hold_ns);
		if (now_ms() - t0 >= o->flow_timeout_ms)
			return err_set(err,
				       "no segment held: the backend sent no data through %s "
				       "within %u ms",
				       o->hold_ns, o->flow_timeout_ms);
		if (r->pump(r, trig_wait_ms(now_ms(), t0 + o->flow_timeout_ms), err) < 0)
			return -1;
	}
	r->nat.held = true;
	r->nat.held_seq = seg.seq;
	r->nat.held_ack = seg.ack;
	r->nat.held_len = seg.len;
	for (;;) {
		uint64_t waited = now_ms() - seg.t_held;

		/* conntrack's lower bound for the backend's segments: its td_end minus the
		 * client's td_maxwin; how far the held segment's end is below it. Both as the
		 * client's node has them for sure: td_end at least the backend data the
		 * client acknowledged or SACKed (it crossed that node), not the backend's
		 * own next seq (under TCG tens of KB of it were still in flight: Debian
		 * 5.10's conntrack let the copy pass, NATed); td_maxwin with the SACK span
		 * conntrack adds (swin = win + sack - ack), not the bare window */
		past = seq_diff(seg.seq + seg.len, f->client.reached - f->client.ct_maxwin);
		if (o->hold_ms ? waited >= o->hold_ms : past >= (int64_t)HOLD_MARGIN)
			break;
		if (*r->interrupted)
			return err_set(err, "interrupted");
		if (f->server.closed || f->client.closed)
			return err_set(err,
				       "the flow ended while the segment was held (%llu ms%s): "
				       "the delay is longer than the flow",
				       (unsigned long long)waited, o->hold_ms ? " of --hold" : "");
		if (!o->hold_ms && waited >= o->flow_timeout_ms + HOLD_EXTRA_MS)
			return err_set(err,
				       "the window did not move past the held segment within %u ms "
				       "(the client received up to %u, conntrack's max window of "
				       "the client %u, the segment ends at %u)",
				       o->flow_timeout_ms + HOLD_EXTRA_MS, f->client.reached,
				       f->client.ct_maxwin, seg.seq + seg.len);
		/* --hold: its end; else the window moves with the packets, the bound */
		if (r->pump(r,
			    trig_wait_ms(now_ms(), seg.t_held + (o->hold_ms ? o->hold_ms
									    : o->flow_timeout_ms +
										  HOLD_EXTRA_MS)),
			    err) < 0)
			return -1;
	}
	r->nat.hold_ms = now_ms() - seg.t_held;
	r->nat.release_server_end = f->server.end;
	r->nat.release_client_maxwin = f->client.ct_maxwin;
	r->nat.release_client_reached = f->client.reached;
	r->nat.below_window = past >= 0;
	snprintf(r->out.explain, sizeof(r->out.explain),
		 "nothing crafted: the backend's segment seq %u len %u was held %llu ms in %s "
		 "and released when the client had received up to %u (the backend's next seq "
		 "%u) and conntrack's max window of the client was %u: %s",
		 seg.seq, seg.len, (unsigned long long)r->nat.hold_ms, o->hold_ns,
		 f->client.reached, f->server.end, f->client.ct_maxwin,
		 past >= 0 ? "its end is below conntrack's lower bound (already ACKed data)"
			   : "its end is still within the window");
	if (hold_release(r->hold, err) < 0)
		return -1;
	/* the rule goes at once: the rest of the flow does not pay the detour */
	return hold_free(r->hold, r->home_fd, err) == 0 ? (r->hold = NULL, 0)
							: (r->hold = NULL, -1);
}

static void evidence(FILE *f, const struct record *rec)
{
	const struct natural *nat = rec->nat;

	if (!nat->held)
		return;
	record_kv(f, "natural.held.ns", "%s", rec->hold_ns);
	record_kv(f, "natural.held.seq", "%u", nat->held_seq);
	record_kv(f, "natural.held.ack", "%u", nat->held_ack);
	record_kv(f, "natural.held.len", "%u", nat->held_len);
	record_kv(f, "natural.held.delay_ms", "%llu", (unsigned long long)nat->hold_ms);
	record_kv(f, "natural.held.release_server_next_seq", "%u", nat->release_server_end);
	record_kv(f, "natural.held.release_client_max_window", "%u", nat->release_client_maxwin);
	record_kv(f, "natural.held.release_client_reached", "%u", nat->release_client_reached);
	record_kv(f, "natural.held.below_window", "%d", nat->below_window);
	record_kv(f, "natural.held.natted_at_client", "%u", nat->held_at_client);
}

/* held in the backend's node; every packet of the flow waits for the injector's verdict
 * meanwhile, and while it runs nft the captures are not read: 8 MiB rings (a TCG guest
 * dropped ~150 frames a capture with 1 MiB). The stream: a chunk a millisecond, the window
 * moves past the held segment in ~0.1 s, not the 0.5 s of the default pace. The http
 * workload: a body 3 times the payload, at 3 times the rate: the window must move curl's
 * autotuned max window (2.9-4.8 MB measured) past the held segment */
static void bench(FILE *f, const struct trigger_bench *b)
{
	fputs("inject\t--hold-ns {backend_node} --capture-buffer 8192\n", f);
	fputs(b->in->http ? "body\t3\n" : "server\t--interval 1\n", f);
}

const struct trigger_info trig_delayed_retransmit = {
    .name = "delayed-retransmit",
    .kind = TRIGGER_NATURAL,
    .summary = "natural: one backend segment held in the backend's node (NFQUEUE) until the "
	       "window moved on, then released",
    .cause = delay_segment,
    .cleanup = cleanup,
    .options = TRIGGER_NEEDS_HOLD_NS,
    .acts_in = TRIGGER_ACTS_IN_HOLD,
    .acts = "hold a segment with NFQUEUE (delayed-retransmit) in",
    .settles_on_data = true,
    .quiet_min_ms = 200,
    .ct_events = true,
    .evidence = evidence,
    .bench = bench,
};
