#include "dataplane/stack.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/port.h"

/* Ports for connections we open: the IANA dynamic range (RFC 6335 6). */
#define STACK_PORT_FIRST 49152
#define STACK_PORT_LAST 65535
/* Packets moved per call between TCP and the TX buffer, and per ARP tick. */
#define STACK_OUT_BURST 32
#define STACK_ARP_TICK_MAX 16
#define STACK_EVENT_BURST 32
/* ARP messages taken from other workers per timer phase. */
#define STACK_ARP_LEARN_BURST 16

_Static_assert(sizeof(struct arp_ipv4) % 4 == 0, "ring element size");

struct __rte_cache_aligned stack {
	struct net_local local;
	uint32_t ip;
	uint32_t netmask;
	uint32_t gateway;
	unsigned index;
	unsigned n_workers;
	uint32_t port_cursor;
	uint64_t next_arp_tick;
	struct rte_mempool *pool;
	struct arp_cache *arp;
	struct tcp_stack *tcp;
	const struct stack_app_ops *app;
	void *app_arg;
	struct rte_ring *arp_rings[WORKER_MAX];
	struct net_counters net;
	struct stack_counters counters;
	/* arp_cache_init() lays the cache out here (arp_cache_footprint()). */
	uint8_t arp_memory[] __rte_aligned(8);
};

int
stack_port_for_worker(uint32_t local_ip, uint32_t remote_ip, uint16_t remote_port,
		unsigned index, unsigned n_workers, uint16_t first, uint16_t last,
		uint32_t *cursor, uint16_t *port)
{
	uint32_t span = (uint32_t)last - first + 1u;

	if (first == 0 || last < first)
		return -EADDRNOTAVAIL;
	/* A flow's owner is its Toeplitz hash through the redirection table
	 * (worker_flow_owner()); about one port in n_workers qualifies, so
	 * the loop ends after n_workers candidates on average. */
	for (uint32_t tried = 0; tried < span; tried++) {
		uint16_t candidate = (uint16_t)(first + *cursor % span);

		*cursor = *cursor % span + 1;
		if (n_workers <= 1 || worker_flow_owner(remote_ip, local_ip, remote_port,
					candidate, n_workers) == index) {
			*port = candidate;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

static int
stack_choose_port(void *arg, uint32_t local_ip, uint32_t remote_ip,
		uint16_t remote_port, uint32_t attempt, uint16_t *port)
{
	struct stack *s = arg;

	(void)attempt;
	return stack_port_for_worker(local_ip, remote_ip, remote_port, s->index,
			s->n_workers, STACK_PORT_FIRST, STACK_PORT_LAST, &s->port_cursor,
			port);
}

static void
stack_release(struct stack *s, struct worker *w, struct arp_release *release)
{
	for (uint32_t i = 0; i < release->n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(release->pkts[i],
				struct rte_ether_hdr *);

		eth->dst_addr = release->mac;
	}
	s->counters.tcp_tx += release->n;
	worker_tx_burst(w, release->pkts, (uint16_t)release->n);
	release->n = 0;
}

static void
stack_send_arp_request(struct stack *s, struct worker *w, rte_be32_t target)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->pool);
	char *frame;

	if (unlikely(m == NULL)) {
		s->counters.alloc_failed++;
		return;
	}
	frame = rte_pktmbuf_append(m, ARP_FRAME_LEN);
	if (frame == NULL || arp_request_build(&s->local.mac, s->local.ip[0], target,
				(uint8_t *)frame, ARP_FRAME_LEN) < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	s->counters.arp_requests++;
	worker_tx_burst(w, &m, 1);
}

/* The next hop for dst (host order), network order, or 0 when there is no
 * route. */
static inline rte_be32_t
stack_next_hop(const struct stack *s, uint32_t dst)
{
	if (((dst ^ s->ip) & s->netmask) == 0)
		return rte_cpu_to_be_32(dst);
	return s->gateway ? rte_cpu_to_be_32(s->gateway) : 0;
}

/* Puts Ethernet in front of TCP's IPv4 packets and queues them for TX, or
 * leaves them with the ARP cache while their next hop resolves. */
static void
stack_send_ipv4(struct stack *s, struct worker *w, struct rte_mbuf **pkts,
		unsigned n, uint64_t now)
{
	struct rte_mbuf *tx[STACK_OUT_BURST];
	unsigned n_tx = 0;
	/* Consecutive packets to one next hop share one lookup. */
	rte_be32_t last_hop = 0;
	struct rte_ether_addr last_mac;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
		rte_be32_t hop = stack_next_hop(s, rte_be_to_cpu_32(ip->dst_addr));
		struct rte_ether_hdr *eth;
		struct arp_lookup_result result;

		if (unlikely(hop == 0)) {
			s->counters.drop_no_route++;
			rte_pktmbuf_free(m);
			continue;
		}
		eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
		if (unlikely(eth == NULL)) {
			s->counters.drop_no_headroom++;
			rte_pktmbuf_free(m);
			continue;
		}
		m->l2_len = sizeof(*eth);
		eth->src_addr = s->local.mac;
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		if (hop == last_hop) {
			eth->dst_addr = last_mac;
			tx[n_tx++] = m;
			continue;
		}
		result.send_request = false;
		result.evicted = NULL;
		switch (arp_cache_lookup(s->arp, hop, m, now, &result)) {
		case ARP_CACHE_HIT:
			eth->dst_addr = result.mac;
			tx[n_tx++] = m;
			last_hop = hop;
			last_mac = result.mac;
			break;
		case ARP_CACHE_PENDING:
			s->counters.tcp_held++;
			break;
		case ARP_CACHE_UNREACHABLE:
		case ARP_CACHE_FULL:
			s->counters.drop_unresolved++;
			rte_pktmbuf_free(m);
			break;
		}
		if (result.evicted != NULL) {
			s->counters.drop_arp_evicted++;
			rte_pktmbuf_free(result.evicted);
		}
		if (result.send_request)
			stack_send_arp_request(s, w, hop);
	}
	s->counters.tcp_tx += n_tx;
	worker_tx_burst(w, tx, (uint16_t)n_tx);
}

/* Hands TCP's events to the application, then sends TCP's output. Returns
 * the number of events and packets. */
static unsigned
stack_flush(struct stack *s, struct worker *w, uint64_t now)
{
	struct tcp_event ev[STACK_EVENT_BURST];
	struct rte_mbuf *out[STACK_OUT_BURST];
	unsigned n, work = 0;

	while ((n = tcp_events_drain(s->tcp, ev, STACK_EVENT_BURST)) > 0) {
		work += n;
		if (s->app != NULL && s->app->events != NULL)
			s->app->events(s->app_arg, s, ev, n, now);
	}
	while ((n = tcp_output_drain(s->tcp, out, STACK_OUT_BURST, now)) > 0) {
		work += n;
		stack_send_ipv4(s, w, out, n, now);
		if (n < STACK_OUT_BURST)
			break;
	}
	return work;
}

/* Passes the ARP message in m (validated by the classifier) to the other
 * workers, before net_arp_input() may rewrite m into our reply. */
static void
stack_arp_share(struct stack *s, const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	struct arp_ipv4 msg;

	if (arp_ipv4_parse(&p, p + ARP_IPV4_LEN, &msg) < 0)
		return;
	for (unsigned i = 0; i < s->n_workers; i++) {
		if (i == s->index)
			continue;
		if (rte_ring_enqueue_elem(s->arp_rings[i], &msg, sizeof(msg)) == 0)
			s->counters.arp_shared++;
		else
			s->counters.arp_share_dropped++;
	}
}

/* Learns what other workers received (no replies: they answered). */
static unsigned
stack_arp_learn(struct stack *s, struct worker *w, uint64_t now)
{
	struct arp_ipv4 msgs[STACK_ARP_LEARN_BURST];
	struct arp_release release;
	unsigned n;

	n = rte_ring_dequeue_burst_elem(s->arp_rings[s->index], msgs, sizeof(msgs[0]),
			STACK_ARP_LEARN_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		release.n = 0;
		arp_cache_input(s->arp, &msgs[i], &s->local, now, &release);
		if (release.n > 0)
			stack_release(s, w, &release);
	}
	s->counters.arp_learnt += n;
	return n;
}

static void
stack_input(void *ctx, struct worker *w, struct rte_mbuf **pkts, uint16_t n,
		uint64_t now)
{
	struct stack *s = ctx;
	struct net_classes classes;
	struct rte_mbuf *out[NET_BURST_MAX];
	struct arp_release release;
	uint16_t done = 0;

	/* The worker hands over at most 2 * WORKER_BURST frames; classify
	 * them NET_BURST_MAX at a time. */
	while (done < n) {
		uint16_t n_out = 0;

		done = (uint16_t)(done + net_classify_burst(pkts + done,
					(uint16_t)(n - done), &s->local, &classes, &s->net));
		for (uint16_t i = 0; i < classes.n_arp; i++) {
			struct rte_mbuf *m = classes.arp[i];

			if (s->n_workers > 1)
				stack_arp_share(s, m);
			release.n = 0;
			if (net_arp_input(s->arp, &s->local, m, now, &release) == 1) {
				out[n_out++] = m;
				s->counters.arp_replies++;
			} else {
				rte_pktmbuf_free(m);
			}
			if (release.n > 0)
				stack_release(s, w, &release);
		}
		for (uint16_t i = 0; i < classes.n_icmp; i++) {
			struct rte_mbuf *m = classes.icmp[i];

			if (net_icmp_echo_reply(m, &s->local) == 0) {
				out[n_out++] = m;
				s->counters.icmp_replies++;
			} else {
				rte_pktmbuf_free(m);
			}
		}
		if (s->n_workers > 1) {
			for (uint16_t i = 0; i < classes.n_tcp; i++) {
				int owner = worker_frame_owner(classes.tcp[i], s->n_workers);

				if (owner >= 0 && (unsigned)owner != s->index)
					s->counters.tcp_not_owned++;
			}
		}
		if (classes.n_tcp > 0)
			tcp_input_burst(s->tcp, classes.tcp, classes.n_tcp, now);
		rte_pktmbuf_free_bulk(classes.drop, classes.n_drop);
		worker_tx_burst(w, out, n_out);
	}
	stack_flush(s, w, now);
}

static unsigned
stack_arp_tick(struct stack *s, struct worker *w, uint64_t now)
{
	rte_be32_t requests[STACK_ARP_TICK_MAX];
	struct rte_mbuf *dropped[STACK_ARP_TICK_MAX];
	uint32_t n_requests, n_dropped;

	if (now < s->next_arp_tick)
		return 0;
	s->next_arp_tick = now + STACK_ARP_TICK_NS;
	n_requests = arp_cache_tick(s->arp, now, requests, STACK_ARP_TICK_MAX, dropped,
			STACK_ARP_TICK_MAX, &n_dropped);
	s->counters.drop_arp_evicted += n_dropped;
	rte_pktmbuf_free_bulk(dropped, n_dropped);
	for (uint32_t i = 0; i < n_requests; i++)
		stack_send_arp_request(s, w, requests[i]);
	return 1 + n_requests + n_dropped;
}

static unsigned
stack_timers(void *ctx, struct worker *w, uint64_t now, unsigned budget)
{
	struct stack *s = ctx;
	unsigned work;

	work = s->n_workers > 1 ? stack_arp_learn(s, w, now) : 0;
	work += stack_arp_tick(s, w, now);
	work += tcp_timers_run(s->tcp, now, budget);
	work += stack_flush(s, w, now);
	if (s->app != NULL && s->app->poll != NULL) {
		work += s->app->poll(s->app_arg, s, now);
		work += stack_flush(s, w, now);
	}
	return work;
}

static void
stack_message(void *ctx, struct worker *w, const struct ring_msg *msg, uint64_t now)
{
	struct stack *s = ctx;

	if (s->app != NULL && s->app->message != NULL) {
		s->app->message(s->app_arg, s, msg, now);
		stack_flush(s, w, now);
	}
}

const struct worker_ops stack_worker_ops = {
	.input = stack_input,
	.timers = stack_timers,
	.message = stack_message,
};

struct rte_ring *
stack_arp_ring_create(unsigned index, unsigned count, int socket_id)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "stack_arp%u", index);
	return rte_ring_create_elem(name, sizeof(struct arp_ipv4), count, socket_id,
			RING_F_SC_DEQ);
}

bool
stack_config_checksum_offloads(struct stack_config *cfg, const struct port_info *port)
{
	cfg->tcp.rx_checksum_offload = port->rx_tcp_checksum;
	cfg->tcp.tx_checksum = !port->tx_tcp_checksum ? TCP_TX_CHECKSUM_SOFTWARE :
		port->tx_tcp_checksum_chains ? TCP_TX_CHECKSUM_OFFLOAD :
		TCP_TX_CHECKSUM_OFFLOAD_SINGLE;
	return port->tx_tcp_checksum;
}

struct stack *
stack_create(const struct stack_config *cfg, int *error)
{
	struct tcp_stack_config tcp_cfg = cfg->tcp;
	static const uint8_t zero[TCP_SECRET_LEN];
	size_t arp_size = arp_cache_footprint(&cfg->arp);
	struct stack *s;

	if (cfg->pool == NULL || cfg->n_workers == 0 || cfg->index >= cfg->n_workers ||
			cfg->ip == 0 || cfg->prefix_len == 0 || cfg->prefix_len > 32 ||
			arp_size == 0) {
		*error = -EINVAL;
		return NULL;
	}
	for (unsigned i = 0; i < cfg->n_workers && cfg->n_workers > 1; i++) {
		if (i >= WORKER_MAX || cfg->arp_rings[i] == NULL) {
			*error = -EINVAL;
			return NULL;
		}
	}
	s = rte_zmalloc_socket("stack", sizeof(*s) + arp_size, RTE_CACHE_LINE_SIZE,
			cfg->socket_id);
	if (s == NULL) {
		*error = -ENOMEM;
		return NULL;
	}
	s->arp = arp_cache_init(s->arp_memory, arp_size, &cfg->arp);
	if (s->arp == NULL) {
		rte_free(s);
		*error = -EINVAL;
		return NULL;
	}
	s->local.mac = cfg->mac;
	s->local.n_ip = 1;
	s->local.ip[0] = rte_cpu_to_be_32(cfg->ip);
	s->ip = cfg->ip;
	s->netmask = cfg->prefix_len == 32 ? UINT32_MAX :
		~(UINT32_MAX >> cfg->prefix_len);
	s->gateway = cfg->gateway;
	s->index = cfg->index;
	s->n_workers = cfg->n_workers;
	s->pool = cfg->pool;
	s->app = cfg->app;
	s->app_arg = cfg->app_arg;
	memcpy(s->arp_rings, cfg->arp_rings, sizeof(s->arp_rings));

	tcp_cfg.pool = cfg->pool;
	tcp_cfg.socket_id = cfg->socket_id;
	tcp_cfg.choose_port = stack_choose_port;
	tcp_cfg.choose_port_arg = s;
	if (memcmp(tcp_cfg.secret, zero, sizeof(zero)) == 0 &&
			getrandom(tcp_cfg.secret, sizeof(tcp_cfg.secret), 0) !=
			(ssize_t)sizeof(tcp_cfg.secret)) {
		rte_free(s);
		*error = -EIO;
		return NULL;
	}
	/* Start the port search somewhere unpredictable (RFC 6056 3.3.1 in
	 * spirit: the ports of successive connections are not guessable
	 * from one another's start). */
	memcpy(&s->port_cursor, tcp_cfg.secret, sizeof(s->port_cursor));
	tcp_stack_config_defaults(&tcp_cfg);
	s->tcp = tcp_stack_create(&tcp_cfg, error);
	if (s->tcp == NULL) {
		rte_free(s);
		return NULL;
	}
	return s;
}

void
stack_destroy(struct stack *s)
{
	struct rte_mbuf *held[ARP_CACHE_HELD_MAX];
	uint32_t n;

	if (s == NULL)
		return;
	while ((n = arp_cache_drain(s->arp, held, RTE_DIM(held))) > 0)
		rte_pktmbuf_free_bulk(held, n);
	tcp_stack_destroy(s->tcp);
	rte_free(s);
}

struct tcp_stack *
stack_tcp(struct stack *s)
{
	return s->tcp;
}

uint32_t
stack_local_ip(const struct stack *s)
{
	return s->ip;
}

unsigned
stack_index(const struct stack *s)
{
	return s->index;
}

const struct stack_counters *
stack_counters(const struct stack *s)
{
	return &s->counters;
}

const struct net_counters *
stack_net_counters(const struct stack *s)
{
	return &s->net;
}

const struct arp_cache_stats *
stack_arp_stats(const struct stack *s)
{
	return arp_cache_get_stats(s->arp);
}
