/* Bandwidth accounting and hibernation (tor's AccountingMax,
 * AccountingRule and AccountingStart; src/feature/hibernate/hibernate.c
 * of tor 0.4.9, whose behaviour this follows):
 *
 * - time is cut into accounting intervals (a month, week or day, starting
 *   at a configured day and local HH:MM);
 * - the bytes read and written on every link in the interval are counted,
 *   and AccountingRule says which count meets AccountingMax: the larger of
 *   the two (max, the default), their sum, or only one of them;
 * - near the limit (the soft limit: 95 % used, and under 500 MBytes or 3
 *   hours of the expected use left) the relay hibernates softly: no new
 *   connections, no new circuits, the existing ones go on;
 * - at the limit (hard) it closes every OR link until the interval ends;
 * - the counts survive a restart in DataDirectory/state, tor's
 *   Accounting* lines;
 * - from the second interval on, the relay wakes up at a time derived
 *   from its identity and the interval start, late enough that at the
 *   last interval's rate the budget lasts until the interval ends.
 *
 * Pure and single-threaded (the control thread); time is injected and
 * broken down in the local time zone (TZ), as tor does. */
#ifndef HSRELAY_CONTROL_ACCOUNTING_H
#define HSRELAY_CONTROL_ACCOUNTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum accounting_rule {
	ACCOUNTING_RULE_MAX,	/* max(read, written): tor's default */
	ACCOUNTING_RULE_SUM,
	ACCOUNTING_RULE_IN,
	ACCOUNTING_RULE_OUT,
};

enum accounting_unit {
	ACCOUNTING_UNIT_MONTH,
	ACCOUNTING_UNIT_WEEK,
	ACCOUNTING_UNIT_DAY,
};

/* AccountingStart: "month DAY HH:MM" (DAY 1..28), "week DAY HH:MM" (DAY
 * 1 = Monday .. 7 = Sunday) or "day HH:MM"; tor's default is month 1
 * 00:00. day is 0 for ACCOUNTING_UNIT_DAY. */
struct accounting_start {
	enum accounting_unit unit;
	int day;
	int hour;
	int minute;
};

#define ACCOUNTING_START_DEFAULT \
	((struct accounting_start){ .unit = ACCOUNTING_UNIT_MONTH, .day = 1 })

/* Parses an AccountingStart value as tor's accounting_parse_options()
 * does (unit case-insensitive, whitespace-separated words). On error,
 * returns -EINVAL and writes tor's message into err (e.g. "Monthly
 * accounting must begin on a day between 1 and 28"). */
int accounting_start_parse(const char *value, struct accounting_start *out, char *err,
		size_t err_len);

/* AccountingRule's word ("sum", "max", "in", "out": tor compares case
 * sensitively), or -EINVAL. */
int accounting_rule_parse(const char *value, enum accounting_rule *out);
const char *accounting_rule_name(enum accounting_rule rule);

#endif
