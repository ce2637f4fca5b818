/* The triggers that take the client node's conntrack entry away mid-flow: ct-entry-lost
 * (the flow's entry deleted through libnl) and ct-flush (Debian's `conntrack -F` empties
 * the table, as a conntrack-tools restart or a cleanup script does). Both lose it in a
 * pause of the stream; the backend's next segment then meets no entry. */
#include "trig.h"
#include "base/clock.h"
#include "ct.h"
#include "netns.h"

#include <signal.h>
#include <stdio.h>

/* how the entry goes: what it does, and doing it now */
struct lose {
	const char *how;
	int (*now)(struct inject_run *r, char **err);
};

static int delete_entry(struct inject_run *r, char **err)
{
	int rc;

	if (netns_set(r->node_fd, r->o->node_ns, err) < 0)
		return -1;
	rc = ct_delete(&r->find.ct, err);
	netns_set(r->home_fd, "home", NULL);
	return rc;
}

static int flush_table(struct inject_run *r, char **err)
{
	return natural_conntrack_flush(&r->nat, r->node_fd, r->o->node_ns, err);
}

static const struct lose by_delete = {"deleted the node's conntrack entry", delete_entry};
static const struct lose by_flush = {"conntrack -F emptied the node's table", flush_table};

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
		if (r->pump(r, 1, err) < 0)
			return -1;
	}
	snprintf(r->out.explain, sizeof(r->out.explain),
		 "the stream never paused: %s %s; the backend keeps sending", l->how,
		 timed ? "right after the client acknowledged all data"
		       : "(no fresh client ACK within 200 ms)");
	return l->now(r, err);
}

/* The entry must go while nothing is in flight, so that the next packet through the node
 * is the backend's. Between two segments 5 ms apart it raced, on a loaded machine
 * (conntrack -F's exec, or the injector descheduled), the client's ACK of the next
 * segment, which then started a new, DNATed entry first: cells of both were taken for
 * clean. The entry goes in a pause (trig_wait_pause), and the next packet is the backend's
 * resumed segment. A flow that does not pause within --settle loses it as before: right
 * after a fresh ACK of all data, the race said in explain. */
static int lose_in_gap(struct inject_run *r, const struct lose *l, char **err)
{
	bool paused, signal;

	if (trig_wait_pause(r, &paused, err) < 0)
		return -1;
	if (!paused)
		return lose_entry(r, l, err);
	signal = trig_server_resumes(r);
	snprintf(r->out.explain, sizeof(r->out.explain),
		 "%s in a pause of the stream, the client having acknowledged all "
		 "data; the backend resumes%s",
		 l->how, signal ? ", told at once (SIGUSR1)" : "");
	if (l->now(r, err) < 0)
		return -1;
	/* the pause ends now rather than at its bound: the next packet through the node is
	 * still the backend's, however long the loss took */
	if (signal)
		kill(r->srv.pid, SIGUSR1);
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

static void flush_evidence(FILE *f, const struct record *rec)
{
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
    .bench = trig_bench_gap,
};

/* natural: no segment, no libnl call; the real tool, and conntrack -E's account of the
 * entries made after it; a natural trigger has no probe to see arrive NATed: the backend's
 * next segments have 200 ms to show whether they leak */
const struct trigger_info trig_ct_flush = {
    .name = "ct-flush",
    .kind = TRIGGER_NATURAL,
    .summary = "natural: `conntrack -F` (conntrack-tools) empties the client node's table "
	       "mid-flow",
    .cause = cause_flush,
    .acts_in = TRIGGER_ACTS_IN_NODE,
    .acts = "run conntrack -F (ct-flush) in",
    .settles_on_data = true,
    .quiet_min_ms = 200,
    .ct_events = true,
    .evidence = flush_evidence,
    .bench = trig_bench_gap,
};
