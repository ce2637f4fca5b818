/* The capture reader: pcap and pcapng, memory, and files that are not whole. */
#include "review/pcapfile.h"
#include "tests.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int count_cb(void *ctx, const struct ctr_pkt *p)
{
	(void)p;
	(*(unsigned *)ctx)++;
	return 0;
}

static void pcap_and_pcapng_agree(void)
{
	struct pcapfile_stats a, b;
	unsigned na = 0, nb = 0;
	char *err = NULL;

	CU_ASSERT_EQUAL(pcapfile_foreach(ref_path("synth/seq-over.pcap"), count_cb, &na, &a, &err),
			0);
	CU_ASSERT_EQUAL(
	    pcapfile_foreach(ref_path("synth/link-pcapng.pcapng"), count_cb, &nb, &b, &err), 0);
	CU_ASSERT_EQUAL(na, 13u);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT_EQUAL(a.tcp, b.tcp);
	free(err);
}

static void reader_from_memory(void)
{
	FILE *f = fopen(ref_path("synth/in-window.pcap"), "rb");
	static uint8_t buf[1 << 16];
	struct pcapfile *r;
	struct ctr_pkt p;
	unsigned n = 0;
	uint64_t last = 0;
	size_t len;
	char *err = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	r = pcapfile_open_mem(buf, len, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	while (pcapfile_next(r, &p, &err) == 1) {
		CU_ASSERT_TRUE(p.ts_us >= last); /* this file is in time order */
		last = p.ts_us;
		n++;
	}
	CU_ASSERT_EQUAL(n, 16u);
	CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), 0); /* stays at the end */
	CU_ASSERT_EQUAL(pcapfile_stats(r)->frames, 16u);
	pcapfile_close(r);
	CU_ASSERT_PTR_NULL(pcapfile_open_mem(buf, 0, &err));
	free(err);
}

/* a file cut inside its last record: what came before is read, then one error, then end */
static void cut_file(void)
{
	struct pcapfile *r;
	struct ctr_pkt p;
	char *err = NULL;
	unsigned n = 0;
	int rc;

	r = pcapfile_open(ref_path("synth/cut.pcap"), &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	while ((rc = pcapfile_next(r, &p, &err)) == 1)
		n++;
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(err);
	CU_ASSERT_EQUAL(n, 15u); /* in-window.pcap has 16 */
	CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), 0);
	pcapfile_close(r);
	free(err);
}

static void not_captures(void)
{
	static const char *const names[] = {"synth/empty.pcap", "synth/garbage.pcap",
					    "synth/no-such-file.pcap"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *err = NULL;

		CU_ASSERT_PTR_NULL(pcapfile_open(ref_path(names[i]), &err));
		CU_ASSERT_PTR_NOT_NULL(err);
		free(err);
	}
}

static void malformed_frames_counted(void)
{
	struct pcapfile_stats st;
	unsigned n = 0;
	char *err = NULL;

	CU_ASSERT_EQUAL(pcapfile_foreach(ref_path("synth/malformed.pcap"), count_cb, &n, &st, &err),
			0);
	CU_ASSERT_EQUAL(st.malformed, 5u);
	CU_ASSERT_EQUAL(st.tcp, n);
	CU_ASSERT_EQUAL(st.frames, st.tcp + st.other + st.malformed);
	free(err);
}

/* --- records across read() edges: a capture made here, in every byte order and clock ---- */

struct gen {
	uint8_t *buf;
	size_t len, cap;
	bool swapped, nsec;
};

static void gen_put(struct gen *g, const void *p, size_t n)
{
	if (g->len + n > g->cap) {
		g->cap = (g->len + n) * 2;
		g->buf = realloc(g->buf, g->cap);
		CU_ASSERT_PTR_NOT_NULL_FATAL(g->buf);
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static void gen_u32(struct gen *g, uint32_t v)
{
	if (g->swapped)
		v = __builtin_bswap32(v);
	gen_put(g, &v, 4);
}

static void gen_u16(struct gen *g, uint16_t v)
{
	if (g->swapped)
		v = __builtin_bswap16(v);
	gen_put(g, &v, 2);
}

/* the expected reading of record i: its TCP payload length, how much of it is captured,
 * whether it is a TCP segment at all (every 7th is UDP) */
static uint32_t gen_payload(unsigned i)
{
	return (i * 397u) % 1449u;
}

static bool gen_is_tcp(unsigned i)
{
	return i % 7 != 3;
}

static uint32_t gen_caplen(unsigned i)
{
	uint32_t frame = 14 + 20 + 20 + gen_payload(i);

	return i % 5 == 2 ? (frame < 60 ? frame : 60) : frame; /* every 5th cut by a snaplen */
}

static uint64_t gen_us(unsigned i)
{
	return 1700000000ull * 1000000u + i * 1237u;
}

/* a pcap of n Ethernet/IPv4 frames, record i carrying seq i */
static void gen_capture(struct gen *g, unsigned n)
{
	gen_u32(g, g->nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
	gen_u16(g, 2);
	gen_u16(g, 4);
	gen_u32(g, 0);
	gen_u32(g, 0);
	gen_u32(g, 65535);
	gen_u32(g, 1); /* Ethernet */
	for (unsigned i = 0; i < n; i++) {
		uint8_t f[14 + 20 + 20 + 1500] = {0};
		uint32_t pay = gen_payload(i), flen = 14 + 20 + 20 + pay, seq = i;
		uint16_t tot = (uint16_t)(20 + 20 + pay);
		uint64_t us = gen_us(i);

		f[12] = 0x08; /* IPv4 */
		f[14] = 0x45;
		f[16] = (uint8_t)(tot >> 8);
		f[17] = (uint8_t)tot;
		f[22] = 64;
		f[23] = gen_is_tcp(i) ? 6 : 17;
		memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		f[34] = 0x9c; /* ports 40000 -> 80 */
		f[35] = 0x40;
		f[37] = 80;
		f[38] = (uint8_t)(seq >> 24);
		f[39] = (uint8_t)(seq >> 16);
		f[40] = (uint8_t)(seq >> 8);
		f[41] = (uint8_t)seq;
		f[46] = 0x50; /* data offset 20 */
		f[47] = 0x18; /* PSH ACK */
		f[48] = 0xff;
		for (uint32_t b = 54; b < flen; b++)
			f[b] = (uint8_t)(b * 31 + i);
		gen_u32(g, (uint32_t)(us / 1000000u));
		gen_u32(g,
			(uint32_t)(us % 1000000u) * (g->nsec ? 1000u : 1u) + (g->nsec ? 999u : 0));
		gen_u32(g, gen_caplen(i));
		gen_u32(g, flen);
		gen_put(g, f, gen_caplen(i));
	}
}

static char *gen_file(const struct gen *g, size_t len)
{
	char *path = strdup("/tmp/ctr-unit-pcapfile.XXXXXX");
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, g->buf, len) == (ssize_t)len);
	close(fd);
	return path;
}

/* reads r to its end: every segment as gen_capture made it; the return of the last call */
static int check_reader(struct pcapfile *r, unsigned n, unsigned *got)
{
	struct ctr_pkt p;
	char *err = NULL;
	unsigned i = 0;
	int rc;

	*got = 0;
	while ((rc = pcapfile_next(r, &p, &err)) == 1) {
		while (i < n && !gen_is_tcp(i))
			i++;
		CU_ASSERT_FATAL(i < n);
		CU_ASSERT_EQUAL(p.seq, i);
		CU_ASSERT_EQUAL(p.ts_us, gen_us(i));
		CU_ASSERT_EQUAL(p.payload_len, gen_payload(i));
		CU_ASSERT_EQUAL(p.payload_caplen, gen_caplen(i) - 54 < gen_payload(i)
						      ? gen_caplen(i) - 54
						      : gen_payload(i));
		if (p.payload_caplen)
			CU_ASSERT_EQUAL(p.payload[p.payload_caplen - 1],
					(uint8_t)((54 + p.payload_caplen - 1) * 31 + i));
		i++;
		(*got)++;
	}
	if (rc < 0)
		CU_ASSERT_PTR_NOT_NULL(err);
	free(err);
	return rc;
}

/* 700 records (about 500 KiB: more than one default read), both byte orders, microsecond
 * and nanosecond clocks, records cut by a snaplen, UDP among them; read from a file with
 * read()s of 5 bytes to the default, and from memory: the same segments, all of them */
static void records_across_reads(void)
{
	static const size_t sizes[] = {0, 4093, 97, 5};
	const unsigned n = 700;
	unsigned tcp = 0;

	for (unsigned i = 0; i < n; i++)
		tcp += gen_is_tcp(i);
	for (int v = 0; v < 4; v++) {
		struct gen g = {.swapped = v & 1, .nsec = v & 2};
		struct pcapfile *r;
		char *path, *err = NULL;
		unsigned got;

		gen_capture(&g, n);
		CU_ASSERT(g.len > (300u << 10));
		path = gen_file(&g, g.len);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			r = pcapfile_open_read_size(path, sizes[k], &err);
			CU_ASSERT_PTR_NOT_NULL_FATAL(r);
			CU_ASSERT_EQUAL(check_reader(r, n, &got), 0);
			CU_ASSERT_EQUAL(got, tcp);
			CU_ASSERT_EQUAL(pcapfile_stats(r)->frames, n);
			CU_ASSERT_EQUAL(pcapfile_stats(r)->other, n - tcp);
			pcapfile_close(r);
		}
		r = pcapfile_open_mem(g.buf, g.len, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(check_reader(r, n, &got), 0);
		CU_ASSERT_EQUAL(got, tcp);
		pcapfile_close(r);
		unlink(path);
		free(path);
		free(g.buf);
		free(err);
	}
}

/* the file cut in a record's header, in its data, right after one: the records before
 * the cut, then one error (none at a record's edge), then the end; with small reads too */
static void cut_across_reads(void)
{
	struct gen g = {0};
	const unsigned n = 40;
	size_t edge;

	gen_capture(&g, n);
	edge = 24;
	for (unsigned i = 0; i < 30; i++)
		edge += 16 + gen_caplen(i);
	for (int c = 0; c < 3; c++) {
		static const size_t sizes[] = {0, 7};
		size_t len = c == 0 ? edge + 9 : c == 1 ? edge + 16 + 20 : edge;
		char *path = gen_file(&g, len);

		for (size_t k = 0; k < 2; k++) {
			char *err = NULL;
			struct pcapfile *r = pcapfile_open_read_size(path, sizes[k], &err);
			struct ctr_pkt p;
			unsigned got, tcp = 0;

			for (unsigned i = 0; i < 30; i++)
				tcp += gen_is_tcp(i);
			CU_ASSERT_PTR_NOT_NULL_FATAL(r);
			CU_ASSERT_EQUAL(check_reader(r, n, &got), c == 2 ? 0 : -1);
			CU_ASSERT_EQUAL(got, tcp);
			CU_ASSERT_EQUAL(pcapfile_stats(r)->frames, 30u);
			CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), 0);
			pcapfile_close(r);
			free(err);
		}
		unlink(path);
		free(path);
	}
	free(g.buf);
}

/* a record larger than one read() (600 KB, libpcap would refuse it) is read whole; a
 * captured length past 1 MiB is a clear error, not a crash nor a huge allocation */
static void huge_records(void)
{
	struct gen g = {0};
	uint32_t big = 600000;
	uint8_t *pad = calloc(1, big);
	char *path, *err = NULL;
	struct pcapfile *r;
	struct ctr_pkt p;
	size_t first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pad);
	gen_capture(&g, 2);
	first = 24 + 16 + gen_caplen(0);
	/* record 0 grows to big bytes: the frame, then padding (beyond the IP length) */
	memcpy(pad, g.buf + 24 + 16, gen_caplen(0));
	{
		struct gen h = {0};

		gen_put(&h, g.buf, 24 + 8);
		gen_u32(&h, big);
		gen_u32(&h, big);
		gen_put(&h, pad, big);
		gen_put(&h, g.buf + first, g.len - first);
		path = gen_file(&h, h.len);
		r = pcapfile_open(path, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), 1);
		CU_ASSERT_EQUAL(p.seq, 0u);
		CU_ASSERT_EQUAL(p.payload_len, gen_payload(0));
		CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), 1);
		CU_ASSERT_EQUAL(p.seq, 1u);
		CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), 0);
		pcapfile_close(r);
		unlink(path);
		free(path);
		/* the captured length of record 1 said to be 2 GiB */
		memset(h.buf + 24 + 16 + big + 8, 0x7f, 4);
		path = gen_file(&h, h.len);
		r = pcapfile_open_read_size(path, 11, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), 1);
		CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), -1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "not credible"));
		CU_ASSERT_EQUAL(pcapfile_next(r, &p, &err), 0);
		pcapfile_close(r);
		unlink(path);
		free(path);
		free(h.buf);
	}
	free(pad);
	free(g.buf);
	free(err);
}

void register_pcapfile_tests(void)
{
	CU_pSuite s = suite_add("pcapfile");

	test_add(s, "pcap and pcapng give the same segments", pcap_and_pcapng_agree);
	test_add(s, "a reader over memory, one segment at a time", reader_from_memory);
	test_add(s, "a cut file: its segments, then an error", cut_file);
	test_add(s, "empty, garbage, missing: refused with a reason", not_captures);
	test_add(s, "malformed frames are counted, not decoded", malformed_frames_counted);
	test_add(s, "records across read() edges: byte orders, clocks, snaplen",
		 records_across_reads);
	test_add(s, "a file cut in a header, in data, at an edge; small reads", cut_across_reads);
	test_add(s, "a record larger than a read; a captured length past 1 MiB", huge_records);
}
