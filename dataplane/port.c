#include "dataplane/port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

/* 0x6d5a repeated: a Toeplitz key under which swapping source and
 * destination (addresses and ports together) leaves the hash unchanged
 * (Woo and Park, "Scalable TCP Session Monitoring with Symmetric
 * Receive-side Scaling", 2012). */
const uint8_t port_rss_key[PORT_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

/* Per-lcore mempool cache: the largest DPDK allows. A worker frees and
 * takes hundreds of mbufs per loop iteration (a TX burst of up to 128
 * segments, RX bursts, records); with a small cache most of them overflow
 * to the pool's ring, which hands back the least recently freed mbuf,
 * long out of the CPU caches, so every first touch of a new mbuf (header,
 * then data) was a miss. A cache of 512 (flushed at 768) keeps the churn
 * in LIFO order: the next mbuf taken is one just freed. */
#define PORT_MEMPOOL_CACHE RTE_MEMPOOL_CACHE_MAX_SIZE

/* The hash inputs hsrelay's flow ownership uses: IPv4 addresses and, for
 * TCP and UDP, the ports. */
#define PORT_RSS_HF (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP | \
		RTE_ETH_RSS_NONFRAG_IPV4_UDP)

int
port_find(const char *spec, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t len = strcspn(spec, ",");

	if (len == 0 || len >= sizeof(name))
		return -ENODEV;
	memcpy(name, spec, len);
	name[len] = '\0';
	return rte_eth_dev_get_port_by_name(name, port_id) == 0 ? 0 : -ENODEV;
}

struct rte_mempool *
port_mempool_create(const char *name, unsigned n_mbufs, int socket_id)
{
	/* DPDK refuses a cache whose flush threshold (1.5 times its size)
	 * exceeds the pool. */
	unsigned cache = RTE_MIN((unsigned)PORT_MEMPOOL_CACHE, n_mbufs * 2 / 3);

	return rte_pktmbuf_pool_create(name, n_mbufs, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			socket_id);
}

/* Entry i of the redirection table is queue i % n_queues, which is what
 * the software owner function assumes. */
static int
port_reta_set(uint16_t port_id, uint16_t reta_size, uint16_t n_queues)
{
	struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 /
		RTE_ETH_RETA_GROUP_SIZE];

	if (reta_size == 0 || reta_size > RTE_ETH_RSS_RETA_SIZE_512 ||
			reta_size % PORT_RETA_SIZE != 0)
		return -ENOTSUP;
	memset(reta, 0, sizeof(reta));
	for (uint16_t i = 0; i < reta_size; i++) {
		struct rte_eth_rss_reta_entry64 *group = &reta[i / RTE_ETH_RETA_GROUP_SIZE];

		group->mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		group->reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % n_queues;
	}
	return rte_eth_dev_rss_reta_update(port_id, reta, reta_size);
}

/* TCP checksums by the device where it offers them (port.h). The IPv4
 * header checksum stays in software both ways: 20 bytes, computed from
 * field values on output and verified by the classifier's parser. */
static void
port_checksum_offloads(const struct rte_eth_dev_info *dev_info, struct rte_eth_conf *conf,
		struct port_info *info)
{
	if (dev_info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		info->rx_tcp_checksum = true;
	}
	if (dev_info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		info->tx_tcp_checksum = true;
		/* DPDK 22.11's net_tap "offloads" in software and sums each
		 * segment of a chain as if it began on an even byte
		 * (tap_tx_l4_add_rcksum()), so a chain with an odd-length
		 * segment leaves with a wrong checksum; there the stack
		 * offloads only single-segment frames. */
		info->tx_tcp_checksum_chains = strcmp(dev_info->driver_name, "net_tap") != 0;
	}
}

int
port_start(uint16_t port_id, uint16_t n_queues,
		struct rte_mempool *const *pools, uint16_t rx_desc, uint16_t tx_desc,
		bool checksum_offload, struct port_info *info)
{
	struct rte_eth_dev_info dev_info;
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	uint8_t key[PORT_RSS_KEY_LEN];
	int rc;

	memset(info, 0, sizeof(*info));
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port_id, &dev_info);
	if (rc < 0)
		return rc;
	if (n_queues == 0 || n_queues > dev_info.max_rx_queues ||
			n_queues > dev_info.max_tx_queues)
		return -EINVAL;

	/* A device whose Toeplitz key is not 40 bytes would hash differently
	 * from the software owner function, so it runs without RSS and the
	 * hand-off rings place its flows. */
	if (n_queues > 1 && (dev_info.flow_type_rss_offloads & PORT_RSS_HF) &&
			dev_info.hash_key_size == PORT_RSS_KEY_LEN &&
			dev_info.reta_size % PORT_RETA_SIZE == 0 && dev_info.reta_size) {
		memcpy(key, port_rss_key, sizeof(key));
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(key);
		conf.rx_adv_conf.rss_conf.rss_hf =
			dev_info.flow_type_rss_offloads & PORT_RSS_HF;
		info->rss = true;
	}
	/* The stack sends header + payload chains; drivers that have a
	 * faster single-segment TX path pick it unless told otherwise. */
	if (dev_info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		info->tx_multi_segs = true;
	}
	if (checksum_offload)
		port_checksum_offloads(&dev_info, &conf, info);
	rc = rte_eth_dev_configure(port_id, n_queues, n_queues, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc);
	if (rc < 0)
		return rc;
	for (uint16_t q = 0; q < n_queues; q++) {
		int socket = rte_eth_dev_socket_id(port_id);

		rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, socket, NULL, pools[q]);
		if (rc < 0)
			return rc;
		rc = rte_eth_tx_queue_setup(port_id, q, tx_desc, socket, NULL);
		if (rc < 0)
			return rc;
	}
	rc = rte_eth_dev_start(port_id);
	if (rc < 0)
		return rc;
	if (info->rss && port_reta_set(port_id, dev_info.reta_size, n_queues) < 0) {
		/* Without our table the hardware spreads flows in its own way;
		 * the hand-off rings still deliver them to their owners. */
		info->rss = false;
	}
	/* Promiscuous mode is a convenience (the dataplane filters on its own
	 * MAC); drivers without it return -ENOTSUP, which is fine. */
	rte_eth_promiscuous_enable(port_id);

	rc = rte_eth_macaddr_get(port_id, &mac);
	if (rc < 0)
		return rc;
	memcpy(info->mac, mac.addr_bytes, sizeof(info->mac));
	info->port_id = port_id;
	info->n_queues = n_queues;
	if (rte_eth_dev_get_name_by_port(port_id, info->name) < 0)
		info->name[0] = '\0';
	return 0;
}

void
port_checksum_describe(const struct port_info *info, char *buf, size_t len)
{
	snprintf(buf, len, "rx %s tx %s", info->rx_tcp_checksum ? "on" : "off",
			!info->tx_tcp_checksum ? "off" :
			info->tx_tcp_checksum_chains ? "on" : "single-segment");
}

bool
port_link_wait(uint16_t port_id, unsigned wait_ms)
{
	for (unsigned waited = 0;; waited += 10) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(port_id, &link) == 0 &&
				link.link_status == RTE_ETH_LINK_UP)
			return true;
		if (waited >= wait_ms)
			return false;
		rte_delay_ms(10);
	}
}

void
port_stop(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}
