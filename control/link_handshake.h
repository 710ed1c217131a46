/* The Tor link handshake after TLS (tor-spec 4 "Negotiating and initializing
 * connections", link protocols 4 and 5, the in-protocol handshake with
 * Ed25519 identities), both roles, as a pure state machine for the control
 * thread.
 *
 * Responder (inbound connection), what tor 0.4.9 does:
 *   <- VERSIONS                      (first cell; VPADDING/AUTHORIZE may come
 *                                     before it)
 *   -> VERSIONS 4 5, CERTS (1 2 4 5 7), AUTH_CHALLENGE (method 3), NETINFO
 *   <- NETINFO                       an unauthenticated initiator (a client)
 *   <- CERTS (2 4 6 7), AUTHENTICATE (AUTH0003), NETINFO   a relay
 * Initiator (outbound connection, we extend to a relay):
 *   -> VERSIONS 4 5
 *   <- VERSIONS, CERTS (validated in full), AUTH_CHALLENGE
 *   -> CERTS (2 4 6 7), AUTHENTICATE, NETINFO     (or only NETINFO when not
 *                                                  authenticating)
 *   <- NETINFO                       -> open
 *
 * Nothing here touches the TLS library: what the handshake needs from TLS
 * comes in as plain inputs: the SHA-256 of the peer's TLS certificate
 * (initiator), our own link certificate (in the credentials) and an RFC 5705
 * exporter callback for AUTH0003's TLSSECRETS. Cells come in as wire bytes
 * and leave as wire bytes ready for the record layer.
 *
 * Where tor-spec and tor 0.4.9 differ, this module does what tor does, and
 * it is stricter than tor where tor never sends the thing refused:
 *   - TLSSECRETS uses the CID (SHA-256 of the initiator's RSA identity) as
 *     the exporter context, as tor's relay_handshake.c does (the spec says
 *     the initiator's Ed25519 key).
 *   - An AUTH0003 authenticator must be exactly 352 bytes (tor compares the
 *     signed length with its own; the spec says ignore extra signed bytes).
 *   - Fixed-size cells other than NETINFO during the handshake, unknown
 *     variable-length commands, a second CERTS / AUTH_CHALLENGE /
 *     AUTHENTICATE, and an initiator that sent CERTS but then NETINFO
 *     without AUTHENTICATE all fail the handshake (tor ignores unknown
 *     variable-length cells and would treat the last case as a client).
 *   - A second VERSIONS cell is ignored (tor-spec 4.1 MUST).
 *   - Ed25519 certificates must carry the cert type of their CERTS slot and
 *     the key type that slot certifies (cert-spec A.1, A.4), and fill their
 *     CERTS entry exactly.
 *   - A type 1 certificate from a responder, if present, must be the TLS
 *     certificate itself (its SHA-256 equals the peer TLS digest). tor sends
 *     exactly that certificate; tor's own Ed25519 path does not look at it.
 *
 * Not thread-safe per object; distinct objects may be used from different
 * threads. Credentials are copied into each handshake at creation, so they
 * may be changed or freed while handshakes are running.
 */
#ifndef HSRELAY_CONTROL_LINK_HANDSHAKE_H
#define HSRELAY_CONTROL_LINK_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "crypto/rsa_identity.h"
#include "crypto/tor_keys.h"

#define LINK_SHA256_LEN 32

/* Lifetime of the type 5 and type 6 certificates we make, and how long
 * before their expiry link_credentials_refresh() replaces them (tor's
 * TestingLinkCertLifetime / TestingAuthKeyLifetime of 2 days and
 * TestingLinkKeySlop / TestingAuthKeySlop of 3 hours). */
#define LINK_CERT_LIFETIME (2 * 24 * 3600)
#define LINK_CERT_REFRESH_SLOP (3 * 3600)

/* tor's tolerance for X.509 validity dates (x509_internal.h): a certificate
 * counts as expired 2 days after notAfter and as valid from 30 days before
 * notBefore. */
#define LINK_X509_PAST_SLOP (2 * 24 * 3600)
#define LINK_X509_FUTURE_SLOP (30 * 24 * 3600)

/* tor computes the clock skew from NETINFO only when the cell arrives within
 * this many seconds of our VERSIONS (channeltls.c). */
#define LINK_NETINFO_SKEW_WINDOW 180

/* Our side's credentials, made by the caller from the relay keys. */
struct link_credentials;

struct link_credentials_params {
	/* RSA-1024 identity (KP_relayid_rsa). Only the public key is used;
	 * the private half is not needed. Not retained. */
	const struct rsa_identity *rsa_identity;
	/* Ed25519 identity public key (KP_relayid_ed). The secret stays
	 * offline, as tor allows. */
	const uint8_t *ed25519_identity; /* ED25519_PUBLIC_KEY_LEN bytes */
	/* Ed25519 signing key pair (KS_relaysign_ed), which signs the type 5
	 * and type 6 certificates made here. Copied. */
	const struct ed25519_keypair *ed25519_signing;
	/* Type 4 identity->signing certificate (keys/ed25519_signing_cert). */
	const uint8_t *signing_cert;
	size_t signing_cert_len;
	/* Type 7 RSA->Ed25519 cross-certificate. */
	const uint8_t *rsa_crosscert;
	size_t rsa_crosscert_len;
	/* Type 2 self-signed X.509 identity certificate (DER). */
	const uint8_t *identity_x509;
	size_t identity_x509_len;
	/* Type 1 X.509 link certificate (DER): the certificate our TLS server
	 * presents, signed by the identity key. */
	const uint8_t *link_x509;
	size_t link_x509_len;
};

/* Checks the inputs against each other (type 2 holds rsa_identity, type 4
 * certifies the signing key under ed25519_identity with extension 04, type 7
 * certifies ed25519_identity under rsa_identity, none expired at now), makes
 * a fresh Ed25519 auth key, and signs the type 5 (SHA-256 of link_x509) and
 * type 6 (auth key) certificates, valid LINK_CERT_LIFETIME from now.
 * Returns 0 and *out, or -EINVAL (inconsistent or malformed inputs),
 * -EKEYEXPIRED (type 4, type 7 or an X.509 certificate expired at now),
 * -ENOMEM, -EIO. Nothing is allocated on failure. */
int link_credentials_new(const struct link_credentials_params *params,
		time_t now, struct link_credentials **out);

void link_credentials_free(struct link_credentials *creds);

/* Replaces the type 1 link certificate (the TLS module rotated its link
 * key) and re-signs the type 5 certificate for it. Handshakes created
 * before keep the certificate they started with. -EINVAL when the DER is
 * not one X.509 certificate; the credentials are unchanged on failure. */
int link_credentials_set_link_cert(struct link_credentials *creds,
		const uint8_t *link_x509, size_t link_x509_len, time_t now);

/* Makes new type 5 and 6 certificates (and a new auth key) when they expire
 * within LINK_CERT_REFRESH_SLOP of now; call it periodically. Returns 1 when
 * something was renewed, 0 when nothing was due, or a negative error. */
int link_credentials_refresh(struct link_credentials *creds, time_t now);

/* SHA-256 of our TLS link certificate, as certified by our type 5 cert. */
void link_credentials_link_cert_digest(const struct link_credentials *creds,
		uint8_t out[LINK_SHA256_LEN]);

/* Expiry (seconds since the epoch) of our type 5 / type 6 certificates. */
time_t link_credentials_expiry(const struct link_credentials *creds);

enum link_role {
	LINK_ROLE_RESPONDER,
	LINK_ROLE_INITIATOR,
};

/* An IPv4 or IPv6 address as NETINFO carries it (tor-spec 4.5). */
struct link_address {
	uint8_t type;           /* NETINFO_ADDRESS_IPV4 or _IPV6 */
	uint8_t bytes[16];      /* network order; 4 used for IPv4 */
};

#define LINK_MAX_MY_ADDRESSES 2
#define LINK_MAX_PEER_ADDRESSES 8

/* TLS exporter (RFC 5705) for AUTH0003: called with the CID (SHA-256 of the
 * initiator's RSA identity key), it must write the 32 bytes of
 * SSL_export_keying_material(label "EXPORTER FOR TOR TLS CLIENT BINDING
 * AUTH0003", context = cid, use_context = 1). Returns 0, or a negative value
 * which fails the handshake. */
typedef int (*link_export_fn)(void *arg, const uint8_t cid[LINK_SHA256_LEN],
		uint8_t out[LINK_SHA256_LEN]);

/* Source of the AUTH_CHALLENGE challenge and AUTH0003 RAND. Returns 0 or a
 * negative value. NULL selects OpenSSL's RAND_bytes. */
typedef int (*link_random_fn)(void *arg, uint8_t *out, size_t len);

struct link_handshake_params {
	enum link_role role;
	/* Copied into the handshake; not retained. */
	const struct link_credentials *credentials;
	link_export_fn export_keying_material;
	void *export_arg;
	link_random_fn random_bytes;    /* optional */
	void *random_arg;
	/* The peer's address as we see it (NETINFO OTHERADDR). */
	struct link_address peer_address;
	/* Our own addresses for NETINFO (sent by the responder and by an
	 * authenticating initiator; a non-authenticating initiator sends
	 * none and a zero timestamp, as tor clients do). */
	struct link_address my_addresses[LINK_MAX_MY_ADDRESSES];
	size_t n_my_addresses;

	/* Initiator only. */
	/* SHA-256 of the DER certificate the peer presented in TLS. Required. */
	const uint8_t *peer_tls_cert_digest;
	/* Identities from the EXTEND2 / descriptor, each optional (NULL). */
	const uint8_t *expected_rsa_fingerprint; /* 20 bytes, SHA-1 */
	const uint8_t *expected_ed25519_identity; /* 32 bytes */
	/* Answer an AUTH_CHALLENGE with CERTS + AUTHENTICATE (a relay); when
	 * false, send only NETINFO (a client). */
	bool authenticate;
};

enum link_handshake_state {
	LINK_HANDSHAKE_IN_PROGRESS,
	LINK_HANDSHAKE_OPEN,
	LINK_HANDSHAKE_FAILED,
};

struct link_handshake;

/* Creates a handshake. An initiator queues its VERSIONS cell at once (read
 * it with link_handshake_output()); a responder queues nothing until the
 * peer's VERSIONS. now is the time our VERSIONS counts as sent for the
 * NETINFO clock-skew window. Returns 0 and *out, -EINVAL for bad params
 * (missing credentials or exporter, an initiator without
 * peer_tls_cert_digest, an address type other than 4 or 6), -ENOMEM, -EIO.
 */
int link_handshake_new(const struct link_handshake_params *params,
		time_t now, struct link_handshake **out);

void link_handshake_free(struct link_handshake *hs);

/* Width in bytes (2 or 4) of circuit ids in the next cell from the peer:
 * 2 until the peer's VERSIONS has been processed, 4 afterwards. */
unsigned link_handshake_circ_id_len(const struct link_handshake *hs);

/* Processes one cell from the peer's byte stream [*p, end), framed with
 * link_handshake_circ_id_len(). Returns:
 *   0         the cell was consumed (*p advanced); see the state and the
 *             output;
 *   -EAGAIN   [*p, end) does not hold a whole cell yet (nothing consumed);
 *             *need, if not NULL, is set as cell_frame_parse() does;
 *   -ENOTSUP  the handshake is open and the cell is not a link-level cell
 *             (not PADDING, VPADDING, AUTHORIZE, PADDING_NEGOTIATE,
 *             VERSIONS or NETINFO): nothing consumed, it belongs to the
 *             circuit layer (after open, PADDING, VPADDING, AUTHORIZE,
 *             VERSIONS and NETINFO are consumed and ignored, PADDING_NEGOTIATE
 *             is recorded, and CERTS / AUTH_CHALLENGE / AUTHENTICATE fail the
 *             link as tor closes it);
 *   otherwise the handshake failed (or had failed before): the negative
 *             errno also given by link_handshake_error(); *p advanced over
 *             the offending cell when one was framed.
 * now is the time of reception: certificate expiry and clock skew are
 * judged against it. Failure codes: -EPROTO order, framing or format
 * violations; -EPROTONOSUPPORT no link protocol >= 4 in common, or an
 * AUTHENTICATE of a type other than 3; -EBADMSG bad signature or an
 * AUTHENTICATE field that does not match; -EKEYEXPIRED expired or not yet
 * valid certificate; -EKEYREJECTED identity differs from the expected one;
 * -EIO / -ENOMEM local failures (exporter, RNG, allocation). */
int link_handshake_receive(struct link_handshake *hs, const uint8_t **p,
		const uint8_t *end, time_t now, size_t *need);

/* Bytes queued for the peer (whole cells) since the last
 * link_handshake_output_consumed(); *data is valid until the next call
 * that takes hs non-const. Returns the count (0: nothing to send). */
size_t link_handshake_output(const struct link_handshake *hs,
		const uint8_t **data);

/* Drops the first n queued bytes (n <= the pending count). */
void link_handshake_output_consumed(struct link_handshake *hs, size_t n);

enum link_handshake_state link_handshake_state(const struct link_handshake *hs);

/* When failed: the negative errno and a one-line reason for the log (a
 * static "" / 0 otherwise). */
int link_handshake_error(const struct link_handshake *hs);
const char *link_handshake_reason(const struct link_handshake *hs);

/* Negotiated link protocol (4 or 5), 0 before the peer's VERSIONS. */
uint16_t link_handshake_link_protocol(const struct link_handshake *hs);

/* True when the peer proved its identities: for an initiator, the
 * responder's CERTS validated (always, once open); for a responder, the
 * initiator's CERTS + AUTHENTICATE verified (false for a client). */
bool link_handshake_peer_authenticated(const struct link_handshake *hs);

/* The peer's identities once authenticated: 0, or -ENOENT. */
int link_handshake_peer_rsa_fingerprint(const struct link_handshake *hs,
		uint8_t out[RSA_IDENTITY_FINGERPRINT_LEN]);
int link_handshake_peer_ed25519_identity(const struct link_handshake *hs,
		uint8_t out[ED25519_PUBLIC_KEY_LEN]);

/* What the peer's NETINFO said (valid once the handshake is open). */
struct link_peer_netinfo {
	uint32_t time;          /* 0 from clients (tor-spec 4.5) */
	/* now - time when time != 0 and the NETINFO arrived within
	 * LINK_NETINFO_SKEW_WINDOW of our VERSIONS, as tor computes it. */
	bool skew_known;
	int64_t clock_skew;
	bool has_other_address; /* the address the peer sees for us */
	struct link_address other_address;
	size_t n_addresses;     /* the peer's own IPv4/IPv6 addresses */
	struct link_address addresses[LINK_MAX_PEER_ADDRESSES];
};

/* 0 and *out once the peer's NETINFO was processed, else -ENOENT. */
int link_handshake_peer_netinfo(const struct link_handshake *hs,
		struct link_peer_netinfo *out);

/* SLOG and CLOG of the AUTH0003 exchange: for an initiator the values it
 * signed, for a responder the values it checked. -ENOENT when no
 * AUTHENTICATE was made or checked. */
int link_handshake_auth_logs(const struct link_handshake *hs,
		uint8_t slog[LINK_SHA256_LEN], uint8_t clog[LINK_SHA256_LEN]);

/* The last well-formed PADDING_NEGOTIATE received on an open link protocol
 * 5 connection (padding-spec 2.2): 0 and its fields, or -ENOENT. */
int link_handshake_padding_request(const struct link_handshake *hs,
		uint8_t *command, uint16_t *ito_low_ms, uint16_t *ito_high_ms);

#endif
