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

int flow_name(struct flow_find *ff, int node_fd, int home_fd, char **err)
{
	struct ct_flow found[64];
	const size_t max = sizeof(found) / sizeof(found[0]);
	size_t n = 0;
	int rc;

	if (netns_set(node_fd, "the DNAT node", err) < 0)
		return -1;
	rc = ct_find_by_orig(&ff->vip, &ff->client_ip, found, max, &n, err);
	netns_set(home_fd, "home", NULL);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n && i < max; i++) {
		if (!addr_eq(&found[i].orig.src.addr, &ff->client_ip) ||
		    found[i].tcp_state != CT_TCP_ESTABLISHED)
			continue;
		for (int k = 0; k < ff->n_cand; k++) {
			if (!tuple_eq(&ff->cand[k].tuple, &found[i].reply) ||
			    !learn_ready(&ff->cand[k], NULL))
				continue;
			ff->ct = found[i];
			ff->flow = &ff->cand[k];
			ff->bk = ff->cand_backend[k];
			return 1;
		}
	}
	return 0;
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
