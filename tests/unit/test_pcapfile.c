/* The capture reader: pcap and pcapng, memory, and files that are not whole. */
#include "review/pcapfile.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void register_pcapfile_tests(void)
{
	CU_pSuite s = suite_add("pcapfile");

	test_add(s, "pcap and pcapng give the same segments", pcap_and_pcapng_agree);
	test_add(s, "a reader over memory, one segment at a time", reader_from_memory);
	test_add(s, "a cut file: its segments, then an error", cut_file);
	test_add(s, "empty, garbage, missing: refused with a reason", not_captures);
	test_add(s, "malformed frames are counted, not decoded", malformed_frames_counted);
}
