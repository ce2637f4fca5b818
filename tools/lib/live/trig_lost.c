/* The triggers that take the client node's conntrack entry away mid-flow: ct-entry-lost
 * (the flow's entry deleted through libnl) and ct-flush (the table emptied with the ctnetlink
 * message `conntrack -F` sends, as a conntrack-tools restart or a cleanup script does). Both lose
 * it in a pause of the stream; the backend's next segment then meets no entry. */
#include "trig.h"
#include "base/clock.h"
#include "ct.h"
#include "netns.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* the loss in a pause, as it happens: when it began, the backend's next seq then, and
 * whether the server is to be told to resume once the entry is gone */
struct gone {
	struct inject_run *r;
	uint64_t t0;
	uint32_t end;
	bool signal, done;
};

/* The entry is gone: how long that took, whether the backend's data came back first (the
 * captures read now: the pause ended by its bound while the entry was going, and the
 * client's ACK of that data may have crossed the node first), and the server told to
 * resume at once, so that the next packet through the node is the backend's. Once. */
static void entry_gone(void *ctx)
{
	struct gone *g = ctx;
	const struct learn_flow *f = g->r->find.flow;
	char *e = NULL;

	if (g->done)
		return;
	g->done = true;
	g->r->nat.loss_ms = now_ms() - g->t0;
	if (g->r->pump(g->r, 0, &e) < 0)
		free(e); /* a poll failure: what the captures hold is read later */
	g->r->nat.resumed_first = f->server.end != g->end;
	if (g->signal)
		child_signal(&g->r->srv, SIGUSR1);
}

/* how the entry goes: what it does, and doing it now; g (NULL: not in a pause) is told
 * as soon as the entry is gone */
struct lose {
	const char *how;
	int (*now)(struct inject_run *r, struct gone *g, char **err);
};

static int delete_entry(struct inject_run *r, struct gone *g, char **err)
{
	int rc;

	if (netns_set(r->node_fd, r->o->node_ns, err) < 0)
		return -1;
	rc = ct_delete(&r->find.ct, err);
	netns_set(r->home_fd, "home", NULL);
	if (rc == 0 && g)
		entry_gone(g);
	return rc;
}

/* the kernel's acknowledgement comes once the table is empty (conntrack -F's exec took
 * 0.3-2.2 s under TCG and load before it got there; the message alone takes no exec) */
static int flush_table(struct inject_run *r, struct gone *g, char **err)
{
	return natural_conntrack_flush(&r->nat, r->node_fd, r->o->node_ns, r->home_fd,
				       g ? entry_gone : NULL, g, err);
}

static const struct lose by_delete = {"deleted the node's conntrack entry", delete_entry};
static const struct lose by_flush = {"a flush (conntrack -F's ctnetlink message) emptied the "
				     "node's table",
				     flush_table};

/* on a stream that never pauses: the node's entry goes right after a fresh ACK of all
 * data, the backend keeps sending */
static int lose_entry(struct inject_run *r, const struct lose *l, char **err)
{
	const struct learn_flow *f = r->find.flow;
	uint32_t ack0 = f->client.ack;
	uint64_t until = now_ms() + 200;
	bool timed = false;

	/* Delete right after a fresh client ACK covering all the backend sent has crossed
	 * the node (the backend's capture holds it): the next packet through the node is
	 * then the backend's next, paced segment. Deleted between a backend segment and
	 * the client's ACK of it, that ACK (to the VIP) would start a new, DNATed entry
	 * first and nothing would leak: a race, not the event. */
	while (!*r->interrupted && now_ms() < until) {
		if (f->client.ack != ack0 && f->client.ack == f->server.end) {
			timed = true;
			break;
		}
		if (r->pump(r, trig_wait_ms(now_ms(), until), err) < 0)
			return -1;
	}
	snprintf(r->out.explain, sizeof(r->out.explain),
		 "the stream never paused: %s %s; the backend keeps sending", l->how,
		 timed ? "right after the client acknowledged all data"
		       : "(no fresh client ACK within 200 ms)");
	return l->now(r, NULL, err);
}

/* Until the backend's resumed data: a segment of the flow that crosses the node first can
 * only be the client's (the keepalive workaround's probe, after 1 s idle) or the backend's
 * answer to it; the probe, to the VIP, makes a new, DNATed entry, and the backend's data
 * would find it (under TCG and load: the loss done 1.05 s into the idle, the server's next
 * segment 590 ms after its signal, the probe between them: clean). So the flow's entry (the
 * client -> VIP tuple) is deleted again through libnl each time; none there (the probe came
 * before the loss, or the backend's answer started an entry of its own, the event) is no
 * error. The outcome is seen from here on (injected). */
static int keep_lost(struct inject_run *r, char **err)
{
	const struct learn_flow *f = r->find.flow;
	const uint32_t end = f->server.end;
	const uint64_t until = now_ms() + r->o->settle_ms;
	uint64_t last = f->last_us;

	r->out.injected = true;
	while (!*r->interrupted && f->server.end == end && !f->server.closed && !f->client.closed &&
	       now_ms() < until) {
		if (f->last_us != last) {
			char *e = NULL;

			last = f->last_us;
			if (delete_entry(r, NULL, &e) == 0)
				r->nat.relost++;
			free(e);
		}
		if (r->pump(r, trig_wait_ms(now_ms(), until), err) < 0)
			return -1;
	}
	return 0;
}

/* The entry must go while nothing is in flight, so that the next packet through the node
 * is the backend's. Between two segments 5 ms apart it raced, on a loaded machine
 * (conntrack -F's exec, or the injector descheduled), the client's ACK of the next
 * segment, which then started a new, DNATed entry first: cells of both were taken for
 * clean. The entry goes in a pause (trig_wait_pause), and the next packet is the backend's
 * resumed segment: the pause lasts until the entry is gone (its bound, trigger.c, is far
 * longer), then the server is told to resume. inject.kv says how long the loss took and
 * whether the backend had resumed first all the same. A flow that does not pause within
 * --settle loses it as before: right after a fresh ACK of all data, the race said in
 * explain. */
static int lose_in_gap(struct inject_run *r, const struct lose *l, char **err)
{
	const struct learn_flow *f = r->find.flow;
	struct gone g = {.r = r};
	struct timespec ts;
	bool paused;

	r->nat.resumed_first = -1;
	if (trig_wait_pause(r, &paused, err) < 0)
		return -1;
	if (!paused)
		return lose_entry(r, l, err);
	g.signal = trig_server_resumes(r);
	snprintf(r->out.explain, sizeof(r->out.explain),
		 "%s in a pause of the stream, the client having acknowledged all "
		 "data; the backend resumes%s",
		 l->how, g.signal ? ", told at once (SIGUSR1)" : "");
	clock_gettime(CLOCK_REALTIME, &ts);
	r->nat.pause_quiet_ms =
	    ((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u - f->last_us) / 1000u;
	g.t0 = now_ms();
	g.end = f->server.end;
	if (l->now(r, &g, err) < 0)
		return -1;
	/* done at conntrack's account or the deletion; here for a tool that said nothing */
	entry_gone(&g);
	if (keep_lost(r, err) < 0) {
		r->out.injected = false;
		return -1;
	}
	return 0;
}

static int cause_delete(struct inject_run *r, char **err)
{
	return lose_in_gap(r, &by_delete, err);
}

static int cause_flush(struct inject_run *r, char **err)
{
	return lose_in_gap(r, &by_flush, err);
}

/* how the pause went: the wire's quiet when it was taken, the loss's time, whether the
 * backend had resumed by the loss's end (the entry then lost mid-stream) */
static void pause_evidence(FILE *f, const struct record *rec)
{
	if (rec->nat->resumed_first < 0)
		return;
	record_kv(f, "natural.pause.quiet_ms", "%llu",
		  (unsigned long long)rec->nat->pause_quiet_ms);
	record_kv(f, "natural.pause.loss_ms", "%llu", (unsigned long long)rec->nat->loss_ms);
	record_kv(f, "natural.pause.resumed_first", "%d", rec->nat->resumed_first);
	record_kv(f, "natural.pause.relost", "%u", rec->nat->relost);
}

static void flush_evidence(FILE *f, const struct record *rec)
{
	pause_evidence(f, rec);
	record_kv(f, "natural.conntrack_flush.exit", "%d", rec->nat->flush_status);
	record_kv(f, "natural.conntrack_flush.output", "%s", rec->nat->flush_out);
}

/* as ct-flush: the deletion lands in a pause of the stream */
const struct trigger_info trig_ct_entry_lost = {
    .name = "ct-entry-lost",
    .kind = TRIGGER_CONNTRACK,
    .summary = "the client node's conntrack entry is deleted mid-flow",
    .cause = cause_delete,
    .acts_in = TRIGGER_ACTS_IN_NODE,
    .acts = "delete a conntrack entry (ct-entry-lost) in",
    .settles_on_data = true,
    .evidence = pause_evidence,
    .bench = trig_bench_gap,
};

/* natural: no segment; the message conntrack -F sends (a ctnetlink delete without a
 * tuple), and the event log's account of the entries made after it; a natural trigger has
 * no probe to see arrive NATed: the backend's next segments have 200 ms to show whether
 * they leak */
const struct trigger_info trig_ct_flush = {
    .name = "ct-flush",
    .kind = TRIGGER_NATURAL,
    .summary = "natural: a table flush (`conntrack -F`'s ctnetlink message) empties the client "
	       "node's table mid-flow",
    .cause = cause_flush,
    .acts_in = TRIGGER_ACTS_IN_NODE,
    .acts = "flush the conntrack table (ct-flush) in",
    .settles_on_data = true,
    .quiet_min_ms = 200,
    .ct_events = true,
    .evidence = flush_evidence,
    .bench = trig_bench_gap,
};
