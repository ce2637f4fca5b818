/* Live captures through libpcap, each bound to the network namespace that was current
 * when it was opened, each written to its own pcap file as packets arrive. */
#ifndef CTR_CAPTURE_H
#define CTR_CAPTURE_H

#include "base/pkt.h"

struct capture;

/* Called for every decoded TCP segment a capture reads. */
typedef void (*capture_cb)(void *ctx, const struct capture *c, const struct ctr_pkt *p);

/* Opens a non-blocking, immediate-mode capture on ifname in the current namespace and a
 * pcap file at path (created, truncated). label names the point ("client", "nodeA") in
 * messages and callbacks; buffer_kib sizes the kernel ring (0: CAPTURE_BUFFER_KIB; a
 * larger ring costs milliseconds to set up, a smaller one drops under load, which
 * capture_dropped reports). Returns NULL with *err set on failure. */
struct capture *capture_open(const char *label, const char *ifname, const char *path,
			     unsigned buffer_kib, char **err);

#define CAPTURE_BUFFER_KIB 1024

/* What capture_open_opts can set beyond capture_open; zero fields take the defaults. */
struct capture_opts {
	unsigned buffer_kib; /* kernel ring, as for capture_open */
	unsigned snaplen;    /* bytes kept of each frame (0: 1600, a whole MTU-sized frame);
				a short one keeps headers only, payload_len still comes
				from the IP header */
	const char *filter;  /* BPF expression (pcap-filter(7)), NULL for every packet */
};

/* capture_open with options; NULL opts is capture_open's defaults. A NULL path writes no
 * file (a detector that only reads). */
struct capture *capture_open_opts(const char *label, const char *ifname, const char *path,
				  const struct capture_opts *opts, char **err);

/* The fd to poll() for readability. */
int capture_fd(const struct capture *c);
const char *capture_label(const struct capture *c);
const char *capture_path(const struct capture *c);

/* Reads every packet pending, appends each to the file and passes each TCP segment to
 * cb. Returns the number of packets read, or -1 with *err. */
int capture_dispatch(struct capture *c, capture_cb cb, void *ctx, char **err);

/* Packets the kernel dropped for this capture (buffer overrun), 0 when unknown. */
unsigned capture_dropped(const struct capture *c);

/* Flushes and closes file and capture. NULL is a no-op. */
void capture_close(struct capture *c);

/* Flushes what the capture wrote to its file: 0, or -1 with *err when the file could not
 * be written whole (e.g. "No space left on device": the pcap is truncated, and no
 * verdict may rest on it). */
int capture_flush(struct capture *c, char **err);

#endif
