/* The service map: both spellings, several backends, refusals. */
#include "review/svcmap.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

static struct ctr_endpoint ep(const char *s)
{
	struct ctr_endpoint e;

	CU_ASSERT_EQUAL_FATAL(endpoint_parse(s, &e), 0);
	return e;
}

static void both_forms(void)
{
	struct svcmap m = {0};
	struct ctr_endpoint vip = ep("198.19.0.10:80"), be = ep("198.18.2.10:8080");

	CU_ASSERT_EQUAL(svcmap_parse(&m, "198.19.0.10:80/tcp->198.18.2.10:8080", NULL), 0);
	CU_ASSERT_EQUAL(svcmap_parse(&m, "198.19.0.10:80=198.18.2.10:8080", NULL), 0);
	CU_ASSERT_EQUAL(m.n, 1u); /* the same pair once */
	CU_ASSERT_TRUE(svcmap_is_vip(&m, &vip));
	CU_ASSERT_FALSE(svcmap_is_vip(&m, &be));
	CU_ASSERT_TRUE(svcmap_is_backend(&m, &be));
	CU_ASSERT_TRUE(svcmap_maps(&m, &vip, &be));
	CU_ASSERT_PTR_NOT_NULL(svcmap_only_backend(&m, &vip));
	CU_ASSERT_TRUE(endpoint_eq(svcmap_only_backend(&m, &vip), &be));
	svcmap_free(&m);
}

static void several_backends(void)
{
	struct svcmap m = {0};
	struct ctr_endpoint vip = ep("10.96.0.10:80"), b2 = ep("10.2.0.21:8080");
	const struct ctr_endpoint *vips[4];

	CU_ASSERT_EQUAL(svcmap_parse(&m, "10.96.0.10:80=10.2.0.20:8080,10.2.0.21:8080", NULL), 0);
	CU_ASSERT_EQUAL(svcmap_parse(&m, "10.96.0.11:443=10.2.0.21:8080", NULL), 0);
	CU_ASSERT_EQUAL(m.n, 3u);
	CU_ASSERT_PTR_NULL(svcmap_only_backend(&m, &vip)); /* two: which one is not known */
	CU_ASSERT_EQUAL(svcmap_vips_of(&m, &b2, vips, 4), 2u);
	CU_ASSERT_EQUAL(svcmap_vips_of(&m, &b2, vips, 1), 2u); /* counts past max */
	svcmap_free(&m);
}

static void ipv6(void)
{
	struct svcmap m = {0};
	struct ctr_endpoint vip = ep("[fd00::10]:80");

	CU_ASSERT_EQUAL(svcmap_parse(&m, "[fd00::10]:80=[fd00:2::20]:8080", NULL), 0);
	CU_ASSERT_TRUE(svcmap_is_vip(&m, &vip));
	svcmap_free(&m);
}

static void refusals(void)
{
	static const char *const bad[] = {
	    "198.19.0.10:80",		      /* no backend */
	    "198.19.0.10=198.18.2.10:8080",   /* no port */
	    "198.19.0.10:80=198.18.2.10",     /* no backend port */
	    "198.19.0.10:80=",		      /* empty backend */
	    "vip:80=198.18.2.10:8080",	      /* not an address */
	    "198.19.0.10:80=[fd00::1]:8080",  /* families differ */
	    "198.19.0.10:80=1.2.3.4:8080,,",  /* empty list entry */
	    "198.19.0.10:99999=1.2.3.4:8080", /* port out of range */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct svcmap m = {0};
		char *err = NULL;

		CU_ASSERT_EQUAL(svcmap_parse(&m, bad[i], &err), -1);
		CU_ASSERT_PTR_NOT_NULL(err); /* it says what is wrong */
		free(err);
		svcmap_free(&m);
	}
}

void register_svcmap_tests(void)
{
	CU_pSuite s = suite_add("svcmap");

	test_add(s, "--service and meta.kv forms", both_forms);
	test_add(s, "several backends per VIP", several_backends);
	test_add(s, "IPv6 in brackets", ipv6);
	test_add(s, "malformed services are refused with a reason", refusals);
}
