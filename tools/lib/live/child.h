/* Child supervision for the injector: a program started in a named network namespace (the
 * client's command; the backend's stream server, with its ready line on fd 3), stopped
 * and reaped within bounds; and --reset-ns, which kills whatever runs in a bench namespace. */
#ifndef CTR_CHILD_H
#define CTR_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct child {
	pid_t pid;	/* 0: never started */
	int status;	/* waitpid()'s, valid once exited */
	bool exited;	/* reaped */
	bool stopped;	/* it had to be sent SIGTERM */
	uint64_t t_end; /* now_ms() when child_reaped() saw it end by itself, else 0 */
};

/* Forks argv[0] (PATH searched) into the namespace ns (NULL: the caller's), in a process
 * group of its own.
 * ready_ms > 0: the child gets a pipe on fd 3 and this returns once it wrote a byte there
 * (it listens), failing if it did not within ready_ms or exited first; a signal that
 * interrupts the wait fails it too. 0, or -1 with *err (c->pid is set whenever it forked:
 * stop it). */
int child_start(struct child *c, const char *ns, char *const argv[], unsigned ready_ms, char **err);

/* Whether it has exited, reaping it without waiting (sets t_end the first time). */
bool child_reaped(struct child *c);

/* Unless it has exited (child_reaped()): SIGTERM (to its process group too with group),
 * up to grace_ms to exit, then SIGKILL; reaped. Marks it stopped. */
void child_stop(struct child *c, bool group, unsigned grace_ms);

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
