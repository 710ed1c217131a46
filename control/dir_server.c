/* Directory cache HTTP/1.0: request parser and responder (dir_server.h). */
#include "control/dir_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/dirdoc_meta.h"

/* dircache.c cache lifetimes. */
#define MICRODESC_CACHE_LIFETIME (48 * 60 * 60)
#define KEYS_CACHE_LIFETIME (60 * 60)
/* networkstatus.c REASONABLY_LIVE_TIME. */
#define REASONABLY_LIVE_TIME (24 * 60 * 60)

#define AUTHORITY_CERTS_MAX 64

static const char *const weekdays[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

void
dir_server_rfc1123_time(time_t t, char out[30])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
			weekdays[tm.tm_wday % 7], tm.tm_mday,
			months[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000,
			tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "Thu, 01 Jan 1970 00:00:00 GMT" -> time, or 0 when malformed. */
static time_t
parse_rfc1123_time(const char *s, size_t len)
{
	char buf[64], wday[4], mon[4];
	int day, year, hour, min, sec, month = -1;
	struct tm tm;

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT", wday, &day, mon,
			&year, &hour, &min, &sec) != 7)
		return 0;
	for (int i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			month = i;
	if (month < 0 || day < 1 || day > 31 || year < 1970 || hour > 23 ||
			min > 59 || sec > 60 || hour < 0 || min < 0 || sec < 0)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	return timegm(&tm);
}

static bool
name_is(const char *name, size_t len, const char *want)
{
	size_t n = strlen(want);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = name[i], b = want[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* One line [line, eol) of the head, without its line end. */
static int
parse_request_line(const char *line, size_t len, struct dir_request *out)
{
	const char *sp1, *sp2, *url, *end = line + len;
	size_t version_len;

	sp1 = memchr(line, ' ', len);
	if (sp1 == NULL)
		return -EPROTO;
	if (sp1 - line == 3 && memcmp(line, "GET", 3) == 0)
		out->method = DIR_REQUEST_GET;
	else if (sp1 - line == 4 && memcmp(line, "POST", 4) == 0)
		out->method = DIR_REQUEST_POST;
	else
		return -EPROTO;
	url = sp1 + 1;
	sp2 = memchr(url, ' ', (size_t)(end - url));
	if (sp2 == NULL || sp2 == url)
		return -EPROTO;
	version_len = (size_t)(end - (sp2 + 1));
	if (version_len != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) != 0 &&
			memcmp(sp2 + 1, "HTTP/1.1", 8) != 0))
		return -EPROTO;
	out->url = url;
	out->url_len = (size_t)(sp2 - url);
	/* tor parse_http_url: an absolute URL loses "http://host". */
	if (out->url_len > 7 && memcmp(url, "http://", 7) == 0) {
		const char *slash = memchr(url + 7, '/', out->url_len - 7);

		if (slash == NULL)
			return -EPROTO;
		out->url_len -= (size_t)(slash - url);
		out->url = slash;
	}
	if (out->url[0] != '/')
		return -EPROTO;
	return 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* len hex digits -> len / 2 bytes; false unless all are hex. */
static bool
decode_hex(const char *s, size_t len, uint8_t *out)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return len % 2 == 0;
}

/* dircache.c parse_or_diff_from_header: space-separated hex SHA3-256
 * digests; others are ignored. */
static void
parse_diff_from(const char *value, const char *end, struct dir_request *out)
{
	const char *pos = value;

	while (pos < end) {
		const char *sp = memchr(pos, ' ', (size_t)(end - pos));
		const char *item_end = sp != NULL ? sp : end;
		size_t n = (size_t)(item_end - pos);

		if (n == 2 * DIR_SERVER_DIGEST256_LEN &&
				out->n_diff_from < DIR_SERVER_DIFF_FROM_MAX &&
				decode_hex(pos, n, out->diff_from[out->n_diff_from]))
			out->n_diff_from++;
		pos = sp != NULL ? sp + 1 : end;
	}
}

static int
parse_header_line(const char *line, size_t len, struct dir_request *out,
		bool *have_length)
{
	const char *colon = memchr(line, ':', len);
	const char *value, *end = line + len;
	size_t name_len;

	if (colon == NULL || colon == line)
		return -EPROTO;
	name_len = (size_t)(colon - line);
	value = colon + 1;
	while (value < end && (*value == ' ' || *value == '\t'))
		value++;
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (name_is(line, name_len, "If-Modified-Since")) {
		out->if_modified_since = parse_rfc1123_time(value,
				(size_t)(end - value));
	} else if (name_is(line, name_len, "Accept-Encoding")) {
		out->accept_encoding = dir_accept_encoding_parse(value,
				(size_t)(end - value));
	} else if (name_is(line, name_len, "X-Or-Diff-From-Consensus")) {
		parse_diff_from(value, end, out);
	} else if (name_is(line, name_len, "Content-Length")) {
		size_t v = 0;

		if (*have_length || value == end || end - value > 9)
			return -EPROTO;
		for (const char *c = value; c < end; c++) {
			if (*c < '0' || *c > '9')
				return -EPROTO;
			v = v * 10 + (size_t)(*c - '0');
		}
		out->content_length = v;
		*have_length = true;
	}
	return 0;
}

int
dir_request_parse(const uint8_t **p, const uint8_t *end,
		struct dir_request *out)
{
	const char *start = (const char *)*p, *pos = start;
	const char *stop = (const char *)end;
	bool first = true, have_length = false;
	struct dir_request req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.accept_encoding = DIR_COMPRESS_SET_IDENTITY;
	if ((size_t)(stop - start) > DIR_REQUEST_HEAD_MAX)
		stop = start + DIR_REQUEST_HEAD_MAX;
	for (;;) {
		const char *nl = memchr(pos, '\n', (size_t)(stop - pos));
		const char *line_end;

		if (nl == NULL)
			return (const uint8_t *)stop < end ||
					(size_t)(stop - start) ==
					DIR_REQUEST_HEAD_MAX ? -EMSGSIZE :
					-EAGAIN;
		line_end = nl > pos && nl[-1] == '\r' ? nl - 1 : nl;
		for (const char *c = pos; c < line_end; c++) {
			unsigned char ch = (unsigned char)*c;

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return -EPROTO;
		}
		if (line_end == pos) {
			if (first)
				return -EPROTO;
			*p = (const uint8_t *)(nl + 1);
			*out = req;
			return 0;
		}
		if (first) {
			rc = parse_request_line(pos, (size_t)(line_end - pos),
					&req);
			first = false;
		} else if (*pos == ' ' || *pos == '\t') {
			rc = -EPROTO;	/* no continuation lines */
		} else {
			rc = parse_header_line(pos, (size_t)(line_end - pos),
					&req, &have_length);
		}
		if (rc < 0)
			return rc;
		pos = nl + 1;
	}
}

int
dir_request_body(const uint8_t **p, const uint8_t *end, size_t max,
		struct dir_request *req)
{
	size_t have = (size_t)(end - *p);

	req->body = *p;
	req->body_len = 0;
	if (req->method != DIR_REQUEST_POST || req->content_length == 0)
		return 0;
	if (req->content_length > max)
		return -EMSGSIZE;
	if (have < req->content_length)
		return -EAGAIN;
	req->body_len = req->content_length;
	*p += req->content_length;
	return 0;
}

/* A growing output buffer; failure sticks. */
struct outbuf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
	unsigned status;
	size_t items;
	bool has_hs_key;
	uint8_t hs_key[DIR_SERVER_HS_KEY_LEN];
	bool single_hop;
	/* The Content-Encoding out_header wrote, where the body starts, and
	 * whether dir_server_respond still has to compress it. */
	enum dir_compress_method encoding;
	size_t body_start;
	bool compress_body;
	bool is_diff;
};

static void
out_add(struct outbuf *b, const void *data, size_t len)
{
	if (b->failed || len == 0)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap > 0 ? b->cap : 1024;
		uint8_t *n;

		while (cap < b->len + len)
			cap *= 2;
		n = realloc(b->data, cap);
		if (n == NULL) {
			b->failed = true;
			return;
		}
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void
out_str(struct outbuf *b, const char *s)
{
	out_add(b, s, strlen(s));
}

ssize_t
dir_server_short_response(unsigned status, const char *reason, time_t now,
		uint8_t *out, size_t out_len)
{
	char date[30];
	int n;

	dir_server_rfc1123_time(now, date);
	n = snprintf((char *)out, out_len, "HTTP/1.0 %u %s\r\nDate: %s\r\n\r\n",
			status, reason, date);
	if (n < 0 || (size_t)n >= out_len)
		return -EMSGSIZE;
	return n;
}

static void
out_short(struct outbuf *b, unsigned status, const char *reason, time_t now)
{
	uint8_t buf[256];
	ssize_t n = dir_server_short_response(status, reason, now, buf,
			sizeof(buf));

	b->status = status;
	if (n < 0)
		b->failed = true;
	else
		out_add(b, buf, (size_t)n);
}

/* dircache.c write_http_response_header_impl with type text/plain.
 * length < 0: no Content-Length; lifetime > 0: Expires, 0: Pragma:
 * no-cache. */
static void
out_header(struct outbuf *b, time_t now, const char *client_address,
		enum dir_compress_method encoding, long long length, long lifetime,
		const char *extra)
{
	char date[30], line[128];

	b->status = 200;
	dir_server_rfc1123_time(now, date);
	out_str(b, "HTTP/1.0 200 OK\r\nDate: ");
	out_str(b, date);
	out_str(b, "\r\nContent-Type: text/plain\r\n");
	if (client_address != NULL) {
		out_str(b, "X-Your-Address-Is: ");
		out_str(b, client_address);
		out_str(b, "\r\n");
	}
	out_str(b, "Content-Encoding: ");
	out_str(b, dir_compress_name(encoding));
	out_str(b, "\r\n");
	if (length >= 0) {
		snprintf(line, sizeof(line), "Content-Length: %lld\r\n", length);
		out_str(b, line);
	}
	if (lifetime > 0) {
		dir_server_rfc1123_time(now + lifetime, date);
		out_str(b, "Expires: ");
		out_str(b, date);
		out_str(b, "\r\n");
	} else if (lifetime == 0) {
		out_str(b, "Pragma: no-cache\r\n");
	}
	if (extra != NULL)
		out_str(b, extra);
	out_str(b, "\r\n");
	b->encoding = encoding;
	b->body_start = b->len;
}

static bool
starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* True when more than half of the authorities named by the hex prefixes
 * in [list, end) ('+'-separated) signed doc (dircache.c
 * client_likes_consensus; an odd last digit is ignored, as tor's
 * strcasecmpstart on the hex would not be). */
static bool
client_likes_consensus(const char *list, const char *end,
		const struct dir_consensus_doc *doc)
{
	size_t n_want = 1, have = 0;
	const char *pos = list;

	for (const char *c = list; c < end; c++)
		n_want += *c == '+';
	while (have < n_want / 2 + 1) {
		const char *plus = memchr(pos, '+', (size_t)(end - pos));
		const char *item_end = plus != NULL ? plus : end;
		size_t n = (size_t)(item_end - pos);
		uint8_t prefix[DIR_SERVER_DIGEST_LEN];

		if (n <= 2 * DIR_SERVER_DIGEST_LEN &&
				decode_hex(pos, n & ~(size_t)1, prefix)) {
			for (size_t i = 0; i < doc->n_signers; i++) {
				if (memcmp(doc->signers[i], prefix, n / 2) == 0) {
					have++;
					break;
				}
			}
		}
		if (plus == NULL)
			break;
		pos = plus + 1;
	}
	return have >= n_want / 2 + 1;
}

/* dircache.c handle_get_current_consensus (parse_consensus_request). rest
 * is what follows "/tor/status-vote/current/consensus" (".z" already
 * cut). */
static void
respond_consensus(struct outbuf *b, const char *rest, size_t rest_len,
		const struct dir_request *req, const struct dir_store *store,
		unsigned methods, time_t now, const char *client_address, bool busy)
{
	enum dir_consensus_flavor flavor = DIR_CONSENSUS_NS;
	const char *end = rest + rest_len, *after = NULL, *want = NULL;
	struct dir_consensus_doc doc;
	bool diff_only = false;
	uint8_t url_diff[DIR_SERVER_DIGEST256_LEN];
	enum dir_compress_method encoding;
	const uint8_t *kept, *diff = NULL;
	size_t kept_len, diff_len = 0;
	long lifetime;

	if (rest_len > 0 && rest[0] == '-') {
		const char *slash = memchr(rest, '/', rest_len);
		const char *flavor_end = slash != NULL ? slash : end;
		size_t flavor_len = (size_t)(flavor_end - (rest + 1));

		/* An unknown flavor name means ns (networkstatus_parse_flavor_name
		 * fails, tor falls back to FLAV_NS). */
		if (flavor_len == 9 && memcmp(rest + 1, "microdesc", 9) == 0)
			flavor = DIR_CONSENSUS_MICRODESC;
		after = slash != NULL ? slash + 1 : NULL;
	} else if (rest_len > 0 && rest[0] == '/') {
		after = rest + 1;
	}
	want = after;
	if (after != NULL && (size_t)(end - after) >= 5 &&
			memcmp(after, "diff/", 5) == 0) {
		const char *hash = after + 5;
		const char *slash = memchr(hash, '/', (size_t)(end - hash));
		const char *hash_end = slash != NULL ? slash : end;

		if (hash_end - hash != 2 * DIR_SERVER_DIGEST256_LEN ||
				!decode_hex(hash, (size_t)(hash_end - hash),
				url_diff)) {
			out_short(b, 404, "Couldn't parse request", now);
			return;
		}
		diff_only = true;
		want = slash != NULL ? slash + 1 : NULL;
	}
	if (store->consensus == NULL ||
			store->consensus(store->ctx, flavor, &doc) < 0) {
		out_short(b, 404, diff_only ? "No such diff available" :
				"Not found", now);
		return;
	}
	/* digest_list_contains_best_consensus: the client holds ours. */
	if (diff_only && memcmp(url_diff, doc.sha3_as_signed,
			DIR_SERVER_DIGEST256_LEN) == 0) {
		out_short(b, 304, "Not modified", now);
		return;
	}
	for (size_t i = 0; !diff_only && i < req->n_diff_from; i++) {
		if (memcmp(req->diff_from[i], doc.sha3_as_signed,
				DIR_SERVER_DIGEST256_LEN) == 0) {
			out_short(b, 304, "Not modified", now);
			return;
		}
	}
	/* find_best_diff: a diff from the first consensus the client names
	 * that we have one from, in the best method it takes (the store keeps
	 * them compressed once per method, or it is compressed here). */
	encoding = dir_compress_choose(methods, true);
	if (store->consensus_diff != NULL) {
		size_t n = diff_only ? 1 : req->n_diff_from;

		for (size_t i = 0; i < n && diff == NULL; i++) {
			const uint8_t *from = diff_only ? url_diff : req->diff_from[i];

			if (store->consensus_diff(store->ctx, flavor, from, encoding, &diff,
					&diff_len) == 0) {
				b->compress_body = false;
			} else if (encoding != DIR_COMPRESS_IDENTITY &&
					store->consensus_diff(store->ctx, flavor, from,
					DIR_COMPRESS_IDENTITY, &diff, &diff_len) == 0) {
				b->compress_body = true;
			} else {
				diff = NULL;
			}
		}
	}
	if (diff_only && diff == NULL) {
		out_short(b, 404, "No such diff available", now);
		return;
	}
	if (now < doc.valid_after - REASONABLY_LIVE_TIME) {
		out_short(b, 404, "Consensus is too new", now);
		return;
	}
	if (now > doc.valid_until + REASONABLY_LIVE_TIME) {
		out_short(b, 404, "Consensus is too old", now);
		return;
	}
	if (want != NULL && !client_likes_consensus(want, end, &doc)) {
		out_short(b, 404, "Consensus not signed by sufficient number of "
				"requested authorities", now);
		return;
	}
	/* dirserv_spool_remove_missing_and_guess_size: a consensus published
	 * (valid-after) before If-Modified-Since is not sent. */
	if (req->if_modified_since > 0 &&
			doc.valid_after < req->if_modified_since) {
		out_short(b, 304, "Not modified", now);
		return;
	}
	if (busy) {
		out_short(b, 503, "Directory busy, try again later", now);
		return;
	}
	lifetime = doc.fresh_until > now ? (long)(doc.fresh_until - now) : 0;
	out_header(b, now, client_address, encoding, -1, lifetime,
			"Vary: X-Or-Diff-From-Consensus\r\n");
	b->items = 1;
	if (diff != NULL) {
		b->is_diff = true;
		out_add(b, diff, diff_len);
		return;
	}
	/* find_best_consensus: the best method the client takes among those
	 * the consensus is kept in; the store keeps it compressed once per
	 * method, or it is compressed here. */
	if (encoding != DIR_COMPRESS_IDENTITY && store->consensus_compressed != NULL &&
			store->consensus_compressed(store->ctx, flavor, encoding, &kept,
					&kept_len) == 0) {
		out_add(b, kept, kept_len);
	} else {
		out_add(b, doc.text, doc.len);
		b->compress_body = encoding != DIR_COMPRESS_IDENTITY;
	}
}

/* 43 base64 characters without padding -> 32 bytes (the last character
 * carries 2 bits; tor's base64_decode ignores the 4 bits left over, and so
 * does dirdoc_base64_decode). */
static bool
decode_digest256(const char *s, size_t len, uint8_t *out)
{
	struct dirdoc_span span = { .ptr = (const uint8_t *)s, .len = len };

	return len == 43 && dirdoc_base64_decode(span, false, out, DIR_SERVER_DIGEST256_LEN) ==
			DIR_SERVER_DIGEST256_LEN;
}

size_t
dir_microdesc_digests_parse(const char **p, const char *end,
		uint8_t (*out)[DIR_SERVER_DIGEST256_LEN], size_t max)
{
	const char *pos = *p;
	size_t n = 0;

	while (pos < end && n < max) {
		const char *dash = memchr(pos, '-', (size_t)(end - pos));
		const char *item_end = dash != NULL ? dash : end;

		if (decode_digest256(pos, (size_t)(item_end - pos), out[n]))
			n++;
		pos = dash != NULL ? dash + 1 : end;
	}
	*p = pos;
	return n;
}

static int
compare_digest256(const void *a, const void *b)
{
	return memcmp(a, b, DIR_SERVER_DIGEST256_LEN);
}

/* dircache.c handle_get_microdesc: digests separated by '-', bad ones
 * skipped, sorted and made unique (DSR_SORT_UNIQ), missing ones left out,
 * 404 when none is left. tor's spool is flushed from its end
 * (connection_dirserv_flushed_some pops the last resource), so the
 * microdescriptors go out in descending digest order. */
static int
respond_microdesc(struct outbuf *b, const char *list, size_t list_len,
		const struct dir_store *store, unsigned methods, time_t now,
		const char *client_address, bool busy)
{
	uint8_t (*digests)[DIR_SERVER_DIGEST256_LEN];
	const char *pos = list;
	size_t n, found = 0;

	digests = malloc(DIR_SERVER_MICRODESC_MAX * sizeof(*digests));
	if (digests == NULL)
		return -ENOMEM;
	n = dir_microdesc_digests_parse(&pos, list + list_len, digests,
			DIR_SERVER_MICRODESC_MAX);
	qsort(digests, n, sizeof(*digests), compare_digest256);
	for (size_t i = n; i-- > 0;) {
		const uint8_t *text;
		size_t len;

		if (i + 1 < n && memcmp(digests[i], digests[i + 1],
				DIR_SERVER_DIGEST256_LEN) == 0)
			continue;
		if (store->microdesc != NULL &&
				store->microdesc(store->ctx, digests[i], &text,
				&len) == 0) {
			if (found++ == 0) {
				if (busy)
					break;
				out_header(b, now, client_address,
						dir_compress_choose(methods, false), -1,
						MICRODESC_CACHE_LIFETIME, NULL);
				b->compress_body = b->encoding != DIR_COMPRESS_IDENTITY;
			}
			out_add(b, text, len);
		}
	}
	if (found == 0)
		out_short(b, 404, "Not found", now);
	else if (busy)
		out_short(b, 503, "Directory busy, try again later", now);
	else
		b->items = found;
	free(digests);
	return 0;
}

/* One '+'-separated item of a keys URL: "HEX" (fp/, sk/) or "ID-SK"
 * (fp-sk/). */
enum keys_select {
	KEYS_BY_ID,
	KEYS_BY_SK,
	KEYS_BY_ID_SK,
};

static void
keys_mark(const char *item, size_t len, enum keys_select select,
		const struct dir_cert_doc *certs, size_t n, bool *want)
{
	uint8_t a[DIR_SERVER_DIGEST_LEN], k[DIR_SERVER_DIGEST_LEN];
	const size_t hex = 2 * DIR_SERVER_DIGEST_LEN;
	bool newest_only = select == KEYS_BY_ID;

	if (select == KEYS_BY_ID_SK) {
		if (len != 2 * hex + 1 || item[hex] != '-' ||
				!decode_hex(item, hex, a) ||
				!decode_hex(item + hex + 1, hex, k))
			return;
	} else if (len != hex || !decode_hex(item, hex, a)) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool match;

		if (select == KEYS_BY_ID)
			match = memcmp(certs[i].identity_digest, a, sizeof(a)) == 0;
		else if (select == KEYS_BY_SK)
			match = memcmp(certs[i].signing_key_digest, a,
					sizeof(a)) == 0;
		else
			match = memcmp(certs[i].identity_digest, a,
					sizeof(a)) == 0 &&
				memcmp(certs[i].signing_key_digest, k,
					sizeof(k)) == 0;
		if (match) {
			want[i] = true;
			/* authority_cert_get_newest_by_id: the store lists
			 * the newest of an identity first. */
			if (newest_only)
				return;
		}
	}
}

/* dircache.c handle_get_keys: all, fp/, sk/, fp-sk/ (certificates in the
 * store's order; those not held are left out), If-Modified-Since against
 * dir-key-published. "/tor/keys/authority" is only an authority's own. */
static void
respond_keys(struct outbuf *b, const char *url, size_t url_len,
		const struct dir_request *req, const struct dir_store *store,
		unsigned methods, time_t now, const char *client_address, bool busy)
{
	struct dir_cert_doc certs[AUTHORITY_CERTS_MAX];
	size_t n = 0, total = 0, picked = 0, kept = 0;
	bool want[AUTHORITY_CERTS_MAX];
	const char *list = NULL, *end = url + url_len;
	enum keys_select select = KEYS_BY_ID;
	enum dir_compress_method encoding;
	bool all;

	all = url_len == strlen("/tor/keys/all") &&
			memcmp(url, "/tor/keys/all", url_len) == 0;
	if (all) {
		list = NULL;
	} else if (starts_with(url, url_len, "/tor/keys/fp/")) {
		list = url + strlen("/tor/keys/fp/");
	} else if (starts_with(url, url_len, "/tor/keys/sk/")) {
		list = url + strlen("/tor/keys/sk/");
		select = KEYS_BY_SK;
	} else if (starts_with(url, url_len, "/tor/keys/fp-sk/")) {
		list = url + strlen("/tor/keys/fp-sk/");
		select = KEYS_BY_ID_SK;
	} else if (!(url_len == strlen("/tor/keys/authority") &&
			memcmp(url, "/tor/keys/authority", url_len) == 0)) {
		out_short(b, 400, "Bad request", now);
		return;
	}
	while (store->authority_cert != NULL && n < AUTHORITY_CERTS_MAX &&
			store->authority_cert(store->ctx, n, &certs[n]) == 0) {
		want[n] = all;
		n++;
	}
	if (list != NULL) {
		const char *pos = list;

		while (pos < end) {
			const char *plus = memchr(pos, '+', (size_t)(end - pos));
			const char *item_end = plus != NULL ? plus : end;

			keys_mark(pos, (size_t)(item_end - pos), select, certs,
					n, want);
			pos = plus != NULL ? plus + 1 : end;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!want[i])
			continue;
		picked++;
		if (certs[i].published < req->if_modified_since) {
			want[i] = false;
			continue;
		}
		kept++;
		total += certs[i].len;
	}
	if (picked == 0) {
		out_short(b, 404, "Not found", now);
		return;
	}
	if (kept == 0) {
		out_short(b, 304, "Not modified", now);
		return;
	}
	if (busy) {
		out_short(b, 503, "Directory busy, try again later", now);
		return;
	}
	/* A compressed answer has no Content-Length (handle_get_keys). */
	encoding = dir_compress_choose(methods, false);
	out_header(b, now, client_address, encoding,
			encoding == DIR_COMPRESS_IDENTITY ? (long long)total : -1,
			KEYS_CACHE_LIFETIME, NULL);
	b->compress_body = encoding != DIR_COMPRESS_IDENTITY;
	for (size_t i = 0; i < n; i++)
		if (want[i])
			out_add(b, certs[i].text, certs[i].len);
	b->items = kept;
}

/* tor's digest256_from_base64 on the rest of a /tor/hs/3/ URL: 43
 * characters, or 44 ending in '=', decoding to 32 bytes. */
static bool
decode_hs_key(const char *s, size_t len, uint8_t *out)
{
	if (len == 44 && s[43] == '=')
		len = 43;
	return decode_digest256(s, len, out);
}

/* dircache.c handle_get_hs_descriptor_v3. key is what follows
 * "/tor/hs/3/". */
static void
respond_hs_descriptor(struct outbuf *b, const char *key, size_t key_len,
		const struct dir_request *req, const struct dir_store *store,
		time_t now, const char *client_address)
{
	const uint8_t *text;
	size_t len;

	if (!req->anonymous) {
		b->single_hop = true;
		out_short(b, 503, "Rejecting single hop HS v3 descriptor request",
				now);
		return;
	}
	if (!decode_hs_key(key, key_len, b->hs_key)) {
		out_short(b, 404, "Not found", now);
		return;
	}
	b->has_hs_key = true;
	if (store->hs_descriptor == NULL ||
			store->hs_descriptor(store->ctx, b->hs_key, &text, &len) < 0) {
		out_short(b, 404, "Not found", now);
		return;
	}
	/* handle_get_hs_descriptor_v3 never compresses. */
	out_header(b, now, client_address, DIR_COMPRESS_IDENTITY, (long long)len, 0, NULL);
	out_add(b, text, len);
	b->items = 1;
}

/* dircache.c directory_handle_command_post for "/tor/hs/" (after the
 * public-relay check): the anonymity check, then handle_post_hs_descriptor
 * (parse_hs_version_from_post: a decimal version as tor_parse_long reads
 * it, 0..INT_MAX, followed by "/publish" and anything). */
static void
respond_hs_publish(struct outbuf *b, const char *url, size_t url_len,
		const struct dir_request *req, const struct dir_store *store,
		time_t now)
{
	const char *pos = url + strlen("/tor/hs/"), *end = url + url_len;
	unsigned long long version = 0;
	bool digits = false, stored = false;

	if (!req->anonymous) {
		b->single_hop = true;
		out_short(b, 503, "Rejecting single hop HS descriptor post", now);
		return;
	}
	if (pos < end && *pos == '+')
		pos++;
	while (pos < end && *pos >= '0' && *pos <= '9' && version <= 0x7fffffffull) {
		version = version * 10 + (unsigned long long)(*pos - '0');
		digits = true;
		pos++;
	}
	if (digits && version <= 0x7fffffffull && version == 3 &&
			starts_with(pos, (size_t)(end - pos), "/publish") &&
			store->hs_publish != NULL)
		stored = store->hs_publish(store->ctx, req->body,
				req->body_len) == 0;
	if (stored)
		out_short(b, 200, "HS descriptor stored successfully.", now);
	else
		out_short(b, 400, "Invalid HS descriptor. Rejected.", now);
}

/* Replaces the body after the header with its compressed form (the whole
 * body as one stream, as tor's connection_dir_buf_add writes it). */
static int
compress_body(struct outbuf *b)
{
	uint8_t *packed;
	size_t packed_len;
	int rc = dir_compress(b->encoding, DIR_COMPRESS_LOW, b->data + b->body_start,
			b->len - b->body_start, &packed, &packed_len);

	if (rc < 0)
		return rc == -ENOMEM ? -ENOMEM : -EIO;
	b->len = b->body_start;
	out_add(b, packed, packed_len);
	free(packed);
	return 0;
}

int
dir_server_respond(const struct dir_request *req,
		const struct dir_store *store, time_t now,
		const char *client_address, bool busy,
		struct dir_response_info *info, uint8_t **out,
		size_t *out_len)
{
	static const char consensus_prefix[] =
			"/tor/status-vote/current/consensus";
	struct outbuf b = { 0 };
	enum dir_resource resource = DIR_RESOURCE_OTHER;
	const char *url = req->url;
	size_t url_len = req->url_len;
	unsigned methods = req->accept_encoding | DIR_COMPRESS_SET_IDENTITY;
	int rc = 0;

	if (client_address != NULL)
		for (const char *c = client_address; *c != '\0'; c++)
			if (*c <= 0x20 || *c >= 0x7f)
				return -EINVAL;
	if (req->method == DIR_REQUEST_POST) {
		/* dircache.c directory_handle_command_post, for a relay that
		 * is no authority. */
		resource = DIR_RESOURCE_POST;
		if (store->not_public_relay) {
			out_short(&b, 503, "Not acting as a public relay", now);
		} else if (starts_with(url, url_len, "/tor/hs/")) {
			resource = DIR_RESOURCE_HS_PUBLISH;
			respond_hs_publish(&b, url, url_len, req, store, now);
		} else {
			out_short(&b, 400, "Nonauthoritative directory does not "
					"accept posted server descriptors", now);
		}
		goto done;
	}
	/* directory_handle_command_get: a ".z" suffix adds zlib to the
	 * methods the client accepts. */
	if (url_len > 2 && memcmp(url + url_len - 2, ".z", 2) == 0) {
		url_len -= 2;
		methods |= 1u << DIR_COMPRESS_DEFLATE;
	}
	if (starts_with(url, url_len, consensus_prefix)) {
		size_t skip = sizeof(consensus_prefix) - 1;

		resource = DIR_RESOURCE_CONSENSUS;
		respond_consensus(&b, url + skip, url_len - skip, req, store,
				methods, now, client_address, busy);
	} else if (starts_with(url, url_len, "/tor/micro/d/")) {
		size_t skip = strlen("/tor/micro/d/");

		resource = DIR_RESOURCE_MICRODESC;
		rc = respond_microdesc(&b, url + skip, url_len - skip, store,
				methods, now, client_address, busy);
	} else if (starts_with(url, url_len, "/tor/keys/")) {
		resource = DIR_RESOURCE_KEYS;
		respond_keys(&b, url, url_len, req, store, methods, now,
				client_address, busy);
	} else if (starts_with(url, url_len, "/tor/hs/3/")) {
		size_t skip = strlen("/tor/hs/3/");

		resource = DIR_RESOURCE_HS_FETCH;
		respond_hs_descriptor(&b, url + skip, url_len - skip, req, store,
				now, client_address);
	} else {
		out_short(&b, 404, "Not found", now);
	}
done:
	if (rc == 0 && !b.failed && b.status == 200 && b.compress_body)
		rc = compress_body(&b);
	if (rc == 0 && b.failed)
		rc = -ENOMEM;
	if (rc < 0) {
		free(b.data);
		return rc;
	}
	if (info != NULL) {
		info->resource = resource;
		info->status = b.status;
		info->items = b.items;
		info->has_hs_key = b.has_hs_key;
		memcpy(info->hs_key, b.hs_key, sizeof(info->hs_key));
		info->single_hop = b.single_hop;
		info->encoding = b.status == 200 ? b.encoding : DIR_COMPRESS_IDENTITY;
		info->consensus_diff = b.status == 200 && b.is_diff;
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}
