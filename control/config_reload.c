/* SIGHUP's key-by-key comparison of two configurations (config_reload.h).
 *
 * Fields are compared one by one, never with memcmp over whole structs: a
 * struct copied from a local variable carries indeterminate padding. */
#include "control/config_reload.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* One row per key of config.c's table. differs() compares the key's
 * fields; copy() (NULL for keys that need a restart) moves them from the
 * fresh configuration into the running one. */
struct reload_key {
	const char *key;
	enum config_reload_action action;
	bool descriptor;
	bool (*differs)(const struct config *a, const struct config *b);
	void (*copy)(struct config *to, const struct config *from);
};

#define SCALAR_DIFFERS(name, field) \
	static bool name(const struct config *a, const struct config *b) \
	{ \
		return a->field != b->field; \
	}
#define STRING_DIFFERS(name, field) \
	static bool name(const struct config *a, const struct config *b) \
	{ \
		return strcmp(a->field, b->field) != 0; \
	}
#define SCALAR_COPY(name, field) \
	static void name(struct config *to, const struct config *from) \
	{ \
		to->field = from->field; \
	}
#define STRING_COPY(name, field) \
	static void name(struct config *to, const struct config *from) \
	{ \
		memcpy(to->field, from->field, sizeof(to->field)); \
	}

STRING_DIFFERS(lcores_differs, dpdk.lcores)
SCALAR_DIFFERS(worker_queues_differs, dpdk.worker_queues)
SCALAR_DIFFERS(hugepages_differs, dpdk.hugepages)
SCALAR_DIFFERS(tcp_congestion_differs, dpdk.tcp_congestion)
SCALAR_DIFFERS(tcp_recv_buffer_differs, dpdk.tcp_recv_buffer)
SCALAR_DIFFERS(tcp_send_buffer_differs, dpdk.tcp_send_buffer)
SCALAR_DIFFERS(memory_mb_differs, dpdk.memory_mb)
SCALAR_DIFFERS(mbufs_differs, dpdk.mbufs_per_worker)
SCALAR_DIFFERS(idle_polls_differs, dpdk.idle_polls)
SCALAR_DIFFERS(idle_sleep_differs, dpdk.idle_sleep_usec)
SCALAR_DIFFERS(arp_timeout_differs, dpdk.arp_timeout_sec)
SCALAR_DIFFERS(checksum_offload_differs, dpdk.checksum_offload)
STRING_DIFFERS(capture_differs, dpdk.capture_path)
SCALAR_DIFFERS(capture_packets_differs, dpdk.capture_packets)
SCALAR_DIFFERS(gateway_differs, dpdk.gateway)
SCALAR_DIFFERS(echo_port_differs, netcheck.tcp_echo_port)
SCALAR_DIFFERS(connect_bytes_differs, netcheck.connect_bytes)
SCALAR_DIFFERS(connections_differs, netcheck.connections)
STRING_DIFFERS(nickname_differs, tor.nickname)
STRING_DIFFERS(data_directory_differs, tor.data_directory)
STRING_DIFFERS(contact_differs, tor.contact_info)
SCALAR_DIFFERS(testing_differs, tor.testing_tor_network)
SCALAR_DIFFERS(rate_differs, tor.bandwidth_rate)
SCALAR_DIFFERS(burst_differs, tor.bandwidth_burst)
SCALAR_DIFFERS(relay_rate_differs, tor.relay_bandwidth_rate)
SCALAR_DIFFERS(relay_burst_differs, tor.relay_bandwidth_burst)
SCALAR_DIFFERS(max_advertised_differs, tor.max_advertised_bandwidth)

SCALAR_DIFFERS(refill_interval_differs, tor.token_bucket_refill_interval_ms)
SCALAR_DIFFERS(publish_differs, tor.publish_server_descriptor)
SCALAR_DIFFERS(assume_reachable_differs, tor.assume_reachable)
SCALAR_DIFFERS(max_circuits_differs, tor.max_circuits_per_worker)
SCALAR_DIFFERS(max_links_differs, tor.max_links_per_worker)
SCALAR_DIFFERS(max_hsdir_differs, tor.max_hsdir_cache_bytes)

STRING_COPY(nickname_copy, tor.nickname)
STRING_COPY(contact_copy, tor.contact_info)
SCALAR_COPY(rate_copy, tor.bandwidth_rate)
SCALAR_COPY(burst_copy, tor.bandwidth_burst)
SCALAR_COPY(relay_rate_copy, tor.relay_bandwidth_rate)
SCALAR_COPY(relay_burst_copy, tor.relay_bandwidth_burst)
SCALAR_COPY(max_advertised_copy, tor.max_advertised_bandwidth)
/* CountPrivateBandwidth as the running relay takes it from the new file:
 * when the key is not given its default follows TestingTorNetwork, which
 * a reload does not change (it needs a restart), so the running one
 * decides, not the new file's (tor refuses such a reload as a whole). */
static int
count_private_of(const struct config *running, const struct config *fresh)
{
	if (fresh->tor.count_private_bandwidth_given)
		return fresh->tor.count_private_bandwidth;
	return running->tor.testing_tor_network ? 1 : 0;
}

static bool
count_private_differs(const struct config *running, const struct config *fresh)
{
	return running->tor.count_private_bandwidth != count_private_of(running, fresh);
}

static void
count_private_copy(struct config *running, const struct config *fresh)
{
	running->tor.count_private_bandwidth = count_private_of(running, fresh);
	running->tor.count_private_bandwidth_given = fresh->tor.count_private_bandwidth_given;
}
SCALAR_COPY(publish_copy, tor.publish_server_descriptor)
SCALAR_COPY(assume_reachable_copy, tor.assume_reachable)
SCALAR_COPY(max_hsdir_copy, tor.max_hsdir_cache_bytes)
SCALAR_DIFFERS(accounting_max_differs, tor.accounting_max)
SCALAR_COPY(accounting_max_copy, tor.accounting_max)
SCALAR_DIFFERS(accounting_rule_differs, tor.accounting_rule)
SCALAR_COPY(accounting_rule_copy, tor.accounting_rule)

/* AccountingStart as parsed, not as written: "month 1 0:00", "Month 01
 * 00:00" and no line at all are one start (tor compares the string and
 * would rebuild its descriptor once more for nothing). */
static bool
accounting_start_differs(const struct config *a, const struct config *b)
{
	const struct accounting_start *x = &a->tor.accounting_start;
	const struct accounting_start *y = &b->tor.accounting_start;

	return x->unit != y->unit || x->day != y->day || x->hour != y->hour ||
	       x->minute != y->minute;
}

SCALAR_COPY(accounting_start_copy, tor.accounting_start)
SCALAR_COPY(echo_port_copy, netcheck.tcp_echo_port)
SCALAR_COPY(connect_bytes_copy, netcheck.connect_bytes)
SCALAR_COPY(connections_copy, netcheck.connections)

/* The DoS keys (control/dos_guard.h): the control thread's, applied. */
SCALAR_DIFFERS(dos_cc_enabled_differs, tor.dos.circuit_creation_enabled)
SCALAR_COPY(dos_cc_enabled_copy, tor.dos.circuit_creation_enabled)
SCALAR_DIFFERS(dos_cc_min_conn_differs, tor.dos.circuit_creation_min_connections)
SCALAR_COPY(dos_cc_min_conn_copy, tor.dos.circuit_creation_min_connections)
SCALAR_DIFFERS(dos_cc_rate_differs, tor.dos.circuit_creation_rate)
SCALAR_COPY(dos_cc_rate_copy, tor.dos.circuit_creation_rate)
SCALAR_DIFFERS(dos_cc_burst_differs, tor.dos.circuit_creation_burst)
SCALAR_COPY(dos_cc_burst_copy, tor.dos.circuit_creation_burst)
SCALAR_DIFFERS(dos_cc_type_differs, tor.dos.circuit_creation_defense_type)
SCALAR_COPY(dos_cc_type_copy, tor.dos.circuit_creation_defense_type)
SCALAR_DIFFERS(dos_cc_period_differs, tor.dos.circuit_creation_defense_time_period)
SCALAR_COPY(dos_cc_period_copy, tor.dos.circuit_creation_defense_time_period)
SCALAR_DIFFERS(dos_conn_enabled_differs, tor.dos.connection_enabled)
SCALAR_COPY(dos_conn_enabled_copy, tor.dos.connection_enabled)
SCALAR_DIFFERS(dos_conn_max_differs, tor.dos.connection_max_concurrent_count)
SCALAR_COPY(dos_conn_max_copy, tor.dos.connection_max_concurrent_count)
SCALAR_DIFFERS(dos_conn_type_differs, tor.dos.connection_defense_type)
SCALAR_COPY(dos_conn_type_copy, tor.dos.connection_defense_type)
SCALAR_DIFFERS(dos_conn_rate_differs, tor.dos.connection_connect_rate)
SCALAR_COPY(dos_conn_rate_copy, tor.dos.connection_connect_rate)
SCALAR_DIFFERS(dos_conn_burst_differs, tor.dos.connection_connect_burst)
SCALAR_COPY(dos_conn_burst_copy, tor.dos.connection_connect_burst)
SCALAR_DIFFERS(dos_conn_period_differs, tor.dos.connection_connect_defense_time_period)
SCALAR_COPY(dos_conn_period_copy, tor.dos.connection_connect_defense_time_period)

static bool
ports_differ(const struct config *a, const struct config *b)
{
	if (a->dpdk.n_ports != b->dpdk.n_ports)
		return true;
	for (unsigned i = 0; i < a->dpdk.n_ports; i++)
		if (a->dpdk.ports[i].is_pci != b->dpdk.ports[i].is_pci ||
		    strcmp(a->dpdk.ports[i].spec, b->dpdk.ports[i].spec) != 0)
			return true;
	return false;
}

static bool
mac_differs(const struct config *a, const struct config *b)
{
	return a->dpdk.has_mac != b->dpdk.has_mac ||
	       (a->dpdk.has_mac && memcmp(a->dpdk.mac, b->dpdk.mac, sizeof(a->dpdk.mac)) != 0);
}

static bool
address_differs(const struct config *a, const struct config *b)
{
	return a->dpdk.has_address != b->dpdk.has_address ||
	       a->dpdk.address != b->dpdk.address || a->dpdk.prefix_len != b->dpdk.prefix_len;
}

static bool
netcheck_connect_differs(const struct config *a, const struct config *b)
{
	return a->netcheck.has_connect != b->netcheck.has_connect ||
	       a->netcheck.connect_address != b->netcheck.connect_address ||
	       a->netcheck.connect_port != b->netcheck.connect_port;
}

static void
netcheck_connect_copy(struct config *to, const struct config *from)
{
	to->netcheck.has_connect = from->netcheck.has_connect;
	to->netcheck.connect_address = from->netcheck.connect_address;
	to->netcheck.connect_port = from->netcheck.connect_port;
}

static bool
or_port_differs(const struct config *a, const struct config *b)
{
	return a->tor.has_or_port != b->tor.has_or_port ||
	       a->tor.or_port_has_address != b->tor.or_port_has_address ||
	       a->tor.or_address != b->tor.or_address || a->tor.or_port != b->tor.or_port;
}

static bool
dir_authorities_differ(const struct config *a, const struct config *b)
{
	if (a->tor.n_dir_authorities != b->tor.n_dir_authorities)
		return true;
	for (unsigned i = 0; i < a->tor.n_dir_authorities; i++) {
		const struct config_dir_authority *x = &a->tor.dir_authorities[i];
		const struct config_dir_authority *y = &b->tor.dir_authorities[i];

		if (strcmp(x->nickname, y->nickname) != 0 || x->address != y->address ||
		    x->dir_port != y->dir_port || x->or_port != y->or_port ||
		    x->has_v3ident != y->has_v3ident ||
		    memcmp(x->v3ident, y->v3ident, sizeof(x->v3ident)) != 0 ||
		    memcmp(x->fingerprint, y->fingerprint, sizeof(x->fingerprint)) != 0 ||
		    x->is_bridge != y->is_bridge || x->weight != y->weight)
			return true;
	}
	return false;
}

static bool
metrics_port_differs(const struct config *a, const struct config *b)
{
	return a->tor.has_metrics_port != b->tor.has_metrics_port ||
	       a->tor.metrics_address != b->tor.metrics_address ||
	       a->tor.metrics_port != b->tor.metrics_port;
}

static bool
metrics_policy_differs(const struct config *a, const struct config *b)
{
	const struct config_policy *x = &a->tor.metrics_policy, *y = &b->tor.metrics_policy;

	if (x->n_entries != y->n_entries)
		return true;
	for (unsigned i = 0; i < x->n_entries; i++)
		if (x->entries[i].accept != y->entries[i].accept ||
		    x->entries[i].network != y->entries[i].network ||
		    x->entries[i].prefix_len != y->entries[i].prefix_len)
			return true;
	return false;
}

static void
metrics_policy_copy(struct config *to, const struct config *from)
{
	to->tor.metrics_policy = from->tor.metrics_policy;
}

static bool
logs_differ(const struct config *a, const struct config *b)
{
	if (a->tor.n_logs != b->tor.n_logs)
		return true;
	for (unsigned i = 0; i < a->tor.n_logs; i++) {
		const struct config_log *x = &a->tor.logs[i], *y = &b->tor.logs[i];

		if (x->min_severity != y->min_severity || x->max_severity != y->max_severity ||
		    x->dest != y->dest ||
		    (x->dest == CONFIG_LOG_FILE && strcmp(x->path, y->path) != 0))
			return true;
	}
	return false;
}

/* MyFamily: the items, in file order (a reordering is taken as a change;
 * the descriptor's line, sorted, stays the same). */
static bool
family_differs(const struct config *a, const struct config *b)
{
	if (a->tor.n_family != b->tor.n_family)
		return true;
	for (unsigned i = 0; i < a->tor.n_family; i++)
		if (strcmp(a->tor.family[i], b->tor.family[i]) != 0)
			return true;
	return false;
}

static bool
family_ids_differ(const struct config *a, const struct config *b)
{
	return a->tor.n_family_ids != b->tor.n_family_ids ||
		a->tor.family_id_all != b->tor.family_id_all ||
		memcmp(a->tor.family_ids, b->tor.family_ids,
			a->tor.n_family_ids * sizeof(a->tor.family_ids[0])) != 0;
}

STRING_DIFFERS(family_key_directory_differs, tor.family_key_directory)

static void
family_copy(struct config *to, const struct config *from)
{
	to->tor.n_family = from->tor.n_family;
	memcpy(to->tor.family, from->tor.family, sizeof(to->tor.family));
}

static void
logs_copy(struct config *to, const struct config *from)
{
	to->tor.n_logs = from->tor.n_logs;
	memcpy(to->tor.logs, from->tor.logs, sizeof(to->tor.logs));
}

/* In config.c's key table order. The classification follows what holds
 * each value at run time:
 * - the workers, EAL and the port are set up once (worker_set.h), so the
 *   DPDK keys, Address, ORPort and the per-worker tables need a restart;
 * - DataDirectory holds the keys loaded at start (the family keys that
 *   FamilyId and FamilyKeyDirectory name too); DirAuthority and
 *   TestingTorNetwork shape the directory schedule and the consensus
 *   checks made at start (tor too refuses to change TestingTorNetwork
 *   while running); MetricsPort's socket is bound at start;
 * - the descriptor fields, PublishServerDescriptor, MaxHSDirCacheBytes,
 *   MetricsPortPolicy and the DoS keys are the control thread's own and
 *   are applied (tor too re-reads its DoS options on SIGHUP);
 * - RelayBandwidthRate, RelayBandwidthBurst and MaxAdvertisedBandwidth are
 *   applied and dirty the descriptor, as BandwidthRate and BandwidthBurst;
 * - AccountingMax, AccountingRule and AccountingStart are applied and
 *   dirty the descriptor, as tor does (options_act_relay_accounting() runs
 *   configure_accounting() again; options_transition_affects_descriptor()
 *   is YES_IF_CHANGED for all three);
 * - CountPrivateBandwidth is applied, as tor does; TokenBucketRefillInterval
 *   needs a restart, as tor refuses to change it while running;
 * - Log and AssumeReachable are parsed but unused (hsrelay logs to stderr
 *   and always publishes), the Netcheck keys are hsrelay-netcheck's. */
static const struct reload_key reload_keys[] = {
	{ "DPDKLcores", CONFIG_RELOAD_RESTART, false, lcores_differs, NULL },
	{ "DPDKPort", CONFIG_RELOAD_RESTART, false, ports_differ, NULL },
	{ "DPDKWorkerQueues", CONFIG_RELOAD_RESTART, false, worker_queues_differs, NULL },
	{ "DPDKHugepages", CONFIG_RELOAD_RESTART, false, hugepages_differs, NULL },
	{ "DPDKMemoryMB", CONFIG_RELOAD_RESTART, false, memory_mb_differs, NULL },
	{ "DPDKMbufsPerWorker", CONFIG_RELOAD_RESTART, false, mbufs_differs, NULL },
	{ "DPDKIdlePolls", CONFIG_RELOAD_RESTART, false, idle_polls_differs, NULL },
	{ "DPDKIdleSleepUsec", CONFIG_RELOAD_RESTART, false, idle_sleep_differs, NULL },
	{ "DPDKMac", CONFIG_RELOAD_RESTART, false, mac_differs, NULL },
	{ "DPDKArpTimeout", CONFIG_RELOAD_RESTART, false, arp_timeout_differs, NULL },
	{ "DPDKChecksumOffload", CONFIG_RELOAD_RESTART, false, checksum_offload_differs, NULL },
	{ "DPDKCapture", CONFIG_RELOAD_RESTART, false, capture_differs, NULL },
	{ "DPDKCapturePackets", CONFIG_RELOAD_RESTART, false, capture_packets_differs, NULL },
	{ "Address", CONFIG_RELOAD_RESTART, false, address_differs, NULL },
	{ "DPDKGateway", CONFIG_RELOAD_RESTART, false, gateway_differs, NULL },
	{ "TCPCongestionControl", CONFIG_RELOAD_RESTART, false, tcp_congestion_differs, NULL },
	{ "TCPRecvBuffer", CONFIG_RELOAD_RESTART, false, tcp_recv_buffer_differs, NULL },
	{ "TCPSendBuffer", CONFIG_RELOAD_RESTART, false, tcp_send_buffer_differs, NULL },
	{ "NetcheckTcpEchoPort", CONFIG_RELOAD_NO_EFFECT, false, echo_port_differs,
	  echo_port_copy },
	{ "NetcheckConnect", CONFIG_RELOAD_NO_EFFECT, false, netcheck_connect_differs,
	  netcheck_connect_copy },
	{ "NetcheckConnectBytes", CONFIG_RELOAD_NO_EFFECT, false, connect_bytes_differs,
	  connect_bytes_copy },
	{ "NetcheckConnections", CONFIG_RELOAD_NO_EFFECT, false, connections_differs,
	  connections_copy },
	{ "Nickname", CONFIG_RELOAD_APPLY, true, nickname_differs, nickname_copy },
	{ "ORPort", CONFIG_RELOAD_RESTART, false, or_port_differs, NULL },
	{ "DataDirectory", CONFIG_RELOAD_RESTART, false, data_directory_differs, NULL },
	{ "ContactInfo", CONFIG_RELOAD_APPLY, true, contact_differs, contact_copy },
	{ "MyFamily", CONFIG_RELOAD_APPLY, true, family_differs, family_copy },
	{ "FamilyId", CONFIG_RELOAD_RESTART, false, family_ids_differ, NULL },
	{ "FamilyKeyDirectory", CONFIG_RELOAD_RESTART, false, family_key_directory_differs, NULL },
	{ "DirAuthority", CONFIG_RELOAD_RESTART, false, dir_authorities_differ, NULL },
	{ "TestingTorNetwork", CONFIG_RELOAD_RESTART, false, testing_differs, NULL },
	{ "BandwidthRate", CONFIG_RELOAD_APPLY, true, rate_differs, rate_copy },
	{ "BandwidthBurst", CONFIG_RELOAD_APPLY, true, burst_differs, burst_copy },
	/* tor changes all three while running and rebuilds its descriptor when
	 * the advertised rate or burst they give changes (relay_config.c
	 * options_transition_affects_descriptor() compares
	 * relay_get_effective_bwrate()/bwburst()); hsrelay uploads on any
	 * change of them, at worst once more than tor. Compared as resolved
	 * by config_check_relay(), so a lone RelayBandwidthRate equals the
	 * pair with the same burst. */
	{ "RelayBandwidthRate", CONFIG_RELOAD_APPLY, true, relay_rate_differs, relay_rate_copy },
	{ "RelayBandwidthBurst", CONFIG_RELOAD_APPLY, true, relay_burst_differs,
	  relay_burst_copy },
	{ "MaxAdvertisedBandwidth", CONFIG_RELOAD_APPLY, true, max_advertised_differs,
	  max_advertised_copy },
	/* tor applies CountPrivateBandwidth at run time (get_options() is
	 * read for every connection, connection_is_rate_limited() in tor's
	 * src/core/mainloop/connection.c); it is not in the descriptor, so
	 * nothing is uploaded. */
	{ "CountPrivateBandwidth", CONFIG_RELOAD_APPLY, false, count_private_differs,
	  count_private_copy },
	/* tor's manual: "Can not be changed while tor is running." */
	{ "TokenBucketRefillInterval", CONFIG_RELOAD_RESTART, false, refill_interval_differs,
	  NULL },
	{ "MetricsPort", CONFIG_RELOAD_RESTART, false, metrics_port_differs, NULL },
	{ "MetricsPortPolicy", CONFIG_RELOAD_APPLY, false, metrics_policy_differs,
	  metrics_policy_copy },
	{ "Log", CONFIG_RELOAD_NO_EFFECT, false, logs_differ, logs_copy },
	/* Turning publishing on uploads at once, as tor does when its
	 * descriptor is dirty. */
	{ "PublishServerDescriptor", CONFIG_RELOAD_APPLY, true, publish_differs, publish_copy },
	{ "AssumeReachable", CONFIG_RELOAD_NO_EFFECT, false, assume_reachable_differs,
	  assume_reachable_copy },
	{ "MaxCircuitsPerWorker", CONFIG_RELOAD_RESTART, false, max_circuits_differs, NULL },
	{ "MaxLinksPerWorker", CONFIG_RELOAD_RESTART, false, max_links_differs, NULL },
	{ "MaxHSDirCacheBytes", CONFIG_RELOAD_APPLY, false, max_hsdir_differs, max_hsdir_copy },
	/* tor takes them at once (options_act_relay_accounting() calls
	 * configure_accounting() again); the accounting state
	 * (control/accounting.h) is the control thread's, so they are
	 * applied, and the descriptor is rebuilt as tor rebuilds its own. */
	{ "AccountingMax", CONFIG_RELOAD_APPLY, true, accounting_max_differs,
	  accounting_max_copy },
	{ "AccountingRule", CONFIG_RELOAD_APPLY, true, accounting_rule_differs,
	  accounting_rule_copy },
	{ "AccountingStart", CONFIG_RELOAD_APPLY, true, accounting_start_differs,
	  accounting_start_copy },
	{ "DoSCircuitCreationEnabled", CONFIG_RELOAD_APPLY, false, dos_cc_enabled_differs, dos_cc_enabled_copy },
	{ "DoSCircuitCreationMinConnections", CONFIG_RELOAD_APPLY, false, dos_cc_min_conn_differs, dos_cc_min_conn_copy },
	{ "DoSCircuitCreationRate", CONFIG_RELOAD_APPLY, false, dos_cc_rate_differs, dos_cc_rate_copy },
	{ "DoSCircuitCreationBurst", CONFIG_RELOAD_APPLY, false, dos_cc_burst_differs, dos_cc_burst_copy },
	{ "DoSCircuitCreationDefenseType", CONFIG_RELOAD_APPLY, false, dos_cc_type_differs, dos_cc_type_copy },
	{ "DoSCircuitCreationDefenseTimePeriod", CONFIG_RELOAD_APPLY, false, dos_cc_period_differs, dos_cc_period_copy },
	{ "DoSConnectionEnabled", CONFIG_RELOAD_APPLY, false, dos_conn_enabled_differs, dos_conn_enabled_copy },
	{ "DoSConnectionMaxConcurrentCount", CONFIG_RELOAD_APPLY, false, dos_conn_max_differs, dos_conn_max_copy },
	{ "DoSConnectionDefenseType", CONFIG_RELOAD_APPLY, false, dos_conn_type_differs, dos_conn_type_copy },
	{ "DoSConnectionConnectRate", CONFIG_RELOAD_APPLY, false, dos_conn_rate_differs, dos_conn_rate_copy },
	{ "DoSConnectionConnectBurst", CONFIG_RELOAD_APPLY, false, dos_conn_burst_differs, dos_conn_burst_copy },
	{ "DoSConnectionConnectDefenseTimePeriod", CONFIG_RELOAD_APPLY, false, dos_conn_period_differs, dos_conn_period_copy },
};

_Static_assert(sizeof(reload_keys) / sizeof(reload_keys[0]) <= CONFIG_RELOAD_KEYS_MAX,
		"config_reload_plan holds every key");

void
config_reload_diff(const struct config *running, const struct config *fresh,
		struct config_reload_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; i < sizeof(reload_keys) / sizeof(reload_keys[0]); i++) {
		const struct reload_key *k = &reload_keys[i];
		struct config_reload_change *ch;

		if (!k->differs(running, fresh))
			continue;
		ch = &plan->changes[plan->n_changes++];
		ch->key = k->key;
		ch->action = k->action;
		ch->descriptor = k->descriptor;
		if (k->action == CONFIG_RELOAD_APPLY)
			plan->apply = true;
		if (k->action == CONFIG_RELOAD_RESTART)
			plan->needs_restart = true;
		if (k->descriptor)
			plan->descriptor_dirty = true;
	}
}

static const struct reload_key *
find_key(const char *key)
{
	for (size_t i = 0; i < sizeof(reload_keys) / sizeof(reload_keys[0]); i++)
		if (strcasecmp(reload_keys[i].key, key) == 0)
			return &reload_keys[i];
	return NULL;
}

void
config_reload_apply(struct config *running, const struct config *fresh,
		const struct config_reload_plan *plan)
{
	for (unsigned i = 0; i < plan->n_changes; i++) {
		const struct reload_key *k = find_key(plan->changes[i].key);

		if (k != NULL && k->copy != NULL)
			k->copy(running, fresh);
	}
}

int
config_reload_action_of(const char *key, enum config_reload_action *action)
{
	const struct reload_key *k = find_key(key);

	if (k == NULL)
		return -ENOENT;
	*action = k->action;
	return 0;
}

const char *
config_reload_action_name(enum config_reload_action action)
{
	switch (action) {
	case CONFIG_RELOAD_APPLY:
		return "applied";
	case CONFIG_RELOAD_RESTART:
		return "needs restart, kept old value";
	case CONFIG_RELOAD_NO_EFFECT:
		return "accepted, not used by hsrelay";
	}
	return "?";
}
