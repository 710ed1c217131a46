/* Relay-side denial-of-service limits per client IPv4 address: what tor
 * 0.4.9's dos.c does for circuit creation and for connections (tor's
 * manual, "DENIAL OF SERVICE MITIGATION OPTIONS"; docs/dos.md).
 *
 *  - Circuit creation (tor's dos_cc_*): every CREATE2 / CREATE_FAST on a
 *    link whose peer did not authenticate (tor's channel_is_client())
 *    takes a token from its address's bucket (burst DoSCircuitCreationBurst,
 *    refilled DoSCircuitCreationRate per whole elapsed second). When the
 *    bucket is empty while the address has at least
 *    DoSCircuitCreationMinConnections connections open, the address is
 *    marked for DoSCircuitCreationDefenseTimePeriod plus a random 1 ..
 *    period/2 seconds, and with defense type 2 every CREATE from it is
 *    refused (DESTROY RESOURCELIMIT, tor command.c) until then.
 *  - Connections (tor's dos_conn_*): an inbound connection is refused
 *    (closed at once, defense type 2) while its address is marked, or
 *    when the address already has more than DoSConnectionMaxConcurrentCount
 *    connections open. Every accepted inbound connection takes a token
 *    from its address's connect bucket (DoSConnectionConnectRate per
 *    second, burst DoSConnectionConnectBurst); when that bucket is empty
 *    the address is marked for DoSConnectionConnectDefenseTimePeriod plus
 *    a random 1 .. period/2 seconds.
 *
 * As in tor 0.4.9 (since 0.4.8.5, tor bug 40821: "Extend DoS protection to
 * partially opened channels and known relays"), connections are counted
 * from the moment they are accepted, before any handshake, whoever the peer
 * is: addresses of relays in the consensus are not exempt. Circuit
 * creation is limited only on client links (the caller says which).
 *
 * Memory is bounded: a table of a fixed number of address entries, set
 * associative (DOS_GUARD_WAYS entries per bucket, the bucket chosen by a
 * keyed SipHash of the address so that nobody can aim addresses at one
 * bucket). An address that finds its bucket full takes the place of the
 * entry there that is idle (no connection open, not marked) and was seen
 * least recently; when none is idle the address is not tracked at all
 * (counted in table_full), as tor does not defend against an address
 * missing from its client cache.
 *
 * Pure logic with injected time (seconds; the caller's wall clock, as
 * tor's approx_time()) and an injectable random source; single-threaded
 * (the control thread's). No I/O.
 */
#ifndef HSRELAY_CONTROL_DOS_GUARD_H
#define HSRELAY_CONTROL_DOS_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* tor dos.h: defense types (the consensus bounds are 1..2). */
#define DOS_GUARD_DEFENSE_NONE 1
#define DOS_GUARD_DEFENSE_REFUSE 2

/* tor dos.h defaults, used when neither the configuration nor the
 * consensus sets a value. */
#define DOS_GUARD_CC_MIN_CONCURRENT_CONN_DEFAULT 3
#define DOS_GUARD_CC_CIRCUIT_RATE_DEFAULT 3
#define DOS_GUARD_CC_CIRCUIT_BURST_DEFAULT 90
#define DOS_GUARD_CC_DEFENSE_TIME_PERIOD_DEFAULT (60 * 60)
/* Circuits of one address closed for a full outbound queue before it is
 * marked (consensus dos_num_circ_max_outq; no torrc option). */
#define DOS_GUARD_CC_NUM_CIRC_MAX_OUTQ_DEFAULT 3
#define DOS_GUARD_CONN_MAX_CONCURRENT_COUNT_DEFAULT 100
#define DOS_GUARD_CONN_CONNECT_RATE_DEFAULT 20
#define DOS_GUARD_CONN_CONNECT_BURST_DEFAULT 40
#define DOS_GUARD_CONN_CONNECT_DEFENSE_TIME_PERIOD_DEFAULT (24 * 60 * 60)
/* tor's lower bound of the consensus DoSConnectionConnectDefenseTimePeriod. */
#define DOS_GUARD_CONN_CONNECT_DEFENSE_TIME_PERIOD_MIN 10

/* Entries per bucket, and the table size when the caller gives none
 * (about 4 MiB). */
#define DOS_GUARD_WAYS 8
#define DOS_GUARD_CAPACITY_DEFAULT 65536u
#define DOS_GUARD_KEY_LEN 16

/* The torrc options of tor's dos_options.inc, as the operator wrote them:
 * enabled -1 is "auto" (the consensus decides), any other field 0 means
 * "use the consensus". Values are not clamped (tor uses a torrc value as
 * it is). */
struct dos_guard_options {
	int cc_enabled;				/* DoSCircuitCreationEnabled, -1/0/1 */
	uint32_t cc_min_connections;		/* DoSCircuitCreationMinConnections */
	uint32_t cc_rate;			/* DoSCircuitCreationRate */
	uint32_t cc_burst;			/* DoSCircuitCreationBurst */
	int32_t cc_defense_type;		/* DoSCircuitCreationDefenseType */
	int32_t cc_defense_time_period;		/* DoSCircuitCreationDefenseTimePeriod, s */
	int conn_enabled;			/* DoSConnectionEnabled, -1/0/1 */
	uint32_t conn_max_concurrent_count;	/* DoSConnectionMaxConcurrentCount */
	int32_t conn_defense_type;		/* DoSConnectionDefenseType */
	uint32_t conn_connect_rate;		/* DoSConnectionConnectRate */
	uint32_t conn_connect_burst;		/* DoSConnectionConnectBurst */
	int32_t conn_connect_defense_time_period;	/* DoSConnectionConnectDefenseTimePeriod, s */
};

/* The parameters in force (tor's set_dos_parameters()). */
struct dos_guard_params {
	bool cc_enabled;
	uint32_t cc_min_concurrent_conn;
	uint32_t cc_circuit_rate;
	uint32_t cc_circuit_burst;
	int32_t cc_defense_type;		/* DOS_GUARD_DEFENSE_REFUSE refuses */
	int32_t cc_defense_time_period;
	uint32_t cc_num_circ_max_outq;		/* 0: that detection is off */
	bool conn_enabled;
	uint32_t conn_max_concurrent_count;
	int32_t conn_defense_type;		/* DOS_GUARD_DEFENSE_REFUSE closes */
	uint32_t conn_connect_rate;
	uint32_t conn_connect_burst;
	int32_t conn_connect_defense_time_period;
};

/* Looks a consensus parameter up: the value of name, or default_value
 * when absent or outside [min_value, max_value] (tor's
 * networkstatus_get_param(); control/consensus.h consensus_param()). */
typedef int32_t (*dos_guard_param_fn)(void *arg, const char *name, int32_t default_value,
		int32_t min_value, int32_t max_value);

/* Fills *out as tor 0.4.9's get_param_*() do: a torrc value (options;
 * NULL: none given) wins, else the consensus parameter of the same name
 * with tor's default and bounds (consensus_param NULL: no consensus, every
 * default). */
void dos_guard_params_resolve(const struct dos_guard_options *options,
		dos_guard_param_fn consensus_param, void *arg, struct dos_guard_params *out);

struct dos_guard_config {
	/* Address entries (rounded up to a power-of-two number of buckets of
	 * DOS_GUARD_WAYS); 0: DOS_GUARD_CAPACITY_DEFAULT. */
	uint32_t capacity;
	/* SipHash key choosing an address's bucket: random, secret. */
	uint8_t hash_key[DOS_GUARD_KEY_LEN];
	/* A uniformly random value in [0, upper) (upper >= 1) for the marks'
	 * random extra time; NULL: libsodium's randombytes_uniform(). */
	uint32_t (*random_below)(void *arg, uint32_t upper);
	void *random_arg;
};

/* What was counted, with tor's tor_relay_dos_total{type} names. */
struct dos_guard_stats {
	uint64_t circuit_rejected;		/* CREATEs from a marked address */
	uint64_t marked_address;		/* addresses marked by circuit creation */
	uint64_t marked_address_maxq;		/* addresses marked by full outbound queues */
	uint64_t conn_rejected;			/* connections while marked (connect rate) */
	uint64_t concurrent_conn_rejected;	/* connections over the concurrent cap */
	/* hsrelay's own: connections refused (closed) for either reason,
	 * tor_relay_connections_total{state="rejected"} */
	uint64_t connections_closed;
	uint64_t table_full;			/* addresses left untracked: bucket full */
	uint64_t entries;			/* gauge: addresses tracked */
};

struct dos_guard;

/* Allocates a guard with every subsystem off (tor's defaults: enabled 0)
 * until dos_guard_set_params(). Returns NULL on allocation failure or a
 * capacity above 2^24. */
struct dos_guard *dos_guard_create(const struct dos_guard_config *cfg);

/* Accepts NULL. */
void dos_guard_destroy(struct dos_guard *g);

/* Puts params in force (at start and for each new consensus, tor's
 * dos_consensus_has_changed()). Entries keep their state: marks made
 * under the old parameters stay until they expire. */
void dos_guard_set_params(struct dos_guard *g, const struct dos_guard_params *params);

const struct dos_guard_params *dos_guard_get_params(const struct dos_guard *g);

/* A new inbound connection from addr (host order) at now, before anything
 * is read from it (tor connection.c, connection_handle_listener_read():
 * dos_conn_addr_get_defense_type()). Returns false when it must be closed
 * at once: the connection subsystem is enabled with defense type 2, and
 * the address is marked or has more than the concurrent maximum open.
 * The refusal is counted (conn_rejected or concurrent_conn_rejected) also
 * with defense type 1, as tor counts it. */
bool dos_guard_connection_allowed(struct dos_guard *g, uint32_t addr, time_t now);

/* An inbound connection from addr was accepted (tor's
 * dos_new_client_conn()): when either subsystem is enabled its address's
 * concurrent count goes up and its connect bucket is charged (marking the
 * address when empty). Returns true when the connection is now tracked:
 * the caller must then call dos_guard_connection_closed() for it exactly
 * once, and must not when false is returned (subsystems off, or the table
 * full). */
bool dos_guard_connection_opened(struct dos_guard *g, uint32_t addr, time_t now);

/* A tracked connection from addr closed (tor's dos_close_client_conn()). */
void dos_guard_connection_closed(struct dos_guard *g, uint32_t addr);

/* A CREATE2 or CREATE_FAST from addr at now on a link whose peer did not
 * authenticate when client, else from a relay (tor command.c:
 * dos_cc_new_create_cell() then dos_cc_get_defense_type()). Returns true
 * when it must be refused with DESTROY(RESOURCELIMIT). Relay links, an
 * address not tracked and a disabled subsystem are never refused. */
bool dos_guard_circuit_create(struct dos_guard *g, uint32_t addr, bool client, time_t now);

/* A circuit from a link of addr was closed because its outbound (towards
 * the next hop) cell queue was full (tor relay.c
 * append_cell_to_circuit_queue() then dos.c dos_note_circ_max_outq()):
 * with circuit creation enabled, on a client link, for a tracked address
 * not marked already, the address's count goes up; at
 * cc_num_circ_max_outq (unless 0) the address is marked as circuit
 * creation marks it, counted in marked_address_maxq the first time, and
 * the count starts again. Returns true when this call marked it. */
bool dos_guard_circuit_max_outq(struct dos_guard *g, uint32_t addr, bool client, time_t now);

const struct dos_guard_stats *dos_guard_get_stats(const struct dos_guard *g);

/* What the table holds for addr (for logs and tests): false when the
 * address is not tracked. */
struct dos_guard_entry_view {
	uint32_t concurrent;
	uint32_t circuit_bucket;
	uint32_t connect_tokens;
	time_t cc_marked_until;
	time_t conn_marked_until;
};
bool dos_guard_peek(const struct dos_guard *g, uint32_t addr, struct dos_guard_entry_view *out);

#endif
