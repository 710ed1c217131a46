/* libFuzzer target for the TCP stack (dataplane/tcp*.c) as a whole: a real
 * tcp_stack with a listener and a few connections is driven through a
 * conversation decoded from the input: peer segments whose sequence and
 * acknowledgment numbers are chosen relative to what the stack last sent
 * (so they land in and around the windows), with any flags, window, options,
 * payload length and checksum; steps of virtual time; and the upper-layer
 * calls (send, recv, close, abort, connect, listen, unlisten), plus holding
 * back mbufs to empty the pool.
 *
 * After every step the harness checks:
 *  - every mbuf taken from the pool is held by the stack (send, receive and
 *    out-of-order queues) or by the harness: none leaked, none freed twice;
 *  - each TCB is consistent: a legal state, SND.UNA <= SND.NXT <= SND.MAX,
 *    queue byte counts equal their chains, the out-of-order queue sorted,
 *    disjoint, above RCV.NXT and within its bound, outstanding data or a
 *    SYN has a retransmission timer, and the timer wheel holds the
 *    connection at its earliest deadline; the free list, SYN queue and
 *    TIME-WAIT list agree with the TCBs;
 *  - every emitted segment has valid IPv4 and TCP checksums and a header
 *    that parses, and its payload is exactly the bytes the harness queued
 *    at that stream offset; every byte tcp_recv() hands up is the byte the
 *    peer sent at that sequence number (payload bytes are a function of
 *    their absolute sequence number, so retransmissions and overlaps must
 *    agree).
 * Any violation aborts. EAL starts once, in LLVMFuzzerInitialize. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "dataplane/tcp.h"
#include "dataplane/tcp_internal.h"
#include "dataplane/tcp_options.h"

#define POOL_SIZE 2047u
#define MAX_CONNECTIONS 4u
#define PEERS 6u
#define HANDLES 8u
#define HELD_MAX 2047u
#define LOCAL_IP 0x0a000001u
#define REMOTE_IP 0x0a000002u
#define LISTEN_PORT 80
#define NS_PER_MS 1000000ull
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct rte_mempool *pool;

/* What the peer side knows of one 4-tuple, learned from emitted segments. */
struct peer {
	bool used;
	uint16_t local_port, remote_port;
	uint32_t isn;		/* the peer's own ISN for SYNs it sends */
	bool have_iss;
	uint32_t stack_iss;	/* from the stack's last SYN on this tuple */
	uint32_t stack_nxt;	/* highest sequence the stack sent, + 1 */
	uint32_t stack_ack;	/* the stack's last acknowledgment */
	uint32_t stack_ts;	/* the stack's last TSval */
	uint32_t queued;	/* bytes the harness queued on the connection */
	uint32_t handle;	/* TCP_NONE when the user holds no handle */
};

struct handle {
	bool used;
	uint32_t conn;
	unsigned peer;
	uint32_t read_seq;	/* next sequence number tcp_recv() returns */
	bool have_read_seq;
};

struct harness {
	struct tcp_stack *stack;
	uint64_t now;
	uint32_t listener;
	bool listening;
	struct peer peers[PEERS];
	struct handle handles[HANDLES];
	struct rte_mbuf *held[HELD_MAX];
	unsigned n_held;
	const uint8_t *p, *end;
};

static uint8_t
take(struct harness *h)
{
	return h->p < h->end ? *h->p++ : 0;
}

static uint16_t
take16(struct harness *h)
{
	uint16_t hi = take(h);

	return (uint16_t)(hi << 8 | take(h));
}

/* Payload bytes: the peer's byte at sequence number seq, the stack's byte
 * at stream offset off. */
static uint8_t
peer_byte(uint32_t seq)
{
	return (uint8_t)(seq * 13u + (seq >> 8) + 5u);
}

static uint8_t
stack_byte(uint32_t off, unsigned peer)
{
	return (uint8_t)(off * 7u + (off >> 11) + 3u + peer);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *eal_argv[] = {
		"fuzz_tcp_conversation", "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--log-level=lib.eal:error", "--log-level=*:error", NULL,
	};

	(void)argc;
	(void)argv;
	if (rte_eal_init(8, eal_argv) < 0)
		abort();
	/* No per-lcore cache, so the available count is exact. */
	pool = rte_pktmbuf_pool_create("fuzz_tcp", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

static unsigned
chain_segments(const struct rte_mbuf *m, uint32_t *bytes)
{
	unsigned n = 0;

	*bytes = 0;
	for (; m != NULL; m = m->next) {
		n++;
		*bytes += m->data_len;
		CHECK(n <= POOL_SIZE);
	}
	return n;
}

/* Checks one TCB; returns the mbufs it holds. */
static unsigned
check_conn(const struct tcp_stack *s, const struct tcp_conn *c)
{
	unsigned held = 0, n;
	uint32_t bytes;
	uint64_t d = tcp_conn_next_deadline(c);

	CHECK(c->state != TCP_STATE_LISTEN && c->state <= TCP_STATE_TIME_WAIT);
	CHECK(SEQ_LEQ(c->snd_una, c->snd_nxt) && SEQ_LEQ(c->snd_nxt, c->snd_max));
	/* Outstanding: at most the queued data plus SYN and FIN (a closed
	 * TCB waiting for the user's close has dropped its send queue). */
	if (c->state != TCP_STATE_CLOSED)
		CHECK(c->snd_max - c->snd_una <= c->sq_bytes + 2);
	/* Congestion control (NewReno or CUBIC): once the handshake set the
	 * MSS, at least a segment of window and 2 MSS of ssthresh; CUBIC
	 * carries less than a byte of earned growth. */
	if (c->state >= TCP_STATE_ESTABLISHED)
		CHECK(c->cwnd >= c->mss && c->ssthresh >= 2u * c->mss);
	CHECK(c->cubic.pending >= 0 && c->cubic.pending < 1 && c->cubic.w_max >= 0);
	/* A reduction given back during its recovery marks that recovery
	 * only; an undo is armed with at most what went out since. */
	CHECK(!(c->flags & CF_UNDONE) || (c->flags & CF_RECOVERY));
	CHECK(!(c->flags & CF_UNDO) || SEQ_LEQ(c->undo_marker, c->undo_high));
	/* Send queue. */
	n = chain_segments(c->sq_head, &bytes);
	held += n;
	CHECK(c->sq_head != NULL || c->sq_bytes == 0);
	if (c->sq_head != NULL) {
		CHECK(c->sq_head_off < c->sq_head->data_len);
		CHECK(bytes - c->sq_head_off == c->sq_bytes);
		CHECK(c->sq_tail != NULL && c->sq_tail->next == NULL);
	}
	/* Receive queue. */
	n = chain_segments(c->rq_head, &bytes);
	held += n;
	CHECK(n == c->rq_segs && bytes == c->rq_bytes);
	CHECK((c->rq_head == NULL) == (c->rq_last == NULL));
	if (c->rq_last != NULL)
		CHECK(c->rq_last->next == NULL);
	if (c->flags & CF_USER_CLOSED)
		CHECK(c->rq_bytes == 0);
	/* Out-of-order queue: sorted, disjoint and apart (adjacent data is
	 * one range: the buffers here are far below the 65535 segments that
	 * would keep two apart), above RCV.NXT, bounded; each entry's chain
	 * ends at its last segment. */
	CHECK(c->ooo_count <= s->cfg.ooo_max_ranges);
	for (unsigned i = 0; i < c->ooo_count; i++) {
		const struct tcp_ooo_entry *e = &c->ooo[i];

		n = chain_segments(e->m, &bytes);
		held += n;
		CHECK(e->len > 0 && bytes == e->len && e->m->pkt_len == e->len);
		CHECK(e->m->nb_segs == n && e->last == rte_pktmbuf_lastseg(e->m));
		CHECK(SEQ_GT(e->seq, c->rcv_nxt));
		if (i > 0)
			CHECK(SEQ_LT(c->ooo[i - 1].seq + c->ooo[i - 1].len, e->seq));
	}
	/* SACK scoreboard: sorted, disjoint, not adjacent, inside
	 * [SND.UNA, SND.MAX]; SACK recovery only with SACK and inside a
	 * recovery, retransmitting nothing past SND.MAX. */
	CHECK(c->sack_board.count <= TCP_SACK_BOARD_MAX);
	CHECK(c->sack_board.count == 0 || (c->flags & CF_SACK_OK));
	for (unsigned i = 0; i < c->sack_board.count; i++) {
		const struct tcp_sack_block *r = &c->sack_board.ranges[i];

		CHECK(SEQ_LEQ(c->snd_una, r->left) && SEQ_LT(r->left, r->right) &&
		      SEQ_LEQ(r->right, c->snd_max));
		if (i > 0)
			CHECK(SEQ_LT(c->sack_board.ranges[i - 1].right, r->left));
	}
	if (c->flags & CF_SACK_RECOVERY)
		CHECK((c->flags & CF_RECOVERY) && (c->flags & CF_SACK_OK) &&
		      SEQ_LEQ(c->high_rxt, c->snd_max));
	/* Loss probes (RFC 8985 7): armed only outside recovery, never
	 * after the RTO; a probe out lies within what was sent. D-SACK
	 * (RFC 2883): a non-empty block. */
	if (c->t_probe != 0)
		CHECK(!(c->flags & CF_RECOVERY) && c->t_rexmit != 0 && c->t_probe <= c->t_rexmit);
	if (c->flags & CF_PROBE_OUT)
		CHECK(SEQ_LEQ(c->probe_start, c->probe_end) && SEQ_LEQ(c->probe_end, c->snd_max));
	if (c->flags & CF_DSACK)
		CHECK((c->flags & CF_SACK_OK) && SEQ_LT(c->dsack_left, c->dsack_right));
	/* The reordering window runs only outside recovery, for a hole with
	 * data SACKed above it. */
	if (c->t_reorder != 0)
		CHECK(!(c->flags & CF_RECOVERY) && c->sack_board.count > 0);
	/* Timers: a SYN or outstanding data is always timed (RFC 6298 5.1),
	 * and the wheel holds the earliest deadline. */
	if (c->state == TCP_STATE_SYN_SENT || c->state == TCP_STATE_SYN_RECEIVED)
		CHECK(c->t_rexmit != 0 || (c->flags & CF_SEND_SYN));
	if (c->state >= TCP_STATE_ESTABLISHED && c->state != TCP_STATE_TIME_WAIT &&
	    c->snd_una != c->snd_max)
		CHECK(c->t_rexmit != 0);
	if (c->state == TCP_STATE_TIME_WAIT)
		CHECK(c->t_2msl != 0 && (c->flags & CF_IN_TIME_WAIT));
	if (d == 0)
		CHECK(c->wheel_slot == TCP_NONE);
	else
		CHECK(c->wheel_slot != TCP_NONE && c->wheel_deadline == d);
	return held;
}

static void
check_stack(struct harness *h)
{
	const struct tcp_stack *s = h->stack;
	unsigned held = 0, in_use = 0, syn_queue = 0, time_wait = 0, tw_list = 0;

	for (uint32_t i = 0; i < s->cfg.max_connections; i++) {
		const struct tcp_conn *c = &s->conns[i];

		if (!(c->flags & CF_IN_USE))
			continue;
		in_use++;
		if (c->flags & CF_SYN_QUEUE)
			syn_queue++;
		if (c->flags & CF_IN_TIME_WAIT)
			time_wait++;
		held += check_conn(s, c);
	}
	for (uint32_t i = s->tw_head; i != TCP_NONE; i = s->conns[i].tw_next) {
		CHECK(s->conns[i].flags & CF_IN_TIME_WAIT);
		CHECK(++tw_list <= s->cfg.max_connections);
	}
	CHECK(tw_list == time_wait);
	/* Wheel links: each linked TCB is where its neighbours say. */
	{
		unsigned linked = 0;

		for (uint32_t i = 0; i < s->cfg.max_connections; i++) {
			const struct tcp_conn *c = &s->conns[i];

			if (c->wheel_slot == TCP_NONE)
				continue;
			linked++;
			CHECK(c->flags & CF_IN_USE);
			if (c->wheel_prev == TCP_NONE)
				CHECK(s->wheel_heads[c->wheel_slot] == i);
			else
				CHECK(s->conns[c->wheel_prev].wheel_next == i &&
				      s->conns[c->wheel_prev].wheel_slot == c->wheel_slot);
			if (c->wheel_next != TCP_NONE)
				CHECK(s->conns[c->wheel_next].wheel_prev == i);
		}
		CHECK(linked == s->wheel_linked);
	}
	CHECK(in_use + s->free_count == s->cfg.max_connections);
	CHECK(syn_queue == s->syn_queue_len);
	CHECK(s->txq_count == 0);
	/* Every mbuf out of the pool is the stack's or the harness's. */
	CHECK(POOL_SIZE - rte_mempool_avail_count(pool) == held + h->n_held);
}

static struct peer *
peer_for(struct harness *h, uint16_t local_port, uint16_t remote_port)
{
	struct peer *free_peer = NULL;

	for (unsigned i = 0; i < PEERS; i++) {
		struct peer *p = &h->peers[i];

		if (p->used && p->local_port == local_port && p->remote_port == remote_port)
			return p;
		if (!p->used && free_peer == NULL)
			free_peer = p;
	}
	if (free_peer != NULL) {
		memset(free_peer, 0, sizeof(*free_peer));
		free_peer->used = true;
		free_peer->local_port = local_port;
		free_peer->remote_port = remote_port;
		free_peer->isn = 0x10000000u * (unsigned)(free_peer - h->peers) + 1000u;
		free_peer->handle = TCP_NONE;
	}
	return free_peer;
}

/* The TCP checksum of an IPv4 segment whose L4 part may span several
 * mbufs, computed over a flat copy: DPDK 22.11's rte_raw_cksum_mbuf() is
 * wrong for chains with an odd-length piece, so it cannot be the
 * reference. verify: 0 when the stored checksum is right; otherwise the
 * value to store (the checksum field must be 0). */
static uint16_t
flat_l4_checksum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, bool verify)
{
	static uint8_t flat[65536];
	uint32_t len = m->pkt_len > 20 ? m->pkt_len - 20 : 0;
	const void *l4 = rte_pktmbuf_read(m, 20, len, flat);

	if (l4 == NULL)
		return 1;
	return verify ? (uint16_t)rte_ipv4_udptcp_cksum_verify(ip, l4)
		      : rte_ipv4_udptcp_cksum(ip, l4);
}

/* Checks and learns from one emitted segment, then frees it. */
static void
observe(struct harness *h, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	struct tcp_header th;
	uint8_t hdr[60];
	const uint8_t *p, *q;
	uint32_t total, hl, len;
	struct peer *peer;

	CHECK(m->data_len >= 40);
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	CHECK(rte_raw_cksum(ip, 20) == 0xffff);
	CHECK(flat_l4_checksum(m, ip, true) == 0);
	total = rte_be_to_cpu_16(ip->total_length);
	CHECK(total == m->pkt_len);
	CHECK(rte_be_to_cpu_32(ip->src_addr) == LOCAL_IP && rte_be_to_cpu_32(ip->dst_addr) == REMOTE_IP);
	hl = RTE_MIN(60u, (uint32_t)m->data_len - 20u);
	p = rte_pktmbuf_read(m, 20, hl, hdr);
	CHECK(p != NULL);
	q = p;
	CHECK(tcp_header_parse(&q, p + hl, &th) == 0);
	len = total - 20 - th.header_len;
	peer = peer_for(h, th.src_port, th.dst_port);
	if (peer != NULL && !(th.flags & TCP_FLAG_RST)) {
		uint32_t end = th.seq + len + ((th.flags & TCP_FLAG_SYN) ? 1 : 0) +
			((th.flags & TCP_FLAG_FIN) ? 1 : 0);

		if (th.flags & TCP_FLAG_SYN) {
			CHECK(len == 0);
			if (!peer->have_iss || peer->stack_iss != th.seq) {
				peer->stack_iss = th.seq;
				peer->stack_nxt = end;
				peer->have_iss = true;
			}
		}
		if (th.flags & TCP_FLAG_ACK)
			peer->stack_ack = th.ack;
		if (th.options.present & TCP_OPT_TIMESTAMP)
			peer->stack_ts = th.options.ts_val;
		if (peer->have_iss && SEQ_GT(end, peer->stack_nxt))
			peer->stack_nxt = end;
		/* Nothing goes out beyond SND.MAX (a retransmission that grew
		 * past it would make the peer's ACK unacceptable). */
		{
			struct tcp_key key = {
				.remote_ip = REMOTE_IP, .local_ip = LOCAL_IP,
				.remote_port = th.dst_port, .local_port = th.src_port,
			};
			const struct tcp_conn *c = tcp_conn_lookup(h->stack, &key);

			if (c != NULL && c->state != TCP_STATE_CLOSED)
				CHECK(SEQ_LEQ(end, c->snd_max));
		}
		/* Payload: the bytes queued at that stream offset. */
		if (len > 0 && peer->have_iss) {
			uint32_t off = th.seq - peer->stack_iss - 1;

			CHECK(off + len <= peer->queued);
			for (uint32_t i = 0; i < len; i++) {
				uint8_t b;
				const uint8_t *x = rte_pktmbuf_read(m, 20 + th.header_len + i, 1, &b);

				CHECK(x != NULL && *x == stack_byte(off + i, (unsigned)(peer - h->peers)));
			}
		}
	}
	rte_pktmbuf_free(m);
}

static void
forget_handle(struct harness *h, unsigned i)
{
	struct peer *p = &h->peers[h->handles[i].peer];

	if (p->handle == i)
		p->handle = TCP_NONE;
	h->handles[i].used = false;
}

static void
add_handle(struct harness *h, uint32_t conn)
{
	struct tcp_conn_info info;
	struct peer *p;

	CHECK(tcp_conn_info(h->stack, conn, &info) == 0);
	p = peer_for(h, info.local_port, info.remote_port);
	for (unsigned i = 0; i < HANDLES; i++) {
		if (h->handles[i].used && h->handles[i].conn == conn)
			return;
	}
	for (unsigned i = 0; i < HANDLES; i++) {
		if (h->handles[i].used)
			continue;
		if (p == NULL)
			break;
		h->handles[i].used = true;
		h->handles[i].conn = conn;
		h->handles[i].peer = (unsigned)(p - h->peers);
		h->handles[i].have_read_seq = info.state != TCP_STATE_SYN_SENT;
		h->handles[i].read_seq = info.irs + 1;
		p->handle = i;
		p->queued = 0;
		return;
	}
	/* No room to track it: let it go. */
	CHECK(tcp_close(h->stack, conn, h->now) == 0);
}

static void
pump(struct harness *h)
{
	struct rte_mbuf *out[32];
	struct tcp_event ev[16];
	unsigned n;

	tcp_timers_run(h->stack, h->now, UINT32_MAX);
	while ((n = tcp_output_drain(h->stack, out, 32, h->now)) > 0)
		for (unsigned i = 0; i < n; i++)
			observe(h, out[i]);
	while ((n = tcp_events_drain(h->stack, ev, 16)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			CHECK(ev[i].type <= TCP_EVENT_RESET);
			if (ev[i].type == TCP_EVENT_ACCEPTED) {
				CHECK(ev[i].listener == h->listener);
				add_handle(h, ev[i].conn);
			} else {
				bool known = false;

				for (unsigned k = 0; k < HANDLES; k++)
					if (h->handles[k].used && h->handles[k].conn == ev[i].conn) {
						known = true;
						if (ev[i].type == TCP_EVENT_CONNECTED) {
							struct tcp_conn_info info;

							CHECK(tcp_conn_info(h->stack, ev[i].conn, &info) == 0);
							h->handles[k].read_seq = info.irs + 1;
							h->handles[k].have_read_seq = true;
						}
					}
				CHECK(known);
			}
		}
	}
	/* Events may have queued output (a window update after close...). */
	while ((n = tcp_output_drain(h->stack, out, 32, h->now)) > 0)
		for (unsigned i = 0; i < n; i++)
			observe(h, out[i]);
	check_stack(h);
}

static void
fill(void *dst, uint32_t seq, uint32_t n)
{
	uint8_t *d = dst;

	for (uint32_t i = 0; i < n; i++)
		d[i] = peer_byte(seq + i);
}

/* Builds and injects one peer segment: k, flags, seq, ack, window,
 * options, payload length and the chain split, from the input. */
static void
op_segment(struct harness *h)
{
	struct peer *peer = &h->peers[take(h) % PEERS];
	uint8_t flags = take(h);
	uint8_t seq_mode = take(h);
	int16_t seq_delta = (int16_t)take16(h);
	uint8_t ack_mode = take(h);
	int16_t ack_delta = (int16_t)take16(h);
	uint8_t win = take(h);
	uint8_t opt = take(h);
	uint16_t len = (uint16_t)(take(h) * 12u);
	uint8_t split = take(h);
	struct tcp_header th;
	uint8_t frame[128];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)frame;
	struct rte_mbuf *head;
	uint32_t hl, off, first, piece;
	ssize_t ol;

	if (!peer->used) {
		/* A new peer towards the listener. */
		uint16_t port = (uint16_t)(40000u + (unsigned)(peer - h->peers));

		peer->used = true;
		peer->local_port = LISTEN_PORT;
		peer->remote_port = port;
		peer->isn = 0x10000000u * (unsigned)(peer - h->peers) + 1000u;
		peer->handle = TCP_NONE;
	}
	memset(&th, 0, sizeof(th));
	th.src_port = peer->remote_port;
	th.dst_port = peer->local_port;
	switch (seq_mode & 3) {
	case 0: th.seq = (peer->stack_ack ? peer->stack_ack : peer->isn) + (uint32_t)(int32_t)seq_delta; break;
	case 1: th.seq = peer->isn + (uint32_t)(int32_t)seq_delta; break;
	case 2: th.seq = peer->stack_ack + (uint32_t)(int32_t)seq_delta * 64u; break;
	default: th.seq = (uint32_t)seq_delta << 16 ^ peer->stack_ack; break;
	}
	switch (ack_mode & 3) {
	case 0: th.ack = peer->stack_nxt + (uint32_t)(int32_t)ack_delta; break;
	case 1: th.ack = peer->stack_iss + 1 + (uint32_t)(int32_t)ack_delta; break;
	case 2: th.ack = peer->stack_nxt + (uint32_t)(int32_t)ack_delta * 256u; break;
	default: th.ack = (uint32_t)ack_delta << 16 ^ peer->stack_nxt; break;
	}
	th.flags = flags;
	th.window = (uint16_t)(win << 8 | win);
	if (opt & 0x01) {
		th.options.present |= TCP_OPT_MSS;
		th.options.mss = (uint16_t)(take(h) * 8u);
	}
	if (opt & 0x02) {
		th.options.present |= TCP_OPT_WSCALE;
		th.options.wscale = take(h) & 15;
	}
	if (opt & 0x04)
		th.options.present |= TCP_OPT_SACK_PERMITTED;
	if (opt & 0x08) {
		th.options.present |= TCP_OPT_TIMESTAMP;
		th.options.ts_val = (uint32_t)(h->now / NS_PER_MS) + (uint32_t)(int8_t)take(h) * 1000u;
		th.options.ts_ecr = (seq_mode & 0x80) ? 0 : peer->stack_ts;
	}
	if (opt & 0x10) {
		uint8_t blocks = (uint8_t)(1 + take(h) % ((opt & 0x08) ? 3 : 4));

		th.options.present |= TCP_OPT_SACK;
		th.options.sack_count = blocks;
		for (unsigned i = 0; i < blocks; i++) {
			uint32_t left = peer->stack_iss + 1 + (uint32_t)take(h) * 700u;

			th.options.sack[i].left = left;
			th.options.sack[i].right = left + 1 + (uint32_t)take(h) * 60u;
		}
	}
	ol = tcp_options_encoded_len(&th.options);
	if (ol < 0)
		return;
	hl = 20u + (uint32_t)ol;
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + hl + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(REMOTE_IP);
	ip->dst_addr = rte_cpu_to_be_32(LOCAL_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	CHECK(tcp_header_encode(&th, frame + 20, hl) == (ssize_t)hl);
	/* Headers in the first mbuf with the first part of the payload; the
	 * rest in mbufs of a size from the input. */
	head = rte_pktmbuf_alloc(pool);
	if (head == NULL)
		return;
	memcpy(rte_pktmbuf_append(head, (uint16_t)(20 + hl)), frame, 20 + hl);
	first = RTE_MIN(RTE_MIN((uint32_t)len, (uint32_t)split * 8u),
			(uint32_t)rte_pktmbuf_tailroom(head));
	fill(rte_pktmbuf_append(head, (uint16_t)first), th.seq, first);
	piece = (uint32_t)(split % 32u + 1) * 40u;
	for (off = first; off < len;) {
		struct rte_mbuf *seg = rte_pktmbuf_alloc(pool);
		uint32_t n = RTE_MIN(piece, (uint32_t)len - off);

		if (seg == NULL) {
			rte_pktmbuf_free(head);
			return;
		}
		fill(rte_pktmbuf_append(seg, (uint16_t)n), th.seq + off, n);
		if (rte_pktmbuf_chain(head, seg) != 0) {
			rte_pktmbuf_free(seg);
			rte_pktmbuf_free(head);
			return;
		}
		off += n;
	}
	{
		struct rte_tcp_hdr *t = rte_pktmbuf_mtod_offset(head, struct rte_tcp_hdr *, 20);
		struct rte_ipv4_hdr *mip = rte_pktmbuf_mtod(head, struct rte_ipv4_hdr *);

		t->cksum = 0;
		t->cksum = flat_l4_checksum(head, mip, false);
		if (opt & 0x80)
			t->cksum ^= 0x0100;
	}
	head->l2_len = 0;
	head->l3_len = 20;
	tcp_input_burst(h->stack, &head, 1, h->now);
}

static int
handle_of(struct harness *h, uint8_t b)
{
	unsigned start = b % HANDLES;

	for (unsigned k = 0; k < HANDLES; k++) {
		unsigned i = (start + k) % HANDLES;

		if (h->handles[i].used)
			return (int)i;
	}
	return -1;
}

static void
op_send(struct harness *h)
{
	int i = handle_of(h, take(h));
	uint32_t len = (uint32_t)take(h) * 40u + 1;
	uint32_t piece = (uint32_t)take(h) * 8u + 1;
	struct rte_mbuf *head = NULL, *tail = NULL;
	struct peer *p;
	int rc;

	if (i < 0)
		return;
	p = &h->peers[h->handles[i].peer];
	for (uint32_t off = 0; off < len;) {
		uint32_t n = RTE_MIN(RTE_MIN(piece, len - off), 2000u);
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint8_t *d;

		if (m == NULL)
			break;
		d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		for (uint32_t k = 0; k < n; k++)
			d[k] = stack_byte(p->queued + off + k, h->handles[i].peer);
		if (tail != NULL)
			tail->next = m;
		else
			head = m;
		tail = m;
		off += n;
	}
	if (head == NULL)
		return;
	{
		uint32_t bytes;

		head->nb_segs = (uint16_t)chain_segments(head, &bytes);
		head->pkt_len = bytes;
		rc = tcp_send(h->stack, h->handles[i].conn, head, h->now);
		if (rc == 0)
			p->queued += bytes;
		else
			rte_pktmbuf_free(head);
	}
}

static void
op_recv(struct harness *h)
{
	int i = handle_of(h, take(h));
	struct rte_mbuf *m;
	uint32_t bytes, seq;
	int n;

	if (i < 0)
		return;
	n = tcp_recv(h->stack, h->handles[i].conn, &m, h->now);
	CHECK(n >= 0);
	if (n == 0) {
		CHECK(m == NULL);
		return;
	}
	CHECK(h->handles[i].have_read_seq);
	CHECK(m->nb_segs == chain_segments(m, &bytes));
	CHECK(bytes == (uint32_t)n && m->pkt_len == bytes);
	seq = h->handles[i].read_seq;
	for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next)
		for (uint16_t k = 0; k < seg->data_len; k++, seq++)
			CHECK(rte_pktmbuf_mtod(seg, uint8_t *)[k] == peer_byte(seq));
	h->handles[i].read_seq = seq;
	rte_pktmbuf_free(m);
}

static void
op_close(struct harness *h, bool abort_it)
{
	int i = handle_of(h, take(h));
	uint32_t conn;

	if (i < 0)
		return;
	conn = h->handles[i].conn;
	forget_handle(h, (unsigned)i);
	CHECK((abort_it ? tcp_abort(h->stack, conn, h->now) : tcp_close(h->stack, conn, h->now)) == 0);
	/* The handle is invalid now. */
	CHECK(tcp_close(h->stack, conn, h->now) == -EBADF);
}

static void
op_connect(struct harness *h)
{
	uint16_t remote_port = (uint16_t)(5000u + take(h) % 3u);
	uint32_t conn;

	if (tcp_connect(h->stack, LOCAL_IP, 0, REMOTE_IP, remote_port, h->now, &conn) == 0)
		add_handle(h, conn);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct tcp_stack_config cfg;
	uint8_t c0, c1;
	int err;

	memset(&h, 0, sizeof(h));
	h.p = data;
	h.end = data + size;
	c0 = take(&h);
	c1 = take(&h);
	memset(&cfg, 0, sizeof(cfg));
	cfg.pool = pool;
	cfg.socket_id = SOCKET_ID_ANY;
	cfg.max_connections = MAX_CONNECTIONS;
	cfg.no_timestamps = (c0 & 0x01) != 0;
	cfg.no_window_scale = (c0 & 0x02) != 0;
	cfg.no_sack = (c0 & 0x04) != 0;
	cfg.recv_buffer = (c0 & 0x08) ? 3000 : 65535u * 4;
	cfg.send_buffer = (c0 & 0x10) ? 4000 : 64 * 1024;
	cfg.syn_queue_max = (c0 & 0x20) ? 1 : 2;
	cfg.ooo_max_ranges = (uint16_t)(1 + (c1 & 3));
	cfg.mss = (uint16_t)(536 + (c1 >> 2 & 3) * 308);
	cfg.challenge_ack_limit = (c1 & 0x10) ? 2 : 0;
	cfg.congestion_control = (c1 & 0x20) ? TCP_CC_NEWRENO : TCP_CC_CUBIC;
	cfg.max_retransmits = 4;
	cfg.max_syn_retransmits = 3;
	cfg.time_wait_ns = 10000 * NS_PER_MS;
	for (unsigned i = 0; i < TCP_SECRET_LEN; i++)
		cfg.secret[i] = (uint8_t)(i * 11);
	h.stack = tcp_stack_create(&cfg, &err);
	CHECK(h.stack != NULL);
	for (unsigned i = 0; i < PEERS; i++)
		h.peers[i].handle = TCP_NONE;
	CHECK(tcp_listen(h.stack, LOCAL_IP, LISTEN_PORT, &h.listener) == 0);
	h.listening = true;
	h.now = 1000 * NS_PER_MS;
	while (h.p < h.end) {
		uint8_t op = take(&h);

		switch (op % 12) {
		case 0:
		case 1:
		case 2:
		case 3:
			op_segment(&h);
			break;
		case 4: {
			uint8_t b = take(&h);

			h.now += b < 200 ? (uint64_t)b * NS_PER_MS : (uint64_t)(b - 199) * 2000 * NS_PER_MS;
			break;
		}
		case 5:
			op_send(&h);
			break;
		case 6:
			op_recv(&h);
			break;
		case 7:
			op_close(&h, false);
			break;
		case 8:
			op_close(&h, true);
			break;
		case 9:
			op_connect(&h);
			break;
		case 10: {
			/* Hold back mbufs, or give them all back. */
			uint8_t b = take(&h);

			if (b & 0x80) {
				for (unsigned i = 0; i < h.n_held; i++)
					rte_pktmbuf_free(h.held[i]);
				h.n_held = 0;
			} else {
				for (unsigned k = 0; k < (unsigned)b * 16u && h.n_held < HELD_MAX; k++) {
					struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

					if (m == NULL)
						break;
					h.held[h.n_held++] = m;
				}
			}
			break;
		}
		default:
			if (h.listening) {
				CHECK(tcp_unlisten(h.stack, h.listener) == 0);
				h.listening = false;
			} else {
				CHECK(tcp_listen(h.stack, LOCAL_IP, LISTEN_PORT, &h.listener) == 0);
				h.listening = true;
			}
			break;
		}
		pump(&h);
	}
	/* Let everything run out: mbufs back, ten minutes of timers. */
	for (unsigned i = 0; i < h.n_held; i++)
		rte_pktmbuf_free(h.held[i]);
	h.n_held = 0;
	for (unsigned k = 0; k < 6; k++) {
		h.now += 100000 * NS_PER_MS;
		pump(&h);
	}
	tcp_stack_destroy(h.stack);
	CHECK(rte_mempool_avail_count(pool) == POOL_SIZE);
	return 0;
}
