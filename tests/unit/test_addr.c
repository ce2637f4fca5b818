#include "base/addr.h"
#include "tests.h"

#include <arpa/inet.h>
#include <string.h>

static struct ctr_endpoint ep(const char *s)
{
	struct ctr_endpoint e;

	CU_ASSERT_FATAL(endpoint_parse(s, &e) == 0);
	return e;
}

static void parse_and_format(void)
{
	char buf[CTR_EPSTRLEN];
	struct ctr_endpoint e = ep("198.18.2.10:8080");

	CU_ASSERT_EQUAL(e.addr.family, AF_INET);
	CU_ASSERT_EQUAL(e.port, 8080);
	CU_ASSERT_STRING_EQUAL(endpoint_str(&e, buf), "198.18.2.10:8080");
	e = ep("[2001:2::10]:80");
	CU_ASSERT_EQUAL(e.addr.family, AF_INET6);
	CU_ASSERT_STRING_EQUAL(endpoint_str(&e, buf), "[2001:2::10]:80");
}

static void parse_rejects_bad_input(void)
{
	struct ctr_endpoint e;
	const char *bad[] = {"",
			     "198.18.2.10",
			     "198.18.2.10:",
			     "198.18.2.10:0",
			     "198.18.2.10:65536",
			     "198.18.2.300:80",
			     "2001:2::10:80",
			     "[2001:2::10]80",
			     "host:80",
			     "198.18.2.10:-1",
			     "198.18.2.10:80x",
			     "[]:80"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(endpoint_parse(bad[i], &e), -1);
}

/* both directions of one connection must key the same flow, and differ from any other */
static void tuple_keying(void)
{
	struct ctr_tuple a = {.src = ep("198.18.1.10:40000"), .dst = ep("198.19.0.10:80")};
	struct ctr_tuple b = tuple_reverse(&a);
	struct ctr_tuple other = {.src = ep("198.18.1.10:40001"), .dst = ep("198.19.0.10:80")};
	struct ctr_tuple ca = tuple_canonical(&a), cb = tuple_canonical(&b);

	CU_ASSERT_TRUE(tuple_eq(&ca, &cb));
	CU_ASSERT_EQUAL(tuple_hash(&a), tuple_hash(&b));
	CU_ASSERT_FALSE(tuple_eq(&a, &b));
	CU_ASSERT_FALSE(tuple_eq(&a, &other));
	CU_ASSERT_NOT_EQUAL(tuple_hash(&a), tuple_hash(&other));
	/* same ports, other address: the e2e test's bug was keying by client IP only */
	other = a;
	other.src = ep("198.18.1.11:40000");
	CU_ASSERT_FALSE(tuple_eq(&a, &other));
}

void register_addr_tests(void)
{
	CU_pSuite s = suite_add("addr");

	test_add(s, "parse and format IPv4/IPv6 endpoints", parse_and_format);
	test_add(s, "reject malformed endpoints", parse_rejects_bad_input);
	test_add(s, "4-tuple keying is direction-free and exact", tuple_keying);
}
