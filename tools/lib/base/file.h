/* Reading a whole small file (an oracle, a key=value record, a rule dump) into memory. */
#ifndef CTR_FILE_H
#define CTR_FILE_H

#include <stddef.h>

/* Reads path into *text (malloc'd, NUL-terminated; the caller frees it), its length in
 * *len (NULL: not wanted). 0; 1 when path does not exist (nothing set); -1 with *err when
 * it cannot be read or is larger than max bytes (never cut short silently). */
int file_read(const char *path, size_t max, char **text, size_t *len, char **err);

#endif
