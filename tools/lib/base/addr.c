#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_parse(const char *s, struct ctr_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->u.v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->u.v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

int endpoint_parse(const char *s, struct ctr_endpoint *out)
{
	char host[CTR_ADDRSTRLEN + 1];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	unsigned long port;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1; /* bare IPv6 needs brackets */
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen > CTR_ADDRSTRLEN)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (addr_parse(host, &out->addr) < 0)
		return -1;
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535)
		return -1;
	out->port = (uint16_t)port;
	return 0;
}

const char *addr_str(const struct ctr_addr *a, char *buf)
{
	if (!a->family || !inet_ntop(a->family, &a->u, buf, CTR_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

const char *endpoint_str(const struct ctr_endpoint *e, char *buf)
{
	char a[CTR_ADDRSTRLEN];

	addr_str(&e->addr, a);
	snprintf(buf, CTR_EPSTRLEN, e->addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, e->port);
	return buf;
}

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

bool addr_eq(const struct ctr_addr *a, const struct ctr_addr *b)
{
	return a->family == b->family && !memcmp(a->u.bytes, b->u.bytes, addr_len(a->family));
}

bool endpoint_eq(const struct ctr_endpoint *a, const struct ctr_endpoint *b)
{
	return a->port == b->port && addr_eq(&a->addr, &b->addr);
}

bool tuple_eq(const struct ctr_tuple *a, const struct ctr_tuple *b)
{
	return endpoint_eq(&a->src, &b->src) && endpoint_eq(&a->dst, &b->dst);
}

struct ctr_tuple tuple_reverse(const struct ctr_tuple *t)
{
	struct ctr_tuple r = {.src = t->dst, .dst = t->src};

	return r;
}

static int endpoint_cmp(const struct ctr_endpoint *a, const struct ctr_endpoint *b)
{
	int c;

	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	c = memcmp(a->addr.u.bytes, b->addr.u.bytes, addr_len(a->addr.family));
	if (c)
		return c;
	return (int)a->port - (int)b->port;
}

struct ctr_tuple tuple_canonical(const struct ctr_tuple *t)
{
	return endpoint_cmp(&t->src, &t->dst) <= 0 ? *t : tuple_reverse(t);
}

/* FNV-1a over the canonical tuple: both directions land in the same bucket */
uint32_t tuple_hash(const struct ctr_tuple *t)
{
	struct ctr_tuple c = tuple_canonical(t);
	const struct ctr_endpoint *eps[2] = {&c.src, &c.dst};
	uint32_t h = 2166136261u;

	for (int i = 0; i < 2; i++) {
		size_t n = addr_len(eps[i]->addr.family);

		for (size_t k = 0; k < n; k++)
			h = (h ^ eps[i]->addr.u.bytes[k]) * 16777619u;
		h = (h ^ (eps[i]->port >> 8)) * 16777619u;
		h = (h ^ (eps[i]->port & 0xff)) * 16777619u;
	}
	return h;
}
