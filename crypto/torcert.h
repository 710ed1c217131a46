/* Tor's Ed25519 certificates and the RSA->Ed25519 cross-certificate
 * (cert-spec 2.1 "Certificates", 2.2 extensions, 2.3 cross-certificate;
 * tor-spec 4.2 CERTS cell types 4..7).
 *
 * Ed25519 certificate (all integers big-endian):
 *   VERSION u8 = 1 | CERT_TYPE u8 | EXPIRATION_DATE u32 (hours since epoch)
 *   CERT_KEY_TYPE u8 | CERTIFIED_KEY [32] | N_EXTENSIONS u8
 *   N_EXTENSIONS x { ExtLength u16 | ExtType u8 | ExtFlags u8 | ExtData }
 *   SIGNATURE [64] = Ed25519 over every byte before it, no prefix.
 *
 * RSA->Ed25519 cross-certificate (CERTS type 7):
 *   ED25519_KEY [32] | EXPIRATION_DATE u32 (hours) | SIGLEN u8 | SIGNATURE
 *   SIGNATURE = RSA PKCS#1 v1.5 over the bare SHA-256 of
 *   "Tor TLS RSA/Ed25519 cross-certificate" || ED25519_KEY || EXPIRATION_DATE.
 *
 * A certificate is expired when now > EXPIRATION_DATE * 3600, as in tor
 * (tor_cert_checksig, rsa_ed25519_crosscert_check). Time is always passed
 * in by the caller.
 */
#ifndef HSRELAY_CRYPTO_TORCERT_H
#define HSRELAY_CRYPTO_TORCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "crypto/tor_keys.h"

struct rsa_identity;

/* cert-spec A.1 certificate types. 1..3 and 7 are CERTS-cell types that are
 * not in the Ed25519 format. */
enum torcert_type {
	TORCERT_TYPE_RSA_LINK = 0x01,           /* X.509, CERTS only */
	TORCERT_TYPE_RSA_IDENTITY = 0x02,       /* X.509, CERTS only */
	TORCERT_TYPE_RSA_AUTH = 0x03,           /* X.509, CERTS only */
	TORCERT_TYPE_SIGNING = 0x04,            /* signing key by identity */
	TORCERT_TYPE_LINK = 0x05,               /* TLS link cert by signing key */
	TORCERT_TYPE_AUTH = 0x06,               /* AUTHENTICATE key by signing */
	TORCERT_TYPE_RSA_CROSSCERT = 0x07,      /* RSA->Ed25519, own format */
	TORCERT_TYPE_HS_DESC_SIGNING = 0x08,    /* desc signing by blinded key */
	TORCERT_TYPE_HS_INTRO_AUTH = 0x09,      /* intro auth key by desc key */
	TORCERT_TYPE_NTOR_CROSSCERT = 0x0a,     /* identity by ntor onion key */
	TORCERT_TYPE_HS_INTRO_ENC = 0x0b,       /* intro ntor key by desc key */
	TORCERT_TYPE_FAMILY = 0x0c,             /* identity by family key */
};

/* cert-spec A.4 CERT_KEY_TYPE. */
enum torcert_key_type {
	TORCERT_KEY_TYPE_ED25519 = 0x01,
	TORCERT_KEY_TYPE_SHA256_RSA = 0x02,
	TORCERT_KEY_TYPE_SHA256_X509 = 0x03,
};

#define TORCERT_VERSION 1
#define TORCERT_EXT_SIGNED_WITH_ED25519_KEY 0x04
#define TORCERT_EXT_FLAG_AFFECTS_VALIDATION 0x01
/* Fixed bytes before the extensions, and the signature. */
#define TORCERT_HEADER_LEN 40
#define TORCERT_SIGNATURE_LEN ED25519_SIGNATURE_LEN
#define TORCERT_MIN_LEN (TORCERT_HEADER_LEN + TORCERT_SIGNATURE_LEN)
/* A certificate with only the signed-with-key extension. */
#define TORCERT_WITH_SIGNING_KEY_LEN (TORCERT_MIN_LEN + 4 + 32)

/* A parsed certificate. `encoded` and `extensions` point into the parsed
 * input, which must outlive the struct. */
struct torcert {
	uint8_t cert_type;
	uint32_t expiration_hours;
	uint8_t key_type;
	uint8_t certified_key[32];
	uint8_t n_extensions;
	const uint8_t *extensions;      /* the extensions as on the wire */
	size_t extensions_len;
	bool has_signing_key;           /* extension 04 present */
	uint8_t signing_key[ED25519_PUBLIC_KEY_LEN];
	/* An extension other than 04 with AFFECTS_VALIDATION set; such a
	 * certificate never verifies (cert-spec 2.1). */
	bool has_unknown_critical_extension;
	uint8_t signature[TORCERT_SIGNATURE_LEN];
	const uint8_t *encoded;
	size_t encoded_len;
};

/* Parses one certificate starting at *p (it is self-delimiting; bytes after
 * it are left). -EMSGSIZE when truncated, -EINVAL when VERSION != 1, an
 * extension 04 is not 32 bytes or appears twice. */
int torcert_parse(const uint8_t **p, const uint8_t *end, struct torcert *out);

/* Re-encodes a parsed certificate byte for byte. */
ssize_t torcert_encode(const struct torcert *in, uint8_t *out, size_t out_len);

/* Checks a parsed certificate:
 *   -ENOTSUP     an unknown extension has AFFECTS_VALIDATION set;
 *   -EINVAL      signing_key is NULL and there is no extension 04;
 *   -EBADMSG     extension 04 differs from signing_key, or bad signature;
 *   -EKEYEXPIRED now > expiration_hours * 3600.
 * signing_key may be NULL to use the key in extension 04. */
int torcert_verify(const struct torcert *cert,
		const uint8_t signing_key[ED25519_PUBLIC_KEY_LEN], time_t now);

/* Creates and signs a certificate for certified_key. With
 * include_signing_key, adds extension 04 (flags 0) carrying signer's public
 * key, as tor does for type 04 and 08 certificates. Returns the length, or
 * -EMSGSIZE when out is too small. */
ssize_t torcert_create(uint8_t cert_type, uint8_t key_type,
		const uint8_t certified_key[32], uint32_t expiration_hours,
		const struct ed25519_keypair *signer, bool include_signing_key,
		uint8_t *out, size_t out_len);

/* Hours since the epoch, rounded up, as tor stores a lifetime end. */
uint32_t torcert_hours_from_time(time_t t);

/* RSA->Ed25519 cross-certificate. */
#define RSA_CROSSCERT_PREFIX "Tor TLS RSA/Ed25519 cross-certificate"
#define RSA_CROSSCERT_SIGNED_LEN 36
#define RSA_CROSSCERT_SIGNATURE_MAX 255

struct rsa_ed25519_crosscert {
	uint8_t ed25519_key[ED25519_PUBLIC_KEY_LEN];
	uint32_t expiration_hours;
	uint8_t signature_len;
	uint8_t signature[RSA_CROSSCERT_SIGNATURE_MAX];
};

/* Parses one cross-certificate at *p. -EMSGSIZE when truncated. */
int rsa_ed25519_crosscert_parse(const uint8_t **p, const uint8_t *end,
		struct rsa_ed25519_crosscert *out);
ssize_t rsa_ed25519_crosscert_encode(const struct rsa_ed25519_crosscert *in,
		uint8_t *out, size_t out_len);

/* Signs ed25519_key with the RSA identity. Returns the length or a negative
 * error (-EMSGSIZE when out is too small). */
ssize_t rsa_ed25519_crosscert_create(
		const uint8_t ed25519_key[ED25519_PUBLIC_KEY_LEN],
		uint32_t expiration_hours, const struct rsa_identity *identity,
		uint8_t *out, size_t out_len);

/* -EBADMSG on a bad signature, -EKEYEXPIRED when now > expiration * 3600.
 * The caller still compares ed25519_key with the identity it expects. */
int rsa_ed25519_crosscert_verify(const struct rsa_ed25519_crosscert *cert,
		const struct rsa_identity *identity, time_t now);

#endif
