/* ctreset-inject: finds a live flow through a service VIP, learns its sequence state, and
 * causes one out-of-window event in it from the backend pod's namespace, capturing at the
 * client pod, the DNAT node and the backend pod as it goes. This file is the program: its
 * options and the sequence; the parts live in tools/lib/live/ (flow.c finds the flow,
 * child.c supervises the client command and the server, trigger.c places the event,
 * natural.c acts on the nodes, record.c writes inject.kv).
 *
 *   1. captures open in each namespace (before the flow exists, to see its handshake);
 *   2. the workload command after "--" starts in the client namespace;
 *   3. the flow is named by the DNAT node's conntrack table (libnl-nf-3): the entry whose
 *      original destination is the VIP, keyed by its full 4-tuple;
 *   4. its live seq/ack/window comes from the backend-side capture (with several
 *      --backend-ns, the capture of the backend whose handshake it was);
 *   5. the trigger's event: a segment crafted with libnet and sent from the backend
 *      namespace, a conntrack change, or (natural) the workload's own traffic;
 *   6. it waits, bounded, until the outcome is visible in the captures, stops the workload
 *      command (or, with --wait-command, lets it finish: a download's own end is part of
 *      the outcome) and writes inject.kv beside the pcaps. The verdict is ctreset-review's. */
#include "base/clock.h"
#include "base/err.h"
#include "base/exitcodes.h"
#include "base/opt.h"
#include "base/seq.h"
#include "live/capture.h"
#include "live/cellmeta.h"
#include "live/child.h"
#include "live/craft.h"
#include "live/counters.h"
#include "live/ct.h"
#include "live/flow.h"
#include "live/hold.h"
#include "live/batch.h"
#include "live/link.h"
#include "live/natural.h"
#include "live/netns.h"
#include "live/injectkv.h"
#include "live/run.h"
#include "live/trigger.h"
#include "review/cell.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

/* in a --cells batch's child: no process of the batch's earlier cells is left (the batch,
 * their subreaper, found none of their descendants alive), so --reset-ns has nothing to
 * kill and its scan of every /proc/PID (a stat each, ~5% of a cell's CPU) is skipped */
static bool batch_none_left;

/* --review: the cell's meta.kv written once at the end, and its review in-process */
static struct {
	bool review;
	struct cellmeta meta;
} cell;

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
	    "                       for, so its record is on disk when the injector exits.\n"
	    "                       It must listen within --flow-timeout (at least 3 s)\n"
	    "  --workload-process   run ctreset-workload (the server, COMMAND) as a process\n"
	    "                       (also CTR_WORKLOAD_PROCESS=1). Without it, the\n"
	    "                       ctreset-workload beside this program runs in a thread of\n"
	    "                       it, in the namespace, with the same options and records\n"
	    "                       (its ready line and its stop and resume signals in-process;\n"
	    "                       not with --daemon or --pidfile): no fork, no exec. Any\n"
	    "                       other program (nginx, curl, a wrapper) is a process\n"
	    "  --count SPEC         the packets of a workaround's INVALID DROP rule, read over\n"
	    "                       netlink in every --stat-ns namespace and the node's after\n"
	    "                       the reset and flush and again at the end; OUT/meta.kv gets\n"
	    "                       drop.NS=AFTER-BEFORE for each namespace where the rule is\n"
	    "                       (nothing where it is not). SPEC: ipt-legacy:FAM:CHAIN or\n"
	    "                       ipt-nft:FAM:CHAIN (CHAIN's -m conntrack --ctstate INVALID\n"
	    "                       -j DROP in the filter table of iptables-legacy or\n"
	    "                       iptables-nft; FAM ip or ip6), nft:FAM:TABLE:CHAIN (that\n"
	    "                       chain's \"ct state invalid counter\" rule; FAM ip, ip6, inet)\n"
	    "  --nfacct NAME        the same for the packets of the nfacct object NAME\n"
	    "                       (kube-proxy >= 1.31's ct_state_invalid_dropped_pkts):\n"
	    "                       nfacct.NS=AFTER-BEFORE where it is there both times\n"
	    "  --read-counters      only read them: one NS<TAB>drop|nfacct<TAB>PACKETS line\n"
	    "                       per --stat-ns namespace (and --node-ns, last), \"-\"\n"
	    "                       where the rule or object is not there, and exit (no\n"
	    "                       other option needed)\n"
	    "  --learn-bytes N      the flow is learned only once the client acknowledged N\n"
	    "                       bytes of the server's data (default: any): an HTTP\n"
	    "                       response's header alone is data, and the event must land\n"
	    "                       in the body (the http workload gives 65536)\n"
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
	    "                       (connect, which learns no flow: the nodes' conntrack\n"
	    "                       entries are read MS after COMMAND started; default 500)\n"
	    "  --wait-command MS    once settled, let COMMAND run up to MS more to finish by\n"
	    "                       itself (a download completing or failing) before SIGTERM\n"
	    "  --ct-timeout SEC     nf_conntrack_tcp_timeout_established in the node and\n"
	    "                       --stat-ns namespaces (1..86400; the bench's 1 s, 2 s with\n"
	    "                       keepalive; kube-proxy's 86400), restored when the run\n"
	    "                       ends. idle-expiry waits for the flow to idle that long\n"
	    "                       + 0.3 s (the workload pauses: ctreset-workload server\n"
	    "                       --pause-after/--pause) and for the backend's next\n"
	    "                       segment; a flow that never idles is an error\n"
	    "  --stall-pid PID --stall MS\n"
	    "                       idle-expiry with a server that cannot pause by itself\n"
	    "                       (nginx: the http workload): once the flow is learned,\n"
	    "                       PID (nginx's worker) is stopped (SIGSTOP) mid-response\n"
	    "                       and continued (SIGCONT) after MS, always before the\n"
	    "                       injector exits: a backend that stalls, as a slow upstream\n"
	    "                       or a long pause of the application makes it\n"
	    "  --hold-ns NS         delayed-retransmit: the backend's node namespace, where an\n"
	    "                       NFQUEUE rule (nftables table inet ctreset-hold, or else\n"
	    "                       iptables' NFQUEUE target in raw PREROUTING; before\n"
	    "                       conntrack, removed after) holds the flow's next\n"
	    "                       backend data segment; the backend retransmits it, and the\n"
	    "                       held copy is released once the window moved past it\n"
	    "  --hold MS            release it after MS instead (a flow that ends first is an\n"
	    "                       error); without it, at most --flow-timeout + 1 s for the\n"
	    "                       window to move on\n"
	    "  --review             a bench cell, finished here: at the end, OUT/meta.kv is\n"
	    "                       written once (the --meta lines, the facts of the run:\n"
	    "                       drop.NS counts, then time.*_ms and duration_ms from\n"
	    "                       --t0-us), then the cell is reviewed in-process as\n"
	    "                       `ctreset-review --verdict OUT --format kv --json-out\n"
	    "                       OUT/result.json --record OUT/record.kv` would (its stdout\n"
	    "                       into OUT/verdict.kv), and time.verdict_ms appended. A skip\n"
	    "                       also leaves OUT/skip; a --server-arg server that left no\n"
	    "                       OUT/server.kv, \"server left no record\" in OUT/error. Exit\n"
	    "                       status as without it (1 also when the review failed)\n"
	    "  --meta KEY=VALUE     a line of the cell's meta.kv (repeatable, in order)\n"
	    "  --t0-us N            the cell's start, microseconds since the epoch (bash's\n"
	    "                       EPOCHREALTIME without its dot)\n"
	    "  --cells FILE|-       a batch: the cells of one topology and workaround, run one\n"
	    "                       after another, each in a forked child of this process\n"
	    "                       (its state fresh, its path a single cell's, with\n"
	    "                       --review). The options on the command line are the ones\n"
	    "                       the cells share (namespaces, interfaces, --vip, --stat-ns,\n"
	    "                       --flush-ct, --reset-ns, --count, timeouts); FILE (-:\n"
	    "                       stdin) holds each cell's own: NUL-separated words, a cell\n"
	    "                       ended by an empty word (bash: printf '%%s\\0' WORDS... '').\n"
	    "                       A cell's words: --out DIR (required), --trigger, --meta\n"
	    "                       lines, --server-arg, its other options, then -- and its\n"
	    "                       client command. Every cell is parsed before the first\n"
	    "                       runs (a bad one: exit 2, nothing run). A cell's t0 is its\n"
	    "                       own --t0-us, else the batch's --t0-us for the first and\n"
	    "                       the end of the one before for the others. After each\n"
	    "                       cell the batch does what the bench did after one\n"
	    "                       injector: a cell that left no record.kv (killed, or its\n"
	    "                       meta.kv not written) gets its meta.kv, OUT/skip from\n"
	    "                       inject.kv on exit 4, \"ctreset-inject was killed by signal\n"
	    "                       N (SIGX) mid-cell\" in OUT/error when a signal ended it,\n"
	    "                       and its review; the cell's stderr goes into OUT/error\n"
	    "                       only when there is some, and the record is written again\n"
	    "                       when OUT/error is there. Prints \"OUT<TAB>STATUS\" per cell\n"
	    "                       (STATUS the cell's exit status as below; 128+N: killed by\n"
	    "                       signal N). SIGTERM or SIGINT: passed to the running cell,\n"
	    "                       that cell finished, no other started, exit 130. Exit 0\n"
	    "                       every cell 0, 1 one was not, 2 usage, 4 no root\n"
	    "  --cell-state FILE    with --cells: before each cell, its trigger's name written\n"
	    "                       into FILE (bench/schedule.sh: what a group runs now)\n"
	    "  --list-triggers      print one line per trigger and exit: name, kind (crafted,\n"
	    "                       conntrack or natural) and summary, tab-separated\n"
	    "  --bench-args NAME[,NAME...]\n"
	    "                       print what the bench gives the injector and the workloads\n"
	    "                       for each trigger NAME, computed, and exit: one\n"
	    "                       TRIGGER<TAB>WORKAROUND<TAB>WHERE<TAB>ARGS line each (WHERE:\n"
	    "                       inject, options of ctreset-inject; server and client, of\n"
	    "                       the stream workload's; stall (MS, curl's keepalive s, the\n"
	    "                       s its bounds grow by) and body (N times the payload), of\n"
	    "                       the http workload's); nothing for most. {backend_node} in\n"
	    "                       ARGS is the backend's node namespace, the cell's to name.\n"
	    "                       For the bench's run, given by:\n"
	    "  --bench-timeout S    the nodes' established timeout (CTR_IDLE_TIMEOUT, 1..60;\n"
	    "                       default 1 s, 2 s with keepalive)\n"
	    "  --bench-scale N      the slow machine's factor (CTR_TIME_SCALE, 1..99; default 1)\n"
	    "  --bench-workaround W[,W...]\n"
	    "                       the cells' workarounds, one set of lines each (default none)\n"
	    "  --bench-workload stream|http\n"
	    "                       the workload (default stream)\n"
	    "  -h, --help           this text\n"
	    "exit: 0 injected, 1 could not find/learn/inject (inject.kv says why), 2 usage or a\n"
	    "refused namespace (above), 4 this machine cannot (no root; NFQUEUE unavailable)\n");
}

/* one line per trigger: name, kind, summary (tab-separated; bench/matrix reads it) */
static void list_triggers(void)
{
	for (int t = 0; t < TRIGGER_COUNT; t++) {
		const struct trigger_info *ti = trigger_info(t);

		printf("%s\t%s\t%s\n", ti->name, trigger_kind_name(ti->kind), ti->summary);
	}
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

/* what the trigger's row says of the options: the established timeout it sets by default,
 * the options it takes and needs */
static void check_trigger_options(struct inject_opts *o)
{
	const struct trigger_info *ti = trigger_info(o->trigger);
	char takers[256] = "";
	size_t n = 0;

	if (!o->ct_timeout_s)
		o->ct_timeout_s = ti->default_ct_timeout_s;
	if (!o->stall_pid != !o->stall_ms ||
	    (o->stall_pid && !(ti->options & TRIGGER_TAKES_STALL))) {
		for (int t = 0; t < TRIGGER_COUNT; t++)
			if (trigger_info(t)->options & TRIGGER_TAKES_STALL && n < sizeof(takers))
				n += (size_t)snprintf(takers + n, sizeof(takers) - n, "%s%s",
						      n ? " or " : "", trigger_info(t)->name);
		fprintf(stderr,
			"ctreset-inject: --stall-pid and --stall go together, with --trigger %s\n",
			takers);
		exit(CTR_EXIT_USAGE);
	}
	if (ti->options & TRIGGER_NEEDS_HOLD_NS && !o->hold_ns) {
		fprintf(stderr,
			"ctreset-inject: %s needs --hold-ns (the backend's node namespace)\n",
			ti->name);
		exit(CTR_EXIT_USAGE);
	}
}

static void parse(int argc, char **argv, struct inject_opts *o)
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
	    {"count", required_argument, NULL, 0x120},
	    {"nfacct", required_argument, NULL, 0x121},
	    {"read-counters", no_argument, NULL, 0x122},
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
	    {"list-triggers", no_argument, NULL, 0x103},
	    {"bench-args", required_argument, NULL, 0x104},
	    {"hold-ns", required_argument, NULL, 0x105},
	    {"hold", required_argument, NULL, 0x106},
	    {"stall-pid", required_argument, NULL, 0x107},
	    {"learn-bytes", required_argument, NULL, 0x109},
	    {"stall", required_argument, NULL, 0x108},
	    {"bench-timeout", required_argument, NULL, 0x10a},
	    {"bench-scale", required_argument, NULL, 0x10b},
	    {"bench-workaround", required_argument, NULL, 0x10c},
	    {"bench-workload", required_argument, NULL, 0x10d},
	    {"review", no_argument, NULL, 0x130},
	    {"meta", required_argument, NULL, 0x131},
	    {"t0-us", required_argument, NULL, 0x132},
	    {"workload-process", no_argument, NULL, 0x133},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c, t;
	const char *bench_names = NULL, *bench_workarounds = "none", *v;
	struct trigger_bench_in bench = {.time_scale = 1};
	char *err = NULL;

	*o = (struct inject_opts){.client_if = "eth0",
				  .backend_if = "eth0",
				  .trigger = TRIGGER_SEQ_ABOVE,
				  .flow_timeout_ms = 3000,
				  .settle_ms = 1000,
				  .quiet_ms = 30};
	v = getenv("CTR_WORKLOAD_PROCESS");
	o->workload_process = v && !strcmp(v, "1");
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
		case 0x120: /* --count */
			if (o->have_count)
				bad_arg(optarg, "--count is given once");
			if (counter_spec_parse(optarg, &o->count, &err) < 0)
				bad_arg(optarg, err);
			o->have_count = true;
			break;
		case 0x121: /* --nfacct */
			if (!*optarg || strlen(optarg) >= 32)
				bad_arg(optarg, "--nfacct takes a name of 1..31 characters");
			o->nfacct = optarg;
			break;
		case 0x122: /* --read-counters */
			o->read_counters = true;
			break;
		case 0x133: /* --workload-process */
			o->workload_process = true;
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
		case 0x105:
			o->hold_ns = optarg;
			break;
		case 0x106:
			o->hold_ms = parse_ms(optarg, "--hold must be 1..60000");
			break;
		case 0x107:
			o->stall_pid = (pid_t)parse_range(
			    optarg, "--stall-pid must be a process id", 2, 4194304);
			break;
		case 0x109:
			o->learn_bytes = parse_range(optarg, "--learn-bytes must be 1..1073741824",
						     1, 1073741824);
			break;
		case 0x108:
			o->stall_ms = parse_ms(optarg, "--stall must be 1..60000");
			break;
		case 0x103:
			list_triggers();
			exit(CTR_EXIT_PASS);
		case 0x104:
			bench_names = optarg;
			break;
		case 0x10a:
			bench.idle_timeout_s = parse_range(
			    optarg, "--bench-timeout (CTR_IDLE_TIMEOUT) takes 1 to 60 (seconds)", 1,
			    60);
			break;
		case 0x10b:
			bench.time_scale = parse_range(
			    optarg, "--bench-scale (CTR_TIME_SCALE) takes 1 to 99", 1, 99);
			break;
		case 0x10c:
			bench_workarounds = optarg;
			break;
		case 0x10d:
			if (strcmp(optarg, "stream") && strcmp(optarg, "http"))
				bad_arg(optarg, "--bench-workload takes stream or http");
			bench.http = !strcmp(optarg, "http");
			break;
		case 0x130:
			cell.review = true;
			break;
		case 0x131:
			if (cellmeta_give(&cell.meta, optarg, &err) < 0)
				bad_arg(optarg, err);
			break;
		case 0x132: {
			char *end;

			errno = 0;
			cell.meta.t0_ms = strtoull(optarg, &end, 10) / 1000;
			if (errno || *end || !*optarg || optarg[0] == '-')
				bad_arg(optarg, "--t0-us takes microseconds since the epoch");
			break;
		}
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
	if (bench_names) {
		if (trigger_bench_print(stdout, bench_names, bench_workarounds, &bench, &err) < 0)
			bad_arg(bench_names, err);
		exit(CTR_EXIT_PASS);
	}
	if (o->read_counters) {
		if (o->node_ns)
			o->stat_ns[o->n_stat_ns++] = o->node_ns;
		return;
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
	check_trigger_options(o);
	o->cmd = optind < argc ? argv + optind : NULL;
}

/* refuses (exit 2, before anything is changed) a flush or a deletion in a namespace no
 * ctreset run created, or in PID 1's, unless --allow-foreign-netns/--allow-host-netns */
static void check_namespaces(const struct inject_opts *o)
{
	const struct trigger_info *ti = trigger_info(o->trigger);
	char *err = NULL;

	for (int i = 0; i < o->n_flush_ns; i++)
		if (netns_check_owned(o->flush_ns[i], "flush the conntrack table of", o->allow_ns,
				      &err) < 0)
			die(CTR_EXIT_USAGE, err);
	for (int i = 0; i < o->n_reset_ns; i++)
		if (netns_check_owned(o->reset_ns[i], "kill every process (--reset-ns) in",
				      o->allow_ns, &err) < 0)
			die(CTR_EXIT_USAGE, err);
	if (ti->acts_in != TRIGGER_ACTS_NOWHERE &&
	    netns_check_owned(ti->acts_in == TRIGGER_ACTS_IN_NODE ? o->node_ns : o->hold_ns,
			      ti->acts, o->allow_ns, &err) < 0)
		die(CTR_EXIT_USAGE, err);
	for (int i = 0; o->ct_timeout_s && i < o->n_stat_ns; i++)
		if (netns_check_owned(o->stat_ns[i], "write a conntrack timeout (--ct-timeout) in",
				      o->allow_ns, &err) < 0)
			die(CTR_EXIT_USAGE, err);
}

/* Test hook, as ctr_fault_point in tools/lib/sh/fault.sh: with CTR_FAULT_AT=NAME, the process
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

static bool is_probe(const struct inject_run *r, const struct ctr_pkt *p)
{
	return r->out.injected && trigger_info(r->o->trigger)->place &&
	       p->seq == r->out.probe.seq && p->payload_len == r->out.probe.payload_len &&
	       p->flags == r->out.probe.flags;
}

static void see_client(struct inject_run *r, const struct ctr_pkt *p)
{
	const struct ctr_tuple *rt = &r->find.ct.reply; /* backend -> client */

	if (!r->find.flow || !r->out.injected)
		return;
	if (endpoint_eq(&p->tuple.src, &rt->src) && endpoint_eq(&p->tuple.dst, &rt->dst)) {
		if (!r->out.leaks++)
			r->t.leak = now_ms();
		r->t.last_event = now_ms();
	} else if (is_probe(r, p) && endpoint_eq(&p->tuple.src, &r->find.ct.orig.dst)) {
		r->out.probe_natted = true;
		r->t.last_event = now_ms();
	} else if (r->nat.held && p->seq == r->nat.held_seq && p->payload_len == r->nat.held_len &&
		   endpoint_eq(&p->tuple.src, &r->find.ct.orig.dst)) {
		r->nat.held_at_client++; /* the released copy, NATed: a retransmission */
		r->t.last_event = now_ms();
	} else if ((p->flags & TCPF_RST) && endpoint_eq(&p->tuple.src, &rt->dst) &&
		   endpoint_eq(&p->tuple.dst, &rt->src)) {
		r->out.client_rst = true;
		r->t.last_event = now_ms();
	}
}

static void see_backend(struct inject_run *r, int k, const struct ctr_pkt *p)
{
	if (!flow_see_backend(&r->find, k, p) || !r->out.injected)
		return;
	if (is_probe(r, p)) {
		r->out.probe_left = true;
		r->t.last_event = now_ms();
	} else if (p->payload_len && endpoint_eq(&p->tuple.src, &r->find.ct.reply.src) &&
		   seq_after(p->seq + p->payload_len, r->inject_server_end)) {
		r->data_after = true; /* new data: a retransmission is not */
	} else if ((p->flags & TCPF_RST) && endpoint_eq(&p->tuple.src, &r->find.ct.reply.dst) &&
		   endpoint_eq(&p->tuple.dst, &r->find.ct.reply.src)) {
		r->out.rst_at_backend = true;
		r->t.last_event = now_ms();
	}
}

static void on_segment(void *ctx, const struct capture *c, const struct ctr_pkt *p)
{
	struct inject_run *r = ctx;

	if (c == r->cap[CAPTURE_AT_CLIENT]) {
		see_client(r, p);
		return;
	}
	for (int k = 0; k < r->o->n_backends; k++)
		if (c == r->cap[CAPTURE_AT_BACKEND + k])
			see_backend(r, k, p);
}

/* polls every capture once for up to wait_ms */
static int pump(void *ctx, int wait_ms, char **err)
{
	struct inject_run *r = ctx;
	struct pollfd pfd[MAX_CAPS + 1];
	int map[MAX_CAPS], n = 0;

	for (int i = 0; i < MAX_CAPS; i++)
		if (r->cap[i]) {
			pfd[n] = (struct pollfd){.fd = capture_fd(r->cap[i]), .events = POLLIN};
			map[n++] = i;
		}
	/* delayed-retransmit's queue: every packet of the flow waits for its verdict */
	if (r->hold)
		pfd[n] = (struct pollfd){.fd = hold_fd(r->hold), .events = POLLIN};
	if (poll(pfd, (nfds_t)(n + !!r->hold), wait_ms < 0 ? 0 : wait_ms) < 0 && errno != EINTR)
		return err_errno(err, errno, "poll");
	if (r->hold && pfd[n].revents && hold_dispatch(r->hold, err) < 0)
		return -1;
	for (int k = 0; k < n; k++)
		if (pfd[k].revents && capture_dispatch(r->cap[map[k]], on_segment, r, err) < 0)
			return -1;
	return 0;
}

/* --- phases ------------------------------------------------------------------------------- */

/* client, node, backend, backend1, backend2, ...: one backend keeps the plain name */
static void cap_name(int i, char *buf, size_t n)
{
	if (i < CAPTURE_AT_BACKEND)
		snprintf(buf, n, "%s", i == CAPTURE_AT_CLIENT ? "client" : "node");
	else if (i == CAPTURE_AT_BACKEND)
		snprintf(buf, n, "backend");
	else
		snprintf(buf, n, "backend%d", i - CAPTURE_AT_BACKEND);
}

static int open_captures(struct inject_run *r, char **err)
{
	const struct inject_opts *o = r->o;
	const char *ns[MAX_CAPS] = {o->client_ns, o->node_ns};
	const char *ifn[MAX_CAPS] = {o->client_if, o->node_if};
	char path[PATH_MAX], name[32];

	for (int k = 0; k < o->n_backends; k++) {
		ns[CAPTURE_AT_BACKEND + k] = o->backend_ns[k];
		ifn[CAPTURE_AT_BACKEND + k] = o->backend_if;
	}
	r->find.vip = o->vip;
	r->find.min_acked = o->learn_bytes;
	r->find.n_backends = o->n_backends;
	for (int i = 0; i < CAPTURE_AT_BACKEND + o->n_backends; i++) {
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
		if (i == CAPTURE_AT_CLIENT && o->client_ip.family)
			r->find.client_ip = o->client_ip;
		else if (i == CAPTURE_AT_CLIENT &&
			 link_address(ifn[i], o->vip.addr.family, &r->find.client_ip, err) < 0)
			return err_wrap(err, "client namespace %s", ns[i]);
		if (i >= CAPTURE_AT_BACKEND) {
			int k = i - CAPTURE_AT_BACKEND;

			if (link_address(ifn[i], o->vip.addr.family, &r->find.backend_ip[k], err) <
			    0)
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

static void read_invalid(struct inject_run *r, bool after)
{
	for (int i = 0; i < r->o->n_stat_ns; i++) {
		struct ns_invalid *n = &r->invalid[i];
		char *e = NULL;

		n->ns = r->o->stat_ns[i];
		n->ok = netns_enter(n->ns, &e) == 0 &&
			ct_invalid_count(after ? &n->after : &n->before, &e) == 0;
		free(e);
	}
	netns_set(r->home_fd, "home", NULL);
}

/* ctreset-workload (the stream workload) runs in a thread of this process unless
 * --workload-process (or CTR_WORKLOAD_PROCESS=1) asks for processes */
static enum child_how workload_how(const struct inject_opts *o)
{
	return o->workload_process ? CHILD_PROCESS : CHILD_AUTO;
}

/* the client workload, in the client namespace once the captures are live */
static int start_command(struct inject_run *r, char **err)
{
	if (!r->o->cmd)
		return 0;
	return child_start(&r->cmd, r->o->client_ns, r->o->cmd, 0, workload_how(r->o), err);
}

/* --count, --nfacct: the counters of every --stat-ns namespace (the node's last), read
 * once after the reset and flush and once at the end; what moved goes into OUT/meta.kv */
static void counters_setup(struct counters *c, const struct inject_opts *o)
{
	*c = (struct counters){.have_spec = o->have_count, .spec = o->count, .nfacct = o->nfacct};
	for (int i = 0; i < o->n_stat_ns && i < COUNTERS_MAX_NS; i++)
		c->ns[c->n_ns++] = o->stat_ns[i];
}

/* --read-counters: what counters_read reads, printed; exit 0, or 1 when one could not be
 * read (said on stderr) */
static int print_counters(const struct inject_opts *o)
{
	struct counters c;
	char *err = NULL;
	int home = netns_open("/proc/self/ns/net", &err);

	if (home < 0)
		die(CTR_EXIT_FAIL, err);
	counters_setup(&c, o);
	counters_read(&c, false, home);
	for (int i = 0; i < c.n_ns; i++) {
		if (c.have_spec && c.drop_ok[0][i])
			printf("%s\tdrop\t%llu\n", c.ns[i], (unsigned long long)c.drop[0][i]);
		else if (c.have_spec)
			printf("%s\tdrop\t-\n", c.ns[i]);
		if (c.nfacct && c.acct_ok[0][i])
			printf("%s\tnfacct\t%llu\n", c.ns[i], (unsigned long long)c.acct[0][i]);
		else if (c.nfacct)
			printf("%s\tnfacct\t-\n", c.ns[i]);
	}
	if (c.error)
		fprintf(stderr, "ctreset-inject: %s\n", c.error);
	counters_free(&c);
	close(home);
	return c.error ? CTR_EXIT_FAIL : CTR_EXIT_PASS;
}

/* the counters' lines: with --review, facts of the meta.kv written once at the end;
 * else appended to OUT/meta.kv (the bench's cell file, its coordinates already there) */
static void counters_append_meta(const struct counters *c, const char *out)
{
	char path[PATH_MAX];
	FILE *f;

	if (!c->have_spec && !c->nfacct)
		return;
	if (cell.review) {
		char *buf = NULL, *line, *save = NULL;
		size_t len = 0;

		f = open_memstream(&buf, &len);
		if (!f || counters_meta_lines(c, f) < 0 || fclose(f) != 0) {
			fprintf(stderr, "ctreset-inject: the counters' lines were not written\n");
			free(buf);
			return;
		}
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (cellmeta_add_fact(&cell.meta, "%s", line) < 0)
				fprintf(stderr, "ctreset-inject: meta.kv: no room for %s\n", line);
		free(buf);
		return;
	}
	snprintf(path, sizeof(path), "%s/meta.kv", out);
	f = fopen(path, "ae");
	if (!f || counters_meta_lines(c, f) < 0 || fclose(f) != 0)
		fprintf(stderr, "ctreset-inject: %s: the counters' lines were not written\n", path);
}

/* --server-arg: the backend's server, in the first backend namespace; returns once it
 * wrote its ready line on fd 3 */
static int start_server(struct inject_run *r, char **err)
{
	int rc;

	if (!r->o->n_server_args)
		return 0;
	/* bounded like the flow's learning (--flow-timeout, which the bench scales in a VM):
	 * a fixed 3 s left cells inconclusive on Debian 5.10 under TCG and load ("did not
	 * listen within 3 s") */
	rc = child_start(&r->srv, r->o->backend_ns[0], r->o->server_argv,
			 r->o->flow_timeout_ms > 3000 ? r->o->flow_timeout_ms : 3000,
			 workload_how(r->o), err);
	r->t.server = now_ms();
	return rc;
}

/* empties the --flush-ct namespaces' conntrack tables; an entry a straggler of an earlier
 * run recreates at once is flushed again, a bounded number of times */
static int flush_tables(struct inject_run *r, char **err)
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

/* the trigger's inject step (its row's cause), then what every event shares: the flow's
 * state then, the time the outcome is measured from, and the stream server's next chunk
 * at once: what the outcome waits for is mostly a backend segment after the event
 * (settle: data_after), which then does not wait for the pace's next tick */
static int inject(struct inject_run *r, char **err)
{
	if (trigger_info(r->o->trigger)->cause(r, err) < 0)
		return -1;
	if (r->find.flow) { /* none: a trigger that learns no flow (TRIGGER_LEARNS_NO_FLOW) */
		r->out.learned = *r->find.flow;
		r->inject_server_end = r->find.flow->server.end;
	}
	r->out.injected = true;
	r->t.inject = r->t.last_event = now_ms();
	child_kick(&r->srv);
	return 0;
}

/* ms from now to the first of last + grace, last + quiet and deadline still ahead (at
 * least 1) */
static int settle_wait_ms(uint64_t now, uint64_t last, uint64_t grace, uint64_t quiet,
			  uint64_t deadline)
{
	uint64_t at = deadline;

	if (last + grace > now && last + grace < at)
		at = last + grace;
	else if (last + quiet > now && last + quiet < at)
		at = last + quiet;
	return at > now ? (int)(at - now) : 1;
}

/* Waits until the captures show the outcome: the RST reached the backend, the probe (or
 * delayed-retransmit's released copy) came through NATed, or nothing new for --quiet after
 * the probe left (dropped on the way). */
static int settle(struct inject_run *r, char **err)
{
	const struct trigger_info *ti = trigger_info(r->o->trigger);
	uint64_t deadline = r->t.inject + r->o->settle_ms;
	const uint64_t grace = 5; /* trailing packets of the same burst */
	/* at least the row's: a natural trigger has no probe to see arrive NATed, its
	 * quiet gives the backend's next segments time to show whether they leak */
	const uint64_t quiet =
	    r->o->quiet_ms < ti->quiet_min_ms ? ti->quiet_min_ms : r->o->quiet_ms;

	if (r->out.settled_by) /* the cause saw the outcome itself (connect) */
		return 0;
	while (!interrupted) {
		uint64_t now = now_ms();

		if (now >= deadline) {
			r->out.settled_by = "settle timeout";
			return 0;
		}
		if (r->out.rst_at_backend && now - r->t.last_event >= grace) {
			r->out.settled_by = "client RST reached the backend";
			return 0;
		}
		/* an accepted probe moved conntrack's idea of the backend's window: a FIN the
		 * backend sent with nothing after the probe would be out of it, INVALID, and
		 * leak (the flow's own end taken for the probe's outcome): the cell ends once a
		 * data segment of the backend's own came after the probe, and passed */
		if (!r->out.leaks && r->out.probe_natted && r->data_after &&
		    now - r->t.last_event >= grace) {
			r->out.settled_by = "probe reached the client NATed";
			return 0;
		}
		/* delayed-retransmit: the released copy itself is the event, and it arrived */
		if (!r->out.leaks && r->nat.held_at_client && now - r->t.last_event >= grace) {
			r->out.settled_by = "released copy reached the client NATed";
			return 0;
		}
		/* quiet means "nothing more will come" only once what decides has passed: the
		 * crafted probe left the backend; after any other trigger (an entry gone, an idle
		 * gap, a held segment), a data segment the backend sent after it (one comes every
		 * few ms, but a loaded machine can hold the server back longer than the quiet
		 * period: that cell was once taken for clean). A probe sent in a pause waits for
		 * it too: an IGNOREd probe moved conntrack's td_end past the client's ACKs, and
		 * the flow stopped in the pause ended with the client's FIN IGNOREd and the
		 * backend's FIN ACKing it INVALID, a leak that is the flow's end, not the probe's
		 * (bench/matrix --audit on 6.18: small-overshoot/tcp-loose-0, once in 150) */
		if (now - r->t.last_event >= quiet &&
		    ((r->out.probe_left && (!r->sent_in_pause || r->data_after)) ||
		     (ti->settles_on_data && r->data_after))) {
			r->out.settled_by = "quiet";
			return 0;
		}
		/* every end above is an event (a packet: the poll wakes) or the time passing
		 * grace or quiet after the last one, or the deadline: sleep until the first of
		 * those times, not a tick (a tick woke every settling cell 500 times a second) */
		if (pump(r, settle_wait_ms(now, r->t.last_event, grace, quiet, deadline), err) < 0)
			return -1;
	}
	return err_set(err, "interrupted");
}

/* --wait-command: lets the command end by itself, the captures still recording */
static void wait_command(struct inject_run *r)
{
	uint64_t until = now_ms() + r->o->wait_cmd_ms;

	if (!child_started(&r->cmd) || !r->o->wait_cmd_ms)
		return;
	while (!interrupted && !child_reaped(&r->cmd) && now_ms() < until)
		if (pump(r, 5, NULL) < 0)
			return;
}

static int write_record(struct inject_run *r, const char *error, char **err)
{
	const struct inject_opts *o = r->o;
	const struct record rec = {
	    .trigger = o->trigger,
	    .error = error,
	    .capture_error = r->cap_err,
	    .skip = r->skip ? error : NULL,
	    .hold_ns = o->hold_ns,
	    .vip = &o->vip,
	    .find = &r->find,
	    .out = &r->out,
	    .t = &r->t,
	    .nat = &r->nat,
	    .invalid = r->invalid,
	    .n_invalid = o->n_stat_ns,
	    .backend_ns = o->backend_ns,
	    .n_backends = o->n_backends,
	    .reset_ns = o->reset_ns,
	    .reset_killed = r->reset_killed,
	    .n_reset_ns = o->n_reset_ns,
	    .reset_scanned = !batch_none_left,
	    .srv = &r->srv,
	    .cmd = &r->cmd,
	    .flush_ns = o->flush_ns,
	    .flushed = r->flushed,
	    .flush_left = r->flush_left,
	    .n_flush_ns = o->n_flush_ns,
	    .cap_client = r->cap[CAPTURE_AT_CLIENT],
	    .cap_node = r->cap[CAPTURE_AT_NODE],
	    .cap_backend = r->cap[CAPTURE_AT_BACKEND + r->find.bk],
	};

	return record_write(o->out, &rec, err);
}

/* appends LINE and a newline to OUT/NAME */
static void append_line(const char *out, const char *name, const char *line)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out, name);
	f = fopen(path, "ae");
	if (!f)
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

/* --review: the cell finished here, as bench/lib.sh's ctr_run_scenario finished it after
 * the injector (and still does when the injector leaves no record.kv): the skip or the
 * missing server record said, the counters read, meta.kv written once, the review, then
 * time.verdict_ms. rc and err: the run's (rc < 0: failed). Returns the exit status. */
static int finish_cell(const struct inject_opts *o, bool skip, int rc, const char *err,
		       uint64_t start)
{
	struct cellmeta_times t = {.start = start, .inject = cellmeta_now_ms()};
	char vpath[PATH_MAX], *cerr = NULL;
	int code = rc < 0 ? (skip ? CTR_EXIT_SKIP : CTR_EXIT_FAIL) : CTR_EXIT_PASS;

	/* the injector's own failure first: its words came before the review's */
	if (rc < 0)
		fprintf(stderr, "ctreset-inject: %s\n", err ? err : "out of memory");
	if (skip) {
		snprintf(vpath, sizeof(vpath), "%s/skip", o->out);
		remove(vpath);
		append_line(o->out, "skip", err ? err : "-");
	}
	snprintf(vpath, sizeof(vpath), "%s/server.kv", o->out);
	if (o->n_server_args && access(vpath, F_OK) != 0)
		append_line(o->out, "error", "server left no record");
	t.end = cellmeta_now_ms();
	if (cellmeta_write(&cell.meta, o->out, &t, &cerr) < 0) {
		/* no meta.kv, no review: the bench finds no record.kv and does both itself */
		fprintf(stderr, "ctreset-inject: %s\n", cerr);
		free(cerr);
		return code == CTR_EXIT_PASS ? CTR_EXIT_FAIL : code;
	}
	/* its message as the review's own program wrote it (the cell's error file is the
	 * same whichever ran it) */
	if (review_cell_files(o->out, false, &cerr) < 0) {
		fprintf(stderr, "ctreset-review: %s\n", cerr ? cerr : "out of memory");
		free(cerr);
		cerr = NULL;
		if (code == CTR_EXIT_PASS)
			code = CTR_EXIT_FAIL;
	}
	if (cellmeta_append(o->out, "time.verdict_ms", cellmeta_now_ms() - t.end, &cerr) < 0) {
		fprintf(stderr, "ctreset-inject: %s\n", cerr);
		free(cerr);
	}
	cellmeta_free(&cell.meta);
	return code;
}

/* the sequence: reset, flush, captures, server, command, flow, event, outcome, record
 * (one cell: the program's, or a --cells batch's child's) */
static int cell_main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t stop_sigs;
	struct inject_opts o;
	struct inject_run r = {.o = &o, .pump = pump, .interrupted = &interrupted, .node_fd = -1};
	struct counters ctr;
	const struct trigger_info *ti;
	char *err = NULL, *werr = NULL;
	int rc = -1;
	uint64_t start = cellmeta_now_ms();
	bool no_flow;

	parse(argc, argv, &o);
	ti = trigger_info(o.trigger);
	/* the client's connection is the event, from its start (connect): the counts are
	 * read before it, no flow is found, --delay is the row's */
	no_flow = ti->options & TRIGGER_LEARNS_NO_FLOW;
	if (geteuid() != 0)
		die(CTR_EXIT_SKIP,
		    strdup("needs root (network namespaces, raw sockets): run with sudo"));
	if (o.read_counters)
		exit(print_counters(&o));
	check_namespaces(&o);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a batch's child starts with them blocked: one sent meanwhile is this cell's now */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
	if (mkdir(o.out, 0755) < 0 && errno != EEXIST)
		die(CTR_EXIT_FAIL, (err_errno(&err, errno, "%s", o.out), err));
	r.home_fd = netns_open("/proc/self/ns/net", &err);
	if (r.home_fd < 0)
		die(CTR_EXIT_FAIL, err);
	r.t.start = now_ms();
	counters_setup(&ctr, &o);
	if ((batch_none_left
		 ? 0
		 : child_reset_ns(o.reset_ns, o.n_reset_ns, r.reset_killed, &err)) == 0 &&
	    flush_tables(&r, &err) == 0 && (counters_read(&ctr, false, r.home_fd), 1) &&
	    natural_set_timeouts(&r.nat, o.stat_ns, o.n_stat_ns, o.ct_timeout_s, r.home_fd, &err) ==
		0 &&
	    (r.t.reset = now_ms(), open_captures(&r, &err) == 0) &&
	    (!ti->ct_events || (natural_events_start(&r.nat, o.out, r.node_fd, o.node_ns), 1)) &&
	    (r.t.ready = now_ms(), start_server(&r, &err) == 0) &&
	    (!o.n_server_args || (fault_point("scenario.server"), 1)) &&
	    (!no_flow || (read_invalid(&r, false), 1)) && start_command(&r, &err) == 0 &&
	    (no_flow || flow_find(&r.find, r.node_fd, r.home_fd, o.flow_timeout_ms, pump, &r,
				  &interrupted, &err) == 0) &&
	    (r.t.flow = now_ms(),
	     no_flow || !o.delay_ms ||
		 flow_follow(&r.find, o.delay_ms, pump, &r, &interrupted, &err) == 0)) {
		if (!no_flow)
			read_invalid(&r, false);
		fault_point("inject.flow");
		if (inject(&r, &err) == 0 && (fault_point("inject.sent"), settle(&r, &err) == 0))
			rc = 0;
		r.t.settled = now_ms();
		read_invalid(&r, true);

		if (rc == 0)
			wait_command(&r);
	}
	netns_set(r.home_fd, "home", NULL);
	/* after a failure or a signal too: nothing the trigger did is left (the backend
	 * stopped, a segment held) */
	if (ti->cleanup)
		ti->cleanup(&r);
	child_stop(&r.cmd, true, 1000);
	natural_events_stop(&r.nat, o.out, r.find.flow ? &r.find.ct : NULL, &o.vip);
	natural_restore_timeouts(&r.nat, o.stat_ns, o.n_stat_ns, r.home_fd);
	child_stop(&r.srv, false, 2000);
	counters_read(&ctr, true, r.home_fd);
	counters_append_meta(&ctr, o.out);
	counters_free(&ctr);
	/* drain what the last moments left in the capture buffers into the files: an nflog
	 * capture hands over one netlink buffer per read, so read until nothing is left */
	for (int i = 0; i < MAX_CAPS; i++)
		for (int n = 0; r.cap[i] && n < 100000; n++)
			if (capture_dispatch(r.cap[i], on_segment, &r, NULL) <= 0)
				break;
	/* a capture the disk did not take whole is no evidence: the run fails, and inject.kv
	 * (if it can be written) says so, for the review to decide nothing on it */
	for (int i = 0; i < MAX_CAPS; i++) {
		char *cerr = NULL;

		if (capture_flush(r.cap[i], &cerr) < 0 && !r.cap_err)
			r.cap_err = cerr;
		else
			free(cerr);
	}
	if (r.cap_err && rc == 0) {
		rc = -1;
		err = strdup(r.cap_err);
	}
	if (write_record(&r, rc < 0 ? err : NULL, &werr) < 0) {
		/* no record, no pass: the bench has nothing to judge */
		if (rc == 0) {
			rc = -1;
			err = werr;
			werr = NULL;
		} else {
			fprintf(stderr, "ctreset-inject: %s\n", werr);
		}
	}
	free(r.cap_err);
	for (int i = 0; i < MAX_CAPS; i++)
		capture_close(r.cap[i]);
	for (int k = 0; k < MAX_BACKENDS; k++)
		craft_free(r.craft[k]);
	if (cell.review) {
		rc = finish_cell(&o, r.skip, rc, err, start);
		free(err);
		free(werr);
		return rc;
	}
	if (rc < 0)
		die(r.skip ? CTR_EXIT_SKIP : CTR_EXIT_FAIL, err);
	free(werr);
	return CTR_EXIT_PASS;
}

/* --- --cells: a batch of cells, each in a forked child -------------------------------------- */

static volatile sig_atomic_t batch_stop; /* the signal that stops the batch */
static volatile pid_t batch_child;	 /* the running cell's child */

static void batch_on_signal(int sig)
{
	int e = errno;

	batch_stop = sig;
	if (batch_child > 0)
		kill(batch_child, sig);
	errno = e;
}

static void batch_usage(const char *msg)
{
	fprintf(stderr, "ctreset-inject: --cells: %s (see --help)\n", msg);
	exit(CTR_EXIT_USAGE);
}

/* the option's value when WORD is --NAME VALUE (*i moved past it) or --NAME=VALUE, else
 * NULL */
static const char *batch_opt(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc)
		batch_usage("an option at the end of the command line lacks its value");
	return argv[++*i];
}

static void write_state(const char *path, const char *what)
{
	FILE *f;

	if (!path || !(f = fopen(path, "we")))
		return;
	fprintf(f, "%s\n", what);
	fclose(f);
}

static int batch_main(int argc, char **argv)
{
	const char *list_path = NULL, *state = NULL, *v;
	char **common = calloc((size_t)argc + 1, sizeof(char *)), ***cargv, t0buf[32], *err = NULL;
	int n_common = 0, *cargc, errfd, devnull, worst = CTR_EXIT_PASS;
	uint64_t t0_ms = 0;
	struct batch_list l;
	struct batch_cell *bc;
	struct sigaction sa = {.sa_handler = batch_on_signal};
	sigset_t stop_sigs;

	if (!common)
		die(CTR_EXIT_FAIL, NULL);
	/* a batch is started with LD_BIND_NOW=1 (bench/lib.sh): its libraries bound once here,
	 * each cell's fork inherits the bindings. Not passed on to the programs the cells run
	 * (iptables, nft: each would bind all of its plugins' symbols for nothing) */
	unsetenv("LD_BIND_NOW");
	common[n_common++] = argv[0];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			batch_usage(
			    "a cell's client command goes after -- in its own words, not on "
			    "the command line");
		if ((v = batch_opt(argc, argv, &i, "--cells")))
			list_path = v;
		else if ((v = batch_opt(argc, argv, &i, "--cell-state")))
			state = v;
		else if ((v = batch_opt(argc, argv, &i, "--t0-us"))) {
			char *end;

			errno = 0;
			t0_ms = strtoull(v, &end, 10) / 1000;
			if (errno || *end || !*v || v[0] == '-')
				bad_arg(v, "--t0-us takes microseconds since the epoch");
		} else
			common[n_common++] = argv[i];
	}
	if (batch_list_read(&l, list_path, &err) < 0)
		batch_usage(err);
	cargv = calloc((size_t)l.n_cells, sizeof(*cargv));
	cargc = calloc((size_t)l.n_cells, sizeof(*cargc));
	bc = calloc((size_t)l.n_cells, sizeof(*bc));
	if (!cargv || !cargc || !bc)
		die(CTR_EXIT_FAIL, NULL);
	/* every cell parsed before the first runs: the common options, --review, the t0 the
	 * batch gives it (its own --t0-us after, if any), its words */
	for (int c = 0; c < l.n_cells; c++) {
		struct inject_opts o;
		bool has_out = false;
		char **a = calloc((size_t)(n_common + 4 + l.n_words[c]), sizeof(char *));

		if (!a)
			die(CTR_EXIT_FAIL, NULL);
		for (int k = 0; k < l.n_words[c] && strcmp(l.cells[c][k], "--"); k++)
			if (!strcmp(l.cells[c][k], "--out") || !strncmp(l.cells[c][k], "--out=", 6))
				has_out = true;
		if (!has_out) {
			char msg[128];

			snprintf(msg, sizeof(msg), "cell %d has no --out DIR", c + 1);
			batch_usage(msg);
		}
		memcpy(a, common, sizeof(char *) * (size_t)n_common);
		cargc[c] = n_common;
		a[cargc[c]++] = "--review";
		memcpy(a + cargc[c], l.cells[c], sizeof(char *) * (size_t)l.n_words[c]);
		cargc[c] += l.n_words[c];
		cargv[c] = a;
		optind = 0;
		cell = (__typeof__(cell)){0};
		parse(cargc[c], a, &o);
		bc[c] = (struct batch_cell){.out = o.out,
					    .n_meta = cell.meta.n_given,
					    .t0_ms = cell.meta.t0_ms,
					    .has_server = o.n_server_args > 0,
					    .trigger = trigger_info(o.trigger)->name,
					    .review = review_cell_files};
		bc[c].meta = malloc(sizeof(char *) * (size_t)(cell.meta.n_given + 1));
		if (!bc[c].meta)
			die(CTR_EXIT_FAIL, NULL);
		memcpy(bc[c].meta, cell.meta.given, sizeof(char *) * (size_t)cell.meta.n_given);
		/* the batch's t0 for it, before its words: its own --t0-us wins */
		memmove(a + n_common + 3, a + n_common + 1, sizeof(char *) * (size_t)l.n_words[c]);
		a[n_common + 1] = "--t0-us";
		a[n_common + 2] = t0buf;
		cargc[c] += 2;
	}
	cell = (__typeof__(cell)){0};
	if (geteuid() != 0)
		die(CTR_EXIT_SKIP,
		    strdup("needs root (network namespaces, raw sockets): run with sudo"));
	errfd = memfd_create("ctreset-cell-stderr", MFD_CLOEXEC);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	/* appended to by the cell, what it starts and this: no hole after a truncation */
	if (errfd < 0 || devnull < 0 || fcntl(errfd, F_SETFL, O_APPEND) < 0)
		die(CTR_EXIT_FAIL, (err_errno(&err, errno, "memfd_create, /dev/null"), err));
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!t0_ms)
		t0_ms = cellmeta_now_ms();
	/* what a cell leaves running (a workload process its error path did not stop, a tool
	 * it was killed in the middle of) is orphaned to this process, not to init: after
	 * each cell, no child left at all proves its namespaces hold nothing of it */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die(CTR_EXIT_FAIL, (err_errno(&err, errno, "prctl(PR_SET_CHILD_SUBREAPER)"), err));
	for (int c = 0; c < l.n_cells && !batch_stop; c++) {
		uint64_t start, end;
		int status = 0, rc;
		pid_t pid;

		write_state(state, bc[c].trigger);
		if (!bc[c].t0_ms)
			bc[c].t0_ms = t0_ms;
		snprintf(t0buf, sizeof(t0buf), "%llu", (unsigned long long)bc[c].t0_ms * 1000);
		if (ftruncate(errfd, 0) < 0 || lseek(errfd, 0, SEEK_SET) < 0)
			die(CTR_EXIT_FAIL, (err_errno(&err, errno, "the cells' stderr"), err));
		fflush(NULL);
		sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
		start = cellmeta_now_ms();
		pid = fork();
		if (pid == 0) {
			dup2(devnull, STDOUT_FILENO);
			dup2(errfd, STDERR_FILENO);
			optind = 0;
			rc = cell_main(cargc[c], cargv[c]);
			/* its files are closed and its threads joined by now: no exit handlers (the
			 * libraries' destructors, ~3% of a cell's CPU, tear down what the process's
			 * end frees anyway) */
			fflush(NULL);
			_exit(rc);
		}
		if (pid < 0) {
			sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
			die(CTR_EXIT_FAIL, (err_errno(&err, errno, "fork"), err));
		}
		batch_child = pid;
		sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
		if (batch_stop)
			kill(pid, batch_stop);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		batch_child = 0;
		/* the first cell's reset scans (what was there before the batch); a later one's
		 * only when a descendant of the cells before it is still alive */
		for (;;) {
			pid_t left = waitpid(-1, NULL, WNOHANG);

			if (left > 0)
				continue; /* one that ended meanwhile: reaped */
			batch_none_left = left < 0 && errno == ECHILD;
			break;
		}
		end = cellmeta_now_ms();
		rc = batch_cell_finish(&bc[c], status, errfd, start, end);
		printf("%s\t%d\n", bc[c].out, rc);
		fflush(stdout);
		if (rc)
			worst = CTR_EXIT_FAIL;
		t0_ms = cellmeta_now_ms();
	}
	for (int c = 0; c < l.n_cells; c++) {
		free(cargv[c]);
		free((void *)bc[c].meta);
	}
	free(cargv);
	free(cargc);
	free(bc);
	free(common);
	batch_list_free(&l);
	close(errfd);
	close(devnull);
	return batch_stop ? 130 : worst;
}

int main(int argc, char **argv)
{
	/* --cells among the options (before a --): a batch */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--cells") || !strncmp(argv[i], "--cells=", 8))
			return batch_main(argc, argv);
	return cell_main(argc, argv);
}
