/* Link handshake cell bodies (tor-spec 4): VERSIONS, CERTS, AUTH_CHALLENGE,
 * AUTHENTICATE (with the Ed25519-SHA256-RFC5705 authenticator) and NETINFO.
 *
 * These codecs see only the cell payload: the caller frames the cell with
 * cell_frame_parse() (dataplane/cell.h) and passes [payload, payload +
 * payload_len). Parsers never copy variable-size bodies: pointers in the
 * output structs point into the parsed buffer, which must outlive them.
 * Parsers return 0 and advance *p over what they consumed, or a negative
 * errno value (-EINVAL for malformed input) leaving *p untouched; bytes after
 * the consumed part are padding the caller ignores (tor-spec 4.2-4.5 "MUST
 * ignore extra bytes"). Encoders return bytes written, -EMSGSIZE when the
 * result would not fit out_len or the cell, -EINVAL for unencodable input.
 * All functions are pure and thread-safe.
 */
#ifndef HSRELAY_CONTROL_LINK_CELLS_H
#define HSRELAY_CONTROL_LINK_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* VERSIONS (tor-spec 4.1): a list of big-endian 2-byte link versions and
 * nothing else, so an odd payload length is malformed. */
struct versions_cell {
	size_t n_versions;
	const uint8_t *versions; /* 2 * n_versions bytes, big-endian */
};

/* Consumes the whole of [*p, end). -EINVAL for an odd length. */
int versions_cell_parse(const uint8_t **p, const uint8_t *end,
		struct versions_cell *out);

/* The index-th version of a parsed cell (index < n_versions). */
uint16_t versions_cell_version(const struct versions_cell *cell, size_t index);

/* Highest version present both in cell and in ours[0..n_ours), or 0 when
 * there is none (tor-spec 4.1: then the connection must be closed). */
uint16_t versions_cell_highest_common(const struct versions_cell *cell,
		const uint16_t *ours, size_t n_ours);

/* Writes n_versions big-endian versions. -EMSGSIZE when they do not fit
 * out_len or a variable-length cell payload. */
ssize_t versions_cell_encode(const uint16_t *versions, size_t n_versions,
		uint8_t *out, size_t out_len);

/* CERTS (tor-spec 4.2). */
enum cert_type {
	CERT_TYPE_RSA_LINK = 1,
	CERT_TYPE_RSA_ID = 2,
	CERT_TYPE_RSA_AUTH = 3,
	CERT_TYPE_ED_ID_SIGNING = 4,
	CERT_TYPE_ED_SIGNING_LINK = 5,
	CERT_TYPE_ED_SIGNING_AUTH = 6,
	CERT_TYPE_RSA_ED_CROSSCERT = 7,
};

#define CERTS_CELL_MAX_CERTS 255

struct certs_cell_entry {
	uint8_t type;
	uint16_t length;
	const uint8_t *body; /* length bytes in the parsed buffer */
};

struct certs_cell {
	uint8_t n_certs;
	struct certs_cell_entry certs[CERTS_CELL_MAX_CERTS];
};

/* Parses N and N certificates. -EINVAL on truncation. Certificates of the
 * same type are all returned: tor-spec 4.2 allows at most one per type, and
 * certs_cell_count_type() lets the caller enforce that. */
int certs_cell_parse(const uint8_t **p, const uint8_t *end,
		struct certs_cell *out);

/* How many certificates of type the cell holds. */
unsigned certs_cell_count_type(const struct certs_cell *cell, uint8_t type);

/* First certificate of type, or NULL. */
const struct certs_cell_entry *certs_cell_find(const struct certs_cell *cell,
		uint8_t type);

ssize_t certs_cell_encode(const struct certs_cell *in, uint8_t *out,
		size_t out_len);

/* AUTH_CHALLENGE (tor-spec 4.3). */
#define AUTH_CHALLENGE_LEN 32

enum auth_method {
	AUTH_METHOD_RSA_SHA256_TLSSECRET = 1,
	AUTH_METHOD_ED25519_SHA256_RFC5705 = 3,
};

struct auth_challenge_cell {
	uint8_t challenge[AUTH_CHALLENGE_LEN];
	uint16_t n_methods;
	const uint8_t *methods; /* 2 * n_methods bytes, big-endian */
};

int auth_challenge_cell_parse(const uint8_t **p, const uint8_t *end,
		struct auth_challenge_cell *out);

/* The index-th method of a parsed cell (index < n_methods). */
uint16_t auth_challenge_cell_method(const struct auth_challenge_cell *cell,
		size_t index);

bool auth_challenge_cell_has_method(const struct auth_challenge_cell *cell,
		uint16_t method);

ssize_t auth_challenge_cell_encode(const uint8_t challenge[AUTH_CHALLENGE_LEN],
		const uint16_t *methods, size_t n_methods, uint8_t *out,
		size_t out_len);

/* AUTHENTICATE (tor-spec 4.4): AuthType[2] AuthLen[2] Authentication. */
struct authenticate_cell {
	uint16_t auth_type;
	uint16_t auth_length;
	const uint8_t *auth; /* auth_length bytes in the parsed buffer */
};

int authenticate_cell_parse(const uint8_t **p, const uint8_t *end,
		struct authenticate_cell *out);

ssize_t authenticate_cell_encode(const struct authenticate_cell *in,
		uint8_t *out, size_t out_len);

/* Authentication body for AuthType 3, Ed25519-SHA256-RFC5705 (tor-spec
 * 4.4.2): "AUTH0003" CID SID CID_ED SID_ED SLOG CLOG SCERT TLSSECRETS (32
 * bytes each) RAND (24) SIG. The signature covers every byte before it.
 * tor-spec says the verifier ignores signed bytes after RAND, and tor takes
 * SIG as the last 64 bytes of the authenticator, so any bytes between RAND
 * and SIG are kept in extra. */
#define AUTH0003_TYPE "AUTH0003"
#define AUTH0003_TYPE_LEN 8
#define AUTH0003_FIELD_LEN 32
#define AUTH0003_RAND_LEN 24
#define AUTH0003_SIG_LEN 64
/* Bytes from TYPE through RAND. */
#define AUTH0003_FIXED_LEN (AUTH0003_TYPE_LEN + 8 * AUTH0003_FIELD_LEN + \
		AUTH0003_RAND_LEN)

struct auth0003_body {
	uint8_t cid[AUTH0003_FIELD_LEN];
	uint8_t sid[AUTH0003_FIELD_LEN];
	uint8_t cid_ed[AUTH0003_FIELD_LEN];
	uint8_t sid_ed[AUTH0003_FIELD_LEN];
	uint8_t slog[AUTH0003_FIELD_LEN];
	uint8_t clog[AUTH0003_FIELD_LEN];
	uint8_t scert[AUTH0003_FIELD_LEN];
	uint8_t tlssecrets[AUTH0003_FIELD_LEN];
	uint8_t rand[AUTH0003_RAND_LEN];
	size_t extra_length;
	const uint8_t *extra; /* signed bytes after RAND; usually none */
	uint8_t sig[AUTH0003_SIG_LEN];
};

/* Parses an authenticator (the auth bytes of an AUTHENTICATE cell), taking
 * all of [*p, end). -EINVAL when TYPE is not "AUTH0003" or the input is
 * shorter than AUTH0003_FIXED_LEN + AUTH0003_SIG_LEN. The signed part is
 * [start, end - AUTH0003_SIG_LEN). */
int auth0003_body_parse(const uint8_t **p, const uint8_t *end,
		struct auth0003_body *out);

/* Writes the authenticator. With extra_length 0 that is 352 bytes; the
 * first AUTH0003_FIXED_LEN are what the initiator signs. */
ssize_t auth0003_body_encode(const struct auth0003_body *in, uint8_t *out,
		size_t out_len);

/* NETINFO (tor-spec 4.5). */
enum netinfo_address_type {
	NETINFO_ADDRESS_IPV4 = 4,
	NETINFO_ADDRESS_IPV6 = 6,
};

/* One ATYPE/ALEN/AVAL triple. Addresses of any type and length are kept as
 * sent: tor-spec 4.5 says an address whose length is wrong for its type is
 * ignored, not that the cell is malformed, so interpretation goes through
 * netinfo_address_is_ipv4() / _is_ipv6().
 * Interop note: tor's own NETINFO schema (src/trunnel/netinfo.trunnel in
 * the torproject/tor mirror) fails on unknown address types and reads 4 or
 * 16 bytes for types 4 and 6 whatever ALEN says, so what hsrelay sends must
 * only contain type 4 / length 4 and type 6 / length 16 addresses. */
struct netinfo_address {
	uint8_t type;
	uint8_t length;
	const uint8_t *value; /* length bytes, network order */
};

#define NETINFO_MAX_MY_ADDRESSES 255

struct netinfo_cell {
	uint32_t time;
	struct netinfo_address other_address;
	uint8_t n_my_addresses;
	struct netinfo_address my_addresses[NETINFO_MAX_MY_ADDRESSES];
};

int netinfo_cell_parse(const uint8_t **p, const uint8_t *end,
		struct netinfo_cell *out);

/* True for a type 4 address of length 4 / a type 6 address of length 16. */
bool netinfo_address_is_ipv4(const struct netinfo_address *address);
bool netinfo_address_is_ipv6(const struct netinfo_address *address);

/* Writes the cell body (without the padding to 509 bytes). -EMSGSIZE when
 * it is longer than a fixed-size cell payload or than out_len. */
ssize_t netinfo_cell_encode(const struct netinfo_cell *in, uint8_t *out,
		size_t out_len);

#endif
