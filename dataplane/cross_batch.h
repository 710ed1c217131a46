/* Cells between workers: the batches a relay worker hands to another
 * worker for circuits whose two sides live on different workers
 * (docs/links.md, "Circuits across workers").
 *
 * Each worker has one cross ring (rte_ring of struct cross_batch
 * pointers, multi-producer, single consumer: the worker itself). A batch
 * is a typed element from one rte_mempool shared by all workers, holding
 * up to CROSS_BATCH_CELLS wire cells (4-byte circuit ids), each with the
 * link it concerns and what the receiver is to do with it:
 *   CROSS_TO_LINK:    the receiver owns the link; append the cell, whose
 *                     crypto and circuit id are already done, to the
 *                     link's records. With CROSS_REGISTER (the CREATE2 of
 *                     an extension) the receiver first installs a remote
 *                     entry (link, circuit id) -> the sender.
 *   CROSS_TO_CIRCUIT: the cell arrived on the sender's link for a circuit
 *                     the receiver owns; the receiver decides it in its
 *                     circuit table with that link as the arrival link.
 *
 * A worker keeps one open batch per destination (struct cross_outbox),
 * fills it during an iteration and enqueues it when it is full or at the
 * end of the hook (cross_outbox_flush()). Nothing is ever waited for: a
 * batch the ring refuses, like a cell for which no batch is left, goes
 * back to the caller, who closes the circuits concerned.
 *
 * Single-threaded per outbox (its worker); the rings and the pool are
 * safe across lcores.
 */
#ifndef HSRELAY_DATAPLANE_CROSS_BATCH_H
#define HSRELAY_DATAPLANE_CROSS_BATCH_H

#include <stdint.h>

#include "dataplane/cell.h"
#include "dataplane/worker.h"

struct rte_mempool;
struct rte_ring;

/* Cells per batch: the cells of one full TLS record. */
#define CROSS_BATCH_CELLS 31

enum cross_kind {
	CROSS_TO_LINK = 0,
	CROSS_TO_CIRCUIT = 1,
	/* rendezvous splice (dataplane/circuit.h circuit_splice()): the cell
	 * carries the circuit id of the receiver's circuit whose p side is
	 * link; a RELAY cell gets its Kb layer and goes out on link, a
	 * DESTROY closes that circuit. With CROSS_SPLICE_JOIN the cell is a
	 * join request instead: its payload holds the partner's p link and p
	 * circuit id (two big-endian u32). */
	CROSS_TO_SPLICE = 2,
};

/* cross_cell.flags */
#define CROSS_REGISTER 0x01
#define CROSS_SPLICE_JOIN 0x02

struct cross_cell {
	uint32_t link;
	/* The sender's circuit handle (or CIRCUIT_NONE): only the sender
	 * reads it, when the cell comes back refused. */
	uint32_t circuit;
	uint8_t kind;		/* enum cross_kind */
	uint8_t flags;
	uint8_t cell[CELL_LEN];
	/* The sender's word for the receiver: the relay worker's latency
	 * tag (dataplane/latency_histogram.h), so that a cell's time on the
	 * ring counts in its latency. */
	uint64_t tag;
};

struct cross_batch {
	uint16_t from;		/* the sending worker */
	uint16_t count;
	struct cross_cell cells[CROSS_BATCH_CELLS];
};

struct cross_outbox {
	struct rte_mempool *pool;
	struct rte_ring *rings[WORKER_MAX];	/* per destination worker */
	struct cross_batch *open[WORKER_MAX];
	unsigned self;
	unsigned n_workers;
};

/* A pool of count batches on socket_id, named after name (unique in the
 * process). NULL with rte_errno set. */
struct rte_mempool *cross_batch_pool_create(const char *name, unsigned count, int socket_id);

/* A worker's cross ring of count (a power of two) batch pointers,
 * multi-producer single-consumer. NULL with rte_errno set. */
struct rte_ring *cross_ring_create(const char *name, unsigned count, int socket_id);

/* Sets o up for worker self of n_workers with the shared pool and every
 * worker's ring (copied). -EINVAL for a missing pool or ring. */
int cross_outbox_init(struct cross_outbox *o, unsigned self, unsigned n_workers,
		struct rte_mempool *pool, struct rte_ring *const rings[WORKER_MAX]);

/* Appends a cell for worker dest (not self), with its tag, to its open
 * batch; a batch
 * that becomes full is enqueued at once. Returns 0 with *refused NULL;
 * 0 with *refused a full batch the ring did not take (this cell is its
 * last: the caller handles its cells and gives it back with
 * cross_batch_free()); -ENOBUFS when no batch was left (the cell is not
 * queued); -EINVAL for a bad dest. */
int cross_outbox_add(struct cross_outbox *o, unsigned dest, uint32_t link, uint32_t circuit,
		uint8_t kind, uint8_t flags, const uint8_t cell[CELL_LEN], uint64_t tag,
		struct cross_batch **refused);

/* Enqueues every open batch. Batches a ring refused are stored in
 * refused[] (room for WORKER_MAX) with their destination in dest[];
 * returns how many. */
unsigned cross_outbox_flush(struct cross_outbox *o, struct cross_batch *refused[],
		unsigned dest[]);

/* Gives back every open batch unsent (tear-down). */
void cross_outbox_discard(struct cross_outbox *o);

/* Takes up to max batches from a worker's ring. */
unsigned cross_ring_take(struct rte_ring *ring, struct cross_batch *out[], unsigned max);

/* Returns a batch to its pool. */
void cross_batch_free(struct rte_mempool *pool, struct cross_batch *b);

#endif
