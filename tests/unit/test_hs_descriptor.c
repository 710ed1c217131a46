/* Unit tests for control/hs_descriptor.{c,h}.
 *
 * - A descriptor a real tor 0.4.9.11 onion service published
 *   (tests/unit/vectors/hs-descriptor/README.md says how it was made); its
 *   keys and signatures were cross-checked with pyca/cryptography.
 * - Synthetic descriptors signed here with crypto/torcert and libsodium,
 *   one per check of tor 0.4.9's hs_desc_decode_plaintext order.
 * - Hash-ring and time-period values from tor's test_hs_common.c
 *   (test_hs_indexes, test_time_period, test_blinding_basics); the disaster
 *   SRV from Python's hashlib.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "control/hs_descriptor.h"
#include "crypto/torcert.h"

static const char *vector_dir;

/* When the vector was captured, and its certificate's EXPIRATION_DATE. */
#define VECTOR_NOW 1796096364
#define VECTOR_CERT_HOURS 498970

static void
hex_to_bytes(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static char *
read_vector(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long size;

	snprintf(path, sizeof(path), "%s/%s", vector_dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

static int
parse(const char *text, size_t len, time_t now, struct hs_desc_outer *out,
		enum hs_desc_check *failed)
{
	return hs_desc_outer_parse((const uint8_t *)text, len,
		HS_DESC_MAX_SIZE_DEFAULT, now, out, failed);
}

static void
test_real_descriptor(void **state)
{
	size_t len;
	char *text = read_vector("tor-0.4.9.11-service.txt", &len);
	struct hs_desc_outer out;
	enum hs_desc_check failed;
	uint8_t blinded[32], signing[32];

	(void)state;
	assert_int_equal(len, 14109);
	assert_int_equal(parse(text, len, VECTOR_NOW, &out, &failed), 0);
	assert_int_equal(failed, HS_DESC_OK);
	assert_int_equal(out.version, 3);
	assert_int_equal(out.lifetime_sec, 180 * 60);
	assert_true(out.revision_counter == 14781062);
	hex_to_bytes("250505244e5340cfb99164a4e83a5226"
		"cb3a9f18b215096152f9761fad34a7eb", blinded, 32);
	hex_to_bytes("6539123996bad5de2fe41bd68adc044f"
		"2f5ef65cc350efd67bf95f3eae4404f9", signing, 32);
	assert_memory_equal(out.blinded_key, blinded, 32);
	assert_memory_equal(out.signing_key, signing, 32);
	assert_int_equal(out.cert_expiration, (time_t)VECTOR_CERT_HOURS * 3600);
	assert_int_equal(out.superencrypted_len, 10048);
	assert_int_equal(out.signed_len, 14012);
	assert_memory_equal(text + out.signed_len, "signature ", 10);
	assert_memory_equal(out.superencrypted_base64, "nbLDx4Gj", 8);

	/* Still valid at the last second of the certificate, not after. */
	assert_int_equal(parse(text, len, (time_t)VECTOR_CERT_HOURS * 3600,
		&out, &failed), 0);
	assert_int_equal(parse(text, len, (time_t)VECTOR_CERT_HOURS * 3600 + 1,
		&out, &failed), -EPROTO);
	assert_int_equal(failed, HS_DESC_CERT_EXPIRED);

	/* The size limit: tor rejects length >= HSV3MaxDescriptorSize. */
	assert_int_equal(hs_desc_outer_parse((const uint8_t *)text, len, len,
		VECTOR_NOW, &out, &failed), -EPROTO);
	assert_int_equal(failed, HS_DESC_TOO_BIG);
	assert_int_equal(hs_desc_outer_parse((const uint8_t *)text, len,
		len + 1, VECTOR_NOW, &out, &failed), 0);

	/* The final newline is not signed; without it the text still
	 * verifies. */
	assert_int_equal(parse(text, len - 1, VECTOR_NOW, &out, &failed), 0);

	/* Any change to the signed text breaks the signature. */
	char *counter = strstr(text, "revision-counter 14781062");
	assert_non_null(counter);
	counter[24] = '3';
	assert_int_equal(parse(text, len, VECTOR_NOW, &out, &failed),
		-EPROTO);
	assert_int_equal(failed, HS_DESC_BAD_SIGNATURE);
	counter[24] = '2';
	char *lifetime = strstr(text, "descriptor-lifetime 180");
	lifetime[22] = '1';
	assert_int_equal(parse(text, len, VECTOR_NOW, &out, &failed),
		-EPROTO);
	assert_int_equal(failed, HS_DESC_BAD_SIGNATURE);
	lifetime[22] = '0';
	/* One base64 character of the signature itself. */
	char *sig = strstr(text, "\nsignature ") + 11;
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_int_equal(parse(text, len, VECTOR_NOW, &out, &failed),
		-EPROTO);
	assert_int_equal(failed, HS_DESC_BAD_SIGNATURE);
	free(text);
}

/* A synthetic descriptor, built line by line. */
struct desc_parts {
	const char *before;             /* lines before hs-descriptor */
	const char *version;
	const char *lifetime;
	const char *cert_type;          /* object type of the cert */
	const uint8_t *cert;
	size_t cert_len;
	const char *middle;             /* lines after the cert */
	const char *revision;
	const char *super_type;
	size_t super_len;               /* bytes of superencrypted data */
	const char *signature_keyword;  /* "signature" */
	const char *signature;          /* NULL: sign with signing_key */
	const char *after;              /* lines after the signature */
};

static struct ed25519_keypair blinded_key, signing_key, other_key;
static uint8_t good_cert[TORCERT_WITH_SIGNING_KEY_LEN];
#define NOW 1700000000
#define CERT_HOURS (NOW / 3600 + 54)

static void
append(char *out, size_t *off, size_t cap, const char *s, size_t n)
{
	assert_true(*off + n < cap);
	memcpy(out + *off, s, n);
	*off += n;
	out[*off] = '\0';
}

static void
append_str(char *out, size_t *off, size_t cap, const char *s)
{
	append(out, off, cap, s, strlen(s));
}

/* Base64 with 64-character lines, as tor writes objects. */
static void
append_object(char *out, size_t *off, size_t cap, const char *type,
		const uint8_t *data, size_t len)
{
	char b64[8192];
	int n = EVP_EncodeBlock((unsigned char *)b64, data, (int)len);

	assert_true(n >= 0 && (size_t)n < sizeof(b64));
	append_str(out, off, cap, "-----BEGIN ");
	append_str(out, off, cap, type);
	append_str(out, off, cap, "-----\n");
	for (int i = 0; i < n; i += 64) {
		append(out, off, cap, b64 + i, (size_t)(n - i < 64 ? n - i : 64));
		append_str(out, off, cap, "\n");
	}
	append_str(out, off, cap, "-----END ");
	append_str(out, off, cap, type);
	append_str(out, off, cap, "-----\n");
}

static size_t
build_desc(const struct desc_parts *parts, char *out, size_t cap)
{
	size_t off = 0;
	uint8_t super[4096];
	char line[256];

	out[0] = '\0';
	append_str(out, &off, cap, parts->before ? parts->before : "");
	snprintf(line, sizeof(line), "hs-descriptor %s\n"
		"descriptor-lifetime %s\ndescriptor-signing-key-cert\n",
		parts->version ? parts->version : "3",
		parts->lifetime ? parts->lifetime : "180");
	append_str(out, &off, cap, line);
	append_object(out, &off, cap,
		parts->cert_type ? parts->cert_type : "ED25519 CERT",
		parts->cert ? parts->cert : good_cert,
		parts->cert ? parts->cert_len : sizeof(good_cert));
	append_str(out, &off, cap, parts->middle ? parts->middle : "");
	snprintf(line, sizeof(line), "revision-counter %s\nsuperencrypted\n",
		parts->revision ? parts->revision : "42");
	append_str(out, &off, cap, line);
	assert_true(parts->super_len <= sizeof(super));
	for (size_t i = 0; i < sizeof(super); i++)
		super[i] = (uint8_t)(i * 31 + 7);
	append_object(out, &off, cap,
		parts->super_type ? parts->super_type : "MESSAGE", super,
		parts->super_len ? parts->super_len : 1000);
	if (parts->signature != NULL) {
		snprintf(line, sizeof(line), "%s %s\n",
			parts->signature_keyword ? parts->signature_keyword :
			"signature", parts->signature);
		append_str(out, &off, cap, line);
	} else {
		static const char prefix[] = "Tor onion service descriptor sig v3";
		static char signed_msg[65536];
		uint8_t sig[64];
		char b64[100];

		memcpy(signed_msg, prefix, sizeof(prefix) - 1);
		memcpy(signed_msg + sizeof(prefix) - 1, out, off);
		assert_int_equal(ed25519_sign(sig, (uint8_t *)signed_msg,
			sizeof(prefix) - 1 + off, &signing_key), 0);
		assert_int_equal(EVP_EncodeBlock((unsigned char *)b64, sig, 64),
			88);
		b64[86] = '\0';         /* tor drops the "==" */
		snprintf(line, sizeof(line), "%s %s\n",
			parts->signature_keyword ? parts->signature_keyword :
			"signature", b64);
		append_str(out, &off, cap, line);
	}
	append_str(out, &off, cap, parts->after ? parts->after : "");
	return off;
}

static int
setup_keys(void **state)
{
	uint8_t seed[32];

	(void)state;
	memset(seed, 0x11, sizeof(seed));
	if (ed25519_keypair_from_seed(&blinded_key, seed) != 0)
		return -1;
	memset(seed, 0x22, sizeof(seed));
	if (ed25519_keypair_from_seed(&signing_key, seed) != 0)
		return -1;
	memset(seed, 0x33, sizeof(seed));
	if (ed25519_keypair_from_seed(&other_key, seed) != 0)
		return -1;
	if (torcert_create(TORCERT_TYPE_HS_DESC_SIGNING, TORCERT_KEY_TYPE_ED25519,
			signing_key.public_key, CERT_HOURS, &blinded_key, true,
			good_cert, sizeof(good_cert)) != sizeof(good_cert))
		return -1;
	return 0;
}

/* Builds the descriptor and expects check `want` (HS_DESC_OK: success). */
static void
expect(const struct desc_parts *parts, enum hs_desc_check want)
{
	static char text[60000];
	size_t len = build_desc(parts, text, sizeof(text));
	struct hs_desc_outer out;
	enum hs_desc_check failed;
	int rc = parse(text, len, NOW, &out, &failed);

	if (failed != want)
		fprintf(stderr, "got %s, want %s\n", hs_desc_check_name(failed),
			hs_desc_check_name(want));
	assert_int_equal(failed, want);
	assert_int_equal(rc, want == HS_DESC_OK ? 0 : -EPROTO);
}

static void
test_synthetic_good(void **state)
{
	static char text[60000];
	struct desc_parts parts = { 0 };
	struct hs_desc_outer out;
	enum hs_desc_check failed;
	size_t len;

	(void)state;
	len = build_desc(&parts, text, sizeof(text));
	assert_int_equal(parse(text, len, NOW, &out, &failed), 0);
	assert_memory_equal(out.blinded_key, blinded_key.public_key, 32);
	assert_memory_equal(out.signing_key, signing_key.public_key, 32);
	assert_true(out.revision_counter == 42);
	assert_int_equal(out.lifetime_sec, 10800);
	assert_int_equal(out.superencrypted_len, 1000);
	assert_int_equal(out.cert_expiration, (time_t)CERT_HOURS * 3600);

	/* Unknown items, comments, blank lines and "opt" are tolerated. */
	parts.middle = "\n# a comment\nunknown-item a b c\nopt other\n"
		"with-object\n-----BEGIN SOMETHING-----\nAAAA\n"
		"-----END SOMETHING-----\n";
	expect(&parts, HS_DESC_OK);
	parts.middle = NULL;

	/* Lifetime bounds: 720 minutes is the maximum, no minimum in tor. */
	parts.lifetime = "720";
	expect(&parts, HS_DESC_OK);
	parts.lifetime = "0";
	expect(&parts, HS_DESC_OK);
	/* tor multiplies by 60 in 32 bits: 71582789 minutes wrap to 44 s
	 * and pass; this parser does the same so its verdicts match. */
	parts.lifetime = "71582789";
	len = build_desc(&parts, text, sizeof(text));
	assert_int_equal(parse(text, len, NOW, &out, &failed), 0);
	assert_int_equal(out.lifetime_sec, 44);
	parts.lifetime = NULL;

	/* strtoull semantics, as tor_parse_uint64: '+' accepted, '-'
	 * negates modulo 2^64. */
	parts.revision = "+7";
	len = build_desc(&parts, text, sizeof(text));
	assert_int_equal(parse(text, len, NOW, &out, &failed), 0);
	assert_true(out.revision_counter == 7);
	parts.revision = "-1";
	len = build_desc(&parts, text, sizeof(text));
	assert_int_equal(parse(text, len, NOW, &out, &failed), 0);
	assert_true(out.revision_counter == UINT64_MAX);
	parts.revision = "18446744073709551615";
	expect(&parts, HS_DESC_OK);
	parts.revision = NULL;

	/* The smallest superencrypted blob: salt + MAC + 1 byte. */
	parts.super_len = 49;
	expect(&parts, HS_DESC_OK);
}

static void
test_synthetic_failures(void **state)
{
	static char text[60000];
	struct desc_parts parts;
	struct hs_desc_outer out;
	enum hs_desc_check failed;
	uint8_t cert[256];
	ssize_t cert_len;
	size_t len;

	(void)state;

	memset(&parts, 0, sizeof(parts));
	len = build_desc(&parts, text, sizeof(text));
	text[100] = '\0';
	assert_int_equal(parse(text, len, NOW, &out, &failed), -EPROTO);
	assert_int_equal(failed, HS_DESC_NUL);

	/* Tokenizer. */
	parts.middle = "broken\n-----BEGIN X-----\nAAAA\n";
	expect(&parts, HS_DESC_MALFORMED);       /* END of another type */
	parts.middle = "broken\n-----BEGIN X-----\nAA*A\n-----END X-----\n";
	expect(&parts, HS_DESC_MALFORMED);       /* bad base64 */
	parts.middle = "broken\n-----BEGIN X----\nAAAA\n-----END X----\n";
	expect(&parts, HS_DESC_MALFORMED);       /* bad BEGIN line */
	parts.middle = "broken\n-----BEGIN X-----\nA\n-----END X-----\n";
	expect(&parts, HS_DESC_MALFORMED);       /* 6 leftover bits */
	parts.middle = "@annotation\n";
	expect(&parts, HS_DESC_ANNOTATION);
	parts.middle = "revision-counter 1 2\n";
	expect(&parts, HS_DESC_BAD_ITEM_SYNTAX);
	parts.middle = "revision-counter\n";
	expect(&parts, HS_DESC_BAD_ITEM_SYNTAX);
	parts.middle = "revision-counter 5\n-----BEGIN X-----\nAAAA\n"
		"-----END X-----\n";
	expect(&parts, HS_DESC_BAD_ITEM_SYNTAX); /* object not allowed */
	parts.middle = "superencrypted\n";
	expect(&parts, HS_DESC_BAD_ITEM_SYNTAX); /* object needed */
	parts.middle = "revision-counter 5\n";
	expect(&parts, HS_DESC_BAD_ITEM_COUNT);
	parts.middle = NULL;
	parts.version = "3 3";
	expect(&parts, HS_DESC_BAD_ITEM_SYNTAX);
	parts.version = NULL;

	parts.before = "unknown-first\n";
	expect(&parts, HS_DESC_NOT_FIRST);
	parts.before = "\n\n# comments and blank lines are not items\n";
	expect(&parts, HS_DESC_OK);
	parts.before = NULL;
	parts.after = "unknown-last\n";
	expect(&parts, HS_DESC_NOT_LAST);
	parts.after = "# a trailing comment\n\n";
	expect(&parts, HS_DESC_OK);
	parts.after = NULL;

	/* Version and lifetime. */
	parts.version = "2";
	expect(&parts, HS_DESC_BAD_VERSION);
	parts.version = "three";
	expect(&parts, HS_DESC_BAD_VERSION);
	parts.version = "4294967299";
	expect(&parts, HS_DESC_BAD_VERSION);
	parts.version = NULL;
	parts.lifetime = "721";
	expect(&parts, HS_DESC_BAD_LIFETIME);
	parts.lifetime = "1x";
	expect(&parts, HS_DESC_BAD_LIFETIME);
	parts.lifetime = "4294967296";
	expect(&parts, HS_DESC_BAD_LIFETIME);
	parts.lifetime = NULL;

	/* The certificate. */
	parts.cert_type = "ED25519 CERTIFICATE";
	expect(&parts, HS_DESC_CERT_OBJECT_TYPE);
	parts.cert_type = NULL;
	memcpy(cert, good_cert, sizeof(good_cert));
	cert[sizeof(good_cert)] = 0;
	parts.cert = cert;
	parts.cert_len = sizeof(good_cert) + 1;  /* a byte after it */
	expect(&parts, HS_DESC_CERT_MALFORMED);
	parts.cert_len = sizeof(good_cert) - 1;  /* truncated */
	expect(&parts, HS_DESC_CERT_MALFORMED);
	parts.cert_len = sizeof(good_cert);
	cert[0] = 2;                             /* VERSION */
	expect(&parts, HS_DESC_CERT_MALFORMED);
	memcpy(cert, good_cert, sizeof(good_cert));
	cert[sizeof(good_cert) - 1] ^= 1;        /* signature */
	expect(&parts, HS_DESC_CERT_INVALID);
	cert_len = torcert_create(TORCERT_TYPE_SIGNING, TORCERT_KEY_TYPE_ED25519,
		signing_key.public_key, CERT_HOURS, &blinded_key, true, cert,
		sizeof(cert));
	parts.cert_len = (size_t)cert_len;
	expect(&parts, HS_DESC_CERT_TYPE);
	cert_len = torcert_create(TORCERT_TYPE_HS_DESC_SIGNING,
		TORCERT_KEY_TYPE_ED25519, signing_key.public_key, CERT_HOURS,
		&blinded_key, false, cert, sizeof(cert));
	parts.cert_len = (size_t)cert_len;
	expect(&parts, HS_DESC_CERT_NO_SIGNING_KEY);
	cert_len = torcert_create(TORCERT_TYPE_HS_DESC_SIGNING,
		TORCERT_KEY_TYPE_ED25519, signing_key.public_key, NOW / 3600 - 1,
		&blinded_key, true, cert, sizeof(cert));
	parts.cert_len = (size_t)cert_len;
	expect(&parts, HS_DESC_CERT_EXPIRED);
	/* Signed by a key other than the one in extension 04. */
	cert_len = torcert_create(TORCERT_TYPE_HS_DESC_SIGNING,
		TORCERT_KEY_TYPE_ED25519, signing_key.public_key, CERT_HOURS,
		&other_key, true, cert, sizeof(cert));
	memcpy(cert + 44, blinded_key.public_key, 32);
	parts.cert_len = (size_t)cert_len;
	expect(&parts, HS_DESC_CERT_INVALID);
	/* Certifies another key: the descriptor signature then fails. */
	cert_len = torcert_create(TORCERT_TYPE_HS_DESC_SIGNING,
		TORCERT_KEY_TYPE_ED25519, other_key.public_key, CERT_HOURS,
		&blinded_key, true, cert, sizeof(cert));
	parts.cert_len = (size_t)cert_len;
	expect(&parts, HS_DESC_BAD_SIGNATURE);
	parts.cert = NULL;

	/* Revision counter. */
	parts.revision = "18446744073709551616";
	expect(&parts, HS_DESC_BAD_REVISION_COUNTER);
	parts.revision = "12a";
	expect(&parts, HS_DESC_BAD_REVISION_COUNTER);
	parts.revision = "-";
	expect(&parts, HS_DESC_BAD_REVISION_COUNTER);
	parts.revision = NULL;

	/* Superencrypted. */
	parts.super_type = "MESSAGES";
	expect(&parts, HS_DESC_SUPERENCRYPTED_TYPE);
	parts.super_type = NULL;
	parts.super_len = 48;
	expect(&parts, HS_DESC_SUPERENCRYPTED_SHORT);
	parts.super_len = 0;

	/* Signature. */
	parts.signature = "AAAA";
	expect(&parts, HS_DESC_SIGNATURE_ENCODING);
	char sig86[HS_DESC_SIG_BASE64_LEN + 1];
	memset(sig86, 'A', HS_DESC_SIG_BASE64_LEN);
	sig86[HS_DESC_SIG_BASE64_LEN] = '\0';
	sig86[0] = '*';
	parts.signature = sig86;
	expect(&parts, HS_DESC_SIGNATURE_ENCODING);
	sig86[0] = 'A';
	sig86[HS_DESC_SIG_BASE64_LEN - 1] = '\0';
	expect(&parts, HS_DESC_SIGNATURE_ENCODING);  /* 85 characters */
	sig86[HS_DESC_SIG_BASE64_LEN - 1] = 'A';
	expect(&parts, HS_DESC_BAD_SIGNATURE);
	parts.signature = NULL;
	/* "opt signature" tokenizes as the signature item, but tor looks
	 * for "\nsignature " to find the signed part. */
	parts.signature_keyword = "opt signature";
	expect(&parts, HS_DESC_SIGNATURE_LINE);
	parts.signature_keyword = NULL;
	expect(&parts, HS_DESC_OK);
}

static void
test_hash_ring(void **state)
{
	uint8_t key[32], srv[32], out[32], want[32];

	(void)state;
	/* tor's test_hs_indexes: key 32 x 0x42, period 42, length 1440. */
	memset(key, 0x42, sizeof(key));
	memset(srv, 0x43, sizeof(srv));
	assert_int_equal(hs_build_hs_index(key, 1, 1440, 42, out), 0);
	hex_to_bytes("37e5cbbd56a22823714f18f1623ece59"
		"83a0d64c78495a8cfab854245e5f9a8a", want, 32);
	assert_memory_equal(out, want, 32);
	assert_int_equal(hs_build_hsdir_index(key, srv, 42, 1440, out), 0);
	hex_to_bytes("db475361014a09965e7e5e4d4a25b8f8"
		"d4b8f16cb1d8a7e95eed50249cc1a2d5", want, 32);
	assert_memory_equal(out, want, 32);
	/* The order of period number and length matters. */
	assert_int_equal(hs_build_hsdir_index(key, srv, 1440, 42, out), 0);
	assert_memory_not_equal(out, want, 32);

	/* Python: sha3_256(b"shared-random-disaster" + (1440).to_bytes(8,
	 * "big") + (16903).to_bytes(8, "big")). */
	assert_int_equal(hs_build_disaster_srv(1440, 16903, out), 0);
	hex_to_bytes("e7a6d7d2d9de116d1d8b5d49cdf3d070"
		"555a0fa60950ca6844ebcb88828b9f53", want, 32);
	assert_memory_equal(out, want, 32);
}

static void
test_time_periods(void **state)
{
	struct hs_time_period_params live = hs_time_period_params_live(0,
		3600);
	struct hs_time_period_params testing;

	(void)state;
	assert_true(live.length_minutes == 1440);
	assert_true(live.rotation_offset_sec == 43200);
	/* tor's test_time_period (rend-spec-v3 [TIME-PERIODS] example):
	 * 2016-04-13 11:00:00 UTC is in period 16903 until 11:59:59, the
	 * next period starts at 12:00:00. */
	assert_true(hs_time_period_num(&live, 1460545200) == 16903);
	assert_true(hs_time_period_num(&live, 1460545200 + 3599) == 16903);
	assert_true(hs_time_period_num(&live, 1460545200 + 3600) == 16904);
	assert_int_equal(hs_time_period_start(&live, 16904), 1460548800);
	assert_int_equal(hs_time_period_start(&live, 16905),
		1460548800 + 86400);
	/* tor's test_blinding_basics: 1973-05-20 01:50:33 is period 1234. */
	assert_true(hs_time_period_num(&live, 106710633) == 1234);
	assert_true(hs_time_period_num(&live, 0) == 0);

	/* hsdir_interval from the consensus. */
	live = hs_time_period_params_live(60, 3600);
	assert_true(live.length_minutes == 60);

	/* TestingTorNetwork with a 10 s voting interval: 4-minute periods
	 * shifted by 2 minutes (what tor-testnet.sh runs). */
	testing = hs_time_period_params_testing(10);
	assert_true(testing.length_minutes == 4);
	assert_true(testing.rotation_offset_sec == 120);
	assert_true(hs_time_period_num(&testing, 1000 * 60) == (1000 - 2) / 4);
	testing = hs_time_period_params_testing(20);
	assert_true(testing.length_minutes == 8);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_descriptor),
		cmocka_unit_test(test_synthetic_good),
		cmocka_unit_test(test_synthetic_failures),
		cmocka_unit_test(test_hash_ring),
		cmocka_unit_test(test_time_periods),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	vector_dir = argv[1];
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup_keys, NULL);
}
