/* The bench's verdict for one scenario, decided from the captures and cross-checked with
 * what the workload recorded. The one place that says what reset, leak and clean mean. */
#ifndef CTR_VERDICT_H
#define CTR_VERDICT_H

#include "base/pkt.h"

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

/* how the client's own connection ended, as its record says (curl's exit and the
 * download's sha256, or ctreset-workload's client record) */
enum client_end {
	CLIENT_END_UNKNOWN = 0, /* no record: not cross-checked */
	CLIENT_END_COMPLETE,	/* the transfer completed (a download: intact) */
	CLIENT_END_RESET,	/* "Connection reset by peer" (curl exit 56) */
	CLIENT_END_STOPPED,	/* still alive when the bench stopped it */
	CLIENT_END_FAILED,	/* any other failure: timeout, corrupt download, error */
};

struct verdict_input {
	const char *client_pcap;      /* capture on the client pod's eth0: required */
	const char *backend_pcap;     /* capture on the backend pod's eth0: NULL if none */
	struct ctr_endpoint client;   /* the flow's client pod address:port */
	struct ctr_endpoint backend;  /* the flow's backend pod address:port (un-NATed) */
	bool injected;		      /* the injector reports it sent its event */
	enum backend_end backend_end; /* from the workload's record */
	enum client_end client_end;   /* from the client's record */
	unsigned dropped;	      /* packets the captures lost (inject.kv): a clean
					 verdict needs complete captures */
};

struct verdict_result {
	enum verdict verdict;
	char reason[256];	    /* one sentence: why this verdict */
	unsigned leaked_packets;    /* segments at the client from the backend's own address */
	struct ctr_pkt first_leak;  /* valid when leaked_packets > 0 (payload not kept) */
	bool client_rst;	    /* the client sent RST toward the backend's own address */
	struct ctr_pkt first_rst;   /* valid when client_rst */
	bool rst_at_backend;	    /* that RST is in the backend's capture */
	bool backend_reset;	    /* the workload recorded the backend's connection reset */
	enum client_end client_end; /* as given: what the client's record said */
};

/* What a verdict is decided from, however it was found: by verdict_decide's scan of a
 * bench run's two captures, or by ctreset-review's analysis of any captures. */
struct verdict_facts {
	bool injected;		      /* the event was caused */
	enum backend_end backend_end; /* from the workload's record */
	enum client_end client_end;   /* from the client's record */
	unsigned dropped;	      /* packets the captures lost: clean needs none */
	bool backend_captured;	      /* a capture at the backend was read */
	unsigned leaked_packets;      /* segments at the client from the backend's own address */
	bool client_rst;	      /* the client answered one with RST */
	bool rst_at_backend;	      /* that RST is in the backend's capture */
};

/* Decides. 0, or -1 with *err when a capture cannot be read (the result is then
 * VERDICT_INCONCLUSIVE with the reason). */
int verdict_decide(const struct verdict_input *in, struct verdict_result *out, char **err);

/* The decision itself, the one place that says what reset, leak, clean and
 * inconclusive mean: sets out->verdict, reason, backend_reset and client_end from f. */
void verdict_judge(const struct verdict_facts *f, struct verdict_result *out);

const char *verdict_name(enum verdict v);

/* The client_end of a record's end= value: complete|closed, reset, stopped|timeout,
 * failed|error|refused; anything else (or NULL) is CLIENT_END_UNKNOWN. */
enum client_end client_end_parse(const char *end);
const char *client_end_name(enum client_end e);

/* Parses a name of verdict_name; -1 if unknown. */
int verdict_parse(const char *name);

#endif
