/* RSA keys as tor uses them: the RSA-1024 relay identity (keys/secret_id_key)
 * and the TAP onion key (keys/secret_onion_key), both e = 65537.
 *
 * - Files are PEM "RSA PRIVATE KEY" (PKCS#1), as tor writes and reads them.
 * - The public key travels as DER PKCS#1 RSAPublicKey; the relay fingerprint
 *   is SHA-1 of that DER (tor-spec 0.3 "KP_relayid_rsa", dir-spec), printed
 *   as 40 upper-case hex digits like `tor --list-fingerprint`.
 * - tor's "RSA signature" over a digest (router-signature, TAP and
 *   RSA->Ed25519 cross-certificates) is PKCS#1 v1.5 type-1 padding around the
 *   bare digest, with no DigestInfo (the old RSA_private_encrypt).
 * - The CERTS cell identity and link certificates (types 2 and 1) are X.509;
 *   this module checks their signature and extracts their key.
 *
 * The key object is opaque and immutable after creation.
 */
#ifndef HSRELAY_CRYPTO_RSA_IDENTITY_H
#define HSRELAY_CRYPTO_RSA_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RSA_IDENTITY_BITS 1024
#define RSA_IDENTITY_EXPONENT 65537
#define RSA_IDENTITY_FINGERPRINT_LEN 20
#define RSA_IDENTITY_FINGERPRINT_HEX_LEN 40
/* Big enough for the DER of any RSA key up to 4096 bits. */
#define RSA_PUBLIC_DER_MAX 550

struct rsa_identity;

/* A new RSA-1024 key with e = 65537. 0 or -ENOMEM/-EIO. */
int rsa_identity_generate(struct rsa_identity **out);

void rsa_identity_free(struct rsa_identity *key);

/* Parses a PEM private key (tor writes "RSA PRIVATE KEY"; PKCS#8 is accepted
 * too). -EINVAL when it is not an RSA private key. */
int rsa_identity_from_private_pem(const char *pem, size_t pem_len,
		struct rsa_identity **out);

/* Writes the "-----BEGIN RSA PRIVATE KEY-----" PEM tor reads. Returns the
 * length (no NUL written), -EMSGSIZE when out is too small, -EINVAL when the
 * key has no private half. */
ssize_t rsa_identity_to_private_pem(const struct rsa_identity *key,
		char *out, size_t out_len);

/* keys/secret_id_key and keys/secret_onion_key. Store writes mode 0600 and,
 * like tor 0.4.9, ends the file with the PEM's terminating NUL byte. */
int rsa_identity_load(const char *path, struct rsa_identity **out);
int rsa_identity_store(const struct rsa_identity *key, const char *path);

/* DER PKCS#1 RSAPublicKey, both ways. Decoding requires the whole input to
 * be one key (-EINVAL otherwise). */
int rsa_identity_from_public_der(const uint8_t *der, size_t der_len,
		struct rsa_identity **out);
ssize_t rsa_identity_public_der(const struct rsa_identity *key,
		uint8_t *out, size_t out_len);

/* SHA-1 of the DER public key. */
int rsa_identity_fingerprint(const struct rsa_identity *key,
		uint8_t out[RSA_IDENTITY_FINGERPRINT_LEN]);
/* 40 upper-case hex digits and a NUL. */
void rsa_fingerprint_to_hex(const uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN],
		char out[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1]);

/* Modulus size in bits and bytes (= signature length). */
int rsa_identity_bits(const struct rsa_identity *key);
size_t rsa_identity_size(const struct rsa_identity *key);
bool rsa_identity_has_private(const struct rsa_identity *key);
/* 0 when the key is what tor accepts as identity/TAP key: 1024 bits,
 * e = 65537; -EINVAL otherwise. */
int rsa_identity_check_tor_params(const struct rsa_identity *key);

/* PKCS#1 v1.5 signature over a bare digest (no DigestInfo). digest_len must
 * leave room for the 11 bytes of padding. Returns rsa_identity_size(key),
 * -EMSGSIZE when sig_len is too small, -EINVAL on a public-only key or an
 * over-long digest. */
ssize_t rsa_identity_sign_digest(const struct rsa_identity *key,
		const uint8_t *digest, size_t digest_len,
		uint8_t *sig, size_t sig_len);

/* 0 when sig recovers exactly to digest, -EBADMSG otherwise. */
int rsa_identity_verify_digest(const struct rsa_identity *key,
		const uint8_t *digest, size_t digest_len,
		const uint8_t *sig, size_t sig_len);

/* X.509 (DER) as found in CERTS cells. The public key of the certificate's
 * subject; -EINVAL when the DER is not one whole certificate or its key is
 * not RSA. */
int rsa_identity_from_x509(const uint8_t *der, size_t der_len,
		struct rsa_identity **out);
/* 0 when the certificate's signature verifies under signer, -EBADMSG when
 * it does not, -EINVAL when the DER is malformed. Validity dates are not
 * checked here: tor-spec 4.2 states them in terms of the caller's clock. */
int rsa_identity_x509_check_signature(const uint8_t *der, size_t der_len,
		const struct rsa_identity *signer);

#endif
