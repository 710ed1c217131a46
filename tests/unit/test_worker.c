/* dataplane/worker.c, port.c and ring_msg.h in-process: EAL on plain
 * memory, a two-queue port made with rte_eth_from_rings() (the test
 * enqueues frames on the RX rings and reads what the workers transmit from
 * the TX rings), and two workers polled by the test in virtual time. A
 * small scripted stack stands in for the protocol code: it records which
 * worker saw which frame and transmits every frame back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "dataplane/port.h"
#include "dataplane/ring_msg.h"
#include "dataplane/worker.h"

#define N_WORKERS 2
#define RING_SIZE 256
#define POOL_SIZE 2047
#define DRAIN_NS 50000

/* What the scripted stack saw. */
struct test_stack {
	unsigned index;
	unsigned frames;
	unsigned frames_foreign; /* frames whose owner is another worker */
	unsigned pending_timers;
	unsigned messages;
	struct ring_msg last_message;
	bool echo;              /* transmit every frame back */
};

static struct rte_mempool *pool;
static struct rte_ring *rx_rings[N_WORKERS], *tx_rings[N_WORKERS];
static uint16_t port_id;
static struct port_info port;

static void
stack_input(void *ctx, struct worker *w, struct rte_mbuf **pkts, uint16_t n,
		uint64_t now)
{
	struct test_stack *s = ctx;

	(void)now;
	for (uint16_t i = 0; i < n; i++) {
		int owner = worker_frame_owner(pkts[i], N_WORKERS);

		s->frames++;
		if (owner >= 0 && (unsigned)owner != worker_index(w))
			s->frames_foreign++;
	}
	if (s->echo)
		worker_tx_burst(w, pkts, n);
	else
		rte_pktmbuf_free_bulk(pkts, n);
}

static unsigned
stack_timers(void *ctx, struct worker *w, uint64_t now, unsigned budget)
{
	struct test_stack *s = ctx;
	unsigned ran = RTE_MIN(s->pending_timers, budget);

	(void)w;
	(void)now;
	s->pending_timers -= ran;
	return ran;
}

static void
stack_message(void *ctx, struct worker *w, const struct ring_msg *msg,
		uint64_t now)
{
	struct test_stack *s = ctx;

	(void)w;
	(void)now;
	s->messages++;
	s->last_message = *msg;
}

static const struct worker_ops test_ops = {
	.input = stack_input,
	.timers = stack_timers,
	.message = stack_message,
};

/* Two workers over the shared port, with their own rings. */
struct fixture {
	struct test_stack stacks[N_WORKERS];
	struct rte_ring *control[N_WORKERS], *events[N_WORKERS], *handoff[N_WORKERS];
	struct worker *workers[N_WORKERS];
	unsigned pool_free_at_start;
};

static unsigned fixture_serial;

static int
fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char name[32];

	assert_non_null(f);
	fixture_serial++;
	f->pool_free_at_start = rte_mempool_avail_count(pool);
	for (unsigned i = 0; i < N_WORKERS; i++) {
		snprintf(name, sizeof(name), "ctl%u_%u", fixture_serial, i);
		f->control[i] = ring_msg_ring_create(name, 32, SOCKET_ID_ANY);
		snprintf(name, sizeof(name), "ev%u_%u", fixture_serial, i);
		f->events[i] = ring_msg_ring_create(name, 32, SOCKET_ID_ANY);
		snprintf(name, sizeof(name), "ho%u_%u", fixture_serial, i);
		f->handoff[i] = ring_handoff_create(name, 64, SOCKET_ID_ANY);
		assert_non_null(f->control[i]);
		assert_non_null(f->events[i]);
		assert_non_null(f->handoff[i]);
	}
	for (unsigned i = 0; i < N_WORKERS; i++) {
		struct worker_config cfg = {
			.index = i,
			.n_workers = N_WORKERS,
			.port_id = port_id,
			.queue_id = (uint16_t)i,
			.control_ring = f->control[i],
			.event_ring = f->events[i],
			.ops = &test_ops,
			.stack = &f->stacks[i],
			.tx_drain_ns = DRAIN_NS,
			.timer_budget = 16,
			.control_budget = 4,
			.idle_polls = 3,
			.idle_sleep_usec = 10,
			.socket_id = SOCKET_ID_ANY,
		};

		memcpy(cfg.handoff_rings, f->handoff, sizeof(f->handoff));
		f->stacks[i].index = i;
		f->stacks[i].echo = true;
		f->workers[i] = worker_create(&cfg);
		assert_non_null(f->workers[i]);
	}
	*state = f;
	return 0;
}

static void
drain_ring(struct rte_ring *r)
{
	void *objs[64];
	unsigned n;

	while ((n = rte_ring_dequeue_burst(r, objs, 64, NULL)) > 0)
		rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, n);
}

static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < N_WORKERS; i++) {
		worker_destroy(f->workers[i]);
		drain_ring(f->handoff[i]);
		drain_ring(rx_rings[i]);
		drain_ring(tx_rings[i]);
		rte_ring_free(f->control[i]);
		rte_ring_free(f->events[i]);
		rte_ring_free(f->handoff[i]);
	}
	/* Every mbuf came back: nothing leaked, nothing freed twice. */
	assert_int_equal(rte_mempool_avail_count(pool), f->pool_free_at_start);
	free(f);
	return 0;
}

/* An Ethernet/IPv4/TCP SYN (or a UDP datagram) of 60 bytes. */
static struct rte_mbuf *
make_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		uint8_t proto)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *l4;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 60);
	assert_non_null(eth);
	memset(eth, 0, 60);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(40);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	l4 = (uint8_t *)(ip + 1);
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
	return m;
}

#define CLIENT 0x0a4d0101u /* 10.77.1.1 */
#define SERVER 0x0a4d0102u /* 10.77.1.2 */

/* A client port whose flow to SERVER:9000 the given worker owns. */
static uint16_t
port_owned_by(unsigned owner, uint16_t from)
{
	for (uint16_t p = from; p != 0; p++)
		if (worker_flow_owner(CLIENT, SERVER, p, 9000, N_WORKERS) == owner)
			return p;
	fail_msg("no port for owner %u", owner);
	return 0;
}

static void
inject(unsigned queue, struct rte_mbuf *m)
{
	assert_int_equal(rte_ring_enqueue(rx_rings[queue], m), 0);
}

/* Bit-by-bit Toeplitz (Microsoft RSS specification) as an independent
 * reference for worker_flow_owner(). */
static uint32_t
toeplitz(const uint8_t *key, const uint8_t *input, size_t len)
{
	uint32_t hash = 0;

	/* For every set input bit i, XOR in key bits i .. i + 31. */
	for (size_t i = 0; i < len * 8; i++) {
		uint32_t window = 0;

		if (!(input[i / 8] & (0x80 >> (i % 8))))
			continue;
		for (size_t k = i; k < i + 32; k++)
			window = window << 1 |
				(k / 8 < PORT_RSS_KEY_LEN ? (key[k / 8] >> (7 - k % 8)) & 1 : 0);
		hash ^= window;
	}
	return hash;
}

static void
test_flow_owner(void **state)
{
	unsigned owners[N_WORKERS] = { 0 };
	/* Microsoft's RSS verification key and its first IPv4/TCP example:
	 * 66.9.149.187:2794 -> 161.142.100.80:1766 hashes to 0x51ccc178. */
	static const uint8_t ms_key[PORT_RSS_KEY_LEN] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
		0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
		0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
		0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	static const uint8_t ms_input[12] = { 66, 9, 149, 187, 161, 142, 100, 80,
		0x0a, 0xea, 0x06, 0xe6 };

	(void)state;
	/* The reference implementation reproduces the published vector ... */
	assert_int_equal(toeplitz(ms_key, ms_input, sizeof(ms_input)), 0x51ccc178);
	for (unsigned i = 0; i < 2000; i++) {
		uint32_t src = 0x0a000000u + i * 7919u, dst = 0xc0a80001u + i;
		uint16_t sp = (uint16_t)(1024 + i * 31), dp = (uint16_t)(443 + i % 7);
		uint8_t input[12] = {
			(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
			(uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
			(uint8_t)(sp >> 8), (uint8_t)sp, (uint8_t)(dp >> 8), (uint8_t)dp,
		};
		unsigned owner = worker_flow_owner(src, dst, sp, dp, N_WORKERS);

		/* ... and worker_flow_owner() is it with our key through the
		 * i % n redirection table, */
		assert_int_equal(owner,
				(toeplitz(port_rss_key, input, sizeof(input)) % PORT_RETA_SIZE) %
				N_WORKERS);
		/* the same for both directions of a flow, */
		assert_int_equal(owner, worker_flow_owner(dst, src, dp, sp, N_WORKERS));
		assert_int_equal(worker_flow_owner(dst, src, dp, sp, 3),
				worker_flow_owner(src, dst, sp, dp, 3));
		owners[owner]++;
		assert_int_equal(worker_flow_owner(src, dst, sp, dp, 1), 0);
	}
	/* and spreads flows over both workers. */
	assert_true(owners[0] > 700 && owners[1] > 700);
}

static void
test_frame_owner(void **state)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;

	(void)state;
	m = make_frame(CLIENT, SERVER, 40000, 9000, IPPROTO_TCP);
	assert_int_equal(worker_frame_owner(m, N_WORKERS),
			(int)worker_flow_owner(CLIENT, SERVER, 40000, 9000, N_WORKERS));
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	ip->next_proto_id = IPPROTO_UDP;
	assert_int_equal(worker_frame_owner(m, N_WORKERS),
			(int)worker_flow_owner(CLIENT, SERVER, 40000, 9000, N_WORKERS));
	/* ICMP has no flow: whoever receives it handles it. */
	ip->next_proto_id = IPPROTO_ICMP;
	assert_int_equal(worker_frame_owner(m, N_WORKERS), -1);
	ip->next_proto_id = IPPROTO_TCP;
	/* Fragments: MF set, or a non-zero offset. */
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	assert_int_equal(worker_frame_owner(m, N_WORKERS), -1);
	ip->fragment_offset = rte_cpu_to_be_16(1);
	assert_int_equal(worker_frame_owner(m, N_WORKERS), -1);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	assert_true(worker_frame_owner(m, N_WORKERS) >= 0);
	/* Bad version, short IHL, IHL past the frame. */
	ip->version_ihl = 0x65;
	assert_int_equal(worker_frame_owner(m, N_WORKERS), -1);
	ip->version_ihl = 0x44;
	assert_int_equal(worker_frame_owner(m, N_WORKERS), -1);
	ip->version_ihl = 0x4f; /* 60-byte header: ports beyond 60 bytes */
	assert_int_equal(worker_frame_owner(m, N_WORKERS), -1);
	ip->version_ihl = 0x45;
	/* Truncated at every length short of the ports. */
	for (uint16_t len = 0; len < 14 + 20 + 4; len++) {
		m->data_len = len;
		m->pkt_len = len;
		assert_int_equal(worker_frame_owner(m, N_WORKERS), -1);
	}
	m->data_len = m->pkt_len = 14 + 20 + 4;
	assert_true(worker_frame_owner(m, N_WORKERS) >= 0);
	/* Not IPv4 (ARP). */
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type =
		rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	assert_int_equal(worker_frame_owner(m, N_WORKERS), -1);
	rte_pktmbuf_free(m);
}

static void
test_tx_drain_deadline(void **state)
{
	struct fixture *f = *state;
	struct worker *w0 = f->workers[0];
	uint64_t t = 1000000;

	inject(0, make_frame(CLIENT, SERVER, port_owned_by(0, 1024), 9000, IPPROTO_TCP));
	assert_int_equal(worker_poll(w0, t), 1);
	assert_int_equal(f->stacks[0].frames, 1);
	/* Queued, not sent: one frame is below a burst and the deadline has
	 * not passed. */
	assert_int_equal(rte_ring_count(tx_rings[0]), 0);
	assert_int_equal(worker_poll(w0, t + DRAIN_NS - 1), 0);
	assert_int_equal(rte_ring_count(tx_rings[0]), 0);
	assert_int_equal(worker_poll(w0, t + DRAIN_NS), 0);
	assert_int_equal(rte_ring_count(tx_rings[0]), 1);
	assert_int_equal(worker_counters(w0)->rx_packets, 1);
	assert_int_equal(worker_counters(w0)->tx_packets, 1);
	assert_int_equal(worker_counters(w0)->polls, 3);
	/* Nothing went to the other queue. */
	assert_int_equal(rte_ring_count(tx_rings[1]), 0);
}

static void
test_tx_full_burst_sent_at_once(void **state)
{
	struct fixture *f = *state;
	uint16_t p = 1024;

	for (unsigned i = 0; i < WORKER_BURST; i++) {
		p = port_owned_by(0, (uint16_t)(p + 1));
		inject(0, make_frame(CLIENT, SERVER, p, 9000, IPPROTO_TCP));
	}
	assert_int_equal(worker_poll(f->workers[0], 5), WORKER_BURST);
	assert_int_equal(rte_ring_count(tx_rings[0]), WORKER_BURST);
	assert_int_equal(worker_counters(f->workers[0])->tx_packets, WORKER_BURST);
}

static void
test_tx_buffer_overflow_is_counted_drop(void **state)
{
	struct fixture *f = *state;
	struct worker *w0 = f->workers[0];
	struct rte_mbuf *pkts[WORKER_TX_BUFFER + 40];

	/* The device's TX ring is full, so nothing can leave. */
	while (rte_ring_free_count(tx_rings[0]) > 0)
		assert_int_equal(rte_ring_enqueue(tx_rings[0],
				make_frame(1, 2, 3, 4, IPPROTO_UDP)), 0);

	worker_poll(w0, 0);
	for (unsigned i = 0; i < RTE_DIM(pkts); i++)
		pkts[i] = make_frame(CLIENT, SERVER, 1, 2, IPPROTO_TCP);
	assert_int_equal(worker_tx_burst(w0, pkts, RTE_DIM(pkts)), WORKER_TX_BUFFER);
	assert_int_equal(worker_counters(w0)->tx_dropped, 40);
	/* Once the device has room again the buffer drains. */
	drain_ring(tx_rings[0]);
	assert_int_equal(worker_tx_flush(w0), WORKER_TX_BUFFER);
	assert_int_equal(rte_ring_count(tx_rings[0]), WORKER_TX_BUFFER);
	assert_int_equal(worker_counters(w0)->tx_packets, WORKER_TX_BUFFER);
}

/* A frame as the TCP stack sends it: a direct header mbuf followed by
 * indirect segments attached to a payload buffer that the retransmit
 * queue keeps. Byte i of the frame is (i * 7) & 0xff. */
static struct rte_mbuf *
make_chain(struct rte_mbuf *payload, uint16_t header_len, uint16_t seg_len, unsigned n_segs)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool);
	uint8_t *h;

	assert_non_null(head);
	h = (uint8_t *)rte_pktmbuf_append(head, header_len);
	assert_non_null(h);
	for (uint16_t i = 0; i < header_len; i++)
		h[i] = (uint8_t)(i * 7);
	for (unsigned s = 0; s < n_segs; s++) {
		struct rte_mbuf *seg = rte_pktmbuf_alloc(pool);

		assert_non_null(seg);
		rte_pktmbuf_attach(seg, payload);
		rte_pktmbuf_adj(seg, (uint16_t)(s * seg_len));
		rte_pktmbuf_trim(seg, (uint16_t)(seg->data_len - seg_len));
		assert_int_equal(rte_pktmbuf_chain(head, seg), 0);
	}
	return head;
}

static struct rte_mbuf *
make_payload(uint16_t header_len, uint16_t len)
{
	struct rte_mbuf *payload = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	assert_non_null(payload);
	p = (uint8_t *)rte_pktmbuf_append(payload, len);
	assert_non_null(p);
	for (uint16_t i = 0; i < len; i++)
		p[i] = (uint8_t)((header_len + i) * 7);
	return payload;
}

static void
assert_frame_pattern(struct rte_mbuf *m, uint32_t len)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(m->pkt_len, len);
	assert_int_equal(m->data_len, len);
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(i * 7))
			fail_msg("byte %u is %u, not %u", i, p[i], (uint8_t)(i * 7));
}

/* A device without multi-segment TX gets every chain as one mbuf with the
 * same bytes; the payload buffer the stack keeps is untouched, and a
 * header segment shared with someone else is copied, not written. */
static void
test_tx_linearize_chains(void **state)
{
	struct fixture *f = *state;
	struct worker_config cfg = {
		.index = 0, .n_workers = 1, .port_id = port_id, .queue_id = 0,
		.tx_linearize = true, .control_ring = f->control[0],
		.event_ring = f->events[0], .ops = &test_ops, .stack = &f->stacks[0],
		.tx_drain_ns = DRAIN_NS, .socket_id = SOCKET_ID_ANY,
	};
	struct worker *w = worker_create(&cfg);
	struct rte_mbuf *payload = make_payload(54, 1400);
	struct rte_mbuf *pkts[3], *out[4];
	struct rte_mbuf *shared_head;

	assert_non_null(w);
	pkts[0] = make_chain(payload, 54, 700, 2);
	pkts[1] = make_frame(CLIENT, SERVER, 1, 2, IPPROTO_TCP);
	pkts[2] = make_chain(payload, 54, 350, 4);
	shared_head = pkts[2];
	rte_pktmbuf_refcnt_update(shared_head, 1);
	assert_int_equal(worker_tx_burst(w, pkts, 3), 3);
	assert_int_equal(worker_tx_flush(w), 3);
	assert_int_equal(rte_ring_dequeue_burst(tx_rings[0], (void **)out, 4, NULL), 3);
	assert_frame_pattern(out[0], 54 + 1400);
	assert_int_equal(out[1]->pkt_len, 60);
	assert_frame_pattern(out[2], 54 + 1400);
	assert_ptr_not_equal(out[2], shared_head);
	/* The other holder's chain is still whole. */
	assert_int_equal(shared_head->nb_segs, 5);
	assert_int_equal(shared_head->pkt_len, 54 + 1400);
	assert_int_equal(rte_mbuf_refcnt_read(shared_head), 1);
	/* Only the payload buffer's own reference is left. */
	assert_int_equal(rte_mbuf_refcnt_read(payload), 1 + 4);
	rte_pktmbuf_free(shared_head);
	assert_int_equal(rte_mbuf_refcnt_read(payload), 1);
	rte_pktmbuf_free_bulk(out, 3);
	rte_pktmbuf_free(payload);
	assert_int_equal(worker_counters(w)->tx_dropped, 0);
	assert_int_equal(worker_counters(w)->tx_packets, 3);
	worker_destroy(w);
}

/* A chain too long for one mbuf cannot be linearized: it is freed and
 * counted, and the frames around it still go out. */
static void
test_tx_linearize_too_long_is_counted_drop(void **state)
{
	struct fixture *f = *state;
	struct worker_config cfg = {
		.index = 0, .n_workers = 1, .port_id = port_id, .queue_id = 0,
		.tx_linearize = true, .control_ring = f->control[0],
		.event_ring = f->events[0], .ops = &test_ops, .stack = &f->stacks[0],
		.tx_drain_ns = DRAIN_NS, .socket_id = SOCKET_ID_ANY,
	};
	struct worker *w = worker_create(&cfg);
	struct rte_mbuf *payload = make_payload(54, 1800);
	struct rte_mbuf *pkts[3], *out[4];

	assert_non_null(w);
	pkts[0] = make_frame(CLIENT, SERVER, 1, 2, IPPROTO_TCP);
	pkts[1] = make_chain(payload, 54, 1800 / 2, 2);
	{
		/* Two more segments: 54 + 3 * 900 bytes, past one mbuf. */
		struct rte_mbuf *extra = rte_pktmbuf_alloc(pool);

		assert_non_null(extra);
		rte_pktmbuf_attach(extra, payload);
		rte_pktmbuf_trim(extra, 900);
		assert_int_equal(rte_pktmbuf_chain(pkts[1], extra), 0);
	}
	pkts[2] = make_frame(CLIENT, SERVER, 3, 4, IPPROTO_TCP);
	rte_pktmbuf_free(payload);
	assert_int_equal(worker_tx_burst(w, pkts, 3), 2);
	assert_int_equal(worker_counters(w)->tx_dropped, 1);
	assert_int_equal(worker_tx_flush(w), 2);
	assert_int_equal(rte_ring_dequeue_burst(tx_rings[0], (void **)out, 4, NULL), 2);
	assert_int_equal(out[0]->nb_segs, 1);
	assert_int_equal(out[1]->nb_segs, 1);
	rte_pktmbuf_free_bulk(out, 2);
	worker_destroy(w);
}

static void
test_foreign_flow_handoff(void **state)
{
	struct fixture *f = *state;
	struct worker *w0 = f->workers[0], *w1 = f->workers[1];
	uint16_t p1 = port_owned_by(1, 2000);
	struct rte_mbuf *m = NULL;

	/* A frame of a flow worker 1 owns arrives on worker 0's queue. */
	inject(0, make_frame(CLIENT, SERVER, p1, 9000, IPPROTO_TCP));
	assert_int_equal(worker_poll(w0, 100), 1);
	assert_int_equal(f->stacks[0].frames, 0);
	assert_int_equal(worker_counters(w0)->handoff_out, 1);
	assert_int_equal(rte_ring_count(f->handoff[1]), 1);

	/* Worker 1 takes it from its ring and processes it ... */
	assert_int_equal(worker_poll(w1, 200), 1);
	assert_int_equal(f->stacks[1].frames, 1);
	assert_int_equal(f->stacks[1].frames_foreign, 0);
	assert_int_equal(worker_counters(w1)->handoff_in, 1);
	assert_int_equal(worker_counters(w1)->rx_packets, 0);
	/* ... and its reply leaves on worker 1's queue. */
	worker_poll(w1, 200 + DRAIN_NS);
	assert_int_equal(rte_ring_count(tx_rings[1]), 1);
	assert_int_equal(rte_ring_count(tx_rings[0]), 0);
	assert_int_equal(rte_ring_dequeue(tx_rings[1], (void **)&m), 0);
	assert_int_equal(worker_frame_owner(m, N_WORKERS), 1);
	rte_pktmbuf_free(m);

	/* The reverse direction of the same flow on queue 1: no hand-off. */
	inject(1, make_frame(SERVER, CLIENT, 9000, p1, IPPROTO_TCP));
	assert_int_equal(worker_poll(w1, 300), 1);
	assert_int_equal(f->stacks[1].frames, 2);
	assert_int_equal(worker_counters(w1)->handoff_out, 0);
}

static void
test_mixed_burst_each_frame_reaches_its_owner(void **state)
{
	struct fixture *f = *state;
	unsigned expect[N_WORKERS] = { 0 };

	/* 24 flows on queue 0 and 24 on queue 1, owners mixed, plus ICMP. */
	for (unsigned q = 0; q < N_WORKERS; q++) {
		for (unsigned i = 0; i < 24; i++) {
			uint16_t sp = (uint16_t)(30000 + q * 100 + i);

			inject(q, make_frame(CLIENT, SERVER, sp, 9000, IPPROTO_TCP));
			expect[worker_flow_owner(CLIENT, SERVER, sp, 9000, N_WORKERS)]++;
		}
		inject(q, make_frame(CLIENT, SERVER, 0, 0, IPPROTO_ICMP));
		expect[q]++;
	}
	for (unsigned round = 0; round < 3; round++)
		for (unsigned i = 0; i < N_WORKERS; i++)
			worker_poll(f->workers[i], 1000 * round);
	for (unsigned i = 0; i < N_WORKERS; i++) {
		assert_int_equal(f->stacks[i].frames, expect[i]);
		assert_int_equal(f->stacks[i].frames_foreign, 0);
	}
	/* Every hand-off out is a hand-off in on the other side. */
	assert_int_equal(worker_counters(f->workers[0])->handoff_out,
			worker_counters(f->workers[1])->handoff_in);
	assert_int_equal(worker_counters(f->workers[1])->handoff_out,
			worker_counters(f->workers[0])->handoff_in);
	assert_true(worker_counters(f->workers[0])->handoff_out > 0);
	assert_true(worker_counters(f->workers[1])->handoff_out > 0);
}

static void
test_handoff_ring_full_is_counted_drop(void **state)
{
	struct fixture *f = *state;
	while (rte_ring_free_count(f->handoff[1]) > 0)
		assert_int_equal(rte_ring_enqueue(f->handoff[1],
				make_frame(1, 2, 3, 4, IPPROTO_UDP)), 0);
	inject(0, make_frame(CLIENT, SERVER, port_owned_by(1, 5000), 9000, IPPROTO_TCP));
	worker_poll(f->workers[0], 0);
	assert_int_equal(worker_counters(f->workers[0])->handoff_dropped, 1);
	assert_int_equal(worker_counters(f->workers[0])->handoff_out, 0);
	/* The teardown checks the dropped frame went back to the pool. */
}

static void
test_timer_budget(void **state)
{
	struct fixture *f = *state;
	struct worker *w0 = f->workers[0];

	f->stacks[0].pending_timers = 40;
	assert_int_equal(worker_poll(w0, 0), 16);
	assert_int_equal(f->stacks[0].pending_timers, 24);
	assert_int_equal(worker_poll(w0, 1), 16);
	assert_int_equal(worker_poll(w0, 2), 8);
	assert_int_equal(worker_poll(w0, 3), 0);
	assert_int_equal(worker_counters(w0)->timers_run, 40);
}

static void
test_control_messages(void **state)
{
	struct fixture *f = *state;
	struct worker *w0 = f->workers[0];
	struct worker_counters snapshot;
	struct ring_msg events[8];

	memset(&snapshot, 0xff, sizeof(snapshot));
	inject(0, make_frame(CLIENT, SERVER, port_owned_by(0, 7000), 9000, IPPROTO_TCP));
	assert_int_equal(ring_msg_send(f->control[0], &(struct ring_msg){
			.type = RING_MSG_SET_IDLE, .u32 = 0, .u64 = 5 }), 0);
	assert_int_equal(ring_msg_send(f->control[0], &(struct ring_msg){
			.type = RING_MSG_STATS_REQUEST, .u64 = 77, .ptr = &snapshot }), 0);
	assert_int_equal(ring_msg_send(f->control[0], &(struct ring_msg){
			.type = RING_MSG_STACK_FIRST + 3, .u32 = 12345, .u64 = 99 }), 0);
	assert_int_equal(ring_msg_send(f->control[0], &(struct ring_msg){
			.type = 9 }), 0);
	/* Over the budget of 4: waits for the next iteration. */
	assert_int_equal(ring_msg_send(f->control[0], &(struct ring_msg){
			.type = RING_MSG_STOP }), 0);

	assert_int_equal(worker_poll(w0, 10), 1 + 4);
	assert_false(worker_stopping(w0));
	/* The snapshot was taken in the same iteration, after RX. */
	assert_int_equal(snapshot.rx_packets, 1);
	assert_int_equal(snapshot.polls, 1);
	assert_int_equal(f->stacks[0].messages, 1);
	assert_int_equal(f->stacks[0].last_message.type, RING_MSG_STACK_FIRST + 3);
	assert_int_equal(f->stacks[0].last_message.u32, 12345);
	assert_int_equal(f->stacks[0].last_message.u64, 99);
	assert_int_equal(worker_counters(w0)->control_unknown, 1);
	assert_int_equal(ring_msg_recv_burst(f->events[0], events, 8), 1);
	assert_int_equal(events[0].type, RING_MSG_STATS_DONE);
	assert_int_equal(events[0].worker, 0);
	assert_int_equal(events[0].u64, 77);
	/* SET_IDLE with 0 us: never sleep, however idle. */
	for (int i = 0; i < 20; i++)
		assert_false(worker_idle(w0, 0));

	assert_int_equal(worker_poll(w0, 20), 1);
	assert_true(worker_stopping(w0));
	assert_int_equal(ring_msg_recv_burst(f->events[0], events, 8), 1);
	assert_int_equal(events[0].type, RING_MSG_STOPPED);
	assert_int_equal(worker_counters(w0)->control_messages, 5);
}

static void
test_event_ring_full_is_counted(void **state)
{
	struct fixture *f = *state;
	struct worker *w1 = f->workers[1];
	unsigned sent = 0;

	/* The control thread has stopped reading events: 31 fit (32-slot
	 * ring), the rest are counted as lost, the worker carries on. */
	for (unsigned round = 0; round < 10; round++) {
		for (unsigned i = 0; i < 4; i++) {
			assert_int_equal(ring_msg_send(f->control[1], &(struct ring_msg){
					.type = RING_MSG_STATS_REQUEST }), 0);
			sent++;
		}
		worker_poll(w1, round);
	}
	assert_int_equal(rte_ring_count(f->events[1]), 31);
	assert_int_equal(worker_counters(w1)->events_dropped, sent - 31);
}

static void
test_idle_backoff(void **state)
{
	struct fixture *f = *state;
	struct worker *w0 = f->workers[0];

	/* idle_polls 3, idle_sleep_usec 10 (fixture). */
	assert_false(worker_idle(w0, 0));
	assert_false(worker_idle(w0, 0));
	assert_true(worker_idle(w0, 0));
	assert_int_equal(worker_counters(w0)->idle_sleeps, 1);
	assert_false(worker_idle(w0, 0));
	assert_false(worker_idle(w0, 1)); /* work resets the count */
	assert_false(worker_idle(w0, 0));
	assert_false(worker_idle(w0, 0));
	assert_true(worker_idle(w0, 0));
	assert_int_equal(worker_counters(w0)->idle_sleeps, 2);
}

/* The real loop on a second lcore, with the TSC as its clock. */
static void
test_worker_run_on_lcore(void **state)
{
	struct fixture *f = *state;
	unsigned lcore = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	struct ring_msg ev;
	uint64_t deadline;

	if (lcore >= RTE_MAX_LCORE)
		skip();
	inject(0, make_frame(CLIENT, SERVER, port_owned_by(0, 9000), 9000, IPPROTO_TCP));
	assert_int_equal(rte_eal_remote_launch(worker_run, f->workers[0], lcore), 0);
	/* The echo comes back within the drain deadline plus scheduling. */
	deadline = rte_get_tsc_cycles() + 2 * rte_get_tsc_hz();
	while (rte_ring_count(tx_rings[0]) == 0 && rte_get_tsc_cycles() < deadline)
		rte_delay_us_sleep(1000);
	assert_int_equal(rte_ring_count(tx_rings[0]), 1);
	assert_int_equal(ring_msg_send(f->control[0], &(struct ring_msg){
			.type = RING_MSG_STOP }), 0);
	assert_int_equal(rte_eal_wait_lcore(lcore), 0);
	assert_int_equal(ring_msg_recv_burst(f->events[0], &ev, 1), 1);
	assert_int_equal(ev.type, RING_MSG_STOPPED);
	/* Mostly idle for a few milliseconds: it slept. */
	assert_true(worker_counters(f->workers[0])->idle_sleeps > 0);
	assert_int_equal(f->stacks[0].frames, 1);
}

static void
test_worker_create_rejects_bad_config(void **state)
{
	struct fixture *f = *state;
	struct worker_config cfg = {
		.index = 2, .n_workers = 2, .control_ring = f->control[0],
		.event_ring = f->events[0], .ops = &test_ops,
	};

	memcpy(cfg.handoff_rings, f->handoff, sizeof(f->handoff));
	assert_null(worker_create(&cfg));
	cfg.index = 0;
	cfg.n_workers = WORKER_MAX + 1;
	assert_null(worker_create(&cfg));
	cfg.n_workers = 2;
	cfg.handoff_rings[1] = NULL;
	assert_null(worker_create(&cfg));
	cfg.handoff_rings[1] = f->handoff[1];
	cfg.ops = NULL;
	assert_null(worker_create(&cfg));
}

static int
eal_setup(void **state)
{
	char *argv[] = { "test_worker", "--lcores=0@0,1@0", "--no-huge", "-m", "256",
		"--no-pci", "--no-shconf", "--log-level=lib.eal:error", NULL };
	struct rte_mempool *pools[N_WORKERS];
	int rc;

	(void)state;
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	pool = port_mempool_create("test_pool", POOL_SIZE, SOCKET_ID_ANY);
	if (!pool)
		return -1;
	for (unsigned i = 0; i < N_WORKERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "rx%u", i);
		rx_rings[i] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "tx%u", i);
		tx_rings[i] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!rx_rings[i] || !tx_rings[i])
			return -1;
		pools[i] = pool;
	}
	/* The ring PMD names the port "net_ring_" + the given name. */
	rc = rte_eth_from_rings("test", rx_rings, N_WORKERS, tx_rings,
			N_WORKERS, 0);
	if (rc < 0) {
		print_error("rte_eth_from_rings failed\n");
		return -1;
	}
	if (port_find("net_ring_test", &port_id) < 0) {
		print_error("port_find failed\n");
		return -1;
	}
	rc = port_start(port_id, N_WORKERS, pools, 128, 128, true, &port);
	if (rc < 0) {
		print_error("port_start: %d\n", rc);
		return -1;
	}
	/* The ring PMD has no RSS (flows are placed by the hand-off) and
	 * offers no checksum offloads (the stack sums in software). */
	if (port.rss || port.n_queues != N_WORKERS || port.rx_tcp_checksum ||
			port.tx_tcp_checksum) {
		print_error("port: rss %d, %u queues, checksum offload rx %d tx %d\n",
				port.rss, port.n_queues, port.rx_tcp_checksum,
				port.tx_tcp_checksum);
		return -1;
	}
	return 0;
}

static int
eal_teardown(void **state)
{
	(void)state;
	port_stop(port_id);
	return rte_eal_cleanup();
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_owner),
		cmocka_unit_test(test_frame_owner),
		T(test_tx_drain_deadline),
		T(test_tx_full_burst_sent_at_once),
		T(test_tx_buffer_overflow_is_counted_drop),
		T(test_tx_linearize_chains),
		T(test_tx_linearize_too_long_is_counted_drop),
		T(test_foreign_flow_handoff),
		T(test_mixed_burst_each_frame_reaches_its_owner),
		T(test_handoff_ring_full_is_counted_drop),
		T(test_timer_budget),
		T(test_control_messages),
		T(test_event_ring_full_is_counted),
		T(test_idle_backoff),
		T(test_worker_run_on_lcore),
		T(test_worker_create_rejects_bad_config),
	};

	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
