/* One run of ctreset-inject as its parts see it: the options and the run's state (its
 * namespaces, captures, raw sockets, children, and what each part found or did). The
 * program's sequence is tools/inject.c's; a trigger's operations (trigger.h) act on this. */
#ifndef CTR_RUN_H
#define CTR_RUN_H

#include "capture.h"
#include "child.h"
#include "counters.h"
#include "craft.h"
#include "flow.h"
#include "hold.h"
#include "injectkv.h"
#include "natural.h"
#include "trigger.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_STAT_NS NATURAL_MAX_NS
#define MAX_BACKENDS FLOW_MAX_BACKENDS
#define MAX_RESET_NS 8
#define MAX_SERVER_ARGS 32

/* where the injector captures: the client, the node, then one per backend
 * (cap[CAPTURE_AT_BACKEND + k]). Not ctreset-review's enum cap_role (a file's role). */
enum capture_point { CAPTURE_AT_CLIENT, CAPTURE_AT_NODE, CAPTURE_AT_BACKEND };
#define MAX_CAPS (CAPTURE_AT_BACKEND + MAX_BACKENDS)

struct inject_opts {
	const char *client_ns, *node_ns;
	const char *backend_ns[MAX_BACKENDS];
	int n_backends;
	const char *client_if, *node_if, *backend_if;
	const char *stat_ns[MAX_STAT_NS];
	int n_stat_ns;
	const char *flush_ns[MAX_STAT_NS];
	int n_flush_ns;
	const char *reset_ns[MAX_RESET_NS];
	int n_reset_ns;
	char *server_argv[MAX_SERVER_ARGS + 1]; /* run in the first backend namespace */
	int n_server_args;
	struct counter_spec count; /* --count: a rule counter read at the start and end */
	bool have_count;
	const char *nfacct; /* --nfacct NAME: an nfacct object's, the same */
	bool read_counters; /* --read-counters: print them and exit */
	struct ctr_endpoint vip;
	struct ctr_addr client_ip; /* family 0: the client interface's own address */
	enum trigger trigger;
	const char *out;
	unsigned flow_timeout_ms, settle_ms, quiet_ms, buffer_kib;
	unsigned wait_cmd_ms;  /* 0: stop the command once settled */
	unsigned delay_ms;     /* follow the learned flow this long before injecting */
	unsigned snaplen;      /* 0: the capture default (an MTU-sized frame) */
	const char *filter;    /* BPF expression for every capture, NULL: none */
	unsigned allow_ns;     /* enum netns_allow: where flushes and deletions may happen */
	unsigned ct_timeout_s; /* nf_conntrack_tcp_timeout_established on the nodes, 0: kept */
	const char *hold_ns;   /* delayed-retransmit: the backend's node */
	unsigned hold_ms;      /* delayed-retransmit: how long, 0: until the window moved on */
	unsigned learn_bytes;  /* server bytes the client acknowledged before the flow is named */
	pid_t stall_pid;       /* idle-expiry: the backend's program, stopped mid-response */
	unsigned stall_ms;     /* for this long (SIGSTOP, then SIGCONT), 0: not stopped */
	char **cmd;	       /* workload to run in the client namespace, NULL-terminated */
	bool workload_process; /* --workload-process: ctreset-workload as a process too */
};

/* one run: its namespaces, captures and raw sockets, and one part per concern */
struct inject_run {
	const struct inject_opts *o;
	/* polls every capture once for up to wait_ms (ctx: this run): what a trigger waiting
	 * for the flow calls, and the flag a signal sets */
	int (*pump)(void *ctx, int wait_ms, char **err);
	const volatile sig_atomic_t *interrupted;
	int home_fd, node_fd; /* namespace fds: where we started, the DNAT node */
	struct capture *cap[MAX_CAPS];
	struct craft *craft[MAX_BACKENDS]; /* a raw socket in each backend's namespace */
	struct flow_find find;		   /* flow finding */
	struct child cmd, srv;		   /* child supervision: the client command, the server */
	unsigned reset_killed[MAX_RESET_NS];
	struct natural nat; /* what a natural trigger did to the nodes */
	struct hold *hold;  /* delayed-retransmit's queue, while it is there */
	bool skip;	    /* the error is this machine's lack (exit 4), not a failure */
	struct outcome out; /* the event and what the captures showed of it */
	struct timings t;
	struct ns_invalid invalid[MAX_STAT_NS];
	unsigned flushed[MAX_STAT_NS], flush_left[MAX_STAT_NS];
	uint64_t t_stall;	    /* --stall-pid: when it was stopped, 0: it is not */
	char *cap_err;		    /* the first capture not written whole (a full disk) */
	uint32_t inject_server_end; /* the backend's next seq when the event happened */
	bool data_after;	    /* the backend sent new data (not the probe) since */
	/* the event went in a pause of the stream (small-overshoot): the outcome waits for
	 * the resumed data too (see settle) */
	bool sent_in_pause;
};

#endif
