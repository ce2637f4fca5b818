#include "report.h"
#include "base/json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* --- shared helpers ------------------------------------------------------------------- */

/* a capture's short name: its file name without the extension */
static const char *cap_name(const struct analyse *a, int i, char *buf, size_t n)
{
	const struct analyse_cap *c = analyse_cap(a, (size_t)i);
	const char *base, *dot;
	size_t len;

	if (!c)
		return "?";
	base = strrchr(c->path, '/');
	base = base ? base + 1 : c->path;
	dot = strrchr(base, '.');
	len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	snprintf(buf, n, "%.*s", (int)(len < 40 ? len : 40), base);
	return buf;
}

/* "client,node" for a capture bit set */
static const char *caps_str(const struct analyse *a, uint32_t set, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < analyse_cap_count(a); i++) {
		char name[48];

		if (!((set >> i) & 1))
			continue;
		used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s",
					 used ? "," : "", cap_name(a, (int)i, name, sizeof(name)));
	}
	if (!used)
		snprintf(buf, n, "-");
	return buf;
}

/* the addresses of a row as the client's side of the NAT shows them */
static void row_addrs(const struct review_flow *f, const struct review_row *r,
		      const struct ctr_endpoint **src, const struct ctr_endpoint **dst)
{
	const struct ctr_endpoint *far = &f->server;

	if (f->nat &&
	    ((r->dir == 1 && (r->notes & ROW_LEAK)) || (r->dir == 0 && (r->notes & ROW_UNNAT)) ||
	     (r->via_backend && !r->natted_at && r->dir == 1)))
		far = &f->backend;
	*src = r->dir ? far : &f->client;
	*dst = r->dir ? &f->client : far;
}

static uint64_t t0_of(const struct analyse *a)
{
	uint64_t t0 = UINT64_MAX;

	for (size_t i = 0; i < analyse_flow_count(a); i++) {
		const struct review_flow *f = analyse_flow(a, i);

		if (f->first_us && f->first_us < t0)
			t0 = f->first_us;
	}
	return t0 == UINT64_MAX ? 0 : t0;
}

static double rel(uint64_t ts, uint64_t t0)
{
	return ts >= t0 ? (double)(ts - t0) / 1e6 : -(double)(t0 - ts) / 1e6;
}

static const char *model_name(const struct analyse *a)
{
	const struct ctwin_opts *o = &analyse_options(a)->ct;

	if (!o->no_ignore_delayed)
		return "Linux with ignore-delayed, 6e250dcbff1d (>= 6.1, as 6.18)";
	return o->no_rcvwnd_workaround
		   ? "Linux without ignore-delayed or rcvwnd-workaround (as 5.10)"
		   : "Linux without ignore-delayed, with rcvwnd-workaround (as 6.0, 5.15.68)";
}

static void seg_str(const struct review_flow *f, const struct review_row *r, char *buf, size_t n)
{
	const struct ctr_endpoint *s, *d;
	char sb[CTR_EPSTRLEN], db[CTR_EPSTRLEN], fl[10];

	row_addrs(f, r, &s, &d);
	snprintf(buf, n, "%s > %s [%s] seq %u ack %u len %u", endpoint_str(s, sb),
		 endpoint_str(d, db), pkt_flags_str(r->flags, fl), r->seq, r->ack, r->len);
}

/* what the NAT node did with a modelled row, one clause */
static void node_str(const struct review_flow *f, const struct review_row *r, char *buf, size_t n)
{
	char why[160];

	if (!r->modelled) {
		snprintf(buf, n, "not modelled (no capture fed it to the model first)");
		return;
	}
	ctwin_reason_str(&r->ct, why, sizeof(why));
	if (r->notes & ROW_UNNAT)
		snprintf(buf, n, "conntrack: no entry for it, %s: %s; forwarded as it is",
			 ctwin_verdict_name(r->ct.verdict), why);
	else
		snprintf(buf, n, "conntrack %s: %s%s%s", ctwin_verdict_name(r->ct.verdict), why,
			 r->nat_skipped
			     ? "; NAT skipped: it leaves the node with the backend's address"
			 : f->nat && r->dir == 1 && r->ct.verdict != CTWIN_INVALID ? "; NAT applies"
										   : "",
			 r->nat_skipped && r->natted_at
			     ? ", yet a capture saw it NATed (be_liberal on the node? another "
			       "kernel?)"
			     : "");
}

/* --- text ----------------------------------------------------------------------------- */

struct event_ref {
	const struct review_flow *f;
	size_t flow, row;
	uint64_t n;
	uint64_t ts;
};

static int event_cmp(const void *x, const void *y)
{
	const struct event_ref *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->flow != b->flow)
		return a->flow < b->flow ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n;
}

static void text_events(FILE *out, const struct analyse *a, uint64_t t0)
{
	size_t n = 0, k = 0;
	struct event_ref *ev;

	for (size_t i = 0; i < analyse_flow_count(a); i++) {
		const struct review_flow *f = analyse_flow(a, i);

		for (size_t r = 0; r < f->nrows; r++)
			n += f->rows[r].notes != 0;
	}
	fprintf(out, "events:%s\n", n ? "" : " none");
	if (!n)
		return;
	ev = calloc(n, sizeof(*ev));
	if (!ev) {
		fprintf(out, "  (out of memory listing %zu events)\n", n);
		return;
	}
	for (size_t i = 0; i < analyse_flow_count(a); i++) {
		const struct review_flow *f = analyse_flow(a, i);

		for (size_t r = 0; r < f->nrows; r++)
			if (f->rows[r].notes)
				ev[k++] =
				    (struct event_ref){f, i, r, f->rows[r].n, f->rows[r].ts_us};
	}
	qsort(ev, n, sizeof(*ev), event_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct review_flow *f = ev[i].f;
		const struct review_row *r = &f->rows[ev[i].row];
		char seg[256], node[400], caps[200], vip[CTR_EPSTRLEN];
		double t = rel(r->ts_us, t0);

		seg_str(f, r, seg, sizeof(seg));
		node_str(f, r, node, sizeof(node));
		if ((r->notes & ROW_WINDOW) || (r->notes & ROW_REOPEN))
			fprintf(out, "  %10.6f  flow %-3zu %-8s %s: %s\n", t, ev[i].flow + 1,
				r->ct.liberal ? "LIBERAL" : ctwin_verdict_name(r->ct.verdict), seg,
				node);
		if (r->notes & ROW_DROPPED)
			fprintf(out,
				"  %10.6f  flow %-3zu %-8s %s: seen at %s, at no capture past "
				"the node\n",
				t, ev[i].flow + 1, "DROPPED", seg,
				caps_str(a, r->seen, caps, sizeof(caps)));
		if (r->notes & ROW_LEAK)
			fprintf(out,
				"  %10.6f  flow %-3zu %-8s %s: reached the client from the "
				"backend's own address, not %s (at %s)%s\n",
				t, ev[i].flow + 1, "LEAK", seg, endpoint_str(&f->server, vip),
				caps_str(a, r->leaked_at, caps, sizeof(caps)),
				r->modelled && !r->nat_skipped
				    ? "; the model had NAT applying: the node's conntrack entry "
				      "must have been gone (deleted, expired, table full)"
				    : "");
		if (r->notes & ROW_RST) {
			char ans[96] = "";

			if (r->answers >= 0)
				snprintf(ans, sizeof(ans), "answers the leaked segment (%s); ",
					 f->rows[r->answers].flags & TCPF_ACK
					     ? "its seq is that segment's ack"
					     : "it acknowledges that segment, which had no ACK");
			fprintf(out, "  %10.6f  flow %-3zu %-8s %s: %s%s; seen at %s%s\n", t,
				ev[i].flow + 1, "RST", seg, ans, ctwin_rst_effect_str(r->effect),
				caps_str(a, r->seen, caps, sizeof(caps)),
				(int)ev[i].row == f->kill_row
				    ? " -> the backend's connection is reset"
				    : "");
			if (r->notes & ROW_UNNAT)
				fprintf(out, "  %10.6f  flow %-3zu %-8s %s\n", t, ev[i].flow + 1,
					"UNNAT", node);
		}
	}
	free(ev);
}

static void text_flow(FILE *out, const struct analyse *a, size_t i)
{
	const struct review_flow *f = analyse_flow(a, i);
	char c[CTR_EPSTRLEN], s[CTR_EPSTRLEN], b[CTR_EPSTRLEN];

	fprintf(out, "  flow %zu  %s -> %s", i + 1, endpoint_str(&f->client, c),
		endpoint_str(&f->server, s));
	if (f->nat)
		fprintf(out, " (DNAT to %s%s)", endpoint_str(&f->backend, b),
			f->nat_inferred ? ", inferred" : "");
	fprintf(out,
		"\n      %lu segments / %" PRIu64 " bytes from the client, %lu / %" PRIu64
		" from the server; %.6f s\n",
		f->segs[0], f->bytes[0], f->segs[1], f->bytes[1],
		(double)(f->last_us - f->first_us) / 1e6);
	fprintf(out,
		"      conntrack (%s): %lu INVALID, %lu IGNORE%s, %lu forgiven by be_liberal; "
		"%s%s\n",
		model_name(a), f->n_invalid, f->n_ignore, f->n_reopen ? ", entry reopened" : "",
		f->n_liberal, f->ct.exists ? ctwin_state_name(f->ct.state) : "no entry at the end",
		f->handshake ? ""
			     : "; handshake not captured: picked up, tracked liberally "
			       "as the kernel would (no INVALID possible)");
	fprintf(out, "      %lu leaked, %lu RST, %lu to the backend's own address; end: %s",
		f->n_leak, f->n_rst, f->n_unnat, flow_end_name(f->end));
	if (f->kill_row >= 0) {
		const struct review_row *k = &f->rows[f->kill_row];

		fprintf(out,
			" (the client's RST seq %u answering the leaked segment reset the "
			"backend's connection",
			k->seq);
		for (size_t r = (size_t)f->kill_row + 1; r < f->nrows; r++)
			if (f->rows[r].dir == 1 && (f->rows[r].flags & TCPF_RST)) {
				fprintf(out, "; the backend then answered with RST: its socket is "
					     "gone");
				break;
			}
		fputc(')', out);
	}
	fputc('\n', out);
	if (f->rows_dropped)
		fprintf(out, "      (%lu more notable segments not listed: --max-rows)\n",
			f->rows_dropped);
}

void report_text(FILE *out, const struct analyse *a, const struct report_opts *o)
{
	const struct ctwin_opts *m = &analyse_options(a)->ct;
	const struct svcmap *svc = analyse_services(a);
	struct analyse_summary sum;
	uint64_t t0 = t0_of(a);
	size_t quiet = 0;

	analyse_summarise(a, &sum);
	fprintf(out, "model:    conntrack of %s, be_liberal=%d, tcp_loose=%d%s\n", model_name(a),
		m->be_liberal, !m->no_pickup, m->no_timeouts ? ", no timeouts" : "");
	for (size_t i = 0; i < analyse_cap_count(a); i++) {
		const struct analyse_cap *c = analyse_cap(a, i);

		fprintf(
		    out, "capture:  %s (%s): %lu frames, %lu TCP, %lu other, %lu malformed%s%s\n",
		    c->path, cap_role_name(c->role), c->stats.frames, c->stats.tcp, c->stats.other,
		    c->stats.malformed, c->warning ? "; CUT: " : "", c->warning ? c->warning : "");
	}
	for (size_t i = 0; i < svc->n; i++) {
		char v[CTR_EPSTRLEN], b[CTR_EPSTRLEN];

		fprintf(out, "service:  %s -> %s%s\n", endpoint_str(&svc->v[i].vip, v),
			endpoint_str(&svc->v[i].backend, b),
			svc->v[i].inferred ? " (inferred from the captures)" : "");
	}
	if (!svc->n)
		fprintf(
		    out,
		    "service:  none known (no NAT view; give --service VIP:PORT=BACKEND:PORT)\n");
	fprintf(out, "time 0:   %.6f (seconds since the epoch)\n", (double)t0 / 1e6);
	text_events(out, a, t0);
	fprintf(out, "flows:\n");
	for (size_t i = 0; i < analyse_flow_count(a); i++) {
		if (o->all_flows || flow_notable(analyse_flow(a, i)))
			text_flow(out, a, i);
		else
			quiet++;
	}
	if (quiet)
		fprintf(out, "  (%zu more with nothing to report: --all-flows lists them)\n",
			quiet);
	fprintf(out,
		"result:   %s: %lu segments (%lu sightings) in %lu flow%s; %lu INVALID, %lu "
		"IGNORE; %lu leaked, %lu RST answering a leak, %lu connection%s reset by one\n",
		analyse_result_name(analyse_result(a)), sum.unique, sum.segments, sum.flows,
		sum.flows == 1 ? "" : "s", sum.invalid, sum.ignore, sum.leaks, sum.answering_rsts,
		sum.resets, sum.resets == 1 ? "" : "s");
	if (o->verdict) {
		fprintf(out, "verdict:  %s (%s)", verdict_name(o->verdict->verdict),
			o->verdict->reason);
		if (o->expected && strcmp(o->expected, "-"))
			fprintf(out, "; expected %s%s", o->expected,
				strcmp(o->expected, verdict_name(o->verdict->verdict))
				    ? "  <-- MISMATCH"
				    : "");
		fputc('\n', out);
	}
}

/* --- ladder: text --------------------------------------------------------------------- */

#define LANE_C 0
#define LANE_N 30
#define LANE_B 60

/* the arrow of a row between the lanes: from, to, and what marks the node lane */
struct arrow {
	int from, to; /* LANE_* */
	char fill;    /* '-' plain, '=' leaked, '~' RST */
	char at_node; /* '|' passed, 'X' INVALID, 'i' IGNORE, '#' not NATed */
	bool stops;   /* ends at the node (dropped there) */
};

static struct arrow arrow_of(const struct review_flow *f, const struct review_row *r)
{
	struct arrow w = {.fill = '-', .at_node = '|'};

	w.from = r->dir ? LANE_B : LANE_C;
	w.to = r->dir ? LANE_C : LANE_B;
	if (r->flags & TCPF_RST)
		w.fill = '~';
	if (r->notes & ROW_LEAK)
		w.fill = '=';
	if (r->modelled && r->ct.verdict == CTWIN_INVALID)
		w.at_node = 'X';
	else if (r->modelled && r->ct.verdict == CTWIN_IGNORE)
		w.at_node = 'i';
	if ((r->notes & ROW_UNNAT) || (r->nat_skipped && f->nat))
		w.at_node = w.at_node == 'X' ? 'X' : '#';
	if (r->notes & ROW_DROPPED) {
		w.to = LANE_N;
		w.stops = true;
	}
	return w;
}

static void ladder_row(FILE *out, const struct review_flow *f, const struct review_row *r,
		       uint64_t t0)
{
	char line[LANE_B + 2], label[64], fl[10], note[300] = "";
	struct arrow w = arrow_of(f, r);
	int lo = w.from < w.to ? w.from : w.to, hi = w.from < w.to ? w.to : w.from;
	size_t ll;

	memset(line, ' ', sizeof(line));
	line[LANE_B + 1] = '\0';
	line[LANE_C] = line[LANE_N] = line[LANE_B] = '|';
	for (int i = lo + 1; i < hi; i++)
		line[i] = w.fill;
	if (w.stops)
		line[LANE_N] = 'X';
	else if (lo < LANE_N && hi > LANE_N)
		line[LANE_N] = w.at_node;
	if (w.to > w.from)
		line[w.to - 1] = '>';
	else
		line[w.to + 1] = '<';
	snprintf(label, sizeof(label), " %s %u%s%u ", pkt_flags_str(r->flags, fl), r->seq,
		 r->len ? ":+" : "", r->len);
	if (!r->len)
		snprintf(label, sizeof(label), " %s %u ", pkt_flags_str(r->flags, fl), r->seq);
	ll = strlen(label);
	/* the label sits on the longer half, clear of the node mark */
	{
		int start = w.stops ? lo + 2 : (r->dir ? LANE_N + 2 : LANE_C + 2);

		if (ll < (size_t)(LANE_N - 3))
			memcpy(line + start, label, ll);
	}
	if (r->notes & ROW_LEAK)
		strcat(note, "LEAK: from the backend's own address; ");
	if (r->notes & ROW_DROPPED)
		strcat(note, "DROPPED past the node; ");
	if (r->notes & ROW_UNNAT)
		strcat(note, "to the backend's own address, no conntrack entry; ");
	if (r->modelled && (r->notes & (ROW_WINDOW | ROW_REOPEN))) {
		char why[160];

		snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s: %s; ",
			 r->ct.liberal ? "LIBERAL" : ctwin_verdict_name(r->ct.verdict),
			 ctwin_reason_str(&r->ct, why, sizeof(why)));
	}
	if (r->notes & ROW_RST)
		snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s%s; ",
			 r->answers >= 0 ? "answers the leak; " : "",
			 r->effect == CTWIN_RST_RESETS	    ? "resets"
			 : r->effect == CTWIN_RST_CHALLENGE ? "challenge ACK"
			 : r->effect == CTWIN_RST_IGNORED   ? "ignored"
							    : "effect unknown");
	if (strlen(note) >= 2)
		note[strlen(note) - 2] = '\0';
	fprintf(out, "%10.6f  %s  %s\n", rel(r->ts_us, t0), line, note);
}

void report_ladder(FILE *out, const struct analyse *a)
{
	uint64_t t0 = t0_of(a);
	bool any = false;

	for (size_t i = 0; i < analyse_flow_count(a); i++) {
		const struct review_flow *f = analyse_flow(a, i);
		char c[CTR_EPSTRLEN], s[CTR_EPSTRLEN], b[CTR_EPSTRLEN];
		uint64_t prev = 0;

		if (!flow_notable(f))
			continue;
		any = true;
		endpoint_str(&f->client, c);
		endpoint_str(&f->server, s);
		endpoint_str(&f->backend, b);
		if (f->nat)
			fprintf(out, "\nflow %zu: client %s; node: DNAT %s -> %s; backend %s\n",
				i + 1, c, s, b, b);
		else
			fprintf(out, "\nflow %zu: client %s; server %s\n", i + 1, c, s);
		fprintf(out, "%10s  %-*s%-*s%s\n", "time", LANE_N, "client", LANE_B - LANE_N,
			"node", "backend");
		for (size_t r = 0; r < f->nrows; r++) {
			const struct review_row *row = &f->rows[r];

			if (row->n > prev + 1)
				fprintf(out, "%10s  %-*s%-*s:   (%" PRIu64 " segment%s)\n", "",
					LANE_N, ":", LANE_B - LANE_N, ":", row->n - prev - 1,
					row->n - prev - 1 == 1 ? "" : "s");
			ladder_row(out, f, row, t0);
			prev = row->n;
		}
		if (f->uniq > prev)
			fprintf(out, "%10s  %-*s%-*s:   (%" PRIu64 " more)\n", "", LANE_N, ":",
				LANE_B - LANE_N, ":", f->uniq - prev);
	}
	if (!any)
		fprintf(out, "\nladder: nothing to draw (no notable events)\n");
	fprintf(out,
		"\nkey: --- segment, === leaked (backend's own address), ~~~ RST; at the node: "
		"X INVALID or dropped, i IGNORE, # not NATed\n");
}

/* --- ladder: SVG ---------------------------------------------------------------------- */

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, out);
		}
	}
}

#define SVG_W 1220
#define SVG_XC 160
#define SVG_XN 460
#define SVG_XB 760
#define SVG_ROW 46
#define NOTE_CHARS 64

static const char *row_colour(const struct review_row *r)
{
	if (r->notes & ROW_LEAK)
		return "#d62728"; /* red: leaked */
	if (r->notes & ROW_RST)
		return r->answers >= 0 ? "#c41ab0" : "#ff7f0e"; /* magenta: answers a leak */
	if (r->modelled && r->ct.verdict == CTWIN_INVALID)
		return "#8c1a1a";
	if (r->notes & (ROW_WINDOW | ROW_REOPEN))
		return "#1f77b4";
	return "#555555";
}

/* writes s as up to three lines of NOTE_CHARS, broken at spaces */
static void svg_note(FILE *out, int x, size_t y, const char *col, const char *s)
{
	size_t len = strlen(s);

	fprintf(out, "<text x=\"%d\" y=\"%zu\" fill=\"%s\" font-size=\"11\">", x, y, col);
	for (int line = 0; line < 3 && len; line++) {
		size_t take = len;
		char chunk[NOTE_CHARS + 8];

		if (take > NOTE_CHARS) {
			take = NOTE_CHARS;
			while (take > NOTE_CHARS / 2 && s[take] != ' ')
				take--;
			if (line == 2) {
				take = NOTE_CHARS - 3;
			}
		}
		snprintf(chunk, sizeof(chunk), "%.*s%s", (int)take, s,
			 line == 2 && take < len ? "..." : "");
		fprintf(out, "<tspan x=\"%d\" dy=\"%d\">", x, line ? 13 : 0);
		xml_text(out, chunk);
		fputs("</tspan>", out);
		s += take;
		len -= take;
		while (*s == ' ') {
			s++;
			len--;
		}
	}
	fputs("</text>\n", out);
}

static const char *node_badge(const struct review_flow *f, const struct review_row *r)
{
	if (r->notes & ROW_DROPPED)
		return "dropped";
	if (r->notes & ROW_UNNAT)
		return "no entry: as is";
	if (!r->modelled)
		return NULL;
	if (r->ct.verdict == CTWIN_INVALID)
		return f->nat && r->dir == 1 ? "INVALID: no NAT" : "INVALID";
	if (r->nat_skipped)
		return "no NAT";
	if (r->ct.liberal)
		return "liberal";
	if (r->ct.verdict == CTWIN_IGNORE)
		return "IGNORE: NATed";
	return NULL;
}

static size_t svg_flow(FILE *out, const struct analyse *a, size_t i, size_t y, uint64_t t0)
{
	const struct review_flow *f = analyse_flow(a, i);
	char c[CTR_EPSTRLEN], s[CTR_EPSTRLEN], b[CTR_EPSTRLEN], t[400];
	const char *names[3] = {"client", "node", "backend"};
	const int xs[3] = {SVG_XC, SVG_XN, SVG_XB};
	uint64_t prev = 0;
	size_t top;

	endpoint_str(&f->client, c);
	endpoint_str(&f->server, s);
	endpoint_str(&f->backend, b);
	snprintf(t, sizeof(t), "flow %zu: %s -> %s%s%s: %s", i + 1, c, s, f->nat ? " DNAT " : "",
		 f->nat ? b : "",
		 f->kill_row >= 0 ? "reset by the client's RST answering a leaked segment"
				  : flow_end_name(f->end));
	fprintf(out, "<text x=\"10\" y=\"%zu\" font-weight=\"bold\">", y);
	xml_text(out, t);
	fputs("</text>\n", out);
	y += 24;
	for (int l = 0; l < 3; l++) {
		fprintf(out,
			"<text x=\"%d\" y=\"%zu\" text-anchor=\"middle\" font-weight=\"bold\">"
			"%s</text>\n<text x=\"%d\" y=\"%zu\" text-anchor=\"middle\">",
			xs[l], y, names[l], xs[l], y + 14);
		if (l == 1 && f->nat)
			fputs("DNAT ", out);
		xml_text(out, l == 0 ? c : l == 2 ? b : f->nat ? s : "");
		fputs("</text>\n", out);
	}
	y += 24;
	top = y;
	for (size_t r = 0; r < f->nrows; r++) {
		const struct review_row *row = &f->rows[r];
		struct arrow w = arrow_of(f, row);
		int x1 = w.from == LANE_C ? SVG_XC : SVG_XB;
		int x2 = w.to == LANE_C ? SVG_XC : w.to == LANE_N ? SVG_XN : SVG_XB;
		const char *col = row_colour(row), *badge = node_badge(f, row);
		char seg[160], fl[10], note[500] = "";
		bool bold = row->notes & (ROW_LEAK | ROW_RST);

		if (row->n > prev + 1) {
			fprintf(out,
				"<text x=\"%d\" y=\"%zu\" fill=\"#888\">&#8942; %" PRIu64
				" segment%s</text>\n",
				SVG_XN + 6, y + 16, row->n - prev - 1,
				row->n - prev - 1 == 1 ? "" : "s");
			y += 26;
		}
		prev = row->n;
		fprintf(out, "<text x=\"10\" y=\"%zu\" fill=\"#444\">%.6f</text>\n", y + 22,
			rel(row->ts_us, t0));
		fprintf(out,
			"<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" stroke=\"%s\" "
			"stroke-width=\"%d\"%s marker-end=\"url(#ah)\"/>\n",
			x1, y + 22, x2 + (x2 > x1 ? -1 : 1), y + 22, col, bold ? 3 : 1,
			(row->flags & TCPF_RST) ? " stroke-dasharray=\"7,4\"" : "");
		if (badge) {
			int bw = (int)strlen(badge) * 7 + 10;

			fprintf(out,
				"<rect x=\"%d\" y=\"%zu\" width=\"%d\" height=\"16\" rx=\"4\" "
				"fill=\"white\" stroke=\"%s\"/>\n<text x=\"%d\" y=\"%zu\" "
				"text-anchor=\"middle\" fill=\"%s\" font-size=\"11\" "
				"font-weight=\"bold\">%s</text>\n",
				SVG_XN - bw / 2, y + 25, bw, col, SVG_XN, y + 37, col, badge);
		}
		snprintf(seg, sizeof(seg), "%s seq %u ack %u len %u", pkt_flags_str(row->flags, fl),
			 row->seq, row->ack, row->len);
		fprintf(out, "<text x=\"%d\" y=\"%zu\" fill=\"%s\"%s>", (x1 < x2 ? x1 : x2) + 12,
			y + 16, col, bold ? " font-weight=\"bold\"" : "");
		xml_text(out, seg);
		fputs("</text>\n", out);
		if (row->notes & ROW_LEAK)
			strcat(note, "LEAK: reached the client from the backend's own address. ");
		if (row->notes & ROW_DROPPED)
			strcat(note, "Seen before the node, at no capture past it. ");
		if (row->modelled && (row->notes & (ROW_WINDOW | ROW_REOPEN | ROW_UNNAT))) {
			char why[160];

			snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s: %s. ",
				 row->ct.liberal ? "be_liberal"
						 : ctwin_verdict_name(row->ct.verdict),
				 ctwin_reason_str(&row->ct, why, sizeof(why)));
		}
		if (row->notes & ROW_RST)
			snprintf(note + strlen(note), sizeof(note) - strlen(note), "RST%s: %s.",
				 row->answers >= 0 ? " answering the leak" : "",
				 ctwin_rst_effect_str(row->effect));
		if (note[0])
			svg_note(out, SVG_XB + 14, y + 12, col, note);
		y += SVG_ROW;
	}
	for (int l = 0; l < 3; l++)
		fprintf(out, "<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" stroke=\"#aaa\"/>\n",
			xs[l], top, xs[l], y + 4);
	return y + 36;
}

void report_svg(FILE *out, const struct analyse *a)
{
	uint64_t t0 = t0_of(a);
	char *body = NULL;
	size_t len = 0, y = 80;
	FILE *mem = open_memstream(&body, &len);

	/* the height is known once the rows are laid out */
	for (size_t i = 0; mem && i < analyse_flow_count(a); i++)
		if (flow_notable(analyse_flow(a, i)))
			y = svg_flow(mem, a, i, y, t0);
	if (mem)
		fclose(mem);
	if (y == 80)
		y += 30;
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" "
		"font-family=\"monospace\" font-size=\"12\">\n"
		"<defs><marker id=\"ah\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
		"markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" "
		"orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" "
		"fill=\"context-stroke\"/></marker></defs>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		SVG_W, y);
	fprintf(out,
		"<text x=\"10\" y=\"22\" font-size=\"14\" font-weight=\"bold\">ctreset-review: "
		"ladder of the notable segments, conntrack modelled as %s</text>\n",
		model_name(a));
	fprintf(out,
		"<text x=\"10\" y=\"42\" font-size=\"11\"><tspan fill=\"#d62728\">red: leaked "
		"segment (backend's own address)</tspan>  <tspan fill=\"#c41ab0\">magenta: the "
		"client's RST answering it</tspan>  <tspan fill=\"#8c1a1a\">dark red: "
		"INVALID</tspan>  <tspan fill=\"#1f77b4\">blue: IGNORE</tspan>  "
		"<tspan fill=\"#ff7f0e\">orange: other RST</tspan>  dashed: RST</text>\n");
	if (body && len)
		fwrite(body, 1, len, out);
	else
		fprintf(out, "<text x=\"10\" y=\"80\">nothing to draw: no notable events</text>\n");
	free(body);
	fputs("</svg>\n", out);
}

/* --- JSON ----------------------------------------------------------------------------- */

static void json_u64(FILE *out, int *first, const char *k, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	json_kv_raw(out, first, k, buf);
}

static void json_bool(FILE *out, int *first, const char *k, bool v)
{
	json_kv_raw(out, first, k, v ? "true" : "false");
}

static void json_caps(FILE *out, int *first, const struct analyse *a, const char *k, uint32_t set)
{
	int inner = 1;

	if (!*first)
		fputs(", ", out);
	*first = 0;
	json_str(out, k);
	fputs(": [", out);
	for (size_t i = 0; i < analyse_cap_count(a); i++) {
		char name[48];

		if (!((set >> i) & 1))
			continue;
		if (!inner)
			fputs(", ", out);
		inner = 0;
		json_str(out, cap_name(a, (int)i, name, sizeof(name)));
	}
	fputc(']', out);
}

static void json_row(FILE *out, const struct analyse *a, const struct review_flow *f,
		     const struct review_row *r, uint64_t t0)
{
	const struct ctr_endpoint *s, *d;
	char sb[CTR_EPSTRLEN], db[CTR_EPSTRLEN], fl[10], buf[200];
	int first = 1, inner = 1;
	static const struct {
		uint8_t bit;
		const char *name;
	} notes[] = {{ROW_WINDOW, "window"}, {ROW_LEAK, "leak"},     {ROW_RST, "rst"},
		     {ROW_UNNAT, "unnat"},   {ROW_REOPEN, "reopen"}, {ROW_DROPPED, "dropped"}};

	row_addrs(f, r, &s, &d);
	fputc('{', out);
	json_u64(out, &first, "n", r->n);
	json_u64(out, &first, "ts_us", r->ts_us);
	snprintf(buf, sizeof(buf), "%.6f", rel(r->ts_us, t0));
	json_kv_raw(out, &first, "time", buf);
	json_kv_str(out, &first, "dir", r->dir ? "server>client" : "client>server");
	json_kv_str(out, &first, "src", endpoint_str(s, sb));
	json_kv_str(out, &first, "dst", endpoint_str(d, db));
	json_kv_str(out, &first, "flags", pkt_flags_str(r->flags, fl));
	json_u64(out, &first, "seq", r->seq);
	json_u64(out, &first, "ack", r->ack);
	json_u64(out, &first, "len", r->len);
	json_u64(out, &first, "win", r->win);
	fputs(", \"notes\": [", out);
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (r->notes & notes[i].bit) {
			if (!inner)
				fputs(", ", out);
			inner = 0;
			json_str(out, notes[i].name);
		}
	fputc(']', out);
	if (r->modelled) {
		int c = 1;

		fputs(", \"conntrack\": {", out);
		json_kv_str(out, &c, "verdict", ctwin_verdict_name(r->ct.verdict));
		json_kv_str(out, &c, "reason", ctwin_reason_str(&r->ct, buf, sizeof(buf)));
		json_bool(out, &c, "liberal", r->ct.liberal);
		json_kv_str(out, &c, "state", ctwin_state_name(r->ct.new_state));
		json_bool(out, &c, "new_entry", r->ct.new_entry);
		fputc('}', out);
		json_bool(out, &first, "nat_skipped", r->nat_skipped);
	} else {
		json_kv_raw(out, &first, "conntrack", "null");
	}
	json_caps(out, &first, a, "seen_at", r->seen);
	if (r->notes & ROW_LEAK)
		json_caps(out, &first, a, "leaked_at", r->leaked_at);
	if (r->notes & ROW_RST) {
		if (r->answers >= 0)
			json_u64(out, &first, "answers", f->rows[r->answers].n);
		else
			json_kv_raw(out, &first, "answers", "null");
		json_kv_str(out, &first, "effect",
			    r->effect == CTWIN_RST_RESETS      ? "resets"
			    : r->effect == CTWIN_RST_CHALLENGE ? "challenge-ack"
			    : r->effect == CTWIN_RST_IGNORED   ? "ignored"
							       : "unknown");
	}
	fputc('}', out);
}

void report_json(FILE *out, const struct analyse *a, const struct report_opts *o)
{
	const struct ctwin_opts *m = &analyse_options(a)->ct;
	const struct svcmap *svc = analyse_services(a);
	struct analyse_summary sum;
	uint64_t t0 = t0_of(a);
	int first = 1, c;
	bool any = false;

	analyse_summarise(a, &sum);
	fputc('{', out);
	json_kv_str(out, &first, "result", analyse_result_name(analyse_result(a)));
	fputs(", \"model\": {", out);
	c = 1;
	json_kv_str(out, &c, "kernel", m->no_ignore_delayed ? "<6.1" : ">=6.1");
	json_kv_str(out, &c, "behaviours",
		    !m->no_ignore_delayed     ? "ignore-delayed=1,rcvwnd-workaround=1"
		    : m->no_rcvwnd_workaround ? "ignore-delayed=0,rcvwnd-workaround=0"
					      : "ignore-delayed=0,rcvwnd-workaround=1");
	json_bool(out, &c, "be_liberal", m->be_liberal);
	json_bool(out, &c, "tcp_loose", !m->no_pickup);
	json_bool(out, &c, "timeouts", !m->no_timeouts);
	fputs("}, \"captures\": [", out);
	for (size_t i = 0; i < analyse_cap_count(a); i++) {
		const struct analyse_cap *cp = analyse_cap(a, i);

		fputs(i ? ", {" : "{", out);
		c = 1;
		json_kv_str(out, &c, "path", cp->path);
		json_kv_str(out, &c, "role", cap_role_name(cp->role));
		json_u64(out, &c, "frames", cp->stats.frames);
		json_u64(out, &c, "tcp", cp->stats.tcp);
		json_u64(out, &c, "other", cp->stats.other);
		json_u64(out, &c, "malformed", cp->stats.malformed);
		json_kv_str(out, &c, "warning", cp->warning);
		fputc('}', out);
	}
	fputs("], \"services\": [", out);
	for (size_t i = 0; i < svc->n; i++) {
		char v[CTR_EPSTRLEN], b[CTR_EPSTRLEN];

		fputs(i ? ", {" : "{", out);
		c = 1;
		json_kv_str(out, &c, "vip", endpoint_str(&svc->v[i].vip, v));
		json_kv_str(out, &c, "backend", endpoint_str(&svc->v[i].backend, b));
		json_bool(out, &c, "inferred", svc->v[i].inferred);
		fputc('}', out);
	}
	fputs("], \"summary\": {", out);
	c = 1;
	json_u64(out, &c, "flows", sum.flows);
	json_u64(out, &c, "segments", sum.unique);
	json_u64(out, &c, "sightings", sum.segments);
	json_u64(out, &c, "invalid", sum.invalid);
	json_u64(out, &c, "ignore", sum.ignore);
	json_u64(out, &c, "liberal", sum.liberal);
	json_u64(out, &c, "leaks", sum.leaks);
	json_u64(out, &c, "rsts", sum.rsts);
	json_u64(out, &c, "rsts_answering_leaks", sum.answering_rsts);
	json_u64(out, &c, "resets", sum.resets);
	json_u64(out, &c, "dropped", sum.dropped);
	fputc('}', out);
	json_u64(out, &first, "time0_us", t0);
	if (o->verdict) {
		fputs(", \"verdict\": {", out);
		c = 1;
		json_kv_str(out, &c, "observed", verdict_name(o->verdict->verdict));
		json_kv_str(out, &c, "reason", o->verdict->reason);
		json_kv_str(out, &c, "expected", o->expected);
		fputc('}', out);
	}
	fputs(", \"flows\": [", out);
	for (size_t i = 0; i < analyse_flow_count(a); i++) {
		const struct review_flow *f = analyse_flow(a, i);
		char cb[CTR_EPSTRLEN], sb[CTR_EPSTRLEN], bb[CTR_EPSTRLEN], n[32];
		int ff = 1;
		bool firstev = true;

		if (!o->all_flows && !flow_notable(f))
			continue;
		fputs(any ? ",\n  {" : "\n  {", out);
		any = true;
		json_u64(out, &ff, "id", i + 1);
		json_kv_str(out, &ff, "client", endpoint_str(&f->client, cb));
		json_kv_str(out, &ff, "server", endpoint_str(&f->server, sb));
		json_kv_str(out, &ff, "backend", endpoint_str(&f->backend, bb));
		json_bool(out, &ff, "nat", f->nat);
		json_bool(out, &ff, "nat_inferred", f->nat_inferred);
		json_bool(out, &ff, "handshake", f->handshake);
		snprintf(n, sizeof(n), "[%lu, %lu]", f->segs[0], f->segs[1]);
		json_kv_raw(out, &ff, "segments", n);
		snprintf(n, sizeof(n), "[%" PRIu64 ", %" PRIu64 "]", f->bytes[0], f->bytes[1]);
		json_kv_raw(out, &ff, "bytes", n);
		json_u64(out, &ff, "invalid", f->n_invalid);
		json_u64(out, &ff, "ignore", f->n_ignore);
		json_u64(out, &ff, "liberal", f->n_liberal);
		json_u64(out, &ff, "leaks", f->n_leak);
		json_u64(out, &ff, "rsts", f->n_rst);
		json_u64(out, &ff, "unnat", f->n_unnat);
		json_kv_str(out, &ff, "conntrack_state",
			    f->ct.exists ? ctwin_state_name(f->ct.state) : "none");
		json_kv_str(out, &ff, "end", flow_end_name(f->end));
		if (f->kill_row >= 0)
			json_u64(out, &ff, "reset_by", f->rows[f->kill_row].n);
		json_u64(out, &ff, "events_not_kept", f->rows_dropped);
		fputs(", \"events\": [", out);
		for (size_t r = 0; r < f->nrows; r++) {
			if (!f->rows[r].notes)
				continue;
			fputs(firstev ? "\n    " : ",\n    ", out);
			firstev = false;
			json_row(out, a, f, &f->rows[r], t0);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
}
