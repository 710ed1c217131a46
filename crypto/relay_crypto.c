/* SHA_CTX (OpenSSL's low-level SHA-1 API, deprecated in 3.0) is used for the
 * running digest because it is a plain struct: checking a candidate cell needs
 * a snapshot and a restore of the running state, which with EVP_MD_CTX means
 * a heap copy per cell. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto/relay_crypto.h"

#include <assert.h>
#include <openssl/sha.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/engine_internal.h"
#include "crypto/relay_ctr_aesni.h"
#include "crypto/relay_ctr_vaes.h"
#include "crypto/relay_ctr_vaes512.h"

_Static_assert(sizeof(struct relay_cipher) == 192, "relay_cipher is 3 cache lines");
_Static_assert(sizeof(SHA_CTX) <= sizeof(((struct relay_digest *)0)->opaque),
	       "relay_digest storage too small for SHA_CTX");

/* Relay header v0 offsets inside the payload (tor-spec "Relay cells"). */
#define RELAY_RECOGNIZED_OFF 1
#define RELAY_DIGEST_OFF 5
#define RELAY_DIGEST_LEN 4

/* ipsec-mb 1.3 increments only the low 32 bits of the counter block
 * (../shared/docs/crypto-performance.md section 6). */
#define COUNTER_LOW_SPAN (UINT64_C(1) << 32)

static const uint8_t zero_blocks[RELAY_KEYSTREAM_SCRATCH] __attribute__((aligned(64)));

void
relay_cipher_init(struct crypto_engine *engine, struct relay_cipher *c,
		  const uint8_t key[RELAY_CRYPTO_KEY_LEN])
{
	uint8_t decrypt_keys[11][16] __attribute__((aligned(16)));

	memset(c, 0, sizeof(*c));
	IMB_AES_KEYEXP_128(engine->mgr, key, c->round_keys, decrypt_keys);
	ct_wipe(decrypt_keys, sizeof(decrypt_keys));
}

void
relay_cipher_seek(struct relay_cipher *c, uint64_t offset)
{
	c->offset = offset;
}

void
relay_cipher_clear(struct relay_cipher *c)
{
	ct_wipe(c, sizeof(*c));
}

static inline unsigned
keystream_blocks(uint64_t offset, unsigned len)
{
	return (unsigned)(((offset & 15) + len + 15) >> 4);
}

/* dst ^= ks for one payload; compiled for baseline x86-64 and vectorised. */
static inline void
xor_payload(uint8_t *restrict dst, const uint8_t *restrict ks)
{
	for (unsigned i = 0; i < RELAY_CRYPTO_PAYLOAD_LEN; i++)
		dst[i] ^= ks[i];
}

static inline void
xor_payload2(uint8_t *restrict dst, const uint8_t *restrict ks_a,
	     const uint8_t *restrict ks_b)
{
	for (unsigned i = 0; i < RELAY_CRYPTO_PAYLOAD_LEN; i++)
		dst[i] ^= ks_a[i] ^ ks_b[i];
}

/* Fills up to IPSEC_MB_CHUNK cipher burst jobs that write keystream for
 * cells at the given offsets into engine->keystream[i]; a cell whose blocks
 * cross a multiple of 2^32 blocks gets two jobs, the second starting at the
 * correctly carried counter. Returns the number of jobs. */
static unsigned
ipsec_mb_prepare_jobs(struct crypto_engine *engine, struct relay_cipher *const ciphers[],
		      const uint64_t offsets[], unsigned n, uint8_t (*ivs)[16])
{
	unsigned njobs = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t block = offsets[i] >> 4;
		unsigned nblocks = keystream_blocks(offsets[i], RELAY_CRYPTO_PAYLOAD_LEN);
		uint64_t room = COUNTER_LOW_SPAN - (block & (COUNTER_LOW_SPAN - 1));
		unsigned first = nblocks <= room ? nblocks : (unsigned)room;
		unsigned done = 0;

		while (done < nblocks) {
			unsigned count = done == 0 ? first : nblocks - done;
			IMB_JOB *job = &engine->jobs[njobs];
			uint64_t be = __builtin_bswap64(block + done);

			memset(ivs[njobs], 0, 8);
			memcpy(ivs[njobs] + 8, &be, 8);
			job->enc_keys = ciphers[i]->round_keys;
			job->dec_keys = ciphers[i]->round_keys;
			job->key_len_in_bytes = IMB_KEY_128_BYTES;
			job->src = zero_blocks;
			job->dst = engine->keystream[i] + 16 * done;
			job->cipher_start_src_offset_in_bytes = 0;
			job->msg_len_to_cipher_in_bytes = 16 * (uint64_t)count;
			job->iv = ivs[njobs];
			job->iv_len_in_bytes = 16;
			job->cipher_mode = IMB_CIPHER_CNTR;
			job->cipher_direction = IMB_DIR_ENCRYPT;
			job->chain_order = IMB_ORDER_CIPHER_HASH;
			job->hash_alg = IMB_AUTH_NULL;
			njobs++;
			done += count;
		}
	}
	return njobs;
}

/* Generates the keystream of n cells (n <= IPSEC_MB_CHUNK) with ipsec-mb
 * into engine->keystream[i], starting at each cell's block boundary. */
static void
ipsec_mb_keystream(struct crypto_engine *engine, struct relay_cipher *const ciphers[],
		   const uint64_t offsets[], unsigned n)
{
	uint8_t ivs[2 * IPSEC_MB_CHUNK][16] __attribute__((aligned(16)));
	unsigned njobs = ipsec_mb_prepare_jobs(engine, ciphers, offsets, n, ivs);
	unsigned completed;

	completed = IMB_SUBMIT_CIPHER_BURST(engine->mgr, engine->jobs, njobs, IMB_CIPHER_CNTR,
					    IMB_DIR_ENCRYPT, IMB_KEY_128_BYTES);
	/* Jobs built above are always valid; a shortfall is a library bug that
	 * would leave stale keystream, so it must not pass silently. */
	assert(completed == njobs);
	(void)completed;
}

/* Keystream for one cell at `offset` into ks (block aligned) with one of
 * the in-register kernels; returns where the cell's first byte lines up. */
static inline const uint8_t *
kernel_cell_keystream(enum relay_ctr_impl impl, const struct relay_cipher *c, uint64_t offset,
		      uint8_t *ks)
{
	unsigned nblocks = keystream_blocks(offset, RELAY_CRYPTO_PAYLOAD_LEN);

	if (impl == RELAY_CTR_VAES)
		relay_ctr_vaes_keystream(c->round_keys, 0, offset >> 4, nblocks, ks);
	else
		relay_ctr_aesni_keystream(c->round_keys, 0, offset >> 4, nblocks, ks);
	return ks + (offset & 15);
}

/* The AVX-512 kernel's burst and splice paths against the AES-NI kernel:
 * 16 consecutive cells of one stream (every offset % 16) across a 2^32-block
 * boundary, then the same cells spliced with a second stream. */
static bool
vaes512_cells_self_test(const struct relay_cipher *key)
{
	enum { CELLS = 16 };
	/* On the stack: engines of several threads may start at once. */
	uint8_t cells[CELLS][RELAY_CRYPTO_PAYLOAD_LEN];
	uint8_t want[CELLS][RELAY_CRYPTO_PAYLOAD_LEN];
	uint8_t ks[RELAY_KEYSTREAM_SCRATCH] __attribute__((aligned(64)));
	struct relay_cipher a = *key, b = *key, ref_a, ref_b;
	struct relay_cipher *pa[CELLS], *pb[CELLS];
	uint8_t *payloads[CELLS];
	bool recognized[CELLS];
	bool ok;

	/* b: the same key schedule, another stream position. */
	a.offset = (UINT64_C(1) << 36) - 3 * RELAY_CRYPTO_PAYLOAD_LEN - 5;
	b.offset = 1000 * RELAY_CRYPTO_PAYLOAD_LEN + 7;
	ref_a = a;
	ref_b = b;
	for (unsigned i = 0; i < CELLS; i++) {
		for (unsigned j = 0; j < RELAY_CRYPTO_PAYLOAD_LEN; j++)
			cells[i][j] = (uint8_t)(i * 31 + j * 7 + 1);
		memcpy(want[i], cells[i], RELAY_CRYPTO_PAYLOAD_LEN);
		xor_payload(want[i], kernel_cell_keystream(RELAY_CTR_AESNI, &ref_a, ref_a.offset, ks));
		ref_a.offset += RELAY_CRYPTO_PAYLOAD_LEN;
		pa[i] = &a;
		pb[i] = &b;
		payloads[i] = cells[i];
	}
	relay_ctr_vaes512_crypt_burst(pa, payloads, CELLS);
	ok = memcmp(cells, want, sizeof(cells)) == 0 && a.offset == ref_a.offset;

	/* Splice the results: layer a again (removing it), then b unless the
	 * recognized field reads zero after a. */
	for (unsigned i = 0; i < CELLS; i++) {
		xor_payload(want[i], kernel_cell_keystream(RELAY_CTR_AESNI, &ref_a, ref_a.offset, ks));
		ref_a.offset += RELAY_CRYPTO_PAYLOAD_LEN;
		if (want[i][RELAY_RECOGNIZED_OFF] == 0 && want[i][RELAY_RECOGNIZED_OFF + 1] == 0)
			continue;
		xor_payload(want[i], kernel_cell_keystream(RELAY_CTR_AESNI, &ref_b, ref_b.offset, ks));
		ref_b.offset += RELAY_CRYPTO_PAYLOAD_LEN;
	}
	relay_ctr_vaes512_splice_burst(pa, pb, payloads, recognized, CELLS);
	ok = ok && memcmp(cells, want, sizeof(cells)) == 0 && a.offset == ref_a.offset &&
	     b.offset == ref_b.offset;
	ct_wipe(&a, sizeof(a));
	ct_wipe(&b, sizeof(b));
	ct_wipe(&ref_a, sizeof(ref_a));
	ct_wipe(&ref_b, sizeof(ref_b));
	ct_wipe(ks, sizeof(ks));
	return ok;
}

bool
relay_ctr_self_test(struct crypto_engine *engine, enum relay_ctr_impl impl)
{
	/* NIST SP 800-38A F.5.1: key, initial counter block, and the XOR of
	 * plaintext and ciphertext (that is, the keystream) of its 4 blocks. */
	static const uint8_t key[16] = {
		0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
		0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
	};
	static const uint8_t keystream[64] = {
		0xec, 0x8c, 0xdf, 0x73, 0x98, 0x60, 0x7c, 0xb0, 0xf2, 0xd2, 0x16, 0x75,
		0xea, 0x9e, 0xa1, 0xe4, 0x36, 0x2b, 0x7c, 0x3c, 0x67, 0x73, 0x51, 0x63,
		0x18, 0xa0, 0x77, 0xd7, 0xfc, 0x50, 0x73, 0xae, 0x6a, 0x2c, 0xc3, 0x78,
		0x78, 0x89, 0x37, 0x4f, 0xbe, 0xb4, 0xc8, 0x1b, 0x17, 0xba, 0x6c, 0x44,
		0xe8, 0x9c, 0x39, 0x9f, 0xf0, 0xf1, 0x98, 0xc6, 0xd4, 0x0a, 0x31, 0xdb,
		0x15, 0x6c, 0xab, 0xfe,
	};
	const uint64_t nist_high = UINT64_C(0xf0f1f2f3f4f5f6f7), nist_low = UINT64_C(0xf8f9fafbfcfdfeff);
	uint8_t got[RELAY_KEYSTREAM_SCRATCH] __attribute__((aligned(64)));
	uint8_t want[RELAY_KEYSTREAM_SCRATCH] __attribute__((aligned(64)));
	struct relay_cipher c;
	bool ok;

	relay_cipher_init(engine, &c, key);
	if (impl == RELAY_CTR_AESNI) {
		relay_ctr_aesni_keystream(c.round_keys, nist_high, nist_low, 4, got);
		ok = memcmp(got, keystream, sizeof(keystream)) == 0;
	} else if (impl == RELAY_CTR_VAES) {
		relay_ctr_vaes_keystream(c.round_keys, nist_high, nist_low, 4, got);
		ok = memcmp(got, keystream, sizeof(keystream)) == 0;
		for (unsigned n = 1; ok && n <= RELAY_KEYSTREAM_SCRATCH / 16; n++) {
			relay_ctr_vaes_keystream(c.round_keys, 1, UINT64_MAX - 2, n, got);
			relay_ctr_aesni_keystream(c.round_keys, 1, UINT64_MAX - 2, n, want);
			ok = memcmp(got, want, 16 * n) == 0;
		}
	} else if (impl == RELAY_CTR_VAES512) {
		relay_ctr_vaes512_keystream(c.round_keys, nist_high, nist_low, 4, got);
		ok = memcmp(got, keystream, sizeof(keystream)) == 0;
		for (unsigned n = 1; ok && n <= RELAY_KEYSTREAM_SCRATCH / 16; n++) {
			relay_ctr_vaes512_keystream(c.round_keys, 1, UINT64_MAX - 2, n, got);
			relay_ctr_aesni_keystream(c.round_keys, 1, UINT64_MAX - 2, n, want);
			ok = memcmp(got, want, 16 * n) == 0;
		}
		/* Its cell paths XOR from registers at the cell's byte offset:
		 * 16 cells in a row meet every offset % 16. */
		ok = ok && vaes512_cells_self_test(&c);
	} else {
		ok = false;
	}
	relay_cipher_clear(&c);
	return ok;
}

/* Prefetch distance in cells: far enough to cover a DRAM miss at about
 * 30-60 ns per cell. */
#define PREFETCH_AHEAD 4

unsigned
relay_crypt_burst(struct crypto_engine *engine, struct relay_cipher *const ciphers[],
		  uint8_t *const payloads[], unsigned n)
{
	enum relay_ctr_impl impl = engine->relay_ctr;

	if (impl == RELAY_CTR_VAES512) {
		relay_ctr_vaes512_crypt_burst(ciphers, payloads, n);
		return n;
	}
	if (impl != RELAY_CTR_IPSEC_MB) {
		uint8_t ks[RELAY_KEYSTREAM_SCRATCH] __attribute__((aligned(64)));

		for (unsigned i = 0; i < n; i++) {
			struct relay_cipher *c = ciphers[i];

			if (i + PREFETCH_AHEAD < n)
				relay_cipher_prefetch(ciphers[i + PREFETCH_AHEAD]);
			xor_payload(payloads[i], kernel_cell_keystream(impl, c, c->offset, ks));
			c->offset += RELAY_CRYPTO_PAYLOAD_LEN;
		}
		return n;
	}

	for (unsigned base = 0; base < n; base += IPSEC_MB_CHUNK) {
		unsigned m = n - base < IPSEC_MB_CHUNK ? n - base : IPSEC_MB_CHUNK;
		uint64_t offsets[IPSEC_MB_CHUNK];

		/* Offsets are taken in array order so that repeated ciphers
		 * continue their stream within the chunk. */
		for (unsigned i = 0; i < m; i++) {
			struct relay_cipher *c = ciphers[base + i];

			offsets[i] = c->offset;
			c->offset += RELAY_CRYPTO_PAYLOAD_LEN;
		}
		ipsec_mb_keystream(engine, ciphers + base, offsets, m);
		for (unsigned i = 0; i < m; i++)
			xor_payload(payloads[base + i], engine->keystream[i] + (offsets[i] & 15));
	}
	return n;
}

static inline bool
recognized_is_zero(const uint8_t *payload, const uint8_t *ks)
{
	return (payload[RELAY_RECOGNIZED_OFF] ^ ks[RELAY_RECOGNIZED_OFF]) == 0 &&
	       (payload[RELAY_RECOGNIZED_OFF + 1] ^ ks[RELAY_RECOGNIZED_OFF + 1]) == 0;
}

unsigned
relay_crypt_splice_burst(struct crypto_engine *engine, struct relay_cipher *const in[],
			 struct relay_cipher *const out[], uint8_t *const payloads[],
			 bool recognized[], unsigned n)
{
	enum relay_ctr_impl impl = engine->relay_ctr;
	unsigned set_aside = 0;

	if (impl == RELAY_CTR_VAES512)
		return relay_ctr_vaes512_splice_burst(in, out, payloads, recognized, n);
	if (impl != RELAY_CTR_IPSEC_MB) {
		uint8_t ks_in[RELAY_KEYSTREAM_SCRATCH] __attribute__((aligned(64)));
		uint8_t ks_out[RELAY_KEYSTREAM_SCRATCH] __attribute__((aligned(64)));

		for (unsigned i = 0; i < n; i++) {
			struct relay_cipher *a = in[i], *b = out[i];
			const uint8_t *ka;

			if (i + PREFETCH_AHEAD < n) {
				relay_cipher_prefetch(in[i + PREFETCH_AHEAD]);
				relay_cipher_prefetch(out[i + PREFETCH_AHEAD]);
			}
			ka = kernel_cell_keystream(impl, a, a->offset, ks_in);
			a->offset += RELAY_CRYPTO_PAYLOAD_LEN;
			if (__builtin_expect(recognized_is_zero(payloads[i], ka), 0)) {
				xor_payload(payloads[i], ka);
				recognized[i] = true;
				set_aside++;
				continue;
			}
			xor_payload2(payloads[i], ka, kernel_cell_keystream(impl, b, b->offset, ks_out));
			b->offset += RELAY_CRYPTO_PAYLOAD_LEN;
			recognized[i] = false;
		}
		return set_aside;
	}

	for (unsigned base = 0; base < n; base += IPSEC_MB_CHUNK) {
		unsigned m = n - base < IPSEC_MB_CHUNK ? n - base : IPSEC_MB_CHUNK;
		uint64_t offsets[IPSEC_MB_CHUNK];
		uint8_t ks_in[IPSEC_MB_CHUNK][RELAY_KEYSTREAM_SCRATCH] __attribute__((aligned(64)));
		struct relay_cipher *pass[IPSEC_MB_CHUNK];
		unsigned npass = 0;
		unsigned index[IPSEC_MB_CHUNK];

		for (unsigned i = 0; i < m; i++) {
			offsets[i] = in[base + i]->offset;
			in[base + i]->offset += RELAY_CRYPTO_PAYLOAD_LEN;
		}
		ipsec_mb_keystream(engine, in + base, offsets, m);
		for (unsigned i = 0; i < m; i++) {
			const uint8_t *ka = engine->keystream[i] + (offsets[i] & 15);

			if (__builtin_expect(recognized_is_zero(payloads[base + i], ka), 0)) {
				xor_payload(payloads[base + i], ka);
				recognized[base + i] = true;
				set_aside++;
				continue;
			}
			memcpy(ks_in[npass], ka, RELAY_CRYPTO_PAYLOAD_LEN);
			recognized[base + i] = false;
			index[npass] = base + i;
			pass[npass++] = out[base + i];
		}
		for (unsigned j = 0; j < npass; j++) {
			offsets[j] = pass[j]->offset;
			pass[j]->offset += RELAY_CRYPTO_PAYLOAD_LEN;
		}
		ipsec_mb_keystream(engine, pass, offsets, npass);
		for (unsigned j = 0; j < npass; j++)
			xor_payload2(payloads[index[j]], ks_in[j],
				     engine->keystream[j] + (offsets[j] & 15));
	}
	return set_aside;
}

static SHA_CTX *
digest_ctx(struct relay_digest *d)
{
	return (SHA_CTX *)(void *)d->opaque;
}

void
relay_digest_init(struct relay_digest *d, const uint8_t seed[RELAY_CRYPTO_DIGEST_SEED_LEN])
{
	SHA1_Init(digest_ctx(d));
	SHA1_Update(digest_ctx(d), seed, RELAY_CRYPTO_DIGEST_SEED_LEN);
}

/* Adds payload (with its digest field taken as zero) to the running digest
 * and returns the first 4 bytes of the digest so far. */
static void
digest_add_payload(SHA_CTX *ctx, const uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN],
		   uint8_t out[RELAY_DIGEST_LEN])
{
	static const uint8_t zero[RELAY_DIGEST_LEN];
	uint8_t full[SHA_DIGEST_LENGTH];
	SHA_CTX snapshot;

	SHA1_Update(ctx, payload, RELAY_DIGEST_OFF);
	SHA1_Update(ctx, zero, RELAY_DIGEST_LEN);
	SHA1_Update(ctx, payload + RELAY_DIGEST_OFF + RELAY_DIGEST_LEN,
		    RELAY_CRYPTO_PAYLOAD_LEN - RELAY_DIGEST_OFF - RELAY_DIGEST_LEN);
	snapshot = *ctx;
	SHA1_Final(full, &snapshot);
	memcpy(out, full, RELAY_DIGEST_LEN);
	ct_wipe(&snapshot, sizeof(snapshot));
}

bool
relay_digest_check(struct relay_digest *d, const uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN])
{
	SHA_CTX saved;
	uint8_t expect[RELAY_DIGEST_LEN];
	bool match;

	if (payload[RELAY_RECOGNIZED_OFF] != 0 || payload[RELAY_RECOGNIZED_OFF + 1] != 0)
		return false;
	saved = *digest_ctx(d);
	digest_add_payload(digest_ctx(d), payload, expect);
	match = ct_equal(expect, payload + RELAY_DIGEST_OFF, RELAY_DIGEST_LEN);
	if (!match)
		*digest_ctx(d) = saved;
	ct_wipe(&saved, sizeof(saved));
	return match;
}

void
relay_digest_stamp(struct relay_digest *d, uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN])
{
	uint8_t digest[RELAY_DIGEST_LEN];

	payload[RELAY_RECOGNIZED_OFF] = 0;
	payload[RELAY_RECOGNIZED_OFF + 1] = 0;
	digest_add_payload(digest_ctx(d), payload, digest);
	memcpy(payload + RELAY_DIGEST_OFF, digest, RELAY_DIGEST_LEN);
}

void
relay_digest_current(const struct relay_digest *d, uint8_t out[20])
{
	SHA_CTX snapshot;

	memcpy(&snapshot, d->opaque, sizeof(snapshot));
	SHA1_Final(out, &snapshot);
	ct_wipe(&snapshot, sizeof(snapshot));
}

void
relay_digest_clear(struct relay_digest *d)
{
	ct_wipe(d, sizeof(*d));
}
