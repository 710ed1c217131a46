/* Link cell framing and the relay cell header (tor-spec 3, 5.4, 6.1, 7.2).
 *
 * Everything here is a pure function of its arguments: no allocation, no
 * DPDK, no crypto. The worker uses the framing function to cut cells out of
 * the decrypted TLS byte stream and the static inline helpers at the end of
 * this header to read and rewrite the circuit id of fixed-size cells in
 * bursts; the control thread uses the same code for handshake cells.
 *
 * All multi-byte integers on the wire are big-endian (tor-spec 0.1.1).
 * Parsers follow the project convention
 *   int foo_parse(const uint8_t **p, const uint8_t *end, struct foo *out)
 * returning 0 and advancing *p over the bytes they consumed, or a negative
 * errno value (leaving *p untouched). Encoders return the number of bytes
 * written or a negative errno value. All functions are thread-safe.
 */
#ifndef HSRELAY_DATAPLANE_CELL_H
#define HSRELAY_DATAPLANE_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dataplane/wire.h"

/* tor-spec 3: every fixed-size cell carries a 509-byte payload. */
#define CELL_PAYLOAD_LEN 509
/* Circuit id width for link protocol 4 and later (tor-spec 3). */
#define CELL_CIRC_ID_LEN 4
/* Circuit id width of the first VERSIONS cell and of link protocols < 4. */
#define CELL_CIRC_ID_LEN_LEGACY 2
/* Wire size of a fixed-size cell with a 4-byte circuit id. */
#define CELL_LEN (CELL_CIRC_ID_LEN + 1 + CELL_PAYLOAD_LEN)
/* Wire size of a fixed-size cell with a 2-byte circuit id. */
#define CELL_LEN_LEGACY (CELL_CIRC_ID_LEN_LEGACY + 1 + CELL_PAYLOAD_LEN)
/* Largest payload a variable-length cell can carry (16-bit length). */
#define CELL_VAR_PAYLOAD_MAX 65535

/* Cell commands (tor-spec 3). */
enum cell_command {
	CELL_COMMAND_PADDING = 0,
	CELL_COMMAND_CREATE = 1,
	CELL_COMMAND_CREATED = 2,
	CELL_COMMAND_RELAY = 3,
	CELL_COMMAND_DESTROY = 4,
	CELL_COMMAND_CREATE_FAST = 5,
	CELL_COMMAND_CREATED_FAST = 6,
	CELL_COMMAND_VERSIONS = 7,
	CELL_COMMAND_NETINFO = 8,
	CELL_COMMAND_RELAY_EARLY = 9,
	CELL_COMMAND_CREATE2 = 10,
	CELL_COMMAND_CREATED2 = 11,
	CELL_COMMAND_PADDING_NEGOTIATE = 12,
	CELL_COMMAND_VPADDING = 128,
	CELL_COMMAND_CERTS = 129,
	CELL_COMMAND_AUTH_CHALLENGE = 130,
	CELL_COMMAND_AUTHENTICATE = 131,
	CELL_COMMAND_AUTHORIZE = 132,
};

/* tor-spec 3: with the in-protocol handshake (link protocol 3 and later,
 * which is all hsrelay speaks) a cell is variable-length when its command
 * is VERSIONS or at least 128; every other command is fixed-size. */
static inline bool
cell_command_is_var(uint8_t command)
{
	return command == CELL_COMMAND_VERSIONS || command >= 128;
}

/* One cell cut out of a link byte stream. For a fixed-size cell payload_len
 * is CELL_PAYLOAD_LEN (the encoder also accepts less and pads with zero
 * bytes, tor-spec 3 "Other fixed-length cells"). payload points into the
 * parsed buffer and is only valid as long as that buffer is. */
struct cell_frame {
	uint32_t circ_id;
	uint8_t circ_id_len; /* 2 or 4 */
	uint8_t command;
	uint16_t payload_len;
	const uint8_t *payload;
};

/* Cuts one cell from the byte stream [*p, end) read with circuit ids of
 * circ_id_len (2 or 4) bytes.
 *
 * Returns 0 and advances *p over the cell when a complete cell is present.
 * Returns -EAGAIN when more bytes are needed; if need is not NULL, *need is
 * then set to the number of missing bytes known so far (the whole cell for a
 * fixed-size cell, the header or the header plus payload for a
 * variable-length one), so the caller can wait for at least that many.
 * Returns -EINVAL when circ_id_len is neither 2 nor 4. */
int cell_frame_parse(const uint8_t **p, const uint8_t *end,
		unsigned circ_id_len, struct cell_frame *out, size_t *need);

/* Wire size of the cell described by in, or -EINVAL / -EMSGSIZE as
 * cell_frame_encode() would return. */
ssize_t cell_frame_encoded_len(const struct cell_frame *in);

/* Writes the cell in to out. Variable-length cells get a length field equal
 * to payload_len; fixed-size cells are padded with zero bytes to
 * CELL_PAYLOAD_LEN. Returns the bytes written, -EINVAL when circ_id_len is
 * not 2 or 4 or circ_id does not fit in it, or -EMSGSIZE when a fixed-size
 * payload is longer than CELL_PAYLOAD_LEN or out_len is too small. */
ssize_t cell_frame_encode(const struct cell_frame *in, uint8_t *out,
		size_t out_len);

/* DESTROY reasons (tor-spec 5.4); also used in RELAY_TRUNCATED. */
enum destroy_reason {
	DESTROY_REASON_NONE = 0,
	DESTROY_REASON_PROTOCOL = 1,
	DESTROY_REASON_INTERNAL = 2,
	DESTROY_REASON_REQUESTED = 3,
	DESTROY_REASON_HIBERNATING = 4,
	DESTROY_REASON_RESOURCELIMIT = 5,
	DESTROY_REASON_CONNECTFAILED = 6,
	DESTROY_REASON_OR_IDENTITY = 7,
	DESTROY_REASON_CHANNEL_CLOSED = 8,
	DESTROY_REASON_FINISHED = 9,
	DESTROY_REASON_TIMEOUT = 10,
	DESTROY_REASON_DESTROYED = 11,
	DESTROY_REASON_NOSUCHSERVICE = 12,
};

/* DESTROY payload: a single reason octet (tor-spec 5.4). Any value is
 * accepted; unknown reasons are the caller's business. */
struct destroy_cell {
	uint8_t reason;
};

/* Reads the reason octet. -EINVAL on empty input. */
int destroy_cell_parse(const uint8_t **p, const uint8_t *end,
		struct destroy_cell *out);

/* Writes the reason octet: returns 1, or -EMSGSIZE when out_len is 0. */
ssize_t destroy_cell_encode(const struct destroy_cell *in, uint8_t *out,
		size_t out_len);

/* PADDING_NEGOTIATE (tor-spec 7.2, padding-spec 2.5). */
#define PADDING_NEGOTIATE_VERSION 0
#define PADDING_NEGOTIATE_LEN 6

enum padding_negotiate_command {
	PADDING_NEGOTIATE_STOP = 1,
	PADDING_NEGOTIATE_START = 2,
};

struct padding_negotiate_cell {
	uint8_t version;
	uint8_t command;
	uint16_t ito_low_ms;
	uint16_t ito_high_ms;
};

/* Parses the 6-byte body. Only version 0 with command STOP or START is
 * defined (tor-spec 7.2); anything else is -EINVAL, as is truncation.
 * Timeout values are returned as sent: clamping them to the consensus
 * range is the receiver's policy, not the codec's. */
int padding_negotiate_cell_parse(const uint8_t **p, const uint8_t *end,
		struct padding_negotiate_cell *out);

/* Writes the 6-byte body. -EINVAL for an undefined version or command,
 * -EMSGSIZE when out_len < 6. */
ssize_t padding_negotiate_cell_encode(const struct padding_negotiate_cell *in,
		uint8_t *out, size_t out_len);

/* Relay cell header, v0 "tor1" format (tor-spec 6.1): the first 11 bytes of
 * the 509-byte RELAY / RELAY_EARLY payload, followed by length bytes of
 * data and then padding. */
#define RELAY_HEADER_LEN 11
#define RELAY_DATA_MAX (CELL_PAYLOAD_LEN - RELAY_HEADER_LEN)
#define RELAY_DIGEST_LEN 4
/* Offsets inside the relay payload; the worker's crypto needs the
 * recognized and digest positions. */
#define RELAY_OFFSET_COMMAND 0
#define RELAY_OFFSET_RECOGNIZED 1
#define RELAY_OFFSET_STREAM_ID 3
#define RELAY_OFFSET_DIGEST 5
#define RELAY_OFFSET_LENGTH 9

/* Relay commands (tor-spec 6.1; 32-40 rend-spec-v3; 41-42 padding-spec 3;
 * 43-44 prop 324). Conflux (19-22) and UDP (16-18) are not used. The 2023
 * tor-spec table lists 43 as XON and 44 as XOFF; tor's or.h (what peers
 * send) has XOFF 43 and XON 44, which is used here. */
enum relay_command {
	RELAY_COMMAND_BEGIN = 1,
	RELAY_COMMAND_DATA = 2,
	RELAY_COMMAND_END = 3,
	RELAY_COMMAND_CONNECTED = 4,
	RELAY_COMMAND_SENDME = 5,
	RELAY_COMMAND_EXTEND = 6,
	RELAY_COMMAND_EXTENDED = 7,
	RELAY_COMMAND_TRUNCATE = 8,
	RELAY_COMMAND_TRUNCATED = 9,
	RELAY_COMMAND_DROP = 10,
	RELAY_COMMAND_RESOLVE = 11,
	RELAY_COMMAND_RESOLVED = 12,
	RELAY_COMMAND_BEGIN_DIR = 13,
	RELAY_COMMAND_EXTEND2 = 14,
	RELAY_COMMAND_EXTENDED2 = 15,
	RELAY_COMMAND_ESTABLISH_INTRO = 32,
	RELAY_COMMAND_ESTABLISH_RENDEZVOUS = 33,
	RELAY_COMMAND_INTRODUCE1 = 34,
	RELAY_COMMAND_INTRODUCE2 = 35,
	RELAY_COMMAND_RENDEZVOUS1 = 36,
	RELAY_COMMAND_RENDEZVOUS2 = 37,
	RELAY_COMMAND_INTRO_ESTABLISHED = 38,
	RELAY_COMMAND_RENDEZVOUS_ESTABLISHED = 39,
	RELAY_COMMAND_INTRODUCE_ACK = 40,
	RELAY_COMMAND_PADDING_NEGOTIATE = 41,
	RELAY_COMMAND_PADDING_NEGOTIATED = 42,
	RELAY_COMMAND_XOFF = 43,
	RELAY_COMMAND_XON = 44,
};

/* A decrypted relay payload. data points into the parsed buffer. */
struct relay_cell {
	uint8_t command;
	uint16_t recognized;
	uint16_t stream_id;
	uint8_t digest[RELAY_DIGEST_LEN];
	uint16_t length;
	const uint8_t *data;
};

/* Parses the relay header and its data from a relay payload and advances
 * *p over header and data only; the padding after them is not read.
 * -EINVAL when length exceeds RELAY_DATA_MAX (498) or the input is shorter
 * than the header plus length bytes. */
int relay_cell_parse(const uint8_t **p, const uint8_t *end,
		struct relay_cell *out);

/* Writes the header and length data bytes, RELAY_HEADER_LEN + length in
 * all, and returns that count. The caller fills the rest of the 509-byte
 * payload with padding (tor-spec 6.1: four zero bytes, then random bytes).
 * -EMSGSIZE when length > RELAY_DATA_MAX or out_len is too small. */
ssize_t relay_cell_encode(const struct relay_cell *in, uint8_t *out,
		size_t out_len);

/* Fast-path layout helpers for fixed-size cells with 4-byte circuit ids
 * stored back to back as CELL_LEN-byte wire cells. */

static inline uint32_t
cell_wire_circ_id(const uint8_t *cell)
{
	return wire_read_u32(cell);
}

static inline void
cell_wire_set_circ_id(uint8_t *cell, uint32_t circ_id)
{
	wire_write_u32(cell, circ_id);
}

static inline uint8_t
cell_wire_command(const uint8_t *cell)
{
	return cell[CELL_CIRC_ID_LEN];
}

static inline uint8_t *
cell_wire_payload(uint8_t *cell)
{
	return cell + CELL_CIRC_ID_LEN + 1;
}

/* Relay data length of a relay payload, read without validation; use
 * relay_cell_parse() when the value matters for bounds. */
static inline uint16_t
relay_payload_length(const uint8_t *payload)
{
	return wire_read_u16(payload + RELAY_OFFSET_LENGTH);
}

#endif
