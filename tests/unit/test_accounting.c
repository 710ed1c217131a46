/* control/accounting.c: tor's AccountingStart and AccountingRule words
 * (hibernate.c accounting_parse_options(), relay_config.c
 * options_validate_relay_accounting()), with tor's messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "control/accounting.h"

static void
start_ok(const char *value, enum accounting_unit unit, int day, int hour, int minute)
{
	struct accounting_start s = { .unit = ACCOUNTING_UNIT_DAY, .day = -1 };
	char err[160] = "";

	assert_int_equal(accounting_start_parse(value, &s, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(s.unit, unit);
	assert_int_equal(s.day, day);
	assert_int_equal(s.hour, hour);
	assert_int_equal(s.minute, minute);
}

static void
start_refused(const char *value, const char *message)
{
	struct accounting_start s = ACCOUNTING_START_DEFAULT;
	char err[160] = "";

	assert_int_equal(accounting_start_parse(value, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, message);
	/* Nothing is written on failure. */
	assert_int_equal(s.unit, ACCOUNTING_UNIT_MONTH);
	assert_int_equal(s.day, 1);
}

static void
test_start_accepted(void **state)
{
	(void)state;
	start_ok("month 1 00:00", ACCOUNTING_UNIT_MONTH, 1, 0, 0);
	start_ok("MONTH 28 23:59", ACCOUNTING_UNIT_MONTH, 28, 23, 59);
	start_ok("  week   7\t4:05 ", ACCOUNTING_UNIT_WEEK, 7, 4, 5);
	start_ok("Day 12:30", ACCOUNTING_UNIT_DAY, 0, 12, 30);
	/* strtol's syntax, as tor_parse_long: a sign, leading zeros. */
	start_ok("week +1 09:7", ACCOUNTING_UNIT_WEEK, 1, 9, 7);
}

static void
test_start_refused(void **state)
{
	(void)state;
	start_refused("", "Too few arguments to AccountingStart");
	start_refused("month", "Too few arguments to AccountingStart");
	start_refused("year 1 00:00", "Unrecognized accounting unit 'year': only 'month', "
			"'week', and 'day' are supported.");
	start_refused("week 0 00:00",
			"Weekly accounting must begin on a day between 1 (Monday) and 7 (Sunday)");
	start_refused("week 8 00:00",
			"Weekly accounting must begin on a day between 1 (Monday) and 7 (Sunday)");
	start_refused("month 29 00:00",
			"Monthly accounting must begin on a day between 1 and 28");
	start_refused("month 1x 00:00",
			"Monthly accounting must begin on a day between 1 and 28");
	/* The day is checked before the number of words. */
	start_refused("month 1", "Accounting unit 'month' requires 2 arguments.");
	start_refused("month 1 00:00 extra", "Accounting unit 'month' requires 2 arguments.");
	start_refused("day 1 00:00", "Accounting unit 'day' requires 1 argument.");
	start_refused("day 24:00", "Accounting start time not parseable: bad hour.");
	start_refused("day x:00", "Accounting start time not parseable: bad hour.");
	start_refused("day 12", "Accounting start time not parseable: not in HH:MM format");
	start_refused("day 12-30", "Accounting start time not parseable: not in HH:MM format");
	start_refused("day 12:60", "Accounting start time not parseable: bad minute");
	start_refused("day 12:", "Accounting start time not parseable: bad minute");
	start_refused("day 12:30pm", "Accounting start time not parseable: not in HH:MM format");
}

static void
test_rule(void **state)
{
	enum accounting_rule r = ACCOUNTING_RULE_MAX;

	(void)state;
	assert_int_equal(accounting_rule_parse("sum", &r), 0);
	assert_int_equal(r, ACCOUNTING_RULE_SUM);
	assert_int_equal(accounting_rule_parse("in", &r), 0);
	assert_int_equal(r, ACCOUNTING_RULE_IN);
	assert_int_equal(accounting_rule_parse("out", &r), 0);
	assert_int_equal(r, ACCOUNTING_RULE_OUT);
	assert_int_equal(accounting_rule_parse("max", &r), 0);
	assert_int_equal(r, ACCOUNTING_RULE_MAX);
	/* tor compares with strcmp. */
	assert_int_equal(accounting_rule_parse("Sum", &r), -EINVAL);
	assert_int_equal(accounting_rule_parse("", &r), -EINVAL);
	assert_int_equal(r, ACCOUNTING_RULE_MAX);
	assert_string_equal(accounting_rule_name(ACCOUNTING_RULE_OUT), "out");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_accepted),
		cmocka_unit_test(test_start_refused),
		cmocka_unit_test(test_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
