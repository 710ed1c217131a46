/* The dir-spec 1.2 meta-format tokenizer, its value helpers and the
 * "proto" lists (control/dirdoc_meta.c, control/protover.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "control/dirdoc_meta.h"
#include "control/protover.h"

static struct dirdoc_span
span(const char *s)
{
	struct dirdoc_span sp = { (const uint8_t *)s, strlen(s) };

	return sp;
}

static void
reader_for(struct dirdoc_reader *r, const char *s)
{
	dirdoc_reader_init(r, (const uint8_t *)s, (const uint8_t *)s + strlen(s));
}

static void
test_items_and_objects(void **state)
{
	static const char doc[] =
		"network-status-version 3 microdesc\n"
		"\n"
		"client-versions \n"
		"dir-identity-key\n"
		"-----BEGIN RSA PUBLIC KEY-----\n"
		"AAEC\n"
		"AwQ=\n"
		"-----END RSA PUBLIC KEY-----\n"
		"x-ext\ta  b\n";
	struct dirdoc_reader r;
	struct dirdoc_item item;
	struct dirdoc_span args, arg;
	uint8_t buf[16];

	(void)state;
	reader_for(&r, doc);
	assert_int_equal(dirdoc_next_item(&r, &item, NULL), 1);
	assert_true(dirdoc_keyword_is(&item, "network-status-version"));
	assert_int_equal(item.line, 1);
	assert_false(item.has_object);
	args = item.args;
	assert_int_equal(dirdoc_count_args(args), 2);
	assert_true(dirdoc_next_arg(&args, &arg));
	assert_true(dirdoc_span_is(arg, "3"));
	assert_true(dirdoc_next_arg(&args, &arg));
	assert_true(dirdoc_span_is(arg, "microdesc"));
	assert_false(dirdoc_next_arg(&args, &arg));

	/* The empty line is skipped; the trailing space leaves no args. */
	assert_int_equal(dirdoc_next_item(&r, &item, NULL), 1);
	assert_true(dirdoc_keyword_is(&item, "client-versions"));
	assert_int_equal(item.line, 3);
	assert_int_equal(item.args.len, 0);

	assert_int_equal(dirdoc_next_item(&r, &item, NULL), 1);
	assert_true(dirdoc_keyword_is(&item, "dir-identity-key"));
	assert_int_equal(item.line, 4);
	assert_true(item.has_object);
	assert_true(dirdoc_span_is(item.object_type, "RSA PUBLIC KEY"));
	assert_int_equal(dirdoc_object_decode(&item, "RSA PUBLIC KEY", buf,
				sizeof(buf)), 5);
	assert_memory_equal(buf, "\0\1\2\3\4", 5);
	assert_int_equal(dirdoc_object_decode(&item, "SIGNATURE", buf,
				sizeof(buf)), -EPROTO);
	assert_int_equal(dirdoc_object_decode(&item, NULL, buf, 4), -EMSGSIZE);

	assert_int_equal(dirdoc_next_item(&r, &item, NULL), 1);
	assert_true(dirdoc_keyword_is(&item, "x-ext"));
	assert_int_equal(item.line, 9);
	assert_int_equal(dirdoc_count_args(item.args), 2);
	assert_int_equal(dirdoc_next_item(&r, &item, NULL), 0);
	assert_int_equal(dirdoc_next_item(&r, &item, NULL), 0);
}

static void
expect_error(const char *doc, int code, const char *line_text)
{
	struct dirdoc_reader r;
	struct dirdoc_item item;
	struct dirdoc_error err;
	int rc;

	reader_for(&r, doc);
	memset(&err, 0, sizeof(err));
	while ((rc = dirdoc_next_item(&r, &item, &err)) > 0)
		;
	assert_int_equal(rc, code);
	assert_non_null(strstr(err.message, line_text));
}

static void
test_malformed(void **state)
{
	char long_line[DIRDOC_MAX_LINE_LEN + 16];

	(void)state;
	expect_error("a 1\nb 2", -EPROTO, "line 2:");
	expect_error("a 1\n-b 2\n", -EPROTO, "line 2:");
	expect_error("a 1\nb\xff 2\n", -EPROTO, "line 2: bad keyword");
	expect_error("a\n-----BEGIN X-----\nAAAA\n-----END Y-----\n", -EPROTO,
			"line 4:");
	expect_error("a\n-----BEGIN X-----\nAAAA\n", -EPROTO, "line 4:");
	expect_error("a\n-----BEGIN  X-----\nAAAA\n-----END  X-----\n",
			-EPROTO, "line 2:");
	memset(long_line, 'a', sizeof(long_line) - 2);
	long_line[sizeof(long_line) - 2] = '\n';
	long_line[sizeof(long_line) - 1] = '\0';
	expect_error(long_line, -EMSGSIZE, "line 1:");

	/* A NUL byte inside a line. */
	{
		static const uint8_t nul_doc[] = "a 1\nb \0 2\n";
		struct dirdoc_reader r;
		struct dirdoc_item item;
		struct dirdoc_error err;

		dirdoc_reader_init(&r, nul_doc, nul_doc + sizeof(nul_doc) - 1);
		assert_int_equal(dirdoc_next_item(&r, &item, &err), 1);
		assert_int_equal(dirdoc_next_item(&r, &item, &err), -EPROTO);
		assert_int_equal(err.line, 2);
	}
}

static void
test_base64(void **state)
{
	uint8_t out[32];

	(void)state;
	assert_int_equal(dirdoc_base64_decode(span("AAEC"), false, out, 32), 3);
	assert_int_equal(dirdoc_base64_decode(span("AAE"), false, out, 32), 2);
	assert_int_equal(dirdoc_base64_decode(span("AAE="), false, out, 32), 2);
	assert_int_equal(dirdoc_base64_decode(span("AA=="), false, out, 32), 1);
	assert_int_equal(dirdoc_base64_decode(span("A"), false, out, 32),
			-EPROTO);
	assert_int_equal(dirdoc_base64_decode(span("AA=A"), false, out, 32),
			-EPROTO);
	assert_int_equal(dirdoc_base64_decode(span("AA*A"), false, out, 32),
			-EPROTO);
	assert_int_equal(dirdoc_base64_decode(span("AA\nAA"), false, out, 32),
			-EPROTO);
	assert_int_equal(dirdoc_base64_decode(span("AA\nAA"), true, out, 32), 3);
	assert_int_equal(dirdoc_base64_decode(span("AAECAw"), false, out, 3),
			-EMSGSIZE);
	/* The SRV of the consensus vector decodes to 32 bytes. */
	assert_int_equal(dirdoc_base64_decode(
			span("Sz7i6lkDaQ2aPw03mRVE1BnLcdFG6XLGagNBfWk2Whg="),
			false, out, 32), 32);
	assert_int_equal(out[0], 0x4b);
}

static void
test_values(void **state)
{
	time_t t;
	int64_t v;
	uint32_t ip;
	uint8_t bytes[2];
	struct dirdoc_int_param params[4];

	(void)state;
	assert_int_equal(dirdoc_parse_time(span("2026-12-01"), span("00:56:10"),
				&t), 0);
	assert_int_equal(t, 1796086570);
	assert_int_equal(dirdoc_parse_time(span("2038-01-01"), span("00:00:00"),
				&t), 0);
	assert_int_equal(t, 2145916800);
	assert_int_equal(dirdoc_parse_time(span("2024-02-29"), span("23:59:59"),
				&t), 0);
	assert_int_equal(t, 1709251199);
	assert_int_equal(dirdoc_parse_time(span("2027-02-29"), span("00:00:00"),
				&t), -EPROTO);
	assert_int_equal(dirdoc_parse_time(span("2026-13-01"), span("00:00:00"),
				&t), -EPROTO);
	assert_int_equal(dirdoc_parse_time(span("2026-12-01"), span("24:00:00"),
				&t), -EPROTO);
	assert_int_equal(dirdoc_parse_time(span("2026-12-1"), span("00:00:00"),
				&t), -EPROTO);

	assert_int_equal(dirdoc_parse_int(span("-2147483648"), INT32_MIN,
				INT32_MAX, &v), 0);
	assert_int_equal(v, INT32_MIN);
	assert_int_equal(dirdoc_parse_int(span("2147483648"), INT32_MIN,
				INT32_MAX, &v), -EPROTO);
	assert_int_equal(dirdoc_parse_int(span("-"), 0, 1, &v), -EPROTO);
	assert_int_equal(dirdoc_parse_int(span("1x"), 0, 9, &v), -EPROTO);

	assert_int_equal(dirdoc_parse_ipv4(span("127.0.0.1"), &ip), 0);
	assert_int_equal(ip, 0x7f000001);
	assert_int_equal(dirdoc_parse_ipv4(span("127.0.0.256"), &ip), -EPROTO);
	assert_int_equal(dirdoc_parse_ipv4(span("127.0.0"), &ip), -EPROTO);
	assert_int_equal(dirdoc_parse_ipv4(span("127.0.0.01"), &ip), -EPROTO);

	assert_int_equal(dirdoc_hex_decode(span("aB0f"), bytes, 2), 0);
	assert_int_equal(bytes[0], 0xab);
	assert_int_equal(bytes[1], 0x0f);
	assert_int_equal(dirdoc_hex_decode(span("aB0g"), bytes, 2), -EPROTO);
	assert_int_equal(dirdoc_hex_decode(span("aB0"), bytes, 2), -EPROTO);

	assert_int_equal(dirdoc_parse_int_params(span("a=1 bb=-2"), params, 4), 2);
	assert_true(dirdoc_span_is(params[1].name, "bb"));
	assert_int_equal(params[1].value, -2);
	assert_int_equal(dirdoc_parse_int_params(span("a=1 b"), params, 4),
			-EPROTO);
	assert_int_equal(dirdoc_parse_int_params(span("a=1 b=2 c=3"), params, 2),
			-EMSGSIZE);
}

static void
test_protover(void **state)
{
	struct protover_set set, need;

	(void)state;
	assert_int_equal(protover_parse(span(
			"Conflux=1 Cons=1-2 Desc=1-4 DirCache=2 FlowCtrl=1-2 "
			"HSDir=2 HSIntro=4-5 HSRend=1-2 Link=3-5 LinkAuth=3 "
			"Microdesc=1-3 Padding=2 Relay=2-6 Future=1-63"), &set), 0);
	assert_true(protover_supports(&set, PROTOVER_HSDIR, 2));
	assert_false(protover_supports(&set, PROTOVER_HSDIR, 1));
	assert_true(protover_supports(&set, PROTOVER_LINK, 5));
	assert_false(protover_supports(&set, PROTOVER_LINK, 6));
	assert_int_equal(set.versions[PROTOVER_RELAY], 0x7c);
	assert_int_equal(protover_parse(span(
			"Cons=2 Desc=2 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4-5 "
			"HSRend=2 Link=4-5 LinkAuth=3 Microdesc=2 Relay=2-4"),
			&need), 0);
	assert_true(protover_all_supported(&set, &need));
	need.versions[PROTOVER_PADDING] |= 1u << 3;
	assert_false(protover_all_supported(&set, &need));
	assert_int_equal(protover_parse(span("Link=1,3,5-6"), &set), 0);
	assert_int_equal(set.versions[PROTOVER_LINK], 0x6a);
	assert_int_equal(protover_parse(span("Link="), &set), 0);
	assert_int_equal(protover_parse(span("Link=64"), &set), -EPROTO);
	assert_int_equal(protover_parse(span("Link=5-3"), &set), -EPROTO);
	assert_int_equal(protover_parse(span("Link=3,"), &set), -EPROTO);
	assert_int_equal(protover_parse(span("Link=3 Link=4"), &set), -EPROTO);
	assert_int_equal(protover_parse(span("=3"), &set), -EPROTO);
	assert_int_equal(protover_parse(span("Li*nk=3"), &set), -EPROTO);
	assert_string_equal(protover_name_string(PROTOVER_HSDIR), "HSDir");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_items_and_objects),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_protover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
