/* Minimal JSON output: enough to write reports without a library. */
#ifndef CTR_JSON_H
#define CTR_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal (quoted, escaped); NULL writes null. */
void json_str(FILE *f, const char *s);

/* Writes "key": "value" (value escaped), preceded by ", " unless *first; clears *first. */
void json_kv_str(FILE *f, int *first, const char *key, const char *value);

/* Writes "key": <raw>, raw being a number, true/false or null, same comma rule. */
void json_kv_raw(FILE *f, int *first, const char *key, const char *raw);

#endif
