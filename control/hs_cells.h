/* Onion-service relay message bodies as an introduction point and a
 * rendezvous point see them (rend-spec-v3 3.1, 3.2, 4.1, 4.2), with the
 * checks tor 0.4.9 applies, in tor's order.
 *
 *   ESTABLISH_INTRO (32)         service -> IP   parsed, verified
 *   INTRO_ESTABLISHED (38)       IP -> service   built
 *   INTRODUCE1 (34)              client -> IP    parsed, validated
 *   INTRODUCE2 (35)              IP -> service   = the INTRODUCE1 body, as is
 *   INTRODUCE_ACK (40)           IP -> client    built
 *   ESTABLISH_RENDEZVOUS (33)    client -> RP    parsed
 *   RENDEZVOUS_ESTABLISHED (39)  RP -> client    empty body
 *   RENDEZVOUS1 (36)             service -> RP   parsed
 *   RENDEZVOUS2 (37)             RP -> client    built from RENDEZVOUS1
 *
 * All bodies are the data of one relay message. Parsers are pure and
 * bounded: they read [*p, end) only, reference (never copy) variable fields
 * in the input, which must outlive the parsed struct, and advance *p over
 * what they consumed only on success. Errors: -EMSGSIZE when the input ends
 * before a declared field (tor's "truncated"), -EINVAL for a value the
 * format does not allow (tor's "invalid"), -EPROTO for a message that parses
 * but fails one of tor's checks. Builders return the number of bytes
 * written or -EMSGSIZE when out_len is too small.
 *
 * The circuit-level checks tor makes between these steps (purpose, "the
 * circuit ends here", previous hop not a client, one INTRODUCE1 per circuit)
 * are the caller's; the function comments say where they go.
 */
#ifndef HSRELAY_CONTROL_HS_CELLS_H
#define HSRELAY_CONTROL_HS_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/tor_keys.h"

/* AUTH_KEY_TYPE values (rend-spec-v3 3.1.1); 0 and 1 are v2 leftovers. */
#define HS_AUTH_KEY_TYPE_LEGACY0 0x00
#define HS_AUTH_KEY_TYPE_LEGACY1 0x01
#define HS_AUTH_KEY_TYPE_ED25519 0x02
#define HS_AUTH_KEY_LEN ED25519_PUBLIC_KEY_LEN

/* KH of this hop (tor-spec 5.2, tor's rend_circ_nonce): the MAC key. */
#define HS_CIRCUIT_KH_LEN 20

#define ESTABLISH_INTRO_MAC_LEN 32
#define ESTABLISH_INTRO_SIG_LEN ED25519_SIGNATURE_LEN
/* Prepended (without NUL) to the signed bytes (rend-spec-v3 3.1.1). */
#define ESTABLISH_INTRO_SIG_PREFIX "Tor establish-intro cell v1"
/* Body with no extensions: 1 + 2 + 32 + 1 + 32 + 2 + 64. */
#define ESTABLISH_INTRO_MIN_LEN 134

/* Extension types (rend-spec-v3 3.1.1.1, prop 305). */
#define HS_EXT_TYPE_DOS_PARAMS 0x01
#define HS_DOS_PARAM_INTRODUCE2_RATE_PER_SEC 0x01
#define HS_DOS_PARAM_INTRODUCE2_BURST_PER_SEC 0x02
/* tor accepts 0 .. INT32_MAX for both parameters (hs_config.h). */
#define HS_DOS_PARAM_MAX INT32_MAX
/* tor's consensus defaults (hs_dos.c): defense off, 25/s, burst 200. */
#define HS_DOS_DEFAULT_RATE_PER_SEC 25
#define HS_DOS_DEFAULT_BURST_PER_SEC 200

/* INTRO_ESTABLISHED: N_EXTENSIONS = 0 (rend-spec-v3 3.1.3). */
#define INTRO_ESTABLISHED_LEN 1

/* INTRODUCE1 (rend-spec-v3 3.2.1). */
#define INTRODUCE1_LEGACY_KEY_ID_LEN 20
/* Shorter bodies close the circuit without an ACK (tor: DIGEST_LEN). */
#define INTRODUCE1_MIN_LEN 20
/* tor 0.4.9 NACKs longer bodies: the largest INTRODUCE2 that fits a v1
 * (CGO) relay cell without a stream id, 509 - 19. */
#define INTRODUCE1_MAX_LEN 490

/* INTRODUCE_ACK (rend-spec-v3 3.2.2): STATUS u16, N_EXTENSIONS = 0. */
#define INTRODUCE_ACK_LEN 3
enum introduce_ack_status {
	INTRODUCE_ACK_SUCCESS = 0x0000,
	INTRODUCE_ACK_UNKNOWN_ID = 0x0001,    /* also: rate limited, can't relay */
	INTRODUCE_ACK_BAD_FORMAT = 0x0002,
};

/* Rendezvous (rend-spec-v3 4.1, 4.2). */
#define HS_REND_COOKIE_LEN 20
/* SERVER_PK || AUTH, what a tor service sends and a tor client requires. */
#define HS_HANDSHAKE_INFO_LEN 64
#define RENDEZVOUS_ESTABLISHED_LEN 0

/* N_EXTENSIONS u8, then N x { TYPE u8, LEN u8, DATA[LEN] }, as sent. */
struct hs_extension_list {
	uint8_t count;
	const uint8_t *fields;          /* just after N_EXTENSIONS */
	size_t fields_len;
};

struct hs_extension {
	uint8_t type;
	uint8_t len;
	const uint8_t *data;
};

/* Iterates over a parsed list: *cursor starts at NULL; returns true with
 * *out filled while fields remain. */
bool hs_extension_next(const struct hs_extension_list *list,
		const uint8_t **cursor, struct hs_extension *out);

/* A parsed ESTABLISH_INTRO body (rend-spec-v3 3.1.1). Pointers are into the
 * parsed input. */
struct establish_intro_cell {
	uint8_t auth_key_type;
	uint16_t auth_key_len;
	const uint8_t *auth_key;
	struct hs_extension_list extensions;
	const uint8_t *handshake_mac;   /* ESTABLISH_INTRO_MAC_LEN bytes */
	uint16_t sig_len;
	const uint8_t *sig;
	const uint8_t *start;           /* first byte of the body */
	size_t mac_covered_len;         /* bytes the MAC covers: up to it */
	size_t sig_covered_len;         /* bytes signed: up to SIG_LEN */
};

/* Parses an ESTABLISH_INTRO body with tor's generated parser rules:
 * AUTH_KEY_TYPE in {0, 1, 2} (else -EINVAL), every declared length present
 * (else -EMSGSIZE). AUTH_KEY_LEN and SIG_LEN are not checked here; bytes
 * after SIG are left unconsumed (tor tolerates them). */
int establish_intro_cell_parse(const uint8_t **p, const uint8_t *end,
		struct establish_intro_cell *out);

/* Which of tor 0.4.9's checks an ESTABLISH_INTRO failed
 * (hs_intro_received_establish_intro, handle_establish_intro,
 * verify_establish_intro_cell). Every failure closes the circuit with
 * DESTROY reason TORPROTOCOL and counts as est_intro "malformed". */
enum establish_intro_check {
	ESTABLISH_INTRO_OK = 0,
	ESTABLISH_INTRO_EMPTY,          /* 1: body length 0 */
	ESTABLISH_INTRO_LEGACY_KEY_TYPE,/* 2: AUTH_KEY_TYPE 0 or 1 (v2) */
	ESTABLISH_INTRO_UNKNOWN_KEY_TYPE,/* 2: AUTH_KEY_TYPE > 2 */
	ESTABLISH_INTRO_TRUNCATED,      /* 4: a field runs past the body */
	ESTABLISH_INTRO_INVALID,        /* 4: the parser refused a value */
	ESTABLISH_INTRO_BAD_AUTH_KEY_LEN,/* 5: AUTH_KEY_LEN != 32 */
	ESTABLISH_INTRO_BAD_SIG_LEN,    /* 5: SIG_LEN != 64 */
	ESTABLISH_INTRO_BAD_SIGNATURE,  /* 6: Ed25519 signature */
	ESTABLISH_INTRO_BAD_MAC,        /* 6: HANDSHAKE_AUTH */
};

/* Short name of a check ("bad-mac"), for logs. */
const char *establish_intro_check_name(enum establish_intro_check check);

/* Steps 1 and 2 of tor's order, which come before the circuit checks:
 * returns ESTABLISH_INTRO_OK, _EMPTY, _LEGACY_KEY_TYPE or
 * _UNKNOWN_KEY_TYPE. The caller then checks the circuit (step 3: purpose
 * still plain OR and no next hop; else close, est_intro
 * "unsuitable_circuit") before calling establish_intro_verify(). */
enum establish_intro_check establish_intro_precheck(const uint8_t *body,
		size_t body_len);

/* Steps 4 to 6: parse, AUTH_KEY_LEN == 32, SIG_LEN == 64, the Ed25519
 * signature by AUTH_KEY over ESTABLISH_INTRO_SIG_PREFIX || body[0 ..
 * sig_covered_len), then HANDSHAKE_AUTH == SHA3-256(INT_8(20) || KH ||
 * body[0 .. mac_covered_len)) compared in constant time (tor's
 * crypto_mac_sha3_256). Returns 0 with *out filled, -EPROTO with *failed
 * set to the first failed check, -EINVAL when body_len exceeds
 * RELAY_DATA_MAX (no relay message is that long), or -EIO when OpenSSL or
 * libsodium fail. *failed is ESTABLISH_INTRO_OK unless -EPROTO. */
int establish_intro_verify(const uint8_t *body, size_t body_len,
		const uint8_t kh[HS_CIRCUIT_KH_LEN],
		struct establish_intro_cell *out,
		enum establish_intro_check *failed);

/* Builds a signed ESTABLISH_INTRO as a tor service does: type 02, the
 * auth key's public half, the extension list `extensions` (N_EXTENSIONS
 * byte included, as produced by hs_dos_extension_list_build(); NULL means
 * an empty list), HANDSHAKE_AUTH keyed with kh, SIG_LEN 64 and the
 * signature. Returns the length, -EINVAL for an empty extensions buffer,
 * -EMSGSIZE when the body exceeds out_len or RELAY_DATA_MAX, or -EIO. */
ssize_t establish_intro_cell_build(const struct ed25519_keypair *auth_key,
		const uint8_t kh[HS_CIRCUIT_KH_LEN], const uint8_t *extensions,
		size_t extensions_len, uint8_t *out, size_t out_len);

/* Builds an extension list holding only a DoS-parameters extension with
 * the rate and burst parameters, in that order, as tor services send it
 * (N_EXTENSIONS 1, TYPE 01, LEN 19, N_PARAMS 2, 2 x {type u8, value u64}).
 * Returns 22, or -EMSGSIZE. */
ssize_t hs_dos_extension_list_build(uint64_t rate_per_sec,
		uint64_t burst_per_sec, uint8_t *out, size_t out_len);

/* INTRODUCE2 rate limit of one intro circuit (tor's or_circuit_t
 * introduce2_dos_defense_*). */
struct hs_intro_dos_params {
	bool explicit_params;   /* a valid DoS extension was seen */
	bool enabled;
	uint32_t rate_per_sec;
	uint32_t burst_per_sec;
};

/* Applies the ESTABLISH_INTRO extensions to *params, which the caller has
 * filled with the consensus defaults, as tor 0.4.9 does
 * (handle_establish_intro_cell_extensions): every DoS-parameters extension
 * in order (so the last valid one wins); one that does not parse or has an
 * unknown parameter type is ignored as a whole; otherwise the values are
 * explicit and a rate or burst of 0, a value above HS_DOS_PARAM_MAX or a
 * burst below the rate disables the defense (rate and burst then stay as
 * they were), else enables it with those values. A parameter that is absent
 * counts as 0. Other extension types are skipped. */
void establish_intro_apply_extensions(const struct establish_intro_cell *cell,
		struct hs_intro_dos_params *params);

/* Writes the 1-byte INTRO_ESTABLISHED body (no extensions). */
ssize_t intro_established_build(uint8_t *out, size_t out_len);

/* A parsed INTRODUCE1 (= INTRODUCE2) body (rend-spec-v3 3.2.1). */
struct introduce1_cell {
	const uint8_t *legacy_key_id;   /* INTRODUCE1_LEGACY_KEY_ID_LEN */
	uint8_t auth_key_type;
	uint16_t auth_key_len;
	const uint8_t *auth_key;
	struct hs_extension_list extensions;
	const uint8_t *encrypted;       /* CLIENT_PK || data || MAC, opaque */
	size_t encrypted_len;
};

/* Parses an INTRODUCE1 body with tor's generated parser rules: the
 * legacy key id, AUTH_KEY_TYPE in {0, 1, 2} (else -EINVAL), AUTH_KEY,
 * extensions (-EMSGSIZE when truncated); ENCRYPTED is the rest, possibly
 * empty. Consumes everything. */
int introduce1_cell_parse(const uint8_t **p, const uint8_t *end,
		struct introduce1_cell *out);

/* Which of tor 0.4.9's INTRODUCE1 checks failed (hs_intro_received_
 * introduce1, handle_introduce1, validate_introduce1_parsed_cell). */
enum introduce1_check {
	INTRODUCE1_OK = 0,
	INTRODUCE1_TOO_SHORT,           /* < 20 bytes: close, no ACK */
	INTRODUCE1_TOO_LONG,            /* > 490 bytes: NACK bad format */
	INTRODUCE1_TRUNCATED,           /* parser: NACK bad format */
	INTRODUCE1_INVALID,             /* parser: NACK bad format */
	INTRODUCE1_LEGACY_KEY_ID,       /* not all zero: NACK bad format */
	INTRODUCE1_BAD_AUTH_KEY_TYPE,   /* != 2: NACK bad format */
	INTRODUCE1_BAD_AUTH_KEY_LEN,    /* != 32: NACK bad format */
	INTRODUCE1_NO_ENCRYPTED,        /* empty: NACK bad format */
};

/* Short name of a check, for logs. */
const char *introduce1_check_name(enum introduce1_check check);

/* tor 0.4.9's first check: true when the body is shorter than
 * INTRODUCE1_MIN_LEN, which closes the client circuit (TORPROTOCOL) without
 * an ACK. The caller then makes the circuit checks (purpose OR, ends here,
 * previous hop not a client, no INTRODUCE1 seen yet: else close, no ACK)
 * and marks the circuit as having received one before calling
 * introduce1_validate(). */
bool introduce1_is_too_short(size_t body_len);

/* The format checks that answer INTRODUCE_ACK_BAD_FORMAT, in tor's order:
 * length <= INTRODUCE1_MAX_LEN, parse, legacy key id all zero, auth key
 * type 02, AUTH_KEY_LEN 32, ENCRYPTED not empty. Returns 0 with *out
 * filled (the caller then looks up AUTH_KEY among its intro circuits and
 * sends the unchanged body as INTRODUCE2), or -EPROTO with *failed set. */
int introduce1_validate(const uint8_t *body, size_t body_len,
		struct introduce1_cell *out, enum introduce1_check *failed);

/* Writes the 3-byte INTRODUCE_ACK body: STATUS, N_EXTENSIONS = 0. */
ssize_t introduce_ack_build(uint16_t status, uint8_t *out, size_t out_len);

/* Parses an INTRODUCE_ACK body (for clients and tests): the status and the
 * extension list. -EMSGSIZE when truncated. */
int introduce_ack_parse(const uint8_t **p, const uint8_t *end,
		uint16_t *status, struct hs_extension_list *extensions);

/* ESTABLISH_RENDEZVOUS: tor 0.4.9 (rend_mid_establish_rendezvous) accepts
 * exactly HS_REND_COOKIE_LEN bytes and closes the circuit otherwise,
 * although rend-spec-v3 4.1 says to ignore extra bytes. Returns 0 with the
 * cookie copied, or -EINVAL. */
int establish_rendezvous_parse(const uint8_t *body, size_t body_len,
		uint8_t cookie[HS_REND_COOKIE_LEN]);

/* A parsed RENDEZVOUS1 body: the cookie, then HANDSHAKE_INFO of any length
 * (HSRend=2; tor services send 64 bytes). */
struct rendezvous1_cell {
	const uint8_t *cookie;          /* HS_REND_COOKIE_LEN bytes */
	const uint8_t *handshake_info;
	size_t handshake_info_len;
};

/* Parses RENDEZVOUS1. Fewer than HS_REND_COOKIE_LEN bytes: -EINVAL (tor
 * closes the circuit). Consumes everything. */
int rendezvous1_cell_parse(const uint8_t **p, const uint8_t *end,
		struct rendezvous1_cell *out);

/* Writes the RENDEZVOUS2 body the RP sends to the client: RENDEZVOUS1's
 * HANDSHAKE_INFO unchanged (rend_mid_rendezvous). */
ssize_t rendezvous2_build(const struct rendezvous1_cell *in, uint8_t *out,
		size_t out_len);

#endif
