/* Bandwidth accounting and hibernation (tor's AccountingMax,
 * AccountingRule and AccountingStart; src/feature/hibernate/hibernate.c
 * of tor 0.4.9, whose behaviour this follows):
 *
 * - time is cut into accounting intervals (a month, week or day, starting
 *   at a configured day and local HH:MM);
 * - the bytes read and written on every link in the interval are counted,
 *   and AccountingRule says which count meets AccountingMax: the larger of
 *   the two (max, the default), their sum, or only one of them;
 * - near the limit (the soft limit: 95 % used, under 500 MBytes left and
 *   under 3 hours of the expected use left) the relay hibernates softly: no new
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

/* tor's hibernate_state_t, without INITIAL and EXITING: hsrelay's
 * SIGTERM does not go through hibernation. */
enum hibernate_state {
	HIBERNATE_AWAKE,	/* tor's LIVE */
	HIBERNATE_SOFT,		/* tor's LOWBANDWIDTH: no new links or circuits */
	HIBERNATE_HARD,		/* tor's DORMANT: every OR link closed */
};

/* "awake", "soft", "hard": tor's GETINFO accounting/hibernating. */
const char *hibernate_state_name(enum hibernate_state state);

struct accounting_config {
	uint64_t max;			/* AccountingMax in bytes; 0: accounting off */
	enum accounting_rule rule;
	struct accounting_start start;
	/* RelayBandwidthRate if set, else BandwidthRate (bytes/s): the
	 * highest expected use (tor's update_expected_bandwidth()). */
	uint64_t rate;
};

/* What DataDirectory/state keeps between runs (tor's or_state_t
 * Accounting* fields). */
struct accounting_saved {
	time_t interval_start;		/* AccountingIntervalStart; 0: none */
	uint64_t bytes_read;		/* AccountingBytesReadInInterval */
	uint64_t bytes_written;		/* AccountingBytesWrittenInInterval */
	uint32_t seconds_active;	/* AccountingSecondsActive */
	uint64_t expected_usage;	/* AccountingExpectedUsage, bytes/minute */
	uint32_t seconds_to_soft_limit;	/* AccountingSecondsToReachSoftLimit */
	time_t soft_limit_hit_at;	/* AccountingSoftLimitHitAt */
	uint64_t bytes_at_soft_limit;	/* AccountingBytesAtSoftLimit */
};

/* The whole state; the caller owns it, the functions below change it. */
struct accounting {
	struct accounting_config cfg;
	uint8_t identity_digest[20];	/* SHA-1 of the RSA identity key */
	enum hibernate_state state;
	time_t interval_start;
	time_t interval_end;
	time_t interval_wakeup;
	time_t hibernate_end;		/* when a soft or hard hibernation ends */
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint32_t seconds_active;
	uint64_t expected_usage;	/* bytes per minute */
	uint32_t seconds_to_soft_limit;
	time_t soft_limit_hit_at;
	uint64_t bytes_at_soft_limit;
	/* tor's time_to_record_bandwidth_usage(): save every 600 s or every
	 * 20 MBytes either way, and at the interval's end. */
	time_t last_saved;
	uint64_t read_saved;
	uint64_t written_saved;
	bool save_due;			/* the state changed since the last save */
	/* tor's HIBERNATE_STATE_INITIAL: no accounting_tick() yet since the
	 * first accounting_configure(). Reaching the soft limit from there (a
	 * restart over it) keeps the soft-limit values the state file kept,
	 * as tor's hibernate_begin() records them only when coming from LIVE. */
	bool initial;
	bool initialized;		/* the caller zeroes the struct before the first
					 * accounting_configure() */
};

/* Sets up a with cfg (cfg->max > 0), the relay's identity digest and
 * what the state file kept (NULL: nothing), at now: tor's
 * configure_accounting() (continue the kept interval when its start is
 * still the current one, or moved by at most half an interval; else a
 * new interval, its expected use taken from the kept one), then
 * accounting_set_wakeup_time(). The state starts AWAKE; the first
 * accounting_tick() decides. Calling it again (a reload with new keys)
 * keeps the counts and the state, as tor's reconfigure does; saved is
 * read only while no interval is known (tor's read_bandwidth_usage()
 * when interval_start_time is 0). A reload with cfg->max == 0 turns
 * accounting off as tor does: no more intervals, and a hibernation ends
 * at the next accounting_tick() (or, if the wake-up time of the
 * interval is still ahead, at that time). a must be zeroed before the
 * first call. */
void accounting_configure(struct accounting *a, const struct accounting_config *cfg,
		const uint8_t identity_digest[20], const struct accounting_saved *saved,
		time_t now);

/* Bytes read and written on the links since the last call, and the
 * seconds that passed (tor's accounting_add_bytes(): a gap of 10 s or
 * more is not counted as active time). */
void accounting_add_bytes(struct accounting *a, uint64_t read, uint64_t written,
		uint32_t seconds);

/* The count AccountingRule compares with AccountingMax (tor's
 * get_accounting_bytes()). */
uint64_t accounting_bytes(const struct accounting *a);

/* What accounting_tick() asks of the relay: the state the tick ended in,
 * when it differs from the one it started in (several transitions in
 * one tick, e.g. AWAKE -> SOFT -> HARD on a restart over the hard limit,
 * report the last). */
enum accounting_action {
	ACCOUNTING_NONE,
	ACCOUNTING_GO_SOFT,	/* stop accepting links and circuits; republish */
	ACCOUNTING_GO_HARD,	/* and close every OR link (from AWAKE too:
				 * GO_SOFT's effects included) */
	ACCOUNTING_WAKE,	/* accept again; republish */
};

/* Once a second (tor's accounting_run_housekeeping() and
 * consider_hibernation()): a new interval when the current one ended,
 * then the state machine: AWAKE -> SOFT at the soft limit, AWAKE -> HARD
 * before the wake-up time, SOFT -> HARD at the hard limit, SOFT/HARD ->
 * AWAKE at hibernate_end when the new interval's wake-up time has come.
 * Returns what the caller must do now (the state is already changed). */
enum accounting_action accounting_tick(struct accounting *a, time_t now);

/* Whether the counts should go to disk now (tor's
 * time_to_record_bandwidth_usage(); true also right after a state
 * change); when true the caller writes accounting_saved_get() and the
 * module notes it as saved. */
bool accounting_should_save(struct accounting *a, time_t now);
void accounting_saved_get(const struct accounting *a, struct accounting_saved *out);

/* tor's router_should_be_dirserver() for accounting: false when, with
 * AccountingRule other than "in", the effective rate (bytes/s) could
 * spend AccountingMax (halved for "sum") before the interval ends: then
 * the descriptor does not offer directory service. True when accounting
 * is off (max 0): the other reasons are not this module's. */
bool accounting_allows_dir_service(const struct accounting *a, uint64_t effective_rate);

/* The state file, DataDirectory/state, in tor's format: "# " comment
 * lines, then "KEY VALUE" lines; times as "YYYY-MM-DD HH:MM:SS" UTC;
 * the read and written counts rounded up to a multiple of 1024 as tor
 * writes them (ROUND_UP). accounting_state_format() writes the
 * Accounting* keys and LastWritten (now) into buf, NUL-terminated, and
 * like tor's minimal config_dump() leaves out the keys whose value is 0;
 * a time after 9999 is written as 9999-12-31 23:59:59 (tor's
 * correct_tm()); returns the length (without the NUL) or -ENOSPC.
 * accounting_state_parse() reads them from text (len bytes, not
 * necessarily NUL-terminated), ignoring other keys (tor's state file has
 * many); keys are case-insensitive, the last of a repeated key wins, an
 * empty value is 0 (tor resets the key), numbers are plain decimal as tor
 * writes them, and the three soft-limit values are dropped unless
 * AccountingSoftLimitHitAt is after AccountingIntervalStart (tor's
 * read_bandwidth_usage()). Returns 0, or -EINVAL with the 1-based line in
 * *bad_line for a malformed Accounting* or LastWritten value (out is then
 * unchanged). A pure bounded function (fuzz target). */
int accounting_state_format(const struct accounting_saved *saved, time_t now, char *buf,
		size_t len);
int accounting_state_parse(const char *text, size_t len, struct accounting_saved *out,
		unsigned *bad_line);

#endif
