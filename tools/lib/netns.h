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

#endif
