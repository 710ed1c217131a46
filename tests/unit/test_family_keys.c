/* control/family_keys.c and FamilyId values (control/relay_family.c): the
 * family key tor 0.4.9.11's --keygen-family wrote (vectors/tor-0.4.9-relay,
 * argv[1]) is read and has the FamilyId tor printed for it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/family_keys.h"
#include "control/relay_family.h"
#include "crypto/tor_keys.h"

#define TOR_FAMILY_ID "295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3EU"

static const char *vector_dir;
static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hsrelay-family-keys.XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Copies the tor-written key into dir under name. */
static void
copy_tor_key(const char *name)
{
	uint8_t buf[256];
	size_t len;
	char from[512], to[512];

	snprintf(from, sizeof(from), "%s/testfamily.secret_family_key", vector_dir);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	assert_int_equal(tor_key_file_read(from, buf, sizeof(buf), &len), 0);
	assert_int_equal(tor_key_file_write(to, buf, len), 0);
}

/* Writes a fresh key with tag into dir/name; returns it in key. */
static void
write_key(const char *name, const char *tag, struct ed25519_keypair *key)
{
	struct ed25519_secret_key_file file;
	char path[512];

	memset(&file, 0, sizeof(file));
	snprintf(file.tag, sizeof(file.tag), "%s", tag);
	assert_int_equal(ed25519_keypair_generate(&file.keypair), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(ed25519_secret_key_file_store(path, &file), 0);
	*key = file.keypair;
}

static void
test_family_id_values(void **state)
{
	uint8_t id[RELAY_FAMILY_ID_LEN], again[RELAY_FAMILY_ID_LEN];
	char text[RELAY_FAMILY_ID_BASE64_LEN + 1];
	static const char *const bad[] = {
		"", "*", TOR_FAMILY_ID "A", "295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3E",
		"295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3E-", TOR_FAMILY_ID "==",
	};

	(void)state;
	assert_int_equal(relay_family_id_parse(TOR_FAMILY_ID, id), 0);
	relay_family_id_format(id, text);
	assert_string_equal(text, TOR_FAMILY_ID);
	assert_int_equal(relay_family_id_parse(TOR_FAMILY_ID "=", again), 0);
	assert_memory_equal(id, again, sizeof(id));
	/* The last digit's two spare bits are ignored, as tor does. */
	assert_int_equal(relay_family_id_parse("295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3EV",
			again), 0);
	assert_memory_equal(id, again, sizeof(id));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (relay_family_id_parse(bad[i], again) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
}

static void
test_tor_key_has_tor_id(void **state)
{
	struct ed25519_keypair keys[RELAY_FAMILY_IDS_MAX];
	uint8_t ids[1][RELAY_FAMILY_ID_LEN];
	char message[512] = "";

	(void)state;
	copy_tor_key("family.secret_family_key");
	assert_int_equal(relay_family_id_parse(TOR_FAMILY_ID, ids[0]), 0);
	assert_int_equal(family_keys_load(dir, (const uint8_t (*)[32])ids, 1, false, keys,
			RELAY_FAMILY_IDS_MAX, message, sizeof(message)), 1);
	assert_memory_equal(keys[0].public_key, ids[0], RELAY_FAMILY_ID_LEN);
	/* Nothing asked for: nothing loaded, the directory not even read. */
	assert_int_equal(family_keys_load("/nonexistent", NULL, 0, false, keys,
			RELAY_FAMILY_IDS_MAX, message, sizeof(message)), 0);
}

static void
test_all_and_missing(void **state)
{
	struct ed25519_keypair keys[RELAY_FAMILY_IDS_MAX], other;
	uint8_t ids[2][RELAY_FAMILY_ID_LEN];
	char message[512] = "", other_id[RELAY_FAMILY_ID_BASE64_LEN + 1];

	(void)state;
	copy_tor_key("a.secret_family_key");
	copy_tor_key("b.secret_family_key");	/* the same key twice: once */
	write_key("c.secret_family_key", RELAY_FAMILY_KEY_FILE_TAG, &other);
	write_key("ignored.key", RELAY_FAMILY_KEY_FILE_TAG, &other);
	write_key("d.secret_family_key", RELAY_FAMILY_KEY_FILE_TAG, &other);
	/* "FamilyId *": every key, each once, in file name order. */
	assert_int_equal(family_keys_load(dir, NULL, 0, true, keys, RELAY_FAMILY_IDS_MAX,
			message, sizeof(message)), 3);
	assert_int_equal(relay_family_id_parse(TOR_FAMILY_ID, ids[0]), 0);
	assert_memory_equal(keys[0].public_key, ids[0], RELAY_FAMILY_ID_LEN);
	assert_memory_equal(keys[2].public_key, other.public_key, RELAY_FAMILY_ID_LEN);
	/* More keys than room. */
	assert_int_equal(family_keys_load(dir, NULL, 0, true, keys, 2, message,
			sizeof(message)), -E2BIG);
	/* An id without a key names itself and the directory. */
	memcpy(ids[1], ids[0], RELAY_FAMILY_ID_LEN);
	ids[1][0] ^= 1;
	assert_int_equal(family_keys_load(dir, (const uint8_t (*)[32])ids, 2, false, keys,
			RELAY_FAMILY_IDS_MAX, message, sizeof(message)), -ENOENT);
	relay_family_id_format(ids[1], other_id);
	assert_non_null(strstr(message, other_id));
	assert_non_null(strstr(message, dir));
}

static void
test_bad_files(void **state)
{
	struct ed25519_keypair keys[RELAY_FAMILY_IDS_MAX], other;
	char message[512] = "";

	(void)state;
	/* A key file of another kind (the master identity's tag). */
	write_key("wrong.secret_family_key", TOR_KEY_FILE_TAG_MASTER, &other);
	assert_int_equal(family_keys_load(dir, NULL, 0, true, keys, RELAY_FAMILY_IDS_MAX,
			message, sizeof(message)), -EINVAL);
	assert_non_null(strstr(message, "wrong.secret_family_key"));
	assert_non_null(strstr(message, "not a family key"));
	assert_int_equal(family_keys_load("/nonexistent-family-dir", NULL, 0, true, keys,
			RELAY_FAMILY_IDS_MAX, message, sizeof(message)), -ENOENT);
	assert_non_null(strstr(message, "/nonexistent-family-dir"));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_id_values),
		cmocka_unit_test_setup_teardown(test_tor_key_has_tor_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	vector_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
