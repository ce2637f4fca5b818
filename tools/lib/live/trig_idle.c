/* idle-expiry: nothing is done to the flow. The nodes' established timeout is shortened
 * (--ct-timeout), the flow idles past it (the stream pauses; under http nginx is stopped
 * mid-response, --stall-pid), the expired entry is gone at its next lookup and the
 * backend's own next segment meets no entry. */
#include "trig.h"
#include "base/clock.h"
#include "base/err.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>

/* --stall-pid: the backend's program continued (at once when it was stopped), and how
 * long it stood still recorded; also after a failure or a signal: never leave it stopped */
static void stall_end(struct inject_run *r)
{
	if (!r->t_stall)
		return;
	kill(r->o->stall_pid, SIGCONT);
	r->nat.stalled_ms = now_ms() - r->t_stall;
	r->t_stall = 0;
}

/* Waits for the backend to send no data for the nodes' established timeout plus 0.3 s (the
 * client's last ACK, delayed 40 ms at most, refreshed the entry: past that it is expired at
 * its next lookup; the bench pauses the stream 0.4 s longer than the timeout), then for its
 * next data segment: that is the event. The idle is also measured on the wire: the
 * captures' times of the flow's last segment either way (the entry's last refresh) and the
 * backend's next data; past the timeout by 20 ms (two jiffies at HZ=100; the backend's
 * capture sees the refreshing segment after node A and the resumed one before it, so the
 * quiet at node A is never shorter) the entry was expired when that data crossed node A.
 * By the clock alone, a reader late by more than the 0.1 s between the pause and the
 * bound, or a backend program starved for a second mid-stream (load 8-12: a 1046 ms quiet,
 * the entry expired, the reset followed) made the cell inconclusive. Where the peer keeps
 * the entry fresh (the keepalive workaround's probes, a second apart), the wire's quiet
 * never reaches the timeout: the backend's own data quiet on the wire (data_gap_us) then
 * says it idled, so a reader late at the pause's start (a full matrix at load, once:
 * idle-expiry/keepalive "the flow closed before it idled") is not taken for a flow that
 * never paused. Bounded; a flow that never idles or closes first is an error, never a
 * pass. */
static int wait_idle(struct inject_run *r, char **err)
{
	struct learn_flow *f = r->find.flow;
	const uint64_t need = (uint64_t)r->o->ct_timeout_s * 1000 + 300;
	const uint64_t wire_us = ((uint64_t)r->o->ct_timeout_s * 1000 + 20) * 1000;
	uint64_t t_data = now_ms(), deadline = t_data + 2 * need + 5000;
	uint32_t end = f->server.end;
	bool idled = false;

	f->server.gap_us = 0;
	f->server.data_gap_us = 0;
	if (r->o->stall_pid) {
		if (kill(r->o->stall_pid, SIGSTOP) < 0)
			return err_errno(err, errno, "cannot stop the backend's program (pid %d)",
					 (int)r->o->stall_pid);
		r->t_stall = t_data;
	}
	while (!*r->interrupted) {
		uint64_t now = now_ms();

		if (r->t_stall && now - r->t_stall >= r->o->stall_ms)
			stall_end(r);

		/* the resumed segment and the RST it causes may come in one read: resumed first */
		bool on_wire = f->server.gap_us >= wire_us;
		bool data_quiet = f->server.data_gap_us >= need * 1000;

		idled = idled || on_wire || data_quiet;
		if (f->server.end != end) {
			if (idled) {
				/* the wire's figure when it has one: the clock's is late by the
				 * reader's delay */
				r->nat.idle_ms = on_wire      ? f->server.gap_us / 1000
						 : data_quiet ? f->server.data_gap_us / 1000
							      : now - t_data;
				return 0;
			}
			end = f->server.end;
			t_data = now;
		} else if (now - t_data >= need) {
			idled = true;
		}
		if (f->server.closed || f->client.closed)
			return err_set(err, "the flow closed before it %s",
				       idled ? "resumed" : "idled");
		if (now >= deadline)
			return err_set(
			    err,
			    idled ? "the backend sent nothing after idling (bound %llu ms)"
				  : "the flow never idled for %llu ms (the workload must "
				    "pause: ctreset-workload server --pause-after/--pause)",
			    (unsigned long long)(idled ? 2 * need + 5000 : need));
		/* next: the idle's length reached (t_data + need), the nginx stall's end, or the
		 * bound; data ends the wait at once */
		uint64_t next = idled ? deadline : t_data + need;

		if (r->t_stall && r->t_stall + r->o->stall_ms < next)
			next = r->t_stall + r->o->stall_ms;
		if (r->pump(r, trig_wait_ms(now, next), err) < 0)
			return -1;
	}
	return err_set(err, "interrupted");
}

static int cause(struct inject_run *r, char **err)
{
	/* what the resumed segment causes is seen while waiting for it */
	r->out.injected = true;
	if (wait_idle(r, err) < 0) {
		r->out.injected = false;
		return -1;
	}
	snprintf(r->out.explain, sizeof(r->out.explain),
		 "nothing done to the flow%s: it idled %llu ms past the nodes' established "
		 "timeout of %u s, then the backend's own next segment crossed the nodes",
		 r->nat.stalled_ms ? " (the backend's program stood still mid-response)" : "",
		 (unsigned long long)r->nat.idle_ms, r->o->ct_timeout_s);
	return 0;
}

static void evidence(FILE *f, const struct record *rec)
{
	record_kv(f, "natural.idle_ms", "%llu", (unsigned long long)rec->nat->idle_ms);
	if (rec->nat->stalled_ms)
		record_kv(f, "natural.stalled_ms", "%llu",
			  (unsigned long long)rec->nat->stalled_ms);
}

/* the injector's timeout is T; the stream pauses after 100 ms for the pause (longer than
 * T) and must outlast it (a later --timeout wins); the http workload's nginx is stopped
 * mid-response instead (stall: MS, curl's keepalive s, the seconds its bounds grow by) */
static void bench(FILE *f, const struct trigger_bench *b)
{
	fprintf(f, "inject\t--ct-timeout %u\n", b->ct_timeout_s);
	if (b->in->http) {
		fprintf(f, "stall\t%u %u %u\n", b->stall_ms, b->curl_keepalive_s, b->http_extra_s);
		return;
	}
	fprintf(f, "server\t--pause-after 100 --pause %u --timeout %u\n", b->pause_ms,
		b->stream_ms);
	fprintf(f, "client\t--timeout %u\n", b->stream_ms);
}

const struct trigger_info trig_idle_expiry = {
    .name = "idle-expiry",
    .kind = TRIGGER_NATURAL,
    .summary = "natural: the flow idles past the nodes' established timeout (--ct-timeout), "
	       "then the backend sends",
    .cause = cause,
    .cleanup = stall_end,
    .options = TRIGGER_TAKES_STALL,
    .default_ct_timeout_s = 2,
    .settles_on_data = true,
    .quiet_min_ms = 200,
    .ct_events = true,
    .evidence = evidence,
    .bench = bench,
};
