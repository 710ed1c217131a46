#include "crypto/rsa_identity.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/ct.h"
#include "crypto/tor_keys.h"

/* A PEM RSA-1024 private key is under 900 bytes; leave room for 4096. */
#define PRIVATE_PEM_MAX 8192
/* PKCS#1 v1.5 type-1 padding: 00 01 FF..FF (at least 8) 00. */
#define PKCS1_PADDING_OVERHEAD 11

struct rsa_identity {
	EVP_PKEY *pkey;
};

static int
wrap(EVP_PKEY *pkey, struct rsa_identity **out)
{
	struct rsa_identity *key;

	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		EVP_PKEY_free(pkey);
		return -EINVAL;
	}
	key = malloc(sizeof(*key));
	if (key == NULL) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	key->pkey = pkey;
	*out = key;
	return 0;
}

int
rsa_identity_generate(struct rsa_identity **out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;
	BIGNUM *exponent = BN_new();
	int rc = -EIO;

	if (ctx == NULL || exponent == NULL ||
			!BN_set_word(exponent, RSA_IDENTITY_EXPONENT)) {
		rc = -ENOMEM;
		goto out;
	}
	if (EVP_PKEY_keygen_init(ctx) <= 0 ||
			EVP_PKEY_CTX_set_rsa_keygen_bits(ctx,
				RSA_IDENTITY_BITS) <= 0 ||
			EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, exponent) <= 0 ||
			EVP_PKEY_keygen(ctx, &pkey) <= 0)
		goto out;
	rc = wrap(pkey, out);
out:
	if (rc != 0)
		ERR_clear_error();
	BN_free(exponent);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

void
rsa_identity_free(struct rsa_identity *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

/* Never prompt for a passphrase: tor's key files are not encrypted. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

int
rsa_identity_from_private_pem(const char *pem, size_t pem_len,
		struct rsa_identity **out)
{
	BIO *bio;
	EVP_PKEY *pkey;

	if (pem_len > INT_MAX)
		return -EINVAL;
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (bio == NULL)
		return -ENOMEM;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		ERR_clear_error();
		return -EINVAL;
	}
	if (!rsa_identity_has_private(&(struct rsa_identity){ pkey })) {
		EVP_PKEY_free(pkey);
		return -EINVAL;
	}
	return wrap(pkey, out);
}

ssize_t
rsa_identity_to_private_pem(const struct rsa_identity *key,
		char *out, size_t out_len)
{
	BIO *bio;
	char *data;
	long len;
	ssize_t rc;

	if (!rsa_identity_has_private(key))
		return -EINVAL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return -ENOMEM;
	/* "Traditional" = the PKCS#1 "RSA PRIVATE KEY" form tor reads. */
	if (!PEM_write_bio_PrivateKey_traditional(bio, key->pkey, NULL, NULL,
			0, NULL, NULL)) {
		ERR_clear_error();
		rc = -EIO;
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len < 0) {
		rc = -EIO;
	} else if ((size_t)len > out_len) {
		rc = -EMSGSIZE;
	} else {
		memcpy(out, data, (size_t)len);
		rc = len;
	}
	ct_wipe(data, len > 0 ? (size_t)len : 0);
out:
	BIO_free(bio);
	return rc;
}

int
rsa_identity_load(const char *path, struct rsa_identity **out)
{
	uint8_t buf[PRIVATE_PEM_MAX];
	size_t len = 0;
	int rc = tor_key_file_read(path, buf, sizeof(buf), &len);

	if (rc == -EMSGSIZE)
		rc = -EINVAL;
	if (rc == 0)
		rc = rsa_identity_from_private_pem((const char *)buf, len, out);
	ct_wipe(buf, sizeof(buf));
	return rc;
}

int
rsa_identity_store(const struct rsa_identity *key, const char *path)
{
	char buf[PRIVATE_PEM_MAX];
	ssize_t len = rsa_identity_to_private_pem(key, buf, sizeof(buf) - 1);
	int rc;

	/* tor 0.4.9 writes the PEM with its terminating NUL; do the same so
	 * the file is byte-identical to one tor wrote. */
	if (len < 0) {
		rc = (int)len;
	} else {
		buf[len] = '\0';
		rc = tor_key_file_write(path, (const uint8_t *)buf,
				(size_t)len + 1);
	}

	ct_wipe(buf, sizeof(buf));
	return rc;
}

int
rsa_identity_from_public_der(const uint8_t *der, size_t der_len,
		struct rsa_identity **out)
{
	const unsigned char *cursor = der;
	EVP_PKEY *pkey;

	if (der_len == 0 || der_len > RSA_PUBLIC_DER_MAX)
		return -EINVAL;
	pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &cursor, (long)der_len);
	if (pkey == NULL) {
		ERR_clear_error();
		return -EINVAL;
	}
	if (cursor != der + der_len) {
		EVP_PKEY_free(pkey);
		return -EINVAL;
	}
	return wrap(pkey, out);
}

ssize_t
rsa_identity_public_der(const struct rsa_identity *key,
		uint8_t *out, size_t out_len)
{
	unsigned char *cursor = out;
	int len = i2d_PublicKey(key->pkey, NULL);

	if (len <= 0) {
		ERR_clear_error();
		return -EIO;
	}
	if ((size_t)len > out_len)
		return -EMSGSIZE;
	if (i2d_PublicKey(key->pkey, &cursor) != len) {
		ERR_clear_error();
		return -EIO;
	}
	return len;
}

int
rsa_identity_fingerprint(const struct rsa_identity *key,
		uint8_t out[RSA_IDENTITY_FINGERPRINT_LEN])
{
	uint8_t der[RSA_PUBLIC_DER_MAX];
	ssize_t len = rsa_identity_public_der(key, der, sizeof(der));

	if (len < 0)
		return (int)len;
	if (!EVP_Digest(der, (size_t)len, out, NULL, EVP_sha1(), NULL)) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

void
rsa_fingerprint_to_hex(const uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN],
		char out[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1])
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < RSA_IDENTITY_FINGERPRINT_LEN; i++) {
		out[2 * i] = digits[fingerprint[i] >> 4];
		out[2 * i + 1] = digits[fingerprint[i] & 0xf];
	}
	out[RSA_IDENTITY_FINGERPRINT_HEX_LEN] = '\0';
}

int
rsa_identity_bits(const struct rsa_identity *key)
{
	return EVP_PKEY_get_bits(key->pkey);
}

size_t
rsa_identity_size(const struct rsa_identity *key)
{
	int size = EVP_PKEY_get_size(key->pkey);

	return size > 0 ? (size_t)size : 0;
}

bool
rsa_identity_has_private(const struct rsa_identity *key)
{
	BIGNUM *d = NULL;
	bool has;

	has = EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_D, &d) == 1;
	BN_clear_free(d);
	if (!has)
		ERR_clear_error();
	return has;
}

int
rsa_identity_check_tor_params(const struct rsa_identity *key)
{
	BIGNUM *e = NULL;
	int rc = -EINVAL;

	if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		ERR_clear_error();
		return -EINVAL;
	}
	if (rsa_identity_bits(key) == RSA_IDENTITY_BITS &&
			BN_is_word(e, RSA_IDENTITY_EXPONENT))
		rc = 0;
	BN_free(e);
	return rc;
}

static EVP_PKEY_CTX *
pkcs1_ctx(const struct rsa_identity *key, bool sign)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);

	if (ctx == NULL)
		return NULL;
	/* No signature digest is set, so OpenSSL pads the input as given:
	 * the bare-digest PKCS#1 v1.5 signature tor uses. */
	if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) <= 0 ||
			EVP_PKEY_CTX_set_rsa_padding(ctx,
				RSA_PKCS1_PADDING) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

ssize_t
rsa_identity_sign_digest(const struct rsa_identity *key,
		const uint8_t *digest, size_t digest_len,
		uint8_t *sig, size_t sig_len)
{
	size_t size = rsa_identity_size(key);
	size_t written = sig_len;
	EVP_PKEY_CTX *ctx;
	ssize_t rc;

	if (!rsa_identity_has_private(key) ||
			digest_len + PKCS1_PADDING_OVERHEAD > size)
		return -EINVAL;
	if (sig_len < size)
		return -EMSGSIZE;
	ctx = pkcs1_ctx(key, true);
	if (ctx == NULL)
		return -EIO;
	if (EVP_PKEY_sign(ctx, sig, &written, digest, digest_len) <= 0 ||
			written != size) {
		ERR_clear_error();
		rc = -EIO;
	} else {
		rc = (ssize_t)written;
	}
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int
rsa_identity_verify_digest(const struct rsa_identity *key,
		const uint8_t *digest, size_t digest_len,
		const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx;
	int rc;

	if (sig_len != rsa_identity_size(key))
		return -EBADMSG;
	ctx = pkcs1_ctx(key, false);
	if (ctx == NULL)
		return -EIO;
	rc = EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1 ?
		0 : -EBADMSG;
	if (rc != 0)
		ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static X509 *
parse_x509(const uint8_t *der, size_t der_len)
{
	const unsigned char *cursor = der;
	X509 *cert;

	if (der_len == 0 || der_len > LONG_MAX)
		return NULL;
	cert = d2i_X509(NULL, &cursor, (long)der_len);
	if (cert == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (cursor != der + der_len) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

int
rsa_identity_from_x509(const uint8_t *der, size_t der_len,
		struct rsa_identity **out)
{
	X509 *cert = parse_x509(der, der_len);
	EVP_PKEY *pkey;

	if (cert == NULL)
		return -EINVAL;
	pkey = X509_get_pubkey(cert);
	X509_free(cert);
	if (pkey == NULL) {
		ERR_clear_error();
		return -EINVAL;
	}
	return wrap(pkey, out);
}

int
rsa_identity_x509_check_signature(const uint8_t *der, size_t der_len,
		const struct rsa_identity *signer)
{
	X509 *cert = parse_x509(der, der_len);
	int rc;

	if (cert == NULL)
		return -EINVAL;
	rc = X509_verify(cert, signer->pkey) == 1 ? 0 : -EBADMSG;
	if (rc != 0)
		ERR_clear_error();
	X509_free(cert);
	return rc;
}
