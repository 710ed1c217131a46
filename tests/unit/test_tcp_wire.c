/* Two TCP stacks joined by an in-memory wire with seeded loss, duplication,
 * delay and jitter (so reordering), exchanging several MB each way at once
 * under virtual time; every byte is checked, and every mbuf must be back in
 * the pool at the end. And one long, fast path with a drop-tail bottleneck,
 * where congestion control decides how much of the link a transfer gets
 * (CUBIC against NewReno). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/ipv4.h"
#include "dataplane/tcp.h"
#include "tests/unit/tcp_script.h"

#define MS 1000000ull
#define WIRE_MAX 8192
#define TOTAL (4u << 20)

struct wire {
	struct {
		uint64_t at;
		struct rte_mbuf *m;
	} q[WIRE_MAX];
	unsigned count;
	uint64_t rng;
	unsigned loss_per_mille, dup_per_mille;
	uint64_t delay_ns, jitter_ns;
	/* A bottleneck (rate_bps 0: none): frames leave one after another
	 * at that rate, queued up to queue_ns of sending time; a frame that
	 * finds the queue full is dropped (drop-tail). */
	uint64_t rate_bps, queue_ns, busy_until;
	uint64_t delivered, dropped, duplicated, queue_drops;
};

struct side {
	struct tcp_stack *stack;
	uint32_t ip;
	uint32_t conn;
	bool up;
	uint32_t sent, received;
	uint32_t total;		/* bytes to send */
	uint8_t salt;
	bool closed_seen;
};

static uint64_t
rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint8_t
stream_byte(uint8_t salt, uint32_t i)
{
	return (uint8_t)(i * 31u + (i >> 9) + salt);
}

static void
wire_put(struct wire *w, struct rte_mbuf *m, uint64_t now)
{
	unsigned copies = 1;
	uint64_t leave = now;

	if (w->rate_bps > 0) {
		uint64_t start = RTE_MAX(now, w->busy_until);

		if (start - now > w->queue_ns) {
			w->queue_drops++;
			rte_pktmbuf_free(m);
			return;
		}
		w->busy_until = start + (uint64_t)m->pkt_len * 8 * 1000000000ull / w->rate_bps;
		leave = w->busy_until;
	}
	if (rng_next(&w->rng) % 1000 < w->loss_per_mille) {
		w->dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	if (rng_next(&w->rng) % 1000 < w->dup_per_mille)
		copies = 2;
	for (unsigned k = 0; k < copies; k++) {
		struct rte_mbuf *c = k == 0 ? m : rte_pktmbuf_clone(m, m->pool);

		assert_non_null(c);
		assert_true(w->count < WIRE_MAX);
		w->q[w->count].at = leave + w->delay_ns + rng_next(&w->rng) % (w->jitter_ns + 1);
		w->q[w->count].m = c;
		w->count++;
		if (k == 1)
			w->duplicated++;
	}
}

static void
wire_deliver(struct wire *w, struct tcp_stack *to, uint64_t now)
{
	struct rte_mbuf *due[64];
	unsigned n = 0, i = 0;

	while (i < w->count) {
		if (w->q[i].at <= now && n < 64) {
			due[n++] = w->q[i].m;
			w->q[i] = w->q[--w->count];
		} else {
			i++;
		}
		if (n == 64) {
			tcp_input_burst(to, due, n, now);
			w->delivered += n;
			n = 0;
		}
	}
	if (n > 0) {
		tcp_input_burst(to, due, n, now);
		w->delivered += n;
	}
}

static void
wire_flush(struct wire *w)
{
	for (unsigned i = 0; i < w->count; i++)
		rte_pktmbuf_free(w->q[i].m);
	w->count = 0;
}

static void
pump(struct side *s, struct wire *out, struct rte_mempool *pool, uint64_t now)
{
	struct tcp_event ev[32];
	struct rte_mbuf *pkts[64];
	unsigned n;

	tcp_timers_run(s->stack, now, 1024);
	while ((n = tcp_events_drain(s->stack, ev, 32)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (ev[i].type == TCP_EVENT_ACCEPTED || ev[i].type == TCP_EVENT_CONNECTED) {
				s->conn = ev[i].conn;
				s->up = true;
			}
			if (ev[i].type == TCP_EVENT_RESET)
				fail_msg("connection reset: error %d", ev[i].error);
			if (ev[i].type == TCP_EVENT_PEER_CLOSED)
				s->closed_seen = true;
		}
	}
	if (s->up) {
		struct rte_mbuf *m;
		int got = tcp_recv(s->stack, s->conn, &m, now);

		assert_true(got >= 0);
		if (got > 0) {
			uint32_t i = s->received;

			for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next)
				for (uint16_t k = 0; k < seg->data_len; k++, i++)
					if (rte_pktmbuf_mtod(seg, uint8_t *)[k] !=
					    stream_byte((uint8_t)(s->salt ^ 0x55), i))
						fail_msg("stream byte %u wrong", i);
			assert_int_equal(i - s->received, (uint32_t)got);
			s->received = i;
			rte_pktmbuf_free(m);
		}
		/* Queue more while the send buffer has room. */
		while (s->sent < s->total && tcp_send_space(s->stack, s->conn) > 0) {
			struct rte_mbuf *d = rte_pktmbuf_alloc(pool);
			uint32_t len = RTE_MIN(s->total - s->sent, 1900u);
			uint8_t *p;

			assert_non_null(d);
			p = (uint8_t *)rte_pktmbuf_append(d, (uint16_t)len);
			for (uint32_t k = 0; k < len; k++)
				p[k] = stream_byte(s->salt, s->sent + k);
			assert_int_equal(tcp_send(s->stack, s->conn, d, now), 0);
			s->sent += len;
		}
	}
	while ((n = tcp_output_drain(s->stack, pkts, 64, now)) > 0)
		for (unsigned i = 0; i < n; i++) {
			/* Every segment's IPv4 header checksum verifies (the
			 * receiving stack checks only the TCP checksum). */
			assert_int_equal(inet_checksum(rte_pktmbuf_mtod(pkts[i], const void *), 20), 0);
			wire_put(out, pkts[i], now);
		}
}

/* Stacks for A and B from cfg (their own ISN secrets), B listening on 443
 * and A connecting to it at time 0. */
static void
connect_pair(struct tcp_stack_config *cfg, struct side *a, struct side *b)
{
	uint32_t listener;
	int err;

	cfg->max_connections = 8;
	a->stack = tcp_stack_create(cfg, &err);
	cfg->secret[0] ^= 0xff;
	b->stack = tcp_stack_create(cfg, &err);
	assert_non_null(a->stack);
	assert_non_null(b->stack);
	assert_int_equal(tcp_listen(b->stack, b->ip, 443, &listener), 0);
	assert_int_equal(tcp_connect(a->stack, a->ip, 0, b->ip, 443, 0, &a->conn), 0);
	a->up = false;
}

static void
run_transfer(unsigned loss, unsigned dup, uint64_t seed)
{
	struct rte_mempool *pool = script_pool();
	unsigned avail_before = rte_mempool_avail_count(pool);
	struct tcp_stack_config cfg;
	static struct wire ab, ba;
	struct side a = { .ip = 0x0a000001, .salt = 0x11, .total = TOTAL };
	struct side b = { .ip = 0x0a000002, .salt = 0x11 ^ 0x55, .total = TOTAL };
	uint64_t now = 0;

	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	ab.rng = seed;
	ba.rng = seed * 3 + 1;
	ab.loss_per_mille = ba.loss_per_mille = loss;
	ab.dup_per_mille = ba.dup_per_mille = dup;
	ab.delay_ns = ba.delay_ns = 5 * MS;
	ab.jitter_ns = ba.jitter_ns = 3 * MS;

	script_config(&cfg);
	connect_pair(&cfg, &a, &b);

	/* Both directions at once, until every byte arrived. */
	while (a.received < TOTAL || b.received < TOTAL) {
		now += MS / 4;
		assert_true(now < 600 * 1000 * MS);
		wire_deliver(&ba, a.stack, now);
		wire_deliver(&ab, b.stack, now);
		pump(&a, &ab, pool, now);
		pump(&b, &ba, pool, now);
	}
	assert_int_equal(a.sent, TOTAL);
	assert_int_equal(b.sent, TOTAL);
	/* Orderly close from both sides; then TIME-WAIT runs out. */
	assert_int_equal(tcp_close(a.stack, a.conn, now), 0);
	a.up = false;
	for (uint64_t end = now + 5000 * MS; now < end;) {
		now += MS;
		wire_deliver(&ba, a.stack, now);
		wire_deliver(&ab, b.stack, now);
		pump(&a, &ab, pool, now);
		if (b.up && b.closed_seen) {
			assert_int_equal(tcp_close(b.stack, b.conn, now), 0);
			b.up = false;
		}
		pump(&b, &ba, pool, now);
	}
	assert_true(b.closed_seen);
	print_message("loss %u/1000 dup %u/1000: %.1f s virtual, %lu delivered, %lu dropped, "
		"%lu duplicated, A rexmit %lu (fast %lu, rto %lu, undone %lu), B rexmit %lu\n",
		loss, dup, (double)now / 1e9, (unsigned long)(ab.delivered + ba.delivered),
		(unsigned long)(ab.dropped + ba.dropped),
		(unsigned long)(ab.duplicated + ba.duplicated),
		(unsigned long)tcp_stack_stats(a.stack)->retransmitted_segments,
		(unsigned long)tcp_stack_stats(a.stack)->fast_retransmits,
		(unsigned long)tcp_stack_stats(a.stack)->retransmit_timeouts,
		(unsigned long)tcp_stack_stats(a.stack)->recoveries_undone,
		(unsigned long)tcp_stack_stats(b.stack)->retransmitted_segments);
	assert_int_equal(tcp_stack_stats(a.stack)->drop_checksum, 0);
	assert_int_equal(tcp_stack_stats(b.stack)->drop_checksum, 0);
	wire_flush(&ab);
	wire_flush(&ba);
	tcp_stack_destroy(a.stack);
	tcp_stack_destroy(b.stack);
	assert_int_equal(rte_mempool_avail_count(pool), avail_before);
}

/* The bottleneck: 20 Mbit/s, 100 ms round trip (a bandwidth-delay
 * product of 250 kB, about 170 segments) and a drop-tail queue of a
 * quarter of that, one bulk transfer from A with windows large enough to
 * overflow it. What A got from 20 s to 80 s (after slow start's
 * overshoot): B's goodput as a share of the link's rate, and the drops
 * and retransmission timeouts in that time. */
#define BOTTLENECK_BPS 20000000ull
#define BOTTLENECK_RTT (100 * MS)

struct bottleneck_result {
	double share;
	uint64_t queue_drops;
	uint64_t timeouts;
};

static struct bottleneck_result
run_bottleneck(enum tcp_congestion_control cc)
{
	struct rte_mempool *pool = script_pool();
	unsigned avail_before = rte_mempool_avail_count(pool);
	struct tcp_stack_config cfg;
	static struct wire ab, ba;
	struct side a = { .ip = 0x0a000001, .salt = 0x11, .total = UINT32_MAX };
	struct side b = { .ip = 0x0a000002, .salt = 0x11 ^ 0x55, .total = 0 };
	struct bottleneck_result r;
	uint32_t received0 = 0;
	uint64_t now = 0, drops0 = 0, timeouts0 = 0;

	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	ab.rng = ba.rng = 99;
	ab.delay_ns = ba.delay_ns = BOTTLENECK_RTT / 2;
	ab.rate_bps = BOTTLENECK_BPS;
	ab.queue_ns = BOTTLENECK_RTT / 4;

	script_config(&cfg);
	cfg.congestion_control = cc;
	cfg.send_buffer = 1 << 20;
	cfg.recv_buffer = 1 << 20;
	connect_pair(&cfg, &a, &b);
	while (now < 80000 * MS) {
		now += MS / 2;
		if (now == 20000 * MS) {
			received0 = b.received;
			drops0 = ab.queue_drops;
			timeouts0 = tcp_stack_stats(a.stack)->retransmit_timeouts;
		}
		wire_deliver(&ba, a.stack, now);
		wire_deliver(&ab, b.stack, now);
		pump(&a, &ab, pool, now);
		pump(&b, &ba, pool, now);
	}
	r.share = (double)(b.received - received0) * 8.0 / 60.0 / BOTTLENECK_BPS;
	r.queue_drops = ab.queue_drops - drops0;
	r.timeouts = tcp_stack_stats(a.stack)->retransmit_timeouts - timeouts0;
	print_message("%s: %.1f %% of the bottleneck from 20 s to 80 s, %lu queue drops, "
		"%lu timeouts then; %lu fast retransmits, %lu segments resent in all\n",
		cc == TCP_CC_CUBIC ? "cubic" : "newreno", 100.0 * r.share,
		(unsigned long)r.queue_drops, (unsigned long)r.timeouts,
		(unsigned long)tcp_stack_stats(a.stack)->fast_retransmits,
		(unsigned long)tcp_stack_stats(a.stack)->retransmitted_segments);
	wire_flush(&ab);
	wire_flush(&ba);
	tcp_stack_destroy(a.stack);
	tcp_stack_destroy(b.stack);
	assert_int_equal(rte_mempool_avail_count(pool), avail_before);
	return r;
}

/* After each loss NewReno's window is half of what overflowed the queue,
 * 0.625 of the path, and it regains a segment per round trip: the link
 * idles for part of every cycle (about 88 % used in theory). CUBIC keeps
 * 0.7 of it, 0.875 of the path, and climbs back in about K = 5 s along
 * its curve: the link stays nearly full. Both must meet the queue's limit
 * (losses happen), recover every loss without a retransmission timeout,
 * and deliver every byte in order (pump()). Before the receiver kept
 * out-of-order data as ranges (it held 32 segments, a fifth of this
 * path), every loss here ended in a timeout and CUBIC got 69 %. */
static void
test_bottleneck_cubic_fills_the_path(void **state)
{
	struct bottleneck_result cubic, newreno;

	(void)state;
	cubic = run_bottleneck(TCP_CC_CUBIC);
	newreno = run_bottleneck(TCP_CC_NEWRENO);
	assert_true(cubic.queue_drops > 0 && newreno.queue_drops > 0);
	assert_int_equal(cubic.timeouts, 0);
	assert_int_equal(newreno.timeouts, 0);
	assert_true(cubic.share > 0.93);
	assert_true(cubic.share > newreno.share + 0.05);
}

static void
test_clean_wire(void **state)
{
	(void)state;
	run_transfer(0, 0, 1);
}

static void
test_lossy_wire(void **state)
{
	(void)state;
	run_transfer(20, 10, 7);
}

static void
test_very_lossy_wire(void **state)
{
	(void)state;
	run_transfer(50, 20, 12345);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_wire),
		cmocka_unit_test(test_lossy_wire),
		cmocka_unit_test(test_very_lossy_wire),
		cmocka_unit_test(test_bottleneck_cubic_fills_the_path),
	};

	script_pool();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
