/* The counters that show a workaround acted, read over netlink in the current network
 * namespace, no exec: the packets of an iptables chain's INVALID DROP rule (through
 * x_tables' getsockopt for iptables-legacy, through nf_tables for iptables-nft), of an nft
 * chain's "ct state invalid counter" rule, and of an nfacct object. The injector reads
 * them in every node at its start and at its end (counters_read) and writes what moved
 * into the cell's meta.kv (counters_meta_lines): drop.NS and nfacct.NS. */
#ifndef CTR_COUNTERS_H
#define CTR_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* where a rule counter is */
enum counter_kind {
	COUNTER_IPT_LEGACY, /* x_tables' filter table (iptables-legacy, ip6tables-legacy) */
	COUNTER_IPT_NFT,    /* table filter of family ip/ip6 in nf_tables (iptables-nft) */
	COUNTER_NFT,	    /* any nft table and chain: its "ct state invalid counter" rule */
};

struct counter_spec {
	enum counter_kind kind;
	int family; /* NFPROTO_IPV4, NFPROTO_IPV6 (NFPROTO_INET too for COUNTER_NFT) */
	char table[64], chain[64];
};

/* Parses "ipt-legacy:FAM:CHAIN", "ipt-nft:FAM:CHAIN" or "nft:FAM:TABLE:CHAIN" (FAM: ip,
 * ip6; inet too for nft) into *spec; 0, or -1 with *err. */
int counter_spec_parse(const char *s, struct counter_spec *spec, char **err);

/* Reads SPEC's counter in the current namespace: 1 and *pkts (the last matching rule's,
 * as iptables-save -c | grep would take it), 0 when the table, chain or rule is not
 * there, -1 with *err when the kernel could not be asked. COUNTER_IPT_LEGACY asks for the
 * x_tables filter table, which the kernel creates in the namespace if it was not there:
 * only for the iptables-legacy backend. */
int counter_read(const struct counter_spec *spec, uint64_t *pkts, char **err);

/* The packets of the nfacct object NAME in the current namespace: 1 and *pkts, 0 when
 * there is no such object, -1 with *err. */
int counter_nfacct_read(const char *name, uint64_t *pkts, char **err);

/* The parsers the readers use, over what the kernel answered (exposed for the tests).
 *
 * counter_ipt_walk: the entries of an x_tables table as IPT_SO_GET_ENTRIES
 * (IP6T_SO_GET_ENTRIES with ipv6) returns them, SIZE bytes, with the get-info's
 * valid_hooks and hook_entry offsets: 1 and *pkts for CHAIN's last rule with a conntrack
 * (--ctstate) or state (--state) match whose states include INVALID, not inverted, and
 * the standard target DROP; 0 when there is none; -1 when the blob is malformed. */
int counter_ipt_walk(const void *entries, size_t size, bool ipv6, unsigned valid_hooks,
		     const unsigned hook_entry[5], const char *chain, uint64_t *pkts);

/* counter_nft_rule: one NFT_MSG_NEWRULE message's attributes (after the nfgenmsg header),
 * LEN bytes: 1 and *pkts when its expressions hold a conntrack-state INVALID match
 * (native: ct state, [bitwise], cmp; or xt compat match "conntrack" rev 1-3 or "state")
 * and a counter, and, with need_drop, a drop verdict; 0 when not; -1 when malformed. */
int counter_nft_rule(const void *attrs, size_t len, bool need_drop, uint64_t *pkts);

/* What the injector counts in its node namespaces, before and after. */
#define COUNTERS_MAX_NS 16
struct counters {
	bool have_spec;
	struct counter_spec spec; /* --count */
	const char *nfacct;	  /* --nfacct NAME, NULL: none */
	const char *ns[COUNTERS_MAX_NS];
	int n_ns;
	/* per namespace: read before, after; a value is valid only with its flag */
	uint64_t drop[2][COUNTERS_MAX_NS], acct[2][COUNTERS_MAX_NS];
	bool drop_ok[2][COUNTERS_MAX_NS], acct_ok[2][COUNTERS_MAX_NS];
	bool read[2]; /* whether that round was taken */
	char *error;  /* the first reading that failed (not an absence), NULL: none */
};

/* Reads every counter in every namespace of C (entering each, then home_fd), into the
 * round after (false: before). Nothing to count: nothing done. */
void counters_read(struct counters *c, bool after, int home_fd);

/* The cell's lines, to F (DIR/meta.kv): "drop.NS=AFTER-BEFORE" for every namespace whose
 * rule was there at the end (AFTER alone when it had no reading before), and
 * "nfacct.NS=AFTER-BEFORE" for every namespace whose object was there both times. 0, or
 * -1 when F did not take them. */
int counters_meta_lines(const struct counters *c, FILE *f);

void counters_free(struct counters *c);

#endif
