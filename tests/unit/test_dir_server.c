/* control/dir_server: requests as tor 0.4.9's dirclient.c writes them
 * (directory_send_command: "GET URL HTTP/1.0\r\nHost: H\r\n" + headers,
 * Accept-Encoding from client_meth_pref: "x-tor-lzma, x-zstd, deflate,
 * gzip, identity") and the exact response bytes of dircache.c for
 * consensus, microdescriptors and keys, plus the short errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/dir_server.h"

/* 2025-01-02 03:04:05 UTC, a Thursday. */
#define NOW ((time_t)1735787045)

static const char consensus_text[] = "network-status-version 3 microdesc\n";
static const char md_a[] = "onion-key\nntor-onion-key AAAA\n";
static const char md_b[] = "onion-key\nntor-onion-key BBBB\n";
/* base64 of 32 bytes 0x00.. and 0x01.. (43 characters, no padding). */
static const char md_a_b64[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static const char md_b_b64[] = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
static const char cert_1[] = "dir-key-certificate-version 3\nfingerprint 1\n";
static const char cert_2[] = "dir-key-certificate-version 3\nfingerprint 2\n";

/* The consensus' SHA3-256 as signed (any value: dir_server compares). */
static const uint8_t consensus_sha3[32] = { 0x5a, 0x5a, [31] = 0x01 };
#define CONSENSUS_SHA3_HEX "5a5a0000000000000000000000000000" \
	"00000000000000000000000000000001"

static int
store_consensus(void *ctx, enum dir_consensus_flavor flavor,
		struct dir_consensus_doc *doc)
{
	(void)ctx;
	if (flavor != DIR_CONSENSUS_MICRODESC)
		return -ENOENT;
	memset(doc, 0, sizeof(*doc));
	doc->text = (const uint8_t *)consensus_text;
	doc->len = strlen(consensus_text);
	doc->valid_after = NOW - 600;
	doc->fresh_until = NOW + 3000;
	doc->valid_until = NOW + 3 * 3600;
	memcpy(doc->sha3_as_signed, consensus_sha3, 32);
	/* Signed by 0232AF..., 14C131... and 23D15D... */
	doc->n_signers = 3;
	memcpy(doc->signers[0], "\x02\x32\xaf\x01", 4);
	memcpy(doc->signers[1], "\x14\xc1\x31\x02", 4);
	memcpy(doc->signers[2], "\x23\xd1\x5d\x03", 4);
	return 0;
}

static int
store_microdesc(void *ctx, const uint8_t *digest, const uint8_t **text,
		size_t *len)
{
	const char *md = NULL;

	(void)ctx;
	if (digest[0] == 0 && digest[31] == 0)
		md = md_a;
	else if (digest[0] == 1 && digest[31] == 1)
		md = md_b;
	if (md == NULL)
		return -ENOENT;
	*text = (const uint8_t *)md;
	*len = strlen(md);
	return 0;
}

/* Two authorities (identities 0xaa.. and 0xbb..); 0xbb.. has a newer
 * certificate (signing key 0x22..) listed before its older one (0x11..). */
static const char cert_3[] = "dir-key-certificate-version 3\nfingerprint 3\n";

static int
store_cert(void *ctx, size_t index, struct dir_cert_doc *doc)
{
	static const char *const texts[] = { cert_1, cert_2, cert_3 };
	static const uint8_t ids[] = { 0xaa, 0xbb, 0xbb };
	static const uint8_t sks[] = { 0x11, 0x22, 0x11 };

	(void)ctx;
	if (index > 2)
		return -ENOENT;
	doc->text = (const uint8_t *)texts[index];
	doc->len = strlen(texts[index]);
	memset(doc->identity_digest, ids[index], 20);
	memset(doc->signing_key_digest, sks[index], 20);
	/* dir-key-published: an hour ago, cert_3 a day ago. */
	doc->published = index == 2 ? NOW - 86400 : NOW - 3600;
	return 0;
}

/* The store keeps a diff from the consensus whose digest is all 0x22
 * (opaque to dir_server) as text, and its x-tor-lzma form; other methods
 * are compressed by the responder. */
#define DIFF_TEXT "network-status-diff-version 1\nhash 2222 5a5a\n2c\nnew\n.\n"
static unsigned diff_calls, packed_calls;

static int
store_consensus_diff(void *ctx, enum dir_consensus_flavor flavor, const uint8_t *from,
		enum dir_compress_method method, const uint8_t **text, size_t *len)
{
	static uint8_t *lzma;
	static size_t lzma_len;
	static const uint8_t from_22[32] = {
		0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
		0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
		0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	};

	(void)ctx;
	diff_calls++;
	if (flavor != DIR_CONSENSUS_MICRODESC || memcmp(from, from_22, 32) != 0)
		return -ENOENT;
	if (method == DIR_COMPRESS_IDENTITY) {
		*text = (const uint8_t *)DIFF_TEXT;
		*len = strlen(DIFF_TEXT);
		return 0;
	}
	if (method != DIR_COMPRESS_LZMA)
		return -ENOENT;
	if (lzma == NULL)
		assert_int_equal(dir_compress(method, DIR_COMPRESS_HIGH,
				(const uint8_t *)DIFF_TEXT, strlen(DIFF_TEXT), &lzma, &lzma_len), 0);
	*text = lzma;
	*len = lzma_len;
	return 0;
}

/* The consensus kept as x-zstd only. */
static int
store_consensus_compressed(void *ctx, enum dir_consensus_flavor flavor,
		enum dir_compress_method method, const uint8_t **text, size_t *len)
{
	static uint8_t *zstd;
	static size_t zstd_len;

	(void)ctx;
	packed_calls++;
	if (flavor != DIR_CONSENSUS_MICRODESC || method != DIR_COMPRESS_ZSTD)
		return -ENOENT;
	if (zstd == NULL)
		assert_int_equal(dir_compress(method, DIR_COMPRESS_HIGH,
				(const uint8_t *)consensus_text, strlen(consensus_text), &zstd,
				&zstd_len), 0);
	*text = zstd;
	*len = zstd_len;
	return 0;
}

static const struct dir_store store = {
	.consensus = store_consensus,
	.microdesc = store_microdesc,
	.authority_cert = store_cert,
	.consensus_diff = store_consensus_diff,
	.consensus_compressed = store_consensus_compressed,
};

static int
parse(const char *text, struct dir_request *req, size_t *consumed)
{
	const uint8_t *start = (const uint8_t *)text, *cursor = start;
	int rc = dir_request_parse(&cursor, start + strlen(text), req);

	if (consumed != NULL)
		*consumed = (size_t)(cursor - start);
	return rc;
}

/* A 200 answer's body decoded with the method its Content-Encoding
 * names (the whole answer, head and decoded body, replaces *out): a
 * compressed body must decode exactly, with nothing after its end. */
static void
decode_body(uint8_t **out, size_t *out_len)
{
	const char *head = (const char *)*out;
	const char *end = memmem(head, *out_len, "\r\n\r\n", 4);
	const char *field = memmem(head, *out_len, "Content-Encoding: ", 18);
	enum dir_compress_method method = DIR_COMPRESS_METHODS;
	size_t head_len, plain_len;
	uint8_t *plain, *whole;

	if (end == NULL || field == NULL || field > end)
		return;
	head_len = (size_t)(end + 4 - head);
	field += 18;
	for (unsigned m = 0; m < DIR_COMPRESS_METHODS; m++) {
		size_t n = strlen(dir_compress_name(m));

		if (memcmp(field, dir_compress_name(m), n) == 0 && field[n] == '\r')
			method = m;
	}
	assert_int_not_equal(method, DIR_COMPRESS_METHODS);
	assert_int_equal(dir_decompress(method, *out + head_len, *out_len - head_len, 1u << 20,
			&plain, &plain_len), 0);
	whole = malloc(head_len + plain_len + 1);
	assert_non_null(whole);
	memcpy(whole, *out, head_len);
	memcpy(whole + head_len, plain, plain_len);
	free(plain);
	free(*out);
	*out = whole;
	*out_len = head_len + plain_len;
}

/* Parses request, responds, compares with expected (a body decoded as
 * its Content-Encoding says). */
static struct dir_response_info last_info;

static void
check_response(const char *request, const char *client, bool busy,
		const char *expected)
{
	struct dir_request req;
	uint8_t *out = NULL;
	size_t out_len = 0;

	assert_int_equal(parse(request, &req, NULL), 0);
	memset(&last_info, 0xff, sizeof(last_info));
	assert_int_equal(dir_server_respond(&req, &store, NOW, client, busy,
			&last_info, &out, &out_len), 0);
	decode_body(&out, &out_len);
	if (out_len != strlen(expected) ||
			memcmp(out, expected, out_len) != 0)
		fprintf(stderr, "got:\n%.*s\nwant:\n%s\n", (int)out_len,
				(const char *)out, expected);
	assert_int_equal(out_len, strlen(expected));
	assert_memory_equal(out, expected, out_len);
	free(out);
}

#define DATE "Thu, 02 Jan 2025 03:04:05 GMT"

static void
test_rfc1123(void **state)
{
	char buf[30];

	(void)state;
	dir_server_rfc1123_time(NOW, buf);
	assert_string_equal(buf, DATE);
	dir_server_rfc1123_time(0, buf);
	assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void
test_parse_tor_requests(void **state)
{
	static const char consensus[] =
		"GET /tor/status-vote/current/consensus-microdesc/"
		"0232AF+14C131+23D15D+27102B+49015F+D586D1+E8A9C4+ED03BB+EFCBE7.z"
		" HTTP/1.0\r\n"
		"Host: 127.0.0.1:5000\r\n"
		"If-Modified-Since: Thu, 02 Jan 2025 02:00:00 GMT\r\n"
		"Accept-Encoding: x-tor-lzma, x-zstd, deflate, gzip, identity\r\n"
		"\r\nleftover";
	struct dir_request req;
	size_t used;

	(void)state;
	assert_int_equal(parse(consensus, &req, &used), 0);
	assert_int_equal(used, strlen(consensus) - strlen("leftover"));
	assert_int_equal(req.method, DIR_REQUEST_GET);
	assert_int_equal(req.url_len, strlen("/tor/status-vote/current/"
			"consensus-microdesc/0232AF+14C131+23D15D+27102B+49015F+"
			"D586D1+E8A9C4+ED03BB+EFCBE7.z"));
	assert_memory_equal(req.url, "/tor/status-vote/", 17);
	assert_int_equal(req.if_modified_since, NOW - 3845);

	/* Absolute URL, bare LF line ends. */
	assert_int_equal(parse("GET http://1.2.3.4:80/tor/keys/all HTTP/1.1\n"
			"\n", &req, NULL), 0);
	assert_int_equal(req.url_len, strlen("/tor/keys/all"));
	assert_memory_equal(req.url, "/tor/keys/all", req.url_len);

	/* Incomplete, malformed, oversized. */
	assert_int_equal(parse("GET /tor/keys/all HTTP/1.0\r\nHost: x\r\n",
			&req, NULL), -EAGAIN);
	assert_int_equal(parse("", &req, NULL), -EAGAIN);
	assert_int_equal(parse("PUT /tor/ HTTP/1.0\r\n\r\n", &req, NULL),
			-EPROTO);
	assert_int_equal(parse("GET /tor/ HTTP/2.0\r\n\r\n", &req, NULL),
			-EPROTO);
	assert_int_equal(parse("GET tor HTTP/1.0\r\n\r\n", &req, NULL),
			-EPROTO);
	assert_int_equal(parse("GET /tor/ HTTP/1.0\r\nNoColon\r\n\r\n", &req,
			NULL), -EPROTO);
	assert_int_equal(parse("GET /tor/ HTTP/1.0\r\nX: a\x01\r\n\r\n", &req,
			NULL), -EPROTO);
	assert_int_equal(parse("\r\n\r\n", &req, NULL), -EPROTO);
	{
		char *big = malloc(DIR_REQUEST_HEAD_MAX + 100);

		assert_non_null(big);
		memset(big, 'a', DIR_REQUEST_HEAD_MAX + 99);
		memcpy(big, "GET /", 5);
		big[DIR_REQUEST_HEAD_MAX + 99] = '\0';
		assert_int_equal(parse(big, &req, NULL), -EMSGSIZE);
		free(big);
	}
}

static void
test_consensus_response(void **state)
{
	(void)state;
	check_response("GET /tor/status-vote/current/consensus-microdesc/"
			"0232AF+14C131.z HTTP/1.0\r\nHost: h\r\n"
			"Accept-Encoding: x-tor-lzma, x-zstd, deflate, gzip, "
			"identity\r\n\r\n", "198.51.100.7", false,
			"HTTP/1.0 200 OK\r\n"
			"Date: " DATE "\r\n"
			"Content-Type: text/plain\r\n"
			"X-Your-Address-Is: 198.51.100.7\r\n"
			"Content-Encoding: x-tor-lzma\r\n"
			"Expires: Thu, 02 Jan 2025 03:54:05 GMT\r\n"
			"Vary: X-Or-Diff-From-Consensus\r\n"
			"\r\n"
			"network-status-version 3 microdesc\n");
	/* The ns flavour is not held. */
	check_response("GET /tor/status-vote/current/consensus.z HTTP/1.0\r\n"
			"\r\n", NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
	/* Not modified since. */
	check_response("GET /tor/status-vote/current/consensus-microdesc "
			"HTTP/1.0\r\nIf-Modified-Since: Thu, 02 Jan 2025 "
			"03:00:00 GMT\r\n\r\n", NULL, false,
			"HTTP/1.0 304 Not modified\r\nDate: " DATE "\r\n\r\n");
	check_response("GET /tor/status-vote/current/consensus-microdesc "
			"HTTP/1.0\r\n\r\n", NULL, true,
			"HTTP/1.0 503 Directory busy, try again later\r\n"
			"Date: " DATE "\r\n\r\n");
}

static void
test_microdesc_response(void **state)
{
	char request[512];

	(void)state;
	/* Asked b, a, unknown, a again: unique, unknown left out, in
	 * descending digest order (tor pops its spool from the end). */
	snprintf(request, sizeof(request),
			"GET /tor/micro/d/%s-%s-%s-%s.z HTTP/1.0\r\n\r\n",
			md_b_b64, md_a_b64,
			"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI", md_a_b64);
	check_response(request, NULL, false,
			"HTTP/1.0 200 OK\r\n"
			"Date: " DATE "\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Encoding: deflate\r\n"
			"Expires: Sat, 04 Jan 2025 03:04:05 GMT\r\n"
			"\r\n"
			"onion-key\nntor-onion-key BBBB\n"
			"onion-key\nntor-onion-key AAAA\n");
	assert_int_equal(last_info.resource, DIR_RESOURCE_MICRODESC);
	assert_int_equal(last_info.status, 200);
	assert_int_equal(last_info.items, 2);
	check_response("GET /tor/micro/d/AgICAgICAgICAgICAgICAgICAgICAgICAgI"
			"CAgICAgICAgI HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
}

#define HEX40(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c

/* A keys answer with body (decoded); encoding NULL: identity, with a
 * Content-Length, which compressed answers lack (handle_get_keys). */
static void
keys_expect(char *expected, size_t cap, const char *client,
		const char *encoding, const char *body)
{
	char length[64] = "";

	if (encoding == NULL)
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n", strlen(body));
	snprintf(expected, cap,
			"HTTP/1.0 200 OK\r\n"
			"Date: " DATE "\r\n"
			"Content-Type: text/plain\r\n"
			"%s%s%s"
			"Content-Encoding: %s\r\n"
			"%s"
			"Expires: Thu, 02 Jan 2025 04:04:05 GMT\r\n"
			"\r\n%s", client != NULL ? "X-Your-Address-Is: " : "",
			client != NULL ? client : "", client != NULL ? "\r\n" : "",
			encoding != NULL ? encoding : "identity", length, body);
}

static void
test_keys_response(void **state)
{
	char expected[1024], body[512];

	(void)state;
	snprintf(body, sizeof(body), "%s%s%s", cert_1, cert_2, cert_3);
	keys_expect(expected, sizeof(expected), "203.0.113.9", "deflate", body);
	check_response("GET /tor/keys/all.z HTTP/1.0\r\n\r\n", "203.0.113.9",
			false, expected);
	assert_int_equal(last_info.resource, DIR_RESOURCE_KEYS);
	assert_int_equal(last_info.status, 200);
	assert_int_equal(last_info.items, 3);
	/* fp/: the newest certificate of each identity held (tor
	 * authority_cert_get_newest_by_id), unknown ones left out. */
	keys_expect(expected, sizeof(expected), NULL, "deflate", cert_2);
	check_response("GET /tor/keys/fp/" HEX40("B") "+" HEX40("C")
			".z HTTP/1.0\r\n\r\n", NULL, false, expected);
	check_response("GET /tor/keys/fp/" HEX40("C") " HTTP/1.0\r\n\r\n",
			NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
	assert_int_equal(last_info.status, 404);
	/* fp-sk/ID-SK pairs, as a client fetches the certificate a
	 * consensus signature names (authority_certs_fetch_missing). */
	snprintf(body, sizeof(body), "%s%s", cert_1, cert_3);
	keys_expect(expected, sizeof(expected), NULL, "deflate", body);
	check_response("GET /tor/keys/fp-sk/" HEX40("b") "-" HEX40("1") "+"
			HEX40("A") "-" HEX40("1") "+" HEX40("B") "-" HEX40("3")
			".z HTTP/1.0\r\n\r\n", NULL, false, expected);
	check_response("GET /tor/keys/fp-sk/" HEX40("A") "-" HEX40("2")
			" HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
	/* sk/: by signing-key digest, every certificate with it. */
	snprintf(body, sizeof(body), "%s%s", cert_1, cert_3);
	keys_expect(expected, sizeof(expected), NULL, NULL, body);
	check_response("GET /tor/keys/sk/" HEX40("1") " HTTP/1.0\r\n\r\n",
			NULL, false, expected);
	/* If-Modified-Since: certificates published before it are left
	 * out; none left is 304. */
	snprintf(body, sizeof(body), "%s%s", cert_1, cert_2);
	keys_expect(expected, sizeof(expected), NULL, NULL, body);
	check_response("GET /tor/keys/all HTTP/1.0\r\nIf-Modified-Since: "
			"Wed, 01 Jan 2025 12:00:00 GMT\r\n\r\n", NULL, false,
			expected);
	check_response("GET /tor/keys/fp/" HEX40("a") " HTTP/1.0\r\n"
			"If-Modified-Since: Thu, 02 Jan 2025 03:00:00 GMT\r\n"
			"\r\n", NULL, false,
			"HTTP/1.0 304 Not modified\r\nDate: " DATE "\r\n\r\n");
	assert_int_equal(last_info.status, 304);
	check_response("GET /tor/keys/authority HTTP/1.0\r\n\r\n", NULL,
			false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
	check_response("GET /tor/keys/bogus HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 400 Bad request\r\nDate: " DATE "\r\n\r\n");
}

/* The consensus, its body decoded, sent with encoding ENC. */
#define CONSENSUS_200(ENC) \
	"HTTP/1.0 200 OK\r\n" \
	"Date: " DATE "\r\n" \
	"Content-Type: text/plain\r\n" \
	"Content-Encoding: " ENC "\r\n" \
	"Expires: Thu, 02 Jan 2025 03:54:05 GMT\r\n" \
	"Vary: X-Or-Diff-From-Consensus\r\n" \
	"\r\n" \
	"network-status-version 3 microdesc\n"

/* What a tor 0.4.9 client sends a cache once it holds a consensus
 * (dirclient.c directory_send_command, dir_consensus_request_set_
 * additional_headers), and the authority-fingerprint check. */
static void
test_consensus_diff_and_signers(void **state)
{
	(void)state;
	/* It holds ours: 304. */
	check_response("GET /tor/status-vote/current/consensus-microdesc/"
			"0232AF+14C131+23D15D.z HTTP/1.0\r\nHost: h\r\n"
			"If-Modified-Since: Thu, 02 Jan 2025 02:00:00 GMT\r\n"
			"X-Or-Diff-From-Consensus: " CONSENSUS_SHA3_HEX "\r\n"
			"Accept-Encoding: x-tor-lzma, x-zstd, deflate, gzip, "
			"identity\r\n\r\n", NULL, false,
			"HTTP/1.0 304 Not modified\r\nDate: " DATE "\r\n\r\n");
	assert_int_equal(last_info.resource, DIR_RESOURCE_CONSENSUS);
	assert_int_equal(last_info.status, 304);
	/* It holds another one: the full consensus (we keep no diffs). */
	check_response("GET /tor/status-vote/current/consensus-microdesc/"
			"0232AF+14C131+23D15D.z HTTP/1.0\r\n"
			"X-Or-Diff-From-Consensus: 00" CONSENSUS_SHA3_HEX "\r\n"
			"X-Or-Diff-From-Consensus: 11111111111111111111111111111111"
			"11111111111111111111111111111111\r\n\r\n", NULL, false,
			CONSENSUS_200("deflate"));
	assert_int_equal(last_info.items, 1);
	/* Two of three named authorities signed: enough; one of three or
	 * one of two (need 2): not. Prefixes of any even length. */
	check_response("GET /tor/status-vote/current/consensus-microdesc/"
			"0232AF01+EEEEEE+14c1 HTTP/1.0\r\n\r\n", NULL, false,
			CONSENSUS_200("identity"));
	check_response("GET /tor/status-vote/current/consensus-microdesc/"
			"0232AF+EEEEEE+DDDDDD.z HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Consensus not signed by sufficient number of "
			"requested authorities\r\nDate: " DATE "\r\n\r\n");
	check_response("GET /tor/status-vote/current/consensus-microdesc/"
			"0232AF+EEEEEE HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Consensus not signed by sufficient number of "
			"requested authorities\r\nDate: " DATE "\r\n\r\n");
	/* Diff-only URLs. */
	check_response("GET /tor/status-vote/current/consensus-microdesc/diff/"
			CONSENSUS_SHA3_HEX "/0232AF HTTP/1.0\r\n\r\n", NULL,
			false,
			"HTTP/1.0 304 Not modified\r\nDate: " DATE "\r\n\r\n");
	check_response("GET /tor/status-vote/current/consensus-microdesc/diff/"
			"11111111111111111111111111111111"
			"11111111111111111111111111111111 HTTP/1.0\r\n\r\n",
			NULL, false,
			"HTTP/1.0 404 No such diff available\r\nDate: " DATE
			"\r\n\r\n");
	check_response("GET /tor/status-vote/current/consensus-microdesc/diff/"
			"xyz/0232AF HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Couldn't parse request\r\nDate: " DATE
			"\r\n\r\n");
	/* An unknown flavor is ns, which is not held. */
	check_response("GET /tor/status-vote/current/consensus-bogus HTTP/1.0"
			"\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
}

#define DIGEST_22 "2222222222222222222222222222222222222222222222222222222222222222"
#define DIFF_200(ENC) \
	"HTTP/1.0 200 OK\r\n" \
	"Date: " DATE "\r\n" \
	"Content-Type: text/plain\r\n" \
	"Content-Encoding: " ENC "\r\n" \
	"Expires: Thu, 02 Jan 2025 03:54:05 GMT\r\n" \
	"Vary: X-Or-Diff-From-Consensus\r\n" \
	"\r\n" \
	DIFF_TEXT

/* A client holding a consensus the store has a diff from gets the diff
 * (dircache.c find_best_diff), in the best method it takes. */
static void
test_consensus_diffs(void **state)
{
	(void)state;
	/* The first digest the store knows wins; tor's client offers all
	 * methods: the kept x-tor-lzma form. */
	diff_calls = 0;
	check_response("GET /tor/status-vote/current/consensus-microdesc/"
			"0232AF+14C131+23D15D.z HTTP/1.0\r\n"
			"X-Or-Diff-From-Consensus: 1111111111111111111111111111111111111111111111111111"
			"111111111111 " DIGEST_22 "\r\n"
			"Accept-Encoding: x-tor-lzma, x-zstd, deflate, gzip, identity\r\n\r\n",
			NULL, false, DIFF_200("x-tor-lzma"));
	assert_int_equal(last_info.status, 200);
	assert_true(last_info.consensus_diff);
	assert_int_equal(last_info.items, 1);
	assert_int_equal(last_info.encoding, DIR_COMPRESS_LZMA);
	/* 1111...: lzma, then the text; 2222...: lzma. */
	assert_int_equal(diff_calls, 3);
	/* gzip is not kept: the text, compressed for this answer. */
	check_response("GET /tor/status-vote/current/consensus-microdesc HTTP/1.0\r\n"
			"X-Or-Diff-From-Consensus: " DIGEST_22 "\r\n"
			"Accept-Encoding: gzip\r\n\r\n", NULL, false, DIFF_200("gzip"));
	assert_true(last_info.consensus_diff);
	/* The URL's diff/HASH form, identity. */
	check_response("GET /tor/status-vote/current/consensus-microdesc/diff/" DIGEST_22
			" HTTP/1.0\r\n\r\n", NULL, false, DIFF_200("identity"));
	assert_true(last_info.consensus_diff);
	/* Still the signers check after a diff is found. */
	check_response("GET /tor/status-vote/current/consensus-microdesc/diff/" DIGEST_22
			"/EEEEEE+DDDDDD HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Consensus not signed by sufficient number of "
			"requested authorities\r\nDate: " DATE "\r\n\r\n");
	/* No diff from it: the full consensus, kept as x-zstd (the
	 * client's best after lzma, which the store lacks: it is
	 * compressed for the answer). */
	packed_calls = 0;
	check_response("GET /tor/status-vote/current/consensus-microdesc HTTP/1.0\r\n"
			"X-Or-Diff-From-Consensus: 1111111111111111111111111111111111111111111111111111"
			"111111111111\r\nAccept-Encoding: x-zstd, identity\r\n\r\n", NULL, false,
			CONSENSUS_200("x-zstd"));
	assert_false(last_info.consensus_diff);
	assert_int_equal(packed_calls, 1);
	check_response("GET /tor/status-vote/current/consensus-microdesc HTTP/1.0\r\n"
			"Accept-Encoding: x-tor-lzma\r\n\r\n", NULL, false,
			CONSENSUS_200("x-tor-lzma"));
	assert_int_equal(packed_calls, 2);
}

static void
test_microdesc_digest_list(void **state)
{
	static const char list[] =
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-"
		"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=-"	/* padded: skipped */
		"short--"
		"_wEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE-"	/* not base64 */
		"//////////////////////////////////////////8-"
		"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
	uint8_t out[4][32], want[32];
	const char *p = list;

	(void)state;
	assert_int_equal(dir_microdesc_digests_parse(&p, list + strlen(list),
			out, 4), 3);
	assert_ptr_equal(p, list + strlen(list));
	memset(want, 0, 32);
	assert_memory_equal(out[0], want, 32);
	memset(want, 0xff, 32);
	assert_memory_equal(out[1], want, 32);
	memset(want, 0x01, 32);
	assert_memory_equal(out[2], want, 32);
	/* Bounded: stops after max, *p at the next item. */
	p = list;
	assert_int_equal(dir_microdesc_digests_parse(&p, list + strlen(list),
			out, 1), 1);
	assert_ptr_equal(p, list + 44);
	p = list;
	assert_int_equal(dir_microdesc_digests_parse(&p, list, out, 4), 0);
}

static void
test_other_requests(void **state)
{
	(void)state;
	check_response("GET /tor/server/all HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
	check_response("GET /favicon.ico HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
	check_response("POST /tor/ HTTP/1.0\r\nContent-Length: 5\r\n\r\n",
			NULL, false,
			"HTTP/1.0 400 Nonauthoritative directory does not accept "
			"posted server descriptors\r\nDate: " DATE "\r\n\r\n");
	{
		struct dir_request req;
		uint8_t *out;
		size_t len;

		assert_int_equal(parse("GET /tor/keys/all HTTP/1.0\r\n\r\n",
				&req, NULL), 0);
		assert_int_equal(dir_server_respond(&req, &store, NOW,
				"1.2.3.4\r\nX: y", false, NULL, &out, &len),
				-EINVAL);
	}
}

/* HSDir: a store holding one descriptor for the blinded key 0x07 * 32
 * (base64 "BwcH...Bwc"); publish stores only the body "good". */
static const char hs_text[] = "hs-descriptor 3\nsignature x\n";
static int hs_published;
static bool hs_no_callbacks;

static int
hs_publish(void *ctx, const uint8_t *body, size_t len)
{
	(void)ctx;
	hs_published++;
	return len == 4 && memcmp(body, "good", 4) == 0 ? 0 : -EPROTO;
}

static int
hs_descriptor(void *ctx, const uint8_t *key, const uint8_t **text, size_t *len)
{
	static const uint8_t want[32] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
		7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };

	(void)ctx;
	if (memcmp(key, want, 32) != 0)
		return -ENOENT;
	*text = (const uint8_t *)hs_text;
	*len = sizeof(hs_text) - 1;
	return 0;
}

#define HS_KEY_B64 "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"

/* Parses a request with its body, sets anonymous, responds. */
static void
check_hs(const char *request, bool anonymous, bool not_public, const char *expected)
{
	struct dir_store hs_store = store;
	const uint8_t *start = (const uint8_t *)request, *cursor = start;
	const uint8_t *end = start + strlen(request);
	struct dir_request req;
	uint8_t *out = NULL;
	size_t out_len = 0;

	hs_store.hs_publish = hs_no_callbacks ? NULL : hs_publish;
	hs_store.hs_descriptor = hs_no_callbacks ? NULL : hs_descriptor;
	hs_store.not_public_relay = not_public;
	assert_int_equal(dir_request_parse(&cursor, end, &req), 0);
	assert_int_equal(dir_request_body(&cursor, end, 1000, &req), 0);
	req.anonymous = anonymous;
	memset(&last_info, 0, sizeof(last_info));
	assert_int_equal(dir_server_respond(&req, &hs_store, NOW, NULL, false, &last_info, &out,
			&out_len), 0);
	if (out_len != strlen(expected) || memcmp(out, expected, out_len) != 0)
		fprintf(stderr, "got:\n%.*s\nwant:\n%s\n", (int)out_len, (const char *)out,
				expected);
	assert_int_equal(out_len, strlen(expected));
	assert_memory_equal(out, expected, out_len);
	free(out);
}

static void
test_hs_requests(void **state)
{
	static const char post_good[] = "POST /tor/hs/3/publish HTTP/1.0\r\nHost: 10.0.0.1:9001"
			"\r\nContent-Length: 4\r\n\r\ngood";
	static const char stored[] = "HTTP/1.0 200 HS descriptor stored successfully.\r\n"
			"Date: " DATE "\r\n\r\n";
	static const char rejected[] = "HTTP/1.0 400 Invalid HS descriptor. Rejected.\r\n"
			"Date: " DATE "\r\n\r\n";
	static const char not_found[] = "HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n";

	(void)state;
	/* GET as tor's dirclient sends it over BEGIN_DIR. */
	check_hs("GET /tor/hs/3/" HS_KEY_B64 " HTTP/1.0\r\nHost: 10.0.0.1:9001\r\n\r\n",
			true, false,
			"HTTP/1.0 200 OK\r\nDate: " DATE "\r\nContent-Type: text/plain\r\n"
			"Content-Encoding: identity\r\nContent-Length: 28\r\n"
			"Pragma: no-cache\r\n\r\nhs-descriptor 3\nsignature x\n");
	assert_int_equal(last_info.resource, DIR_RESOURCE_HS_FETCH);
	assert_int_equal(last_info.status, 200);
	assert_true(last_info.has_hs_key);
	assert_int_equal(last_info.hs_key[31], 7);
	/* With '=' padding too (digest256_from_base64). */
	check_hs("GET /tor/hs/3/" HS_KEY_B64 "= HTTP/1.0\r\n\r\n", true, false,
			"HTTP/1.0 200 OK\r\nDate: " DATE "\r\nContent-Type: text/plain\r\n"
			"Content-Encoding: identity\r\nContent-Length: 28\r\n"
			"Pragma: no-cache\r\n\r\nhs-descriptor 3\nsignature x\n");
	/* Another key, a key that does not decode, an empty key. */
	check_hs("GET /tor/hs/3/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA HTTP/1.0\r\n\r\n",
			true, false, not_found);
	assert_true(last_info.has_hs_key);
	check_hs("GET /tor/hs/3/BwcH HTTP/1.0\r\n\r\n", true, false, not_found);
	assert_false(last_info.has_hs_key);
	check_hs("GET /tor/hs/3/ HTTP/1.0\r\n\r\n", true, false, not_found);
	check_hs("GET /tor/hs/2/" HS_KEY_B64 " HTTP/1.0\r\n\r\n", true, false, not_found);
	/* Not anonymous: tor's connection_dir_is_anonymous fails. */
	check_hs("GET /tor/hs/3/" HS_KEY_B64 " HTTP/1.0\r\n\r\n", false, false,
			"HTTP/1.0 503 Rejecting single hop HS v3 descriptor request\r\n"
			"Date: " DATE "\r\n\r\n");
	assert_true(last_info.single_hop);

	hs_published = 0;
	check_hs(post_good, true, false, stored);
	assert_int_equal(last_info.resource, DIR_RESOURCE_HS_PUBLISH);
	assert_int_equal(last_info.status, 200);
	assert_int_equal(hs_published, 1);
	check_hs("POST /tor/hs/3/publish HTTP/1.0\r\nContent-Length: 3\r\n\r\nbad", true,
			false, rejected);
	/* parse_hs_version_from_post: "+3", anything after "/publish". */
	check_hs("POST /tor/hs/+3/publishing HTTP/1.0\r\nContent-Length: 4\r\n\r\ngood",
			true, false, stored);
	assert_int_equal(hs_published, 3);
	/* Other versions and URLs: 400 without looking at the body. */
	check_hs("POST /tor/hs/2/publish HTTP/1.0\r\nContent-Length: 4\r\n\r\ngood", true,
			false, rejected);
	check_hs("POST /tor/hs/3/upload HTTP/1.0\r\nContent-Length: 4\r\n\r\ngood", true,
			false, rejected);
	check_hs("POST /tor/hs/x/publish HTTP/1.0\r\nContent-Length: 4\r\n\r\ngood", true,
			false, rejected);
	check_hs("POST /tor/hs/99999999999/publish HTTP/1.0\r\nContent-Length: 4\r\n\r\n"
			"good", true, false, rejected);
	assert_int_equal(hs_published, 3);
	check_hs(post_good, false, false,
			"HTTP/1.0 503 Rejecting single hop HS descriptor post\r\n"
			"Date: " DATE "\r\n\r\n");
	assert_true(last_info.single_hop);
	check_hs(post_good, true, true,
			"HTTP/1.0 503 Not acting as a public relay\r\nDate: " DATE "\r\n\r\n");
	assert_int_equal(hs_published, 3);
	/* Without the callbacks every upload is refused. */
	hs_no_callbacks = true;
	check_hs(post_good, true, false, rejected);
	check_hs("GET /tor/hs/3/" HS_KEY_B64 " HTTP/1.0\r\n\r\n", true, false, not_found);
	hs_no_callbacks = false;
	assert_int_equal(hs_published, 3);
}

/* dir_request_body: Content-Length bytes, bounded. */
static void
test_request_body(void **state)
{
	static const char req_text[] = "POST /tor/hs/3/publish HTTP/1.0\r\n"
			"Content-Length: 10\r\n\r\n0123456789extra";
	const uint8_t *start = (const uint8_t *)req_text, *p = start, *head_end;
	struct dir_request req;

	(void)state;
	assert_int_equal(dir_request_parse(&p, start + strlen(req_text), &req), 0);
	head_end = p;
	assert_int_equal(req.content_length, 10);
	/* Incomplete body. */
	assert_int_equal(dir_request_body(&p, head_end + 9, 1000, &req), -EAGAIN);
	assert_ptr_equal(p, head_end);
	/* Over the limit. */
	assert_int_equal(dir_request_body(&p, head_end + 10, 9, &req), -EMSGSIZE);
	assert_ptr_equal(p, head_end);
	assert_int_equal(dir_request_body(&p, start + strlen(req_text), 10, &req), 0);
	assert_ptr_equal(req.body, head_end);
	assert_int_equal(req.body_len, 10);
	assert_ptr_equal(p, head_end + 10);
	/* A GET has no body, whatever follows. */
	p = start = (const uint8_t *)"GET / HTTP/1.0\r\nContent-Length: 5\r\n\r\nabcde";
	assert_int_equal(dir_request_parse(&p, start + strlen((const char *)start), &req), 0);
	head_end = p;
	assert_int_equal(dir_request_body(&p, head_end, 1, &req), 0);
	assert_int_equal(req.body_len, 0);
	assert_ptr_equal(p, head_end);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1123),
		cmocka_unit_test(test_parse_tor_requests),
		cmocka_unit_test(test_consensus_response),
		cmocka_unit_test(test_microdesc_response),
		cmocka_unit_test(test_keys_response),
		cmocka_unit_test(test_consensus_diff_and_signers),
		cmocka_unit_test(test_consensus_diffs),
		cmocka_unit_test(test_microdesc_digest_list),
		cmocka_unit_test(test_other_requests),
		cmocka_unit_test(test_hs_requests),
		cmocka_unit_test(test_request_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
