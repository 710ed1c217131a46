#include "crypto/kdf.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/ct.h"

struct kdf_digest {
	enum kdf_hash hash;
	EVP_MD_CTX *ctx;
};

/* Maps our enum to OpenSSL's digest; NULL for values we do not know. The
 * EVP_sha*() getters are not deprecated and fetch from the default provider
 * once, so they are cheap to call per use. */
static const EVP_MD *
hash_md(enum kdf_hash hash)
{
	switch (hash) {
	case KDF_HASH_SHA1:
		return EVP_sha1();
	case KDF_HASH_SHA256:
		return EVP_sha256();
	case KDF_HASH_SHA384:
		return EVP_sha384();
	case KDF_HASH_SHA3_256:
		return EVP_sha3_256();
	case KDF_HASH_SHAKE256:
		return EVP_shake256();
	}
	return NULL;
}

/* OpenSSL's digest name, as the EVP_KDF "digest" parameter wants it. */
static const char *
hash_name(enum kdf_hash hash)
{
	switch (hash) {
	case KDF_HASH_SHA256:
		return "SHA256";
	case KDF_HASH_SHA384:
		return "SHA384";
	default:
		return NULL;
	}
}

/* Leaves OpenSSL's per-thread error queue empty so one failure does not
 * linger into an unrelated later call, and returns the code for it. */
static int
openssl_failure(void)
{
	ERR_clear_error();
	return -EIO;
}

size_t
kdf_hash_len(enum kdf_hash hash)
{
	switch (hash) {
	case KDF_HASH_SHA1:
		return KDF_SHA1_LEN;
	case KDF_HASH_SHA256:
		return KDF_SHA256_LEN;
	case KDF_HASH_SHA384:
		return KDF_SHA384_LEN;
	case KDF_HASH_SHA3_256:
		return KDF_SHA3_256_LEN;
	case KDF_HASH_SHAKE256:
		return 0;
	}
	return 0;
}

static int
digest_oneshot(enum kdf_hash hash, const void *data, size_t len, uint8_t *out)
{
	unsigned int out_len = 0;

	if (data == NULL && len != 0)
		return -EINVAL;
	if (!EVP_Digest(data, len, out, &out_len, hash_md(hash), NULL))
		return openssl_failure();
	return 0;
}

int
kdf_sha1(const void *data, size_t len, uint8_t out[KDF_SHA1_LEN])
{
	return digest_oneshot(KDF_HASH_SHA1, data, len, out);
}

int
kdf_sha256(const void *data, size_t len, uint8_t out[KDF_SHA256_LEN])
{
	return digest_oneshot(KDF_HASH_SHA256, data, len, out);
}

int
kdf_sha3_256(const void *data, size_t len, uint8_t out[KDF_SHA3_256_LEN])
{
	return digest_oneshot(KDF_HASH_SHA3_256, data, len, out);
}

int
kdf_shake256(const void *data, size_t len, uint8_t *out, size_t out_len)
{
	struct kdf_digest *xof;
	ssize_t written;
	int rc;

	if (out == NULL && out_len != 0)
		return -EINVAL;
	xof = kdf_digest_new(KDF_HASH_SHAKE256);
	if (xof == NULL)
		return -ENOMEM;
	rc = kdf_digest_update(xof, data, len);
	if (rc == 0) {
		written = kdf_digest_peek(xof, out, out_len);
		if (written < 0)
			rc = (int)written;
	}
	kdf_digest_free(xof);
	return rc;
}

struct kdf_digest *
kdf_digest_new(enum kdf_hash hash)
{
	const EVP_MD *md = hash_md(hash);
	struct kdf_digest *digest;

	if (md == NULL)
		return NULL;
	digest = calloc(1, sizeof(*digest));
	if (digest == NULL)
		return NULL;
	digest->hash = hash;
	digest->ctx = EVP_MD_CTX_new();
	if (digest->ctx == NULL || !EVP_DigestInit_ex(digest->ctx, md, NULL)) {
		ERR_clear_error();
		kdf_digest_free(digest);
		return NULL;
	}
	return digest;
}

struct kdf_digest *
kdf_digest_dup(const struct kdf_digest *digest)
{
	struct kdf_digest *copy;

	copy = calloc(1, sizeof(*copy));
	if (copy == NULL)
		return NULL;
	copy->hash = digest->hash;
	copy->ctx = EVP_MD_CTX_new();
	if (copy->ctx == NULL || !EVP_MD_CTX_copy_ex(copy->ctx, digest->ctx)) {
		ERR_clear_error();
		kdf_digest_free(copy);
		return NULL;
	}
	return copy;
}

int
kdf_digest_update(struct kdf_digest *digest, const void *data, size_t len)
{
	if (data == NULL && len != 0)
		return -EINVAL;
	if (!EVP_DigestUpdate(digest->ctx, data, len))
		return openssl_failure();
	return 0;
}

ssize_t
kdf_digest_peek(const struct kdf_digest *digest, uint8_t *out, size_t out_len)
{
	size_t digest_len = kdf_hash_len(digest->hash);
	unsigned int written = 0;
	EVP_MD_CTX *tmp;
	int ok;

	if (digest->hash != KDF_HASH_SHAKE256 && out_len < digest_len)
		return -EMSGSIZE;
	if (out_len > SSIZE_MAX)
		return -EMSGSIZE;
	/* Finalising consumes an EVP context, so finalise a copy and keep the
	 * running state for later updates. */
	tmp = EVP_MD_CTX_new();
	if (tmp == NULL)
		return -ENOMEM;
	if (!EVP_MD_CTX_copy_ex(tmp, digest->ctx)) {
		EVP_MD_CTX_free(tmp);
		return openssl_failure();
	}
	if (digest->hash == KDF_HASH_SHAKE256) {
		ok = EVP_DigestFinalXOF(tmp, out, out_len);
		digest_len = out_len;
	} else {
		ok = EVP_DigestFinal_ex(tmp, out, &written);
		ok = ok && written == digest_len;
	}
	EVP_MD_CTX_free(tmp);
	if (!ok)
		return openssl_failure();
	return (ssize_t)digest_len;
}

void
kdf_digest_free(struct kdf_digest *digest)
{
	if (digest == NULL)
		return;
	/* EVP_MD_CTX_free has the provider clear its hash state. */
	EVP_MD_CTX_free(digest->ctx);
	free(digest);
}

int
kdf_hmac_sha256(const void *key, size_t key_len, const void *msg,
		size_t msg_len, uint8_t out[KDF_SHA256_LEN])
{
	static const uint8_t zero_key[1];
	size_t out_len = 0;

	if ((key == NULL && key_len != 0) || (msg == NULL && msg_len != 0))
		return -EINVAL;
	/* RFC 2104 pads the key with zeros to the block size, so the empty key
	 * and the one-byte zero key are the same HMAC key; OpenSSL refuses a
	 * zero-length key, so hand it the latter. */
	if (key_len == 0) {
		key = zero_key;
		key_len = sizeof(zero_key);
	}
	if (msg == NULL)
		msg = zero_key;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, msg,
		      msg_len, out, KDF_SHA256_LEN, &out_len) == NULL ||
	    out_len != KDF_SHA256_LEN)
		return openssl_failure();
	return 0;
}

/* Runs the named EVP_KDF with params, writing out_len bytes. */
static int
kdf_derive(const char *name, const OSSL_PARAM *params, uint8_t *out,
	   size_t out_len)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	int ok;

	kdf = EVP_KDF_fetch(NULL, name, NULL);
	if (kdf == NULL)
		return openssl_failure();
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (ctx == NULL)
		return openssl_failure();
	ok = EVP_KDF_derive(ctx, out, out_len, params) > 0;
	/* EVP_KDF_CTX_free clears the key material it copied. */
	EVP_KDF_CTX_free(ctx);
	if (!ok)
		return openssl_failure();
	return 0;
}

/* HKDF-Expand (RFC 5869 2.3) with OpenSSL's "HKDF" in expand-only mode. */
static int
hkdf_expand(enum kdf_hash hash, const void *prk, size_t prk_len,
	    const void *info, size_t info_len, uint8_t *out, size_t out_len)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5];
	size_t n = 0;

	if (prk == NULL || prk_len < kdf_hash_len(hash) ||
	    (info == NULL && info_len != 0) || out == NULL || out_len == 0)
		return -EINVAL;
	if (out_len > 255 * kdf_hash_len(hash))
		return -EMSGSIZE;
	params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
			(char *)hash_name(hash), 0);
	params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
			(void *)prk, prk_len);
	if (info_len != 0)
		params[n++] = OSSL_PARAM_construct_octet_string(
				OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	params[n] = OSSL_PARAM_construct_end();
	return kdf_derive("HKDF", params, out, out_len);
}

int
kdf_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
		size_t ikm_len, const void *info, size_t info_len,
		uint8_t *out, size_t out_len)
{
	uint8_t prk[KDF_SHA256_LEN];
	int rc;

	/* RFC 5869 2.2: PRK = HMAC-Hash(salt, IKM), an absent salt being
	 * HashLen zeros, which HMAC's zero padding makes the same key as the
	 * empty one. Doing Extract as an HMAC also admits an empty IKM, which
	 * OpenSSL's HKDF refuses. */
	rc = kdf_hmac_sha256(salt, salt_len, ikm, ikm_len, prk);
	if (rc == 0)
		rc = kdf_hkdf_sha256_expand(prk, sizeof(prk), info, info_len,
					    out, out_len);
	ct_wipe(prk, sizeof(prk));
	return rc;
}

int
kdf_hkdf_sha256_expand(const uint8_t *prk, size_t prk_len, const void *info,
		       size_t info_len, uint8_t *out, size_t out_len)
{
	/* RFC 5869 2.3: PRK is at least HashLen octets. */
	return hkdf_expand(KDF_HASH_SHA256, prk, prk_len, info, info_len, out,
			   out_len);
}

int
kdf_tor(const void *k0, size_t k0_len, uint8_t *out, size_t out_len)
{
	uint8_t block[KDF_SHA1_LEN];
	EVP_MD_CTX *ctx;
	size_t done = 0;
	unsigned int counter;
	int rc = 0;

	if ((k0 == NULL && k0_len != 0) || (out == NULL && out_len != 0))
		return -EINVAL;
	if (out_len > KDF_TOR_MAX_LEN)
		return -EMSGSIZE;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	/* tor-spec 5.2.1: K = H(K0 | [00]) | H(K0 | [01]) | ... */
	for (counter = 0; done < out_len; counter++) {
		uint8_t counter_byte = (uint8_t)counter;
		unsigned int block_len = 0;
		size_t take;

		if (!EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
		    !EVP_DigestUpdate(ctx, k0, k0_len) ||
		    !EVP_DigestUpdate(ctx, &counter_byte, 1) ||
		    !EVP_DigestFinal_ex(ctx, block, &block_len)) {
			rc = openssl_failure();
			break;
		}
		take = out_len - done < KDF_SHA1_LEN ? out_len - done
						     : KDF_SHA1_LEN;
		memcpy(out + done, block, take);
		done += take;
	}
	EVP_MD_CTX_free(ctx);
	ct_wipe(block, sizeof(block));
	if (rc != 0)
		ct_wipe(out, out_len);
	return rc;
}

/* Longest HkdfLabel: 2-byte length, label<7..255>, context<0..255>. */
#define HKDF_LABEL_MAX (2 + 1 + 255 + 1 + 255)
#define TLS13_LABEL_PREFIX "tls13 "

int
kdf_tls13_expand_label(enum kdf_hash hash, const uint8_t *secret,
		       size_t secret_len, const char *label,
		       const uint8_t *context, size_t context_len,
		       uint8_t *out, size_t out_len)
{
	const size_t prefix_len = sizeof(TLS13_LABEL_PREFIX) - 1;
	uint8_t hkdf_label[HKDF_LABEL_MAX];
	size_t label_len, n = 0;
	int rc;

	if (hash_name(hash) == NULL || secret == NULL || label == NULL ||
	    (context == NULL && context_len != 0))
		return -EINVAL;
	/* RFC 8446 7.1: Secret is a PRK of the hash's length. */
	if (secret_len < kdf_hash_len(hash))
		return -EINVAL;
	label_len = strlen(label);
	if (prefix_len + label_len > 255 || context_len > 255)
		return -EINVAL;
	if (out_len > UINT16_MAX)
		return -EMSGSIZE;

	/* struct HkdfLabel { uint16 length; opaque label<7..255>;
	 * opaque context<0..255>; } with label = "tls13 " + Label. */
	hkdf_label[n++] = (uint8_t)(out_len >> 8);
	hkdf_label[n++] = (uint8_t)out_len;
	hkdf_label[n++] = (uint8_t)(prefix_len + label_len);
	memcpy(hkdf_label + n, TLS13_LABEL_PREFIX, prefix_len);
	n += prefix_len;
	memcpy(hkdf_label + n, label, label_len);
	n += label_len;
	hkdf_label[n++] = (uint8_t)context_len;
	if (context_len != 0)
		memcpy(hkdf_label + n, context, context_len);
	n += context_len;

	rc = hkdf_expand(hash, secret, secret_len, hkdf_label, n, out,
			 out_len);
	ct_wipe(hkdf_label, n);
	return rc;
}

int
kdf_tls12_prf(enum kdf_hash hash, const uint8_t *secret, size_t secret_len,
	      const char *label, const uint8_t *seed, size_t seed_len,
	      uint8_t *out, size_t out_len)
{
	OSSL_PARAM params[5];
	size_t n = 0;

	if (hash_name(hash) == NULL || secret == NULL || secret_len == 0 ||
	    label == NULL || (seed == NULL && seed_len != 0) || out == NULL ||
	    out_len == 0)
		return -EINVAL;
	params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
			(char *)hash_name(hash), 0);
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
			(void *)secret, secret_len);
	/* RFC 5246 5: the PRF seed is label | seed; OpenSSL concatenates
	 * repeated seed parameters in order. */
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
			(void *)label, strlen(label));
	if (seed_len != 0)
		params[n++] = OSSL_PARAM_construct_octet_string(
				OSSL_KDF_PARAM_SEED, (void *)seed, seed_len);
	params[n] = OSSL_PARAM_construct_end();
	return kdf_derive("TLS1-PRF", params, out, out_len);
}
