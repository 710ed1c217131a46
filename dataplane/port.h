/* Ethernet ports for the workers: one RX/TX queue pair per worker, each
 * queue filled from that worker's own mempool, RSS (Toeplitz) where the
 * device has it, and link status.
 *
 * Flow placement. Where the device offers RSS, the port is configured with
 * a symmetric Toeplitz key (the 16-bit pattern 0x6d5a repeated, so that
 * both directions of a connection hash alike) over IPv4 and TCP/UDP ports,
 * and with a redirection table whose entry i is queue i % n_queues. The
 * worker computes the same function in software (worker_flow_owner(),
 * dataplane/worker.h), so the worker a flow lands on and the worker that
 * owns it agree; where the device has no RSS (net_tap here, af_packet,
 * rings) a frame may land elsewhere and is handed to its owner over a ring.
 */
#ifndef HSRELAY_DATAPLANE_PORT_H
#define HSRELAY_DATAPLANE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_mempool;

/* RSS key length of the software hash (and of most NICs' Toeplitz key). */
#define PORT_RSS_KEY_LEN 40
/* Redirection table size assumed by the software hash; devices with a
 * larger table get it filled with the same i % n_queues pattern. */
#define PORT_RETA_SIZE 128

/* The symmetric Toeplitz key used on every port and by the software hash. */
extern const uint8_t port_rss_key[PORT_RSS_KEY_LEN];

struct port_info {
	uint16_t port_id;
	uint16_t n_queues;
	bool rss;            /* hardware RSS configured */
	/* The device sends mbuf chains (RTE_ETH_TX_OFFLOAD_MULTI_SEGS, which
	 * port_start() enables where offered). Without it (net_af_xdp in
	 * DPDK 22.11) a chain's later segments would be lost or read as
	 * garbage, so the worker linearizes frames first (worker_config). */
	bool tx_multi_segs;
	/* TCP checksum offloads enabled (port_start() with checksum_offload,
	 * where the device offers them): the device verifies received TCP
	 * checksums and reports it in the mbuf's RTE_MBUF_F_RX_L4_CKSUM_*
	 * flags; it computes the checksum of sent segments marked
	 * RTE_MBUF_F_TX_TCP_CKSUM, of chains too where tx_tcp_checksum_chains
	 * (not on net_tap, see port.c). */
	bool rx_tcp_checksum;
	bool tx_tcp_checksum;
	bool tx_tcp_checksum_chains;
	uint8_t mac[6];      /* the device's MAC */
	char name[64];       /* the ethdev name (vdev name or PCI address) */
};

/* The ethdev port id of a configured DPDKPort spec (control/config.h):
 * the vdev name before the first ',' or the PCI address. Returns 0 and
 * sets *port_id, or -ENODEV. */
int port_find(const char *spec, uint16_t *port_id);

/* Creates the mempool of one worker: n_mbufs (2^k - 1 is the most
 * memory-efficient) mbufs with the default data room, a per-lcore cache
 * of up to 512 (at most two thirds of n_mbufs; up to 1.5 times that may
 * sit in the cache of each lcore that frees this pool's mbufs), on
 * socket_id. name must be unique in the process. Returns the pool or
 * NULL (rte_errno set). */
struct rte_mempool *port_mempool_create(const char *name, unsigned n_mbufs,
		int socket_id);

/* Configures port_id with n_queues RX/TX queue pairs, RX queue q filled
 * from pools[q], rx_desc/tx_desc descriptors per queue (adjusted to the
 * device's limits), RSS as described above when the device supports it and
 * n_queues > 1, multi-segment TX where offered (info->tx_multi_segs), TCP
 * checksum offloads where offered if checksum_offload (DPDKChecksumOffload,
 * info->rx_tcp_checksum, tx_tcp_checksum), and promiscuous mode where
 * supported (the dataplane may use a MAC other than the device's). Then starts it. Returns 0 and fills
 * *info, or a negative errno naming nothing (the caller logs port_id). */
int port_start(uint16_t port_id, uint16_t n_queues,
		struct rte_mempool *const *pools, uint16_t rx_desc, uint16_t tx_desc,
		bool checksum_offload, struct port_info *info);

/* Writes what port_start() enabled of the TCP checksum offloads, for a
 * start-up line: "rx on|off tx on|single-segment|off". */
void port_checksum_describe(const struct port_info *info, char *buf, size_t len);

/* Waits up to wait_ms for the link to come up. Returns true when it is up. */
bool port_link_wait(uint16_t port_id, unsigned wait_ms);

/* Stops and closes the port. */
void port_stop(uint16_t port_id);

#endif
