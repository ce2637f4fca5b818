/* The triggers' own files (trig_*.c), as trigger.c's table and each other see them: each
 * file defines its rows (struct trigger_info, trigger.h) and the operations they point
 * to; what two of them share is declared here. Not for the programs: they use trigger.h. */
#ifndef CTR_TRIG_H
#define CTR_TRIG_H

#include "run.h"
#include "trigger.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* the rows, one per enum trigger value, each in its trigger's file */
extern const struct trigger_info trig_seq_above, trig_seq_below, trig_ack_above, trig_ack_below,
    trig_bad_flags;						    /* trig_crafted.c */
extern const struct trigger_info trig_small_overshoot;		    /* trig_overshoot.c */
extern const struct trigger_info trig_ct_entry_lost, trig_ct_flush; /* trig_lost.c */
extern const struct trigger_info trig_idle_expiry;		    /* trig_idle.c */
extern const struct trigger_info trig_delayed_retransmit;	    /* trig_delay.c */
extern const struct trigger_info trig_connect;			    /* trig_connect.c */

/* trig_crafted.c: a crafted trigger's evidence (probe.seq, .ack, .flags, .len), and its
 * segment placed by its row and sent from the flow's backend */
void trig_probe_evidence(FILE *f, const struct record *rec);
int trig_probe_send(struct inject_run *r, char **err);

/* trig_pause.c: waits for a pause of the stream (nothing in flight: the captures' state of
 * the flow is the nodes'); *paused false when none came within --settle */
int trig_wait_pause(struct inject_run *r, bool *paused, char **err);

/* How long a pump may wait for packets when the loop's next deadline (now_ms()) is until:
 * until then, at least 1 ms, at most 250 (a packet or a signal ends the wait at once). */
int trig_wait_ms(uint64_t now, uint64_t until);
/* whether the server ends its pause on SIGUSR1 (--resume-signal), and is still there */
bool trig_server_resumes(struct inject_run *r);
/* the stream pauses after 100 ms for at most b->gap_ms, until told to resume: the bench
 * line of a trigger that acts in a pause (ct-flush, ct-entry-lost, small-overshoot) */
void trig_bench_gap(FILE *f, const struct trigger_bench *b);

#endif
