/* The packet and flow path: a capture file (pcap, pcapng; every link type the review
 * decodes: Ethernet with VLAN tags, SLL, SLL2, raw IP, loopback) or raw frames, through
 * decoding, the analysis and every report.
 *
 * Input that starts with a pcap or pcapng magic is read as a capture file; anything else as a
 * control byte (link type, kernel model, number of capture points) and a byte of capture
 * roles, followed by frames, each a 2-byte big-endian length and that many bytes. */
#include "target.h"
#include "review/analyse.h"
#include "review/pcapfile.h"
#include "base/pkt.h"
#include "review/report.h"
#include "review/svcmap.h"

#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
static void reports(const struct analyse *a)
{
	struct report_opts ro = {.all_flows = true};
	FILE *out = fuzz_sink();

	if (!out)
		return;
	report_text(out, a, &ro);
	report_ladder(out, a);
	report_svg(out, a);
	report_json(out, a, &ro);
}

static bool capture_magic(const uint8_t *d, size_t n)
{
	static const uint8_t magics[][4] = {{0xa1, 0xb2, 0xc3, 0xd4},
					    {0xd4, 0xc3, 0xb2, 0xa1},
					    {0xa1, 0xb2, 0x3c, 0x4d},
					    {0x4d, 0x3c, 0xb2, 0xa1},
					    {0x0a, 0x0d, 0x0d, 0x0a}};

	for (size_t i = 0; n >= 4 && i < sizeof(magics) / sizeof(magics[0]); i++)
		if (!memcmp(d, magics[i], 4))
			return true;
	return false;
}

FUZZ_TARGET(review)
{
	static const int links[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
				    DLT_NULL,	DLT_LOOP,      228 /* IPv4 */, 229 /* IPv6 */};
	struct analyse_opts o = {.max_rows = 16};
	struct svcmap svc = {0};
	struct analyse *a;
	char *err = NULL;

	/* the bench's service and a second VIP with two backends: the NAT paths run */
	svcmap_parse(&svc, "198.19.0.10:80=198.18.2.10:8080", NULL);
	svcmap_parse(&svc, "10.96.0.10:80=10.2.0.20:8080,10.2.0.21:8080", NULL);
	if (size && capture_magic(data, size)) {
		struct pcapfile *r = pcapfile_open_mem(data, size, &err);

		if (r) {
			a = analyse_new(&o, &svc, NULL);
			if (a && analyse_add_capture(a, "client.pcap", CAP_CLIENT, NULL) == 0 &&
			    analyse_merge(a, &r, 1, NULL) == 0) {
				analyse_finish(a);
				reports(a);
			}
			analyse_free(a);
			pcapfile_close(r);
		}
		free(err);
		svcmap_free(&svc);
		return 0;
	}
	if (size < 2) {
		svcmap_free(&svc);
		return 0;
	}
	{
		int link = links[data[0] & 7];
		unsigned ncaps = 1 + (data[1] & 3) % 3;
		uint64_t ts = 1700000000000000ull;
		size_t off = 2;

		o.ct.no_ignore_delayed = data[0] & 0x08;
		/* the rcvwnd-workaround-only kernel too: no bit is spare, so it shares data[1]'s
		 * top two (the third capture's role) */
		o.ct.no_rcvwnd_workaround = (data[1] & 0xc0) != 0xc0;
		o.ct.be_liberal = data[0] & 0x10;
		o.ct.no_pickup = data[0] & 0x20;
		o.ct.no_timeouts = data[0] & 0x40;
		a = analyse_new(&o, (data[0] & 0x80) ? NULL : &svc, NULL);
		for (unsigned c = 0; a && c < ncaps; c++)
			analyse_add_capture(a, "cap", (enum cap_role)((data[1] >> (2 + 2 * c)) & 3),
					    NULL);
		for (unsigned i = 0; a && off + 2 <= size; i++) {
			size_t len = (size_t)data[off] << 8 | data[off + 1];
			uint8_t *frame;
			struct ctr_pkt p;

			off += 2;
			if (len > size - off)
				len = size - off;
			/* a copy of exactly len bytes: ASan sees any read past the frame */
			frame = malloc(len ? len : 1);
			if (!frame)
				break;
			memcpy(frame, data + off, len);
			off += len;
			ts += (len & 0xff) * 997u; /* time moves, sometimes past the twin window */
			if (pkt_decode(link, frame, len, &p, NULL) == PKT_TCP) {
				p.ts_us = ts;
				analyse_packet(a, (int)(i % ncaps), &p, NULL);
			}
			free(frame);
		}
		if (a) {
			analyse_finish(a);
			reports(a);
		}
		analyse_free(a);
	}
	svcmap_free(&svc);
	return 0;
}
