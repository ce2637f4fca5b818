/* Conntrack-aware review of captures: TCP segments from one or more captures of the same
 * traffic (client side, NAT node, backend side), merged by time, are grouped into
 * connections keyed on the 4-tuple (the VIP's and the backend's views of one connection
 * joined through the service map), replayed through the conntrack model (ctwin) as the NAT
 * node saw them, and checked for segments that reached the client with the backend's own
 * address ("NAT leak") and for the RSTs that answer them.
 *
 * Memory grows with the number of connections, never with the number of segments: per
 * connection a fixed ring of recent segments and at most max_rows kept for the report. */
#ifndef CTR_ANALYSE_H
#define CTR_ANALYSE_H

#include "ctwin.h"
#include "pcapfile.h"
#include "svcmap.h"
#include "verdict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANALYSE_MAX_CAPS 32

/* where a capture was taken; CAP_NODE and CAP_UNKNOWN are placed per connection from
 * what they show (a capture that sees the client address the VIP is on the client's side
 * of the NAT, one that sees it address the backend is past it, one seeing both spans it) */
enum cap_role { CAP_UNKNOWN, CAP_CLIENT, CAP_NODE, CAP_BACKEND };

const char *cap_role_name(enum cap_role r);

struct review_flow;
struct review_row;

/* A leak confirmed (a server -> client row given ROW_LEAK) or an RST first seen from the
 * client to the backend's own address (ROW_RST | ROW_UNNAT), as it happens: the live
 * detector's hook. r is valid during the call only. */
typedef void (*analyse_event_cb)(void *ctx, const struct review_flow *f, const struct review_row *r,
				 int cap);

struct analyse_opts {
	struct ctwin_opts ct;	/* the kernel modelled */
	unsigned max_rows;	/* segments kept per connection for the report (0: 256) */
	analyse_event_cb event; /* NULL: none */
	void *event_ctx;
	/* a connection seen only past the NAT (a node's own uplink: a host-network client's
	 * traffic leaves DNATed): the model's word that a reply skips reverse NAT marks it
	 * ROW_PREDICTED and raises an event, as does the client's RST to the backend there */
	bool predict;
};

/* Why a segment is in a connection's rows (0: context around one that is) */
#define ROW_WINDOW 0x01	   /* conntrack's verdict: IGNORE or INVALID, or be_liberal forgave it */
#define ROW_LEAK 0x02	   /* reached the client from the backend's own address */
#define ROW_RST 0x04	   /* an RST */
#define ROW_UNNAT 0x08	   /* the client sent it to the backend's own address */
#define ROW_REOPEN 0x10	   /* opened a new conntrack entry after the old one expired or died */
#define ROW_DROPPED 0x20   /* seen before the node but at no capture after it */
#define ROW_PREDICTED 0x40 /* only past the NAT: the model says reverse NAT skipped it */

struct review_row {
	uint64_t n;	/* ordinal of the segment in its connection (first sightings) */
	uint64_t ts_us; /* first seen */
	uint32_t seq, ack, len;
	uint16_t win, ip_id;
	uint8_t dir;	  /* 0 client -> server, 1 server -> client */
	uint8_t flags;	  /* TCPF_* */
	uint8_t notes;	  /* ROW_* */
	bool via_backend; /* first seen addressed to / from the backend itself, not the VIP */
	bool modelled;	  /* ct holds conntrack's verdict on it */
	bool nat_skipped; /* the model says the node forwards it without reverse NAT */
	struct ctwin_result ct;
	uint32_t seen;	    /* a bit per capture that saw it */
	uint32_t leaked_at; /* captures where it was a leak */
	uint32_t natted_at; /* captures that saw it (server -> client) from the VIP */
	int answers;	    /* RST: the row of the leaked segment whose ack is its seq, else -1 */
	enum ctwin_rst_effect effect; /* RST: what it does to the receiving socket */
	uint32_t sig;		      /* digest of seq, ack, flags, len, win, id, dir */
	uint8_t first_cap;
	uint32_t pending; /* captures where it is a leak unless a NATed twin shows */
	int row;	  /* index in rows (ring entries), -1 */
};

enum flow_end {
	END_OPEN,	     /* neither closed nor reset in the captures */
	END_CLOSED,	     /* FIN both ways */
	END_CLOSING,	     /* FIN one way */
	END_RESET_BY_LEAK,   /* the client's RST answering a leaked segment reset the backend */
	END_RESET_BY_CLIENT, /* the client reset it */
	END_RESET_BY_SERVER, /* the server reset it */
};

const char *flow_end_name(enum flow_end e);

#define FLOW_RING 8

struct review_flow {
	struct ctr_endpoint client;  /* the side that opened it (or the higher port) */
	struct ctr_endpoint server;  /* as the client addressed it: VIP:port, or the server */
	struct ctr_endpoint backend; /* where the NAT node sends it; = server without NAT */
	bool nat;		     /* server is a VIP DNATed to backend */
	bool nat_inferred;	     /* ...learned from the captures */
	bool handshake;		     /* the client's SYN was seen: windows are tracked strictly */
	uint64_t first_us, last_us;
	unsigned long segs[2]; /* unique segments per direction */
	uint64_t bytes[2];     /* their payload */
	unsigned long n_invalid, n_ignore, n_liberal, n_leak, n_rst, n_unnat, n_reopen;
	bool fin[2];
	enum flow_end end;
	int kill_row;	  /* the RST that reset the backend's connection, -1 */
	int last_rst_dir; /* -1 none */
	enum ctwin_rst_effect last_rst_effect;
	struct ctwin_conn ct;	 /* the NAT node's conntrack entry */
	struct review_row *rows; /* notable segments and context, ordered by n */
	size_t nrows, rows_cap;
	unsigned long rows_dropped; /* notable segments beyond max_rows */

	/* bookkeeping while reading */
	struct review_row ring[FLOW_RING]; /* recent first sightings */
	uint32_t ring_sig[FLOW_RING];	   /* their sig, packed: one cache line to scan */
	unsigned ring_head, ring_n;
	int8_t feed[2];			/* the capture whose copies feed the model, per direction */
	uint32_t front_caps, back_caps; /* captures that saw the client address VIP / backend */
	uint8_t context_after;		/* rows still to keep after a notable one */
	unsigned npending;
	uint64_t uniq;
	bool ct_had; /* the model had an entry once */
};

struct analyse_cap {
	char *path;
	enum cap_role role;
	struct pcapfile_stats stats;
	char *warning; /* the capture was cut or corrupt here; what came before was read */
};

/* segments: every sighting in every capture; unique: each segment once */
struct analyse_summary {
	unsigned long flows, segments, unique, invalid, ignore, liberal, leaks, rsts,
	    answering_rsts, resets, dropped;
};

struct analyse;

/* svc (may be NULL) is the caller's, and the analysis adds what it infers to it; it must
 * outlive the analysis. NULL with *err when out of memory. */
struct analyse *analyse_new(const struct analyse_opts *o, struct svcmap *svc, char **err);

/* Registers a capture; returns its index (the cap argument below) or -1 with *err. */
int analyse_add_capture(struct analyse *a, const char *path, enum cap_role role, char **err);

/* Feeds one segment seen by capture cap. Segments must come in time order across all
 * captures. 0, or -1 with *err (out of memory). */
int analyse_packet(struct analyse *a, int cap, const struct ctr_pkt *p, char **err);

/* Reads readers[i] as capture i, merged by time, into analyse_packet, and closes nothing.
 * A capture cut mid-way keeps what came before; its warning says where. 0, or -1 with
 * *err (out of memory). */
int analyse_merge(struct analyse *a, struct pcapfile *const *readers, size_t n, char **err);

/* Settles what needs the whole capture: leaks awaiting a twin, which RST answers which
 * leak and what it killed, how each connection ended. Call once, before reading results. */
void analyse_finish(struct analyse *a);

size_t analyse_flow_count(const struct analyse *a);
const struct review_flow *analyse_flow(const struct analyse *a, size_t i);
size_t analyse_cap_count(const struct analyse *a);
const struct analyse_cap *analyse_cap(const struct analyse *a, size_t i);
const struct svcmap *analyse_services(const struct analyse *a);
const struct analyse_opts *analyse_options(const struct analyse *a);
void analyse_summarise(const struct analyse *a, struct analyse_summary *s);

/* What was found, worst first wins: a connection reset by a leak's RST, a leak, nothing */
enum analyse_result { RESULT_CLEAN, RESULT_LEAK, RESULT_RESET };
enum analyse_result analyse_result(const struct analyse *a);
const char *analyse_result_name(enum analyse_result r);

/* The facts the bench's verdict is judged on (verdict_judge), as this analysis found them:
 * leaked segments, an RST from the client to the backend's own address, that RST in a
 * backend capture. injected and backend_end are the caller's, from the run's records. */
void analyse_verdict_facts(const struct analyse *a, struct verdict_facts *f);

/* Leaks awaiting a NATed twin (a capture spanning the NAT) whose TWIN_US has passed by
 * now_us are settled as leaks (all: every one, at the end of a live capture), as the
 * next segment of their flow would; events are raised for them. 0, or -1 with *err. */
int analyse_settle(struct analyse *a, uint64_t now_us, bool all, char **err);

/* Forgets connections (their pending leaks settled first): those idle since before
 * now_us - idle_us, then the least recently active until at most max_flows remain (0: no
 * cap). A forgotten connection seen again starts afresh, picked up mid-stream. Returns
 * how many were forgotten, or -1 with *err (out of memory). */
long analyse_evict(struct analyse *a, uint64_t now_us, uint64_t idle_us, size_t max_flows,
		   char **err);

/* The leaked segment the RST rst (a row of f, or a copy of one) answers by RFC 793's rule
 * (its seq is the leak's ack, or it acknowledges a leak without ACK), among f's kept rows
 * and recent segments; NULL when none. any: the server's segment it answers, leaked or
 * not (among the recent ones only). */
const struct review_row *analyse_rst_answers(const struct review_flow *f,
					     const struct review_row *rst, bool any);

/* Declares that client's connection to vip is DNATed to backend (the node's conntrack
 * entry says so), before or after its first segments: a connection seen only past the
 * NAT is then known as the VIP's. 0, or -1 with *err (out of memory). */
int analyse_declare_nat(struct analyse *a, const struct ctr_endpoint *client,
			const struct ctr_endpoint *vip, const struct ctr_endpoint *backend,
			char **err);

/* Whether a flow has anything to report (its rows hold more than context). */
bool flow_notable(const struct review_flow *f);

/* NULL is a no-op. */
void analyse_free(struct analyse *a);

#endif
