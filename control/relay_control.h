/* The control thread's relay: everything slow that the workers' links and
 * circuits need (dataplane/relay_msg.h is the contract with the workers).
 *
 *  - TLS handshakes over the bytes a worker forwards (control/tls_handshake.h),
 *    then the record keys handed to the worker;
 *  - the link handshake on the cells the worker forwards until the link is
 *    open (control/link_handshake.h), responder for inbound links, an
 *    authenticating initiator for the links it opens to extend circuits;
 *  - CREATE2 / CREATE_FAST answered with the circuit keys installed in the
 *    worker (control/circuit_handshake.h), EXTEND2 turned into a link to the
 *    next relay (reused when one is open to that identity) and a CREATE2
 *    there, its CREATED2 into EXTENDED2;
 *  - the directory work over raw TCP streams the workers open: the signed
 *    descriptor uploaded to every directory authority at start and
 *    periodically.
 *
 * Single-threaded: relay_control_poll() is called from the control loop.
 * Time is passed in (wall-clock seconds for certificates and the
 * directory schedule).
 */
#ifndef HSRELAY_CONTROL_RELAY_CONTROL_H
#define HSRELAY_CONTROL_RELAY_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "control/accounting.h"
#include "control/dir_compress.h"
#include "control/dos_guard.h"
#include "control/relay_family.h"
#include "control/rendezvous.h"
#include "dataplane/relay_msg.h"
#include "dataplane/worker.h"

struct rte_mempool;
struct rte_ring;
struct relay_keys;
struct consensus;
struct relay_control;

/* A directory authority to upload the descriptor to. */
struct relay_control_authority {
	uint32_t address;	/* host order */
	uint16_t dir_port;
	uint8_t v3ident[20];	/* SHA-1 of its authority identity key */
};

#define RELAY_CONTROL_AUTHORITIES_MAX 16
/* Longest nickname and contact kept (tor: 19 characters; ContactInfo as
 * control/config.h accepts it). */
#define RELAY_CONTROL_NICKNAME_MAX 19
#define RELAY_CONTROL_CONTACT_MAX 255

struct relay_control_config {
	unsigned n_workers;
	struct rte_ring *worker_rings[WORKER_MAX];	/* control -> worker */
	struct rte_ring *event_rings[WORKER_MAX];	/* worker -> control (relay events) */
	struct rte_mempool *pool;			/* control's mbufs for messages */
	const struct relay_keys *keys;
	uint32_t address;		/* our IPv4, host order */
	uint16_t or_port;
	const char *nickname;		/* copied, up to RELAY_CONTROL_NICKNAME_MAX */
	const char *contact;		/* NULL: none; copied, up to RELAY_CONTROL_CONTACT_MAX */
	/* MyFamily's items, normalized (relay_family_normalize()); copied, up
	 * to RELAY_FAMILY_MAX. The descriptor's family line is made from them
	 * and the consensus at each upload (relay_family_declared()). */
	const char (*family)[RELAY_FAMILY_ITEM_MAX + 1];
	unsigned n_family;
	/* FamilyId's keys (control/family_keys.h); copied, up to
	 * RELAY_FAMILY_IDS_MAX: a family-cert each in the descriptor. */
	const struct ed25519_keypair *family_keys;
	unsigned n_family_keys;
	/* BandwidthRate and BandwidthBurst: advertised, and enforced on the
	 * workers' links, each worker taking an equal share
	 * (RELAY_MSG_BANDWIDTH) */
	uint64_t bandwidth_rate;	/* bytes/s */
	uint64_t bandwidth_burst;
	/* RelayBandwidthRate and RelayBandwidthBurst (0: not set): a second
	 * pair of buckets for relayed traffic, enforced the same way on every
	 * link but the raw directory connections hsrelay opens */
	uint64_t relay_bandwidth_rate;
	uint64_t relay_bandwidth_burst;
	/* What the descriptor advertises: tor's effective rate and burst
	 * (config_effective_bandwidth()) */
	uint64_t advertised_rate;
	uint64_t advertised_burst;
	/* CountPrivateBandwidth: links to internal addresses count too */
	bool count_private_bandwidth;
	uint32_t token_bucket_refill_interval_ms;	/* TokenBucketRefillInterval */
	/* AccountingMax (0: off), AccountingRule and AccountingStart
	 * (control/accounting.h): the links' bytes counted per interval, the
	 * relay hibernating near and at the limit; the counts are kept in
	 * state_file (DataDirectory/state, copied; NULL: not kept) */
	uint64_t accounting_max;
	enum accounting_rule accounting_rule;
	struct accounting_start accounting_start;
	const char *state_file;
	bool publish;			/* upload the descriptor */
	bool allow_private_extend;	/* TestingTorNetwork: extend to private addresses */
	/* TestingTorNetwork: the observed bandwidth counts from the first
	 * second (tor's TestingMinTimeToReportBandwidth 0), not after a day */
	bool testing_tor_network;
	unsigned n_authorities;
	struct relay_control_authority authorities[RELAY_CONTROL_AUTHORITIES_MAX];
	uint32_t upload_interval;	/* seconds between uploads; 0: 18 hours as tor */
	/* seconds between consensus fetches; 0: 30 minutes (a consensus is
	 * fresh for an hour on the public network) */
	uint32_t consensus_interval;
	uint64_t max_hsdir_cache_bytes;	/* HSDir cache cap, resolved; 0: none */
	/* The DoS options of the configuration file (over the consensus's
	 * parameters; control/dos_guard.h); { -1, 0.., -1, 0.. } for none. */
	struct dos_guard_options dos;
};

/* Directory-cache answers of one kind. */
struct relay_control_dir_counts {
	uint64_t ok;			/* 200 */
	uint64_t items;			/* documents in 200 answers */
	uint64_t not_modified;		/* 304 */
	uint64_t not_found;		/* 404 */
	uint64_t other;			/* 400, 503 */
};

/* What the control thread counted. */
struct relay_control_stats {
	uint64_t tls_handshakes;
	uint64_t tls_failures;
	uint64_t link_handshakes;
	uint64_t link_failures;
	uint64_t links_inbound;
	uint64_t links_outbound;
	uint64_t creates;		/* CREATE2 / CREATE_FAST answered */
	uint64_t create_failures;
	/* CREATE2 / CREATE_FAST refused with DESTROY(HIBERNATING) */
	uint64_t creates_hibernating;
	uint64_t state_file_errors;	/* DataDirectory/state not read or written */
	/* general overloads noted (control/overload.h): OOM circuit kills,
	 * TCP source ports exhausted */
	uint64_t overloads;
	uint64_t extends;		/* EXTEND2 forwarded as CREATE2 */
	uint64_t extend_failures;
	uint64_t extended;		/* EXTENDED2 sent */
	uint64_t relay_cells_ignored;	/* relay cells for this hop we do not serve */
	uint64_t onionskins[4];		/* answered, by type: TAP (never), FAST, ntor, ntor-v3 */
	uint64_t drop_cells;		/* relay DROP cells for this hop (tor-spec 6.1) */
	uint64_t key_rotations;		/* onion or signing keys replaced */
	uint64_t tls_rotations;		/* link key and certificate replaced */
	uint64_t uploads_ok;
	uint64_t uploads_failed;
	uint64_t consensus_fetched;	/* verified and kept */
	uint64_t consensus_rejected;	/* did not parse, verify or was stale */
	int64_t consensus_valid_after;	/* of the one kept, 0: none */
	uint64_t consensus_routers;
	bool listed_running;		/* we are in it, Running and Valid */
	uint64_t messages_dropped;	/* a worker's control ring stayed full */
	uint64_t extends_cross_worker;	/* CREATE2 over another worker's link */
	uint64_t cross_lost;		/* cells lost between workers (EV_CROSS_LOST) */
	/* Rendezvous point (control/rendezvous.h): tor's est_rend / rend1
	 * actions, waiting circuits. */
	struct rendezvous_counters rendezvous;
	/* Directory cache over BEGIN_DIR (relay_stream.h, dir_server.h). */
	uint64_t stream_cells_received;	/* stream-type relay cells for this hop */
	uint64_t stream_cells_sent;	/* relay cells originated on such circuits */
	uint64_t stream_circuits_failed;	/* destroyed: protocol, limits */
	uint64_t dir_requests_served;
	uint64_t dir_requests_failed;	/* bad request head, no memory */
	/* Answers served, per resource (dir_server.h). */
	struct relay_control_dir_counts dir_consensus;
	struct relay_control_dir_counts dir_microdesc;
	struct relay_control_dir_counts dir_keys;
	struct relay_control_dir_counts dir_other;
	/* 200 answers per Content-Encoding (dir_compress.h methods). */
	uint64_t dir_encoded[DIR_COMPRESS_METHODS];
	/* Consensus diffs (consdiff.h): 200 answers that were diffs, diffs
	 * made from a kept consensus to the current one, diffs that could
	 * not be made, and consensuses kept to diff from. */
	uint64_t consensus_diffs_served;
	uint64_t consensus_diffs_made;
	uint64_t consensus_diffs_failed;
	uint64_t consensus_diff_bases;
	/* The microdescriptor store (microdesc_store.h). */
	uint64_t microdesc_requests;	/* /tor/micro/d/ fetches started */
	uint64_t microdescs_fetched;	/* kept from the authorities' answers */
	uint64_t microdescs_rejected;	/* unwanted digest, malformed, store full */
	uint64_t microdescs_held;
	/* The connection-padding window sent to the workers from the last
	 * kept consensus (0 and 0 until one was kept: the workers use tor's
	 * defaults then). */
	uint64_t padding_ito_low_ms;
	uint64_t padding_ito_high_ms;
	/* The circuit queue limits sent to the workers from the last kept
	 * consensus (0 and 0 until one was kept: RELAY_CIRCUIT_QUEUE_MAX). */
	uint64_t queue_limit_toward_n;
	uint64_t queue_limit_toward_p;
};

/* Allocates the control state (TLS contexts, link credentials). NULL with
 * *error set and a message in errbuf. Not thread-safe. */
struct relay_control *relay_control_create(const struct relay_control_config *cfg, time_t now,
		int *error, char *errbuf, size_t errbuf_len);

void relay_control_destroy(struct relay_control *c);

/* Handles the workers' events and the timers due at now. Returns the
 * amount of work done (0: idle). */
unsigned relay_control_poll(struct relay_control *c, time_t now);

const struct relay_control_stats *relay_control_stats(const struct relay_control *c);

struct intro_point_stats;
/* The introduction point's counters (control/intro_point.h). */
const struct intro_point_stats *relay_control_intro_stats(const struct relay_control *c);

/* Asks every worker for its counters (answered within a loop iteration or
 * two); the previous answers stay readable meanwhile. */
void relay_control_request_stats(struct relay_control *c);

/* The consensus kept (verified, not stale), or NULL. */
const struct consensus *relay_control_consensus(const struct relay_control *c);

/* The workers' counters as last reported (zero before the first answer). */
const struct relay_worker_stats *relay_control_worker_stats(const struct relay_control *c);

/* What a SIGHUP may change in a running control thread
 * (control/config_reload.h classifies the keys). */
struct relay_control_reload {
	const char *nickname;		/* copied */
	const char *contact;		/* NULL: none; copied */
	const char (*family)[RELAY_FAMILY_ITEM_MAX + 1];	/* as in relay_control_config */
	unsigned n_family;
	uint64_t bandwidth_rate;	/* bytes/s */
	uint64_t bandwidth_burst;
	uint64_t relay_bandwidth_rate;	/* as in relay_control_config */
	uint64_t relay_bandwidth_burst;
	uint64_t advertised_rate;
	uint64_t advertised_burst;
	bool count_private_bandwidth;
	uint64_t accounting_max;	/* as in relay_control_config */
	enum accounting_rule accounting_rule;
	struct accounting_start accounting_start;
	bool publish;
	uint64_t max_hsdir_cache_bytes;	/* resolved as in relay_control_config */
	/* Something the descriptor says changed: rebuild and upload it at the
	 * next poll (tor marks its descriptor dirty). */
	bool descriptor_dirty;
};

/* Takes the reloadable values in r at now. The HSDir cache is pruned at
 * once when it holds more than the new cap. Returns 0, or -EINVAL (a
 * nickname or contact longer than the control thread keeps, more than
 * RELAY_FAMILY_MAX family items) with nothing changed. */
int relay_control_reload(struct relay_control *c, const struct relay_control_reload *r,
		time_t now);

/* New DoS options from a reloaded configuration, applied at once over the
 * kept consensus's parameters (tor's dos_init() on SIGHUP). */
void relay_control_set_dos_options(struct relay_control *c, const struct dos_guard_options *options);

/* The DoS limits' counters (control/dos_guard.h). */
const struct dos_guard_stats *relay_control_dos_stats(const struct relay_control *c);

/* The accounting state (control/accounting.h), or NULL when AccountingMax
 * is 0. */
const struct accounting *relay_control_accounting(const struct relay_control *c);

struct hsdir_store;
/* The HSDir descriptor cache (hsdir_store.h), for its metrics. */
const struct hsdir_store *relay_control_hsdir(const struct relay_control *c);

struct hsdir_ring_indexes;
/* Our places on the hash ring from the latest consensus, for the metrics
 * (hsdir_ring_metrics_fill), or NULL before the first consensus; *listed
 * says whether that consensus gives us the HSDir flag. */
const struct hsdir_ring_indexes *relay_control_hsdir_ring(const struct relay_control *c,
		bool *listed);


#endif
