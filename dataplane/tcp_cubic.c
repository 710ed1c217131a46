/* CUBIC (RFC 9438): see tcp_cubic.h. */
#include "dataplane/tcp_cubic.h"

#include <math.h>
#include <string.h>

#define NS_PER_S 1e9
/* 4.3: alpha_cubic = 3 (1 - beta) / (1 + beta), the additive increase
 * that gives the average window of Reno's AIMD(1, 0.5). */
#define ALPHA_CUBIC (3.0 * (1.0 - TCP_CUBIC_BETA) / (1.0 + TCP_CUBIC_BETA))

void
tcp_cubic_reset(struct tcp_cubic *cc)
{
	memset(cc, 0, sizeof(*cc));
}

/* 4.6: ssthresh = flight_size * beta_cubic, at least 2 MSS. */
static uint32_t
reduced_ssthresh(uint32_t flight, uint32_t mss)
{
	double ssthresh = (double)flight * TCP_CUBIC_BETA;

	return ssthresh < 2.0 * mss ? 2 * mss : (uint32_t)ssthresh;
}

uint32_t
tcp_cubic_congestion_event(struct tcp_cubic *cc, uint32_t cwnd, uint32_t flight, uint32_t mss)
{
	double segments = (double)cwnd / mss;

	/* 4.7 fast convergence: a window that fell short of the last W_max
	 * means the flow's share shrank; plateau lower to release more. */
	cc->w_max = segments < cc->w_max ? segments * (1.0 + TCP_CUBIC_BETA) / 2.0 : segments;
	cc->cwnd_prior = segments;
	cc->in_stage = false;
	cc->after_timeout = false;
	cc->pending = 0;
	return reduced_ssthresh(flight, mss);
}

uint32_t
tcp_cubic_timeout(struct tcp_cubic *cc, uint32_t cwnd, uint32_t flight, uint32_t mss)
{
	cc->cwnd_prior = (double)cwnd / mss;
	cc->in_stage = false;
	cc->after_timeout = true;
	cc->pending = 0;
	return reduced_ssthresh(flight, mss);
}

void
tcp_cubic_not_limited(struct tcp_cubic *cc)
{
	cc->in_stage = false;
}

/* W_cubic(t) = C (t - K)^3 + W_max (4.2, eq. 1), with the stage's origin
 * in W_max's place. */
static double
w_cubic(const struct tcp_cubic *cc, double t)
{
	double d = t - cc->k;

	return TCP_CUBIC_C * d * d * d + cc->origin;
}

/* A congestion avoidance stage begins (4.2): t counts from now, and the
 * curve leaves the current window towards W_max in K seconds (eq. 2). At
 * or above W_max, and in the first stage after a timeout (4.8), it starts
 * at the current window with K = 0 (convex from there). */
static void
stage_begin(struct tcp_cubic *cc, double segments, uint64_t now)
{
	cc->in_stage = true;
	cc->epoch_start = now;
	if (cc->after_timeout || segments >= cc->w_max) {
		cc->k = 0;
		cc->origin = segments;
	} else {
		cc->k = cbrt((cc->w_max - segments) / TCP_CUBIC_C);
		cc->origin = cc->w_max;
	}
	cc->w_est = segments;
	cc->pending = 0;
	cc->after_timeout = false;
}

uint32_t
tcp_cubic_ack(struct tcp_cubic *cc, uint32_t cwnd, uint32_t acked, uint32_t mss, uint64_t now,
		uint64_t srtt_ns)
{
	double segments = (double)cwnd / mss;
	double segments_acked = (double)acked / mss;
	double t, target, next, grow;
	uint64_t whole;

	if (!cc->in_stage || now < cc->epoch_start)
		stage_begin(cc, segments, now);
	t = (double)(now - cc->epoch_start) / NS_PER_S;

	/* 4.3: the Reno-friendly estimate, with alpha 1 once it is back at
	 * the window of the last reduction. */
	cc->w_est += (cc->w_est >= cc->cwnd_prior ? 1.0 : ALPHA_CUBIC) * segments_acked / segments;

	if (w_cubic(cc, t) < cc->w_est) {
		next = cc->w_est;
	} else {
		/* 4.2: the target one RTT ahead, no lower than cwnd and no
		 * more than 1.5 cwnd; 4.4 and 4.5: (target - cwnd) / cwnd
		 * per segment acknowledged. */
		target = w_cubic(cc, t + (double)srtt_ns / NS_PER_S);
		if (target < segments)
			target = segments;
		else if (target > 1.5 * segments)
			target = 1.5 * segments;
		next = segments + (target - segments) / segments * segments_acked;
	}
	if (next <= segments)
		return cwnd;
	grow = (next - segments) * mss + cc->pending;
	whole = (uint64_t)grow;
	cc->pending = grow - (double)whole;
	if (whole > UINT32_MAX - cwnd)
		return UINT32_MAX;
	return cwnd + (uint32_t)whole;
}
