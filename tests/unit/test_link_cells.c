/* Unit tests for control/link_cells.{c,h}: VERSIONS, CERTS, AUTH_CHALLENGE,
 * AUTHENTICATE / AUTH0003 and NETINFO bodies against byte strings laid out by
 * hand from tor-spec 4.1-4.5. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "control/link_cells.h"
#include "dataplane/cell.h"
#include "tor_link_capture.h"

static void
test_versions(void **state)
{
	/* What tor 0.4.9 offers: link protocols 3, 4 and 5. */
	const uint8_t wire[] = { 0x00, 0x03, 0x00, 0x04, 0x00, 0x05 };
	const uint16_t ours_45[] = { 4, 5 };
	const uint16_t ours_3[] = { 3 };
	const uint16_t ours_6[] = { 6, 7 };
	const uint16_t list[] = { 3, 4, 5 };
	struct versions_cell cell;
	const uint8_t *p = wire;
	uint8_t out[sizeof(wire)];

	(void)state;
	assert_int_equal(versions_cell_parse(&p, wire + sizeof(wire), &cell), 0);
	assert_ptr_equal(p, wire + sizeof(wire));
	assert_int_equal(cell.n_versions, 3);
	assert_int_equal(versions_cell_version(&cell, 0), 3);
	assert_int_equal(versions_cell_version(&cell, 2), 5);
	assert_int_equal(versions_cell_highest_common(&cell, ours_45, 2), 5);
	assert_int_equal(versions_cell_highest_common(&cell, ours_3, 1), 3);
	assert_int_equal(versions_cell_highest_common(&cell, ours_6, 2), 0);
	assert_int_equal(versions_cell_highest_common(&cell, NULL, 0), 0);

	assert_int_equal(versions_cell_encode(list, 3, out, sizeof(out)), 6);
	assert_memory_equal(out, wire, sizeof(wire));
	assert_int_equal(versions_cell_encode(list, 3, out, 5), -EMSGSIZE);

	/* Every truncation: odd lengths are malformed, even ones are shorter
	 * lists. */
	for (size_t len = 0; len < sizeof(wire); len++) {
		p = wire;
		if (len % 2 == 1) {
			assert_int_equal(versions_cell_parse(&p, wire + len,
				&cell), -EINVAL);
			assert_ptr_equal(p, wire);
		} else {
			assert_int_equal(versions_cell_parse(&p, wire + len,
				&cell), 0);
			assert_int_equal(cell.n_versions, len / 2);
		}
	}
}

/* N=2: an Ed25519 id->signing cert of 3 bytes and an empty RSA->Ed cross
 * cert, then one byte of padding. */
static const uint8_t certs_wire[] = {
	0x02,
	0x04, 0x00, 0x03, 0xaa, 0xbb, 0xcc,
	0x07, 0x00, 0x00,
	0xff,
};

static void
test_certs(void **state)
{
	static struct certs_cell cell;
	const struct certs_cell_entry *entry;
	const uint8_t *p = certs_wire;
	uint8_t out[sizeof(certs_wire)];

	(void)state;
	assert_int_equal(certs_cell_parse(&p, certs_wire + sizeof(certs_wire),
		&cell), 0);
	assert_ptr_equal(p, certs_wire + 10);
	assert_int_equal(cell.n_certs, 2);
	assert_int_equal(cell.certs[0].type, CERT_TYPE_ED_ID_SIGNING);
	assert_int_equal(cell.certs[0].length, 3);
	assert_ptr_equal(cell.certs[0].body, certs_wire + 4);
	assert_int_equal(cell.certs[1].type, CERT_TYPE_RSA_ED_CROSSCERT);
	assert_int_equal(cell.certs[1].length, 0);
	assert_int_equal(certs_cell_count_type(&cell, 4), 1);
	assert_int_equal(certs_cell_count_type(&cell, 2), 0);
	entry = certs_cell_find(&cell, CERT_TYPE_RSA_ED_CROSSCERT);
	assert_ptr_equal(entry, &cell.certs[1]);
	assert_null(certs_cell_find(&cell, CERT_TYPE_RSA_ID));

	assert_int_equal(certs_cell_encode(&cell, out, sizeof(out)), 10);
	assert_memory_equal(out, certs_wire, 10);
	assert_int_equal(certs_cell_encode(&cell, out, 9), -EMSGSIZE);

	for (size_t len = 0; len < 10; len++) {
		p = certs_wire;
		assert_int_equal(certs_cell_parse(&p, certs_wire + len, &cell),
			-EINVAL);
		assert_ptr_equal(p, certs_wire);
	}
}

static void
test_certs_duplicates_and_oversize(void **state)
{
	const uint8_t dup[] = { 0x02, 0x04, 0x00, 0x01, 0xaa,
		0x04, 0x00, 0x01, 0xbb };
	/* CLEN 0xffff with only two body bytes. */
	const uint8_t oversize[] = { 0x01, 0x02, 0xff, 0xff, 0x00, 0x00 };
	static struct certs_cell cell;
	static uint8_t big_body[CELL_VAR_PAYLOAD_MAX];
	static uint8_t out[CELL_VAR_PAYLOAD_MAX + 8];
	const uint8_t *p = dup;

	(void)state;
	assert_int_equal(certs_cell_parse(&p, dup + sizeof(dup), &cell), 0);
	assert_int_equal(certs_cell_count_type(&cell, 4), 2);
	assert_ptr_equal(certs_cell_find(&cell, 4), &cell.certs[0]);

	p = oversize;
	assert_int_equal(certs_cell_parse(&p, oversize + sizeof(oversize),
		&cell), -EINVAL);

	/* A cert body that does not fit a variable-length cell. */
	cell.n_certs = 1;
	cell.certs[0].type = 1;
	cell.certs[0].length = CELL_VAR_PAYLOAD_MAX - 4;
	cell.certs[0].body = big_body;
	assert_int_equal(certs_cell_encode(&cell, out, sizeof(out)),
		CELL_VAR_PAYLOAD_MAX);
	cell.certs[0].length = CELL_VAR_PAYLOAD_MAX - 3;
	assert_int_equal(certs_cell_encode(&cell, out, sizeof(out)),
		-EMSGSIZE);
}

static void
test_auth_challenge(void **state)
{
	uint8_t wire[AUTH_CHALLENGE_LEN + 6 + 2];
	const uint16_t methods[] = { 1, 3 };
	struct auth_challenge_cell cell;
	const uint8_t *p = wire;
	uint8_t out[AUTH_CHALLENGE_LEN + 6];

	(void)state;
	for (size_t i = 0; i < AUTH_CHALLENGE_LEN; i++)
		wire[i] = (uint8_t)i;
	memcpy(wire + AUTH_CHALLENGE_LEN,
		"\x00\x02\x00\x01\x00\x03\xee\xee", 8);

	assert_int_equal(auth_challenge_cell_parse(&p, wire + sizeof(wire),
		&cell), 0);
	assert_ptr_equal(p, wire + AUTH_CHALLENGE_LEN + 6);
	assert_memory_equal(cell.challenge, wire, AUTH_CHALLENGE_LEN);
	assert_int_equal(cell.n_methods, 2);
	assert_int_equal(auth_challenge_cell_method(&cell, 0), 1);
	assert_int_equal(auth_challenge_cell_method(&cell, 1), 3);
	assert_true(auth_challenge_cell_has_method(&cell,
		AUTH_METHOD_ED25519_SHA256_RFC5705));
	assert_false(auth_challenge_cell_has_method(&cell, 2));

	assert_int_equal(auth_challenge_cell_encode(cell.challenge, methods, 2,
		out, sizeof(out)), sizeof(out));
	assert_memory_equal(out, wire, sizeof(out));
	assert_int_equal(auth_challenge_cell_encode(cell.challenge, methods, 2,
		out, sizeof(out) - 1), -EMSGSIZE);

	for (size_t len = 0; len < AUTH_CHALLENGE_LEN + 6; len++) {
		p = wire;
		assert_int_equal(auth_challenge_cell_parse(&p, wire + len,
			&cell), -EINVAL);
		assert_ptr_equal(p, wire);
	}
}

/* "AUTH0003", then CID, SID, CID_ED, SID_ED, SLOG, CLOG, SCERT, TLSSECRETS
 * filled with 0x01..0x08, RAND with 0x09, SIG with 0x0a. */
static size_t
build_auth0003(uint8_t *out, size_t extra_length)
{
	uint8_t *q = out;

	memcpy(q, "AUTH0003", 8);
	q += 8;
	for (int field = 1; field <= 8; field++) {
		memset(q, field, 32);
		q += 32;
	}
	memset(q, 0x09, 24);
	q += 24;
	memset(q, 0xe0, extra_length);
	q += extra_length;
	memset(q, 0x0a, 64);
	q += 64;
	return (size_t)(q - out);
}

static void
test_auth0003(void **state)
{
	uint8_t wire[4 + 352 + 8];
	uint8_t *auth = wire + 4;
	uint8_t out[sizeof(wire)];
	uint8_t expect_field[32];
	struct authenticate_cell cell;
	struct auth0003_body body;
	const uint8_t *p = wire;
	const uint8_t *q;

	(void)state;
	assert_int_equal(AUTH0003_FIXED_LEN, 288);
	wire[0] = 0x00;
	wire[1] = 0x03;
	wire[2] = 0x01;
	wire[3] = 0x60;
	assert_int_equal(build_auth0003(auth, 0), 352);
	memset(wire + 4 + 352, 0, 8);

	assert_int_equal(authenticate_cell_parse(&p, wire + sizeof(wire),
		&cell), 0);
	assert_ptr_equal(p, wire + 4 + 352);
	assert_int_equal(cell.auth_type, AUTH_METHOD_ED25519_SHA256_RFC5705);
	assert_int_equal(cell.auth_length, 352);
	assert_ptr_equal(cell.auth, auth);
	assert_int_equal(authenticate_cell_encode(&cell, out, sizeof(out)),
		4 + 352);
	assert_memory_equal(out, wire, 4 + 352);
	assert_int_equal(authenticate_cell_encode(&cell, out, 4 + 351),
		-EMSGSIZE);

	q = cell.auth;
	assert_int_equal(auth0003_body_parse(&q, cell.auth + cell.auth_length,
		&body), 0);
	assert_ptr_equal(q, cell.auth + cell.auth_length);
	memset(expect_field, 1, 32);
	assert_memory_equal(body.cid, expect_field, 32);
	memset(expect_field, 3, 32);
	assert_memory_equal(body.cid_ed, expect_field, 32);
	memset(expect_field, 4, 32);
	assert_memory_equal(body.sid_ed, expect_field, 32);
	memset(expect_field, 8, 32);
	assert_memory_equal(body.tlssecrets, expect_field, 32);
	memset(expect_field, 9, 24);
	assert_memory_equal(body.rand, expect_field, 24);
	memset(expect_field, 0x0a, 32);
	assert_memory_equal(body.sig, expect_field, 32);
	assert_memory_equal(body.sig + 32, expect_field, 32);
	assert_int_equal(body.extra_length, 0);
	assert_int_equal(auth0003_body_encode(&body, out, sizeof(out)), 352);
	assert_memory_equal(out, auth, 352);
	assert_int_equal(auth0003_body_encode(&body, out, 351), -EMSGSIZE);

	for (size_t len = 0; len < 4 + 352; len++) {
		p = wire;
		assert_int_equal(authenticate_cell_parse(&p, wire + len, &cell),
			-EINVAL);
		assert_ptr_equal(p, wire);
	}
	for (size_t len = 0; len < 352; len++) {
		q = auth;
		assert_int_equal(auth0003_body_parse(&q, auth + len, &body),
			-EINVAL);
		assert_ptr_equal(q, auth);
	}

	/* Wrong TYPE string. */
	auth[7] = '1';
	q = auth;
	assert_int_equal(auth0003_body_parse(&q, auth + 352, &body), -EINVAL);
	auth[7] = '3';
}

static void
test_auth0003_extra(void **state)
{
	uint8_t auth[352 + 5];
	uint8_t out[sizeof(auth)];
	struct auth0003_body body;
	const uint8_t *q = auth;

	(void)state;
	assert_int_equal(build_auth0003(auth, 5), sizeof(auth));
	assert_int_equal(auth0003_body_parse(&q, auth + sizeof(auth), &body), 0);
	assert_int_equal(body.extra_length, 5);
	assert_ptr_equal(body.extra, auth + 288);
	assert_int_equal(body.sig[0], 0x0a);
	assert_int_equal(body.sig[63], 0x0a);
	assert_int_equal(auth0003_body_encode(&body, out, sizeof(out)),
		sizeof(auth));
	assert_memory_equal(out, auth, sizeof(auth));
}

/* TIME 0x65000000; OTHERADDR IPv4 127.0.0.1; NMYADDR 3: IPv6 2001:db8::1,
 * an unknown type 5 of 3 bytes, IPv4 10.0.0.1; then padding. */
static const uint8_t netinfo_wire[] = {
	0x65, 0x00, 0x00, 0x00,
	0x04, 0x04, 0x7f, 0x00, 0x00, 0x01,
	0x03,
	0x06, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x05, 0x03, 0xaa, 0xbb, 0xcc,
	0x04, 0x04, 0x0a, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00,
};
#define NETINFO_WIRE_USED (sizeof(netinfo_wire) - 3)

static void
test_netinfo(void **state)
{
	static struct netinfo_cell cell;
	const uint8_t *p = netinfo_wire;
	uint8_t out[CELL_PAYLOAD_LEN];

	(void)state;
	assert_int_equal(netinfo_cell_parse(&p,
		netinfo_wire + sizeof(netinfo_wire), &cell), 0);
	assert_ptr_equal(p, netinfo_wire + NETINFO_WIRE_USED);
	assert_int_equal(cell.time, 0x65000000u);
	assert_true(netinfo_address_is_ipv4(&cell.other_address));
	assert_memory_equal(cell.other_address.value, "\x7f\x00\x00\x01", 4);
	assert_int_equal(cell.n_my_addresses, 3);
	assert_true(netinfo_address_is_ipv6(&cell.my_addresses[0]));
	assert_int_equal(cell.my_addresses[0].value[15], 1);
	assert_int_equal(cell.my_addresses[1].type, 5);
	assert_int_equal(cell.my_addresses[1].length, 3);
	assert_false(netinfo_address_is_ipv4(&cell.my_addresses[1]));
	assert_false(netinfo_address_is_ipv6(&cell.my_addresses[1]));
	assert_true(netinfo_address_is_ipv4(&cell.my_addresses[2]));
	assert_memory_equal(cell.my_addresses[2].value, "\x0a\x00\x00\x01", 4);

	assert_int_equal(netinfo_cell_encode(&cell, out, sizeof(out)),
		NETINFO_WIRE_USED);
	assert_memory_equal(out, netinfo_wire, NETINFO_WIRE_USED);
	assert_int_equal(netinfo_cell_encode(&cell, out, NETINFO_WIRE_USED - 1),
		-EMSGSIZE);

	for (size_t len = 0; len < NETINFO_WIRE_USED; len++) {
		p = netinfo_wire;
		assert_int_equal(netinfo_cell_parse(&p, netinfo_wire + len,
			&cell), -EINVAL);
		assert_ptr_equal(p, netinfo_wire);
	}
}

static void
test_netinfo_odd_addresses(void **state)
{
	/* An IPv4 type with a 5-byte value is kept but is not an IPv4
	 * address (tor-spec 4.5: ignored); NMYADDR 0. */
	const uint8_t wire[] = { 0, 0, 0, 0, 0x04, 0x05, 1, 2, 3, 4, 5, 0x00 };
	static struct netinfo_cell cell;
	const uint8_t *p = wire;
	static uint8_t value[16];
	uint8_t out[CELL_PAYLOAD_LEN + 64];

	(void)state;
	assert_int_equal(netinfo_cell_parse(&p, wire + sizeof(wire), &cell), 0);
	assert_ptr_equal(p, wire + sizeof(wire));
	assert_int_equal(cell.other_address.length, 5);
	assert_false(netinfo_address_is_ipv4(&cell.other_address));
	assert_int_equal(cell.n_my_addresses, 0);

	/* Too many addresses for a 509-byte payload. */
	for (unsigned i = 0; i < NETINFO_MAX_MY_ADDRESSES; i++) {
		cell.my_addresses[i].type = NETINFO_ADDRESS_IPV6;
		cell.my_addresses[i].length = 16;
		cell.my_addresses[i].value = value;
	}
	cell.n_my_addresses = 27;
	/* 4 + 7 + 1 + 27 * 18 = 498 fits; 28 addresses (516) do not. */
	assert_int_equal(netinfo_cell_encode(&cell, out, sizeof(out)), 498);
	cell.n_my_addresses = 28;
	assert_int_equal(netinfo_cell_encode(&cell, out, sizeof(out)),
		-EMSGSIZE);
}


static void
test_tor_responder_stream(void **state)
{
	static const struct {
		uint8_t type;
		uint16_t length;
	} expected_certs[] = {
		{ 1, 582 }, { 2, 452 }, { 4, 140 }, { 5, 104 }, { 7, 165 },
	};
	static struct certs_cell certs;
	static struct netinfo_cell netinfo;
	static uint8_t out[sizeof(tor_responder_stream)];
	const uint8_t *p = tor_responder_stream;
	const uint8_t *end = p + sizeof(tor_responder_stream);
	const uint8_t *start;
	const uint8_t *q;
	struct cell_frame frame;
	struct versions_cell versions;
	struct auth_challenge_cell challenge;
	const uint16_t ours[] = { 3, 4, 5 };
	size_t out_used = 0;

	(void)state;
	/* VERSIONS, always with a 2-byte circ id. */
	assert_int_equal(cell_frame_parse(&p, end, CELL_CIRC_ID_LEN_LEGACY,
		&frame, NULL), 0);
	assert_int_equal(frame.command, CELL_COMMAND_VERSIONS);
	q = frame.payload;
	assert_int_equal(versions_cell_parse(&q, q + frame.payload_len,
		&versions), 0);
	assert_int_equal(versions.n_versions, 3);
	assert_int_equal(versions_cell_highest_common(&versions, ours, 3), 5);
	out_used += (size_t)cell_frame_encode(&frame, out + out_used,
		sizeof(out) - out_used);

	/* CERTS: link, RSA identity, Ed25519 id->signing, signing->link, and
	 * the RSA->Ed25519 cross-certificate. */
	start = p;
	assert_int_equal(cell_frame_parse(&p, end, CELL_CIRC_ID_LEN, &frame,
		NULL), 0);
	assert_int_equal(frame.command, CELL_COMMAND_CERTS);
	assert_int_equal(frame.circ_id, 0);
	q = frame.payload;
	assert_int_equal(certs_cell_parse(&q, q + frame.payload_len, &certs), 0);
	assert_ptr_equal(q, frame.payload + frame.payload_len);
	assert_int_equal(certs.n_certs, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(certs.certs[i].type, expected_certs[i].type);
		assert_int_equal(certs.certs[i].length,
			expected_certs[i].length);
		assert_int_equal(certs_cell_count_type(&certs,
			expected_certs[i].type), 1);
	}
	/* Ed25519 certificates start with version 1 and their cert type
	 * (cert-spec 2.1): 04 for id->signing, 05 for signing->link. */
	assert_int_equal(certs.certs[2].body[0], 1);
	assert_int_equal(certs.certs[2].body[1], 4);
	assert_int_equal(certs.certs[3].body[1], 5);
	assert_int_equal(certs_cell_encode(&certs, out + out_used + 7,
		sizeof(out) - out_used - 7), frame.payload_len);
	assert_memory_equal(out + out_used + 7, frame.payload,
		frame.payload_len);
	out_used += (size_t)cell_frame_encode(&frame, out + out_used,
		sizeof(out) - out_used);
	assert_memory_equal(out, tor_responder_stream, (size_t)(p -
		tor_responder_stream));
	assert_ptr_equal(start, tor_responder_stream + 11);

	/* AUTH_CHALLENGE offering only Ed25519-SHA256-RFC5705. */
	assert_int_equal(cell_frame_parse(&p, end, CELL_CIRC_ID_LEN, &frame,
		NULL), 0);
	assert_int_equal(frame.command, CELL_COMMAND_AUTH_CHALLENGE);
	assert_int_equal(frame.payload_len, 36);
	q = frame.payload;
	assert_int_equal(auth_challenge_cell_parse(&q, q + frame.payload_len,
		&challenge), 0);
	assert_int_equal(challenge.n_methods, 1);
	assert_int_equal(auth_challenge_cell_method(&challenge, 0),
		AUTH_METHOD_ED25519_SHA256_RFC5705);
	out_used += (size_t)cell_frame_encode(&frame, out + out_used,
		sizeof(out) - out_used);

	/* NETINFO: other address 127.0.0.1, one address of its own. */
	assert_int_equal(cell_frame_parse(&p, end, CELL_CIRC_ID_LEN, &frame,
		NULL), 0);
	assert_int_equal(frame.command, CELL_COMMAND_NETINFO);
	assert_int_equal(frame.payload_len, CELL_PAYLOAD_LEN);
	q = frame.payload;
	assert_int_equal(netinfo_cell_parse(&q, q + frame.payload_len,
		&netinfo), 0);
	assert_ptr_equal(q, frame.payload + 17);
	assert_int_equal(netinfo.time, 0x6b0dfa6du);
	assert_true(netinfo_address_is_ipv4(&netinfo.other_address));
	assert_memory_equal(netinfo.other_address.value, "\x7f\x00\x00\x01", 4);
	assert_int_equal(netinfo.n_my_addresses, 1);
	assert_true(netinfo_address_is_ipv4(&netinfo.my_addresses[0]));
	assert_int_equal(netinfo_cell_encode(&netinfo, out + out_used + 5,
		sizeof(out) - out_used - 5), 17);
	assert_memory_equal(out + out_used + 5, frame.payload, 17);
	out_used += (size_t)cell_frame_encode(&frame, out + out_used,
		sizeof(out) - out_used);

	assert_ptr_equal(p, end);
	assert_int_equal(out_used, sizeof(tor_responder_stream));
	assert_memory_equal(out, tor_responder_stream, out_used);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_certs),
		cmocka_unit_test(test_certs_duplicates_and_oversize),
		cmocka_unit_test(test_auth_challenge),
		cmocka_unit_test(test_auth0003),
		cmocka_unit_test(test_auth0003_extra),
		cmocka_unit_test(test_netinfo),
		cmocka_unit_test(test_netinfo_odd_addresses),
		cmocka_unit_test(test_tor_responder_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
