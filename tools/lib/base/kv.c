#include "kv.h"
#include "err.h"
#include "file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int kv_add(struct kv *kv, const char *k, size_t klen, const char *v, size_t vlen)
{
	struct kv_pair *p = realloc(kv->pairs, (kv->n + 1) * sizeof(*p));

	if (!p)
		return -1;
	kv->pairs = p;
	p[kv->n].key = strndup(k, klen);
	p[kv->n].value = strndup(v, vlen);
	if (!p[kv->n].key || !p[kv->n].value) {
		free(p[kv->n].key);
		free(p[kv->n].value);
		return -1;
	}
	kv->n++;
	return 0;
}

int kv_parse(const char *text, struct kv *out, char **err)
{
	const char *line = text;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		/* past the line and its '\n', taken before a '\r' comes off len: a last line
		 * ending in '\r' without '\n' would otherwise be read again, forever */
		size_t next = nl ? len + 1 : len;
		const char *eq = memchr(line, '=', len);

		lineno++;
		if (len && line[len - 1] == '\r')
			len--;
		if (len && line[0] != '#') {
			if (!eq || eq == line) {
				kv_free(out);
				return err_set(err, "line %u: expected key=value", lineno);
			}
			if (kv_add(out, line, (size_t)(eq - line), eq + 1,
				   len - (size_t)(eq + 1 - line)) < 0) {
				kv_free(out);
				return err_set(err, "out of memory");
			}
		}
		line += next;
	}
	return 0;
}

int kv_load(const char *path, struct kv *out, char **err)
{
	char *text;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = file_read(path, 1u << 20, &text, NULL, err);
	if (rc > 0)
		return err_errno(err, ENOENT, "%s", path);
	if (rc < 0)
		return -1;
	rc = kv_parse(text, out, err);
	free(text);
	if (rc < 0)
		return err_wrap(err, "%s", path);
	return 0;
}

const char *kv_get(const struct kv *kv, const char *key)
{
	for (size_t i = kv->n; i-- > 0;)
		if (!strcmp(kv->pairs[i].key, key))
			return kv->pairs[i].value;
	return NULL;
}

void kv_free(struct kv *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->pairs[i].key);
		free(kv->pairs[i].value);
	}
	free(kv->pairs);
	kv->pairs = NULL;
	kv->n = 0;
}

int kv_write(FILE *f, const char *key, const char *value)
{
	if (strchr(key, '=') || strchr(key, '\n') || strchr(value, '\n'))
		return -1;
	return fprintf(f, "%s=%s\n", key, value) < 0 ? -1 : 0;
}
