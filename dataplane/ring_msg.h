/* Typed messages between the control thread and the workers, and the
 * hand-off of frames between workers.
 *
 * The control thread never touches a worker's state: it sends a struct
 * ring_msg on the worker's control ring (single producer: control, single
 * consumer: the worker) and reads the answers on the worker's event ring
 * (single producer: the worker, single consumer: control). A message is
 * 24 bytes copied by value into the ring, so nothing is allocated per
 * message; a pointer in a message stays owned by the sender unless the
 * message type says otherwise.
 *
 * A frame that reached a worker that does not own its flow (a device with
 * no usable RSS, or af_packet's kernel hash) moves to the owner over the
 * owner's hand-off ring: a multi-producer, single-consumer ring of
 * struct rte_mbuf pointers, whose ownership moves with the pointer.
 */
#ifndef HSRELAY_DATAPLANE_RING_MSG_H
#define HSRELAY_DATAPLANE_RING_MSG_H

#include <errno.h>
#include <stdint.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

enum ring_msg_type {
	/* control -> worker: leave the poll loop after this iteration; the
	 * worker answers RING_MSG_STOPPED. */
	RING_MSG_STOP = 1,
	/* control -> worker: copy the worker's counters into ptr (a
	 * struct worker_counters owned by control), then answer
	 * RING_MSG_STATS_DONE. */
	RING_MSG_STATS_REQUEST = 2,
	/* control -> worker: u32 = idle sleep in microseconds (0: busy
	 * poll), u64 = empty polls before sleeping. */
	RING_MSG_SET_IDLE = 3,
	/* control -> worker: the capture file is complete (DPDKCapture):
	 * stop copying frames (dataplane/capture.h). */
	RING_MSG_CAPTURE_STOP = 6,
	/* worker -> control: answer to RING_MSG_STATS_REQUEST; u64 = the
	 * request's u64 (a sequence number chosen by control). */
	RING_MSG_STATS_DONE = 4,
	/* worker -> control: answer to RING_MSG_STOP. */
	RING_MSG_STOPPED = 5,
	/* Types from here on are handed to the stack the worker runs
	 * (struct worker_ops.message) without interpretation. */
	RING_MSG_STACK_FIRST = 64,
};

struct ring_msg {
	uint16_t type;   /* enum ring_msg_type */
	uint16_t worker; /* worker index: the sender's or the addressee's */
	uint32_t u32;
	uint64_t u64;
	void *ptr;
};

/* rte_ring element sizes must be a multiple of 4 bytes. */
_Static_assert(sizeof(struct ring_msg) % 4 == 0, "ring element size");

/* A ring of count (a power of two) messages with one producer and one
 * consumer; NULL with rte_errno set on failure. */
static inline struct rte_ring *
ring_msg_ring_create(const char *name, unsigned count, int socket_id)
{
	return rte_ring_create_elem(name, sizeof(struct ring_msg), count,
			socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
}

/* Enqueues one message by value. Returns 0, or -ENOBUFS when the ring is
 * full (nothing was enqueued; the caller keeps anything ptr refers to). */
static inline int
ring_msg_send(struct rte_ring *ring, const struct ring_msg *msg)
{
	return rte_ring_enqueue_elem(ring, (void *)(uintptr_t)msg,
			sizeof(*msg)) == 0 ? 0 : -ENOBUFS;
}

/* Dequeues up to n messages into msgs; returns how many. */
static inline unsigned
ring_msg_recv_burst(struct rte_ring *ring, struct ring_msg *msgs, unsigned n)
{
	return rte_ring_dequeue_burst_elem(ring, msgs, sizeof(*msgs), n, NULL);
}

/* A hand-off ring of count (a power of two) mbuf pointers: any worker
 * enqueues, only the owner dequeues. NULL with rte_errno set on failure. */
static inline struct rte_ring *
ring_handoff_create(const char *name, unsigned count, int socket_id)
{
	return rte_ring_create(name, count, socket_id, RING_F_SC_DEQ);
}

#endif
