/* control/config_reload.c: SIGHUP's key-by-key classification of what
 * changed between the running configuration and the file read again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "control/config.h"
#include "control/config_reload.h"

/* A complete relay configuration; a test's lines replace the lines of
 * base_text with the same key (all of them, for repeatable keys). */
static const char base_text[] =
	"DPDKPort net_tap0,iface=hs0\n"
	"DPDKLcores 0-1\n"
	"Address 10.77.1.2/24\n"
	"Nickname relayone\n"
	"ORPort 9001\n"
	"DataDirectory /var/lib/hsrelay\n"
	"ContactInfo first operator\n"
	"DirAuthority a0 orport=21100 v3ident=19E23A2429C5D0D03D775AF958B94D797F7D8CD3 "
	"127.0.0.1:7000 AEDF243C9ABD0F38C680DC12B5259F5627DC11E5\n"
	"BandwidthRate 1 MBytes\n"
	"BandwidthBurst 2 MBytes\n"
	"MetricsPort 127.0.0.1:9035\n"
	"MetricsPortPolicy accept 127.0.0.1\n"
	"MaxHSDirCacheBytes 64 MB\n";

static void
load(struct config *c, const char *extra)
{
	char text[4096];
	struct config_error err;
	const char *line = base_text;
	size_t used = 0;

	while (*line != '\0') {
		const char *eol = strchr(line, '\n');
		size_t len = (size_t)(eol - line) + 1, key_len = strcspn(line, " ");
		bool replaced = false;

		for (const char *o = extra; *o != '\0'; o = strchr(o, '\n') + 1)
			if (strncmp(o, line, key_len) == 0 && o[key_len] == ' ')
				replaced = true;
		if (!replaced) {
			memcpy(text + used, line, len);
			used += len;
		}
		line = eol + 1;
	}
	snprintf(text + used, sizeof(text) - used, "%s", extra);
	config_init(c);
	memset(&err, 0, sizeof(err));
	if (config_parse_text(c, text, strlen(text), "test.conf", &err) < 0)
		fail_msg("%s:%u: %s: %s", err.file, err.line, err.key, err.message);
	assert_int_equal(config_check_relay(c, "test.conf", &err), 0);
}

static const struct config_reload_change *
find(const struct config_reload_plan *plan, const char *key)
{
	for (unsigned i = 0; i < plan->n_changes; i++)
		if (strcmp(plan->changes[i].key, key) == 0)
			return &plan->changes[i];
	return NULL;
}

static void
test_same_file_no_changes(void **state)
{
	struct config a, b;
	struct config_reload_plan plan;

	(void)state;
	load(&a, "");
	load(&b, "");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);
	assert_false(plan.apply);
	assert_false(plan.descriptor_dirty);
	assert_false(plan.needs_restart);
}

static void
test_contact_applies_and_dirties_descriptor(void **state)
{
	struct config a, b;
	struct config_reload_plan plan;
	const struct config_reload_change *ch;

	(void)state;
	load(&a, "");
	load(&b, "ContactInfo second operator <ops@example.org>\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	ch = find(&plan, "ContactInfo");
	assert_non_null(ch);
	assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
	assert_true(ch->descriptor);
	assert_true(plan.apply);
	assert_true(plan.descriptor_dirty);
	assert_false(plan.needs_restart);
	config_reload_apply(&a, &b, &plan);
	assert_string_equal(a.tor.contact_info, "second operator <ops@example.org>");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);
}

/* MyFamily: the descriptor's family line changes, applied on SIGHUP. */
static void
test_family_applies_and_dirties_descriptor(void **state)
{
	struct config a, b;
	struct config_reload_plan plan;
	const struct config_reload_change *ch;

	(void)state;
	load(&a, "MyFamily $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
	load(&b, "MyFamily $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, sibling\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	ch = find(&plan, "MyFamily");
	assert_non_null(ch);
	assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
	assert_true(ch->descriptor);
	assert_true(plan.descriptor_dirty);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.n_family, 2);
	assert_string_equal(a.tor.family[1], "sibling");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);
	/* Removing every line is a change too. */
	load(&b, "");
	config_reload_diff(&a, &b, &plan);
	assert_non_null(find(&plan, "MyFamily"));
	/* The family keys are read at start. */
	load(&b, "MyFamily $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, sibling\n"
			"FamilyId 295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3EU\n"
			"FamilyKeyDirectory /etc/family\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 2);
	assert_int_equal(find(&plan, "FamilyId")->action, CONFIG_RELOAD_RESTART);
	assert_int_equal(find(&plan, "FamilyKeyDirectory")->action, CONFIG_RELOAD_RESTART);
	assert_true(plan.needs_restart);
}

/* A DPDK key and the ORPort need a restart: reported, the old value kept,
 * while the reloadable key in the same file is taken. */
static void
test_restart_keys_kept(void **state)
{
	struct config a, b;
	struct config_reload_plan plan;
	const struct config_reload_change *ch;

	(void)state;
	load(&a, "");
	load(&b, "DPDKMemoryMB 512\nORPort 9002\nDPDKPort net_tap1,iface=hs1\n"
			"BandwidthRate 2 MBytes\nMaxHSDirCacheBytes 1 MB\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 5);
	assert_int_equal(find(&plan, "DPDKMemoryMB")->action, CONFIG_RELOAD_RESTART);
	assert_int_equal(find(&plan, "ORPort")->action, CONFIG_RELOAD_RESTART);
	assert_int_equal(find(&plan, "DPDKPort")->action, CONFIG_RELOAD_RESTART);
	ch = find(&plan, "BandwidthRate");
	assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
	assert_true(ch->descriptor);
	ch = find(&plan, "MaxHSDirCacheBytes");
	assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
	assert_false(ch->descriptor);
	assert_true(plan.needs_restart);
	assert_true(plan.descriptor_dirty);
	/* Table order: DPDK keys first. */
	assert_string_equal(plan.changes[0].key, "DPDKPort");
	assert_string_equal(plan.changes[1].key, "DPDKMemoryMB");

	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.dpdk.memory_mb, 256);
	assert_int_equal(a.tor.or_port, 9001);
	assert_int_equal(a.dpdk.n_ports, 1);
	assert_string_equal(a.dpdk.ports[0].spec, "net_tap0,iface=hs0");
	assert_int_equal(a.tor.bandwidth_rate, 2u << 20);
	assert_int_equal(a.tor.max_hsdir_cache_bytes, 1u << 20);
	/* What is left differs only in the restart keys. */
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 3);
	assert_false(plan.apply);
	assert_true(plan.needs_restart);
}

static void
test_metrics_policy_and_publish(void **state)
{
	struct config a, b;
	struct config_reload_plan plan;

	(void)state;
	load(&a, "");
	load(&b, "MetricsPortPolicy reject 127.0.0.1, accept 10.0.0.0/8\n"
			"PublishServerDescriptor 0\nNickname relaytwo\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 3);
	assert_int_equal(find(&plan, "MetricsPortPolicy")->action, CONFIG_RELOAD_APPLY);
	assert_false(find(&plan, "MetricsPortPolicy")->descriptor);
	assert_int_equal(find(&plan, "PublishServerDescriptor")->action, CONFIG_RELOAD_APPLY);
	assert_int_equal(find(&plan, "Nickname")->action, CONFIG_RELOAD_APPLY);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.metrics_policy.n_entries, 2);
	assert_false(config_policy_allows(&a.tor.metrics_policy, 0x7f000001));
	assert_true(config_policy_allows(&a.tor.metrics_policy, 0x0a000001));
	assert_false(a.tor.publish_server_descriptor);
	assert_string_equal(a.tor.nickname, "relaytwo");
}

/* A MetricsPort address change needs a restart (its socket is bound at
 * start); an authority set change too; Log is accepted without effect. */
static void
test_metrics_port_authorities_log(void **state)
{
	struct config a, b;
	struct config_reload_plan plan;

	(void)state;
	load(&a, "");
	load(&b, "MetricsPort 127.0.0.1:9036\nLog info stderr\n"
			"DirAuthority b0 orport=21101 v3ident=29E23A2429C5D0D03D775AF958B94D797F7D8CD3 "
			"127.0.0.1:7001 BEDF243C9ABD0F38C680DC12B5259F5627DC11E5\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 3);
	assert_int_equal(find(&plan, "MetricsPort")->action, CONFIG_RELOAD_RESTART);
	assert_int_equal(find(&plan, "DirAuthority")->action, CONFIG_RELOAD_RESTART);
	assert_int_equal(find(&plan, "Log")->action, CONFIG_RELOAD_NO_EFFECT);
	assert_false(plan.apply);
	assert_false(plan.descriptor_dirty);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.metrics_port, 9035);
	assert_int_equal(a.tor.n_dir_authorities, 1);
	assert_int_equal(a.tor.n_logs, 1);
}

/* The DoS keys are the control thread's: applied, not in the descriptor. */
static void
test_dos_keys_apply(void **state)
{
	struct config a, b;
	struct config_reload_plan plan;

	(void)state;
	load(&a, "");
	load(&b, "DoSCircuitCreationEnabled 1\nDoSConnectionMaxConcurrentCount 8\n"
			"DoSCircuitCreationDefenseTimePeriod 2 hours\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 3);
	assert_int_equal(find(&plan, "DoSCircuitCreationEnabled")->action, CONFIG_RELOAD_APPLY);
	assert_int_equal(find(&plan, "DoSConnectionMaxConcurrentCount")->action,
			CONFIG_RELOAD_APPLY);
	assert_int_equal(find(&plan, "DoSCircuitCreationDefenseTimePeriod")->action,
			CONFIG_RELOAD_APPLY);
	assert_true(plan.apply);
	assert_false(plan.descriptor_dirty);
	assert_false(plan.needs_restart);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.dos.circuit_creation_enabled, 1);
	assert_int_equal(a.tor.dos.connection_max_concurrent_count, 8);
	assert_int_equal(a.tor.dos.circuit_creation_defense_time_period, 7200);
	assert_int_equal(a.tor.dos.connection_enabled, -1);
	/* Back to auto. */
	load(&b, "");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 3);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.dos.circuit_creation_enabled, -1);
}

/* CountPrivateBandwidth is applied (tor reads it for every connection)
 * without touching the descriptor; TokenBucketRefillInterval needs a
 * restart (tor cannot change it while running) and keeps its old value. */
static void
test_bucket_keys(void **state)
{
	struct config a, b;
	struct config_reload_plan plan;
	const struct config_reload_change *ch;

	(void)state;
	load(&a, "");
	load(&b, "CountPrivateBandwidth 1\nTokenBucketRefillInterval 10 msec\n");
	assert_int_equal(a.tor.count_private_bandwidth, 0);
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 2);
	ch = find(&plan, "CountPrivateBandwidth");
	assert_non_null(ch);
	assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
	assert_false(ch->descriptor);
	ch = find(&plan, "TokenBucketRefillInterval");
	assert_non_null(ch);
	assert_int_equal(ch->action, CONFIG_RELOAD_RESTART);
	assert_false(ch->descriptor);
	assert_true(plan.apply);
	assert_true(plan.needs_restart);
	assert_false(plan.descriptor_dirty);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.count_private_bandwidth, 1);
	assert_int_equal(a.tor.token_bucket_refill_interval_ms, 100);
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	assert_string_equal(plan.changes[0].key, "TokenBucketRefillInterval");
	assert_false(plan.apply);

	/* Under TestingTorNetwork an explicit 1 is the default: no change.
	 * An explicit 0 is one. */
	load(&a, "TestingTorNetwork 1\n");
	load(&b, "TestingTorNetwork 1\nCountPrivateBandwidth 1\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);
	load(&b, "TestingTorNetwork 1\nCountPrivateBandwidth 0\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	assert_int_equal(find(&plan, "CountPrivateBandwidth")->action, CONFIG_RELOAD_APPLY);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.count_private_bandwidth, 0);

	/* TestingTorNetwork dropped (needs a restart, kept): an unset
	 * CountPrivateBandwidth keeps the default of the running
	 * TestingTorNetwork, not the new file's; an explicit 0 applies. */
	load(&a, "TestingTorNetwork 1\n");
	load(&b, "TestingTorNetwork 0\n");
	assert_int_equal(b.tor.count_private_bandwidth, 0);
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	assert_string_equal(plan.changes[0].key, "TestingTorNetwork");
	assert_int_equal(plan.changes[0].action, CONFIG_RELOAD_RESTART);
	config_reload_apply(&a, &b, &plan);
	assert_true(a.tor.testing_tor_network);
	assert_int_equal(a.tor.count_private_bandwidth, 1);
	load(&b, "TestingTorNetwork 0\nCountPrivateBandwidth 0\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 2);
	assert_int_equal(find(&plan, "CountPrivateBandwidth")->action, CONFIG_RELOAD_APPLY);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.count_private_bandwidth, 0);
	/* Its line removed again: back to the running default (1). */
	load(&b, "TestingTorNetwork 1\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	assert_string_equal(plan.changes[0].key, "CountPrivateBandwidth");
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.count_private_bandwidth, 1);
}

/* RelayBandwidthRate, RelayBandwidthBurst and MaxAdvertisedBandwidth are
 * applied on SIGHUP, as tor applies them, and dirty the descriptor: the
 * effective rate and burst it advertises change. */
static void
test_relay_bandwidth_keys(void **state)
{
	static const char *const keys[] = {
		"RelayBandwidthRate", "RelayBandwidthBurst", "MaxAdvertisedBandwidth",
	};
	struct config a, b;
	struct config_reload_plan plan;
	const struct config_reload_change *ch;
	uint64_t rate, burst;

	(void)state;
	/* A lone RelayBandwidthRate: the burst resolved from it changes too. */
	load(&a, "");
	load(&b, "RelayBandwidthRate 500 KBytes\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 2);
	for (unsigned i = 0; i < 2; i++) {
		ch = find(&plan, keys[i]);
		assert_non_null(ch);
		assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
		assert_true(ch->descriptor);
	}
	assert_true(plan.apply);
	assert_false(plan.needs_restart);
	assert_true(plan.descriptor_dirty);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.relay_bandwidth_rate, 500u << 10);
	assert_int_equal(a.tor.relay_bandwidth_burst, 500u << 10);
	config_effective_bandwidth(&a.tor, &rate, &burst);
	assert_int_equal(rate, 500u << 10);
	assert_int_equal(burst, 500u << 10);
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);

	/* Giving the burst explicitly with the same value is no change. */
	load(&b, "RelayBandwidthRate 500 KBytes\nRelayBandwidthBurst 500 KBytes\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);

	/* The burst alone. */
	load(&b, "RelayBandwidthRate 500 KBytes\nRelayBandwidthBurst 1 MBytes\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	ch = find(&plan, "RelayBandwidthBurst");
	assert_non_null(ch);
	assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
	assert_true(ch->descriptor);
	assert_true(plan.descriptor_dirty);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.relay_bandwidth_burst, 1u << 20);

	/* MaxAdvertisedBandwidth alone: only the advertised rate changes. */
	load(&a, "");
	load(&b, "MaxAdvertisedBandwidth 512 KBytes\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	ch = find(&plan, "MaxAdvertisedBandwidth");
	assert_non_null(ch);
	assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
	assert_true(ch->descriptor);
	assert_true(plan.apply);
	assert_true(plan.descriptor_dirty);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.max_advertised_bandwidth, 512u << 10);
	assert_int_equal(a.tor.bandwidth_rate, 1u << 20);
	config_effective_bandwidth(&a.tor, &rate, &burst);
	assert_int_equal(rate, 512u << 10);
	assert_int_equal(burst, 2u << 20);

	/* A relay pair above BandwidthRate/Burst (1 and 2 MBytes in the base)
	 * raises them: four changes, all applied. */
	load(&a, "");
	load(&b, "RelayBandwidthRate 4 MBytes\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 4);
	assert_non_null(find(&plan, "BandwidthRate"));
	assert_non_null(find(&plan, "BandwidthBurst"));
	assert_non_null(find(&plan, "RelayBandwidthRate"));
	assert_non_null(find(&plan, "RelayBandwidthBurst"));
	assert_true(plan.descriptor_dirty);
	assert_false(plan.needs_restart);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.bandwidth_rate, 4u << 20);
	assert_int_equal(a.tor.bandwidth_burst, 4u << 20);
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);
}

/* The accounting keys are applied on SIGHUP and dirty the descriptor, as
 * in tor (options_act_relay_accounting(), and YES_IF_CHANGED for all three
 * in options_transition_affects_descriptor()). AccountingStart is compared
 * as parsed. */
static void
test_accounting_keys(void **state)
{
	static const char *const keys[] = {
		"AccountingMax", "AccountingRule", "AccountingStart",
	};
	struct config a, b;
	struct config_reload_plan plan;
	const struct config_reload_change *ch;

	(void)state;
	load(&a, "");
	load(&b, "AccountingMax 500 GBytes\nAccountingRule sum\nAccountingStart week 1 06:00\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 3);
	for (unsigned i = 0; i < 3; i++) {
		ch = find(&plan, keys[i]);
		assert_non_null(ch);
		assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
		assert_true(ch->descriptor);
		/* In the key table's order. */
		assert_string_equal(plan.changes[i].key, keys[i]);
	}
	assert_true(plan.apply);
	assert_true(plan.descriptor_dirty);
	assert_false(plan.needs_restart);
	config_reload_apply(&a, &b, &plan);
	assert_true(a.tor.accounting_max == 500ull << 30);
	assert_int_equal(a.tor.accounting_rule, ACCOUNTING_RULE_SUM);
	assert_int_equal(a.tor.accounting_start.unit, ACCOUNTING_UNIT_WEEK);
	assert_int_equal(a.tor.accounting_start.day, 1);
	assert_int_equal(a.tor.accounting_start.hour, 6);
	assert_int_equal(a.tor.accounting_start.minute, 0);
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);

	/* One key alone; the same start written otherwise is no change. */
	load(&b, "AccountingMax 500 GBytes\nAccountingRule out\n"
			"AccountingStart WEEK 01 6:0\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	ch = find(&plan, "AccountingRule");
	assert_non_null(ch);
	assert_int_equal(ch->action, CONFIG_RELOAD_APPLY);
	assert_true(plan.descriptor_dirty);
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.accounting_rule, ACCOUNTING_RULE_OUT);

	/* Only the minute of the start. */
	load(&b, "AccountingMax 500 GBytes\nAccountingRule out\nAccountingStart week 1 06:01\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 1);
	assert_non_null(find(&plan, "AccountingStart"));
	config_reload_apply(&a, &b, &plan);
	assert_int_equal(a.tor.accounting_start.minute, 1);

	/* The lines removed: back to tor's defaults (off, max, month 1 00:00). */
	load(&b, "");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 3);
	config_reload_apply(&a, &b, &plan);
	assert_true(a.tor.accounting_max == 0);
	assert_int_equal(a.tor.accounting_rule, ACCOUNTING_RULE_MAX);
	assert_int_equal(a.tor.accounting_start.unit, ACCOUNTING_UNIT_MONTH);
	assert_int_equal(a.tor.accounting_start.day, 1);
	assert_int_equal(a.tor.accounting_start.minute, 0);
	/* The defaults written out are the defaults. */
	load(&b, "AccountingMax 0 bytes\nAccountingRule max\nAccountingStart month 1 00:00\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 0);

	/* With a key that needs a restart: the accounting key is still taken. */
	load(&b, "AccountingMax 1 TB\nORPort 9002\n");
	config_reload_diff(&a, &b, &plan);
	assert_int_equal(plan.n_changes, 2);
	assert_int_equal(find(&plan, "AccountingMax")->action, CONFIG_RELOAD_APPLY);
	assert_int_equal(find(&plan, "ORPort")->action, CONFIG_RELOAD_RESTART);
	assert_true(plan.apply);
	assert_true(plan.needs_restart);
	assert_true(plan.descriptor_dirty);
	config_reload_apply(&a, &b, &plan);
	assert_true(a.tor.accounting_max == 1ull << 40);
	assert_int_equal(a.tor.or_port, 9001);
}

static void
test_action_of(void **state)
{
	enum config_reload_action action;

	(void)state;
	assert_int_equal(config_reload_action_of("contactinfo", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_APPLY);
	assert_int_equal(config_reload_action_of("DataDirectory", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_RESTART);
	assert_int_equal(config_reload_action_of("TestingTorNetwork", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_RESTART);
	assert_int_equal(config_reload_action_of("countprivatebandwidth", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_APPLY);
	assert_int_equal(config_reload_action_of("TokenBucketRefillInterval", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_RESTART);
	assert_int_equal(config_reload_action_of("RelayBandwidthRate", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_APPLY);
	assert_int_equal(config_reload_action_of("relaybandwidthburst", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_APPLY);
	assert_int_equal(config_reload_action_of("MaxAdvertisedBandwidth", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_APPLY);
	assert_int_equal(config_reload_action_of("AccountingMax", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_APPLY);
	assert_int_equal(config_reload_action_of("accountingrule", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_APPLY);
	assert_int_equal(config_reload_action_of("AccountingStart", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_APPLY);
	/* The capture file is opened with the workers. */
	assert_int_equal(config_reload_action_of("DPDKCapture", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_RESTART);
	assert_int_equal(config_reload_action_of("DPDKCapturePackets", &action), 0);
	assert_int_equal(action, CONFIG_RELOAD_RESTART);
	assert_int_equal(config_reload_action_of("NoSuchKey", &action), -ENOENT);
	assert_string_equal(config_reload_action_name(CONFIG_RELOAD_RESTART),
			"needs restart, kept old value");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_file_no_changes),
		cmocka_unit_test(test_contact_applies_and_dirties_descriptor),
		cmocka_unit_test(test_family_applies_and_dirties_descriptor),
		cmocka_unit_test(test_restart_keys_kept),
		cmocka_unit_test(test_metrics_policy_and_publish),
		cmocka_unit_test(test_metrics_port_authorities_log),
		cmocka_unit_test(test_dos_keys_apply),
		cmocka_unit_test(test_bucket_keys),
		cmocka_unit_test(test_relay_bandwidth_keys),
		cmocka_unit_test(test_accounting_keys),
		cmocka_unit_test(test_action_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
