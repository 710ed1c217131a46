/* Circuit creation and extension for the control thread (tor-spec "Create
 * cells", "Setting circuit keys", "Extending a circuit"; proposals 324 and
 * 332). Behaviour follows tor's onion.c, onion_crypto.c, command.c,
 * cpuworker.c, circuitbuild_relay.c and congestion_control_common.c; the
 * comments name the function each rule comes from. */
#include "control/circuit_handshake.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "crypto/ct.h"
#include "crypto/kdf.h"
#include "dataplane/ipv4_address.h"
#include "dataplane/wire.h"

/* tor1 key material followed by KH (onion_crypto.c: keys_tmp_len =
 * keys_out_needed + DIGEST_LEN). */
#define KEY_MATERIAL_LEN (NTOR_TOR1_KEY_MATERIAL_LEN + CIRCUIT_KH_LEN)
/* An ntor-v3 client message fills at most the CREATE2 body. */
#define CLIENT_MSG_MAX (CREATE2_HDATA_MAX - NTOR_V3_ONIONSKIN_MIN_LEN)
/* Our ntor-v3 server message: one CC response field at most. */
#define SERVER_MSG_MAX 8

/* tor-spec "Setting circuit keys": Df | Db | Kf | Kb, in that order
 * (tor relay_crypto_tor1.c tor1_crypt_init). */
static void
split_key_material(const uint8_t *m, struct circuit_keys *keys)
{
	memcpy(keys->forward_digest, m, RELAY_CRYPTO_DIGEST_SEED_LEN);
	m += RELAY_CRYPTO_DIGEST_SEED_LEN;
	memcpy(keys->backward_digest, m, RELAY_CRYPTO_DIGEST_SEED_LEN);
	m += RELAY_CRYPTO_DIGEST_SEED_LEN;
	memcpy(keys->forward_key, m, RELAY_CRYPTO_KEY_LEN);
	m += RELAY_CRYPTO_KEY_LEN;
	memcpy(keys->backward_key, m, RELAY_CRYPTO_KEY_LEN);
}

int
circuit_extensions_parse(const uint8_t **p, const uint8_t *end,
		struct circuit_extensions *out)
{
	const uint8_t *q = *p;
	uint8_t n;

	if (end - q < 1)
		return -EINVAL;
	n = *q++;
	for (unsigned i = 0; i < n; i++) {
		struct circuit_extension_field *f = &out->fields[i];

		if (end - q < 2 || (size_t)(end - q) - 2 < q[1])
			return -EINVAL;
		f->type = q[0];
		f->length = q[1];
		f->data = q + 2;
		q += 2 + f->length;
	}
	out->n_fields = n;
	*p = q;
	return 0;
}

ssize_t
circuit_extensions_encode(const struct circuit_extensions *in, uint8_t *out,
		size_t out_len)
{
	size_t len = 1;

	for (unsigned i = 0; i < in->n_fields; i++)
		len += 2 + (size_t)in->fields[i].length;
	if (len > out_len)
		return -EMSGSIZE;
	out[0] = in->n_fields;
	len = 1;
	for (unsigned i = 0; i < in->n_fields; i++) {
		const struct circuit_extension_field *f = &in->fields[i];

		out[len] = f->type;
		out[len + 1] = f->length;
		if (f->length > 0)
			memmove(out + len + 2, f->data, f->length);
		len += 2 + (size_t)f->length;
	}
	return (ssize_t)len;
}

const struct circuit_extension_field *
circuit_extensions_find(const struct circuit_extensions *ext, uint8_t type)
{
	for (unsigned i = 0; i < ext->n_fields; i++)
		if (ext->fields[i].type == type)
			return &ext->fields[i];
	return NULL;
}

/* networkstatus_get_param() clamps a parameter to its range. */
static uint8_t
clamp_sendme_inc(uint8_t value)
{
	if (value < CIRCUIT_CC_SENDME_INC_MIN)
		return CIRCUIT_CC_SENDME_INC_MIN;
	if (value > CIRCUIT_CC_SENDME_INC_MAX)
		return CIRCUIT_CC_SENDME_INC_MAX;
	return value;
}

/* onion_crypto.c negotiate_v3_ntor_server_circ_params(): the client's
 * message must be an extension list; CC is on when the client asked
 * (congestion_control_parse_ext_request: the field's presence is enough)
 * and the consensus allows it; a SUBPROTO request must be well formed and
 * ask only for what we implement, which is nothing (relay_process_subproto_ext:
 * CGO is the only capability tor accepts there, and we do not advertise
 * Relay=6). The reply is an extension list holding the CC response, or
 * none (congestion_control_build_ext_response). */
static ssize_t
negotiate_extensions(const struct circuit_cc_params *cc, const uint8_t *msg,
		size_t msg_len, uint8_t *reply, size_t reply_len,
		struct circuit_handshake_result *result)
{
	struct circuit_extensions ext;
	const struct circuit_extension_field *subproto;
	struct circuit_extensions response = { .n_fields = 0 };
	const uint8_t *p = msg;
	uint8_t sendme_inc;

	if (circuit_extensions_parse(&p, msg + msg_len, &ext) != 0)
		return -EPROTO;
	subproto = circuit_extensions_find(&ext, CIRCUIT_EXTENSION_SUBPROTO);
	if (subproto != NULL && subproto->length != 0)
		return -EPROTO;
	result->cc_requested =
		circuit_extensions_find(&ext, CIRCUIT_EXTENSION_CC_REQUEST) != NULL;
	result->cc_enabled = result->cc_requested && cc->enabled;
	sendme_inc = clamp_sendme_inc(cc->sendme_inc);
	result->cc_sendme_inc = result->cc_enabled ? sendme_inc : 0;
	if (result->cc_enabled) {
		response.n_fields = 1;
		response.fields[0] = (struct circuit_extension_field){
			.type = CIRCUIT_EXTENSION_CC_RESPONSE,
			.length = 1,
			.data = &sendme_inc,
		};
	}
	return circuit_extensions_encode(&response, reply, reply_len);
}

/* Which of our onion keys a KEYID names (public values: a plain loop). */
static uint8_t
onion_key_index(const struct circuit_handshake_keys *hs_keys, const uint8_t *key_id)
{
	for (size_t i = 0; i < hs_keys->onion_key_count; i++)
		if (memcmp(hs_keys->onion_keys[i].public_key, key_id, NTOR_KEY_LEN) == 0)
			return (uint8_t)i;
	return 0;
}

/* ntor (tor-spec "The ntor handshake"): check_create_cell() wants exactly
 * 84 bytes; the KDF-RFC5869 output is the tor1 key material, then KH. */
static ssize_t
server_ntor(const struct circuit_handshake_keys *hs_keys, const struct ntor_keypair *ephemeral,
		const uint8_t *hdata, uint16_t hlen, uint8_t *reply, size_t reply_len,
		uint8_t material[KEY_MATERIAL_LEN], struct circuit_handshake_result *result)
{
	struct ntor_server_keys keys;
	ssize_t n;

	if (hlen != NTOR_ONIONSKIN_LEN)
		return -EPROTO;
	memcpy(keys.node_id, hs_keys->rsa_id, NTOR_NODE_ID_LEN);
	memcpy(keys.onion_keys, hs_keys->onion_keys, sizeof(keys.onion_keys));
	keys.onion_key_count = hs_keys->onion_key_count;
	if (ephemeral != NULL)
		n = ntor_server_handshake_with_ephemeral(&keys, ephemeral, hdata, hlen, reply,
				reply_len, material, KEY_MATERIAL_LEN);
	else
		n = ntor_server_handshake(&keys, hdata, hlen, reply, reply_len, material,
				KEY_MATERIAL_LEN);
	ct_wipe(&keys, sizeof(keys));
	if (n >= 0)
		result->onion_key_index = onion_key_index(hs_keys, hdata + NTOR_NODE_ID_LEN);
	return n;
}

/* ntor-v3 (tor-spec "The ntor-v3 handshake") with tor's verification
 * string "circuit extend"; the client's message is read before the reply
 * is built (onion_skin_ntor3_server_handshake_part1/part2). The SHAKE-256
 * key stream starts with the tor1 key material, then KH. */
static ssize_t
server_ntor_v3(const struct circuit_handshake_keys *hs_keys, const struct ntor_keypair *ephemeral,
		const uint8_t *hdata, uint16_t hlen, uint8_t *reply, size_t reply_len,
		uint8_t material[KEY_MATERIAL_LEN], struct circuit_handshake_result *result)
{
	struct ntor_v3_server_keys keys;
	struct ntor_v3_server_state state;
	uint8_t client_msg[CLIENT_MSG_MAX], server_msg[SERVER_MSG_MAX];
	ssize_t msg_len, server_msg_len, n;

	if (hlen < NTOR_V3_ONIONSKIN_MIN_LEN)
		return -EPROTO;
	memcpy(keys.node_id, hs_keys->ed25519_id, NTOR_V3_NODE_ID_LEN);
	memcpy(keys.onion_keys, hs_keys->onion_keys, sizeof(keys.onion_keys));
	keys.onion_key_count = hs_keys->onion_key_count;
	msg_len = ntor_v3_server_receive(&state, &keys, (const uint8_t *)NTOR_V3_CIRC_VERIFICATION,
			NTOR_V3_CIRC_VERIFICATION_LEN, hdata, hlen, client_msg, sizeof(client_msg));
	ct_wipe(&keys, sizeof(keys));
	if (msg_len < 0)
		return msg_len;
	result->onion_key_index = onion_key_index(hs_keys, state.onion_key.public_key);
	server_msg_len = negotiate_extensions(&hs_keys->cc, client_msg, (size_t)msg_len,
			server_msg, sizeof(server_msg), result);
	ct_wipe(client_msg, sizeof(client_msg));
	if (server_msg_len < 0) {
		ct_wipe(&state, sizeof(state));
		return server_msg_len;
	}
	if (ephemeral != NULL)
		n = ntor_v3_server_reply_with_ephemeral(&state, ephemeral,
				(const uint8_t *)NTOR_V3_CIRC_VERIFICATION,
				NTOR_V3_CIRC_VERIFICATION_LEN, server_msg, (size_t)server_msg_len,
				reply, reply_len, material, KEY_MATERIAL_LEN);
	else
		n = ntor_v3_server_reply(&state, (const uint8_t *)NTOR_V3_CIRC_VERIFICATION,
				NTOR_V3_CIRC_VERIFICATION_LEN, server_msg, (size_t)server_msg_len,
				reply, reply_len, material, KEY_MATERIAL_LEN);
	return n;
}

/* CREATE_FAST (tor-spec "CREATE_FAST"; onion_fast.c fast_server_handshake):
 * K = KDF-TOR(X | Y) = KH | Df | Db | Kf | Kb; the reply is Y | KH. */
static ssize_t
server_fast(const uint8_t *x, const uint8_t *fast_y, uint8_t *reply,
		uint8_t material[KEY_MATERIAL_LEN], uint8_t kh[CIRCUIT_KH_LEN])
{
	uint8_t k0[2 * CREATE_FAST_KEY_LEN], out[CIRCUIT_KH_LEN + NTOR_TOR1_KEY_MATERIAL_LEN];
	int rc;

	if (fast_y != NULL) {
		memcpy(k0 + CREATE_FAST_KEY_LEN, fast_y, CREATE_FAST_KEY_LEN);
	} else {
		if (sodium_init() < 0)
			return -EIO;
		randombytes_buf(k0 + CREATE_FAST_KEY_LEN, CREATE_FAST_KEY_LEN);
	}
	memcpy(k0, x, CREATE_FAST_KEY_LEN);
	rc = kdf_tor(k0, sizeof(k0), out, sizeof(out));
	if (rc == 0) {
		memcpy(reply, k0 + CREATE_FAST_KEY_LEN, CREATE_FAST_KEY_LEN);
		memcpy(reply + CREATE_FAST_KEY_LEN, out, CIRCUIT_KH_LEN);
		memcpy(kh, out, CIRCUIT_KH_LEN);
		memcpy(material, out + CIRCUIT_KH_LEN, NTOR_TOR1_KEY_MATERIAL_LEN);
	}
	ct_wipe(k0, sizeof(k0));
	ct_wipe(out, sizeof(out));
	return rc < 0 ? rc : 2 * CREATE_FAST_KEY_LEN;
}

static int
server_handshake(const struct circuit_handshake_keys *hs_keys,
		const struct ntor_keypair *ephemeral, const uint8_t *fast_y,
		const uint8_t cell[CELL_LEN], struct circuit_keys *keys, uint8_t reply[CELL_LEN],
		struct circuit_handshake_result *result)
{
	const uint8_t *payload = cell + CELL_CIRC_ID_LEN + 1;
	const uint8_t *payload_end = payload + CELL_PAYLOAD_LEN;
	uint8_t *reply_payload = reply + CELL_CIRC_ID_LEN + 1;
	uint8_t material[KEY_MATERIAL_LEN];
	const uint8_t *p = payload;
	ssize_t n = -EPROTO;

	memset(result, 0, sizeof(*result));
	memset(reply, 0, CELL_LEN);
	result->cell_command = cell_wire_command(cell);
	if (hs_keys->onion_key_count == 0 || hs_keys->onion_key_count > NTOR_MAX_ONION_KEYS) {
		n = -EINVAL;
		result->destroy_reason = DESTROY_REASON_INTERNAL;
		goto out;
	}
	if (result->cell_command == CELL_COMMAND_CREATE_FAST) {
		struct create_fast_cell create_fast;

		result->handshake_type = CIRCUIT_HANDSHAKE_TYPE_FAST;
		if (create_fast_cell_parse(&p, payload_end, &create_fast) == 0)
			n = server_fast(create_fast.x, fast_y, reply_payload, material, result->kh);
		if (n >= 0)
			reply[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATED_FAST;
	} else if (result->cell_command == CELL_COMMAND_CREATE2) {
		struct create2_cell create2;
		uint8_t *hdata_out = reply_payload + 2;

		/* onion.c parse_create2_payload() and check_create_cell():
		 * TAP is gone (0.4.9), CREATE_FAST's type is not for CREATE2,
		 * unknown types are refused at the last hop. */
		if (create2_cell_parse(&p, payload_end, &create2) != 0)
			goto out;
		result->handshake_type = create2.htype;
		if (create2.htype == HANDSHAKE_TYPE_NTOR)
			n = server_ntor(hs_keys, ephemeral, create2.hdata, create2.hlen, hdata_out,
					CREATED2_HDATA_MAX, material, result);
		else if (create2.htype == HANDSHAKE_TYPE_NTOR_V3)
			n = server_ntor_v3(hs_keys, ephemeral, create2.hdata, create2.hlen,
					hdata_out, CREATED2_HDATA_MAX, material, result);
		else
			n = -EPROTONOSUPPORT;
		if (n >= 0) {
			memcpy(result->kh, material + NTOR_TOR1_KEY_MATERIAL_LEN, CIRCUIT_KH_LEN);
			wire_write_u16(reply_payload, (uint16_t)n);
			reply[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATED2;
		}
	}
out:
	if (n < 0) {
		/* cpuworker.c: a failed onion skin closes the circuit with
		 * TORPROTOCOL; command.c: a CREATE_FAST that cannot be
		 * answered is INTERNAL, as is any library failure. */
		if (result->destroy_reason == DESTROY_REASON_NONE)
			result->destroy_reason = (n == -EIO || n == -ENOMEM)
				? DESTROY_REASON_INTERNAL : DESTROY_REASON_PROTOCOL;
		ct_wipe(material, sizeof(material));
		ct_wipe(keys, sizeof(*keys));
		ct_wipe(reply, CELL_LEN);
		ct_wipe(result->kh, sizeof(result->kh));
		result->cc_enabled = false;
		result->cc_sendme_inc = 0;
		return (int)n;
	}
	split_key_material(material, keys);
	ct_wipe(material, sizeof(material));
	cell_wire_set_circ_id(reply, cell_wire_circ_id(cell));
	return 0;
}

int
circuit_handshake_server(const struct circuit_handshake_keys *hs_keys,
		const uint8_t cell[CELL_LEN], struct circuit_keys *keys, uint8_t reply[CELL_LEN],
		struct circuit_handshake_result *result)
{
	return server_handshake(hs_keys, NULL, NULL, cell, keys, reply, result);
}

int
circuit_handshake_server_with_ephemeral(const struct circuit_handshake_keys *hs_keys,
		const struct ntor_keypair *ephemeral, const uint8_t fast_y[CREATE_FAST_KEY_LEN],
		const uint8_t cell[CELL_LEN], struct circuit_keys *keys, uint8_t reply[CELL_LEN],
		struct circuit_handshake_result *result)
{
	return server_handshake(hs_keys, ephemeral, fast_y, cell, keys, reply, result);
}

static bool
ipv4_is_zero(const uint8_t a[4])
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static bool
ipv6_is_zero(const uint8_t a[16])
{
	uint8_t acc = 0;

	for (int i = 0; i < 16; i++)
		acc |= a[i];
	return acc == 0;
}

static bool
ipv6_is_internal(const uint8_t a[16])
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint32_t w0 = wire_read_u32(a);

	if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0)
		return ipv4_address_is_internal(wire_read_u32(a + 12));
	if ((w0 & 0xfe000000u) == 0xfc000000u ||	/* fc00::/7 */
	    (w0 & 0xffc00000u) == 0xfe800000u ||	/* fe80::/10 */
	    (w0 & 0xffc00000u) == 0xfec00000u)		/* fec0::/10 */
		return true;
	/* ::/127 */
	for (int i = 0; i < 15; i++)
		if (a[i] != 0)
			return false;
	return (a[15] & 0xfe) == 0;
}

static bool
ipv4_usable(const struct circuit_extend_request *req)
{
	return req->has_ipv4 && !ipv4_is_zero(req->ipv4_address) && req->ipv4_port != 0;
}

static bool
ipv6_usable(const struct circuit_extend_request *req)
{
	return req->has_ipv6 && !ipv6_is_zero(req->ipv6_address) && req->ipv6_port != 0;
}

static bool
id_is_zero(const uint8_t *id, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (id[i] != 0)
			return false;
	return true;
}

int
circuit_extend_request_parse(const uint8_t **p, const uint8_t *end,
		struct circuit_extend_request *out)
{
	struct extend2_cell extend2;
	const uint8_t *q = *p;
	bool has_rsa_id = false;
	int rc;

	/* onion.c extend_cell_parse(): one relay message at most. */
	if (end - q > RELAY_DATA_MAX)
		return -EINVAL;
	rc = extend2_cell_parse(&q, end, &extend2);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	/* onion.c extend_cell_from_extend2_cell_body(). */
	for (unsigned i = 0; i < extend2.n_specifiers; i++) {
		const struct link_specifier *ls = &extend2.specifiers[i];

		switch (ls->type) {
		case LINK_SPECIFIER_IPV4:
			if (out->has_ipv4)
				break;
			out->has_ipv4 = true;
			memcpy(out->ipv4_address, ls->u.ipv4.address, 4);
			out->ipv4_port = ls->u.ipv4.port;
			break;
		case LINK_SPECIFIER_IPV6:
			if (out->has_ipv6)
				break;
			out->has_ipv6 = true;
			memcpy(out->ipv6_address, ls->u.ipv6.address, 16);
			out->ipv6_port = ls->u.ipv6.port;
			break;
		case LINK_SPECIFIER_LEGACY_ID:
			if (has_rsa_id)
				return -EPROTO;
			has_rsa_id = true;
			memcpy(out->rsa_id, ls->u.legacy_id, sizeof(out->rsa_id));
			break;
		case LINK_SPECIFIER_ED25519_ID:
			if (out->has_ed25519_id)
				return -EPROTO;
			out->has_ed25519_id = true;
			memcpy(out->ed25519_id, ls->u.ed25519_id, sizeof(out->ed25519_id));
			break;
		default:
			break;
		}
	}
	if (!has_rsa_id || (!out->has_ipv4 && !out->has_ipv6))
		return -EPROTO;
	/* onion.c check_extend_cell() and check_create_cell(unknown_ok):
	 * circuitbuild_relay.c refuses the all-zero identity too. */
	if (id_is_zero(out->rsa_id, sizeof(out->rsa_id)))
		return -EPROTO;
	if (!ipv4_usable(out) && !ipv6_usable(out))
		return -EPROTO;
	if (extend2.create2.htype == HANDSHAKE_TYPE_TAP ||
	    extend2.create2.htype == CIRCUIT_HANDSHAKE_TYPE_FAST)
		return -EPROTO;
	if (extend2.create2.htype == HANDSHAKE_TYPE_NTOR &&
	    extend2.create2.hlen != NTOR_ONIONSKIN_LEN)
		return -EPROTO;
	/* An Ed25519 identity of all zeros means "none" to tor
	 * (ed25519_public_key_is_zero). */
	if (out->has_ed25519_id && id_is_zero(out->ed25519_id, sizeof(out->ed25519_id)))
		out->has_ed25519_id = false;
	out->handshake_type = extend2.create2.htype;
	out->handshake_len = extend2.create2.hlen;
	memcpy(out->handshake_data, extend2.create2.hdata, extend2.create2.hlen);
	*p = q;
	return 0;
}

int
circuit_extend_request_check(struct circuit_extend_request *req,
		const struct circuit_extend_policy *policy, uint8_t *destroy_reason)
{
	bool ipv4_ok = ipv4_usable(req) &&
		(policy->allow_private || !ipv4_address_is_internal(wire_read_u32(req->ipv4_address)));
	bool ipv6_ok = ipv6_usable(req) &&
		(policy->allow_private || !ipv6_is_internal(req->ipv6_address));

	/* circuit_extend_lspec_valid_helper(): one usable address, and not
	 * back to where the EXTEND2 came from (circular paths). */
	if (!ipv4_ok && !ipv6_ok) {
		*destroy_reason = DESTROY_REASON_PROTOCOL;
		return -EPERM;
	}
	if ((policy->previous_rsa_id != NULL &&
	     memcmp(req->rsa_id, policy->previous_rsa_id, sizeof(req->rsa_id)) == 0) ||
	    (policy->previous_ed25519_id != NULL && req->has_ed25519_id &&
	     memcmp(req->ed25519_id, policy->previous_ed25519_id, sizeof(req->ed25519_id)) == 0)) {
		*destroy_reason = DESTROY_REASON_PROTOCOL;
		return -ELOOP;
	}
	/* circuit_open_connection_for_extend(): an IPv6-only request we
	 * cannot serve fails the connection. */
	if (!policy->ipv6_supported)
		ipv6_ok = false;
	if (!ipv4_ok && !ipv6_ok) {
		*destroy_reason = DESTROY_REASON_CONNECTFAILED;
		return -EAFNOSUPPORT;
	}
	/* connection_or_connect(): "Client asked me to connect to myself",
	 * by either identity. */
	if ((policy->own_rsa_id != NULL &&
	     memcmp(req->rsa_id, policy->own_rsa_id, sizeof(req->rsa_id)) == 0) ||
	    (policy->own_ed25519_id != NULL && req->has_ed25519_id &&
	     memcmp(req->ed25519_id, policy->own_ed25519_id, sizeof(req->ed25519_id)) == 0)) {
		*destroy_reason = DESTROY_REASON_CONNECTFAILED;
		return -EADDRINUSE;
	}
	req->has_ipv4 = ipv4_ok;
	req->has_ipv6 = ipv6_ok;
	return 0;
}

int
circuit_extend_create_cell(const struct circuit_extend_request *req, uint32_t n_circ_id,
		uint8_t cell[CELL_LEN])
{
	struct create2_cell create2 = {
		.htype = req->handshake_type,
		.hlen = req->handshake_len,
		.hdata = req->handshake_data,
	};
	ssize_t n;

	if (req->handshake_type == HANDSHAKE_TYPE_TAP ||
	    req->handshake_type == CIRCUIT_HANDSHAKE_TYPE_FAST ||
	    (req->handshake_type == HANDSHAKE_TYPE_NTOR &&
	     req->handshake_len != NTOR_ONIONSKIN_LEN))
		return -EINVAL;
	memset(cell, 0, CELL_LEN);
	n = create2_cell_encode(&create2, cell + CELL_CIRC_ID_LEN + 1, CELL_PAYLOAD_LEN);
	if (n < 0) {
		memset(cell, 0, CELL_LEN);
		return -EINVAL;
	}
	cell_wire_set_circ_id(cell, n_circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE2;
	return 0;
}

int
circuit_extend_created(const uint8_t cell[CELL_LEN], uint8_t body[RELAY_DATA_MAX],
		uint16_t *len)
{
	const uint8_t *p = cell + CELL_CIRC_ID_LEN + 1;
	struct created2_cell created2;
	struct extended2_cell extended2;
	ssize_t n;

	/* command.c: only CREATED2 becomes EXTENDED2 (extended_cell_format
	 * refuses the rest), and it must fit one relay message. */
	if (cell_wire_command(cell) != CELL_COMMAND_CREATED2)
		return -EPROTO;
	if (created2_cell_parse(&p, p + CELL_PAYLOAD_LEN, &created2) != 0)
		return -EPROTO;
	if (created2.hlen > EXTENDED2_HDATA_MAX)
		return -EPROTO;
	extended2.hlen = created2.hlen;
	extended2.hdata = created2.hdata;
	n = extended2_cell_encode(&extended2, body, RELAY_DATA_MAX);
	if (n < 0)
		return -EPROTO;
	*len = (uint16_t)n;
	return 0;
}
