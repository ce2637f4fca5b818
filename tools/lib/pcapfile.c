#include "pcapfile.h"
#include "err.h"

#include <pcap/pcap.h>

int pcapfile_foreach(const char *path, pcapfile_cb cb, void *ctx, struct pcapfile_stats *stats,
		     char **err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcapfile_stats local = {0};
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int lt, rc;

	if (!stats)
		stats = &local;
	*stats = (struct pcapfile_stats){0};
	p = pcap_open_offline(path, ebuf);
	if (!p)
		return err_set(err, "%s", ebuf);
	lt = pcap_datalink(p);
	if (!pkt_linktype_supported(lt)) {
		err_set(err, "%s: unsupported link type %s", path,
			pcap_datalink_val_to_name(lt) ? pcap_datalink_val_to_name(lt) : "?");
		pcap_close(p);
		return -1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		struct ctr_pkt pkt;

		stats->frames++;
		switch (pkt_decode(lt, data, h->caplen, &pkt, NULL)) {
		case PKT_TCP:
			stats->tcp++;
			pkt.ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
			if (cb(ctx, &pkt)) {
				pcap_close(p);
				return 0;
			}
			break;
		case PKT_OTHER:
			stats->other++;
			break;
		case PKT_MALFORMED:
			stats->malformed++;
			break;
		}
	}
	if (rc == -1) {
		/* a file cut mid-record is still evidence up to the cut: report, keep counts */
		err_set(err, "%s: %s", path, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
}
