/* The crafted triggers that send their segment at once, as soon as the flow is learned:
 * seq-above, seq-below, ack-above, ack-below, bad-flags. Each places one segment against
 * the window conntrack tracks (learned, never a magic constant) and sends it from the
 * flow's backend namespace; the evidence is the segment itself. conntrack judges the
 * server's segments against the client's window: the upper bound is the client's
 * td_maxend (ack + window), and since "work around exceeded receive window" an overshoot
 * up to the client's td_maxwin is still accepted. */
#include "trig.h"
#include "base/seq.h"

#include <stdio.h>

void trig_probe_evidence(FILE *f, const struct record *rec)
{
	const struct craft_segment *p = &rec->out->probe;
	char fl[10];

	record_kv(f, "probe.seq", "%u", p->seq);
	record_kv(f, "probe.ack", "%u", p->ack);
	record_kv(f, "probe.flags", "%s", pkt_flags_str(p->flags, fl));
	record_kv(f, "probe.len", "%u", p->payload_len);
}

int trig_probe_send(struct inject_run *r, char **err)
{
	trigger_probe(r->o->trigger, r->find.flow, &r->out.probe, r->out.explain,
		      sizeof(r->out.explain));
	return craft_send(r->craft[r->find.bk], &r->out.probe, err);
}

/* past maxend by more than maxwin (the overshoot conntrack tolerates), plus the largest
 * window the client can ever advertise (65535 << its scale): receive autotuning grows the
 * window during a bulk download between learning and injection, and the segment must stay
 * out of it */
static void place_seq_above(const struct learn_flow *f, struct craft_segment *seg, char *explain,
			    size_t n)
{
	const struct learn_dir *c = &f->client;
	uint32_t growth = win_scaled(65535, learn_scale(f, c));

	seg->seq = c->maxend + c->maxwin + growth;
	snprintf(explain, n,
		 "seq %u = client window end %u + client max window %u + largest window it can "
		 "advertise %u; ack %u exact",
		 seg->seq, c->maxend, c->maxwin, growth, seg->ack);
}

static void place_seq_below(const struct learn_flow *f, struct craft_segment *seg, char *explain,
			    size_t n)
{
	seg->seq = f->client.ack - TRIGGER_E2E_BELOW;
	snprintf(explain, n, "seq %u = client's ack %u - %u (e2e boom packet); ack %u exact",
		 seg->seq, f->client.ack, TRIGGER_E2E_BELOW, seg->ack);
}

static void place_ack_above(const struct learn_flow *f, struct craft_segment *seg, char *explain,
			    size_t n)
{
	seg->ack = f->client.end + 2 * trigger_maxackwindow(&f->server);
	snprintf(explain, n, "ack %u = client's next seq %u + 2 x MAXACKWINDOW %u; seq %u exact",
		 seg->ack, f->client.end, trigger_maxackwindow(&f->server), seg->seq);
}

static void place_ack_below(const struct learn_flow *f, struct craft_segment *seg, char *explain,
			    size_t n)
{
	seg->ack = f->client.end - 2 * trigger_maxackwindow(&f->server);
	snprintf(explain, n, "ack %u = client's next seq %u - 2 x MAXACKWINDOW %u; seq %u exact",
		 seg->ack, f->client.end, trigger_maxackwindow(&f->server), seg->seq);
}

static void place_bad_flags(const struct learn_flow *f, struct craft_segment *seg, char *explain,
			    size_t n)
{
	(void)f;
	seg->flags = TCPF_SYN | TCPF_FIN;
	snprintf(explain, n, "flags SYN|FIN, seq %u ack %u exact", seg->seq, seg->ack);
}

#define CRAFTED_ROW(nm, sum, fn)                                                                   \
	{                                                                                          \
		.name = nm, .kind = TRIGGER_CRAFTED, .summary = sum, .place = fn,                  \
		.cause = trig_probe_send, .evidence = trig_probe_evidence,                         \
	}

const struct trigger_info trig_seq_above = CRAFTED_ROW(
    "seq-above", "seq beyond the client's window (SEQ over upper bound)", place_seq_above);
const struct trigger_info trig_seq_below = CRAFTED_ROW(
    "seq-below", "the Kubernetes e2e packet: seq = client's ack - 100000", place_seq_below);
const struct trigger_info trig_ack_above =
    CRAFTED_ROW("ack-above", "ack beyond what the client has sent", place_ack_above);
const struct trigger_info trig_ack_below =
    CRAFTED_ROW("ack-below", "ack far below the client's window", place_ack_below);
const struct trigger_info trig_bad_flags =
    CRAFTED_ROW("bad-flags", "SYN|FIN on the established flow", place_bad_flags);
