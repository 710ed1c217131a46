/* CUBIC's window arithmetic (dataplane/tcp_cubic.h, RFC 9438) driven by an
 * ACK clock in virtual time: every round trip the whole window is
 * acknowledged, one segment per ACK, the ACKs spread evenly over it. The
 * window is checked against the RFC's formulas: W_cubic(t) = C (t - K)^3 +
 * W_max with K = cbrt((W_max - cwnd_start) / C) (4.2), the Reno-friendly
 * W_est (4.3), the 1.5 cwnd bound on the target (4.2), fast convergence
 * (4.7), the stage after a timeout (4.8) and application-limited time
 * (5.8). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dataplane/tcp_cubic.h"

#define MSS 1000u
#define NS_PER_MS 1000000ull

struct clock {
	struct tcp_cubic cc;
	uint32_t cwnd;		/* bytes */
	uint64_t now;		/* ns */
	uint64_t rtt;		/* ns, also the smoothed RTT passed in */
};

/* One round trip: the window's segments acknowledged one by one. */
static void
round_trip(struct clock *k)
{
	uint32_t segments = k->cwnd / MSS;
	uint64_t start = k->now;

	for (uint32_t i = 1; i <= segments; i++) {
		k->now = start + k->rtt * i / segments;
		k->cwnd = tcp_cubic_ack(&k->cc, k->cwnd, MSS, MSS, k->now, k->rtt);
	}
	k->now = start + k->rtt;
}

static double
segments_of(const struct clock *k)
{
	return (double)k->cwnd / MSS;
}

static double
w_cubic(double t, double k, double w_max)
{
	return TCP_CUBIC_C * (t - k) * (t - k) * (t - k) + w_max;
}

/* A loss at 100 segments, RTT 100 ms: cwnd drops to 70 and climbs back to
 * W_max along the cubic curve, concave before K (about 4.22 s) and convex
 * after it. */
static void
test_curve_after_loss(void **state)
{
	struct clock k = { .cwnd = 100 * MSS, .now = 1, .rtt = 100 * NS_PER_MS };
	double big_k = cbrt(100 * (1 - TCP_CUBIC_BETA) / TCP_CUBIC_C);
	uint64_t epoch;
	double last_growth = 1e9;

	(void)state;
	tcp_cubic_reset(&k.cc);
	k.cwnd = tcp_cubic_congestion_event(&k.cc, k.cwnd, 100 * MSS, MSS);
	assert_int_equal(k.cwnd, 70 * MSS);	/* 4.6: flight * 0.7 */
	epoch = k.now;
	/* Concave: the curve is ahead of W_est here (alpha 0.53 per RTT
	 * would give 70 + 0.53 t / RTT), and each round trip adds less. */
	for (unsigned r = 1; r <= 40; r++) {
		double before = segments_of(&k);
		double t;

		round_trip(&k);
		t = (double)(k.now - epoch) / 1e9;
		/* The window chases the target one RTT ahead: it runs at
		 * the curve's value, within a segment or two. */
		assert_true(fabs(segments_of(&k) - w_cubic(t, big_k, 100)) < 2.0);
		assert_true(segments_of(&k) - before <= last_growth + 1e-9);
		last_growth = segments_of(&k) - before;
		assert_true(segments_of(&k) <= 100.0 + 0.5);
	}
	/* Around K the window is back at W_max. */
	while ((double)(k.now - epoch) / 1e9 < big_k)
		round_trip(&k);
	assert_true(fabs(segments_of(&k) - 100.0) < 1.0);
	/* Convex beyond it (maximum probing): growth per round trip rises
	 * again, slowly at first. */
	last_growth = 0;
	for (unsigned r = 0; r < 12; r++) {
		double before = segments_of(&k);

		round_trip(&k);
		assert_true(segments_of(&k) - before >= last_growth - 1e-9);
		last_growth = segments_of(&k) - before;
	}
	assert_true(segments_of(&k) > 100.0 && segments_of(&k) < 102.0);
	/* W_est, alpha 1 once it is back at 100 segments (about 5.8 s
	 * here), leads after that: about a segment per round trip. */
	while ((double)(k.now - epoch) / 1e9 < 6.5)
		round_trip(&k);
	{
		double before = segments_of(&k);

		for (unsigned r = 0; r < 10; r++)
			round_trip(&k);
		assert_true(segments_of(&k) - before > 9.0);
		assert_true(segments_of(&k) - before < 10.5);
	}
}

/* Short RTT, small window: Reno would out-grow the curve, so the window
 * follows W_est (4.3): 0.53 segments per RTT until it is back at the
 * window of the reduction, then one per RTT. */
static void
test_reno_friendly_region(void **state)
{
	struct clock k = { .cwnd = 20 * MSS, .now = 1, .rtt = 1 * NS_PER_MS };
	double alpha = 3 * (1 - TCP_CUBIC_BETA) / (1 + TCP_CUBIC_BETA);
	unsigned r;

	(void)state;
	tcp_cubic_reset(&k.cc);
	k.cwnd = tcp_cubic_congestion_event(&k.cc, k.cwnd, 20 * MSS, MSS);
	assert_int_equal(k.cwnd, 14 * MSS);
	for (r = 0; r < 10; r++)
		round_trip(&k);
	/* W_est per ACK adds alpha / cwnd with the window of that moment,
	 * so per RTT a little under alpha: between 0.9 alpha and alpha. */
	assert_true(segments_of(&k) > 14 + 0.9 * alpha * 10);
	assert_true(segments_of(&k) < 14 + alpha * 10 + 0.01);
	/* Well ahead of the cubic curve, which has barely moved in 10 ms. */
	assert_true(segments_of(&k) > w_cubic(0.010, cbrt(6 / TCP_CUBIC_C), 20) + 3);
	while (segments_of(&k) < 20.0)
		round_trip(&k);
	{
		double before = segments_of(&k);

		for (r = 0; r < 10; r++)
			round_trip(&k);
		/* alpha 1 now: about a segment per RTT (Reno's AIMD(1, .5)). */
		assert_true(segments_of(&k) - before > 9.0);
		assert_true(segments_of(&k) - before < 10.5);
	}
}

/* 4.7: a second loss below the last W_max lowers W_max to
 * cwnd (1 + beta) / 2, so the curve plateaus earlier. */
static void
test_fast_convergence(void **state)
{
	struct tcp_cubic cc;
	uint32_t ssthresh;

	(void)state;
	tcp_cubic_reset(&cc);
	tcp_cubic_congestion_event(&cc, 100 * MSS, 100 * MSS, MSS);
	assert_true(fabs(cc.w_max - 100.0) < 1e-9);
	ssthresh = tcp_cubic_congestion_event(&cc, 80 * MSS, 80 * MSS, MSS);
	assert_int_equal(ssthresh, 56 * MSS);
	assert_true(fabs(cc.w_max - 80.0 * 1.7 / 2) < 1e-9);
	/* A loss above the last W_max just remembers the window. */
	tcp_cubic_congestion_event(&cc, 90 * MSS, 90 * MSS, MSS);
	assert_true(fabs(cc.w_max - 90.0) < 1e-9);
	/* ssthresh never falls below 2 MSS. */
	assert_int_equal(tcp_cubic_congestion_event(&cc, 2 * MSS, 1 * MSS, MSS), 2 * MSS);
}

/* 4.2: however far the curve is ahead, the target is at most 1.5 cwnd,
 * so a window grows at most by half in a round trip. */
static void
test_target_bound(void **state)
{
	struct clock k = { .cwnd = 10 * MSS, .now = 1, .rtt = 100 * NS_PER_MS };

	(void)state;
	tcp_cubic_reset(&k.cc);
	/* W_max 1000 and a window of 10: the curve runs far ahead. */
	tcp_cubic_congestion_event(&k.cc, 1000 * MSS, 1000 * MSS, MSS);
	k.cwnd = 10 * MSS;
	round_trip(&k);
	k.now += 20ull * 1000 * NS_PER_MS;	/* 20 s later, still limited */
	for (unsigned r = 0; r < 5; r++) {
		uint32_t before = k.cwnd;

		round_trip(&k);
		assert_true(k.cwnd <= before + before / 2 + 1);
		assert_true(k.cwnd > before);
	}
}

/* 4.8: after a timeout ssthresh is flight * beta, and the first stage
 * grows from its own first window with K = 0 (convex from there), W_est
 * starting at that window too. */
static void
test_stage_after_timeout(void **state)
{
	struct clock k = { .cwnd = 50 * MSS, .now = 1, .rtt = 100 * NS_PER_MS };
	uint32_t ssthresh;
	uint64_t epoch;

	(void)state;
	tcp_cubic_reset(&k.cc);
	tcp_cubic_congestion_event(&k.cc, 100 * MSS, 100 * MSS, MSS);
	ssthresh = tcp_cubic_timeout(&k.cc, 50 * MSS, 40 * MSS, MSS);
	assert_int_equal(ssthresh, 28 * MSS);
	/* Slow start (the stack's) brought the window back to ssthresh. */
	k.cwnd = ssthresh;
	epoch = k.now;
	for (unsigned r = 0; r < 20; r++) {
		double t;

		round_trip(&k);
		t = (double)(k.now - epoch) / 1e9;
		/* Never the concave climb towards the old W_max of 100: the
		 * larger of 28 + C t^3 (one RTT ahead) and W_est. */
		assert_true(segments_of(&k) < 28 + TCP_CUBIC_C * pow(t + 0.1, 3) + t / 0.1 + 1);
	}
	assert_true(segments_of(&k) > 28 + 0.4 * 20 * 0.9);
}

/* 5.8: time while the sender is not cwnd-limited does not count. After
 * 30 s of limited ACKs the window has not grown, and the next stage
 * starts from it (K towards W_max again), not from a curve 30 s on. */
static void
test_not_limited_time_not_counted(void **state)
{
	struct clock k = { .cwnd = 100 * MSS, .now = 1, .rtt = 100 * NS_PER_MS };
	uint32_t start;

	(void)state;
	tcp_cubic_reset(&k.cc);
	k.cwnd = tcp_cubic_congestion_event(&k.cc, k.cwnd, 100 * MSS, MSS);
	round_trip(&k);
	start = k.cwnd;
	for (unsigned i = 0; i < 300; i++) {
		k.now += 100 * NS_PER_MS;
		tcp_cubic_not_limited(&k.cc);
	}
	assert_int_equal(k.cwnd, start);
	round_trip(&k);
	/* One round trip of a fresh stage: a few segments, where a curve
	 * 30 s old would have added half the window. */
	assert_true(k.cwnd < start + 5 * MSS);
	assert_true(k.cwnd > start);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_curve_after_loss),
		cmocka_unit_test(test_reno_friendly_region),
		cmocka_unit_test(test_fast_convergence),
		cmocka_unit_test(test_target_bound),
		cmocka_unit_test(test_stage_after_timeout),
		cmocka_unit_test(test_not_limited_time_not_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
