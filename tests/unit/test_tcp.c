/* TCP stack conformance, segment by segment with virtual time
 * (tests/unit/tcp_script.h for the notation). Peer segments are written the
 * way a Linux peer would send them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/tcp.h"
#include "tests/unit/tcp_script.h"


/* Passive open with timestamps, SACK and window scaling as Linux offers. */
static void
passive_ts(struct tcp_script *s)
{
	script_listen(s);
	script_inject(s, 0, "S seq 0 win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
	script_expect(s, 0, "S. seq 0 ack 1 win 65535 <mss 1460,sackOK,TS val 0 ecr 100,wscale 2>");
	script_inject(s, 10, ". seq 1 ack 1 win 512 <TS val 110 ecr 0>");
	assert_true(script_events(s) & (1u << TCP_EVENT_ACCEPTED));
}

/* Passive open without timestamps (RTT from the SYN-ACK, Karn visible). */
static void
passive_plain(struct tcp_script *s, const char *syn, uint64_t ack_ms)
{
	char ack[64];

	script_listen(s);
	script_inject(s, 0, syn);
	script_expect(s, 0, "S. seq 0 ack 1");
	snprintf(ack, sizeof(ack), ". seq 1 ack 1 win %s", strstr(syn, "wscale") ? "512" : "65535");
	script_inject(s, ack_ms, ack);
	assert_true(script_events(s) & (1u << TCP_EVENT_ACCEPTED));
}

/* Queues n full segments of seg_len bytes at t_ms and expects them sent
 * back to back from sequence 1, the last with PSH. */
static void
send_full_segments(struct tcp_script *s, uint64_t t_ms, unsigned n, uint32_t seg_len)
{
	char line[64];

	script_advance(s, t_ms);
	script_send(s, n * seg_len);
	for (unsigned k = 0; k < n; k++) {
		snprintf(line, sizeof(line), "%s seq %u ack 1 len %u", k + 1 == n ? "P." : ".",
			1 + seg_len * k, seg_len);
		script_expect(s, t_ms, line);
	}
}

/* Another passive open on the same listener, from s->remote_port. */
static void
passive_again(struct tcp_script *s, uint64_t t_ms)
{
	s->have_iss = false;
	script_inject(s, t_ms, "S seq 0 win 65535 <mss 1460>");
	script_expect(s, t_ms, "S. seq 0 ack 1");
	script_inject(s, t_ms, ". seq 1 ack 1");
	assert_true(script_events(s) & (1u << TCP_EVENT_ACCEPTED));
}

static void
test_passive_open_data_delayed_ack(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	passive_ts(&s);
	i = script_info(&s);
	assert_int_equal(i.state, TCP_STATE_ESTABLISHED);
	assert_int_equal(i.snd_wscale, 7);
	assert_int_equal(i.rcv_wscale, 2);
	assert_int_equal(i.mss, 1448);
	assert_int_equal(i.snd_wnd, 512 << 7);
	assert_true(i.timestamps && i.sack_permitted);

	/* One small segment: ACK delayed by 40 ms. */
	script_inject(&s, 20, "P. seq 1 ack 1 win 512 len 100 <TS val 120 ecr 0>");
	script_expect_none(&s, 59);
	script_expect(&s, 60, ". seq 1 ack 101 win 65510 <TS val 60 ecr 120>");
	script_read(&s, 100);
	script_expect_none(&s, 70);

	/* Two full segments: ACK at once (RFC 9293 3.8.6.3). */
	script_inject(&s, 100, ". seq 101 ack 1 win 512 len 1448 <TS val 130 ecr 60>");
	script_expect_none(&s, 100);
	script_inject(&s, 100, ". seq 1549 ack 1 win 512 len 1448 <TS val 130 ecr 60>");
	script_expect(&s, 100, ". seq 1 ack 2997 <TS val 100 ecr 130>");
	script_read(&s, 2896);

	/* Data the other way, carrying the ACK. */
	script_advance(&s, 200);
	script_send(&s, 1000);
	script_expect(&s, 200, "P. seq 1 ack 2997 len 1000 <TS val 200 ecr 130>");
	script_inject(&s, 250, ". seq 2997 ack 1001 win 512 <TS val 180 ecr 200>");
	script_expect_none(&s, 3000);
	i = script_info(&s);
	assert_int_equal(i.snd_una - i.iss, 1001);
	assert_int_equal(i.send_queued, 0);
	assert_int_equal(tcp_stack_stats(s.stack)->delayed_acks, 1);
	script_stop(&s);
}

static void
test_active_open(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	script_connect(&s);
	script_expect(&s, 0, "S seq 0 win 65535 <mss 1460,sackOK,TS val 0 ecr 0,wscale 2>");
	assert_int_equal(script_info(&s).state, TCP_STATE_SYN_SENT);
	script_inject(&s, 30, "S. seq 0 ack 1 win 65535 <mss 1400,TS val 500 ecr 0,nop,wscale 3>");
	script_expect(&s, 30, ". seq 1 ack 1 win 65535 <TS val 30 ecr 500>");
	assert_true(script_events(&s) & (1u << TCP_EVENT_CONNECTED));
	i = script_info(&s);
	assert_int_equal(i.state, TCP_STATE_ESTABLISHED);
	assert_int_equal(i.mss, 1400 - 12);
	assert_int_equal(i.snd_wscale, 3);
	assert_int_equal(i.snd_wnd, 65535);	/* RFC 7323 2.2: SYN window unscaled */
	assert_false(i.sack_permitted);
	assert_int_equal(i.srtt_ns, 30 * MS);
	script_stop(&s);
}

static void
test_syn_retransmit_and_timeout(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.max_syn_retransmits = 2;
	script_start(&s, &cfg);
	script_connect(&s);
	script_expect(&s, 0, "S seq 0");
	script_expect_none(&s, 999);
	script_expect(&s, 1000, "S seq 0");
	script_expect_none(&s, 2999);
	script_expect(&s, 3000, "S seq 0");
	script_expect_none(&s, 6999);
	assert_int_equal(script_events(&s), 0);
	script_advance(&s, 7000);
	assert_int_equal(script_events(&s), 1u << TCP_EVENT_RESET);
	assert_int_equal(s.last_event_error, -ETIMEDOUT);
	script_stop(&s);
}

static void
test_rto_backoff_karn(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	/* The RTO alone: with SACK, a loss probe (RFC 8985 7) would go out
	 * 2 SRTT + 200 ms after each send, before the backed-off RTOs. */
	cfg.no_tail_loss_probe = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460,sackOK,nop,wscale 7>", 100);
	/* RFC 6298 2.2: SRTT 100 ms, RTTVAR 50 ms, RTO 300 ms. */
	assert_int_equal(script_info(&s).rto_ns, 300 * MS);
	script_advance(&s, 1000);
	script_send(&s, 100);
	script_expect(&s, 1000, "P. seq 1 ack 1 len 100");
	script_expect_none(&s, 1299);
	script_expect(&s, 1300, "P. seq 1 ack 1 len 100");
	script_expect_none(&s, 1899);
	script_expect(&s, 1900, "P. seq 1 ack 1 len 100");
	script_expect_none(&s, 3099);
	script_expect(&s, 3100, "P. seq 1 ack 1 len 100");
	/* Karn: the ACK of a retransmitted segment gives no sample; the
	 * backed-off RTO stays. */
	script_inject(&s, 3200, ". seq 1 ack 101 win 512");
	assert_int_equal(script_info(&s).rto_ns, 2400 * MS);
	script_advance(&s, 4000);
	script_send(&s, 100);
	script_expect(&s, 4000, "P. seq 101 ack 1 len 100");
	script_expect_none(&s, 6399);
	script_expect(&s, 6400, "P. seq 101 ack 1 len 100");
	script_inject(&s, 6450, ". seq 1 ack 201 win 512");
	assert_int_equal(script_info(&s).rto_ns, 4800 * MS);
	/* A clean sample of 50 ms: SRTT 93.75, RTTVAR 50, RTO 293.75 ms. */
	script_advance(&s, 7000);
	script_send(&s, 100);
	script_expect(&s, 7000, "P. seq 201 ack 1 len 100");
	script_inject(&s, 7050, ". seq 1 ack 301 win 512");
	assert_int_equal(script_info(&s).srtt_ns, 93750000);
	assert_int_equal(script_info(&s).rto_ns, 293750000);
	script_advance(&s, 8000);
	script_send(&s, 100);
	script_expect(&s, 8000, "P. seq 301 ack 1 len 100");
	script_expect_none(&s, 8293);
	script_expect(&s, 8294, "P. seq 301 ack 1 len 100");
	assert_int_equal(tcp_stack_stats(s.stack)->retransmit_timeouts, 5);
	script_stop(&s);
}

static void
test_fast_retransmit_newreno(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	/* RFC 5681 eq. 4 and RFC 6582: ssthresh is half the flight. */
	cfg.congestion_control = TCP_CC_NEWRENO;
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460>", 10);
	assert_int_equal(script_info(&s).cwnd, 14600);	/* RFC 6928 IW */
	send_full_segments(&s, 100, 10, 1460);
	script_inject(&s, 150, ". seq 1 ack 1461");
	/* Segment 2 lost: three duplicate ACKs. */
	script_inject(&s, 151, ". seq 1 ack 1461");
	script_inject(&s, 152, ". seq 1 ack 1461");
	script_expect_none(&s, 152);
	script_inject(&s, 153, ". seq 1 ack 1461");
	script_expect(&s, 153, ". seq 1461 ack 1 len 1460");
	i = script_info(&s);
	assert_true(i.in_recovery);
	assert_int_equal(i.ssthresh, 6570);
	assert_int_equal(i.cwnd, 6570 + 3 * 1460);
	/* More duplicates inflate cwnd, nothing new to send. */
	script_inject(&s, 154, ". seq 1 ack 1461");
	assert_int_equal(script_info(&s).cwnd, 6570 + 4 * 1460);
	script_expect_none(&s, 155);
	/* RFC 6582 partial ACK: segment 4 was lost too. */
	script_inject(&s, 160, ". seq 1 ack 4381");
	script_expect(&s, 160, ". seq 4381 ack 1 len 1460");
	i = script_info(&s);
	assert_true(i.in_recovery);
	assert_int_equal(i.cwnd, 6570 + 4 * 1460 - 2920 + 1460);
	/* Full ACK: leave recovery with cwnd = min(ssthresh, flight + MSS). */
	script_inject(&s, 170, ". seq 1 ack 14601");
	i = script_info(&s);
	assert_false(i.in_recovery);
	assert_int_equal(i.cwnd, 2920);
	script_expect_none(&s, 3000);
	assert_int_equal(tcp_stack_stats(s.stack)->fast_retransmits, 1);
	assert_int_equal(tcp_stack_stats(s.stack)->partial_acks, 1);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmit_timeouts, 0);
	script_stop(&s);
}

static void
test_out_of_order_sack(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	passive_ts(&s);
	script_inject(&s, 20, ". seq 101 ack 1 win 512 len 100 <TS val 120 ecr 0>");
	script_expect(&s, 20, ". seq 1 ack 1 <TS val 20 ecr 110,sack 101:201>");
	script_inject(&s, 30, ". seq 301 ack 1 win 512 len 100 <TS val 130 ecr 0>");
	script_expect(&s, 30, ". seq 1 ack 1 <TS val 30 ecr 110,sack 301:401 101:201>");
	/* A duplicate inside a held block changes nothing but its recency. */
	script_inject(&s, 35, ". seq 121 ack 1 win 512 len 50 <TS val 135 ecr 0>");
	script_expect(&s, 35, ". seq 1 ack 1 <TS val 35 ecr 110,sack 101:201 301:401>");
	assert_int_equal(script_info(&s).ooo_ranges, 2);
	/* The hole fills: cumulative ACK at once. */
	script_inject(&s, 40, ". seq 1 ack 1 win 512 len 100 <TS val 140 ecr 0>");
	script_expect(&s, 40, ". seq 1 ack 201 <TS val 40 ecr 140,sack 301:401>");
	script_inject(&s, 50, ". seq 201 ack 1 win 512 len 100 <TS val 150 ecr 0>");
	script_expect(&s, 50, ". seq 1 ack 401 <TS val 50 ecr 150>");
	script_read(&s, 400);
	assert_int_equal(script_info(&s).ooo_ranges, 0);
	script_stop(&s);
}

/* RFC 6675 with data on every ACK, as on a tor link where both ends send
 * cells: such ACKs are no duplicates under RFC 5681's basic definition,
 * so only the SACK blocks they carry can find the losses. Segments 1 and 3
 * of ten are lost; both holes are retransmitted, each once, and no
 * retransmission timeout fires. */
static void
test_sack_recovery_two_way(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	/* RFC 6675's own arithmetic (FlightSize / 2); CUBIC's 0.7 is
	 * test_cubic_reductions. */
	cfg.congestion_control = TCP_CC_NEWRENO;
	script_start(&s, &cfg);
	passive_ts(&s);
	send_full_segments(&s, 100, 10, 1448);
	script_inject(&s, 110, ". seq 1 ack 1449 win 512 <TS val 210 ecr 100>");
	/* Segment 2 arrives: SACKed, on an ACK that carries 100 bytes. */
	script_inject(&s, 111, "P. seq 1 ack 1449 win 512 len 100 "
			"<nop,nop,TS val 211 ecr 100,nop,nop,sack 2897:4345>");
	/* Segments 4 and 5: 3 x 1448 SACKed above SND.UNA, more than
	 * (DupThresh - 1) * SMSS: IsLost(SND.UNA), recovery at once. */
	script_inject(&s, 112, "P. seq 101 ack 1449 win 512 len 100 "
			"<nop,nop,TS val 212 ecr 100,nop,nop,sack 5793:7241 2897:4345>");
	script_expect_none(&s, 112);
	script_inject(&s, 113, "P. seq 201 ack 1449 win 512 len 100 "
			"<nop,nop,TS val 213 ecr 100,nop,nop,sack 5793:8689 2897:4345>");
	script_expect(&s, 113, ". seq 1449 ack 301 len 1448");
	i = script_info(&s);
	assert_true(i.in_recovery);
	/* RFC 6675 5 step 4.2: cwnd = ssthresh = FlightSize / 2. */
	assert_int_equal(i.ssthresh, 9 * 1448 / 2);
	assert_int_equal(i.cwnd, 9 * 1448 / 2);
	/* Segment 3 has two segments SACKed above it: not lost yet. pipe is
	 * segment 3, segments 6-9 and the retransmission: more than cwnd. */
	script_expect_none(&s, 113);
	/* Segment 6 SACKed: segment 3 is lost now, but pipe (the
	 * retransmission and segments 7-9) leaves less than SMSS. */
	script_inject(&s, 114, "P. seq 301 ack 1449 win 512 len 100 "
			"<nop,nop,TS val 214 ecr 100,nop,nop,sack 5793:10137 2897:4345>");
	script_expect_none(&s, 114);
	/* Segment 7 SACKed: pipe falls by SMSS, segment 3 goes. */
	script_inject(&s, 115, "P. seq 401 ack 1449 win 512 len 100 "
			"<nop,nop,TS val 215 ecr 100,nop,nop,sack 5793:11585 2897:4345>");
	script_expect(&s, 115, ". seq 4345 ack 501 len 1448");
	script_expect_none(&s, 116);
	assert_true(script_info(&s).in_recovery);
	/* Both retransmissions arrive: a partial ACK. Nothing is SACKed,
	 * nothing new is queued, but segments 9 and 10 are still out, with no
	 * SACK for them after the retransmissions arrived: RFC 6675 NextSeg()
	 * rule 4 sends the rescue retransmission, the segment that ends at the
	 * highest un-SACKed byte, once per recovery. */
	script_inject(&s, 120, "P. seq 501 ack 11585 win 512 len 100 <TS val 220 ecr 115>");
	script_expect(&s, 120, "P. seq 13033 ack 601 len 1448");
	script_expect_none(&s, 121);
	assert_true(script_info(&s).in_recovery);
	/* Everything acknowledged: recovery ends. */
	script_inject(&s, 130, "P. seq 601 ack 14481 win 512 len 100 <TS val 230 ecr 120>");
	i = script_info(&s);
	assert_false(i.in_recovery);
	assert_int_equal(i.snd_una, i.iss + 1 + 10 * 1448);
	script_read(&s, 700);
	assert_int_equal(tcp_stack_stats(s.stack)->sack_recoveries, 1);
	assert_int_equal(tcp_stack_stats(s.stack)->sack_retransmits, 2);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmitted_segments, 3);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmit_timeouts, 0);
	script_stop(&s);
}

/* Ten segments out, segment 1 acknowledged at 110 ms (an RTT of 10 ms, so
 * the RTO is its 200 ms floor from then; *before gets the connection's
 * state at that point when not NULL), segment 2 missing: three ACKs with
 * SACKs for segments 3 to 5 start a SACK recovery at 113 ms and its fast
 * retransmission. */
static void
segment_2_missing(struct tcp_script *s, struct tcp_conn_info *before)
{
	passive_ts(s);
	send_full_segments(s, 100, 10, 1448);
	script_inject(s, 110, ". seq 1 ack 1449 win 512 <TS val 210 ecr 100>");
	if (before != NULL)
		*before = script_info(s);
	script_inject(s, 111, ". seq 1 ack 1449 win 512 "
			"<nop,nop,TS val 211 ecr 100,nop,nop,sack 2897:4345>");
	script_inject(s, 112, ". seq 1 ack 1449 win 512 "
			"<nop,nop,TS val 212 ecr 100,nop,nop,sack 2897:5793>");
	script_expect_none(s, 112);
	script_inject(s, 113, ". seq 1 ack 1449 win 512 "
			"<nop,nop,TS val 213 ecr 100,nop,nop,sack 2897:7241>");
	script_expect(s, 113, ". seq 1449 ack 1 len 1448");
	assert_true(script_info(s).in_recovery);
}

/* CUBIC, the default (RFC 9438 4.6 and 4.8): a SACK recovery sets
 * ssthresh and cwnd to 0.7 of the flight, where NewReno halves it, and a
 * retransmission timeout sets ssthresh the same way (and cwnd to one
 * segment, as RFC 5681). Segment 2 of 10 is lost, then its
 * retransmission too. (The window's growth afterwards: tcp_cubic.) */
static void
test_cubic_reductions(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	assert_int_equal(cfg.congestion_control, TCP_CC_CUBIC);
	script_start(&s, &cfg);
	segment_2_missing(&s, NULL);
	i = script_info(&s);
	assert_int_equal(i.ssthresh, 9 * 1448 * 7 / 10);
	assert_int_equal(i.cwnd, 9 * 1448 * 7 / 10);
	/* pipe (segments 6-10 and the retransmission) leaves less than a
	 * segment of that window: nothing more. */
	script_expect_none(&s, 309);
	/* The retransmission is lost too: the RTO at 310 ms. */
	script_expect(&s, 310, ". seq 1449 ack 1 len 1448");
	i = script_info(&s);
	assert_false(i.in_recovery);
	assert_int_equal(i.ssthresh, 9 * 1448 * 7 / 10);
	assert_int_equal(i.cwnd, 1448);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmit_timeouts, 1);
	/* A real loss: nothing was given back. */
	assert_int_equal(tcp_stack_stats(s.stack)->recoveries_undone, 0);
	script_stop(&s);
}

/* RFC 9438 4.9 with RFC 3708: segment 2 of 10 is late, not lost. Three
 * SACKs start a recovery and its fast retransmission; the original
 * arrives, everything is acknowledged and the recovery ends with a small
 * window; then the retransmission arrives and the peer reports it as a
 * duplicate (D-SACK): the reduction is given back, window, ssthresh and
 * CUBIC's state. A D-SACK of data that was not retransmitted undoes
 * nothing. */
static void
test_undo_after_reordering(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i, before;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	segment_2_missing(&s, &before);
	assert_int_equal(script_info(&s).cwnd, 9 * 1448 * 7 / 10);
	/* The late original and the rest: the recovery ends (RFC 6582: cwnd
	 * is one segment more than the flight, here none). */
	script_inject(&s, 115, ". seq 1 ack 14481 win 512 <TS val 215 ecr 100>");
	i = script_info(&s);
	assert_false(i.in_recovery);
	assert_int_equal(i.cwnd, 2 * 1448);
	/* A D-SACK of segment 5, which went out once: nothing to undo. */
	script_inject(&s, 120, ". seq 1 ack 14481 win 512 "
			"<nop,nop,TS val 220 ecr 100,nop,nop,sack 5793:7241>");
	assert_int_equal(script_info(&s).cwnd, 2 * 1448);
	assert_int_equal(tcp_stack_stats(s.stack)->recoveries_undone, 0);
	/* The retransmission arrives as a duplicate: given back. */
	script_inject(&s, 123, ". seq 1 ack 14481 win 512 "
			"<nop,nop,TS val 223 ecr 113,nop,nop,sack 1449:2897>");
	i = script_info(&s);
	assert_int_equal(i.cwnd, before.cwnd);
	assert_int_equal(i.ssthresh, before.ssthresh);
	assert_int_equal(tcp_stack_stats(s.stack)->recoveries_undone, 1);
	/* Only once: the same report again changes nothing. */
	script_inject(&s, 124, ". seq 1 ack 14481 win 512 "
			"<nop,nop,TS val 224 ecr 113,nop,nop,sack 1449:2897>");
	assert_int_equal(tcp_stack_stats(s.stack)->recoveries_undone, 1);
	script_expect_none(&s, 200);
	script_stop(&s);
}

/* RFC 6675 NextSeg() rule 3: segments 2 and 8 of 10 are lost. Segment 2
 * has six segments SACKed above it and is lost; segment 8 has one and is
 * not, yet once segment 2 is resent cwnd - pipe still leaves a segment and
 * there is no new data: segment 8 goes then (HighRxt moves past it), not
 * after more ACKs or a timeout. Then pipe fills cwnd. */
static void
test_sack_rule3_unlost_hole(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	/* The cwnd - pipe arithmetic below is NewReno's (FlightSize / 2). */
	cfg.congestion_control = TCP_CC_NEWRENO;
	script_start(&s, &cfg);
	passive_ts(&s);
	send_full_segments(&s, 100, 10, 1448);
	script_inject(&s, 110, ". seq 1 ack 1449 win 512 <TS val 210 ecr 100>");
	script_inject(&s, 111, ". seq 1 ack 1449 win 512 "
			"<nop,nop,TS val 211 ecr 100,nop,nop,sack 2897:4345>");
	script_inject(&s, 112, ". seq 1 ack 1449 win 512 "
			"<nop,nop,TS val 212 ecr 100,nop,nop,sack 2897:5793>");
	script_expect_none(&s, 112);
	/* The third duplicate, and segments 5-7 and 9 SACKed. */
	script_inject(&s, 113, ". seq 1 ack 1449 win 512 "
			"<nop,nop,TS val 213 ecr 100,nop,nop,sack 11585:13033 2897:10137>");
	script_expect(&s, 113, ". seq 1449 ack 1 len 1448");
	script_expect(&s, 113, ". seq 10137 ack 1 len 1448");
	script_expect_none(&s, 114);
	i = script_info(&s);
	assert_true(i.in_recovery);
	assert_int_equal(tcp_stack_stats(s.stack)->sack_retransmits, 1);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmitted_segments, 2);
	/* Both arrive, and segment 10 was never lost: all acknowledged. */
	script_inject(&s, 123, ". seq 1 ack 14481 win 512 <TS val 223 ecr 113>");
	i = script_info(&s);
	assert_false(i.in_recovery);
	assert_int_equal(i.snd_una, i.snd_max);
	script_expect_none(&s, 1000);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmit_timeouts, 0);
	script_stop(&s);
}

/* RFC 8985 7 tail loss probe and RFC 5827 early retransmit: the last two
 * of five segments are lost and nothing follows them, so no duplicate ACK
 * can come. 2 SRTT after the last ACK the last segment goes out again as a
 * probe; its SACK leaves one segment unacknowledged below one SACKed: with
 * two segments out that is early retransmit's threshold, and the hole is
 * repaired without a timeout. */
static void
test_tail_loss_probe(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	passive_ts(&s);		/* RTT 10 ms: SRTT 10 ms, RTO 200 ms (minimum) */
	send_full_segments(&s, 100, 5, 1448);
	script_inject(&s, 110, ". seq 1 ack 4345 win 512 <TS val 210 ecr 100>");
	assert_int_equal(script_info(&s).srtt_ns, 10 * MS);
	/* PTO = 2 SRTT after the ACK. */
	script_expect_none(&s, 129);
	script_expect(&s, 130, "P. seq 5793 ack 1 len 1448");
	assert_int_equal(tcp_stack_stats(s.stack)->loss_probes, 1);
	/* The probe's SACK: segment 3 is the only one missing of two out. */
	script_inject(&s, 140, ". seq 1 ack 4345 win 512 <nop,nop,TS val 240 ecr 130,nop,nop,"
			"sack 5793:7241>");
	script_expect(&s, 140, ". seq 4345 ack 1 len 1448");
	i = script_info(&s);
	assert_true(i.in_recovery);
	script_inject(&s, 150, ". seq 1 ack 7241 win 512 <TS val 250 ecr 140>");
	i = script_info(&s);
	assert_false(i.in_recovery);
	assert_int_equal(i.snd_una, i.snd_max);
	script_expect_none(&s, 1000);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmit_timeouts, 0);
	assert_int_equal(tcp_stack_stats(s.stack)->sack_recoveries, 1);
	script_stop(&s);
}

/* A loss probe the peer did not need: it reports the duplicate (RFC 2883
 * D-SACK) and cwnd stays; our own stack sends such reports. */
static void
test_loss_probe_spurious_dsack(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	uint32_t cwnd;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	passive_ts(&s);
	script_advance(&s, 100);
	script_send(&s, 2 * 1448);
	script_expect(&s, 100, ". seq 1 ack 1 len 1448");
	script_expect(&s, 100, "P. seq 1449 ack 1 len 1448");
	cwnd = script_info(&s).cwnd;
	/* The ACKs are late: the probe goes out 2 SRTT after the send. */
	script_expect_none(&s, 119);
	script_expect(&s, 120, "P. seq 1449 ack 1 len 1448");
	/* Both the original and the probe arrived: the ACK of the data, then
	 * the peer's D-SACK for the second copy. */
	script_inject(&s, 125, ". seq 1 ack 2897 win 512 <TS val 225 ecr 100>");
	script_inject(&s, 126, ". seq 1 ack 2897 win 512 <nop,nop,TS val 226 ecr 120,nop,nop,"
			"sack 1449:2897>");
	assert_int_equal(tcp_stack_stats(s.stack)->loss_probes_spurious, 1);
	assert_int_equal(tcp_stack_stats(s.stack)->loss_probe_repairs, 0);
	assert_true(script_info(&s).cwnd >= cwnd);
	/* Receiving side: a segment that arrives twice is reported. */
	script_inject(&s, 200, ". seq 1 ack 2897 win 512 len 100 <TS val 300 ecr 126>");
	script_inject(&s, 201, ". seq 1 ack 2897 win 512 len 100 <TS val 301 ecr 126>");
	/* ts_recent stays: a duplicate updates no TS.Recent (RFC 7323 4.3). */
	script_expect(&s, 201, ". seq 2897 ack 101 <TS val 201 ecr 300,sack 1:101>");
	assert_int_equal(tcp_stack_stats(s.stack)->dsacks_sent, 1);
	script_read(&s, 100);
	script_stop(&s);
}

/* Time-based loss detection (RACK's reordering window, RFC 8985 6.2): the
 * first of six segments is lost, two behind it are SACKed and nothing
 * more comes (the rest are lost too). Two duplicates and 2 x SMSS SACKed
 * are below every count-based threshold, and six segments out rule out
 * early retransmit; a reordering window (SRTT / 4) after the first SACK
 * the hole counts as lost. */
static void
test_reorder_window_recovery(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	passive_ts(&s);		/* SRTT 10 ms: window 2.5 ms */
	send_full_segments(&s, 100, 6, 1448);
	script_inject(&s, 110, ". seq 1 ack 1 win 512 <nop,nop,TS val 210 ecr 100,nop,nop,"
			"sack 1449:2897>");
	script_inject(&s, 111, ". seq 1 ack 1 win 512 <nop,nop,TS val 211 ecr 100,nop,nop,"
			"sack 1449:4345>");
	assert_false(script_info(&s).in_recovery);
	script_expect_none(&s, 112);
	script_expect(&s, 113, ". seq 1 ack 1 len 1448");
	assert_true(script_info(&s).in_recovery);
	assert_int_equal(tcp_stack_stats(s.stack)->reorder_recoveries, 1);
	script_inject(&s, 125, ". seq 1 ack 8689 win 512 <TS val 225 ecr 113>");
	assert_false(script_info(&s).in_recovery);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmit_timeouts, 0);
	script_stop(&s);
}

/* After a timeout SND.NXT goes back to SND.UNA. An ACK sent then must
 * carry SND.MAX: with SND.NXT it would fall below what the peer received
 * and be dropped there unread (two stacks in that state deadlocked in
 * test_tcp_wire). */
static void
test_ack_after_timeout_carries_snd_max(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_tail_loss_probe = true;	/* the RTO's go-back-N alone */
	script_start(&s, &cfg);
	passive_ts(&s);
	script_advance(&s, 100);
	script_send(&s, 3 * 1448);
	script_expect(&s, 100, ". seq 1 ack 1 len 1448");
	script_expect(&s, 100, ". seq 1449 ack 1 len 1448");
	script_expect(&s, 100, "P. seq 2897 ack 1 len 1448");
	/* RTO 200 ms: the first segment again, cwnd one segment. */
	script_expect_none(&s, 299);
	script_expect(&s, 300, ". seq 1 ack 1 len 1448");
	assert_int_equal(script_info(&s).snd_nxt, script_info(&s).iss + 1449);
	/* The peer sends two full segments (it has all three of ours but
	 * its ACKs were lost): our ACK goes out at once, at SND.MAX. */
	script_inject(&s, 310, ". seq 1 ack 1 win 512 len 1448 <TS val 310 ecr 100>");
	script_inject(&s, 311, ". seq 1449 ack 1 win 512 len 1448 <TS val 311 ecr 100>");
	script_expect(&s, 311, ". seq 4345 ack 2897");
	script_read(&s, 2896);
	script_stop(&s);
}

static void
test_zero_window_persist(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	script_listen(&s);
	script_inject(&s, 0, "S seq 0 win 1000 <mss 1460>");
	script_expect(&s, 0, "S. seq 0 ack 1 <mss 1460>");
	script_inject(&s, 10, ". seq 1 ack 1 win 1000");
	script_events(&s);
	script_advance(&s, 100);
	script_send(&s, 3000);
	script_expect(&s, 100, ". seq 1 ack 1 len 1000");
	script_expect_none(&s, 150);
	script_inject(&s, 200, ". seq 1 ack 1001 win 0");
	assert_int_equal(script_info(&s).rto_ns, 200 * MS);
	/* Persist probes of one byte with exponential back-off. */
	script_expect_none(&s, 399);
	script_expect(&s, 400, ". seq 1001 ack 1 len 1");
	script_inject(&s, 410, ". seq 1 ack 1001 win 0");
	script_expect_none(&s, 799);
	script_expect(&s, 800, ". seq 1001 ack 1 len 1");
	script_inject(&s, 810, ". seq 1 ack 1001 win 0");
	script_expect_none(&s, 1599);
	script_expect(&s, 1600, ". seq 1001 ack 1 len 1");
	/* The window opens: the rest goes out, probe byte included. */
	script_inject(&s, 1650, ". seq 1 ack 1001 win 5000");
	script_expect(&s, 1650, ". seq 1001 ack 1 len 1460");
	script_expect(&s, 1650, "P. seq 2461 ack 1 len 540");
	script_inject(&s, 1700, ". seq 1 ack 3001 win 5000");
	script_expect_none(&s, 5000);
	assert_int_equal(tcp_stack_stats(s.stack)->persist_probes, 3);
	assert_int_equal(tcp_stack_stats(s.stack)->fast_retransmits, 0);
	script_stop(&s);
}

/* A passive open with a 4000-byte receive buffer (no timestamps), then
 * four 1000-byte segments at 20 ms that nobody reads: the window closes. */
static void
fill_receive_buffer(struct tcp_script *s)
{
	struct tcp_stack_config cfg;

	script_config(&cfg);
	cfg.no_timestamps = true;
	cfg.recv_buffer = 4000;
	script_start(s, &cfg);
	script_listen(s);
	script_inject(s, 0, "S seq 0 win 65535 <mss 1000>");
	script_expect(s, 0, "S. seq 0 ack 1 win 4000 <mss 1460>");
	script_inject(s, 10, ". seq 1 ack 1");
	script_events(s);
	for (unsigned k = 0; k < 4; k++) {
		char line[64];

		snprintf(line, sizeof(line), ". seq %u ack 1 len 1000", 1 + 1000 * k);
		script_inject(s, 20, line);
	}
	script_expect(s, 20, ". seq 1 ack 2001 win 2000");
	script_expect(s, 20, ". seq 1 ack 4001 win 0");
}

static void
test_receive_window_closes_and_reopens(void **state)
{
	struct tcp_script s;

	(void)state;
	fill_receive_buffer(&s);
	/* Beyond a zero window: not accepted, ACKed. */
	script_inject(&s, 30, ". seq 4001 ack 1 len 100");
	script_expect(&s, 30, ". seq 1 ack 4001 win 0");
	/* The reader takes everything: a window update goes out at once. */
	script_read(&s, 4000);
	script_expect(&s, 30, ". seq 1 ack 4001 win 4000");
	script_stop(&s);
}

/* A reader with a byte budget (the relay's rate limit) takes whole
 * segments up to it; the rest stays queued, in order, and keeps the window
 * closed by its size until it is read. */
static void
test_receive_at_most(void **state)
{
	struct tcp_script s;
	struct rte_mbuf *m;

	(void)state;
	fill_receive_buffer(&s);
	assert_int_equal(script_info(&s).recv_queued, 4000);
	/* 1500 bytes allowed: the segment that crosses the budget comes
	 * whole, the window opens by what was taken. */
	script_read_at_most(&s, 1500, 2000);
	script_expect(&s, 20, ". seq 1 ack 4001 win 2000");
	assert_int_equal(script_info(&s).recv_queued, 2000);
	/* A budget smaller than a segment still takes one. */
	script_read_at_most(&s, 1, 1000);
	assert_int_equal(script_info(&s).recv_queued, 1000);
	/* The window is what the buffer holds less what is queued: a new
	 * segment fits in the 2000 advertised, not beyond (its ACK is a
	 * delayed one). */
	script_inject(&s, 30, ". seq 4001 ack 1 len 1000");
	script_expect(&s, 30 + 40, ". seq 1 ack 5001 win 2000");
	script_read_at_most(&s, 5000, 2000);
	assert_int_equal(script_info(&s).recv_queued, 0);
	assert_int_equal(tcp_recv_at_most(s.stack, s.conn, 100, &m, 30 * MS), 0);
	assert_null(m);
	script_stop(&s);
}

static void
test_rst_rules(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460,sackOK,nop,wscale 7>", 10);
	/* RFC 5961 3.2: in window but not exact: challenge ACK. */
	script_inject(&s, 20, "R seq 50");
	script_expect(&s, 20, ". seq 1 ack 1");
	assert_int_equal(script_info(&s).state, TCP_STATE_ESTABLISHED);
	/* Out of window: silently dropped. */
	script_inject(&s, 30, "R seq 300000");
	script_expect_none(&s, 30);
	/* RFC 5961 4.2: SYN in a synchronized state: challenge ACK. */
	script_inject(&s, 40, "S seq 5");
	script_expect(&s, 40, ". seq 1 ack 1");
	/* RFC 5961 5.2: an ACK for data never sent: ACK, drop. */
	script_inject(&s, 45, ". seq 1 ack 5000 len 10");
	script_expect(&s, 45, ". seq 1 ack 1");
	assert_int_equal(script_info(&s).rcv_nxt - script_info(&s).irs, 1);
	/* Bad checksum: counted, nothing else. */
	script_inject(&s, 47, "R seq 1 badcsum");
	assert_int_equal(tcp_stack_stats(s.stack)->drop_checksum, 1);
	assert_int_equal(script_info(&s).state, TCP_STATE_ESTABLISHED);
	/* Exact sequence number: reset. */
	script_inject(&s, 50, "R seq 1");
	script_expect_none(&s, 100);
	assert_int_equal(script_events(&s), 1u << TCP_EVENT_RESET);
	assert_int_equal(s.last_event_error, -ECONNRESET);
	assert_int_equal(script_info(&s).state, TCP_STATE_CLOSED);
	assert_int_equal(tcp_stack_stats(s.stack)->challenge_acks, 3);
	assert_int_equal(tcp_stack_stats(s.stack)->resets_received, 1);
	assert_int_equal(tcp_close(s.stack, s.conn, 100 * MS), 0);
	assert_int_equal(tcp_conn_info(s.stack, s.conn, &(struct tcp_conn_info){0}), -EBADF);
	/* No socket: RST. */
	s.local_port = 9999;
	s.local_iss = 0;
	script_inject(&s, 110, "S seq 0");
	script_expect(&s, 110, "R. seq 0 ack 1");
	script_stop(&s);
}

static void
test_time_wait(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460>", 10);
	script_advance(&s, 100);
	assert_int_equal(tcp_close(s.stack, s.conn, 100 * MS), 0);
	script_expect(&s, 100, "F. seq 1 ack 1");
	script_inject(&s, 110, ". seq 1 ack 2");
	assert_int_equal(script_info(&s).state, TCP_STATE_FIN_WAIT_2);
	script_inject(&s, 120, "F. seq 1 ack 2");
	script_expect(&s, 120, ". seq 2 ack 2");
	assert_int_equal(script_info(&s).state, TCP_STATE_TIME_WAIT);
	/* RFC 1337: RST ignored in TIME-WAIT. */
	script_inject(&s, 1000, "R seq 2");
	assert_int_equal(script_info(&s).state, TCP_STATE_TIME_WAIT);
	/* A retransmitted FIN is ACKed again and restarts 2MSL. */
	script_inject(&s, 5000, "F. seq 1 ack 2");
	script_expect(&s, 5000, ". seq 2 ack 2");
	script_expect_none(&s, 64999);
	i = script_info(&s);
	assert_int_equal(i.state, TCP_STATE_TIME_WAIT);
	script_advance(&s, 65000);
	assert_int_equal(tcp_conn_info(s.stack, s.conn, &i), -EBADF);
	assert_int_equal(tcp_stack_stats(s.stack)->time_wait_expired, 1);
	script_stop(&s);
}

static void
test_passive_close(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460>", 10);
	script_inject(&s, 20, "F. seq 1 ack 1 len 10");
	script_expect(&s, 20, ". seq 1 ack 12");
	assert_int_equal(script_events(&s), (1u << TCP_EVENT_READABLE) | (1u << TCP_EVENT_PEER_CLOSED));
	assert_int_equal(script_info(&s).state, TCP_STATE_CLOSE_WAIT);
	script_read(&s, 10);
	script_advance(&s, 30);
	assert_int_equal(tcp_close(s.stack, s.conn, 30 * MS), 0);
	script_expect(&s, 30, "F. seq 1 ack 12");
	script_inject(&s, 40, ". seq 12 ack 2");
	assert_int_equal(tcp_conn_info(s.stack, s.conn, &(struct tcp_conn_info){0}), -EBADF);
	script_stop(&s);
}

static void
test_simultaneous_close(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460>", 10);
	script_advance(&s, 100);
	assert_int_equal(tcp_close(s.stack, s.conn, 100 * MS), 0);
	script_expect(&s, 100, "F. seq 1 ack 1");
	script_inject(&s, 110, "F. seq 1 ack 1");
	assert_int_equal(script_info(&s).state, TCP_STATE_CLOSING);
	script_expect(&s, 110, ". seq 2 ack 2");
	script_inject(&s, 120, ". seq 2 ack 2");
	assert_int_equal(script_info(&s).state, TCP_STATE_TIME_WAIT);
	script_advance(&s, 60120);
	assert_int_equal(tcp_conn_info(s.stack, s.conn, &(struct tcp_conn_info){0}), -EBADF);
	script_stop(&s);
}

static void
test_simultaneous_open(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	script_connect(&s);
	script_expect(&s, 0, "S seq 0");
	script_inject(&s, 10, "S seq 0 win 65535 <mss 1460>");
	assert_int_equal(script_info(&s).state, TCP_STATE_SYN_RECEIVED);
	script_expect(&s, 10, "S. seq 0 ack 1 <mss 1460>");
	script_inject(&s, 20, ". seq 1 ack 1");
	assert_int_equal(script_info(&s).state, TCP_STATE_ESTABLISHED);
	assert_true(script_events(&s) & (1u << TCP_EVENT_CONNECTED));
	script_stop(&s);
}

static void
test_paws(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct rte_mbuf *m;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	passive_ts(&s);
	/* RFC 7323 5.3: TSval older than TS.Recent: dropped, ACKed. */
	script_inject(&s, 50, "P. seq 1 ack 1 win 512 len 100 <TS val 50 ecr 0>");
	script_expect(&s, 50, ". seq 1 ack 1 <TS val 50 ecr 110>");
	assert_int_equal(tcp_recv(s.stack, s.conn, &m, 50 * MS), 0);
	assert_int_equal(tcp_stack_stats(s.stack)->drop_paws, 1);
	script_inject(&s, 60, "P. seq 1 ack 1 win 512 len 100 <TS val 120 ecr 0>");
	script_expect(&s, 100, ". seq 1 ack 101 <TS val 100 ecr 120>");
	script_read(&s, 100);
	script_stop(&s);
}

static void
test_syn_cookies(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_header h;
	struct tcp_conn_info i;
	uint32_t len;

	(void)state;
	script_config(&cfg);
	cfg.syn_queue_max = 2;
	script_start(&s, &cfg);
	script_listen(&s);
	for (unsigned k = 0; k < 2; k++) {
		s.remote_port = (uint16_t)(40000 + k);
		script_inject(&s, 0, "S seq 0 win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
		script_pop(&s, 0, &h, &len);
		assert_int_equal(h.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	}
	assert_int_equal(tcp_stack_stats(s.stack)->syn_cookies_sent, 0);
	/* The queue is full: a stateless SYN-ACK with a cookie. */
	s.remote_port = 40002;
	script_inject(&s, 5, "S seq 0 win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
	script_pop(&s, 5, &h, &len);
	assert_int_equal(h.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	assert_int_equal(h.ack, s.remote_isn + 1);
	assert_int_equal(h.options.present, TCP_OPT_MSS | TCP_OPT_SACK_PERMITTED |
			TCP_OPT_TIMESTAMP | TCP_OPT_WSCALE);
	assert_int_equal(tcp_stack_stats(s.stack)->syn_cookies_sent, 1);
	s.local_iss = h.seq;
	s.ts_base = h.options.ts_val;
	s.have_conn = false;
	script_inject(&s, 20, ". seq 1 ack 1 win 512 <TS val 110 ecr 0>");
	assert_true(script_events(&s) & (1u << TCP_EVENT_ACCEPTED));
	assert_true(s.have_conn);
	i = script_info(&s);
	assert_int_equal(i.state, TCP_STATE_ESTABLISHED);
	assert_int_equal(i.snd_wscale, 7);
	assert_int_equal(i.mss, 1448);
	assert_true(i.sack_permitted && i.timestamps);
	assert_int_equal(i.snd_wnd, 512 << 7);
	assert_int_equal(tcp_stack_stats(s.stack)->syn_cookies_accepted, 1);
	script_inject(&s, 30, "P. seq 1 ack 1 win 512 len 300 <TS val 120 ecr 0>");
	script_read(&s, 300);
	/* The window grows past the SYN-ACK's unscaled 65535: update. */
	script_expect(&s, 30, ". seq 1 ack 301 win 65535");
	/* A forged cookie: reset. */
	s.remote_port = 40003;
	s.local_iss = 0x12345678;
	script_inject(&s, 40, ". seq 1 ack 1 win 512 <TS val 110 ecr 0>");
	script_expect(&s, 40, "R seq 1");
	assert_int_equal(tcp_stack_stats(s.stack)->syn_cookies_rejected, 1);
	script_stop(&s);
}

static void
test_close_with_unread_data_resets(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460>", 10);
	script_inject(&s, 20, "P. seq 1 ack 1 len 100");
	script_expect(&s, 60, ". seq 1 ack 101");
	/* RFC 2525 2.17: closing with 100 bytes unread: RST, not FIN. */
	script_advance(&s, 70);
	assert_int_equal(tcp_close(s.stack, s.conn, 70 * MS), 0);
	script_expect(&s, 70, "R. seq 1 ack 101");
	script_expect_none(&s, 5000);
	assert_int_equal(tcp_stack_stats(s.stack)->resets_unread_at_close, 1);
	assert_int_equal(tcp_conn_info(s.stack, s.conn, &(struct tcp_conn_info){0}), -EBADF);
	/* The peer's next segment finds no connection. */
	script_inject(&s, 5010, ". seq 101 ack 1 len 10");
	script_expect(&s, 5010, "R seq 1");
	script_stop(&s);
}

static void
test_data_after_close_resets(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	const struct tcp_stats *st;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	st = tcp_stack_stats(s.stack);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460>", 10);
	script_inject(&s, 20, "P. seq 1 ack 1 len 100");
	script_read(&s, 100);
	script_advance(&s, 30);
	assert_int_equal(tcp_close(s.stack, s.conn, 30 * MS), 0);
	script_expect(&s, 30, "F. seq 1 ack 101");
	script_inject(&s, 40, ". seq 101 ack 2");
	assert_int_equal(script_info(&s).state, TCP_STATE_FIN_WAIT_2);
	/* A retransmission of bytes already received: only an ACK. */
	script_inject(&s, 50, "P. seq 1 ack 2 len 100");
	script_expect(&s, 50, ". seq 2 ack 101");
	assert_int_equal(script_info(&s).state, TCP_STATE_FIN_WAIT_2);
	/* New data nobody will read: RST from the segment's ACK (RFC 1122
	 * 4.2.2.13, as Linux), and the TCB is gone. */
	script_inject(&s, 60, "P. seq 101 ack 2 len 50");
	script_expect(&s, 60, "R seq 2");
	script_expect_none(&s, 1000);
	assert_int_equal(st->resets_data_after_close, 1);
	assert_int_equal(st->drop_after_close, 1);
	assert_int_equal(tcp_conn_info(s.stack, s.conn, &(struct tcp_conn_info){0}), -EBADF);
	/* The same in FIN-WAIT-1: data before our FIN is acknowledged. */
	s.remote_port = 40001;
	passive_again(&s, 1010);
	script_advance(&s, 1020);
	assert_int_equal(tcp_close(s.stack, s.conn, 1020 * MS), 0);
	script_expect(&s, 1020, "F. seq 1 ack 1");
	assert_int_equal(script_info(&s).state, TCP_STATE_FIN_WAIT_1);
	script_inject(&s, 1030, "P. seq 1 ack 1 len 10");
	script_expect(&s, 1030, "R seq 1");
	assert_int_equal(st->resets_data_after_close, 2);
	/* A peer that only sends its FIN closes cleanly (no RST). */
	s.remote_port = 40002;
	passive_again(&s, 2010);
	script_advance(&s, 2020);
	assert_int_equal(tcp_close(s.stack, s.conn, 2020 * MS), 0);
	script_expect(&s, 2020, "F. seq 1 ack 1");
	script_inject(&s, 2030, "F. seq 1 ack 2");
	script_expect(&s, 2030, ". seq 2 ack 2");
	assert_int_equal(script_info(&s).state, TCP_STATE_TIME_WAIT);
	assert_int_equal(st->resets_data_after_close, 2);
	script_stop(&s);
}

static void
test_limited_transmit(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;
	struct tcp_conn_info i;
	char line[64];

	(void)state;
	script_config(&cfg);
	/* The window after recovery below is NewReno's. */
	cfg.congestion_control = TCP_CC_NEWRENO;
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460>", 10);
	script_advance(&s, 100);
	/* Twelve segments queued; the initial window sends ten. */
	script_send(&s, 12 * 1460);
	for (unsigned k = 0; k < 10; k++) {
		snprintf(line, sizeof(line), ". seq %u ack 1 len 1460", 1 + 1460 * k);
		script_expect(&s, 100, line);
	}
	script_expect_none(&s, 150);
	/* RFC 3042: the first two duplicate ACKs each release one new
	 * segment, cwnd unchanged. */
	script_inject(&s, 150, ". seq 1 ack 1");
	script_expect(&s, 150, ". seq 14601 ack 1 len 1460");
	assert_int_equal(script_info(&s).cwnd, 14600);
	script_inject(&s, 151, ". seq 1 ack 1");
	script_expect(&s, 151, "P. seq 16061 ack 1 len 1460");
	assert_int_equal(script_info(&s).cwnd, 14600);
	assert_int_equal(tcp_stack_stats(s.stack)->limited_transmits, 2);
	/* The third: fast retransmit, ssthresh from the whole flight. */
	script_inject(&s, 152, ". seq 1 ack 1");
	script_expect(&s, 152, ". seq 1 ack 1 len 1460");
	i = script_info(&s);
	assert_true(i.in_recovery);
	assert_int_equal(i.ssthresh, 12 * 1460 / 2);
	script_inject(&s, 160, ". seq 1 ack 17521");
	i = script_info(&s);
	assert_false(i.in_recovery);
	assert_int_equal(i.send_queued, 0);
	script_expect_none(&s, 3000);
	assert_int_equal(tcp_stack_stats(s.stack)->fast_retransmits, 1);
	assert_int_equal(tcp_stack_stats(s.stack)->retransmit_timeouts, 0);
	script_stop(&s);
}

static void
test_fast_retransmit_within_snd_max(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	cfg.no_timestamps = true;
	script_start(&s, &cfg);
	passive_plain(&s, "S seq 0 win 65535 <mss 1460,sackOK>", 10);
	/* A hole in the peer's data: our ACKs carry a SACK block, which
	 * takes 12 bytes of each data segment (1448 of 1460). The peer's
	 * window holds one such segment. */
	script_inject(&s, 20, ". seq 101 ack 1 win 1448 len 100");
	script_expect(&s, 20, ". seq 1 ack 1 <sack 101:201>");
	script_advance(&s, 30);
	script_send(&s, 3000);
	script_expect(&s, 30, ". seq 1 ack 1 len 1448 <sack 101:201>");
	script_expect_none(&s, 39);
	script_inject(&s, 40, ". seq 1 ack 1 win 1448 len 100");
	script_expect(&s, 40, ". seq 1449 ack 201 <>");
	/* The segment is lost. Its fast retransmission has no SACK block
	 * to make room for, yet must not grow past SND.MAX: the peer's ACK
	 * of the extra bytes would look like an ACK of unsent data and be
	 * dropped, and the connection would time out. */
	for (unsigned k = 0; k < 3; k++)
		script_inject(&s, 50, ". seq 201 ack 1 win 1448");
	script_expect(&s, 50, ". seq 1 ack 201 len 1448 <>");
	script_expect_none(&s, 55);
	script_inject(&s, 60, ". seq 201 ack 1449 win 1448");
	script_expect(&s, 60, ". seq 1449 ack 201 len 1448");
	script_inject(&s, 70, ". seq 201 ack 2897 win 1448");
	script_expect(&s, 70, "P. seq 2897 ack 201 len 104");
	script_inject(&s, 80, ". seq 201 ack 3001 win 1448");
	assert_int_equal(script_info(&s).send_queued, 0);
	assert_false(script_info(&s).in_recovery);
	script_stop(&s);
}

static void
test_tiny_peer_mss(void **state)
{
	struct tcp_stack_config cfg;
	struct tcp_script s;

	(void)state;
	script_config(&cfg);
	script_start(&s, &cfg);
	script_listen(&s);
	/* MSS 8 with timestamps: 64 bytes of payload per segment (the
	 * floor), not 8 - 12 wrapped around to 65524. */
	script_inject(&s, 0, "S seq 0 win 65535 <mss 8,TS val 100 ecr 0>");
	script_expect(&s, 0, "S. seq 0 ack 1 <mss 1460,TS val 0 ecr 100>");
	script_inject(&s, 10, ". seq 1 ack 1 <TS val 110 ecr 0>");
	assert_true(script_events(&s) & (1u << TCP_EVENT_ACCEPTED));
	assert_int_equal(script_info(&s).mss, 64);
	script_advance(&s, 20);
	script_send(&s, 100);
	script_expect(&s, 20, ". seq 1 ack 1 len 64");
	script_expect(&s, 20, "P. seq 65 ack 1 len 36");
	script_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passive_open_data_delayed_ack),
		cmocka_unit_test(test_active_open),
		cmocka_unit_test(test_syn_retransmit_and_timeout),
		cmocka_unit_test(test_rto_backoff_karn),
		cmocka_unit_test(test_fast_retransmit_newreno),
		cmocka_unit_test(test_sack_recovery_two_way),
		cmocka_unit_test(test_cubic_reductions),
		cmocka_unit_test(test_undo_after_reordering),
		cmocka_unit_test(test_sack_rule3_unlost_hole),
		cmocka_unit_test(test_tail_loss_probe),
		cmocka_unit_test(test_loss_probe_spurious_dsack),
		cmocka_unit_test(test_reorder_window_recovery),
		cmocka_unit_test(test_ack_after_timeout_carries_snd_max),
		cmocka_unit_test(test_out_of_order_sack),
		cmocka_unit_test(test_zero_window_persist),
		cmocka_unit_test(test_receive_window_closes_and_reopens),
		cmocka_unit_test(test_receive_at_most),
		cmocka_unit_test(test_rst_rules),
		cmocka_unit_test(test_time_wait),
		cmocka_unit_test(test_passive_close),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_paws),
		cmocka_unit_test(test_syn_cookies),
		cmocka_unit_test(test_close_with_unread_data_resets),
		cmocka_unit_test(test_data_after_close_resets),
		cmocka_unit_test(test_limited_transmit),
		cmocka_unit_test(test_fast_retransmit_within_snd_max),
		cmocka_unit_test(test_tiny_peer_mss),
	};

	script_pool();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
