/* libFuzzer target for control/dir_http.c's reply-head parser. Checks: the
 * cursor moves only on success and then lands inside the input, right after
 * an empty line; every pointer stays inside the head; the fields are within
 * their documented ranges; the result does not depend on bytes after the
 * head; one byte less of the head asks for more (-EAGAIN); header lookup
 * finds each parsed name. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/dir_http.h"

static void
check_inside(const void *p, size_t len, const uint8_t *start,
		const uint8_t *end)
{
	const uint8_t *q = p;

	if (q < start || q > end || len > (size_t)(end - q))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dir_http_response response, again;
	const uint8_t *cursor = data, *head_end;
	size_t i;
	int rc;

	rc = dir_http_response_parse(&cursor, data + size, &response);
	if (rc != 0) {
		if (cursor != data)
			abort();
		if (rc != -EAGAIN && rc != -EMSGSIZE && rc != -EPROTO)
			abort();
		if (rc == -EAGAIN && size >= DIR_HTTP_HEADERS_MAX_LEN)
			abort();
		return 0;
	}
	head_end = cursor;
	if (head_end <= data || head_end > data + size || head_end[-1] != '\n')
		abort();
	if (head_end - data > DIR_HTTP_HEADERS_MAX_LEN + 2)
		abort();
	if (response.http_minor > 1 || response.status < 100 ||
			response.status > 599 ||
			response.n_headers > DIR_HTTP_MAX_HEADERS)
		abort();
	if (response.has_content_length &&
			response.content_length > DIR_HTTP_CONTENT_LENGTH_MAX)
		abort();
	check_inside(response.reason, response.reason_len, data, head_end);
	for (i = 0; i < response.n_headers; i++) {
		const struct dir_http_header *header = &response.headers[i];
		static char name[DIR_HTTP_HEADERS_MAX_LEN + 1];

		check_inside(header->name, header->name_len, data, head_end);
		check_inside(header->value, header->value_len, data, head_end);
		if (header->name_len == 0 ||
				memchr(header->name, ':', header->name_len))
			abort();
		memcpy(name, header->name, header->name_len);
		name[header->name_len] = '\0';
		if (dir_http_response_header(&response, name) == NULL)
			abort();
	}

	/* The head alone parses the same. */
	cursor = data;
	if (dir_http_response_parse(&cursor, head_end, &again) != 0 ||
			cursor != head_end || again.status != response.status ||
			again.n_headers != response.n_headers)
		abort();
	/* One byte short of the empty line: incomplete. */
	cursor = data;
	if (dir_http_response_parse(&cursor, head_end - 1, &again) != -EAGAIN ||
			cursor != data)
		abort();
	return 0;
}
