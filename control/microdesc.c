/* Microdescriptors (dir-spec 3.3). */
#include "control/microdesc.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

/* Largest TAP key object we check: an RSA-4096 public key. */
#define TAP_KEY_DER_MAX 600

struct md_state {
	struct microdesc *md;
	struct dirdoc_error *err;
	bool has_ntor;
	bool has_p;
	bool has_p6;
	bool has_pr;
};

#define FAIL(st, item, ...) \
	dirdoc_fail((st)->err, (item)->line, -EPROTO, __VA_ARGS__)

/* Skips empty lines and annotation lines ("@..."), counting lines. Returns
 * -EPROTO / -EMSGSIZE for an unterminated or over-long annotation. */
static int
skip_annotations(struct dirdoc_reader *reader, struct dirdoc_error *err)
{
	while (reader->p < reader->end &&
			(*reader->p == '\n' || *reader->p == '@')) {
		size_t avail = (size_t)(reader->end - reader->p);
		const uint8_t *nl = memchr(reader->p, '\n',
				avail < DIRDOC_MAX_LINE_LEN + 1 ?
				avail : DIRDOC_MAX_LINE_LEN + 1);

		if (nl == NULL)
			return dirdoc_fail(err, reader->line, avail >
					DIRDOC_MAX_LINE_LEN ? -EMSGSIZE : -EPROTO,
					"bad annotation line");
		reader->p = nl + 1;
		reader->line++;
	}
	return 0;
}

/* The next non-empty line starts with '@': an annotation of the next
 * microdescriptor. */
static const uint8_t *
next_annotation(const struct dirdoc_reader *reader)
{
	const uint8_t *p = reader->p;

	while (p < reader->end && *p == '\n')
		p++;
	return p < reader->end && *p == '@' ? p : NULL;
}

static bool
decode_exact(struct dirdoc_span s, uint8_t *out, size_t len)
{
	uint8_t buf[64];
	ssize_t n = dirdoc_base64_decode(s, false, buf, sizeof(buf));

	if (n != (ssize_t)len)
		return false;
	memcpy(out, buf, len);
	return true;
}

static int
parse_port(const uint8_t **p, const uint8_t *end, unsigned *out)
{
	unsigned v = 0;
	const uint8_t *start = *p;

	while (*p < end && **p >= '0' && **p <= '9' && *p - start < 5) {
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
	}
	if (*p == start || v == 0 || v > 65535)
		return -EPROTO;
	*out = v;
	return 0;
}

/* PortList = PortOrRange ("," PortOrRange)*; PortOrRange = INT ["-" INT]
 * (dir-spec 3.4.1 "p", 3.8.2). */
static int
check_port_list(struct dirdoc_span ports)
{
	const uint8_t *p = ports.ptr;
	const uint8_t *end = ports.ptr + ports.len;

	if (p == end)
		return -EPROTO;
	while (p < end) {
		unsigned lo, hi;

		if (parse_port(&p, end, &lo) != 0)
			return -EPROTO;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if (parse_port(&p, end, &hi) != 0 || hi < lo)
				return -EPROTO;
		}
		if (p < end) {
			if (*p != ',' || p + 1 == end)
				return -EPROTO;
			p++;
		}
	}
	return 0;
}

static int
parse_policy(struct md_state *st, const struct dirdoc_item *item,
		struct microdesc_policy *policy)
{
	struct dirdoc_span args = item->args;
	struct dirdoc_span verb;

	if (!dirdoc_next_arg(&args, &verb) ||
			!dirdoc_next_arg(&args, &policy->ports) ||
			check_port_list(policy->ports) != 0)
		return FAIL(st, item, "bad port policy summary");
	if (dirdoc_span_is(verb, "accept"))
		policy->accept = true;
	else if (dirdoc_span_is(verb, "reject"))
		policy->accept = false;
	else
		return FAIL(st, item, "policy is neither accept nor reject");
	policy->present = true;
	return 0;
}

static int
parse_id(struct md_state *st, const struct dirdoc_item *item)
{
	struct microdesc *md = st->md;
	struct dirdoc_span args = item->args;
	struct dirdoc_span type, key;

	if (!dirdoc_next_arg(&args, &type) || !dirdoc_next_arg(&args, &key))
		return FAIL(st, item, "bad id line");
	if (dirdoc_span_is(type, "ed25519")) {
		if (md->has_ed25519_id)
			return FAIL(st, item, "two id ed25519 lines");
		if (!decode_exact(key, md->ed25519_id, MICRODESC_KEY_LEN))
			return FAIL(st, item, "bad ed25519 identity");
		md->has_ed25519_id = true;
	} else if (dirdoc_span_is(type, "rsa1024")) {
		if (md->has_rsa1024_id)
			return FAIL(st, item, "two id rsa1024 lines");
		if (!decode_exact(key, md->rsa1024_id, sizeof(md->rsa1024_id)))
			return FAIL(st, item, "bad rsa1024 identity");
		md->has_rsa1024_id = true;
	}
	/* dir-spec 3.3: "id" lines with other key types are ignored. */
	return 0;
}

static int
parse_item(struct md_state *st, const struct dirdoc_item *item)
{
	struct microdesc *md = st->md;
	struct dirdoc_span args = item->args;
	struct dirdoc_span arg;

	if (item->has_object && !dirdoc_keyword_is(item, "onion-key"))
		return FAIL(st, item, "unexpected object");
	if (dirdoc_keyword_is(item, "onion-key")) {
		uint8_t der[TAP_KEY_DER_MAX];

		if (item->args.len != 0 ||
				dirdoc_object_decode(item, "RSA PUBLIC KEY",
					der, sizeof(der)) <= 0)
			return FAIL(st, item, "bad onion-key");
		md->has_tap_key = true;
		md->tap_key_object = item->object_body;
	} else if (dirdoc_keyword_is(item, "ntor-onion-key")) {
		if (!dirdoc_next_arg(&args, &arg) ||
				!decode_exact(arg, md->ntor_onion_key,
					MICRODESC_KEY_LEN))
			return FAIL(st, item, "bad ntor-onion-key");
		st->has_ntor = true;
	} else if (dirdoc_keyword_is(item, "id")) {
		return parse_id(st, item);
	} else if (dirdoc_keyword_is(item, "family")) {
		if (md->has_family)
			return FAIL(st, item, "two family lines");
		md->has_family = true;
		md->family = item->args;
	} else if (dirdoc_keyword_is(item, "p")) {
		if (st->has_p)
			return FAIL(st, item, "two p lines");
		st->has_p = true;
		return parse_policy(st, item, &md->ipv4_policy);
	} else if (dirdoc_keyword_is(item, "p6")) {
		if (st->has_p6)
			return FAIL(st, item, "two p6 lines");
		st->has_p6 = true;
		return parse_policy(st, item, &md->ipv6_policy);
	} else if (dirdoc_keyword_is(item, "pr")) {
		if (st->has_pr || protover_parse(args, &md->protocols) != 0)
			return FAIL(st, item, "bad pr line");
		st->has_pr = true;
		md->has_protocols = true;
	}
	return 0;
}

/* Reads items up to the start of the next microdescriptor; sets *next to
 * where it starts (or the end of the input). */
static int
parse_items(struct md_state *st, struct dirdoc_reader *reader,
		const uint8_t *start, const uint8_t **next)
{
	struct dirdoc_item item;
	bool first = true;
	int rc;

	for (;;) {
		const uint8_t *annotation = next_annotation(reader);

		if (annotation != NULL && !first) {
			*next = annotation;
			return 0;
		}
		rc = dirdoc_peek_item(reader, &item, st->err);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			*next = reader->end;
			return first ? dirdoc_fail(st->err, reader->line,
					-EPROTO, "empty microdescriptor") : 0;
		}
		if (!first && (dirdoc_keyword_is(&item, "onion-key") ||
				(st->has_ntor && dirdoc_keyword_is(&item,
					"ntor-onion-key")))) {
			*next = item.start;
			return 0;
		}
		if ((size_t)(item.end - start) > MICRODESC_MAX_LEN)
			return dirdoc_fail(st->err, item.line, -EMSGSIZE,
					"microdescriptor longer than %d bytes",
					MICRODESC_MAX_LEN);
		rc = dirdoc_next_item(reader, &item, st->err);
		if (rc < 0)
			return rc;
		rc = parse_item(st, &item);
		if (rc != 0)
			return rc;
		first = false;
	}
}

int
microdesc_parse(const uint8_t **p, const uint8_t *end, struct microdesc *out,
		struct dirdoc_error *err)
{
	struct md_state st = { .md = out, .err = err };
	struct dirdoc_reader reader;
	const uint8_t *start;
	const uint8_t *next;
	int rc;

	memset(out, 0, sizeof(*out));
	dirdoc_reader_init(&reader, *p, end);
	rc = skip_annotations(&reader, err);
	if (rc != 0)
		return rc;
	start = reader.p;
	rc = parse_items(&st, &reader, start, &next);
	if (rc != 0)
		return rc;
	if (!st.has_ntor)
		return dirdoc_fail(err, reader.line, -EPROTO,
				"microdescriptor without ntor-onion-key");
	if ((size_t)(next - start) > MICRODESC_MAX_LEN)
		return dirdoc_fail(err, reader.line, -EMSGSIZE,
				"microdescriptor longer than %d bytes",
				MICRODESC_MAX_LEN);
	out->text.ptr = start;
	out->text.len = (size_t)(next - start);
	if (EVP_Digest(start, out->text.len, out->digest, NULL, EVP_sha256(),
				NULL) != 1)
		return -EIO;
	*p = next;
	return 0;
}

bool
microdesc_policy_allows(const struct microdesc_policy *policy, uint16_t port)
{
	const uint8_t *p = policy->ports.ptr;
	const uint8_t *end = p + policy->ports.len;
	bool listed = false;

	if (!policy->present)
		return false;
	while (p < end && !listed) {
		unsigned lo, hi;

		if (parse_port(&p, end, &lo) != 0)
			return false;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if (parse_port(&p, end, &hi) != 0)
				return false;
		}
		listed = port >= lo && port <= hi;
		if (p < end)
			p++;
	}
	return listed == policy->accept;
}

const struct consensus_router *
microdesc_find_router(const struct consensus *c, const struct microdesc *md)
{
	return consensus_find_by_microdesc_digest(c, md->digest);
}
