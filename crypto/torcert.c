#include "crypto/torcert.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "crypto/ct.h"
#include "crypto/rsa_identity.h"

static uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
torcert_parse(const uint8_t **p, const uint8_t *end, struct torcert *out)
{
	const uint8_t *start = *p, *cursor;
	struct torcert cert;
	unsigned i;

	if (end < start || (size_t)(end - start) < TORCERT_MIN_LEN)
		return -EMSGSIZE;
	if (start[0] != TORCERT_VERSION)
		return -EINVAL;
	memset(&cert, 0, sizeof(cert));
	cert.cert_type = start[1];
	cert.expiration_hours = load_be32(start + 2);
	cert.key_type = start[6];
	memcpy(cert.certified_key, start + 7, sizeof(cert.certified_key));
	cert.n_extensions = start[39];

	/* cert-spec 2.1: a truncated extension makes the certificate invalid;
	 * every length is checked against what is left before the signature
	 * could start. */
	cursor = start + TORCERT_HEADER_LEN;
	cert.extensions = cursor;
	for (i = 0; i < cert.n_extensions; i++) {
		size_t ext_len;
		uint8_t ext_type, ext_flags;

		if ((size_t)(end - cursor) < 4)
			return -EMSGSIZE;
		ext_len = (size_t)cursor[0] << 8 | cursor[1];
		ext_type = cursor[2];
		ext_flags = cursor[3];
		cursor += 4;
		if ((size_t)(end - cursor) < ext_len)
			return -EMSGSIZE;
		if (ext_type == TORCERT_EXT_SIGNED_WITH_ED25519_KEY) {
			/* cert-spec 2.2.1: ExtLength = 32. */
			if (ext_len != ED25519_PUBLIC_KEY_LEN ||
					cert.has_signing_key)
				return -EINVAL;
			cert.has_signing_key = true;
			memcpy(cert.signing_key, cursor, ext_len);
		} else if (ext_flags & TORCERT_EXT_FLAG_AFFECTS_VALIDATION) {
			cert.has_unknown_critical_extension = true;
		}
		cursor += ext_len;
	}
	cert.extensions_len = (size_t)(cursor - cert.extensions);
	if ((size_t)(end - cursor) < TORCERT_SIGNATURE_LEN)
		return -EMSGSIZE;
	memcpy(cert.signature, cursor, TORCERT_SIGNATURE_LEN);
	cursor += TORCERT_SIGNATURE_LEN;
	cert.encoded = start;
	cert.encoded_len = (size_t)(cursor - start);

	*out = cert;
	*p = cursor;
	return 0;
}

/* Writes everything up to the signature; returns its length. */
static size_t
write_signed_part(uint8_t *out, uint8_t cert_type, uint32_t expiration_hours,
		uint8_t key_type, const uint8_t certified_key[32],
		uint8_t n_extensions, const uint8_t *extensions,
		size_t extensions_len)
{
	out[0] = TORCERT_VERSION;
	out[1] = cert_type;
	store_be32(out + 2, expiration_hours);
	out[6] = key_type;
	memcpy(out + 7, certified_key, 32);
	out[39] = n_extensions;
	if (extensions_len > 0)
		memmove(out + TORCERT_HEADER_LEN, extensions, extensions_len);
	return TORCERT_HEADER_LEN + extensions_len;
}

ssize_t
torcert_encode(const struct torcert *in, uint8_t *out, size_t out_len)
{
	size_t len;

	if (in->extensions_len > SIZE_MAX / 2 ||
			out_len < TORCERT_MIN_LEN + in->extensions_len)
		return -EMSGSIZE;
	len = write_signed_part(out, in->cert_type, in->expiration_hours,
			in->key_type, in->certified_key, in->n_extensions,
			in->extensions, in->extensions_len);
	memcpy(out + len, in->signature, TORCERT_SIGNATURE_LEN);
	return (ssize_t)(len + TORCERT_SIGNATURE_LEN);
}

int
torcert_verify(const struct torcert *cert,
		const uint8_t signing_key[ED25519_PUBLIC_KEY_LEN], time_t now)
{
	const uint8_t *key = signing_key;

	if (cert->has_unknown_critical_extension)
		return -ENOTSUP;
	if (key == NULL) {
		if (!cert->has_signing_key)
			return -EINVAL;
		key = cert->signing_key;
	} else if (cert->has_signing_key &&
			!ct_equal(cert->signing_key, key,
				ED25519_PUBLIC_KEY_LEN)) {
		/* cert-spec 2.2.1: it MUST match the key used to sign. */
		return -EBADMSG;
	}
	if (now < 0 || (uint64_t)now > (uint64_t)cert->expiration_hours * 3600)
		return -EKEYEXPIRED;
	return ed25519_verify(cert->signature, cert->encoded,
			cert->encoded_len - TORCERT_SIGNATURE_LEN, key);
}

ssize_t
torcert_create(uint8_t cert_type, uint8_t key_type,
		const uint8_t certified_key[32], uint32_t expiration_hours,
		const struct ed25519_keypair *signer, bool include_signing_key,
		uint8_t *out, size_t out_len)
{
	uint8_t extension[4 + ED25519_PUBLIC_KEY_LEN];
	size_t extensions_len = include_signing_key ? sizeof(extension) : 0;
	size_t len;
	int rc;

	if (out_len < TORCERT_MIN_LEN + extensions_len)
		return -EMSGSIZE;
	extension[0] = 0;
	extension[1] = ED25519_PUBLIC_KEY_LEN;
	extension[2] = TORCERT_EXT_SIGNED_WITH_ED25519_KEY;
	extension[3] = 0;
	memcpy(extension + 4, signer->public_key, ED25519_PUBLIC_KEY_LEN);
	len = write_signed_part(out, cert_type, expiration_hours, key_type,
			certified_key, include_signing_key ? 1 : 0, extension,
			extensions_len);
	rc = ed25519_sign(out + len, out, len, signer);
	if (rc != 0)
		return rc;
	return (ssize_t)(len + TORCERT_SIGNATURE_LEN);
}

uint32_t
torcert_hours_from_time(time_t t)
{
	uint64_t seconds = t < 0 ? 0 : (uint64_t)t;
	uint64_t hours = (seconds + 3599) / 3600;

	return hours > UINT32_MAX ? UINT32_MAX : (uint32_t)hours;
}

/* RSA->Ed25519 cross-certificate (cert-spec 2.3). */

int
rsa_ed25519_crosscert_parse(const uint8_t **p, const uint8_t *end,
		struct rsa_ed25519_crosscert *out)
{
	const uint8_t *in = *p;
	size_t avail;
	uint8_t signature_len;

	if (end < in)
		return -EMSGSIZE;
	avail = (size_t)(end - in);
	if (avail < RSA_CROSSCERT_SIGNED_LEN + 1)
		return -EMSGSIZE;
	signature_len = in[RSA_CROSSCERT_SIGNED_LEN];
	if (avail - RSA_CROSSCERT_SIGNED_LEN - 1 < signature_len)
		return -EMSGSIZE;
	memcpy(out->ed25519_key, in, ED25519_PUBLIC_KEY_LEN);
	out->expiration_hours = load_be32(in + ED25519_PUBLIC_KEY_LEN);
	out->signature_len = signature_len;
	memcpy(out->signature, in + RSA_CROSSCERT_SIGNED_LEN + 1,
			signature_len);
	*p = in + RSA_CROSSCERT_SIGNED_LEN + 1 + signature_len;
	return 0;
}

ssize_t
rsa_ed25519_crosscert_encode(const struct rsa_ed25519_crosscert *in,
		uint8_t *out, size_t out_len)
{
	size_t len = RSA_CROSSCERT_SIGNED_LEN + 1 + in->signature_len;

	if (out_len < len)
		return -EMSGSIZE;
	memcpy(out, in->ed25519_key, ED25519_PUBLIC_KEY_LEN);
	store_be32(out + ED25519_PUBLIC_KEY_LEN, in->expiration_hours);
	out[RSA_CROSSCERT_SIGNED_LEN] = in->signature_len;
	memcpy(out + RSA_CROSSCERT_SIGNED_LEN + 1, in->signature,
			in->signature_len);
	return (ssize_t)len;
}

/* SHA-256(prefix || ED25519_KEY || EXPIRATION_DATE). */
static void
crosscert_digest(uint8_t digest[crypto_hash_sha256_BYTES],
		const uint8_t signed_part[RSA_CROSSCERT_SIGNED_LEN])
{
	crypto_hash_sha256_state hash;

	crypto_hash_sha256_init(&hash);
	crypto_hash_sha256_update(&hash, (const uint8_t *)RSA_CROSSCERT_PREFIX,
			sizeof(RSA_CROSSCERT_PREFIX) - 1);
	crypto_hash_sha256_update(&hash, signed_part, RSA_CROSSCERT_SIGNED_LEN);
	crypto_hash_sha256_final(&hash, digest);
}

ssize_t
rsa_ed25519_crosscert_create(
		const uint8_t ed25519_key[ED25519_PUBLIC_KEY_LEN],
		uint32_t expiration_hours, const struct rsa_identity *identity,
		uint8_t *out, size_t out_len)
{
	uint8_t digest[crypto_hash_sha256_BYTES];
	size_t sig_len = rsa_identity_size(identity);
	ssize_t n;

	if (sig_len == 0 || sig_len > RSA_CROSSCERT_SIGNATURE_MAX)
		return -EINVAL;
	if (out_len < RSA_CROSSCERT_SIGNED_LEN + 1 + sig_len)
		return -EMSGSIZE;
	memcpy(out, ed25519_key, ED25519_PUBLIC_KEY_LEN);
	store_be32(out + ED25519_PUBLIC_KEY_LEN, expiration_hours);
	out[RSA_CROSSCERT_SIGNED_LEN] = (uint8_t)sig_len;
	crosscert_digest(digest, out);
	n = rsa_identity_sign_digest(identity, digest, sizeof(digest),
			out + RSA_CROSSCERT_SIGNED_LEN + 1, sig_len);
	if (n < 0)
		return n;
	return (ssize_t)(RSA_CROSSCERT_SIGNED_LEN + 1 + sig_len);
}

int
rsa_ed25519_crosscert_verify(const struct rsa_ed25519_crosscert *cert,
		const struct rsa_identity *identity, time_t now)
{
	uint8_t signed_part[RSA_CROSSCERT_SIGNED_LEN];
	uint8_t digest[crypto_hash_sha256_BYTES];

	memcpy(signed_part, cert->ed25519_key, ED25519_PUBLIC_KEY_LEN);
	store_be32(signed_part + ED25519_PUBLIC_KEY_LEN, cert->expiration_hours);
	crosscert_digest(digest, signed_part);
	if (rsa_identity_verify_digest(identity, digest, sizeof(digest),
			cert->signature, cert->signature_len) != 0)
		return -EBADMSG;
	if (now < 0 || (uint64_t)now > (uint64_t)cert->expiration_hours * 3600)
		return -EKEYEXPIRED;
	return 0;
}
