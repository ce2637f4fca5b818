#include "ct.h"
#include "base/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netlink/addr.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdarg.h>
#include <time.h>
#include <linux/netfilter/nf_conntrack_common.h>

static int nladdr_to_addr(struct nl_addr *na, struct ctr_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!na)
		return -1;
	if (nl_addr_get_family(na) == AF_INET && nl_addr_get_len(na) == 4)
		out->family = AF_INET;
	else if (nl_addr_get_family(na) == AF_INET6 && nl_addr_get_len(na) == 16)
		out->family = AF_INET6;
	else
		return -1;
	memcpy(out->u.bytes, nl_addr_get_binary_addr(na), nl_addr_get_len(na));
	return 0;
}

static int ct_tuple(struct nfnl_ct *ct, int repl, struct ctr_tuple *t)
{
	if (nladdr_to_addr(nfnl_ct_get_src(ct, repl), &t->src.addr) < 0 ||
	    nladdr_to_addr(nfnl_ct_get_dst(ct, repl), &t->dst.addr) < 0)
		return -1;
	t->src.port = nfnl_ct_get_src_port(ct, repl);
	t->dst.port = nfnl_ct_get_dst_port(ct, repl);
	return 0;
}

struct nl_sock *ct_nfnl_open(char **err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk) {
		err_set(err, "nl_socket_alloc failed");
		return NULL;
	}
	rc = nfnl_connect(sk);
	if (rc < 0) {
		err_set(err, "connecting to nfnetlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

struct get_ctx {
	struct ct_flow *flow;
	int found;
};

static int get_one(struct nl_msg *msg, void *arg)
{
	struct get_ctx *c = arg;
	struct nfnl_ct *ct = NULL;

	if (nfnlmsg_ct_parse(nlmsg_hdr(msg), &ct) < 0)
		return NL_SKIP;
	if (nfnl_ct_get_proto(ct) == IPPROTO_TCP && ct_tuple(ct, 0, &c->flow->orig) == 0 &&
	    ct_tuple(ct, 1, &c->flow->reply) == 0) {
		c->flow->tcp_state = nfnl_ct_get_tcp_state(ct);
		c->flow->id = nfnl_ct_get_id(ct);
		c->found = 1;
	}
	nfnl_ct_put(ct);
	/* ctnetlink marks the answer NLM_F_MULTI, with no NLMSG_DONE after it */
	return NL_STOP;
}

static int put_tuple_ip(struct nl_msg *msg, const struct ctr_tuple *t)
{
	const int v4 = t->src.addr.family == AF_INET;
	const int len = v4 ? 4 : 16;
	struct nlattr *ip = nla_nest_start(msg, CTA_TUPLE_IP);

	if (!ip || nla_put(msg, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, len, t->src.addr.u.bytes) < 0 ||
	    nla_put(msg, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, len, t->dst.addr.u.bytes) < 0)
		return -1;
	nla_nest_end(msg, ip);
	return 0;
}

static int get_on(struct nl_sock *sk, const struct ctr_tuple *reply, struct ct_flow *flow,
		  char **err)
{
	struct get_ctx c = {.flow = flow};
	struct nl_msg *msg = NULL;
	struct nlattr *tuple, *proto;
	int rc;

	memset(flow, 0, sizeof(*flow));
	/* one request, one answer (the entry, or ENOENT): no ACK to read after it */
	nl_socket_disable_auto_ack(sk);
	msg = nfnlmsg_alloc_simple(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET, 0,
				   (uint8_t)reply->src.addr.family, 0);
	if (!msg || !(tuple = nla_nest_start(msg, CTA_TUPLE_REPLY)) ||
	    put_tuple_ip(msg, reply) < 0 || !(proto = nla_nest_start(msg, CTA_TUPLE_PROTO)) ||
	    nla_put_u8(msg, CTA_PROTO_NUM, IPPROTO_TCP) < 0 ||
	    nla_put_u16(msg, CTA_PROTO_SRC_PORT, htons(reply->src.port)) < 0 ||
	    nla_put_u16(msg, CTA_PROTO_DST_PORT, htons(reply->dst.port)) < 0) {
		rc = err_set(err, "building a conntrack query: out of room");
		goto out;
	}
	nla_nest_end(msg, proto);
	nla_nest_end(msg, tuple);
	/* bounded: an answer that never comes is an error after a second, not a hang */
	if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO,
		       &(struct timeval){.tv_sec = 1}, sizeof(struct timeval)) < 0) {
		rc = err_errno(err, errno, "setting the conntrack socket's timeout");
		goto out;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, get_one, &c);
	rc = nl_send_auto(sk, msg);
	if (rc >= 0)
		rc = nl_recvmsgs_default(sk);
	if (rc == -NLE_OBJ_NOTFOUND)
		rc = 0; /* no such entry */
	else if (rc < 0)
		rc = err_set(err, "querying conntrack: %s", nl_geterror(rc));
	else
		rc = c.found;
out:
	nlmsg_free(msg);
	return rc;
}

int ct_get_by_reply(const struct ctr_tuple *reply, struct ct_flow *flow, char **err)
{
	struct nl_sock *sk = ct_nfnl_open(err);
	int rc;

	if (!sk)
		return -1;
	rc = get_on(sk, reply, flow, err);
	nl_socket_free(sk);
	return rc;
}

static struct nl_addr *addr_to_nl(const struct ctr_addr *a)
{
	return nl_addr_build(a->family, a->u.bytes, a->family == AF_INET6 ? 16 : 4);
}

int ct_delete(const struct ct_flow *flow, char **err)
{
	struct nl_sock *sk = ct_nfnl_open(err);
	struct nfnl_ct *ct;
	struct nl_addr *s, *d;
	int rc;

	if (!sk)
		return -1;
	ct = nfnl_ct_alloc();
	s = addr_to_nl(&flow->orig.src.addr);
	d = addr_to_nl(&flow->orig.dst.addr);
	if (!ct || !s || !d) {
		rc = err_set(err, "out of memory");
		goto out;
	}
	nfnl_ct_set_family(ct, (uint8_t)flow->orig.src.addr.family);
	nfnl_ct_set_proto(ct, IPPROTO_TCP);
	nfnl_ct_set_src(ct, 0, s);
	nfnl_ct_set_dst(ct, 0, d);
	nfnl_ct_set_src_port(ct, 0, flow->orig.src.port);
	nfnl_ct_set_dst_port(ct, 0, flow->orig.dst.port);
	rc = nfnl_ct_del(sk, ct, 0);
	if (rc < 0)
		rc = err_set(err, "deleting conntrack entry: %s", nl_geterror(rc));
	else
		rc = 0;
out:
	nl_addr_put(s);
	nl_addr_put(d);
	if (ct)
		nfnl_ct_put(ct);
	nl_socket_free(sk);
	return rc;
}

/* the entries of the current namespace: its nf_conntrack_count (the sysctl files under
 * /proc/sys/net are those of the opener's namespace), read in O(1); a dump walks every
 * bucket of the table all namespaces share, for a count only when that file is not there */
static int ct_count(struct nl_sock *sk, unsigned *n, char **err)
{
	struct nl_cache *cache = NULL;
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_count", "re");
	int rc;

	if (f) {
		rc = fscanf(f, "%u", n);
		fclose(f);
		if (rc == 1)
			return 0;
	}
	rc = nfnl_ct_alloc_cache(sk, &cache);

	if (rc < 0)
		return err_set(err, "dumping conntrack table: %s", nl_geterror(rc));
	*n = (unsigned)nl_cache_nitems(cache);
	nl_cache_free(cache);
	return 0;
}

struct dump_ctx {
	ct_dump_cb cb;
	void *ctx;
	int stop;
};

static void dump_one(struct nl_object *obj, void *arg)
{
	struct dump_ctx *d = arg;
	struct nfnl_ct *ct = (struct nfnl_ct *)obj;
	struct ct_flow f = {0};

	if (d->stop || nfnl_ct_get_proto(ct) != IPPROTO_TCP || ct_tuple(ct, 0, &f.orig) < 0 ||
	    ct_tuple(ct, 1, &f.reply) < 0)
		return;
	f.tcp_state = nfnl_ct_get_tcp_state(ct);
	f.id = nfnl_ct_get_id(ct);
	d->stop = d->cb(d->ctx, &f);
}

static int dump_on(struct nl_sock *sk, ct_dump_cb cb, void *ctx, char **err)
{
	struct dump_ctx d = {.cb = cb, .ctx = ctx};
	struct nl_cache *cache = NULL;
	int rc = nfnl_ct_alloc_cache(sk, &cache);

	if (rc < 0)
		return err_set(err, "dumping the conntrack table: %s", nl_geterror(rc));
	nl_cache_foreach(cache, dump_one, &d);
	nl_cache_free(cache);
	return 0;
}

int ct_dump(ct_dump_cb cb, void *ctx, char **err)
{
	struct nl_sock *sk = ct_nfnl_open(err);
	int rc;

	if (!sk)
		return -1;
	rc = dump_on(sk, cb, ctx, err);
	nl_socket_free(sk);
	return rc;
}

/* two sockets: a query's answer never lands among a dump's */
struct ct_handle {
	struct nl_sock *get, *dump;
};

struct ct_handle *ct_handle_open(char **err)
{
	struct ct_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return err_set(err, "out of memory"), NULL;
	h->get = ct_nfnl_open(err);
	h->dump = h->get ? ct_nfnl_open(err) : NULL;
	if (!h->dump) {
		ct_handle_close(h);
		return NULL;
	}
	return h;
}

int ct_handle_get_by_reply(struct ct_handle *h, const struct ctr_tuple *reply, struct ct_flow *flow,
			   char **err)
{
	return get_on(h->get, reply, flow, err);
}

int ct_handle_dump(struct ct_handle *h, ct_dump_cb cb, void *ctx, char **err)
{
	return dump_on(h->dump, cb, ctx, err);
}

void ct_handle_close(struct ct_handle *h)
{
	if (!h)
		return;
	if (h->get)
		nl_socket_free(h->get);
	if (h->dump)
		nl_socket_free(h->dump);
	free(h);
}

int ct_flush(unsigned *removed, unsigned *left, char **err)
{
	struct nl_sock *sk = ct_nfnl_open(err);
	int rc;

	if (!sk)
		return -1;
	if (ct_count(sk, removed, err) < 0)
		goto fail;
	/* a ctnetlink delete without a tuple is a flush; AF_UNSPEC: every family */
	rc = nfnl_send_simple(sk, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, AF_UNSPEC,
			      0);
	if (rc >= 0)
		rc = nl_wait_for_ack(sk);
	if (rc < 0) {
		err_set(err, "flushing conntrack table: %s", nl_geterror(rc));
		goto fail;
	}
	if (ct_count(sk, left, err) < 0)
		goto fail;
	nl_socket_free(sk);
	return 0;
fail:
	nl_socket_free(sk);
	return -1;
}

int ct_invalid_count(uint64_t *out, char **err)
{
	FILE *f = fopen("/proc/net/stat/nf_conntrack", "re");
	char line[1024];
	int col = -1;
	uint64_t sum = 0;

	if (!f)
		return err_errno(err, errno, "/proc/net/stat/nf_conntrack");
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return err_set(err, "/proc/net/stat/nf_conntrack is empty");
	}
	{
		int i = 0;

		for (char *save = NULL, *tok = strtok_r(line, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save), i++)
			if (!strcmp(tok, "invalid"))
				col = i;
	}
	if (col < 0) {
		fclose(f);
		return err_set(err, "no 'invalid' column in /proc/net/stat/nf_conntrack");
	}
	while (fgets(line, sizeof(line), f)) {
		int i = 0;

		for (char *save = NULL, *tok = strtok_r(line, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save), i++)
			if (i == col)
				sum += strtoull(tok, NULL, 16);
	}
	fclose(f);
	*out = sum;
	return 0;
}

const char *ct_state_name(uint8_t state)
{
	static const char *names[] = {"NONE",	  "SYN_SENT",	"SYN_RECV", "ESTABLISHED",
				      "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
				      "CLOSE",	  "SYN_SENT2"};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

/* conntrack-tools' get_progname: the base name of /proc/PORTID/cmdline's first word (a
 * socket's port id is its process's pid when it was the first the process bound) */
static const char *progname(uint32_t portid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	const char *slash;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", portid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

struct out {
	char *buf;
	size_t len, at;
};

/* appends, cut at len (the line then ends where the buffer does) */
__attribute__((format(printf, 2, 3))) static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->at + 1 >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->at, o->len - o->at, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->at = o->at + (size_t)n < o->len ? o->at + (size_t)n : o->len - 1;
}

static void out_tuple(struct out *o, struct nfnl_ct *ct, int repl)
{
	struct ctr_tuple t;
	char a[CTR_ADDRSTRLEN], b[CTR_ADDRSTRLEN];

	if (ct_tuple(ct, repl, &t) < 0)
		return;
	out_add(o, "src=%s dst=%s sport=%u dport=%u ", addr_str(&t.src.addr, a),
		addr_str(&t.dst.addr, b), t.src.port, t.dst.port);
	if (nfnl_ct_test_packets(ct, repl) && nfnl_ct_test_bytes(ct, repl))
		out_add(o, "packets=%llu bytes=%llu ",
			(unsigned long long)nfnl_ct_get_packets(ct, repl),
			(unsigned long long)nfnl_ct_get_bytes(ct, repl));
}

/* libnetfilter_conntrack's default output (snprintf_default.c) for the attributes a TCP
 * event carries, in its order; conntrack's own prefix (the stamp) and suffix (the port id
 * of a change made from user space) around it */
int ct_event_format(struct nlmsghdr *nlh, const struct timespec *ts, char *buf, size_t len)
{
	const uint8_t type = nlh->nlmsg_type & 0xff;
	struct out o = {.buf = buf, .len = len};
	struct nfnl_ct *ct = NULL;
	const char *what;
	uint32_t status;
	char prog[256];
	const char *pn;

	if (len == 0 || (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK)
		return 0;
	if (type == IPCTNL_MSG_CT_NEW && (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)))
		what = "[NEW]";
	else if (type == IPCTNL_MSG_CT_DELETE)
		what = "[DESTROY]";
	else
		return 0; /* an update: not asked for */
	buf[0] = 0;
	if (nfnlmsg_ct_parse(nlh, &ct) < 0)
		return -1;
	if (nfnl_ct_get_proto(ct) != IPPROTO_TCP) {
		nfnl_ct_put(ct);
		return 0;
	}
	out_add(&o, "[%ld.%06ld]\t%9s %-8s %u ", (long)ts->tv_sec, ts->tv_nsec / 1000L, what, "tcp",
		IPPROTO_TCP);
	if (nfnl_ct_test_timeout(ct))
		out_add(&o, "%u ", nfnl_ct_get_timeout(ct));
	if (nfnl_ct_test_tcp_state(ct))
		out_add(&o, "%s ", ct_state_name(nfnl_ct_get_tcp_state(ct)));
	out_tuple(&o, ct, 0);
	status = nfnl_ct_test_status(ct) ? nfnl_ct_get_status(ct) : 0;
	if (nfnl_ct_test_status(ct) && !(status & IPS_SEEN_REPLY))
		out_add(&o, "[UNREPLIED] ");
	out_tuple(&o, ct, 1);
	if (status & IPS_OFFLOAD)
		out_add(&o, "[OFFLOAD] ");
	if (status & IPS_ASSURED)
		out_add(&o, "[ASSURED] ");
	if (nfnl_ct_test_mark(ct))
		out_add(&o, "mark=%u ", nfnl_ct_get_mark(ct));
	nfnl_ct_put(ct);
	if (o.at > 0 && buf[o.at - 1] == ' ')
		buf[--o.at] = 0; /* as libnetfilter_conntrack: no blank at the end */
	if (nlh->nlmsg_pid) {
		pn = progname(nlh->nlmsg_pid, prog, sizeof(prog));
		out_add(&o, pn ? " [USERSPACE] portid=%u progname=%s" : " [USERSPACE] portid=%u",
			nlh->nlmsg_pid, pn);
	}
	return (int)o.at;
}

struct ct_events {
	struct nl_sock *sk;
};

struct ct_events *ct_events_open(char **err)
{
	struct ct_events *ev = calloc(1, sizeof(*ev));
	const int rcvbuf = 1 << 20;
	int rc;

	if (!ev)
		return err_set(err, "out of memory"), NULL;
	ev->sk = ct_nfnl_open(err);
	if (!ev->sk) {
		free(ev);
		return NULL;
	}
	rc = nl_socket_add_memberships(ev->sk, NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_DESTROY, 0);
	if (rc < 0) {
		err_set(err, "subscribing to conntrack events: %s", nl_geterror(rc));
		ct_events_close(ev);
		return NULL;
	}
	/* room for a burst (a flush's DESTROY of every entry) while the reader is descheduled;
	 * as root past rmem_max, else as much as rmem_max allows */
	if (setsockopt(nl_socket_get_fd(ev->sk), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(nl_socket_get_fd(ev->sk), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	return ev;
}

int ct_events_fd(const struct ct_events *ev)
{
	return nl_socket_get_fd(ev->sk);
}

int ct_events_read(struct ct_events *ev, FILE *f, unsigned max, char **err)
{
	/* one event a datagram (a netlink broadcast): a page holds the largest */
	static _Thread_local unsigned char buf[16384];
	char line[1024];
	int lines = 0;

	for (unsigned i = 0; i < max; i++) {
		ssize_t n = recv(nl_socket_get_fd(ev->sk), buf, sizeof(buf), MSG_DONTWAIT);
		int rem;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == ENOBUFS) {
			/* conntrack -E's words; the events since are read on */
			fprintf(f, "WARNING: We have hit ENOBUFS! We are losing events.\n");
			continue;
		}
		if (n < 0)
			return err_errno(err, errno, "reading conntrack events");
		rem = (int)n;
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; nlmsg_ok(nlh, rem);
		     nlh = nlmsg_next(nlh, &rem)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			if (ct_event_format(nlh, &ts, line, sizeof(line)) > 0) {
				fprintf(f, "%s\n", line);
				lines++;
			}
		}
	}
	return lines;
}

void ct_events_close(struct ct_events *ev)
{
	if (!ev)
		return;
	if (ev->sk)
		nl_socket_free(ev->sk);
	free(ev);
}
