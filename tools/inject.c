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
#include "capture.h"
#include "clock.h"
#include "craft.h"
#include "ct.h"
#include "err.h"
#include "exitcodes.h"
#include "kv.h"
#include "opt.h"
#include "learn.h"
#include "link.h"
#include "netns.h"
#include "seq.h"
#include "trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS 64
#define MAX_STAT_NS 4
#define MAX_BACKENDS 8
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
	struct ctr_endpoint vip;
	struct ctr_addr client_ip; /* family 0: the client interface's own address */
	enum trigger trigger;
	const char *out;
	unsigned flow_timeout_ms, settle_ms, quiet_ms, buffer_kib;
	unsigned wait_cmd_ms; /* 0: stop the command once settled */
	unsigned delay_ms;    /* follow the learned flow this long before injecting */
	unsigned snaplen;     /* 0: the capture default (an MTU-sized frame) */
	const char *filter;   /* BPF expression for every capture, NULL: none */
	unsigned allow_ns;    /* enum netns_allow: where flushes and deletions may happen */
	char **cmd; /* workload to run in the client namespace, NULL-terminated */
};

struct run {
	const struct opts *o;
	int home_fd, node_fd; /* namespace fds: where we started, the DNAT node */
	struct capture *cap[MAX_CAPS];
	struct ctr_addr client_ip, backend_ip[MAX_BACKENDS];
	struct craft *craft[MAX_BACKENDS]; /* a raw socket in each backend's namespace */
	struct learn_flow flows[MAX_FLOWS]; /* handshakes seen at a backend, not yet named */
	int flow_backend[MAX_FLOWS];	    /* which backend saw each one */
	int n_flows;
	struct learn_flow *flow; /* the one conntrack named */
	int bk;			 /* its backend */
	struct learn_flow learned; /* its state when the event was caused: the record's */
	struct ct_flow ct;
	struct craft_segment probe;
	char explain[256];
	bool injected;
	/* what the settle phase has seen */
	bool probe_left, probe_natted, client_rst, rst_at_backend;
	unsigned leaks;
	uint64_t t_start, t_ready, t_flow, t_inject, t_leak, t_last_event;
	const char *settled_by;
	pid_t cmd_pid;
	int cmd_status;
	bool cmd_exited, cmd_stopped; /* stopped: it had to be sent SIGTERM */
	uint64_t t_settled, t_cmd_end;
	uint64_t invalid_before[MAX_STAT_NS], invalid_after[MAX_STAT_NS];
	bool invalid_ok[MAX_STAT_NS];
	unsigned flushed[MAX_STAT_NS], flush_left[MAX_STAT_NS];
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
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
	fprintf(f,
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
		"  --flow-timeout MS    bound for finding and learning the flow (default 3000)\n"
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
		"  -h, --help           this text\n"
		"exit: 0 injected, 1 could not find/learn/inject (inject.kv says why), 2 usage or a\n"
		"refused namespace (above)\n");
}

static void bad_arg(const char *arg, const char *why)
{
	fprintf(stderr, "ctreset-inject: argument \"%s\" is wrong: %s\n", arg, why);
	exit(CTR_EXIT_USAGE);
}

static unsigned parse_range(const char *s, const char *what, unsigned long min,
			    unsigned long max)
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
		{"allow-foreign-netns", no_argument, NULL, 'A'},
		{"allow-host-netns", no_argument, NULL, 'H'},
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
		case 'A':
			o->allow_ns |= NETNS_ALLOW_FOREIGN;
			break;
		case 'H':
			o->allow_ns |= NETNS_ALLOW_HOST;
			break;
		case 'h':
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
	if (o->trigger == TRIGGER_CT_ENTRY_LOST &&
	    netns_check_owned(o->node_ns, "delete a conntrack entry (ct-entry-lost) in",
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
	return r->injected && r->o->trigger != TRIGGER_CT_ENTRY_LOST && p->seq == r->probe.seq &&
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

		r->invalid_ok[i] = netns_enter(r->o->stat_ns[i], &e) == 0 &&
				   ct_invalid_count(&into[i], &e) == 0;
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

static void stop_command(struct run *r)
{
	uint64_t until;

	if (r->cmd_pid <= 0 || command_reaped(r))
		return;
	r->cmd_stopped = true;
	kill(-r->cmd_pid, SIGTERM);
	kill(r->cmd_pid, SIGTERM);
	until = now_ms() + 1000;
	while (now_ms() < until) {
		if (waitpid(r->cmd_pid, &r->cmd_status, WNOHANG) == r->cmd_pid) {
			r->cmd_exited = true;
			return;
		}
		poll(NULL, 0, 2);
	}
	kill(-r->cmd_pid, SIGKILL);
	kill(r->cmd_pid, SIGKILL);
	if (waitpid(r->cmd_pid, &r->cmd_status, 0) == r->cmd_pid)
		r->cmd_exited = true;
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
	uint64_t deadline = r->t_start + r->o->flow_timeout_ms, last_ct = 0;
	const char *why = "no handshake to the backend captured";

	while (!interrupted) {
		uint64_t now = now_ms();

		if (now >= deadline) {
			for (int k = 0; k < r->n_flows; k++)
				learn_ready(&r->flows[k], &why);
			return err_set(err,
				       "no established flow to %s found within %u ms (%s)",
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
			return err_set(err, "the flow closed within the %u ms delay", r->o->delay_ms);
		if (now_ms() >= until)
			return 0;
		if (pump(r, 2, err) < 0)
			return -1;
	}
	return err_set(err, "interrupted");
}

static int inject(struct run *r, char **err)
{
	if (r->o->trigger == TRIGGER_CT_ENTRY_LOST) {
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
			if (r->flow->client.ack != ack0 && r->flow->client.ack == r->flow->server.end) {
				timed = true;
				break;
			}
			if (pump(r, 1, err) < 0)
				return -1;
		}
		snprintf(r->explain, sizeof(r->explain),
			 "deleted the node's conntrack entry %u %s; the backend keeps sending", r->ct.id,
			 timed ? "right after the client acknowledged all data"
			       : "(no fresh client ACK within 200 ms)");
		if (netns_set(r->node_fd, r->o->node_ns, err) < 0)
			return -1;
		rc = ct_delete(&r->ct, err);
		netns_set(r->home_fd, "home", NULL);
		if (rc < 0)
			return -1;
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
		if (now - r->t_last_event >= r->o->quiet_ms &&
		    (r->probe_left || r->o->trigger == TRIGGER_CT_ENTRY_LOST)) {
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

static void kvf(FILE *f, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
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
		if (o->trigger != TRIGGER_CT_ENTRY_LOST) {
			kvf(f, "probe.seq", "%u", r->probe.seq);
			kvf(f, "probe.ack", "%u", r->probe.ack);
			kvf(f, "probe.flags", "%s", pkt_flags_str(r->probe.flags, fl));
			kvf(f, "probe.len", "%u", r->probe.payload_len);
		}
		kvf(f, "outcome.settled_by", "%s", r->settled_by ? r->settled_by : "-");
		kvf(f, "outcome.probe_left_backend", "%d", r->probe_left);
		kvf(f, "outcome.probe_natted_at_client", "%d", r->probe_natted);
		kvf(f, "outcome.leaked_at_client", "%u", r->leaks);
		kvf(f, "outcome.client_rst", "%d", r->client_rst);
		kvf(f, "outcome.rst_at_backend", "%d", r->rst_at_backend);
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
		snprintf(name, sizeof(name), "%s", i < CAP_BACKEND ? (i ? "node" : "client") : "backend");
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
		die(CTR_EXIT_SKIP, strdup("needs root (network namespaces, raw sockets): run with sudo"));
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
	if (flush_tables(&r, &err) == 0 && open_captures(&r, &err) == 0 &&
	    (r.t_ready = now_ms(), start_command(&r, &err) == 0) && find_flow(&r, &err) == 0 &&
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
