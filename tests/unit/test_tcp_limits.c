/* TCP stack limits, segment by segment with virtual time
 * (tests/unit/tcp_script.h for the notation): the RFC 5961 7 challenge-ACK
 * rate limit, the out-of-order queue bound, an empty mbuf pool, a full
 * connection table and a table full of TIME-WAIT connections. Each limit is
 * counted, nothing crashes, and the stack recovers once the resource is
 * back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/tcp.h"
#include "tests/unit/tcp_script.h"


/* Passive open from s->remote_port without timestamps; the peer's window
 * is 65535 << 7 when it offers wscale 7. */
static void
handshake(struct tcp_script *s, uint64_t t_ms, const char *syn)
{
	s->have_iss = false;
	s->have_conn = false;
	script_inject(s, t_ms, syn);
	script_expect(s, t_ms, "S. seq 0 ack 1");
	script_inject(s, t_ms, ". seq 1 ack 1");
	assert_true(script_events(s) & (1u << TCP_EVENT_ACCEPTED));
	assert_true(s->have_conn);
}

static void
test_challenge_ack_rate_limit(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	const struct tcp_stats *st;
	uint32_t iss;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	cfg.challenge_ack_limit = 3;
	script_start(&s, &cfg);
	st = tcp_stack_stats(s.stack);
	script_listen(&s);
	handshake(&s, 0, "S seq 0 win 65535 <mss 1460>");
	/* The window opens with the first challenge at 20 ms. */
	script_inject(&s, 20, "R seq 50");
	script_expect(&s, 20, ". seq 1 ack 1");
	script_inject(&s, 30, "S seq 7");
	script_expect(&s, 30, ". seq 1 ack 1");
	/* The limit is per stack: a second connection shares it. */
	iss = s.local_iss;
	s.remote_port = 40001;
	handshake(&s, 40, "S seq 0 win 65535 <mss 1460>");
	script_inject(&s, 50, "R seq 50");
	script_expect(&s, 50, ". seq 1 ack 1");
	assert_int_equal(st->challenge_acks, 3);
	/* Over the limit: RST, SYN and impossible ACK all go unanswered. */
	script_inject(&s, 60, "R seq 60");
	script_inject(&s, 61, "S seq 9");
	script_inject(&s, 62, ". seq 1 ack 90000");
	s.remote_port = 40000;
	s.local_iss = iss;
	script_inject(&s, 500, "R seq 70");
	script_expect_none(&s, 1019);
	assert_int_equal(st->challenge_acks, 3);
	assert_int_equal(st->challenge_acks_suppressed, 4);
	assert_int_equal(script_info(&s).state, TCP_STATE_ESTABLISHED);
	/* One second after the window opened, a new one starts. */
	script_inject(&s, 1020, "R seq 80");
	script_expect(&s, 1020, ". seq 1 ack 1");
	assert_int_equal(st->challenge_acks, 4);
	/* An exact RST still resets at once, limit or not. */
	for (unsigned k = 0; k < 3; k++)
		script_inject(&s, 1030, "R seq 90");
	script_expect(&s, 1030, ". seq 1 ack 1");
	script_expect(&s, 1030, ". seq 1 ack 1");
	script_expect_none(&s, 1030);
	assert_int_equal(st->challenge_acks_suppressed, 5);
	script_inject(&s, 1040, "R seq 1");
	assert_int_equal(script_events(&s), 1u << TCP_EVENT_RESET);
	assert_int_equal(s.last_event_error, -ECONNRESET);
	script_stop(&s);
}

static void
test_ooo_queue_limit(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	const struct tcp_stats *st;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	cfg.ooo_max_ranges = 3;
	script_start(&s, &cfg);
	st = tcp_stack_stats(s.stack);
	script_listen(&s);
	handshake(&s, 0, "S seq 0 win 65535 <mss 1460,sackOK>");
	/* Three holes fill the queue (RFC 2018: latest block first). */
	script_inject(&s, 10, ". seq 201 ack 1 len 100");
	script_expect(&s, 10, ". seq 1 ack 1 <sack 201:301>");
	script_inject(&s, 11, ". seq 401 ack 1 len 100");
	script_expect(&s, 11, ". seq 1 ack 1 <sack 401:501 201:301>");
	script_inject(&s, 12, ". seq 601 ack 1 len 100");
	script_expect(&s, 12, ". seq 1 ack 1 <sack 601:701 401:501 201:301>");
	assert_int_equal(script_info(&s).ooo_ranges, 3);
	assert_int_equal(st->drop_ooo_full, 0);
	/* A fourth above them all: dropped, counted, still ACKed. */
	script_inject(&s, 13, ". seq 801 ack 1 len 100");
	script_expect(&s, 13, ". seq 1 ack 1 <sack 601:701 401:501 201:301>");
	assert_int_equal(st->drop_ooo_full, 1);
	assert_int_equal(script_info(&s).ooo_ranges, 3);
	/* A duplicate of held data needs no new entry: not a drop. */
	script_inject(&s, 14, ". seq 401 ack 1 len 100");
	script_expect(&s, 14, ". seq 1 ack 1 <sack 401:501 601:701 201:301>");
	assert_int_equal(st->drop_ooo_full, 1);
	/* One closer to RCV.NXT evicts the highest entry. */
	script_inject(&s, 15, ". seq 101 ack 1 len 50");
	script_expect(&s, 15, ". seq 1 ack 1 <sack 101:151 401:501 201:301>");
	assert_int_equal(st->drop_ooo_full, 2);
	assert_int_equal(script_info(&s).ooo_ranges, 3);
	/* The holes fill; the evicted and dropped data come again. */
	script_inject(&s, 20, ". seq 1 ack 1 len 100");
	script_expect(&s, 20, ". seq 1 ack 151 <sack 401:501 201:301>");
	script_inject(&s, 21, ". seq 151 ack 1 len 50");
	script_expect(&s, 21, ". seq 1 ack 301 <sack 401:501>");
	script_inject(&s, 22, ". seq 301 ack 1 len 100");
	script_expect(&s, 22, ". seq 1 ack 501");
	script_inject(&s, 23, ". seq 501 ack 1 len 400");
	script_expect_none(&s, 62);
	script_expect(&s, 63, ". seq 1 ack 901");
	assert_int_equal(script_info(&s).ooo_ranges, 0);
	script_read(&s, 900);
	script_stop(&s);
}

static void
test_ooo_segment_across_adjacent_entries(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	script_listen(&s);
	handshake(&s, 0, "S seq 0 win 65535 <mss 1460,sackOK>");
	script_inject(&s, 10, ". seq 101 ack 1 len 100");
	script_expect(&s, 10, ". seq 1 ack 1 <sack 101:201>");
	script_inject(&s, 11, ". seq 201 ack 1 len 100");
	script_expect(&s, 11, ". seq 1 ack 1 <sack 101:301>");
	/* Adjacent segments are one range. */
	assert_int_equal(script_info(&s).ooo_ranges, 1);
	/* Straddling the two segments: wholly held already, no new or
	 * empty entry (an empty one was found by fuzz_tcp_conversation
	 * when adjacent segments were entries of their own). */
	script_inject(&s, 12, ". seq 151 ack 1 len 100");
	script_expect(&s, 12, ". seq 1 ack 1 <sack 101:301>");
	assert_int_equal(script_info(&s).ooo_ranges, 1);
	script_inject(&s, 20, ". seq 1 ack 1 len 100");
	script_expect(&s, 20, ". seq 1 ack 301");
	script_read(&s, 300);
	script_stop(&s);
}

static struct rte_mempool *
small_pool(void)
{
	static struct rte_mempool *p;

	if (p == NULL) {
		/* No per-lcore cache, so the available count is exact. */
		p = rte_pktmbuf_pool_create("tcp_small", 16, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				SOCKET_ID_ANY);
		assert_non_null(p);
	}
	return p;
}

static void
test_mbuf_pool_exhausted(void **state)
{
	struct rte_mempool *pool = small_pool();
	struct rte_mbuf *held[16];
	unsigned n_held = 0;
	struct tcp_stack_config cfg;
	struct tcp_script s;
	const struct tcp_stats *st;
	uint64_t drops;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	cfg.pool = pool;	/* the stack's headers and indirect mbufs */
	script_start(&s, &cfg);
	s.pool = script_pool();	/* the peer's segments and the sent data */
	st = tcp_stack_stats(s.stack);
	script_listen(&s);
	handshake(&s, 0, "S seq 0 win 65535 <mss 1460>");
	/* Take every mbuf the stack could use. */
	while (n_held < 16 && (held[n_held] = rte_pktmbuf_alloc(pool)) != NULL)
		n_held++;
	assert_int_equal(rte_mempool_avail_count(pool), 0);
	/* Data to send and data to acknowledge: nothing can be built. */
	script_advance(&s, 100);
	script_send(&s, 3000);
	script_inject(&s, 110, ". seq 1 ack 1 len 100");
	script_inject(&s, 111, ". seq 101 ack 1 len 100");
	script_expect_none(&s, 2000);
	assert_true(st->drop_no_mbuf >= 2);
	assert_int_equal(script_info(&s).snd_nxt - script_info(&s).iss, 1);
	assert_int_equal(script_info(&s).rcv_nxt - script_info(&s).irs, 201);
	assert_int_equal(script_info(&s).state, TCP_STATE_ESTABLISHED);
	/* The mbufs come back: the next drain sends the data and the ACK it
	 * carries, with no timer or segment needed to wake it. */
	for (unsigned i = 0; i < n_held; i++)
		rte_pktmbuf_free(held[i]);
	drops = st->drop_no_mbuf;
	script_expect(&s, 2000, ". seq 1 ack 201 len 1460");
	script_expect(&s, 2000, ". seq 1461 ack 201 len 1460");
	script_expect(&s, 2000, "P. seq 2921 ack 201 len 80");
	assert_int_equal(st->drop_no_mbuf, drops);
	script_inject(&s, 2010, ". seq 201 ack 3001");
	assert_int_equal(script_info(&s).send_queued, 0);
	script_read(&s, 200);
	/* Emptied again while a retransmission is due: counted, then the
	 * retransmission goes out when mbufs return. */
	script_advance(&s, 3000);
	script_send(&s, 100);
	script_expect(&s, 3000, "P. seq 3001 ack 201 len 100");
	n_held = 0;
	while (n_held < 16 && (held[n_held] = rte_pktmbuf_alloc(pool)) != NULL)
		n_held++;
	drops = st->drop_no_mbuf;
	/* RTO 200 ms (RFC 6298 2.4 floor). */
	script_expect_none(&s, 3300);
	assert_true(st->drop_no_mbuf > drops);
	assert_int_equal(st->retransmit_timeouts, 1);
	for (unsigned i = 0; i < n_held; i++)
		rte_pktmbuf_free(held[i]);
	script_expect(&s, 3300, "P. seq 3001 ack 201 len 100");
	script_inject(&s, 3310, ". seq 201 ack 3101");
	assert_int_equal(script_info(&s).send_queued, 0);
	script_stop(&s);
	/* Every mbuf of the stack's pool is back. */
	assert_int_equal(rte_mempool_avail_count(pool), 16);
}

static void
test_connection_table_full(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	const struct tcp_stats *st;
	uint32_t first, first_iss, conn;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	cfg.max_connections = 2;
	cfg.syn_queue_max = 2;
	script_start(&s, &cfg);
	st = tcp_stack_stats(s.stack);
	script_listen(&s);
	handshake(&s, 0, "S seq 0 win 65535 <mss 1460>");
	first = s.conn;
	first_iss = s.local_iss;
	s.remote_port = 40001;
	handshake(&s, 10, "S seq 0 win 65535 <mss 1460>");
	/* Table full of live connections: a new SYN is dropped and counted
	 * (no SYN-ACK, no cookie), an active open is refused. */
	s.remote_port = 40002;
	script_inject(&s, 20, "S seq 0 win 65535 <mss 1460>");
	script_expect_none(&s, 100);
	assert_int_equal(st->drop_no_tcb, 1);
	assert_int_equal(st->syn_cookies_sent, 0);
	assert_int_equal(tcp_connect(s.stack, s.local_ip, 0, s.remote_ip, 80, 100 * MS, &conn),
			-ENOSPC);
	/* The established connections are unaffected. */
	s.remote_port = 40000;
	s.conn = first;
	s.local_iss = first_iss;
	script_inject(&s, 110, "P. seq 1 ack 1 len 10");
	script_read(&s, 10);
	script_expect(&s, 150, ". seq 1 ack 11");
	/* One goes away: the peer's retransmitted SYN is accepted. */
	script_advance(&s, 200);
	assert_int_equal(tcp_abort(s.stack, first, 200 * MS), 0);
	script_expect(&s, 200, "R. seq 1 ack 11");
	s.remote_port = 40002;
	handshake(&s, 1020, "S seq 0 win 65535 <mss 1460>");
	assert_int_equal(script_info(&s).state, TCP_STATE_ESTABLISHED);
	assert_int_equal(st->drop_no_tcb, 1);
	assert_int_equal(st->connections_accepted, 3);
	script_stop(&s);
}

static void
test_time_wait_table_full(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	const struct tcp_stats *st;
	uint32_t conns[2], conn;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	cfg.max_connections = 2;
	cfg.syn_queue_max = 2;
	script_start(&s, &cfg);
	st = tcp_stack_stats(s.stack);
	script_listen(&s);
	/* Two connections, each closed by us first: both in TIME-WAIT. */
	for (unsigned k = 0; k < 2; k++) {
		uint64_t t = 100 * k;

		s.remote_port = (uint16_t)(40000 + k);
		handshake(&s, t, "S seq 0 win 65535 <mss 1460>");
		conns[k] = s.conn;
		script_advance(&s, t + 10);
		assert_int_equal(tcp_close(s.stack, s.conn, (t + 10) * MS), 0);
		script_expect(&s, t + 10, "F. seq 1 ack 1");
		script_inject(&s, t + 20, ". seq 1 ack 2");
		script_inject(&s, t + 20, "F. seq 1 ack 2");
		script_expect(&s, t + 20, ". seq 2 ack 2");
		assert_int_equal(script_info(&s).state, TCP_STATE_TIME_WAIT);
	}
	assert_int_equal(st->time_wait_entered, 2);
	/* A new SYN reuses the oldest TIME-WAIT TCB (the first one). */
	s.remote_port = 40002;
	handshake(&s, 300, "S seq 0 win 65535 <mss 1460>");
	assert_int_equal(st->time_wait_recycled, 1);
	assert_int_equal(st->drop_no_tcb, 0);
	assert_int_equal(s.conn, conns[0]);
	assert_int_equal(tcp_conn_info(s.stack, conns[1], &i), 0);
	assert_int_equal(i.state, TCP_STATE_TIME_WAIT);
	assert_int_equal(i.remote_port, 40001);
	/* An active open reuses the other one. */
	script_advance(&s, 310);
	assert_int_equal(tcp_connect(s.stack, s.local_ip, 0, s.remote_ip, 80, 310 * MS, &conn), 0);
	assert_int_equal(conn, conns[1]);
	assert_int_equal(st->time_wait_recycled, 2);
	script_advance(&s, 310);
	{
		struct tcp_header h;
		uint32_t len;

		script_pop(&s, 310, &h, &len);
		assert_int_equal(h.flags, TCP_FLAG_SYN);
		assert_int_equal(h.dst_port, 80);
	}
	/* Now full of live connections: nothing to recycle. */
	assert_int_equal(tcp_connect(s.stack, s.local_ip, 0, s.remote_ip, 81, 310 * MS, &conn),
			-ENOSPC);
	s.remote_port = 40003;
	script_inject(&s, 315, "S seq 0 win 65535 <mss 1460>");
	script_expect_none(&s, 315);
	assert_int_equal(st->drop_no_tcb, 1);
	/* The recycled connection's old peer gets a RST for a late segment
	 * (nothing of the old TCB is left). */
	s.remote_port = 40000;
	s.local_iss = 0;
	script_inject(&s, 320, ". seq 2 ack 77");
	script_expect(&s, 320, "R seq 77");
	/* A recycled TIME-WAIT did not expire. */
	assert_int_equal(st->time_wait_expired, 0);
	script_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge_ack_rate_limit),
		cmocka_unit_test(test_ooo_queue_limit),
		cmocka_unit_test(test_ooo_segment_across_adjacent_entries),
		cmocka_unit_test(test_mbuf_pool_exhausted),
		cmocka_unit_test(test_connection_table_full),
		cmocka_unit_test(test_time_wait_table_full),
	};

	script_pool();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
