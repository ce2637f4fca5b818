/* The stream workload (ctreset-workload's): a server that streams a paced payload to the
 * one connection it accepts, a client that reads it, and the two measuring modes (sink,
 * latency); each writes how its connection ended to a key=value record. Run by
 * ctreset-workload's main, or in a thread of the injector (child.c), with the same code,
 * options and records. No process-wide state: a run is stopped and resumed through its
 * struct stream_ctl. */
#ifndef CTR_STREAM_H
#define CTR_STREAM_H

#include "base/addr.h"

#include <stdatomic.h>
#include <stdbool.h>

enum stream_mode { STREAM_SERVER, STREAM_CLIENT, STREAM_SINK, STREAM_LATENCY };

struct stream_opts {
	enum stream_mode mode;
	bool server;		/* listens: server or sink */
	struct ctr_endpoint ep; /* listen (server) or connect (client) address */
	const char *result;	/* where the record goes (a string of the parsed argv) */
	const char *pidfile;
	unsigned timeout_ms;
	unsigned interval_ms;
	unsigned chunk;
	unsigned count;			   /* latency: connects to time */
	unsigned pause_after_ms, pause_ms; /* server: one idle gap in the stream, 0: none */
	bool resume_signal;		   /* server: a resume (SIGUSR1) ends the pause */
	unsigned keepalive_s;		   /* client: TCP keepalive idle and interval, 0: off */
	unsigned stop_grace_ms;		   /* client: how long a stop waits for the peer's FIN */
	bool daemon;			   /* server, sink: fork once listening (a process only) */
	int ready_fd; /* server, sink: a line written here once listening, then closed; -1 */
	bool help;    /* -h, --help: nothing else was parsed */
};

/* How a run is told to stop or to end its pause, from a signal handler or another
 * thread: the flags, and an eventfd the loops poll beside their socket, so that either
 * wakes them at once. */
struct stream_ctl {
	atomic_int stop, resume, kick;
	int wake_fd;
};

/* argv[0] the program, argv[1] the mode, then its options (as ctreset-workload takes
 * them; getopt_long's globals are used: not concurrently with another parse). argv is not
 * reordered; o's strings point into it. 0 (o->help set for -h/--help), or -1 with *err, a
 * usage error's message. */
int stream_parse(int argc, char *const argv[], struct stream_opts *o, char **err);

/* 0, or -1 with *err (the eventfd). */
int stream_ctl_init(struct stream_ctl *c, char **err);
void stream_ctl_free(struct stream_ctl *c);

/* Stop the run (as SIGTERM did), end its pause (as SIGUSR1 did with --resume-signal; a
 * resume outside the pause is ignored). Async-signal-safe. */
void stream_ctl_stop(struct stream_ctl *c);
void stream_ctl_resume(struct stream_ctl *c);
/* The server's next chunk now, not at the pace's next tick (ignored in its pause, and by
 * the other modes): the bench wants the backend's next segment at once after it acted.
 * Async-signal-safe. */
void stream_ctl_kick(struct stream_ctl *c);

/* Runs o until its connection ends, its --timeout or a stop, writes its record to
 * o->result, closes o->ready_fd (written once listening) whatever happens. What went wrong
 * goes to stderr, prefixed "ctreset-workload: ". Returns the exit status: 0 the
 * connection ended as expected (stopped, closed, timeout), 1 reset or error. SIGPIPE must
 * not kill the caller (sends use MSG_NOSIGNAL; the ready line may meet a closed pipe). */
int stream_run(const struct stream_opts *o, struct stream_ctl *ctl);

#endif
