/* Interfaces and their addresses in the current network namespace, through libnl-route-3. */
#ifndef CTR_LINK_H
#define CTR_LINK_H

#include "base/addr.h"

#include <stdbool.h>

/* Finds interface ifname; sets *ifindex and *up (IFF_UP). 0, or -1 with *err. */
int link_lookup(const char *ifname, int *ifindex, bool *up, char **err);

/* First global-scope address of the given family (AF_INET / AF_INET6) on ifname.
 * 0, or -1 with *err when there is none. */
int link_address(const char *ifname, int family, struct ctr_addr *out, char **err);

#endif
