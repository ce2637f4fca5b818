/* ctreset-audit's judgement of a node: its dump read into the facts that decide the
 * conntrack reset (kube-proxy's mode and release era, INVALID drops, conntrack sysctls),
 * those facts named as the bench's workarounds, and the bench's own oracle
 * (bench/matrix.expect) asked what each trigger does on each path and family. No second
 * model: every verdict and reason is the oracle's. */
#ifndef CTR_AUDIT_H
#define CTR_AUDIT_H

#include "audit/dump.h"
#include "audit/rules.h"
#include "review/oracle.h"

#include <stddef.h>

/* The kernel whose behaviours the oracle's ranges stand for. Today only "assumed from
 * its release" (uname.txt or --kernel); a probed behaviour set would be another source. */
struct audit_kernel {
	char release[64];     /* "" unknown */
	char source[64];      /* "uname.txt", "--kernel" */
	char behaviours[128]; /* measured by --probe ("ignore-delayed=1"); "" none */
	char probed[512];     /* --probe's sentence: what it measured, or why nothing; "" not run */
};

#define AUDIT_MAX_PARTS 8

/* one of the bench's workarounds found on the node, and what shows it */
struct audit_part {
	const char *name;   /* a workaround of tools/lib/sh/workarounds.sh */
	char evidence[400]; /* the rule or sysctl, with the dump line it came from */
};

struct audit_family {
	char mode[16]; /* iptables, nftables, ipvs; "" no kube-proxy found */
	char
	    backend[24]; /* the oracle's backend column: iptables-nft, iptables-legacy, nft, ipvs */
	char mode_from[128];
	char form[16]; /* the INVALID rule's form: none, drop, drop-nfacct, nft-drop */
	char era[256]; /* the releases that write this (topology/kube-proxy-releases) */
	struct audit_part parts[AUDIT_MAX_PARTS];
	size_t nparts;
	char workaround[160]; /* the parts joined by '+', or none */
};

struct audit_node {
	struct rules_facts rules;
	char unknown[512]; /* why no verdict can be given (a dump that cannot be read) */
	long be_liberal, tcp_loose, ignore_invalid_rst, timeout_established; /* -1 unknown */
	int ipvs_services, kube_ipvs0, docker0, calico_links;
	struct audit_kernel kernel;
	struct audit_family fam[2]; /* IPv4, IPv6 */
	char assumed[2048];	    /* what the audit took as given, one sentence a line */
};

/* the client's keepalive interval the user states (0: none assumed) */
struct audit_options {
	const char *kernel;	   /* --kernel X.Y: instead of uname.txt */
	const char *releases_file; /* topology/kube-proxy-releases */
	unsigned keepalive_s;
	const char *behaviours; /* --probe's measurement (NULL or "": none) */
	const char *probed;	/* --probe's sentence (NULL: not probed) */
};

/* Reads the dump into *node. Never fails on the dump's content: a file that is not what
 * its name says makes node->unknown say so (every verdict is then unknown). 0, or -1 with
 * *err on a system error. */
int audit_node_read(const struct dump *d, const struct audit_options *opt, struct audit_node *node,
		    char **err);

/* the paths a client takes through its node, as the bench's topologies name them */
#define AUDIT_NPATHS 4
const char *audit_path_name(size_t i);

struct audit_result {
	const char *path, *trigger;
	int family;
	char verdict[32];     /* reset, leak, clean, works, broken, or unknown */
	char why[4096];	      /* the oracle's reason, or why unknown */
	char decided_by[800]; /* the node's rule or sysctl that makes the difference */
	char workaround[160]; /* what the oracle was asked */
	char advise[800];     /* bench/advise's rows for this trigger, per the oracle */
};

/* Every path x trigger (the injector's table; connect on the asymmetric path) x family,
 * judged by the oracle: *out (malloc'd, *n of them). 0, or -1 with *err. */
int audit_judge(const struct audit_node *node, const struct oracle *o, struct audit_result **out,
		size_t *n, char **err);

#endif
