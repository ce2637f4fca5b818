/* The report's four forms on a reset run and a clean one: what a reviewer must see in
 * each, and JSON/SVG that jq and xmllint accept. */
#include "review/report.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct analyse *analyse_dir(const char *dir, struct svcmap *svc)
{
	static const char *const names[] = {"client.pcap", "node.pcap", "backend.pcap"};
	static const enum cap_role roles[] = {CAP_CLIENT, CAP_NODE, CAP_BACKEND};
	struct analyse_opts o = {0};
	struct pcapfile *r[3];
	struct analyse *a;
	char *err = NULL;

	memset(svc, 0, sizeof(*svc));
	CU_ASSERT_EQUAL(svcmap_parse(svc, "198.19.0.10:80=198.18.2.10:8080", NULL), 0);
	a = analyse_new(&o, svc, NULL);
	for (int i = 0; i < 3; i++) {
		char path[1024];

		snprintf(path, sizeof(path), "%s/%s", ref_path(dir), names[i]);
		r[i] = pcapfile_open(path, &err);
		if (!r[i] || analyse_add_capture(a, path, roles[i], &err) < 0) {
			CU_FAIL("cannot open a reference capture");
			free(err);
			return a;
		}
	}
	CU_ASSERT_EQUAL(analyse_merge(a, r, 3, NULL), 0);
	for (int i = 0; i < 3; i++)
		pcapfile_close(r[i]);
	analyse_finish(a);
	return a;
}

enum form { TEXT, LADDER, SVG, JSON };

static char *render(const struct analyse *a, enum form form)
{
	struct report_opts ro = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	switch (form) {
	case TEXT:
		report_text(f, a, &ro);
		break;
	case LADDER:
		report_ladder(f, a);
		break;
	case SVG:
		report_svg(f, a);
		break;
	case JSON:
		report_json(f, a, &ro);
		break;
	}
	fclose(f);
	return buf;
}

/* JSON that jq parses as one object, SVG that xmllint parses with an <svg> root: real
 * parsers, not bracket counting (a missing comma or </text> must fail here) */
static bool json_ok(const char *s)
{
	static const char *const jq[] = {"jq", "-e", "type == \"object\"", NULL};

	return s && parse_with(jq, s, strlen(s)) == 0;
}

static bool svg_ok(const char *s)
{
	static const char *const xl[] = {"xmllint", "--noout", "--nonet", "-", NULL};

	return s && strstr(s, "<svg ") && parse_with(xl, s, strlen(s)) == 0;
}

static void reset_run(void)
{
	struct svcmap svc;
	struct analyse *a = analyse_dir("bench/seq-above", &svc);
	char *t = render(a, TEXT), *l = render(a, LADDER), *s = render(a, SVG),
	     *j = render(a, JSON);

	CU_ASSERT_PTR_NOT_NULL(strstr(t, "LEAK"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "INVALID  198.18.2.10:8080 > "));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "SEQ is over upper bound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "answers the leaked segment"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "the backend's connection is reset"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "result:   reset"));
	CU_ASSERT_PTR_NOT_NULL(strstr(l, "===X=")); /* leaked, INVALID at the node */
	CU_ASSERT_PTR_NOT_NULL(strstr(l, "~ R "));
	CU_ASSERT_TRUE(svg_ok(s));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "stroke=\"#d62728\"")); /* the leak in red */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "stroke=\"#c41ab0\"")); /* its RST in magenta */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "INVALID: no NAT"));
	CU_ASSERT_TRUE(json_ok(j));
	CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"result\": \"reset\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"notes\": [\"window\", \"leak\"]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"effect\": \"resets\""));
	free(t);
	free(l);
	free(s);
	free(j);
	analyse_free(a);
	svcmap_free(&svc);
}

static void clean_run(void)
{
	struct svcmap svc;
	struct analyse *a = analyse_dir("bench/seq-below", &svc);
	char *t = render(a, TEXT), *s = render(a, SVG), *j = render(a, JSON);

	CU_ASSERT_PTR_NULL(strstr(t, "LEAK"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "IGNORE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "NAT applies"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "result:   clean"));
	CU_ASSERT_PTR_NULL(strstr(s, "stroke=\"#d62728\""));
	CU_ASSERT_TRUE(svg_ok(s));
	CU_ASSERT_TRUE(json_ok(j));
	CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"result\": \"clean\""));
	free(t);
	free(s);
	free(j);
	analyse_free(a);
	svcmap_free(&svc);
}

/* names with quotes and angle brackets come out escaped */
static void escaping(void)
{
	struct analyse_opts o = {0};
	struct analyse *a = analyse_new(&o, NULL, NULL);
	char *s, *j;

	CU_ASSERT_EQUAL(analyse_add_capture(a, "/tmp/a\"<b>&.pcap", CAP_UNKNOWN, NULL), 0);
	analyse_finish(a);
	s = render(a, SVG);
	j = render(a, JSON);
	CU_ASSERT_PTR_NULL(strstr(s, "<b>"));
	CU_ASSERT_TRUE(svg_ok(s));
	CU_ASSERT_TRUE(json_ok(j));
	CU_ASSERT_PTR_NOT_NULL(strstr(j, "a\\\"<b>&.pcap"));
	free(s);
	free(j);
	analyse_free(a);
}

void register_report_tests(void)
{
	CU_pSuite s = suite_add("report");

	test_add(s, "reset run: text, ladder, SVG, JSON", reset_run);
	test_add(s, "clean run: no leak anywhere", clean_run);
	test_add(s, "quotes and markup are escaped", escaping);
}
