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
	/* grown only when full, from 16 KiB: a record or kv file (a few KiB) is one malloc
	 * under glibc's mmap threshold. Growing ahead of each read took 192 KiB for any file,
	 * an mmap and an munmap (a TLB flush: a trap on a VM that shadows page tables) each
	 * time a cell's review loaded one of its five kv files */
	do {
		if (cap - n < 2) {
			char *t = realloc(buf, cap = cap ? cap * 2 : 16384);

			if (!t) {
				free(buf);
				fclose(f);
				return err_set(err, "out of memory");
			}
			buf = t;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
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
