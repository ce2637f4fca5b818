#include "file.h"
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int file_read(const char *path, size_t max, char **text, size_t *len, char **err)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	*text = NULL;
	if (!f)
		return errno == ENOENT ? 1 : err_errno(err, errno, "%s", path);
	do {
		if (n + 65536 + 1 > cap) {
			char *t = realloc(buf, cap = cap * 2 + 65536 + 1);

			if (!t) {
				free(buf);
				fclose(f);
				return err_set(err, "out of memory");
			}
			buf = t;
		}
		got = fread(buf + n, 1, 65536, f);
		n += got;
	} while (got && n <= max);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return err_set(err, "%s: read error", path);
	}
	fclose(f);
	if (n > max) {
		free(buf);
		return err_set(err, "%s: larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	*text = buf;
	if (len)
		*len = n;
	return 0;
}
