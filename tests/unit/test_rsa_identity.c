/* RSA identity keys: tor's secret_id_key and its fingerprint, PEM and DER
 * round trips, the bare-digest PKCS#1 v1.5 signature (checked by raw RSA
 * with OpenSSL's BIGNUMs, independently of the module), X.509 checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/rsa_identity.h"
#include "crypto/tor_keys.h"

static const char *vector_dir;

static struct rsa_identity *
load_vector_key(const char *name)
{
	char path[1024];
	struct rsa_identity *key = NULL;

	snprintf(path, sizeof(path), "%s/%s", vector_dir, name);
	assert_int_equal(rsa_identity_load(path, &key), 0);
	return key;
}

/* The same key file through OpenSSL directly, for building X.509 certs and
 * for the raw-RSA cross-check. */
static EVP_PKEY *
load_vector_pkey(const char *name)
{
	char path[1024];
	EVP_PKEY *pkey;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", vector_dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pkey);
	return pkey;
}

/* tor's fingerprint file is "nickname HEX\n". */
static void
test_tor_fingerprint(void **state)
{
	struct rsa_identity *key = load_vector_key("secret_id_key");
	uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN];
	char hex[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1], path[1024];
	char line[128], expected[128];
	FILE *f;

	(void)state;
	assert_int_equal(rsa_identity_check_tor_params(key), 0);
	assert_int_equal(rsa_identity_bits(key), 1024);
	assert_int_equal(rsa_identity_size(key), 128);
	assert_true(rsa_identity_has_private(key));
	assert_int_equal(rsa_identity_fingerprint(key, fingerprint), 0);
	rsa_fingerprint_to_hex(fingerprint, hex);
	assert_string_equal(hex, "C0935D555E1366D3B39C982EFE47624DB9A44859");

	snprintf(path, sizeof(path), "%s/fingerprint", vector_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	snprintf(expected, sizeof(expected), "hsrelaytest %s\n", hex);
	assert_string_equal(line, expected);
	rsa_identity_free(key);

	key = load_vector_key("secret_onion_key");
	assert_int_equal(rsa_identity_check_tor_params(key), 0);
	rsa_identity_free(key);
}

/* Our PEM of tor's key is tor's file byte for byte; DER round trips. */
static void
test_pem_and_der_round_trip(void **state)
{
	struct rsa_identity *key = load_vector_key("secret_id_key");
	struct rsa_identity *public_key = NULL;
	uint8_t file[2048], der[RSA_PUBLIC_DER_MAX], der2[RSA_PUBLIC_DER_MAX];
	uint8_t fp1[20], fp2[20];
	char pem[2048], path[1024];
	size_t file_len = 0, cut;
	ssize_t pem_len, der_len;

	(void)state;
	snprintf(path, sizeof(path), "%s/secret_id_key", vector_dir);
	assert_int_equal(tor_key_file_read(path, file, sizeof(file),
			&file_len), 0);
	/* tor's file is the PEM text plus a NUL. */
	pem_len = rsa_identity_to_private_pem(key, pem, sizeof(pem));
	assert_int_equal(pem_len, (ssize_t)file_len - 1);
	assert_memory_equal(pem, file, file_len - 1);
	assert_int_equal(file[file_len - 1], 0);
	assert_int_equal(rsa_identity_to_private_pem(key, pem, file_len - 2),
			-EMSGSIZE);

	der_len = rsa_identity_public_der(key, der, sizeof(der));
	/* SEQUENCE { INTEGER n (129 bytes), INTEGER 65537 } = 140 bytes. */
	assert_int_equal(der_len, 140);
	assert_int_equal(der[0], 0x30);
	assert_int_equal(rsa_identity_public_der(key, der2, 139), -EMSGSIZE);
	assert_int_equal(rsa_identity_from_public_der(der, (size_t)der_len,
			&public_key), 0);
	assert_false(rsa_identity_has_private(public_key));
	assert_int_equal(rsa_identity_public_der(public_key, der2,
			sizeof(der2)), der_len);
	assert_memory_equal(der, der2, (size_t)der_len);
	assert_int_equal(rsa_identity_fingerprint(key, fp1), 0);
	assert_int_equal(rsa_identity_fingerprint(public_key, fp2), 0);
	assert_memory_equal(fp1, fp2, 20);
	assert_int_equal(rsa_identity_to_private_pem(public_key, pem,
			sizeof(pem)), -EINVAL);
	rsa_identity_free(public_key);

	/* Truncated DER at every length and trailing bytes are rejected. */
	for (cut = 0; cut < (size_t)der_len; cut++) {
		public_key = NULL;
		assert_int_equal(rsa_identity_from_public_der(der, cut,
				&public_key), -EINVAL);
		assert_null(public_key);
	}
	der[der_len] = 0;
	assert_int_equal(rsa_identity_from_public_der(der,
			(size_t)der_len + 1, &public_key), -EINVAL);

	/* Garbage PEM. */
	assert_int_equal(rsa_identity_from_private_pem("-----BEGIN RSA", 14,
			&public_key), -EINVAL);
	assert_int_equal(rsa_identity_from_private_pem((const char *)file,
			file_len / 2, &public_key), -EINVAL);
	rsa_identity_free(key);
}

/* s^e mod n must be 00 01 FF.. 00 || digest: no DigestInfo. */
static void
check_raw_padding(EVP_PKEY *pkey, const uint8_t *sig, size_t sig_len,
		const uint8_t *digest, size_t digest_len)
{
	BIGNUM *n = NULL, *e = NULL, *s, *m;
	BN_CTX *ctx = BN_CTX_new();
	uint8_t block[512];
	size_t i, pad_end;

	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N,
			&n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E,
			&e), 1);
	s = BN_bin2bn(sig, (int)sig_len, NULL);
	m = BN_new();
	assert_int_equal(BN_mod_exp(m, s, e, n, ctx), 1);
	assert_int_equal(BN_bn2binpad(m, block, (int)sig_len), (int)sig_len);
	assert_int_equal(block[0], 0x00);
	assert_int_equal(block[1], 0x01);
	pad_end = sig_len - digest_len - 1;
	for (i = 2; i < pad_end; i++)
		assert_int_equal(block[i], 0xff);
	assert_int_equal(block[pad_end], 0x00);
	assert_memory_equal(block + pad_end + 1, digest, digest_len);
	BN_free(n);
	BN_free(e);
	BN_free(s);
	BN_free(m);
	BN_CTX_free(ctx);
}

static void
test_sign_digest(void **state)
{
	struct rsa_identity *key = load_vector_key("secret_id_key");
	struct rsa_identity *other = NULL, *public_key = NULL;
	EVP_PKEY *pkey = load_vector_pkey("secret_id_key");
	/* SHA-1 (router descriptors) and SHA-256 (cross-certificates). */
	static const size_t digest_lens[] = { 20, 32 };
	uint8_t digest[32], sig[128], sig2[128], der[RSA_PUBLIC_DER_MAX];
	uint8_t big[118];
	ssize_t der_len;

	(void)state;
	der_len = rsa_identity_public_der(key, der, sizeof(der));
	assert_true(der_len > 0);
	assert_int_equal(rsa_identity_from_public_der(der, (size_t)der_len,
			&public_key), 0);
	assert_int_equal(rsa_identity_generate(&other), 0);
	assert_int_equal(rsa_identity_check_tor_params(other), 0);

	for (size_t round = 0; round < 2; round++) {
		size_t digest_len = digest_lens[round];

		for (size_t i = 0; i < sizeof(digest); i++)
			digest[i] = (uint8_t)(i * 37 + digest_len);
		assert_int_equal(rsa_identity_sign_digest(key, digest,
				digest_len, sig, sizeof(sig)), 128);
		check_raw_padding(pkey, sig, sizeof(sig), digest, digest_len);
		/* PKCS#1 v1.5 is deterministic. */
		assert_int_equal(rsa_identity_sign_digest(key, digest,
				digest_len, sig2, sizeof(sig2)), 128);
		assert_memory_equal(sig, sig2, sizeof(sig));

		assert_int_equal(rsa_identity_verify_digest(public_key, digest,
				digest_len, sig, sizeof(sig)), 0);
		assert_int_equal(rsa_identity_verify_digest(other, digest,
				digest_len, sig, sizeof(sig)), -EBADMSG);
		assert_int_equal(rsa_identity_verify_digest(public_key, digest,
				digest_len - 1, sig, sizeof(sig)), -EBADMSG);
		assert_int_equal(rsa_identity_verify_digest(public_key, digest,
				digest_len, sig, sizeof(sig) - 1), -EBADMSG);
		digest[3] ^= 1;
		assert_int_equal(rsa_identity_verify_digest(public_key, digest,
				digest_len, sig, sizeof(sig)), -EBADMSG);
		digest[3] ^= 1;
		sig[100] ^= 0x40;
		assert_int_equal(rsa_identity_verify_digest(public_key, digest,
				digest_len, sig, sizeof(sig)), -EBADMSG);
	}

	assert_int_equal(rsa_identity_sign_digest(key, digest, 20, sig, 127),
			-EMSGSIZE);
	assert_int_equal(rsa_identity_sign_digest(public_key, digest, 20, sig,
			sizeof(sig)), -EINVAL);
	memset(big, 0x5a, sizeof(big));
	assert_int_equal(rsa_identity_sign_digest(key, big, 118, sig,
			sizeof(sig)), -EINVAL);
	assert_int_equal(rsa_identity_sign_digest(key, big, 117, sig,
			sizeof(sig)), 128);
	check_raw_padding(pkey, sig, sizeof(sig), big, 117);

	EVP_PKEY_free(pkey);
	rsa_identity_free(key);
	rsa_identity_free(other);
	rsa_identity_free(public_key);
}

/* A DER X.509 certificate for subject_key, signed by issuer_key. */
static size_t
make_x509(EVP_PKEY *subject_key, EVP_PKEY *issuer_key, uint8_t *out,
		size_t out_len)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *cursor = out;
	int len;

	assert_non_null(cert);
	assert_int_equal(X509_set_version(cert, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 7), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
			(const unsigned char *)"www.example.net", -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(cert, name), 1);
	assert_int_equal(X509_set_issuer_name(cert, name), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), 86400));
	assert_int_equal(X509_set_pubkey(cert, subject_key), 1);
	assert_true(X509_sign(cert, issuer_key, EVP_sha256()) > 0);
	len = i2d_X509(cert, NULL);
	assert_true(len > 0 && (size_t)len <= out_len);
	assert_int_equal(i2d_X509(cert, &cursor), len);
	X509_NAME_free(name);
	X509_free(cert);
	return (size_t)len;
}

static void
test_x509(void **state)
{
	struct rsa_identity *identity = load_vector_key("secret_id_key");
	struct rsa_identity *onion = load_vector_key("secret_onion_key");
	struct rsa_identity *extracted = NULL;
	EVP_PKEY *identity_pkey = load_vector_pkey("secret_id_key");
	EVP_PKEY *link_pkey = load_vector_pkey("secret_onion_key");
	uint8_t self_signed[2048], link[2048], fp1[20], fp2[20];
	size_t self_len, link_len, cut;

	(void)state;
	/* CERTS type 2: self-signed identity certificate. */
	self_len = make_x509(identity_pkey, identity_pkey, self_signed,
			sizeof(self_signed));
	assert_int_equal(rsa_identity_from_x509(self_signed, self_len,
			&extracted), 0);
	assert_int_equal(rsa_identity_fingerprint(extracted, fp1), 0);
	assert_int_equal(rsa_identity_fingerprint(identity, fp2), 0);
	assert_memory_equal(fp1, fp2, 20);
	assert_int_equal(rsa_identity_x509_check_signature(self_signed,
			self_len, extracted), 0);
	assert_int_equal(rsa_identity_x509_check_signature(self_signed,
			self_len, onion), -EBADMSG);

	/* CERTS type 1: a link key certified by the identity. */
	link_len = make_x509(link_pkey, identity_pkey, link, sizeof(link));
	assert_int_equal(rsa_identity_x509_check_signature(link, link_len,
			identity), 0);
	assert_int_equal(rsa_identity_x509_check_signature(link, link_len,
			onion), -EBADMSG);
	/* A corrupted signature (last byte of the DER). */
	link[link_len - 1] ^= 1;
	assert_int_equal(rsa_identity_x509_check_signature(link, link_len,
			identity), -EBADMSG);

	/* Truncation at every length and trailing garbage. */
	for (cut = 0; cut < self_len; cut++) {
		struct rsa_identity *none = NULL;

		assert_int_equal(rsa_identity_from_x509(self_signed, cut,
				&none), -EINVAL);
		assert_null(none);
		assert_int_equal(rsa_identity_x509_check_signature(self_signed,
				cut, identity), -EINVAL);
	}
	self_signed[self_len] = 0;
	assert_int_equal(rsa_identity_x509_check_signature(self_signed,
			self_len + 1, identity), -EINVAL);

	rsa_identity_free(extracted);
	rsa_identity_free(identity);
	rsa_identity_free(onion);
	EVP_PKEY_free(identity_pkey);
	EVP_PKEY_free(link_pkey);
}

static void
test_generate_store_load(void **state)
{
	char dir[] = "/tmp/hsrelay-rsa-XXXXXX";
	char path[256], tor_path[1024];
	uint8_t tor_file[2048], ours[2048];
	size_t tor_len = 0, ours_len = 0;
	struct rsa_identity *key = NULL, *loaded = NULL;
	uint8_t fp1[20], fp2[20];
	struct stat st;
	mode_t old_umask;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(rsa_identity_generate(&key), 0);
	assert_int_equal(rsa_identity_check_tor_params(key), 0);
	snprintf(path, sizeof(path), "%s/secret_id_key", dir);
	old_umask = umask(0);
	assert_int_equal(rsa_identity_store(key, path), 0);
	umask(old_umask);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	rsa_identity_free(key);

	/* Storing tor's key reproduces tor's file byte for byte. */
	key = load_vector_key("secret_id_key");
	snprintf(tor_path, sizeof(tor_path), "%s/secret_id_key", vector_dir);
	assert_int_equal(tor_key_file_read(tor_path, tor_file,
			sizeof(tor_file), &tor_len), 0);
	assert_int_equal(rsa_identity_store(key, path), 0);
	assert_int_equal(tor_key_file_read(path, ours, sizeof(ours),
			&ours_len), 0);
	assert_int_equal(ours_len, tor_len);
	assert_memory_equal(ours, tor_file, tor_len);
	assert_int_equal(rsa_identity_load(path, &loaded), 0);
	assert_true(rsa_identity_has_private(loaded));
	assert_int_equal(rsa_identity_fingerprint(key, fp1), 0);
	assert_int_equal(rsa_identity_fingerprint(loaded, fp2), 0);
	assert_memory_equal(fp1, fp2, 20);
	unlink(path);
	assert_int_equal(rsa_identity_load(path, &loaded), -ENOENT);
	assert_int_equal(rmdir(dir), 0);
	rsa_identity_free(key);
	rsa_identity_free(loaded);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tor_fingerprint),
		cmocka_unit_test(test_pem_and_der_round_trip),
		cmocka_unit_test(test_sign_digest),
		cmocka_unit_test(test_x509),
		cmocka_unit_test(test_generate_store_load),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	vector_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
