/* Internal layout of the TCP stack shared by tcp.c, tcp_input.c,
 * tcp_output.c and tcp_timer.c. Not an API. */
#ifndef HSRELAY_DATAPLANE_TCP_INTERNAL_H
#define HSRELAY_DATAPLANE_TCP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dataplane/syn_cookie.h"
#include "dataplane/tcp.h"
#include "dataplane/tcp_cubic.h"
#include "dataplane/tcp_options.h"
#include "dataplane/tcp_sack.h"

struct rte_hash;
struct rte_mbuf;

/* Sequence space comparisons, RFC 9293 3.4 (modulo 2^32). */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

#define TCP_NS_PER_MS 1000000ull
#define TCP_NS_PER_S 1000000000ull
/* Timer wheel: 1 ms ticks, 4096 slots; later deadlines wait in their slot
 * and are skipped until due. */
#define TCP_WHEEL_TICK_NS TCP_NS_PER_MS
#define TCP_WHEEL_SLOTS 4096u
#define TCP_NONE UINT32_MAX
/* RFC 6691 / RFC 9293 3.7.1: MSS assumed when the peer sent none. */
#define TCP_DEFAULT_PEER_MSS 536
/* RFC 7323 5.5: TS.Recent older than 24 days is invalid for PAWS. */
#define TCP_PAWS_IDLE_NS (24ull * 86400ull * TCP_NS_PER_S)
#define TCP_TS_OPTION_LEN 12

/* Connection flags. */
#define CF_TS_OK		(1u << 0)
#define CF_SACK_OK		(1u << 1)
#define CF_WS_OK		(1u << 2)
#define CF_SEND_SYN		(1u << 3)
#define CF_ACK_NOW		(1u << 4)
#define CF_REXMIT_ONE		(1u << 5)
#define CF_PROBE		(1u << 6)
#define CF_FIN_QUEUED		(1u << 7)
#define CF_USER_CLOSED		(1u << 8)
#define CF_USER_VISIBLE		(1u << 9)
#define CF_RECOVERY		(1u << 10)
#define CF_RTT_TIMING		(1u << 11)
#define CF_OOO_FIN		(1u << 12)
#define CF_PASSIVE		(1u << 13)
#define CF_WANT_WRITABLE	(1u << 14)
#define CF_PERSIST		(1u << 15)
#define CF_IN_USE		(1u << 16)
#define CF_SYN_QUEUE		(1u << 17)	/* counted in syn_queue_len */
#define CF_PEER_FIN		(1u << 18)
#define CF_IN_TIME_WAIT		(1u << 19)	/* linked in the TIME-WAIT list */
#define CF_SACK_RECOVERY	(1u << 20)	/* CF_RECOVERY driven by SACK (RFC 6675) */
#define CF_DSACK		(1u << 21)	/* report dsack_* first in the next SACK option */
#define CF_LOSS_PROBE		(1u << 22)	/* send a tail loss probe (RFC 8985 7.3) */
#define CF_PROBE_OUT		(1u << 23)	/* a loss probe awaits its ACK (TLP.end_seq) */
#define CF_PROBE_RETRANS	(1u << 24)	/* ... and it was a retransmission */
#define CF_RESCUED		(1u << 25)	/* this recovery's rescue retransmission
						 * is out (RFC 6675 NextSeg() rule 4) */
#define CF_UNDO			(1u << 26)	/* undo_* hold the last reduction */
#define CF_UNDONE		(1u << 27)	/* given back during its recovery */

/* Flags that belong to the slot, not the connection: they survive free. */
#define CF_IN_EVENTS		(1u << 30)
#define CF_IN_DIRTY		(1u << 31)
#define CF_SLOT_FLAGS		(CF_IN_EVENTS | CF_IN_DIRTY)

struct tcp_key {
	uint32_t remote_ip;
	uint32_t local_ip;
	uint16_t remote_port;
	uint16_t local_port;
};

/* One contiguous range of out-of-order data: the segments that arrived
 * for it chained in sequence order (m's pkt_len is len; last is its last
 * segment, so that a segment arriving at its end is chained in O(1)). */
struct tcp_ooo_entry {
	uint32_t seq;
	uint32_t len;
	uint32_t stamp;		/* last change, for RFC 2018 block order */
	struct rte_mbuf *m;
	struct rte_mbuf *last;
};

struct tcp_conn {
	struct tcp_key key;
	uint32_t flags;
	uint8_t state;
	uint8_t events;		/* 1 << enum tcp_event_type */
	uint8_t snd_wscale, rcv_wscale;
	int16_t error;
	uint16_t mss;		/* payload per full segment, options excluded */
	uint16_t peer_mss;
	uint32_t listener;
	uint64_t user;

	/* Send sequence variables, RFC 9293 3.3.1; snd_max is the highest
	 * sequence sent (snd_nxt goes back to snd_una after a timeout). */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, max_snd_wnd;
	uint32_t snd_wl1, snd_wl2;
	/* Send queue: segments linked by ->next; sq_head_off bytes of the
	 * head are acknowledged; sq_seq is the sequence of the first unacked
	 * queued byte; a cursor speeds up slicing new data. */
	struct rte_mbuf *sq_head, *sq_tail;
	uint32_t sq_head_off, sq_seq, sq_bytes;
	struct rte_mbuf *sq_cursor;
	uint32_t sq_cursor_seq;	/* sequence of sq_cursor's first data byte */

	/* Receive sequence variables; rcv_adv is the right edge advertised. */
	uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent, fin_seq;
	struct rte_mbuf *rq_head, *rq_last;
	uint32_t rq_bytes, rq_segs;
	struct tcp_ooo_entry *ooo;
	uint16_t ooo_count;
	uint32_t ooo_stamp;

	/* RFC 7323 timestamps. */
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_time;

	/* RFC 6298 estimator, ns. */
	uint64_t srtt, rttvar, rto;
	uint64_t rtt_start;
	uint32_t rtt_seq;
	uint8_t backoff;
	uint8_t persist_backoff;
	uint8_t retries;

	/* RFC 5681 / RFC 6582 congestion control (CUBIC's state and the
	 * undo state are at the end: touched only in congestion avoidance
	 * and at congestion events, they stay off the per-segment lines). */
	uint32_t cwnd, ssthresh, recover;
	uint32_t dupacks;
	/* RFC 6675 loss recovery: what the peer SACKed above snd_una, and
	 * the end of the highest retransmission of this recovery (HighRxt). */
	struct tcp_sack_board sack_board;
	uint32_t high_rxt;
	/* RFC 8985 7: the loss probe deadline, and the sequence range of the
	 * probe awaiting its ACK (TLP.end_seq is probe_end). */
	uint64_t t_probe;
	uint32_t probe_start, probe_end;
	/* RFC 2883: the duplicate bytes to report (CF_DSACK). */
	uint32_t dsack_left, dsack_right;
	/* Time-based loss detection in the spirit of RACK (RFC 8985 6),
	 * without a per-segment log: the deadline by which the hole at
	 * reorder_una, with SACKed data above it, counts as lost; and when
	 * the hole at snd_una was last retransmitted in this recovery. */
	uint64_t t_reorder;
	uint32_t reorder_una;
	uint64_t rxt_una_time;
	/* RFC 8985 6.2 step 4: the window grows by SRTT / 4 (up to SRTT) for
	 * each round trip in which the peer reported a duplicate (D-SACK:
	 * a retransmission was needless, the path reorders), and goes back
	 * after 16 recoveries without one. */
	uint32_t dsack_round;
	uint8_t reo_wnd_mult, reo_wnd_persist;

	/* Deadlines (ns, 0 = off) and the wheel link for the earliest. */
	uint64_t t_rexmit, t_delack, t_2msl;
	uint64_t wheel_deadline;
	uint32_t wheel_prev, wheel_next;
	uint32_t wheel_slot;

	/* TIME-WAIT list links, oldest first (all last 2MSL, so the head is
	 * the next to expire and the first to recycle). */
	uint32_t tw_prev, tw_next;

	/* CUBIC's state when the stack runs it
	 * (tcp_stack_config.congestion_control). */
	struct tcp_cubic cubic;
	/* RFC 9438 4.9 with RFC 3708's D-SACK detection: the window, ssthresh
	 * and CUBIC state before the last congestion event (CF_UNDO), the
	 * sequence range its recovery retransmitted ([undo_marker,
	 * undo_high)) and how many of those segments the peer has not yet
	 * reported as duplicates. */
	uint32_t undo_cwnd, undo_ssthresh;
	uint32_t undo_marker, undo_high, undo_retrans;
	struct tcp_cubic undo_cubic;
};

struct tcp_listener {
	bool in_use;
	uint32_t local_ip;
	uint16_t port;
};

/* A ring of slot indices with a membership flag per slot, so each index is
 * in it at most once and capacity max_connections never overflows. */
struct tcp_index_ring {
	uint32_t *slots;
	uint32_t head, count, size;
};

struct tcp_stack {
	struct tcp_stack_config cfg;
	struct tcp_stats stats;
	struct rte_hash *table;
	struct tcp_conn *conns;
	struct tcp_ooo_entry *ooo_entries;
	uint32_t *free_list;
	uint32_t free_count;
	uint32_t syn_queue_len;
	uint32_t tw_head, tw_tail;
	struct tcp_listener *listeners;

	struct tcp_index_ring events;
	struct tcp_index_ring dirty;

	struct rte_mbuf **txq;
	uint32_t txq_head, txq_count;

	uint32_t wheel_heads[TCP_WHEEL_SLOTS];
	uint64_t wheel_tick;
	uint32_t wheel_linked;		/* connections in the wheel */

	uint16_t ip_id;
	uint8_t rcv_wscale;
	uint64_t challenge_window;
	uint32_t challenge_count;
	uint64_t last_cookie_sent;
	bool cookies_sent;
	uint8_t isn_key[16];
	uint8_t cookie_key[SYN_COOKIE_KEY_LEN];
	uint8_t port_key[16];
};

/* Parsed incoming segment. */
struct tcp_segment {
	struct tcp_header h;
	uint32_t local_ip, remote_ip;	/* host order */
	uint32_t len;			/* payload bytes */
	struct rte_mbuf *m;		/* payload (data starts at payload) */
};

/* tcp.c */
/* Takes a free TCB, recycling the oldest TIME-WAIT one when none is free
 * (never the connection being processed: its key is in the table). */
struct tcp_conn *tcp_conn_alloc(struct tcp_stack *s, const struct tcp_key *key);
/* A TCB is free or a TIME-WAIT one can be recycled. */
bool tcp_conn_available(const struct tcp_stack *s);
void tcp_conn_free(struct tcp_stack *s, struct tcp_conn *c);
struct tcp_conn *tcp_conn_lookup(struct tcp_stack *s, const struct tcp_key *key);
void tcp_conn_init_tcb(struct tcp_stack *s, struct tcp_conn *c, uint64_t now);
uint32_t tcp_isn(const struct tcp_stack *s, const struct tcp_key *key, uint64_t now);
void tcp_event(struct tcp_stack *s, struct tcp_conn *c, enum tcp_event_type type);
void tcp_mark_dirty(struct tcp_stack *s, struct tcp_conn *c);
/* The protocol reached CLOSED: free now if the user let go, else report. */
void tcp_conn_closed(struct tcp_stack *s, struct tcp_conn *c, int error);
void tcp_enter_time_wait(struct tcp_stack *s, struct tcp_conn *c, uint64_t now);
uint32_t tcp_conn_index(const struct tcp_stack *s, const struct tcp_conn *c);
void tcp_mbuf_chain_free(struct rte_mbuf *m);
/* Drops the first n bytes of a chain (freeing emptied segments); returns the
 * new head. */
struct rte_mbuf *tcp_chain_trim_front(struct rte_mbuf *m, uint32_t n);
/* Keeps only the first keep bytes of a chain (keep >= 1). */
void tcp_chain_trim_back(struct rte_mbuf *m, uint32_t keep);

/* tcp_timer.c */
void tcp_timer_update(struct tcp_stack *s, struct tcp_conn *c);
void tcp_timer_remove(struct tcp_stack *s, struct tcp_conn *c);
void tcp_rto_update(struct tcp_conn *c, const struct tcp_stack_config *cfg, uint64_t rtt);
/* RFC 8985 7.2: (re)schedules the tail loss probe when the connection
 * qualifies, else cancels it. Call after new data went out or a
 * cumulative ACK came in, with t_rexmit already set. */
void tcp_loss_probe_arm(struct tcp_stack *s, struct tcp_conn *c, uint64_t now);
/* RFC 8985 6.2 step 4: the reordering window, reo_wnd_mult x SRTT / 4,
 * at most SRTT, at least 1 ms. */
uint64_t tcp_reorder_window(const struct tcp_conn *c);
/* The earliest of the connection's timer deadlines (ns), 0 when none is
 * set: where the timer wheel must hold it. */
uint64_t tcp_conn_next_deadline(const struct tcp_conn *c);

/* tcp_input.c */
/* RFC 6675 5 step 4: fast retransmit and SACK-driven loss recovery. */
void tcp_enter_sack_recovery(struct tcp_stack *s, struct tcp_conn *c);
/* The slow start threshold after a congestion event (timeout: a
 * retransmission timeout) with flight bytes out: NewReno halves it
 * (RFC 5681 eq. 4), CUBIC takes beta_cubic of it and notes the event
 * (RFC 9438 4.6 to 4.8). At least 2 MSS either way. */
uint32_t tcp_congestion_ssthresh(struct tcp_stack *s, struct tcp_conn *c, uint32_t flight,
		bool timeout);
/* A retransmission of len bytes at seq, counted against the last
 * congestion event's undo (RFC 3708). */
void tcp_undo_note_retransmit(struct tcp_conn *c, uint32_t seq, uint32_t len);

/* tcp_output.c */
void tcp_conn_output(struct tcp_stack *s, struct tcp_conn *c, uint64_t now);
bool tcp_txq_full(const struct tcp_stack *s);
void tcp_send_reset_for(struct tcp_stack *s, const struct tcp_segment *seg);
void tcp_send_rst(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint64_t now);
void tcp_send_cookie_syn_ack(struct tcp_stack *s, const struct tcp_segment *seg, uint64_t now);
uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now);
uint32_t tcp_rcv_window_update(struct tcp_stack *s, struct tcp_conn *c);
uint32_t tcp_rcv_space(const struct tcp_stack *s, const struct tcp_conn *c);

/* tcp_input.c */
void tcp_segment_input(struct tcp_stack *s, struct tcp_segment *seg, uint64_t now);

#endif
