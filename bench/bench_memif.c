/* The memif transport of hsrelay's bench runs (bench_memif.h): the bridge
 * process and the bench's handle on it.
 *
 * The bridge is one DPDK process with two ports, net_af_packet on a veth
 * end and a net_memif server, and one loop on its main lcore that moves
 * every frame received on one port to the other (a burst of up to
 * BRIDGE_BURST per port per iteration; a frame the other side does not
 * take after a few tries is dropped and counted, and TCP recovers it). It
 * sleeps idle_sleep_usec after BRIDGE_IDLE_POLLS empty polls, so that it
 * leaves a core to the generator on a small machine. It parses nothing:
 * ARP, TCP and TLS pass through as they are, so the generator talks to
 * hsrelay exactly as over the af_packet transport, minus the kernel work
 * in hsrelay's own system calls (which the bridge does instead). */
#include "bench/bench_memif.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bench/bench_env.h"
#include "bench/bench_util.h"
#include "dataplane/eal.h"
#include "dataplane/port.h"

#define BRIDGE_BURST 32
#define BRIDGE_POOL_MBUFS 16383
#define BRIDGE_DESC 1024
/* TX attempts before the rest of a burst is dropped. */
#define BRIDGE_TX_TRIES 64
#define BRIDGE_IDLE_POLLS 256
/* memif ring of 2^11 slots per direction: room for a whole TCP window of
 * a few links while hsrelay's worker is scheduled out. */
#define BRIDGE_MEMIF_LOG2_RING 11
#define BRIDGE_START_TIMEOUT_NS (30ull * 1000000000)
#define BRIDGE_STOP_TIMEOUT_NS (10ull * 1000000000)

/* ---- the bridge process ----------------------------------------------- */

static volatile sig_atomic_t bridge_halt, bridge_stop;

static void
bridge_signal(int sig)
{
	if (sig == SIGUSR1)
		bridge_halt = 1;
	else
		bridge_stop = 1;
}

struct bridge_counters {
	uint64_t frames[2];	/* moved from port i to the other */
	uint64_t dropped[2];	/* received on port i, not taken by the other */
	uint64_t polls, idle_sleeps;
};

/* Sends n frames from rx on port to; what it will not take after
 * BRIDGE_TX_TRIES attempts is freed. Returns how many were dropped. */
static uint16_t
bridge_forward(uint16_t to, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent = 0;

	for (unsigned tries = 0; sent < n && tries < BRIDGE_TX_TRIES && !bridge_stop; tries++) {
		sent = (uint16_t)(sent + rte_eth_tx_burst(to, 0, pkts + sent, (uint16_t)(n - sent)));
		if (sent < n)
			rte_pause();
	}
	if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, (unsigned)(n - sent));
	return (uint16_t)(n - sent);
}

static int
bridge_eal_start(const char *socket_path, const char *iface, const char *cpus, const char *prefix)
{
	char lcores[64], memif[PATH_MAX + 128], afp[128];
	char *argv[24];
	int argc = 0;
	long free_pages = eal_free_hugepages_2mb("/proc/meminfo");

	snprintf(lcores, sizeof(lcores), "0@(%s)", cpus);
	snprintf(memif, sizeof(memif), "net_memif0,role=server,socket=%s,socket-abstract=no,rsize=%d",
			socket_path, BRIDGE_MEMIF_LOG2_RING);
	snprintf(afp, sizeof(afp), "net_af_packet0,iface=%s,qpairs=1,framecnt=2048", iface);
	argv[argc++] = (char *)"hsrelay-bench-memif-bridge";
	argv[argc++] = (char *)"--lcores";
	argv[argc++] = lcores;
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--no-telemetry";
	argv[argc++] = (char *)"--file-prefix";
	argv[argc++] = (char *)prefix;
	/* hsrelay takes the hugepages first if there are enough for both
	 * (dataplane/eal.h makes the same choice for it). */
	if (free_pages >= 2 * 256) {
		argv[argc++] = (char *)"--in-memory";
	} else {
		argv[argc++] = (char *)"--no-huge";
		argv[argc++] = (char *)"--no-shconf";
		argv[argc++] = (char *)"-m";
		argv[argc++] = (char *)"128";
	}
	argv[argc++] = (char *)"--log-level=lib.eal:error";
	argv[argc++] = (char *)"--vdev";
	argv[argc++] = memif;
	argv[argc++] = (char *)"--vdev";
	argv[argc++] = afp;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0)
		return -rte_errno;
	return 0;
}

int
bench_memif_bridge_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "iface", required_argument, NULL, 'i' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "idle-sleep-usec", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_path = NULL, *iface = NULL, *cpus = "0-1", *prefix = "hsbridge";
	unsigned idle_sleep_usec = 20, empty = 0;
	bool linked = false;
	struct bridge_counters c = { .polls = 0 };
	struct rte_mempool *pool;
	struct port_info info;
	uint16_t ports[2];	/* 0: af_packet (the kernel side), 1: memif */
	struct sigaction sa;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 's':
			socket_path = optarg;
			break;
		case 'i':
			iface = optarg;
			break;
		case 'c':
			cpus = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'u':
			idle_sleep_usec = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (socket_path == NULL || iface == NULL) {
		fprintf(stderr, "memif-bridge: --socket and --iface are required\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bridge_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* Optind is reset for rte_eal_init's own getopt. */
	optind = 1;
	rc = bridge_eal_start(socket_path, iface, cpus, prefix);
	if (rc < 0) {
		fprintf(stderr, "memif-bridge: EAL: %s\n", rte_strerror(-rc));
		return 1;
	}
	pool = port_mempool_create("bridge", BRIDGE_POOL_MBUFS, (int)rte_socket_id());
	rc = pool == NULL ? -ENOMEM : port_find("net_af_packet0", &ports[0]);
	if (rc == 0)
		rc = port_find("net_memif0", &ports[1]);
	if (rc == 0)
		rc = port_start(ports[0], 1, &pool, BRIDGE_DESC, BRIDGE_DESC, false, &info);
	if (rc == 0)
		rc = port_start(ports[1], 1, &pool, BRIDGE_DESC, BRIDGE_DESC, false, &info);
	if (rc < 0) {
		fprintf(stderr, "memif-bridge: ports: %s\n", strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}
	printf("memif-bridge: ready\n");
	fflush(stdout);
	while (!bridge_stop && !bridge_halt) {
		struct rte_mbuf *pkts[BRIDGE_BURST];
		unsigned work = 0;

		/* Says once when hsrelay's memif has connected (the bench
		 * waits for it), checked every 4096 polls. */
		if (!linked && (c.polls & 4095) == 0) {
			struct rte_eth_link link;

			if (rte_eth_link_get_nowait(ports[1], &link) == 0 &&
			    link.link_status == RTE_ETH_LINK_UP) {
				linked = true;
				printf("memif-bridge: memif connected\n");
				fflush(stdout);
			}
		}
		c.polls++;
		for (unsigned from = 0; from < 2; from++) {
			uint16_t n = rte_eth_rx_burst(ports[from], 0, pkts, BRIDGE_BURST);

			if (n == 0)
				continue;
			work += n;
			c.frames[from] += n;
			c.dropped[from] += bridge_forward(ports[1 - from], pkts, n);
		}
		if (work != 0 || idle_sleep_usec == 0 || ++empty < BRIDGE_IDLE_POLLS) {
			if (work != 0)
				empty = 0;
			continue;
		}
		empty = 0;
		c.idle_sleeps++;
		nanosleep(&(struct timespec){ .tv_nsec = (long)idle_sleep_usec * 1000 }, NULL);
	}
	if (bridge_halt) {
		printf("memif-bridge: halted\n");
		fflush(stdout);
		while (!bridge_stop)
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	printf("memif-bridge: stats kernel_to_relay=%" PRIu64 " relay_to_kernel=%" PRIu64
			" dropped_to_relay=%" PRIu64 " dropped_to_kernel=%" PRIu64 " polls=%" PRIu64
			" idle_sleeps=%" PRIu64 "\n", c.frames[0], c.frames[1], c.dropped[0], c.dropped[1],
			c.polls, c.idle_sleeps);
	fflush(stdout);
	/* rte_eal_cleanup() removes the vdevs (closing the ports); stopping
	 * them first is enough. */
	rte_eth_dev_stop(ports[0]);
	rte_eth_dev_stop(ports[1]);
	rte_eal_cleanup();
	return 0;
}

/* ---- the bench's side ------------------------------------------------- */

static void
log_print(const char *path, FILE *to, const char *only)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (only == NULL || strncmp(line, only, strlen(only)) == 0)
			fprintf(to, "  %s", line);
	fclose(f);
}

int
bench_memif_bridge_start(struct bench_memif_bridge *b, const char *work, const char *iface,
		const char *cpus, unsigned idle_sleep_usec)
{
	char idle[16];
	uint64_t end;
	pid_t pid;

	memset(b, 0, sizeof(*b));
	snprintf(b->socket_path, sizeof(b->socket_path), "%s/memif.sock", work);
	snprintf(b->log, sizeof(b->log), "%s/memif-bridge.log", work);
	snprintf(b->prefix, sizeof(b->prefix), "hsbridge%d", (int)getpid());
	snprintf(idle, sizeof(idle), "%u", idle_sleep_usec);
	unlink(b->socket_path);
	char *argv[] = { "/proc/self/exe", "memif-bridge", "--socket", b->socket_path,
		"--iface", (char *)iface, "--cpus", (char *)cpus, "--prefix", b->prefix,
		"--idle-sleep-usec", idle, NULL };

	pid = bench_spawn(argv, b->log);
	if (pid < 0)
		return pid;
	b->pid = pid;
	end = bench_now_ns() + BRIDGE_START_TIMEOUT_NS;
	while (!bench_file_contains(b->log, "memif-bridge: ready")) {
		if (!bench_child_alive(b->pid) || bench_now_ns() > end || bench_interrupted) {
			fprintf(stderr, "hsrelay-bench: the memif bridge did not start; its log:\n");
			log_print(b->log, stderr, NULL);
			bench_memif_bridge_stop(b);
			return -ECHILD;
		}
		bench_sleep_ns(20000000);
	}
	return 0;
}

int
bench_memif_bridge_halt(struct bench_memif_bridge *b)
{
	uint64_t end = bench_now_ns() + BRIDGE_STOP_TIMEOUT_NS;

	if (b->pid <= 0)
		return 0;
	kill(b->pid, SIGUSR1);
	while (!bench_file_contains(b->log, "memif-bridge: halted")) {
		if (!bench_child_alive(b->pid)) {
			b->pid = 0;
			return -ECHILD;
		}
		if (bench_now_ns() > end)
			return -ETIMEDOUT;
		bench_sleep_ns(5000000);
	}
	return 0;
}

int
bench_memif_bridge_stop(struct bench_memif_bridge *b)
{
	int rc = bench_child_stop(&b->pid, BRIDGE_STOP_TIMEOUT_NS);

	if (b->prefix[0] != '\0')
		bench_eal_runtime_dir_remove(b->prefix);
	if (b->socket_path[0] != '\0')
		unlink(b->socket_path);
	return rc;
}

int
bench_memif_bridge_wait_connected(struct bench_memif_bridge *b, uint64_t timeout_ns)
{
	uint64_t end = bench_now_ns() + timeout_ns;

	while (!bench_file_contains(b->log, "memif-bridge: memif connected")) {
		if (!bench_child_alive(b->pid))
			return -ECHILD;
		if (bench_now_ns() > end)
			return -ETIMEDOUT;
		bench_sleep_ns(5000000);
	}
	return 0;
}

void
bench_memif_bridge_report(const struct bench_memif_bridge *b, FILE *to, bool all)
{
	if (b->log[0] != '\0')
		log_print(b->log, to, all ? NULL : "memif-bridge: stats");
}
