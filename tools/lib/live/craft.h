/* Crafting TCP segments with libnet, built as bytes (for tests) or sent through a raw
 * socket of the current network namespace (IP_HDRINCL: the segment leaves as if the
 * namespace's TCP stack had sent it, through its routing and OUTPUT hooks). */
#ifndef CTR_CRAFT_H
#define CTR_CRAFT_H

#include "base/addr.h"

#include <stdbool.h>
#include <stdint.h>

struct craft_segment {
	struct ctr_tuple tuple; /* both endpoints of one family */
	uint32_t seq, ack;
	uint8_t flags; /* TCPF_* */
	uint16_t win;  /* raw window field */
	uint8_t ttl;   /* 0 = 64 */
	const uint8_t *payload;
	uint32_t payload_len;
};

struct craft;

/* A crafting context for family (AF_INET/AF_INET6): libnet builds the segments. With
 * inject, it also opens a raw socket (IPPROTO_RAW, header included) in the current
 * namespace (needs CAP_NET_RAW); without, it only builds. NULL + *err. */
struct craft *craft_new(int family, bool inject, char **err);

/* Builds the IP+TCP bytes of seg with checksums filled. *bytes stays valid until the next
 * call on c or craft_free. 0, or -1 with *err. */
int craft_build(struct craft *c, const struct craft_segment *seg, const uint8_t **bytes,
		uint32_t *len, char **err);

/* Builds and sends seg. 0, or -1 with *err. */
int craft_send(struct craft *c, const struct craft_segment *seg, char **err);

void craft_free(struct craft *c);

#endif
