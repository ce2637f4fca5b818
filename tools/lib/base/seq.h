/* TCP sequence-number arithmetic modulo 2^32 (RFC 793 / RFC 1982), as the kernel's
 * before()/after() in include/net/tcp.h. Every comparison of seq or ack goes through these. */
#ifndef CTR_SEQ_H
#define CTR_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* true when a comes strictly before b on the 2^32 circle */
static inline bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_after(uint32_t a, uint32_t b)
{
	return seq_before(b, a);
}

/* the later of a and b on the circle */
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_after(a, b) ? a : b;
}

/* signed distance from a to b: b - a */
static inline int64_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a);
}

/* a window value as the receiver means it: raw << wscale (RFC 7323; scale capped at 14) */
static inline uint32_t win_scaled(uint16_t raw, int wscale)
{
	if (wscale < 0)
		wscale = 0;
	if (wscale > 14)
		wscale = 14;
	return (uint32_t)raw << wscale;
}

#endif
