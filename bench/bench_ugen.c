/* The user-space generator of hsrelay-bench relay (bench_ugen.h): the
 * process (clients, sink and pump on one lcore) and the bench's side. */
#include "bench/bench_ugen.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "bench/bench_env.h"
#include "bench/bench_util.h"
#include "control/circ_cells.h"
#include "control/circuit_handshake.h"
#include "control/hs_cells.h"
#include "control/link_cells.h"
#include "control/link_handshake.h"
#include "control/relay_keys.h"
#include "control/tls_handshake.h"
#include "crypto/engine.h"
#include "crypto/ntor.h"
#include "crypto/relay_crypto.h"
#include "crypto/rsa_identity.h"
#include "crypto/tls_record.h"
#include "crypto/tor_keys.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"
#include "dataplane/circuit.h"
#include "dataplane/eal.h"
#include "dataplane/port.h"
#include "dataplane/ring_msg.h"
#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "dataplane/tls_stream.h"
#include "dataplane/wire.h"
#include "dataplane/worker.h"
#include "tests/interop/rend_pump.h"
#include "tests/interop/test_client.h"

#define UGEN_MAX_SINK_LINKS 8
#define UGEN_MAX_CONNS (BENCH_UGEN_MAX_LINKS + UGEN_MAX_SINK_LINKS)
/* 31 cells of 514 bytes fill a 16 KiB record. */
#define RECORD_CELLS 31
#define RECORD_PLAIN (RECORD_CELLS * CELL_LEN)
#define RECORD_WIRE_MAX (TLS_RECORD_HEADER_LEN + TLS_RECORD_EXPLICIT_NONCE_LEN + \
		RECORD_PLAIN + TLS_RECORD_TAG_LEN + 1)
/* Records sealed in one burst (over all client links) per poll. */
#define PUMP_RECORDS 16
/* Records opened per burst on one link. */
#define OPEN_BURST 32
/* Opened plaintext not yet cut into cells, per link: a burst of records
 * plus a partial cell. */
#define PLAIN_CAP (OPEN_BURST * TLS_RECORD_MAX_PLAINTEXT + 2 * CELL_LEN + 65536)
#define POOL_MBUFS 16383
#define RECORD_POOL_MBUFS 2047
#define RECORD_DATA_ROOM (RTE_PKTMBUF_HEADROOM + RECORD_WIRE_MAX + 64)
#define PORT_DESC 1024
/* memif ring of 2^11 slots per direction, as the bridge's. */
#define MEMIF_LOG2_RING 11
#define LINK_WAIT_NS (60ull * 1000000000)
#define RECONNECT_NS (100ull * 1000000)
#define IDLE_POLLS 256
/* Offsets in a DROP cell's data of the circuit number, the sequence
 * number and the pattern after them. */
#define DROP_INDEX_OFFSET RELAY_HEADER_LEN
#define DROP_SEQ_OFFSET (RELAY_HEADER_LEN + 4)
#define DROP_PATTERN_OFFSET (RELAY_HEADER_LEN + 12)
#define START_TIMEOUT_NS (30ull * 1000000000)
#define HALT_TIMEOUT_NS (10ull * 1000000000)
#define STOP_TIMEOUT_NS (10ull * 1000000000)

#define PUT(field, value) __atomic_store_n(&(field), (value), __ATOMIC_RELEASE)
#define GET(field) __atomic_load_n(&(field), __ATOMIC_ACQUIRE)

/* ---- the process ------------------------------------------------------ */

enum link_kind { LINK_CLIENT, LINK_SINK };

enum link_phase {
	PHASE_CONNECTING,	/* client: SYN sent (or waiting to retry) */
	PHASE_TLS,		/* TLS handshake on raw TCP bytes */
	PHASE_LINK,		/* link handshake in records */
	PHASE_OPEN,
};

/* A circuit as the sink counts it (matched to the client's circuit by the
 * client's ntor key X in the onion skin the sink received). */
struct circuit_slot {
	struct relay_cipher sink_forward;
	uint8_t client_key[NTOR_KEY_LEN];
	uint64_t received;
	uint32_t client_index;
	bool claimed;
};

/* Rendezvous: a client end (A) goes READY -> ESTABLISH_SENT ->
 * RENDEZVOUS1_SENT (its service end's RENDEZVOUS1 is out) -> JOINED; a
 * service end (B) READY -> JOINED once its RENDEZVOUS1 is out. */
enum circuit_step {
	CIRC_IDLE, CIRC_CREATE_SENT, CIRC_EXTEND_SENT, CIRC_READY,
	CIRC_ESTABLISH_SENT, CIRC_RENDEZVOUS1_SENT, CIRC_JOINED,
};

struct client_circuit {
	struct relay_cipher rut_forward;
	struct relay_cipher rut_backward;
	struct relay_cipher sink_forward;
	struct relay_digest rut_forward_digest, rut_backward_digest;
	struct ntor_client_state rut_state, sink_state;
	uint8_t sink_client_key[NTOR_KEY_LEN];	/* X of the sink's onion skin */
	struct circuit_slot *slot;
	struct rend_end *end;			/* rendezvous: its end of a pair */
	struct ugen_link *link;
	uint32_t circ_id;
	uint32_t index;
	enum circuit_step step;
	uint64_t sent;
};

struct sink_circuit {
	uint32_t circ_id;
	struct circuit_slot *slot;
};

struct ugen_link {
	struct tls_record_dir read_dir;
	struct tls_record_dir write_dir;
	enum link_kind kind;
	enum link_phase phase;
	uint32_t conn;
	bool has_conn;
	uint64_t retry_at;		/* client: reconnect after a refusal */
	uint32_t peer_ip;
	struct tls_session *tls;
	struct link_handshake *hs;
	enum tls_record_version version;
	uint16_t protocol_version, cipher_suite;
	struct tls_stream_rx rx;
	uint8_t *plain;			/* opened bytes not yet cut into cells */
	size_t plain_len;
	/* client */
	struct client_circuit *circuits[BENCH_UGEN_MAX_CIRCUITS];
	unsigned n_circuits;
	unsigned next_circuit;		/* pump round-robin */
	/* sink */
	struct sink_circuit sink_circuits[BENCH_UGEN_MAX_CIRCUITS];
	unsigned n_sink_circuits, last_sink_circuit;
	bool authenticated;
};

struct ugen {
	struct bench_ugen_shared *sh;
	const struct bench_ugen_params *p;
	struct crypto_engine *engine;
	struct rte_mempool *pool, *record_pool;
	struct stack *stack;
	struct tcp_stack *tcp;
	struct worker *worker;
	uint16_t port_id;
	bool port_started;
	/* the sink's identity */
	struct relay_keys *sink_keys;
	struct tls_link_credentials *sink_tls;
	struct link_credentials *sink_link_credentials;
	struct tls_handshake_context *server_ctx, *client_ctx;
	struct circuit_handshake_keys sink_hs;
	uint32_t listener;
	/* links and circuits */
	struct ugen_link *links[UGEN_MAX_CONNS];
	unsigned n_links, n_clients, n_sinks;
	struct client_circuit *circuits[BENCH_UGEN_MAX_CIRCUITS];
	unsigned n_circuits, n_ready;
	struct circuit_slot *slots;
	unsigned n_slots;
	bool pumping, draining;
	unsigned next_client;
	double tokens;
	uint64_t token_time;
	/* pre-built cell bodies: the DROP cell of the samples, and the body
	 * of every other cell (what the sink's layer would have made) */
	uint8_t drop_template[CELL_PAYLOAD_LEN];
	uint8_t filler[CELL_PAYLOAD_LEN];
	/* rendezvous: ends 2i (client, A) and 2i + 1 (service, B) of pair
	 * i, the pair being joined, its cookie and HANDSHAKE_INFO, every data
	 * cell's latency (ns) */
	struct rend_end *ends;
	unsigned joined;
	uint8_t cookie[HS_REND_COOKIE_LEN];
	uint8_t info[REND_HANDSHAKE_INFO_LEN];
	uint32_t *latency;
	uint64_t n_latency, expected;
	uint64_t records_sent, mixed_records;
	/* counters */
	uint64_t sent, received, verified, verify_failures, backward_cells;
	uint64_t record_alloc_failed;
	bool failed;
};

static bool
rendezvous(const struct ugen *u)
{
	return u->p->mode == BENCH_UGEN_RENDEZVOUS;
}

static void
ugen_fail(struct ugen *u, int error, const char *fmt, ...)
{
	va_list ap;

	if (u->failed)
		return;
	u->failed = true;
	va_start(ap, fmt);
	vsnprintf(u->sh->ugen.message, sizeof(u->sh->ugen.message), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ugen: %s\n", u->sh->ugen.message);
	PUT(u->sh->ugen.error, error < 0 ? error : -EIO);
}

static uint64_t
now_ns(void)
{
	return worker_tsc_to_ns(rte_rdtsc());
}

static struct ugen_link *
link_find(struct ugen *u, uint32_t conn)
{
	for (unsigned i = 0; i < u->n_links; i++)
		if (u->links[i]->has_conn && u->links[i]->conn == conn)
			return u->links[i];
	return NULL;
}

static struct ugen_link *
link_new(struct ugen *u, enum link_kind kind)
{
	struct ugen_link *l;

	if (u->n_links == UGEN_MAX_CONNS)
		return NULL;
	l = rte_zmalloc("ugen_link", sizeof(*l), 64);
	if (l == NULL)
		return NULL;
	l->plain = malloc(PLAIN_CAP);
	if (l->plain == NULL) {
		rte_free(l);
		return NULL;
	}
	l->kind = kind;
	tls_stream_rx_init(&l->rx);
	u->links[u->n_links++] = l;
	return l;
}

static void
link_free(struct ugen_link *l)
{
	tls_stream_rx_release(&l->rx);
	tls_record_dir_clear(&l->read_dir);
	tls_record_dir_clear(&l->write_dir);
	link_handshake_free(l->hs);
	tls_session_free(l->tls);
	free(l->plain);
	rte_free(l);
}

/* Raw bytes (the TLS handshake) to the link's connection. */
static int
send_bytes(struct ugen *u, struct ugen_link *l, const uint8_t *data, size_t len, uint64_t now)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t total = 0;
	int rc;

	while (len > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(u->pool);
		uint16_t room;
		uint8_t *dst;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return -ENOBUFS;
		}
		room = rte_pktmbuf_tailroom(m);
		room = len < room ? (uint16_t)len : room;
		dst = (uint8_t *)rte_pktmbuf_append(m, room);
		memcpy(dst, data, room);
		data += room;
		len -= room;
		total += room;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
		}
		tail = m;
	}
	if (head == NULL)
		return 0;
	head->pkt_len = total;
	rc = tcp_send(u->tcp, l->conn, head, now);
	if (rc < 0)
		rte_pktmbuf_free(head);
	return rc;
}

/* Cell bytes sealed into application-data records and sent. Slow path
 * (handshakes, circuit set-up). */
static int
send_records(struct ugen *u, struct ugen_link *l, const uint8_t *data, size_t len, uint64_t now)
{
	while (len > 0) {
		size_t n = len < TLS_RECORD_MAX_PLAINTEXT ? len : TLS_RECORD_MAX_PLAINTEXT;
		struct tls_stream_tx_record rec;
		struct tls_record_seal seal;
		int rc = tls_stream_tx_begin(&rec, u->pool, l->version);

		if (rc == 0)
			rc = tls_stream_tx_append(&rec, u->pool, data, (uint32_t)n);
		if (rc == 0)
			rc = tls_stream_tx_seal_prepare(&rec, u->pool, &l->write_dir,
					TLS_CONTENT_APPLICATION_DATA, &seal);
		if (rc == 0 && tls_record_seal_burst(u->engine, &seal, 1) != 1)
			rc = seal.status < 0 ? seal.status : -EIO;
		if (rc < 0) {
			tls_stream_tx_discard(&rec);
			return rc;
		}
		struct rte_mbuf *m = tls_stream_tx_take(&rec);

		rc = tcp_send(u->tcp, l->conn, m, now);
		if (rc < 0) {
			rte_pktmbuf_free(m);
			return rc;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* ---- circuits ---------------------------------------------------------- */

static void
split_keys(const uint8_t *m, struct circuit_keys *keys)
{
	memcpy(keys->forward_digest, m, RELAY_CRYPTO_DIGEST_SEED_LEN);
	memcpy(keys->backward_digest, m + 20, RELAY_CRYPTO_DIGEST_SEED_LEN);
	memcpy(keys->forward_key, m + 40, RELAY_CRYPTO_KEY_LEN);
	memcpy(keys->backward_key, m + 56, RELAY_CRYPTO_KEY_LEN);
}

static void rend_join_next(struct ugen *u, uint64_t now);
static void publish(struct ugen *u);

/* CREATE2 (ntor) to the relay under test for the next circuit not yet
 * built, on its link once that link is open. Circuits are built one at a
 * time, as the kernel-socket generator does. */
static void
circuit_next(struct ugen *u, uint64_t now)
{
	struct client_circuit *cc;
	uint8_t cell[CELL_LEN], hdata[CREATE2_HDATA_MAX];
	ssize_t n;
	int rc;

	if (u->n_ready == u->n_circuits) {
		if (rendezvous(u)) {
			rend_join_next(u, now);
		} else if (!u->pumping) {
			u->pumping = true;
			u->token_time = now;
			PUT(u->sh->ugen.state, BENCH_UGEN_PUMPING);
		}
		return;
	}
	cc = u->circuits[u->n_ready];
	if (cc->step != CIRC_IDLE || cc->link->phase != PHASE_OPEN)
		return;
	n = ntor_client_create(&cc->rut_state, u->p->rut_rsa_id, u->p->rut_ntor, hdata,
			sizeof(hdata));
	if (n < 0) {
		ugen_fail(u, (int)n, "ntor onion skin for the relay under test failed");
		return;
	}
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, cc->circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE2;
	if (create2_cell_encode(&(struct create2_cell){ .htype = HANDSHAKE_TYPE_NTOR,
				.hlen = (uint16_t)n, .hdata = hdata }, cell_wire_payload(cell),
				CELL_PAYLOAD_LEN) < 0) {
		ugen_fail(u, -EINVAL, "CREATE2 encoding failed");
		return;
	}
	rc = send_records(u, cc->link, cell, sizeof(cell), now);
	if (rc < 0) {
		ugen_fail(u, rc, "sending CREATE2: %s", strerror(-rc));
		return;
	}
	cc->step = CIRC_CREATE_SENT;
}

/* The key material of cc's hop at the relay under test from its CREATED2
 * (ntor). False (the run failed) when it is not valid. */
static bool
circuit_material(struct ugen *u, struct client_circuit *cc, const uint8_t *payload,
		uint8_t material[NTOR_TOR1_KEY_MATERIAL_LEN])
{
	struct created2_cell created;
	const uint8_t *p = payload;

	if (created2_cell_parse(&p, payload + CELL_PAYLOAD_LEN, &created) < 0 ||
	    ntor_client_complete(&cc->rut_state, created.hdata, created.hlen, material,
			    NTOR_TOR1_KEY_MATERIAL_LEN) < 0) {
		ugen_fail(u, -EPROTO, "circuit %u: no valid CREATED2 from the relay under test",
				cc->index);
		return false;
	}
	memset(&cc->rut_state, 0, sizeof(cc->rut_state));
	return true;
}

/* Rendezvous: CREATED2 arrived: the one hop's keys into cc's end, then
 * the next circuit (or, all built, the first pair's join). */
static void
rend_circuit_created(struct ugen *u, struct client_circuit *cc, const uint8_t *payload,
		uint64_t now)
{
	uint8_t material[NTOR_TOR1_KEY_MATERIAL_LEN];

	if (!circuit_material(u, cc, payload, material))
		return;
	test_hop_init(&cc->end->hop, cc->circ_id, material);
	memset(material, 0, sizeof(material));
	cc->step = CIRC_READY;
	u->n_ready++;
	circuit_next(u, now);
}

/* CREATED2 arrived: the relay's keys, then EXTEND2 to the sink (IPv4,
 * RSA id, Ed25519 id, the sink's ntor onion skin) in RELAY_EARLY. */
static void
circuit_created(struct ugen *u, struct client_circuit *cc, const uint8_t *payload, uint64_t now)
{
	uint8_t cell[CELL_LEN], hdata[CREATE2_HDATA_MAX], material[NTOR_TOR1_KEY_MATERIAL_LEN];
	uint8_t body[RELAY_DATA_MAX];
	uint8_t *out = cell_wire_payload(cell);
	struct circuit_keys keys;
	struct extend2_cell ext = { .n_specifiers = 3 };
	struct relay_cipher *c = &cc->rut_forward;
	ssize_t n;
	int rc;

	if (rendezvous(u)) {
		rend_circuit_created(u, cc, payload, now);
		return;
	}
	if (!circuit_material(u, cc, payload, material))
		return;
	split_keys(material, &keys);
	relay_cipher_init(u->engine, &cc->rut_forward, keys.forward_key);
	relay_cipher_init(u->engine, &cc->rut_backward, keys.backward_key);
	relay_digest_init(&cc->rut_forward_digest, keys.forward_digest);
	relay_digest_init(&cc->rut_backward_digest, keys.backward_digest);
	n = ntor_client_create(&cc->sink_state, u->sink_hs.rsa_id,
			u->sink_hs.onion_keys[0].public_key, hdata, sizeof(hdata));
	if (n < 0) {
		ugen_fail(u, (int)n, "ntor onion skin for the sink failed");
		return;
	}
	memcpy(cc->sink_client_key, cc->sink_state.ephemeral.public_key, NTOR_KEY_LEN);
	ext.specifiers[0].type = LINK_SPECIFIER_IPV4;
	ext.specifiers[0].length = LINK_SPECIFIER_IPV4_LEN;
	wire_write_u32(ext.specifiers[0].u.ipv4.address, u->p->ip);
	ext.specifiers[0].u.ipv4.port = u->p->sink_port;
	ext.specifiers[1].type = LINK_SPECIFIER_LEGACY_ID;
	ext.specifiers[1].length = LINK_SPECIFIER_LEGACY_ID_LEN;
	memcpy(ext.specifiers[1].u.legacy_id, u->sink_hs.rsa_id, LINK_SPECIFIER_LEGACY_ID_LEN);
	ext.specifiers[2].type = LINK_SPECIFIER_ED25519_ID;
	ext.specifiers[2].length = LINK_SPECIFIER_ED25519_ID_LEN;
	memcpy(ext.specifiers[2].u.ed25519_id, u->sink_hs.ed25519_id,
			LINK_SPECIFIER_ED25519_ID_LEN);
	ext.create2 = (struct create2_cell){ .htype = HANDSHAKE_TYPE_NTOR, .hlen = (uint16_t)n,
		.hdata = hdata };
	n = extend2_cell_encode(&ext, body, sizeof(body));
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, cc->circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY_EARLY;
	if (n < 0 || relay_cell_encode(&(struct relay_cell){ .command = RELAY_COMMAND_EXTEND2,
				.length = (uint16_t)n, .data = body }, out, CELL_PAYLOAD_LEN) < 0) {
		ugen_fail(u, -EINVAL, "EXTEND2 encoding failed");
		return;
	}
	relay_digest_stamp(&cc->rut_forward_digest, out);
	relay_crypt_burst(u->engine, &c, &out, 1);
	rc = send_records(u, cc->link, cell, sizeof(cell), now);
	if (rc < 0) {
		ugen_fail(u, rc, "sending EXTEND2: %s", strerror(-rc));
		return;
	}
	memset(&keys, 0, sizeof(keys));
	memset(material, 0, sizeof(material));
	cc->step = CIRC_EXTEND_SENT;
}

static struct circuit_slot *
slot_claim(struct ugen *u, const uint8_t client_key[NTOR_KEY_LEN], uint32_t index)
{
	for (unsigned i = 0; i < u->n_slots; i++) {
		struct circuit_slot *s = &u->slots[i];

		if (!s->claimed && memcmp(s->client_key, client_key, NTOR_KEY_LEN) == 0) {
			s->claimed = true;
			s->client_index = index;
			return s;
		}
	}
	return NULL;
}

/* EXTENDED2 (or TRUNCATED) from the relay under test. */
static void
circuit_extended(struct ugen *u, struct client_circuit *cc, uint8_t *payload, uint64_t now)
{
	uint8_t material[NTOR_TOR1_KEY_MATERIAL_LEN];
	struct relay_cipher *c = &cc->rut_backward;
	struct extended2_cell extended;
	struct relay_cell rcell;
	struct circuit_keys keys;
	const uint8_t *p = payload;

	relay_crypt_burst(u->engine, &c, &payload, 1);
	if (!relay_digest_check(&cc->rut_backward_digest, payload) ||
	    relay_cell_parse(&p, payload + CELL_PAYLOAD_LEN, &rcell) < 0) {
		ugen_fail(u, -EPROTO, "circuit %u: no recognized answer to EXTEND2", cc->index);
		return;
	}
	if (rcell.command == RELAY_COMMAND_TRUNCATED) {
		ugen_fail(u, -ECONNREFUSED, "circuit %u: the relay could not extend to the sink: "
				"TRUNCATED reason %u", cc->index, rcell.length > 0 ? rcell.data[0] : 0);
		return;
	}
	p = rcell.data;
	if (rcell.command != RELAY_COMMAND_EXTENDED2 ||
	    extended2_cell_parse(&p, rcell.data + rcell.length, &extended) < 0 ||
	    ntor_client_complete(&cc->sink_state, extended.hdata, extended.hlen, material,
			    sizeof(material)) < 0) {
		ugen_fail(u, -EPROTO, "circuit %u: no valid EXTENDED2 (relay command %u)", cc->index,
				rcell.command);
		return;
	}
	split_keys(material, &keys);
	relay_cipher_init(u->engine, &cc->sink_forward, keys.forward_key);
	memset(&keys, 0, sizeof(keys));
	memset(material, 0, sizeof(material));
	cc->slot = slot_claim(u, cc->sink_client_key, cc->index);
	if (cc->slot == NULL) {
		ugen_fail(u, -ENOENT, "circuit %u: the sink never saw its CREATE2", cc->index);
		return;
	}
	memset(&cc->sink_state, 0, sizeof(cc->sink_state));
	cc->step = CIRC_READY;
	u->n_ready++;
	circuit_next(u, now);
}

/* ---- rendezvous --------------------------------------------------------- */

/* A cell from the relay as the interop client code takes it. */
static void
cell_to_test_cell(const uint8_t *cell, struct test_cell *c)
{
	c->circ_id = cell_wire_circ_id(cell);
	c->command = cell[CELL_CIRC_ID_LEN];
	c->len = CELL_PAYLOAD_LEN;
	memcpy(c->payload, cell + CELL_CIRC_ID_LEN + 1, CELL_PAYLOAD_LEN);
}

/* Joins the next pair once its circuits are built: ESTABLISH_RENDEZVOUS
 * with a fresh cookie on its client circuit (A). With every pair joined,
 * the process is PUMPING and waits for the bench's go. */
static void
rend_join_next(struct ugen *u, uint64_t now)
{
	uint8_t cell[CELL_LEN];
	struct client_circuit *a;
	int rc;

	if (u->joined == u->p->pairs) {
		if (GET(u->sh->ugen.state) < BENCH_UGEN_PUMPING)
			PUT(u->sh->ugen.state, BENCH_UGEN_PUMPING);
		return;
	}
	a = u->circuits[2 * u->joined];
	if (a->step != CIRC_READY)
		return;
	test_random_bytes(u->cookie, sizeof(u->cookie));
	test_random_bytes(u->info, sizeof(u->info));
	rend_establish_cell(a->end, u->cookie, cell);
	rc = send_records(u, a->link, cell, sizeof(cell), now);
	if (rc < 0) {
		ugen_fail(u, rc, "sending ESTABLISH_RENDEZVOUS: %s", strerror(-rc));
		return;
	}
	a->step = CIRC_ESTABLISH_SENT;
}

/* Every data cell arrived: the counters, then the latency percentiles. */
static void
rend_finish(struct ugen *u)
{
	struct bench_latency l;

	publish(u);
	PUT(u->sh->ugen.finished, 1);
	bench_latency_percentiles(u->latency, u->n_latency, &l);
	u->sh->ugen.latency_samples = l.samples;
	u->sh->ugen.latency_p50_ns = l.p50_ns;
	u->sh->ugen.latency_p99_ns = l.p99_ns;
	u->sh->ugen.latency_max_ns = l.max_ns;
	PUT(u->sh->ugen.latency_ready, 1);
}

/* A data cell on a joined circuit: opened and checked as the kernel-socket
 * generator does (rend_end_take_data()), its latency kept. */
static void
rend_data(struct ugen *u, struct client_circuit *cc, uint8_t *cell)
{
	uint64_t stamp = 0;

	if (!rend_end_take_data(cc->end, cell[CELL_CIRC_ID_LEN], cc->circ_id,
			cell_wire_payload(cell), true, &stamp)) {
		ugen_fail(u, -EPROTO, "%s", test_detail);
		return;
	}
	if (stamp != 0 && u->n_latency < u->expected) {
		uint64_t t = now_ns(), ns = t > stamp ? t - stamp : 0;

		u->latency[u->n_latency++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	}
	if (++u->received == u->expected)
		rend_finish(u);
}

/* A cell on a rendezvous circuit once it is built: the join's answers on
 * the client circuit (RENDEZVOUS_ESTABLISHED, then RENDEZVOUS2 after the
 * service circuit's RENDEZVOUS1), then data cells. */
static void
rend_cell(struct ugen *u, struct client_circuit *cc, uint8_t *cell, uint64_t now)
{
	struct client_circuit *b = u->circuits[cc->index + 1 < u->n_circuits ? cc->index + 1 : 0];
	uint8_t cells[CELL_LEN];
	struct test_cell c;
	size_t len;
	int rc;

	if (cc->step == CIRC_JOINED) {
		rend_data(u, cc, cell);
		return;
	}
	cell_to_test_cell(cell, &c);
	if (c.command != CELL_COMMAND_RELAY) {
		ugen_fail(u, -EPROTO, "client: cell %u on circuit %u while joining its pair",
				c.command, cc->index);
	} else if (cc->step == CIRC_ESTABLISH_SENT) {
		if (!rend_check_established(cc->end, &c)) {
			ugen_fail(u, -EPROTO, "pair %u: %s", cc->end->pair, test_detail);
			return;
		}
		len = rend_rendezvous1_cells(b->end, cells, u->cookie, u->info, sizeof(u->info), 0);
		rc = send_records(u, b->link, cells, len, now);
		if (rc < 0) {
			ugen_fail(u, rc, "sending RENDEZVOUS1: %s", strerror(-rc));
			return;
		}
		b->step = CIRC_JOINED;
		cc->step = CIRC_RENDEZVOUS1_SENT;
	} else if (cc->step == CIRC_RENDEZVOUS1_SENT) {
		if (!rend_check_rendezvous2(cc->end, &c, u->info, sizeof(u->info))) {
			ugen_fail(u, -EPROTO, "pair %u: %s", cc->end->pair, test_detail);
			return;
		}
		cc->step = CIRC_JOINED;
		u->joined++;
		rend_join_next(u, now);
	} else {
		ugen_fail(u, -EPROTO, "client: relay cell on circuit %u before its pair's join",
				cc->index);
	}
}

/* ---- cells ------------------------------------------------------------- */

/* A cell on a client link (4-byte circuit ids, the link open). */
static void
client_cell(struct ugen *u, struct ugen_link *l, uint8_t *cell, uint64_t now)
{
	uint8_t command = cell[CELL_CIRC_ID_LEN];
	uint32_t id = cell_wire_circ_id(cell);
	struct client_circuit *cc = NULL;

	if (command == CELL_COMMAND_PADDING || command == CELL_COMMAND_PADDING_NEGOTIATE ||
	    command == CELL_COMMAND_NETINFO)
		return;
	for (unsigned i = 0; i < l->n_circuits && cc == NULL; i++)
		if (l->circuits[i]->circ_id == id)
			cc = l->circuits[i];
	if (cc == NULL) {
		ugen_fail(u, -EPROTO, "client: cell %u on unknown circuit %08x", command, id);
		return;
	}
	if (command == CELL_COMMAND_DESTROY) {
		ugen_fail(u, -ECONNRESET, "client: the relay under test destroyed circuit %u "
				"(reason %u)", cc->index, cell[CELL_CIRC_ID_LEN + 1]);
	} else if (command == CELL_COMMAND_CREATED2 && cc->step == CIRC_CREATE_SENT) {
		circuit_created(u, cc, cell_wire_payload(cell), now);
	} else if (rendezvous(u) && cc->step >= CIRC_READY) {
		rend_cell(u, cc, cell, now);
	} else if (command == CELL_COMMAND_RELAY && cc->step == CIRC_EXTEND_SENT) {
		circuit_extended(u, cc, cell_wire_payload(cell), now);
	} else if (command == CELL_COMMAND_RELAY || command == CELL_COMMAND_RELAY_EARLY) {
		u->backward_cells++;
	} else {
		ugen_fail(u, -EPROTO, "client: unexpected cell %u on circuit %u", command, cc->index);
	}
}

/* The sink's answer to a CREATE2 the relay under test forwarded. */
static void
sink_create(struct ugen *u, struct ugen_link *l, const uint8_t *cell, uint64_t now)
{
	struct circuit_handshake_result result;
	struct circuit_keys keys;
	uint8_t reply[CELL_LEN];
	struct circuit_slot *slot;
	int rc;

	rc = circuit_handshake_server(&u->sink_hs, cell, &keys, reply, &result);
	if (rc < 0) {
		ugen_fail(u, rc, "sink: CREATE2 from the relay under test refused (%d)", rc);
		return;
	}
	if (l->n_sink_circuits == BENCH_UGEN_MAX_CIRCUITS || u->n_slots == BENCH_UGEN_MAX_CIRCUITS ||
	    result.handshake_type != HANDSHAKE_TYPE_NTOR) {
		ugen_fail(u, -EPROTO, "sink: unexpected CREATE2");
		return;
	}
	slot = &u->slots[u->n_slots++];
	memset(slot, 0, sizeof(*slot));
	/* HTYPE HLEN, then the ntor onion skin NODEID KEYID CLIENT_KP. */
	memcpy(slot->client_key, cell + CELL_CIRC_ID_LEN + 1 + 4 + NTOR_NODE_ID_LEN + NTOR_KEY_LEN,
			NTOR_KEY_LEN);
	relay_cipher_init(u->engine, &slot->sink_forward, keys.forward_key);
	memset(&keys, 0, sizeof(keys));
	l->sink_circuits[l->n_sink_circuits++] = (struct sink_circuit){
		.circ_id = cell_wire_circ_id(cell), .slot = slot };
	rc = send_records(u, l, reply, sizeof(reply), now);
	if (rc < 0)
		ugen_fail(u, rc, "sink: sending CREATED2: %s", strerror(-rc));
}

/* Decrypts a copy of cell k of slot with the sink's layer: it must be the
 * DROP cell the client made for that position. */
static bool
sink_verify(struct ugen *u, struct circuit_slot *slot, const uint8_t *payload, uint64_t k)
{
	uint8_t copy[CELL_PAYLOAD_LEN];
	uint8_t *p = copy;
	struct relay_cipher *c = &slot->sink_forward;

	memcpy(copy, payload, sizeof(copy));
	relay_cipher_seek(c, k * CELL_PAYLOAD_LEN);
	relay_crypt_burst(u->engine, &c, &p, 1);
	return copy[RELAY_OFFSET_COMMAND] == RELAY_COMMAND_DROP &&
		wire_read_u16(copy + RELAY_OFFSET_RECOGNIZED) == 0 &&
		wire_read_u16(copy + RELAY_OFFSET_STREAM_ID) == 0 &&
		relay_payload_length(copy) == RELAY_DATA_MAX &&
		wire_read_u32(copy + DROP_INDEX_OFFSET) == slot->client_index &&
		wire_read_u32(copy + DROP_SEQ_OFFSET) == (uint32_t)(k >> 32) &&
		wire_read_u32(copy + DROP_SEQ_OFFSET + 4) == (uint32_t)k &&
		memcmp(copy + DROP_PATTERN_OFFSET, u->drop_template + DROP_PATTERN_OFFSET,
				CELL_PAYLOAD_LEN - DROP_PATTERN_OFFSET) == 0;
}

static void
sink_cell(struct ugen *u, struct ugen_link *l, const uint8_t *cell, uint64_t now)
{
	uint8_t command = cell[CELL_CIRC_ID_LEN];

	if (command == CELL_COMMAND_RELAY || command == CELL_COMMAND_RELAY_EARLY) {
		uint32_t id = cell_wire_circ_id(cell);
		unsigned i = l->last_sink_circuit;
		struct circuit_slot *slot;
		uint64_t k;

		if (i >= l->n_sink_circuits || l->sink_circuits[i].circ_id != id)
			for (i = 0; i < l->n_sink_circuits && l->sink_circuits[i].circ_id != id; i++)
				;
		if (i == l->n_sink_circuits) {
			ugen_fail(u, -EPROTO, "sink: relay cell on unknown circuit %08x", id);
			return;
		}
		l->last_sink_circuit = i;
		slot = l->sink_circuits[i].slot;
		k = slot->received++;
		u->received++;
		if (k % BENCH_UGEN_SAMPLE_EVERY == 0) {
			if (sink_verify(u, slot, cell + CELL_CIRC_ID_LEN + 1, k))
				u->verified++;
			else
				u->verify_failures++;
		}
	} else if (command == CELL_COMMAND_CREATE2) {
		sink_create(u, l, cell, now);
	} else if (command == CELL_COMMAND_DESTROY) {
		ugen_fail(u, -ECONNRESET, "sink: the relay under test destroyed circuit %08x "
				"(reason %u)", cell_wire_circ_id(cell), cell[CELL_CIRC_ID_LEN + 1]);
	} else if (command != CELL_COMMAND_PADDING && command != CELL_COMMAND_PADDING_NEGOTIATE &&
			command != CELL_COMMAND_NETINFO) {
		ugen_fail(u, -EPROTO, "sink: unexpected cell command %u", command);
	}
}

/* Cuts the open link's plaintext into cells (variable-length ones are
 * skipped) and keeps the partial one at the front. */
static void
link_cells(struct ugen *u, struct ugen_link *l, uint64_t now)
{
	size_t off = 0;

	while (!u->failed && l->plain_len - off >= CELL_CIRC_ID_LEN + 1) {
		uint8_t *cell = l->plain + off;
		uint8_t command = cell[CELL_CIRC_ID_LEN];
		size_t len = CELL_LEN;

		if (cell_command_is_var(command)) {
			if (l->plain_len - off < CELL_CIRC_ID_LEN + 3)
				break;
			len = CELL_CIRC_ID_LEN + 3 + wire_read_u16(cell + CELL_CIRC_ID_LEN + 1);
		}
		if (l->plain_len - off < len)
			break;
		if (!cell_command_is_var(command)) {
			if (l->kind == LINK_SINK)
				sink_cell(u, l, cell, now);
			else
				client_cell(u, l, cell, now);
		}
		off += len;
	}
	if (off > 0) {
		memmove(l->plain, l->plain + off, l->plain_len - off);
		l->plain_len -= off;
	}
}

/* ---- link handshakes --------------------------------------------------- */

static int
export_auth(void *arg, const uint8_t cid[LINK_SHA256_LEN], uint8_t out[LINK_SHA256_LEN])
{
	return tls_session_export_auth0003(arg, cid, out);
}

static int
link_flush_handshake(struct ugen *u, struct ugen_link *l, uint64_t now)
{
	const uint8_t *data;
	size_t n = link_handshake_output(l->hs, &data);
	int rc;

	if (n == 0)
		return 0;
	rc = send_records(u, l, data, n, now);
	if (rc == 0)
		link_handshake_output_consumed(l->hs, n);
	return rc;
}

/* Feeds the opened plaintext to the link handshake until it is open;
 * what follows it is left for link_cells(). */
static void
link_handshake_step(struct ugen *u, struct ugen_link *l, uint64_t now)
{
	size_t off = 0;
	int rc = 0;

	while (l->phase == PHASE_LINK) {
		const uint8_t *start = l->plain + off, *p = start;

		rc = link_handshake_receive(l->hs, &p, l->plain + l->plain_len, time(NULL), NULL);
		off += (size_t)(p - start);
		if (link_flush_handshake(u, l, now) < 0) {
			ugen_fail(u, -EIO, "link handshake: send failed");
			return;
		}
		if (link_handshake_state(l->hs) == LINK_HANDSHAKE_OPEN) {
			l->phase = PHASE_OPEN;
			break;
		}
		if (link_handshake_state(l->hs) == LINK_HANDSHAKE_FAILED) {
			ugen_fail(u, link_handshake_error(l->hs), "%s link handshake: %s",
					l->kind == LINK_SINK ? "sink" : "client",
					link_handshake_reason(l->hs));
			return;
		}
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			ugen_fail(u, rc, "link handshake: error %d", rc);
			return;
		}
	}
	if (off > 0) {
		memmove(l->plain, l->plain + off, l->plain_len - off);
		l->plain_len -= off;
	}
	if (l->phase != PHASE_OPEN)
		return;
	if (l->kind == LINK_SINK) {
		l->authenticated = link_handshake_peer_authenticated(l->hs);
		PUT(u->sh->ugen.sink_links, u->n_sinks);
	} else {
		circuit_next(u, now);
	}
}

/* Opens every complete record received so far, in bursts, into the
 * link's plaintext. Handshake records (TLS 1.3 tickets) are dropped; an
 * alert or a bad record fails the run. */
static int
link_open_records(struct ugen *u, struct ugen_link *l)
{
	for (;;) {
		static struct tls_stream_record recs[OPEN_BURST];
		struct tls_record_open opens[OPEN_BURST];
		size_t out = l->plain_len;
		uint32_t skip = 0;
		unsigned n = 0;

		while (n < OPEN_BURST && PLAIN_CAP - out >= TLS_STREAM_MAX_BODY_TLS12) {
			int rc = tls_stream_rx_peek_record(&l->rx, skip, l->version, &recs[n]);

			if (rc == -EAGAIN)
				break;
			if (rc < 0)
				return rc;
			opens[n] = (struct tls_record_open){ .dir = &l->read_dir,
				.header = recs[n].header, .segments = recs[n].segments,
				.nb_segments = recs[n].nb_segments, .out = l->plain + out };
			out += recs[n].body_len;
			skip += (uint32_t)rc;
			n++;
		}
		if (n == 0)
			return 0;
		tls_record_open_burst(u->engine, opens, n);
		for (unsigned i = 0; i < n; i++) {
			if (opens[i].status < 0)
				return opens[i].status;
			if (opens[i].content_type == TLS_CONTENT_HANDSHAKE)
				continue;
			if (opens[i].content_type == TLS_CONTENT_ALERT)
				return -ECONNRESET;
			if (opens[i].content_type != TLS_CONTENT_APPLICATION_DATA)
				return -EPROTO;
			if (opens[i].out != l->plain + l->plain_len)
				memmove(l->plain + l->plain_len, opens[i].out, opens[i].plaintext_len);
			l->plain_len += opens[i].plaintext_len;
		}
		tls_stream_rx_consume(&l->rx, skip);
	}
}

/* The TLS handshake is done: keys to the record layer, then the link
 * handshake (initiator as a client; responder for the sink). */
static int
link_handover(struct ugen *u, struct ugen_link *l, uint64_t now)
{
	struct tls_handover h;
	int rc = tls_session_handover(l->tls, &h);

	if (rc < 0)
		return rc;
	l->version = h.version;
	l->protocol_version = h.protocol_version;
	l->cipher_suite = h.cipher_suite;
	rc = tls_handover_install(u->engine, &h, &l->read_dir, &l->write_dir);
	if (rc == 0 && h.leftover_len > 0) {
		const uint8_t *p = h.leftover;
		size_t left = h.leftover_len;

		while (left > 0 && rc == 0) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(u->pool);
			uint16_t n;

			if (m == NULL) {
				rc = -ENOBUFS;
				break;
			}
			n = rte_pktmbuf_tailroom(m) < left ? rte_pktmbuf_tailroom(m) : (uint16_t)left;
			memcpy(rte_pktmbuf_append(m, n), p, n);
			tls_stream_rx_append(&l->rx, m);
			p += n;
			left -= n;
		}
	}
	tls_handover_wipe(&h);
	if (rc < 0)
		return rc;
	if (l->kind == LINK_CLIENT && u->n_clients > 0 && l == u->links[0]) {
		PUT(u->sh->ugen.tls_version, l->protocol_version);
		PUT(u->sh->ugen.cipher_suite, l->cipher_suite);
	}

	struct link_handshake_params p = {
		.credentials = u->sink_link_credentials,
		.export_keying_material = export_auth,
		.export_arg = l->tls,
		.peer_address = { .type = NETINFO_ADDRESS_IPV4 },
	};
	const uint8_t *der, *digest;
	size_t der_len;

	wire_write_u32(p.peer_address.bytes, l->peer_ip);
	if (l->kind == LINK_CLIENT) {
		/* As a tor client: not authenticating (the credentials are
		 * never sent); the relay's CERTS must name its identities. */
		rc = tls_session_peer_cert(l->tls, &der, &der_len, &digest);
		if (rc < 0)
			return rc;
		p.role = LINK_ROLE_INITIATOR;
		p.peer_tls_cert_digest = digest;
		p.expected_rsa_fingerprint = u->p->rut_rsa_id;
		p.expected_ed25519_identity = u->p->rut_ed_id;
		p.authenticate = false;
	} else {
		p.role = LINK_ROLE_RESPONDER;
		p.my_addresses[0].type = NETINFO_ADDRESS_IPV4;
		wire_write_u32(p.my_addresses[0].bytes, u->p->ip);
		p.n_my_addresses = 1;
	}
	rc = link_handshake_new(&p, time(NULL), &l->hs);
	if (rc < 0)
		return rc;
	l->phase = PHASE_LINK;
	return link_flush_handshake(u, l, now);
}

/* Drains the TLS session's output to the connection; hands over once the
 * handshake is done and everything was sent. */
static void
link_tls_progress(struct ugen *u, struct ugen_link *l, int step, uint64_t now)
{
	uint8_t buf[16384];
	size_t n;
	int rc;

	while ((n = tls_session_drain_output(l->tls, buf, sizeof(buf))) > 0) {
		rc = send_bytes(u, l, buf, n, now);
		if (rc < 0) {
			ugen_fail(u, rc, "TLS handshake: send: %s", strerror(-rc));
			return;
		}
	}
	if (step < 0) {
		ugen_fail(u, step, "%s TLS: %s", l->kind == LINK_SINK ? "sink" : "client",
				tls_session_error(l->tls));
		return;
	}
	if (step != TLS_SESSION_DONE)
		return;
	rc = link_handover(u, l, now);
	if (rc < 0)
		ugen_fail(u, rc, "TLS handover / link handshake start failed (%d)", rc);
}

static void
link_readable(struct ugen *u, struct ugen_link *l, uint64_t now)
{
	struct rte_mbuf *chain;
	int got = tcp_recv(u->tcp, l->conn, &chain, now);
	int rc;

	if (got <= 0)
		return;
	if (l->phase == PHASE_TLS) {
		int step = 0;

		for (struct rte_mbuf *m = chain; m != NULL && step >= 0; m = m->next)
			if (m->data_len > 0)
				step = tls_session_feed(l->tls, rte_pktmbuf_mtod(m, const uint8_t *),
						m->data_len);
		rte_pktmbuf_free(chain);
		if (step >= 0)
			step = tls_session_step(l->tls);
		link_tls_progress(u, l, step, now);
		if (u->failed || l->phase == PHASE_TLS)
			return;
	} else {
		tls_stream_rx_append(&l->rx, chain);
	}
	/* Records (the first ones may have come with the handshake's end),
	 * as many bursts as the plaintext buffer needs. */
	while (!u->failed) {
		static struct tls_stream_record probe;

		rc = link_open_records(u, l);
		if (rc < 0) {
			ugen_fail(u, rc, "%s link: records: %s", l->kind == LINK_SINK ? "sink" : "client",
					strerror(-rc));
			return;
		}
		if (l->phase == PHASE_LINK)
			link_handshake_step(u, l, now);
		if (l->phase == PHASE_OPEN)
			link_cells(u, l, now);
		if (tls_stream_rx_peek_record(&l->rx, 0, l->version, &probe) < 0)
			break;
	}
}

static int
client_connect(struct ugen *u, struct ugen_link *l, uint64_t now)
{
	int rc = tcp_connect(u->tcp, u->p->ip, 0, u->p->rut_ip, u->p->rut_port, now, &l->conn);

	if (rc < 0)
		return rc;
	l->has_conn = true;
	l->phase = PHASE_CONNECTING;
	l->retry_at = 0;
	return 0;
}

static void
ugen_events(void *arg, struct stack *stack, const struct tcp_event *ev, unsigned n, uint64_t now)
{
	struct ugen *u = arg;

	(void)stack;
	for (unsigned i = 0; i < n && !u->failed; i++) {
		struct ugen_link *l = link_find(u, ev[i].conn);
		int rc;

		switch (ev[i].type) {
		case TCP_EVENT_ACCEPTED:
			if (u->n_sinks == UGEN_MAX_SINK_LINKS || (l = link_new(u, LINK_SINK)) == NULL) {
				tcp_abort(u->tcp, ev[i].conn, now);
				break;
			}
			u->n_sinks++;
			l->conn = ev[i].conn;
			l->has_conn = true;
			l->peer_ip = u->p->rut_ip;
			l->phase = PHASE_TLS;
			rc = tls_session_create(u->server_ctx, &l->tls);
			if (rc < 0)
				ugen_fail(u, rc, "sink: TLS session: %d", rc);
			break;
		case TCP_EVENT_CONNECTED:
			if (l == NULL)
				break;
			l->phase = PHASE_TLS;
			rc = tls_session_create(u->client_ctx, &l->tls);
			if (rc < 0) {
				ugen_fail(u, rc, "client: TLS session: %d", rc);
				break;
			}
			link_tls_progress(u, l, tls_session_step(l->tls), now);
			break;
		case TCP_EVENT_READABLE:
			if (l != NULL)
				link_readable(u, l, now);
			break;
		case TCP_EVENT_WRITABLE:
			break;
		case TCP_EVENT_RESET:
			/* Refused while hsrelay is not listening yet: again. */
			if (l != NULL && l->kind == LINK_CLIENT && l->phase == PHASE_CONNECTING &&
			    ev[i].error == -ECONNREFUSED) {
				l->has_conn = false;
				l->retry_at = now + RECONNECT_NS;
				break;
			}
			/* fall through */
		case TCP_EVENT_PEER_CLOSED:
		case TCP_EVENT_CLOSED:
			if (l != NULL)
				ugen_fail(u, ev[i].error < 0 ? ev[i].error : -ECONNRESET,
						"%s link closed by the relay under test (event %u, %s)",
						l->kind == LINK_SINK ? "sink" : "client", ev[i].type,
						strerror(ev[i].error < 0 ? -ev[i].error : ECONNRESET));
			break;
		default:
			break;
		}
	}
}

/* ---- the pump ---------------------------------------------------------- */

/* A record's mbuf from the record pool: its data start, or NULL (counted)
 * when the pool is empty. */
static uint8_t *
record_alloc(struct ugen *u, struct rte_mbuf **m)
{
	*m = rte_pktmbuf_alloc(u->record_pool);
	if (*m == NULL) {
		u->record_alloc_failed++;
		return NULL;
	}
	return rte_pktmbuf_mtod(*m, uint8_t *);
}

/* The record in *m holds n cells for link l: its length set (room for
 * the TLS prefix and suffix), or the mbuf freed when n is 0. Returns n. */
static unsigned
record_finish(const struct ugen_link *l, struct rte_mbuf **m, unsigned n)
{
	if (n == 0) {
		rte_pktmbuf_free(*m);
		*m = NULL;
		return 0;
	}
	rte_pktmbuf_append(*m, (uint16_t)(tls_record_prefix_len(l->version) + n * CELL_LEN +
			tls_record_suffix_len(l->version)));
	return n;
}

/* Fills one record of up to RECORD_CELLS cells for link l, round-robin
 * over its circuits below the window. Returns the cell count (0: no
 * circuit may send, or no mbuf); the record is in *m, its cells' bodies
 * and hsrelay's layers appended to payloads / layers. */
static unsigned
pump_record(struct ugen *u, struct ugen_link *l, unsigned budget, struct rte_mbuf **m,
		uint8_t **payloads, struct relay_cipher **layers)
{
	const unsigned pre = tls_record_prefix_len(l->version);
	const uint64_t window = u->p->window;
	unsigned n = 0, idle = 0, open = 0;
	uint8_t *base;

	/* Most calls find every window full: no mbuf for them. */
	for (unsigned i = 0; i < l->n_circuits && open == 0; i++)
		open = l->circuits[i]->sent - l->circuits[i]->slot->received < window;
	if (open == 0 || (base = record_alloc(u, m)) == NULL)
		return 0;
	while (n < budget && idle < l->n_circuits) {
		struct client_circuit *cc = l->circuits[l->next_circuit];

		l->next_circuit = l->next_circuit + 1 == l->n_circuits ? 0 : l->next_circuit + 1;
		if (cc->sent - cc->slot->received >= window) {
			idle++;
			continue;
		}
		idle = 0;
		uint8_t *cell = base + pre + n * CELL_LEN;
		uint8_t *payload = cell + CELL_CIRC_ID_LEN + 1;
		uint64_t k = cc->sent++;

		cell_wire_set_circ_id(cell, cc->circ_id);
		cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
		if (k % BENCH_UGEN_SAMPLE_EVERY == 0) {
			/* A sample: the DROP cell under the sink's layer at
			 * keystream position k. */
			struct relay_cipher *c = &cc->sink_forward;

			memcpy(payload, u->drop_template, CELL_PAYLOAD_LEN);
			wire_write_u32(payload + DROP_INDEX_OFFSET, cc->index);
			wire_write_u32(payload + DROP_SEQ_OFFSET, (uint32_t)(k >> 32));
			wire_write_u32(payload + DROP_SEQ_OFFSET + 4, (uint32_t)k);
			relay_cipher_seek(c, k * CELL_PAYLOAD_LEN);
			relay_crypt_burst(u->engine, &c, &payload, 1);
		} else {
			memcpy(payload, u->filler, CELL_PAYLOAD_LEN);
		}
		payloads[n] = payload;
		layers[n] = &cc->rut_forward;
		n++;
	}
	return record_finish(l, m, n);
}

/* Rendezvous: fills one record of up to budget data cells for link l,
 * turn by turn over its ends, each adding what rend_end_quota() allows
 * (window, burst, a service end waiting for its client), every cell
 * sealed with both layers by rend_end_seal_data() with its send time.
 * Returns the cell count (0: no end may send, or no mbuf). */
static unsigned
pump_record_rend(struct ugen *u, struct ugen_link *l, unsigned budget, struct rte_mbuf **m)
{
	const unsigned pre = tls_record_prefix_len(l->version);
	unsigned n = 0, idle = 0;
	const struct rend_end *first = NULL;
	bool mixed = false;
	uint8_t *base = record_alloc(u, m);

	if (base == NULL)
		return 0;
	while (n < budget && idle < l->n_circuits) {
		struct client_circuit *cc = l->circuits[l->next_circuit];
		uint32_t q = rend_end_quota(cc->end, u->p->window, u->p->burst, true);

		l->next_circuit = l->next_circuit + 1 == l->n_circuits ? 0 : l->next_circuit + 1;
		if (q == 0) {
			idle++;
			continue;
		}
		idle = 0;
		first = first != NULL ? first : cc->end;
		mixed = mixed || cc->end != first;
		for (q = q < budget - n ? q : budget - n; q > 0; q--, n++)
			rend_end_seal_data(cc->end, base + pre + n * CELL_LEN, true, now_ns());
	}
	u->records_sent += n > 0;
	u->mixed_records += mixed;
	return record_finish(l, m, n);
}

/* One pump round: records for every client link with room in its send
 * buffer, hsrelay's layer over all their cells in one burst, all records
 * sealed in one burst, then handed to TCP. Returns the cells sent. */
static unsigned
pump(struct ugen *u, uint64_t now)
{
	struct rte_mbuf *mbufs[PUMP_RECORDS];
	struct ugen_link *owners[PUMP_RECORDS];
	struct tls_record_seal seals[PUMP_RECORDS];
	struct crypto_iov iovs[PUMP_RECORDS];
	uint8_t *payloads[PUMP_RECORDS * RECORD_CELLS];
	struct relay_cipher *layers[PUMP_RECORDS * RECORD_CELLS];
	unsigned records = 0, cells = 0, layered = 0, full = 0;
	unsigned budget = PUMP_RECORDS * RECORD_CELLS;

	if (u->p->rate > 0) {
		double cap = u->p->rate * 0.005 > PUMP_RECORDS * RECORD_CELLS ?
			u->p->rate * 0.005 : PUMP_RECORDS * RECORD_CELLS;

		u->tokens += u->p->rate * (double)(now - u->token_time) / 1e9;
		if (u->tokens > cap)
			u->tokens = cap;
		u->token_time = now;
		budget = u->tokens < budget ? (unsigned)u->tokens : budget;
		/* Pacing must not cut the cells into more, smaller records
		 * than the same rate unpaced would: the reference relay, run
		 * unpaced, gets full RECORD_CELLS records, and a record's cost
		 * is mostly per record. Rendezvous: spent in rounds of at
		 * least 1 ms of cells, as the kernel-socket generator does
		 * (rend_pump.h). Relay: spent in whole records only, as the
		 * kernel-socket generator does (bench_relay.c). */
		if (rendezvous(u) && u->tokens < u->p->rate * 0.001)
			budget = 0;
		if (!rendezvous(u))
			budget -= budget % RECORD_CELLS;
	}
	while (records < PUMP_RECORDS && cells < budget && full < u->n_clients) {
		struct ugen_link *l = u->links[u->next_client];
		unsigned want = budget - cells < RECORD_CELLS ? budget - cells : RECORD_CELLS;
		unsigned n;

		u->next_client = u->next_client + 1 == u->n_clients ? 0 : u->next_client + 1;
		uint32_t queued = 0;

		/* Records of this round are handed to TCP after the seal: count
		 * them against the send space already. */
		for (unsigned r = 0; r < records; r++)
			if (owners[r] == l)
				queued += (uint32_t)rte_pktmbuf_pkt_len(mbufs[r]);
		if (tcp_send_space(u->tcp, l->conn) < queued + RECORD_WIRE_MAX) {
			full++;
			continue;
		}
		/* Rendezvous cells carry both their layers already. */
		if (rendezvous(u)) {
			n = pump_record_rend(u, l, want, &mbufs[records]);
		} else {
			n = pump_record(u, l, want, &mbufs[records], payloads + layered,
					layers + layered);
			layered += n;
		}
		if (n == 0) {
			full++;
			continue;
		}
		full = 0;
		uint8_t *base = rte_pktmbuf_mtod(mbufs[records], uint8_t *);
		unsigned pre = tls_record_prefix_len(l->version);

		iovs[records] = (struct crypto_iov){ .base = base + pre, .len = n * CELL_LEN };
		seals[records] = (struct tls_record_seal){ .dir = &l->write_dir, .prefix = base,
			.segments = &iovs[records], .nb_segments = 1,
			.content_type = TLS_CONTENT_APPLICATION_DATA,
			.suffix = base + pre + n * CELL_LEN };
		owners[records++] = l;
		cells += n;
	}
	if (records == 0)
		return 0;
	if (layered > 0)
		relay_crypt_burst(u->engine, layers, payloads, layered);
	if (tls_record_seal_burst(u->engine, seals, records) != records) {
		ugen_fail(u, -EIO, "sealing a record failed");
		rte_pktmbuf_free_bulk(mbufs, records);
		return 0;
	}
	for (unsigned r = 0; r < records; r++) {
		int rc = tcp_send(u->tcp, owners[r]->conn, mbufs[r], now);

		if (rc < 0) {
			rte_pktmbuf_free(mbufs[r]);
			ugen_fail(u, rc, "client: send to the relay under test: %s", strerror(-rc));
			return cells;
		}
	}
	u->sent += cells;
	if (u->p->rate > 0)
		u->tokens -= cells;
	return cells;
}

static void
publish(struct ugen *u)
{
	struct bench_ugen_shared *sh = u->sh;
	bool authenticated = u->n_sinks > 0;

	for (unsigned i = 0; i < u->n_links; i++)
		if (u->links[i]->kind == LINK_SINK)
			authenticated = authenticated && u->links[i]->authenticated;
	__atomic_store_n(&sh->ugen.sent, u->sent, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->ugen.received, u->received, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->ugen.verified, u->verified, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->ugen.verify_failures, u->verify_failures, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->ugen.backward_cells, u->backward_cells, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->ugen.sink_links, u->n_sinks, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->ugen.sink_authenticated, authenticated, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->ugen.records_sent, u->records_sent, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->ugen.mixed_records, u->mixed_records, __ATOMIC_RELAXED);
}

static unsigned
ugen_poll(void *arg, struct stack *stack, uint64_t now)
{
	struct ugen *u = arg;
	unsigned work = 0;

	(void)stack;
	if (u->failed)
		return 0;
	for (unsigned i = 0; i < u->n_clients; i++) {
		struct ugen_link *l = u->links[i];

		if (!l->has_conn && l->retry_at != 0 && now >= l->retry_at) {
			int rc = client_connect(u, l, now);

			if (rc < 0)
				ugen_fail(u, rc, "client: connect: %s", strerror(-rc));
			work++;
		}
	}
	/* Rendezvous: the data cells start when the bench, having read the
	 * CPU counters, says go. */
	if (rendezvous(u) && !u->pumping && u->joined == u->p->pairs &&
	    GET(u->sh->bench.go) != 0) {
		u->pumping = true;
		u->token_time = now;
	}
	if (u->pumping && !u->draining)
		work += pump(u, now);
	return work;
}

static const struct stack_app_ops ugen_app_ops = {
	.events = ugen_events,
	.poll = ugen_poll,
};

/* ---- set-up ------------------------------------------------------------ */

/* The sink's keys and link credentials (relay_keys makes them as tor
 * would), the TLS contexts, and the cell bodies. */
static int
ugen_identity(struct ugen *u)
{
	struct relay_keys_error kerr;
	struct link_credentials_params p;
	struct ntor_server_keys ntor;
	uint8_t crosscert[512];
	const uint8_t *signing_cert;
	size_t link_len, id_len, signing_len;
	ssize_t cross_len;
	time_t now = time(NULL);
	int rc;

	rc = relay_keys_load_or_create(u->p->sink_dir, now, &u->sink_keys, &kerr);
	if (rc < 0) {
		fprintf(stderr, "ugen: sink keys: %s: %s\n", kerr.path, kerr.message);
		return rc;
	}
	rc = tls_link_credentials_create(relay_keys_identity(u->sink_keys), 0, now, &u->sink_tls);
	if (rc == 0)
		rc = tls_handshake_context_create(TLS_ROLE_SERVER, u->sink_tls, &u->server_ctx);
	if (rc == 0)
		rc = tls_handshake_context_create(TLS_ROLE_CLIENT, NULL, &u->client_ctx);
	if (rc < 0)
		return rc;
	cross_len = rsa_ed25519_crosscert_create(relay_keys_master(u->sink_keys)->public_key,
			torcert_hours_from_time(now + 30 * 24 * 3600),
			relay_keys_identity(u->sink_keys), crosscert, sizeof(crosscert));
	if (cross_len < 0)
		return (int)cross_len;
	signing_cert = relay_keys_signing_cert(u->sink_keys, &signing_len);
	memset(&p, 0, sizeof(p));
	p.rsa_identity = relay_keys_identity(u->sink_keys);
	p.ed25519_identity = relay_keys_master(u->sink_keys)->public_key;
	p.ed25519_signing = relay_keys_signing(u->sink_keys);
	p.signing_cert = signing_cert;
	p.signing_cert_len = signing_len;
	p.rsa_crosscert = crosscert;
	p.rsa_crosscert_len = (size_t)cross_len;
	p.identity_x509 = tls_link_credentials_identity_cert(u->sink_tls, &id_len);
	p.identity_x509_len = id_len;
	p.link_x509 = tls_link_credentials_link_cert(u->sink_tls, &link_len);
	p.link_x509_len = link_len;
	rc = link_credentials_new(&p, now, &u->sink_link_credentials);
	if (rc < 0)
		return rc;
	relay_keys_ntor_server_keys(u->sink_keys, &ntor);
	memcpy(u->sink_hs.rsa_id, ntor.node_id, sizeof(u->sink_hs.rsa_id));
	memcpy(u->sink_hs.ed25519_id, relay_keys_master(u->sink_keys)->public_key,
			sizeof(u->sink_hs.ed25519_id));
	memcpy(u->sink_hs.onion_keys, ntor.onion_keys, sizeof(ntor.onion_keys));
	u->sink_hs.onion_key_count = ntor.onion_key_count;
	memset(&ntor, 0, sizeof(ntor));

	/* DROP cell: command 10, recognized 0, stream 0, digest 0, a full
	 * RELAY_DATA_MAX of data; circuit number and sequence written per
	 * sample. */
	struct relay_cell drop = { .command = RELAY_COMMAND_DROP, .length = RELAY_DATA_MAX };
	uint8_t data[RELAY_DATA_MAX];
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	drop.data = data;
	if (relay_cell_encode(&drop, u->drop_template, sizeof(u->drop_template)) < 0)
		return -EINVAL;
	/* The other cells' body stands for a cell under the sink's layer:
	 * pseudo-random bytes, "recognized" not zero, so that hsrelay, once
	 * its own layer is off, forwards it as not addressed to it. */
	for (unsigned i = 0; i < sizeof(u->filler); i++)
		u->filler[i] = (uint8_t)bench_rand(&seed);
	u->filler[RELAY_OFFSET_RECOGNIZED] |= 0x80;
	return 0;
}

static int
ugen_eal_start(const struct bench_ugen_params *p)
{
	char lcores[64], vdev[PATH_MAX + 256];
	char *argv[24];
	int argc = 0;
	long free_pages = eal_free_hugepages_2mb("/proc/meminfo");

	snprintf(lcores, sizeof(lcores), "0@(%s)", p->cpus);
	snprintf(vdev, sizeof(vdev),
			"net_memif0,role=server,socket=%s,socket-abstract=no,rsize=%d,"
			"mac=%02x:%02x:%02x:%02x:%02x:%02x", p->socket_path, MEMIF_LOG2_RING,
			p->mac[0], p->mac[1], p->mac[2], p->mac[3], p->mac[4], p->mac[5]);
	argv[argc++] = (char *)"hsrelay-bench-ugen";
	argv[argc++] = (char *)"--lcores";
	argv[argc++] = lcores;
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--no-telemetry";
	argv[argc++] = (char *)"--file-prefix";
	argv[argc++] = (char *)p->prefix;
	/* hsrelay takes the hugepages first if there are enough for both
	 * (dataplane/eal.h makes the same choice for it). */
	if (free_pages >= 256 + 160) {
		argv[argc++] = (char *)"--in-memory";
	} else {
		argv[argc++] = (char *)"--no-huge";
		argv[argc++] = (char *)"--no-shconf";
		argv[argc++] = (char *)"-m";
		argv[argc++] = (char *)"320";
	}
	argv[argc++] = (char *)"--log-level=lib.eal:error";
	argv[argc++] = (char *)"--log-level=pmd.net.memif:error";
	argv[argc++] = (char *)"--vdev";
	argv[argc++] = vdev;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0)
		return -rte_errno;
	return 0;
}

static void
ugen_print_stats(const struct ugen *u)
{
	const struct tcp_stats *st = tcp_stack_stats(u->tcp);
	const struct worker_counters *wc = worker_counters(u->worker);

	fprintf(stderr, "ugen: stats sent=%" PRIu64 " received=%" PRIu64 " verified=%" PRIu64
			" verify_failures=%" PRIu64 " backward=%" PRIu64 " record_alloc_failed=%" PRIu64
			" segments_in=%" PRIu64 " segments_out=%" PRIu64 " retransmitted=%" PRIu64
			" drop_no_mbuf=%" PRIu64 " drop_output_full=%" PRIu64 " rx=%" PRIu64
			" tx=%" PRIu64 " tx_dropped=%" PRIu64 "\n",
			u->sent, u->received, u->verified, u->verify_failures, u->backward_cells,
			u->record_alloc_failed, st->segments_in, st->segments_out,
			st->retransmitted_segments, st->drop_no_mbuf, st->drop_output_full,
			wc->rx_packets, wc->tx_packets, wc->tx_dropped);
}

static bool
bench_gone(const struct bench_ugen_shared *sh)
{
	return GET(sh->bench.stop) != 0 || getppid() == 1;
}

/* The loop on the main lcore: worker iterations (stack, events, pump)
 * until the bench asks to halt, with the loop's busy and total time. */
static void
ugen_loop(struct ugen *u)
{
	struct bench_ugen_shared *sh = u->sh;
	uint64_t busy = 0, all = 0, polls = 0, hz = rte_get_tsc_hz();
	unsigned empty = 0;

	bool gone = false;

	while (GET(sh->bench.halt) == 0 && !gone) {
		uint64_t t0 = rte_rdtsc();
		unsigned work = worker_poll(u->worker, worker_tsc_to_ns(t0));
		uint64_t t1 = rte_rdtsc();

		all += t1 - t0;
		if (work != 0)
			busy += t1 - t0;
		if ((++polls & 255) == 0) {
			/* getppid() is a system call: not every iteration. */
			gone = bench_gone(sh);
			publish(u);
			__atomic_store_n(&sh->ugen.busy_ns, busy * 1000000000ull / hz, __ATOMIC_RELAXED);
			__atomic_store_n(&sh->ugen.poll_ns, all * 1000000000ull / hz, __ATOMIC_RELAXED);
			if (u->draining && GET(sh->ugen.drained) == 0)
				PUT(sh->ugen.drained, 1);
			if (GET(sh->bench.drain) != 0)
				u->draining = true;
		}
		/* Back off after IDLE_POLLS empty polls (set-up, or every
		 * window full): on a machine of two CPUs, the other one is
		 * hsrelay's worker's, and whatever else runs needs this one. */
		if (work != 0 || u->p->idle_sleep_usec == 0 || ++empty < IDLE_POLLS) {
			if (work != 0)
				empty = 0;
			continue;
		}
		empty = 0;
		nanosleep(&(struct timespec){ .tv_nsec = (long)u->p->idle_sleep_usec * 1000 }, NULL);
	}
	publish(u);
}

static int
ugen_run(struct ugen *u)
{
	const struct bench_ugen_params *p = u->p;
	struct rte_ring *control = NULL, *events = NULL;
	struct port_info port;
	uint64_t deadline;
	int rc;

	u->engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	u->slots = rte_zmalloc("ugen_slots", BENCH_UGEN_MAX_CIRCUITS * sizeof(*u->slots), 64);
	if (u->engine == NULL || u->slots == NULL)
		return -ENOMEM;
	if (rendezvous(u)) {
		if (p->pairs < 1 || p->pairs > BENCH_UGEN_MAX_PAIRS || p->links < 1 ||
		    p->links > BENCH_UGEN_MAX_LINKS || p->links > 2 * p->pairs || p->cells < 1 ||
		    p->window < 1 || p->burst < 1) {
			ugen_fail(u, -EINVAL, "rendezvous: bad parameters");
			return -EINVAL;
		}
		/* The ends' cell code (rend_pump.h) uses the interop
		 * client's engine: ours. */
		test_client_use_engine(u->engine);
		u->expected = 2ull * p->pairs * p->cells;
		u->ends = rte_zmalloc("ugen_ends", 2 * p->pairs * sizeof(*u->ends), 64);
		u->latency = malloc(u->expected * sizeof(*u->latency));
		if (u->ends == NULL || u->latency == NULL)
			return -ENOMEM;
	}
	rc = ugen_identity(u);
	if (rc < 0) {
		ugen_fail(u, rc, "sink identity: %s", strerror(-rc));
		return rc;
	}
	u->pool = port_mempool_create("ugen", POOL_MBUFS, (int)rte_socket_id());
	u->record_pool = rte_pktmbuf_pool_create("ugen_records", RECORD_POOL_MBUFS, 64, 0,
			(uint16_t)RECORD_DATA_ROOM, (int)rte_socket_id());
	if (u->pool == NULL || u->record_pool == NULL) {
		ugen_fail(u, -ENOMEM, "mempools: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = port_find("net_memif0", &u->port_id);
	/* memif offers no checksum offloads: the stack sums in software. */
	if (rc == 0)
		rc = port_start(u->port_id, 1, &u->pool, PORT_DESC, PORT_DESC, false, &port);
	if (rc < 0) {
		ugen_fail(u, rc, "memif port: %s", strerror(-rc));
		return rc;
	}
	u->port_started = true;

	struct stack_config cfg = {
		.index = 0,
		.n_workers = 1,
		.socket_id = (int)rte_socket_id(),
		.pool = u->pool,
		.ip = p->ip,
		.prefix_len = p->prefix_len,
		.arp = {
			.capacity = 16,
			.held_per_entry = 8,
			.max_requests = 3,
			.reachable_ns = 600ull * 1000000000,
			.retry_ns = 1000000000ull,
		},
		.tcp = {
			.max_connections = 4 * UGEN_MAX_CONNS,
		},
		.app = &ugen_app_ops,
		.app_arg = u,
	};

	memcpy(cfg.mac.addr_bytes, p->mac, 6);
	u->stack = stack_create(&cfg, &rc);
	if (u->stack == NULL) {
		ugen_fail(u, rc, "stack: %s", strerror(-rc));
		return rc;
	}
	u->tcp = stack_tcp(u->stack);
	control = ring_msg_ring_create("ugen_ctl", 64, (int)rte_socket_id());
	events = ring_msg_ring_create("ugen_ev", 64, (int)rte_socket_id());
	if (control == NULL || events == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	struct worker_config wc = {
		.index = 0,
		.n_workers = 1,
		.port_id = u->port_id,
		.queue_id = 0,
		.tx_linearize = !port.tx_multi_segs,
		.control_ring = control,
		.event_ring = events,
		.ops = &stack_worker_ops,
		.stack = u->stack,
		.socket_id = (int)rte_socket_id(),
	};

	u->worker = worker_create(&wc);
	if (u->worker == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	PUT(u->sh->ugen.state, BENCH_UGEN_LISTENING);
	/* hsrelay's memif client connects once it runs. */
	deadline = bench_now_ns() + LINK_WAIT_NS;
	while (!port_link_wait(u->port_id, 100)) {
		if (bench_now_ns() > deadline || GET(u->sh->bench.halt) || bench_gone(u->sh)) {
			rc = -ENOLINK;
			ugen_fail(u, rc, "hsrelay's memif never connected");
			goto out;
		}
	}
	PUT(u->sh->ugen.state, BENCH_UGEN_LINKED);
	/* Rendezvous: the relay under test joins our circuits; no sink. */
	rc = rendezvous(u) ? 0 : tcp_listen(u->tcp, p->ip, p->sink_port, &u->listener);
	if (rc < 0) {
		ugen_fail(u, rc, "sink listener: %s", strerror(-rc));
		goto out;
	}
	for (unsigned i = 0; i < p->links; i++) {
		struct ugen_link *l = link_new(u, LINK_CLIENT);

		if (l == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		u->n_clients++;
		l->peer_ip = p->rut_ip;
		rc = client_connect(u, l, now_ns());
		if (rc < 0) {
			ugen_fail(u, rc, "client: connect: %s", strerror(-rc));
			goto out;
		}
	}
	for (unsigned i = 0; rendezvous(u) && i < p->pairs; i++) {
		rend_pair_init(&u->ends[2 * i], &u->ends[2 * i + 1], i);
		u->ends[2 * i].to_send = u->ends[2 * i + 1].to_send = p->cells;
	}
	for (unsigned k = 0; k < (rendezvous(u) ? 2 * p->pairs : p->circuits); k++) {
		/* Rendezvous: pair i's client end on link i % L, its service
		 * end on the next link, as the kernel-socket generator has
		 * them (the splice joins circuits of different links). */
		struct ugen_link *l = u->links[rendezvous(u) ? (k / 2 + k % 2) % p->links :
			k % p->links];
		struct client_circuit *cc = rte_zmalloc("ugen_circ", sizeof(*cc), 64);

		if (cc == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		cc->index = k;
		cc->circ_id = 0x80000000u | (k + 1);
		cc->end = rendezvous(u) ? &u->ends[k] : NULL;
		cc->link = l;
		l->circuits[l->n_circuits++] = cc;
		u->circuits[u->n_circuits++] = cc;
	}
	ugen_loop(u);
	rc = 0;
out:
	if (u->worker != NULL)
		worker_tx_flush(u->worker);
	PUT(u->sh->ugen.state, BENCH_UGEN_HALTED);
	if (p->verbose && u->tcp != NULL && u->worker != NULL)
		ugen_print_stats(u);
	/* The memif peer (hsrelay) leaves first: wait for the stop. */
	while (!bench_gone(u->sh))
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	for (unsigned i = 0; i < u->n_circuits; i++) {
		relay_cipher_clear(&u->circuits[i]->rut_forward);
		relay_cipher_clear(&u->circuits[i]->rut_backward);
		relay_cipher_clear(&u->circuits[i]->sink_forward);
		rte_free(u->circuits[i]);
	}
	for (unsigned i = 0; i < u->n_slots; i++)
		relay_cipher_clear(&u->slots[i].sink_forward);
	for (unsigned i = 0; u->ends != NULL && i < 2 * p->pairs; i++) {
		relay_cipher_clear(&u->ends[i].hop.forward);
		relay_cipher_clear(&u->ends[i].hop.backward);
		relay_cipher_clear(&u->ends[i].send.cipher);
		relay_cipher_clear(&u->ends[i].recv.cipher);
	}
	for (unsigned i = 0; i < u->n_links; i++)
		link_free(u->links[i]);
	if (u->stack != NULL)
		stack_destroy(u->stack);
	worker_destroy(u->worker);
	rte_ring_free(control);
	rte_ring_free(events);
	return rc;
}

int
bench_ugen_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "shared", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct bench_ugen_shared *sh;
	struct ugen *u;
	int opt, fd, rc;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (opt != 's')
			return 2;
		path = optarg;
	}
	if (path == NULL) {
		fprintf(stderr, "ugen: --shared is required\n");
		return 2;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("ugen: shared block");
		return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (sh == MAP_FAILED) {
		perror("ugen: mmap");
		return 1;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	optind = 1;
	rc = ugen_eal_start(&sh->params);
	if (rc < 0) {
		snprintf(sh->ugen.message, sizeof(sh->ugen.message), "EAL: %s", rte_strerror(-rc));
		fprintf(stderr, "ugen: %s\n", sh->ugen.message);
		PUT(sh->ugen.error, rc);
		PUT(sh->ugen.state, BENCH_UGEN_EXITED);
		return 1;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		rc = -ENOMEM;
	} else {
		u->sh = sh;
		u->p = &sh->params;
		rc = ugen_run(u);
	}
	if (u != NULL) {
		link_credentials_free(u->sink_link_credentials);
		tls_handshake_context_free(u->server_ctx);
		tls_handshake_context_free(u->client_ctx);
		tls_link_credentials_free(u->sink_tls);
		relay_keys_free(u->sink_keys);
		rte_free(u->slots);
		rte_free(u->ends);
		free(u->latency);
		test_client_use_engine(NULL);
		crypto_engine_destroy(u->engine);
		if (u->port_started)
			rte_eth_dev_stop(u->port_id);
		free(u);
	}
	/* rte_eal_cleanup() removes the vdev (closing the port). */
	rte_eal_cleanup();
	PUT(sh->ugen.state, BENCH_UGEN_EXITED);
	munmap(sh, sizeof(*sh));
	return rc < 0 ? 1 : 0;
}

/* ---- the bench's side -------------------------------------------------- */

static void
pause_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000) };

	nanosleep(&ts, NULL);
}

static bool
ugen_alive(const struct bench_ugen *ugen)
{
	return ugen->pid > 0 && waitpid(ugen->pid, NULL, WNOHANG) == 0;
}

void
bench_ugen_print_log(const struct bench_ugen *ugen)
{
	char line[1024];
	FILE *f = ugen->log[0] != '\0' ? fopen(ugen->log, "r") : NULL;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "  %s", line);
	fclose(f);
}

int
bench_ugen_start(struct bench_ugen *ugen, const char *work, const struct bench_ugen_params *params)
{
	struct bench_ugen_shared *sh;
	int fd, rc;

	memset(ugen, 0, sizeof(*ugen));
	snprintf(ugen->shared_path, sizeof(ugen->shared_path), "%s/ugen.shared", work);
	snprintf(ugen->log, sizeof(ugen->log), "%s/ugen.log", work);
	snprintf(ugen->socket_path, sizeof(ugen->socket_path), "%s/memif-ugen.sock", work);
	snprintf(ugen->prefix, sizeof(ugen->prefix), "hsugen%d", (int)getpid());
	unlink(ugen->socket_path);
	fd = open(ugen->shared_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(*sh)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (sh == MAP_FAILED)
		return -errno;
	ugen->shared = sh;
	memset(sh, 0, sizeof(*sh));
	sh->params = *params;
	snprintf(sh->params.socket_path, sizeof(sh->params.socket_path), "%s", ugen->socket_path);
	snprintf(sh->params.sink_dir, sizeof(sh->params.sink_dir), "%s/ugen-sink-data", work);
	snprintf(sh->params.prefix, sizeof(sh->params.prefix), "%s", ugen->prefix);
	ugen->pid = fork();
	if (ugen->pid < 0) {
		ugen->pid = 0;
		rc = -errno;
		bench_ugen_stop(ugen);
		return rc;
	}
	if (ugen->pid == 0) {
		int log = open(ugen->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		unsetenv("MALLOC_PERTURB_");
		if (log >= 0) {
			dup2(log, STDOUT_FILENO);
			dup2(log, STDERR_FILENO);
		}
		execl("/proc/self/exe", "hsrelay-bench", "ugen", "--shared", ugen->shared_path,
				(char *)NULL);
		_exit(127);
	}
	rc = bench_ugen_wait_state(ugen, BENCH_UGEN_LISTENING, START_TIMEOUT_NS);
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench: the generator did not start; its log:\n");
		bench_ugen_print_log(ugen);
		bench_ugen_stop(ugen);
	}
	return rc;
}

int
bench_ugen_wait_state(struct bench_ugen *ugen, enum bench_ugen_state want, uint64_t timeout_ns)
{
	uint64_t end = bench_now_ns() + timeout_ns;

	for (;;) {
		int error = GET(ugen->shared->ugen.error);

		if (error < 0)
			return error;
		if (GET(ugen->shared->ugen.state) >= (uint32_t)want)
			return 0;
		if (!ugen_alive(ugen))
			return -ECHILD;
		if (bench_now_ns() > end)
			return -ETIMEDOUT;
		pause_ns(2000000);
	}
}

uint64_t
bench_ugen_received(const struct bench_ugen *ugen)
{
	return __atomic_load_n(&ugen->shared->ugen.received, __ATOMIC_RELAXED);
}

uint64_t
bench_ugen_sent(const struct bench_ugen *ugen)
{
	return __atomic_load_n(&ugen->shared->ugen.sent, __ATOMIC_RELAXED);
}

int
bench_ugen_error(const struct bench_ugen *ugen, const char **message)
{
	int error = ugen->shared != NULL ? GET(ugen->shared->ugen.error) : 0;

	if (message != NULL)
		*message = error < 0 ? ugen->shared->ugen.message : "";
	return error;
}

void
bench_ugen_loop_seconds(const struct bench_ugen *ugen, double *busy, double *poll)
{
	*busy = (double)__atomic_load_n(&ugen->shared->ugen.busy_ns, __ATOMIC_RELAXED) / 1e9;
	*poll = (double)__atomic_load_n(&ugen->shared->ugen.poll_ns, __ATOMIC_RELAXED) / 1e9;
}

int
bench_ugen_drain(struct bench_ugen *ugen, uint64_t timeout_ns, uint64_t *sent, uint64_t *lost)
{
	uint64_t end, s, r;
	int error;

	PUT(ugen->shared->bench.drain, 1);
	end = bench_now_ns() + timeout_ns;
	/* The pump stops within 256 polls and says so once its count of
	 * cells sent is final. */
	while (GET(ugen->shared->ugen.drained) == 0 && bench_ugen_error(ugen, NULL) == 0 &&
	       bench_now_ns() < end && ugen_alive(ugen))
		pause_ns(1000000);
	for (;;) {
		s = bench_ugen_sent(ugen);
		r = bench_ugen_received(ugen);
		error = bench_ugen_error(ugen, NULL);
		if (r >= s || error < 0 || bench_now_ns() > end || !ugen_alive(ugen))
			break;
		pause_ns(10000000);
	}
	*sent = s;
	*lost = s > r ? s - r : 0;
	return error;
}

void
bench_ugen_go(struct bench_ugen *ugen)
{
	PUT(ugen->shared->bench.go, 1);
}

int
bench_ugen_wait_finished(struct bench_ugen *ugen, uint64_t stall_ns)
{
	uint64_t received = bench_ugen_received(ugen), progress = bench_now_ns();

	while (GET(ugen->shared->ugen.finished) == 0) {
		int error = bench_ugen_error(ugen, NULL);
		uint64_t now = bench_now_ns(), r = bench_ugen_received(ugen);

		if (error < 0)
			return error;
		if (!ugen_alive(ugen))
			return -ECHILD;
		if (bench_interrupted)
			return -EINTR;
		if (r != received) {
			received = r;
			progress = now;
		} else if (now - progress > stall_ns) {
			return -ETIMEDOUT;
		}
		/* The end of the window is read when this returns: look
		 * often. */
		pause_ns(200000);
	}
	return 0;
}

int
bench_ugen_latency(struct bench_ugen *ugen, uint64_t timeout_ns, struct bench_latency *out)
{
	const struct bench_ugen_shared *sh = ugen->shared;
	uint64_t end = bench_now_ns() + timeout_ns;

	while (GET(sh->ugen.latency_ready) == 0) {
		int error = bench_ugen_error(ugen, NULL);

		if (error < 0)
			return error;
		if (!ugen_alive(ugen))
			return -ECHILD;
		if (bench_now_ns() > end)
			return -ETIMEDOUT;
		pause_ns(1000000);
	}
	out->samples = sh->ugen.latency_samples;
	out->p50_ns = sh->ugen.latency_p50_ns;
	out->p99_ns = sh->ugen.latency_p99_ns;
	out->max_ns = sh->ugen.latency_max_ns;
	return 0;
}

int
bench_ugen_halt(struct bench_ugen *ugen)
{
	if (ugen->pid <= 0 || ugen->shared == NULL)
		return 0;

	uint64_t end = bench_now_ns() + HALT_TIMEOUT_NS;

	PUT(ugen->shared->bench.halt, 1);
	/* The state, not an error: a failed generator polls on until it is
	 * told to halt. */
	while (GET(ugen->shared->ugen.state) < BENCH_UGEN_HALTED) {
		if (!ugen_alive(ugen))
			return -ECHILD;
		if (bench_now_ns() > end)
			return -ETIMEDOUT;
		pause_ns(1000000);
	}
	return 0;
}

int
bench_ugen_stop(struct bench_ugen *ugen)
{
	uint64_t end = bench_now_ns() + STOP_TIMEOUT_NS;
	bool killed = false;
	int status = 0, rc = 0;

	if (ugen->pid > 0) {
		if (ugen->shared != NULL)
			PUT(ugen->shared->bench.stop, 1);
		for (;;) {
			pid_t w = waitpid(ugen->pid, &status, WNOHANG);

			if (w == ugen->pid || (w < 0 && errno != EINTR))
				break;
			if (!killed && bench_now_ns() > end) {
				kill(ugen->pid, SIGKILL);
				killed = true;
			}
			pause_ns(5000000);
		}
		rc = killed || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ? -1 : 0;
		ugen->pid = 0;
	}
	if (ugen->prefix[0] != '\0')
		bench_eal_runtime_dir_remove(ugen->prefix);
	if (ugen->socket_path[0] != '\0')
		unlink(ugen->socket_path);
	if (ugen->shared != NULL)
		munmap(ugen->shared, sizeof(*ugen->shared));
	ugen->shared = NULL;
	if (ugen->shared_path[0] != '\0')
		unlink(ugen->shared_path);
	return rc;
}
