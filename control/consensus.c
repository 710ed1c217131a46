/* Network-status consensus parsing and signature checks (dir-spec 3.4.1,
 * 3.9). The document is read once, item by item, through a small state
 * machine: header (preamble and authority section) -> router entries ->
 * footer -> signatures. */
#include "control/consensus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/rsa_identity.h"

/* consensus_signature.alg for an algorithm we do not know; such
 * signatures are kept so verification can count them, never used. */
#define DIGEST_ALG_UNKNOWN ((enum consensus_digest_alg)-1)

struct named_int {
	char name[CONSENSUS_MAX_PARAM_NAME_LEN + 1];
	int32_t value;
};

struct consensus {
	enum consensus_flavor flavor;
	unsigned method;
	time_t valid_after;
	time_t fresh_until;
	time_t valid_until;
	unsigned vote_delay;
	unsigned dist_delay;
	size_t n_known_flags;
	char known_flags[CONSENSUS_MAX_KNOWN_FLAGS][CONSENSUS_MAX_FLAG_LEN + 1];
	uint32_t known_flag_bit[CONSENSUS_MAX_KNOWN_FLAGS];
	size_t n_params;
	struct named_int params[CONSENSUS_MAX_PARAMS];
	size_t n_weights;
	struct named_int weights[CONSENSUS_MAX_PARAMS];
	struct consensus_srv srv_current;
	struct consensus_srv srv_previous;
	struct protover_set recommended_relay;
	struct protover_set required_relay;
	struct protover_set recommended_client;
	struct protover_set required_client;
	size_t n_authorities;
	struct consensus_authority authorities[CONSENSUS_MAX_AUTHORITIES];
	size_t n_signatures;
	struct consensus_signature signatures[CONSENSUS_MAX_SIGNATURES];
	uint8_t signed_sha1[20];
	uint8_t signed_sha256[32];
	size_t n_routers;
	size_t routers_cap;
	struct consensus_router *routers;
	/* Microdesc flavour: routers sorted by "m" digest. */
	const struct consensus_router **by_md_digest;
};

static const struct {
	const char *name;
	uint32_t bit;
} well_known_flags[] = {
	{ "Authority", CONSENSUS_FLAG_AUTHORITY },
	{ "BadExit", CONSENSUS_FLAG_BADEXIT },
	{ "Exit", CONSENSUS_FLAG_EXIT },
	{ "Fast", CONSENSUS_FLAG_FAST },
	{ "Guard", CONSENSUS_FLAG_GUARD },
	{ "HSDir", CONSENSUS_FLAG_HSDIR },
	{ "MiddleOnly", CONSENSUS_FLAG_MIDDLEONLY },
	{ "NoEdConsensus", CONSENSUS_FLAG_NOEDCONSENSUS },
	{ "Running", CONSENSUS_FLAG_RUNNING },
	{ "Stable", CONSENSUS_FLAG_STABLE },
	{ "StaleDesc", CONSENSUS_FLAG_STALEDESC },
	{ "Sybil", CONSENSUS_FLAG_SYBIL },
	{ "V2Dir", CONSENSUS_FLAG_V2DIR },
	{ "Valid", CONSENSUS_FLAG_VALID },
};

/* Header items and how often they may appear. */
enum header_item {
	H_VERSION,
	H_VOTE_STATUS,
	H_METHOD,
	H_VALID_AFTER,
	H_FRESH_UNTIL,
	H_VALID_UNTIL,
	H_VOTING_DELAY,
	H_CLIENT_VERSIONS,
	H_SERVER_VERSIONS,
	H_KNOWN_FLAGS,
	H_REC_CLIENT,
	H_REC_RELAY,
	H_REQ_CLIENT,
	H_REQ_RELAY,
	H_PARAMS,
	H_SRV_PREVIOUS,
	H_SRV_CURRENT,
	H_COUNT,
};

static const struct {
	const char *keyword;
	bool required;
} header_items[H_COUNT] = {
	[H_VERSION] = { "network-status-version", true },
	[H_VOTE_STATUS] = { "vote-status", true },
	[H_METHOD] = { "consensus-method", false },
	[H_VALID_AFTER] = { "valid-after", true },
	[H_FRESH_UNTIL] = { "fresh-until", true },
	[H_VALID_UNTIL] = { "valid-until", true },
	[H_VOTING_DELAY] = { "voting-delay", true },
	[H_CLIENT_VERSIONS] = { "client-versions", false },
	[H_SERVER_VERSIONS] = { "server-versions", false },
	[H_KNOWN_FLAGS] = { "known-flags", true },
	[H_REC_CLIENT] = { "recommended-client-protocols", false },
	[H_REC_RELAY] = { "recommended-relay-protocols", false },
	[H_REQ_CLIENT] = { "required-client-protocols", false },
	[H_REQ_RELAY] = { "required-relay-protocols", false },
	[H_PARAMS] = { "params", false },
	[H_SRV_PREVIOUS] = { "shared-rand-previous-value", false },
	[H_SRV_CURRENT] = { "shared-rand-current-value", false },
};

enum section {
	SECTION_HEADER,
	SECTION_ROUTERS,
	SECTION_FOOTER,
	SECTION_SIGNATURES,
};

struct parse_state {
	struct consensus *c;
	struct dirdoc_error *err;
	enum section section;
	unsigned header_counts[H_COUNT];
	bool in_router;
	unsigned router_line;
	unsigned router_s, router_m, router_pr, router_w;
	bool footer_seen_item;
	bool weights_seen;
};

#define FAIL(st, item, ...) \
	dirdoc_fail((st)->err, (item)->line, -EPROTO, __VA_ARGS__)

void
consensus_free(struct consensus *c)
{
	if (c == NULL)
		return;
	free(c->routers);
	free(c->by_md_digest);
	free(c);
}

static bool
copy_string(struct dirdoc_span s, char *out, size_t out_size)
{
	if (s.len == 0 || s.len >= out_size)
		return false;
	memcpy(out, s.ptr, s.len);
	out[s.len] = '\0';
	return true;
}

static bool
is_nickname(struct dirdoc_span s)
{
	if (s.len == 0 || s.len > CONSENSUS_MAX_NICKNAME_LEN)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		uint8_t ch = s.ptr[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
					(ch >= '0' && ch <= '9')))
			return false;
	}
	return true;
}

/* Base64 that must decode to exactly len bytes. */
static bool
decode_exact(struct dirdoc_span s, uint8_t *out, size_t len)
{
	uint8_t buf[64];
	ssize_t n;

	if (len > sizeof(buf))
		return false;
	n = dirdoc_base64_decode(s, false, buf, sizeof(buf));
	if (n != (ssize_t)len)
		return false;
	memcpy(out, buf, len);
	return true;
}

static bool
next_uint(struct dirdoc_span *args, int64_t max, int64_t *out)
{
	struct dirdoc_span arg;

	return dirdoc_next_arg(args, &arg) &&
		dirdoc_parse_int(arg, 0, max, out) == 0;
}

static int
parse_named_ints(struct parse_state *st, const struct dirdoc_item *item,
		struct named_int *out, size_t *n_out)
{
	struct dirdoc_int_param tmp[CONSENSUS_MAX_PARAMS];
	ssize_t n = dirdoc_parse_int_params(item->args, tmp,
			CONSENSUS_MAX_PARAMS);

	if (n == -EMSGSIZE)
		return dirdoc_fail(st->err, item->line, -EMSGSIZE,
				"more than %d entries", CONSENSUS_MAX_PARAMS);
	if (n < 0)
		return FAIL(st, item, "bad Keyword=Int32 entry");
	for (ssize_t i = 0; i < n; i++) {
		if (!copy_string(tmp[i].name, out[i].name, sizeof(out[i].name)))
			return FAIL(st, item, "parameter name too long");
		out[i].value = tmp[i].value;
	}
	*n_out = (size_t)n;
	return 0;
}

static int
parse_srv(struct parse_state *st, const struct dirdoc_item *item,
		struct consensus_srv *srv)
{
	struct dirdoc_span args = item->args;
	struct dirdoc_span value;
	int64_t reveals;

	if (dirdoc_count_args(args) != 2 ||
			!next_uint(&args, UINT32_MAX, &reveals) ||
			!dirdoc_next_arg(&args, &value) ||
			!decode_exact(value, srv->value, CONSENSUS_SRV_LEN))
		return FAIL(st, item, "bad shared random value");
	srv->num_reveals = (uint32_t)reveals;
	srv->present = true;
	return 0;
}

static int
parse_known_flags(struct parse_state *st, const struct dirdoc_item *item)
{
	struct consensus *c = st->c;
	struct dirdoc_span args = item->args;
	struct dirdoc_span flag;

	while (dirdoc_next_arg(&args, &flag)) {
		size_t i = c->n_known_flags;

		if (i == CONSENSUS_MAX_KNOWN_FLAGS)
			return dirdoc_fail(st->err, item->line, -EMSGSIZE,
					"more than %d known flags",
					CONSENSUS_MAX_KNOWN_FLAGS);
		if (!copy_string(flag, c->known_flags[i],
					sizeof(c->known_flags[i])))
			return FAIL(st, item, "flag name too long");
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->known_flags[j], c->known_flags[i]) == 0)
				return FAIL(st, item, "flag listed twice");
		c->known_flag_bit[i] = 0;
		for (size_t j = 0; j < sizeof(well_known_flags) /
				sizeof(well_known_flags[0]); j++)
			if (strcmp(well_known_flags[j].name,
						c->known_flags[i]) == 0)
				c->known_flag_bit[i] = well_known_flags[j].bit;
		c->n_known_flags++;
	}
	return 0;
}

static int
parse_version(struct parse_state *st, const struct dirdoc_item *item)
{
	struct dirdoc_span args = item->args;
	struct dirdoc_span version, flavor;

	if (!dirdoc_next_arg(&args, &version) || !dirdoc_span_is(version, "3"))
		return FAIL(st, item, "network-status-version is not 3");
	if (!dirdoc_next_arg(&args, &flavor) || dirdoc_span_is(flavor, "ns"))
		st->c->flavor = CONSENSUS_FLAVOR_NS;
	else if (dirdoc_span_is(flavor, "microdesc"))
		st->c->flavor = CONSENSUS_FLAVOR_MICRODESC;
	else
		return FAIL(st, item, "unknown consensus flavour");
	return 0;
}

static int
parse_header_item(struct parse_state *st, const struct dirdoc_item *item,
		enum header_item kind)
{
	struct consensus *c = st->c;
	struct dirdoc_span args = item->args;
	int64_t a, b;
	time_t *when;

	switch (kind) {
	case H_VERSION:
		return parse_version(st, item);
	case H_VOTE_STATUS:
		if (!dirdoc_span_is(args, "consensus"))
			return FAIL(st, item, "vote-status is not consensus");
		return 0;
	case H_METHOD:
		if (dirdoc_count_args(args) != 1 || !next_uint(&args, 1000, &a))
			return FAIL(st, item, "bad consensus-method");
		c->method = (unsigned)a;
		return 0;
	case H_VALID_AFTER:
	case H_FRESH_UNTIL:
	case H_VALID_UNTIL:
		when = kind == H_VALID_AFTER ? &c->valid_after :
			kind == H_FRESH_UNTIL ? &c->fresh_until : &c->valid_until;
		if (dirdoc_next_time(&args, when) != 0)
			return FAIL(st, item, "bad time");
		return 0;
	case H_VOTING_DELAY:
		if (!next_uint(&args, UINT32_MAX, &a) ||
				!next_uint(&args, UINT32_MAX, &b))
			return FAIL(st, item, "bad voting-delay");
		c->vote_delay = (unsigned)a;
		c->dist_delay = (unsigned)b;
		return 0;
	case H_KNOWN_FLAGS:
		return parse_known_flags(st, item);
	case H_REC_CLIENT:
	case H_REC_RELAY:
	case H_REQ_CLIENT:
	case H_REQ_RELAY:
		if (protover_parse(args, kind == H_REC_CLIENT ?
					&c->recommended_client :
					kind == H_REC_RELAY ?
					&c->recommended_relay :
					kind == H_REQ_CLIENT ?
					&c->required_client :
					&c->required_relay) != 0)
			return FAIL(st, item, "bad protocol list");
		return 0;
	case H_PARAMS:
		return parse_named_ints(st, item, c->params, &c->n_params);
	case H_SRV_PREVIOUS:
		return parse_srv(st, item, &c->srv_previous);
	case H_SRV_CURRENT:
		return parse_srv(st, item, &c->srv_current);
	default:
		return 0;
	}
}

static int
parse_dir_source(struct parse_state *st, const struct dirdoc_item *item)
{
	struct consensus *c = st->c;
	struct consensus_authority *a;
	struct dirdoc_span args = item->args;
	struct dirdoc_span nick, id, address, ip;
	int64_t dir_port, or_port;

	if (c->n_authorities == CONSENSUS_MAX_AUTHORITIES)
		return dirdoc_fail(st->err, item->line, -EMSGSIZE,
				"more than %d dir-source lines",
				CONSENSUS_MAX_AUTHORITIES);
	a = &c->authorities[c->n_authorities];
	memset(a, 0, sizeof(*a));
	if (!dirdoc_next_arg(&args, &nick) || !dirdoc_next_arg(&args, &id) ||
			!dirdoc_next_arg(&args, &address) ||
			!dirdoc_next_arg(&args, &ip) ||
			!next_uint(&args, 65535, &dir_port) ||
			!next_uint(&args, 65535, &or_port) ||
			!copy_string(nick, a->nickname, sizeof(a->nickname)) ||
			dirdoc_hex_decode(id, a->identity,
				CONSENSUS_IDENTITY_LEN) != 0 ||
			dirdoc_parse_ipv4(ip, &a->ipv4) != 0)
		return FAIL(st, item, "bad dir-source");
	a->dir_port = (uint16_t)dir_port;
	a->or_port = (uint16_t)or_port;
	c->n_authorities++;
	return 0;
}

static int
parse_header(struct parse_state *st, const struct dirdoc_item *item)
{
	struct consensus *c = st->c;
	struct dirdoc_span args = item->args;
	struct dirdoc_span arg;

	for (unsigned i = 0; i < H_COUNT; i++) {
		if (!dirdoc_keyword_is(item, header_items[i].keyword))
			continue;
		if (++st->header_counts[i] > 1)
			return FAIL(st, item, "%s appears twice",
					header_items[i].keyword);
		return parse_header_item(st, item, (enum header_item)i);
	}
	if (dirdoc_keyword_is(item, "dir-source"))
		return parse_dir_source(st, item);
	if (dirdoc_keyword_is(item, "vote-digest")) {
		struct consensus_authority *a;

		if (c->n_authorities == 0)
			return FAIL(st, item, "vote-digest before dir-source");
		a = &c->authorities[c->n_authorities - 1];
		if (a->has_vote_digest || !dirdoc_next_arg(&args, &arg) ||
				dirdoc_hex_decode(arg, a->vote_digest,
					sizeof(a->vote_digest)) != 0)
			return FAIL(st, item, "bad vote-digest");
		a->has_vote_digest = true;
	}
	return 0;
}

static int
check_header(struct parse_state *st, const struct dirdoc_item *item)
{
	for (unsigned i = 0; i < H_COUNT; i++)
		if (header_items[i].required && st->header_counts[i] != 1)
			return FAIL(st, item, "header lacks %s",
					header_items[i].keyword);
	if (st->c->n_authorities == 0)
		return FAIL(st, item, "no dir-source");
	return 0;
}

static int
finish_router(struct parse_state *st, const struct dirdoc_item *item)
{
	struct consensus *c = st->c;
	const struct consensus_router *r;

	if (!st->in_router)
		return 0;
	st->in_router = false;
	r = &c->routers[c->n_routers - 1];
	if (st->router_s != 1)
		return dirdoc_fail(st->err, st->router_line, -EPROTO,
				"router %s needs exactly one s line", r->nickname);
	if (st->router_pr != 1)
		return dirdoc_fail(st->err, st->router_line, -EPROTO,
				"router %s needs exactly one pr line", r->nickname);
	if (st->router_w > 1)
		return dirdoc_fail(st->err, st->router_line, -EPROTO,
				"router %s has two w lines", r->nickname);
	if (c->flavor == CONSENSUS_FLAVOR_MICRODESC && st->router_m != 1)
		return dirdoc_fail(st->err, st->router_line, -EPROTO,
				"router %s needs exactly one m line", r->nickname);
	(void)item;
	return 0;
}

static int
start_router(struct parse_state *st, const struct dirdoc_item *item)
{
	struct consensus *c = st->c;
	struct consensus_router *r;
	struct dirdoc_span args = item->args;
	struct dirdoc_span nick, id, digest, ip;
	int64_t or_port, dir_port;
	size_t want = c->flavor == CONSENSUS_FLAVOR_NS ? 8 : 7;

	if (c->n_routers == CONSENSUS_MAX_ROUTERS)
		return dirdoc_fail(st->err, item->line, -EMSGSIZE,
				"more than %d routers", CONSENSUS_MAX_ROUTERS);
	if (c->n_routers == c->routers_cap) {
		size_t cap = c->routers_cap ? c->routers_cap * 2 : 64;
		struct consensus_router *grown;

		if (cap > CONSENSUS_MAX_ROUTERS)
			cap = CONSENSUS_MAX_ROUTERS;
		grown = realloc(c->routers, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		c->routers = grown;
		c->routers_cap = cap;
	}
	r = &c->routers[c->n_routers];
	memset(r, 0, sizeof(*r));
	if (dirdoc_count_args(args) < want ||
			!dirdoc_next_arg(&args, &nick) || !is_nickname(nick) ||
			!dirdoc_next_arg(&args, &id) ||
			!decode_exact(id, r->identity, CONSENSUS_IDENTITY_LEN))
		return FAIL(st, item, "bad r line");
	if (c->flavor == CONSENSUS_FLAVOR_NS &&
			(!dirdoc_next_arg(&args, &digest) ||
			 !decode_exact(digest, r->digest, 20)))
		return FAIL(st, item, "bad descriptor digest in r line");
	if (dirdoc_next_time(&args, &r->published) != 0 ||
			!dirdoc_next_arg(&args, &ip) ||
			dirdoc_parse_ipv4(ip, &r->ipv4) != 0 ||
			!next_uint(&args, 65535, &or_port) ||
			!next_uint(&args, 65535, &dir_port))
		return FAIL(st, item, "bad r line");
	memcpy(r->nickname, nick.ptr, nick.len);
	r->or_port = (uint16_t)or_port;
	r->dir_port = (uint16_t)dir_port;
	/* dir-spec 3.4.1: entries sorted by identity; tor refuses otherwise,
	 * and consensus_find_router() relies on it. */
	if (c->n_routers > 0 && memcmp(c->routers[c->n_routers - 1].identity,
				r->identity, CONSENSUS_IDENTITY_LEN) >= 0)
		return FAIL(st, item, "router entries not sorted by identity");
	c->n_routers++;
	st->in_router = true;
	st->router_line = item->line;
	st->router_s = st->router_m = st->router_pr = st->router_w = 0;
	return 0;
}

static int
parse_flags(struct parse_state *st, const struct dirdoc_item *item,
		struct consensus_router *r)
{
	struct consensus *c = st->c;
	struct dirdoc_span args = item->args;
	struct dirdoc_span flag;

	while (dirdoc_next_arg(&args, &flag)) {
		size_t i;

		for (i = 0; i < c->n_known_flags; i++)
			if (dirdoc_span_is(flag, c->known_flags[i]))
				break;
		if (i == c->n_known_flags)
			return FAIL(st, item, "flag not in known-flags");
		r->known_flag_bits |= UINT64_C(1) << i;
		r->flags |= c->known_flag_bit[i];
	}
	return 0;
}

static int
parse_bandwidth(struct parse_state *st, const struct dirdoc_item *item,
		struct consensus_router *r)
{
	struct dirdoc_span args = item->args;
	struct dirdoc_span arg;

	while (dirdoc_next_arg(&args, &arg)) {
		const uint8_t *eq = memchr(arg.ptr, '=', arg.len);
		struct dirdoc_span key, value;
		int64_t v;

		if (eq == NULL)
			return FAIL(st, item, "bad w entry");
		key.ptr = arg.ptr;
		key.len = (size_t)(eq - arg.ptr);
		value.ptr = eq + 1;
		value.len = arg.len - key.len - 1;
		if (dirdoc_span_is(key, "Bandwidth")) {
			if (dirdoc_parse_int(value, 0, UINT32_MAX, &v) != 0)
				return FAIL(st, item, "bad Bandwidth");
			r->bandwidth = (uint32_t)v;
			r->has_bandwidth = true;
		} else if (dirdoc_span_is(key, "Unmeasured")) {
			if (dirdoc_parse_int(value, 0, 1, &v) != 0)
				return FAIL(st, item, "bad Unmeasured");
			r->bandwidth_unmeasured = v == 1;
		}
	}
	return 0;
}

/* "a" SP "[" IPv6 "]" ":" port; IPv4 "a" lines and later IPv6 ones are
 * ignored (dir-spec 3.4.1: only the first advertised address). */
static int
parse_address(struct parse_state *st, const struct dirdoc_item *item,
		struct consensus_router *r)
{
	struct dirdoc_span args = item->args;
	struct dirdoc_span arg, port;
	char text[64];
	const uint8_t *close;
	int64_t v;

	if (!dirdoc_next_arg(&args, &arg))
		return FAIL(st, item, "bad a line");
	if (arg.ptr[0] != '[' || r->has_ipv6)
		return 0;
	close = memchr(arg.ptr, ']', arg.len);
	if (close == NULL || (size_t)(close - arg.ptr) - 1 >= sizeof(text) ||
			close + 1 == arg.ptr + arg.len || close[1] != ':')
		return FAIL(st, item, "bad a line");
	memcpy(text, arg.ptr + 1, (size_t)(close - arg.ptr) - 1);
	text[close - arg.ptr - 1] = '\0';
	port.ptr = close + 2;
	port.len = arg.len - (size_t)(close + 2 - arg.ptr);
	if (inet_pton(AF_INET6, text, r->ipv6) != 1 ||
			dirdoc_parse_int(port, 0, 65535, &v) != 0)
		return FAIL(st, item, "bad a line");
	r->ipv6_port = (uint16_t)v;
	r->has_ipv6 = true;
	return 0;
}

static int
parse_router_item(struct parse_state *st, const struct dirdoc_item *item)
{
	struct consensus *c = st->c;
	struct consensus_router *r = &c->routers[c->n_routers - 1];
	struct dirdoc_span args = item->args;
	struct dirdoc_span arg;

	if (dirdoc_keyword_is(item, "s")) {
		st->router_s++;
		return parse_flags(st, item, r);
	}
	if (dirdoc_keyword_is(item, "pr")) {
		st->router_pr++;
		if (protover_parse(args, &r->protocols) != 0)
			return FAIL(st, item, "bad pr line");
		return 0;
	}
	if (dirdoc_keyword_is(item, "w")) {
		st->router_w++;
		return parse_bandwidth(st, item, r);
	}
	if (dirdoc_keyword_is(item, "a"))
		return parse_address(st, item, r);
	if (dirdoc_keyword_is(item, "m") &&
			c->flavor == CONSENSUS_FLAVOR_MICRODESC) {
		st->router_m++;
		if (!dirdoc_next_arg(&args, &arg) ||
				!decode_exact(arg, r->digest, 32))
			return FAIL(st, item, "bad m line");
	}
	return 0;
}

static int
parse_signature(struct parse_state *st, const struct dirdoc_item *item)
{
	struct consensus *c = st->c;
	struct consensus_signature *sig;
	struct dirdoc_span args = item->args;
	struct dirdoc_span alg, id, key;
	size_t n_args = dirdoc_count_args(args);
	ssize_t len;
	size_t i;

	if (c->n_signatures == CONSENSUS_MAX_SIGNATURES)
		return dirdoc_fail(st->err, item->line, -EMSGSIZE,
				"more than %d signatures",
				CONSENSUS_MAX_SIGNATURES);
	sig = &c->signatures[c->n_signatures];
	memset(sig, 0, sizeof(*sig));
	sig->line = item->line;
	if (n_args < 2)
		return FAIL(st, item, "bad directory-signature");
	/* dir-spec 3.4.1: the algorithm is optional and defaults to sha1. */
	sig->alg = CONSENSUS_DIGEST_SHA1;
	if (n_args >= 3) {
		dirdoc_next_arg(&args, &alg);
		if (dirdoc_span_is(alg, "sha256"))
			sig->alg = CONSENSUS_DIGEST_SHA256;
		else if (!dirdoc_span_is(alg, "sha1"))
			sig->alg = DIGEST_ALG_UNKNOWN;
	}
	if (!dirdoc_next_arg(&args, &id) || !dirdoc_next_arg(&args, &key) ||
			dirdoc_hex_decode(id, sig->identity,
				CONSENSUS_IDENTITY_LEN) != 0 ||
			dirdoc_hex_decode(key, sig->signing_key_digest,
				sizeof(sig->signing_key_digest)) != 0)
		return FAIL(st, item, "bad directory-signature");
	len = dirdoc_object_decode(item, "SIGNATURE", sig->signature,
			sizeof(sig->signature));
	if (len < CONSENSUS_SIGNATURE_MIN_LEN)
		return FAIL(st, item, "bad signature object");
	sig->signature_len = (size_t)len;
	for (i = 0; i < c->n_authorities; i++)
		if (memcmp(c->authorities[i].identity, sig->identity,
					CONSENSUS_IDENTITY_LEN) == 0)
			break;
	if (i == c->n_authorities)
		return FAIL(st, item, "signature by an authority without dir-source");
	c->n_signatures++;
	return 0;
}

static int
parse_footer(struct parse_state *st, const struct dirdoc_item *item)
{
	if (dirdoc_keyword_is(item, "directory-signature")) {
		st->section = SECTION_SIGNATURES;
		return parse_signature(st, item);
	}
	if (st->section == SECTION_SIGNATURES)
		return FAIL(st, item, "item after directory-signature");
	if (dirdoc_keyword_is(item, "directory-footer")) {
		if (st->footer_seen_item || item->args.len != 0)
			return FAIL(st, item, "misplaced directory-footer");
	} else if (dirdoc_keyword_is(item, "bandwidth-weights")) {
		if (st->weights_seen)
			return FAIL(st, item, "bandwidth-weights appears twice");
		st->weights_seen = true;
		st->footer_seen_item = true;
		return parse_named_ints(st, item, st->c->weights,
				&st->c->n_weights);
	}
	st->footer_seen_item = true;
	return 0;
}

static bool
starts_footer(const struct dirdoc_item *item)
{
	return dirdoc_keyword_is(item, "directory-footer") ||
		dirdoc_keyword_is(item, "directory-signature");
}

/* Items this parser reads, none of which carries an object except
 * directory-signature; unknown items may (dir-spec 1.2). */
static bool
is_known_plain_item(const struct dirdoc_item *item)
{
	static const char *const plain[] = {
		"dir-source", "contact", "vote-digest", "r", "s", "pr", "w",
		"a", "m", "directory-footer", "bandwidth-weights",
	};

	for (unsigned i = 0; i < H_COUNT; i++)
		if (dirdoc_keyword_is(item, header_items[i].keyword))
			return true;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (dirdoc_keyword_is(item, plain[i]))
			return true;
	return false;
}

static int
parse_item(struct parse_state *st, const struct dirdoc_item *item)
{
	int rc;

	if (item->has_object && is_known_plain_item(item))
		return FAIL(st, item, "unexpected object after %.*s",
				(int)item->keyword.len, item->keyword.ptr);

	if (st->section == SECTION_HEADER) {
		if (!dirdoc_keyword_is(item, "r") && !starts_footer(item))
			return parse_header(st, item);
		rc = check_header(st, item);
		if (rc != 0)
			return rc;
		st->section = SECTION_ROUTERS;
	}
	if (st->section == SECTION_ROUTERS) {
		if (dirdoc_keyword_is(item, "r")) {
			rc = finish_router(st, item);
			return rc != 0 ? rc : start_router(st, item);
		}
		if (!starts_footer(item))
			return parse_router_item(st, item);
		rc = finish_router(st, item);
		if (rc != 0)
			return rc;
		st->section = SECTION_FOOTER;
	}
	return parse_footer(st, item);
}

/* dir-spec 3.4.1: signed from "network-status-version" through the space
 * after the first "directory-signature". */
static int
hash_signed_part(struct consensus *c, const uint8_t *doc, size_t len,
		struct dirdoc_error *err)
{
	static const char marker[] = "\ndirectory-signature ";
	const uint8_t *p = doc;
	const uint8_t *end = doc + len;
	const uint8_t *found = NULL;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			break;
		if ((size_t)(end - nl) >= sizeof(marker) - 1 &&
				memcmp(nl, marker, sizeof(marker) - 1) == 0) {
			found = nl + sizeof(marker) - 1;
			break;
		}
		p = nl + 1;
	}
	if (found == NULL)
		return dirdoc_fail(err, 0, -EPROTO,
				"no directory-signature line");
	if (EVP_Digest(doc, (size_t)(found - doc), c->signed_sha1, NULL,
				EVP_sha1(), NULL) != 1 ||
			EVP_Digest(doc, (size_t)(found - doc),
				c->signed_sha256, NULL, EVP_sha256(),
				NULL) != 1)
		return -EIO;
	return 0;
}

static int
compare_md_digest(const void *a, const void *b)
{
	const struct consensus_router *ra = *(const struct consensus_router *const *)a;
	const struct consensus_router *rb = *(const struct consensus_router *const *)b;

	return memcmp(ra->digest, rb->digest, 32);
}

static int
build_md_index(struct consensus *c)
{
	if (c->flavor != CONSENSUS_FLAVOR_MICRODESC || c->n_routers == 0)
		return 0;
	c->by_md_digest = malloc(c->n_routers * sizeof(*c->by_md_digest));
	if (c->by_md_digest == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_routers; i++)
		c->by_md_digest[i] = &c->routers[i];
	qsort(c->by_md_digest, c->n_routers, sizeof(*c->by_md_digest),
			compare_md_digest);
	return 0;
}

static int
parse_document(struct parse_state *st, const uint8_t *doc, size_t len)
{
	struct dirdoc_reader reader;
	struct dirdoc_item item;
	int rc;

	if (len > CONSENSUS_MAX_LEN)
		return dirdoc_fail(st->err, 0, -EMSGSIZE,
				"document longer than %u bytes",
				CONSENSUS_MAX_LEN);
	if (len < strlen("network-status-version ") ||
			memcmp(doc, "network-status-version ",
				strlen("network-status-version ")) != 0)
		return dirdoc_fail(st->err, 1, -EPROTO,
				"document does not start with network-status-version");
	rc = hash_signed_part(st->c, doc, len, st->err);
	if (rc != 0)
		return rc;
	dirdoc_reader_init(&reader, doc, doc + len);
	while ((rc = dirdoc_next_item(&reader, &item, st->err)) > 0) {
		rc = parse_item(st, &item);
		if (rc != 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (st->section != SECTION_SIGNATURES)
		return dirdoc_fail(st->err, reader.line, -EPROTO,
				"document ends before directory-signature");
	return build_md_index(st->c);
}

int
consensus_parse(const uint8_t *doc, size_t len, struct consensus **out,
		struct dirdoc_error *err)
{
	struct parse_state st;
	int rc;

	memset(&st, 0, sizeof(st));
	st.err = err;
	st.c = calloc(1, sizeof(*st.c));
	if (st.c == NULL)
		return -ENOMEM;
	rc = parse_document(&st, doc, len);
	if (rc != 0) {
		consensus_free(st.c);
		return rc;
	}
	*out = st.c;
	return 0;
}

static bool
is_configured(const uint8_t (*authorities)[CONSENSUS_IDENTITY_LEN],
		size_t n_authorities, const uint8_t *identity)
{
	for (size_t i = 0; i < n_authorities; i++)
		if (memcmp(authorities[i], identity, CONSENSUS_IDENTITY_LEN) == 0)
			return true;
	return false;
}

int
consensus_verify(const struct consensus *c,
		const uint8_t (*authorities)[CONSENSUS_IDENTITY_LEN],
		size_t n_authorities, struct authority_cert *const *certs,
		size_t n_certs, time_t now,
		struct consensus_verify_result *result)
{
	struct consensus_verify_result r;
	const uint8_t *counted[CONSENSUS_MAX_SIGNATURES];

	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < c->n_signatures; i++) {
		const struct consensus_signature *sig = &c->signatures[i];
		const struct authority_cert *cert;
		bool seen = false;

		if (sig->alg != CONSENSUS_DIGEST_SHA1 &&
				sig->alg != CONSENSUS_DIGEST_SHA256) {
			r.n_unknown_alg++;
			continue;
		}
		if (!is_configured(authorities, n_authorities, sig->identity)) {
			r.n_unknown_authority++;
			continue;
		}
		for (unsigned j = 0; j < r.n_valid; j++)
			if (memcmp(counted[j], sig->identity,
						CONSENSUS_IDENTITY_LEN) == 0)
				seen = true;
		if (seen)
			continue;
		cert = authority_cert_find(certs, n_certs, sig->identity,
				sig->signing_key_digest);
		if (cert == NULL) {
			r.n_missing_cert++;
			continue;
		}
		if (authority_cert_verify(cert, now) != 0) {
			r.n_bad_cert++;
			continue;
		}
		if (rsa_identity_verify_digest(authority_cert_signing_key(cert),
					sig->alg == CONSENSUS_DIGEST_SHA1 ?
					c->signed_sha1 : c->signed_sha256,
					sig->alg == CONSENSUS_DIGEST_SHA1 ?
					sizeof(c->signed_sha1) :
					sizeof(c->signed_sha256),
					sig->signature, sig->signature_len) != 0) {
			r.n_bad++;
			continue;
		}
		counted[r.n_valid++] = sig->identity;
	}
	if (result != NULL)
		*result = r;
	return n_authorities > 0 && r.n_valid > n_authorities / 2 ?
		0 : -EBADMSG;
}

int
consensus_check_time(const struct consensus *c, time_t now, time_t skew)
{
	if (now + skew < c->valid_after)
		return -EAGAIN;
	if (now > c->valid_until + CONSENSUS_REASONABLY_LIVE_SECS)
		return -ESTALE;
	return 0;
}

enum consensus_flavor
consensus_flavor(const struct consensus *c)
{
	return c->flavor;
}

unsigned
consensus_method(const struct consensus *c)
{
	return c->method;
}

time_t
consensus_valid_after(const struct consensus *c)
{
	return c->valid_after;
}

time_t
consensus_fresh_until(const struct consensus *c)
{
	return c->fresh_until;
}

time_t
consensus_valid_until(const struct consensus *c)
{
	return c->valid_until;
}

void
consensus_voting_delay(const struct consensus *c, unsigned *vote_secs,
		unsigned *dist_secs)
{
	*vote_secs = c->vote_delay;
	*dist_secs = c->dist_delay;
}

size_t
consensus_n_known_flags(const struct consensus *c)
{
	return c->n_known_flags;
}

const char *
consensus_known_flag(const struct consensus *c, size_t index)
{
	return index < c->n_known_flags ? c->known_flags[index] : NULL;
}

static const struct named_int *
find_named(const struct named_int *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

int32_t
consensus_param(const struct consensus *c, const char *name,
		int32_t default_value, int32_t min_value, int32_t max_value)
{
	const struct named_int *p = find_named(c->params, c->n_params, name);

	/* networkstatus.c get_net_param_from_list: a value out of range is
	 * raised to min or lowered to max (with a warning), not ignored. */
	if (p == NULL)
		return default_value;
	if (p->value < min_value)
		return min_value;
	if (p->value > max_value)
		return max_value;
	return p->value;
}

int32_t
consensus_bandwidth_weight(const struct consensus *c, const char *name,
		int32_t default_value)
{
	const struct named_int *p = find_named(c->weights, c->n_weights, name);

	return p == NULL ? default_value : p->value;
}

size_t
consensus_n_params(const struct consensus *c)
{
	return c->n_params;
}

const struct consensus_srv *
consensus_srv_current(const struct consensus *c)
{
	return &c->srv_current;
}

const struct consensus_srv *
consensus_srv_previous(const struct consensus *c)
{
	return &c->srv_previous;
}

const struct protover_set *
consensus_recommended_relay_protocols(const struct consensus *c)
{
	return &c->recommended_relay;
}

const struct protover_set *
consensus_required_relay_protocols(const struct consensus *c)
{
	return &c->required_relay;
}

const struct protover_set *
consensus_recommended_client_protocols(const struct consensus *c)
{
	return &c->recommended_client;
}

const struct protover_set *
consensus_required_client_protocols(const struct consensus *c)
{
	return &c->required_client;
}

size_t
consensus_n_authorities(const struct consensus *c)
{
	return c->n_authorities;
}

const struct consensus_authority *
consensus_authority_at(const struct consensus *c, size_t index)
{
	return index < c->n_authorities ? &c->authorities[index] : NULL;
}

size_t
consensus_n_signatures(const struct consensus *c)
{
	return c->n_signatures;
}

const struct consensus_signature *
consensus_signature_at(const struct consensus *c, size_t index)
{
	return index < c->n_signatures ? &c->signatures[index] : NULL;
}

size_t
consensus_n_routers(const struct consensus *c)
{
	return c->n_routers;
}

const struct consensus_router *
consensus_router_at(const struct consensus *c, size_t index)
{
	return index < c->n_routers ? &c->routers[index] : NULL;
}

const struct consensus_router *
consensus_find_router(const struct consensus *c,
		const uint8_t identity[CONSENSUS_IDENTITY_LEN])
{
	size_t lo = 0, hi = c->n_routers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = memcmp(c->routers[mid].identity, identity,
				CONSENSUS_IDENTITY_LEN);

		if (cmp == 0)
			return &c->routers[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool
consensus_router_has_flags(const struct consensus *c,
		const uint8_t identity[CONSENSUS_IDENTITY_LEN], uint32_t flags)
{
	const struct consensus_router *r = consensus_find_router(c, identity);

	return r != NULL && (r->flags & flags) == flags;
}

const struct consensus_router *
consensus_find_by_microdesc_digest(const struct consensus *c,
		const uint8_t digest[32])
{
	size_t lo = 0, hi = c->by_md_digest != NULL ? c->n_routers : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = memcmp(c->by_md_digest[mid]->digest, digest, 32);

		if (cmp == 0)
			return c->by_md_digest[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
