/* Building, saving and reading back a bench cell's record, and the one place the
 * evidence sentence is made. */
#include "record.h"
#include "base/addr.h"
#include "base/err.h"
#include "base/json.h"
#include "oracle.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *record_get(const struct kv *rec, const char *key, const char *dflt)
{
	const char *v = kv_get(rec, key);

	return v ? v : dflt;
}

/* appends key=value (copies; a NULL value adds nothing); newlines become spaces */
static int add(struct kv *rec, const char *key, const char *value)
{
	struct kv_pair *p;
	char *k, *v;

	if (!value)
		return 0;
	p = realloc(rec->pairs, (rec->n + 1) * sizeof(*p));
	if (!p)
		return -1;
	rec->pairs = p;
	k = strdup(key);
	v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	for (char *c = v; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	p[rec->n].key = k;
	p[rec->n].value = v;
	rec->n++;
	return 0;
}

static int addf(struct kv *rec, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int addf(struct kv *rec, const char *key, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return add(rec, key, buf);
}

/* every pair of kv whose key starts with from, renamed to start with to */
static int add_prefixed(struct kv *rec, const struct kv *kv, const char *from, const char *to)
{
	size_t fl = strlen(from);
	char key[512];

	for (size_t i = 0; kv && i < kv->n; i++) {
		if (strncmp(kv->pairs[i].key, from, fl))
			continue;
		snprintf(key, sizeof(key), "%s%s", to, kv->pairs[i].key + fl);
		if (add(rec, key, kv->pairs[i].value) < 0)
			return -1;
	}
	return 0;
}

void record_seg_str(const struct ctr_pkt *p, char *buf, size_t n)
{
	char s[CTR_EPSTRLEN], d[CTR_EPSTRLEN], fl[10];

	snprintf(buf, n, "%s > %s [%s] seq %u ack %u len %u", endpoint_str(&p->tuple.src, s),
		 endpoint_str(&p->tuple.dst, d), pkt_flags_str(p->flags, fl), p->seq, p->ack,
		 p->payload_len);
}

/* the node a counter key names: what follows its last '-' (ctr-xxxx-nodeB -> nodeB) */
static const char *node_of(const char *key)
{
	const char *dash = strrchr(key, '-');

	return dash ? dash + 1 : key;
}

/* a segment's 4-tuple: its text up to " [" */
static void tuple_of(const char *seg, char *buf, size_t n)
{
	const char *br = strstr(seg, " [");

	snprintf(buf, n, "%.*s", br ? (int)(br - seg) : (int)strlen(seg), seg);
}

/* The evidence: what leaked, the client's RST, the backend's end, the conntrack invalid
 * counters and the workaround rule's counters per node; each part and the sentence. */
static int add_evidence(struct kv *rec, const struct kv *inject, const struct kv *meta)
{
	char leak[512], rst[512], inv[1024] = "", drop[1024] = "", acct[1024] = "", t[256],
				  sentence[4096];
	const char *v = kv_get(rec, "leak"), *seq;

	snprintf(leak, sizeof(leak), "leak %s", record_get(rec, "leaked_packets", "0"));
	if (v && *v) {
		tuple_of(v, t, sizeof(t));
		snprintf(leak + strlen(leak), sizeof(leak) - strlen(leak), " (%s)", t);
	}
	v = kv_get(rec, "rst");
	if (!strcmp(record_get(rec, "client_rst", "0"), "1") && v) {
		tuple_of(v, t, sizeof(t));
		seq = strstr(v, " seq ");
		snprintf(rst, sizeof(rst), "client RST %s seq %.*s", t,
			 seq ? (int)strspn(seq + 5, "0123456789") : 0, seq ? seq + 5 : "");
	} else {
		snprintf(rst, sizeof(rst), "no client RST");
	}
	for (size_t i = 0; inject && i < inject->n; i++)
		if (!strncmp(inject->pairs[i].key, "invalid.", 8))
			snprintf(inv + strlen(inv), sizeof(inv) - strlen(inv), " %s+%s",
				 node_of(inject->pairs[i].key), inject->pairs[i].value);
	for (size_t i = 0; meta && i < meta->n; i++)
		if (!strncmp(meta->pairs[i].key, "drop.", 5) && strcmp(meta->pairs[i].value, "-"))
			snprintf(drop + strlen(drop), sizeof(drop) - strlen(drop), " %s=%s",
				 node_of(meta->pairs[i].key), meta->pairs[i].value);
	/* a kube-proxy release >= 1.31: its nfacct counter, what its metric shows */
	for (size_t i = 0; meta && i < meta->n; i++)
		if (!strncmp(meta->pairs[i].key, "nfacct.", 7))
			snprintf(acct + strlen(acct), sizeof(acct) - strlen(acct), "%s%s +%s",
				 *acct ? ", " : " ", node_of(meta->pairs[i].key),
				 meta->pairs[i].value);
	if (add(rec, "evidence.leak", leak) < 0 || add(rec, "evidence.rst", rst) < 0)
		return -1;
	snprintf(sentence, sizeof(sentence), "%s; %s", leak, rst);
	if (!strcmp(record_get(rec, "backend_reset", "0"), "1")) {
		if (add(rec, "evidence.backend", "backend ECONNRESET") < 0)
			return -1;
		snprintf(sentence + strlen(sentence), sizeof(sentence) - strlen(sentence),
			 "; backend ECONNRESET");
	}
	if (addf(rec, "evidence.invalid", "ct invalid%s", *inv ? inv : " ?") < 0)
		return -1;
	snprintf(sentence + strlen(sentence), sizeof(sentence) - strlen(sentence), "; ct invalid%s",
		 *inv ? inv : " ?");
	if (*drop) {
		if (addf(rec, "evidence.drop", "DROP rule pkts%s", drop) < 0)
			return -1;
		snprintf(sentence + strlen(sentence), sizeof(sentence) - strlen(sentence),
			 "; DROP rule pkts%s", drop);
	}
	if (*acct) {
		if (addf(rec, "evidence.nfacct",
			 "kubeproxy_iptables_ct_state_invalid_dropped_packets_total would show%s "
			 "(nfacct ct_state_invalid_dropped_pkts)",
			 acct) < 0)
			return -1;
		snprintf(sentence + strlen(sentence), sizeof(sentence) - strlen(sentence),
			 "; kubeproxy_iptables_ct_state_invalid_dropped_packets_total%s", acct);
	}
	return add(rec, "evidence", sentence);
}

/* A connect cell's evidence: what the client got, where its handshake's third packet
 * went, node A's conntrack entry, INVALID counts and the DROP rule counters per node. */
static int add_connect_evidence(struct kv *rec, const struct connect_facts *c,
				const struct kv *meta)
{
	char part[1024], sentence[4096];
	static const struct {
		const char *prefix, *label, *sep;
	} per_node[] = {
	    {"ct_state.", "conntrack", " "},
	    {"invalid.", "ct invalid", "+"},
	    {"drop.", "DROP rule pkts", "="},
	    {"nfacct.", "nfacct ct_state_invalid_dropped_pkts", " +"},
	};

	snprintf(sentence, sizeof(sentence),
		 "client got %llu bytes; SYN-ACK at the client %u; client ACKs at node A %u, at "
		 "the backend %u",
		 c->client_bytes, c->synack_at_client, c->acks_at_node, c->acks_at_backend);
	if (add(rec, "evidence.connect", sentence) < 0)
		return -1;
	for (size_t k = 0; k < sizeof(per_node) / sizeof(per_node[0]); k++) {
		size_t pl = strlen(per_node[k].prefix);

		part[0] = '\0';
		for (size_t i = 0; meta && i < meta->n; i++)
			if (!strncmp(meta->pairs[i].key, per_node[k].prefix, pl) &&
			    strcmp(meta->pairs[i].value, "-"))
				snprintf(part + strlen(part), sizeof(part) - strlen(part),
					 " %s%s%s", node_of(meta->pairs[i].key), per_node[k].sep,
					 meta->pairs[i].value);
		if (!*part)
			continue;
		snprintf(sentence + strlen(sentence), sizeof(sentence) - strlen(sentence), "; %s%s",
			 per_node[k].label, part);
		/* a kube-proxy release >= 1.31: what its metric shows, for its line */
		if (!strcmp(per_node[k].prefix, "nfacct.") &&
		    addf(rec, "evidence.nfacct",
			 "kubeproxy_iptables_ct_state_invalid_dropped_packets_total would "
			 "show%s (nfacct ct_state_invalid_dropped_pkts)",
			 part) < 0)
			return -1;
	}
	return add(rec, "evidence", sentence);
}

/* up to max lines of DIR/name as key= pairs; the number added */
static int add_lines(struct kv *rec, const char *dir, const char *name, const char *key, int max)
{
	char path[PATH_MAX], line[4096];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (add(rec, key, line) < 0) {
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	return n;
}

static bool exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* bench --detect: what the live detector run beside the cell (ctreset-review --live on
 * node A) says of it, as a verdict (its resets, else its un-NATed segments, else clean;
 * "error" when it did not run to its end), or NULL when it did not run or the cell has no
 * reset/leak/clean verdict to compare with */
static const char *detect_says(const struct kv *meta, bool skip, const char *observed)
{
	const char *l = kv_get(meta, "detect.leaks"), *r = kv_get(meta, "detect.resets");

	if (skip || !observed || (!l && !kv_get(meta, "detect.error")) ||
	    (strcmp(observed, "reset") && strcmp(observed, "leak") && strcmp(observed, "clean")))
		return NULL;
	if (kv_get(meta, "detect.error") || !l || !r)
		return "error";
	return strtoul(r, NULL, 10) ? "reset" : strtoul(l, NULL, 10) ? "leak" : "clean";
}

int record_build(const struct record_input *in, struct kv *rec, char **err)
{
	static const char *const coords[] = {
	    "scenario", "workload",   "topology",	 "backend",    "family",
	    "trigger",	"workaround", "kernel",		 "behaviours", "behaviours_source",
	    "service",	"prefix",     "reused_topology", "oracle"};
	const struct verdict_result *r = in->res;
	static const struct kv none;
	const struct kv *meta = in->meta ? in->meta : &none;
	const struct kv *inject = in->inject ? in->inject : &none;
	bool skip = exists(in->dir, "skip");
	const char *observed = r ? verdict_name(r->verdict) : "inconclusive";
	const char *status, *v, *detect;
	char buf[512];
	int rc = 0;

	memset(rec, 0, sizeof(*rec));
	if (skip)
		status = "skip";
	else if (in->expected && *in->expected && !strcmp(in->expected, observed))
		status = "pass";
	else
		status = "fail";
	detect = detect_says(meta, skip, r ? observed : NULL);
	if (detect && strcmp(detect, observed))
		status = "fail"; /* the live detector beside the cell disagrees with its verdict */
	rc |= add(rec, "dir", in->dir);
	rc |= add(rec, "status", status);
	for (size_t i = 0; i < sizeof(coords) / sizeof(coords[0]); i++) {
		v = kv_get(meta, coords[i]);
		if (!v && !strcmp(coords[i], "trigger"))
			v = kv_get(inject, "trigger");
		rc |= add(rec, coords[i], v);
	}
	rc |= add_prefixed(rec, meta, "kube_proxy.", "kube_proxy.");
	rc |= add(rec, "expected", in->expected);
	rc |= add(rec, "expected_reason", in->expected_reason);
	rc |= add(rec, "decided", r ? "1" : "0");
	rc |= add(rec, "observed", skip ? "skip" : observed);
	if (r && in->connect) {
		const struct connect_facts *c = in->connect;

		rc |= add(rec, "reason", r->reason);
		rc |= add(rec, "client_end", client_end_name(r->client_end));
		rc |= add(rec, "backend_end", record_get(in->server, "end", "unknown"));
		rc |= addf(rec, "connect.client_bytes", "%llu", c->client_bytes);
		rc |= addf(rec, "connect.synack_at_client", "%u", c->synack_at_client);
		rc |= addf(rec, "connect.acks_at_node", "%u", c->acks_at_node);
		rc |= addf(rec, "connect.acks_at_backend", "%u", c->acks_at_backend);
		rc |= addf(rec, "connect.dropped", "%u", c->dropped);
		rc |= add(rec, "probe", "nothing injected: a legitimate connection");
		if (rc || add_connect_evidence(rec, c, meta) < 0)
			goto oom;
	} else if (r) {
		rc |= add(rec, "reason", r->reason);
		rc |= add(rec, "error", record_get(inject, "error", "-"));
		rc |= add(rec, "client_rst", r->client_rst ? "1" : "0");
		rc |= add(rec, "backend_reset", r->backend_reset ? "1" : "0");
		rc |= addf(rec, "leaked_packets", "%u", r->leaked_packets);
		rc |= add(rec, "rst_at_backend", r->rst_at_backend ? "1" : "0");
		if (r->leaked_packets) {
			record_seg_str(&r->first_leak, buf, sizeof(buf));
			rc |= add(rec, "leak", buf);
		}
		if (r->client_rst) {
			record_seg_str(&r->first_rst, buf, sizeof(buf));
			rc |= add(rec, "rst", buf);
		}
		rc |= add(rec, "event", record_get(inject, "probe.explain", "-"));
		rc |= add(rec, "backend_end", record_get(in->server, "end", "unknown"));
		rc |= add(rec, "client_end", client_end_name(r->client_end));
	}
	/* what the injector said it did, or why it could not */
	v = kv_get(inject, "probe.explain");
	if (!v || !*v)
		v = kv_get(inject, "error");
	if (!(r && in->connect)) {
		rc |= add(rec, "probe", v && *v ? v : "?");
		if (rc || add_evidence(rec, inject, meta) < 0)
			goto oom;
	}
	if (skip) {
		if (add_lines(rec, in->dir, "skip", "skip_reason", 1) < 0)
			goto oom;
		if (!kv_get(rec, "skip_reason"))
			rc |= add(rec, "skip_reason", "");
	} else if (add_lines(rec, in->dir, "error", "error_line", 3) < 0) {
		goto oom;
	}
	rc |= add(rec, "duration_ms", kv_get(meta, "duration_ms"));
	rc |= add_prefixed(rec, meta, "time.", "time.");
	/* the captures, once the review knew where they are (not for a skipped cell) */
	for (int k = 0; k < 3; k++) {
		static const char *const keys[] = {"pcap.client", "pcap.node", "pcap.backend"};

		if (in->pcaps[k] && *in->pcaps[k])
			rc |= add(rec, keys[k], in->pcaps[k]);
	}
	rc |= add_prefixed(rec, in->server, "", "server.");
	rc |= add_prefixed(rec, in->client, "", "client.");
	rc |= add_prefixed(rec, inject, "invalid.", "invalid.");
	rc |= add_prefixed(rec, meta, "drop.", "drop.");
	rc |= add_prefixed(rec, meta, "nfacct.", "nfacct.");
	rc |= add_prefixed(rec, meta, "detect.", "detect.");
	if (detect)
		rc |= add(rec, "detect.verdict", detect);
	/* a connect cell's: counted by the runner, not the injector */
	rc |= add_prefixed(rec, meta, "invalid.", "invalid.");
	rc |= add_prefixed(rec, meta, "ct_state.", "ct_state.");
	if (!rc)
		return 0;
oom:
	kv_free(rec);
	return err_set(err, "out of memory");
}

int record_expectation(const struct kv *meta, char *expected, size_t elen, char *reason,
		       size_t rlen, char **err)
{
	const char *oracle = kv_get(meta, "oracle"), *note = kv_get(meta, "oracle.note");
	const char *w = kv_get(meta, "oracle.workaround");
	struct oracle o;
	struct oracle_cell c = {
	    .trigger = record_get(meta, "trigger", ""),
	    .workaround = w ? w : record_get(meta, "workaround", ""),
	    .topology = record_get(meta, "topology", "cross-node"),
	    .backend = record_get(meta, "backend", "iptables-nft"),
	    .family = record_get(meta, "family", "4"),
	};
	char why[2048];

	expected[0] = reason[0] = '\0';
	if (kv_get(meta, "expected")) {
		snprintf(expected, elen, "%s", kv_get(meta, "expected"));
		snprintf(reason, rlen, "%s", record_get(meta, "expected_reason", ""));
		return 0;
	}
	if (!oracle)
		return 0;
	if (oracle_load(oracle, &o, err) < 0)
		return -1;
	if (oracle_expect(&o, &c, record_get(meta, "kernel", ""), kv_get(meta, "behaviours"),
			  expected, elen, why, sizeof(why), err) < 0) {
		oracle_free(&o);
		return -1;
	}
	oracle_free(&o);
	snprintf(reason, rlen, "%s%s%s", note ? note : "", note ? ": " : "", why);
	return 0;
}

int record_save(const char *path, const struct kv *rec, char **err)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return err_errno(err, errno, "%s", tmp);
	fputs("# a bench cell's record (ctreset-review --record): the reports are rendered from "
	      "it\n",
	      f);
	for (size_t i = 0; i < rec->n; i++)
		kv_write(f, rec->pairs[i].key, rec->pairs[i].value);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		err_errno(err, errno, "%s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* a value that is a plain unsigned number goes out as a number, else as a string */
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

static void json_prefixed(FILE *f, int *first, const char *name, const struct kv *rec,
			  const char *prefix)
{
	size_t plen = strlen(prefix);
	int inner = 1;

	if (!*first)
		fputs(", ", f);
	*first = 0;
	json_str(f, name);
	fputs(": {", f);
	for (size_t i = 0; i < rec->n; i++)
		if (!strncmp(rec->pairs[i].key, prefix, plen))
			json_num_or_str(f, &inner, rec->pairs[i].key + plen, rec->pairs[i].value);
	fputc('}', f);
}

static void json_bool(FILE *f, int *first, const struct kv *rec, const char *key)
{
	json_kv_raw(f, first, key, !strcmp(record_get(rec, key, "0"), "1") ? "true" : "false");
}

void record_json_fields(FILE *f, const struct kv *rec, int *first)
{
	static const char *const coords[] = {
	    "scenario",	  "workload",	       "topology", "backend",	      "family",
	    "trigger",	  "workaround",	       "expected", "expected_reason", "kernel",
	    "behaviours", "behaviours_source", "service"};

	for (size_t i = 0; i < sizeof(coords) / sizeof(coords[0]); i++)
		if (kv_get(rec, coords[i]))
			json_kv_str(f, first, coords[i], kv_get(rec, coords[i]));
	json_kv_str(f, first, "observed", record_get(rec, "observed", "inconclusive"));
	json_kv_str(f, first, "reason", record_get(rec, "reason", ""));
	json_kv_str(f, first, "error", record_get(rec, "error", "-"));
	/* a connect cell injected nothing: no leak or RST was looked for */
	if (!kv_get(rec, "connect.client_bytes")) {
		json_bool(f, first, rec, "client_rst");
		json_bool(f, first, rec, "backend_reset");
		json_kv_raw(f, first, "leaked_packets", record_get(rec, "leaked_packets", "0"));
		json_bool(f, first, rec, "rst_at_backend");
	}
	if (kv_get(rec, "leak"))
		json_kv_str(f, first, "leak", kv_get(rec, "leak"));
	if (kv_get(rec, "rst"))
		json_kv_str(f, first, "rst", kv_get(rec, "rst"));
	json_kv_str(f, first, "event", record_get(rec, "event", "-"));
	json_kv_str(f, first, "backend_end", record_get(rec, "backend_end", "unknown"));
	json_kv_str(f, first, "client_end", record_get(rec, "client_end", "unknown"));
	json_prefixed(f, first, "server", rec, "server.");
	json_prefixed(f, first, "client", rec, "client.");
	json_prefixed(f, first, "conntrack_invalid", rec, "invalid.");
	json_prefixed(f, first, "drop_counter", rec, "drop.");
	if (kv_get(rec, "detect.leaks") || kv_get(rec, "detect.error"))
		json_prefixed(f, first, "detect", rec, "detect.");
	if (kv_get(rec, "connect.client_bytes")) { /* a connect cell */
		json_prefixed(f, first, "connect", rec, "connect.");
		json_prefixed(f, first, "conntrack_state", rec, "ct_state.");
	}
	/* a kube-proxy release's cell only */
	for (size_t i = 0; i < rec->n; i++)
		if (!strncmp(rec->pairs[i].key, "kube_proxy.", 11)) {
			json_prefixed(f, first, "kube_proxy", rec, "kube_proxy.");
			json_prefixed(f, first, "nfacct_counter", rec, "nfacct.");
			break;
		}
	fputs(", \"pcaps\": [", f);
	json_str(f, record_get(rec, "pcap.client", ""));
	fputs(", ", f);
	json_str(f, record_get(rec, "pcap.node", ""));
	fputs(", ", f);
	json_str(f, record_get(rec, "pcap.backend", ""));
	fputc(']', f);
	if (kv_get(rec, "duration_ms"))
		json_kv_raw(f, first, "duration_ms", kv_get(rec, "duration_ms"));
}
