/* MyFamily to the descriptor's family line, as tor 0.4.9 (relay_family.h). */
#include "control/relay_family.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NICKNAME_MAX 19
#define DIGEST_HEX_LEN 40

/* tor's node family member (nodefamily_st.h): a type byte, then the RSA
 * identity or the lower-cased nickname padded with NULs; identities sort
 * before nicknames because their type is smaller. */
enum { MEMBER_BY_IDENTITY = 0, MEMBER_BY_NICKNAME = 1 };
#define MEMBER_LEN 21

/* tor's is_legal_nickname(): 1-19 ASCII letters and digits. */
static bool
legal_nickname(const char *s, size_t len)
{
	if (len == 0 || len > NICKNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) || (unsigned char)s[i] > 0x7f)
			return false;
	return true;
}

/* The value of a hex digit already checked with isxdigit(): the low
 * nibble, plus 9 for the letters (0x41.. and 0x61.. have bit 6 set). */
static uint8_t
nibble(char c)
{
	return (uint8_t)((c & 0xf) + 9 * ((c >> 6) & 1));
}

/* tor's is_legal_hexdigest() on s after its "$": 40 hex digits, then
 * nothing or "=NICK" / "~NICK". Decodes the digest into identity when not
 * NULL. */
static bool
legal_digest(const char *s, uint8_t identity[20])
{
	size_t len = strlen(s);

	if (len < DIGEST_HEX_LEN)
		return false;
	for (size_t i = 0; i < DIGEST_HEX_LEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	if (len > DIGEST_HEX_LEN &&
			!((s[DIGEST_HEX_LEN] == '=' || s[DIGEST_HEX_LEN] == '~') &&
			  legal_nickname(s + DIGEST_HEX_LEN + 1, len - DIGEST_HEX_LEN - 1)))
		return false;
	if (identity != NULL)
		for (size_t i = 0; i < 20; i++)
			identity[i] = (uint8_t)(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
	return true;
}

/* tor's is_legal_nickname_or_hexdigest(). */
static bool
legal_item(const char *s)
{
	return s[0] == '$' ? legal_digest(s + 1, NULL) : legal_nickname(s, strlen(s));
}

int
relay_family_normalize(const char *item, char *out, size_t out_len)
{
	size_t len = strlen(item);

	if (out_len > 0)
		out[0] = '\0';
	if (out_len < RELAY_FAMILY_ITEM_MAX + 1)
		return -EINVAL;
	if (len <= RELAY_FAMILY_ITEM_MAX && legal_item(item)) {
		memcpy(out, item, len + 1);
		return 0;
	}
	/* normalize_nickname_list(): try again with a "$" in front. */
	if (item[0] != '$' && len < RELAY_FAMILY_ITEM_MAX && legal_digest(item, NULL)) {
		out[0] = '$';
		memcpy(out + 1, item, len + 1);
		return 0;
	}
	return -EINVAL;
}

bool
relay_family_item_is_nickname(const char *item)
{
	return item[0] != '$';
}

static int
compare_members(const void *a, const void *b)
{
	return memcmp(a, b, MEMBER_LEN);
}

int
relay_family_declared(const char *const *items, size_t n, const char *self_nickname,
		const uint8_t self_identity[20], relay_family_lookup_fn lookup, void *lookup_arg,
		char (*members)[RELAY_FAMILY_MEMBER_MAX + 1], size_t max)
{
	uint8_t list[RELAY_FAMILY_MAX + 1][MEMBER_LEN];
	size_t count = 0, out = 0;

	if (n > RELAY_FAMILY_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		const char *item = items[i];
		uint8_t *m = list[count];

		memset(m, 0, MEMBER_LEN);
		if (item == NULL || !legal_item(item))
			return -EINVAL;
		if (item[0] == '$') {
			/* "=NICK" / "~NICK" say nothing the identity does not. */
			legal_digest(item + 1, m + 1);
			m[0] = MEMBER_BY_IDENTITY;
		} else if (self_nickname != NULL && strcasecmp(item, self_nickname) == 0) {
			continue;	/* ourselves by nickname: we add our identity */
		} else if (lookup != NULL && lookup(lookup_arg, item, m + 1)) {
			m[0] = MEMBER_BY_IDENTITY;
		} else {
			m[0] = MEMBER_BY_NICKNAME;
			for (size_t k = 0; item[k] != '\0'; k++)
				m[1 + k] = (uint8_t)tolower((unsigned char)item[k]);
		}
		count++;
	}
	if (count == 0)
		return 0;
	/* tor lists itself too: it helps microdescriptor compression. */
	list[count][0] = MEMBER_BY_IDENTITY;
	memcpy(list[count] + 1, self_identity, 20);
	count++;
	qsort(list, count, MEMBER_LEN, compare_members);

	for (size_t i = 0; i < count; i++) {
		if (i > 0 && memcmp(list[i], list[i - 1], MEMBER_LEN) == 0)
			continue;
		if (out == max)
			return -ENOSPC;
		if (list[i][0] == MEMBER_BY_IDENTITY) {
			members[out][0] = '$';
			for (size_t k = 0; k < 20; k++)
				snprintf(members[out] + 1 + 2 * k, 3, "%02X", list[i][1 + k]);
		} else {
			memcpy(members[out], list[i] + 1, 20);
			members[out][20] = '\0';
		}
		out++;
	}
	/* Only ourselves: no family line (get_my_declared_family()). */
	if (out == 1 && members[0][0] == '$')
		return 0;
	return (int)out;
}

static const char base64_digits[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
base64_value(char c)
{
	const char *p = c != '\0' ? strchr(base64_digits, c) : NULL;

	return p != NULL ? (int)(p - base64_digits) : -1;
}

int
relay_family_id_parse(const char *s, uint8_t id[RELAY_FAMILY_ID_LEN])
{
	size_t len = strlen(s);
	uint32_t bits = 0;
	unsigned n_bits = 0, out = 0;

	if (len == RELAY_FAMILY_ID_BASE64_LEN + 1 && s[RELAY_FAMILY_ID_BASE64_LEN] == '=')
		len--;
	if (len != RELAY_FAMILY_ID_BASE64_LEN)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = base64_value(s[i]);

		if (v < 0)
			return -EINVAL;
		bits = bits << 6 | (uint32_t)v;
		n_bits += 6;
		if (n_bits >= 8) {
			n_bits -= 8;
			id[out++] = (uint8_t)(bits >> n_bits);
		}
	}
	/* 43 digits carry 258 bits; the last 2 are ignored, as tor's
	 * base64 decoder does (it accepts "...3EV" for "...3EU"). */
	return 0;
}

void
relay_family_id_format(const uint8_t id[RELAY_FAMILY_ID_LEN],
		char out[RELAY_FAMILY_ID_BASE64_LEN + 1])
{
	uint32_t bits = 0;
	unsigned n_bits = 0, o = 0;

	for (size_t i = 0; i < RELAY_FAMILY_ID_LEN; i++) {
		bits = bits << 8 | id[i];
		n_bits += 8;
		while (n_bits >= 6) {
			n_bits -= 6;
			out[o++] = base64_digits[(bits >> n_bits) & 0x3f];
		}
	}
	if (n_bits > 0)
		out[o++] = base64_digits[(bits << (6 - n_bits)) & 0x3f];
	out[o] = '\0';
}
