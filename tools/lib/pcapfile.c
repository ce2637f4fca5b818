#include "pcapfile.h"
#include "err.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

struct pcapfile {
	pcap_t *pcap;		     /* the libpcap savefile handle */
	int linktype;		     /* DLT_* of every record (pcapng: of the first interface) */
	bool done;		     /* end reached, or the file was cut */
	struct pcapfile_stats stats; /* counts so far */
};

static struct pcapfile *wrap(pcap_t *p, const char *name, char **err)
{
	struct pcapfile *f;
	int lt = pcap_datalink(p);

	if (!pkt_linktype_supported(lt)) {
		err_set(err, "%s: unsupported link type %s", name,
			pcap_datalink_val_to_name(lt) ? pcap_datalink_val_to_name(lt) : "?");
		pcap_close(p);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		err_set(err, "out of memory");
		pcap_close(p);
		return NULL;
	}
	f->pcap = p;
	f->linktype = lt;
	return f;
}

struct pcapfile *pcapfile_open(const char *path, char **err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline(path, ebuf);

	if (!p) {
		err_set(err, "%s: %s", path, ebuf);
		return NULL;
	}
	return wrap(p, path, err);
}

struct pcapfile *pcapfile_open_mem(const void *buf, size_t len, char **err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	FILE *fp;
	pcap_t *p;

	if (!len) /* fmemopen refuses a zero-length buffer: report it as libpcap would */
		return err_set(err, "(memory): empty capture"), NULL;
	fp = fmemopen((void *)buf, len, "rb");
	if (!fp)
		return err_errno(err, errno, "(memory)"), NULL;
	p = pcap_fopen_offline(fp, ebuf); /* owns fp from here, even on failure */
	if (!p) {
		err_set(err, "(memory): %s", ebuf);
		return NULL;
	}
	return wrap(p, "(memory)", err);
}

int pcapfile_next(struct pcapfile *f, struct ctr_pkt *out, char **err)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	while (!f->done && (rc = pcap_next_ex(f->pcap, &h, &data)) == 1) {
		f->stats.frames++;
		switch (pkt_decode(f->linktype, data, h->caplen, out, NULL)) {
		case PKT_TCP:
			f->stats.tcp++;
			out->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
			return 1;
		case PKT_OTHER:
			f->stats.other++;
			break;
		case PKT_MALFORMED:
			f->stats.malformed++;
			break;
		}
	}
	if (f->done)
		return 0;
	f->done = true;
	if (rc == -1)
		return err_set(err, "%s", pcap_geterr(f->pcap));
	return 0;
}

const struct pcapfile_stats *pcapfile_stats(const struct pcapfile *f)
{
	return &f->stats;
}

void pcapfile_close(struct pcapfile *f)
{
	if (!f)
		return;
	pcap_close(f->pcap);
	free(f);
}

int pcapfile_foreach(const char *path, pcapfile_cb cb, void *ctx, struct pcapfile_stats *stats,
		     char **err)
{
	struct pcapfile *f = pcapfile_open(path, err);
	struct ctr_pkt pkt;
	int rc;

	if (stats)
		*stats = (struct pcapfile_stats){0};
	if (!f)
		return -1;
	while ((rc = pcapfile_next(f, &pkt, err)) == 1)
		if (cb(ctx, &pkt))
			break;
	if (stats)
		*stats = f->stats;
	if (rc == -1)
		/* a file cut mid-record is still evidence up to the cut: report, keep counts */
		err_wrap(err, "%s", path);
	pcapfile_close(f);
	return rc == -1 ? -1 : 0;
}
