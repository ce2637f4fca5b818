#include "link.h"
#include "base/err.h"

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <string.h>

static struct nl_sock *route_open(char **err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk) {
		err_set(err, "nl_socket_alloc failed");
		return NULL;
	}
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0) {
		err_set(err, "connecting to rtnetlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

int link_lookup(const char *ifname, int *ifindex, bool *up, char **err)
{
	struct nl_sock *sk = route_open(err);
	struct rtnl_link *link = NULL;
	int rc;

	if (!sk)
		return -1;
	rc = rtnl_link_get_kernel(sk, 0, ifname, &link);
	nl_socket_free(sk);
	if (rc < 0)
		return err_set(err, "interface %s: %s", ifname, nl_geterror(rc));
	*ifindex = rtnl_link_get_ifindex(link);
	if (up)
		*up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
	rtnl_link_put(link);
	return 0;
}

struct addr_ctx {
	int ifindex, family;
	struct ctr_addr *out;
	bool found;
};

static void addr_one(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr_ctx *c = arg;
	struct nl_addr *local;

	if (c->found || rtnl_addr_get_ifindex(a) != c->ifindex ||
	    rtnl_addr_get_family(a) != c->family || rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
		return;
	local = rtnl_addr_get_local(a);
	if (!local || nl_addr_get_len(local) != (c->family == AF_INET6 ? 16u : 4u))
		return;
	memset(c->out, 0, sizeof(*c->out));
	c->out->family = c->family;
	memcpy(c->out->u.bytes, nl_addr_get_binary_addr(local), nl_addr_get_len(local));
	c->found = true;
}

int link_address(const char *ifname, int family, struct ctr_addr *out, char **err)
{
	struct addr_ctx c = {.family = family, .out = out};
	struct nl_cache *cache = NULL;
	struct nl_sock *sk;
	int rc;

	if (link_lookup(ifname, &c.ifindex, NULL, err) < 0)
		return -1;
	sk = route_open(err);
	if (!sk)
		return -1;
	rc = rtnl_addr_alloc_cache(sk, &cache);
	nl_socket_free(sk);
	if (rc < 0)
		return err_set(err, "listing addresses: %s", nl_geterror(rc));
	nl_cache_foreach(cache, addr_one, &c);
	nl_cache_free(cache);
	if (!c.found)
		return err_set(err, "no global %s address on %s",
			       family == AF_INET6 ? "IPv6" : "IPv4", ifname);
	return 0;
}
