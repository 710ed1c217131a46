/* Ed25519 certificates (cert-spec 2.1) and the RSA->Ed25519 cross-
 * certificate, checked against the ed25519_signing_cert a real tor 0.4.9
 * wrote (tests/unit/vectors/tor-0.4.9-relay). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/rsa_identity.h"
#include "crypto/tor_keys.h"
#include "crypto/torcert.h"

static const char *vector_dir;

/* The tor-written cert: expiration hour 499631 (2026-12-30 23:00 UTC); the
 * files were written at 1796077825 (2026-11-30 22:30:25 UTC). */
#define TOR_CERT_EXPIRATION_HOURS 499631u
#define TOR_CERT_WRITTEN_AT ((time_t)1796077825)

struct tor_vectors {
	struct ed25519_secret_key_file master, signing;
	struct ed25519_public_key_file master_public;
	struct ed25519_cert_file cert;
};

static void
vector_path(char *path, size_t path_len, const char *name)
{
	snprintf(path, path_len, "%s/%s", vector_dir, name);
}

static void
load_vectors(struct tor_vectors *v)
{
	char path[1024];

	vector_path(path, sizeof(path), "ed25519_master_id_secret_key");
	assert_int_equal(ed25519_secret_key_file_load(path, &v->master), 0);
	vector_path(path, sizeof(path), "ed25519_signing_secret_key");
	assert_int_equal(ed25519_secret_key_file_load(path, &v->signing), 0);
	vector_path(path, sizeof(path), "ed25519_master_id_public_key");
	assert_int_equal(ed25519_public_key_file_load(path, &v->master_public),
			0);
	vector_path(path, sizeof(path), "ed25519_signing_cert");
	assert_int_equal(ed25519_cert_file_load(path, &v->cert), 0);
}

static void
test_real_tor_cert(void **state)
{
	struct tor_vectors v;
	struct torcert cert;
	const uint8_t *cursor;
	uint8_t copy[TOR_CERT_FILE_BODY_MAX], other[32];
	time_t expiry;

	(void)state;
	load_vectors(&v);
	cursor = v.cert.cert;
	assert_int_equal(torcert_parse(&cursor, v.cert.cert + v.cert.cert_len,
			&cert), 0);
	assert_ptr_equal(cursor, v.cert.cert + v.cert.cert_len);
	assert_int_equal(cert.encoded_len, 140);
	assert_int_equal(cert.cert_type, TORCERT_TYPE_SIGNING);
	assert_int_equal(cert.key_type, TORCERT_KEY_TYPE_ED25519);
	assert_int_equal(cert.expiration_hours, TOR_CERT_EXPIRATION_HOURS);
	assert_int_equal(cert.n_extensions, 1);
	assert_int_equal(cert.extensions_len, 36);
	assert_false(cert.has_unknown_critical_extension);
	/* Certifies the signing key, signed by (and carrying) the master. */
	assert_memory_equal(cert.certified_key, v.signing.keypair.public_key,
			32);
	assert_true(cert.has_signing_key);
	assert_memory_equal(cert.signing_key, v.master_public.public_key, 32);

	assert_int_equal(torcert_verify(&cert, v.master_public.public_key,
			TOR_CERT_WRITTEN_AT), 0);
	assert_int_equal(torcert_verify(&cert, NULL, TOR_CERT_WRITTEN_AT), 0);
	expiry = (time_t)TOR_CERT_EXPIRATION_HOURS * 3600;
	assert_int_equal(torcert_verify(&cert, NULL, expiry), 0);
	assert_int_equal(torcert_verify(&cert, NULL, expiry + 1),
			-EKEYEXPIRED);
	assert_int_equal(torcert_verify(&cert, v.signing.keypair.public_key,
			TOR_CERT_WRITTEN_AT), -EBADMSG);

	/* Re-encoding is byte-identical. */
	assert_int_equal(torcert_encode(&cert, copy, sizeof(copy)), 140);
	assert_memory_equal(copy, v.cert.cert, 140);
	assert_int_equal(torcert_encode(&cert, copy, 139), -EMSGSIZE);

	/* Every flipped bit of the signed part or the signature fails. */
	for (size_t i = 0; i < 140; i++) {
		if (i >= 44 && i < 76)
			continue; /* extension 04 key: covered below */
		memcpy(copy, v.cert.cert, 140);
		copy[i] ^= (uint8_t)(1u << (i % 8));
		cursor = copy;
		if (torcert_parse(&cursor, copy + 140, &cert) != 0)
			continue; /* version byte */
		assert_int_not_equal(torcert_verify(&cert,
				v.master_public.public_key,
				TOR_CERT_WRITTEN_AT), 0);
	}
	/* Changing the embedded key: a mismatch with the given key, and a
	 * bad signature when the embedded key is trusted. */
	memcpy(copy, v.cert.cert, 140);
	copy[50] ^= 4;
	cursor = copy;
	assert_int_equal(torcert_parse(&cursor, copy + 140, &cert), 0);
	assert_int_equal(torcert_verify(&cert, v.master_public.public_key,
			TOR_CERT_WRITTEN_AT), -EBADMSG);
	memcpy(other, cert.signing_key, 32);
	assert_int_not_equal(torcert_verify(&cert, other,
			TOR_CERT_WRITTEN_AT), 0);
}

/* Our signer, fed tor's keys and fields, reproduces tor's cert exactly
 * (Ed25519 signatures are deterministic). */
static void
test_create_matches_tor(void **state)
{
	struct tor_vectors v;
	uint8_t out[256];
	struct torcert cert;
	const uint8_t *cursor;

	(void)state;
	load_vectors(&v);
	assert_int_equal(torcert_create(TORCERT_TYPE_SIGNING,
			TORCERT_KEY_TYPE_ED25519, v.signing.keypair.public_key,
			TOR_CERT_EXPIRATION_HOURS, &v.master.keypair, true, out,
			sizeof(out)), TORCERT_WITH_SIGNING_KEY_LEN);
	assert_memory_equal(out, v.cert.cert, 140);
	assert_int_equal(torcert_create(TORCERT_TYPE_SIGNING,
			TORCERT_KEY_TYPE_ED25519, v.signing.keypair.public_key,
			TOR_CERT_EXPIRATION_HOURS, &v.master.keypair, true, out,
			139), -EMSGSIZE);

	/* A link cert (type 05) without the extension: needs the key. */
	assert_int_equal(torcert_create(TORCERT_TYPE_LINK,
			TORCERT_KEY_TYPE_SHA256_X509, v.master.keypair.public_key,
			TOR_CERT_EXPIRATION_HOURS, &v.signing.keypair, false, out,
			sizeof(out)), TORCERT_MIN_LEN);
	cursor = out;
	assert_int_equal(torcert_parse(&cursor, out + sizeof(out), &cert), 0);
	assert_ptr_equal(cursor, out + TORCERT_MIN_LEN);
	assert_false(cert.has_signing_key);
	assert_int_equal(cert.cert_type, TORCERT_TYPE_LINK);
	assert_int_equal(cert.key_type, TORCERT_KEY_TYPE_SHA256_X509);
	assert_int_equal(torcert_verify(&cert, NULL, TOR_CERT_WRITTEN_AT),
			-EINVAL);
	assert_int_equal(torcert_verify(&cert, v.signing.keypair.public_key,
			TOR_CERT_WRITTEN_AT), 0);
	assert_int_equal(torcert_verify(&cert, v.master.keypair.public_key,
			TOR_CERT_WRITTEN_AT), -EBADMSG);

	assert_int_equal(torcert_hours_from_time(3600), 1);
	assert_int_equal(torcert_hours_from_time(3601), 2);
	assert_int_equal(torcert_hours_from_time(0), 0);
	assert_int_equal(torcert_hours_from_time(
			(time_t)TOR_CERT_EXPIRATION_HOURS * 3600 - 1800),
			TOR_CERT_EXPIRATION_HOURS);
}

/* Builds a signed cert with the given raw extensions. */
static size_t
build_cert(uint8_t *out, uint8_t n_extensions, const uint8_t *extensions,
		size_t extensions_len, const struct ed25519_keypair *signer)
{
	memset(out, 0, TORCERT_HEADER_LEN);
	out[0] = 1;
	out[1] = TORCERT_TYPE_HS_DESC_SIGNING;
	out[2] = 0x00;
	out[3] = 0x07;
	out[4] = 0x9f;
	out[5] = 0xaf;
	out[6] = TORCERT_KEY_TYPE_ED25519;
	memset(out + 7, 0x42, 32);
	out[39] = n_extensions;
	if (extensions_len > 0)
		memcpy(out + TORCERT_HEADER_LEN, extensions, extensions_len);
	assert_int_equal(ed25519_sign(out + TORCERT_HEADER_LEN + extensions_len,
			out, TORCERT_HEADER_LEN + extensions_len, signer), 0);
	return TORCERT_HEADER_LEN + extensions_len + TORCERT_SIGNATURE_LEN;
}

static void
test_extensions(void **state)
{
	struct ed25519_keypair signer;
	uint8_t ext[128], buf[512], copy[512];
	struct torcert cert;
	const uint8_t *cursor;
	size_t len;

	(void)state;
	assert_int_equal(ed25519_keypair_generate(&signer), 0);

	/* Unknown extension without AFFECTS_VALIDATION: ignored. */
	static const uint8_t unknown_ok[] = { 0x00, 0x03, 0x77, 0x00, 1, 2, 3 };
	len = build_cert(buf, 1, unknown_ok, sizeof(unknown_ok), &signer);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), 0);
	assert_false(cert.has_unknown_critical_extension);
	assert_int_equal(torcert_verify(&cert, signer.public_key,
			TOR_CERT_WRITTEN_AT), 0);
	assert_int_equal(torcert_encode(&cert, copy, sizeof(copy)),
			(ssize_t)len);
	assert_memory_equal(copy, buf, len);

	/* Unknown extension with AFFECTS_VALIDATION: never valid. */
	static const uint8_t unknown_critical[] = { 0x00, 0x00, 0x77, 0x01 };
	len = build_cert(buf, 1, unknown_critical, sizeof(unknown_critical),
			&signer);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), 0);
	assert_true(cert.has_unknown_critical_extension);
	assert_int_equal(torcert_verify(&cert, signer.public_key,
			TOR_CERT_WRITTEN_AT), -ENOTSUP);

	/* Extension 04 with AFFECTS_VALIDATION is understood. */
	ext[0] = 0;
	ext[1] = 32;
	ext[2] = TORCERT_EXT_SIGNED_WITH_ED25519_KEY;
	ext[3] = TORCERT_EXT_FLAG_AFFECTS_VALIDATION;
	memcpy(ext + 4, signer.public_key, 32);
	memcpy(ext + 36, unknown_ok, sizeof(unknown_ok));
	len = build_cert(buf, 2, ext, 36 + sizeof(unknown_ok), &signer);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), 0);
	assert_true(cert.has_signing_key);
	assert_int_equal(torcert_verify(&cert, NULL, TOR_CERT_WRITTEN_AT), 0);

	/* Extension 04 of the wrong length. */
	ext[1] = 31;
	len = build_cert(buf, 1, ext, 35, &signer);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), -EINVAL);
	assert_ptr_equal(cursor, buf);
	ext[1] = 33;
	len = build_cert(buf, 1, ext, 37, &signer);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), -EINVAL);

	/* Extension 04 twice. */
	ext[1] = 32;
	memcpy(ext + 36, ext, 36);
	len = build_cert(buf, 2, ext, 72, &signer);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), -EINVAL);

	/* An extension running into the signature is a truncation: with
	 * ExtLength 0xffff there are not enough bytes. */
	static const uint8_t too_long[] = { 0xff, 0xff, 0x77, 0x00 };
	len = build_cert(buf, 1, too_long, sizeof(too_long), &signer);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), -EMSGSIZE);

	/* N_EXTENSIONS larger than what is there. */
	len = build_cert(buf, 3, unknown_ok, sizeof(unknown_ok), &signer);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), -EMSGSIZE);

	/* Version 2. */
	len = build_cert(buf, 0, NULL, 0, &signer);
	buf[0] = 2;
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + len, &cert), -EINVAL);
}

/* Truncation at every length of tor's cert; trailing bytes are left. */
static void
test_truncation(void **state)
{
	struct tor_vectors v;
	struct torcert cert;
	uint8_t buf[TOR_CERT_FILE_BODY_MAX + 8];
	const uint8_t *cursor;
	size_t cut;

	(void)state;
	load_vectors(&v);
	for (cut = 0; cut < v.cert.cert_len; cut++) {
		cursor = v.cert.cert;
		assert_int_equal(torcert_parse(&cursor, v.cert.cert + cut,
				&cert), -EMSGSIZE);
		assert_ptr_equal(cursor, v.cert.cert);
	}
	memcpy(buf, v.cert.cert, v.cert.cert_len);
	memset(buf + v.cert.cert_len, 0xee, 8);
	cursor = buf;
	assert_int_equal(torcert_parse(&cursor, buf + v.cert.cert_len + 8,
			&cert), 0);
	assert_ptr_equal(cursor, buf + v.cert.cert_len);
	assert_int_equal(torcert_verify(&cert, NULL, TOR_CERT_WRITTEN_AT), 0);
}

static struct rsa_identity *
load_rsa(const char *name)
{
	char path[1024];
	struct rsa_identity *key = NULL;

	vector_path(path, sizeof(path), name);
	assert_int_equal(rsa_identity_load(path, &key), 0);
	return key;
}

static void
test_rsa_crosscert(void **state)
{
	struct tor_vectors v;
	struct rsa_identity *identity = load_rsa("secret_id_key");
	struct rsa_identity *onion = load_rsa("secret_onion_key");
	struct rsa_ed25519_crosscert cross;
	uint8_t out[300], copy[300], signed_part[200], digest[32];
	const uint8_t *cursor;
	ssize_t len;
	size_t cut, prefix_len = strlen(RSA_CROSSCERT_PREFIX);
	time_t expiry;

	(void)state;
	load_vectors(&v);
	len = rsa_ed25519_crosscert_create(v.master_public.public_key,
			TOR_CERT_EXPIRATION_HOURS, identity, out, sizeof(out));
	assert_int_equal(len, 32 + 4 + 1 + 128);
	assert_memory_equal(out, v.master_public.public_key, 32);
	assert_int_equal(out[32], 0x00);
	assert_int_equal(out[33], 0x07);
	assert_int_equal(out[34], 0x9f);
	assert_int_equal(out[35], 0xaf);
	assert_int_equal(out[36], 128);

	/* Independently: the signature is over SHA-256 of the prefix and the
	 * first 36 bytes, as a bare digest. */
	memcpy(signed_part, RSA_CROSSCERT_PREFIX, prefix_len);
	memcpy(signed_part + prefix_len, out, 36);
	assert_int_equal(EVP_Digest(signed_part, prefix_len + 36, digest, NULL,
			EVP_sha256(), NULL), 1);
	assert_int_equal(rsa_identity_verify_digest(identity, digest, 32,
			out + 37, 128), 0);

	cursor = out;
	assert_int_equal(rsa_ed25519_crosscert_parse(&cursor, out + len,
			&cross), 0);
	assert_ptr_equal(cursor, out + len);
	assert_int_equal(cross.expiration_hours, TOR_CERT_EXPIRATION_HOURS);
	assert_int_equal(cross.signature_len, 128);
	assert_int_equal(rsa_ed25519_crosscert_encode(&cross, copy,
			sizeof(copy)), len);
	assert_memory_equal(copy, out, (size_t)len);
	assert_int_equal(rsa_ed25519_crosscert_encode(&cross, copy,
			(size_t)len - 1), -EMSGSIZE);

	assert_int_equal(rsa_ed25519_crosscert_verify(&cross, identity,
			TOR_CERT_WRITTEN_AT), 0);
	expiry = (time_t)TOR_CERT_EXPIRATION_HOURS * 3600;
	assert_int_equal(rsa_ed25519_crosscert_verify(&cross, identity,
			expiry), 0);
	assert_int_equal(rsa_ed25519_crosscert_verify(&cross, identity,
			expiry + 1), -EKEYEXPIRED);
	assert_int_equal(rsa_ed25519_crosscert_verify(&cross, onion,
			TOR_CERT_WRITTEN_AT), -EBADMSG);
	cross.ed25519_key[0] ^= 1;
	assert_int_equal(rsa_ed25519_crosscert_verify(&cross, identity,
			TOR_CERT_WRITTEN_AT), -EBADMSG);
	cross.ed25519_key[0] ^= 1;
	cross.expiration_hours++;
	assert_int_equal(rsa_ed25519_crosscert_verify(&cross, identity,
			TOR_CERT_WRITTEN_AT), -EBADMSG);
	cross.expiration_hours--;
	cross.signature_len = 127;
	assert_int_equal(rsa_ed25519_crosscert_verify(&cross, identity,
			TOR_CERT_WRITTEN_AT), -EBADMSG);

	/* Truncation at every length. */
	for (cut = 0; cut < (size_t)len; cut++) {
		cursor = out;
		assert_int_equal(rsa_ed25519_crosscert_parse(&cursor, out + cut,
				&cross), -EMSGSIZE);
		assert_ptr_equal(cursor, out);
	}
	/* SIGLEN 0 parses but never verifies. */
	out[36] = 0;
	cursor = out;
	assert_int_equal(rsa_ed25519_crosscert_parse(&cursor, out + 37,
			&cross), 0);
	assert_int_equal(rsa_ed25519_crosscert_verify(&cross, identity,
			TOR_CERT_WRITTEN_AT), -EBADMSG);
	assert_int_equal(rsa_ed25519_crosscert_create(v.master_public.public_key,
			1, identity, out, 164), -EMSGSIZE);

	rsa_identity_free(identity);
	rsa_identity_free(onion);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_tor_cert),
		cmocka_unit_test(test_create_matches_tor),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_rsa_crosscert),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	vector_dir = argv[1];
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
