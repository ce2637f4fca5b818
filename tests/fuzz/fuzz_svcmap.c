/* The service map option (--service, meta.kv's service=; svcmap.h) and the endpoints it is
 * made of: one spec a line, each parsed into one map, which is then queried. A backend the
 * map holds is printed and parsed again: endpoint_str and endpoint_parse must round-trip. */
#include "target.h"
#include "base/addr.h"
#include "review/svcmap.h"

#include <stdlib.h>
#include <string.h>

FUZZ_TARGET(svcmap)
{
	char *text = fuzz_str(data, size), *line, *save = NULL, *err = NULL;
	struct svcmap m = {0};
	unsigned lines = 0;

	if (!text)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && lines < 16;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		struct ctr_endpoint e;

		svcmap_parse(&m, line, &err);
		free(err);
		err = NULL;
		if (endpoint_parse(line, &e) == 0) {
			char s[CTR_EPSTRLEN];
			struct ctr_endpoint back;

			if (endpoint_parse(endpoint_str(&e, s), &back) < 0 ||
			    !endpoint_eq(&e, &back))
				abort();
		}
	}
	for (size_t i = 0; i < m.n; i++) {
		const struct ctr_endpoint *vips[4];
		char s[CTR_EPSTRLEN];
		struct ctr_endpoint back;
		size_t n;

		if (!svcmap_is_vip(&m, &m.v[i].vip) || !svcmap_is_backend(&m, &m.v[i].backend) ||
		    !svcmap_maps(&m, &m.v[i].vip, &m.v[i].backend))
			abort();
		svcmap_only_backend(&m, &m.v[i].vip);
		n = svcmap_vips_of(&m, &m.v[i].backend, vips, 4);
		if (n == 0)
			abort();
		for (size_t k = 0; k < n && k < 4; k++)
			if (!svcmap_maps(&m, vips[k], &m.v[i].backend))
				abort();
		if (endpoint_parse(endpoint_str(&m.v[i].backend, s), &back) < 0 ||
		    !endpoint_eq(&back, &m.v[i].backend))
			abort();
	}
	svcmap_free(&m);
	free(text);
	return 0;
}
