/* TLS 1.3 post-handshake messages on an established link: the parser of a
 * handshake record's plaintext (RFC 8446 4.6) and the KeyUpdate key
 * schedule (RFC 8446 4.6.3, 7.2), for the worker.
 *
 * The worker keeps each link's two application traffic secrets next to its
 * record keys (crypto/tls_record.h) and, when a KeyUpdate arrives, derives
 * the next secret, key and IV itself: HKDF-Expand-Label over HMAC built on
 * ipsec-mb's SHA-256 / SHA-384, so the fast path holds no OpenSSL state and
 * needs no round trip to the control thread (docs/links.md, "KeyUpdate").
 * Only the expansions TLS 1.3 needs here are provided: an empty context
 * and at most one hash length of output.
 */
#ifndef HSRELAY_CRYPTO_TLS_KEY_UPDATE_H
#define HSRELAY_CRYPTO_TLS_KEY_UPDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/engine.h"
#include "crypto/tls_record.h"

/* Handshake message types after the handshake (RFC 8446 4, B.3). */
#define TLS_HANDSHAKE_NEW_SESSION_TICKET 4
#define TLS_HANDSHAKE_KEY_UPDATE 24
/* KeyUpdate.request_update (RFC 8446 4.6.3). */
#define TLS_KEY_UPDATE_NOT_REQUESTED 0
#define TLS_KEY_UPDATE_REQUESTED 1
/* A whole KeyUpdate message: type, 24-bit length 1, request_update. */
#define TLS_KEY_UPDATE_MSG_LEN 5

/* Largest traffic secret: SHA-384's output (TLS_AES_256_GCM_SHA384). */
#define TLS_TRAFFIC_SECRET_MAX 48

/* One direction's application traffic secret: len is the suite's hash
 * length, 32 (SHA-256, TLS_AES_128_GCM_SHA256) or 48 (SHA-384,
 * TLS_AES_256_GCM_SHA384); 0 when there is none (TLS 1.2). */
struct tls_traffic_secret {
	uint8_t bytes[TLS_TRAFFIC_SECRET_MAX];
	uint8_t len;
};

/* What one handshake record held. */
enum tls_post_handshake_kind {
	TLS_POST_HANDSHAKE_TICKETS,	/* only NewSessionTickets: discard */
	TLS_POST_HANDSHAKE_KEY_UPDATE,	/* tickets (maybe) then one KeyUpdate */
};

/* Scans the plaintext of one TLS 1.3 handshake record from *p to end:
 * whole NewSessionTicket messages (RFC 8446 4.6.1; their bodies are not
 * looked into, tickets are discarded), optionally followed by a KeyUpdate
 * that must end the record (RFC 8446 5.1: handshake messages must not span
 * a key change). *p is left after the last byte read.
 * Returns TLS_POST_HANDSHAKE_TICKETS, TLS_POST_HANDSHAKE_KEY_UPDATE (with
 * *update_requested set from request_update), or:
 *   -EPROTO (unexpected_message): an empty record, a message of another
 *     type, a message cut by the record's end (this worker does not join
 *     handshake messages across records), bytes after a KeyUpdate;
 *   -EBADMSG (decode_error): a KeyUpdate whose length is not 1 or whose
 *     request_update is neither 0 nor 1.
 * Pure and bounded: reads only [*p, end). */
int tls_post_handshake_parse(const uint8_t **p, const uint8_t *end, bool *update_requested);

/* HKDF-Expand-Label(secret, label, "", out_len) (RFC 8446 7.1) with the
 * hash given by secret_len (32: SHA-256, 48: SHA-384). label is without
 * the "tls13 " prefix and at most 32 bytes; out_len is 1 .. secret_len.
 * Returns 0 or -EINVAL. No allocation; runs on a worker. */
int tls_key_update_expand_label(struct crypto_engine *engine, const uint8_t *secret,
		unsigned secret_len, const char *label, uint8_t *out, unsigned out_len);

/* The next generation of a traffic secret, in place (RFC 8446 7.2):
 * secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
 * Returns 0 or -EINVAL (no secret). */
int tls_key_update_next_secret(struct crypto_engine *engine, struct tls_traffic_secret *secret);

/* A KeyUpdate in one direction: advances secret, then installs the key
 * (HKDF-Expand-Label(secret, "key", "", dir's key length)) and IV ("iv",
 * 12 bytes) into dir with sequence number 0 (RFC 8446 5.3, 7.3). dir must
 * hold TLS 1.3 keys whose length fits the secret's hash (16 with SHA-256,
 * 32 with SHA-384). Returns 0 or -EINVAL (dir and secret left as they
 * were). */
int tls_key_update_apply(struct crypto_engine *engine, struct tls_record_dir *dir,
		struct tls_traffic_secret *secret);

/* Writes the KeyUpdate message (TLS_KEY_UPDATE_MSG_LEN bytes) with the
 * given request_update. */
void tls_key_update_message(uint8_t out[TLS_KEY_UPDATE_MSG_LEN], bool update_requested);

/* Wipes a secret. */
void tls_traffic_secret_wipe(struct tls_traffic_secret *secret);

#endif
