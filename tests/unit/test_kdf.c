/* Known-answer tests for crypto/kdf: published vectors only, plus the
 * argument checks every function promises. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/kdf.h"

/* Decodes a hex string into a freshly allocated buffer; *len gets its size. */
static uint8_t *
unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n ? n : 1);

	assert_non_null(out);
	assert_int_equal(strlen(hex) % 2, 0);
	for (size_t i = 0; i < n; i++) {
		unsigned int byte;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
	*len = n;
	return out;
}

static void
assert_hex_equal(const uint8_t *got, size_t got_len, const char *want_hex)
{
	size_t want_len;
	uint8_t *want = unhex(want_hex, &want_len);

	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	free(want);
}

/* FIPS 180 / FIPS 202 example digests of "abc" and of the empty string. */
static void
test_digests_known_answers(void **state)
{
	uint8_t out[64];

	(void)state;
	assert_int_equal(kdf_sha1("abc", 3, out), 0);
	assert_hex_equal(out, KDF_SHA1_LEN,
		"a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_int_equal(kdf_sha256("abc", 3, out), 0);
	assert_hex_equal(out, KDF_SHA256_LEN,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(kdf_sha3_256("abc", 3, out), 0);
	assert_hex_equal(out, KDF_SHA3_256_LEN,
		"3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
	assert_int_equal(kdf_sha3_256(NULL, 0, out), 0);
	assert_hex_equal(out, KDF_SHA3_256_LEN,
		"a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
	assert_int_equal(kdf_shake256("abc", 3, out, 32), 0);
	assert_hex_equal(out, 32,
		"483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739");
	assert_int_equal(kdf_shake256("", 0, out, 32), 0);
	assert_hex_equal(out, 32,
		"46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f");
	assert_int_equal(kdf_sha256(NULL, 5, out), -EINVAL);
}

/* A running digest fed in pieces, peeked in the middle, duplicated, and
 * continued must agree with the one-shot digests. */
static void
test_running_digest(void **state)
{
	struct kdf_digest *digest, *copy;
	uint8_t out[KDF_SHA3_256_LEN], want[KDF_SHA3_256_LEN];
	uint8_t xof[64], xof_want[64];

	(void)state;
	digest = kdf_digest_new(KDF_HASH_SHA3_256);
	assert_non_null(digest);
	assert_int_equal(kdf_digest_update(digest, "a", 1), 0);
	copy = kdf_digest_dup(digest);
	assert_non_null(copy);
	assert_int_equal(kdf_digest_peek(digest, out, sizeof(out)), 32);
	assert_int_equal(kdf_sha3_256("a", 1, want), 0);
	assert_memory_equal(out, want, sizeof(out));
	assert_int_equal(kdf_digest_update(digest, "bc", 2), 0);
	assert_int_equal(kdf_digest_peek(digest, out, sizeof(out)), 32);
	assert_hex_equal(out, sizeof(out),
		"3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
	/* The copy branched off after "a" and is unaffected by "bc". */
	assert_int_equal(kdf_digest_peek(copy, out, sizeof(out)), 32);
	assert_memory_equal(out, want, sizeof(out));
	assert_int_equal(kdf_digest_peek(copy, out, 31), -EMSGSIZE);
	kdf_digest_free(copy);
	kdf_digest_free(digest);

	/* SHA-1 running digest, as tor's relay cells use. */
	digest = kdf_digest_new(KDF_HASH_SHA1);
	assert_non_null(digest);
	assert_int_equal(kdf_digest_update(digest, "ab", 2), 0);
	assert_int_equal(kdf_digest_update(digest, "c", 1), 0);
	assert_int_equal(kdf_digest_peek(digest, out, sizeof(out)), 20);
	assert_hex_equal(out, KDF_SHA1_LEN,
		"a9993e364706816aba3e25717850c26c9cd0d89d");
	kdf_digest_free(digest);

	/* SHAKE-256: any length, and a longer squeeze extends a shorter one. */
	digest = kdf_digest_new(KDF_HASH_SHAKE256);
	assert_non_null(digest);
	assert_int_equal(kdf_digest_update(digest, "abc", 3), 0);
	assert_int_equal(kdf_digest_peek(digest, xof, sizeof(xof)), 64);
	assert_int_equal(kdf_shake256("abc", 3, xof_want, 32), 0);
	assert_memory_equal(xof, xof_want, 32);
	kdf_digest_free(digest);

	assert_null(kdf_digest_new((enum kdf_hash)99));
	kdf_digest_free(NULL);
	assert_int_equal(kdf_hash_len(KDF_HASH_SHA384), 48);
	assert_int_equal(kdf_hash_len(KDF_HASH_SHAKE256), 0);
}

/* RFC 4231 test case 2: key "Jefe". */
static void
test_hmac_sha256(void **state)
{
	uint8_t out[KDF_SHA256_LEN], a[KDF_SHA256_LEN], b[KDF_SHA256_LEN];
	static const uint8_t zero = 0;

	(void)state;
	assert_int_equal(kdf_hmac_sha256("Jefe", 4,
		"what do ya want for nothing?", 28, out), 0);
	assert_hex_equal(out, sizeof(out),
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* The empty key is the one-byte zero key after RFC 2104 padding. */
	assert_int_equal(kdf_hmac_sha256(NULL, 0, "x", 1, a), 0);
	assert_int_equal(kdf_hmac_sha256(&zero, 1, "x", 1, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(kdf_hmac_sha256(NULL, 3, "x", 1, a), -EINVAL);
}

struct hkdf_case {
	const char *ikm, *salt, *info, *prk, *okm;
};

/* RFC 5869 appendix A, test cases 1-3 (SHA-256). */
static const struct hkdf_case rfc5869_cases[] = {
	{
		"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		"000102030405060708090a0b0c",
		"f0f1f2f3f4f5f6f7f8f9",
		"077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		"34007208d5b887185865",
	},
	{
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		"404142434445464748494a4b4c4d4e4f",
		"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		"b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		"d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		"06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
		"b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		"59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		"cc30c58179ec3e87c14c01d5c1f3434f1d87",
	},
	{
		"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		"",
		"",
		"19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
		"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		"9d201395faa4b61a96c8",
	},
};

static void
test_hkdf_rfc5869(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc5869_cases) / sizeof(rfc5869_cases[0]);
	     i++) {
		const struct hkdf_case *c = &rfc5869_cases[i];
		size_t ikm_len, salt_len, info_len, prk_len, okm_len;
		uint8_t *ikm = unhex(c->ikm, &ikm_len);
		uint8_t *salt = unhex(c->salt, &salt_len);
		uint8_t *info = unhex(c->info, &info_len);
		uint8_t *prk = unhex(c->prk, &prk_len);
		uint8_t *okm = unhex(c->okm, &okm_len);
		uint8_t out[128], extracted[KDF_SHA256_LEN];

		assert_int_equal(kdf_hkdf_sha256(salt, salt_len, ikm, ikm_len,
			info, info_len, out, okm_len), 0);
		assert_memory_equal(out, okm, okm_len);
		/* Extract is HMAC(salt, IKM), which is how ntor computes its
		 * KEY_SEED; Expand from the published PRK gives the same OKM. */
		assert_int_equal(kdf_hmac_sha256(salt, salt_len, ikm, ikm_len,
			extracted), 0);
		assert_memory_equal(extracted, prk, prk_len);
		memset(out, 0, sizeof(out));
		assert_int_equal(kdf_hkdf_sha256_expand(prk, prk_len, info,
			info_len, out, okm_len), 0);
		assert_memory_equal(out, okm, okm_len);
		free(ikm);
		free(salt);
		free(info);
		free(prk);
		free(okm);
	}
}

static void
test_hkdf_limits(void **state)
{
	static uint8_t out[KDF_HKDF_SHA256_MAX_LEN + 1];
	uint8_t prk[KDF_SHA256_LEN] = { 1 };

	(void)state;
	assert_int_equal(kdf_hkdf_sha256_expand(prk, sizeof(prk), "i", 1, out,
		KDF_HKDF_SHA256_MAX_LEN), 0);
	assert_int_equal(kdf_hkdf_sha256_expand(prk, sizeof(prk), "i", 1, out,
		KDF_HKDF_SHA256_MAX_LEN + 1), -EMSGSIZE);
	assert_int_equal(kdf_hkdf_sha256_expand(prk, 31, "i", 1, out, 32),
		-EINVAL);
	assert_int_equal(kdf_hkdf_sha256_expand(prk, 32, "i", 1, out, 0),
		-EINVAL);
	assert_int_equal(kdf_hkdf_sha256("s", 1, "k", 1, NULL, 4, out, 32),
		-EINVAL);
}

/* KDF-TOR (tor-spec 5.2.1) is defined as a chain of SHA-1 blocks; check it
 * block by block against the one-shot SHA-1 and check the length limits. */
static void
test_kdf_tor(void **state)
{
	static uint8_t out[KDF_TOR_MAX_LEN + 1];
	uint8_t k0[41], block[KDF_SHA1_LEN];

	(void)state;
	for (size_t i = 0; i < 40; i++)
		k0[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(kdf_tor(k0, 40, out, 100), 0);
	for (unsigned int i = 0; i < 5; i++) {
		k0[40] = (uint8_t)i;
		assert_int_equal(kdf_sha1(k0, 41, block), 0);
		assert_memory_equal(out + 20 * i, block, 20);
	}
	/* A prefix request gives a prefix of the stream. */
	assert_int_equal(kdf_tor(k0, 40, block, 7), 0);
	assert_memory_equal(block, out, 7);
	assert_int_equal(kdf_tor(k0, 40, out, KDF_TOR_MAX_LEN), 0);
	k0[40] = 0xff;
	assert_int_equal(kdf_sha1(k0, 41, block), 0);
	assert_memory_equal(out + KDF_TOR_MAX_LEN - 20, block, 20);
	assert_int_equal(kdf_tor(k0, 40, out, KDF_TOR_MAX_LEN + 1), -EMSGSIZE);
}

/* tor's own known answers for KDF-TOR (test_crypto.c, test_crypto_kdf_TAP),
 * 100 bytes from each K0. */
static void
test_kdf_tor_vectors(void **state)
{
	uint8_t out[100];

	(void)state;
	assert_int_equal(kdf_tor("", 0, out, sizeof(out)), 0);
	assert_hex_equal(out, sizeof(out),
		"5ba93c9db0cff93f52b521d7420e43f6eda2784fbf8b4530d8"
		"d246dd74ac53a13471bba17941dff7c4ea21bb365bbeeaf5f2"
		"c654883e56d11e43c44e9842926af7ca0a8cca12604f945414"
		"f07b01e13da42c6cf1de3abfdea9b95f34687cbbe92b9a7383");
	assert_int_equal(kdf_tor("Tor", 3, out, sizeof(out)), 0);
	assert_hex_equal(out, sizeof(out),
		"776c6214fc647aaa5f683c737ee66ec44f03d0372e1cce6922"
		"7950f236ddf1e329a7ce7c227903303f525a8c6662426e8034"
		"870642a6dabbd41b5d97ec9bf2312ea729992f48f8ea2d0ba8"
		"3f45dfda1a80bdc8b80de01b23e3e0ffae099b3e4ccf28dc28");
	{
		const char *k0 = "AN ALARMING ITEM TO FIND ON A MONTHLY "
				 "AUTO-DEBIT NOTICE";

		assert_int_equal(kdf_tor(k0, strlen(k0), out, sizeof(out)), 0);
	}
	assert_hex_equal(out, sizeof(out),
		"a340b5d126086c3ab29c2af4179196dbf95e1c72431419d331"
		"4844bf8f6afb6098db952b95581fb6c33625709d6f4400b8e7"
		"ace18a70579fad83c0982ef73f89395bcc39493ad53a685854"
		"daf2ba9b78733b805d9a6824c907ee1dba5ac27a1e466d4d10");
}

/* tor's known answers for KDF-RFC5869 with the ntor salt and m_expand
 * (test_crypto.c, test_crypto_hkdf_sha256, generated with ntor_ref.py). */
static void
test_hkdf_ntor_vectors(void **state)
{
	const char *salt = "ntor-curve25519-sha256-1:key_extract";
	const char *info = "ntor-curve25519-sha256-1:key_expand";
	const char *ikm3 = "AN ALARMING ITEM TO FIND ON YOUR CREDIT-RATING "
			   "STATEMENT";
	uint8_t out[100];

	(void)state;
	assert_int_equal(kdf_hkdf_sha256(salt, strlen(salt), "", 0, info,
		strlen(info), out, sizeof(out)), 0);
	assert_hex_equal(out, sizeof(out),
		"d3490ed48b12a48f9547861583573fe3f19aafe3f81dc7fc75"
		"eeed96d741b3290f941576c1f9f0b2d463d1ec7ab2c6bf71cd"
		"d7f826c6298c00dbfe6711635d7005f0269493edf6046cc7e7"
		"dcf6abe0d20c77cf363e8ffe358927817a3d3e73712cee28d8");
	assert_int_equal(kdf_hkdf_sha256(salt, strlen(salt), "Tor", 3, info,
		strlen(info), out, sizeof(out)), 0);
	assert_hex_equal(out, sizeof(out),
		"5521492a85139a8d9107a2d5c0d9c91610d0f95989975ebee6"
		"c02a4f8d622a6cfdf9b7c7edd3832e2760ded1eac309b76f8d"
		"66c4a3c4d6225429b3a016e3c3d45911152fc87bc2de9630c3"
		"961be9fdb9f93197ea8e5977180801926d3321fa21513e59ac");
	assert_int_equal(kdf_hkdf_sha256(salt, strlen(salt), ikm3,
		strlen(ikm3), info, strlen(info), out, sizeof(out)), 0);
	assert_hex_equal(out, sizeof(out),
		"a2aa9b50da7e481d30463adb8f233ff06e9571a0ca6ab6df0f"
		"b206fa34e5bc78d063fc291501beec53b36e5a0e434561200c"
		"5f8bd13e0f88b3459600b4dc21d69363e2895321c06184879d"
		"94b18f078411be70b767c7fc40679a9440a0c95ea83a23efbf");
}

struct expand_label_case {
	const char *secret, *label;
	size_t len;
	const char *want;
};

/* RFC 8448 section 3 "Simple 1-RTT Handshake", TLS_AES_128_GCM_SHA256:
 * handshake and application traffic secrets and the key/iv derived from
 * them ("derive write traffic keys"). */
static const struct expand_label_case rfc8448_cases[] = {
	/* {server} derive write traffic keys for handshake data */
	{ "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
	  "key", 16, "3fce516009c21727d0f2e4e86ee403bc" },
	{ "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
	  "iv", 12, "5d313eb2671276ee13000b30" },
	/* {client} derive write traffic keys for handshake data */
	{ "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
	  "key", 16, "dbfaa693d1762c5b666af5d950258d01" },
	{ "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
	  "iv", 12, "5bd3c71b836e0b76bb73265f" },
	/* {server} derive write traffic keys for application data */
	{ "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
	  "key", 16, "9f02283b6c9c07efc26bb9f2ac92e356" },
	{ "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
	  "iv", 12, "cf782b88dd83549aadf1e984" },
	/* {client} derive write traffic keys for application data */
	{ "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
	  "key", 16, "17422dda596ed5d9acd890e3c63f5051" },
	{ "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
	  "iv", 12, "5b78923dee08579033e523d9" },
};

static void
test_tls13_expand_label_rfc8448(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc8448_cases) / sizeof(rfc8448_cases[0]);
	     i++) {
		const struct expand_label_case *c = &rfc8448_cases[i];
		size_t secret_len;
		uint8_t *secret = unhex(c->secret, &secret_len);
		uint8_t out[32];

		assert_int_equal(kdf_tls13_expand_label(KDF_HASH_SHA256,
			secret, secret_len, c->label, NULL, 0, out, c->len), 0);
		assert_hex_equal(out, c->len, c->want);
		free(secret);
	}
}

/* RFC 8448 has no SHA-384 trace; check our HkdfLabel encoding for SHA-384
 * (tor's TLS_AES_256_GCM_SHA384) against OpenSSL's own TLS13-KDF, which
 * builds the label internally. */
static void
test_tls13_expand_label_sha384(void **state)
{
	uint8_t secret[KDF_SHA384_LEN], ours[32], theirs[32];
	const uint8_t context[] = { 1, 2, 3 };
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[7];
	EVP_KDF_CTX *ctx;
	EVP_KDF *kdf;

	(void)state;
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(3 * i + 1);
	assert_int_equal(kdf_tls13_expand_label(KDF_HASH_SHA384, secret,
		sizeof(secret), "key", context, sizeof(context), ours, 32), 0);

	kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	assert_non_null(kdf);
	ctx = EVP_KDF_CTX_new(kdf);
	assert_non_null(ctx);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
		(char *)"SHA384", 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
		secret, sizeof(secret));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX,
		(char *)"tls13 ", 6);
	params[4] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL,
		(char *)"key", 3);
	params[5] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA,
		(void *)context, sizeof(context));
	params[6] = OSSL_PARAM_construct_end();
	assert_true(EVP_KDF_derive(ctx, theirs, sizeof(theirs), params) > 0);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	assert_memory_equal(ours, theirs, sizeof(ours));

	/* Argument checks. */
	assert_int_equal(kdf_tls13_expand_label(KDF_HASH_SHA1, secret,
		sizeof(secret), "key", NULL, 0, ours, 16), -EINVAL);
	assert_int_equal(kdf_tls13_expand_label(KDF_HASH_SHA384, secret, 32,
		"key", NULL, 0, ours, 16), -EINVAL);
}

/* The TLS 1.2 PRF vectors posted to the IETF TLS list (msg03416), label
 * "test label": P_SHA256 100 bytes and P_SHA384 148 bytes. */
static void
test_tls12_prf(void **state)
{
	size_t secret_len, seed_len;
	uint8_t *secret, *seed;
	uint8_t out[148];

	(void)state;
	secret = unhex("9bbe436ba940f017b17652849a71db35", &secret_len);
	seed = unhex("a0ba9f936cda311827a6f796ffd5198c", &seed_len);
	assert_int_equal(kdf_tls12_prf(KDF_HASH_SHA256, secret, secret_len,
		"test label", seed, seed_len, out, 100), 0);
	assert_hex_equal(out, 100,
		"e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
		"6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
		"4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
		"87347b66");
	free(secret);
	free(seed);

	secret = unhex("b80b733d6ceefcdc71566ea48e5567df", &secret_len);
	seed = unhex("cd665cf6a8447dd6ff8b27555edb7465", &seed_len);
	assert_int_equal(kdf_tls12_prf(KDF_HASH_SHA384, secret, secret_len,
		"test label", seed, seed_len, out, 148), 0);
	assert_hex_equal(out, 148,
		"7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
		"e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
		"8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
		"9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
		"91c8f3a26854308d5eaa3be85e0990703d73e56f");

	assert_int_equal(kdf_tls12_prf(KDF_HASH_SHA3_256, secret, secret_len,
		"test label", seed, seed_len, out, 16), -EINVAL);
	assert_int_equal(kdf_tls12_prf(KDF_HASH_SHA256, secret, secret_len,
		"test label", seed, seed_len, out, 0), -EINVAL);
	free(secret);
	free(seed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digests_known_answers),
		cmocka_unit_test(test_running_digest),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_hkdf_limits),
		cmocka_unit_test(test_kdf_tor),
		cmocka_unit_test(test_kdf_tor_vectors),
		cmocka_unit_test(test_hkdf_ntor_vectors),
		cmocka_unit_test(test_tls13_expand_label_rfc8448),
		cmocka_unit_test(test_tls13_expand_label_sha384),
		cmocka_unit_test(test_tls12_prf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
