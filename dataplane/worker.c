#include "dataplane/worker.h"

#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include "dataplane/capture.h"
#include "dataplane/port.h"

#define WORKER_DEFAULT_TX_DRAIN_NS 100000
#define WORKER_DEFAULT_TIMER_BUDGET 64
#define WORKER_DEFAULT_CONTROL_BUDGET 16
#define WORKER_DEFAULT_IDLE_POLLS 64
/* Messages taken per iteration at most, whatever control_budget says. */
#define WORKER_CONTROL_BUDGET_MAX 64

struct __rte_cache_aligned worker {
	/* Read every iteration. */
	uint16_t port_id;
	uint16_t queue_id;
	unsigned index;
	unsigned n_workers;
	bool hw_rss;
	bool tx_linearize;
	bool tx_prepare;
	bool stopping;
	bool capturing;
	/* tx_buffer[0 .. tx_captured) were copied for the capture already
	 * (a flush that the device took only part of keeps the rest) */
	uint16_t tx_captured;
	struct capture_tap capture;
	uint64_t now;
	uint64_t tx_deadline;
	uint16_t tx_count;
	unsigned empty_polls;
	unsigned idle_polls;
	unsigned idle_sleep_usec;
	uint64_t tx_drain_ns;
	unsigned timer_budget;
	unsigned control_budget;
	const struct worker_ops *ops;
	void *stack;
	struct rte_ring *control_ring;
	struct rte_ring *event_ring;
	struct rte_ring *handoff_rings[WORKER_MAX];

	struct worker_counters counters __rte_cache_aligned;

	struct rte_mbuf *tx_buffer[WORKER_TX_BUFFER] __rte_cache_aligned;
};

/* Multiplier from TSC cycles to nanoseconds in 32.32 fixed point, set
 * once by the first worker_tsc_to_ns() (the TSC rate is fixed after
 * rte_eal_init()). */
static uint64_t tsc_ns_mult;

uint64_t
worker_tsc_to_ns(uint64_t tsc)
{
	if (unlikely(tsc_ns_mult == 0))
		tsc_ns_mult = (uint64_t)(((unsigned __int128)NS_PER_S << 32) /
				rte_get_tsc_hz());
	return (uint64_t)(((unsigned __int128)tsc * tsc_ns_mult) >> 32);
}

struct worker *
worker_create(const struct worker_config *config)
{
	struct worker *w;

	if (config->n_workers == 0 || config->n_workers > WORKER_MAX ||
			config->index >= config->n_workers || !config->ops ||
			!config->ops->input || !config->ops->timers ||
			!config->ops->message || !config->control_ring ||
			!config->event_ring)
		return NULL;
	for (unsigned i = 0; i < config->n_workers; i++)
		if (!config->handoff_rings[i] && config->n_workers > 1)
			return NULL;
	w = rte_zmalloc_socket("worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
			config->socket_id);
	if (!w)
		return NULL;
	w->port_id = config->port_id;
	w->queue_id = config->queue_id;
	w->index = config->index;
	w->n_workers = config->n_workers;
	w->hw_rss = config->hw_rss;
	w->tx_linearize = config->tx_linearize;
	w->tx_prepare = config->tx_prepare;
	w->ops = config->ops;
	w->stack = config->stack;
	w->control_ring = config->control_ring;
	w->event_ring = config->event_ring;
	memcpy(w->handoff_rings, config->handoff_rings, sizeof(w->handoff_rings));
	w->tx_drain_ns = config->tx_drain_ns ? config->tx_drain_ns :
		WORKER_DEFAULT_TX_DRAIN_NS;
	w->timer_budget = config->timer_budget ? config->timer_budget :
		WORKER_DEFAULT_TIMER_BUDGET;
	w->control_budget = config->control_budget ?
		RTE_MIN(config->control_budget, WORKER_CONTROL_BUDGET_MAX) :
		WORKER_DEFAULT_CONTROL_BUDGET;
	w->idle_polls = config->idle_polls ? config->idle_polls :
		WORKER_DEFAULT_IDLE_POLLS;
	w->idle_sleep_usec = config->idle_sleep_usec;
	if (config->capture != NULL) {
		w->capture = *config->capture;
		w->capturing = true;
	}
	return w;
}

void
worker_destroy(struct worker *w)
{
	if (!w)
		return;
	rte_pktmbuf_free_bulk(w->tx_buffer, w->tx_count);
	rte_free(w);
}

unsigned
worker_flow_owner(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
		uint16_t dst_port, unsigned n_workers)
{
	/* The tuple layout of rte_ipv4_tuple (addresses, then the two ports
	 * in one word), which is also the order NICs hash TCP/IPv4 in. */
	uint32_t tuple[3] = { src_ip, dst_ip, (uint32_t)src_port << 16 | dst_port };
	uint32_t hash;

	if (n_workers <= 1)
		return 0;
	hash = rte_softrss(tuple, RTE_DIM(tuple), port_rss_key);
	return (hash % PORT_RETA_SIZE) % n_workers;
}

int
worker_frame_owner(const struct rte_mbuf *m, unsigned n_workers)
{
	const struct rte_ether_hdr *eth;
	const struct rte_ipv4_hdr *ip;
	const uint8_t *l4;
	size_t ihl;

	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*ip))
		return -1;
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return -1;
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	ihl = (size_t)(ip->version_ihl & 0x0f) * 4;
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip))
		return -1;
	if (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP)
		return -1;
	/* Fragments carry no ports (or only the first does); the IPv4 layer
	 * drops them wherever they land. */
	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
				RTE_IPV4_HDR_OFFSET_MASK))
		return -1;
	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + ihl + 4)
		return -1;
	l4 = (const uint8_t *)ip + ihl;
	return (int)worker_flow_owner(rte_be_to_cpu_32(ip->src_addr),
			rte_be_to_cpu_32(ip->dst_addr),
			(uint16_t)(l4[0] << 8 | l4[1]), (uint16_t)(l4[2] << 8 | l4[3]),
			n_workers);
}

uint16_t
worker_tx_flush(struct worker *w)
{
	uint16_t sent;

	if (w->tx_count == 0)
		return 0;
	/* Copied before the device takes them: a PMD may free or reuse a
	 * frame inside rte_eth_tx_burst(). */
	if (unlikely(w->capturing) && w->tx_captured < w->tx_count)
		w->counters.capture_dropped += capture_frames(&w->capture, w->port_id, w->queue_id,
				w->tx_buffer + w->tx_captured, (uint16_t)(w->tx_count - w->tx_captured),
				RTE_PCAPNG_DIRECTION_OUT);
	sent = rte_eth_tx_burst(w->port_id, w->queue_id, w->tx_buffer, w->tx_count);
	if (sent < w->tx_count)
		memmove(w->tx_buffer, w->tx_buffer + sent,
				(size_t)(w->tx_count - sent) * sizeof(w->tx_buffer[0]));
	w->tx_count = (uint16_t)(w->tx_count - sent);
	w->tx_captured = w->tx_count;
	w->counters.tx_packets += sent;
	return sent;
}

/* One mbuf holding all of chain m, or NULL (m freed either way when the
 * result is not m). The first segment is reused when it is ours alone and
 * has the room; else the frame is copied into a new mbuf of its pool. */
static struct rte_mbuf *
tx_linearize_one(struct rte_mbuf *m)
{
	struct rte_mbuf *copy;

	if (RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
	    rte_pktmbuf_linearize(m) == 0)
		return m;
	copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
	rte_pktmbuf_free(m);
	if (copy != NULL && copy->nb_segs > 1) {
		rte_pktmbuf_free(copy);
		copy = NULL;
	}
	return copy;
}

/* Linearizes the chains among pkts, keeping the frames that made it at the
 * front (in order); the others are counted in tx_dropped. */
static uint16_t
tx_linearize(struct worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (m->nb_segs > 1)
			m = tx_linearize_one(m);
		if (m == NULL) {
			w->counters.tx_dropped++;
			continue;
		}
		pkts[kept++] = m;
	}
	return kept;
}

/* Lets the driver check and fix up offload requests (rte_eth_tx_prepare(),
 * which DPDK asks for before a burst that uses offloads), keeping the
 * frames it accepts at the front in order; one it refuses is freed and
 * counted in tx_dropped. */
static uint16_t
tx_prepare(struct worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t kept = 0, i = 0;

	while (i < n) {
		uint16_t ok = rte_eth_tx_prepare(w->port_id, w->queue_id, pkts + i,
				(uint16_t)(n - i));

		if (kept != i)
			memmove(pkts + kept, pkts + i, (size_t)ok * sizeof(pkts[0]));
		kept = (uint16_t)(kept + ok);
		i = (uint16_t)(i + ok);
		if (i < n) {
			rte_pktmbuf_free(pkts[i++]);
			w->counters.tx_dropped++;
		}
	}
	return kept;
}

uint16_t
worker_tx_burst(struct worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t queued = 0;

	if (unlikely(w->tx_linearize))
		n = tx_linearize(w, pkts, n);
	if (w->tx_prepare)
		n = tx_prepare(w, pkts, n);

	while (queued < n) {
		uint16_t room = (uint16_t)(WORKER_TX_BUFFER - w->tx_count);
		uint16_t take;

		if (room == 0) {
			worker_tx_flush(w);
			room = (uint16_t)(WORKER_TX_BUFFER - w->tx_count);
			if (room == 0)
				break;
		}
		if (w->tx_count == 0)
			w->tx_deadline = w->now + w->tx_drain_ns;
		take = RTE_MIN(room, (uint16_t)(n - queued));
		memcpy(w->tx_buffer + w->tx_count, pkts + queued,
				(size_t)take * sizeof(pkts[0]));
		w->tx_count = (uint16_t)(w->tx_count + take);
		queued = (uint16_t)(queued + take);
	}
	if (queued < n) {
		rte_pktmbuf_free_bulk(pkts + queued, (unsigned)(n - queued));
		w->counters.tx_dropped += (uint64_t)(n - queued);
	}
	return queued;
}

static void
worker_event(struct worker *w, uint16_t type, uint64_t u64)
{
	struct ring_msg msg = { .type = type, .worker = (uint16_t)w->index, .u64 = u64 };

	if (ring_msg_send(w->event_ring, &msg) < 0)
		w->counters.events_dropped++;
}

static void
worker_control(struct worker *w, const struct ring_msg *msg)
{
	switch (msg->type) {
	case RING_MSG_STOP:
		w->stopping = true;
		worker_event(w, RING_MSG_STOPPED, msg->u64);
		break;
	case RING_MSG_STATS_REQUEST:
		/* Counted before the copy so the snapshot includes it. */
		if (msg->ptr)
			memcpy(msg->ptr, &w->counters, sizeof(w->counters));
		worker_event(w, RING_MSG_STATS_DONE, msg->u64);
		break;
	case RING_MSG_CAPTURE_STOP:
		w->capturing = false;
		break;
	case RING_MSG_SET_IDLE:
		w->idle_sleep_usec = msg->u32;
		w->idle_polls = msg->u64 ? (unsigned)msg->u64 : WORKER_DEFAULT_IDLE_POLLS;
		break;
	default:
		if (msg->type >= RING_MSG_STACK_FIRST)
			w->ops->message(w->stack, w, msg, w->now);
		else
			w->counters.control_unknown++;
		break;
	}
}

unsigned
worker_poll(struct worker *w, uint64_t now)
{
	struct rte_mbuf *rx[WORKER_BURST];
	/* Owned frames: this queue's and those handed over, one burst each. */
	struct rte_mbuf *owned[2 * WORKER_BURST];
	struct rte_mbuf *foreign[WORKER_MAX][WORKER_BURST];
	uint16_t n_foreign[WORKER_MAX];
	struct ring_msg msgs[WORKER_CONTROL_BUDGET_MAX];
	uint16_t n_rx, n_owned = 0;
	unsigned work, n_in = 0, ran, n_msgs;

	w->now = now;
	w->counters.polls++;

	/* 1. RX burst. */
	n_rx = rte_eth_rx_burst(w->port_id, w->queue_id, rx, WORKER_BURST);
	w->counters.rx_packets += n_rx;
	if (unlikely(w->capturing) && n_rx > 0)
		w->counters.capture_dropped += capture_frames(&w->capture, w->port_id,
				w->queue_id, rx, n_rx, RTE_PCAPNG_DIRECTION_IN);

	/* 2. Classify by flow owner. */
	if (w->n_workers == 1 || w->hw_rss) {
		memcpy(owned, rx, (size_t)n_rx * sizeof(rx[0]));
		n_owned = n_rx;
	} else {
		memset(n_foreign, 0, sizeof(n_foreign[0]) * w->n_workers);
		for (uint16_t i = 0; i < n_rx; i++) {
			int owner = worker_frame_owner(rx[i], w->n_workers);

			if (owner < 0 || (unsigned)owner == w->index)
				owned[n_owned++] = rx[i];
			else
				foreign[owner][n_foreign[owner]++] = rx[i];
		}
		/* 3. Hand foreign frames to their owners, one burst each. */
		for (unsigned o = 0; o < w->n_workers; o++) {
			unsigned sent;

			if (n_foreign[o] == 0)
				continue;
			sent = rte_ring_enqueue_burst(w->handoff_rings[o],
					(void **)foreign[o], n_foreign[o], NULL);
			w->counters.handoff_out += sent;
			if (sent < n_foreign[o]) {
				rte_pktmbuf_free_bulk(foreign[o] + sent, n_foreign[o] - sent);
				w->counters.handoff_dropped += n_foreign[o] - sent;
			}
		}
		n_in = rte_ring_dequeue_burst(w->handoff_rings[w->index],
				(void **)(owned + n_owned), WORKER_BURST, NULL);
		w->counters.handoff_in += n_in;
		n_owned = (uint16_t)(n_owned + n_in);
	}

	/* 4. Process per kind (the stack sorts them). */
	if (n_owned)
		w->ops->input(w->stack, w, owned, n_owned, now);

	/* 5. TX on a full burst or the drain deadline. */
	if (w->tx_count >= WORKER_BURST ||
			(w->tx_count && now >= w->tx_deadline))
		worker_tx_flush(w);

	/* 6. Timers, bounded. */
	ran = w->ops->timers(w->stack, w, now, w->timer_budget);
	w->counters.timers_run += ran;

	/* 7. Control messages, bounded. */
	n_msgs = ring_msg_recv_burst(w->control_ring, msgs, w->control_budget);
	w->counters.control_messages += n_msgs;
	for (unsigned i = 0; i < n_msgs; i++)
		worker_control(w, &msgs[i]);

	work = n_rx + n_in + ran + n_msgs;
	return work;
}

bool
worker_idle(struct worker *w, unsigned work)
{
	if (work) {
		w->empty_polls = 0;
		return false;
	}
	if (w->idle_sleep_usec == 0 || ++w->empty_polls < w->idle_polls)
		return false;
	w->empty_polls = 0;
	w->counters.idle_sleeps++;
	return true;
}

/* Adds an iteration of cycles to the loop counters; relaxed atomic
 * stores (plain moves on x86) so that worker_cycles() may read them. */
static inline void
account_cycles(struct worker *w, uint64_t cycles, bool busy)
{
	__atomic_store_n(&w->counters.poll_cycles, w->counters.poll_cycles + cycles,
			__ATOMIC_RELAXED);
	if (busy)
		__atomic_store_n(&w->counters.busy_cycles, w->counters.busy_cycles + cycles,
				__ATOMIC_RELAXED);
}

int
worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t start = rte_rdtsc();

	while (!w->stopping) {
		uint64_t sent = w->counters.tx_packets;
		unsigned work = worker_poll(w, worker_tsc_to_ns(start));
		uint64_t end = rte_rdtsc();

		/* An iteration that only sent (the drain deadline) worked too. */
		account_cycles(w, end - start, work != 0 || w->counters.tx_packets != sent);
		/* Frames waiting for their drain deadline keep it awake. */
		if (w->tx_count == 0 && worker_idle(w, work)) {
			/* A signal (net_tap's SIGIO on new frames) ends the
			 * sleep early, which is what we want. */
			struct timespec ts = {
				.tv_sec = w->idle_sleep_usec / 1000000,
				.tv_nsec = (long)(w->idle_sleep_usec % 1000000) * 1000,
			};

			nanosleep(&ts, NULL);
			end = rte_rdtsc();
		}
		start = end;
	}
	worker_tx_flush(w);
	return 0;
}

void
worker_cycles(const struct worker *w, uint64_t *busy_cycles, uint64_t *poll_cycles)
{
	if (busy_cycles != NULL)
		*busy_cycles = __atomic_load_n(&w->counters.busy_cycles, __ATOMIC_RELAXED);
	if (poll_cycles != NULL)
		*poll_cycles = __atomic_load_n(&w->counters.poll_cycles, __ATOMIC_RELAXED);
}

bool
worker_stopping(const struct worker *w)
{
	return w->stopping;
}

unsigned
worker_index(const struct worker *w)
{
	return w->index;
}

const struct worker_counters *
worker_counters(const struct worker *w)
{
	return &w->counters;
}
