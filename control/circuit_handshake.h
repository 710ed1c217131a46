/* What the control thread computes to create and extend circuits
 * (tor-spec "Create cells", "The ntor handshake", "The ntor-v3 handshake",
 * "CREATE_FAST", "Setting circuit keys", "Extending a circuit"; proposal
 * 324 for the congestion-control negotiation inside ntor-v3).
 *
 * Pure computation between the worker's messages (dataplane/relay_msg.h)
 * and the crypto modules: no I/O, no connections, no global state; every
 * function is thread-safe. The caller owns circuit ids, links and timing.
 *
 *   CREATE2 / CREATE_FAST wire cell  -> circuit_handshake_server():
 *       struct circuit_keys and the CREATED2 / CREATED_FAST wire cell
 *       (the fields of struct relay_circuit_create), or a DESTROY reason;
 *   EXTEND2 relay message            -> circuit_extend_request_parse() and
 *       circuit_extend_request_check(), then circuit_extend_create_cell():
 *       the CREATE2 wire cell for the next hop (struct relay_circuit_extend);
 *   CREATED2 from the next hop       -> circuit_extend_created(): the
 *       EXTENDED2 body (struct relay_circuit_relay).
 *
 * Errors are negative errno codes; each failing function documents the
 * DESTROY reason (enum destroy_reason) tor sends in that case.
 */
#ifndef HSRELAY_CONTROL_CIRCUIT_HANDSHAKE_H
#define HSRELAY_CONTROL_CIRCUIT_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/circ_cells.h"
#include "crypto/ntor.h"
#include "crypto/ntor_v3.h"
#include "dataplane/cell.h"
#include "dataplane/circuit.h"

/* tor's handshake type of CREATE_FAST (onion.h ONION_HANDSHAKE_TYPE_FAST).
 * It never appears in a CREATE2 or EXTEND2 cell; those carrying it are
 * refused. */
#define CIRCUIT_HANDSHAKE_TYPE_FAST 1

/* KH, the 20 bytes of handshake output after the relay-crypto key
 * material (tor-spec "Setting circuit keys"; tor's rend_circ_nonce). The
 * intro point uses it to check ESTABLISH_INTRO. */
#define CIRCUIT_KH_LEN 20

/* Consensus parameter cc_sendme_inc (tor congestion_control_common.c):
 * default 31 (TLS_RECORD_MAX_CELLS), clamped to [1, 254]. */
#define CIRCUIT_CC_SENDME_INC_DEFAULT 31
#define CIRCUIT_CC_SENDME_INC_MIN 1
#define CIRCUIT_CC_SENDME_INC_MAX 254

/* Extension field types inside the ntor-v3 messages (tor-spec "ntor-v3
 * extensions"; tor trunnel/congestion_control.trunnel,
 * onion_crypto.c EXT_TYPE_SUBPROTO). */
enum circuit_extension_type {
	CIRCUIT_EXTENSION_CC_REQUEST = 1,	/* client: empty body */
	CIRCUIT_EXTENSION_CC_RESPONSE = 2,	/* relay: sendme_inc (u8) */
	CIRCUIT_EXTENSION_SUBPROTO = 3,		/* client: (protocol, capability) pairs */
};

#define CIRCUIT_EXTENSIONS_MAX 255

struct circuit_extension_field {
	uint8_t type;
	uint8_t length;
	const uint8_t *data;	/* length bytes in the parsed buffer */
};

/* NUM[1] then NUM x (TYPE[1] LEN[1] BODY[LEN]) (tor trunnel
 * extension.trunnel, struct trn_extension). */
struct circuit_extensions {
	uint8_t n_fields;
	struct circuit_extension_field fields[CIRCUIT_EXTENSIONS_MAX];
};

/* Parses an extension list. Returns 0 and advances *p over it (bytes after
 * the last field are left unread, as tor ignores them), or -EINVAL on
 * truncation, leaving *p untouched. An empty input is truncated: the
 * count byte is required (tor rejects an ntor-v3 message without it). */
int circuit_extensions_parse(const uint8_t **p, const uint8_t *end,
		struct circuit_extensions *out);

/* Writes the list; returns its length, or -EMSGSIZE. */
ssize_t circuit_extensions_encode(const struct circuit_extensions *in,
		uint8_t *out, size_t out_len);

/* The first field of that type (tor trn_extension_find), or NULL. */
const struct circuit_extension_field *circuit_extensions_find(
		const struct circuit_extensions *ext, uint8_t type);

/* Our side of congestion-control negotiation (tor circuit_params_t as
 * cpuworker.c fills it from the consensus). */
struct circuit_cc_params {
	bool enabled;		/* consensus cc_alg != 0 (SENDME); tor's default is Vegas */
	uint8_t sendme_inc;	/* consensus cc_sendme_inc; clamped to [1, 254] on use */
};

/* What a relay needs to answer CREATE2 / CREATE_FAST. */
struct circuit_handshake_keys {
	uint8_t rsa_id[NTOR_NODE_ID_LEN];		/* SHA-1 of the RSA identity key */
	uint8_t ed25519_id[NTOR_V3_NODE_ID_LEN];	/* Ed25519 master identity key */
	/* ntor onion keys: the current one, then the previous one, kept
	 * after a rotation for a grace period (tor-spec "onion keys"). */
	struct ntor_keypair onion_keys[NTOR_MAX_ONION_KEYS];
	size_t onion_key_count;				/* 1 or 2 */
	struct circuit_cc_params cc;
};

/* What a handshake found besides the keys. */
struct circuit_handshake_result {
	uint8_t cell_command;		/* CELL_COMMAND_CREATE2 or _CREATE_FAST */
	uint16_t handshake_type;	/* HTYPE, or CIRCUIT_HANDSHAKE_TYPE_FAST */
	uint8_t onion_key_index;	/* ntor / ntor-v3: 0 current, 1 previous */
	/* ntor-v3: the client sent the congestion-control request ... */
	bool cc_requested;
	/* ... and we agreed (our cc.enabled): the circuit runs congestion
	 * control with cc_sendme_inc, which our reply told the client. */
	bool cc_enabled;
	uint8_t cc_sendme_inc;
	uint8_t kh[CIRCUIT_KH_LEN];	/* KH (rend_circ_nonce) */
	/* On failure: the reason of the DESTROY to send instead. */
	uint8_t destroy_reason;
};

/* Answers a CREATE2 (ntor, ntor-v3) or CREATE_FAST wire cell (CELL_LEN
 * bytes, 4-byte circuit id): checks it as tor's create_cell_parse() and
 * onion_skin_server_handshake() do, runs the handshake, negotiates the
 * ntor-v3 extensions, and writes the tor1 keys (tor-spec "Setting circuit
 * keys": Df, Db, Kf, Kb) into keys and the CREATED2 / CREATED_FAST wire
 * cell, with the same circuit id, into reply. The circuit-id rules (zero,
 * in use, high bit) are the caller's.
 *
 * Returns 0 and fills result. On failure keys and reply are zeroed,
 * result->destroy_reason says what to send (tor command.c and
 * cpuworker.c: PROTOCOL for anything the client did wrong, INTERNAL when
 * the crypto library failed) and the return value is:
 *   -EPROTO           not CREATE2 / CREATE_FAST, a CREATE2 body that does
 *                     not parse, the wrong handshake length, an ntor-v3
 *                     message that is not an extension list, or an
 *                     extension we cannot honour (SUBPROTO);
 *   -EPROTONOSUPPORT  TAP, CREATE_FAST's type inside CREATE2, or an
 *                     unknown handshake type;
 *   -ENOKEY           NODEID is not ours or KEYID is neither onion key;
 *   -EBADMSG          the ntor-v3 MAC does not verify;
 *   -EINVAL           a degenerate client key (low-order point), or
 *                     hs_keys without onion keys (reason INTERNAL);
 *   -EIO / -ENOMEM    the crypto library failed. */
int circuit_handshake_server(const struct circuit_handshake_keys *hs_keys,
		const uint8_t cell[CELL_LEN], struct circuit_keys *keys,
		uint8_t reply[CELL_LEN], struct circuit_handshake_result *result);

/* The same with caller-chosen randomness: the ntor / ntor-v3 ephemeral
 * keypair (y, Y) and CREATE_FAST's Y (20 bytes); NULL for either means
 * fresh randomness. For test vectors and deterministic fuzzing only; never
 * reuse either. */
int circuit_handshake_server_with_ephemeral(
		const struct circuit_handshake_keys *hs_keys,
		const struct ntor_keypair *ephemeral,
		const uint8_t fast_y[CREATE_FAST_KEY_LEN],
		const uint8_t cell[CELL_LEN], struct circuit_keys *keys,
		uint8_t reply[CELL_LEN], struct circuit_handshake_result *result);

/* An EXTEND2 request (tor onion.c extend_cell_t). The addresses are the
 * first of each family in the message; after circuit_extend_request_check()
 * has_ipv4 / has_ipv6 say which ones may be used. */
struct circuit_extend_request {
	bool has_ipv4;
	bool has_ipv6;
	bool has_ed25519_id;
	uint8_t ipv4_address[4];	/* network order */
	uint16_t ipv4_port;
	uint8_t ipv6_address[16];
	uint16_t ipv6_port;
	uint8_t rsa_id[LINK_SPECIFIER_LEGACY_ID_LEN];
	uint8_t ed25519_id[LINK_SPECIFIER_ED25519_ID_LEN];
	uint16_t handshake_type;
	uint16_t handshake_len;
	uint8_t handshake_data[CREATE2_HDATA_MAX];
};

/* Parses the body of an EXTEND2 relay message (at most RELAY_DATA_MAX
 * bytes, else -EINVAL; bytes after the CREATE2 part are ignored, as by
 * tor) and applies tor's syntactic checks (onion.c
 * extend_cell_from_extend2_cell_body, check_extend_cell): exactly one RSA
 * identity, at most one Ed25519 identity, an IPv4 or IPv6 specifier (later
 * ones of a family ignored), unknown specifiers skipped, an RSA identity
 * that is not all zero, an address with a non-zero address and port, and
 * a handshake that is neither TAP nor CREATE_FAST, of length 84 for ntor
 * (unknown types pass: they are the next hop's business). An all-zero
 * Ed25519 identity counts as none, as in tor. Returns 0 and advances *p,
 * or -EINVAL (leaving *p) for a body that does not parse and -EPROTO for
 * one tor refuses; either way the circuit closes with DESTROY reason
 * PROTOCOL (tor relay.c: circuit_extend() failing). */
int circuit_extend_request_parse(const uint8_t **p, const uint8_t *end,
		struct circuit_extend_request *out);

/* The relay's policy for an extension (tor circuitbuild_relay.c). */
struct circuit_extend_policy {
	const uint8_t *own_rsa_id;		/* ours; NULL: not checked */
	const uint8_t *own_ed25519_id;		/* ours; NULL: not checked */
	/* The previous hop's identities as its link authenticated them;
	 * NULL for a client (which has none). */
	const uint8_t *previous_rsa_id;
	const uint8_t *previous_ed25519_id;
	bool allow_private;	/* ExtendAllowPrivateAddresses (testing networks) */
	bool ipv6_supported;	/* we can connect over IPv6 */
};

/* Applies tor's policy checks (circuit_extend_lspec_valid_helper,
 * circuit_open_connection_for_extend, connection_or_connect) to a parsed
 * request: an address is usable when it is not internal (0/8, 10/8,
 * 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, IPv4-mapped ones,
 * fc00::/7, fe80::/10, fec0::/10, ::/127) unless allow_private. Clears
 * has_ipv4 / has_ipv6 for addresses that may not be used, so the caller
 * connects to IPv4 when has_ipv4, else IPv6 (tor picks at random when
 * both are usable). Returns 0, or a negative code with *destroy_reason:
 *   -EPERM        no usable address (private ones refused): PROTOCOL;
 *   -ELOOP        back to the previous hop (RSA or Ed25519 identity):
 *                 PROTOCOL;
 *   -EADDRINUSE   to ourselves: CONNECTFAILED (tor refuses the
 *                 connection, connection_or_connect);
 *   -EAFNOSUPPORT only IPv6 and we cannot use it: CONNECTFAILED.
 * Filling in an Ed25519 identity or address from the consensus when the
 * client left it out (tor's circuit_extend_add_*_helper) is the caller's. */
int circuit_extend_request_check(struct circuit_extend_request *req,
		const struct circuit_extend_policy *policy, uint8_t *destroy_reason);

/* Writes the CREATE2 wire cell that carries the request's handshake to the
 * next hop on circuit n_circ_id (tor create_cell_format_relayed: the
 * handshake goes on unchanged, the payload is zero-padded). Returns 0 or
 * -EINVAL (a request that circuit_extend_request_parse() would refuse). */
int circuit_extend_create_cell(const struct circuit_extend_request *req,
		uint32_t n_circ_id, uint8_t cell[CELL_LEN]);

/* Turns the next hop's answer (a wire cell) into the body of the EXTENDED2
 * relay message for the previous hop: HLEN and HDATA of the CREATED2,
 * unchanged (tor command.c command_process_created_cell). Writes *len
 * bytes into body. -EPROTO, with the circuit to close with reason
 * PROTOCOL, when the cell is not CREATED2 (CREATED_FAST cannot be
 * relayed), does not parse, or does not fit a relay message. */
int circuit_extend_created(const uint8_t cell[CELL_LEN],
		uint8_t body[RELAY_DATA_MAX], uint16_t *len);

#endif
