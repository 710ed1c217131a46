/* Directory cache HTTP/1.0: request parser and responder (dir_server.h). */
#include "control/dir_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* dircache.c cache lifetimes. */
#define MICRODESC_CACHE_LIFETIME (48 * 60 * 60)
#define KEYS_CACHE_LIFETIME (60 * 60)
/* networkstatus.c REASONABLY_LIVE_TIME. */
#define REASONABLY_LIVE_TIME (24 * 60 * 60)
/* Microdescriptors answered in one response (tor's clients ask for at most
 * 92 per request: MAX_MICRODESC_DOWNLOADS_PER_REQUEST... we cap parsing). */
#define MICRODESC_MAX_PER_REQUEST 512
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

/* A growing output buffer; failure sticks. */
struct outbuf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
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

	if (n < 0)
		b->failed = true;
	else
		out_add(b, buf, (size_t)n);
}

/* dircache.c write_http_response_header_impl with type text/plain and
 * encoding identity. length < 0: no Content-Length; lifetime > 0:
 * Expires, 0: Pragma: no-cache. */
static void
out_header(struct outbuf *b, time_t now, const char *client_address,
		long long length, long lifetime, const char *extra)
{
	char date[30], line[128];

	dir_server_rfc1123_time(now, date);
	out_str(b, "HTTP/1.0 200 OK\r\nDate: ");
	out_str(b, date);
	out_str(b, "\r\nContent-Type: text/plain\r\n");
	if (client_address != NULL) {
		out_str(b, "X-Your-Address-Is: ");
		out_str(b, client_address);
		out_str(b, "\r\n");
	}
	out_str(b, "Content-Encoding: identity\r\n");
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
}

static bool
starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* dircache.c handle_get_current_consensus. rest is what follows
 * "/tor/status-vote/current/consensus" (".z" already cut). */
static void
respond_consensus(struct outbuf *b, const char *rest, size_t rest_len,
		const struct dir_request *req, const struct dir_store *store,
		time_t now, const char *client_address, bool busy)
{
	enum dir_consensus_flavor flavor = DIR_CONSENSUS_NS;
	const uint8_t *text;
	size_t len, flavor_len;
	time_t valid_after, fresh_until, valid_until;
	long lifetime;

	if (rest_len > 0 && rest[0] == '-') {
		const char *slash = memchr(rest, '/', rest_len);

		flavor_len = (size_t)((slash != NULL ? slash : rest + rest_len) -
				(rest + 1));
		if (flavor_len == 9 && memcmp(rest + 1, "microdesc", 9) == 0)
			flavor = DIR_CONSENSUS_MICRODESC;
		else if (!(flavor_len == 2 && memcmp(rest + 1, "ns", 2) == 0)) {
			out_short(b, 404, "Not found", now);
			return;
		}
	} else if (rest_len > 0 && rest[0] != '/') {
		out_short(b, 404, "Not found", now);
		return;
	}
	if (store->consensus == NULL ||
			store->consensus(store->ctx, flavor, &text, &len,
			&valid_after, &fresh_until, &valid_until) < 0) {
		out_short(b, 404, "Not found", now);
		return;
	}
	if (now < valid_after - REASONABLY_LIVE_TIME) {
		out_short(b, 404, "Consensus is too new", now);
		return;
	}
	if (now > valid_until + REASONABLY_LIVE_TIME) {
		out_short(b, 404, "Consensus is too old", now);
		return;
	}
	/* dirserv_spool_remove_missing_and_guess_size: a consensus published
	 * (valid-after) before If-Modified-Since is not sent. */
	if (req->if_modified_since > 0 && valid_after < req->if_modified_since) {
		out_short(b, 304, "Not modified", now);
		return;
	}
	if (busy) {
		out_short(b, 503, "Directory busy, try again later", now);
		return;
	}
	lifetime = fresh_until > now ? (long)(fresh_until - now) : 0;
	out_header(b, now, client_address, -1, lifetime,
			"Vary: X-Or-Diff-From-Consensus\r\n");
	out_add(b, text, len);
}

static int
base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* 43 base64 characters without padding -> 32 bytes. */
static bool
decode_digest256(const char *s, size_t len, uint8_t *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	if (len != 43)
		return false;
	for (size_t i = 0; i < len; i++) {
		int v = base64_value(s[i]);

		if (v < 0)
			return false;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == DIR_SERVER_DIGEST256_LEN;
}

static int
compare_digest256(const void *a, const void *b)
{
	return memcmp(a, b, DIR_SERVER_DIGEST256_LEN);
}

/* dircache.c handle_get_microdesc: digests separated by '-', bad ones
 * skipped, sorted and made unique (DSR_SORT_UNIQ), missing ones left out,
 * 404 when none is left. */
static int
respond_microdesc(struct outbuf *b, const char *list, size_t list_len,
		const struct dir_store *store, time_t now,
		const char *client_address, bool busy)
{
	uint8_t (*digests)[DIR_SERVER_DIGEST256_LEN];
	size_t n = 0, found = 0;
	const char *pos = list, *end = list + list_len;

	digests = malloc(MICRODESC_MAX_PER_REQUEST * sizeof(*digests));
	if (digests == NULL)
		return -ENOMEM;
	while (pos < end && n < MICRODESC_MAX_PER_REQUEST) {
		const char *dash = memchr(pos, '-', (size_t)(end - pos));
		const char *item_end = dash != NULL ? dash : end;

		if (decode_digest256(pos, (size_t)(item_end - pos), digests[n]))
			n++;
		pos = dash != NULL ? dash + 1 : end;
	}
	qsort(digests, n, sizeof(*digests), compare_digest256);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *text;
		size_t len;

		if (i > 0 && memcmp(digests[i], digests[i - 1],
				DIR_SERVER_DIGEST256_LEN) == 0)
			continue;
		if (store->microdesc != NULL &&
				store->microdesc(store->ctx, digests[i], &text,
				&len) == 0) {
			if (found++ == 0) {
				if (busy)
					break;
				out_header(b, now, client_address, -1,
						MICRODESC_CACHE_LIFETIME, NULL);
			}
			out_add(b, text, len);
		}
	}
	if (found == 0)
		out_short(b, 404, "Not found", now);
	else if (busy)
		out_short(b, 503, "Directory busy, try again later", now);
	free(digests);
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

static bool
decode_hex_digest(const char *s, size_t len, uint8_t *out)
{
	if (len != 2 * DIR_SERVER_DIGEST_LEN)
		return false;
	for (size_t i = 0; i < DIR_SERVER_DIGEST_LEN; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* dircache.c handle_get_keys for "all" and "fp/HEX+HEX" (certificates in
 * the store's order; identity fingerprints not held are left out). */
static void
respond_keys(struct outbuf *b, const char *url, size_t url_len,
		const struct dir_store *store, time_t now,
		const char *client_address, bool busy)
{
	const uint8_t *text[AUTHORITY_CERTS_MAX];
	size_t len[AUTHORITY_CERTS_MAX], n = 0, total = 0;
	uint8_t ids[AUTHORITY_CERTS_MAX][DIR_SERVER_DIGEST_LEN];
	bool all, want[AUTHORITY_CERTS_MAX];
	const char *list = NULL, *end = url + url_len;

	all = url_len == strlen("/tor/keys/all") &&
			memcmp(url, "/tor/keys/all", url_len) == 0;
	if (!all && starts_with(url, url_len, "/tor/keys/fp/")) {
		list = url + strlen("/tor/keys/fp/");
	} else if (!all && !starts_with(url, url_len, "/tor/keys/sk/") &&
			!starts_with(url, url_len, "/tor/keys/fp-sk/") &&
			!(url_len == strlen("/tor/keys/authority") &&
			memcmp(url, "/tor/keys/authority", url_len) == 0)) {
		out_short(b, 400, "Bad request", now);
		return;
	}
	while (store->authority_cert != NULL && n < AUTHORITY_CERTS_MAX &&
			store->authority_cert(store->ctx, n, &text[n], &len[n],
			ids[n]) == 0) {
		want[n] = all;
		n++;
	}
	if (list != NULL) {
		const char *pos = list;

		while (pos < end) {
			const char *plus = memchr(pos, '+', (size_t)(end - pos));
			const char *item_end = plus != NULL ? plus : end;
			uint8_t id[DIR_SERVER_DIGEST_LEN];

			if (decode_hex_digest(pos, (size_t)(item_end - pos), id))
				for (size_t i = 0; i < n; i++)
					if (memcmp(ids[i], id, sizeof(id)) == 0)
						want[i] = true;
			pos = plus != NULL ? plus + 1 : end;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (want[i])
			total += len[i];
	if (total == 0) {
		out_short(b, 404, "Not found", now);
		return;
	}
	if (busy) {
		out_short(b, 503, "Directory busy, try again later", now);
		return;
	}
	out_header(b, now, client_address, (long long)total,
			KEYS_CACHE_LIFETIME, NULL);
	for (size_t i = 0; i < n; i++)
		if (want[i])
			out_add(b, text[i], len[i]);
}

int
dir_server_respond(const struct dir_request *req,
		const struct dir_store *store, time_t now,
		const char *client_address, bool busy, uint8_t **out,
		size_t *out_len)
{
	static const char consensus_prefix[] =
			"/tor/status-vote/current/consensus";
	struct outbuf b = { 0 };
	const char *url = req->url;
	size_t url_len = req->url_len;
	int rc = 0;

	if (client_address != NULL)
		for (const char *c = client_address; *c != '\0'; c++)
			if (*c <= 0x20 || *c >= 0x7f)
				return -EINVAL;
	if (req->method == DIR_REQUEST_POST) {
		/* dircache.c directory_handle_command_post, for a relay that
		 * is no authority (HSDir uploads are issue 6). */
		out_short(&b, 400, "Nonauthoritative directory does not accept "
				"posted server descriptors", now);
		goto done;
	}
	/* directory_handle_command_get: a ".z" suffix only adds zlib to the
	 * methods the client accepts; we answer identity anyway. */
	if (url_len > 2 && memcmp(url + url_len - 2, ".z", 2) == 0)
		url_len -= 2;
	if (starts_with(url, url_len, consensus_prefix)) {
		size_t skip = sizeof(consensus_prefix) - 1;

		respond_consensus(&b, url + skip, url_len - skip, req, store,
				now, client_address, busy);
	} else if (starts_with(url, url_len, "/tor/micro/d/")) {
		size_t skip = strlen("/tor/micro/d/");

		rc = respond_microdesc(&b, url + skip, url_len - skip, store,
				now, client_address, busy);
	} else if (starts_with(url, url_len, "/tor/keys/")) {
		respond_keys(&b, url, url_len, store, now, client_address, busy);
	} else {
		out_short(&b, 404, "Not found", now);
	}
done:
	if (rc == 0 && b.failed)
		rc = -ENOMEM;
	if (rc < 0) {
		free(b.data);
		return rc;
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}
