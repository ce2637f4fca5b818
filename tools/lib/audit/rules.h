/* The rule dumps of a node (iptables-save, nft list ruleset) read into what decides the
 * conntrack reset: kube-proxy's service rules (its mode), and every INVALID DROP the
 * forward or input path reaches, each with the line it came from. */
#ifndef CTR_AUDIT_RULES_H
#define CTR_AUDIT_RULES_H

#include <stddef.h>

/* whose INVALID DROP a rule is, by the chain it sits in (what the bench calls it) */
enum rules_drop_kind {
	DROP_KUBE_FORWARD, /* kube-proxy iptables mode's KUBE-FORWARD rule (PR 74840) */
	DROP_CALICO,	   /* Calico Felix's, in a cali- chain */
	DROP_NFT_FORWARD,  /* an nftables "ct state invalid drop" on the forward hook */
	DROP_FORWARD,	   /* any other INVALID DROP the FORWARD chain reaches */
	DROP_INPUT,	   /* an INVALID DROP the INPUT hook reaches (Docker's rule) */
	DROP_KIND_COUNT
};

#define RULES_MAX_DROPS 8

struct rules_drop {
	enum rules_drop_kind kind;
	int family;	/* 4 or 6 */
	int nfacct;	/* counted by -m nfacct (kube-proxy >= 1.31's form) */
	char where[96]; /* "iptables-save line 8" */
	char rule[256]; /* the rule as the dump has it */
};

/* What the dumps say, per family (index 0: IPv4, 1: IPv6). */
struct rules_facts {
	/* kube-proxy's service rules: "" none seen, else the dump that has them
	 * ("iptables-save (nf_tables)", "iptables-legacy-save", "nft-ruleset.txt") */
	char kp_iptables[2][64]; /* nat KUBE-SERVICES reached from PREROUTING */
	int kp_iptables_legacy[2];
	char kp_nft[2][64];   /* table ip|ip6|inet kube-proxy with chain services */
	int calico_chains[2]; /* cali- chains in the filter table */
	int ipt_nf_tables[2]; /* iptables-save said "(nf_tables)": its tables are nft's */
	struct rules_drop drops[RULES_MAX_DROPS];
	size_t ndrops;
	int nft_tables_skipped; /* nft tables left to iptables-save's reading (iptables-nft's) */
};

/* Reads one iptables-save / ip6tables-save output (text, NUL-terminated; name is what
 * messages call it, family 4 or 6, legacy when it is the -legacy- tool's) into *f.
 * An empty text is a namespace without tables: nothing found, no error. 0, or -1 with
 * *err naming the line that is not iptables-save output (garbled, foreign), a rule of a
 * chain never declared, or a table without COMMIT (truncated). */
int rules_read_iptables(const char *text, const char *name, int family, int legacy,
			struct rules_facts *f, char **err);

/* Reads `nft list ruleset` output into *f. Tables ip|ip6 filter/nat/mangle/raw/security
 * are skipped when skip_ipt[family-index] (iptables-nft's own, read from iptables-save).
 * 0, or -1 with *err (unbalanced braces: truncated; a line outside any table that is not
 * a table: foreign or garbled). */
int rules_read_nft(const char *text, const char *name, const int skip_ipt[2], struct rules_facts *f,
		   char **err);

/* Reads `nft -j list ruleset` output into *f: the same facts as rules_read_nft (tables,
 * chains with their hooks, jumps and gotos, verdict maps' included, `ct state invalid`
 * matches with a drop), the same tables skipped. 0; -1 with *err (empty, not JSON,
 * truncated, not nft's: no top-level "nftables" array, a chain or rule of a table never
 * listed); -2 with *err when a table read holds an xt expression (iptables-nft's match or
 * target, which nft's JSON leaves opaque): the text form or iptables-save must be read. */
int rules_read_nft_json(const char *text, const char *name, const int skip_ipt[2],
			struct rules_facts *f, char **err);

/* The words the bench uses for a drop's kind ("KUBE-FORWARD INVALID DROP", ...). */
const char *rules_drop_kind_name(enum rules_drop_kind k);

#endif
