/* Live sequence state of one TCP connection, learned from the segments a capture sees:
 * per direction what conntrack's struct ip_ct_tcp_state tracks (td_end, td_maxend,
 * td_maxwin, td_scale), so the injector can place a segment exactly inside or outside the
 * window conntrack will judge it against. */
#ifndef CTR_LEARN_H
#define CTR_LEARN_H

#include "base/pkt.h"

#include <stdbool.h>
#include <stdint.h>

/* what one side has sent, as seen on the wire */
struct learn_dir {
	bool seen;     /* any segment from this side */
	bool syn_seen; /* its SYN (or SYN-ACK) was captured */
	int wscale;    /* window-scale option of its SYN, -1 none */
	uint32_t isn;  /* initial sequence number (valid when syn_seen) */
	uint32_t end;  /* td_end: highest seq + len (+1 for SYN/FIN) sent */
	uint32_t ack;  /* highest ack sent (valid when ack_valid) */
	bool ack_valid;
	uint16_t win_raw; /* last raw window field */
	uint32_t maxwin;  /* td_maxwin: largest window advertised, scaled */
	uint32_t maxend;  /* the peer's td_maxend: highest sack + window advertised */
	/* conntrack's own td_maxwin: the largest win + (sack - ack) (tcp_in_window's swin:
	 * a SACK block past a hole widens it), at least maxwin */
	uint32_t ct_maxwin;
	/* the highest of its acks and SACK right edges: the peer's data it has received */
	uint32_t reached;
	unsigned data_segments;
	/* the longest quiet of the whole flow (no segment either way, by the captures' times)
	 * that a segment of this side moving end forward ended, since gap_us was last zeroed
	 * (by its reader): conntrack's entry is refreshed by every segment of the flow, so this
	 * is how long the entry went untouched before this side's data came back, measured on
	 * the wire whenever the reader gets to the segments */
	uint64_t gap_us;
	/* the longest quiet of this side's own data (capture times of the segments moving its
	 * end forward) since data_gap_us was last zeroed, and the time of the last of them:
	 * how long it sent nothing, whatever the peer sent meanwhile (a keepalive) and however
	 * late the reader got to the segments */
	uint64_t data_gap_us, end_us;
	bool closed; /* it sent FIN or RST: no window is left to place a segment in */
};

struct learn_flow {
	struct ctr_tuple tuple; /* server -> client direction (the backend's reply) */
	struct learn_dir server, client;
	uint64_t last_us; /* capture time of the flow's last segment, either way (0: none) */
};

/* Starts tracking the connection whose server-side direction is server_to_client. */
void learn_init(struct learn_flow *f, const struct ctr_tuple *server_to_client);

/* Feeds one segment; returns false (and ignores it) when it is not of this connection. */
bool learn_segment(struct learn_flow *f, const struct ctr_pkt *p);

/* Window scale in effect for a direction: only when both SYNs carried the option. */
int learn_scale(const struct learn_flow *f, const struct learn_dir *d);

/* Whether enough is known to craft: both SYNs seen, the server has sent data and the
 * client acknowledged some. If not, *why says what is missing. */
bool learn_ready(const struct learn_flow *f, const char **why);

#endif
