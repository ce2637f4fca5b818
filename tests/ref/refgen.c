/* refgen: writes the synthetic reference captures under pcaps/ref/synth/ (make ref-pcaps).
 * Each is a small TCP conversation crafted byte by byte so that one segment lands exactly
 * where a conntrack classification is decided; the unit tests read the committed copies
 * and assert what tcp_in_window makes of them. Real bench captures are in pcaps/ref/bench.
 *
 * usage: refgen DIR */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

enum { L_ETH, L_VLAN, L_SLL, L_SLL2, L_RAW };

/* one output file */
struct out {
	pcap_t *dead;
	pcap_dumper_t *d; /* pcap */
	FILE *ng;	  /* pcapng, written by hand: libpcap cannot */
	int link;	  /* L_* */
	bool v6;
	uint64_t t_us;
	uint16_t ipid;
	uint32_t snaplen; /* cut frames to this many bytes (0: whole) */
};

/* one segment */
struct seg {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	int wscale;    /* -1: none */
	bool syn_opts; /* MSS + SACK-permitted (+ wscale) as a SYN carries */
	uint32_t len;
	uint32_t sack_left, sack_right; /* one SACK block when right != 0 */
	bool hbh;			/* IPv6: a hop-by-hop options header first */
	uint16_t ipid;			/* forced IPv4 id (0: next) */
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static void die(const char *what)
{
	fprintf(stderr, "refgen: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t build_tcp(uint8_t *t, const struct seg *s)
{
	size_t o = 20;

	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[13] = s->flags;
	put16(t + 14, s->win);
	if (s->syn_opts) {
		t[o++] = 2, t[o++] = 4, put16(t + o, 1460), o += 2; /* MSS */
		t[o++] = 4, t[o++] = 2;				    /* SACK permitted */
		if (s->wscale >= 0)
			t[o++] = 1, t[o++] = 3, t[o++] = 3, t[o++] = (uint8_t)s->wscale;
	}
	if (s->sack_right) {
		t[o++] = 1, t[o++] = 1, t[o++] = 5, t[o++] = 10;
		put32(t + o, s->sack_left), put32(t + o + 4, s->sack_right), o += 8;
	}
	while (o % 4)
		t[o++] = 1; /* NOP */
	t[12] = (uint8_t)((o / 4) << 4);
	memset(t + o, 'x', s->len);
	return o + s->len;
}

static void emit(struct out *w, const struct seg *s)
{
	uint8_t f[9000] = {0}, *ip;
	size_t l2, l3 = 0, l4, total;
	uint16_t et = w->v6 ? 0x86dd : 0x0800;

	switch (w->link) {
	case L_ETH:
	case L_VLAN:
		memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
		if (w->link == L_VLAN) {
			put16(f + 12, 0x8100);
			put16(f + 14, 42);
			put16(f + 16, et);
			l2 = 18;
		} else {
			put16(f + 12, et);
			l2 = 14;
		}
		break;
	case L_SLL:
		put16(f, 0), put16(f + 2, 1), put16(f + 4, 6);
		memcpy(f + 6, "\x02\0\0\0\0\x01", 6);
		put16(f + 14, et);
		l2 = 16;
		break;
	case L_SLL2:
		put16(f, et), put32(f + 4, 3), put16(f + 8, 1), f[10] = 0, f[11] = 6;
		memcpy(f + 12, "\x02\0\0\0\0\x01", 6);
		l2 = 20;
		break;
	default:
		l2 = 0;
	}
	ip = f + l2;
	if (w->v6) {
		uint8_t ph[40] = {0};
		size_t ext = s->hbh ? 8 : 0;

		ip[0] = 0x60;
		ip[6] = s->hbh ? 0 : 6;
		ip[7] = 64;
		inet_pton(AF_INET6, s->src, ip + 8);
		inet_pton(AF_INET6, s->dst, ip + 24);
		if (s->hbh) {
			ip[40] = 6;		/* next: TCP */
			ip[41] = 0;		/* 8 bytes */
			ip[42] = 1, ip[43] = 4; /* PadN */
		}
		l3 = 40 + ext;
		l4 = build_tcp(ip + l3, s);
		put16(ip + 4, (uint16_t)(ext + l4));
		memcpy(ph, ip + 8, 32);
		put32(ph + 32, (uint32_t)l4);
		put16(ip + l3 + 16, csum(ip + l3, l4, (uint32_t)(~csum(ph, 40, 0) & 0xffff) + 6));
	} else {
		uint8_t ph[12];

		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = 6;
		put16(ip + 4, s->ipid ? s->ipid : ++w->ipid);
		put16(ip + 6, 0x4000);
		inet_pton(AF_INET, s->src, ip + 12);
		inet_pton(AF_INET, s->dst, ip + 16);
		l3 = 20;
		l4 = build_tcp(ip + 20, s);
		put16(ip + 2, (uint16_t)(20 + l4));
		put16(ip + 10, csum(ip, 20, 0));
		memcpy(ph, ip + 12, 8);
		ph[8] = 0, ph[9] = 6;
		put16(ph + 10, (uint16_t)l4);
		put16(ip + 36, csum(ip + 20, l4, (uint32_t)(~csum(ph, 12, 0) & 0xffff)));
	}
	total = l2 + l3 + l4;
	w->t_us += 1000;
	{
		uint32_t cap = w->snaplen && total > w->snaplen ? w->snaplen : (uint32_t)total;

		if (w->ng) {
			uint8_t epb[28];
			uint32_t pad = (4 - cap % 4) % 4, blen = 32 + cap + pad, zero = 0;
			uint32_t hi = (uint32_t)(w->t_us >> 32), lo = (uint32_t)w->t_us;

			memcpy(epb, &(uint32_t){6}, 4);
			memcpy(epb + 4, &blen, 4);
			memcpy(epb + 8, &zero, 4); /* interface 0 */
			memcpy(epb + 12, &hi, 4);
			memcpy(epb + 16, &lo, 4);
			memcpy(epb + 20, &cap, 4);
			memcpy(epb + 24, &(uint32_t){(uint32_t)total}, 4);
			if (fwrite(epb, 28, 1, w->ng) != 1 || fwrite(f, cap, 1, w->ng) != 1 ||
			    fwrite(&zero, pad, 1, w->ng) != (pad ? 1u : 0u) ||
			    fwrite(&blen, 4, 1, w->ng) != 1)
				die("writing pcapng");
		} else {
			struct pcap_pkthdr h = {.caplen = cap, .len = (uint32_t)total};

			h.ts.tv_sec = (time_t)(w->t_us / 1000000);
			h.ts.tv_usec = (suseconds_t)(w->t_us % 1000000);
			pcap_dump((u_char *)w->d, &h, f);
		}
	}
}

static int dlt_of(int link)
{
	switch (link) {
	case L_SLL:
		return DLT_LINUX_SLL;
	case L_SLL2:
		return DLT_LINUX_SLL2;
	case L_RAW:
		return DLT_RAW;
	default:
		return DLT_EN10MB;
	}
}

static void open_out(struct out *w, const char *dir, const char *name, int link, bool v6)
{
	char path[4096];

	memset(w, 0, sizeof(*w));
	w->link = link;
	w->v6 = v6;
	w->t_us = 1700000000ull * 1000000ull;
	w->ipid = 1000;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (strstr(name, ".pcapng")) {
		uint8_t shb[28], idb[20];
		uint32_t v;

		w->ng = fopen(path, "wb");
		if (!w->ng)
			die(path);
		v = 0x0A0D0D0A, memcpy(shb, &v, 4);
		v = 28, memcpy(shb + 4, &v, 4);
		v = 0x1A2B3C4D, memcpy(shb + 8, &v, 4);
		memcpy(shb + 12, &(uint16_t){1}, 2);
		memcpy(shb + 14, &(uint16_t){0}, 2);
		memset(shb + 16, 0xff, 8); /* section length unknown */
		v = 28, memcpy(shb + 24, &v, 4);
		v = 1, memcpy(idb, &v, 4);
		v = 20, memcpy(idb + 4, &v, 4);
		memcpy(idb + 8, &(uint16_t){(uint16_t)dlt_of(link)}, 2);
		memcpy(idb + 10, &(uint16_t){0}, 2);
		v = 262144, memcpy(idb + 12, &v, 4);
		v = 20, memcpy(idb + 16, &v, 4);
		if (fwrite(shb, 28, 1, w->ng) != 1 || fwrite(idb, 20, 1, w->ng) != 1)
			die(path);
		return;
	}
	w->dead = pcap_open_dead(dlt_of(link), 262144);
	if (!w->dead)
		die("pcap_open_dead");
	w->d = pcap_dump_open(w->dead, path);
	if (!w->d)
		die(path);
}

static void close_out(struct out *w)
{
	if (w->ng) {
		if (fclose(w->ng))
			die("closing pcapng");
		return;
	}
	pcap_dump_close(w->d);
	pcap_close(w->dead);
}

/* --- a conversation ------------------------------------------------------------------- */

struct conv {
	struct out *w;
	const char *c, *s; /* client and server addresses */
	uint16_t cp, sp;
	uint32_t cnxt, snxt; /* next sequence numbers */
	uint16_t cwin, swin; /* raw windows they advertise after the handshake */
};

static void send_seg(struct conv *v, int dir, uint32_t seq, uint32_t ack, uint8_t flags,
		     uint32_t len)
{
	struct seg s = {
	    .src = dir ? v->s : v->c,
	    .dst = dir ? v->c : v->s,
	    .sport = dir ? v->sp : v->cp,
	    .dport = dir ? v->cp : v->sp,
	    .seq = seq,
	    .ack = ack,
	    .flags = flags,
	    .win = dir ? v->swin : v->cwin,
	    .wscale = -1,
	    .len = len,
	};

	emit(v->w, &s);
}

static void handshake(struct conv *v, uint32_t cisn, uint32_t sisn, int cws, int sws)
{
	struct seg syn = {.src = v->c,
			  .dst = v->s,
			  .sport = v->cp,
			  .dport = v->sp,
			  .seq = cisn,
			  .flags = F_SYN,
			  .win = 64240,
			  .wscale = cws,
			  .syn_opts = true};
	struct seg synack = {.src = v->s,
			     .dst = v->c,
			     .sport = v->sp,
			     .dport = v->cp,
			     .seq = sisn,
			     .ack = cisn + 1,
			     .flags = F_SYN | F_ACK,
			     .win = 65160,
			     .wscale = sws,
			     .syn_opts = true};

	emit(v->w, &syn);
	emit(v->w, &synack);
	v->cnxt = cisn + 1;
	v->snxt = sisn + 1;
	send_seg(v, 0, v->cnxt, v->snxt, F_ACK, 0);
}

/* n segments of len bytes from dir, each acknowledged */
static void transfer(struct conv *v, int dir, int n, uint32_t len)
{
	for (int i = 0; i < n; i++) {
		if (dir) {
			send_seg(v, 1, v->snxt, v->cnxt, F_ACK | F_PSH, len);
			v->snxt += len;
			send_seg(v, 0, v->cnxt, v->snxt, F_ACK, 0);
		} else {
			send_seg(v, 0, v->cnxt, v->snxt, F_ACK | F_PSH, len);
			v->cnxt += len;
			send_seg(v, 1, v->snxt, v->cnxt, F_ACK, 0);
		}
	}
}

static void close_conv(struct conv *v)
{
	send_seg(v, 0, v->cnxt, v->snxt, F_FIN | F_ACK, 0);
	v->cnxt++;
	send_seg(v, 1, v->snxt, v->cnxt, F_FIN | F_ACK, 0);
	v->snxt++;
	send_seg(v, 0, v->cnxt, v->snxt, F_ACK, 0);
}

static struct conv conv4(struct out *w)
{
	return (struct conv){.w = w,
			     .c = "10.0.0.1",
			     .s = "10.0.0.2",
			     .cp = 40000,
			     .sp = 80,
			     .cwin = 502,
			     .swin = 509};
}

/* the classic flow with a segment past the window, written in every link type */
static void seq_over_flow(struct out *w)
{
	struct conv v = conv4(w);

	if (w->v6) {
		v.c = "fd00::1";
		v.s = "fd00::2";
	}
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 1, 3, 1000);
	send_seg(&v, 1, v.snxt + 10000000, v.cnxt, F_ACK | F_PSH, 100); /* SEQ over */
	if (w->v6) {
		/* one more in-window segment behind a hop-by-hop header */
		struct seg s = {.src = v.s,
				.dst = v.c,
				.sport = v.sp,
				.dport = v.cp,
				.seq = v.snxt,
				.ack = v.cnxt,
				.flags = F_ACK | F_PSH,
				.win = v.swin,
				.wscale = -1,
				.len = 10,
				.hbh = true};

		emit(w, &s);
		v.snxt += 10;
		send_seg(&v, 0, v.cnxt, v.snxt, F_ACK, 0);
	}
	close_conv(&v);
}

static void gen(const char *dir)
{
	struct out w;
	struct conv v;

	/* in-window: nothing but ACCEPT */
	open_out(&w, dir, "in-window.pcap", L_ETH, false);
	v = conv4(&w);
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 1, 3, 1000);
	transfer(&v, 0, 2, 500);
	close_conv(&v);
	close_out(&w);

	/* SEQ is over upper bound, every link type and pcapng */
	{
		static const struct {
			const char *name;
			int link;
			bool v6;
		} variants[] = {
		    {"seq-over.pcap", L_ETH, false},	  {"link-vlan.pcap", L_VLAN, false},
		    {"link-sll.pcap", L_SLL, false},	  {"link-sll2.pcap", L_SLL2, false},
		    {"link-raw.pcap", L_RAW, false},	  {"link-ipv6.pcap", L_ETH, true},
		    {"link-pcapng.pcapng", L_ETH, false},
		};

		for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
			open_out(&w, dir, variants[i].name, variants[i].link, variants[i].v6);
			seq_over_flow(&w);
			close_out(&w);
		}
	}

	/* ACK is over upper bound: the server acknowledges data the client never sent */
	open_out(&w, dir, "ack-over.pcap", L_ETH, false);
	v = conv4(&w);
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 1, 3, 1000);
	send_seg(&v, 1, v.snxt, v.cnxt + 5000000, F_ACK | F_PSH, 100);
	close_conv(&v);
	close_out(&w);

	/* SEQ is under lower bound: 120 kB sent, then a segment from 100 kB back (the e2e
	 * "boom" packet): IGNORE since 6.1, INVALID before */
	open_out(&w, dir, "seq-under.pcap", L_ETH, false);
	v = conv4(&w);
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 1, 120, 1000);
	send_seg(&v, 1, v.snxt - 100000, v.cnxt, F_ACK | F_PSH, 100);
	close_conv(&v);
	close_out(&w);

	/* ACK under lower bound: the client sent 100 kB, the server acks its first byte
	 * again (a pure ACK: data conntrack ignores would make the client's ACK of it
	 * "over upper bound", another story) */
	open_out(&w, dir, "ack-under.pcap", L_ETH, false);
	v = conv4(&w);
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 0, 100, 1000);
	send_seg(&v, 1, v.snxt, 1000001, F_ACK, 0);
	close_conv(&v);
	close_out(&w);

	/* invalid flag combinations (tcp_error): SYN|FIN, then no flags at all */
	open_out(&w, dir, "bad-flags.pcap", L_ETH, false);
	v = conv4(&w);
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 1, 2, 1000);
	send_seg(&v, 1, v.snxt, v.cnxt, F_SYN | F_FIN, 0);
	send_seg(&v, 1, v.snxt, v.cnxt, 0, 0);
	close_conv(&v);
	close_out(&w);

	/* a small overshoot: seq one past td_maxend, within the receiver's max window:
	 * IGNORE since the "work around exceeded receive window" change, INVALID before.
	 * td_maxend = the client's last ack + its window 502 << 7 = 64256 */
	open_out(&w, dir, "overshoot.pcap", L_ETH, false);
	v = conv4(&w);
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 1, 2, 1000);
	send_seg(&v, 1, v.snxt + 502 * 128 + 1, v.cnxt, F_ACK | F_PSH, 100);
	close_out(&w); /* no FIN: after the overshoot, conntrack's td_end is past it */

	/* sequence numbers wrapping past 2^32 on both sides, all in window, then one
	 * segment over the window whose bound has wrapped too */
	open_out(&w, dir, "seq-wrap.pcap", L_ETH, false);
	v = conv4(&w);
	handshake(&v, 0xFFFFFE00u, 0xFFFFF000u, 7, 7);
	transfer(&v, 1, 10, 1000); /* the server's crosses 0 after 4 kB */
	transfer(&v, 0, 2, 400);   /* the client's after 512 bytes */
	send_seg(&v, 1, v.snxt + 5000000, v.cnxt, F_ACK | F_PSH, 100);
	close_conv(&v);
	close_out(&w);

	/* window scaling: the client advertises 1000 << 7 = 128000. 100 kB ahead is in
	 * window only when scaled; 300 kB ahead is past it by more than the max window */
	open_out(&w, dir, "wscale.pcap", L_ETH, false);
	v = conv4(&w);
	v.cwin = 1000;
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 1, 2, 1000);
	send_seg(&v, 1, v.snxt + 100000, v.cnxt, F_ACK | F_PSH, 1000);
	send_seg(&v, 1, v.snxt + 300000, v.cnxt, F_ACK | F_PSH, 1000);
	close_out(&w);

	/* the same with the SYN-ACK lacking the option: no scaling either way (RFC 7323),
	 * and the 100 kB-ahead segment is INVALID as well */
	open_out(&w, dir, "wscale-off.pcap", L_ETH, false);
	v = conv4(&w);
	v.cwin = 1000;
	handshake(&v, 1000000, 2000000, 7, -1);
	transfer(&v, 1, 2, 1000);
	send_seg(&v, 1, v.snxt + 100000, v.cnxt, F_ACK | F_PSH, 1000);
	send_seg(&v, 1, v.snxt + 300000, v.cnxt, F_ACK | F_PSH, 1000);
	close_out(&w);

	/* a SACK block acknowledging data not yet sent counts like the ack (tcp_sack):
	 * "ACK is over upper bound" through the SACK right edge */
	open_out(&w, dir, "sack-over.pcap", L_ETH, false);
	v = conv4(&w);
	handshake(&v, 1000000, 2000000, 7, 7);
	transfer(&v, 0, 3, 1000);
	{
		struct seg s = {.src = v.s,
				.dst = v.c,
				.sport = v.sp,
				.dport = v.cp,
				.seq = v.snxt,
				.ack = v.cnxt,
				.flags = F_ACK,
				.win = v.swin,
				.wscale = -1,
				.sack_left = v.cnxt + 1000,
				.sack_right = v.cnxt + 900000};

		emit(&w, &s);
	}
	close_conv(&v);
	close_out(&w);

	/* a capture spanning the NAT (tcpdump -i any on the node, SLL2): every segment
	 * twice, before and after DNAT / reverse NAT; one reply past the window leaves
	 * un-NATed (twice, both with the backend's address), and the client's RST to the
	 * backend's own address resets it */
	open_out(&w, dir, "nat-any.pcap", L_SLL2, false);
	{
		const char *c = "10.1.0.10", *vip = "10.96.0.10", *b = "10.2.0.20";
		uint32_t cn = 5000001, sn = 7000001;
		uint16_t id = 100;
		struct seg s;

#define TWICE(FROM, TO1, TO2, SP, DP1, DP2, SEQ, ACK, FL, LEN, WS, OPTS, WIN)                      \
	do {                                                                                       \
		id++;                                                                              \
		s = (struct seg){.src = FROM,                                                      \
				 .dst = TO1,                                                       \
				 .sport = SP,                                                      \
				 .dport = DP1,                                                     \
				 .seq = SEQ,                                                       \
				 .ack = ACK,                                                       \
				 .flags = FL,                                                      \
				 .win = WIN,                                                       \
				 .wscale = WS,                                                     \
				 .syn_opts = OPTS,                                                 \
				 .len = LEN,                                                       \
				 .ipid = id};                                                      \
		emit(&w, &s);                                                                      \
		s.dst = TO2, s.dport = DP2;                                                        \
		emit(&w, &s);                                                                      \
	} while (0)
#define TWICE_R(FROM1, FROM2, TO, SP1, SP2, DP, SEQ, ACK, FL, LEN, WS, OPTS, WIN)                  \
	do {                                                                                       \
		id++;                                                                              \
		s = (struct seg){.src = FROM1,                                                     \
				 .dst = TO,                                                        \
				 .sport = SP1,                                                     \
				 .dport = DP,                                                      \
				 .seq = SEQ,                                                       \
				 .ack = ACK,                                                       \
				 .flags = FL,                                                      \
				 .win = WIN,                                                       \
				 .wscale = WS,                                                     \
				 .syn_opts = OPTS,                                                 \
				 .len = LEN,                                                       \
				 .ipid = id};                                                      \
		emit(&w, &s);                                                                      \
		s.src = FROM2, s.sport = SP2;                                                      \
		emit(&w, &s);                                                                      \
	} while (0)
		/* client -> VIP, then -> backend after DNAT */
		TWICE(c, vip, b, 41000, 80, 8080, cn - 1, 0, F_SYN, 0, 7, true, 64240);
		/* backend -> client, then VIP -> client after reverse NAT */
		TWICE_R(b, vip, c, 8080, 80, 41000, sn - 1, cn, F_SYN | F_ACK, 0, 7, true, 65160);
		TWICE(c, vip, b, 41000, 80, 8080, cn, sn, F_ACK, 0, -1, false, 502);
		for (int i = 0; i < 3; i++) {
			TWICE_R(b, vip, c, 8080, 80, 41000, sn, cn, F_ACK | F_PSH, 1000, -1, false,
				509);
			sn += 1000;
			TWICE(c, vip, b, 41000, 80, 8080, cn, sn, F_ACK, 0, -1, false, 502);
		}
		/* past the window: INVALID, no reverse NAT, both copies from the backend */
		TWICE_R(b, b, c, 8080, 8080, 41000, sn + 10000000, cn, F_ACK | F_PSH, 14, -1, false,
			509);
		/* the client has no socket for the backend's address: RST, seq = that ack */
		TWICE(c, b, b, 41000, 8080, 8080, cn, 0, F_RST, 0, -1, false, 0);
#undef TWICE
#undef TWICE_R
	}
	close_out(&w);

	/* malformed frames around a good flow: a cut IPv4 header, a header length of 4,
	 * a TCP data offset past the packet, and frames cut by a 60-byte snap length */
	open_out(&w, dir, "malformed.pcap", L_ETH, false);
	{
		uint8_t bad[64];
		struct pcap_pkthdr h = {0};

		v = conv4(&w);
		handshake(&v, 1000000, 2000000, 7, 7);
		memset(bad, 0, sizeof(bad));
		memcpy(bad + 12, "\x08\x00", 2);
		bad[14] = 0x45;
		h.caplen = h.len = 20; /* the IPv4 header cut after 6 bytes */
		h.ts.tv_sec = 1700000001;
		pcap_dump((u_char *)w.d, &h, bad);
		bad[14] = 0x41; /* IHL 4 */
		h.caplen = h.len = 64;
		pcap_dump((u_char *)w.d, &h, bad);
		bad[14] = 0x45, bad[16] = 0, bad[17] = 40, bad[23] = 6; /* total 40, TCP */
		bad[46] = 0xf0;						/* doff 60 */
		pcap_dump((u_char *)w.d, &h, bad);
		h.caplen = 0, h.len = 60; /* nothing captured */
		pcap_dump((u_char *)w.d, &h, bad);
		w.snaplen = 60; /* cut: TCP header whole, payload not */
		transfer(&v, 1, 3, 1000);
		w.snaplen = 40; /* cut inside the TCP header */
		send_seg(&v, 1, v.snxt, v.cnxt, F_ACK, 0);
		w.snaplen = 0;
		send_seg(&v, 1, v.snxt + 10000000, v.cnxt, F_ACK | F_PSH, 100);
		close_conv(&v);
	}
	close_out(&w);
}

/* dst: the first n bytes of src, or all but cut bytes when n is 0 */
static void copy_cut(const char *dir, const char *src, const char *dst, long n, long cut)
{
	char in[4096], outp[4096], buf[1 << 16];
	FILE *fi, *fo;
	size_t got;

	snprintf(in, sizeof(in), "%s/%s", dir, src);
	snprintf(outp, sizeof(outp), "%s/%s", dir, dst);
	fi = fopen(in, "rb");
	fo = fopen(outp, "wb");
	if (!fi || !fo)
		die(outp);
	got = fread(buf, 1, sizeof(buf), fi);
	if (!n)
		n = (long)got - cut;
	if (n > (long)got)
		n = (long)got;
	if (n > 0 && fwrite(buf, (size_t)n, 1, fo) != 1)
		die(outp);
	fclose(fi);
	if (fclose(fo))
		die(outp);
}

/* captures that are not captures: nothing, a header alone, garbage */
static void broken_files(const char *dir)
{
	static const uint8_t garbage[] = "this is not a capture file, not even a short one....";
	char path[4096];
	FILE *f;

	copy_cut(dir, "in-window.pcap", "cut.pcap", 0, 30); /* ends inside the last record */
	copy_cut(dir, "in-window.pcap", "header-only.pcap", 24, 0);
	copy_cut(dir, "in-window.pcap", "empty.pcap", 0, 1 << 20);
	snprintf(path, sizeof(path), "%s/garbage.pcap", dir);
	f = fopen(path, "wb");
	if (!f || fwrite(garbage, sizeof(garbage) - 1, 1, f) != 1 || fclose(f))
		die(path);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: refgen DIR\n");
		return 2;
	}
	gen(argv[1]);
	broken_files(argv[1]);
	return 0;
}
