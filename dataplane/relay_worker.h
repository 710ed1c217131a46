/* The relay on one worker: the application on top of the worker's TCP
 * stack (dataplane/stack.h) that owns the worker's links and circuits.
 *
 * Per link it keeps the TLS record state (dataplane/tls_stream.h with the
 * keys the control thread handed over), cuts cells out of the decrypted
 * stream and sends them through the circuit table in bursts
 * (dataplane/circuit.h); forwarded cells are appended to the outbound
 * link's TLS record, and every record filled in an iteration is sealed in
 * one burst and given to TCP. Everything slow goes to the control thread
 * as typed messages (dataplane/relay_msg.h): TLS handshake bytes, link
 * handshake cells, CREATE2, cells recognized at this hop, links opening
 * and closing.
 *
 * Records of many links are opened in one burst and sealed in one burst;
 * cells of a burst are decided together. Nothing here allocates memory
 * beyond mbufs from the worker's pool, locks or makes a system call once
 * created.
 *
 * While a link's TCP send buffer is full, cells for it wait in
 * per-circuit queues (dataplane/circuit_queue.h) and are sent round-robin
 * across circuits when TCP has room again; a circuit whose queue exceeds
 * the consensus's limit (RELAY_CIRCUIT_QUEUE_MAX until one came; tor:
 * circ_max_cell_queue_size, and _out towards the next hop) is closed,
 * and when the worker's queue memory runs out the circuit with the longest
 * queue is closed (tor's OOM handler).
 *
 * A circuit belongs to the worker of its p link; its n side may be a link
 * of another worker (the control thread reuses any open link to the next
 * relay). Cells then travel between the two workers in batches over
 * their cross rings (dataplane/cross_batch.h): the owner sends its
 * forward cells, crypto done, for the other worker to append to the link;
 * the link's worker keeps a remote entry for the circuit and hands every
 * cell arriving for it to the owner undecided (docs/links.md, "Circuits
 * across workers").
 *
 * Known limits (docs/STATUS.md): TLS 1.3 KeyUpdate closes the link.
 */
#ifndef HSRELAY_DATAPLANE_RELAY_WORKER_H
#define HSRELAY_DATAPLANE_RELAY_WORKER_H

#include <stdint.h>

#include "dataplane/relay_msg.h"
#include "dataplane/stack.h"
#include "dataplane/worker.h"

struct rte_mempool;
struct rte_ring;
struct crypto_engine;
struct relay_worker;

/* Records opened per burst. */
#define RELAY_RECORD_BURST 16
/* Bytes of a cell split across records that a link can hold: enough for
 * the link handshake's CERTS cell; only VPADDING may be longer (its bytes
 * are skipped). */
#define RELAY_LINK_CARRY_MAX 4096
/* Sealed records a link may hold when TCP's send buffer is full. */
#define RELAY_LINK_BACKLOG_RECORDS 256
/* Batches taken from the cross ring per poll. */
#define RELAY_CROSS_BUDGET 8

struct relay_worker_config {
	unsigned index;			/* the worker's, < WORKER_MAX */
	unsigned n_workers;		/* all relay workers (0 taken as 1) */
	/* With several workers: the shared batch pool and every worker's
	 * cross ring (dataplane/cross_batch.h). Without them, cells for
	 * another worker's link are dropped (drop_no_link). */
	struct rte_mempool *cross_pool;
	struct rte_ring *cross_rings[WORKER_MAX];
	struct rte_mempool *pool;	/* the worker's: records, event payloads */
	struct crypto_engine *engine;	/* used on the worker's lcore only */
	struct rte_ring *event_ring;	/* worker -> control, struct ring_msg */
	uint32_t local_ip;		/* host order */
	uint16_t or_port;		/* 0: no listener */
	uint32_t max_links;		/* at most 65535 */
	uint32_t max_circuits;
	/* Cells held in per-circuit queues while links are congested
	 * (dataplane/circuit_queue.h); 0: 16384. */
	uint32_t max_queued_cells;
	/* The stack's tcp_stack_config.max_connections; 0: 2 * max_links. */
	uint32_t max_tcp_connections;
	int socket_id;
};

/* Allocates the relay (link and circuit tables). NULL with *error set
 * (-EINVAL, -ENOMEM). Not fast path. */
struct relay_worker *relay_worker_create(const struct relay_worker_config *cfg, int *error);

/* Joins the relay to the stack created with relay_worker_app_ops and this
 * relay as app_arg, and listens on the ORPort. Returns 0 or the
 * tcp_listen() error. */
int relay_worker_attach(struct relay_worker *w, struct stack *stack);

/* Frees every link's buffers and the relay. The stack is not touched. */
void relay_worker_destroy(struct relay_worker *w);

/* The counters (read on the worker's lcore, or after it stopped). */
void relay_worker_stats(const struct relay_worker *w, struct relay_worker_stats *out);

extern const struct stack_app_ops relay_worker_app_ops;

#endif
