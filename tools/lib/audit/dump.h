/* A node's dump: the plain outputs of the standard tools, one file each (ctreset-audit
 * --from DIR reads them, --dump DIR writes them from a live namespace). Any may be
 * missing. */
#ifndef CTR_AUDIT_DUMP_H
#define CTR_AUDIT_DUMP_H

#include <stddef.h>

enum dump_file {
	DUMP_IPT4,	  /* iptables-save */
	DUMP_IPT6,	  /* ip6tables-save */
	DUMP_IPT4_LEGACY, /* iptables-legacy-save */
	DUMP_IPT6_LEGACY, /* ip6tables-legacy-save */
	DUMP_NFT_JSON,	  /* nft-ruleset.json: nft -j list ruleset */
	DUMP_NFT_TXT,	  /* nft-ruleset.txt: nft list ruleset */
	DUMP_SYSCTL,	  /* sysctl.txt: sysctl -a */
	DUMP_UNAME,	  /* uname.txt: uname -r */
	DUMP_IPVS,	  /* ipvsadm.txt: ipvsadm -Sn */
	DUMP_LINK,	  /* ip-link.txt: ip -d link */
	DUMP_COUNT
};

/* each file's name in DIR and the command whose output it is */
struct dump_source {
	const char *file;
	const char *argv[5];
};

const struct dump_source *dump_source(enum dump_file f);

/* largest file read (a node with 10k services has an iptables-save of a few MB) */
#define DUMP_MAX_BYTES (64u << 20)

struct dump {
	char *text[DUMP_COUNT];	   /* NUL-terminated; NULL when missing */
	char why[DUMP_COUNT][160]; /* why a file is missing ("" when present) */
};

/* Reads DIR's files into *d (zeroed first); a missing file is not an error (its why
 * says so), nor is an empty one. 0, or -1 with *err when DIR cannot be read, a file is
 * larger than DUMP_MAX_BYTES, or holds a NUL byte (not text). */
int dump_read(const char *dir, struct dump *d, char **err);

/* Runs each command in the network namespace netns (a name under /run/netns or a path
 * such as /proc/PID/ns/net, opened once: a namespace that vanishes later stays readable
 * through the descriptor) and writes its output to DIR/FILE (DIR created when missing);
 * a command that is not installed or fails writes no file, and *notes (malloc'd, one line
 * each) says which and why. Each command is bounded by timeout_s. 0, or -1 with *err
 * (the namespace cannot be opened or entered, DIR cannot be written). Changes nothing in
 * the namespace: only the read-only listing commands above run there. */
int dump_write_live(const char *netns, const char *dir, unsigned timeout_s, char **notes,
		    char **err);

void dump_free(struct dump *d);

#endif
