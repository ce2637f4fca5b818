/* A bench cell's review (cell.h): moved out of ctreset-review's --verdict, so that the
 * injector reviews its cell in-process. */
#include "review/cell.h"

#include "base/err.h"
#include "base/json.h"
#include "review/record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *get(const struct kv *kv, const char *k, const char *dflt)
{
	const char *v = kv_get(kv, k);

	return v ? v : dflt;
}

/* a connect cell: what the injector counted (inject.kv's invalid.NS, ct_state.NS and
 * capture.PLACE.dropped), read as the cell's meta.kv pairs; the rest of inject.kv is not
 * read: nothing was injected */
static int take_connect_counts(struct cell_evidence *ev, char **err)
{
	char path[PATH_MAX];
	struct kv inj;
	struct kv_pair *p;

	snprintf(path, sizeof(path), "%s/inject.kv", ev->dir);
	if (kv_load(path, &inj, NULL) < 0)
		return 0; /* a cell whose injector did not get that far */
	p = realloc(ev->meta.pairs, (ev->meta.n + inj.n) * sizeof(*p));
	if (!p && ev->meta.n + inj.n) {
		kv_free(&inj);
		return err_set(err, "out of memory");
	}
	ev->meta.pairs = p;
	for (size_t i = 0; i < inj.n; i++) {
		const char *k = inj.pairs[i].key;
		size_t kl = strlen(k);

		if (!strncmp(k, "invalid.", 8) || !strncmp(k, "ct_state.", 9) ||
		    (!strncmp(k, "capture.", 8) && kl > 8 && !strcmp(k + kl - 8, ".dropped"))) {
			ev->meta.pairs[ev->meta.n++] = inj.pairs[i];
			inj.pairs[i].key = inj.pairs[i].value = NULL;
		}
	}
	kv_free(&inj);
	return 0;
}

int cell_evidence_load(struct cell_evidence *ev, const char *dir, char **err)
{
	char path[PATH_MAX];
	const char *v;

	memset(ev, 0, sizeof(*ev));
	ev->dir = dir;
	snprintf(path, sizeof(path), "%s/meta.kv", ev->dir);
	if (kv_load(path, &ev->meta, NULL) < 0)
		memset(&ev->meta, 0, sizeof(ev->meta)); /* optional: a bare injector run */
	snprintf(path, sizeof(path), "%s/server.kv", ev->dir);
	if (kv_load(path, &ev->server, NULL) < 0)
		memset(&ev->server, 0, sizeof(ev->server));
	snprintf(path, sizeof(path), "%s/client.kv", ev->dir);
	if (kv_load(path, &ev->client, NULL) < 0)
		memset(&ev->client, 0, sizeof(ev->client));
	if (record_expectation(&ev->meta, ev->expected, sizeof(ev->expected), ev->expected_reason,
			       sizeof(ev->expected_reason), err) < 0)
		return -1;
	ev->has_expected = kv_get(&ev->meta, "expected") || kv_get(&ev->meta, "oracle");
	ev->in.client_end = client_end_parse(kv_get(&ev->client, "end"));
	snprintf(ev->client_pcap, sizeof(ev->client_pcap), "%s/client.pcap", ev->dir);
	snprintf(ev->node_pcap, sizeof(ev->node_pcap), "%s/node.pcap", ev->dir);
	/* a connect cell: nothing injected; of its inject.kv, the counts */
	ev->is_connect = !strcmp(get(&ev->meta, "trigger", ""), "connect");
	if (ev->is_connect) {
		snprintf(ev->backend_pcap, sizeof(ev->backend_pcap), "%s/backend.pcap", ev->dir);
		return take_connect_counts(ev, err);
	}
	snprintf(path, sizeof(path), "%s/inject.kv", ev->dir);
	if (kv_load(path, &ev->inject, err) < 0)
		return -1;
	/* with several backends the injector names the flow's backend's capture */
	v = kv_get(&ev->inject, "capture.backend");
	v = v && strrchr(v, '/') ? strrchr(v, '/') + 1 : "backend.pcap";
	snprintf(ev->backend_pcap, sizeof(ev->backend_pcap), "%s/%s", ev->dir, v);

	ev->in.client_pcap = ev->client_pcap;
	ev->in.backend_pcap = ev->backend_pcap;
	ev->in.injected = !strcmp(get(&ev->inject, "injected", "0"), "1");
	ev->in.capture_error = kv_get(&ev->inject, "capture_error");
	v = kv_get(&ev->inject, "client");
	if (v && endpoint_parse(v, &ev->in.client) < 0)
		return err_set(err, "inject.kv: bad client '%s'", v);
	v = kv_get(&ev->inject, "backend");
	if (v && endpoint_parse(v, &ev->in.backend) < 0)
		return err_set(err, "inject.kv: bad backend '%s'", v);
	for (size_t i = 0; i < ev->inject.n; i++) {
		const char *k = ev->inject.pairs[i].key;
		size_t kl = strlen(k);

		if (!strncmp(k, "capture.", 8) && kl > 8 && !strcmp(k + kl - 8, ".dropped"))
			ev->in.dropped += (unsigned)strtoul(ev->inject.pairs[i].value, NULL, 10);
	}
	v = get(&ev->server, "end", "");
	if (!strcmp(v, "reset"))
		ev->in.backend_end = BACKEND_END_RESET;
	else if (!strcmp(v, "stopped") || !strcmp(v, "closed") || !strcmp(v, "timeout"))
		ev->in.backend_end = BACKEND_END_ALIVE;
	else
		ev->in.backend_end = BACKEND_END_UNKNOWN;
	return 0;
}

static void print_text(FILE *f, const struct cell_evidence *ev)
{
	const struct verdict_result *r = &ev->res;
	const char *expected = ev->has_expected ? ev->expected : NULL;
	char buf[256];

	fprintf(f, "verdict:  %s (%s)\n", verdict_name(r->verdict), r->reason);
	if (strcmp(get(&ev->inject, "error", "-"), "-"))
		fprintf(f, "error:    %s\n", get(&ev->inject, "error", "-"));
	if (expected)
		fprintf(f, "expected: %s%s\n", expected,
			strcmp(expected, verdict_name(r->verdict)) ? "  <-- MISMATCH" : "");
	if (ev->is_connect)
		fprintf(f,
			"event:    connect: nothing injected: a legitimate connection\n"
			"counts:   SYN-ACK at the client %u; client ACKs at node A %u, at the "
			"backend %u\n",
			ev->connect.synack_at_client, ev->connect.acks_at_node,
			ev->connect.acks_at_backend);
	else
		fprintf(f, "event:    %s: %s\n", get(&ev->inject, "trigger", "?"),
			get(&ev->inject, "probe.explain", get(&ev->inject, "error", "-")));
	if (r->leaked_packets) {
		record_seg_str(&r->first_leak, buf, sizeof(buf));
		fprintf(f, "leak:     %s (%u segment%s from the backend's own address)\n", buf,
			r->leaked_packets, r->leaked_packets == 1 ? "" : "s");
	}
	if (r->client_rst) {
		record_seg_str(&r->first_rst, buf, sizeof(buf));
		fprintf(f, "rst:      %s%s; reached the backend: %s\n", buf,
			r->leaked_packets && r->first_rst.seq == r->first_leak.ack
			    ? " (seq = the leaked segment's ack)"
			    : "",
			r->rst_at_backend ? "yes" : "no");
	}
	fprintf(f, "backend:  end=%s errno=%s (%s) after %s bytes\n", get(&ev->server, "end", "?"),
		get(&ev->server, "errno", "?"), get(&ev->server, "error", "?"),
		get(&ev->server, "bytes", "?"));
	if (kv_get(&ev->server, "log"))
		fprintf(f, "          %s: %s\n", get(&ev->server, "program", "server"),
			kv_get(&ev->server, "log"));
	if (ev->client.n) {
		fprintf(f, "client:   end=%s", get(&ev->client, "end", "?"));
		if (kv_get(&ev->client, "exit"))
			fprintf(f, " exit=%s", kv_get(&ev->client, "exit"));
		fprintf(f, " (%s) after %s bytes", get(&ev->client, "error", "-"),
			get(&ev->client, "bytes", "?"));
		if (kv_get(&ev->client, "intact"))
			fprintf(f, ", sha256 %s",
				!strcmp(kv_get(&ev->client, "intact"), "1")
				    ? "matches the payload's"
				    : "differs from the payload's");
		fputc('\n', f);
	}
	for (size_t i = 0; i < ev->inject.n; i++)
		if (!strncmp(ev->inject.pairs[i].key, "invalid.", 8))
			fprintf(f, "conntrack invalid +%s in %s\n", ev->inject.pairs[i].value,
				ev->inject.pairs[i].key + 8);
	for (size_t i = 0; i < ev->meta.n; i++)
		if (!strncmp(ev->meta.pairs[i].key, "drop.", 5))
			fprintf(f, "INVALID DROP rule counter %s in %s\n", ev->meta.pairs[i].value,
				ev->meta.pairs[i].key + 5);
}

static void print_kv(FILE *f, const struct cell_evidence *ev)
{
	const struct verdict_result *r = &ev->res;
	char buf[256];

	fprintf(
	    f,
	    "observed=%s\nreason=%s\nerror=%s\nleaked_packets=%u\nclient_rst=%d\nrst_at_backend="
	    "%d\n"
	    "backend_reset=%d\nclient_end=%s\n",
	    verdict_name(r->verdict), r->reason, get(&ev->inject, "error", "-"), r->leaked_packets,
	    r->client_rst, r->rst_at_backend, r->backend_reset, client_end_name(r->client_end));
	if (r->leaked_packets) {
		record_seg_str(&r->first_leak, buf, sizeof(buf));
		fprintf(f, "leak=%s\n", buf);
	}
	if (r->client_rst) {
		record_seg_str(&r->first_rst, buf, sizeof(buf));
		fprintf(f, "rst=%s\n", buf);
	}
}

/* the cell's record from what load() and the decision found (res NULL: none) */
static int build_record(const struct cell_evidence *ev, const struct verdict_result *res,
			struct kv *rec, char **err)
{
	struct record_input in = {
	    .dir = ev->dir,
	    .meta = &ev->meta,
	    .inject = &ev->inject,
	    .server = &ev->server,
	    .client = &ev->client,
	    .res = res,
	    .expected = ev->has_expected ? ev->expected : NULL,
	    .expected_reason = ev->has_expected ? ev->expected_reason : NULL,
	    .pcaps = {ev->client_pcap, ev->node_pcap, ev->backend_pcap},
	    .connect = ev->is_connect && res ? &ev->connect : NULL,
	};

	return record_build(&in, rec, err);
}

static bool file_there(const char *p)
{
	return access(p, F_OK) == 0;
}

/* a connect cell's verdict: its captures counted for the client's flow (client.kv's
 * local and peer), judged with the client's record */
static int decide_connect(struct cell_evidence *ev, char **err)
{
	struct connect_facts *f = &ev->connect;
	const char *l = kv_get(&ev->client, "local"), *p = kv_get(&ev->client, "peer");
	struct ctr_endpoint c, b;

	memset(f, 0, sizeof(*f));
	memset(&ev->res, 0, sizeof(ev->res));
	ev->res.client_end = ev->in.client_end;
	f->client_bytes = strtoull(get(&ev->client, "bytes", "0"), NULL, 10);
	for (size_t i = 0; i < ev->meta.n; i++) {
		const char *k = ev->meta.pairs[i].key;
		size_t kl = strlen(k);

		if (!strncmp(k, "capture.", 8) && kl > 8 && !strcmp(k + kl - 8, ".dropped"))
			f->dropped += (unsigned)strtoul(ev->meta.pairs[i].value, NULL, 10);
	}
	/* no flow without the client's addresses: "no record of the client's connection" */
	f->client_record = l && p && endpoint_parse(l, &c) == 0 && endpoint_parse(p, &b) == 0;
	if (f->client_record &&
	    connect_count(ev->client_pcap, file_there(ev->node_pcap) ? ev->node_pcap : NULL,
			  file_there(ev->backend_pcap) ? ev->backend_pcap : NULL, &c, &b, f,
			  err) < 0) {
		snprintf(ev->res.reason, sizeof(ev->res.reason), "a capture is unreadable");
		return -1;
	}
	verdict_judge_connect(f, &ev->res);
	return 0;
}

/* the review's JSON: the record's fields as one object */
static void print_json(FILE *f, const struct kv *rec)
{
	int first = 1;

	fputc('{', f);
	record_json_fields(f, rec, &first);
	fputs("}\n", f);
}

/* --record for a cell the review cannot decide: skipped, or failed before its verdict */
static int record_undecided(struct cell_evidence *ev, const char *record_out, char **err)
{
	struct kv rec;
	int rc;

	if (build_record(ev, NULL, &rec, err) < 0)
		return -1;
	rc = record_save(record_out, &rec, err);
	kv_free(&rec);
	return rc;
}

void cell_evidence_free(struct cell_evidence *ev)
{
	kv_free(&ev->meta);
	kv_free(&ev->inject);
	kv_free(&ev->server);
	kv_free(&ev->client);
}

static int write_outputs(struct cell_evidence *ev, const struct review_cell_out *o, char **err)
{
	struct kv rec;
	FILE *f;
	int rc = 0;

	if (build_record(ev, &ev->res, &rec, err) < 0)
		return -1;
	if (o->out && o->format == REVIEW_CELL_TEXT)
		print_text(o->out, ev);
	else if (o->out && o->format == REVIEW_CELL_KV)
		print_kv(o->out, ev);
	else if (o->out && o->format == REVIEW_CELL_JSON)
		print_json(o->out, &rec);
	if (o->out && o->format != REVIEW_CELL_NONE && fflush(o->out) != 0)
		rc = err_errno(err, errno, "writing the verdict");
	if (rc == 0 && o->json_path) {
		f = fopen(o->json_path, "we");
		if (!f)
			rc = err_errno(err, errno, "%s", o->json_path);
		else {
			print_json(f, &rec);
			if ((ferror(f) | fclose(f)) != 0)
				rc = err_errno(err, errno, "%s", o->json_path);
		}
	}
	if (rc == 0 && o->record_path)
		rc = record_save(o->record_path, &rec, err);
	kv_free(&rec);
	return rc;
}

int review_cell(const char *dir, const struct review_cell_out *o, char **err)
{
	struct cell_evidence ev;
	char path[PATH_MAX];
	int rc;

	if (o->record_path) {
		char *lerr = NULL;

		/* a skipped cell has nothing to decide: its record says why, nothing else */
		snprintf(path, sizeof(path), "%s/skip", dir);
		if (access(path, F_OK) == 0) {
			cell_evidence_load(&ev, dir, &lerr);
			free(lerr);
			rc = record_undecided(&ev, o->record_path, err);
			cell_evidence_free(&ev);
			return rc;
		}
	}
	if (cell_evidence_load(&ev, dir, err) < 0 ||
	    (ev.is_connect ? decide_connect(&ev, err) : verdict_decide(&ev.in, &ev.res, err)) < 0) {
		char *rerr = NULL;

		/* the record of a cell that could not be decided, and both messages */
		if (o->record_path && record_undecided(&ev, o->record_path, &rerr) < 0) {
			char *both = NULL;

			if (asprintf(&both, "%s (and its record: %s)", *err, rerr) >= 0) {
				free(*err);
				*err = both;
			}
			free(rerr);
		}
		cell_evidence_free(&ev);
		return -1;
	}
	rc = write_outputs(&ev, o, err);
	cell_evidence_free(&ev);
	return rc;
}

int review_cell_files(const char *dir, bool record_only, char **err)
{
	char vpath[PATH_MAX], jpath[PATH_MAX], rpath[PATH_MAX];
	FILE *vf = NULL;
	int rc;

	snprintf(rpath, sizeof(rpath), "%s/record.kv", dir);
	if (record_only)
		return review_cell(dir, &(struct review_cell_out){.record_path = rpath}, err);
	snprintf(vpath, sizeof(vpath), "%s/verdict.kv", dir);
	snprintf(jpath, sizeof(jpath), "%s/result.json", dir);
	vf = fopen(vpath, "we");
	if (!vf)
		return err_errno(err, errno, "%s", vpath);
	rc = review_cell(
	    dir,
	    &(struct review_cell_out){
		.format = REVIEW_CELL_KV, .out = vf, .json_path = jpath, .record_path = rpath},
	    err);
	fclose(vf);
	return rc;
}
