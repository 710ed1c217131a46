/* libFuzzer target for control/circ_cells.c: parses the input as CREATE2,
 * CREATED2, CREATE_FAST, CREATED_FAST, EXTEND2 and EXTENDED2 bodies.
 * Everything that parses is re-encoded and must reproduce the consumed bytes
 * exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/circ_cells.h"
#include "dataplane/cell.h"

static uint8_t encoded[2 * CELL_PAYLOAD_LEN];
static struct extend2_cell extend2;

static void
check_round_trip(const uint8_t *start, const uint8_t *consumed_end,
		ssize_t written)
{
	if (written < 0 || written != consumed_end - start ||
			memcmp(encoded, start, (size_t)written) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Bodies of one fixed-size cell and of one relay message. */
	const uint8_t *cell_end = data + (size < CELL_PAYLOAD_LEN ?
		size : CELL_PAYLOAD_LEN);
	const uint8_t *relay_end = data + (size < RELAY_DATA_MAX ?
		size : RELAY_DATA_MAX);
	struct create2_cell create2;
	struct created2_cell created2;
	struct create_fast_cell create_fast;
	struct created_fast_cell created_fast;
	struct extended2_cell extended2;
	const uint8_t *p;

	p = data;
	if (create2_cell_parse(&p, cell_end, &create2) == 0)
		check_round_trip(data, p, create2_cell_encode(&create2, encoded,
			sizeof(encoded)));
	p = data;
	if (created2_cell_parse(&p, cell_end, &created2) == 0)
		check_round_trip(data, p, created2_cell_encode(&created2,
			encoded, sizeof(encoded)));
	p = data;
	if (create_fast_cell_parse(&p, cell_end, &create_fast) == 0)
		check_round_trip(data, p, create_fast_cell_encode(&create_fast,
			encoded, sizeof(encoded)));
	p = data;
	if (created_fast_cell_parse(&p, cell_end, &created_fast) == 0)
		check_round_trip(data, p, created_fast_cell_encode(
			&created_fast, encoded, sizeof(encoded)));
	/* EXTEND2 must enforce the 498-byte limit itself, so it sees the
	 * unbounded input. */
	p = data;
	if (extend2_cell_parse(&p, data + size, &extend2) == 0) {
		if (p - data > RELAY_DATA_MAX)
			abort();
		check_round_trip(data, p, extend2_cell_encode(&extend2, encoded,
			sizeof(encoded)));
	}
	p = data;
	if (extended2_cell_parse(&p, relay_end, &extended2) == 0)
		check_round_trip(data, p, extended2_cell_encode(&extended2,
			encoded, sizeof(encoded)));
	return 0;
}
