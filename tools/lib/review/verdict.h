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
	/* a connect cell's (trigger connect: a legitimate connection, nothing injected; the
	 * asymmetric topology's cells): what the workaround did to ordinary traffic */
	VERDICT_WORKS,	/* the handshake completed and the client received the stream */
	VERDICT_BROKEN, /* the handshake's third packet never reached the backend: the
			   client received nothing */
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
	const char *capture_error;    /* a capture not written whole (inject.kv
					 capture_error, e.g. a full disk), NULL: none */
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

/* A connect cell's facts: a legitimate connection from the client pod to the backend
 * pod's own address, nothing injected, its captures counted per place. */
struct connect_facts {
	bool client_record;		 /* the client wrote its record */
	unsigned long long client_bytes; /* bytes the client received (its record) */
	unsigned dropped;		 /* packets the captures lost */
	bool backend_captured;		 /* a capture at the backend was read */
	unsigned synack_at_client;	 /* the backend's SYN-ACKs in the client's capture */
	unsigned acks_at_node;		 /* the client's segments without SYN, at node A's pod
					    link (the handshake's third packet and later) */
	unsigned acks_at_backend;	 /* ... in the backend's capture */
};

/* Counts a connect cell's facts from its captures (client, node A, backend: NULL when
 * there is none) for the flow client -> backend; the record's fields are the caller's.
 * 0, or -1 with *err when a capture cannot be read. */
int connect_count(const char *client_pcap, const char *node_pcap, const char *backend_pcap,
		  const struct ctr_endpoint *client, const struct ctr_endpoint *backend,
		  struct connect_facts *f, char **err);

/* The decision for a connect cell, the one place that says what works and broken mean:
 * works when the client received bytes and its segments reached the backend; broken
 * when the SYN-ACK came back, the client's ACKs left it and reached node A, none reached
 * the backend and the client received nothing; else inconclusive (the reason says what
 * contradicts). Sets out->verdict and reason. */
void verdict_judge_connect(const struct connect_facts *f, struct verdict_result *out);

const char *verdict_name(enum verdict v);

/* The client_end of a record's end= value: complete|closed, reset, stopped|timeout,
 * failed|error|refused; anything else (or NULL) is CLIENT_END_UNKNOWN. */
enum client_end client_end_parse(const char *end);
const char *client_end_name(enum client_end e);

/* Parses a name of verdict_name; -1 if unknown. */
int verdict_parse(const char *name);

#endif
