#include "pcapfile.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Classic pcap files are read here rather than through libpcap, whose savefile reader
 * makes two fread() calls per record: read() 256 KiB at a time and the records parsed in
 * place while the copy is still in the L2 cache, reading costs what the copy from the page
 * cache costs (about dd's). pcapng, and anything not classic pcap, go to libpcap. Not
 * mmap(): on this project's VMs (shadow paging) each new page mapped costs ~2 us, the 1 GiB
 * bench capture took 1.1 s mapped against 0.3 s read. */
#define RAW_MAX_CAPLEN (1u << 20) /* larger records are corrupt (libpcap: 256 KiB) */
#define RAW_READ (256u << 10)	  /* one read(): L2-sized, the records parsed while cached */
#define RAW_BUF (RAW_READ + 16 + RAW_MAX_CAPLEN) /* room for the largest record */

struct pcapfile {
	pcap_t *pcap;		     /* libpcap's reader (pcapng...), NULL for raw mode */
	int fd;			     /* raw mode over a file, -1 over memory */
	const uint8_t *data;	     /* raw mode: the bytes in hand (buf, or the caller's) */
	size_t len, off;	     /* ...how many, and how far parsed */
	uint8_t *buf;		     /* raw mode over a file: the read() buffer */
	size_t chunk;		     /* ...bytes one read() asks for at most */
	bool eof;		     /* raw mode over a file: read() said end */
	bool swapped, nsec;	     /* raw mode: byte order, nanosecond timestamps */
	uint64_t records;	     /* raw mode: records parsed, for messages */
	int linktype;		     /* of every record (pcapng: of the first interface) */
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
	f->fd = -1;
	f->linktype = lt;
	return f;
}

static uint32_t rd32(const uint8_t *p, bool swapped)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swapped ? __builtin_bswap32(v) : v;
}

/* the classic pcap magic: 1 µs, 2 ns, 0 not classic pcap; *swapped for the other order */
static int classic_magic(const uint8_t *p, bool *swapped)
{
	uint32_t m;

	memcpy(&m, p, 4);
	*swapped = false;
	if (m == 0xa1b2c3d4u || m == 0xa1b23c4du)
		return m == 0xa1b2c3d4u ? 1 : 2;
	*swapped = true;
	m = __builtin_bswap32(m);
	if (m == 0xa1b2c3d4u || m == 0xa1b23c4du)
		return m == 0xa1b2c3d4u ? 1 : 2;
	return 0;
}

/* makes n bytes available at f->data + f->off; false at the end of the data */
static bool raw_fill(struct pcapfile *f, size_t n)
{
	if (f->len - f->off >= n)
		return true;
	if (f->fd < 0 || n > RAW_BUF)
		return false;
	memmove(f->buf, f->buf + f->off, f->len - f->off);
	f->len -= f->off;
	f->off = 0;
	while (f->len < n && !f->eof) {
		size_t room = RAW_BUF - f->len;
		ssize_t got = read(f->fd, f->buf + f->len, room < f->chunk ? room : f->chunk);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			f->eof = true;
		else
			f->len += (size_t)got;
	}
	return f->len >= n;
}

/* a raw reader over the file header at f->data; consumes it */
static struct pcapfile *raw_start(struct pcapfile *f, const char *name, char **err)
{
	const uint8_t *h;
	int kind;

	if (!raw_fill(f, 24)) {
		err_set(err,
			"%s: truncated dump file; tried to read 24 file header bytes, only got %zu",
			name, f->len - f->off);
		pcapfile_close(f);
		return NULL;
	}
	h = f->data + f->off;
	kind = classic_magic(h, &f->swapped);
	f->nsec = kind == 2;
	f->linktype = (int)(rd32(h + 20, f->swapped) & 0x03ffffffu);
	f->off += 24;
	if (!pkt_linktype_supported(f->linktype)) {
		err_set(err, "%s: unsupported link type %s", name,
			pcap_datalink_val_to_name(f->linktype)
			    ? pcap_datalink_val_to_name(f->linktype)
			    : "?");
		pcapfile_close(f);
		return NULL;
	}
	return f;
}

struct pcapfile *pcapfile_open(const char *path, char **err)
{
	return pcapfile_open_read_size(path, 0, err);
}

struct pcapfile *pcapfile_open_read_size(const char *path, size_t bytes, char **err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	uint8_t magic[4];
	bool swapped;
	pcap_t *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && pread(fd, magic, 4, 0) == 4 && classic_magic(magic, &swapped)) {
		struct pcapfile *f = calloc(1, sizeof(*f));

		if (f)
			f->buf = malloc(RAW_BUF);
		if (!f || !f->buf) {
			free(f);
			close(fd);
			return err_set(err, "out of memory"), NULL;
		}
		f->fd = fd;
		f->chunk = bytes ? bytes : RAW_READ;
		f->data = f->buf;
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		return raw_start(f, path, err);
	}
	if (fd >= 0)
		close(fd);
	p = pcap_open_offline(path, ebuf);
	if (!p) {
		err_set(err, "%s: %s", path, ebuf);
		return NULL;
	}
	return wrap(p, path, err);
}

struct pcapfile *pcapfile_open_mem(const void *buf, size_t len, char **err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	bool swapped;
	FILE *fp;
	pcap_t *p;

	if (!len) /* fmemopen refuses a zero-length buffer: report it as libpcap would */
		return err_set(err, "(memory): empty capture"), NULL;
	if (len >= 4 && classic_magic(buf, &swapped)) {
		struct pcapfile *f = calloc(1, sizeof(*f));

		if (!f)
			return err_set(err, "out of memory"), NULL;
		f->fd = -1;
		f->data = buf;
		f->len = len;
		return raw_start(f, "(memory)", err);
	}
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

static int raw_next(struct pcapfile *f, struct ctr_pkt *out, char **err)
{
	while (!f->done) {
		const uint8_t *h;
		uint32_t caplen, frac;
		uint64_t sec;

		if (!raw_fill(f, 16)) {
			f->done = true;
			if (f->len == f->off)
				return 0;
			return err_set(err,
				       "truncated dump file; tried to read 16 header bytes, "
				       "only got %zu",
				       f->len - f->off);
		}
		h = f->data + f->off;
		caplen = rd32(h + 8, f->swapped);
		if (caplen > RAW_MAX_CAPLEN) {
			f->done = true;
			return err_set(err,
				       "record %" PRIu64 ": captured length %u is not credible",
				       f->records + 1, caplen);
		}
		if (!raw_fill(f, 16 + (size_t)caplen)) {
			f->done = true;
			return err_set(err,
				       "truncated dump file; tried to read %u captured bytes, "
				       "only got %zu",
				       caplen, f->len - f->off - 16);
		}
		h = f->data + f->off; /* raw_fill may have moved it */
		sec = rd32(h, f->swapped);
		frac = rd32(h + 4, f->swapped);
		f->off += 16 + (size_t)caplen;
		f->records++;
		f->stats.frames++;
		switch (pkt_decode(f->linktype, h + 16, caplen, out, NULL)) {
		case PKT_TCP:
			f->stats.tcp++;
			out->ts_us = sec * 1000000u + (f->nsec ? frac / 1000u : frac);
			return 1;
		case PKT_OTHER:
			f->stats.other++;
			break;
		case PKT_MALFORMED:
			f->stats.malformed++;
			break;
		}
	}
	return 0;
}

int pcapfile_next(struct pcapfile *f, struct ctr_pkt *out, char **err)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (!f->pcap)
		return raw_next(f, out, err);
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
	if (f->pcap)
		pcap_close(f->pcap);
	if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
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
