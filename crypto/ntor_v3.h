/* The ntor-v3 circuit handshake (tor-spec "The ntor-v3 handshake",
 * proposal 332; CREATE2 handshake type 0x0003), server side for the relay
 * and client side for tests and load generation.
 *
 * Unlike ntor, each side sends a message inside the handshake: the client's
 * is encrypted to the relay's onion key and MACed, the relay's is encrypted
 * under the final keys and covered by AUTH. This module only moves those
 * bytes; their contents (the extension list of proposal 332 A.2) are the
 * caller's. The relay side is split in two so the caller can read the
 * client's message before choosing its reply:
 *
 *   ntor_v3_server_receive()  check and decrypt the client's onion skin
 *   ntor_v3_server_reply()    encrypt the server message, build the reply,
 *                             derive the key material
 *
 * Hashes are SHA3-256, the KDF is SHAKE-256 and the message cipher
 * AES-256-CTR, all from OpenSSL; X25519 is libsodium's (crypto/ntor.h).
 * Error codes are those of crypto/ntor.h: -EINVAL malformed or degenerate,
 * -ENOKEY not our NODEID / unknown KEYID, -EBADMSG bad MAC or AUTH,
 * -EMSGSIZE output buffer too small, -EIO or -ENOMEM library failure.
 */
#ifndef HSRELAY_CRYPTO_NTOR_V3_H
#define HSRELAY_CRYPTO_NTOR_V3_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/ntor.h"

#define NTOR_V3_KEY_LEN 32	/* curve25519 public key */
#define NTOR_V3_NODE_ID_LEN 32	/* the relay's ed25519 identity key */
#define NTOR_V3_MAC_LEN 32
#define NTOR_V3_AUTH_LEN 32
/* NODEID | KEYID | CLIENT_PK | MSG | MAC with an empty MSG. */
#define NTOR_V3_ONIONSKIN_MIN_LEN \
	(NTOR_V3_NODE_ID_LEN + 2 * NTOR_V3_KEY_LEN + NTOR_V3_MAC_LEN)	/* 128 */
/* Y | AUTH | MSG with an empty MSG. */
#define NTOR_V3_REPLY_MIN_LEN (NTOR_V3_KEY_LEN + NTOR_V3_AUTH_LEN)	/* 64 */
/* The verification string tor uses for circuit extension. */
#define NTOR_V3_CIRC_VERIFICATION "circuit extend"
#define NTOR_V3_CIRC_VERIFICATION_LEN (sizeof(NTOR_V3_CIRC_VERIFICATION) - 1)
/* A bound on the key material one call derives (tor1 needs 72). */
#define NTOR_V3_MAX_KEY_MATERIAL_LEN 4096

/* Client onion skin. The message is not copied: encrypted_msg points into
 * the parsed buffer. */
struct ntor_v3_onionskin {
	uint8_t node_id[NTOR_V3_NODE_ID_LEN];	/* NODEID */
	uint8_t key_id[NTOR_V3_KEY_LEN];	/* KEYID = B */
	uint8_t client_pk[NTOR_V3_KEY_LEN];	/* CLIENT_PK = X */
	const uint8_t *encrypted_msg;		/* MSG */
	size_t encrypted_msg_len;
	uint8_t mac[NTOR_V3_MAC_LEN];		/* MAC */
};

/* Server reply; encrypted_msg points into the parsed buffer. */
struct ntor_v3_reply {
	uint8_t server_pk[NTOR_V3_KEY_LEN];	/* Y */
	uint8_t auth[NTOR_V3_AUTH_LEN];		/* AUTH */
	const uint8_t *encrypted_msg;		/* MSG */
	size_t encrypted_msg_len;
};

/* Both formats have no length field: the message runs to the end of the
 * handshake data, so the parsers consume everything up to end (and the MAC
 * of an onion skin is its last 32 bytes). *p advances on success only. */
int ntor_v3_onionskin_parse(const uint8_t **p, const uint8_t *end,
			    struct ntor_v3_onionskin *out);
ssize_t ntor_v3_onionskin_encode(const struct ntor_v3_onionskin *in,
				 uint8_t *out, size_t out_len);
int ntor_v3_reply_parse(const uint8_t **p, const uint8_t *end,
			struct ntor_v3_reply *out);
ssize_t ntor_v3_reply_encode(const struct ntor_v3_reply *in, uint8_t *out,
			     size_t out_len);

/* What a relay needs to answer ntor-v3 handshakes. */
struct ntor_v3_server_keys {
	uint8_t node_id[NTOR_V3_NODE_ID_LEN];
	struct ntor_keypair onion_keys[NTOR_MAX_ONION_KEYS];
	size_t onion_key_count;	/* 1 or 2: current, then previous */
};

/* Carried from ntor_v3_server_receive() to ntor_v3_server_reply(). */
struct ntor_v3_server_state {
	uint8_t node_id[NTOR_V3_NODE_ID_LEN];
	struct ntor_keypair onion_key;		/* (b, B) that matched KEYID */
	uint8_t client_pk[NTOR_V3_KEY_LEN];	/* X */
	uint8_t xb[NTOR_V3_KEY_LEN];		/* EXP(X, b) */
	uint8_t msg_mac[NTOR_V3_MAC_LEN];	/* the client's MAC */
};

/* Checks an onion skin of onionskin_len bytes against keys and the
 * verification string, and decrypts the client message into client_msg
 * (capacity client_msg_len). Returns the message length. */
ssize_t ntor_v3_server_receive(struct ntor_v3_server_state *state,
			       const struct ntor_v3_server_keys *keys,
			       const uint8_t *verification,
			       size_t verification_len,
			       const uint8_t *onionskin, size_t onionskin_len,
			       uint8_t *client_msg, size_t client_msg_len);
/* Encrypts server_msg, writes the reply (Y | AUTH | MSG) into reply and
 * key_material_len bytes of key material. verification must be the string
 * given to ntor_v3_server_receive(). Wipes state whatever the outcome.
 * Returns the reply length, 64 + server_msg_len. */
ssize_t ntor_v3_server_reply(struct ntor_v3_server_state *state,
			     const uint8_t *verification,
			     size_t verification_len,
			     const uint8_t *server_msg, size_t server_msg_len,
			     uint8_t *reply, size_t reply_len,
			     uint8_t *key_material, size_t key_material_len);
/* The same with a caller-chosen ephemeral keypair (y, Y); test vectors
 * and deterministic fuzzing only. */
ssize_t ntor_v3_server_reply_with_ephemeral(
		struct ntor_v3_server_state *state,
		const struct ntor_keypair *ephemeral,
		const uint8_t *verification, size_t verification_len,
		const uint8_t *server_msg, size_t server_msg_len,
		uint8_t *reply, size_t reply_len,
		uint8_t *key_material, size_t key_material_len);

/* What a client keeps between sending CREATE2 and getting CREATED2. */
struct ntor_v3_client_state {
	uint8_t node_id[NTOR_V3_NODE_ID_LEN];
	uint8_t onion_key[NTOR_V3_KEY_LEN];	/* B */
	struct ntor_keypair ephemeral;		/* x, X */
	uint8_t bx[NTOR_V3_KEY_LEN];		/* EXP(B, x) */
	uint8_t msg_mac[NTOR_V3_MAC_LEN];
};

/* Builds an onion skin carrying client_msg for the relay node_id with ntor
 * onion key onion_key. Returns its length, 128 + client_msg_len. */
ssize_t ntor_v3_client_create(struct ntor_v3_client_state *state,
			      const uint8_t node_id[NTOR_V3_NODE_ID_LEN],
			      const uint8_t onion_key[NTOR_V3_KEY_LEN],
			      const uint8_t *verification,
			      size_t verification_len,
			      const uint8_t *client_msg, size_t client_msg_len,
			      uint8_t *onionskin, size_t onionskin_len);
/* The same with a caller-chosen ephemeral keypair (tests only). */
ssize_t ntor_v3_client_create_with_ephemeral(
		struct ntor_v3_client_state *state,
		const struct ntor_keypair *ephemeral,
		const uint8_t node_id[NTOR_V3_NODE_ID_LEN],
		const uint8_t onion_key[NTOR_V3_KEY_LEN],
		const uint8_t *verification, size_t verification_len,
		const uint8_t *client_msg, size_t client_msg_len,
		uint8_t *onionskin, size_t onionskin_len);
/* Checks the relay's reply, decrypts its message into server_msg
 * (capacity server_msg_len) and derives key_material_len bytes of key
 * material. Wipes state whatever the outcome; on failure the outputs are
 * zeroed. Returns the server message length. */
ssize_t ntor_v3_client_complete(struct ntor_v3_client_state *state,
				const uint8_t *verification,
				size_t verification_len,
				const uint8_t *reply, size_t reply_len,
				uint8_t *server_msg, size_t server_msg_len,
				uint8_t *key_material, size_t key_material_len);

#endif
