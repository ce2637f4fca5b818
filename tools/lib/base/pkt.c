#include "pkt.h"

#include <pcap/dlt.h>
#include <string.h>
#include <sys/socket.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

/* linux-type DLT values as libpcap numbers them; not every pcap/dlt.h has all of them */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#define LINKTYPE_RAW_ALT 101 /* LINKTYPE_RAW as stored in files */
#ifndef DLT_NFLOG
#define DLT_NFLOG 239
#endif
#define NFULA_PAYLOAD 9 /* the TLV holding the packet's network header onwards */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool pkt_linktype_supported(int lt)
{
	switch (lt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case LINKTYPE_RAW_ALT:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_NFLOG:
		return true;
	default:
		return false;
	}
}

#define MALFORMED(reason)                                                                          \
	do {                                                                                       \
		if (why)                                                                           \
			*why = (reason);                                                           \
		return PKT_MALFORMED;                                                              \
	} while (0)
#define OTHER(reason)                                                                              \
	do {                                                                                       \
		if (why)                                                                           \
			*why = (reason);                                                           \
		return PKT_OTHER;                                                                  \
	} while (0)

static void parse_tcp_options(const uint8_t *o, size_t len, struct ctr_pkt *out)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = o[i];

		if (kind == 0) /* end of list */
			break;
		if (kind == 1) { /* NOP */
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			break; /* a bad option length ends parsing, as the kernel does */
		switch (kind) {
		case 2:
			if (o[i + 1] == 4)
				out->mss = rd16(o + i + 2);
			break;
		case 3:
			if (o[i + 1] == 3)
				out->wscale = o[i + 2];
			break;
		case 4:
			out->sack_perm = true;
			break;
		case 5:
			/* blocks of 8 bytes; the kernel reads none of a misshapen option */
			if (o[i + 1] < 10 || (o[i + 1] - 2) % 8)
				break;
			for (size_t b = i + 2; b + 8 <= i + o[i + 1]; b += 8) {
				uint32_t right = rd32(o + b + 4);

				out->sack_blocks++;
				if ((int32_t)(right - out->sack_right) > 0)
					out->sack_right = right;
			}
			break;
		}
		i += o[i + 1];
	}
}

/* l4 points at the TCP header; l4len is what the IP header says it spans, l4cap what the
 * capture holds of it */
static enum pkt_result decode_tcp(const uint8_t *l4, size_t l4len, size_t l4cap,
				  struct ctr_pkt *out, const char **why)
{
	size_t doff;

	if (l4cap < 20 || l4len < 20)
		MALFORMED("TCP header cut short");
	doff = (size_t)(l4[12] >> 4) * 4;
	if (doff < 20)
		MALFORMED("TCP data offset below 20");
	if (doff > l4len)
		MALFORMED("TCP data offset beyond the IP payload");
	if (doff > l4cap)
		MALFORMED("TCP options cut by the snap length");
	out->tuple.src.port = rd16(l4);
	out->tuple.dst.port = rd16(l4 + 2);
	out->seq = rd32(l4 + 4);
	out->ack = rd32(l4 + 8);
	out->flags = l4[13];
	out->win = rd16(l4 + 14);
	out->sack_right = out->ack;
	parse_tcp_options(l4 + 20, doff - 20, out);
	out->payload_len = (uint32_t)(l4len - doff);
	out->payload_caplen = (uint32_t)(l4cap > doff ? (l4cap < l4len ? l4cap : l4len) - doff : 0);
	out->payload = out->payload_caplen ? l4 + doff : NULL;
	return PKT_TCP;
}

static enum pkt_result decode_ipv4(const uint8_t *p, size_t cap, struct ctr_pkt *out,
				   const char **why)
{
	size_t ihl, total;

	if (cap < 20)
		MALFORMED("IPv4 header cut short");
	if (p[0] >> 4 != 4)
		MALFORMED("IPv4 version field is not 4");
	ihl = (size_t)(p[0] & 0x0f) * 4;
	total = rd16(p + 2);
	if (ihl < 20)
		MALFORMED("IPv4 header length below 20");
	if (ihl > cap)
		MALFORMED("IPv4 options cut short");
	if (total < ihl)
		MALFORMED("IPv4 total length below header length");
	if ((rd16(p + 6) & 0x1fff) != 0)
		OTHER("IPv4 non-first fragment");
	if (p[9] != IPPROTO_TCP)
		OTHER("not TCP");
	out->ttl = p[8];
	out->ip_id = rd16(p + 4);
	out->tuple.src.addr.family = out->tuple.dst.addr.family = AF_INET;
	memcpy(&out->tuple.src.addr.u.v4, p + 12, 4);
	memcpy(&out->tuple.dst.addr.u.v4, p + 16, 4);
	/* a capture may carry Ethernet padding beyond total, or be cut before it */
	return decode_tcp(p + ihl, total - ihl, (cap < total ? cap : total) - ihl, out, why);
}

static enum pkt_result decode_ipv6(const uint8_t *p, size_t cap, struct ctr_pkt *out,
				   const char **why)
{
	size_t off = 40, end;
	uint8_t next;
	int hops = 0;

	if (cap < 40)
		MALFORMED("IPv6 header cut short");
	if (p[0] >> 4 != 6)
		MALFORMED("IPv6 version field is not 6");
	end = 40 + (size_t)rd16(p + 4);
	if (end == 40)
		OTHER("IPv6 jumbogram or empty payload");
	next = p[6];
	out->ttl = p[7];
	while (next != IPPROTO_TCP) {
		if (++hops > 8)
			MALFORMED("IPv6 extension header chain too long");
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 2 > cap || off + 2 > end)
				MALFORMED("IPv6 extension header cut short");
			next = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (off + 8 > cap || off + 8 > end)
				MALFORMED("IPv6 fragment header cut short");
			if ((rd16(p + off + 2) & 0xfff8) != 0)
				OTHER("IPv6 non-first fragment");
			next = p[off];
			off += 8;
			break;
		default:
			OTHER("not TCP");
		}
		if (off > end)
			MALFORMED("IPv6 extension headers beyond the payload length");
	}
	if (off > cap)
		MALFORMED("IPv6 extension headers cut short");
	out->tuple.src.addr.family = out->tuple.dst.addr.family = AF_INET6;
	memcpy(&out->tuple.src.addr.u.v6, p + 8, 16);
	memcpy(&out->tuple.dst.addr.u.v6, p + 24, 16);
	return decode_tcp(p + off, end - off, (cap < end ? cap : end) - off, out, why);
}

static enum pkt_result decode_l3(uint16_t ethertype, const uint8_t *p, size_t cap,
				 struct ctr_pkt *out, const char **why)
{
	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(p, cap, out, why);
	case ETHERTYPE_IPV6:
		return decode_ipv6(p, cap, out, why);
	default:
		OTHER("not IP");
	}
}

static enum pkt_result decode_raw(const uint8_t *p, size_t cap, struct ctr_pkt *out,
				  const char **why)
{
	if (cap < 1)
		MALFORMED("empty frame");
	if (p[0] >> 4 == 4)
		return decode_ipv4(p, cap, out, why);
	if (p[0] >> 4 == 6)
		return decode_ipv6(p, cap, out, why);
	MALFORMED("raw frame is neither IPv4 nor IPv6");
}

/* NFLOG (libpcap's "nflog:GROUP" device): a 4-byte header (family, version, resource id),
 * then TLVs of which NFULA_PAYLOAD carries the IP packet. TLV length and type are in the
 * capturing host's byte order (libpcap swaps them when reading a foreign file); the
 * length includes the 4-byte TLV header and TLVs are padded to 4 bytes. */
static enum pkt_result decode_nflog(const uint8_t *f, size_t cap, struct ctr_pkt *out,
				    const char **why)
{
	size_t off = 4;

	if (cap < 4)
		MALFORMED("NFLOG header cut short");
	while (off + 4 <= cap) {
		uint16_t len, type;

		memcpy(&len, f + off, 2);
		memcpy(&type, f + off + 2, 2);
		if (len < 4)
			MALFORMED("NFLOG TLV length below 4");
		if (off + len > cap)
			MALFORMED("NFLOG TLV cut short");
		if ((type & 0x7fff) == NFULA_PAYLOAD)
			return decode_raw(f + off + 4, len - 4u, out, why);
		off += (len + 3u) & ~3u;
	}
	OTHER("NFLOG record without a payload");
}

enum pkt_result pkt_decode(int linktype, const uint8_t *f, size_t cap, struct ctr_pkt *out,
			   const char **why)
{
	uint16_t et;
	size_t off;

	memset(out, 0, sizeof(*out));
	out->wscale = -1;
	switch (linktype) {
	case DLT_EN10MB:
		if (cap < 14)
			MALFORMED("Ethernet header cut short");
		et = rd16(f + 12);
		off = 14;
		for (int tags = 0;
		     et == ETHERTYPE_8021Q || et == ETHERTYPE_8021AD || et == ETHERTYPE_QINQ_OLD;
		     tags++) {
			if (tags == 4)
				MALFORMED("too many VLAN tags");
			if (cap < off + 4)
				MALFORMED("VLAN tag cut short");
			if (!out->vlan)
				out->vlan = rd16(f + off) & 0x0fff;
			et = rd16(f + off + 2);
			off += 4;
		}
		return decode_l3(et, f + off, cap - off, out, why);
	case DLT_LINUX_SLL:
		if (cap < 16)
			MALFORMED("Linux cooked (SLL) header cut short");
		return decode_l3(rd16(f + 14), f + 16, cap - 16, out, why);
	case DLT_LINUX_SLL2:
		if (cap < 20)
			MALFORMED("Linux cooked (SLL2) header cut short");
		return decode_l3(rd16(f), f + 20, cap - 20, out, why);
	case DLT_RAW:
	case LINKTYPE_RAW_ALT:
	case DLT_IPV4:
	case DLT_IPV6:
		return decode_raw(f, cap, out, why);
	case DLT_NULL:
	case DLT_LOOP:
		/* 4-byte address family in host (NULL) or network (LOOP) order; the IP
		 * version nibble says the same and needs no byte-order guess */
		if (cap < 4)
			MALFORMED("loopback header cut short");
		return decode_raw(f + 4, cap - 4, out, why);
	case DLT_NFLOG:
		return decode_nflog(f, cap, out, why);
	default:
		OTHER("unsupported link type");
	}
}

const char *pkt_flags_str(uint8_t flags, char *buf)
{
	static const struct {
		uint8_t bit;
		char c;
	} order[] = {{TCPF_FIN, 'F'}, {TCPF_SYN, 'S'}, {TCPF_RST, 'R'}, {TCPF_PSH, 'P'},
		     {TCPF_URG, 'U'}, {TCPF_ECE, 'E'}, {TCPF_CWR, 'W'}};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (flags & order[i].bit)
			buf[n++] = order[i].c;
	if (flags & TCPF_ACK) {
		char c = n ? 'A' : '.';

		buf[n++] = c;
	}
	if (!n)
		buf[n++] = '-';
	buf[n] = '\0';
	return buf;
}
