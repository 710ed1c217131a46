/* libFuzzer target for control/config.c: parses the input as a whole
 * configuration file, then checks what the reader promises: on success
 * every count is within its array and every string is terminated inside
 * its field; on failure the error names a line of the input and formats.
 * config_check_relay() and the policy lookup then run on what was kept
 * (a checked configuration has CountPrivateBandwidth 0 or 1, the relay
 * bandwidth pair resolved as tor resolves it, an effective rate and burst
 * within every limit, and checks the same again), and
 * MyFamily's items become a family line (relay_family_declared()): every
 * member well formed, in order, each once. The accounting keys stay within
 * tor's ranges, AccountingStart written back in tor's form reads the same,
 * and config_check_relay() leaves them alone. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/accounting.h"
#include "control/config.h"
#include "control/relay_family.h"

static void
check_string(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
}

/* Routers called "crumpet" or "self" exist (any case): the lookup path. */
static bool
lookup(void *arg, const char *nickname, uint8_t identity[20])
{
	(void)arg;
	memset(identity, nickname[0], 20);
	return strcasecmp(nickname, "crumpet") == 0 || strcasecmp(nickname, "self") == 0;
}

static void
check_family(const struct config_tor *tor)
{
	static char members[RELAY_FAMILY_MAX + 1][RELAY_FAMILY_MEMBER_MAX + 1];
	const char *items[RELAY_FAMILY_MAX];
	static const uint8_t self[20] = { 0x5e };
	int n;

	if (tor->n_family > RELAY_FAMILY_MAX || tor->n_family_ids > RELAY_FAMILY_IDS_MAX)
		abort();
	for (unsigned i = 0; i < tor->n_family; i++) {
		check_string(tor->family[i], sizeof(tor->family[i]));
		items[i] = tor->family[i];
	}
	n = relay_family_declared(items, tor->n_family, "self", self, lookup, NULL, members,
			RELAY_FAMILY_MAX + 1);
	if (n < 0 || n == 1 || (size_t)n > tor->n_family + 1)
		abort();
	for (int i = 0; i < n; i++) {
		size_t len = strnlen(members[i], sizeof(members[i]));

		if (len == 0 || len > RELAY_FAMILY_MEMBER_MAX ||
				(members[i][0] == '$' && len != 41))
			abort();
		/* Identities first, then nicknames, strictly increasing. */
		if (i > 0 && (members[i - 1][0] == '$') == (members[i][0] == '$') &&
				strcmp(members[i - 1], members[i]) >= 0)
			abort();
		if (i > 0 && members[i - 1][0] != '$' && members[i][0] == '$')
			abort();
	}
}

/* After config_check_relay(): tor's options_validate_relay_bandwidth()
 * rules hold, and config_effective_bandwidth() (tor's
 * relay_get_effective_bwrate()/bwburst()) is within every limit. */
static void
check_bandwidth(const struct config_tor *tor)
{
	uint64_t rate, burst;

	/* Both relay values set or neither; burst >= rate; relay minimums. */
	if ((tor->relay_bandwidth_rate == 0) != (tor->relay_bandwidth_burst == 0) ||
			tor->relay_bandwidth_burst < tor->relay_bandwidth_rate ||
			(tor->relay_bandwidth_rate != 0 &&
			 tor->relay_bandwidth_rate < CONFIG_RELAY_BANDWIDTH_MIN) ||
			tor->max_advertised_bandwidth < CONFIG_MAX_ADVERTISED_BANDWIDTH_MIN ||
			tor->bandwidth_rate < CONFIG_RELAY_BANDWIDTH_MIN ||
			tor->bandwidth_burst < tor->bandwidth_rate)
		abort();
	/* BandwidthRate/Burst were raised to the relay values. */
	if (tor->bandwidth_rate < tor->relay_bandwidth_rate ||
			tor->bandwidth_burst < tor->relay_bandwidth_burst)
		abort();
	config_effective_bandwidth(tor, &rate, &burst);
	if (rate > tor->bandwidth_rate || rate > tor->max_advertised_bandwidth ||
			(tor->relay_bandwidth_rate != 0 && rate > tor->relay_bandwidth_rate) ||
			rate < CONFIG_MAX_ADVERTISED_BANDWIDTH_MIN || rate > CONFIG_BANDWIDTH_MAX)
		abort();
	if (burst > tor->bandwidth_burst ||
			burst != (tor->relay_bandwidth_burst != 0 ? tor->relay_bandwidth_burst :
				tor->bandwidth_burst))
		abort();
}

/* AccountingMax at most INT64_MAX (tor's config_parse_units()), the rule
 * one of the four (and its name reads back as itself), the start within
 * tor's accounting_parse_options() ranges for its unit: month days 1..28,
 * week days 1..7, day 0 for the day unit, HH 0..23, MM 0..59. */
static void
check_accounting(const struct config_tor *tor)
{
	static const char *const units[] = {
		[ACCOUNTING_UNIT_MONTH] = "month",
		[ACCOUNTING_UNIT_WEEK] = "week",
		[ACCOUNTING_UNIT_DAY] = "day",
	};
	const struct accounting_start *s = &tor->accounting_start;
	struct accounting_start again;
	enum accounting_rule rule;
	char text[64], err[256];

	if (tor->accounting_max > INT64_MAX)
		abort();
	if ((unsigned)tor->accounting_rule > ACCOUNTING_RULE_OUT ||
			accounting_rule_parse(accounting_rule_name(tor->accounting_rule),
				&rule) != 0 || rule != tor->accounting_rule)
		abort();
	switch (s->unit) {
	case ACCOUNTING_UNIT_MONTH:
		if (s->day < 1 || s->day > 28)
			abort();
		break;
	case ACCOUNTING_UNIT_WEEK:
		if (s->day < 1 || s->day > 7)
			abort();
		break;
	case ACCOUNTING_UNIT_DAY:
		if (s->day != 0)
			abort();
		break;
	default:
		abort();
	}
	if (s->hour < 0 || s->hour > 23 || s->minute < 0 || s->minute > 59)
		abort();
	if (s->unit == ACCOUNTING_UNIT_DAY)
		snprintf(text, sizeof(text), "day %02d:%02d", s->hour, s->minute);
	else
		snprintf(text, sizeof(text), "%s %d %02d:%02d", units[s->unit], s->day, s->hour,
				s->minute);
	if (accounting_start_parse(text, &again, err, sizeof(err)) != 0 ||
			again.unit != s->unit || again.day != s->day || again.hour != s->hour ||
			again.minute != s->minute)
		abort();
}

static unsigned
count_lines(const uint8_t *data, size_t size)
{
	unsigned lines = 1;

	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '\n')
			lines++;
	return lines;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config config;
	struct config_error err;
	char formatted[512];
	int rc;

	config_init(&config);
	memset(&err, 0, sizeof(err));
	rc = config_parse_text(&config, (const char *)data, size, "fuzz.conf", &err);
	if (rc < 0) {
		if (rc != -EINVAL || err.line == 0 || err.line > count_lines(data, size))
			abort();
		check_string(err.key, sizeof(err.key));
		check_string(err.message, sizeof(err.message));
		if (config_error_format(&err, formatted, sizeof(formatted)) <= 0)
			abort();
		return 0;
	}

	const struct config_tor *tor = &config.tor;

	if (config.dpdk.n_ports > CONFIG_PORTS_MAX ||
			tor->n_dir_authorities > CONFIG_DIR_AUTHORITIES_MAX ||
			tor->n_logs > CONFIG_LOGS_MAX ||
			tor->metrics_policy.n_entries > CONFIG_POLICY_MAX)
		abort();
	check_string(tor->nickname, sizeof(tor->nickname));
	check_string(tor->data_directory, sizeof(tor->data_directory));
	check_string(tor->contact_info, sizeof(tor->contact_info));
	check_string(tor->family_key_directory, sizeof(tor->family_key_directory));
	check_family(tor);
	for (unsigned i = 0; i < tor->n_dir_authorities; i++) {
		check_string(tor->dir_authorities[i].nickname,
				sizeof(tor->dir_authorities[i].nickname));
		if (tor->dir_authorities[i].dir_port == 0 || tor->dir_authorities[i].weight < 0)
			abort();
	}
	for (unsigned i = 0; i < tor->n_logs; i++) {
		check_string(tor->logs[i].path, sizeof(tor->logs[i].path));
		if (tor->logs[i].min_severity > tor->logs[i].max_severity)
			abort();
	}
	if (tor->bandwidth_rate > CONFIG_BANDWIDTH_MAX ||
			tor->bandwidth_burst > CONFIG_BANDWIDTH_MAX ||
			tor->relay_bandwidth_rate > CONFIG_BANDWIDTH_MAX ||
			tor->relay_bandwidth_burst > CONFIG_BANDWIDTH_MAX ||
			tor->max_advertised_bandwidth > CONFIG_BANDWIDTH_MAX)
		abort();
	if (tor->has_or_port && tor->or_port == 0)
		abort();
	check_accounting(tor);
	/* tor's range for TokenBucketRefillInterval; CountPrivateBandwidth
	 * is 0, 1 or not given (-1) until config_check_relay(). */
	if (tor->token_bucket_refill_interval_ms < 1 ||
			tor->token_bucket_refill_interval_ms > 1000 ||
			tor->count_private_bandwidth < -1 || tor->count_private_bandwidth > 1)
		abort();
	for (unsigned i = 0; i < tor->metrics_policy.n_entries; i++) {
		const struct config_policy_entry *e = &tor->metrics_policy.entries[i];

		unsigned j;

		if (e->prefix_len > 32)
			abort();
		/* An entry matches its own network, so some entry up to it
		 * decides that address. */
		for (j = 0; j <= i; j++) {
			const struct config_policy_entry *f = &tor->metrics_policy.entries[j];
			uint32_t mask = f->prefix_len ? UINT32_MAX << (32 - f->prefix_len) : 0;

			if ((e->network & mask) == f->network)
				break;
		}
		if (j > i || config_policy_allows(&tor->metrics_policy, e->network) !=
				tor->metrics_policy.entries[j].accept)
			abort();
	}
	const uint64_t accounting_max = tor->accounting_max;
	const enum accounting_rule accounting_rule = tor->accounting_rule;
	const struct accounting_start accounting_start = tor->accounting_start;

	if (config_check_relay(&config, "fuzz.conf", &err) < 0) {
		/* Line 0 for the whole file, else the line of the key at fault
		 * (DPDKGateway, the relay bandwidth keys). */
		if (err.line > count_lines(data, size))
			abort();
		check_string(err.key, sizeof(err.key));
		check_string(err.message, sizeof(err.message));
		if (config_error_format(&err, formatted, sizeof(formatted)) <= 0)
			abort();
		return 0;
	}
	/* A checked configuration has CountPrivateBandwidth resolved. */
	if (config.tor.count_private_bandwidth != 0 && config.tor.count_private_bandwidth != 1)
		abort();
	check_bandwidth(&config.tor);
	/* Nothing in the relay checks resolves the accounting keys. */
	if (tor->accounting_max != accounting_max || tor->accounting_rule != accounting_rule ||
			tor->accounting_start.unit != accounting_start.unit ||
			tor->accounting_start.day != accounting_start.day ||
			tor->accounting_start.hour != accounting_start.hour ||
			tor->accounting_start.minute != accounting_start.minute)
		abort();
	/* The resolution is idempotent: a second check accepts the same values. */
	{
		uint64_t before[5] = { tor->bandwidth_rate, tor->bandwidth_burst,
			tor->relay_bandwidth_rate, tor->relay_bandwidth_burst,
			tor->max_advertised_bandwidth };

		if (config_check_relay(&config, "fuzz.conf", &err) != 0 ||
				before[0] != tor->bandwidth_rate || before[1] != tor->bandwidth_burst ||
				before[2] != tor->relay_bandwidth_rate ||
				before[3] != tor->relay_bandwidth_burst ||
				before[4] != tor->max_advertised_bandwidth)
			abort();
	}
	return 0;
}
