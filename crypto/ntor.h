/* The ntor circuit handshake (tor-spec 5.1.4, CREATE2 handshake type
 * 0x0002), server side for the relay and client side for tests and load
 * generation, plus the curve25519 helpers ntor and ntor-v3 share.
 *
 * Slow path: one call per CREATE2 on the control thread. Every function
 * returns a negative errno code on failure:
 *   -EINVAL   malformed input (wrong length, or a public key that gives an
 *             all-zero shared secret, i.e. a low-order point)
 *   -ENOKEY   the onion skin is for another relay (NODEID) or an onion key
 *             we do not hold (KEYID)
 *   -EBADMSG  the server's AUTH does not verify (client side)
 *   -EMSGSIZE an output buffer is too small, or too much key material asked
 *   -EIO      the crypto library failed
 * Secrets in intermediate buffers are wiped before returning.
 */
#ifndef HSRELAY_CRYPTO_NTOR_H
#define HSRELAY_CRYPTO_NTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NTOR_KEY_LEN 32		/* curve25519 public key, secret key, output */
#define NTOR_NODE_ID_LEN 20	/* SHA-1 digest of the RSA identity key */
#define NTOR_AUTH_LEN 32
#define NTOR_ONIONSKIN_LEN (NTOR_NODE_ID_LEN + 2 * NTOR_KEY_LEN)	/* 84 */
#define NTOR_REPLY_LEN (NTOR_KEY_LEN + NTOR_AUTH_LEN)			/* 64 */
/* Key material for a tor1 relay crypto layer: Df 20, Db 20, Kf 16, Kb 16
 * (tor-spec 5.2.2). A caller may ask for more, e.g. 92 to get KH as well. */
#define NTOR_TOR1_KEY_MATERIAL_LEN 72
/* HKDF-SHA256 limit (RFC 5869 2.3). */
#define NTOR_MAX_KEY_MATERIAL_LEN (255 * 32)
/* A relay accepts its current onion key and the previous one
 * (tor-spec 1.1: old ntor keys stay valid for a while after rotation). */
#define NTOR_MAX_ONION_KEYS 2

struct ntor_keypair {
	uint8_t secret_key[NTOR_KEY_LEN];
	uint8_t public_key[NTOR_KEY_LEN];
};

/* Fresh random curve25519 keypair. */
int ntor_keypair_generate(struct ntor_keypair *out);
/* Keypair from a given secret (clamped by the scalar multiplication). */
int ntor_keypair_from_secret(struct ntor_keypair *out,
			     const uint8_t secret_key[NTOR_KEY_LEN]);
/* X25519 (RFC 7748): out = secret_key * public_key. -EINVAL, with out
 * zeroed, when the result is all zeros (public_key of low order). */
int ntor_dh(uint8_t out[NTOR_KEY_LEN], const uint8_t secret_key[NTOR_KEY_LEN],
	    const uint8_t public_key[NTOR_KEY_LEN]);

/* CREATE2 handshake data of an ntor client (tor-spec 5.1.4). */
struct ntor_onionskin {
	uint8_t node_id[NTOR_NODE_ID_LEN];	/* NODEID */
	uint8_t key_id[NTOR_KEY_LEN];		/* KEYID(B) = B */
	uint8_t client_pk[NTOR_KEY_LEN];	/* CLIENT_KP = X */
};

/* CREATED2 handshake data of an ntor server. */
struct ntor_reply {
	uint8_t server_pk[NTOR_KEY_LEN];	/* SERVER_KP = Y */
	uint8_t auth[NTOR_AUTH_LEN];		/* AUTH */
};

/* Reads the fixed 84 bytes at *p; advances *p on success only. */
int ntor_onionskin_parse(const uint8_t **p, const uint8_t *end,
			 struct ntor_onionskin *out);
ssize_t ntor_onionskin_encode(const struct ntor_onionskin *in, uint8_t *out,
			      size_t out_len);
/* Reads the fixed 64 bytes at *p; advances *p on success only. */
int ntor_reply_parse(const uint8_t **p, const uint8_t *end,
		     struct ntor_reply *out);
ssize_t ntor_reply_encode(const struct ntor_reply *in, uint8_t *out,
			  size_t out_len);

/* What a relay needs to answer ntor handshakes. */
struct ntor_server_keys {
	uint8_t node_id[NTOR_NODE_ID_LEN];
	struct ntor_keypair onion_keys[NTOR_MAX_ONION_KEYS];
	size_t onion_key_count;	/* 1 or 2: current, then previous */
};

/* Answers the onionskin_len (must be 84) bytes of a CREATE2 ntor onion
 * skin: writes the 64-byte CREATED2 reply into reply (reply_len >= 64) and
 * key_material_len bytes of KDF-RFC5869 output into key_material.
 * Returns NTOR_REPLY_LEN. */
ssize_t ntor_server_handshake(const struct ntor_server_keys *keys,
			      const uint8_t *onionskin, size_t onionskin_len,
			      uint8_t *reply, size_t reply_len,
			      uint8_t *key_material, size_t key_material_len);
/* The same with a caller-chosen ephemeral keypair (y, Y); for test vectors
 * and deterministic fuzzing only, never reuse an ephemeral key. */
ssize_t ntor_server_handshake_with_ephemeral(
		const struct ntor_server_keys *keys,
		const struct ntor_keypair *ephemeral,
		const uint8_t *onionskin, size_t onionskin_len,
		uint8_t *reply, size_t reply_len,
		uint8_t *key_material, size_t key_material_len);

/* What a client keeps between sending CREATE2 and getting CREATED2. */
struct ntor_client_state {
	uint8_t node_id[NTOR_NODE_ID_LEN];
	uint8_t onion_key[NTOR_KEY_LEN];	/* B */
	struct ntor_keypair ephemeral;		/* x, X */
};

/* Starts a handshake with the relay node_id whose ntor onion key is
 * onion_key: fills state and writes the 84-byte onion skin. Returns
 * NTOR_ONIONSKIN_LEN. */
ssize_t ntor_client_create(struct ntor_client_state *state,
			   const uint8_t node_id[NTOR_NODE_ID_LEN],
			   const uint8_t onion_key[NTOR_KEY_LEN],
			   uint8_t *onionskin, size_t onionskin_len);
/* The same with a caller-chosen ephemeral keypair (tests only). */
ssize_t ntor_client_create_with_ephemeral(
		struct ntor_client_state *state,
		const uint8_t node_id[NTOR_NODE_ID_LEN],
		const uint8_t onion_key[NTOR_KEY_LEN],
		const struct ntor_keypair *ephemeral,
		uint8_t *onionskin, size_t onionskin_len);
/* Checks the relay's reply (reply_len must be 64) and derives
 * key_material_len bytes of key material. The state is wiped whatever the
 * outcome, and key_material is zeroed on failure. */
int ntor_client_complete(struct ntor_client_state *state,
			 const uint8_t *reply, size_t reply_len,
			 uint8_t *key_material, size_t key_material_len);

#endif
