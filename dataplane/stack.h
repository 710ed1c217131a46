/* The protocol stack one worker runs: Ethernet, ARP (with the per-worker
 * cache), IPv4, ICMP echo and TCP, joined to the worker poll loop
 * (dataplane/worker.h) through stack_worker_ops, with an application on
 * top (the netcheck echo service and client, later the relay).
 *
 * Per loop iteration the worker calls:
 *   input:  classify the burst (net_classify_burst()); answer ARP and
 *           release packets held for a resolved address; answer ICMP echo;
 *           give TCP its segments (tcp_input_burst()); hand the resulting
 *           TCP events to the application; then send TCP's output;
 *   timers: what other workers learnt from ARP; the ARP cache's periodic work every STACK_ARP_TICK_NS (requests
 *           for pending addresses, failed resolutions dropped); TCP timers
 *           within the worker's budget; TCP events to the application; the
 *           application's poll hook; TCP's output again;
 *   message: control messages of the stack's types go to the application.
 *
 * TCP output leaves the stack as IPv4 packets with headroom; the stack puts
 * the Ethernet header in front, its destination the next hop's MAC from
 * the ARP cache: the destination itself when it is on the local subnet,
 * else the configured gateway (none: dropped and counted). A packet whose
 * next hop is not resolved yet is held by the cache (a few per address,
 * oldest pushed out) while requests go out; it is sent when the reply
 * arrives or dropped when the resolution fails.
 *
 * Connections this stack opens (tcp_connect() with local port 0) get a
 * local port whose flow hash (worker_flow_owner()) names this worker, so
 * the replies reach it whether the device steers them by RSS or another
 * worker hands them over.
 *
 * Nothing on these paths allocates memory or makes a system call; mbufs
 * come from the worker's pool. Everything runs on the worker's lcore; the
 * control thread reads the counters only after the lcore has stopped.
 */
#ifndef HSRELAY_DATAPLANE_STACK_H
#define HSRELAY_DATAPLANE_STACK_H

#include <stdint.h>

#include "dataplane/ether.h"
#include "dataplane/ipv4.h"
#include "dataplane/ring_msg.h"
#include "dataplane/tcp.h"
#include "dataplane/worker.h"

struct port_info;

struct rte_mempool;
struct stack;

/* How often the ARP cache's periodic work runs (ether.h: every few retry
 * intervals at most). */
#define STACK_ARP_TICK_NS 250000000ull

/* The application on top of TCP. Every hook runs on the worker's lcore and
 * may call the tcp_* functions on stack_tcp(stack); output they cause is
 * sent by the stack after the hook returns. */
struct stack_app_ops {
	/* TCP events, in the order the stack produced them. */
	void (*events)(void *app, struct stack *stack, const struct tcp_event *ev,
			unsigned n, uint64_t now);
	/* Once per loop iteration, in the timer phase. Returns the amount of
	 * work done (0 lets the worker back off when idle). May be NULL. */
	unsigned (*poll)(void *app, struct stack *stack, uint64_t now);
	/* A control message with type >= RING_MSG_STACK_FIRST. May be NULL. */
	void (*message)(void *app, struct stack *stack, const struct ring_msg *msg,
			uint64_t now);
};

struct stack_config {
	unsigned index;          /* the worker's index */
	unsigned n_workers;      /* workers sharing the port */
	int socket_id;
	struct rte_mempool *pool;	/* the worker's pool: ARP requests, TCP headers */
	struct rte_ether_addr mac;	/* our MAC (the port's or DPDKMac) */
	uint32_t ip;             /* our address, host order */
	uint8_t prefix_len;      /* of the local subnet, 1..32 */
	uint32_t gateway;        /* next hop off the subnet, host order; 0: none */
	struct arp_cache_config arp;
	/* TCP settings; pool and socket_id are taken from above, choose_port
	 * is the stack's own, and an all-zero secret is filled from
	 * getrandom(). */
	struct tcp_stack_config tcp;
	const struct stack_app_ops *app;
	void *app_arg;
	/* With several workers: every worker's ARP ring (stack_arp_ring_
	 * create(), indexed by worker), through which a worker passes what
	 * it learnt from a received ARP message to the others, since the
	 * reply to one worker's request may reach another. Unused (may be
	 * NULL) with one worker. */
	struct rte_ring *arp_rings[WORKER_MAX];
};

/* What the stack did besides the classifier's, ARP cache's and TCP's own
 * counters. */
struct stack_counters {
	uint64_t arp_replies;        /* ARP requests answered */
	uint64_t arp_requests;       /* ARP requests sent */
	uint64_t icmp_replies;       /* echo replies sent */
	uint64_t tcp_not_owned;      /* TCP frames of a flow another worker owns */
	uint64_t tcp_tx;             /* TCP packets given to the worker's TX */
	uint64_t tcp_held;           /* TCP packets held while resolving */
	uint64_t drop_no_route;      /* off-subnet destination and no gateway */
	uint64_t drop_unresolved;    /* next hop unreachable or cache full */
	uint64_t drop_arp_evicted;   /* held packets pushed out or failed */
	uint64_t drop_no_headroom;   /* TCP packet without room for Ethernet */
	uint64_t alloc_failed;       /* pool empty when building an ARP request */
	uint64_t arp_shared;         /* ARP messages passed to other workers */
	uint64_t arp_share_dropped;  /* of which lost: the other's ring was full */
	uint64_t arp_learnt;         /* ARP messages taken from other workers */
};

/* The hooks to put in struct worker_config.ops, with the struct stack as
 * worker_config.stack. */
extern const struct worker_ops stack_worker_ops;

/* An ARP ring for worker index (multi-producer, single consumer) of
 * count (a power of two) messages; NULL with rte_errno set on failure. */
struct rte_ring *stack_arp_ring_create(unsigned index, unsigned count, int socket_id);

/* Sets cfg's TCP checksum settings (tcp.rx_checksum_offload,
 * tcp.tx_checksum) from the offloads port_start() enabled on port. Returns
 * whether the worker must pass frames through rte_eth_tx_prepare()
 * (worker_config.tx_prepare): when the device computes checksums. */
bool stack_config_checksum_offloads(struct stack_config *cfg, const struct port_info *port);

/* Allocates a stack (ARP cache and TCP stack included) on cfg->socket_id.
 * Not fast path. Returns NULL with *error set (-EINVAL, -ENOMEM). */
struct stack *stack_create(const struct stack_config *cfg, int *error);

/* Frees every packet the stack holds and the stack itself. */
void stack_destroy(struct stack *stack);

/* The TCP stack, for the application's tcp_* calls. */
struct tcp_stack *stack_tcp(struct stack *stack);

/* Our address, host order. */
uint32_t stack_local_ip(const struct stack *stack);

unsigned stack_index(const struct stack *stack);

const struct stack_counters *stack_counters(const struct stack *stack);
const struct net_counters *stack_net_counters(const struct stack *stack);
const struct arp_cache_stats *stack_arp_stats(const struct stack *stack);

/* A local port in [first, last] for the flow (local_ip, local port,
 * remote_ip, remote_port) (host order) whose owner among n_workers is
 * worker index, trying candidates from *cursor on and leaving *cursor
 * after the port returned. Returns 0 and sets *port, or -EADDRNOTAVAIL
 * when no port in the range qualifies. */
int stack_port_for_worker(uint32_t local_ip, uint32_t remote_ip,
		uint16_t remote_port, unsigned index, unsigned n_workers,
		uint16_t first, uint16_t last, uint32_t *cursor, uint16_t *port);

#endif
