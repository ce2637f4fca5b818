#ifndef CTR_OPT_H
#define CTR_OPT_H

/* The command-line argument getopt_long just refused (it returned '?'), for a one-line
 * usage error that names it; call right after getopt_long, with opterr = 0 so that getopt
 * prints nothing itself. Never NULL. */
const char *opt_refused(int argc, char *const argv[]);

#endif
