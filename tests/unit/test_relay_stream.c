/* control/relay_stream: a simulated client drives one circuit that ends at
 * the relay: BEGIN_DIR -> CONNECTED, request DATA in, response DATA out
 * under the stream (500) and circuit (1000) windows, SENDMEs both ways
 * with prop 289 digests (a wrong one closes the circuit as tor does with
 * END_CIRC_REASON_TORPROTOCOL), END both ways, and congestion control
 * (cc_sendme_inc 31, Vegas cwnd 124, XON/XOFF). Digests are opaque to the
 * module; the test uses distinct 20-byte values per cell so that a SENDME
 * carrying the wrong one is caught. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/relay_stream.h"

struct consumer {
	bool refuse;
	size_t opened;
	uint16_t last_open;
	size_t bytes;
	uint8_t first_bytes[64];
	size_t ends;
	uint8_t last_end_reason;
};

static bool
on_open(void *ctx, uint16_t stream_id)
{
	struct consumer *c = ctx;

	c->last_open = stream_id;
	if (c->refuse)
		return false;
	c->opened++;
	return true;
}

static void
on_data(void *ctx, uint16_t stream_id, const uint8_t *data, size_t len)
{
	struct consumer *c = ctx;

	(void)stream_id;
	if (c->bytes < sizeof(c->first_bytes)) {
		size_t n = sizeof(c->first_bytes) - c->bytes;

		memcpy(c->first_bytes + c->bytes, data, len < n ? len : n);
	}
	c->bytes += len;
}

static void
on_end(void *ctx, uint16_t stream_id, uint8_t reason)
{
	struct consumer *c = ctx;

	(void)stream_id;
	c->ends++;
	c->last_end_reason = reason;
}

static const struct relay_stream_callbacks callbacks = {
	.open = on_open, .data = on_data, .end = on_end,
};

/* The running digest the client side would see after its n-th cell. */
static void
client_digest(unsigned n, uint8_t out[RELAY_STREAM_DIGEST_LEN])
{
	for (unsigned i = 0; i < RELAY_STREAM_DIGEST_LEN; i++)
		out[i] = (uint8_t)(0xc0 ^ (n * 7 + i));
}

/* The running digest after the relay's n-th originated cell. */
static void
relay_digest(unsigned n, uint8_t out[RELAY_STREAM_DIGEST_LEN])
{
	for (unsigned i = 0; i < RELAY_STREAM_DIGEST_LEN; i++)
		out[i] = (uint8_t)(0x30 ^ (n * 13 + i));
}

static void
make_payload(uint8_t *payload, uint8_t command, uint16_t stream_id,
		const void *data, uint16_t length)
{
	memset(payload, 0, CELL_PAYLOAD_LEN);
	payload[RELAY_OFFSET_COMMAND] = command;
	payload[RELAY_OFFSET_STREAM_ID] = (uint8_t)(stream_id >> 8);
	payload[RELAY_OFFSET_STREAM_ID + 1] = (uint8_t)stream_id;
	payload[RELAY_OFFSET_LENGTH] = (uint8_t)(length >> 8);
	payload[RELAY_OFFSET_LENGTH + 1] = (uint8_t)length;
	/* A length beyond RELAY_DATA_MAX is sent as a lie in the header. */
	if (data != NULL && length > 0 && length <= RELAY_DATA_MAX)
		memcpy(payload + RELAY_HEADER_LEN, data, length);
}

/* The simulated client: counts the cells it sent for digests. */
struct client {
	struct relay_stream_circuit *circ;
	unsigned cells_sent;
	uint64_t now;
};

static int
send_cell(struct client *cl, uint8_t command, uint16_t stream_id,
		const void *data, uint16_t length)
{
	uint8_t payload[CELL_PAYLOAD_LEN], digest[RELAY_STREAM_DIGEST_LEN];

	make_payload(payload, command, stream_id, data, length);
	client_digest(++cl->cells_sent, digest);
	return relay_stream_receive(cl->circ, payload, digest, cl->now);
}

static int
send_circuit_sendme(struct client *cl, const uint8_t *digest)
{
	uint8_t body[23] = { 1, 0, 20 };

	memcpy(body + 3, digest, 20);
	return send_cell(cl, RELAY_COMMAND_SENDME, 0, body, sizeof(body));
}

/* Takes every cell the relay may send now; DATA cells with report_digest
 * get the relay's running digest reported back as the worker would. */
struct drained {
	size_t data, other;
	size_t data_per_stream[4];
	unsigned reported[64];		/* DATA sequence numbers reported */
	size_t n_reported;
	struct relay_stream_cell last_other;
};

static unsigned relay_cells_out;

static void
drain(struct relay_stream_circuit *circ, uint64_t now, struct drained *d)
{
	struct relay_stream_cell cell;

	memset(d, 0, sizeof(*d));
	while (relay_stream_next_cell(circ, now, &cell) == 1) {
		relay_cells_out++;
		if (cell.command == RELAY_COMMAND_DATA) {
			d->data++;
			if (cell.stream_id < 4)
				d->data_per_stream[cell.stream_id]++;
		} else {
			d->other++;
			d->last_other = cell;
			assert_false(cell.report_digest);
		}
		if (cell.report_digest) {
			uint8_t digest[RELAY_STREAM_DIGEST_LEN];

			relay_digest(relay_cells_out, digest);
			assert_int_equal(relay_stream_note_sent_digest(circ,
					digest), 0);
			if (d->n_reported < 64)
				d->reported[d->n_reported++] = relay_cells_out;
		}
	}
}

static struct relay_stream_circuit *
new_circuit(struct consumer *c, bool cc)
{
	struct relay_stream_params params = {
		.cc_enabled = cc, .cc_sendme_inc = cc ? 31 : 0,
	};
	struct relay_stream_circuit *circ;

	memset(c, 0, sizeof(*c));
	circ = relay_stream_circuit_new(&params, &callbacks, c);
	assert_non_null(circ);
	relay_cells_out = 0;
	return circ;
}

static void
open_stream(struct client *cl, uint16_t id)
{
	struct relay_stream_cell cell;

	assert_int_equal(send_cell(cl, RELAY_COMMAND_BEGIN_DIR, id, NULL, 0), 0);
	assert_int_equal(relay_stream_next_cell(cl->circ, cl->now, &cell), 1);
	relay_cells_out++;
	assert_int_equal(cell.command, RELAY_COMMAND_CONNECTED);
	assert_int_equal(cell.stream_id, id);
	assert_int_equal(cell.length, 0);
}

static void
test_begin_dir_request_end(void **state)
{
	static const char request[] =
		"GET /tor/keys/all HTTP/1.0\r\nHost: x\r\n\r\n";
	struct consumer c;
	struct client cl = { .circ = new_circuit(&c, false), .now = 1 };
	struct relay_stream_cell cell;
	struct drained d;
	uint8_t body[1000];

	(void)state;
	open_stream(&cl, 7);
	assert_int_equal(c.opened, 1);
	assert_int_equal(c.last_open, 7);
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &cell), 0);

	/* The request reaches the consumer. */
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_DATA, 7, request,
			sizeof(request) - 1), 0);
	assert_int_equal(c.bytes, sizeof(request) - 1);
	assert_memory_equal(c.first_bytes, request, 40);

	/* 1000 bytes: 498 + 498 + 4, then END DONE. */
	memset(body, 'k', sizeof(body));
	assert_int_equal(relay_stream_write(cl.circ, 7, body, sizeof(body)), 0);
	assert_int_equal(relay_stream_finish(cl.circ, 7, RELAY_END_REASON_DONE), 0);
	assert_int_equal(relay_stream_write(cl.circ, 7, body, 1), -ENOENT);
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &cell), 1);
	assert_int_equal(cell.command, RELAY_COMMAND_DATA);
	assert_int_equal(cell.length, RELAY_DATA_MAX);
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &cell), 1);
	assert_int_equal(cell.length, RELAY_DATA_MAX);
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &cell), 1);
	assert_int_equal(cell.length, 1000 - 2 * RELAY_DATA_MAX);
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &cell), 1);
	assert_int_equal(cell.command, RELAY_COMMAND_END);
	assert_int_equal(cell.stream_id, 7);
	assert_int_equal(cell.length, 1);
	assert_int_equal(cell.data[0], RELAY_END_REASON_DONE);
	assert_int_equal(relay_stream_count(cl.circ), 0);
	assert_int_equal(relay_stream_circuit_window(cl.circ), 997);

	/* A client END: the consumer hears it, nothing goes back. */
	open_stream(&cl, 8);
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_END, 8,
			(uint8_t[]){ RELAY_END_REASON_DONE }, 1), 0);
	assert_int_equal(c.ends, 1);
	assert_int_equal(c.last_end_reason, RELAY_END_REASON_DONE);
	assert_int_equal(relay_stream_count(cl.circ), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.data + d.other, 0);
	relay_stream_circuit_free(cl.circ);
}

static void
test_refused_and_ignored(void **state)
{
	struct consumer c;
	struct client cl = { .circ = new_circuit(&c, false), .now = 1 };
	struct drained d;

	(void)state;
	/* Stream id 0: dropped. */
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_BEGIN_DIR, 0, NULL, 0), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.other, 0);
	/* A BEGIN: we are no exit. */
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_BEGIN, 3,
			"example.com:80", 15), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.other, 1);
	assert_int_equal(d.last_other.command, RELAY_COMMAND_END);
	assert_int_equal(d.last_other.data[0], RELAY_END_REASON_EXITPOLICY);
	/* The consumer refuses: END NOTDIRECTORY. */
	c.refuse = true;
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_BEGIN_DIR, 4, NULL, 0), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.other, 1);
	assert_int_equal(d.last_other.stream_id, 4);
	assert_int_equal(d.last_other.data[0], RELAY_END_REASON_NOTDIRECTORY);
	assert_int_equal(relay_stream_count(cl.circ), 0);
	/* A duplicate BEGIN_DIR for an open stream is dropped. */
	c.refuse = false;
	open_stream(&cl, 5);
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_BEGIN_DIR, 5, NULL, 0), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.other, 0);
	assert_int_equal(c.opened, 1);
	/* A length beyond 498 closes the circuit. */
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_DROP, 0, NULL, 499),
			-EPROTO);
	relay_stream_circuit_free(cl.circ);
}

static void
test_windows_and_authenticated_sendme(void **state)
{
	struct consumer c;
	struct client cl = { .circ = new_circuit(&c, false), .now = 1 };
	static uint8_t body[400 * RELAY_DATA_MAX];
	uint8_t digest[RELAY_STREAM_DIGEST_LEN];
	struct drained d;

	(void)state;
	for (uint16_t id = 1; id <= 3; id++) {
		open_stream(&cl, id);
		assert_int_equal(relay_stream_write(cl.circ, id, body,
				sizeof(body)), 0);
	}
	/* 3 x 400 cells queued; the circuit window stops us at 1000. */
	drain(cl.circ, 1, &d);
	assert_int_equal(d.data, 1000);
	assert_int_equal(relay_stream_circuit_window(cl.circ), 0);
	/* Digests are due after DATA cells 100, 200, ..., 1000 (relay cells
	 * 103, ... counting the three CONNECTED). */
	assert_int_equal(d.n_reported, 10);
	assert_int_equal(d.reported[0], 3 + 100);
	assert_int_equal(d.reported[9], 3 + 1000);

	/* The client's SENDME names the 100th cell: 100 more cells. */
	relay_digest(3 + 100, digest);
	assert_int_equal(send_circuit_sendme(&cl, digest), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.data, 100);
	/* The next SENDME must carry the 200th cell's digest, not the
	 * 300th: tor closes the circuit (sendme_is_valid). */
	relay_digest(3 + 300, digest);
	assert_int_equal(send_circuit_sendme(&cl, digest), -EPROTO);
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &d.last_other),
			-EPIPE);
	assert_int_equal(relay_stream_write(cl.circ, 1, body, 1), -EPIPE);
	relay_stream_circuit_free(cl.circ);
}

static void
test_stream_window_and_sendme(void **state)
{
	struct consumer c;
	struct client cl = { .circ = new_circuit(&c, false), .now = 1 };
	static uint8_t body[600 * RELAY_DATA_MAX];
	struct drained d;

	(void)state;
	open_stream(&cl, 1);
	assert_int_equal(relay_stream_write(cl.circ, 1, body, sizeof(body)), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.data, 500);
	/* A stream SENDME opens 50 more. */
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_SENDME, 1, NULL, 0), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.data, 50);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.data, 0);
	/* A SENDME on a fresh stream would take its window past 500:
	 * protocol error (sendme_process_stream_level). */
	open_stream(&cl, 2);
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_SENDME, 2, NULL, 0),
			-EPROTO);
	relay_stream_circuit_free(cl.circ);
}

static void
test_sendme_without_digest_and_versions(void **state)
{
	struct consumer c;
	struct client cl = { .circ = new_circuit(&c, false), .now = 1 };
	uint8_t digest[RELAY_STREAM_DIGEST_LEN] = { 0 };
	struct relay_stream_params params = { .sendme_accept_min_version = 1 };
	struct drained d;
	static uint8_t body[200 * RELAY_DATA_MAX];

	(void)state;
	/* Nothing sent, nothing expected: a SENDME closes the circuit. */
	assert_int_equal(send_circuit_sendme(&cl, digest), -EPROTO);
	relay_stream_circuit_free(cl.circ);

	/* A v0 SENDME (empty) is refused when the consensus wants v1. */
	cl.circ = relay_stream_circuit_new(&params, &callbacks, &c);
	assert_non_null(cl.circ);
	relay_cells_out = 0;
	open_stream(&cl, 1);
	assert_int_equal(relay_stream_write(cl.circ, 1, body, sizeof(body)), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.n_reported, 2);
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_SENDME, 0, NULL, 0),
			-EPROTO);
	relay_stream_circuit_free(cl.circ);

	/* A malformed v1 body (data_len 21) closes too. */
	cl.circ = new_circuit(&c, false);
	open_stream(&cl, 1);
	assert_int_equal(relay_stream_write(cl.circ, 1, body, sizeof(body)), 0);
	drain(cl.circ, 1, &d);
	{
		uint8_t bad[24] = { 1, 0, 21 };

		relay_digest(1 + 100, bad + 3);
		assert_int_equal(send_cell(&cl, RELAY_COMMAND_SENDME, 0, bad,
				sizeof(bad)), -EPROTO);
	}
	relay_stream_circuit_free(cl.circ);
}

static void
test_sendmes_to_client(void **state)
{
	struct consumer c;
	struct client cl = { .circ = new_circuit(&c, false), .now = 1 };
	uint8_t expected[RELAY_STREAM_DIGEST_LEN];
	struct relay_stream_cell cell;
	struct drained d;
	uint8_t chunk[RELAY_DATA_MAX] = { 'x' };

	(void)state;
	open_stream(&cl, 2);	/* client cell 1 */
	for (unsigned i = 1; i <= 100; i++) {
		assert_int_equal(send_cell(&cl, RELAY_COMMAND_DATA, 2, chunk,
				sizeof(chunk)), 0);
		if (i == 50) {
			/* Stream SENDME: empty body. */
			assert_int_equal(relay_stream_next_cell(cl.circ, 1,
					&cell), 1);
			assert_int_equal(cell.command, RELAY_COMMAND_SENDME);
			assert_int_equal(cell.stream_id, 2);
			assert_int_equal(cell.length, 0);
		}
		if (i != 50 && i != 100) {
			drain(cl.circ, 1, &d);
			assert_int_equal(d.other, 0);
		}
	}
	/* After the 100th DATA cell (client cell 101): circuit SENDME v1
	 * with that cell's digest, then the stream SENDME. */
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &cell), 1);
	assert_int_equal(cell.command, RELAY_COMMAND_SENDME);
	assert_int_equal(cell.stream_id, 0);
	assert_int_equal(cell.length, 23);
	assert_int_equal(cell.data[0], 1);
	assert_int_equal(cell.data[1], 0);
	assert_int_equal(cell.data[2], 20);
	client_digest(101, expected);
	assert_memory_equal(cell.data + 3, expected, 20);
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &cell), 1);
	assert_int_equal(cell.command, RELAY_COMMAND_SENDME);
	assert_int_equal(cell.stream_id, 2);
	assert_int_equal(relay_stream_next_cell(cl.circ, 1, &cell), 0);
	assert_int_equal(c.bytes, 100 * sizeof(chunk));
	/* DATA on unknown streams still counts for the circuit window. */
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(send_cell(&cl, RELAY_COMMAND_DATA, 9, chunk,
				1), 0);
	drain(cl.circ, 1, &d);
	assert_int_equal(d.other, 1);
	assert_int_equal(d.last_other.stream_id, 0);
	client_digest(201, expected);
	assert_memory_equal(d.last_other.data + 3, expected, 20);
	relay_stream_circuit_free(cl.circ);
}

static void
test_congestion_control(void **state)
{
	struct consumer c;
	struct client cl = { .circ = new_circuit(&c, true), .now = 1000 };
	static uint8_t body[2000 * RELAY_DATA_MAX];
	uint8_t digest[RELAY_STREAM_DIGEST_LEN];
	uint8_t chunk[10] = { 0 };
	struct relay_stream_cell cell;
	struct drained d;

	(void)state;
	open_stream(&cl, 1);
	assert_int_equal(relay_stream_cwnd(cl.circ), 124);
	assert_int_equal(relay_stream_write(cl.circ, 1, body, sizeof(body)), 0);
	drain(cl.circ, 1000, &d);
	/* cwnd 124 cells; a digest after cells 31, 62, 93, 124. */
	assert_int_equal(d.data, 124);
	assert_int_equal(d.n_reported, 4);
	assert_int_equal(d.reported[0], 1 + 31);
	assert_int_equal(d.reported[3], 1 + 124);
	/* SENDME for cell 31 after 50 ms: in slow start, window full,
	 * cwnd grows by sendme_inc. */
	cl.now = 51000;
	relay_digest(1 + 31, digest);
	assert_int_equal(send_circuit_sendme(&cl, digest), 0);
	assert_int_equal(relay_stream_cwnd(cl.circ), 124 + 31);
	drain(cl.circ, cl.now, &d);
	assert_int_equal(d.data, 31 + 31);

	/* XOFF stops the stream, XON resumes it. */
	relay_digest(1 + 62, digest);
	assert_int_equal(send_circuit_sendme(&cl, digest), 0);
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_XOFF, 1, chunk, 1), 0);
	drain(cl.circ, cl.now, &d);
	assert_int_equal(d.data, 0);
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_XON, 1, chunk, 5), 0);
	drain(cl.circ, cl.now, &d);
	assert_true(d.data > 0);

	/* The client's DATA: a circuit SENDME every 31 cells, no stream
	 * SENDMEs. */
	for (unsigned i = 1; i <= 31; i++)
		assert_int_equal(send_cell(&cl, RELAY_COMMAND_DATA, 1, chunk,
				sizeof(chunk)), 0);
	assert_int_equal(relay_stream_next_cell(cl.circ, cl.now, &cell), 1);
	assert_int_equal(cell.command, RELAY_COMMAND_SENDME);
	assert_int_equal(cell.stream_id, 0);
	client_digest(cl.cells_sent, digest);
	assert_memory_equal(cell.data + 3, digest, 20);
	drain(cl.circ, cl.now, &d);
	assert_int_equal(d.other, 0);

	/* A stream-level SENDME closes the circuit. */
	assert_int_equal(send_cell(&cl, RELAY_COMMAND_SENDME, 1, NULL, 0),
			-EPROTO);
	relay_stream_circuit_free(cl.circ);
}

static void
test_vegas_leaves_slow_start(void **state)
{
	struct consumer c;
	struct client cl = { .circ = new_circuit(&c, true), .now = 1000 };
	static uint8_t body[3000 * RELAY_DATA_MAX];
	uint8_t digest[RELAY_STREAM_DIGEST_LEN];
	struct drained d;
	unsigned acked = 0, rounds = 0;
	unsigned pending[256];
	size_t head = 0, tail = 0;

	(void)state;
	open_stream(&cl, 1);
	assert_int_equal(relay_stream_write(cl.circ, 1, body, sizeof(body)), 0);
	/* A path whose RTT grows with the cells in flight (a queue): Vegas
	 * must leave slow start and keep cwnd near bdp + gamma. */
	while (rounds++ < 200) {
		uint32_t inflight;

		drain(cl.circ, cl.now, &d);
		for (size_t i = 0; i < d.n_reported && tail < 256; i++)
			pending[tail++] = d.reported[i];
		if (head == tail)
			break;
		inflight = relay_stream_cwnd(cl.circ) -
				(uint32_t)relay_stream_circuit_window(cl.circ);
		cl.now += 20000 + 100 * inflight;
		relay_digest(pending[head++], digest);
		assert_int_equal(send_circuit_sendme(&cl, digest), 0);
		acked++;
	}
	assert_true(acked > 20);
	assert_true(relay_stream_cwnd(cl.circ) >= 124);
	assert_true(relay_stream_cwnd(cl.circ) < 5000);
	relay_stream_circuit_free(cl.circ);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin_dir_request_end),
		cmocka_unit_test(test_refused_and_ignored),
		cmocka_unit_test(test_windows_and_authenticated_sendme),
		cmocka_unit_test(test_stream_window_and_sendme),
		cmocka_unit_test(test_sendme_without_digest_and_versions),
		cmocka_unit_test(test_sendmes_to_client),
		cmocka_unit_test(test_congestion_control),
		cmocka_unit_test(test_vegas_leaves_slow_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
