#include "capture.h"
#include "base/err.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct capture {
	pcap_t *pcap;	     /* live handle, bound to the namespace it was opened in */
	pcap_dumper_t *dump; /* the pcap file every packet is appended to */
	int linktype;	     /* DLT_* of the interface, for pkt_decode */
	char *label;	     /* capture point name, e.g. "client" */
	char *path;	     /* file path */
	capture_cb cb;	     /* set for the duration of one capture_dispatch */
	void *ctx;
};

/* Snap length: whole frames at the bench's MTU (1500), so the files are evidence, not
 * summaries; a larger frame (GSO) is cut, its IP header still gives its length. Not
 * 65535: in immediate mode libpcap's ring (TPACKET_V2) has one slot of the snap length per
 * frame, and a 1 MiB ring of 64 KiB slots holds 15 frames. A capture reader descheduled
 * for a few tens of ms on a loaded machine overflowed it, and the segments dropped were
 * precisely the last ones, the leak and the RST (bench/soak: inconclusive verdicts with
 * capture.*.dropped=2 at all three points). 1600 fits two slots per page, ~600 per MiB
 * (4096 would give ~240); tests/unit/test_capture.c holds it to a 200-packet burst. */
#define CAPTURE_SNAPLEN 1600

struct capture *capture_open(const char *label, const char *ifname, const char *path,
			     unsigned buffer_kib, char **err)
{
	const struct capture_opts o = {.buffer_kib = buffer_kib};

	return capture_open_opts(label, ifname, path, &o, err);
}

struct capture *capture_open_opts(const char *label, const char *ifname, const char *path,
				  const struct capture_opts *opts, char **err)
{
	const struct capture_opts none = {0};
	const struct capture_opts *o = opts ? opts : &none;
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	struct capture *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		err_set(err, "out of memory");
		return NULL;
	}
	c->label = strdup(label);
	c->path = path ? strdup(path) : NULL;
	c->pcap = pcap_create(ifname, ebuf);
	if (!c->pcap) {
		err_set(err, "capture %s on %s: %s", label, ifname, ebuf);
		goto fail;
	}
	pcap_set_snaplen(c->pcap, (int)(o->snaplen ? o->snaplen : CAPTURE_SNAPLEN));
	pcap_set_immediate_mode(c->pcap, 1);
	pcap_set_buffer_size(c->pcap,
			     (int)(o->buffer_kib ? o->buffer_kib : CAPTURE_BUFFER_KIB) * 1024);
	rc = pcap_activate(c->pcap);
	if (rc < 0) {
		err_set(err, "capture %s on %s: %s", label, ifname, pcap_geterr(c->pcap));
		goto fail;
	}
	/* an nflog capture is a netlink socket, which libpcap sizes with SO_RCVBUF: capped at
	 * net.core.rmem_max (~200 KiB by default), a few hundred messages, overrun by one
	 * window's burst on a slow machine (a TCG guest dropped 629 packets in a cell); the
	 * forced size (root), four times the ring's, is not capped and changes no sysctl */
	if (pcap_datalink(c->pcap) == DLT_NFLOG) {
		int bytes = (int)(o->buffer_kib ? o->buffer_kib : CAPTURE_BUFFER_KIB) * 1024 * 4;

		if (setsockopt(pcap_fileno(c->pcap), SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
			       sizeof(bytes)) < 0) {
			err_errno(err, errno, "capture %s: its socket's buffer", label);
			goto fail;
		}
	}
	if (o->filter) {
		if (pcap_compile(c->pcap, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			err_set(err, "capture %s: filter '%s': %s", label, o->filter,
				pcap_geterr(c->pcap));
			goto fail;
		}
		rc = pcap_setfilter(c->pcap, &prog);
		pcap_freecode(&prog);
		if (rc < 0) {
			err_set(err, "capture %s: filter: %s", label, pcap_geterr(c->pcap));
			goto fail;
		}
	}
	if (pcap_setnonblock(c->pcap, 1, ebuf) < 0) {
		err_set(err, "capture %s: %s", label, ebuf);
		goto fail;
	}
	c->linktype = pcap_datalink(c->pcap);
	c->dump = path ? pcap_dump_open(c->pcap, path) : NULL;
	if (path && !c->dump) {
		err_set(err, "capture %s: %s", label, pcap_geterr(c->pcap));
		goto fail;
	}
	return c;
fail:
	capture_close(c);
	return NULL;
}

int capture_fd(const struct capture *c)
{
	return pcap_get_selectable_fd(c->pcap);
}

const char *capture_label(const struct capture *c)
{
	return c->label;
}

const char *capture_path(const struct capture *c)
{
	return c->path;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	struct ctr_pkt p;

	if (c->dump)
		pcap_dump((u_char *)c->dump, h, bytes);
	if (c->cb && pkt_decode(c->linktype, bytes, h->caplen, &p, NULL) == PKT_TCP) {
		p.ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		c->cb(c->ctx, c, &p);
	}
}

int capture_dispatch(struct capture *c, capture_cb cb, void *ctx, char **err)
{
	int n;

	c->cb = cb;
	c->ctx = ctx;
	n = pcap_dispatch(c->pcap, -1, on_packet, (u_char *)c);
	c->cb = NULL;
	if (n < 0)
		return err_set(err, "capture %s: %s", c->label, pcap_geterr(c->pcap));
	return n;
}

unsigned capture_dropped(const struct capture *c)
{
	struct pcap_stat st;

	if (pcap_stats(c->pcap, &st) < 0)
		return 0;
	return st.ps_drop + st.ps_ifdrop;
}

int capture_flush(struct capture *c, char **err)
{
	if (!c || !c->dump)
		return 0;
	errno = 0;
	if (pcap_dump_flush(c->dump) < 0 || ferror(pcap_dump_file(c->dump)))
		return err_errno(err, errno ? errno : EIO, "capture %s: writing %s", c->label,
				 c->path);
	return 0;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->dump) {
		pcap_dump_flush(c->dump);
		pcap_dump_close(c->dump);
	}
	if (c->pcap)
		pcap_close(c->pcap);
	free(c->label);
	free(c->path);
	free(c);
}
