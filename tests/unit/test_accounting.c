/* control/accounting.c: tor's AccountingStart and AccountingRule words
 * (hibernate.c accounting_parse_options(), relay_config.c
 * options_validate_relay_accounting()), with tor's messages; the
 * interval edges, configure_accounting(), the expected use, the soft and
 * hard limits and the hibernation state machine of hibernate.c on
 * virtual time; the wake-up time against SHA-1 computed here; the state
 * file's Accounting* keys; router_should_be_dirserver()'s accounting
 * rule. Times are UTC (TZ set in main()) except where a test sets
 * Europe/Berlin for its DST changes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

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

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

#define MIB (1024ULL * 1024)
#define DAY 86400

static const uint8_t identity[20] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
};

static time_t
utc(int year, int month, int day, int hour, int minute, int second)
{
	struct tm tm = {
		.tm_year = year - 1900,
		.tm_mon = month - 1,
		.tm_mday = day,
		.tm_hour = hour,
		.tm_min = minute,
		.tm_sec = second,
	};

	return timegm(&tm);
}

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static struct accounting_config
config(uint64_t max, enum accounting_rule rule, const char *start, uint64_t rate)
{
	struct accounting_config cfg = { .max = max, .rule = rule, .rate = rate };
	char err[160];

	assert_int_equal(accounting_start_parse(start, &cfg.start, err, sizeof(err)), 0);
	return cfg;
}

/* A fresh accounting set up at now with nothing saved. */
static struct accounting
fresh(const struct accounting_config *cfg, time_t now)
{
	struct accounting a = { 0 };

	accounting_configure(&a, cfg, identity, NULL, now);
	return a;
}

static void
interval_is(const char *start, time_t now, time_t want_start, time_t want_end)
{
	struct accounting_config cfg = config(100 * MIB, ACCOUNTING_RULE_MAX, start, 1000);
	struct accounting a = fresh(&cfg, now);

	assert_int_equal(a.interval_start, want_start);
	assert_int_equal(a.interval_end, want_end);
	/* No estimate yet: awake from the start. */
	assert_int_equal(a.interval_wakeup, want_start);
}

/* ------------------------------------------------------------------ */
/* Interval edges (tor's edge_of_accounting_period_containing())        */

static void
test_edges_month(void **state)
{
	(void)state;
	interval_is("month 1 00:00", utc(2024, 3, 15, 12, 0, 0), utc(2024, 3, 1, 0, 0, 0),
			utc(2024, 4, 1, 0, 0, 0));
	/* Exactly on the edge: the new interval. */
	interval_is("month 1 00:00", utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 1, 0, 0, 0),
			utc(2024, 2, 1, 0, 0, 0));
	/* Day 28, before and after HH:MM on the start day, and before the
	 * start day: February 2024 has 29 days. */
	interval_is("month 28 12:00", utc(2024, 3, 28, 11, 59, 59), utc(2024, 2, 28, 12, 0, 0),
			utc(2024, 3, 28, 12, 0, 0));
	interval_is("month 28 12:00", utc(2024, 3, 28, 12, 0, 0), utc(2024, 3, 28, 12, 0, 0),
			utc(2024, 4, 28, 12, 0, 0));
	interval_is("month 28 12:00", utc(2024, 3, 5, 0, 0, 0), utc(2024, 2, 28, 12, 0, 0),
			utc(2024, 3, 28, 12, 0, 0));
	/* Across the year boundary, both ways. */
	interval_is("month 15 06:00", utc(2024, 1, 10, 0, 0, 0), utc(2023, 12, 15, 6, 0, 0),
			utc(2024, 1, 15, 6, 0, 0));
	interval_is("month 15 06:00", utc(2023, 12, 20, 0, 0, 0), utc(2023, 12, 15, 6, 0, 0),
			utc(2024, 1, 15, 6, 0, 0));
	interval_is("month 1 00:30", utc(2024, 1, 1, 0, 10, 0), utc(2023, 12, 1, 0, 30, 0),
			utc(2024, 1, 1, 0, 30, 0));
}

static void
test_edges_week(void **state)
{
	(void)state;
	/* 2024-03-11 and 2024-03-18 are Mondays, 2024-03-17 a Sunday. */
	interval_is("week 1 00:00", utc(2024, 3, 13, 10, 0, 0), utc(2024, 3, 11, 0, 0, 0),
			utc(2024, 3, 18, 0, 0, 0));
	interval_is("week 1 00:00", utc(2024, 3, 11, 0, 0, 0), utc(2024, 3, 11, 0, 0, 0),
			utc(2024, 3, 18, 0, 0, 0));
	/* The start day before HH:MM: a whole week back. */
	interval_is("week 1 09:00", utc(2024, 3, 11, 8, 59, 0), utc(2024, 3, 4, 9, 0, 0),
			utc(2024, 3, 11, 9, 0, 0));
	/* Sunday is 7 in AccountingStart and 0 in struct tm. */
	interval_is("week 7 18:00", utc(2024, 3, 17, 17, 0, 0), utc(2024, 3, 10, 18, 0, 0),
			utc(2024, 3, 17, 18, 0, 0));
	interval_is("week 7 18:00", utc(2024, 3, 17, 18, 30, 0), utc(2024, 3, 17, 18, 0, 0),
			utc(2024, 3, 24, 18, 0, 0));
	interval_is("week 7 18:00", utc(2024, 3, 16, 23, 0, 0), utc(2024, 3, 10, 18, 0, 0),
			utc(2024, 3, 17, 18, 0, 0));
	/* Back over a month end (a leap February) and over a year end. */
	interval_is("week 1 00:00", utc(2024, 3, 2, 12, 0, 0), utc(2024, 2, 26, 0, 0, 0),
			utc(2024, 3, 4, 0, 0, 0));
	interval_is("week 1 00:00", utc(2025, 1, 1, 12, 0, 0), utc(2024, 12, 30, 0, 0, 0),
			utc(2025, 1, 6, 0, 0, 0));
}

static void
test_edges_day(void **state)
{
	(void)state;
	interval_is("day 06:30", utc(2024, 3, 1, 6, 29, 59), utc(2024, 2, 29, 6, 30, 0),
			utc(2024, 3, 1, 6, 30, 0));
	interval_is("day 06:30", utc(2024, 3, 1, 6, 30, 0), utc(2024, 3, 1, 6, 30, 0),
			utc(2024, 3, 2, 6, 30, 0));
	interval_is("day 00:00", utc(2023, 12, 31, 23, 59, 59), utc(2023, 12, 31, 0, 0, 0),
			utc(2024, 1, 1, 0, 0, 0));
}

/* Europe/Berlin: CET (UTC+1), CEST (UTC+2) from 2024-03-31 01:00 UTC to
 * 2024-10-27 01:00 UTC. The edges are local times, so intervals over a
 * change are an hour shorter or longer. */
static void
test_edges_dst(void **state)
{
	struct accounting_config cfg;
	struct accounting_saved saved;
	struct accounting a = { 0 };

	(void)state;
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0)
		skip();
	set_tz("Europe/Berlin");
	/* 23 hours on the spring day, 25 on the autumn day. */
	interval_is("day 00:00", utc(2024, 3, 31, 10, 0, 0), utc(2024, 3, 30, 23, 0, 0),
			utc(2024, 3, 31, 22, 0, 0));
	interval_is("day 00:00", utc(2024, 10, 27, 12, 0, 0), utc(2024, 10, 26, 22, 0, 0),
			utc(2024, 10, 27, 23, 0, 0));
	/* "Before 01:00" is read on the local clock: 00:30 CEST. */
	interval_is("day 01:00", utc(2024, 3, 31, 22, 30, 0), utc(2024, 3, 31, 0, 0, 0),
			utc(2024, 3, 31, 23, 0, 0));
	interval_is("day 01:00", utc(2024, 3, 31, 23, 30, 0), utc(2024, 3, 31, 23, 0, 0),
			utc(2024, 4, 1, 23, 0, 0));
	interval_is("month 1 00:00", utc(2024, 3, 15, 0, 0, 0), utc(2024, 2, 29, 23, 0, 0),
			utc(2024, 3, 31, 22, 0, 0));
	interval_is("week 1 00:00", utc(2024, 3, 27, 0, 0, 0), utc(2024, 3, 24, 23, 0, 0),
			utc(2024, 3, 31, 22, 0, 0));

	/* The 23-hour day ended: its length, not 24 h, is one interval
	 * (delta 1.0), so a new one starts with the estimate from it. */
	cfg = config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000000);
	saved = (struct accounting_saved){
		.interval_start = utc(2024, 3, 30, 23, 0, 0),
		.bytes_read = 360000,
		.seconds_active = 3600,
	};
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 4, 1, 10, 0, 0));
	assert_int_equal(a.interval_start, utc(2024, 3, 31, 22, 0, 0));
	assert_int_equal(a.interval_end, utc(2024, 4, 1, 22, 0, 0));
	assert_int_equal(a.bytes_read, 0);
	assert_int_equal(a.expected_usage, 6000);
	set_tz("UTC");
}

/* ------------------------------------------------------------------ */
/* configure_accounting()                                              */

static void
test_configure_fresh(void **state)
{
	struct accounting_config cfg = config(100 * MIB, ACCOUNTING_RULE_SUM, "day 04:00", 5000);
	struct accounting a = fresh(&cfg, utc(2024, 3, 1, 12, 0, 0));

	(void)state;
	assert_true(a.initialized);
	assert_true(a.initial);
	assert_int_equal(a.state, HIBERNATE_AWAKE);
	assert_int_equal(a.cfg.max, 100 * MIB);
	assert_int_equal(a.cfg.rule, ACCOUNTING_RULE_SUM);
	assert_int_equal(a.cfg.rate, 5000);
	assert_memory_equal(a.identity_digest, identity, 20);
	assert_int_equal(a.interval_start, utc(2024, 3, 1, 4, 0, 0));
	assert_int_equal(a.interval_end, utc(2024, 3, 2, 4, 0, 0));
	assert_int_equal(a.interval_wakeup, a.interval_start);
	assert_int_equal(a.hibernate_end, 0);
	assert_int_equal(a.bytes_read, 0);
	assert_int_equal(a.bytes_written, 0);
	assert_int_equal(a.seconds_active, 0);
	assert_int_equal(a.expected_usage, 0);
	assert_int_equal(a.soft_limit_hit_at, 0);
}

static const struct accounting_saved march_saved = {
	.interval_start = 1709251200,	/* 2024-03-01 00:00:00 */
	.bytes_read = 5000,
	.bytes_written = 7000,
	.seconds_active = 4000,
	.expected_usage = 12345,
	.seconds_to_soft_limit = 100,
	.soft_limit_hit_at = 1710028800,	/* 2024-03-10 00:00:00 */
	.bytes_at_soft_limit = 6000,
};

static void
kept_march(const struct accounting *a)
{
	assert_int_equal(a->bytes_read, 5000);
	assert_int_equal(a->bytes_written, 7000);
	assert_int_equal(a->seconds_active, 4000);
	/* Kept as saved, not computed again. */
	assert_int_equal(a->expected_usage, 12345);
	assert_int_equal(a->seconds_to_soft_limit, 100);
	assert_int_equal(a->soft_limit_hit_at, utc(2024, 3, 10, 0, 0, 0));
	assert_int_equal(a->bytes_at_soft_limit, 6000);
}

static void
test_configure_continue(void **state)
{
	struct accounting_config cfg =
			config(10000000000ULL, ACCOUNTING_RULE_MAX, "month 1 00:00", 1000000);
	struct accounting_saved saved = march_saved;
	struct accounting a = { 0 };

	(void)state;
	assert_int_equal(march_saved.interval_start, utc(2024, 3, 1, 0, 0, 0));
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(a.interval_start, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(a.interval_end, utc(2024, 4, 1, 0, 0, 0));
	kept_march(&a);
	/* 10^10 / 12345 * 60 s to spend it: longer than the month, so no
	 * sleeping first. */
	assert_int_equal(a.interval_wakeup, a.interval_start);

	/* A soft-limit time not after the interval start is dropped. */
	saved.soft_limit_hit_at = saved.interval_start;
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(a.bytes_read, 5000);
	assert_int_equal(a.soft_limit_hit_at, 0);
	assert_int_equal(a.bytes_at_soft_limit, 0);
	assert_int_equal(a.seconds_to_soft_limit, 0);
}

static void
test_configure_moved(void **state)
{
	struct accounting_config cfg;
	struct accounting_saved saved = march_saved;
	struct accounting a = { 0 };

	(void)state;
	/* AccountingStart went from day 1 to day 5: the interval containing
	 * the saved start under the new setting is 02-05 .. 03-05 (29 days),
	 * moved by 4/29: the counts and the start stay, the end follows the
	 * new setting. */
	cfg = config(10000000000ULL, ACCOUNTING_RULE_MAX, "month 5 00:00", 1000000);
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(a.interval_start, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(a.interval_end, utc(2024, 4, 5, 0, 0, 0));
	kept_march(&a);

	/* Backwards: from day 10 to day 1, -9/31. */
	saved.interval_start = utc(2024, 3, 10, 0, 0, 0);
	saved.soft_limit_hit_at = utc(2024, 3, 12, 0, 0, 0);
	cfg = config(10000000000ULL, ACCOUNTING_RULE_MAX, "month 1 00:00", 1000000);
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(a.interval_start, utc(2024, 3, 10, 0, 0, 0));
	assert_int_equal(a.interval_end, utc(2024, 4, 1, 0, 0, 0));
	assert_int_equal(a.bytes_read, 5000);
	assert_int_equal(a.expected_usage, 12345);

	/* Exactly half an interval (12 h of 24 h) still counts as moved. */
	saved = march_saved;
	saved.interval_start = utc(2024, 3, 15, 0, 0, 0);
	saved.soft_limit_hit_at = 0;
	cfg = config(10000000000ULL, ACCOUNTING_RULE_MAX, "day 12:00", 1000000);
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 15, 13, 0, 0));
	assert_int_equal(a.interval_start, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(a.interval_end, utc(2024, 3, 16, 12, 0, 0));
	assert_int_equal(a.bytes_read, 5000);

	/* A minute more than half: a new interval. */
	cfg = config(10000000000ULL, ACCOUNTING_RULE_MAX, "day 12:01", 1000000);
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 15, 13, 0, 0));
	assert_int_equal(a.interval_start, utc(2024, 3, 15, 12, 1, 0));
	assert_int_equal(a.interval_end, utc(2024, 3, 16, 12, 1, 0));
	assert_int_equal(a.bytes_read, 0);
	/* From the old interval: 7000 bytes (the larger) in 66 minutes. */
	assert_int_equal(a.expected_usage, 7000 / 66);

	/* Neither moved nor one interval on (20/29 of February): a fresh
	 * interval too. */
	saved = march_saved;
	saved.interval_start = utc(2024, 2, 10, 0, 0, 0);
	saved.soft_limit_hit_at = 0;
	saved.bytes_read = 360000;
	saved.seconds_active = 3600;
	cfg = config(10000000000ULL, ACCOUNTING_RULE_MAX, "month 1 00:00", 1000000);
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(a.interval_start, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(a.interval_end, utc(2024, 4, 1, 0, 0, 0));
	assert_int_equal(a.bytes_read, 0);
	assert_int_equal(a.bytes_written, 0);
	assert_int_equal(a.seconds_active, 0);
	assert_int_equal(a.expected_usage, 6000);
}

/* The expected use a new March interval gets from a February one. */
static uint64_t
expected_after_february(enum accounting_rule rule, uint64_t rate,
		const struct accounting_saved *february)
{
	struct accounting_config cfg = config(10000000000ULL, rule, "month 1 00:00", rate);
	struct accounting a = { 0 };

	accounting_configure(&a, &cfg, identity, february, utc(2024, 3, 15, 0, 0, 0));
	/* A new interval, its counts cleared. */
	assert_int_equal(a.interval_start, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(a.interval_end, utc(2024, 4, 1, 0, 0, 0));
	assert_int_equal(a.bytes_read, 0);
	assert_int_equal(a.bytes_written, 0);
	assert_int_equal(a.seconds_active, 0);
	assert_int_equal(a.soft_limit_hit_at, 0);
	assert_int_equal(a.bytes_at_soft_limit, 0);
	assert_int_equal(a.seconds_to_soft_limit, 0);
	return a.expected_usage;
}

static void
test_configure_elapsed(void **state)
{
	struct accounting_saved feb = {
		.interval_start = utc(2024, 2, 1, 0, 0, 0),
		.bytes_read = 12000000,
		.bytes_written = 6000000,
		.seconds_active = 7200,
		.expected_usage = 777,
	};

	(void)state;
	/* Without a soft limit: the interval's bytes per active minute. */
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 1000000, &feb), 100000);
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_SUM, 1000000, &feb), 150000);
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_OUT, 1000000, &feb), 50000);
	/* Capped at the rate's bytes per minute, twice that for "sum". */
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 1000, &feb), 60000);
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_SUM, 1000, &feb), 120000);
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_SUM, 1200, &feb), 144000);
	/* Whole active minutes: 1859 s are 30 of them. */
	feb.seconds_active = 1859;
	feb.bytes_read = 3000001;
	feb.bytes_written = 1000;
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 1000000, &feb), 100000);
	/* Under half an hour measured: no estimate. */
	feb.seconds_active = 1799;
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 1000000, &feb), 0);

	/* The soft limit hit 10 days in, after 51.84 GB: tor takes bytes per
	 * second and divides by 60 again (51840000000 / 864000 / 60 = 1000),
	 * not the 3600000 bytes per minute it means. */
	feb.seconds_active = 7200;
	feb.bytes_read = 60000000000ULL;
	feb.soft_limit_hit_at = utc(2024, 2, 11, 0, 0, 0);
	feb.bytes_at_soft_limit = 51840000000ULL;
	feb.seconds_to_soft_limit = 7000;
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 1000000, &feb), 1000);
	/* And the cap applies there too. */
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 10, &feb), 600);
	/* Hit only 1800 s in: too early to measure, the active-time rule
	 * (6e10 / 120 min, capped at 6e7) is used. */
	feb.soft_limit_hit_at = utc(2024, 2, 1, 0, 30, 0);
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 1000000, &feb), 60000000);
	feb.soft_limit_hit_at = utc(2024, 2, 1, 0, 30, 1);
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 1000000, &feb),
			51840000000ULL / 1801 / 60);
	/* No bytes recorded at the soft limit: the active-time rule. */
	feb.bytes_at_soft_limit = 0;
	assert_int_equal(expected_after_february(ACCOUNTING_RULE_MAX, 1000000, &feb), 60000000);
}

static void
test_reconfigure_keeps_counts(void **state)
{
	struct accounting_config cfg = config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000);
	struct accounting_saved other = march_saved;
	time_t t0 = utc(2024, 3, 1, 0, 0, 0);
	struct accounting a = fresh(&cfg, t0);

	(void)state;
	assert_int_equal(accounting_tick(&a, t0), ACCOUNTING_NONE);
	accounting_add_bytes(&a, 99614720, 10, 1);
	assert_int_equal(accounting_tick(&a, t0 + 1), ACCOUNTING_GO_SOFT);
	/* A reload: the state file is not read again, the counts and the
	 * state stay, the new limit applies at the next tick. */
	cfg.max = 200 * MIB;
	accounting_configure(&a, &cfg, identity, &other, t0 + 2);
	assert_int_equal(a.state, HIBERNATE_SOFT);
	assert_int_equal(a.bytes_read, 99614720);
	assert_int_equal(a.interval_start, t0);
	assert_int_equal(a.cfg.max, 200 * MIB);
	assert_int_equal(accounting_tick(&a, t0 + 3), ACCOUNTING_NONE);
	accounting_add_bytes(&a, 200 * MIB, 0, 1);
	assert_int_equal(accounting_tick(&a, t0 + 4), ACCOUNTING_GO_HARD);
	/* AccountingMax 0: accounting off, the hibernation ends at the next
	 * tick since the wake-up time (the start) has passed. */
	cfg.max = 0;
	accounting_configure(&a, &cfg, identity, NULL, t0 + 5);
	assert_int_equal(a.interval_start, t0);
	assert_int_equal(accounting_tick(&a, t0 + 6), ACCOUNTING_WAKE);
	assert_int_equal(a.state, HIBERNATE_AWAKE);
	assert_int_equal(accounting_tick(&a, t0 + 7), ACCOUNTING_NONE);
}

/* ------------------------------------------------------------------ */
/* Counting and limits                                                 */

static void
test_add_bytes_gaps(void **state)
{
	struct accounting_config cfg = config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000);
	struct accounting a = fresh(&cfg, utc(2024, 3, 1, 0, 0, 0));

	(void)state;
	accounting_add_bytes(&a, 100, 200, 1);
	accounting_add_bytes(&a, 1, 2, 9);
	assert_int_equal(a.seconds_active, 10);
	/* 10 s or more: the clock jumped, the bytes count, the time not. */
	accounting_add_bytes(&a, 10, 20, 10);
	accounting_add_bytes(&a, 10, 20, 3600);
	assert_int_equal(a.seconds_active, 10);
	assert_int_equal(a.bytes_read, 121);
	assert_int_equal(a.bytes_written, 242);
	accounting_add_bytes(&a, 0, 0, 0);
	assert_int_equal(a.seconds_active, 10);
}

static void
test_rules(void **state)
{
	struct accounting a = { .bytes_read = 300, .bytes_written = 500 };

	(void)state;
	a.cfg.rule = ACCOUNTING_RULE_MAX;
	assert_int_equal(accounting_bytes(&a), 500);
	a.cfg.rule = ACCOUNTING_RULE_SUM;
	assert_int_equal(accounting_bytes(&a), 800);
	a.cfg.rule = ACCOUNTING_RULE_IN;
	assert_int_equal(accounting_bytes(&a), 300);
	a.cfg.rule = ACCOUNTING_RULE_OUT;
	assert_int_equal(accounting_bytes(&a), 500);
	a.bytes_read = 900;
	a.cfg.rule = ACCOUNTING_RULE_MAX;
	assert_int_equal(accounting_bytes(&a), 900);
}

/* Below soft_limit one byte: awake; at it: soft. a is awake and past
 * its wake-up time at now. */
static void
soft_limit_is(struct accounting *a, uint64_t soft_limit, time_t now)
{
	a->bytes_read = soft_limit - 1;
	assert_int_equal(accounting_tick(a, now), ACCOUNTING_NONE);
	assert_int_equal(a->state, HIBERNATE_AWAKE);
	accounting_add_bytes(a, 1, 0, 1);
	assert_int_equal(accounting_tick(a, now + 1), ACCOUNTING_GO_SOFT);
	assert_int_equal(a->state, HIBERNATE_SOFT);
	assert_int_equal(a->soft_limit_hit_at, now + 1);
	assert_int_equal(a->bytes_at_soft_limit, soft_limit);
	assert_int_equal(a->hibernate_end, a->interval_end);
}

static void
test_soft_limit(void **state)
{
	time_t t0 = utc(2024, 3, 1, 0, 0, 0);
	struct accounting_config cfg;
	struct accounting_saved saved;
	struct accounting a;

	(void)state;
	/* 100 MiB: 95 % (99614720) comes after "500 MiB left". */
	cfg = config(100 * MIB, ACCOUNTING_RULE_MAX, "month 1 00:00", 1000000);
	a = fresh(&cfg, t0);
	soft_limit_is(&a, 99614720, t0);

	/* 10 GiB: 95 % would be 10200547328; 500 MiB left comes later. */
	cfg = config(10 * 1024 * MIB, ACCOUNTING_RULE_MAX, "month 1 00:00", 1000000);
	a = fresh(&cfg, t0);
	soft_limit_is(&a, 10737418240ULL - 524288000, t0);

	/* An expected 1 MB a minute: 3 hours of it (180 MB) left comes later
	 * still. The wake-up time is before end - 10737 * 60 s. */
	saved = (struct accounting_saved){ .interval_start = t0, .expected_usage = 1000000 };
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 31, 0, 0, 0));
	assert_int_equal(a.expected_usage, 1000000);
	assert_true(a.interval_wakeup < a.interval_end - 10737 * 60);
	soft_limit_is(&a, 10737418240ULL - 180000000, utc(2024, 3, 31, 0, 0, 0));

	/* A small expected use: 3 h of it (180 kB) is the last condition to
	 * come true, the soft limit is 180 kB before the end. */
	saved.expected_usage = 1000;
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 31, 0, 0, 0));
	soft_limit_is(&a, 10737418240ULL - 180000, utc(2024, 3, 31, 0, 0, 0));

	/* A large one (3 h = 1.8 GB): 500 MiB left comes later. */
	saved.expected_usage = 10000000;
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, utc(2024, 3, 31, 0, 0, 0));
	assert_true(a.interval_wakeup < a.interval_end - 1073 * 60);
	soft_limit_is(&a, 10737418240ULL - 524288000, utc(2024, 3, 31, 0, 0, 0));

	/* AccountingMax 1: 95 % rounds down to 0, which tor takes as "no
	 * soft limit"; the hard limit is only looked at when soft, so the
	 * relay never hibernates. */
	cfg = config(1, ACCOUNTING_RULE_MAX, "month 1 00:00", 1000000);
	a = fresh(&cfg, t0);
	accounting_add_bytes(&a, 5, 5, 1);
	assert_int_equal(accounting_tick(&a, t0 + 1), ACCOUNTING_NONE);
	assert_int_equal(a.state, HIBERNATE_AWAKE);
}

/* ------------------------------------------------------------------ */
/* The state machine on virtual time                                   */

static void
test_awake_soft_hard_awake(void **state)
{
	struct accounting_config cfg =
			config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000000);
	time_t t0 = utc(2024, 3, 1, 0, 0, 0);
	struct accounting a = fresh(&cfg, t0);
	time_t now = t0;
	int i;

	(void)state;
	assert_int_equal(accounting_tick(&a, now), ACCOUNTING_NONE);
	assert_int_equal(a.state, HIBERNATE_AWAKE);
	assert_false(a.initial);
	/* 1 MB read and 0.5 MB written a second: the soft limit (99614720)
	 * after 100 s, the hard one (104857600) after 105 s. */
	for (i = 1; i < 100; i++) {
		accounting_add_bytes(&a, 1000000, 500000, 1);
		assert_int_equal(accounting_tick(&a, ++now), ACCOUNTING_NONE);
	}
	accounting_add_bytes(&a, 1000000, 500000, 1);
	assert_int_equal(accounting_tick(&a, ++now), ACCOUNTING_GO_SOFT);
	assert_int_equal(a.state, HIBERNATE_SOFT);
	assert_int_equal(a.soft_limit_hit_at, t0 + 100);
	assert_int_equal(a.seconds_to_soft_limit, 100);
	assert_int_equal(a.bytes_at_soft_limit, 100000000);
	assert_int_equal(a.hibernate_end, t0 + DAY);
	for (i = 101; i < 105; i++) {
		accounting_add_bytes(&a, 1000000, 500000, 1);
		assert_int_equal(accounting_tick(&a, ++now), ACCOUNTING_NONE);
	}
	accounting_add_bytes(&a, 1000000, 500000, 1);
	assert_int_equal(accounting_tick(&a, ++now), ACCOUNTING_GO_HARD);
	assert_int_equal(a.state, HIBERNATE_HARD);
	/* Past the wake-up time (the start): until the interval ends. */
	assert_int_equal(a.hibernate_end, t0 + DAY);
	/* The soft-limit values stay those of the soft limit. */
	assert_int_equal(a.soft_limit_hit_at, t0 + 100);
	assert_int_equal(accounting_tick(&a, t0 + 50000), ACCOUNTING_NONE);
	assert_int_equal(accounting_tick(&a, t0 + DAY - 1), ACCOUNTING_NONE);
	assert_int_equal(a.state, HIBERNATE_HARD);
	/* A new interval; 105 active seconds estimate nothing, so awake at
	 * once. */
	assert_int_equal(accounting_tick(&a, t0 + DAY), ACCOUNTING_WAKE);
	assert_int_equal(a.state, HIBERNATE_AWAKE);
	assert_int_equal(a.hibernate_end, 0);
	assert_int_equal(a.interval_start, t0 + DAY);
	assert_int_equal(a.interval_end, t0 + 2 * DAY);
	assert_int_equal(a.interval_wakeup, t0 + DAY);
	assert_int_equal(a.expected_usage, 0);
	assert_int_equal(a.bytes_read, 0);
	assert_int_equal(a.bytes_written, 0);
	assert_int_equal(a.seconds_active, 0);
	assert_int_equal(a.soft_limit_hit_at, 0);
	assert_int_equal(accounting_tick(&a, t0 + DAY + 1), ACCOUNTING_NONE);
}

static void
test_restart_over_limits(void **state)
{
	struct accounting_config cfg =
			config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000000);
	time_t t0 = utc(2024, 3, 1, 0, 0, 0);
	struct accounting_saved saved = {
		.interval_start = t0,
		.bytes_read = 100 * MIB + 1024,
		.seconds_active = 500,
		.seconds_to_soft_limit = 400,
		.soft_limit_hit_at = t0 + 5000,
		.bytes_at_soft_limit = 99614720,
	};
	struct accounting a = { 0 };

	(void)state;
	/* Over the hard limit: AWAKE -> SOFT -> HARD in the first tick. */
	accounting_configure(&a, &cfg, identity, &saved, t0 + 6000);
	assert_int_equal(accounting_tick(&a, t0 + 6000), ACCOUNTING_GO_HARD);
	assert_int_equal(a.state, HIBERNATE_HARD);
	assert_int_equal(a.hibernate_end, t0 + DAY);
	/* Going soft from the first tick keeps what the file said. */
	assert_int_equal(a.soft_limit_hit_at, t0 + 5000);
	assert_int_equal(a.seconds_to_soft_limit, 400);
	assert_int_equal(a.bytes_at_soft_limit, 99614720);
	assert_true(accounting_should_save(&a, t0 + 6000));

	/* Over the soft limit only: soft, nothing recorded. */
	saved = (struct accounting_saved){ .interval_start = t0, .bytes_written = 99614720 };
	a = (struct accounting){ 0 };
	accounting_configure(&a, &cfg, identity, &saved, t0 + 6000);
	assert_int_equal(accounting_tick(&a, t0 + 6000), ACCOUNTING_GO_SOFT);
	assert_int_equal(a.soft_limit_hit_at, 0);
	assert_int_equal(a.bytes_at_soft_limit, 0);
	assert_int_equal(a.hibernate_end, t0 + DAY);
}

/* tor's accounting_set_wakeup_time(), written out again here: SHA-1 of
 * the interval start as "YYYY-MM-DD HH:MM:SS" (UTC, no NUL) and the
 * identity digest, its first 4 bytes in host order, modulo the part of
 * the interval that leaves time to spend the budget. */
static time_t
wakeup_time(time_t start, time_t end, uint64_t max, uint64_t expected)
{
	char iso[32];
	struct tm tm;
	uint8_t input[19 + 20];
	uint8_t digest[EVP_MAX_MD_SIZE];
	uint32_t word;
	int64_t window = (int64_t)(end - start) - (int64_t)(max / expected * 60);

	if (window <= 0)
		return start;
	assert_non_null(gmtime_r(&start, &tm));
	assert_int_equal(strftime(iso, sizeof(iso), "%Y-%m-%d %H:%M:%S", &tm), 19);
	memcpy(input, iso, 19);
	memcpy(input + 19, identity, 20);
	assert_int_equal(EVP_Digest(input, sizeof(input), digest, NULL, EVP_sha1(), NULL), 1);
	memcpy(&word, digest, 4);
	return start + (time_t)(word % (uint32_t)window);
}

static void
test_second_interval_sleeps(void **state)
{
	struct accounting_config cfg =
			config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000000);
	time_t t0 = utc(2024, 3, 1, 0, 0, 0);
	time_t t1 = t0 + DAY;
	struct accounting a = fresh(&cfg, t0);
	time_t now = t0;
	time_t wakeup;

	(void)state;
	assert_int_equal(accounting_tick(&a, now), ACCOUNTING_NONE);
	/* An hour at 10 kB/s read, then idle: 36 MB, far from the limit. */
	for (int i = 0; i < 3600; i++) {
		accounting_add_bytes(&a, 10000, 2000, 1);
		assert_int_equal(accounting_tick(&a, ++now), ACCOUNTING_NONE);
	}
	assert_true(accounting_should_save(&a, now));
	assert_int_equal(accounting_tick(&a, t1 - 1), ACCOUNTING_NONE);
	assert_int_equal(a.state, HIBERNATE_AWAKE);

	/* The next day: 36e6 / 60 min = 600000 bytes a minute expected; 100
	 * MiB last 174 minutes (10440 s), so the wake-up time is somewhere in
	 * the first 86400 - 10440 s. */
	assert_int_equal(accounting_tick(&a, t1), ACCOUNTING_GO_HARD);
	assert_int_equal(a.interval_start, t1);
	assert_int_equal(a.expected_usage, 600000);
	wakeup = wakeup_time(t1, t1 + DAY, 100 * MIB, 600000);
	assert_int_equal(a.interval_wakeup, wakeup);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* SHA-1("2024-03-02 00:00:00" || 01..14) starts 98 56 11 3d:
	 * 0x3d115698 = 1024546456, % 75960 = 73936 (Python's hashlib). */
	assert_int_equal(wakeup, utc(2024, 3, 2, 20, 32, 16));
#endif
	assert_int_equal(a.state, HIBERNATE_HARD);
	assert_int_equal(a.hibernate_end, wakeup);
	assert_true(accounting_should_save(&a, t1));
	assert_int_equal(accounting_tick(&a, t1 + 1), ACCOUNTING_NONE);
	assert_int_equal(accounting_tick(&a, wakeup - 1), ACCOUNTING_NONE);
	assert_int_equal(a.state, HIBERNATE_HARD);
	assert_int_equal(accounting_tick(&a, wakeup), ACCOUNTING_WAKE);
	assert_int_equal(a.state, HIBERNATE_AWAKE);
	assert_int_equal(a.hibernate_end, 0);
	/* The same interval, so the same wake-up time after a restart. */
	{
		struct accounting_saved saved;
		struct accounting b = { 0 };

		accounting_saved_get(&a, &saved);
		accounting_configure(&b, &cfg, identity, &saved, wakeup + 10);
		assert_int_equal(b.interval_wakeup, wakeup);
		assert_int_equal(accounting_tick(&b, wakeup + 10), ACCOUNTING_NONE);
		assert_int_equal(b.state, HIBERNATE_AWAKE);
		/* Before it, a restart goes back to sleep until it. */
		b = (struct accounting){ 0 };
		accounting_configure(&b, &cfg, identity, &saved, t1 + 100);
		assert_int_equal(accounting_tick(&b, t1 + 100), ACCOUNTING_GO_HARD);
		assert_int_equal(b.hibernate_end, wakeup);
	}
}

/* Soft to the end of the interval: the next one's estimate comes from the
 * active time (the soft limit came within the first half hour), and it
 * sleeps until its wake-up time. */
static void
test_soft_until_interval_end(void **state)
{
	struct accounting_config cfg =
			config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000000);
	time_t t0 = utc(2024, 3, 1, 0, 0, 0);
	time_t t1 = t0 + DAY;
	struct accounting a = fresh(&cfg, t0);
	time_t wakeup;

	(void)state;
	assert_int_equal(accounting_tick(&a, t0), ACCOUNTING_NONE);
	for (int i = 1; i <= 1000; i++) {
		accounting_add_bytes(&a, i < 1000 ? 99614 : 99614 + 720, 0, 1);
		assert_int_equal(accounting_tick(&a, t0 + i), i < 1000 ? ACCOUNTING_NONE :
				ACCOUNTING_GO_SOFT);
	}
	assert_int_equal(a.soft_limit_hit_at, t0 + 1000);
	for (int i = 1001; i <= 3600; i++) {
		accounting_add_bytes(&a, 100, 0, 1);
		assert_int_equal(accounting_tick(&a, t0 + i), ACCOUNTING_NONE);
	}
	assert_int_equal(a.bytes_read, 99874720);
	assert_int_equal(accounting_tick(&a, t1 - 1), ACCOUNTING_NONE);
	assert_int_equal(a.state, HIBERNATE_SOFT);
	/* 99874720 bytes in 60 active minutes: 1664578 a minute; 100 MiB
	 * last 62 minutes of it, leaving 86400 - 3720 s to choose from. */
	assert_int_equal(accounting_tick(&a, t1), ACCOUNTING_GO_HARD);
	assert_int_equal(a.expected_usage, 1664578);
	assert_int_equal(a.interval_start, t1);
	assert_int_equal(a.bytes_read, 0);
	assert_int_equal(a.soft_limit_hit_at, 0);
	wakeup = wakeup_time(t1, t1 + DAY, 100 * MIB, 1664578);
	assert_int_equal(a.interval_wakeup, wakeup);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* 1024546456 % 82680 = 58576. */
	assert_int_equal(wakeup, utc(2024, 3, 2, 16, 16, 16));
#endif
	assert_int_equal(a.hibernate_end, wakeup);
	assert_int_equal(accounting_tick(&a, wakeup - 1), ACCOUNTING_NONE);
	assert_int_equal(accounting_tick(&a, wakeup), ACCOUNTING_WAKE);
}

/* The soft limit reached an hour in: tor's estimate from it is bytes per
 * second / 60 (461), so small that the next interval never sleeps first. */
static void
test_soft_limit_estimate_live(void **state)
{
	struct accounting_config cfg =
			config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000000);
	time_t t0 = utc(2024, 3, 1, 0, 0, 0);
	time_t t1 = t0 + DAY;
	struct accounting a = fresh(&cfg, t0);

	(void)state;
	assert_int_equal(accounting_tick(&a, t0), ACCOUNTING_NONE);
	for (int i = 0; i < 3600; i++)
		accounting_add_bytes(&a, 27670, 0, 1);
	accounting_add_bytes(&a, 99614720 - 3600 * 27670, 0, 0);
	assert_int_equal(accounting_tick(&a, t0 + 3600), ACCOUNTING_GO_SOFT);
	assert_int_equal(a.seconds_to_soft_limit, 3600);
	assert_int_equal(accounting_tick(&a, t1), ACCOUNTING_WAKE);
	assert_int_equal(a.expected_usage, 461);
	/* 104857600 / 461 * 60 s (158 days) is longer than the day. */
	assert_int_equal(a.interval_wakeup, t1);
}

/* ------------------------------------------------------------------ */
/* Saving                                                              */

static void
test_should_save(void **state)
{
	struct accounting_config cfg =
			config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000000);
	time_t t0 = utc(2024, 3, 1, 0, 0, 0);
	struct accounting a = fresh(&cfg, t0);

	(void)state;
	/* Never saved: at once (tor's last_time_noted starts at 0). */
	assert_true(accounting_should_save(&a, t0));
	assert_false(accounting_should_save(&a, t0 + 1));
	assert_false(accounting_should_save(&a, t0 + 599));
	assert_true(accounting_should_save(&a, t0 + 600));
	assert_false(accounting_should_save(&a, t0 + 601));
	/* 20 MiB more read, or written, since the last save. */
	accounting_add_bytes(&a, 20 * MIB - 1, 0, 1);
	assert_false(accounting_should_save(&a, t0 + 602));
	accounting_add_bytes(&a, 1, 0, 1);
	assert_true(accounting_should_save(&a, t0 + 603));
	assert_int_equal(a.read_saved, 20 * MIB);
	assert_false(accounting_should_save(&a, t0 + 604));
	accounting_add_bytes(&a, 0, 20 * MIB - 1, 1);
	assert_false(accounting_should_save(&a, t0 + 604));
	accounting_add_bytes(&a, 0, 1, 1);
	assert_true(accounting_should_save(&a, t0 + 605));
	assert_int_equal(a.written_saved, 20 * MIB);
	accounting_add_bytes(&a, 20 * MIB - 1, 20 * MIB - 1, 1);
	assert_false(accounting_should_save(&a, t0 + 606));
	/* A state change: saved once, without moving the periodic baseline
	 * (tor's hibernate_begin() records directly). */
	assert_int_equal(accounting_tick(&a, t0 + 607), ACCOUNTING_NONE);
	assert_false(accounting_should_save(&a, t0 + 607));
	accounting_add_bytes(&a, 60 * MIB, 0, 1);
	/* As if saved at these counts, so that only the state change is due. */
	a.read_saved = a.bytes_read;
	assert_int_equal(accounting_tick(&a, t0 + 608), ACCOUNTING_GO_SOFT);
	assert_true(accounting_should_save(&a, t0 + 608));
	assert_false(accounting_should_save(&a, t0 + 609));
	assert_true(accounting_should_save(&a, t0 + 605 + 600));
	/* The interval's end has come (before the tick starts the next). */
	assert_false(accounting_should_save(&a, t0 + 1300));
	assert_true(accounting_should_save(&a, t0 + DAY));
}

static const char formatted_state[] =
	"# hsrelay state file: tor's Accounting* keys\n"
	"# Times are in UTC\n"
	"\n"
	"AccountingBytesReadInInterval 1024\n"
	"AccountingBytesWrittenInInterval 2048\n"
	"AccountingExpectedUsage 600000\n"
	"AccountingIntervalStart 2024-03-01 00:00:00\n"
	"AccountingSecondsActive 3600\n"
	"AccountingSecondsToReachSoftLimit 1234\n"
	"AccountingSoftLimitHitAt 2024-03-10 06:00:00\n"
	"AccountingBytesAtSoftLimit 99614721\n"
	"LastWritten 2024-03-15 12:34:56\n";

static void
test_state_round_trip(void **state)
{
	struct accounting_saved saved = {
		.interval_start = utc(2024, 3, 1, 0, 0, 0),
		.bytes_read = 1,
		.bytes_written = 1025,
		.seconds_active = 3600,
		.expected_usage = 600000,
		.seconds_to_soft_limit = 1234,
		.soft_limit_hit_at = utc(2024, 3, 10, 6, 0, 0),
		.bytes_at_soft_limit = 99614721,
	};
	struct accounting_saved back;
	char buf[1024];
	unsigned bad_line = 99;
	int n;

	(void)state;
	n = accounting_state_format(&saved, utc(2024, 3, 15, 12, 34, 56), buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(formatted_state));
	assert_string_equal(buf, formatted_state);
	assert_int_equal(accounting_state_parse(buf, (size_t)n, &back, &bad_line), 0);
	assert_int_equal(bad_line, 99);
	/* Only the read and written counts are rounded up to 1024. */
	assert_int_equal(back.bytes_read, 1024);
	assert_int_equal(back.bytes_written, 2048);
	assert_int_equal(back.interval_start, saved.interval_start);
	assert_int_equal(back.seconds_active, 3600);
	assert_int_equal(back.expected_usage, 600000);
	assert_int_equal(back.seconds_to_soft_limit, 1234);
	assert_int_equal(back.soft_limit_hit_at, saved.soft_limit_hit_at);
	assert_int_equal(back.bytes_at_soft_limit, 99614721);

	/* Zero values are left out (tor's minimal dump); 0 stays 0 through
	 * the rounding; they read back as 0. */
	saved = (struct accounting_saved){
		.interval_start = utc(2024, 3, 1, 0, 0, 0),
		.bytes_written = 2048,
	};
	n = accounting_state_format(&saved, utc(2024, 3, 2, 0, 0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "# hsrelay state file: tor's Accounting* keys\n"
			"# Times are in UTC\n"
			"\n"
			"AccountingBytesWrittenInInterval 2048\n"
			"AccountingIntervalStart 2024-03-01 00:00:00\n"
			"LastWritten 2024-03-02 00:00:00\n");
	memset(&back, 0xa5, sizeof(back));
	assert_int_equal(accounting_state_parse(buf, (size_t)n, &back, NULL), 0);
	assert_int_equal(back.bytes_read, 0);
	assert_int_equal(back.bytes_written, 2048);
	assert_int_equal(back.seconds_active, 0);
	assert_int_equal(back.expected_usage, 0);
	assert_int_equal(back.soft_limit_hit_at, 0);

	/* What accounting_saved_get() gives goes through unchanged apart
	 * from the rounding. */
	{
		struct accounting_config cfg =
				config(100 * MIB, ACCOUNTING_RULE_MAX, "day 00:00", 1000);
		struct accounting a = fresh(&cfg, utc(2024, 3, 1, 0, 0, 0));

		accounting_add_bytes(&a, 5000, 1024, 5);
		accounting_saved_get(&a, &saved);
		assert_int_equal(saved.interval_start, utc(2024, 3, 1, 0, 0, 0));
		assert_int_equal(saved.bytes_read, 5000);
		assert_int_equal(saved.bytes_written, 1024);
		assert_int_equal(saved.seconds_active, 5);
		n = accounting_state_format(&saved, utc(2024, 3, 1, 0, 0, 5), buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(accounting_state_parse(buf, (size_t)n, &back, NULL), 0);
		assert_int_equal(back.bytes_read, 5120);
		assert_int_equal(back.bytes_written, 1024);
		assert_int_equal(back.seconds_active, 5);
	}
}

static void
test_state_format_no_space(void **state)
{
	struct accounting_saved saved = { .interval_start = utc(2024, 3, 1, 0, 0, 0) };
	char buf[256];
	int n;

	(void)state;
	n = accounting_state_format(&saved, utc(2024, 3, 2, 0, 0, 0), buf, sizeof(buf));
	/* 65 bytes of header, 44 of interval start, 32 of LastWritten. */
	assert_int_equal(n, 141);
	/* Room for the text and its NUL, not one byte less. */
	assert_int_equal(accounting_state_format(&saved, utc(2024, 3, 2, 0, 0, 0), buf, 142),
			141);
	assert_int_equal(accounting_state_format(&saved, utc(2024, 3, 2, 0, 0, 0), buf, 141),
			-ENOSPC);
	assert_int_equal(accounting_state_format(&saved, utc(2024, 3, 2, 0, 0, 0), buf, 10),
			-ENOSPC);
}

static struct accounting_saved
parsed(const char *text)
{
	struct accounting_saved out;
	unsigned bad_line = 0;

	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(accounting_state_parse(text, strlen(text), &out, &bad_line), 0);
	assert_int_equal(bad_line, 0);
	return out;
}

static void
test_state_parse_tor_file(void **state)
{
	/* As tor writes it, among its other keys. */
	struct accounting_saved s = parsed(
			"# Tor state file last generated on 2024-03-15 13:00:00 local time\n"
			"# Other times below are in UTC\n"
			"# You *do not* need to edit this file.\n"
			"\n"
			"AccountingBytesReadInInterval 35433472\n"
			"AccountingBytesWrittenInInterval 36074496\n"
			"AccountingExpectedUsage 69120\n"
			"AccountingIntervalStart 2024-03-01 00:00:00\n"
			"AccountingSecondsActive 650840\n"
			"AccountingSecondsToReachSoftLimit 1000\n"
			"AccountingSoftLimitHitAt 2024-03-12 14:17:54\n"
			"AccountingBytesAtSoftLimit 34000000\n"
			"Guard in=default rsa_id=0123456789ABCDEF0123456789ABCDEF01234567 "
			"sampled_on=2024-03-01T00:00:00\n"
			"BWHistoryReadEnds 2024-03-15 12:00:00\n"
			"BWHistoryReadValues 1,2,3\n"
			"AccountingBytesReadInterval 5\n"
			"TorVersion Tor 0.4.9.1-alpha\n"
			"LastWritten 2024-03-15 12:00:00\n");

	(void)state;
	assert_int_equal(s.bytes_read, 35433472);
	assert_int_equal(s.bytes_written, 36074496);
	assert_int_equal(s.expected_usage, 69120);
	assert_int_equal(s.interval_start, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(s.seconds_active, 650840);
	assert_int_equal(s.seconds_to_soft_limit, 1000);
	assert_int_equal(s.soft_limit_hit_at, utc(2024, 3, 12, 14, 17, 54));
	assert_int_equal(s.bytes_at_soft_limit, 34000000);
}

static void
test_state_parse_lines(void **state)
{
	struct accounting_saved s;

	(void)state;
	/* Keys in any case, tabs, CRLF, comments after values, spaces
	 * before keys, the last of a repeated key. */
	s = parsed("  accountingsecondsactive\t42   # a comment\r\n"
			"ACCOUNTINGEXPECTEDUSAGE 5\n"
			"AccountingExpectedUsage 7\r\n"
			"AccountingBytesReadInInterval 1024");
	assert_int_equal(s.seconds_active, 42);
	assert_int_equal(s.expected_usage, 7);
	assert_int_equal(s.bytes_read, 1024);
	assert_int_equal(s.interval_start, 0);
	/* An empty value resets the key, as tor's config_assign_line(). */
	s = parsed("AccountingExpectedUsage 5\nAccountingExpectedUsage\n"
			"AccountingSecondsActive#comment\nAccountingIntervalStart   \n");
	assert_int_equal(s.expected_usage, 0);
	assert_int_equal(s.seconds_active, 0);
	/* Longest values accepted. */
	s = parsed("AccountingSecondsActive 2147483647\n"
			"AccountingBytesAtSoftLimit 18446744073709551615\n"
			"AccountingSoftLimitHitAt 2024-03-02 00:00:00\n");
	assert_int_equal(s.seconds_active, 2147483647);
	assert_int_equal(s.bytes_at_soft_limit, UINT64_MAX);
	/* tor_sscanf's %2u takes one digit; timegm() carries Feb 30 into
	 * March and second 60 into the next minute, as tor on Linux. */
	s = parsed("AccountingIntervalStart 2024-1-2 3:4:5\n");
	assert_int_equal(s.interval_start, utc(2024, 1, 2, 3, 4, 5));
	s = parsed("AccountingIntervalStart 2024-02-30 00:00:60\n");
	assert_int_equal(s.interval_start, utc(2024, 3, 1, 0, 1, 0));
	/* tor takes years up to INT32_MAX - 1 and writes those after 9999 as
	 * its last second (tor's correct_tm()). */
	s = parsed("AccountingIntervalStart 20024-01-02 03:04:05\n");
	assert_int_equal(s.interval_start, 569729300645);
	{
		char buf[256];

		assert_int_equal(accounting_state_format(&s, utc(2024, 3, 1, 0, 0, 0), buf,
				sizeof(buf)), 141);
		assert_non_null(strstr(buf, "\nAccountingIntervalStart 9999-12-31 23:59:59\n"));
	}
	/* Nothing at all. */
	s = parsed("");
	assert_int_equal(s.bytes_read, 0);
	assert_int_equal(s.interval_start, 0);
	assert_int_equal(s.soft_limit_hit_at, 0);
}

static void
refused(const char *text, unsigned line)
{
	struct accounting_saved out;
	struct accounting_saved before;
	unsigned bad_line = 0;

	memset(&out, 0x5a, sizeof(out));
	before = out;
	assert_int_equal(accounting_state_parse(text, strlen(text), &out, &bad_line), -EINVAL);
	assert_int_equal(bad_line, line);
	assert_memory_equal(&out, &before, sizeof(out));
}

static void
test_state_parse_malformed(void **state)
{
	(void)state;
	refused("AccountingBytesReadInInterval 12x\n", 1);
	refused("# comment\n\nAccountingBytesReadInInterval 12x\n", 3);
	refused("AccountingSecondsActive 5\r\nAccountingBytesWrittenInInterval -1\n", 2);
	refused("AccountingExpectedUsage 1.5\n", 1);
	refused("AccountingExpectedUsage \"5\"\n", 1);
	refused("AccountingSecondsActive 5 seconds\n", 1);
	refused("AccountingSecondsActive 2147483648\n", 1);
	refused("AccountingSecondsToReachSoftLimit 99999999999\n", 1);
	refused("AccountingBytesAtSoftLimit 18446744073709551616\n", 1);
	refused("AccountingIntervalStart 2024-13-01 00:00:00\n", 1);
	refused("AccountingIntervalStart 2024-00-01 00:00:00\n", 1);
	refused("AccountingIntervalStart 2024-01-32 00:00:00\n", 1);
	refused("AccountingIntervalStart 2024-01-01 24:00:00\n", 1);
	refused("AccountingIntervalStart 2024-01-01 00:60:00\n", 1);
	refused("AccountingIntervalStart 2024-01-01 00:00:61\n", 1);
	refused("AccountingIntervalStart 1969-12-31 23:59:59\n", 1);
	refused("AccountingIntervalStart 2024-01-01T00:00:00\n", 1);
	refused("AccountingIntervalStart 2024-01-01 00:00:00 UTC\n", 1);
	refused("AccountingIntervalStart 2024-01-01 00:00:000\n", 1);
	refused("AccountingIntervalStart 2024-01-01\n", 1);
	refused("AccountingIntervalStart 2147483647-01-01 00:00:00\n", 1);
	refused("X 1\nY 2\nAccountingSoftLimitHitAt yesterday\n", 3);
	refused("LastWritten 2024-03-15\n", 1);
	/* The first bad line is the one reported. */
	refused("AccountingSecondsActive x\nAccountingExpectedUsage y\n", 1);
}

static void
test_state_parse_soft_limit_ignored(void **state)
{
	struct accounting_saved s;

	(void)state;
	/* At the interval start, or before it: another interval's values. */
	s = parsed("AccountingIntervalStart 2024-03-01 00:00:00\n"
			"AccountingSoftLimitHitAt 2024-03-01 00:00:00\n"
			"AccountingSecondsToReachSoftLimit 50\n"
			"AccountingBytesAtSoftLimit 4096\n"
			"AccountingSecondsActive 60\n");
	assert_int_equal(s.interval_start, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(s.soft_limit_hit_at, 0);
	assert_int_equal(s.seconds_to_soft_limit, 0);
	assert_int_equal(s.bytes_at_soft_limit, 0);
	assert_int_equal(s.seconds_active, 60);
	s = parsed("AccountingSoftLimitHitAt 2024-02-20 00:00:00\n"
			"AccountingBytesAtSoftLimit 4096\n"
			"AccountingIntervalStart 2024-03-01 00:00:00\n");
	assert_int_equal(s.soft_limit_hit_at, 0);
	assert_int_equal(s.bytes_at_soft_limit, 0);
	/* A second later: kept, whatever the order of the lines. */
	s = parsed("AccountingSoftLimitHitAt 2024-03-01 00:00:01\n"
			"AccountingSecondsToReachSoftLimit 50\n"
			"AccountingBytesAtSoftLimit 4096\n"
			"AccountingIntervalStart 2024-03-01 00:00:00\n");
	assert_int_equal(s.soft_limit_hit_at, utc(2024, 3, 1, 0, 0, 1));
	assert_int_equal(s.seconds_to_soft_limit, 50);
	assert_int_equal(s.bytes_at_soft_limit, 4096);
}

/* The input is exactly len bytes in its own allocation (no NUL after it),
 * so that ASan sees a read past its end. */
static int
parse_exact(const char *text, size_t len, struct accounting_saved *out, unsigned *bad_line)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	rc = accounting_state_parse(copy, len, out, bad_line);
	free(copy);
	return rc;
}

static void
test_state_parse_bounded(void **state)
{
	static const char text[] = "AccountingSecondsActive 12345";
	static const char with_nul[] = "AccountingSecondsActive 1\0 2\n";
	static const char nul_elsewhere[] = "Other \0x\nAccountingSecondsActive 7";
	struct accounting_saved s;
	unsigned bad_line = 0;

	(void)state;
	assert_int_equal(parse_exact(text, strlen(text), &s, &bad_line), 0);
	assert_int_equal(s.seconds_active, 12345);
	/* Only len bytes count: the value is cut. */
	assert_int_equal(parse_exact(text, 26, &s, &bad_line), 0);
	assert_int_equal(s.seconds_active, 12);
	/* Cut inside the key: not an Accounting* key any more. */
	assert_int_equal(parse_exact(text, 10, &s, &bad_line), 0);
	assert_int_equal(s.seconds_active, 0);
	assert_int_equal(parse_exact(text, 0, &s, &bad_line), 0);
	/* A NUL is a byte like another: in a value it is malformed, in an
	 * unknown line it is ignored. */
	assert_int_equal(parse_exact(with_nul, sizeof(with_nul) - 1, &s, &bad_line), -EINVAL);
	assert_int_equal(bad_line, 1);
	assert_int_equal(parse_exact(nul_elsewhere, sizeof(nul_elsewhere) - 1, &s, &bad_line),
			0);
	assert_int_equal(s.seconds_active, 7);
}

/* ------------------------------------------------------------------ */
/* Directory service                                                   */

static void
test_allows_dir_service(void **state)
{
	/* March 2024: 31 days, 2678400 s; 2678400000 bytes are 1000 B/s. */
	struct accounting_config cfg =
			config(2678400000ULL, ACCOUNTING_RULE_MAX, "month 1 00:00", 1000000);
	struct accounting a = fresh(&cfg, utc(2024, 3, 15, 0, 0, 0));

	(void)state;
	assert_int_equal(a.interval_end - a.interval_start, 2678400);
	assert_true(accounting_allows_dir_service(&a, 999));
	assert_false(accounting_allows_dir_service(&a, 1000));
	a.cfg.rule = ACCOUNTING_RULE_OUT;
	assert_true(accounting_allows_dir_service(&a, 999));
	assert_false(accounting_allows_dir_service(&a, 1000));
	/* "sum": half the budget each way. */
	a.cfg.rule = ACCOUNTING_RULE_SUM;
	assert_true(accounting_allows_dir_service(&a, 499));
	assert_false(accounting_allows_dir_service(&a, 500));
	/* "in": directory answers are output. */
	a.cfg.rule = ACCOUNTING_RULE_IN;
	assert_true(accounting_allows_dir_service(&a, UINT64_MAX));
	/* An empty interval counts as one second. */
	a.cfg.rule = ACCOUNTING_RULE_MAX;
	a.cfg.max = 1000;
	a.interval_end = a.interval_start;
	assert_true(accounting_allows_dir_service(&a, 999));
	assert_false(accounting_allows_dir_service(&a, 1000));
	/* Accounting off. */
	a.cfg.max = 0;
	assert_true(accounting_allows_dir_service(&a, UINT64_MAX));
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(hibernate_state_name(HIBERNATE_AWAKE), "awake");
	assert_string_equal(hibernate_state_name(HIBERNATE_SOFT), "soft");
	assert_string_equal(hibernate_state_name(HIBERNATE_HARD), "hard");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_accepted),
		cmocka_unit_test(test_start_refused),
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_edges_month),
		cmocka_unit_test(test_edges_week),
		cmocka_unit_test(test_edges_day),
		cmocka_unit_test(test_edges_dst),
		cmocka_unit_test(test_configure_fresh),
		cmocka_unit_test(test_configure_continue),
		cmocka_unit_test(test_configure_moved),
		cmocka_unit_test(test_configure_elapsed),
		cmocka_unit_test(test_reconfigure_keeps_counts),
		cmocka_unit_test(test_add_bytes_gaps),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_soft_limit),
		cmocka_unit_test(test_awake_soft_hard_awake),
		cmocka_unit_test(test_restart_over_limits),
		cmocka_unit_test(test_second_interval_sleeps),
		cmocka_unit_test(test_soft_until_interval_end),
		cmocka_unit_test(test_soft_limit_estimate_live),
		cmocka_unit_test(test_should_save),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_format_no_space),
		cmocka_unit_test(test_state_parse_tor_file),
		cmocka_unit_test(test_state_parse_lines),
		cmocka_unit_test(test_state_parse_malformed),
		cmocka_unit_test(test_state_parse_soft_limit_ignored),
		cmocka_unit_test(test_state_parse_bounded),
		cmocka_unit_test(test_allows_dir_service),
		cmocka_unit_test(test_state_names),
	};

	/* Interval edges are local times: the tests run in UTC unless one
	 * sets another zone. */
	set_tz("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
