/* v3 descriptor outer layer as tor 0.4.9's HSDir checks it, and the
 * hash-ring values (rend-spec-v3 2.2, 2.4). */
#include "control/hs_descriptor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/kdf.h"
#include "crypto/torcert.h"
#include "dataplane/wire.h"

/* tor's tokenizer limits (parsecommon.c get_next_token). */
#define HS_DESC_MAX_LINE_LEN (128 * 1024)
#define HS_DESC_MAX_OBJECT_LEN (128 * 1024)

/* The outer layer's keywords (hs_descriptor.c hs_desc_v3_token_table). */
enum hs_desc_keyword {
	KW_HS_DESCRIPTOR,
	KW_LIFETIME,
	KW_SIGNING_CERT,
	KW_REVISION_COUNTER,
	KW_SUPERENCRYPTED,
	KW_SIGNATURE,
	KW_COUNT,
	KW_UNKNOWN = KW_COUNT,
};

struct keyword_rule {
	const char *name;
	bool one_arg;           /* EQ(1), else NO_ARGS */
	bool need_object;       /* NEED_OBJ, else NO_OBJ */
};

static const struct keyword_rule keyword_rules[KW_COUNT] = {
	[KW_HS_DESCRIPTOR] = { "hs-descriptor", true, false },
	[KW_LIFETIME] = { "descriptor-lifetime", true, false },
	[KW_SIGNING_CERT] = { "descriptor-signing-key-cert", false, true },
	[KW_REVISION_COUNTER] = { "revision-counter", true, false },
	[KW_SUPERENCRYPTED] = { "superencrypted", false, true },
	[KW_SIGNATURE] = { "signature", true, false },
};

struct span {
	const uint8_t *ptr;
	size_t len;
};

struct token {
	enum hs_desc_keyword keyword;
	struct span arg;                /* the first argument */
	bool has_object;
	struct span object_type;
	struct span object_body;        /* base64 text */
	size_t object_len;              /* decoded length */
};

static bool
span_is(struct span s, const char *text)
{
	size_t n = strlen(text);

	return s.len == n && memcmp(s.ptr, text, n) == 0;
}

static bool
is_space_no_newline(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* tor's eat_whitespace_eos: spaces, newlines and '#' comment lines. */
static const uint8_t *
skip_whitespace_and_comments(const uint8_t *s, const uint8_t *end)
{
	while (s < end) {
		if (is_space_no_newline(*s) || *s == '\n') {
			s++;
		} else if (*s == '#') {
			while (s < end && *s != '\n')
				s++;
		} else {
			break;
		}
	}
	return s;
}

static const uint8_t *
find_whitespace(const uint8_t *s, const uint8_t *end)
{
	while (s < end && !is_space_no_newline(*s) && *s != '\n' && *s != '#')
		s++;
	return s;
}

static const uint8_t *
skip_space_no_newline(const uint8_t *s, const uint8_t *end)
{
	while (s < end && is_space_no_newline(*s))
		s++;
	return s;
}

static const uint8_t *
find_byte(const uint8_t *s, const uint8_t *end, uint8_t c)
{
	const uint8_t *hit = memchr(s, c, (size_t)(end - s));

	return hit == NULL ? end : hit;
}

static const uint8_t *
find_string(const uint8_t *s, const uint8_t *end, const char *needle)
{
	size_t n = strlen(needle);

	while ((size_t)(end - s) >= n) {
		const uint8_t *hit = memchr(s, needle[0], (size_t)(end - s));

		if (hit == NULL || (size_t)(end - hit) < n)
			return NULL;
		if (memcmp(hit, needle, n) == 0)
			return hit;
		s = hit + 1;
	}
	return NULL;
}

static int8_t
base64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (int8_t)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (int8_t)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (int8_t)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* tor's base64_decode: whitespace is skipped, '=' ends the data, a lone
 * 6-bit leftover is an error, leftover padding bits are not checked.
 * out may be NULL to only validate and count. Returns the decoded length,
 * -EPROTO, or -EMSGSIZE when out_len is too small. */
static ssize_t
base64_decode(struct span in, uint8_t *out, size_t out_len)
{
	uint32_t bits = 0;
	unsigned n_chars = 0;
	size_t n = 0;

	for (size_t i = 0; i < in.len; i++) {
		uint8_t c = in.ptr[i];
		int8_t v;

		if (is_space_no_newline(c) || c == '\n')
			continue;
		if (c == '=')
			break;
		v = base64_value(c);
		if (v < 0)
			return -EPROTO;
		bits = bits << 6 | (uint32_t)v;
		if (++n_chars == 4) {
			if (out != NULL) {
				if (n > out_len || out_len - n < 3)
					return -EMSGSIZE;
				out[n] = (uint8_t)(bits >> 16);
				out[n + 1] = (uint8_t)(bits >> 8);
				out[n + 2] = (uint8_t)bits;
			}
			n += 3;
			n_chars = 0;
			bits = 0;
		}
	}
	if (n_chars == 1)
		return -EPROTO;
	if (n_chars > 1) {
		size_t extra = n_chars - 1;

		if (out != NULL) {
			if (n > out_len || out_len - n < extra)
				return -EMSGSIZE;
			if (n_chars == 2) {
				out[n] = (uint8_t)(bits >> 4);
			} else {
				out[n] = (uint8_t)(bits >> 10);
				out[n + 1] = (uint8_t)(bits >> 2);
			}
		}
		n += extra;
	}
	return (ssize_t)n;
}

static enum hs_desc_keyword
keyword_lookup(struct span word)
{
	for (int k = 0; k < KW_COUNT; k++) {
		if (span_is(word, keyword_rules[k].name))
			return (enum hs_desc_keyword)k;
	}
	return KW_UNKNOWN;
}

/* One item as tor's get_next_token reads it: *s is at a non-blank byte.
 * Returns 0, or the check that failed. */
static enum hs_desc_check
next_token(const uint8_t **s, const uint8_t *end, struct token *tok)
{
	const uint8_t *p = *s;
	const uint8_t *eol = find_byte(p, end, '\n');
	const uint8_t *word_end;
	const uint8_t *begin, *begin_eol, *end_line, *end_eol;
	struct span word, arg = { NULL, 0 };
	size_t n_args = 0;
	ssize_t decoded;

	memset(tok, 0, sizeof(*tok));
	if (eol - p > HS_DESC_MAX_LINE_LEN)
		return HS_DESC_MALFORMED;
	word_end = find_whitespace(p, eol);
	word = (struct span){ p, (size_t)(word_end - p) };
	if (span_is(word, "opt")) {
		p = skip_space_no_newline(word_end, eol);
		word_end = find_whitespace(p, eol);
		word = (struct span){ p, (size_t)(word_end - p) };
	}
	if (word.len > 0 && word.ptr[0] == '@')
		return HS_DESC_ANNOTATION;
	tok->keyword = keyword_lookup(word);

	/* Arguments: separated by spaces, tabs or CRs, up to the newline. */
	p = skip_space_no_newline(word_end, eol);
	while (p < eol) {
		const uint8_t *arg_end = p;

		while (arg_end < eol && !is_space_no_newline(*arg_end))
			arg_end++;
		if (n_args == 0)
			arg = (struct span){ p, (size_t)(arg_end - p) };
		n_args++;
		p = skip_space_no_newline(arg_end, eol);
	}
	tok->arg = arg;

	/* An object starts on the next non-blank line with "-----BEGIN " and
	 * needs a newline after that line. */
	begin = skip_whitespace_and_comments(eol, end);
	begin_eol = memchr(begin, '\n', (size_t)(end - begin));
	*s = eol;
	if (begin_eol != NULL && begin_eol - begin >= 11 &&
			memcmp(begin, "-----BEGIN ", 11) == 0) {
		if (begin_eol - begin <= 16 ||
				memcmp(begin_eol - 5, "-----", 5) != 0 ||
				begin_eol - begin > HS_DESC_MAX_OBJECT_LEN)
			return HS_DESC_MALFORMED;
		tok->has_object = true;
		tok->object_type = (struct span){ begin + 11,
			(size_t)(begin_eol - begin) - 16 };
		end_line = find_string(begin_eol + 1, end, "-----END ");
		if (end_line == NULL)
			return HS_DESC_MALFORMED;
		end_eol = find_byte(end_line, end, '\n');
		if ((size_t)(end_eol - end_line) != 9 + tok->object_type.len + 5 ||
				memcmp(end_line + 9, tok->object_type.ptr,
					tok->object_type.len) != 0 ||
				memcmp(end_eol - 5, "-----", 5) != 0)
			return HS_DESC_MALFORMED;
		tok->object_body = (struct span){ begin_eol + 1,
			(size_t)(end_line - begin_eol - 1) };
		if (tok->object_body.len > HS_DESC_MAX_OBJECT_LEN)
			return HS_DESC_MALFORMED;
		decoded = base64_decode(tok->object_body, NULL, 0);
		if (decoded < 0)
			return HS_DESC_MALFORMED;
		tok->object_len = (size_t)decoded;
		*s = end_eol;
	}

	if (tok->keyword != KW_UNKNOWN) {
		const struct keyword_rule *rule = &keyword_rules[tok->keyword];

		if (n_args != (rule->one_arg ? 1u : 0u))
			return HS_DESC_BAD_ITEM_SYNTAX;
		if (tok->has_object != rule->need_object)
			return HS_DESC_BAD_ITEM_SYNTAX;
	}
	return HS_DESC_OK;
}

/* strtoull as tor_parse_uint64 / tor_parse_ulong use it on a whole
 * argument: an optional sign ('-' negates modulo 2^64), at least one
 * digit, nothing after, no overflow. */
static bool
parse_unsigned(struct span s, uint64_t max, uint64_t *out)
{
	size_t i = 0;
	bool negative = false;
	uint64_t v = 0;

	if (i < s.len && (s.ptr[i] == '+' || s.ptr[i] == '-'))
		negative = s.ptr[i++] == '-';
	if (i == s.len)
		return false;
	for (; i < s.len; i++) {
		unsigned d;

		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return false;
		d = (unsigned)(s.ptr[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (negative)
		v = (uint64_t)0 - v;
	if (v > max)
		return false;
	*out = v;
	return true;
}

static const char *const hs_desc_check_names[] = {
	[HS_DESC_OK] = "ok",
	[HS_DESC_TOO_BIG] = "too-big",
	[HS_DESC_NUL] = "nul-byte",
	[HS_DESC_MALFORMED] = "malformed",
	[HS_DESC_BAD_ITEM_SYNTAX] = "bad-item-syntax",
	[HS_DESC_BAD_ITEM_COUNT] = "bad-item-count",
	[HS_DESC_NOT_FIRST] = "hs-descriptor-not-first",
	[HS_DESC_NOT_LAST] = "signature-not-last",
	[HS_DESC_ANNOTATION] = "annotation",
	[HS_DESC_BAD_VERSION] = "bad-version",
	[HS_DESC_BAD_LIFETIME] = "bad-lifetime",
	[HS_DESC_CERT_OBJECT_TYPE] = "cert-object-type",
	[HS_DESC_CERT_MALFORMED] = "cert-malformed",
	[HS_DESC_CERT_TYPE] = "cert-type",
	[HS_DESC_CERT_NO_SIGNING_KEY] = "cert-no-signing-key",
	[HS_DESC_CERT_INVALID] = "cert-invalid",
	[HS_DESC_CERT_EXPIRED] = "cert-expired",
	[HS_DESC_BAD_REVISION_COUNTER] = "bad-revision-counter",
	[HS_DESC_SUPERENCRYPTED_TYPE] = "superencrypted-type",
	[HS_DESC_SUPERENCRYPTED_SHORT] = "superencrypted-short",
	[HS_DESC_SIGNATURE_ENCODING] = "signature-encoding",
	[HS_DESC_SIGNATURE_LINE] = "signature-line",
	[HS_DESC_BAD_SIGNATURE] = "bad-signature",
};

const char *
hs_desc_check_name(enum hs_desc_check check)
{
	if ((size_t)check >= sizeof(hs_desc_check_names) /
			sizeof(hs_desc_check_names[0]))
		return "unknown";
	return hs_desc_check_names[check];
}

/* tokenize_string with hs_desc_v3_token_table: every item tokenized, each
 * keyword exactly once, hs-descriptor first, signature last. */
static enum hs_desc_check
tokenize(const uint8_t *text, size_t len, struct token found[KW_COUNT])
{
	const uint8_t *s = text, *end = text + len;
	unsigned counts[KW_COUNT] = { 0 };
	enum hs_desc_keyword first = KW_UNKNOWN, last = KW_UNKNOWN;
	bool any = false;
	struct token tok;
	enum hs_desc_check check;

	s = skip_whitespace_and_comments(s, end);
	while (s < end) {
		check = next_token(&s, end, &tok);
		if (check != HS_DESC_OK)
			return check;
		if (!any)
			first = tok.keyword;
		any = true;
		last = tok.keyword;
		if (tok.keyword != KW_UNKNOWN) {
			if (counts[tok.keyword]++ == 0)
				found[tok.keyword] = tok;
		}
		s = skip_whitespace_and_comments(s, end);
	}
	/* tor walks its table in order: count, then the position rule of
	 * that entry (hs-descriptor is the first entry, signature the last). */
	for (int k = 0; k < KW_COUNT; k++) {
		if (counts[k] != 1)
			return HS_DESC_BAD_ITEM_COUNT;
		if (k == KW_HS_DESCRIPTOR && first != KW_HS_DESCRIPTOR)
			return HS_DESC_NOT_FIRST;
		if (k == KW_SIGNATURE && last != KW_SIGNATURE)
			return HS_DESC_NOT_LAST;
	}
	return HS_DESC_OK;
}

/* cert_parse_and_validate(..., CERT_TYPE_SIGNING_HS_DESC): the object is
 * exactly one certificate of type 08 with the signing key included, whose
 * signature by that key verifies and which has not expired at now. */
static int
check_signing_cert(const struct token *tok, time_t now,
		struct hs_desc_outer *out, enum hs_desc_check *failed)
{
	struct torcert cert;
	uint8_t *der;
	const uint8_t *p;
	ssize_t len;
	int rc;

	if (!span_is(tok->object_type, "ED25519 CERT")) {
		*failed = HS_DESC_CERT_OBJECT_TYPE;
		return -EPROTO;
	}
	der = malloc(tok->object_len + 1);
	if (der == NULL)
		return -ENOMEM;
	len = base64_decode(tok->object_body, der, tok->object_len + 1);
	p = der;
	/* tor_cert_parse also refuses an unknown extension that affects
	 * validation, and a repeated extension 04. */
	if (len < 0 || torcert_parse(&p, der + len, &cert) != 0 ||
			p != der + len || cert.has_unknown_critical_extension) {
		*failed = HS_DESC_CERT_MALFORMED;
		rc = -EPROTO;
	} else if (cert.cert_type != TORCERT_TYPE_HS_DESC_SIGNING) {
		*failed = HS_DESC_CERT_TYPE;
		rc = -EPROTO;
	} else if (!cert.has_signing_key) {
		*failed = HS_DESC_CERT_NO_SIGNING_KEY;
		rc = -EPROTO;
	} else {
		rc = torcert_verify(&cert, NULL, now);
		if (rc == -EKEYEXPIRED) {
			*failed = HS_DESC_CERT_EXPIRED;
			rc = -EPROTO;
		} else if (rc == -EIO) {
			rc = -EIO;
		} else if (rc < 0) {
			*failed = HS_DESC_CERT_INVALID;
			rc = -EPROTO;
		} else {
			memcpy(out->signing_key, cert.certified_key,
				sizeof(out->signing_key));
			memcpy(out->blinded_key, cert.signing_key,
				sizeof(out->blinded_key));
			out->cert_expiration =
				(time_t)cert.expiration_hours * 3600;
		}
	}
	free(der);
	return rc;
}

/* desc_sig_is_valid: the argument is 86 base64 characters of a 64-byte
 * signature by the descriptor signing key over HS_DESC_SIG_PREFIX || the
 * text up to the first "\nsignature " (its newline included). */
static int
check_signature(const struct token *tok, const uint8_t *text, size_t len,
		struct hs_desc_outer *out, enum hs_desc_check *failed)
{
	const size_t prefix_len = sizeof(HS_DESC_SIG_PREFIX) - 1;
	uint8_t sig[ED25519_SIGNATURE_LEN + 3];
	const uint8_t *line;
	uint8_t *msg;
	ssize_t sig_len;
	int rc;

	if (tok->arg.len != HS_DESC_SIG_BASE64_LEN) {
		*failed = HS_DESC_SIGNATURE_ENCODING;
		return -EPROTO;
	}
	sig_len = base64_decode(tok->arg, sig, sizeof(sig));
	if (sig_len != ED25519_SIGNATURE_LEN) {
		*failed = HS_DESC_SIGNATURE_ENCODING;
		return -EPROTO;
	}
	line = find_string(text, text + len, "\nsignature ");
	if (line == NULL) {
		*failed = HS_DESC_SIGNATURE_LINE;
		return -EPROTO;
	}
	out->signed_len = (size_t)(line + 1 - text);
	msg = malloc(prefix_len + out->signed_len);
	if (msg == NULL)
		return -ENOMEM;
	memcpy(msg, HS_DESC_SIG_PREFIX, prefix_len);
	memcpy(msg + prefix_len, text, out->signed_len);
	rc = ed25519_verify(sig, msg, prefix_len + out->signed_len,
		out->signing_key);
	free(msg);
	if (rc == -EBADMSG) {
		*failed = HS_DESC_BAD_SIGNATURE;
		return -EPROTO;
	}
	return rc;
}

int
hs_desc_outer_parse(const uint8_t *text, size_t len, size_t max_size,
		time_t now, struct hs_desc_outer *out,
		enum hs_desc_check *failed)
{
	struct token found[KW_COUNT];
	const struct token *tok;
	uint64_t value;
	int rc;

	memset(found, 0, sizeof(found));
	memset(out, 0, sizeof(out[0]));
	*failed = HS_DESC_OK;
	if (len >= max_size)
		*failed = HS_DESC_TOO_BIG;
	else if (memchr(text, '\0', len) != NULL)
		*failed = HS_DESC_NUL;
	else
		*failed = tokenize(text, len, found);
	if (*failed != HS_DESC_OK)
		return -EPROTO;

	tok = &found[KW_HS_DESCRIPTOR];
	if (!parse_unsigned(tok->arg, UINT32_MAX, &value) ||
			value != HS_DESC_SUPPORTED_VERSION) {
		*failed = HS_DESC_BAD_VERSION;
		return -EPROTO;
	}
	out->version = (uint32_t)value;

	/* tor multiplies the u32 minutes by 60 in 32 bits, then compares. */
	tok = &found[KW_LIFETIME];
	if (!parse_unsigned(tok->arg, UINT32_MAX, &value) ||
			(uint32_t)((uint32_t)value * 60u) >
			HS_DESC_MAX_LIFETIME_SEC) {
		*failed = HS_DESC_BAD_LIFETIME;
		return -EPROTO;
	}
	out->lifetime_sec = (uint32_t)value * 60u;

	rc = check_signing_cert(&found[KW_SIGNING_CERT], now, out, failed);
	if (rc < 0)
		return rc;

	if (!parse_unsigned(found[KW_REVISION_COUNTER].arg, UINT64_MAX,
			&out->revision_counter)) {
		*failed = HS_DESC_BAD_REVISION_COUNTER;
		return -EPROTO;
	}

	tok = &found[KW_SUPERENCRYPTED];
	if (!span_is(tok->object_type, "MESSAGE")) {
		*failed = HS_DESC_SUPERENCRYPTED_TYPE;
		return -EPROTO;
	}
	if (tok->object_len < HS_DESC_ENCRYPTED_MIN_LEN) {
		*failed = HS_DESC_SUPERENCRYPTED_SHORT;
		return -EPROTO;
	}
	out->superencrypted_base64 = tok->object_body.ptr;
	out->superencrypted_base64_len = tok->object_body.len;
	out->superencrypted_len = tok->object_len;

	return check_signature(&found[KW_SIGNATURE], text, len, out, failed);
}

struct hs_time_period_params
hs_time_period_params_live(uint32_t hsdir_interval_minutes,
		uint32_t voting_interval_sec)
{
	struct hs_time_period_params params;

	params.length_minutes = hsdir_interval_minutes != 0 ?
		hsdir_interval_minutes : HS_TIME_PERIOD_LENGTH_DEFAULT;
	params.rotation_offset_sec =
		(uint64_t)HS_SR_ROUNDS_PER_PHASE * voting_interval_sec;
	return params;
}

struct hs_time_period_params
hs_time_period_params_testing(uint32_t voting_interval_sec)
{
	struct hs_time_period_params params;

	/* sr_state_get_protocol_run_duration() / 60: two phases. */
	params.length_minutes =
		(uint64_t)2 * HS_SR_ROUNDS_PER_PHASE * voting_interval_sec / 60;
	params.rotation_offset_sec =
		(uint64_t)HS_SR_ROUNDS_PER_PHASE * voting_interval_sec;
	return params;
}

uint64_t
hs_time_period_num(const struct hs_time_period_params *params, time_t when)
{
	uint64_t minutes, offset_minutes;

	if (when <= 0 || params->length_minutes == 0)
		return 0;
	minutes = (uint64_t)when / 60;
	offset_minutes = params->rotation_offset_sec / 60;
	if (minutes <= offset_minutes)
		return 0;
	return (minutes - offset_minutes) / params->length_minutes;
}

time_t
hs_time_period_start(const struct hs_time_period_params *params,
		uint64_t period_num)
{
	return (time_t)(period_num * params->length_minutes * 60 +
		params->rotation_offset_sec);
}

static void
write_u64(uint8_t *p, uint64_t v)
{
	wire_write_u32(p, (uint32_t)(v >> 32));
	wire_write_u32(p + 4, (uint32_t)v);
}

/* SHA3-256 over the concatenation of up to four pieces. */
static int
sha3_pieces(const void *a, size_t a_len, const void *b, size_t b_len,
		const void *c, size_t c_len, const void *d, size_t d_len,
		uint8_t out[KDF_SHA3_256_LEN])
{
	struct kdf_digest *digest = kdf_digest_new(KDF_HASH_SHA3_256);
	int rc = -EIO;

	if (digest == NULL)
		return -EIO;
	if (kdf_digest_update(digest, a, a_len) == 0 &&
			kdf_digest_update(digest, b, b_len) == 0 &&
			kdf_digest_update(digest, c, c_len) == 0 &&
			kdf_digest_update(digest, d, d_len) == 0 &&
			kdf_digest_peek(digest, out, KDF_SHA3_256_LEN) ==
			KDF_SHA3_256_LEN)
		rc = 0;
	kdf_digest_free(digest);
	return rc;
}

int
hs_build_hs_index(const uint8_t blinded_key[HS_BLINDED_KEY_LEN],
		uint64_t replica, uint64_t period_length_minutes,
		uint64_t period_num, uint8_t out[HS_INDEX_LEN])
{
	static const char prefix[] = "store-at-idx";
	uint8_t numbers[24];

	write_u64(numbers, replica);
	write_u64(numbers + 8, period_length_minutes);
	write_u64(numbers + 16, period_num);
	return sha3_pieces(prefix, sizeof(prefix) - 1, blinded_key,
		HS_BLINDED_KEY_LEN, numbers, sizeof(numbers), "", 0, out);
}

int
hs_build_hsdir_index(const uint8_t ed25519_id[ED25519_PUBLIC_KEY_LEN],
		const uint8_t srv[HS_SRV_LEN], uint64_t period_num,
		uint64_t period_length_minutes, uint8_t out[HS_INDEX_LEN])
{
	static const char prefix[] = "node-idx";
	uint8_t numbers[16];

	write_u64(numbers, period_num);
	write_u64(numbers + 8, period_length_minutes);
	return sha3_pieces(prefix, sizeof(prefix) - 1, ed25519_id,
		ED25519_PUBLIC_KEY_LEN, srv, HS_SRV_LEN, numbers,
		sizeof(numbers), out);
}

int
hs_build_disaster_srv(uint64_t period_length_minutes, uint64_t period_num,
		uint8_t out[HS_SRV_LEN])
{
	static const char prefix[] = "shared-random-disaster";
	uint8_t numbers[16];

	write_u64(numbers, period_length_minutes);
	write_u64(numbers + 8, period_num);
	return sha3_pieces(prefix, sizeof(prefix) - 1, numbers,
		sizeof(numbers), "", 0, "", 0, out);
}
