#include "verdict.h"
#include "base/err.h"
#include "pcapfile.h"

#include <stdio.h>
#include <string.h>

static const char *const names[] = {
    [VERDICT_INCONCLUSIVE] = "inconclusive",
    [VERDICT_CLEAN] = "clean",
    [VERDICT_LEAK] = "leak",
    [VERDICT_RESET] = "reset",
    [VERDICT_WORKS] = "works",
    [VERDICT_BROKEN] = "broken",
};

const char *verdict_name(enum verdict v)
{
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

int verdict_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -1;
}

static const char *const client_names[] = {
    [CLIENT_END_UNKNOWN] = "unknown", [CLIENT_END_COMPLETE] = "complete",
    [CLIENT_END_RESET] = "reset",     [CLIENT_END_STOPPED] = "stopped",
    [CLIENT_END_FAILED] = "failed",
};

const char *client_end_name(enum client_end e)
{
	return (unsigned)e < sizeof(client_names) / sizeof(client_names[0]) ? client_names[e] : "?";
}

enum client_end client_end_parse(const char *end)
{
	static const struct {
		const char *name;
		enum client_end e;
	} map[] = {
	    {"complete", CLIENT_END_COMPLETE}, {"closed", CLIENT_END_COMPLETE},
	    {"reset", CLIENT_END_RESET},       {"stopped", CLIENT_END_STOPPED},
	    {"timeout", CLIENT_END_STOPPED},   {"failed", CLIENT_END_FAILED},
	    {"error", CLIENT_END_FAILED},      {"refused", CLIENT_END_FAILED},
	};

	for (size_t i = 0; end && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(end, map[i].name))
			return map[i].e;
	return CLIENT_END_UNKNOWN;
}

struct scan {
	const struct verdict_input *in;
	struct verdict_result *out;
};

/* client side: what came from the backend's own address, and what the client answered */
static int scan_client(void *ctx, const struct ctr_pkt *p)
{
	struct scan *s = ctx;
	const struct verdict_input *in = s->in;

	if (endpoint_eq(&p->tuple.src, &in->backend) && endpoint_eq(&p->tuple.dst, &in->client)) {
		if (!s->out->leaked_packets++) {
			s->out->first_leak = *p;
			s->out->first_leak.payload = NULL;
		}
	} else if ((p->flags & TCPF_RST) && endpoint_eq(&p->tuple.src, &in->client) &&
		   endpoint_eq(&p->tuple.dst, &in->backend) && !s->out->client_rst) {
		s->out->client_rst = true;
		s->out->first_rst = *p;
		s->out->first_rst.payload = NULL;
	}
	return 0;
}

/* backend side: did the client's RST arrive there */
static int scan_backend(void *ctx, const struct ctr_pkt *p)
{
	struct scan *s = ctx;

	if ((p->flags & TCPF_RST) && endpoint_eq(&p->tuple.src, &s->in->client) &&
	    endpoint_eq(&p->tuple.dst, &s->in->backend)) {
		s->out->rst_at_backend = true;
		return 1;
	}
	return 0;
}

#define REASON(...) snprintf(out->reason, sizeof(out->reason), __VA_ARGS__)

static int decide(const struct verdict_input *in, struct verdict_result *out, char **err)
{
	struct scan s = {.in = in, .out = out};
	struct verdict_facts f;

	memset(out, 0, sizeof(*out));
	out->verdict = VERDICT_INCONCLUSIVE;
	out->backend_reset = in->backend_end == BACKEND_END_RESET;
	out->client_end = in->client_end;
	if (!in->injected) {
		/* nothing was caused: the captures, if any, cannot say anything about it */
		REASON("the injector did not send its event");
		return 0;
	}
	if (in->capture_error) {
		/* a truncated capture may lack exactly the leak or the RST */
		REASON("a capture was not written whole (%s): no verdict rests on it",
		       in->capture_error);
		return 0;
	}
	if (pcapfile_foreach(in->client_pcap, scan_client, &s, NULL, err) < 0) {
		REASON("client capture unreadable");
		return err_wrap(err, "client capture");
	}
	if (in->backend_pcap &&
	    pcapfile_foreach(in->backend_pcap, scan_backend, &s, NULL, err) < 0) {
		REASON("backend capture unreadable");
		return err_wrap(err, "backend capture");
	}
	f = (struct verdict_facts){
	    .injected = in->injected,
	    .backend_end = in->backend_end,
	    .client_end = in->client_end,
	    .dropped = in->dropped,
	    .backend_captured = in->backend_pcap != NULL,
	    .leaked_packets = out->leaked_packets,
	    .client_rst = out->client_rst,
	    .rst_at_backend = out->rst_at_backend,
	};
	verdict_judge(&f, out);
	return 0;
}

/* what the captures and the backend's record say */
static void judge_captures(const struct verdict_facts *f, struct verdict_result *out)
{
	if (!f->injected) {
		REASON("the injector did not send its event");
		return;
	}
	if (f->backend_end == BACKEND_END_UNKNOWN) {
		REASON("no record of how the backend's connection ended");
		return;
	}
	if (out->backend_reset && f->backend_captured && !f->rst_at_backend) {
		REASON(
		    "the workload reports a reset but no RST from the client reached the backend");
		return;
	}
	if (!f->leaked_packets) {
		if (out->backend_reset) {
			REASON("the backend was reset although nothing leaked to the client");
			return;
		}
		if (f->dropped) {
			/* absence is only evidence when nothing was lost */
			REASON("nothing leaked in the captures, but they dropped %u packets",
			       f->dropped);
			return;
		}
		out->verdict = VERDICT_CLEAN;
		REASON("nothing from the backend's own address reached the client");
		return;
	}
	if (!out->backend_reset) {
		out->verdict = VERDICT_LEAK;
		REASON(f->client_rst ? "un-NATed segment reached the client, which sent RST; "
				       "the backend's connection survived it"
				     : "un-NATed segment reached the client; no RST, backend "
				       "survived");
		return;
	}
	if (!f->client_rst) {
		REASON("backend reset and a leak, but no RST from the client in its capture");
		return;
	}
	out->verdict = VERDICT_RESET;
	REASON("un-NATed segment reached the client, its RST reset the backend's connection");
}

/* The client's own record must agree with what the captures and the backend say: a reset
 * backend cannot have delivered the whole transfer, and a client whose connection failed
 * while the backend's survived points at something the bench did not cause. */
static void check_client(const struct verdict_facts *f, struct verdict_result *out)
{
	if (out->verdict == VERDICT_RESET && f->client_end == CLIENT_END_COMPLETE) {
		out->verdict = VERDICT_INCONCLUSIVE;
		REASON("the backend's connection was reset, yet the client's transfer completed");
	} else if ((out->verdict == VERDICT_CLEAN || out->verdict == VERDICT_LEAK) &&
		   (f->client_end == CLIENT_END_RESET || f->client_end == CLIENT_END_FAILED)) {
		out->verdict = VERDICT_INCONCLUSIVE;
		REASON("the client's transfer %s although the backend's connection survived",
		       f->client_end == CLIENT_END_RESET ? "was reset" : "failed");
	}
}

void verdict_judge(const struct verdict_facts *f, struct verdict_result *out)
{
	out->verdict = VERDICT_INCONCLUSIVE;
	out->backend_reset = f->backend_end == BACKEND_END_RESET;
	out->client_end = f->client_end;
	judge_captures(f, out);
	check_client(f, out);
}

int verdict_decide(const struct verdict_input *in, struct verdict_result *out, char **err)
{
	return decide(in, out, err);
}

/* --- connect cells: a legitimate connection ---------------------------------------- */

struct cscan {
	const struct ctr_endpoint *client, *backend;
	unsigned *count;
	bool synack; /* count the backend's SYN-ACKs to the client, else the client's ACKs */
};

static int scan_connect(void *ctx, const struct ctr_pkt *p)
{
	struct cscan *s = ctx;

	if (s->synack) {
		if ((p->flags & TCPF_SYN) && (p->flags & TCPF_ACK) &&
		    endpoint_eq(&p->tuple.src, s->backend) && endpoint_eq(&p->tuple.dst, s->client))
			(*s->count)++;
	} else if (!(p->flags & TCPF_SYN) && endpoint_eq(&p->tuple.src, s->client) &&
		   endpoint_eq(&p->tuple.dst, s->backend)) {
		(*s->count)++;
	}
	return 0;
}

int connect_count(const char *client_pcap, const char *node_pcap, const char *backend_pcap,
		  const struct ctr_endpoint *client, const struct ctr_endpoint *backend,
		  struct connect_facts *f, char **err)
{
	struct cscan s = {.client = client, .backend = backend};

	f->synack_at_client = f->acks_at_node = f->acks_at_backend = 0;
	s.synack = true;
	s.count = &f->synack_at_client;
	if (pcapfile_foreach(client_pcap, scan_connect, &s, NULL, err) < 0)
		return err_wrap(err, "client capture");
	s.synack = false;
	s.count = &f->acks_at_node;
	if (node_pcap && pcapfile_foreach(node_pcap, scan_connect, &s, NULL, err) < 0)
		return err_wrap(err, "node capture");
	s.count = &f->acks_at_backend;
	f->backend_captured = backend_pcap != NULL;
	if (backend_pcap && pcapfile_foreach(backend_pcap, scan_connect, &s, NULL, err) < 0)
		return err_wrap(err, "backend capture");
	return 0;
}

void verdict_judge_connect(const struct connect_facts *f, struct verdict_result *out)
{
	out->verdict = VERDICT_INCONCLUSIVE;
	if (!f->client_record) {
		REASON("no record of the client's connection");
		return;
	}
	if (!f->synack_at_client) {
		/* the SYN or its answer was lost before conntrack's third packet: not this */
		REASON("no SYN-ACK from the backend reached the client: the handshake never got "
		       "to its third packet");
		return;
	}
	if (f->client_bytes) {
		if (f->backend_captured && !f->acks_at_backend) {
			REASON("the client received %llu bytes, yet none of its segments is in the "
			       "backend's capture",
			       f->client_bytes);
			return;
		}
		out->verdict = VERDICT_WORKS;
		REASON("the handshake completed (%u client segments reached the backend) and "
		       "the client received %llu bytes",
		       f->acks_at_backend, f->client_bytes);
		return;
	}
	if (!f->acks_at_node) {
		REASON("the client received nothing and node A's capture has none of its ACKs");
		return;
	}
	if (!f->backend_captured || f->acks_at_backend) {
		REASON("the client received nothing although %s",
		       f->backend_captured ? "its ACKs reached the backend"
					   : "there is no backend capture to say why");
		return;
	}
	if (f->dropped) {
		REASON("no ACK of the client reached the backend, but the captures dropped %u "
		       "packets",
		       f->dropped);
		return;
	}
	out->verdict = VERDICT_BROKEN;
	REASON("the SYN-ACK came back and the client sent the handshake's third packet (%u "
	       "segment%s at node A), none reached the backend: the connection never "
	       "completed, the client received nothing",
	       f->acks_at_node, f->acks_at_node == 1 ? "" : "s");
}
