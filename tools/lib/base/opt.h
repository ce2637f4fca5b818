#ifndef CTR_OPT_H
#define CTR_OPT_H

/* The command-line argument getopt_long just refused (it returned '?'), for a one-line
 * usage error that names it; call right after getopt_long, with opterr = 0 so that getopt
 * prints nothing itself. Never NULL. */
const char *opt_refused(int argc, char *const argv[]);

/* Prints "<prog>: argument "ARG" is wrong: WHY" to stderr (prog: the program's own name)
 * and returns CTR_EXIT_USAGE, for main()'s option checks. */
int opt_bad(const char *arg, const char *why);

#endif
