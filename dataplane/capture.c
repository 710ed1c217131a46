/* Packet capture to pcapng; see capture.h. */
#include "dataplane/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dataplane/worker.h"

/* Frames kept of each: a whole Ethernet frame of the 1500-byte MTU the
 * ports run with, and its VLAN tag. */
#define CAPTURE_SNAPLEN 1518
/* Copies in flight (the pool) and per worker ring: about 10 ms of a busy
 * worker, what the main loop drains between two of its sleeps. */
#define CAPTURE_POOL_SIZE 8191
#define CAPTURE_RING_SIZE 4096
/* Frames written per rte_pcapng_write_packets() call (one writev). */
#define CAPTURE_WRITE_BURST 64
/* pcapng enhanced packet block: block type 6 at 0, the timestamp's high
 * and low 32 bits at 12 and 16 (pcapng spec 4.3). */
#define EPB_TYPE 6u
#define EPB_TIMESTAMP_HIGH 12
#define EPB_TIMESTAMP_LOW 16

struct capture {
	rte_pcapng_t *file;
	struct rte_mempool *pool;
	unsigned n_workers;
	uint64_t max_packets;
	struct capture_tap taps[WORKER_MAX];
	struct capture_stats stats;
};

unsigned
capture_frames(const struct capture_tap *tap, uint16_t port, uint16_t queue,
		struct rte_mbuf *const *pkts, uint16_t n, enum rte_pcapng_direction direction)
{
	struct rte_mbuf *copies[WORKER_TX_BUFFER];
	uint64_t tsc = rte_rdtsc();
	/* rte_pcapng_copy() of DPDK 22.11 turns the TSC into wall time with a
	 * product that overflows seconds after start-up (timestamps centuries
	 * ahead); the block gets our own, from the workers' TSC clock. */
	uint64_t ns = worker_tsc_to_ns(tsc) + tap->realtime_offset_ns;
	uint32_t ts_high = (uint32_t)(ns >> 32), ts_low = (uint32_t)ns;
	unsigned lost = 0;

	while (n > 0) {
		uint16_t chunk = RTE_MIN(n, (uint16_t)RTE_DIM(copies));
		unsigned k = 0, queued;

		for (uint16_t i = 0; i < chunk; i++) {
			struct rte_mbuf *c = rte_pcapng_copy(port, queue, pkts[i], tap->pool,
					tap->snaplen, tsc, direction);

			uint8_t *epb;

			if (c == NULL) {
				lost++;
				continue;
			}
			epb = rte_pktmbuf_mtod(c, uint8_t *);
			if (rte_pktmbuf_data_len(c) >= EPB_TIMESTAMP_LOW + 4 &&
			    *(const uint32_t *)epb == EPB_TYPE) {
				memcpy(epb + EPB_TIMESTAMP_HIGH, &ts_high, 4);
				memcpy(epb + EPB_TIMESTAMP_LOW, &ts_low, 4);
			}
			copies[k++] = c;
		}
		queued = rte_ring_sp_enqueue_burst(tap->ring, (void **)copies, k, NULL);
		if (queued < k) {
			rte_pktmbuf_free_bulk(copies + queued, k - queued);
			lost += k - queued;
		}
		pkts += chunk;
		n = (uint16_t)(n - chunk);
	}
	return lost;
}

struct capture *
capture_open(const char *path, unsigned n_workers, uint64_t max_packets, int socket_id,
		int *error, char *errbuf, size_t errbuf_len)
{
	struct capture *c;
	char name[RTE_RING_NAMESIZE];
	int fd;

	if (n_workers == 0 || n_workers > WORKER_MAX) {
		*error = -EINVAL;
		snprintf(errbuf, errbuf_len, "capture: %u workers", n_workers);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*error = -ENOMEM;
		snprintf(errbuf, errbuf_len, "capture: out of memory");
		return NULL;
	}
	c->n_workers = n_workers;
	c->max_packets = max_packets;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error = -errno;
		snprintf(errbuf, errbuf_len, "capture: cannot create %s: %s", path, strerror(errno));
		free(c);
		return NULL;
	}
	c->file = rte_pcapng_fdopen(fd, NULL, NULL, "hsrelay", "DPDKCapture");
	if (c->file == NULL) {
		*error = -rte_errno;
		snprintf(errbuf, errbuf_len, "capture: cannot write the pcapng header to %s: %s",
				path, rte_strerror(rte_errno));
		close(fd);
		free(c);
		return NULL;
	}
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		c->taps[0].realtime_offset_ns = (uint64_t)now.tv_sec * 1000000000u +
				(uint64_t)now.tv_nsec - worker_tsc_to_ns(rte_rdtsc());
	}
	c->pool = rte_pktmbuf_pool_create("capture_pool", CAPTURE_POOL_SIZE, 256, 0,
			(uint16_t)rte_pcapng_mbuf_size(CAPTURE_SNAPLEN), socket_id);
	for (unsigned i = 0; i < n_workers && c->pool != NULL; i++) {
		snprintf(name, sizeof(name), "capture_%u", i);
		c->taps[i].ring = rte_ring_create(name, CAPTURE_RING_SIZE, socket_id,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		c->taps[i].pool = c->pool;
		c->taps[i].snaplen = CAPTURE_SNAPLEN;
		c->taps[i].realtime_offset_ns = c->taps[0].realtime_offset_ns;
		if (c->taps[i].ring == NULL)
			break;
	}
	if (c->pool == NULL || c->taps[n_workers - 1].ring == NULL) {
		*error = -ENOMEM;
		snprintf(errbuf, errbuf_len, "capture: no memory for the capture pool and rings "
				"(DPDKMemoryMB)");
		capture_close(c, NULL);
		return NULL;
	}
	return c;
}

const struct capture_tap *
capture_tap_of(const struct capture *c, unsigned index)
{
	return index < c->n_workers ? &c->taps[index] : NULL;
}

static bool
complete(const struct capture *c)
{
	return c->file == NULL || (c->max_packets != 0 && c->stats.packets >= c->max_packets);
}

unsigned
capture_drain(struct capture *c, bool *is_complete)
{
	struct rte_mbuf *pkts[CAPTURE_WRITE_BURST];
	unsigned written = 0;

	for (unsigned i = 0; i < c->n_workers; i++) {
		unsigned n;

		if (c->taps[i].ring == NULL)
			continue;
		while ((n = rte_ring_sc_dequeue_burst(c->taps[i].ring, (void **)pkts,
				RTE_DIM(pkts), NULL)) > 0) {
			unsigned take = n;
			ssize_t bytes;

			if (complete(c))
				take = 0;
			else if (c->max_packets != 0 && c->stats.packets + n > c->max_packets)
				take = (unsigned)(c->max_packets - c->stats.packets);
			if (take < n) {
				rte_pktmbuf_free_bulk(pkts + take, n - take);
				c->stats.discarded += n - take;
			}
			if (take == 0)
				continue;
			/* Frees the frames whatever happens. */
			bytes = rte_pcapng_write_packets(c->file, pkts, (uint16_t)take);
			if (bytes < 0) {
				c->stats.write_errors++;
				c->stats.discarded += take;
				rte_pcapng_close(c->file);
				c->file = NULL;
				continue;
			}
			c->stats.packets += take;
			c->stats.bytes += (uint64_t)bytes;
			written += take;
		}
	}
	*is_complete = complete(c);
	return written;
}

void
capture_get_stats(const struct capture *c, struct capture_stats *out)
{
	*out = c->stats;
}

void
capture_close(struct capture *c, struct capture_stats *final)
{
	bool done;

	if (c == NULL)
		return;
	if (c->pool != NULL)
		capture_drain(c, &done);
	if (final != NULL)
		*final = c->stats;
	if (c->file != NULL)
		rte_pcapng_close(c->file);
	for (unsigned i = 0; i < c->n_workers; i++)
		rte_ring_free(c->taps[i].ring);
	rte_mempool_free(c->pool);
	free(c);
}
