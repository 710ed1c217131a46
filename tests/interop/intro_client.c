/* intro_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR
 *
 * An onion service and its clients against hsrelay as introduction point
 * (rend-spec-v3 3.1, 3.2; run by relay_intro.sh), built on test_client.h.
 * Three links: S (the service's, unauthenticated, as a single-onion
 * service connects), C (the clients', authenticated as a relay so that the
 * previous hop is not a client, as when a tor client's circuit arrives
 * from its middle relay) and U (unauthenticated: a one-hop client).
 * Circuits are CREATE_FAST; KH is the 20 bytes after Y in CREATED_FAST
 * (tor-spec 5.1.5), the MAC key of ESTABLISH_INTRO.
 *
 * Scenarios, each with the relay's exact answer checked:
 *   1. ESTABLISH_INTRO on s1 for auth key A, signed with A, MAC from s1's
 *      KH, with the DoS extension (rate 1/s, burst 3) -> INTRO_ESTABLISHED
 *      (body 00) on s1;
 *   2. INTRODUCE1 for A on c1 -> INTRODUCE_ACK 0000 on c1 and INTRODUCE2
 *      on s1 with the identical body;
 *   3. INTRODUCE1 for an unknown key -> ACK 0001; auth key type 01 -> ACK
 *      0002; no INTRODUCE2 for either;
 *   4. closes without an ACK (DESTROY PROTOCOL): a second INTRODUCE1 on c1,
 *      a 10-byte INTRODUCE1, an INTRODUCE1 from the one-hop client on U;
 *      ESTABLISH_INTRO with a MAC keyed by another circuit's KH, with a
 *      flipped signature bit, and a second one on s1;
 *   5. a flood of 8 INTRODUCE1 for A on fresh circuits: the bucket (burst
 *      3, one token taken by scenario 2) lets some through and answers the
 *      rest with 0001 (rate limited), every passed one arriving as
 *      INTRODUCE2; after 2.2 s, a legitimate INTRODUCE1 passes again;
 *   6. a newer ESTABLISH_INTRO for A on s3 -> INTRO_ESTABLISHED on s3 and
 *      DESTROY s1 FINISHED; INTRODUCE1 for A then arrives on s3;
 *   7. the service destroys s3 -> INTRODUCE1 for A is answered 0001
 *      (the relay forgot the key when the worker reported the close);
 *   8. the relay still answers a CREATE_FAST on a new link.
 * Prints "ok: ..." or "FAIL: ..." per scenario and an "expect:" line with
 * the counters hsrelay must print at exit. Exit 0 when every scenario
 * passed, 1 otherwise, 2 for a bad command line; alarm after 50 s.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/hs_cells.h"
#include "crypto/tor_keys.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"
#include "tests/interop/test_client.h"

static struct test_link link_s, link_c, link_u, link_z;
static struct ed25519_keypair key_a;
static unsigned failures;

/* What hsrelay must count (tor's metric label values). */
static struct {
	unsigned est_success, est_malformed, est_unsuitable;
	unsigned intro1_success, intro1_malformed, intro1_unknown, intro1_rate_limited;
	unsigned intro1_reused, intro1_single_hop, replaced;
} expected;

/* A circuit with the KH the relay derived for it. */
struct circ {
	struct test_hop hop;
	uint8_t kh[HS_CIRCUIT_KH_LEN];
};

static bool
create(struct test_link *l, struct circ *c)
{
	uint32_t circ_id = test_new_circ_id();
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN];
	struct test_cell reply;

	test_create_fast_cell(cell, circ_id, x);
	test_link_send_cell(l, cell);
	if (!test_link_expect(l, circ_id, CELL_COMMAND_CREATED_FAST, -1, &reply) ||
	    !test_create_fast_complete(&c->hop, circ_id, x, &reply))
		return false;
	/* tor-spec 5.1.5: CREATED_FAST = Y | KH. */
	memcpy(c->kh, reply.payload + CREATE_FAST_KEY_LEN, HS_CIRCUIT_KH_LEN);
	return true;
}

static void
send_relay(struct test_link *l, struct circ *c, uint8_t command, const uint8_t *body,
		size_t len)
{
	uint8_t cell[CELL_LEN];

	test_relay_cell(&c->hop, cell, CELL_COMMAND_RELAY, command, 0, body, (uint16_t)len);
	test_link_send_cell(l, cell);
}

/* The next cell on l must be a relay cell for us on c with relay command
 * command; its body goes to body/len. */
static bool
expect_relay(struct test_link *l, struct circ *c, uint8_t command, uint8_t *body, size_t *len)
{
	struct test_cell cell;
	const uint8_t *p;
	uint16_t n;

	if (!test_link_expect(l, c->hop.circ_id, CELL_COMMAND_RELAY, -1, &cell) ||
	    !test_relay_cell_open(&c->hop, &cell))
		return false;
	p = cell.payload;
	n = wire_read_u16(p + RELAY_OFFSET_LENGTH);
	if (p[RELAY_OFFSET_COMMAND] != command)
		return test_why("relay command %u on 0x%08x, wanted %u", p[RELAY_OFFSET_COMMAND],
				c->hop.circ_id, command);
	if (wire_read_u16(p + RELAY_OFFSET_STREAM_ID) != 0)
		return test_why("relay command %u with a stream id", command);
	if (n > RELAY_DATA_MAX)
		return test_why("relay length %u", n);
	memcpy(body, p + RELAY_HEADER_LEN, n);
	*len = n;
	return true;
}

static bool
expect_ack(struct circ *c, uint16_t status)
{
	uint8_t body[RELAY_DATA_MAX];
	size_t len;
	const uint8_t *p = body;
	uint16_t got;
	struct hs_extension_list ext;

	if (!expect_relay(&link_c, c, RELAY_COMMAND_INTRODUCE_ACK, body, &len))
		return false;
	if (len != INTRODUCE_ACK_LEN || introduce_ack_parse(&p, body + len, &got, &ext) != 0 ||
	    ext.count != 0)
		return test_why("INTRODUCE_ACK body of %zu bytes does not parse", len);
	if (got != status)
		return test_why("INTRODUCE_ACK status %04x, wanted %04x", got, status);
	return true;
}

static bool
establish(struct circ *s, const struct ed25519_keypair *key, const uint8_t *kh,
		uint64_t rate, uint64_t burst, bool flip_signature)
{
	uint8_t body[RELAY_DATA_MAX], ext[64];
	ssize_t ext_len = 0, len;

	if (rate != 0) {
		ext_len = hs_dos_extension_list_build(rate, burst, ext, sizeof(ext));
		if (ext_len < 0)
			test_die("hs_dos_extension_list_build");
	}
	len = establish_intro_cell_build(key, kh, ext_len > 0 ? ext : NULL, (size_t)ext_len, body,
			sizeof(body));
	if (len < 0)
		test_die("establish_intro_cell_build");
	if (flip_signature)
		body[len - 1] ^= 0x20;
	send_relay(&link_s, s, RELAY_COMMAND_ESTABLISH_INTRO, body, (size_t)len);
	return true;
}

static bool
expect_established(struct circ *s)
{
	uint8_t body[RELAY_DATA_MAX];
	size_t len;

	if (!expect_relay(&link_s, s, RELAY_COMMAND_INTRO_ESTABLISHED, body, &len))
		return false;
	if (len != INTRO_ESTABLISHED_LEN || body[0] != 0)
		return test_why("INTRO_ESTABLISHED body of %zu bytes, first %02x", len, body[0]);
	return true;
}

/* An INTRODUCE1 body as a tor client lays it out; the encrypted part is
 * random (the intro point must not look into it). */
static size_t
introduce1_body(const uint8_t key[32], uint8_t key_type, uint8_t *out)
{
	size_t n = 0;

	memset(out, 0, INTRODUCE1_LEGACY_KEY_ID_LEN);
	n += INTRODUCE1_LEGACY_KEY_ID_LEN;
	out[n++] = key_type;
	out[n++] = 0;
	out[n++] = 32;
	memcpy(out + n, key, 32);
	n += 32;
	out[n++] = 0;
	test_random_bytes(out + n, 300);
	return n + 300;
}

/* INTRODUCE2 on s must carry exactly body. */
static bool
expect_introduce2(struct circ *s, const uint8_t *body, size_t len)
{
	uint8_t got[RELAY_DATA_MAX];
	size_t got_len;

	if (!expect_relay(&link_s, s, RELAY_COMMAND_INTRODUCE2, got, &got_len))
		return false;
	if (got_len != len || memcmp(got, body, len) != 0)
		return test_why("INTRODUCE2 of %zu bytes differs from the INTRODUCE1 (%zu)", got_len,
				len);
	return true;
}

static void
report(bool ok, const char *what)
{
	if (ok) {
		printf("ok: %s\n", what);
	} else {
		printf("FAIL: %s: %s\n", what, test_detail);
		failures++;
	}
	fflush(stdout);
}

static struct circ s1, s3;

static bool
scenario_establish(void)
{
	if (!create(&link_s, &s1))
		return false;
	establish(&s1, &key_a, s1.kh, 1, 3, false);
	if (!expect_established(&s1))
		return false;
	expected.est_success++;
	return true;
}

static struct circ c1;

static bool
scenario_introduce(void)
{
	uint8_t body[RELAY_DATA_MAX];
	size_t len = introduce1_body(key_a.public_key, HS_AUTH_KEY_TYPE_ED25519, body);

	if (!create(&link_c, &c1))
		return false;
	send_relay(&link_c, &c1, RELAY_COMMAND_INTRODUCE1, body, len);
	if (!expect_ack(&c1, INTRODUCE_ACK_SUCCESS) || !expect_introduce2(&s1, body, len))
		return false;
	expected.intro1_success++;
	return true;
}

static bool
scenario_nacks(void)
{
	uint8_t body[RELAY_DATA_MAX], unknown[32];
	struct circ c2, c3;
	size_t len;

	test_random_bytes(unknown, sizeof(unknown));
	if (!create(&link_c, &c2) || !create(&link_c, &c3))
		return false;
	len = introduce1_body(unknown, HS_AUTH_KEY_TYPE_ED25519, body);
	send_relay(&link_c, &c2, RELAY_COMMAND_INTRODUCE1, body, len);
	if (!expect_ack(&c2, INTRODUCE_ACK_UNKNOWN_ID))
		return false;
	expected.intro1_unknown++;
	len = introduce1_body(key_a.public_key, HS_AUTH_KEY_TYPE_LEGACY1, body);
	send_relay(&link_c, &c3, RELAY_COMMAND_INTRODUCE1, body, len);
	if (!expect_ack(&c3, INTRODUCE_ACK_BAD_FORMAT))
		return false;
	expected.intro1_malformed++;
	return true;
}

static bool
scenario_closes(void)
{
	uint8_t body[RELAY_DATA_MAX];
	struct circ c4, u1, s2, s4;
	size_t len = introduce1_body(key_a.public_key, HS_AUTH_KEY_TYPE_ED25519, body);

	/* One introduction per circuit. */
	send_relay(&link_c, &c1, RELAY_COMMAND_INTRODUCE1, body, len);
	if (!test_link_expect(&link_c, c1.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.intro1_reused++;
	/* Shorter than 20 bytes. */
	if (!create(&link_c, &c4))
		return false;
	send_relay(&link_c, &c4, RELAY_COMMAND_INTRODUCE1, body, 10);
	if (!test_link_expect(&link_c, c4.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.intro1_malformed++;
	/* A one-hop client. */
	if (!create(&link_u, &u1))
		return false;
	send_relay(&link_u, &u1, RELAY_COMMAND_INTRODUCE1, body, len);
	if (!test_link_expect(&link_u, u1.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.intro1_single_hop++;
	/* ESTABLISH_INTRO with s1's KH on s2, then with a bad signature. */
	if (!create(&link_s, &s2) || !create(&link_s, &s4))
		return false;
	establish(&s2, &key_a, s1.kh, 0, 0, false);
	if (!test_link_expect(&link_s, s2.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL))
		return false;
	establish(&s4, &key_a, s4.kh, 0, 0, true);
	if (!test_link_expect(&link_s, s4.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.est_malformed += 2;
	return true;
}

/* Runs last among the closes: s1 must survive the others. A second
 * ESTABLISH_INTRO on s1 closes it, so this is checked on a copy. */
static bool
scenario_second_establish(void)
{
	struct circ s5;
	struct ed25519_keypair key_b;

	if (ed25519_keypair_generate(&key_b) != 0)
		test_die("ed25519_keypair_generate");
	if (!create(&link_s, &s5))
		return false;
	establish(&s5, &key_b, s5.kh, 0, 0, false);
	if (!expect_established(&s5))
		return false;
	expected.est_success++;
	establish(&s5, &key_b, s5.kh, 0, 0, false);
	if (!test_link_expect(&link_s, s5.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.est_unsuitable++;
	return true;
}

static bool
scenario_flood(void)
{
	enum { FLOOD = 8 };
	static struct circ c[FLOOD + 1];
	uint8_t body[FLOOD + 1][RELAY_DATA_MAX];
	size_t len[FLOOD + 1];
	unsigned passed = 0, limited = 0;
	uint8_t status_of[FLOOD] = { 0 };	/* 1: ACK 0000, 2: ACK 0001 */

	for (unsigned i = 0; i <= FLOOD; i++) {
		if (!create(&link_c, &c[i]))
			return false;
		len[i] = introduce1_body(key_a.public_key, HS_AUTH_KEY_TYPE_ED25519, body[i]);
	}
	for (unsigned i = 0; i < FLOOD; i++)
		send_relay(&link_c, &c[i], RELAY_COMMAND_INTRODUCE1, body[i], len[i]);
	/* An ACK for a relayed INTRODUCE1 waits for the worker's word on its
	 * INTRODUCE2 (intro_point.h), so ACKs may come in another order
	 * than the INTRODUCE1s across circuits: each is matched by circuit. */
	for (unsigned k = 0; k < FLOOD; k++) {
		struct test_cell cell;
		const uint8_t *p;
		uint16_t status, n;
		struct hs_extension_list ext;
		unsigned i = 0;

		if (test_link_next_cell(&link_c, &cell, TEST_IO_TIMEOUT_MS) != 1)
			return test_why("flood: %u ACKs of %u", k, FLOOD);
		while (i < FLOOD && (c[i].hop.circ_id != cell.circ_id || status_of[i] != 0))
			i++;
		if (i == FLOOD || cell.command != CELL_COMMAND_RELAY ||
		    !test_relay_cell_open(&c[i].hop, &cell))
			return test_why("flood: a cell on 0x%08x that is no awaited ACK",
					cell.circ_id);
		p = cell.payload + RELAY_HEADER_LEN;
		n = wire_read_u16(cell.payload + RELAY_OFFSET_LENGTH);
		if (cell.payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_INTRODUCE_ACK ||
		    n > RELAY_DATA_MAX || introduce_ack_parse(&p, p + n, &status, &ext) != 0)
			return test_why("flood: no INTRODUCE_ACK on 0x%08x", cell.circ_id);
		if (status != INTRODUCE_ACK_SUCCESS && status != INTRODUCE_ACK_UNKNOWN_ID)
			return test_why("flood: ACK status %04x", status);
		status_of[i] = status == INTRODUCE_ACK_SUCCESS ? 1 : 2;
	}
	/* The INTRODUCE2s arrive on the service's link in INTRODUCE1 order. */
	for (unsigned i = 0; i < FLOOD; i++) {
		if (status_of[i] == 1) {
			if (!expect_introduce2(&s1, body[i], len[i]))
				return false;
			passed++;
		} else {
			limited++;
		}
	}
	/* Burst 3 with one token taken: 2 at once, plus 1 per second that
	 * passed meanwhile (a few at most). */
	if (limited < FLOOD - 4 || passed < 1)
		return test_why("flood: %u passed, %u rate-limited", passed, limited);
	expected.intro1_success += passed;
	expected.intro1_rate_limited += limited;
	printf("  flood: %u passed, %u rate-limited\n", passed, limited);
	/* After the refill a legitimate introduction passes. */
	usleep(2200 * 1000);
	send_relay(&link_c, &c[FLOOD], RELAY_COMMAND_INTRODUCE1, body[FLOOD], len[FLOOD]);
	if (!expect_ack(&c[FLOOD], INTRODUCE_ACK_SUCCESS) ||
	    !expect_introduce2(&s1, body[FLOOD], len[FLOOD]))
		return false;
	expected.intro1_success++;
	return true;
}

static bool
scenario_replace(void)
{
	uint8_t body[RELAY_DATA_MAX];
	size_t len = introduce1_body(key_a.public_key, HS_AUTH_KEY_TYPE_ED25519, body);
	struct circ c5;

	if (!create(&link_s, &s3))
		return false;
	establish(&s3, &key_a, s3.kh, 0, 0, false);
	if (!expect_established(&s3) ||
	    !test_link_expect(&link_s, s1.hop.circ_id, CELL_COMMAND_DESTROY,
			DESTROY_REASON_FINISHED, NULL))
		return false;
	expected.est_success++;
	expected.replaced++;
	if (!create(&link_c, &c5))
		return false;
	send_relay(&link_c, &c5, RELAY_COMMAND_INTRODUCE1, body, len);
	if (!expect_ack(&c5, INTRODUCE_ACK_SUCCESS) || !expect_introduce2(&s3, body, len))
		return false;
	expected.intro1_success++;
	return true;
}

static bool
scenario_service_gone(void)
{
	uint8_t cell[CELL_LEN], body[RELAY_DATA_MAX];
	size_t len = introduce1_body(key_a.public_key, HS_AUTH_KEY_TYPE_ED25519, body);
	struct circ c6;

	/* c6 first: a circuit created after the DESTROY could take s3's
	 * freed slot, and the relay would then drop s3's state for that
	 * reason instead of the close report this checks. */
	if (!create(&link_c, &c6))
		return false;
	test_cell_start(cell, s3.hop.circ_id, CELL_COMMAND_DESTROY);
	cell_wire_payload(cell)[0] = DESTROY_REASON_FINISHED;
	test_link_send_cell(&link_s, cell);
	/* The close travels worker -> control before the next cell does. */
	usleep(300 * 1000);
	send_relay(&link_c, &c6, RELAY_COMMAND_INTRODUCE1, body, len);
	if (!expect_ack(&c6, INTRODUCE_ACK_UNKNOWN_ID))
		return false;
	expected.intro1_unknown++;
	return true;
}

static bool
scenario_still_serving(void)
{
	struct circ z;

	if (!test_link_open(&link_z, "Z"))
		return false;
	return create(&link_z, &z);
}

int
main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: intro_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR\n");
		return 2;
	}
	alarm(50);
	test_client_init("intro_client", argv[1], argv[2]);
	test_client_load_keys(argv[3], argv[4]);
	if (ed25519_keypair_generate(&key_a) != 0)
		test_die("ed25519_keypair_generate");
	if (!test_link_open(&link_s, "S"))
		test_die("link S: %s", test_detail);
	if (!test_link_open(&link_u, "U"))
		test_die("link U: %s", test_detail);
	test_client_authenticate = true;
	if (!test_link_open(&link_c, "C"))
		test_die("link C (authenticated): %s", test_detail);
	test_client_authenticate = false;

	report(scenario_establish(), "1. ESTABLISH_INTRO with the DoS extension -> INTRO_ESTABLISHED");
	if (failures == 0) {
		report(scenario_introduce(), "2. INTRODUCE1 -> ACK 0000 and the same body as INTRODUCE2");
		report(scenario_nacks(), "3. unknown key -> ACK 0001, key type 01 -> ACK 0002");
		report(scenario_closes(), "4. reused, short, one-hop INTRODUCE1 and bad MAC/signature "
				"ESTABLISH_INTRO -> DESTROY PROTOCOL");
		report(scenario_second_establish(), "4b. a second ESTABLISH_INTRO on an intro circuit "
				"-> DESTROY PROTOCOL");
		report(scenario_flood(), "5. INTRODUCE1 flood rate-limited (0001), passes after refill");
		report(scenario_replace(), "6. newer ESTABLISH_INTRO for the key -> older DESTROY "
				"FINISHED, INTRODUCE2 on the newer");
		report(scenario_service_gone(), "7. service circuit destroyed -> ACK 0001");
	}
	report(scenario_still_serving(), "8. a new link and circuit after all that");
	printf("expect: est_intro_success=%u est_intro_malformed=%u est_intro_unsuitable_circuit=%u"
			" intro1_success=%u intro1_malformed=%u intro1_unknown_service=%u"
			" intro1_rate_limited=%u introduce2_rejected=%u intro1_circuit_reused=%u"
			" intro1_single_hop=%u replaced=%u\n",
			expected.est_success, expected.est_malformed, expected.est_unsuitable,
			expected.intro1_success, expected.intro1_malformed, expected.intro1_unknown,
			expected.intro1_rate_limited, expected.intro1_rate_limited,
			expected.intro1_reused, expected.intro1_single_hop, expected.replaced);
	test_link_close(&link_s);
	test_link_close(&link_c);
	test_link_close(&link_u);
	test_link_close(&link_z);
	test_client_free();
	return failures == 0 ? 0 : 1;
}
