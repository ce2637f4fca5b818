/* Follows net/netfilter/nf_conntrack_proto_tcp.c closely, in the kernel's order, so that a
 * reader can hold the two side by side; comments name the kernel function each part
 * models. Sequence arithmetic is the kernel's before()/after() (seq.h). */
#include "ctwin.h"
#include "base/seq.h"

#include <stdio.h>
#include <string.h>

#define sNO CTWIN_NONE
#define sSS CTWIN_SYN_SENT
#define sSR CTWIN_SYN_RECV
#define sES CTWIN_ESTABLISHED
#define sFW CTWIN_FIN_WAIT
#define sCW CTWIN_CLOSE_WAIT
#define sLA CTWIN_LAST_ACK
#define sTW CTWIN_TIME_WAIT
#define sCL CTWIN_CLOSE
#define sS2 CTWIN_SYN_SENT2
#define sIV CTWIN_STATE_MAX	  /* TCP_CONNTRACK_MAX: invalid */
#define sIG (CTWIN_STATE_MAX + 1) /* TCP_CONNTRACK_IGNORE */

enum { TCP_SYN_SET, TCP_SYNACK_SET, TCP_FIN_SET, TCP_ACK_SET, TCP_RST_SET, TCP_NONE_SET };

/* tcp_conntracks[dir][index][old state] (the kernel's table, unchanged since 2.6.3x) */
static const unsigned char tcp_conntracks[2][6][CTWIN_STATE_MAX] = {
    {
	/* ORIGINAL  sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
	/* syn    */ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
	/* synack */ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
	/* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
	/* ack    */ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
	/* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	/* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
    {
	/* REPLY     sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
	/* syn    */ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
	/* synack */ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
	/* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
	/* ack    */ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
	/* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	/* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
};

/* tcp_timeouts[] defaults, seconds; RETRANS and UNACK follow the states */
static const uint32_t tcp_timeouts[CTWIN_STATE_MAX] = {
    [sSS] = 120, [sSR] = 60,  [sES] = 432000, [sFW] = 120, [sCW] = 60,
    [sLA] = 30,	 [sTW] = 120, [sCL] = 10,     [sS2] = 120,
};
#define TIMEOUT_RETRANS 300
#define TIMEOUT_UNACK 300
#define TCP_MAX_RETRANS 3 /* nf_conntrack_tcp_max_retrans */
#define TCP_MAX_WSCALE 14
#define US 1000000ull

/* MAXACKWINDOW(sender) */
#define MAXACKWINCONST 66000
static uint32_t maxackwindow(const struct ctwin_dir *sender)
{
	return sender->td_maxwin > MAXACKWINCONST ? sender->td_maxwin : MAXACKWINCONST;
}

static const char *const state_names[] = {
    "NONE",	  "SYN_SENT", "SYN_RECV",  "ESTABLISHED", "FIN_WAIT",
    "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",	  "SYN_SENT2",
};

const char *ctwin_state_name(enum ctwin_state s)
{
	return (unsigned)s < CTWIN_STATE_MAX ? state_names[s] : "?";
}

const char *ctwin_verdict_name(enum ctwin_verdict v)
{
	switch (v) {
	case CTWIN_ACCEPT:
		return "ACCEPT";
	case CTWIN_IGNORE:
		return "IGNORE";
	case CTWIN_INVALID:
		return "INVALID";
	}
	return "?";
}

void ctwin_seg_from_pkt(struct ctwin_seg *s, const struct ctr_pkt *p)
{
	s->ts_us = p->ts_us;
	s->flags = p->flags;
	s->seq = p->seq;
	s->ack = p->ack;
	s->len = p->payload_len;
	s->win = p->win;
	s->wscale = p->wscale;
	s->sack_perm = p->sack_perm;
	s->sack = p->sack_blocks ? p->sack_right : p->ack;
}

void ctwin_init(struct ctwin_conn *c)
{
	memset(c, 0, sizeof(*c));
}

/* get_conntrack_index() */
static unsigned conntrack_index(uint8_t f)
{
	if (f & TCPF_RST)
		return TCP_RST_SET;
	if (f & TCPF_SYN)
		return (f & TCPF_ACK) ? TCP_SYNACK_SET : TCP_SYN_SET;
	if (f & TCPF_FIN)
		return TCP_FIN_SET;
	if (f & TCPF_ACK)
		return TCP_ACK_SET;
	return TCP_NONE_SET;
}

/* tcp_error(): tcp_valid_flags[] over the flags without ECE, CWR and PSH */
static bool valid_flags(uint8_t f)
{
	switch (f & (TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_ACK | TCPF_URG)) {
	case TCPF_SYN:
	case TCPF_SYN | TCPF_URG:
	case TCPF_SYN | TCPF_ACK:
	case TCPF_RST:
	case TCPF_RST | TCPF_ACK:
	case TCPF_FIN | TCPF_ACK:
	case TCPF_FIN | TCPF_ACK | TCPF_URG:
	case TCPF_ACK:
	case TCPF_ACK | TCPF_URG:
		return true;
	default:
		return false;
	}
}

/* segment_seq_plus_len() */
static uint32_t seq_plus_len(const struct ctwin_seg *s)
{
	return s->seq + s->len + ((s->flags & TCPF_SYN) ? 1 : 0) + ((s->flags & TCPF_FIN) ? 1 : 0);
}

/* tcp_options(): only a SYN's options count */
static void tcp_options(const struct ctwin_seg *s, struct ctwin_dir *d)
{
	d->td_scale = 0;
	d->flags &= CTWIN_F_BE_LIBERAL;
	if (s->sack_perm)
		d->flags |= CTWIN_F_SACK_PERM;
	if (s->wscale >= 0) {
		d->td_scale = (uint8_t)(s->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : s->wscale);
		d->flags |= CTWIN_F_WINDOW_SCALE;
	}
}

/* tcp_init_sender() */
static void init_sender(struct ctwin_dir *sender, struct ctwin_dir *receiver,
			const struct ctwin_seg *s, uint32_t end, int dir, bool old)
{
	sender->td_end = sender->td_maxend = end;
	sender->td_maxwin = s->win ? s->win : 1;
	tcp_options(s, sender);
	/* RFC 1323: scaling only when both SYNs carry the option. Current kernels decide
	 * on the reply's SYN-ACK only, so a retransmitted SYN cannot undo it; older ones
	 * decided on every SYN. */
	if ((dir == 1 || old) &&
	    !(sender->flags & CTWIN_F_WINDOW_SCALE && receiver->flags & CTWIN_F_WINDOW_SCALE)) {
		sender->td_scale = 0;
		receiver->td_scale = 0;
	}
}

/* nf_tcp_log_invalid(): be_liberal turns every window failure into ACCEPT */
static enum ctwin_verdict log_invalid(const struct ctwin_dir *sender, const struct ctwin_opts *o,
				      struct ctwin_result *r, enum ctwin_verdict v,
				      enum ctwin_reason why, uint32_t bound)
{
	r->reason = why;
	r->bound = bound;
	if ((sender->flags & CTWIN_F_BE_LIBERAL) || o->be_liberal) {
		r->liberal = true;
		return CTWIN_ACCEPT;
	}
	return v;
}

/* tcp_in_window(); dir is the conntrack direction */
static enum ctwin_verdict in_window(struct ctwin_conn *c, int dir, unsigned index,
				    const struct ctwin_seg *s, const struct ctwin_opts *o,
				    struct ctwin_result *r)
{
	struct ctwin_dir *sender = &c->seen[dir], *receiver = &c->seen[!dir];
	uint32_t seq = s->seq, ack = s->ack, sack, end, win = s->win, swin;
	bool in_recv_win;

	end = seq_plus_len(s);
	sack = (receiver->flags & CTWIN_F_SACK_PERM) ? s->sack : ack;

	if (sender->td_maxwin == 0) {
		if (s->flags & TCPF_SYN) {
			init_sender(sender, receiver, s, end, dir, o->no_ignore_delayed);
			if (!(s->flags & TCPF_ACK))
				return CTWIN_ACCEPT; /* simultaneous open */
		} else {
			/* mid-connection: its history is lost, use the packet's */
			sender->td_end = end;
			swin = win << sender->td_scale;
			sender->td_maxwin = swin ? swin : 1;
			sender->td_maxend = end + sender->td_maxwin;
			if (receiver->td_maxwin == 0)
				receiver->td_end = receiver->td_maxend = sack;
			else if (sack == receiver->td_end + 1)
				receiver->td_end++; /* reply to a keepalive */
		}
	} else if ((s->flags & TCPF_SYN) && seq_after(end, sender->td_end) &&
		   (c->state == sSS || c->state == sSR)) {
		/* RFC 793: a reinitialised TCP uses higher sequence numbers: re-init */
		init_sender(sender, receiver, s, end, dir, o->no_ignore_delayed);
		if (dir == 1 && !(s->flags & TCPF_ACK))
			return CTWIN_ACCEPT;
	}

	if (!(s->flags & TCPF_ACK))
		ack = sack = receiver->td_end; /* no ACK: pretend it was set and fine */
	else if ((s->flags & (TCPF_ACK | TCPF_RST)) == (TCPF_ACK | TCPF_RST) && ack == 0)
		ack = sack = receiver->td_end; /* broken stacks: RST+ACK with ack 0 */

	if ((s->flags & TCPF_RST) && seq == 0 && c->state == sSS)
		seq = end = sender->td_end; /* RST answering a SYN */

	if (o->no_ignore_delayed) {
		/* before 6e250dcbff1d (ignore-delayed): one condition for all four bounds
		 * (I-IV), any failure INVALID unless be_liberal; the first one failing names it */
		bool seq_ok = seq_before(seq, sender->td_maxend + 1);
		bool ack_ok = seq_before(sack, receiver->td_end + 1);
		bool ack_low = seq_after(sack, receiver->td_end - maxackwindow(sender) - 1);

		in_recv_win = !receiver->td_maxwin ||
			      seq_after(end, sender->td_end - receiver->td_maxwin - 1);
		if (!seq_ok && !o->no_rcvwnd_workaround && in_recv_win && ack_low &&
		    end - sender->td_maxend + 1 <= receiver->td_maxwin && ack_ok &&
		    !(sender->flags & CTWIN_F_BE_LIBERAL) && !o->be_liberal) {
			/* cf97769c761a (rcvwnd-workaround) without ignore-delayed: td_end
			 * follows the overshoot, the segment itself stays INVALID */
			sender->td_end = end;
			sender->flags |= CTWIN_F_DATA_UNACKNOWLEDGED;
			return log_invalid(sender, o, r, CTWIN_INVALID, CTWIN_R_OVERSHOT,
					   end - sender->td_maxend + 1);
		}
		if (!seq_ok)
			return log_invalid(sender, o, r, CTWIN_INVALID, CTWIN_R_SEQ_OVER,
					   sender->td_maxend + 1);
		if (!in_recv_win)
			return log_invalid(sender, o, r, CTWIN_INVALID, CTWIN_R_SEQ_UNDER,
					   sender->td_end - receiver->td_maxwin - 1);
		if (!ack_ok)
			return log_invalid(sender, o, r, CTWIN_INVALID, CTWIN_R_ACK_OVER,
					   receiver->td_end + 1);
		if (!ack_low)
			return log_invalid(sender, o, r, CTWIN_INVALID, CTWIN_R_ACK_UNDER,
					   receiver->td_end - maxackwindow(sender) - 1);
		goto update;
	}

	/* I. upper bound for data */
	if (!seq_before(seq, sender->td_maxend + 1)) {
		uint32_t overshot = end - sender->td_maxend + 1;
		bool ack_ok = seq_after(sack, receiver->td_end - maxackwindow(sender) - 1);

		in_recv_win =
		    receiver->td_maxwin && seq_after(end, sender->td_end - receiver->td_maxwin - 1);
		if (in_recv_win && ack_ok && overshot <= receiver->td_maxwin &&
		    seq_before(sack, receiver->td_end + 1)) {
			/* "work around exceeded receive window": a TCP that sends more than
			 * the window allows; td_end moves so that its ACK can follow */
			sender->td_end = end;
			sender->flags |= CTWIN_F_DATA_UNACKNOWLEDGED;
			return log_invalid(sender, o, r, CTWIN_IGNORE, CTWIN_R_OVERSHOT, overshot);
		}
		return log_invalid(sender, o, r, CTWIN_INVALID, CTWIN_R_SEQ_OVER,
				   sender->td_maxend + 1);
	}
	/* III. upper bound for (s)ack */
	if (!seq_before(sack, receiver->td_end + 1))
		return log_invalid(sender, o, r, CTWIN_INVALID, CTWIN_R_ACK_OVER,
				   receiver->td_end + 1);
	/* II. lower bound for data, IV. for (s)ack: since 6.1 stale, not bogus */
	in_recv_win =
	    !receiver->td_maxwin || seq_after(end, sender->td_end - receiver->td_maxwin - 1);
	if (!in_recv_win)
		return log_invalid(sender, o, r, CTWIN_IGNORE, CTWIN_R_SEQ_UNDER,
				   sender->td_end - receiver->td_maxwin - 1);
	if (!seq_after(sack, receiver->td_end - maxackwindow(sender) - 1))
		return log_invalid(sender, o, r, CTWIN_IGNORE, CTWIN_R_ACK_UNDER,
				   receiver->td_end - maxackwindow(sender) - 1);

update:
	if (!(s->flags & TCPF_SYN))
		win <<= sender->td_scale; /* RFC 1323 */
	swin = win + (sack - ack);
	if (sender->td_maxwin < swin)
		sender->td_maxwin = swin;
	if (seq_after(end, sender->td_end)) {
		sender->td_end = end;
		sender->flags |= CTWIN_F_DATA_UNACKNOWLEDGED;
	}
	if (s->flags & TCPF_ACK) {
		if (!(sender->flags & CTWIN_F_MAXACK_SET)) {
			sender->td_maxack = ack;
			sender->flags |= CTWIN_F_MAXACK_SET;
		} else if (seq_after(ack, sender->td_maxack)) {
			sender->td_maxack = ack;
		}
	}
	if (receiver->td_maxwin != 0 && seq_after(end, sender->td_maxend))
		receiver->td_maxwin += end - sender->td_maxend;
	if (seq_after(sack + win, receiver->td_maxend - 1)) {
		receiver->td_maxend = sack + win;
		if (win == 0)
			receiver->td_maxend++;
	}
	if (ack == receiver->td_end)
		receiver->flags &= ~CTWIN_F_DATA_UNACKNOWLEDGED;
	if (index == TCP_ACK_SET) {
		if (c->last_dir == dir && c->last_seq == seq && c->last_ack == ack &&
		    c->last_end == end && c->last_win == s->win) {
			if (c->retrans < 255)
				c->retrans++;
		} else {
			c->last_dir = (uint8_t)dir;
			c->last_seq = seq;
			c->last_ack = ack;
			c->last_end = end;
			c->last_win = s->win;
			c->retrans = 0;
		}
	}
	return CTWIN_ACCEPT;
}

/* tcp_new(): the first packet of an entry, in the ORIGINAL direction */
static bool tcp_new(struct ctwin_conn *c, const struct ctwin_seg *s, const struct ctwin_opts *o,
		    struct ctwin_result *r)
{
	unsigned index = conntrack_index(s->flags);
	unsigned new_state = tcp_conntracks[0][index][sNO];
	struct ctwin_dir *d = &c->seen[0];

	if (new_state >= sIV) {
		r->reason = CTWIN_R_NEW_INVALID;
		return false;
	}
	if (new_state != sSS && o->no_pickup) {
		r->reason = CTWIN_R_NEW_NOPICKUP;
		return false;
	}
	memset(c->seen, 0, sizeof(c->seen));
	c->state = sNO;
	c->retrans = 0;
	c->last_dir = c->last_wscale = c->last_flags = 0;
	c->last_seq = c->last_ack = c->last_end = 0;
	c->last_win = 0;
	c->seen_reply = c->assured = false;
	d->td_end = seq_plus_len(s);
	d->td_maxwin = s->win ? s->win : 1;
	if (new_state == sSS) {
		d->td_maxend = d->td_end;
		tcp_options(s, d);
	} else {
		/* picked up mid-stream: SACK and liberal window checking assumed, since the
		 * window scale is unknown */
		d->td_maxend = d->td_end + d->td_maxwin;
		c->seen[0].flags = c->seen[1].flags = CTWIN_F_SACK_PERM | CTWIN_F_BE_LIBERAL;
		r->pickup = true;
	}
	c->last_index = TCP_NONE_SET;
	return true;
}

static bool tcp_established(const struct ctwin_conn *c)
{
	return c->state == sES && c->assured;
}

/* tcp_can_early_drop() */
static bool closing(const struct ctwin_conn *c)
{
	switch (c->state) {
	case sFW:
	case sLA:
	case sTW:
	case sCL:
	case sCW:
		return true;
	default:
		return false;
	}
}

/* nf_tcp_handle_invalid(): an out-of-window FIN/RST answering one shortens the timeout */
static void handle_invalid(struct ctwin_conn *c, int dir, unsigned index, uint64_t now)
{
	if (!c->assured || (index != TCP_RST_SET && index != TCP_FIN_SET))
		return;
	if (c->last_dir != dir && (c->last_index == TCP_FIN_SET || c->last_index == TCP_RST_SET)) {
		if (c->expires_us < now + 120 * US)
			return;
		if (c->expires_us > now + TIMEOUT_UNACK * US)
			c->expires_us = now + TIMEOUT_UNACK * US;
	} else {
		c->last_index = (uint8_t)index;
		c->last_dir = (uint8_t)dir;
	}
}

/* nf_conntrack_tcp_packet() after the lookup; dir is the conntrack direction */
static enum ctwin_verdict tcp_packet(struct ctwin_conn *c, int dir, const struct ctwin_seg *s,
				     const struct ctwin_opts *o, struct ctwin_result *r)
{
	unsigned index = conntrack_index(s->flags);
	unsigned old_state = c->state, new_state = tcp_conntracks[dir][index][old_state];
	enum ctwin_verdict v;
	uint64_t timeout;

	r->index = (uint8_t)index;
	r->old_state = (enum ctwin_state)old_state;
	switch (new_state) {
	case sSS:
		if (old_state < sTW)
			break;
		if (((c->seen[0].flags | c->seen[1].flags) & CTWIN_F_CLOSE_INIT) ||
		    (c->last_dir == dir && c->last_index == TCP_RST_SET)) {
			/* reopening a closed or aborted connection: the entry is killed and
			 * the packet looked up again (-NF_REPEAT), making a new one */
			c->exists = false;
			r->killed = true;
			return CTWIN_INVALID; /* the caller repeats */
		}
		/* fall through */
	case sIG:
		if (index == TCP_SYNACK_SET && c->last_index == TCP_SYN_SET && c->last_dir != dir &&
		    s->ack == c->last_end) {
			/* this SYN-ACK answers a SYN we ignored: get in sync from it */
			struct ctwin_dir *ld = &c->seen[c->last_dir];

			old_state = sSS;
			new_state = sSR;
			ld->td_end = ld->td_maxend = c->last_end;
			ld->td_maxwin = c->last_win ? c->last_win : 1;
			ld->td_scale = c->last_wscale;
			ld->flags = c->last_flags;
			memset(&c->seen[dir], 0, sizeof(c->seen[dir]));
			break;
		}
		c->last_index = (uint8_t)index;
		c->last_dir = (uint8_t)dir;
		c->last_seq = s->seq;
		c->last_end = seq_plus_len(s);
		c->last_win = s->win;
		if (index == TCP_SYN_SET && dir == 0) {
			struct ctwin_dir seen = {0};

			c->last_flags = c->last_wscale = 0;
			tcp_options(s, &seen);
			if (seen.flags & CTWIN_F_WINDOW_SCALE) {
				c->last_flags |= CTWIN_F_WINDOW_SCALE;
				c->last_wscale = seen.td_scale;
			}
			if (seen.flags & CTWIN_F_SACK_PERM)
				c->last_flags |= CTWIN_F_SACK_PERM;
		}
		if (old_state == sSS && index == TCP_ACK_SET && dir == 1)
			c->last_ack = s->ack; /* possible challenge ACK to a SYN */
		r->reason = CTWIN_R_STATE_IGNORED;
		return CTWIN_IGNORE;
	case sIV:
		r->reason = CTWIN_R_STATE_INVALID;
		return CTWIN_INVALID;
	case sTW:
		if (old_state == sLA && index == TCP_ACK_SET && c->last_dir != dir &&
		    c->last_index == TCP_SYN_SET) {
			/* RFC 5961 challenge ACK to a SYN: not the last ACK */
			r->reason = CTWIN_R_CHALLENGE_ACK;
			return CTWIN_IGNORE;
		}
		break;
	case sCL:
		if (index != TCP_RST_SET)
			break;
		if (closing(c))
			goto in_window;
		if ((c->seen[!dir].flags & CTWIN_F_MAXACK_SET) && c->last_index != TCP_SYN_SET) {
			if (s->seq == 0 && !tcp_established(c))
				break;
			if (seq_before(s->seq, c->seen[!dir].td_maxack)) {
				r->reason = CTWIN_R_INVALID_RST;
				return CTWIN_INVALID;
			}
			if (!tcp_established(c) || s->seq == c->seen[!dir].td_maxack)
				break;
			if (c->last_index == TCP_ACK_SET && c->last_dir == dir &&
			    s->seq == c->last_end)
				break;	       /* RST right after the sender's last segment */
			new_state = old_state; /* not exact: the receiver may challenge-ACK */
		}
		if (((c->seen_reply && c->last_index == TCP_SYN_SET) ||
		     (!c->assured && c->last_index == TCP_ACK_SET)) &&
		    s->ack == c->last_end)
			goto in_window; /* RST to a SYN or ACK we let through */
		if (old_state == sSS && c->last_index == TCP_ACK_SET && c->last_dir == 1 &&
		    s->seq == c->last_ack)
			goto in_window; /* reset answering a challenge ACK */
		break;
	default:
		break;
	}

	v = in_window(c, dir, index, s, o, r);
	if (v == CTWIN_INVALID)
		handle_invalid(c, dir, index, s->ts_us);
	if (v != CTWIN_ACCEPT)
		return v;
	if (r->liberal)
		return CTWIN_ACCEPT; /* be_liberal: accepted, but tcp_in_window stopped early */
in_window:
	c->last_index = (uint8_t)index;
	c->last_dir = (uint8_t)dir;
	c->state = (enum ctwin_state)new_state;
	if (old_state != new_state && new_state == sFW)
		c->seen[dir].flags |= CTWIN_F_CLOSE_INIT;

	if (c->retrans >= TCP_MAX_RETRANS && tcp_timeouts[new_state] > TIMEOUT_RETRANS)
		timeout = TIMEOUT_RETRANS;
	else if (index == TCP_RST_SET)
		timeout = tcp_timeouts[sCL];
	else if (((c->seen[0].flags | c->seen[1].flags) & CTWIN_F_DATA_UNACKNOWLEDGED) &&
		 tcp_timeouts[new_state] > TIMEOUT_UNACK)
		timeout = TIMEOUT_UNACK;
	else if (c->last_win == 0 && tcp_timeouts[new_state] > TIMEOUT_RETRANS)
		timeout = TIMEOUT_RETRANS;
	else
		timeout = tcp_timeouts[new_state];

	if (!c->seen_reply) {
		if (s->flags & TCPF_RST) {
			/* the only reply is a RST: no connection, the entry goes now */
			c->exists = false;
			r->killed = true;
			return CTWIN_ACCEPT;
		}
		if (index == TCP_SYN_SET && old_state == sSS)
			return CTWIN_ACCEPT; /* a SYN retransmit does not renew the timeout */
		if (new_state == sES && timeout > TIMEOUT_UNACK)
			timeout = TIMEOUT_UNACK;
	} else if (!c->assured && (old_state == sSR || old_state == sES) && new_state == sES) {
		c->assured = true;
	}
	c->expires_us = s->ts_us + timeout * US;
	return CTWIN_ACCEPT;
}

enum ctwin_verdict ctwin_packet(struct ctwin_conn *c, int dir, const struct ctwin_seg *s,
				const struct ctwin_opts *o, struct ctwin_result *r)
{
	enum ctwin_verdict v;
	int ctdir;

	memset(r, 0, sizeof(*r));
	r->index = (uint8_t)conntrack_index(s->flags);
	if (!valid_flags(s->flags)) {
		/* tcp_error() runs before any lookup: no entry is created or touched */
		r->reason = CTWIN_R_FLAGS;
		r->ct_dir = c->exists ? (uint8_t)(dir != c->orig) : 0;
		r->verdict = CTWIN_INVALID;
		return CTWIN_INVALID;
	}
	if (c->exists && !o->no_timeouts && s->ts_us > c->expires_us) {
		c->exists = false;
		r->expired = true;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		bool expired = r->expired || attempt > 0;

		if (!c->exists) {
			struct ctwin_conn fresh = *c;

			if (!tcp_new(&fresh, s, o, r)) {
				r->verdict = CTWIN_INVALID;
				r->expired = expired;
				return CTWIN_INVALID;
			}
			*c = fresh;
			c->orig = (uint8_t)dir;
			c->exists = true;
			r->new_entry = true;
		}
		ctdir = dir != c->orig;
		r->ct_dir = (uint8_t)ctdir;
		v = tcp_packet(c, ctdir, s, o, r);
		r->expired = expired;
		if (v == CTWIN_INVALID && r->killed && !c->exists && !r->new_entry) {
			/* -NF_REPEAT after a reopening SYN: look it up again */
			r->killed = false;
			continue;
		}
		if (v == CTWIN_INVALID && r->new_entry) {
			/* an unconfirmed entry the packet could not pass is freed with it */
			c->exists = false;
		} else if (v != CTWIN_INVALID && ctdir == 1) {
			c->seen_reply = true; /* IPS_SEEN_REPLY: set for any accepted reply */
		}
		r->new_state = c->state;
		r->verdict = v;
		return v;
	}
	r->verdict = CTWIN_INVALID;
	return CTWIN_INVALID;
}

const char *ctwin_reason_str(const struct ctwin_result *r, char *buf, size_t n)
{
	static const char *const idx[] = {"SYN", "SYN-ACK", "FIN", "ACK", "RST", "no flags"};
	const char *lib = r->liberal ? " [accepted: be_liberal]" : "";

	switch (r->reason) {
	case CTWIN_R_NONE:
		snprintf(buf, n, "%s",
			 r->pickup ? "picked up mid-stream (tracked liberally)" : "in window");
		break;
	case CTWIN_R_SEQ_OVER:
		snprintf(buf, n, "SEQ is over upper bound %u (over the window of the receiver)%s",
			 r->bound, lib);
		break;
	case CTWIN_R_ACK_OVER:
		snprintf(buf, n, "ACK is over upper bound %u (ACKed data not seen yet)%s", r->bound,
			 lib);
		break;
	case CTWIN_R_SEQ_UNDER:
		snprintf(buf, n, "SEQ is under lower bound %u (already ACKed data retransmitted)%s",
			 r->bound, lib);
		break;
	case CTWIN_R_ACK_UNDER:
		if (r->verdict == CTWIN_INVALID)
			snprintf(buf, n,
				 "ACK is under the lower bound %u (possible overly delayed "
				 "ACK)%s",
				 r->bound, lib);
		else
			snprintf(buf, n,
				 "ignored ACK under lower bound %u (possible overly "
				 "delayed)%s",
				 r->bound, lib);
		break;
	case CTWIN_R_OVERSHOT:
		snprintf(buf, n, "%u bytes more than expected%s", r->bound, lib);
		break;
	case CTWIN_R_FLAGS:
		snprintf(buf, n, "invalid tcp flag combination");
		break;
	case CTWIN_R_NEW_INVALID:
		snprintf(buf, n, "invalid new (a %s cannot open a conntrack entry)",
			 idx[r->index < 6 ? r->index : 5]);
		break;
	case CTWIN_R_NEW_NOPICKUP:
		snprintf(buf, n, "not a SYN and nf_conntrack_tcp_loose=0: no entry");
		break;
	case CTWIN_R_STATE_IGNORED:
		snprintf(buf, n, "packet (index %u) in dir %u ignored, state %s", r->index,
			 r->ct_dir, ctwin_state_name(r->old_state));
		break;
	case CTWIN_R_STATE_INVALID:
		snprintf(buf, n, "packet (index %u) in dir %u invalid, state %s", r->index,
			 r->ct_dir, ctwin_state_name(r->old_state));
		break;
	case CTWIN_R_INVALID_RST:
		snprintf(buf, n, "invalid rst");
		break;
	case CTWIN_R_CHALLENGE_ACK:
		snprintf(buf, n, "challenge-ack ignored");
		break;
	}
	return buf;
}

enum ctwin_rst_effect ctwin_rst_effect(const struct ctwin_conn *c, int dir, uint32_t seq,
				       bool sender_fin)
{
	const struct ctwin_dir *sender = &c->seen[dir != c->orig];

	if (!sender->td_maxwin)
		return CTWIN_RST_UNKNOWN;
	if (seq == sender->td_end || (sender_fin && seq == sender->td_end - 1))
		return CTWIN_RST_RESETS;
	/* the receiver's window as conntrack knows it: [td_end, td_maxend] */
	if (seq_after(seq, sender->td_end) && !seq_after(seq, sender->td_maxend))
		return CTWIN_RST_CHALLENGE;
	return CTWIN_RST_IGNORED;
}

const char *ctwin_rst_effect_str(enum ctwin_rst_effect e)
{
	switch (e) {
	case CTWIN_RST_RESETS:
		return "seq is the receiver's next expected: it resets the connection";
	case CTWIN_RST_CHALLENGE:
		return "seq inside the receive window, not exact: challenge ACK, connection "
		       "survives";
	case CTWIN_RST_IGNORED:
		return "seq outside the receive window: dropped, connection survives";
	case CTWIN_RST_UNKNOWN:
		break;
	}
	return "effect unknown (the sender's sequence space was not tracked)";
}
