/* control/relay_keys: creation with tor's file names and modes, reload,
 * tor 0.4.9's own key files (tests/unit/vectors/tor-0.4.9-relay), the
 * rotation schedule in virtual time, and errors that name the file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "control/relay_keys.h"
#include "crypto/kdf.h"
#include "crypto/ntor.h"
#include "crypto/rsa_identity.h"
#include "crypto/torcert.h"
#include "relay_test_util.h"

static const char *vector_dir;

/* 2026-12-01 00:00:00 UTC, on an hour boundary so certificate expiry hours
 * are exact. */
#define T0 ((time_t)1796083200)
#define DAY RELAY_KEYS_DAY

static char datadir[256];

static int
setup(void **state)
{
	(void)state;
	test_datadir_name(datadir, sizeof(datadir));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	test_remove_tree(datadir);
	return 0;
}

static void
key_file(char *out, size_t out_len, const char *name)
{
	snprintf(out, out_len, "%s/keys/%s", datadir, name);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static bool
exists(const char *name)
{
	char path[512];
	struct stat st;

	key_file(path, sizeof(path), name);
	return stat(path, &st) == 0;
}

static time_t
mtime_of(const char *name)
{
	char path[512];
	struct stat st;

	key_file(path, sizeof(path), name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mtime;
}

static void
set_mtime(const char *name, time_t when)
{
	char path[512];
	struct timespec times[2] = {
		{ .tv_sec = when }, { .tv_sec = when },
	};

	key_file(path, sizeof(path), name);
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static size_t
public_der(const struct rsa_identity *key, uint8_t *out)
{
	ssize_t len = rsa_identity_public_der(key, out, RSA_PUBLIC_DER_MAX);

	assert_true(len > 0);
	return (size_t)len;
}

static void
assert_same_rsa(const struct rsa_identity *a, const struct rsa_identity *b)
{
	uint8_t der_a[RSA_PUBLIC_DER_MAX], der_b[RSA_PUBLIC_DER_MAX];
	size_t len_a = public_der(a, der_a), len_b = public_der(b, der_b);

	assert_int_equal(len_a, len_b);
	assert_memory_equal(der_a, der_b, len_a);
}

static bool
same_rsa(const struct rsa_identity *a, const struct rsa_identity *b)
{
	uint8_t der_a[RSA_PUBLIC_DER_MAX], der_b[RSA_PUBLIC_DER_MAX];
	size_t len_a = public_der(a, der_a), len_b = public_der(b, der_b);

	return len_a == len_b && memcmp(der_a, der_b, len_a) == 0;
}

/* The signing certificate: type 04 by the master key, certifying the
 * signing key, expiring at the given hour. */
static void
assert_signing_cert(const struct relay_keys *keys, uint32_t hours)
{
	const uint8_t *cert_bytes;
	struct torcert cert;
	size_t len;

	cert_bytes = relay_keys_signing_cert(keys, &len);
	assert_int_equal(torcert_parse(&cert_bytes, cert_bytes + len, &cert), 0);
	assert_int_equal(cert.cert_type, TORCERT_TYPE_SIGNING);
	assert_true(cert.has_signing_key);
	assert_memory_equal(cert.signing_key,
			relay_keys_master(keys)->public_key, 32);
	assert_memory_equal(cert.certified_key,
			relay_keys_signing(keys)->public_key, 32);
	assert_int_equal(cert.expiration_hours, hours);
	assert_int_equal(torcert_verify(&cert, NULL, (time_t)hours * 3600), 0);
}

static struct relay_keys *
load(time_t now)
{
	struct relay_keys *keys = NULL;
	struct relay_keys_error err;
	int rc = relay_keys_load_or_create(datadir, now, &keys, &err);

	if (rc != 0)
		fail_msg("%s: %s (%d)", err.path, err.message, rc);
	return keys;
}

static void
test_create(void **state)
{
	struct relay_keys *keys;
	uint8_t der[RSA_PUBLIC_DER_MAX], sha1[20];
	char path[512];
	size_t i, len;

	(void)state;
	keys = load(T0);
	assert_int_equal(mode_of(datadir), 0700);
	snprintf(path, sizeof(path), "%s/keys", datadir);
	assert_int_equal(mode_of(path), 0700);
	for (i = 0; i < RELAY_KEY_FILE_COUNT; i++) {
		key_file(path, sizeof(path), relay_key_files[i]);
		assert_int_equal(mode_of(path), 0600);
	}
	assert_false(exists("secret_onion_key.old"));
	assert_false(exists("secret_onion_key_ntor.old"));
	assert_false(exists("secret_id_key.tmp"));

	assert_int_equal(rsa_identity_check_tor_params(relay_keys_identity(keys)), 0);
	assert_int_equal(rsa_identity_check_tor_params(relay_keys_tap_onion_key(keys)), 0);
	assert_false(same_rsa(relay_keys_identity(keys), relay_keys_tap_onion_key(keys)));
	len = public_der(relay_keys_identity(keys), der);
	assert_int_equal(kdf_sha1(der, len, sha1), 0);
	assert_memory_equal(relay_keys_fingerprint(keys), sha1, 20);
	/* SigningKeyLifetime 30 days from creation, rounded up to the hour. */
	assert_signing_cert(keys, (uint32_t)((T0 + 30 * DAY) / 3600));
	assert_int_equal(relay_keys_signing_cert_valid_until(keys), T0 + 30 * DAY);
	assert_null(relay_keys_tap_onion_key_previous(keys));
	assert_null(relay_keys_ntor_onion_key_previous(keys));
	assert_int_equal(relay_keys_onion_key_set_at(keys), T0);
	assert_int_equal(mtime_of("secret_onion_key_ntor"), T0);
	relay_keys_free(keys);
}

static void
test_reload_identical(void **state)
{
	struct relay_keys *first, *second;
	const uint8_t *cert_a, *cert_b;
	size_t len_a, len_b;
	uint8_t *before[RELAY_KEY_FILE_COUNT];
	size_t before_len[RELAY_KEY_FILE_COUNT], i;
	char path[512];

	(void)state;
	first = load(T0);
	for (i = 0; i < RELAY_KEY_FILE_COUNT; i++) {
		key_file(path, sizeof(path), relay_key_files[i]);
		before[i] = test_read_file(path, &before_len[i]);
		assert_non_null(before[i]);
	}
	second = load(T0 + 3600);
	assert_memory_equal(relay_keys_fingerprint(first),
			relay_keys_fingerprint(second), 20);
	assert_same_rsa(relay_keys_identity(first), relay_keys_identity(second));
	assert_same_rsa(relay_keys_tap_onion_key(first),
			relay_keys_tap_onion_key(second));
	assert_memory_equal(relay_keys_master(first),
			relay_keys_master(second), sizeof(struct ed25519_keypair));
	assert_memory_equal(relay_keys_signing(first),
			relay_keys_signing(second), sizeof(struct ed25519_keypair));
	assert_memory_equal(relay_keys_ntor_onion_key(first),
			relay_keys_ntor_onion_key(second),
			sizeof(struct curve25519_keypair));
	cert_a = relay_keys_signing_cert(first, &len_a);
	cert_b = relay_keys_signing_cert(second, &len_b);
	assert_int_equal(len_a, len_b);
	assert_memory_equal(cert_a, cert_b, len_a);
	/* A loaded certificate counts until its (rounded) expiry hour. */
	assert_int_equal(relay_keys_signing_cert_valid_until(second), T0 + 30 * DAY);
	assert_int_equal(relay_keys_onion_key_set_at(second), T0);
	/* Loading rewrote nothing. */
	for (i = 0; i < RELAY_KEY_FILE_COUNT; i++) {
		size_t len;
		uint8_t *after;

		key_file(path, sizeof(path), relay_key_files[i]);
		after = test_read_file(path, &len);
		assert_int_equal(len, before_len[i]);
		assert_memory_equal(after, before[i], len);
		free(after);
		free(before[i]);
	}
	relay_keys_free(first);
	relay_keys_free(second);
}

/* Reads "NICK VALUE\n" from a fingerprint file. */
static void
read_fingerprint_file(const char *dir, const char *name, char *out,
		size_t out_len)
{
	char path[512];
	uint8_t *data;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	data = test_read_file(path, &len);
	assert_non_null(data);
	snprintf(out, out_len, "%s", (const char *)data);
	free(data);
}

static void
test_tor_vectors(void **state)
{
	/* The vector's signing cert expires 2026-12-30 23:00; load it well
	 * before the renewal window. */
	const time_t now = T0;
	struct relay_keys *keys;
	char expected[128], ours[128];
	uint8_t *before[RELAY_KEY_FILE_COUNT];
	size_t before_len[RELAY_KEY_FILE_COUNT], i;
	char path[512];

	(void)state;
	test_datadir_from_vectors(vector_dir, datadir);
	for (i = 0; i < RELAY_KEY_FILE_COUNT; i++) {
		key_file(path, sizeof(path), relay_key_files[i]);
		before[i] = test_read_file(path, &before_len[i]);
	}
	keys = load(now);
	assert_int_equal(relay_keys_write_fingerprint_files(keys, datadir,
			"hsrelaytest", NULL), 0);
	read_fingerprint_file(vector_dir, "fingerprint", expected,
			sizeof(expected));
	read_fingerprint_file(datadir, "fingerprint", ours, sizeof(ours));
	assert_string_equal(ours, expected);
	read_fingerprint_file(vector_dir, "fingerprint-ed25519", expected,
			sizeof(expected));
	read_fingerprint_file(datadir, "fingerprint-ed25519", ours, sizeof(ours));
	assert_string_equal(ours, expected);
	/* tor's cert, loaded as is (README: expires at hour 499631). */
	assert_signing_cert(keys, 499631);
	assert_int_equal(relay_keys_signing_cert_valid_until(keys),
			(time_t)499631 * 3600);
	/* Nothing of tor's was rewritten. */
	for (i = 0; i < RELAY_KEY_FILE_COUNT; i++) {
		size_t len;
		uint8_t *after;

		key_file(path, sizeof(path), relay_key_files[i]);
		after = test_read_file(path, &len);
		assert_int_equal(len, before_len[i]);
		assert_memory_equal(after, before[i], len);
		free(after);
		free(before[i]);
	}
	relay_keys_free(keys);

	/* The rotation clock is the ntor key's modification time; one in the
	 * future restarts it at now (and is written back), one in the past
	 * is kept. */
	set_mtime("secret_onion_key_ntor", now + 100);
	keys = load(now);
	assert_int_equal(relay_keys_onion_key_set_at(keys), now);
	assert_int_equal(mtime_of("secret_onion_key_ntor"), now);
	relay_keys_free(keys);
	set_mtime("secret_onion_key_ntor", now - 5 * DAY);
	keys = load(now);
	assert_int_equal(relay_keys_onion_key_set_at(keys), now - 5 * DAY);
	relay_keys_free(keys);
}

static int
rotate(struct relay_keys *keys, time_t now)
{
	struct relay_keys_error err;
	int rc = relay_keys_rotate_if_due(keys, now, &err);

	if (rc < 0)
		fail_msg("%s: %s (%d)", err.path, err.message, rc);
	return rc;
}

static void
test_rotation_schedule(void **state)
{
	struct relay_keys *keys, *reloaded;
	struct curve25519_keypair ntor_first, ntor_second;
	struct ed25519_keypair signing_first;
	struct rsa_identity *tap_first;
	uint8_t tap_der[RSA_PUBLIC_DER_MAX], master[32];
	size_t tap_len;
	char path[512];

	(void)state;
	keys = load(T0);
	ntor_first = *relay_keys_ntor_onion_key(keys);
	signing_first = *relay_keys_signing(keys);
	memcpy(master, relay_keys_master(keys)->public_key, 32);
	tap_len = public_der(relay_keys_tap_onion_key(keys), tap_der);
	assert_int_equal(rsa_identity_from_public_der(tap_der, tap_len,
			&tap_first), 0);

	/* Onion keys: rotated exactly 28 days after they were made. */
	assert_int_equal(rotate(keys, T0 + 28 * DAY - 1), 0);
	assert_false(exists("secret_onion_key_ntor.old"));
	assert_memory_equal(relay_keys_ntor_onion_key(keys), &ntor_first,
			sizeof(ntor_first));
	assert_int_equal(rotate(keys, T0 + 28 * DAY), 1);
	assert_memory_not_equal(relay_keys_ntor_onion_key(keys)->public_key,
			ntor_first.public_key, 32);
	assert_non_null(relay_keys_ntor_onion_key_previous(keys));
	assert_memory_equal(relay_keys_ntor_onion_key_previous(keys),
			&ntor_first, sizeof(ntor_first));
	assert_non_null(relay_keys_tap_onion_key_previous(keys));
	assert_same_rsa(relay_keys_tap_onion_key_previous(keys), tap_first);
	assert_false(same_rsa(relay_keys_tap_onion_key(keys), tap_first));
	assert_int_equal(relay_keys_onion_key_set_at(keys), T0 + 28 * DAY);
	assert_int_equal(mtime_of("secret_onion_key_ntor"), T0 + 28 * DAY);
	key_file(path, sizeof(path), "secret_onion_key.old");
	assert_int_equal(mode_of(path), 0600);
	key_file(path, sizeof(path), "secret_onion_key_ntor.old");
	assert_int_equal(mode_of(path), 0600);
	/* The signing key did not change with the onion keys. */
	assert_memory_equal(relay_keys_signing(keys), &signing_first,
			sizeof(signing_first));
	ntor_second = *relay_keys_ntor_onion_key(keys);

	/* A restart keeps the rotation clock and the previous keys. */
	reloaded = load(T0 + 28 * DAY + 10);
	assert_int_equal(relay_keys_onion_key_set_at(reloaded), T0 + 28 * DAY);
	assert_memory_equal(relay_keys_ntor_onion_key(reloaded), &ntor_second,
			sizeof(ntor_second));
	assert_non_null(relay_keys_ntor_onion_key_previous(reloaded));
	assert_memory_equal(relay_keys_ntor_onion_key_previous(reloaded),
			&ntor_first, sizeof(ntor_first));
	assert_same_rsa(relay_keys_tap_onion_key_previous(reloaded), tap_first);
	relay_keys_free(reloaded);

	/* Signing key: renewed once the cert (valid until T0 + 30 d) expires
	 * within a day, i.e. valid_until < now + 1 d. */
	assert_int_equal(rotate(keys, T0 + 29 * DAY), 0);
	assert_memory_equal(relay_keys_signing(keys), &signing_first,
			sizeof(signing_first));
	assert_int_equal(rotate(keys, T0 + 29 * DAY + 1), 1);
	assert_memory_not_equal(relay_keys_signing(keys)->public_key,
			signing_first.public_key, 32);
	assert_memory_equal(relay_keys_master(keys)->public_key, master, 32);
	assert_signing_cert(keys,
			torcert_hours_from_time(T0 + 29 * DAY + 1 + 30 * DAY));
	assert_int_equal(relay_keys_signing_cert_valid_until(keys),
			T0 + 59 * DAY + 1);
	/* ... and what is on disk is the new pair. */
	reloaded = load(T0 + 29 * DAY + 2);
	assert_memory_equal(relay_keys_signing(reloaded), relay_keys_signing(keys),
			sizeof(struct ed25519_keypair));
	relay_keys_free(reloaded);

	/* Previous onion keys: kept for 7 days after the rotation, then
	 * deleted; that does not change the descriptor. */
	assert_int_equal(rotate(keys, T0 + 35 * DAY - 1), 0);
	assert_non_null(relay_keys_ntor_onion_key_previous(keys));
	assert_true(exists("secret_onion_key_ntor.old"));
	assert_int_equal(rotate(keys, T0 + 35 * DAY), 0);
	assert_null(relay_keys_ntor_onion_key_previous(keys));
	assert_null(relay_keys_tap_onion_key_previous(keys));
	assert_false(exists("secret_onion_key_ntor.old"));
	assert_false(exists("secret_onion_key.old"));

	/* The next rotation, 28 days after the last one. */
	assert_int_equal(rotate(keys, T0 + 56 * DAY - 1), 0);
	assert_int_equal(rotate(keys, T0 + 56 * DAY), 1);
	assert_memory_equal(relay_keys_ntor_onion_key_previous(keys),
			&ntor_second, sizeof(ntor_second));

	rsa_identity_free(tap_first);
	relay_keys_free(keys);
}

/* Down for 40 days: at start-up the expired previous keys go, the onion
 * keys rotate, and the expired signing key is replaced. */
static void
test_long_downtime(void **state)
{
	struct relay_keys *keys;
	struct curve25519_keypair ntor_first;
	struct ed25519_keypair signing_first;

	(void)state;
	keys = load(T0);
	assert_int_equal(rotate(keys, T0 + 28 * DAY), 1);
	ntor_first = *relay_keys_ntor_onion_key(keys);
	signing_first = *relay_keys_signing(keys);
	relay_keys_free(keys);

	keys = load(T0 + 68 * DAY);
	assert_memory_equal(relay_keys_ntor_onion_key_previous(keys),
			&ntor_first, sizeof(ntor_first));
	assert_int_equal(relay_keys_onion_key_set_at(keys), T0 + 68 * DAY);
	assert_memory_not_equal(relay_keys_signing(keys)->public_key,
			signing_first.public_key, 32);
	assert_signing_cert(keys, (uint32_t)((T0 + 98 * DAY) / 3600));
	relay_keys_free(keys);
}

static void
test_ntor_server_keys(void **state)
{
	struct relay_keys *keys;
	struct ntor_server_keys server;

	(void)state;
	keys = load(T0);
	relay_keys_ntor_server_keys(keys, &server);
	assert_int_equal(server.onion_key_count, 1);
	assert_memory_equal(server.node_id, relay_keys_fingerprint(keys), 20);
	assert_memory_equal(server.onion_keys[0].public_key,
			relay_keys_ntor_onion_key(keys)->public_key, 32);
	assert_int_equal(rotate(keys, T0 + 28 * DAY), 1);
	relay_keys_ntor_server_keys(keys, &server);
	assert_int_equal(server.onion_key_count, 2);
	assert_memory_equal(server.onion_keys[0].secret_key,
			relay_keys_ntor_onion_key(keys)->secret, 32);
	assert_memory_equal(server.onion_keys[1].secret_key,
			relay_keys_ntor_onion_key_previous(keys)->secret, 32);
	relay_keys_free(keys);
}

static void
test_datadir_mode_narrowed(void **state)
{
	struct relay_keys *keys;

	(void)state;
	assert_int_equal(mkdir(datadir, 0755), 0);
	assert_int_equal(chmod(datadir, 0755), 0);
	keys = load(T0);
	assert_int_equal(mode_of(datadir), 0700);
	relay_keys_free(keys);
}

/* Expects load_or_create to fail with rc and an error naming file. */
static void
expect_error(int rc_expected, const char *file)
{
	struct relay_keys *keys = (struct relay_keys *)&keys;
	struct relay_keys_error err;
	int rc = relay_keys_load_or_create(datadir, T0, &keys, &err);
	size_t path_len = strlen(err.path), file_len = strlen(file);

	assert_int_equal(rc, rc_expected);
	assert_null(keys);
	assert_true(path_len >= file_len);
	assert_string_equal(err.path + path_len - file_len, file);
	assert_true(strlen(err.message) > 0);
}

static void
corrupt(const char *name)
{
	char path[512];

	key_file(path, sizeof(path), name);
	test_write_file(path, "garbage", 7, 0600);
}

static void
test_errors_name_the_file(void **state)
{
	struct relay_keys *keys, *other;
	char path[512], other_dir[256];
	uint8_t *data;
	size_t len;

	(void)state;
	keys = load(T0);
	relay_keys_free(keys);

	corrupt("secret_id_key");
	expect_error(-EINVAL, "/keys/secret_id_key");
	test_remove_tree(datadir);

	keys = load(T0);
	relay_keys_free(keys);
	corrupt("secret_onion_key_ntor");
	expect_error(-EINVAL, "/keys/secret_onion_key_ntor");
	test_remove_tree(datadir);

	keys = load(T0);
	relay_keys_free(keys);
	corrupt("ed25519_signing_cert");
	expect_error(-EINVAL, "/keys/ed25519_signing_cert");
	test_remove_tree(datadir);

	/* A master public key of another relay. */
	keys = load(T0);
	relay_keys_free(keys);
	snprintf(other_dir, sizeof(other_dir), "%s", datadir);
	test_datadir_name(datadir, sizeof(datadir));
	other = load(T0);
	relay_keys_free(other);
	key_file(path, sizeof(path), "ed25519_master_id_public_key");
	data = test_read_file(path, &len);
	test_remove_tree(datadir);
	snprintf(datadir, sizeof(datadir), "%s", other_dir);
	key_file(path, sizeof(path), "ed25519_master_id_public_key");
	test_write_file(path, data, len, 0600);
	expect_error(-EINVAL, "/keys/ed25519_master_id_public_key");

	/* A signing certificate made by another master key. */
	test_remove_tree(datadir);
	snprintf(other_dir, sizeof(other_dir), "%s", datadir);
	test_datadir_name(datadir, sizeof(datadir));
	other = load(T0);
	relay_keys_free(other);
	key_file(path, sizeof(path), "ed25519_signing_cert");
	free(data);
	data = test_read_file(path, &len);
	test_remove_tree(datadir);
	snprintf(datadir, sizeof(datadir), "%s", other_dir);
	keys = load(T0);
	relay_keys_free(keys);
	key_file(path, sizeof(path), "ed25519_signing_cert");
	test_write_file(path, data, len, 0600);
	expect_error(-EINVAL, "/keys/ed25519_signing_cert");
	free(data);

	/* Offline master key: secret gone, public still there. */
	key_file(path, sizeof(path), "ed25519_master_id_secret_key");
	assert_int_equal(unlink(path), 0);
	expect_error(-ENOENT, "/keys/ed25519_master_id_secret_key");

	/* An unusable DataDirectory. */
	test_remove_tree(datadir);
	test_write_file(datadir, "x", 1, 0600);
	expect_error(-ENOTDIR, datadir);
	assert_int_equal(unlink(datadir), 0);
}

/* A signing key without its certificate is replaced by a new pair; the
 * identity stays. */
static void
test_missing_cert_replaced(void **state)
{
	struct relay_keys *keys;
	struct ed25519_keypair signing;
	uint8_t fingerprint[20];
	char path[512];

	(void)state;
	keys = load(T0);
	signing = *relay_keys_signing(keys);
	memcpy(fingerprint, relay_keys_fingerprint(keys), 20);
	relay_keys_free(keys);
	key_file(path, sizeof(path), "ed25519_signing_cert");
	assert_int_equal(unlink(path), 0);
	keys = load(T0 + 3600);
	assert_memory_equal(relay_keys_fingerprint(keys), fingerprint, 20);
	assert_memory_not_equal(relay_keys_signing(keys)->public_key,
			signing.public_key, 32);
	assert_signing_cert(keys, (uint32_t)((T0 + 3600 + 30 * DAY) / 3600));
	relay_keys_free(keys);
}

static void
test_nickname(void **state)
{
	(void)state;
	assert_true(relay_nickname_is_valid("a"));
	assert_true(relay_nickname_is_valid("abcdefghijABCDEFG19"));
	assert_false(relay_nickname_is_valid("abcdefghijABCDEFG190"));
	assert_false(relay_nickname_is_valid(""));
	assert_false(relay_nickname_is_valid("with space"));
	assert_false(relay_nickname_is_valid("dash-ed"));
	assert_false(relay_nickname_is_valid(NULL));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_identical, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_tor_vectors, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_rotation_schedule, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_long_downtime, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_ntor_server_keys, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_datadir_mode_narrowed,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_the_file,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_cert_replaced,
				setup, teardown),
		cmocka_unit_test(test_nickname),
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
