/* Compression of directory answers: see dir_compress.h. */
#include "control/dir_compress.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

static const char *const method_names[DIR_COMPRESS_METHODS] = {
	[DIR_COMPRESS_IDENTITY] = "identity",
	[DIR_COMPRESS_GZIP] = "gzip",
	[DIR_COMPRESS_DEFLATE] = "deflate",
	[DIR_COMPRESS_LZMA] = "x-tor-lzma",
	[DIR_COMPRESS_ZSTD] = "x-zstd",
};

/* dircache.c srv_meth_pref_precompressed and
 * srv_meth_pref_streaming_compression. */
static const enum dir_compress_method prefer_kept[] = {
	DIR_COMPRESS_LZMA, DIR_COMPRESS_ZSTD, DIR_COMPRESS_DEFLATE, DIR_COMPRESS_GZIP,
};
static const enum dir_compress_method prefer_per_request[] = {
	DIR_COMPRESS_ZSTD, DIR_COMPRESS_DEFLATE, DIR_COMPRESS_GZIP,
};

const char *
dir_compress_name(enum dir_compress_method method)
{
	if ((unsigned)method >= DIR_COMPRESS_METHODS)
		return NULL;
	return method_names[method];
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

unsigned
dir_accept_encoding_parse(const char *value, size_t len)
{
	const char *pos = value, *end = value + len;
	unsigned set = DIR_COMPRESS_SET_IDENTITY;

	while (pos < end) {
		const char *comma = memchr(pos, ',', (size_t)(end - pos));
		const char *item = pos, *item_end = comma != NULL ? comma : end;

		while (item < item_end && is_space(*item))
			item++;
		while (item_end > item && is_space(item_end[-1]))
			item_end--;
		for (unsigned m = 0; m < DIR_COMPRESS_METHODS; m++) {
			size_t n = strlen(method_names[m]);

			if ((size_t)(item_end - item) == n && memcmp(item, method_names[m], n) == 0)
				set |= 1u << m;
		}
		pos = comma != NULL ? comma + 1 : end;
	}
	return set;
}

enum dir_compress_method
dir_compress_choose(unsigned methods, bool kept)
{
	const enum dir_compress_method *order = kept ? prefer_kept : prefer_per_request;
	size_t n = kept ? sizeof(prefer_kept) / sizeof(prefer_kept[0])
			: sizeof(prefer_per_request) / sizeof(prefer_per_request[0]);

	for (size_t i = 0; i < n; i++)
		if (methods & (1u << order[i]))
			return order[i];
	return DIR_COMPRESS_IDENTITY;
}

static int
zlib_compress(bool gzip, enum dir_compress_level level, const uint8_t *in, size_t len,
		uint8_t **out, size_t *out_len)
{
	z_stream zs;
	uint8_t *buf;
	size_t cap;
	int rc;

	if (len > UINT_MAX)
		return -EINVAL;
	memset(&zs, 0, sizeof(zs));
	/* windowBits 15, plus 16 for the gzip wrapper (zlib.h deflateInit2). */
	if (deflateInit2(&zs, level == DIR_COMPRESS_HIGH ? 9 : 6, Z_DEFLATED,
			gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	/* deflateBound() is for the zlib wrapper; the gzip wrapper's header
	 * and trailer are 18 bytes against zlib's 6. */
	cap = deflateBound(&zs, (uLong)len) + 32;
	buf = malloc(cap);
	if (buf == NULL) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	rc = deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*out_len = cap - zs.avail_out;
	return 0;
}

static int
lzma_compress(enum dir_compress_level level, const uint8_t *in, size_t len, uint8_t **out,
		size_t *out_len)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_options_lzma options;
	/* lzma_alone headers are 13 bytes; LZMA1 grows incompressible input
	 * by a few percent at most. */
	size_t cap = len + len / 8 + 4096;
	uint8_t *buf;
	lzma_ret rc;

	if (lzma_lzma_preset(&options, level == DIR_COMPRESS_HIGH ? 6 : 2))
		return -EINVAL;
	if (lzma_alone_encoder(&ls, &options) != LZMA_OK)
		return -ENOMEM;
	buf = malloc(cap);
	if (buf == NULL) {
		lzma_end(&ls);
		return -ENOMEM;
	}
	ls.next_in = in;
	ls.avail_in = len;
	ls.next_out = buf;
	ls.avail_out = cap;
	rc = lzma_code(&ls, LZMA_FINISH);
	lzma_end(&ls);
	if (rc != LZMA_STREAM_END) {
		free(buf);
		return rc == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	*out = buf;
	*out_len = cap - ls.avail_out;
	return 0;
}

static int
zstd_compress(enum dir_compress_level level, const uint8_t *in, size_t len, uint8_t **out,
		size_t *out_len)
{
	size_t cap = ZSTD_compressBound(len);
	uint8_t *buf;
	size_t n;

	if (ZSTD_isError(cap))
		return -EINVAL;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	n = ZSTD_compress(buf, cap, in, len, level == DIR_COMPRESS_HIGH ? 9 : 1);
	if (ZSTD_isError(n)) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

int
dir_compress(enum dir_compress_method method, enum dir_compress_level level,
		const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	switch (method) {
	case DIR_COMPRESS_IDENTITY: {
		uint8_t *buf = malloc(len > 0 ? len : 1);

		if (buf == NULL)
			return -ENOMEM;
		if (len > 0)
			memcpy(buf, in, len);
		*out = buf;
		*out_len = len;
		return 0;
	}
	case DIR_COMPRESS_GZIP:
	case DIR_COMPRESS_DEFLATE:
		return zlib_compress(method == DIR_COMPRESS_GZIP, level, in, len, out, out_len);
	case DIR_COMPRESS_LZMA:
		return lzma_compress(level, in, len, out, out_len);
	case DIR_COMPRESS_ZSTD:
		return zstd_compress(level, in, len, out, out_len);
	}
	return -EINVAL;
}

/* Output grows by doubling up to max; -EMSGSIZE past it. */
static int
grow(uint8_t **buf, size_t *cap, size_t max)
{
	size_t want = *cap * 2;
	uint8_t *bigger;

	if (*cap >= max)
		return -EMSGSIZE;
	if (want > max)
		want = max;
	bigger = realloc(*buf, want);
	if (bigger == NULL)
		return -ENOMEM;
	*buf = bigger;
	*cap = want;
	return 0;
}

static int
zlib_decompress(bool gzip, const uint8_t *in, size_t len, size_t max, uint8_t **buf,
		size_t *cap, size_t *used)
{
	z_stream zs;
	int rc, err = 0;

	if (len > UINT_MAX)
		return -EBADMSG;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, gzip ? 15 + 16 : 15) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	for (;;) {
		size_t room = *cap - *used;

		zs.next_out = *buf + *used;
		zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		rc = inflate(&zs, Z_FINISH);
		*used = (size_t)(zs.next_out - *buf);
		if (rc == Z_STREAM_END)
			break;
		if ((rc == Z_OK || rc == Z_BUF_ERROR) && zs.avail_out == 0) {
			err = grow(buf, cap, max);
			if (err < 0)
				break;
			continue;
		}
		err = rc == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
		break;
	}
	/* Bytes after the stream's end are not part of a valid answer. */
	if (err == 0 && zs.avail_in != 0)
		err = -EBADMSG;
	inflateEnd(&zs);
	return err;
}

static int
lzma_decompress(const uint8_t *in, size_t len, size_t max, uint8_t **buf, size_t *cap,
		size_t *used)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_ret rc;
	int err = 0;

	/* tor's decoder limit (compress_lzma.c MEMORY_LIMIT, 16 MiB). */
	if (lzma_alone_decoder(&ls, 16u << 20) != LZMA_OK)
		return -ENOMEM;
	ls.next_in = in;
	ls.avail_in = len;
	for (;;) {
		ls.next_out = *buf + *used;
		ls.avail_out = *cap - *used;
		rc = lzma_code(&ls, LZMA_FINISH);
		*used = (size_t)(ls.next_out - *buf);
		if (rc == LZMA_STREAM_END)
			break;
		if ((rc == LZMA_OK || rc == LZMA_BUF_ERROR) && ls.avail_out == 0) {
			err = grow(buf, cap, max);
			if (err < 0)
				break;
			continue;
		}
		err = rc == LZMA_MEM_ERROR ? -ENOMEM : -EBADMSG;
		break;
	}
	if (err == 0 && ls.avail_in != 0)
		err = -EBADMSG;
	lzma_end(&ls);
	return err;
}

static int
zstd_decompress(const uint8_t *in, size_t len, size_t max, uint8_t **buf, size_t *cap,
		size_t *used)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer ib = { .src = in, .size = len, .pos = 0 };
	size_t rc = 1;
	int err = 0;

	if (ds == NULL)
		return -ENOMEM;
	for (;;) {
		ZSTD_outBuffer ob = { .dst = *buf, .size = *cap, .pos = *used };

		rc = ZSTD_decompressStream(ds, &ob, &ib);
		*used = ob.pos;
		if (ZSTD_isError(rc)) {
			err = -EBADMSG;
			break;
		}
		if (rc == 0 && ib.pos == ib.size)
			break;
		if (ob.pos == ob.size) {
			err = grow(buf, cap, max);
			if (err < 0)
				break;
			continue;
		}
		/* Input used up in the middle of a frame, or a second frame
		 * started: not one complete frame. */
		err = -EBADMSG;
		break;
	}
	ZSTD_freeDStream(ds);
	return err;
}

int
dir_decompress(enum dir_compress_method method, const uint8_t *in, size_t len,
		size_t max, uint8_t **out, size_t *out_len)
{
	size_t cap = len * 4 + 1024, used = 0;
	uint8_t *buf;
	int rc;

	if (method == DIR_COMPRESS_IDENTITY) {
		if (len > max)
			return -EMSGSIZE;
		return dir_compress(method, DIR_COMPRESS_LOW, in, len, out, out_len);
	}
	if ((unsigned)method >= DIR_COMPRESS_METHODS)
		return -EBADMSG;
	if (cap > max)
		cap = max > 0 ? max : 1;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	if (method == DIR_COMPRESS_LZMA)
		rc = lzma_decompress(in, len, max, &buf, &cap, &used);
	else if (method == DIR_COMPRESS_ZSTD)
		rc = zstd_decompress(in, len, max, &buf, &cap, &used);
	else
		rc = zlib_decompress(method == DIR_COMPRESS_GZIP, in, len, max, &buf, &cap, &used);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = used;
	return 0;
}
