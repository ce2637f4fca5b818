/* The events the injector can cause in a live flow, each placed relative to the window
 * conntrack tracks (learned, never a magic constant), and what each one is meant to
 * exercise in nf_conntrack_proto_tcp.c. */
#ifndef CTR_TRIGGER_H
#define CTR_TRIGGER_H

#include "craft.h"
#include "learn.h"

#include <stddef.h>

enum trigger {
	TRIGGER_SEQ_ABOVE,	 /* seq beyond the client's window: "SEQ is over upper bound" */
	TRIGGER_SEQ_BELOW,	 /* e2e "boom" packet, seq = ack - 100000: IGNORE since 6.1 */
	TRIGGER_ACK_ABOVE,	 /* ack beyond what the client sent: "ACK is over upper bound" */
	TRIGGER_ACK_BELOW,	 /* ack far below the client's window */
	TRIGGER_BAD_FLAGS,	 /* SYN|FIN on an established flow: tcp_error() */
	TRIGGER_SMALL_OVERSHOOT, /* just past the window, within the receiver's max window */
	TRIGGER_CT_ENTRY_LOST,	 /* no segment: the client node's conntrack entry is deleted */
	/* natural: no segment, no libnl call; the workload's own traffic meets the state */
	TRIGGER_CT_FLUSH,	    /* Debian's `conntrack -F` run in the client node's namespace */
	TRIGGER_IDLE_EXPIRY,	    /* the flow idles past a shortened established timeout */
	TRIGGER_DELAYED_RETRANSMIT, /* a backend segment held in its node, released late */
	TRIGGER_COUNT
};

/* how a trigger causes its event (ctreset-inject --list-triggers' second column) */
enum trigger_kind {
	TRIGGER_CRAFTED,   /* sends one crafted segment from the backend's namespace */
	TRIGGER_CONNTRACK, /* acts on the DNAT node's conntrack table through libnl */
	TRIGGER_NATURAL,   /* nothing crafted: the workload's own traffic meets the state */
};

/* Everything about one trigger, next to its name: adding a trigger is a row here and the
 * code that causes it. */
struct trigger_info {
	const char *name;
	enum trigger_kind kind;
	const char *summary; /* one line for --help, --list-triggers and reports */
	/* what the bench must give the injector and the stream workload for it (natural
	 * triggers; NULL: nothing), one "WHERE<TAB>ARGS" line each: WHERE inject (options of
	 * ctreset-inject), server (of the stream server, through --server-arg) or client (of
	 * the stream client). ARGS may hold {ct_timeout} (the established timeout, s),
	 * {pause_ms} (ct_timeout + 0.4 s), {gap_ms} (a pause in the stream to lose an entry
	 * in: 0.3 s), {stream_ms} (ct_timeout + 6 s) and {backend_node} (the backend's node
	 * namespace), which bench/natural.sh fills in (the pauses longer on a slow machine). */
	const char *bench;
};

/* the kind's name: crafted, conntrack or natural */
const char *trigger_kind_name(enum trigger_kind k);

const struct trigger_info *trigger_info(enum trigger t);

/* Looks a trigger up by name; -1 if unknown. */
int trigger_parse(const char *name);

/* The e2e test's offset below the acknowledged sequence (test/images/regression-issue-74839) */
#define TRIGGER_E2E_BELOW 100000u

/* conntrack's MAXACKWINDOW(sender): the sender's max window, at least 66000 */
uint32_t trigger_maxackwindow(const struct learn_dir *sender);

/* Fills seg with the segment t sends from the server side of f (payload: a static probe
 * string) and writes one line explaining the placement into explain. Requires
 * learn_ready(f). 0, or -1 if t crafts no segment. */
int trigger_probe(enum trigger t, const struct learn_flow *f, struct craft_segment *seg,
		  char *explain, size_t explain_len);

#endif
