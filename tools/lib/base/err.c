#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int err_set(char **err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	free(*err);
	*err = vformat(fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(char **err, int errno_value, const char *fmt, ...)
{
	va_list ap;
	char *head;

	if (!err)
		return -1;
	va_start(ap, fmt);
	head = vformat(fmt, ap);
	va_end(ap);
	free(*err);
	*err = NULL;
	if (asprintf(err, "%s: %s", head ? head : "?", strerror(errno_value)) < 0)
		*err = NULL;
	free(head);
	return -1;
}

int err_wrap(char **err, const char *fmt, ...)
{
	va_list ap;
	char *head, *old;

	if (!err)
		return -1;
	va_start(ap, fmt);
	head = vformat(fmt, ap);
	va_end(ap);
	old = *err;
	*err = NULL;
	if (asprintf(err, "%s: %s", head ? head : "?", old ? old : "unknown error") < 0)
		*err = NULL;
	free(head);
	free(old);
	return -1;
}

void die(int code, char *msg)
{
	fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg ? msg : "out of memory");
	free(msg);
	exit(code);
}
