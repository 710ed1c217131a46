/* The ntor server (tor-spec 5.1.4) on arbitrary bytes, with the relay keys
 * of arti's ntor test vector fixed (so fuzz/corpus/ntor_server/ holds real
 * onion skins for them). Each input is
 *  - parsed as an onion skin and, when it parses, re-encoded: the 84 bytes
 *    must come back unchanged;
 *  - answered as is, whatever its length (mostly -EINVAL or -ENOKEY);
 *  - answered again with our NODEID and KEYID patched in, so X reaches the
 *    X25519 and low-order checks;
 *  - used as a client secret x (first 32 bytes): a client built on it must
 *    complete against the server's reply with the same keys.
 * Nothing may crash; any round-trip or key mismatch aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ntor.h"

/* arti tor-proto ntor.rs "testvec": b, y and the relay identity. */
static const uint8_t onion_secret[NTOR_KEY_LEN] = {
	0x48, 0x20, 0x54, 0x4f, 0x4c, 0x44, 0x20, 0x59,
	0x4f, 0x55, 0x20, 0x44, 0x4f, 0x47, 0x49, 0x54,
	0x20, 0x4b, 0x45, 0x45, 0x50, 0x53, 0x20, 0x48,
	0x41, 0x50, 0x50, 0x45, 0x4e, 0x49, 0x4e, 0x47,
};
static const uint8_t ephemeral_secret[NTOR_KEY_LEN] = {
	0x70, 0x68, 0x65, 0x20, 0x73, 0x71, 0x75, 0x69,
	0x72, 0x72, 0x65, 0x6c, 0x2e, 0x2e, 0x2e, 0x2e,
	0x2e, 0x2e, 0x2e, 0x2e, 0x68, 0x61, 0x73, 0x20,
	0x68, 0x69, 0x73, 0x20, 0x67, 0x61, 0x6d, 0x65,
};
static const uint8_t node_id[NTOR_NODE_ID_LEN] = {
	0x69, 0x54, 0x6f, 0x6c, 0x64, 0x59, 0x6f, 0x75,
	0x41, 0x62, 0x6f, 0x75, 0x74, 0x53, 0x74, 0x61,
	0x69, 0x72, 0x73, 0x2e,
};

static struct ntor_server_keys keys;
static struct ntor_keypair ephemeral;

static void
setup(void)
{
	static bool ready;

	if (ready)
		return;
	memcpy(keys.node_id, node_id, NTOR_NODE_ID_LEN);
	if (ntor_keypair_from_secret(&keys.onion_keys[0], onion_secret) != 0 ||
	    ntor_keypair_from_secret(&ephemeral, ephemeral_secret) != 0)
		abort();
	keys.onion_key_count = 1;
	ready = true;
}

static void
parse_round_trip(const uint8_t *data, size_t size)
{
	struct ntor_onionskin onionskin;
	uint8_t again[NTOR_ONIONSKIN_LEN];
	const uint8_t *p = data;

	if (ntor_onionskin_parse(&p, data + size, &onionskin) != 0) {
		if (p != data)
			abort();
		return;
	}
	if (p != data + NTOR_ONIONSKIN_LEN ||
	    ntor_onionskin_encode(&onionskin, again, sizeof(again)) !=
		    NTOR_ONIONSKIN_LEN ||
	    memcmp(again, data, NTOR_ONIONSKIN_LEN) != 0)
		abort();
}

static void
client_server_round_trip(const uint8_t *data, size_t size)
{
	struct ntor_client_state client;
	struct ntor_keypair x;
	uint8_t onionskin[NTOR_ONIONSKIN_LEN], reply[NTOR_REPLY_LEN];
	uint8_t server_keys[NTOR_TOR1_KEY_MATERIAL_LEN];
	uint8_t client_keys[NTOR_TOR1_KEY_MATERIAL_LEN];

	if (size < NTOR_KEY_LEN || ntor_keypair_from_secret(&x, data) != 0)
		return;
	if (ntor_client_create_with_ephemeral(&client, keys.node_id,
			keys.onion_keys[0].public_key, &x, onionskin,
			sizeof(onionskin)) != NTOR_ONIONSKIN_LEN ||
	    ntor_server_handshake_with_ephemeral(&keys, &ephemeral,
			onionskin, sizeof(onionskin), reply, sizeof(reply),
			server_keys, sizeof(server_keys)) != NTOR_REPLY_LEN ||
	    ntor_client_complete(&client, reply, sizeof(reply), client_keys,
			sizeof(client_keys)) != 0 ||
	    memcmp(server_keys, client_keys, sizeof(server_keys)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t reply[NTOR_REPLY_LEN], key_material[NTOR_TOR1_KEY_MATERIAL_LEN];
	uint8_t patched[NTOR_ONIONSKIN_LEN];

	setup();
	parse_round_trip(data, size);
	(void)ntor_server_handshake_with_ephemeral(&keys, &ephemeral, data,
			size, reply, sizeof(reply), key_material,
			sizeof(key_material));
	if (size >= NTOR_ONIONSKIN_LEN) {
		memcpy(patched, data, NTOR_ONIONSKIN_LEN);
		memcpy(patched, keys.node_id, NTOR_NODE_ID_LEN);
		memcpy(patched + NTOR_NODE_ID_LEN,
		       keys.onion_keys[0].public_key, NTOR_KEY_LEN);
		(void)ntor_server_handshake_with_ephemeral(&keys, &ephemeral,
				patched, sizeof(patched), reply,
				sizeof(reply), key_material,
				sizeof(key_material));
	}
	client_server_round_trip(data, size);
	return 0;
}
