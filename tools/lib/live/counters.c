#include "counters.h"
#include "base/err.h"
#include "ct.h"
#include "netns.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h> /* before the linux/ headers: theirs would clash with it */
#include <netlink/msg.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_acct.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* --- specs ----------------------------------------------------------------------------- */

static int family_parse(const char *s, size_t n, bool inet_ok, int *family)
{
	if (n == 2 && !strncmp(s, "ip", 2))
		*family = NFPROTO_IPV4;
	else if (n == 3 && !strncmp(s, "ip6", 3))
		*family = NFPROTO_IPV6;
	else if (inet_ok && n == 4 && !strncmp(s, "inet", 4))
		*family = NFPROTO_INET;
	else
		return -1;
	return 0;
}

/* copies the field [s, s+n) into dst (a name: not empty, no ':', room for it) */
static int field_copy(char *dst, size_t size, const char *s, size_t n)
{
	if (!n || n >= size || memchr(s, ':', n))
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int counter_spec_parse(const char *s, struct counter_spec *spec, char **err)
{
	const char *fam, *rest, *colon;

	memset(spec, 0, sizeof(*spec));
	if (!strncmp(s, "ipt-legacy:", 11))
		spec->kind = COUNTER_IPT_LEGACY, fam = s + 11;
	else if (!strncmp(s, "ipt-nft:", 8))
		spec->kind = COUNTER_IPT_NFT, fam = s + 8;
	else if (!strncmp(s, "nft:", 4))
		spec->kind = COUNTER_NFT, fam = s + 4;
	else
		return err_set(err, "expected ipt-legacy:FAMILY:CHAIN, ipt-nft:FAMILY:CHAIN or "
				    "nft:FAMILY:TABLE:CHAIN");
	colon = strchr(fam, ':');
	if (!colon ||
	    family_parse(fam, (size_t)(colon - fam), spec->kind == COUNTER_NFT, &spec->family) < 0)
		return err_set(err, "FAMILY is ip or ip6 (or inet, with nft:)");
	rest = colon + 1;
	if (spec->kind != COUNTER_NFT) {
		strcpy(spec->table, "filter");
		if (field_copy(spec->chain, sizeof(spec->chain), rest, strlen(rest)) < 0)
			return err_set(err, "CHAIN: a name of 1..63 characters");
		return 0;
	}
	colon = strchr(rest, ':');
	if (!colon ||
	    field_copy(spec->table, sizeof(spec->table), rest, (size_t)(colon - rest)) < 0 ||
	    field_copy(spec->chain, sizeof(spec->chain), colon + 1, strlen(colon + 1)) < 0)
		return err_set(err, "nft:FAMILY:TABLE:CHAIN, names of 1..63 characters");
	return 0;
}

/* --- x_tables (iptables-legacy) -------------------------------------------------------- */

/* where the fields of an ipt_entry or an ip6t_entry are */
struct xt_layout {
	size_t head; /* sizeof the entry: its matches start there */
	size_t target_offset, next_offset, counters;
};

static const struct xt_layout ipt_layout = {
    sizeof(struct ipt_entry), offsetof(struct ipt_entry, target_offset),
    offsetof(struct ipt_entry, next_offset), offsetof(struct ipt_entry, counters)};
static const struct xt_layout ip6t_layout = {
    sizeof(struct ip6t_entry), offsetof(struct ip6t_entry, target_offset),
    offsetof(struct ip6t_entry, next_offset), offsetof(struct ip6t_entry, counters)};

static uint16_t get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* a conntrack (--ctstate) or state (--state) match of INVALID, not inverted: its data,
 * LEN bytes, as the kernel keeps it (the same blob nft's compat match carries) */
static bool xt_match_invalid(const char *name, unsigned rev, const unsigned char *data, size_t len)
{
	if (!strcmp(name, "state")) {
		struct xt_state_info si;

		if (len < sizeof(si))
			return false;
		memcpy(&si, data, sizeof(si));
		return si.statemask & XT_STATE_INVALID;
	}
	if (strcmp(name, "conntrack"))
		return false;
	if (rev == 1) {
		struct xt_conntrack_mtinfo1 m;

		if (len < sizeof(m))
			return false;
		memcpy(&m, data, sizeof(m));
		return (m.match_flags & XT_CONNTRACK_STATE) &&
		       !(m.invert_flags & XT_CONNTRACK_STATE) &&
		       (m.state_mask & XT_CONNTRACK_STATE_INVALID);
	}
	if (rev == 2 || rev == 3) {
		/* rev 3 only adds fields after rev 2's */
		struct xt_conntrack_mtinfo2 m;

		if (len < sizeof(m))
			return false;
		memcpy(&m, data, sizeof(m));
		return (m.match_flags & XT_CONNTRACK_STATE) &&
		       !(m.invert_flags & XT_CONNTRACK_STATE) &&
		       (m.state_mask & XT_CONNTRACK_STATE_INVALID);
	}
	return false;
}

/* an extension's header (xt_entry_match and xt_entry_target share it): size, name, rev */
static int xt_ext(const unsigned char *p, size_t room, char name[XT_EXTENSION_MAXNAMELEN + 1],
		  unsigned *rev, size_t *size)
{
	const size_t hdr = sizeof(struct xt_entry_match);

	if (room < hdr)
		return -1;
	*size = get16(p);
	if (*size < hdr || *size > room)
		return -1;
	memcpy(name, p + 2, XT_EXTENSION_MAXNAMELEN);
	name[XT_EXTENSION_MAXNAMELEN] = '\0';
	*rev = p[2 + XT_EXTENSION_MAXNAMELEN];
	return 0;
}

int counter_ipt_walk(const void *entries, size_t size, bool ipv6, unsigned valid_hooks,
		     const unsigned hook_entry[5], const char *chain, uint64_t *pkts)
{
	static const char *const hooks[5] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
					     "POSTROUTING"};
	const struct xt_layout *l = ipv6 ? &ip6t_layout : &ipt_layout;
	const unsigned char *blob = entries;
	char cur[XT_FUNCTION_MAXNAMELEN + 1] = "";
	int found = 0;

	for (size_t off = 0; off < size;) {
		const unsigned char *e = blob + off;
		size_t room = size - off, toff, next, m, msize, tsize;
		char name[XT_EXTENSION_MAXNAMELEN + 1];
		unsigned rev;
		bool invalid = false;

		if (room < l->head)
			return -1;
		toff = get16(e + l->target_offset);
		next = get16(e + l->next_offset);
		if (toff < l->head || next > room || toff + sizeof(struct xt_entry_target) > next)
			return -1;
		for (int h = 0; h < 5; h++)
			if ((valid_hooks & (1u << h)) && hook_entry[h] == off)
				snprintf(cur, sizeof(cur), "%s", hooks[h]);
		for (m = l->head; m < toff; m += msize) {
			if (xt_ext(e + m, toff - m, name, &rev, &msize) < 0)
				return -1;
			if (xt_match_invalid(name, rev, e + m + sizeof(struct xt_entry_match),
					     msize - sizeof(struct xt_entry_match)))
				invalid = true;
		}
		if (xt_ext(e + toff, next - toff, name, &rev, &tsize) < 0)
			return -1;
		if (!strcmp(name, XT_ERROR_TARGET)) {
			/* a user chain's head: the chain's name is the target's data */
			size_t n = tsize - sizeof(struct xt_entry_target);

			if (n > XT_FUNCTION_MAXNAMELEN)
				n = XT_FUNCTION_MAXNAMELEN;
			memcpy(cur, e + toff + sizeof(struct xt_entry_target), n);
			cur[n] = '\0';
		} else if (invalid && !strcmp(name, XT_STANDARD_TARGET) && !strcmp(cur, chain) &&
			   tsize >= sizeof(struct xt_standard_target)) {
			int verdict;
			struct xt_counters cnt;

			memcpy(&verdict, e + toff + sizeof(struct xt_entry_target),
			       sizeof(verdict));
			if (verdict == -NF_DROP - 1) {
				memcpy(&cnt, e + l->counters, sizeof(cnt));
				*pkts = cnt.pcnt;
				found = 1;
			}
		}
		if (!next)
			return -1;
		off += next;
	}
	return found;
}

static int ipt_legacy_read(const struct counter_spec *spec, uint64_t *pkts, char **err)
{
	const bool v6 = spec->family == NFPROTO_IPV6;
	const int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	/* ipt_getinfo and ip6t_getinfo, ipt_get_entries and ip6t_get_entries: one layout */
	struct ipt_getinfo info;
	struct ipt_get_entries *ge = NULL;
	const size_t head = offsetof(struct ipt_get_entries, entrytable);
	socklen_t len;
	int fd, rc = -1;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return err_errno(err, errno, "x_tables socket");
	for (int tries = 0; tries < 3; tries++) {
		memset(&info, 0, sizeof(info));
		strcpy(info.name, "filter");
		len = sizeof(info);
		if (getsockopt(fd, level, v6 ? IP6T_SO_GET_INFO : IPT_SO_GET_INFO, &info, &len) <
		    0) {
			/* no filter table (or no x_tables at all): no rule */
			rc = errno == ENOENT || errno == ENOPROTOOPT
				 ? 0
				 : err_errno(err, errno, "%s: get info",
					     v6 ? "ip6tables" : "iptables");
			break;
		}
		free(ge);
		ge = calloc(1, head + info.size);
		if (!ge) {
			rc = err_set(err, "out of memory");
			break;
		}
		strcpy(ge->name, "filter");
		ge->size = info.size;
		len = (socklen_t)(head + info.size);
		if (getsockopt(fd, level, v6 ? IP6T_SO_GET_ENTRIES : IPT_SO_GET_ENTRIES, ge, &len) <
		    0) {
			if (errno == EAGAIN)
				continue; /* the table changed between the two calls */
			rc =
			    err_errno(err, errno, "%s: get entries", v6 ? "ip6tables" : "iptables");
			break;
		}
		rc = counter_ipt_walk((const char *)ge + head, ge->size, v6, info.valid_hooks,
				      info.hook_entry, spec->chain, pkts);
		if (rc < 0)
			rc = err_set(err, "%s: malformed entries", v6 ? "ip6tables" : "iptables");
		break;
	}
	free(ge);
	close(fd);
	return rc;
}

/* --- nf_tables (iptables-nft, nft) ----------------------------------------------------- */

static uint32_t be32_attr(const struct nlattr *a)
{
	uint32_t v = 0;

	if (a && nla_len(a) >= 4)
		memcpy(&v, nla_data(a), 4);
	return be32toh(v);
}

static uint64_t be64_attr(const struct nlattr *a)
{
	uint64_t v = 0;

	if (a && nla_len(a) >= 8)
		memcpy(&v, nla_data(a), 8);
	return be64toh(v);
}

/* a NFTA_DATA_VALUE of 1 to 4 bytes, as the register holds it (native order) */
static int data_u32(const struct nlattr *nest, uint32_t *v)
{
	struct nlattr *tb[NFTA_DATA_MAX + 1];

	*v = 0;
	if (!nest || nla_parse_nested(tb, NFTA_DATA_MAX, (struct nlattr *)nest, NULL) < 0 ||
	    !tb[NFTA_DATA_VALUE] || nla_len(tb[NFTA_DATA_VALUE]) < 1 ||
	    nla_len(tb[NFTA_DATA_VALUE]) > 4)
		return -1;
	memcpy(v, nla_data(tb[NFTA_DATA_VALUE]), (size_t)nla_len(tb[NFTA_DATA_VALUE]));
	return 0;
}

static bool attr_is(const struct nlattr *a, const char *s)
{
	return a && nla_strcmp((struct nlattr *)a, s) == 0;
}

/* what the expressions of one rule said so far */
struct nft_scan {
	int ct_reg, masked_reg; /* the register holding ct state, and it masked (-1: none) */
	bool invalid, counter, drop;
	uint64_t pkts;
};

static int nft_expr(struct nft_scan *s, const struct nlattr *elem)
{
	struct nlattr *te[NFTA_EXPR_MAX + 1], *d[16 + 1];
	const struct nlattr *name;

	if (nla_parse_nested(te, NFTA_EXPR_MAX, (struct nlattr *)elem, NULL) < 0 ||
	    !te[NFTA_EXPR_NAME])
		return -1;
	name = te[NFTA_EXPR_NAME];
	memset(d, 0, sizeof(d));
	if (te[NFTA_EXPR_DATA] && nla_parse_nested(d, 16, te[NFTA_EXPR_DATA], NULL) < 0)
		return -1;
	if (attr_is(name, "counter")) {
		s->counter = true;
		s->pkts = be64_attr(d[NFTA_COUNTER_PACKETS]);
	} else if (attr_is(name, "ct")) {
		/* ct load state => reg R */
		if (d[NFTA_CT_DREG] && be32_attr(d[NFTA_CT_KEY]) == NFT_CT_STATE)
			s->ct_reg = (int)be32_attr(d[NFTA_CT_DREG]);
	} else if (attr_is(name, "bitwise")) {
		uint32_t mask, x;

		if (s->ct_reg >= 0 && d[NFTA_BITWISE_SREG] &&
		    (int)be32_attr(d[NFTA_BITWISE_SREG]) == s->ct_reg &&
		    data_u32(d[NFTA_BITWISE_MASK], &mask) == 0 &&
		    data_u32(d[NFTA_BITWISE_XOR], &x) == 0 && (mask & NF_CT_STATE_INVALID_BIT) &&
		    !(x & NF_CT_STATE_INVALID_BIT))
			s->masked_reg = (int)be32_attr(d[NFTA_BITWISE_DREG]);
	} else if (attr_is(name, "cmp")) {
		uint32_t v;
		int reg = (int)be32_attr(d[NFTA_CMP_SREG]);
		uint32_t op = be32_attr(d[NFTA_CMP_OP]);

		if (!d[NFTA_CMP_SREG] || data_u32(d[NFTA_CMP_DATA], &v) < 0)
			return 0;
		/* ct state invalid: (state & invalid) != 0; ct state == invalid */
		if ((reg == s->masked_reg && op == NFT_CMP_NEQ && v == 0) ||
		    ((reg == s->masked_reg || reg == s->ct_reg) && op == NFT_CMP_EQ &&
		     v == NF_CT_STATE_INVALID_BIT))
			s->invalid = true;
	} else if (attr_is(name, "match")) {
		if (d[NFTA_MATCH_NAME] && d[NFTA_MATCH_INFO]) {
			char mname[XT_EXTENSION_MAXNAMELEN + 1];

			nla_strlcpy(mname, d[NFTA_MATCH_NAME], sizeof(mname));
			if (xt_match_invalid(mname, be32_attr(d[NFTA_MATCH_REV]),
					     nla_data(d[NFTA_MATCH_INFO]),
					     (size_t)nla_len(d[NFTA_MATCH_INFO])))
				s->invalid = true;
		}
	} else if (attr_is(name, "immediate")) {
		struct nlattr *dv[NFTA_DATA_MAX + 1], *vv[NFTA_VERDICT_MAX + 1];

		if (d[NFTA_IMMEDIATE_DREG] &&
		    be32_attr(d[NFTA_IMMEDIATE_DREG]) == NFT_REG_VERDICT &&
		    d[NFTA_IMMEDIATE_DATA] &&
		    nla_parse_nested(dv, NFTA_DATA_MAX, d[NFTA_IMMEDIATE_DATA], NULL) == 0 &&
		    dv[NFTA_DATA_VERDICT] &&
		    nla_parse_nested(vv, NFTA_VERDICT_MAX, dv[NFTA_DATA_VERDICT], NULL) == 0 &&
		    vv[NFTA_VERDICT_CODE] && (int32_t)be32_attr(vv[NFTA_VERDICT_CODE]) == NF_DROP)
			s->drop = true;
	}
	return 0;
}

/* as counter_nft_rule, and only for the rule of TABLE and CHAIN (NULL: any) */
static int nft_rule_in(const void *attrs, size_t len, const char *table, const char *chain,
		       bool need_drop, uint64_t *pkts)
{
	struct nlattr *tb[NFTA_RULE_MAX + 1], *e;
	struct nft_scan s = {.ct_reg = -1, .masked_reg = -1};
	int rem;

	if (nla_parse(tb, NFTA_RULE_MAX, (struct nlattr *)attrs, (int)len, NULL) < 0)
		return -1;
	if ((table && !attr_is(tb[NFTA_RULE_TABLE], table)) ||
	    (chain && !attr_is(tb[NFTA_RULE_CHAIN], chain)) || !tb[NFTA_RULE_EXPRESSIONS])
		return 0;
	nla_for_each_nested(e, tb[NFTA_RULE_EXPRESSIONS], rem)
	{
		if (nla_type(e) == NFTA_LIST_ELEM && nft_expr(&s, e) < 0)
			return -1;
	}
	if (!s.invalid || !s.counter || (need_drop && !s.drop))
		return 0;
	*pkts = s.pkts;
	return 1;
}

int counter_nft_rule(const void *attrs, size_t len, bool need_drop, uint64_t *pkts)
{
	return nft_rule_in(attrs, len, NULL, NULL, need_drop, pkts);
}

static struct nl_sock *nfnl_sock(char **err)
{
	struct nl_sock *sk = ct_nfnl_open(err);

	if (!sk)
		return NULL;
	nl_socket_disable_auto_ack(sk);
	/* bounded: an answer that never comes is an error after a second, not a hang */
	if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO,
		       &(struct timeval){.tv_sec = 1}, sizeof(struct timeval)) < 0) {
		err_errno(err, errno, "setting the nfnetlink socket's timeout");
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

struct rule_ctx {
	const struct counter_spec *spec;
	bool need_drop;
	int found, bad;
	uint64_t pkts;
};

static int on_rule(struct nl_msg *msg, void *arg)
{
	struct rule_ctx *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	uint64_t pkts;
	int rc;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWRULE)
		return NL_SKIP;
	rc = nft_rule_in(nlmsg_attrdata(nlh, sizeof(struct nfgenmsg)),
			 (size_t)nlmsg_attrlen(nlh, sizeof(struct nfgenmsg)), c->spec->table,
			 c->spec->chain, c->need_drop, &pkts);
	if (rc < 0)
		c->bad = 1;
	else if (rc > 0)
		c->found = 1, c->pkts = pkts; /* the last one, as the tools' parsers take it */
	return NL_OK;
}

static int nft_read(const struct counter_spec *spec, uint64_t *pkts, char **err)
{
	struct rule_ctx c = {.spec = spec, .need_drop = spec->kind == COUNTER_IPT_NFT};
	struct nl_sock *sk = nfnl_sock(err);
	int rc = -1;

	if (!sk)
		return -1;
	for (int tries = 0; tries < 3; tries++) {
		struct nl_msg *msg = nfnlmsg_alloc_simple(NFNL_SUBSYS_NFTABLES, NFT_MSG_GETRULE,
							  NLM_F_DUMP, (uint8_t)spec->family, 0);

		c.found = c.bad = 0;
		if (!msg || nla_put_string(msg, NFTA_RULE_TABLE, spec->table) < 0 ||
		    nla_put_string(msg, NFTA_RULE_CHAIN, spec->chain) < 0) {
			nlmsg_free(msg);
			rc = err_set(err, "building an nf_tables query: out of room");
			break;
		}
		nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_rule, &c);
		rc = nl_send_auto(sk, msg);
		nlmsg_free(msg);
		if (rc >= 0)
			rc = nl_recvmsgs_default(sk);
		if (rc == -NLE_DUMP_INTR)
			continue; /* the ruleset changed mid-dump: again */
		if (rc == -NLE_OBJ_NOTFOUND)
			rc = 0; /* no such table or chain */
		else if (rc < 0)
			rc = err_set(err, "nf_tables rules of %s %s: %s", spec->table, spec->chain,
				     nl_geterror(rc));
		else if (c.bad)
			rc = err_set(err, "nf_tables rules of %s %s: malformed answer", spec->table,
				     spec->chain);
		else
			rc = c.found;
		break;
	}
	if (rc > 0)
		*pkts = c.pkts;
	nl_socket_free(sk);
	return rc;
}

int counter_read(const struct counter_spec *spec, uint64_t *pkts, char **err)
{
	return spec->kind == COUNTER_IPT_LEGACY ? ipt_legacy_read(spec, pkts, err)
						: nft_read(spec, pkts, err);
}

/* --- nfacct ---------------------------------------------------------------------------- */

struct acct_ctx {
	int found;
	uint64_t pkts;
};

static int on_acct(struct nl_msg *msg, void *arg)
{
	struct acct_ctx *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[NFACCT_MAX + 1];

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFNL_MSG_ACCT_NEW &&
	    nlmsg_parse(nlh, sizeof(struct nfgenmsg), tb, NFACCT_MAX, NULL) == 0 &&
	    tb[NFACCT_PKTS]) {
		c->pkts = be64_attr(tb[NFACCT_PKTS]);
		c->found = 1;
	}
	/* the answer is marked NLM_F_MULTI, with no NLMSG_DONE after it */
	return NL_STOP;
}

int counter_nfacct_read(const char *name, uint64_t *pkts, char **err)
{
	struct acct_ctx c = {0};
	struct nl_sock *sk;
	struct nl_msg *msg;
	int rc;

	if (strlen(name) >= NFACCT_NAME_MAX)
		return err_set(err, "nfacct name '%s' is too long", name);
	sk = nfnl_sock(err);
	if (!sk)
		return -1;
	msg = nfnlmsg_alloc_simple(NFNL_SUBSYS_ACCT, NFNL_MSG_ACCT_GET, 0, AF_UNSPEC, 0);
	if (!msg || nla_put_string(msg, NFACCT_NAME, name) < 0) {
		nlmsg_free(msg);
		nl_socket_free(sk);
		return err_set(err, "building an nfacct query: out of room");
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_acct, &c);
	rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (rc >= 0)
		rc = nl_recvmsgs_default(sk);
	if (rc == -NLE_OBJ_NOTFOUND)
		rc = 0; /* no such object */
	else if (rc < 0)
		rc = err_set(err, "nfacct %s: %s", name, nl_geterror(rc));
	else
		rc = c.found;
	if (rc > 0)
		*pkts = c.pkts;
	nl_socket_free(sk);
	return rc;
}

/* --- the injector's rounds ------------------------------------------------------------- */

static void keep_error(struct counters *c, const char *ns, char *e)
{
	if (!c->error && e && asprintf(&c->error, "%s: %s", ns, e) < 0)
		c->error = NULL;
	free(e);
}

void counters_read(struct counters *c, bool after, int home_fd)
{
	const int r = after ? 1 : 0;

	if (!c->have_spec && !c->nfacct)
		return;
	for (int i = 0; i < c->n_ns; i++) {
		char *e = NULL;

		c->drop_ok[r][i] = c->acct_ok[r][i] = false;
		if (netns_enter(c->ns[i], &e) < 0) {
			keep_error(c, c->ns[i], e);
			continue;
		}
		if (c->have_spec) {
			int rc = counter_read(&c->spec, &c->drop[r][i], &e);

			c->drop_ok[r][i] = rc > 0;
			if (rc < 0)
				keep_error(c, c->ns[i], e), e = NULL;
		}
		if (c->nfacct) {
			int rc = counter_nfacct_read(c->nfacct, &c->acct[r][i], &e);

			c->acct_ok[r][i] = rc > 0;
			if (rc < 0)
				keep_error(c, c->ns[i], e), e = NULL;
		}
	}
	c->read[r] = true;
	netns_set(home_fd, "home", NULL);
}

int counters_meta_lines(const struct counters *c, FILE *f)
{
	for (int i = 0; i < c->n_ns; i++) {
		if (c->have_spec && c->drop_ok[1][i])
			fprintf(f, "drop.%s=%lld\n", c->ns[i],
				c->drop_ok[0][i] ? (long long)(c->drop[1][i] - c->drop[0][i])
						 : (long long)c->drop[1][i]);
		if (c->nfacct && c->acct_ok[0][i] && c->acct_ok[1][i])
			fprintf(f, "nfacct.%s=%lld\n", c->ns[i],
				(long long)(c->acct[1][i] - c->acct[0][i]));
	}
	/* a reading the kernel refused (not an absence): said, not taken for "no rule" */
	if (c->error && !strchr(c->error, '\n'))
		fprintf(f, "counters.error=%s\n", c->error);
	return ferror(f) ? -1 : 0;
}

void counters_free(struct counters *c)
{
	free(c->error);
	c->error = NULL;
}
