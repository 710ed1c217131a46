/* Cells between workers in batches; see cross_batch.h. */
#include "dataplane/cross_batch.h"

#include <errno.h>
#include <string.h>

#include <rte_mempool.h>
#include <rte_ring.h>

struct rte_mempool *
cross_batch_pool_create(const char *name, unsigned count, int socket_id)
{
	/* Single-producer flags would be wrong: every worker gets and puts
	 * batches. A small per-lcore cache keeps the common case off the
	 * shared ring. */
	return rte_mempool_create(name, count, sizeof(struct cross_batch), 16, 0, NULL, NULL,
			NULL, NULL, socket_id, 0);
}

struct rte_ring *
cross_ring_create(const char *name, unsigned count, int socket_id)
{
	return rte_ring_create(name, count, socket_id, RING_F_SC_DEQ);
}

int
cross_outbox_init(struct cross_outbox *o, unsigned self, unsigned n_workers,
		struct rte_mempool *pool, struct rte_ring *const rings[WORKER_MAX])
{
	memset(o, 0, sizeof(*o));
	if (pool == NULL || n_workers == 0 || n_workers > WORKER_MAX || self >= n_workers)
		return -EINVAL;
	for (unsigned i = 0; i < n_workers; i++) {
		if (rings[i] == NULL)
			return -EINVAL;
		o->rings[i] = rings[i];
	}
	o->pool = pool;
	o->self = self;
	o->n_workers = n_workers;
	return 0;
}

static int
enqueue(struct cross_outbox *o, unsigned dest)
{
	struct cross_batch *b = o->open[dest];

	o->open[dest] = NULL;
	return rte_ring_enqueue(o->rings[dest], b) == 0 ? 0 : -ENOBUFS;
}

int
cross_outbox_add(struct cross_outbox *o, unsigned dest, uint32_t link, uint32_t circuit,
		uint8_t kind, uint8_t flags, const uint8_t cell[CELL_LEN], uint64_t tag,
		struct cross_batch **refused)
{
	struct cross_batch *b;
	struct cross_cell *c;

	*refused = NULL;
	if (dest >= o->n_workers || dest == o->self)
		return -EINVAL;
	b = o->open[dest];
	if (b == NULL) {
		void *obj;

		if (rte_mempool_get(o->pool, &obj) < 0)
			return -ENOBUFS;
		b = obj;
		b->from = (uint16_t)o->self;
		b->count = 0;
		o->open[dest] = b;
	}
	c = &b->cells[b->count++];
	c->link = link;
	c->circuit = circuit;
	c->kind = kind;
	c->flags = flags;
	c->tag = tag;
	memcpy(c->cell, cell, CELL_LEN);
	if (b->count == CROSS_BATCH_CELLS && enqueue(o, dest) < 0)
		*refused = b;
	return 0;
}

unsigned
cross_outbox_flush(struct cross_outbox *o, struct cross_batch *refused[], unsigned dest[])
{
	unsigned n = 0;

	for (unsigned d = 0; d < o->n_workers; d++) {
		struct cross_batch *b = o->open[d];

		if (b == NULL)
			continue;
		if (enqueue(o, d) < 0) {
			refused[n] = b;
			dest[n] = d;
			n++;
		}
	}
	return n;
}

void
cross_outbox_discard(struct cross_outbox *o)
{
	for (unsigned d = 0; d < o->n_workers; d++) {
		if (o->open[d] != NULL)
			rte_mempool_put(o->pool, o->open[d]);
		o->open[d] = NULL;
	}
}

unsigned
cross_ring_take(struct rte_ring *ring, struct cross_batch *out[], unsigned max)
{
	return rte_ring_dequeue_burst(ring, (void **)out, max, NULL);
}

void
cross_batch_free(struct rte_mempool *pool, struct cross_batch *b)
{
	rte_mempool_put(pool, b);
}
