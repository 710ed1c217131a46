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

static int
store_consensus(void *ctx, enum dir_consensus_flavor flavor,
		const uint8_t **text, size_t *len, time_t *valid_after,
		time_t *fresh_until, time_t *valid_until)
{
	(void)ctx;
	if (flavor != DIR_CONSENSUS_MICRODESC)
		return -ENOENT;
	*text = (const uint8_t *)consensus_text;
	*len = strlen(consensus_text);
	*valid_after = NOW - 600;
	*fresh_until = NOW + 3000;
	*valid_until = NOW + 3 * 3600;
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

static int
store_cert(void *ctx, size_t index, const uint8_t **text, size_t *len,
		uint8_t *id)
{
	(void)ctx;
	if (index > 1)
		return -ENOENT;
	*text = (const uint8_t *)(index == 0 ? cert_1 : cert_2);
	*len = strlen(index == 0 ? cert_1 : cert_2);
	memset(id, index == 0 ? 0xaa : 0xbb, 20);
	return 0;
}

static const struct dir_store store = {
	.consensus = store_consensus,
	.microdesc = store_microdesc,
	.authority_cert = store_cert,
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

/* Parses request, responds, compares with expected. */
static void
check_response(const char *request, const char *client, bool busy,
		const char *expected)
{
	struct dir_request req;
	uint8_t *out = NULL;
	size_t out_len = 0;

	assert_int_equal(parse(request, &req, NULL), 0);
	assert_int_equal(dir_server_respond(&req, &store, NOW, client, busy,
			&out, &out_len), 0);
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
			"Content-Encoding: identity\r\n"
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
	/* Asked b, a, unknown, a again: sorted, unique, unknown left out. */
	snprintf(request, sizeof(request),
			"GET /tor/micro/d/%s-%s-%s-%s.z HTTP/1.0\r\n\r\n",
			md_b_b64, md_a_b64,
			"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI", md_a_b64);
	check_response(request, NULL, false,
			"HTTP/1.0 200 OK\r\n"
			"Date: " DATE "\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Encoding: identity\r\n"
			"Expires: Sat, 04 Jan 2025 03:04:05 GMT\r\n"
			"\r\n"
			"onion-key\nntor-onion-key AAAA\n"
			"onion-key\nntor-onion-key BBBB\n");
	check_response("GET /tor/micro/d/AgICAgICAgICAgICAgICAgICAgICAgICAgI"
			"CAgICAgICAgI HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
}

static void
test_keys_response(void **state)
{
	char expected[1024];

	(void)state;
	snprintf(expected, sizeof(expected),
			"HTTP/1.0 200 OK\r\n"
			"Date: " DATE "\r\n"
			"Content-Type: text/plain\r\n"
			"X-Your-Address-Is: 203.0.113.9\r\n"
			"Content-Encoding: identity\r\n"
			"Content-Length: %zu\r\n"
			"Expires: Thu, 02 Jan 2025 04:04:05 GMT\r\n"
			"\r\n%s%s", strlen(cert_1) + strlen(cert_2), cert_1,
			cert_2);
	check_response("GET /tor/keys/all.z HTTP/1.0\r\n\r\n", "203.0.113.9",
			false, expected);
	snprintf(expected, sizeof(expected),
			"HTTP/1.0 200 OK\r\n"
			"Date: " DATE "\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Encoding: identity\r\n"
			"Content-Length: %zu\r\n"
			"Expires: Thu, 02 Jan 2025 04:04:05 GMT\r\n"
			"\r\n%s", strlen(cert_2), cert_2);
	check_response("GET /tor/keys/fp/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
			"BBBB+CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC.z "
			"HTTP/1.0\r\n\r\n", NULL, false, expected);
	check_response("GET /tor/keys/fp/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
			"CCCC HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 404 Not found\r\nDate: " DATE "\r\n\r\n");
	check_response("GET /tor/keys/bogus HTTP/1.0\r\n\r\n", NULL, false,
			"HTTP/1.0 400 Bad request\r\nDate: " DATE "\r\n\r\n");
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
				"1.2.3.4\r\nX: y", false, &out, &len), -EINVAL);
	}
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
		cmocka_unit_test(test_other_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
