/* Unit tests for control/intro_point.{c,h}: cells built with hs_cells.c
 * (signed with a fresh Ed25519 key, MAC keyed with a test KH), a recording
 * fake for the callbacks, and time passed in. Every outcome asserts on the
 * exact relay messages, closes and counters tor 0.4.9 would produce. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "control/hs_cells.h"
#include "control/intro_point.h"
#include "dataplane/cell.h"

#define MAX_EVENTS 2048

struct sent {
	struct intro_circuit circ;
	uint8_t command;
	uint8_t body[RELAY_DATA_MAX];
	size_t len;
	uint32_t confirm;	/* send_confirmed's id; 0 for send */
};

struct closed {
	struct intro_circuit circ;
	uint8_t reason;
};

struct recorder {
	struct sent sent[MAX_EVENTS];
	unsigned n_sent;
	struct closed closed[MAX_EVENTS];
	unsigned n_closed;
	unsigned n_watched;
	struct intro_circuit watched[MAX_EVENTS];
	struct gone {
		struct intro_circuit circ;
		uint8_t auth_key[HS_AUTH_KEY_LEN];
		uint64_t introduce2;
	} gone[MAX_EVENTS];
	unsigned n_gone;
	int send_result;
};

static int
rec_send(void *ctx, const struct intro_circuit *circ, uint8_t command, const uint8_t *body,
		size_t len)
{
	struct recorder *r = ctx;

	if (r->send_result < 0)
		return r->send_result;
	assert_true(r->n_sent < MAX_EVENTS);
	assert_true(len <= RELAY_DATA_MAX);
	r->sent[r->n_sent].circ = *circ;
	r->sent[r->n_sent].command = command;
	memcpy(r->sent[r->n_sent].body, body, len);
	r->sent[r->n_sent].len = len;
	r->sent[r->n_sent].confirm = 0;
	r->n_sent++;
	return 0;
}

static int
rec_send_confirmed(void *ctx, const struct intro_circuit *circ, uint8_t command,
		const uint8_t *body, size_t len, uint32_t id)
{
	struct recorder *r = ctx;
	int rc = rec_send(ctx, circ, command, body, len);

	assert_int_not_equal(id, 0);
	if (rc == 0)
		r->sent[r->n_sent - 1].confirm = id;
	return rc;
}

static void
rec_close(void *ctx, const struct intro_circuit *circ, uint8_t reason)
{
	struct recorder *r = ctx;

	assert_true(r->n_closed < MAX_EVENTS);
	r->closed[r->n_closed].circ = *circ;
	r->closed[r->n_closed].reason = reason;
	r->n_closed++;
}

static void
rec_watch(void *ctx, const struct intro_circuit *circ)
{
	struct recorder *r = ctx;

	assert_true(r->n_watched < MAX_EVENTS);
	r->watched[r->n_watched++] = *circ;
}

static void
rec_intro_gone(void *ctx, const struct intro_circuit *circ,
		const uint8_t auth_key[HS_AUTH_KEY_LEN], uint64_t introduce2)
{
	struct recorder *r = ctx;

	assert_true(r->n_gone < MAX_EVENTS);
	r->gone[r->n_gone].circ = *circ;
	memcpy(r->gone[r->n_gone].auth_key, auth_key, HS_AUTH_KEY_LEN);
	r->gone[r->n_gone].introduce2 = introduce2;
	r->n_gone++;
}

struct fixture {
	struct recorder rec;
	struct intro_point *ip;
	struct ed25519_keypair auth_key;
	uint8_t kh[HS_CIRCUIT_KH_LEN];
};

static const struct intro_circuit_info relay_prev = { .previous_hop_is_client = false };

static struct intro_circuit
circuit(uint32_t n)
{
	return (struct intro_circuit){
		.worker = n % 2, .handle = n, .p_link = 0x100000u + n, .p_circ_id = 0x80000000u + n,
	};
}

static bool
same(const struct intro_circuit *a, const struct intro_circuit *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static int
setup(void **state)
{
	static struct fixture f;
	struct intro_point_config cfg = {
		.ops = { .send = rec_send, .close = rec_close, .watch = rec_watch,
			 .intro_gone = rec_intro_gone },
		.ctx = &f.rec,
	};

	memset(&f, 0, sizeof(f));
	cfg.ctx = &f.rec;
	f.ip = intro_point_new(&cfg);
	assert_non_null(f.ip);
	assert_int_equal(ed25519_keypair_generate(&f.auth_key), 0);
	for (unsigned i = 0; i < sizeof(f.kh); i++)
		f.kh[i] = (uint8_t)(0xa0 + i);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	intro_point_free(f->ip);
	return 0;
}

/* A signed ESTABLISH_INTRO for key with MAC key kh; dos_rate/dos_burst
 * != 0: with the DoS extension. */
static size_t
build_establish(const struct ed25519_keypair *key, const uint8_t kh[HS_CIRCUIT_KH_LEN],
		uint64_t dos_rate, uint64_t dos_burst, uint8_t *out, size_t out_len)
{
	uint8_t ext[64];
	ssize_t ext_len = 0, len;

	if (dos_rate != 0 || dos_burst != 0) {
		ext_len = hs_dos_extension_list_build(dos_rate, dos_burst, ext, sizeof(ext));
		assert_true(ext_len > 0);
	}
	len = establish_intro_cell_build(key, kh, ext_len > 0 ? ext : NULL, (size_t)ext_len, out,
			out_len);
	assert_true(len > 0);
	return (size_t)len;
}

/* An INTRODUCE1 as a tor client sends it: zero legacy id, type 02, key,
 * no extensions, an opaque encrypted part (pattern). */
static size_t
build_introduce1(const uint8_t auth_key[32], size_t encrypted_len, uint8_t seed, uint8_t *out)
{
	size_t n = 0;

	memset(out, 0, INTRODUCE1_LEGACY_KEY_ID_LEN);
	n += INTRODUCE1_LEGACY_KEY_ID_LEN;
	out[n++] = HS_AUTH_KEY_TYPE_ED25519;
	out[n++] = 0;
	out[n++] = 32;
	memcpy(out + n, auth_key, 32);
	n += 32;
	out[n++] = 0;
	for (size_t i = 0; i < encrypted_len; i++)
		out[n++] = (uint8_t)(seed + i * 13);
	return n;
}

static uint16_t
ack_status(const struct sent *s)
{
	const uint8_t *p = s->body;
	uint16_t status = 0xffff;
	struct hs_extension_list ext;

	assert_int_equal(s->command, RELAY_COMMAND_INTRODUCE_ACK);
	assert_int_equal(s->len, INTRODUCE_ACK_LEN);
	assert_int_equal(introduce_ack_parse(&p, s->body + s->len, &status, &ext), 0);
	assert_int_equal(ext.count, 0);
	return status;
}

/* Establishes circ as the intro circuit of f->auth_key; checks the reply. */
static void
establish_ok(struct fixture *f, const struct intro_circuit *circ, uint64_t rate,
		uint64_t burst, uint32_t now)
{
	uint8_t body[RELAY_DATA_MAX];
	size_t len = build_establish(&f->auth_key, f->kh, rate, burst, body, sizeof(body));
	unsigned before = f->rec.n_sent;

	assert_int_equal(intro_point_establish(f->ip, circ, &relay_prev, f->kh, body, len, now), 0);
	assert_int_equal(f->rec.n_sent, before + 1);
	assert_true(same(&f->rec.sent[before].circ, circ));
	assert_int_equal(f->rec.sent[before].command, RELAY_COMMAND_INTRO_ESTABLISHED);
	assert_int_equal(f->rec.sent[before].len, 1);
	assert_int_equal(f->rec.sent[before].body[0], 0);
	assert_true(intro_point_is_intro_circuit(f->ip, circ));
}

static void
test_establish_good(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit s = circuit(1);

	establish_ok(f, &s, 0, 0, 100);
	assert_int_equal(f->rec.n_closed, 0);
	assert_int_equal(f->rec.n_watched, 1);
	assert_true(same(&f->rec.watched[0], &s));
	assert_int_equal(intro_point_stats(f->ip)->est_intro[INTRO_EST_SUCCESS], 1);
	assert_int_equal(intro_point_stats(f->ip)->intro_circuits, 1);
	/* A second ESTABLISH_INTRO on it: purpose is INTRO_POINT now. */
	{
		uint8_t body[RELAY_DATA_MAX];
		size_t len = build_establish(&f->auth_key, f->kh, 0, 0, body, sizeof(body));

		assert_int_equal(intro_point_establish(f->ip, &s, &relay_prev, f->kh, body, len,
				100), -EPROTO);
		assert_int_equal(f->rec.n_closed, 1);
		assert_int_equal(f->rec.closed[0].reason, DESTROY_REASON_PROTOCOL);
		assert_int_equal(intro_point_stats(f->ip)->est_intro[INTRO_EST_UNSUITABLE_CIRCUIT],
				1);
		assert_int_equal(intro_point_stats(f->ip)->intro_circuits, 0);
	}
}

/* Each refusal closes with TORPROTOCOL, sends nothing, registers nothing. */
static void
expect_refused(struct fixture *f, const struct intro_circuit *circ,
		const struct intro_circuit_info *info, const uint8_t *kh, const uint8_t *body,
		size_t len, enum intro_point_est_action action)
{
	uint64_t before = intro_point_stats(f->ip)->est_intro[action];
	unsigned closed = f->rec.n_closed, sent = f->rec.n_sent;

	assert_int_equal(intro_point_establish(f->ip, circ, info, kh, body, len, 5), -EPROTO);
	assert_int_equal(f->rec.n_sent, sent);
	assert_int_equal(f->rec.n_closed, closed + 1);
	assert_true(same(&f->rec.closed[closed].circ, circ));
	assert_int_equal(f->rec.closed[closed].reason, DESTROY_REASON_PROTOCOL);
	assert_int_equal(intro_point_stats(f->ip)->est_intro[action], before + 1);
	assert_false(intro_point_is_intro_circuit(f->ip, circ));
}

static void
test_establish_refused(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit s = circuit(2);
	uint8_t body[RELAY_DATA_MAX], other_kh[HS_CIRCUIT_KH_LEN];
	size_t len = build_establish(&f->auth_key, f->kh, 0, 0, body, sizeof(body));
	struct intro_circuit_info extended = { .has_next_hop = true };
	struct intro_circuit_info rendezvous = { .other_purpose = true };
	struct intro_circuit_info one_hop = { .previous_hop_is_client = true };

	/* MAC keyed with another hop's KH. */
	memcpy(other_kh, f->kh, sizeof(other_kh));
	other_kh[19] ^= 1;
	expect_refused(f, &s, &relay_prev, other_kh, body, len, INTRO_EST_MALFORMED);
	/* Unknown KH. */
	expect_refused(f, &s, &relay_prev, NULL, body, len, INTRO_EST_MALFORMED);
	assert_int_equal(intro_point_stats(f->ip)->no_kh, 1);
	/* Signature byte flipped. */
	body[len - 1] ^= 0x40;
	expect_refused(f, &s, &relay_prev, f->kh, body, len, INTRO_EST_MALFORMED);
	body[len - 1] ^= 0x40;
	/* Empty, legacy key type, truncated. */
	expect_refused(f, &s, &relay_prev, f->kh, body, 0, INTRO_EST_MALFORMED);
	body[0] = HS_AUTH_KEY_TYPE_LEGACY1;
	expect_refused(f, &s, &relay_prev, f->kh, body, len, INTRO_EST_MALFORMED);
	body[0] = HS_AUTH_KEY_TYPE_ED25519;
	expect_refused(f, &s, &relay_prev, f->kh, body, len - 1 - 64, INTRO_EST_MALFORMED);
	/* Circuit checks come after the key type and before the MAC: an
	 * extended circuit or one the RP took is unsuitable. */
	expect_refused(f, &s, &extended, f->kh, body, len, INTRO_EST_UNSUITABLE_CIRCUIT);
	expect_refused(f, &s, &rendezvous, f->kh, body, len, INTRO_EST_UNSUITABLE_CIRCUIT);
	body[0] = 7;
	expect_refused(f, &s, &extended, f->kh, body, len, INTRO_EST_MALFORMED);
	body[0] = HS_AUTH_KEY_TYPE_ED25519;
	assert_int_equal(intro_point_stats(f->ip)->est_intro[INTRO_EST_SUCCESS], 0);
	/* A single-onion service connects directly: allowed. */
	assert_int_equal(intro_point_establish(f->ip, &s, &one_hop, f->kh, body, len, 5), 0);
	/* The intact body was fine all along. */
	assert_int_equal(f->rec.sent[f->rec.n_sent - 1].command, RELAY_COMMAND_INTRO_ESTABLISHED);
}

static void
test_establish_replaced_by_newer(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit old = circuit(3), newer = circuit(4);
	uint8_t body[RELAY_DATA_MAX];
	size_t len;

	establish_ok(f, &old, 0, 0, 10);
	establish_ok(f, &newer, 0, 0, 11);
	/* tor hs_circuitmap: the older circuit is closed with FINISHED. */
	assert_int_equal(f->rec.n_closed, 1);
	assert_true(same(&f->rec.closed[0].circ, &old));
	assert_int_equal(f->rec.closed[0].reason, DESTROY_REASON_FINISHED);
	assert_false(intro_point_is_intro_circuit(f->ip, &old));
	assert_int_equal(intro_point_stats(f->ip)->replaced, 1);
	assert_int_equal(intro_point_stats(f->ip)->intro_circuits, 1);
	/* INTRODUCE2 goes to the newer one. */
	len = build_introduce1(f->auth_key.public_key, 100, 1, body);
	{
		struct intro_circuit client = circuit(5);

		assert_int_equal(intro_point_introduce1(f->ip, &client, &relay_prev, body, len, 11),
				INTRODUCE_ACK_SUCCESS);
		assert_true(same(&f->rec.sent[f->rec.n_sent - 2].circ, &newer));
	}
}

static void
test_introduce_found(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit s = circuit(6), client = circuit(7);
	uint8_t body[RELAY_DATA_MAX];
	size_t len;
	unsigned base;

	establish_ok(f, &s, 0, 0, 1);
	len = build_introduce1(f->auth_key.public_key, INTRODUCE1_MAX_LEN - 56, 9, body);
	assert_int_equal(len, INTRODUCE1_MAX_LEN);
	base = f->rec.n_sent;
	assert_int_equal(intro_point_introduce1(f->ip, &client, &relay_prev, body, len, 1),
			INTRODUCE_ACK_SUCCESS);
	assert_int_equal(f->rec.n_sent, base + 2);
	/* INTRODUCE2 on the service circuit: the same bytes. */
	assert_true(same(&f->rec.sent[base].circ, &s));
	assert_int_equal(f->rec.sent[base].command, RELAY_COMMAND_INTRODUCE2);
	assert_int_equal(f->rec.sent[base].len, len);
	assert_memory_equal(f->rec.sent[base].body, body, len);
	/* ACK 0 to the client. */
	assert_true(same(&f->rec.sent[base + 1].circ, &client));
	assert_int_equal(ack_status(&f->rec.sent[base + 1]), INTRODUCE_ACK_SUCCESS);
	assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_SUCCESS], 1);
	assert_int_equal(f->rec.n_closed, 0);
	/* The client circuit is watched (its flag must go when it closes). */
	assert_true(same(&f->rec.watched[f->rec.n_watched - 1], &client));
	/* A second INTRODUCE1 on it: closed, no ACK (circuit_reused). */
	assert_int_equal(intro_point_introduce1(f->ip, &client, &relay_prev, body, len, 1),
			-EPROTO);
	assert_int_equal(f->rec.n_sent, base + 2);
	assert_int_equal(f->rec.n_closed, 1);
	assert_int_equal(f->rec.closed[0].reason, DESTROY_REASON_PROTOCOL);
	assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_CIRCUIT_REUSED], 1);
	/* INTRODUCE1 on the intro circuit itself: closed, uncounted. */
	assert_int_equal(intro_point_introduce1(f->ip, &s, &relay_prev, body, len, 1), -EPROTO);
	assert_int_equal(f->rec.n_closed, 2);
	assert_false(intro_point_is_intro_circuit(f->ip, &s));
}

static void
test_introduce_not_found_and_malformed(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit s = circuit(8);
	uint8_t body[RELAY_DATA_MAX], other[32];
	size_t len;
	uint32_t n = 20;
	struct intro_circuit_info one_hop = { .previous_hop_is_client = true };
	struct intro_circuit_info extended = { .has_next_hop = true };

	establish_ok(f, &s, 0, 0, 1);
	memset(other, 0x55, sizeof(other));
	/* Unknown key: NACK 0x0001, circuit kept. */
	len = build_introduce1(other, 50, 2, body);
	{
		struct intro_circuit c = circuit(n++);

		assert_int_equal(intro_point_introduce1(f->ip, &c, &relay_prev, body, len, 1),
				INTRODUCE_ACK_UNKNOWN_ID);
		assert_int_equal(ack_status(&f->rec.sent[f->rec.n_sent - 1]),
				INTRODUCE_ACK_UNKNOWN_ID);
		assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_UNKNOWN_SERVICE], 1);
	}
	/* Bad formats: NACK 0x0002. */
	{
		static const struct { size_t off; uint8_t value; } edits[] = {
			{ 3, 1 },	/* legacy key id not zero */
			{ 20, 1 },	/* auth key type 1 */
			{ 20, 9 },	/* auth key type unknown: parser */
			{ 22, 31 },	/* AUTH_KEY_LEN 31 */
		};

		for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
			struct intro_circuit c = circuit(n++);

			len = build_introduce1(f->auth_key.public_key, 50, 2, body);
			body[edits[i].off] = edits[i].value;
			assert_int_equal(intro_point_introduce1(f->ip, &c, &relay_prev, body, len, 1),
					INTRODUCE_ACK_BAD_FORMAT);
			assert_int_equal(ack_status(&f->rec.sent[f->rec.n_sent - 1]),
					INTRODUCE_ACK_BAD_FORMAT);
		}
		/* Empty encrypted part; longer than 490. */
		{
			struct intro_circuit c = circuit(n++), d = circuit(n++);

			len = build_introduce1(f->auth_key.public_key, 0, 2, body);
			assert_int_equal(intro_point_introduce1(f->ip, &c, &relay_prev, body, len, 1),
					INTRODUCE_ACK_BAD_FORMAT);
			len = build_introduce1(f->auth_key.public_key, INTRODUCE1_MAX_LEN - 55, 2,
					body);
			assert_int_equal(len, INTRODUCE1_MAX_LEN + 1);
			assert_int_equal(intro_point_introduce1(f->ip, &d, &relay_prev, body, len, 1),
					INTRODUCE_ACK_BAD_FORMAT);
		}
		assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_MALFORMED], 6);
	}
	assert_int_equal(f->rec.n_closed, 0);
	/* Close without ACK: shorter than 20 bytes (malformed), one-hop
	 * client (single_hop), extended circuit (uncounted). */
	{
		struct intro_circuit a = circuit(n++), b = circuit(n++), c = circuit(n++);
		unsigned sent = f->rec.n_sent;

		len = build_introduce1(f->auth_key.public_key, 50, 2, body);
		assert_int_equal(intro_point_introduce1(f->ip, &a, &relay_prev, body, 19, 1),
				-EPROTO);
		assert_int_equal(intro_point_introduce1(f->ip, &b, &one_hop, body, len, 1), -EPROTO);
		assert_int_equal(intro_point_introduce1(f->ip, &c, &extended, body, len, 1),
				-EPROTO);
		assert_int_equal(f->rec.n_sent, sent);
		assert_int_equal(f->rec.n_closed, 3);
		assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_MALFORMED], 7);
		assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_SINGLE_HOP], 1);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(f->rec.closed[i].reason, DESTROY_REASON_PROTOCOL);
	}
	/* Nothing reached the service. */
	for (unsigned i = 0; i < f->rec.n_sent; i++)
		assert_int_not_equal(f->rec.sent[i].command, RELAY_COMMAND_INTRODUCE2);
	/* A failed INTRODUCE2 send: circuit_dead, NACK 0x0001 (the ACK is lost
	 * too here: the fake refuses every send). */
	{
		struct intro_circuit c = circuit(n++);

		f->rec.send_result = -ENOBUFS;
		len = build_introduce1(f->auth_key.public_key, 50, 2, body);
		assert_int_equal(intro_point_introduce1(f->ip, &c, &relay_prev, body, len, 1),
				INTRODUCE_ACK_UNKNOWN_ID);
		assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_CIRCUIT_DEAD], 1);
		f->rec.send_result = 0;
	}
}

/* One INTRODUCE1 on a fresh client circuit; returns the ACK status. */
static int
introduce(struct fixture *f, uint32_t *n, uint32_t now)
{
	uint8_t body[RELAY_DATA_MAX];
	size_t len = build_introduce1(f->auth_key.public_key, 64, 3, body);
	struct intro_circuit c = circuit((*n)++);

	return intro_point_introduce1(f->ip, &c, &relay_prev, body, len, now);
}

static void
test_dos_bucket(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit s = circuit(100);
	uint32_t n = 200;
	const struct intro_point_stats *st = intro_point_stats(f->ip);

	/* Extension: 2 per second, burst 5. tor takes a token and then
	 * allows only while one remains: burst - 1 pass at first. */
	establish_ok(f, &s, 2, 5, 1000);
	for (int i = 0; i < 4; i++)
		assert_int_equal(introduce(f, &n, 1000), INTRODUCE_ACK_SUCCESS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(introduce(f, &n, 1000), INTRODUCE_ACK_UNKNOWN_ID);
	assert_int_equal(st->intro1[INTRO1_RATE_LIMITED], 3);
	assert_int_equal(st->introduce2_rejected, 3);
	/* One second later: 2 tokens back (bucket 0 -> 2), one passes. */
	assert_int_equal(introduce(f, &n, 1001), INTRODUCE_ACK_SUCCESS);
	assert_int_equal(introduce(f, &n, 1001), INTRODUCE_ACK_UNKNOWN_ID);
	/* Long idle: refilled to the burst, capped. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(introduce(f, &n, 2000), INTRODUCE_ACK_SUCCESS);
	assert_int_equal(introduce(f, &n, 2000), INTRODUCE_ACK_UNKNOWN_ID);
	assert_int_equal(st->intro1[INTRO1_SUCCESS], 9);
	assert_int_equal(st->introduce2_rejected, 5);
}

static void
test_dos_defaults_and_invalid_extension(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit a = circuit(300), b = circuit(301);
	struct intro_point_dos_defaults on = { .enabled = true, .rate_per_sec = 1,
			.burst_per_sec = 3 };
	struct ed25519_keypair key_b;
	uint32_t n = 400;
	uint8_t body[RELAY_DATA_MAX];
	size_t len;

	/* Defence off by default (tor 0.4.9's consensus default): 300 pass. */
	establish_ok(f, &a, 0, 0, 50);
	for (int i = 0; i < 300; i++)
		assert_int_equal(introduce(f, &n, 50), INTRODUCE_ACK_SUCCESS);
	/* The consensus turns it on: the circuit without explicit
	 * parameters follows (bucket capped at burst 3: 2 pass). */
	intro_point_set_dos_defaults(f->ip, &on);
	assert_int_equal(introduce(f, &n, 50), INTRODUCE_ACK_SUCCESS);
	assert_int_equal(introduce(f, &n, 50), INTRODUCE_ACK_SUCCESS);
	assert_int_equal(introduce(f, &n, 50), INTRODUCE_ACK_UNKNOWN_ID);
	/* burst < rate in the extension: explicit, defence disabled, even
	 * with the consensus saying on. */
	assert_int_equal(ed25519_keypair_generate(&key_b), 0);
	len = build_establish(&key_b, f->kh, 10, 5, body, sizeof(body));
	assert_int_equal(intro_point_establish(f->ip, &b, &relay_prev, f->kh, body, len, 50), 0);
	for (int i = 0; i < 20; i++) {
		struct intro_circuit c = circuit(n++);

		len = build_introduce1(key_b.public_key, 64, 3, body);
		assert_int_equal(intro_point_introduce1(f->ip, &c, &relay_prev, body, len, 50),
				INTRODUCE_ACK_SUCCESS);
	}
}

static void
test_cleanup_on_close(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit s = circuit(500), client = circuit(501), reused = circuit(500);
	uint32_t n = 600;

	establish_ok(f, &s, 0, 0, 1);
	assert_int_equal(introduce(f, &n, 1), INTRODUCE_ACK_SUCCESS);
	/* A close report for another circuit on the same handle changes
	 * nothing. */
	reused.p_circ_id ^= 1;
	intro_point_circuit_closed(f->ip, &reused);
	assert_true(intro_point_is_intro_circuit(f->ip, &s));
	assert_int_equal(introduce(f, &n, 1), INTRODUCE_ACK_SUCCESS);
	assert_int_equal(f->rec.n_gone, 0);
	/* The service circuit closes: its key is gone, NACK 0x0001; the
	 * operator's log learns which key and after how many INTRODUCE2. */
	intro_point_circuit_closed(f->ip, &s);
	assert_false(intro_point_is_intro_circuit(f->ip, &s));
	assert_int_equal(f->rec.n_gone, 1);
	assert_true(same(&f->rec.gone[0].circ, &s));
	assert_memory_equal(f->rec.gone[0].auth_key, f->auth_key.public_key, HS_AUTH_KEY_LEN);
	assert_int_equal(f->rec.gone[0].introduce2, 2);
	assert_int_equal(intro_point_stats(f->ip)->intro_circuits, 0);
	assert_int_equal(introduce(f, &n, 1), INTRODUCE_ACK_UNKNOWN_ID);
	/* Re-established on a new circuit, then its link closes. */
	establish_ok(f, &client, 0, 0, 1);
	intro_point_link_closed(f->ip, client.p_link);
	assert_int_equal(introduce(f, &n, 1), INTRODUCE_ACK_UNKNOWN_ID);
	assert_int_equal(f->rec.n_gone, 2);
	assert_true(same(&f->rec.gone[1].circ, &client));
	assert_int_equal(f->rec.gone[1].introduce2, 0);
	/* A DESTROY seen by control (by p side). */
	{
		struct intro_circuit t = circuit(700);

		establish_ok(f, &t, 0, 0, 1);
		intro_point_circuit_gone(f->ip, t.p_link, t.p_circ_id);
		assert_int_equal(introduce(f, &n, 1), INTRODUCE_ACK_UNKNOWN_ID);
	}
	/* A handle reused by a newer circuit: the old state goes, the new
	 * circuit may introduce. */
	{
		struct intro_circuit c = circuit(800), c2 = circuit(800);
		uint8_t body[RELAY_DATA_MAX];
		size_t len = build_introduce1(f->auth_key.public_key, 64, 3, body);

		assert_int_equal(intro_point_introduce1(f->ip, &c, &relay_prev, body, len, 1),
				INTRODUCE_ACK_UNKNOWN_ID);
		c2.p_circ_id ^= 2;
		assert_int_equal(intro_point_introduce1(f->ip, &c2, &relay_prev, body, len, 1),
				INTRODUCE_ACK_UNKNOWN_ID);
		/* After the client's close report, its flag is gone. */
		intro_point_circuit_closed(f->ip, &c2);
		assert_int_equal(intro_point_introduce1(f->ip, &c2, &relay_prev, body, len, 1),
				INTRODUCE_ACK_UNKNOWN_ID);
	}
	assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_CIRCUIT_REUSED], 0);
	assert_int_equal(f->rec.n_closed, 0);
}

static void
test_table_full(void **state)
{
	struct fixture *f = *state;
	struct intro_point_config cfg = {
		.ops = { .send = rec_send, .close = rec_close, .watch = rec_watch },
		.ctx = &f->rec, .max_circuits = 2,
	};
	struct intro_point *small = intro_point_new(&cfg);
	uint8_t body[RELAY_DATA_MAX];
	size_t len = build_introduce1(f->auth_key.public_key, 64, 3, body);

	assert_non_null(small);
	for (uint32_t i = 0; i < 2; i++) {
		struct intro_circuit c = circuit(900 + i);

		assert_int_equal(intro_point_introduce1(small, &c, &relay_prev, body, len, 1),
				INTRODUCE_ACK_UNKNOWN_ID);
	}
	{
		struct intro_circuit c = circuit(902);

		assert_int_equal(intro_point_introduce1(small, &c, &relay_prev, body, len, 1),
				-ENOSPC);
		assert_int_equal(f->rec.closed[f->rec.n_closed - 1].reason,
				DESTROY_REASON_RESOURCELIMIT);
	}
	assert_int_equal(intro_point_stats(small)->circuits, 2);
	intro_point_free(small);
}

/* With send_confirmed (as relay_control runs it), the INTRODUCE_ACK waits
 * for the worker's word on the INTRODUCE2, as tor answers after
 * relay_send_command_from_edge(): SUCCESS once it was queued; UNKNOWN_ID
 * (unknown_service: tor does not find a circuit marked for close) when the
 * intro circuit was gone, which is then forgotten at once; SUCCESS without
 * word after INTRO_POINT_ACK_TIMEOUT_SEC (the answer was lost). */
static void
test_introduce_ack_waits_for_worker(void **state)
{
	struct fixture *f = *state;
	struct intro_circuit s = circuit(40), s2 = circuit(41), c1 = circuit(42),
		c2 = circuit(43), c3 = circuit(44), c4 = circuit(45);
	uint8_t body[RELAY_DATA_MAX];
	size_t len;
	unsigned base;
	uint32_t id1, id2;

	intro_point_free(f->ip);
	f->ip = intro_point_new(&(struct intro_point_config){
		.ops = { .send = rec_send, .close = rec_close, .watch = rec_watch,
			 .send_confirmed = rec_send_confirmed },
		.ctx = &f->rec,
	});
	assert_non_null(f->ip);
	establish_ok(f, &s, 0, 0, 10);
	len = build_introduce1(f->auth_key.public_key, 100, 3, body);

	/* Sent: INTRODUCE2 now, the ACK once the worker says so. */
	base = f->rec.n_sent;
	assert_int_equal(intro_point_introduce1(f->ip, &c1, &relay_prev, body, len, 10),
			INTRO_POINT_ACK_PENDING);
	assert_int_equal(f->rec.n_sent, base + 1);
	assert_true(same(&f->rec.sent[base].circ, &s));
	assert_int_equal(f->rec.sent[base].command, RELAY_COMMAND_INTRODUCE2);
	id1 = f->rec.sent[base].confirm;
	assert_int_not_equal(id1, 0);
	assert_int_equal(intro_point_stats(f->ip)->acks_pending, 1);
	assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_SUCCESS], 0);
	intro_point_introduce2_sent(f->ip, id1 + 1, true);	/* not ours */
	assert_int_equal(f->rec.n_sent, base + 1);
	intro_point_introduce2_sent(f->ip, id1, true);
	assert_int_equal(f->rec.n_sent, base + 2);
	assert_true(same(&f->rec.sent[base + 1].circ, &c1));
	assert_int_equal(ack_status(&f->rec.sent[base + 1]), INTRODUCE_ACK_SUCCESS);
	assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_SUCCESS], 1);
	assert_int_equal(intro_point_stats(f->ip)->acks_pending, 0);
	intro_point_introduce2_sent(f->ip, id1, false);		/* answered already */
	assert_int_equal(f->rec.n_sent, base + 2);

	/* The intro circuit closed, its close report not here yet: the
	 * worker says gone, the client hears UNKNOWN_ID. */
	assert_int_equal(intro_point_introduce1(f->ip, &c2, &relay_prev, body, len, 11),
			INTRO_POINT_ACK_PENDING);
	id2 = f->rec.sent[base + 2].confirm;
	intro_point_introduce2_sent(f->ip, id2, false);
	assert_int_equal(f->rec.n_sent, base + 4);
	assert_true(same(&f->rec.sent[base + 3].circ, &c2));
	assert_int_equal(ack_status(&f->rec.sent[base + 3]), INTRODUCE_ACK_UNKNOWN_ID);
	assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_UNKNOWN_SERVICE], 1);
	assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_SUCCESS], 1);
	assert_false(intro_point_is_intro_circuit(f->ip, &s));
	assert_int_equal(intro_point_stats(f->ip)->intro_circuits, 0);
	assert_int_equal(f->rec.n_closed, 0);
	/* Known dead now: the next client is answered at once, no INTRODUCE2. */
	assert_int_equal(intro_point_introduce1(f->ip, &c3, &relay_prev, body, len, 11),
			INTRODUCE_ACK_UNKNOWN_ID);
	assert_int_equal(f->rec.n_sent, base + 5);
	assert_int_equal(intro_point_stats(f->ip)->intro1[INTRO1_UNKNOWN_SERVICE], 2);

	/* No word at all: SUCCESS after the timeout. */
	establish_ok(f, &s2, 0, 0, 20);
	base = f->rec.n_sent;
	assert_int_equal(intro_point_introduce1(f->ip, &c4, &relay_prev, body, len, 20),
			INTRO_POINT_ACK_PENDING);
	intro_point_poll(f->ip, 20 + INTRO_POINT_ACK_TIMEOUT_SEC - 1);
	assert_int_equal(f->rec.n_sent, base + 1);
	intro_point_poll(f->ip, 20 + INTRO_POINT_ACK_TIMEOUT_SEC);
	assert_int_equal(f->rec.n_sent, base + 2);
	assert_true(same(&f->rec.sent[base + 1].circ, &c4));
	assert_int_equal(ack_status(&f->rec.sent[base + 1]), INTRODUCE_ACK_SUCCESS);
	assert_int_equal(intro_point_stats(f->ip)->acks_unconfirmed, 1);
	assert_int_equal(intro_point_stats(f->ip)->acks_pending, 0);
	/* A late answer changes nothing. */
	intro_point_introduce2_sent(f->ip, f->rec.sent[base].confirm, false);
	assert_int_equal(f->rec.n_sent, base + 2);
	assert_true(intro_point_is_intro_circuit(f->ip, &s2));
}

static void
test_action_names(void **state)
{
	(void)state;
	assert_string_equal(intro_point_est_action_name(INTRO_EST_UNSUITABLE_CIRCUIT),
			"unsuitable_circuit");
	assert_string_equal(intro_point_intro1_action_name(INTRO1_UNKNOWN_SERVICE),
			"unknown_service");
	assert_string_equal(intro_point_intro1_action_name(INTRO1_SINGLE_HOP), "single_hop");
	assert_string_equal(intro_point_intro1_action_name(INTRO1_CIRCUIT_REUSED),
			"circuit_reused");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_establish_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_establish_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_establish_replaced_by_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_introduce_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_introduce_not_found_and_malformed, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_dos_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dos_defaults_and_invalid_extension, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_on_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_introduce_ack_waits_for_worker, setup,
				teardown),
		cmocka_unit_test(test_action_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
