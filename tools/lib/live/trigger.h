/* The events the injector can cause in a live flow, each placed relative to the window
 * conntrack tracks (learned, never a magic constant), and what each one is meant to
 * exercise in nf_conntrack_proto_tcp.c. */
#ifndef CTR_TRIGGER_H
#define CTR_TRIGGER_H

#include "craft.h"
#include "learn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum trigger {
	TRIGGER_SEQ_ABOVE,	 /* seq beyond the client's window: "SEQ is over upper bound" */
	TRIGGER_SEQ_BELOW,	 /* e2e "boom" packet, seq = ack - 100000: IGNORE since 6.1 */
	TRIGGER_ACK_ABOVE,	 /* ack beyond what the client sent: "ACK is over upper bound" */
	TRIGGER_ACK_BELOW,	 /* ack far below the client's window */
	TRIGGER_BAD_FLAGS,	 /* SYN|FIN on an established flow: tcp_error() */
	TRIGGER_SMALL_OVERSHOOT, /* just past the window, within the receiver's max window */
	TRIGGER_CT_ENTRY_LOST,	 /* no segment: the client node's conntrack entry is deleted */
	/* natural: no segment, no libnl call; the workload's own traffic meets the state */
	TRIGGER_CT_FLUSH, /* the client node's table flushed (conntrack -F's ctnetlink message) */
	TRIGGER_IDLE_EXPIRY,	    /* the flow idles past a shortened established timeout */
	TRIGGER_DELAYED_RETRANSMIT, /* a backend segment held in its node, released late */
	TRIGGER_CONNECT, /* legitimate: nothing done, the client's own connection is the event */
	TRIGGER_COUNT
};

/* how a trigger causes its event (ctreset-inject --list-triggers' second column) */
enum trigger_kind {
	TRIGGER_CRAFTED,   /* sends one crafted segment from the backend's namespace */
	TRIGGER_CONNTRACK, /* acts on the DNAT node's conntrack table through libnl */
	TRIGGER_NATURAL,   /* nothing crafted: the workload's own traffic meets the state */
	/* nothing done at all: a legitimate connection, to see what a workaround does to
	 * ordinary traffic (the asymmetric topology's cell; no other topology runs one) */
	TRIGGER_LEGITIMATE,
};

struct inject_run;
struct record;

/* where a trigger acts besides the backend's namespace: the namespace guard refuses one no
 * ctreset run created (unless --allow-foreign-netns) */
enum trigger_acts_in {
	TRIGGER_ACTS_NOWHERE,
	TRIGGER_ACTS_IN_NODE, /* --node-ns, the DNAT node */
	TRIGGER_ACTS_IN_HOLD, /* --hold-ns, the backend's node */
};

/* options of ctreset-inject a trigger takes or needs (trigger_info.options) */
#define TRIGGER_TAKES_STALL 1u	 /* --stall-pid/--stall: the backend stopped mid-response */
#define TRIGGER_NEEDS_HOLD_NS 2u /* --hold-ns: where a segment is held */
/* no flow is found nor learned before the event: the trigger's cause watches the client's
 * connection from its start, however far it gets (--delay is then the cause's own: when
 * it acts, from the command's start; --learn-bytes is not used) */
#define TRIGGER_LEARNS_NO_FLOW 4u

/* what the bench is running, from which a trigger's bench arguments are computed */
struct trigger_bench_in {
	unsigned idle_timeout_s; /* CTR_IDLE_TIMEOUT (1..60), 0: not set */
	unsigned time_scale;	 /* CTR_TIME_SCALE (1..99): a slow machine's factor */
	const char *workaround;	 /* the cell's workaround (only keepalive changes a value) */
	bool http;		 /* the workload: http (nginx, curl); else stream */
};

/* the values every trigger's bench arguments are made of (trigger_bench_values: each
 * one's margin is explained there) */
struct trigger_bench {
	const struct trigger_bench_in *in;
	unsigned ct_timeout_s; /* the nodes' established timeout T */
	unsigned pause_ms;     /* the stream's idle pause, past T */
	unsigned gap_ms;       /* the bound of a pause to lose an entry (or send) in */
	unsigned stream_ms;    /* how long the stream lasts (it outlasts the pause) */
	unsigned stall_ms;     /* how long the http workload's nginx stands still */
	unsigned curl_keepalive_s, http_extra_s; /* curl under a stall: keepalive, longer bounds */
};

/* Everything about one trigger, next to its name: its row, in the trigger's own file
 * (tools/lib/live/trig_*.c), one pointer to it in trigger.c's table. What a field does
 * not concern is NULL or 0. */
struct trigger_info {
	const char *name;
	enum trigger_kind kind;
	const char *summary; /* one line for --help, --list-triggers and reports */
	/* crafted: places the segment against the learned window (seg comes preset to the
	 * server's next seq, the client's next seq as ack, PSH|ACK, the probe payload) and
	 * explains the placement in one line */
	void (*place)(const struct learn_flow *f, struct craft_segment *seg, char *explain,
		      size_t explain_len);
	/* the inject step: causes the event once the flow is learned (out.explain says
	 * what was done). 0, or -1 with *err (r->skip: this machine cannot) */
	int (*cause)(struct inject_run *r, char **err);
	/* after the run however it ended: nothing the trigger did is left (a program
	 * stopped, a segment held); NULL: nothing to undo */
	void (*cleanup)(struct inject_run *r);
	/* what it validates: the options it takes (TRIGGER_TAKES_*, TRIGGER_NEEDS_*), the
	 * nodes' established timeout it sets without --ct-timeout, where it acts (and what
	 * it does there, for the guard's refusal: "... in NS") */
	unsigned options;
	unsigned default_ct_timeout_s;
	enum trigger_acts_in acts_in;
	const char *acts;
	/* when it has settled: the quiet period counts once the backend sent data after the
	 * event (else once the probe left the backend), and lasts at least quiet_min_ms */
	bool settles_on_data;
	unsigned quiet_min_ms;
	/* what evidence it writes: the DNAT node's conntrack events (ct-events.txt, read over
	 * ctnetlink in conntrack -E's format; the NEW entries counted in inject.kv), and its own
	 * inject.kv lines after probe.explain */
	bool ct_events;
	void (*evidence)(FILE *f, const struct record *rec);
	/* the bench parameters it needs, computed: one WHERE<TAB>ARGS line each (WHERE:
	 * inject, the injector's options; server and client, the stream workload's; stall
	 * and body, the http workload's), from b's values. {backend_node} in ARGS is the
	 * backend's node namespace, a name only the cell knows. NULL: nothing */
	void (*bench)(FILE *f, const struct trigger_bench *b);
};

/* the kind's name: crafted, conntrack, natural or legitimate */
const char *trigger_kind_name(enum trigger_kind k);

const struct trigger_info *trigger_info(enum trigger t);

/* Looks a trigger up by name; -1 if unknown. */
int trigger_parse(const char *name);

/* The e2e test's offset below the acknowledged sequence (test/images/regression-issue-74839) */
#define TRIGGER_E2E_BELOW 100000u

/* conntrack's MAXACKWINDOW(sender): the sender's max window, at least 66000 */
uint32_t trigger_maxackwindow(const struct learn_dir *sender);

/* The values of a bench run's trigger arguments (trigger_bench). */
void trigger_bench_values(const struct trigger_bench_in *in, struct trigger_bench *b);

/* Prints the finished bench arguments of each trigger of the comma-separated names for
 * each workaround of the comma-separated workarounds: TRIGGER<TAB>WORKAROUND<TAB>WHERE
 * <TAB>ARGS lines (ctreset-inject --bench-args). 0, or -1 with *err (an unknown name). */
int trigger_bench_print(FILE *f, const char *names, const char *workarounds,
			const struct trigger_bench_in *in, char **err);

/* Fills seg with the segment t sends from the server side of f (payload: a static probe
 * string) and writes one line explaining the placement into explain. Requires
 * learn_ready(f). 0, or -1 if t crafts no segment. */
int trigger_probe(enum trigger t, const struct learn_flow *f, struct craft_segment *seg,
		  char *explain, size_t explain_len);

#endif
