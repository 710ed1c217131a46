/* libFuzzer target for control/circuit_handshake.c. The first input byte
 * picks what the rest is:
 *   0: the payload of a CREATE2 (even second byte) or CREATE_FAST cell,
 *      answered by a relay whose keys are fixed once (arti's ntor vector
 *      relay, so the vector's client handshake is a seed that succeeds);
 *   1: the client message of an ntor-v3 handshake, wrapped in a valid onion
 *      skin (fixed client key), so the extension negotiation is reached;
 *      the second byte sets the relay's congestion-control parameters;
 *   2: an EXTEND2 body, parsed, checked (policy flags in the selector's
 *      upper bits) and turned into CREATE2;
 *   3: the payload of a CREATED2 cell, turned into EXTENDED2.
 * Whatever succeeds must be self-consistent (reply command and circuit id,
 * CREATE2 carrying the request's handshake, EXTENDED2 = CREATED2 prefix). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/circ_cells.h"
#include "control/circuit_handshake.h"
#include "crypto/ntor.h"
#include "crypto/ntor_v3.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"

static struct circuit_handshake_keys relay;
static struct ntor_keypair server_ephemeral, client_ephemeral;
static bool ready;

static void
keypair(struct ntor_keypair *kp, uint8_t fill)
{
	uint8_t secret[NTOR_KEY_LEN];

	memset(secret, fill, sizeof(secret));
	if (ntor_keypair_from_secret(kp, secret) != 0)
		abort();
}

static void
setup(void)
{
	/* arti tor-proto ntor.rs "testvec": relay id and onion key b. */
	static const char id[] = "iToldYouAboutStairs.";
	static const char b[] = "H TOLD YOU DOGIT KEEPS HAPPENING";
	uint8_t secret[NTOR_KEY_LEN];

	memcpy(relay.rsa_id, id, NTOR_NODE_ID_LEN);
	memset(relay.ed25519_id, 0x42, sizeof(relay.ed25519_id));
	memcpy(secret, b, NTOR_KEY_LEN);
	if (ntor_keypair_from_secret(&relay.onion_keys[0], secret) != 0)
		abort();
	keypair(&relay.onion_keys[1], 0x11);
	relay.onion_key_count = 2;
	relay.cc.enabled = true;
	relay.cc.sendme_inc = CIRCUIT_CC_SENDME_INC_DEFAULT;
	keypair(&server_ephemeral, 0x22);
	keypair(&client_ephemeral, 0x33);
	ready = true;
}

static void
check_server(const struct circuit_handshake_keys *keys, const uint8_t cell[CELL_LEN])
{
	static const uint8_t fast_y[CREATE_FAST_KEY_LEN] = { 1, 2, 3 };
	struct circuit_handshake_result result;
	struct circuit_keys circuit_keys;
	uint8_t reply[CELL_LEN];
	int rc;

	rc = circuit_handshake_server_with_ephemeral(keys, &server_ephemeral, fast_y, cell,
			&circuit_keys, reply, &result);
	if (rc != 0) {
		if (rc > 0 || (result.destroy_reason != DESTROY_REASON_PROTOCOL &&
				result.destroy_reason != DESTROY_REASON_INTERNAL))
			abort();
		return;
	}
	if (cell_wire_circ_id(reply) != cell_wire_circ_id(cell))
		abort();
	if (cell_wire_command(cell) == CELL_COMMAND_CREATE_FAST) {
		if (cell_wire_command(reply) != CELL_COMMAND_CREATED_FAST)
			abort();
	} else if (cell_wire_command(reply) != CELL_COMMAND_CREATED2 ||
			wire_read_u16(reply + CELL_CIRC_ID_LEN + 1) < NTOR_REPLY_LEN) {
		abort();
	}
	if (result.cc_enabled && !result.cc_requested)
		abort();
}

static void
fuzz_create(const uint8_t *data, size_t size)
{
	uint8_t cell[CELL_LEN] = { 0 };

	if (size < 1)
		return;
	cell_wire_set_circ_id(cell, 0x80000001u);
	cell[CELL_CIRC_ID_LEN] = (data[0] & 1) ? CELL_COMMAND_CREATE_FAST : CELL_COMMAND_CREATE2;
	data++;
	size--;
	if (size > CELL_PAYLOAD_LEN)
		size = CELL_PAYLOAD_LEN;
	memcpy(cell + CELL_CIRC_ID_LEN + 1, data, size);
	check_server(&relay, cell);
}

static void
fuzz_ntor_v3_message(const uint8_t *data, size_t size)
{
	struct circuit_handshake_keys keys = relay;
	struct ntor_v3_client_state client;
	struct create2_cell create2;
	uint8_t hdata[CREATE2_HDATA_MAX], cell[CELL_LEN] = { 0 };
	ssize_t n;

	if (size < 1)
		return;
	keys.cc.enabled = data[0] & 1;
	keys.cc.sendme_inc = data[0];
	data++;
	size--;
	if (size > CREATE2_HDATA_MAX - NTOR_V3_ONIONSKIN_MIN_LEN)
		size = CREATE2_HDATA_MAX - NTOR_V3_ONIONSKIN_MIN_LEN;
	n = ntor_v3_client_create_with_ephemeral(&client, &client_ephemeral, keys.ed25519_id,
			keys.onion_keys[0].public_key, (const uint8_t *)NTOR_V3_CIRC_VERIFICATION,
			NTOR_V3_CIRC_VERIFICATION_LEN, data, size, hdata, sizeof(hdata));
	if (n < 0)
		abort();
	create2 = (struct create2_cell){ HANDSHAKE_TYPE_NTOR_V3, (uint16_t)n, hdata };
	cell_wire_set_circ_id(cell, 7);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE2;
	if (create2_cell_encode(&create2, cell + CELL_CIRC_ID_LEN + 1, CELL_PAYLOAD_LEN) < 0)
		abort();
	check_server(&keys, cell);
}

static void
fuzz_extend2(uint8_t flags, const uint8_t *data, size_t size)
{
	static const uint8_t previous[32] = { 9 };
	struct circuit_extend_policy policy = {
		.own_rsa_id = relay.rsa_id,
		.own_ed25519_id = relay.ed25519_id,
		.previous_rsa_id = previous,
		.previous_ed25519_id = previous,
		.allow_private = flags & 1,
		.ipv6_supported = flags & 2,
	};
	struct circuit_extend_request req;
	struct create2_cell create2;
	uint8_t cell[CELL_LEN], reason = 0;
	const uint8_t *p = data;
	const uint8_t *payload;
	int rc;

	if (circuit_extend_request_parse(&p, data + size, &req) != 0) {
		if (p != data)
			abort();
		return;
	}
	if (p <= data || p > data + size || (!req.has_ipv4 && !req.has_ipv6))
		abort();
	rc = circuit_extend_request_check(&req, &policy, &reason);
	if (rc != 0) {
		if (reason != DESTROY_REASON_PROTOCOL && reason != DESTROY_REASON_CONNECTFAILED)
			abort();
		return;
	}
	if (!req.has_ipv4 && !req.has_ipv6)
		abort();
	if (circuit_extend_create_cell(&req, 0x80000abcu, cell) != 0)
		abort();
	payload = cell + CELL_CIRC_ID_LEN + 1;
	p = payload;
	if (cell_wire_command(cell) != CELL_COMMAND_CREATE2 ||
			create2_cell_parse(&p, payload + CELL_PAYLOAD_LEN, &create2) != 0 ||
			create2.htype != req.handshake_type || create2.hlen != req.handshake_len ||
			memcmp(create2.hdata, req.handshake_data, req.handshake_len) != 0)
		abort();
}

static void
fuzz_created2(const uint8_t *data, size_t size)
{
	uint8_t cell[CELL_LEN] = { 0 }, body[RELAY_DATA_MAX];
	uint16_t len = 0;

	cell_wire_set_circ_id(cell, 3);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATED2;
	if (size > CELL_PAYLOAD_LEN)
		size = CELL_PAYLOAD_LEN;
	memcpy(cell + CELL_CIRC_ID_LEN + 1, data, size);
	if (circuit_extend_created(cell, body, &len) != 0)
		return;
	if (len < 2 || len > RELAY_DATA_MAX || wire_read_u16(body) + 2u != len ||
			memcmp(body, cell + CELL_CIRC_ID_LEN + 1, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_create(data + 1, size - 1);
		break;
	case 1:
		fuzz_ntor_v3_message(data + 1, size - 1);
		break;
	case 2:
		fuzz_extend2((uint8_t)(data[0] >> 2), data + 1, size - 1);
		break;
	default:
		fuzz_created2(data + 1, size - 1);
		break;
	}
	return 0;
}
