/* libFuzzer target for tor's tagged key files in crypto/tor_keys.c: the
 * generic header parser and, by the type it finds, the typed parsers. Every
 * file that parses must re-encode to the identical bytes; the cursor only
 * moves on success. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/tor_keys.h"

static uint8_t encoded[1 << 17];

static void
check_same(ssize_t written, const uint8_t *data, size_t size)
{
	if (written < 0 || (size_t)written != size ||
			memcmp(encoded, data, size) != 0)
		abort();
}

static void
check_typed(const char *type, const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	const uint8_t *end = data + size;
	int rc;

	if (strcmp(type, TOR_KEY_FILE_TYPE_ED25519_SECRET) == 0) {
		struct ed25519_secret_key_file file;

		rc = ed25519_secret_key_file_parse(&p, end, &file);
		if (rc == 0)
			check_same(ed25519_secret_key_file_encode(&file,
					encoded, sizeof(encoded)), data, size);
	} else if (strcmp(type, TOR_KEY_FILE_TYPE_ED25519_PUBLIC) == 0) {
		struct ed25519_public_key_file file;

		rc = ed25519_public_key_file_parse(&p, end, &file);
		if (rc == 0)
			check_same(ed25519_public_key_file_encode(&file,
					encoded, sizeof(encoded)), data, size);
	} else if (strcmp(type, TOR_KEY_FILE_TYPE_ED25519_CERT) == 0) {
		struct ed25519_cert_file file;

		rc = ed25519_cert_file_parse(&p, end, &file);
		if (rc == 0)
			check_same(ed25519_cert_file_encode(&file, encoded,
					sizeof(encoded)), data, size);
	} else if (strcmp(type, TOR_KEY_FILE_TYPE_CURVE25519) == 0) {
		struct curve25519_key_file file;

		rc = curve25519_key_file_parse(&p, end, &file);
		if (rc == 0)
			check_same(curve25519_key_file_encode(&file, encoded,
					sizeof(encoded)), data, size);
	} else {
		return;
	}
	if ((rc == 0) != (p == end) || (rc != 0 && p != data) ||
			(rc != 0 && rc != -EINVAL && rc != -EMSGSIZE &&
			 rc != -EIO))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	struct tor_tagged_file file;
	int rc;

	if (size > sizeof(encoded))
		return 0;
	rc = tor_tagged_file_parse(&p, data + size, &file);

	if (rc != 0) {
		if (p != data || (rc != -EINVAL && rc != -EMSGSIZE))
			abort();
		return 0;
	}
	if (p != data + size || file.body != data + TOR_KEY_FILE_HEADER_LEN ||
			file.body_len != size - TOR_KEY_FILE_HEADER_LEN)
		abort();
	check_same(tor_tagged_file_encode(&file, encoded, sizeof(encoded)),
			data, size);
	check_typed(file.type, data, size);
	return 0;
}
