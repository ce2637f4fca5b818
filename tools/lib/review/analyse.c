#include "analyse.h"
#include "base/err.h"
#include "base/seq.h"

#include <stdlib.h>
#include <string.h>

/* Copies of one packet at two capture points (or on both sides of the NAT in one capture)
 * are microseconds apart; a retransmission of it, with a new IPv4 id, never matches. */
#define TWIN_US 200000u
#define CONTEXT_BEFORE 2
#define CONTEXT_AFTER 3
#define RECENT_ROWS 32

/* endpoint_eq() without the call for IPv4, on every segment's lookup */
static inline bool ep_same(const struct ctr_endpoint *a, const struct ctr_endpoint *b)
{
	if (a->port != b->port || a->addr.family != b->addr.family)
		return false;
	if (a->addr.family == AF_INET)
		return a->addr.u.v4.s_addr == b->addr.u.v4.s_addr;
	return endpoint_eq(a, b);
}

static uint64_t apart(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* one key of the connection table: a flow has its VIP-side 4-tuple and, once known, its
 * backend-side one */
struct key {
	struct ctr_tuple t; /* canonical */
	uint32_t hash;
	uint32_t flow; /* index + 1; 0 = empty slot */
	bool back;     /* the backend-side tuple */
};

/* a client SYN, to pair the DNATed copy of the same SYN seen past the NAT */
struct synrec {
	struct ctr_endpoint client;
	uint32_t isn;
	uint32_t flow; /* index + 1; 0 = empty */
};

struct analyse {
	struct analyse_opts o;
	struct svcmap own_svc; /* when the caller gave none */
	struct svcmap *svc;
	struct analyse_cap caps[ANALYSE_MAX_CAPS];
	size_t ncaps;
	struct review_flow **flows;
	size_t nflows, flows_cap;
	struct key *tab; /* open addressing, power-of-two size */
	size_t tab_size, tab_used;
	struct synrec *syns;
	size_t syns_size, syns_used;
	/* the last two tuples looked up: a bulk transfer alternates between them */
	struct {
		struct ctr_tuple t;
		struct review_flow *f;
		bool back;
	} cache[2];
	unsigned cache_next;
	unsigned long segments;
	bool finished;
};

const char *cap_role_name(enum cap_role r)
{
	switch (r) {
	case CAP_CLIENT:
		return "client";
	case CAP_NODE:
		return "node";
	case CAP_BACKEND:
		return "backend";
	case CAP_UNKNOWN:
		break;
	}
	return "capture";
}

const char *flow_end_name(enum flow_end e)
{
	switch (e) {
	case END_OPEN:
		return "open";
	case END_CLOSED:
		return "closed";
	case END_CLOSING:
		return "closing (FIN from one side only)";
	case END_RESET_BY_LEAK:
		return "reset";
	case END_RESET_BY_CLIENT:
		return "reset by the client";
	case END_RESET_BY_SERVER:
		return "reset by the server";
	}
	return "?";
}

struct analyse *analyse_new(const struct analyse_opts *o, struct svcmap *svc, char **err)
{
	struct analyse *a = calloc(1, sizeof(*a));

	if (!a)
		return err_set(err, "out of memory"), NULL;
	a->o = *o;
	if (!a->o.max_rows)
		a->o.max_rows = 256;
	a->svc = svc ? svc : &a->own_svc;
	a->tab_size = 1024;
	a->tab = calloc(a->tab_size, sizeof(*a->tab));
	a->syns_size = 256;
	a->syns = calloc(a->syns_size, sizeof(*a->syns));
	if (!a->tab || !a->syns) {
		analyse_free(a);
		return err_set(err, "out of memory"), NULL;
	}
	return a;
}

int analyse_add_capture(struct analyse *a, const char *path, enum cap_role role, char **err)
{
	struct analyse_cap *c;

	if (a->ncaps == ANALYSE_MAX_CAPS)
		return err_set(err, "more than %d captures", ANALYSE_MAX_CAPS);
	c = &a->caps[a->ncaps];
	c->path = strdup(path ? path : "(capture)");
	if (!c->path)
		return err_set(err, "out of memory");
	c->role = role;
	return (int)a->ncaps++;
}

/* --- the connection table ----------------------------------------------------------- */

static struct key *tab_find(const struct analyse *a, const struct ctr_tuple *canon, uint32_t h)
{
	size_t mask = a->tab_size - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct key *k = &a->tab[i];

		if (!k->flow)
			return NULL;
		if (k->hash == h && tuple_eq(&k->t, canon))
			return k;
	}
}

static int tab_grow(struct analyse *a)
{
	size_t size = a->tab_size * 2;
	struct key *t = calloc(size, sizeof(*t));

	if (!t)
		return -1;
	for (size_t i = 0; i < a->tab_size; i++) {
		size_t j;

		if (!a->tab[i].flow)
			continue;
		for (j = a->tab[i].hash & (size - 1); t[j].flow; j = (j + 1) & (size - 1))
			;
		t[j] = a->tab[i];
	}
	free(a->tab);
	a->tab = t;
	a->tab_size = size;
	return 0;
}

/* adds or re-points the key of tuple t */
static int tab_put(struct analyse *a, const struct ctr_tuple *t, size_t flow, bool back)
{
	struct ctr_tuple canon = tuple_canonical(t);
	uint32_t h = tuple_hash(&canon);
	struct key *k = tab_find(a, &canon, h);
	size_t mask;

	a->cache[0].f = a->cache[1].f = NULL; /* a key moves or appears: drop the cache */
	if (k) {
		k->flow = (uint32_t)flow + 1;
		k->back = back;
		return 0;
	}
	if ((a->tab_used + 1) * 2 > a->tab_size && tab_grow(a) < 0)
		return -1;
	mask = a->tab_size - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (!a->tab[i].flow) {
			a->tab[i] = (struct key){
			    .t = canon, .hash = h, .flow = (uint32_t)flow + 1, .back = back};
			a->tab_used++;
			return 0;
		}
	}
}

static uint32_t syn_hash(const struct ctr_endpoint *e, uint32_t isn)
{
	struct ctr_tuple t = {.src = *e, .dst = *e};

	return tuple_hash(&t) ^ (isn * 2654435761u);
}

static struct synrec *syn_find(struct analyse *a, const struct ctr_endpoint *client, uint32_t isn)
{
	size_t mask = a->syns_size - 1;

	for (size_t i = syn_hash(client, isn) & mask;; i = (i + 1) & mask) {
		struct synrec *s = &a->syns[i];

		if (!s->flow)
			return NULL;
		if (s->isn == isn && endpoint_eq(&s->client, client))
			return s;
	}
}

static int syn_put(struct analyse *a, const struct ctr_endpoint *client, uint32_t isn, size_t flow)
{
	size_t mask;

	if ((a->syns_used + 1) * 2 > a->syns_size) {
		size_t size = a->syns_size * 2;
		struct synrec *t = calloc(size, sizeof(*t));

		if (!t)
			return -1;
		for (size_t i = 0; i < a->syns_size; i++) {
			size_t j;

			if (!a->syns[i].flow)
				continue;
			for (j = syn_hash(&a->syns[i].client, a->syns[i].isn) & (size - 1);
			     t[j].flow; j = (j + 1) & (size - 1))
				;
			t[j] = a->syns[i];
		}
		free(a->syns);
		a->syns = t;
		a->syns_size = size;
	}
	mask = a->syns_size - 1;
	for (size_t i = syn_hash(client, isn) & mask;; i = (i + 1) & mask) {
		if (!a->syns[i].flow) {
			a->syns[i] = (struct synrec){
			    .client = *client, .isn = isn, .flow = (uint32_t)flow + 1};
			a->syns_used++;
			return 0;
		}
		if (a->syns[i].isn == isn && endpoint_eq(&a->syns[i].client, client))
			return 0; /* a retransmitted SYN: keep the first */
	}
}

static size_t flow_index(const struct analyse *a, const struct review_flow *f)
{
	for (size_t i = a->nflows; i-- > 0;)
		if (a->flows[i] == f)
			return i;
	return 0;
}

static struct review_flow *flow_new(struct analyse *a, const struct ctr_endpoint *client,
				    const struct ctr_endpoint *server)
{
	struct review_flow *f;

	if (a->nflows == a->flows_cap) {
		size_t cap = a->flows_cap ? a->flows_cap * 2 : 64;
		struct review_flow **v = realloc(a->flows, cap * sizeof(*v));

		if (!v)
			return NULL;
		a->flows = v;
		a->flows_cap = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->client = *client;
	f->server = f->backend = *server;
	f->feed[0] = f->feed[1] = -1;
	f->kill_row = -1;
	f->last_rst_dir = -1;
	ctwin_init(&f->ct);
	a->flows[a->nflows] = f;
	if (tab_put(a, &(struct ctr_tuple){.src = *client, .dst = *server}, a->nflows, false) < 0) {
		free(f);
		return NULL;
	}
	a->nflows++;
	return f;
}

/* the flow's server is vip, DNATed to backend: the backend-side tuple joins the flow */
static int flow_set_nat(struct analyse *a, struct review_flow *f, const struct ctr_endpoint *vip,
			const struct ctr_endpoint *backend, bool inferred)
{
	size_t idx = flow_index(a, f);

	f->server = *vip;
	f->backend = *backend;
	f->nat = true;
	f->nat_inferred = inferred;
	if (tab_put(a, &(struct ctr_tuple){.src = f->client, .dst = *vip}, idx, false) < 0 ||
	    tab_put(a, &(struct ctr_tuple){.src = f->client, .dst = *backend}, idx, true) < 0)
		return -1;
	if (inferred && svcmap_add(a->svc, vip, backend, true, NULL) < 0)
		return -1;
	return 0;
}

static struct review_flow *flow_of_key(const struct analyse *a, const struct key *k)
{
	return a->flows[k->flow - 1];
}

/* Finds or makes the connection of p; *back says whether p carries the backend's own
 * address where the client addressed a VIP. NULL when out of memory. */
static struct review_flow *flow_lookup(struct analyse *a, int cap, const struct ctr_pkt *p,
				       bool *back)
{
	const struct ctr_endpoint *src = &p->tuple.src, *dst = &p->tuple.dst;
	struct ctr_tuple canon;
	struct review_flow *f;
	struct key *k;
	uint32_t h;

	for (int i = 0; i < 2; i++) {
		const struct ctr_tuple *t = &a->cache[i].t;

		if (a->cache[i].f && ((ep_same(&t->src, src) && ep_same(&t->dst, dst)) ||
				      (ep_same(&t->src, dst) && ep_same(&t->dst, src)))) {
			*back = a->cache[i].back;
			return a->cache[i].f;
		}
	}
	canon = tuple_canonical(&p->tuple);
	h = tuple_hash(&canon);
	k = tab_find(a, &canon, h);
	if (k) {
		f = flow_of_key(a, k);
		*back = k->back;
		goto found;
	}
	*back = false;
	if (a->svc->n) {
		const struct ctr_endpoint *be, *vips[8];
		bool to_vip = svcmap_is_vip(a->svc, dst);

		if (to_vip || svcmap_is_vip(a->svc, src)) {
			const struct ctr_endpoint *vip = to_vip ? dst : src;

			f = flow_new(a, to_vip ? src : dst, vip);
			if (!f)
				return NULL;
			be = svcmap_only_backend(a->svc, vip);
			if (be && flow_set_nat(a, f, vip, be, false) < 0)
				return NULL;
			goto found;
		}
		/* the backend's own address: a flow through one of its VIPs, seen past the NAT
		 * or leaked, when the VIP has several backends and this one was not known yet */
		for (int side = 0; side < 2; side++) {
			const struct ctr_endpoint *b = side ? dst : src, *peer = side ? src : dst;
			size_t nv = svcmap_vips_of(a->svc, b, vips, 8);

			for (size_t i = 0; i < nv && i < 8; i++) {
				struct ctr_tuple t = {.src = *peer, .dst = *vips[i]};

				canon = tuple_canonical(&t);
				k = tab_find(a, &canon, tuple_hash(&canon));
				if (!k)
					continue;
				f = flow_of_key(a, k);
				if (f->nat || !endpoint_eq(&f->client, peer))
					continue;
				if (flow_set_nat(a, f, vips[i], b, false) < 0)
					return NULL;
				*back = true;
				goto found;
			}
		}
	}
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN) {
		struct synrec *s = syn_find(a, src, p->seq);

		if (s) {
			f = a->flows[s->flow - 1];
			if (!f->nat && endpoint_eq(&f->client, src) &&
			    !endpoint_eq(&f->server, dst)) {
				/* the same SYN addressed elsewhere: DNAT between the two captures.
				 * The address a client-side capture saw is the VIP; without roles,
				 * the earlier sighting is. */
				bool swap = a->caps[cap].role == CAP_CLIENT;
				struct ctr_endpoint first = f->server;

				if (flow_set_nat(a, f, swap ? dst : &first, swap ? &first : dst,
						 true) < 0)
					return NULL;
				*back = !swap;
				goto found;
			}
		}
		f = flow_new(a, src, dst);
		if (!f || syn_put(a, src, p->seq, flow_index(a, f)) < 0)
			return NULL;
		goto found;
	}
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK) || src->port < dst->port)
		f = flow_new(a, dst, src); /* the SYN-ACK's sender, or the lower port, serves */
	else
		f = flow_new(a, src, dst);
	if (!f)
		return NULL;
found:
	a->cache[a->cache_next].t = p->tuple;
	a->cache[a->cache_next].f = f;
	a->cache[a->cache_next].back = *back;
	a->cache_next ^= 1;
	return f;
}

/* --- segments -------------------------------------------------------------------------- */

enum side { SIDE_UNKNOWN, SIDE_CLIENT, SIDE_BACKEND, SIDE_BOTH };

static enum side cap_side(const struct analyse *a, const struct review_flow *f, int cap)
{
	uint32_t bit = 1u << cap;
	bool fr = f->front_caps & bit, bk = f->back_caps & bit;

	if (a->caps[cap].role == CAP_CLIENT)
		return SIDE_CLIENT;
	if (a->caps[cap].role == CAP_BACKEND)
		return SIDE_BACKEND;
	if (fr && bk)
		return SIDE_BOTH;
	return fr ? SIDE_CLIENT : bk ? SIDE_BACKEND : SIDE_UNKNOWN;
}

/* A segment's identity across captures: seq, ack, length, window, IPv4 id, flags and
 * direction, all of them equal (NAT rewrites none of them). sig is a cheap digest of
 * them to reject most entries with one compare; same_segment() decides. */
static uint32_t signature(const struct ctr_pkt *p, int dir)
{
	uint32_t h = p->seq * 0x9e3779b1u;

	h ^= p->ack * 0x85ebca77u;
	h ^= (p->payload_len + ((uint32_t)p->win << 16 | p->ip_id)) * 0xc2b2ae3du;
	return h ^ ((uint32_t)p->flags << 8 | (uint32_t)dir);
}

static bool same_segment(const struct review_row *e, uint32_t sig, const struct ctr_pkt *p, int dir)
{
	return e->sig == sig && e->seq == p->seq && e->ack == p->ack && e->len == p->payload_len &&
	       e->win == p->win && e->ip_id == p->ip_id && e->flags == p->flags && e->dir == dir;
}

/* e->row: its index once kept, -1 not yet, ROW_REFUSED when the cap refused it (counted
 * once in rows_dropped) */
#define ROW_REFUSED (-2)

static int rows_push(struct analyse *a, struct review_flow *f, struct review_row *e)
{
	/* leaks and RSTs, the point of the review, get room past the cap the rest fill */
	bool vital = e->notes & (ROW_LEAK | ROW_RST | ROW_UNNAT);
	size_t limit = a->o.max_rows * (vital ? 2 : 1);

	if (e->row >= 0 || (e->row == ROW_REFUSED && !vital))
		return 0;
	if (f->nrows >= limit) {
		if (e->notes && e->row != ROW_REFUSED)
			f->rows_dropped++;
		e->row = ROW_REFUSED;
		return 0;
	}
	if (e->row == ROW_REFUSED)
		f->rows_dropped--; /* refused as a window event, kept now as a leak or RST */
	if (f->nrows == f->rows_cap) {
		size_t cap = f->rows_cap ? f->rows_cap * 2 : 16;
		struct review_row *v;

		if (cap > 2 * (size_t)a->o.max_rows)
			cap = 2 * (size_t)a->o.max_rows;
		v = realloc(f->rows, cap * sizeof(*v));
		if (!v)
			return -1;
		f->rows = v;
		f->rows_cap = cap;
	}
	e->row = (int)f->nrows;
	f->rows[f->nrows++] = *e;
	return 0;
}

static struct review_row *ring_at(struct review_flow *f, unsigned age)
{
	return &f->ring[(f->ring_head + FLOW_RING - 1 - age) % FLOW_RING];
}

/* the ring entry's row, if it has one, follows the entry */
static void sync_row(struct review_flow *f, const struct review_row *e)
{
	if (e->row >= 0 && (size_t)e->row < f->nrows)
		f->rows[e->row] = *e;
}

/* keeps e (a ring entry) as a row, with the segments just before it for context */
static int keep(struct analyse *a, struct review_flow *f, struct review_row *e)
{
	struct review_row *ctx[CONTEXT_BEFORE];
	unsigned nctx = 0;

	if (e->row >= 0) {
		sync_row(f, e);
		return 0;
	}
	for (unsigned age = 0; age < f->ring_n && nctx < CONTEXT_BEFORE; age++) {
		struct review_row *c = ring_at(f, age);

		if (c->n >= e->n)
			continue;
		if (c->row != -1)
			break; /* kept already, or refused */
		ctx[nctx++] = c;
	}
	while (nctx)
		if (rows_push(a, f, ctx[--nctx]) < 0)
			return -1;
	if (rows_push(a, f, e) < 0)
		return -1;
	f->context_after = CONTEXT_AFTER;
	return 0;
}

static void raise_event(const struct analyse *a, const struct review_flow *f,
			const struct review_row *e, int cap)
{
	if (a->o.event)
		a->o.event(a->o.event_ctx, f, e, cap);
}

static int confirm_leak(struct analyse *a, struct review_flow *f, struct review_row *e, int cap)
{
	e->leaked_at |= 1u << cap;
	if (!(e->notes & ROW_LEAK)) {
		e->notes |= ROW_LEAK;
		f->n_leak++;
		if (keep(a, f, e) < 0)
			return -1;
		raise_event(a, f, e, cap);
		return 0;
	}
	return keep(a, f, e);
}

/* leaks awaiting a NATed twin in a capture spanning the NAT: old enough, they are leaks */
static int settle_pending(struct analyse *a, struct review_flow *f, uint64_t now, bool all)
{
	for (unsigned age = 0; age < f->ring_n && f->npending; age++) {
		struct review_row *e = ring_at(f, age);

		if (!e->pending || (!all && apart(now, e->ts_us) <= TWIN_US))
			continue;
		for (int c = 0; c < ANALYSE_MAX_CAPS; c++)
			if ((e->pending >> c) & 1 && confirm_leak(a, f, e, c) < 0)
				return -1;
		e->pending = 0;
		sync_row(f, e);
		f->npending--;
	}
	return 0;
}

/* an earlier sighting of this segment: a ring entry or, further back, a kept row */
static struct review_row *find_seen(struct review_flow *f, uint32_t sig, const struct ctr_pkt *p,
				    int dir, int cap, bool back, bool *in_ring)
{
	const uint32_t *rs = f->ring_sig;
	/* most segments are first sightings: no ring entry's digest matches (8 compares
	 * without a branch) */
	bool any = (rs[0] == sig) | (rs[1] == sig) | (rs[2] == sig) | (rs[3] == sig) |
		   (rs[4] == sig) | (rs[5] == sig) | (rs[6] == sig) | (rs[7] == sig);

	_Static_assert(FLOW_RING == 8, "the digest scan above reads 8 entries");
	for (unsigned age = 0; any && age < f->ring_n; age++) {
		struct review_row *e = ring_at(f, age);

		if (!same_segment(e, sig, p, dir) || apart(p->ts_us, e->ts_us) > TWIN_US)
			continue;
		/* in the same capture only a NAT twin or a copy with the same IPv4 id (the
		 * other interface of a "-i any" capture) is the same packet */
		if (e->first_cap == cap && e->via_backend == back && !p->ip_id)
			continue;
		*in_ring = true;
		return e;
	}
	for (size_t i = f->nrows, n = 0; i-- > 0 && n < RECENT_ROWS; n++) {
		struct review_row *r = &f->rows[i];

		if (same_segment(r, sig, p, dir) && apart(p->ts_us, r->ts_us) <= TWIN_US &&
		    !(r->first_cap == cap && r->via_backend == back && !p->ip_id)) {
			*in_ring = false;
			return r;
		}
	}
	return NULL;
}

static void count_verdict(struct review_flow *f, const struct review_row *e)
{
	if (e->ct.liberal)
		f->n_liberal++;
	else if (e->ct.verdict == CTWIN_INVALID)
		f->n_invalid++;
	else if (e->ct.verdict == CTWIN_IGNORE)
		f->n_ignore++;
}

int analyse_packet(struct analyse *a, int cap, const struct ctr_pkt *p, char **err)
{
	struct review_row *e, *old;
	struct ctwin_seg seg;
	struct review_flow *f;
	bool back, unnat, leak, feed, in_ring;
	uint32_t bit = 1u << cap, sig;
	enum side side;
	int dir;

	if (cap < 0 || (size_t)cap >= a->ncaps)
		return err_set(err, "capture %d not registered", cap);
	f = flow_lookup(a, cap, p, &back);
	if (!f)
		return err_set(err, "out of memory");
	a->segments++;
	dir = ep_same(&p->tuple.src, &f->client) ? 0 : 1;
	if (!f->first_us)
		f->first_us = p->ts_us;
	if (p->ts_us > f->last_us)
		f->last_us = p->ts_us;
	if (dir == 0 && !(p->flags & TCPF_RST)) {
		if (back && f->nat)
			f->back_caps |= bit;
		else
			f->front_caps |= bit;
	}
	if (f->npending && settle_pending(a, f, p->ts_us, false) < 0)
		return err_set(err, "out of memory");
	side = cap_side(a, f, cap);
	/* the client talking past the NAT to the backend itself, as its RST to a leak does.
	 * In a capture spanning the NAT, a DNATed copy has its VIP twin before it; a first
	 * sighting addressed to the backend has none. */
	unnat = f->nat && dir == 0 && back && (side == SIDE_CLIENT || side == SIDE_BOTH);
	leak = f->nat && dir == 1 && back && (side == SIDE_CLIENT || side == SIDE_BOTH);
	sig = signature(p, dir);

	e = find_seen(f, sig, p, dir, cap, back, &in_ring);
	if (e) {
		e->seen |= bit;
		if (f->nat && dir == 1 && !back) {
			e->natted_at |= bit;
			if (e->pending & bit) {
				e->pending &= ~bit; /* its NATed twin: this capture spans the NAT */
				f->npending--;
			}
		} else if (leak && side == SIDE_BOTH) {
			/* leaked unless this capture shows it NATed too (a twin may follow) */
			if (in_ring && !(e->natted_at & bit) && !(e->pending & bit)) {
				e->pending |= bit;
				f->npending++;
			}
		} else if (leak && in_ring) {
			if (confirm_leak(a, f, e, cap) < 0)
				return err_set(err, "out of memory");
		} else if (leak) {
			e->leaked_at |= bit;
			if (!(e->notes & ROW_LEAK)) {
				e->notes |= ROW_LEAK;
				f->n_leak++;
				raise_event(a, f, e, cap);
			}
		}
		if (in_ring)
			sync_row(f, e);
		return 0;
	}

	/* the first sighting of this segment */
	old = &f->ring[f->ring_head];
	if (f->ring_n == FLOW_RING && old->pending) {
		for (int c = 0; c < ANALYSE_MAX_CAPS; c++)
			if ((old->pending >> c) & 1 && confirm_leak(a, f, old, c) < 0)
				return err_set(err, "out of memory");
		old->pending = 0;
		f->npending--;
	}
	e = old;
	/* every field set one by one, not a memset() first: gcc makes that (or a copy of a
	 * blank row) a "rep stos", slow to start, once per segment */
	_Static_assert(sizeof(struct review_row) == 104,
		       "a field added to review_row: set it here");
	e->n = ++f->uniq;
	e->ts_us = p->ts_us;
	e->seq = p->seq;
	e->ack = p->ack;
	e->len = p->payload_len;
	e->win = p->win;
	e->ip_id = p->ip_id;
	e->dir = (uint8_t)dir;
	e->flags = p->flags;
	e->notes = 0;
	e->via_backend = back && f->nat;
	e->modelled = false;
	e->nat_skipped = false;
	e->ct = (struct ctwin_result){0};
	e->seen = bit;
	e->leaked_at = 0;
	e->natted_at = f->nat && dir == 1 && !back ? bit : 0;
	e->answers = -1;
	e->effect = CTWIN_RST_UNKNOWN;
	e->sig = sig;
	e->first_cap = (uint8_t)cap;
	e->pending = 0;
	e->row = -1;
	f->ring_sig[f->ring_head] = sig;
	f->ring_head = (f->ring_head + 1) % FLOW_RING;
	if (f->ring_n < FLOW_RING)
		f->ring_n++;
	f->segs[dir]++;
	f->bytes[dir] += p->payload_len;
	if (dir == 0 && (p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN)
		f->handshake = true;

	ctwin_seg_from_pkt(&seg, p);
	if (p->flags & TCPF_RST) {
		/* judged against what the sender had sent before it */
		e->effect = ctwin_rst_effect(&f->ct, dir, p->seq, f->fin[dir]);
		e->notes |= ROW_RST;
		f->n_rst++;
		f->last_rst_dir = dir;
		f->last_rst_effect = e->effect;
	}
	if (p->flags & TCPF_FIN)
		f->fin[dir] = true;
	if (f->feed[dir] < 0 && !unnat)
		f->feed[dir] = (int8_t)cap;
	feed = !unnat && f->feed[dir] == cap;
	/* A server segment first seen past the NAT node, never (within TWIN_US) by the
	 * backend-side capture that feeds the model: it reached the node later than the
	 * backend sent it, as a copy held on the way and released after the window moved
	 * on (delayed-retransmit), or that capture missed it. The node judged it when it
	 * arrived: it is modelled now, in the order the node saw it. */
	if (!feed && !unnat && dir == 1 && f->feed[1] >= 0 &&
	    cap_side(a, f, f->feed[1]) == SIDE_BACKEND &&
	    (side == SIDE_CLIENT || side == SIDE_BOTH))
		feed = true;
	if (unnat) {
		/* no entry matches client -> backend: a fresh lookup, as the node does */
		struct ctwin_conn fresh;

		ctwin_init(&fresh);
		ctwin_packet(&fresh, 0, &seg, &a->o.ct, &e->ct);
		e->modelled = true;
		e->notes |= ROW_UNNAT;
		f->n_unnat++;
	} else if (feed) {
		ctwin_packet(&f->ct, dir, &seg, &a->o.ct, &e->ct);
		e->modelled = true;
		if (e->ct.verdict != CTWIN_ACCEPT || e->ct.liberal)
			e->notes |= ROW_WINDOW;
		if (e->ct.new_entry && f->ct_had) {
			e->notes |= ROW_REOPEN;
			f->n_reopen++;
		}
		f->ct_had |= f->ct.exists;
		count_verdict(f, e);
		/* reverse NAT needs the entry the VIP's DNAT made: none, or one the server's
		 * side opened, leaves the reply with the backend's own address */
		e->nat_skipped =
		    f->nat && dir == 1 &&
		    (e->ct.verdict == CTWIN_INVALID || !f->ct.exists || f->ct.orig == 1);
	}
	if (a->o.predict && f->nat && !f->front_caps && side == SIDE_BACKEND && e->modelled &&
	    ((dir == 1 && e->nat_skipped) || (dir == 0 && (p->flags & TCPF_RST)))) {
		if (dir == 1)
			e->notes |= ROW_PREDICTED;
		if (keep(a, f, e) < 0)
			return err_set(err, "out of memory");
		raise_event(a, f, e, cap);
	}
	if (leak && side == SIDE_BOTH) {
		e->pending |= bit;
		f->npending++;
	} else if (leak && confirm_leak(a, f, e, cap) < 0) {
		return err_set(err, "out of memory");
	}
	if (e->notes) {
		if (keep(a, f, e) < 0)
			return err_set(err, "out of memory");
		if ((e->notes & (ROW_RST | ROW_UNNAT)) == (ROW_RST | ROW_UNNAT))
			raise_event(a, f, e, cap);
	} else if (f->context_after) {
		f->context_after--;
		if (rows_push(a, f, e) < 0)
			return err_set(err, "out of memory");
	}
	return 0;
}

int analyse_merge(struct analyse *a, struct pcapfile *const *readers, size_t n, char **err)
{
	struct ctr_pkt *next = calloc(n ? n : 1, sizeof(*next));
	bool *have = calloc(n ? n : 1, sizeof(*have));
	char *warn = NULL;
	int rc = 0;

	if (!next || !have) {
		free(next);
		free(have);
		return err_set(err, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		int r = pcapfile_next(readers[i], &next[i], &warn);

		have[i] = r == 1;
		if (r < 0) {
			a->caps[i].warning = warn;
			warn = NULL;
		}
	}
	for (;;) {
		size_t best = n;
		int r;

		for (size_t i = 0; i < n; i++)
			if (have[i] && (best == n || next[i].ts_us < next[best].ts_us))
				best = i;
		if (best == n)
			break;
		if (analyse_packet(a, (int)best, &next[best], err) < 0) {
			rc = -1;
			break;
		}
		r = pcapfile_next(readers[best], &next[best], &warn);
		have[best] = r == 1;
		if (r < 0) {
			a->caps[best].warning = warn;
			warn = NULL;
		}
	}
	for (size_t i = 0; i < n; i++)
		a->caps[i].stats = *pcapfile_stats(readers[i]);
	free(next);
	free(have);
	return rc;
}

/* --- after the last segment ---------------------------------------------------------- */

static int row_cmp(const void *x, const void *y)
{
	const struct review_row *a = x, *b = y;

	return a->n < b->n ? -1 : a->n > b->n;
}

/* RFC 793: an RST answering a segment with ACK takes its ack as seq; one answering a
 * segment without takes seq 0 and acknowledges it */
static bool rst_answers(const struct review_row *l, const struct review_row *r)
{
	uint32_t end = l->seq + l->len + !!(l->flags & TCPF_SYN) + !!(l->flags & TCPF_FIN);

	return (l->notes & (ROW_LEAK | ROW_PREDICTED)) &&
	       (((l->flags & TCPF_ACK) && l->ack == r->seq) ||
		(!(l->flags & TCPF_ACK) && (r->flags & TCPF_ACK) && r->ack == end));
}

const struct review_row *analyse_rst_answers(const struct review_flow *f,
					     const struct review_row *rst, bool any)
{
	for (size_t i = f->nrows; !any && i-- > 0;)
		if (f->rows[i].n < rst->n && rst_answers(&f->rows[i], rst))
			return &f->rows[i];
	for (unsigned age = 0; age < f->ring_n; age++) {
		const struct review_row *e =
		    &f->ring[(f->ring_head + FLOW_RING - 1 - age) % FLOW_RING];
		struct review_row as_leak = {.notes = ROW_LEAK,
					     .seq = e->seq,
					     .ack = e->ack,
					     .len = e->len,
					     .flags = e->flags};

		if (e->n >= rst->n)
			continue;
		if (any ? e->dir == 1 : (e->notes & (ROW_LEAK | ROW_PREDICTED) || e->pending))
			if (rst_answers(&as_leak, rst))
				return e;
	}
	return NULL;
}

static void finish_flow(struct analyse *a, struct review_flow *f)
{
	uint32_t client_side = 0, backend_side = 0;

	settle_pending(a, f, 0, true);
	if (f->nrows)
		qsort(f->rows, f->nrows, sizeof(*f->rows), row_cmp);
	for (size_t i = 0; i < f->nrows; i++)
		f->rows[i].row = (int)i;
	for (size_t c = 0; c < a->ncaps; c++) {
		enum side s = cap_side(a, f, (int)c);

		if (s == SIDE_CLIENT || s == SIDE_BOTH)
			client_side |= 1u << c;
		if (s == SIDE_BACKEND || s == SIDE_BOTH)
			backend_side |= 1u << c;
	}
	for (size_t i = 0; i < f->nrows; i++) {
		struct review_row *r = &f->rows[i];
		uint32_t before = r->dir ? backend_side : client_side;
		uint32_t after = r->dir ? client_side : backend_side;

		if (f->nat && r->notes && !(r->notes & ROW_UNNAT) && (r->seen & before) && after &&
		    !(r->seen & after) && r->ts_us >= f->first_us && r->ts_us < f->last_us)
			r->notes |= ROW_DROPPED;
		if (!(r->notes & ROW_RST) || r->dir != 0)
			continue;
		for (size_t j = i; j-- > 0;) {
			if (rst_answers(&f->rows[j], r)) {
				r->answers = (int)j;
				break;
			}
		}
		if (r->answers >= 0 && r->effect == CTWIN_RST_RESETS && f->kill_row < 0)
			f->kill_row = (int)i;
	}
	if (f->kill_row >= 0)
		f->end = END_RESET_BY_LEAK;
	else if (f->last_rst_dir >= 0 && f->last_rst_effect != CTWIN_RST_IGNORED &&
		 f->last_rst_effect != CTWIN_RST_CHALLENGE)
		f->end = f->last_rst_dir == 0 ? END_RESET_BY_CLIENT : END_RESET_BY_SERVER;
	else if (f->fin[0] && f->fin[1])
		f->end = END_CLOSED;
	else if (f->fin[0] || f->fin[1])
		f->end = END_CLOSING;
	else
		f->end = END_OPEN;
}

int analyse_declare_nat(struct analyse *a, const struct ctr_endpoint *client,
			const struct ctr_endpoint *vip, const struct ctr_endpoint *backend,
			char **err)
{
	struct ctr_tuple t = {.src = *client, .dst = *backend}, canon = tuple_canonical(&t);
	struct key *k = tab_find(a, &canon, tuple_hash(&canon));
	struct review_flow *f;

	if (k) {
		f = flow_of_key(a, k);
		if (f->nat || !endpoint_eq(&f->client, client))
			return 0;
		/* what it was seen on is past the NAT */
		f->back_caps |= f->front_caps;
		f->front_caps = 0;
	} else {
		canon = tuple_canonical(&(struct ctr_tuple){.src = *client, .dst = *vip});
		if (tab_find(a, &canon, tuple_hash(&canon)))
			return 0; /* seen from the client's side: the analysis joins them */
		f = flow_new(a, client, vip);
		if (!f)
			return err_set(err, "out of memory");
	}
	if (flow_set_nat(a, f, vip, backend, false) < 0)
		return err_set(err, "out of memory");
	return 0;
}

int analyse_settle(struct analyse *a, uint64_t now_us, bool all, char **err)
{
	for (size_t i = 0; i < a->nflows; i++)
		if (a->flows[i]->npending && settle_pending(a, a->flows[i], now_us, all) < 0)
			return err_set(err, "out of memory");
	return 0;
}

static int by_last_us(const void *x, const void *y, void *ctx)
{
	struct review_flow *const *flows = ctx;
	uint64_t p = flows[*(const size_t *)x]->last_us, q = flows[*(const size_t *)y]->last_us;

	return p < q ? -1 : p > q;
}

long analyse_evict(struct analyse *a, uint64_t now_us, uint64_t idle_us, size_t max_flows,
		   char **err)
{
	uint64_t cutoff = now_us > idle_us ? now_us - idle_us : 0;
	size_t n = a->nflows, kept = 0, over = max_flows && n > max_flows ? n - max_flows : 0;
	size_t *order = NULL, *remap = NULL;
	bool *gone = calloc(n ? n : 1, sizeof(*gone));
	struct synrec *syns = NULL;
	long evicted = 0;

	remap = calloc(n ? n : 1, sizeof(*remap));
	if (!gone || !remap)
		goto oom;
	for (size_t i = 0; i < n; i++)
		if (a->flows[i]->last_us < cutoff)
			gone[i] = true, evicted++;
	if (over > (size_t)evicted) {
		/* the least recently active first, whatever their age */
		order = malloc(n * sizeof(*order));
		if (!order)
			goto oom;
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		qsort_r(order, n, sizeof(*order), by_last_us, a->flows);
		for (size_t i = 0; i < n && (size_t)evicted < over; i++)
			if (!gone[order[i]])
				gone[order[i]] = true, evicted++;
	}
	if (!evicted)
		goto done;
	/* their events first, while nothing is freed */
	for (size_t i = 0; i < n; i++)
		if (gone[i] && a->flows[i]->npending && settle_pending(a, a->flows[i], 0, true) < 0)
			goto oom;
	syns = calloc(a->syns_size, sizeof(*syns));
	if (!syns)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct review_flow *f = a->flows[i];

		if (!gone[i]) {
			remap[i] = kept;
			a->flows[kept++] = f;
			continue;
		}
		free(f->rows);
		free(f);
	}
	a->nflows = kept;
	/* the tables are rebuilt from the connections left: no tombstones */
	memset(a->tab, 0, a->tab_size * sizeof(*a->tab));
	a->tab_used = 0;
	a->cache[0].f = a->cache[1].f = NULL;
	for (size_t i = 0; i < kept; i++) {
		struct review_flow *f = a->flows[i];

		if (tab_put(a, &(struct ctr_tuple){.src = f->client, .dst = f->server}, i, false) <
			0 ||
		    (f->nat && tab_put(a, &(struct ctr_tuple){.src = f->client, .dst = f->backend},
				       i, true) < 0)) {
			free(syns);
			goto oom;
		}
	}
	for (size_t i = 0; i < a->syns_size; i++) {
		struct synrec *s = &a->syns[i];
		size_t j, mask = a->syns_size - 1;

		if (!s->flow || gone[s->flow - 1])
			continue;
		for (j = syn_hash(&s->client, s->isn) & mask; syns[j].flow; j = (j + 1) & mask)
			;
		syns[j] = *s;
		syns[j].flow = (uint32_t)remap[s->flow - 1] + 1;
	}
	free(a->syns);
	a->syns = syns;
	a->syns_used = 0;
	for (size_t i = 0; i < a->syns_size; i++)
		a->syns_used += a->syns[i].flow != 0;
done:
	free(order);
	free(remap);
	free(gone);
	return evicted;
oom:
	free(order);
	free(remap);
	free(gone);
	return err_set(err, "out of memory");
}

void analyse_finish(struct analyse *a)
{
	if (a->finished)
		return;
	a->finished = true;
	for (size_t i = 0; i < a->nflows; i++)
		finish_flow(a, a->flows[i]);
}

enum analyse_result analyse_result(const struct analyse *a)
{
	enum analyse_result r = RESULT_CLEAN;

	for (size_t i = 0; i < a->nflows; i++) {
		if (a->flows[i]->kill_row >= 0)
			return RESULT_RESET;
		if (a->flows[i]->n_leak)
			r = RESULT_LEAK;
	}
	return r;
}

const char *analyse_result_name(enum analyse_result r)
{
	switch (r) {
	case RESULT_CLEAN:
		return "clean";
	case RESULT_LEAK:
		return "leak";
	case RESULT_RESET:
		return "reset";
	}
	return "?";
}

void analyse_verdict_facts(const struct analyse *a, struct verdict_facts *f)
{
	uint32_t backend_caps = 0;

	for (size_t c = 0; c < a->ncaps; c++)
		if (a->caps[c].role == CAP_BACKEND)
			backend_caps |= 1u << c;
	f->backend_captured = backend_caps != 0;
	f->leaked_packets = 0;
	f->client_rst = f->rst_at_backend = false;
	for (size_t i = 0; i < a->nflows; i++) {
		const struct review_flow *fl = a->flows[i];

		f->leaked_packets += (unsigned)fl->n_leak;
		for (size_t r = 0; r < fl->nrows; r++) {
			const struct review_row *row = &fl->rows[r];

			if ((row->notes & (ROW_RST | ROW_UNNAT)) != (ROW_RST | ROW_UNNAT))
				continue;
			f->client_rst = true;
			if (row->seen & backend_caps)
				f->rst_at_backend = true;
		}
	}
}

bool flow_notable(const struct review_flow *f)
{
	for (size_t i = 0; i < f->nrows; i++)
		if (f->rows[i].notes)
			return true;
	return f->rows_dropped > 0;
}

size_t analyse_flow_count(const struct analyse *a)
{
	return a->nflows;
}

const struct review_flow *analyse_flow(const struct analyse *a, size_t i)
{
	return i < a->nflows ? a->flows[i] : NULL;
}

size_t analyse_cap_count(const struct analyse *a)
{
	return a->ncaps;
}

const struct analyse_cap *analyse_cap(const struct analyse *a, size_t i)
{
	return i < a->ncaps ? &a->caps[i] : NULL;
}

const struct svcmap *analyse_services(const struct analyse *a)
{
	return a->svc;
}

const struct analyse_opts *analyse_options(const struct analyse *a)
{
	return &a->o;
}

void analyse_summarise(const struct analyse *a, struct analyse_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->flows = a->nflows;
	s->segments = a->segments;
	for (size_t i = 0; i < a->nflows; i++) {
		const struct review_flow *f = a->flows[i];

		s->unique += f->segs[0] + f->segs[1];
		s->invalid += f->n_invalid;
		s->ignore += f->n_ignore;
		s->liberal += f->n_liberal;
		s->leaks += f->n_leak;
		s->rsts += f->n_rst;
		if (f->kill_row >= 0)
			s->resets++;
		for (size_t r = 0; r < f->nrows; r++) {
			if (f->rows[r].answers >= 0)
				s->answering_rsts++;
			if (f->rows[r].notes & ROW_DROPPED)
				s->dropped++;
		}
	}
}

void analyse_free(struct analyse *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nflows; i++) {
		free(a->flows[i]->rows);
		free(a->flows[i]);
	}
	for (size_t i = 0; i < a->ncaps; i++) {
		free(a->caps[i].path);
		free(a->caps[i].warning);
	}
	free(a->flows);
	free(a->tab);
	free(a->syns);
	svcmap_free(&a->own_svc);
	free(a);
}
