/* IPv4/IPv6 addresses and TCP endpoints, and the 4-tuple that keys every flow. */
#ifndef CTR_ADDR_H
#define CTR_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct ctr_addr {
	int family; /* AF_INET or AF_INET6; 0 = unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	} u;
};

struct ctr_endpoint {
	struct ctr_addr addr;
	uint16_t port; /* host byte order */
};

/* one direction of a TCP connection */
struct ctr_tuple {
	struct ctr_endpoint src, dst;
};

#define CTR_ADDRSTRLEN INET6_ADDRSTRLEN
#define CTR_EPSTRLEN (INET6_ADDRSTRLEN + 8)

/* Parses a literal IPv4 or IPv6 address; 0 on success, -1 if it is neither. */
int addr_parse(const char *s, struct ctr_addr *out);

/* Parses "IP:PORT" or "[IPv6]:PORT"; 0 on success, -1 on bad input. */
int endpoint_parse(const char *s, struct ctr_endpoint *out);

/* Formats into buf (CTR_ADDRSTRLEN / CTR_EPSTRLEN bytes); returns buf. */
const char *addr_str(const struct ctr_addr *a, char *buf);
const char *endpoint_str(const struct ctr_endpoint *e, char *buf);

bool addr_eq(const struct ctr_addr *a, const struct ctr_addr *b);
bool endpoint_eq(const struct ctr_endpoint *a, const struct ctr_endpoint *b);
bool tuple_eq(const struct ctr_tuple *a, const struct ctr_tuple *b);

/* the same connection seen from the other side */
struct ctr_tuple tuple_reverse(const struct ctr_tuple *t);

/* Both directions of one connection hash and compare equal: the smaller endpoint first. */
struct ctr_tuple tuple_canonical(const struct ctr_tuple *t);
uint32_t tuple_hash(const struct ctr_tuple *t);

#endif
