/* Bandwidth accounting and hibernation; see accounting.h. */
#include "control/accounting.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Configuration words                                                 */

static int
parse_error(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* tor_parse_long(s, 10, min, max, &ok, next): strtol's syntax within
 * [min, max]; without next the whole string, with it the rest is left
 * in *next. */
static bool
parse_long(const char *s, long min, long max, long *out, const char **next)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE || end == s || v < min || v > max)
		return false;
	if (next != NULL)
		*next = end;
	else if (*end != '\0')
		return false;
	*out = v;
	return true;
}

/* AccountingStart holds at most a unit, a day and a time: longer words
 * or more of them are an error anyway (tor counts the words first). */
#define START_WORDS_MAX 4
#define START_WORD_MAX 32

int
accounting_start_parse(const char *value, struct accounting_start *out, char *err,
		size_t err_len)
{
	char words[START_WORDS_MAX][START_WORD_MAX];
	unsigned n = 0, want;
	const char *p = value;
	struct accounting_start s = { 0 };
	const char *unit_word;
	long day = 0, hour, minute;
	const char *rest;

	/* tor smartlist_split_string(SPLIT_SKIP_SPACE | SPLIT_IGNORE_BLANK)
	 * on whitespace. */
	for (;;) {
		size_t len = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		while (p[len] != '\0' && !isspace((unsigned char)p[len]))
			len++;
		if (n < START_WORDS_MAX) {
			/* An over-long word is kept cut: it cannot parse as a
			 * unit, a day or HH:MM either way. */
			size_t keep = len < START_WORD_MAX - 1 ? len : START_WORD_MAX - 1;

			memcpy(words[n], p, keep);
			words[n][keep] = '\0';
		}
		n++;
		p += len;
	}
	if (n < 2)
		return parse_error(err, err_len, "Too few arguments to AccountingStart");
	unit_word = words[0];
	if (strcasecmp(unit_word, "month") == 0)
		s.unit = ACCOUNTING_UNIT_MONTH;
	else if (strcasecmp(unit_word, "week") == 0)
		s.unit = ACCOUNTING_UNIT_WEEK;
	else if (strcasecmp(unit_word, "day") == 0)
		s.unit = ACCOUNTING_UNIT_DAY;
	else
		return parse_error(err, err_len, "Unrecognized accounting unit '%s': only "
				"'month', 'week', and 'day' are supported.", unit_word);
	if (s.unit == ACCOUNTING_UNIT_WEEK && !parse_long(words[1], 1, 7, &day, NULL))
		return parse_error(err, err_len, "Weekly accounting must begin on a day "
				"between 1 (Monday) and 7 (Sunday)");
	if (s.unit == ACCOUNTING_UNIT_MONTH && !parse_long(words[1], 1, 28, &day, NULL))
		return parse_error(err, err_len, "Monthly accounting must begin on a day "
				"between 1 and 28");
	want = s.unit == ACCOUNTING_UNIT_DAY ? 1 : 2;
	if (n != want + 1)
		return parse_error(err, err_len, "Accounting unit '%s' requires %u argument%s.",
				unit_word, want, want > 1 ? "s" : "");
	if (!parse_long(words[want], 0, 23, &hour, &rest))
		return parse_error(err, err_len,
				"Accounting start time not parseable: bad hour.");
	if (*rest != ':')
		return parse_error(err, err_len, "Accounting start time not parseable: "
				"not in HH:MM format");
	if (!parse_long(rest + 1, 0, 59, &minute, &rest))
		return parse_error(err, err_len,
				"Accounting start time not parseable: bad minute");
	if (*rest != '\0')
		return parse_error(err, err_len, "Accounting start time not parseable: "
				"not in HH:MM format");
	s.day = (int)day;
	s.hour = (int)hour;
	s.minute = (int)minute;
	*out = s;
	return 0;
}

static const char *const rule_names[] = {
	[ACCOUNTING_RULE_MAX] = "max",
	[ACCOUNTING_RULE_SUM] = "sum",
	[ACCOUNTING_RULE_IN] = "in",
	[ACCOUNTING_RULE_OUT] = "out",
};

int
accounting_rule_parse(const char *value, enum accounting_rule *out)
{
	for (unsigned r = 0; r < sizeof(rule_names) / sizeof(rule_names[0]); r++) {
		if (strcmp(value, rule_names[r]) == 0) {
			*out = (enum accounting_rule)r;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
accounting_rule_name(enum accounting_rule rule)
{
	return (unsigned)rule < sizeof(rule_names) / sizeof(rule_names[0]) ? rule_names[rule] :
			"?";
}
