#include "base/pkt.h"
#include "tests.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

/* IPv4 198.18.1.10:40000 -> 198.19.0.10:80, TCP SYN seq 1, win 64240, options MSS 1460,
 * NOP, WS 7, SACK-permitted, NOP, NOP: 20 + 32 bytes */
static const uint8_t ipv4_syn[] = {
    0x45, 0x00, 0x00, 0x34, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, /* IPv4 */
    0xc6, 0x12, 0x01, 0x0a, 0xc6, 0x13, 0x00, 0x0a,			    /* addrs */
    0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* ports seq ack */
    0x80, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,			    /* doff 8, SYN, win */
    0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x01, 0x01, /* options */
};

/* IPv6 2001:2::10:8080 -> 2001:2::20:40000, a hop-by-hop header (8 bytes, PadN), then TCP
 * PSH|ACK seq 0xfffffff0 ack 7 win 512 with 4 bytes of payload "ctr\n" */
static const uint8_t ipv6_hbh_data[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x40, /* ver, plen 32, next HBH, hlim 64 */
    0x20, 0x01, 0x00, 0x02, 0,	  0,	0,    0,    0,	  0,	0,    0,    0, 0, 0, 0x10, /* src */
    0x20, 0x01, 0x00, 0x02, 0,	  0,	0,    0,    0,	  0,	0,    0,    0, 0, 0, 0x20, /* dst */
    0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* HBH: next TCP, len 0, PadN */
    0x1f, 0x90, 0x9c, 0x40, 0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x07, /* TCP */
    0x50, 0x18, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 'c',  't',	'r',  '\n',
};

static size_t with_header(uint8_t *out, const uint8_t *hdr, size_t hlen, const uint8_t *pkt,
			  size_t plen)
{
	memcpy(out, hdr, hlen);
	memcpy(out + hlen, pkt, plen);
	return hlen + plen;
}

static void check_syn(const struct ctr_pkt *p)
{
	char buf[CTR_EPSTRLEN];

	CU_ASSERT_STRING_EQUAL(endpoint_str(&p->tuple.src, buf), "198.18.1.10:40000");
	CU_ASSERT_STRING_EQUAL(endpoint_str(&p->tuple.dst, buf), "198.19.0.10:80");
	CU_ASSERT_EQUAL(p->seq, 1u);
	CU_ASSERT_EQUAL(p->flags, TCPF_SYN);
	CU_ASSERT_EQUAL(p->win, 64240);
	CU_ASSERT_EQUAL(p->wscale, 7);
	CU_ASSERT_EQUAL(p->mss, 1460);
	CU_ASSERT_TRUE(p->sack_perm);
	CU_ASSERT_EQUAL(p->payload_len, 0u);
}

static void decode_link_types(void)
{
	static const uint8_t eth[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
	/* 802.1Q tag, VLAN 42, then IPv4 */
	static const uint8_t eth_vlan[] = {0, 1,  2,  3,    4,	  5,	6,    7,    8,
					   9, 10, 11, 0x81, 0x00, 0x00, 0x2a, 0x08, 0x00};
	/* Linux cooked v1: packet type, ARPHRD, addr len, 8 addr bytes, protocol */
	static const uint8_t sll[] = {0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0x08, 0x00};
	/* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, type, addr len, 8 addr */
	static const uint8_t sll2[] = {0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1,
				       0,    6,	   0, 1, 2, 3, 4, 5, 0, 0};
	uint8_t frame[256];
	struct ctr_pkt p;
	size_t n;

	CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, ipv4_syn, sizeof(ipv4_syn), &p, NULL), PKT_TCP);
	check_syn(&p);
	n = with_header(frame, eth, sizeof(eth), ipv4_syn, sizeof(ipv4_syn));
	CU_ASSERT_EQUAL(pkt_decode(DLT_EN10MB, frame, n, &p, NULL), PKT_TCP);
	check_syn(&p);
	n = with_header(frame, eth_vlan, sizeof(eth_vlan), ipv4_syn, sizeof(ipv4_syn));
	CU_ASSERT_EQUAL(pkt_decode(DLT_EN10MB, frame, n, &p, NULL), PKT_TCP);
	check_syn(&p);
	CU_ASSERT_EQUAL(p.vlan, 42);
	n = with_header(frame, sll, sizeof(sll), ipv4_syn, sizeof(ipv4_syn));
	CU_ASSERT_EQUAL(pkt_decode(DLT_LINUX_SLL, frame, n, &p, NULL), PKT_TCP);
	check_syn(&p);
	n = with_header(frame, sll2, sizeof(sll2), ipv4_syn, sizeof(ipv4_syn));
	CU_ASSERT_EQUAL(pkt_decode(276 /* DLT_LINUX_SLL2 */, frame, n, &p, NULL), PKT_TCP);
	check_syn(&p);
}

/* NFLOG: header (AF_INET, version 0, group 7), a prefix TLV "ctr\0" (type 10, length 8),
 * then the payload TLV (type 9) holding the IPv4 SYN, padded to 4 bytes. TLV length and
 * type are in host order, as the capturing kernel wrote them. */
static size_t nflog_frame(uint8_t *out, const uint8_t *pkt, size_t plen)
{
	uint16_t len, type;
	size_t n = 0;

	out[n++] = 2, out[n++] = 0, out[n++] = 0, out[n++] = 7;
	len = 8, type = 10;
	memcpy(out + n, &len, 2), memcpy(out + n + 2, &type, 2), n += 4;
	memcpy(out + n, "ctr", 4), n += 4;
	len = (uint16_t)(4 + plen), type = 9;
	memcpy(out + n, &len, 2), memcpy(out + n + 2, &type, 2), n += 4;
	memcpy(out + n, pkt, plen), n += plen;
	while (n % 4)
		out[n++] = 0;
	return n;
}

static void decode_nflog(void)
{
	uint8_t frame[256];
	struct ctr_pkt p;
	const char *why = NULL;
	size_t n = nflog_frame(frame, ipv4_syn, sizeof(ipv4_syn));

	CU_ASSERT_TRUE(pkt_linktype_supported(239));
	CU_ASSERT_EQUAL(pkt_decode(239 /* DLT_NFLOG */, frame, n, &p, NULL), PKT_TCP);
	check_syn(&p);
	/* cut inside the payload TLV: refused, not over-read */
	for (size_t k = 0; k < 16 + sizeof(ipv4_syn); k++) {
		uint8_t *copy = malloc(k ? k : 1);

		memcpy(copy, frame, k);
		CU_ASSERT_NOT_EQUAL(pkt_decode(239, copy, k, &p, &why), PKT_TCP);
		free(copy);
	}
	/* only the prefix TLV: well-formed, nothing to decode */
	CU_ASSERT_EQUAL(pkt_decode(239, frame, 12, &p, &why), PKT_OTHER);
}

static void decode_ipv6_extension_headers(void)
{
	struct ctr_pkt p;
	char buf[CTR_EPSTRLEN];

	CU_ASSERT_EQUAL_FATAL(pkt_decode(DLT_RAW, ipv6_hbh_data, sizeof(ipv6_hbh_data), &p, NULL),
			      PKT_TCP);
	CU_ASSERT_STRING_EQUAL(endpoint_str(&p.tuple.src, buf), "[2001:2::10]:8080");
	CU_ASSERT_EQUAL(p.seq, 0xfffffff0u);
	CU_ASSERT_EQUAL(p.ack, 7u);
	CU_ASSERT_EQUAL(p.flags, TCPF_PSH | TCPF_ACK);
	CU_ASSERT_EQUAL(p.payload_len, 4u);
	CU_ASSERT_EQUAL(p.payload_caplen, 4u);
	CU_ASSERT_NSTRING_EQUAL(p.payload, "ctr\n", 4);
	CU_ASSERT_EQUAL(p.wscale, -1);
}

/* every prefix of a valid packet is either decoded as cut or refused, never read past */
static void truncation_never_overreads(void)
{
	struct ctr_pkt p;
	const char *why = NULL;

	for (size_t n = 0; n < sizeof(ipv4_syn); n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan/valgrind see overreads */

		memcpy(copy, ipv4_syn, n);
		CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, copy, n, &p, &why), PKT_MALFORMED);
		CU_ASSERT_PTR_NOT_NULL(why);
		free(copy);
	}
	for (size_t n = 0; n < sizeof(ipv6_hbh_data) - 4; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		enum pkt_result r;

		memcpy(copy, ipv6_hbh_data, n);
		r = pkt_decode(DLT_RAW, copy, n, &p, NULL);
		CU_ASSERT_EQUAL(r, PKT_MALFORMED);
		free(copy);
	}
}

static void payload_cut_by_snaplen(void)
{
	struct ctr_pkt p;

	/* headers whole, 2 of 4 payload bytes captured: the segment's length still comes
	 * from the IP header (conntrack judges seq + len) */
	CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, ipv6_hbh_data, sizeof(ipv6_hbh_data) - 2, &p, NULL),
			PKT_TCP);
	CU_ASSERT_EQUAL(p.payload_len, 4u);
	CU_ASSERT_EQUAL(p.payload_caplen, 2u);
}

static void bad_headers(void)
{
	uint8_t b[sizeof(ipv4_syn)];
	struct ctr_pkt p;

	memcpy(b, ipv4_syn, sizeof(b));
	b[0] = 0x44; /* IHL 16 bytes */
	CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, b, sizeof(b), &p, NULL), PKT_MALFORMED);
	memcpy(b, ipv4_syn, sizeof(b));
	b[32] = 0x40; /* TCP data offset 16 bytes */
	CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, b, sizeof(b), &p, NULL), PKT_MALFORMED);
	memcpy(b, ipv4_syn, sizeof(b));
	b[32] = 0xf0; /* TCP data offset 60 bytes, beyond the packet */
	CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, b, sizeof(b), &p, NULL), PKT_MALFORMED);
	memcpy(b, ipv4_syn, sizeof(b));
	b[9] = 17; /* UDP */
	CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, b, sizeof(b), &p, NULL), PKT_OTHER);
	memcpy(b, ipv4_syn, sizeof(b));
	b[7] = 0x10; /* fragment offset 16: not the first fragment */
	CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, b, sizeof(b), &p, NULL), PKT_OTHER);
	memcpy(b, ipv4_syn, sizeof(b));
	b[46] = 0x00; /* WS option length 0: parsing stops, no scale learned */
	CU_ASSERT_EQUAL(pkt_decode(DLT_RAW, b, sizeof(b), &p, NULL), PKT_TCP);
	CU_ASSERT_EQUAL(p.wscale, -1);
}

static void flag_strings(void)
{
	char b[10];

	CU_ASSERT_STRING_EQUAL(pkt_flags_str(TCPF_SYN | TCPF_ACK, b), "SA");
	CU_ASSERT_STRING_EQUAL(pkt_flags_str(TCPF_ACK, b), ".");
	CU_ASSERT_STRING_EQUAL(pkt_flags_str(TCPF_RST, b), "R");
	CU_ASSERT_STRING_EQUAL(pkt_flags_str(TCPF_PSH | TCPF_ACK, b), "PA");
	CU_ASSERT_STRING_EQUAL(pkt_flags_str(0, b), "-");
}

void register_pkt_tests(void)
{
	CU_pSuite s = suite_add("pkt");

	test_add(s, "Ethernet, VLAN, SLL, SLL2 and raw IPv4", decode_link_types);
	test_add(s, "IPv6 with a hop-by-hop header", decode_ipv6_extension_headers);
	test_add(s, "NFLOG records (nflog:GROUP captures)", decode_nflog);
	test_add(s, "truncated frames are refused, never over-read", truncation_never_overreads);
	test_add(s, "snaplen-cut payload keeps its wire length", payload_cut_by_snaplen);
	test_add(s, "bad header lengths, non-TCP, later fragments", bad_headers);
	test_add(s, "flag strings as tcpdump prints them", flag_strings);
}
