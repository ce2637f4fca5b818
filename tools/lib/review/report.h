/* Writing an analysis (analyse.h) for people and programs: a text report (one line per
 * notable event, then a summary per connection), a ladder diagram of the notable events
 * as text and as SVG (lanes client, node, backend), and JSON. Writes to the FILE given;
 * prints nothing else. */
#ifndef CTR_REPORT_H
#define CTR_REPORT_H

#include "analyse.h"
#include "verdict.h"

#include <stdbool.h>
#include <stdio.h>

struct report_opts {
	bool all_flows;			      /* summarise connections with nothing to report too */
	const struct verdict_result *verdict; /* a bench run's verdict (run directory), or NULL */
	const char *expected;		      /* ...and the one its scenario expects, or NULL */
};

void report_text(FILE *out, const struct analyse *a, const struct report_opts *o);

/* The ladder of every connection with something to report, as text. */
void report_ladder(FILE *out, const struct analyse *a);

/* The same as one SVG document. */
void report_svg(FILE *out, const struct analyse *a);

void report_json(FILE *out, const struct analyse *a, const struct report_opts *o);

#endif
