/* Onion-key cross-certificates (dir-spec 2.1.1) and the curve25519 ->
 * Ed25519 key conversion. See onion_key_crosscert.h. */
#include "crypto/onion_key_crosscert.h"

#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <sodium.h>

#include "crypto/ct.h"
#include "crypto/rsa_identity.h"
#include "crypto/torcert.h"

/* sizeof includes the NUL: tor hashes the terminator too. */
static const char high_half_label[] =
	"Derive high part of ed25519 key from curve25519 key";

int
ed25519_keypair_from_curve25519(struct ed25519_keypair *out,
		int *sign_bit, const struct curve25519_keypair *in)
{
	uint8_t expanded[ED25519_EXPANDED_SECRET_KEY_LEN];
	uint8_t hash[crypto_hash_sha512_BYTES];
	crypto_hash_sha512_state state;
	int rc;

	if (sodium_init() < 0)
		return -EIO;
	memcpy(expanded, in->secret, CURVE25519_KEY_LEN);
	/* X25519 clamps the scalar when it is used (RFC 7748 5); clamp here
	 * too so that [a]B matches the curve25519 public key even for a
	 * secret stored unclamped. For tor's keys this changes nothing. */
	expanded[0] &= 248;
	expanded[31] &= 127;
	expanded[31] |= 64;
	crypto_hash_sha512_init(&state);
	crypto_hash_sha512_update(&state, expanded, CURVE25519_KEY_LEN);
	crypto_hash_sha512_update(&state, (const uint8_t *)high_half_label,
			sizeof(high_half_label));
	crypto_hash_sha512_final(&state, hash);
	memcpy(expanded + CURVE25519_KEY_LEN, hash, 32);
	rc = ed25519_keypair_from_expanded(out, expanded);
	if (rc == 0)
		*sign_bit = out->public_key[31] >> 7;
	ct_wipe(expanded, sizeof(expanded));
	ct_wipe(hash, sizeof(hash));
	ct_wipe(&state, sizeof(state));
	return rc;
}

/* dir-spec appendix "Converting a curve25519 public key to an ed25519
 * public key": field elements are 32-byte little-endian. */
int
ed25519_public_from_curve25519(uint8_t out[ED25519_PUBLIC_KEY_LEN],
		const uint8_t curve25519_public[CURVE25519_KEY_LEN], int sign_bit)
{
	uint8_t u_bytes[CURVE25519_KEY_LEN];
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *p, *u, *numerator, *denominator, *y;
	int rc = -EIO;

	if (ctx == NULL)
		return -EIO;
	BN_CTX_start(ctx);
	p = BN_CTX_get(ctx);
	u = BN_CTX_get(ctx);
	numerator = BN_CTX_get(ctx);
	denominator = BN_CTX_get(ctx);
	y = BN_CTX_get(ctx);
	if (y == NULL)
		goto out;
	memcpy(u_bytes, curve25519_public, sizeof(u_bytes));
	u_bytes[31] &= 0x7f;
	/* p = 2^255 - 19 */
	if (!BN_set_word(p, 0) || !BN_set_bit(p, 255) || !BN_sub_word(p, 19))
		goto out;
	if (BN_lebin2bn(u_bytes, sizeof(u_bytes), u) == NULL ||
			!BN_nnmod(u, u, p, ctx))
		goto out;
	if (!BN_copy(numerator, u) || !BN_copy(denominator, u) ||
			!BN_add_word(denominator, 1) ||
			!BN_nnmod(denominator, denominator, p, ctx) ||
			!BN_sub_word(numerator, 1) ||
			!BN_nnmod(numerator, numerator, p, ctx))
		goto out;
	if (BN_is_zero(denominator)) {
		/* u = -1 has no image; tor's field inversion maps 0 to 0, so
		 * y = 0 there. Only a malformed key gets here. */
		BN_zero(y);
	} else if (BN_mod_inverse(denominator, denominator, p, ctx) == NULL ||
			!BN_mod_mul(y, numerator, denominator, p, ctx)) {
		goto out;
	}
	if (BN_bn2lebinpad(y, out, ED25519_PUBLIC_KEY_LEN) !=
			ED25519_PUBLIC_KEY_LEN)
		goto out;
	out[31] |= (uint8_t)((sign_bit ? 1 : 0) << 7);
	rc = 0;
out:
	BN_CTX_end(ctx);
	BN_CTX_free(ctx);
	return rc;
}

ssize_t
ntor_onion_key_crosscert_create(const struct curve25519_keypair *onion_key,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN],
		uint32_t expiration_hours, int *sign_bit,
		uint8_t *out, size_t out_len)
{
	struct ed25519_keypair derived;
	ssize_t len;
	int rc;

	rc = ed25519_keypair_from_curve25519(&derived, sign_bit, onion_key);
	if (rc != 0)
		return rc;
	/* No signed-with-key extension: the verifier derives the key from the
	 * descriptor's ntor-onion-key (tor: flags 0 for CERT_TYPE_ONION_ID). */
	len = torcert_create(TORCERT_TYPE_NTOR_CROSSCERT,
			TORCERT_KEY_TYPE_ED25519, master_identity,
			expiration_hours, &derived, false, out, out_len);
	ct_wipe(&derived, sizeof(derived));
	return len;
}

int
ntor_onion_key_crosscert_verify(const uint8_t *cert, size_t cert_len,
		const uint8_t ntor_public[CURVE25519_KEY_LEN], int sign_bit,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN], time_t now)
{
	const uint8_t *cursor = cert;
	struct torcert parsed;
	uint8_t signer[ED25519_PUBLIC_KEY_LEN];
	int rc;

	if (sign_bit != 0 && sign_bit != 1)
		return -EINVAL;
	rc = torcert_parse(&cursor, cert + cert_len, &parsed);
	if (rc != 0)
		return -EINVAL;
	if (cursor != cert + cert_len ||
			parsed.cert_type != TORCERT_TYPE_NTOR_CROSSCERT ||
			parsed.key_type != TORCERT_KEY_TYPE_ED25519 ||
			memcmp(parsed.certified_key, master_identity,
				ED25519_PUBLIC_KEY_LEN) != 0)
		return -EINVAL;
	rc = ed25519_public_from_curve25519(signer, ntor_public, sign_bit);
	if (rc != 0)
		return rc;
	rc = torcert_verify(&parsed, signer, now);
	return rc == -EINVAL ? -EBADMSG : rc;
}

static int
tap_signed_data(uint8_t data[TAP_ONION_CROSSCERT_SIGNED_LEN],
		const struct rsa_identity *identity,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN])
{
	int rc = rsa_identity_fingerprint(identity, data);

	if (rc != 0)
		return rc;
	memcpy(data + RSA_IDENTITY_FINGERPRINT_LEN, master_identity,
			ED25519_PUBLIC_KEY_LEN);
	return 0;
}

ssize_t
tap_onion_key_crosscert_create(const struct rsa_identity *tap_onion_key,
		const struct rsa_identity *identity,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN],
		uint8_t *out, size_t out_len)
{
	uint8_t data[TAP_ONION_CROSSCERT_SIGNED_LEN];
	int rc = tap_signed_data(data, identity, master_identity);

	if (rc != 0)
		return rc;
	return rsa_identity_sign_digest(tap_onion_key, data, sizeof(data),
			out, out_len);
}

int
tap_onion_key_crosscert_verify(const uint8_t *sig, size_t sig_len,
		const struct rsa_identity *tap_onion_key,
		const struct rsa_identity *identity,
		const uint8_t master_identity[ED25519_PUBLIC_KEY_LEN])
{
	uint8_t data[TAP_ONION_CROSSCERT_SIGNED_LEN];
	int rc = tap_signed_data(data, identity, master_identity);

	if (rc != 0)
		return rc;
	return rsa_identity_verify_digest(tap_onion_key, data, sizeof(data),
			sig, sig_len);
}
