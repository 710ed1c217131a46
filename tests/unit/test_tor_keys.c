/* Ed25519 with expanded keys (RFC 8032 7.1 vectors, cross-checked against
 * libsodium's seed-based signing) and tor's tagged key files, including the
 * files a real tor 0.4.9 wrote (tests/unit/vectors/tor-0.4.9-relay). */
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

#include <sodium.h>

#include "crypto/tor_keys.h"

static const char *vector_dir;

static void
hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t bin_len = 0;

	assert_int_equal(strlen(hex), 2 * len);
	assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL,
			&bin_len, NULL), 0);
	assert_int_equal(bin_len, len);
}

static size_t
read_vector(const char *name, uint8_t *buf, size_t buf_len)
{
	char path[1024];
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", vector_dir, name);
	assert_int_equal(tor_key_file_read(path, buf, buf_len, &len), 0);
	return len;
}

static void
vector_path(char *path, size_t path_len, const char *name)
{
	snprintf(path, path_len, "%s/%s", vector_dir, name);
}

/* RFC 8032 section 7.1, TEST 1, TEST 2, TEST 3. */
static const struct {
	const char *secret, *public_key, *message, *signature;
} rfc8032[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
	  "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
	  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

static void
test_rfc8032_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc8032) / sizeof(rfc8032[0]); i++) {
		uint8_t seed[32], public_key[32], expected[64], message[2];
		uint8_t signature[64], sodium_pk[32], sodium_sk[64];
		size_t message_len = strlen(rfc8032[i].message) / 2;
		struct ed25519_keypair key;

		hex_decode(rfc8032[i].secret, seed, 32);
		hex_decode(rfc8032[i].public_key, public_key, 32);
		hex_decode(rfc8032[i].signature, expected, 64);
		hex_decode(rfc8032[i].message, message, message_len);

		assert_int_equal(ed25519_keypair_from_seed(&key, seed), 0);
		assert_memory_equal(key.public_key, public_key, 32);
		assert_int_equal(ed25519_sign(signature, message, message_len,
				&key), 0);
		assert_memory_equal(signature, expected, 64);
		assert_int_equal(ed25519_verify(signature, message,
				message_len, public_key), 0);

		/* libsodium's own seed-based signer agrees. */
		crypto_sign_seed_keypair(sodium_pk, sodium_sk, seed);
		assert_memory_equal(sodium_pk, public_key, 32);
		crypto_sign_detached(signature, NULL, message, message_len,
				sodium_sk);
		assert_memory_equal(signature, expected, 64);

		/* Any flipped bit of the signature is rejected. */
		signature[i * 7] ^= 0x10;
		assert_int_equal(ed25519_verify(signature, message,
				message_len, public_key), -EBADMSG);
		signature[i * 7] ^= 0x10;
		signature[32 + i] ^= 0x01;
		assert_int_equal(ed25519_verify(signature, message,
				message_len, public_key), -EBADMSG);
	}
}

/* Random seeds and messages: the expanded-key signer is byte-identical to
 * libsodium's seed signer. */
static void
test_expanded_matches_libsodium(void **state)
{
	unsigned round;

	(void)state;
	for (round = 0; round < 64; round++) {
		uint8_t seed[32], message[300], sodium_pk[32], sodium_sk[64];
		uint8_t ours[64], theirs[64];
		size_t message_len = round * 4 + (round & 3);
		struct ed25519_keypair key;

		randombytes_buf(seed, sizeof(seed));
		randombytes_buf(message, sizeof(message));
		assert_int_equal(ed25519_keypair_from_seed(&key, seed), 0);
		crypto_sign_seed_keypair(sodium_pk, sodium_sk, seed);
		assert_memory_equal(key.public_key, sodium_pk, 32);
		assert_int_equal(ed25519_sign(ours, message, message_len,
				&key), 0);
		crypto_sign_detached(theirs, NULL, message, message_len,
				sodium_sk);
		assert_memory_equal(ours, theirs, 64);
	}
}

/* An expanded key that has no seed (like an onion-service blinded key):
 * the public key is [a]B and libsodium verifies the signatures. */
static void
test_expanded_without_seed(void **state)
{
	uint8_t secret[64], signature[64], message[] = "blinded";
	struct ed25519_keypair key, generated;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	secret[0] &= 248;
	secret[31] &= 63;
	secret[31] |= 64;
	assert_int_equal(ed25519_keypair_from_expanded(&key, secret), 0);
	assert_int_equal(ed25519_sign(signature, message, sizeof(message),
			&key), 0);
	assert_int_equal(crypto_sign_verify_detached(signature, message,
			sizeof(message), key.public_key), 0);

	/* A zero scalar is not a key. */
	memset(secret, 0, 32);
	assert_int_equal(ed25519_keypair_from_expanded(&key, secret),
			-EINVAL);

	assert_int_equal(ed25519_keypair_generate(&generated), 0);
	assert_int_equal(ed25519_sign(signature, message, sizeof(message),
			&generated), 0);
	assert_int_equal(ed25519_verify(signature, message, sizeof(message),
			generated.public_key), 0);
}

/* The files tor wrote: the master secret derives the master public key in
 * ed25519_master_id_public_key and fingerprint-ed25519; the files re-encode
 * byte for byte. */
static void
test_real_tor_key_files(void **state)
{
	static const char *const names[] = {
		"ed25519_master_id_secret_key", "ed25519_signing_secret_key",
		"ed25519_master_id_public_key", "ed25519_signing_cert",
		"secret_onion_key_ntor",
	};
	uint8_t file[512], encoded[512], signature[64];
	struct ed25519_secret_key_file master, signing;
	struct ed25519_public_key_file master_public;
	struct ed25519_cert_file cert;
	struct curve25519_key_file ntor;
	char path[1024], b64[64], line[128], expected_line[128];
	size_t len, i;
	ssize_t n;
	const uint8_t *cursor;
	FILE *f;

	(void)state;
	vector_path(path, sizeof(path), "ed25519_master_id_secret_key");
	assert_int_equal(ed25519_secret_key_file_load(path, &master), 0);
	assert_string_equal(master.tag, TOR_KEY_FILE_TAG_MASTER);
	vector_path(path, sizeof(path), "ed25519_signing_secret_key");
	assert_int_equal(ed25519_secret_key_file_load(path, &signing), 0);
	assert_string_equal(signing.tag, TOR_KEY_FILE_TAG_SIGNING);
	vector_path(path, sizeof(path), "ed25519_master_id_public_key");
	assert_int_equal(ed25519_public_key_file_load(path, &master_public),
			0);
	assert_string_equal(master_public.tag, TOR_KEY_FILE_TAG_MASTER);
	assert_memory_equal(master.keypair.public_key,
			master_public.public_key, 32);
	vector_path(path, sizeof(path), "ed25519_signing_cert");
	assert_int_equal(ed25519_cert_file_load(path, &cert), 0);
	assert_string_equal(cert.tag, "type4");
	assert_int_equal(cert.cert_len, 140);
	vector_path(path, sizeof(path), "secret_onion_key_ntor");
	assert_int_equal(curve25519_key_file_load(path, &ntor), 0);
	assert_string_equal(ntor.tag, TOR_KEY_FILE_TAG_NTOR);

	/* fingerprint-ed25519 is "nickname base64(master)" without padding. */
	sodium_bin2base64(b64, sizeof(b64), master.keypair.public_key, 32,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(expected_line, sizeof(expected_line), "hsrelaytest %s\n", b64);
	vector_path(path, sizeof(path), "fingerprint-ed25519");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, expected_line);

	/* Sign with tor's expanded signing key. */
	assert_int_equal(ed25519_sign(signature, (const uint8_t *)b64,
			strlen(b64), &signing.keypair), 0);
	assert_int_equal(crypto_sign_verify_detached(signature,
			(const uint8_t *)b64, strlen(b64),
			signing.keypair.public_key), 0);

	/* Re-encoding the parsed files reproduces tor's bytes. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		len = read_vector(names[i], file, sizeof(file));
		cursor = file;
		switch (i) {
		case 0:
		case 1:
			assert_int_equal(ed25519_secret_key_file_parse(&cursor,
					file + len, &master), 0);
			n = ed25519_secret_key_file_encode(&master, encoded,
					sizeof(encoded));
			break;
		case 2:
			assert_int_equal(ed25519_public_key_file_parse(&cursor,
					file + len, &master_public), 0);
			n = ed25519_public_key_file_encode(&master_public,
					encoded, sizeof(encoded));
			break;
		case 3:
			assert_int_equal(ed25519_cert_file_parse(&cursor,
					file + len, &cert), 0);
			n = ed25519_cert_file_encode(&cert, encoded,
					sizeof(encoded));
			break;
		default:
			assert_int_equal(curve25519_key_file_parse(&cursor,
					file + len, &ntor), 0);
			n = curve25519_key_file_encode(&ntor, encoded,
					sizeof(encoded));
			break;
		}
		assert_ptr_equal(cursor, file + len);
		assert_int_equal(n, (ssize_t)len);
		assert_memory_equal(encoded, file, len);
		/* One byte short of the output is refused. */
		switch (i) {
		case 0:
		case 1:
			n = ed25519_secret_key_file_encode(&master, encoded,
					len - 1);
			break;
		case 2:
			n = ed25519_public_key_file_encode(&master_public,
					encoded, len - 1);
			break;
		case 3:
			n = ed25519_cert_file_encode(&cert, encoded, len - 1);
			break;
		default:
			n = curve25519_key_file_encode(&ntor, encoded, len - 1);
			break;
		}
		assert_int_equal(n, -EMSGSIZE);
	}
}

static void
test_tagged_file_header(void **state)
{
	static const uint8_t good[] = "== ed25519v1-public: type0 ==\0\0";
	uint8_t buf[64];
	struct tor_tagged_file file;
	const uint8_t *cursor;
	size_t len;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, good, 32);
	memset(buf + 32, 0xab, 5);
	cursor = buf;
	assert_int_equal(tor_tagged_file_parse(&cursor, buf + 37, &file), 0);
	assert_string_equal(file.type, "ed25519v1-public");
	assert_string_equal(file.tag, "type0");
	assert_ptr_equal(file.body, buf + 32);
	assert_int_equal(file.body_len, 5);
	assert_ptr_equal(cursor, buf + 37);

	/* Truncated headers, cursor untouched. */
	for (len = 0; len < 32; len++) {
		cursor = buf;
		assert_int_equal(tor_tagged_file_parse(&cursor, buf + len,
				&file), -EMSGSIZE);
		assert_ptr_equal(cursor, buf);
	}

	/* Malformed headers. */
	static const char *const bad[] = {
		"=! ed25519v1-public: type0 ==",    /* prefix */
		"== ed25519v1-public: type0 =",     /* suffix */
		"== ed25519v1-public type0 ==",     /* no ": " */
		"== : type0 ==",                    /* empty type */
		"== a: ==",                         /* separator overlaps */
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, bad[i], strlen(bad[i]));
		cursor = buf;
		assert_int_equal(tor_tagged_file_parse(&cursor, buf + 40,
				&file), -EINVAL);
		assert_ptr_equal(cursor, buf);
	}
	/* A non-NUL byte after the header text. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, good, 32);
	buf[31] = 'x';
	cursor = buf;
	assert_int_equal(tor_tagged_file_parse(&cursor, buf + 40, &file),
			-EINVAL);
	/* 32 bytes of text with no NUL. */
	memcpy(buf, "== ed25519v1-public: type0000 ==", 32);
	cursor = buf;
	assert_int_equal(tor_tagged_file_parse(&cursor, buf + 40, &file),
			-EINVAL);

	/* An empty tag round-trips. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "== x:  ==", 9);
	cursor = buf;
	assert_int_equal(tor_tagged_file_parse(&cursor, buf + 32, &file), 0);
	assert_string_equal(file.type, "x");
	assert_string_equal(file.tag, "");
	uint8_t encoded[64];
	assert_int_equal(tor_tagged_file_encode(&file, encoded,
			sizeof(encoded)), 32);
	assert_memory_equal(encoded, buf, 32);

	/* Encoding refuses a header that would not leave a NUL. */
	memset(&file, 0, sizeof(file));
	strcpy(file.type, "ed25519v1-public");
	strcpy(file.tag, "type0000");
	assert_int_equal(tor_tagged_file_encode(&file, encoded,
			sizeof(encoded)), -EINVAL);
	strcpy(file.tag, "type000");
	assert_int_equal(tor_tagged_file_encode(&file, encoded,
			sizeof(encoded)), 32);
	file.type[0] = '\0';
	assert_int_equal(tor_tagged_file_encode(&file, encoded,
			sizeof(encoded)), -EINVAL);
}

/* Each typed parser rejects every body length but its own, the wrong type
 * string and a mismatched curve25519 public key. */
static void
test_typed_files_malformed(void **state)
{
	uint8_t file[512] = { 0 };
	size_t len, cut;
	const uint8_t *cursor;
	struct ed25519_secret_key_file secret;
	struct ed25519_public_key_file public_file;
	struct ed25519_cert_file cert;
	struct curve25519_key_file ntor;

	(void)state;
	len = read_vector("ed25519_master_id_secret_key", file, sizeof(file));
	for (cut = 0; cut < len; cut++) {
		cursor = file;
		assert_true(ed25519_secret_key_file_parse(&cursor, file + cut,
				&secret) < 0);
		assert_ptr_equal(cursor, file);
	}
	cursor = file;
	assert_int_equal(ed25519_secret_key_file_parse(&cursor, file + len + 1,
			&secret), -EINVAL);
	cursor = file;
	assert_int_equal(ed25519_public_key_file_parse(&cursor, file + len,
			&public_file), -EINVAL);
	/* Zero scalar. */
	memset(file + 32, 0, 32);
	cursor = file;
	assert_int_equal(ed25519_secret_key_file_parse(&cursor, file + len,
			&secret), -EINVAL);

	len = read_vector("ed25519_master_id_public_key", file, sizeof(file));
	for (cut = 0; cut < len; cut++) {
		cursor = file;
		assert_true(ed25519_public_key_file_parse(&cursor, file + cut,
				&public_file) < 0);
		assert_ptr_equal(cursor, file);
	}

	len = read_vector("ed25519_signing_cert", file, sizeof(file));
	cursor = file;
	assert_int_equal(ed25519_cert_file_parse(&cursor, file + 32, &cert),
			-EINVAL);
	cursor = file;
	assert_int_equal(ed25519_cert_file_parse(&cursor, file + 32 + 257,
			&cert), -EINVAL);

	len = read_vector("secret_onion_key_ntor", file, sizeof(file));
	for (cut = 0; cut < len; cut++) {
		cursor = file;
		assert_true(curve25519_key_file_parse(&cursor, file + cut,
				&ntor) < 0);
		assert_ptr_equal(cursor, file);
	}
	file[len - 1] ^= 1;
	cursor = file;
	assert_int_equal(curve25519_key_file_parse(&cursor, file + len, &ntor),
			-EINVAL);
}

/* Stored files are mode 0600 whatever the umask, and load back. */
static void
test_store_and_load(void **state)
{
	char dir[] = "/tmp/hsrelay-tor-keys-XXXXXX";
	char path[256];
	struct ed25519_secret_key_file secret, loaded;
	struct curve25519_key_file ntor, ntor_loaded;
	struct ed25519_cert_file cert, cert_loaded;
	struct stat st;
	mode_t old_umask;
	uint8_t buf[8];
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&secret, 0, sizeof(secret));
	strcpy(secret.tag, TOR_KEY_FILE_TAG_MASTER);
	assert_int_equal(ed25519_keypair_generate(&secret.keypair), 0);
	snprintf(path, sizeof(path), "%s/ed25519_master_id_secret_key", dir);
	old_umask = umask(0);
	assert_int_equal(ed25519_secret_key_file_store(path, &secret), 0);
	umask(old_umask);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 96);
	assert_int_equal(ed25519_secret_key_file_load(path, &loaded), 0);
	assert_memory_equal(&loaded.keypair, &secret.keypair,
			sizeof(secret.keypair));
	/* A buffer one byte too small. */
	assert_int_equal(tor_key_file_read(path, buf, sizeof(buf), &len),
			-EMSGSIZE);
	unlink(path);

	memset(&ntor, 0, sizeof(ntor));
	strcpy(ntor.tag, TOR_KEY_FILE_TAG_NTOR);
	assert_int_equal(curve25519_keypair_generate(&ntor.keypair), 0);
	snprintf(path, sizeof(path), "%s/secret_onion_key_ntor", dir);
	assert_int_equal(curve25519_key_file_store(path, &ntor), 0);
	assert_int_equal(curve25519_key_file_load(path, &ntor_loaded), 0);
	assert_memory_equal(&ntor_loaded.keypair, &ntor.keypair,
			sizeof(ntor.keypair));
	unlink(path);

	memset(&cert, 0, sizeof(cert));
	strcpy(cert.tag, TOR_KEY_FILE_TAG_SIGNING);
	cert.cert_len = 104;
	randombytes_buf(cert.cert, cert.cert_len);
	snprintf(path, sizeof(path), "%s/ed25519_signing_cert", dir);
	assert_int_equal(ed25519_cert_file_store(path, &cert), 0);
	assert_int_equal(ed25519_cert_file_load(path, &cert_loaded), 0);
	assert_int_equal(cert_loaded.cert_len, 104);
	assert_memory_equal(cert_loaded.cert, cert.cert, 104);
	unlink(path);

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(ed25519_cert_file_load(path, &cert_loaded), -ENOENT);
	assert_int_equal(rmdir(dir), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8032_vectors),
		cmocka_unit_test(test_expanded_matches_libsodium),
		cmocka_unit_test(test_expanded_without_seed),
		cmocka_unit_test(test_real_tor_key_files),
		cmocka_unit_test(test_tagged_file_header),
		cmocka_unit_test(test_typed_files_malformed),
		cmocka_unit_test(test_store_and_load),
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
