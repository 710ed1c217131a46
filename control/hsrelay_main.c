/* hsrelay: the relay. Operators run it as they run tor:
 *
 *   hsrelay -f FILE [--verify-config]
 *
 * Reads FILE (control/config.h: the Tor keys and the DPDK keys), loads or
 * creates the keys in DataDirectory, starts EAL with one worker per
 * DPDKWorkerQueues on the lcores after the first, each running the relay
 * on its own protocol stack (dataplane/relay_worker.h) and listening on the
 * ORPort at Address, and runs the control thread (control/relay_control.h)
 * on the main lcore until SIGTERM or SIGINT. SIGHUP re-reads FILE, as tor
 * does: an invalid file is reported ("FILE:LINE: Key: message") and the
 * running configuration kept; otherwise every changed key is logged on its
 * own line and the ones a running relay can take are applied (descriptor
 * fields, PublishServerDescriptor, MaxHSDirCacheBytes, MetricsPortPolicy;
 * control/config_reload.h), the others kept until a restart.
 *
 * --verify-config checks FILE and exits 0 ("Configuration was valid") or 2
 * with "FILE:LINE: Key: message", as tor --verify-config does.
 *
 * Exit status: 0 after a clean stop; 1 when the dataplane or the keys
 * failed; 2 for a bad command line or configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <sodium.h>

#include "control/config.h"
#include "control/config_reload.h"
#include "control/family_keys.h"
#include "control/hsdir_store.h"
#include "control/intro_point.h"
#include "control/metrics.h"
#include "control/relay_control.h"
#include "control/relay_metrics.h"
#include "control/service_notify.h"
#include "control/relay_keys.h"
#include "crypto/engine.h"
#include "crypto/rsa_identity.h"
#include "dataplane/circuit.h"
#include "dataplane/eal.h"
#include "dataplane/port.h"
#include "dataplane/cross_batch.h"
#include "dataplane/relay_worker.h"
#include "dataplane/stack.h"
#include "dataplane/worker.h"
#include "dataplane/worker_set.h"

#define RING_SIZE 1024
#define EVENT_RING_SIZE 4096
/* Cross rings hold batch pointers; the shared pool has this many batches
 * (16 kB each) per worker, enough to fill every ring. */
#define CROSS_RING_SIZE 256
#define CROSS_BATCHES_PER_WORKER 320
#define PORT_DESC 1024
#define ARP_RETRY_NS 200000000ull
#define CONTROL_POOL_MBUFS 8191
/* How long the control loop sleeps when there was nothing to do. */
#define CONTROL_IDLE_NS 1000000

struct hsrelay {
	struct config config;
	const char *config_path;
	unsigned n_workers;
	/* lcores, mempools, the port, rings, stacks and poll loops */
	struct worker_set dp;
	struct rte_mempool *control_pool;
	struct rte_ring *relay_events[WORKER_MAX];
	/* cells of circuits split across workers (dataplane/cross_batch.h) */
	struct rte_ring *cross[WORKER_MAX];
	struct rte_mempool *cross_pool;
	struct crypto_engine *engines[WORKER_MAX];
	struct relay_worker *relays[WORKER_MAX];
	struct relay_keys *keys;
	/* FamilyId's keys (family_keys.h), loaded at start. */
	struct ed25519_keypair family_keys[RELAY_FAMILY_IDS_MAX];
	unsigned n_family_keys;
	struct relay_control *control_state;
	struct metrics_server *metrics;
	uint64_t reloads_valid;	/* SIGHUPs with a valid file */
	uint64_t reloads_refused;	/* SIGHUPs with an invalid file */
};

static void
usage(const char *argv0)
{
	fprintf(stderr, "usage: %s -f FILE [--verify-config]\n", argv0);
}

/* The rings and pool of cells between workers, made before the workers. */
static int
setup_cross(struct hsrelay *r)
{
	int socket = rte_socket_id();
	char name[RTE_RING_NAMESIZE];

	if (r->n_workers < 2)
		return 0;
	r->cross_pool = cross_batch_pool_create("cross_batches",
			CROSS_BATCHES_PER_WORKER * r->n_workers - 1, socket);
	if (!r->cross_pool)
		return -ENOMEM;
	for (unsigned i = 0; i < r->n_workers; i++) {
		snprintf(name, sizeof(name), "cross%u", i);
		r->cross[i] = cross_ring_create(name, CROSS_RING_SIZE, socket);
		if (!r->cross[i])
			return -ENOMEM;
	}
	return 0;
}

/* worker_set hook: the relay of worker i with its event ring and crypto
 * engine. */
static int
create_relay(void *arg, struct worker_set *set, unsigned i, void **app_arg)
{
	struct hsrelay *r = arg;
	const struct config_tor *tor = &r->config.tor;
	struct relay_worker_config rc = {
		.index = i,
		.n_workers = r->n_workers,
		.cross_pool = r->cross_pool,
		.pool = set->pools[i],
		.local_ip = r->config.dpdk.address,
		.or_port = tor->or_port,
		.max_links = tor->max_links_per_worker,
		.max_circuits = tor->max_circuits_per_worker,
		.max_tcp_connections = tor->max_links_per_worker * 2,
		.socket_id = set->socket_id,
	};
	char name[RTE_RING_NAMESIZE];
	int err;

	snprintf(name, sizeof(name), "rev%u", i);
	r->relay_events[i] = ring_msg_ring_create(name, EVENT_RING_SIZE, set->socket_id);
	if (!r->relay_events[i])
		return -ENOMEM;
	r->engines[i] = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	if (!r->engines[i])
		return -ENOMEM;
	rc.engine = r->engines[i];
	memcpy(rc.cross_rings, r->cross, sizeof(r->cross));
	rc.event_ring = r->relay_events[i];
	r->relays[i] = relay_worker_create(&rc, &err);
	if (!r->relays[i])
		return err;
	*app_arg = r->relays[i];
	return 0;
}

static int
attach_relay(void *arg, struct worker_set *set, unsigned i)
{
	struct hsrelay *r = arg;

	return relay_worker_attach(r->relays[i], set->stacks[i]);
}

static void
destroy_relay(void *arg, unsigned i)
{
	struct hsrelay *r = arg;

	relay_worker_destroy(r->relays[i]);
	r->relays[i] = NULL;
	crypto_engine_destroy(r->engines[i]);
	r->engines[i] = NULL;
	if (r->relay_events[i]) {
		struct ring_msg msg;

		while (ring_msg_recv_burst(r->relay_events[i], &msg, 1) == 1)
			if (msg.ptr != NULL)
				rte_pktmbuf_free(msg.ptr);
	}
	rte_ring_free(r->relay_events[i]);
	r->relay_events[i] = NULL;
	if (r->cross[i]) {
		struct cross_batch *b;

		while (cross_ring_take(r->cross[i], &b, 1) == 1)
			cross_batch_free(r->cross_pool, b);
		rte_ring_free(r->cross[i]);
		r->cross[i] = NULL;
	}
}

static void
teardown(struct hsrelay *r)
{
	relay_control_destroy(r->control_state);
	worker_set_destroy(&r->dp);
	rte_mempool_free(r->cross_pool);
	rte_mempool_free(r->control_pool);
}

/* MaxHSDirCacheBytes 0: tor's automatic value from the memory size. */
static uint64_t
hsdir_cache_cap(const struct config_tor *tor)
{
	if (tor->max_hsdir_cache_bytes != 0)
		return tor->max_hsdir_cache_bytes;
	return hsdir_store_auto_max_bytes(sysconf(_SC_PHYS_PAGES) > 0 && sysconf(_SC_PAGESIZE) > 0
			? (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) : 0);
}

/* The DoS keys as control/dos_guard.h takes them. */
static struct dos_guard_options
dos_options(const struct config_dos *d)
{
	return (struct dos_guard_options){
		.cc_enabled = d->circuit_creation_enabled,
		.cc_min_connections = d->circuit_creation_min_connections,
		.cc_rate = d->circuit_creation_rate,
		.cc_burst = d->circuit_creation_burst,
		.cc_defense_type = d->circuit_creation_defense_type,
		.cc_defense_time_period = d->circuit_creation_defense_time_period,
		.conn_enabled = d->connection_enabled,
		.conn_max_concurrent_count = d->connection_max_concurrent_count,
		.conn_defense_type = d->connection_defense_type,
		.conn_connect_rate = d->connection_connect_rate,
		.conn_connect_burst = d->connection_connect_burst,
		.conn_connect_defense_time_period = d->connection_connect_defense_time_period,
	};
}

/* The keys FamilyId names, from FamilyKeyDirectory or DataDirectory/keys
 * (tor 0.4.9); an id without its key stops the start, as a bad value does. */
static int
load_family_keys(struct hsrelay *r)
{
	const struct config_tor *tor = &r->config.tor;
	char dir[CONFIG_PATH_MAX + 8], message[512];
	int n;

	if (tor->family_key_directory[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", tor->family_key_directory);
	else
		snprintf(dir, sizeof(dir), "%s/keys", tor->data_directory);
	n = family_keys_load(dir, (const uint8_t (*)[RELAY_FAMILY_ID_LEN])tor->family_ids,
			tor->n_family_ids, tor->family_id_all, r->family_keys,
			RELAY_FAMILY_IDS_MAX, message, sizeof(message));
	if (n < 0) {
		fprintf(stderr, "hsrelay: family keys: %s\n", message);
		return n;
	}
	r->n_family_keys = (unsigned)n;
	if (tor->family_id_all && n == 0)
		fprintf(stderr, "hsrelay [warn] FamilyId *: no family key in %s\n", dir);
	for (int i = 0; i < n; i++) {
		char id[RELAY_FAMILY_ID_BASE64_LEN + 1];

		relay_family_id_format(r->family_keys[i].public_key, id);
		fprintf(stderr, "hsrelay: family key %s: a family-cert in our descriptor\n", id);
	}
	return 0;
}

static int
make_control(struct hsrelay *r, time_t now)
{
	const struct config_tor *tor = &r->config.tor;
	struct relay_control_config cc;
	char message[256], state_file[CONFIG_PATH_MAX + 8];
	int err;

	memset(&cc, 0, sizeof(cc));
	cc.n_workers = r->n_workers;
	memcpy(cc.worker_rings, r->dp.control, sizeof(r->dp.control));
	memcpy(cc.event_rings, r->relay_events, sizeof(r->relay_events));
	cc.pool = r->control_pool;
	cc.keys = r->keys;
	cc.address = r->config.dpdk.address;
	cc.or_port = tor->or_port;
	cc.nickname = tor->nickname;
	cc.contact = tor->contact_info[0] ? tor->contact_info : NULL;
	cc.family = (const char (*)[RELAY_FAMILY_ITEM_MAX + 1])tor->family;
	cc.n_family = tor->n_family;
	cc.family_keys = r->family_keys;
	cc.n_family_keys = r->n_family_keys;
	cc.bandwidth_rate = tor->bandwidth_rate;
	cc.bandwidth_burst = tor->bandwidth_burst;
	cc.relay_bandwidth_rate = tor->relay_bandwidth_rate;
	cc.relay_bandwidth_burst = tor->relay_bandwidth_burst;
	/* MaxAdvertisedBandwidth only lowers what the descriptor says, never
	 * the buckets (tor router.c relay_get_effective_bwrate()). */
	config_effective_bandwidth(tor, &cc.advertised_rate, &cc.advertised_burst);
	cc.count_private_bandwidth = tor->count_private_bandwidth != 0;
	cc.token_bucket_refill_interval_ms = tor->token_bucket_refill_interval_ms;
	cc.accounting_max = tor->accounting_max;
	cc.accounting_rule = tor->accounting_rule;
	cc.accounting_start = tor->accounting_start;
	/* tor keeps the accounting counts in DataDirectory/state. */
	snprintf(state_file, sizeof(state_file), "%s/state", tor->data_directory);
	cc.state_file = state_file;
	cc.publish = tor->publish_server_descriptor;
	cc.allow_private_extend = tor->testing_tor_network;
	cc.testing_tor_network = tor->testing_tor_network;
	for (unsigned a = 0; a < tor->n_dir_authorities &&
			cc.n_authorities < RELAY_CONTROL_AUTHORITIES_MAX; a++) {
		const struct config_dir_authority *d = &tor->dir_authorities[a];

		/* dir-spec 3: relays upload to the v3 authorities. */
		if (!d->has_v3ident || d->is_bridge)
			continue;
		cc.authorities[cc.n_authorities].address = d->address;
		cc.authorities[cc.n_authorities].dir_port = d->dir_port;
		memcpy(cc.authorities[cc.n_authorities].v3ident, d->v3ident,
				sizeof(cc.authorities[0].v3ident));
		cc.n_authorities++;
	}
	/* tor uploads at start and every 18 hours; a testing network
	 * republishes often so that a new authority learns about it. */
	cc.upload_interval = tor->testing_tor_network ? 60 : 0;
	cc.consensus_interval = tor->testing_tor_network ? 20 : 0;
	cc.max_hsdir_cache_bytes = hsdir_cache_cap(tor);
	cc.dos = dos_options(&tor->dos);
	r->control_state = relay_control_create(&cc, now, &err, message, sizeof(message));
	/* The control thread keeps its own copy of the family keys. */
	sodium_memzero(r->family_keys, sizeof(r->family_keys));
	if (!r->control_state) {
		fprintf(stderr, "hsrelay: control thread: %s\n", message);
		return err;
	}
	return 0;
}

/* The introduction point's counters, tor's metric label values as keys. */
static void
print_intro_stats(const struct intro_point_stats *st)
{
	printf("hsrelay: stats intro");
	for (int i = 0; i < INTRO_EST_ACTIONS; i++)
		printf(" est_intro_%s=%" PRIu64, intro_point_est_action_name(i), st->est_intro[i]);
	for (int i = 0; i < INTRO1_ACTIONS; i++)
		printf(" intro1_%s=%" PRIu64, intro_point_intro1_action_name(i), st->intro1[i]);
	printf(" introduce2_rejected=%" PRIu64 " replaced=%" PRIu64 " no_kh=%" PRIu64
			" table_full=%" PRIu64 " intro_circuits=%" PRIu64 " circuits=%" PRIu64 "\n",
			st->introduce2_rejected, st->replaced, st->no_kh, st->table_full,
			st->intro_circuits, st->circuits);
	printf("hsrelay: stats intro_acks pending=%" PRIu64 " unconfirmed=%" PRIu64 "\n",
			st->acks_pending, st->acks_unconfirmed);
}

/* One line per worker and one for the control thread, on stdout at exit. */
static void
print_stats(const struct hsrelay *r)
{
	const struct relay_control_stats *c = relay_control_stats(r->control_state);

	for (unsigned i = 0; i < r->n_workers; i++) {
		struct relay_worker_stats s;

		relay_worker_stats(r->relays[i], &s);
		printf("hsrelay: stats worker %u links_accepted=%" PRIu64 " links_connected=%" PRIu64
				" links_closed=%" PRIu64 " records_opened=%" PRIu64
				" records_sealed=%" PRIu64 " cells_in=%" PRIu64 " cells_out=%" PRIu64
				" cells_to_control=%" PRIu64 " forwarded=%" PRIu64 " backwarded=%" PRIu64
				" circuits_open=%" PRIu64 " drop_bad_record=%" PRIu64
				" drop_bad_cell=%" PRIu64 " drop_no_mbuf=%" PRIu64 " drop_no_link=%" PRIu64
				" drop_events=%" PRIu64 " backlog_overflow=%" PRIu64
				" stale_messages=%" PRIu64 " cells_queued=%" PRIu64
				" closed_queue_limit=%" PRIu64 " closed_queue_limit_outq=%" PRIu64
				" closed_oom=%" PRIu64 " cells_cross_out=%" PRIu64 " cells_cross_in=%" PRIu64
				" cross_batches_in=%" PRIu64 " cross_ring_full=%" PRIu64
				" remotes_open=%" PRIu64 "\n", i,
				s.links_accepted,
				s.links_connected, s.links_closed, s.records_opened, s.records_sealed,
				s.cells_in, s.cells_out, s.cells_to_control, s.circuits.forwarded,
				s.circuits.backwarded, s.circuits.circuits_open, s.drop_bad_record,
				s.drop_bad_cell, s.drop_no_mbuf, s.drop_no_link, s.drop_events,
				s.backlog_overflow, s.stale_messages, s.cells_queued,
				s.closed_queue_limit, s.closed_queue_limit_outq, s.closed_oom,
				s.cells_cross_out,
				s.cells_cross_in, s.cross_batches_in, s.cross_ring_full,
				s.circuits.remotes_open);
		printf("hsrelay: stats worker %u tcp segments_in=%" PRIu64 " segments_out=%" PRIu64
				" retransmitted=%" PRIu64 " timeouts=%" PRIu64 " fast_recoveries=%" PRIu64
				" sack_recoveries=%" PRIu64 " reorder_recoveries=%" PRIu64
				" loss_probes=%" PRIu64 " loss_probes_spurious=%" PRIu64
				" lost_retransmits=%" PRIu64 " recoveries_undone=%" PRIu64
				" drop_out_of_window=%" PRIu64 " drop_checksum=%" PRIu64
				" rx_checksum_offloaded=%" PRIu64 " tx_checksum_offloaded=%" PRIu64
				"\n", i,
				s.tcp.segments_in, s.tcp.segments_out, s.tcp.retransmitted_segments,
				s.tcp.retransmit_timeouts, s.tcp.fast_retransmits, s.tcp.sack_recoveries,
				s.tcp.reorder_recoveries, s.tcp.loss_probes, s.tcp.loss_probes_spurious,
				s.tcp.lost_retransmits, s.tcp.recoveries_undone, s.tcp.drop_out_of_window,
				s.tcp.drop_checksum, s.tcp.rx_checksum_offloaded,
				s.tcp.tx_checksum_offloaded);
	}
	printf("hsrelay: stats control tls_handshakes=%" PRIu64 " tls_failures=%" PRIu64
			" link_handshakes=%" PRIu64 " link_failures=%" PRIu64 " creates=%" PRIu64
			" create_failures=%" PRIu64 " extends=%" PRIu64 " extend_failures=%" PRIu64
			" extended=%" PRIu64 " uploads_ok=%" PRIu64 " uploads_failed=%" PRIu64
			" messages_dropped=%" PRIu64 " extends_cross_worker=%" PRIu64
			" cross_lost=%" PRIu64 " overloads=%" PRIu64 "\n", c->tls_handshakes,
			c->tls_failures, c->link_handshakes, c->link_failures, c->creates,
			c->create_failures, c->extends, c->extend_failures, c->extended, c->uploads_ok,
			c->uploads_failed, c->messages_dropped, c->extends_cross_worker, c->cross_lost,
			c->overloads);
	print_intro_stats(relay_control_intro_stats(r->control_state));
	{
		const struct accounting *a = relay_control_accounting(r->control_state);

		if (a != NULL)
			printf("hsrelay: stats accounting state=%s read=%" PRIu64 " written=%" PRIu64
					" max=%" PRIu64 " rule=%s creates_refused=%" PRIu64
					" state_file_errors=%" PRIu64 "\n",
					hibernate_state_name(a->state), a->bytes_read,
					a->bytes_written, a->cfg.max, accounting_rule_name(a->cfg.rule),
					c->creates_hibernating, c->state_file_errors);
	}
	{
		const struct dos_guard_stats *d = relay_control_dos_stats(r->control_state);

		printf("hsrelay: stats dos circuit_rejected=%" PRIu64 " marked_address=%" PRIu64
				" marked_address_maxq=%" PRIu64
				" conn_rejected=%" PRIu64 " concurrent_conn_rejected=%" PRIu64
				" connections_closed=%" PRIu64 " table_full=%" PRIu64
				" addresses=%" PRIu64 "\n", d->circuit_rejected, d->marked_address,
				d->marked_address_maxq,
				d->conn_rejected, d->concurrent_conn_rejected,
				d->connections_closed, d->table_full, d->entries);
	}

	printf("hsrelay: stats rendezvous control waiting=%" PRIu64 " closed_waiting=%" PRIu64
			" expired=%" PRIu64 "\n", c->rendezvous.waiting, c->rendezvous.closed_waiting,
			c->rendezvous.expired);
	fflush(stdout);
}

/* Publishes the workers' last reported counters and the control thread's
 * on the MetricsPort, and asks the workers for fresh ones. */
static void
publish_metrics(struct hsrelay *r)
{
	const struct relay_control_stats *cs = relay_control_stats(r->control_state);
	struct relay_metrics_control mc;
	struct metrics_snapshot *s;
	bool listed;

	relay_control_request_stats(r->control_state);
	if (r->metrics == NULL)
		return;
	memset(&mc, 0, sizeof(mc));
	mc.onionskins_processed[RELAY_METRICS_ONIONSKIN_FAST] = cs->onionskins[1];
	mc.onionskins_processed[RELAY_METRICS_ONIONSKIN_NTOR] = cs->onionskins[2];
	mc.onionskins_processed[RELAY_METRICS_ONIONSKIN_NTOR_V3] = cs->onionskins[3];
	mc.onionskins_dropped[RELAY_METRICS_ONIONSKIN_NTOR] = cs->create_failures;
	mc.drop_cells = cs->drop_cells;
	for (int a = 0; a < RELAY_METRICS_EST_REND_ACTIONS && a < REND_EST_ACTION_COUNT; a++)
		mc.est_rend[a] = cs->rendezvous.est_rend[a];
	for (int a = 0; a < RELAY_METRICS_REND1_ACTIONS && a < REND1_ACTION_COUNT; a++)
		mc.rend1[a] = cs->rendezvous.rend1[a];

	{
		const struct intro_point_stats *ist = relay_control_intro_stats(r->control_state);

		_Static_assert(INTRO_EST_ACTIONS == RELAY_METRICS_EST_INTRO_ACTIONS &&
				INTRO1_ACTIONS == RELAY_METRICS_INTRO1_ACTIONS,
				"intro_point.h and relay_metrics.h list tor's actions alike");
		memcpy(mc.est_intro, ist->est_intro, sizeof(mc.est_intro));
		memcpy(mc.intro1, ist->intro1, sizeof(mc.intro1));
		mc.introduce2_rejected = ist->introduce2_rejected;
	}
	{
		const struct dos_guard_stats *d = relay_control_dos_stats(r->control_state);

		mc.dos_circuit_rejected = d->circuit_rejected;
		mc.dos_marked_address = d->marked_address;
		mc.dos_marked_address_maxq = d->marked_address_maxq;
		for (unsigned i = 0; i < r->n_workers; i++) {
			const struct relay_worker_stats *ws =
				&relay_control_worker_stats(r->control_state)[i];

			mc.dos_circuit_killed_max_cell += ws->closed_queue_limit;
			mc.dos_circuit_killed_max_cell_outq += ws->closed_queue_limit_outq;
			/* tor counts what its sockets read and wrote; here the
			 * links' TCP payload (retransmissions included). */
			mc.bytes_read += ws->tcp.bytes_in;
			mc.bytes_written += ws->tcp.bytes_out;
			mc.rate_limit_read_reached += ws->rate_limit_read_reached;
			mc.rate_limit_write_reached += ws->rate_limit_write_reached;
		}
		mc.dos_conn_rejected = d->conn_rejected;
		mc.dos_concurrent_conn_rejected = d->concurrent_conn_rejected;
		mc.connections_rejected = d->connections_closed;
		mc.single_hop_refused = cs->rendezvous.est_rend[REND_EST_SINGLE_HOP];
	}
	{
		const struct accounting *a = relay_control_accounting(r->control_state);

		if (a != NULL) {
			mc.accounting_on = true;
			mc.accounting_max = a->cfg.max;
			mc.accounting_read = a->bytes_read;
			mc.accounting_written = a->bytes_written;
			mc.accounting_interval_end = a->interval_end;
			mc.hibernation_state = a->state;
			mc.creates_refused_hibernating = cs->creates_hibernating;
		}
	}
	s = metrics_snapshot_new();
	if (s == NULL)
		return;
	if (relay_metrics_fill(s, relay_control_worker_stats(r->control_state), r->n_workers,
			&mc) < 0 ||
	    hsdir_store_metrics_fill(s, relay_control_hsdir(r->control_state)) < 0 ||
	    hsdir_ring_metrics_fill(s, relay_control_hsdir_ring(r->control_state, &listed),
			listed) < 0) {
		metrics_snapshot_free(s);
		return;
	}
	metrics_server_publish(r->metrics, s);
}

/* The circuit table's counters and the control thread's link counts, one
 * more line per worker and one for control, on stdout at exit (what a
 * misbehaving peer caused shows here: tests/interop/relay_hostile.sh). */
static void
print_circuit_stats(const struct hsrelay *r)
{
	const struct relay_control_stats *c = relay_control_stats(r->control_state);

	for (unsigned i = 0; i < r->n_workers; i++) {
		struct relay_worker_stats s;
		const struct circuit_counters *cc = &s.circuits;

		relay_worker_stats(r->relays[i], &s);
		printf("hsrelay: stats circuits worker %u local=%" PRIu64 " to_control=%" PRIu64
				" drop_unknown_circuit=%" PRIu64 " drop_padding=%" PRIu64
				" drop_other=%" PRIu64 " destroy_received=%" PRIu64
				" truncated_sent=%" PRIu64 " closed_protocol=%" PRIu64
				" closed_by_destroy=%" PRIu64 " closed_by_link=%" PRIu64
				" drop_link_full=%" PRIu64 "\n", i, cc->local, cc->to_control,
				cc->drop_unknown_circuit, cc->drop_padding, cc->drop_other,
				cc->destroy_received, cc->truncated_sent, cc->closed_protocol,
				cc->closed_by_destroy, cc->closed_by_link, s.drop_link_full);
		printf("hsrelay: stats rendezvous worker %u spliced=%" PRIu64 " splices_open=%"
				PRIu64 " closed_by_splice=%" PRIu64 " cross_splice_cells_in=%" PRIu64
				" cross_splice_joins_in=%" PRIu64 "\n", i, cc->spliced,
				cc->splices_open, cc->closed_by_splice, s.cross_splice_cells_in,
				s.cross_splice_joins_in);
		printf("hsrelay: stats latency worker %u forward_cells=%" PRIu64
				" forward_sum_ns=%" PRIu64 " splice_cells=%" PRIu64
				" splice_sum_ns=%" PRIu64 "\n", i,
				latency_histogram_count(&s.latency[LATENCY_KIND_FORWARD - 1]),
				s.latency[LATENCY_KIND_FORWARD - 1].sum_ns,
				latency_histogram_count(&s.latency[LATENCY_KIND_SPLICE - 1]),
				s.latency[LATENCY_KIND_SPLICE - 1].sum_ns);
		printf("hsrelay: stats tls worker %u key_updates_in=%" PRIu64
				" key_updates_out=%" PRIu64 "\n", i, s.tls_key_updates_in,
				s.tls_key_updates_out);
		printf("hsrelay: stats bandwidth worker %u read_limit_reached=%" PRIu64
				" write_limit_reached=%" PRIu64 " relayed_read_limit_reached=%" PRIu64
				" relayed_write_limit_reached=%" PRIu64 "\n", i,
				s.rate_limit_read_reached, s.rate_limit_write_reached,
				s.relayed_limit_read_reached, s.relayed_limit_write_reached);
		printf("hsrelay: stats padding worker %u negotiations=%" PRIu64
				" negotiate_ignored=%" PRIu64 " cells_sent=%" PRIu64 "\n", i,
				s.padding_negotiations, s.padding_negotiate_ignored,
				s.padding_cells_sent);
	}
	printf("hsrelay: stats padding control nf_ito_low_ms=%" PRIu64 " nf_ito_high_ms=%" PRIu64
			"\n", c->padding_ito_low_ms, c->padding_ito_high_ms);
	printf("hsrelay: stats circuit_queues control toward_n=%" PRIu64 " toward_p=%" PRIu64
			"\n", c->queue_limit_toward_n, c->queue_limit_toward_p);
	printf("hsrelay: stats links control links_inbound=%" PRIu64 " links_outbound=%" PRIu64
			" relay_cells_ignored=%" PRIu64 "\n", c->links_inbound, c->links_outbound,
			c->relay_cells_ignored);
	printf("hsrelay: stats dircache dir_requests_served=%" PRIu64 " dir_requests_failed=%"
			PRIu64 " stream_cells_received=%" PRIu64 " stream_cells_sent=%" PRIu64
			" stream_circuits_failed=%" PRIu64 "\n", c->dir_requests_served,
			c->dir_requests_failed, c->stream_cells_received, c->stream_cells_sent,
			c->stream_circuits_failed);
	{
		static const char *const names[] = { "consensus", "microdesc", "keys", "other" };
		const struct relay_control_dir_counts *k[] = {
			&c->dir_consensus, &c->dir_microdesc, &c->dir_keys, &c->dir_other,
		};

		for (size_t i = 0; i < 4; i++)
			printf("hsrelay: stats dircache %s ok=%" PRIu64 " items=%" PRIu64
					" not_modified=%" PRIu64 " not_found=%" PRIu64
					" other=%" PRIu64 "\n", names[i], k[i]->ok, k[i]->items,
					k[i]->not_modified, k[i]->not_found, k[i]->other);
		printf("hsrelay: stats dircache consensus_diffs served=%" PRIu64 " made=%" PRIu64
				" failed=%" PRIu64 " bases=%" PRIu64 "\n", c->consensus_diffs_served,
				c->consensus_diffs_made, c->consensus_diffs_failed,
				c->consensus_diff_bases);
		printf("hsrelay: stats dircache encodings");
		for (unsigned m = 0; m < DIR_COMPRESS_METHODS; m++)
			printf(" %s=%" PRIu64, dir_compress_name(m), c->dir_encoded[m]);
		printf("\n");
	}
	printf("hsrelay: stats microdescs held=%" PRIu64 " fetched=%" PRIu64 " rejected=%"
			PRIu64 " requests=%" PRIu64 "\n", c->microdescs_held,
			c->microdescs_fetched, c->microdescs_rejected, c->microdesc_requests);
	printf("hsrelay: stats reload valid=%" PRIu64 " refused=%" PRIu64 "\n",
			r->reloads_valid, r->reloads_refused);
	fflush(stdout);
}

/* SIGHUP (tor's do_hup): re-reads the file; an invalid one is reported
 * and changes nothing. Otherwise one line per changed key says whether it
 * was applied or needs a restart (control/config_reload.h), and the
 * applied ones reach the control thread and the MetricsPort. */
static void
reload_config(struct hsrelay *r, time_t now)
{
	static struct config fresh;
	struct config_reload_plan plan;
	struct config_error err;
	char message[512];

	service_notify_reloading();
	config_init(&fresh);
	if (config_parse_file(&fresh, r->config_path, &err) < 0 ||
	    config_check_relay(&fresh, r->config_path, &err) < 0) {
		config_error_format(&err, message, sizeof(message));
		fprintf(stderr, "hsrelay: SIGHUP: %s; keeping the running configuration\n",
				message);
		r->reloads_refused++;
		service_notify_ready();
		return;
	}
	config_reload_diff(&r->config, &fresh, &plan);
	if (plan.n_changes == 0)
		fprintf(stderr, "hsrelay: SIGHUP: %s is valid; nothing changed\n", r->config_path);
	for (unsigned i = 0; i < plan.n_changes; i++)
		fprintf(stderr, "hsrelay: SIGHUP: %s changed: %s\n", plan.changes[i].key,
				config_reload_action_name(plan.changes[i].action));
	config_reload_apply(&r->config, &fresh, &plan);
	if (plan.apply) {
		const struct config_tor *tor = &r->config.tor;
		struct relay_control_reload rr = {
			.nickname = tor->nickname,
			.contact = tor->contact_info[0] ? tor->contact_info : NULL,
			.family = (const char (*)[RELAY_FAMILY_ITEM_MAX + 1])tor->family,
			.n_family = tor->n_family,
			.bandwidth_rate = tor->bandwidth_rate,
			.bandwidth_burst = tor->bandwidth_burst,
			.relay_bandwidth_rate = tor->relay_bandwidth_rate,
			.relay_bandwidth_burst = tor->relay_bandwidth_burst,
			.count_private_bandwidth = tor->count_private_bandwidth != 0,
			.accounting_max = tor->accounting_max,
			.accounting_rule = tor->accounting_rule,
			.accounting_start = tor->accounting_start,
			.publish = tor->publish_server_descriptor,
			.max_hsdir_cache_bytes = hsdir_cache_cap(tor),
			.descriptor_dirty = plan.descriptor_dirty,
		};
		const struct dos_guard_options dos = dos_options(&tor->dos);
		struct relay_keys_error kerr;

		config_effective_bandwidth(tor, &rr.advertised_rate, &rr.advertised_burst);
		if (relay_control_reload(r->control_state, &rr, now) < 0)
			fprintf(stderr, "hsrelay: SIGHUP: the control thread refused the "
					"new values\n");
		/* tor's dos_init() on SIGHUP. */
		relay_control_set_dos_options(r->control_state, &dos);
		if (r->metrics != NULL)
			metrics_server_set_policy(r->metrics, &tor->metrics_policy);
		/* DataDirectory/fingerprint starts with the nickname, which
		 * may have changed. */
		if (relay_keys_write_fingerprint_files(r->keys, tor->data_directory,
				tor->nickname, &kerr) < 0)
			fprintf(stderr, "hsrelay: SIGHUP: %s: %s\n", kerr.path, kerr.message);
		if (plan.descriptor_dirty && tor->publish_server_descriptor)
			fprintf(stderr, "hsrelay: SIGHUP: descriptor changed; uploading it\n");
		service_notify_status("relay %s on port %u", tor->nickname, tor->or_port);
	}
	r->reloads_valid++;
	service_notify_ready();
}

/* SIGUSR1: one line per worker with its loop time so far, read while it
 * runs (dataplane/worker.h worker_cycles()): busy_ns in iterations that
 * did work, poll_ns in all iterations (sleeps excluded). hsrelay-bench
 * relay reads two of these to charge the worker's busy time to a window. */
static void
print_worker_cycles(const struct hsrelay *r)
{
	uint64_t hz = rte_get_tsc_hz();

	for (unsigned i = 0; i < r->n_workers; i++) {
		uint64_t busy, poll;

		worker_cycles(r->dp.workers[i], &busy, &poll);
		printf("hsrelay: cycles worker %u busy_ns=%" PRIu64 " poll_ns=%" PRIu64 "\n", i,
				(uint64_t)((unsigned __int128)busy * 1000000000u / hz),
				(uint64_t)((unsigned __int128)poll * 1000000000u / hz));
	}
	fflush(stdout);
}

/* Runs the control thread until SIGTERM/SIGINT (blocked in every thread
 * since start-up). */
static void
control_loop(struct hsrelay *r)
{
	sigset_t set;
	struct timespec idle = { .tv_sec = 0, .tv_nsec = CONTROL_IDLE_NS };
	time_t last_metrics = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		time_t now = time(NULL);
		unsigned work = relay_control_poll(r->control_state, now);
		int sig;

		work += worker_set_capture_poll(&r->dp);
		if (now != last_metrics) {
			publish_metrics(r);
			last_metrics = now;
		}

		sig = sigtimedwait(&set, NULL, work ? &(struct timespec){ 0, 0 } : &idle);
		if (sig == SIGTERM || sig == SIGINT) {
			fprintf(stderr, "hsrelay: caught signal %d, shutting down\n", sig);
			service_notify_stopping();
			return;
		}
		if (sig == SIGHUP)
			reload_config(r, now);
		if (sig == SIGUSR1)
			print_worker_cycles(r);
	}
}

static int
run(struct hsrelay *r)
{
	const struct config_dpdk *cfg = &r->config.dpdk;
	const struct worker_set_config dp = {
		.name = "hsrelay",
		.dpdk = cfg,
		.n_workers = r->n_workers,
		.ring_size = RING_SIZE,
		.message_ring_size = RING_SIZE,
		.port_desc = PORT_DESC,
		.arp_retry_ns = ARP_RETRY_NS,
		.max_tcp_connections = r->config.tor.max_links_per_worker * 2,
		.app = &relay_worker_app_ops,
		.hooks = { create_relay, attach_relay, destroy_relay },
		.hooks_arg = r,
	};
	int rc;

	rc = worker_set_start_port(&r->dp, &dp);
	if (rc < 0)
		return rc;
	r->control_pool = port_mempool_create("control", CONTROL_POOL_MBUFS, (int)rte_socket_id());
	if (!r->control_pool)
		return -ENOMEM;
	rc = setup_cross(r);
	if (rc < 0) {
		fprintf(stderr, "hsrelay: worker set-up: %s\n", strerror(-rc));
		return rc;
	}
	rc = worker_set_create_workers(&r->dp);
	if (rc < 0)
		return rc;
	rc = make_control(r, time(NULL));
	if (rc < 0)
		return rc;
	rc = worker_set_launch(&r->dp);
	if (rc == 0) {
		char fp[2 * RSA_IDENTITY_FINGERPRINT_LEN + 1];
		char checksum[48];

		rsa_fingerprint_to_hex(relay_keys_fingerprint(r->keys), fp);
		port_checksum_describe(&r->dp.port, checksum, sizeof(checksum));
		printf("hsrelay: relay %s %s on %u.%u.%u.%u:%u, port %s queues %u link %s "
				"checksum offload %s\n",
				r->config.tor.nickname, fp, cfg->address >> 24,
				cfg->address >> 16 & 0xff, cfg->address >> 8 & 0xff,
				cfg->address & 0xff, r->config.tor.or_port, r->dp.port.name,
				r->n_workers, port_link_wait(r->dp.port_id, 500) ? "up" : "down",
				checksum);
		fflush(stdout);
		if (r->config.tor.has_metrics_port) {
			rc = metrics_server_start(r->config.tor.metrics_address,
					r->config.tor.metrics_port, &r->config.tor.metrics_policy,
					&r->metrics);
			if (rc < 0)
				fprintf(stderr, "hsrelay: MetricsPort %u: %s\n",
						r->config.tor.metrics_port, strerror(-rc));
		}
		if (rc == 0) {
			service_notify_ready();
			service_notify_status("relay %s on port %u", r->config.tor.nickname,
					r->config.tor.or_port);
			control_loop(r);
		}
		metrics_server_stop(r->metrics);
		r->metrics = NULL;
	}
	worker_set_stop(&r->dp);
	if (r->control_state != NULL) {
		print_stats(r);
		print_circuit_stats(r);
		print_worker_cycles(r);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "verify-config", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static struct hsrelay r;
	struct config_error err;
	struct relay_keys_error kerr;
	bool verify = false;
	char message[512];
	sigset_t signals;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			r.config_path = optarg;
			break;
		case 'v':
			verify = true;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (!r.config_path || optind != argc) {
		usage(argv[0]);
		return 2;
	}
	config_init(&r.config);
	if (config_parse_file(&r.config, r.config_path, &err) < 0 ||
	    config_check_relay(&r.config, r.config_path, &err) < 0) {
		config_error_format(&err, message, sizeof(message));
		fprintf(stderr, "hsrelay: %s\n", message);
		return 2;
	}
	if (verify) {
		printf("Configuration was valid\n");
		return 0;
	}
	r.n_workers = r.config.dpdk.worker_queues;

	rc = relay_keys_load_or_create(r.config.tor.data_directory, time(NULL), &r.keys, &kerr);
	if (rc == 0)
		rc = relay_keys_write_fingerprint_files(r.keys, r.config.tor.data_directory,
				r.config.tor.nickname, &kerr);
	if (rc < 0) {
		fprintf(stderr, "hsrelay: keys: %s: %s\n", kerr.path, kerr.message);
		relay_keys_free(r.keys);
		return 1;
	}
	if (load_family_keys(&r) < 0) {
		relay_keys_free(r.keys);
		return 1;
	}

	/* SIGTERM/SIGINT/SIGHUP/SIGUSR1 are taken by the control loop only:
	 * blocked before EAL creates its threads, so every thread inherits
	 * the mask. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	sigaddset(&signals, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);

	if (eal_start_main(&r.config.dpdk, argv[0], "hsrelay") < 0) {
		relay_keys_free(r.keys);
		return 1;
	}
	rc = run(&r);
	teardown(&r);
	eal_stop();
	relay_keys_free(r.keys);
	sodium_memzero(r.family_keys, sizeof(r.family_keys));
	return rc < 0 ? 1 : 0;
}
