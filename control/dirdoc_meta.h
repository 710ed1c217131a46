/* The directory document meta-format (dir-spec 1.2) and the small value
 * formats the directory documents share: base64, hex, ISO times.
 *
 * A document is a sequence of items. Each item is a keyword line
 *   Keyword (WS Argument)* NL        Keyword = [A-Za-z0-9][A-Za-z0-9-]*
 * optionally followed by one object
 *   "-----BEGIN " Type "-----" NL  base64 lines  "-----END " Type "-----" NL
 * with the same Type on both lines. Empty lines between items are skipped
 * (dir-spec 1.2: Document ::= (Item | NL)+).
 *
 * The tokenizer is pure and bounded: it reads [*p, end) only, never copies,
 * and every span it returns points into the input, which must outlive the
 * item. A keyword line may be at most DIRDOC_MAX_LINE_LEN bytes, an object
 * at most DIRDOC_MAX_OBJECT_LEN bytes of base64 text; the callers (consensus,
 * authority certificate, microdescriptor) add bounds of their own. NUL bytes
 * are refused anywhere; other bytes in arguments are passed through (tor
 * passes them through too: contact lines carry UTF-8).
 *
 * Errors are -EPROTO for malformed text and -EMSGSIZE for a bound exceeded;
 * when the caller passes a struct dirdoc_error, it receives the 1-based line
 * number and a short message naming what was wrong.
 */
#ifndef HSRELAY_CONTROL_DIRDOC_META_H
#define HSRELAY_CONTROL_DIRDOC_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Longest keyword line, newline excluded. The longest lines in a real
 * consensus are bandwidth-weights and params, a few hundred bytes. */
#define DIRDOC_MAX_LINE_LEN 8192
/* Longest object (base64 text between BEGIN and END lines, newlines
 * included). An RSA-4096 key or signature is under 800 bytes of base64. */
#define DIRDOC_MAX_OBJECT_LEN 16384
/* Longest object type ("RSA PUBLIC KEY", "ID SIGNATURE"). */
#define DIRDOC_MAX_OBJECT_TYPE_LEN 64

struct dirdoc_error {
	unsigned line;          /* 1-based; 0 when not tied to a line */
	char message[112];      /* "line 12: ..." */
};

/* Records "line N: <message>" into err (when err is not NULL) and returns
 * code, so parsers can write `return dirdoc_fail(err, line, -EPROTO, ...)`. */
int dirdoc_fail(struct dirdoc_error *err, unsigned line, int code,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A span of the input. */
struct dirdoc_span {
	const uint8_t *ptr;
	size_t len;
};

struct dirdoc_item {
	struct dirdoc_span keyword;
	/* Everything after the keyword and the whitespace after it, up to the
	 * newline (excluded); empty when there are no arguments. */
	struct dirdoc_span args;
	bool has_object;
	struct dirdoc_span object_type;  /* "RSA PUBLIC KEY" */
	struct dirdoc_span object_body;  /* base64 lines, newlines included */
	const uint8_t *start;            /* first byte of the keyword */
	const uint8_t *line_end;         /* just after the keyword line's NL */
	const uint8_t *end;              /* just after the item (object's NL) */
	unsigned line;                   /* line number of the keyword line */
};

/* Tokenizer state: the cursor and the line number of the byte it points
 * at. Initialise with dirdoc_reader_init(). */
struct dirdoc_reader {
	const uint8_t *p;
	const uint8_t *end;
	unsigned line;
};

void dirdoc_reader_init(struct dirdoc_reader *reader, const uint8_t *start,
		const uint8_t *end);

/* Reads the next item, skipping empty lines. Returns 1 with *out filled and
 * the reader advanced past the item, 0 at the end of the input, or -EPROTO /
 * -EMSGSIZE (reader unchanged, err filled). */
int dirdoc_next_item(struct dirdoc_reader *reader, struct dirdoc_item *out,
		struct dirdoc_error *err);

/* Like dirdoc_next_item() but does not advance. */
int dirdoc_peek_item(const struct dirdoc_reader *reader,
		struct dirdoc_item *out, struct dirdoc_error *err);

/* True when the item's keyword is exactly kw. */
bool dirdoc_keyword_is(const struct dirdoc_item *item, const char *kw);
/* True when the span is exactly s. */
bool dirdoc_span_is(struct dirdoc_span span, const char *s);

/* Splits the next whitespace-separated argument off *args (SP or TAB).
 * Returns true and sets *arg, or false when no argument is left. */
bool dirdoc_next_arg(struct dirdoc_span *args, struct dirdoc_span *arg);
/* Number of whitespace-separated arguments in args. */
size_t dirdoc_count_args(struct dirdoc_span args);

/* The value of a base64 digit (RFC 4648 alphabet), -1 for any other
 * byte. */
int dirdoc_base64_value(uint8_t c);

/* Base64 (RFC 4648 alphabet). Trailing '=' padding is optional, newlines
 * are skipped when skip_newlines (object bodies), any other byte outside
 * the alphabet is -EPROTO. Returns the decoded length, or -EMSGSIZE when
 * out_len is too small. */
ssize_t dirdoc_base64_decode(struct dirdoc_span in, bool skip_newlines,
		uint8_t *out, size_t out_len);

/* Decodes an item's object, checking its type when want_type is not NULL.
 * Returns the decoded length, -EPROTO when there is no object, the type
 * differs or the base64 is bad, -EMSGSIZE when out_len is too small. */
ssize_t dirdoc_object_decode(const struct dirdoc_item *item,
		const char *want_type, uint8_t *out, size_t out_len);

/* Exactly 2 * out_len hex digits (either case) into out. -EPROTO otherwise. */
int dirdoc_hex_decode(struct dirdoc_span in, uint8_t *out, size_t out_len);

/* "YYYY-MM-DD HH:MM:SS" (UTC) given as its two arguments. -EPROTO on any
 * other shape or an out-of-range field. */
int dirdoc_parse_time(struct dirdoc_span date, struct dirdoc_span clock,
		time_t *out);
/* Takes the next two arguments off *args and parses them as a time. */
int dirdoc_next_time(struct dirdoc_span *args, time_t *out);

/* A decimal integer in [min, max] with an optional leading '-'. */
int dirdoc_parse_int(struct dirdoc_span in, int64_t min, int64_t max,
		int64_t *out);

/* A dotted-quad IPv4 address, host byte order. */
int dirdoc_parse_ipv4(struct dirdoc_span in, uint32_t *out);

/* A "Keyword=Int32" list (consensus params, bandwidth-weights; dir-spec
 * 3.4.1). Entries are written to names/values up to max_entries; names
 * point into the input. Returns the number of entries, -EPROTO on a
 * malformed entry, -EMSGSIZE when there are more than max_entries. */
struct dirdoc_int_param {
	struct dirdoc_span name;
	int32_t value;
};
ssize_t dirdoc_parse_int_params(struct dirdoc_span args,
		struct dirdoc_int_param *out, size_t max_entries);

#endif
