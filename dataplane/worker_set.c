/* The workers of one port: see worker_set.h. */
#include "dataplane/worker_set.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "control/config.h"
#include "dataplane/capture.h"
#include "dataplane/ring_msg.h"
#include "dataplane/stack.h"

/* The ARP cache of each worker's stack (dataplane/ether.h). */
#define ARP_CAPACITY 256
#define ARP_HELD_PER_ENTRY 8
#define ARP_MAX_REQUESTS 3

int
worker_set_start_port(struct worker_set *set, const struct worker_set_config *config)
{
	const struct config_dpdk *cfg = config->dpdk;
	const char *name = config->name;
	unsigned lcore, n = 0;
	int rc;

	set->config = *config;
	set->n_workers = config->n_workers;
	set->socket_id = (int)rte_socket_id();
	if (cfg->n_ports != 1) {
		fprintf(stderr, "%s: drives exactly one DPDKPort, %u given\n", name, cfg->n_ports);
		return -EINVAL;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n < set->n_workers)
			set->lcores[n++] = lcore;
	}
	if (n < set->n_workers) {
		fprintf(stderr, "%s: DPDKWorkerQueues %u needs %u worker lcores besides "
				"the main one; DPDKLcores gives %u\n", name, set->n_workers,
				set->n_workers, n);
		return -EINVAL;
	}
	rc = port_find(cfg->ports[0].spec, &set->port_id);
	if (rc < 0) {
		fprintf(stderr, "%s: no ethdev for DPDKPort %s\n", name, cfg->ports[0].spec);
		return rc;
	}
	for (unsigned i = 0; i < set->n_workers; i++) {
		char pool_name[RTE_MEMPOOL_NAMESIZE];

		snprintf(pool_name, sizeof(pool_name), "pool%u", i);
		set->pools[i] = port_mempool_create(pool_name, cfg->mbufs_per_worker,
				(int)rte_lcore_to_socket_id(set->lcores[i]));
		if (!set->pools[i]) {
			fprintf(stderr, "%s: mempool %s: %s\n", name, pool_name,
					rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	rc = port_start(set->port_id, (uint16_t)set->n_workers, set->pools, config->port_desc,
			config->port_desc, cfg->checksum_offload, &set->port);
	if (rc < 0) {
		fprintf(stderr, "%s: port %s: %s\n", name, cfg->ports[0].spec, rte_strerror(-rc));
		return rc;
	}
	set->port_started = true;
	return 0;
}

/* Worker i's rings, application and stack. */
static int
create_stack(struct worker_set *set, unsigned i)
{
	const struct worker_set_config *config = &set->config;
	const struct config_dpdk *cfg = config->dpdk;
	char name[RTE_RING_NAMESIZE];
	struct stack_config sc = {
		.index = i,
		.n_workers = set->n_workers,
		.socket_id = set->socket_id,
		.pool = set->pools[i],
		.ip = cfg->address,
		.prefix_len = cfg->prefix_len,
		.gateway = cfg->gateway,
		.arp = {
			.capacity = ARP_CAPACITY,
			.held_per_entry = ARP_HELD_PER_ENTRY,
			.max_requests = ARP_MAX_REQUESTS,
			.reachable_ns = (uint64_t)cfg->arp_timeout_sec * 1000000000ull,
			.retry_ns = config->arp_retry_ns,
		},
		.tcp = {
			.max_connections = config->max_tcp_connections,
			.congestion_control = cfg->tcp_congestion == CONFIG_TCP_NEWRENO
				? TCP_CC_NEWRENO : TCP_CC_CUBIC,
			.recv_buffer = cfg->tcp_recv_buffer,
			.send_buffer = cfg->tcp_send_buffer,
		},
		.app = config->app,
	};
	int err;

	set->tx_prepare = stack_config_checksum_offloads(&sc, &set->port);
	snprintf(name, sizeof(name), "ctl%u", i);
	set->control[i] = ring_msg_ring_create(name, config->message_ring_size, set->socket_id);
	snprintf(name, sizeof(name), "ev%u", i);
	set->events[i] = ring_msg_ring_create(name, config->message_ring_size, set->socket_id);
	snprintf(name, sizeof(name), "ho%u", i);
	set->handoff[i] = ring_handoff_create(name, config->ring_size, set->socket_id);
	if (!set->control[i] || !set->events[i] || !set->handoff[i])
		return -ENOMEM;
	err = config->hooks.create_app(config->hooks_arg, set, i, &set->apps[i]);
	if (err < 0)
		return err;
	memcpy(sc.arp_rings, set->arp_rings, sizeof(set->arp_rings));
	memcpy(sc.mac.addr_bytes, cfg->has_mac ? cfg->mac : set->port.mac, 6);
	sc.app_arg = set->apps[i];
	set->stacks[i] = stack_create(&sc, &err);
	if (!set->stacks[i])
		return err;
	if (config->hooks.attach_app != NULL)
		return config->hooks.attach_app(config->hooks_arg, set, i);
	return 0;
}

static int
create_workers(struct worker_set *set)
{
	const struct config_dpdk *cfg = set->config.dpdk;
	int rc;

	for (unsigned i = 0; i < set->n_workers; i++) {
		set->arp_rings[i] = stack_arp_ring_create(i, set->config.ring_size, set->socket_id);
		if (!set->arp_rings[i])
			return -ENOMEM;
	}
	for (unsigned i = 0; i < set->n_workers; i++) {
		rc = create_stack(set, i);
		if (rc < 0)
			return rc;
	}
	if (cfg->capture_path[0] != '\0') {
		char msg[CONFIG_PATH_MAX + 128];

		set->capture = capture_open(cfg->capture_path, set->n_workers, cfg->capture_packets,
				set->socket_id, &rc, msg, sizeof(msg));
		if (set->capture == NULL) {
			fprintf(stderr, "%s: %s\n", set->config.name, msg);
			return rc;
		}
	}
	for (unsigned i = 0; i < set->n_workers; i++) {
		struct worker_config wc = {
			.index = i,
			.n_workers = set->n_workers,
			.port_id = set->port_id,
			.queue_id = (uint16_t)i,
			.hw_rss = set->port.rss,
			.tx_linearize = !set->port.tx_multi_segs,
			.tx_prepare = set->tx_prepare,
			.control_ring = set->control[i],
			.event_ring = set->events[i],
			.ops = &stack_worker_ops,
			.stack = set->stacks[i],
			.idle_polls = cfg->idle_polls,
			.idle_sleep_usec = cfg->idle_sleep_usec,
			.socket_id = set->socket_id,
			.capture = set->capture != NULL ? capture_tap_of(set->capture, i) : NULL,
		};

		memcpy(wc.handoff_rings, set->handoff, sizeof(set->handoff));
		set->workers[i] = worker_create(&wc);
		if (!set->workers[i])
			return -ENOMEM;
	}
	return 0;
}

int
worker_set_create_workers(struct worker_set *set)
{
	int rc = create_workers(set);

	if (rc < 0)
		fprintf(stderr, "%s: worker set-up: %s\n", set->config.name, strerror(-rc));
	return rc;
}

int
worker_set_launch(struct worker_set *set)
{
	for (unsigned i = 0; i < set->n_workers; i++) {
		int rc = rte_eal_remote_launch(worker_run, set->workers[i], set->lcores[i]);

		if (rc < 0) {
			fprintf(stderr, "%s: launch on lcore %u failed\n", set->config.name,
					set->lcores[i]);
			return rc;
		}
		set->launched[i] = true;
	}
	return 0;
}

void
worker_set_stop(struct worker_set *set)
{
	for (unsigned i = 0; i < set->n_workers; i++)
		if (set->launched[i] && ring_msg_send(set->control[i],
				&(struct ring_msg){ .type = RING_MSG_STOP }) < 0)
			fprintf(stderr, "%s: worker %u control ring full\n", set->config.name, i);
	for (unsigned i = 0; i < set->n_workers; i++)
		if (set->launched[i]) {
			rte_eal_wait_lcore(set->lcores[i]);
			set->launched[i] = false;
		}
}

unsigned
worker_set_capture_poll(struct worker_set *set)
{
	struct capture_stats st;
	bool complete;
	unsigned n;

	if (set->capture == NULL)
		return 0;
	n = capture_drain(set->capture, &complete);
	if (complete && !set->capture_stopped) {
		for (unsigned i = 0; i < set->n_workers; i++) {
			struct ring_msg msg = { .type = RING_MSG_CAPTURE_STOP, .worker = (uint16_t)i };

			/* A full control ring drains within an iteration. */
			while (set->launched[i] && ring_msg_send(set->control[i], &msg) < 0)
				rte_pause();
		}
		set->capture_stopped = true;
		capture_get_stats(set->capture, &st);
		fprintf(stderr, "%s: capture: %s holds %" PRIu64 " frames%s; no more are "
				"copied\n", set->config.name, set->config.dpdk->capture_path,
				st.packets, st.write_errors ? " (stopped by a write error)"
				: " (DPDKCapturePackets)");
	}
	return n;
}

void
worker_set_destroy(struct worker_set *set)
{
	if (set->capture != NULL) {
		struct capture_stats st;

		/* The workers are stopped: what they copied last is written. */
		capture_close(set->capture, &st);
		set->capture = NULL;
		fprintf(stderr, "%s: capture: %" PRIu64 " frames, %" PRIu64 " bytes written to "
				"%s; %" PRIu64 " copied beyond the limit, %" PRIu64 " write errors\n",
				set->config.name, st.packets, st.bytes, set->config.dpdk->capture_path,
				st.discarded, st.write_errors);
	}
	for (unsigned i = 0; i < set->n_workers; i++) {
		stack_destroy(set->stacks[i]);
		set->stacks[i] = NULL;
		if (set->config.hooks.destroy_app != NULL)
			set->config.hooks.destroy_app(set->config.hooks_arg, i);
		set->apps[i] = NULL;
		worker_destroy(set->workers[i]);
		set->workers[i] = NULL;
		if (set->handoff[i]) {
			void *m = NULL;

			while (rte_ring_dequeue(set->handoff[i], &m) == 0)
				rte_pktmbuf_free(m);
		}
		rte_ring_free(set->control[i]);
		rte_ring_free(set->events[i]);
		rte_ring_free(set->handoff[i]);
		rte_ring_free(set->arp_rings[i]);
		set->control[i] = set->events[i] = set->handoff[i] = set->arp_rings[i] = NULL;
	}
	if (set->port_started)
		port_stop(set->port_id);
	set->port_started = false;
	for (unsigned i = 0; i < set->n_workers; i++) {
		rte_mempool_free(set->pools[i]);
		set->pools[i] = NULL;
	}
}
