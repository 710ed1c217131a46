/* TLS record protection with AES-GCM, in bursts (RFC 8446 5.2-5.3 for
 * TLS 1.3, RFC 5246 6.2.3.3 and RFC 5288 3 for TLS 1.2 GCM suites).
 *
 * The control thread runs the TLS handshake with OpenSSL; right after it, the
 * traffic keys are handed to the worker, which installs them here with
 * tls_record_dir_init() and from then on seals and opens records itself.
 * Records are protected in place and may span several buffers (mbuf
 * segments): the segments are described by struct crypto_iov arrays.
 *
 * Record layout, in wire order:
 *   TLS 1.3: header(5) | ciphertext of (plaintext | inner type) | tag(16)
 *   TLS 1.2: header(5) | explicit nonce(8) | ciphertext | tag(16)
 */
#ifndef HSRELAY_CRYPTO_TLS_RECORD_H
#define HSRELAY_CRYPTO_TLS_RECORD_H

#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "crypto/engine.h"

#define TLS_RECORD_HEADER_LEN 5
#define TLS_RECORD_TAG_LEN 16
#define TLS_RECORD_EXPLICIT_NONCE_LEN 8
#define TLS_RECORD_MAX_PLAINTEXT 16384	/* 2^14, RFC 8446 5.1 */

/* Content types (RFC 8446 B.1). */
enum tls_content_type {
	TLS_CONTENT_CHANGE_CIPHER_SPEC = 20,
	TLS_CONTENT_ALERT = 21,
	TLS_CONTENT_HANDSHAKE = 22,
	TLS_CONTENT_APPLICATION_DATA = 23,
};

enum tls_record_version {
	TLS_RECORD_TLS12,
	TLS_RECORD_TLS13,
};

struct crypto_iov {
	uint8_t *base;
	uint32_t len;
};

/* One direction of one TLS connection. Large (GCM key data holds the
 * expanded key and precomputed hash-key powers); keep it with the link. */
struct tls_record_dir {
	struct gcm_key_data key __attribute__((aligned(64)));
	uint8_t iv[12];		/* TLS 1.3 static IV; TLS 1.2: 4-byte salt */
	uint8_t version;	/* enum tls_record_version */
	uint8_t key_len;	/* 16 or 32 */
	uint64_t seq;
};

/* Installs keys. key_len is 16 (AES-128-GCM) or 32 (AES-256-GCM). iv_len is
 * 12 for TLS 1.3 (the write IV) and 4 for TLS 1.2 (the implicit salt).
 * seq is the next record's sequence number (0 right after the handshake
 * unless records were already exchanged under these keys).
 * Returns 0 or -EINVAL. Slow path. */
int tls_record_dir_init(struct crypto_engine *engine, struct tls_record_dir *dir,
			enum tls_record_version version, const uint8_t *key, unsigned key_len,
			const uint8_t *iv, unsigned iv_len, uint64_t seq);

void tls_record_dir_clear(struct tls_record_dir *dir);

/* Bytes before the plaintext (header, plus the explicit nonce in 1.2) and
 * after it (inner content type in 1.3, then the tag). */
static inline unsigned
tls_record_prefix_len(enum tls_record_version v)
{
	return TLS_RECORD_HEADER_LEN + (v == TLS_RECORD_TLS12 ? TLS_RECORD_EXPLICIT_NONCE_LEN : 0);
}

static inline unsigned
tls_record_suffix_len(enum tls_record_version v)
{
	return TLS_RECORD_TAG_LEN + (v == TLS_RECORD_TLS13 ? 1 : 0);
}

/* A record to seal. The caller lays out prefix | plaintext | suffix:
 * prefix has tls_record_prefix_len() bytes, the plaintext is in segments
 * (at most TLS_RECORD_MAX_PLAINTEXT bytes in all), suffix has
 * tls_record_suffix_len() bytes. Everything is written in place. */
struct tls_record_seal {
	struct tls_record_dir *dir;
	uint8_t *prefix;
	const struct crypto_iov *segments;
	uint16_t nb_segments;
	uint8_t content_type;	/* enum tls_content_type */
	uint8_t *suffix;
	int status;		/* out: 0, -EMSGSIZE (too long), -EOVERFLOW (seq) */
};

/* Seals n records in order (several may share a dir: their sequence
 * numbers follow array order). Returns how many were sealed; a record that
 * fails has its status set, its buffers untouched and its dir's sequence
 * number not consumed. */
unsigned tls_record_seal_burst(struct crypto_engine *engine, struct tls_record_seal recs[],
			       unsigned n);

/* A received record to open. header is the 5-byte record header (already
 * read to find the record's length); segments hold the rest of the record
 * (explicit nonce in 1.2, ciphertext, tag), exactly the header's length.
 * With out == NULL it is decrypted in place. Otherwise the segments are only
 * read and the decrypted bytes go to out, which must have room for the
 * ciphertext length (header length minus the tag, and minus the explicit
 * nonce in 1.2): the worker decrypts an inbound record straight into the
 * outbound record that will carry its cells. */
struct tls_record_open {
	struct tls_record_dir *dir;
	const uint8_t *header;
	const struct crypto_iov *segments;
	uint16_t nb_segments;
	uint8_t *out;
	/* results */
	uint8_t content_type;
	/* where the plaintext starts: in the segments' bytes (in place) or in
	 * out (then always 0) */
	uint32_t plaintext_offset;
	uint32_t plaintext_len;
	/* 0, -EBADMSG (authentication failed: bad_record_mac), -EMSGSIZE
	 * (record_overflow or too short), -EPROTO (TLS 1.3 record with no
	 * non-zero inner content type: unexpected_message), -EOVERFLOW (seq). */
	int status;
};

/* Opens n records in order. Returns how many authenticated; each record's
 * status says how it went. A failing record consumes its sequence number
 * (the connection must be closed after any failure anyway: RFC 8446 5.2). */
unsigned tls_record_open_burst(struct crypto_engine *engine, struct tls_record_open recs[],
			       unsigned n);

#endif
