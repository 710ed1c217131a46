/* User-space TCP for one worker (RFC 9293 with RFC 6298, 5681, 6582, 3042
 * limited transmit, 7323, 6691, 5961, 6528, 2018 receiver side, 4987 SYN
 * cookies).
 *
 * One struct tcp_stack per worker lcore; nothing in it is shared or locked.
 * Time is never read here: every entry point that can arm or fire a timer
 * takes `now` in nanoseconds, so the stack runs under virtual time in tests.
 *
 * Packets in and out are IPv4 packets in mbufs:
 *  - input: the IPv4 header at offset m->l2_len, m->l3_len its length; the
 *    caller (dataplane/ipv4) has checked the IPv4 header checksum. The TCP
 *    header must lie in the first segment; payload may span segments.
 *  - output: mbufs whose data starts at the IPv4 header (l2_len 0, l3_len 20,
 *    l4_len set) with both checksums filled in, headroom left for Ethernet.
 *    Data segments are a header mbuf chained to indirect mbufs that point into
 *    the caller's send buffers (no copy).
 *
 * Connections and listeners are small integer handles. A connection handle is
 * valid from the TCP_EVENT_ACCEPTED event or a successful tcp_connect() until
 * the caller passes it to tcp_close() or tcp_abort(); after that the stack
 * finishes the protocol (FIN exchange, TIME-WAIT) on its own and reports
 * nothing more about it.
 *
 * Addresses and ports are host byte order in this API. */
#ifndef HSRELAY_DATAPLANE_TCP_H
#define HSRELAY_DATAPLANE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct tcp_stack;

#define TCP_SECRET_LEN 32

/* Picks a local port for an active open (attempt 0, 1, ...). Returns 0 and
 * sets *port, or a negative value to give up. The dataplane uses this to pick
 * ports whose RSS hash lands on the calling worker's queue. */
typedef int (*tcp_port_chooser_fn)(void *arg, uint32_t local_ip, uint32_t remote_ip,
		uint16_t remote_port, uint32_t attempt, uint16_t *port);

/* The sender's congestion control: the window growth in congestion
 * avoidance and the reduction at a congestion event; slow start, fast
 * retransmit and recovery (RFC 6582, RFC 6675) are the same for both. */
enum tcp_congestion_control {
	TCP_CC_CUBIC,		/* RFC 9438 (dataplane/tcp_cubic.h), as Linux */
	TCP_CC_NEWRENO,		/* RFC 5681 and RFC 6582 */
};

/* Who computes the checksum of sent segments (port_info's TX offloads). */
enum tcp_tx_checksum {
	TCP_TX_CHECKSUM_SOFTWARE,	/* the stack, always (the default) */
	/* The device, for segments that are one mbuf (payload copied into
	 * the header mbuf); the stack for chains (net_tap, port.c). */
	TCP_TX_CHECKSUM_OFFLOAD_SINGLE,
	TCP_TX_CHECKSUM_OFFLOAD,	/* the device, for every segment */
};

struct tcp_stack_config {
	struct rte_mempool *pool;	/* headers of sent segments, indirect mbufs */
	int socket_id;
	/* TCBs incl. SYN-RECEIVED and TIME-WAIT. When all are taken, the
	 * oldest TIME-WAIT one is reused; with none, SYNs are dropped. */
	uint32_t max_connections;
	uint32_t max_listeners;		/* default 16 */
	uint32_t syn_queue_max;		/* half-open TCBs before SYN cookies; default max/4 */
	uint32_t output_queue_size;	/* default 1024 */
	uint16_t mss;			/* advertised MSS, MTU - 40; default 1460 */
	uint32_t recv_buffer;		/* bytes per connection; default 256 KiB */
	uint32_t send_buffer;		/* bytes per connection; default 256 KiB */
	uint16_t ooo_max_ranges;	/* out-of-order ranges (data between two holes) held per connection; default 32 */
	bool no_timestamps;		/* do not offer RFC 7323 timestamps */
	bool no_window_scale;		/* do not offer RFC 7323 window scaling */
	bool no_sack;			/* do not offer SACK-permitted */
	bool no_tail_loss_probe;	/* no RFC 8985 7 loss probes */
	enum tcp_congestion_control congestion_control;	/* default CUBIC */
	/* Received segments carry the device's verdict on their TCP checksum
	 * in ol_flags (RX_L4_CKSUM_GOOD or NONE: taken without summing
	 * them; BAD: dropped as drop_checksum; UNKNOWN: summed in software).
	 * Off (the default): the flags are not looked at. */
	bool rx_checksum_offload;
	enum tcp_tx_checksum tx_checksum;
	uint64_t rto_initial_ns;	/* RFC 6298 2.1; default 1 s */
	uint64_t rto_min_ns;		/* default 200 ms (Linux) */
	uint64_t rto_max_ns;		/* default 60 s */
	uint64_t delayed_ack_ns;	/* default 40 ms */
	uint64_t time_wait_ns;		/* 2MSL; default 60 s */
	uint32_t max_retransmits;	/* before giving up on data; default 15 */
	uint32_t max_syn_retransmits;	/* SYN / SYN-ACK; default 6 */
	uint32_t challenge_ack_limit;	/* per second per stack (RFC 5961 7); default 1000 */
	uint8_t secret[TCP_SECRET_LEN];	/* ISN (RFC 6528) and SYN cookie keys */
	tcp_port_chooser_fn choose_port;	/* NULL: hash over 49152..65535 */
	void *choose_port_arg;
};

enum tcp_state {
	TCP_STATE_CLOSED,
	TCP_STATE_LISTEN,
	TCP_STATE_SYN_SENT,
	TCP_STATE_SYN_RECEIVED,
	TCP_STATE_ESTABLISHED,
	TCP_STATE_FIN_WAIT_1,
	TCP_STATE_FIN_WAIT_2,
	TCP_STATE_CLOSE_WAIT,
	TCP_STATE_CLOSING,
	TCP_STATE_LAST_ACK,
	TCP_STATE_TIME_WAIT,
};

enum tcp_event_type {
	TCP_EVENT_ACCEPTED,	/* passive open done; listener says which */
	TCP_EVENT_CONNECTED,	/* active open done */
	TCP_EVENT_READABLE,	/* tcp_recv() has bytes */
	TCP_EVENT_WRITABLE,	/* tcp_send() was refused and there is room again */
	TCP_EVENT_PEER_CLOSED,	/* FIN received after all data: end of stream */
	TCP_EVENT_CLOSED,	/* connection fully closed by the protocol */
	TCP_EVENT_RESET,	/* reset by the peer, refused or timed out: see error */
};

struct tcp_event {
	uint32_t conn;
	uint16_t type;		/* enum tcp_event_type */
	int16_t error;		/* RESET: -ECONNRESET, -ECONNREFUSED or -ETIMEDOUT */
	uint32_t listener;	/* ACCEPTED only */
	uint64_t user;		/* tcp_set_user() value */
};

/* Counters per reason; all monotonic. */
struct tcp_stats {
	uint64_t segments_in;
	uint64_t segments_out;
	uint64_t bytes_in;		/* in-order payload delivered */
	uint64_t bytes_out;		/* payload sent incl. retransmissions */
	uint64_t drop_malformed;	/* IPv4/TCP header or options impossible */
	uint64_t drop_checksum;
	uint64_t drop_no_socket;	/* answered by RST or ignored */
	uint64_t drop_out_of_window;
	uint64_t drop_paws;
	uint64_t drop_bad_ack;
	uint64_t drop_ooo_full;
	uint64_t drop_no_mbuf;		/* pool empty: segment not built */
	uint64_t drop_output_full;	/* output queue full */
	uint64_t drop_no_tcb;		/* SYN refused: connection table full */
	uint64_t drop_after_close;	/* payload for a connection the user closed */
	uint64_t resets_sent;
	uint64_t resets_received;
	uint64_t challenge_acks;
	uint64_t challenge_acks_suppressed;
	uint64_t retransmit_timeouts;
	uint64_t retransmitted_segments;
	uint64_t fast_retransmits;
	uint64_t partial_acks;
	uint64_t sack_recoveries;	/* of fast_retransmits, driven by SACK (RFC 6675) */
	uint64_t sack_retransmits;	/* holes retransmitted in SACK recoveries */
	uint64_t loss_probes;		/* RFC 8985 7 tail loss probes sent */
	uint64_t loss_probe_repairs;	/* of which repaired a loss (cwnd reduced) */
	uint64_t loss_probes_spurious;	/* of which the peer had (D-SACK) */
	uint64_t dsacks_sent;		/* RFC 2883 duplicate reports */
	uint64_t reorder_recoveries;	/* recoveries the reordering window started */
	uint64_t lost_retransmits;	/* retransmissions found lost, sent again */
	uint64_t recoveries_undone;	/* reductions given back: D-SACK showed reordering */
	uint64_t persist_probes;
	uint64_t delayed_acks;
	uint64_t syn_cookies_sent;
	uint64_t syn_cookies_accepted;
	uint64_t syn_cookies_rejected;
	uint64_t connections_accepted;
	uint64_t connections_connected;
	uint64_t time_wait_entered;
	uint64_t time_wait_expired;
	uint64_t connect_timeouts;
	uint64_t data_timeouts;
	uint64_t ooo_segments;
	uint64_t time_wait_recycled;	/* TIME-WAIT TCB reused: table full */
	uint64_t resets_unread_at_close;	/* tcp_close() with data unread */
	uint64_t resets_data_after_close;	/* new data after tcp_close() */
	uint64_t limited_transmits;	/* RFC 3042 segments */
	uint64_t rx_checksum_offloaded;	/* segments whose checksum the device verified */
	uint64_t tx_checksum_offloaded;	/* segments left for the device to checksum */
};

struct tcp_conn_info {
	enum tcp_state state;
	uint32_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_max, snd_wnd;
	uint32_t cwnd, ssthresh;
	uint32_t rcv_nxt, rcv_wnd;
	uint64_t srtt_ns, rttvar_ns, rto_ns;
	uint32_t send_queued;		/* bytes not yet acknowledged */
	uint32_t recv_queued;		/* in-order bytes not yet taken by tcp_recv() */
	uint32_t ooo_ranges;		/* out-of-order runs held (between holes) */
	uint16_t mss;			/* payload bytes per full segment */
	uint8_t snd_wscale, rcv_wscale;
	bool timestamps, sack_permitted, in_recovery;
};

/* Fills unset (zero) fields of cfg with the defaults above. */
void tcp_stack_config_defaults(struct tcp_stack_config *cfg);

/* Allocates a stack with all its tables (from DPDK memory on cfg->socket_id).
 * Returns NULL with *error set (-EINVAL, -ENOMEM) on failure. Not fast path. */
struct tcp_stack *tcp_stack_create(const struct tcp_stack_config *cfg, int *error);

/* Frees every mbuf the stack holds and the stack itself. */
void tcp_stack_destroy(struct tcp_stack *stack);

const struct tcp_stats *tcp_stack_stats(const struct tcp_stack *stack);

/* Takes n IPv4 packets carrying TCP. Ownership of every mbuf passes to the
 * stack (kept as received data or freed), whatever happens. Returns n. */
unsigned tcp_input_burst(struct tcp_stack *stack, struct rte_mbuf **pkts, unsigned n,
		uint64_t now);

/* Moves up to max packets ready to send into out (ownership to the caller),
 * building segments for connections that have something to send first.
 * Returns how many. */
unsigned tcp_output_drain(struct tcp_stack *stack, struct rte_mbuf **out, unsigned max,
		uint64_t now);

/* Fires timers due at or before now (retransmission, persist, delayed ACK,
 * TIME-WAIT), at most budget connections. Returns how many fired. */
unsigned tcp_timers_run(struct tcp_stack *stack, uint64_t now, unsigned budget);

/* Moves up to max pending events into ev. Returns how many. */
unsigned tcp_events_drain(struct tcp_stack *stack, struct tcp_event *ev, unsigned max);

/* Passive open on local_ip (0: any) and port. Returns 0 and sets *listener,
 * -EADDRINUSE or -ENOSPC. */
int tcp_listen(struct tcp_stack *stack, uint32_t local_ip, uint16_t port, uint32_t *listener);

/* Stops accepting on a listener; established connections are unaffected. */
int tcp_unlisten(struct tcp_stack *stack, uint32_t listener);

/* Active open. local_port 0 asks cfg->choose_port. The SYN is built by the
 * next tcp_output_drain(). Returns 0 and sets *conn, or -ENOSPC (no TCB),
 * -EADDRINUSE (no free port / tuple taken), -EINVAL. */
int tcp_connect(struct tcp_stack *stack, uint32_t local_ip, uint16_t local_port,
		uint32_t remote_ip, uint16_t remote_port, uint64_t now, uint32_t *conn);

/* Queues the mbuf chain for sending; on success the stack owns it and frees
 * each segment once the peer acknowledged all of its bytes. The data must not
 * be modified afterwards. Returns 0, or (the chain still the caller's)
 * -EAGAIN when the send buffer is full (TCP_EVENT_WRITABLE follows),
 * -ENOTCONN / -EPIPE when the connection cannot send, -EBADF. */
int tcp_send(struct tcp_stack *stack, uint32_t conn, struct rte_mbuf *chain, uint64_t now);

/* Takes all in-order received bytes as one mbuf chain (pkt_len = bytes).
 * Returns the byte count (0 when none; *chain NULL) or -EBADF. Opens the
 * receive window; a window update is sent when it grew enough. */
int tcp_recv(struct tcp_stack *stack, uint32_t conn, struct rte_mbuf **chain, uint64_t now);

/* tcp_recv() for a reader with a byte budget (a rate limit): takes whole
 * segments in order until they reach at_most bytes, so it returns at
 * least one segment when any is queued and may exceed at_most by less
 * than one segment. What it leaves stays queued and keeps the window
 * closed by its size; no event repeats for it. */
int tcp_recv_at_most(struct tcp_stack *stack, uint32_t conn, uint32_t at_most,
		struct rte_mbuf **chain, uint64_t now);

/* Graceful close: queued data then FIN. The handle is invalid afterwards.
 * Received data the caller has not taken with tcp_recv() makes it abortive
 * (RFC 9293 3.10.4, RFC 2525 2.17, as Linux): a RST, and the connection is
 * gone. New data arriving after the close is answered with a RST too. */
int tcp_close(struct tcp_stack *stack, uint32_t conn, uint64_t now);

/* Abortive close: RST if synchronized, all buffers freed, handle invalid. */
int tcp_abort(struct tcp_stack *stack, uint32_t conn, uint64_t now);

int tcp_set_user(struct tcp_stack *stack, uint32_t conn, uint64_t user);
int tcp_conn_info(const struct tcp_stack *stack, uint32_t conn, struct tcp_conn_info *info);

/* Bytes tcp_send() would still accept before refusing. */
uint32_t tcp_send_space(const struct tcp_stack *stack, uint32_t conn);

const char *tcp_state_name(enum tcp_state state);

#endif
