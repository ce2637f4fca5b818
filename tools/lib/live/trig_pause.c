/* What the triggers that act in a pause of the stream share (ct-flush, ct-entry-lost,
 * small-overshoot): the bench's pause, the wait for it, and ending it early. */
#include "trig.h"
#include "base/clock.h"
#include "base/err.h"

#include <string.h>

/* the stream pauses after 100 ms until the injector, its act done, tells it to resume (at
 * most gap_ms): the act lands in a gap where nothing is in flight, whatever an exec of
 * conntrack costs on a loaded machine (the stream's: nginx, the http workload, cannot
 * pause, and the act comes right after a fresh ACK of all data) */
void trig_bench_gap(FILE *f, const struct trigger_bench *b)
{
	if (!b->in->http)
		fprintf(f, "server\t--pause-after 100 --pause %u --resume-signal\n", b->gap_ms);
}

/* the injector's server was started with --resume-signal (ctreset-workload): SIGUSR1 ends
 * its pause (to any other program it could be fatal) */
bool trig_server_resumes(struct inject_run *r)
{
	if (!child_started(&r->srv) || child_reaped(&r->srv))
		return false;
	for (int i = 0; i < r->o->n_server_args; i++)
		if (!strcmp(r->o->server_argv[i], "--resume-signal"))
			return true;
	return false;
}

/* A fixed short timeout (2-5 ms) made a quiet wait hundreds of wakeups (idle-expiry's
 * 1.4 s: 280), each dear in a VM: the pump waits until the loop has something to decide */
int trig_wait_ms(uint64_t now, uint64_t until)
{
	if (until <= now + 1)
		return 1;
	return until - now > 250 ? 250 : (int)(until - now);
}

/* Waits for a pause of the stream (the triggers' --pause-after/--pause): the client has
 * acknowledged all the backend sent and nothing came from the backend, nor a new window
 * from the client, for 60 ms (past a delayed ACK; half of --quiet when that is longer: a
 * slow guest stalls the 5 ms pace longer than 60 ms, and a stall taken for the pause acted
 * with the stream still going). Then the flow's state as the captures have it is the
 * nodes' conntrack's too: nothing is in flight. *paused false: none within --settle (nginx,
 * the http workload, cannot pause). */
int trig_wait_pause(struct inject_run *r, bool *paused, char **err)
{
	const struct learn_flow *f = r->find.flow;
	uint64_t until = now_ms() + r->o->settle_ms, t_data = now_ms();
	uint32_t end = f->server.end, maxend = f->client.maxend;
	const uint64_t gap = r->o->quiet_ms / 2 > 60 ? r->o->quiet_ms / 2 : 60;

	*paused = false;
	while (!*r->interrupted) {
		uint64_t now = now_ms();

		if (f->server.end != end || f->client.maxend != maxend) {
			end = f->server.end;
			maxend = f->client.maxend;
			t_data = now;
		} else if (now - t_data >= gap && f->client.ack == f->server.end) {
			/* what the captures hold but this process has not read yet (it was
			 * descheduled: under TCG a stall of 0.8 s was taken for the pause, and
			 * two segments and the client's ACK of them, unread, moved the window
			 * the probe was placed against) */
			if (r->pump(r, 0, err) < 0)
				return -1;
			if (f->server.end == end && f->client.maxend == maxend) {
				*paused = true;
				return 0;
			}
			continue;
		}
		if (f->server.closed || f->client.closed)
			return err_set(err, "the flow closed before it paused");
		if (now >= until)
			return 0;
		/* next: the quiet's end, or (it has passed: the client's ACK awaited) the bound */
		if (r->pump(r, trig_wait_ms(now, now < t_data + gap ? t_data + gap : until), err) <
		    0)
			return -1;
	}
	return err_set(err, "interrupted");
}
