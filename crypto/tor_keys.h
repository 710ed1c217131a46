/* Tor's relay key types and the key files tor keeps in DataDirectory/keys/.
 *
 * Ed25519 keys: tor stores secret keys in the *expanded* ref10 form
 * (clamped scalar a || 32-byte nonce prefix), not as the RFC 8032 seed, and
 * onion-service blinded keys only exist in expanded form. Signing therefore
 * works on the expanded key; ed25519_keypair_from_seed() expands an RFC 8032
 * seed the same way libsodium and tor do, so both routes give byte-identical
 * signatures.
 *
 * Key files (tor's crypto_format.c "tagged contents" format): a 32-byte
 * header "== TYPE: TAG ==" padded with NUL bytes, followed by the body.
 *   keys/ed25519_master_id_secret_key   "ed25519v1-secret", tag "type0", 64 B
 *   keys/ed25519_signing_secret_key     "ed25519v1-secret", tag "type4", 64 B
 *   keys/ed25519_master_id_public_key   "ed25519v1-public", tag "type0", 32 B
 *   keys/ed25519_signing_cert           "ed25519v1-cert",   tag "type4", cert
 *   keys/secret_onion_key_ntor          "c25519v1",         tag "onion",
 *                                       secret[32] || public[32]
 * The tag of an Ed25519 key file is "type" followed by the cert type of the
 * certificate the key belongs to (0 for the master identity).
 *
 * Parsers are pure bounded functions; the load/store helpers do the file
 * I/O (store writes mode 0600 through a temporary file and rename).
 */
#ifndef HSRELAY_CRYPTO_TOR_KEYS_H
#define HSRELAY_CRYPTO_TOR_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ED25519_PUBLIC_KEY_LEN 32
#define ED25519_SEED_LEN 32
#define ED25519_EXPANDED_SECRET_KEY_LEN 64
#define ED25519_SIGNATURE_LEN 64
#define CURVE25519_KEY_LEN 32

/* An Ed25519 key pair with the secret in expanded form: secret[0..32) is the
 * clamped scalar a, secret[32..64) the prefix hashed into the nonce. */
struct ed25519_keypair {
	uint8_t public_key[ED25519_PUBLIC_KEY_LEN];
	uint8_t secret[ED25519_EXPANDED_SECRET_KEY_LEN];
};

struct curve25519_keypair {
	uint8_t public_key[CURVE25519_KEY_LEN];
	uint8_t secret[CURVE25519_KEY_LEN];
};

/* Expands an RFC 8032 seed: SHA-512(seed), first half clamped, and derives
 * the public key. 0, or -EIO when libsodium cannot initialise. */
int ed25519_keypair_from_seed(struct ed25519_keypair *out,
		const uint8_t seed[ED25519_SEED_LEN]);

/* Fills out->secret from an expanded secret key and derives the public key
 * A = [a]B. -EINVAL when the scalar is zero (not a usable key). */
int ed25519_keypair_from_expanded(struct ed25519_keypair *out,
		const uint8_t secret[ED25519_EXPANDED_SECRET_KEY_LEN]);

/* A fresh key pair from libsodium's CSPRNG. 0 or -EIO. */
int ed25519_keypair_generate(struct ed25519_keypair *out);

/* RFC 8032 5.1.6 signing with the expanded key. 0, -EIO when libsodium
 * cannot initialise, or -EINVAL in the negligible case that the nonce
 * reduces to zero. */
int ed25519_sign(uint8_t signature[ED25519_SIGNATURE_LEN],
		const uint8_t *message, size_t message_len,
		const struct ed25519_keypair *key);

/* 0 when the signature is valid, -EBADMSG otherwise (-EIO when libsodium
 * cannot initialise). */
int ed25519_verify(const uint8_t signature[ED25519_SIGNATURE_LEN],
		const uint8_t *message, size_t message_len,
		const uint8_t public_key[ED25519_PUBLIC_KEY_LEN]);

/* A fresh clamped curve25519 key pair. 0 or -EIO. */
int curve25519_keypair_generate(struct curve25519_keypair *out);

/* Tagged key files. */
#define TOR_KEY_FILE_HEADER_LEN 32
/* "== " + type + ": " + tag + " ==" plus at least one NUL fits in 32. */
#define TOR_KEY_FILE_NAME_MAX 24

#define TOR_KEY_FILE_TYPE_ED25519_SECRET "ed25519v1-secret"
#define TOR_KEY_FILE_TYPE_ED25519_PUBLIC "ed25519v1-public"
#define TOR_KEY_FILE_TYPE_ED25519_CERT "ed25519v1-cert"
#define TOR_KEY_FILE_TYPE_CURVE25519 "c25519v1"
#define TOR_KEY_FILE_TAG_MASTER "type0"
#define TOR_KEY_FILE_TAG_SIGNING "type4"
#define TOR_KEY_FILE_TAG_NTOR "onion"

/* The largest certificate body tor reads from ed25519_signing_cert. */
#define TOR_CERT_FILE_BODY_MAX 256

/* A parsed tagged file; body points into the parsed input. */
struct tor_tagged_file {
	char type[TOR_KEY_FILE_NAME_MAX + 1];
	char tag[TOR_KEY_FILE_NAME_MAX + 1];
	const uint8_t *body;
	size_t body_len;
};

/* Parses a whole tagged file [*p, end): the body is everything after the
 * header, so on success *p == end. The header text must start with "== ",
 * end with " ==", contain "TYPE: TAG" with a non-empty type and be followed
 * only by NUL bytes, with at least one NUL (tor's writer always leaves one).
 * -EINVAL on a malformed header, -EMSGSIZE when shorter than the header. */
int tor_tagged_file_parse(const uint8_t **p, const uint8_t *end,
		struct tor_tagged_file *out);

/* Writes header and body. -EINVAL when type is empty or the header text
 * does not fit, -EMSGSIZE when out is too small. */
ssize_t tor_tagged_file_encode(const struct tor_tagged_file *in,
		uint8_t *out, size_t out_len);

struct ed25519_secret_key_file {
	char tag[TOR_KEY_FILE_NAME_MAX + 1];
	struct ed25519_keypair keypair; /* public key derived from the secret */
};

struct ed25519_public_key_file {
	char tag[TOR_KEY_FILE_NAME_MAX + 1];
	uint8_t public_key[ED25519_PUBLIC_KEY_LEN];
};

struct ed25519_cert_file {
	char tag[TOR_KEY_FILE_NAME_MAX + 1];
	uint8_t cert[TOR_CERT_FILE_BODY_MAX];
	size_t cert_len;
};

/* The public half is checked against the secret when parsing. */
struct curve25519_key_file {
	char tag[TOR_KEY_FILE_NAME_MAX + 1];
	struct curve25519_keypair keypair;
};

/* Each parser takes a whole file: wrong type string or body length is
 * -EINVAL; an unusable secret (zero scalar) or a curve25519 public key that
 * does not match its secret is -EINVAL too. The cert file body is not parsed
 * here (see crypto/torcert.h); it must be 1..TOR_CERT_FILE_BODY_MAX bytes. */
int ed25519_secret_key_file_parse(const uint8_t **p, const uint8_t *end,
		struct ed25519_secret_key_file *out);
int ed25519_public_key_file_parse(const uint8_t **p, const uint8_t *end,
		struct ed25519_public_key_file *out);
int ed25519_cert_file_parse(const uint8_t **p, const uint8_t *end,
		struct ed25519_cert_file *out);
int curve25519_key_file_parse(const uint8_t **p, const uint8_t *end,
		struct curve25519_key_file *out);

ssize_t ed25519_secret_key_file_encode(const struct ed25519_secret_key_file *in,
		uint8_t *out, size_t out_len);
ssize_t ed25519_public_key_file_encode(const struct ed25519_public_key_file *in,
		uint8_t *out, size_t out_len);
ssize_t ed25519_cert_file_encode(const struct ed25519_cert_file *in,
		uint8_t *out, size_t out_len);
ssize_t curve25519_key_file_encode(const struct curve25519_key_file *in,
		uint8_t *out, size_t out_len);

/* Whole-file I/O. Read: -errno from the system, -EMSGSIZE when the file is
 * larger than buf_len. Write: creates path with mode 0600 via path.tmp and
 * rename(2), so a crash never leaves a half-written key; -errno on failure. */
int tor_key_file_read(const char *path, uint8_t *buf, size_t buf_len,
		size_t *len_out);
int tor_key_file_write(const char *path, const uint8_t *data, size_t len);

/* Load = read + parse (secrets in the read buffer are wiped); store =
 * encode + write with mode 0600. */
int ed25519_secret_key_file_load(const char *path,
		struct ed25519_secret_key_file *out);
int ed25519_public_key_file_load(const char *path,
		struct ed25519_public_key_file *out);
int ed25519_cert_file_load(const char *path, struct ed25519_cert_file *out);
int curve25519_key_file_load(const char *path, struct curve25519_key_file *out);
int ed25519_secret_key_file_store(const char *path,
		const struct ed25519_secret_key_file *in);
int ed25519_public_key_file_store(const char *path,
		const struct ed25519_public_key_file *in);
int ed25519_cert_file_store(const char *path,
		const struct ed25519_cert_file *in);
int curve25519_key_file_store(const char *path,
		const struct curve25519_key_file *in);

#endif
