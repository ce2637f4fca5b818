/* ctreset-inject: finds a live flow through a service VIP, learns its sequence state, and
 * causes one out-of-window event in it from the backend pod's namespace, capturing at the
 * client pod, the DNAT node and the backend pod as it goes.
 *
 *   1. captures open in each namespace (before the flow exists, to see its handshake);
 *   2. the workload command after "--" starts in the client namespace;
 *   3. the flow is named by the DNAT node's conntrack table (libnl-nf-3): the entry whose
 *      original destination is the VIP, keyed by its full 4-tuple;
 *   4. its live seq/ack/window comes from the backend-side capture (with several
 *      --backend-ns, the capture of the backend whose handshake it was);
 *   5. the trigger's segment is crafted with libnet and sent from the backend namespace;
 *   6. it waits, bounded, until the outcome is visible in the captures, stops the workload
 *      command (or, with --wait-command, lets it finish: a download's own end is part of
 *      the outcome) and writes inject.kv beside the pcaps. The verdict is ctreset-review's. */
#include "live/capture.h"
#include "base/clock.h"
#include "live/craft.h"
#include "live/ct.h"
#include "base/err.h"
#include "base/exitcodes.h"
#include "base/kv.h"
#include "base/opt.h"
#include "live/learn.h"
#include "live/link.h"
#include "live/netns.h"
#include "base/seq.h"
#include "live/trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS 64
#define MAX_STAT_NS 4
#define MAX_BACKENDS 8
#define MAX_RESET_NS 8
#define MAX_SERVER_ARGS 32
#define CT_POLL_MS 2

/* captures: the client, the node, then one per backend (cap[CAP_BACKEND + k]) */
enum cap_point { CAP_CLIENT, CAP_NODE, CAP_BACKEND };
#define MAX_CAPS (CAP_BACKEND + MAX_BACKENDS)

struct opts {
	const char *client_ns, *node_ns;
	const char *backend_ns[MAX_BACKENDS];
	int n_backends;
	const char *client_if, *node_if, *backend_if;
	const char *stat_ns[MAX_STAT_NS];
	int n_stat_ns;
	const char *flush_ns[MAX_STAT_NS];
	int n_flush_ns;
	const char *reset_ns[MAX_RESET_NS];
	int n_reset_ns;
	char *server_argv[MAX_SERVER_ARGS + 1]; /* run in the first backend namespace */
	int n_server_args;
	struct ctr_endpoint vip;
	struct ctr_addr client_ip; /* family 0: the client interface's own address */
	enum trigger trigger;
	const char *out;
	unsigned flow_timeout_ms, settle_ms, quiet_ms, buffer_kib;
	unsigned wait_cmd_ms;  /* 0: stop the command once settled */
	unsigned delay_ms;     /* follow the learned flow this long before injecting */
	unsigned snaplen;      /* 0: the capture default (an MTU-sized frame) */
	const char *filter;    /* BPF expression for every capture, NULL: none */
	unsigned allow_ns;     /* enum netns_allow: where flushes and deletions may happen */
	unsigned ct_timeout_s; /* nf_conntrack_tcp_timeout_established on the nodes, 0: kept */
	char **cmd;	       /* workload to run in the client namespace, NULL-terminated */
};

struct run {
	const struct opts *o;
	int home_fd, node_fd; /* namespace fds: where we started, the DNAT node */
	struct capture *cap[MAX_CAPS];
	struct ctr_addr client_ip, backend_ip[MAX_BACKENDS];
	struct craft *craft[MAX_BACKENDS];  /* a raw socket in each backend's namespace */
	struct learn_flow flows[MAX_FLOWS]; /* handshakes seen at a backend, not yet named */
	int flow_backend[MAX_FLOWS];	    /* which backend saw each one */
	int n_flows;
	struct learn_flow *flow;   /* the one conntrack named */
	int bk;			   /* its backend */
	struct learn_flow learned; /* its state when the event was caused: the record's */
	struct ct_flow ct;
	struct craft_segment probe;
	char explain[256];
	bool injected;
	/* what the settle phase has seen */
	bool probe_left, probe_natted, client_rst, rst_at_backend;
	unsigned leaks;
	uint64_t t_start, t_reset, t_ready, t_flow, t_inject, t_leak, t_last_event;
	const char *settled_by;
	pid_t cmd_pid;
	int cmd_status;
	bool cmd_exited, cmd_stopped; /* stopped: it had to be sent SIGTERM */
	uint64_t t_settled, t_cmd_end;
	uint64_t invalid_before[MAX_STAT_NS], invalid_after[MAX_STAT_NS];
	bool invalid_ok[MAX_STAT_NS];
	unsigned flushed[MAX_STAT_NS], flush_left[MAX_STAT_NS];
	unsigned reset_killed[MAX_RESET_NS];
	pid_t srv_pid;
	int srv_status;
	bool srv_exited, srv_stopped;
	uint64_t t_server;
	/* natural triggers: the nodes' timeout before (restored), conntrack -F's account, the
	 * idle gap seen, and which entries the node held for the flow afterwards */
	long old_timeout[MAX_STAT_NS];
	bool timeout_set[MAX_STAT_NS];
	int flush_status;
	char flush_out[160];
	uint64_t idle_ms;
	unsigned ct_pickup, ct_renat;
	char pickup_line[300];
	pid_t ev_pid;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ctreset-inject --client-ns NS --node-ns NS --backend-ns NS... --vip IP:PORT\n"
	    "                      --out DIR [options] [-- COMMAND [ARG...]]\n"
	    "\n"
	    "Finds the flow to the service VIP in the DNAT node's conntrack table, learns its\n"
	    "live sequence state from a capture on the backend pod, and sends one crafted\n"
	    "out-of-window event from the backend pod's namespace. COMMAND (the client\n"
	    "workload) is started inside the client namespace once the captures are live, and\n"
	    "stopped with SIGTERM when the outcome is captured (with --wait-command, once it\n"
	    "has finished by itself or the bound has passed). Writes DIR/client.pcap,\n"
	    "DIR/backend.pcap, DIR/node.pcap (with --node-if) and DIR/inject.kv. With several\n"
	    "--backend-ns (a service with several endpoints), each backend is captured\n"
	    "(backend.pcap, backend1.pcap, ...), the first client flow to any of them is taken\n"
	    "and inject.kv's capture.backend names its backend's capture.\n"
	    "\n"
	    "options:\n"
	    "  --trigger NAME       event to cause (default seq-above):\n");
	for (int t = 0; t < TRIGGER_COUNT; t++)
		fprintf(f, "                         %-16s %s\n", trigger_info(t)->name,
			trigger_info(t)->summary);
	fprintf(
	    f,
	    "  --client-if IF       client pod interface (default eth0); an nflog:GROUP\n"
	    "                       device captures what an NFLOG rule logs instead (the\n"
	    "                       host-network client's view after its INPUT hooks)\n"
	    "  --client-ip IP       the client's address, when --client-if has none\n"
	    "  --backend-if IF      backend pod interface (default eth0)\n"
	    "  --node-if IF         also capture on this interface of the DNAT node\n"
	    "  --stat-ns NS         report this namespace's conntrack 'invalid' count too\n"
	    "                       (repeatable; the node namespace is always reported)\n"
	    "  --flush-ct NS        empty NS's conntrack table before anything else, as on a\n"
	    "                       new node (repeatable; inject.kv records what it removed)\n"
	    "  --allow-foreign-netns\n"
	    "                       let --flush-ct, and ct-entry-lost's deletion in --node-ns,\n"
	    "                       act on a namespace no ctreset run created (e.g. a real\n"
	    "                       pod's /proc/PID/ns/net). Without it both are refused\n"
	    "                       (exit 2, nothing changed) unless the namespace is one of\n"
	    "                       a run's /run/netns/ctr-XXXXXX-* (owner in /run/ctreset)\n"
	    "  --allow-host-netns   let them act on the host's namespace too (PID 1's, the\n"
	    "                       initial one, or the one ctreset-inject runs in): the\n"
	    "                       host's own table (refused otherwise, even with the above)\n"
	    "  --reset-ns NS        first of all, SIGKILL every process in NS and wait until\n"
	    "                       they are gone (repeatable: a reused topology made as new;\n"
	    "                       inject.kv records how many)\n"
	    "  --server-arg ARG     one argument of the backend's server command (repeatable, in\n"
	    "                       order): started in the first --backend-ns once the captures\n"
	    "                       are live, before COMMAND; it must write a line to fd 3 once\n"
	    "                       it listens. Stopped with SIGTERM after COMMAND, and waited\n"
	    "                       for, so its record is on disk when the injector exits\n"
	    "  --flow-timeout MS    bound for finding and learning the flow, from COMMAND's\n"
	    "                       start (default 3000)\n"
	    "  --settle MS          bound for the outcome after injection (default 1000)\n"
	    "  --quiet MS           outcome is final after MS with nothing new (default 30)\n"
	    "  --capture-buffer KIB kernel ring per capture (default 1024; raise it for bulk\n"
	    "                       workloads, inject.kv reports drops)\n"
	    "  --snaplen BYTES      keep this much of each frame (64..65535; default 1600, a\n"
	    "                       whole MTU-sized frame); 128 keeps the headers of a bulk\n"
	    "                       transfer\n"
	    "  --capture-filter BPF only packets matching this pcap-filter(7) expression, on\n"
	    "                       every capture (e.g. \"tcp and host CLIENT-IP\" when other\n"
	    "                       clients share the backend)\n"
	    "  --delay MS           follow the learned flow MS before injecting, so the event\n"
	    "                       lands later in it (fails if the flow closes meanwhile)\n"
	    "  --wait-command MS    once settled, let COMMAND run up to MS more to finish by\n"
	    "                       itself (a download completing or failing) before SIGTERM\n"
	    "  --ct-timeout SEC     nf_conntrack_tcp_timeout_established in the node and\n"
	    "                       --stat-ns namespaces (1..86400; idle-expiry's default 2,\n"
	    "                       kube-proxy's 86400), restored when the run ends. idle-expiry\n"
	    "                       waits for the flow to idle that long (the workload pauses:\n"
	    "                       ctreset-workload server --pause-after/--pause) and for the\n"
	    "                       backend's next segment; a flow that never idles is an error\n"
	    "  -h, --help           this text\n"
	    "exit: 0 injected, 1 could not find/learn/inject (inject.kv says why), 2 usage or a\n"
	    "refused namespace (above)\n");
}

static void bad_arg(const char *arg, const char *why)
{
	fprintf(stderr, "ctreset-inject: argument \"%s\" is wrong: %s\n", arg, why);
	exit(CTR_EXIT_USAGE);
}

static unsigned parse_range(const char *s, const char *what, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || s[0] == '-' || v < min || v > max)
		bad_arg(s, what);
	return (unsigned)v;
}

static unsigned parse_ms(const char *s, const char *what)
{
	return parse_range(s, what, 1, 60000);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"client-ns", required_argument, NULL, 'C'},
	    {"node-ns", required_argument, NULL, 'N'},
	    {"backend-ns", required_argument, NULL, 'B'},
	    {"client-if", required_argument, NULL, 'c'},
	    {"client-ip", required_argument, NULL, 'I'},
	    {"node-if", required_argument, NULL, 'n'},
	    {"backend-if", required_argument, NULL, 'b'},
	    {"stat-ns", required_argument, NULL, 's'},
	    {"flush-ct", required_argument, NULL, 'X'},
	    {"reset-ns", required_argument, NULL, 'R'},
	    {"server-arg", required_argument, NULL, 'A'},
	    {"vip", required_argument, NULL, 'v'},
	    {"trigger", required_argument, NULL, 't'},
	    {"out", required_argument, NULL, 'o'},
	    {"flow-timeout", required_argument, NULL, 'F'},
	    {"settle", required_argument, NULL, 'S'},
	    {"quiet", required_argument, NULL, 'Q'},
	    {"capture-buffer", required_argument, NULL, 'K'},
	    {"snaplen", required_argument, NULL, 'L'},
	    {"capture-filter", required_argument, NULL, 'P'},
	    {"delay", required_argument, NULL, 'D'},
	    {"wait-command", required_argument, NULL, 'W'},
	    {"allow-foreign-netns", no_argument, NULL, 0x100},
	    {"allow-host-netns", no_argument, NULL, 0x101},
	    {"ct-timeout", required_argument, NULL, 0x102},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c, t;

	*o = (struct opts){.client_if = "eth0",
			   .backend_if = "eth0",
			   .trigger = TRIGGER_SEQ_ABOVE,
			   .flow_timeout_ms = 3000,
			   .settle_ms = 1000,
			   .quiet_ms = 30};
	opterr = 0; /* a refused option is reported in one line below */
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'C':
			o->client_ns = optarg;
			break;
		case 'N':
			o->node_ns = optarg;
			break;
		case 'B':
			if (o->n_backends == MAX_BACKENDS)
				bad_arg(optarg, "too many --backend-ns (at most 8)");
			o->backend_ns[o->n_backends++] = optarg;
			break;
		case 'c':
			o->client_if = optarg;
			break;
		case 'I':
			if (addr_parse(optarg, &o->client_ip) < 0)
				bad_arg(optarg, "--client-ip expects an IPv4 or IPv6 address");
			break;
		case 'n':
			o->node_if = optarg;
			break;
		case 'b':
			o->backend_if = optarg;
			break;
		case 's':
			if (o->n_stat_ns == MAX_STAT_NS - 1)
				bad_arg(optarg, "too many --stat-ns");
			o->stat_ns[o->n_stat_ns++] = optarg;
			break;
		case 'X':
			if (o->n_flush_ns == MAX_STAT_NS)
				bad_arg(optarg, "too many --flush-ct");
			o->flush_ns[o->n_flush_ns++] = optarg;
			break;
		case 'R':
			if (o->n_reset_ns == MAX_RESET_NS)
				bad_arg(optarg, "too many --reset-ns (at most 8)");
			o->reset_ns[o->n_reset_ns++] = optarg;
			break;
		case 'A':
			if (o->n_server_args == MAX_SERVER_ARGS)
				bad_arg(optarg, "too many --server-arg (at most 32)");
			o->server_argv[o->n_server_args++] = optarg;
			break;
		case 'v':
			if (endpoint_parse(optarg, &o->vip) < 0)
				bad_arg(optarg, "--vip expects IP:PORT or [IPv6]:PORT");
			break;
		case 't':
			t = trigger_parse(optarg);
			if (t < 0)
				bad_arg(optarg, "unknown trigger (see --help)");
			o->trigger = (enum trigger)t;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'F':
			o->flow_timeout_ms = parse_ms(optarg, "--flow-timeout must be 1..60000");
			break;
		case 'S':
			o->settle_ms = parse_ms(optarg, "--settle must be 1..60000");
			break;
		case 'Q':
			o->quiet_ms = parse_ms(optarg, "--quiet must be 1..60000");
			break;
		case 'K':
			o->buffer_kib = parse_ms(optarg, "--capture-buffer must be 1..60000 KiB");
			break;
		case 'L':
			o->snaplen = parse_range(optarg, "--snaplen must be 64..65535", 64, 65535);
			break;
		case 'P':
			o->filter = optarg;
			break;
		case 'D':
			o->delay_ms = parse_range(optarg, "--delay must be 0..60000", 0, 60000);
			break;
		case 'W':
			o->wait_cmd_ms = parse_ms(optarg, "--wait-command must be 1..60000");
			break;
		case 0x100: /* --allow-foreign-netns */
			o->allow_ns |= NETNS_ALLOW_FOREIGN;
			break;
		case 0x101: /* --allow-host-netns */
			o->allow_ns |= NETNS_ALLOW_HOST;
			break;
		case 0x102:
			o->ct_timeout_s =
			    parse_range(optarg, "--ct-timeout must be 1..86400 seconds", 1, 86400);
			break;
		case 'h':
			/* the text is over a pipe buffer's worth of stdio: "--help | grep -q" must
			 * not die of SIGPIPE after grep found its line (bench/load checks a
			 * trigger that way, with pipefail) */
			signal(SIGPIPE, SIG_IGN);
			usage(stdout);
			exit(CTR_EXIT_PASS);
		default:
			fprintf(stderr,
				"ctreset-inject: argument \"%s\" is wrong: unknown option or "
				"missing value (see --help)\n",
				opt_refused(argc, argv));
			exit(CTR_EXIT_USAGE);
		}
	}
	if (!o->client_ns || !o->node_ns || !o->n_backends || !o->vip.addr.family || !o->out) {
		fprintf(stderr, "ctreset-inject: --client-ns, --node-ns, --backend-ns, --vip and "
				"--out are required (see --help)\n");
		exit(CTR_EXIT_USAGE);
	}
	if (o->client_ip.family && o->client_ip.family != o->vip.addr.family)
		bad_arg(addr_str(&o->client_ip, (char[CTR_ADDRSTRLEN]){0}),
			"--client-ip and --vip must be of one family");
	o->stat_ns[o->n_stat_ns++] = o->node_ns; /* always last */
	if (o->trigger == TRIGGER_IDLE_EXPIRY && !o->ct_timeout_s)
		o->ct_timeout_s = 2;
	o->cmd = optind < argc ? argv + optind : NULL;
}

/* refuses (exit 2, before anything is changed) a flush or a deletion in a namespace no
 * ctreset run created, or in PID 1's, unless --allow-foreign-netns/--allow-host-netns */
static void check_namespaces(const struct opts *o)
{
	char *err = NULL;

	for (int i = 0; i < o->n_flush_ns; i++)
		if (netns_check_owned(o->flush_ns[i], "flush the conntrack table of", o->allow_ns,
				      &err) < 0)
			die(CTR_EXIT_USAGE, err);
	for (int i = 0; i < o->n_reset_ns; i++)
		if (netns_check_owned(o->reset_ns[i], "kill every process (--reset-ns) in",
				      o->allow_ns, &err) < 0)
			die(CTR_EXIT_USAGE, err);
	if (o->trigger == TRIGGER_CT_ENTRY_LOST &&
	    netns_check_owned(o->node_ns, "delete a conntrack entry (ct-entry-lost) in",
			      o->allow_ns, &err) < 0)
		die(CTR_EXIT_USAGE, err);
	if (o->trigger == TRIGGER_CT_FLUSH &&
	    netns_check_owned(o->node_ns, "run conntrack -F (ct-flush) in", o->allow_ns, &err) < 0)
		die(CTR_EXIT_USAGE, err);
	for (int i = 0; o->ct_timeout_s && i < o->n_stat_ns; i++)
		if (netns_check_owned(o->stat_ns[i], "write a conntrack timeout (--ct-timeout) in",
				      o->allow_ns, &err) < 0)
			die(CTR_EXIT_USAGE, err);
}

/* Test hook, as ctr_fault_point in topology/lib.sh: with CTR_FAULT_AT=NAME, the process
 * reaching point NAME writes "NAME PID" to $CTR_FAULT_FILE and stops itself, so a test can
 * SIGKILL the run at exactly that point (tests/integration/test_faults.sh). */
static void fault_point(const char *name)
{
	const char *at = getenv("CTR_FAULT_AT"), *file = getenv("CTR_FAULT_FILE");
	FILE *f;

	if (!at || !file || strcmp(at, name))
		return;
	f = fopen(file, "we");
	if (f) {
		fprintf(f, "%s %d\n", name, (int)getpid());
		fclose(f);
	}
	raise(SIGSTOP);
}

/* --- outcome bookkeeping ---------------------------------------------------------------- */

static bool is_probe(const struct run *r, const struct ctr_pkt *p)
{
	return r->injected && trigger_info(r->o->trigger)->crafts && p->seq == r->probe.seq &&
	       p->payload_len == r->probe.payload_len && p->flags == r->probe.flags;
}

static void see_client(struct run *r, const struct ctr_pkt *p)
{
	const struct ctr_tuple *rt = &r->ct.reply; /* backend -> client */

	if (!r->flow || !r->injected)
		return;
	if (endpoint_eq(&p->tuple.src, &rt->src) && endpoint_eq(&p->tuple.dst, &rt->dst)) {
		if (!r->leaks++)
			r->t_leak = now_ms();
		r->t_last_event = now_ms();
	} else if (is_probe(r, p) && endpoint_eq(&p->tuple.src, &r->ct.orig.dst)) {
		r->probe_natted = true;
		r->t_last_event = now_ms();
	} else if ((p->flags & TCPF_RST) && endpoint_eq(&p->tuple.src, &rt->dst) &&
		   endpoint_eq(&p->tuple.dst, &rt->src)) {
		r->client_rst = true;
		r->t_last_event = now_ms();
	}
}

static void see_backend(struct run *r, int k, const struct ctr_pkt *p)
{
	if (!r->flow) {
		/* a client's SYN to this backend starts a candidate flow */
		if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN &&
		    addr_eq(&p->tuple.dst.addr, &r->backend_ip[k]) && r->n_flows < MAX_FLOWS) {
			struct ctr_tuple s2c = tuple_reverse(&p->tuple);

			for (int i = 0; i < r->n_flows; i++)
				if (r->flow_backend[i] == k && tuple_eq(&r->flows[i].tuple, &s2c))
					goto known;
			r->flow_backend[r->n_flows] = k;
			learn_init(&r->flows[r->n_flows++], &s2c);
		}
	known:
		for (int i = 0; i < r->n_flows; i++)
			if (r->flow_backend[i] == k && learn_segment(&r->flows[i], p))
				break;
		return;
	}
	if (k != r->bk)
		return;
	learn_segment(r->flow, p);
	if (!r->injected)
		return;
	if (is_probe(r, p)) {
		r->probe_left = true;
		r->t_last_event = now_ms();
	} else if ((p->flags & TCPF_RST) && endpoint_eq(&p->tuple.src, &r->ct.reply.dst) &&
		   endpoint_eq(&p->tuple.dst, &r->ct.reply.src)) {
		r->rst_at_backend = true;
		r->t_last_event = now_ms();
	}
}

static void on_segment(void *ctx, const struct capture *c, const struct ctr_pkt *p)
{
	struct run *r = ctx;

	if (c == r->cap[CAP_CLIENT]) {
		see_client(r, p);
		return;
	}
	for (int k = 0; k < r->o->n_backends; k++)
		if (c == r->cap[CAP_BACKEND + k])
			see_backend(r, k, p);
}

/* --- phases ------------------------------------------------------------------------------- */

/* client, node, backend, backend1, backend2, ...: one backend keeps the plain name */
static void cap_name(int i, char *buf, size_t n)
{
	if (i < CAP_BACKEND)
		snprintf(buf, n, "%s", i == CAP_CLIENT ? "client" : "node");
	else if (i == CAP_BACKEND)
		snprintf(buf, n, "backend");
	else
		snprintf(buf, n, "backend%d", i - CAP_BACKEND);
}

static int open_captures(struct run *r, char **err)
{
	const struct opts *o = r->o;
	const char *ns[MAX_CAPS] = {o->client_ns, o->node_ns};
	const char *ifn[MAX_CAPS] = {o->client_if, o->node_if};
	char path[PATH_MAX], name[32];

	for (int k = 0; k < o->n_backends; k++) {
		ns[CAP_BACKEND + k] = o->backend_ns[k];
		ifn[CAP_BACKEND + k] = o->backend_if;
	}
	for (int i = 0; i < CAP_BACKEND + o->n_backends; i++) {
		if (!ifn[i])
			continue;
		if (netns_enter(ns[i], err) < 0)
			return -1;
		cap_name(i, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s.pcap", o->out, name);
		r->cap[i] = capture_open_opts(name, ifn[i], path,
					      &(struct capture_opts){.buffer_kib = o->buffer_kib,
								     .snaplen = o->snaplen,
								     .filter = o->filter},
					      err);
		if (!r->cap[i])
			return -1;
		if (i == CAP_CLIENT && o->client_ip.family)
			r->client_ip = o->client_ip;
		else if (i == CAP_CLIENT &&
			 link_address(ifn[i], o->vip.addr.family, &r->client_ip, err) < 0)
			return err_wrap(err, "client namespace %s", ns[i]);
		if (i >= CAP_BACKEND) {
			int k = i - CAP_BACKEND;

			if (link_address(ifn[i], o->vip.addr.family, &r->backend_ip[k], err) < 0)
				return err_wrap(err, "backend namespace %s", ns[i]);
			/* the raw socket belongs to the backend namespace from here on */
			r->craft[k] = craft_new(o->vip.addr.family, true, err);
			if (!r->craft[k])
				return -1;
		}
	}
	r->node_fd = netns_open(o->node_ns, err);
	if (r->node_fd < 0)
		return -1;
	return netns_set(r->home_fd, "home", err);
}

static void read_invalid(struct run *r, uint64_t *into)
{
	for (int i = 0; i < r->o->n_stat_ns; i++) {
		char *e = NULL;

		r->invalid_ok[i] =
		    netns_enter(r->o->stat_ns[i], &e) == 0 && ct_invalid_count(&into[i], &e) == 0;
		free(e);
	}
	netns_set(r->home_fd, "home", NULL);
}

static int start_command(struct run *r, char **err)
{
	int client_fd;

	if (!r->o->cmd)
		return 0;
	client_fd = netns_open(r->o->client_ns, err);
	if (client_fd < 0)
		return -1;
	r->cmd_pid = fork();
	if (r->cmd_pid < 0) {
		close(client_fd);
		return err_errno(err, errno, "fork");
	}
	if (r->cmd_pid == 0) {
		if (netns_set(client_fd, r->o->client_ns, NULL) < 0)
			_exit(127);
		setpgid(0, 0);
		execvp(r->o->cmd[0], r->o->cmd);
		fprintf(stderr, "ctreset-inject: running %s: %s\n", r->o->cmd[0], strerror(errno));
		_exit(127);
	}
	close(client_fd);
	return 0;
}

static bool command_reaped(struct run *r)
{
	if (!r->cmd_exited && waitpid(r->cmd_pid, &r->cmd_status, WNOHANG) == r->cmd_pid) {
		r->cmd_exited = true;
		r->t_cmd_end = now_ms();
	}
	return r->cmd_exited;
}

/* SIGTERM to pid (and to its process group too with group_term), up to grace_ms for it
 * to exit, then SIGKILL to the group and pid; reaps it into *status. Returns whether it
 * was reaped. */
static bool terminate_child(pid_t pid, bool group_term, unsigned grace_ms, int *status)
{
	uint64_t until;

	if (group_term)
		kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	until = now_ms() + grace_ms;
	while (now_ms() < until) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		poll(NULL, 0, 1);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	return waitpid(pid, status, 0) == pid;
}

static void stop_command(struct run *r)
{
	if (r->cmd_pid <= 0 || command_reaped(r))
		return;
	r->cmd_stopped = true;
	if (terminate_child(r->cmd_pid, true, 1000, &r->cmd_status))
		r->cmd_exited = true;
}

/* a process that still runs (a zombie's sockets are closed already) */
static bool alive(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* --reset-ns: kills every process whose network namespace is one of them (as `ip netns
 * pids` finds them: /proc/PID/ns/net is that namespace) and waits, bounded, until none
 * runs. What ctr_reset_topology did with an ip exec, a kill and no wait. */
static int reset_namespaces(struct run *r, char **err)
{
	struct stat want[MAX_RESET_NS];
	pid_t killed[1024];
	unsigned n_killed = 0;
	uint64_t until;
	struct dirent *de;
	DIR *d;

	/* only a bench namespace, by name; check_namespaces() has already refused the host's
	 * and any namespace no run created (the guard of --flush-ct and ct-entry-lost) */
	for (int i = 0; i < r->o->n_reset_ns; i++) {
		const char *n = r->o->reset_ns[i];
		char path[PATH_MAX];

		if (strncmp(n, "ctr-", 4) || strchr(n, '/'))
			return err_set(err, "--reset-ns %s: only a bench namespace (ctr-*) by name",
				       n);
		snprintf(path, sizeof(path), "/run/netns/%s", n);
		if (stat(path, &want[i]) < 0)
			return err_errno(err, errno, "namespace %s", path);
	}
	d = opendir("/proc");
	if (!d)
		return err_errno(err, errno, "/proc");
	while ((de = readdir(d))) {
		char path[64], *end;
		long pid = strtol(de->d_name, &end, 10);
		struct stat st;

		if (*end || pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st) < 0)
			continue;
		for (int i = 0; i < r->o->n_reset_ns; i++)
			if (st.st_dev == want[i].st_dev && st.st_ino == want[i].st_ino) {
				if (kill((pid_t)pid, SIGKILL) == 0 && n_killed < 1024)
					killed[n_killed++] = (pid_t)pid;
				r->reset_killed[i]++;
				break;
			}
	}
	closedir(d);
	until = now_ms() + 2000;
	for (unsigned k = 0; k < n_killed; k++)
		while (alive(killed[k])) {
			if (now_ms() >= until)
				return err_set(
				    err,
				    "pid %d in a --reset-ns namespace survived SIGKILL for 2 s",
				    (int)killed[k]);
			poll(NULL, 0, 1);
		}
	return 0;
}

/* --server-arg: the backend's server, in the first backend namespace, as a child in a
 * process group of its own; returns once it wrote its ready line on fd 3 */
static int start_server(struct run *r, char **err)
{
	const struct opts *o = r->o;
	int fd, pipefd[2], rc;
	struct pollfd pfd;
	char c;

	if (!o->n_server_args)
		return 0;
	fd = netns_open(o->backend_ns[0], err);
	if (fd < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		close(fd);
		return err_errno(err, errno, "pipe");
	}
	r->srv_pid = fork();
	if (r->srv_pid < 0) {
		close(fd);
		close(pipefd[0]);
		close(pipefd[1]);
		return err_errno(err, errno, "fork");
	}
	if (r->srv_pid == 0) {
		/* the ready pipe on fd 3, open across the exec (dup2 onto itself keeps CLOEXEC) */
		if (netns_set(fd, o->backend_ns[0], NULL) < 0 ||
		    (pipefd[1] == 3 ? fcntl(3, F_SETFD, 0) : dup2(pipefd[1], 3)) < 0)
			_exit(127);
		setpgid(0, 0);
		execvp(o->server_argv[0], o->server_argv);
		fprintf(stderr, "ctreset-inject: running %s: %s\n", o->server_argv[0],
			strerror(errno));
		_exit(127);
	}
	close(fd);
	close(pipefd[1]);
	pfd = (struct pollfd){.fd = pipefd[0], .events = POLLIN};
	do
		rc = poll(&pfd, 1, 3000);
	while (rc < 0 && errno == EINTR && !interrupted);
	rc = rc > 0 && read(pipefd[0], &c, 1) == 1 ? 0
	     : rc == 0
		 ? err_set(err, "the server (%s) did not listen within 3 s", o->server_argv[0])
		 : err_set(err, "the server (%s) exited before it listened", o->server_argv[0]);
	close(pipefd[0]);
	r->t_server = now_ms();
	return rc;
}

/* SIGTERM, then waits up to 2 s for it to write its record and exit (SIGKILL after) */
static void stop_server(struct run *r)
{
	if (r->srv_pid <= 0 || r->srv_exited)
		return;
	if (waitpid(r->srv_pid, &r->srv_status, WNOHANG) == r->srv_pid) {
		r->srv_exited = true;
		return;
	}
	r->srv_stopped = true;
	if (terminate_child(r->srv_pid, false, 2000, &r->srv_status))
		r->srv_exited = true;
}

/* empties the --flush-ct namespaces' conntrack tables; an entry a straggler of an earlier
 * run recreates at once is flushed again, a bounded number of times */
static int flush_tables(struct run *r, char **err)
{
	for (int i = 0; i < r->o->n_flush_ns; i++) {
		unsigned removed = 0;

		if (netns_enter(r->o->flush_ns[i], err) < 0)
			return -1;
		for (int tries = 0; tries < 3; tries++) {
			if (ct_flush(&removed, &r->flush_left[i], err) < 0)
				return err_wrap(err, "namespace %s", r->o->flush_ns[i]);
			r->flushed[i] += removed;
			if (!r->flush_left[i])
				break;
		}
	}
	return netns_set(r->home_fd, "home", err);
}

/* polls every capture once for up to wait_ms */
static int pump(struct run *r, int wait_ms, char **err)
{
	struct pollfd pfd[MAX_CAPS];
	int map[MAX_CAPS], n = 0;

	for (int i = 0; i < MAX_CAPS; i++)
		if (r->cap[i]) {
			pfd[n] = (struct pollfd){.fd = capture_fd(r->cap[i]), .events = POLLIN};
			map[n++] = i;
		}
	if (poll(pfd, (nfds_t)n, wait_ms < 0 ? 0 : wait_ms) < 0 && errno != EINTR)
		return err_errno(err, errno, "poll");
	for (int k = 0; k < n; k++)
		if (pfd[k].revents && capture_dispatch(r->cap[map[k]], on_segment, r, err) < 0)
			return -1;
	return 0;
}

/* asks the node's conntrack which learned flow is the client's connection to the VIP */
static int name_flow(struct run *r, char **err)
{
	struct ct_flow found[64];
	const size_t max = sizeof(found) / sizeof(found[0]);
	size_t n = 0;
	int rc;

	if (netns_set(r->node_fd, r->o->node_ns, err) < 0)
		return -1;
	rc = ct_find_by_orig(&r->o->vip, &r->client_ip, found, max, &n, err);
	netns_set(r->home_fd, "home", NULL);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n && i < max; i++) {
		if (!addr_eq(&found[i].orig.src.addr, &r->client_ip) ||
		    found[i].tcp_state != CT_TCP_ESTABLISHED)
			continue;
		for (int k = 0; k < r->n_flows; k++) {
			if (!tuple_eq(&r->flows[k].tuple, &found[i].reply) ||
			    !learn_ready(&r->flows[k], NULL))
				continue;
			r->ct = found[i];
			r->flow = &r->flows[k];
			r->bk = r->flow_backend[k];
			return 1;
		}
	}
	return 0;
}

static int find_flow(struct run *r, char **err)
{
	/* from the client's start: the reset, the captures and the server are not the flow's
	 * time (a loaded machine once took 3 s to start the server, and the flow was there) */
	uint64_t deadline = now_ms() + r->o->flow_timeout_ms, last_ct = 0;
	const char *why = "no handshake to the backend captured";

	while (!interrupted) {
		uint64_t now = now_ms();

		if (now >= deadline) {
			for (int k = 0; k < r->n_flows; k++)
				learn_ready(&r->flows[k], &why);
			return err_set(err, "no established flow to %s found within %u ms (%s)",
				       endpoint_str(&r->o->vip, (char[CTR_EPSTRLEN]){0}),
				       r->o->flow_timeout_ms, why ? why : "conntrack has no entry");
		}
		if (pump(r, CT_POLL_MS, err) < 0)
			return -1;
		if (r->n_flows && now_ms() - last_ct >= CT_POLL_MS) {
			int rc = name_flow(r, err);

			last_ct = now_ms();
			if (rc < 0)
				return -1;
			if (rc > 0) {
				r->t_flow = now_ms();
				return 0;
			}
		}
	}
	return err_set(err, "interrupted");
}

/* --delay: keeps learning the flow, so the event is placed against its state then */
static int follow(struct run *r, char **err)
{
	uint64_t until = now_ms() + r->o->delay_ms;

	while (!interrupted) {
		if (r->flow->server.closed || r->flow->client.closed)
			return err_set(err, "the flow closed within the %u ms delay",
				       r->o->delay_ms);
		if (now_ms() >= until)
			return 0;
		if (pump(r, 2, err) < 0)
			return -1;
	}
	return err_set(err, "interrupted");
}

/* --- natural triggers ----------------------------------------------------------------- */

#define CT_TIMEOUT_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established"

/* writes v into the current namespace's established timeout; *old gets what was there */
static int write_timeout(long v, long *old, char **err)
{
	FILE *f = fopen(CT_TIMEOUT_SYSCTL, "r+e");
	int rc = 0;

	if (!f)
		return err_errno(err, errno, "%s", CT_TIMEOUT_SYSCTL);
	if (old && fscanf(f, "%ld", old) != 1)
		rc = err_set(err, "%s: unreadable", CT_TIMEOUT_SYSCTL);
	else if (fseek(f, 0, SEEK_SET) < 0 || fprintf(f, "%ld\n", v) < 0)
		rc = err_errno(err, errno, "%s", CT_TIMEOUT_SYSCTL);
	if (fclose(f) != 0 && !rc)
		rc = err_errno(err, errno, "%s", CT_TIMEOUT_SYSCTL);
	return rc;
}

/* --ct-timeout: in every node namespace (the sysctl is per namespace: the host's stays) */
static int set_timeouts(struct run *r, char **err)
{
	for (int i = 0; r->o->ct_timeout_s && i < r->o->n_stat_ns; i++) {
		if (netns_enter(r->o->stat_ns[i], err) < 0 ||
		    write_timeout(r->o->ct_timeout_s, &r->old_timeout[i], err) < 0) {
			netns_set(r->home_fd, "home", NULL);
			return err_wrap(err, "--ct-timeout in %s", r->o->stat_ns[i]);
		}
		r->timeout_set[i] = true;
	}
	return netns_set(r->home_fd, "home", err);
}

static void restore_timeouts(struct run *r)
{
	char *err = NULL;

	for (int i = 0; i < r->o->n_stat_ns; i++) {
		if (!r->timeout_set[i])
			continue;
		if (netns_enter(r->o->stat_ns[i], &err) < 0 ||
		    write_timeout(r->old_timeout[i], NULL, &err) < 0) {
			fprintf(stderr, "ctreset-inject: restoring the timeout in %s: %s\n",
				r->o->stat_ns[i], err);
			free(err);
			err = NULL;
		}
	}
	netns_set(r->home_fd, "home", NULL);
}

/* ct-flush: Debian's conntrack(8) run in the DNAT node's namespace, as a conntrack-tools
 * restart or a cleanup script does; its exit status and output go to inject.kv */
static int run_conntrack_flush(struct run *r, char **err)
{
	int fds[2], st;
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_errno(err, errno, "fork");
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		if (netns_set(r->node_fd, r->o->node_ns, NULL) < 0)
			_exit(127);
		execlp("conntrack", "conntrack", "-F", (char *)NULL);
		dprintf(STDERR_FILENO, "conntrack: %s", strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while (got < sizeof(r->flush_out) - 1 &&
	       (n = read(fds[0], r->flush_out + got, sizeof(r->flush_out) - 1 - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	r->flush_out[got] = 0;
	r->flush_out[strcspn(r->flush_out, "\n")] = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "waitpid conntrack");
	r->flush_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (r->flush_status != 0)
		return err_set(err, "conntrack -F in %s exited %d: %s", r->o->node_ns,
			       r->flush_status, r->flush_out);
	return 0;
}

/* idle-expiry: nothing is done to the flow. Waits for the backend to send no data for the
 * nodes' established timeout (plus half a second: the entry is then expired at its next
 * lookup), then for its next data segment: that is the event. Bounded; a flow that never
 * idles or closes first is an error, never a pass. */
static int wait_idle(struct run *r, char **err)
{
	const uint64_t need = (uint64_t)r->o->ct_timeout_s * 1000 + 500;
	uint64_t t_data = now_ms(), deadline = t_data + 2 * need + 5000;
	uint32_t end = r->flow->server.end;
	bool idled = false;

	while (!interrupted) {
		uint64_t now = now_ms();

		/* the resumed segment and the RST it causes may come in one read: resumed first */
		if (r->flow->server.end != end) {
			if (idled) {
				r->idle_ms = now - t_data;
				return 0;
			}
			end = r->flow->server.end;
			t_data = now;
		} else if (now - t_data >= need) {
			idled = true;
		}
		if (r->flow->server.closed || r->flow->client.closed)
			return err_set(err, "the flow closed before it %s",
				       idled ? "resumed" : "idled");
		if (now >= deadline)
			return err_set(
			    err,
			    idled ? "the backend sent nothing after idling (bound %llu ms)"
				  : "the flow never idled for %llu ms (the workload must "
				    "pause: ctreset-workload server --pause-after/--pause)",
			    (unsigned long long)(idled ? 2 * need + 5000 : need));
		if (pump(r, 5, err) < 0)
			return -1;
	}
	return err_set(err, "interrupted");
}

/* natural triggers: Debian's `conntrack -E` in the DNAT node's namespace records every
 * entry created and destroyed there (DIR/ct-events.txt). An entry picked up from the
 * backend's side (original source the backend, destination the client) is the evidence
 * that the backend's own segment started a new, un-NATed entry; it is gone again at once
 * when the only reply it sees is the client's RST, so a later look at the table would
 * miss it. Failing to start it is not fatal: the captures are the verdict's evidence. */
static void start_events(struct run *r)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/ct-events.txt", r->o->out);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	r->ev_pid = fork();
	if (r->ev_pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (netns_set(r->node_fd, r->o->node_ns, NULL) < 0)
			_exit(127);
		execlp("conntrack", "conntrack", "-E", "-p", "tcp", "-e", "NEW,DESTROY", "-o",
		       "timestamp", (char *)NULL);
		_exit(127);
	}
	close(fd);
	/* the subscription is made before the trigger, which is seconds away */
}

static void stop_events(struct run *r)
{
	char path[PATH_MAX], line[1024], be[160], cl[160], a[CTR_ADDRSTRLEN], b[CTR_ADDRSTRLEN];
	FILE *f;

	if (r->ev_pid <= 0)
		return;
	usleep(100000); /* conntrack -E reads the last events (a loaded machine is slow) */
	kill(r->ev_pid, SIGTERM);
	while (waitpid(r->ev_pid, NULL, 0) < 0 && errno == EINTR)
		;
	r->ev_pid = 0;
	if (!r->flow)
		return;
	snprintf(path, sizeof(path), "%s/ct-events.txt", r->o->out);
	f = fopen(path, "re");
	if (!f)
		return;
	snprintf(be, sizeof(be), "src=%s dst=%s sport=%u dport=%u ",
		 addr_str(&r->ct.reply.src.addr, b), addr_str(&r->ct.orig.src.addr, a),
		 r->ct.reply.src.port, r->ct.orig.src.port);
	snprintf(cl, sizeof(cl), "src=%s dst=%s sport=%u dport=%u ",
		 addr_str(&r->ct.orig.src.addr, a), addr_str(&r->o->vip.addr, b),
		 r->ct.orig.src.port, r->o->vip.port);
	while (fgets(line, sizeof(line), f)) {
		char *o = strstr(line, "src=");

		if (!strstr(line, "[NEW]") || !o)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(o, be, strlen(be)) && !r->ct_pickup++)
			snprintf(r->pickup_line, sizeof(r->pickup_line), "%.290s", line);
		else if (!strncmp(o, cl, strlen(cl)))
			r->ct_renat++;
	}
	fclose(f);
}

static int inject(struct run *r, char **err)
{
	if (r->o->trigger == TRIGGER_IDLE_EXPIRY) {
		/* what the resumed segment causes is seen while waiting for it */
		r->injected = true;
		if (wait_idle(r, err) < 0) {
			r->injected = false;
			return -1;
		}
		snprintf(r->explain, sizeof(r->explain),
			 "nothing done to the flow: it idled %llu ms past the nodes' established "
			 "timeout of %u s, then the backend's own next segment crossed the nodes",
			 (unsigned long long)r->idle_ms, r->o->ct_timeout_s);
	} else if (r->o->trigger == TRIGGER_CT_ENTRY_LOST || r->o->trigger == TRIGGER_CT_FLUSH) {
		uint32_t ack0 = r->flow->client.ack;
		uint64_t until = now_ms() + 200;
		bool timed = false;
		int rc;

		/* Delete right after a fresh client ACK covering all the backend sent has crossed
		 * the node (the backend's capture holds it): the next packet through the node is
		 * then the backend's next, paced segment. Deleted between a backend segment and
		 * the client's ACK of it, that ACK (to the VIP) would start a new, DNATed entry
		 * first and nothing would leak: a race, not the event. */
		while (!interrupted && now_ms() < until) {
			if (r->flow->client.ack != ack0 &&
			    r->flow->client.ack == r->flow->server.end) {
				timed = true;
				break;
			}
			if (pump(r, 1, err) < 0)
				return -1;
		}
		snprintf(r->explain, sizeof(r->explain), "%s %s; the backend keeps sending",
			 r->o->trigger == TRIGGER_CT_FLUSH ? "conntrack -F emptied the node's table"
							   : "deleted the node's conntrack entry",
			 timed ? "right after the client acknowledged all data"
			       : "(no fresh client ACK within 200 ms)");
		if (r->o->trigger == TRIGGER_CT_FLUSH) {
			if (run_conntrack_flush(r, err) < 0)
				return -1;
		} else {
			if (netns_set(r->node_fd, r->o->node_ns, err) < 0)
				return -1;
			rc = ct_delete(&r->ct, err);
			netns_set(r->home_fd, "home", NULL);
			if (rc < 0)
				return -1;
		}
	} else {
		trigger_probe(r->o->trigger, r->flow, &r->probe, r->explain, sizeof(r->explain));
		if (craft_send(r->craft[r->bk], &r->probe, err) < 0)
			return -1;
	}
	r->learned = *r->flow;
	r->injected = true;
	r->t_inject = r->t_last_event = now_ms();
	return 0;
}

/* Waits until the captures show the outcome: the RST reached the backend, the probe came
 * through NATed, or nothing new for --quiet after the probe left (dropped on the way). */
static int settle(struct run *r, char **err)
{
	uint64_t deadline = r->t_inject + r->o->settle_ms;
	const uint64_t grace = 5; /* trailing packets of the same burst */
	/* a natural trigger has no probe to see arrive NATed: give the backend's next
	 * segments time to show whether they leak */
	const uint64_t quiet =
	    trigger_info(r->o->trigger)->natural && r->o->quiet_ms < 200 ? 200 : r->o->quiet_ms;

	while (!interrupted) {
		uint64_t now = now_ms();

		if (now >= deadline) {
			r->settled_by = "settle timeout";
			return 0;
		}
		if (r->rst_at_backend && now - r->t_last_event >= grace) {
			r->settled_by = "client RST reached the backend";
			return 0;
		}
		if (!r->leaks && r->probe_natted && now - r->t_last_event >= grace) {
			r->settled_by = "probe reached the client NATed";
			return 0;
		}
		if (now - r->t_last_event >= quiet &&
		    (r->probe_left || !trigger_info(r->o->trigger)->crafts)) {
			r->settled_by = "quiet";
			return 0;
		}
		if (pump(r, 2, err) < 0)
			return -1;
	}
	return err_set(err, "interrupted");
}

/* --wait-command: lets the command end by itself, the captures still recording */
static void wait_command(struct run *r)
{
	uint64_t until = now_ms() + r->o->wait_cmd_ms;

	if (r->cmd_pid <= 0 || !r->o->wait_cmd_ms)
		return;
	while (!interrupted && !command_reaped(r) && now_ms() < until)
		if (pump(r, 5, NULL) < 0)
			return;
}

/* --- record ------------------------------------------------------------------------------- */

static void kvf(FILE *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void kvf(FILE *f, const char *key, const char *fmt, ...)
{
	char v[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	kv_write(f, key, v);
}

static int write_record(struct run *r, const char *error, char **err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], a[CTR_EPSTRLEN], fl[10];
	const struct opts *o = r->o;
	FILE *f;

	snprintf(path, sizeof(path), "%s/inject.kv", o->out);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return err_errno(err, errno, "%s", tmp);
	kvf(f, "trigger", "%s", trigger_info(o->trigger)->name);
	kvf(f, "injected", "%d", r->injected);
	kvf(f, "error", "%s", error ? error : "-");
	kvf(f, "vip", "%s", endpoint_str(&o->vip, a));
	if (r->flow) {
		const struct learn_flow *lf = r->injected ? &r->learned : r->flow;
		const struct learn_dir *s = &lf->server, *c = &lf->client;

		kvf(f, "client", "%s", endpoint_str(&r->ct.orig.src, a));
		kvf(f, "backend", "%s", endpoint_str(&r->ct.reply.src, a));
		kvf(f, "conntrack.id", "%u", r->ct.id);
		kvf(f, "conntrack.state", "%s", ct_state_name(r->ct.tcp_state));
		kvf(f, "learned.server_next_seq", "%u", s->end);
		kvf(f, "learned.server_wscale", "%d", s->wscale);
		kvf(f, "learned.client_next_seq", "%u", c->end);
		kvf(f, "learned.client_ack", "%u", c->ack);
		kvf(f, "learned.client_window_end", "%u", c->maxend);
		kvf(f, "learned.client_max_window", "%u", c->maxwin);
		kvf(f, "learned.client_wscale", "%d", c->wscale);
		kvf(f, "learned.server_data_segments", "%u", s->data_segments);
	}
	if (r->injected) {
		kvf(f, "probe.explain", "%s", r->explain);
		if (trigger_info(o->trigger)->crafts) {
			kvf(f, "probe.seq", "%u", r->probe.seq);
			kvf(f, "probe.ack", "%u", r->probe.ack);
			kvf(f, "probe.flags", "%s", pkt_flags_str(r->probe.flags, fl));
			kvf(f, "probe.len", "%u", r->probe.payload_len);
		}
		if (o->trigger == TRIGGER_CT_FLUSH) {
			kvf(f, "natural.conntrack_flush.exit", "%d", r->flush_status);
			kvf(f, "natural.conntrack_flush.output", "%s", r->flush_out);
		}
		if (o->trigger == TRIGGER_IDLE_EXPIRY)
			kvf(f, "natural.idle_ms", "%llu", (unsigned long long)r->idle_ms);
		if (trigger_info(o->trigger)->natural) {
			kvf(f, "natural.ct_new_from_backend", "%u", r->ct_pickup);
			if (r->ct_pickup)
				kvf(f, "natural.ct_new_from_backend.event", "%s", r->pickup_line);
			kvf(f, "natural.ct_new_from_client", "%u", r->ct_renat);
		}
		kvf(f, "outcome.settled_by", "%s", r->settled_by ? r->settled_by : "-");
		kvf(f, "outcome.probe_left_backend", "%d", r->probe_left);
		kvf(f, "outcome.probe_natted_at_client", "%d", r->probe_natted);
		kvf(f, "outcome.leaked_at_client", "%u", r->leaks);
		kvf(f, "outcome.client_rst", "%d", r->client_rst);
		kvf(f, "outcome.rst_at_backend", "%d", r->rst_at_backend);
		kvf(f, "time.reset_ms", "%llu", (unsigned long long)(r->t_reset - r->t_start));
		kvf(f, "time.captures_ms", "%llu", (unsigned long long)(r->t_ready - r->t_start));
		kvf(f, "time.flow_ms", "%llu", (unsigned long long)(r->t_flow - r->t_start));
		kvf(f, "time.inject_ms", "%llu", (unsigned long long)(r->t_inject - r->t_start));
		kvf(f, "time.settled_ms", "%llu", (unsigned long long)(r->t_settled - r->t_start));
	}
	for (int i = 0; i < o->n_stat_ns; i++) {
		char key[300];

		snprintf(key, sizeof(key), "invalid.%s", o->stat_ns[i]);
		if (r->invalid_ok[i])
			kvf(f, key, "%llu",
			    (unsigned long long)(r->invalid_after[i] - r->invalid_before[i]));
		else
			kvf(f, key, "unknown");
	}
	if (o->n_backends > 1)
		kvf(f, "backend.ns", "%s", r->flow ? o->backend_ns[r->bk] : "-");
	for (int i = 0; i < o->n_reset_ns; i++) {
		char key[300];

		snprintf(key, sizeof(key), "reset_killed.%s", o->reset_ns[i]);
		kvf(f, key, "%u", r->reset_killed[i]);
	}
	if (r->srv_pid > 0) {
		if (r->srv_exited && WIFEXITED(r->srv_status))
			kvf(f, "server.exit", "%d", WEXITSTATUS(r->srv_status));
		else if (r->srv_exited && WIFSIGNALED(r->srv_status))
			kvf(f, "server.exit", "signal %d", WTERMSIG(r->srv_status));
		else
			kvf(f, "server.exit", "unknown");
		kvf(f, "server.stopped", "%d", r->srv_stopped);
		kvf(f, "time.server_ms", "%llu", (unsigned long long)(r->t_server - r->t_start));
	}
	for (int i = 0; i < o->n_flush_ns; i++) {
		char key[300];

		snprintf(key, sizeof(key), "ct_flushed.%s", o->flush_ns[i]);
		kvf(f, key, "%u", r->flushed[i]);
		snprintf(key, sizeof(key), "ct_left.%s", o->flush_ns[i]);
		kvf(f, key, "%u", r->flush_left[i]);
	}
	for (int i = 0; i < MAX_CAPS; i++) {
		char key[64], name[32];

		if (!r->cap[i] || (i >= CAP_BACKEND && i != CAP_BACKEND + r->bk))
			continue;
		/* the flow's backend is "backend" whichever file it is (ctreset-review reads it) */
		snprintf(name, sizeof(name), "%s",
			 i < CAP_BACKEND ? (i ? "node" : "client") : "backend");
		snprintf(key, sizeof(key), "capture.%s", name);
		kvf(f, key, "%s", capture_path(r->cap[i]));
		snprintf(key, sizeof(key), "capture.%s.dropped", name);
		kvf(f, key, "%u", capture_dropped(r->cap[i]));
	}
	if (r->cmd_pid > 0) {
		if (r->cmd_exited && WIFEXITED(r->cmd_status))
			kvf(f, "command.exit", "%d", WEXITSTATUS(r->cmd_status));
		else if (r->cmd_exited && WIFSIGNALED(r->cmd_status))
			kvf(f, "command.exit", "signal %d", WTERMSIG(r->cmd_status));
		else
			kvf(f, "command.exit", "unknown");
		kvf(f, "command.stopped", "%d", r->cmd_stopped);
		if (r->cmd_exited && r->t_cmd_end)
			kvf(f, "time.command_ms", "%llu",
			    (unsigned long long)(r->t_cmd_end - r->t_start));
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return err_errno(err, errno, "%s", path);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct opts o;
	struct run r = {.o = &o, .node_fd = -1};
	char *err = NULL, *werr = NULL;
	int rc = -1;

	parse(argc, argv, &o);
	if (geteuid() != 0)
		die(CTR_EXIT_SKIP,
		    strdup("needs root (network namespaces, raw sockets): run with sudo"));
	check_namespaces(&o);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (mkdir(o.out, 0755) < 0 && errno != EEXIST)
		die(CTR_EXIT_FAIL, (err_errno(&err, errno, "%s", o.out), err));
	r.home_fd = netns_open("/proc/self/ns/net", &err);
	if (r.home_fd < 0)
		die(CTR_EXIT_FAIL, err);
	r.t_start = now_ms();
	if (reset_namespaces(&r, &err) == 0 && flush_tables(&r, &err) == 0 &&
	    set_timeouts(&r, &err) == 0 && (r.t_reset = now_ms(), open_captures(&r, &err) == 0) &&
	    (!trigger_info(o.trigger)->natural || (start_events(&r), 1)) &&
	    (r.t_ready = now_ms(), start_server(&r, &err) == 0) &&
	    (!o.n_server_args || (fault_point("scenario.server"), 1)) &&
	    start_command(&r, &err) == 0 && find_flow(&r, &err) == 0 &&
	    (!o.delay_ms || follow(&r, &err) == 0)) {
		read_invalid(&r, r.invalid_before);
		fault_point("inject.flow");
		if (inject(&r, &err) == 0 && (fault_point("inject.sent"), settle(&r, &err) == 0))
			rc = 0;
		r.t_settled = now_ms();
		read_invalid(&r, r.invalid_after);

		if (rc == 0)
			wait_command(&r);
	}
	netns_set(r.home_fd, "home", NULL);
	stop_command(&r);
	stop_events(&r);
	restore_timeouts(&r);
	stop_server(&r);
	/* drain what the last moments left in the capture buffers into the files: an nflog
	 * capture hands over one netlink buffer per read, so read until nothing is left */
	for (int i = 0; i < MAX_CAPS; i++)
		for (int n = 0; r.cap[i] && n < 100000; n++)
			if (capture_dispatch(r.cap[i], on_segment, &r, NULL) <= 0)
				break;
	if (write_record(&r, rc < 0 ? err : NULL, &werr) < 0)
		fprintf(stderr, "ctreset-inject: %s\n", werr);
	for (int i = 0; i < MAX_CAPS; i++)
		capture_close(r.cap[i]);
	for (int k = 0; k < MAX_BACKENDS; k++)
		craft_free(r.craft[k]);
	if (rc < 0)
		die(CTR_EXIT_FAIL, err);
	free(werr);
	return CTR_EXIT_PASS;
}
