/* The trigger table: one pointer per enum trigger value to the trigger's row, which lives
 * in the trigger's own file (trig_*.c: its operations beside it); the lookups, the crafted
 * segment's common start, and the bench arguments' values, computed once for all rows. */
#include "trigger.h"
#include "trig.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static const struct trigger_info *const infos[TRIGGER_COUNT] = {
    [TRIGGER_SEQ_ABOVE] = &trig_seq_above,
    [TRIGGER_SEQ_BELOW] = &trig_seq_below,
    [TRIGGER_ACK_ABOVE] = &trig_ack_above,
    [TRIGGER_ACK_BELOW] = &trig_ack_below,
    [TRIGGER_BAD_FLAGS] = &trig_bad_flags,
    [TRIGGER_SMALL_OVERSHOOT] = &trig_small_overshoot,
    [TRIGGER_CT_ENTRY_LOST] = &trig_ct_entry_lost,
    [TRIGGER_CT_FLUSH] = &trig_ct_flush,
    [TRIGGER_IDLE_EXPIRY] = &trig_idle_expiry,
    [TRIGGER_DELAYED_RETRANSMIT] = &trig_delayed_retransmit,
    [TRIGGER_CONNECT] = &trig_connect,
};

static const char *const kind_names[] = {"crafted", "conntrack", "natural", "legitimate"};

const char *trigger_kind_name(enum trigger_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

const struct trigger_info *trigger_info(enum trigger t)
{
	return (unsigned)t < TRIGGER_COUNT ? infos[t] : NULL;
}

int trigger_parse(const char *name)
{
	for (int i = 0; i < TRIGGER_COUNT; i++)
		if (!strcmp(name, infos[i]->name))
			return i;
	return -1;
}

uint32_t trigger_maxackwindow(const struct learn_dir *sender)
{
	return sender->maxwin > 66000 ? sender->maxwin : 66000;
}

static const char probe_payload[] = "ctreset probe\n";

int trigger_probe(enum trigger t, const struct learn_flow *f, struct craft_segment *seg,
		  char *explain, size_t n)
{
	const struct trigger_info *ti = trigger_info(t);

	if (!ti || !ti->place)
		return -1;
	/* what a row does not place is exact: the server's next seq, the client's next seq
	 * acknowledged, the server's own window */
	memset(seg, 0, sizeof(*seg));
	seg->tuple = f->tuple;
	seg->seq = f->server.end;
	seg->ack = f->client.end;
	seg->flags = TCPF_PSH | TCPF_ACK;
	seg->win = f->server.win_raw;
	seg->payload = (const uint8_t *)probe_payload;
	seg->payload_len = sizeof(probe_payload) - 1;
	ti->place(f, seg, explain, n);
	return 0;
}

void trigger_bench_values(const struct trigger_bench_in *in, struct trigger_bench *b)
{
	const unsigned steps = in->time_scale > 1 ? in->time_scale - 1 : 0;
	const bool keepalive = in->workaround && !strcmp(in->workaround, "keepalive");

	b->in = in;
	/* T: CTR_IDLE_TIMEOUT s, else 1 s, and 2 s in the keepalive workaround's cells (its
	 * first probe comes after 1 s idle, TCP_KEEPIDLE's least, and must come before the
	 * entry expires) */
	b->ct_timeout_s = in->idle_timeout_s ? in->idle_timeout_s : keepalive ? 2 : 1;
	/* T + 0.4 s: past the expiry of the entry that the client's last (delayed, <= 40 ms)
	 * ACK refreshed; an expired entry is gone at its next lookup, so nothing longer is
	 * needed. A slow machine (CTR_TIME_SCALE S) adds 0.1 s a step of S past 1 (a TCG VM,
	 * S 20: T + 2.3 s), within the injector's bound (2 x (T + 0.3) + 5 s, wait_idle) and
	 * the stream's length */
	b->pause_ms = b->ct_timeout_s * 1000 + 400 + 100 * steps;
	/* 2 s, 1 s more a step of S past 1: the bound of the pause of ct-flush, ct-entry-lost
	 * and small-overshoot, which the injector ends (the server's --resume-signal) as soon
	 * as its act is done; the bound counts only when the injector never says. Not shorter:
	 * under TCG and load the pause is taken after 0.3 s of quiet and the flush took
	 * 0.3-2.2 s more while it was conntrack -F's exec; a pause that ends first leaves the entry
	 * to go mid-stream, where the client's ACK may make a new, DNATed one before the backend's
	 * segment comes */
	b->gap_ms = 2000 + 1000 * steps;
	/* T + 6 s: the stream outlasts the pause; 1 s more a step of S past 1 (a TCG VM, S 20:
	 * T + 25 s): on Debian 5.10 under TCG and load a stream of T + 6 s had sent 4 KB when
	 * its pause ended, and its timeout's FIN was the "next segment" that leaked */
	b->stream_ms = b->ct_timeout_s * 1000 + 6000 + 1000 * steps;
	/* the pause + 0.2 s: how long the http workload's nginx is stopped; the idle starts
	 * once its socket's queue drained, a few ms after the stop */
	b->stall_ms = b->pause_ms + 200;
	/* curl under a stall: its TCP keepalive (to notice a reset) past the stall, 1 s in
	 * the keepalive workaround's cells (that is the workaround); its --max-time and the
	 * injector's --wait-command longer by the stall, 1 s, and the keepalive */
	b->curl_keepalive_s = keepalive ? 1 : b->stall_ms / 1000 + 2;
	b->http_extra_s = b->stall_ms / 1000 + 1 + b->curl_keepalive_s;
}

/* one trigger and workaround: the row's lines, then the workaround's (keepalive: the
 * stream client sets TCP keepalive, its first probe after 1 s idle), each prefixed */
static void bench_one(FILE *f, const struct trigger_info *ti, const struct trigger_bench_in *in)
{
	struct trigger_bench b;
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	trigger_bench_values(in, &b);
	if (ti->bench)
		ti->bench(m, &b);
	if (!in->http && !strcmp(in->workaround, "keepalive"))
		fputs("client\t--keepalive 1\n", m);
	fclose(m);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(f, "%s\t%s\t%s\n", ti->name, in->workaround, line);
	free(buf);
}

int trigger_bench_print(FILE *f, const char *names, const char *workarounds,
			const struct trigger_bench_in *in, char **err)
{
	char *ns = strdup(names), *ws = strdup(workarounds), *n, *w, *s1 = NULL, *s2;
	int rc = 0;

	if (!ns || !ws) {
		free(ns);
		free(ws);
		return err_set(err, "out of memory");
	}
	for (n = strtok_r(ns, ",", &s1); n && !rc; n = strtok_r(NULL, ",", &s1)) {
		int t = trigger_parse(n);
		char *wcopy = strdup(ws);

		if (t < 0) {
			rc = err_set(err, "%s: unknown trigger (see --list-triggers)", n);
		} else if (!wcopy) {
			rc = err_set(err, "out of memory");
		} else {
			s2 = NULL;
			for (w = strtok_r(wcopy, ",", &s2); w; w = strtok_r(NULL, ",", &s2)) {
				struct trigger_bench_in one = *in;

				one.workaround = w;
				bench_one(f, infos[t], &one);
			}
		}
		free(wcopy);
	}
	free(ns);
	free(ws);
	return rc;
}
