/* What netfilter's conntrack does with each TCP segment of one connection: a model of
 * nf_conntrack_proto_tcp.c (tcp_error, tcp_new, the tcp_conntracks state table,
 * nf_conntrack_tcp_packet and tcp_in_window), pure functions over a small state, so that
 * a capture can be replayed through it and every segment classified the way the kernel
 * on the NAT node would have classified it.
 *
 * Modelled kernel: current mainline (read from the 6.x source of
 * net/netfilter/nf_conntrack_proto_tcp.c, as in 6.18). The options name the behaviours a
 * kernel lacks (behaviour.h): no_ignore_delayed, the tcp_in_window of kernels without
 * 6e250dcbff1d "ignore overly delayed tcp packets" (v6.1; 5.10 as read at v5.10 and
 * measured on Debian 5.10.223): one condition for the four bounds, every window failure
 * INVALID (and a retransmitted SYN re-scales the window as on every SYN then);
 * no_rcvwnd_workaround with it, a kernel without cf97769c761a "work around exceeded
 * receive window" (v6.0, 5.19.9, 5.15.68): an overshoot past td_maxend does not move
 * td_end (with it, it does, and the segment is still INVALID).
 *
 * Not modelled: the checksum check (captures carry offloaded, wrong checksums), NAT
 * sequence adjustment (nf_ct_seq_offset: only for helpers that resize payloads),
 * SYN proxy, nf_conntrack_tcp_ignore_invalid_rst, per-zone and per-rule timeouts. */
#ifndef CTR_CTWIN_H
#define CTR_CTWIN_H

#include "base/pkt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* enum tcp_conntrack (include/uapi/linux/netfilter/nf_conntrack_tcp.h) */
enum ctwin_state {
	CTWIN_NONE,
	CTWIN_SYN_SENT,
	CTWIN_SYN_RECV,
	CTWIN_ESTABLISHED,
	CTWIN_FIN_WAIT,
	CTWIN_CLOSE_WAIT,
	CTWIN_LAST_ACK,
	CTWIN_TIME_WAIT,
	CTWIN_CLOSE,
	CTWIN_SYN_SENT2,
	CTWIN_STATE_MAX,
};

/* what becomes of the packet */
enum ctwin_verdict {
	CTWIN_ACCEPT,  /* part of the connection, state updated: NAT applies */
	CTWIN_IGNORE,  /* NF_ACCEPT without a state change (NFCT_TCP_IGNORE, sIG): NAT applies */
	CTWIN_INVALID, /* -NF_ACCEPT: the skb leaves without a conntrack, so NAT skips it and
			* "--ctstate INVALID" rules match it */
};

/* why: each names the kernel's nf_ct_l4proto_log_invalid() text (see ctwin_reason_str) */
enum ctwin_reason {
	CTWIN_R_NONE = 0,     /* in window */
	CTWIN_R_SEQ_OVER,     /* seq past the receiver's window (td_maxend) */
	CTWIN_R_ACK_OVER,     /* ack of data the receiver has not sent (td_end) */
	CTWIN_R_SEQ_UNDER,    /* end below td_end - receiver's max window */
	CTWIN_R_ACK_UNDER,    /* ack below td_end - MAXACKWINDOW */
	CTWIN_R_OVERSHOT,     /* seq past td_maxend by at most the receiver's max window */
	CTWIN_R_FLAGS,	      /* tcp_error: a flag combination tcp_valid_flags[] lacks */
	CTWIN_R_NEW_INVALID,  /* tcp_new: this packet cannot open an entry (RST, FIN, SYN-ACK...) */
	CTWIN_R_NEW_NOPICKUP, /* tcp_new: not a SYN and nf_conntrack_tcp_loose=0 */
	CTWIN_R_STATE_IGNORED, /* tcp_conntracks[] gives sIG */
	CTWIN_R_STATE_INVALID, /* tcp_conntracks[] gives sIV */
	CTWIN_R_INVALID_RST,   /* RST with seq before the peer's highest ack */
	CTWIN_R_CHALLENGE_ACK, /* RFC 5961 challenge ACK in LAST_ACK, not taken as final ACK */
};

/* struct ip_ct_tcp_state: one direction */
struct ctwin_dir {
	uint32_t td_end;    /* max of seq + len */
	uint32_t td_maxend; /* max of ack + max(win,1) the receiver advertised */
	uint32_t td_maxwin; /* max(win) */
	uint32_t td_maxack; /* max of ack */
	uint8_t td_scale;   /* window scale factor */
	uint8_t flags;	    /* CTWIN_F_* (IP_CT_TCP_FLAG_*) */
};

#define CTWIN_F_WINDOW_SCALE 0x01
#define CTWIN_F_SACK_PERM 0x02
#define CTWIN_F_CLOSE_INIT 0x04
#define CTWIN_F_BE_LIBERAL 0x08
#define CTWIN_F_DATA_UNACKNOWLEDGED 0x10
#define CTWIN_F_MAXACK_SET 0x20

/* one conntrack entry (struct ip_ct_tcp plus the status bits it reads) */
struct ctwin_conn {
	bool exists;  /* an entry is in the table */
	uint8_t orig; /* the caller's direction (0/1) that opened it: IP_CT_DIR_ORIGINAL */
	enum ctwin_state state;
	struct ctwin_dir seen[2]; /* indexed by conntrack direction */
	uint8_t last_dir, last_index, last_wscale, last_flags;
	uint32_t last_seq, last_ack, last_end;
	uint16_t last_win;
	uint8_t retrans;
	bool seen_reply, assured; /* IPS_SEEN_REPLY, IPS_ASSURED */
	uint64_t expires_us;	  /* capture time at which the entry times out */
};

struct ctwin_opts {
	bool no_ignore_delayed;	   /* lacks 6e250dcbff1d (see the top of this file) */
	bool no_rcvwnd_workaround; /* lacks cf97769c761a (read with no_ignore_delayed) */
	bool be_liberal;	   /* nf_conntrack_tcp_be_liberal=1 */
	bool no_pickup;		   /* nf_conntrack_tcp_loose=0 */
	bool no_timeouts;	   /* never expire entries (captures with unreliable clocks) */
};

/* the parts of a segment conntrack reads */
struct ctwin_seg {
	uint64_t ts_us;
	uint8_t flags; /* TCPF_* */
	uint32_t seq, ack;
	uint32_t len;	/* payload bytes */
	uint16_t win;	/* raw window field */
	int wscale;	/* window-scale option, -1 when absent */
	bool sack_perm; /* SACK-permitted option */
	uint32_t sack;	/* highest SACK right edge after ack, ack when none */
};

struct ctwin_result {
	enum ctwin_verdict verdict;
	enum ctwin_reason reason;
	bool liberal;	/* the window check failed (reason) but be_liberal accepted */
	bool new_entry; /* this packet opened the entry (the caller's direction is orig) */
	bool pickup;	/* ...mid-stream: tracked liberally, nothing it sees is INVALID */
	bool expired;	/* the previous entry had timed out (or was killed) before it */
	bool killed;	/* the entry is gone after it (reopen, or RST before any reply) */
	uint8_t ct_dir; /* 0 original, 1 reply */
	uint8_t index;	/* TCP_*_SET: 0 syn, 1 synack, 2 fin, 3 ack, 4 rst, 5 none */
	enum ctwin_state old_state, new_state;
	uint32_t bound; /* the bound the kernel logs with a window reason */
};

/* Extracts what conntrack reads from a decoded segment. */
void ctwin_seg_from_pkt(struct ctwin_seg *s, const struct ctr_pkt *p);

/* An empty slot: no entry. */
void ctwin_init(struct ctwin_conn *c);

/* Runs one segment travelling in the caller's direction dir (0 or 1; the caller keeps one
 * meaning, e.g. 0 client->server) through conntrack. Segments must come in time order. */
enum ctwin_verdict ctwin_packet(struct ctwin_conn *c, int dir, const struct ctwin_seg *s,
				const struct ctwin_opts *o, struct ctwin_result *r);

/* The kernel's log text for r ("SEQ is over upper bound 1902201660 (over the window of
 * the receiver)"), into buf; "in window" for none. Returns buf. */
const char *ctwin_reason_str(const struct ctwin_result *r, char *buf, size_t n);

/* Short class names: "ACCEPT", "IGNORE", "INVALID". */
const char *ctwin_verdict_name(enum ctwin_verdict v);
const char *ctwin_state_name(enum ctwin_state s);

/* What an RST sent in the caller's direction dir with sequence number seq does to the
 * receiving socket, judged from the sender's data conntrack has seen (RFC 5961 3.2, as
 * tcp_validate_incoming; sender_fin: the sender had sent its FIN, so that an RST at the
 * FIN's own sequence number resets too, as tcp_reset_check allows): */
enum ctwin_rst_effect {
	CTWIN_RST_UNKNOWN,   /* no tracked entry or no data of the sender seen */
	CTWIN_RST_RESETS,    /* seq is exactly the receiver's next expected: it resets */
	CTWIN_RST_CHALLENGE, /* inside the receive window, not exact: challenge ACK only */
	CTWIN_RST_IGNORED,   /* outside the receive window: dropped */
};
enum ctwin_rst_effect ctwin_rst_effect(const struct ctwin_conn *c, int dir, uint32_t seq,
				       bool sender_fin);
const char *ctwin_rst_effect_str(enum ctwin_rst_effect e);

#endif
