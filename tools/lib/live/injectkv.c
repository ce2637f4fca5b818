/* inject.kv: one key=value line per fact, in a fixed order (tests and the review read it). */
#include "injectkv.h"
#include "base/err.h"
#include "base/kv.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>

void record_kv(FILE *f, const char *key, const char *fmt, ...)
{
	char v[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	kv_write(f, key, v);
}

static void write_flow(FILE *f, const struct record *rec)
{
	const struct flow_find *ff = rec->find;
	const struct learn_flow *lf = rec->out->injected ? &rec->out->learned : ff->flow;
	const struct learn_dir *s = &lf->server, *c = &lf->client;
	char a[CTR_EPSTRLEN];

	record_kv(f, "client", "%s", endpoint_str(&ff->ct.orig.src, a));
	record_kv(f, "backend", "%s", endpoint_str(&ff->ct.reply.src, a));
	record_kv(f, "conntrack.id", "%u", ff->ct.id);
	record_kv(f, "conntrack.state", "%s", ct_state_name(ff->ct.tcp_state));
	record_kv(f, "learned.server_next_seq", "%u", s->end);
	record_kv(f, "learned.server_wscale", "%d", s->wscale);
	record_kv(f, "learned.client_next_seq", "%u", c->end);
	record_kv(f, "learned.client_ack", "%u", c->ack);
	record_kv(f, "learned.client_window_end", "%u", c->maxend);
	record_kv(f, "learned.client_max_window", "%u", c->maxwin);
	record_kv(f, "learned.client_wscale", "%d", c->wscale);
	record_kv(f, "learned.server_data_segments", "%u", s->data_segments);
}

/* what the trigger did: its explanation, its own evidence (its row's), and with conntrack
 * -E the entries made after it */
static void write_event(FILE *f, const struct record *rec)
{
	const struct trigger_info *ti = trigger_info(rec->trigger);
	const struct natural *nat = rec->nat;

	record_kv(f, "probe.explain", "%s", rec->out->explain);
	if (ti->evidence)
		ti->evidence(f, rec);
	if (ti->ct_events) {
		record_kv(f, "natural.ct_new_from_backend", "%u", nat->ct_pickup);
		if (nat->ct_pickup)
			record_kv(f, "natural.ct_new_from_backend.event", "%s", nat->pickup_line);
		record_kv(f, "natural.ct_new_from_client", "%u", nat->ct_renat);
	}
}

static void write_outcome(FILE *f, const struct record *rec)
{
	const struct outcome *out = rec->out;
	const struct timings *t = rec->t;

	record_kv(f, "outcome.settled_by", "%s", out->settled_by ? out->settled_by : "-");
	record_kv(f, "outcome.probe_left_backend", "%d", out->probe_left);
	record_kv(f, "outcome.probe_natted_at_client", "%d", out->probe_natted);
	record_kv(f, "outcome.leaked_at_client", "%u", out->leaks);
	record_kv(f, "outcome.client_rst", "%d", out->client_rst);
	record_kv(f, "outcome.rst_at_backend", "%d", out->rst_at_backend);
	record_kv(f, "time.reset_ms", "%llu", (unsigned long long)(t->reset - t->start));
	record_kv(f, "time.captures_ms", "%llu", (unsigned long long)(t->ready - t->start));
	record_kv(f, "time.flow_ms", "%llu", (unsigned long long)(t->flow - t->start));
	record_kv(f, "time.inject_ms", "%llu", (unsigned long long)(t->inject - t->start));
	record_kv(f, "time.settled_ms", "%llu", (unsigned long long)(t->settled - t->start));
}

static void write_child(FILE *f, const char *name, const struct child *c)
{
	char key[64], v[32];

	child_exit_str(c, v, sizeof(v));
	snprintf(key, sizeof(key), "%s.exit", name);
	record_kv(f, key, "%s", v);
	snprintf(key, sizeof(key), "%s.stopped", name);
	record_kv(f, key, "%d", c->stopped);
}

static void write_capture(FILE *f, const char *name, const struct capture *c)
{
	char key[64];

	if (!c)
		return;
	snprintf(key, sizeof(key), "capture.%s", name);
	record_kv(f, key, "%s", capture_path(c));
	snprintf(key, sizeof(key), "capture.%s.dropped", name);
	record_kv(f, key, "%u", capture_dropped(c));
}

/* cpus: the CPUs the injector, and the workload it starts, may run on, as a list ("1",
 * "0-3,6"): the runners keep a cell on one (bench/lib.sh, CPU placement) */
static void write_cpus(FILE *f)
{
	cpu_set_t set;
	char list[256] = "";
	size_t n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < sizeof(list); c++) {
		int e = c;

		if (!CPU_ISSET(c, &set))
			continue;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set))
			e++;
		if (e > c)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d-%d", n ? "," : "",
					      c, e);
		else
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d", n ? "," : "", c);
		c = e;
	}
	record_kv(f, "cpus", "%s", list);
}

static void write_all(FILE *f, const struct record *rec)
{
	char a[CTR_EPSTRLEN], key[300];

	record_kv(f, "trigger", "%s", trigger_info(rec->trigger)->name);
	record_kv(f, "injected", "%d", rec->out->injected);
	record_kv(f, "error", "%s", rec->error ? rec->error : "-");
	if (rec->capture_error)
		record_kv(f, "capture_error", "%s", rec->capture_error);
	if (rec->skip)
		record_kv(f, "skip", "%s", rec->skip);
	record_kv(f, "vip", "%s", endpoint_str(rec->vip, a));
	write_cpus(f);
	if (rec->find->flow)
		write_flow(f, rec);
	if (rec->out->injected) {
		write_event(f, rec);
		write_outcome(f, rec);
	}
	for (int i = 0; i < rec->n_invalid; i++) {
		const struct ns_invalid *n = &rec->invalid[i];

		snprintf(key, sizeof(key), "invalid.%s", n->ns);
		if (n->ok)
			record_kv(f, key, "%llu", (unsigned long long)(n->after - n->before));
		else
			record_kv(f, key, "unknown");
	}
	if (rec->n_backends > 1)
		record_kv(f, "backend.ns", "%s",
			  rec->find->flow ? rec->backend_ns[rec->find->bk] : "-");
	if (rec->n_reset_ns)
		record_kv(f, "reset.scanned", "%d", rec->reset_scanned);
	for (int i = 0; i < rec->n_reset_ns; i++) {
		snprintf(key, sizeof(key), "reset_killed.%s", rec->reset_ns[i]);
		record_kv(f, key, "%u", rec->reset_killed[i]);
	}
	if (rec->srv && child_started(rec->srv)) {
		write_child(f, "server", rec->srv);
		record_kv(f, "time.server_ms", "%llu",
			  (unsigned long long)(rec->t->server - rec->t->start));
	}
	for (int i = 0; i < rec->n_flush_ns; i++) {
		snprintf(key, sizeof(key), "ct_flushed.%s", rec->flush_ns[i]);
		record_kv(f, key, "%u", rec->flushed[i]);
		snprintf(key, sizeof(key), "ct_left.%s", rec->flush_ns[i]);
		record_kv(f, key, "%u", rec->flush_left[i]);
	}
	/* the flow's backend is "backend" whichever file it is (ctreset-review reads it) */
	write_capture(f, "client", rec->cap_client);
	write_capture(f, "node", rec->cap_node);
	write_capture(f, "backend", rec->cap_backend);
	if (rec->cmd && child_started(rec->cmd)) {
		write_child(f, "command", rec->cmd);
		if (rec->cmd->exited && rec->cmd->t_end)
			record_kv(f, "time.command_ms", "%llu",
				  (unsigned long long)(rec->cmd->t_end - rec->t->start));
	}
}

int record_write(const char *dir, const struct record *rec, char **err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	snprintf(path, sizeof(path), "%s/inject.kv", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return err_errno(err, errno, "%s", tmp);
	write_all(f, rec);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return err_errno(err, errno, "%s", path);
	return 0;
}
