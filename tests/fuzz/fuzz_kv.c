/* key=value files (kv.h): meta.kv, inject.kv, server.kv, client.kv, run.kv and record.kv
 * are all read by kv_load. The input is one file, read from memory (kv_parse) and, one size
 * in eight, from a file (kv_load): the two must agree, pair for pair. Each pair is written
 * back; a value kv_write takes must parse again to the same pair. */
#include "target.h"
#include "base/kv.h"

#include <stdlib.h>
#include <string.h>

/* a difference between two readings of the same bytes is a bug: abort, the fuzzer keeps it */
static void same(const struct kv *a, const struct kv *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->pairs[i].key, b->pairs[i].key) ||
		    strcmp(a->pairs[i].value, b->pairs[i].value))
			abort();
}

FUZZ_TARGET(kv)
{
	struct kv mem, file;
	char path[64], *text = fuzz_str(data, size), *err = NULL;
	int rc_mem, rc_file = -1;
	FILE *out = fuzz_sink();

	if (!text)
		return 0;
	rc_mem = kv_parse(text, &mem, &err);
	free(err);
	err = NULL;
	if (FUZZ_VIA_FILE(size) && fuzz_file(data, size, path, sizeof(path)) == 0) {
		rc_file = kv_load(path, &file, &err);
		free(err);
		if (rc_file != rc_mem)
			abort();
		if (rc_file == 0) {
			same(&mem, &file);
			kv_free(&file);
		}
	}
	for (size_t i = 0; rc_mem == 0 && i < mem.n; i++) {
		const char *k = mem.pairs[i].key, *v = mem.pairs[i].value;
		char *line;
		struct kv back;
		int rc;

		/* the last pair of a key is the one kv_get finds */
		if (!kv_get(&mem, k))
			abort();
		if (out)
			kv_write(out, k, v);
		if (k[0] == '#' || strchr(k, '=') || strchr(v, '\n') ||
		    asprintf(&line, "%s=%s\n", k, v) < 0)
			continue;
		rc = kv_parse(line, &back, NULL);
		free(line);
		if (rc < 0)
			abort(); /* a pair kv_parse made, written back, must parse */
		/* a value ending in \r loses it, as a CRLF line does: not a pair kv_write makes */
		if (back.n != 1 || strcmp(back.pairs[0].key, k) ||
		    (strcmp(back.pairs[0].value, v) && v[strlen(v) - 1] != '\r'))
			abort();
		kv_free(&back);
	}
	if (rc_mem == 0)
		kv_free(&mem);
	free(text);
	return 0;
}
