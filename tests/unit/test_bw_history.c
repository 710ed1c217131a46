/* control/bw_history.c: the observed bandwidth as tor's bwhist.c computes
 * it, on virtual time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "control/bw_history.h"

#define T0 1800000000
#define DAY BW_HISTORY_PERIOD_SECONDS

static void
test_largest_ten_seconds_of_the_smaller_direction(void **state)
{
	struct bw_history h;

	(void)state;
	bw_history_init(&h, T0);
	assert_int_equal(bw_history_assess(&h, T0, 0), 0);
	/* 15 s of 1000 B/s read and 3000 B/s written, then 2 s of a burst. */
	for (int s = 0; s < 15; s++)
		bw_history_note(&h, T0 + s, 1000, 3000);
	assert_int_equal(bw_history_assess(&h, T0 + 15, 0), 1000);
	bw_history_note(&h, T0 + 15, 51000, 3000);
	bw_history_note(&h, T0 + 16, 51000, 3000);
	/* Read's best window is now 8 * 1000 + 2 * 51000 = 110000: 11000/s;
	 * written stays at 3000/s, the smaller. */
	assert_int_equal(bw_history_assess(&h, T0 + 17, 0), 3000);
	bw_history_note(&h, T0 + 17, 0, 200000);
	assert_int_equal(bw_history_assess(&h, T0 + 18, 0), 11000);
	/* The largest window stays after the traffic stops. */
	assert_int_equal(bw_history_assess(&h, T0 + 600, 0), 11000);
	/* A second in the past is not counted. */
	bw_history_note(&h, T0 + 100, 1u << 30, 1u << 30);
	assert_int_equal(bw_history_assess(&h, T0 + 601, 0), 11000);
}

static void
test_min_observation_and_periods(void **state)
{
	struct bw_history h;

	(void)state;
	bw_history_init(&h, T0);
	for (int s = 0; s < 10; s++)
		bw_history_note(&h, T0 + s, 5000, 5000);
	/* tor's TestingMinTimeToReportBandwidth: the running period counts
	 * only once it has been observed that long. */
	assert_int_equal(bw_history_assess(&h, T0 + 11, DAY), 0);
	assert_int_equal(bw_history_assess(&h, T0 + 11, 0), 5000);
	/* Once the period ends its largest is kept... */
	assert_int_equal(bw_history_assess(&h, T0 + DAY + 1, DAY), 5000);
	/* ...for 5 periods, then it is gone. */
	assert_int_equal(bw_history_assess(&h, T0 + 5 * DAY + 10, DAY), 5000);
	assert_int_equal(bw_history_assess(&h, T0 + 6 * DAY + 10, DAY), 0);
}

static void
test_long_silence_and_totals(void **state)
{
	struct bw_history h;

	(void)state;
	bw_history_init(&h, T0);
	bw_history_note_totals(&h, T0, 1u << 20, 1u << 20);	/* a base, not traffic */
	bw_history_note_totals(&h, T0 + 1, (1u << 20) + 20000, (1u << 20) + 30000);
	assert_int_equal(bw_history_assess(&h, T0 + 2, 0), 2000);
	/* Counters that went down (a worker gone) are a new base. */
	bw_history_note_totals(&h, T0 + 3, 10, 10);
	bw_history_note_totals(&h, T0 + 4, 10 + 40000, 10 + 40000);
	/* One window holds both seconds: 60000 read, 70000 written. */
	assert_int_equal(bw_history_assess(&h, T0 + 5, 0), 6000);
	/* Years of silence roll the periods without a second-by-second walk,
	 * and everything kept is gone. */
	assert_int_equal(bw_history_assess(&h, T0 + 400 * DAY, 0), 0);
	bw_history_note(&h, T0 + 400 * DAY, 70000, 70000);
	assert_int_equal(bw_history_assess(&h, T0 + 400 * DAY + 1, 0), 7000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_largest_ten_seconds_of_the_smaller_direction),
		cmocka_unit_test(test_min_observation_and_periods),
		cmocka_unit_test(test_long_silence_and_totals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
