/* The registry of fuzz targets (target.h). */
#include "target.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct fuzz_target *head;

void fuzz_target_add(struct fuzz_target *t)
{
	t->next = head;
	head = t;
}

const struct fuzz_target *fuzz_targets(void)
{
	return head;
}

char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

FILE *fuzz_sink(void)
{
	static FILE *null;

	if (!null)
		null = fopen("/dev/null", "we");
	return null;
}

int fuzz_file(const uint8_t *data, size_t size, char *path, size_t n)
{
	static int fd = -1;
	size_t off = 0;

	if (fd < 0)
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0)
		return -1;
	while (off < size) {
		ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);

		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	snprintf(path, n, "/proc/self/fd/%d", fd);
	return 0;
}
