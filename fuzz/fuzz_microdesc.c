/* libFuzzer target for control/microdesc.c (dir-spec 3.3): parses
 * microdescriptors back to back. Each parsed one must span exactly the
 * bytes from its first keyword to where the next parse starts, within the
 * input, and carry the SHA-256 of exactly those bytes; failures leave the
 * cursor and return documented codes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "control/microdesc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	const uint8_t *end = data + size;

	while (p < end) {
		const uint8_t *start = p;
		struct microdesc md;
		struct dirdoc_error err;
		uint8_t digest[32];
		int rc = microdesc_parse(&p, end, &md, &err);

		if (rc != 0) {
			if (p != start || (rc != -EPROTO && rc != -EMSGSIZE))
				abort();
			break;
		}
		if (p <= start || md.text.ptr < start ||
				md.text.ptr + md.text.len != p ||
				md.text.len > MICRODESC_MAX_LEN)
			abort();
		if (EVP_Digest(md.text.ptr, md.text.len, digest, NULL,
					EVP_sha256(), NULL) != 1 ||
				memcmp(digest, md.digest, sizeof(digest)) != 0)
			abort();
		(void)microdesc_policy_allows(&md.ipv4_policy, 443);
		(void)microdesc_policy_allows(&md.ipv6_policy, 1);
	}
	return 0;
}
