/* Child supervision for the injector: a program started in a named network namespace (the
 * client's command; the backend's stream server, with its ready line on fd 3), stopped
 * and reaped within bounds; and --reset-ns, which kills whatever runs in a bench namespace.
 * A child is a process, or, when the program is ctreset-workload itself (the stream
 * workload), a thread of the caller running the same code (live/stream.h) in the
 * namespace: no fork, no exec. The calls below are the same for both. */
#ifndef CTR_CHILD_H
#define CTR_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct child_thread;

struct child {
	pid_t pid;		     /* a process's, 0: never started or a thread */
	struct child_thread *thread; /* the in-process variant, until joined */
	bool in_process;	     /* it was started as a thread */
	int status;		     /* waitpid()'s (a thread's: as if it exited with its
				      * return code), valid once exited */
	bool exited;		     /* reaped (a thread: joined) */
	bool stopped;		     /* it had to be sent SIGTERM (a thread: told to stop) */
	uint64_t t_end;		     /* now_ms() when child_reaped() saw it end by itself, else 0 */
};

/* how child_start may run argv */
enum child_how {
	CHILD_AUTO,    /* ctreset-workload (the very file beside this program, by any name
			* ending in /ctreset-workload) in a thread, anything else a process */
	CHILD_PROCESS, /* always a process (ctreset-inject --workload-process) */
};

/* Forks argv[0] (PATH searched) into the namespace ns (NULL: the caller's), in a process
 * group of its own; or (how CHILD_AUTO, argv[0] the ctreset-workload beside this program,
 * its options a thread can run: not --daemon nor --pidfile, which name a process) starts a
 * thread, all signals blocked, that enters ns and runs the stream workload with argv's
 * options (its --ready-fd replaced by the ready pipe below, or dropped without ready_ms).
 * ready_ms > 0: the child gets a pipe on fd 3 and this returns once it wrote a byte there
 * (it listens), failing if it did not within ready_ms or exited first; a signal that
 * interrupts the wait fails it too. 0, or -1 with *err (child_started() whenever it
 * forked or the thread runs: stop it). */
int child_start(struct child *c, const char *ns, char *const argv[], unsigned ready_ms,
		enum child_how how, char **err);

/* Whether it was started (a process forked, a thread created). */
bool child_started(const struct child *c);

/* Whether it has exited, reaping it without waiting (sets t_end the first time). */
bool child_reaped(struct child *c);

/* Unless it has exited (child_reaped()): SIGTERM (to its process group too with group),
 * up to grace_ms to exit, then SIGKILL; reaped. Marks it stopped. A thread is told to stop
 * (its loops wake at once) and joined if it ends within grace_ms; a thread cannot be
 * killed: one that does not end is left to run (detached) until its own --timeout and
 * poll deadlines end it, or the process exits, and its exit stays "unknown". */
void child_stop(struct child *c, bool group, unsigned grace_ms);

/* Sends sig to a running child. A thread takes SIGTERM and SIGINT (stop, as its process
 * would) and SIGUSR1 (--resume-signal's resume; without --resume-signal ignored, where a
 * process would have died of it); another signal is EINVAL. 0, or -1 with errno (ESRCH:
 * not running). */
int child_signal(struct child *c, int sig);

/* A running thread's stream server sends its next chunk now (stream_ctl_kick); a process
 * (its own pace, or nginx) is left as it is. */
void child_kick(struct child *c);

/* SIGTERM to pid (and to its process group with group_term), up to grace_ms for it to
 * exit, then SIGKILL to the group and pid; reaps it into *status. Whether it was reaped. */
bool terminate_child(pid_t pid, bool group_term, unsigned grace_ms, int *status);

/* the state letter of /proc/PID/stat (R, S, D, Z, ...), 0 when it cannot be read */
char child_proc_state(pid_t pid);

/* How it ended, for a record: "0".."255", "signal N", or "unknown" (not reaped). */
void child_exit_str(const struct child *c, char *buf, size_t n);

/* --reset-ns: SIGKILLs every process whose network namespace is one of the bench
 * namespaces names[0..n-1] (ctr-* by name, under /run/netns) and waits, bounded (2 s),
 * until none runs; killed[i] counts those of names[i]. 0, or -1 with *err. */
int child_reset_ns(const char *const names[], int n, unsigned killed[], char **err);

#endif
