#include "json.h"

void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void key(FILE *f, int *first, const char *k)
{
	if (!*first)
		fputs(", ", f);
	*first = 0;
	json_str(f, k);
	fputs(": ", f);
}

void json_kv_str(FILE *f, int *first, const char *k, const char *value)
{
	key(f, first, k);
	json_str(f, value);
}

void json_kv_raw(FILE *f, int *first, const char *k, const char *raw)
{
	key(f, first, k);
	fputs(raw, f);
}
