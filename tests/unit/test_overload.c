/* control/overload.c: tor's general overload signal (rephist.c
 * rep_hist_note_overload(OVERLOAD_GENERAL), overload_happened_recently(),
 * rep_hist_get_overload_general_line()) on virtual time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "control/overload.h"

/* 2026-12-03 18:21:40 UTC. */
#define T 1796322100

static void
test_none_until_noted(void **state)
{
	struct overload o = { 0 };
	char line[OVERLOAD_GENERAL_LINE_MAX];

	(void)state;
	assert_int_equal(overload_general_line(&o, T, line), 0);
	assert_string_equal(line, "");
}

/* The time is the start of the hour (tor SET_TO_START_OF_HOUR()); the
 * line is "overload-general 1 YYYY-MM-DD HH:MM:SS" (dir-spec 2.1.1). */
static void
test_line_and_hour(void **state)
{
	static const char expected[] = "overload-general 1 2026-12-03 18:00:00\n";
	struct overload o = { 0 };
	char line[OVERLOAD_GENERAL_LINE_MAX];

	(void)state;
	assert_true(overload_note_general(&o, T));
	assert_int_equal(overload_general_line(&o, T, line), strlen(expected));
	assert_string_equal(line, expected);
	/* Again within the hour: nothing new to publish. */
	assert_false(overload_note_general(&o, T + 1000));
	assert_string_equal((overload_general_line(&o, T + 1000, line), line), expected);
	/* The next hour is news. */
	assert_true(overload_note_general(&o, T + 3600));
	overload_general_line(&o, T + 3600, line);
	assert_string_equal(line, "overload-general 1 2026-12-03 19:00:00\n");
}

/* tor overload_happened_recently(time, 72): kept while the hour is less
 * than 72 hours old, then gone. */
static void
test_kept_72_hours(void **state)
{
	struct overload o = { 0 };
	char line[OVERLOAD_GENERAL_LINE_MAX];
	time_t hour = T - T % 3600;

	(void)state;
	overload_note_general(&o, T);
	assert_true(overload_general_line(&o, hour + 72 * 3600 - 1, line) > 0);
	assert_int_equal(overload_general_line(&o, hour + 72 * 3600, line), 0);
	assert_string_equal(line, "");
	/* A new overload brings it back. */
	assert_true(overload_note_general(&o, hour + 80 * 3600 + 5));
	assert_true(overload_general_line(&o, hour + 80 * 3600 + 5, line) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_until_noted),
		cmocka_unit_test(test_line_and_hour),
		cmocka_unit_test(test_kept_72_hours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
