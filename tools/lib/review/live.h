/* The live detector (ctreset-review --live): libpcap captures (TCP only, by BPF) on a
 * node's pod-facing interfaces, replayed as they arrive through the same conntrack-aware
 * analysis as the offline review (analyse.c, ctwin.c), with the service map learned from
 * the node's conntrack table over netlink (each DNATed TCP entry: original destination =
 * VIP, reply source = backend), refreshed as it runs. Each un-NATed reply and each RST
 * it causes is reported as it happens (text, and JSON lines), counters are kept as
 * Prometheus text exposition replaced atomically, and memory stays bounded: at most
 * max_flows connections are tracked, idle ones forgotten. */
#ifndef CTR_LIVE_DETECT_H
#define CTR_LIVE_DETECT_H

#include "ctwin.h"
#include "svcmap.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LIVE_MAX_IFACES 16
#define LIVE_MAX_FLOWS 65536u /* connections tracked at once (--max-flows) */
#define LIVE_IDLE_S 300u      /* a connection silent this long is forgotten */
#define LIVE_MAX_ROWS 8u      /* segments kept per connection (leaks and RSTs get 2x) */

struct live_opts {
	const char *ifaces[LIVE_MAX_IFACES];
	size_t nifaces;
	const char *netns;	     /* NAME or PATH (/proc/PID/ns/net); NULL: our own */
	double duration_s;	     /* 0: until SIGINT/SIGTERM */
	const char *json_lines;	     /* a JSON object a line per event, or NULL */
	const char *metrics;	     /* Prometheus text exposition, replaced atomically, or NULL */
	struct svcmap *svc;	     /* given services (-s), or NULL: learned from conntrack */
	struct ctwin_opts ct;	     /* the kernel modelled; be_liberal/no_pickup also from the
					namespace's sysctls */
	unsigned max_flows;	     /* 0: LIVE_MAX_FLOWS */
	unsigned idle_s;	     /* 0: LIVE_IDLE_S */
	FILE *out;		     /* event lines and the summary */
	volatile sig_atomic_t *stop; /* set by the caller's signal handler */
};

struct live_summary {
	unsigned long segments, leaks, rsts, answering_rsts, resets, evicted, services,
	    refresh_errors;
	size_t flows, peak_flows;
	unsigned long drops[LIVE_MAX_IFACES]; /* pcap_stats: the kernel's, per interface */
	double seconds;
};

/* Bytes a tracked connection can hold at most (its state and its kept segments): the
 * memory bound is max_flows times this. */
size_t live_flow_bytes(void);

/* Runs until o->duration_s has passed or *o->stop is set, printing events to o->out as
 * they happen and the summary at the end. 0 when it ran to its end; -1 with *err (an
 * interface that cannot be captured on or went down, a namespace that vanished, a file
 * that cannot be written), the summary of what ran printed all the same. */
int live_run(const struct live_opts *o, struct live_summary *s, char **err);

/* Adds the interfaces of a comma-joined list: 0, or -1 with *err. */
int live_parse_ifaces(struct live_opts *o, const char *list, char **err);

/* The front end of ctreset-review --live: SIGINT/SIGTERM end the run (its summary
 * printed), the run's result as the exit status: 0 nothing leaked, CTR_EXIT_LEAK a leak,
 * CTR_EXIT_RESET a backend connection reset, CTR_EXIT_FAIL an error (named on stderr). */
int live_cli(struct live_opts *o);

#endif
