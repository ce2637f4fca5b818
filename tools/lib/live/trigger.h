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
	TRIGGER_CT_FLUSH,    /* Debian's `conntrack -F` run in the client node's namespace */
	TRIGGER_IDLE_EXPIRY, /* the flow idles past a shortened established timeout */
	TRIGGER_COUNT
};

struct trigger_info {
	const char *name;
	const char *summary; /* one line for --help and reports */
	bool crafts;	     /* sends a segment (false: acts on conntrack) */
	bool natural;	     /* the reset, if any, comes from the workload's own traffic */
};

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
