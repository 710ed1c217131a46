/* control/config.c (torrc-syntax reader, DPDK keys) and the EAL command
 * line dataplane/eal.c builds from it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/config.h"
#include "dataplane/eal.h"

static int
parse(struct config *c, const char *text, struct config_error *err)
{
	config_init(c);
	memset(err, 0, sizeof(*err));
	return config_parse_text(c, text, strlen(text), "test.conf", err);
}

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	assert_string_equal(c.dpdk.lcores, "0");
	assert_int_equal(c.dpdk.n_ports, 0);
	assert_int_equal(c.dpdk.worker_queues, 1);
	assert_int_equal(c.dpdk.hugepages, CONFIG_HUGEPAGES_AUTO);
	assert_int_equal(c.dpdk.idle_sleep_usec, 50);
	assert_false(c.dpdk.has_mac);
	assert_false(c.dpdk.has_address);
}

static void
test_full_file(void **state)
{
	static const char text[] =
		"# hsrelay dataplane\n"
		"\n"
		"DPDKLcores 0@0,1@1,2@1   # control + two workers on two CPUs\n"
		"  DPDKPort   net_tap0,iface=hs0  \n"
		"DPDKPort 0000:01:00.1\n"
		"DPDKPort 03:00.0\n"
		"dpdkworkerqueues 2\n"      /* keys are case-insensitive */
		"DPDKHugepages off\r\n"    /* CRLF line ending */
		"DPDKMemoryMB 128\n"
		"DPDKMbufsPerWorker 2047\n"
		"DPDKIdlePolls 10\n"
		"DPDKIdleSleepUsec 0\n"
		"DPDKMac 02:00:00:77:01:02\n"
		"DPDKArpTimeout 5\n"
		"Address 10.77.1.2/24\n"
		"\t# indented comment";
	struct config c;
	struct config_error err;

	(void)state;
	assert_int_equal(parse(&c, text, &err), 0);
	assert_string_equal(c.dpdk.lcores, "0@0,1@1,2@1");
	assert_int_equal(c.dpdk.n_ports, 3);
	assert_false(c.dpdk.ports[0].is_pci);
	assert_string_equal(c.dpdk.ports[0].spec, "net_tap0,iface=hs0");
	assert_true(c.dpdk.ports[1].is_pci);
	assert_string_equal(c.dpdk.ports[1].spec, "0000:01:00.1");
	assert_true(c.dpdk.ports[2].is_pci);
	assert_string_equal(c.dpdk.ports[2].spec, "0000:03:00.0");
	assert_int_equal(c.dpdk.worker_queues, 2);
	assert_int_equal(c.dpdk.hugepages, CONFIG_HUGEPAGES_OFF);
	assert_int_equal(c.dpdk.memory_mb, 128);
	assert_int_equal(c.dpdk.mbufs_per_worker, 2047);
	assert_int_equal(c.dpdk.idle_polls, 10);
	assert_int_equal(c.dpdk.idle_sleep_usec, 0);
	assert_true(c.dpdk.has_mac);
	assert_memory_equal(c.dpdk.mac, ((uint8_t[]){ 2, 0, 0, 0x77, 1, 2 }), 6);
	assert_int_equal(c.dpdk.arp_timeout_sec, 5);
	assert_true(c.dpdk.has_address);
	assert_int_equal(c.dpdk.address, 0x0a4d0102);
	assert_int_equal(c.dpdk.prefix_len, 24);
	assert_int_equal(config_check_dataplane(&c, "test.conf", &err), 0);
}

/* One bad line in an otherwise good file: the error must name the line,
 * the key and say what is wrong. */
struct bad_case {
	const char *line;
	const char *key;
	const char *message_part;
};

static const struct bad_case bad_cases[] = {
	{ "DPDKLcorez 0-1", "DPDKLcorez", "unknown key" },
	{ "DPDKLcores", "DPDKLcores", "missing value" },
	{ "DPDKLcores    # only a comment", "DPDKLcores", "missing value" },
	{ "DPDKLcores 0-1x", "DPDKLcores", "not an lcore list" },
	{ "DPDKLcores (0-1@0", "DPDKLcores", "not an lcore list" },
	{ "DPDKLcores -1", "DPDKLcores", "not an lcore list" },
	{ "DPDKPort eth0", "DPDKPort", "neither a PCI address" },
	{ "DPDKPort 0000:01:00.8", "DPDKPort", "neither a PCI address" },
	{ "DPDKPort 0000:01:20.0", "DPDKPort", "neither a PCI address" },
	{ "DPDKPort net_tap,iface=x", "DPDKPort", "instance number" },
	{ "DPDKPort net_ta-p0", "DPDKPort", "bad character" },
	{ "DPDKPort net_tap0,iface=a b", "DPDKPort", "spaces" },
	{ "DPDKWorkerQueues 0", "DPDKWorkerQueues", "out of range 1..16" },
	{ "DPDKWorkerQueues 17", "DPDKWorkerQueues", "out of range 1..16" },
	{ "DPDKWorkerQueues 2x", "DPDKWorkerQueues", "not a decimal number" },
	{ "DPDKWorkerQueues -1", "DPDKWorkerQueues", "not a decimal number" },
	{ "DPDKWorkerQueues 99999999999999999999", "DPDKWorkerQueues", "out of range" },
	{ "DPDKHugepages maybe", "DPDKHugepages", "not auto, on or off" },
	{ "DPDKMemoryMB 63", "DPDKMemoryMB", "out of range" },
	{ "DPDKMbufsPerWorker 100", "DPDKMbufsPerWorker", "out of range" },
	{ "DPDKIdlePolls 0", "DPDKIdlePolls", "out of range" },
	{ "DPDKIdleSleepUsec 1000001", "DPDKIdleSleepUsec", "out of range" },
	{ "DPDKMac 02:00:00:00:00", "DPDKMac", "not a MAC address" },
	{ "DPDKMac 02:00:00:00:00:0g", "DPDKMac", "not a MAC address" },
	{ "DPDKMac 01:00:5e:00:00:01", "DPDKMac", "multicast" },
	{ "DPDKMac 00:00:00:00:00:00", "DPDKMac", "all-zero" },
	{ "DPDKArpTimeout 0", "DPDKArpTimeout", "out of range" },
	{ "Address 10.77.1.2", "Address", "no prefix length" },
	{ "Address 10.77.1/24", "Address", "not an IPv4 address" },
	{ "Address 10.77.1.256/24", "Address", "not an IPv4 address" },
	{ "Address 10.77.01.2/24", "Address", "not an IPv4 address" },
	{ "Address 10.77.1.2/33", "Address", "prefix length" },
	{ "Address 10.77.1.2/", "Address", "prefix length" },
	{ "Address 127.0.0.1/8", "Address", "not a unicast" },
	{ "Address 224.0.0.1/4", "Address", "not a unicast" },
	{ "Address 10.77.1.2/24 \\", "Address", "line continuations" },
	{ "Address \"10.77.1.2/24\"", "Address", "quoted" },
};

static void
test_bad_values_name_key_and_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char text[512], formatted[512], expect[256];
		struct config c;
		struct config_error err;

		snprintf(text, sizeof(text),
				"# line 1\n# line 2\nDPDKPort net_null0\n%s\nAddress 10.0.0.9/8\n",
				bad_cases[i].line);
		assert_int_equal(parse(&c, text, &err), -EINVAL);
		assert_int_equal(err.line, 4);
		assert_string_equal(err.key, bad_cases[i].key);
		if (!strstr(err.message, bad_cases[i].message_part))
			fail_msg("case '%s': message '%s' lacks '%s'", bad_cases[i].line,
					err.message, bad_cases[i].message_part);
		config_error_format(&err, formatted, sizeof(formatted));
		snprintf(expect, sizeof(expect), "test.conf:4: %s: ", bad_cases[i].key);
		assert_memory_equal(formatted, expect, strlen(expect));
	}
}

static void
test_malformed_files(void **state)
{
	struct config c;
	struct config_error err;
	char long_line[CONFIG_LINE_MAX + 32];
	static const char with_nul[] = "DPDKLcores 0\nDPDKPort net_null0\0x\n";
	char too_many[512] = "";

	(void)state;
	/* A line over the limit. */
	memset(long_line, 'a', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	memcpy(long_line, "DPDKPort ", 9);
	assert_int_equal(parse(&c, long_line, &err), -EINVAL);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.message, "line too long");

	/* An embedded NUL byte. */
	config_init(&c);
	assert_int_equal(config_parse_text(&c, with_nul, sizeof(with_nul) - 1,
			"nul.conf", &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.file, "nul.conf");

	/* Too many ports: the fifth DPDKPort line is refused. */
	for (int i = 0; i < CONFIG_PORTS_MAX + 1; i++) {
		char line[64];

		snprintf(line, sizeof(line), "DPDKPort net_null%d\n", i);
		strcat(too_many, line);
	}
	assert_int_equal(parse(&c, too_many, &err), -EINVAL);
	assert_int_equal(err.line, CONFIG_PORTS_MAX + 1);
	assert_string_equal(err.key, "DPDKPort");

	/* A single-valued key given twice is refused, naming the first line;
	 * DPDKPort may repeat. */
	assert_int_equal(parse(&c, "DPDKIdlePolls 3\nDPDKPort net_null0\n"
			"DPDKPort net_null1\n# x\ndpdkidlepolls 4\n", &err), -EINVAL);
	assert_int_equal(err.line, 5);
	assert_string_equal(err.key, "DPDKIdlePolls");
	assert_string_equal(err.message, "given twice (first on line 1)");

	/* Empty and comment-only files parse but lack the required keys. */
	assert_int_equal(parse(&c, "", &err), 0);
	assert_int_equal(parse(&c, "# nothing\n\n   \n", &err), 0);
	assert_int_equal(config_check_dataplane(&c, "x.conf", &err), -EINVAL);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.key, "DPDKPort");
	assert_int_equal(parse(&c, "DPDKPort net_null0", &err), 0);
	assert_int_equal(config_check_dataplane(&c, "x.conf", &err), -EINVAL);
	assert_string_equal(err.key, "Address");

	/* The last line needs no newline. */
	assert_int_equal(parse(&c, "DPDKPort net_null0\nAddress 10.1.2.3/16", &err), 0);
	assert_int_equal(c.dpdk.address, 0x0a010203);
}

static void
test_parse_file(void **state)
{
	char path[] = "/tmp/hsrelay-test-config.XXXXXX";
	static const char text[] = "DPDKPort net_null0\nAddress 10.1.2.3/16\nBogus 1\n";
	struct config c;
	struct config_error err;
	char formatted[256];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	config_init(&c);
	assert_int_equal(config_parse_file(&c, path, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_true(strstr(formatted, ":3: Bogus: unknown key") != NULL);
	unlink(path);

	config_init(&c);
	assert_int_equal(config_parse_file(&c, path, &err), -ENOENT);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.file, path);
}

/* The EAL command line, as a list joined by spaces. */
static void
joined(const struct eal_args *args, char *out, size_t out_len)
{
	out[0] = '\0';
	for (int i = 0; i < args->argc; i++) {
		if (i)
			strncat(out, " ", out_len - strlen(out) - 1);
		strncat(out, args->argv[i], out_len - strlen(out) - 1);
	}
	assert_null(args->argv[args->argc]);
}

static void
test_eal_args(void **state)
{
	struct config c;
	struct config_error err;
	struct eal_args args;
	char line[1024];

	(void)state;
	/* A vdev only: never scan PCI; plain memory when no pages are free. */
	assert_int_equal(parse(&c, "DPDKLcores 0-1\nDPDKPort net_tap0,iface=hs0\n"
			"Address 10.77.1.2/24\n", &err), 0);
	assert_int_equal(eal_args_build(&c.dpdk, "netcheck", 0, &args), 0);
	joined(&args, line, sizeof(line));
	assert_string_equal(line, "netcheck --lcores=0-1 --vdev net_tap0,iface=hs0 "
			"--no-pci --no-huge -m 256 --no-shconf --log-level=lib.eal:warning");
	assert_false(args.hugepages);

	/* auto: 256 MB needs 128 free 2 MB pages. */
	assert_int_equal(eal_args_build(&c.dpdk, "netcheck", 127, &args), 0);
	assert_false(args.hugepages);
	assert_int_equal(eal_args_build(&c.dpdk, "netcheck", 128, &args), 0);
	assert_true(args.hugepages);
	joined(&args, line, sizeof(line));
	assert_string_equal(line, "netcheck --lcores=0-1 --vdev net_tap0,iface=hs0 "
			"--no-pci --in-memory --log-level=lib.eal:warning");

	/* on and off override the page count. */
	c.dpdk.hugepages = CONFIG_HUGEPAGES_ON;
	assert_int_equal(eal_args_build(&c.dpdk, "netcheck", 0, &args), 0);
	assert_true(args.hugepages);
	c.dpdk.hugepages = CONFIG_HUGEPAGES_OFF;
	assert_int_equal(eal_args_build(&c.dpdk, "netcheck", 100000, &args), 0);
	assert_false(args.hugepages);

	/* A PCI port is allow-listed with -a and PCI is then not disabled. */
	assert_int_equal(parse(&c, "DPDKPort 0000:3b:00.0\nDPDKHugepages on\n", &err), 0);
	assert_int_equal(eal_args_build(&c.dpdk, "hsrelay", 0, &args), 0);
	joined(&args, line, sizeof(line));
	assert_string_equal(line, "hsrelay --lcores=0 -a 0000:3b:00.0 --in-memory "
			"--log-level=lib.eal:warning");

	/* No port: refused. */
	config_init(&c);
	assert_int_equal(eal_args_build(&c.dpdk, "x", 0, &args), -EINVAL);
}

static void
test_eal_args_overflow(void **state)
{
	struct config c;
	struct eal_args args;

	(void)state;
	config_init(&c);
	/* Four long vdev strings overflow the text area. */
	for (int i = 0; i < CONFIG_PORTS_MAX; i++) {
		c.dpdk.ports[i].is_pci = false;
		memset(c.dpdk.ports[i].spec, 'x', CONFIG_PORT_SPEC_MAX - 1);
		c.dpdk.ports[i].spec[CONFIG_PORT_SPEC_MAX - 1] = '\0';
	}
	c.dpdk.n_ports = CONFIG_PORTS_MAX;
	memset(c.dpdk.lcores, '1', CONFIG_LCORES_MAX - 1);
	c.dpdk.lcores[CONFIG_LCORES_MAX - 1] = '\0';
	/* 4 * 256 + 128 fits 2048; so it must succeed ... */
	assert_int_equal(eal_args_build(&c.dpdk, "p", 0, &args), 0);
	/* ... and a program name filling the rest must not. */
	{
		char program[EAL_ARGS_TEXT_MAX];

		memset(program, 'p', sizeof(program) - 1);
		program[sizeof(program) - 1] = '\0';
		assert_int_equal(eal_args_build(&c.dpdk, program, 0, &args), -EMSGSIZE);
	}
}

static void
test_free_hugepages(void **state)
{
	char path[] = "/tmp/hsrelay-test-meminfo.XXXXXX";
	static const char two_mb[] =
		"MemTotal:       24000000 kB\nHugePages_Total:     256\n"
		"HugePages_Free:      200\nHugePages_Rsvd:        0\n"
		"Hugepagesize:       2048 kB\n";
	static const char one_gb[] =
		"HugePages_Total:       4\nHugePages_Free:        4\n"
		"Hugepagesize:    1048576 kB\n";
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, two_mb, sizeof(two_mb) - 1), (ssize_t)sizeof(two_mb) - 1);
	close(fd);
	assert_int_equal(eal_free_hugepages_2mb(path), 200);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, one_gb, sizeof(one_gb) - 1), (ssize_t)sizeof(one_gb) - 1);
	close(fd);
	assert_int_equal(eal_free_hugepages_2mb(path), 0);
	unlink(path);
	assert_int_equal(eal_free_hugepages_2mb(path), -ENOENT);
	/* The real file parses (whatever the count is). */
	assert_true(eal_free_hugepages_2mb("/proc/meminfo") >= 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_bad_values_name_key_and_line),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_eal_args),
		cmocka_unit_test(test_eal_args_overflow),
		cmocka_unit_test(test_free_hugepages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
