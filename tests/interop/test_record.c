/* TLS records for the interop test programs: see test_record.h. */
#include "tests/interop/test_record.h"

#include <errno.h>
#include <string.h>

ssize_t
test_record_seal(struct crypto_engine *engine, struct tls_record_dir *dir, uint8_t type,
		const uint8_t *plaintext, size_t len, uint8_t *wire)
{
	enum tls_record_version v = (enum tls_record_version)dir->version;
	unsigned pre = tls_record_prefix_len(v);
	struct crypto_iov iov = { wire + pre, (uint32_t)len };
	struct tls_record_seal rec;

	memcpy(wire + pre, plaintext, len);
	memset(&rec, 0, sizeof(rec));
	rec.dir = dir;
	rec.prefix = wire;
	rec.segments = &iov;
	rec.nb_segments = 1;
	rec.content_type = type;
	rec.suffix = wire + pre + len;
	if (tls_record_seal_burst(engine, &rec, 1) != 1)
		return rec.status < 0 ? rec.status : -EPROTO;
	return (ssize_t)(pre + len + tls_record_suffix_len(v));
}

int
test_record_open_all(struct crypto_engine *engine, struct tls_record_dir *dir, uint8_t *in,
		size_t *in_len, test_record_deliver_fn deliver, void *arg)
{
	size_t off = 0;
	int rc = 0;

	while (rc == 0 && *in_len - off >= TLS_RECORD_HEADER_LEN) {
		uint8_t *h = in + off;
		size_t body = (size_t)h[3] << 8 | h[4];
		struct crypto_iov iov;
		struct tls_record_open rec;

		if (*in_len - off < TLS_RECORD_HEADER_LEN + body)
			break;
		iov.base = h + TLS_RECORD_HEADER_LEN;
		iov.len = (uint32_t)body;
		memset(&rec, 0, sizeof(rec));
		rec.dir = dir;
		rec.header = h;
		rec.segments = &iov;
		rec.nb_segments = 1;
		if (tls_record_open_burst(engine, &rec, 1) != 1 || rec.status != 0) {
			rc = rec.status < 0 ? rec.status : -EPROTO;
			break;
		}
		off += TLS_RECORD_HEADER_LEN + body;
		rc = deliver(arg, rec.content_type, iov.base + rec.plaintext_offset,
				rec.plaintext_len);
	}
	if (off > 0) {
		memmove(in, in + off, *in_len - off);
		*in_len -= off;
	}
	return rc;
}
