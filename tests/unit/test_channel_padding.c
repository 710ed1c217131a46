/* Connection-level padding timing (dataplane/channel_padding.c): what a
 * PADDING_NEGOTIATE does to the window (tor's
 * channelpadding_update_padding_for_channel), the drawn timeout (low plus
 * the larger of two uniform draws), and the deadline's reset on traffic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "dataplane/channel_padding.h"

#define MS 1000000ull

static const struct channel_padding_params defaults = {
	.ito_low_ms = CHANNEL_PADDING_ITO_LOW_DEFAULT_MS,
	.ito_high_ms = CHANNEL_PADDING_ITO_HIGH_DEFAULT_MS,
};

/* Returns the scripted values in turn and records the bounds asked. */
struct script {
	uint32_t values[8];
	uint32_t bounds[8];
	unsigned calls;
};

static uint32_t
script_rand(void *arg, uint32_t bound)
{
	struct script *s = arg;
	uint32_t v = s->values[s->calls];

	s->bounds[s->calls++] = bound;
	assert_true(v < bound);
	return v;
}

static uint32_t
xorshift_rand(void *arg, uint32_t bound)
{
	uint64_t *x = arg;

	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x % bound);
}

static struct padding_negotiate_cell
negotiate_cell(uint8_t command, uint16_t low, uint16_t high)
{
	struct padding_negotiate_cell c = {
		.version = PADDING_NEGOTIATE_VERSION, .command = command,
		.ito_low_ms = low, .ito_high_ms = high,
	};
	return c;
}

static void
test_not_padding_until_start(void **state)
{
	struct channel_padding p;
	struct script s = { .calls = 0 };

	(void)state;
	channel_padding_init(&p, 5 * MS);
	assert_int_equal(channel_padding_deadline(&p, &defaults, script_rand, &s),
			CHANNEL_PADDING_NEVER);
	assert_int_equal(s.calls, 0);
}

static void
test_start_with_consensus_window(void **state)
{
	struct channel_padding p;
	struct padding_negotiate_cell c = negotiate_cell(PADDING_NEGOTIATE_START, 0, 0);
	struct script s = { .values = { 100, 7000 } };

	(void)state;
	channel_padding_init(&p, 1000 * MS);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &c), 0);
	assert_true(p.enabled);
	/* low = MAX(1500, 0), high = MAX(low, 0) */
	assert_int_equal(p.low_ms, 1500);
	assert_int_equal(p.high_ms, 1500);
	/* The draw uses MAX(consensus, negotiated): [1500, 9500). */
	assert_int_equal(channel_padding_deadline(&p, &defaults, script_rand, &s),
			1000 * MS + (1500 + 7000) * MS);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.bounds[0], 8000);
	assert_int_equal(s.bounds[1], 8000);
	/* Drawn once: asking again does not draw. */
	assert_int_equal(channel_padding_deadline(&p, &defaults, script_rand, &s),
			1000 * MS + 8500 * MS);
	assert_int_equal(s.calls, 2);
}

static void
test_low_values_clamped_to_consensus(void **state)
{
	struct channel_padding p;
	struct padding_negotiate_cell c = negotiate_cell(PADDING_NEGOTIATE_START, 100, 200);
	struct script s = { .values = { 3000, 20 } };

	(void)state;
	channel_padding_init(&p, 0);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &c), 0);
	assert_int_equal(p.low_ms, 1500);
	assert_int_equal(p.high_ms, 1500);
	/* The larger of the two draws. */
	assert_int_equal(channel_padding_timeout_ms(&p, &defaults, script_rand, &s), 4500);
}

static void
test_higher_values_widen_window(void **state)
{
	struct channel_padding p;
	struct padding_negotiate_cell c = negotiate_cell(PADDING_NEGOTIATE_START, 5000, 20000);
	struct script s = { .values = { 1, 2 } };

	(void)state;
	channel_padding_init(&p, 0);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &c), 0);
	assert_int_equal(channel_padding_timeout_ms(&p, &defaults, script_rand, &s), 5002);
	assert_int_equal(s.bounds[0], 15000);
}

static void
test_low_above_high(void **state)
{
	struct channel_padding p;
	struct padding_negotiate_cell c = negotiate_cell(PADDING_NEGOTIATE_START, 12000, 3000);
	struct script s = { .calls = 0 };

	(void)state;
	channel_padding_init(&p, 0);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &c), 0);
	/* tor: high = MAX(low, ito_high_ms). */
	assert_int_equal(p.low_ms, 12000);
	assert_int_equal(p.high_ms, 12000);
	/* A single-value window: no draw. */
	assert_int_equal(channel_padding_timeout_ms(&p, &defaults, script_rand, &s), 12000);
	assert_int_equal(s.calls, 0);
}

static void
test_stop(void **state)
{
	struct channel_padding p;
	struct padding_negotiate_cell start = negotiate_cell(PADDING_NEGOTIATE_START, 0, 0);
	struct padding_negotiate_cell stop = negotiate_cell(PADDING_NEGOTIATE_STOP, 2000, 3000);
	struct script s = { .values = { 1, 1 } };

	(void)state;
	channel_padding_init(&p, 0);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &start), 0);
	assert_int_not_equal(channel_padding_deadline(&p, &defaults, script_rand, &s),
			CHANNEL_PADDING_NEVER);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &stop), 0);
	assert_false(p.enabled);
	/* tor stores the values of a STOP too. */
	assert_int_equal(p.low_ms, 2000);
	assert_int_equal(p.high_ms, 3000);
	assert_int_equal(p.deadline_ns, 0);
	assert_int_equal(channel_padding_deadline(&p, &defaults, script_rand, &s),
			CHANNEL_PADDING_NEVER);
}

static void
test_bad_version_and_command_ignored(void **state)
{
	struct channel_padding p;
	struct padding_negotiate_cell start = negotiate_cell(PADDING_NEGOTIATE_START, 0, 0);
	struct padding_negotiate_cell bad = negotiate_cell(PADDING_NEGOTIATE_STOP, 4000, 5000);
	struct script s = { .values = { 10, 10 } };
	uint64_t deadline;

	(void)state;
	channel_padding_init(&p, 0);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &start), 0);
	deadline = channel_padding_deadline(&p, &defaults, script_rand, &s);
	bad.version = 1;
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &bad), -EINVAL);
	bad.version = 0;
	bad.command = 3;
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &bad), -EINVAL);
	assert_true(p.enabled);
	assert_int_equal(p.low_ms, 1500);
	assert_int_equal(channel_padding_deadline(&p, &defaults, script_rand, &s), deadline);
	assert_int_equal(s.calls, 2);
}

static void
test_consensus_off(void **state)
{
	const struct channel_padding_params off = { 0, 0 };
	struct channel_padding p;
	struct padding_negotiate_cell start = negotiate_cell(PADDING_NEGOTIATE_START, 0, 0);
	struct script s = { .calls = 0 };

	(void)state;
	channel_padding_init(&p, 0);
	assert_int_equal(channel_padding_negotiate(&p, &off, &start), 0);
	assert_int_equal(channel_padding_deadline(&p, &off, script_rand, &s),
			CHANNEL_PADDING_NEVER);
}

static void
test_transfer_resets_deadline(void **state)
{
	struct channel_padding p;
	struct padding_negotiate_cell start = negotiate_cell(PADDING_NEGOTIATE_START, 0, 0);
	struct script s = { .values = { 0, 500, 2000, 0 } };

	(void)state;
	channel_padding_init(&p, 0);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &start), 0);
	assert_int_equal(channel_padding_deadline(&p, &defaults, script_rand, &s), 2000 * MS);
	channel_padding_on_transfer(&p, 1900 * MS);
	assert_int_equal(channel_padding_deadline(&p, &defaults, script_rand, &s),
			1900 * MS + 3500 * MS);
}

/* Many draws: every one inside [low, high), and the mean of the larger of
 * two uniform draws on [0, R) near 2R/3 (tor's table: R = 8000 gives
 * Exp[max(X,X)] = 5332.8). */
static void
test_distribution(void **state)
{
	struct channel_padding p;
	struct padding_negotiate_cell start = negotiate_cell(PADDING_NEGOTIATE_START, 0, 0);
	uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;
	const unsigned n = 200000;
	uint32_t min = UINT32_MAX, max = 0;
	double mean;

	(void)state;
	channel_padding_init(&p, 0);
	assert_int_equal(channel_padding_negotiate(&p, &defaults, &start), 0);
	for (unsigned i = 0; i < n; i++) {
		uint32_t t = channel_padding_timeout_ms(&p, &defaults, xorshift_rand, &x);

		min = t < min ? t : min;
		max = t > max ? t : max;
		sum += t - 1500;
	}
	assert_true(min >= 1500);
	assert_true(max < 9500);
	mean = (double)sum / n;
	assert_true(mean > 5300.0 && mean < 5365.0);
}

/* The window from consensus values, clipped as tor's
 * networkstatus_get_param() clips (channelpadding_new_consensus_params():
 * nf_ito_low in [0, 60000], nf_ito_high in [nf_ito_low, 60000]), and what
 * a negotiation and a draw make of a consensus window. */
static void
test_params_from_consensus(void **state)
{
	struct channel_padding_params p;
	struct channel_padding pad;
	struct padding_negotiate_cell start = negotiate_cell(PADDING_NEGOTIATE_START, 0, 0);
	struct script s = { .values = { 0, 0 } };

	(void)state;
	p = channel_padding_params_from_consensus(CHANNEL_PADDING_ITO_LOW_DEFAULT_MS,
			CHANNEL_PADDING_ITO_HIGH_DEFAULT_MS);
	assert_int_equal(p.ito_low_ms, 1500);
	assert_int_equal(p.ito_high_ms, 9500);
	p = channel_padding_params_from_consensus(2000, 3000);
	assert_int_equal(p.ito_low_ms, 2000);
	assert_int_equal(p.ito_high_ms, 3000);
	/* Out of range: clipped, not replaced by the default. */
	p = channel_padding_params_from_consensus(-5, 70000);
	assert_int_equal(p.ito_low_ms, 0);
	assert_int_equal(p.ito_high_ms, 60000);
	p = channel_padding_params_from_consensus(70000, 100);
	assert_int_equal(p.ito_low_ms, 60000);
	assert_int_equal(p.ito_high_ms, 60000);
	p = channel_padding_params_from_consensus(5000, 4000);
	assert_int_equal(p.ito_low_ms, 5000);
	assert_int_equal(p.ito_high_ms, 5000);
	p = channel_padding_params_from_consensus(0, 0);
	assert_int_equal(p.ito_low_ms, 0);
	assert_int_equal(p.ito_high_ms, 0);
	/* A consensus window of 2000..3000: a START asking for less pads
	 * within 2000 + max(X1, X2), X in [0, 1000). */
	p = channel_padding_params_from_consensus(2000, 3000);
	channel_padding_init(&pad, 0);
	assert_int_equal(channel_padding_negotiate(&pad, &p, &start), 0);
	assert_int_equal(pad.low_ms, 2000);
	assert_int_equal(pad.high_ms, 2000);
	assert_int_equal(channel_padding_deadline(&pad, &p, script_rand, &s), 2000 * MS);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.bounds[0], 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_padding_until_start),
		cmocka_unit_test(test_start_with_consensus_window),
		cmocka_unit_test(test_low_values_clamped_to_consensus),
		cmocka_unit_test(test_higher_values_widen_window),
		cmocka_unit_test(test_low_above_high),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_bad_version_and_command_ignored),
		cmocka_unit_test(test_consensus_off),
		cmocka_unit_test(test_transfer_resets_deadline),
		cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_params_from_consensus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
