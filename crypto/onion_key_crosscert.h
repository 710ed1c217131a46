/* The onion-key cross-certificates of a relay's server descriptor, which
 * prove that the holder of each onion key also holds the relay's identity
 * (dir-spec 2.1.1 "onion-key-crosscert" and "ntor-onion-key-crosscert"):
 *
 * - TAP: the RSA-1024 TAP onion key signs, with PKCS#1 v1.5 type-1 padding
 *   and no DigestInfo, the 52 bytes
 *   SHA-1(DER(RSA identity)) [20] || Ed25519 master identity [32].
 * - ntor: an Ed25519 certificate of type 0x0A (cert-spec A.1) certifying the
 *   Ed25519 master identity, signed by the Ed25519 key derived from the
 *   curve25519 ntor onion key. The descriptor carries the sign bit of that
 *   derived public key, because the curve25519 key alone (a Montgomery u
 *   coordinate) determines it only up to sign (dir-spec appendix
 *   "Converting a curve25519 public key to an ed25519 public key").
 *
 * The derived Ed25519 secret key is the one tor uses: the curve25519 secret
 * scalar as the expanded key's first half, and as second half the first 32
 * bytes of SHA-512(secret || "Derive high part of ed25519 key from curve25519
 * key" with its terminating NUL). Any second half gives valid signatures;
 * using tor's makes our certificates byte-identical to tor's for the same
 * key, which the unit tests use.
 */
#ifndef HSRELAY_CRYPTO_ONION_KEY_CROSSCERT_H
#define HSRELAY_CRYPTO_ONION_KEY_CROSSCERT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "crypto/tor_keys.h"

struct rsa_identity;

#define TAP_ONION_CROSSCERT_SIGNED_LEN 52

/* The Ed25519 key pair tor derives from a curve25519 key pair; *sign_bit
 * gets bit 255 of the derived public key (0 or 1). 0, -EINVAL when the
 * secret is not usable as a scalar, -EIO when libsodium fails. */
int ed25519_keypair_from_curve25519(struct ed25519_keypair *out,
		int *sign_bit, const struct curve25519_keypair *in);

/* The Ed25519 public key y = (u - 1) / (u + 1) mod 2^255 - 19 with the
 * given sign bit, from a curve25519 public key u (bit 255 of u ignored, as
 * tor does). 0 or -EIO. */
int ed25519_public_from_curve25519(uint8_t out[ED25519_PUBLIC_KEY_LEN],
		const uint8_t curve25519_public[CURVE25519_KEY_LEN], int sign_bit);

/* Creates the type-0x0A certificate of master_identity signed by the key
 * derived from onion_key, expiring at expiration_hours (tor uses the
 * descriptor's published time plus the onion key lifetime, rounded up).
 * Returns its length (TORCERT_MIN_LEN: no extensions) with *sign_bit set,
 * -EMSGSIZE when out is too small. */
ssize_t ntor_onion_key_crosscert_create(
		const struct curve25519_keypair *onion_key,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN],
		uint32_t expiration_hours, int *sign_bit,
		uint8_t *out, size_t out_len);

/* Checks a ntor crosscert as an authority does: type 0x0A, certified key
 * master_identity, signature by the key derived from ntor_public and
 * sign_bit, not expired at now. 0, -EINVAL when malformed or of the wrong
 * type or key, -EBADMSG on a bad signature, -EKEYEXPIRED when expired. */
int ntor_onion_key_crosscert_verify(const uint8_t *cert, size_t cert_len,
		const uint8_t ntor_public[CURVE25519_KEY_LEN], int sign_bit,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN], time_t now);

/* Signs SHA-1(DER(identity)) || master_identity with tap_onion_key.
 * Returns the signature length (the TAP key's size), or a negative error
 * (-EMSGSIZE when out is too small). */
ssize_t tap_onion_key_crosscert_create(const struct rsa_identity *tap_onion_key,
		const struct rsa_identity *identity,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN],
		uint8_t *out, size_t out_len);

/* 0 when sig is tap_onion_key's signature over the 52 bytes above,
 * -EBADMSG otherwise. */
int tap_onion_key_crosscert_verify(const uint8_t *sig, size_t sig_len,
		const struct rsa_identity *tap_onion_key,
		const struct rsa_identity *identity,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN]);

#endif
