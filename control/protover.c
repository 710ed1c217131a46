/* Subprotocol version lists (dir-spec 2.1.1 "proto", tor-spec 9). */
#include "control/protover.h"

#include <errno.h>
#include <string.h>

static const char *const names[PROTOVER_COUNT] = {
	[PROTOVER_CONFLUX] = "Conflux",
	[PROTOVER_CONS] = "Cons",
	[PROTOVER_DESC] = "Desc",
	[PROTOVER_DIRCACHE] = "DirCache",
	[PROTOVER_FLOWCTRL] = "FlowCtrl",
	[PROTOVER_HSDIR] = "HSDir",
	[PROTOVER_HSINTRO] = "HSIntro",
	[PROTOVER_HSREND] = "HSRend",
	[PROTOVER_LINK] = "Link",
	[PROTOVER_LINKAUTH] = "LinkAuth",
	[PROTOVER_MICRODESC] = "Microdesc",
	[PROTOVER_PADDING] = "Padding",
	[PROTOVER_RELAY] = "Relay",
};

const char *
protover_name_string(enum protover_name name)
{
	return (unsigned)name < PROTOVER_COUNT ? names[name] : NULL;
}

static bool
is_name_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-';
}

static int
parse_version(const uint8_t **p, const uint8_t *end, unsigned *out)
{
	unsigned v = 0;
	const uint8_t *start = *p;

	while (*p < end && **p >= '0' && **p <= '9' && *p - start < 3) {
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
	}
	if (*p == start || v > PROTOVER_MAX_VERSION)
		return -EPROTO;
	*out = v;
	return 0;
}

static int
parse_ranges(const uint8_t *p, const uint8_t *end, uint64_t *bits)
{
	*bits = 0;
	while (p < end) {
		unsigned lo, hi;

		if (parse_version(&p, end, &lo) != 0)
			return -EPROTO;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if (parse_version(&p, end, &hi) != 0 || hi < lo)
				return -EPROTO;
		}
		for (unsigned v = lo; v <= hi; v++)
			*bits |= UINT64_C(1) << v;
		if (p < end) {
			if (*p != ',' || p + 1 == end)
				return -EPROTO;
			p++;
		}
	}
	return 0;
}

int
protover_parse(struct dirdoc_span entries, struct protover_set *out)
{
	struct dirdoc_span entry;
	uint32_t seen = 0;

	memset(out, 0, sizeof(*out));
	while (dirdoc_next_arg(&entries, &entry)) {
		const uint8_t *eq = memchr(entry.ptr, '=', entry.len);
		struct dirdoc_span name;
		uint64_t bits;

		if (eq == NULL || eq == entry.ptr ||
				(size_t)(eq - entry.ptr) > PROTOVER_MAX_NAME_LEN)
			return -EPROTO;
		name.ptr = entry.ptr;
		name.len = (size_t)(eq - entry.ptr);
		for (size_t i = 0; i < name.len; i++)
			if (!is_name_char(name.ptr[i]))
				return -EPROTO;
		if (parse_ranges(eq + 1, entry.ptr + entry.len, &bits) != 0)
			return -EPROTO;
		for (unsigned i = 0; i < PROTOVER_COUNT; i++) {
			if (!dirdoc_span_is(name, names[i]))
				continue;
			if (seen & (UINT32_C(1) << i))
				return -EPROTO;
			seen |= UINT32_C(1) << i;
			out->versions[i] = bits;
		}
	}
	return 0;
}

bool
protover_supports(const struct protover_set *set, enum protover_name name,
		unsigned version)
{
	if ((unsigned)name >= PROTOVER_COUNT || version > PROTOVER_MAX_VERSION)
		return false;
	return (set->versions[name] >> version) & 1;
}

bool
protover_all_supported(const struct protover_set *have,
		const struct protover_set *need)
{
	for (unsigned i = 0; i < PROTOVER_COUNT; i++)
		if ((need->versions[i] & ~have->versions[i]) != 0)
			return false;
	return true;
}
