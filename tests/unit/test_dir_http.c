/* control/dir_http: the upload and GET requests byte for byte, and the
 * reply-head parser on what a tor 0.4.9.11 authority sends (dircache.c
 * write_short_http_response: "HTTP/1.0 %d %s\r\n" + "Date: ...\r\n" for a
 * relay + "\r\n"; the X-Descriptor-Not-New reply) and on malformed or
 * truncated input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/dir_http.h"

static int
parse(const char *text, struct dir_http_response *out, size_t *consumed)
{
	const uint8_t *start = (const uint8_t *)text, *cursor = start;
	int rc = dir_http_response_parse(&cursor, start + strlen(text), out);

	if (consumed != NULL)
		*consumed = (size_t)(cursor - start);
	return rc;
}

static void
test_upload_request(void **state)
{
	static const char descriptor[] = "router x 127.0.0.1 1 0 0\n";
	static const char expected[] =
		"POST /tor/ HTTP/1.0\r\n"
		"Host: 127.0.0.1:7000\r\n"
		"Accept-Encoding: identity\r\n"
		"X-Desc-Gen-Reason: hsrelay just started\r\n"
		"Content-Length: 25\r\n"
		"\r\n"
		"router x 127.0.0.1 1 0 0\n";
	uint8_t out[512];
	ssize_t len;

	(void)state;
	len = dir_http_upload_request("127.0.0.1:7000", "hsrelay just started",
			(const uint8_t *)descriptor, strlen(descriptor), out,
			sizeof(out));
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(out, expected, (size_t)len);
	/* Exactly the room needed (the head's NUL lands where the body goes),
	 * then one byte short. */
	assert_int_equal(dir_http_upload_request("127.0.0.1:7000",
			"hsrelay just started", (const uint8_t *)descriptor,
			strlen(descriptor), out, (size_t)len), len);
	assert_int_equal(dir_http_upload_request("127.0.0.1:7000",
			"hsrelay just started", (const uint8_t *)descriptor,
			strlen(descriptor), out, (size_t)len - 1), -EMSGSIZE);
	assert_int_equal(dir_http_upload_request("127.0.0.1:7000", "a\r\nb",
			(const uint8_t *)descriptor, 1, out, sizeof(out)),
			-EINVAL);
	assert_int_equal(dir_http_upload_request("127.0.0.1 7000", "x",
			(const uint8_t *)descriptor, 1, out, sizeof(out)),
			-EINVAL);
	assert_int_equal(dir_http_upload_request("", "x",
			(const uint8_t *)descriptor, 1, out, sizeof(out)),
			-EINVAL);
	assert_int_equal(dir_http_upload_request("h", "",
			(const uint8_t *)descriptor, 1, out, sizeof(out)),
			-EINVAL);
}

static void
test_get_request(void **state)
{
	static const char expected[] =
		"GET /tor/server/fp/C0935D555E1366D3B39C982EFE47624DB9A44859 HTTP/1.0\r\n"
		"Host: 127.0.0.1:7000\r\n"
		"Accept-Encoding: identity\r\n"
		"\r\n";
	uint8_t out[256];

	(void)state;
	assert_int_equal(dir_http_get_request("127.0.0.1:7000",
			"/tor/server/fp/C0935D555E1366D3B39C982EFE47624DB9A44859",
			out, sizeof(out)), strlen(expected));
	assert_memory_equal(out, expected, strlen(expected));
	assert_int_equal(dir_http_get_request("127.0.0.1:7000", "tor/", out,
			sizeof(out)), -EINVAL);
	assert_int_equal(dir_http_get_request("127.0.0.1:7000", "/a b", out,
			sizeof(out)), -EINVAL);
	assert_int_equal(dir_http_get_request("127.0.0.1:7000", "/tor/", out,
			20), -EMSGSIZE);
}

static void
test_authority_replies(void **state)
{
	struct dir_http_response r;
	const struct dir_http_header *date;
	size_t consumed;

	(void)state;
	/* Accepted (or nothing parsed): tor's msg starts as "[None]". */
	assert_int_equal(parse("HTTP/1.0 200 [None]\r\n"
			"Date: Tue, 01 Dec 2026 00:59:23 GMT\r\n\r\n", &r,
			&consumed), 0);
	assert_int_equal(r.http_minor, 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.reason_len, 6);
	assert_memory_equal(r.reason, "[None]", 6);
	assert_int_equal(r.n_headers, 1);
	date = dir_http_response_header(&r, "date");
	assert_non_null(date);
	assert_int_equal(date->value_len, 29);
	assert_memory_equal(date->value, "Tue, 01 Dec 2026 00:59:23 GMT", 29);
	assert_false(r.has_content_length);
	assert_false(r.descriptor_not_new);
	assert_int_equal(consumed, strlen("HTTP/1.0 200 [None]\r\n"
			"Date: Tue, 01 Dec 2026 00:59:23 GMT\r\n\r\n"));

	/* Rejected. */
	assert_int_equal(parse("HTTP/1.0 400 descriptor(s) or extrainfo(s) not "
			"valid UTF-8 or had BOM.\r\n\r\n", &r, NULL), 0);
	assert_int_equal(r.status, 400);
	assert_int_equal(r.reason_len, strlen("descriptor(s) or extrainfo(s) "
			"not valid UTF-8 or had BOM."));

	/* Duplicate: write_http_response_header_impl with the extra header,
	 * status 200 "OK". */
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nDate: x\r\n"
			"X-Descriptor-Not-New: Yes\r\n\r\n", &r, NULL), 0);
	assert_true(r.descriptor_not_new);
	assert_null(dir_http_response_header(&r, "Content-Length"));

	/* A served document with its body following. */
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nDate: x\r\n"
			"Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nrouter",
			&r, &consumed), 0);
	assert_true(r.has_content_length);
	assert_int_equal(r.content_length, 5);
	assert_int_equal(r.n_headers, 3);
	assert_int_equal(consumed, strlen("HTTP/1.0 200 OK\r\nDate: x\r\n"
			"Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n"));
}

static void
test_lenient_forms(void **state)
{
	struct dir_http_response r;
	size_t consumed;

	(void)state;
	/* Bare LF, HTTP/1.1, no reason, spaces around values, an empty value. */
	assert_int_equal(parse("HTTP/1.1 404\nX-A:  v  \nX-B:\n\nbody", &r,
			&consumed), 0);
	assert_int_equal(r.http_minor, 1);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.reason_len, 0);
	assert_int_equal(r.n_headers, 2);
	assert_int_equal(r.headers[0].value_len, 1);
	assert_memory_equal(r.headers[0].value, "v", 1);
	assert_int_equal(r.headers[1].value_len, 0);
	assert_int_equal(consumed, strlen("HTTP/1.1 404\nX-A:  v  \nX-B:\n\n"));
	/* Repeated equal Content-Length. */
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n"
			"content-length: 3\r\n\r\n", &r, NULL), 0);
	assert_int_equal(r.content_length, 3);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.2 200 OK\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"http/1.0 200 OK\r\n\r\n",
		"HTTP/1.0 099 Low\r\n\r\n",
		"HTTP/1.0 600 High\r\n\r\n",
		"HTTP/1.0 20 Short\r\n\r\n",
		"HTTP/1.0 2000 Long\r\n\r\n",
		"HTTP/1.0  200 OK\r\n\r\n",
		"HTTP/1.0 200OK\r\n\r\n",
		"\r\nHTTP/1.0 200 OK\r\n\r\n",
		"HTTP/1.0 200 OK\r\nNo colon\r\n\r\n",
		"HTTP/1.0 200 OK\r\n: empty name\r\n\r\n",
		"HTTP/1.0 200 OK\r\nA: 1\r\n folded\r\n\r\n",
		"HTTP/1.0 200 OK\r\nA: x\x01y\r\n\r\n",
		"HTTP/1.0 200 O\rK\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: 1 2\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: \r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: 16777216\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	};
	struct dir_http_response r;
	size_t i, consumed;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		consumed = 99;
		if (parse(bad[i], &r, &consumed) != -EPROTO)
			fail_msg("accepted or misjudged: %s", bad[i]);
		assert_int_equal(consumed, 0);
	}
	/* NUL inside the head. */
	{
		static const uint8_t nul[] = "HTTP/1.0 200 O\0K\r\n\r\n";
		const uint8_t *cursor = nul;

		assert_int_equal(dir_http_response_parse(&cursor,
				nul + sizeof(nul) - 1, &r), -EPROTO);
	}
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 16777215\r\n\r\n",
			&r, NULL), 0);
}

static void
test_incomplete_and_limits(void **state)
{
	static const char full[] = "HTTP/1.0 200 OK\r\nDate: x\r\n\r\n";
	struct dir_http_response r;
	uint8_t *big;
	const uint8_t *cursor;
	size_t i, len;
	char prefix[sizeof(full)];

	(void)state;
	/* Every proper prefix asks for more. */
	for (i = 0; i + 1 < sizeof(full); i++) {
		memcpy(prefix, full, i);
		prefix[i] = '\0';
		assert_int_equal(parse(prefix, &r, NULL), -EAGAIN);
	}
	assert_int_equal(parse(full, &r, NULL), 0);

	/* 64 headers fit, 65 do not. */
	big = malloc(DIR_HTTP_HEADERS_MAX_LEN + 16);
	assert_non_null(big);
	len = (size_t)sprintf((char *)big, "HTTP/1.0 200 OK\r\n");
	for (i = 0; i < DIR_HTTP_MAX_HEADERS; i++)
		len += (size_t)sprintf((char *)big + len, "X-%zu: v\r\n", i);
	len += (size_t)sprintf((char *)big + len, "\r\n");
	cursor = big;
	assert_int_equal(dir_http_response_parse(&cursor, big + len, &r), 0);
	assert_int_equal(r.n_headers, DIR_HTTP_MAX_HEADERS);
	len -= 2;
	len += (size_t)sprintf((char *)big + len, "X-last: v\r\n\r\n");
	cursor = big;
	assert_int_equal(dir_http_response_parse(&cursor, big + len, &r),
			-EMSGSIZE);

	/* A head that does not end within MAX_HEADERS_SIZE. */
	memset(big, 'a', DIR_HTTP_HEADERS_MAX_LEN + 16);
	memcpy(big, "HTTP/1.0 200 OK\r\nX: ", 20);
	cursor = big;
	assert_int_equal(dir_http_response_parse(&cursor,
			big + DIR_HTTP_HEADERS_MAX_LEN - 1, &r), -EAGAIN);
	assert_int_equal(dir_http_response_parse(&cursor,
			big + DIR_HTTP_HEADERS_MAX_LEN, &r), -EMSGSIZE);
	assert_ptr_equal(cursor, big);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_request),
		cmocka_unit_test(test_get_request),
		cmocka_unit_test(test_authority_replies),
		cmocka_unit_test(test_lenient_forms),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_incomplete_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
