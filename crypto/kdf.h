/* Digests, MACs and key derivation functions for the slow path.
 *
 * Everything here runs on the control thread (handshakes, key schedules,
 * descriptors), never per cell. All primitives come from OpenSSL 3 through
 * EVP, EVP_MAC and EVP_KDF; this module only fixes the parameters tor and
 * TLS use and gives them a small, length-checked C API.
 *
 * Conventions: functions return 0 (or a byte count where documented) on
 * success and a negative errno code on failure: -EINVAL for a bad argument,
 * -EMSGSIZE when an output buffer is too small or more output is asked for
 * than the construction can give, -EIO when OpenSSL itself fails.
 */
#ifndef HSRELAY_CRYPTO_KDF_H
#define HSRELAY_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KDF_SHA1_LEN 20
#define KDF_SHA256_LEN 32
#define KDF_SHA384_LEN 48
#define KDF_SHA3_256_LEN 32

/* Largest output of HKDF-Expand with SHA-256 (RFC 5869 2.3: 255 blocks). */
#define KDF_HKDF_SHA256_MAX_LEN (255 * KDF_SHA256_LEN)
/* Largest output of KDF-TOR: the counter is one byte (tor-spec 5.2.1). */
#define KDF_TOR_MAX_LEN (256 * KDF_SHA1_LEN)

enum kdf_hash {
	KDF_HASH_SHA1,
	KDF_HASH_SHA256,
	KDF_HASH_SHA384,
	KDF_HASH_SHA3_256,
	/* Extendable output: any output length (FIPS 202). */
	KDF_HASH_SHAKE256,
};

/* Digest length in bytes; 0 for SHAKE-256 (variable) or an unknown value. */
size_t kdf_hash_len(enum kdf_hash hash);

/* One-shot digests. out must hold the digest length. */
int kdf_sha1(const void *data, size_t len, uint8_t out[KDF_SHA1_LEN]);
int kdf_sha256(const void *data, size_t len, uint8_t out[KDF_SHA256_LEN]);
int kdf_sha3_256(const void *data, size_t len,
		 uint8_t out[KDF_SHA3_256_LEN]);
/* SHAKE-256 of data, squeezed to exactly out_len bytes. */
int kdf_shake256(const void *data, size_t len, uint8_t *out, size_t out_len);

/* Running digest, for hashes fed piece by piece and read more than once
 * (tor's relay-cell digests, the onion-service SHA3-256 endpoint digests,
 * the ntor-v3 tweaked hashes). Opaque: it owns an OpenSSL context. */
struct kdf_digest;

/* NULL on allocation failure or unknown hash. */
struct kdf_digest *kdf_digest_new(enum kdf_hash hash);
/* Independent copy of the state so far; NULL on allocation failure. */
struct kdf_digest *kdf_digest_dup(const struct kdf_digest *digest);
int kdf_digest_update(struct kdf_digest *digest, const void *data,
		      size_t len);
/* Digest of everything added so far, leaving the running state untouched so
 * more data can follow. For fixed-length hashes out_len must be at least the
 * digest length and exactly that many bytes are written; for SHAKE-256
 * exactly out_len bytes are written. Returns the number of bytes written. */
ssize_t kdf_digest_peek(const struct kdf_digest *digest, uint8_t *out,
			size_t out_len);
/* Frees the context after wiping its state; NULL is allowed. */
void kdf_digest_free(struct kdf_digest *digest);

/* HMAC-SHA256 (RFC 2104) of msg under key. */
int kdf_hmac_sha256(const void *key, size_t key_len, const void *msg,
		    size_t msg_len, uint8_t out[KDF_SHA256_LEN]);

/* HKDF-SHA256 (RFC 5869): Extract(salt, ikm) then Expand(prk, info, out_len).
 * This is tor's KDF-RFC5869 (tor-spec 5.2.2) with salt = t_key,
 * ikm = secret_input and info = m_expand. */
int kdf_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
		    size_t ikm_len, const void *info, size_t info_len,
		    uint8_t *out, size_t out_len);
/* HKDF-Expand only, from a pseudorandom key of at least 32 bytes. */
int kdf_hkdf_sha256_expand(const uint8_t *prk, size_t prk_len,
			   const void *info, size_t info_len, uint8_t *out,
			   size_t out_len);

/* tor's legacy KDF-TOR (tor-spec 5.2.1), used by CREATE_FAST:
 * K = SHA1(K0 | [00]) | SHA1(K0 | [01]) | ..., truncated to out_len. */
int kdf_tor(const void *k0, size_t k0_len, uint8_t *out, size_t out_len);

/* HKDF-Expand-Label (RFC 8446 7.1) with hash SHA-256 or SHA-384. label is
 * given without the "tls13 " prefix, e.g. "key", "iv", "traffic upd". */
int kdf_tls13_expand_label(enum kdf_hash hash, const uint8_t *secret,
			   size_t secret_len, const char *label,
			   const uint8_t *context, size_t context_len,
			   uint8_t *out, size_t out_len);

/* TLS 1.2 PRF (RFC 5246 5) with hash SHA-256 or SHA-384:
 * PRF(secret, label, seed) = P_hash(secret, label | seed). For the key block
 * label is "key expansion" and seed is server_random | client_random. */
int kdf_tls12_prf(enum kdf_hash hash, const uint8_t *secret,
		  size_t secret_len, const char *label, const uint8_t *seed,
		  size_t seed_len, uint8_t *out, size_t out_len);

#endif
