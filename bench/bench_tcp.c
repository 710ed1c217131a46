/* hsrelay-bench tcp: bulk-transfer goodput and segments per second per
 * core, hsrelay's TCP stack against the Linux kernel's, measured in the same
 * run.
 *
 *   impl "hsrelay":      two DPDK processes joined by net_memif (a shared
 *                        memory packet ring, no kernel in the data path),
 *                        each running one poll-mode worker (dataplane/
 *                        worker.h) with a TCP stack (dataplane/tcp.h) and
 *                        static Ethernet addresses. The sender opens C
 *                        connections to the receiver and keeps every send
 *                        buffer full with clones of one pattern mbuf (no
 *                        copy: the way the relay sends cells it already
 *                        holds); the receiver takes the in-order chains
 *                        with tcp_recv() and frees them.
 *   impl "linux_kernel": two processes in two network namespaces joined by
 *                        a veth pair (MTU 1500, default offloads), one
 *                        epoll thread each: the sender writes 128 KiB
 *                        send() calls on C connections, the receiver reads
 *                        with 256 KiB recv() calls.
 *
 * Both receivers check the first bytes of every chain (hsrelay) or every
 * read (kernel) against the sender's pattern at that stream offset, so a
 * bench that moved nothing, or moved the wrong bytes, fails instead of
 * printing a figure.
 *
 * The parent process creates the namespaces, spawns the four roles (the
 * hsrelay ones re-execute this binary with a hidden --role), and measures a
 * window of --seconds after the connections are up and a short warm-up:
 * bytes and segments come from counters the receivers publish in a shared
 * memory block, CPU time of the kernel side from /proc/<pid>/schedstat of
 * both processes (this kernel has no IRQ time accounting, so softirq work
 * done in a process's context, veth delivery included, is charged to it),
 * and the machine's total busy time from /proc/stat as a cross-check.
 * A poll-mode worker counts as its CPU time times the busy share of its
 * loop (the workers publish worker_cycles()), as in the relay bench.
 * Everything it creates (processes, namespaces, the memif socket's
 * directory) is removed on every exit path, SIGINT and SIGTERM included;
 * the children die with the parent (PR_SET_PDEATHSIG). */
#include "bench/bench_tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bench/bench_env.h"
#include "bench/bench_util.h"
#include "dataplane/eal.h"
#include "dataplane/ether.h"
#include "dataplane/ipv4.h"
#include "dataplane/port.h"
#include "dataplane/ring_msg.h"
#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "dataplane/worker.h"

#define MAX_CONNECTIONS 64
#define MAX_CASES 8
/* The sender's stream repeats a pattern of this period: one mbuf's data
 * (hsrelay clones it per send) and the kernel sender's buffer. */
#define PATTERN_LEN 61440u
/* Bytes compared at the start of every received chain or read. */
#define CHECK_LEN 16u
#define KERNEL_SEND_CHUNK (128u * 1024)
#define KERNEL_RECV_CHUNK (256u * 1024)
#define BENCH_PORT 5201
/* 10.77.250.0/24, used only inside the namespaces and on the memif link. */
#define SENDER_IP 0x0a4dfa01u
#define RECEIVER_IP 0x0a4dfa02u
#define SENDER_IP_TEXT "10.77.250.1"
#define RECEIVER_IP_TEXT "10.77.250.2"
#define START_TIMEOUT_NS (15ull * 1000000000)
#define STOP_TIMEOUT_NS (5ull * 1000000000)
#define POOL_MBUFS 32767
/* memif ring of 8192 2 KiB slots per direction. The stack glue has no TX
 * back-pressure (a full ring drops at the worker's TX buffer), so the
 * receive windows of all connections together are kept below what the
 * ring holds: a receiver that is scheduled out then stalls the sender
 * instead of losing segments. */
#define MEMIF_LOG2_RING 13
#define MEMIF_RING_PAYLOAD ((1u << MEMIF_LOG2_RING) * 1448u)
#define BUFFER_MAX (4u << 20)

static const struct rte_ether_addr sender_mac = { { 0x02, 0, 0, 0x4d, 0xfa, 0x01 } };
static const struct rte_ether_addr receiver_mac = { { 0x02, 0, 0, 0x4d, 0xfa, 0x02 } };

/* The block the parent shares with every role (MAP_SHARED). Each line is
 * written by one side only; all accesses are relaxed atomics. */
struct bench_shared {
	struct {
		uint64_t bytes;		/* in-order payload taken */
		uint64_t segments;	/* TCP segments received (hsrelay) */
		uint64_t checked;	/* chains or reads whose first bytes were compared */
		uint64_t check_failures;
		/* hsrelay: the worker's loop time, all iterations and busy
		 * ones (worker_cycles()), in ns */
		uint64_t poll_ns, busy_ns;
		uint32_t ready;		/* listening */
		uint32_t halted;	/* hsrelay: worker stopped, memif no longer polled */
		int32_t error;
	} __attribute__((aligned(64))) receiver;
	struct {
		uint64_t retransmits;
		uint64_t tx_dropped;
		uint64_t poll_ns, busy_ns;	/* as the receiver's */
		uint32_t connected;
		uint32_t mss;
		uint32_t halted;
		uint32_t closed;	/* hsrelay: EAL and memif torn down */
		int32_t error;
	} __attribute__((aligned(64))) sender;
	struct {
		uint32_t stop;
	} __attribute__((aligned(64))) parent;
};

#define PUT(field, value) __atomic_store_n(&(field), (value), __ATOMIC_RELAXED)
#define GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

struct options {
	bool quick;
	double seconds;
	double warmup;
	unsigned n_cases;
	unsigned connections[MAX_CASES];
	bool skip_kernel;
	bool skip_hsrelay;
	unsigned rounds;	/* --rounds: kernel / hsrelay pairs per case */
	bool verbose;		/* children print their counters on exit */
	uint32_t buffer;	/* hsrelay buffers per connection; 0: by the ring size */
	uint32_t output_queue;	/* hsrelay: segments built ahead of TX */
	/* Hidden: the role of a re-executed child. */
	const char *role;
	int shared_fd;
	const char *socket_path;
	int cpu;
};

static inline uint8_t
pattern_byte(uint64_t stream_offset)
{
	uint32_t j = (uint32_t)(stream_offset % PATTERN_LEN);

	return (uint8_t)(j + (j >> 8) * 29u + 0x5bu);
}

static void
pattern_fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern_byte(i);
}

static void
pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((unsigned)cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static bool
parent_stop(struct bench_shared *sh)
{
	return GET(sh->parent.stop) != 0 || getppid() == 1;
}

/* ---- hsrelay roles (re-executed children, one DPDK process each) ---- */

struct hs_app {
	struct stack *stack;
	struct tcp_stack *tcp;
	struct worker *worker;
	struct rte_mempool *pool;
	struct rte_mbuf *payload;	/* sender: PATTERN_LEN bytes, cloned per send */
	struct bench_shared *shared;
	bool sender;
	unsigned n_conns;
	uint32_t conns[MAX_CONNECTIONS];
	uint64_t offset[MAX_CONNECTIONS];	/* receiver: stream bytes taken */
	uint64_t bytes, checked, check_failures;
	uint32_t connected;
	uint64_t clone_failed;
};

/* Compares the first CHECK_LEN bytes of chain with the pattern at offset. */
static bool
chain_matches(const struct rte_mbuf *chain, uint64_t offset)
{
	uint32_t k = 0;

	for (const struct rte_mbuf *seg = chain; seg != NULL && k < CHECK_LEN; seg = seg->next) {
		const uint8_t *p = rte_pktmbuf_mtod(seg, const uint8_t *);

		for (uint16_t i = 0; i < seg->data_len && k < CHECK_LEN; i++, k++)
			if (p[i] != pattern_byte(offset + k))
				return false;
	}
	return true;
}

static void
hs_receive(struct hs_app *app, uint32_t conn, uint64_t now)
{
	struct rte_mbuf *chain;
	unsigned idx = 0;
	int got;

	/* Not ev.user: a READABLE drained in the same batch as its ACCEPTED
	 * predates any tcp_set_user(). */
	while (idx < app->n_conns && app->conns[idx] != conn)
		idx++;
	if (idx == app->n_conns)
		return;
	got = tcp_recv(app->tcp, conn, &chain, now);
	if (got <= 0)
		return;
	app->checked++;
	if (!chain_matches(chain, app->offset[idx]))
		app->check_failures++;
	app->offset[idx] += (uint64_t)got;
	app->bytes += (uint64_t)got;
	rte_pktmbuf_free(chain);
}

static void
hs_events(void *arg, struct stack *stack, const struct tcp_event *ev, unsigned n, uint64_t now)
{
	struct hs_app *app = arg;

	(void)stack;
	for (unsigned i = 0; i < n; i++) {
		switch (ev[i].type) {
		case TCP_EVENT_ACCEPTED:
			if (app->n_conns < MAX_CONNECTIONS)
				app->conns[app->n_conns++] = ev[i].conn;
			else
				tcp_abort(app->tcp, ev[i].conn, now);
			break;
		case TCP_EVENT_CONNECTED:
			app->connected++;
			if (app->connected == 1) {
				struct tcp_conn_info info;

				if (tcp_conn_info(app->tcp, ev[i].conn, &info) == 0)
					PUT(app->shared->sender.mss, info.mss);
			}
			PUT(app->shared->sender.connected, app->connected);
			break;
		case TCP_EVENT_READABLE:
			hs_receive(app, ev[i].conn, now);
			break;
		case TCP_EVENT_RESET:
		case TCP_EVENT_PEER_CLOSED:
		case TCP_EVENT_CLOSED:
			/* Nothing closes before the parent says stop. */
			fprintf(stderr, "hsrelay-bench tcp: %s: connection %u: event %u error %d\n",
					app->sender ? "sender" : "receiver", ev[i].conn, ev[i].type,
					ev[i].error);
			if (app->sender)
				PUT(app->shared->sender.error, ECONNRESET);
			else
				PUT(app->shared->receiver.error, ECONNRESET);
			break;
		default:
			break;
		}
	}
}

/* Sender: keep every send buffer full with clones of the pattern mbuf. */
static unsigned
hs_fill(struct hs_app *app, uint64_t now)
{
	unsigned sent = 0;

	for (unsigned i = 0; i < app->n_conns; i++) {
		while (tcp_send_space(app->tcp, app->conns[i]) >= PATTERN_LEN) {
			struct rte_mbuf *m = rte_pktmbuf_clone(app->payload, app->pool);

			if (m == NULL) {
				app->clone_failed++;
				return sent;
			}
			if (tcp_send(app->tcp, app->conns[i], m, now) != 0) {
				rte_pktmbuf_free(m);
				break;
			}
			sent++;
		}
	}
	return sent;
}

/* Once per loop iteration (the stack's timer phase): the application's
 * turn, then the counters the parent reads. */
static unsigned
hs_poll(void *arg, struct stack *stack, uint64_t now)
{
	struct hs_app *app = arg;
	const struct tcp_stats *st = tcp_stack_stats(app->tcp);
	unsigned work = 0;
	uint64_t busy, poll;

	(void)stack;
	worker_cycles(app->worker, &busy, &poll);
	if (app->sender) {
		PUT(app->shared->sender.busy_ns, worker_tsc_to_ns(busy));
		PUT(app->shared->sender.poll_ns, worker_tsc_to_ns(poll));
		work = hs_fill(app, now);
		PUT(app->shared->sender.retransmits, st->retransmitted_segments);
		PUT(app->shared->sender.tx_dropped, worker_counters(app->worker)->tx_dropped);
	} else {
		PUT(app->shared->receiver.busy_ns, worker_tsc_to_ns(busy));
		PUT(app->shared->receiver.poll_ns, worker_tsc_to_ns(poll));
		PUT(app->shared->receiver.bytes, app->bytes);
		PUT(app->shared->receiver.segments, st->segments_in);
		PUT(app->shared->receiver.checked, app->checked);
		PUT(app->shared->receiver.check_failures, app->check_failures);
	}
	return work;
}

static const struct stack_app_ops hs_app_ops = {
	.events = hs_events,
	.poll = hs_poll,
};

static int
hs_eal_start(const struct options *o, bool sender)
{
	char lcores[64], prefix[64], vdev[512];
	char *argv[24];
	int argc = 0;
	long free_pages = eal_free_hugepages_2mb("/proc/meminfo");

	snprintf(lcores, sizeof(lcores), "0@%d,1@%d", o->cpu, o->cpu);
	snprintf(prefix, sizeof(prefix), "hsbench%d%s", (int)getppid(), sender ? "s" : "r");
	snprintf(vdev, sizeof(vdev),
			"net_memif0,role=%s,socket=%s,socket-abstract=no,rsize=%d,mac=%02x:%02x:%02x:%02x:%02x:%02x",
			sender ? "client" : "server", o->socket_path, MEMIF_LOG2_RING,
			(sender ? &sender_mac : &receiver_mac)->addr_bytes[0],
			(sender ? &sender_mac : &receiver_mac)->addr_bytes[1],
			(sender ? &sender_mac : &receiver_mac)->addr_bytes[2],
			(sender ? &sender_mac : &receiver_mac)->addr_bytes[3],
			(sender ? &sender_mac : &receiver_mac)->addr_bytes[4],
			(sender ? &sender_mac : &receiver_mac)->addr_bytes[5]);
	argv[argc++] = (char *)"hsrelay-bench";
	argv[argc++] = (char *)"--lcores";
	argv[argc++] = lcores;
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--no-telemetry";
	argv[argc++] = (char *)"--file-prefix";
	argv[argc++] = prefix;
	/* Two processes' worth of pools: in-memory hugepages when enough are
	 * free, else plain memory (dataplane/eal.h makes the same choice). */
	if (free_pages >= 2 * 128) {
		argv[argc++] = (char *)"--in-memory";
	} else {
		argv[argc++] = (char *)"--no-huge";
		argv[argc++] = (char *)"--no-shconf";
		argv[argc++] = (char *)"-m";
		argv[argc++] = (char *)"256";
	}
	argv[argc++] = (char *)"--log-level=lib.eal:error";
	argv[argc++] = (char *)"--log-level=pmd.net.memif:error";
	argv[argc++] = (char *)"--vdev";
	argv[argc++] = vdev;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0)
		return -rte_errno;
	return 0;
}

static void
hs_print_stats(const char *role, const struct hs_app *app, const struct worker *worker)
{
	const struct tcp_stats *st = tcp_stack_stats(app->tcp);
	const struct stack_counters *sc = stack_counters(app->stack);
	const struct worker_counters *wc = worker != NULL ? worker_counters(worker) : NULL;

	fprintf(stderr, "%s: segments_in=%" PRIu64 " segments_out=%" PRIu64 " bytes_in=%" PRIu64
			" bytes_out=%" PRIu64 " retransmitted=%" PRIu64 " rto=%" PRIu64
			" fast_retransmits=%" PRIu64 " delayed_acks=%" PRIu64 " drop_no_mbuf=%" PRIu64
			" drop_output_full=%" PRIu64 " drop_checksum=%" PRIu64 " drop_ooo_full=%" PRIu64
			" drop_out_of_window=%" PRIu64 " ooo=%" PRIu64 " clone_failed=%" PRIu64,
			role, st->segments_in, st->segments_out, st->bytes_in, st->bytes_out,
			st->retransmitted_segments, st->retransmit_timeouts, st->fast_retransmits,
			st->delayed_acks, st->drop_no_mbuf, st->drop_output_full, st->drop_checksum,
			st->drop_ooo_full, st->drop_out_of_window, st->ooo_segments, app->clone_failed);
	fprintf(stderr, " tcp_tx=%" PRIu64 " arp_requests=%" PRIu64 " tcp_held=%" PRIu64
			" drop_unresolved=%" PRIu64, sc->tcp_tx, sc->arp_requests, sc->tcp_held,
			sc->drop_unresolved);
	if (wc != NULL)
		fprintf(stderr, " polls=%" PRIu64 " rx=%" PRIu64 " tx=%" PRIu64 " tx_dropped=%" PRIu64,
				wc->polls, wc->rx_packets, wc->tx_packets, wc->tx_dropped);
	for (unsigned i = 0; i < app->n_conns; i++) {
		struct tcp_conn_info info;

		if (tcp_conn_info(app->tcp, app->conns[i], &info) == 0)
			fprintf(stderr, " [conn %u cwnd=%u ssthresh=%u snd_wnd=%u rcv_wnd=%u srtt_us=%" PRIu64
					" wscale=%u/%u]", i, info.cwnd, info.ssthresh, info.snd_wnd,
					info.rcv_wnd, info.srtt_ns / 1000, info.snd_wscale, info.rcv_wscale);
	}
	fprintf(stderr, "\n");
}

static int
hs_role_main(const struct options *o, struct bench_shared *sh)
{
	bool sender = strcmp(o->role, "hs-sender") == 0;
	struct hs_app *app;
	struct rte_ring *control = NULL, *events = NULL;
	struct worker *worker = NULL;
	struct port_info port;
	uint16_t port_id;
	unsigned lcore = 1;
	bool port_started = false, launched = false;
	int rc, *error = sender ? &sh->sender.error : &sh->receiver.error;
	uint32_t *halted = sender ? &sh->sender.halted : &sh->receiver.halted;
	uint32_t *peer_halted = sender ? &sh->receiver.halted : &sh->sender.halted;

	rc = hs_eal_start(o, sender);
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench tcp: %s: EAL: %s\n", o->role, rte_strerror(-rc));
		PUT(*error, -rc);
		PUT(*halted, 1);
		if (sender)
			PUT(sh->sender.closed, 1);
		return 1;
	}
	app = calloc(1, sizeof(*app));
	if (app == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	app->sender = sender;
	app->shared = sh;
	app->pool = port_mempool_create("bench", POOL_MBUFS, (int)rte_socket_id());
	if (app->pool == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = port_find("net_memif0", &port_id);
	if (rc < 0)
		goto out;
	/* memif offers no checksum offloads: the stack sums in software. */
	rc = port_start(port_id, 1, &app->pool, 1024, 1024, false, &port);
	if (rc < 0)
		goto out;
	port_started = true;

	struct stack_config cfg = {
		.index = 0,
		.n_workers = 1,
		.socket_id = (int)rte_socket_id(),
		.pool = app->pool,
		.mac = sender ? sender_mac : receiver_mac,
		.ip = sender ? SENDER_IP : RECEIVER_IP,
		.prefix_len = 24,
		.arp = {
			.capacity = 16,
			.held_per_entry = 8,
			.max_requests = 3,
			.reachable_ns = 60ull * 1000000000,
			.retry_ns = 1000000000ull,
		},
		.tcp = {
			.max_connections = 2 * MAX_CONNECTIONS,
			.recv_buffer = o->buffer,
			.send_buffer = o->buffer,
			.output_queue_size = o->output_queue,
		},
		.app = &hs_app_ops,
		.app_arg = app,
	};

	app->stack = stack_create(&cfg, &rc);
	if (app->stack == NULL)
		goto out;
	app->tcp = stack_tcp(app->stack);

	control = ring_msg_ring_create(sender ? "bench_ctl_s" : "bench_ctl_r", 64,
			(int)rte_socket_id());
	events = ring_msg_ring_create(sender ? "bench_ev_s" : "bench_ev_r", 64,
			(int)rte_socket_id());
	if (control == NULL || events == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	struct worker_config wc = {
		.index = 0,
		.n_workers = 1,
		.port_id = port_id,
		.queue_id = 0,
		.control_ring = control,
		.event_ring = events,
		.ops = &stack_worker_ops,
		.stack = app->stack,
		.socket_id = (int)rte_socket_id(),
	};

	worker = worker_create(&wc);
	if (worker == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	app->worker = worker;

	if (sender) {
		struct rte_mempool *payload_pool = rte_pktmbuf_pool_create("bench_payload", 1, 0, 0,
				(uint16_t)(RTE_PKTMBUF_HEADROOM + PATTERN_LEN), (int)rte_socket_id());
		uint8_t *p;

		if (payload_pool == NULL || (app->payload = rte_pktmbuf_alloc(payload_pool)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		p = (uint8_t *)rte_pktmbuf_append(app->payload, (uint16_t)PATTERN_LEN);
		if (p == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		pattern_fill(p, PATTERN_LEN);
		/* The SYN must not race the memif connection. */
		if (!port_link_wait(port_id, 10000)) {
			rc = -ENOLINK;
			goto out;
		}
		for (unsigned i = 0; i < o->connections[0]; i++) {
			rc = tcp_connect(app->tcp, SENDER_IP, 0, RECEIVER_IP, BENCH_PORT,
					worker_tsc_to_ns(rte_rdtsc()), &app->conns[i]);
			if (rc < 0)
				goto out;
			app->n_conns++;
		}
	} else {
		uint32_t listener;

		rc = tcp_listen(app->tcp, RECEIVER_IP, BENCH_PORT, &listener);
		if (rc < 0)
			goto out;
	}

	rc = rte_eal_remote_launch(worker_run, worker, lcore);
	if (rc < 0)
		goto out;
	launched = true;
	if (!sender)
		PUT(sh->receiver.ready, 1);
	while (!parent_stop(sh)) {
		struct timespec tick = { .tv_sec = 0, .tv_nsec = 10000000 };

		nanosleep(&tick, NULL);
	}
	rc = 0;
out:
	if (launched) {
		struct ring_msg stop = { .type = RING_MSG_STOP };

		while (ring_msg_send(control, &stop) < 0)
			rte_pause();
		rte_eal_wait_lcore(lcore);
	}
	/* A memif peer that goes away unmaps the shared rings under a worker
	 * still polling them: close only once neither side polls. */
	PUT(*halted, 1);
	{
		uint64_t end = bench_now_ns() + STOP_TIMEOUT_NS / 2;

		while (GET(*peer_halted) == 0 && bench_now_ns() < end && getppid() != 1) {
			struct timespec tick = { .tv_sec = 0, .tv_nsec = 1000000 };

			nanosleep(&tick, NULL);
		}
	}
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench tcp: %s: %s\n", o->role, strerror(-rc));
		PUT(*error, -rc);
	}
	if (o->verbose && app != NULL && app->stack != NULL)
		hs_print_stats(o->role, app, worker);
	if (app != NULL && app->stack != NULL)
		stack_destroy(app->stack);
	worker_destroy(worker);
	rte_ring_free(control);
	rte_ring_free(events);
	/* The memif client goes first. A peer's disconnect is handled on the
	 * EAL interrupt thread, which races a teardown of the same device on
	 * this thread, so the server tears down only once the client has
	 * finished. rte_eal_cleanup() removes the vdev (its bus cleanup
	 * closes the port); closing it here first would free it twice. */
	if (!sender) {
		uint64_t end = bench_now_ns() + STOP_TIMEOUT_NS / 2;

		while (GET(sh->sender.closed) == 0 && bench_now_ns() < end && getppid() != 1) {
			struct timespec tick = { .tv_sec = 0, .tv_nsec = 1000000 };

			nanosleep(&tick, NULL);
		}
		bench_sleep_ns(20000000);
	}
	if (port_started)
		rte_eth_dev_stop(port_id);
	rte_eal_cleanup();
	if (sender)
		PUT(sh->sender.closed, 1);
	free(app);
	return rc < 0 ? 1 : 0;
}

/* ---- Linux kernel roles (forked children in the namespaces) ---- */

static int
set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? -errno : 0;
}

static int
kernel_receiver(struct bench_shared *sh, unsigned connections)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(BENCH_PORT) };
	uint64_t offset[MAX_CONNECTIONS] = { 0 };
	int fds[MAX_CONNECTIONS];
	uint64_t bytes = 0, checked = 0, failures = 0;
	unsigned accepted = 0;
	uint8_t *buf = malloc(KERNEL_RECV_CHUNK);
	int one = 1, lfd, ep;

	inet_pton(AF_INET, RECEIVER_IP_TEXT, &addr.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (buf == NULL || lfd < 0 || ep < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 128) < 0)
		return -errno;
	PUT(sh->receiver.ready, 1);
	while (accepted < connections) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = accepted };

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (set_nonblocking(fd) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		fds[accepted++] = fd;
	}
	while (!parent_stop(sh)) {
		struct epoll_event evs[MAX_CONNECTIONS];
		int n = epoll_wait(ep, evs, MAX_CONNECTIONS, 50);

		for (int i = 0; i < n; i++) {
			unsigned c = evs[i].data.u32;

			for (;;) {
				ssize_t got = recv(fds[c], buf, KERNEL_RECV_CHUNK, 0);

				if (got <= 0) {
					if (got < 0 && errno == EAGAIN)
						break;
					if (got < 0 && errno == EINTR)
						continue;
					/* The sender never closes before the parent
					 * says stop. */
					if (!parent_stop(sh))
						return got == 0 ? -ECONNRESET : -errno;
					break;
				}
				checked++;
				for (uint32_t k = 0; k < CHECK_LEN && k < (uint32_t)got; k++)
					if (buf[k] != pattern_byte(offset[c] + k)) {
						failures++;
						break;
					}
				offset[c] += (uint64_t)got;
				bytes += (uint64_t)got;
			}
		}
		PUT(sh->receiver.bytes, bytes);
		PUT(sh->receiver.checked, checked);
		PUT(sh->receiver.check_failures, failures);
	}
	return 0;
}

static int
kernel_sender(struct bench_shared *sh, unsigned connections)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(BENCH_PORT) };
	uint64_t sent[MAX_CONNECTIONS] = { 0 };
	int fds[MAX_CONNECTIONS];
	size_t buf_len = PATTERN_LEN + KERNEL_SEND_CHUNK;
	uint8_t *buf = malloc(buf_len);
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (buf == NULL || ep < 0)
		return -ENOMEM;
	for (size_t i = 0; i < buf_len; i++)
		buf[i] = pattern_byte(i);
	inet_pton(AF_INET, RECEIVER_IP_TEXT, &addr.sin_addr);
	for (unsigned c = 0; c < connections; c++) {
		struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = c };

		fds[c] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[c] < 0 || connect(fds[c], (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		    set_nonblocking(fds[c]) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[c], &ev) < 0)
			return -errno;
	}
	{
		struct tcp_info info;
		socklen_t len = sizeof(info);

		if (getsockopt(fds[0], IPPROTO_TCP, TCP_INFO, &info, &len) == 0)
			PUT(sh->sender.mss, info.tcpi_snd_mss);
	}
	PUT(sh->sender.connected, connections);
	while (!parent_stop(sh)) {
		struct epoll_event evs[MAX_CONNECTIONS];
		int n = epoll_wait(ep, evs, MAX_CONNECTIONS, 50);

		for (int i = 0; i < n; i++) {
			unsigned c = evs[i].data.u32;

			for (;;) {
				ssize_t put = send(fds[c], buf + sent[c] % PATTERN_LEN,
						KERNEL_SEND_CHUNK, MSG_NOSIGNAL);

				if (put < 0) {
					if (errno == EAGAIN)
						break;
					if (errno == EINTR)
						continue;
					if (parent_stop(sh))
						break;
					return -errno;
				}
				sent[c] += (uint64_t)put;
			}
		}
	}
	{
		uint64_t retrans = 0;

		for (unsigned c = 0; c < connections; c++) {
			struct tcp_info info;
			socklen_t len = sizeof(info);

			if (getsockopt(fds[c], IPPROTO_TCP, TCP_INFO, &info, &len) == 0)
				retrans += info.tcpi_total_retrans;
		}
		PUT(sh->sender.retransmits, retrans);
	}
	return 0;
}

/* ---- the parent ---- */

struct run_state {
	struct bench_shared *sh;
	int shared_fd;
	pid_t receiver, sender;
	char netns_a[64], netns_b[64];
	bool netns_made;
	char tmpdir[128];
	char socket_path[192];
};

static void
netns_delete(struct run_state *st)
{
	if (!st->netns_made)
		return;
	bench_netns_delete(st->netns_a);
	bench_netns_delete(st->netns_b);
	st->netns_made = false;
}

static int
netns_create(struct run_state *st)
{
	snprintf(st->netns_a, sizeof(st->netns_a), "hsbench%da", (int)getpid());
	snprintf(st->netns_b, sizeof(st->netns_b), "hsbench%db", (int)getpid());
	st->netns_made = true;
	if (bench_netns_create(st->netns_a) != 0 || bench_netns_create(st->netns_b) != 0 ||
	    BENCH_RUN("ip", "link", "add", "hsb0", "netns", st->netns_a, "type", "veth",
		"peer", "name", "hsb1", "netns", st->netns_b) != 0 ||
	    BENCH_RUN("ip", "-n", st->netns_a, "addr", "add", SENDER_IP_TEXT "/24", "dev", "hsb0") != 0 ||
	    BENCH_RUN("ip", "-n", st->netns_b, "addr", "add", RECEIVER_IP_TEXT "/24", "dev", "hsb1") != 0 ||
	    BENCH_RUN("ip", "-n", st->netns_a, "link", "set", "lo", "up") != 0 ||
	    BENCH_RUN("ip", "-n", st->netns_b, "link", "set", "lo", "up") != 0 ||
	    BENCH_RUN("ip", "-n", st->netns_a, "link", "set", "hsb0", "up") != 0 ||
	    BENCH_RUN("ip", "-n", st->netns_b, "link", "set", "hsb1", "up") != 0) {
		fprintf(stderr, "hsrelay-bench tcp: could not set up the namespaces (root and iproute2 needed)\n");
		return -EPERM;
	}
	return 0;
}

/* Kills (if still running) and reaps a child; returns its exit status, or
 * -1 when it had to be killed or died of a signal. */
static int
reap(pid_t *pid, uint64_t timeout_ns)
{
	uint64_t end = bench_now_ns() + timeout_ns;
	int status = 0;
	bool killed = false;

	if (*pid <= 0)
		return 0;
	for (;;) {
		pid_t r = waitpid(*pid, &status, WNOHANG);

		if (r == *pid)
			break;
		if (r < 0 && errno != EINTR) {
			*pid = 0;
			return -1;
		}
		if (!killed && bench_now_ns() > end) {
			kill(*pid, SIGKILL);
			killed = true;
		}
		bench_sleep_ns(5000000);
	}
	*pid = 0;
	if (WIFSIGNALED(status) && !killed)
		fprintf(stderr, "hsrelay-bench tcp: a child died of signal %d\n", WTERMSIG(status));
	if (killed || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* EAL keeps a runtime directory per --file-prefix even with --no-shconf;
 * the roles' prefixes are hsbench<parent pid>{r,s}. */
static void
remove_eal_runtime_dirs(void)
{
	static const char suffix[2] = { 'r', 's' };

	for (unsigned i = 0; i < 2; i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "hsbench%d%c", (int)getpid(), suffix[i]);
		bench_eal_runtime_dir_remove(prefix);
	}
}

static void
run_state_cleanup(struct run_state *st)
{
	if (st->sh != NULL)
		PUT(st->sh->parent.stop, 1);
	reap(&st->sender, STOP_TIMEOUT_NS);
	reap(&st->receiver, STOP_TIMEOUT_NS);
	netns_delete(st);
	remove_eal_runtime_dirs();
	if (st->socket_path[0] != '\0')
		unlink(st->socket_path);
	if (st->tmpdir[0] != '\0')
		rmdir(st->tmpdir);
	st->tmpdir[0] = st->socket_path[0] = '\0';
	if (st->sh != NULL)
		munmap(st->sh, sizeof(*st->sh));
	if (st->shared_fd >= 0)
		close(st->shared_fd);
	st->sh = NULL;
	st->shared_fd = -1;
}

static int
shared_create(struct run_state *st)
{
	/* No MFD_CLOEXEC: the re-executed hsrelay roles map it by number. */
	st->shared_fd = memfd_create("hsrelay-bench-tcp", 0);
	if (st->shared_fd < 0 || ftruncate(st->shared_fd, sizeof(*st->sh)) < 0)
		return -errno;
	st->sh = mmap(NULL, sizeof(*st->sh), PROT_READ | PROT_WRITE, MAP_SHARED, st->shared_fd, 0);
	if (st->sh == MAP_FAILED) {
		st->sh = NULL;
		return -errno;
	}
	memset(st->sh, 0, sizeof(*st->sh));
	return 0;
}

/* Waits until *flag >= want, the child dies, or the timeout. */
static int
wait_flag(struct run_state *st, const uint32_t *flag, uint32_t want, const char *what)
{
	uint64_t end = bench_now_ns() + START_TIMEOUT_NS;

	while (GET(*flag) < want) {
		if (bench_interrupted)
			return -EINTR;
		if (GET(st->sh->receiver.error) || GET(st->sh->sender.error) ||
		    !bench_child_alive(st->receiver) || (st->sender > 0 && !bench_child_alive(st->sender))) {
			fprintf(stderr, "hsrelay-bench tcp: a child failed while waiting for %s "
					"(receiver error %d%s, sender error %d%s)\n", what,
					(int)GET(st->sh->receiver.error),
					bench_child_alive(st->receiver) ? "" : ", exited",
					(int)GET(st->sh->sender.error),
					st->sender > 0 && !bench_child_alive(st->sender) ? ", exited" : "");
			return -ECHILD;
		}
		if (bench_now_ns() > end) {
			fprintf(stderr, "hsrelay-bench tcp: timed out waiting for %s\n", what);
			return -ETIMEDOUT;
		}
		bench_sleep_ns(2000000);
	}
	return 0;
}

/* Busy time of all CPUs in ns (bench_system_cpu()). */
static uint64_t
system_busy_ns(void)
{
	double busy, softirq;

	bench_system_cpu(&busy, &softirq);
	return (uint64_t)(busy * 1e9);
}

struct measurement {
	double seconds;
	uint64_t bytes, segments;
	/* kernel: schedstat of both processes; hsrelay: each side's
	 * schedstat times its worker's busy share (busy_share) */
	double cpu_cores;
	double cpu_cores_measured;	/* schedstat of both processes */
	double busy_share[2];		/* hsrelay: sender, receiver */
	double cpu_cores_system;	/* whole machine busy */
	double load_average;		/* 1-minute load before the window */
	double round_trip_ns[2];	/* bench_env.h: before and after the case */
	unsigned round;			/* --rounds: which (from 1) */
	uint32_t mss;
	uint64_t retransmits, tx_dropped, checked;
};

static int
measure_window(struct run_state *st, const struct options *o, bool kernel, struct measurement *m)
{
	struct bench_shared *sh = st->sh;
	uint64_t t0, t1, b0, s0, cpu0[2], cpu1[2], sys0, sys1, busy0[2], poll0[2];

	bench_sleep_ns((uint64_t)(o->warmup * 1e9));
	t0 = bench_now_ns();
	b0 = GET(sh->receiver.bytes);
	s0 = GET(sh->receiver.segments);
	sys0 = system_busy_ns();
	cpu0[0] = bench_process_cpu_ns(st->sender);
	cpu0[1] = bench_process_cpu_ns(st->receiver);
	busy0[0] = GET(sh->sender.busy_ns);
	poll0[0] = GET(sh->sender.poll_ns);
	busy0[1] = GET(sh->receiver.busy_ns);
	poll0[1] = GET(sh->receiver.poll_ns);
	m->load_average = bench_load_average();
	while (bench_now_ns() - t0 < (uint64_t)(o->seconds * 1e9)) {
		if (bench_interrupted)
			return -EINTR;
		bench_sleep_ns(10000000);
	}
	t1 = bench_now_ns();
	m->bytes = GET(sh->receiver.bytes) - b0;
	m->segments = GET(sh->receiver.segments) - s0;
	sys1 = system_busy_ns();
	cpu1[0] = bench_process_cpu_ns(st->sender);
	cpu1[1] = bench_process_cpu_ns(st->receiver);
	m->seconds = (double)(t1 - t0) / 1e9;
	m->cpu_cores_measured = (double)(cpu1[0] - cpu0[0] + cpu1[1] - cpu0[1]) /
		(double)(t1 - t0);
	if (kernel) {
		m->cpu_cores = m->cpu_cores_measured;
	} else {
		/* A poll-mode worker spins on empty queues when its peer is
		 * the bottleneck: count each side's CPU time times the busy
		 * share of its loop's TSC time, as the relay bench does
		 * (bench_rut.c), not the whole core. */
		uint64_t busy1[2] = { GET(sh->sender.busy_ns), GET(sh->receiver.busy_ns) };
		uint64_t poll1[2] = { GET(sh->sender.poll_ns), GET(sh->receiver.poll_ns) };

		m->cpu_cores = 0;
		for (unsigned i = 0; i < 2; i++) {
			uint64_t poll = poll1[i] - poll0[i];

			m->busy_share[i] = poll > 0 ? (double)(busy1[i] - busy0[i]) / (double)poll : 0;
			m->cpu_cores += (double)(cpu1[i] - cpu0[i]) * m->busy_share[i] /
				(double)(t1 - t0);
		}
		if (!(m->cpu_cores > 0)) {
			fprintf(stderr, "hsrelay-bench tcp: no busy worker time in the window\n");
			return -EIO;
		}
	}
	m->cpu_cores_system = (double)(sys1 - sys0) / (double)(t1 - t0);
	m->mss = GET(sh->sender.mss);
	if (kernel && m->mss > 0)
		m->segments = (m->bytes + m->mss - 1) / m->mss;
	PUT(sh->parent.stop, 1);
	{
		int sender_status = reap(&st->sender, STOP_TIMEOUT_NS);
		int receiver_status = reap(&st->receiver, STOP_TIMEOUT_NS);

		if (sender_status != 0 || receiver_status != 0) {
			fprintf(stderr, "hsrelay-bench tcp: a child did not exit cleanly "
					"(sender %d, receiver %d; -1: killed or signalled)\n",
					sender_status, receiver_status);
			return -ECHILD;
		}
	}
	m->retransmits = GET(sh->sender.retransmits);
	m->tx_dropped = GET(sh->sender.tx_dropped);
	m->checked = GET(sh->receiver.checked);
	if (GET(sh->receiver.check_failures) != 0) {
		fprintf(stderr, "hsrelay-bench tcp: %" PRIu64 " received chains did not match the pattern\n",
				GET(sh->receiver.check_failures));
		return -EBADMSG;
	}
	if (m->bytes == 0 || m->checked == 0) {
		fprintf(stderr, "hsrelay-bench tcp: nothing was received in the window\n");
		return -EIO;
	}
	return 0;
}

static pid_t
fork_kernel_role(struct run_state *st, bool sender, unsigned connections)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	pin_to_cpu(sender ? 1 % (int)sysconf(_SC_NPROCESSORS_ONLN) : 0);
	int rc = bench_netns_enter(sender ? st->netns_a : st->netns_b);

	if (rc == 0)
		rc = sender ? kernel_sender(st->sh, connections) : kernel_receiver(st->sh, connections);
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench tcp: kernel %s: %s\n", sender ? "sender" : "receiver",
				strerror(-rc));
		if (sender)
			PUT(st->sh->sender.error, -rc);
		else
			PUT(st->sh->receiver.error, -rc);
	}
	_exit(rc < 0 ? 1 : 0);
}

static int
run_kernel(const struct options *o, unsigned connections, struct measurement *m)
{
	struct run_state st = { .shared_fd = -1 };
	int rc;

	m->round_trip_ns[0] = bench_cpu_round_trip_ns(0, 1);
	rc = shared_create(&st);
	if (rc == 0)
		rc = netns_create(&st);
	if (rc == 0) {
		st.receiver = fork_kernel_role(&st, false, connections);
		rc = st.receiver < 0 ? -errno : wait_flag(&st, &st.sh->receiver.ready, 1, "the kernel receiver");
	}
	if (rc == 0) {
		st.sender = fork_kernel_role(&st, true, connections);
		rc = st.sender < 0 ? -errno :
			wait_flag(&st, &st.sh->sender.connected, connections, "the kernel connections");
	}
	if (rc == 0)
		rc = measure_window(&st, o, true, m);
	run_state_cleanup(&st);
	m->round_trip_ns[1] = bench_cpu_round_trip_ns(0, 1);
	return rc;
}

static pid_t
spawn_hs_role(struct run_state *st, const char *role, unsigned connections, int cpu,
		const struct options *o)
{
	char fd_text[16], conn_text[16], cpu_text[16], buffer_text[16], queue_text[16];
	pid_t pid;

	snprintf(fd_text, sizeof(fd_text), "%d", st->shared_fd);
	snprintf(conn_text, sizeof(conn_text), "%u", connections);
	snprintf(cpu_text, sizeof(cpu_text), "%d", cpu);
	pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	uint32_t buffer = o->buffer;

	if (buffer == 0) {
		buffer = MEMIF_RING_PAYLOAD / 4 * 3 / connections;
		buffer = RTE_MIN(buffer, BUFFER_MAX) & ~(64u * 1024 - 1);
	}
	snprintf(buffer_text, sizeof(buffer_text), "%u", buffer / 1024);
	snprintf(queue_text, sizeof(queue_text), "%u", o->output_queue);
	execl("/proc/self/exe", "hsrelay-bench", "tcp", "--role", role, "--shared-fd", fd_text,
			"--socket", st->socket_path, "--cpu", cpu_text, "--connections", conn_text,
			"--buffer-kib", buffer_text, "--output-queue", queue_text, o->verbose ? "--verbose" : (char *)NULL,
			(char *)NULL);
	_exit(127);
}

static int
run_hsrelay(const struct options *o, unsigned connections, struct measurement *m)
{
	struct run_state st = { .shared_fd = -1 };
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	m->round_trip_ns[0] = bench_cpu_round_trip_ns(0, 1);
	rc = shared_create(&st);

	snprintf(st.tmpdir, sizeof(st.tmpdir), "/tmp/hsrelay-bench-tcp-XXXXXX");
	if (rc == 0 && mkdtemp(st.tmpdir) == NULL) {
		st.tmpdir[0] = '\0';
		rc = -errno;
	}
	if (rc == 0) {
		snprintf(st.socket_path, sizeof(st.socket_path), "%s/memif.sock", st.tmpdir);
		st.receiver = spawn_hs_role(&st, "hs-receiver", connections, 0, o);
		rc = st.receiver < 0 ? -errno :
			wait_flag(&st, &st.sh->receiver.ready, 1, "the hsrelay receiver");
	}
	if (rc == 0) {
		st.sender = spawn_hs_role(&st, "hs-sender", connections, 1 % ncpu, o);
		rc = st.sender < 0 ? -errno :
			wait_flag(&st, &st.sh->sender.connected, connections, "the hsrelay connections");
	}
	if (rc == 0)
		rc = measure_window(&st, o, false, m);
	run_state_cleanup(&st);
	m->round_trip_ns[1] = bench_cpu_round_trip_ns(0, 1);
	return rc;
}

/* Goodput per core, Gbit/s. */
static double
per_core_gbit(const struct measurement *m)
{
	return (double)m->bytes * 8 / m->seconds / 1e9 / m->cpu_cores;
}

/* hsrelay's goodput per core over the kernel's (ratio_vs_reference). */
static double
per_core_ratio(const struct measurement *m, const struct measurement *reference)
{
	return per_core_gbit(m) / per_core_gbit(reference);
}

static void
print_line(const char *impl, unsigned connections, const struct measurement *m,
		bool hsrelay, const struct measurement *reference)
{
	double gbit = (double)m->bytes * 8 / m->seconds / 1e9;
	double per_core = per_core_gbit(m);

	printf("{\"bench\":\"tcp\",\"impl\":\"%s\",\"round\":%u,\"connections\":%u,\"seconds\":%.3f,"
	       "\"gbit_per_s\":%.3f,\"segments_per_s\":%.0f,\"cpu_cores\":%.3f,"
	       "\"gbit_per_s_per_core\":%.3f,\"cpu_cores_measured\":%.3f,"
	       "\"cpu_cores_system\":%.3f,\"mss\":%u,"
	       "\"retransmits\":%" PRIu64 ",\"checked_reads\":%" PRIu64,
	       impl, m->round, connections, m->seconds, gbit, (double)m->segments / m->seconds,
	       m->cpu_cores, per_core, m->cpu_cores_measured, m->cpu_cores_system,
	       m->mss, m->retransmits, m->checked);
	if (hsrelay)
		printf(",\"tx_dropped\":%" PRIu64 ",\"cpu_what\":\"worker busy iterations\","
		       "\"sender_busy_share\":%.3f,\"receiver_busy_share\":%.3f",
		       m->tx_dropped, m->busy_share[0], m->busy_share[1]);
	else
		printf(",\"cpu_what\":\"process\"");
	if (reference != NULL)
		printf(",\"ratio_vs_reference\":%.3f", per_core_ratio(m, reference));
	bench_print_line_end(m->round_trip_ns[0], m->round_trip_ns[1], m->load_average);
}

static void
usage(FILE *to)
{
	fprintf(to, "usage: hsrelay-bench tcp [--quick] [--seconds S] [--connections N[,N...]]\n"
		    "                         [--kernel-only | --hsrelay-only] [--rounds N]\n"
		    "  needs root: creates two network namespaces joined by a veth pair\n"
		    "  --rounds: per connections value, alternate the kernel and hsrelay N\n"
		    "            times (1..20), then a ratio_summary line with the median\n");
}

int
bench_tcp_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, 'c' },
		{ "kernel-only", no_argument, NULL, 'k' },
		{ "hsrelay-only", no_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "buffer-kib", required_argument, NULL, 'b' },
		{ "output-queue", required_argument, NULL, 'o' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "role", required_argument, NULL, 'r' },
		{ "shared-fd", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 'S' },
		{ "cpu", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = {
		.seconds = 3.0,
		.warmup = 0.5,
		.rounds = 1,
		.n_cases = 2,
		.connections = { 1, 8 },
		.shared_fd = -1,
		.cpu = 0,
		.output_queue = 64,
	};
	bool seconds_set = false, connections_set = false;
	int opt, n;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'q':
			o.quick = true;
			break;
		case 's':
			o.seconds = strtod(optarg, NULL);
			seconds_set = true;
			if (!(o.seconds > 0 && o.seconds <= 600)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'c':
			connections_set = true;
			n = bench_parse_list(optarg, MAX_CONNECTIONS, o.connections, MAX_CASES);
			o.n_cases = n > 0 ? (unsigned)n : 0;
			if (n < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'k':
			o.skip_hsrelay = true;
			break;
		case 'H':
			o.skip_kernel = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'o':
			o.output_queue = (uint32_t)strtoul(optarg, NULL, 10);
			if (o.output_queue < 8 || o.output_queue > 65536) {
				usage(stderr);
				return 2;
			}
			break;
		case 'R':
			if (bench_parse_rounds(optarg, &o.rounds) < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'b':
			o.buffer = (uint32_t)strtoul(optarg, NULL, 10) * 1024;
			if (o.buffer < 64 * 1024 || o.buffer > (64u << 20)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'r':
			o.role = optarg;
			break;
		case 'f':
			o.shared_fd = atoi(optarg);
			break;
		case 'S':
			o.socket_path = optarg;
			break;
		case 'C':
			o.cpu = atoi(optarg);
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.role != NULL) {
		struct bench_shared *sh;

		if (o.shared_fd < 0 || o.socket_path == NULL ||
		    (strcmp(o.role, "hs-sender") != 0 && strcmp(o.role, "hs-receiver") != 0))
			return 2;
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, o.shared_fd, 0);
		if (sh == MAP_FAILED)
			return 1;
		return hs_role_main(&o, sh);
	}
	if (o.quick) {
		if (!seconds_set)
			o.seconds = 0.25;
		if (!connections_set) {
			o.n_cases = 2;
			o.connections[0] = 1;
			o.connections[1] = 4;
		}
		o.warmup = 0.1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "hsrelay-bench tcp: needs root (network namespaces, veth)\n");
		return 77;
	}

	bench_catch_signals();

	for (unsigned i = 0; i < o.n_cases; i++) {
		struct measurement kernel = { 0 }, hs = { 0 };
		unsigned c = o.connections[i];
		double ratios[BENCH_MAX_ROUNDS];
		unsigned n_ratios = 0;
		int rc;

		/* Each round: the kernel, then hsrelay. */
		for (unsigned round = 1; round <= o.rounds; round++) {
			if (!o.skip_kernel) {
				rc = run_kernel(&o, c, &kernel);
				if (rc < 0) {
					fprintf(stderr, "hsrelay-bench tcp: linux_kernel, %u connections: "
							"%s\n", c, strerror(-rc));
					return 1;
				}
				kernel.round = round;
				print_line("linux_kernel", c, &kernel, false, NULL);
			}
			if (!o.skip_hsrelay) {
				rc = run_hsrelay(&o, c, &hs);
				if (rc < 0) {
					fprintf(stderr, "hsrelay-bench tcp: hsrelay, %u connections: %s\n",
							c, strerror(-rc));
					return 1;
				}
				hs.round = round;
				print_line("hsrelay", c, &hs, true, o.skip_kernel ? NULL : &kernel);
				if (!o.skip_kernel)
					ratios[n_ratios++] = per_core_ratio(&hs, &kernel);
			}
			if (bench_interrupted)
				return 1;
		}
		if (o.rounds > 1 && n_ratios > 0)
			bench_print_ratio_summary("tcp", NULL, "connections", c, ratios, n_ratios);
	}
	return 0;
}
