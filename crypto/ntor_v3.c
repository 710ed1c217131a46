#include "crypto/ntor_v3.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/ct.h"
#include "crypto/kdf.h"

/* Proposal 332 A.1/A.2: protocol id and tweaks. */
#define PROTOID "ntor3-curve25519-sha3_256-1"
#define T_MSGKDF PROTOID ":kdf_phase1"
#define T_MSGMAC PROTOID ":msg_mac"
#define T_KEY_SEED PROTOID ":key_seed"
#define T_VERIFY PROTOID ":verify"
#define T_FINAL PROTOID ":kdf_final"
#define T_AUTH PROTOID ":auth_final"
#define ENC_KEY_LEN 32
#define MAC_KEY_LEN 32
#define DIGEST_LEN 32

/* A SHA3-256 or SHAKE-256 computation over pieces, with a sticky error so
 * the derivations below read like the spec's formulas. */
struct hasher {
	struct kdf_digest *digest;
	int rc;
};

static void
hasher_add(struct hasher *h, const void *data, size_t len)
{
	if (h->rc == 0)
		h->rc = kdf_digest_update(h->digest, data, len);
}

/* ENCAP(s) = htonll(len(s)) | s */
static void
hasher_add_encap(struct hasher *h, const void *data, size_t len)
{
	uint8_t len_be[8];

	for (size_t i = 0; i < 8; i++)
		len_be[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	hasher_add(h, len_be, sizeof(len_be));
	hasher_add(h, data, len);
}

/* H(s, t) = SHA3_256(ENCAP(t) | s) and KDF(s, t) = SHAKE_256(ENCAP(t) | s)
 * both start with the encapsulated tweak. */
static void
hasher_start(struct hasher *h, enum kdf_hash hash, const char *tweak)
{
	h->digest = kdf_digest_new(hash);
	h->rc = h->digest == NULL ? -ENOMEM : 0;
	hasher_add_encap(h, tweak, strlen(tweak));
}

static int
hasher_finish(struct hasher *h, uint8_t *out, size_t out_len)
{
	if (h->rc == 0) {
		ssize_t n = kdf_digest_peek(h->digest, out, out_len);

		if (n < 0)
			h->rc = (int)n;
	}
	kdf_digest_free(h->digest);
	h->digest = NULL;
	return h->rc;
}

/* ENC(k, m) = AES_256_CTR(k, m) with a zero IV; in may equal out. */
static int
aes256_ctr(const uint8_t key[ENC_KEY_LEN], const uint8_t *in, uint8_t *out,
	   size_t len)
{
	static const uint8_t zero_iv[16];
	EVP_CIPHER_CTX *ctx;
	int out_len = 0, ok;

	if (len == 0)
		return 0;
	if (len > INT_MAX)
		return -EMSGSIZE;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, zero_iv) &&
	     EVP_EncryptUpdate(ctx, out, &out_len, in, (int)len) &&
	     (size_t)out_len == len;
	/* EVP_CIPHER_CTX_free clears the expanded key. */
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

/* phase1_keys = KDF_msgkdf(Bx | ID | X | B | PROTOID | ENCAP(VER)),
 * partitioned into ENC_K1 and MAC_K1. */
static int
phase1_keys(const uint8_t bx[NTOR_V3_KEY_LEN],
	    const uint8_t node_id[NTOR_V3_NODE_ID_LEN],
	    const uint8_t x_pub[NTOR_V3_KEY_LEN],
	    const uint8_t b_pub[NTOR_V3_KEY_LEN], const uint8_t *verification,
	    size_t verification_len, uint8_t enc_key[ENC_KEY_LEN],
	    uint8_t mac_key[MAC_KEY_LEN])
{
	uint8_t keys[ENC_KEY_LEN + MAC_KEY_LEN];
	struct hasher h;
	int rc;

	hasher_start(&h, KDF_HASH_SHAKE256, T_MSGKDF);
	hasher_add(&h, bx, NTOR_V3_KEY_LEN);
	hasher_add(&h, node_id, NTOR_V3_NODE_ID_LEN);
	hasher_add(&h, x_pub, NTOR_V3_KEY_LEN);
	hasher_add(&h, b_pub, NTOR_V3_KEY_LEN);
	hasher_add(&h, PROTOID, strlen(PROTOID));
	hasher_add_encap(&h, verification, verification_len);
	rc = hasher_finish(&h, keys, sizeof(keys));
	memcpy(enc_key, keys, ENC_KEY_LEN);
	memcpy(mac_key, keys + ENC_KEY_LEN, MAC_KEY_LEN);
	ct_wipe(keys, sizeof(keys));
	return rc;
}

/* msg_mac = MAC_msgmac(MAC_K1, ID | B | X | encrypted_msg), where
 * MAC(k, msg, t) = SHA3_256(ENCAP(t) | ENCAP(k) | msg). */
static int
client_msg_mac(const uint8_t mac_key[MAC_KEY_LEN],
	       const uint8_t node_id[NTOR_V3_NODE_ID_LEN],
	       const uint8_t b_pub[NTOR_V3_KEY_LEN],
	       const uint8_t x_pub[NTOR_V3_KEY_LEN],
	       const uint8_t *encrypted_msg, size_t encrypted_msg_len,
	       uint8_t mac[NTOR_V3_MAC_LEN])
{
	struct hasher h;

	hasher_start(&h, KDF_HASH_SHA3_256, T_MSGMAC);
	hasher_add_encap(&h, mac_key, MAC_KEY_LEN);
	hasher_add(&h, node_id, NTOR_V3_NODE_ID_LEN);
	hasher_add(&h, b_pub, NTOR_V3_KEY_LEN);
	hasher_add(&h, x_pub, NTOR_V3_KEY_LEN);
	hasher_add(&h, encrypted_msg, encrypted_msg_len);
	return hasher_finish(&h, mac, NTOR_V3_MAC_LEN);
}

/* The values the second phase shares between relay and client. */
struct phase2_input {
	const uint8_t *xy;	/* EXP(X, y) = EXP(Y, x) */
	const uint8_t *xb;	/* EXP(X, b) = EXP(B, x) */
	const uint8_t *node_id;
	const uint8_t *b_pub;
	const uint8_t *x_pub;
	const uint8_t *y_pub;
	const uint8_t *verification;
	size_t verification_len;
	const uint8_t *msg_mac;	/* the client's MAC */
};

static void
hasher_add_secret_input(struct hasher *h, const struct phase2_input *in)
{
	/* secret_input = Xy | Xb | ID | B | X | Y | PROTOID | ENCAP(VER) */
	hasher_add(h, in->xy, NTOR_V3_KEY_LEN);
	hasher_add(h, in->xb, NTOR_V3_KEY_LEN);
	hasher_add(h, in->node_id, NTOR_V3_NODE_ID_LEN);
	hasher_add(h, in->b_pub, NTOR_V3_KEY_LEN);
	hasher_add(h, in->x_pub, NTOR_V3_KEY_LEN);
	hasher_add(h, in->y_pub, NTOR_V3_KEY_LEN);
	hasher_add(h, PROTOID, strlen(PROTOID));
	hasher_add_encap(h, in->verification, in->verification_len);
}

/* ntor_key_seed = H_key_seed(secret_input), verify = H_verify(secret_input),
 * then RAW_KEYSTREAM = KDF_final(ntor_key_seed) split into ENC_KEY and the
 * caller's key material. */
static int
phase2_keys(const struct phase2_input *in, uint8_t verify[DIGEST_LEN],
	    uint8_t enc_key[ENC_KEY_LEN], uint8_t *key_material,
	    size_t key_material_len)
{
	uint8_t key_seed[DIGEST_LEN];
	uint8_t *keystream;
	struct hasher h;
	int rc;

	keystream = malloc(ENC_KEY_LEN + key_material_len);
	if (keystream == NULL)
		return -ENOMEM;
	hasher_start(&h, KDF_HASH_SHA3_256, T_KEY_SEED);
	hasher_add_secret_input(&h, in);
	rc = hasher_finish(&h, key_seed, sizeof(key_seed));
	if (rc == 0) {
		hasher_start(&h, KDF_HASH_SHA3_256, T_VERIFY);
		hasher_add_secret_input(&h, in);
		rc = hasher_finish(&h, verify, DIGEST_LEN);
	}
	if (rc == 0) {
		hasher_start(&h, KDF_HASH_SHAKE256, T_FINAL);
		hasher_add(&h, key_seed, sizeof(key_seed));
		rc = hasher_finish(&h, keystream,
				   ENC_KEY_LEN + key_material_len);
	}
	if (rc == 0) {
		memcpy(enc_key, keystream, ENC_KEY_LEN);
		memcpy(key_material, keystream + ENC_KEY_LEN,
		       key_material_len);
	}
	ct_wipe(keystream, ENC_KEY_LEN + key_material_len);
	free(keystream);
	ct_wipe(key_seed, sizeof(key_seed));
	return rc;
}

/* AUTH = H_auth(verify | ID | B | Y | X | MAC | ENCAP(encrypted_msg) |
 * PROTOID | "Server") */
static int
server_auth(const struct phase2_input *in, const uint8_t verify[DIGEST_LEN],
	    const uint8_t *encrypted_msg, size_t encrypted_msg_len,
	    uint8_t auth[NTOR_V3_AUTH_LEN])
{
	struct hasher h;

	hasher_start(&h, KDF_HASH_SHA3_256, T_AUTH);
	hasher_add(&h, verify, DIGEST_LEN);
	hasher_add(&h, in->node_id, NTOR_V3_NODE_ID_LEN);
	hasher_add(&h, in->b_pub, NTOR_V3_KEY_LEN);
	hasher_add(&h, in->y_pub, NTOR_V3_KEY_LEN);
	hasher_add(&h, in->x_pub, NTOR_V3_KEY_LEN);
	hasher_add(&h, in->msg_mac, NTOR_V3_MAC_LEN);
	hasher_add_encap(&h, encrypted_msg, encrypted_msg_len);
	hasher_add(&h, PROTOID, strlen(PROTOID));
	hasher_add(&h, "Server", 6);
	return hasher_finish(&h, auth, NTOR_V3_AUTH_LEN);
}

int
ntor_v3_onionskin_parse(const uint8_t **p, const uint8_t *end,
			struct ntor_v3_onionskin *out)
{
	const uint8_t *in = *p;
	size_t len;

	if (end < in || (size_t)(end - in) < NTOR_V3_ONIONSKIN_MIN_LEN)
		return -EINVAL;
	len = (size_t)(end - in);
	memcpy(out->node_id, in, NTOR_V3_NODE_ID_LEN);
	in += NTOR_V3_NODE_ID_LEN;
	memcpy(out->key_id, in, NTOR_V3_KEY_LEN);
	in += NTOR_V3_KEY_LEN;
	memcpy(out->client_pk, in, NTOR_V3_KEY_LEN);
	in += NTOR_V3_KEY_LEN;
	out->encrypted_msg = in;
	out->encrypted_msg_len = len - NTOR_V3_ONIONSKIN_MIN_LEN;
	in += out->encrypted_msg_len;
	memcpy(out->mac, in, NTOR_V3_MAC_LEN);
	*p = end;
	return 0;
}

ssize_t
ntor_v3_onionskin_encode(const struct ntor_v3_onionskin *in, uint8_t *out,
			 size_t out_len)
{
	size_t len = NTOR_V3_ONIONSKIN_MIN_LEN + in->encrypted_msg_len;
	uint8_t *at = out;

	if (in->encrypted_msg_len > SSIZE_MAX - NTOR_V3_ONIONSKIN_MIN_LEN ||
	    out_len < len)
		return -EMSGSIZE;
	if (in->encrypted_msg == NULL && in->encrypted_msg_len != 0)
		return -EINVAL;
	memcpy(at, in->node_id, NTOR_V3_NODE_ID_LEN);
	at += NTOR_V3_NODE_ID_LEN;
	memcpy(at, in->key_id, NTOR_V3_KEY_LEN);
	at += NTOR_V3_KEY_LEN;
	memcpy(at, in->client_pk, NTOR_V3_KEY_LEN);
	at += NTOR_V3_KEY_LEN;
	if (in->encrypted_msg_len != 0)
		memmove(at, in->encrypted_msg, in->encrypted_msg_len);
	at += in->encrypted_msg_len;
	memcpy(at, in->mac, NTOR_V3_MAC_LEN);
	return (ssize_t)len;
}

int
ntor_v3_reply_parse(const uint8_t **p, const uint8_t *end,
		    struct ntor_v3_reply *out)
{
	const uint8_t *in = *p;

	if (end < in || (size_t)(end - in) < NTOR_V3_REPLY_MIN_LEN)
		return -EINVAL;
	memcpy(out->server_pk, in, NTOR_V3_KEY_LEN);
	memcpy(out->auth, in + NTOR_V3_KEY_LEN, NTOR_V3_AUTH_LEN);
	out->encrypted_msg = in + NTOR_V3_REPLY_MIN_LEN;
	out->encrypted_msg_len = (size_t)(end - in) - NTOR_V3_REPLY_MIN_LEN;
	*p = end;
	return 0;
}

ssize_t
ntor_v3_reply_encode(const struct ntor_v3_reply *in, uint8_t *out,
		     size_t out_len)
{
	size_t len = NTOR_V3_REPLY_MIN_LEN + in->encrypted_msg_len;

	if (in->encrypted_msg_len > SSIZE_MAX - NTOR_V3_REPLY_MIN_LEN ||
	    out_len < len)
		return -EMSGSIZE;
	if (in->encrypted_msg == NULL && in->encrypted_msg_len != 0)
		return -EINVAL;
	memcpy(out, in->server_pk, NTOR_V3_KEY_LEN);
	memcpy(out + NTOR_V3_KEY_LEN, in->auth, NTOR_V3_AUTH_LEN);
	if (in->encrypted_msg_len != 0)
		memmove(out + NTOR_V3_REPLY_MIN_LEN, in->encrypted_msg,
			in->encrypted_msg_len);
	return (ssize_t)len;
}

static int
check_key_material(const uint8_t *key_material, size_t key_material_len)
{
	if (key_material == NULL || key_material_len == 0)
		return -EINVAL;
	if (key_material_len > NTOR_V3_MAX_KEY_MATERIAL_LEN)
		return -EMSGSIZE;
	return 0;
}

ssize_t
ntor_v3_server_receive(struct ntor_v3_server_state *state,
		       const struct ntor_v3_server_keys *keys,
		       const uint8_t *verification, size_t verification_len,
		       const uint8_t *onionskin, size_t onionskin_len,
		       uint8_t *client_msg, size_t client_msg_len)
{
	const struct ntor_keypair *onion_key = NULL;
	uint8_t enc_key[ENC_KEY_LEN], mac_key[MAC_KEY_LEN];
	uint8_t xb[NTOR_V3_KEY_LEN], expected_mac[NTOR_V3_MAC_LEN];
	struct ntor_v3_onionskin request;
	const uint8_t *p = onionskin;
	int rc;

	memset(state, 0, sizeof(*state));
	if (onionskin == NULL ||
	    (verification == NULL && verification_len != 0) ||
	    keys->onion_key_count == 0 ||
	    keys->onion_key_count > NTOR_MAX_ONION_KEYS)
		return -EINVAL;
	rc = ntor_v3_onionskin_parse(&p, onionskin + onionskin_len, &request);
	if (rc != 0)
		return rc;
	if (client_msg_len < request.encrypted_msg_len ||
	    request.encrypted_msg_len > SSIZE_MAX)
		return -EMSGSIZE;
	if (client_msg == NULL && request.encrypted_msg_len != 0)
		return -EMSGSIZE;

	/* NODEID and KEYID are public; they only select our keys. */
	if (!ct_equal(request.node_id, keys->node_id, NTOR_V3_NODE_ID_LEN))
		return -ENOKEY;
	for (size_t i = 0; i < keys->onion_key_count; i++)
		if (ct_equal(request.key_id, keys->onion_keys[i].public_key,
			     NTOR_V3_KEY_LEN))
			onion_key = &keys->onion_keys[i];
	if (onion_key == NULL)
		return -ENOKEY;

	rc = ntor_dh(xb, onion_key->secret_key, request.client_pk);
	if (rc == 0)
		rc = phase1_keys(xb, keys->node_id, request.client_pk,
				 onion_key->public_key, verification,
				 verification_len, enc_key, mac_key);
	if (rc == 0)
		rc = client_msg_mac(mac_key, keys->node_id,
				    onion_key->public_key, request.client_pk,
				    request.encrypted_msg,
				    request.encrypted_msg_len, expected_mac);
	if (rc == 0 && !ct_equal(expected_mac, request.mac, NTOR_V3_MAC_LEN))
		rc = -EBADMSG;
	if (rc == 0)
		rc = aes256_ctr(enc_key, request.encrypted_msg, client_msg,
				request.encrypted_msg_len);
	if (rc == 0) {
		memcpy(state->node_id, keys->node_id, NTOR_V3_NODE_ID_LEN);
		state->onion_key = *onion_key;
		memcpy(state->client_pk, request.client_pk, NTOR_V3_KEY_LEN);
		memcpy(state->xb, xb, NTOR_V3_KEY_LEN);
		memcpy(state->msg_mac, request.mac, NTOR_V3_MAC_LEN);
	} else if (client_msg != NULL) {
		ct_wipe(client_msg, request.encrypted_msg_len);
	}
	ct_wipe(enc_key, sizeof(enc_key));
	ct_wipe(mac_key, sizeof(mac_key));
	ct_wipe(xb, sizeof(xb));
	return rc == 0 ? (ssize_t)request.encrypted_msg_len : rc;
}

ssize_t
ntor_v3_server_reply_with_ephemeral(struct ntor_v3_server_state *state,
				    const struct ntor_keypair *ephemeral,
				    const uint8_t *verification,
				    size_t verification_len,
				    const uint8_t *server_msg,
				    size_t server_msg_len, uint8_t *reply,
				    size_t reply_len, uint8_t *key_material,
				    size_t key_material_len)
{
	uint8_t xy[NTOR_V3_KEY_LEN], verify[DIGEST_LEN], enc_key[ENC_KEY_LEN];
	struct phase2_input in;
	int rc;

	rc = check_key_material(key_material, key_material_len);
	if (rc == 0 && ((verification == NULL && verification_len != 0) ||
			(server_msg == NULL && server_msg_len != 0)))
		rc = -EINVAL;
	if (rc == 0 && (reply == NULL ||
			server_msg_len > SSIZE_MAX - NTOR_V3_REPLY_MIN_LEN ||
			reply_len < NTOR_V3_REPLY_MIN_LEN + server_msg_len))
		rc = -EMSGSIZE;
	if (rc != 0) {
		ct_wipe(state, sizeof(*state));
		return rc;
	}

	rc = ntor_dh(xy, ephemeral->secret_key, state->client_pk);
	in = (struct phase2_input){
		.xy = xy,
		.xb = state->xb,
		.node_id = state->node_id,
		.b_pub = state->onion_key.public_key,
		.x_pub = state->client_pk,
		.y_pub = ephemeral->public_key,
		.verification = verification,
		.verification_len = verification_len,
		.msg_mac = state->msg_mac,
	};
	if (rc == 0)
		rc = phase2_keys(&in, verify, enc_key, key_material,
				 key_material_len);
	if (rc == 0)
		rc = aes256_ctr(enc_key, server_msg,
				reply + NTOR_V3_REPLY_MIN_LEN, server_msg_len);
	if (rc == 0)
		rc = server_auth(&in, verify, reply + NTOR_V3_REPLY_MIN_LEN,
				 server_msg_len, reply + NTOR_V3_KEY_LEN);
	if (rc == 0)
		memcpy(reply, ephemeral->public_key, NTOR_V3_KEY_LEN);
	else
		ct_wipe(key_material, key_material_len);
	ct_wipe(xy, sizeof(xy));
	ct_wipe(verify, sizeof(verify));
	ct_wipe(enc_key, sizeof(enc_key));
	ct_wipe(state, sizeof(*state));
	return rc == 0 ? (ssize_t)(NTOR_V3_REPLY_MIN_LEN + server_msg_len) : rc;
}

ssize_t
ntor_v3_server_reply(struct ntor_v3_server_state *state,
		     const uint8_t *verification, size_t verification_len,
		     const uint8_t *server_msg, size_t server_msg_len,
		     uint8_t *reply, size_t reply_len, uint8_t *key_material,
		     size_t key_material_len)
{
	struct ntor_keypair ephemeral;
	ssize_t rc;

	rc = ntor_keypair_generate(&ephemeral);
	if (rc == 0)
		rc = ntor_v3_server_reply_with_ephemeral(state, &ephemeral,
				verification, verification_len, server_msg,
				server_msg_len, reply, reply_len,
				key_material, key_material_len);
	else
		ct_wipe(state, sizeof(*state));
	ct_wipe(&ephemeral, sizeof(ephemeral));
	return rc;
}

ssize_t
ntor_v3_client_create_with_ephemeral(struct ntor_v3_client_state *state,
				     const struct ntor_keypair *ephemeral,
				     const uint8_t node_id[NTOR_V3_NODE_ID_LEN],
				     const uint8_t onion_key[NTOR_V3_KEY_LEN],
				     const uint8_t *verification,
				     size_t verification_len,
				     const uint8_t *client_msg,
				     size_t client_msg_len,
				     uint8_t *onionskin, size_t onionskin_len)
{
	uint8_t enc_key[ENC_KEY_LEN], mac_key[MAC_KEY_LEN];
	struct ntor_v3_onionskin request;
	uint8_t *msg_at;
	int rc;

	memset(state, 0, sizeof(*state));
	if ((verification == NULL && verification_len != 0) ||
	    (client_msg == NULL && client_msg_len != 0))
		return -EINVAL;
	if (onionskin == NULL ||
	    client_msg_len > SSIZE_MAX - NTOR_V3_ONIONSKIN_MIN_LEN ||
	    onionskin_len < NTOR_V3_ONIONSKIN_MIN_LEN + client_msg_len)
		return -EMSGSIZE;
	memcpy(state->node_id, node_id, NTOR_V3_NODE_ID_LEN);
	memcpy(state->onion_key, onion_key, NTOR_V3_KEY_LEN);
	state->ephemeral = *ephemeral;

	/* The message is encrypted straight into its place in the onion
	 * skin, which the encoder then leaves where it is. */
	msg_at = onionskin + NTOR_V3_ONIONSKIN_MIN_LEN - NTOR_V3_MAC_LEN;
	rc = ntor_dh(state->bx, ephemeral->secret_key, onion_key);
	if (rc == 0)
		rc = phase1_keys(state->bx, node_id, ephemeral->public_key,
				 onion_key, verification, verification_len,
				 enc_key, mac_key);
	if (rc == 0)
		rc = aes256_ctr(enc_key, client_msg, msg_at, client_msg_len);
	if (rc == 0)
		rc = client_msg_mac(mac_key, node_id, onion_key,
				    ephemeral->public_key, msg_at,
				    client_msg_len, state->msg_mac);
	ct_wipe(enc_key, sizeof(enc_key));
	ct_wipe(mac_key, sizeof(mac_key));
	if (rc != 0) {
		ct_wipe(state, sizeof(*state));
		return rc;
	}
	memcpy(request.node_id, node_id, NTOR_V3_NODE_ID_LEN);
	memcpy(request.key_id, onion_key, NTOR_V3_KEY_LEN);
	memcpy(request.client_pk, ephemeral->public_key, NTOR_V3_KEY_LEN);
	request.encrypted_msg = msg_at;
	request.encrypted_msg_len = client_msg_len;
	memcpy(request.mac, state->msg_mac, NTOR_V3_MAC_LEN);
	return ntor_v3_onionskin_encode(&request, onionskin, onionskin_len);
}

ssize_t
ntor_v3_client_create(struct ntor_v3_client_state *state,
		      const uint8_t node_id[NTOR_V3_NODE_ID_LEN],
		      const uint8_t onion_key[NTOR_V3_KEY_LEN],
		      const uint8_t *verification, size_t verification_len,
		      const uint8_t *client_msg, size_t client_msg_len,
		      uint8_t *onionskin, size_t onionskin_len)
{
	struct ntor_keypair ephemeral;
	ssize_t rc;

	rc = ntor_keypair_generate(&ephemeral);
	if (rc == 0)
		rc = ntor_v3_client_create_with_ephemeral(state, &ephemeral,
				node_id, onion_key, verification,
				verification_len, client_msg, client_msg_len,
				onionskin, onionskin_len);
	ct_wipe(&ephemeral, sizeof(ephemeral));
	return rc;
}

ssize_t
ntor_v3_client_complete(struct ntor_v3_client_state *state,
			const uint8_t *verification, size_t verification_len,
			const uint8_t *reply, size_t reply_len,
			uint8_t *server_msg, size_t server_msg_len,
			uint8_t *key_material, size_t key_material_len)
{
	uint8_t yx[NTOR_V3_KEY_LEN], verify[DIGEST_LEN], enc_key[ENC_KEY_LEN];
	uint8_t auth[NTOR_V3_AUTH_LEN];
	struct ntor_v3_reply response;
	struct phase2_input in;
	const uint8_t *p = reply;
	int rc;

	rc = check_key_material(key_material, key_material_len);
	if (rc == 0 && (reply == NULL ||
			(verification == NULL && verification_len != 0)))
		rc = -EINVAL;
	if (rc == 0)
		rc = ntor_v3_reply_parse(&p, reply + reply_len, &response);
	if (rc == 0 && (server_msg_len < response.encrypted_msg_len ||
			response.encrypted_msg_len > SSIZE_MAX ||
			(server_msg == NULL &&
			 response.encrypted_msg_len != 0)))
		rc = -EMSGSIZE;
	if (rc != 0) {
		ct_wipe(state, sizeof(*state));
		return rc;
	}

	/* A degenerate Y from the relay is as bad as a wrong AUTH. */
	rc = ntor_dh(yx, state->ephemeral.secret_key, response.server_pk);
	if (rc == -EINVAL)
		rc = -EBADMSG;
	in = (struct phase2_input){
		.xy = yx,
		.xb = state->bx,
		.node_id = state->node_id,
		.b_pub = state->onion_key,
		.x_pub = state->ephemeral.public_key,
		.y_pub = response.server_pk,
		.verification = verification,
		.verification_len = verification_len,
		.msg_mac = state->msg_mac,
	};
	if (rc == 0)
		rc = phase2_keys(&in, verify, enc_key, key_material,
				 key_material_len);
	if (rc == 0)
		rc = server_auth(&in, verify, response.encrypted_msg,
				 response.encrypted_msg_len, auth);
	if (rc == 0 && !ct_equal(auth, response.auth, NTOR_V3_AUTH_LEN))
		rc = -EBADMSG;
	if (rc == 0)
		rc = aes256_ctr(enc_key, response.encrypted_msg, server_msg,
				response.encrypted_msg_len);
	if (rc != 0) {
		ct_wipe(key_material, key_material_len);
		if (server_msg != NULL)
			ct_wipe(server_msg, response.encrypted_msg_len);
	}
	ct_wipe(yx, sizeof(yx));
	ct_wipe(verify, sizeof(verify));
	ct_wipe(enc_key, sizeof(enc_key));
	ct_wipe(auth, sizeof(auth));
	ct_wipe(state, sizeof(*state));
	return rc == 0 ? (ssize_t)response.encrypted_msg_len : rc;
}
