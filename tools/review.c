/* ctreset-review: reads captures and bench artifacts and says what happened.
 *
 *   ctreset-review --verdict DIR   the scenario's verdict (reset / leak / clean /
 *                                  inconclusive) with its evidence, from DIR's pcaps
 *                                  and records, as text, key=value or JSON; with
 *                                  --record FILE also the cell's record (record.h).
 *   ctreset-review --render FORMAT RUN_DIR
 *                                  a bench run's reports, from its cells' records
 *                                  (render.h).
 *   ctreset-review --render FORMAT DIR...
 *                                  one report from many runs (shards, machines,
 *                                  kernels), checked complete (merge.h).
 *   ctreset-review --oracle FILE   the expectation of each cell read on stdin (oracle.h).
 *   ctreset-review [options] CAPTURE|DIR...
 *                                  conntrack-aware analysis of any captures: which
 *                                  segments conntrack calls out of window, which escaped
 *                                  NAT, which RST each caused, what became of the
 *                                  connection; text, ladder (text/SVG), JSON.
 *
 * The verdict logic lives in tools/lib/verdict.c, the analysis in tools/lib/analyse.c
 * (with the conntrack model in ctwin.c) and its output in report.c; this is their front
 * end. */
#include "review/analyse.h"
#include "review/behaviour.h"
#include "review/cell.h"
#include "review/live.h"
#include "base/err.h"
#include "review/oracle.h"
#include "review/record.h"
#include "review/render.h"
#include "review/merge.h"
#include "base/exitcodes.h"
#include "base/json.h"
#include "base/kv.h"
#include "review/report.h"
#include "review/svcmap.h"
#include "base/opt.h"
#include "review/verdict.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* --render-to: one a report format, and more than there are formats is a mistake */
#define RENDER_TO_MAX 10
#define RENDER_TO_MAX_STR "10"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ctreset-review --verdict DIR [--format text|kv|json] [--json-out FILE]\n"
	    "                      [--record FILE]\n"
	    "       ctreset-review --render FORMAT [--render-to FORMAT=FILE]... RUN_DIR\n"
	    "       ctreset-review --render FORMAT DIR...\n"
	    "       ctreset-review --oracle FILE [--kernel VERSION] [--behaviours LIST] <CELLS\n"
	    "       ctreset-review --behaviours-of RELEASE [--behaviours LIST]\n"
	    "       ctreset-review [options] CAPTURE|DIR...\n"
	    "       ctreset-review --live IFACE[,IFACE...] [--netns NAME|PATH] [--duration S]\n"
	    "                      [--json-lines FILE] [--metrics FILE] [--max-flows N] [-s ...]\n"
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
	    "  --json-out FILE  also write the json to FILE (one run, not two)\n"
	    "  --record FILE the cell's record (key=value: coordinates, expectation and\n"
	    "                reason, verdict, status, evidence, timings, pcaps), the one\n"
	    "                the reports are rendered from; for a cell that did not run\n"
	    "                (DIR/skip or DIR/error) only the record\n"
	    "  -h, --help    this text\n"
	    "exit: 0 decided (any verdict), 1 artifacts unreadable, 2 usage\n"
	    "The expectation: meta.kv's expected=, else the row of its oracle= file for\n"
	    "the cell's trigger, workaround (oracle.workaround= if set), topology, backend\n"
	    "and family on its kernel= and behaviours= (probed by the bench; a behaviour\n"
	    "it lacks is taken from the release, and the reason says so).\n"
	    "\n"
	    "--render FORMAT RUN_DIR: the reports of a bench run, from RUN_DIR/run.kv and\n"
	    "its cells' records: table, json, tap, junit, ktap, unexpected, failed, summary,\n"
	    "advise, advise-json (exit: summary and advise* 0 pass, 1 fail, 4 nothing could\n"
	    "run; else 0, 1 unreadable). --render-to FORMAT=FILE (repeatable, one RUN_DIR\n"
	    "only): that report too, into FILE, from the same load of the run.\n"
	    "--render FORMAT DIR...: one report from the bench/matrix runs of several DIRs\n"
	    "(each a run, or a directory with runs below it: the shards, machines, kernels of\n"
	    "one grid): per kernel, the runs of each selection must be its shards 1..N, once\n"
	    "each, from one split, holding every cell of it; else exit 1 naming the missing,\n"
	    "duplicated or mismatched shards and the cells in no run. table and ktap: a section\n"
	    "per kernel; the other formats: one list of every kernel's cells.\n"
	    "\n"
	    "--oracle FILE: reads cells (TRIGGER WORKAROUND TOPOLOGY BACKEND FAMILY, tab-\n"
	    "separated) on stdin, prints EXPECTED<tab>REASON for each, the first matching\n"
	    "row of FILE on --kernel (default: this one's release) with --behaviours (a\n"
	    "row's +NAME/-NAME entries; a behaviour not given is the release's); EXPECTED\n"
	    "is empty when no row matches or no kernel range holds.\n"
	    "\n"
	    "--behaviours-of RELEASE: every behaviour as the oracle takes it for RELEASE and\n"
	    "--behaviours, NAME=0|1, \"(release)\" after those the list does not give.\n"
	    "\n"
	    "Without --verdict, analyses captures (pcap or pcapng; Ethernet, Linux cooked\n"
	    "SLL/SLL2, raw IP; VLAN tags, IPv4, IPv6) of the same traffic, merged by time.\n"
	    "Each TCP connection (4-tuple; a VIP's and its backend's views joined through the\n"
	    "service map) is replayed through a model of the NAT node's conntrack\n"
	    "(nf_conntrack_proto_tcp.c: tcp_in_window's td_end/td_maxend/td_maxwin/td_scale,\n"
	    "the state table, tcp_error's flag check), and every segment is classified:\n"
	    "  in window   ACCEPT: tracked, NAT applies\n"
	    "  IGNORE      below the window (\"SEQ is under lower bound\"), overly delayed ACK\n"
	    "              (\"ignored ACK under lower bound\"), small overshoot, state-table\n"
	    "              sIG: conntrack keeps the entry, NAT still applies\n"
	    "  INVALID     \"SEQ is over upper bound\", \"ACK is over upper bound\", invalid\n"
	    "              tcp flag combination, invalid rst, no entry: NAT skips it\n"
	    "A segment that reached the client from the backend's own address instead of the\n"
	    "VIP is a LEAK; an RST from the client whose seq is a leaked segment's ack answers\n"
	    "it, and resets the backend's connection when that seq is the backend's next\n"
	    "expected (RFC 5961).\n"
	    "\n"
	    "  CAPTURE        a file; its place comes from its name (client*, node*,\n"
	    "                 backend*) or a prefix client=, node=, backend=, any=. A client\n"
	    "                 capture is past the NAT for replies, a backend one before it;\n"
	    "                 node and any are placed per connection from what they show.\n"
	    "  DIR            a bench run's directory: its client.pcap, node.pcap and\n"
	    "                 backend.pcap, the service in meta.kv (and be_liberal when its\n"
	    "                 workaround is be-liberal), and (with inject.kv and server.kv)\n"
	    "                 the bench verdict decided from the analysis\n"
	    "  -s, --service VIP:PORT=BACKEND:PORT[,BACKEND:PORT...]\n"
	    "                 a service's DNAT (repeatable); without one, a DNAT is inferred\n"
	    "                 from the same SYN seen with two destinations (two captures)\n"
	    "  --behaviours LIST  the kernel behaviours the model follows, NAME=0|1 joined\n"
	    "                 by commas (names left out: present):\n"
	    "                   ignore-delayed     6e250dcbff1d, v6.1: seq/ack under the lower\n"
	    "                                      bound and a small overshoot IGNOREd, not\n"
	    "                                      INVALID\n"
	    "                   rcvwnd-workaround  cf97769c761a, v6.0, 5.19.9, 5.15.68: an\n"
	    "                                      overshoot moves td_end (still INVALID\n"
	    "                                      without ignore-delayed)\n"
	    "                 Default: a DIR's own (its meta.kv's behaviours, probed by the\n"
	    "                 bench, else its kernel release's), else both present (as 6.18).\n"
	    "                 With --oracle, the behaviours the oracle's rows are chosen by\n"
	    "  --kernel-before-6.1  the same as --behaviours\n"
	    "                 ignore-delayed=0,rcvwnd-workaround=0 (as 5.10)\n"
	    "  --be-liberal   nf_conntrack_tcp_be_liberal=1 on the node\n"
	    "  --no-pickup    nf_conntrack_tcp_loose=0 (no entry without a SYN)\n"
	    "  --no-timeouts  never expire conntrack entries (clocks of the captures differ)\n"
	    "  --format F     text (default) or json\n"
	    "  --ladder       text: also draw the ladder of the notable events\n"
	    "  --svg FILE     write the ladder as SVG (lanes client, node, backend)\n"
	    "  --all-flows    list connections with nothing notable too\n"
	    "  --max-rows N   segments kept per connection for the report (default 256)\n"
	    "\n"
	    "--live: the same analysis on live captures (TCP only) of a node's pod-facing\n"
	    "interfaces, in its namespace (--netns /run/netns NAME or a path such as\n"
	    "/proc/PID/ns/net); the services learned from its conntrack table (each DNATed\n"
	    "entry: original destination = VIP, reply source = backend), refreshed each second,\n"
	    "unless -s gives them; the model follows its be_liberal and tcp_loose sysctls and\n"
	    "this kernel's release (or --behaviours). A line per un-NATed segment and per RST\n"
	    "to a backend's own address as they happen; until --duration S or SIGINT/SIGTERM,\n"
	    "then a summary with the kernel's drops (pcap_stats).\n"
	    "  --json-lines FILE  each event as a JSON object, one a line\n"
	    "  --metrics FILE  Prometheus text exposition (ctreset_unnated_segments_total,\n"
	    "                 ctreset_resets_total, ctreset_kernel_drops_total...), replaced\n"
	    "                 atomically each second (node_exporter's textfile collector)\n"
	    "  --max-flows N  connections tracked at once (default 65536; idle 300 s: forgotten)\n"
	    "exit: 0 nothing leaked, %d a leak (no reset), %d a reset by a leak's RST,\n"
	    "      1 a capture unreadable, 2 usage\n",
	    CTR_EXIT_LEAK, CTR_EXIT_RESET);
}

/* --oracle FILE: EXPECTED<tab>REASON for each cell on stdin */
static int run_oracle(const char *file, const char *kernel, const char *behaviours)
{
	struct oracle o;
	struct utsname u;
	char line[1024], exp[64], why[4096], *err = NULL;

	if (!kernel) {
		if (uname(&u) < 0)
			die(CTR_EXIT_FAIL, (err_errno(&err, errno, "uname"), err));
		kernel = u.release;
	}
	if (oracle_load(file, &o, &err) < 0) {
		fprintf(stderr, "ctreset-review: argument \"%s\" is wrong: %s\n", file, err);
		free(err);
		return CTR_EXIT_USAGE;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *f[5] = {0}, *save = NULL, *p = line;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		while (n < 5 && (f[n] = strtok_r(p, "\t ", &save)))
			n++, p = NULL;
		if (n != 5) {
			oracle_free(&o);
			fprintf(stderr,
				"ctreset-review: argument \"%s\" is wrong: a cell is "
				"TRIGGER WORKAROUND TOPOLOGY BACKEND FAMILY\n",
				line);
			return CTR_EXIT_USAGE;
		}
		struct oracle_cell c = {f[0], f[1], f[2], f[3], f[4]};

		if (oracle_expect(&o, &c, kernel, behaviours, exp, sizeof(exp), why, sizeof(why),
				  &err) < 0) {
			oracle_free(&o);
			die(CTR_EXIT_FAIL, err);
		}
		printf("%s\t%s\n", exp, why);
	}
	oracle_free(&o);
	return fflush(stdout) == 0 ? CTR_EXIT_PASS : CTR_EXIT_FAIL;
}

/* --behaviours-of RELEASE: every behaviour as the oracle takes it for that release and
 * list, "NAME=0|1" with "(release)" after the ones the list does not give */
static int run_behaviours_of(const char *release, const char *list)
{
	size_t n;
	const struct behaviour *b = behaviour_table(&n);
	char *err = NULL;

	for (size_t i = 0; i < n; i++) {
		bool from_list;
		int has = behaviour_has(list, release, b[i].name, &from_list, &err);

		if (has < 0)
			die(CTR_EXIT_USAGE, err);
		printf("%s%s=%d%s", i ? " " : "", b[i].name, has, from_list ? "" : "(release)");
	}
	putchar('\n');
	return fflush(stdout) == 0 ? CTR_EXIT_PASS : CTR_EXIT_FAIL;
}

/* FORMAT=FILE of --render-to: FORMAT a known one, FILE not empty; 0 or a usage error */
static int render_to_split(const char *arg, char *format, size_t n, const char **file)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= n)
		return opt_bad(arg, "--render-to takes FORMAT=FILE");
	snprintf(format, n, "%.*s", (int)(eq - arg), arg);
	*file = eq + 1;
	if (!render_known(format))
		return opt_bad(arg, "--render-to FORMAT is table, json, tap, junit, ktap, "
				    "unexpected, failed, summary, advise or advise-json");
	return 0;
}

/* --render FORMAT [--render-to FORMAT=FILE]... RUN_DIR: the run loaded once, FORMAT to
 * stdout (its exit status is the program's), each --render-to to its FILE (bench/matrix
 * writes its five reports with one exec, not five, each of which read every record) */
static int run_render(const char *format, const char *const *to, size_t n_to, const char *run_dir)
{
	struct run run;
	char *err = NULL;
	int rc;

	if (!render_known(format))
		return opt_bad(format, "--render takes table, json, tap, junit, ktap, unexpected, "
				       "failed, summary, advise or advise-json");
	for (size_t i = 0; i < n_to; i++) {
		char fmt[32];
		const char *file;

		if (render_to_split(to[i], fmt, sizeof(fmt), &file) != 0)
			return CTR_EXIT_USAGE;
	}
	if (run_load(run_dir, &run, &err) < 0)
		die(CTR_EXIT_FAIL, err);
	for (size_t i = 0; i < n_to; i++) {
		char fmt[32];
		const char *file;
		FILE *f;

		render_to_split(to[i], fmt, sizeof(fmt), &file);
		f = fopen(file, "we");
		if (!f)
			die(CTR_EXIT_FAIL, (err_errno(&err, errno, "%s", file), err));
		if (render(f, &run, fmt, &err) < 0)
			die(CTR_EXIT_FAIL, err);
		if (fclose(f) != 0)
			die(CTR_EXIT_FAIL, (err_errno(&err, errno, "%s", file), err));
	}
	rc = render(stdout, &run, format, &err);
	run_free(&run);
	if (rc < 0) {
		fprintf(stderr, "ctreset-review: argument \"%s\" is wrong: %s\n", format, err);
		free(err);
		return CTR_EXIT_USAGE;
	}
	if (fflush(stdout) != 0)
		die(CTR_EXIT_FAIL, (err_errno(&err, errno, "stdout"), err));
	return rc;
}

/* DIR is a run (DIR/run.kv), not a directory of runs */
static bool run_is_dir(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, RUN_FILE);
	return access(path, F_OK) == 0;
}

/* --render FORMAT DIR...: the merge of several runs (merge.h) */
static int run_merge(const char *format, char *const *dirs, size_t n)
{
	struct merge m;
	char *err = NULL;
	int rc;

	if (!render_known(format))
		return opt_bad(format, "--render takes table, json, tap, junit, ktap, unexpected, "
				       "failed, summary, advise or advise-json");
	if (merge_load(dirs, n, &m, &err) < 0)
		die(CTR_EXIT_FAIL, err);
	rc = merge_render(stdout, &m, format, &err);
	merge_free(&m);
	if (rc < 0)
		die(CTR_EXIT_FAIL, err);
	if (fflush(stdout) != 0)
		die(CTR_EXIT_FAIL, (err_errno(&err, errno, "stdout"), err));
	return rc;
}

/* --- analysis mode ---------------------------------------------------------------- */

struct analysis_args {
	struct analyse_opts opts;
	const char *behaviours; /* --behaviours (or --kernel-before-6.1), else NULL */
	struct svcmap svc;
	enum review_cell_format fmt;
	bool ladder, all_flows;
	const char *svg;
	char **inputs;
	int ninputs;
};

/* the model's options for a kernel with behaviours list (behaviour.h), the release
 * deciding what the list leaves out (NULL: present, as current kernels) */
static int model_behaviours(struct ctwin_opts *ct, const char *list, const char *release,
			    char **err)
{
	int d = behaviour_has(list, release ? release : "99.0", "ignore-delayed", NULL, err);
	int w =
	    d < 0 ? -1
		  : behaviour_has(list, release ? release : "99.0", "rcvwnd-workaround", NULL, err);

	if (w < 0)
		return -1;
	ct->no_ignore_delayed = !d;
	ct->no_rcvwnd_workaround = !w;
	return 0;
}

struct input {
	char path[PATH_MAX];
	enum cap_role role;
};

static enum cap_role role_from_name(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!strncmp(base, "client", 6))
		return CAP_CLIENT;
	if (!strncmp(base, "node", 4))
		return CAP_NODE;
	if (!strncmp(base, "backend", 7))
		return CAP_BACKEND;
	return CAP_UNKNOWN;
}

/* "client=PATH" and friends; the prefix is only taken when it is one of the roles */
static void split_role(const char *arg, struct input *in)
{
	static const struct {
		const char *prefix;
		enum cap_role role;
	} roles[] = {{"client=", CAP_CLIENT},
		     {"node=", CAP_NODE},
		     {"backend=", CAP_BACKEND},
		     {"any=", CAP_UNKNOWN}};

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strncmp(arg, roles[i].prefix, strlen(roles[i].prefix))) {
			snprintf(in->path, sizeof(in->path), "%s", arg + strlen(roles[i].prefix));
			in->role = roles[i].role;
			return;
		}
	snprintf(in->path, sizeof(in->path), "%s", arg);
	in->role = role_from_name(arg);
}

static bool is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static bool exists(const char *p)
{
	struct stat st;

	return !stat(p, &st);
}

static int run_analysis(struct analysis_args *args)
{
	struct input *in = calloc((size_t)args->ninputs * 3 + 1, sizeof(*in));
	struct pcapfile *readers[ANALYSE_MAX_CAPS] = {0};
	struct report_opts ro = {.all_flows = args->all_flows};
	struct cell_evidence ev = {0};
	struct verdict_result vres;
	struct analyse *a = NULL;
	const char *run_dir = NULL;
	char *err = NULL;
	int n = 0, rc;

	if (!in)
		die(CTR_EXIT_FAIL, NULL);
	for (int i = 0; i < args->ninputs; i++) {
		const char *arg = args->inputs[i];

		if (is_dir(arg)) {
			static const char *const names[] = {"client", "node", "backend"};
			static const enum cap_role roles[] = {CAP_CLIENT, CAP_NODE, CAP_BACKEND};
			char path[PATH_MAX];
			struct kv meta;
			const char *svc;
			int found = 0;

			for (int k = 0; k < 3; k++) {
				snprintf(path, sizeof(path), "%s/%s.pcap", arg, names[k]);
				if (!exists(path))
					continue;
				snprintf(in[n].path, sizeof(in[n].path), "%s", path);
				in[n++].role = roles[k];
				found++;
			}
			if (!found)
				die(CTR_EXIT_FAIL, (err_set(&err,
							    "%s: no client.pcap, node.pcap or "
							    "backend.pcap in it",
							    arg),
						    err));
			snprintf(path, sizeof(path), "%s/meta.kv", arg);
			if (kv_load(path, &meta, NULL) == 0) {
				svc = kv_get(&meta, "service");
				if (svc && svcmap_parse(&args->svc, svc, &err) < 0)
					die(CTR_EXIT_FAIL, (err_wrap(&err, "%s", path), err));
				/* the run's node had the sysctl: model what it did */
				svc = kv_get(&meta, "workaround");
				if (svc && !strcmp(svc, "be-liberal"))
					args->opts.ct.be_liberal = true;
				/* the kernel that made the capture: its probed behaviours, else
				 * its release's; --behaviours overrides */
				if (!args->behaviours &&
				    (kv_get(&meta, "behaviours") || kv_get(&meta, "kernel")) &&
				    model_behaviours(&args->opts.ct, kv_get(&meta, "behaviours"),
						     kv_get(&meta, "kernel"), &err) < 0)
					die(CTR_EXIT_FAIL, (err_wrap(&err, "%s", path), err));
				kv_free(&meta);
			}
			run_dir = run_dir ? "" : arg; /* a verdict only for a single run */
		} else {
			split_role(arg, &in[n++]);
		}
		if (n > ANALYSE_MAX_CAPS) {
			fprintf(stderr,
				"ctreset-review: argument \"%s\" is wrong: more than %d "
				"captures\n",
				arg, ANALYSE_MAX_CAPS);
			return CTR_EXIT_USAGE;
		}
	}
	if (args->behaviours && model_behaviours(&args->opts.ct, args->behaviours, NULL, &err) < 0)
		die(CTR_EXIT_USAGE, err);
	a = analyse_new(&args->opts, &args->svc, &err);
	if (!a)
		die(CTR_EXIT_FAIL, err);
	for (int i = 0; i < n; i++) {
		readers[i] = pcapfile_open(in[i].path, &err);
		if (!readers[i] || analyse_add_capture(a, in[i].path, in[i].role, &err) < 0)
			die(CTR_EXIT_FAIL, err);
	}
	if (analyse_merge(a, readers, (size_t)n, &err) < 0)
		die(CTR_EXIT_FAIL, err);
	for (int i = 0; i < n; i++)
		pcapfile_close(readers[i]);
	analyse_finish(a);

	if (run_dir && *run_dir) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/inject.kv", run_dir);
		if (exists(path) && cell_evidence_load(&ev, run_dir, &err) == 0) {
			struct verdict_facts facts = {.injected = ev.in.injected,
						      .backend_end = ev.in.backend_end,
						      .client_end = ev.in.client_end,
						      .dropped = ev.in.dropped};

			/* the bench's verdict, judged on what the analysis found */
			analyse_verdict_facts(a, &facts);
			memset(&vres, 0, sizeof(vres));
			vres.leaked_packets = facts.leaked_packets;
			vres.client_rst = facts.client_rst;
			vres.rst_at_backend = facts.rst_at_backend;
			verdict_judge(&facts, &vres);
			ro.verdict = &vres;
			ro.expected = ev.has_expected ? ev.expected : NULL;
		}
		free(err);
		err = NULL;
	}
	if (args->fmt == REVIEW_CELL_JSON) {
		report_json(stdout, a, &ro);
	} else {
		report_text(stdout, a, &ro);
		if (args->ladder)
			report_ladder(stdout, a);
	}
	if (args->svg) {
		FILE *f = fopen(args->svg, "we");

		if (!f)
			die(CTR_EXIT_FAIL, (err_errno(&err, errno, "%s", args->svg), err));
		report_svg(f, a);
		if (fclose(f) != 0)
			die(CTR_EXIT_FAIL, (err_errno(&err, errno, "%s", args->svg), err));
	}
	switch (analyse_result(a)) {
	case RESULT_RESET:
		rc = CTR_EXIT_RESET;
		break;
	case RESULT_LEAK:
		rc = CTR_EXIT_LEAK;
		break;
	default:
		rc = CTR_EXIT_PASS;
	}
	if (ro.verdict && ro.verdict->verdict == VERDICT_RESET)
		rc = CTR_EXIT_RESET;
	analyse_free(a);
	cell_evidence_free(&ev);
	free(in);
	return rc;
}

int main(int argc, char **argv)
{
	enum {
		OPT_BEFORE_61 = 256,
		OPT_BEHAVIOURS,
		OPT_BEHAVIOURS_OF,
		OPT_LIBERAL,
		OPT_NO_PICKUP,
		OPT_NO_TIMEOUTS,
		OPT_LADDER,
		OPT_SVG,
		OPT_ALL_FLOWS,
		OPT_MAX_ROWS,
		OPT_LIVE,
		OPT_NETNS,
		OPT_DURATION,
		OPT_JSON_LINES,
		OPT_METRICS,
		OPT_MAX_FLOWS,
		OPT_RENDER_TO,
	};
	static const struct option lo[] = {
	    {"verdict", required_argument, NULL, 'v'},
	    {"format", required_argument, NULL, 'f'},
	    {"json-out", required_argument, NULL, 'J'},
	    {"record", required_argument, NULL, 'R'},
	    {"render", required_argument, NULL, 'r'},
	    {"oracle", required_argument, NULL, 'o'},
	    {"kernel", required_argument, NULL, 'k'},
	    {"service", required_argument, NULL, 's'},
	    {"kernel-before-6.1", no_argument, NULL, OPT_BEFORE_61},
	    {"behaviours", required_argument, NULL, OPT_BEHAVIOURS},
	    {"behaviours-of", required_argument, NULL, OPT_BEHAVIOURS_OF},
	    {"be-liberal", no_argument, NULL, OPT_LIBERAL},
	    {"no-pickup", no_argument, NULL, OPT_NO_PICKUP},
	    {"no-timeouts", no_argument, NULL, OPT_NO_TIMEOUTS},
	    {"ladder", no_argument, NULL, OPT_LADDER},
	    {"svg", required_argument, NULL, OPT_SVG},
	    {"all-flows", no_argument, NULL, OPT_ALL_FLOWS},
	    {"max-rows", required_argument, NULL, OPT_MAX_ROWS},
	    {"live", required_argument, NULL, OPT_LIVE},
	    {"netns", required_argument, NULL, OPT_NETNS},
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"json-lines", required_argument, NULL, OPT_JSON_LINES},
	    {"metrics", required_argument, NULL, OPT_METRICS},
	    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
	    {"render-to", required_argument, NULL, OPT_RENDER_TO},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct analysis_args args = {0};
	struct live_opts live = {0};
	bool live_opt = false;
	const char *dir = NULL;
	enum review_cell_format fmt = REVIEW_CELL_TEXT;
	const char *json_out = NULL, *record_out = NULL, *render_fmt = NULL, *oracle = NULL;
	const char *kernel = NULL, *behaviours_of = NULL;
	const char *render_to[RENDER_TO_MAX];
	size_t n_render_to = 0;
	bool analysis_opt = false;
	char *err = NULL, *end;
	unsigned long v;
	int c;

	opterr = 0; /* a refused option is reported in one line below */
	while ((c = getopt_long(argc, argv, "hs:", lo, NULL)) != -1) {
		switch (c) {
		case 'v':
			dir = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = REVIEW_CELL_TEXT;
			else if (!strcmp(optarg, "kv"))
				fmt = REVIEW_CELL_KV;
			else if (!strcmp(optarg, "json"))
				fmt = REVIEW_CELL_JSON;
			else {
				fprintf(stderr,
					"ctreset-review: argument \"%s\" is wrong: --format "
					"is text, kv or json\n",
					optarg);
				return CTR_EXIT_USAGE;
			}
			break;
		case 'J':
			json_out = optarg;
			break;
		case 'R':
			record_out = optarg;
			break;
		case 'r':
			render_fmt = optarg;
			break;
		case OPT_RENDER_TO:
			if (n_render_to == RENDER_TO_MAX)
				return opt_bad(optarg, "at most " RENDER_TO_MAX_STR " --render-to");
			render_to[n_render_to++] = optarg;
			break;
		case 'o':
			oracle = optarg;
			break;
		case 'k':
			kernel = optarg;
			break;
		case 's':
			if (svcmap_parse(&args.svc, optarg, &err) < 0)
				return opt_bad(optarg, err);
			analysis_opt = true;
			break;
		case OPT_BEFORE_61:
			args.behaviours = "ignore-delayed=0,rcvwnd-workaround=0";
			break;
		case OPT_BEHAVIOURS:
			if (behaviours_check(optarg, &err) < 0)
				return opt_bad(optarg, err);
			args.behaviours = optarg;
			break;
		case OPT_BEHAVIOURS_OF:
			behaviours_of = optarg;
			break;
		case OPT_LIBERAL:
			args.opts.ct.be_liberal = true;
			analysis_opt = true;
			break;
		case OPT_NO_PICKUP:
			args.opts.ct.no_pickup = true;
			analysis_opt = true;
			break;
		case OPT_NO_TIMEOUTS:
			args.opts.ct.no_timeouts = true;
			analysis_opt = true;
			break;
		case OPT_LADDER:
			args.ladder = true;
			analysis_opt = true;
			break;
		case OPT_SVG:
			args.svg = optarg;
			analysis_opt = true;
			break;
		case OPT_ALL_FLOWS:
			args.all_flows = true;
			analysis_opt = true;
			break;
		case OPT_MAX_ROWS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-' || v < 1 || v > 1000000)
				return opt_bad(optarg, "--max-rows takes a number 1-1000000");
			args.opts.max_rows = (unsigned)v;
			analysis_opt = true;
			break;
		case OPT_LIVE:
			if (live_parse_ifaces(&live, optarg, &err) < 0)
				return opt_bad(optarg, err);
			break;
		case OPT_NETNS:
			live.netns = optarg;
			live_opt = true;
			break;
		case OPT_DURATION:
			errno = 0;
			live.duration_s = strtod(optarg, &end);
			if (errno || *end || !*optarg || !(live.duration_s > 0) ||
			    live.duration_s > 1e7)
				return opt_bad(optarg, "--duration takes seconds, more than 0");
			live_opt = true;
			break;
		case OPT_JSON_LINES:
			live.json_lines = optarg;
			live_opt = true;
			break;
		case OPT_METRICS:
			live.metrics = optarg;
			live_opt = true;
			break;
		case OPT_MAX_FLOWS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-' || v < 10 || v > 10000000)
				return opt_bad(optarg, "--max-flows takes a number 10-10000000");
			live.max_flows = (unsigned)v;
			live_opt = true;
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
	if (live.nifaces || live_opt) {
		struct utsname u;

		if (!live.nifaces || oracle || kernel || dir || render_fmt || record_out ||
		    json_out || behaviours_of || args.ladder || args.svg || args.all_flows ||
		    args.opts.max_rows || optind != argc)
			return opt_bad(live.nifaces ? live.ifaces[0] : "--netns",
				       "--live IFACE[,IFACE...] takes --netns, --duration, "
				       "--json-lines, --metrics, --max-flows, -s and the model's "
				       "options, nothing else");
		if (model_behaviours(&args.opts.ct, args.behaviours,
				     uname(&u) == 0 ? u.release : NULL, &err) < 0)
			return opt_bad(args.behaviours, err);
		live.ct = args.opts.ct;
		live.svc = args.svc.n ? &args.svc : NULL;
		c = live_cli(&live);
		svcmap_free(&args.svc);
		return c;
	}
	if (behaviours_of) {
		if (oracle || kernel || dir || render_fmt || record_out || json_out ||
		    analysis_opt || optind != argc)
			return opt_bad(
			    behaviours_of,
			    "--behaviours-of RELEASE [--behaviours LIST] takes nothing else");
		return run_behaviours_of(behaviours_of, args.behaviours);
	}
	if (oracle || kernel) {
		if (!oracle || dir || render_fmt || record_out || json_out || analysis_opt ||
		    optind != argc)
			return opt_bad(oracle ? oracle : kernel,
				       "--oracle FILE [--kernel VERSION] [--behaviours LIST] takes "
				       "nothing else");
		return run_oracle(oracle, kernel, args.behaviours);
	}
	if (n_render_to && !render_fmt)
		return opt_bad(render_to[0], "--render-to is for --render FORMAT RUN_DIR");
	if (render_fmt) {
		if (dir || record_out || json_out || analysis_opt || optind >= argc)
			return opt_bad(render_fmt,
				       "--render FORMAT takes RUN_DIR or DIR..., nothing else");
		/* one run: its own report (a shard's too); else the merge */
		if (optind == argc - 1 && run_is_dir(argv[optind]))
			return run_render(render_fmt, render_to, n_render_to, argv[optind]);
		if (n_render_to)
			return opt_bad(render_to[0], "--render-to takes one RUN_DIR, not a merge");
		return run_merge(render_fmt, argv + optind, (size_t)(argc - optind));
	}
	if (record_out && !dir)
		return opt_bad(record_out, "--record is for --verdict");
	if (!dir) {
		if (optind == argc) {
			usage(stderr);
			return CTR_EXIT_USAGE;
		}
		if (fmt == REVIEW_CELL_KV)
			return opt_bad("kv",
				       "--format kv is for --verdict; the analysis writes text "
				       "or json");
		if (json_out)
			return opt_bad(json_out, "--json-out is for --verdict");
		args.fmt = fmt;
		args.inputs = argv + optind;
		args.ninputs = argc - optind;
		c = run_analysis(&args);
		svcmap_free(&args.svc);
		return c;
	}
	if (optind != argc || analysis_opt || (json_out && !dir)) {
		fprintf(stderr, "ctreset-review: %s (see --help)\n",
			optind != argc ? "unexpected argument with --verdict"
				       : "analysis options do not go with --verdict");
		return CTR_EXIT_USAGE;
	}
	if (review_cell(
		dir,
		&(struct review_cell_out){
		    .format = fmt, .out = stdout, .json_path = json_out, .record_path = record_out},
		&err) < 0)
		die(CTR_EXIT_FAIL, err);
	return CTR_EXIT_PASS;
}
