/* CUBIC congestion control (RFC 9438) for dataplane/tcp: the window
 * arithmetic alone, with time passed in, so that it is tested on its own
 * (tests/unit/test_tcp_cubic.c). The stack calls it where NewReno's
 * arithmetic is (tcp_input.c, tcp_timer.c): at a congestion event, at a
 * retransmission timeout, and on an ACK in congestion avoidance.
 *
 * Windows are in bytes, as the stack keeps them; the RFC's formulas are
 * in segments (SMSS) and seconds, and are computed so here.
 *
 * Why it matters: a relay's links cross the internet. After a loss at a
 * window of W segments NewReno regains one segment per round trip, so a
 * 10 Gbit/s link at 100 ms (W about 86 000) needs hours to refill; CUBIC
 * returns to W in K = cbrt(W * (1 - beta) / C) seconds (about 40 s there)
 * whatever the round trip, as Linux (tor's own TCP) does by default. */
#ifndef HSRELAY_DATAPLANE_TCP_CUBIC_H
#define HSRELAY_DATAPLANE_TCP_CUBIC_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 9438 4.6 (beta_cubic) and 4.2 (C, in segments per second cubed). */
#define TCP_CUBIC_BETA 0.7
#define TCP_CUBIC_C 0.4

struct tcp_cubic {
	/* 4.7: the window (segments) before the last reduction, lowered by
	 * fast convergence when it fell short of the one before. */
	double w_max;
	/* 4.3: cwnd (segments) when ssthresh was last set; once W_est
	 * reaches it, alpha_cubic is 1. */
	double cwnd_prior;
	/* The current congestion avoidance stage (in_stage: one has begun
	 * since the last reduction or limited ACK): its start (ns), K (s),
	 * the window the curve runs through at K (segments: W_max, or the
	 * stage's first window when above it or after a timeout, 4.8) and
	 * W_est, the Reno-friendly estimate (4.3). */
	bool in_stage;
	uint64_t epoch_start;
	double k;
	double origin;
	double w_est;
	/* Increase earned by ACKs but short of a whole byte, carried over. */
	double pending;
	/* 4.8: the next stage is the first after a timeout. */
	bool after_timeout;
};

/* A new connection: no congestion event yet. */
void tcp_cubic_reset(struct tcp_cubic *cc);

/* 4.6 and 4.7: a congestion event (fast retransmit, SACK recovery, a loss
 * probe that repaired a loss) while cwnd and flight (bytes in flight) were
 * as given. Returns the new ssthresh, flight * beta_cubic but at least
 * 2 MSS; the caller sets cwnd from it as its recovery requires. */
uint32_t tcp_cubic_congestion_event(struct tcp_cubic *cc, uint32_t cwnd, uint32_t flight,
		uint32_t mss);

/* 4.8: a retransmission timeout (the first of a series). Returns ssthresh
 * as above; the caller sets cwnd to one segment (RFC 5681). The next
 * congestion avoidance stage grows from its first window (K = 0). */
uint32_t tcp_cubic_timeout(struct tcp_cubic *cc, uint32_t cwnd, uint32_t flight, uint32_t mss);

/* 4.2 to 4.5: an ACK of acked new bytes at now in congestion avoidance
 * (cwnd >= ssthresh) while the sender was cwnd-limited, with the smoothed
 * RTT (0 before the first sample). Returns the new cwnd (never smaller):
 * W_est in the Reno-friendly region, else (target - cwnd) / cwnd segments
 * per segment acknowledged, target being W_cubic(t + RTT) kept within
 * [cwnd, 1.5 cwnd]. */
uint32_t tcp_cubic_ack(struct tcp_cubic *cc, uint32_t cwnd, uint32_t acked, uint32_t mss,
		uint64_t now, uint64_t srtt_ns);

/* An ACK in congestion avoidance that found the sender not cwnd-limited
 * (application- or receiver-limited): cwnd does not grow (RFC 9438 5.8,
 * after RFC 7661), and the stage starts again at the next cwnd-limited
 * ACK, from the window then, so time spent limited elsewhere does not
 * count as time since the last reduction. */
void tcp_cubic_not_limited(struct tcp_cubic *cc);

#endif
