/* A small JSON reader for nft -j list ruleset (the tree has only a writer,
 * tools/lib/base/json.c): the text parsed into an array of nodes, each a value with its
 * first child and next sibling, strings decoded. Bounded: nesting depth, node count. */
#ifndef CTR_AUDIT_JSONIN_H
#define CTR_AUDIT_JSONIN_H

#include <stddef.h>

enum jin_type { JIN_NULL, JIN_BOOL, JIN_NUM, JIN_STR, JIN_ARR, JIN_OBJ };

#define JIN_NONE ((size_t)-1)
#define JIN_MAX_DEPTH 64

struct jin_node {
	enum jin_type type;
	char *key;  /* the member's name when the parent is an object, else NULL */
	char *str;  /* JIN_STR: the decoded string (NUL-terminated; an embedded \u0000 ends it) */
	double num; /* JIN_NUM; JIN_BOOL: 0 or 1 */
	size_t child, next; /* JIN_NONE when none */
	size_t off;	    /* byte offset of the value in the text */
};

struct jin_doc {
	struct jin_node *n; /* n[0] is the top-level value */
	size_t count, cap;
};

/* Parses text (NUL-terminated) into *doc. 0, or -1 with *err "NAME: byte N (line L): what"
 * (truncated, garbled, nested deeper than JIN_MAX_DEPTH, trailing text). */
int jin_parse(const char *text, const char *name, struct jin_doc *doc, char **err);

void jin_free(struct jin_doc *doc);

/* the member KEY of object node i, or JIN_NONE */
size_t jin_get(const struct jin_doc *doc, size_t i, const char *key);

/* the string of member KEY of object node i, or NULL when missing or not a string */
const char *jin_get_str(const struct jin_doc *doc, size_t i, const char *key);

#endif
