#include "learn.h"
#include "base/seq.h"

#include <string.h>

void learn_init(struct learn_flow *f, const struct ctr_tuple *server_to_client)
{
	memset(f, 0, sizeof(*f));
	f->tuple = *server_to_client;
	f->server.wscale = f->client.wscale = -1;
}

int learn_scale(const struct learn_flow *f, const struct learn_dir *d)
{
	if (f->server.wscale < 0 || f->client.wscale < 0)
		return 0;
	return d->wscale;
}

static void update(struct learn_flow *f, struct learn_dir *me, const struct ctr_pkt *p)
{
	uint32_t len =
	    p->payload_len + ((p->flags & TCPF_SYN) ? 1 : 0) + ((p->flags & TCPF_FIN) ? 1 : 0);
	uint32_t end = p->seq + len;
	uint32_t win;

	if (p->flags & TCPF_SYN) {
		me->syn_seen = true;
		me->wscale = p->wscale;
		me->isn = p->seq;
	}
	if (!me->seen || seq_after(end, me->end)) {
		if (me->seen && f->last_us && p->ts_us > f->last_us &&
		    p->ts_us - f->last_us > me->gap_us)
			me->gap_us = p->ts_us - f->last_us;
		if (me->seen && me->end_us && p->ts_us > me->end_us &&
		    p->ts_us - me->end_us > me->data_gap_us)
			me->data_gap_us = p->ts_us - me->end_us;
		if (p->ts_us > me->end_us)
			me->end_us = p->ts_us;
		me->end = end;
	}
	if (p->ts_us > f->last_us)
		f->last_us = p->ts_us;
	if (p->payload_len)
		me->data_segments++;
	if (p->flags & (TCPF_FIN | TCPF_RST))
		me->closed = true;
	if (p->flags & TCPF_RST)
		goto seen;
	/* RFC 7323: the window of a SYN is never scaled */
	win = (p->flags & TCPF_SYN) ? p->win : win_scaled(p->win, learn_scale(f, me));
	me->win_raw = p->win;
	if (win > me->maxwin)
		me->maxwin = win;
	if (win > me->ct_maxwin)
		me->ct_maxwin = win;
	if (p->flags & TCPF_ACK) {
		uint32_t sack =
		    p->sack_blocks && seq_after(p->sack_right, p->ack) ? p->sack_right : p->ack;
		/* tcp_in_window: receiver->td_maxend = sack + win (+1 for a zero window) */
		uint32_t maxend = sack + (win ? win : 1);

		if (!me->ack_valid || seq_after(p->ack, me->ack))
			me->ack = p->ack;
		if (!me->ack_valid || seq_after(maxend, me->maxend))
			me->maxend = maxend;
		if (!me->ack_valid || seq_after(sack, me->reached))
			me->reached = sack;
		if (win + (sack - p->ack) > me->ct_maxwin)
			me->ct_maxwin = win + (sack - p->ack);
		me->ack_valid = true;
	}
seen:
	me->seen = true;
}

bool learn_segment(struct learn_flow *f, const struct ctr_pkt *p)
{
	if (tuple_eq(&p->tuple, &f->tuple)) {
		update(f, &f->server, p);
		return true;
	}
	struct ctr_tuple rev = tuple_reverse(&f->tuple);

	if (tuple_eq(&p->tuple, &rev)) {
		update(f, &f->client, p);
		return true;
	}
	return false;
}

bool learn_ready(const struct learn_flow *f, const char **why)
{
	const char *w = NULL;

	if (!f->client.syn_seen || !f->server.syn_seen)
		w = "handshake not captured (window scale unknown)";
	else if (!f->server.data_segments)
		w = "no data from the server yet";
	else if (!f->client.ack_valid || !f->server.ack_valid)
		w = "no acknowledgement seen yet";
	else if (!seq_after(f->client.ack, f->server.isn + 1))
		w = "the client has not acknowledged data yet";
	if (why)
		*why = w;
	return w == NULL;
}
