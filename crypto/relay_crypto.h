/* tor1 relay-cell crypto (tor-spec "Relay cells" and "Routing relay cells").
 *
 * Each circuit direction at a hop has an AES-128-CTR keystream that starts
 * at counter 0 (IV of all zero bytes, 128-bit big-endian counter) and runs
 * on across cells: cell k of a direction is XORed with keystream bytes
 * [509k, 509k + 509). A running SHA-1 digest per direction, seeded with
 * Df/Db, authenticates cells that are originated or recognized at this hop.
 *
 * Fast path: relay_crypt_burst() and relay_crypt_splice_burst() take arrays
 * of cells of many circuits. The per-direction state (struct relay_cipher)
 * is 3 cache lines, laid out here so that workers can keep it in their
 * circuit tables and prefetch it a burst ahead with relay_cipher_prefetch().
 * The running digest is separate, cold state (struct relay_digest): a
 * middle hop or a rendezvous splice never touches it except for the rare
 * cell whose "recognized" field decrypts to zero.
 */
#ifndef HSRELAY_CRYPTO_RELAY_CRYPTO_H
#define HSRELAY_CRYPTO_RELAY_CRYPTO_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/engine.h"

/* A relay cell's body: everything after circ id and command. */
#define RELAY_CRYPTO_PAYLOAD_LEN 509
#define RELAY_CRYPTO_KEY_LEN 16
#define RELAY_CRYPTO_DIGEST_SEED_LEN 20

/* One direction of one circuit at one hop: expanded AES-128 encryption key
 * and the keystream position. 192 bytes, 64-byte aligned. */
struct relay_cipher {
	_Alignas(64) uint8_t round_keys[11][16];
	/* Bytes of keystream used so far. 2^64 bytes is far beyond what a
	 * circuit can carry, so the counter's high 64 bits are always zero. */
	uint64_t offset;
	uint64_t spare;
};

/* Opaque storage for a running SHA-1 digest (OpenSSL SHA_CTX inside). */
struct relay_digest {
	_Alignas(8) uint8_t opaque[128];
};

/* Expands key into c and sets the stream position to 0. Slow path. */
void relay_cipher_init(struct crypto_engine *engine, struct relay_cipher *c,
		       const uint8_t key[RELAY_CRYPTO_KEY_LEN]);

/* Sets the keystream position (tests and benchmarks start circuits at
 * arbitrary offsets, e.g. just below a 2^32-block boundary). */
void relay_cipher_seek(struct relay_cipher *c, uint64_t offset);

/* Wipes the key material. */
void relay_cipher_clear(struct relay_cipher *c);

static inline void
relay_cipher_prefetch(const struct relay_cipher *c)
{
	const char *p = (const char *)c;

	__builtin_prefetch(p, 1, 3);
	__builtin_prefetch(p + 64, 1, 3);
	__builtin_prefetch(p + 128, 1, 3);
}

/* Applies one tor1 layer to n relay payloads (509 bytes each) in place:
 * payloads[i] ^= keystream of ciphers[i], and ciphers[i] advances by 509.
 * Encryption and decryption are the same operation. A cipher may appear
 * several times in one burst; its cells are processed in array order, so
 * the stream continues exactly as one long AES-CTR stream would.
 * Returns n: it cannot fail. */
unsigned relay_crypt_burst(struct crypto_engine *engine,
			   struct relay_cipher *const ciphers[],
			   uint8_t *const payloads[], unsigned n);

/* Rendezvous splice in one pass (tor relay.c: a cell that arrives on one
 * circuit of a spliced pair and is not recognized there is re-encrypted as
 * an inbound cell of the partner circuit). For each cell i:
 *  - removes the layer of in[i];
 *  - if the result's "recognized" field is zero, the cell may be addressed
 *    to this hop: it is left with only that layer removed, recognized[i] is
 *    set to true and out[i] is not advanced. The caller checks it with
 *    relay_digest_check() and, when it is not ours (a 2^-16 chance per
 *    cell), finishes it with relay_crypt_burst(out[i]);
 *  - otherwise applies the layer of out[i] in the same pass and sets
 *    recognized[i] to false.
 * in[i] and out[i] must differ. Returns the number of cells set aside as
 * recognized. */
unsigned relay_crypt_splice_burst(struct crypto_engine *engine,
				  struct relay_cipher *const in[],
				  struct relay_cipher *const out[],
				  uint8_t *const payloads[], bool recognized[],
				  unsigned n);

/* Seeds a running digest with Df or Db (tor-spec "Routing relay cells"). */
void relay_digest_init(struct relay_digest *d,
		       const uint8_t seed[RELAY_CRYPTO_DIGEST_SEED_LEN]);

/* For a decrypted payload: true when its "recognized" field is zero and its
 * "digest" field equals the first 4 bytes of the running digest taken over
 * this payload with the digest field zeroed. Only then is the running digest
 * advanced; otherwise it is left as it was. The payload is not modified. */
bool relay_digest_check(struct relay_digest *d,
			const uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN]);

/* For a payload this hop originates: sets "recognized" to zero, writes the
 * "digest" field and advances the running digest. */
void relay_digest_stamp(struct relay_digest *d,
			uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN]);

/* Writes the full 20-byte SHA-1 value of the running digest so far (tor's
 * relay_crypto_get_sendme_tag for tor1: the SENDME v1 tag after the last
 * cell checked or stamped), leaving the running state as it is. */
void relay_digest_current(const struct relay_digest *d, uint8_t out[20]);

void relay_digest_clear(struct relay_digest *d);

#endif
