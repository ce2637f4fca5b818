/* Error reporting for library code: functions never print or exit; on failure they return
 * -1 and fill *err with a malloc-allocated, human-readable message the caller frees. */
#ifndef CTR_ERR_H
#define CTR_ERR_H

#include <stdarg.h>

/* Sets *err (if err is not NULL) to a newly allocated formatted message; returns -1. */
int err_set(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like err_set, with ": strerror(errno_value)" appended. */
int err_errno(char **err, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing *err with context ("opening capture: <old>"); returns -1. */
int err_wrap(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "<prog>: <msg>" to stderr, frees msg and exits with code. For main() only. */
void die(int code, char *msg) __attribute__((noreturn));

#endif
