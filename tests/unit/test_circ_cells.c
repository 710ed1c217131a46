/* Unit tests for control/circ_cells.{c,h}: CREATE2, CREATED2, CREATE_FAST,
 * CREATED_FAST, EXTEND2 and EXTENDED2 against byte strings laid out by hand
 * from tor-spec 5.1, 5.1.2 and 5.1.5. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "control/circ_cells.h"
#include "dataplane/cell.h"

/* ntor onion skin: 84 bytes (ID 20, B 32, X 32, tor-spec 5.1.4). */
#define NTOR_ONIONSKIN_LEN 84
/* ntor reply: Y 32, AUTH 32. */
#define NTOR_REPLY_LEN 64

static void
fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

static void
test_create2(void **state)
{
	uint8_t wire[CELL_PAYLOAD_LEN];
	uint8_t out[CELL_PAYLOAD_LEN];
	struct create2_cell cell;
	const uint8_t *p = wire;

	(void)state;
	memset(wire, 0, sizeof(wire));
	wire[0] = 0x00;
	wire[1] = 0x02;
	wire[2] = 0x00;
	wire[3] = 0x54;
	fill_pattern(wire + 4, NTOR_ONIONSKIN_LEN, 1);

	assert_int_equal(create2_cell_parse(&p, wire + sizeof(wire), &cell), 0);
	assert_ptr_equal(p, wire + 4 + NTOR_ONIONSKIN_LEN);
	assert_int_equal(cell.htype, HANDSHAKE_TYPE_NTOR);
	assert_int_equal(cell.hlen, NTOR_ONIONSKIN_LEN);
	assert_ptr_equal(cell.hdata, wire + 4);
	assert_int_equal(create2_cell_encode(&cell, out, sizeof(out)),
		4 + NTOR_ONIONSKIN_LEN);
	assert_memory_equal(out, wire, 4 + NTOR_ONIONSKIN_LEN);
	assert_int_equal(create2_cell_encode(&cell, out, 4 + 83), -EMSGSIZE);

	for (size_t len = 0; len < 4 + NTOR_ONIONSKIN_LEN; len++) {
		p = wire;
		assert_int_equal(create2_cell_parse(&p, wire + len, &cell),
			-EINVAL);
		assert_ptr_equal(p, wire);
	}
}

static void
test_create2_limits(void **state)
{
	static uint8_t wire[CELL_PAYLOAD_LEN + 64];
	static uint8_t out[CELL_PAYLOAD_LEN + 64];
	struct create2_cell cell;
	const uint8_t *p = wire;

	(void)state;
	memset(wire, 0x33, sizeof(wire));
	wire[2] = CREATE2_HDATA_MAX >> 8;
	wire[3] = CREATE2_HDATA_MAX & 0xff;
	assert_int_equal(create2_cell_parse(&p, wire + CELL_PAYLOAD_LEN, &cell),
		0);
	assert_int_equal(cell.hlen, 505);
	assert_ptr_equal(p, wire + CELL_PAYLOAD_LEN);
	assert_int_equal(create2_cell_encode(&cell, out, sizeof(out)),
		CELL_PAYLOAD_LEN);

	/* 506 does not fit a cell even if the buffer holds it. */
	wire[3] = (CREATE2_HDATA_MAX + 1) & 0xff;
	p = wire;
	assert_int_equal(create2_cell_parse(&p, wire + sizeof(wire), &cell),
		-EINVAL);
	assert_ptr_equal(p, wire);
	cell.hlen = CREATE2_HDATA_MAX + 1;
	assert_int_equal(create2_cell_encode(&cell, out, sizeof(out)),
		-EMSGSIZE);
}

static void
test_created2_extended2(void **state)
{
	static uint8_t wire[CELL_PAYLOAD_LEN + 64];
	static uint8_t out[CELL_PAYLOAD_LEN + 64];
	struct created2_cell created2;
	struct extended2_cell extended2;
	const uint8_t *p = wire;

	(void)state;
	memset(wire, 0, sizeof(wire));
	wire[1] = NTOR_REPLY_LEN;
	fill_pattern(wire + 2, NTOR_REPLY_LEN, 7);

	assert_int_equal(created2_cell_parse(&p, wire + CELL_PAYLOAD_LEN,
		&created2), 0);
	assert_ptr_equal(p, wire + 2 + NTOR_REPLY_LEN);
	assert_int_equal(created2.hlen, NTOR_REPLY_LEN);
	assert_ptr_equal(created2.hdata, wire + 2);
	assert_int_equal(created2_cell_encode(&created2, out, sizeof(out)),
		2 + NTOR_REPLY_LEN);
	assert_memory_equal(out, wire, 2 + NTOR_REPLY_LEN);

	p = wire;
	assert_int_equal(extended2_cell_parse(&p, wire + RELAY_DATA_MAX,
		&extended2), 0);
	assert_int_equal(extended2.hlen, NTOR_REPLY_LEN);
	assert_int_equal(extended2_cell_encode(&extended2, out, sizeof(out)),
		2 + NTOR_REPLY_LEN);
	assert_memory_equal(out, wire, 2 + NTOR_REPLY_LEN);
	assert_int_equal(extended2_cell_encode(&extended2, out, 65),
		-EMSGSIZE);

	for (size_t len = 0; len < 2 + NTOR_REPLY_LEN; len++) {
		p = wire;
		assert_int_equal(created2_cell_parse(&p, wire + len,
			&created2), -EINVAL);
		assert_int_equal(extended2_cell_parse(&p, wire + len,
			&extended2), -EINVAL);
		assert_ptr_equal(p, wire);
	}

	/* Length limits: CREATED2 507 in a cell, EXTENDED2 496 in a relay
	 * message. */
	wire[0] = 507 >> 8;
	wire[1] = 507 & 0xff;
	p = wire;
	assert_int_equal(created2_cell_parse(&p, wire + sizeof(wire),
		&created2), 0);
	p = wire;
	assert_int_equal(extended2_cell_parse(&p, wire + sizeof(wire),
		&extended2), -EINVAL);
	wire[1] = 508 & 0xff;
	p = wire;
	assert_int_equal(created2_cell_parse(&p, wire + sizeof(wire),
		&created2), -EINVAL);
	wire[0] = 496 >> 8;
	wire[1] = 496 & 0xff;
	p = wire;
	assert_int_equal(extended2_cell_parse(&p, wire + sizeof(wire),
		&extended2), 0);
	wire[1] = 497 & 0xff;
	p = wire;
	assert_int_equal(extended2_cell_parse(&p, wire + sizeof(wire),
		&extended2), -EINVAL);
	created2.hlen = 508;
	assert_int_equal(created2_cell_encode(&created2, out, sizeof(out)),
		-EMSGSIZE);
	extended2.hlen = 497;
	assert_int_equal(extended2_cell_encode(&extended2, out, sizeof(out)),
		-EMSGSIZE);
}

static void
test_create_fast(void **state)
{
	uint8_t wire[2 * CREATE_FAST_KEY_LEN + 3];
	uint8_t out[2 * CREATE_FAST_KEY_LEN];
	struct create_fast_cell create_fast;
	struct created_fast_cell created_fast;
	const uint8_t *p = wire;

	(void)state;
	fill_pattern(wire, sizeof(wire), 3);
	assert_int_equal(create_fast_cell_parse(&p, wire + sizeof(wire),
		&create_fast), 0);
	assert_ptr_equal(p, wire + 20);
	assert_memory_equal(create_fast.x, wire, 20);
	assert_int_equal(create_fast_cell_encode(&create_fast, out, 20), 20);
	assert_memory_equal(out, wire, 20);
	assert_int_equal(create_fast_cell_encode(&create_fast, out, 19),
		-EMSGSIZE);

	p = wire;
	assert_int_equal(created_fast_cell_parse(&p, wire + sizeof(wire),
		&created_fast), 0);
	assert_ptr_equal(p, wire + 40);
	assert_memory_equal(created_fast.y, wire, 20);
	assert_memory_equal(created_fast.kh, wire + 20, 20);
	assert_int_equal(created_fast_cell_encode(&created_fast, out, 40), 40);
	assert_memory_equal(out, wire, 40);
	assert_int_equal(created_fast_cell_encode(&created_fast, out, 39),
		-EMSGSIZE);

	for (size_t len = 0; len < 40; len++) {
		p = wire;
		if (len < 20)
			assert_int_equal(create_fast_cell_parse(&p, wire + len,
				&create_fast), -EINVAL);
		assert_int_equal(created_fast_cell_parse(&p, wire + len,
			&created_fast), -EINVAL);
		assert_ptr_equal(p, wire);
	}
}

/* NSPEC 5 in the order tor-spec 5.1.2 recommends, plus one unknown type:
 * [00] 192.0.2.1:9001, [02] legacy id 0x11.., [03] Ed25519 id 0x22..,
 * [01] [2001:db8::2]:443, [10] 2 opaque bytes; then CREATE2 ntor. */
#define EXTEND2_WIRE_LEN (1 + 8 + 22 + 34 + 20 + 4 + 4 + NTOR_ONIONSKIN_LEN)

static size_t
build_extend2(uint8_t *wire)
{
	uint8_t *q = wire;

	*q++ = 5;
	memcpy(q, "\x00\x06\xc0\x00\x02\x01\x23\x29", 8);
	q += 8;
	*q++ = 0x02;
	*q++ = 20;
	memset(q, 0x11, 20);
	q += 20;
	*q++ = 0x03;
	*q++ = 32;
	memset(q, 0x22, 32);
	q += 32;
	*q++ = 0x01;
	*q++ = 18;
	memcpy(q, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02\x01\xbb", 18);
	q += 18;
	memcpy(q, "\x10\x02\xab\xcd", 4);
	q += 4;
	memcpy(q, "\x00\x02\x00\x54", 4);
	q += 4;
	fill_pattern(q, NTOR_ONIONSKIN_LEN, 5);
	q += NTOR_ONIONSKIN_LEN;
	return (size_t)(q - wire);
}

static void
test_extend2(void **state)
{
	uint8_t wire[RELAY_DATA_MAX];
	uint8_t out[RELAY_DATA_MAX];
	static struct extend2_cell cell;
	const struct link_specifier *ls = cell.specifiers;
	const uint8_t *p = wire;

	(void)state;
	memset(wire, 0, sizeof(wire));
	assert_int_equal(build_extend2(wire), EXTEND2_WIRE_LEN);
	assert_int_equal(extend2_cell_parse(&p, wire + sizeof(wire), &cell), 0);
	assert_ptr_equal(p, wire + EXTEND2_WIRE_LEN);
	assert_int_equal(cell.n_specifiers, 5);

	assert_int_equal(ls[0].type, LINK_SPECIFIER_IPV4);
	assert_memory_equal(ls[0].u.ipv4.address, "\xc0\x00\x02\x01", 4);
	assert_int_equal(ls[0].u.ipv4.port, 9001);
	assert_int_equal(ls[1].type, LINK_SPECIFIER_LEGACY_ID);
	assert_int_equal(ls[1].u.legacy_id[19], 0x11);
	assert_int_equal(ls[2].type, LINK_SPECIFIER_ED25519_ID);
	assert_int_equal(ls[2].u.ed25519_id[31], 0x22);
	assert_int_equal(ls[3].type, LINK_SPECIFIER_IPV6);
	assert_int_equal(ls[3].u.ipv6.address[0], 0x20);
	assert_int_equal(ls[3].u.ipv6.address[15], 0x02);
	assert_int_equal(ls[3].u.ipv6.port, 443);
	assert_int_equal(ls[4].type, 0x10);
	assert_int_equal(ls[4].length, 2);
	assert_memory_equal(ls[4].u.unknown, "\xab\xcd", 2);
	assert_int_equal(cell.create2.htype, HANDSHAKE_TYPE_NTOR);
	assert_int_equal(cell.create2.hlen, NTOR_ONIONSKIN_LEN);
	assert_ptr_equal(cell.create2.hdata, wire + EXTEND2_WIRE_LEN -
		NTOR_ONIONSKIN_LEN);

	assert_int_equal(extend2_cell_encode(&cell, out, sizeof(out)),
		EXTEND2_WIRE_LEN);
	assert_memory_equal(out, wire, EXTEND2_WIRE_LEN);
	assert_int_equal(extend2_cell_encode(&cell, out, EXTEND2_WIRE_LEN - 1),
		-EMSGSIZE);

	for (size_t len = 0; len < EXTEND2_WIRE_LEN; len++) {
		p = wire;
		assert_int_equal(extend2_cell_parse(&p, wire + len, &cell),
			-EINVAL);
		assert_ptr_equal(p, wire);
	}
}

static void
test_extend2_bad_specifier_lengths(void **state)
{
	/* Offsets of the LSLEN bytes in build_extend2()'s message and their
	 * correct values. */
	const struct {
		size_t offset;
		uint8_t length;
	} lslen[] = { { 2, 6 }, { 10, 20 }, { 32, 32 }, { 66, 18 } };
	uint8_t wire[RELAY_DATA_MAX + 64];
	uint8_t out[RELAY_DATA_MAX];
	static struct extend2_cell cell;

	(void)state;
	for (size_t i = 0; i < sizeof(lslen) / sizeof(lslen[0]); i++) {
		for (int delta = -1; delta <= 1; delta += 2) {
			const uint8_t *p = wire;

			memset(wire, 0, sizeof(wire));
			build_extend2(wire);
			assert_int_equal(wire[lslen[i].offset], lslen[i].length);
			wire[lslen[i].offset] = (uint8_t)(lslen[i].length + delta);
			assert_int_equal(extend2_cell_parse(&p,
				wire + sizeof(wire), &cell), -EINVAL);
			assert_ptr_equal(p, wire);
		}
	}

	/* An encoder given a known type with the wrong length refuses. */
	memset(wire, 0, sizeof(wire));
	build_extend2(wire);
	{
		const uint8_t *p = wire;

		assert_int_equal(extend2_cell_parse(&p, wire + sizeof(wire),
			&cell), 0);
	}
	cell.specifiers[2].length = 31;
	assert_int_equal(extend2_cell_encode(&cell, out, sizeof(out)), -EINVAL);
}

static void
test_extend2_oversize(void **state)
{
	/* One 255-byte unknown specifier and a 238-byte handshake: 1 + 257 +
	 * 4 + 238 = 500 > 498. */
	static uint8_t wire[600];
	uint8_t out[RELAY_DATA_MAX];
	static struct extend2_cell cell;
	const uint8_t *p = wire;

	(void)state;
	memset(wire, 0x44, sizeof(wire));
	wire[0] = 1;
	wire[1] = 0x80;
	wire[2] = 255;
	wire[258] = 0x00;
	wire[259] = 0x02;
	wire[260] = 0x00;
	wire[261] = 238;
	assert_int_equal(extend2_cell_parse(&p, wire + sizeof(wire), &cell),
		-EINVAL);
	assert_ptr_equal(p, wire);

	/* 236 bytes make exactly 498. */
	wire[261] = 236;
	assert_int_equal(extend2_cell_parse(&p, wire + sizeof(wire), &cell), 0);
	assert_ptr_equal(p, wire + RELAY_DATA_MAX);
	assert_int_equal(extend2_cell_encode(&cell, out, sizeof(out)),
		RELAY_DATA_MAX);
	assert_memory_equal(out, wire, RELAY_DATA_MAX);
	cell.create2.hlen = 237;
	assert_int_equal(extend2_cell_encode(&cell, out, sizeof(out)),
		-EMSGSIZE);

	/* NSPEC 255 with nothing behind it. */
	memset(wire, 0, sizeof(wire));
	wire[0] = 255;
	p = wire;
	assert_int_equal(extend2_cell_parse(&p, wire + RELAY_DATA_MAX, &cell),
		-EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create2),
		cmocka_unit_test(test_create2_limits),
		cmocka_unit_test(test_created2_extended2),
		cmocka_unit_test(test_create_fast),
		cmocka_unit_test(test_extend2),
		cmocka_unit_test(test_extend2_bad_specifier_lengths),
		cmocka_unit_test(test_extend2_oversize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
