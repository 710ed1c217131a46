/* libFuzzer target for control/authority_cert.c (dir-spec 3.1): parses
 * certificates back to back as in a /tor/keys/all response. Each parse
 * must advance the cursor on success and leave it on failure, return only
 * documented codes, and verification must return one of its documented
 * results. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "control/authority_cert.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	const uint8_t *end = data + size;

	while (p < end) {
		const uint8_t *start = p;
		struct authority_cert *cert = NULL;
		struct dirdoc_error err;
		int rc = authority_cert_parse(&p, end, &cert, &err);

		if (rc != 0) {
			if (p != start || cert != NULL || (rc != -EPROTO &&
					rc != -EMSGSIZE && rc != -ENOMEM))
				abort();
			break;
		}
		if (p <= start || p > end || cert == NULL)
			abort();
		rc = authority_cert_verify(cert, 1796086575);
		if (rc != 0 && rc != -EBADMSG && rc != -EKEYEXPIRED &&
				rc != -EKEYREJECTED)
			abort();
		authority_cert_free(cert);
	}
	return 0;
}
