/* libFuzzer: control/dir_server's request parser and responder. The
 * parsed URL must lie inside the input; every parsed request must get a
 * response from a small store. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/dir_server.h"

static const char text[] = "document\n";

static int
any_consensus(void *ctx, enum dir_consensus_flavor flavor,
		const uint8_t **out, size_t *len, time_t *valid_after,
		time_t *fresh_until, time_t *valid_until)
{
	(void)ctx;
	(void)flavor;
	*out = (const uint8_t *)text;
	*len = sizeof(text) - 1;
	*valid_after = 1000;
	*fresh_until = 4600;
	*valid_until = 12000;
	return 0;
}

static int
any_microdesc(void *ctx, const uint8_t *digest, const uint8_t **out,
		size_t *len)
{
	(void)ctx;
	if (digest[0] & 1)
		return -1;
	*out = (const uint8_t *)text;
	*len = sizeof(text) - 1;
	return 0;
}

static int
one_cert(void *ctx, size_t index, const uint8_t **out, size_t *len,
		uint8_t *id)
{
	(void)ctx;
	if (index > 0)
		return -1;
	*out = (const uint8_t *)text;
	*len = sizeof(text) - 1;
	memset(id, 0xaa, 20);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dir_store store = {
		.consensus = any_consensus,
		.microdesc = any_microdesc,
		.authority_cert = one_cert,
	};
	const uint8_t *p = data;
	struct dir_request req;
	uint8_t *out;
	size_t out_len;

	if (dir_request_parse(&p, data + size, &req) != 0)
		return 0;
	if (p <= data || p > data + size ||
			(const uint8_t *)req.url < data ||
			(const uint8_t *)req.url + req.url_len > p)
		abort();
	if (dir_server_respond(&req, &store, 2000, "192.0.2.1", size & 1,
			&out, &out_len) == 0) {
		if (out_len < 12 || memcmp(out, "HTTP/1.0 ", 9) != 0)
			abort();
		free(out);
	}
	return 0;
}
