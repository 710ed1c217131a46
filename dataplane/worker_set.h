/* The workers of one port, as the programs on the dataplane set them up
 * (control/hsrelay_main.c, dataplane/netcheck_main.c): one worker per
 * DPDKWorkerQueues on the worker lcores after the main one, each with its
 * own mempool and RX/TX queue pair of the single DPDKPort
 * (dataplane/port.h), its ARP, control, event and hand-off rings, its
 * protocol stack (dataplane/stack.h) with the program's application on
 * top, and its poll loop (dataplane/worker.h).
 *
 * Life cycle, all on the main lcore after eal_start():
 *   worker_set_start_port()      lcores, mempools, the port started;
 *   worker_set_create_workers()  rings, applications, stacks, workers;
 *   worker_set_launch()          every worker_run() on its lcore;
 *   worker_set_stop()            RING_MSG_STOP to each, waits for it;
 *   worker_set_destroy()         frees everything, also after a failure
 *                                at any step above.
 * Failures are reported on stderr as "<name>: <what>" (name from the
 * configuration), so that each program keeps its own messages.
 */
#ifndef HSRELAY_DATAPLANE_WORKER_SET_H
#define HSRELAY_DATAPLANE_WORKER_SET_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/port.h"
#include "dataplane/worker.h"

struct capture;
struct config_dpdk;
struct rte_mempool;
struct rte_ring;
struct stack;
struct stack_app_ops;
struct worker_set;

/* What a program adds to each worker. arg is worker_set_config.hooks_arg. */
struct worker_set_hooks {
	/* Makes the application of worker index (the stack's app_arg) once
	 * the worker's rings and mempool exist. Returns 0 and sets *app_arg,
	 * or a negative errno. */
	int (*create_app)(void *arg, struct worker_set *set, unsigned index, void **app_arg);
	/* After the worker's stack is made (set->stacks[index]): ties the
	 * application to it (listening sockets, relay_worker_attach()).
	 * Returns 0 or a negative errno. May be NULL. */
	int (*attach_app)(void *arg, struct worker_set *set, unsigned index);
	/* Frees what create_app made for index, after that worker's stack is
	 * destroyed and before its rings and mempool are. Called for every
	 * index below n_workers, also where create_app failed or never ran.
	 * May be NULL. */
	void (*destroy_app)(void *arg, unsigned index);
};

struct worker_set_config {
	const char *name;                 /* message prefix: "hsrelay", "netcheck" */
	const struct config_dpdk *dpdk;   /* port, address, MAC, ARP timeout, mbufs, idle */
	unsigned n_workers;               /* 1 .. WORKER_MAX */
	unsigned ring_size;               /* ARP and hand-off rings */
	unsigned message_ring_size;       /* each worker's control and event rings */
	uint16_t port_desc;               /* RX and TX descriptors per queue */
	uint64_t arp_retry_ns;
	uint32_t max_tcp_connections;     /* per worker */
	const struct stack_app_ops *app;
	struct worker_set_hooks hooks;
	void *hooks_arg;
};

/* The layout is public so that a program can embed the set and read the
 * per-worker objects; everything is written by the functions below only. */
struct worker_set {
	struct worker_set_config config;
	unsigned n_workers;
	int socket_id;                    /* of the main lcore: rings, stacks, workers */
	uint16_t port_id;
	bool port_started;
	struct port_info port;
	bool tx_prepare;	/* the port computes TX checksums (worker_config) */
	unsigned lcores[WORKER_MAX];
	bool launched[WORKER_MAX];
	struct rte_mempool *pools[WORKER_MAX];
	struct rte_ring *arp_rings[WORKER_MAX];
	struct rte_ring *control[WORKER_MAX];   /* main -> worker (ring_msg.h) */
	struct rte_ring *events[WORKER_MAX];    /* worker -> main (ring_msg.h) */
	struct rte_ring *handoff[WORKER_MAX];   /* frames for the flow's owner */
	void *apps[WORKER_MAX];
	struct stack *stacks[WORKER_MAX];
	struct worker *workers[WORKER_MAX];
	struct capture *capture;		/* DPDKCapture, NULL: none */
	bool capture_stopped;			/* the workers were told */
};

/* Copies config into set (which must be zeroed), takes the first
 * config->n_workers worker lcores, finds the one DPDKPort, creates one
 * mempool per worker on its lcore's socket and starts the port with one
 * queue pair per worker. Returns 0, or a negative errno after printing why
 * (-EINVAL: not exactly one port or too few lcores). Whatever was made is
 * freed by worker_set_destroy(). */
int worker_set_start_port(struct worker_set *set, const struct worker_set_config *config);

/* For each worker: its rings, its application (hooks.create_app), its
 * stack on the configured address (with the MAC from the configuration or
 * else the port's), hooks.attach_app, then every worker's poll loop.
 * Returns 0, or a negative errno after printing "worker set-up: ...";
 * whatever was made is freed by worker_set_destroy(). */
int worker_set_create_workers(struct worker_set *set);

/* Launches worker_run() for every worker on its lcore. Returns 0, or the
 * negative code of the first launch that failed (printed); the workers
 * launched before it run and are stopped by worker_set_stop(). */
int worker_set_launch(struct worker_set *set);

/* Writes the frames the workers copied for DPDKCapture (nothing without
 * it); once the file holds DPDKCapturePackets frames, tells the workers to
 * stop copying and says so on stderr. Called from the main lcore's loop.
 * Returns the frames written. */
unsigned worker_set_capture_poll(struct worker_set *set);

/* Sends RING_MSG_STOP to every launched worker and waits for each lcore. */
void worker_set_stop(struct worker_set *set);

/* Frees what the functions above made (stacks, applications through
 * hooks.destroy_app, workers, rings with the mbufs still in the hand-off
 * rings, the port, the mempools). Safe on a zeroed or partly set-up set;
 * the workers must be stopped. */
void worker_set_destroy(struct worker_set *set);

#endif
