/* crypto/ntor: X25519 (RFC 7748 vectors), the ntor handshake against arti's
 * published test vector, and every rejection path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ntor.h"
#include "tests/unit/test_asserts.h"

/* RFC 7748 section 5.2: the two single scalar multiplications. */
static void
test_x25519_rfc7748_scalarmult(void **state)
{
	uint8_t scalar[32], u[32], out[32];

	(void)state;
	assert_unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	      scalar, 32);
	assert_unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	      u, 32);
	assert_int_equal(ntor_dh(out, scalar, u), 0);
	assert_hex_equal(out, 32,
		"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");

	assert_unhex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	      scalar, 32);
	assert_unhex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	      u, 32);
	assert_int_equal(ntor_dh(out, scalar, u), 0);
	assert_hex_equal(out, 32,
		"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

/* RFC 7748 section 6.1: the Diffie-Hellman example. */
static void
test_x25519_rfc7748_dh(void **state)
{
	struct ntor_keypair alice, bob;
	uint8_t secret[32], shared_a[32], shared_b[32];

	(void)state;
	assert_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	      secret, 32);
	assert_int_equal(ntor_keypair_from_secret(&alice, secret), 0);
	assert_hex_equal(alice.public_key, 32,
		"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	      secret, 32);
	assert_int_equal(ntor_keypair_from_secret(&bob, secret), 0);
	assert_hex_equal(bob.public_key, 32,
		"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_int_equal(ntor_dh(shared_a, alice.secret_key, bob.public_key), 0);
	assert_int_equal(ntor_dh(shared_b, bob.secret_key, alice.public_key), 0);
	assert_hex_equal(shared_a, 32,
		"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_memory_equal(shared_a, shared_b, 32);
}

/* Points of small order (0, 1, and the two points of order 8) give an
 * all-zero shared secret for every clamped scalar; tor-spec 5.1.4 says to
 * reject that. */
static const char *const low_order_points[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
};

static void
test_x25519_low_order_rejected(void **state)
{
	struct ntor_keypair keypair;
	uint8_t point[32], out[32];

	(void)state;
	assert_int_equal(ntor_keypair_generate(&keypair), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_unhex(low_order_points[i], point, 32);
		memset(out, 0xaa, sizeof(out));
		assert_int_equal(ntor_dh(out, keypair.secret_key, point),
				 -EINVAL);
		for (size_t j = 0; j < sizeof(out); j++)
			assert_int_equal(out[j], 0);
	}
}

/* arti tor-proto crypto/handshake/ntor.rs, test "testvec". */
#define VEC_B_SK "4820544f4c4420594f5520444f474954204b454550532048415050454e494e47"
#define VEC_B_PK "ccbc8541904d18af08753eae967874749e6149f873de937f57f8fd903a21c471"
#define VEC_X_SK "706f6461792069207075742e2e2e2e2e2e2e2e4a454c4c59206f6e2074686973"
#define VEC_X_PK "e65dfdbef8b2635837fe2cebc086a8096eae3213e6830dc407516083d412b078"
#define VEC_Y_SK "70686520737175697272656c2e2e2e2e2e2e2e2e686173206869732067616d65"
#define VEC_Y_PK "390480a14362761d6aec1fea840f6e9e928fb2adb7b25c670be1045e35133a37"
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
keypair_from_hex(struct ntor_keypair *keypair, const char *sk_hex,
		 const char *pk_hex)
{
	uint8_t secret[32];

	assert_unhex(sk_hex, secret, 32);
	assert_int_equal(ntor_keypair_from_secret(keypair, secret), 0);
	assert_hex_equal(keypair->public_key, 32, pk_hex);
}

static void
vector_server_keys(struct ntor_server_keys *keys)
{
	memset(keys, 0, sizeof(*keys));
	assert_unhex(VEC_ID, keys->node_id, NTOR_NODE_ID_LEN);
	keypair_from_hex(&keys->onion_keys[0], VEC_B_SK, VEC_B_PK);
	keys->onion_key_count = 1;
}

static void
test_ntor_arti_vector(void **state)
{
	struct ntor_server_keys keys;
	struct ntor_keypair x, y;
	struct ntor_client_state client;
	uint8_t onionskin[NTOR_ONIONSKIN_LEN], reply[NTOR_REPLY_LEN];
	uint8_t server_keys[NTOR_TOR1_KEY_MATERIAL_LEN];
	uint8_t client_keys[NTOR_TOR1_KEY_MATERIAL_LEN];

	(void)state;
	vector_server_keys(&keys);
	keypair_from_hex(&x, VEC_X_SK, VEC_X_PK);
	keypair_from_hex(&y, VEC_Y_SK, VEC_Y_PK);

	assert_int_equal(ntor_client_create_with_ephemeral(&client,
		keys.node_id, keys.onion_keys[0].public_key, &x, onionskin,
		sizeof(onionskin)), NTOR_ONIONSKIN_LEN);
	assert_hex_equal(onionskin, sizeof(onionskin), VEC_CLIENT_HANDSHAKE);

	assert_int_equal(ntor_server_handshake_with_ephemeral(&keys, &y,
		onionskin, sizeof(onionskin), reply, sizeof(reply),
		server_keys, sizeof(server_keys)), NTOR_REPLY_LEN);
	assert_hex_equal(reply, sizeof(reply), VEC_SERVER_HANDSHAKE);
	assert_hex_equal(server_keys, sizeof(server_keys), VEC_KEYS);

	assert_int_equal(ntor_client_complete(&client, reply, sizeof(reply),
		client_keys, sizeof(client_keys)), 0);
	assert_hex_equal(client_keys, sizeof(client_keys), VEC_KEYS);
	/* The client state is wiped after use. */
	for (size_t i = 0; i < sizeof(client); i++)
		assert_int_equal(((const uint8_t *)&client)[i], 0);
}

/* Random keys, both onion keys of a rotating relay, and key material
 * lengths other than 72: both sides must agree. */
static void
test_ntor_round_trip(void **state)
{
	struct ntor_server_keys keys;
	struct ntor_client_state client;
	uint8_t onionskin[NTOR_ONIONSKIN_LEN + 5], reply[NTOR_REPLY_LEN + 5];
	uint8_t server_keys[200], client_keys[200];
	const size_t lengths[] = { 1, 72, 92, 200 };

	(void)state;
	memset(&keys, 0, sizeof(keys));
	for (size_t i = 0; i < NTOR_NODE_ID_LEN; i++)
		keys.node_id[i] = (uint8_t)(i * 7);
	assert_int_equal(ntor_keypair_generate(&keys.onion_keys[0]), 0);
	assert_int_equal(ntor_keypair_generate(&keys.onion_keys[1]), 0);
	keys.onion_key_count = 2;

	for (size_t k = 0; k < 2; k++) {
		for (size_t l = 0; l < 4; l++) {
			size_t n = lengths[l];

			assert_int_equal(ntor_client_create(&client,
				keys.node_id, keys.onion_keys[k].public_key,
				onionskin, sizeof(onionskin)),
				NTOR_ONIONSKIN_LEN);
			assert_int_equal(ntor_server_handshake(&keys,
				onionskin, NTOR_ONIONSKIN_LEN, reply,
				sizeof(reply), server_keys, n),
				NTOR_REPLY_LEN);
			assert_int_equal(ntor_client_complete(&client, reply,
				NTOR_REPLY_LEN, client_keys, n), 0);
			assert_memory_equal(server_keys, client_keys, n);
		}
	}
}

static void
test_ntor_server_rejects(void **state)
{
	struct ntor_server_keys keys;
	struct ntor_keypair y;
	uint8_t onionskin[NTOR_ONIONSKIN_LEN + 1], bad[NTOR_ONIONSKIN_LEN];
	uint8_t reply[NTOR_REPLY_LEN], key_material[72];

	(void)state;
	vector_server_keys(&keys);
	keypair_from_hex(&y, VEC_Y_SK, VEC_Y_PK);
	assert_unhex(VEC_CLIENT_HANDSHAKE, onionskin, NTOR_ONIONSKIN_LEN);
	onionskin[NTOR_ONIONSKIN_LEN] = 0;

	/* Every length but 84. */
	for (size_t len = 0; len <= NTOR_ONIONSKIN_LEN + 1; len++) {
		if (len == NTOR_ONIONSKIN_LEN)
			continue;
		assert_int_equal(ntor_server_handshake_with_ephemeral(&keys,
			&y, onionskin, len, reply, sizeof(reply),
			key_material, sizeof(key_material)), -EINVAL);
	}
	/* Another relay's NODEID, an onion key we do not have. */
	memcpy(bad, onionskin, sizeof(bad));
	bad[3] ^= 1;
	assert_int_equal(ntor_server_handshake_with_ephemeral(&keys, &y, bad,
		sizeof(bad), reply, sizeof(reply), key_material,
		sizeof(key_material)), -ENOKEY);
	memcpy(bad, onionskin, sizeof(bad));
	bad[NTOR_NODE_ID_LEN + 5] ^= 1;
	assert_int_equal(ntor_server_handshake_with_ephemeral(&keys, &y, bad,
		sizeof(bad), reply, sizeof(reply), key_material,
		sizeof(key_material)), -ENOKEY);
	/* Low-order X. */
	for (size_t i = 0; i < 4; i++) {
		memcpy(bad, onionskin, sizeof(bad));
		assert_unhex(low_order_points[i], bad + NTOR_NODE_ID_LEN + NTOR_KEY_LEN,
		      NTOR_KEY_LEN);
		memset(key_material, 0xaa, sizeof(key_material));
		assert_int_equal(ntor_server_handshake_with_ephemeral(&keys,
			&y, bad, sizeof(bad), reply, sizeof(reply),
			key_material, sizeof(key_material)), -EINVAL);
		for (size_t j = 0; j < sizeof(key_material); j++)
			assert_int_equal(key_material[j], 0);
	}
	/* Output buffers. */
	assert_int_equal(ntor_server_handshake_with_ephemeral(&keys, &y,
		onionskin, NTOR_ONIONSKIN_LEN, reply, NTOR_REPLY_LEN - 1,
		key_material, sizeof(key_material)), -EMSGSIZE);
	assert_int_equal(ntor_server_handshake_with_ephemeral(&keys, &y,
		onionskin, NTOR_ONIONSKIN_LEN, reply, sizeof(reply),
		key_material, NTOR_MAX_KEY_MATERIAL_LEN + 1), -EMSGSIZE);
	assert_int_equal(ntor_server_handshake_with_ephemeral(&keys, &y,
		onionskin, NTOR_ONIONSKIN_LEN, reply, sizeof(reply), NULL, 0),
		-EINVAL);
	keys.onion_key_count = 0;
	assert_int_equal(ntor_server_handshake_with_ephemeral(&keys, &y,
		onionskin, NTOR_ONIONSKIN_LEN, reply, sizeof(reply),
		key_material, sizeof(key_material)), -EINVAL);
}

static void
test_ntor_client_rejects(void **state)
{
	struct ntor_keypair x;
	struct ntor_client_state client, fresh;
	uint8_t node_id[NTOR_NODE_ID_LEN], onion_key[NTOR_KEY_LEN];
	uint8_t onionskin[NTOR_ONIONSKIN_LEN], reply[NTOR_REPLY_LEN];
	uint8_t bad[NTOR_REPLY_LEN + 1], key_material[72];

	(void)state;
	assert_unhex(VEC_ID, node_id, sizeof(node_id));
	assert_unhex(VEC_B_PK, onion_key, sizeof(onion_key));
	keypair_from_hex(&x, VEC_X_SK, VEC_X_PK);
	assert_unhex(VEC_SERVER_HANDSHAKE, reply, sizeof(reply));
	assert_int_equal(ntor_client_create_with_ephemeral(&fresh, node_id,
		onion_key, &x, onionskin, sizeof(onionskin)),
		NTOR_ONIONSKIN_LEN);
	assert_int_equal(ntor_client_create_with_ephemeral(&fresh, node_id,
		onion_key, &x, onionskin, NTOR_ONIONSKIN_LEN - 1), -EMSGSIZE);

	/* Any flipped bit of Y or AUTH is caught. */
	for (size_t i = 0; i < NTOR_REPLY_LEN; i++) {
		memcpy(bad, reply, sizeof(reply));
		bad[i] ^= (uint8_t)(1u << (i % 8));
		client = fresh;
		memset(key_material, 0xaa, sizeof(key_material));
		assert_int_equal(ntor_client_complete(&client, bad,
			NTOR_REPLY_LEN, key_material, sizeof(key_material)),
			-EBADMSG);
		for (size_t j = 0; j < sizeof(key_material); j++)
			assert_int_equal(key_material[j], 0);
	}
	/* Degenerate Y. */
	for (size_t i = 0; i < 4; i++) {
		memcpy(bad, reply, sizeof(reply));
		assert_unhex(low_order_points[i], bad, NTOR_KEY_LEN);
		client = fresh;
		assert_int_equal(ntor_client_complete(&client, bad,
			NTOR_REPLY_LEN, key_material, sizeof(key_material)),
			-EBADMSG);
	}
	/* Wrong lengths. */
	memcpy(bad, reply, sizeof(reply));
	bad[NTOR_REPLY_LEN] = 0;
	for (size_t len = 0; len <= NTOR_REPLY_LEN + 1; len++) {
		if (len == NTOR_REPLY_LEN)
			continue;
		client = fresh;
		assert_int_equal(ntor_client_complete(&client, bad, len,
			key_material, sizeof(key_material)), -EINVAL);
	}
	/* And the untouched reply still verifies. */
	client = fresh;
	assert_int_equal(ntor_client_complete(&client, reply, sizeof(reply),
		key_material, sizeof(key_material)), 0);
	assert_hex_equal(key_material, sizeof(key_material), VEC_KEYS);
}

/* The two fixed-size wire parsers: truncation at every length, round trip,
 * and *p untouched on failure. */
static void
test_ntor_parsers(void **state)
{
	uint8_t wire[NTOR_ONIONSKIN_LEN], again[NTOR_ONIONSKIN_LEN];
	struct ntor_onionskin onionskin;
	struct ntor_reply reply;
	const uint8_t *p;

	(void)state;
	assert_unhex(VEC_CLIENT_HANDSHAKE, wire, NTOR_ONIONSKIN_LEN);
	for (size_t len = 0; len < NTOR_ONIONSKIN_LEN; len++) {
		p = wire;
		assert_int_equal(ntor_onionskin_parse(&p, wire + len,
			&onionskin), -EINVAL);
		assert_ptr_equal(p, wire);
	}
	p = wire;
	assert_int_equal(ntor_onionskin_parse(&p, wire + sizeof(wire),
		&onionskin), 0);
	assert_ptr_equal(p, wire + NTOR_ONIONSKIN_LEN);
	assert_hex_equal(onionskin.node_id, NTOR_NODE_ID_LEN, VEC_ID);
	assert_hex_equal(onionskin.key_id, NTOR_KEY_LEN, VEC_B_PK);
	assert_hex_equal(onionskin.client_pk, NTOR_KEY_LEN, VEC_X_PK);
	assert_int_equal(ntor_onionskin_encode(&onionskin, again,
		sizeof(again)), NTOR_ONIONSKIN_LEN);
	assert_memory_equal(again, wire, sizeof(wire));
	assert_int_equal(ntor_onionskin_encode(&onionskin, again,
		sizeof(again) - 1), -EMSGSIZE);

	assert_unhex(VEC_SERVER_HANDSHAKE, wire, NTOR_REPLY_LEN);
	for (size_t len = 0; len < NTOR_REPLY_LEN; len++) {
		p = wire;
		assert_int_equal(ntor_reply_parse(&p, wire + len, &reply),
				 -EINVAL);
		assert_ptr_equal(p, wire);
	}
	p = wire;
	assert_int_equal(ntor_reply_parse(&p, wire + NTOR_REPLY_LEN, &reply),
			 0);
	assert_ptr_equal(p, wire + NTOR_REPLY_LEN);
	assert_hex_equal(reply.server_pk, NTOR_KEY_LEN, VEC_Y_PK);
	assert_int_equal(ntor_reply_encode(&reply, again, sizeof(again)),
			 NTOR_REPLY_LEN);
	assert_memory_equal(again, wire, NTOR_REPLY_LEN);
	assert_int_equal(ntor_reply_encode(&reply, again, NTOR_REPLY_LEN - 1),
			 -EMSGSIZE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x25519_rfc7748_scalarmult),
		cmocka_unit_test(test_x25519_rfc7748_dh),
		cmocka_unit_test(test_x25519_low_order_rejected),
		cmocka_unit_test(test_ntor_arti_vector),
		cmocka_unit_test(test_ntor_round_trip),
		cmocka_unit_test(test_ntor_server_rejects),
		cmocka_unit_test(test_ntor_client_rejects),
		cmocka_unit_test(test_ntor_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
