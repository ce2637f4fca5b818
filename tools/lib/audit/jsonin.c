/* Recursive descent over RFC 8259 JSON, depth-bounded; nodes in one growing array,
 * linked by index (the array moves as it grows). */
#include "jsonin.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

struct jin_parser {
	const char *s, *name;
	size_t p;
	struct jin_doc *doc;
	char **err;
};

static int fail(struct jin_parser *ps, const char *what)
{
	unsigned line = 1;

	for (size_t i = 0; i < ps->p && ps->s[i]; i++)
		line += ps->s[i] == '\n';
	return err_set(ps->err, "%s: byte %zu (line %u): %s", ps->name, ps->p, line, what);
}

static void ws(struct jin_parser *ps)
{
	while (ps->s[ps->p] == ' ' || ps->s[ps->p] == '\t' || ps->s[ps->p] == '\n' ||
	       ps->s[ps->p] == '\r')
		ps->p++;
}

static size_t node_new(struct jin_parser *ps, enum jin_type t)
{
	struct jin_doc *d = ps->doc;

	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct jin_node *n = realloc(d->n, cap * sizeof(*n));

		if (!n)
			return JIN_NONE;
		d->n = n;
		d->cap = cap;
	}
	memset(&d->n[d->count], 0, sizeof(d->n[0]));
	d->n[d->count].type = t;
	d->n[d->count].child = d->n[d->count].next = JIN_NONE;
	d->n[d->count].off = ps->p;
	return d->count++;
}

static int hex4(const char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* a string at ps->p (the opening quote), decoded into a malloc'd *out */
static int string(struct jin_parser *ps, char **out)
{
	size_t start = ++ps->p, n = 0;
	char *o;

	/* the decoded string is never longer than the escaped one */
	while (ps->s[ps->p] && ps->s[ps->p] != '"') {
		if (ps->s[ps->p] == '\\' && ps->s[ps->p + 1])
			ps->p++;
		ps->p++;
	}
	if (ps->s[ps->p] != '"')
		return fail(ps, "a string without its closing quote: truncated");
	o = malloc(ps->p - start + 1);
	if (!o)
		return err_set(ps->err, "out of memory");
	for (size_t i = start; i < ps->p; i++) {
		unsigned char c = (unsigned char)ps->s[i];

		if (c < 0x20) {
			free(o);
			ps->p = i;
			return fail(ps, "a control character inside a string");
		}
		if (c != '\\') {
			o[n++] = (char)c;
			continue;
		}
		c = (unsigned char)ps->s[++i];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			o[n++] = (char)c;
			break;
		case 'b':
			o[n++] = '\b';
			break;
		case 'f':
			o[n++] = '\f';
			break;
		case 'n':
			o[n++] = '\n';
			break;
		case 'r':
			o[n++] = '\r';
			break;
		case 't':
			o[n++] = '\t';
			break;
		case 'u': {
			unsigned v;

			if (i + 4 >= ps->p || hex4(ps->s + i + 1, &v) < 0) {
				free(o);
				ps->p = i;
				return fail(ps, "a \\u escape without 4 hex digits");
			}
			i += 4;
			/* names here are ASCII; anything else is kept as '?' (6 bytes in, 1 out) */
			o[n++] = v < 0x80 ? (char)v : '?';
			break;
		}
		default:
			free(o);
			ps->p = i;
			return fail(ps, "an unknown escape in a string");
		}
	}
	o[n] = '\0';
	ps->p++;
	*out = o;
	return 0;
}

static int value(struct jin_parser *ps, size_t *out, unsigned depth);

/* an array or object at ps->p; members linked under node idx */
static int container(struct jin_parser *ps, size_t idx, int obj, unsigned depth)
{
	size_t last = JIN_NONE;
	char close = obj ? '}' : ']';

	ps->p++;
	ws(ps);
	if (ps->s[ps->p] == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		size_t kid;

		ws(ps);
		if (obj) {
			if (ps->s[ps->p] != '"')
				return fail(ps, ps->s[ps->p] ? "an object member without a name"
							     : "ends inside an object: truncated");
			if (string(ps, &key) < 0)
				return -1;
			ws(ps);
			if (ps->s[ps->p] != ':') {
				free(key);
				return fail(ps, "a member name without ':'");
			}
			ps->p++;
		}
		if (value(ps, &kid, depth + 1) < 0) {
			free(key);
			return -1;
		}
		ps->doc->n[kid].key = key;
		if (last == JIN_NONE)
			ps->doc->n[idx].child = kid;
		else
			ps->doc->n[last].next = kid;
		last = kid;
		ws(ps);
		if (ps->s[ps->p] == ',') {
			ps->p++;
			continue;
		}
		if (ps->s[ps->p] == close) {
			ps->p++;
			return 0;
		}
		return fail(ps, ps->s[ps->p] ? (obj ? "expected ',' or '}'" : "expected ',' or ']'")
					     : (obj ? "ends inside an object: truncated"
						    : "ends inside an array: truncated"));
	}
}

static int value(struct jin_parser *ps, size_t *out, unsigned depth)
{
	const char *s = ps->s;
	size_t i;

	if (depth > JIN_MAX_DEPTH)
		return fail(ps, "nested deeper than 64 levels");
	ws(ps);
	switch (s[ps->p]) {
	case '{':
	case '[':
		if ((i = node_new(ps, s[ps->p] == '{' ? JIN_OBJ : JIN_ARR)) == JIN_NONE)
			return err_set(ps->err, "out of memory");
		*out = i;
		return container(ps, i, s[ps->p] == '{', depth);
	case '"':
		if ((i = node_new(ps, JIN_STR)) == JIN_NONE)
			return err_set(ps->err, "out of memory");
		*out = i;
		return string(ps, &ps->doc->n[i].str);
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = {"true", "false", "null"};

		for (int w = 0; w < 3; w++) {
			size_t l = strlen(words[w]);

			if (!strncmp(s + ps->p, words[w], l)) {
				if ((i = node_new(ps, w == 2 ? JIN_NULL : JIN_BOOL)) == JIN_NONE)
					return err_set(ps->err, "out of memory");
				ps->doc->n[i].num = w == 0;
				ps->p += l;
				*out = i;
				return 0;
			}
		}
		return fail(ps, "not a JSON value");
	}
	case '\0':
		return fail(ps, "ends where a value was expected: truncated or empty");
	default:
		if (s[ps->p] == '-' || (s[ps->p] >= '0' && s[ps->p] <= '9')) {
			char *end;
			double v = strtod(s + ps->p, &end);

			if (end == s + ps->p)
				return fail(ps, "not a number");
			if ((i = node_new(ps, JIN_NUM)) == JIN_NONE)
				return err_set(ps->err, "out of memory");
			ps->doc->n[i].num = v;
			ps->p = (size_t)(end - s);
			*out = i;
			return 0;
		}
		return fail(ps, "not a JSON value");
	}
}

void jin_free(struct jin_doc *doc)
{
	for (size_t i = 0; i < doc->count; i++) {
		free(doc->n[i].key);
		free(doc->n[i].str);
	}
	free(doc->n);
	memset(doc, 0, sizeof(*doc));
}

int jin_parse(const char *text, const char *name, struct jin_doc *doc, char **err)
{
	struct jin_parser ps = {text, name, 0, doc, err};
	size_t top;

	memset(doc, 0, sizeof(*doc));
	if (value(&ps, &top, 0) < 0) {
		jin_free(doc);
		return -1;
	}
	ws(&ps);
	if (text[ps.p]) {
		fail(&ps, "text after the JSON value");
		jin_free(doc);
		return -1;
	}
	return 0;
}

size_t jin_get(const struct jin_doc *doc, size_t i, const char *key)
{
	if (i >= doc->count || doc->n[i].type != JIN_OBJ)
		return JIN_NONE;
	for (size_t k = doc->n[i].child; k != JIN_NONE; k = doc->n[k].next)
		if (doc->n[k].key && !strcmp(doc->n[k].key, key))
			return k;
	return JIN_NONE;
}

const char *jin_get_str(const struct jin_doc *doc, size_t i, const char *key)
{
	size_t k = jin_get(doc, i, key);

	return k != JIN_NONE && doc->n[k].type == JIN_STR ? doc->n[k].str : NULL;
}
