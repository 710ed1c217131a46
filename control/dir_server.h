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
 Answers are compressed as tor's dircache.c compresses them
 * (control/dir_compress.h): the methods the client lists in
 * Accept-Encoding, plus deflate for a ".z" URL, pick the Content-Encoding;
 * the consensus prefers x-tor-lzma, x-zstd, deflate, gzip (kept
 * compressed: the store may hand over a copy compressed once),
 * microdescriptors and key certificates x-zstd, deflate, gzip (compressed
 * per answer, as one stream), identity when the client lists none of them;
 * HS descriptors are always identity (handle_get_hs_descriptor_v3).
 *
 * Responses (dircache.c write_http_response_header_impl and
 * write_short_http_response):
 *   HTTP/1.0 200 OK\r\n
 *   Date: RFC1123\r\n
 *   Content-Type: text/plain\r\n
 *   [X-Your-Address-Is: CLIENT\r\n]     omitted for local addresses
 *   Content-Encoding: METHOD\r\n
 *   [Content-Length: N\r\n]             uncompressed keys and HS
 *                                       descriptors only (micro and
 *                                       consensus are spooled without
 *                                       a length)
 *   Expires: RFC1123\r\n | Pragma: no-cache\r\n
 *   [Vary: X-Or-Diff-From-Consensus\r\n] consensus only
 *   \r\n BODY
 * and errors as "HTTP/1.0 CODE REASON\r\nDate: RFC1123\r\n\r\n".
 *
 * Consensus requests follow dircache.c handle_get_current_consensus:
 * X-Or-Diff-From-Consensus naming the SHA3-256 (as signed) of the consensus
 * we hold is answered 304; otherwise a diff from the first consensus it
 * names that the store has a diff from (consensus_diff), or the full
 * consensus (dirclient.c handle_response_fetch_consensus takes either);
 * ".../diff/HASH/..." (diff only) is the diff or 404 "No such diff
 * available"; a URL naming authority fingerprint prefixes
 * ("/FP+FP+...", client_likes_consensus) is 404 "Consensus not signed by
 * sufficient number of requested authorities" unless more than half of
 * them signed ours. Keys: all, fp/HEX+HEX, sk/HEX+HEX, fp-sk/ID-SK+ID-SK,
 * with If-Modified-Since (dir-key-published) as handle_get_keys.
 *
 * HSDir (rend-spec-v3 2.2.6, dircache.c handle_get_hs_descriptor_v3 and
 * directory_handle_command_post / handle_post_hs_descriptor), only with the
 * store's hs_publish / hs_descriptor callbacks:
 *   GET /tor/hs/3/<base64 blinded key>: 200 with the stored text byte for
 *     byte ("Pragma: no-cache", Content-Length), 404 "Not found" (also
 *     for a key that does not decode); 503 "Rejecting single hop HS v3
 *     descriptor request" unless the request is anonymous;
 *   POST /tor/hs/<version>/publish[...]: 503 "Not acting as a public
 *     relay" when the store says so (any POST); 503 "Rejecting single hop
 *     HS descriptor post" unless anonymous; 200 "HS descriptor stored
 *     successfully." when version 3 was stored, else 400 "Invalid HS
 *     descriptor. Rejected." (bad URL, other version, refused descriptor).
 * A request is anonymous (directory.c connection_dir_is_anonymous) when it
 * came over BEGIN_DIR on a circuit whose previous hop is not a client
 * channel, i.e. the peer authenticated as a relay in the link handshake:
 * the caller knows, and sets dir_request.anonymous.
 *
 * Not served (404 "Not found", what tor says for a resource it lacks):
 * /tor/server/..., /tor/extra/..., the ns consensus.
 */
#ifndef HSRELAY_CONTROL_DIR_SERVER_H
#define HSRELAY_CONTROL_DIR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "control/dir_compress.h"

/* A request head longer than this is refused (the longest tor sends is a
 * microdescriptor fetch of 92 digests, about 4 KB; tor's own limit is
 * MAX_HEADERS_SIZE, 50000). */
#define DIR_REQUEST_HEAD_MAX 16384
/* Longest POST body a caller should accept (HSV3MaxDescriptorSize is
 * 50000 by default; tor's own bound is MAX_DIR_UL_SIZE, 8 MB). */
#define DIR_REQUEST_BODY_MAX (256 * 1024)
#define DIR_SERVER_DIGEST256_LEN 32
#define DIR_SERVER_DIGEST_LEN 20
/* X-Or-Diff-From-Consensus digests kept from one request (tor clients
 * send one). */
#define DIR_SERVER_DIFF_FROM_MAX 8
/* Signatures of one consensus looked at for client_likes_consensus. */
#define DIR_SERVER_SIGNERS_MAX 32
/* Digests answered in one /tor/micro/d/ request (tor's clients ask for at
 * most 92; a 16 KB head holds about 370). */
#define DIR_SERVER_MICRODESC_MAX 512
/* Base64 of a blinded key in a /tor/hs/3/ URL (43 characters, no '='). */
#define DIR_SERVER_HS_KEY_LEN 32

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
	/* Accept-Encoding: the set of dir_compress methods (bit 1 << method)
	 * the client takes, always with identity. */
	unsigned accept_encoding;
	/* X-Or-Diff-From-Consensus: SHA3-256 digests (as signed) of
	 * consensuses the client holds, hex in the header; malformed ones
	 * are ignored, as tor's parse_or_diff_from_header does. */
	size_t n_diff_from;
	uint8_t diff_from[DIR_SERVER_DIFF_FROM_MAX][DIR_SERVER_DIGEST256_LEN];
	/* POST: the body (into the input), set by dir_request_body(). */
	const uint8_t *body;
	size_t body_len;
	/* Set by the caller: the request arrived over BEGIN_DIR on a circuit
	 * whose previous hop authenticated as a relay (tor's
	 * connection_dir_is_anonymous). Only /tor/hs/ looks at it. */
	bool anonymous;
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

/* The body of a parsed request at [*p, end) (*p just after the head): a
 * POST's Content-Length bytes (none without Content-Length), nothing for a
 * GET. Sets req->body / body_len and advances *p past the body. Errors,
 * *p untouched: -EAGAIN fewer bytes than Content-Length so far; -EMSGSIZE
 * Content-Length above max (tor closes the connection for a body over its
 * limit). Bytes after the body are left alone. Pure. */
int dir_request_body(const uint8_t **p, const uint8_t *end, size_t max,
		struct dir_request *req);

enum dir_consensus_flavor {
	DIR_CONSENSUS_NS,
	DIR_CONSENSUS_MICRODESC,
};

/* A consensus the store holds (text borrowed until the responder
 * returns). */
struct dir_consensus_doc {
	const uint8_t *text;
	size_t len;
	time_t valid_after, fresh_until, valid_until;
	/* SHA3-256 of the text from its start through the space after the
	 * first "directory-signature" (tor's digest_sha3_as_signed): what
	 * X-Or-Diff-From-Consensus names. */
	uint8_t sha3_as_signed[DIR_SERVER_DIGEST256_LEN];
	/* Identities of its directory-signature lines. */
	size_t n_signers;
	uint8_t signers[DIR_SERVER_SIGNERS_MAX][DIR_SERVER_DIGEST_LEN];
};

/* An authority key certificate the store holds. */
struct dir_cert_doc {
	const uint8_t *text;
	size_t len;
	uint8_t identity_digest[DIR_SERVER_DIGEST_LEN];
	uint8_t signing_key_digest[DIR_SERVER_DIGEST_LEN];
	time_t published;		/* dir-key-published */
};

/* Documents the cache serves; every callback may be NULL (nothing held).
 * Returned text is borrowed until the responder returns. */
struct dir_store {
	void *ctx;
	/* The newest verified consensus of a flavor. 0, or -ENOENT. */
	int (*consensus)(void *ctx, enum dir_consensus_flavor flavor,
			struct dir_consensus_doc *out);
	/* The microdescriptor whose SHA-256 is digest. 0 or -ENOENT. */
	int (*microdesc)(void *ctx, const uint8_t *digest,
			const uint8_t **text, size_t *len);
	/* The consensus of a flavor compressed with method (not identity),
	 * kept by the store so that it is compressed once per consensus (tor
	 * keeps it compressed in consdiffmgr). 0, or negative: the responder
	 * compresses the text itself. May be NULL. */
	int (*consensus_compressed)(void *ctx, enum dir_consensus_flavor flavor,
			enum dir_compress_method method, const uint8_t **text,
			size_t *len);
	/* The diff (control/consdiff.h) from the consensus of a flavor whose
	 * SHA3-256 as signed is from_sha3 to the one consensus() returns, in
	 * method (identity: the diff's text). 0, or -ENOENT when the store
	 * has none (no such consensus kept, or it could not be made) or none
	 * in that method. May be NULL: no diffs. */
	int (*consensus_diff)(void *ctx, enum dir_consensus_flavor flavor,
			const uint8_t *from_sha3, enum dir_compress_method method,
			const uint8_t **text, size_t *len);
	/* The index-th authority key certificate (0, 1, ... until
	 * -ENOENT), newest first for each identity. */
	int (*authority_cert)(void *ctx, size_t index,
			struct dir_cert_doc *out);
	/* HSDir: store a POSTed v3 descriptor (body, len); 0 when stored,
	 * negative when refused. NULL: every upload is refused (400). */
	int (*hs_publish)(void *ctx, const uint8_t *body, size_t len);
	/* HSDir: the descriptor stored for a blinded key, 0 or -ENOENT. */
	int (*hs_descriptor)(void *ctx, const uint8_t *blinded_key,
			const uint8_t **text, size_t *len);
	/* tor's !public_server_mode() (no ORPort, or BridgeRelay; never the
	 * case for hsrelay, whose relay_control leaves it false): every POST
	 * is answered 503 "Not acting as a public relay". */
	bool not_public_relay;
};

/* What a response was, for the caller's counters. */
enum dir_resource {
	DIR_RESOURCE_OTHER,
	DIR_RESOURCE_CONSENSUS,
	DIR_RESOURCE_MICRODESC,
	DIR_RESOURCE_KEYS,
	DIR_RESOURCE_POST,
	DIR_RESOURCE_HS_FETCH,		/* GET /tor/hs/3/ */
	DIR_RESOURCE_HS_PUBLISH,	/* POST /tor/hs/ */
};

struct dir_response_info {
	enum dir_resource resource;
	unsigned status;		/* 200, 304, 400, 404, 503 */
	size_t items;			/* documents in a 200 answer (0 for an upload) */
	/* HS_FETCH with a key that decoded: the blinded key. */
	bool has_hs_key;
	uint8_t hs_key[DIR_SERVER_HS_KEY_LEN];
	/* 503 because the request was not anonymous (HS_*). */
	bool single_hop;
	/* A 200 answer's Content-Encoding. */
	enum dir_compress_method encoding;
	/* The 200 answer to a consensus request is a diff (consdiff.h). */
	bool consensus_diff;
};

/* Parses a /tor/micro/d/ digest list at [*p, end): base64 SHA-256 digests
 * without padding (43 characters) separated by '-', as dircache.c
 * dir_split_resource_into_fingerprints with DSR_BASE64 | DSR_DIGEST256:
 * an item that does not decode is skipped. Stores at most max digests in
 * out, in URL order, and advances *p to end (or to the first item not
 * stored when out is full). Returns the number stored. Pure. */
size_t dir_microdesc_digests_parse(const char **p, const char *end,
		uint8_t (*out)[DIR_SERVER_DIGEST256_LEN], size_t max);

/* Writes the response to req into a malloc'd buffer (*out, *out_len;
 * caller frees). now is the wall clock (Date, Expires, freshness);
 * client_address the X-Your-Address-Is value or NULL to omit it; busy
 * answers 503 "Directory busy, try again later" where tor would when it
 * is short of bandwidth; info (may be NULL) gets what was answered.
 * Returns 0, -ENOMEM, -EIO when a compression library fails, or -EINVAL
 * for a client_address with bytes outside printable ASCII. */
int dir_server_respond(const struct dir_request *req,
		const struct dir_store *store, time_t now,
		const char *client_address, bool busy,
		struct dir_response_info *info, uint8_t **out,
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
