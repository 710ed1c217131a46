/* Circuit extension cell bodies (tor-spec 5.1): CREATE2, CREATED2,
 * CREATE_FAST, CREATED_FAST and the EXTEND2 / EXTENDED2 relay messages.
 *
 * CREATE2/CREATED2/CREATE_FAST/CREATED_FAST are the payload of a fixed-size
 * cell (509 bytes); EXTEND2/EXTENDED2 are the data of a relay message (at
 * most RELAY_DATA_MAX = 498 bytes). Parsers check that the declared lengths
 * fit those bodies, return 0 and advance *p over what they consumed (the rest
 * is padding), or return -EINVAL leaving *p untouched. Handshake data and
 * unknown link specifiers are referenced in the parsed buffer, not copied.
 * Encoders write only the meaningful bytes and return their count, or
 * -EMSGSIZE (does not fit the cell body or out_len) / -EINVAL (a value that
 * cannot be encoded). All functions are pure and thread-safe.
 */
#ifndef HSRELAY_CONTROL_CIRC_CELLS_H
#define HSRELAY_CONTROL_CIRC_CELLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dataplane/cell.h"

/* Handshake types (tor-spec 5.1; ntor v3 is tor-spec 5.1.4.3 / prop 332). */
enum handshake_type {
	HANDSHAKE_TYPE_TAP = 0,
	HANDSHAKE_TYPE_NTOR = 2,
	HANDSHAKE_TYPE_NTOR_V3 = 3,
};

/* HTYPE[2] HLEN[2] HDATA[HLEN] in a 509-byte payload. */
#define CREATE2_HDATA_MAX (CELL_PAYLOAD_LEN - 4)
/* HLEN[2] HDATA[HLEN] in a 509-byte payload. */
#define CREATED2_HDATA_MAX (CELL_PAYLOAD_LEN - 2)
/* HLEN[2] HDATA[HLEN] in a 498-byte relay message. */
#define EXTENDED2_HDATA_MAX (RELAY_DATA_MAX - 2)
/* Whole EXTEND2 message: NSPEC, specifiers, HTYPE, HLEN, HDATA. */
#define EXTEND2_MAX_LEN RELAY_DATA_MAX

struct create2_cell {
	uint16_t htype;
	uint16_t hlen;
	const uint8_t *hdata;
};

/* -EINVAL on truncation or hlen > CREATE2_HDATA_MAX. */
int create2_cell_parse(const uint8_t **p, const uint8_t *end,
		struct create2_cell *out);

ssize_t create2_cell_encode(const struct create2_cell *in, uint8_t *out,
		size_t out_len);

struct created2_cell {
	uint16_t hlen;
	const uint8_t *hdata;
};

/* -EINVAL on truncation or hlen > CREATED2_HDATA_MAX. */
int created2_cell_parse(const uint8_t **p, const uint8_t *end,
		struct created2_cell *out);

ssize_t created2_cell_encode(const struct created2_cell *in, uint8_t *out,
		size_t out_len);

/* CREATE_FAST: X[20]; CREATED_FAST: Y[20] KH[20] (tor-spec 5.1.5). */
#define CREATE_FAST_KEY_LEN 20

struct create_fast_cell {
	uint8_t x[CREATE_FAST_KEY_LEN];
};

struct created_fast_cell {
	uint8_t y[CREATE_FAST_KEY_LEN];
	uint8_t kh[CREATE_FAST_KEY_LEN]; /* derivative key data */
};

int create_fast_cell_parse(const uint8_t **p, const uint8_t *end,
		struct create_fast_cell *out);

ssize_t create_fast_cell_encode(const struct create_fast_cell *in,
		uint8_t *out, size_t out_len);

int created_fast_cell_parse(const uint8_t **p, const uint8_t *end,
		struct created_fast_cell *out);

ssize_t created_fast_cell_encode(const struct created_fast_cell *in,
		uint8_t *out, size_t out_len);

/* Link specifiers (tor-spec 5.1.2). */
enum link_specifier_type {
	LINK_SPECIFIER_IPV4 = 0,
	LINK_SPECIFIER_IPV6 = 1,
	LINK_SPECIFIER_LEGACY_ID = 2,
	LINK_SPECIFIER_ED25519_ID = 3,
};

#define LINK_SPECIFIER_IPV4_LEN 6
#define LINK_SPECIFIER_IPV6_LEN 18
#define LINK_SPECIFIER_LEGACY_ID_LEN 20
#define LINK_SPECIFIER_ED25519_ID_LEN 32

/* One specifier. Known types are decoded into the union member named after
 * them and must have exactly their length; other types are kept as opaque
 * bytes (tor-spec 5.1.2: nodes MUST ignore unrecognized specifiers, and an
 * extending relay forwards them unchanged). */
struct link_specifier {
	uint8_t type;
	uint8_t length; /* LSLEN; implied by type for known types */
	union {
		struct {
			uint8_t address[4];
			uint16_t port;
		} ipv4;
		struct {
			uint8_t address[16];
			uint16_t port;
		} ipv6;
		uint8_t legacy_id[LINK_SPECIFIER_LEGACY_ID_LEN];
		uint8_t ed25519_id[LINK_SPECIFIER_ED25519_ID_LEN];
		const uint8_t *unknown; /* length bytes in the parsed buffer */
	} u;
};

#define EXTEND2_MAX_LINK_SPECIFIERS 255

/* EXTEND2: NSPEC[1] NSPEC x (LSTYPE[1] LSLEN[1] LSPEC) then the CREATE2
 * body HTYPE[2] HLEN[2] HDATA. Repeated legacy or Ed25519 identities are
 * returned as sent: tor-spec says nodes SHOULD reject them, which is the
 * caller's decision. */
struct extend2_cell {
	uint8_t n_specifiers;
	struct link_specifier specifiers[EXTEND2_MAX_LINK_SPECIFIERS];
	struct create2_cell create2;
};

/* -EINVAL on truncation, a known specifier with the wrong length, or a
 * message longer than EXTEND2_MAX_LEN. */
int extend2_cell_parse(const uint8_t **p, const uint8_t *end,
		struct extend2_cell *out);

/* -EINVAL for a known specifier whose length field disagrees with its type,
 * -EMSGSIZE when the message exceeds EXTEND2_MAX_LEN or out_len. */
ssize_t extend2_cell_encode(const struct extend2_cell *in, uint8_t *out,
		size_t out_len);

/* EXTENDED2 has the CREATED2 layout (tor-spec 5.1.2) in a relay message. */
struct extended2_cell {
	uint16_t hlen;
	const uint8_t *hdata;
};

/* -EINVAL on truncation or hlen > EXTENDED2_HDATA_MAX. */
int extended2_cell_parse(const uint8_t **p, const uint8_t *end,
		struct extended2_cell *out);

ssize_t extended2_cell_encode(const struct extended2_cell *in, uint8_t *out,
		size_t out_len);

#endif
