/* control/config.c (torrc-syntax reader, DPDK and Tor keys) and the EAL command
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
#include <strings.h>
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
	assert_int_equal(c.dpdk.tcp_congestion, CONFIG_TCP_CUBIC);
	assert_int_equal(c.dpdk.tcp_recv_buffer, 256 * 1024);
	assert_int_equal(c.dpdk.tcp_send_buffer, 256 * 1024);
	assert_true(c.dpdk.checksum_offload);
	assert_string_equal(c.dpdk.capture_path, "");
	assert_int_equal(c.dpdk.capture_packets, 1000000);
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
		"DPDKChecksumOffload 0\n"
		"DPDKCapture /var/tmp/hs0.pcapng\n"
		"DPDKCapturePackets 0\n"
		"Address 10.77.1.2/24\n"
		"DPDKGateway 10.77.1.1\n"
		"TCPCongestionControl NewReno\n"
		"TCPRecvBuffer 4 MBytes\n"
		"TCPSendBuffer 1.5 MB\n"
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
	assert_false(c.dpdk.checksum_offload);
	assert_string_equal(c.dpdk.capture_path, "/var/tmp/hs0.pcapng");
	assert_int_equal(c.dpdk.capture_packets, 0);
	assert_true(c.dpdk.has_address);
	assert_int_equal(c.dpdk.address, 0x0a4d0102);
	assert_int_equal(c.dpdk.prefix_len, 24);
	assert_int_equal(c.dpdk.gateway, 0x0a4d0101);
	assert_int_equal(c.dpdk.tcp_congestion, CONFIG_TCP_NEWRENO);
	assert_int_equal(c.dpdk.tcp_recv_buffer, 4u << 20);
	assert_int_equal(c.dpdk.tcp_send_buffer, 3u << 19);
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
	{ "TCPCongestionControl bbr", "TCPCongestionControl", "not cubic or newreno" },
	{ "TCPRecvBuffer 1 GByte", "TCPRecvBuffer", "not within 16 KBytes .. 64 MBytes" },
	{ "TCPSendBuffer 8 KBytes", "TCPSendBuffer", "not within 16 KBytes .. 64 MBytes" },
	{ "TCPSendBuffer lots", "TCPSendBuffer", "not a number" },
	{ "DPDKMemoryMB 63", "DPDKMemoryMB", "out of range" },
	{ "DPDKMbufsPerWorker 100", "DPDKMbufsPerWorker", "out of range" },
	{ "DPDKIdlePolls 0", "DPDKIdlePolls", "out of range" },
	{ "DPDKIdleSleepUsec 1000001", "DPDKIdleSleepUsec", "out of range" },
	{ "DPDKMac 02:00:00:00:00", "DPDKMac", "not a MAC address" },
	{ "DPDKMac 02:00:00:00:00:0g", "DPDKMac", "not a MAC address" },
	{ "DPDKMac 01:00:5e:00:00:01", "DPDKMac", "multicast" },
	{ "DPDKMac 00:00:00:00:00:00", "DPDKMac", "all-zero" },
	{ "DPDKArpTimeout 0", "DPDKArpTimeout", "out of range" },
	{ "DPDKChecksumOffload yes", "DPDKChecksumOffload", "not 0 or 1" },
	{ "DPDKCapture ~/hs.pcapng", "DPDKCapture", "'~' is not expanded" },
	{ "DPDKCapturePackets -1", "DPDKCapturePackets", "not a number of packets" },
	{ "DPDKCapturePackets 10k", "DPDKCapturePackets", "not a number of packets" },
	{ "DPDKCapturePackets 99999999999999999999", "DPDKCapturePackets",
	  "not a number of packets" },
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
	{ "DPDKGateway 10.0.0.1/8", "DPDKGateway", "not an IPv4 address" },
	{ "DPDKGateway 10.0.0", "DPDKGateway", "not an IPv4 address" },
	{ "DPDKGateway 0.0.0.0", "DPDKGateway", "not a unicast" },
	{ "DPDKGateway 255.255.255.255", "DPDKGateway", "not a unicast" },
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

	/* DPDKGateway must be another host on Address's subnet, whatever the
	 * key order; the error names the gateway's line. */
	assert_int_equal(parse(&c, "DPDKPort net_null0\nDPDKGateway 10.2.0.1\n"
			"Address 10.1.2.3/16", &err), 0);
	assert_int_equal(config_check_dataplane(&c, "x.conf", &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.key, "DPDKGateway");
	assert_non_null(strstr(err.message, "10.2.0.1 is not another host on Address's subnet /16"));
	assert_int_equal(parse(&c, "DPDKPort net_null0\nAddress 10.1.2.3/16\n"
			"DPDKGateway 10.1.2.3", &err), 0);
	assert_int_equal(config_check_dataplane(&c, "x.conf", &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_int_equal(parse(&c, "DPDKPort net_null0\nDPDKGateway 10.1.255.254\n"
			"Address 10.1.2.3/16", &err), 0);
	assert_int_equal(config_check_dataplane(&c, "x.conf", &err), 0);
	assert_int_equal(c.dpdk.gateway, 0x0a01fffe);
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

/* ---- The Tor relay's keys ---- */

static void
test_tor_defaults(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	assert_string_equal(c.tor.nickname, "");
	assert_false(c.tor.has_or_port);
	assert_string_equal(c.tor.data_directory, "");
	assert_string_equal(c.tor.contact_info, "");
	assert_int_equal(c.tor.n_dir_authorities, 0);
	assert_false(c.tor.testing_tor_network);
	assert_int_equal(c.tor.bandwidth_rate, 1u << 30);
	assert_int_equal(c.tor.bandwidth_burst, 1u << 30);
	/* tor's option table: RelayBandwidthRate/Burst "0" (not set),
	 * MaxAdvertisedBandwidth "1 GB". */
	assert_int_equal(c.tor.relay_bandwidth_rate, 0);
	assert_int_equal(c.tor.relay_bandwidth_burst, 0);
	assert_int_equal(c.tor.max_advertised_bandwidth, 1u << 30);
	assert_false(c.tor.has_metrics_port);
	assert_int_equal(c.tor.metrics_policy.n_entries, 0);
	assert_int_equal(c.tor.n_logs, 0);
	assert_true(c.tor.publish_server_descriptor);
	assert_false(c.tor.assume_reachable);
	assert_int_equal(c.tor.max_circuits_per_worker, 65536);
	assert_int_equal(c.tor.max_links_per_worker, 4096);
	/* CountPrivateBandwidth is "not given" until config_check_relay()
	 * resolves it; TokenBucketRefillInterval is tor's 100 msec. */
	assert_int_equal(c.tor.count_private_bandwidth, -1);
	assert_int_equal(c.tor.token_bucket_refill_interval_ms, 100);
	/* DoS keys: Enabled auto, the rest "use the consensus". */
	assert_int_equal(c.tor.dos.circuit_creation_enabled, -1);
	assert_int_equal(c.tor.dos.connection_enabled, -1);
	assert_int_equal(c.tor.dos.circuit_creation_burst, 0);
	assert_int_equal(c.tor.dos.circuit_creation_defense_time_period, 0);
	assert_int_equal(c.tor.dos.connection_defense_type, 0);
	/* tor's option table: AccountingMax "0 bytes" (off), AccountingRule
	 * "max", AccountingStart unset, which accounting_parse_options() takes
	 * as month 1 00:00. */
	assert_true(c.tor.accounting_max == 0);
	assert_int_equal(c.tor.accounting_rule, ACCOUNTING_RULE_MAX);
	assert_int_equal(c.tor.accounting_start.unit, ACCOUNTING_UNIT_MONTH);
	assert_int_equal(c.tor.accounting_start.day, 1);
	assert_int_equal(c.tor.accounting_start.hour, 0);
	assert_int_equal(c.tor.accounting_start.minute, 0);
}

/* Parses one line alone and expects success. */
static void
parse_ok(struct config *c, const char *line)
{
	struct config_error err;
	char formatted[512];

	if (parse(c, line, &err) != 0) {
		config_error_format(&err, formatted, sizeof(formatted));
		fail_msg("'%s' refused: %s", line, formatted);
	}
}

static void
test_tor_good_values(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "Nickname a");
	assert_string_equal(c.tor.nickname, "a");
	parse_ok(&c, "nickname Abcdefghij012345678");		/* 19 characters */
	assert_string_equal(c.tor.nickname, "Abcdefghij012345678");

	parse_ok(&c, "ORPort 9001");
	assert_true(c.tor.has_or_port);
	assert_false(c.tor.or_port_has_address);
	assert_int_equal(c.tor.or_port, 9001);
	parse_ok(&c, "ORPort 10.77.1.2:443 IPv4Only");
	assert_true(c.tor.or_port_has_address);
	assert_int_equal(c.tor.or_address, 0x0a4d0102);
	assert_int_equal(c.tor.or_port, 443);
	parse_ok(&c, "ORPort 65535");
	assert_int_equal(c.tor.or_port, 65535);

	parse_ok(&c, "DataDirectory /var/lib/hsrelay data");
	assert_string_equal(c.tor.data_directory, "/var/lib/hsrelay data");
	parse_ok(&c, "DataDirectory relative/dir");
	assert_string_equal(c.tor.data_directory, "relative/dir");

	parse_ok(&c, "ContactInfo Operator <op AT example dot org> \xc3\xa9t\xc3\xa9 # comment");
	assert_string_equal(c.tor.contact_info, "Operator <op AT example dot org> \xc3\xa9t\xc3\xa9");

	/* MyFamily: comma lists over several lines, blanks and empty items
	 * skipped, a bare digest given its "$" (tor's normalize_nickname_list). */
	parse_ok(&c, "MyFamily $0123456789abcdef0123456789ABCDEF01234567~Muffin , bagel,,\n"
			"MyFamily AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			"MyFamily BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=nick");
	assert_int_equal(c.tor.n_family, 4);
	assert_string_equal(c.tor.family[0], "$0123456789abcdef0123456789ABCDEF01234567~Muffin");
	assert_string_equal(c.tor.family[1], "bagel");
	assert_string_equal(c.tor.family[2], "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_string_equal(c.tor.family[3], "$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=nick");

	/* FamilyId as tor --keygen-family prints it (a repeat is one), or *. */
	parse_ok(&c, "FamilyId 295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3EU\n"
			"FamilyId 295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3EU=\n"
			"FamilyKeyDirectory /etc/hsrelay/family");
	assert_int_equal(c.tor.n_family_ids, 1);
	assert_int_equal(c.tor.family_ids[0][0], 0xdb);
	assert_false(c.tor.family_id_all);
	assert_string_equal(c.tor.family_key_directory, "/etc/hsrelay/family");
	parse_ok(&c, "FamilyId *");
	assert_true(c.tor.family_id_all);
	assert_int_equal(c.tor.n_family_ids, 0);

	parse_ok(&c, "TestingTorNetwork 1");
	assert_true(c.tor.testing_tor_network);
	parse_ok(&c, "TestingTorNetwork 0");
	assert_false(c.tor.testing_tor_network);

	parse_ok(&c, "PublishServerDescriptor 0");
	assert_false(c.tor.publish_server_descriptor);
	parse_ok(&c, "PublishServerDescriptor v3");
	assert_true(c.tor.publish_server_descriptor);
	parse_ok(&c, "AssumeReachable 1");
	assert_true(c.tor.assume_reachable);

	parse_ok(&c, "ExitRelay 0");
	parse_ok(&c, "ExitPolicy reject *:*");
	parse_ok(&c, "ExitPolicy reject *:*\nExitPolicy REJECT *, reject *:*");

	parse_ok(&c, "MaxCircuitsPerWorker 16777216");
	assert_int_equal(c.tor.max_circuits_per_worker, 1u << 24);
	parse_ok(&c, "MaxLinksPerWorker 1");
	assert_int_equal(c.tor.max_links_per_worker, 1);

	parse_ok(&c, "Nickname x");
	assert_true(c.tor.max_hsdir_cache_bytes == 0);
	parse_ok(&c, "MaxHSDirCacheBytes 512 MBytes");
	assert_true(c.tor.max_hsdir_cache_bytes == 512ull << 20);
	parse_ok(&c, "MaxHSDirCacheBytes 1.5 GB");
	assert_true(c.tor.max_hsdir_cache_bytes == 3ull << 29);
	parse_ok(&c, "MaxHSDirCacheBytes 20 TBytes");
	assert_true(c.tor.max_hsdir_cache_bytes == 20ull << 40);
	parse_ok(&c, "MaxHSDirCacheBytes 1000");
	assert_true(c.tor.max_hsdir_cache_bytes == 1000);
}

/* The DoS keys with tor's types (dos_options.inc): autobool, POSINT, INT
 * and INTERVAL; tor's verdicts on such lines are in
 * vectors/hsrelay-config/tor-both-*.txt (tests/interop/config_tor.sh). */
static void
test_tor_dos_keys(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	parse_ok(&c, "DoSCircuitCreationEnabled 1");
	assert_int_equal(c.tor.dos.circuit_creation_enabled, 1);
	parse_ok(&c, "DoSCircuitCreationEnabled AUTO");
	assert_int_equal(c.tor.dos.circuit_creation_enabled, -1);
	parse_ok(&c, "DoSConnectionEnabled 0");
	assert_int_equal(c.tor.dos.connection_enabled, 0);
	parse_ok(&c, "DoSCircuitCreationMinConnections +5");
	assert_int_equal(c.tor.dos.circuit_creation_min_connections, 5);
	parse_ok(&c, "DoSCircuitCreationRate 2147483647");
	assert_int_equal(c.tor.dos.circuit_creation_rate, 2147483647u);
	parse_ok(&c, "DoSCircuitCreationBurst 60");
	assert_int_equal(c.tor.dos.circuit_creation_burst, 60);
	parse_ok(&c, "DoSCircuitCreationDefenseType -4");
	assert_int_equal(c.tor.dos.circuit_creation_defense_type, -4);
	parse_ok(&c, "DoSConnectionMaxConcurrentCount 50");
	assert_int_equal(c.tor.dos.connection_max_concurrent_count, 50);
	parse_ok(&c, "DoSConnectionDefenseType 1");
	assert_int_equal(c.tor.dos.connection_defense_type, 1);
	parse_ok(&c, "DoSConnectionConnectRate 20");
	assert_int_equal(c.tor.dos.connection_connect_rate, 20);
	parse_ok(&c, "DoSConnectionConnectBurst 40");
	assert_int_equal(c.tor.dos.connection_connect_burst, 40);
	parse_ok(&c, "DoSCircuitCreationDefenseTimePeriod 1.5 hours");
	assert_int_equal(c.tor.dos.circuit_creation_defense_time_period, 5400);
	parse_ok(&c, "DoSCircuitCreationDefenseTimePeriod 2 weeks");
	assert_int_equal(c.tor.dos.circuit_creation_defense_time_period, 1209600);
	parse_ok(&c, "DoSCircuitCreationDefenseTimePeriod 1 month");
	assert_int_equal(c.tor.dos.circuit_creation_defense_time_period, 2629728);
	parse_ok(&c, "DoSCircuitCreationDefenseTimePeriod 30days");
	assert_int_equal(c.tor.dos.circuit_creation_defense_time_period, 2592000);
	parse_ok(&c, "DoSCircuitCreationDefenseTimePeriod .5 hours");
	assert_int_equal(c.tor.dos.circuit_creation_defense_time_period, 1800);
	parse_ok(&c, "DoSConnectionConnectDefenseTimePeriod 2147483647");
	assert_int_equal(c.tor.dos.connection_connect_defense_time_period, 2147483647);
	parse_ok(&c, "DoSConnectionConnectDefenseTimePeriod 90 MINUTES");
	assert_int_equal(c.tor.dos.connection_connect_defense_time_period, 5400);
}

/* tor's unit grammar (unitparse.c): powers of two, bits are an eighth. */
static void
test_tor_bandwidth_units(void **state)
{
	static const struct {
		const char *value;
		uint64_t bytes;
	} cases[] = {
		{ "0", 0 },
		{ "76800", 76800 },
		{ "100 bytes", 100 },
		{ "1 byte", 1 },
		{ "7 b", 7 },
		{ "75 KBytes", 75 * 1024 },
		{ "75 kb", 75 * 1024 },
		{ "75 KILOBYTES", 75 * 1024 },
		{ "75KBytes", 75 * 1024 },
		{ "8 KBits", 1024 },
		{ "1 kilobit", 128 },
		{ "10 MBytes", 10u << 20 },
		{ "10 m", 10u << 20 },
		{ "1 megabyte", 1u << 20 },
		{ "8 MBits", 1u << 20 },
		{ "1 gigabyte", 1u << 30 },
		{ "1 GBit", 1u << 27 },
		{ "1.5 MBytes", 3u << 19 },
		{ "0.5 kb", 512 },
		{ "1 GBytes", 1u << 30 },
		/* tor takes 2 GBytes (INT32_MAX + 1) as INT32_MAX. */
		{ "2 GBytes", 2147483647u },
		{ "2147483648", 2147483647u },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char line[128];

		snprintf(line, sizeof(line), "BandwidthRate %s", cases[i].value);
		parse_ok(&c, line);
		if (c.tor.bandwidth_rate != cases[i].bytes)
			fail_msg("'%s': %llu bytes, expected %llu", cases[i].value,
					(unsigned long long)c.tor.bandwidth_rate,
					(unsigned long long)cases[i].bytes);
		snprintf(line, sizeof(line), "BandwidthBurst %s", cases[i].value);
		parse_ok(&c, line);
		assert_int_equal(c.tor.bandwidth_burst, cases[i].bytes);
		/* tor's MEMUNIT with config_ensure_bandwidth_cap() for the three
		 * keys of options_validate_relay_bandwidth() too. */
		snprintf(line, sizeof(line), "RelayBandwidthRate %s", cases[i].value);
		parse_ok(&c, line);
		assert_int_equal(c.tor.relay_bandwidth_rate, cases[i].bytes);
		assert_int_equal(c.tor.relay_bandwidth_burst, 0);
		assert_int_equal(c.tor.relay_bandwidth_rate_line, 1);
		snprintf(line, sizeof(line), "RelayBandwidthBurst %s", cases[i].value);
		parse_ok(&c, line);
		assert_int_equal(c.tor.relay_bandwidth_burst, cases[i].bytes);
		assert_int_equal(c.tor.relay_bandwidth_rate, 0);
		assert_int_equal(c.tor.relay_bandwidth_burst_line, 1);
		snprintf(line, sizeof(line), "# x\nMaxAdvertisedBandwidth %s", cases[i].value);
		parse_ok(&c, line);
		assert_int_equal(c.tor.max_advertised_bandwidth, cases[i].bytes);
		assert_int_equal(c.tor.max_advertised_bandwidth_line, 2);
	}
}

/* tor's MEMUNIT grammar (config_parse_units() with memory_units): an
 * integer as strtoull reads it, a double as strtod reads it when there is a
 * '.' or no integer, no cap below INT64_MAX bytes. tor 0.4.9.11's verdicts
 * on such lines: vectors/hsrelay-config/tor-both-*.txt. */
static const struct {
	const char *value;
	uint64_t bytes;
} memunit_good[] = {
	{ "0", 0 },
	{ "1000", 1000 },
	{ "512 MBytes", 512ull << 20 },
	{ "1.5 GB", 3ull << 29 },
	{ "20 TBytes", 20ull << 40 },
	{ ".5 GB", 1ull << 29 },
	{ "+5 GB", 5ull << 30 },
	{ "+.5 GB", 1ull << 29 },
	{ "1. GB", 1ull << 30 },
	{ "1.5e3 MBytes", 1500ull << 20 },
	{ "1.5 KBits", 192 },
	{ "-0", 0 },
	{ "-0.0", 0 },
	{ "8388607 TB", 8388607ull << 40 },
	{ "9223372036854775807", 9223372036854775807ull },
	{ "9223372036854775807 b", 9223372036854775807ull },
};

static const struct {
	const char *value;
	const char *message;
} memunit_bad[] = {
	{ "lots", "'lots' is not a number with a unit such as 512 MBytes" },
	{ "nan", "'nan' is not a number with a unit such as 512 MBytes" },
	{ "inf", "'inf' is not a number with a unit such as 512 MBytes" },
	{ "-.5 GB", "'-.5 GB' is not a number with a unit such as 512 MBytes" },
	{ "100000000000000000000.0", "'100000000000000000000.0' is not a number with a "
		"unit such as 512 MBytes" },
	{ "9223372036854775808", "9223372036854775808 is too large" },
	{ "18446744073709551616", "18446744073709551616 is too large" },
	{ "8388608 TB", "8388608 TB is too large" },
	{ "8388608.0 TB", "8388608.0 TB is too large" },
	{ "-1", "-1 is too large" },
	{ "-5 GB", "-5 GB is too large" },
	{ "5 KiB", "unknown unit 'KiB' (bytes, KBytes, MBytes, GBytes, TBytes)" },
	{ "1e3 GB", "unknown unit 'e3 GB' (bytes, KBytes, MBytes, GBytes, TBytes)" },
	{ "0x10", "unknown unit 'x10' (bytes, KBytes, MBytes, GBytes, TBytes)" },
};

/* Checks the memory unit grammar on key; field reads the parsed value. */
static void
check_memunit_key(const char *key, uint64_t (*field)(const struct config *))
{
	for (size_t i = 0; i < sizeof(memunit_good) / sizeof(memunit_good[0]); i++) {
		struct config c;
		char line[128];

		snprintf(line, sizeof(line), "%s %s", key, memunit_good[i].value);
		parse_ok(&c, line);
		if (field(&c) != memunit_good[i].bytes)
			fail_msg("'%s': %llu bytes, expected %llu", line,
					(unsigned long long)field(&c),
					(unsigned long long)memunit_good[i].bytes);
	}
	for (size_t i = 0; i < sizeof(memunit_bad) / sizeof(memunit_bad[0]); i++) {
		struct config c;
		struct config_error err;
		char text[160], formatted[512], expect[256];

		snprintf(text, sizeof(text), "# 1\n%s %s\n", key, memunit_bad[i].value);
		assert_int_equal(parse(&c, text, &err), -EINVAL);
		config_error_format(&err, formatted, sizeof(formatted));
		snprintf(expect, sizeof(expect), "test.conf:2: %s: %s", key,
				memunit_bad[i].message);
		if (strcmp(formatted, expect) != 0)
			fail_msg("'%s %s':\n got      '%s'\n expected '%s'", key,
					memunit_bad[i].value, formatted, expect);
	}
}

static uint64_t
max_hsdir_cache_bytes_of(const struct config *c)
{
	return c->tor.max_hsdir_cache_bytes;
}

static void
test_tor_memunit(void **state)
{
	(void)state;
	check_memunit_key("MaxHSDirCacheBytes", max_hsdir_cache_bytes_of);
}

static void
test_tor_metrics_port_and_policy(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "MetricsPort 127.0.0.1:9035");
	assert_true(c.tor.has_metrics_port);
	assert_int_equal(c.tor.metrics_address, 0x7f000001);
	assert_int_equal(c.tor.metrics_port, 9035);
	/* A port alone listens on 127.0.0.1, as tor's. */
	parse_ok(&c, "MetricsPort 9036 prometheus");
	assert_true(c.tor.has_metrics_port);
	assert_int_equal(c.tor.metrics_address, 0x7f000001);
	assert_int_equal(c.tor.metrics_port, 9036);
	parse_ok(&c, "MetricsPort 0");
	assert_false(c.tor.has_metrics_port);
	parse_ok(&c, "MetricsPort 10.1.2.3:80 Prometheus");
	assert_int_equal(c.tor.metrics_address, 0x0a010203);

	parse_ok(&c, "MetricsPortPolicy accept 127.0.0.1\n"
			"MetricsPortPolicy reject 10.1.2.3, accept 10.1.0.0/16:*,reject *4:9035\n"
			"MetricsPortPolicy accept 192.168.7.9/24:1-65535");
	assert_int_equal(c.tor.metrics_policy.n_entries, 5);
	assert_true(c.tor.metrics_policy.entries[0].accept);
	assert_int_equal(c.tor.metrics_policy.entries[0].network, 0x7f000001);
	assert_int_equal(c.tor.metrics_policy.entries[0].prefix_len, 32);
	assert_false(c.tor.metrics_policy.entries[1].accept);
	assert_int_equal(c.tor.metrics_policy.entries[2].network, 0x0a010000);
	assert_int_equal(c.tor.metrics_policy.entries[2].prefix_len, 16);
	assert_false(c.tor.metrics_policy.entries[3].accept);
	assert_int_equal(c.tor.metrics_policy.entries[3].prefix_len, 0);
	/* Host bits are cleared. */
	assert_int_equal(c.tor.metrics_policy.entries[4].network, 0xc0a80700);

	/* First match decides; no match rejects. */
	assert_true(config_policy_allows(&c.tor.metrics_policy, 0x7f000001));
	assert_false(config_policy_allows(&c.tor.metrics_policy, 0x7f000002));
	assert_false(config_policy_allows(&c.tor.metrics_policy, 0x0a010203));
	assert_true(config_policy_allows(&c.tor.metrics_policy, 0x0a010204));
	assert_false(config_policy_allows(&c.tor.metrics_policy, 0x0a020204));
	config_init(&c);
	assert_false(config_policy_allows(&c.tor.metrics_policy, 0x7f000001));
	parse_ok(&c, "MetricsPortPolicy accept *");
	assert_true(config_policy_allows(&c.tor.metrics_policy, 0x01020304));
	parse_ok(&c, "MetricsPortPolicy accept 0.0.0.0/0");
	assert_true(config_policy_allows(&c.tor.metrics_policy, 0xfffffffe));
}

static void
test_tor_log(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "Log notice stdout\nLog info-warn STDERR\nLog err syslog\n"
			"Log debug file /var/log/hsrelay/debug log.txt\nLog Warn\n"
			"Log notice-notice file rel.log");
	assert_int_equal(c.tor.n_logs, 6);
	assert_int_equal(c.tor.logs[0].min_severity, CONFIG_LOG_NOTICE);
	assert_int_equal(c.tor.logs[0].max_severity, CONFIG_LOG_ERR);
	assert_int_equal(c.tor.logs[0].dest, CONFIG_LOG_STDOUT);
	assert_int_equal(c.tor.logs[1].min_severity, CONFIG_LOG_INFO);
	assert_int_equal(c.tor.logs[1].max_severity, CONFIG_LOG_WARN);
	assert_int_equal(c.tor.logs[1].dest, CONFIG_LOG_STDERR);
	assert_int_equal(c.tor.logs[2].min_severity, CONFIG_LOG_ERR);
	assert_int_equal(c.tor.logs[2].dest, CONFIG_LOG_SYSLOG);
	assert_int_equal(c.tor.logs[3].min_severity, CONFIG_LOG_DEBUG);
	assert_int_equal(c.tor.logs[3].dest, CONFIG_LOG_FILE);
	assert_string_equal(c.tor.logs[3].path, "/var/log/hsrelay/debug log.txt");
	/* No destination: stdout, as tor. */
	assert_int_equal(c.tor.logs[4].min_severity, CONFIG_LOG_WARN);
	assert_int_equal(c.tor.logs[4].dest, CONFIG_LOG_STDOUT);
	assert_int_equal(c.tor.logs[5].min_severity, CONFIG_LOG_NOTICE);
	assert_int_equal(c.tor.logs[5].max_severity, CONFIG_LOG_NOTICE);
	assert_string_equal(c.tor.logs[5].path, "rel.log");
}

/* The lines tor-testnet.sh writes, with values tor-gencert and
 * tor --list-fingerprint produced (tests/unit/vectors/hsrelay-config). */
static const uint8_t a0_v3ident[20] = {
	0x19, 0xE2, 0x3A, 0x24, 0x29, 0xC5, 0xD0, 0xD0, 0x3D, 0x77,
	0x5A, 0xF9, 0x58, 0xB9, 0x4D, 0x79, 0x7F, 0x7D, 0x8C, 0xD3,
};
static const uint8_t a0_fingerprint[20] = {
	0xAE, 0xDF, 0x24, 0x3C, 0x9A, 0xBD, 0x0F, 0x38, 0xC6, 0x80,
	0xDC, 0x12, 0xB5, 0x25, 0x9F, 0x56, 0x27, 0xDC, 0x11, 0xE5,
};

static void
test_tor_dir_authority(void **state)
{
	struct config c;
	const struct config_dir_authority *a;

	(void)state;
	parse_ok(&c,
		"DirAuthority a0 orport=21100 no-v2 v3ident=19E23A2429C5D0D03D775AF958B94D797F7D8CD3 "
		"127.0.0.1:21200 AEDF 243C 9ABD 0F38 C680 DC12 B525 9F56 27DC 11E5\n"
		"DirAuthority 127.0.0.2:80 aedf243c9abd0f38c680dc12b5259f5627dc11e5\n"
		"DirAuthority Bridge1 bridge weight=2.5 hs no-hs ORPORT=443 "
		"ipv6=[2001:db8::1]:443 upload=http://10.0.0.1:80/ download=http://10.0.0.2:8080 "
		"vote=http://10.0.0.3:81 V3IDENT=19e23a2429c5d0d03d775af958b94d797f7d8cd3 "
		"10.9.8.7:9030 AEDF243C9ABD0F38C680 DC12B5259F5627DC11E5\n");
	assert_int_equal(c.tor.n_dir_authorities, 3);

	a = &c.tor.dir_authorities[0];
	assert_string_equal(a->nickname, "a0");
	assert_int_equal(a->address, 0x7f000001);
	assert_int_equal(a->dir_port, 21200);
	assert_int_equal(a->or_port, 21100);
	assert_true(a->has_v3ident);
	assert_memory_equal(a->v3ident, a0_v3ident, 20);
	assert_memory_equal(a->fingerprint, a0_fingerprint, 20);
	assert_false(a->is_bridge);
	assert_true(a->weight == 1.0);

	/* No nickname, no flags. */
	a = &c.tor.dir_authorities[1];
	assert_string_equal(a->nickname, "");
	assert_int_equal(a->address, 0x7f000002);
	assert_int_equal(a->dir_port, 80);
	assert_int_equal(a->or_port, 0);
	assert_false(a->has_v3ident);
	assert_memory_equal(a->fingerprint, a0_fingerprint, 20);

	/* Every flag tor's parse_dir_authority_line knows. */
	a = &c.tor.dir_authorities[2];
	assert_string_equal(a->nickname, "Bridge1");
	assert_true(a->is_bridge);
	assert_true(a->weight == 2.5);
	assert_int_equal(a->or_port, 443);
	assert_true(a->has_v3ident);
	assert_memory_equal(a->v3ident, a0_v3ident, 20);
	assert_int_equal(a->address, 0x0a090807);
	assert_int_equal(a->dir_port, 9030);
	assert_memory_equal(a->fingerprint, a0_fingerprint, 20);
}

/* One bad line (line 4 of a file): the whole formatted error must match. */
struct exact_case {
	const char *line;
	const char *error;
};

#define FP "AEDF243C9ABD0F38C680DC12B5259F5627DC11E5"
#define V3 "v3ident=19E23A2429C5D0D03D775AF958B94D797F7D8CD3"

static const struct exact_case tor_bad_cases[] = {
	{ "Nickname bad-name", "test.conf:4: Nickname: 'bad-name' is not a nickname: "
		"1 to 19 characters A-Z, a-z, 0-9" },
	{ "Nickname Abcdefghij0123456789", "test.conf:4: Nickname: 'Abcdefghij0123456789' "
		"is not a nickname: 1 to 19 characters A-Z, a-z, 0-9" },
	{ "Nickname two words", "test.conf:4: Nickname: 'two words' is not a nickname: "
		"1 to 19 characters A-Z, a-z, 0-9" },
	{ "Nickname", "test.conf:4: Nickname: missing value" },
	{ "ORPort auto", "test.conf:4: ORPort: auto is not supported: give a port number" },
	{ "ORPort 0", "test.conf:4: ORPort: 0 (no ORPort) is not supported: hsrelay is a relay" },
	{ "ORPort 65536", "test.conf:4: ORPort: '65536' is not a port 1..65535" },
	{ "ORPort 09001", "test.conf:4: ORPort: '09001' is not a port 1..65535" },
	{ "ORPort 10.0.0.1:0", "test.conf:4: ORPort: '0' is not a port 1..65535" },
	{ "ORPort 10.0.0.256:9001", "test.conf:4: ORPort: '10.0.0.256' is not an IPv4 address" },
	{ "ORPort relay.example:9001", "test.conf:4: ORPort: 'relay.example' is not an IPv4 address" },
	{ "ORPort [::1]:9001", "test.conf:4: ORPort: IPv6 ORPorts are not supported" },
	{ "ORPort ::1:9001", "test.conf:4: ORPort: IPv6 ORPorts are not supported" },
	{ "ORPort 9001 NoAdvertise", "test.conf:4: ORPort: flag NoAdvertise is not supported: "
		"hsrelay listens on and advertises one IPv4 ORPort" },
	{ "ORPort 9001 nolisten", "test.conf:4: ORPort: flag nolisten is not supported: "
		"hsrelay listens on and advertises one IPv4 ORPort" },
	{ "ORPort 9001 IPv6Only", "test.conf:4: ORPort: flag IPv6Only is not supported: "
		"hsrelay listens on and advertises one IPv4 ORPort" },
	{ "ORPort 9001 Fast", "test.conf:4: ORPort: unknown flag 'Fast'" },
	{ "DataDirectory ~/.tor", "test.conf:4: DataDirectory: '~' is not expanded: "
		"give an absolute path" },
	{ "ContactInfo a\tb", "test.conf:4: ContactInfo: control characters are not allowed" },
	{ "ContactInfo caf\xe9", "test.conf:4: ContactInfo: not UTF-8" },
	{ "ContactInfo \xc0\xaf", "test.conf:4: ContactInfo: not UTF-8" },
	{ "ContactInfo \xed\xa0\x80", "test.conf:4: ContactInfo: not UTF-8" },
	{ "MyFamily $painauchocolat", "test.conf:4: MyFamily: invalid nickname "
		"'$painauchocolat' in MyFamily line (a nickname or $ and 40 hex digits)" },
	{ "MyFamily good, nickname-with-dash", "test.conf:4: MyFamily: invalid nickname "
		"'nickname-with-dash' in MyFamily line (a nickname or $ and 40 hex digits)" },
	{ "MyFamily AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~", "test.conf:4: MyFamily: invalid "
		"nickname 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~' in MyFamily line (a "
		"nickname or $ and 40 hex digits)" },
	{ "FamilyId 295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3E", "test.conf:4: FamilyId: "
		"'295XfNtUstN9meiPs1jf34Puv63oyQjaDv5oWkEj3E' is not a family ID (43 base64 "
		"characters, as tor --keygen-family prints it) or *" },
	{ "FamilyKeyDirectory ~/keys", "test.conf:4: FamilyKeyDirectory: '~' is not "
		"expanded: give an absolute path" },
	{ "TestingTorNetwork yes", "test.conf:4: TestingTorNetwork: 'yes' is not 0 or 1" },
	{ "TestingTorNetwork 2", "test.conf:4: TestingTorNetwork: '2' is not 0 or 1" },
	{ "AssumeReachable true", "test.conf:4: AssumeReachable: 'true' is not 0 or 1" },
	{ "PublishServerDescriptor bridge", "test.conf:4: PublishServerDescriptor: 'bridge' "
		"is not 0, 1 or v3 (hsrelay is not a bridge)" },
	{ "ExitRelay 1", "test.conf:4: ExitRelay: '1' is not supported: hsrelay is a non-exit "
		"relay (ExitRelay 0)" },
	{ "ExitRelay auto", "test.conf:4: ExitRelay: 'auto' is not supported: hsrelay is a "
		"non-exit relay (ExitRelay 0)" },
	{ "ExitPolicy accept *:80", "test.conf:4: ExitPolicy: 'accept *:80' is not supported: "
		"hsrelay is a non-exit relay (ExitPolicy reject *:*)" },
	{ "ExitPolicy reject *:*, accept *:*", "test.conf:4: ExitPolicy: ' accept *:*' is not "
		"supported: hsrelay is a non-exit relay (ExitPolicy reject *:*)" },
	{ "ExitPolicy reject 10.0.0.0/8:*", "test.conf:4: ExitPolicy: 'reject 10.0.0.0/8:*' is "
		"not supported: hsrelay is a non-exit relay (ExitPolicy reject *:*)" },
	{ "BandwidthRate fast", "test.conf:4: BandwidthRate: 'fast' is not a number with a "
		"unit such as 75 KBytes or 10 MBits" },
	{ "BandwidthRate -1 KBytes", "test.conf:4: BandwidthRate: '-1 KBytes' is not a number "
		"with a unit such as 75 KBytes or 10 MBits" },
	{ "BandwidthRate 10 KiB", "test.conf:4: BandwidthRate: unknown unit 'KiB' (bytes, "
		"KBytes, MBytes, GBytes, TBytes, KBits, MBits, GBits, TBits)" },
	{ "BandwidthRate 10 k", "test.conf:4: BandwidthRate: unknown unit 'k' (bytes, "
		"KBytes, MBytes, GBytes, TBytes, KBits, MBits, GBits, TBits)" },
	{ "BandwidthBurst 3 GBytes", "test.conf:4: BandwidthBurst: 3 GBytes is more than "
		"2147483647 bytes" },
	{ "BandwidthBurst 2147483649", "test.conf:4: BandwidthBurst: 2147483649 is more than "
		"2147483647 bytes" },
	{ "BandwidthBurst 2.5 GBytes", "test.conf:4: BandwidthBurst: 2.5 GBytes is more than "
		"2147483647 bytes" },
	{ "BandwidthBurst 1 TBits", "test.conf:4: BandwidthBurst: 1 TBits is more than "
		"2147483647 bytes" },
	{ "BandwidthBurst 99999999999999999999999", "test.conf:4: BandwidthBurst: "
		"99999999999999999999999 is more than 2147483647 bytes" },
	{ "RelayBandwidthRate fast", "test.conf:4: RelayBandwidthRate: 'fast' is not a number "
		"with a unit such as 75 KBytes or 10 MBits" },
	{ "RelayBandwidthRate -1", "test.conf:4: RelayBandwidthRate: '-1' is not a number "
		"with a unit such as 75 KBytes or 10 MBits" },
	{ "RelayBandwidthRate 3 GBytes", "test.conf:4: RelayBandwidthRate: 3 GBytes is more "
		"than 2147483647 bytes" },
	{ "RelayBandwidthRate 2147483649", "test.conf:4: RelayBandwidthRate: 2147483649 is "
		"more than 2147483647 bytes" },
	{ "RelayBandwidthBurst 10 KiB", "test.conf:4: RelayBandwidthBurst: unknown unit 'KiB' "
		"(bytes, KBytes, MBytes, GBytes, TBytes, KBits, MBits, GBits, TBits)" },
	{ "RelayBandwidthBurst 2.5 GBytes", "test.conf:4: RelayBandwidthBurst: 2.5 GBytes is "
		"more than 2147483647 bytes" },
	{ "MaxAdvertisedBandwidth lots", "test.conf:4: MaxAdvertisedBandwidth: 'lots' is not "
		"a number with a unit such as 75 KBytes or 10 MBits" },
	{ "MaxAdvertisedBandwidth 1 TBits", "test.conf:4: MaxAdvertisedBandwidth: 1 TBits is "
		"more than 2147483647 bytes" },
	{ "MaxAdvertisedBandwidth 10 k", "test.conf:4: MaxAdvertisedBandwidth: unknown unit "
		"'k' (bytes, KBytes, MBytes, GBytes, TBytes, KBits, MBits, GBits, TBits)" },
	{ "MetricsPort 9035 json", "test.conf:4: MetricsPort: unknown format 'json': only "
		"prometheus" },
	{ "MetricsPort 127.0.0.1:9035 prometheus x", "test.conf:4: MetricsPort: expected "
		"[address:]port [prometheus]" },
	{ "MetricsPort [::1]:9035", "test.conf:4: MetricsPort: IPv6 addresses are not supported" },
	{ "MetricsPort localhost:9035", "test.conf:4: MetricsPort: 'localhost' is not an "
		"IPv4 address" },
	{ "MetricsPort 127.0.0.1:0", "test.conf:4: MetricsPort: '0' is not a port 1..65535" },
	{ "MetricsPort 70000", "test.conf:4: MetricsPort: '70000' is not a port 0..65535" },
	{ "MetricsPortPolicy allow 127.0.0.1", "test.conf:4: MetricsPortPolicy: 'allow' is "
		"not accept or reject" },
	{ "MetricsPortPolicy accept", "test.conf:4: MetricsPortPolicy: 'accept' is not "
		"'accept|reject address[/bits]'" },
	{ "MetricsPortPolicy accept 127.0.0.1,", "test.conf:4: MetricsPortPolicy: '' is not "
		"'accept|reject address[/bits]'" },
	{ "MetricsPortPolicy accept6 [::1]", "test.conf:4: MetricsPortPolicy: IPv6 entries "
		"(accept6) are not supported" },
	{ "MetricsPortPolicy accept [::1]", "test.conf:4: MetricsPortPolicy: IPv6 addresses "
		"are not supported" },
	{ "MetricsPortPolicy reject *6", "test.conf:4: MetricsPortPolicy: IPv6 addresses are "
		"not supported" },
	{ "MetricsPortPolicy reject private", "test.conf:4: MetricsPortPolicy: 'private' is "
		"not supported: list the networks" },
	{ "MetricsPortPolicy accept 10.0.0.0/255.0.0.0", "test.conf:4: MetricsPortPolicy: "
		"only /bits masks are supported, not /255.0.0.0" },
	{ "MetricsPortPolicy accept 10.0.0.0/33", "test.conf:4: MetricsPortPolicy: mask "
		"'/33' is not 0..32" },
	{ "MetricsPortPolicy accept 10.0.0:80", "test.conf:4: MetricsPortPolicy: '10.0.0' "
		"is not an IPv4 address" },
	{ "MetricsPortPolicy accept 10.0.0.1:80-20", "test.conf:4: MetricsPortPolicy: bad "
		"port in 'accept 10.0.0.1:80-20'" },
	{ "Log", "test.conf:4: Log: missing value" },
	{ "Log loud stdout", "test.conf:4: Log: 'loud' is not a severity or range of debug, "
		"info, notice, warn, err" },
	{ "Log notice- stdout", "test.conf:4: Log: 'notice-' is not a severity or range of "
		"debug, info, notice, warn, err" },
	{ "Log err-debug stdout", "test.conf:4: Log: range 'err-debug' is empty: put the "
		"less severe level first" },
	{ "Log [handshake]debug stdout", "test.conf:4: Log: logging domains ([...]) are not "
		"supported" },
	{ "Log notice file", "test.conf:4: Log: file needs a file name" },
	{ "Log notice printer", "test.conf:4: Log: 'printer' is not stdout, stderr, syslog or "
		"file FILENAME" },
	{ "Log notice stdout stderr", "test.conf:4: Log: 'stdout stderr' is not stdout, "
		"stderr, syslog or file FILENAME" },
	{ "Log info notice stdout", "test.conf:4: Log: 'notice stdout' is not stdout, stderr, "
		"syslog or file FILENAME" },
	{ "Log notice file ~/tor.log", "test.conf:4: Log: '~' is not expanded: give an "
		"absolute path" },
	{ "MaxCircuitsPerWorker 0", "test.conf:4: MaxCircuitsPerWorker: 0 is out of range "
		"1..16777216" },
	{ "MaxCircuitsPerWorker 16777217", "test.conf:4: MaxCircuitsPerWorker: 16777217 is out "
		"of range 1..16777216" },
	{ "MaxLinksPerWorker 65536", "test.conf:4: MaxLinksPerWorker: 65536 is out of range "
		"1..65535" },
	{ "MaxLinksPerWorker many", "test.conf:4: MaxLinksPerWorker: 'many' is not a decimal "
		"number" },
	{ "MaxHSDirCacheBytes lots", "test.conf:4: MaxHSDirCacheBytes: 'lots' is not a number "
		"with a unit such as 512 MBytes" },
	{ "MaxHSDirCacheBytes 5 parsecs", "test.conf:4: MaxHSDirCacheBytes: unknown unit "
		"'parsecs' (bytes, KBytes, MBytes, GBytes, TBytes)" },
	{ "MaxHSDirCacheBytes 99999999999 TB", "test.conf:4: MaxHSDirCacheBytes: 99999999999 TB "
		"is too large" },
	{ "DirAuthority a0 127.0.0.1:21200", "test.conf:4: DirAuthority: expected [nickname] "
		"[flags] address:dirport fingerprint" },
	{ "DirAuthority a0", "test.conf:4: DirAuthority: expected [nickname] [flags] "
		"address:dirport fingerprint" },
	{ "DirAuthority a0 fast 127.0.0.1:21200 " FP, "test.conf:4: DirAuthority: unknown "
		"flag 'fast'" },
	{ "DirAuthority a0 orport=0 127.0.0.1:21200 " FP, "test.conf:4: DirAuthority: orport "
		"'0' is not a port 1..65535" },
	{ "DirAuthority a0 orport=x 127.0.0.1:21200 " FP, "test.conf:4: DirAuthority: orport "
		"'x' is not a port 1..65535" },
	{ "DirAuthority a0 weight=-1 127.0.0.1:21200 " FP, "test.conf:4: DirAuthority: weight "
		"'-1' is not a non-negative number" },
	{ "DirAuthority a0 v3ident=19E23A 127.0.0.1:21200 " FP, "test.conf:4: DirAuthority: "
		"v3ident '19E23A' is not 40 hex digits" },
	{ "DirAuthority a0 v3ident=19E23A2429C5D0D03D775AF958B94D797F7D8CDZ 127.0.0.1:21200 "
		FP, "test.conf:4: DirAuthority: v3ident '19E23A2429C5D0D03D775AF958B94D797F7D8CDZ' "
		"is not 40 hex digits" },
	{ "DirAuthority a0 ipv6=::1:443 127.0.0.1:21200 " FP, "test.conf:4: DirAuthority: "
		"ipv6 '::1:443' is not [IPv6 address]:port" },
	{ "DirAuthority a0 ipv6=[::1]:443 ipv6=[::2]:443 127.0.0.1:21200 " FP,
		"test.conf:4: DirAuthority: ipv6= given twice" },
	{ "DirAuthority a0 upload=https://10.0.0.1:443 127.0.0.1:21200 " FP,
		"test.conf:4: DirAuthority: 'upload=https://10.0.0.1:443' is not a "
		"flag=http://IPv4:port URL" },
	{ "DirAuthority a0 vote=http://10.0.0.1:80/tor 127.0.0.1:21200 " FP,
		"test.conf:4: DirAuthority: 'vote=http://10.0.0.1:80/tor' is not a "
		"flag=http://IPv4:port URL" },
	{ "DirAuthority a0 127.0.0.1 " FP, "test.conf:4: DirAuthority: '127.0.0.1' is not "
		"an IPv4 address:dirport" },
	{ "DirAuthority a0 127.0.0.1:0 " FP, "test.conf:4: DirAuthority: '127.0.0.1:0' is "
		"not an IPv4 address:dirport" },
	{ "DirAuthority a0 1.2.3:80 " FP, "test.conf:4: DirAuthority: '1.2.3:80' is not an "
		"IPv4 address:dirport" },
	{ "DirAuthority a0 " V3 " 127.0.0.1:21200 AEDF243C", "test.conf:4: DirAuthority: the "
		"fingerprint is not 40 hex digits" },
	{ "DirAuthority a0 127.0.0.1:21200 " FP " 00", "test.conf:4: DirAuthority: the "
		"fingerprint is not 40 hex digits" },
	{ "DirAuthority a0 127.0.0.1:21200 AEDF243C9ABD0F38C680DC12B5259F5627DC11EG",
		"test.conf:4: DirAuthority: the fingerprint is not 40 hex digits" },
	{ "DirAuthority a0 " V3 " 127.0.0.1:21200 \"" FP "\"", "test.conf:4: DirAuthority: "
		"the fingerprint is not 40 hex digits" },
	{ "Nickname \"quoted\"", "test.conf:4: Nickname: line continuations and quoted values "
		"are not supported" },
	{ "SocksPort 9050", "test.conf:4: SocksPort: unknown key" },
	{ "DoSCircuitCreationEnabled yes", "test.conf:4: DoSCircuitCreationEnabled: 'yes' is "
		"not 0, 1 or auto" },
	{ "DoSCircuitCreationBurst -1", "test.conf:4: DoSCircuitCreationBurst: integer -1 is "
		"malformed or out of bounds 0..2147483647" },
	{ "DoSConnectionDefenseType 2147483648", "test.conf:4: DoSConnectionDefenseType: "
		"integer 2147483648 is malformed or out of bounds -2147483648..2147483647" },
	{ "DoSCircuitCreationDefenseTimePeriod 1 fortnight", "test.conf:4: "
		"DoSCircuitCreationDefenseTimePeriod: unknown unit in 1 fortnight (seconds, "
		"minutes, hours, days, weeks, months)" },
	{ "CountPrivateBandwidth 2", "test.conf:4: CountPrivateBandwidth: '2' is not 0 or 1" },
	{ "CountPrivateBandwidth yes", "test.conf:4: CountPrivateBandwidth: 'yes' is not 0 "
		"or 1" },
	{ "TokenBucketRefillInterval 0", "test.conf:4: TokenBucketRefillInterval: 0 is 0 msec: "
		"must be between 1 and 1000 inclusive" },
	{ "TokenBucketRefillInterval 1001", "test.conf:4: TokenBucketRefillInterval: 1001 is "
		"1001 msec: must be between 1 and 1000 inclusive" },
	{ "TokenBucketRefillInterval 2 seconds", "test.conf:4: TokenBucketRefillInterval: "
		"2 seconds is 2000 msec: must be between 1 and 1000 inclusive" },
	{ "TokenBucketRefillInterval 0.5 msec", "test.conf:4: TokenBucketRefillInterval: "
		"0.5 msec is 0 msec: must be between 1 and 1000 inclusive" },
	{ "TokenBucketRefillInterval abc", "test.conf:4: TokenBucketRefillInterval: unable "
		"to parse abc as a number" },
	{ "TokenBucketRefillInterval 5 parsecs", "test.conf:4: TokenBucketRefillInterval: "
		"unknown unit in 5 parsecs (msec, seconds, minutes, hours, days, weeks)" },
	{ "TokenBucketRefillInterval 1 month", "test.conf:4: TokenBucketRefillInterval: "
		"unknown unit in 1 month (msec, seconds, minutes, hours, days, weeks)" },
	{ "TokenBucketRefillInterval 4 weeks", "test.conf:4: TokenBucketRefillInterval: "
		"4 weeks is too large" },
	{ "TokenBucketRefillInterval -5", "test.conf:4: TokenBucketRefillInterval: overflow "
		"while parsing -5" },
	{ "DoSConnectionConnectDefenseTimePeriod 25000 days", "test.conf:4: "
		"DoSConnectionConnectDefenseTimePeriod: 25000 days is too large" },
	{ "DoSConnectionConnectDefenseTimePeriod -5", "test.conf:4: "
		"DoSConnectionConnectDefenseTimePeriod: overflow while parsing -5" },
	/* The accounting keys: tor's words (options_validate_relay_accounting(),
	 * accounting_parse_options()). */
	{ "AccountingMax lots", "test.conf:4: AccountingMax: 'lots' is not a number with a "
		"unit such as 512 MBytes" },
	{ "AccountingMax 5 KiB", "test.conf:4: AccountingMax: unknown unit 'KiB' (bytes, "
		"KBytes, MBytes, GBytes, TBytes)" },
	{ "AccountingMax 8388608 TB", "test.conf:4: AccountingMax: 8388608 TB is too large" },
	{ "AccountingMax -1 GB", "test.conf:4: AccountingMax: -1 GB is too large" },
	{ "AccountingRule both", "test.conf:4: AccountingRule: AccountingRule must be 'sum', "
		"'max', 'in', or 'out', not 'both'" },
	{ "AccountingRule MAX", "test.conf:4: AccountingRule: AccountingRule must be 'sum', "
		"'max', 'in', or 'out', not 'MAX'" },
	{ "AccountingRule sum max", "test.conf:4: AccountingRule: AccountingRule must be "
		"'sum', 'max', 'in', or 'out', not 'sum max'" },
	{ "AccountingStart month 29 00:00", "test.conf:4: AccountingStart: Monthly accounting "
		"must begin on a day between 1 and 28" },
	{ "AccountingStart month 0 00:00", "test.conf:4: AccountingStart: Monthly accounting "
		"must begin on a day between 1 and 28" },
	{ "AccountingStart month 1x 00:00", "test.conf:4: AccountingStart: Monthly accounting "
		"must begin on a day between 1 and 28" },
	{ "AccountingStart week 0 00:00", "test.conf:4: AccountingStart: Weekly accounting "
		"must begin on a day between 1 (Monday) and 7 (Sunday)" },
	{ "AccountingStart week 8 00:00", "test.conf:4: AccountingStart: Weekly accounting "
		"must begin on a day between 1 (Monday) and 7 (Sunday)" },
	{ "AccountingStart day 24:00", "test.conf:4: AccountingStart: Accounting start time "
		"not parseable: bad hour." },
	{ "AccountingStart day 12:60", "test.conf:4: AccountingStart: Accounting start time "
		"not parseable: bad minute" },
	{ "AccountingStart day 12", "test.conf:4: AccountingStart: Accounting start time "
		"not parseable: not in HH:MM format" },
	{ "AccountingStart day 12:5x", "test.conf:4: AccountingStart: Accounting start time "
		"not parseable: not in HH:MM format" },
	{ "AccountingStart year 1 00:00", "test.conf:4: AccountingStart: Unrecognized "
		"accounting unit 'year': only 'month', 'week', and 'day' are supported." },
	{ "AccountingStart month 1", "test.conf:4: AccountingStart: Accounting unit 'month' "
		"requires 2 arguments." },
	{ "AccountingStart week 3 10:00 11:00", "test.conf:4: AccountingStart: Accounting "
		"unit 'week' requires 2 arguments." },
	{ "AccountingStart day 04:30 x", "test.conf:4: AccountingStart: Accounting unit 'day' "
		"requires 1 argument." },
	{ "AccountingStart month", "test.conf:4: AccountingStart: Too few arguments to "
		"AccountingStart" },
};

static void
test_tor_bad_values_exact(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tor_bad_cases) / sizeof(tor_bad_cases[0]); i++) {
		char text[1024], formatted[512];
		struct config c;
		struct config_error err;

		snprintf(text, sizeof(text),
				"# line 1\nNickname good\nORPort 9001\n%s\nContactInfo x\n",
				tor_bad_cases[i].line);
		/* The first three lines would clash with some cases' keys. */
		if (strncasecmp(tor_bad_cases[i].line, "Nickname", 8) == 0 ||
				strncasecmp(tor_bad_cases[i].line, "ORPort", 6) == 0)
			snprintf(text, sizeof(text), "# line 1\n\n# 3\n%s\nContactInfo x\n",
					tor_bad_cases[i].line);
		assert_int_equal(parse(&c, text, &err), -EINVAL);
		config_error_format(&err, formatted, sizeof(formatted));
		if (strcmp(formatted, tor_bad_cases[i].error) != 0)
			fail_msg("case '%s':\n got      '%s'\n expected '%s'", tor_bad_cases[i].line,
					formatted, tor_bad_cases[i].error);
		assert_int_equal(err.line, 4);
		assert_string_equal(err.file, "test.conf");
	}
}

static void
test_tor_limits_and_repeats(void **state)
{
	struct config c;
	struct config_error err;
	char text[8192] = "";
	char formatted[512];

	(void)state;
	/* Single-valued Tor keys refuse a second line, naming the first. */
	assert_int_equal(parse(&c, "Nickname a\nNickname b\n", &err), -EINVAL);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_string_equal(formatted, "test.conf:2: Nickname: given twice (first on line 1)");
	assert_int_equal(parse(&c, "ORPort 1\n\norport 2\n", &err), -EINVAL);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_string_equal(formatted, "test.conf:3: ORPort: given twice (first on line 1)");
	/* The accounting keys too (tor would warn and keep the last line). */
	assert_int_equal(parse(&c, "AccountingMax 1 TB\nAccountingMax 2 TB\n", &err), -EINVAL);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_string_equal(formatted, "test.conf:2: AccountingMax: given twice (first on line 1)");
	assert_int_equal(parse(&c, "AccountingRule sum\n# x\naccountingrule sum\n", &err),
			-EINVAL);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_string_equal(formatted, "test.conf:3: AccountingRule: given twice (first on "
			"line 1)");
	assert_int_equal(parse(&c, "# x\nAccountingStart day 01:00\nAccountingStart day 02:00\n",
				&err), -EINVAL);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_string_equal(formatted, "test.conf:3: AccountingStart: given twice (first on "
			"line 2)");
	/* A bad first line is the error, not a repeat (its line is not kept). */
	assert_int_equal(parse(&c, "AccountingRule both\nAccountingRule sum\n", &err), -EINVAL);
	assert_int_equal(err.line, 1);

	/* DirAuthority repeats up to CONFIG_DIR_AUTHORITIES_MAX. */
	for (int i = 0; i < CONFIG_DIR_AUTHORITIES_MAX + 1; i++) {
		char line[256];

		snprintf(line, sizeof(line), "DirAuthority auth%d orport=%d " V3
				" 127.0.0.1:%d " FP "\n", i, 5000 + i, 6000 + i);
		strcat(text, line);
	}
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_string_equal(formatted, "test.conf:17: DirAuthority: more than 16 authorities");
	assert_int_equal(c.tor.n_dir_authorities, CONFIG_DIR_AUTHORITIES_MAX);
	for (int i = 0; i < CONFIG_DIR_AUTHORITIES_MAX; i++) {
		char nick[16];

		snprintf(nick, sizeof(nick), "auth%d", i);
		assert_string_equal(c.tor.dir_authorities[i].nickname, nick);
		assert_int_equal(c.tor.dir_authorities[i].or_port, 5000 + i);
		assert_int_equal(c.tor.dir_authorities[i].dir_port, 6000 + i);
	}

	/* Log and MetricsPortPolicy limits. */
	text[0] = '\0';
	for (int i = 0; i < CONFIG_LOGS_MAX + 1; i++)
		strcat(text, "Log notice stderr\n");
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_string_equal(formatted, "test.conf:9: Log: more than 8 Log lines");
	text[0] = '\0';
	for (int i = 0; i < CONFIG_POLICY_MAX / 2; i++)
		strcat(text, "MetricsPortPolicy accept 10.0.0.1, reject *\n");
	strcat(text, "MetricsPortPolicy accept 10.0.0.2\n");
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	config_error_format(&err, formatted, sizeof(formatted));
	assert_string_equal(formatted, "test.conf:17: MetricsPortPolicy: more than 32 entries");
}

/* Reads the realistic relay file from the vectors directory. */
static const char *vectors_dir = ".";

static void
test_tor_full_relay_file(void **state)
{
	char path[512];
	struct config c;
	struct config_error err;
	char formatted[512];
	const struct config_dir_authority *a;

	(void)state;
	snprintf(path, sizeof(path), "%s/relay.conf", vectors_dir);
	config_init(&c);
	if (config_parse_file(&c, path, &err) != 0) {
		config_error_format(&err, formatted, sizeof(formatted));
		fail_msg("%s", formatted);
	}
	assert_int_equal(config_check_relay(&c, path, &err), 0);
	assert_string_equal(c.tor.nickname, "hsrelay0");
	assert_true(c.tor.has_or_port);
	assert_false(c.tor.or_port_has_address);
	assert_int_equal(c.tor.or_port, 9001);
	assert_string_equal(c.tor.data_directory, "/var/lib/hsrelay");
	assert_string_equal(c.tor.contact_info, "hsrelay0 <operator@test.invalid>");
	assert_true(c.tor.testing_tor_network);
	assert_true(c.tor.assume_reachable);
	assert_true(c.tor.publish_server_descriptor);
	assert_int_equal(c.tor.bandwidth_rate, 10u << 20);
	assert_int_equal(c.tor.bandwidth_burst, 20u << 20);
	/* RelayBandwidthBurst takes RelayBandwidthRate's value; the descriptor
	 * advertises MaxAdvertisedBandwidth and the relay burst. */
	assert_int_equal(c.tor.relay_bandwidth_rate, 5u << 20);
	assert_int_equal(c.tor.relay_bandwidth_burst, 5u << 20);
	assert_int_equal(c.tor.max_advertised_bandwidth, 4u << 20);
	{
		uint64_t rate, burst;

		config_effective_bandwidth(&c.tor, &rate, &burst);
		assert_int_equal(rate, 4u << 20);
		assert_int_equal(burst, 5u << 20);
	}
	/* Not in the file: TestingTorNetwork's default, and tor's. */
	assert_int_equal(c.tor.count_private_bandwidth, 1);
	assert_int_equal(c.tor.token_bucket_refill_interval_ms, 100);
	assert_int_equal(c.tor.n_logs, 2);
	assert_string_equal(c.tor.logs[0].path, "/var/lib/hsrelay/notice.log");
	assert_int_equal(c.tor.logs[1].dest, CONFIG_LOG_STDERR);
	assert_true(c.tor.has_metrics_port);
	assert_int_equal(c.tor.metrics_port, 9035);
	assert_int_equal(c.tor.metrics_policy.n_entries, 3);
	assert_true(config_policy_allows(&c.tor.metrics_policy, 0x7f000001));
	assert_true(config_policy_allows(&c.tor.metrics_policy, 0x0a4d0909));
	assert_false(config_policy_allows(&c.tor.metrics_policy, 0x0b000001));
	assert_int_equal(c.tor.max_circuits_per_worker, 32768);
	assert_int_equal(c.tor.max_links_per_worker, 1024);
	assert_int_equal(c.tor.n_dir_authorities, 3);
	a = &c.tor.dir_authorities[0];
	assert_string_equal(a->nickname, "a0");
	assert_memory_equal(a->v3ident, a0_v3ident, 20);
	assert_memory_equal(a->fingerprint, a0_fingerprint, 20);
	a = &c.tor.dir_authorities[2];
	assert_string_equal(a->nickname, "a2");
	assert_int_equal(a->or_port, 21102);
	assert_int_equal(a->dir_port, 21202);
	assert_memory_equal(a->fingerprint, ((const uint8_t[]){ 0x18, 0xCA, 0x6C, 0x09,
			0xC7, 0xD5, 0x0F, 0x2C, 0x4B, 0xEC, 0x90, 0x43, 0x94, 0x93, 0xEA, 0x58,
			0x90, 0xE1, 0x03, 0xB6 }), 20);
	assert_int_equal(c.dpdk.address, 0x0a4d0102);
}

/* config_check_relay names the first missing key, in its documented order. */
static void
test_tor_check_relay(void **state)
{
	static const char base[] =
		"DPDKPort net_null0\nAddress 10.77.1.2/24\n";
	static const struct {
		const char *text;
		const char *error;
	} cases[] = {
		{ "", "r.conf: DPDKPort: required: at least one port" },
		{ "DPDKPort net_null0\n", "r.conf: Address: required: the dataplane's IPv4 "
			"address/prefix" },
		{ "", "r.conf: Nickname: required: the relay's nickname" },
		{ "Nickname r\n", "r.conf: ORPort: required: the port relays and clients connect to" },
		{ "Nickname r\nORPort 9001\n", "r.conf: DataDirectory: required: where the relay "
			"keeps its keys and state" },
		{ "Nickname r\nORPort 10.77.1.3:9001\nDataDirectory /d\n", "r.conf: ORPort: address "
			"10.77.1.3 is not the dataplane's Address 10.77.1.2: give the port alone" },
		{ "Nickname r\nORPort 9001\nDataDirectory /d\n", "r.conf: DirAuthority: required: "
			"hsrelay has no built-in list of directory authorities" },
		{ "Nickname r\nORPort 9001\nDataDirectory /d\nTestingTorNetwork 1\n", "r.conf: "
			"DirAuthority: required: hsrelay has no built-in list of directory authorities" },
		{ "Nickname r\nORPort 9001\nDataDirectory /d\nDirAuthority 127.0.0.1:1 " FP "\n"
			"DirAuthority b bridge " V3 " 127.0.0.1:2 " FP "\n",
			"r.conf: DirAuthority: required: at least one with v3ident= (relays upload "
			"descriptors to v3 authorities only)" },
		{ "Nickname r\nORPort 9001\nDataDirectory /d\nDirAuthority " V3 " 127.0.0.1:1 " FP
			"\nBandwidthRate 76799\n", "r.conf: BandwidthRate: 76799 bytes/s is below "
			"the 76800 a relay needs" },
		{ "Nickname r\nORPort 9001\nDataDirectory /d\nDirAuthority " V3 " 127.0.0.1:1 " FP
			"\nBandwidthRate 2 MBytes\nBandwidthBurst 1 MBytes\n", "r.conf: "
			"BandwidthBurst: must be at least BandwidthRate" },
		{ "Nickname r\nORPort 9001\nDataDirectory /d\nDirAuthority " V3 " 127.0.0.1:1 " FP
			"\nMetricsPort 9035\n", "r.conf: MetricsPortPolicy: required with MetricsPort "
			"(without it every request is refused)" },
		/* These pass. */
		{ "Nickname r\nORPort 9001\nDataDirectory /d\nDirAuthority " V3 " 127.0.0.1:1 " FP
			"\nMetricsPort 9035\nMetricsPortPolicy accept 127.0.0.1\n", NULL },
		{ "Nickname r\nORPort 10.77.1.2:9001\nDataDirectory /d\nDirAuthority " V3
			" 127.0.0.1:1 " FP "\nBandwidthRate 75 KBytes\nBandwidthBurst 75 KBytes\n", NULL },
		{ "Nickname r\nORPort 0.0.0.0:9001\nDataDirectory /d\nDirAuthority " V3
			" 127.0.0.1:1 " FP "\n", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[2048], formatted[512];
		struct config c;
		struct config_error err;

		snprintf(text, sizeof(text), "%s%s", i >= 2 ? base : "", cases[i].text);
		if (i < 2)
			snprintf(text, sizeof(text), "%s", cases[i].text);
		if (parse(&c, text, &err) != 0) {
			config_error_format(&err, formatted, sizeof(formatted));
			fail_msg("case %zu does not parse: %s", i, formatted);
		}
		memset(&err, 0, sizeof(err));
		if (!cases[i].error) {
			if (config_check_relay(&c, "r.conf", &err) != 0) {
				config_error_format(&err, formatted, sizeof(formatted));
				fail_msg("case %zu refused: %s", i, formatted);
			}
			continue;
		}
		assert_int_equal(config_check_relay(&c, "r.conf", &err), -EINVAL);
		assert_int_equal(err.line, 0);
		config_error_format(&err, formatted, sizeof(formatted));
		if (strcmp(formatted, cases[i].error) != 0)
			fail_msg("case %zu:\n got      '%s'\n expected '%s'", i, formatted,
					cases[i].error);
	}
}

static uint64_t
accounting_max_of(const struct config *c)
{
	return c->tor.accounting_max;
}

/* AccountingMax (tor's MEMUNIT, no bandwidth cap), AccountingRule (four
 * words, case-sensitive) and AccountingStart (every form tor's
 * accounting_parse_options() takes); none of them needs another key, and
 * config_check_relay() keeps them as parsed. */
static void
test_tor_accounting(void **state)
{
	static const struct {
		const char *value;
		uint64_t bytes;
	} maxes[] = {
		{ "500 GBytes", 500ull << 30 },
		{ "1 TB", 1ull << 40 },
		{ "1 terabyte", 1ull << 40 },
		{ "40 GB", 40ull << 30 },
		{ "4 GB", 4ull << 30 },
		{ "3 GBytes", 3ull << 30 },		/* above the bandwidth keys' cap */
		{ "0 bytes", 0 },
		{ "1.5 TBytes", 3ull << 39 },
		{ "8 TBits", 1ull << 40 },
	};
	static const struct {
		const char *value;
		enum accounting_rule rule;
	} rules[] = {
		{ "sum", ACCOUNTING_RULE_SUM },
		{ "max", ACCOUNTING_RULE_MAX },
		{ "in", ACCOUNTING_RULE_IN },
		{ "out", ACCOUNTING_RULE_OUT },
	};
	static const struct {
		const char *value;
		enum accounting_unit unit;
		int day, hour, minute;
	} starts[] = {
		{ "month 1 00:00", ACCOUNTING_UNIT_MONTH, 1, 0, 0 },
		{ "month 3 15:00", ACCOUNTING_UNIT_MONTH, 3, 15, 0 },
		{ "month 28 23:59", ACCOUNTING_UNIT_MONTH, 28, 23, 59 },
		{ "Month 01 0:0", ACCOUNTING_UNIT_MONTH, 1, 0, 0 },
		{ "week 1 00:00", ACCOUNTING_UNIT_WEEK, 1, 0, 0 },
		{ "week 7 00:00", ACCOUNTING_UNIT_WEEK, 7, 0, 0 },
		{ "WEEK   4\t12:30", ACCOUNTING_UNIT_WEEK, 4, 12, 30 },
		{ "day 04:30", ACCOUNTING_UNIT_DAY, 0, 4, 30 },
		{ "day 00:00", ACCOUNTING_UNIT_DAY, 0, 0, 0 },
		{ "DAY 23:59", ACCOUNTING_UNIT_DAY, 0, 23, 59 },
		/* tor_parse_long() is strtol: a sign is taken. */
		{ "day +4:-0", ACCOUNTING_UNIT_DAY, 0, 4, 0 },
	};
	static const char relay[] =
		"DPDKPort net_null0\nAddress 10.77.1.2/24\nNickname r\nORPort 9001\n"
		"DataDirectory /d\nDirAuthority " V3 " 127.0.0.1:1 " FP "\n";
	struct config c;
	struct config_error err;
	char line[128], text[1024];

	(void)state;
	check_memunit_key("AccountingMax", accounting_max_of);
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		snprintf(line, sizeof(line), "AccountingMax %s", maxes[i].value);
		parse_ok(&c, line);
		if (c.tor.accounting_max != maxes[i].bytes)
			fail_msg("'%s': %llu bytes, expected %llu", line,
					(unsigned long long)c.tor.accounting_max,
					(unsigned long long)maxes[i].bytes);
		/* The other two keep their defaults. */
		assert_int_equal(c.tor.accounting_rule, ACCOUNTING_RULE_MAX);
		assert_int_equal(c.tor.accounting_start.unit, ACCOUNTING_UNIT_MONTH);
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		snprintf(line, sizeof(line), "AccountingRule %s   # comment", rules[i].value);
		parse_ok(&c, line);
		assert_int_equal(c.tor.accounting_rule, rules[i].rule);
		assert_true(c.tor.accounting_max == 0);
	}
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		snprintf(line, sizeof(line), "accountingstart %s", starts[i].value);
		parse_ok(&c, line);
		if (c.tor.accounting_start.unit != starts[i].unit ||
				c.tor.accounting_start.day != starts[i].day ||
				c.tor.accounting_start.hour != starts[i].hour ||
				c.tor.accounting_start.minute != starts[i].minute)
			fail_msg("'%s': unit %d day %d %02d:%02d", line,
					(int)c.tor.accounting_start.unit,
					c.tor.accounting_start.day, c.tor.accounting_start.hour,
					c.tor.accounting_start.minute);
	}

	/* All three on a relay: config_check_relay() accepts and keeps them. */
	snprintf(text, sizeof(text), "%sAccountingMax 500 GBytes\nAccountingRule in\n"
			"AccountingStart week 7 23:59\n", relay);
	assert_int_equal(parse(&c, text, &err), 0);
	assert_int_equal(config_check_relay(&c, "r.conf", &err), 0);
	assert_true(c.tor.accounting_max == 500ull << 30);
	assert_int_equal(c.tor.accounting_rule, ACCOUNTING_RULE_IN);
	assert_int_equal(c.tor.accounting_start.unit, ACCOUNTING_UNIT_WEEK);
	assert_int_equal(c.tor.accounting_start.day, 7);
	assert_int_equal(c.tor.accounting_start.hour, 23);
	assert_int_equal(c.tor.accounting_start.minute, 59);
	/* A bad AccountingStart is refused without AccountingMax, as tor
	 * checks it then too; the error names its line (7). */
	snprintf(text, sizeof(text), "%sAccountingStart day 12:60\n", relay);
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	assert_int_equal(err.line, 7);
	assert_string_equal(err.key, "AccountingStart");
	assert_string_equal(err.message, "Accounting start time not parseable: bad minute");
}

/* TokenBucketRefillInterval is tor's MSEC_INTERVAL (config_parse_units()
 * with time_msec_units): a bare number is milliseconds, units in any case,
 * a fraction truncated after the unit is applied. */
static void
test_tor_token_bucket_refill_interval(void **state)
{
	static const struct {
		const char *value;
		uint32_t ms;
	} cases[] = {
		{ "10 msec", 10 },
		{ "1 second", 1000 },
		{ "1000", 1000 },
		{ "1", 1 },
		{ "250 milliseconds", 250 },
		{ "1 millisecond", 1 },
		{ "1 SECOND", 1000 },
		{ "250 MilliSeconds", 250 },
		{ "10   MSEC", 10 },
		{ "10msec", 10 },
		{ "0.5 seconds", 500 },
		{ ".25 second", 250 },
		{ "1.9", 1 },
		{ "0 minutes", 0 },	/* parses; refused by the range below */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		struct config_error err;
		char line[128];
		int rc;

		snprintf(line, sizeof(line), "TokenBucketRefillInterval %s", cases[i].value);
		rc = parse(&c, line, &err);
		if (cases[i].ms == 0) {
			assert_int_equal(rc, -EINVAL);
			assert_non_null(strstr(err.message, "between 1 and 1000 inclusive"));
			continue;
		}
		if (rc != 0)
			fail_msg("'%s' refused: %s", line, err.message);
		if (c.tor.token_bucket_refill_interval_ms != cases[i].ms)
			fail_msg("'%s': %u msec, expected %u", cases[i].value,
					c.tor.token_bucket_refill_interval_ms, cases[i].ms);
	}
}

/* CountPrivateBandwidth's default follows TestingTorNetwork (tor's
 * testnet.inc), whatever the order of the lines; an explicit value stays.
 * config_check_relay() leaves it 0 or 1. */
static void
test_tor_count_private_bandwidth(void **state)
{
	static const char relay[] =
		"DPDKPort net_null0\nAddress 10.77.1.2/24\nNickname r\nORPort 9001\n"
		"DataDirectory /d\nDirAuthority " V3 " 127.0.0.1:1 " FP "\n";
	static const struct {
		const char *lines;
		int parsed;
		int checked;
	} cases[] = {
		{ "", -1, 0 },
		{ "TestingTorNetwork 0\n", -1, 0 },
		{ "TestingTorNetwork 1\n", -1, 1 },
		{ "TestingTorNetwork 1\nCountPrivateBandwidth 0\n", 0, 0 },
		{ "CountPrivateBandwidth 0\nTestingTorNetwork 1\n", 0, 0 },
		{ "CountPrivateBandwidth 1\n", 1, 1 },
		{ "CountPrivateBandwidth 1\nTestingTorNetwork 1\n", 1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		struct config c;
		struct config_error err;

		snprintf(text, sizeof(text), "%s%s", relay, cases[i].lines);
		if (parse(&c, text, &err) != 0)
			fail_msg("case %zu refused: %s", i, err.message);
		if (c.tor.count_private_bandwidth != cases[i].parsed)
			fail_msg("case %zu parsed as %d, expected %d", i,
					c.tor.count_private_bandwidth, cases[i].parsed);
		assert_int_equal(config_check_relay(&c, "r.conf", &err), 0);
		if (c.tor.count_private_bandwidth != cases[i].checked)
			fail_msg("case %zu checked as %d, expected %d", i,
					c.tor.count_private_bandwidth, cases[i].checked);
		/* A second check keeps the resolved value. */
		assert_int_equal(config_check_relay(&c, "r.conf", &err), 0);
		assert_int_equal(c.tor.count_private_bandwidth, cases[i].checked);
	}
}

/* config_check_relay() with the relay bandwidth keys: tor's
 * options_validate_relay_bandwidth() and then options_validate_cb()'s
 * BandwidthBurst check. The file's lines: 1-6 the relay, 7.. the case's. */
static void
test_tor_relay_bandwidth(void **state)
{
	static const char relay[] =
		"DPDKPort net_null0\nAddress 10.77.1.2/24\nNickname r\nORPort 9001\n"
		"DataDirectory /d\nDirAuthority " V3 " 127.0.0.1:1 " FP "\n";
	static const struct {
		const char *lines;
		const char *error;	/* NULL: accepted, with the values below */
		uint64_t bw_rate, bw_burst, relay_rate, relay_burst, max_advertised;
	} cases[] = {
		/* Nothing given: tor's defaults stay. */
		{ "", NULL, 1u << 30, 1u << 30, 0, 0, 1u << 30 },
		/* Only the rate: the burst takes its value. */
		{ "RelayBandwidthRate 100 KBytes\n", NULL,
		  1u << 30, 1u << 30, 100u << 10, 100u << 10, 1u << 30 },
		/* Only the burst: the rate takes its value. */
		{ "RelayBandwidthBurst 200 KBytes\n", NULL,
		  1u << 30, 1u << 30, 200u << 10, 200u << 10, 1u << 30 },
		/* An explicit 0 is "not set", as in tor. */
		{ "RelayBandwidthRate 0\nRelayBandwidthBurst 300 KBytes\n", NULL,
		  1u << 30, 1u << 30, 300u << 10, 300u << 10, 1u << 30 },
		{ "RelayBandwidthRate 100 KBytes\nRelayBandwidthBurst 1 MByte\n", NULL,
		  1u << 30, 1u << 30, 100u << 10, 1u << 20, 1u << 30 },
		/* Higher than BandwidthRate/Burst: those are raised to them
		 * ("raise the defaults"). */
		{ "BandwidthRate 100 KBytes\nBandwidthBurst 100 KBytes\n"
		  "RelayBandwidthRate 1 MByte\nRelayBandwidthBurst 2 MBytes\n", NULL,
		  1u << 20, 2u << 20, 1u << 20, 2u << 20, 1u << 30 },
		{ "BandwidthRate 100 KBytes\nBandwidthBurst 5 MBytes\n"
		  "RelayBandwidthRate 1 MByte\n", NULL,
		  1u << 20, 5u << 20, 1u << 20, 1u << 20, 1u << 30 },
		/* BandwidthBurst below BandwidthRate is checked after the raise:
		 * tor accepts this one. */
		{ "BandwidthRate 200 KBytes\nBandwidthBurst 100 KBytes\n"
		  "RelayBandwidthRate 100 KBytes\nRelayBandwidthBurst 300 KBytes\n", NULL,
		  200u << 10, 300u << 10, 100u << 10, 300u << 10, 1u << 30 },
		{ "MaxAdvertisedBandwidth 38400\n", NULL, 1u << 30, 1u << 30, 0, 0, 38400 },
		{ "MaxAdvertisedBandwidth 2 GBytes\n", NULL,
		  1u << 30, 1u << 30, 0, 0, 2147483647u },
		{ "RelayBandwidthRate 75 KBytes\nRelayBandwidthBurst 75 KBytes\n", NULL,
		  1u << 30, 1u << 30, 75u << 10, 75u << 10, 1u << 30 },
		/* Refused, with tor's words, naming the line. */
		{ "RelayBandwidthRate 2 MBytes\nRelayBandwidthBurst 1 MBytes\n",
		  "r.conf:8: RelayBandwidthBurst: must be at least equal to RelayBandwidthRate.",
		  0, 0, 0, 0, 0 },
		{ "RelayBandwidthBurst 76800\n# 8\nRelayBandwidthRate 76801\n",
		  "r.conf:7: RelayBandwidthBurst: must be at least equal to RelayBandwidthRate.",
		  0, 0, 0, 0, 0 },
		{ "RelayBandwidthRate 76799\n", "r.conf:7: RelayBandwidthRate: is set to 76799 "
		  "bytes/second. For servers, it must be at least 76800.", 0, 0, 0, 0, 0 },
		/* A rate copied from a lone burst is checked as a rate, at the
		 * burst's line. */
		{ "# 7\nRelayBandwidthBurst 50 KBytes\n", "r.conf:8: RelayBandwidthRate: is set "
		  "to 51200 bytes/second. For servers, it must be at least 76800.", 0, 0, 0, 0, 0 },
		{ "MaxAdvertisedBandwidth 38399\n", "r.conf:7: MaxAdvertisedBandwidth: is set to "
		  "38399 bytes/second. For servers, it must be at least 38400.", 0, 0, 0, 0, 0 },
		{ "MaxAdvertisedBandwidth 0\n", "r.conf:7: MaxAdvertisedBandwidth: is set to "
		  "0 bytes/second. For servers, it must be at least 38400.", 0, 0, 0, 0, 0 },
		/* tor's order: BandwidthRate's minimum, then MaxAdvertisedBandwidth's
		 * (else-if), then RelayBandwidthRate's, then the relay pair. */
		{ "BandwidthRate 1000\nMaxAdvertisedBandwidth 1000\n",
		  "r.conf: BandwidthRate: 1000 bytes/s is below the 76800 a relay needs",
		  0, 0, 0, 0, 0 },
		{ "MaxAdvertisedBandwidth 1000\nRelayBandwidthRate 1000\n",
		  "r.conf:7: MaxAdvertisedBandwidth: is set to 1000 bytes/second. For servers, "
		  "it must be at least 38400.", 0, 0, 0, 0, 0 },
		{ "RelayBandwidthRate 1000\nRelayBandwidthBurst 500\n",
		  "r.conf:7: RelayBandwidthRate: is set to 1000 bytes/second. For servers, "
		  "it must be at least 76800.", 0, 0, 0, 0, 0 },
		/* The relay keys do not hide a BandwidthBurst below BandwidthRate
		 * when they do not raise it. */
		{ "BandwidthRate 2 MBytes\nBandwidthBurst 1 MBytes\nRelayBandwidthRate 100 KBytes\n",
		  "r.conf: BandwidthBurst: must be at least BandwidthRate", 0, 0, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024], formatted[512];
		struct config c;
		struct config_error err;

		snprintf(text, sizeof(text), "%s%s", relay, cases[i].lines);
		if (parse(&c, text, &err) != 0) {
			config_error_format(&err, formatted, sizeof(formatted));
			fail_msg("case %zu does not parse: %s", i, formatted);
		}
		memset(&err, 0, sizeof(err));
		if (cases[i].error != NULL) {
			assert_int_equal(config_check_relay(&c, "r.conf", &err), -EINVAL);
			config_error_format(&err, formatted, sizeof(formatted));
			if (strcmp(formatted, cases[i].error) != 0)
				fail_msg("case %zu:\n got      '%s'\n expected '%s'", i, formatted,
						cases[i].error);
			continue;
		}
		/* Twice: the resolution is idempotent. */
		for (int pass = 0; pass < 2; pass++) {
			if (config_check_relay(&c, "r.conf", &err) != 0) {
				config_error_format(&err, formatted, sizeof(formatted));
				fail_msg("case %zu refused: %s", i, formatted);
			}
			if (c.tor.bandwidth_rate != cases[i].bw_rate ||
					c.tor.bandwidth_burst != cases[i].bw_burst ||
					c.tor.relay_bandwidth_rate != cases[i].relay_rate ||
					c.tor.relay_bandwidth_burst != cases[i].relay_burst ||
					c.tor.max_advertised_bandwidth != cases[i].max_advertised)
				fail_msg("case %zu pass %d: BandwidthRate %llu Burst %llu, "
						"RelayBandwidthRate %llu Burst %llu, MaxAdvertised %llu",
						i, pass, (unsigned long long)c.tor.bandwidth_rate,
						(unsigned long long)c.tor.bandwidth_burst,
						(unsigned long long)c.tor.relay_bandwidth_rate,
						(unsigned long long)c.tor.relay_bandwidth_burst,
						(unsigned long long)c.tor.max_advertised_bandwidth);
		}
	}
}

/* config_effective_bandwidth(): tor's relay_get_effective_bwrate() and
 * relay_get_effective_bwburst(), on configurations config_check_relay()
 * accepted (so the relay pair is resolved and BandwidthRate/Burst raised). */
static void
test_tor_effective_bandwidth(void **state)
{
	static const char relay[] =
		"DPDKPort net_null0\nAddress 10.77.1.2/24\nNickname r\nORPort 9001\n"
		"DataDirectory /d\nDirAuthority " V3 " 127.0.0.1:1 " FP "\n";
	static const struct {
		const char *lines;
		uint64_t rate, burst;
	} cases[] = {
		/* Defaults: 1 GByte each. */
		{ "", 1u << 30, 1u << 30 },
		{ "BandwidthRate 1 MByte\nBandwidthBurst 2 MBytes\n", 1u << 20, 2u << 20 },
		/* MaxAdvertisedBandwidth lowers the rate only. */
		{ "BandwidthRate 1 MByte\nBandwidthBurst 2 MBytes\n"
		  "MaxAdvertisedBandwidth 500 KBytes\n", 500u << 10, 2u << 20 },
		/* ... and only when lower. */
		{ "BandwidthRate 1 MByte\nBandwidthBurst 2 MBytes\n"
		  "MaxAdvertisedBandwidth 5 MBytes\n", 1u << 20, 2u << 20 },
		/* RelayBandwidthRate alone: rate and burst are it. */
		{ "RelayBandwidthRate 300 KBytes\n", 300u << 10, 300u << 10 },
		/* RelayBandwidthBurst alone: the same, from the burst. */
		{ "RelayBandwidthBurst 400 KBytes\n", 400u << 10, 400u << 10 },
		{ "RelayBandwidthRate 300 KBytes\nRelayBandwidthBurst 900 KBytes\n",
		  300u << 10, 900u << 10 },
		/* The smallest of the three rates. */
		{ "BandwidthRate 1 MByte\nBandwidthBurst 4 MBytes\n"
		  "RelayBandwidthRate 800 KBytes\nRelayBandwidthBurst 3 MBytes\n"
		  "MaxAdvertisedBandwidth 600 KBytes\n", 600u << 10, 3u << 20 },
		{ "BandwidthRate 1 MByte\nBandwidthBurst 4 MBytes\n"
		  "RelayBandwidthRate 500 KBytes\nRelayBandwidthBurst 3 MBytes\n"
		  "MaxAdvertisedBandwidth 600 KBytes\n", 500u << 10, 3u << 20 },
		/* Relay values above BandwidthRate/Burst raise them, so the relay
		 * values are what is advertised. */
		{ "BandwidthRate 100 KBytes\nBandwidthBurst 200 KBytes\n"
		  "RelayBandwidthRate 1 MByte\nRelayBandwidthBurst 2 MBytes\n", 1u << 20, 2u << 20 },
		/* 2 GBytes is taken as INT32_MAX, as tor's config_ensure_bandwidth_cap. */
		{ "BandwidthRate 2 GBytes\nBandwidthBurst 2 GBytes\nMaxAdvertisedBandwidth 2 GBytes\n",
		  2147483647u, 2147483647u },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024], formatted[512];
		struct config c;
		struct config_error err;
		uint64_t rate = 0, burst = 0;

		snprintf(text, sizeof(text), "%s%s", relay, cases[i].lines);
		if (parse(&c, text, &err) != 0 || config_check_relay(&c, "r.conf", &err) != 0) {
			config_error_format(&err, formatted, sizeof(formatted));
			fail_msg("case %zu refused: %s", i, formatted);
		}
		config_effective_bandwidth(&c.tor, &rate, &burst);
		if (rate != cases[i].rate || burst != cases[i].burst)
			fail_msg("case %zu: rate %llu burst %llu, expected %llu %llu", i,
					(unsigned long long)rate, (unsigned long long)burst,
					(unsigned long long)cases[i].rate,
					(unsigned long long)cases[i].burst);
	}
}

/* The function alone, on values config_check_relay() would not leave
 * (the relay burst not resolved, BandwidthRate not raised): it is tor's
 * plain min() of what is set, nothing else. */
static void
test_tor_effective_bandwidth_raw(void **state)
{
	struct config_tor tor;
	uint64_t rate, burst;

	(void)state;
	memset(&tor, 0, sizeof(tor));
	tor.bandwidth_rate = 1000000;
	tor.bandwidth_burst = 2000000;
	tor.max_advertised_bandwidth = 1u << 30;
	config_effective_bandwidth(&tor, &rate, &burst);
	assert_int_equal(rate, 1000000);
	assert_int_equal(burst, 2000000);
	/* A relay rate above BandwidthRate does not raise the result. */
	tor.relay_bandwidth_rate = 3000000;
	config_effective_bandwidth(&tor, &rate, &burst);
	assert_int_equal(rate, 1000000);
	assert_int_equal(burst, 2000000);
	tor.relay_bandwidth_rate = 700000;
	tor.relay_bandwidth_burst = 900000;
	config_effective_bandwidth(&tor, &rate, &burst);
	assert_int_equal(rate, 700000);
	assert_int_equal(burst, 900000);
	tor.max_advertised_bandwidth = 600000;
	config_effective_bandwidth(&tor, &rate, &burst);
	assert_int_equal(rate, 600000);
	assert_int_equal(burst, 900000);
}

int
main(int argc, char **argv)
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
		cmocka_unit_test(test_tor_defaults),
		cmocka_unit_test(test_tor_good_values),
		cmocka_unit_test(test_tor_bandwidth_units),
		cmocka_unit_test(test_tor_memunit),
		cmocka_unit_test(test_tor_accounting),
		cmocka_unit_test(test_tor_token_bucket_refill_interval),
		cmocka_unit_test(test_tor_count_private_bandwidth),
		cmocka_unit_test(test_tor_relay_bandwidth),
		cmocka_unit_test(test_tor_effective_bandwidth),
		cmocka_unit_test(test_tor_effective_bandwidth_raw),
		cmocka_unit_test(test_tor_dos_keys),
		cmocka_unit_test(test_tor_metrics_port_and_policy),
		cmocka_unit_test(test_tor_log),
		cmocka_unit_test(test_tor_dir_authority),
		cmocka_unit_test(test_tor_bad_values_exact),
		cmocka_unit_test(test_tor_limits_and_repeats),
		cmocka_unit_test(test_tor_full_relay_file),
		cmocka_unit_test(test_tor_check_relay),
	};

	if (argc > 1)
		vectors_dir = argv[1];

	return cmocka_run_group_tests(tests, NULL, NULL);
}
