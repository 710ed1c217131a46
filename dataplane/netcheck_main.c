/* hsrelay-netcheck: the dataplane runtime with the Ethernet/ARP/IPv4/ICMP
 * layer and nothing above it, for checking a port against kernel peers.
 *
 *   hsrelay-netcheck -f FILE [--seconds N]
 *
 * Reads the DPDK keys of FILE (control/config.h), starts EAL, one worker
 * per DPDKWorkerQueues on the lcores after the first, and answers ARP for
 * and ICMP echo to Address until SIGTERM or SIGINT (or N seconds). Other
 * frames for Address, TCP included, are classified, counted and dropped.
 * On exit it prints one line of counters per worker:
 *   worker N rx=.. tx=.. tx_dropped=.. handoff_out=.. handoff_in=..
 *     handoff_dropped=.. arp=.. arp_replies=.. icmp_echo=.. icmp_replies=..
 *     tcp=.. tcp_not_owned=.. idle_sleeps=.. drop_<reason>=.. (non-zero)
 * where tcp_not_owned counts TCP frames that reached a worker other than
 * the flow's owner (0 unless the hand-off is broken).
 * Exit status: 0, 1 when the dataplane failed, 2 for a bad command line
 * or configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "control/config.h"
#include "dataplane/eal.h"
#include "dataplane/ether.h"
#include "dataplane/ipv4.h"
#include "dataplane/port.h"
#include "dataplane/ring_msg.h"
#include "dataplane/worker.h"

#define NETCHECK_RING_SIZE 1024
#define NETCHECK_DESC 1024
/* How often the ARP cache's periodic work runs (ether.h asks for every
 * few retry intervals at most). */
#define NETCHECK_ARP_TICK_NS 250000000ull
#define NETCHECK_ARP_RETRY_NS 1000000000ull

/* One worker's ARP/ICMP responder. */
struct __rte_cache_aligned netcheck_stack {
	struct net_local local;
	struct arp_cache *arp;
	struct rte_mempool *pool;
	unsigned index;
	unsigned n_workers;
	uint64_t next_arp_tick;
	struct net_counters net;
	uint64_t arp_replies;
	uint64_t icmp_replies;
	uint64_t tcp_not_owned;
	uint64_t arp_requests_sent;
	uint64_t alloc_failed;
};

static void
netcheck_release(struct worker *w, struct arp_release *release)
{
	for (uint32_t i = 0; i < release->n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(release->pkts[i],
				struct rte_ether_hdr *);

		eth->dst_addr = release->mac;
	}
	worker_tx_burst(w, release->pkts, (uint16_t)release->n);
	release->n = 0;
}

static void
netcheck_input(void *ctx, struct worker *w, struct rte_mbuf **pkts, uint16_t n,
		uint64_t now)
{
	struct netcheck_stack *s = ctx;
	struct net_classes classes;
	struct rte_mbuf *out[NET_BURST_MAX];
	struct arp_release release;
	uint16_t n_out = 0;

	net_classify_burst(pkts, n, &s->local, &classes, &s->net);
	for (uint16_t i = 0; i < classes.n_arp; i++) {
		struct rte_mbuf *m = classes.arp[i];

		release.n = 0;
		if (net_arp_input(s->arp, &s->local, m, now, &release) == 1) {
			out[n_out++] = m;
			s->arp_replies++;
		} else {
			rte_pktmbuf_free(m);
		}
		netcheck_release(w, &release);
	}
	for (uint16_t i = 0; i < classes.n_icmp; i++) {
		struct rte_mbuf *m = classes.icmp[i];

		if (net_icmp_echo_reply(m, &s->local) == 0) {
			out[n_out++] = m;
			s->icmp_replies++;
		} else {
			rte_pktmbuf_free(m);
		}
	}
	for (uint16_t i = 0; i < classes.n_tcp; i++) {
		int owner = worker_frame_owner(classes.tcp[i], s->n_workers);

		if (owner >= 0 && (unsigned)owner != s->index)
			s->tcp_not_owned++;
	}
	rte_pktmbuf_free_bulk(classes.tcp, classes.n_tcp);
	rte_pktmbuf_free_bulk(classes.drop, classes.n_drop);
	worker_tx_burst(w, out, n_out);
}

static unsigned
netcheck_timers(void *ctx, struct worker *w, uint64_t now, unsigned budget)
{
	struct netcheck_stack *s = ctx;
	rte_be32_t requests[16];
	struct rte_mbuf *dropped[16];
	uint32_t n_requests, n_dropped, limit = RTE_MIN(budget, 16u);

	if (now < s->next_arp_tick)
		return 0;
	s->next_arp_tick = now + NETCHECK_ARP_TICK_NS;
	n_requests = arp_cache_tick(s->arp, now, requests, limit, dropped, limit,
			&n_dropped);
	rte_pktmbuf_free_bulk(dropped, n_dropped);
	for (uint32_t i = 0; i < n_requests; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(s->pool);
		char *frame;

		if (!m) {
			s->alloc_failed++;
			continue;
		}
		frame = rte_pktmbuf_append(m, ARP_FRAME_LEN);
		if (!frame || arp_request_build(&s->local.mac, s->local.ip[0],
					requests[i], (uint8_t *)frame, ARP_FRAME_LEN) < 0) {
			rte_pktmbuf_free(m);
			continue;
		}
		s->arp_requests_sent++;
		worker_tx_burst(w, &m, 1);
	}
	return 1 + n_requests;
}

static void
netcheck_message(void *ctx, struct worker *w, const struct ring_msg *msg,
		uint64_t now)
{
	(void)ctx;
	(void)w;
	(void)msg;
	(void)now;
}

static const struct worker_ops netcheck_ops = {
	.input = netcheck_input,
	.timers = netcheck_timers,
	.message = netcheck_message,
};

static void
print_counters(const struct worker *w, const struct netcheck_stack *s)
{
	const struct worker_counters *c = worker_counters(w);

	printf("worker %u rx=%" PRIu64 " tx=%" PRIu64 " tx_dropped=%" PRIu64
			" handoff_out=%" PRIu64 " handoff_in=%" PRIu64
			" handoff_dropped=%" PRIu64 " arp=%" PRIu64 " arp_replies=%" PRIu64
			" icmp_echo=%" PRIu64 " icmp_replies=%" PRIu64 " tcp=%" PRIu64
			" tcp_not_owned=%" PRIu64 " arp_requests=%" PRIu64
			" alloc_failed=%" PRIu64 " idle_sleeps=%" PRIu64,
			worker_index(w), c->rx_packets, c->tx_packets, c->tx_dropped,
			c->handoff_out, c->handoff_in, c->handoff_dropped, s->net.arp,
			s->arp_replies, s->net.icmp_echo, s->icmp_replies, s->net.tcp,
			s->tcp_not_owned, s->arp_requests_sent, s->alloc_failed,
			c->idle_sleeps);
	for (int r = 0; r < NET_DROP_REASON_COUNT; r++)
		if (s->net.drop[r])
			printf(" drop_%s=%" PRIu64, net_drop_reason_name(r), s->net.drop[r]);
	printf("\n");
}

static void
usage(const char *program)
{
	fprintf(stderr, "usage: %s -f CONFIG [--seconds N]\n", program);
}

struct netcheck {
	struct config config;
	unsigned n_workers;
	uint16_t port_id;
	bool port_started;
	struct port_info port;
	struct rte_mempool *pools[WORKER_MAX];
	struct rte_ring *control[WORKER_MAX], *events[WORKER_MAX], *handoff[WORKER_MAX];
	struct netcheck_stack *stacks[WORKER_MAX];
	void *arp_memory[WORKER_MAX];
	struct worker *workers[WORKER_MAX];
	unsigned lcores[WORKER_MAX];
	bool launched[WORKER_MAX];
};

static int
setup_workers(struct netcheck *nc)
{
	const struct config_dpdk *cfg = &nc->config.dpdk;
	struct arp_cache_config arp_cfg = {
		.capacity = 256,
		.held_per_entry = 4,
		.max_requests = 3,
		.reachable_ns = (uint64_t)cfg->arp_timeout_sec * 1000000000ull,
		.retry_ns = NETCHECK_ARP_RETRY_NS,
	};
	size_t arp_size = arp_cache_footprint(&arp_cfg);
	int socket = rte_socket_id();
	char name[RTE_RING_NAMESIZE];

	for (unsigned i = 0; i < nc->n_workers; i++) {
		struct netcheck_stack *s;

		snprintf(name, sizeof(name), "ctl%u", i);
		nc->control[i] = ring_msg_ring_create(name, 64, socket);
		snprintf(name, sizeof(name), "ev%u", i);
		nc->events[i] = ring_msg_ring_create(name, 64, socket);
		snprintf(name, sizeof(name), "ho%u", i);
		nc->handoff[i] = ring_handoff_create(name, NETCHECK_RING_SIZE, socket);
		s = rte_zmalloc_socket("netcheck_stack", sizeof(*s), RTE_CACHE_LINE_SIZE,
				socket);
		nc->arp_memory[i] = rte_zmalloc_socket("arp_cache", arp_size, 64, socket);
		nc->stacks[i] = s;
		if (!nc->control[i] || !nc->events[i] || !nc->handoff[i] || !s ||
				!nc->arp_memory[i])
			return -ENOMEM;
		s->arp = arp_cache_init(nc->arp_memory[i], arp_size, &arp_cfg);
		if (!s->arp)
			return -EINVAL;
		memcpy(s->local.mac.addr_bytes, cfg->has_mac ? cfg->mac : nc->port.mac, 6);
		s->local.n_ip = 1;
		s->local.ip[0] = rte_cpu_to_be_32(cfg->address);
		s->pool = nc->pools[i];
		s->index = i;
		s->n_workers = nc->n_workers;
	}
	for (unsigned i = 0; i < nc->n_workers; i++) {
		struct worker_config wc = {
			.index = i,
			.n_workers = nc->n_workers,
			.port_id = nc->port_id,
			.queue_id = (uint16_t)i,
			.hw_rss = nc->port.rss,
			.control_ring = nc->control[i],
			.event_ring = nc->events[i],
			.ops = &netcheck_ops,
			.stack = nc->stacks[i],
			.idle_polls = cfg->idle_polls,
			.idle_sleep_usec = cfg->idle_sleep_usec,
			.socket_id = socket,
		};

		memcpy(wc.handoff_rings, nc->handoff, sizeof(nc->handoff));
		nc->workers[i] = worker_create(&wc);
		if (!nc->workers[i])
			return -ENOMEM;
	}
	return 0;
}

static void
teardown(struct netcheck *nc)
{
	for (unsigned i = 0; i < nc->n_workers; i++) {
		if (nc->stacks[i] && nc->stacks[i]->arp) {
			struct rte_mbuf *held[16];
			uint32_t n;

			while ((n = arp_cache_drain(nc->stacks[i]->arp, held, 16)) > 0)
				rte_pktmbuf_free_bulk(held, n);
		}
		worker_destroy(nc->workers[i]);
		if (nc->handoff[i]) {
			void *m = NULL;

			while (rte_ring_dequeue(nc->handoff[i], &m) == 0)
				rte_pktmbuf_free(m);
		}
		rte_ring_free(nc->control[i]);
		rte_ring_free(nc->events[i]);
		rte_ring_free(nc->handoff[i]);
		rte_free(nc->arp_memory[i]);
		rte_free(nc->stacks[i]);
	}
	if (nc->port_started)
		port_stop(nc->port_id);
	for (unsigned i = 0; i < nc->n_workers; i++)
		rte_mempool_free(nc->pools[i]);
}

/* Waits for SIGTERM/SIGINT (blocked in every thread since start-up) or
 * the time limit. */
static void
wait_for_stop(unsigned seconds)
{
	sigset_t set;
	struct timespec start, now, tick = { .tv_sec = 0, .tv_nsec = 200000000 };

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			return;
		/* EAGAIN: the tick passed; EINTR: some other signal. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (seconds && now.tv_sec - start.tv_sec >= (time_t)seconds)
			return;
	}
}

static int
run(struct netcheck *nc, unsigned seconds)
{
	const struct config_dpdk *cfg = &nc->config.dpdk;
	unsigned lcore, n = 0;
	int rc;

	if (cfg->n_ports != 1) {
		fprintf(stderr, "netcheck: drives exactly one DPDKPort, %u given\n",
				cfg->n_ports);
		return -EINVAL;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n < nc->n_workers)
			nc->lcores[n++] = lcore;
	}
	if (n < nc->n_workers) {
		fprintf(stderr, "netcheck: DPDKWorkerQueues %u needs %u worker lcores "
				"besides the main one; DPDKLcores gives %u\n",
				nc->n_workers, nc->n_workers, n);
		return -EINVAL;
	}
	rc = port_find(cfg->ports[0].spec, &nc->port_id);
	if (rc < 0) {
		fprintf(stderr, "netcheck: no ethdev for DPDKPort %s\n", cfg->ports[0].spec);
		return rc;
	}
	for (unsigned i = 0; i < nc->n_workers; i++) {
		char name[RTE_MEMPOOL_NAMESIZE];

		snprintf(name, sizeof(name), "pool%u", i);
		nc->pools[i] = port_mempool_create(name, cfg->mbufs_per_worker,
				(int)rte_lcore_to_socket_id(nc->lcores[i]));
		if (!nc->pools[i]) {
			fprintf(stderr, "netcheck: mempool %s: %s\n", name,
					rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	rc = port_start(nc->port_id, (uint16_t)nc->n_workers, nc->pools,
			NETCHECK_DESC, NETCHECK_DESC, &nc->port);
	if (rc < 0) {
		fprintf(stderr, "netcheck: port %s: %s\n", cfg->ports[0].spec,
				rte_strerror(-rc));
		return rc;
	}
	nc->port_started = true;
	rc = setup_workers(nc);
	if (rc < 0) {
		fprintf(stderr, "netcheck: worker set-up: %s\n", strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < nc->n_workers; i++) {
		rc = rte_eal_remote_launch(worker_run, nc->workers[i], nc->lcores[i]);
		if (rc < 0) {
			fprintf(stderr, "netcheck: launch on lcore %u failed\n", nc->lcores[i]);
			break;
		}
		nc->launched[i] = true;
	}
	if (rc == 0) {
		const uint8_t *mac = nc->stacks[0]->local.mac.addr_bytes;

		printf("netcheck: port %s queues %u rss %s link %s mac "
				"%02x:%02x:%02x:%02x:%02x:%02x address %u.%u.%u.%u/%u\n",
				nc->port.name, nc->n_workers, nc->port.rss ? "on" : "off",
				port_link_wait(nc->port_id, 500) ? "up" : "down",
				mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
				cfg->address >> 24, cfg->address >> 16 & 0xff,
				cfg->address >> 8 & 0xff, cfg->address & 0xff, cfg->prefix_len);
		fflush(stdout);
		wait_for_stop(seconds);
	}
	for (unsigned i = 0; i < nc->n_workers; i++)
		if (nc->launched[i] && ring_msg_send(nc->control[i],
					&(struct ring_msg){ .type = RING_MSG_STOP }) < 0)
			fprintf(stderr, "netcheck: worker %u control ring full\n", i);
	for (unsigned i = 0; i < nc->n_workers; i++)
		if (nc->launched[i])
			rte_eal_wait_lcore(nc->lcores[i]);
	for (unsigned i = 0; i < nc->n_workers; i++)
		print_counters(nc->workers[i], nc->stacks[i]);
	fflush(stdout);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	static struct netcheck nc;
	struct config_error err;
	struct eal_args eal_args;
	const char *path = NULL;
	unsigned seconds = 0;
	char message[512];
	sigset_t stop_signals;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "f:s:", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			path = optarg;
			break;
		case 's':
			seconds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(argv[0]);
		return 2;
	}
	config_init(&nc.config);
	if (config_parse_file(&nc.config, path, &err) < 0 ||
			config_check_dataplane(&nc.config, path, &err) < 0) {
		config_error_format(&err, message, sizeof(message));
		fprintf(stderr, "netcheck: %s\n", message);
		return 2;
	}
	nc.n_workers = nc.config.dpdk.worker_queues;

	/* SIGTERM/SIGINT are taken by wait_for_stop() only: blocked before
	 * EAL creates its threads, so every thread inherits the mask. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

	rc = eal_start(&nc.config.dpdk, argv[0], &eal_args);
	if (rc < 0) {
		fprintf(stderr, "netcheck: EAL did not start: %s\n", rte_strerror(-rc));
		return 1;
	}
	/* The workers keep SIGIO (net_tap's RX trigger); this thread does not. */
	eal_block_sigio();
	fprintf(stderr, "netcheck: EAL on %s\n", eal_args.hugepages ?
			"hugepages (--in-memory)" : "plain memory (--no-huge)");
	rc = run(&nc, seconds);
	teardown(&nc);
	eal_stop();
	return rc < 0 ? 1 : 0;
}
