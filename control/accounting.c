/* Bandwidth accounting and hibernation; see accounting.h. */
#include "control/accounting.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

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

const char *
hibernate_state_name(enum hibernate_state state)
{
	switch (state) {
	case HIBERNATE_AWAKE:
		return "awake";
	case HIBERNATE_SOFT:
		return "soft";
	case HIBERNATE_HARD:
		return "hard";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* Interval edges                                                      */

/* tor's edge_of_accounting_period_containing(): the start (or, with
 * get_end, the end) of the interval holding now, in local time. The
 * broken-down fields are moved out of range on purpose (day 0, month -1)
 * and mktime() brings them back, tm_isdst = -1 letting it pick the DST
 * offset of the edge itself rather than the one of now. */
static time_t
period_edge(const struct accounting_start *start, time_t now, bool get_end)
{
	struct tm tm;
	bool before;

	if (localtime_r(&now, &tm) == NULL)
		return (time_t)-1;
	/* Whether now is earlier in its day than the HH:MM changeover. */
	before = tm.tm_hour < start->hour ||
			(tm.tm_hour == start->hour && tm.tm_min < start->minute);
	switch (start->unit) {
	case ACCOUNTING_UNIT_MONTH:
		/* Before this month's start day (or on it, before HH:MM): the
		 * interval began last month. */
		if (tm.tm_mday < start->day || (tm.tm_mday == start->day && before))
			tm.tm_mon--;
		tm.tm_mday = start->day;
		if (get_end)
			tm.tm_mon++;
		break;
	case ACCOUNTING_UNIT_WEEK: {
		/* AccountingStart says 7 for Sunday, struct tm says 0. */
		int wday = start->day % 7;
		int back = (7 + tm.tm_wday - wday) % 7;

		if (back == 0 && before)
			back = 7;
		tm.tm_mday -= back;
		if (get_end)
			tm.tm_mday += 7;
		break;
	}
	case ACCOUNTING_UNIT_DAY:
		if (before)
			tm.tm_mday--;
		if (get_end)
			tm.tm_mday++;
		break;
	}
	tm.tm_hour = start->hour;
	tm.tm_min = start->minute;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static time_t
period_start_containing(const struct accounting_start *start, time_t now)
{
	return period_edge(start, now, false);
}

static time_t
period_start_after(const struct accounting_start *start, time_t now)
{
	return period_edge(start, now, true);
}

/* tor's length_of_accounting_period_containing(): a DST change makes a
 * day 23 or 25 hours long, a month's length varies. */
static long
period_length_containing(const struct accounting_start *start, time_t now)
{
	return (long)(period_edge(start, now, true) - period_edge(start, now, false));
}

/* ------------------------------------------------------------------ */
/* Counting                                                            */

uint64_t
accounting_bytes(const struct accounting *a)
{
	switch (a->cfg.rule) {
	case ACCOUNTING_RULE_SUM:
		return a->bytes_read + a->bytes_written;
	case ACCOUNTING_RULE_IN:
		return a->bytes_read;
	case ACCOUNTING_RULE_OUT:
		return a->bytes_written;
	case ACCOUNTING_RULE_MAX:
		break;
	}
	return a->bytes_read > a->bytes_written ? a->bytes_read : a->bytes_written;
}

/* A gap this long between two calls means the clock jumped (or the
 * process was stopped): tor's accounting_add_bytes() does not count it as
 * time spent serving. */
#define ACTIVE_GAP_MAX 10

void
accounting_add_bytes(struct accounting *a, uint64_t read, uint64_t written, uint32_t seconds)
{
	a->bytes_read += read;
	a->bytes_written += written;
	if (seconds < ACTIVE_GAP_MAX)
		a->seconds_active += seconds;
}

/* tor's MIN_TIME_FOR_MEASUREMENT: less than half an hour of data says
 * too little about the rate to plan the next interval with it. */
#define MEASUREMENT_SECONDS_MIN 1800

/* tor's update_expected_bandwidth(): the bytes per minute the ending
 * interval suggests for the next one, from the finished interval's
 * numbers (so it runs before they are cleared), never above what the
 * configured rate allows. */
static void
update_expected_usage(struct accounting *a)
{
	/* The configured rate bounds the larger direction; "sum" counts both. */
	uint64_t max_configured = a->cfg.rate * 60;
	uint64_t expected;

	if (a->cfg.rule == ACCOUNTING_RULE_SUM)
		max_configured *= 2;
	if (a->soft_limit_hit_at > a->interval_start && a->bytes_at_soft_limit != 0 &&
			a->soft_limit_hit_at - a->interval_start > MEASUREMENT_SECONDS_MIN) {
		/* Up to the soft limit only: past it the relay took no new
		 * connections and its use fell. tor divides the bytes by the
		 * seconds and then by 60 again, so this is bytes per second / 60,
		 * not bytes per minute; kept as tor computes it, since the
		 * wake-up time (and so which relays are up when) depends on it. */
		expected = a->bytes_at_soft_limit /
				(uint64_t)(a->soft_limit_hit_at - a->interval_start);
		expected /= 60;
	} else if (a->seconds_active >= MEASUREMENT_SECONDS_MIN) {
		expected = accounting_bytes(a) / (a->seconds_active / 60);
	} else {
		/* Not measured: the next interval starts awake. */
		expected = 0;
	}
	if (expected > max_configured)
		expected = max_configured;
	a->expected_usage = expected;
}

/* tor's reset_accounting(): a new interval around now. */
static void
reset_interval(struct accounting *a, time_t now)
{
	update_expected_usage(a);
	a->interval_start = period_start_containing(&a->cfg.start, now);
	a->interval_end = period_start_after(&a->cfg.start, a->interval_start);
	a->bytes_read = 0;
	a->bytes_written = 0;
	a->seconds_active = 0;
	a->bytes_at_soft_limit = 0;
	a->soft_limit_hit_at = 0;
	a->seconds_to_soft_limit = 0;
}

/* "YYYY-MM-DD HH:MM:SS" in UTC, tor's format_iso_time(). */
#define ISO_TIME_LEN 19

/* Sets tm to the given moment, as tor's correct_tm() pins times that
 * strftime() cannot write in four digits or gmtime() cannot break down. */
static void
pin_tm(struct tm *tm, int year, int month, int day, int hour, int minute, int second)
{
	*tm = (struct tm){
		.tm_year = year - 1900,
		.tm_mon = month - 1,
		.tm_mday = day,
		.tm_hour = hour,
		.tm_min = minute,
		.tm_sec = second,
	};
}

static void
format_iso_time(char buf[ISO_TIME_LEN + 1], time_t t)
{
	struct tm tm;
	char text[72];

	/* tor's tor_gmtime_r(): after 9999 the last second of 9999, before
	 * year 1 its first second; when gmtime() fails, 1970 for a negative
	 * time and the end of 2037 for a large one. */
	if (gmtime_r(&t, &tm) == NULL) {
		if (t < 0)
			pin_tm(&tm, 1970, 1, 1, 0, 0, 0);
		else
			pin_tm(&tm, 2037, 12, 31, 23, 59, 59);
	} else if (tm.tm_year > 9999 - 1900) {
		pin_tm(&tm, 9999, 12, 31, 23, 59, 59);
	} else if (tm.tm_year < 1 - 1900) {
		pin_tm(&tm, 1, 1, 1, 0, 0, 0);
	}
	/* text has room for any int, so that the compiler sees no
	 * truncation; the fields are in range, so it is ISO_TIME_LEN long. */
	snprintf(text, sizeof(text), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(buf, text, ISO_TIME_LEN);
	buf[ISO_TIME_LEN] = '\0';
}

#define DIGEST_LEN 20

/* tor's accounting_set_wakeup_time(): from the second interval on, the
 * relay sleeps first and wakes at a time late enough that, at the rate
 * the last interval showed, the budget lasts until the interval ends.
 * Where in the allowed window it wakes depends on a hash of the interval
 * start and the relay's identity: stable across restarts within the
 * interval, and different from relay to relay so that they do not all
 * wake together. */
static void
set_wakeup_time(struct accounting *a)
{
	uint8_t input[ISO_TIME_LEN + DIGEST_LEN];
	uint8_t digest[EVP_MAX_MD_SIZE];
	uint64_t time_to_exhaust;
	uint32_t hash_word;
	int time_to_consider;
	char iso[ISO_TIME_LEN + 1];

	if (a->expected_usage == 0) {
		/* No estimate: awake from the start, asleep once the budget is
		 * spent. */
		a->interval_wakeup = a->interval_start;
		return;
	}
	/* The hash input is the 19 characters of the time (no NUL), then the
	 * identity digest. */
	format_iso_time(iso, a->interval_start);
	memcpy(input, iso, ISO_TIME_LEN);
	memcpy(input + ISO_TIME_LEN, a->identity_digest, DIGEST_LEN);
	if (EVP_Digest(input, sizeof(input), digest, NULL, EVP_sha1(), NULL) != 1)
		memset(digest, 0, sizeof(digest));
	/* tor's get_uint32(): the first four bytes in host order. */
	memcpy(&hash_word, digest, sizeof(hash_word));

	time_to_exhaust = (a->cfg.max / a->expected_usage) * 60;
	if (time_to_exhaust > INT_MAX)
		time_to_consider = 0;
	else
		time_to_consider = (int)(a->interval_end - a->interval_start) -
				(int)time_to_exhaust;
	if (time_to_consider <= 0)
		a->interval_wakeup = a->interval_start;
	else
		a->interval_wakeup = a->interval_start +
				(time_t)(hash_word % (uint32_t)time_to_consider);
}

/* tor's configure_accounting() once the kept values are in a: whether
 * the interval they belong to is still the current one. */
static void
configure_interval(struct accounting *a, time_t now)
{
	time_t s_now = period_start_containing(&a->cfg.start, now);

	if (a->interval_start == 0) {
		reset_interval(a, now);
	} else if (s_now == a->interval_start) {
		a->interval_end = period_start_after(&a->cfg.start, a->interval_start);
	} else {
		long duration = period_length_containing(&a->cfg.start, a->interval_start);
		double delta = duration > 0 ?
				(double)(s_now - a->interval_start) / (double)duration : 1.0;

		if (delta >= -0.50 && delta <= 0.50) {
			/* AccountingStart moved the edge a little (or the zone
			 * changed): the counts stay, the interval keeps its start and
			 * ends where the new setting says; ending early errs on the
			 * side of the limit. */
			a->interval_end = period_start_after(&a->cfg.start, now);
		} else {
			/* At least one whole interval passed (tor's delta >= 0.99),
			 * or the kept start fits no interval of this setting: both
			 * start afresh. */
			reset_interval(a, now);
		}
	}
	set_wakeup_time(a);
}

void
accounting_configure(struct accounting *a, const struct accounting_config *cfg,
		const uint8_t identity_digest[20], const struct accounting_saved *saved,
		time_t now)
{
	if (!a->initialized) {
		memset(a, 0, sizeof(*a));
		a->state = HIBERNATE_AWAKE;
		a->initial = true;
		a->initialized = true;
	}
	a->cfg = *cfg;
	memcpy(a->identity_digest, identity_digest, DIGEST_LEN);
	/* tor's options_act() configures accounting only when it is on. */
	if (cfg->max == 0)
		return;
	/* tor's read_bandwidth_usage(): only while no interval is known. */
	if (a->interval_start == 0 && saved != NULL) {
		a->bytes_read = saved->bytes_read;
		a->bytes_written = saved->bytes_written;
		a->seconds_active = saved->seconds_active;
		a->interval_start = saved->interval_start;
		a->expected_usage = saved->expected_usage;
		/* A soft-limit time from before the interval comes from an older
		 * interval (tor versions that did not write these keys left stale
		 * ones behind): it describes nothing here. */
		if (saved->soft_limit_hit_at > saved->interval_start) {
			a->soft_limit_hit_at = saved->soft_limit_hit_at;
			a->bytes_at_soft_limit = saved->bytes_at_soft_limit;
			a->seconds_to_soft_limit = saved->seconds_to_soft_limit;
		} else {
			a->soft_limit_hit_at = 0;
			a->bytes_at_soft_limit = 0;
			a->seconds_to_soft_limit = 0;
		}
	}
	configure_interval(a, now);
}

/* ------------------------------------------------------------------ */
/* Hibernation                                                         */

/* tor's hibernate_hard_limit_reached(). */
static bool
hard_limit_reached(const struct accounting *a)
{
	return a->cfg.max != 0 && accounting_bytes(a) >= a->cfg.max;
}

/* tor's SOFT_LIM_PCT, SOFT_LIM_BYTES, SOFT_LIM_MINUTES. */
#define SOFT_LIMIT_FRACTION 0.95
#define SOFT_LIMIT_BYTES_LEFT (500ULL * 1024 * 1024)
#define SOFT_LIMIT_MINUTES_LEFT (3 * 60)

/* tor's hibernate_soft_limit_reached(): stop taking new connections once
 * 95 % is used, and also under 500 MBytes left, and under 3 hours of the
 * expected use left; the last two only matter when they come later than
 * 95 % (a large budget), so each raises the limit, never lowers it. */
static bool
soft_limit_reached(const struct accounting *a)
{
	uint64_t max = a->cfg.max;
	uint64_t soft = (uint64_t)((double)max * SOFT_LIMIT_FRACTION);

	if (max > SOFT_LIMIT_BYTES_LEFT && max - SOFT_LIMIT_BYTES_LEFT > soft)
		soft = max - SOFT_LIMIT_BYTES_LEFT;
	if (a->expected_usage != 0) {
		uint64_t expected_left = a->expected_usage * SOFT_LIMIT_MINUTES_LEFT;

		if (max > expected_left && max - expected_left > soft)
			soft = max - expected_left;
	}
	if (soft == 0)
		return false;
	return accounting_bytes(a) >= soft;
}

/* tor's hibernate_begin(HIBERNATE_STATE_LOWBANDWIDTH). */
static void
go_soft(struct accounting *a, time_t now)
{
	/* What the next interval's estimate uses; not from INITIAL, where the
	 * state file's values (if any) are the right ones. */
	if (!a->initial) {
		a->soft_limit_hit_at = now;
		a->seconds_to_soft_limit = a->seconds_active;
		a->bytes_at_soft_limit = accounting_bytes(a);
	}
	a->hibernate_end = a->interval_end;
	a->state = HIBERNATE_SOFT;
}

/* tor's hibernate_go_dormant(): until the wake-up time when it is still
 * ahead, else until the interval ends. */
static void
go_hard(struct accounting *a, time_t now)
{
	if (a->state == HIBERNATE_HARD)
		return;
	a->state = HIBERNATE_HARD;
	a->hibernate_end = now < a->interval_wakeup ? a->interval_wakeup : a->interval_end;
}

/* tor's hibernate_end(HIBERNATE_STATE_LIVE). */
static void
wake(struct accounting *a)
{
	a->state = HIBERNATE_AWAKE;
	a->hibernate_end = 0;
}

/* tor's accounting_run_housekeeping() without the saving (the caller's,
 * through accounting_should_save()): a new interval once this one ended. */
static void
housekeeping(struct accounting *a, time_t now)
{
	if (now >= a->interval_end)
		configure_interval(a, now);
}

/* tor's hibernate_end_time_elapsed(): the interval ended or the wake-up
 * time came; which one decides whether to wake. */
static void
hibernate_end_elapsed(struct accounting *a, time_t now)
{
	housekeeping(a, now);
	if (a->interval_wakeup <= now) {
		wake(a);
	} else {
		/* A new interval whose wake-up time is still ahead. */
		a->hibernate_end = a->interval_wakeup;
		go_hard(a, now);
	}
}

/* tor's consider_hibernation() without EXITING; the three blocks run in
 * turn, so one call can cross several states. */
static void
consider_hibernation(struct accounting *a, time_t now)
{
	bool enabled = a->cfg.max != 0;

	if (a->state == HIBERNATE_HARD) {
		/* Asleep until hibernate_end, whatever the interval. */
		if (a->hibernate_end > now && enabled)
			return;
		hibernate_end_elapsed(a, now);
	}
	if (a->state == HIBERNATE_AWAKE) {
		if (soft_limit_reached(a))
			go_soft(a, now);
		else if (enabled && now < a->interval_wakeup)
			go_hard(a, now);
		else if (a->initial)
			wake(a);
	}
	if (a->state == HIBERNATE_SOFT) {
		if (!enabled)
			hibernate_end_elapsed(a, now);
		else if (hard_limit_reached(a))
			go_hard(a, now);
		else if (a->hibernate_end <= now)
			hibernate_end_elapsed(a, now);
	}
	a->initial = false;
}

enum accounting_action
accounting_tick(struct accounting *a, time_t now)
{
	enum hibernate_state before = a->state;

	if (!a->initialized)
		return ACCOUNTING_NONE;
	if (a->cfg.max != 0)
		housekeeping(a, now);
	consider_hibernation(a, now);
	if (a->state == before)
		return ACCOUNTING_NONE;
	/* tor saves on going soft or hard (hibernate_begin(),
	 * hibernate_go_dormant()); saving on waking too costs one write. */
	a->save_due = true;
	switch (a->state) {
	case HIBERNATE_SOFT:
		return ACCOUNTING_GO_SOFT;
	case HIBERNATE_HARD:
		return ACCOUNTING_GO_HARD;
	case HIBERNATE_AWAKE:
		break;
	}
	return ACCOUNTING_WAKE;
}

/* ------------------------------------------------------------------ */
/* Saving                                                              */

/* tor's NOTE_INTERVAL and NOTE_BYTES. */
#define SAVE_INTERVAL 600
#define SAVE_BYTES (20ULL * 1024 * 1024)

bool
accounting_should_save(struct accounting *a, time_t now)
{
	bool due = a->save_due;
	/* tor's time_to_record_bandwidth_usage(); its baseline moves only
	 * when this periodic rule fires, not on a state change's save. */
	bool periodic = a->last_saved + SAVE_INTERVAL <= now ||
			a->read_saved + SAVE_BYTES <= a->bytes_read ||
			a->written_saved + SAVE_BYTES <= a->bytes_written ||
			(a->interval_end != 0 && a->interval_end <= now);

	if (periodic) {
		a->last_saved = now;
		a->read_saved = a->bytes_read;
		a->written_saved = a->bytes_written;
	}
	a->save_due = false;
	return periodic || due;
}

void
accounting_saved_get(const struct accounting *a, struct accounting_saved *out)
{
	*out = (struct accounting_saved){
		.interval_start = a->interval_start,
		.bytes_read = a->bytes_read,
		.bytes_written = a->bytes_written,
		.seconds_active = a->seconds_active,
		.expected_usage = a->expected_usage,
		.seconds_to_soft_limit = a->seconds_to_soft_limit,
		.soft_limit_hit_at = a->soft_limit_hit_at,
		.bytes_at_soft_limit = a->bytes_at_soft_limit,
	};
}

bool
accounting_allows_dir_service(const struct accounting *a, uint64_t effective_rate)
{
	uint64_t budget = a->cfg.max;
	int64_t interval_length;

	/* Directory answers are mostly output: counting only input, they
	 * cannot bring the relay to hibernate. */
	if (budget == 0 || a->cfg.rule == ACCOUNTING_RULE_IN)
		return true;
	/* tor's accounting_get_interval_length(), raised to 1 when empty. */
	interval_length = (int)(a->interval_end - a->interval_start);
	if (interval_length < 1)
		interval_length = 1;
	if (a->cfg.rule == ACCOUNTING_RULE_SUM)
		budget /= 2;
	return effective_rate < budget / (uint64_t)interval_length;
}

/* ------------------------------------------------------------------ */
/* The state file                                                      */

/* tor's ROUND_UP in accounting_record_bandwidth_usage(): the byte counts
 * on disk are coarse; 0 stays 0. */
static uint64_t
round_up_kib(uint64_t x)
{
	return (x + 0x3ff) & ~(uint64_t)0x3ff;
}

enum state_key_type {
	KEY_TIME,	/* tor's CONFIG_TYPE_ISOTIME */
	KEY_BYTES,	/* CONFIG_TYPE_MEMUNIT: a uint64_t */
	KEY_SECONDS,	/* CONFIG_TYPE_INTERVAL: an int, 0 .. INT_MAX */
};

enum state_key {
	KEY_BYTES_READ,
	KEY_BYTES_WRITTEN,
	KEY_EXPECTED_USAGE,
	KEY_INTERVAL_START,
	KEY_SECONDS_ACTIVE,
	KEY_SECONDS_TO_SOFT_LIMIT,
	KEY_SOFT_LIMIT_HIT_AT,
	KEY_BYTES_AT_SOFT_LIMIT,
	KEY_LAST_WRITTEN,
	KEY_COUNT,
};

/* In the order of tor's or_state_t table (statefile.c), which is the
 * order its config_dump() writes them. */
static const struct {
	const char *name;
	enum state_key_type type;
} state_keys[KEY_COUNT] = {
	[KEY_BYTES_READ] = { "AccountingBytesReadInInterval", KEY_BYTES },
	[KEY_BYTES_WRITTEN] = { "AccountingBytesWrittenInInterval", KEY_BYTES },
	[KEY_EXPECTED_USAGE] = { "AccountingExpectedUsage", KEY_BYTES },
	[KEY_INTERVAL_START] = { "AccountingIntervalStart", KEY_TIME },
	[KEY_SECONDS_ACTIVE] = { "AccountingSecondsActive", KEY_SECONDS },
	[KEY_SECONDS_TO_SOFT_LIMIT] = { "AccountingSecondsToReachSoftLimit", KEY_SECONDS },
	[KEY_SOFT_LIMIT_HIT_AT] = { "AccountingSoftLimitHitAt", KEY_TIME },
	[KEY_BYTES_AT_SOFT_LIMIT] = { "AccountingBytesAtSoftLimit", KEY_BYTES },
	[KEY_LAST_WRITTEN] = { "LastWritten", KEY_TIME },
};

/* The values of all keys, times as time_t and numbers as uint64_t. */
struct state_values {
	uint64_t v[KEY_COUNT];
};

static void
saved_to_values(const struct accounting_saved *saved, time_t now, struct state_values *out)
{
	out->v[KEY_BYTES_READ] = round_up_kib(saved->bytes_read);
	out->v[KEY_BYTES_WRITTEN] = round_up_kib(saved->bytes_written);
	out->v[KEY_EXPECTED_USAGE] = saved->expected_usage;
	out->v[KEY_INTERVAL_START] = (uint64_t)saved->interval_start;
	out->v[KEY_SECONDS_ACTIVE] = saved->seconds_active;
	out->v[KEY_SECONDS_TO_SOFT_LIMIT] = saved->seconds_to_soft_limit;
	out->v[KEY_SOFT_LIMIT_HIT_AT] = (uint64_t)saved->soft_limit_hit_at;
	out->v[KEY_BYTES_AT_SOFT_LIMIT] = saved->bytes_at_soft_limit;
	out->v[KEY_LAST_WRITTEN] = (uint64_t)now;
}

int
accounting_state_format(const struct accounting_saved *saved, time_t now, char *buf,
		size_t len)
{
	static const char header[] = "# hsrelay state file: tor's Accounting* keys\n"
			"# Times are in UTC\n\n";
	struct state_values values;
	size_t used = 0;
	int n;

	saved_to_values(saved, now, &values);
	n = snprintf(buf, len, "%s", header);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	used = (size_t)n;
	for (unsigned k = 0; k < KEY_COUNT; k++) {
		char iso[ISO_TIME_LEN + 1];
		uint64_t v = values.v[k];

		/* tor's minimal dump leaves out what equals the default. */
		if (v == 0)
			continue;
		if (state_keys[k].type == KEY_TIME) {
			format_iso_time(iso, (time_t)v);
			n = snprintf(buf + used, len - used, "%s %s\n", state_keys[k].name, iso);
		} else {
			n = snprintf(buf + used, len - used, "%s %llu\n", state_keys[k].name,
					(unsigned long long)v);
		}
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return (int)used;
}

/* A piece of the input: not NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

/* Up to max_digits decimal digits (at least one) at *s, as tor_sscanf's
 * "%u" or "%2u": no sign, no space; false on overflow of unsigned. */
static bool
scan_unsigned(struct span *s, size_t max_digits, unsigned *out)
{
	size_t i = 0;
	unsigned v = 0;

	while (i < s->len && i < max_digits && s->p[i] >= '0' && s->p[i] <= '9') {
		unsigned d = (unsigned)(s->p[i] - '0');

		if (v > (UINT_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		i++;
	}
	if (i == 0)
		return false;
	s->p += i;
	s->len -= i;
	*out = v;
	return true;
}

static bool
scan_char(struct span *s, char c)
{
	if (s->len == 0 || s->p[0] != c)
		return false;
	s->p++;
	s->len--;
	return true;
}

/* tor's parse_iso_time() (strict): "%u-%2u-%2u %2u:%2u:%2u" and nothing
 * after, fields within range, then timegm() as tor_timegm() uses it on
 * systems that have it (so "02-30" rolls over into March, as with tor
 * on Linux). */
static bool
parse_iso_time(struct span s, time_t *out)
{
	unsigned year, month, day, hour, minute, second;
	struct tm tm = { 0 };
	time_t t;

	if (!scan_unsigned(&s, SIZE_MAX, &year) || !scan_char(&s, '-') ||
			!scan_unsigned(&s, 2, &month) || !scan_char(&s, '-') ||
			!scan_unsigned(&s, 2, &day) || !scan_char(&s, ' ') ||
			!scan_unsigned(&s, 2, &hour) || !scan_char(&s, ':') ||
			!scan_unsigned(&s, 2, &minute) || !scan_char(&s, ':') ||
			!scan_unsigned(&s, 2, &second) || s.len != 0)
		return false;
	if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
			minute > 59 || second > 60 || year >= INT32_MAX)
		return false;
	tm.tm_year = (int)(year - 1900);
	tm.tm_mon = (int)month - 1;
	tm.tm_mday = (int)day;
	tm.tm_hour = (int)hour;
	tm.tm_min = (int)minute;
	tm.tm_sec = (int)second;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = t;
	return true;
}

/* Plain decimal digits as tor writes them (uint64_encode(), int_encode())
 * within [0, max]. */
static bool
parse_decimal(struct span s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		uint64_t d;

		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		d = (uint64_t)(s.p[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool
parse_value(enum state_key_type type, struct span value, uint64_t *out)
{
	time_t t;

	/* tor's config_assign_line(): an empty value resets the key. */
	if (value.len == 0) {
		*out = 0;
		return true;
	}
	switch (type) {
	case KEY_TIME:
		if (!parse_iso_time(value, &t))
			return false;
		*out = (uint64_t)t;
		return true;
	case KEY_BYTES:
		return parse_decimal(value, UINT64_MAX, out);
	case KEY_SECONDS:
		return parse_decimal(value, INT_MAX, out);
	}
	return false;
}

static int
find_key(struct span key)
{
	for (unsigned k = 0; k < KEY_COUNT; k++) {
		const char *name = state_keys[k].name;

		/* tor matches option names case-insensitively. */
		if (strlen(name) == key.len && strncasecmp(name, key.p, key.len) == 0)
			return (int)k;
	}
	return -1;
}

static bool
is_space(char c)
{
	return isspace((unsigned char)c) != 0;
}

/* tor's parse_config_line_from_str_verbose(), one line at a time: leading
 * space skipped, "#" starts a comment, the key runs to a space or "#",
 * the value to the end of the line or a "#", trailing space dropped.
 * tor's quoted values and backslash continuations are not read: tor never
 * writes them for these keys, and an Accounting* value in quotes is
 * refused as malformed. */
static void
split_line(struct span line, struct span *key, struct span *value)
{
	size_t i = 0, end;

	while (i < line.len && is_space(line.p[i]))
		i++;
	key->p = line.p + i;
	while (i < line.len && !is_space(line.p[i]) && line.p[i] != '#')
		i++;
	key->len = (size_t)(line.p + i - key->p);
	while (i < line.len && (line.p[i] == ' ' || line.p[i] == '\t'))
		i++;
	end = i;
	while (end < line.len && line.p[end] != '#')
		end++;
	while (end > i && is_space(line.p[end - 1]))
		end--;
	value->p = line.p + i;
	value->len = end - i;
}

int
accounting_state_parse(const char *text, size_t len, struct accounting_saved *out,
		unsigned *bad_line)
{
	struct state_values values = { 0 };
	struct accounting_saved s;
	unsigned line_no = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		struct span line = { text + pos, line_len };
		struct span key, value;
		int k;

		line_no++;
		pos += line_len + (nl != NULL ? 1 : 0);
		split_line(line, &key, &value);
		/* A blank or comment line: no key. Other keys belong to the rest
		 * of tor's state (guards, bandwidth history, ...). */
		if (key.len == 0)
			continue;
		k = find_key(key);
		if (k < 0)
			continue;
		if (!parse_value(state_keys[k].type, value, &values.v[k])) {
			if (bad_line != NULL)
				*bad_line = line_no;
			return -EINVAL;
		}
	}
	s = (struct accounting_saved){
		.interval_start = (time_t)values.v[KEY_INTERVAL_START],
		.bytes_read = values.v[KEY_BYTES_READ],
		.bytes_written = values.v[KEY_BYTES_WRITTEN],
		.seconds_active = (uint32_t)values.v[KEY_SECONDS_ACTIVE],
		.expected_usage = values.v[KEY_EXPECTED_USAGE],
	};
	/* tor's read_bandwidth_usage(): soft-limit values from before the
	 * interval are another interval's. */
	if ((time_t)values.v[KEY_SOFT_LIMIT_HIT_AT] > s.interval_start) {
		s.soft_limit_hit_at = (time_t)values.v[KEY_SOFT_LIMIT_HIT_AT];
		s.seconds_to_soft_limit = (uint32_t)values.v[KEY_SECONDS_TO_SOFT_LIMIT];
		s.bytes_at_soft_limit = values.v[KEY_BYTES_AT_SOFT_LIMIT];
	}
	*out = s;
	return 0;
}
