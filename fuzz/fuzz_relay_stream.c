/* libFuzzer: control/relay_stream driven by a sequence of relay payloads
 * from the client, interleaved with draining the output and writing
 * response bytes. Each input record: one control byte, then a 509-byte
 * payload (shorter tails are zero-padded). Invariants: output cells are
 * well formed and the module never sends DATA beyond its windows. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/relay_stream.h"

static struct relay_stream_circuit *current;

static void
on_data(void *ctx, uint16_t stream_id, const uint8_t *data, size_t len)
{
	(void)ctx;
	if (len > RELAY_DATA_MAX)
		abort();
	/* Answer like a directory server: some bytes, then finish. */
	relay_stream_write(current, stream_id, data, len);
	if (data[0] & 1)
		relay_stream_finish(current, stream_id, RELAY_END_REASON_DONE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct relay_stream_callbacks cb = { .data = on_data };
	struct relay_stream_params params = { 0 };
	const size_t record = 1 + CELL_PAYLOAD_LEN;
	uint8_t payload[CELL_PAYLOAD_LEN], digest[RELAY_STREAM_DIGEST_LEN];
	uint64_t now = 1;
	unsigned sent = 0;

	if (size < 1)
		return 0;
	params.cc_enabled = data[0] & 1;
	params.cc_sendme_inc = (uint8_t)(data[0] >> 1) % 254 + 1;
	current = relay_stream_circuit_new(&params, &cb, NULL);
	if (current == NULL)
		abort();
	data++;
	size--;
	for (size_t off = 0; off < size; off += record) {
		size_t n = size - off < record ? size - off : record;
		struct relay_stream_cell cell;
		int rc;

		memset(payload, 0, sizeof(payload));
		if (n > 1)
			memcpy(payload, data + off + 1, n - 1);
		memset(digest, (int)(off & 0xff), sizeof(digest));
		now += 1000;
		rc = relay_stream_receive(current, payload, digest, now);
		if (rc != 0 && rc != -EPROTO && rc != -ENOBUFS)
			abort();
		while (relay_stream_next_cell(current, now, &cell) == 1) {
			if (cell.length > RELAY_DATA_MAX)
				abort();
			if (cell.report_digest) {
				memset(digest, (int)(++sent & 0xff),
						sizeof(digest));
				relay_stream_note_sent_digest(current, digest);
			}
			if (data[off] & 2)
				break;
		}
		if (relay_stream_circuit_window(current) < 0 ||
				relay_stream_circuit_window(current) >
				RELAY_STREAM_CIRCWINDOW_START * 5)
			abort();
	}
	relay_stream_circuit_free(current);
	return 0;
}
