/* libFuzzer target for dataplane/cell.c: cuts the input into cells with
 * 4-byte and with 2-byte circuit ids, and parses it as a relay payload, a
 * DESTROY body and a PADDING_NEGOTIATE body. Everything that parses is
 * re-encoded and must reproduce the consumed bytes exactly. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/cell.h"

static uint8_t encoded[CELL_VAR_PAYLOAD_MAX + 8];

static void
check_round_trip(const uint8_t *start, const uint8_t *consumed_end,
		ssize_t written)
{
	if (written < 0 || written != consumed_end - start ||
			memcmp(encoded, start, (size_t)written) != 0)
		abort();
}

static void
fuzz_frames(const uint8_t *data, size_t size, unsigned circ_id_len)
{
	const uint8_t *p = data;
	const uint8_t *end = data + size;
	struct cell_frame frame;
	size_t need = 0;
	int rc;

	for (;;) {
		const uint8_t *start = p;

		rc = cell_frame_parse(&p, end, circ_id_len, &frame, &need);
		if (rc != 0) {
			/* Only -EAGAIN is possible with a valid circ_id_len,
			 * and it must ask for at least one byte and at most a
			 * whole variable-length cell. */
			if (rc != -EAGAIN || p != start || need == 0 ||
					need > circ_id_len + 3u +
					CELL_VAR_PAYLOAD_MAX)
				abort();
			break;
		}
		check_round_trip(start, p, cell_frame_encode(&frame, encoded,
			sizeof(encoded)));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size;
	const uint8_t *p;
	struct relay_cell relay;
	struct destroy_cell destroy;
	struct padding_negotiate_cell padding;

	fuzz_frames(data, size, CELL_CIRC_ID_LEN);
	fuzz_frames(data, size, CELL_CIRC_ID_LEN_LEGACY);

	p = data;
	if (relay_cell_parse(&p, end, &relay) == 0) {
		if (relay.length > RELAY_DATA_MAX)
			abort();
		check_round_trip(data, p, relay_cell_encode(&relay, encoded,
			sizeof(encoded)));
	} else if (p != data) {
		abort();
	}

	p = data;
	if (destroy_cell_parse(&p, end, &destroy) == 0)
		check_round_trip(data, p, destroy_cell_encode(&destroy, encoded,
			sizeof(encoded)));

	p = data;
	if (padding_negotiate_cell_parse(&p, end, &padding) == 0)
		check_round_trip(data, p, padding_negotiate_cell_encode(&padding,
			encoded, sizeof(encoded)));
	return 0;
}
