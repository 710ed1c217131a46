/* control/relay_family.c: MyFamily's items and the descriptor's family
 * line. The expected lines are tor 0.4.7-0.4.9's test_router.c
 * "get_my_family" results (our identity the 20 bytes
 * "holeinthebottomofthe", a router "crumpet" known by nickname). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "control/relay_family.h"

static const uint8_t *self_id = (const uint8_t *)"holeinthebottomofthe";

static bool
lookup_crumpet(void *arg, const char *nickname, uint8_t identity[20])
{
	int *calls = arg;

	(*calls)++;
	if (strcasecmp(nickname, "crumpet") != 0)
		return false;
	memcpy(identity, "whydoyouasknonononon", 20);
	return true;
}

/* The members of items' family line joined by spaces into line; returns
 * the count. */
static int
declared(const char *const *items, size_t n, relay_family_lookup_fn lookup, void *arg,
		char *line, size_t line_len)
{
	char members[RELAY_FAMILY_MAX + 1][RELAY_FAMILY_MEMBER_MAX + 1];
	int count = relay_family_declared(items, n, "me", self_id, lookup, arg, members,
			RELAY_FAMILY_MAX + 1);

	size_t used = 0;

	line[0] = '\0';
	for (int i = 0; i < count && used < line_len; i++)
		used += (size_t)snprintf(line + used, line_len - used, "%s%s", i > 0 ? " " : "",
				members[i]);
	return count;
}

static void
test_tor_vectors(void **state)
{
	const char *items[6] = { NULL };
	char line[512];
	int calls = 0;

	(void)state;
	/* No family: no line. */
	assert_int_equal(declared(items, 0, NULL, NULL, line, sizeof(line)), 0);

	/* One digest: ourselves added, identities in digest order. */
	items[0] = "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	assert_int_equal(declared(items, 1, NULL, NULL, line, sizeof(line)), 2);
	assert_string_equal(line, "$686F6C65696E746865626F74746F6D6F66746865 "
			"$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

	/* "~Muffin" dropped, lower-case hex written upper-case. */
	items[1] = "$0123456789abcdef0123456789abcdef01234567~Muffin";
	assert_int_equal(declared(items, 2, NULL, NULL, line, sizeof(line)), 3);
	assert_string_equal(line, "$0123456789ABCDEF0123456789ABCDEF01234567 "
			"$686F6C65696E746865626F74746F6D6F66746865 "
			"$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

	/* A nickname nobody has stays, lower-cased, after the identities. */
	items[2] = "BAGEL";
	assert_int_equal(declared(items, 3, lookup_crumpet, &calls, line, sizeof(line)), 4);
	assert_string_equal(line, "$0123456789ABCDEF0123456789ABCDEF01234567 "
			"$686F6C65696E746865626F74746F6D6F66746865 "
			"$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "
			"bagel");
	assert_int_equal(calls, 1);

	/* A nickname a router has becomes its identity. */
	items[3] = "CRUmpeT";
	assert_int_equal(declared(items, 4, lookup_crumpet, &calls, line, sizeof(line)), 5);
	assert_string_equal(line, "$0123456789ABCDEF0123456789ABCDEF01234567 "
			"$686F6C65696E746865626F74746F6D6F66746865 "
			"$776879646F796F7561736B6E6F6E6F6E6F6E6F6E "
			"$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "
			"bagel");

	/* Only ourselves, by identity or by nickname: no line. */
	items[0] = "$686F6C65696E746865626F74746F6D6F66746865";
	assert_int_equal(declared(items, 1, NULL, NULL, line, sizeof(line)), 0);
	items[0] = "ME";
	assert_int_equal(declared(items, 1, lookup_crumpet, &calls, line, sizeof(line)), 0);
}

static void
test_duplicates_and_order(void **state)
{
	const char *items[] = {
		"zeta", "Alpha", "$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=one",
		"$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "ALPHA", "alph",
	};
	char line[512];

	(void)state;
	/* Duplicates (same digest, nicknames differing in case) listed once;
	 * nicknames in byte order, a prefix first. */
	assert_int_equal(declared(items, 6, NULL, NULL, line, sizeof(line)), 5);
	assert_string_equal(line, "$686F6C65696E746865626F74746F6D6F66746865 "
			"$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB alph alpha zeta");
}

static void
test_bounds_and_bad_items(void **state)
{
	static const char *many[RELAY_FAMILY_MAX + 1];
	char members[4][RELAY_FAMILY_MEMBER_MAX + 1];
	const char *bad[] = { "$painauchocolat" };
	const char *two[] = { "one", "two" };

	(void)state;
	assert_int_equal(relay_family_declared(bad, 1, "me", self_id, NULL, NULL, members, 4),
			-EINVAL);
	/* Three members (two and ourselves) do not fit in two. */
	assert_int_equal(relay_family_declared(two, 2, "me", self_id, NULL, NULL, members, 2),
			-ENOSPC);
	for (size_t i = 0; i < RELAY_FAMILY_MAX + 1; i++)
		many[i] = "same";
	assert_int_equal(relay_family_declared(many, RELAY_FAMILY_MAX + 1, "me", self_id, NULL,
			NULL, members, 4), -EINVAL);
	/* RELAY_FAMILY_MAX copies of one name are one member and ourselves. */
	assert_int_equal(relay_family_declared(many, RELAY_FAMILY_MAX, "me", self_id, NULL,
			NULL, members, 4), 2);
	assert_string_equal(members[1], "same");
}

static void
test_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "bagel", "bagel" },
		{ "Nineteen19CharsLong", "Nineteen19CharsLong" },
		{ "$0123456789abcdef0123456789ABCDEF01234567",
		  "$0123456789abcdef0123456789ABCDEF01234567" },
		{ "0123456789abcdef0123456789ABCDEF01234567",
		  "$0123456789abcdef0123456789ABCDEF01234567" },
		{ "0123456789abcdef0123456789ABCDEF01234567=Nineteen19CharsLong",
		  "$0123456789abcdef0123456789ABCDEF01234567=Nineteen19CharsLong" },
		{ "$0123456789abcdef0123456789ABCDEF01234567~x",
		  "$0123456789abcdef0123456789ABCDEF01234567~x" },
		/* Short hex is a nickname, as in tor. */
		{ "ABCDEF", "ABCDEF" },
	};
	static const char *const bad[] = {
		"", "$", "TwentyCharactersLong", "nick-name", "caf\xc3\xa9",
		"$painauchocolat", "$0123456789abcdef0123456789ABCDEF0123456",
		"$0123456789abcdef0123456789ABCDEF012345678",
		"$0123456789abcdef0123456789ABCDEF01234567=",
		"$0123456789abcdef0123456789ABCDEF01234567#nick",
		"$0123456789abcdef0123456789ABCDEF01234567=TwentyCharactersLong",
		"$$0123456789abcdef0123456789ABCDEF01234567",
		"0123456789abcdef0123456789ABCDEF0123456g",
	};
	char out[RELAY_FAMILY_ITEM_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(relay_family_normalize(good[i].in, out, sizeof(out)), 0);
		assert_string_equal(out, good[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (relay_family_normalize(bad[i], out, sizeof(out)) != -EINVAL)
			fail_msg("'%s' accepted as '%s'", bad[i], out);
		assert_string_equal(out, "");
	}
	/* Too small an output buffer. */
	assert_int_equal(relay_family_normalize("bagel", out, 8), -EINVAL);
	assert_true(relay_family_item_is_nickname("bagel"));
	assert_false(relay_family_item_is_nickname("$0123456789abcdef0123456789ABCDEF01234567"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tor_vectors),
		cmocka_unit_test(test_duplicates_and_order),
		cmocka_unit_test(test_bounds_and_bad_items),
		cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
