/* The ntor-v3 server (proposal 332) parsing and checking client onion
 * skins, with the relay keys and verification string of the proposal's test
 * vector fixed (so fuzz/corpus/ntor_v3_server/ holds real onion skins).
 * Each input is
 *  - parsed as an onion skin and, when it parses, re-encoded: the bytes must
 *    come back unchanged;
 *  - received as is (mostly -ENOKEY), then with our NODEID and KEYID
 *    patched in so X and the MAC check are reached; an accepted onion skin
 *    is answered;
 *  - parsed as a server reply and re-encoded the same way;
 *  - split into a client secret x (first 32 bytes) and a client message
 *    (the rest, up to 256 bytes): a client built on them must get its
 *    message through the server, the server's answer back, and the same keys.
 * Nothing may crash; any round-trip, message or key mismatch aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ntor_v3.h"

#define MAX_MSG 256

/* Proposal 332 X.2: b, y, ID and VER. */
static const uint8_t onion_secret[NTOR_KEY_LEN] = {
	0x40, 0x51, 0xda, 0xa5, 0x92, 0x1c, 0xfa, 0x2a,
	0x1c, 0x27, 0xb0, 0x84, 0x51, 0x32, 0x49, 0x19,
	0x53, 0x8e, 0x79, 0xe7, 0x88, 0xa8, 0x1b, 0x38,
	0xcb, 0xed, 0x09, 0x7a, 0x5d, 0xff, 0x45, 0x4a,
};
static const uint8_t ephemeral_secret[NTOR_KEY_LEN] = {
	0x48, 0x65, 0xa5, 0xb7, 0x68, 0x9d, 0xaf, 0xd9,
	0x78, 0xf5, 0x29, 0x29, 0x1c, 0x71, 0x71, 0xbc,
	0x15, 0x9b, 0xe0, 0x76, 0xb9, 0x21, 0x86, 0x40,
	0x5d, 0x13, 0x22, 0x0b, 0x80, 0xe2, 0xa0, 0x53,
};
static const uint8_t node_id[NTOR_V3_NODE_ID_LEN] = {
	0x9f, 0xad, 0x2a, 0xf2, 0x87, 0xef, 0x94, 0x26,
	0x32, 0x83, 0x3d, 0x21, 0xf9, 0x46, 0xc6, 0x26,
	0x0c, 0x33, 0xfa, 0xe6, 0x17, 0x2b, 0x60, 0x00,
	0x6e, 0x86, 0xe4, 0xa6, 0x91, 0x17, 0x53, 0xa2,
};
static const uint8_t verification[] = { 'x', 'y', 'z', 'z', 'y' };

static struct ntor_v3_server_keys keys;
static struct ntor_keypair ephemeral;

static void
setup(void)
{
	static bool ready;

	if (ready)
		return;
	memcpy(keys.node_id, node_id, NTOR_V3_NODE_ID_LEN);
	if (ntor_keypair_from_secret(&keys.onion_keys[0], onion_secret) != 0 ||
	    ntor_keypair_from_secret(&ephemeral, ephemeral_secret) != 0)
		abort();
	keys.onion_key_count = 1;
	ready = true;
}

static void
parse_round_trip(const uint8_t *data, size_t size)
{
	static uint8_t again[NTOR_V3_ONIONSKIN_MIN_LEN + 65536];
	struct ntor_v3_onionskin onionskin;
	struct ntor_v3_reply reply;
	const uint8_t *p = data;

	if (size > sizeof(again))
		return;
	if (ntor_v3_onionskin_parse(&p, data + size, &onionskin) == 0) {
		if (p != data + size ||
		    ntor_v3_onionskin_encode(&onionskin, again,
			    sizeof(again)) != (ssize_t)size ||
		    memcmp(again, data, size) != 0)
			abort();
	} else if (p != data) {
		abort();
	}
	p = data;
	if (ntor_v3_reply_parse(&p, data + size, &reply) == 0) {
		if (p != data + size ||
		    ntor_v3_reply_encode(&reply, again, sizeof(again)) !=
			    (ssize_t)size ||
		    memcmp(again, data, size) != 0)
			abort();
	} else if (p != data) {
		abort();
	}
}

static void
receive_and_answer(const uint8_t *onionskin, size_t size)
{
	static uint8_t client_msg[65536];
	uint8_t reply[NTOR_V3_REPLY_MIN_LEN + 16], key_material[72];
	struct ntor_v3_server_state state;
	ssize_t n;

	n = ntor_v3_server_receive(&state, &keys, verification,
			sizeof(verification), onionskin, size, client_msg,
			sizeof(client_msg));
	if (n < 0)
		return;
	if (ntor_v3_server_reply_with_ephemeral(&state, &ephemeral,
			verification, sizeof(verification), client_msg,
			n > 16 ? 16 : (size_t)n, reply, sizeof(reply),
			key_material, sizeof(key_material)) < 0)
		abort();
}

static void
client_server_round_trip(const uint8_t *data, size_t size)
{
	uint8_t onionskin[NTOR_V3_ONIONSKIN_MIN_LEN + MAX_MSG];
	uint8_t reply[NTOR_V3_REPLY_MIN_LEN + MAX_MSG];
	uint8_t got[MAX_MSG], answer[MAX_MSG];
	uint8_t server_keys[72], client_keys[72];
	struct ntor_v3_server_state server;
	struct ntor_v3_client_state client;
	struct ntor_keypair x;
	size_t msg_len;
	ssize_t n;

	if (size < NTOR_KEY_LEN || ntor_keypair_from_secret(&x, data) != 0)
		return;
	msg_len = size - NTOR_KEY_LEN > MAX_MSG ? MAX_MSG : size - NTOR_KEY_LEN;
	for (size_t i = 0; i < msg_len; i++)
		answer[i] = (uint8_t)~data[NTOR_KEY_LEN + msg_len - 1 - i];

	n = ntor_v3_client_create_with_ephemeral(&client, &x, keys.node_id,
			keys.onion_keys[0].public_key, verification,
			sizeof(verification), data + NTOR_KEY_LEN, msg_len,
			onionskin, sizeof(onionskin));
	if (n != (ssize_t)(NTOR_V3_ONIONSKIN_MIN_LEN + msg_len))
		abort();
	if (ntor_v3_server_receive(&server, &keys, verification,
			sizeof(verification), onionskin, (size_t)n, got,
			sizeof(got)) != (ssize_t)msg_len ||
	    memcmp(got, data + NTOR_KEY_LEN, msg_len) != 0)
		abort();
	n = ntor_v3_server_reply_with_ephemeral(&server, &ephemeral,
			verification, sizeof(verification), answer, msg_len,
			reply, sizeof(reply), server_keys, sizeof(server_keys));
	if (n != (ssize_t)(NTOR_V3_REPLY_MIN_LEN + msg_len))
		abort();
	if (ntor_v3_client_complete(&client, verification,
			sizeof(verification), reply, (size_t)n, got,
			sizeof(got), client_keys, sizeof(client_keys)) !=
		    (ssize_t)msg_len ||
	    memcmp(got, answer, msg_len) != 0 ||
	    memcmp(server_keys, client_keys, sizeof(server_keys)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t patched[NTOR_V3_ONIONSKIN_MIN_LEN + 65536];

	setup();
	parse_round_trip(data, size);
	receive_and_answer(data, size);
	if (size >= NTOR_V3_ONIONSKIN_MIN_LEN && size <= sizeof(patched)) {
		memcpy(patched, data, size);
		memcpy(patched, keys.node_id, NTOR_V3_NODE_ID_LEN);
		memcpy(patched + NTOR_V3_NODE_ID_LEN,
		       keys.onion_keys[0].public_key, NTOR_V3_KEY_LEN);
		receive_and_answer(patched, size);
	}
	client_server_round_trip(data, size);
	return 0;
}
