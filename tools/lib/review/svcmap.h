/* The service map: which VIP:port a NAT node DNATs to which backend address:port, as
 * kube-proxy's KUBE-SVC/KUBE-SEP chains do. Given by the user, read from a bench run's
 * meta.kv, or learned from captures that saw one connection on both sides of the NAT. */
#ifndef CTR_SVCMAP_H
#define CTR_SVCMAP_H

#include "base/addr.h"

#include <stdbool.h>
#include <stddef.h>

struct svcmap_entry {
	struct ctr_endpoint vip, backend;
	bool inferred; /* learned from captures, not given */
};

struct svcmap {
	struct svcmap_entry *v;
	size_t n, cap;
};

/* Parses one service and adds its pairs. Accepted forms:
 *   VIP:PORT=BACKEND:PORT[,BACKEND:PORT...]       (the --service option)
 *   VIP:PORT/tcp->BACKEND:PORT[,BACKEND:PORT...]  (meta.kv's service=)
 * IPv6 addresses in brackets. 0, or -1 with *err naming what is wrong. */
int svcmap_parse(struct svcmap *m, const char *spec, char **err);

/* Adds one pair unless present. 0, or -1 with *err (out of memory). */
int svcmap_add(struct svcmap *m, const struct ctr_endpoint *vip, const struct ctr_endpoint *backend,
	       bool inferred, char **err);

bool svcmap_is_vip(const struct svcmap *m, const struct ctr_endpoint *e);
bool svcmap_is_backend(const struct svcmap *m, const struct ctr_endpoint *e);
bool svcmap_maps(const struct svcmap *m, const struct ctr_endpoint *vip,
		 const struct ctr_endpoint *backend);

/* The backend of vip when it has exactly one, else NULL. */
const struct ctr_endpoint *svcmap_only_backend(const struct svcmap *m,
					       const struct ctr_endpoint *vip);

/* The VIPs DNATed to backend: stores up to max of them in out, returns how many exist. */
size_t svcmap_vips_of(const struct svcmap *m, const struct ctr_endpoint *backend,
		      const struct ctr_endpoint **out, size_t max);

void svcmap_free(struct svcmap *m);

#endif
