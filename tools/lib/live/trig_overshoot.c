/* small-overshoot: a crafted segment just past the client's window, within its max window
 * (accepted since "work around exceeded receive window"), sent in a pause of the stream. */
#include "trig.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* tcp_in_window tests only where a segment *starts*: seq <= td_maxend is in window
 * whatever its end, so the overshoot rule ("%u bytes more than expected") is reached only
 * by a segment starting past td_maxend; it is accepted while end - td_maxend + 1 <= the
 * receiver's td_maxwin */
static void place(const struct learn_flow *f, struct craft_segment *seg, char *explain, size_t n)
{
	const struct learn_dir *c = &f->client;

	seg->seq = c->maxend + 1;
	snprintf(explain, n,
		 "seq %u = client window end %u + 1, overshoot %u bytes <= client max window "
		 "%u; ack %u exact",
		 seg->seq, c->maxend, seg->payload_len + 2, c->maxwin, seg->ack);
}

/* Its segment starts one byte past the client's window end (td_maxend, the highest sack +
 * window of the client's ACKs) as the nodes' conntrack has it. Learned from the backend's
 * capture while the stream moves, that end lags the nodes' by the client's ACKs still on
 * their way to the backend: on Debian 5.10 under TCG the "overshoot" landed inside the
 * window (the client SACKed it) and the cell came out clean where the kernel resets. Sent
 * in a pause of the stream (trig_wait_pause), the learned end is the nodes'; the stream
 * resumes at once after. No pause within --settle: sent as before, and explain says the
 * window may have moved. */
static int send_in_gap(struct inject_run *r, char **err)
{
	bool paused;
	size_t n;

	if (trig_wait_pause(r, &paused, err) < 0)
		return -1;
	trigger_probe(r->o->trigger, r->find.flow, &r->out.probe, r->out.explain,
		      sizeof(r->out.explain));
	n = strlen(r->out.explain);
	snprintf(r->out.explain + n, sizeof(r->out.explain) - n, "; %s",
		 paused ? "sent in a pause of the stream, the client having acknowledged all data"
			: "the stream never paused: the client's window may have moved past the "
			  "segment before it reached the nodes");
	if (craft_send(r->craft[r->find.bk], &r->out.probe, err) < 0)
		return -1;
	r->sent_in_pause = paused;
	if (paused && trig_server_resumes(r))
		child_signal(&r->srv, SIGUSR1);
	return 0;
}

/* sent in a pause of the stream (as ct-flush), where the window end the injector learned
 * is the nodes' conntrack's: the stream resumes when it was sent */
const struct trigger_info trig_small_overshoot = {
    .name = "small-overshoot",
    .kind = TRIGGER_CRAFTED,
    .summary = "seq just past the window, within the receiver's max window",
    .place = place,
    .cause = send_in_gap,
    .evidence = trig_probe_evidence,
    .bench = trig_bench_gap,
};
