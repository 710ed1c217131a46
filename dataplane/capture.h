/* Packet capture to a pcapng file (DPDKCapture): what tcpdump would show
 * on the port, which the kernel never sees with the dataplane bypassing
 * it. Built on DPDK's rte_pcapng.
 *
 * Workers copy the frames they receive and send (capture_frames(), on the
 * fast path: a copy into an mbuf of the capture's pool and a ring enqueue,
 * no syscall) into one ring each; the main lcore's loop writes them out
 * (capture_drain(), the write(2)s are there). A frame that finds the pool
 * or the ring full is not captured and is counted, never waited for. After
 * max_packets frames the file is complete: capture_drain() reports it, and
 * the caller tells the workers to stop copying (RING_MSG_CAPTURE_STOP).
 *
 * Transmitted frames are copied when the worker hands them to the device,
 * so where the device computes checksums (DPDKChecksumOffload) the TCP
 * checksum in the file is the pseudo-header sum, as in a kernel capture
 * with offloads.
 */
#ifndef HSRELAY_DATAPLANE_CAPTURE_H
#define HSRELAY_DATAPLANE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_pcapng.h>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;
struct capture;

/* What one worker needs to copy frames. */
struct capture_tap {
	struct rte_ring *ring;		/* this worker's, single producer */
	struct rte_mempool *pool;	/* shared by the workers */
	uint32_t snaplen;		/* bytes kept of each frame */
	/* CLOCK_REALTIME minus worker_tsc_to_ns(), in ns, taken at open */
	uint64_t realtime_offset_ns;
};

/* Copies the n frames (which stay the caller's) with their port, queue,
 * direction and the current TSC into the worker's ring. Returns how many
 * could not be captured (pool or ring full). */
unsigned capture_frames(const struct capture_tap *tap, uint16_t port, uint16_t queue,
		struct rte_mbuf *const *pkts, uint16_t n, enum rte_pcapng_direction direction);

/* Creates path (mode 0600, truncated) with the pcapng section header and
 * one interface block per DPDK port, a pool and one ring per worker on
 * socket_id. max_packets 0: no limit. Returns NULL with *error a negative
 * errno (and message, a sentence naming the file, in errbuf). */
struct capture *capture_open(const char *path, unsigned n_workers, uint64_t max_packets,
		int socket_id, int *error, char *errbuf, size_t errbuf_len);

/* Worker index's tap. */
const struct capture_tap *capture_tap_of(const struct capture *capture, unsigned index);

/* Writes what the workers copied, up to max_packets in all; frames beyond
 * it are freed. Returns the frames written by this call; *complete tells
 * whether max_packets is reached. A write error closes the file (every
 * later frame is freed) and is counted. */
unsigned capture_drain(struct capture *capture, bool *complete);

struct capture_stats {
	uint64_t packets;	/* written to the file */
	uint64_t bytes;		/* written to the file (pcapng blocks) */
	uint64_t discarded;	/* copied beyond max_packets or after an error */
	uint64_t write_errors;
};

void capture_get_stats(const struct capture *capture, struct capture_stats *out);

/* Writes what is left (the workers must be stopped), closes the file and
 * frees the rings and the pool; the final counts go to *final when it is
 * not NULL. NULL is ignored. */
void capture_close(struct capture *capture, struct capture_stats *final);

#endif
