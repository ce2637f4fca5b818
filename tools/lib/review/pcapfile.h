/* Reading a capture file (pcap or pcapng, any link type pkt_decode knows) segment by
 * segment: all at once with a callback, or one segment at a time through a reader, so
 * that several captures can be merged by time without loading any of them. */
#ifndef CTR_PCAPFILE_H
#define CTR_PCAPFILE_H

#include "base/pkt.h"

#include <stddef.h>

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

/* A reader over one capture. */
struct pcapfile;

/* Opens path. NULL with *err when it is not a capture libpcap reads (zero length,
 * garbage header) or its link type is unsupported. */
struct pcapfile *pcapfile_open(const char *path, char **err);

/* The same, a classic pcap file read bytes at a time at most (0: the default, 256 KiB):
 * for tests and fuzzing, to put record edges across reads. pcapng: as pcapfile_open. */
struct pcapfile *pcapfile_open_read_size(const char *path, size_t bytes, char **err);

/* The same over a capture held in memory (buf must outlive the reader). */
struct pcapfile *pcapfile_open_mem(const void *buf, size_t len, char **err);

/* The next TCP segment into *out: 1, or 0 at the end of the file, or -1 with *err when
 * the file is cut or corrupt mid-way (what came before the cut was returned; a later
 * call returns 0). out->payload points into the reader's buffer until the next call. */
int pcapfile_next(struct pcapfile *f, struct ctr_pkt *out, char **err);

const struct pcapfile_stats *pcapfile_stats(const struct pcapfile *f);

/* NULL is a no-op. */
void pcapfile_close(struct pcapfile *f);

#endif
