#include "svcmap.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

int svcmap_add(struct svcmap *m, const struct ctr_endpoint *vip, const struct ctr_endpoint *backend,
	       bool inferred, char **err)
{
	if (svcmap_maps(m, vip, backend))
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4;
		struct svcmap_entry *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return err_set(err, "out of memory");
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] =
	    (struct svcmap_entry){.vip = *vip, .backend = *backend, .inferred = inferred};
	return 0;
}

int svcmap_parse(struct svcmap *m, const char *spec, char **err)
{
	const char *sep = strstr(spec, "/tcp->"), *rest;
	struct ctr_endpoint vip;
	char buf[CTR_EPSTRLEN + 8];
	size_t vlen;

	if (sep) {
		rest = sep + strlen("/tcp->");
	} else {
		sep = strchr(spec, '=');
		if (!sep)
			return err_set(err, "\"%s\": expected VIP:PORT=BACKEND:PORT", spec);
		rest = sep + 1;
	}
	vlen = (size_t)(sep - spec);
	if (vlen >= sizeof(buf))
		return err_set(err, "\"%s\": the VIP is too long", spec);
	memcpy(buf, spec, vlen);
	buf[vlen] = '\0';
	if (endpoint_parse(buf, &vip) < 0)
		return err_set(err, "\"%s\": the VIP \"%s\" is not IP:PORT", spec, buf);
	do {
		const char *comma = strchr(rest, ',');
		size_t blen = comma ? (size_t)(comma - rest) : strlen(rest);
		struct ctr_endpoint be;

		if (blen >= sizeof(buf))
			return err_set(err, "\"%s\": a backend is too long", spec);
		memcpy(buf, rest, blen);
		buf[blen] = '\0';
		if (endpoint_parse(buf, &be) < 0)
			return err_set(err, "\"%s\": the backend \"%s\" is not IP:PORT", spec, buf);
		if (be.addr.family != vip.addr.family)
			return err_set(err, "\"%s\": VIP and backend \"%s\" differ in family", spec,
				       buf);
		if (svcmap_add(m, &vip, &be, false, err) < 0)
			return -1;
		rest = comma ? comma + 1 : NULL;
	} while (rest);
	return 0;
}

bool svcmap_is_vip(const struct svcmap *m, const struct ctr_endpoint *e)
{
	for (size_t i = 0; i < m->n; i++)
		if (endpoint_eq(&m->v[i].vip, e))
			return true;
	return false;
}

bool svcmap_is_backend(const struct svcmap *m, const struct ctr_endpoint *e)
{
	for (size_t i = 0; i < m->n; i++)
		if (endpoint_eq(&m->v[i].backend, e))
			return true;
	return false;
}

bool svcmap_maps(const struct svcmap *m, const struct ctr_endpoint *vip,
		 const struct ctr_endpoint *backend)
{
	for (size_t i = 0; i < m->n; i++)
		if (endpoint_eq(&m->v[i].vip, vip) && endpoint_eq(&m->v[i].backend, backend))
			return true;
	return false;
}

const struct ctr_endpoint *svcmap_only_backend(const struct svcmap *m,
					       const struct ctr_endpoint *vip)
{
	const struct ctr_endpoint *found = NULL;

	for (size_t i = 0; i < m->n; i++) {
		if (!endpoint_eq(&m->v[i].vip, vip))
			continue;
		if (found)
			return NULL;
		found = &m->v[i].backend;
	}
	return found;
}

size_t svcmap_vips_of(const struct svcmap *m, const struct ctr_endpoint *backend,
		      const struct ctr_endpoint **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		if (endpoint_eq(&m->v[i].backend, backend)) {
			if (n < max)
				out[n] = &m->v[i].vip;
			n++;
		}
	return n;
}

void svcmap_free(struct svcmap *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
