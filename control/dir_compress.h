/* Compression of directory answers, as tor's dircache does it
 * (dir-spec "HTTP headers": Accept-Encoding and Content-Encoding; tor's
 * src/lib/compress and dircache.c).
 *
 * The methods and their Content-Encoding names are tor's
 * (compress.c compression_method_names), numbered as tor's
 * compress_method_t so that a method set is tor's bitmask:
 *   identity     no compression
 *   gzip         zlib's gzip wrapper (RFC 1952)
 *   deflate      zlib's zlib wrapper (RFC 1950)
 *   x-tor-lzma   liblzma's "lzma_alone" format (.lzma, LZMA1), which is
 *                what tor's compress_lzma.c writes and reads (not .xz)
 *   x-zstd       a Zstandard frame (RFC 8878)
 *
 * Which method answers what (dircache.c find_best_compression_method):
 * documents kept compressed (the consensus) prefer lzma, zstd, deflate,
 * gzip, identity; documents compressed as they are sent (microdescriptors,
 * key certificates) prefer zstd, deflate, gzip, identity. Slow path only:
 * the functions here allocate. */
#ifndef HSRELAY_CONTROL_DIR_COMPRESS_H
#define HSRELAY_CONTROL_DIR_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dir_compress_method {
	DIR_COMPRESS_IDENTITY = 0,
	DIR_COMPRESS_GZIP = 1,
	DIR_COMPRESS_DEFLATE = 2,
	DIR_COMPRESS_LZMA = 3,
	DIR_COMPRESS_ZSTD = 4,
};
#define DIR_COMPRESS_METHODS 5
/* The set every client accepts (tor's parse_accept_encoding_header always
 * includes NO_METHOD). */
#define DIR_COMPRESS_SET_IDENTITY (1u << DIR_COMPRESS_IDENTITY)

/* How hard to compress: HIGH for documents compressed once and kept (tor's
 * HIGH_COMPRESSION: lzma preset 6, zstd level 9, zlib level 9), LOW for
 * answers compressed per request (tor's choose_compression_level(): LOW,
 * lzma preset 2, zstd level 1; zlib level 9 with a smaller window in tor,
 * level 6 here). */
enum dir_compress_level {
	DIR_COMPRESS_LOW,
	DIR_COMPRESS_HIGH,
};

/* The Content-Encoding name of a method ("identity", "gzip", ...), NULL for
 * a value out of range. */
const char *dir_compress_name(enum dir_compress_method method);

/* The set of methods an Accept-Encoding value [value, value + len) names
 * (dircache.c parse_accept_encoding_header): comma-separated names with
 * spaces around them, matched exactly (tor compares case-sensitively);
 * unknown names ignored; identity is always in the set. Pure, bounded by
 * len. */
unsigned dir_accept_encoding_parse(const char *value, size_t len);

/* The method to answer with from a client's set (dircache.c
 * find_best_compression_method): kept selects the order for documents
 * kept compressed, otherwise the order for per-request compression.
 * DIR_COMPRESS_IDENTITY when the set has none of them. */
enum dir_compress_method dir_compress_choose(unsigned methods, bool kept);

/* Compresses [in, in + len) with method into a malloc'd buffer (*out,
 * *out_len; the caller frees it; identity copies). Returns 0, -ENOMEM, or
 * -EINVAL for an unknown method or a library error. *out is untouched on
 * failure. */
int dir_compress(enum dir_compress_method method, enum dir_compress_level level,
		const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/* Decompresses [in, in + len), written with method, into a malloc'd
 * buffer of at most max bytes (*out, *out_len; the caller frees it), for
 * the tests and the tools that check what was served. Returns 0,
 * -EMSGSIZE when the output would exceed max, -ENOMEM, or -EBADMSG for
 * input that is not a complete, valid stream of that method. */
int dir_decompress(enum dir_compress_method method, const uint8_t *in, size_t len,
		size_t max, uint8_t **out, size_t *out_len);

#endif
