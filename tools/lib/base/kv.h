/* key=value files: the bench's metadata and the workload's result records. One pair a
 * line, the value running to the end of the line; '#' lines and blank lines are skipped.
 * bash reads them with `while IFS='=' read -r k v`. */
#ifndef CTR_KV_H
#define CTR_KV_H

#include <stddef.h>
#include <stdio.h>

struct kv_pair {
	char *key, *value;
};

struct kv {
	struct kv_pair *pairs;
	size_t n;
};

/* Loads path into *out (zeroed first). 0, or -1 with *err. */
int kv_load(const char *path, struct kv *out, char **err);

/* Parses text (NUL-terminated) into *out. 0, or -1 with *err on a line without '='. */
int kv_parse(const char *text, struct kv *out, char **err);

/* The value of the last pair named key, or NULL. */
const char *kv_get(const struct kv *kv, const char *key);

void kv_free(struct kv *kv);

/* Writes "key=value\n", refusing values with a newline (they would forge a pair). */
int kv_write(FILE *f, const char *key, const char *value);

#endif
