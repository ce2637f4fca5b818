#include "live.h"
#include "analyse.h"
#include "base/err.h"
#include "base/exitcodes.h"
#include "base/json.h"
#include "live/capture.h"
#include "live/ct.h"
#include "live/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* housekeeping: the service map refreshed, leaks awaiting a twin settled, idle
 * connections forgotten, the namespace checked, the metrics written */
#define TICK_MS 1000
/* a SYN to an address the map does not know asks for a refresh, at most this often: a
 * dump walks the conntrack table every namespace shares */
#define SYN_REFRESH_MS 20
/* headers only: Ethernet, two VLAN tags, IPv6 with extension headers, TCP with options */
#define LIVE_SNAPLEN 256
#define LIVE_BUFFER_KIB 4096

struct live {
	const struct live_opts *o;
	struct live_summary *s;
	struct analyse *a;
	struct svcmap learned;
	struct svcmap *svc;
	bool learning;
	struct capture *caps[LIVE_MAX_IFACES];
	int capidx[LIVE_MAX_IFACES]; /* the analysis' capture index of each */
	unsigned long segs[LIVE_MAX_IFACES];
	unsigned long predicted; /* replies the model says skip reverse NAT, unconfirmed */
	FILE *jl;
	uint64_t last_refresh_ms;
	bool refresh_wanted;
	char *refresh_error; /* the last failed refresh's reason */
	char ns_path[PATH_MAX];
	int ns_fd, home_fd;   /* the namespace watched and our own, -1 when not switching */
	struct ct_handle *ct; /* its conntrack, opened in it */
	dev_t ns_dev;
	ino_t ns_ino;
	int cur_cap; /* the capture whose segment is being fed */
	char *err;   /* an error raised inside a callback */
};

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static uint64_t wall_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static const char *time_str(uint64_t us, char *buf, size_t n)
{
	time_t sec = (time_t)(us / 1000000u);
	struct tm tm;
	size_t k;

	gmtime_r(&sec, &tm);
	k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%06uZ", (unsigned)(us % 1000000u));
	return buf;
}

size_t live_flow_bytes(void)
{
	return sizeof(struct review_flow) + 2 * LIVE_MAX_ROWS * sizeof(struct review_row) +
	       4 * 48; /* its keys and SYN record in the hash tables, at half load */
}

/* --- the namespace ----------------------------------------------------------------------- */

/* The process enters the node's namespace only to open its sockets (captures and
 * conntrack's, which keep it), then returns to its own: a runner that kills every process
 * of the node's namespace (the bench's reset between cells) does not count it as the
 * node's. */
static int ns_out(struct live *l, char **err)
{
	return l->home_fd < 0 ? 0 : netns_set(l->home_fd, "(our own)", err);
}

/* --- the service map from conntrack ---------------------------------------------------- */

static int learn_one(void *ctx, const struct ct_flow *f)
{
	struct live *l = ctx;

	/* DNATed: the reply comes from elsewhere than the client addressed */
	if (endpoint_eq(&f->orig.dst, &f->reply.src))
		return 0;
	return svcmap_add(l->svc, &f->orig.dst, &f->reply.src, false, NULL) < 0;
}

static void refresh(struct live *l)
{
	char *err = NULL;

	l->last_refresh_ms = mono_ms();
	l->refresh_wanted = false;
	if (ct_handle_dump(l->ct, learn_one, l, &err) < 0) {
		l->s->refresh_errors++;
		free(l->refresh_error);
		l->refresh_error = err;
	}
	l->s->services = l->svc->n;
}

/* --- events ---------------------------------------------------------------------------- */

static const char *cap_iface(const struct live *l, int cap)
{
	for (size_t i = 0; i < l->o->nifaces; i++)
		if (l->capidx[i] == cap)
			return l->o->ifaces[i];
	return "?";
}

static void model_str(const struct review_row *r, char *buf, size_t n)
{
	char why[160];

	if (!r->modelled) {
		snprintf(buf, n, "not modelled (first seen past the NAT)");
		return;
	}
	snprintf(buf, n, "%s%s (%s)%s", ctwin_verdict_name(r->ct.verdict),
		 r->ct.liberal ? ", forgiven by be_liberal" : "",
		 ctwin_reason_str(&r->ct, why, sizeof(why)),
		 r->nat_skipped ? ": reverse NAT skipped" : "");
}

/* An RST seen past the NAT only: the server's segment it answers when the node's
 * conntrack holds no DNAT entry of the connection any more, else NULL */
static const struct review_row *lost_entry(struct live *l, const struct review_flow *f,
					   const struct review_row *r)
{
	const struct review_row *ans = analyse_rst_answers(f, r, true);
	struct ctr_tuple reply = {.src = f->backend, .dst = f->client};
	struct ct_flow cf;
	char *e = NULL;
	int got;

	if (!ans || !f->nat)
		return NULL;
	got = ct_handle_get_by_reply(l->ct, &reply, &cf, &e);
	free(e);
	if (got < 0 || (got == 1 && endpoint_eq(&cf.orig.dst, &f->server)))
		return NULL;
	return ans;
}

static void on_event(void *ctx, const struct review_flow *f, const struct review_row *r, int cap)
{
	struct live *l = ctx;
	char ts[40], c[CTR_EPSTRLEN], v[CTR_EPSTRLEN], b[CTR_EPSTRLEN], fl[9], model[256];
	const struct review_row *ans = NULL;
	const char *kind, *iface = cap_iface(l, cap);
	bool leak = r->dir == 1 && (r->notes & ROW_LEAK);
	bool predicted = r->dir == 1 && (r->notes & ROW_PREDICTED) && !leak;

	time_str(r->ts_us, ts, sizeof(ts));
	endpoint_str(&f->client, c);
	endpoint_str(&f->server, v);
	endpoint_str(&f->backend, b);
	pkt_flags_str(r->flags, fl);
	model_str(r, model, sizeof(model));
	if (leak) {
		kind = "leak";
		l->s->leaks++;
		fprintf(l->o->out,
			"%s leak  %s client %s vip %s: %s seq %u ack %u len %u from the backend "
			"%s itself, not the VIP; conntrack: %s\n",
			ts, iface, c, v, fl, r->seq, r->ack, r->len, b, model);
	} else if (predicted) {
		/* seen past the NAT only: whether it reached a socket, the RST answering it
		 * will say (an INPUT rule may drop it first) */
		kind = "predicted";
		l->predicted++;
		fprintf(
		    l->o->out,
		    "%s predicted %s client %s vip %s: %s seq %u ack %u len %u from the backend "
		    "%s; conntrack: %s: it leaves the node un-NATed unless a rule drops it\n",
		    ts, iface, c, v, fl, r->seq, r->ack, r->len, b, model);
	} else if ((r->notes & ROW_RST) && r->dir == 0) {
		kind = "rst";
		ans = analyse_rst_answers(f, r, false);
		/* past the NAT, an RST is the client's own when it answers a reply the model
		 * says skipped reverse NAT, or when the node has no DNAT entry for the
		 * connection any more (deleted, flushed, expired: the backend's segment that
		 * it answers opened a NEW one of its own, or none); any other is a DNATed one
		 * of the connection's */
		if (!(r->notes & ROW_UNNAT) && !ans && !(ans = lost_entry(l, f, r)))
			return;
		l->s->rsts++;
		if (ans && !(ans->notes & ROW_LEAK)) {
			/* the RST proves the predicted reply reached the client un-NATed */
			l->s->leaks++;
			fprintf(l->o->out,
				"%s leak  %s client %s vip %s: %s seq %u ack %u len %u from the "
				"backend %s itself reached the client (its RST answers it); "
				"conntrack: %s\n",
				ts, iface, c, v, pkt_flags_str(ans->flags, fl), ans->seq, ans->ack,
				ans->len, b, (model_str(ans, model, sizeof(model)), model));
			pkt_flags_str(r->flags, fl);
			model_str(r, model, sizeof(model));
		}
		if (ans)
			l->s->answering_rsts++;
		if (ans && r->effect == CTWIN_RST_RESETS)
			l->s->resets++;
		fprintf(
		    l->o->out, "%s rst   %s client %s -> backend %s (vip %s): %s seq %u, %s; %s\n",
		    ts, iface, c, b, v, fl, r->seq,
		    ans ? "answering the un-NATed segment" : "answering no un-NATed segment seen",
		    ctwin_rst_effect_str(r->effect));
	} else {
		return;
	}
	fflush(l->o->out);
	if (!l->jl)
		return;
	fputc('{', l->jl);
	json_str(l->jl, "time");
	fputc(':', l->jl);
	json_str(l->jl, ts);
	fprintf(l->jl, ",\"event\":\"%s\",\"interface\":", kind);
	json_str(l->jl, iface);
	fprintf(l->jl, ",\"client\":\"%s\",\"vip\":\"%s\",\"backend\":\"%s\",", c, v, b);
	fprintf(l->jl, "\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,\"len\":%u,\"conntrack\":", fl,
		r->seq, r->ack, r->len);
	json_str(l->jl, model);
	if (!leak)
		fprintf(l->jl, ",\"answers_leak\":%s,\"resets\":%s,\"effect\":\"%s\"",
			ans ? "true" : "false",
			ans && r->effect == CTWIN_RST_RESETS ? "true" : "false",
			ctwin_rst_effect_str(r->effect));
	fputs("}\n", l->jl);
	fflush(l->jl);
}

/* --- metrics ---------------------------------------------------------------------------- */

static void metric(FILE *f, const char *name, const char *type, const char *help,
		   unsigned long long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

/* Prometheus text exposition into a temporary file beside path, renamed over it: a
 * reader (node_exporter's textfile collector) never sees half a file */
static int write_metrics(struct live *l, char **err)
{
	const struct live_summary *s = l->s;
	char tmp[PATH_MAX];
	FILE *f;
	int fd;

	if (!l->o->metrics)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", l->o->metrics, (long)getpid()) >=
	    (int)sizeof(tmp))
		return err_set(err, "--metrics %s: path too long", l->o->metrics);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, errno, "--metrics %s", tmp);
	}
	metric(f, "ctreset_unnated_segments_total", "counter",
	       "Segments that reached a pod from a backend's own address (reverse NAT skipped).",
	       s->leaks);
	metric(f, "ctreset_predicted_unnated_segments_total", "counter",
	       "Replies seen only past the NAT that the conntrack model says skip reverse NAT "
	       "(counted as un-NATed once an RST answers them).",
	       l->predicted);
	metric(f, "ctreset_client_rsts_total", "counter",
	       "RSTs a pod sent to a backend's own address.", s->rsts);
	metric(f, "ctreset_answering_rsts_total", "counter",
	       "Of those, RSTs answering an un-NATed segment.", s->answering_rsts);
	metric(f, "ctreset_resets_total", "counter",
	       "Backend connections reset by an RST answering an un-NATed segment.", s->resets);
	fputs("# HELP ctreset_segments_total TCP segments read, per interface.\n"
	      "# TYPE ctreset_segments_total counter\n",
	      f);
	for (size_t i = 0; i < l->o->nifaces; i++)
		fprintf(f, "ctreset_segments_total{interface=\"%s\"} %lu\n", l->o->ifaces[i],
			l->segs[i]);
	fputs("# HELP ctreset_kernel_drops_total Packets the kernel dropped before the capture "
	      "read them (pcap_stats).\n# TYPE ctreset_kernel_drops_total counter\n",
	      f);
	for (size_t i = 0; i < l->o->nifaces; i++)
		fprintf(f, "ctreset_kernel_drops_total{interface=\"%s\"} %lu\n", l->o->ifaces[i],
			s->drops[i]);
	metric(f, "ctreset_flows_tracked", "gauge", "Connections tracked now.", s->flows);
	metric(f, "ctreset_flows_evicted_total", "counter",
	       "Connections forgotten (idle, or over the cap).", s->evicted);
	metric(f, "ctreset_services", "gauge", "VIP-to-backend pairs known.", s->services);
	metric(f, "ctreset_conntrack_refresh_errors_total", "counter",
	       "Conntrack dumps that failed.", s->refresh_errors);
	fprintf(f,
		"# HELP ctreset_last_update_timestamp_seconds When this file was written.\n"
		"# TYPE ctreset_last_update_timestamp_seconds gauge\n"
		"ctreset_last_update_timestamp_seconds %llu\n",
		(unsigned long long)(wall_us() / 1000000u));
	if (fflush(f) != 0 || ferror(f)) {
		int e = errno;

		fclose(f);
		unlink(tmp);
		return err_errno(err, e ? e : EIO, "--metrics %s", tmp);
	}
	if (fclose(f) != 0) {
		unlink(tmp);
		return err_errno(err, errno, "--metrics %s", tmp);
	}
	if (rename(tmp, l->o->metrics) < 0) {
		int e = errno;

		unlink(tmp);
		return err_errno(err, e, "--metrics: renaming %s to %s", tmp, l->o->metrics);
	}
	return 0;
}

/* --- the loop --------------------------------------------------------------------------- */

/* A SYN to a VIP, before the NAT: the backend its conntrack entry chose, looked up by the
 * reply it expects from each backend the map knows of the VIP (hash lookups, no dump),
 * declared to the analysis before the SYN is. Without it a connection to a VIP the map
 * knows one backend of would be taken for that backend's, and a reply leaked by another
 * backend not learned yet missed (seen under bench/load: two backends, the second
 * learned a refresh after its first connection). A backend none of them is: a refresh
 * (at most every SYN_REFRESH_MS), then once more. 1 declared, 0 not found, -1 l->err.
 * Guarded by test_load (bench/load --detect: two backends, a detector per node). */
static int bind_backend(struct live *l, const struct ctr_pkt *p)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < l->svc->n; i++) {
			const struct svcmap_entry *m = &l->svc->v[i];
			struct ctr_tuple reply = {.src = m->backend, .dst = p->tuple.src};
			struct ct_flow cf;
			char *e = NULL;

			if (!endpoint_eq(&m->vip, &p->tuple.dst))
				continue;
			if (ct_handle_get_by_reply(l->ct, &reply, &cf, &e) != 1) {
				free(e);
				continue;
			}
			if (!endpoint_eq(&cf.orig.src, &p->tuple.src) ||
			    !endpoint_eq(&cf.orig.dst, &p->tuple.dst))
				continue;
			return analyse_declare_nat(l->a, &p->tuple.src, &p->tuple.dst, &m->backend,
						   &l->err) < 0
				   ? -1
				   : 1;
		}
		if (pass || mono_ms() - l->last_refresh_ms < SYN_REFRESH_MS)
			break;
		refresh(l);
	}
	l->refresh_wanted = true;
	return 0;
}

static void on_segment(void *ctx, const struct capture *c, const struct ctr_pkt *p)
{
	struct live *l = ctx;

	(void)c;
	if (l->err)
		return;
	l->segs[l->cur_cap]++;
	l->s->segments++;
	if (l->refresh_wanted && mono_ms() - l->last_refresh_ms >= SYN_REFRESH_MS)
		refresh(l);
	if (l->learning && (p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN &&
	    svcmap_is_vip(l->svc, &p->tuple.dst)) {
		if (bind_backend(l, p) < 0)
			return;
	} else if (l->learning && (p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN) {
		/* past the NAT (the node's own uplink), a SYN already carries the backend's
		 * address: its conntrack entry, looked up by the reply it expects (a hash
		 * lookup, no dump), says which VIP it was for. The entry exists once the SYN
		 * crossed the node's netfilter, which happened before we read it. */
		struct ctr_tuple reply = {.src = p->tuple.dst, .dst = p->tuple.src};
		struct ct_flow cf;
		char *e = NULL;
		int got = ct_handle_get_by_reply(l->ct, &reply, &cf, &e);

		free(e);
		if (got == 1 && !endpoint_eq(&cf.orig.dst, &cf.reply.src)) {
			if (svcmap_add(l->svc, &cf.orig.dst, &cf.reply.src, false, &l->err) < 0 ||
			    analyse_declare_nat(l->a, &p->tuple.src, &cf.orig.dst, &p->tuple.dst,
						&l->err) < 0)
				return;
			l->s->services = l->svc->n;
		} else if (!svcmap_is_backend(l->svc, &p->tuple.dst)) {
			/* a connection to an address not known yet: refresh the map */
			if (mono_ms() - l->last_refresh_ms >= SYN_REFRESH_MS)
				refresh(l);
			else
				l->refresh_wanted = true;
		}
	}
	if (analyse_packet(l->a, l->capidx[l->cur_cap], p, &l->err) < 0)
		return;
	if (analyse_flow_count(l->a) > l->s->peak_flows)
		l->s->peak_flows = analyse_flow_count(l->a);
	if (analyse_flow_count(l->a) > l->o->max_flows) {
		/* over the cap: the least recently active tenth goes */
		long n = analyse_evict(l->a, p->ts_us, (uint64_t)l->o->idle_s * 1000000u,
				       l->o->max_flows - l->o->max_flows / 10, &l->err);

		if (n > 0)
			l->s->evicted += (unsigned long)n;
	}
}

static int ns_check(struct live *l, char **err)
{
	struct stat st;

	if (!l->ns_path[0])
		return 0;
	if (stat(l->ns_path, &st) < 0)
		return err_errno(err, errno, "namespace %s vanished", l->o->netns);
	if (st.st_dev != l->ns_dev || st.st_ino != l->ns_ino)
		return err_set(err, "namespace %s vanished (%s is another namespace now)",
			       l->o->netns, l->ns_path);
	return 0;
}

static int enter_ns(struct live *l, char **err)
{
	struct stat st;
	int fd;

	l->ns_fd = l->home_fd = -1;
	if (!l->o->netns)
		return 0;
	l->home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (l->home_fd < 0)
		return err_errno(err, errno, "our own namespace (/proc/self/ns/net)");
	if (l->o->netns[0] == '/')
		snprintf(l->ns_path, sizeof(l->ns_path), "%s", l->o->netns);
	else
		snprintf(l->ns_path, sizeof(l->ns_path), "/run/netns/%s", l->o->netns);
	fd = netns_open(l->o->netns, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return err_errno(err, errno, "namespace %s", l->o->netns);
	}
	l->ns_dev = st.st_dev;
	l->ns_ino = st.st_ino;
	l->ns_fd = fd;
	return netns_set(fd, l->o->netns, err);
}

/* the namespace's own conntrack settings: the model follows them */
static void read_sysctls(struct ctwin_opts *ct, FILE *out)
{
	static const char dir[] = "/proc/sys/net/netfilter/";
	char path[128];
	int v;
	FILE *f;

	snprintf(path, sizeof(path), "%snf_conntrack_tcp_be_liberal", dir);
	if ((f = fopen(path, "re")) && fscanf(f, "%d", &v) == 1 && v)
		ct->be_liberal = true;
	if (f)
		fclose(f);
	else
		fprintf(out, "note: %s unreadable (no conntrack here?): be_liberal taken as %d\n",
			path, ct->be_liberal);
	snprintf(path, sizeof(path), "%snf_conntrack_tcp_loose", dir);
	if ((f = fopen(path, "re")) && fscanf(f, "%d", &v) == 1 && !v)
		ct->no_pickup = true;
	if (f)
		fclose(f);
}

static void print_summary(const struct live *l)
{
	const struct live_summary *s = l->s;
	FILE *out = l->o->out;

	fprintf(out,
		"summary: %.1f s, %lu segments, %zu connections tracked (peak %zu, %lu "
		"forgotten, cap %u), %lu services known%s\n",
		s->seconds, s->segments, s->flows, s->peak_flows, s->evicted, l->o->max_flows,
		s->services, l->learning ? " (learned from conntrack)" : " (given)");
	fprintf(out,
		"  un-NATed segments: %lu; RSTs to a backend's own address: %lu (%lu answering "
		"one); backend connections reset: %lu\n",
		s->leaks, s->rsts, s->answering_rsts, s->resets);
	if (l->predicted)
		fprintf(out,
			"  replies seen only past the NAT that the model says skip reverse NAT: "
			"%lu\n",
			l->predicted);
	fputs("  kernel drops (pcap_stats):", out);
	for (size_t i = 0; i < l->o->nifaces; i++)
		fprintf(out, " %s %lu", l->o->ifaces[i], s->drops[i]);
	fputc('\n', out);
	if (s->refresh_errors)
		fprintf(out, "  conntrack dumps failed: %lu (last: %s)\n", s->refresh_errors,
			l->refresh_error ? l->refresh_error : "?");
	fflush(out);
}

static void update_stats(struct live *l)
{
	for (size_t i = 0; i < l->o->nifaces; i++)
		if (l->caps[i])
			l->s->drops[i] = capture_dropped(l->caps[i]);
	l->s->flows = analyse_flow_count(l->a);
}

int live_run(const struct live_opts *opts, struct live_summary *s, char **err)
{
	struct live_opts o = *opts;
	struct analyse_opts ao = {.max_rows = LIVE_MAX_ROWS, .event = on_event, .predict = true};
	struct capture_opts co = {
	    .buffer_kib = LIVE_BUFFER_KIB, .snaplen = LIVE_SNAPLEN, .filter = "tcp"};
	struct live l = {.o = &o, .s = s};
	struct pollfd pfd[LIVE_MAX_IFACES];
	uint64_t t0 = 0, next_tick, deadline = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (!o.max_flows)
		o.max_flows = LIVE_MAX_FLOWS;
	if (!o.idle_s)
		o.idle_s = LIVE_IDLE_S;
	if (!o.nifaces || o.nifaces > LIVE_MAX_IFACES)
		return err_set(err, "--live takes 1 to %d interfaces", LIVE_MAX_IFACES);
	if (enter_ns(&l, err) < 0) {
		if (l.ns_fd >= 0)
			close(l.ns_fd);
		if (l.home_fd >= 0)
			close(l.home_fd);
		return -1;
	}
	read_sysctls(&o.ct, o.out);
	l.learning = !o.svc;
	l.svc = o.svc ? o.svc : &l.learned;
	ao.ct = o.ct;
	ao.event_ctx = &l;
	l.a = analyse_new(&ao, l.svc, err);
	if (!l.a)
		goto out;
	for (size_t i = 0; i < o.nifaces; i++) {
		/* the role is learned per connection from what each interface shows: one that
		 * sees the client address the VIP is on the client's side of the NAT */
		l.capidx[i] = analyse_add_capture(l.a, o.ifaces[i], CAP_UNKNOWN, err);
		if (l.capidx[i] < 0)
			goto out;
		l.caps[i] = capture_open_opts(o.ifaces[i], o.ifaces[i], NULL, &co, err);
		if (!l.caps[i])
			goto out;
		pfd[i] = (struct pollfd){.fd = capture_fd(l.caps[i]), .events = POLLIN};
		if (pfd[i].fd < 0) {
			err_set(err, "capture %s: no selectable descriptor", o.ifaces[i]);
			goto out;
		}
	}
	l.ct = ct_handle_open(err);
	if (!l.ct || ns_out(&l, err) < 0)
		goto out;
	if (o.json_lines && !(l.jl = fopen(o.json_lines, "we"))) {
		err_errno(err, errno, "--json-lines %s", o.json_lines);
		goto out;
	}
	if (l.learning)
		refresh(&l);
	else
		s->services = l.svc->n;
	if (write_metrics(&l, err) < 0)
		goto out;
	fprintf(o.out,
		"listening on %zu interface%s%s%s, %lu services known%s; model: be_liberal=%d "
		"tcp_loose=%d ignore-delayed=%d; at most %u connections (%zu bytes each at most)\n",
		o.nifaces, o.nifaces > 1 ? "s" : "", o.netns ? " in namespace " : "",
		o.netns ? o.netns : "", s->services,
		l.learning ? " (learned from conntrack, refreshed each second)" : " (given)",
		o.ct.be_liberal, !o.ct.no_pickup, !o.ct.no_ignore_delayed, o.max_flows,
		live_flow_bytes());
	fflush(o.out);
	t0 = mono_ms();
	next_tick = t0 + TICK_MS;
	if (o.duration_s > 0)
		deadline = t0 + (uint64_t)(o.duration_s * 1000);
	while (!(o.stop && *o.stop)) {
		uint64_t now = mono_ms();
		int timeout = (int)(next_tick > now ? next_tick - now : 0), n;

		if (deadline && now >= deadline)
			break;
		if (deadline && deadline - now < (uint64_t)timeout)
			timeout = (int)(deadline - now);
		/* a refresh asked for by a SYN: as soon as allowed, before the replies */
		if (l.refresh_wanted) {
			uint64_t since = now - l.last_refresh_ms;
			int soon = since >= SYN_REFRESH_MS ? 0 : (int)(SYN_REFRESH_MS - since);

			if (soon < timeout)
				timeout = soon;
		}
		n = poll(pfd, o.nifaces, timeout);
		if (n < 0 && errno != EINTR) {
			err_errno(err, errno, "poll");
			goto out;
		}
		for (size_t i = 0; n > 0 && i < o.nifaces; i++) {
			if (!pfd[i].revents)
				continue;
			l.cur_cap = (int)i;
			/* an error (the interface went down or went away) is pcap's to name */
			if (capture_dispatch(l.caps[i], on_segment, &l, err) < 0)
				goto out;
			if (l.err) {
				*err = l.err;
				l.err = NULL;
				goto out;
			}
			if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
				err_set(err, "capture %s: the interface went down or away",
					o.ifaces[i]);
				goto out;
			}
		}
		now = mono_ms();
		if (l.refresh_wanted && now - l.last_refresh_ms >= SYN_REFRESH_MS)
			refresh(&l);
		if (now >= next_tick) {
			uint64_t wall = wall_us();
			long ev;

			next_tick = now + TICK_MS;
			if (ns_check(&l, err) < 0)
				goto out;
			if (l.learning)
				refresh(&l);
			if (analyse_settle(l.a, wall, false, err) < 0)
				goto out;
			ev = analyse_evict(l.a, wall, (uint64_t)o.idle_s * 1000000u, o.max_flows,
					   err);
			if (ev < 0)
				goto out;
			s->evicted += (unsigned long)ev;
			update_stats(&l);
			if (write_metrics(&l, err) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	if (l.a) {
		char *e2 = NULL;

		if (analyse_settle(l.a, 0, true, &e2) < 0)
			free(e2);
		update_stats(&l);
		s->seconds = (double)(mono_ms() - (t0 ? t0 : mono_ms())) / 1000.0;
		if (rc < 0 && err && *err)
			fprintf(o.out, "error: %s\n", *err);
		print_summary(&l);
		if (write_metrics(&l, rc < 0 ? &e2 : err) < 0) {
			if (rc < 0)
				free(e2);
			else
				rc = -1;
		}
	}
	for (size_t i = 0; i < o.nifaces; i++)
		capture_close(l.caps[i]);
	if (l.jl)
		fclose(l.jl);
	analyse_free(l.a);
	ct_handle_close(l.ct);
	if (l.ns_fd >= 0)
		close(l.ns_fd);
	if (l.home_fd >= 0)
		close(l.home_fd);
	svcmap_free(&l.learned);
	free(l.refresh_error);
	free(l.err);
	return rc;
}

int live_parse_ifaces(struct live_opts *o, const char *list, char **err)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		char *name;

		if (!n || n >= 16)
			return err_set(err, "--live: an interface name is 1 to 15 characters");
		if (o->nifaces == LIVE_MAX_IFACES)
			return err_set(err, "--live: at most %d interfaces", LIVE_MAX_IFACES);
		name = strndup(p, n);
		if (!name)
			return err_set(err, "out of memory");
		o->ifaces[o->nifaces++] = name;
		p += n + (p[n] == ',');
	}
	return o->nifaces ? 0 : err_set(err, "--live needs an interface");
}

static volatile sig_atomic_t live_stop;

static void on_signal(int sig)
{
	(void)sig;
	live_stop = 1;
}

int live_cli(struct live_opts *o)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct live_summary s;
	char *err = NULL;
	int rc;

	/* no SA_RESTART: poll() returns at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	o->stop = &live_stop;
	if (!o->out)
		o->out = stdout;
	rc = live_run(o, &s, &err);
	for (size_t i = 0; i < o->nifaces; i++)
		free((char *)o->ifaces[i]);
	if (rc < 0) {
		fprintf(stderr, "ctreset-review: %s\n", err ? err : "?");
		free(err);
		return CTR_EXIT_FAIL;
	}
	return s.resets ? CTR_EXIT_RESET : s.leaks ? CTR_EXIT_LEAK : CTR_EXIT_PASS;
}
