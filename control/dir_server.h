/* The directory cache's side of dir-spec HTTP/1.0 over BEGIN_DIR streams
 * (dir-spec "HTTP headers", "Downloading ... from a directory cache"):
 * a pure bounded request parser and a responder that writes the response
 * bytes tor's dircache.c writes, from documents a store hands over.
 *
 * Requests, as tor's dirclient.c directory_send_command writes them:
 *   GET URL HTTP/1.0\r\n
 *   Host: ADDRESS\r\n
 *   [If-Modified-Since: RFC1123 date\r\n]
 *   [X-Or-Diff-From-Consensus: ...\r\n]
 *   Accept-Encoding: x-tor-lzma, x-zstd, deflate, gzip, identity\r\n
 *   \r\n
 * with URL e.g. /tor/status-vote/current/consensus-microdesc/FP+FP.z,
 * /tor/micro/d/D-D-D (base64 SHA-256 without padding), /tor/keys/all,
 * /tor/keys/fp/HEX+HEX.
 *
 * We compress nothing, so every answer is "Content-Encoding: identity",
 * which tor does too when the client does not list a method both support
 * (dircache.c directory_handle_command_get masks the client's methods with
 * its own and find_best_compression_method falls back to NO_METHOD), and
 * which dirclient.c accepts for any request (it decompresses according to
 * the header and what the body looks like, also for ".z" URLs).
 *
 * Responses (dircache.c write_http_response_header_impl and
 * write_short_http_response):
 *   HTTP/1.0 200 OK\r\n
 *   Date: RFC1123\r\n
 *   Content-Type: text/plain\r\n
 *   [X-Your-Address-Is: CLIENT\r\n]     omitted for local addresses
 *   Content-Encoding: identity\r\n
 *   [Content-Length: N\r\n]             keys only (micro and consensus
 *                                       are spooled without a length)
 *   Expires: RFC1123\r\n | Pragma: no-cache\r\n
 *   [Vary: X-Or-Diff-From-Consensus\r\n] consensus only
 *   \r\n BODY
 * and errors as "HTTP/1.0 CODE REASON\r\nDate: RFC1123\r\n\r\n".
 *
 * Not served (404 "Not found", what tor says for a resource it lacks):
 * /tor/server/..., /tor/extra/..., /tor/keys/sk/..., /tor/keys/fp-sk/...,
 * consensus diffs, /tor/hs/3/... (issue 6). The consensus is served
 * whatever authority fingerprints the URL names (tor checks
 * client_likes_consensus; we only hold verified consensuses anyway).
 */
#ifndef HSRELAY_CONTROL_DIR_SERVER_H
#define HSRELAY_CONTROL_DIR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* A request head longer than this is refused (the longest tor sends is a
 * microdescriptor fetch of 92 digests, about 4 KB; tor's own limit is
 * MAX_HEADERS_SIZE, 50000). */
#define DIR_REQUEST_HEAD_MAX 16384
#define DIR_SERVER_DIGEST256_LEN 32
#define DIR_SERVER_DIGEST_LEN 20

enum dir_request_method {
	DIR_REQUEST_GET,
	DIR_REQUEST_POST,
};

struct dir_request {
	enum dir_request_method method;
	const char *url;	/* into the input, url_len bytes, path only */
	size_t url_len;
	/* If-Modified-Since, parsed (0 when absent or malformed: tor then
	 * acts as if it was not given). */
	time_t if_modified_since;
	size_t content_length;	/* POST */
};

/* Parses a request head at [*p, end): request line, headers, empty line
 * (CRLF or bare LF line ends, as tor's fetch_from_buf_http). An absolute
 * URL "http://host/path" is cut to its path (tor parse_http_url).
 * On success *p points after the head. Errors, *p untouched:
 *   -EAGAIN    no empty line yet, fewer than DIR_REQUEST_HEAD_MAX bytes;
 *   -EMSGSIZE  the head is longer than DIR_REQUEST_HEAD_MAX;
 *   -EPROTO    not "GET|POST SP URL SP HTTP/1.0|HTTP/1.1", a URL not
 *              starting with '/', control bytes, a header line without
 *              a colon, a bad Content-Length. tor closes the connection
 *              for an unknown method: so should the caller (END). */
int dir_request_parse(const uint8_t **p, const uint8_t *end,
		struct dir_request *out);

enum dir_consensus_flavor {
	DIR_CONSENSUS_NS,
	DIR_CONSENSUS_MICRODESC,
};

/* Documents the cache serves; every callback may be NULL (nothing held).
 * Returned text is borrowed until the responder returns. */
struct dir_store {
	void *ctx;
	/* The newest verified consensus of a flavor, its raw text and times.
	 * 0, or -ENOENT. */
	int (*consensus)(void *ctx, enum dir_consensus_flavor flavor,
			const uint8_t **text, size_t *len, time_t *valid_after,
			time_t *fresh_until, time_t *valid_until);
	/* The microdescriptor whose SHA-256 is digest. 0 or -ENOENT. */
	int (*microdesc)(void *ctx, const uint8_t *digest,
			const uint8_t **text, size_t *len);
	/* The index-th authority key certificate (0, 1, ... until -ENOENT),
	 * with the SHA-1 of its identity key. */
	int (*authority_cert)(void *ctx, size_t index, const uint8_t **text,
			size_t *len, uint8_t *identity_digest);
};

/* Writes the response to req into a malloc'd buffer (*out, *out_len;
 * caller frees). now is the wall clock (Date, Expires, freshness);
 * client_address the X-Your-Address-Is value or NULL to omit it; busy
 * answers 503 "Directory busy, try again later" where tor would when it
 * is short of bandwidth. Returns 0, -ENOMEM, or -EINVAL for a
 * client_address with bytes outside printable ASCII. */
int dir_server_respond(const struct dir_request *req,
		const struct dir_store *store, time_t now,
		const char *client_address, bool busy, uint8_t **out,
		size_t *out_len);

/* The short error response tor writes (write_short_http_response) for
 * status and reason: "HTTP/1.0 400 Bad request\r\nDate: ...\r\n\r\n".
 * Returns the length written or -EMSGSIZE. */
ssize_t dir_server_short_response(unsigned status, const char *reason,
		time_t now, uint8_t *out, size_t out_len);

/* Formats t as RFC 1123 ("Thu, 01 Jan 1970 00:00:00 GMT", 29 bytes and a
 * NUL) as tor's format_rfc1123_time does. */
void dir_server_rfc1123_time(time_t t, char out[30]);

#endif
