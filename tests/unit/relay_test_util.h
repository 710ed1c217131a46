/* Temporary DataDirectories for the relay key and descriptor tests. */
#ifndef HSRELAY_TESTS_UNIT_RELAY_TEST_UTIL_H
#define HSRELAY_TESTS_UNIT_RELAY_TEST_UTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The key files tor 0.4.9 keeps in DataDirectory/keys. */
static const char *const relay_key_files[] = {
	"secret_id_key",
	"ed25519_master_id_secret_key",
	"ed25519_master_id_public_key",
	"ed25519_signing_secret_key",
	"ed25519_signing_cert",
	"secret_onion_key",
	"secret_onion_key_ntor",
};
#define RELAY_KEY_FILE_COUNT \
	(sizeof(relay_key_files) / sizeof(relay_key_files[0]))

/* A fresh directory name under /tmp (the directory itself is not created,
 * so that the code under test creates it). */
static inline void
test_datadir_name(char *out, size_t out_len)
{
	char tmpl[] = "/tmp/hsrelay-test-relay.XXXXXX";

	if (mkdtemp(tmpl) == NULL || rmdir(tmpl) != 0)
		abort();
	snprintf(out, out_len, "%s", tmpl);
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
		struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
test_remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Whole file into a malloc'ed buffer (NUL appended); NULL if missing. */
static inline uint8_t *
test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;

	*len = 0;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)size + 1);
	if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size)
		abort();
	buf[size] = '\0';
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static inline void
test_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0 ||
			chmod(path, mode) != 0)
		abort();
}

/* DATADIR/keys/ holding copies of the key files in vector_dir. */
static inline void
test_datadir_from_vectors(const char *vector_dir, const char *datadir)
{
	char path[4096];
	size_t i, len;

	if (mkdir(datadir, 0700) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/keys", datadir);
	if (mkdir(path, 0700) != 0)
		abort();
	for (i = 0; i < RELAY_KEY_FILE_COUNT; i++) {
		uint8_t *data;

		snprintf(path, sizeof(path), "%s/%s", vector_dir,
				relay_key_files[i]);
		data = test_read_file(path, &len);
		if (data == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/keys/%s", datadir,
				relay_key_files[i]);
		test_write_file(path, data, len, 0600);
		free(data);
	}
}

#endif
