/* Reading a capture file (pcap or pcapng, any link type pkt_decode knows) segment by
 * segment. */
#ifndef CTR_PCAPFILE_H
#define CTR_PCAPFILE_H

#include "pkt.h"

struct pcapfile_stats {
	unsigned long frames;	 /* records read */
	unsigned long tcp;	 /* decoded TCP segments */
	unsigned long other;	 /* well-formed, not TCP */
	unsigned long malformed; /* cut or inconsistent */
};

/* Called for each TCP segment; return non-zero to stop early. */
typedef int (*pcapfile_cb)(void *ctx, const struct ctr_pkt *p);

/* Reads path, calling cb for each TCP segment in file order. stats may be NULL.
 * 0, or -1 with *err (unreadable file, unsupported link type). */
int pcapfile_foreach(const char *path, pcapfile_cb cb, void *ctx, struct pcapfile_stats *stats,
		     char **err);

#endif
