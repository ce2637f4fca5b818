#include "live/craft.h"
#include "base/pkt.h"
#include "tests.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

/* RFC 1071 one's-complement sum, written here independently of libnet */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)(p[n - 1] << 8);
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static struct craft_segment segment(int family)
{
	static const uint8_t payload[] = "ctreset probe\n";
	struct craft_segment s = {.seq = 0xfffffffau, /* the payload wraps past 2^32 */
				  .ack = 12345,
				  .flags = TCPF_PSH | TCPF_ACK,
				  .win = 512,
				  .payload = payload,
				  .payload_len = sizeof(payload) - 1};

	if (family == AF_INET) {
		CU_ASSERT(endpoint_parse("198.18.2.10:8080", &s.tuple.src) == 0);
		CU_ASSERT(endpoint_parse("198.18.1.10:40000", &s.tuple.dst) == 0);
	} else {
		CU_ASSERT(endpoint_parse("[2001:2::2:10]:8080", &s.tuple.src) == 0);
		CU_ASSERT(endpoint_parse("[2001:2::1:10]:40000", &s.tuple.dst) == 0);
	}
	return s;
}

static void check_roundtrip(int family)
{
	struct craft_segment s = segment(family);
	char *err = NULL;
	struct craft *c = craft_new(family, false, &err);
	const uint8_t *b;
	uint32_t n, ip_hlen = family == AF_INET ? 20 : 40, tcp_len, pseudo;
	struct ctr_pkt p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(craft_build(c, &s, &b, &n, &err), 0);
	tcp_len = 20 + s.payload_len;
	CU_ASSERT_EQUAL(n, ip_hlen + tcp_len);

	CU_ASSERT_EQUAL_FATAL(pkt_decode(DLT_RAW, b, n, &p, NULL), PKT_TCP);
	CU_ASSERT_TRUE(tuple_eq(&p.tuple, &s.tuple));
	CU_ASSERT_EQUAL(p.seq, s.seq);
	CU_ASSERT_EQUAL(p.ack, s.ack);
	CU_ASSERT_EQUAL(p.flags, s.flags);
	CU_ASSERT_EQUAL(p.win, s.win);
	CU_ASSERT_EQUAL(p.payload_len, s.payload_len);
	CU_ASSERT_NSTRING_EQUAL(p.payload, "ctreset probe\n", s.payload_len);

	/* checksums: the IPv4 header sums to 0xffff; TCP with its pseudo-header too */
	if (family == AF_INET) {
		CU_ASSERT_EQUAL(fold(sum16(b, 20, 0)), 0xffff);
		pseudo = sum16(b + 12, 8, 0) + IPPROTO_TCP + tcp_len;
	} else {
		pseudo = sum16(b + 8, 32, 0) + IPPROTO_TCP + tcp_len;
	}
	CU_ASSERT_EQUAL(fold(sum16(b + ip_hlen, tcp_len, pseudo)), 0xffff);
	craft_free(c);
	free(err);
}

static void ipv4_segment(void)
{
	check_roundtrip(AF_INET);
}

static void ipv6_segment(void)
{
	check_roundtrip(AF_INET6);
}

static void family_mismatch_refused(void)
{
	struct craft_segment s = segment(AF_INET6);
	char *err = NULL;
	struct craft *c = craft_new(AF_INET, false, &err);
	const uint8_t *b;
	uint32_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(craft_build(c, &s, &b, &n, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err);
	s = segment(AF_INET);
	CU_ASSERT_EQUAL(craft_send(c, &s, &err), -1); /* a build-only context */
	craft_free(c);
	free(err);
}

void register_craft_tests(void)
{
	CU_pSuite s = suite_add("craft");

	test_add(s, "IPv4 segment: fields and checksums", ipv4_segment);
	test_add(s, "IPv6 segment: fields and checksum", ipv6_segment);
	test_add(s, "family mismatch and build-only send refused", family_mismatch_refused);
}
