/* The trigger table (one row per trigger: name, kind, summary, what the bench gives it) and
 * where each crafted trigger places its segment against the learned window. */
#include "trigger.h"
#include "base/seq.h"

#include <stdio.h>
#include <string.h>

static const struct trigger_info infos[TRIGGER_COUNT] = {
    [TRIGGER_SEQ_ABOVE] = {"seq-above", TRIGGER_CRAFTED,
			   "seq beyond the client's window (SEQ over upper bound)"},
    [TRIGGER_SEQ_BELOW] = {"seq-below", TRIGGER_CRAFTED,
			   "the Kubernetes e2e packet: seq = client's ack - 100000"},
    [TRIGGER_ACK_ABOVE] = {"ack-above", TRIGGER_CRAFTED, "ack beyond what the client has sent"},
    [TRIGGER_ACK_BELOW] = {"ack-below", TRIGGER_CRAFTED, "ack far below the client's window"},
    [TRIGGER_BAD_FLAGS] = {"bad-flags", TRIGGER_CRAFTED, "SYN|FIN on the established flow"},
    /* sent in a pause of the stream (as ct-flush), where the window end the injector
     * learned is the nodes' conntrack's: the stream resumes when it was sent */
    [TRIGGER_SMALL_OVERSHOOT] = {"small-overshoot", TRIGGER_CRAFTED,
				 "seq just past the window, within the receiver's max window",
				 "server\t--pause-after 300 --pause {gap_ms} --resume-signal\n"},
    /* as ct-flush: the deletion lands in a pause of the stream */
    [TRIGGER_CT_ENTRY_LOST] = {"ct-entry-lost", TRIGGER_CONNTRACK,
			       "the client node's conntrack entry is deleted mid-flow",
			       "server\t--pause-after 300 --pause {gap_ms} --resume-signal\n"},
    /* the stream pauses after 300 ms until the injector, the flush done, tells it to
     * resume (at most {gap_ms}): the flush lands in a gap where nothing is in flight,
     * whatever an exec of conntrack costs on a loaded machine */
    [TRIGGER_CT_FLUSH] = {"ct-flush", TRIGGER_NATURAL,
			  "natural: `conntrack -F` (conntrack-tools) empties the client node's "
			  "table mid-flow",
			  "server\t--pause-after 300 --pause {gap_ms} --resume-signal\n"},
    /* the stream pauses longer than the timeout after 300 ms, and must outlast the pause
     * (a later --timeout wins) */
    [TRIGGER_IDLE_EXPIRY] = {"idle-expiry", TRIGGER_NATURAL,
			     "natural: the flow idles past the nodes' established timeout "
			     "(--ct-timeout), then the backend sends",
			     "inject\t--ct-timeout {ct_timeout}\n"
			     "server\t--pause-after 300 --pause {pause_ms} --timeout {stream_ms}\n"
			     "client\t--timeout {stream_ms}\n"
			     /* the http workload: nginx stopped mid-response that long */
			     "stall\t{stall_ms}\n"},
    /* the segment is held where the backend's node receives it (NFQUEUE, before its
     * conntrack) until the flow's window has moved past it; every packet of the flow
     * waits for the injector's verdict meanwhile, and while it runs nft the captures
     * are not read: 8 MiB rings (a TCG guest dropped ~150 frames a capture with 1 MiB) */
    [TRIGGER_DELAYED_RETRANSMIT] = {"delayed-retransmit", TRIGGER_NATURAL,
				    "natural: one backend segment held in the backend's node "
				    "(NFQUEUE) until the window moved on, then released",
				    "inject\t--hold-ns {backend_node} --capture-buffer 8192\n"
				    /* a chunk a millisecond: the window moves past the held
				     * segment in ~0.1 s, not the 0.5 s of the default pace */
				    "server\t--interval 1\n"
				    /* the http workload: a body 3 times the payload, at 3 times
				     * the rate: the window must move curl's autotuned max window
				     * (2.9-4.8 MB measured) past the held segment */
				    "body\t3\n"},
};

static const char *const kind_names[] = {"crafted", "conntrack", "natural"};

const char *trigger_kind_name(enum trigger_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

const struct trigger_info *trigger_info(enum trigger t)
{
	return (unsigned)t < TRIGGER_COUNT ? &infos[t] : NULL;
}

int trigger_parse(const char *name)
{
	for (int i = 0; i < TRIGGER_COUNT; i++)
		if (!strcmp(name, infos[i].name))
			return i;
	return -1;
}

uint32_t trigger_maxackwindow(const struct learn_dir *sender)
{
	return sender->maxwin > 66000 ? sender->maxwin : 66000;
}

static const char probe_payload[] = "ctreset probe\n";

int trigger_probe(enum trigger t, const struct learn_flow *f, struct craft_segment *seg,
		  char *explain, size_t n)
{
	/* conntrack judges the server's segments against the client's window: the upper
	 * bound is the client's td_maxend (ack + window), and since "work around exceeded
	 * receive window" an overshoot up to the client's td_maxwin is still accepted */
	const struct learn_dir *s = &f->server, *c = &f->client;

	if (infos[t].kind != TRIGGER_CRAFTED)
		return -1;
	memset(seg, 0, sizeof(*seg));
	seg->tuple = f->tuple;
	seg->seq = s->end;
	seg->ack = c->end;
	seg->flags = TCPF_PSH | TCPF_ACK;
	seg->win = s->win_raw;
	seg->payload = (const uint8_t *)probe_payload;
	seg->payload_len = sizeof(probe_payload) - 1;
	switch (t) {
	case TRIGGER_SEQ_ABOVE:
		/* past maxend by more than maxwin (the overshoot conntrack tolerates), plus the
		 * largest window the client can ever advertise (65535 << its scale): receive
		 * autotuning grows the window during a bulk download between learning and
		 * injection, and the segment must stay out of it */
		{
			uint32_t growth = win_scaled(65535, learn_scale(f, c));

			seg->seq = c->maxend + c->maxwin + growth;
			snprintf(explain, n,
				 "seq %u = client window end %u + client max window %u + largest "
				 "window it can advertise %u; ack %u exact",
				 seg->seq, c->maxend, c->maxwin, growth, seg->ack);
		}
		break;
	case TRIGGER_SEQ_BELOW:
		seg->seq = c->ack - TRIGGER_E2E_BELOW;
		snprintf(explain, n,
			 "seq %u = client's ack %u - %u (e2e boom packet); ack %u exact", seg->seq,
			 c->ack, TRIGGER_E2E_BELOW, seg->ack);
		break;
	case TRIGGER_ACK_ABOVE:
		seg->ack = c->end + 2 * trigger_maxackwindow(s);
		snprintf(explain, n,
			 "ack %u = client's next seq %u + 2 x MAXACKWINDOW %u; seq %u exact",
			 seg->ack, c->end, trigger_maxackwindow(s), seg->seq);
		break;
	case TRIGGER_ACK_BELOW:
		seg->ack = c->end - 2 * trigger_maxackwindow(s);
		snprintf(explain, n,
			 "ack %u = client's next seq %u - 2 x MAXACKWINDOW %u; seq %u exact",
			 seg->ack, c->end, trigger_maxackwindow(s), seg->seq);
		break;
	case TRIGGER_BAD_FLAGS:
		seg->flags = TCPF_SYN | TCPF_FIN;
		snprintf(explain, n, "flags SYN|FIN, seq %u ack %u exact", seg->seq, seg->ack);
		break;
	case TRIGGER_SMALL_OVERSHOOT:
		/* tcp_in_window tests only where a segment *starts*: seq <= td_maxend is in
		 * window whatever its end, so the overshoot rule ("%u bytes more than
		 * expected") is reached only by a segment starting past td_maxend; it is
		 * accepted while end - td_maxend + 1 <= the receiver's td_maxwin */
		seg->seq = c->maxend + 1;
		snprintf(explain, n,
			 "seq %u = client window end %u + 1, overshoot %u bytes <= client max "
			 "window %u; ack %u exact",
			 seg->seq, c->maxend, seg->payload_len + 2, c->maxwin, seg->ack);
		break;
	default:
		return -1;
	}
	return 0;
}
