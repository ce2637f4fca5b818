/* Decoding a captured frame down to its TCP segment. Handles the link types libpcap gives
 * for the bench and for common captures (Ethernet with 802.1Q/802.1ad tags, Linux cooked
 * SLL and SLL2, raw IP, BSD loopback, NFLOG), IPv4 and IPv6 (with extension headers). Never reads
 * past caplen: a malformed or cut frame is reported, not trusted. */
#ifndef CTR_PKT_H
#define CTR_PKT_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80

struct ctr_pkt {
	uint64_t ts_us; /* capture time, microseconds since the epoch */
	struct ctr_tuple tuple;
	uint32_t seq, ack;
	uint8_t flags; /* TCPF_* */
	uint16_t win;  /* raw window field, not scaled */
	int wscale;    /* window-scale option value, -1 when absent */
	uint16_t mss;  /* MSS option, 0 when absent */
	bool sack_perm;
	uint8_t sack_blocks;	 /* SACK option blocks (0 when none) */
	uint32_t sack_right;	 /* highest right edge after ack among them, else = ack,
				  * as conntrack's tcp_sack() computes it */
	uint32_t payload_len;	 /* from the IP length, even when the capture cut it */
	const uint8_t *payload;	 /* points into the frame; NULL when none captured */
	uint32_t payload_caplen; /* how much of the payload is in the capture */
	uint16_t vlan;		 /* outermost VLAN id, 0 when untagged */
	uint8_t ttl;		 /* IPv4 TTL or IPv6 hop limit */
	uint16_t ip_id;		 /* IPv4 identification, 0 for IPv6: NAT keeps it, so two
				  * captures' copies of one packet can be paired */
};

enum pkt_result {
	PKT_TCP = 0,	  /* a TCP segment, *out filled */
	PKT_OTHER = 1,	  /* well-formed, not TCP (ARP, UDP, ICMP, a later fragment...) */
	PKT_MALFORMED = 2 /* cut or inconsistent headers; *why says which */
};

/* Decodes one frame of the given pcap link type (DLT_*). On PKT_MALFORMED and PKT_OTHER,
 * *why (if not NULL) points to a static string naming the reason. */
enum pkt_result pkt_decode(int linktype, const uint8_t *frame, size_t caplen, struct ctr_pkt *out,
			   const char **why);

/* Whether pkt_decode knows the link type. */
bool pkt_linktype_supported(int linktype);

/* "SA", "PA", "R", "FPA"... as tcpdump prints flags ('.' for ACK alone) into buf[9]. */
const char *pkt_flags_str(uint8_t flags, char *buf);

#endif
