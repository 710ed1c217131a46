/* Per-circuit cell queues; see circuit_queue.h. */
#include "dataplane/circuit_queue.h"

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#define NIL UINT32_MAX

struct cell_slot {
	uint8_t cell[CELL_LEN];
	uint32_t next;
	uint64_t tag;		/* the caller's, given back by pull */
};

struct queue {
	uint32_t head, tail;	/* cell slots */
	uint32_t count;
	uint32_t link;		/* slot of the link it sends on */
	uint32_t prev, next;	/* in the link's ring of active queues */
	struct circuit_queue_owner owner;
	bool active;
};

struct link_ring {
	uint32_t current;	/* next queue to serve, NIL: none active */
	uint32_t cells;
};

struct circuit_queues {
	struct circuit_queues_config cfg;
	struct cell_slot *slots;
	struct queue *queues;
	struct link_ring *links;
	uint32_t free_head;
	uint32_t total;
	uint32_t max_len[2];	/* even ids (toward n), odd ids (toward p) */
};

struct circuit_queues *
circuit_queues_create(const struct circuit_queues_config *cfg, int *error)
{
	struct circuit_queues *q;

	if (cfg->max_cells == 0 || cfg->max_queues == 0 || cfg->max_links == 0 ||
	    cfg->max_per_queue == 0 || cfg->max_cells >= NIL || cfg->max_queues >= NIL) {
		*error = -EINVAL;
		return NULL;
	}
	q = rte_zmalloc_socket("circuit_queues", sizeof(*q), RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (q == NULL) {
		*error = -ENOMEM;
		return NULL;
	}
	q->cfg = *cfg;
	q->max_len[0] = q->max_len[1] = cfg->max_per_queue;
	q->slots = rte_malloc_socket("cell_slots", sizeof(*q->slots) * cfg->max_cells,
			RTE_CACHE_LINE_SIZE, cfg->socket_id);
	q->queues = rte_malloc_socket("cell_queues", sizeof(*q->queues) * cfg->max_queues,
			RTE_CACHE_LINE_SIZE, cfg->socket_id);
	q->links = rte_malloc_socket("cell_queue_links", sizeof(*q->links) * cfg->max_links,
			RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (q->slots == NULL || q->queues == NULL || q->links == NULL) {
		circuit_queues_destroy(q);
		*error = -ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < cfg->max_cells; i++)
		q->slots[i].next = i + 1 < cfg->max_cells ? i + 1 : NIL;
	q->free_head = 0;
	for (uint32_t i = 0; i < cfg->max_queues; i++) {
		q->queues[i] = (struct queue){ .head = NIL, .tail = NIL, .link = NIL,
				.prev = NIL, .next = NIL };
	}
	for (uint32_t i = 0; i < cfg->max_links; i++)
		q->links[i] = (struct link_ring){ .current = NIL };
	return q;
}

void
circuit_queues_destroy(struct circuit_queues *q)
{
	if (q == NULL)
		return;
	rte_free(q->slots);
	rte_free(q->queues);
	rte_free(q->links);
	rte_free(q);
}

static void
ring_insert(struct circuit_queues *q, uint32_t id)
{
	struct queue *e = &q->queues[id];
	struct link_ring *l = &q->links[e->link];

	if (l->current == NIL) {
		e->prev = e->next = id;
		l->current = id;
	} else {
		/* Just before current: served last in this round. */
		struct queue *cur = &q->queues[l->current];

		e->next = l->current;
		e->prev = cur->prev;
		q->queues[cur->prev].next = id;
		cur->prev = id;
	}
	e->active = true;
}

static void
ring_remove(struct circuit_queues *q, uint32_t id)
{
	struct queue *e = &q->queues[id];
	struct link_ring *l = &q->links[e->link];

	if (e->next == id) {
		l->current = NIL;
	} else {
		q->queues[e->prev].next = e->next;
		q->queues[e->next].prev = e->prev;
		if (l->current == id)
			l->current = e->next;
	}
	e->prev = e->next = NIL;
	e->active = false;
}

void
circuit_queue_drop(struct circuit_queues *q, uint32_t id)
{
	struct queue *e;

	if (id >= q->cfg.max_queues)
		return;
	e = &q->queues[id];
	if (e->count == 0)
		return;
	q->slots[e->tail].next = q->free_head;
	q->free_head = e->head;
	q->total -= e->count;
	q->links[e->link].cells -= e->count;
	ring_remove(q, id);
	e->head = e->tail = NIL;
	e->count = 0;
}

void
circuit_queue_set_limits(struct circuit_queues *q, uint32_t toward_n, uint32_t toward_p)
{
	if (toward_n != 0)
		q->max_len[0] = toward_n;
	if (toward_p != 0)
		q->max_len[1] = toward_p;
}

int
circuit_queue_push(struct circuit_queues *q, uint32_t id, const struct circuit_queue_owner *owner,
		uint32_t link_slot, const uint8_t cell[CELL_LEN], uint64_t tag)
{
	struct queue *e;
	uint32_t s;

	if (id >= q->cfg.max_queues || link_slot >= q->cfg.max_links)
		return -EINVAL;
	e = &q->queues[id];
	if (e->count > 0 && (e->owner.p_link != owner->p_link ||
			     e->owner.p_circ_id != owner->p_circ_id || e->link != link_slot))
		circuit_queue_drop(q, id);
	if (e->count >= q->max_len[id & 1])
		return -EMSGSIZE;
	if (q->free_head == NIL)
		return -ENOBUFS;
	s = q->free_head;
	q->free_head = q->slots[s].next;
	memcpy(q->slots[s].cell, cell, CELL_LEN);
	q->slots[s].tag = tag;
	q->slots[s].next = NIL;
	if (e->count == 0) {
		e->head = e->tail = s;
		e->owner = *owner;
		e->link = link_slot;
		ring_insert(q, id);
	} else {
		q->slots[e->tail].next = s;
		e->tail = s;
	}
	e->count++;
	q->total++;
	q->links[link_slot].cells++;
	return 0;
}

unsigned
circuit_queue_pull(struct circuit_queues *q, uint32_t link_slot, uint8_t (*out)[CELL_LEN],
		uint64_t *tags, unsigned max)
{
	struct link_ring *l;
	unsigned n = 0;

	if (link_slot >= q->cfg.max_links)
		return 0;
	l = &q->links[link_slot];
	while (n < max && l->current != NIL) {
		uint32_t id = l->current;
		struct queue *e = &q->queues[id];
		unsigned turn = 0;

		while (turn < CIRCUIT_QUEUE_QUANTUM && n < max && e->count > 0) {
			uint32_t s = e->head;

			if (tags != NULL)
				tags[n] = q->slots[s].tag;
			memcpy(out[n++], q->slots[s].cell, CELL_LEN);
			e->head = q->slots[s].next;
			q->slots[s].next = q->free_head;
			q->free_head = s;
			e->count--;
			q->total--;
			l->cells--;
			turn++;
		}
		if (e->count == 0) {
			e->head = e->tail = NIL;
			ring_remove(q, id);
		} else {
			l->current = e->next;
		}
	}
	return n;
}

void
circuit_queue_drop_link(struct circuit_queues *q, uint32_t link_slot)
{
	if (link_slot >= q->cfg.max_links)
		return;
	while (q->links[link_slot].current != NIL)
		circuit_queue_drop(q, q->links[link_slot].current);
}

uint32_t
circuit_queue_link_cells(const struct circuit_queues *q, uint32_t link_slot)
{
	return link_slot < q->cfg.max_links ? q->links[link_slot].cells : 0;
}

uint32_t
circuit_queue_total(const struct circuit_queues *q)
{
	return q->total;
}

uint32_t
circuit_queue_length(const struct circuit_queues *q, uint32_t id)
{
	return id < q->cfg.max_queues ? q->queues[id].count : 0;
}

uint32_t
circuit_queue_oom_victim(const struct circuit_queues *q, struct circuit_queue_owner *owner)
{
	uint32_t best = CIRCUIT_QUEUE_NONE, most = 0;

	for (uint32_t l = 0; l < q->cfg.max_links; l++) {
		uint32_t start = q->links[l].current, id = start;

		if (start == NIL)
			continue;
		do {
			if (q->queues[id].count > most) {
				most = q->queues[id].count;
				best = id;
			}
			id = q->queues[id].next;
		} while (id != start);
	}
	if (best != CIRCUIT_QUEUE_NONE && owner != NULL)
		*owner = q->queues[best].owner;
	return best;
}
