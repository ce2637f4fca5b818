/* Named network namespaces (/run/netns/NAME, as `ip netns add` makes them). setns() moves
 * only the calling thread; the tools here are single-threaded. */
#ifndef CTR_NETNS_H
#define CTR_NETNS_H

/* Opens the namespace NAME (or an absolute path such as /proc/PID/ns/net) read-only;
 * returns the fd, or -1 with *err set. */
int netns_open(const char *name, char **err);

/* Switches the calling thread into the namespace fd; 0 or -1 with *err. */
int netns_set(int fd, const char *label, char **err);

/* Switches into the namespace NAME; 0 or -1 with *err. */
int netns_enter(const char *name, char **err);

/* What netns_check_owned() lets through besides the namespaces of ctreset runs. */
enum netns_allow {
	NETNS_ALLOW_FOREIGN = 1, /* any namespace but PID 1's (a real pod's, a container's) */
	NETNS_ALLOW_HOST = 2,	 /* the host's: PID 1's, the initial one, the caller's own */
};

/* The guard before a destructive action (flushing a conntrack table, deleting an entry,
 * writing a sysctl) in the namespace NAME (as netns_open() takes it): 0 when NAME is a
 * namespace a ctreset run created, i.e. the same namespace (device and inode) as some
 * /run/netns/ctr-XXXXXX-ROLE whose run recorded an owner in $CTR_STATE (default
 * /run/ctreset)/ctr-XXXXXX/owner, and not the host's: PID 1's, the initial namespace, or
 * the caller's own. The host's passes only with NETNS_ALLOW_HOST in allow, any other with
 * NETNS_ALLOW_FOREIGN. Otherwise -1 with *err
 * saying why, in terms of ACTION ("flush the conntrack table of"). Nothing is changed. */
int netns_check_owned(const char *name, const char *action, unsigned allow, char **err);

#endif
