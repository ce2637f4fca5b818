/* The counters' parsers over what the kernel would answer, built here: an x_tables entries
 * blob (IPT_SO_GET_ENTRIES, IP6T_SO_GET_ENTRIES) and nf_tables rule messages
 * (NFT_MSG_NEWRULE) as iptables-nft and nft write them; and the cell's meta.kv lines. */
#include "live/counters.h"
#include "tests.h"

#include <endian.h>
#include <netinet/in.h> /* before the linux/ headers */
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdlib.h>
#include <string.h>

static void spec_parse(void)
{
	struct counter_spec s;
	char *err = NULL;

	CU_ASSERT_EQUAL(counter_spec_parse("ipt-nft:ip:KUBE-FORWARD", &s, &err), 0);
	CU_ASSERT_EQUAL(s.kind, COUNTER_IPT_NFT);
	CU_ASSERT_EQUAL(s.family, NFPROTO_IPV4);
	CU_ASSERT_STRING_EQUAL(s.table, "filter");
	CU_ASSERT_STRING_EQUAL(s.chain, "KUBE-FORWARD");
	CU_ASSERT_EQUAL(counter_spec_parse("ipt-legacy:ip6:INPUT", &s, &err), 0);
	CU_ASSERT_EQUAL(s.kind, COUNTER_IPT_LEGACY);
	CU_ASSERT_EQUAL(s.family, NFPROTO_IPV6);
	CU_ASSERT_EQUAL(counter_spec_parse("nft:inet:ctreset-input-drop:input", &s, &err), 0);
	CU_ASSERT_EQUAL(s.kind, COUNTER_NFT);
	CU_ASSERT_EQUAL(s.family, NFPROTO_INET);
	CU_ASSERT_STRING_EQUAL(s.table, "ctreset-input-drop");
	CU_ASSERT_STRING_EQUAL(s.chain, "input");
	CU_ASSERT_PTR_NULL(err);
	const char *bad[] = {"ipt:ip:X",  "ipt-nft:inet:X", "ipt-nft:ip:",   "nft:ip:t",
			     "nft:ip::c", "nft:ip:t:c:d",   "ipt-nft:ip4:X", "",
			     "nft:ip6:t:" /* empty chain */};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(counter_spec_parse(bad[i], &s, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(err);
		free(err);
		err = NULL;
	}
}

/* --- an x_tables blob --------------------------------------------------------------------- */

struct blob {
	unsigned char buf[8192];
	size_t n;
	bool v6;
};

static size_t entry_head(const struct blob *b)
{
	return b->v6 ? sizeof(struct ip6t_entry) : sizeof(struct ipt_entry);
}

/* one entry: an optional match (NAME, REV, its DATA), then the target: the standard one
 * with VERDICT (tname NULL) or TNAME with its string data (ERROR's chain name) */
static void add_entry(struct blob *b, const char *mname, unsigned rev, const void *mdata,
		      size_t mlen, const char *tname, const char *tdata, int verdict, uint64_t pcnt)
{
	unsigned char *e = b->buf + b->n;
	size_t head = entry_head(b), off = head, tsize;
	struct xt_counters cnt = {.pcnt = pcnt, .bcnt = pcnt * 100};

	memset(e, 0, sizeof(b->buf) - b->n);
	if (mname) {
		struct xt_entry_match *m = (struct xt_entry_match *)(e + off);
		size_t msize = XT_ALIGN(sizeof(*m) + mlen);

		m->u.user.match_size = (uint16_t)msize;
		strcpy(m->u.user.name, mname);
		m->u.user.revision = (uint8_t)rev;
		memcpy(m->data, mdata, mlen);
		off += msize;
	}
	tsize = tname ? XT_ALIGN(sizeof(struct xt_error_target))
		      : XT_ALIGN(sizeof(struct xt_standard_target));
	{
		struct xt_entry_target *t = (struct xt_entry_target *)(e + off);

		t->u.user.target_size = (uint16_t)tsize;
		if (tname) {
			strcpy(t->u.user.name, tname);
			strcpy((char *)t->data, tdata);
		} else {
			memcpy(t->data, &verdict, sizeof(verdict));
		}
	}
	if (b->v6) {
		struct ip6t_entry *x = (struct ip6t_entry *)e;

		x->target_offset = (uint16_t)off;
		x->next_offset = (uint16_t)(off + tsize);
		x->counters = cnt;
	} else {
		struct ipt_entry *x = (struct ipt_entry *)e;

		x->target_offset = (uint16_t)off;
		x->next_offset = (uint16_t)(off + tsize);
		x->counters = cnt;
	}
	b->n += off + tsize;
}

#define DROP (-NF_DROP - 1)
#define ACCEPT (-NF_ACCEPT - 1)

static struct xt_conntrack_mtinfo3 ctstate(unsigned states, bool invert)
{
	struct xt_conntrack_mtinfo3 m;

	memset(&m, 0, sizeof(m));
	m.match_flags = XT_CONNTRACK_STATE;
	m.invert_flags = invert ? XT_CONNTRACK_STATE : 0;
	m.state_mask = (uint16_t)states;
	return m;
}

/* the filter table as iptables-legacy-restore leaves it: INPUT with a rule, FORWARD and
 * OUTPUT with their policies, then KUBE-FORWARD */
static void filter_table(struct blob *b, unsigned hook_entry[5])
{
	struct xt_conntrack_mtinfo3 inv = ctstate(XT_CONNTRACK_STATE_INVALID, false);
	struct xt_conntrack_mtinfo3 inv_new =
	    ctstate(XT_CONNTRACK_STATE_INVALID | XT_CONNTRACK_STATE_BIT(IP_CT_NEW), false);
	struct xt_conntrack_mtinfo3 nw = ctstate(XT_CONNTRACK_STATE_BIT(IP_CT_NEW), false);
	struct xt_conntrack_mtinfo3 not_inv = ctstate(XT_CONNTRACK_STATE_INVALID, true);
	struct xt_state_info st = {.statemask = XT_STATE_INVALID};

	hook_entry[NF_INET_LOCAL_IN] = (unsigned)b->n;
	add_entry(b, "state", 0, &st, sizeof(st), NULL, NULL, DROP, 7); /* -m state INVALID */
	add_entry(b, NULL, 0, NULL, 0, NULL, NULL, ACCEPT, 1000);	/* policy */
	hook_entry[NF_INET_FORWARD] = (unsigned)b->n;
	add_entry(b, "conntrack", 3, &inv, sizeof(inv), NULL, NULL, ACCEPT, 50); /* not DROP */
	add_entry(b, NULL, 0, NULL, 0, NULL, NULL, ACCEPT, 1000);
	hook_entry[NF_INET_LOCAL_OUT] = (unsigned)b->n;
	add_entry(b, NULL, 0, NULL, 0, NULL, NULL, ACCEPT, 1000);
	add_entry(b, NULL, 0, NULL, 0, XT_ERROR_TARGET, "KUBE-FORWARD", 0, 0);
	add_entry(b, "conntrack", 3, &inv, sizeof(inv), NULL, NULL, DROP, 5);
	add_entry(b, "conntrack", 3, &inv_new, sizeof(inv_new), NULL, NULL, DROP, 11); /* last */
	add_entry(b, "conntrack", 3, &nw, sizeof(nw), NULL, NULL, DROP, 99);
	add_entry(b, "conntrack", 3, &not_inv, sizeof(not_inv), NULL, NULL, DROP, 98);
	add_entry(b, NULL, 0, NULL, 0, NULL, NULL, XT_RETURN, 0);
	add_entry(b, NULL, 0, NULL, 0, XT_ERROR_TARGET, "KUBE-OTHER", 0, 0);
	add_entry(b, "conntrack", 3, &inv, sizeof(inv), NULL, NULL, DROP, 77);
	add_entry(b, NULL, 0, NULL, 0, NULL, NULL, XT_RETURN, 0);
	add_entry(b, NULL, 0, NULL, 0, XT_ERROR_TARGET, XT_ERROR_TARGET, 0, 0); /* the end */
}

static void ipt_walk_family(bool v6)
{
	static struct blob b;
	unsigned hooks[5] = {0};
	const unsigned valid =
	    (1u << NF_INET_LOCAL_IN) | (1u << NF_INET_FORWARD) | (1u << NF_INET_LOCAL_OUT);
	uint64_t p = 12345;

	memset(&b, 0, sizeof(b));
	b.v6 = v6;
	filter_table(&b, hooks);
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, v6, valid, hooks, "KUBE-FORWARD", &p), 1);
	CU_ASSERT_EQUAL(p, 11);
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, v6, valid, hooks, "KUBE-OTHER", &p), 1);
	CU_ASSERT_EQUAL(p, 77);
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, v6, valid, hooks, "INPUT", &p), 1);
	CU_ASSERT_EQUAL(p, 7);
	p = 12345;
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, v6, valid, hooks, "FORWARD", &p), 0);
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, v6, valid, hooks, "OUTPUT", &p), 0);
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, v6, valid, hooks, "KUBE-NONE", &p), 0);
	CU_ASSERT_EQUAL(p, 12345);
	/* cut mid-entry, or read with the other family's layout: malformed, never a count */
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n - 3, v6, valid, hooks, "KUBE-FORWARD", &p), -1);
	CU_ASSERT_NOT_EQUAL(counter_ipt_walk(b.buf, b.n, !v6, valid, hooks, "KUBE-FORWARD", &p), 1);
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, 0, v6, valid, hooks, "KUBE-FORWARD", &p), 0);
}

static void ipt_walk4(void)
{
	ipt_walk_family(false);
}
static void ipt_walk6(void)
{
	ipt_walk_family(true);
}

/* a blob whose next_offset is 0 (or runs past the end) ends the walk as malformed */
static void ipt_walk_malformed(void)
{
	static struct blob b;
	unsigned hooks[5] = {0};
	uint64_t p;

	memset(&b, 0, sizeof(b));
	add_entry(&b, NULL, 0, NULL, 0, NULL, NULL, ACCEPT, 1);
	((struct ipt_entry *)b.buf)->next_offset = 0;
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, false, 0, hooks, "INPUT", &p), -1);
	((struct ipt_entry *)b.buf)->next_offset = (uint16_t)(b.n + 8);
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, false, 0, hooks, "INPUT", &p), -1);
	((struct ipt_entry *)b.buf)->next_offset = (uint16_t)b.n;
	((struct ipt_entry *)b.buf)->target_offset = 4; /* inside the entry's header */
	CU_ASSERT_EQUAL(counter_ipt_walk(b.buf, b.n, false, 0, hooks, "INPUT", &p), -1);
}

/* --- nf_tables rule messages ------------------------------------------------------------ */

static void put_be32(struct nl_msg *m, int type, uint32_t v)
{
	nla_put_u32(m, type, htobe32(v));
}

static void put_value(struct nl_msg *m, int type, uint32_t v)
{
	struct nlattr *n = nla_nest_start(m, type);

	nla_put(m, NFTA_DATA_VALUE, 4, &v);
	nla_nest_end(m, n);
}

/* [ ct load state => reg 1 ] [ bitwise reg 1 = (reg 1 & MASK) ^ 0 ] [ cmp OP reg 1 V ] */
static void expr_ct_state(struct nl_msg *m, uint32_t mask, uint32_t op, uint32_t v)
{
	struct nlattr *el = nla_nest_start(m, NFTA_LIST_ELEM), *d;

	nla_put_string(m, NFTA_EXPR_NAME, "ct");
	d = nla_nest_start(m, NFTA_EXPR_DATA);
	put_be32(m, NFTA_CT_KEY, NFT_CT_STATE);
	put_be32(m, NFTA_CT_DREG, NFT_REG_1);
	nla_nest_end(m, d);
	nla_nest_end(m, el);
	el = nla_nest_start(m, NFTA_LIST_ELEM);
	nla_put_string(m, NFTA_EXPR_NAME, "bitwise");
	d = nla_nest_start(m, NFTA_EXPR_DATA);
	put_be32(m, NFTA_BITWISE_SREG, NFT_REG_1);
	put_be32(m, NFTA_BITWISE_DREG, NFT_REG_1);
	put_be32(m, NFTA_BITWISE_LEN, 4);
	put_value(m, NFTA_BITWISE_MASK, mask);
	put_value(m, NFTA_BITWISE_XOR, 0);
	nla_nest_end(m, d);
	nla_nest_end(m, el);
	el = nla_nest_start(m, NFTA_LIST_ELEM);
	nla_put_string(m, NFTA_EXPR_NAME, "cmp");
	d = nla_nest_start(m, NFTA_EXPR_DATA);
	put_be32(m, NFTA_CMP_SREG, NFT_REG_1);
	put_be32(m, NFTA_CMP_OP, op);
	put_value(m, NFTA_CMP_DATA, v);
	nla_nest_end(m, d);
	nla_nest_end(m, el);
}

/* [ match name NAME rev REV ] with INFO */
static void expr_match(struct nl_msg *m, const char *name, uint32_t rev, const void *info,
		       size_t len)
{
	struct nlattr *el = nla_nest_start(m, NFTA_LIST_ELEM), *d;

	nla_put_string(m, NFTA_EXPR_NAME, "match");
	d = nla_nest_start(m, NFTA_EXPR_DATA);
	nla_put_string(m, NFTA_MATCH_NAME, name);
	put_be32(m, NFTA_MATCH_REV, rev);
	nla_put(m, NFTA_MATCH_INFO, (int)len, info);
	nla_nest_end(m, d);
	nla_nest_end(m, el);
}

static void expr_counter(struct nl_msg *m, uint64_t pkts)
{
	struct nlattr *el = nla_nest_start(m, NFTA_LIST_ELEM), *d;

	nla_put_string(m, NFTA_EXPR_NAME, "counter");
	d = nla_nest_start(m, NFTA_EXPR_DATA);
	nla_put_u64(m, NFTA_COUNTER_BYTES, htobe64(pkts * 60));
	nla_put_u64(m, NFTA_COUNTER_PACKETS, htobe64(pkts));
	nla_nest_end(m, d);
	nla_nest_end(m, el);
}

/* [ immediate reg 0 VERDICT ] */
static void expr_verdict(struct nl_msg *m, int verdict)
{
	struct nlattr *el = nla_nest_start(m, NFTA_LIST_ELEM), *d, *dd, *v;

	nla_put_string(m, NFTA_EXPR_NAME, "immediate");
	d = nla_nest_start(m, NFTA_EXPR_DATA);
	put_be32(m, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	dd = nla_nest_start(m, NFTA_IMMEDIATE_DATA);
	v = nla_nest_start(m, NFTA_DATA_VERDICT);
	put_be32(m, NFTA_VERDICT_CODE, (uint32_t)verdict);
	nla_nest_end(m, v);
	nla_nest_end(m, dd);
	nla_nest_end(m, d);
	nla_nest_end(m, el);
}

static struct nl_msg *rule_start(struct nlattr **exprs)
{
	struct nl_msg *m = nlmsg_alloc();

	nla_put_string(m, NFTA_RULE_TABLE, "filter");
	nla_put_string(m, NFTA_RULE_CHAIN, "KUBE-FORWARD");
	*exprs = nla_nest_start(m, NFTA_RULE_EXPRESSIONS);
	return m;
}

/* the rule's attributes (as after the nfgenmsg header) to counter_nft_rule */
static int rule_end(struct nl_msg *m, struct nlattr *exprs, bool need_drop, uint64_t *pkts)
{
	struct nlmsghdr *h = nlmsg_hdr(m);
	int rc;

	nla_nest_end(m, exprs);
	rc = counter_nft_rule(nlmsg_attrdata(h, 0), (size_t)nlmsg_attrlen(h, 0), need_drop, pkts);
	nlmsg_free(m);
	return rc;
}

static void nft_rules(void)
{
	struct xt_conntrack_mtinfo3 inv = ctstate(XT_CONNTRACK_STATE_INVALID, false);
	struct xt_conntrack_mtinfo3 nw = ctstate(XT_CONNTRACK_STATE_BIT(IP_CT_NEW), false);
	struct xt_state_info st = {.statemask = XT_STATE_INVALID};
	struct nlattr *x;
	struct nl_msg *m;
	uint64_t p = 0;

	/* iptables-nft: -m conntrack --ctstate INVALID -j DROP */
	m = rule_start(&x);
	expr_match(m, "conntrack", 3, &inv, sizeof(inv));
	expr_counter(m, 4242);
	expr_verdict(m, NF_DROP);
	CU_ASSERT_EQUAL(rule_end(m, x, true, &p), 1);
	CU_ASSERT_EQUAL(p, 4242);
	/* -m state --state INVALID -j DROP */
	m = rule_start(&x);
	expr_match(m, "state", 0, &st, sizeof(st));
	expr_counter(m, 3);
	expr_verdict(m, NF_DROP);
	CU_ASSERT_EQUAL(rule_end(m, x, true, &p), 1);
	CU_ASSERT_EQUAL(p, 3);
	/* --ctstate NEW: not the rule */
	m = rule_start(&x);
	expr_match(m, "conntrack", 3, &nw, sizeof(nw));
	expr_counter(m, 1);
	expr_verdict(m, NF_DROP);
	CU_ASSERT_EQUAL(rule_end(m, x, true, &p), 0);
	/* -j ACCEPT: not a drop rule, unless the drop is not asked for */
	m = rule_start(&x);
	expr_match(m, "conntrack", 3, &inv, sizeof(inv));
	expr_counter(m, 1);
	expr_verdict(m, NF_ACCEPT);
	CU_ASSERT_EQUAL(rule_end(m, x, true, &p), 0);
	/* nft: ct state invalid counter drop */
	m = rule_start(&x);
	expr_ct_state(m, NF_CT_STATE_INVALID_BIT, NFT_CMP_NEQ, 0);
	expr_counter(m, 17);
	expr_verdict(m, NF_DROP);
	CU_ASSERT_EQUAL(rule_end(m, x, false, &p), 1);
	CU_ASSERT_EQUAL(p, 17);
	/* ct state invalid counter (no verdict): counted without need_drop only */
	m = rule_start(&x);
	expr_ct_state(m, NF_CT_STATE_INVALID_BIT, NFT_CMP_NEQ, 0);
	expr_counter(m, 18);
	CU_ASSERT_EQUAL(rule_end(m, x, false, &p), 1);
	CU_ASSERT_EQUAL(p, 18);
	m = rule_start(&x);
	expr_ct_state(m, NF_CT_STATE_INVALID_BIT, NFT_CMP_NEQ, 0);
	expr_counter(m, 18);
	CU_ASSERT_EQUAL(rule_end(m, x, true, &p), 0);
	/* ct state new (mask 8): not INVALID */
	m = rule_start(&x);
	expr_ct_state(m, NF_CT_STATE_BIT(IP_CT_NEW), NFT_CMP_NEQ, 0);
	expr_counter(m, 19);
	expr_verdict(m, NF_DROP);
	CU_ASSERT_EQUAL(rule_end(m, x, false, &p), 0);
	/* ct state invalid drop, no counter: nothing to read */
	m = rule_start(&x);
	expr_ct_state(m, NF_CT_STATE_INVALID_BIT, NFT_CMP_NEQ, 0);
	expr_verdict(m, NF_DROP);
	CU_ASSERT_EQUAL(rule_end(m, x, false, &p), 0);
	CU_ASSERT_EQUAL(p, 18);
}

/* --- the cell's lines ------------------------------------------------------------------- */

static void meta_lines(void)
{
	struct counters c = {.have_spec = true, .nfacct = "acct", .n_ns = 3};
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	c.ns[0] = "p-nodeA", c.ns[1] = "p-nodeB", c.ns[2] = "p-nodeC";
	/* node A: 10 -> 10, nfacct 4 -> 6 */
	c.drop[0][0] = 10, c.drop[1][0] = 10, c.drop_ok[0][0] = c.drop_ok[1][0] = true;
	c.acct[0][0] = 4, c.acct[1][0] = 6, c.acct_ok[0][0] = c.acct_ok[1][0] = true;
	/* node B: no reading before, 3 after; nfacct only after */
	c.drop[1][1] = 3, c.drop_ok[1][1] = true;
	c.acct[1][1] = 9, c.acct_ok[1][1] = true;
	/* node C: 5 before, the rule gone after */
	c.drop[0][2] = 5, c.drop_ok[0][2] = true;
	CU_ASSERT_EQUAL(counters_meta_lines(&c, f), 0);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "drop.p-nodeA=0\nnfacct.p-nodeA=2\ndrop.p-nodeB=3\n");
}

void register_counters_tests(void)
{
	CU_pSuite s = suite_add("counters");

	test_add(s, "--count specs: parsed, the malformed refused", spec_parse);
	test_add(s, "x_tables ipv4 entries: the chain's last INVALID DROP rule", ipt_walk4);
	test_add(s, "x_tables ipv6 entries: the same over ip6t_entry", ipt_walk6);
	test_add(s, "x_tables entries with bad offsets: malformed", ipt_walk_malformed);
	test_add(s, "nf_tables rules: compat and native INVALID matches, counter, drop", nft_rules);
	test_add(s, "meta.kv lines: drop where the rule is at the end, nfacct both times",
		 meta_lines);
}
