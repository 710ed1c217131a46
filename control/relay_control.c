/* The control thread's relay; see relay_control.h and dataplane/relay_msg.h. */
#include "control/relay_control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "control/authority_cert.h"
#include "control/bw_history.h"
#include "control/overload.h"
#include "control/circ_cells.h"
#include "control/consdiff.h"
#include "control/consensus.h"
#include "control/circuit_handshake.h"
#include "control/descriptor.h"
#include "control/dir_http.h"
#include "control/dir_server.h"
#include "control/dos_guard.h"
#include "control/hsdir_store.h"
#include "control/intro_point.h"
#include "control/link_cells.h"
#include "control/link_handshake.h"
#include "control/microdesc_store.h"
#include "control/relay_keys.h"
#include "control/relay_stream.h"
#include "control/rendezvous.h"
#include "control/tls_handshake.h"
#include "crypto/kdf.h"
#include "crypto/ntor.h"
#include "crypto/rsa_identity.h"
#include "crypto/torcert.h"
#include "dataplane/channel_padding.h"
#include "dataplane/relay_msg.h"
#include "dataplane/wire.h"

/* tor routerkeys.c: the RSA->Ed25519 cross-certificate lives six months. */
#define RSA_CROSSCERT_LIFETIME (6 * 30 * 24 * 3600)
/* tor router.c: a relay republishes its descriptor at least every 18 hours. */
#define UPLOAD_INTERVAL_DEFAULT (18 * 3600)
/* Give up on a directory request that has not finished. */
#define DIR_REQUEST_TIMEOUT 60
/* Largest directory response kept: a public-network consensus is a few
 * megabytes uncompressed. */
#define DIR_RESPONSE_MAX (16 * 1024 * 1024)
/* Certificates refetched this often (they last months). */
#define CERTS_INTERVAL (6 * 3600)
#define CERTS_RETRY_INTERVAL 10
#define CONSENSUS_INTERVAL_DEFAULT (30 * 60)
#define AUTHORITY_CERTS_MAX 32
/* How often keys and certificates are checked for rotation. */
#define MAINTENANCE_INTERVAL 60
/* tor router.c check_descriptor_bandwidth_changed(), run every
 * CHECK_DESCRIPTOR_INTERVAL: a new descriptor when the observed bandwidth
 * went to or from 0 or changed by more than BANDWIDTH_CHANGE_FACTOR, at
 * most every MAX_BANDWIDTH_CHANGE_FREQ. */
#define BANDWIDTH_CHECK_INTERVAL 60
#define BANDWIDTH_CHANGE_FACTOR 2
#define BANDWIDTH_CHANGE_MIN_INTERVAL (3 * 60 * 60)
/* tor's TestingMinTimeToReportBandwidth: a day, 0 with TestingTorNetwork. */
#define BANDWIDTH_MIN_OBSERVATION (24 * 60 * 60)
/* Circuits waiting for one outbound link to open. */
#define EXTEND_WAIT_MAX 64
#define LINK_SLOTS 65536u
#define EVENT_BURST 32
/* Circuits ending here with stream state (BEGIN_DIR); one more is
 * refused with DESTROY(RESOURCELIMIT). */
#define STREAM_CIRCUITS_MAX 1024
/* Stream state of a circuit with no input and no output for this long is
 * freed (and the circuit destroyed if streams were still open): control
 * is not told of every circuit close (DESTROYs the worker handles), so
 * this bounds what such circuits leave behind. */
#define STREAM_IDLE_TIMEOUT 300
/* Cells one stream circuit may originate per flush (fairness between
 * circuits; the rest goes on the next poll). */
#define STREAM_CELLS_PER_FLUSH 64
/* The congestion-control parameters of the latest circuits created here
 * (answer_create), looked up when a circuit's first stream cell arrives;
 * a circuit that gets its first stream cell after this many newer
 * creates falls back to no congestion control. */
#define CC_PARAMS_REMEMBERED 4096
/* Microdescriptor fetches from the authorities in flight at once, each
 * for at most MICRODESC_STORE_BATCH digests; what is still missing after
 * a round is asked for again this much later (an authority may lack a
 * microdescriptor for a moment after a new consensus). */
#define MICRODESC_FETCHES_PARALLEL 4
#define MICRODESC_RETRY_INTERVAL 30

enum control_link_state {
	CONTROL_LINK_CONNECTING,
	CONTROL_LINK_TLS,
	CONTROL_LINK_HANDSHAKE,
	CONTROL_LINK_OPEN,
	CONTROL_LINK_RAW,
};

struct control_link {
	uint32_t id;			/* the worker's link id (0 while connecting) */
	unsigned worker;
	uint32_t request;		/* connect request id, 0 for inbound */
	enum control_link_state state;
	bool initiator;
	struct tls_session *tls;
	struct link_handshake *hs;
	uint32_t peer_ip;
	uint16_t peer_port;
	/* other workers with circuits extended over this link: told when
	 * it closes (MSG_LINK_GONE) */
	uint32_t remote_users;
	uint8_t peer_rsa[RSA_IDENTITY_FINGERPRINT_LEN];
	bool peer_rsa_known;
	/* outbound links: circuits waiting for it to open */
	struct relay_circuit_ref waiting[EXTEND_WAIT_MAX];
	struct extend_request *waiting_req[EXTEND_WAIT_MAX];
	unsigned nb_waiting;
	/* raw links: the directory request */
	struct dir_fetch *dir;
	/* counted by the DoS limits (dos_guard_connection_opened) */
	bool dos_tracked;
	struct control_link *next;	/* in the connecting list */
};

/* An EXTEND2 waiting for its link, kept until CREATED2. */
struct extend_request {
	struct relay_circuit_ref circuit;
	unsigned worker;
	uint32_t n_link;
	struct circuit_extend_request target;
	struct extend_request *next;
};

enum dir_request_kind {
	DIR_UPLOAD,		/* POST /tor/ (our descriptor) */
	DIR_CERTS,		/* GET /tor/keys/all */
	DIR_CONSENSUS,		/* GET the microdesc consensus */
	DIR_MICRODESCS,		/* GET /tor/micro/d/... */
};

struct dir_fetch {
	enum dir_request_kind kind;
	unsigned authority;
	time_t started;
	uint8_t *request;
	size_t request_len;
	uint8_t *response;	/* grows up to DIR_RESPONSE_MAX */
	size_t response_len, response_cap;
	bool done;
	/* DIR_MICRODESCS: the digests asked for (only these are kept) */
	uint8_t (*wanted)[MICRODESC_DIGEST_LEN];
	size_t n_wanted;
};

/* What answer_create negotiated for a circuit: ntor-v3 congestion
 * control (prop 324), needed by its streams' windows. */
struct cc_params_entry {
	uint32_t p_link;
	uint32_t p_circ_id;
	bool used;
	bool cc_enabled;
	uint8_t cc_sendme_inc;
	uint8_t kh[CIRCUIT_KH_LEN];	/* the MAC key of ESTABLISH_INTRO (intro_point.h) */
};

/* One BEGIN_DIR stream's HTTP request as it arrives. */
struct dir_stream {
	uint16_t id;
	bool used;
	uint8_t *request;	/* DIR_REQUEST_HEAD_MAX bytes, allocated on data;
				 * grown to head + Content-Length for a POST */
	size_t len, cap;
};

/* A circuit ending here that carries streams. */
struct stream_circuit {
	struct relay_control *control;
	unsigned worker;
	struct relay_circuit_ref ref;
	struct relay_stream_circuit *rs;
	struct dir_stream streams[RELAY_STREAM_MAX_STREAMS];
	time_t last_active;
	struct stream_circuit *next;
};

/* How many consensuses before the current one are kept to make diffs
 * from (8 hours of the live network; tor keeps 72 hours on disk). */
#define CONSENSUS_PAST_MAX 8

struct consensus_past {
	uint8_t *text;			/* NULL: slot unused */
	size_t len;
	uint8_t sha3_as_signed[KDF_SHA3_256_LEN];
	/* The diff to the current consensus per method (NULL until made). */
	uint8_t *diff[DIR_COMPRESS_METHODS];
	size_t diff_len[DIR_COMPRESS_METHODS];
	bool diff_failed;		/* consdiff_generate refused: not again */
};

struct relay_control {
	struct relay_control_config cfg;
	/* cfg.nickname and cfg.contact point here, so that a reload can
	 * change them (relay_control_reload). */
	char nickname[RELAY_CONTROL_NICKNAME_MAX + 1];
	char contact[RELAY_CONTROL_CONTACT_MAX + 1];
	char family[RELAY_FAMILY_MAX][RELAY_FAMILY_ITEM_MAX + 1];	/* cfg.family */
	/* The family line of the last descriptor built (build_family()). */
	char family_members[RELAY_FAMILY_MAX + 1][RELAY_FAMILY_MEMBER_MAX + 1];
	int n_family_members;
	bool descriptor_built;
	struct ed25519_keypair family_keys[RELAY_FAMILY_IDS_MAX];	/* cfg.family_keys */
	struct tls_link_credentials *tls_credentials;
	struct tls_handshake_context *tls_server;
	struct tls_handshake_context *tls_client;
	struct link_credentials *link_credentials;
	struct circuit_handshake_keys circuit_keys;
	struct control_link **slots[WORKER_MAX];
	struct control_link *connecting;	/* outbound, waiting for a link id */
	struct extend_request *extends;		/* sent CREATE2, waiting for CREATED2 */
	uint32_t next_request;
	time_t started;
	time_t next_upload;
	time_t next_certs;
	time_t next_consensus;
	unsigned next_authority;	/* round robin for fetches */
	struct authority_cert *certs[AUTHORITY_CERTS_MAX];
	size_t n_certs;
	struct consensus *consensus;
	time_t last_tls_rotation;
	time_t next_maintenance;
	struct relay_control_stats stats;
	/* Workers write their counters into pending[] (MSG_STATS); control
	 * copies them to reported[] on EV_STATS_DONE. */
	struct relay_worker_stats stats_pending[WORKER_MAX];
	struct relay_worker_stats stats_reported[WORKER_MAX];
	/* The observed bandwidth (bw_history.h) from the workers' TCP bytes,
	 * the value in the last descriptor built, and the checks. */
	struct bw_history bw;
	time_t bw_last_second, next_bw_check, last_bw_change;
	uint64_t observed_bw;
	/* The general overload signal (overload.h), and the workers'
	 * out-of-memory circuit kills counted into it so far. */
	struct overload overload;
	uint64_t overload_oom_seen;
	bool stats_outstanding[WORKER_MAX];
	/* Directory cache: the raw text of the kept consensus and of each
	 * kept authority certificate (certs[i]), served over BEGIN_DIR. */
	uint8_t *consensus_text;
	size_t consensus_len;
	/* The kept consensus compressed per method, made at the first
	 * request that wants it (NULL until then), freed with the text. */
	uint8_t *consensus_packed[DIR_COMPRESS_METHODS];
	size_t consensus_packed_len[DIR_COMPRESS_METHODS];
	uint8_t consensus_sha3_full[KDF_SHA3_256_LEN];	/* of the whole text */
	/* The consensuses kept before it, newest first, that clients may
	 * still hold: diffs from them to the current one are served. */
	struct consensus_past consensus_past[CONSENSUS_PAST_MAX];
	uint8_t consensus_sha3[KDF_SHA3_256_LEN];	/* as signed */
	struct microdesc_store *microdescs;
	unsigned microdesc_fetches;	/* in flight */
	time_t next_microdesc_fetch;	/* 0: nothing to do */
	uint8_t *cert_text[AUTHORITY_CERTS_MAX];
	size_t cert_len[AUTHORITY_CERTS_MAX];
	struct stream_circuit *stream_circuits;
	size_t n_stream_circuits;
	struct rendezvous_table *rendezvous;	/* cookies of waiting circuits */
	time_t next_rendezvous_expiry;
	struct cc_params_entry cc_params[WORKER_MAX][CC_PARAMS_REMEMBERED];
	unsigned cc_params_next[WORKER_MAX];
	struct intro_point *intro;
	struct hsdir_store *hsdir;	/* onion-service descriptors (HSDir) */
	uint8_t hsdir_ring_logged[3 * HS_INDEX_LEN + 1];	/* last logged, + flag */
	struct hsdir_ring_indexes hsdir_ring;	/* from the latest consensus */
	bool hsdir_ring_known;
	bool hsdir_listed;
	struct dos_guard *dos;		/* tor dos.c: per-address limits */
	/* AccountingMax (accounting.h), on when cfg.accounting_max > 0: the
	 * workers' TCP byte totals already counted, and the second of the
	 * last count. */
	struct accounting accounting;
	bool accounting_on;
	uint64_t accounting_read_seen, accounting_written_seen;
	time_t accounting_last;
	char state_file[PATH_MAX];	/* cfg.state_file; "" = not kept */
};

static void
relay_log(const char *level, const char *fmt, ...)
{
	struct timespec now;
	struct tm tm;
	char stamp[32] = "";
	va_list ap;

	/* tor's log prefix ("Dec 03 21:05:09.123 [notice]", local time), so
	 * that hsrelay's lines sort in with the tor logs of the same network. */
	clock_gettime(CLOCK_REALTIME, &now);
	if (localtime_r(&now.tv_sec, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld hsrelay [%s] ", stamp, now.tv_nsec / 1000000, level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *
ip_string(uint32_t ip, char *buf)
{
	struct in_addr a = { .s_addr = htonl(ip) };

	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
	return buf;
}

/* AccountingMax's hibernation, soft or hard (tor we_are_hibernating()). */
static bool
hibernating(const struct relay_control *c)
{
	return c->accounting_on && c->accounting.state != HIBERNATE_AWAKE;
}

/* ------------------------------------------------------------------ */
/* Messages to workers                                                 */

static struct rte_mbuf *
mbuf_from(struct relay_control *c, const void *data, size_t len)
{
	return relay_msg_mbuf_from(c->cfg.pool, data, len);
}

/* Sends a message to a worker; the control thread waits for room rather
 * than lose it (a worker drains its ring every iteration). */
static void
send_msg(struct relay_control *c, unsigned worker, uint16_t type, uint32_t u32, uint64_t u64,
		struct rte_mbuf *m)
{
	struct ring_msg msg = { .type = type, .worker = (uint16_t)worker, .u32 = u32, .u64 = u64,
			.ptr = m };

	for (unsigned tries = 0; ring_msg_send(c->cfg.worker_rings[worker], &msg) < 0; tries++) {
		if (tries == 10000000) {
			c->stats.messages_dropped++;
			rte_pktmbuf_free(m);
			return;
		}
		rte_pause();
	}
}

static void
send_bytes(struct relay_control *c, struct control_link *cl, uint16_t type, const void *data,
		size_t len)
{
	struct rte_mbuf *m;

	if (len == 0)
		return;
	m = mbuf_from(c, data, len);
	if (m == NULL) {
		c->stats.messages_dropped++;
		return;
	}
	send_msg(c, cl->worker, type, cl->id, 0, m);
}

static void
send_struct(struct relay_control *c, unsigned worker, uint16_t type, uint64_t u64,
		const void *s, size_t len)
{
	struct rte_mbuf *m = mbuf_from(c, s, len);

	if (m == NULL) {
		c->stats.messages_dropped++;
		return;
	}
	send_msg(c, worker, type, 0, u64, m);
}

static void
destroy_circuit(struct relay_control *c, unsigned worker, const struct relay_circuit_ref *ref,
		uint8_t reason)
{
	send_struct(c, worker, RELAY_MSG_CIRCUIT_DESTROY, reason, ref, sizeof(*ref));
}

/* ------------------------------------------------------------------ */
/* Streams on circuits that end here: the directory cache (BEGIN_DIR)  */

static uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
consensus_past_diffs_free(struct consensus_past *p)
{
	for (unsigned m = 0; m < DIR_COMPRESS_METHODS; m++) {
		free(p->diff[m]);
		p->diff[m] = NULL;
	}
	p->diff_failed = false;
}

/* The consensus being replaced becomes the newest base for diffs; the
 * oldest base beyond CONSENSUS_PAST_MAX goes, and every diff (made to the
 * consensus being replaced) with it. Takes the text. */
static void
consensus_past_push(struct relay_control *c, uint8_t *text, size_t len,
		const uint8_t *sha3_as_signed)
{
	struct consensus_past *last = &c->consensus_past[CONSENSUS_PAST_MAX - 1];

	consensus_past_diffs_free(last);
	free(last->text);
	memmove(&c->consensus_past[1], &c->consensus_past[0],
			(CONSENSUS_PAST_MAX - 1) * sizeof(c->consensus_past[0]));
	for (unsigned i = 1; i < CONSENSUS_PAST_MAX; i++)
		consensus_past_diffs_free(&c->consensus_past[i]);
	memset(&c->consensus_past[0], 0, sizeof(c->consensus_past[0]));
	c->consensus_past[0].text = text;
	c->consensus_past[0].len = len;
	memcpy(c->consensus_past[0].sha3_as_signed, sha3_as_signed, KDF_SHA3_256_LEN);
	c->stats.consensus_diff_bases = 0;
	for (unsigned i = 0; i < CONSENSUS_PAST_MAX; i++)
		c->stats.consensus_diff_bases += c->consensus_past[i].text != NULL;
}

/* dir_server's consensus_diff: from a kept consensus to the current one,
 * made (consdiff_generate) and compressed once each, at the first request
 * that wants it. */
static int
store_consensus_diff(void *ctx, enum dir_consensus_flavor flavor, const uint8_t *from_sha3,
		enum dir_compress_method method, const uint8_t **text, size_t *len)
{
	struct relay_control *c = ctx;
	struct consensus_past *p = NULL;
	int rc;

	if (flavor != DIR_CONSENSUS_MICRODESC || c->consensus_text == NULL ||
			(unsigned)method >= DIR_COMPRESS_METHODS)
		return -ENOENT;
	for (unsigned i = 0; i < CONSENSUS_PAST_MAX && p == NULL; i++)
		if (c->consensus_past[i].text != NULL &&
				memcmp(c->consensus_past[i].sha3_as_signed, from_sha3,
						KDF_SHA3_256_LEN) == 0)
			p = &c->consensus_past[i];
	if (p == NULL || p->diff_failed)
		return -ENOENT;
	if (p->diff[DIR_COMPRESS_IDENTITY] == NULL) {
		uint64_t start = monotonic_usec();

		rc = consdiff_generate(p->text, p->len, c->consensus_text, c->consensus_len,
				p->sha3_as_signed, c->consensus_sha3_full,
				&p->diff[DIR_COMPRESS_IDENTITY], &p->diff_len[DIR_COMPRESS_IDENTITY]);
		if (rc < 0) {
			p->diff_failed = true;
			c->stats.consensus_diffs_failed++;
			relay_log("warn", "consensus diff not made (error %d): serving the full "
					"consensus to clients that hold that one", rc);
			return -ENOENT;
		}
		c->stats.consensus_diffs_made++;
		relay_log("info", "consensus diff made: %zu -> %zu bytes, diff %zu bytes in %.1f ms",
				p->len, c->consensus_len, p->diff_len[DIR_COMPRESS_IDENTITY],
				(double)(monotonic_usec() - start) / 1000.0);
	}
	if (p->diff[method] == NULL &&
			dir_compress(method, DIR_COMPRESS_HIGH, p->diff[DIR_COMPRESS_IDENTITY],
					p->diff_len[DIR_COMPRESS_IDENTITY], &p->diff[method],
					&p->diff_len[method]) < 0)
		return -ENOENT;
	*text = p->diff[method];
	*len = p->diff_len[method];
	return 0;
}

static void
consensus_packed_free(struct relay_control *c)
{
	for (unsigned m = 0; m < DIR_COMPRESS_METHODS; m++) {
		free(c->consensus_packed[m]);
		c->consensus_packed[m] = NULL;
	}
}

/* dir_server store callbacks: what this relay holds, all verified. */
static int
store_consensus_compressed(void *ctx, enum dir_consensus_flavor flavor,
		enum dir_compress_method method, const uint8_t **text, size_t *len)
{
	struct relay_control *c = ctx;
	int rc;

	if (flavor != DIR_CONSENSUS_MICRODESC || c->consensus_text == NULL ||
			(unsigned)method >= DIR_COMPRESS_METHODS)
		return -ENOENT;
	/* Compressed once per consensus and method, at tor's level for
	 * documents it keeps compressed (consdiffmgr: HIGH_COMPRESSION). A
	 * failure leaves it to the responder, per request. */
	if (c->consensus_packed[method] == NULL) {
		uint64_t start = monotonic_usec();

		rc = dir_compress(method, DIR_COMPRESS_HIGH, c->consensus_text, c->consensus_len,
				&c->consensus_packed[method], &c->consensus_packed_len[method]);
		if (rc < 0)
			return rc;
		relay_log("info", "consensus compressed with %s: %zu -> %zu bytes in %.1f ms",
				dir_compress_name(method), c->consensus_len,
				c->consensus_packed_len[method],
				(double)(monotonic_usec() - start) / 1000.0);
	}
	*text = c->consensus_packed[method];
	*len = c->consensus_packed_len[method];
	return 0;
}

static int
store_consensus(void *ctx, enum dir_consensus_flavor flavor, struct dir_consensus_doc *doc)
{
	const struct relay_control *c = ctx;

	if (flavor != DIR_CONSENSUS_MICRODESC || c->consensus == NULL || c->consensus_text == NULL)
		return -ENOENT;
	memset(doc, 0, sizeof(*doc));
	doc->text = c->consensus_text;
	doc->len = c->consensus_len;
	doc->valid_after = consensus_valid_after(c->consensus);
	doc->fresh_until = consensus_fresh_until(c->consensus);
	doc->valid_until = consensus_valid_until(c->consensus);
	memcpy(doc->sha3_as_signed, c->consensus_sha3, sizeof(doc->sha3_as_signed));
	for (size_t i = 0; i < consensus_n_signatures(c->consensus) &&
			doc->n_signers < DIR_SERVER_SIGNERS_MAX; i++)
		memcpy(doc->signers[doc->n_signers++],
				consensus_signature_at(c->consensus, i)->identity,
				DIR_SERVER_DIGEST_LEN);
	return 0;
}

static int
store_microdesc(void *ctx, const uint8_t *digest, const uint8_t **text, size_t *len)
{
	const struct relay_control *c = ctx;

	return c->microdescs != NULL ? microdesc_store_get(c->microdescs, digest, text, len)
				     : -ENOENT;
}

/* Certificates in the order fetched; for each identity the newest
 * (latest dir-key-published) comes first, as /tor/keys/fp/ wants. */
static int
store_authority_cert(void *ctx, size_t index, struct dir_cert_doc *doc)
{
	const struct relay_control *c = ctx;
	size_t seen = 0;

	for (size_t i = 0; i < c->n_certs; i++) {
		if (c->cert_text[i] == NULL)
			continue;
		if (seen++ == index) {
			doc->text = c->cert_text[i];
			doc->len = c->cert_len[i];
			memcpy(doc->identity_digest, authority_cert_identity_digest(c->certs[i]),
					DIR_SERVER_DIGEST_LEN);
			memcpy(doc->signing_key_digest,
					authority_cert_signing_key_digest(c->certs[i]),
					DIR_SERVER_DIGEST_LEN);
			doc->published = authority_cert_published(c->certs[i]);
			return 0;
		}
	}
	return -ENOENT;
}

static struct dir_stream *
dir_stream_find(struct stream_circuit *sc, uint16_t id)
{
	for (size_t i = 0; i < RELAY_STREAM_MAX_STREAMS; i++) {
		if (sc->streams[i].used && sc->streams[i].id == id)
			return &sc->streams[i];
	}
	return NULL;
}

static void
dir_stream_release(struct dir_stream *ds)
{
	free(ds->request);
	memset(ds, 0, sizeof(*ds));
}

static bool
stream_open(void *ctx, uint16_t id)
{
	struct stream_circuit *sc = ctx;

	for (size_t i = 0; i < RELAY_STREAM_MAX_STREAMS; i++) {
		if (!sc->streams[i].used) {
			sc->streams[i].used = true;
			sc->streams[i].id = id;
			sc->streams[i].len = 0;
			sc->streams[i].cap = 0;
			return true;
		}
	}
	return false;
}

static void
stream_end(void *ctx, uint16_t id, uint8_t reason)
{
	struct dir_stream *ds = dir_stream_find(ctx, id);

	(void)reason;
	if (ds != NULL)
		dir_stream_release(ds);
}

/* Per-resource counters of answered requests (relay_control_stats). */
static void
dir_count(struct relay_control *c, const struct dir_response_info *info)
{
	struct relay_control_dir_counts *k;

	switch (info->resource) {
	case DIR_RESOURCE_CONSENSUS:
		k = &c->stats.dir_consensus;
		break;
	case DIR_RESOURCE_MICRODESC:
		k = &c->stats.dir_microdesc;
		break;
	case DIR_RESOURCE_KEYS:
		k = &c->stats.dir_keys;
		break;
	default:
		k = &c->stats.dir_other;
		break;
	}
	if (info->status == 200) {
		k->ok++;
		k->items += info->items;
		if ((unsigned)info->encoding < DIR_COMPRESS_METHODS)
			c->stats.dir_encoded[info->encoding]++;
		c->stats.consensus_diffs_served += info->consensus_diff;
	} else if (info->status == 304) {
		k->not_modified++;
	} else if (info->status == 404) {
		k->not_found++;
	} else {
		k->other++;
	}
}

static struct control_link *link_find(struct relay_control *c, uint32_t id);

/* HSDir (hsdir_store.h): the largest descriptor tor accepts
 * (HSV3MaxDescriptorSize, hs_cache_get_max_descriptor_size). */
static size_t
hs_max_descriptor_size(const struct relay_control *c)
{
	return c->consensus != NULL ? (size_t)consensus_param(c->consensus,
			"HSV3MaxDescriptorSize", HS_DESC_MAX_SIZE_DEFAULT, 1, INT32_MAX)
				    : HS_DESC_MAX_SIZE_DEFAULT;
}

static void
hs_key_base64(const uint8_t key[HS_BLINDED_KEY_LEN], char out[48])
{
	EVP_EncodeBlock((unsigned char *)out, key, HS_BLINDED_KEY_LEN);
	out[43] = '\0';	/* tor logs it without '=' */
}

static int
store_hs_publish(void *ctx, const uint8_t *body, size_t len)
{
	struct relay_control *c = ctx;
	struct hsdir_store_result r;
	char key[48];
	int rc = hsdir_store_publish(c->hsdir, body, len, hs_max_descriptor_size(c), time(NULL),
			&r);

	if (r.outcome == HSDIR_STORE_INVALID || r.outcome == HSDIR_STORE_TOO_BIG) {
		relay_log("info", "hsdir: descriptor refused (%s): %s",
				hsdir_store_outcome_name(r.outcome), hs_desc_check_name(r.check));
		return rc;
	}
	hs_key_base64(r.blinded_key, key);
	if (rc == 0)
		relay_log("notice", "hsdir: stored descriptor for blinded key %s revision %" PRIu64
				" (%zu bytes, expires in %lld s)%s", key, r.revision_counter, len,
				(long long)(r.expires - time(NULL)), r.replaced ? ", replaced" : "");
	else
		relay_log("info", "hsdir: descriptor for %s refused (%s): revision %" PRIu64
				", held %" PRIu64, key, hsdir_store_outcome_name(r.outcome),
				r.revision_counter, r.stored_revision_counter);
	if (r.pruned_bytes > 0)
		relay_log("notice", "hsdir: cache over MaxHSDirCacheBytes, pruned %zu bytes",
				r.pruned_bytes);
	return rc;
}

static int
store_hs_descriptor(void *ctx, const uint8_t *blinded_key, const uint8_t **text, size_t *len)
{
	struct relay_control *c = ctx;
	char key[48];
	int rc = hsdir_store_fetch(c->hsdir, blinded_key, text, len);

	hs_key_base64(blinded_key, key);
	relay_log("notice", "hsdir: fetch for blinded key %s: %s", key,
			rc == 0 ? "served" : "not found");
	return rc;
}

/* Request bytes on a BEGIN_DIR stream: once the head is complete, the
 * whole response is queued and the stream ends with DONE when it is sent
 * (tor's dircache answers one request per tunnelled connection). A head
 * that does not parse ends the stream (tor closes the connection). */
static void
stream_data(void *ctx, uint16_t id, const uint8_t *data, size_t len)
{
	struct stream_circuit *sc = ctx;
	struct relay_control *c = sc->control;
	struct dir_stream *ds = dir_stream_find(sc, id);
	struct dir_store store = {
		.ctx = c, .consensus = store_consensus, .microdesc = store_microdesc,
		.consensus_compressed = store_consensus_compressed,
		.consensus_diff = store_consensus_diff,
		.authority_cert = store_authority_cert,
		.hs_publish = c->hsdir != NULL ? store_hs_publish : NULL,
		.hs_descriptor = c->hsdir != NULL ? store_hs_descriptor : NULL,
		/* tor routermode.c public_server_mode(): ORPort set and not a
		 * bridge, whatever PublishServerDescriptor says; hsrelay is
		 * never a bridge. */
		.not_public_relay = false,
	};
	struct dir_response_info info = { 0 };
	struct dir_request req;
	const uint8_t *p;
	uint8_t *response = NULL;
	size_t response_len = 0, take;
	/* A POST body may be as long as the largest descriptor tor accepts. */
	size_t body_max = RTE_MAX(hs_max_descriptor_size(c), (size_t)HS_DESC_MAX_SIZE_DEFAULT);
	int rc;

	if (ds == NULL)
		return;
	if (ds->request == NULL) {
		ds->request = malloc(DIR_REQUEST_HEAD_MAX);
		if (ds->request == NULL) {
			relay_stream_finish(sc->rs, id, RELAY_END_REASON_RESOURCELIMIT);
			dir_stream_release(ds);
			return;
		}
		ds->cap = DIR_REQUEST_HEAD_MAX;
	}
	if (body_max > DIR_REQUEST_BODY_MAX)
		body_max = DIR_REQUEST_BODY_MAX;
	for (;;) {
		take = RTE_MIN(len, ds->cap - ds->len);
		memcpy(ds->request + ds->len, data, take);
		ds->len += take;
		data += take;
		len -= take;
		p = ds->request;
		rc = dir_request_parse(&p, ds->request + ds->len, &req);
		if (rc == -EAGAIN && len == 0)
			return;
		if (rc == 0)
			rc = dir_request_body(&p, ds->request + ds->len, body_max, &req);
		if (rc != -EAGAIN)
			break;
		/* The head is complete, the body is not: room for all of it
		 * (dir_request_body bounded it by body_max). */
		if (ds->cap < (size_t)(p - ds->request) + req.content_length) {
			size_t need = (size_t)(p - ds->request) + req.content_length;
			uint8_t *grown = realloc(ds->request, need);

			if (grown == NULL) {
				rc = -ENOMEM;
				break;
			}
			ds->request = grown;
			ds->cap = need;
			continue;
		}
		if (len == 0)
			return;
	}
	if (rc == 0) {
		struct control_link *prev = link_find(c, sc->ref.p_link);

		/* directory.c connection_dir_is_anonymous: the circuit's
		 * previous hop is not a client channel (it authenticated as a
		 * relay, or we opened the link to it). */
		req.anonymous = prev != NULL && prev->peer_rsa_known;
		rc = dir_server_respond(&req, &store, time(NULL), NULL, false, &info, &response,
				&response_len);
		if (rc == 0 && info.single_hop && c->hsdir != NULL)
			hsdir_store_note_single_hop(c->hsdir,
					info.resource == DIR_RESOURCE_HS_FETCH);
	}
	if (rc == 0 && relay_stream_write(sc->rs, id, response, response_len) == 0) {
		relay_stream_finish(sc->rs, id, RELAY_END_REASON_DONE);
		c->stats.dir_requests_served++;
		dir_count(c, &info);
	} else {
		relay_stream_finish(sc->rs, id, rc == -ENOMEM ? RELAY_END_REASON_RESOURCELIMIT
							      : RELAY_END_REASON_MISC);
		c->stats.dir_requests_failed++;
	}
	free(response);
	dir_stream_release(ds);
}

static const struct relay_stream_callbacks stream_callbacks = {
	.open = stream_open, .data = stream_data, .end = stream_end,
};

static void
stream_circuit_free(struct relay_control *c, struct stream_circuit *sc)
{
	for (struct stream_circuit **pp = &c->stream_circuits; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sc) {
			*pp = sc->next;
			break;
		}
	}
	for (size_t i = 0; i < RELAY_STREAM_MAX_STREAMS; i++)
		dir_stream_release(&sc->streams[i]);
	relay_stream_circuit_free(sc->rs);
	free(sc);
	c->n_stream_circuits--;
}

/* Frees the stream state of circuits whose p side is (p_link, p_circ_id),
 * or every circuit on p_link when all_circuits. */
static void
stream_circuits_gone(struct relay_control *c, uint32_t p_link, uint32_t p_circ_id,
		bool all_circuits)
{
	for (struct stream_circuit *sc = c->stream_circuits, *next; sc != NULL; sc = next) {
		next = sc->next;
		if (sc->ref.p_link == p_link && (all_circuits || sc->ref.p_circ_id == p_circ_id))
			stream_circuit_free(c, sc);
	}
}

static struct stream_circuit *
stream_circuit_find(struct relay_control *c, unsigned worker, const struct relay_circuit_ref *ref)
{
	for (struct stream_circuit *sc = c->stream_circuits, *next; sc != NULL; sc = next) {
		next = sc->next;
		if (sc->worker != worker || sc->ref.handle != ref->handle)
			continue;
		if (sc->ref.p_link == ref->p_link && sc->ref.p_circ_id == ref->p_circ_id)
			return sc;
		/* The handle was reused: the old circuit is gone. */
		stream_circuit_free(c, sc);
	}
	return NULL;
}

static struct stream_circuit *
stream_circuit_new(struct relay_control *c, unsigned worker, const struct relay_circuit_ref *ref,
		time_t now)
{
	struct relay_stream_params params = { .cc_enabled = false };
	struct stream_circuit *sc;

	for (unsigned i = 1; i <= CC_PARAMS_REMEMBERED; i++) {
		const struct cc_params_entry *e = &c->cc_params[worker][(c->cc_params_next[worker] - i) %
				CC_PARAMS_REMEMBERED];

		if (e->used && e->p_link == ref->p_link && e->p_circ_id == ref->p_circ_id) {
			params.cc_enabled = e->cc_enabled;
			params.cc_sendme_inc = e->cc_sendme_inc;
			break;
		}
	}
	if (c->consensus != NULL)
		params.sendme_accept_min_version = (uint8_t)consensus_param(c->consensus,
				"sendme_accept_min_version", 0, 0, 255);
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return NULL;
	sc->rs = relay_stream_circuit_new(&params, &stream_callbacks, sc);
	if (sc->rs == NULL) {
		free(sc);
		return NULL;
	}
	sc->control = c;
	sc->worker = worker;
	sc->ref = *ref;
	sc->last_active = now;
	sc->next = c->stream_circuits;
	c->stream_circuits = sc;
	c->n_stream_circuits++;
	return sc;
}

static void
stream_circuit_fail(struct relay_control *c, struct stream_circuit *sc, int rc)
{
	/* relay_stream.h: -EPROTO is tor's TORPROTOCOL, -ENOBUFS a queue we
	 * failed to drain. */
	destroy_circuit(c, sc->worker, &sc->ref,
			rc == -EPROTO ? DESTROY_REASON_PROTOCOL : DESTROY_REASON_RESOURCELIMIT);
	c->stats.stream_circuits_failed++;
	stream_circuit_free(c, sc);
}

/* Originates what the circuit may send now (MSG_CIRCUIT_ORIGINATE, in
 * order; the worker reports the digest of cells that need it). Returns
 * false when the circuit failed and was freed. */
static bool
stream_circuit_flush(struct relay_control *c, struct stream_circuit *sc, uint64_t now_usec)
{
	struct relay_stream_cell cell;
	struct relay_circuit_relay r;
	int rc = 0;

	for (unsigned n = 0; n < STREAM_CELLS_PER_FLUSH; n++) {
		rc = relay_stream_next_cell(sc->rs, now_usec, &cell);
		if (rc <= 0)
			break;
		memset(&r, 0, sizeof(r));
		r.circuit = sc->ref;
		r.relay_command = cell.command;
		r.stream_id = cell.stream_id;
		r.length = cell.length;
		memcpy(r.data, cell.data, cell.length);
		r.report_digest = cell.report_digest;
		send_struct(c, sc->worker, RELAY_MSG_CIRCUIT_ORIGINATE, 0, &r, sizeof(r));
		c->stats.stream_cells_sent++;
	}
	if (rc < 0) {
		stream_circuit_fail(c, sc, rc);
		return false;
	}
	return true;
}

static bool
is_stream_command(uint8_t command)
{
	switch (command) {
	case RELAY_COMMAND_BEGIN:
	case RELAY_COMMAND_DATA:
	case RELAY_COMMAND_END:
	case RELAY_COMMAND_CONNECTED:
	case RELAY_COMMAND_SENDME:
	case RELAY_COMMAND_RESOLVE:
	case RELAY_COMMAND_RESOLVED:
	case RELAY_COMMAND_BEGIN_DIR:
	case RELAY_COMMAND_XOFF:
	case RELAY_COMMAND_XON:
		return true;
	default:
		return false;
	}
}

/* A stream-type relay cell recognized at this hop (EV_CIRCUIT_RELAY). */
static void
stream_cell(struct relay_control *c, unsigned worker, const struct relay_circuit_local *local,
		time_t now)
{
	struct stream_circuit *sc = stream_circuit_find(c, worker, &local->circuit);
	uint64_t now_usec = monotonic_usec();
	int rc;

	if (sc == NULL) {
		if (c->n_stream_circuits >= STREAM_CIRCUITS_MAX) {
			destroy_circuit(c, worker, &local->circuit, DESTROY_REASON_RESOURCELIMIT);
			c->stats.stream_circuits_failed++;
			return;
		}
		sc = stream_circuit_new(c, worker, &local->circuit, now);
		if (sc == NULL) {
			destroy_circuit(c, worker, &local->circuit, DESTROY_REASON_RESOURCELIMIT);
			c->stats.stream_circuits_failed++;
			return;
		}
	}
	sc->last_active = now;
	c->stats.stream_cells_received++;
	rc = relay_stream_receive(sc->rs, local->payload, local->digest, now_usec);
	if (rc < 0) {
		stream_circuit_fail(c, sc, rc);
		return;
	}
	stream_circuit_flush(c, sc, now_usec);
}

/* EV_CIRCUIT_SENT_DIGEST: prop 289, the digest a later circuit SENDME from
 * the client must carry. */
static void
stream_sent_digest(struct relay_control *c, unsigned worker,
		const struct relay_circuit_sent_digest *sent)
{
	struct stream_circuit *sc = stream_circuit_find(c, worker, &sent->circuit);

	if (sc != NULL && relay_stream_note_sent_digest(sc->rs, sent->digest) < 0)
		stream_circuit_fail(c, sc, -ENOBUFS);
}

/* Every poll: output that waited for the per-flush limit, and idle
 * circuits' state freed (STREAM_IDLE_TIMEOUT). */
static void
stream_circuits_poll(struct relay_control *c, time_t now)
{
	uint64_t now_usec = monotonic_usec();

	for (struct stream_circuit *sc = c->stream_circuits, *next; sc != NULL; sc = next) {
		next = sc->next;
		if (!stream_circuit_flush(c, sc, now_usec))
			continue;
		if (now - sc->last_active < STREAM_IDLE_TIMEOUT)
			continue;
		if (relay_stream_count(sc->rs) > 0)
			destroy_circuit(c, sc->worker, &sc->ref, DESTROY_REASON_FINISHED);
		stream_circuit_free(c, sc);
	}
}

/* ------------------------------------------------------------------ */
/* Links                                                               */

/* The link named by id, on whichever worker owns it (relay_msg.h). */
static struct control_link *
link_find(struct relay_control *c, uint32_t id)
{
	unsigned worker = relay_link_worker(id);
	struct control_link *cl;

	if (worker >= c->cfg.n_workers)
		return NULL;
	cl = c->slots[worker][id & (LINK_SLOTS - 1)];
	return cl != NULL && cl->id == id ? cl : NULL;
}

static void
link_forget(struct relay_control *c, struct control_link *cl)
{
	if (cl->id != 0 && c->slots[cl->worker][cl->id & (LINK_SLOTS - 1)] == cl)
		c->slots[cl->worker][cl->id & (LINK_SLOTS - 1)] = NULL;
	tls_session_free(cl->tls);
	link_handshake_free(cl->hs);
	if (cl->dir != NULL) {
		if (cl->dir->kind == DIR_MICRODESCS && c->microdesc_fetches > 0)
			c->microdesc_fetches--;
		free(cl->dir->wanted);
		free(cl->dir->request);
		free(cl->dir->response);
		free(cl->dir);
	}
	free(cl);
}

static void
link_fail_waiting(struct relay_control *c, struct control_link *cl)
{
	if (cl->nb_waiting > 0) {
		char ip[INET_ADDRSTRLEN];

		relay_log("info", "link to %s:%u failed: %u circuits waiting to extend there closed",
				ip_string(cl->peer_ip, ip), cl->peer_port, cl->nb_waiting);
	}
	for (unsigned i = 0; i < cl->nb_waiting; i++) {
		/* tor circuitbuild.c circuit_n_chan_done: "Channel failed;
		 * closing circ" with reason CHANNEL_CLOSED. */
		destroy_circuit(c, cl->waiting_req[i]->worker, &cl->waiting[i],
				DESTROY_REASON_CHANNEL_CLOSED);
		free(cl->waiting_req[i]);
		c->stats.extend_failures++;
	}
	cl->nb_waiting = 0;
}

static void
link_close(struct relay_control *c, struct control_link *cl, const char *why)
{
	char ip[INET_ADDRSTRLEN];

	relay_log("info", "link %u/%08x to %s:%u closing: %s", cl->worker, cl->id,
			ip_string(cl->peer_ip, ip), cl->peer_port, why);
	send_msg(c, cl->worker, RELAY_MSG_LINK_CLOSE, cl->id, 0, NULL);
	/* The worker answers EV_LINK_CLOSED; the state goes then. */
}

/* Sends whatever the TLS session has for the peer. */
static void
tls_flush(struct relay_control *c, struct control_link *cl)
{
	uint8_t buf[16384];
	size_t n;

	while ((n = tls_session_drain_output(cl->tls, buf, sizeof(buf))) > 0)
		send_bytes(c, cl, RELAY_MSG_LINK_SEND, buf, n);
}

static void
handshake_flush(struct relay_control *c, struct control_link *cl)
{
	const uint8_t *data;
	size_t n = link_handshake_output(cl->hs, &data);

	if (n > 0) {
		send_bytes(c, cl, RELAY_MSG_LINK_CELLS, data, n);
		link_handshake_output_consumed(cl->hs, n);
	}
}

static int
export_auth(void *arg, const uint8_t cid[LINK_SHA256_LEN], uint8_t out[LINK_SHA256_LEN])
{
	struct control_link *cl = arg;

	return tls_session_export_auth0003(cl->tls, cid, out);
}

static void extend_link_open(struct relay_control *c, struct control_link *cl);

/* TLS done: keys to the worker, link handshake started. */
static void
tls_done(struct relay_control *c, struct control_link *cl, time_t now)
{
	struct tls_handover h;
	struct relay_tls_ready ready;
	struct link_handshake_params p;
	struct rte_mbuf *m;
	const uint8_t *peer_cert_der, *peer_digest = NULL;
	size_t peer_cert_len;
	int rc;

	rc = tls_session_handover(cl->tls, &h);
	if (rc < 0) {
		c->stats.tls_failures++;
		link_close(c, cl, "TLS handover failed");
		return;
	}
	memset(&ready, 0, sizeof(ready));
	ready.version = h.version;
	ready.key_len = h.key_len;
	ready.iv_len = h.read.iv_len;
	ready.initiator = cl->initiator;
	memcpy(ready.read_key, h.read.key, sizeof(ready.read_key));
	memcpy(ready.read_iv, h.read.iv, sizeof(ready.read_iv));
	memcpy(ready.write_key, h.write.key, sizeof(ready.write_key));
	memcpy(ready.write_iv, h.write.iv, sizeof(ready.write_iv));
	ready.read_seq = h.read.seq;
	ready.write_seq = h.write.seq;
	ready.secret_len = h.read.secret_len;
	memcpy(ready.read_secret, h.read.secret, sizeof(ready.read_secret));
	memcpy(ready.write_secret, h.write.secret, sizeof(ready.write_secret));
	m = mbuf_from(c, &ready, sizeof(ready));
	OPENSSL_cleanse(&ready, sizeof(ready));
	if (m != NULL && h.leftover_len > 0) {
		struct rte_mbuf *rest = mbuf_from(c, h.leftover, h.leftover_len);

		if (rest == NULL) {
			rte_pktmbuf_free(m);
			m = NULL;
		} else {
			m->next = rest;
			m->nb_segs = (uint16_t)(1 + rest->nb_segs);
			m->pkt_len += rest->pkt_len;
		}
	}
	tls_handover_wipe(&h);
	if (m == NULL) {
		c->stats.messages_dropped++;
		link_close(c, cl, "no mbufs for the TLS keys");
		return;
	}
	send_msg(c, cl->worker, RELAY_MSG_LINK_TLS_READY, cl->id, 0, m);
	c->stats.tls_handshakes++;

	memset(&p, 0, sizeof(p));
	p.role = cl->initiator ? LINK_ROLE_INITIATOR : LINK_ROLE_RESPONDER;
	p.credentials = c->link_credentials;
	p.export_keying_material = export_auth;
	p.export_arg = cl;
	p.peer_address.type = NETINFO_ADDRESS_IPV4;
	wire_write_u32(p.peer_address.bytes, cl->peer_ip);
	p.my_addresses[0].type = NETINFO_ADDRESS_IPV4;
	wire_write_u32(p.my_addresses[0].bytes, c->cfg.address);
	p.n_my_addresses = 1;
	if (cl->initiator) {
		if (tls_session_peer_cert(cl->tls, &peer_cert_der, &peer_cert_len, &peer_digest) < 0) {
			link_close(c, cl, "the peer sent no TLS certificate");
			return;
		}
		p.peer_tls_cert_digest = peer_digest;
		p.expected_rsa_fingerprint = cl->peer_rsa_known ? cl->peer_rsa : NULL;
		p.authenticate = true;
	}
	rc = link_handshake_new(&p, now, &cl->hs);
	if (rc < 0) {
		c->stats.link_failures++;
		link_close(c, cl, "link handshake set-up failed");
		return;
	}
	cl->state = CONTROL_LINK_HANDSHAKE;
	handshake_flush(c, cl);
}

static void
tls_input(struct relay_control *c, struct control_link *cl, struct rte_mbuf *m, time_t now)
{
	int rc = 0;

	for (struct rte_mbuf *s = m; s != NULL && rc == 0; s = s->next)
		rc = tls_session_feed(cl->tls, rte_pktmbuf_mtod(s, uint8_t *), s->data_len);
	rte_pktmbuf_free(m);
	if (rc == 0)
		rc = tls_session_step(cl->tls);
	tls_flush(c, cl);
	if (rc < 0) {
		c->stats.tls_failures++;
		relay_log("info", "TLS handshake with link %08x failed: %s", cl->id,
				tls_session_error(cl->tls));
		link_close(c, cl, "TLS handshake failed");
		return;
	}
	if (rc == TLS_SESSION_DONE)
		tls_done(c, cl, now);
	else
		send_msg(c, cl->worker, RELAY_MSG_LINK_CONTINUE, cl->id, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* Circuits                                                            */

static void
answer_create(struct relay_control *c, struct control_link *cl, const uint8_t *cell,
		time_t now)
{
	struct relay_circuit_create create;
	struct circuit_handshake_result result;
	int rc;

	memset(&create, 0, sizeof(create));
	memset(&result, 0, sizeof(result));
	create.p_link = cl->id;
	create.p_circ_id = cell_wire_circ_id(cell);
	/* tor command.c: every CREATE from a client link is counted first;
	 * a marked address gets DESTROY(RESOURCELIMIT) (docs/dos.md). */
	bool dos_refused = dos_guard_circuit_create(c->dos, cl->peer_ip, !cl->peer_rsa_known,
			now);

	/* tor command_process_create_cell(): a hibernating relay answers
	 * every CREATE with DESTROY(HIBERNATING), after the DoS count and
	 * before its verdict (which dos_guard has counted already). */
	if (hibernating(c)) {
		rc = -EAGAIN;
		result.destroy_reason = DESTROY_REASON_HIBERNATING;
		c->stats.creates_hibernating++;
	} else if (dos_refused) {
		rc = -EBUSY;
		result.destroy_reason = DESTROY_REASON_RESOURCELIMIT;
	/* tor-spec 5.1.1 (tor command.c): the link's initiator sets the high
	 * bit of the circuit ids it creates; a CREATE with the other kind of
	 * id is refused with DESTROY(PROTOCOL). */
	} else if (((create.p_circ_id & 0x80000000u) != 0) == cl->initiator) {
		rc = -EPROTO;
		result.destroy_reason = DESTROY_REASON_PROTOCOL;
	} else {
		rc = circuit_handshake_server(&c->circuit_keys, cell, &create.keys, create.reply,
				&result);
	}
	if (rc < 0) {
		/* tor command.c: a CREATE2 we cannot answer is refused with a
		 * DESTROY; the worker installs nothing for it. DoS refusals
		 * are counted by dos_guard, not as failed handshakes. */
		if (rc != -EBUSY && rc != -EAGAIN)
			c->stats.create_failures++;
		memset(create.reply, 0, CELL_LEN);
		cell_wire_set_circ_id(create.reply, create.p_circ_id);
		create.reply[CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
		cell_wire_payload(create.reply)[0] = result.destroy_reason;
	} else {
		struct cc_params_entry *e =
				&c->cc_params[cl->worker][c->cc_params_next[cl->worker]++ %
						CC_PARAMS_REMEMBERED];

		e->p_link = create.p_link;
		e->p_circ_id = create.p_circ_id;
		e->used = true;
		e->cc_enabled = result.cc_enabled;
		e->cc_sendme_inc = result.cc_sendme_inc;
		memcpy(e->kh, result.kh, sizeof(e->kh));
		c->stats.creates++;
		if (result.cell_command == CELL_COMMAND_CREATE_FAST)
			c->stats.onionskins[1]++;
		else if (result.handshake_type == HANDSHAKE_TYPE_NTOR)
			c->stats.onionskins[2]++;
		else
			c->stats.onionskins[3]++;
	}
	send_struct(c, cl->worker, RELAY_MSG_CIRCUIT_CREATE, 0, &create, sizeof(create));
	OPENSSL_cleanse(&create, sizeof(create));
	OPENSSL_cleanse(&result, sizeof(result));
}

/* A link we opened to the relay with RSA identity rsa, on any worker:
 * tor keeps one channel per relay pair, and a circuit of one worker
 * extends over another worker's link through the cross rings. Links of
 * the circuit's own worker come first (no hand-off), then open links
 * elsewhere, then links still being opened. */
static struct control_link *
find_open_link(struct relay_control *c, unsigned worker, const uint8_t rsa[20])
{
	struct control_link *found = NULL;

	for (unsigned k = 0; k < c->cfg.n_workers && found == NULL; k++) {
		unsigned wk = (worker + k) % c->cfg.n_workers;

		for (uint32_t s = 0; s < LINK_SLOTS; s++) {
			struct control_link *cl = c->slots[wk][s];

			if (cl != NULL && cl->initiator && cl->peer_rsa_known &&
			    (cl->state == CONTROL_LINK_OPEN || cl->state == CONTROL_LINK_HANDSHAKE ||
			     cl->state == CONTROL_LINK_TLS) &&
			    memcmp(cl->peer_rsa, rsa, 20) == 0) {
				if (cl->state == CONTROL_LINK_OPEN)
					return cl;
				if (found == NULL)
					found = cl;
			}
		}
	}
	if (found != NULL)
		return found;
	for (struct control_link *cl = c->connecting; cl != NULL; cl = cl->next) {
		if (cl->peer_rsa_known && memcmp(cl->peer_rsa, rsa, 20) == 0)
			return cl;
	}
	return NULL;
}

/* Sends CREATE2 for a circuit whose next link is open. */
static void
extend_send(struct relay_control *c, struct control_link *n, struct extend_request *x)
{
	struct relay_circuit_extend msg;
	uint32_t circ_id;

	/* tor-spec 4.1: on links we opened, our circuit ids have the high
	 * bit set. */
	do {
		RAND_bytes((uint8_t *)&circ_id, sizeof(circ_id));
		circ_id |= 0x80000000u;
	} while (circ_id == 0x80000000u);
	memset(&msg, 0, sizeof(msg));
	msg.circuit = x->circuit;
	msg.n_link = n->id;
	msg.n_circ_id = circ_id;
	if (circuit_extend_create_cell(&x->target, circ_id, msg.create) < 0) {
		destroy_circuit(c, x->worker, &x->circuit, DESTROY_REASON_INTERNAL);
		free(x);
		c->stats.extend_failures++;
		return;
	}
	x->n_link = n->id;
	x->next = c->extends;
	c->extends = x;
	if (n->worker != x->worker) {
		n->remote_users |= 1u << x->worker;
		c->stats.extends_cross_worker++;
	}
	send_struct(c, x->worker, RELAY_MSG_CIRCUIT_EXTEND, 0, &msg, sizeof(msg));
	c->stats.extends++;
}

static void
extend_link_open(struct relay_control *c, struct control_link *cl)
{
	for (unsigned i = 0; i < cl->nb_waiting; i++)
		extend_send(c, cl, cl->waiting_req[i]);
	cl->nb_waiting = 0;
}

static void
handle_extend2(struct relay_control *c, unsigned worker, const struct relay_circuit_local *local)
{
	const uint8_t *payload = local->payload;
	uint16_t len = wire_read_u16(payload + RELAY_OFFSET_LENGTH);
	struct circuit_extend_policy policy;
	struct extend_request *x;
	struct control_link *n;
	uint8_t reason = DESTROY_REASON_PROTOCOL;
	const uint8_t *p;
	int rc;

	/* tor-spec 5.6 (tor relay.c): EXTEND2 only counts in RELAY_EARLY;
	 * tor drops it otherwise. */
	if (local->command != CELL_COMMAND_RELAY_EARLY) {
		c->stats.relay_cells_ignored++;
		return;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return;
	x->circuit = local->circuit;
	x->worker = worker;
	memset(&policy, 0, sizeof(policy));
	policy.own_rsa_id = relay_keys_fingerprint(c->cfg.keys);
	policy.own_ed25519_id = relay_keys_master(c->cfg.keys)->public_key;
	policy.allow_private = c->cfg.allow_private_extend;
	{
		struct control_link *prev = link_find(c, local->circuit.p_link);

		/* tor circuitbuild_relay.c: never extend back to the hop the
		 * circuit came from (known when that link authenticated). */
		if (prev != NULL && prev->peer_rsa_known)
			policy.previous_rsa_id = prev->peer_rsa;
	}
	p = payload + RELAY_HEADER_LEN;
	rc = len <= RELAY_DATA_MAX ? circuit_extend_request_parse(&p, p + len, &x->target) : -EINVAL;
	if (rc == 0)
		rc = circuit_extend_request_check(&x->target, &policy, &reason);
	if (rc < 0 || !x->target.has_ipv4) {
		/* tor-spec 5.1.2: an EXTEND2 we cannot honour closes the
		 * circuit. */
		relay_log("info", "EXTEND2 on circuit %08x refused (error %d)",
				local->circuit.p_circ_id, rc);
		destroy_circuit(c, worker, &local->circuit, rc < 0 ? reason
				: DESTROY_REASON_CONNECTFAILED);
		free(x);
		c->stats.extend_failures++;
		return;
	}
	n = find_open_link(c, worker, x->target.rsa_id);
	if (n != NULL && n->state == CONTROL_LINK_OPEN) {
		extend_send(c, n, x);
		return;
	}
	if (n == NULL) {
		n = calloc(1, sizeof(*n));
		if (n == NULL) {
			free(x);
			return;
		}
		n->worker = worker;
		n->initiator = true;
		n->state = CONTROL_LINK_CONNECTING;
		n->request = ++c->next_request & ~RELAY_CONNECT_RAW;
		n->peer_ip = wire_read_u32(x->target.ipv4_address);
		n->peer_port = x->target.ipv4_port;
		memcpy(n->peer_rsa, x->target.rsa_id, 20);
		n->peer_rsa_known = true;
		n->next = c->connecting;
		c->connecting = n;
		send_msg(c, worker, RELAY_MSG_LINK_CONNECT, n->request,
				(uint64_t)n->peer_ip << 16 | n->peer_port, NULL);
		c->stats.links_outbound++;
	}
	if (n->nb_waiting == EXTEND_WAIT_MAX) {
		destroy_circuit(c, worker, &local->circuit, DESTROY_REASON_RESOURCELIMIT);
		free(x);
		return;
	}
	n->waiting[n->nb_waiting] = x->circuit;
	n->waiting_req[n->nb_waiting++] = x;
}

static void
handle_created(struct relay_control *c, unsigned worker, uint32_t handle, const uint8_t *cell)
{
	struct extend_request **pp = &c->extends, *x;
	struct relay_circuit_relay r;
	int rc;

	while ((x = *pp) != NULL && !(x->worker == worker && x->circuit.handle == handle))
		pp = &x->next;
	if (x == NULL)
		return;
	*pp = x->next;
	memset(&r, 0, sizeof(r));
	r.circuit = x->circuit;
	r.relay_command = RELAY_COMMAND_EXTENDED2;
	rc = circuit_extend_created(cell, r.data, &r.length);
	if (rc < 0) {
		relay_log("info", "CREATED2 for circuit %08x unusable (error %d)",
				x->circuit.p_circ_id, rc);
		destroy_circuit(c, worker, &x->circuit, DESTROY_REASON_PROTOCOL);
		c->stats.extend_failures++;
	} else {
		send_struct(c, worker, RELAY_MSG_CIRCUIT_EXTENDED, 0, &r, sizeof(r));
		c->stats.extended++;
	}
	free(x);
}

/* A cell for the control thread on an open link. */
static void
circuit_cell(struct relay_control *c, struct control_link *cl, unsigned worker,
		uint64_t handle, const uint8_t *cell, uint32_t len, time_t now)
{
	if (len != CELL_LEN)
		return;
	switch (cell_wire_command(cell)) {
	case CELL_COMMAND_CREATE2:
	case CELL_COMMAND_CREATE_FAST:
		answer_create(c, cl, cell, now);
		return;
	case CELL_COMMAND_CREATED2:
		if (handle != CIRCUIT_NONE)
			handle_created(c, worker, (uint32_t)handle, cell);
		return;
	case CELL_COMMAND_DESTROY: {
		/* A DESTROY that overtook our answer to its CREATE2: the
		 * worker looks the circuit up by its p side. */
		struct relay_circuit_ref ref = {
			.handle = CIRCUIT_NONE, .p_link = cl->id, .p_circ_id = cell_wire_circ_id(cell),
		};

		destroy_circuit(c, cl->worker, &ref, cell_wire_payload((uint8_t *)cell)[0]);
		stream_circuits_gone(c, ref.p_link, ref.p_circ_id, false);
		intro_point_circuit_gone(c->intro, ref.p_link, ref.p_circ_id);
		rendezvous_circuit_gone(c->rendezvous, ref.p_link, ref.p_circ_id);
		return;
	}
	default:
		return;
	}
}

/* ------------------------------------------------------------------ */
/* Introduction point (control/intro_point.h)                          */

static struct relay_circuit_ref
intro_ref(const struct intro_circuit *circ)
{
	return (struct relay_circuit_ref){
		.handle = circ->handle, .p_link = circ->p_link, .p_circ_id = circ->p_circ_id,
	};
}

static int
intro_send_confirmed(void *ctx, const struct intro_circuit *circ, uint8_t relay_command,
		const uint8_t *body, size_t len, uint32_t confirm)
{
	struct relay_control *c = ctx;
	struct relay_circuit_relay r;
	struct rte_mbuf *m;

	if (len > RELAY_DATA_MAX || circ->worker >= c->cfg.n_workers)
		return -EMSGSIZE;
	memset(&r, 0, sizeof(r));
	r.circuit = intro_ref(circ);
	r.relay_command = relay_command;
	r.length = (uint16_t)len;
	r.confirm = confirm;
	memcpy(r.data, body, len);
	m = mbuf_from(c, &r, sizeof(r));
	if (m == NULL) {
		c->stats.messages_dropped++;
		return -ENOBUFS;
	}
	send_msg(c, circ->worker, RELAY_MSG_CIRCUIT_ORIGINATE, 0, 0, m);
	return 0;
}

static int
intro_send(void *ctx, const struct intro_circuit *circ, uint8_t relay_command,
		const uint8_t *body, size_t len)
{
	return intro_send_confirmed(ctx, circ, relay_command, body, len, 0);
}

static void
intro_close(void *ctx, const struct intro_circuit *circ, uint8_t reason)
{
	struct relay_control *c = ctx;
	struct relay_circuit_ref ref = intro_ref(circ);

	destroy_circuit(c, circ->worker, &ref, reason);
}

static void
intro_gone(void *ctx, const struct intro_circuit *circ, const uint8_t auth_key[HS_AUTH_KEY_LEN],
		uint64_t introduce2)
{
	char key[48];

	(void)ctx;
	hs_key_base64(auth_key, key);
	relay_log("info", "intro point: circuit %08x on link %08x gone for auth key %s "
			"after %" PRIu64 " INTRODUCE2", circ->p_circ_id, circ->p_link, key,
			introduce2);
}

static void
intro_watch(void *ctx, const struct intro_circuit *circ)
{
	struct relay_control *c = ctx;

	send_msg(c, circ->worker, RELAY_MSG_CIRCUIT_WATCH, circ->handle,
			(uint64_t)circ->p_link << 32 | circ->p_circ_id, NULL);
}

/* tor hs_dos.c: the INTRODUCE2 defence defaults come from the consensus
 * (tor 0.4.9 defaults: off, 25/s, burst 200); so does the rendezvous
 * point's single-hop refusal. */
static void
intro_dos_defaults(struct relay_control *c)
{
	struct intro_point_dos_defaults d = {
		.enabled = consensus_param(c->consensus, "HiddenServiceEnableIntroDoSDefense",
				0, 0, 1) != 0,
		.rate_per_sec = (uint32_t)consensus_param(c->consensus,
				"HiddenServiceEnableIntroDoSRatePerSec",
				HS_DOS_DEFAULT_RATE_PER_SEC, 0, INT32_MAX),
		.burst_per_sec = (uint32_t)consensus_param(c->consensus,
				"HiddenServiceEnableIntroDoSBurstPerSec",
				HS_DOS_DEFAULT_BURST_PER_SEC, 0, INT32_MAX),
	};

	intro_point_set_dos_defaults(c->intro, &d);
	/* tor dos.c: DoSRefuseSingleHopClientRendezvous, default 0 (the live
	 * consensus sets 1). */
	rendezvous_set_refuse_single_hop(c->rendezvous, consensus_param(c->consensus,
			"DoSRefuseSingleHopClientRendezvous", 0, 0, 1) != 0);
}

/* tor channelpadding.c channelpadding_new_consensus_params(): the
 * connection-padding window from each new consensus, to every worker. */
static void
padding_params_from_consensus(struct relay_control *c)
{
	struct channel_padding_params p = channel_padding_params_from_consensus(
			consensus_param(c->consensus, "nf_ito_low",
					CHANNEL_PADDING_ITO_LOW_DEFAULT_MS, INT32_MIN, INT32_MAX),
			consensus_param(c->consensus, "nf_ito_high",
					CHANNEL_PADDING_ITO_HIGH_DEFAULT_MS, INT32_MIN, INT32_MAX));

	if (c->stats.padding_ito_low_ms != p.ito_low_ms ||
			c->stats.padding_ito_high_ms != p.ito_high_ms)
		relay_log("notice", "connection padding: idle timeout %u..%u ms (consensus "
				"nf_ito_low, nf_ito_high)", p.ito_low_ms, p.ito_high_ms);
	c->stats.padding_ito_low_ms = p.ito_low_ms;
	c->stats.padding_ito_high_ms = p.ito_high_ms;
	for (unsigned w = 0; w < c->cfg.n_workers; w++)
		send_msg(c, w, RELAY_MSG_PADDING_PARAMS, 0,
				(uint64_t)p.ito_low_ms << 16 | p.ito_high_ms, NULL);
}

/* A worker's share of a rate and burst as RELAY_MSG_BANDWIDTH carries
 * them: rate << 32 | burst, each at least 1 byte and at most 32 bits. */
static uint64_t
bandwidth_share(const struct relay_control *c, uint64_t rate, uint64_t burst)
{
	rate = RTE_MIN(RTE_MAX(rate / c->cfg.n_workers, 1), (uint64_t)UINT32_MAX);
	burst = RTE_MIN(RTE_MAX(burst / c->cfg.n_workers, rate), (uint64_t)UINT32_MAX);
	return rate << 32 | burst;
}

/* BandwidthRate and BandwidthBurst (and RelayBandwidthRate/Burst),
 * divided among the workers (each limits the links it owns; flows are
 * spread over them by hash), to every worker: tor's global token buckets
 * (connection.c connection_bucket_init() and connection_bucket_adjust()). */
static void
bandwidth_to_workers(struct relay_control *c)
{
	uint64_t share = bandwidth_share(c, c->cfg.bandwidth_rate, c->cfg.bandwidth_burst);
	uint64_t relayed = c->cfg.relay_bandwidth_rate == 0 ? 0
			: bandwidth_share(c, c->cfg.relay_bandwidth_rate, c->cfg.relay_bandwidth_burst);
	uint32_t interval = c->cfg.token_bucket_refill_interval_ms & RELAY_BANDWIDTH_INTERVAL_MASK;
	uint32_t flags = interval;

	if (c->cfg.count_private_bandwidth)
		flags |= RELAY_BANDWIDTH_COUNT_PRIVATE;
	relay_log("notice", "bandwidth: reads and writes limited to %" PRIu64 " bytes/s, bursts "
			"of %" PRIu64 " bytes (%" PRIu64 " and %" PRIu64 " per worker), refilled "
			"every %u ms; links to internal addresses %s", c->cfg.bandwidth_rate,
			c->cfg.bandwidth_burst, share >> 32, share & UINT32_MAX,
			c->cfg.token_bucket_refill_interval_ms,
			c->cfg.count_private_bandwidth ? "count" : "are not limited");
	if (relayed != 0)
		relay_log("notice", "bandwidth: relayed traffic limited to %" PRIu64 " bytes/s, "
				"bursts of %" PRIu64 " bytes (%" PRIu64 " and %" PRIu64 " per "
				"worker)", c->cfg.relay_bandwidth_rate, c->cfg.relay_bandwidth_burst,
				relayed >> 32, relayed & UINT32_MAX);
	/* The relayed pair first, so that a worker has both when
	 * MSG_BANDWIDTH turns its limiting on. */
	for (unsigned w = 0; w < c->cfg.n_workers; w++) {
		send_msg(c, w, RELAY_MSG_RELAYED_BANDWIDTH, interval, relayed, NULL);
		send_msg(c, w, RELAY_MSG_BANDWIDTH, flags, share, NULL);
	}
}

/* tor relay.c relay_consensus_has_changed(): the longest circuit queue
 * towards the client (circ_max_cell_queue_size) and towards the next hop
 * (circ_max_cell_queue_size_out, defaulting to the first), to every
 * worker. */
static void
queue_limits_from_consensus(struct relay_control *c)
{
	uint32_t toward_p = (uint32_t)consensus_param(c->consensus, "circ_max_cell_queue_size",
			RELAY_CIRCUIT_QUEUE_MAX, RELAY_CIRCUIT_QUEUE_MIN, INT32_MAX);
	uint32_t toward_n = (uint32_t)consensus_param(c->consensus,
			"circ_max_cell_queue_size_out", (int32_t)toward_p, RELAY_CIRCUIT_QUEUE_MIN,
			INT32_MAX);

	if (c->stats.queue_limit_toward_n != toward_n || c->stats.queue_limit_toward_p != toward_p)
		relay_log("notice", "circuit queues: at most %u cells towards the next hop, %u "
				"towards the client (consensus circ_max_cell_queue_size_out, "
				"circ_max_cell_queue_size)", toward_n, toward_p);
	c->stats.queue_limit_toward_n = toward_n;
	c->stats.queue_limit_toward_p = toward_p;
	for (unsigned w = 0; w < c->cfg.n_workers; w++)
		send_msg(c, w, RELAY_MSG_QUEUE_LIMITS, 0, (uint64_t)toward_n << 32 | toward_p,
				NULL);
}

static bool
is_intro_command(uint8_t command)
{
	return command == RELAY_COMMAND_ESTABLISH_INTRO || command == RELAY_COMMAND_INTRODUCE1;
}

/* This hop's KH from answer_create, if the circuit is among the latest
 * CC_PARAMS_REMEMBERED created on its worker. */
static const uint8_t *
circuit_kh(const struct relay_control *c, unsigned worker, const struct relay_circuit_ref *ref)
{
	for (unsigned i = 1; i <= CC_PARAMS_REMEMBERED; i++) {
		const struct cc_params_entry *e = &c->cc_params[worker][(c->cc_params_next[worker] - i) %
				CC_PARAMS_REMEMBERED];

		if (e->used && e->p_link == ref->p_link && e->p_circ_id == ref->p_circ_id)
			return e->kh;
	}
	return NULL;
}

/* ESTABLISH_INTRO or INTRODUCE1 recognized at this hop. */
static void
intro_cell(struct relay_control *c, unsigned worker, const struct relay_circuit_local *local)
{
	const uint8_t *payload = local->payload;
	uint16_t len = wire_read_u16(payload + RELAY_OFFSET_LENGTH);
	const struct control_link *prev = link_find(c, local->circuit.p_link);
	struct intro_circuit circ = {
		.worker = worker, .handle = local->circuit.handle,
		.p_link = local->circuit.p_link, .p_circ_id = local->circuit.p_circ_id,
	};
	struct intro_circuit_info info = {
		.has_next_hop = local->has_next_hop != 0,
		/* tor: the purpose must still be OR; a circuit waiting on a
		 * rendezvous cookie here is REND_POINT_WAITING. */
		.other_purpose = rendezvous_is_waiting(c->rendezvous, local->circuit.p_link,
				local->circuit.p_circ_id),
		/* tor channel_is_client(): the peer did not authenticate. */
		.previous_hop_is_client = prev == NULL || !prev->peer_rsa_known,
	};
	struct timespec ts;

	/* tor-spec 6.1 (tor relay_msg decoding): a length past the cell is a
	 * protocol violation that closes the circuit. */
	if (len > RELAY_DATA_MAX) {
		destroy_circuit(c, worker, &local->circuit, DESTROY_REASON_PROTOCOL);
		return;
	}
	/* The token buckets count whole monotonic seconds, as tor's
	 * monotime_coarse_absolute_sec(). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (payload[RELAY_OFFSET_COMMAND] == RELAY_COMMAND_ESTABLISH_INTRO) {
		if (intro_point_establish(c->intro, &circ, &info,
				circuit_kh(c, worker, &local->circuit), payload + RELAY_HEADER_LEN,
				len, (uint32_t)ts.tv_sec) == 0) {
			char key[48];

			/* The auth key is public (it is in the service's
			 * descriptor, rend-spec-v3 2.5.2.2); tests address
			 * INTRODUCE1 to it. A verified body starts with
			 * AUTH_KEY_TYPE, AUTH_KEY_LEN (32), AUTH_KEY. */
			hs_key_base64(payload + RELAY_HEADER_LEN + 3, key);
			relay_log("notice", "intro point: circuit %08x on link %08x established "
					"for auth key %s", local->circuit.p_circ_id,
					local->circuit.p_link, key);
		}
	} else {
		intro_point_introduce1(c->intro, &circ, &info, payload + RELAY_HEADER_LEN, len,
				(uint32_t)ts.tv_sec);
	}
}

/* ------------------------------------------------------------------ */
/* DoS limits (control/dos_guard.h, docs/dos.md)                       */

static int32_t
dos_consensus_param(void *arg, const char *name, int32_t default_value, int32_t min_value,
		int32_t max_value)
{
	const struct consensus *cons = arg;

	return cons != NULL ? consensus_param(cons, name, default_value, min_value, max_value)
			    : default_value;
}

/* tor dos.c dos_init() / dos_consensus_has_changed(): the DoS options of
 * the configuration over the kept consensus's parameters (defaults
 * before the first consensus). */
static void
dos_params_update(struct relay_control *c)
{
	struct dos_guard_params p;

	memset(&p, 0, sizeof(p));	/* compared with memcmp below */
	dos_guard_params_resolve(&c->cfg.dos, dos_consensus_param, c->consensus, &p);
	if (memcmp(&p, dos_guard_get_params(c->dos), sizeof(p)) != 0)
		relay_log("notice", "DoS limits: circuit creation %s (min %u connections, "
				"%u/s, burst %u, defense %d for %d s); connections %s (max %u "
				"concurrent, defense %d, %u/s, burst %u, marked for %d s)",
				p.cc_enabled ? "on" : "off", p.cc_min_concurrent_conn,
				p.cc_circuit_rate, p.cc_circuit_burst, p.cc_defense_type,
				p.cc_defense_time_period, p.conn_enabled ? "on" : "off",
				p.conn_max_concurrent_count, p.conn_defense_type,
				p.conn_connect_rate, p.conn_connect_burst,
				p.conn_connect_defense_time_period);
	dos_guard_set_params(c->dos, &p);
}

static struct dos_guard *
dos_limits_create(struct relay_control *c)
{
	struct dos_guard_config cfg = { .capacity = 0 };

	if (RAND_bytes(cfg.hash_key, sizeof(cfg.hash_key)) != 1)
		return NULL;
	c->dos = dos_guard_create(&cfg);
	OPENSSL_cleanse(cfg.hash_key, sizeof(cfg.hash_key));
	if (c->dos != NULL)
		dos_params_update(c);
	return c->dos;
}

void
relay_control_set_dos_options(struct relay_control *c, const struct dos_guard_options *options)
{
	c->cfg.dos = *options;
	dos_params_update(c);
}

const struct accounting *
relay_control_accounting(const struct relay_control *c)
{
	return c->accounting_on ? &c->accounting : NULL;
}

const struct dos_guard_stats *
relay_control_dos_stats(const struct relay_control *c)
{
	return dos_guard_get_stats(c->dos);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

/* A cell from worker's circuit table (or link handshake) that arrived on
 * cl, which may be another worker's link when the cell belongs to a
 * circuit of worker (CREATED2 for its extension). */
static void
on_link_cell(struct relay_control *c, struct control_link *cl, unsigned worker,
		uint64_t handle, struct rte_mbuf *m, time_t now)
{
	uint8_t cell[CELL_LEN + 65536 + 8];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *p, *end;

	if (len > sizeof(cell)) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_memcpy(cell, rte_pktmbuf_read(m, 0, len, cell), len);
	rte_pktmbuf_free(m);
	if (cl->state == CONTROL_LINK_OPEN) {
		circuit_cell(c, cl, worker, handle, cell, len, now);
		return;
	}
	if (cl->state != CONTROL_LINK_HANDSHAKE)
		return;
	p = cell;
	end = cell + len;
	for (;;) {
		int rc = link_handshake_receive(cl->hs, &p, end, now, NULL);

		if (rc == -ENOTSUP) {
			circuit_cell(c, cl, worker, handle, p, (uint32_t)(end - p), now);
			return;
		}
		handshake_flush(c, cl);
		if (rc < 0 && rc != -EAGAIN) {
			c->stats.link_failures++;
			relay_log("info", "link handshake on %08x failed: %s", cl->id,
					link_handshake_reason(cl->hs));
			link_close(c, cl, "link handshake failed");
			return;
		}
		if (link_handshake_state(cl->hs) == LINK_HANDSHAKE_OPEN &&
		    cl->state == CONTROL_LINK_HANDSHAKE) {
			cl->state = CONTROL_LINK_OPEN;
			c->stats.link_handshakes++;
			if (link_handshake_peer_rsa_fingerprint(cl->hs, cl->peer_rsa) == 0)
				cl->peer_rsa_known = true;
			send_msg(c, cl->worker, RELAY_MSG_LINK_OPEN, cl->id,
					link_handshake_link_protocol(cl->hs) |
					(cl->peer_rsa_known ? 0 : RELAY_LINK_OPEN_CLIENT), NULL);
			extend_link_open(c, cl);
		}
		if (rc == -EAGAIN || p >= end)
			return;
	}
}

static void
on_link_new(struct relay_control *c, unsigned worker, uint32_t id, uint64_t addr, time_t now)
{
	struct control_link *cl;

	/* tor connection.c: a marked address, or one with too many
	 * connections open, is closed at once (docs/dos.md). */
	if (!dos_guard_connection_allowed(c->dos, (uint32_t)(addr >> 16), now)) {
		send_msg(c, worker, RELAY_MSG_LINK_CLOSE, id, 0, NULL);
		return;
	}
	/* Hibernating, the listeners are closed (tor hibernate_begin());
	 * a connection accepted before the workers heard of it goes too. */
	if (hibernating(c)) {
		send_msg(c, worker, RELAY_MSG_LINK_CLOSE, id, 0, NULL);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL || tls_session_create(c->tls_server, &cl->tls) < 0) {
		free(cl);
		send_msg(c, worker, RELAY_MSG_LINK_CLOSE, id, 0, NULL);
		return;
	}
	cl->id = id;
	cl->worker = worker;
	cl->state = CONTROL_LINK_TLS;
	cl->peer_ip = (uint32_t)(addr >> 16);
	cl->peer_port = (uint16_t)addr;
	c->slots[worker][id & (LINK_SLOTS - 1)] = cl;
	c->stats.links_inbound++;
	cl->dos_tracked = dos_guard_connection_opened(c->dos, cl->peer_ip, now);
}

static struct control_link *
take_connecting(struct relay_control *c, uint32_t request)
{
	struct control_link **pp = &c->connecting, *cl;

	while ((cl = *pp) != NULL && cl->request != request)
		pp = &cl->next;
	if (cl != NULL)
		*pp = cl->next;
	return cl;
}

static void
on_link_connected(struct relay_control *c, unsigned worker, uint32_t id, uint32_t request)
{
	struct control_link *cl = take_connecting(c, request);

	if (cl == NULL) {
		send_msg(c, worker, RELAY_MSG_LINK_CLOSE, id, 0, NULL);
		return;
	}
	cl->id = id;
	c->slots[worker][id & (LINK_SLOTS - 1)] = cl;
	if (cl->dir != NULL) {
		cl->state = CONTROL_LINK_RAW;
		send_bytes(c, cl, RELAY_MSG_LINK_SEND, cl->dir->request, cl->dir->request_len);
		return;
	}
	cl->state = CONTROL_LINK_TLS;
	if (tls_session_create(c->tls_client, &cl->tls) < 0 || tls_session_step(cl->tls) < 0) {
		link_close(c, cl, "TLS client set-up failed");
		return;
	}
	tls_flush(c, cl);
}

static void
certs_received(struct relay_control *c, const uint8_t *body, size_t len, time_t now)
{
	const uint8_t *p = body, *end = body + len;
	size_t kept = 0;

	while (p < end && c->n_certs < AUTHORITY_CERTS_MAX) {
		struct authority_cert *cert = NULL;
		bool ours = false;

		const uint8_t *start;

		while (p < end && (*p == '\n' || *p == '\r'))
			p++;
		start = p;
		if (p == end || authority_cert_parse(&p, end, &cert, NULL) < 0)
			break;
		for (unsigned a = 0; a < c->cfg.n_authorities; a++)
			ours |= memcmp(authority_cert_identity_digest(cert),
					c->cfg.authorities[a].v3ident, 20) == 0;
		/* Keep only certificates of configured authorities that
		 * verify and that we do not have yet. */
		if (!ours || authority_cert_verify(cert, now) < 0 ||
		    authority_cert_find(c->certs, c->n_certs, authority_cert_identity_digest(cert),
				authority_cert_signing_key_digest(cert)) != NULL) {
			authority_cert_free(cert);
			continue;
		}
		/* The text as the authority served it, for our own
		 * /tor/keys/ answers (dir_server.h). */
		c->cert_text[c->n_certs] = malloc((size_t)(p - start));
		if (c->cert_text[c->n_certs] != NULL) {
			memcpy(c->cert_text[c->n_certs], start, (size_t)(p - start));
			c->cert_len[c->n_certs] = (size_t)(p - start);
		}
		c->certs[c->n_certs++] = cert;
		kept++;
	}
	relay_log("info", "authority certificates: %zu new, %zu kept", kept, c->n_certs);
}

/* HSDir: our places on the hash ring for this consensus (hsdir_store.h
 * hsdir_ring_indexes), in the log with our HSDir flag. */
static void
hsdir_ring_log(struct relay_control *c, const struct consensus *fresh)
{
	const struct consensus_srv *cur = consensus_srv_current(fresh);
	const struct consensus_srv *prev = consensus_srv_previous(fresh);
	uint32_t interval = (uint32_t)(consensus_fresh_until(fresh) - consensus_valid_after(fresh));
	/* allow_private_extend is set exactly with TestingTorNetwork, which
	 * makes a period 24 voting intervals (hs_get_time_period_length). */
	struct hs_time_period_params params = c->cfg.allow_private_extend
			? hs_time_period_params_testing(interval)
			: hs_time_period_params_live((uint32_t)consensus_param(fresh, "hsdir_interval",
					HS_TIME_PERIOD_LENGTH_DEFAULT, HS_TIME_PERIOD_LENGTH_MIN,
					HS_TIME_PERIOD_LENGTH_MAX), interval);
	struct hsdir_ring_indexes r;
	char fetch[65], first[65], second[65];

	if (hsdir_ring_indexes(relay_keys_master(c->cfg.keys)->public_key,
			consensus_valid_after(fresh), interval, &params,
			cur->present ? cur->value : NULL, prev->present ? prev->value : NULL, &r) < 0)
		return;
	c->hsdir_ring = r;
	c->hsdir_ring_known = true;
	c->hsdir_listed = consensus_router_has_flags(fresh, relay_keys_fingerprint(c->cfg.keys),
			CONSENSUS_FLAG_HSDIR);
	{
		/* Only when something changed (a new period or SRV, the
		 * flag): a consensus comes every voting interval. */
		uint8_t now_logged[sizeof(c->hsdir_ring_logged)];

		memcpy(now_logged, r.fetch, HS_INDEX_LEN);
		memcpy(now_logged + HS_INDEX_LEN, r.store_first, HS_INDEX_LEN);
		memcpy(now_logged + 2 * HS_INDEX_LEN, r.store_second, HS_INDEX_LEN);
		now_logged[3 * HS_INDEX_LEN] = 1 + consensus_router_has_flags(fresh,
				relay_keys_fingerprint(c->cfg.keys), CONSENSUS_FLAG_HSDIR);
		if (memcmp(now_logged, c->hsdir_ring_logged, sizeof(now_logged)) == 0)
			return;
		memcpy(c->hsdir_ring_logged, now_logged, sizeof(now_logged));
	}
	for (unsigned i = 0; i < HS_INDEX_LEN; i++) {
		snprintf(fetch + 2 * i, 3, "%02x", r.fetch[i]);
		snprintf(first + 2 * i, 3, "%02x", r.store_first[i]);
		snprintf(second + 2 * i, 3, "%02x", r.store_second[i]);
	}
	relay_log("notice", "hsdir: %s; time period %" PRIu64 " (%" PRIu64 " min)%s; hsdir_index "
			"fetch %s store_first %s store_second %s",
			consensus_router_has_flags(fresh, relay_keys_fingerprint(c->cfg.keys),
					CONSENSUS_FLAG_HSDIR) ? "listed HSDir" : "not HSDir",
			r.period_num, r.period_length,
			r.between_tp_and_srv ? " between TP and SRV" : "", fetch, first, second);
}

/* SHA3-256 of the kept consensus from its start through the space after
 * the first "directory-signature" (tor's digest_sha3_as_signed), which
 * clients name in X-Or-Diff-From-Consensus. consensus_parse has checked
 * that the line exists. */
static void
consensus_sha3_as_signed(struct relay_control *c)
{
	static const char marker[] = "\ndirectory-signature ";
	const uint8_t *text = c->consensus_text;
	size_t len = c->consensus_len, signed_len = 0;

	for (size_t i = 0; i + sizeof(marker) - 1 <= len; i++) {
		if (text[i] == '\n' && memcmp(text + i, marker, sizeof(marker) - 1) == 0) {
			signed_len = i + sizeof(marker) - 1;
			break;
		}
	}
	if (signed_len == 0 || kdf_sha3_256(text, signed_len, c->consensus_sha3) != 0)
		memset(c->consensus_sha3, 0, sizeof(c->consensus_sha3));
}

/* Defined with the descriptor upload, below. */
static void family_recheck(struct relay_control *c, time_t now);

static void
consensus_received(struct relay_control *c, const uint8_t *body, size_t len, time_t now)
{
	uint8_t authorities[RELAY_CONTROL_AUTHORITIES_MAX][CONSENSUS_IDENTITY_LEN];
	struct consensus_verify_result vr;
	struct dirdoc_error err;
	struct consensus *fresh = NULL;
	int rc;

	for (unsigned a = 0; a < c->cfg.n_authorities; a++)
		memcpy(authorities[a], c->cfg.authorities[a].v3ident, CONSENSUS_IDENTITY_LEN);
	rc = consensus_parse(body, len, &fresh, &err);
	if (rc < 0) {
		relay_log("warn", "consensus refused: line %u: %s", err.line, err.message);
		c->stats.consensus_rejected++;
		return;
	}
	/* dir-spec 3.4.1: more than half of the authorities we know must
	 * have signed it with keys their certificates vouch for. */
	rc = consensus_verify(fresh, (const uint8_t (*)[CONSENSUS_IDENTITY_LEN])authorities,
			c->cfg.n_authorities, c->certs, c->n_certs, now, &vr);
	if (rc == 0)
		rc = consensus_check_time(fresh, now, 60);
	if (rc < 0 || (c->consensus != NULL &&
		       consensus_valid_after(fresh) <= consensus_valid_after(c->consensus))) {
		if (rc < 0) {
			relay_log("warn", "consensus refused (error %d): %u valid signatures, %u "
					"bad, %u without certificate", rc, vr.n_valid, vr.n_bad,
					vr.n_missing_cert);
			c->stats.consensus_rejected++;
			if (vr.n_missing_cert > 0)
				c->next_certs = now;
		}
		consensus_free(fresh);
		return;
	}
	{
		uint8_t *text = malloc(len > 0 ? len : 1);

		if (text == NULL) {
			consensus_free(fresh);
			return;
		}
		memcpy(text, body, len);
		consensus_packed_free(c);
		/* Clients that hold the one replaced get a diff from it. */
		if (c->consensus_text != NULL)
			consensus_past_push(c, c->consensus_text, c->consensus_len,
					c->consensus_sha3);
		c->consensus_text = text;
		c->consensus_len = len;
		if (kdf_sha3_256(text, len, c->consensus_sha3_full) != 0)
			memset(c->consensus_sha3_full, 0, sizeof(c->consensus_sha3_full));
	}
	consensus_free(c->consensus);
	c->consensus = fresh;
	c->stats.consensus_fetched++;
	intro_dos_defaults(c);
	dos_params_update(c);
	padding_params_from_consensus(c);
	queue_limits_from_consensus(c);
	consensus_sha3_as_signed(c);
	family_recheck(c, now);
	/* Microdescriptors: keep those it or the previous one lists, fetch
	 * the ones it lists that we lack (microdesc_store.h). */
	if (c->microdescs != NULL) {
		struct microdesc_store_stats st;

		microdesc_store_set_consensus(c->microdescs, fresh);
		microdesc_store_get_stats(c->microdescs, &st);
		c->stats.microdescs_held = st.entries;
		c->next_microdesc_fetch = now;
	}
	/* A majority was enough to keep it, but a signature whose
	 * certificate we lack means an authority we cannot vouch for yet
	 * (it may have been missing from the first authority's
	 * /tor/keys/all): fetch the certificates again soon, from the next
	 * authority, as tor fetches the certificates a consensus names but
	 * it lacks. */
	if (vr.n_missing_cert > 0 && c->next_certs > now + CERTS_RETRY_INTERVAL)
		c->next_certs = now + CERTS_RETRY_INTERVAL;
	c->stats.consensus_valid_after = consensus_valid_after(fresh);
	c->stats.consensus_routers = consensus_n_routers(fresh);
	c->stats.listed_running = consensus_router_has_flags(fresh,
			relay_keys_fingerprint(c->cfg.keys),
			CONSENSUS_FLAG_RUNNING | CONSENSUS_FLAG_VALID);
	relay_log("notice", "consensus valid-after %" PRId64 " kept: %zu relays, %u signatures; "
			"we are %s", (int64_t)consensus_valid_after(fresh), consensus_n_routers(fresh),
			vr.n_valid, c->stats.listed_running ? "listed Running and Valid"
			: consensus_find_router(fresh, relay_keys_fingerprint(c->cfg.keys)) != NULL
			? "listed, not Running and Valid" : "not listed");
	hsdir_ring_log(c, fresh);
}

/* An authority's /tor/micro/d/ answer: keep what was asked for. */
static void
microdescs_received(struct relay_control *c, const struct dir_fetch *d, const uint8_t *body,
		size_t len)
{
	struct microdesc_store_stats st;
	int kept;

	if (c->microdescs == NULL)
		return;
	kept = microdesc_store_add_answer(c->microdescs, body, len,
			(const uint8_t (*)[MICRODESC_DIGEST_LEN])d->wanted, d->n_wanted);
	microdesc_store_get_stats(c->microdescs, &st);
	c->stats.microdescs_held = st.entries;
	c->stats.microdescs_fetched = st.added;
	c->stats.microdescs_rejected = st.unwanted + st.malformed + st.refused_full;
	relay_log("info", "microdescriptors: %d of %zu asked for kept, %zu held", kept,
			d->n_wanted, st.entries);
}

/* Handles a directory response once it is complete (or the stream
 * ended). */
static void
dir_response(struct relay_control *c, struct control_link *cl, bool closed, time_t now)
{
	struct dir_fetch *d = cl->dir;
	const uint8_t *p = d->response;
	struct dir_http_response r;
	char ip[INET_ADDRSTRLEN];
	int rc = dir_http_response_parse(&p, p + d->response_len, &r);
	size_t body_len;

	if (rc == -EAGAIN && !closed)
		return;
	body_len = rc == 0 ? d->response_len - (size_t)(p - d->response) : 0;
	/* GETs need the whole body: Content-Length, or the end of the
	 * stream (HTTP/1.0). */
	if (rc == 0 && d->kind != DIR_UPLOAD && !closed &&
	    (!r.has_content_length || body_len < r.content_length))
		return;
	d->done = true;
	if (rc < 0 || r.status != 200) {
		relay_log("warn", "directory request %d to %s:%u failed: HTTP %u %.*s", d->kind,
				ip_string(cl->peer_ip, ip), cl->peer_port, rc == 0 ? r.status : 0,
				rc == 0 ? (int)r.reason_len : 0, rc == 0 ? r.reason : "");
		if (d->kind == DIR_UPLOAD)
			c->stats.uploads_failed++;
	} else if (d->kind == DIR_UPLOAD) {
		c->stats.uploads_ok++;
		relay_log("notice", "descriptor uploaded to %s:%u%s", ip_string(cl->peer_ip, ip),
				cl->peer_port, r.descriptor_not_new ? " (not new)" : "");
	} else if (d->kind == DIR_CERTS) {
		certs_received(c, p, body_len, now);
	} else if (d->kind == DIR_MICRODESCS) {
		microdescs_received(c, d, p, body_len);
	} else {
		consensus_received(c, p, body_len, now);
	}
	if (!closed)
		link_close(c, cl, "directory request done");
}

static int
dir_append(struct dir_fetch *d, const uint8_t *data, size_t len)
{
	if (d->response_len + len > DIR_RESPONSE_MAX)
		return -EMSGSIZE;
	if (d->response_len + len > d->response_cap) {
		size_t cap = d->response_cap ? d->response_cap : 16384;
		uint8_t *n;

		while (cap < d->response_len + len)
			cap *= 2;
		n = realloc(d->response, cap);
		if (n == NULL)
			return -ENOMEM;
		d->response = n;
		d->response_cap = cap;
	}
	memcpy(d->response + d->response_len, data, len);
	d->response_len += len;
	return 0;
}

static void
on_link_bytes(struct relay_control *c, struct control_link *cl, struct rte_mbuf *m, time_t now)
{
	if (cl->state == CONTROL_LINK_TLS) {
		tls_input(c, cl, m, now);
		return;
	}
	if (cl->state == CONTROL_LINK_RAW && cl->dir != NULL && !cl->dir->done) {
		int rc = 0;

		for (struct rte_mbuf *s = m; s != NULL && rc == 0; s = s->next)
			rc = dir_append(cl->dir, rte_pktmbuf_mtod(s, uint8_t *), s->data_len);
		rte_pktmbuf_free(m);
		if (rc < 0) {
			cl->dir->done = true;
			link_close(c, cl, "directory response too large");
			return;
		}
		dir_response(c, cl, false, now);
		return;
	}
	rte_pktmbuf_free(m);
}

/* A general overload (overload.h), logged once per hour it marks. */
static void
note_overload(struct relay_control *c, const char *why, time_t now)
{
	c->stats.overloads++;
	if (overload_note_general(&c->overload, now))
		relay_log("notice", "overload: %s; the next descriptor says overload-general",
				why);
}

static void
on_link_closed(struct relay_control *c, uint32_t id, uint64_t u64)
{
	uint32_t request = (uint32_t)(u64 >> 32);
	struct control_link *cl = id != 0 ? link_find(c, id) : NULL;

	/* tor rep_hist_note_tcp_exhaustion(): a connect that found no free
	 * source port (tcp_connect() -EADDRINUSE) is a general overload. */
	if (request != 0 && (uint32_t)u64 == EADDRINUSE)
		note_overload(c, "no free TCP source port for a connection", time(NULL));
	if (cl == NULL && request != 0)
		cl = take_connecting(c, request);
	if (cl == NULL)
		return;
	if (cl->dos_tracked)
		dos_guard_connection_closed(c->dos, cl->peer_ip);
	if (cl->dir != NULL && !cl->dir->done && cl->dir->response_len > 0)
		dir_response(c, cl, true, time(NULL));
	if (cl->dir != NULL && !cl->dir->done) {
		if (cl->dir->kind == DIR_UPLOAD)
			c->stats.uploads_failed++;
		relay_log("warn", "directory request %d to authority %u failed (error %d)",
				cl->dir->kind, cl->dir->authority, -(int)(uint32_t)u64);
	}
	link_fail_waiting(c, cl);
	stream_circuits_gone(c, cl->id, 0, true);
	rendezvous_link_gone(c->rendezvous, cl->id);
	intro_point_link_closed(c->intro, cl->id);
	/* Extensions waiting for CREATED2 on this link fail too. */
	for (struct extend_request **pp = &c->extends, *x; (x = *pp) != NULL;) {
		if (x->n_link == cl->id) {
			relay_log("info", "link %08x closed before CREATED2 for circuit %08x",
					cl->id, x->circuit.p_circ_id);
			*pp = x->next;
			destroy_circuit(c, x->worker, &x->circuit, DESTROY_REASON_CHANNEL_CLOSED);
			free(x);
			c->stats.extend_failures++;
		} else {
			pp = &x->next;
		}
	}
	/* Circuits of other workers with their n side there close too. */
	for (unsigned w = 0; w < c->cfg.n_workers; w++) {
		if (w != cl->worker && (cl->remote_users & (1u << w)))
			send_msg(c, w, RELAY_MSG_LINK_GONE, cl->id, 0, NULL);
	}
	link_forget(c, cl);
}

/* ------------------------------------------------------------------ */
/* Directory                                                           */

/* Opens a raw stream to authority a's DirPort for one request: the
 * descriptor upload (body) or a GET. */
static struct dir_fetch *
dir_start(struct relay_control *c, unsigned a, enum dir_request_kind kind, const uint8_t *body,
		size_t body_len, const char *url, time_t now)
{
	struct control_link *cl = calloc(1, sizeof(*cl));
	char host[32], address[INET_ADDRSTRLEN];
	size_t cap = body_len + 1024;
	ssize_t n;

	if (cl == NULL)
		return NULL;
	if (url != NULL)
		cap += strlen(url);
	cl->dir = calloc(1, sizeof(*cl->dir));
	if (cl->dir == NULL || (cl->dir->request = malloc(cap)) == NULL) {
		link_forget(c, cl);
		return NULL;
	}
	snprintf(host, sizeof(host), "%s:%u", ip_string(c->cfg.authorities[a].address, address),
			c->cfg.authorities[a].dir_port);
	if (kind == DIR_UPLOAD)
		n = dir_http_upload_request(host, c->next_upload == 0 ? "hsrelay just started"
				: "periodic republication", body, body_len, cl->dir->request, cap);
	else
		n = dir_http_get_request(host, url != NULL ? url : kind == DIR_CERTS ?
				"/tor/keys/all" : "/tor/status-vote/current/consensus-microdesc",
				cl->dir->request, cap);
	if (n < 0) {
		link_forget(c, cl);
		return NULL;
	}
	cl->dir->kind = kind;
	cl->dir->request_len = (size_t)n;
	cl->dir->authority = a;
	cl->dir->started = now;
	cl->worker = 0;
	cl->state = CONTROL_LINK_CONNECTING;
	cl->request = (++c->next_request & ~RELAY_CONNECT_RAW) | RELAY_CONNECT_RAW;
	cl->peer_ip = c->cfg.authorities[a].address;
	cl->peer_port = c->cfg.authorities[a].dir_port;
	cl->next = c->connecting;
	c->connecting = cl;
	send_msg(c, 0, RELAY_MSG_LINK_CONNECT, cl->request,
			(uint64_t)cl->peer_ip << 16 | cl->peer_port, NULL);
	return cl->dir;
}

/* Asks the authorities, round robin, for the microdescriptors the kept
 * consensus lists and the store lacks: up to MICRODESC_FETCHES_PARALLEL
 * requests of MICRODESC_STORE_BATCH digests. A new round starts once
 * these are done: at once if more were missing, else after
 * MICRODESC_RETRY_INTERVAL if some are still missing then. */
static void
microdescs_fetch(struct relay_control *c, time_t now)
{
	uint8_t (*missing)[MICRODESC_DIGEST_LEN];
	size_t max = MICRODESC_FETCHES_PARALLEL * MICRODESC_STORE_BATCH, n, done = 0;

	c->next_microdesc_fetch = 0;
	missing = malloc((max + 1) * sizeof(*missing));
	if (missing == NULL)
		return;
	n = microdesc_store_missing(c->microdescs, c->consensus, missing, max + 1);
	while (done < n && done < max) {
		size_t batch = RTE_MIN(n - done, (size_t)MICRODESC_STORE_BATCH);
		char url[MICRODESC_STORE_URL_MAX];
		struct dir_fetch *d;

		if (microdesc_store_url((const uint8_t (*)[MICRODESC_DIGEST_LEN])missing + done,
				batch, url, sizeof(url)) < 0)
			break;
		d = dir_start(c, c->next_authority++ % c->cfg.n_authorities, DIR_MICRODESCS, NULL,
				0, url, now);
		if (d == NULL)
			break;
		d->wanted = malloc(batch * sizeof(*d->wanted));
		if (d->wanted != NULL) {
			memcpy(d->wanted, missing + done, batch * sizeof(*d->wanted));
			d->n_wanted = batch;
		}
		c->microdesc_fetches++;
		c->stats.microdesc_requests++;
		done += batch;
	}
	if (n > 0)
		c->next_microdesc_fetch = n > max ? now : now + MICRODESC_RETRY_INTERVAL;
	free(missing);
}

/* ------------------------------------------------------------------ */
/* Accounting and hibernation (tor hibernate.c)                        */

/* The most DataDirectory/state may hold: tor's state file has a few
 * dozen lines; hsrelay writes only the Accounting* ones. */
#define STATE_FILE_MAX 65536

/* tor or_state_save(): the whole file replaced through a temporary one,
 * mode 0600 like the rest of the DataDirectory. */
static void
accounting_save(struct relay_control *c, time_t now)
{
	struct accounting_saved saved;
	char text[1024], tmp[PATH_MAX + 8];
	int len, fd;
	bool ok;

	if (c->state_file[0] == '\0')
		return;
	accounting_saved_get(&c->accounting, &saved);
	len = accounting_state_format(&saved, now, text, sizeof(text));
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->state_file);
	fd = len < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, text, (size_t)len) == len && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (ok && rename(tmp, c->state_file) == 0)
		return;
	c->stats.state_file_errors++;
	relay_log("warn", "Couldn't record bandwidth usage to disk: %s: %s", c->state_file,
			len < 0 ? "too long" : strerror(errno));
}

/* tor read_bandwidth_usage(): what the last run kept, or nothing (a
 * missing file is a first start; a malformed one is reported and
 * ignored, as tor starts afresh from a state file it cannot parse). */
static bool
accounting_read_state(struct relay_control *c, struct accounting_saved *saved)
{
	static char text[STATE_FILE_MAX];
	unsigned bad_line = 0;
	size_t len = 0;
	ssize_t n;
	int fd;

	if (c->state_file[0] == '\0')
		return false;
	fd = open(c->state_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) {
			c->stats.state_file_errors++;
			relay_log("warn", "cannot read %s: %s", c->state_file, strerror(errno));
		}
		return false;
	}
	while (len < sizeof(text) && (n = read(fd, text + len, sizeof(text) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len == sizeof(text) || accounting_state_parse(text, len, saved, &bad_line) < 0) {
		c->stats.state_file_errors++;
		relay_log("warn", "%s: %s; accounting starts a new interval", c->state_file,
				len == sizeof(text) ? "too long" : "malformed Accounting* value");
		if (bad_line > 0)
			relay_log("warn", "%s:%u: the malformed line", c->state_file, bad_line);
		return false;
	}
	return saved->interval_start != 0;
}

static void
listen_all(struct relay_control *c, bool on)
{
	for (unsigned w = 0; w < c->cfg.n_workers; w++)
		send_msg(c, w, RELAY_MSG_LISTEN, 0, on ? 1 : 0, NULL);
}

/* tor hibernate_go_dormant(): every OR link goes (circuits with them);
 * the raw directory links stay, so that descriptors are still uploaded
 * and the consensus fetched. */
static void
close_or_links(struct relay_control *c)
{
	for (unsigned w = 0; w < c->cfg.n_workers; w++) {
		for (uint32_t s = 0; s < LINK_SLOTS; s++) {
			struct control_link *cl = c->slots[w][s];

			if (cl != NULL && cl->state != CONTROL_LINK_RAW)
				link_close(c, cl, "hibernating (AccountingMax reached)");
		}
	}
}

static void
accounting_act(struct relay_control *c, enum accounting_action action, time_t now)
{
	char when[32];
	struct tm tm;

	switch (action) {
	case ACCOUNTING_NONE:
		return;
	case ACCOUNTING_GO_SOFT:
		relay_log("notice", "Bandwidth soft limit reached; commencing hibernation. "
				"No new connections will be accepted");
		listen_all(c, false);
		break;
	case ACCOUNTING_GO_HARD:
		gmtime_r(&c->accounting.hibernate_end, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		relay_log("notice", "Going dormant until %s UTC. Blowing away remaining "
				"connections.", when);
		listen_all(c, false);
		close_or_links(c);
		break;
	case ACCOUNTING_WAKE:
		relay_log("notice", "Hibernation period ended. Resuming normal activity.");
		listen_all(c, true);
		/* tor hibernate_end(): reset_uptime() */
		c->started = now;
		break;
	}
	/* tor check_descriptor_bandwidth_changed(): the observed bandwidth
	 * went to or from 0 (hibernating), so the descriptor is dirty; it
	 * also says "hibernating 1" now, or no longer. */
	if (c->cfg.publish)
		c->next_upload = now;
}

/* tor configure_accounting() at start and on SIGHUP. */
static void
accounting_setup(struct relay_control *c, time_t now)
{
	struct accounting_config cfg = {
		.max = c->cfg.accounting_max,
		.rule = c->cfg.accounting_rule,
		.start = c->cfg.accounting_start,
		.rate = c->cfg.relay_bandwidth_rate > 0 ? c->cfg.relay_bandwidth_rate :
				c->cfg.bandwidth_rate,
	};
	struct accounting_saved saved;
	bool was_on = c->accounting_on;

	if (cfg.max == 0) {
		/* tor consider_hibernation() with accounting off: wake up. */
		if (hibernating(c)) {
			c->accounting.state = HIBERNATE_AWAKE;
			accounting_act(c, ACCOUNTING_WAKE, now);
		}
		c->accounting_on = false;
		return;
	}
	memset(&saved, 0, sizeof(saved));
	accounting_configure(&c->accounting, &cfg, relay_keys_fingerprint(c->cfg.keys),
			!was_on && accounting_read_state(c, &saved) ? &saved : NULL, now);
	c->accounting_on = true;
	/* tor consider_hibernation() right after configuring: a relay that
	 * restarts over its limit, or before its wake-up time, hibernates
	 * from the start. */
	accounting_act(c, accounting_tick(&c->accounting, now), now);
	if (!was_on) {
		c->accounting_last = now;
		c->accounting_read_seen = 0;
		c->accounting_written_seen = 0;
		for (unsigned w = 0; w < c->cfg.n_workers; w++) {
			c->accounting_read_seen += c->stats_reported[w].tcp.bytes_in;
			c->accounting_written_seen += c->stats_reported[w].tcp.bytes_out;
		}
	}
}

/* Once a second (tor accounting_add_bytes() from the connections,
 * consider_hibernation() and accounting_run_housekeeping()): the TCP
 * payload every link and directory fetch read and wrote since the last
 * second, as tor counts every connection's bytes. */
static void
accounting_poll(struct relay_control *c, time_t now, uint64_t read, uint64_t written)
{
	uint64_t dr = read >= c->accounting_read_seen ? read - c->accounting_read_seen : 0;
	uint64_t dw = written >= c->accounting_written_seen ?
			written - c->accounting_written_seen : 0;

	if (!c->accounting_on)
		return;
	c->accounting_read_seen = read;
	c->accounting_written_seen = written;
	accounting_add_bytes(&c->accounting, dr, dw,
			now > c->accounting_last ? (uint32_t)(now - c->accounting_last) : 0);
	c->accounting_last = now;
	accounting_act(c, accounting_tick(&c->accounting, now), now);
	if (accounting_should_save(&c->accounting, now))
		accounting_save(c, now);
}

static time_t
bandwidth_min_observation(const struct relay_control *c)
{
	return c->cfg.testing_tor_network ? 0 : BANDWIDTH_MIN_OBSERVATION;
}

/* tor's bwhist: the bytes the links' TCP read and wrote (the workers' last
 * reported totals, asked for every second), noted once a second; then
 * tor's check of the descriptor's bandwidth-observed. */
/* tor relay.c cell_queues_check_size(): the OOM handler's circuit kills
 * are a general overload; the workers count theirs (closed_oom). */
static void
overload_poll(struct relay_control *c, time_t now)
{
	uint64_t oom = 0;

	for (unsigned w = 0; w < c->cfg.n_workers; w++)
		oom += c->stats_reported[w].closed_oom;
	if (oom > c->overload_oom_seen)
		note_overload(c, "circuits closed for want of queue memory", now);
	c->overload_oom_seen = oom;
}

static void
bandwidth_poll(struct relay_control *c, time_t now)
{
	uint64_t read = 0, written = 0, prev, cur;

	if (now == c->bw_last_second)
		return;
	c->bw_last_second = now;
	for (unsigned w = 0; w < c->cfg.n_workers; w++) {
		read += c->stats_reported[w].tcp.bytes_in;
		written += c->stats_reported[w].tcp.bytes_out;
	}
	bw_history_note_totals(&c->bw, now, read, written);
	accounting_poll(c, now, read, written);
	if (now < c->next_bw_check || !c->descriptor_built)
		return;
	c->next_bw_check = now + BANDWIDTH_CHECK_INTERVAL;
	prev = c->observed_bw;
	/* tor: a hibernating relay's bandwidth is 0. */
	cur = hibernating(c) ? 0 : bw_history_assess(&c->bw, now, bandwidth_min_observation(c));
	if (!((prev != cur && (prev == 0 || cur == 0)) || cur > prev * BANDWIDTH_CHANGE_FACTOR ||
			cur < prev / BANDWIDTH_CHANGE_FACTOR))
		return;
	if (c->last_bw_change != 0 && now < c->last_bw_change + BANDWIDTH_CHANGE_MIN_INTERVAL)
		return;
	c->last_bw_change = now;
	if (c->cfg.publish) {
		relay_log("notice", "observed bandwidth %" PRIu64 " -> %" PRIu64 " bytes/s; "
				"uploading the descriptor", prev, cur);
		c->next_upload = now;
	}
}

/* Takes MyFamily's items; warns about new ones given by nickname, as tor
 * does once per name (router.c get_my_declared_family(): nicknames are not
 * unique). */
static void
set_family(struct relay_control *c, const char (*family)[RELAY_FAMILY_ITEM_MAX + 1], unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool known = false;

		for (unsigned k = 0; k < c->cfg.n_family && !known; k++)
			known = strcmp(c->family[k], family[i]) == 0;
		if (!known && relay_family_item_is_nickname(family[i]) &&
				strcasecmp(family[i], c->nickname) != 0)
			relay_log("warn", "MyFamily names the relay \"%s\" by nickname; the "
					"descriptor lists the identity of the first router "
					"of the consensus with that nickname, or the "
					"nickname if none has it. Please list it by "
					"identity ($ and 40 hex digits) instead.", family[i]);
	}
	if (n > 0)
		memcpy(c->family, family, n * sizeof(c->family[0]));
	c->cfg.family = (const char (*)[RELAY_FAMILY_ITEM_MAX + 1])c->family;
	c->cfg.n_family = n;
}

/* tor's node_get_by_nickname() for MyFamily: the first router of the kept
 * consensus with that nickname (tor takes the first of its node list). */
static bool
family_lookup(void *arg, const char *nickname, uint8_t identity[20])
{
	const struct relay_control *c = arg;
	size_t n = c->consensus != NULL ? consensus_n_routers(c->consensus) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct consensus_router *r = consensus_router_at(c->consensus, i);

		if (strcasecmp(r->nickname, nickname) == 0) {
			memcpy(identity, r->identity, 20);
			return true;
		}
	}
	return false;
}

/* Our family line's members from MyFamily and the kept consensus into
 * c->family_members; returns their number (0: no line), or a negative
 * errno (relay_family_declared()). */
static int
build_family(struct relay_control *c)
{
	const char *items[RELAY_FAMILY_MAX];

	for (unsigned i = 0; i < c->cfg.n_family; i++)
		items[i] = c->cfg.family[i];
	return relay_family_declared(items, c->cfg.n_family, c->cfg.nickname,
			relay_keys_fingerprint(c->cfg.keys), family_lookup, c, c->family_members,
			RTE_DIM(c->family_members));
}

/* A new consensus may resolve a MyFamily nickname differently (or at all:
 * the first upload comes before any consensus): upload again when the
 * family line would change, as tor rebuilds a descriptor whose contents
 * changed. */
static void
family_recheck(struct relay_control *c, time_t now)
{
	char before[RELAY_FAMILY_MAX + 1][RELAY_FAMILY_MEMBER_MAX + 1];
	int n_before = c->n_family_members, n;
	bool nicknames = false;

	for (unsigned i = 0; i < c->cfg.n_family; i++)
		nicknames |= relay_family_item_is_nickname(c->cfg.family[i]);
	if (!nicknames || !c->descriptor_built || n_before < 0)
		return;
	memcpy(before, c->family_members, (size_t)n_before * sizeof(before[0]));
	n = build_family(c);
	if (n == n_before && memcmp(before, c->family_members,
			(size_t)n * sizeof(before[0])) == 0)
		return;
	if (c->cfg.publish) {
		relay_log("notice", "the consensus changes our family line; uploading the "
				"descriptor");
		c->next_upload = now;
	}
}

static void
upload_descriptor(struct relay_control *c, time_t now)
{
	static char text[DESCRIPTOR_MAX_LEN + 1];
	const char *family[RELAY_FAMILY_MAX + 1];
	struct descriptor_params d;
	char address[INET_ADDRSTRLEN], platform[64];
	char overload_line[OVERLOAD_GENERAL_LINE_MAX];
	int n_family;
	ssize_t len;

	n_family = build_family(c);
	c->n_family_members = n_family;
	if (n_family < 0) {
		relay_log("warn", "cannot build the family line: error %d", n_family);
		return;
	}
	c->descriptor_built = true;
	for (int i = 0; i < n_family; i++)
		family[i] = c->family_members[i];

	memset(&d, 0, sizeof(d));
	d.nickname = c->cfg.nickname;
	d.address = ip_string(c->cfg.address, address);
	d.or_port = c->cfg.or_port;
	snprintf(platform, sizeof(platform), "hsrelay 0.1.0 on Linux");
	d.platform = platform;
	d.contact = c->cfg.contact;
	d.family = family;
	d.n_family = (size_t)n_family;
	d.family_keys = c->cfg.family_keys;
	d.n_family_keys = c->cfg.n_family_keys;
	d.bandwidth_rate = c->cfg.advertised_rate;
	d.bandwidth_burst = c->cfg.advertised_burst;
	/* tor router_build_fresh_unsigned_routerinfo(): bandwidthcapacity
	 * is 0 while hibernating, and the descriptor says so. */
	c->observed_bw = hibernating(c) ? 0 :
			bw_history_assess(&c->bw, now, bandwidth_min_observation(c));
	d.bandwidth_observed = c->observed_bw;
	d.hibernating = hibernating(c);
	d.no_tunnelled_dir_server = c->accounting_on &&
			!accounting_allows_dir_service(&c->accounting, c->cfg.advertised_rate);
	overload_general_line(&c->overload, now, overload_line);
	d.overload_general = overload_line;
	d.uptime = (uint64_t)(now - c->started);
	d.published = now;
	/* A directory cache over BEGIN_DIR (dir-spec 2.1.1
	 * "tunnelled-dir-server", tor-spec "DirCache=2"): the consensus,
	 * the authority certificates and the microdescriptors it lists
	 * (microdesc_store.h), so the authorities vote us V2Dir and clients
	 * may fetch from us; and an introduction point (intro_point.h,
	 * HSIntro=4-5: ESTABLISH_INTRO with the DoS extension). */
	d.roles = DESCRIPTOR_ROLES_OFFERED;
	len = descriptor_build(&d, c->cfg.keys, text, sizeof(text), NULL);
	if (len < 0) {
		relay_log("warn", "cannot build the descriptor: error %zd", len);
		return;
	}
	for (unsigned a = 0; a < c->cfg.n_authorities; a++)
		dir_start(c, a, DIR_UPLOAD, (const uint8_t *)text, (size_t)len, NULL, now);
}

/* ------------------------------------------------------------------ */
/* Keys and certificates on tor's schedule                             */

static int make_link_credentials(struct relay_control *c, time_t now);

static void
load_circuit_keys(struct relay_control *c)
{
	struct ntor_server_keys ntor;

	relay_keys_ntor_server_keys(c->cfg.keys, &ntor);
	memcpy(c->circuit_keys.rsa_id, ntor.node_id, sizeof(c->circuit_keys.rsa_id));
	memcpy(c->circuit_keys.ed25519_id, relay_keys_master(c->cfg.keys)->public_key,
			sizeof(c->circuit_keys.ed25519_id));
	memcpy(c->circuit_keys.onion_keys, ntor.onion_keys, sizeof(ntor.onion_keys));
	c->circuit_keys.onion_key_count = ntor.onion_key_count;
	/* prop 324: congestion control on (consensus cc_alg 2) with tor's
	 * default cc_sendme_inc. */
	c->circuit_keys.cc.enabled = true;
	c->circuit_keys.cc.sendme_inc = 31;
	OPENSSL_cleanse(&ntor, sizeof(ntor));
}

/* Replaces the TLS link key and certificate (tor: every two hours) and the
 * certificates of the link handshake that name it. Links under way keep
 * what they started with. */
static int
rotate_tls(struct relay_control *c, time_t now)
{
	struct tls_link_credentials *creds = NULL;
	struct tls_handshake_context *server = NULL;
	struct link_credentials *old_link = c->link_credentials;
	int rc;

	rc = tls_link_credentials_create(relay_keys_identity(c->cfg.keys), 0, now, &creds);
	if (rc == 0)
		rc = tls_handshake_context_create(TLS_ROLE_SERVER, creds, &server);
	if (rc < 0) {
		tls_link_credentials_free(creds);
		return rc;
	}
	tls_handshake_context_free(c->tls_server);
	tls_link_credentials_free(c->tls_credentials);
	c->tls_server = server;
	c->tls_credentials = creds;
	c->link_credentials = NULL;
	rc = make_link_credentials(c, now);
	if (rc < 0) {
		c->link_credentials = old_link;
		return rc;
	}
	link_credentials_free(old_link);
	c->last_tls_rotation = now;
	c->stats.tls_rotations++;
	return 0;
}

static void
maintenance(struct relay_control *c, time_t now)
{
	struct relay_keys_error err;
	int rc;

	/* hs_cache_clean_as_dir: descriptors past their lifetime. */
	if (c->hsdir != NULL) {
		size_t expired = hsdir_store_clean(c->hsdir, now);

		if (expired > 0)
			relay_log("info", "hsdir: %zu expired descriptors removed", expired);
	}

	/* relay_keys owns the onion and signing keys on tor's schedule; the
	 * keys object is the control thread's (cfg.keys is const only to
	 * the rest of this file). */
	rc = relay_keys_rotate_if_due((struct relay_keys *)(uintptr_t)c->cfg.keys, now, &err);
	if (rc < 0) {
		relay_log("warn", "key rotation failed: %s: %s", err.path, err.message);
	} else if (rc == 1) {
		relay_log("notice", "keys rotated; republishing the descriptor");
		load_circuit_keys(c);
		link_credentials_free(c->link_credentials);
		c->link_credentials = NULL;
		if (make_link_credentials(c, now) < 0)
			relay_log("warn", "link certificates after key rotation failed");
		c->next_upload = now;
		c->stats.key_rotations++;
	}
	if (now - c->last_tls_rotation >= TLS_LINK_KEY_ROTATION_INTERVAL) {
		rc = rotate_tls(c, now);
		if (rc < 0)
			relay_log("warn", "TLS link key rotation failed (error %d)", rc);
	} else if (c->link_credentials != NULL &&
		   link_credentials_refresh(c->link_credentials, now) < 0) {
		relay_log("warn", "link certificate refresh failed");
	}
}

void
relay_control_request_stats(struct relay_control *c)
{
	for (unsigned w = 0; w < c->cfg.n_workers; w++) {
		if (c->stats_outstanding[w])
			continue;
		c->stats_outstanding[w] = true;
		{
			struct ring_msg msg = { .type = RELAY_MSG_STATS, .worker = (uint16_t)w,
					.ptr = &c->stats_pending[w] };

			if (ring_msg_send(c->cfg.worker_rings[w], &msg) < 0)
				c->stats_outstanding[w] = false;
		}
	}
}

const struct consensus *
relay_control_consensus(const struct relay_control *c)
{
	return c->consensus;
}

const struct relay_worker_stats *
relay_control_worker_stats(const struct relay_control *c)
{
	return c->stats_reported;
}

/* ------------------------------------------------------------------ */
/* Rendezvous point (control/rendezvous.h; the splice is the workers')   */

/* ESTABLISH_RENDEZVOUS or RENDEZVOUS1 recognized at this hop. */
static void
rendezvous_cell(struct relay_control *c, unsigned worker, const struct relay_circuit_local *local,
		time_t now)
{
	const uint8_t *payload = local->payload;
	uint16_t len = wire_read_u16(payload + RELAY_OFFSET_LENGTH);
	struct rendezvous_circuit circ = {
		.worker = worker, .handle = local->circuit.handle,
		.p_link = local->circuit.p_link, .p_circ_id = local->circuit.p_circ_id,
	};
	struct control_link *cl = link_find(c, local->circuit.p_link);
	struct rendezvous_circuit_state st = {
		/* Streams, or tor's purpose INTRO_POINT: not a plain OR circuit. */
		.busy = stream_circuit_find(c, worker, &local->circuit) != NULL ||
			intro_point_is_intro_circuit(c->intro, &(struct intro_circuit){
				.worker = worker, .handle = local->circuit.handle,
				.p_link = local->circuit.p_link,
				.p_circ_id = local->circuit.p_circ_id,
			}),
		.previous_hop_is_client = cl != NULL && !cl->initiator && !cl->peer_rsa_known,
	};
	struct rendezvous_result r;

	if (len > RELAY_DATA_MAX)
		len = RELAY_DATA_MAX;
	if (payload[RELAY_OFFSET_COMMAND] == RELAY_COMMAND_ESTABLISH_RENDEZVOUS)
		r = rendezvous_establish(c->rendezvous, &circ, &st, payload + RELAY_HEADER_LEN, len,
				now);
	else
		r = rendezvous_rendezvous1(c->rendezvous, &circ, &st, payload + RELAY_HEADER_LEN,
				len);
	c->stats.rendezvous = *rendezvous_counters(c->rendezvous);
	switch (r.verdict) {
	case RENDEZVOUS_REPLY: {
		struct relay_circuit_relay reply;

		memset(&reply, 0, sizeof(reply));
		reply.circuit = local->circuit;
		reply.relay_command = RELAY_COMMAND_RENDEZVOUS_ESTABLISHED;
		send_struct(c, worker, RELAY_MSG_CIRCUIT_ORIGINATE, 0, &reply, sizeof(reply));
		/* The worker reports the circuit's close (EV_CIRCUIT_CLOSED,
		 * at once when it is gone already): its cookie goes then,
		 * not when its link closes. */
		send_msg(c, worker, RELAY_MSG_CIRCUIT_WATCH, local->circuit.handle,
				(uint64_t)local->circuit.p_link << 32 | local->circuit.p_circ_id,
				NULL);
		return;
	}
	case RENDEZVOUS_JOIN: {
		struct relay_circuit_splice s;

		memset(&s, 0, sizeof(s));
		s.circuit.handle = r.waiting.handle;
		s.circuit.p_link = r.waiting.p_link;
		s.circuit.p_circ_id = r.waiting.p_circ_id;
		s.partner = local->circuit;
		s.length = (uint16_t)r.handshake_info_len;
		memcpy(s.rendezvous2, r.handshake_info, r.handshake_info_len);
		send_struct(c, r.waiting.worker, RELAY_MSG_CIRCUIT_SPLICE, 0, &s, sizeof(s));
		return;
	}
	case RENDEZVOUS_CLOSE:
		destroy_circuit(c, worker, &local->circuit, r.destroy_reason);
		return;
	case RENDEZVOUS_IGNORE:
		return;
	}
}

/* Waiting circuits from clients that stayed idle close (rendezvous.h). */
static void
rendezvous_poll(struct relay_control *c, time_t now)
{
	struct rendezvous_circuit expired[16];
	size_t n;

	if (now < c->next_rendezvous_expiry)
		return;
	c->next_rendezvous_expiry = now + 1;
	while ((n = rendezvous_expire(c->rendezvous, now, expired, RTE_DIM(expired))) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct relay_circuit_ref ref = {
				.handle = expired[i].handle, .p_link = expired[i].p_link,
				.p_circ_id = expired[i].p_circ_id,
			};

			destroy_circuit(c, expired[i].worker, &ref, DESTROY_REASON_FINISHED);
		}
		c->stats.rendezvous = *rendezvous_counters(c->rendezvous);
	}
}

/* ------------------------------------------------------------------ */

unsigned
relay_control_poll(struct relay_control *c, time_t now)
{
	unsigned work = 0;

	for (unsigned w = 0; w < c->cfg.n_workers; w++) {
		struct ring_msg ev[EVENT_BURST];
		unsigned n = ring_msg_recv_burst(c->cfg.event_rings[w], ev, EVENT_BURST);

		work += n;
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *m = ev[i].ptr;
			struct control_link *cl;

			switch (ev[i].type) {
			case RELAY_EV_LINK_NEW:
				on_link_new(c, w, ev[i].u32, ev[i].u64, now);
				break;
			case RELAY_EV_LINK_CONNECTED:
				on_link_connected(c, w, ev[i].u32, (uint32_t)ev[i].u64);
				break;
			case RELAY_EV_LINK_BYTES:
				cl = link_find(c, ev[i].u32);
				if (cl != NULL)
					on_link_bytes(c, cl, m, now);
				else
					rte_pktmbuf_free(m);
				break;
			case RELAY_EV_LINK_CELL:
				cl = link_find(c, ev[i].u32);
				if (cl != NULL)
					on_link_cell(c, cl, w, ev[i].u64, m, now);
				else
					rte_pktmbuf_free(m);
				break;
			case RELAY_EV_CIRCUIT_RELAY: {
				struct relay_circuit_local local;

				if (rte_pktmbuf_pkt_len(m) == sizeof(local)) {
					rte_memcpy(&local, rte_pktmbuf_read(m, 0, sizeof(local), &local),
							sizeof(local));
					if (local.payload[RELAY_OFFSET_COMMAND] == RELAY_COMMAND_EXTEND2)
						handle_extend2(c, w, &local);
					else if (is_stream_command(local.payload[RELAY_OFFSET_COMMAND]))
						stream_cell(c, w, &local, now);
					else if (local.payload[RELAY_OFFSET_COMMAND] ==
							 RELAY_COMMAND_ESTABLISH_RENDEZVOUS ||
						 local.payload[RELAY_OFFSET_COMMAND] ==
							 RELAY_COMMAND_RENDEZVOUS1)
						rendezvous_cell(c, w, &local, now);
					else if (local.payload[RELAY_OFFSET_COMMAND] == RELAY_COMMAND_DROP)
						c->stats.drop_cells++;
					else if (is_intro_command(local.payload[RELAY_OFFSET_COMMAND]))
						intro_cell(c, w, &local);
					else
						c->stats.relay_cells_ignored++;
				}
				rte_pktmbuf_free(m);
				break;
			}
			case RELAY_EV_LINK_CLOSED:
				on_link_closed(c, ev[i].u32, ev[i].u64);
				break;
			case RELAY_EV_CIRCUIT_SENT_DIGEST: {
				struct relay_circuit_sent_digest sent;

				if (rte_pktmbuf_pkt_len(m) == sizeof(sent)) {
					rte_memcpy(&sent, rte_pktmbuf_read(m, 0, sizeof(sent), &sent),
							sizeof(sent));
					stream_sent_digest(c, w, &sent);
				}
				rte_pktmbuf_free(m);
				break;
			}
			case RELAY_EV_CIRCUIT_CLOSED: {
				struct intro_circuit ic = {
					.worker = w, .handle = ev[i].u32,
					.p_link = (uint32_t)(ev[i].u64 >> 32), .p_circ_id = (uint32_t)ev[i].u64,
				};

				intro_point_circuit_closed(c->intro, &ic);
				if (rendezvous_circuit_closed(c->rendezvous,
						&(struct rendezvous_circuit){
							.worker = w, .handle = ic.handle,
							.p_link = ic.p_link, .p_circ_id = ic.p_circ_id,
						}))
					c->stats.rendezvous = *rendezvous_counters(c->rendezvous);
				break;
			}
			case RELAY_EV_CIRCUIT_ORIGINATED:
				/* The worker's word on an INTRODUCE2: the
				 * client's INTRODUCE_ACK goes now. */
				intro_point_introduce2_sent(c->intro, ev[i].u32, ev[i].u64 != 0);
				break;
			case RELAY_EV_CROSS_LOST: {
				/* A cell between workers was lost: the worker
				 * named closes its side of that circuit. */
				unsigned target = (unsigned)(ev[i].u64 >> 32);

				c->stats.cross_lost++;
				if (target < c->cfg.n_workers)
					send_msg(c, target, RELAY_MSG_CIRCUIT_CLOSE_SIDE, ev[i].u32,
							(uint64_t)DESTROY_REASON_RESOURCELIMIT << 32 |
							(uint32_t)ev[i].u64, NULL);
				break;
			}
			case RELAY_EV_CIRCUIT_MAX_OUTQ:
				/* tor dos.c dos_note_circ_max_outq(): counted
				 * against a client link's address; the third
				 * marks it (docs/dos.md). */
				cl = link_find(c, ev[i].u32);
				if (cl != NULL && dos_guard_circuit_max_outq(c->dos, cl->peer_ip,
						!cl->peer_rsa_known, now)) {
					char ip[INET_ADDRSTRLEN];

					relay_log("notice", "DoS: %s marked: %u circuits closed "
							"for a full outbound queue",
							ip_string(cl->peer_ip, ip),
							dos_guard_get_params(c->dos)->cc_num_circ_max_outq);
				}
				break;
			case RELAY_EV_STATS_DONE:
				if (c->stats_outstanding[w]) {
					c->stats_reported[w] = c->stats_pending[w];
					c->stats_outstanding[w] = false;
				}
				break;
			default:
				if (m != NULL)
					rte_pktmbuf_free(m);
				break;
			}
		}
	}
	stream_circuits_poll(c, now);
	rendezvous_poll(c, now);
	bandwidth_poll(c, now);
	overload_poll(c, now);
	if (intro_point_stats(c->intro)->acks_pending > 0) {
		/* INTRODUCE_ACKs whose worker answer was lost (intro_point.h);
		 * the same monotonic seconds as intro_cell(). */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		intro_point_poll(c->intro, (uint32_t)ts.tv_sec);
	}
	if (now >= c->next_maintenance) {
		maintenance(c, now);
		c->next_maintenance = now + MAINTENANCE_INTERVAL;
	}
	if (c->cfg.n_authorities > 0 && now >= c->next_certs) {
		dir_start(c, c->next_authority++ % c->cfg.n_authorities, DIR_CERTS, NULL, 0, NULL,
				now);
		c->next_certs = now + CERTS_INTERVAL;
		/* The consensus needs the certificates: fetch it right after. */
		if (c->next_consensus < now + 2)
			c->next_consensus = now + 2;
		work++;
	}
	if (c->cfg.n_authorities > 0 && now >= c->next_consensus) {
		dir_start(c, c->next_authority++ % c->cfg.n_authorities, DIR_CONSENSUS, NULL, 0,
				NULL, now);
		c->next_consensus = now + (c->cfg.consensus_interval != 0 ? c->cfg.consensus_interval
									 : CONSENSUS_INTERVAL_DEFAULT);
		work++;
	}
	if (c->cfg.n_authorities > 0 && c->consensus != NULL && c->microdescs != NULL &&
	    c->next_microdesc_fetch != 0 && now >= c->next_microdesc_fetch &&
	    c->microdesc_fetches == 0) {
		microdescs_fetch(c, now);
		work++;
	}
	if (c->cfg.publish && c->cfg.n_authorities > 0 && now >= c->next_upload) {
		upload_descriptor(c, now);
		c->next_upload = now + (c->cfg.upload_interval != 0 ? c->cfg.upload_interval
								    : UPLOAD_INTERVAL_DEFAULT);
		work++;
	}
	return work;
}

/* ------------------------------------------------------------------ */

static int
make_link_credentials(struct relay_control *c, time_t now)
{
	uint8_t crosscert[512];
	struct link_credentials_params p;
	const uint8_t *link_der, *id_der, *signing_cert;
	size_t link_len, id_len, signing_len;
	ssize_t cross_len;

	cross_len = rsa_ed25519_crosscert_create(relay_keys_master(c->cfg.keys)->public_key,
			torcert_hours_from_time(now + RSA_CROSSCERT_LIFETIME),
			relay_keys_identity(c->cfg.keys), crosscert, sizeof(crosscert));
	if (cross_len < 0)
		return (int)cross_len;
	link_der = tls_link_credentials_link_cert(c->tls_credentials, &link_len);
	id_der = tls_link_credentials_identity_cert(c->tls_credentials, &id_len);
	signing_cert = relay_keys_signing_cert(c->cfg.keys, &signing_len);
	memset(&p, 0, sizeof(p));
	p.rsa_identity = relay_keys_identity(c->cfg.keys);
	p.ed25519_identity = relay_keys_master(c->cfg.keys)->public_key;
	p.ed25519_signing = relay_keys_signing(c->cfg.keys);
	p.signing_cert = signing_cert;
	p.signing_cert_len = signing_len;
	p.rsa_crosscert = crosscert;
	p.rsa_crosscert_len = (size_t)cross_len;
	p.identity_x509 = id_der;
	p.identity_x509_len = id_len;
	p.link_x509 = link_der;
	p.link_x509_len = link_len;
	return link_credentials_new(&p, now, &c->link_credentials);
}

struct relay_control *
relay_control_create(const struct relay_control_config *cfg, time_t now, int *error,
		char *errbuf, size_t errbuf_len)
{
	struct relay_control *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		*error = -ENOMEM;
		snprintf(errbuf, errbuf_len, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	if (cfg->nickname == NULL || strlen(cfg->nickname) > RELAY_CONTROL_NICKNAME_MAX ||
	    (cfg->contact != NULL && strlen(cfg->contact) > RELAY_CONTROL_CONTACT_MAX) ||
	    cfg->n_family > RELAY_FAMILY_MAX || (cfg->n_family > 0 && cfg->family == NULL) ||
	    cfg->n_family_keys > RELAY_FAMILY_IDS_MAX ||
	    (cfg->n_family_keys > 0 && cfg->family_keys == NULL)) {
		free(c);
		*error = -EINVAL;
		snprintf(errbuf, errbuf_len, "nickname, contact or family too long");
		return NULL;
	}
	strcpy(c->nickname, cfg->nickname);
	c->cfg.nickname = c->nickname;
	c->cfg.n_family = 0;	/* none yet: set_family() warns about each */
	set_family(c, cfg->family, cfg->n_family);
	if (cfg->n_family_keys > 0)
		memcpy(c->family_keys, cfg->family_keys,
				cfg->n_family_keys * sizeof(c->family_keys[0]));
	c->cfg.family_keys = c->family_keys;
	if (cfg->contact != NULL) {
		strcpy(c->contact, cfg->contact);
		c->cfg.contact = c->contact;
	}
	c->started = now;
	bw_history_init(&c->bw, now);
	c->next_bw_check = now + BANDWIDTH_CHECK_INTERVAL;
	c->microdescs = microdesc_store_new();
	c->rendezvous = rendezvous_table_create(NULL);
	c->intro = intro_point_new(&(struct intro_point_config){
		.ops = { .send = intro_send, .close = intro_close, .watch = intro_watch,
			 .send_confirmed = intro_send_confirmed, .intro_gone = intro_gone },
		.ctx = c,
	});
	c->hsdir = hsdir_store_new(cfg->max_hsdir_cache_bytes);
	if (c->microdescs == NULL || c->rendezvous == NULL || c->intro == NULL ||
	    c->hsdir == NULL) {
		rc = -ENOMEM;
		snprintf(errbuf, errbuf_len, "out of memory");
		goto fail;
	}
	c->dos = dos_limits_create(c);
	if (c->dos == NULL) {
		rc = -ENOMEM;
		snprintf(errbuf, errbuf_len, "out of memory");
		goto fail;
	}
	for (unsigned w = 0; w < cfg->n_workers; w++) {
		c->slots[w] = calloc(LINK_SLOTS, sizeof(*c->slots[w]));
		if (c->slots[w] == NULL) {
			rc = -ENOMEM;
			snprintf(errbuf, errbuf_len, "out of memory");
			goto fail;
		}
	}
	rc = tls_link_credentials_create(relay_keys_identity(cfg->keys), 0, now,
			&c->tls_credentials);
	if (rc == 0)
		rc = tls_handshake_context_create(TLS_ROLE_SERVER, c->tls_credentials,
				&c->tls_server);
	if (rc == 0)
		rc = tls_handshake_context_create(TLS_ROLE_CLIENT, NULL, &c->tls_client);
	if (rc < 0) {
		snprintf(errbuf, errbuf_len, "TLS set-up failed (error %d)", rc);
		goto fail;
	}
	rc = make_link_credentials(c, now);
	if (rc < 0) {
		snprintf(errbuf, errbuf_len, "link certificates failed (error %d)", rc);
		goto fail;
	}
	load_circuit_keys(c);
	c->last_tls_rotation = now;
	c->next_maintenance = now + MAINTENANCE_INTERVAL;
	bandwidth_to_workers(c);
	if (cfg->state_file != NULL) {
		if (strlen(cfg->state_file) >= sizeof(c->state_file)) {
			rc = -ENAMETOOLONG;
			snprintf(errbuf, errbuf_len, "state file path too long");
			goto fail;
		}
		strcpy(c->state_file, cfg->state_file);
	}
	c->cfg.state_file = NULL;
	accounting_setup(c, now);
	return c;
fail:
	*error = rc;
	relay_control_destroy(c);
	return NULL;
}

void
relay_control_destroy(struct relay_control *c)
{
	if (c == NULL)
		return;
	/* tor tor_cleanup(): the accounting counts are saved at exit. */
	if (c->accounting_on)
		accounting_save(c, time(NULL));
	for (unsigned w = 0; w < c->cfg.n_workers; w++) {
		if (c->slots[w] == NULL)
			continue;
		for (uint32_t s = 0; s < LINK_SLOTS; s++) {
			if (c->slots[w][s] != NULL) {
				for (unsigned i = 0; i < c->slots[w][s]->nb_waiting; i++)
					free(c->slots[w][s]->waiting_req[i]);
				link_forget(c, c->slots[w][s]);
			}
		}
		free(c->slots[w]);
	}
	while (c->connecting != NULL) {
		struct control_link *cl = c->connecting;

		c->connecting = cl->next;
		for (unsigned i = 0; i < cl->nb_waiting; i++)
			free(cl->waiting_req[i]);
		link_forget(c, cl);
	}
	while (c->extends != NULL) {
		struct extend_request *x = c->extends;

		c->extends = x->next;
		free(x);
	}
	for (size_t i = 0; i < c->n_certs; i++) {
		authority_cert_free(c->certs[i]);
		free(c->cert_text[i]);
	}
	while (c->stream_circuits != NULL)
		stream_circuit_free(c, c->stream_circuits);
	consensus_packed_free(c);
	for (unsigned i = 0; i < CONSENSUS_PAST_MAX; i++) {
		consensus_past_diffs_free(&c->consensus_past[i]);
		free(c->consensus_past[i].text);
	}
	free(c->consensus_text);
	consensus_free(c->consensus);
	microdesc_store_free(c->microdescs);
	rendezvous_table_destroy(c->rendezvous);
	intro_point_free(c->intro);
	hsdir_store_free(c->hsdir);
	dos_guard_destroy(c->dos);
	link_credentials_free(c->link_credentials);
	tls_handshake_context_free(c->tls_server);
	tls_handshake_context_free(c->tls_client);
	tls_link_credentials_free(c->tls_credentials);
	OPENSSL_cleanse(&c->circuit_keys, sizeof(c->circuit_keys));
	OPENSSL_cleanse(c->family_keys, sizeof(c->family_keys));
	free(c);
}

const struct relay_control_stats *
relay_control_stats(const struct relay_control *c)
{
	return &c->stats;
}

const struct intro_point_stats *
relay_control_intro_stats(const struct relay_control *c)
{
	return intro_point_stats(c->intro);
}

const struct hsdir_store *
relay_control_hsdir(const struct relay_control *c)
{
	return c->hsdir;
}

const struct hsdir_ring_indexes *
relay_control_hsdir_ring(const struct relay_control *c, bool *listed)
{
	*listed = c->hsdir_listed;
	return c->hsdir_ring_known ? &c->hsdir_ring : NULL;
}

int
relay_control_reload(struct relay_control *c, const struct relay_control_reload *r, time_t now)
{
	size_t pruned;

	if (r->nickname == NULL || strlen(r->nickname) > RELAY_CONTROL_NICKNAME_MAX ||
	    (r->contact != NULL && strlen(r->contact) > RELAY_CONTROL_CONTACT_MAX) ||
	    r->n_family > RELAY_FAMILY_MAX || (r->n_family > 0 && r->family == NULL))
		return -EINVAL;
	strcpy(c->nickname, r->nickname);
	set_family(c, r->family, r->n_family);
	if (r->contact != NULL) {
		strcpy(c->contact, r->contact);
		c->cfg.contact = c->contact;
	} else {
		c->contact[0] = '\0';
		c->cfg.contact = NULL;
	}
	c->cfg.advertised_rate = r->advertised_rate;
	c->cfg.advertised_burst = r->advertised_burst;
	if (c->cfg.bandwidth_rate != r->bandwidth_rate ||
	    c->cfg.bandwidth_burst != r->bandwidth_burst ||
	    c->cfg.relay_bandwidth_rate != r->relay_bandwidth_rate ||
	    c->cfg.relay_bandwidth_burst != r->relay_bandwidth_burst ||
	    c->cfg.count_private_bandwidth != r->count_private_bandwidth) {
		c->cfg.bandwidth_rate = r->bandwidth_rate;
		c->cfg.bandwidth_burst = r->bandwidth_burst;
		c->cfg.relay_bandwidth_rate = r->relay_bandwidth_rate;
		c->cfg.relay_bandwidth_burst = r->relay_bandwidth_burst;
		c->cfg.count_private_bandwidth = r->count_private_bandwidth;
		bandwidth_to_workers(c);
	}
	/* Turning publishing on publishes now: nothing was uploaded while it
	 * was off (tor router.c: a dirty descriptor is uploaded at once). */
	if (r->publish && !c->cfg.publish)
		c->next_upload = now;
	c->cfg.publish = r->publish;
	if (r->descriptor_dirty && c->cfg.publish)
		c->next_upload = now;
	/* tor options_act_relay_accounting(): configure_accounting() again
	 * (the counts stay). */
	c->cfg.accounting_max = r->accounting_max;
	c->cfg.accounting_rule = r->accounting_rule;
	c->cfg.accounting_start = r->accounting_start;
	accounting_setup(c, now);
	c->cfg.max_hsdir_cache_bytes = r->max_hsdir_cache_bytes;
	pruned = hsdir_store_set_max_bytes(c->hsdir, r->max_hsdir_cache_bytes);
	if (pruned > 0)
		relay_log("notice", "hsdir: %zu bytes of descriptors removed for "
				"MaxHSDirCacheBytes %" PRIu64, pruned, r->max_hsdir_cache_bytes);
	return 0;
}
