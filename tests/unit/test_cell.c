/* Unit tests for dataplane/cell.{c,h}: cell framing, DESTROY,
 * PADDING_NEGOTIATE and the relay header, checked against byte strings laid
 * out by hand from tor-spec 3, 5.4, 6.1 and 7.2. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dataplane/cell.h"

/* The opening VERSIONS cell tor 0.4.9 sends: CircID 0 (2 bytes), command 7,
 * length 6, versions 3, 4, 5. */
static const uint8_t versions_wire[] = {
	0x00, 0x00, 0x07, 0x00, 0x06, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05,
};

static void
build_fixed_cell(uint8_t cell[CELL_LEN], uint32_t circ_id, uint8_t command)
{
	cell[0] = (uint8_t)(circ_id >> 24);
	cell[1] = (uint8_t)(circ_id >> 16);
	cell[2] = (uint8_t)(circ_id >> 8);
	cell[3] = (uint8_t)circ_id;
	cell[4] = command;
	for (size_t i = 0; i < CELL_PAYLOAD_LEN; i++)
		cell[5 + i] = (uint8_t)(i * 7 + 1);
}

static void
test_command_values(void **state)
{
	(void)state;
	assert_int_equal(CELL_COMMAND_PADDING, 0);
	assert_int_equal(CELL_COMMAND_RELAY_EARLY, 9);
	assert_int_equal(CELL_COMMAND_PADDING_NEGOTIATE, 12);
	assert_int_equal(CELL_COMMAND_AUTHORIZE, 132);
	assert_int_equal(CELL_LEN, 514);
	assert_int_equal(CELL_LEN_LEGACY, 512);
	assert_int_equal(RELAY_DATA_MAX, 498);
	assert_int_equal(RELAY_COMMAND_SENDME, 5);
	assert_int_equal(RELAY_COMMAND_DROP, 10);
	assert_int_equal(RELAY_COMMAND_BEGIN_DIR, 13);
	assert_int_equal(RELAY_COMMAND_EXTEND2, 14);
	assert_int_equal(RELAY_COMMAND_EXTENDED2, 15);
	assert_int_equal(RELAY_COMMAND_ESTABLISH_INTRO, 32);
	assert_int_equal(RELAY_COMMAND_INTRODUCE2, 35);
	assert_int_equal(RELAY_COMMAND_INTRODUCE_ACK, 40);
	assert_int_equal(RELAY_COMMAND_XOFF, 43);
	assert_int_equal(RELAY_COMMAND_XON, 44);
	assert_true(cell_command_is_var(CELL_COMMAND_VERSIONS));
	assert_true(cell_command_is_var(CELL_COMMAND_VPADDING));
	assert_true(cell_command_is_var(CELL_COMMAND_CERTS));
	assert_true(cell_command_is_var(255));
	assert_false(cell_command_is_var(CELL_COMMAND_NETINFO));
	assert_false(cell_command_is_var(CELL_COMMAND_CREATE2));
	assert_false(cell_command_is_var(127));
}

static void
test_frame_fixed(void **state)
{
	uint8_t cell[CELL_LEN];
	struct cell_frame frame;
	const uint8_t *p = cell;
	size_t need = 0;

	(void)state;
	build_fixed_cell(cell, 0x80000001u, CELL_COMMAND_RELAY);
	assert_int_equal(cell_frame_parse(&p, cell + sizeof(cell),
		CELL_CIRC_ID_LEN, &frame, &need), 0);
	assert_ptr_equal(p, cell + CELL_LEN);
	assert_int_equal(frame.circ_id, 0x80000001u);
	assert_int_equal(frame.circ_id_len, 4);
	assert_int_equal(frame.command, CELL_COMMAND_RELAY);
	assert_int_equal(frame.payload_len, CELL_PAYLOAD_LEN);
	assert_ptr_equal(frame.payload, cell + 5);

	assert_int_equal(cell_wire_circ_id(cell), 0x80000001u);
	assert_int_equal(cell_wire_command(cell), CELL_COMMAND_RELAY);
	assert_ptr_equal(cell_wire_payload(cell), cell + 5);
	cell_wire_set_circ_id(cell, 0x01020304u);
	assert_int_equal(cell[0], 1);
	assert_int_equal(cell[3], 4);
	assert_int_equal(cell_wire_circ_id(cell), 0x01020304u);
}

static void
test_frame_fixed_truncated(void **state)
{
	uint8_t cell[CELL_LEN];
	struct cell_frame frame;

	(void)state;
	build_fixed_cell(cell, 5, CELL_COMMAND_CREATE2);
	for (size_t len = 0; len < CELL_LEN; len++) {
		const uint8_t *p = cell;
		size_t need = 0;

		assert_int_equal(cell_frame_parse(&p, cell + len,
			CELL_CIRC_ID_LEN, &frame, &need), -EAGAIN);
		assert_ptr_equal(p, cell);
		if (len < 5)
			assert_int_equal(need, 5 - len);
		else
			assert_int_equal(need, CELL_LEN - len);
	}
}

static void
test_frame_versions_legacy(void **state)
{
	struct cell_frame frame;
	const uint8_t *p = versions_wire;
	uint8_t out[sizeof(versions_wire)];

	(void)state;
	assert_int_equal(cell_frame_parse(&p, versions_wire +
		sizeof(versions_wire), CELL_CIRC_ID_LEN_LEGACY, &frame, NULL), 0);
	assert_ptr_equal(p, versions_wire + sizeof(versions_wire));
	assert_int_equal(frame.circ_id, 0);
	assert_int_equal(frame.circ_id_len, 2);
	assert_int_equal(frame.command, CELL_COMMAND_VERSIONS);
	assert_int_equal(frame.payload_len, 6);
	assert_ptr_equal(frame.payload, versions_wire + 5);

	assert_int_equal(cell_frame_encoded_len(&frame), sizeof(versions_wire));
	assert_int_equal(cell_frame_encode(&frame, out, sizeof(out)),
		sizeof(versions_wire));
	assert_memory_equal(out, versions_wire, sizeof(versions_wire));
	assert_int_equal(cell_frame_encode(&frame, out, sizeof(out) - 1),
		-EMSGSIZE);

	for (size_t len = 0; len < sizeof(versions_wire); len++) {
		size_t need = 0;

		p = versions_wire;
		assert_int_equal(cell_frame_parse(&p, versions_wire + len,
			CELL_CIRC_ID_LEN_LEGACY, &frame, &need), -EAGAIN);
		assert_ptr_equal(p, versions_wire);
		if (len < 3)
			assert_int_equal(need, 3 - len);
		else if (len < 5)
			assert_int_equal(need, 5 - len);
		else
			assert_int_equal(need, sizeof(versions_wire) - len);
	}
}

static void
test_frame_var_stream(void **state)
{
	/* A VPADDING cell of length 0 then a CERTS cell of length 3 and then
	 * a fixed-size DESTROY, all with 4-byte circ ids. */
	uint8_t stream[7 + 10 + CELL_LEN];
	const uint8_t *p = stream;
	const uint8_t *end = stream + sizeof(stream);
	struct cell_frame frame;
	uint8_t out[sizeof(stream)];
	size_t out_used = 0;

	(void)state;
	memset(stream, 0, sizeof(stream));
	stream[4] = CELL_COMMAND_VPADDING;
	stream[7 + 4] = CELL_COMMAND_CERTS;
	stream[7 + 6] = 3;
	stream[7 + 7] = 0xaa;
	stream[7 + 8] = 0xbb;
	stream[7 + 9] = 0xcc;
	build_fixed_cell(stream + 17, 0x7fffffffu, CELL_COMMAND_DESTROY);

	assert_int_equal(cell_frame_parse(&p, end, 4, &frame, NULL), 0);
	assert_int_equal(frame.command, CELL_COMMAND_VPADDING);
	assert_int_equal(frame.payload_len, 0);
	assert_ptr_equal(p, stream + 7);
	out_used += (size_t)cell_frame_encode(&frame, out + out_used,
		sizeof(out) - out_used);

	assert_int_equal(cell_frame_parse(&p, end, 4, &frame, NULL), 0);
	assert_int_equal(frame.command, CELL_COMMAND_CERTS);
	assert_int_equal(frame.payload_len, 3);
	assert_int_equal(frame.payload[2], 0xcc);
	assert_ptr_equal(p, stream + 17);
	out_used += (size_t)cell_frame_encode(&frame, out + out_used,
		sizeof(out) - out_used);

	assert_int_equal(cell_frame_parse(&p, end, 4, &frame, NULL), 0);
	assert_int_equal(frame.command, CELL_COMMAND_DESTROY);
	assert_int_equal(frame.circ_id, 0x7fffffffu);
	assert_ptr_equal(p, end);
	out_used += (size_t)cell_frame_encode(&frame, out + out_used,
		sizeof(out) - out_used);

	assert_int_equal(out_used, sizeof(stream));
	assert_memory_equal(out, stream, sizeof(stream));
	assert_int_equal(cell_frame_parse(&p, end, 4, &frame, NULL), -EAGAIN);
}

static void
test_frame_bad_circ_id_len(void **state)
{
	uint8_t cell[CELL_LEN];
	struct cell_frame frame;
	const uint8_t *p = cell;

	(void)state;
	build_fixed_cell(cell, 1, CELL_COMMAND_PADDING);
	for (unsigned len = 0; len < 8; len++) {
		if (len == 2 || len == 4)
			continue;
		assert_int_equal(cell_frame_parse(&p, cell + sizeof(cell), len,
			&frame, NULL), -EINVAL);
		assert_ptr_equal(p, cell);
	}
}

static void
test_frame_encode_fixed(void **state)
{
	const uint8_t payload[] = { 0x09 };
	struct cell_frame frame = {
		.circ_id = 0x80000abcu,
		.circ_id_len = 4,
		.command = CELL_COMMAND_DESTROY,
		.payload_len = sizeof(payload),
		.payload = payload,
	};
	uint8_t out[CELL_LEN + 1];
	uint8_t expected[CELL_LEN];

	(void)state;
	memset(expected, 0, sizeof(expected));
	expected[0] = 0x80;
	expected[2] = 0x0a;
	expected[3] = 0xbc;
	expected[4] = 4;
	expected[5] = 9;
	memset(out, 0xee, sizeof(out));
	assert_int_equal(cell_frame_encode(&frame, out, sizeof(out)), CELL_LEN);
	assert_memory_equal(out, expected, CELL_LEN);
	assert_int_equal(out[CELL_LEN], 0xee);
	assert_int_equal(cell_frame_encode(&frame, out, CELL_LEN - 1),
		-EMSGSIZE);

	/* Legacy 2-byte circ id: 512-byte cell, circ id must fit. */
	frame.circ_id_len = 2;
	assert_int_equal(cell_frame_encode(&frame, out, sizeof(out)), -EINVAL);
	frame.circ_id = 0xffff;
	assert_int_equal(cell_frame_encode(&frame, out, sizeof(out)),
		CELL_LEN_LEGACY);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(out[2], CELL_COMMAND_DESTROY);
	assert_int_equal(out[3], 9);

	frame.circ_id_len = 3;
	assert_int_equal(cell_frame_encode(&frame, out, sizeof(out)), -EINVAL);
	frame.circ_id_len = 4;
	frame.payload_len = CELL_PAYLOAD_LEN + 1;
	assert_int_equal(cell_frame_encode(&frame, out, sizeof(out)),
		-EMSGSIZE);
}

static const uint8_t relay_wire[] = {
	RELAY_COMMAND_DATA,     /* command */
	0x00, 0x00,             /* recognized */
	0x12, 0x34,             /* stream id */
	0xde, 0xad, 0xbe, 0xef, /* digest */
	0x00, 0x03,             /* length */
	'a', 'b', 'c',          /* data */
	0x00, 0x00, 0x00, 0x00, 0x77, /* padding */
};

static void
test_relay_parse_encode(void **state)
{
	struct relay_cell relay;
	const uint8_t *p = relay_wire;
	uint8_t out[RELAY_HEADER_LEN + 3];

	(void)state;
	assert_int_equal(relay_cell_parse(&p, relay_wire + sizeof(relay_wire),
		&relay), 0);
	assert_ptr_equal(p, relay_wire + 14);
	assert_int_equal(relay.command, RELAY_COMMAND_DATA);
	assert_int_equal(relay.recognized, 0);
	assert_int_equal(relay.stream_id, 0x1234);
	assert_memory_equal(relay.digest, "\xde\xad\xbe\xef", 4);
	assert_int_equal(relay.length, 3);
	assert_memory_equal(relay.data, "abc", 3);
	assert_int_equal(relay_payload_length(relay_wire), 3);

	assert_int_equal(relay_cell_encode(&relay, out, sizeof(out)),
		sizeof(out));
	assert_memory_equal(out, relay_wire, sizeof(out));
	assert_int_equal(relay_cell_encode(&relay, out, sizeof(out) - 1),
		-EMSGSIZE);

	for (size_t len = 0; len < 14; len++) {
		p = relay_wire;
		assert_int_equal(relay_cell_parse(&p, relay_wire + len,
			&relay), -EINVAL);
		assert_ptr_equal(p, relay_wire);
	}
}

static void
test_relay_length_limits(void **state)
{
	uint8_t payload[CELL_PAYLOAD_LEN + 16];
	uint8_t out[CELL_PAYLOAD_LEN + 16];
	struct relay_cell relay;
	const uint8_t *p;

	(void)state;
	memset(payload, 0x5a, sizeof(payload));
	payload[RELAY_OFFSET_LENGTH] = 498 >> 8;
	payload[RELAY_OFFSET_LENGTH + 1] = 498 & 0xff;
	p = payload;
	assert_int_equal(relay_cell_parse(&p, payload + CELL_PAYLOAD_LEN,
		&relay), 0);
	assert_int_equal(relay.length, 498);
	assert_ptr_equal(p, payload + CELL_PAYLOAD_LEN);
	assert_int_equal(relay_cell_encode(&relay, out, sizeof(out)),
		CELL_PAYLOAD_LEN);
	assert_memory_equal(out, payload, CELL_PAYLOAD_LEN);

	/* 499 is rejected even when the buffer would hold it. */
	payload[RELAY_OFFSET_LENGTH + 1] = 499 & 0xff;
	p = payload;
	assert_int_equal(relay_cell_parse(&p, payload + sizeof(payload),
		&relay), -EINVAL);
	assert_ptr_equal(p, payload);
	payload[RELAY_OFFSET_LENGTH] = 0xff;
	payload[RELAY_OFFSET_LENGTH + 1] = 0xff;
	assert_int_equal(relay_cell_parse(&p, payload + sizeof(payload),
		&relay), -EINVAL);

	relay.length = 499;
	assert_int_equal(relay_cell_encode(&relay, out, sizeof(out)),
		-EMSGSIZE);
}

static void
test_destroy(void **state)
{
	const uint8_t wire[] = { DESTROY_REASON_DESTROYED, 0, 0 };
	struct destroy_cell destroy;
	const uint8_t *p = wire;
	uint8_t out[1];

	(void)state;
	assert_int_equal(DESTROY_REASON_FINISHED, 9);
	assert_int_equal(DESTROY_REASON_NOSUCHSERVICE, 12);
	assert_int_equal(destroy_cell_parse(&p, wire + sizeof(wire), &destroy),
		0);
	assert_int_equal(destroy.reason, 11);
	assert_ptr_equal(p, wire + 1);
	assert_int_equal(destroy_cell_encode(&destroy, out, sizeof(out)), 1);
	assert_int_equal(out[0], 11);
	assert_int_equal(destroy_cell_encode(&destroy, out, 0), -EMSGSIZE);
	p = wire;
	assert_int_equal(destroy_cell_parse(&p, wire, &destroy), -EINVAL);
	assert_ptr_equal(p, wire);
}

static void
test_padding_negotiate(void **state)
{
	/* version 0, START, ito_low_ms 1500, ito_high_ms 9500. */
	const uint8_t wire[] = { 0x00, 0x02, 0x05, 0xdc, 0x25, 0x1c, 0x00 };
	struct padding_negotiate_cell cell;
	const uint8_t *p = wire;
	uint8_t out[PADDING_NEGOTIATE_LEN];
	uint8_t bad[sizeof(wire)];

	(void)state;
	assert_int_equal(padding_negotiate_cell_parse(&p, wire + sizeof(wire),
		&cell), 0);
	assert_ptr_equal(p, wire + 6);
	assert_int_equal(cell.version, 0);
	assert_int_equal(cell.command, PADDING_NEGOTIATE_START);
	assert_int_equal(cell.ito_low_ms, 1500);
	assert_int_equal(cell.ito_high_ms, 9500);
	assert_int_equal(padding_negotiate_cell_encode(&cell, out, sizeof(out)),
		6);
	assert_memory_equal(out, wire, 6);
	assert_int_equal(padding_negotiate_cell_encode(&cell, out, 5),
		-EMSGSIZE);

	for (size_t len = 0; len < 6; len++) {
		p = wire;
		assert_int_equal(padding_negotiate_cell_parse(&p, wire + len,
			&cell), -EINVAL);
		assert_ptr_equal(p, wire);
	}

	memcpy(bad, wire, sizeof(wire));
	bad[0] = 1;
	p = bad;
	assert_int_equal(padding_negotiate_cell_parse(&p, bad + sizeof(bad),
		&cell), -EINVAL);
	bad[0] = 0;
	for (unsigned command = 0; command < 256; command++) {
		int expected = (command == 1 || command == 2) ? 0 : -EINVAL;

		bad[1] = (uint8_t)command;
		p = bad;
		assert_int_equal(padding_negotiate_cell_parse(&p,
			bad + sizeof(bad), &cell), expected);
	}

	cell.command = 3;
	assert_int_equal(padding_negotiate_cell_encode(&cell, out, sizeof(out)),
		-EINVAL);
	cell.command = PADDING_NEGOTIATE_STOP;
	cell.version = 1;
	assert_int_equal(padding_negotiate_cell_encode(&cell, out, sizeof(out)),
		-EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_values),
		cmocka_unit_test(test_frame_fixed),
		cmocka_unit_test(test_frame_fixed_truncated),
		cmocka_unit_test(test_frame_versions_legacy),
		cmocka_unit_test(test_frame_var_stream),
		cmocka_unit_test(test_frame_bad_circ_id_len),
		cmocka_unit_test(test_frame_encode_fixed),
		cmocka_unit_test(test_relay_parse_encode),
		cmocka_unit_test(test_relay_length_limits),
		cmocka_unit_test(test_destroy),
		cmocka_unit_test(test_padding_negotiate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
