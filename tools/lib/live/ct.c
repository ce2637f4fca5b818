#include "ct.h"
#include "base/err.h"

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

static struct nl_sock *nfnl_open(char **err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk) {
		err_set(err, "nl_socket_alloc failed");
		return NULL;
	}
	rc = nfnl_connect(sk);
	if (rc < 0) {
		err_set(err, "connecting to ctnetlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

struct find_ctx {
	const struct ctr_endpoint *dst;
	const struct ctr_addr *src; /* NULL: any */
	struct ct_flow *flows;
	size_t max, n;
};

static void find_one(struct nl_object *obj, void *arg)
{
	struct nfnl_ct *ct = (struct nfnl_ct *)obj;
	struct find_ctx *c = arg;
	struct ct_flow f = {0};

	if (nfnl_ct_get_proto(ct) != IPPROTO_TCP)
		return;
	if (ct_tuple(ct, 0, &f.orig) < 0 || ct_tuple(ct, 1, &f.reply) < 0)
		return;
	if (!endpoint_eq(&f.orig.dst, c->dst) || (c->src && !addr_eq(&f.orig.src.addr, c->src)))
		return;
	f.tcp_state = nfnl_ct_get_tcp_state(ct);
	f.id = nfnl_ct_get_id(ct);
	if (c->n < c->max)
		c->flows[c->n] = f;
	c->n++;
}

int ct_find_by_orig_dst(const struct ctr_endpoint *dst, struct ct_flow *flows, size_t max,
			size_t *n, char **err)
{
	return ct_find_by_orig(dst, NULL, flows, max, n, err);
}

int ct_find_by_orig(const struct ctr_endpoint *dst, const struct ctr_addr *src,
		    struct ct_flow *flows, size_t max, size_t *n, char **err)
{
	struct find_ctx c = {.dst = dst, .src = src, .flows = flows, .max = max};
	struct nl_cache *cache = NULL;
	struct nl_sock *sk = nfnl_open(err);
	int rc;

	if (!sk)
		return -1;
	rc = nfnl_ct_alloc_cache(sk, &cache);
	if (rc < 0) {
		nl_socket_free(sk);
		return err_set(err, "dumping conntrack table: %s", nl_geterror(rc));
	}
	nl_cache_foreach(cache, find_one, &c);
	nl_cache_free(cache);
	nl_socket_free(sk);
	*n = c.n;
	return 0;
}

static struct nl_addr *addr_to_nl(const struct ctr_addr *a)
{
	return nl_addr_build(a->family, a->u.bytes, a->family == AF_INET6 ? 16 : 4);
}

int ct_delete(const struct ct_flow *flow, char **err)
{
	struct nl_sock *sk = nfnl_open(err);
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

static int ct_count(struct nl_sock *sk, unsigned *n, char **err)
{
	struct nl_cache *cache = NULL;
	int rc = nfnl_ct_alloc_cache(sk, &cache);

	if (rc < 0)
		return err_set(err, "dumping conntrack table: %s", nl_geterror(rc));
	*n = (unsigned)nl_cache_nitems(cache);
	nl_cache_free(cache);
	return 0;
}

int ct_flush(unsigned *removed, unsigned *left, char **err)
{
	struct nl_sock *sk = nfnl_open(err);
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
