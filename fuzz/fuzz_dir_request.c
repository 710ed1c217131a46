/* libFuzzer: control/dir_server's request parser and responder, and the
 * /tor/micro/d/ digest-list parser. The parsed URL must lie inside the
 * input; every parsed request must get a response from a small store. A
 * POST's body (dir_request_body) must lie inside the input after the head;
 * HSDir requests (/tor/hs/) go to a store that holds one descriptor and
 * accepts bodies starting with "hs-descriptor 3". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/dir_server.h"

static const char text[] = "document\n";

static int
any_consensus(void *ctx, enum dir_consensus_flavor flavor,
		struct dir_consensus_doc *doc)
{
	(void)ctx;
	(void)flavor;
	memset(doc, 0, sizeof(*doc));
	doc->text = (const uint8_t *)text;
	doc->len = sizeof(text) - 1;
	doc->valid_after = 1000;
	doc->fresh_until = 4600;
	doc->valid_until = 12000;
	memset(doc->sha3_as_signed, 0xab, sizeof(doc->sha3_as_signed));
	doc->n_signers = 2;
	memset(doc->signers[0], 0x12, 20);
	memset(doc->signers[1], 0x34, 20);
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
one_cert(void *ctx, size_t index, struct dir_cert_doc *doc)
{
	(void)ctx;
	if (index > 0)
		return -1;
	doc->text = (const uint8_t *)text;
	doc->len = sizeof(text) - 1;
	memset(doc->identity_digest, 0xaa, 20);
	memset(doc->signing_key_digest, 0xbb, 20);
	doc->published = 1500;
	return 0;
}

static int
hs_publish(void *ctx, const uint8_t *body, size_t len)
{
	(void)ctx;
	if (len > 0 && body == NULL)
		abort();
	return len >= 15 && memcmp(body, "hs-descriptor 3", 15) == 0 ? 0 : -1;
}

static int
hs_descriptor(void *ctx, const uint8_t *key, const uint8_t **out, size_t *len)
{
	(void)ctx;
	if (key[0] & 1)
		return -1;
	*out = (const uint8_t *)text;
	*len = sizeof(text) - 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dir_store store = {
		.consensus = any_consensus,
		.microdesc = any_microdesc,
		.authority_cert = one_cert,
		.hs_publish = hs_publish,
		.hs_descriptor = hs_descriptor,
	};
	const uint8_t *head_end;
	const uint8_t *p = data;
	struct dir_request req;
	struct dir_response_info info;
	uint8_t *out;
	size_t out_len;

	/* The digest-list parser on the whole input: bounded, *p inside. */
	{
		uint8_t digests[4][DIR_SERVER_DIGEST256_LEN];
		const char *list = (const char *)data;
		size_t n = dir_microdesc_digests_parse(&list,
				(const char *)data + size, digests, 4);

		if (n > 4 || list < (const char *)data ||
				list > (const char *)data + size)
			abort();
	}
	/* The Accept-Encoding parser on the whole input: identity always
	 * in, nothing outside the known methods. */
	{
		unsigned set = dir_accept_encoding_parse((const char *)data, size);

		if (!(set & DIR_COMPRESS_SET_IDENTITY) || set >> DIR_COMPRESS_METHODS != 0)
			abort();
	}
	if (dir_request_parse(&p, data + size, &req) != 0)
		return 0;
	if (p <= data || p > data + size ||
			(const uint8_t *)req.url < data ||
			(const uint8_t *)req.url + req.url_len > p)
		abort();
	head_end = p;
	if (dir_request_body(&p, data + size, 60000, &req) != 0)
		return 0;
	if (p < head_end || p > data + size || req.body != head_end ||
			req.body_len != (size_t)(p - head_end))
		abort();
	req.anonymous = (size & 2) != 0;
	if (dir_server_respond(&req, &store, 2000, "192.0.2.1", size & 1,
			&info, &out, &out_len) == 0) {
		if (out_len < 12 || memcmp(out, "HTTP/1.0 ", 9) != 0 ||
				info.status < 200 || info.status > 599 ||
				(info.resource == DIR_RESOURCE_HS_PUBLISH ?
				 info.items != 0 :
				 (info.status == 200) != (info.items > 0)))
			abort();
		/* A compressed body decodes (the header names its method). */
		if (info.status == 200 && info.encoding != DIR_COMPRESS_IDENTITY) {
			const uint8_t *body = memmem(out, out_len, "\r\n\r\n", 4);
			uint8_t *plain;
			size_t plain_len;

			if (body == NULL || dir_decompress(info.encoding, body + 4,
					out_len - (size_t)(body + 4 - out), 1u << 24, &plain,
					&plain_len) != 0)
				abort();
			free(plain);
		}
		free(out);
	}
	return 0;
}
