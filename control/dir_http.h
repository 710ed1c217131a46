/* The directory protocol's HTTP/1.0 messages (dir-spec 6.2 "HTTP
 * headers", dir-spec "Publishing server descriptors"): the request a relay
 * sends to upload its descriptor (tor dirclient.c directory_send_command
 * for DIR_PURPOSE_UPLOAD_DIR), a GET for directory documents, and a pure
 * bounded parser for the status line and headers of the reply.
 *
 * The module produces and parses bytes only; the transport (a TCP
 * connection to the authority's DirPort, later the dataplane's) is the
 * caller's. HTTP/1.0 without keep-alive: the reply body runs to the end of
 * the connection, or to Content-Length when the server sent one.
 *
 * Upload request, header order as tor 0.4.9.11 sends it (captured):
 *   POST /tor/ HTTP/1.0\r\n
 *   Host: ADDRESS:DIRPORT\r\n
 *   Accept-Encoding: identity\r\n
 *   X-Desc-Gen-Reason: REASON\r\n
 *   Content-Length: N\r\n
 *   \r\n
 *   DESCRIPTOR
 * tor lists the compressions it can decode ("x-tor-lzma, x-zstd, deflate,
 * gzip, identity"); we can decode none, so we offer identity only. A reply
 * to an upload has no body anyway.
 *
 * Authorities answer an upload with "200 <message>" when the descriptor was
 * accepted (also when it was a duplicate; then with "X-Descriptor-Not-New:
 * Yes" in 0.4.9), and "400 <reason>" when it was rejected
 * (dircache.c directory_handle_command_post, process_descs.c).
 */
#ifndef HSRELAY_CONTROL_DIR_HTTP_H
#define HSRELAY_CONTROL_DIR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* tor's MAX_HEADERS_SIZE (or.h): a status line and headers longer than
 * this are refused. */
#define DIR_HTTP_HEADERS_MAX_LEN 50000
#define DIR_HTTP_MAX_HEADERS 64
/* The largest Content-Length accepted: tor's MAX_DIR_DL_SIZE (16 MB - 1),
 * the most a tor directory client downloads in one reply. */
#define DIR_HTTP_CONTENT_LENGTH_MAX ((1u << 24) - 1)

struct dir_http_header {
	const char *name;	/* not NUL-terminated: name_len bytes */
	size_t name_len;
	const char *value;	/* without surrounding spaces and tabs */
	size_t value_len;
};

struct dir_http_response {
	unsigned http_minor;		/* HTTP/1.0 or HTTP/1.1 */
	unsigned status;		/* 100..599 */
	const char *reason;		/* reason phrase, may be empty */
	size_t reason_len;
	size_t n_headers;
	struct dir_http_header headers[DIR_HTTP_MAX_HEADERS];
	bool has_content_length;
	uint64_t content_length;
	/* "X-Descriptor-Not-New: Yes": the authority had it already. */
	bool descriptor_not_new;
};

/* Parses the status line and headers at [*p, end). Lines end in CRLF; a bare
 * LF is accepted too (tor splits header lines on LF). The head ends at the
 * first empty line.
 * On success *p points at the first body byte and pointers in out point
 * into the input. Errors, *p untouched:
 *   -EAGAIN    no empty line yet and fewer than DIR_HTTP_HEADERS_MAX_LEN
 *              bytes: read more and call again;
 *   -EMSGSIZE  the head is longer than DIR_HTTP_HEADERS_MAX_LEN, or has
 *              more than DIR_HTTP_MAX_HEADERS headers;
 *   -EPROTO    malformed status line (not "HTTP/1.0" or "HTTP/1.1", status
 *              outside 100..599), header line without a name and colon,
 *              continuation line, NUL or other control byte, bad or
 *              conflicting Content-Length. */
int dir_http_response_parse(const uint8_t **p, const uint8_t *end,
		struct dir_http_response *out);

/* The first header named name (ASCII case-insensitive), or NULL. */
const struct dir_http_header *dir_http_response_header(
		const struct dir_http_response *response, const char *name);

/* The upload request above with body (the descriptor, optionally followed
 * by an extra-info document). host is "ADDRESS:PORT" of the authority's
 * DirPort, reason the X-Desc-Gen-Reason text (tor: "Tor just started",
 * "rotated onion key", ...). Returns the length written, -EINVAL when host
 * or reason is empty or holds a byte outside printable ASCII (host: or a
 * space), -EMSGSIZE when out is too small. */
ssize_t dir_http_upload_request(const char *host, const char *reason,
		const uint8_t *body, size_t body_len, uint8_t *out,
		size_t out_len);

/* "GET PATH HTTP/1.0", Host and "Accept-Encoding: identity". path must
 * start with '/' and hold printable ASCII without spaces. Same returns as
 * dir_http_upload_request(). */
ssize_t dir_http_get_request(const char *host, const char *path,
		uint8_t *out, size_t out_len);

#endif
