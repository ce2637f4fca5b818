#include "live/learn.h"
#include "base/seq.h"
#include "tests.h"
#include "live/trigger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ctr_tuple s2c; /* backend 198.18.2.10:8080 -> client 198.18.1.10:40000 */

static struct ctr_pkt seg(bool from_server, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
			  uint32_t len, int wscale)
{
	struct ctr_pkt p = {.seq = seq,
			    .ack = ack,
			    .flags = flags,
			    .win = win,
			    .payload_len = len,
			    .wscale = wscale};

	p.tuple = from_server ? s2c : tuple_reverse(&s2c);
	return p;
}

/* A handshake and a little data with the server's ISN just below 2^32, so every sum in
 * the learner crosses the wrap. Client ISN 1000, wscale 7; server ISN 2^32-100, wscale 10. */
static void feed(struct learn_flow *f)
{
	const uint32_t sisn = 0xffffff9cu;
	struct ctr_pkt p;

	learn_init(f, &s2c);
	p = seg(false, 1000, 0, TCPF_SYN, 64240, 0, 7);
	learn_segment(f, &p);
	p = seg(true, sisn, 1001, TCPF_SYN | TCPF_ACK, 65160, 0, 10);
	learn_segment(f, &p);
	p = seg(false, 1001, sisn + 1, TCPF_ACK, 502, 0, -1); /* 502 << 7 = 64256 */
	learn_segment(f, &p);
	p = seg(true, sisn + 1, 1001, TCPF_PSH | TCPF_ACK, 64, 1024, -1);
	learn_segment(f, &p);
	p = seg(false, 1001, sisn + 1025, TCPF_ACK, 510, 0, -1); /* 510 << 7 = 65280 */
	learn_segment(f, &p);
}

static void handshake_and_wrap(void)
{
	struct learn_flow f;
	const char *why = NULL;

	feed(&f);
	CU_ASSERT_TRUE(learn_ready(&f, &why));
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_EQUAL(learn_scale(&f, &f.client), 7);
	CU_ASSERT_EQUAL(f.server.end, 0xffffff9cu + 1025); /* wrapped: 0x3a1 */
	CU_ASSERT_EQUAL(f.server.end, 0x39du);
	CU_ASSERT_EQUAL(f.client.end, 1001u);
	CU_ASSERT_EQUAL(f.client.ack, 0x39du);
	CU_ASSERT_EQUAL(f.client.maxwin, 65280u);
	CU_ASSERT_EQUAL(f.client.maxend, 0x39du + 65280u);
}

/* conntrack's td_maxend of the server is the client's sack + win, not ack + win: a SACK
 * block past a hole moves it (tcp_in_window: receiver->td_maxend = sack + win) */
static void maxend_from_sack(void)
{
	struct learn_flow f;
	struct ctr_pkt p;

	feed(&f);
	p = seg(false, 1001, 0x39du, TCPF_ACK, 510, 0, -1);
	p.sack_blocks = 1;
	p.sack_right = 0x39du + 3000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.client.maxend, 0x39du + 3000 + 65280u);
	CU_ASSERT_EQUAL(f.client.ack, 0x39du);
}

static void scale_needs_both_syns(void)
{
	struct learn_flow f;
	struct ctr_pkt p;

	learn_init(&f, &s2c);
	p = seg(false, 1000, 0, TCPF_SYN, 64240, 0, 7);
	learn_segment(&f, &p);
	p = seg(true, 5000, 1001, TCPF_SYN | TCPF_ACK, 65160, 0, -1); /* no WS option */
	learn_segment(&f, &p);
	p = seg(false, 1001, 5001, TCPF_ACK, 502, 0, -1);
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(learn_scale(&f, &f.client), 0);
	CU_ASSERT_EQUAL(f.client.maxwin, 64240u); /* the SYN's, larger than 502 unscaled */
}

static void not_ready_without_data(void)
{
	struct learn_flow f;
	struct ctr_pkt p;
	const char *why = NULL;

	learn_init(&f, &s2c);
	CU_ASSERT_FALSE(learn_ready(&f, &why));
	CU_ASSERT_PTR_NOT_NULL(why);
	p = seg(false, 1000, 0, TCPF_SYN, 64240, 0, 7);
	learn_segment(&f, &p);
	p = seg(true, 5000, 1001, TCPF_SYN | TCPF_ACK, 65160, 0, 10);
	learn_segment(&f, &p);
	CU_ASSERT_FALSE(learn_ready(&f, &why));
	/* a segment of another flow is not taken */
	p = seg(true, 5001, 1001, TCPF_ACK, 64, 100, -1);
	p.tuple.dst.port = 40001;
	CU_ASSERT_FALSE(learn_segment(&f, &p));
}

/* each trigger lands where conntrack's rule puts it (tcp_in_window, >= 6.1) */
static void trigger_placement(void)
{
	struct learn_flow f;
	struct craft_segment s;
	char why[256];
	uint32_t maxend, maxwin, end, mack;

	feed(&f);
	maxend = f.client.maxend;
	maxwin = f.client.maxwin;

	CU_ASSERT_EQUAL_FATAL(trigger_probe(TRIGGER_SEQ_ABOVE, &f, &s, why, sizeof(why)), 0);
	end = s.seq + s.payload_len;
	/* over the upper bound, and by more than the receiver's max window (else ACCEPTed
	 * by "work around exceeded receive window") */
	CU_ASSERT_TRUE(seq_after(s.seq, maxend));
	CU_ASSERT_TRUE(end - maxend + 1 > maxwin);
	CU_ASSERT_EQUAL(s.ack, f.client.end); /* exact: the client's RST will carry it */
	CU_ASSERT_TRUE(tuple_eq(&s.tuple, &s2c));

	CU_ASSERT_EQUAL_FATAL(trigger_probe(TRIGGER_SMALL_OVERSHOOT, &f, &s, why, sizeof(why)), 0);
	end = s.seq + s.payload_len;
	/* conntrack's seq check is on the start: "seq_ok = before(seq, td_maxend + 1)"; a
	 * segment starting at or before maxend is in window whatever its end, so the
	 * overshoot workaround is only exercised when the start is past maxend */
	CU_ASSERT_FALSE(seq_before(s.seq, maxend + 1));
	CU_ASSERT_TRUE(seq_after(end, maxend));
	CU_ASSERT_TRUE(end - maxend + 1 <= maxwin);
	/* and inside the receive window check that the workaround also requires:
	 * after(end, td_end - receiver max window - 1) */
	CU_ASSERT_TRUE(seq_after(end, f.server.end - maxwin - 1));
	CU_ASSERT_EQUAL(s.ack, f.client.end);

	CU_ASSERT_EQUAL_FATAL(trigger_probe(TRIGGER_SEQ_BELOW, &f, &s, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(s.seq, f.client.ack - TRIGGER_E2E_BELOW); /* wraps below zero */
	CU_ASSERT_TRUE(seq_before(s.seq, f.client.ack));

	mack = trigger_maxackwindow(&f.server);
	CU_ASSERT_EQUAL(mack, 66000u); /* server window 64 << 10 = 65536 < 66000 */
	CU_ASSERT_EQUAL_FATAL(trigger_probe(TRIGGER_ACK_ABOVE, &f, &s, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(seq_after(s.ack, f.client.end));
	CU_ASSERT_EQUAL(s.seq, f.server.end);
	CU_ASSERT_EQUAL_FATAL(trigger_probe(TRIGGER_ACK_BELOW, &f, &s, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(seq_before(s.ack, f.client.end - mack));

	CU_ASSERT_EQUAL_FATAL(trigger_probe(TRIGGER_BAD_FLAGS, &f, &s, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(s.flags, TCPF_SYN | TCPF_FIN);
	CU_ASSERT_EQUAL(trigger_probe(TRIGGER_CT_ENTRY_LOST, &f, &s, why, sizeof(why)), -1);
}

/* An HTTP client speaks first: its request is client data, which the learner must count
 * in the client's next seq (the probe's ack, which the client's RST then carries), and the
 * server's ack of the request is not yet the client acknowledging server data. */
static void client_sends_first(void)
{
	struct learn_flow f;
	struct craft_segment s;
	struct ctr_pkt p;
	const char *why = NULL;
	char text[256];

	learn_init(&f, &s2c);
	p = seg(false, 1000, 0, TCPF_SYN, 64240, 0, 7);
	learn_segment(&f, &p);
	p = seg(true, 5000, 1001, TCPF_SYN | TCPF_ACK, 65160, 0, 7);
	learn_segment(&f, &p);
	p = seg(false, 1001, 5001, TCPF_ACK, 502, 0, -1);
	learn_segment(&f, &p);
	p = seg(false, 1001, 5001, TCPF_PSH | TCPF_ACK, 502, 82, -1); /* GET /payload */
	learn_segment(&f, &p);
	p = seg(true, 5001, 1083, TCPF_ACK, 509, 0, -1); /* the server acks the request */
	learn_segment(&f, &p);
	CU_ASSERT_FALSE(learn_ready(&f, &why));
	CU_ASSERT_STRING_EQUAL(why, "no data from the server yet");
	p = seg(true, 5001, 1083, TCPF_PSH | TCPF_ACK, 509, 246, -1); /* 200 OK */
	learn_segment(&f, &p);
	CU_ASSERT_FALSE(learn_ready(&f, &why));
	CU_ASSERT_STRING_EQUAL(why, "the client has not acknowledged data yet");
	p = seg(false, 1083, 5247, TCPF_ACK, 600, 0, -1); /* the window grew */
	learn_segment(&f, &p);
	CU_ASSERT_TRUE(learn_ready(&f, &why));
	CU_ASSERT_EQUAL(f.client.end, 1083u);
	CU_ASSERT_EQUAL(f.client.data_segments, 1u);
	CU_ASSERT_EQUAL(f.server.ack, 1083u);
	CU_ASSERT_EQUAL(f.client.ack, 5247u);
	CU_ASSERT_EQUAL(f.client.maxend, 5247u + (600u << 7));

	CU_ASSERT_EQUAL_FATAL(trigger_probe(TRIGGER_SEQ_ABOVE, &f, &s, text, sizeof(text)), 0);
	CU_ASSERT_EQUAL(s.ack, 1083u); /* past the request: what the client expects acked */
	CU_ASSERT_TRUE(seq_after(s.seq, f.client.maxend));
	CU_ASSERT_EQUAL_FATAL(trigger_probe(TRIGGER_ACK_ABOVE, &f, &s, text, sizeof(text)), 0);
	/* conntrack's ack bound is the client's end + MAXACKWINDOW(server) = max(the server's
	 * largest window, 65160 here, and 66000): the probe acks twice that past 1083 */
	CU_ASSERT_EQUAL(s.ack, 1083u + 2 * 66000u);
	CU_ASSERT_EQUAL(s.seq, 5247u);
	CU_ASSERT_FALSE(f.server.closed || f.client.closed);
}

/* a FIN or RST from either side marks it closed (the injector's --delay gives up then) */
static void closed_by_fin_or_rst(void)
{
	struct learn_flow f;
	struct ctr_pkt p;

	feed(&f);
	CU_ASSERT_FALSE(f.server.closed || f.client.closed);
	p = seg(true, 0x39du, 1001, TCPF_FIN | TCPF_ACK, 64, 0, -1);
	learn_segment(&f, &p);
	CU_ASSERT_TRUE(f.server.closed);
	CU_ASSERT_FALSE(f.client.closed);
	CU_ASSERT_EQUAL(f.server.end, 0x39du + 1); /* a FIN takes a sequence number */
	feed(&f);
	p = seg(false, 1001, 0, TCPF_RST, 0, 0, -1);
	learn_segment(&f, &p);
	CU_ASSERT_TRUE(f.client.closed);
}

static void trigger_names(void)
{
	for (int t = 0; t < TRIGGER_COUNT; t++)
		CU_ASSERT_EQUAL(trigger_parse(trigger_info(t)->name), t);
	CU_ASSERT_EQUAL(trigger_parse("seq_above"), -1);
	CU_ASSERT_EQUAL(trigger_parse(""), -1);
}

/* the table: every row complete; a crafted trigger places a segment, no other does; the
 * bench lines only for the places the bench knows (test_trigger.c: their values) */
static void trigger_table(void)
{
	struct learn_flow f;
	struct craft_segment s;
	char why[256];
	struct trigger_bench_in in = {.time_scale = 1};

	feed(&f);
	for (int t = 0; t < TRIGGER_COUNT; t++) {
		const struct trigger_info *ti = trigger_info(t);
		char *buf = NULL, *err = NULL;
		size_t len = 0;
		FILE *m;

		CU_ASSERT_PTR_NOT_NULL_FATAL(ti->name);
		CU_ASSERT_PTR_NOT_NULL(ti->summary);
		CU_ASSERT_PTR_NULL(strchr(ti->summary, '\t'));
		CU_ASSERT_STRING_NOT_EQUAL(trigger_kind_name(ti->kind), "?");
		CU_ASSERT_EQUAL(trigger_probe(t, &f, &s, why, sizeof(why)) == 0,
				ti->kind == TRIGGER_CRAFTED);
		for (int http = 0; http < 2; http++) {
			in.http = http;
			m = open_memstream(&buf, &len);
			CU_ASSERT_PTR_NOT_NULL_FATAL(m);
			CU_ASSERT_EQUAL(trigger_bench_print(m, ti->name, "none", &in, &err), 0);
			fclose(m);
			for (char *l = buf; l && *l; l = strchr(l, '\n') + 1) {
				char *where = strchr(strchr(l, '\t') + 1, '\t') + 1;

				CU_ASSERT_FATAL(strchr(l, '\n') != NULL);
				/* a crafted trigger asks only for a pause of the stream, to
				 * send in (small-overshoot) */
				if (ti->kind == TRIGGER_CRAFTED)
					CU_ASSERT(!strncmp(where, "server\t", 7));
				/* stall and body: the http workload's; server and client the
				 * stream's */
				CU_ASSERT(!strncmp(where, "inject\t", 7) ||
					  (!http && !strncmp(where, "server\t", 7)) ||
					  (!http && !strncmp(where, "client\t", 7)) ||
					  (http && !strncmp(where, "stall\t", 6)) ||
					  (http && !strncmp(where, "body\t", 5)));
			}
			free(buf);
			free(err);
			buf = NULL;
		}
	}
	CU_ASSERT_STRING_EQUAL(trigger_kind_name(TRIGGER_CONNTRACK), "conntrack");
	CU_ASSERT_EQUAL(trigger_info(TRIGGER_COUNT), NULL);
}

/* The idle on the wire: the longest quiet of the whole flow (no segment either way) that a
 * side's segment moving its end forward ended, by the captures' times (idle-expiry's wait
 * reads it: conntrack's entry was untouched that long); a retransmission does not end it,
 * the other side's ACK starts it anew, and the reader zeroes it */
static void idle_on_the_wire(void)
{
	struct learn_flow f;
	struct ctr_pkt p;
	const uint32_t s = 0xffffff9cu + 1025;

	feed(&f);
	f.server.gap_us = 0;
	p = seg(true, s, 1001, TCPF_PSH | TCPF_ACK, 64, 100, -1);
	p.ts_us = 5000000;
	learn_segment(&f, &p);
	p = seg(false, 1001, s + 100, TCPF_ACK, 510, 0, -1); /* the client's ACK, 40 ms on */
	p.ts_us = 5040000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.last_us, 5040000u);
	p = seg(true, s, 1001, TCPF_PSH | TCPF_ACK, 64, 100, -1); /* a retransmission */
	p.ts_us = 5500000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.server.gap_us, 0u);
	p = seg(true, s + 100, 1001, TCPF_PSH | TCPF_ACK, 64, 100, -1); /* resumed */
	p.ts_us = 6900000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.server.gap_us, 1400000u); /* since the retransmission */
	p = seg(true, s + 200, 1001, TCPF_PSH | TCPF_ACK, 64, 100, -1); /* the stream again */
	p.ts_us = 6901000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.server.gap_us, 1400000u);
	CU_ASSERT_EQUAL(f.last_us, 6901000u);
	CU_ASSERT_EQUAL(f.client.gap_us, 0u);
}

/* The quiet of a side's own data: from its last segment moving its end forward to the
 * next, whatever the peer sent between (a keepalive and its ACK refresh the entry, and end
 * the quiet of the whole flow, not this one); a retransmission neither ends nor restarts
 * it */
static void data_quiet_on_the_wire(void)
{
	struct learn_flow f;
	struct ctr_pkt p;
	const uint32_t s = 0xffffff9cu + 1025;

	feed(&f);
	f.server.data_gap_us = 0;
	p = seg(true, s, 1001, TCPF_PSH | TCPF_ACK, 64, 100, -1);
	p.ts_us = 5000000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.server.end_us, 5000000u);
	p = seg(false, 1000, s + 100, TCPF_ACK, 510, 0, -1); /* a keepalive probe, 1 s on */
	p.ts_us = 6000000;
	learn_segment(&f, &p);
	p = seg(true, s + 100, 1001, TCPF_ACK, 64, 0, -1); /* the backend's ACK of it */
	p.ts_us = 6000010;
	learn_segment(&f, &p);
	p = seg(true, s, 1001, TCPF_PSH | TCPF_ACK, 64, 100, -1); /* a retransmission */
	p.ts_us = 6500000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.server.data_gap_us, 0u);
	CU_ASSERT_EQUAL(f.server.end_us, 5000000u);
	p = seg(true, s + 100, 1001, TCPF_PSH | TCPF_ACK, 64, 100, -1); /* resumed */
	p.ts_us = 7400000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.server.data_gap_us, 2400000u);
	CU_ASSERT(f.server.gap_us < 2400000u); /* the flow's own quiet: since the ACK */
	p = seg(true, s + 200, 1001, TCPF_PSH | TCPF_ACK, 64, 100, -1);
	p.ts_us = 7401000;
	learn_segment(&f, &p);
	CU_ASSERT_EQUAL(f.server.data_gap_us, 2400000u);
	CU_ASSERT_EQUAL(f.server.end_us, 7401000u);
}

void register_learn_tests(void)
{
	CU_pSuite s = suite_add("learn+trigger");

	if (endpoint_parse("198.18.2.10:8080", &s2c.src) ||
	    endpoint_parse("198.18.1.10:40000", &s2c.dst))
		abort();
	test_add(s, "handshake, window scale and data across 2^32", handshake_and_wrap);
	test_add(s, "window scale only when both SYNs carry it", scale_needs_both_syns);
	test_add(s, "the client's window end is its sack + window", maxend_from_sack);
	test_add(s, "not ready before data; other flows ignored", not_ready_without_data);
	test_add(s, "trigger placement against conntrack's window", trigger_placement);
	test_add(s, "trigger names round-trip", trigger_names);
	test_add(s, "the trigger table: kinds, probes, bench lines", trigger_table);
	test_add(s, "a client that sends first (HTTP request)", client_sends_first);
	test_add(s, "FIN or RST closes a direction", closed_by_fin_or_rst);
	test_add(s, "the idle between a side's data segments, on the wire", idle_on_the_wire);
	test_add(s, "a side's own data quiet, on the wire, a keepalive between",
		 data_quiet_on_the_wire);
}
