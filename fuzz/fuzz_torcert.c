/* libFuzzer target for crypto/torcert.c Ed25519 certificates (cert-spec
 * 2.1): parses certificates back to back; each one that parses must
 * re-encode to exactly the bytes it consumed, the cursor must not move on
 * failure, and verification (with the embedded key, or a fixed key) must
 * return one of its documented results. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/torcert.h"

static uint8_t encoded[1 << 17];

static void
check_verify(const struct torcert *cert)
{
	static const uint8_t fixed_key[ED25519_PUBLIC_KEY_LEN] = { 1 };
	int rc = torcert_verify(cert, cert->has_signing_key ?
			NULL : fixed_key, 1796077825);

	if (rc != 0 && rc != -EBADMSG && rc != -ENOTSUP && rc != -EKEYEXPIRED &&
			rc != -EIO)
		abort();
	/* Without a key and without extension 04 there is nothing to check. */
	if (torcert_verify(cert, NULL, 0) == -EINVAL && cert->has_signing_key)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	const uint8_t *end = data + size;
	struct torcert cert;

	while (p < end) {
		const uint8_t *start = p;
		ssize_t written;
		int rc = torcert_parse(&p, end, &cert);

		if (rc != 0) {
			if (p != start || (rc != -EMSGSIZE && rc != -EINVAL))
				abort();
			break;
		}
		if (p <= start || cert.encoded != start ||
				cert.encoded_len != (size_t)(p - start))
			abort();
		written = torcert_encode(&cert, encoded, sizeof(encoded));
		if (written != p - start ||
				memcmp(encoded, start, (size_t)written) != 0)
			abort();
		check_verify(&cert);
	}
	return 0;
}
