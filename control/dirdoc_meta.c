/* The dir-spec 1.2 meta-format tokenizer and shared value formats. */
#include "control/dirdoc_meta.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BEGIN_PREFIX "-----BEGIN "
#define END_PREFIX "-----END "
#define DASHES "-----"

int
dirdoc_fail(struct dirdoc_error *err, unsigned line, int code,
		const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL)
		return code;
	err->line = line;
	n = snprintf(err->message, sizeof(err->message), "line %u: ", line);
	if (n < 0 || (size_t)n >= sizeof(err->message))
		return code;
	va_start(ap, fmt);
	vsnprintf(err->message + n, sizeof(err->message) - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

void
dirdoc_reader_init(struct dirdoc_reader *reader, const uint8_t *start,
		const uint8_t *end)
{
	reader->p = start;
	reader->end = end;
	reader->line = 1;
}

static bool
is_keyword_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-';
}

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* The line starting at p: sets *nl to its newline. -EPROTO when there is
 * none or a NUL comes first, -EMSGSIZE when longer than max. */
static int
find_line(const uint8_t *p, const uint8_t *end, size_t max,
		const uint8_t **nl)
{
	size_t avail = (size_t)(end - p);
	size_t scan = avail < max + 1 ? avail : max + 1;
	const uint8_t *q = memchr(p, '\n', scan);

	if (q == NULL)
		return scan == avail ? -EPROTO : -EMSGSIZE;
	if (memchr(p, '\0', (size_t)(q - p)) != NULL)
		return -EPROTO;
	*nl = q;
	return 0;
}

static bool
starts_with(const uint8_t *p, const uint8_t *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* Checks "-----<PREFIX>Type-----" between p and nl; sets *type. The type
 * is one or more keywords separated by single spaces (dir-spec 1.2). */
static bool
parse_armor_line(const uint8_t *p, const uint8_t *nl, const char *prefix,
		struct dirdoc_span *type)
{
	size_t plen = strlen(prefix);
	const uint8_t *t;
	const uint8_t *tend;

	if ((size_t)(nl - p) < plen + strlen(DASHES) + 1 ||
			memcmp(p, prefix, plen) != 0 ||
			memcmp(nl - strlen(DASHES), DASHES, strlen(DASHES)) != 0)
		return false;
	t = p + plen;
	tend = nl - strlen(DASHES);
	if ((size_t)(tend - t) > DIRDOC_MAX_OBJECT_TYPE_LEN)
		return false;
	for (const uint8_t *q = t; q < tend; q++) {
		if (*q == ' ') {
			if (q == t || q + 1 == tend || q[1] == ' ')
				return false;
		} else if (!is_keyword_char(*q)) {
			return false;
		}
	}
	type->ptr = t;
	type->len = (size_t)(tend - t);
	return true;
}

static int
read_object(const uint8_t *p, const uint8_t *end, unsigned *line,
		struct dirdoc_item *out, struct dirdoc_error *err)
{
	const uint8_t *nl;
	const uint8_t *body;
	int rc = find_line(p, end, DIRDOC_MAX_LINE_LEN, &nl);

	if (rc != 0)
		return dirdoc_fail(err, *line, rc, "bad object begin line");
	if (!parse_armor_line(p, nl, BEGIN_PREFIX, &out->object_type))
		return dirdoc_fail(err, *line, -EPROTO, "bad object begin line");
	body = nl + 1;
	(*line)++;
	for (p = body;; p = nl + 1) {
		struct dirdoc_span end_type;

		if ((size_t)(p - body) > DIRDOC_MAX_OBJECT_LEN)
			return dirdoc_fail(err, *line, -EMSGSIZE,
					"object longer than %d bytes",
					DIRDOC_MAX_OBJECT_LEN);
		rc = find_line(p, end, DIRDOC_MAX_LINE_LEN, &nl);
		if (rc != 0)
			return dirdoc_fail(err, *line, -EPROTO,
					"object without END line");
		if (starts_with(p, nl, "-----")) {
			if (!parse_armor_line(p, nl, END_PREFIX, &end_type) ||
					end_type.len != out->object_type.len ||
					memcmp(end_type.ptr, out->object_type.ptr,
						end_type.len) != 0)
				return dirdoc_fail(err, *line, -EPROTO,
						"object END line does not match BEGIN");
			out->object_body.ptr = body;
			out->object_body.len = (size_t)(p - body);
			out->has_object = true;
			out->end = nl + 1;
			(*line)++;
			return 0;
		}
		(*line)++;
	}
}

int
dirdoc_peek_item(const struct dirdoc_reader *reader,
		struct dirdoc_item *out, struct dirdoc_error *err)
{
	const uint8_t *p = reader->p;
	const uint8_t *end = reader->end;
	unsigned line = reader->line;
	const uint8_t *nl;
	const uint8_t *q;
	int rc;

	while (p < end && *p == '\n') {
		p++;
		line++;
	}
	if (p == end)
		return 0;
	memset(out, 0, sizeof(*out));
	rc = find_line(p, end, DIRDOC_MAX_LINE_LEN, &nl);
	if (rc == -EMSGSIZE)
		return dirdoc_fail(err, line, rc, "line longer than %d bytes",
				DIRDOC_MAX_LINE_LEN);
	if (rc != 0)
		return dirdoc_fail(err, line, rc,
				"line without newline or with a NUL byte");
	if (*p == '-')
		return dirdoc_fail(err, line, -EPROTO,
				"object or keyword starting with '-' where an item was expected");
	for (q = p; q < nl && is_keyword_char(*q); q++)
		;
	if (q == p || (q < nl && !is_space(*q)))
		return dirdoc_fail(err, line, -EPROTO, "bad keyword");
	out->keyword.ptr = p;
	out->keyword.len = (size_t)(q - p);
	while (q < nl && is_space(*q))
		q++;
	out->args.ptr = q;
	out->args.len = (size_t)(nl - q);
	out->start = p;
	out->line = line;
	out->line_end = nl + 1;
	out->end = nl + 1;
	line++;
	if (nl + 1 < end && starts_with(nl + 1, end, BEGIN_PREFIX)) {
		rc = read_object(nl + 1, end, &line, out, err);
		if (rc != 0)
			return rc;
	}
	return 1;
}

int
dirdoc_next_item(struct dirdoc_reader *reader, struct dirdoc_item *out,
		struct dirdoc_error *err)
{
	int rc = dirdoc_peek_item(reader, out, err);
	const uint8_t *q;

	if (rc <= 0) {
		if (rc == 0) {
			reader->p = reader->end;
		}
		return rc;
	}
	/* Count the lines the item spans (keyword line + object lines). */
	for (q = reader->p; q < out->end; q++)
		if (*q == '\n')
			reader->line++;
	reader->p = out->end;
	return 1;
}

bool
dirdoc_span_is(struct dirdoc_span span, const char *s)
{
	size_t n = strlen(s);

	return span.len == n && memcmp(span.ptr, s, n) == 0;
}

bool
dirdoc_keyword_is(const struct dirdoc_item *item, const char *kw)
{
	return dirdoc_span_is(item->keyword, kw);
}

bool
dirdoc_next_arg(struct dirdoc_span *args, struct dirdoc_span *arg)
{
	const uint8_t *p = args->ptr;
	const uint8_t *end = args->ptr + args->len;
	const uint8_t *start;

	while (p < end && is_space(*p))
		p++;
	if (p == end) {
		args->ptr = end;
		args->len = 0;
		return false;
	}
	start = p;
	while (p < end && !is_space(*p))
		p++;
	arg->ptr = start;
	arg->len = (size_t)(p - start);
	args->ptr = p;
	args->len = (size_t)(end - p);
	return true;
}

size_t
dirdoc_count_args(struct dirdoc_span args)
{
	struct dirdoc_span arg;
	size_t n = 0;

	while (dirdoc_next_arg(&args, &arg))
		n++;
	return n;
}

int
dirdoc_base64_value(uint8_t c)
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

ssize_t
dirdoc_base64_decode(struct dirdoc_span in, bool skip_newlines,
		uint8_t *out, size_t out_len)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;
	size_t pad = 0;
	size_t symbols = 0;

	for (size_t i = 0; i < in.len; i++) {
		uint8_t c = in.ptr[i];
		int v;

		if (c == '\n' && skip_newlines)
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = dirdoc_base64_value(c);
		if (v < 0 || pad != 0)
			return -EPROTO;
		symbols++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == out_len)
				return -EMSGSIZE;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* One leftover symbol (6 bits) cannot encode a byte; padding may
	 * only fill the last quantum. */
	if (symbols % 4 == 1 || pad > 2 ||
			(pad != 0 && (symbols + pad) % 4 != 0))
		return -EPROTO;
	return (ssize_t)n;
}

ssize_t
dirdoc_object_decode(const struct dirdoc_item *item, const char *want_type,
		uint8_t *out, size_t out_len)
{
	if (!item->has_object)
		return -EPROTO;
	if (want_type != NULL && !dirdoc_span_is(item->object_type, want_type))
		return -EPROTO;
	return dirdoc_base64_decode(item->object_body, true, out, out_len);
}

static int
hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
dirdoc_hex_decode(struct dirdoc_span in, uint8_t *out, size_t out_len)
{
	if (in.len != 2 * out_len)
		return -EPROTO;
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_value(in.ptr[2 * i]);
		int lo = hex_value(in.ptr[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EPROTO;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Fixed-width unsigned decimal. */
static bool
digits(const uint8_t *p, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date: count whole 400-year
 * eras (146097 days each) from a March-based year, so the leap day is the
 * last day of the year. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
dirdoc_parse_time(struct dirdoc_span date, struct dirdoc_span clock,
		time_t *out)
{
	static const int month_days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const uint8_t *d = date.ptr;
	const uint8_t *c = clock.ptr;
	int year, mon, day, hour, min, sec;

	if (date.len != 10 || clock.len != 8 || d[4] != '-' || d[7] != '-' ||
			c[2] != ':' || c[5] != ':')
		return -EPROTO;
	if (!digits(d, 4, &year) || !digits(d + 5, 2, &mon) ||
			!digits(d + 8, 2, &day) || !digits(c, 2, &hour) ||
			!digits(c + 3, 2, &min) || !digits(c + 6, 2, &sec))
		return -EPROTO;
	/* tor's parse_iso_time accepts years 1970..INT_MAX; the documents
	 * carry 2038-01-01 as a fixed publication time. */
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || hour > 23 ||
			min > 59 || sec > 60)
		return -EPROTO;
	if (day > month_days[mon - 1] + (mon == 2 && is_leap(year)))
		return -EPROTO;
	*out = (time_t)(days_from_civil(year, (unsigned)mon, (unsigned)day) *
			86400 + hour * 3600 + min * 60 + sec);
	return 0;
}

int
dirdoc_next_time(struct dirdoc_span *args, time_t *out)
{
	struct dirdoc_span date, clock;

	if (!dirdoc_next_arg(args, &date) || !dirdoc_next_arg(args, &clock))
		return -EPROTO;
	return dirdoc_parse_time(date, clock, out);
}

int
dirdoc_parse_int(struct dirdoc_span in, int64_t min, int64_t max,
		int64_t *out)
{
	size_t i = 0;
	bool negative = false;
	int64_t v = 0;

	if (in.len > 0 && in.ptr[0] == '-') {
		negative = true;
		i = 1;
	}
	/* 18 digits always fit an int64_t; longer is out of any range here. */
	if (in.len == i || in.len - i > 18)
		return -EPROTO;
	for (; i < in.len; i++) {
		if (in.ptr[i] < '0' || in.ptr[i] > '9')
			return -EPROTO;
		v = v * 10 + (in.ptr[i] - '0');
	}
	if (negative)
		v = -v;
	if (v < min || v > max)
		return -EPROTO;
	*out = v;
	return 0;
}

int
dirdoc_parse_ipv4(struct dirdoc_span in, uint32_t *out)
{
	uint32_t addr = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		while (i < in.len && in.ptr[i] >= '0' && in.ptr[i] <= '9' &&
				i - start < 3) {
			v = v * 10 + (unsigned)(in.ptr[i] - '0');
			i++;
		}
		if (i == start || v > 255 ||
				(i - start > 1 && in.ptr[start] == '0'))
			return -EPROTO;
		addr = addr << 8 | v;
		if (part < 3) {
			if (i == in.len || in.ptr[i] != '.')
				return -EPROTO;
			i++;
		}
	}
	if (i != in.len)
		return -EPROTO;
	*out = addr;
	return 0;
}

ssize_t
dirdoc_parse_int_params(struct dirdoc_span args,
		struct dirdoc_int_param *out, size_t max_entries)
{
	struct dirdoc_span arg;
	size_t n = 0;

	while (dirdoc_next_arg(&args, &arg)) {
		const uint8_t *eq = memchr(arg.ptr, '=', arg.len);
		struct dirdoc_span value;
		int64_t v;

		if (eq == NULL || eq == arg.ptr)
			return -EPROTO;
		value.ptr = eq + 1;
		value.len = arg.len - (size_t)(eq + 1 - arg.ptr);
		if (dirdoc_parse_int(value, INT32_MIN, INT32_MAX, &v) != 0)
			return -EPROTO;
		if (n == max_entries)
			return -EMSGSIZE;
		out[n].name.ptr = arg.ptr;
		out[n].name.len = (size_t)(eq - arg.ptr);
		out[n].value = (int32_t)v;
		n++;
	}
	return (ssize_t)n;
}
