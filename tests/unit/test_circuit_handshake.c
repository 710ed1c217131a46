/* control/circuit_handshake: a client built here from the crypto modules'
 * client functions sends CREATE2 (ntor; ntor-v3 with and without the
 * congestion-control request) and CREATE_FAST cells; the server answers;
 * both sides must derive the same Df, Db, Kf, Kb and KH. The keys are then
 * proved on the worker's circuit table (dataplane/circuit.c): a relay cell
 * the client encrypts comes out LOCAL with its payload, and a cell the
 * relay originates is recognized by the client. A two-relay circuit is
 * extended end to end (EXTEND2 -> CREATE2 -> CREATED2 -> EXTENDED2). The
 * ntor answer is checked byte for byte against arti's published vector.
 * Every refusal of tor's command.c, onion.c, onion_crypto.c and
 * circuitbuild_relay.c that the module copies has a negative test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <rte_eal.h>

#include "control/circ_cells.h"
#include "control/circuit_handshake.h"
#include "crypto/engine.h"
#include "crypto/kdf.h"
#include "crypto/ntor.h"
#include "crypto/ntor_v3.h"
#include "crypto/relay_crypto.h"
#include "dataplane/cell.h"
#include "dataplane/circuit.h"
#include "dataplane/wire.h"
#include "tests/unit/test_util.h"
#include "tests/unit/test_asserts.h"

#define KEY_MATERIAL_LEN (NTOR_TOR1_KEY_MATERIAL_LEN + CIRCUIT_KH_LEN)

static struct crypto_engine *engine;
static struct circuit_handshake_keys relay_a, relay_b;

/* ---- fixtures ---------------------------------------------------------- */

static void
relay_keys_new(struct circuit_handshake_keys *k, uint64_t seed)
{
	memset(k, 0, sizeof(*k));
	test_fill(k->rsa_id, sizeof(k->rsa_id), seed);
	test_fill(k->ed25519_id, sizeof(k->ed25519_id), seed + 1);
	assert_int_equal(ntor_keypair_generate(&k->onion_keys[0]), 0);
	assert_int_equal(ntor_keypair_generate(&k->onion_keys[1]), 0);
	k->onion_key_count = 2;
	k->cc.enabled = true;
	k->cc.sendme_inc = CIRCUIT_CC_SENDME_INC_DEFAULT;
}

static int
setup(void **state)
{
	char *argv[] = {
		"test_circuit_handshake", "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--log-level=lib.eal:error",
	};

	(void)state;
	if (rte_eal_init(7, argv) < 0)
		return -1;
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	if (engine == NULL)
		return -1;
	relay_keys_new(&relay_a, 1);
	relay_keys_new(&relay_b, 2);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	crypto_engine_destroy(engine);
	rte_eal_cleanup();
	return 0;
}

/* ---- the test client --------------------------------------------------- */

enum client_kind { CLIENT_NTOR, CLIENT_NTOR_V3, CLIENT_NTOR_V3_CC, CLIENT_FAST };

struct client_handshake {
	enum client_kind kind;
	struct ntor_client_state ntor;
	struct ntor_v3_client_state ntor_v3;
	uint8_t fast_x[CREATE_FAST_KEY_LEN];
};

/* What the client ends up with after CREATED2 / CREATED_FAST. */
struct client_result {
	struct circuit_keys keys;
	uint8_t kh[CIRCUIT_KH_LEN];
	uint8_t server_msg[64];
	ssize_t server_msg_len;
};

static void
write_create2(uint32_t circ_id, uint16_t htype, const uint8_t *hdata, uint16_t hlen,
		uint8_t cell[CELL_LEN])
{
	struct create2_cell c = { .htype = htype, .hlen = hlen, .hdata = hdata };

	memset(cell, 0, CELL_LEN);
	cell_wire_set_circ_id(cell, circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE2;
	assert_true(create2_cell_encode(&c, cell_wire_payload(cell), CELL_PAYLOAD_LEN) >= 0);
}

/* The client's onion skin for relay k with its onion key key_index (the
 * body of CREATE2 / EXTEND2); returns its length. */
static uint16_t
client_onionskin(struct client_handshake *c, enum client_kind kind,
		const struct circuit_handshake_keys *k, size_t key_index,
		uint8_t out[CREATE2_HDATA_MAX])
{
	/* tor's client_circ_negotiation_message(): an extension list, with
	 * the empty CC request field when it wants congestion control. */
	static const uint8_t no_ext[] = { 0 };
	static const uint8_t cc_ext[] = { 1, CIRCUIT_EXTENSION_CC_REQUEST, 0 };
	ssize_t n = -1;

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	switch (kind) {
	case CLIENT_NTOR:
		n = ntor_client_create(&c->ntor, k->rsa_id, k->onion_keys[key_index].public_key,
				out, CREATE2_HDATA_MAX);
		break;
	case CLIENT_NTOR_V3:
	case CLIENT_NTOR_V3_CC:
		n = ntor_v3_client_create(&c->ntor_v3, k->ed25519_id,
				k->onion_keys[key_index].public_key,
				(const uint8_t *)NTOR_V3_CIRC_VERIFICATION,
				NTOR_V3_CIRC_VERIFICATION_LEN,
				kind == CLIENT_NTOR_V3 ? no_ext : cc_ext,
				kind == CLIENT_NTOR_V3 ? sizeof(no_ext) : sizeof(cc_ext), out,
				CREATE2_HDATA_MAX);
		break;
	default:
		fail();
	}
	assert_true(n > 0);
	return (uint16_t)n;
}

/* A CREATE2 or CREATE_FAST wire cell to relay k. */
static void
client_create(struct client_handshake *c, enum client_kind kind,
		const struct circuit_handshake_keys *k, size_t key_index, uint32_t circ_id,
		uint8_t cell[CELL_LEN])
{
	uint8_t hdata[CREATE2_HDATA_MAX];

	if (kind == CLIENT_FAST) {
		memset(c, 0, sizeof(*c));
		c->kind = kind;
		test_fill(c->fast_x, sizeof(c->fast_x), circ_id);
		memset(cell, 0, CELL_LEN);
		cell_wire_set_circ_id(cell, circ_id);
		cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE_FAST;
		memcpy(cell_wire_payload(cell), c->fast_x, CREATE_FAST_KEY_LEN);
		return;
	}
	uint16_t hlen = client_onionskin(c, kind, k, key_index, hdata);

	write_create2(circ_id, kind == CLIENT_NTOR ? HANDSHAKE_TYPE_NTOR : HANDSHAKE_TYPE_NTOR_V3,
			hdata, hlen, cell);
}

static void
split(const uint8_t *m, struct circuit_keys *keys)
{
	memcpy(keys->forward_digest, m, 20);
	memcpy(keys->backward_digest, m + 20, 20);
	memcpy(keys->forward_key, m + 40, 16);
	memcpy(keys->backward_key, m + 56, 16);
}

/* Completes the handshake from the server's reply (HDATA of CREATED2 or
 * EXTENDED2, or the CREATED_FAST payload). Returns 0 or the client's
 * error. */
static int
client_complete(struct client_handshake *c, const uint8_t *reply, size_t reply_len,
		struct client_result *r)
{
	uint8_t material[KEY_MATERIAL_LEN];
	int rc = 0;

	memset(r, 0, sizeof(*r));
	switch (c->kind) {
	case CLIENT_NTOR:
		rc = ntor_client_complete(&c->ntor, reply, reply_len, material, sizeof(material));
		break;
	case CLIENT_NTOR_V3:
	case CLIENT_NTOR_V3_CC:
		r->server_msg_len = ntor_v3_client_complete(&c->ntor_v3,
				(const uint8_t *)NTOR_V3_CIRC_VERIFICATION,
				NTOR_V3_CIRC_VERIFICATION_LEN, reply, reply_len, r->server_msg,
				sizeof(r->server_msg), material, sizeof(material));
		rc = r->server_msg_len < 0 ? (int)r->server_msg_len : 0;
		break;
	case CLIENT_FAST: {
		/* tor-spec "CREATE_FAST": KDF-TOR(X | Y) = KH | Df | Db | Kf | Kb,
		 * and the relay sends Y | KH. */
		uint8_t k0[40], out[CIRCUIT_KH_LEN + NTOR_TOR1_KEY_MATERIAL_LEN];

		assert_int_equal(reply_len, 40);
		memcpy(k0, c->fast_x, 20);
		memcpy(k0 + 20, reply, 20);
		assert_int_equal(kdf_tor(k0, sizeof(k0), out, sizeof(out)), 0);
		if (memcmp(out, reply + 20, 20) != 0)
			return -EBADMSG;
		memcpy(material, out + 20, NTOR_TOR1_KEY_MATERIAL_LEN);
		memcpy(material + NTOR_TOR1_KEY_MATERIAL_LEN, out, CIRCUIT_KH_LEN);
		break;
	}
	}
	if (rc != 0)
		return rc;
	split(material, &r->keys);
	memcpy(r->kh, material + NTOR_TOR1_KEY_MATERIAL_LEN, CIRCUIT_KH_LEN);
	return 0;
}

/* The client side of a reply wire cell. */
static void
client_complete_cell(struct client_handshake *c, const uint8_t reply[CELL_LEN],
		struct client_result *r)
{
	const uint8_t *payload = reply + CELL_CIRC_ID_LEN + 1;

	if (c->kind == CLIENT_FAST) {
		assert_int_equal(cell_wire_command(reply), CELL_COMMAND_CREATED_FAST);
		assert_int_equal(client_complete(c, payload, 40, r), 0);
		/* Zero padding after Y | KH. */
		assert_all_zero(payload + 40, CELL_PAYLOAD_LEN - 40);
		return;
	}
	struct created2_cell created2;
	const uint8_t *p = payload;

	assert_int_equal(cell_wire_command(reply), CELL_COMMAND_CREATED2);
	assert_int_equal(created2_cell_parse(&p, payload + CELL_PAYLOAD_LEN, &created2), 0);
	assert_all_zero(p, (size_t)(payload + CELL_PAYLOAD_LEN - p));
	assert_int_equal(client_complete(c, created2.hdata, created2.hlen, r), 0);
}

static void
assert_keys_equal(const struct circuit_keys *a, const struct circuit_keys *b)
{
	assert_memory_equal(a->forward_key, b->forward_key, sizeof(a->forward_key));
	assert_memory_equal(a->backward_key, b->backward_key, sizeof(a->backward_key));
	assert_memory_equal(a->forward_digest, b->forward_digest, sizeof(a->forward_digest));
	assert_memory_equal(a->backward_digest, b->backward_digest, sizeof(a->backward_digest));
}

/* ---- the client's view of a circuit ----------------------------------- */

struct client_hop {
	struct relay_cipher forward, backward;
	struct relay_digest forward_digest, backward_digest;
};

static void
client_hop_init(struct client_hop *h, const struct circuit_keys *keys)
{
	relay_cipher_init(engine, &h->forward, keys->forward_key);
	relay_cipher_init(engine, &h->backward, keys->backward_key);
	relay_digest_init(&h->forward_digest, keys->forward_digest);
	relay_digest_init(&h->backward_digest, keys->backward_digest);
}

/* A relay cell for hop target of hops (tor-spec "Routing relay cells"). */
static void
client_relay_cell(struct client_hop *hops, int target, uint32_t circ_id, uint8_t cell_command,
		uint8_t relay_command, const uint8_t *data, uint16_t len, uint8_t cell[CELL_LEN])
{
	uint8_t *payload = cell_wire_payload(cell);

	memset(cell, 0, CELL_LEN);
	cell_wire_set_circ_id(cell, circ_id);
	cell[CELL_CIRC_ID_LEN] = cell_command;
	payload[RELAY_OFFSET_COMMAND] = relay_command;
	wire_write_u16(payload + RELAY_OFFSET_STREAM_ID, 0);
	wire_write_u16(payload + RELAY_OFFSET_LENGTH, len);
	memcpy(payload + RELAY_HEADER_LEN, data, len);
	relay_digest_stamp(&hops[target].forward_digest, payload);
	for (int i = target; i >= 0; i--) {
		struct relay_cipher *c = &hops[i].forward;

		relay_crypt_burst(engine, &c, &payload, 1);
	}
}

/* Peels layers until a hop recognizes the cell; returns it or -1. */
static int
client_receive(struct client_hop *hops, int nb_hops, uint8_t cell[CELL_LEN])
{
	uint8_t *payload = cell_wire_payload(cell);

	for (int i = 0; i < nb_hops; i++) {
		struct relay_cipher *c = &hops[i].backward;

		relay_crypt_burst(engine, &c, &payload, 1);
		if (relay_digest_check(&hops[i].backward_digest, payload))
			return i;
	}
	return -1;
}

static uint8_t
through(struct circuit_table *t, uint32_t link, uint8_t cell[CELL_LEN], uint32_t *out_link,
		uint32_t *circuit)
{
	struct circuit_cell c = { .cell = cell, .link = link };
	struct circuit_extra_cell extra[1];
	unsigned nb_extra = 0;

	assert_int_equal(circuit_cells_burst(t, engine, &c, 1, extra, &nb_extra), 1);
	assert_int_equal(nb_extra, 0);
	if (out_link != NULL)
		*out_link = c.out_link;
	if (circuit != NULL)
		*circuit = c.circuit;
	return c.verdict;
}

static struct circuit_table *
table_new(void)
{
	struct circuit_table_config cfg = { .max_circuits = 16, .socket_id = 0 };
	struct circuit_table *t;
	int err;

	t = circuit_table_create(&cfg, &err);
	assert_non_null(t);
	return t;
}

static void
assert_local_payload(uint8_t cell[CELL_LEN], uint8_t relay_command, const uint8_t *data,
		uint16_t len)
{
	const uint8_t *p = cell_wire_payload(cell);
	struct relay_cell rc;

	assert_int_equal(relay_cell_parse(&p, p + CELL_PAYLOAD_LEN, &rc), 0);
	assert_int_equal(rc.command, relay_command);
	assert_int_equal(rc.length, len);
	assert_memory_equal(rc.data, data, len);
}

/* ---- tests ------------------------------------------------------------- */

/* arti's ntor vector (tor-proto crypto/handshake/ntor.rs "testvec", also in
 * tests/unit/test_ntor.c): with its ephemeral key the CREATED2 body is the
 * published server handshake, and the keys are its 72 bytes of key
 * material split Df | Db | Kf | Kb. */
#define VEC_B_SK "4820544f4c4420594f5520444f474954204b454550532048415050454e494e47"
#define VEC_X_SK "706f6461792069207075742e2e2e2e2e2e2e2e4a454c4c59206f6e2074686973"
#define VEC_Y_SK "70686520737175697272656c2e2e2e2e2e2e2e2e686173206869732067616d65"
#define VEC_ID "69546f6c64596f7541626f75745374616972732e"
#define VEC_CLIENT_HANDSHAKE \
	"69546f6c64596f7541626f75745374616972732eccbc8541904d18af08753eae9678" \
	"74749e6149f873de937f57f8fd903a21c471e65dfdbef8b2635837fe2cebc086a809" \
	"6eae3213e6830dc407516083d412b078"
#define VEC_SERVER_HANDSHAKE \
	"390480a14362761d6aec1fea840f6e9e928fb2adb7b25c670be1045e35133a371cbd" \
	"f68b89923e1f85e8e18ee6e805ea333fe4849c790ffd2670bd80fec95cc8"
#define VEC_KEYS \
	"0c62dee7f48893370d0ef896758d35729867beef1a5121df80e00f79ed349af39b51" \
	"cae125719182f19d932a667dae1afbf2e336e6910e7822223e763afad0a133421579" \
	"69dc6b79"

static void
keypair_from_hex(struct ntor_keypair *kp, const char *hex)
{
	uint8_t secret[32];

	assert_int_equal(test_hex(hex, secret, sizeof(secret)), 32);
	assert_int_equal(ntor_keypair_from_secret(kp, secret), 0);
}

static void
test_ntor_vector(void **state)
{
	struct circuit_handshake_keys k;
	struct circuit_handshake_result result;
	struct circuit_keys keys, want;
	struct ntor_keypair x, y;
	struct ntor_client_state client;
	uint8_t hdata[NTOR_ONIONSKIN_LEN], want_hdata[NTOR_ONIONSKIN_LEN];
	uint8_t server_hs[NTOR_REPLY_LEN];
	uint8_t material[NTOR_TOR1_KEY_MATERIAL_LEN], cell[CELL_LEN], reply[CELL_LEN];
	const uint8_t *payload = reply + CELL_CIRC_ID_LEN + 1;

	(void)state;
	memset(&k, 0, sizeof(k));
	assert_int_equal(test_hex(VEC_ID, k.rsa_id, sizeof(k.rsa_id)), 20);
	/* The vector's relay has one onion key, in the previous slot here:
	 * the current one is another. */
	assert_int_equal(ntor_keypair_generate(&k.onion_keys[0]), 0);
	keypair_from_hex(&k.onion_keys[1], VEC_B_SK);
	k.onion_key_count = 2;
	keypair_from_hex(&y, VEC_Y_SK);
	assert_int_equal(test_hex(VEC_CLIENT_HANDSHAKE, hdata, sizeof(hdata)), sizeof(hdata));
	assert_int_equal(test_hex(VEC_SERVER_HANDSHAKE, server_hs, sizeof(server_hs)),
			sizeof(server_hs));
	assert_int_equal(test_hex(VEC_KEYS, material, sizeof(material)), sizeof(material));

	write_create2(0x80000042u, HANDSHAKE_TYPE_NTOR, hdata, sizeof(hdata), cell);
	assert_int_equal(circuit_handshake_server_with_ephemeral(&k, &y, NULL, cell, &keys, reply,
			&result), 0);
	assert_int_equal(cell_wire_circ_id(reply), 0x80000042u);
	assert_int_equal(cell_wire_command(reply), CELL_COMMAND_CREATED2);
	assert_int_equal(wire_read_u16(payload), NTOR_REPLY_LEN);
	assert_memory_equal(payload + 2, server_hs, NTOR_REPLY_LEN);
	assert_all_zero(payload + 2 + NTOR_REPLY_LEN, CELL_PAYLOAD_LEN - 2 - NTOR_REPLY_LEN);
	split(material, &want);
	assert_keys_equal(&keys, &want);
	assert_int_equal(result.handshake_type, HANDSHAKE_TYPE_NTOR);
	assert_int_equal(result.onion_key_index, 1);
	assert_false(result.cc_requested);
	assert_false(result.cc_enabled);

	/* The vector's client, completing on our CREATED2. */
	keypair_from_hex(&x, VEC_X_SK);
	assert_int_equal(ntor_client_create_with_ephemeral(&client, k.rsa_id,
			k.onion_keys[1].public_key, &x, hdata, sizeof(hdata)), NTOR_ONIONSKIN_LEN);
	assert_int_equal(test_hex(VEC_CLIENT_HANDSHAKE, want_hdata, sizeof(want_hdata)),
			sizeof(want_hdata));
	assert_memory_equal(hdata, want_hdata, sizeof(hdata));
	assert_int_equal(ntor_client_complete(&client, payload + 2, NTOR_REPLY_LEN, material,
			sizeof(material)), 0);
	split(material, &want);
	assert_keys_equal(&keys, &want);
}

/* Every handshake with both onion keys: the client derives the same four
 * keys and KH as the relay; the ntor-v3 server message is the extension
 * list tor 0.4.9 sends (congestion_control_build_ext_response). */
static void
test_round_trips(void **state)
{
	static const struct {
		enum client_kind kind;
		uint16_t htype;
		uint8_t command;
	} cases[] = {
		{ CLIENT_NTOR, HANDSHAKE_TYPE_NTOR, CELL_COMMAND_CREATE2 },
		{ CLIENT_NTOR_V3, HANDSHAKE_TYPE_NTOR_V3, CELL_COMMAND_CREATE2 },
		{ CLIENT_NTOR_V3_CC, HANDSHAKE_TYPE_NTOR_V3, CELL_COMMAND_CREATE2 },
		{ CLIENT_FAST, CIRCUIT_HANDSHAKE_TYPE_FAST, CELL_COMMAND_CREATE_FAST },
	};
	static const uint8_t no_ext[] = { 0 };
	static const uint8_t cc_31[] = { 1, CIRCUIT_EXTENSION_CC_RESPONSE, 1, 31 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t key = 0; key < 2; key++) {
			struct client_handshake c;
			struct client_result r;
			struct circuit_handshake_result result;
			struct circuit_keys keys;
			uint8_t cell[CELL_LEN], reply[CELL_LEN];
			uint32_t circ_id = 0x80000000u + (uint32_t)(i * 2 + key);

			client_create(&c, cases[i].kind, &relay_a, key, circ_id, cell);
			assert_int_equal(circuit_handshake_server(&relay_a, cell, &keys, reply,
					&result), 0);
			assert_int_equal(result.cell_command, cases[i].command);
			assert_int_equal(result.handshake_type, cases[i].htype);
			assert_int_equal(cell_wire_circ_id(reply), circ_id);
			client_complete_cell(&c, reply, &r);
			assert_keys_equal(&keys, &r.keys);
			assert_memory_equal(result.kh, r.kh, CIRCUIT_KH_LEN);
			if (cases[i].kind != CLIENT_FAST)
				assert_int_equal(result.onion_key_index, key);
			if (cases[i].kind == CLIENT_NTOR_V3) {
				assert_false(result.cc_requested);
				assert_false(result.cc_enabled);
				assert_int_equal(r.server_msg_len, sizeof(no_ext));
				assert_memory_equal(r.server_msg, no_ext, sizeof(no_ext));
			} else if (cases[i].kind == CLIENT_NTOR_V3_CC) {
				assert_true(result.cc_requested);
				assert_true(result.cc_enabled);
				assert_int_equal(result.cc_sendme_inc, 31);
				assert_int_equal(r.server_msg_len, sizeof(cc_31));
				assert_memory_equal(r.server_msg, cc_31, sizeof(cc_31));
			} else {
				assert_false(result.cc_requested);
			}
		}
	}
}

/* Consensus parameters: cc_sendme_inc goes into the response as given,
 * clamped to [1, 254] like networkstatus_get_param(); with congestion
 * control off (cc_alg=0) a request gets an empty extension list. */
static void
test_cc_params(void **state)
{
	static const struct {
		bool enabled;
		uint8_t sendme_inc;
		uint8_t want_msg[4];
		size_t want_len;
	} cases[] = {
		{ true, 50, { 1, 2, 1, 50 }, 4 },
		{ true, 0, { 1, 2, 1, 1 }, 4 },
		{ true, 255, { 1, 2, 1, 254 }, 4 },
		{ false, 31, { 0 }, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct circuit_handshake_keys k = relay_a;
		struct client_handshake c;
		struct client_result r;
		struct circuit_handshake_result result;
		struct circuit_keys keys;
		uint8_t cell[CELL_LEN], reply[CELL_LEN];

		k.cc.enabled = cases[i].enabled;
		k.cc.sendme_inc = cases[i].sendme_inc;
		client_create(&c, CLIENT_NTOR_V3_CC, &k, 0, 5, cell);
		assert_int_equal(circuit_handshake_server(&k, cell, &keys, reply, &result), 0);
		assert_true(result.cc_requested);
		assert_int_equal(result.cc_enabled, cases[i].enabled);
		assert_int_equal(result.cc_sendme_inc,
				cases[i].enabled ? cases[i].want_msg[3] : 0);
		client_complete_cell(&c, reply, &r);
		assert_int_equal(r.server_msg_len, cases[i].want_len);
		assert_memory_equal(r.server_msg, cases[i].want_msg, cases[i].want_len);
		assert_keys_equal(&keys, &r.keys);
	}
}

/* CREATE_FAST with a fixed Y: CREATED_FAST is Y | KH with KH the first
 * 20 bytes of KDF-TOR(X | Y) (computed here independently). */
static void
test_create_fast_layout(void **state)
{
	struct circuit_handshake_result result;
	struct circuit_keys keys, want;
	uint8_t x[20], y[20], k0[40], out[92], cell[CELL_LEN], reply[CELL_LEN];
	const uint8_t *payload = reply + CELL_CIRC_ID_LEN + 1;

	(void)state;
	test_fill(x, sizeof(x), 77);
	test_fill(y, sizeof(y), 78);
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, 9);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE_FAST;
	memcpy(cell_wire_payload(cell), x, 20);
	assert_int_equal(circuit_handshake_server_with_ephemeral(&relay_a, NULL, y, cell, &keys,
			reply, &result), 0);
	memcpy(k0, x, 20);
	memcpy(k0 + 20, y, 20);
	assert_int_equal(kdf_tor(k0, sizeof(k0), out, sizeof(out)), 0);
	assert_int_equal(cell_wire_command(reply), CELL_COMMAND_CREATED_FAST);
	assert_int_equal(cell_wire_circ_id(reply), 9);
	assert_memory_equal(payload, y, 20);
	assert_memory_equal(payload + 20, out, 20);
	assert_memory_equal(result.kh, out, 20);
	split(out + 20, &want);
	assert_keys_equal(&keys, &want);
}

/* The keys work: installed in a circuit table, they decrypt and verify a
 * relay cell the client built with its own keys (LOCAL, same payload),
 * and a cell the relay originates is recognized by the client. */
static void
test_keys_work_on_circuit(void **state)
{
	static const enum client_kind kinds[] = {
		CLIENT_NTOR, CLIENT_NTOR_V3, CLIENT_NTOR_V3_CC, CLIENT_FAST,
	};
	struct circuit_table *t = table_new();

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct client_handshake c;
		struct client_result r;
		struct circuit_handshake_result result;
		struct circuit_keys keys;
		struct client_hop hop;
		uint8_t cell[CELL_LEN], reply[CELL_LEN], data[300];
		uint32_t circ_id = 0x80000100u + (uint32_t)i, handle, circuit, p_link;
		const uint32_t link = 3;

		client_create(&c, kinds[i], &relay_a, i % 2, circ_id, cell);
		/* The worker hands CREATE2 / CREATE_FAST to control. */
		assert_int_equal(through(t, link, cell, NULL, &circuit), CIRCUIT_VERDICT_CONTROL);
		assert_int_equal(circuit, CIRCUIT_NONE);
		assert_int_equal(circuit_handshake_server(&relay_a, cell, &keys, reply, &result),
				0);
		assert_int_equal(circuit_create(t, engine, &keys, link, circ_id, &handle), 0);
		client_complete_cell(&c, reply, &r);
		client_hop_init(&hop, &r.keys);

		for (int round = 0; round < 3; round++) {
			uint16_t len = (uint16_t)(100 * round + 17);

			test_fill(data, len, (uint64_t)(i * 10 + (size_t)round));
			client_relay_cell(&hop, 0, circ_id, CELL_COMMAND_RELAY, RELAY_COMMAND_DROP,
					data, len, cell);
			assert_int_equal(through(t, link, cell, NULL, &circuit),
					CIRCUIT_VERDICT_LOCAL);
			assert_int_equal(circuit, handle);
			assert_local_payload(cell, RELAY_COMMAND_DROP, data, len);

			assert_int_equal(circuit_originate_backward(t, engine, handle,
					RELAY_COMMAND_DROP, 0, data, len, cell, &p_link), 0);
			assert_int_equal(p_link, link);
			assert_int_equal(client_receive(&hop, 1, cell), 0);
			assert_local_payload(cell, RELAY_COMMAND_DROP, data, len);
		}
		assert_int_equal(circuit_free(t, handle), 0);
	}
	circuit_table_destroy(t);
}

/* Builds an EXTEND2 body: IPv4, RSA id, Ed25519 id, the handshake. */
static uint16_t
extend2_body(const uint8_t ipv4[4], uint16_t port, const uint8_t *rsa_id,
		const uint8_t *ed_id, uint16_t htype, const uint8_t *hdata, uint16_t hlen,
		uint8_t out[RELAY_DATA_MAX])
{
	struct extend2_cell e;
	ssize_t n;

	memset(&e, 0, sizeof(e));
	if (ipv4 != NULL) {
		e.specifiers[e.n_specifiers].type = LINK_SPECIFIER_IPV4;
		e.specifiers[e.n_specifiers].length = LINK_SPECIFIER_IPV4_LEN;
		memcpy(e.specifiers[e.n_specifiers].u.ipv4.address, ipv4, 4);
		e.specifiers[e.n_specifiers++].u.ipv4.port = port;
	}
	if (rsa_id != NULL) {
		e.specifiers[e.n_specifiers].type = LINK_SPECIFIER_LEGACY_ID;
		e.specifiers[e.n_specifiers].length = LINK_SPECIFIER_LEGACY_ID_LEN;
		memcpy(e.specifiers[e.n_specifiers++].u.legacy_id, rsa_id, 20);
	}
	if (ed_id != NULL) {
		e.specifiers[e.n_specifiers].type = LINK_SPECIFIER_ED25519_ID;
		e.specifiers[e.n_specifiers].length = LINK_SPECIFIER_ED25519_ID_LEN;
		memcpy(e.specifiers[e.n_specifiers++].u.ed25519_id, ed_id, 32);
	}
	e.create2.htype = htype;
	e.create2.hlen = hlen;
	e.create2.hdata = hdata;
	n = extend2_cell_encode(&e, out, RELAY_DATA_MAX);
	assert_true(n > 0);
	return (uint16_t)n;
}

static const uint8_t public_ipv4[4] = { 198, 51, 100, 7 };

/* A client builds hop 1 at relay A (ntor-v3 with CC), then extends to
 * relay B (ntor) through A: EXTEND2 in RELAY_EARLY reaches A's control as
 * LOCAL; A checks it and sends CREATE2 to B; B answers; A turns CREATED2
 * into EXTENDED2 and originates it; the client completes with B and sends
 * a cell that A forwards and B recognizes. */
static void
test_extend_end_to_end(void **state)
{
	struct circuit_table *ta = table_new(), *tb = table_new();
	struct client_handshake ca, cb;
	struct client_result ra, rb;
	struct circuit_handshake_result result;
	struct circuit_keys keys_a, keys_b;
	struct client_hop hops[2];
	struct circuit_extend_request req;
	struct circuit_extend_policy policy = {
		.own_rsa_id = relay_a.rsa_id,
		.own_ed25519_id = relay_a.ed25519_id,
		.previous_rsa_id = NULL,
		.previous_ed25519_id = NULL,
		.allow_private = false,
		.ipv6_supported = false,
	};
	uint8_t cell[CELL_LEN], reply[CELL_LEN], hdata[CREATE2_HDATA_MAX];
	uint8_t body[RELAY_DATA_MAX], extended[RELAY_DATA_MAX], data[50];
	uint16_t hlen, body_len, extended_len;
	uint8_t reason = 0;
	uint32_t handle_a, handle_b, circuit, out_link, p_link;
	const uint32_t client_link = 1, a_to_b_link = 2, b_from_a_link = 5;
	const uint32_t circ_id = 0x80000007u, n_circ_id = 0x80000abcu;
	const uint8_t *p;
	struct relay_cell rc;
	struct extended2_cell e2;

	(void)state;
	/* Hop 1. */
	client_create(&ca, CLIENT_NTOR_V3_CC, &relay_a, 0, circ_id, cell);
	assert_int_equal(circuit_handshake_server(&relay_a, cell, &keys_a, reply, &result), 0);
	assert_int_equal(circuit_create(ta, engine, &keys_a, client_link, circ_id, &handle_a), 0);
	client_complete_cell(&ca, reply, &ra);
	client_hop_init(&hops[0], &ra.keys);

	/* EXTEND2 to B, as a client sends it. */
	hlen = client_onionskin(&cb, CLIENT_NTOR, &relay_b, 0, hdata);
	body_len = extend2_body(public_ipv4, 9001, relay_b.rsa_id, relay_b.ed25519_id,
			HANDSHAKE_TYPE_NTOR, hdata, hlen, body);
	client_relay_cell(hops, 0, circ_id, CELL_COMMAND_RELAY_EARLY, RELAY_COMMAND_EXTEND2, body,
			body_len, cell);
	assert_int_equal(through(ta, client_link, cell, NULL, &circuit), CIRCUIT_VERDICT_LOCAL);
	assert_int_equal(circuit, handle_a);

	/* A's control thread. */
	p = cell_wire_payload(cell);
	assert_int_equal(relay_cell_parse(&p, p + CELL_PAYLOAD_LEN, &rc), 0);
	assert_int_equal(rc.command, RELAY_COMMAND_EXTEND2);
	p = rc.data;
	assert_int_equal(circuit_extend_request_parse(&p, rc.data + rc.length, &req), 0);
	assert_ptr_equal(p, rc.data + rc.length);
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), 0);
	assert_true(req.has_ipv4);
	assert_false(req.has_ipv6);
	assert_memory_equal(req.ipv4_address, public_ipv4, 4);
	assert_int_equal(req.ipv4_port, 9001);
	assert_memory_equal(req.rsa_id, relay_b.rsa_id, 20);
	assert_true(req.has_ed25519_id);
	assert_memory_equal(req.ed25519_id, relay_b.ed25519_id, 32);
	assert_int_equal(circuit_extend_create_cell(&req, n_circ_id, cell), 0);
	assert_int_equal(circuit_extend_begin(ta, handle_a, a_to_b_link, n_circ_id), 0);

	/* B answers the CREATE2. */
	assert_int_equal(cell_wire_circ_id(cell), n_circ_id);
	assert_int_equal(through(tb, b_from_a_link, cell, NULL, &circuit),
			CIRCUIT_VERDICT_CONTROL);
	assert_int_equal(circuit_handshake_server(&relay_b, cell, &keys_b, reply, &result), 0);
	assert_int_equal(result.handshake_type, HANDSHAKE_TYPE_NTOR);
	assert_int_equal(circuit_create(tb, engine, &keys_b, b_from_a_link, n_circ_id, &handle_b),
			0);

	/* CREATED2 reaches A's control, which sends EXTENDED2 back. */
	assert_int_equal(through(ta, a_to_b_link, reply, NULL, &circuit), CIRCUIT_VERDICT_CONTROL);
	assert_int_equal(circuit, handle_a);
	assert_int_equal(circuit_extend_created(reply, extended, &extended_len), 0);
	assert_int_equal(circuit_originate_backward(ta, engine, handle_a, RELAY_COMMAND_EXTENDED2,
			0, extended, extended_len, cell, &p_link), 0);
	assert_int_equal(circuit_extend_done(ta, handle_a), 0);
	assert_int_equal(p_link, client_link);

	/* The client finishes hop 2. */
	assert_int_equal(client_receive(hops, 1, cell), 0);
	p = cell_wire_payload(cell);
	assert_int_equal(relay_cell_parse(&p, p + CELL_PAYLOAD_LEN, &rc), 0);
	assert_int_equal(rc.command, RELAY_COMMAND_EXTENDED2);
	p = rc.data;
	assert_int_equal(extended2_cell_parse(&p, rc.data + rc.length, &e2), 0);
	assert_int_equal(client_complete(&cb, e2.hdata, e2.hlen, &rb), 0);
	assert_keys_equal(&keys_b, &rb.keys);
	client_hop_init(&hops[1], &rb.keys);

	/* A cell for hop 2 crosses A and is recognized at B; B's answer
	 * crosses A back to the client. */
	test_fill(data, sizeof(data), 5);
	client_relay_cell(hops, 1, circ_id, CELL_COMMAND_RELAY, RELAY_COMMAND_DROP, data,
			sizeof(data), cell);
	assert_int_equal(through(ta, client_link, cell, &out_link, NULL), CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(out_link, a_to_b_link);
	assert_int_equal(cell_wire_circ_id(cell), n_circ_id);
	assert_int_equal(through(tb, b_from_a_link, cell, NULL, &circuit), CIRCUIT_VERDICT_LOCAL);
	assert_int_equal(circuit, handle_b);
	assert_local_payload(cell, RELAY_COMMAND_DROP, data, sizeof(data));
	assert_int_equal(circuit_originate_backward(tb, engine, handle_b, RELAY_COMMAND_DROP, 0,
			data, sizeof(data), cell, &p_link), 0);
	assert_int_equal(through(ta, a_to_b_link, cell, &out_link, NULL), CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(out_link, client_link);
	assert_int_equal(client_receive(hops, 2, cell), 1);
	assert_local_payload(cell, RELAY_COMMAND_DROP, data, sizeof(data));

	circuit_table_destroy(ta);
	circuit_table_destroy(tb);
}

/* Runs the server on cell and checks a refusal: error code, DESTROY
 * reason, and nothing left in keys or reply. */
static void
assert_refused(const struct circuit_handshake_keys *k, const uint8_t cell[CELL_LEN], int want,
		uint8_t want_reason)
{
	struct circuit_handshake_result result;
	struct circuit_keys keys;
	uint8_t reply[CELL_LEN];

	memset(&keys, 0xaa, sizeof(keys));
	memset(reply, 0xaa, sizeof(reply));
	assert_int_equal(circuit_handshake_server(k, cell, &keys, reply, &result), want);
	assert_int_equal(result.destroy_reason, want_reason);
	assert_all_zero(&keys, sizeof(keys));
	assert_all_zero(reply, sizeof(reply));
	assert_all_zero(result.kh, sizeof(result.kh));
	assert_false(result.cc_enabled);
}

static void
test_server_refusals(void **state)
{
	struct circuit_handshake_keys other = relay_a;
	struct client_handshake c;
	uint8_t cell[CELL_LEN], hdata[CREATE2_HDATA_MAX];
	uint16_t hlen;

	(void)state;
	/* Not our RSA identity (ntor NODEID) / Ed25519 identity (ntor-v3). */
	other.rsa_id[0] ^= 1;
	client_create(&c, CLIENT_NTOR, &other, 0, 1, cell);
	assert_refused(&relay_a, cell, -ENOKEY, DESTROY_REASON_PROTOCOL);
	other = relay_a;
	other.ed25519_id[31] ^= 0x80;
	client_create(&c, CLIENT_NTOR_V3_CC, &other, 0, 1, cell);
	assert_refused(&relay_a, cell, -ENOKEY, DESTROY_REASON_PROTOCOL);

	/* An onion key we do not hold: both of ours are tried, neither fits.
	 * (Each of ours is accepted: test_round_trips.) */
	other = relay_a;
	assert_int_equal(ntor_keypair_generate(&other.onion_keys[0]), 0);
	client_create(&c, CLIENT_NTOR, &other, 0, 1, cell);
	assert_refused(&relay_a, cell, -ENOKEY, DESTROY_REASON_PROTOCOL);
	client_create(&c, CLIENT_NTOR_V3, &other, 0, 1, cell);
	assert_refused(&relay_a, cell, -ENOKEY, DESTROY_REASON_PROTOCOL);
	/* After a rotation drops the previous key, its clients fail. */
	other = relay_a;
	other.onion_key_count = 1;
	client_create(&c, CLIENT_NTOR, &relay_a, 1, 1, cell);
	assert_refused(&other, cell, -ENOKEY, DESTROY_REASON_PROTOCOL);

	/* Truncated handshake data (onion.c check_create_cell: ntor is
	 * exactly 84 bytes; ntor-v3 needs its 128 fixed bytes). */
	hlen = client_onionskin(&c, CLIENT_NTOR, &relay_a, 0, hdata);
	write_create2(1, HANDSHAKE_TYPE_NTOR, hdata, (uint16_t)(hlen - 1), cell);
	assert_refused(&relay_a, cell, -EPROTO, DESTROY_REASON_PROTOCOL);
	write_create2(1, HANDSHAKE_TYPE_NTOR, hdata, (uint16_t)(hlen + 1), cell);
	assert_refused(&relay_a, cell, -EPROTO, DESTROY_REASON_PROTOCOL);
	write_create2(1, HANDSHAKE_TYPE_NTOR_V3, hdata, NTOR_V3_ONIONSKIN_MIN_LEN - 1, cell);
	assert_refused(&relay_a, cell, -EPROTO, DESTROY_REASON_PROTOCOL);
	/* HLEN beyond the cell. */
	write_create2(1, HANDSHAKE_TYPE_NTOR, hdata, hlen, cell);
	wire_write_u16(cell_wire_payload(cell) + 2, CREATE2_HDATA_MAX + 1);
	assert_refused(&relay_a, cell, -EPROTO, DESTROY_REASON_PROTOCOL);

	/* TAP (gone in 0.4.9), CREATE_FAST's type in CREATE2, unknown. */
	write_create2(1, HANDSHAKE_TYPE_TAP, hdata, 186, cell);
	assert_refused(&relay_a, cell, -EPROTONOSUPPORT, DESTROY_REASON_PROTOCOL);
	write_create2(1, CIRCUIT_HANDSHAKE_TYPE_FAST, hdata, 20, cell);
	assert_refused(&relay_a, cell, -EPROTONOSUPPORT, DESTROY_REASON_PROTOCOL);
	write_create2(1, 0x0009, hdata, hlen, cell);
	assert_refused(&relay_a, cell, -EPROTONOSUPPORT, DESTROY_REASON_PROTOCOL);

	/* The old CREATE cell and anything else. */
	write_create2(1, HANDSHAKE_TYPE_NTOR, hdata, hlen, cell);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE;
	assert_refused(&relay_a, cell, -EPROTO, DESTROY_REASON_PROTOCOL);

	/* A tampered ntor-v3 MAC, client key or message. */
	hlen = client_onionskin(&c, CLIENT_NTOR_V3_CC, &relay_a, 0, hdata);
	for (size_t at = 0; at < 3; at++) {
		static const size_t offsets[] = { 0, 64, 128 };
		uint8_t bad[CREATE2_HDATA_MAX];
		size_t off = at == 0 ? hlen - 1u : offsets[at];

		memcpy(bad, hdata, hlen);
		bad[off] ^= 0x01;
		write_create2(1, HANDSHAKE_TYPE_NTOR_V3, bad, hlen, cell);
		assert_refused(&relay_a, cell, -EBADMSG, DESTROY_REASON_PROTOCOL);
	}
}

/* ntor-v3 client messages tor refuses (onion_crypto.c
 * negotiate_v3_ntor_server_circ_params): not an extension list (empty, or
 * a field running past the end), or a SUBPROTO request for a capability
 * we do not implement. Unknown fields are ignored; an empty SUBPROTO
 * list is fine. */
static void
test_ntor_v3_messages(void **state)
{
	static const struct {
		uint8_t msg[8];
		size_t len;
		int want;
		bool cc;
	} cases[] = {
		{ { 0 }, 0, -EPROTO, false },
		{ { 1, 1 }, 2, -EPROTO, false },
		{ { 2, 1, 0 }, 3, -EPROTO, false },
		{ { 1, 9, 3, 1, 2 }, 5, -EPROTO, false },
		{ { 1, CIRCUIT_EXTENSION_SUBPROTO, 2, 0, 6 }, 5, -EPROTO, false },
		{ { 1, CIRCUIT_EXTENSION_SUBPROTO, 0 }, 3, 0, false },
		{ { 2, 42, 2, 7, 7, CIRCUIT_EXTENSION_CC_REQUEST, 0 }, 7, 0, true },
		{ { 1, CIRCUIT_EXTENSION_CC_REQUEST, 1, 5 }, 4, 0, true },
		/* Bytes after the list are ignored, as by trunnel. */
		{ { 0, 0xff, 0xff }, 3, 0, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ntor_v3_client_state client;
		struct circuit_handshake_result result;
		struct circuit_keys keys;
		uint8_t hdata[CREATE2_HDATA_MAX], cell[CELL_LEN], reply[CELL_LEN];
		ssize_t n;

		n = ntor_v3_client_create(&client, relay_a.ed25519_id,
				relay_a.onion_keys[0].public_key,
				(const uint8_t *)NTOR_V3_CIRC_VERIFICATION,
				NTOR_V3_CIRC_VERIFICATION_LEN, cases[i].msg, cases[i].len, hdata,
				sizeof(hdata));
		assert_true(n > 0);
		write_create2(1, HANDSHAKE_TYPE_NTOR_V3, hdata, (uint16_t)n, cell);
		if (cases[i].want != 0) {
			assert_refused(&relay_a, cell, cases[i].want, DESTROY_REASON_PROTOCOL);
			continue;
		}
		assert_int_equal(circuit_handshake_server(&relay_a, cell, &keys, reply, &result),
				0);
		assert_int_equal(result.cc_requested, cases[i].cc);
	}
}

static void
test_extend_refusals(void **state)
{
	static const uint8_t private_ipv4[4] = { 192, 168, 1, 2 };
	static const uint8_t cgnat_ipv4[4] = { 100, 64, 0, 1 };
	static const uint8_t zero_ipv4[4] = { 0 };
	static const uint8_t zero_id[32] = { 0 };
	static const uint8_t other_rsa_id[20] = { 1, 2, 3 };
	static const uint8_t other_ed_id[32] = { 4, 5, 6 };
	struct circuit_extend_policy policy = {
		.own_rsa_id = relay_a.rsa_id,
		.own_ed25519_id = relay_a.ed25519_id,
		.previous_rsa_id = other_rsa_id,	/* some other relay */
		.previous_ed25519_id = other_ed_id,
		.allow_private = false,
		.ipv6_supported = false,
	};
	struct circuit_extend_request req;
	struct client_handshake c;
	uint8_t body[RELAY_DATA_MAX + 8], hdata[CREATE2_HDATA_MAX];
	uint8_t reason;
	uint16_t hlen, len;
	const uint8_t *p;

	(void)state;
	hlen = client_onionskin(&c, CLIENT_NTOR, &relay_b, 0, hdata);

	/* No RSA identity (tor requires it), or two of them. */
	len = extend2_body(public_ipv4, 443, NULL, relay_b.ed25519_id, HANDSHAKE_TYPE_NTOR, hdata,
			hlen, body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), -EPROTO);
	assert_ptr_equal(p, body);
	{
		struct extend2_cell e;
		ssize_t n;

		memset(&e, 0, sizeof(e));
		e.n_specifiers = 3;
		e.specifiers[0].type = LINK_SPECIFIER_IPV4;
		e.specifiers[0].length = 6;
		memcpy(e.specifiers[0].u.ipv4.address, public_ipv4, 4);
		e.specifiers[0].u.ipv4.port = 443;
		for (int i = 1; i < 3; i++) {
			e.specifiers[i].type = LINK_SPECIFIER_LEGACY_ID;
			e.specifiers[i].length = 20;
			memcpy(e.specifiers[i].u.legacy_id, relay_b.rsa_id, 20);
		}
		e.create2 = (struct create2_cell){ HANDSHAKE_TYPE_NTOR, hlen, hdata };
		n = extend2_cell_encode(&e, body, RELAY_DATA_MAX);
		assert_true(n > 0);
		p = body;
		assert_int_equal(circuit_extend_request_parse(&p, body + n, &req), -EPROTO);
	}
	/* All-zero RSA identity. */
	len = extend2_body(public_ipv4, 443, zero_id, NULL, HANDSHAKE_TYPE_NTOR, hdata, hlen, body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), -EPROTO);
	/* No address, a zero address, a zero port. */
	len = extend2_body(NULL, 0, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata, hlen, body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), -EPROTO);
	len = extend2_body(zero_ipv4, 443, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata, hlen,
			body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), -EPROTO);
	len = extend2_body(public_ipv4, 0, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata, hlen,
			body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), -EPROTO);
	/* TAP, CREATE_FAST, ntor of the wrong length. */
	len = extend2_body(public_ipv4, 443, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_TAP, hdata, 186,
			body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), -EPROTO);
	len = extend2_body(public_ipv4, 443, relay_b.rsa_id, NULL, CIRCUIT_HANDSHAKE_TYPE_FAST,
			hdata, 20, body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), -EPROTO);
	len = extend2_body(public_ipv4, 443, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata,
			(uint16_t)(hlen - 1), body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), -EPROTO);
	/* Truncated, and longer than one relay message. */
	len = extend2_body(public_ipv4, 443, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata, hlen,
			body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len - 1, &req), -EINVAL);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + RELAY_DATA_MAX + 1, &req),
			-EINVAL);

	/* Private addresses: refused unless allowed (ExtendAllowPrivateAddresses). */
	len = extend2_body(private_ipv4, 443, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata,
			hlen, body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), 0);
	reason = 0;
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), -EPERM);
	assert_int_equal(reason, DESTROY_REASON_PROTOCOL);
	policy.allow_private = true;
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), 0);
	assert_true(req.has_ipv4);
	policy.allow_private = false;
	len = extend2_body(cgnat_ipv4, 443, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata, hlen,
			body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), 0);
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), -EPERM);

	/* To ourselves, by either identity: CONNECTFAILED. */
	len = extend2_body(public_ipv4, 443, relay_a.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata, hlen,
			body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), 0);
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), -EADDRINUSE);
	assert_int_equal(reason, DESTROY_REASON_CONNECTFAILED);
	len = extend2_body(public_ipv4, 443, relay_b.rsa_id, relay_a.ed25519_id,
			HANDSHAKE_TYPE_NTOR, hdata, hlen, body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), 0);
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), -EADDRINUSE);

	/* Back to the previous hop. */
	policy.previous_rsa_id = relay_b.rsa_id;
	policy.previous_ed25519_id = NULL;
	len = extend2_body(public_ipv4, 443, relay_b.rsa_id, NULL, HANDSHAKE_TYPE_NTOR, hdata, hlen,
			body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), 0);
	reason = 0;
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), -ELOOP);
	assert_int_equal(reason, DESTROY_REASON_PROTOCOL);
	policy.previous_rsa_id = NULL;
	policy.previous_ed25519_id = relay_b.ed25519_id;
	len = extend2_body(public_ipv4, 443, relay_b.rsa_id, relay_b.ed25519_id,
			HANDSHAKE_TYPE_NTOR, hdata, hlen, body);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + len, &req), 0);
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), -ELOOP);
	policy.previous_ed25519_id = NULL;
}

/* IPv6 specifiers: first of each family wins; IPv6-only needs IPv6
 * support; a private IPv6 next to a public IPv4 is dropped; unknown
 * specifiers are skipped; unknown handshake types pass through to the
 * CREATE2 unchanged. */
static void
test_extend_ipv6_and_passthrough(void **state)
{
	static const uint8_t public_ipv6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t link_local[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t mapped_private[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
		10, 1, 2, 3 };
	struct circuit_extend_policy policy = { .ipv6_supported = false };
	struct circuit_extend_request req;
	struct extend2_cell e;
	uint8_t body[RELAY_DATA_MAX], hdata[200], cell[CELL_LEN], reason = 0;
	const uint8_t *p;
	ssize_t n;

	(void)state;
	test_fill(hdata, sizeof(hdata), 3);
	memset(&e, 0, sizeof(e));
	e.n_specifiers = 5;
	e.specifiers[0].type = LINK_SPECIFIER_IPV6;
	e.specifiers[0].length = 18;
	memcpy(e.specifiers[0].u.ipv6.address, public_ipv6, 16);
	e.specifiers[0].u.ipv6.port = 9001;
	e.specifiers[1].type = LINK_SPECIFIER_IPV6;	/* ignored: second IPv6 */
	e.specifiers[1].length = 18;
	memcpy(e.specifiers[1].u.ipv6.address, link_local, 16);
	e.specifiers[1].u.ipv6.port = 1;
	e.specifiers[2].type = 77;			/* unknown: skipped */
	e.specifiers[2].length = 3;
	e.specifiers[2].u.unknown = (const uint8_t *)"abc";
	e.specifiers[3].type = LINK_SPECIFIER_LEGACY_ID;
	e.specifiers[3].length = 20;
	memcpy(e.specifiers[3].u.legacy_id, relay_b.rsa_id, 20);
	e.specifiers[4].type = LINK_SPECIFIER_ED25519_ID;	/* all zero: none */
	e.specifiers[4].length = 32;
	e.create2 = (struct create2_cell){ 0x0107, sizeof(hdata), hdata };
	n = extend2_cell_encode(&e, body, sizeof(body));
	assert_true(n > 0);
	p = body;
	assert_int_equal(circuit_extend_request_parse(&p, body + n, &req), 0);
	assert_false(req.has_ipv4);
	assert_true(req.has_ipv6);
	assert_false(req.has_ed25519_id);
	assert_memory_equal(req.ipv6_address, public_ipv6, 16);
	assert_int_equal(req.ipv6_port, 9001);
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), -EAFNOSUPPORT);
	assert_int_equal(reason, DESTROY_REASON_CONNECTFAILED);
	policy.ipv6_supported = true;
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), 0);
	assert_true(req.has_ipv6);

	/* The unknown handshake goes on as it came. */
	assert_int_equal(circuit_extend_create_cell(&req, 0x12345678u, cell), 0);
	assert_int_equal(cell_wire_circ_id(cell), 0x12345678u);
	assert_int_equal(cell_wire_command(cell), CELL_COMMAND_CREATE2);
	assert_int_equal(wire_read_u16(cell_wire_payload(cell)), 0x0107);
	assert_int_equal(wire_read_u16(cell_wire_payload(cell) + 2), sizeof(hdata));
	assert_memory_equal(cell_wire_payload(cell) + 4, hdata, sizeof(hdata));
	assert_all_zero(cell_wire_payload(cell) + 4 + sizeof(hdata),
			CELL_PAYLOAD_LEN - 4 - sizeof(hdata));

	/* A private (IPv4-mapped) IPv6 next to a public IPv4: IPv4 only. */
	memcpy(req.ipv6_address, mapped_private, 16);
	req.has_ipv6 = true;
	req.has_ipv4 = true;
	memcpy(req.ipv4_address, public_ipv4, 4);
	req.ipv4_port = 443;
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), 0);
	assert_true(req.has_ipv4);
	assert_false(req.has_ipv6);
	memcpy(req.ipv6_address, link_local, 16);
	req.has_ipv6 = true;
	req.has_ipv4 = false;
	assert_int_equal(circuit_extend_request_check(&req, &policy, &reason), -EPERM);

	/* A request with TAP cannot be formatted. */
	req.handshake_type = HANDSHAKE_TYPE_TAP;
	assert_int_equal(circuit_extend_create_cell(&req, 1, cell), -EINVAL);
}

/* CREATED2 -> EXTENDED2: HLEN | HDATA unchanged; refused when it is not
 * CREATED2 or does not fit a relay message (command.c "Created cell too
 * big to package"). */
static void
test_extend_created(void **state)
{
	uint8_t cell[CELL_LEN], body[RELAY_DATA_MAX];
	uint16_t len = 0;

	(void)state;
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, 0x80000001u);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATED2;
	wire_write_u16(cell_wire_payload(cell), 64);
	test_fill(cell_wire_payload(cell) + 2, 64, 9);
	assert_int_equal(circuit_extend_created(cell, body, &len), 0);
	assert_int_equal(len, 66);
	assert_memory_equal(body, cell_wire_payload(cell), 66);

	wire_write_u16(cell_wire_payload(cell), EXTENDED2_HDATA_MAX);
	assert_int_equal(circuit_extend_created(cell, body, &len), 0);
	assert_int_equal(len, RELAY_DATA_MAX);
	wire_write_u16(cell_wire_payload(cell), EXTENDED2_HDATA_MAX + 1);
	assert_int_equal(circuit_extend_created(cell, body, &len), -EPROTO);
	wire_write_u16(cell_wire_payload(cell), CREATED2_HDATA_MAX + 1);
	assert_int_equal(circuit_extend_created(cell, body, &len), -EPROTO);

	wire_write_u16(cell_wire_payload(cell), 64);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATED_FAST;
	assert_int_equal(circuit_extend_created(cell, body, &len), -EPROTO);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATED;
	assert_int_equal(circuit_extend_created(cell, body, &len), -EPROTO);
}

/* The extension-list codec round-trips and finds the first field. */
static void
test_extensions_codec(void **state)
{
	static const uint8_t wire[] = { 3, 1, 0, 2, 1, 31, 1, 2, 9, 9 };
	struct circuit_extensions ext;
	const struct circuit_extension_field *f;
	uint8_t out[16];
	const uint8_t *p = wire;

	(void)state;
	assert_int_equal(circuit_extensions_parse(&p, wire + sizeof(wire), &ext), 0);
	assert_ptr_equal(p, wire + sizeof(wire));
	assert_int_equal(ext.n_fields, 3);
	f = circuit_extensions_find(&ext, CIRCUIT_EXTENSION_CC_REQUEST);
	assert_non_null(f);
	assert_int_equal(f->length, 0);
	assert_ptr_equal(f, &ext.fields[0]);
	f = circuit_extensions_find(&ext, CIRCUIT_EXTENSION_CC_RESPONSE);
	assert_non_null(f);
	assert_int_equal(f->data[0], 31);
	assert_null(circuit_extensions_find(&ext, 7));
	assert_int_equal(circuit_extensions_encode(&ext, out, sizeof(out)), sizeof(wire));
	assert_memory_equal(out, wire, sizeof(wire));
	assert_int_equal(circuit_extensions_encode(&ext, out, sizeof(wire) - 1), -EMSGSIZE);
	p = wire;
	assert_int_equal(circuit_extensions_parse(&p, wire + sizeof(wire) - 1, &ext), -EINVAL);
	assert_ptr_equal(p, wire);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntor_vector),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_cc_params),
		cmocka_unit_test(test_create_fast_layout),
		cmocka_unit_test(test_keys_work_on_circuit),
		cmocka_unit_test(test_extend_end_to_end),
		cmocka_unit_test(test_server_refusals),
		cmocka_unit_test(test_ntor_v3_messages),
		cmocka_unit_test(test_extend_refusals),
		cmocka_unit_test(test_extend_ipv6_and_passthrough),
		cmocka_unit_test(test_extend_created),
		cmocka_unit_test(test_extensions_codec),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
