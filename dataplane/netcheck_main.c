/* hsrelay-netcheck: the dataplane runtime with the per-worker protocol
 * stack (dataplane/stack.h) and two small TCP applications, for checking a
 * port and the TCP stack against kernel peers.
 *
 *   hsrelay-netcheck -f FILE [--seconds N]
 *
 * Reads FILE (control/config.h), starts EAL, one worker per
 * DPDKWorkerQueues on the lcores after the first, and answers ARP for and
 * ICMP echo to Address. Besides:
 *  - NetcheckTcpEchoPort P: every worker listens on Address:P and echoes
 *    every byte it receives on a connection back on it, sending the
 *    received mbuf chains themselves (no copy), and closes the connection
 *    once the peer closed and everything was echoed;
 *  - NetcheckConnect A:P: NetcheckConnections connections to A:P are
 *    opened (connection k by worker k % DPDKWorkerQueues, on a local port
 *    whose flow hash names that worker). Each sends NetcheckConnectBytes
 *    bytes of the pattern below, reads the echo back, compares it byte for
 *    byte and hashes it (SHA-256), then closes. The program ends when every
 *    connection is done, and prints one line per connection:
 *      client K worker W bytes=.. received=.. status=ok|mismatch|reset|
 *        closed|incomplete seconds=.. mbytes_per_s=.. sha256=<hex>
 *    (seconds from the end of the handshake to the last byte of the echo).
 *    The pattern: byte i of the stream is byte i % 4 of the little-endian
 *    32-bit number i / 4 (so any lost, repeated or misplaced byte shows).
 * It runs until SIGTERM or SIGINT, N seconds, or the clients are done. On
 * exit it prints one line of counters per worker:
 *   worker N rx=.. tx=.. tx_dropped=.. handoff_out=.. handoff_in=..
 *     handoff_dropped=.. arp=.. arp_replies=.. icmp_echo=.. icmp_replies=..
 *     tcp=.. tcp_not_owned=.. arp_requests=.. alloc_failed=.. idle_sleeps=..
 *     echo_accepted=.. echo_closed=.. echo_resets=.. echo_bytes=..
 *     tcp_<counter>=.. (TCP stack counters) drop_<reason>=.. (non-zero)
 * where tcp_not_owned counts TCP frames that reached a worker other than
 * the flow's owner (0 unless the hand-off is broken).
 * Exit status: 0; 1 when the dataplane failed; 2 for a bad command line or
 * configuration; 3 when a client connection did not get its bytes back
 * intact.
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

#include <openssl/evp.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "control/config.h"
#include "dataplane/eal.h"
#include "dataplane/ether.h"
#include "dataplane/ipv4.h"
#include "dataplane/port.h"
#include "dataplane/ring_msg.h"
#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "dataplane/worker.h"
#include "dataplane/worker_set.h"

#define NETCHECK_RING_SIZE 1024
#define NETCHECK_DESC 1024
#define NETCHECK_ARP_RETRY_NS 1000000000ull
#define NETCHECK_MAX_CONNECTIONS 1024
/* How long the main thread waits between looks at the signals, the time
 * limit and the workers' reports. */
#define NETCHECK_TICK_NS 20000000l

/* worker -> control on the results ring: every client connection of the
 * worker is done; u32 = how many failed. */
#define NETCHECK_MSG_CLIENTS_DONE 1

enum netcheck_role {
	NETCHECK_ROLE_NONE = 0,
	NETCHECK_ROLE_ECHO,
	NETCHECK_ROLE_CLIENT,
};

enum client_status {
	CLIENT_INCOMPLETE = 0,
	CLIENT_OK,
	CLIENT_MISMATCH,
	CLIENT_RESET,
	CLIENT_CLOSED,
};

static const char *const client_status_names[] = {
	[CLIENT_INCOMPLETE] = "incomplete",
	[CLIENT_OK] = "ok",
	[CLIENT_MISMATCH] = "mismatch",
	[CLIENT_RESET] = "reset",
	[CLIENT_CLOSED] = "closed",
};

/* One client connection. */
struct netcheck_client {
	unsigned id;              /* k of NetcheckConnections */
	uint32_t conn;
	bool opened;
	bool connected;
	bool finished;
	enum client_status status;
	uint64_t sent;
	uint64_t received;
	uint64_t started_ns;
	uint64_t finished_ns;
	struct rte_mbuf *unsent;  /* filled, refused by tcp_send(): retried */
	EVP_MD_CTX *sha;
	uint8_t digest[32];
};

/* Per connection handle: which application it belongs to. */
struct netcheck_conn {
	uint8_t role;              /* enum netcheck_role */
	bool peer_closed;
	uint32_t client;           /* index into netcheck_app.clients */
	struct rte_mbuf *pending;  /* echo: received bytes tcp_send() refused */
};

/* One worker's applications. */
struct __rte_cache_aligned netcheck_app {
	struct rte_mempool *pool;
	struct rte_ring *results;
	uint32_t remote_ip;
	uint16_t remote_port;
	uint64_t bytes_per_client;
	unsigned n_clients;
	unsigned clients_finished;
	bool clients_started;
	bool clients_reported;
	struct netcheck_client *clients;
	struct netcheck_conn conns[NETCHECK_MAX_CONNECTIONS];
	uint64_t echo_accepted;
	uint64_t echo_closed;
	uint64_t echo_resets;
	uint64_t echo_bytes;
	uint64_t client_alloc_failed;
};

/* Byte i of the client's stream (see the header comment). */
static inline uint8_t
pattern_byte(uint64_t i)
{
	return (uint8_t)((uint32_t)(i >> 2) >> ((i & 3) * 8));
}

static void
pattern_fill(uint8_t *p, uint64_t offset, uint32_t len)
{
	for (uint32_t k = 0; k < len; k++)
		p[k] = pattern_byte(offset + k);
}

static void
echo_forget(struct netcheck_app *app, uint32_t h)
{
	rte_pktmbuf_free(app->conns[h].pending);
	memset(&app->conns[h], 0, sizeof(app->conns[h]));
}

/* Sends back what was received, as long as the send buffer takes it; once
 * the peer has closed and nothing is left, closes. */
static void
echo_pump(struct netcheck_app *app, struct tcp_stack *tcp, uint32_t h, uint64_t now)
{
	struct netcheck_conn *c = &app->conns[h];

	for (;;) {
		int got;

		if (c->pending != NULL) {
			int rc = tcp_send(tcp, h, c->pending, now);

			if (rc == -EAGAIN)
				return;
			if (rc < 0) {
				tcp_abort(tcp, h, now);
				app->echo_resets++;
				echo_forget(app, h);
				return;
			}
			c->pending = NULL;
		}
		got = tcp_recv(tcp, h, &c->pending, now);
		if (got <= 0)
			break;
		app->echo_bytes += (uint64_t)got;
	}
	if (c->peer_closed) {
		tcp_close(tcp, h, now);
		app->echo_closed++;
		echo_forget(app, h);
	}
}

static void
client_finish(struct netcheck_app *app, struct tcp_stack *tcp,
		struct netcheck_client *cl, enum client_status status, uint64_t now)
{
	unsigned int len = sizeof(cl->digest);

	if (cl->finished)
		return;
	cl->finished = true;
	cl->status = status;
	cl->finished_ns = now;
	EVP_DigestFinal_ex(cl->sha, cl->digest, &len);
	rte_pktmbuf_free(cl->unsent);
	cl->unsent = NULL;
	if (cl->opened) {
		memset(&app->conns[cl->conn], 0, sizeof(app->conns[cl->conn]));
		if (status == CLIENT_OK || status == CLIENT_CLOSED ||
				status == CLIENT_RESET)
			tcp_close(tcp, cl->conn, now);
		else
			tcp_abort(tcp, cl->conn, now);
	}
	app->clients_finished++;
}

/* Queues more of the pattern while the send buffer takes it. */
static unsigned
client_push(struct netcheck_app *app, struct tcp_stack *tcp,
		struct netcheck_client *cl, uint64_t now)
{
	unsigned queued = 0;

	while (!cl->finished && cl->connected && cl->sent < app->bytes_per_client) {
		struct rte_mbuf *m = cl->unsent;
		int rc;

		if (m == NULL) {
			uint32_t len;

			m = rte_pktmbuf_alloc(app->pool);
			if (m == NULL) {
				app->client_alloc_failed++;
				break;
			}
			len = (uint32_t)RTE_MIN((uint64_t)rte_pktmbuf_tailroom(m),
					app->bytes_per_client - cl->sent);
			pattern_fill((uint8_t *)rte_pktmbuf_append(m, (uint16_t)len),
					cl->sent, len);
		}
		rc = tcp_send(tcp, cl->conn, m, now);
		if (rc == -EAGAIN) {
			cl->unsent = m;
			break;
		}
		cl->unsent = NULL;
		if (rc < 0) {
			rte_pktmbuf_free(m);
			client_finish(app, tcp, cl, CLIENT_CLOSED, now);
			break;
		}
		cl->sent += rte_pktmbuf_data_len(m);
		queued++;
	}
	return queued;
}

/* Takes the echo, checks it against the pattern and hashes it. */
static void
client_read(struct netcheck_app *app, struct tcp_stack *tcp,
		struct netcheck_client *cl, uint64_t now)
{
	struct rte_mbuf *chain;
	uint8_t expected[RTE_MBUF_DEFAULT_BUF_SIZE];

	while (!cl->finished && tcp_recv(tcp, cl->conn, &chain, now) > 0) {
		bool good = true;

		for (struct rte_mbuf *seg = chain; seg != NULL; seg = seg->next) {
			const uint8_t *data = rte_pktmbuf_mtod(seg, const uint8_t *);
			uint32_t len = seg->data_len;

			EVP_DigestUpdate(cl->sha, data, len);
			for (uint32_t done = 0; done < len && good;) {
				uint32_t n = RTE_MIN(len - done, (uint32_t)sizeof(expected));

				pattern_fill(expected, cl->received + done, n);
				good = memcmp(expected, data + done, n) == 0;
				done += n;
			}
			cl->received += len;
		}
		rte_pktmbuf_free(chain);
		if (!good || cl->received > app->bytes_per_client)
			client_finish(app, tcp, cl, CLIENT_MISMATCH, now);
		else if (cl->received == app->bytes_per_client)
			client_finish(app, tcp, cl, CLIENT_OK, now);
	}
}

static void
netcheck_events(void *arg, struct stack *stack, const struct tcp_event *ev,
		unsigned n, uint64_t now)
{
	struct netcheck_app *app = arg;
	struct tcp_stack *tcp = stack_tcp(stack);

	for (unsigned i = 0; i < n; i++) {
		uint32_t h = ev[i].conn;
		struct netcheck_conn *c;

		if (h >= NETCHECK_MAX_CONNECTIONS) {
			tcp_abort(tcp, h, now);
			continue;
		}
		c = &app->conns[h];
		if (ev[i].type == TCP_EVENT_ACCEPTED) {
			c->role = NETCHECK_ROLE_ECHO;
			app->echo_accepted++;
			continue;
		}
		if (c->role == NETCHECK_ROLE_ECHO) {
			switch (ev[i].type) {
			case TCP_EVENT_READABLE:
			case TCP_EVENT_WRITABLE:
				echo_pump(app, tcp, h, now);
				break;
			case TCP_EVENT_PEER_CLOSED:
				c->peer_closed = true;
				echo_pump(app, tcp, h, now);
				break;
			case TCP_EVENT_RESET:
			case TCP_EVENT_CLOSED:
				if (ev[i].type == TCP_EVENT_RESET)
					app->echo_resets++;
				tcp_close(tcp, h, now);
				echo_forget(app, h);
				break;
			default:
				break;
			}
		} else if (c->role == NETCHECK_ROLE_CLIENT) {
			struct netcheck_client *cl = &app->clients[c->client];

			switch (ev[i].type) {
			case TCP_EVENT_CONNECTED:
				cl->connected = true;
				cl->started_ns = now;
				client_push(app, tcp, cl, now);
				break;
			case TCP_EVENT_READABLE:
				client_read(app, tcp, cl, now);
				break;
			case TCP_EVENT_WRITABLE:
				client_push(app, tcp, cl, now);
				break;
			case TCP_EVENT_PEER_CLOSED:
				client_read(app, tcp, cl, now);
				client_finish(app, tcp, cl, CLIENT_CLOSED, now);
				break;
			case TCP_EVENT_RESET:
			case TCP_EVENT_CLOSED:
				client_finish(app, tcp, cl, ev[i].type == TCP_EVENT_RESET ?
						CLIENT_RESET : CLIENT_CLOSED, now);
				break;
			default:
				break;
			}
		} else {
			/* A handle nobody here knows: close it rather than leak it. */
			tcp_abort(tcp, h, now);
		}
	}
}

static unsigned
netcheck_poll(void *arg, struct stack *stack, uint64_t now)
{
	struct netcheck_app *app = arg;
	struct tcp_stack *tcp = stack_tcp(stack);
	unsigned work = 0;

	if (app->n_clients == 0)
		return 0;
	if (!app->clients_started) {
		app->clients_started = true;
		for (unsigned i = 0; i < app->n_clients; i++) {
			struct netcheck_client *cl = &app->clients[i];

			if (tcp_connect(tcp, stack_local_ip(stack), 0, app->remote_ip,
						app->remote_port, now, &cl->conn) < 0 ||
					cl->conn >= NETCHECK_MAX_CONNECTIONS) {
				client_finish(app, tcp, cl, CLIENT_RESET, now);
				continue;
			}
			cl->opened = true;
			app->conns[cl->conn].role = NETCHECK_ROLE_CLIENT;
			app->conns[cl->conn].client = i;
			work++;
		}
	}
	/* Pushes that stopped on an empty pool get no WRITABLE event. */
	if (app->client_alloc_failed)
		for (unsigned i = 0; i < app->n_clients; i++)
			if (app->clients[i].unsent == NULL)
				work += client_push(app, tcp, &app->clients[i], now);
	if (app->clients_finished == app->n_clients && !app->clients_reported) {
		unsigned failed = 0;

		for (unsigned i = 0; i < app->n_clients; i++)
			failed += app->clients[i].status != CLIENT_OK;
		if (ring_msg_send(app->results, &(struct ring_msg){
					.type = NETCHECK_MSG_CLIENTS_DONE,
					.worker = (uint16_t)stack_index(stack),
					.u32 = failed }) == 0)
			app->clients_reported = true;
	}
	return work;
}

static const struct stack_app_ops netcheck_app_ops = {
	.events = netcheck_events,
	.poll = netcheck_poll,
};

struct netcheck {
	struct config config;
	unsigned n_workers;
	/* lcores, mempools, the port, rings, stacks and poll loops */
	struct worker_set dp;
	struct rte_ring *results[WORKER_MAX];
	struct netcheck_app *apps[WORKER_MAX];
	uint64_t started_ns;
};

static void
print_counters(const struct worker *w, struct stack *s,
		const struct netcheck_app *app)
{
	const struct worker_counters *c = worker_counters(w);
	const struct stack_counters *sc = stack_counters(s);
	const struct net_counters *net = stack_net_counters(s);
	const struct tcp_stats *t = tcp_stack_stats(stack_tcp(s));
	const struct {
		const char *name;
		uint64_t value;
	} tcp[] = {
		{ "segments_in", t->segments_in }, { "segments_out", t->segments_out },
		{ "bytes_in", t->bytes_in }, { "bytes_out", t->bytes_out },
		{ "drop_malformed", t->drop_malformed }, { "drop_checksum", t->drop_checksum },
		{ "rx_checksum_offloaded", t->rx_checksum_offloaded },
		{ "tx_checksum_offloaded", t->tx_checksum_offloaded },
		{ "drop_no_socket", t->drop_no_socket },
		{ "drop_out_of_window", t->drop_out_of_window }, { "drop_paws", t->drop_paws },
		{ "drop_bad_ack", t->drop_bad_ack }, { "drop_ooo_full", t->drop_ooo_full },
		{ "drop_no_mbuf", t->drop_no_mbuf }, { "drop_output_full", t->drop_output_full },
		{ "drop_no_tcb", t->drop_no_tcb }, { "drop_after_close", t->drop_after_close },
		{ "resets_sent", t->resets_sent }, { "resets_received", t->resets_received },
		{ "challenge_acks", t->challenge_acks },
		{ "retransmit_timeouts", t->retransmit_timeouts },
		{ "retransmitted_segments", t->retransmitted_segments },
		{ "fast_retransmits", t->fast_retransmits }, { "partial_acks", t->partial_acks },
		{ "sack_recoveries", t->sack_recoveries }, { "sack_retransmits", t->sack_retransmits },
		{ "loss_probes", t->loss_probes }, { "loss_probe_repairs", t->loss_probe_repairs },
		{ "loss_probes_spurious", t->loss_probes_spurious }, { "dsacks_sent", t->dsacks_sent },
		{ "reorder_recoveries", t->reorder_recoveries },
		{ "lost_retransmits", t->lost_retransmits },
		{ "recoveries_undone", t->recoveries_undone },
		{ "persist_probes", t->persist_probes }, { "delayed_acks", t->delayed_acks },
		{ "syn_cookies_sent", t->syn_cookies_sent },
		{ "connections_accepted", t->connections_accepted },
		{ "connections_connected", t->connections_connected },
		{ "connect_timeouts", t->connect_timeouts }, { "data_timeouts", t->data_timeouts },
		{ "ooo_segments", t->ooo_segments },
	};

	printf("worker %u rx=%" PRIu64 " tx=%" PRIu64 " tx_dropped=%" PRIu64
			" handoff_out=%" PRIu64 " handoff_in=%" PRIu64
			" handoff_dropped=%" PRIu64 " arp=%" PRIu64 " arp_replies=%" PRIu64
			" icmp_echo=%" PRIu64 " icmp_replies=%" PRIu64 " tcp=%" PRIu64
			" tcp_not_owned=%" PRIu64 " arp_requests=%" PRIu64
			" alloc_failed=%" PRIu64 " idle_sleeps=%" PRIu64
			" echo_accepted=%" PRIu64 " echo_closed=%" PRIu64
			" echo_resets=%" PRIu64 " echo_bytes=%" PRIu64
			" arp_shared=%" PRIu64 " arp_share_dropped=%" PRIu64
			" arp_learnt=%" PRIu64 " capture_dropped=%" PRIu64,
			worker_index(w), c->rx_packets, c->tx_packets, c->tx_dropped,
			c->handoff_out, c->handoff_in, c->handoff_dropped, net->arp,
			sc->arp_replies, net->icmp_echo, sc->icmp_replies, net->tcp,
			sc->tcp_not_owned, sc->arp_requests,
			sc->alloc_failed + app->client_alloc_failed, c->idle_sleeps,
			app->echo_accepted, app->echo_closed, app->echo_resets,
			app->echo_bytes, sc->arp_shared, sc->arp_share_dropped,
			sc->arp_learnt, c->capture_dropped);
	for (size_t i = 0; i < RTE_DIM(tcp); i++)
		printf(" tcp_%s=%" PRIu64, tcp[i].name, tcp[i].value);
	if (sc->drop_no_route || sc->drop_unresolved || sc->drop_arp_evicted ||
			sc->drop_no_headroom)
		printf(" drop_no_route=%" PRIu64 " drop_unresolved=%" PRIu64
				" drop_arp_evicted=%" PRIu64 " drop_no_headroom=%" PRIu64,
				sc->drop_no_route, sc->drop_unresolved,
				sc->drop_arp_evicted, sc->drop_no_headroom);
	for (int r = 0; r < NET_DROP_REASON_COUNT; r++)
		if (net->drop[r])
			printf(" drop_%s=%" PRIu64, net_drop_reason_name(r), net->drop[r]);
	printf("\n");
}

/* Prints the client lines; returns how many connections failed. */
static unsigned
print_clients(const struct netcheck *nc)
{
	unsigned failed = 0;

	for (unsigned w = 0; w < nc->n_workers; w++) {
		const struct netcheck_app *app = nc->apps[w];

		for (unsigned i = 0; i < app->n_clients; i++) {
			const struct netcheck_client *cl = &app->clients[i];
			double seconds = cl->finished && cl->connected ?
				(double)(cl->finished_ns - cl->started_ns) / 1e9 : 0;
			char hex[65];

			for (int k = 0; k < 32; k++)
				snprintf(hex + 2 * k, 3, "%02x", cl->digest[k]);
			printf("client %u worker %u bytes=%" PRIu64 " sent=%" PRIu64
					" received=%" PRIu64 " status=%s seconds=%.3f"
					" mbytes_per_s=%.1f sha256=%s\n",
					cl->id, w, app->bytes_per_client, cl->sent, cl->received,
					client_status_names[cl->status], seconds,
					seconds > 0 ? (double)cl->received / 1e6 / seconds : 0.0,
					cl->finished ? hex : "-");
			failed += cl->status != CLIENT_OK;
		}
	}
	return failed;
}

static void
usage(const char *program)
{
	fprintf(stderr, "usage: %s -f CONFIG [--seconds N]\n", program);
}

/* worker_set hook: worker i's results ring and applications (the echo
 * service and its share of the client connections). */
static int
create_app(void *arg, struct worker_set *set, unsigned i, void **app_arg)
{
	struct netcheck *nc = arg;
	const struct config_netcheck *ncfg = &nc->config.netcheck;
	struct netcheck_app *app;
	char name[RTE_RING_NAMESIZE];
	unsigned n_clients = 0;

	snprintf(name, sizeof(name), "res%u", i);
	nc->results[i] = ring_msg_ring_create(name, 64, set->socket_id);
	if (!nc->results[i])
		return -ENOMEM;
	app = rte_zmalloc_socket("netcheck_app", sizeof(*app), RTE_CACHE_LINE_SIZE,
			set->socket_id);
	if (!app)
		return -ENOMEM;
	nc->apps[i] = app;
	*app_arg = app;
	app->pool = set->pools[i];
	app->results = nc->results[i];
	app->bytes_per_client = ncfg->connect_bytes;
	if (ncfg->has_connect) {
		app->remote_ip = ncfg->connect_address;
		app->remote_port = ncfg->connect_port;
		for (unsigned k = i; k < ncfg->connections; k += nc->n_workers)
			n_clients++;
	}
	if (n_clients == 0)
		return 0;
	app->clients = rte_zmalloc_socket("netcheck_clients",
			n_clients * sizeof(app->clients[0]), RTE_CACHE_LINE_SIZE, set->socket_id);
	if (!app->clients)
		return -ENOMEM;
	for (unsigned k = i, j = 0; k < ncfg->connections; k += nc->n_workers, j++) {
		app->clients[j].id = k;
		app->clients[j].sha = EVP_MD_CTX_new();
		app->n_clients++;
		if (!app->clients[j].sha ||
				EVP_DigestInit_ex(app->clients[j].sha, EVP_sha256(), NULL) != 1)
			return -ENOMEM;
	}
	return 0;
}

/* worker_set hook: the echo service listens on every worker. */
static int
attach_app(void *arg, struct worker_set *set, unsigned i)
{
	struct netcheck *nc = arg;
	uint32_t listener;

	if (!nc->config.netcheck.tcp_echo_port)
		return 0;
	return tcp_listen(stack_tcp(set->stacks[i]), nc->config.dpdk.address,
			nc->config.netcheck.tcp_echo_port, &listener);
}

static void
destroy_app(void *arg, unsigned i)
{
	struct netcheck *nc = arg;
	struct netcheck_app *app = nc->apps[i];

	if (app) {
		for (unsigned h = 0; h < NETCHECK_MAX_CONNECTIONS; h++)
			rte_pktmbuf_free(app->conns[h].pending);
		for (unsigned k = 0; k < app->n_clients; k++) {
			rte_pktmbuf_free(app->clients[k].unsent);
			EVP_MD_CTX_free(app->clients[k].sha);
		}
		rte_free(app->clients);
		rte_free(app);
		nc->apps[i] = NULL;
	}
	rte_ring_free(nc->results[i]);
	nc->results[i] = NULL;
}

/* True when every worker with client connections reported them done. */
static bool
clients_done(struct netcheck *nc, unsigned *reported)
{
	unsigned expected = 0;

	for (unsigned i = 0; i < nc->n_workers; i++) {
		struct ring_msg msg;

		if (nc->apps[i]->n_clients > 0)
			expected++;
		while (ring_msg_recv_burst(nc->results[i], &msg, 1) == 1)
			if (msg.type == NETCHECK_MSG_CLIENTS_DONE)
				(*reported)++;
	}
	return expected > 0 && *reported == expected;
}

/* Waits for SIGTERM/SIGINT (blocked in every thread since start-up), the
 * time limit, or the end of the client connections. */
static void
wait_for_stop(struct netcheck *nc, unsigned seconds)
{
	sigset_t set;
	struct timespec start, now, tick = { .tv_sec = 0, .tv_nsec = NETCHECK_TICK_NS };
	unsigned reported = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			return;
		worker_set_capture_poll(&nc->dp);
		/* EAGAIN: the tick passed; EINTR: some other signal. */
		if (clients_done(nc, &reported)) {
			/* Let the FINs of the closes go out. */
			struct timespec linger = { .tv_sec = 0, .tv_nsec = 200000000 };

			nanosleep(&linger, NULL);
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (seconds && now.tv_sec - start.tv_sec >= (time_t)seconds)
			return;
	}
}

static int
run(struct netcheck *nc, unsigned seconds)
{
	const struct config_dpdk *cfg = &nc->config.dpdk;
	const struct worker_set_config dp = {
		.name = "netcheck",
		.dpdk = cfg,
		.n_workers = nc->n_workers,
		.ring_size = NETCHECK_RING_SIZE,
		.message_ring_size = 64,
		.port_desc = NETCHECK_DESC,
		.arp_retry_ns = NETCHECK_ARP_RETRY_NS,
		.max_tcp_connections = NETCHECK_MAX_CONNECTIONS,
		.app = &netcheck_app_ops,
		.hooks = { create_app, attach_app, destroy_app },
		.hooks_arg = nc,
	};
	int rc;

	rc = worker_set_start_port(&nc->dp, &dp);
	if (rc < 0)
		return rc;
	rc = worker_set_create_workers(&nc->dp);
	if (rc < 0)
		return rc;
	rc = worker_set_launch(&nc->dp);
	if (rc == 0) {
		const uint8_t *mac = cfg->has_mac ? cfg->mac : nc->dp.port.mac;
		char checksum[48];

		port_checksum_describe(&nc->dp.port, checksum, sizeof(checksum));
		printf("netcheck: port %s queues %u rss %s checksum offload %s link %s mac "
				"%02x:%02x:%02x:%02x:%02x:%02x address %u.%u.%u.%u/%u\n",
				nc->dp.port.name, nc->n_workers, nc->dp.port.rss ? "on" : "off",
				checksum,
				port_link_wait(nc->dp.port_id, 500) ? "up" : "down",
				mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
				cfg->address >> 24, cfg->address >> 16 & 0xff,
				cfg->address >> 8 & 0xff, cfg->address & 0xff, cfg->prefix_len);
		fflush(stdout);
		wait_for_stop(nc, seconds);
	}
	worker_set_stop(&nc->dp);
	for (unsigned i = 0; i < nc->n_workers; i++)
		print_counters(nc->dp.workers[i], nc->dp.stacks[i], nc->apps[i]);
	if (rc == 0 && nc->config.netcheck.has_connect && print_clients(nc) > 0)
		rc = -EBADMSG;
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

	if (eal_start_main(&nc.config.dpdk, argv[0], "netcheck") < 0)
		return 1;
	rc = run(&nc, seconds);
	worker_set_destroy(&nc.dp);
	eal_stop();
	if (rc == -EBADMSG)
		return 3;
	return rc < 0 ? 1 : 0;
}
