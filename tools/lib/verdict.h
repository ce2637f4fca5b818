/* The bench's verdict for one scenario, decided from the captures and cross-checked with
 * what the workload recorded. The one place that says what reset, leak and clean mean. */
#ifndef CTR_VERDICT_H
#define CTR_VERDICT_H

#include "pkt.h"

#include <stdbool.h>

enum verdict {
	VERDICT_INCONCLUSIVE = 0, /* could not inject or capture: never a pass */
	VERDICT_CLEAN,		  /* injected; nothing un-NATed reached the client */
	VERDICT_LEAK,		  /* un-NATed segment reached the client; backend survived */
	VERDICT_RESET,		  /* ...the client answered RST and the backend's connection died */
};

/* how the backend's connection ended, as the workload recorded it */
enum backend_end {
	BACKEND_END_UNKNOWN = 0, /* no record */
	BACKEND_END_RESET,	 /* ECONNRESET (or EPIPE after a reset) */
	BACKEND_END_ALIVE,	 /* stopped by the bench, or closed in order */
};

struct verdict_input {
	const char *client_pcap;      /* capture on the client pod's eth0: required */
	const char *backend_pcap;     /* capture on the backend pod's eth0: NULL if none */
	struct ctr_endpoint client;   /* the flow's client pod address:port */
	struct ctr_endpoint backend;  /* the flow's backend pod address:port (un-NATed) */
	bool injected;		      /* the injector reports it sent its event */
	enum backend_end backend_end; /* from the workload's record */
	unsigned dropped;	      /* packets the captures lost (inject.kv): a clean
					 verdict needs complete captures */
};

struct verdict_result {
	enum verdict verdict;
	char reason[256];	   /* one sentence: why this verdict */
	unsigned leaked_packets;   /* segments at the client from the backend's own address */
	struct ctr_pkt first_leak; /* valid when leaked_packets > 0 (payload not kept) */
	bool client_rst;	   /* the client sent RST toward the backend's own address */
	struct ctr_pkt first_rst;  /* valid when client_rst */
	bool rst_at_backend;	   /* that RST is in the backend's capture */
	bool backend_reset;	   /* the workload recorded the backend's connection reset */
};

/* Decides. 0, or -1 with *err when a capture cannot be read (the result is then
 * VERDICT_INCONCLUSIVE with the reason). */
int verdict_decide(const struct verdict_input *in, struct verdict_result *out, char **err);

const char *verdict_name(enum verdict v);

/* Parses a name of verdict_name; -1 if unknown. */
int verdict_parse(const char *name);

#endif
