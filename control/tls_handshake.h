/* The control thread's side of a link's TLS: tor-like link credentials, the
 * TLS handshake over memory buffers, and the handover of the record keys to
 * the worker's record layer (crypto/tls_record.h).
 *
 * Design (tcp-tls-design.md B.3, V): OpenSSL runs the handshake in the
 * control thread on bytes the worker forwards; OpenSSL never sees the TCP
 * connection. Right after the handshake, before any Tor cell, the traffic
 * secrets (caught with the keylog callback in TLS 1.3, the master secret in
 * TLS 1.2) are turned into AEAD keys, IVs and starting sequence numbers,
 * and from then on the worker seals and opens every record itself. The SSL
 * object stays with the session only for the RFC 5705 exporter that the
 * AUTHENTICATE cell needs (tor-spec 4.4.2) and for the peer certificate.
 *
 * Lifetimes: a context holds its own references to the credentials' key and
 * certificate, and a session holds its own reference to its context, so
 * either may be freed in any order; rotating the link key (tor does so every
 * two hours) is creating new credentials and a new server context, while
 * sessions already under way keep the old ones.
 *
 * Threading: a credentials object is immutable after creation and may be
 * read from several threads; contexts and sessions belong to the control
 * thread. Nothing here runs per cell.
 *
 * Errors are negative errno values: -EINVAL (bad argument or call out of
 * order), -ENOMEM, -EIO (OpenSSL failed locally), -EPROTO (the peer broke
 * the TLS protocol or offered nothing we accept), -ECONNRESET (the peer
 * closed the connection during the handshake), -EMSGSIZE (the peer sent more
 * handshake bytes than we buffer), -EAGAIN (not yet possible, see the
 * function).
 */
#ifndef HSRELAY_CONTROL_TLS_HANDSHAKE_H
#define HSRELAY_CONTROL_TLS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Only declarations of the record layer's types: crypto/tls_record.h pulls
 * in intel-ipsec-mb.h, whose compatibility macros (SHA1, ...) clash with
 * OpenSSL's headers in control code. */
struct crypto_engine;
struct rsa_identity;
struct tls_record_dir;

#define TLS_HANDSHAKE_SHA256_LEN 32

/* Link key size tor uses for its TLS certificate (tor: RSA_LINK_KEY_BITS). */
#define TLS_LINK_KEY_BITS 2048
/* Lifetime of the self-signed identity certificate, as tor (tortls.c
 * IDENTITY_CERT_LIFETIME): one year. */
#define TLS_IDENTITY_CERT_LIFETIME (365 * 24 * 60 * 60)
/* How often tor replaces its link key and certificate (tor:
 * MAX_SSL_KEY_LIFETIME_INTERNAL, two hours); the caller's timer. */
#define TLS_LINK_KEY_ROTATION_INTERVAL (2 * 60 * 60)

/* Handshake bytes a session buffers before it has consumed them, and
 * handshake bytes it accepts in all: a peer cannot make the control thread
 * hold more (the largest legitimate flight is a server's, a few kilobytes
 * with tor's 2048-bit certificate, plus pipelined records after Finished). */
#define TLS_SESSION_MAX_BUFFERED (64 * 1024)
#define TLS_SESSION_MAX_INPUT (256 * 1024)

/* tor's label for the Ed25519-SHA256-RFC5705 authenticator's TLSSECRETS
 * (tor-spec 4.4.2; tor relay_handshake.c). */
#define TLS_EXPORTER_LABEL_AUTH0003 "EXPORTER FOR TOR TLS CLIENT BINDING AUTH0003"
#define TLS_EXPORTER_AUTH0003_LEN 32

/* ------------------------------------------------------------------ */
/* Link credentials: tor's CERTS-cell X.509 pair. */

/* An RSA-2048 link key with its X.509 link certificate signed by the
 * relay's RSA-1024 identity key (CERTS type 1, also the certificate the TLS
 * server presents), and the identity key's self-signed X.509 certificate
 * (CERTS type 2). Made as tor makes them (tor tortls.c
 * tor_tls_context_init_certificates, x509_openssl.c
 * tor_tls_create_certificate): version 3, 64-bit random serial, only a
 * commonName in subject and issuer, SHA-256 signatures, no extensions. The
 * link certificate's subject is "www.<8..20 random base32>.net" and its
 * issuer "www.<8..20 random base32>.com", which is also the identity
 * certificate's subject and issuer. Validity starts on a day boundary at a
 * random time in the past (tor_tls_pick_certificate_lifetime). */
struct tls_link_credentials;

/* Creates new credentials for identity (which must hold its private half).
 * link_cert_lifetime is the link certificate's lifetime in seconds; 0 picks
 * it like tor (router_initialize_tls_context): a random whole number of
 * days between 5 and 365, minus one second half of the time. now is the
 * current time. Returns 0 and sets *out, or -EINVAL (no private key),
 * -ENOMEM, -EIO. Slow: it generates an RSA-2048 key. */
int tls_link_credentials_create(const struct rsa_identity *identity,
		unsigned link_cert_lifetime, time_t now,
		struct tls_link_credentials **out);

/* NULL is allowed. Wipes and frees the link key. */
void tls_link_credentials_free(struct tls_link_credentials *credentials);

/* DER of the link certificate (CERTS type 1). Points into credentials. */
const uint8_t *tls_link_credentials_link_cert(
		const struct tls_link_credentials *credentials, size_t *len);

/* DER of the identity certificate (CERTS type 2). Points into credentials. */
const uint8_t *tls_link_credentials_identity_cert(
		const struct tls_link_credentials *credentials, size_t *len);

/* SHA-256 of the link certificate's DER: the key certified by the Ed25519
 * type-5 certificate (cert-spec A.1, CERT_KEY_TYPE 03) and the SCERT field
 * of AUTHENTICATE (tor-spec 4.4.2). */
const uint8_t *tls_link_credentials_link_cert_sha256(
		const struct tls_link_credentials *credentials);

/* ------------------------------------------------------------------ */
/* Contexts: one SSL_CTX per role. */

enum tls_role {
	TLS_ROLE_SERVER,	/* we accepted the TCP connection (responder) */
	TLS_ROLE_CLIENT,	/* we opened it (initiator) */
};

/* Settings (tcp-tls-design.md B.3 item 2, matching tor where tor is
 * observable): TLS 1.2 and 1.3 only; TLS 1.3 suites AES-128-GCM-SHA256 and
 * AES-256-GCM-SHA384, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 and
 * ECDHE-RSA-AES256-GCM-SHA384 (the only suites the worker's record layer
 * has); groups P-256 and X25519; no renegotiation, no compression, no
 * session cache; security level 1 like tor. The server prefers its own
 * order with AES-256 first, as tor, sends no TLS 1.3 session tickets
 * (num_tickets 0: otherwise they would be records under the application
 * keys written before the handover, design doc V) and sets
 * SSL_OP_NO_TICKET. The client sends a random "www.<4..25 base32>.com"
 * server name and the TLS extension padding like tor's, does not set
 * SSL_OP_NO_TICKET (tor's client does not either, so the session_ticket
 * extension stays in the ClientHello; a TLS 1.2 ticket arrives before the
 * server's ChangeCipherSpec and does not shift sequence numbers), offers
 * AES-128 first like tor, and accepts any server certificate: tor
 * authenticates the link with the CERTS cell, not the TLS chain; the peer
 * certificate is kept for that check. */
struct tls_handshake_context;

/* A server context needs credentials (its certificate and key are
 * referenced, so credentials may be freed afterwards); a client context
 * ignores them (NULL is fine). Returns 0 and sets *out, or -EINVAL,
 * -ENOMEM, -EIO. */
int tls_handshake_context_create(enum tls_role role,
		const struct tls_link_credentials *credentials,
		struct tls_handshake_context **out);

/* NULL is allowed. Sessions created from it stay valid. */
void tls_handshake_context_free(struct tls_handshake_context *context);

/* ------------------------------------------------------------------ */
/* Sessions: one per connection. */

enum tls_session_result {
	TLS_SESSION_WANT_INPUT = 0,	/* feed more bytes (drain output first) */
	TLS_SESSION_DONE = 1,		/* handshake complete: hand over */
};

enum tls_session_state {
	TLS_SESSION_HANDSHAKING,
	TLS_SESSION_COMPLETE,		/* handshake done, not yet handed over */
	TLS_SESSION_HANDED_OVER,
	TLS_SESSION_FAILED,
};

struct tls_session;

/* A session in context's role. Returns 0 and sets *out, or -ENOMEM, -EIO. */
int tls_session_create(struct tls_handshake_context *context,
		struct tls_session **out);

/* NULL is allowed. Wipes any secrets still held. */
void tls_session_free(struct tls_session *session);

/* Caps the protocol version (TLS1_2_VERSION or TLS1_3_VERSION from
 * <openssl/tls1.h>, i.e. 0x0303 or 0x0304) before the first step: a client
 * then offers only up to it, a server accepts only up to it. -EINVAL for
 * another value or after the first step. */
int tls_session_set_max_version(struct tls_session *session,
		uint16_t version);

/* Appends bytes received from the peer. Bytes fed after completion but
 * before the handover (records the worker forwarded meanwhile) join the
 * handover's leftover. Fails with -EMSGSIZE (and the session fails) when
 * more than TLS_SESSION_MAX_BUFFERED bytes would wait unconsumed or more
 * than TLS_SESSION_MAX_INPUT bytes were fed in all; -EINVAL after a
 * failure or the handover (from then on the worker owns the stream). */
int tls_session_feed(struct tls_session *session, const uint8_t *data,
		size_t len);

/* Runs the handshake as far as the fed bytes allow. A client's first call
 * produces the ClientHello. Returns TLS_SESSION_WANT_INPUT,
 * TLS_SESSION_DONE (also on every later call), or a negative error after
 * which the session is failed and tls_session_error() says why; after a
 * failure there may still be output (a TLS alert) worth sending before the
 * connection is closed. Always drain the output after a call. */
int tls_session_step(struct tls_session *session);

enum tls_session_state tls_session_state(const struct tls_session *session);

/* A short human-readable reason for the failure (never secret material),
 * or "" when the session has not failed. Points into session. */
const char *tls_session_error(const struct tls_session *session);

/* Bytes waiting to be sent to the peer. */
size_t tls_session_output_pending(const struct tls_session *session);

/* Moves up to out_len pending bytes into out; returns how many. */
size_t tls_session_drain_output(struct tls_session *session, uint8_t *out,
		size_t out_len);

/* ------------------------------------------------------------------ */
/* Handover to the worker. */

/* One direction's record protection, ready for tls_record_dir_init(). */
struct tls_handover_direction {
	uint8_t key[32];	/* key_len bytes used */
	uint8_t iv[12];		/* iv_len bytes used */
	uint8_t iv_len;		/* 12 (TLS 1.3 IV) or 4 (TLS 1.2 salt) */
	uint64_t seq;		/* sequence number of the next record */
	/* TLS 1.3: the application traffic secret these keys came from, for
	 * KeyUpdate (RFC 8446 4.6.3); secret_len is the suite's hash length
	 * (32 or 48). TLS 1.2: secret_len 0. */
	uint8_t secret[48];
	uint8_t secret_len;
};

struct tls_handover {
	uint8_t version;		/* enum tls_record_version */
	uint16_t protocol_version;	/* 0x0303 or 0x0304 */
	uint16_t cipher_suite;		/* IANA id: 0x1301, 0x1302, 0xc02f, 0xc030 */
	uint8_t key_len;		/* 16 (AES-128-GCM) or 32 (AES-256-GCM) */
	struct tls_handover_direction read;	/* records from the peer */
	struct tls_handover_direction write;	/* records to the peer */
	/* Bytes the peer already sent after its last handshake record (its
	 * first application records, e.g. a tor client's VERSIONS cell):
	 * the start of the worker's inbound record stream, to be processed
	 * before anything received later. Points into the session; valid
	 * until tls_session_free(); NULL when leftover_len is 0. */
	const uint8_t *leftover;
	size_t leftover_len;
};

/* Derives the record keys once the handshake is done and all output was
 * drained, and fills *out. Sequence numbers (design doc V):
 *   TLS 1.3: read 0 and write 0 in both roles. Our server sends no
 *     tickets; our client's last handshake record (Finished) is under the
 *     handshake keys. A tor server's two NewSessionTicket messages arrive
 *     later as records under the application keys at read seq 0 and 1:
 *     the worker opens them and discards them (inner type 22).
 *   TLS 1.2: read 1 and write 1: each side's Finished was record 0 under
 *     the new keys.
 * The traffic secrets are wiped from the session afterwards (in TLS 1.3
 * they travel on in *out, for the worker's KeyUpdate); the caller wipes
 * *out (tls_handover_wipe) once the keys are installed. Returns 0,
 * -EAGAIN when output is still pending, -EINVAL when the handshake is not
 * complete or was already handed over, -EPROTO when OpenSSL holds
 * application data it already read (it never should: read-ahead is off),
 * -EIO when the secrets were not captured or a KDF failed. */
int tls_session_handover(struct tls_session *session,
		struct tls_handover *out);

/* Installs a handover into the worker's record layer: read_dir opens the
 * peer's records, write_dir seals ours. 0 or the -EINVAL of
 * tls_record_dir_init(). */
int tls_handover_install(struct crypto_engine *engine,
		const struct tls_handover *handover,
		struct tls_record_dir *read_dir, struct tls_record_dir *write_dir);

/* Wipes the keys (OPENSSL_cleanse) and forgets the leftover pointer. */
void tls_handover_wipe(struct tls_handover *handover);

/* ------------------------------------------------------------------ */
/* After the handshake (before or after the handover). */

/* RFC 5705 / RFC 8446 7.5 exporter over the session's handshake. Returns
 * 0, -EINVAL (handshake not complete, bad lengths), -EIO. */
int tls_session_export_keying_material(struct tls_session *session,
		const char *label, const uint8_t *context, size_t context_len,
		bool use_context, uint8_t *out, size_t out_len);

/* tor's AUTH0003 TLSSECRETS (tor-spec 4.4.2): the exporter with label
 * TLS_EXPORTER_LABEL_AUTH0003 and context cid (the initiator's 32-byte
 * SHA-256 of its RSA identity key, the CID field), use_context = 1. */
int tls_session_export_auth0003(struct tls_session *session,
		const uint8_t cid[32], uint8_t out[TLS_EXPORTER_AUTH0003_LEN]);

/* The peer's TLS certificate (DER) and its SHA-256, captured when the
 * handshake completed. -ENOENT when the peer sent none (a tor client never
 * does), -EINVAL before completion. Pointers into session. */
int tls_session_peer_cert(const struct tls_session *session,
		const uint8_t **der, size_t *der_len,
		const uint8_t **sha256);

/* Negotiated group as an OpenSSL NID (e.g. NID_X9_62_prime256v1,
 * NID_X25519), for logs and tests; 0 before completion or if unknown. */
int tls_session_group_nid(const struct tls_session *session);

#endif
