#include "opt.h"

#include "exitcodes.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

const char *opt_refused(int argc, char *const argv[])
{
	static char shortopt[3];
	int i = optind - 1;

	if (i >= argc)
		i = argc - 1;
	if (i >= 1 && !strncmp(argv[i], "--", 2))
		return argv[i];
	/* a short option, maybe inside a cluster ("-xq"): getopt says which character */
	if (optopt > 0 && optopt < 128) {
		snprintf(shortopt, sizeof(shortopt), "-%c", optopt);
		return shortopt;
	}
	return i >= 1 ? argv[i] : "?";
}

int opt_bad(const char *arg, const char *why)
{
	fprintf(stderr, "%s: argument \"%s\" is wrong: %s\n", program_invocation_short_name, arg,
		why);
	return CTR_EXIT_USAGE;
}
