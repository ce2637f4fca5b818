/* The packet/flow path under test, from bytes: shared by the libFuzzer target and the unit
 * test that replays tests/fuzz/regress/. */
#ifndef CTR_FUZZ_ENTRY_H
#define CTR_FUZZ_ENTRY_H

#include <stddef.h>
#include <stdint.h>

/* Runs data through decoding, the analysis and every report. Input that starts with a
 * pcap or pcapng magic is read as a capture file; anything else as a control byte
 * (link type, kernel model, number of capture points) followed by frames, each a 2-byte
 * big-endian length and that many bytes. Returns 0; a bug shows as a sanitizer report. */
int fuzz_review_one(const uint8_t *data, size_t size);

#endif
