/* crypto/ntor_v3: the proposal 332 test vector byte for byte, round trips,
 * and every rejection path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ntor_v3.h"
#include "tests/unit/test_asserts.h"

/* Proposal 332 section X.2 (also tor's test_ntor_v3.c and arti's
 * ntor_v3.rs): inputs, expected messages, first 256 bytes of keystream. */
#define VEC_B_SK "4051daa5921cfa2a1c27b08451324919538e79e788a81b38cbed097a5dff454a"
#define VEC_B_PK "f8307a2bc1870b00b828bb74dbb8fd88e632a6375ab3bcd1ae706aaa8b6cdd1d"
#define VEC_ID "9fad2af287ef942632833d21f946c6260c33fae6172b60006e86e4a6911753a2"
#define VEC_X_SK "b825a3719147bcbe5fb1d0b0fcb9c09e51948048e2e3283d2ab7b45b5ef38b49"
#define VEC_X_PK "252fe9ae91264c91d4ecb8501f79d0387e34ad8ca0f7c995184f7d11d5da4f46"
#define VEC_Y_SK "4865a5b7689dafd978f529291c7171bc159be076b92186405d13220b80e2a053"
#define VEC_Y_PK "4bf4814326fdab45ad5184f5518bd7fae25dc59374062698201a50a22954246d"
#define VEC_CM "hello world"
#define VEC_VER "xyzzy"
#define VEC_SM "Hola Mundo"
#define VEC_MSG_MAC \
	"9e044d53565f04d82bbb3bebed3d06cea65db8be9c72b68cd461942088502f67"
#define VEC_AUTH \
	"2fc5f8773ca824542bc6cf6f57c7c29bbf4e5476461ab130c5b18ab0a9127665"
#define VEC_CLIENT_HANDSHAKE \
	"9fad2af287ef942632833d21f946c6260c33fae6172b60006e86e4a6911753a2" \
	"f8307a2bc1870b00b828bb74dbb8fd88e632a6375ab3bcd1ae706aaa8b6cdd1d" \
	"252fe9ae91264c91d4ecb8501f79d0387e34ad8ca0f7c995184f7d11d5da4f46" \
	"3bebd9151fd3b47c180abc" \
	"9e044d53565f04d82bbb3bebed3d06cea65db8be9c72b68cd461942088502f67"
#define VEC_SERVER_HANDSHAKE \
	"4bf4814326fdab45ad5184f5518bd7fae25dc59374062698201a50a22954246d" \
	"2fc5f8773ca824542bc6cf6f57c7c29bbf4e5476461ab130c5b18ab0a9127665" \
	"1202c3e1e87c0d32054c"
#define VEC_KEYSTREAM \
	"9c19b631fd94ed86a817e01f6c80b0743a43f5faebd39cfaa8b00fa8bcc65c3b" \
	"feaa403d91acbd68a821bf6ee8504602b094a254392a07737d5662768c7a9fb1" \
	"b2814bb34780eaee6e867c773e28c212ead563e98a1cd5d5b4576f5ee61c59bd" \
	"e025ff2851bb19b721421694f263818e3531e43a9e4e3e2c661e2ad547d8984c" \
	"aa28ebecd3e4525452299be26b9185a20a90ce1eac20a91f2832d731b54502b0" \
	"9749b5a2a2949292f8cfcbeffb790c7790ed935a9d251e7e336148ea83b063a5" \
	"618fcff674a44581585fd22077ca0e52c59a24347a38d1a1ceebddbf238541f2" \
	"26b8f88d0fb9c07a1bcd2ea764bbbb5dacdaf5312a14c0b9e4f06309b0333b4a"
#define VEC_CLIENT_HANDSHAKE_LEN (128 + 11)
#define VEC_SERVER_HANDSHAKE_LEN (64 + 10)

static const uint8_t *ver = (const uint8_t *)VEC_VER;
static const size_t ver_len = sizeof(VEC_VER) - 1;

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
vector_server_keys(struct ntor_v3_server_keys *keys)
{
	memset(keys, 0, sizeof(*keys));
	assert_unhex(VEC_ID, keys->node_id, NTOR_V3_NODE_ID_LEN);
	keypair_from_hex(&keys->onion_keys[0], VEC_B_SK, VEC_B_PK);
	keys->onion_key_count = 1;
}

static void
test_ntor_v3_spec_vector(void **state)
{
	struct ntor_v3_server_keys keys;
	struct ntor_v3_server_state server;
	struct ntor_v3_client_state client;
	struct ntor_keypair x, y;
	uint8_t onionskin[VEC_CLIENT_HANDSHAKE_LEN];
	uint8_t reply[VEC_SERVER_HANDSHAKE_LEN];
	uint8_t client_msg[32], server_msg[32];
	uint8_t server_keys[256], client_keys[256];

	(void)state;
	vector_server_keys(&keys);
	keypair_from_hex(&x, VEC_X_SK, VEC_X_PK);
	keypair_from_hex(&y, VEC_Y_SK, VEC_Y_PK);

	assert_int_equal(ntor_v3_client_create_with_ephemeral(&client, &x,
		keys.node_id, keys.onion_keys[0].public_key, ver, ver_len,
		(const uint8_t *)VEC_CM, strlen(VEC_CM), onionskin,
		sizeof(onionskin)), VEC_CLIENT_HANDSHAKE_LEN);
	assert_hex_equal(onionskin, sizeof(onionskin), VEC_CLIENT_HANDSHAKE);
	assert_hex_equal(client.msg_mac, 32, VEC_MSG_MAC);

	assert_int_equal(ntor_v3_server_receive(&server, &keys, ver, ver_len,
		onionskin, sizeof(onionskin), client_msg, sizeof(client_msg)),
		(ssize_t)strlen(VEC_CM));
	assert_memory_equal(client_msg, VEC_CM, strlen(VEC_CM));

	assert_int_equal(ntor_v3_server_reply_with_ephemeral(&server, &y, ver,
		ver_len, (const uint8_t *)VEC_SM, strlen(VEC_SM), reply,
		sizeof(reply), server_keys, sizeof(server_keys)),
		VEC_SERVER_HANDSHAKE_LEN);
	assert_hex_equal(reply, sizeof(reply), VEC_SERVER_HANDSHAKE);
	assert_hex_equal(reply + 32, 32, VEC_AUTH);
	assert_hex_equal(server_keys, sizeof(server_keys), VEC_KEYSTREAM);
	assert_all_zero(&server, sizeof(server));

	assert_int_equal(ntor_v3_client_complete(&client, ver, ver_len, reply,
		sizeof(reply), server_msg, sizeof(server_msg), client_keys,
		sizeof(client_keys)), (ssize_t)strlen(VEC_SM));
	assert_memory_equal(server_msg, VEC_SM, strlen(VEC_SM));
	assert_hex_equal(client_keys, sizeof(client_keys), VEC_KEYSTREAM);
	assert_all_zero(&client, sizeof(client));
}

/* Random keys, both onion keys, the circuit-extension verification string,
 * empty and non-empty messages, several key material lengths. */
static void
test_ntor_v3_round_trip(void **state)
{
	const uint8_t *circ = (const uint8_t *)NTOR_V3_CIRC_VERIFICATION;
	struct ntor_v3_server_keys keys;
	struct ntor_v3_server_state server;
	struct ntor_v3_client_state client;
	uint8_t onionskin[NTOR_V3_ONIONSKIN_MIN_LEN + 300];
	uint8_t reply[NTOR_V3_REPLY_MIN_LEN + 300];
	uint8_t msg[300], got[300], server_keys[200], client_keys[200];
	const size_t msg_lens[] = { 0, 1, 2, 17, 290 };
	const size_t key_lens[] = { 1, 72, 107, 200 };

	(void)state;
	memset(&keys, 0, sizeof(keys));
	for (size_t i = 0; i < NTOR_V3_NODE_ID_LEN; i++)
		keys.node_id[i] = (uint8_t)(0x40 + i);
	assert_int_equal(ntor_keypair_generate(&keys.onion_keys[0]), 0);
	assert_int_equal(ntor_keypair_generate(&keys.onion_keys[1]), 0);
	keys.onion_key_count = 2;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 5);

	for (size_t k = 0; k < 2; k++) {
		for (size_t m = 0; m < 5; m++) {
			size_t cm_len = msg_lens[m], sm_len = msg_lens[4 - m];
			size_t key_len = key_lens[m % 4];
			ssize_t n;

			n = ntor_v3_client_create(&client, keys.node_id,
				keys.onion_keys[k].public_key, circ,
				NTOR_V3_CIRC_VERIFICATION_LEN, msg, cm_len,
				onionskin, sizeof(onionskin));
			assert_int_equal(n, NTOR_V3_ONIONSKIN_MIN_LEN + cm_len);
			assert_int_equal(ntor_v3_server_receive(&server, &keys,
				circ, NTOR_V3_CIRC_VERIFICATION_LEN, onionskin,
				(size_t)n, got, sizeof(got)), (ssize_t)cm_len);
			assert_memory_equal(got, msg, cm_len);
			n = ntor_v3_server_reply(&server, circ,
				NTOR_V3_CIRC_VERIFICATION_LEN, msg + 7, sm_len,
				reply, sizeof(reply), server_keys, key_len);
			assert_int_equal(n, NTOR_V3_REPLY_MIN_LEN + sm_len);
			assert_int_equal(ntor_v3_client_complete(&client, circ,
				NTOR_V3_CIRC_VERIFICATION_LEN, reply, (size_t)n,
				got, sizeof(got), client_keys, key_len),
				n - NTOR_V3_REPLY_MIN_LEN);
			assert_memory_equal(got, msg + 7,
					    (size_t)n - NTOR_V3_REPLY_MIN_LEN);
			assert_memory_equal(server_keys, client_keys, key_len);
		}
	}
}

static ssize_t
receive_vector_onionskin(const uint8_t *onionskin, size_t len,
			 const uint8_t *verification, size_t verification_len)
{
	struct ntor_v3_server_keys keys;
	struct ntor_v3_server_state server;
	uint8_t client_msg[64];
	ssize_t rc;

	vector_server_keys(&keys);
	memset(client_msg, 0xaa, sizeof(client_msg));
	rc = ntor_v3_server_receive(&server, &keys, verification,
		verification_len, onionskin, len, client_msg,
		sizeof(client_msg));
	if (rc < 0) {
		/* Nothing decrypted leaks out of a rejected onion skin. */
		for (size_t i = 0; i < sizeof(client_msg); i++)
			assert_true(client_msg[i] == 0xaa || client_msg[i] == 0);
		assert_all_zero(&server, sizeof(server));
	}
	return rc;
}

static void
test_ntor_v3_server_rejects(void **state)
{
	uint8_t onionskin[VEC_CLIENT_HANDSHAKE_LEN], bad[VEC_CLIENT_HANDSHAKE_LEN];
	struct ntor_v3_server_keys keys;
	struct ntor_v3_server_state server;
	uint8_t client_msg[16];

	(void)state;
	assert_unhex(VEC_CLIENT_HANDSHAKE, onionskin, sizeof(onionskin));
	assert_int_equal(receive_vector_onionskin(onionskin, sizeof(onionskin),
		ver, ver_len), 11);

	/* Truncated below the fixed part: malformed. */
	for (size_t len = 0; len < NTOR_V3_ONIONSKIN_MIN_LEN; len++)
		assert_int_equal(receive_vector_onionskin(onionskin, len, ver,
			ver_len), -EINVAL);
	/* Truncated inside the message: the MAC moves and fails. */
	for (size_t len = NTOR_V3_ONIONSKIN_MIN_LEN;
	     len < sizeof(onionskin); len++)
		assert_int_equal(receive_vector_onionskin(onionskin, len, ver,
			ver_len), -EBADMSG);
	/* Any flipped bit in X, MSG or MAC fails the MAC (X may also turn
	 * into a point of low order, which is malformed). */
	for (size_t i = 64; i < sizeof(onionskin); i++) {
		ssize_t rc;

		memcpy(bad, onionskin, sizeof(bad));
		bad[i] ^= (uint8_t)(1u << (i % 8));
		rc = receive_vector_onionskin(bad, sizeof(bad), ver, ver_len);
		assert_true(rc == -EBADMSG || rc == -EINVAL);
	}
	/* Wrong NODEID or KEYID. */
	for (size_t i = 0; i < 64; i++) {
		memcpy(bad, onionskin, sizeof(bad));
		bad[i] ^= 0x10;
		assert_int_equal(receive_vector_onionskin(bad, sizeof(bad), ver,
			ver_len), -ENOKEY);
	}
	/* Another verification string. */
	assert_int_equal(receive_vector_onionskin(onionskin, sizeof(onionskin),
		(const uint8_t *)"xyzzz", 5), -EBADMSG);
	assert_int_equal(receive_vector_onionskin(onionskin, sizeof(onionskin),
		NULL, 0), -EBADMSG);
	/* Low-order X. */
	memcpy(bad, onionskin, sizeof(bad));
	memset(bad + 64, 0, 32);
	assert_int_equal(receive_vector_onionskin(bad, sizeof(bad), ver,
		ver_len), -EINVAL);
	/* Client message buffer too small. */
	vector_server_keys(&keys);
	assert_int_equal(ntor_v3_server_receive(&server, &keys, ver, ver_len,
		onionskin, sizeof(onionskin), client_msg, 10), -EMSGSIZE);
	keys.onion_key_count = 0;
	assert_int_equal(ntor_v3_server_receive(&server, &keys, ver, ver_len,
		onionskin, sizeof(onionskin), client_msg, sizeof(client_msg)),
		-EINVAL);
}

static void
test_ntor_v3_server_reply_rejects(void **state)
{
	uint8_t onionskin[VEC_CLIENT_HANDSHAKE_LEN];
	uint8_t reply[VEC_SERVER_HANDSHAKE_LEN], key_material[72];
	struct ntor_v3_server_keys keys;
	struct ntor_v3_server_state server;
	struct ntor_keypair y;
	uint8_t client_msg[16];

	(void)state;
	vector_server_keys(&keys);
	keypair_from_hex(&y, VEC_Y_SK, VEC_Y_PK);
	assert_unhex(VEC_CLIENT_HANDSHAKE, onionskin, sizeof(onionskin));

	assert_int_equal(ntor_v3_server_receive(&server, &keys, ver, ver_len,
		onionskin, sizeof(onionskin), client_msg, sizeof(client_msg)),
		11);
	assert_int_equal(ntor_v3_server_reply_with_ephemeral(&server, &y, ver,
		ver_len, (const uint8_t *)VEC_SM, 10, reply, sizeof(reply) - 1,
		key_material, sizeof(key_material)), -EMSGSIZE);
	assert_all_zero(&server, sizeof(server));

	assert_int_equal(ntor_v3_server_receive(&server, &keys, ver, ver_len,
		onionskin, sizeof(onionskin), client_msg, sizeof(client_msg)),
		11);
	assert_int_equal(ntor_v3_server_reply_with_ephemeral(&server, &y, ver,
		ver_len, (const uint8_t *)VEC_SM, 10, reply, sizeof(reply),
		key_material, NTOR_V3_MAX_KEY_MATERIAL_LEN + 1), -EMSGSIZE);

	assert_int_equal(ntor_v3_server_receive(&server, &keys, ver, ver_len,
		onionskin, sizeof(onionskin), client_msg, sizeof(client_msg)),
		11);
	assert_int_equal(ntor_v3_server_reply_with_ephemeral(&server, &y, ver,
		ver_len, NULL, 10, reply, sizeof(reply), key_material,
		sizeof(key_material)), -EINVAL);
}

static void
test_ntor_v3_client_rejects(void **state)
{
	uint8_t reply[VEC_SERVER_HANDSHAKE_LEN], bad[VEC_SERVER_HANDSHAKE_LEN];
	uint8_t onionskin[VEC_CLIENT_HANDSHAKE_LEN];
	struct ntor_v3_client_state fresh, client;
	uint8_t node_id[32], onion_key[32];
	uint8_t server_msg[16], key_material[256];
	struct ntor_keypair x;

	(void)state;
	assert_unhex(VEC_ID, node_id, sizeof(node_id));
	assert_unhex(VEC_B_PK, onion_key, sizeof(onion_key));
	assert_unhex(VEC_SERVER_HANDSHAKE, reply, sizeof(reply));
	keypair_from_hex(&x, VEC_X_SK, VEC_X_PK);
	assert_int_equal(ntor_v3_client_create_with_ephemeral(&fresh, &x,
		node_id, onion_key, ver, ver_len, (const uint8_t *)VEC_CM,
		strlen(VEC_CM), onionskin, sizeof(onionskin) - 1), -EMSGSIZE);
	assert_int_equal(ntor_v3_client_create_with_ephemeral(&fresh, &x,
		node_id, onion_key, ver, ver_len, (const uint8_t *)VEC_CM,
		strlen(VEC_CM), onionskin, sizeof(onionskin)),
		VEC_CLIENT_HANDSHAKE_LEN);

	/* Any flipped bit anywhere in the reply. */
	for (size_t i = 0; i < sizeof(reply); i++) {
		memcpy(bad, reply, sizeof(reply));
		bad[i] ^= (uint8_t)(1u << (i % 8));
		client = fresh;
		memset(key_material, 0xaa, sizeof(key_material));
		memset(server_msg, 0xaa, sizeof(server_msg));
		assert_int_equal(ntor_v3_client_complete(&client, ver, ver_len,
			bad, sizeof(bad), server_msg, sizeof(server_msg),
			key_material, sizeof(key_material)), -EBADMSG);
		assert_all_zero(key_material, sizeof(key_material));
		assert_all_zero(&client, sizeof(client));
	}
	/* Truncation: below 64 bytes malformed, above it AUTH fails. */
	for (size_t len = 0; len < sizeof(reply); len++) {
		client = fresh;
		assert_int_equal(ntor_v3_client_complete(&client, ver, ver_len,
			reply, len, server_msg, sizeof(server_msg),
			key_material, sizeof(key_material)),
			len < NTOR_V3_REPLY_MIN_LEN ? -EINVAL : -EBADMSG);
	}
	/* Degenerate Y, other verification string, small buffers. */
	memcpy(bad, reply, sizeof(reply));
	memset(bad, 0, 32);
	client = fresh;
	assert_int_equal(ntor_v3_client_complete(&client, ver, ver_len, bad,
		sizeof(bad), server_msg, sizeof(server_msg), key_material,
		sizeof(key_material)), -EBADMSG);
	client = fresh;
	assert_int_equal(ntor_v3_client_complete(&client,
		(const uint8_t *)"xyzz", 4, reply, sizeof(reply), server_msg,
		sizeof(server_msg), key_material, sizeof(key_material)),
		-EBADMSG);
	client = fresh;
	assert_int_equal(ntor_v3_client_complete(&client, ver, ver_len, reply,
		sizeof(reply), server_msg, 9, key_material,
		sizeof(key_material)), -EMSGSIZE);
	/* The intact reply still completes. */
	client = fresh;
	assert_int_equal(ntor_v3_client_complete(&client, ver, ver_len, reply,
		sizeof(reply), server_msg, sizeof(server_msg), key_material,
		sizeof(key_material)), 10);
	assert_hex_equal(key_material, sizeof(key_material), VEC_KEYSTREAM);
}

/* Both wire parsers: truncation, round trip, *p only moved on success. */
static void
test_ntor_v3_parsers(void **state)
{
	uint8_t wire[VEC_CLIENT_HANDSHAKE_LEN], again[VEC_CLIENT_HANDSHAKE_LEN];
	struct ntor_v3_onionskin onionskin;
	struct ntor_v3_reply reply;
	const uint8_t *p;

	(void)state;
	assert_unhex(VEC_CLIENT_HANDSHAKE, wire, sizeof(wire));
	for (size_t len = 0; len < NTOR_V3_ONIONSKIN_MIN_LEN; len++) {
		p = wire;
		assert_int_equal(ntor_v3_onionskin_parse(&p, wire + len,
			&onionskin), -EINVAL);
		assert_ptr_equal(p, wire);
	}
	for (size_t len = NTOR_V3_ONIONSKIN_MIN_LEN; len <= sizeof(wire);
	     len++) {
		p = wire;
		assert_int_equal(ntor_v3_onionskin_parse(&p, wire + len,
			&onionskin), 0);
		assert_ptr_equal(p, wire + len);
		assert_int_equal(onionskin.encrypted_msg_len,
				 len - NTOR_V3_ONIONSKIN_MIN_LEN);
		assert_int_equal(ntor_v3_onionskin_encode(&onionskin, again,
			len - 1), -EMSGSIZE);
		assert_int_equal(ntor_v3_onionskin_encode(&onionskin, again,
			sizeof(again)), (ssize_t)len);
		assert_memory_equal(again, wire, len);
	}
	assert_hex_equal(onionskin.node_id, 32, VEC_ID);
	assert_hex_equal(onionskin.key_id, 32, VEC_B_PK);
	assert_hex_equal(onionskin.client_pk, 32, VEC_X_PK);
	assert_hex_equal(onionskin.mac, 32, VEC_MSG_MAC);

	assert_unhex(VEC_SERVER_HANDSHAKE, wire, VEC_SERVER_HANDSHAKE_LEN);
	for (size_t len = 0; len < NTOR_V3_REPLY_MIN_LEN; len++) {
		p = wire;
		assert_int_equal(ntor_v3_reply_parse(&p, wire + len, &reply),
				 -EINVAL);
		assert_ptr_equal(p, wire);
	}
	p = wire;
	assert_int_equal(ntor_v3_reply_parse(&p,
		wire + VEC_SERVER_HANDSHAKE_LEN, &reply), 0);
	assert_ptr_equal(p, wire + VEC_SERVER_HANDSHAKE_LEN);
	assert_int_equal(reply.encrypted_msg_len, 10);
	assert_hex_equal(reply.server_pk, 32, VEC_Y_PK);
	assert_hex_equal(reply.auth, 32, VEC_AUTH);
	assert_int_equal(ntor_v3_reply_encode(&reply, again,
		VEC_SERVER_HANDSHAKE_LEN - 1), -EMSGSIZE);
	assert_int_equal(ntor_v3_reply_encode(&reply, again, sizeof(again)),
			 VEC_SERVER_HANDSHAKE_LEN);
	assert_memory_equal(again, wire, VEC_SERVER_HANDSHAKE_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntor_v3_spec_vector),
		cmocka_unit_test(test_ntor_v3_round_trip),
		cmocka_unit_test(test_ntor_v3_server_rejects),
		cmocka_unit_test(test_ntor_v3_server_reply_rejects),
		cmocka_unit_test(test_ntor_v3_client_rejects),
		cmocka_unit_test(test_ntor_v3_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
