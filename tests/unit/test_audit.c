/* ctreset-audit's parsers and judgement on committed dumps of bench nodes
 * (tests/unit/fixtures/audit: node A of topology/up with a workaround or a kube-proxy
 * release, its dump trimmed) and on small texts for the bad inputs. */
#include "audit/audit.h"
#include "audit/dump.h"
#include "audit/rules.h"
#include "tests.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *top_file(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/../../%s", ref_dir, rel);
	return buf[k];
}

struct judged {
	struct audit_node node;
	struct audit_result *r;
	size_t n;
};

/* reads fixture NAME (or d when given) and judges it with the repository's oracle */
static int judge(const char *name, struct dump *given, const char *kernel, struct judged *j)
{
	struct dump d;
	struct oracle o;
	struct audit_options opt = {kernel, top_file("topology/kube-proxy-releases"), 0, NULL,
				    NULL};
	char *err = NULL, dir[PATH_MAX];
	int rc;

	memset(j, 0, sizeof(*j));
	if (given) {
		d = *given;
	} else {
		snprintf(dir, sizeof(dir), "%s", top_file("tests/unit/fixtures/audit"));
		strncat(dir, "/", sizeof(dir) - strlen(dir) - 1);
		strncat(dir, name, sizeof(dir) - strlen(dir) - 1);
		if (dump_read(dir, &d, &err) < 0) {
			fprintf(stderr, "%s\n", err);
			free(err);
			return -1;
		}
	}
	if (oracle_load(top_file("bench/matrix.expect"), &o, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		if (!given)
			dump_free(&d);
		return -1;
	}
	rc = audit_node_read(&d, &opt, &j->node, &err);
	if (rc == 0)
		rc = audit_judge(&j->node, &o, &j->r, &j->n, &err);
	free(err);
	oracle_free(&o);
	if (!given)
		dump_free(&d);
	return rc;
}

static const struct audit_result *find(const struct judged *j, const char *path,
				       const char *trigger, int family)
{
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->r[i].path, path) && !strcmp(j->r[i].trigger, trigger) &&
		    j->r[i].family == family)
			return &j->r[i];
	return NULL;
}

static const char *verdict(const struct judged *j, const char *path, const char *trigger,
			   int family)
{
	const struct audit_result *r = find(j, path, trigger, family);

	return r ? r->verdict : "(none)";
}

static void kube_proxy_131_iptables(void)
{
	struct judged j;
	const struct audit_result *r;

	CU_ASSERT_EQUAL_FATAL(judge("kp131-iptables", NULL, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].mode, "iptables");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].backend, "iptables-nft");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].form, "drop-nfacct");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].era, "1.31 and later");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "kube-proxy-drop");
	CU_ASSERT_STRING_EQUAL(j.node.fam[1].mode, ""); /* no IPv6 service */
	CU_ASSERT_STRING_EQUAL(j.node.kernel.release, "6.18.44");
	/* iptables-nft's own tables in the nft ruleset are left to iptables-save */
	CU_ASSERT(j.node.rules.nft_tables_skipped >= 2);
	CU_ASSERT_EQUAL(j.node.rules.ndrops, 1u);
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "clean");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "host-network", "seq-above", 4), "clean");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "ct-entry-lost", 4), "reset");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "asymmetric", "connect", 4), "broken");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 6), "unknown");
	r = find(&j, "cross-node", "seq-above", 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->decided_by, "iptables-save line 8"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r->why, "SEQ is over upper bound"));
	r = find(&j, "cross-node", "ct-entry-lost", 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->advise, "stopped by kube-proxy-drop+tcp-loose-0"));
	free(j.r);
}

static void kube_proxy_133_nftables(void)
{
	struct judged j;

	CU_ASSERT_EQUAL_FATAL(judge("kp133-nft", NULL, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].mode, "nftables");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].backend, "nft");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].form, "none");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].era, "1.30 and later");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "none");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "reset");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "ack-above", 4), "leak");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-below", 4), "clean");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "asymmetric", "connect", 4), "works");
	/* the kernel's release decides seq-below: before 6.1 it resets */
	free(j.r);
	CU_ASSERT_EQUAL_FATAL(judge("kp133-nft", NULL, "5.15", &j), 0);
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-below", 4), "reset");
	free(j.r);
}

static void kube_proxy_129_nftables_and_liberal(void)
{
	struct judged j;

	CU_ASSERT_EQUAL_FATAL(judge("kp129-nft", NULL, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].form, "nft-drop");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].era, "1.29");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "nft-invalid-drop");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "clean");
	free(j.r);
	CU_ASSERT_EQUAL_FATAL(judge("kp131-liberal", NULL, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].form, "none");
	CU_ASSERT_PTR_NOT_NULL(strstr(j.node.fam[0].era, "with be_liberal"));
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "be-liberal");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "clean");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "bad-flags", 4), "leak");
	free(j.r);
}

static void calico_input_and_legacy(void)
{
	struct judged j;

	CU_ASSERT_EQUAL_FATAL(judge("calico", NULL, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "calico-invalid-drop");
	CU_ASSERT(j.node.rules.calico_chains[0]);
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "clean");
	free(j.r);
	CU_ASSERT_EQUAL_FATAL(judge("input-nft", NULL, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "input-drop");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "host-network", "seq-above", 4), "clean");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "reset");
	free(j.r);
	CU_ASSERT_EQUAL_FATAL(judge("legacy6-nftdrop", NULL, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[1].mode, "iptables");
	CU_ASSERT_STRING_EQUAL(j.node.fam[1].backend, "iptables-legacy");
	CU_ASSERT_STRING_EQUAL(j.node.fam[1].workaround, "nft-invalid-drop");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "same-node", "seq-above", 6), "clean");
	CU_ASSERT_STRING_EQUAL(verdict(&j, "same-node", "seq-above", 4), "unknown");
	free(j.r);
}

/* a dump of hand-written texts (not freed: static strings) */
static struct dump text_dump(const char *ipt4, const char *nft, const char *sysctl,
			     const char *uname)
{
	struct dump d;

	memset(&d, 0, sizeof(d));
	d.text[DUMP_IPT4] = (char *)ipt4;
	d.text[DUMP_NFT_TXT] = (char *)nft;
	d.text[DUMP_SYSCTL] = (char *)sysctl;
	d.text[DUMP_UNAME] = (char *)uname;
	return d;
}

#define NAT                                                                                        \
	"*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n"                                 \
	"-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n"

static void combination_and_unknown_kernel(void)
{
	static const char ipt[] =
	    "# Generated by iptables-save v1.8.9 on x\n*filter\n:INPUT ACCEPT [0:0]\n"
	    ":FORWARD ACCEPT [0:0]\n:KUBE-FORWARD - [0:0]\n"
	    "-A FORWARD -j KUBE-FORWARD\n"
	    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
	    "-A INPUT -m conntrack --ctstate INVALID -j DROP\nCOMMIT\n" NAT;
	struct dump d = text_dump(ipt, NULL, NULL, NULL);
	struct judged j;
	const struct audit_result *r;

	CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].backend, "iptables-legacy");
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "kube-proxy-drop+input-drop");
	r = find(&j, "host-network", "seq-above", 4);
	CU_ASSERT_STRING_EQUAL(r->verdict, "clean");
	CU_ASSERT_PTR_NOT_NULL(strstr(r->why, "has no row for the combination"));
	/* no kernel release: a kernel-dependent verdict is unknown, the others stand */
	CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "clean");
	r = find(&j, "same-node", "ct-entry-lost", 4);
	CU_ASSERT_STRING_EQUAL(r->verdict, "reset");
	CU_ASSERT_PTR_NOT_NULL(strstr(j.node.assumed, "no kernel release"));
	CU_ASSERT_PTR_NOT_NULL(strstr(j.node.assumed, "sysctl.txt: missing"));
	free(j.r);
	/* with no drop at all, seq-below depends on the kernel */
	d = text_dump(NAT, NULL, "net.netfilter.nf_conntrack_tcp_loose = 0\n", NULL);
	CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &j), 0);
	CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "tcp-loose-0");
	r = find(&j, "cross-node", "seq-below", 4);
	CU_ASSERT_STRING_EQUAL(r->verdict, "unknown");
	CU_ASSERT_PTR_NOT_NULL(strstr(r->why, "depends on the kernel"));
	free(j.r);
}

static void bad_dumps_are_unknown(void)
{
	static const char *const bad[][2] = {
	    /* truncated: a table without COMMIT */
	    {"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n", NULL},
	    /* foreign: an nft ruleset saved under iptables-save's name */
	    {"table ip filter {\n}\n", NULL},
	    /* a rule of a chain never declared */
	    {"*filter\n:INPUT ACCEPT [0:0]\n-A KUBE-FORWARD -j DROP\nCOMMIT\n", NULL},
	    /* an nft ruleset cut in the middle of a table */
	    {NAT, "table ip kube-proxy {\n\tchain forward {\n\t\tct state invalid drop\n"},
	    /* iptables-save text under nft's name */
	    {NAT, "*filter\nCOMMIT\n"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dump d = text_dump(bad[i][0], bad[i][1], NULL, "6.18\n");
		struct judged j;

		CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &j), 0);
		CU_ASSERT(j.node.unknown[0] != '\0');
		CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "unknown");
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(find(&j, "cross-node", "seq-above", 4)->why, "unknown, because"));
		free(j.r);
	}
	/* garbled sysctls and a kernel release that is not one */
	{
		struct dump d = text_dump(NAT, NULL, "this is not sysctl output\n", "hello\n");
		struct judged j;

		CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &j), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(j.node.unknown, "sysctl.txt: line 1"));
		free(j.r);
		d = text_dump(NAT, NULL, NULL, "hello\n");
		CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &j), 0);
		CU_ASSERT_STRING_EQUAL(j.node.kernel.release, "");
		CU_ASSERT_PTR_NOT_NULL(strstr(j.node.assumed, "not a kernel release"));
		free(j.r);
	}
	/* empty files: a namespace without rules; no kube-proxy, so nothing to judge */
	{
		struct dump d = text_dump("", "", "", "6.18\n");
		struct judged j;

		CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &j), 0);
		CU_ASSERT_STRING_EQUAL(j.node.unknown, "");
		CU_ASSERT_PTR_NOT_NULL(strstr(find(&j, "cross-node", "seq-above", 4)->why,
					      "no kube-proxy service rules"));
		free(j.r);
	}
}

static void iptables_reachability(void)
{
	struct rules_facts f;
	char *err = NULL;
	static const char text[] =
	    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n"
	    ":ORPHAN - [0:0]\n:N - [0:0]\n"
	    "-A FORWARD -g A\n-A A -j B\n"
	    "-A B -m state --state NEW,INVALID -j DROP\n"
	    "-A ORPHAN -m conntrack --ctstate INVALID -j DROP\n"
	    "-A FORWARD -j N\n-A N -m conntrack ! --ctstate INVALID -j DROP\n"
	    "-A INPUT -j B\nCOMMIT\n";

	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL_FATAL(rules_read_iptables(text, "t", 4, 0, &f, &err), 0);
	/* B, reached from FORWARD (through a goto) and from INPUT; ORPHAN never, and N's
	 * rule drops what is NOT invalid */
	CU_ASSERT_EQUAL(f.ndrops, 2u);
	CU_ASSERT_EQUAL(f.drops[0].kind, DROP_FORWARD);
	CU_ASSERT_EQUAL(f.drops[1].kind, DROP_INPUT);
	CU_ASSERT_STRING_EQUAL(f.drops[0].where, "t line 10");
	CU_ASSERT_STRING_EQUAL(f.kp_iptables[0], "");
	CU_ASSERT_EQUAL(rules_read_iptables("", "t", 4, 0, &f, &err), 0);
	CU_ASSERT_EQUAL(rules_read_iptables("*filter\n*nat\n", "t", 4, 0, &f, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));
	free(err);
}

static void nft_reachability(void)
{
	struct rules_facts f;
	char *err = NULL;
	static const int skip[2] = {0, 0};
	static const char text[] =
	    "table inet t {\n"
	    "\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 1.2.3.4,\n\t\t\t5.6.7.8 }\n\t}\n"
	    "\tchain base {\n\t\ttype filter hook forward priority -101; policy accept;\n"
	    "\t\tip daddr vmap {\n\t\t\t1.1.1.1 : jump deep,\n\t\t\t2.2.2.2 : accept }\n\t}\n"
	    "\tchain deep {\n\t\tct state { established, invalid } counter drop comment "
	    "\"x\"\n\t}\n"
	    "\tchain lonely {\n\t\tct state invalid drop\n\t}\n"
	    "\tchain neg {\n\t\tct state != invalid drop\n\t}\n"
	    "}\n";

	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL_FATAL(rules_read_nft(text, "n", skip, &f, &err), 0);
	/* deep, through a vmap spanning lines, in both families of the inet table */
	CU_ASSERT_EQUAL(f.ndrops, 2u);
	CU_ASSERT_EQUAL(f.drops[0].kind, DROP_NFT_FORWARD);
	CU_ASSERT_EQUAL(f.drops[0].family, 4);
	CU_ASSERT_EQUAL(f.drops[1].family, 6);
	CU_ASSERT_STRING_EQUAL(f.drops[0].where, "n line 14");
	CU_ASSERT_EQUAL(rules_read_nft("table ip x {\n\tchain c {\n}\n", "n", skip, &f, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated"));
	free(err);
}

/* the same node's nft -j list ruleset and nft list ruleset (tests/unit/fixtures/audit/
 * json-*: node A of topology/up, both taken from it one after the other) judged alone:
 * the same verdicts, workaround, mode and form; both given: the JSON read, said so */
static void json_and_text_agree(void)
{
	static const struct {
		const char *dir, *workaround, *mode;
	} cases[] = {
	    {"json-kp129-nft", "nft-invalid-drop", "nftables"},
	    {"json-kp133-nft", "none", "nftables"},
	    {"json-calico", "calico-invalid-drop", "iptables"},
	    {"json-input-ipt", "input-drop", "iptables"},
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct dump d, dj, dt;
		struct judged jb, jj, jt;
		char *err = NULL;

		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s/%s", top_file("tests/unit/fixtures/audit"),
			 cases[c].dir);
		CU_ASSERT_EQUAL_FATAL(dump_read(dir, &d, &err), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d.text[DUMP_NFT_JSON]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d.text[DUMP_NFT_TXT]);
		dj = d;
		dj.text[DUMP_NFT_TXT] = NULL;
		dt = d;
		dt.text[DUMP_NFT_JSON] = NULL;
		CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &jb), 0);
		CU_ASSERT_EQUAL_FATAL(judge(NULL, &dj, NULL, &jj), 0);
		CU_ASSERT_EQUAL_FATAL(judge(NULL, &dt, NULL, &jt), 0);
		CU_ASSERT_STRING_EQUAL(jj.node.unknown, "");
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(jb.node.assumed, "nft-ruleset.json read, nft-ruleset.txt not"));
		CU_ASSERT_STRING_EQUAL(jj.node.fam[0].workaround, cases[c].workaround);
		CU_ASSERT_STRING_EQUAL(jj.node.fam[0].mode, cases[c].mode);
		for (int fi = 0; fi < 2; fi++) {
			CU_ASSERT_STRING_EQUAL(jj.node.fam[fi].workaround,
					       jt.node.fam[fi].workaround);
			CU_ASSERT_STRING_EQUAL(jj.node.fam[fi].mode, jt.node.fam[fi].mode);
			CU_ASSERT_STRING_EQUAL(jj.node.fam[fi].form, jt.node.fam[fi].form);
		}
		CU_ASSERT_EQUAL_FATAL(jj.n, jt.n);
		CU_ASSERT(jj.n > 0);
		for (size_t i = 0; i < jj.n; i++) {
			CU_ASSERT_STRING_EQUAL(jj.r[i].trigger, jt.r[i].trigger);
			CU_ASSERT_EQUAL(jj.r[i].family, jt.r[i].family);
			CU_ASSERT_STRING_EQUAL(jj.r[i].verdict, jt.r[i].verdict);
			CU_ASSERT_STRING_EQUAL(jj.r[i].verdict, jb.r[i].verdict);
			CU_ASSERT_STRING_EQUAL(jj.r[i].workaround, jt.r[i].workaround);
		}
		free(jb.r);
		free(jj.r);
		free(jt.r);
		dump_free(&d);
	}
}

static void nft_json_reachability(void)
{
	struct rules_facts f;
	char *err = NULL;
	static const int skip[2] = {0, 0};
	static const char text[] =
	    "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
	    "{\"table\": {\"family\": \"inet\", \"name\": \"t\", \"handle\": 1}},"
	    "{\"set\": {\"family\": \"inet\", \"name\": \"s\", \"table\": \"t\"}},"
	    "{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"base\", "
	    "\"hook\": \"forward\", \"type\": \"filter\"}},"
	    "{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"deep\"}},"
	    "{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"lonely\"}},"
	    "{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"neg\"}},"
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"base\", \"handle\": "
	    "4, "
	    "\"expr\": [{\"vmap\": {\"key\": {\"payload\": {\"field\": \"daddr\"}}, \"data\": "
	    "{\"set\": [[\"1.1.1.1\", {\"jump\": {\"target\": \"deep\"}}], [\"2.2.2.2\", "
	    "{\"accept\": null}]]}}}]}},"
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"base\", \"handle\": "
	    "9, "
	    "\"expr\": [{\"match\": {\"op\": \"!=\", \"left\": {\"ct\": {\"key\": \"state\"}}, "
	    "\"right\": \"invalid\"}}, {\"jump\": {\"target\": \"neg\"}}]}},"
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"deep\", \"handle\": "
	    "5, "
	    "\"expr\": [{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, "
	    "\"right\": {\"set\": [\"established\", \"invalid\"]}}}, {\"counter\": null}, "
	    "{\"drop\": null}]}},"
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"lonely\", "
	    "\"handle\": 6, "
	    "\"expr\": [{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, "
	    "\"right\": \"invalid\"}}, {\"drop\": null}]}},"
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"neg\", \"handle\": "
	    "7, "
	    "\"expr\": [{\"match\": {\"op\": \"!=\", \"left\": {\"ct\": {\"key\": \"state\"}}, "
	    "\"right\": \"invalid\"}}, {\"drop\": null}]}}]}\n";

	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL_FATAL(rules_read_nft_json(text, "n", skip, &f, &err), 0);
	/* deep, through a vmap's jump, in both families of the inet table; not lonely
	 * (unreached), not neg (drops what is NOT invalid) */
	CU_ASSERT_EQUAL(f.ndrops, 2u);
	CU_ASSERT_EQUAL(f.drops[0].kind, DROP_NFT_FORWARD);
	CU_ASSERT_EQUAL(f.drops[0].family, 4);
	CU_ASSERT_EQUAL(f.drops[1].family, 6);
	CU_ASSERT_STRING_EQUAL(f.drops[0].where, "n rule handle 5 of chain deep");
}

/* a bad nft-ruleset.json: alone, unknown with the reason; beside a good .txt, the text
 * read instead and the reason in what was assumed */
static void bad_nft_json(void)
{
	char deep[300];
	struct dump fx;
	char *err = NULL, *cut;
	const char *bad[] = {
	    "",
	    "  \n",
	    "{\"nftables\": [}",
	    "{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"x\"}}",
	    "{\"foo\": 1}",
	    "[1, 2]",
	    "{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"x\"}}]} trailing",
	    "{\"nftables\": [{\"chain\": {\"family\": \"ip\", \"table\": \"x\", \"name\": "
	    "\"c\"}}]}",
	    "{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"x\"}}, {\"rule\": "
	    "{\"family\": \"ip\", \"table\": \"x\", \"chain\": \"nope\", \"expr\": []}}]}",
	    "{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"filter\"}}, {\"chain\": "
	    "{\"family\": \"ip\", \"table\": \"filter\", \"name\": \"FORWARD\", \"hook\": "
	    "\"forward\"}}, {\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": "
	    "\"FORWARD\", \"handle\": 3, \"expr\": [{\"xt\": {\"type\": \"match\", \"name\": "
	    "\"conntrack\"}}, {\"drop\": null}]}}]}",
	    "{\"nftables\": [\"\\u12\"]}",
	    "{\"nftables\": [\"tab\there\"]}",
	    deep,
	    NULL, /* the fixture cut in half */
	};
	size_t nbad = sizeof(bad) / sizeof(bad[0]);
	char dir[PATH_MAX];

	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	snprintf(dir, sizeof(dir), "%s/json-kp129-nft", top_file("tests/unit/fixtures/audit"));
	CU_ASSERT_EQUAL_FATAL(dump_read(dir, &fx, &err), 0);
	cut = strdup(fx.text[DUMP_NFT_JSON]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
	cut[strlen(cut) / 2] = '\0';
	bad[nbad - 1] = cut;
	for (size_t i = 0; i < nbad; i++) {
		struct dump d = text_dump(NULL, NULL, NULL, "6.18\n");
		struct judged j;

		d.text[DUMP_NFT_JSON] = (char *)bad[i];
		CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &j), 0);
		if (!strstr(j.node.unknown, "nft-ruleset.json"))
			fprintf(stderr, "bad json %zu: unknown is \"%s\"\n", i, j.node.unknown);
		CU_ASSERT_PTR_NOT_NULL(strstr(j.node.unknown, "nft-ruleset.json"));
		CU_ASSERT_STRING_EQUAL(verdict(&j, "cross-node", "seq-above", 4), "unknown");
		free(j.r);
		/* beside the node's text form: that is read, and the JSON's fault said */
		d = fx;
		d.text[DUMP_NFT_JSON] = (char *)bad[i];
		CU_ASSERT_EQUAL_FATAL(judge(NULL, &d, NULL, &j), 0);
		CU_ASSERT_STRING_EQUAL(j.node.unknown, "");
		CU_ASSERT_PTR_NOT_NULL(strstr(j.node.assumed, "nft-ruleset.txt read instead"));
		CU_ASSERT_STRING_EQUAL(j.node.fam[0].workaround, "nft-invalid-drop");
		free(j.r);
	}
	free(cut);
	dump_free(&fx);
}

void register_audit_tests(void)
{
	CU_pSuite s = suite_add("audit");

	test_add(s, "kube-proxy 1.31 iptables: the nfacct form, kube-proxy-drop",
		 kube_proxy_131_iptables);
	test_add(s, "kube-proxy 1.33 nftables: no INVALID rule, exposed", kube_proxy_133_nftables);
	test_add(s, "kube-proxy 1.29 nftables and 1.31 with tcpBeLiberal",
		 kube_proxy_129_nftables_and_liberal);
	test_add(s, "Calico, Docker's INPUT rule, legacy IPv6", calico_input_and_legacy);
	test_add(s, "a combination without a row; no kernel release",
		 combination_and_unknown_kernel);
	test_add(s, "truncated, foreign, garbled and empty dumps", bad_dumps_are_unknown);
	test_add(s, "iptables: what FORWARD and INPUT reach", iptables_reachability);
	test_add(s, "nft: hooks, vmaps, sets, inet", nft_reachability);
	test_add(s, "nft -j: hooks, vmaps, sets, inet", nft_json_reachability);
	test_add(s, "nft -j and nft list of the same node: the same verdicts", json_and_text_agree);
	test_add(s, "nft -j: empty, truncated, garbled, foreign, xt", bad_nft_json);
}
