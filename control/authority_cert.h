/* Directory authority key certificates (dir-spec 3.1), version 3:
 *
 *   dir-key-certificate-version 3          at start, exactly once
 *   dir-address IP:Port                    at most once
 *   fingerprint HEX40                      exactly once
 *   dir-key-published YYYY-MM-DD HH:MM:SS  exactly once
 *   dir-key-expires YYYY-MM-DD HH:MM:SS    exactly once
 *   dir-identity-key + RSA PUBLIC KEY      exactly once
 *   dir-signing-key + RSA PUBLIC KEY       exactly once
 *   dir-key-crosscert + [ID ]SIGNATURE     exactly once
 *   dir-key-certification + SIGNATURE      at end, exactly once
 *
 * Unknown keywords are ignored (dir-spec 1.2). The fingerprint must be the
 * SHA-1 of the identity key's DER (as tor checks). Signatures, verified by
 * authority_cert_verify() and not by the parser:
 *   - dir-key-certification: the identity key's PKCS#1 v1.5 signature over
 *     the bare SHA-1 of the text from "dir-key-certificate-version" through
 *     the newline after "dir-key-certification" (dir-spec 1.3);
 *   - dir-key-crosscert: the signing key's signature over the bare SHA-1
 *     digest of the identity key (the fingerprint).
 *
 * Bounds: a certificate is at most AUTHORITY_CERT_MAX_LEN bytes; keys are
 * RSA of 1024..4096 bits (dir-spec 3.1: identity at least 1024 bits).
 * The parsed certificate owns its keys and does not point into the input.
 */
#ifndef HSRELAY_CONTROL_AUTHORITY_CERT_H
#define HSRELAY_CONTROL_AUTHORITY_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "control/dirdoc_meta.h"

/* tor's MAX_CERT_SIZE. */
#define AUTHORITY_CERT_MAX_LEN (128 * 1024)
#define AUTHORITY_CERT_DIGEST_LEN 20
#define AUTHORITY_CERT_MIN_KEY_BITS 1024
#define AUTHORITY_CERT_MAX_KEY_BITS 4096

struct authority_cert;
struct rsa_identity;

/* Parses one certificate at *p (leading empty lines skipped). On success
 * returns 0, stores a new certificate in *out (free with
 * authority_cert_free()) and advances *p past it, so a /tor/keys/all
 * response parses by calling this until *p == end. On failure returns
 * -EPROTO (malformed, wrong version, fingerprint not matching the identity
 * key, key of unsupported size), -EMSGSIZE (a bound exceeded) or -ENOMEM,
 * leaves *p and *out untouched and fills err when not NULL. */
int authority_cert_parse(const uint8_t **p, const uint8_t *end,
		struct authority_cert **out, struct dirdoc_error *err);

/* Accepts NULL. */
void authority_cert_free(struct authority_cert *cert);

/* Checks both signatures and the lifetime: 0 when valid at now,
 * -EBADMSG for a bad certification or cross-certification signature,
 * -EKEYEXPIRED when now >= dir-key-expires, -EKEYREJECTED when
 * dir-key-published is more than AUTHORITY_CERT_MAX_SKEW seconds after
 * now (dir-spec 3.1 "published too far in the future"). */
#define AUTHORITY_CERT_MAX_SKEW (24 * 3600)
int authority_cert_verify(const struct authority_cert *cert, time_t now);

/* SHA-1 of the identity key (the v3ident / "fingerprint"). */
const uint8_t *authority_cert_identity_digest(const struct authority_cert *cert);
/* SHA-1 of the signing key's DER, as named in directory-signature lines. */
const uint8_t *authority_cert_signing_key_digest(const struct authority_cert *cert);
time_t authority_cert_published(const struct authority_cert *cert);
time_t authority_cert_expires(const struct authority_cert *cert);
/* dir-address, host byte order; false when the certificate has none. */
bool authority_cert_dir_address(const struct authority_cert *cert,
		uint32_t *ipv4, uint16_t *port);
/* The keys, owned by the certificate. */
const struct rsa_identity *authority_cert_signing_key(const struct authority_cert *cert);
const struct rsa_identity *authority_cert_identity_key(const struct authority_cert *cert);

/* Among certs[0..n_certs), the one with this identity and signing key
 * digest, or NULL. */
const struct authority_cert *authority_cert_find(
		struct authority_cert *const *certs, size_t n_certs,
		const uint8_t identity[AUTHORITY_CERT_DIGEST_LEN],
		const uint8_t signing_key_digest[AUTHORITY_CERT_DIGEST_LEN]);

#endif
