/* Monotonic milliseconds, for bounds and timings (never the wall clock, which can jump). */
#ifndef CTR_CLOCK_H
#define CTR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
