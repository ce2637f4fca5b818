/* bench/advise's page, "the choice, on one page": which workaround stops which reset and
 * what legitimate traffic it breaks, with each cell's evidence, from a run's records. */
#ifndef CTR_ADVISE_H
#define CTR_ADVISE_H

#include "render.h"

#include <stdio.h>

/* Writes the page of run (kind=advise: dim.workaround the rows, dim.trigger the
 * triggers, matrix_run and asymmetric_run where the records came from, cell= each
 * record's directory) to f: the table, then each cell's evidence; JSON when json.
 * A trigger is a column when the record of workaround none says it resets or leaks;
 * the "breaks" column is the workaround's record of the asymmetric topology's cell
 * (trigger connect: works, or broken) and the triggers it stops by stalling the connection (clean,
 * but the backend's connection neither closed nor reset: stopped by the bench). Returns 0 every
 * record as expected, 1 one was not (or one cell has no record), 4 no record has a verdict (nothing
 * ran: not a pass). */
int advise_render(FILE *f, const struct run *run, int json);

#endif
