/* libFuzzer target for the worker's TLS 1.3 post-handshake message parser
 * (crypto/tls_key_update.c, tls_post_handshake_parse): the input is one
 * handshake record's plaintext. The parser must stay inside it, return one
 * of its documented values, and for a KeyUpdate end exactly at the record's
 * end with a one-byte request_update of 0 or 1 just before. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/tls_key_update.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so that ASan sees any overread. */
	uint8_t *buf = malloc(size ? size : 1);
	const uint8_t *p;
	bool requested = false;
	int rc;

	CHECK(buf != NULL);
	if (size)
		memcpy(buf, data, size);
	p = buf;
	rc = tls_post_handshake_parse(&p, buf + size, &requested);
	CHECK(p >= buf && p <= buf + size);
	switch (rc) {
	case TLS_POST_HANDSHAKE_TICKETS:
		CHECK(size > 0 && p == buf + size && buf[0] == TLS_HANDSHAKE_NEW_SESSION_TICKET);
		break;
	case TLS_POST_HANDSHAKE_KEY_UPDATE:
		CHECK(p == buf + size && size >= TLS_KEY_UPDATE_MSG_LEN);
		CHECK(memcmp(buf + size - TLS_KEY_UPDATE_MSG_LEN, "\x18\x00\x00\x01", 4) == 0);
		CHECK(requested == (buf[size - 1] == TLS_KEY_UPDATE_REQUESTED));
		CHECK(buf[size - 1] <= TLS_KEY_UPDATE_REQUESTED);
		break;
	case -EPROTO:
	case -EBADMSG:
		break;
	default:
		abort();
	}
	free(buf);
	return 0;
}
