/* delayed-retransmit's hold: one NFQUEUE rule (iptables or nftables), one libnl-nf queue, one
 * segment kept back without a verdict until it is released. */
#include "hold.h"
#include "netns.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/pkt.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <netlink/msg.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netfilter/queue.h>
#include <netlink/netfilter/queue_msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOLD_TABLE "ctreset-hold"
#define LINKTYPE_RAW 101 /* the queue hands over the IP packet */
/* bytes of each queued packet copied to us: the headers (IPv6 with extension headers,
 * TCP with options) are all it reads; small messages keep the socket from overflowing
 * while a slow machine (a TCG guest) is busy elsewhere */
#define HOLD_COPY 256
#define HOLD_RCVBUF (4 << 20)

struct hold {
	struct nl_sock *sk;   /* the queue's netlink socket, made in the node namespace */
	struct nfnl_queue *q; /* its configuration (number, copy mode) */
	int ns_fd;	      /* the node namespace, for nft or iptables */
	bool xt;	      /* the rule is x_tables' NFQUEUE target (no nft queue expression) */
	const char *ns;	      /* its name, for messages */
	struct ctr_tuple s2c; /* the flow's backend -> client direction */
	struct nfnl_queue_msg *kept; /* the held packet's queue message, until released */
	bool held, released;
	bool ruled;	/* the rule is loaded */
	uint16_t queue; /* its queue number */
	struct hold_seg seg;
	int cb_err; /* a libnl error inside the callback */
};

int hold_ruleset(const struct ctr_tuple *s2c, uint16_t queue, char *buf, size_t n)
{
	const char *ip = s2c->src.addr.family == AF_INET6 ? "ip6" : "ip";
	char src[CTR_ADDRSTRLEN], dst[CTR_ADDRSTRLEN];
	int len;

	/* "table; delete table; table {...}": loads over a leftover of a killed run */
	len = snprintf(buf, n,
		       "table inet " HOLD_TABLE " {}\n"
		       "delete table inet " HOLD_TABLE "\n"
		       "table inet " HOLD_TABLE " {\n"
		       "\tchain prerouting {\n"
		       "\t\ttype filter hook prerouting priority -300; policy accept;\n"
		       "\t\t%s saddr %s %s daddr %s tcp sport %u tcp dport %u queue num %u "
		       "bypass\n"
		       "\t}\n"
		       "}\n",
		       ip, addr_str(&s2c->src.addr, src), ip, addr_str(&s2c->dst.addr, dst),
		       s2c->src.port, s2c->dst.port, queue);
	return len > 0 && (size_t)len < n ? 0 : -1;
}

/* runs argv in the node namespace with input (NULL: none) on its stdin; its output (first
 * line) into out. The exit status, 127 when the program could not be run. */
static int run_tool(int ns_fd, char *const argv[], const char *input, char *out, size_t n)
{
	int in[2], res[2], st;
	size_t got;
	ssize_t r;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(res, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	/* vfork: the child borrows this process's memory until its exec (what it does before
	 * is dup2, setns and execvp, none of which writes memory the parent relies on). A fork
	 * copied the page tables of every mapping, the capture rings' 24 MiB with them, and
	 * the parent then paid a copy-on-write fault for each page it touched */
	pid = vfork();
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(res[1], STDOUT_FILENO);
		dup2(res[1], STDERR_FILENO);
		if (netns_set(ns_fd, "the hold node", NULL) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	got = 0;
	/* a short write shows in nft's status. A program that could not be run has exited by
	 * the time of the write, often: SIGPIPE, ignored around it in this process only (the
	 * child keeps the default), would kill the injector (seen: a cell of test_natural whose
	 * PATH has no nft, "killed by signal 13" instead of its skip) */
	if (pid > 0 && input) {
		struct sigaction ign = {.sa_handler = SIG_IGN}, old;

		sigemptyset(&ign.sa_mask);
		sigaction(SIGPIPE, &ign, &old);
		if (write(in[1], input, strlen(input)) < 0)
			out[0] = 0;
		sigaction(SIGPIPE, &old, NULL);
	}
	close(in[1]);
	while (got < n - 1 && (r = read(res[0], out + got, n - 1 - got)) > 0)
		got += (size_t)r;
	close(res[0]);
	out[got] = 0;
	out[strcspn(out, "\n")] = 0;
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* the x_tables rule: iptables' NFQUEUE target in raw PREROUTING (before conntrack too),
 * for a kernel whose nf_tables has no queue expression; op is -I or -D */
static int run_xt(struct hold *h, const char *op, uint16_t queue, char *out, size_t n)
{
	char src[CTR_ADDRSTRLEN], dst[CTR_ADDRSTRLEN], sport[8], dport[8], qn[8];
	char *argv[] = {h->s2c.src.addr.family == AF_INET6 ? "ip6tables" : "iptables",
			"-w",
			"-t",
			"raw",
			(char *)op,
			"PREROUTING",
			"-p",
			"tcp",
			"-s",
			src,
			"--sport",
			sport,
			"-d",
			dst,
			"--dport",
			dport,
			"-m",
			"comment",
			"--comment",
			HOLD_TABLE,
			"-j",
			"NFQUEUE",
			"--queue-num",
			qn,
			"--queue-bypass",
			NULL};

	addr_str(&h->s2c.src.addr, src);
	addr_str(&h->s2c.dst.addr, dst);
	snprintf(sport, sizeof(sport), "%u", h->s2c.src.port);
	snprintf(dport, sizeof(dport), "%u", h->s2c.dst.port);
	snprintf(qn, sizeof(qn), "%u", queue);
	return run_tool(h->ns_fd, argv, NULL, out, n);
}

static void on_packet(struct nl_object *obj, void *arg)
{
	struct nfnl_queue_msg *m = (struct nfnl_queue_msg *)obj;
	struct hold *h = arg;
	struct ctr_pkt p;
	const void *data;
	int len = 0, rc;

	data = nfnl_queue_msg_get_payload(m, &len);
	if (!h->held && data && len > 0 &&
	    pkt_decode(LINKTYPE_RAW, data, (size_t)len, &p, NULL) == PKT_TCP &&
	    tuple_eq(&p.tuple, &h->s2c) && p.payload_len > 0 &&
	    !(p.flags & (TCPF_SYN | TCPF_FIN | TCPF_RST))) {
		nl_object_get(obj);
		h->kept = m;
		h->held = true;
		h->seg = (struct hold_seg){
		    .seq = p.seq, .ack = p.ack, .len = p.payload_len, .t_held = now_ms()};
		return;
	}
	nfnl_queue_msg_set_verdict(m, NF_ACCEPT);
	rc = nfnl_queue_msg_send_verdict(h->sk, m);
	if (rc < 0)
		h->cb_err = rc;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	nl_msg_parse(msg, on_packet, arg);
	return NL_OK;
}

static struct hold *fail(struct hold *h, int home_fd, bool unavail, bool *unavailable)
{
	*unavailable = unavail;
	hold_free(h, home_fd, NULL);
	return NULL;
}

struct hold *hold_new(const char *ns, int home_fd, const struct ctr_tuple *s2c, uint16_t queue,
		      bool *unavailable, char **err)
{
	struct hold *h = calloc(1, sizeof(*h));
	char rules[1024], out[300];
	int rc;

	*unavailable = false;
	if (!h) {
		err_set(err, "out of memory");
		return NULL;
	}
	h->ns = ns;
	h->s2c = *s2c;
	h->queue = queue;
	h->ns_fd = netns_open(ns, err);
	if (h->ns_fd < 0) {
		free(h);
		return NULL;
	}
	if (netns_set(h->ns_fd, ns, err) < 0)
		return fail(h, home_fd, false, unavailable);
	/* the socket belongs to the namespace it is made in; configured with acks, so that a
	 * refused bind is known here, then read without (queued packets carry no sequence) */
	h->sk = nfnl_queue_socket_alloc();
	h->q = nfnl_queue_alloc();
	if (!h->sk || !h->q) {
		err_set(err, "out of memory");
		return fail(h, home_fd, false, unavailable);
	}
	rc = nl_connect(h->sk, NETLINK_NETFILTER);
	if (rc < 0) {
		err_set(err, "NFQUEUE unavailable in %s: netlink netfilter socket: %s", ns,
			nl_geterror(rc));
		return fail(h, home_fd, true, unavailable);
	}
	nl_socket_enable_auto_ack(h->sk);
	nfnl_queue_set_group(h->q, queue);
	nfnl_queue_set_copy_mode(h->q, NFNL_QUEUE_COPY_PACKET);
	nfnl_queue_set_copy_range(h->q, HOLD_COPY);
	rc = nfnl_queue_create(h->sk, h->q);
	if (rc < 0) {
		err_set(err, "NFQUEUE unavailable in %s: binding queue %u: %s", ns, queue,
			nl_geterror(rc));
		return fail(h, home_fd, true, unavailable);
	}
	nl_socket_disable_auto_ack(h->sk);
	nl_socket_disable_seq_check(h->sk);
	nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, h);
	/* a packet whose message does not fit is dropped by the kernel (TCP sends it again),
	 * not left waiting: no ENOBUFS to report, and room for a burst (root may force it) */
	setsockopt(nl_socket_get_fd(h->sk), SOL_NETLINK, NETLINK_NO_ENOBUFS, &(int){1},
		   sizeof(int));
	setsockopt(nl_socket_get_fd(h->sk), SOL_SOCKET, SO_RCVBUFFORCE, &(int){HOLD_RCVBUF},
		   sizeof(int));
	if (nl_socket_set_nonblocking(h->sk) < 0) {
		err_set(err, "NFQUEUE socket: cannot make it non-blocking");
		return fail(h, home_fd, false, unavailable);
	}
	if (netns_set(home_fd, "home", err) < 0)
		return fail(h, home_fd, false, unavailable);
	if (hold_ruleset(s2c, queue, rules, sizeof(rules)) < 0) {
		err_set(err, "the NFQUEUE ruleset does not fit");
		return fail(h, home_fd, false, unavailable);
	}
	/* x_tables' NFQUEUE target first: one program that works on every kernel the bench
	 * meets; nft's queue expression (nft_queue) is missing from some (this machine's), and
	 * trying it first cost every cell an exec of nft that failed */
	h->xt = true;
	rc = run_xt(h, "-I", queue, out, sizeof(out));
	if (rc != 0) {
		/* no iptables, or no NFQUEUE target: the nftables table then */
		char out2[300];
		int rc2;

		h->xt = false;
		rc2 = run_tool(h->ns_fd, (char *[]){"nft", "-f", "-", NULL}, rules, out2,
			       sizeof(out2));
		if (rc2 != 0) {
			err_set(err,
				"NFQUEUE unavailable in %s: nft's queue (exit %d: %s), iptables' "
				"NFQUEUE target (exit %d: %s)",
				ns, rc2, out2, rc, out);
			return fail(h, home_fd, true, unavailable);
		}
	}
	h->ruled = true;
	return h;
}

int hold_fd(const struct hold *h)
{
	return nl_socket_get_fd(h->sk);
}

int hold_dispatch(struct hold *h, char **err)
{
	for (int i = 0; i < 64; i++) {
		int rc = nl_recvmsgs_default(h->sk);

		if (h->cb_err)
			return err_set(err, "NFQUEUE verdict: %s", nl_geterror(h->cb_err));
		/* -NLE_NOMEM: the socket overflowed all the same; what was lost was dropped */
		if (rc == -NLE_AGAIN || rc == 0 || rc == -NLE_NOMEM)
			return 0;
		if (rc < 0)
			return err_set(err, "NFQUEUE: %s", nl_geterror(rc));
	}
	return 0;
}

bool hold_held(const struct hold *h, struct hold_seg *seg)
{
	if (h->held && seg)
		*seg = h->seg;
	return h->held;
}

int hold_release(struct hold *h, char **err)
{
	int rc;

	if (!h->kept)
		return err_set(err, "no segment is held");
	nfnl_queue_msg_set_verdict(h->kept, NF_ACCEPT);
	rc = nfnl_queue_msg_send_verdict(h->sk, h->kept);
	nfnl_queue_msg_put(h->kept);
	h->kept = NULL;
	if (rc < 0)
		return err_set(err, "releasing the held segment: %s", nl_geterror(rc));
	h->released = true;
	return 0;
}

int hold_free(struct hold *h, int home_fd, char **err)
{
	char out[300];
	int rc = 0, st;

	if (!h)
		return 0;
	if (h->ruled) {
		st = h->xt ? run_xt(h, "-D", h->queue, out, sizeof(out))
			   : run_tool(h->ns_fd, (char *[]){"nft", "-f", "-", NULL},
				      "delete table inet " HOLD_TABLE "\n", out, sizeof(out));
		if (st != 0)
			rc = err_set(err, "removing the NFQUEUE rule in %s: %s exited %d: %s",
				     h->ns, h->xt ? "iptables" : "nft", st, out);
	}
	if (h->sk)
		hold_dispatch(h, NULL); /* what the rule queued before it went: accepted */
	if (h->kept)
		nfnl_queue_msg_put(h->kept);
	if (h->sk && h->q)
		nfnl_queue_delete(h->sk, h->q);
	if (h->q)
		nfnl_queue_put(h->q);
	if (h->sk)
		nl_socket_free(h->sk);
	if (h->ns_fd >= 0)
		close(h->ns_fd);
	netns_set(home_fd, "home", NULL);
	free(h);
	return rc;
}
