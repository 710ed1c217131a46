/* Directory protocol HTTP/1.0 requests and reply heads (see dir_http.h). */
#include "control/dir_http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool
ascii_case_equal_n(const char *a, size_t a_len, const char *b, size_t b_len)
{
	size_t i;

	if (a_len != b_len)
		return false;
	for (i = 0; i < a_len; i++) {
		char x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool
ascii_case_equal(const char *a, size_t a_len, const char *b)
{
	return ascii_case_equal_n(a, a_len, b, strlen(b));
}

/* RFC 9110 5.6.2 tchar. */
static bool
is_token_char(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
			(c >= 'a' && c <= 'z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Control bytes other than HT are not allowed inside a line. */
static bool
line_is_clean(const uint8_t *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
			return false;
	}
	return true;
}

static int
parse_status_line(const uint8_t *line, size_t len,
		struct dir_http_response *out)
{
	static const char version[] = "HTTP/1.";
	size_t prefix = sizeof(version) - 1, i;
	unsigned status = 0;

	/* "HTTP/1.x NNN" then end of line or " reason". */
	if (len < prefix + 1 + 1 + 3 ||
			memcmp(line, version, prefix) != 0 ||
			(line[prefix] != '0' && line[prefix] != '1') ||
			line[prefix + 1] != ' ')
		return -EPROTO;
	out->http_minor = (unsigned)(line[prefix] - '0');
	for (i = prefix + 2; i < prefix + 5; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -EPROTO;
		status = status * 10 + (unsigned)(line[i] - '0');
	}
	if (status < 100 || status > 599)
		return -EPROTO;
	out->status = status;
	i = prefix + 5;
	if (i == len) {
		out->reason = (const char *)line + i;
		out->reason_len = 0;
		return 0;
	}
	if (line[i] != ' ')
		return -EPROTO;
	out->reason = (const char *)line + i + 1;
	out->reason_len = len - i - 1;
	return 0;
}

static int
parse_content_length(const char *value, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > 10)
		return -EPROTO;
	for (i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -EPROTO;
		n = n * 10 + (uint64_t)(value[i] - '0');
	}
	if (n > DIR_HTTP_CONTENT_LENGTH_MAX)
		return -EPROTO;
	*out = n;
	return 0;
}

static int
parse_header_line(const uint8_t *line, size_t len,
		struct dir_http_response *out)
{
	struct dir_http_header *header;
	size_t name_len = 0, value_start, value_end;
	uint64_t content_length;

	/* A line starting with SP or HT continues the previous header
	 * (obsolete folding, RFC 9112 5.2): refused. */
	while (name_len < len && is_token_char(line[name_len]))
		name_len++;
	if (name_len == 0 || name_len == len || line[name_len] != ':')
		return -EPROTO;
	if (out->n_headers == DIR_HTTP_MAX_HEADERS)
		return -EMSGSIZE;
	value_start = name_len + 1;
	while (value_start < len && (line[value_start] == ' ' ||
			line[value_start] == '\t'))
		value_start++;
	value_end = len;
	while (value_end > value_start && (line[value_end - 1] == ' ' ||
			line[value_end - 1] == '\t'))
		value_end--;

	header = &out->headers[out->n_headers++];
	header->name = (const char *)line;
	header->name_len = name_len;
	header->value = (const char *)line + value_start;
	header->value_len = value_end - value_start;

	if (ascii_case_equal(header->name, name_len, "Content-Length")) {
		if (parse_content_length(header->value, header->value_len,
				&content_length) != 0)
			return -EPROTO;
		if (out->has_content_length &&
				out->content_length != content_length)
			return -EPROTO;
		out->has_content_length = true;
		out->content_length = content_length;
	} else if (ascii_case_equal(header->name, name_len,
			"X-Descriptor-Not-New")) {
		out->descriptor_not_new = ascii_case_equal(header->value,
				header->value_len, "Yes");
	}
	return 0;
}

int
dir_http_response_parse(const uint8_t **p, const uint8_t *end,
		struct dir_http_response *out)
{
	const uint8_t *start = *p, *head_end = NULL, *body = NULL, *line;
	size_t avail, limit, i;
	bool first = true;
	int rc;

	if (end < start)
		return -EPROTO;
	avail = (size_t)(end - start);
	limit = avail < DIR_HTTP_HEADERS_MAX_LEN ? avail :
		DIR_HTTP_HEADERS_MAX_LEN;
	/* The head ends with an empty line: LF then LF or CR LF. */
	for (i = 0; i < limit && head_end == NULL; i++) {
		if (start[i] != '\n')
			continue;
		if (i + 1 < avail && start[i + 1] == '\n') {
			head_end = start + i + 1;
			body = start + i + 2;
		} else if (i + 2 < avail && start[i + 1] == '\r' &&
				start[i + 2] == '\n') {
			head_end = start + i + 1;
			body = start + i + 3;
		}
	}
	if (head_end == NULL)
		return avail >= DIR_HTTP_HEADERS_MAX_LEN ? -EMSGSIZE : -EAGAIN;

	memset(out, 0, sizeof(*out));
	for (line = start; line < head_end;) {
		const uint8_t *eol = memchr(line, '\n',
				(size_t)(head_end - line));
		size_t len = (size_t)(eol - line);

		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (!line_is_clean(line, len))
			return -EPROTO;
		rc = first ? parse_status_line(line, len, out) :
			parse_header_line(line, len, out);
		if (rc != 0)
			return rc;
		first = false;
		line = eol + 1;
	}
	*p = body;
	return 0;
}

const struct dir_http_header *
dir_http_response_header(const struct dir_http_response *response,
		const char *name)
{
	size_t i;

	for (i = 0; i < response->n_headers; i++) {
		const struct dir_http_header *header = &response->headers[i];

		if (ascii_case_equal_n(header->name, header->name_len, name,
				strlen(name)))
			return header;
	}
	return NULL;
}

/* Printable ASCII, non-empty; spaces only when allowed. */
static bool
is_request_text(const char *s, bool spaces)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e || (*s == ' ' && !spaces))
			return false;
	}
	return true;
}

static ssize_t
finish(int n, size_t out_len)
{
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= out_len)
		return -EMSGSIZE;
	return n;
}

ssize_t
dir_http_upload_request(const char *host, const char *reason,
		const uint8_t *body, size_t body_len, uint8_t *out,
		size_t out_len)
{
	ssize_t head_len;

	if (!is_request_text(host, false) || !is_request_text(reason, true))
		return -EINVAL;
	head_len = finish(snprintf((char *)out, out_len,
			"POST /tor/ HTTP/1.0\r\n"
			"Host: %s\r\n"
			"Accept-Encoding: identity\r\n"
			"X-Desc-Gen-Reason: %s\r\n"
			"Content-Length: %zu\r\n"
			"\r\n", host, reason, body_len), out_len);
	if (head_len < 0)
		return head_len;
	if (body_len > out_len - (size_t)head_len)
		return -EMSGSIZE;
	memcpy(out + head_len, body, body_len);
	return head_len + (ssize_t)body_len;
}

ssize_t
dir_http_get_request(const char *host, const char *path, uint8_t *out,
		size_t out_len)
{
	if (!is_request_text(host, false) || !is_request_text(path, false) ||
			path[0] != '/')
		return -EINVAL;
	return finish(snprintf((char *)out, out_len,
			"GET %s HTTP/1.0\r\n"
			"Host: %s\r\n"
			"Accept-Encoding: identity\r\n"
			"\r\n", path, host), out_len);
}
