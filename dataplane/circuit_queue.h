/* Per-circuit cell queues for outbound links whose TCP send buffer is full,
 * served round-robin per link, with tor's memory rules (tor relay.c
 * append_cell_to_circuit_queue, circuitlist.c circuits_handle_oom).
 *
 * While a link can take records, the worker appends forwarded cells to the
 * link's open record at once and never touches these queues. Once TCP
 * refuses, each circuit direction queues its own cells here, so that the
 * link is shared fairly when it drains: circuit_queue_pull() takes cells
 * from the link's active queues in turn (a few cells per queue per turn),
 * and the worker fills records with them.
 *
 * Memory is bounded twice: a queue longer than max_per_queue means its
 * circuit is not respecting flow control, and the circuit is closed (tor:
 * circ_max_cell_queue_size); when the worker's cell pool runs dry, the
 * circuit with the longest queue is the one to close (tor's OOM handler),
 * never the process.
 *
 * A queue is named by an id (2 per circuit handle: even toward n, odd
 * toward p)
 * and remembers which circuit owns it (its p link and circuit id), so cells
 * of a circuit that closed, and whose handle was reused, are dropped rather
 * than sent on the newcomer's behalf.
 *
 * Nothing here allocates after circuit_queues_create(); single-threaded
 * (the owning worker).
 */
#ifndef HSRELAY_DATAPLANE_CIRCUIT_QUEUE_H
#define HSRELAY_DATAPLANE_CIRCUIT_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/cell.h"

#define CIRCUIT_QUEUE_NONE UINT32_MAX
/* Cells a queue gives per round-robin turn. */
#define CIRCUIT_QUEUE_QUANTUM 4

struct circuit_queues;

struct circuit_queues_config {
	uint32_t max_cells;	/* cells held by all queues together */
	uint32_t max_queues;	/* queue ids 0 .. max_queues - 1 */
	uint32_t max_links;	/* link slots 0 .. max_links - 1 */
	/* longest queue before its circuit is closed, both directions until
	 * circuit_queue_set_limits() */
	uint32_t max_per_queue;
	int socket_id;
};

/* Who owns a queue: the circuit's p side. */
struct circuit_queue_owner {
	uint32_t p_link;
	uint32_t p_circ_id;
};

/* NULL with *error set (-EINVAL, -ENOMEM). Not fast path. */
struct circuit_queues *circuit_queues_create(const struct circuit_queues_config *cfg, int *error);
void circuit_queues_destroy(struct circuit_queues *q);

/* The longest queue of each direction from now on (tor relay.c: the
 * consensus's circ_max_cell_queue_size_out towards n, even ids, and
 * circ_max_cell_queue_size towards p, odd ids); 0 keeps a value. Queues
 * already longer keep their cells; their next push fails. */
void circuit_queue_set_limits(struct circuit_queues *q, uint32_t toward_n, uint32_t toward_p);

/* Appends a cell to queue id, which sends on link_slot, with tag, a word
 * the caller keeps with the cell (the relay worker's latency tag,
 * dataplane/latency_histogram.h: the cell's wait here counts in its
 * latency). A queue owned by another circuit (its handle was reused) is
 * emptied first. Returns 0;
 * -EMSGSIZE when the queue already holds its direction's limit of cells; -ENOBUFS
 * when the pool is empty (see circuit_queue_oom_victim()); -EINVAL for an
 * id or slot out of range. Nothing is queued on failure. */
int circuit_queue_push(struct circuit_queues *q, uint32_t id, const struct circuit_queue_owner *owner,
		uint32_t link_slot, const uint8_t cell[CELL_LEN], uint64_t tag);

/* Copies up to max cells for link_slot into out, and their tags into tags
 * (unless NULL), CIRCUIT_QUEUE_QUANTUM from each active queue in turn, and
 * frees them. Returns how many. */
unsigned circuit_queue_pull(struct circuit_queues *q, uint32_t link_slot,
		uint8_t (*out)[CELL_LEN], uint64_t *tags, unsigned max);

/* Empties queue id (its circuit closed). */
void circuit_queue_drop(struct circuit_queues *q, uint32_t id);

/* Empties every queue sending on link_slot (the link closed). */
void circuit_queue_drop_link(struct circuit_queues *q, uint32_t link_slot);

/* Cells queued for link_slot, and in all. */
uint32_t circuit_queue_link_cells(const struct circuit_queues *q, uint32_t link_slot);
uint32_t circuit_queue_total(const struct circuit_queues *q);
uint32_t circuit_queue_length(const struct circuit_queues *q, uint32_t id);

/* The queue with the most cells (its circuit is the one to close when
 * memory runs out) and its owner, or CIRCUIT_QUEUE_NONE when all are
 * empty. Slow path: scans the active queues. */
uint32_t circuit_queue_oom_victim(const struct circuit_queues *q,
		struct circuit_queue_owner *owner);

#endif
