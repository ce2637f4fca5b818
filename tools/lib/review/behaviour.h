/* Kernel behaviours: each kernel-dependent rule of the oracle and of the conntrack model
 * named after the netfilter change that brought it, so that a kernel is judged by what
 * it does (the bench probes it, bench/behaviours.sh) rather than by its version number
 * (distribution kernels carry backports; stable trees took some changes, not others).
 * The release number is only the fallback when no probe ran.
 *
 * A behaviours list is "NAME=1,NAME=0,...": 1 the kernel has it, 0 it has not; a name
 * left out falls back to the release (mainline release, or a stable release with the
 * backport). */
#ifndef CTR_BEHAVIOUR_H
#define CTR_BEHAVIOUR_H

#include <stdbool.h>
#include <stddef.h>

struct behaviour {
	const char *name;     /* what the oracle and --behaviours call it */
	const char *commit;   /* the mainline commit (12 hex digits) */
	const char *title;    /* its subject line */
	const char *mainline; /* the first mainline release with it, X.Y */
	const char *stable;   /* stable releases X.Y.Z that took it, comma-joined, or "" */
	const char *changes;  /* what it changes in tcp_in_window() */
};

/* the known behaviours, in a fixed order; n set to their number */
const struct behaviour *behaviour_table(size_t *n);

/* NULL for an unknown name */
const struct behaviour *behaviour_find(const char *name);

/* Whether the kernel (release, list) has the behaviour name: 1 or 0, from list when it
 * names it (*from_list true), else from the release. -1 with *err for an unknown name
 * or a malformed list. */
int behaviour_has(const char *list, const char *release, const char *name, bool *from_list,
		  char **err);

/* 0 when every entry of list is NAME=0|1 with a known NAME, else -1 with *err */
int behaviours_check(const char *list, char **err);

/* the list the release alone implies, every known behaviour named, into out */
void behaviours_from_release(const char *release, char *out, size_t n);

#endif
