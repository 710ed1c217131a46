/* Link cell framing, DESTROY, PADDING_NEGOTIATE and the relay header.
 *
 * Wire layouts (tor-spec 3):
 *   fixed-size:        CircID[2|4] Command[1] Payload[509]
 *   variable-length:   CircID[2|4] Command[1] Length[2] Payload[Length]
 * Relay payload (tor-spec 6.1):
 *   Command[1] Recognized[2] StreamID[2] Digest[4] Length[2] Data[Length]
 *   Padding[509 - 11 - Length]
 */
#include "dataplane/cell.h"
#include "dataplane/wire.h"

#include <errno.h>
#include <string.h>

static bool
circ_id_len_is_valid(unsigned circ_id_len)
{
	return circ_id_len == CELL_CIRC_ID_LEN ||
		circ_id_len == CELL_CIRC_ID_LEN_LEGACY;
}

int
cell_frame_parse(const uint8_t **p, const uint8_t *end, unsigned circ_id_len,
		struct cell_frame *out, size_t *need)
{
	const uint8_t *q = *p;
	size_t avail = (size_t)(end - q);
	size_t header_len;
	size_t total_len;
	uint32_t circ_id;
	uint16_t payload_len;
	uint8_t command;

	if (!circ_id_len_is_valid(circ_id_len))
		return -EINVAL;

	/* The command octet decides the layout, so it is needed first. */
	if (avail < circ_id_len + 1) {
		if (need != NULL)
			*need = circ_id_len + 1 - avail;
		return -EAGAIN;
	}
	command = q[circ_id_len];
	if (cell_command_is_var(command)) {
		header_len = circ_id_len + 3u;
		if (avail < header_len) {
			if (need != NULL)
				*need = header_len - avail;
			return -EAGAIN;
		}
		payload_len = wire_read_u16(q + circ_id_len + 1);
	} else {
		header_len = circ_id_len + 1u;
		payload_len = CELL_PAYLOAD_LEN;
	}
	total_len = header_len + payload_len;
	if (avail < total_len) {
		if (need != NULL)
			*need = total_len - avail;
		return -EAGAIN;
	}

	if (circ_id_len == CELL_CIRC_ID_LEN)
		circ_id = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
			(uint32_t)q[2] << 8 | q[3];
	else
		circ_id = wire_read_u16(q);

	out->circ_id = circ_id;
	out->circ_id_len = (uint8_t)circ_id_len;
	out->command = command;
	out->payload_len = payload_len;
	out->payload = q + header_len;
	*p = q + total_len;
	return 0;
}

ssize_t
cell_frame_encoded_len(const struct cell_frame *in)
{
	if (!circ_id_len_is_valid(in->circ_id_len))
		return -EINVAL;
	if (in->circ_id_len == CELL_CIRC_ID_LEN_LEGACY && in->circ_id > 0xffff)
		return -EINVAL;
	if (cell_command_is_var(in->command))
		return (ssize_t)in->circ_id_len + 3 + in->payload_len;
	if (in->payload_len > CELL_PAYLOAD_LEN)
		return -EMSGSIZE;
	return (ssize_t)in->circ_id_len + 1 + CELL_PAYLOAD_LEN;
}

ssize_t
cell_frame_encode(const struct cell_frame *in, uint8_t *out, size_t out_len)
{
	ssize_t total_len = cell_frame_encoded_len(in);
	uint8_t *q = out;

	if (total_len < 0)
		return total_len;
	if ((size_t)total_len > out_len)
		return -EMSGSIZE;

	if (in->circ_id_len == CELL_CIRC_ID_LEN) {
		cell_wire_set_circ_id(q, in->circ_id);
		q += CELL_CIRC_ID_LEN;
	} else {
		wire_write_u16(q, (uint16_t)in->circ_id);
		q += CELL_CIRC_ID_LEN_LEGACY;
	}
	*q++ = in->command;
	if (cell_command_is_var(in->command)) {
		wire_write_u16(q, in->payload_len);
		q += 2;
	}
	if (in->payload_len > 0)
		memmove(q, in->payload, in->payload_len);
	q += in->payload_len;
	/* tor-spec 3: fixed-size cells are padded with NUL to 509 bytes. */
	memset(q, 0, (size_t)(out + total_len - q));
	return total_len;
}

int
destroy_cell_parse(const uint8_t **p, const uint8_t *end,
		struct destroy_cell *out)
{
	if (end - *p < 1)
		return -EINVAL;
	out->reason = **p;
	*p += 1;
	return 0;
}

ssize_t
destroy_cell_encode(const struct destroy_cell *in, uint8_t *out,
		size_t out_len)
{
	if (out_len < 1)
		return -EMSGSIZE;
	out[0] = in->reason;
	return 1;
}

static bool
padding_negotiate_is_defined(uint8_t version, uint8_t command)
{
	return version == PADDING_NEGOTIATE_VERSION &&
		(command == PADDING_NEGOTIATE_STOP ||
		 command == PADDING_NEGOTIATE_START);
}

int
padding_negotiate_cell_parse(const uint8_t **p, const uint8_t *end,
		struct padding_negotiate_cell *out)
{
	const uint8_t *q = *p;

	if (end - q < PADDING_NEGOTIATE_LEN)
		return -EINVAL;
	if (!padding_negotiate_is_defined(q[0], q[1]))
		return -EINVAL;
	out->version = q[0];
	out->command = q[1];
	out->ito_low_ms = wire_read_u16(q + 2);
	out->ito_high_ms = wire_read_u16(q + 4);
	*p = q + PADDING_NEGOTIATE_LEN;
	return 0;
}

ssize_t
padding_negotiate_cell_encode(const struct padding_negotiate_cell *in,
		uint8_t *out, size_t out_len)
{
	if (!padding_negotiate_is_defined(in->version, in->command))
		return -EINVAL;
	if (out_len < PADDING_NEGOTIATE_LEN)
		return -EMSGSIZE;
	out[0] = in->version;
	out[1] = in->command;
	wire_write_u16(out + 2, in->ito_low_ms);
	wire_write_u16(out + 4, in->ito_high_ms);
	return PADDING_NEGOTIATE_LEN;
}

int
relay_cell_parse(const uint8_t **p, const uint8_t *end, struct relay_cell *out)
{
	const uint8_t *q = *p;
	size_t avail = (size_t)(end - q);
	uint16_t length;

	if (avail < RELAY_HEADER_LEN)
		return -EINVAL;
	length = relay_payload_length(q);
	/* tor-spec 6.1: data and header must fit in the 509-byte payload. */
	if (length > RELAY_DATA_MAX)
		return -EINVAL;
	if (avail - RELAY_HEADER_LEN < length)
		return -EINVAL;

	out->command = q[RELAY_OFFSET_COMMAND];
	out->recognized = wire_read_u16(q + RELAY_OFFSET_RECOGNIZED);
	out->stream_id = wire_read_u16(q + RELAY_OFFSET_STREAM_ID);
	memcpy(out->digest, q + RELAY_OFFSET_DIGEST, RELAY_DIGEST_LEN);
	out->length = length;
	out->data = q + RELAY_HEADER_LEN;
	*p = q + RELAY_HEADER_LEN + length;
	return 0;
}

ssize_t
relay_cell_encode(const struct relay_cell *in, uint8_t *out, size_t out_len)
{
	size_t total_len = RELAY_HEADER_LEN + (size_t)in->length;

	if (in->length > RELAY_DATA_MAX || out_len < total_len)
		return -EMSGSIZE;
	out[RELAY_OFFSET_COMMAND] = in->command;
	wire_write_u16(out + RELAY_OFFSET_RECOGNIZED, in->recognized);
	wire_write_u16(out + RELAY_OFFSET_STREAM_ID, in->stream_id);
	memcpy(out + RELAY_OFFSET_DIGEST, in->digest, RELAY_DIGEST_LEN);
	wire_write_u16(out + RELAY_OFFSET_LENGTH, in->length);
	if (in->length > 0)
		memmove(out + RELAY_HEADER_LEN, in->data, in->length);
	return (ssize_t)total_len;
}
