/* The behaviours table and the release fallback (behaviour.h). Sources: the commits
 * themselves (netdev and stable-review postings), net/netfilter/nf_conntrack_proto_tcp.c
 * at v5.10 (tcp_in_window(): one condition for the four bounds, every failure INVALID
 * unless be_liberal) and at v6.1. */
#include "behaviour.h"
#include "base/err.h"
#include "oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct behaviour table[] = {
    {"ignore-delayed", "6e250dcbff1d", "netfilter: conntrack: ignore overly delayed tcp packets",
     "6.1", "",
     "tcp_in_window() returns NFCT_TCP_IGNORE, not INVALID, for \"SEQ is under lower bound\" "
     "(end below the sender's td_end minus the receiver's max window) and \"ignored ACK under "
     "lower bound\" (ack below the receiver's td_end minus MAXACKWINDOW), and for the small "
     "overshoot rcvwnd-workaround forgives: the packet keeps its entry and NAT applies; "
     "before it the four bounds were one condition and any failure was INVALID"},
    {"rcvwnd-workaround", "cf97769c761a",
     "netfilter: conntrack: work around exceeded receive window", "6.0", "5.19.9,5.15.68",
     "a segment whose seq is past td_maxend by at most the receiver's max window, its ack in "
     "range, moves the sender's td_end to its end (\"%u bytes more than expected\"), so that "
     "the peer's ACK of it is not \"ACK is over upper bound\"; the segment itself stays "
     "INVALID (it returns res, false) until ignore-delayed makes it IGNORE"},
};

const struct behaviour *behaviour_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct behaviour *behaviour_find(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

/* X.Y.Z of a release ("5.15.0-91-generic": 5, 15, 0); missing parts are 0 */
static void release_parts(const char *r, long v[3])
{
	v[0] = v[1] = v[2] = 0;
	for (int i = 0; i < 3 && *r >= '0' && *r <= '9'; i++) {
		v[i] = strtol(r, (char **)&r, 10);
		if (*r != '.')
			break;
		r++;
	}
}

/* the release fallback: mainline >= the behaviour's, or a stable series with the backport */
static int from_release(const struct behaviour *b, const char *release)
{
	const char *p = b->stable;
	long k[3];

	if (oracle_version_ge(release, b->mainline))
		return 1;
	release_parts(release, k);
	while (*p) {
		long s[3];
		size_t len = strcspn(p, ",");
		char one[32];

		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		release_parts(one, s);
		if (k[0] == s[0] && k[1] == s[1] && k[2] >= s[2])
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

/* the value list gives name: 1/0, -2 when it does not name it, -1 with *err malformed */
static int list_value(const char *list, const char *name, char **err)
{
	const char *p = list ? list : "";
	int found = -2;

	while (*p) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		char key[64];

		snprintf(key, sizeof(key), "%.*s", (int)nlen, p);
		if (!eq || eq + 2 != p + len || (eq[1] != '0' && eq[1] != '1'))
			return err_set(err, "behaviour '%.*s' is not NAME=0 or NAME=1", (int)len,
				       p);
		if (!behaviour_find(key))
			return err_set(err, "unknown behaviour '%s'", key);
		if (name && !strcmp(key, name))
			found = eq[1] - '0';
		p += len + (p[len] == ',');
	}
	return found;
}

int behaviours_check(const char *list, char **err)
{
	return list_value(list, NULL, err) == -1 ? -1 : 0;
}

int behaviour_has(const char *list, const char *release, const char *name, bool *from_list,
		  char **err)
{
	const struct behaviour *b = behaviour_find(name);
	int v;

	if (from_list)
		*from_list = false;
	if (!b)
		return err_set(err, "unknown behaviour '%s'", name);
	v = list_value(list, name, err);
	if (v == -1)
		return -1;
	if (v >= 0) {
		if (from_list)
			*from_list = true;
		return v;
	}
	return from_release(b, release ? release : "");
}

void behaviours_from_release(const char *release, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]) && used < n; i++) {
		int w = snprintf(out + used, n - used, "%s%s=%d", i ? "," : "", table[i].name,
				 from_release(&table[i], release));

		if (w < 0)
			break;
		used += (size_t)w;
	}
}
