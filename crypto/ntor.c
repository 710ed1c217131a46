#include "crypto/ntor.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "crypto/ct.h"
#include "crypto/kdf.h"

/* tor-spec 5.1.4: protocol id and the tweaks derived from it. */
#define PROTOID "ntor-curve25519-sha256-1"
#define PROTOID_LEN (sizeof(PROTOID) - 1)
#define T_MAC PROTOID ":mac"
#define T_KEY PROTOID ":key_extract"
#define T_VERIFY PROTOID ":verify"
#define M_EXPAND PROTOID ":key_expand"
#define SERVER_STRING "Server"
#define SERVER_STRING_LEN (sizeof(SERVER_STRING) - 1)

/* secret_input = EXP | EXP | ID | B | X | Y | PROTOID */
#define SECRET_INPUT_LEN \
	(2 * NTOR_KEY_LEN + NTOR_NODE_ID_LEN + 3 * NTOR_KEY_LEN + PROTOID_LEN)
/* auth_input = verify | ID | B | Y | X | PROTOID | "Server" */
#define AUTH_INPUT_LEN \
	(32 + NTOR_NODE_ID_LEN + 3 * NTOR_KEY_LEN + PROTOID_LEN + \
	 SERVER_STRING_LEN)

int
ntor_keypair_from_secret(struct ntor_keypair *out,
			 const uint8_t secret_key[NTOR_KEY_LEN])
{
	if (sodium_init() < 0)
		return -EIO;
	memmove(out->secret_key, secret_key, NTOR_KEY_LEN);
	if (crypto_scalarmult_base(out->public_key, out->secret_key) != 0) {
		ct_wipe(out, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

int
ntor_keypair_generate(struct ntor_keypair *out)
{
	uint8_t secret_key[NTOR_KEY_LEN];
	int rc;

	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(secret_key, sizeof(secret_key));
	rc = ntor_keypair_from_secret(out, secret_key);
	ct_wipe(secret_key, sizeof(secret_key));
	return rc;
}

int
ntor_dh(uint8_t out[NTOR_KEY_LEN], const uint8_t secret_key[NTOR_KEY_LEN],
	const uint8_t public_key[NTOR_KEY_LEN])
{
	/* libsodium refuses (returns -1 for) an all-zero result, which is
	 * what a low-order public key gives; tor-spec 5.1.4 requires that no
	 * EXP() yield the point at infinity. Check the output too, so the
	 * rule does not rest on one library's behaviour. */
	if (crypto_scalarmult(out, secret_key, public_key) != 0 ||
	    ct_is_zero(out, NTOR_KEY_LEN)) {
		ct_wipe(out, NTOR_KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

int
ntor_onionskin_parse(const uint8_t **p, const uint8_t *end,
		     struct ntor_onionskin *out)
{
	const uint8_t *in = *p;

	if (end < in || (size_t)(end - in) < NTOR_ONIONSKIN_LEN)
		return -EINVAL;
	memcpy(out->node_id, in, NTOR_NODE_ID_LEN);
	in += NTOR_NODE_ID_LEN;
	memcpy(out->key_id, in, NTOR_KEY_LEN);
	in += NTOR_KEY_LEN;
	memcpy(out->client_pk, in, NTOR_KEY_LEN);
	in += NTOR_KEY_LEN;
	*p = in;
	return 0;
}

ssize_t
ntor_onionskin_encode(const struct ntor_onionskin *in, uint8_t *out,
		      size_t out_len)
{
	if (out_len < NTOR_ONIONSKIN_LEN)
		return -EMSGSIZE;
	memcpy(out, in->node_id, NTOR_NODE_ID_LEN);
	memcpy(out + NTOR_NODE_ID_LEN, in->key_id, NTOR_KEY_LEN);
	memcpy(out + NTOR_NODE_ID_LEN + NTOR_KEY_LEN, in->client_pk,
	       NTOR_KEY_LEN);
	return NTOR_ONIONSKIN_LEN;
}

int
ntor_reply_parse(const uint8_t **p, const uint8_t *end, struct ntor_reply *out)
{
	const uint8_t *in = *p;

	if (end < in || (size_t)(end - in) < NTOR_REPLY_LEN)
		return -EINVAL;
	memcpy(out->server_pk, in, NTOR_KEY_LEN);
	memcpy(out->auth, in + NTOR_KEY_LEN, NTOR_AUTH_LEN);
	*p = in + NTOR_REPLY_LEN;
	return 0;
}

ssize_t
ntor_reply_encode(const struct ntor_reply *in, uint8_t *out, size_t out_len)
{
	if (out_len < NTOR_REPLY_LEN)
		return -EMSGSIZE;
	memcpy(out, in->server_pk, NTOR_KEY_LEN);
	memcpy(out + NTOR_KEY_LEN, in->auth, NTOR_AUTH_LEN);
	return NTOR_REPLY_LEN;
}

static uint8_t *
put(uint8_t *at, const void *data, size_t len)
{
	memcpy(at, data, len);
	return at + len;
}

/* The part of tor-spec 5.1.4 both sides share. exp1 and exp2 are
 * EXP(X,y) and EXP(X,b) on the server, EXP(Y,x) and EXP(B,x) on the
 * client. Computes AUTH and, from KEY_SEED, key_material_len bytes of
 * KDF-RFC5869 output (tor-spec 5.2.2); KEY_SEED = H(secret_input, t_key) is
 * exactly HKDF-Extract(salt = t_key, IKM = secret_input). */
static int
ntor_derive(const uint8_t exp1[NTOR_KEY_LEN], const uint8_t exp2[NTOR_KEY_LEN],
	    const uint8_t node_id[NTOR_NODE_ID_LEN],
	    const uint8_t b_pub[NTOR_KEY_LEN], const uint8_t x_pub[NTOR_KEY_LEN],
	    const uint8_t y_pub[NTOR_KEY_LEN], uint8_t auth[NTOR_AUTH_LEN],
	    uint8_t *key_material, size_t key_material_len)
{
	uint8_t secret_input[SECRET_INPUT_LEN];
	uint8_t auth_input[AUTH_INPUT_LEN];
	uint8_t key_seed[KDF_SHA256_LEN], verify[KDF_SHA256_LEN];
	uint8_t *at;
	int rc;

	at = put(secret_input, exp1, NTOR_KEY_LEN);
	at = put(at, exp2, NTOR_KEY_LEN);
	at = put(at, node_id, NTOR_NODE_ID_LEN);
	at = put(at, b_pub, NTOR_KEY_LEN);
	at = put(at, x_pub, NTOR_KEY_LEN);
	at = put(at, y_pub, NTOR_KEY_LEN);
	put(at, PROTOID, PROTOID_LEN);

	rc = kdf_hmac_sha256(T_KEY, sizeof(T_KEY) - 1, secret_input,
			     sizeof(secret_input), key_seed);
	if (rc == 0)
		rc = kdf_hmac_sha256(T_VERIFY, sizeof(T_VERIFY) - 1,
				     secret_input, sizeof(secret_input),
				     verify);
	if (rc == 0) {
		at = put(auth_input, verify, sizeof(verify));
		at = put(at, node_id, NTOR_NODE_ID_LEN);
		at = put(at, b_pub, NTOR_KEY_LEN);
		at = put(at, y_pub, NTOR_KEY_LEN);
		at = put(at, x_pub, NTOR_KEY_LEN);
		at = put(at, PROTOID, PROTOID_LEN);
		put(at, SERVER_STRING, SERVER_STRING_LEN);
		rc = kdf_hmac_sha256(T_MAC, sizeof(T_MAC) - 1, auth_input,
				     sizeof(auth_input), auth);
	}
	if (rc == 0)
		rc = kdf_hkdf_sha256_expand(key_seed, sizeof(key_seed),
					    M_EXPAND, sizeof(M_EXPAND) - 1,
					    key_material, key_material_len);
	ct_wipe(secret_input, sizeof(secret_input));
	ct_wipe(auth_input, sizeof(auth_input));
	ct_wipe(key_seed, sizeof(key_seed));
	ct_wipe(verify, sizeof(verify));
	return rc;
}

static int
check_key_material(const uint8_t *key_material, size_t key_material_len)
{
	if (key_material == NULL || key_material_len == 0)
		return -EINVAL;
	if (key_material_len > NTOR_MAX_KEY_MATERIAL_LEN)
		return -EMSGSIZE;
	return 0;
}

ssize_t
ntor_server_handshake_with_ephemeral(const struct ntor_server_keys *keys,
				     const struct ntor_keypair *ephemeral,
				     const uint8_t *onionskin,
				     size_t onionskin_len, uint8_t *reply,
				     size_t reply_len, uint8_t *key_material,
				     size_t key_material_len)
{
	const struct ntor_keypair *onion_key = NULL;
	const uint8_t *p = onionskin;
	struct ntor_onionskin request;
	struct ntor_reply response;
	uint8_t exp_xy[NTOR_KEY_LEN], exp_xb[NTOR_KEY_LEN];
	int rc;

	if (onionskin == NULL || onionskin_len != NTOR_ONIONSKIN_LEN)
		return -EINVAL;
	if (reply == NULL || reply_len < NTOR_REPLY_LEN)
		return -EMSGSIZE;
	rc = check_key_material(key_material, key_material_len);
	if (rc != 0)
		return rc;
	if (keys->onion_key_count == 0 ||
	    keys->onion_key_count > NTOR_MAX_ONION_KEYS)
		return -EINVAL;
	rc = ntor_onionskin_parse(&p, onionskin + onionskin_len, &request);
	if (rc != 0)
		return rc;

	/* NODEID and KEYID are public; they only select our keys. */
	if (!ct_equal(request.node_id, keys->node_id, NTOR_NODE_ID_LEN))
		return -ENOKEY;
	for (size_t i = 0; i < keys->onion_key_count; i++)
		if (ct_equal(request.key_id, keys->onion_keys[i].public_key,
			     NTOR_KEY_LEN))
			onion_key = &keys->onion_keys[i];
	if (onion_key == NULL)
		return -ENOKEY;

	rc = ntor_dh(exp_xy, ephemeral->secret_key, request.client_pk);
	if (rc == 0)
		rc = ntor_dh(exp_xb, onion_key->secret_key, request.client_pk);
	if (rc == 0)
		rc = ntor_derive(exp_xy, exp_xb, keys->node_id,
				 onion_key->public_key, request.client_pk,
				 ephemeral->public_key, response.auth,
				 key_material, key_material_len);
	ct_wipe(exp_xy, sizeof(exp_xy));
	ct_wipe(exp_xb, sizeof(exp_xb));
	if (rc != 0) {
		ct_wipe(key_material, key_material_len);
		return rc;
	}
	memcpy(response.server_pk, ephemeral->public_key, NTOR_KEY_LEN);
	return ntor_reply_encode(&response, reply, reply_len);
}

ssize_t
ntor_server_handshake(const struct ntor_server_keys *keys,
		      const uint8_t *onionskin, size_t onionskin_len,
		      uint8_t *reply, size_t reply_len, uint8_t *key_material,
		      size_t key_material_len)
{
	struct ntor_keypair ephemeral;
	ssize_t rc;

	rc = ntor_keypair_generate(&ephemeral);
	if (rc == 0)
		rc = ntor_server_handshake_with_ephemeral(keys, &ephemeral,
				onionskin, onionskin_len, reply, reply_len,
				key_material, key_material_len);
	ct_wipe(&ephemeral, sizeof(ephemeral));
	return rc;
}

ssize_t
ntor_client_create_with_ephemeral(struct ntor_client_state *state,
				  const uint8_t node_id[NTOR_NODE_ID_LEN],
				  const uint8_t onion_key[NTOR_KEY_LEN],
				  const struct ntor_keypair *ephemeral,
				  uint8_t *onionskin, size_t onionskin_len)
{
	struct ntor_onionskin request;

	if (onionskin == NULL || onionskin_len < NTOR_ONIONSKIN_LEN)
		return -EMSGSIZE;
	memcpy(state->node_id, node_id, NTOR_NODE_ID_LEN);
	memcpy(state->onion_key, onion_key, NTOR_KEY_LEN);
	state->ephemeral = *ephemeral;

	memcpy(request.node_id, node_id, NTOR_NODE_ID_LEN);
	memcpy(request.key_id, onion_key, NTOR_KEY_LEN);
	memcpy(request.client_pk, ephemeral->public_key, NTOR_KEY_LEN);
	return ntor_onionskin_encode(&request, onionskin, onionskin_len);
}

ssize_t
ntor_client_create(struct ntor_client_state *state,
		   const uint8_t node_id[NTOR_NODE_ID_LEN],
		   const uint8_t onion_key[NTOR_KEY_LEN], uint8_t *onionskin,
		   size_t onionskin_len)
{
	struct ntor_keypair ephemeral;
	ssize_t rc;

	rc = ntor_keypair_generate(&ephemeral);
	if (rc == 0)
		rc = ntor_client_create_with_ephemeral(state, node_id,
				onion_key, &ephemeral, onionskin,
				onionskin_len);
	ct_wipe(&ephemeral, sizeof(ephemeral));
	return rc;
}

int
ntor_client_complete(struct ntor_client_state *state, const uint8_t *reply,
		     size_t reply_len, uint8_t *key_material,
		     size_t key_material_len)
{
	uint8_t exp_yx[NTOR_KEY_LEN], exp_bx[NTOR_KEY_LEN];
	uint8_t auth[NTOR_AUTH_LEN];
	struct ntor_reply response;
	const uint8_t *p = reply;
	int rc;

	rc = check_key_material(key_material, key_material_len);
	if (rc == 0 && (reply == NULL || reply_len != NTOR_REPLY_LEN))
		rc = -EINVAL;
	if (rc == 0)
		rc = ntor_reply_parse(&p, reply + reply_len, &response);
	if (rc != 0) {
		ct_wipe(state, sizeof(*state));
		return rc;
	}

	/* A degenerate Y from the relay is as bad as a wrong AUTH. */
	rc = ntor_dh(exp_yx, state->ephemeral.secret_key, response.server_pk);
	if (rc == 0)
		rc = ntor_dh(exp_bx, state->ephemeral.secret_key,
			     state->onion_key);
	if (rc == -EINVAL)
		rc = -EBADMSG;
	if (rc == 0)
		rc = ntor_derive(exp_yx, exp_bx, state->node_id,
				 state->onion_key,
				 state->ephemeral.public_key,
				 response.server_pk, auth, key_material,
				 key_material_len);
	if (rc == 0 && !ct_equal(auth, response.auth, NTOR_AUTH_LEN))
		rc = -EBADMSG;
	if (rc != 0)
		ct_wipe(key_material, key_material_len);
	ct_wipe(exp_yx, sizeof(exp_yx));
	ct_wipe(exp_bx, sizeof(exp_bx));
	ct_wipe(auth, sizeof(auth));
	ct_wipe(state, sizeof(*state));
	return rc;
}
