#include "craft.h"
#include "err.h"

#include <libnet.h>
#include <stdlib.h>
#include <string.h>

struct craft {
	libnet_t *ln;	/* build-only (LIBNET_NONE) or raw-socket (LIBNET_RAW4/6) context */
	int family;	/* AF_INET or AF_INET6 */
	bool inject;	/* whether ln owns a raw socket */
	uint8_t *bytes; /* last built packet, libnet-allocated */
};

struct craft *craft_new(int family, bool inject, char **err)
{
	char ebuf[LIBNET_ERRBUF_SIZE] = "";
	struct craft *c;
	int type;

	if (family != AF_INET && family != AF_INET6) {
		err_set(err, "craft: unsupported address family %d", family);
		return NULL;
	}
	if (inject)
		type = family == AF_INET ? LIBNET_RAW4 : LIBNET_RAW6;
	else
		type = LIBNET_NONE;
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(err, "out of memory");
		return NULL;
	}
	c->ln = libnet_init(type, NULL, ebuf);
	if (!c->ln) {
		err_set(err, "libnet_init: %s", ebuf);
		free(c);
		return NULL;
	}
	c->family = family;
	c->inject = inject;
	return c;
}

static int build(struct craft *c, const struct craft_segment *s, char **err)
{
	libnet_t *l = c->ln;
	uint32_t tcplen = LIBNET_TCP_H + s->payload_len;
	uint8_t ttl = s->ttl ? s->ttl : 64;

	if (s->tuple.src.addr.family != c->family || s->tuple.dst.addr.family != c->family)
		return err_set(err, "craft: segment family does not match the context");
	libnet_clear_packet(l);
	if (libnet_build_tcp(s->tuple.src.port, s->tuple.dst.port, s->seq, s->ack, s->flags,
			     s->win, 0, 0, (uint16_t)tcplen, s->payload, s->payload_len, l,
			     0) == -1)
		return err_set(err, "libnet_build_tcp: %s", libnet_geterror(l));
	if (c->family == AF_INET) {
		uint32_t src, dst;

		memcpy(&src, &s->tuple.src.addr.u.v4, 4);
		memcpy(&dst, &s->tuple.dst.addr.u.v4, 4);
		if (libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + tcplen), 0,
				      (uint16_t)(libnet_get_prand(LIBNET_PRu16)), 0x4000 /* DF */,
				      ttl, IPPROTO_TCP, 0, src, dst, NULL, 0, l, 0) == -1)
			return err_set(err, "libnet_build_ipv4: %s", libnet_geterror(l));
	} else {
		struct libnet_in6_addr src, dst;

		memcpy(&src, &s->tuple.src.addr.u.v6, 16);
		memcpy(&dst, &s->tuple.dst.addr.u.v6, 16);
		if (libnet_build_ipv6(0, 0, (uint16_t)tcplen, IPPROTO_TCP, ttl, src, dst, NULL,
				      0, l, 0) == -1)
			return err_set(err, "libnet_build_ipv6: %s", libnet_geterror(l));
	}
	return 0;
}

int craft_build(struct craft *c, const struct craft_segment *seg, const uint8_t **bytes,
		uint32_t *len, char **err)
{
	uint8_t *p = NULL;
	uint32_t n = 0;

	if (build(c, seg, err) < 0)
		return -1;
	if (c->bytes) {
		libnet_adv_free_packet(c->ln, c->bytes);
		c->bytes = NULL;
	}
	if (libnet_pblock_coalesce(c->ln, &p, &n) == -1)
		return err_set(err, "libnet: %s", libnet_geterror(c->ln));
	c->bytes = p;
	*bytes = p;
	*len = n;
	return 0;
}

int craft_send(struct craft *c, const struct craft_segment *seg, char **err)
{
	if (!c->inject)
		return err_set(err, "craft: context was opened build-only");
	if (build(c, seg, err) < 0)
		return -1;
	if (libnet_write(c->ln) == -1)
		return err_set(err, "libnet_write: %s", libnet_geterror(c->ln));
	return 0;
}

void craft_free(struct craft *c)
{
	if (!c)
		return;
	if (c->bytes)
		libnet_adv_free_packet(c->ln, c->bytes);
	libnet_destroy(c->ln);
	free(c);
}
