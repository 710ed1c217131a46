/* hsrelay-bench crypto: relay cells per second per core for the two hot
 * loops of a relay, written twice and measured in the same run:
 *
 *   relay_forward:     GCM-open an inbound TLS 1.3 record of N cells; per cell
 *                      look up the circuit, remove one tor1 layer (AES-CTR),
 *                      check "recognized", rewrite the circ id to the next
 *                      hop's; GCM-seal the outbound record.
 *   rendezvous_splice: the same, but per cell two layers: circuit A's forward
 *                      key, the recognized check, then partner B's backward
 *                      key (tor relay.c, spliced circuits at a rendezvous
 *                      point).
 *
 * impl "hsrelay" uses the crypto module's batch APIs (ipsec-mb GCM, the
 * relay CTR bursts, circuit state prefetched after the lookup pass).
 * impl "openssl_evp" is the same loop the way tor 0.4.9 does it: one OpenSSL
 * EVP context per circuit direction and per link direction, one EVP call per
 * cell and one init/update/final sequence per record.
 *
 * Both use the same circuit lookup (an open-addressing table keyed by
 * (inbound link, circ id)) and the same inbound records, and their outbound
 * records are checked byte-equal before anything is timed.
 *
 * The record pool is kept cache-sized (as NIC DMA into the last-level cache
 * would leave it); to make every circuit count, each pass over the pool
 * plays a different inbound link, whose cells map to a different slice of
 * the circuits. */
#include "bench/bench_crypto.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "crypto/engine.h"
#include "crypto/relay_crypto.h"
#include "crypto/tls_record.h"
#include "dataplane/wire.h"

#define CELL_LEN 514		/* circ id 4, command 1, payload 509 */
#define CELL_HEADER 5
#define CELL_COMMAND_RELAY 3
#define POOL_RECORDS 256
#define BURST_CELLS 32		/* cells per burst with 1-cell records */
#define MAX_RECORD_CELLS 31	/* 31 x 514 + 1 <= 2^14 */

enum bench_case { CASE_RELAY_FORWARD, CASE_RENDEZVOUS_SPLICE };

struct options {
	bool quick;
	unsigned key_len;
	double seconds;		/* per repetition */
	unsigned repetitions;
};

/* Circuit lookup: (link, circ id) -> circuit index. */
struct circuit_table {
	uint64_t *keys;		/* 0 = empty; stored as key + 1 */
	uint32_t *values;
	uint32_t mask;
};

static inline uint32_t
table_hash(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32);
}

static void
table_init(struct circuit_table *t, unsigned entries)
{
	unsigned size = 16;

	while (size < entries * 2)
		size <<= 1;
	t->keys = calloc(size, sizeof(*t->keys));
	t->values = calloc(size, sizeof(*t->values));
	t->mask = size - 1;
	if (t->keys == NULL || t->values == NULL) {
		fprintf(stderr, "hsrelay-bench: out of memory\n");
		exit(1);
	}
}

static void
table_insert(struct circuit_table *t, uint64_t key, uint32_t value)
{
	for (uint32_t i = table_hash(key) & t->mask;; i = (i + 1) & t->mask) {
		if (t->keys[i] == 0) {
			t->keys[i] = key + 1;
			t->values[i] = value;
			return;
		}
	}
}

static inline uint32_t
table_lookup(const struct circuit_table *t, uint64_t key)
{
	for (uint32_t i = table_hash(key) & t->mask;; i = (i + 1) & t->mask)
		if (t->keys[i] == key + 1 || t->keys[i] == 0)
			return t->keys[i] == 0 ? UINT32_MAX : t->values[i];
}

/* Everything both implementations share. */
struct workload {
	enum bench_case kind;
	unsigned circuits;	/* circuits (relay_forward) or circuit pairs */
	unsigned record_cells;
	unsigned key_len;
	unsigned links;		/* inbound links played in turn */
	unsigned per_link;	/* circuits per link */
	unsigned records_per_burst;
	size_t record_len;	/* 5 + cells + 1 + 16 */
	uint8_t *pool;		/* POOL_RECORDS inbound records */
	uint32_t *in_ids;	/* per circuit: inbound circ id */
	uint32_t *out_ids;	/* per circuit: next hop's / partner's circ id */
	uint8_t (*in_keys)[16], (*out_keys)[16];
	uint8_t (*digest_seeds)[20];
	struct circuit_table table;
	uint8_t link_in_key[32], link_in_iv[12], link_out_key[32], link_out_iv[12];
};

/* hsrelay state. */
struct hs_state {
	struct crypto_engine *engine;
	struct relay_cipher *in, *out;
	struct relay_digest *digests;
	struct tls_record_dir in_dir, out_dir;
	uint8_t *outbuf;	/* records_per_burst outbound records */
};

/* tor-style state: EVP contexts per circuit direction and per link. */
struct evp_state {
	EVP_CIPHER_CTX **in, **out;
	struct relay_digest *digests;
	EVP_CIPHER_CTX *link_in, *link_out;
	uint64_t out_seq;
	uint8_t *outbuf;
};

static void *
xaligned(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);

	if (p == NULL) {
		fprintf(stderr, "hsrelay-bench: out of memory\n");
		exit(1);
	}
	memset(p, 0, n);
	return p;
}

static unsigned
pow2_floor(unsigned v)
{
	unsigned p = 1;

	while (p * 2 <= v)
		p *= 2;
	return p;
}

static void
tls13_nonce(const uint8_t iv[12], uint64_t seq, uint8_t nonce[12])
{
	memcpy(nonce, iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
}

static void
workload_init(struct workload *w, enum bench_case kind, unsigned circuits, unsigned record_cells,
	      unsigned key_len, struct crypto_engine *engine)
{
	uint64_t rng = 0x5eed + circuits * 31 + record_cells;
	unsigned pool_cells = POOL_RECORDS * record_cells;
	struct tls_record_dir dir;

	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->circuits = circuits;
	w->record_cells = record_cells;
	w->key_len = key_len;
	w->per_link = pow2_floor(circuits < pool_cells ? circuits : pool_cells);
	w->links = circuits / w->per_link;
	w->records_per_burst = record_cells >= BURST_CELLS ? 1 : BURST_CELLS / record_cells;
	w->record_len = TLS_RECORD_HEADER_LEN + (size_t)record_cells * CELL_LEN + 1 + TLS_RECORD_TAG_LEN;
	w->in_ids = calloc(circuits, sizeof(*w->in_ids));
	w->out_ids = calloc(circuits, sizeof(*w->out_ids));
	w->in_keys = calloc(circuits, sizeof(*w->in_keys));
	w->out_keys = calloc(circuits, sizeof(*w->out_keys));
	w->digest_seeds = calloc(circuits, sizeof(*w->digest_seeds));
	w->pool = xaligned(POOL_RECORDS * w->record_len);
	table_init(&w->table, circuits);

	/* Circuits: link l owns indices [l * per_link, (l + 1) * per_link);
	 * the k-th circuit of every link uses circ id ids_by_slot[k]. */
	uint32_t *local_ids = calloc(w->per_link, sizeof(*local_ids));

	for (unsigned k = 0; k < w->per_link; k++)
		local_ids[k] = 0x80000000u | (uint32_t)(k * 2654435761u % 0x7fffffffu) | 1u;
	for (unsigned c = 0; c < circuits; c++) {
		unsigned link = c / w->per_link, k = c % w->per_link;

		w->in_ids[c] = local_ids[k];
		w->out_ids[c] = (uint32_t)bench_rand(&rng) | 0x80000000u;
		for (int i = 0; i < 16; i += 8) {
			uint64_t a = bench_rand(&rng), b = bench_rand(&rng);

			memcpy(w->in_keys[c] + i, &a, 8);
			memcpy(w->out_keys[c] + i, &b, 8);
		}
		for (int i = 0; i < 20; i++)
			w->digest_seeds[c][i] = (uint8_t)bench_rand(&rng);
		table_insert(&w->table, (uint64_t)link << 32 | local_ids[k], c);
	}
	for (int i = 0; i < 32; i++) {
		w->link_in_key[i] = (uint8_t)bench_rand(&rng);
		w->link_out_key[i] = (uint8_t)bench_rand(&rng);
	}
	for (int i = 0; i < 12; i++) {
		w->link_in_iv[i] = (uint8_t)bench_rand(&rng);
		w->link_out_iv[i] = (uint8_t)bench_rand(&rng);
	}

	/* Inbound records: pool cell s carries local circuit slot s mod
	 * per_link, in a shuffled order, so each pass touches every circuit of
	 * its link. Record r is sealed with sequence number r. */
	unsigned *slots = calloc(pool_cells, sizeof(*slots));

	for (unsigned s = 0; s < pool_cells; s++)
		slots[s] = s % w->per_link;
	for (unsigned s = pool_cells; s > 1; s--) {
		unsigned j = (unsigned)(bench_rand(&rng) % s), t = slots[s - 1];

		slots[s - 1] = slots[j];
		slots[j] = t;
	}
	tls_record_dir_init(engine, &dir, TLS_RECORD_TLS13, w->link_in_key, key_len, w->link_in_iv, 12, 0);
	for (unsigned r = 0; r < POOL_RECORDS; r++) {
		uint8_t *rec = w->pool + r * w->record_len;
		uint8_t *cells = rec + TLS_RECORD_HEADER_LEN;

		for (unsigned i = 0; i < record_cells; i++) {
			uint8_t *cell = cells + i * CELL_LEN;

			wire_write_u32(cell, local_ids[slots[r * record_cells + i]]);
			cell[4] = CELL_COMMAND_RELAY;
			for (unsigned b = CELL_HEADER; b < CELL_LEN; b++)
				cell[b] = (uint8_t)bench_rand(&rng);
		}
		struct crypto_iov seg = {cells, (uint32_t)(record_cells * CELL_LEN)};
		struct tls_record_seal s = {
			.dir = &dir, .prefix = rec, .segments = &seg, .nb_segments = 1,
			.content_type = TLS_CONTENT_APPLICATION_DATA,
			.suffix = cells + record_cells * CELL_LEN,
		};
		tls_record_seal_burst(engine, &s, 1);
	}
	free(slots);
	free(local_ids);
}

static void
workload_free(struct workload *w)
{
	free(w->in_ids);
	free(w->out_ids);
	free(w->in_keys);
	free(w->out_keys);
	free(w->digest_seeds);
	free(w->pool);
	free(w->table.keys);
	free(w->table.values);
}

/* ---- hsrelay ---------------------------------------------------------- */

static void
hs_init(struct hs_state *h, const struct workload *w, struct crypto_engine *engine)
{
	h->engine = engine;
	h->in = xaligned(w->circuits * sizeof(*h->in));
	h->out = xaligned(w->circuits * sizeof(*h->out));
	h->digests = xaligned(w->circuits * sizeof(*h->digests));
	for (unsigned c = 0; c < w->circuits; c++) {
		relay_cipher_init(engine, &h->in[c], w->in_keys[c]);
		relay_cipher_init(engine, &h->out[c], w->out_keys[c]);
		relay_digest_init(&h->digests[c], w->digest_seeds[c]);
	}
	tls_record_dir_init(engine, &h->in_dir, TLS_RECORD_TLS13, w->link_in_key, w->key_len,
			    w->link_in_iv, 12, 0);
	tls_record_dir_init(engine, &h->out_dir, TLS_RECORD_TLS13, w->link_out_key, w->key_len,
			    w->link_out_iv, 12, 0);
	h->outbuf = xaligned(w->records_per_burst * w->record_len);
}

static void
hs_free(struct hs_state *h)
{
	free(h->in);
	free(h->out);
	free(h->digests);
	free(h->outbuf);
}

/* One burst: records [first, first + m) of the pool, as inbound link
 * `link`. */
static void
hs_burst(struct hs_state *h, const struct workload *w, unsigned link, unsigned first, unsigned m)
{
	struct crypto_iov in_segs[BURST_CELLS], out_segs[BURST_CELLS];
	struct tls_record_open opens[BURST_CELLS];
	struct tls_record_seal seals[BURST_CELLS];
	struct relay_cipher *cin[BURST_CELLS], *cout[BURST_CELLS];
	uint8_t *payloads[BURST_CELLS], *cells[BURST_CELLS];
	uint32_t index[BURST_CELLS];
	bool recognized[BURST_CELLS];
	unsigned n = 0;
	size_t plain = (size_t)w->record_cells * CELL_LEN;

	h->in_dir.seq = first;
	for (unsigned j = 0; j < m; j++) {
		uint8_t *rec = w->pool + (first + j) * w->record_len;

		in_segs[j] = (struct crypto_iov){rec + TLS_RECORD_HEADER_LEN,
						 (uint32_t)(w->record_len - TLS_RECORD_HEADER_LEN)};
		opens[j] = (struct tls_record_open){
			.dir = &h->in_dir, .header = rec, .segments = &in_segs[j], .nb_segments = 1,
			.out = h->outbuf + j * w->record_len + TLS_RECORD_HEADER_LEN,
		};
	}
	if (tls_record_open_burst(h->engine, opens, m) != m) {
		fprintf(stderr, "hsrelay-bench: inbound record failed to open\n");
		exit(1);
	}

	/* Classify: look every cell's circuit up, then prefetch its state. */
	for (unsigned j = 0; j < m; j++) {
		uint8_t *c = h->outbuf + j * w->record_len + TLS_RECORD_HEADER_LEN;

		for (unsigned i = 0; i < w->record_cells; i++, n++, c += CELL_LEN) {
			uint32_t idx = table_lookup(&w->table, (uint64_t)link << 32 | wire_read_u32(c));

			index[n] = idx;
			cells[n] = c;
			payloads[n] = c + CELL_HEADER;
			cin[n] = &h->in[idx];
			cout[n] = &h->out[idx];
			relay_cipher_prefetch(cin[n]);
			if (w->kind == CASE_RENDEZVOUS_SPLICE)
				relay_cipher_prefetch(cout[n]);
		}
	}

	if (w->kind == CASE_RENDEZVOUS_SPLICE) {
		if (relay_crypt_splice_burst(h->engine, cin, cout, payloads, recognized, n) != 0) {
			for (unsigned i = 0; i < n; i++) {
				if (!recognized[i])
					continue;
				/* Not ours (random data): finish the splice. */
				if (!relay_digest_check(&h->digests[index[i]], payloads[i]))
					relay_crypt_burst(h->engine, &cout[i], &payloads[i], 1);
			}
		}
	} else {
		relay_crypt_burst(h->engine, cin, payloads, n);
		for (unsigned i = 0; i < n; i++)
			if (payloads[i][1] == 0 && payloads[i][2] == 0)
				relay_digest_check(&h->digests[index[i]], payloads[i]);
	}
	for (unsigned i = 0; i < n; i++)
		wire_write_u32(cells[i], w->out_ids[index[i]]);

	for (unsigned j = 0; j < m; j++) {
		uint8_t *rec = h->outbuf + j * w->record_len;

		out_segs[j] = (struct crypto_iov){rec + TLS_RECORD_HEADER_LEN, (uint32_t)plain};
		seals[j] = (struct tls_record_seal){
			.dir = &h->out_dir, .prefix = rec, .segments = &out_segs[j], .nb_segments = 1,
			.content_type = TLS_CONTENT_APPLICATION_DATA,
			.suffix = rec + TLS_RECORD_HEADER_LEN + plain,
		};
	}
	tls_record_seal_burst(h->engine, seals, m);
}

/* ---- the tor 0.4.9 way: OpenSSL EVP ------------------------------------ */

static EVP_CIPHER_CTX *
evp_ctr_new(const uint8_t key[16])
{
	static const uint8_t iv[16];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key, iv) != 1) {
		fprintf(stderr, "hsrelay-bench: EVP AES-CTR init failed\n");
		exit(1);
	}
	return ctx;
}

static EVP_CIPHER_CTX *
evp_gcm_new(const uint8_t *key, unsigned key_len, bool encrypt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *cipher = key_len == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();

	if (ctx == NULL || EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, encrypt) != 1) {
		fprintf(stderr, "hsrelay-bench: EVP AES-GCM init failed\n");
		exit(1);
	}
	return ctx;
}

static void
evp_init(struct evp_state *v, const struct workload *w)
{
	v->in = calloc(w->circuits, sizeof(*v->in));
	v->out = calloc(w->circuits, sizeof(*v->out));
	v->digests = xaligned(w->circuits * sizeof(*v->digests));
	for (unsigned c = 0; c < w->circuits; c++) {
		v->in[c] = evp_ctr_new(w->in_keys[c]);
		/* A middle relay has both directions of every circuit. */
		v->out[c] = evp_ctr_new(w->out_keys[c]);
		relay_digest_init(&v->digests[c], w->digest_seeds[c]);
	}
	v->link_in = evp_gcm_new(w->link_in_key, w->key_len, false);
	v->link_out = evp_gcm_new(w->link_out_key, w->key_len, true);
	v->out_seq = 0;
	v->outbuf = xaligned(w->records_per_burst * w->record_len);
}

static void
evp_free(struct evp_state *v, const struct workload *w)
{
	for (unsigned c = 0; c < w->circuits; c++) {
		EVP_CIPHER_CTX_free(v->in[c]);
		EVP_CIPHER_CTX_free(v->out[c]);
	}
	free(v->in);
	free(v->out);
	free(v->digests);
	EVP_CIPHER_CTX_free(v->link_in);
	EVP_CIPHER_CTX_free(v->link_out);
	free(v->outbuf);
}

static inline void
evp_ctr(EVP_CIPHER_CTX *ctx, uint8_t *p)
{
	int outl;

	EVP_EncryptUpdate(ctx, p, &outl, p, RELAY_CRYPTO_PAYLOAD_LEN);
}

/* Like OpenSSL's TLS 1.3 record layer: a fresh nonce per record, AAD, data,
 * tag. Returns false when the record does not authenticate. */
static bool
evp_record_open(EVP_CIPHER_CTX *ctx, const uint8_t iv[12], uint64_t seq, const uint8_t *rec,
		size_t rec_len, uint8_t *out)
{
	uint8_t nonce[12];
	int outl, ct_len = (int)(rec_len - TLS_RECORD_HEADER_LEN - TLS_RECORD_TAG_LEN);

	tls13_nonce(iv, seq, nonce);
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, rec, TLS_RECORD_HEADER_LEN) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &outl, rec + TLS_RECORD_HEADER_LEN, ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TLS_RECORD_TAG_LEN,
				(void *)(rec + TLS_RECORD_HEADER_LEN + ct_len)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + outl, &outl) != 1)
		return false;
	/* RFC 8446 5.4: strip padding to find the inner content type. */
	while (ct_len > 0 && out[ct_len - 1] == 0)
		ct_len--;
	return ct_len > 0;
}

static void
evp_record_seal(EVP_CIPHER_CTX *ctx, const uint8_t iv[12], uint64_t seq, uint8_t *rec,
		size_t plain)
{
	uint8_t nonce[12];
	uint8_t *body = rec + TLS_RECORD_HEADER_LEN;
	size_t inner = plain + 1;
	int outl;

	rec[0] = TLS_CONTENT_APPLICATION_DATA;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)((inner + TLS_RECORD_TAG_LEN) >> 8);
	rec[4] = (uint8_t)(inner + TLS_RECORD_TAG_LEN);
	body[plain] = TLS_CONTENT_APPLICATION_DATA;
	tls13_nonce(iv, seq, nonce);
	EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce);
	EVP_EncryptUpdate(ctx, NULL, &outl, rec, TLS_RECORD_HEADER_LEN);
	EVP_EncryptUpdate(ctx, body, &outl, body, (int)inner);
	EVP_EncryptFinal_ex(ctx, body + inner, &outl);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TLS_RECORD_TAG_LEN, body + inner);
}

static void
evp_burst(struct evp_state *v, const struct workload *w, unsigned link, unsigned first, unsigned m)
{
	size_t plain = (size_t)w->record_cells * CELL_LEN;

	/* tor handles a record at a time and a cell at a time. */
	for (unsigned j = 0; j < m; j++) {
		const uint8_t *rec = w->pool + (first + j) * w->record_len;
		uint8_t *out = v->outbuf + j * w->record_len;
		uint8_t *c = out + TLS_RECORD_HEADER_LEN;

		if (!evp_record_open(v->link_in, w->link_in_iv, first + j, rec, w->record_len, c)) {
			fprintf(stderr, "hsrelay-bench: inbound record failed to open (EVP)\n");
			exit(1);
		}
		for (unsigned i = 0; i < w->record_cells; i++, c += CELL_LEN) {
			uint32_t idx = table_lookup(&w->table, (uint64_t)link << 32 | wire_read_u32(c));
			uint8_t *payload = c + CELL_HEADER;

			evp_ctr(v->in[idx], payload);
			if (payload[1] == 0 && payload[2] == 0 &&
			    relay_digest_check(&v->digests[idx], payload)) {
				wire_write_u32(c, w->out_ids[idx]);
				continue;
			}
			if (w->kind == CASE_RENDEZVOUS_SPLICE)
				evp_ctr(v->out[idx], payload);
			wire_write_u32(c, w->out_ids[idx]);
		}
		evp_record_seal(v->link_out, w->link_out_iv, v->out_seq++, out, plain);
	}
}

/* ---- driver ------------------------------------------------------------ */

/* Runs whole passes over the pool (one inbound link per pass) for about
 * `seconds`; returns ns per cell. */
static double
time_passes(const struct workload *w, void *state, bool hsrelay, double seconds, unsigned *link)
{
	uint64_t start = bench_now_ns(), now, cells = 0;
	uint64_t budget = (uint64_t)(seconds * 1e9);

	do {
		for (unsigned r = 0; r < POOL_RECORDS; r += w->records_per_burst) {
			unsigned m = POOL_RECORDS - r < w->records_per_burst ? POOL_RECORDS - r
									      : w->records_per_burst;

			if (hsrelay)
				hs_burst(state, w, *link, r, m);
			else
				evp_burst(state, w, *link, r, m);
		}
		cells += (uint64_t)POOL_RECORDS * w->record_cells;
		*link = (*link + 1) % w->links;
		now = bench_now_ns();
	} while (now - start < budget);
	return (double)(now - start) / (double)cells;
}

/* Both implementations over every record of every link from the same start;
 * the outbound records must be byte-equal. */
static bool
check_equal(const struct workload *w, struct hs_state *h, struct evp_state *v)
{
	for (unsigned link = 0; link < w->links; link++) {
		for (unsigned r = 0; r < POOL_RECORDS; r += w->records_per_burst) {
			unsigned m = POOL_RECORDS - r < w->records_per_burst ? POOL_RECORDS - r
									      : w->records_per_burst;

			hs_burst(h, w, link, r, m);
			evp_burst(v, w, link, r, m);
			if (memcmp(h->outbuf, v->outbuf, m * w->record_len) != 0) {
				fprintf(stderr,
					"hsrelay-bench: outbound records differ from the EVP reference "
					"(link %u, record %u)\n", link, r);
				return false;
			}
		}
	}
	return true;
}

/* The parts alone, hot, for the floor: one CTR layer per cell on one
 * circuit, and the per-cell share of opening and sealing a record of this
 * size (out of place, as in the loop). */
struct floor_parts {
	double ctr, open, seal;
};

static struct floor_parts
measure_floor(const struct workload *w, struct crypto_engine *engine, double seconds)
{
	struct floor_parts f;
	struct relay_cipher *c = xaligned(sizeof(*c));
	uint8_t *cells = xaligned(BURST_CELLS * CELL_LEN);
	uint8_t *out = xaligned(w->record_len);
	struct relay_cipher *ciphers[BURST_CELLS];
	uint8_t *payloads[BURST_CELLS];
	struct tls_record_dir in_dir, out_dir;
	size_t plain = (size_t)w->record_cells * CELL_LEN;

	relay_cipher_init(engine, c, w->in_keys[0]);
	for (unsigned i = 0; i < BURST_CELLS; i++) {
		ciphers[i] = c;
		payloads[i] = cells + i * CELL_LEN + CELL_HEADER;
	}
	tls_record_dir_init(engine, &in_dir, TLS_RECORD_TLS13, w->link_in_key, w->key_len,
			    w->link_in_iv, 12, 0);
	tls_record_dir_init(engine, &out_dir, TLS_RECORD_TLS13, w->link_out_key, w->key_len,
			    w->link_out_iv, 12, 0);
	uint64_t t0, n;
	double per;

	t0 = bench_now_ns();
	n = 0;
	do {
		for (int k = 0; k < 64; k++)
			relay_crypt_burst(engine, ciphers, payloads, BURST_CELLS);
		n += 64 * BURST_CELLS;
	} while (bench_now_ns() - t0 < (uint64_t)(seconds * 1e9 / 3));
	per = (double)(bench_now_ns() - t0) / (double)n;
	f.ctr = per;

	t0 = bench_now_ns();
	n = 0;
	do {
		for (int k = 0; k < 16; k++) {
			const uint8_t *rec = w->pool + (k % POOL_RECORDS) * w->record_len;
			struct crypto_iov seg = {(uint8_t *)rec + TLS_RECORD_HEADER_LEN,
						 (uint32_t)(w->record_len - TLS_RECORD_HEADER_LEN)};
			struct tls_record_open o = {.dir = &in_dir, .header = rec, .segments = &seg,
						    .nb_segments = 1, .out = out + TLS_RECORD_HEADER_LEN};

			in_dir.seq = (uint64_t)(k % POOL_RECORDS);
			tls_record_open_burst(engine, &o, 1);
		}
		n += 16;
	} while (bench_now_ns() - t0 < (uint64_t)(seconds * 1e9 / 3));
	per = (double)(bench_now_ns() - t0) / (double)(n * w->record_cells);
	f.open = per;

	t0 = bench_now_ns();
	n = 0;
	do {
		for (int k = 0; k < 16; k++) {
			struct crypto_iov seg = {out + TLS_RECORD_HEADER_LEN, (uint32_t)plain};
			struct tls_record_seal s = {
				.dir = &out_dir, .prefix = out, .segments = &seg, .nb_segments = 1,
				.content_type = TLS_CONTENT_APPLICATION_DATA,
				.suffix = out + TLS_RECORD_HEADER_LEN + plain,
			};
			tls_record_seal_burst(engine, &s, 1);
		}
		n += 16;
	} while (bench_now_ns() - t0 < (uint64_t)(seconds * 1e9 / 3));
	per = (double)(bench_now_ns() - t0) / (double)(n * w->record_cells);
	f.seal = per;
	free(c);
	free(cells);
	free(out);
	return f;
}

static const char *
case_name(enum bench_case k)
{
	return k == CASE_RENDEZVOUS_SPLICE ? "rendezvous_splice" : "relay_forward";
}

static int
run_case(const struct options *o, struct crypto_engine *engine, enum bench_case kind,
	 unsigned circuits, unsigned record_cells)
{
	struct workload w;
	struct hs_state h;
	struct evp_state v;
	double hs_ns = 1e30, evp_ns = 1e30;
	unsigned hs_link = 0, evp_link = 0;
	struct floor_parts f;
	double floor_ns;
	const struct crypto_cpu_features *cpu = crypto_cpu_features();

	workload_init(&w, kind, circuits, record_cells, o->key_len, engine);
	hs_init(&h, &w, engine);
	evp_init(&v, &w);
	if (!check_equal(&w, &h, &v)) {
		hs_free(&h);
		evp_free(&v, &w);
		workload_free(&w);
		return 1;
	}
	/* Warm up both (and fault in every circuit's state), then alternate
	 * repetitions so that machine noise hits both alike. */
	time_passes(&w, &h, true, o->seconds / 4, &hs_link);
	time_passes(&w, &v, false, o->seconds / 4, &evp_link);
	/* The floor's parts are timed in every repetition too, so that all
	 * three see the same machine (shared VMs drift); each keeps its best. */
	f = (struct floor_parts){1e30, 1e30, 1e30};
	for (unsigned rep = 0; rep < o->repetitions; rep++) {
		double a = time_passes(&w, &h, true, o->seconds, &hs_link);
		double b = time_passes(&w, &v, false, o->seconds, &evp_link);
		struct floor_parts p = measure_floor(&w, engine, o->seconds);

		hs_ns = a < hs_ns ? a : hs_ns;
		evp_ns = b < evp_ns ? b : evp_ns;
		f.ctr = p.ctr < f.ctr ? p.ctr : f.ctr;
		f.open = p.open < f.open ? p.open : f.open;
		f.seal = p.seal < f.seal ? p.seal : f.seal;
	}
	floor_ns = (kind == CASE_RENDEZVOUS_SPLICE ? 2 : 1) * f.ctr + f.open + f.seal;

	printf("{\"bench\":\"crypto\",\"case\":\"%s\",\"impl\":\"openssl_evp\",\"aead\":\"aes%u-gcm\","
	       "\"record_cells\":%u,\"circuits\":%u,\"ns_per_cell\":%.2f,\"cells_per_s\":%.0f,"
	       "\"openssl\":\"%s\",\"cpu\":\"%s\"}\n",
	       case_name(kind), o->key_len * 8, record_cells, circuits, evp_ns, 1e9 / evp_ns,
	       OpenSSL_version(OPENSSL_VERSION), bench_cpu_model());
	printf("{\"bench\":\"crypto\",\"case\":\"%s\",\"impl\":\"hsrelay\",\"aead\":\"aes%u-gcm\","
	       "\"record_cells\":%u,\"circuits\":%u,\"ns_per_cell\":%.2f,\"cells_per_s\":%.0f,"
	       "\"ratio_vs_reference\":%.2f,\"floor_ns_per_cell\":%.2f,\"efficiency\":%.2f,"
	       "\"floor_parts_ns\":{\"ctr\":%.2f,\"gcm_open\":%.2f,\"gcm_seal\":%.2f},"
	       "\"relay_ctr\":\"%s\",\"ipsec_mb_arch\":\"%s\",\"vaes\":%s,\"cpu\":\"%s\"}\n",
	       case_name(kind), o->key_len * 8, record_cells, circuits, hs_ns, 1e9 / hs_ns,
	       evp_ns / hs_ns, floor_ns, floor_ns / hs_ns, f.ctr, f.open, f.seal,
	       relay_ctr_impl_name(crypto_engine_relay_ctr(engine)),
	       crypto_arch_name(crypto_engine_arch(engine)), cpu->vaes ? "true" : "false",
	       bench_cpu_model());
	fflush(stdout);
	hs_free(&h);
	evp_free(&v, &w);
	workload_free(&w);
	return 0;
}

int
bench_crypto_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"quick", no_argument, NULL, 'q'},
		{"aead", required_argument, NULL, 'a'},
		{"seconds", required_argument, NULL, 's'},
		{"relay-ctr", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct options o = {.quick = false, .key_len = 16, .seconds = 0.25, .repetitions = 5};
	static const unsigned circuit_counts[] = {1, 4096, 65536};
	static const unsigned record_sizes[] = {1, MAX_RECORD_CELLS};
	enum relay_ctr_impl relay_ctr = RELAY_CTR_AUTO;
	struct crypto_engine *engine;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			o.quick = true;
			o.seconds = 0.01;
			o.repetitions = 1;
			break;
		case 'a':
			if (strcmp(optarg, "aes128") == 0) {
				o.key_len = 16;
			} else if (strcmp(optarg, "aes256") == 0) {
				o.key_len = 32;
			} else {
				fprintf(stderr, "hsrelay-bench crypto: --aead takes aes128 or aes256\n");
				return 2;
			}
			break;
		case 's':
			o.seconds = strtod(optarg, NULL);
			if (!(o.seconds > 0 && o.seconds < 60)) {
				fprintf(stderr, "hsrelay-bench crypto: --seconds takes 0 < S < 60\n");
				return 2;
			}
			break;
		case 'r':
			if (strcmp(optarg, "aesni") == 0) {
				relay_ctr = RELAY_CTR_AESNI;
			} else if (strcmp(optarg, "ipsec_mb") == 0) {
				relay_ctr = RELAY_CTR_IPSEC_MB;
			} else if (strcmp(optarg, "vaes") == 0) {
				relay_ctr = RELAY_CTR_VAES;
			} else if (strcmp(optarg, "vaes512") == 0) {
				relay_ctr = RELAY_CTR_VAES512;
			} else {
				fprintf(stderr, "hsrelay-bench crypto: --relay-ctr takes aesni, vaes, "
						"vaes512 or ipsec_mb\n");
				return 2;
			}
			break;
		case 'h':
			printf("usage: hsrelay-bench crypto [--quick] [--aead aes128|aes256] [--seconds S]\n"
			       "                            [--relay-ctr aesni|vaes|vaes512|ipsec_mb]\n");
			return 0;
		default:
			return 2;
		}
	}
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, relay_ctr);
	if (engine == NULL) {
		fprintf(stderr, "hsrelay-bench: no crypto engine: %s\n", strerror(errno));
		return 1;
	}
	for (int k = 0; k < 2 && rc == 0; k++)
		for (size_t r = 0; r < 2 && rc == 0; r++)
			for (size_t c = 0; c < 3 && rc == 0; c++)
				rc = run_case(&o, engine, k ? CASE_RENDEZVOUS_SPLICE : CASE_RELAY_FORWARD,
					      circuit_counts[c], record_sizes[r]);
	crypto_engine_destroy(engine);
	return rc;
}
