/* ctreset-review: reads the artifacts of a bench run and says what happened.
 *
 *   ctreset-review --verdict DIR   the scenario's verdict (reset / leak / clean /
 *                                  inconclusive) with its evidence, from DIR's pcaps
 *                                  and records, as text, key=value or JSON.
 *
 * The verdict logic itself lives in tools/lib/verdict.c; this is its front end. */
#include "err.h"
#include "exitcodes.h"
#include "json.h"
#include "kv.h"
#include "opt.h"
#include "verdict.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum format { FMT_TEXT, FMT_KV, FMT_JSON };

struct evidence {
	const char *dir;
	struct kv meta, inject, server, client;
	struct verdict_input in;
	struct verdict_result res;
	char client_pcap[PATH_MAX], backend_pcap[PATH_MAX], node_pcap[PATH_MAX];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ctreset-review --verdict DIR [--format text|kv|json]\n"
		   "\n"
		   "Decides a bench scenario's verdict from the artifacts in DIR (client.pcap,\n"
		   "backend.pcap, node.pcap, inject.kv, server.kv, client.kv, meta.kv) and prints\n"
		   "it with its evidence:\n"
		   "  reset         an un-NATed segment reached the client, which sent RST toward the\n"
		   "                backend pod's own address, and the backend's connection died\n"
		   "  leak          an un-NATed segment reached the client; the backend survived\n"
		   "  clean         the event was caused; nothing un-NATed reached the client\n"
		   "  inconclusive  the bench could not inject or capture, or the client's record\n"
		   "                contradicts the rest (never a pass)\n"
		   "\n"
		   "  --format F    text (default), kv (key=value lines) or json (one object)\n"
		   "  -h, --help    this text\n"
		   "exit: 0 decided (any verdict), 1 artifacts unreadable, 2 usage\n");
}

static const char *get(const struct kv *kv, const char *k, const char *dflt)
{
	const char *v = kv_get(kv, k);

	return v ? v : dflt;
}

static int load(struct evidence *ev, char **err)
{
	char path[PATH_MAX];
	const char *v;

	snprintf(path, sizeof(path), "%s/inject.kv", ev->dir);
	if (kv_load(path, &ev->inject, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/meta.kv", ev->dir);
	if (kv_load(path, &ev->meta, NULL) < 0)
		memset(&ev->meta, 0, sizeof(ev->meta)); /* optional: a bare injector run */
	snprintf(path, sizeof(path), "%s/server.kv", ev->dir);
	if (kv_load(path, &ev->server, NULL) < 0)
		memset(&ev->server, 0, sizeof(ev->server));
	snprintf(path, sizeof(path), "%s/client.kv", ev->dir);
	if (kv_load(path, &ev->client, NULL) < 0)
		memset(&ev->client, 0, sizeof(ev->client));
	ev->in.client_end = client_end_parse(kv_get(&ev->client, "end"));
	snprintf(ev->client_pcap, sizeof(ev->client_pcap), "%s/client.pcap", ev->dir);
	/* with several backends the injector names the flow's backend's capture */
	v = kv_get(&ev->inject, "capture.backend");
	v = v && strrchr(v, '/') ? strrchr(v, '/') + 1 : "backend.pcap";
	snprintf(ev->backend_pcap, sizeof(ev->backend_pcap), "%s/%s", ev->dir, v);
	snprintf(ev->node_pcap, sizeof(ev->node_pcap), "%s/node.pcap", ev->dir);

	ev->in.client_pcap = ev->client_pcap;
	ev->in.backend_pcap = ev->backend_pcap;
	ev->in.injected = !strcmp(get(&ev->inject, "injected", "0"), "1");
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

static void seg_str(const struct ctr_pkt *p, char *buf, size_t n)
{
	char s[CTR_EPSTRLEN], d[CTR_EPSTRLEN], fl[10];

	snprintf(buf, n, "%s > %s [%s] seq %u ack %u len %u", endpoint_str(&p->tuple.src, s),
		 endpoint_str(&p->tuple.dst, d), pkt_flags_str(p->flags, fl), p->seq, p->ack,
		 p->payload_len);
}

static void print_text(const struct evidence *ev)
{
	const struct verdict_result *r = &ev->res;
	const char *expected = kv_get(&ev->meta, "expected");
	char buf[256];

	printf("verdict:  %s (%s)\n", verdict_name(r->verdict), r->reason);
	if (strcmp(get(&ev->inject, "error", "-"), "-"))
		printf("error:    %s\n", get(&ev->inject, "error", "-"));
	if (expected)
		printf("expected: %s%s\n", expected,
		       strcmp(expected, verdict_name(r->verdict)) ? "  <-- MISMATCH" : "");
	printf("event:    %s: %s\n", get(&ev->inject, "trigger", "?"),
	       get(&ev->inject, "probe.explain", get(&ev->inject, "error", "-")));
	if (r->leaked_packets) {
		seg_str(&r->first_leak, buf, sizeof(buf));
		printf("leak:     %s (%u segment%s from the backend's own address)\n", buf,
		       r->leaked_packets, r->leaked_packets == 1 ? "" : "s");
	}
	if (r->client_rst) {
		seg_str(&r->first_rst, buf, sizeof(buf));
		printf("rst:      %s%s; reached the backend: %s\n", buf,
		       r->leaked_packets && r->first_rst.seq == r->first_leak.ack
			       ? " (seq = the leaked segment's ack)"
			       : "",
		       r->rst_at_backend ? "yes" : "no");
	}
	printf("backend:  end=%s errno=%s (%s) after %s bytes\n", get(&ev->server, "end", "?"),
	       get(&ev->server, "errno", "?"), get(&ev->server, "error", "?"),
	       get(&ev->server, "bytes", "?"));
	if (kv_get(&ev->server, "log"))
		printf("          %s: %s\n", get(&ev->server, "program", "server"),
		       kv_get(&ev->server, "log"));
	if (ev->client.n) {
		printf("client:   end=%s", get(&ev->client, "end", "?"));
		if (kv_get(&ev->client, "exit"))
			printf(" exit=%s", kv_get(&ev->client, "exit"));
		printf(" (%s) after %s bytes", get(&ev->client, "error", "-"),
		       get(&ev->client, "bytes", "?"));
		if (kv_get(&ev->client, "intact"))
			printf(", sha256 %s", !strcmp(kv_get(&ev->client, "intact"), "1")
						      ? "matches the payload's"
						      : "differs from the payload's");
		putchar('\n');
	}
	for (size_t i = 0; i < ev->inject.n; i++)
		if (!strncmp(ev->inject.pairs[i].key, "invalid.", 8))
			printf("conntrack invalid +%s in %s\n", ev->inject.pairs[i].value,
			       ev->inject.pairs[i].key + 8);
	for (size_t i = 0; i < ev->meta.n; i++)
		if (!strncmp(ev->meta.pairs[i].key, "drop.", 5))
			printf("INVALID DROP rule counter %s in %s\n", ev->meta.pairs[i].value,
			       ev->meta.pairs[i].key + 5);
}

static void print_kv(const struct evidence *ev)
{
	const struct verdict_result *r = &ev->res;
	char buf[256];

	printf("observed=%s\nreason=%s\nerror=%s\nleaked_packets=%u\nclient_rst=%d\nrst_at_backend=%d\n"
	       "backend_reset=%d\nclient_end=%s\n",
	       verdict_name(r->verdict), r->reason, get(&ev->inject, "error", "-"), r->leaked_packets, r->client_rst,
	       r->rst_at_backend, r->backend_reset, client_end_name(r->client_end));
	if (r->leaked_packets) {
		seg_str(&r->first_leak, buf, sizeof(buf));
		printf("leak=%s\n", buf);
	}
	if (r->client_rst) {
		seg_str(&r->first_rst, buf, sizeof(buf));
		printf("rst=%s\n", buf);
	}
}

/* a meta value that is a plain unsigned number goes out as a number, else as a string */
static void json_num_or_str(FILE *f, int *first, const char *k, const char *v)
{
	const char *p = v;

	while (*p >= '0' && *p <= '9')
		p++;
	if (*v && !*p && strlen(v) < 20)
		json_kv_raw(f, first, k, v);
	else
		json_kv_str(f, first, k, v);
}

static void json_prefixed(FILE *f, int *first, const char *name, const struct kv *kv,
			  const char *prefix)
{
	size_t plen = strlen(prefix);
	int inner = 1;

	if (!*first)
		fputs(", ", f);
	*first = 0;
	json_str(f, name);
	fputs(": {", f);
	for (size_t i = 0; i < kv->n; i++)
		if (!strncmp(kv->pairs[i].key, prefix, plen))
			json_num_or_str(f, &inner, kv->pairs[i].key + plen, kv->pairs[i].value);
	fputc('}', f);
}

static void print_json(const struct evidence *ev)
{
	static const char *const meta_keys[] = {"scenario", "workload", "topology", "backend",
						"family", "trigger", "workaround", "expected",
						"expected_reason", "kernel", "service"};
	const struct verdict_result *r = &ev->res;
	char buf[256];
	int first = 1;

	putchar('{');
	for (size_t i = 0; i < sizeof(meta_keys) / sizeof(meta_keys[0]); i++) {
		const char *v = kv_get(&ev->meta, meta_keys[i]);

		if (!v && !strcmp(meta_keys[i], "trigger"))
			v = kv_get(&ev->inject, "trigger");
		if (v)
			json_kv_str(stdout, &first, meta_keys[i], v);
	}
	json_kv_str(stdout, &first, "observed", verdict_name(r->verdict));
	json_kv_str(stdout, &first, "reason", r->reason);
	json_kv_str(stdout, &first, "error", get(&ev->inject, "error", "-"));
	json_kv_raw(stdout, &first, "client_rst", r->client_rst ? "true" : "false");
	json_kv_raw(stdout, &first, "backend_reset", r->backend_reset ? "true" : "false");
	snprintf(buf, sizeof(buf), "%u", r->leaked_packets);
	json_kv_raw(stdout, &first, "leaked_packets", buf);
	json_kv_raw(stdout, &first, "rst_at_backend", r->rst_at_backend ? "true" : "false");
	if (r->leaked_packets) {
		seg_str(&r->first_leak, buf, sizeof(buf));
		json_kv_str(stdout, &first, "leak", buf);
	}
	if (r->client_rst) {
		seg_str(&r->first_rst, buf, sizeof(buf));
		json_kv_str(stdout, &first, "rst", buf);
	}
	json_kv_str(stdout, &first, "event", get(&ev->inject, "probe.explain", "-"));
	json_kv_str(stdout, &first, "backend_end", get(&ev->server, "end", "unknown"));
	json_kv_str(stdout, &first, "client_end", client_end_name(r->client_end));
	json_prefixed(stdout, &first, "server", &ev->server, "");
	json_prefixed(stdout, &first, "client", &ev->client, "");
	json_prefixed(stdout, &first, "conntrack_invalid", &ev->inject, "invalid.");
	json_prefixed(stdout, &first, "drop_counter", &ev->meta, "drop.");
	fputs(", \"pcaps\": [", stdout);
	json_str(stdout, ev->client_pcap);
	fputs(", ", stdout);
	json_str(stdout, ev->node_pcap);
	fputs(", ", stdout);
	json_str(stdout, ev->backend_pcap);
	putchar(']');
	if (kv_get(&ev->meta, "duration_ms"))
		json_kv_raw(stdout, &first, "duration_ms", kv_get(&ev->meta, "duration_ms"));
	puts("}");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"verdict", required_argument, NULL, 'v'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct evidence ev = {0};
	enum format fmt = FMT_TEXT;
	char *err = NULL;
	int c;

	opterr = 0; /* a refused option is reported in one line below */
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'v':
			ev.dir = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(optarg, "kv"))
				fmt = FMT_KV;
			else if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else {
				fprintf(stderr, "ctreset-review: argument \"%s\" is wrong: --format "
						"is text, kv or json\n", optarg);
				return CTR_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return CTR_EXIT_PASS;
		default:
			fprintf(stderr,
				"ctreset-review: argument \"%s\" is wrong: unknown option or "
				"missing value (see --help)\n",
				opt_refused(argc, argv));
			return CTR_EXIT_USAGE;
		}
	}
	if (!ev.dir || optind != argc) {
		fprintf(stderr, "ctreset-review: %s (see --help)\n",
			optind != argc ? "unexpected argument" : "--verdict DIR is required");
		return CTR_EXIT_USAGE;
	}
	if (load(&ev, &err) < 0 || verdict_decide(&ev.in, &ev.res, &err) < 0)
		die(CTR_EXIT_FAIL, err);
	if (fmt == FMT_TEXT)
		print_text(&ev);
	else if (fmt == FMT_KV)
		print_kv(&ev);
	else
		print_json(&ev);
	kv_free(&ev.meta);
	kv_free(&ev.inject);
	kv_free(&ev.server);
	kv_free(&ev.client);
	return CTR_EXIT_PASS;
}
