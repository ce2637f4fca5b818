/* The classic pcap reader itself (pcapfile.c: both byte orders, microsecond and nanosecond
 * clocks, snaplen-cut records, a cut last record, garbage record headers): the input is a
 * capture file, read from memory and from a file whose read()s stop every few bytes (1 to
 * 64, from the input's last byte, or the default 256 KiB), so that record headers and data
 * fall across reads. The two readings must agree segment for segment, in their counts and
 * in how they end (the end, or an error). pcapng and other formats go to libpcap, the same
 * on both sides. */
#include "target.h"
#include "review/pcapfile.h"

#include <stdlib.h>
#include <string.h>

/* what one reading yields, a digest per segment and its end */
struct reading {
	uint64_t digest; /* of every segment's fields and captured payload, in order */
	unsigned long segments;
	int end; /* 0 the end, -1 an error, -2 refused at open */
	struct pcapfile_stats stats;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ull;
}

static void read_all(struct pcapfile *r, struct reading *out)
{
	struct ctr_pkt p;
	char *err = NULL;
	int rc;

	out->digest = 0xcbf29ce484222325ull;
	while ((rc = pcapfile_next(r, &p, &err)) == 1) {
		out->digest = mix(out->digest, p.ts_us);
		out->digest = mix(out->digest, (uint64_t)p.seq << 32 | p.ack);
		out->digest =
		    mix(out->digest, (uint64_t)p.flags << 48 | (uint64_t)p.win << 32 |
					 (uint64_t)p.tuple.src.port << 16 | p.tuple.dst.port);
		out->digest = mix(out->digest, (uint64_t)p.payload_len << 32 | p.payload_caplen);
		for (uint32_t i = 0; i < p.payload_caplen; i++)
			out->digest = mix(out->digest, p.payload[i]);
		out->segments++;
	}
	if (rc < 0 && !err)
		abort(); /* an error says why */
	free(err);
	err = NULL;
	out->end = rc;
	out->stats = *pcapfile_stats(r);
	if (pcapfile_next(r, &p, &err) != 0) /* after the end or an error: the end */
		abort();
	free(err);
}

FUZZ_TARGET(pcapread)
{
	struct reading mem = {.end = -2}, file = {.end = -2};
	struct pcapfile *r;
	char path[64], *err = NULL;
	size_t chunk = size ? (data[size - 1] & 64 ? 0 : 1 + data[size - 1] % 64) : 0;

	r = pcapfile_open_mem(data, size, &err);
	if (r) {
		read_all(r, &mem);
		pcapfile_close(r);
	} else if (!err) {
		abort();
	}
	free(err);
	err = NULL;
	if (fuzz_file(data, size, path, sizeof(path)) < 0)
		return 0;
	r = pcapfile_open_read_size(path, chunk, &err);
	if (r) {
		read_all(r, &file);
		pcapfile_close(r);
	} else if (!err) {
		abort();
	}
	free(err);
	if (mem.end != file.end || mem.segments != file.segments || mem.digest != file.digest ||
	    memcmp(&mem.stats, &file.stats, sizeof(mem.stats)))
		abort();
	return 0;
}
