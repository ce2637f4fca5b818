/* The conntrack model: hand-built segments against the bounds of tcp_in_window (I-IV),
 * the flag check, the state table and tcp_new, in both kernel generations; then the
 * synthetic reference captures (pcaps/ref/synth), one per classification, through it. */
#include "review/ctwin.h"
#include "review/pcapfile.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

static const struct ctwin_opts now_ = {0},
			       old_ = {.no_ignore_delayed = true, .no_rcvwnd_workaround = true};

static struct ctwin_seg seg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t win)
{
	return (struct ctwin_seg){.ts_us = 1000000,
				  .flags = flags,
				  .seq = seq,
				  .ack = ack,
				  .len = len,
				  .win = win,
				  .wscale = -1,
				  .sack = ack};
}

/* client ISN 1000, server ISN 5000, both with window scale 7, raw windows 500 after */
static void established(struct ctwin_conn *c, const struct ctwin_opts *o, int cws, int sws)
{
	struct ctwin_result r;
	struct ctwin_seg s;

	ctwin_init(c);
	s = seg(TCPF_SYN, 1000, 0, 0, 64240);
	s.wscale = cws;
	s.sack_perm = true;
	CU_ASSERT_EQUAL(ctwin_packet(c, 0, &s, o, &r), CTWIN_ACCEPT);
	CU_ASSERT_TRUE(r.new_entry);
	s = seg(TCPF_SYN | TCPF_ACK, 5000, 1001, 0, 65160);
	s.wscale = sws;
	s.sack_perm = true;
	CU_ASSERT_EQUAL(ctwin_packet(c, 1, &s, o, &r), CTWIN_ACCEPT);
	s = seg(TCPF_ACK, 1001, 5001, 0, 500);
	CU_ASSERT_EQUAL(ctwin_packet(c, 0, &s, o, &r), CTWIN_ACCEPT);
	CU_ASSERT_EQUAL(c->state, CTWIN_ESTABLISHED);
}

static enum ctwin_verdict run(struct ctwin_conn *c, int dir, struct ctwin_seg s,
			      const struct ctwin_opts *o, struct ctwin_result *r)
{
	return ctwin_packet(c, dir, &s, o, r);
}

static void handshake_state(void)
{
	struct ctwin_conn c;

	established(&c, &now_, 7, 7);
	CU_ASSERT_EQUAL(c.seen[0].td_scale, 7);
	CU_ASSERT_EQUAL(c.seen[1].td_scale, 7);
	CU_ASSERT_EQUAL(c.seen[0].td_end, 1001u);
	CU_ASSERT_EQUAL(c.seen[1].td_end, 5001u);
	/* the client's ACK (window 500 << 7) sets how far the server may send */
	CU_ASSERT_EQUAL(c.seen[1].td_maxend, 5001u + 500u * 128u);
	CU_ASSERT_TRUE(c.exists);
	CU_ASSERT_TRUE(c.assured); /* the third ACK after SYN_RECV: IPS_ASSURED */
}

/* I. seq <= td_maxend: the server sends exactly up to, then one past the bound */
static void seq_upper_bound(void)
{
	struct ctwin_conn c;
	struct ctwin_result r;
	char buf[160];
	uint32_t maxend;

	established(&c, &now_, 7, 7);
	maxend = c.seen[1].td_maxend;
	/* I bounds the first byte only: a segment starting at td_maxend passes */
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK | TCPF_PSH, maxend, 1001, 10, 500), &now_, &r),
			CTWIN_ACCEPT);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_NONE);
	established(&c, &now_, 7, 7);
	CU_ASSERT_EQUAL(
	    run(&c, 1, seg(TCPF_ACK | TCPF_PSH, maxend + 10000000, 1001, 10, 500), &now_, &r),
	    CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_SEQ_OVER);
	CU_ASSERT_EQUAL(r.bound, maxend + 1);
	ctwin_reason_str(&r, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "SEQ is over upper bound"));
	/* an INVALID segment changes nothing: the next in-window one is fine */
	CU_ASSERT_EQUAL(c.seen[1].td_end, 5001u);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK | TCPF_PSH, 5001, 1001, 100, 500), &now_, &r),
			CTWIN_ACCEPT);
}

/* the overshoot workaround: past td_maxend by no more than the receiver's max window */
static void small_overshoot(void)
{
	struct ctwin_conn c;
	struct ctwin_result r;
	uint32_t maxend;

	established(&c, &now_, 7, 7);
	maxend = c.seen[1].td_maxend;
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, maxend + 1, 1001, 100, 500), &now_, &r),
			CTWIN_IGNORE);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_OVERSHOT);
	CU_ASSERT_EQUAL(c.seen[1].td_end, maxend + 101); /* so that its ACK can follow */
	established(&c, &old_, 7, 7);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, maxend + 1, 1001, 100, 500), &old_, &r),
			CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_SEQ_OVER);
	CU_ASSERT_EQUAL(c.seen[1].td_end, 5001u); /* nothing moved: the client's ACK of it... */
	CU_ASSERT_EQUAL(run(&c, 0, seg(TCPF_ACK, 1001, maxend + 101, 0, 500), &old_, &r),
			CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_ACK_OVER); /* ...is "ACK is over upper bound" */
}

/* rcvwnd-workaround (cf97769c761a) without ignore-delayed (6.0, 5.15.68): the overshoot
 * is still INVALID, but td_end follows it, so the client's ACK of it is in window */
static void overshoot_rcvwnd_only(void)
{
	const struct ctwin_opts mid = {.no_ignore_delayed = true};
	struct ctwin_conn c;
	struct ctwin_result r;
	uint32_t maxend;

	established(&c, &mid, 7, 7);
	maxend = c.seen[1].td_maxend;
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, maxend + 1, 1001, 100, 500), &mid, &r),
			CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_OVERSHOT);
	CU_ASSERT_EQUAL(c.seen[1].td_end, maxend + 101);
	CU_ASSERT_EQUAL(run(&c, 0, seg(TCPF_ACK, 1001, maxend + 101, 0, 500), &mid, &r),
			CTWIN_ACCEPT);
	/* far past the window it is "SEQ is over upper bound", td_end untouched */
	established(&c, &mid, 7, 7);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, maxend + 10000000, 1001, 100, 500), &mid, &r),
			CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_SEQ_OVER);
	CU_ASSERT_EQUAL(c.seen[1].td_end, 5001u);
	/* be_liberal accepts it before the workaround looks at it: td_end untouched */
	{
		const struct ctwin_opts lib = {.no_ignore_delayed = true, .be_liberal = true};

		established(&c, &lib, 7, 7);
		CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, maxend + 1, 1001, 100, 500), &lib, &r),
				CTWIN_ACCEPT);
		CU_ASSERT_EQUAL(c.seen[1].td_end, 5001u);
	}
}

/* III. ack <= receiver's td_end */
static void ack_upper_bound(void)
{
	struct ctwin_conn c;
	struct ctwin_result r;

	established(&c, &now_, 7, 7);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 5001, 1001, 0, 500), &now_, &r), CTWIN_ACCEPT);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 5001, 1002, 0, 500), &now_, &r), CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_ACK_OVER);
	CU_ASSERT_EQUAL(r.bound, 1002u);
	/* a SACK block past the data counts like the ack when SACK was permitted */
	{
		struct ctwin_seg s = seg(TCPF_ACK, 5001, 1001, 0, 500);

		s.sack = 900000;
		CU_ASSERT_EQUAL(ctwin_packet(&c, 1, &s, &now_, &r), CTWIN_INVALID);
		CU_ASSERT_EQUAL(r.reason, CTWIN_R_ACK_OVER);
	}
}

/* II and IV: below the window. IGNORE since 6.1, INVALID before */
static void lower_bounds(void)
{
	const struct ctwin_opts *opts[2] = {&now_, &old_};

	for (int k = 0; k < 2; k++) {
		enum ctwin_verdict want = k ? CTWIN_INVALID : CTWIN_IGNORE;
		struct ctwin_conn c;
		struct ctwin_result r;
		uint32_t snxt = 5001, cnxt = 1001;

		established(&c, opts[k], 7, 7);
		/* 200 kB from the server, acknowledged */
		for (int i = 0; i < 200; i++) {
			CU_ASSERT_EQUAL(
			    run(&c, 1, seg(TCPF_ACK, snxt, cnxt, 1000, 500), opts[k], &r),
			    CTWIN_ACCEPT);
			snxt += 1000;
			CU_ASSERT_EQUAL(run(&c, 0, seg(TCPF_ACK, cnxt, snxt, 0, 500), opts[k], &r),
					CTWIN_ACCEPT);
		}
		/* the e2e test's packet: seq = ack - 100000 */
		CU_ASSERT_EQUAL(
		    run(&c, 1, seg(TCPF_ACK, snxt - 100000, cnxt, 14, 500), opts[k], &r), want);
		CU_ASSERT_EQUAL(r.reason, CTWIN_R_SEQ_UNDER);
		/* 200 kB from the client, then the server acks its first byte */
		for (int i = 0; i < 200; i++) {
			run(&c, 0, seg(TCPF_ACK, cnxt, snxt, 1000, 500), opts[k], &r);
			cnxt += 1000;
			run(&c, 1, seg(TCPF_ACK, snxt, cnxt, 0, 500), opts[k], &r);
		}
		CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, snxt, 1001, 0, 500), opts[k], &r), want);
		CU_ASSERT_EQUAL(r.reason, CTWIN_R_ACK_UNDER);
		CU_ASSERT_EQUAL(r.bound, cnxt - 66000 - 1); /* MAXACKWINDOW: at least 66000 */
	}
}

static void invalid_flags(void)
{
	static const uint8_t bad[] = {
	    0,	      TCPF_SYN | TCPF_FIN, TCPF_SYN | TCPF_RST, TCPF_FIN | TCPF_RST,
	    TCPF_FIN, TCPF_URG | TCPF_PSH};
	static const uint8_t good[] = {TCPF_ACK | TCPF_PSH | TCPF_ECE | TCPF_CWR, TCPF_RST,
				       TCPF_ACK | TCPF_URG, TCPF_FIN | TCPF_ACK | TCPF_PSH};
	struct ctwin_conn c;
	struct ctwin_result r;

	established(&c, &now_, 7, 7);
	for (size_t i = 0; i < sizeof(bad); i++) {
		CU_ASSERT_EQUAL(run(&c, 1, seg(bad[i], 5001, 1001, 0, 500), &now_, &r),
				CTWIN_INVALID);
		CU_ASSERT_EQUAL(r.reason, CTWIN_R_FLAGS);
	}
	CU_ASSERT_EQUAL(c.state, CTWIN_ESTABLISHED); /* tcp_error runs before the state */
	for (size_t i = 0; i < sizeof(good); i++) {
		established(&c, &now_, 7, 7);
		run(&c, 1, seg(good[i], 5001, 1001, 0, 500), &now_, &r);
		CU_ASSERT_NOT_EQUAL(r.reason, CTWIN_R_FLAGS);
	}
}

/* sequence numbers crossing 2^32: bounds computed modulo 2^32 */
static void sequence_wrap(void)
{
	struct ctwin_conn c;
	struct ctwin_result r;
	uint32_t snxt = 0xFFFFF001u, cnxt = 0xFFFFFF01u;
	struct ctwin_seg s;

	ctwin_init(&c);
	s = seg(TCPF_SYN, cnxt - 1, 0, 0, 64240);
	s.wscale = 7;
	ctwin_packet(&c, 0, &s, &now_, &r);
	s = seg(TCPF_SYN | TCPF_ACK, snxt - 1, cnxt, 0, 65160);
	s.wscale = 7;
	ctwin_packet(&c, 1, &s, &now_, &r);
	CU_ASSERT_EQUAL(run(&c, 0, seg(TCPF_ACK, cnxt, snxt, 0, 500), &now_, &r), CTWIN_ACCEPT);
	for (int i = 0; i < 10; i++) { /* 10 kB: the server's seq passes 0 */
		CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, snxt, cnxt, 1000, 500), &now_, &r),
				CTWIN_ACCEPT);
		snxt += 1000;
		CU_ASSERT_EQUAL(run(&c, 0, seg(TCPF_ACK, cnxt, snxt, 400, 500), &now_, &r),
				CTWIN_ACCEPT);
		cnxt += 400;
		CU_ASSERT_EQUAL(r.reason, CTWIN_R_NONE);
	}
	CU_ASSERT_TRUE(snxt < 0x10000u); /* both really wrapped */
	CU_ASSERT_TRUE(cnxt < 0x10000u);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, snxt + 5000000, cnxt, 10, 500), &now_, &r),
			CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_SEQ_OVER);
	CU_ASSERT_EQUAL(r.bound, snxt + 500u * 128u + 1u);
	/* and just below the lower bound, across the wrap: a seq from before 0 */
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 0xFFFF0000u, cnxt, 10, 500), &now_, &r),
			CTWIN_IGNORE);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_SEQ_UNDER);
}

/* window scaling only when both SYNs carry the option (RFC 7323) */
static void window_scaling(void)
{
	struct ctwin_conn c;
	struct ctwin_result r;

	established(&c, &now_, 7, 7);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 5001 + 60000, 1001, 1000, 500), &now_, &r),
			CTWIN_ACCEPT); /* 60 kB ahead: inside 500 << 7 */
	established(&c, &now_, 7, -1);
	CU_ASSERT_EQUAL(c.seen[0].td_scale, 0);
	CU_ASSERT_EQUAL(c.seen[1].td_scale, 0);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 5001 + 70000, 1001, 1000, 500), &now_, &r),
			CTWIN_INVALID); /* unscaled, the client's window is 500 */
	/* a scale above 14 is taken as 14 */
	established(&c, &now_, 20, 20);
	CU_ASSERT_EQUAL(c.seen[0].td_scale, 14);
}

static void be_liberal(void)
{
	struct ctwin_opts lib = {.be_liberal = true};
	struct ctwin_conn c;
	struct ctwin_result r;

	established(&c, &lib, 7, 7);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 5001 + 10000000, 1001, 10, 500), &lib, &r),
			CTWIN_ACCEPT);
	CU_ASSERT_TRUE(r.liberal);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_SEQ_OVER);
	/* flags are checked before any window: still INVALID */
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_SYN | TCPF_FIN, 5001, 1001, 0, 500), &lib, &r),
			CTWIN_INVALID);
}

/* tcp_new: what can open an entry, and mid-stream pickup */
static void new_entries(void)
{
	struct ctwin_opts strict = {.no_pickup = true};
	struct ctwin_conn c;
	struct ctwin_result r;

	ctwin_init(&c);
	CU_ASSERT_EQUAL(run(&c, 0, seg(TCPF_RST, 1, 0, 0, 0), &now_, &r), CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_NEW_INVALID);
	CU_ASSERT_FALSE(c.exists);
	CU_ASSERT_EQUAL(run(&c, 0, seg(TCPF_SYN | TCPF_ACK, 1, 2, 0, 100), &now_, &r),
			CTWIN_INVALID);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 1, 2, 100, 100), &strict, &r), CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_NEW_NOPICKUP);
	/* picked up: liberal, so even a wild segment passes */
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 1, 2, 100, 100), &now_, &r), CTWIN_ACCEPT);
	CU_ASSERT_TRUE(r.pickup);
	CU_ASSERT_EQUAL(c.orig, 1); /* the entry's original direction is the packet's */
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 90000000, 2, 100, 100), &now_, &r), CTWIN_ACCEPT);
	CU_ASSERT_TRUE(r.liberal);
}

/* state table: a SYN-ACK again in ESTABLISHED is ignored, not invalid; RST closes; an RST
 * before any reply kills the entry */
static void state_table(void)
{
	struct ctwin_conn c;
	struct ctwin_result r;
	struct ctwin_seg s;

	established(&c, &now_, 7, 7);
	s = seg(TCPF_SYN | TCPF_ACK, 5000, 1001, 0, 65160);
	CU_ASSERT_EQUAL(ctwin_packet(&c, 1, &s, &now_, &r), CTWIN_IGNORE);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_STATE_IGNORED);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_RST, 5001, 0, 0, 0), &now_, &r), CTWIN_ACCEPT);
	CU_ASSERT_EQUAL(c.state, CTWIN_CLOSE);
	CU_ASSERT_TRUE(c.exists);

	ctwin_init(&c);
	s = seg(TCPF_SYN, 1000, 0, 0, 64240);
	ctwin_packet(&c, 0, &s, &now_, &r);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_RST | TCPF_ACK, 0, 1001, 0, 0), &now_, &r),
			CTWIN_ACCEPT);
	CU_ASSERT_TRUE(r.killed); /* refused connection: the entry goes at once */
	CU_ASSERT_FALSE(c.exists);
}

/* an invalid RST: seq below the peer's highest ack */
static void invalid_rst(void)
{
	struct ctwin_conn c;
	struct ctwin_result r;

	established(&c, &now_, 7, 7);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_ACK, 5001, 1001, 1000, 500), &now_, &r), CTWIN_ACCEPT);
	run(&c, 0, seg(TCPF_ACK, 1001, 6001, 0, 500), &now_, &r);
	CU_ASSERT_EQUAL(run(&c, 1, seg(TCPF_RST, 5500, 0, 0, 0), &now_, &r), CTWIN_INVALID);
	CU_ASSERT_EQUAL(r.reason, CTWIN_R_INVALID_RST);
}

/* an entry times out: the next segment opens a new one, from its own direction */
static void timeouts(void)
{
	struct ctwin_opts keep = {.no_timeouts = true};
	struct ctwin_conn c;
	struct ctwin_result r;
	struct ctwin_seg s;

	established(&c, &now_, 7, 7);
	run(&c, 1, seg(TCPF_RST, 5001, 0, 0, 0), &now_, &r); /* CLOSE: 10 s */
	s = seg(TCPF_ACK, 5001, 1001, 10, 500);
	s.ts_us += 11000000;
	CU_ASSERT_EQUAL(ctwin_packet(&c, 1, &s, &now_, &r), CTWIN_ACCEPT);
	CU_ASSERT_TRUE(r.expired);
	CU_ASSERT_TRUE(r.new_entry);
	CU_ASSERT_EQUAL(c.orig, 1);
	established(&c, &keep, 7, 7);
	run(&c, 1, seg(TCPF_RST, 5001, 0, 0, 0), &keep, &r);
	ctwin_packet(&c, 1, &s, &keep, &r);
	CU_ASSERT_FALSE(r.expired);
	CU_ASSERT_FALSE(r.new_entry);
}

static void rst_effects(void)
{
	struct ctwin_conn c;

	established(&c, &now_, 7, 7);
	CU_ASSERT_EQUAL(ctwin_rst_effect(&c, 0, 1001, false), CTWIN_RST_RESETS);
	CU_ASSERT_EQUAL(ctwin_rst_effect(&c, 0, 1000, true), CTWIN_RST_RESETS);
	CU_ASSERT_EQUAL(ctwin_rst_effect(&c, 0, 1000, false), CTWIN_RST_IGNORED);
	CU_ASSERT_EQUAL(ctwin_rst_effect(&c, 0, 1001 + 5000000, false), CTWIN_RST_IGNORED);
	CU_ASSERT_EQUAL(ctwin_rst_effect(&c, 1, 5001 + 100, false), CTWIN_RST_CHALLENGE);
	ctwin_init(&c);
	CU_ASSERT_EQUAL(ctwin_rst_effect(&c, 0, 1, false), CTWIN_RST_UNKNOWN);
}

/* --- the reference captures --------------------------------------------------------- */

struct tally {
	struct ctwin_conn c;
	struct ctwin_opts o;
	struct ctr_endpoint client;
	bool have_client;
	unsigned n[3];		      /* per verdict */
	unsigned reasons[16];	      /* per reason */
	struct ctwin_result last_bad; /* the last non-ACCEPT */
};

static int tally_cb(void *ctx, const struct ctr_pkt *p)
{
	struct tally *t = ctx;
	struct ctwin_seg s;
	struct ctwin_result r;
	int dir;

	if (!t->have_client) {
		t->client = p->tuple.src; /* the captures start with the client's SYN */
		t->have_client = true;
	}
	dir = endpoint_eq(&p->tuple.src, &t->client) ? 0 : 1;
	ctwin_seg_from_pkt(&s, p);
	ctwin_packet(&t->c, dir, &s, &t->o, &r);
	t->n[r.verdict]++;
	t->reasons[r.reason]++;
	if (r.verdict != CTWIN_ACCEPT)
		t->last_bad = r;
	return 0;
}

static void tally(const char *name, bool old, struct tally *t)
{
	char *err = NULL;

	memset(t, 0, sizeof(*t));
	t->o.no_ignore_delayed = t->o.no_rcvwnd_workaround = old;
	CU_ASSERT_EQUAL_FATAL(pcapfile_foreach(ref_path(name), tally_cb, t, NULL, &err), 0);
	free(err);
}

static void reference_captures(void)
{
	static const struct {
		const char *name;
		unsigned invalid, ignore;	  /* >= 6.1 */
		unsigned old_invalid, old_ignore; /* < 6.1 */
		enum ctwin_reason reason;
	} refs[] = {
	    {"synth/in-window.pcap", 0, 0, 0, 0, CTWIN_R_NONE},
	    {"synth/seq-over.pcap", 1, 0, 1, 0, CTWIN_R_SEQ_OVER},
	    {"synth/ack-over.pcap", 1, 0, 1, 0, CTWIN_R_ACK_OVER},
	    {"synth/sack-over.pcap", 1, 0, 1, 0, CTWIN_R_ACK_OVER},
	    {"synth/seq-under.pcap", 0, 1, 1, 0, CTWIN_R_SEQ_UNDER},
	    {"synth/ack-under.pcap", 0, 1, 1, 0, CTWIN_R_ACK_UNDER},
	    {"synth/bad-flags.pcap", 2, 0, 2, 0, CTWIN_R_FLAGS},
	    {"synth/overshoot.pcap", 0, 1, 1, 0, CTWIN_R_OVERSHOT},
	    {"synth/seq-wrap.pcap", 1, 0, 1, 0, CTWIN_R_SEQ_OVER},
	    {"synth/wscale.pcap", 1, 0, 1, 0, CTWIN_R_SEQ_OVER},
	    {"synth/wscale-off.pcap", 2, 0, 2, 0, CTWIN_R_SEQ_OVER},
	};

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		struct tally t;

		tally(refs[i].name, false, &t);
		CU_ASSERT_EQUAL(t.n[CTWIN_INVALID], refs[i].invalid);
		CU_ASSERT_EQUAL(t.n[CTWIN_IGNORE], refs[i].ignore);
		if (refs[i].reason != CTWIN_R_NONE)
			CU_ASSERT_EQUAL(t.last_bad.reason, refs[i].reason);
		tally(refs[i].name, true, &t);
		CU_ASSERT_EQUAL(t.n[CTWIN_INVALID], refs[i].old_invalid);
		CU_ASSERT_EQUAL(t.n[CTWIN_IGNORE], refs[i].old_ignore);
	}
}

/* seq-wrap.pcap: the bound of the INVALID segment has wrapped past 2^32 as well */
static void reference_wrap(void)
{
	struct tally t;

	tally("synth/seq-wrap.pcap", false, &t);
	CU_ASSERT_EQUAL(t.last_bad.verdict, CTWIN_INVALID);
	CU_ASSERT_TRUE(t.last_bad.bound < 0x20000u);
	CU_ASSERT_TRUE(t.c.seen[1].td_end < 0x10000u); /* the server's data wrapped */
}

void register_ctwin_tests(void)
{
	CU_pSuite s = suite_add("ctwin");

	test_add(s, "handshake sets td_end, td_maxend, td_scale", handshake_state);
	test_add(s, "I: SEQ over upper bound at td_maxend + 1", seq_upper_bound);
	test_add(s, "small overshoot: IGNORE >= 6.1, INVALID before", small_overshoot);
	test_add(s, "small overshoot with rcvwnd-workaround alone: INVALID, td_end moved",
		 overshoot_rcvwnd_only);
	test_add(s, "III: ACK (and SACK) over upper bound", ack_upper_bound);
	test_add(s, "II, IV: under the lower bounds, IGNORE >= 6.1", lower_bounds);
	test_add(s, "tcp_error: invalid flag combinations", invalid_flags);
	test_add(s, "sequence numbers wrapping past 2^32", sequence_wrap);
	test_add(s, "window scaling needs both SYNs", window_scaling);
	test_add(s, "be_liberal forgives windows, not flags", be_liberal);
	test_add(s, "tcp_new: invalid new, no pickup, liberal pickup", new_entries);
	test_add(s, "state table: ignored SYN-ACK, RST, refused", state_table);
	test_add(s, "RST below the peer's highest ack is invalid", invalid_rst);
	test_add(s, "an expired entry is reopened by the next segment", timeouts);
	test_add(s, "RST effect on the receiver (RFC 5961)", rst_effects);
	test_add(s, "reference captures, both kernel models", reference_captures);
	test_add(s, "reference capture across 2^32", reference_wrap);
}
