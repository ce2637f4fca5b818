/* Flow finding: candidates from the backend captures' handshakes, named by the DNAT node's
 * conntrack entry whose reply tuple is theirs. */
#include "flow.h"
#include "netns.h"
#include "base/clock.h"
#include "base/err.h"

#define CT_POLL_MS 2

bool flow_see_backend(struct flow_find *ff, int k, const struct ctr_pkt *p)
{
	if (!ff->flow) {
		/* a client's SYN to this backend starts a candidate flow */
		if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN &&
		    addr_eq(&p->tuple.dst.addr, &ff->backend_ip[k]) &&
		    ff->n_cand < FLOW_MAX_CANDIDATES) {
			struct ctr_tuple s2c = tuple_reverse(&p->tuple);
			bool known = false;

			for (int i = 0; i < ff->n_cand && !known; i++)
				known =
				    ff->cand_backend[i] == k && tuple_eq(&ff->cand[i].tuple, &s2c);
			if (!known) {
				ff->cand_backend[ff->n_cand] = k;
				learn_init(&ff->cand[ff->n_cand++], &s2c);
			}
		}
		for (int i = 0; i < ff->n_cand; i++)
			if (ff->cand_backend[i] == k && learn_segment(&ff->cand[i], p))
				break;
		return false;
	}
	if (k != ff->bk)
		return false;
	learn_segment(ff->flow, p);
	return true;
}

/* each candidate ready to learn from is looked up by its reply tuple (an O(1) query: the
 * poll runs every CT_POLL_MS, and a dump would walk the table every namespace shares) */
int flow_name(struct flow_find *ff, int node_fd, int home_fd, char **err)
{
	int rc = 0;

	if (netns_set(node_fd, "the DNAT node", err) < 0)
		return -1;
	for (int k = 0; k < ff->n_cand && rc == 0; k++) {
		struct ct_flow f;

		if (!learn_ready(&ff->cand[k], NULL) ||
		    ff->cand[k].client.ack - ff->cand[k].server.isn - 1 < ff->min_acked)
			continue;
		rc = ct_get_by_reply(&ff->cand[k].tuple, &f, err);
		if (rc <= 0)
			continue;
		if (!endpoint_eq(&f.orig.dst, &ff->vip) ||
		    !addr_eq(&f.orig.src.addr, &ff->client_ip) ||
		    f.tcp_state != CT_TCP_ESTABLISHED) {
			rc = 0;
			continue;
		}
		ff->ct = f;
		ff->flow = &ff->cand[k];
		ff->bk = ff->cand_backend[k];
	}
	netns_set(home_fd, "home", NULL);
	return rc;
}

int flow_find(struct flow_find *ff, int node_fd, int home_fd, unsigned timeout_ms,
	      int (*pump)(void *ctx, int wait_ms, char **err), void *ctx,
	      const volatile sig_atomic_t *interrupted, char **err)
{
	uint64_t deadline = now_ms() + timeout_ms, last_ct = 0;
	const char *why = "no handshake to the backend captured";

	while (!*interrupted) {
		if (now_ms() >= deadline) {
			for (int k = 0; k < ff->n_cand; k++)
				learn_ready(&ff->cand[k], &why);
			return err_set(err, "no established flow to %s found within %u ms (%s)",
				       endpoint_str(&ff->vip, (char[CTR_EPSTRLEN]){0}), timeout_ms,
				       why ? why : "conntrack has no entry");
		}
		if (pump(ctx, CT_POLL_MS, err) < 0)
			return -1;
		if (ff->n_cand && now_ms() - last_ct >= CT_POLL_MS) {
			int rc = flow_name(ff, node_fd, home_fd, err);

			last_ct = now_ms();
			if (rc != 0)
				return rc < 0 ? -1 : 0;
		}
	}
	return err_set(err, "interrupted");
}

int flow_follow(struct flow_find *ff, unsigned ms, int (*pump)(void *ctx, int wait_ms, char **err),
		void *ctx, const volatile sig_atomic_t *interrupted, char **err)
{
	uint64_t until = now_ms() + ms;

	while (!*interrupted) {
		if (ff->flow->server.closed || ff->flow->client.closed)
			return err_set(err, "the flow closed within the %u ms delay", ms);
		if (now_ms() >= until)
			return 0;
		if (pump(ctx, 2, err) < 0)
			return -1;
	}
	return err_set(err, "interrupted");
}
