#include "craft.h"
#include "base/err.h"

#include <errno.h>
#include <libnet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36 /* linux/in6.h */
#endif

struct craft {
	libnet_t *ln;	/* build-only (LIBNET_NONE) context: libnet builds, we send */
	int family;	/* AF_INET or AF_INET6 */
	int fd;		/* raw socket (header included) when injecting, else -1 */
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
	/* libnet builds only: its own raw-socket context probes the largest SO_SNDBUF
	 * with thousands of setsockopt calls, tens of milliseconds per injector run */
	type = LIBNET_NONE;
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(err, "out of memory");
		return NULL;
	}
	c->fd = -1;
	c->ln = libnet_init(type, NULL, ebuf);
	if (!c->ln) {
		err_set(err, "libnet_init: %s", ebuf);
		free(c);
		return NULL;
	}
	c->family = family;
	if (inject) {
		int one = 1;

		/* IPPROTO_RAW: the segment is sent as built, header included */
		c->fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (c->fd < 0 ||
		    (family == AF_INET6 &&
		     setsockopt(c->fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one)) < 0)) {
			err_errno(err, errno, "raw socket");
			craft_free(c);
			return NULL;
		}
	}
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
	if (libnet_build_tcp(s->tuple.src.port, s->tuple.dst.port, s->seq, s->ack, s->flags, s->win,
			     0, 0, (uint16_t)tcplen, s->payload, s->payload_len, l, 0) == -1)
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
		if (libnet_build_ipv6(0, 0, (uint16_t)tcplen, IPPROTO_TCP, ttl, src, dst, NULL, 0,
				      l, 0) == -1)
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
	struct sockaddr_storage dst = {0};
	socklen_t dlen;
	const uint8_t *bytes;
	uint32_t len;
	ssize_t n;

	if (c->fd < 0)
		return err_set(err, "craft: context was opened build-only");
	if (craft_build(c, seg, &bytes, &len, err) < 0)
		return -1;
	if (c->family == AF_INET) {
		struct sockaddr_in *d = (struct sockaddr_in *)&dst;

		d->sin_family = AF_INET;
		memcpy(&d->sin_addr, &seg->tuple.dst.addr.u.v4, 4);
		dlen = sizeof(*d);
	} else {
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&dst;

		d->sin6_family = AF_INET6;
		memcpy(&d->sin6_addr, &seg->tuple.dst.addr.u.v6, 16);
		dlen = sizeof(*d);
	}
	n = sendto(c->fd, bytes, len, 0, (struct sockaddr *)&dst, dlen);
	if (n < 0)
		return err_errno(err, errno, "sending the crafted segment");
	if ((uint32_t)n != len)
		return err_set(err, "sending the crafted segment: %zd of %u bytes sent", n, len);
	return 0;
}

void craft_free(struct craft *c)
{
	if (!c)
		return;
	if (c->bytes)
		libnet_adv_free_packet(c->ln, c->bytes);
	if (c->ln)
		libnet_destroy(c->ln);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
