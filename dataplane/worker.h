/* The worker: one shared-nothing poll loop per RX/TX queue pair.
 *
 * Every iteration has the same bounded shape (architecture.md "Rules that
 * keep it fast"):
 *   1. RX burst of up to WORKER_BURST frames from the worker's queue;
 *   2. classify each frame by flow owner: an IPv4 TCP or UDP frame belongs
 *      to worker_flow_owner() of its addresses and ports, anything else to
 *      the worker that received it;
 *   3. foreign frames go to their owner's hand-off ring in one burst per
 *      owner, and up to WORKER_BURST frames handed over by other workers
 *      are taken from this worker's ring;
 *   4. process: the owned frames go to the stack in one call
 *      (worker_ops.input), which sorts them per kind and queues replies
 *      with worker_tx_burst();
 *   5. TX: queued frames are sent once WORKER_BURST are waiting or when
 *      the oldest has waited tx_drain_ns (the drain deadline);
 *   6. timers: the stack runs at most timer_budget due timers;
 *   7. control: at most control_budget messages from the control ring.
 * The loop reads the clock once per iteration, at the top (worker_run()),
 * and passes `now` down; worker_poll() runs one iteration at a given time,
 * so tests drive the loop in virtual time.
 *
 * Idle back-off: after idle_polls consecutive iterations that did nothing
 * the worker sleeps idle_sleep_usec (0 = never), so that test machines
 * with two cores keep a core for the kernel peers and tor.
 *
 * Nothing here allocates, locks or makes a system call on the fast path;
 * the sleep is the only system call and happens only when idle.
 */
#ifndef HSRELAY_DATAPLANE_WORKER_H
#define HSRELAY_DATAPLANE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/ring_msg.h"

struct rte_mbuf;
struct rte_ring;
struct worker;

/* Frames per RX burst, per TX burst and per hand-off batch. */
#define WORKER_BURST 32
/* Frames the TX buffer holds between drains. */
#define WORKER_TX_BUFFER (4 * WORKER_BURST)
/* Most workers in one process (one queue pair each). */
#define WORKER_MAX 16

/* Counters of the runtime; the stack keeps its own per kind. Written only
 * by the worker; read by control through RING_MSG_STATS_REQUEST, or
 * directly once the worker's lcore has finished. */
struct capture_tap;

struct worker_counters {
	uint64_t polls;            /* loop iterations */
	uint64_t rx_packets;       /* frames received on the queue */
	uint64_t tx_packets;       /* frames the device accepted */
	uint64_t tx_dropped;       /* frames freed: TX buffer full */
	uint64_t handoff_out;      /* foreign frames given to their owner */
	uint64_t handoff_in;       /* frames taken from other workers */
	uint64_t handoff_dropped;  /* foreign frames freed: owner's ring full */
	uint64_t timers_run;       /* timers the stack ran */
	uint64_t control_messages; /* messages taken from the control ring */
	uint64_t control_unknown;  /* of which had a type nobody handles */
	uint64_t events_dropped;   /* answers lost: event ring full */
	uint64_t idle_sleeps;      /* back-off sleeps */
	uint64_t capture_dropped;  /* frames DPDKCapture could not copy */
	/* TSC cycles spent in worker_run()'s loop iterations (sleeps not
	 * included): all of them, and those that did work (received, handed
	 * over or sent frames, ran timers or the application, took control
	 * messages). A poll-mode worker's thread is always running, so
	 * busy_cycles is its real cost; poll_cycles - busy_cycles is
	 * spinning on empty queues. Stored with relaxed atomics, so any
	 * thread may read them with worker_cycles() at any time. */
	uint64_t busy_cycles;
	uint64_t poll_cycles;
};

/* The stack a worker runs. Each callback runs on the worker's lcore only. */
struct worker_ops {
	/* Frames this worker owns, received or handed over. The stack owns
	 * all n of them from here: it transmits (worker_tx_burst()), keeps or
	 * frees each one. */
	void (*input)(void *stack, struct worker *worker, struct rte_mbuf **pkts,
			uint16_t n, uint64_t now);
	/* Runs at most budget timers due at now; returns how many ran. */
	unsigned (*timers)(void *stack, struct worker *worker, uint64_t now,
			unsigned budget);
	/* A control message with type >= RING_MSG_STACK_FIRST. */
	void (*message)(void *stack, struct worker *worker,
			const struct ring_msg *msg, uint64_t now);
};

struct worker_config {
	unsigned index;              /* this worker, 0 .. n_workers - 1 */
	unsigned n_workers;          /* 1 .. WORKER_MAX */
	uint16_t port_id;
	uint16_t queue_id;
	/* Flows are placed by the device's RSS (port_info.rss): every
	 * received frame is then taken as owned without hashing it. */
	bool hw_rss;
	/* The device sends only single-segment frames (!port_info.
	 * tx_multi_segs): worker_tx_burst() copies each chain into one mbuf. */
	bool tx_linearize;
	/* The stack asks the device for TX offloads (checksums):
	 * worker_tx_burst() passes frames through rte_eth_tx_prepare(). */
	bool tx_prepare;
	struct rte_ring *control_ring;               /* control -> worker */
	struct rte_ring *event_ring;                 /* worker -> control */
	struct rte_ring *handoff_rings[WORKER_MAX];  /* per worker index */
	const struct worker_ops *ops;
	void *stack;
	uint64_t tx_drain_ns;     /* 0: 100 us */
	unsigned timer_budget;    /* 0: 64 */
	unsigned control_budget;  /* 0: 16 */
	unsigned idle_polls;      /* 0: 64 */
	unsigned idle_sleep_usec; /* 0: busy poll */
	int socket_id;
	/* DPDKCapture: copy every frame received on the queue and sent
	 * (dataplane/capture.h) until RING_MSG_CAPTURE_STOP; NULL: off. */
	const struct capture_tap *capture;
};

/* Allocates and initialises a worker from config (copied). Returns NULL
 * for an invalid config (index out of range, missing rings or ops) or
 * when memory is short. */
struct worker *worker_create(const struct worker_config *config);

/* Frees any frame still queued for TX, then the worker. */
void worker_destroy(struct worker *worker);

/* Runs one loop iteration at time now (nanoseconds, non-decreasing).
 * Returns the amount of work done (frames received or handed over,
 * timers run, messages handled); 0 means an empty poll. */
unsigned worker_poll(struct worker *worker, uint64_t now);

/* Accounts for an iteration that did `work` and says whether the caller
 * should now sleep idle_sleep_usec (counted in idle_sleeps). */
bool worker_idle(struct worker *worker, unsigned work);

/* The lcore entry point (lcore_function_t): polls with the TSC as clock
 * until RING_MSG_STOP, then sends what it can of the TX buffer. arg is the
 * struct worker. Returns 0. */
int worker_run(void *arg);

/* Queues frames for TX on the worker's queue. Takes ownership of all n:
 * returns how many were queued; the others were freed and counted in
 * tx_dropped (the buffer stayed full even after a TX burst, or, with
 * tx_linearize, a chain could not be copied into one mbuf, or, with
 * tx_prepare, the driver refused a frame's offload request). pkts may be
 * reordered by the call. */
uint16_t worker_tx_burst(struct worker *worker, struct rte_mbuf **pkts,
		uint16_t n);

/* Sends every queued frame the device accepts now. Returns how many. */
uint16_t worker_tx_flush(struct worker *worker);

/* True once RING_MSG_STOP has been handled. */
bool worker_stopping(const struct worker *worker);

unsigned worker_index(const struct worker *worker);
const struct worker_counters *worker_counters(const struct worker *worker);

/* The worker, of n_workers, that owns the IPv4 flow with these addresses
 * and ports (host byte order): the symmetric Toeplitz hash of the port's
 * RSS key (dataplane/port.h) through the redirection table i % n_workers,
 * so both directions of a flow have the same owner and a device with RSS
 * puts the flow on the owner's queue. */
unsigned worker_flow_owner(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
		uint16_t dst_port, unsigned n_workers);

/* The owner of the frame in m (first segment) when it is an unfragmented
 * IPv4 TCP or UDP frame with its ports in the first segment, else -1
 * (the frame belongs to whoever received it). */
int worker_frame_owner(const struct rte_mbuf *m, unsigned n_workers);

/* Loads the worker's busy_cycles and poll_cycles (struct worker_counters)
 * from any thread while the worker runs; either pointer may be NULL. */
void worker_cycles(const struct worker *worker, uint64_t *busy_cycles,
		uint64_t *poll_cycles);

/* Nanoseconds for a TSC reading, on the scale every worker shares. */
uint64_t worker_tsc_to_ns(uint64_t tsc);

#endif
