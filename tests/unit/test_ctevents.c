/* ct_event_format against conntrack -E's own lines: ctnetlink event messages built here as
 * the kernel sends them (ctnetlink_conntrack_event), each expected line copied from a cell's
 * ct-events.txt written by conntrack v1.4.7 (-E -p tcp -e NEW,DESTROY -o timestamp). */
#include "live/ct.h"
#include "tests.h"

#include <arpa/inet.h>
#include <netinet/in.h> /* before the linux/ headers */
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ev_tuple {
	const char *src, *dst;
	uint16_t sport, dport;
};

static void put_tuple(struct nl_msg *m, int type, const struct ev_tuple *t, int family)
{
	unsigned char a[16], b[16];
	const int len = family == AF_INET ? 4 : 16;
	struct nlattr *tu = nla_nest_start(m, type), *ip, *pr;

	inet_pton(family, t->src, a);
	inet_pton(family, t->dst, b);
	ip = nla_nest_start(m, CTA_TUPLE_IP);
	nla_put(m, family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, len, a);
	nla_put(m, family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST, len, b);
	nla_nest_end(m, ip);
	pr = nla_nest_start(m, CTA_TUPLE_PROTO);
	nla_put_u8(m, CTA_PROTO_NUM, IPPROTO_TCP);
	nla_put_u16(m, CTA_PROTO_SRC_PORT, htons(t->sport));
	nla_put_u16(m, CTA_PROTO_DST_PORT, htons(t->dport));
	nla_nest_end(m, pr);
	nla_nest_end(m, tu);
}

/* an event message: type (IPCTNL_MSG_CT_NEW or _DELETE), flags, the sender's port id (0:
 * the kernel itself), the entry's attributes (timeout < 0: none, as on an expiry's DESTROY) */
static struct nl_msg *event(uint8_t type, int flags, uint32_t portid, int family,
			    const struct ev_tuple *orig, const struct ev_tuple *reply,
			    uint32_t status, long timeout, int state, uint8_t proto)
{
	struct nl_msg *m = nlmsg_alloc_simple((NFNL_SUBSYS_CTNETLINK << 8) | type, flags);
	struct nfgenmsg g = {.nfgen_family = (uint8_t)family, .version = NFNETLINK_V0};
	struct nlattr *pi, *tcp;

	nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO);
	nlmsg_hdr(m)->nlmsg_pid = portid;
	put_tuple(m, CTA_TUPLE_ORIG, orig, family);
	put_tuple(m, CTA_TUPLE_REPLY, reply, family);
	if (proto != IPPROTO_TCP) { /* the protocol rewritten in both tuples' last nest */
		struct nlattr *a = nlmsg_find_attr(nlmsg_hdr(m), sizeof(g), CTA_TUPLE_ORIG);
		struct nlattr *p = nla_find(nla_data(a), nla_len(a), CTA_TUPLE_PROTO);

		*(uint8_t *)nla_data(nla_find(nla_data(p), nla_len(p), CTA_PROTO_NUM)) = proto;
	}
	nla_put_u32(m, CTA_STATUS, htonl(status));
	if (timeout >= 0)
		nla_put_u32(m, CTA_TIMEOUT, htonl((uint32_t)timeout));
	if (state >= 0) {
		pi = nla_nest_start(m, CTA_PROTOINFO);
		tcp = nla_nest_start(m, CTA_PROTOINFO_TCP);
		nla_put_u8(m, CTA_PROTOINFO_TCP_STATE, (uint8_t)state);
		nla_nest_end(m, tcp);
		nla_nest_end(m, pi);
	}
	return m;
}

static const char *fmt(struct nl_msg *m, long sec, long usec, int *rc)
{
	static char line[1024];
	const struct timespec ts = {.tv_sec = sec, .tv_nsec = usec * 1000};

	*rc = ct_event_format(nlmsg_hdr(m), &ts, line, sizeof(line));
	nlmsg_free(m);
	return line;
}

#define NEW_FLAGS (NLM_F_CREATE | NLM_F_EXCL)

static void conntrack_lines(void)
{
	const struct ev_tuple c2v = {"198.18.0.1", "198.19.0.10", 34738, 80},
			      b2c = {"198.18.2.10", "198.18.0.1", 8080, 34738},
			      c2b = {"198.18.0.1", "198.18.2.10", 34738, 8080};
	const struct ev_tuple c2v6 = {"2001:2:0:1::a", "2001:2:0:100::10", 60306, 80},
			      b2c6 = {"2001:2:0:2::a", "2001:2:0:1::a", 8080, 60306};
	int rc;
	const char *l;

	/* the client's SYN through node A: NEW, unreplied, 120 s in SYN_SENT */
	l = fmt(event(IPCTNL_MSG_CT_NEW, NEW_FLAGS, 0, AF_INET, &c2v, &b2c, 0, 120, 1, IPPROTO_TCP),
		1796632714, 755455, &rc);
	CU_ASSERT_STRING_EQUAL(l, "[1796632714.755455]\t    [NEW] tcp      6 120 SYN_SENT "
				  "src=198.18.0.1 dst=198.19.0.10 sport=34738 dport=80 [UNREPLIED] "
				  "src=198.18.2.10 dst=198.18.0.1 sport=8080 dport=34738");
	CU_ASSERT_EQUAL(rc, (int)strlen(l));
	/* the backend's segment picked up after the flush: NEW, from the backend's side */
	l = fmt(event(IPCTNL_MSG_CT_NEW, NEW_FLAGS, 0, AF_INET, &b2c, &c2b, 0, 300, 3, IPPROTO_TCP),
		1796632715, 131005, &rc);
	CU_ASSERT_STRING_EQUAL(l,
			       "[1796632715.131005]\t    [NEW] tcp      6 300 ESTABLISHED "
			       "src=198.18.2.10 dst=198.18.0.1 sport=8080 dport=34738 [UNREPLIED] "
			       "src=198.18.0.1 dst=198.18.2.10 sport=34738 dport=8080");
	/* the flush's DESTROY, sent by a process (its port id): seen reply, assured */
	l = fmt(event(IPCTNL_MSG_CT_DELETE, 0, 1174433823u, AF_INET, &c2v, &b2c,
		      IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED, 431999, 3, IPPROTO_TCP),
		1796632715, 126674, &rc);
	CU_ASSERT_STRING_EQUAL(l, "[1796632715.126674]\t[DESTROY] tcp      6 431999 ESTABLISHED "
				  "src=198.18.0.1 dst=198.19.0.10 sport=34738 dport=80 "
				  "src=198.18.2.10 dst=198.18.0.1 sport=8080 dport=34738 [ASSURED] "
				  "[USERSPACE] portid=1174433823");
	/* IPv6, the expiry's DESTROY (no timeout left), a stamp's microseconds padded */
	l = fmt(event(IPCTNL_MSG_CT_DELETE, 0, 0, AF_INET6, &c2v6, &b2c6,
		      IPS_SEEN_REPLY | IPS_ASSURED, -1, 3, IPPROTO_TCP),
		1796619628, 14979, &rc);
	CU_ASSERT_STRING_EQUAL(l, "[1796619628.014979]\t[DESTROY] tcp      6 ESTABLISHED "
				  "src=2001:2:0:1::a dst=2001:2:0:100::10 sport=60306 dport=80 "
				  "src=2001:2:0:2::a dst=2001:2:0:1::a sport=8080 dport=60306 "
				  "[ASSURED]");
}

/* what conntrack -E -e NEW,DESTROY -p tcp leaves out; a change from this process names it */
static void left_out_and_progname(void)
{
	const struct ev_tuple o = {"10.0.0.1", "10.0.0.2", 1, 2},
			      r = {"10.0.0.2", "10.0.0.1", 2, 1};
	char want[128];
	int rc;
	const char *l;

	fmt(event(IPCTNL_MSG_CT_NEW, 0, 0, AF_INET, &o, &r, 0, 120, 3, IPPROTO_TCP), 1, 0, &rc);
	CU_ASSERT_EQUAL(rc, 0); /* an update */
	fmt(event(IPCTNL_MSG_CT_NEW, NEW_FLAGS, 0, AF_INET, &o, &r, 0, 30, -1, IPPROTO_UDP), 1, 0,
	    &rc);
	CU_ASSERT_EQUAL(rc, 0); /* not TCP */
	l = fmt(event(IPCTNL_MSG_CT_DELETE, 0, (uint32_t)getpid(), AF_INET, &o, &r, IPS_SEEN_REPLY,
		      10, 3, IPPROTO_TCP),
		1, 0, &rc);
	snprintf(want, sizeof(want), " [USERSPACE] portid=%u progname=", (unsigned)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(l, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(l, "unit-tests"));
	/* cut at the buffer, never past it */
	{
		struct nl_msg *m =
		    event(IPCTNL_MSG_CT_NEW, NEW_FLAGS, 0, AF_INET, &o, &r, 0, 120, 1, IPPROTO_TCP);
		char small[20];
		const struct timespec ts = {0};

		rc = ct_event_format(nlmsg_hdr(m), &ts, small, sizeof(small));
		nlmsg_free(m);
		CU_ASSERT_EQUAL(rc, (int)sizeof(small) - 1);
		CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
	}
}

void register_ctevents_tests(void)
{
	CU_pSuite s = suite_add("ctevents");

	test_add(s, "conntrack -E's lines", conntrack_lines);
	test_add(s, "left out, progname, cut", left_out_and_progname);
}
