/* The relay on one worker; see relay_worker.h and relay_msg.h. */
#include "dataplane/relay_worker.h"

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "crypto/tls_key_update.h"
#include "crypto/tls_record.h"
#include "dataplane/channel_padding.h"
#include "dataplane/circuit.h"
#include "dataplane/circuit_queue.h"
#include "dataplane/cross_batch.h"
#include "dataplane/ipv4_address.h"
#include "dataplane/latency_histogram.h"
#include "dataplane/tls_stream.h"
#include "dataplane/token_bucket.h"
#include "dataplane/wire.h"

enum link_state {
	LINK_FREE,
	LINK_CONNECTING,	/* active open in progress */
	LINK_TLS,		/* TLS handshake bytes go to control */
	LINK_RECORDS,		/* TLS records handled here */
	LINK_RAW,		/* plain bytes to and from control */
};

#define LINK_SLOT_MASK ((1u << RELAY_LINK_SLOT_BITS) - 1)
/* Ids of links that have something to read or to seal, per iteration. */
#define LIST_MAX 1024
/* Records waiting for the seal burst. */
#define SEAL_MAX 32
/* DESTROY cells written per circuit_close_link() call. */
#define CLOSE_BATCH 32
/* Record plaintext room for one opened record. */
#define SCRATCH_LEN (16384 + 256)
/* Padding deadlines are checked at most this often: tor's padding timers
 * have millisecond resolution too. */
#define PADDING_TICK_NS 1000000ull
/* Measured cells appended to records between two flushes, at most. */
#define LATENCY_PENDING_MAX 1024
/* relay_link.pad_index: not in the padding list. */
#define PAD_INDEX_NONE UINT32_MAX
/* relay_link.park_index: not waiting for tokens. */
#define PARK_INDEX_NONE UINT32_MAX

/* The two lists of links that wait for the token bucket
 * (RELAY_MSG_BANDWIDTH): to read, and to send their backlog. */
enum park_side {
	PARK_READ,
	PARK_WRITE,
	PARK_SIDES,
};

struct relay_link {
	struct tls_record_dir rx_dir;
	struct tls_record_dir tx_dir;
	/* TLS 1.3 traffic secrets of rx_dir and tx_dir, for KeyUpdate */
	struct tls_traffic_secret rx_secret;
	struct tls_traffic_secret tx_secret;
	struct tls_stream_rx rx;
	struct tls_stream_tx_record tx;		/* tx.head NULL: none open */
	struct rte_mbuf *backlog[RELAY_LINK_BACKLOG_RECORDS];
	uint32_t backlog_first, backlog_count;
	uint32_t id;
	uint32_t tcp_conn;
	uint32_t connect_request;
	uint32_t peeked;	/* record bytes peeked in the current burst */
	uint32_t peeked_rekeyed;	/* peeked bytes up to the KeyUpdate */
	uint32_t var_skip;	/* bytes of an oversized VPADDING still to skip */
	uint16_t generation;
	uint16_t carry_len;
	uint16_t link_protocol;	/* from MSG_LINK_OPEN */
	uint8_t state;		/* enum link_state */
	uint8_t version;	/* enum tls_record_version */
	bool paused;		/* TLS: waiting for control's answer */
	bool open;		/* link handshake done */
	bool first_cell_done;	/* the VERSIONS cell (2-byte circuit id) was cut */
	bool in_rx_list;
	bool in_flush_list;
	bool failed;		/* close at the end of the burst */
	/* a KeyUpdate was read in this burst: the link's later records in it
	 * were tried with the old key and are opened again */
	bool rekeyed;
	/* padding-spec connection-level padding: the peer did not
	 * authenticate (a client, whose links tor pads when asked), and a
	 * RELAY_EARLY cell came in (tor pads a channel only once it carried a
	 * multi-hop circuit: channel_usage, nf_pad_before_usage) */
	bool pad_client;
	bool pad_used;
	uint32_t pad_index;	/* in relay_worker.pad_links, or PAD_INDEX_NONE */
	/* in relay_worker.parked[side], or PARK_INDEX_NONE */
	uint32_t park_index[PARK_SIDES];
	/* the peer's address is internal (tor_addr_is_internal): its bytes
	 * count against the limit only with CountPrivateBandwidth */
	bool peer_internal;
	struct channel_padding padding;
	int close_error;
	uint8_t carry[RELAY_LINK_CARRY_MAX];
};

struct pending_record {
	struct tls_stream_tx_record rec;
	uint32_t link;
};

struct relay_worker {
	struct relay_worker_config cfg;
	struct stack *stack;
	struct tcp_stack *tcp;
	struct circuit_table *circuits;
	struct circuit_queues *queues;
	uint8_t pulled[TLS_RECORD_MAX_PLAINTEXT / CELL_LEN][CELL_LEN];
	uint64_t pulled_tags[TLS_RECORD_MAX_PLAINTEXT / CELL_LEN];
	struct relay_link *links;
	/* TCP connection handle -> link slot + 1 (0: none). Events carry the
	 * user value of when they were made, which for the data and FIN that
	 * arrive in the same burst as the handshake's last ACK is not set
	 * yet, so links are found by connection handle. */
	uint32_t *conn_links;
	uint32_t max_conns;
	uint32_t *free_slots;
	uint32_t nb_free;
	uint32_t listener;
	bool listening;			/* listener is the ORPort's */
	uint64_t now;

	uint32_t rx_list[LIST_MAX];
	uint32_t nb_rx;
	uint32_t flush_list[LIST_MAX];
	uint32_t nb_flush;

	/* the record burst */
	struct tls_stream_record peeks[RELAY_RECORD_BURST];
	struct tls_record_open opens[RELAY_RECORD_BURST];
	uint32_t open_links[RELAY_RECORD_BURST];
	uint32_t open_end[RELAY_RECORD_BURST];	/* link's peeked after each record */
	uint8_t *scratch;	/* RELAY_RECORD_BURST * SCRATCH_LEN */

	/* the cell burst */
	struct circuit_cell cells[CIRCUIT_BURST_MAX];
	uint8_t assembled[CIRCUIT_BURST_MAX][CELL_LEN];
	struct circuit_extra_cell extra[CIRCUIT_BURST_MAX];
	/* rendezvous cells other workers spliced to our circuits */
	struct circuit_cell splice_cells[CIRCUIT_BURST_MAX];
	unsigned nb_splice_cells;
	unsigned nb_cells;
	unsigned nb_assembled;

	/* the seal burst */
	struct pending_record pending[SEAL_MAX];
	struct tls_record_seal seals[SEAL_MAX];
	unsigned nb_pending;

	/* cells for other workers (cross is false with one worker) */
	struct cross_outbox outbox;
	bool cross;

	/* links that negotiated padding (START), and the earliest time one
	 * of them may be due: a lower bound, since traffic only moves a
	 * link's deadline later */
	uint32_t *pad_links;
	uint32_t nb_pad;
	uint64_t pad_next;
	struct channel_padding_params pad_params;

	/* BandwidthRate and BandwidthBurst, this worker's share
	 * (RELAY_MSG_BANDWIDTH; no limit before it), and the links that wait
	 * for tokens to read or to send */
	struct token_bucket_rw bucket;
	bool bucket_on;
	bool count_private;
	/* RelayBandwidthRate and RelayBandwidthBurst's share
	 * (RELAY_MSG_RELAYED_BANDWIDTH), for the links that carry relayed
	 * traffic */
	struct token_bucket_rw relayed;
	bool relayed_on;
	uint32_t *parked[PARK_SIDES];
	uint32_t nb_parked[PARK_SIDES];
	uint32_t *park_scratch;		/* bandwidth_tick()'s copy of a list */
	uint32_t park_rotor;

	/* latency tags of the measured cells appended to records since the
	 * last flush (latency_account()) */
	uint64_t latency_pending[LATENCY_PENDING_MAX];
	unsigned nb_latency;

	struct relay_worker_stats stats;
} __rte_cache_aligned;

/* circuit.h's kinds are the histogram's, so a cell's tag is made from its
 * arrival and kind as they are. */
_Static_assert((int)CIRCUIT_CELL_FORWARDED == (int)LATENCY_KIND_FORWARD &&
		(int)CIRCUIT_CELL_SPLICED == (int)LATENCY_KIND_SPLICE &&
		(int)CIRCUIT_CELL_MADE == (int)LATENCY_KIND_NONE,
		"circuit cell kinds are latency kinds");

/* ------------------------------------------------------------------ */
/* Links                                                               */

static struct relay_link *
link_get(struct relay_worker *w, uint32_t id)
{
	uint32_t slot = id & LINK_SLOT_MASK;
	struct relay_link *l;

	if (slot >= w->cfg.max_links)
		return NULL;
	l = &w->links[slot];
	if (l->state == LINK_FREE || l->id != id)
		return NULL;
	return l;
}

static struct relay_link *
link_alloc(struct relay_worker *w, uint8_t state)
{
	struct relay_link *l;
	uint32_t slot;

	if (w->nb_free == 0)
		return NULL;
	slot = w->free_slots[--w->nb_free];
	l = &w->links[slot];
	/* Generation 0 is skipped so that no id is ever 0; slots stay below
	 * 0xffff, so no id is all ones (relay_msg.h). */
	l->generation = (uint16_t)(l->generation >= RELAY_LINK_GENERATION_MAX ? 1
			: l->generation + 1);
	l->id = (uint32_t)l->generation << RELAY_LINK_GENERATION_SHIFT |
		(uint32_t)w->cfg.index << RELAY_LINK_SLOT_BITS | slot;
	l->state = state;
	tls_stream_rx_init(&l->rx);
	l->tx.head = NULL;
	l->backlog_first = l->backlog_count = 0;
	l->tcp_conn = UINT32_MAX;
	l->connect_request = 0;
	l->peeked = 0;
	l->peeked_rekeyed = 0;
	l->rekeyed = false;
	l->var_skip = 0;
	l->carry_len = 0;
	l->paused = false;
	l->open = false;
	l->first_cell_done = false;
	l->in_rx_list = false;
	l->in_flush_list = false;
	l->failed = false;
	l->close_error = 0;
	l->link_protocol = 0;
	l->pad_client = false;
	l->pad_used = false;
	l->pad_index = PAD_INDEX_NONE;
	l->park_index[PARK_READ] = l->park_index[PARK_WRITE] = PARK_INDEX_NONE;
	l->peer_internal = false;
	channel_padding_init(&l->padding, w->now);
	w->stats.links_open++;
	return l;
}

static void
event(struct relay_worker *w, uint16_t type, uint32_t u32, uint64_t u64, struct rte_mbuf *m)
{
	struct ring_msg msg = {
		.type = type, .worker = (uint16_t)w->cfg.index, .u32 = u32, .u64 = u64, .ptr = m,
	};

	if (ring_msg_send(w->cfg.event_ring, &msg) < 0) {
		w->stats.drop_events++;
		if (m != NULL)
			rte_pktmbuf_free(m);
	}
}

/* Takes the link out of the padding list (swap with the last). */
static void
pad_list_remove(struct relay_worker *w, struct relay_link *l)
{
	uint32_t i = l->pad_index;

	if (i == PAD_INDEX_NONE)
		return;
	w->pad_links[i] = w->pad_links[--w->nb_pad];
	if (i < w->nb_pad)
		w->links[w->pad_links[i]].pad_index = i;
	l->pad_index = PAD_INDEX_NONE;
}

/* ------------------------------------------------------------------ */
/* Rate limit (BandwidthRate, BandwidthBurst; dataplane/token_bucket.h) */

/* tor connection.c connection_is_rate_limited(): every link, but those to
 * internal addresses unless CountPrivateBandwidth. */
static inline bool
link_rate_limited(const struct relay_worker *w, const struct relay_link *l)
{
	return w->bucket_on && (w->count_private || !l->peer_internal);
}

/* tor connection_counts_as_relayed_traffic(): OR connections not used by
 * our own client circuits (hsrelay builds none) and directory connections
 * we serve; not the raw ones hsrelay opens to the authorities. */
static inline bool
link_relayed(const struct relay_worker *w, const struct relay_link *l)
{
	return w->relayed_on && !(l->connect_request & RELAY_CONNECT_RAW);
}

/* What the buckets let one read or write now: the global pair's tokens
 * and, with relayed, the smaller of those and the relayed pair's (tor
 * connection_bucket_read_limit()). For a link, relayed is
 * link_relayed(); for the waiting links together, relayed_on (a raw link,
 * which only the global pair limits, then waits with the others while the
 * relayed bucket is empty: at most one refill step). */
static inline uint64_t
read_tokens(const struct relay_worker *w, bool relayed)
{
	uint64_t tokens = token_bucket_rw_read_allowed(&w->bucket);

	if (relayed)
		tokens = RTE_MIN(tokens, token_bucket_rw_read_allowed(&w->relayed));
	return tokens;
}

static inline uint64_t
write_tokens(const struct relay_worker *w, bool relayed)
{
	uint64_t tokens = token_bucket_rw_write_allowed(&w->bucket);

	if (relayed)
		tokens = RTE_MIN(tokens, token_bucket_rw_write_allowed(&w->relayed));
	return tokens;
}

static void
park(struct relay_worker *w, struct relay_link *l, enum park_side side)
{
	if (l->park_index[side] != PARK_INDEX_NONE)
		return;
	l->park_index[side] = w->nb_parked[side];
	w->parked[side][w->nb_parked[side]++] = l->id & LINK_SLOT_MASK;
}

/* Takes the link out of a wait list (swap with the last). */
static void
unpark(struct relay_worker *w, struct relay_link *l, enum park_side side)
{
	uint32_t i = l->park_index[side];

	if (i == PARK_INDEX_NONE)
		return;
	w->parked[side][i] = w->parked[side][--w->nb_parked[side]];
	if (i < w->nb_parked[side])
		w->links[w->parked[side][i]].park_index[side] = i;
	l->park_index[side] = PARK_INDEX_NONE;
}

/* Spends what a rate-limited link read or wrote (tor
 * connection_buckets_decrement()). An emptied global bucket is what tor's
 * MetricsPort counts as tor_relay_load_global_rate_limit_reached_total;
 * the relayed one's are counted apart. */
static inline void
spend_read(struct relay_worker *w, const struct relay_link *l, uint32_t bytes)
{
	if (token_bucket_rw_spend_read(&w->bucket, bytes))
		w->stats.rate_limit_read_reached++;
	if (link_relayed(w, l) && token_bucket_rw_spend_read(&w->relayed, bytes))
		w->stats.relayed_limit_read_reached++;
}

static inline void
spend_write(struct relay_worker *w, const struct relay_link *l, uint32_t bytes)
{
	if (token_bucket_rw_spend_write(&w->bucket, bytes))
		w->stats.rate_limit_write_reached++;
	if (link_relayed(w, l) && token_bucket_rw_spend_write(&w->relayed, bytes))
		w->stats.relayed_limit_write_reached++;
}

/* Copies len bytes into a new mbuf chain from the worker's pool; NULL
 * (counted) when the pool is empty. */
static struct rte_mbuf *
copy_to_mbuf(struct relay_worker *w, const void *data, uint32_t len)
{
	struct rte_mbuf *m = relay_msg_mbuf_from(w->cfg.pool, data, len);

	if (m == NULL)
		w->stats.drop_no_mbuf++;
	return m;
}

/* An event carrying a copy of len bytes; lost (counted) without mbufs. */
static void
event_copy(struct relay_worker *w, uint16_t type, uint32_t u32, uint64_t u64, const void *data,
		uint32_t len)
{
	struct rte_mbuf *m = copy_to_mbuf(w, data, len);

	if (m != NULL)
		event(w, type, u32, u64, m);
}

/* Tells control of the watched circuits freed since the last call
 * (EV_CIRCUIT_CLOSED), as many as the event ring has room for: the rest
 * stay in the circuit table (their slots unused) for the next iteration.
 * This worker is the ring's only producer, so the room it sees can only
 * grow. */
static void
report_closed(struct relay_worker *w)
{
	struct circuit_closed closed[16];
	unsigned room = rte_ring_free_count(w->cfg.event_ring);
	unsigned n;

	while (room > 0 && (n = circuit_take_closed(w->circuits, closed,
			RTE_MIN(room, (unsigned)RTE_DIM(closed)))) > 0) {
		for (unsigned i = 0; i < n; i++)
			event(w, RELAY_EV_CIRCUIT_CLOSED, closed[i].handle,
					(uint64_t)closed[i].p_link << 32 | closed[i].p_circ_id, NULL);
		room -= n;
	}
}

static void
mark_failed(struct relay_link *l, int error)
{
	if (!l->failed) {
		l->failed = true;
		l->close_error = error;
	}
}

static void queue_bytes(struct relay_worker *w, struct relay_link *l, const uint8_t *p,
		uint32_t len);
static void queue_cell(struct relay_worker *w, uint32_t link, const uint8_t *cell);
static void flush_links(struct relay_worker *w);
static void cross_out(struct relay_worker *w, unsigned dest, uint32_t link, uint32_t circuit,
		uint8_t kind, uint8_t flags, const uint8_t *cell, uint64_t tag);

/* A DESTROY a closing circuit produced for its other side: sent on the
 * link, or, for a rendezvous partner another worker owns, handed to that
 * worker, which closes the partner and sends it on. */
static void
send_extra(struct relay_worker *w, const struct circuit_extra_cell *e)
{
	if (e->splice_remote)
		cross_out(w, relay_link_worker(e->link), e->link, CIRCUIT_NONE, CROSS_TO_SPLICE, 0,
				e->cell, 0);
	else
		queue_cell(w, e->link, e->cell);
}

/* Sends DESTROY for every circuit that had a side on the link (a link of
 * this worker, or one of another worker that closed). */
static void
close_link_circuits(struct relay_worker *w, uint32_t id)
{
	struct circuit_extra_cell out[CLOSE_BATCH];
	unsigned n;

	while ((n = circuit_close_link(w->circuits, id, out, CLOSE_BATCH)) > 0) {
		for (unsigned i = 0; i < n; i++)
			send_extra(w, &out[i]);
	}
}

static void link_send_backlog(struct relay_worker *w, struct relay_link *l, bool ignore_bucket);

/* Ends a link. tcp_alive: the TCP handle is still ours (close it);
 * graceful: with FIN (else RST). */
static void
link_close(struct relay_worker *w, struct relay_link *l, int error, bool tcp_alive,
		bool graceful)
{
	uint32_t slot = l->id & LINK_SLOT_MASK;

	close_link_circuits(w, l->id);
	circuit_queue_drop_link(w->queues, slot);
	pad_list_remove(w, l);
	unpark(w, l, PARK_READ);
	unpark(w, l, PARK_WRITE);
	if (l->tcp_conn < w->max_conns && w->conn_links[l->tcp_conn] == slot + 1)
		w->conn_links[l->tcp_conn] = 0;
	if (tcp_alive && l->tcp_conn != UINT32_MAX) {
		/* What waited for tokens goes out before the FIN, as tor
		 * flushes a connection it marks for close: the bytes are
		 * spent, the bucket goes into debt. */
		if (graceful) {
			link_send_backlog(w, l, true);
			tcp_close(w->tcp, l->tcp_conn, w->now);
		} else {
			tcp_abort(w->tcp, l->tcp_conn, w->now);
		}
	}
	tls_stream_rx_release(&l->rx);
	tls_stream_tx_discard(&l->tx);
	while (l->backlog_count > 0) {
		rte_pktmbuf_free(l->backlog[l->backlog_first]);
		l->backlog_first = (l->backlog_first + 1) % RELAY_LINK_BACKLOG_RECORDS;
		l->backlog_count--;
	}
	tls_record_dir_clear(&l->rx_dir);
	tls_record_dir_clear(&l->tx_dir);
	tls_traffic_secret_wipe(&l->rx_secret);
	tls_traffic_secret_wipe(&l->tx_secret);
	event(w, RELAY_EV_LINK_CLOSED, l->id,
			(uint64_t)l->connect_request << 32 | (uint32_t)(-error), NULL);
	l->state = LINK_FREE;
	w->free_slots[w->nb_free++] = slot;
	w->stats.links_open--;
	w->stats.links_closed++;
}

/* Hands a sealed record (or raw bytes) to TCP, behind any backlog. With
 * the write bucket empty it waits in the backlog (as when TCP's send
 * buffer is full) and the link waits for tokens; a record may take the
 * bucket into debt. */
static void
link_send_chain(struct relay_worker *w, struct relay_link *l, struct rte_mbuf *chain)
{
	bool limited = link_rate_limited(w, l);

	if (limited && write_tokens(w, link_relayed(w, l)) == 0) {
		park(w, l, PARK_WRITE);
	} else if (l->backlog_count == 0) {
		uint32_t bytes = chain->pkt_len;
		int rc = tcp_send(w->tcp, l->tcp_conn, chain, w->now);

		if (rc == 0) {
			if (limited)
				spend_write(w, l, bytes);
			return;
		}
		if (rc != -EAGAIN) {
			rte_pktmbuf_free(chain);
			mark_failed(l, rc);
			return;
		}
	}
	if (l->backlog_count == RELAY_LINK_BACKLOG_RECORDS) {
		rte_pktmbuf_free(chain);
		w->stats.backlog_overflow++;
		mark_failed(l, -ENOBUFS);
		return;
	}
	l->backlog[(l->backlog_first + l->backlog_count) % RELAY_LINK_BACKLOG_RECORDS] = chain;
	l->backlog_count++;
}

/* Sends the backlog while TCP takes it and, for a rate-limited link,
 * while the write bucket has tokens (ignore_bucket: a closing link's last
 * bytes). */
static void
link_send_backlog(struct relay_worker *w, struct relay_link *l, bool ignore_bucket)
{
	bool limited = link_rate_limited(w, l);

	while (l->backlog_count > 0) {
		struct rte_mbuf *chain = l->backlog[l->backlog_first];
		uint32_t bytes = chain->pkt_len;
		int rc;

		if (limited && !ignore_bucket && write_tokens(w, link_relayed(w, l)) == 0) {
			park(w, l, PARK_WRITE);
			return;
		}
		rc = tcp_send(w->tcp, l->tcp_conn, chain, w->now);
		if (rc == -EAGAIN)
			return;
		if (rc != 0) {
			mark_failed(l, rc);
			return;
		}
		if (limited)
			spend_write(w, l, bytes);
		l->backlog_first = (l->backlog_first + 1) % RELAY_LINK_BACKLOG_RECORDS;
		l->backlog_count--;
	}
}

/* ------------------------------------------------------------------ */
/* Cell latency (dataplane/latency_histogram.h)                        */

/* Ends the latency of the measured cells appended since the last call,
 * with one clock read for all: called at the end of flush_links(), when
 * every record they were appended to has been sealed and handed to TCP
 * (or to the link's backlog in front of it). Arrivals may come from
 * another worker's clock (cross-worker cells): the TSC is the same on
 * every core, and a reading behind the arrival counts as 0. */
static void
latency_account(struct relay_worker *w)
{
	uint64_t end;

	if (w->nb_latency == 0)
		return;
	end = worker_tsc_to_ns(rte_rdtsc());
	for (unsigned i = 0; i < w->nb_latency; i++) {
		uint64_t tag = w->latency_pending[i];
		uint64_t arrival = latency_tag_arrival(tag);

		latency_histogram_add(&w->stats.latency[latency_tag_kind(tag) - 1],
				end > arrival ? end - arrival : 0);
	}
	w->nb_latency = 0;
}

/* A cell with tag was appended to a link's record: measured when the
 * flush that seals it ends. Should more than LATENCY_PENDING_MAX measured
 * cells be appended between two flushes (a long drain of circuit queues),
 * the ones so far end here, right after the last was appended. */
static inline void
latency_push(struct relay_worker *w, uint64_t tag)
{
	if (latency_tag_kind(tag) == LATENCY_KIND_NONE)
		return;
	w->latency_pending[w->nb_latency++] = tag;
	if (w->nb_latency == LATENCY_PENDING_MAX)
		latency_account(w);
}

/* ------------------------------------------------------------------ */
/* Sending: records filled per link, sealed in bursts                  */

static void
add_to_flush(struct relay_worker *w, struct relay_link *l)
{
	if (l->in_flush_list)
		return;
	if (w->nb_flush == LIST_MAX)
		flush_links(w);
	w->flush_list[w->nb_flush++] = l->id;
	l->in_flush_list = true;
}

static void
seal_pending(struct relay_worker *w)
{
	unsigned n = 0;

	for (unsigned i = 0; i < w->nb_pending; i++) {
		struct pending_record *p = &w->pending[i];
		struct relay_link *l = link_get(w, p->link);

		if (l == NULL || tls_stream_tx_seal_prepare(&p->rec, w->cfg.pool, &l->tx_dir,
				TLS_CONTENT_APPLICATION_DATA, &w->seals[n]) < 0) {
			tls_stream_tx_discard(&p->rec);
			if (l != NULL) {
				w->stats.drop_no_mbuf++;
				mark_failed(l, -ENOBUFS);
			}
			p->link = 0;
			continue;
		}
		n++;
	}
	tls_record_seal_burst(w->cfg.engine, w->seals, n);
	for (unsigned i = 0, s = 0; i < w->nb_pending; i++) {
		struct pending_record *p = &w->pending[i];
		struct relay_link *l;

		if (p->link == 0)
			continue;
		l = link_get(w, p->link);
		if (w->seals[s++].status != 0) {
			/* Sequence number exhausted (RFC 8446 5.3): close. */
			tls_stream_tx_discard(&p->rec);
			mark_failed(l, -EOVERFLOW);
			continue;
		}
		w->stats.records_sealed++;
		link_send_chain(w, l, tls_stream_tx_take(&p->rec));
	}
	w->nb_pending = 0;
}

/* Moves the link's open record to the seal burst. */
static void
finish_record(struct relay_worker *w, struct relay_link *l)
{
	if (l->tx.head == NULL)
		return;
	if (w->nb_pending == SEAL_MAX)
		seal_pending(w);
	w->pending[w->nb_pending].rec = l->tx;
	w->pending[w->nb_pending].link = l->id;
	w->nb_pending++;
	l->tx.head = NULL;
}

/* Appends plaintext (cells) to the link's records. */
static void
queue_bytes(struct relay_worker *w, struct relay_link *l, const uint8_t *p, uint32_t len)
{
	while (len > 0) {
		uint32_t chunk;

		if (l->tx.head == NULL &&
		    tls_stream_tx_begin(&l->tx, w->cfg.pool, (enum tls_record_version)l->version) < 0) {
			w->stats.drop_no_mbuf++;
			mark_failed(l, -ENOBUFS);
			return;
		}
		chunk = RTE_MIN(len, tls_stream_tx_room(&l->tx));
		if (tls_stream_tx_append(&l->tx, w->cfg.pool, p, chunk) < 0) {
			w->stats.drop_no_mbuf++;
			mark_failed(l, -ENOBUFS);
			return;
		}
		p += chunk;
		len -= chunk;
		if (tls_stream_tx_room(&l->tx) < CELL_LEN)
			finish_record(w, l);
	}
	/* Any cell sent restarts the idle time (tor: timestamp_xfer). */
	channel_padding_on_transfer(&l->padding, w->now);
	add_to_flush(w, l);
}

static void destroy_circuit(struct relay_worker *w, uint32_t handle, uint8_t reason);
static void destroy_partner(struct relay_worker *w, uint32_t link, uint32_t circ_id,
		uint8_t reason);

/* ------------------------------------------------------------------ */
/* Cells for other workers                                             */

static bool
link_is_remote(const struct relay_worker *w, uint32_t link)
{
	return relay_link_worker(link) != w->cfg.index;
}

/* A cell that could not reach worker dest (ring full, no batch): its
 * circuit is broken. Close it here when it is still ours (its DESTROY
 * cells go out as usual); otherwise the other side must close, which the
 * control thread arranges (EV_CROSS_LOST). Never waits. */
static void
cross_lost(struct relay_worker *w, unsigned dest, const struct cross_cell *c)
{
	uint32_t circ_id = cell_wire_circ_id(c->cell);

	w->stats.cross_ring_full++;
	if (c->circuit != CIRCUIT_NONE &&
	    circuit_lookup(w->circuits, c->link, circ_id) == c->circuit) {
		destroy_circuit(w, c->circuit, DESTROY_REASON_RESOURCELIMIT);
		return;
	}
	if (circ_id != 0)
		event(w, RELAY_EV_CROSS_LOST, c->link, (uint64_t)dest << 32 | circ_id, NULL);
}

static void
cross_refused(struct relay_worker *w, unsigned dest, struct cross_batch *b)
{
	w->stats.cells_cross_out -= b->count;
	for (unsigned i = 0; i < b->count; i++)
		cross_lost(w, dest, &b->cells[i]);
	cross_batch_free(w->cfg.cross_pool, b);
}

/* Puts a cell in the open batch for worker dest. */
static void
cross_out(struct relay_worker *w, unsigned dest, uint32_t link, uint32_t circuit, uint8_t kind,
		uint8_t flags, const uint8_t *cell, uint64_t tag)
{
	struct cross_batch *refused;
	int rc;

	if (!w->cross) {
		w->stats.drop_no_link++;
		return;
	}
	rc = cross_outbox_add(&w->outbox, dest, link, circuit, kind, flags, cell, tag, &refused);
	if (rc == -EINVAL) {
		w->stats.drop_no_link++;
		return;
	}
	if (rc < 0) {
		struct cross_cell lost = {
			.link = link, .circuit = circuit, .kind = kind, .flags = flags,
		};

		memcpy(lost.cell, cell, CELL_LEN);
		cross_lost(w, dest, &lost);
		return;
	}
	w->stats.cells_cross_out++;
	if (refused != NULL)
		cross_refused(w, dest, refused);
}

/* Enqueues the open batches at the end of a hook; what a ring refused
 * closes its circuits. */
static void
cross_flush(struct relay_worker *w)
{
	struct cross_batch *refused[WORKER_MAX];
	unsigned dest[WORKER_MAX];
	unsigned n;

	if (!w->cross)
		return;
	n = cross_outbox_flush(&w->outbox, refused, dest);
	for (unsigned i = 0; i < n; i++)
		cross_refused(w, dest[i], refused[i]);
	if (n > 0)
		flush_links(w);
}

/* A cell for link, with its latency tag (the worker of a remote link
 * measures it). */
static void
queue_cell_tagged(struct relay_worker *w, uint32_t link, const uint8_t *cell, uint64_t tag)
{
	struct relay_link *l;

	if (link_is_remote(w, link)) {
		cross_out(w, relay_link_worker(link), link, CIRCUIT_NONE, CROSS_TO_LINK, 0, cell, tag);
		return;
	}
	l = link_get(w, link);

	if (l == NULL || l->state != LINK_RECORDS || l->failed) {
		w->stats.drop_no_link++;
		return;
	}
	queue_bytes(w, l, cell, CELL_LEN);
	w->stats.cells_out++;
	latency_push(w, tag);
}

/* A cell made here (not measured). */
static void
queue_cell(struct relay_worker *w, uint32_t link, const uint8_t *cell)
{
	queue_cell_tagged(w, link, cell, 0);
}

static bool
link_congested(struct relay_worker *w, const struct relay_link *l)
{
	return l->backlog_count > 0 ||
	       circuit_queue_link_cells(w->queues, l->id & LINK_SLOT_MASK) > 0;
}

/* A cell of a live circuit for link: straight into the link's record, or,
 * while the link is congested, into the circuit's queue for it (tor relay.c
 * append_cell_to_circuit_queue), closing the circuit when its queue is too
 * long and the longest one when memory runs out. */
static void
queue_circuit_cell(struct relay_worker *w, uint32_t link, const uint8_t *cell,
		uint32_t handle, uint8_t toward_p, uint64_t tag)
{
	struct relay_link *l;
	struct circuit_queue_owner owner;
	uint32_t n_link, n_circ_id;
	int rc;

	if (link_is_remote(w, link)) {
		cross_out(w, relay_link_worker(link), link, handle, CROSS_TO_LINK, 0, cell, tag);
		return;
	}
	l = link_get(w, link);
	if (l == NULL || l->state != LINK_RECORDS || l->failed || !link_congested(w, l)) {
		queue_cell_tagged(w, link, cell, tag);
		return;
	}
	if (circuit_sides(w->circuits, handle, &owner.p_link, &owner.p_circ_id, &n_link,
			&n_circ_id) < 0) {
		w->stats.drop_no_link++;
		return;
	}
	rc = circuit_queue_push(w->queues, handle * 2 + toward_p, &owner,
			l->id & LINK_SLOT_MASK, cell, tag);
	if (rc == -ENOBUFS) {
		struct circuit_queue_owner victim_owner;
		uint32_t victim = circuit_queue_oom_victim(w->queues, &victim_owner);
		uint32_t victim_handle = victim == CIRCUIT_QUEUE_NONE ? CIRCUIT_NONE
				: circuit_lookup(w->circuits, victim_owner.p_link, victim_owner.p_circ_id);

		if (victim != CIRCUIT_QUEUE_NONE)
			circuit_queue_drop(w->queues, victim);
		if (victim_handle != CIRCUIT_NONE && victim_handle == victim / 2) {
			w->stats.closed_oom++;
			destroy_circuit(w, victim_handle, DESTROY_REASON_RESOURCELIMIT);
			if (victim_handle == handle)
				return;
		}
		rc = circuit_queue_push(w->queues, handle * 2 + toward_p, &owner,
				l->id & LINK_SLOT_MASK, cell, tag);
	}
	if (rc == -EMSGSIZE || rc == -ENOBUFS) {
		if (rc == -EMSGSIZE) {
			w->stats.closed_queue_limit++;
			/* tor relay.c: a full queue towards the next hop is
			 * noted against the p link's peer (dos.c
			 * dos_note_circ_max_outq()), which control does. */
			if (!toward_p) {
				w->stats.closed_queue_limit_outq++;
				event(w, RELAY_EV_CIRCUIT_MAX_OUTQ, owner.p_link, 0, NULL);
			}
		} else {
			w->stats.closed_oom++;
		}
		destroy_circuit(w, handle, DESTROY_REASON_RESOURCELIMIT);
	}
}

/* The link's TCP took everything it had: send what its circuits queued,
 * a record at a time, round-robin, while TCP keeps taking it. */
static void
link_drain_queues(struct relay_worker *w, struct relay_link *l)
{
	uint32_t slot = l->id & LINK_SLOT_MASK;

	while (l->backlog_count == 0 && !l->failed &&
	       circuit_queue_link_cells(w->queues, slot) > 0) {
		unsigned n = circuit_queue_pull(w->queues, slot, w->pulled, w->pulled_tags,
				RTE_DIM(w->pulled));

		for (unsigned i = 0; i < n; i++) {
			queue_bytes(w, l, w->pulled[i], CELL_LEN);
			latency_push(w, w->pulled_tags[i]);
		}
		w->stats.cells_out += n;
		finish_record(w, l);
		seal_pending(w);
	}
}

/* Seals what every listed link has, sends it, and closes links that
 * failed on the way (whose DESTROY cells may list more links). */
static void
flush_links(struct relay_worker *w)
{
	uint32_t ids[LIST_MAX];

	while (w->nb_flush > 0) {
		uint32_t n = w->nb_flush;

		memcpy(ids, w->flush_list, n * sizeof(ids[0]));
		w->nb_flush = 0;
		for (uint32_t i = 0; i < n; i++) {
			struct relay_link *l = link_get(w, ids[i]);

			if (l == NULL)
				continue;
			l->in_flush_list = false;
			finish_record(w, l);
		}
		seal_pending(w);
		for (uint32_t i = 0; i < n; i++) {
			struct relay_link *l = link_get(w, ids[i]);

			if (l != NULL && l->failed)
				link_close(w, l, l->close_error, true, false);
		}
	}
	latency_account(w);
}

/* ------------------------------------------------------------------ */
/* Receiving: records opened in bursts, cells cut and decided in bursts */

static void
run_cell_burst(struct relay_worker *w)
{
	unsigned nb_extra = 0;

	if (w->nb_cells == 0)
		return;
	circuit_cells_burst(w->circuits, w->cfg.engine, w->cells, w->nb_cells, w->extra,
			&nb_extra);
	/* Closes of watched circuits go before the burst's cells for control:
	 * a RENDEZVOUS1 behind the DESTROY of the circuit waiting on its
	 * cookie must find the cookie gone, as in tor. (A message for a
	 * circuit closed later in the burst makes control watch it again,
	 * which is answered at once.) */
	report_closed(w);
	for (unsigned i = 0; i < w->nb_cells; i++) {
		struct circuit_cell *c = &w->cells[i];

		switch (c->verdict) {
		case CIRCUIT_VERDICT_FORWARD:
			if (c->circuit != CIRCUIT_NONE)
				queue_circuit_cell(w, c->out_link, c->cell, c->circuit, c->toward_p,
						latency_tag(c->arrival, c->kind));
			else
				queue_cell_tagged(w, c->out_link, c->cell,
						latency_tag(c->arrival, c->kind));
			break;
		case CIRCUIT_VERDICT_LOCAL: {
			struct relay_circuit_local local;
			uint32_t n_link, n_circ_id;

			local.circuit.handle = c->circuit;
			local.command = cell_wire_command(c->cell);
			circuit_sides(w->circuits, c->circuit, &local.circuit.p_link,
					&local.circuit.p_circ_id, &n_link, &n_circ_id);
			local.has_next_hop = n_link != CIRCUIT_NO_LINK;
			memcpy(local.payload, cell_wire_payload(c->cell), CELL_PAYLOAD_LEN);
			memcpy(local.digest, circuit_burst_local_digest(w->circuits, i),
					sizeof(local.digest));
			event_copy(w, RELAY_EV_CIRCUIT_RELAY, c->circuit, 0, &local,
					sizeof(local));
			w->stats.cells_to_control++;
			break;
		}
		case CIRCUIT_VERDICT_CONTROL:
			event_copy(w, RELAY_EV_LINK_CELL, c->link, c->circuit, c->cell,
					CELL_LEN);
			w->stats.cells_to_control++;
			break;
		/* The worker deciding these measures them from their
		 * arrival here. */
		case CIRCUIT_VERDICT_REMOTE:
			cross_out(w, c->owner, c->link, c->circuit, CROSS_TO_CIRCUIT, 0, c->cell,
					latency_tag(c->arrival, LATENCY_KIND_NONE));
			break;
		case CIRCUIT_VERDICT_SPLICE_REMOTE:
			cross_out(w, relay_link_worker(c->out_link), c->out_link, c->circuit,
					CROSS_TO_SPLICE, 0, c->cell,
					latency_tag(c->arrival, LATENCY_KIND_NONE));
			break;
		default:
			break;
		}
	}
	for (unsigned i = 0; i < nb_extra; i++)
		send_extra(w, &w->extra[i]);
	w->nb_cells = 0;
	w->nb_assembled = 0;
}

/* ------------------------------------------------------------------ */
/* Connection-level padding (padding-spec; tor's channelpadding.c)     */

static uint32_t
padding_rand(void *arg, uint32_t bound)
{
	(void)arg;
	return (uint32_t)rte_rand_max(bound);
}

/* PADDING_NEGOTIATE on an open link (tor-spec 7.2). tor's channeltls.c
 * ignores it below link protocol 5 and when malformed, and
 * channelpadding_update_padding_for_channel() when the version is not 0. */
static void
padding_negotiate(struct relay_worker *w, struct relay_link *l, const uint8_t *cell)
{
	const uint8_t *p = cell + CELL_CIRC_ID_LEN + 1;
	struct padding_negotiate_cell n;

	if (l->link_protocol < RELAY_LINK_PROTOCOL_PADDING ||
	    padding_negotiate_cell_parse(&p, p + CELL_PAYLOAD_LEN, &n) < 0 ||
	    channel_padding_negotiate(&l->padding, &w->pad_params, &n) < 0) {
		w->stats.padding_negotiate_ignored++;
		return;
	}
	w->stats.padding_negotiations++;
	if (!l->padding.enabled) {
		pad_list_remove(w, l);
		return;
	}
	if (l->pad_index == PAD_INDEX_NONE) {
		l->pad_index = w->nb_pad;
		w->pad_links[w->nb_pad++] = l->id & LINK_SLOT_MASK;
	}
	/* The next poll draws the link's deadline. */
	w->pad_next = w->now;
}

/* Sends PADDING cells on the padding links idle past their deadline
 * (tor: channelpadding_decide_to_pad_channel), at most once per
 * PADDING_TICK_NS. A link pads only if its peer is a client (tor's
 * nf_pad_relays is 0) and it carried a multi-hop circuit; a link with
 * cells waiting is not idle. Returns the cells sent. */
static unsigned
padding_tick(struct relay_worker *w)
{
	uint64_t next = CHANNEL_PADDING_NEVER;
	uint32_t nb_pad = w->nb_pad;
	unsigned sent = 0;

	if (w->nb_pad == 0 || w->now < w->pad_next)
		return 0;
	for (uint32_t i = 0; i < w->nb_pad; i++) {
		struct relay_link *l = &w->links[w->pad_links[i]];
		uint64_t due;

		if (!l->pad_client || !l->pad_used || l->failed || l->state != LINK_RECORDS)
			continue;
		due = channel_padding_deadline(&l->padding, &w->pad_params, padding_rand, NULL);
		if (due <= w->now) {
			if (link_congested(w, l)) {
				channel_padding_on_transfer(&l->padding, w->now);
			} else {
				uint8_t cell[CELL_LEN] = { 0 };

				cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_PADDING;
				/* queue_bytes() restarts the idle time */
				queue_cell(w, l->id, cell);
				w->stats.padding_cells_sent++;
				sent++;
			}
			due = channel_padding_deadline(&l->padding, &w->pad_params, padding_rand,
					NULL);
		}
		if (due < next)
			next = due;
	}
	/* A link closed on the way (a full flush list flushes) moved
	 * another into its place, which this scan may have missed. */
	if (w->nb_pad != nb_pad)
		next = w->now;
	w->pad_next = RTE_MAX(next, w->now + PADDING_TICK_NS);
	return sent;
}

/* One complete cell of len bytes at p, cut from link l's stream. */
static void
deliver_cell(struct relay_worker *w, struct relay_link *l, const uint8_t *p, uint32_t len,
		uint8_t command, bool in_carry)
{
	w->stats.cells_in++;
	if (command == CELL_COMMAND_VERSIONS)
		l->first_cell_done = true;
	if (!l->open) {
		/* Link handshake, and whatever the peer sends before control
		 * has seen it complete: control handles it in order. */
		event_copy(w, RELAY_EV_LINK_CELL, l->id, CIRCUIT_NONE, p, len);
		w->stats.cells_to_control++;
		return;
	}
	/* Any cell received restarts the idle time (tor: timestamp_xfer). */
	channel_padding_on_transfer(&l->padding, w->now);
	if (command == CELL_COMMAND_RELAY_EARLY && !l->pad_used) {
		l->pad_used = true;
		if (l->pad_index != PAD_INDEX_NONE)
			w->pad_next = w->now;
	} else if (command == CELL_COMMAND_PADDING_NEGOTIATE && cell_wire_circ_id(p) == 0) {
		padding_negotiate(w, l, p);
		return;
	}
	if (cell_command_is_var(command)) {
		/* tor-spec 3: VPADDING is ignored; other variable-length cells
		 * after the handshake have no meaning for a relay. */
		return;
	}
	if (in_carry) {
		memcpy(w->assembled[w->nb_assembled], p, CELL_LEN);
		p = w->assembled[w->nb_assembled++];
	}
	w->cells[w->nb_cells].cell = (uint8_t *)(uintptr_t)p;
	w->cells[w->nb_cells].link = l->id;
	/* The iteration's time, read just before the RX burst that brought
	 * the record's last bytes (dataplane/worker.c). */
	w->cells[w->nb_cells].arrival = w->now;
	w->nb_cells++;
	if (w->nb_cells == CIRCUIT_BURST_MAX)
		run_cell_burst(w);
}

/* Cuts the cells out of one record's plaintext, with what the link
 * carried over from earlier records. */
static void
cells_input(struct relay_worker *w, struct relay_link *l, const uint8_t *p, uint32_t len)
{
	const uint8_t *end = p + len;

	/* A carried cell may be completed by the record's last bytes: it
	 * must be delivered now, not when the next record arrives (which may
	 * never come: the last cell of a transfer would stall). */
	while ((p < end || l->carry_len > 0) && !l->failed) {
		struct cell_frame frame;
		const uint8_t *q;
		size_t need = 0;
		unsigned circ_len = l->first_cell_done ? CELL_CIRC_ID_LEN : CELL_CIRC_ID_LEN_LEGACY;
		int rc;

		if (l->var_skip > 0) {
			uint32_t n = RTE_MIN(l->var_skip, (uint32_t)(end - p));

			if (n == 0)
				return;

			l->var_skip -= n;
			p += n;
			continue;
		}
		if (l->carry_len > 0) {
			/* Complete the carried cell a piece at a time. */
			q = l->carry;
			rc = cell_frame_parse(&q, l->carry + l->carry_len, circ_len, &frame, &need);
			if (rc == -EAGAIN) {
				uint32_t take;

				if (need == 0)
					need = 1;
				take = RTE_MIN((uint32_t)need, (uint32_t)(end - p));

				if (l->carry_len + need > RELAY_LINK_CARRY_MAX) {
					if (l->open && l->carry_len > CELL_CIRC_ID_LEN &&
					    cell_command_is_var(l->carry[CELL_CIRC_ID_LEN])) {
						/* Skip the rest of an oversized
						 * variable-length cell once the link
						 * is open (tor-spec 3: VPADDING and
						 * unknown commands are ignored): header
						 * seen, need left. */
						l->var_skip = (uint32_t)need;
						l->carry_len = 0;
						continue;
					}
					w->stats.drop_bad_cell++;
					mark_failed(l, -EMSGSIZE);
					return;
				}
				if (take == 0)
					return;	/* the rest comes in a later record */
				memcpy(l->carry + l->carry_len, p, take);
				l->carry_len = (uint16_t)(l->carry_len + take);
				p += take;
				continue;
			}
			if (rc < 0) {
				w->stats.drop_bad_cell++;
				mark_failed(l, -EPROTO);
				return;
			}
			deliver_cell(w, l, l->carry, (uint32_t)(q - l->carry), frame.command, true);
			l->carry_len = 0;
			continue;
		}
		q = p;
		rc = cell_frame_parse(&q, end, circ_len, &frame, &need);
		if (rc == -EAGAIN) {
			uint32_t rest = (uint32_t)(end - p);

			if (rest > RELAY_LINK_CARRY_MAX) {
				/* Only a variable-length cell can be this long;
				 * after the handshake it is ignored anyway. */
				if (l->open && cell_command_is_var(p[CELL_CIRC_ID_LEN])) {
					l->var_skip = (uint32_t)need;
					p = end;
					continue;
				}
				w->stats.drop_bad_cell++;
				mark_failed(l, -EMSGSIZE);
				return;
			}
			memcpy(l->carry, p, rest);
			l->carry_len = (uint16_t)rest;
			return;
		}
		if (rc < 0) {
			w->stats.drop_bad_cell++;
			mark_failed(l, -EPROTO);
			return;
		}
		deliver_cell(w, l, p, (uint32_t)(q - p), frame.command, false);
		p = q;
	}
}

/* Answers a KeyUpdate(update_requested) (RFC 8446 4.6.3): every record
 * built so far is sealed under the old write key and queued for TCP, then
 * our KeyUpdate(update_not_requested), the last record under that key;
 * everything sealed afterwards uses the next one. */
static void
send_key_update(struct relay_worker *w, struct relay_link *l)
{
	struct tls_stream_tx_record rec = { .head = NULL };
	struct tls_record_seal seal;
	uint8_t msg[TLS_KEY_UPDATE_MSG_LEN];

	finish_record(w, l);
	seal_pending(w);
	if (l->failed)
		return;
	tls_key_update_message(msg, false);
	if (tls_stream_tx_begin(&rec, w->cfg.pool, TLS_RECORD_TLS13) < 0 ||
	    tls_stream_tx_append(&rec, w->cfg.pool, msg, sizeof(msg)) < 0 ||
	    tls_stream_tx_seal_prepare(&rec, w->cfg.pool, &l->tx_dir, TLS_CONTENT_HANDSHAKE,
			&seal) < 0) {
		tls_stream_tx_discard(&rec);
		w->stats.drop_no_mbuf++;
		mark_failed(l, -ENOBUFS);
		return;
	}
	if (tls_record_seal_burst(w->cfg.engine, &seal, 1) != 1) {
		/* Sequence number exhausted (RFC 8446 5.3). */
		tls_stream_tx_discard(&rec);
		mark_failed(l, -EOVERFLOW);
		return;
	}
	w->stats.records_sealed++;
	link_send_chain(w, l, tls_stream_tx_take(&rec));
	if (tls_key_update_apply(w->cfg.engine, &l->tx_dir, &l->tx_secret) < 0) {
		mark_failed(l, -EPROTO);
		return;
	}
	w->stats.tls_key_updates_out++;
	add_to_flush(w, l);
}

/* TLS 1.3 post-handshake messages (RFC 8446 4.6): NewSessionTickets (a
 * tor relay sends two) are discarded; a KeyUpdate moves the read side to
 * the next keys, and when the peer asks for it, the write side after our
 * own KeyUpdate (docs/links.md, "KeyUpdate"). Anything else, and any
 * handshake record in TLS 1.2 (renegotiation is refused), closes the
 * link. */
static void
handshake_input(struct relay_worker *w, struct relay_link *l, const uint8_t *plaintext,
		uint32_t len)
{
	const uint8_t *p = plaintext;
	bool update_requested = false;
	int rc;

	if (l->version != TLS_RECORD_TLS13) {
		w->stats.drop_bad_record++;
		mark_failed(l, -EPROTO);
		return;
	}
	rc = tls_post_handshake_parse(&p, plaintext + len, &update_requested);
	if (rc == TLS_POST_HANDSHAKE_TICKETS)
		return;
	if (rc < 0 || tls_key_update_apply(w->cfg.engine, &l->rx_dir, &l->rx_secret) < 0) {
		w->stats.drop_bad_record++;
		mark_failed(l, rc < 0 ? rc : -EPROTO);
		return;
	}
	w->stats.tls_key_updates_in++;
	l->rekeyed = true;
	if (update_requested)
		send_key_update(w, l);
}

static void
record_input(struct relay_worker *w, struct relay_link *l, const struct tls_record_open *o,
		const uint8_t *plaintext)
{
	if (o->status != 0) {
		/* RFC 8446 5.2: bad_record_mac and friends end the link. */
		w->stats.drop_bad_record++;
		mark_failed(l, o->status);
		return;
	}
	w->stats.records_opened++;
	switch (o->content_type) {
	case TLS_CONTENT_APPLICATION_DATA:
		cells_input(w, l, plaintext, o->plaintext_len);
		return;
	case TLS_CONTENT_HANDSHAKE:
		handshake_input(w, l, plaintext, o->plaintext_len);
		return;
	case TLS_CONTENT_ALERT:
		/* close_notify (RFC 8446 6.1) or an error alert: either way
		 * the link ends. */
		mark_failed(l, o->plaintext_len == 2 && plaintext[1] == 0 ? 0 : -ECONNRESET);
		return;
	default:
		w->stats.drop_bad_record++;
		mark_failed(l, -EPROTO);
		return;
	}
}

static void
add_to_rx(struct relay_worker *w, struct relay_link *l)
{
	if (l->in_rx_list || w->nb_rx == LIST_MAX)
		return;
	w->rx_list[w->nb_rx++] = l->id;
	l->in_rx_list = true;
}

/* Opens the records every listed link has, RELAY_RECORD_BURST at a time
 * across links, and handles their contents in arrival order per link. */
static void
process_records(struct relay_worker *w)
{
	while (w->nb_rx > 0) {
		unsigned n = 0;
		uint32_t kept = 0;

		for (uint32_t i = 0; i < w->nb_rx; i++) {
			struct relay_link *l = link_get(w, w->rx_list[i]);
			bool more = false;

			if (l == NULL)
				continue;
			while (!l->failed && l->state == LINK_RECORDS) {
				struct tls_stream_record *r;
				int rc;

				if (n == RELAY_RECORD_BURST) {
					more = true;
					break;
				}
				r = &w->peeks[n];
				rc = tls_stream_rx_peek_record(&l->rx, l->peeked,
						(enum tls_record_version)l->version, r);
				if (rc == -EAGAIN)
					break;
				if (rc < 0) {
					w->stats.drop_bad_record++;
					mark_failed(l, rc);
					break;
				}
				w->opens[n] = (struct tls_record_open){
					.dir = &l->rx_dir,
					.header = r->header,
					.segments = r->segments,
					.nb_segments = r->nb_segments,
					.out = w->scratch + (size_t)n * SCRATCH_LEN,
				};
				w->open_links[n] = l->id;
				l->peeked += (uint32_t)rc;
				w->open_end[n] = l->peeked;
				n++;
			}
			if (more) {
				w->rx_list[kept++] = l->id;
			} else {
				l->in_rx_list = false;
				/* Failed before any record of it joined the
				 * burst: nothing points into its buffers. */
				if (l->failed && l->peeked == 0)
					link_close(w, l, l->close_error, true, false);
			}
		}
		tls_record_open_burst(w->cfg.engine, w->opens, n);
		for (unsigned i = 0; i < n; i++) {
			struct relay_link *l = link_get(w, w->open_links[i]);

			/* After a KeyUpdate, the link's later records in this
			 * burst were tried with the old key: their results are
			 * ignored and they stay in the stream, to be opened with
			 * the new key in the next round. */
			if (l == NULL || l->failed || l->rekeyed)
				continue;
			record_input(w, l, &w->opens[i], w->opens[i].out);
			if (l->rekeyed)
				l->peeked_rekeyed = w->open_end[i];
		}
		run_cell_burst(w);
		for (unsigned i = 0; i < n; i++) {
			struct relay_link *l = link_get(w, w->open_links[i]);

			if (l != NULL && l->peeked > 0) {
				tls_stream_rx_consume(&l->rx,
						l->rekeyed ? l->peeked_rekeyed : l->peeked);
				l->peeked = 0;
			}
		}
		for (unsigned i = 0; i < n; i++) {
			struct relay_link *l = link_get(w, w->open_links[i]);

			if (l != NULL && l->failed)
				link_close(w, l, l->close_error, true, l->close_error == 0);
		}
		w->nb_rx = kept;
		for (unsigned i = 0; i < n; i++) {
			struct relay_link *l = link_get(w, w->open_links[i]);

			if (l != NULL && l->rekeyed) {
				l->rekeyed = false;
				add_to_rx(w, l);
			}
		}
	}
}

/* Takes what TCP received on the link: all of it, or on a rate-limited
 * link what the read bucket holds, at most share bytes (whole segments,
 * so a little more); with the bucket empty, or bytes possibly left in TCP
 * (no event comes for those), the link waits for tokens. TCP keeps what
 * is not read, and its window closes (tor stops reading a connection
 * whose bucket is empty: connection_read_bw_exhausted()). ignore_bucket:
 * the peer closed, and what it sent is read now whatever the bucket
 * holds (data left unread would turn our close into a RST). */
static void
link_read_share(struct relay_worker *w, struct relay_link *l, uint64_t share,
		bool ignore_bucket)
{
	bool limited = link_rate_limited(w, l);
	uint32_t at_most = UINT32_MAX;
	struct rte_mbuf *chain;
	int n;

	if (l->state == LINK_TLS && l->paused)
		return;
	if (limited && !ignore_bucket) {
		uint64_t allowed = RTE_MIN(read_tokens(w, link_relayed(w, l)), share);

		if (allowed == 0) {
			park(w, l, PARK_READ);
			return;
		}
		at_most = (uint32_t)RTE_MIN(allowed, (uint64_t)UINT32_MAX);
	}
	n = tcp_recv_at_most(w->tcp, l->tcp_conn, at_most, &chain, w->now);
	if (n <= 0)
		return;
	if (limited) {
		spend_read(w, l, (uint32_t)n);
		if ((uint32_t)n >= at_most)
			park(w, l, PARK_READ);
	}
	switch (l->state) {
	case LINK_TLS:
		l->paused = true;
		/* fall through */
	case LINK_RAW:
		event(w, RELAY_EV_LINK_BYTES, l->id, 0, chain);
		return;
	case LINK_RECORDS:
		tls_stream_rx_append(&l->rx, chain);
		add_to_rx(w, l);
		return;
	default:
		rte_pktmbuf_free(chain);
		return;
	}
}

static void
link_read(struct relay_worker *w, struct relay_link *l)
{
	link_read_share(w, l, UINT64_MAX, false);
}

/* Refills this worker's buckets, and while they hold tokens gives the links
 * waiting for them a turn (tor connection_bucket_refill_all() wakes every
 * connection it blocked). Readers share: each gets an equal part of what
 * the bucket holds, at least one segment; writers send their backlogs,
 * then their circuits' queues, until the bucket is empty, starting from a
 * different link each time. */
static unsigned
bandwidth_tick(struct relay_worker *w)
{
	uint32_t *order = w->park_scratch;
	unsigned work = 0;
	uint64_t tokens;
	uint32_t n;

	if (!w->bucket_on)
		return 0;
	token_bucket_rw_refill(&w->bucket, w->now);
	if (w->relayed_on)
		token_bucket_rw_refill(&w->relayed, w->now);
	n = w->nb_parked[PARK_READ];
	tokens = n > 0 ? read_tokens(w, w->relayed_on) : 0;
	if (tokens > 0) {
		uint64_t share = RTE_MAX(tokens / n, 1);

		memcpy(order, w->parked[PARK_READ], n * sizeof(order[0]));
		for (uint32_t i = 0; i < n; i++) {
			struct relay_link *l = &w->links[order[(i + w->park_rotor) % n]];

			unpark(w, l, PARK_READ);
			link_read_share(w, l, share, false);
		}
		work += n;
	}
	n = w->nb_parked[PARK_WRITE];
	if (n > 0 && write_tokens(w, w->relayed_on) > 0) {
		memcpy(order, w->parked[PARK_WRITE], n * sizeof(order[0]));
		for (uint32_t i = 0; i < n; i++) {
			struct relay_link *l = &w->links[order[(i + w->park_rotor) % n]];

			unpark(w, l, PARK_WRITE);
			if (l->state == LINK_FREE)
				continue;
			link_send_backlog(w, l, false);
			link_drain_queues(w, l);
			if (l->failed)
				add_to_flush(w, l);
		}
		work += n;
	}
	if (work > 0)
		w->park_rotor++;
	return work;
}

/* ------------------------------------------------------------------ */
/* TCP events                                                          */

static void
conn_bind(struct relay_worker *w, uint32_t conn, const struct relay_link *l)
{
	if (conn < w->max_conns)
		w->conn_links[conn] = (l->id & LINK_SLOT_MASK) + 1;
	tcp_set_user(w->tcp, conn, l->id & LINK_SLOT_MASK);
}

static struct relay_link *
link_of_event(struct relay_worker *w, const struct tcp_event *ev)
{
	uint32_t slot = ev->conn < w->max_conns ? w->conn_links[ev->conn] - 1 : (uint32_t)ev->user;

	if (slot >= w->cfg.max_links)
		return NULL;
	if (w->links[slot].state == LINK_FREE || w->links[slot].tcp_conn != ev->conn)
		return NULL;
	return &w->links[slot];
}

static void
relay_events(void *app, struct stack *stack, const struct tcp_event *ev, unsigned n,
		uint64_t now)
{
	struct relay_worker *w = app;

	(void)stack;
	w->now = now;
	for (unsigned i = 0; i < n; i++) {
		struct relay_link *l;

		if (ev[i].type == TCP_EVENT_ACCEPTED) {
			struct tcp_conn_info info;

			l = link_alloc(w, LINK_TLS);
			if (l == NULL) {
				w->stats.drop_link_full++;
				tcp_abort(w->tcp, ev[i].conn, now);
				continue;
			}
			l->tcp_conn = ev[i].conn;
			conn_bind(w, ev[i].conn, l);
			tcp_conn_info(w->tcp, ev[i].conn, &info);
			l->peer_internal = ipv4_address_is_internal(info.remote_ip);
			w->stats.links_accepted++;
			event(w, RELAY_EV_LINK_NEW, l->id,
					(uint64_t)info.remote_ip << 16 | info.remote_port, NULL);
			continue;
		}
		l = link_of_event(w, &ev[i]);
		if (l == NULL)
			continue;
		switch (ev[i].type) {
		case TCP_EVENT_CONNECTED:
			l->state = l->connect_request & RELAY_CONNECT_RAW ? LINK_RAW : LINK_TLS;
			w->stats.links_connected++;
			event(w, RELAY_EV_LINK_CONNECTED, l->id, l->connect_request, NULL);
			break;
		case TCP_EVENT_READABLE:
			link_read(w, l);
			break;
		case TCP_EVENT_WRITABLE:
			link_send_backlog(w, l, false);
			link_drain_queues(w, l);
			break;
		case TCP_EVENT_PEER_CLOSED:
			unpark(w, l, PARK_READ);
			link_read_share(w, l, UINT64_MAX, true);
			process_records(w);
			if ((l = link_of_event(w, &ev[i])) != NULL)
				link_close(w, l, 0, true, true);
			break;
		case TCP_EVENT_RESET:
		case TCP_EVENT_CLOSED:
			/* The connection is over, but its handle stays ours until
			 * tcp_close() releases it (dataplane/tcp.h). */
			link_close(w, l, ev[i].type == TCP_EVENT_RESET ? ev[i].error : 0, true,
					true);
			break;
		default:
			break;
		}
	}
	process_records(w);
	flush_links(w);
	cross_flush(w);
	report_closed(w);
}

/* A cell another worker sends on our link c->link: for a circuit it owns
 * (with CROSS_REGISTER: the CREATE2 of its extension, whose remote entry
 * is installed first), or a DESTROY, which also ends the entry. */
static void
cross_to_link(struct relay_worker *w, unsigned from, const struct cross_cell *c)
{
	uint32_t circ_id = cell_wire_circ_id(c->cell);
	struct relay_link *l = link_get(w, c->link);
	uint32_t h;

	if (l == NULL || l->state != LINK_RECORDS || l->failed) {
		/* The owner hears of the closed link from control. */
		w->stats.drop_no_link++;
		return;
	}
	if (c->flags & CROSS_REGISTER) {
		if (circuit_remote_add(w->circuits, c->link, circ_id, (uint8_t)from, &h) < 0) {
			/* No room: the owner sees a DESTROY from n. */
			uint8_t d[CELL_LEN];

			memset(d, 0, sizeof(d));
			cell_wire_set_circ_id(d, circ_id);
			d[CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
			cell_wire_payload(d)[0] = DESTROY_REASON_RESOURCELIMIT;
			cross_out(w, from, c->link, CIRCUIT_NONE, CROSS_TO_CIRCUIT, 0, d, 0);
			return;
		}
		queue_circuit_cell(w, c->link, c->cell, h, 0, c->tag);
		return;
	}
	h = circuit_lookup(w->circuits, c->link, circ_id);
	if (h != CIRCUIT_NONE && circuit_remote_owner(w->circuits, h) != (int)from)
		h = CIRCUIT_NONE;
	if (cell_wire_command(c->cell) == CELL_COMMAND_DESTROY) {
		if (h != CIRCUIT_NONE) {
			circuit_queue_drop(w->queues, h * 2);
			circuit_queue_drop(w->queues, h * 2 + 1);
			circuit_free(w->circuits, h);
		}
		queue_cell(w, c->link, c->cell);
		return;
	}
	if (h != CIRCUIT_NONE)
		queue_circuit_cell(w, c->link, c->cell, h, 0, c->tag);
	else
		queue_cell_tagged(w, c->link, c->cell, c->tag);
}

/* Sends the cells the service's circuit handle held behind its
 * RENDEZVOUS1 across the splice it just joined, in order
 * (circuit_take_held()). */
static void
release_held(struct relay_worker *w, uint32_t handle)
{
	struct circuit_cell out[8];
	uint8_t cells[8][CELL_LEN];
	unsigned n;

	while ((n = circuit_take_held(w->circuits, w->cfg.engine, handle, out, cells,
			RTE_DIM(out))) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (out[i].verdict == CIRCUIT_VERDICT_FORWARD)
				queue_circuit_cell(w, out[i].out_link, out[i].cell, out[i].circuit,
						1, latency_tag(out[i].arrival, out[i].kind));
			else if (out[i].verdict == CIRCUIT_VERDICT_SPLICE_REMOTE)
				cross_out(w, relay_link_worker(out[i].out_link), out[i].out_link,
						out[i].circuit, CROSS_TO_SPLICE, 0, out[i].cell,
						latency_tag(out[i].arrival, LATENCY_KIND_NONE));
		}
	}
}

/* Sends what circuit_splice_in_burst() decided for the splice cells
 * gathered from other workers. */
static void
run_splice_burst(struct relay_worker *w)
{
	if (w->nb_splice_cells == 0)
		return;
	circuit_splice_in_burst(w->circuits, w->cfg.engine, w->splice_cells, w->nb_splice_cells);
	for (unsigned i = 0; i < w->nb_splice_cells; i++) {
		struct circuit_cell *c = &w->splice_cells[i];

		if (c->verdict != CIRCUIT_VERDICT_FORWARD)
			continue;
		if (c->circuit != CIRCUIT_NONE)
			queue_circuit_cell(w, c->out_link, c->cell, c->circuit, 1,
					latency_tag(c->arrival, c->kind));
		else
			queue_cell_tagged(w, c->out_link, c->cell, latency_tag(c->arrival, c->kind));
	}
	w->nb_splice_cells = 0;
}

/* A rendezvous cell from another worker: gathered into a burst, or a join
 * request, applied after the cells gathered before it. */
static void
cross_to_splice(struct relay_worker *w, struct cross_cell *c)
{
	if (c->flags & CROSS_SPLICE_JOIN) {
		uint32_t circ_id = cell_wire_circ_id(c->cell);
		uint32_t peer_link = wire_read_u32(cell_wire_payload(c->cell));
		uint32_t peer_circ_id = wire_read_u32(cell_wire_payload(c->cell) + 4);
		uint32_t h = circuit_lookup(w->circuits, c->link, circ_id);

		w->stats.cross_splice_joins_in++;
		run_splice_burst(w);
		if (h == CIRCUIT_NONE || circuit_remote_owner(w->circuits, h) != -EINVAL ||
		    circuit_splice(w->circuits, h, peer_link, peer_circ_id, CIRCUIT_NONE) < 0) {
			/* Gone or unsuitable: the partner closes (as if
			 * this side had closed after the join). */
			if (h != CIRCUIT_NONE && circuit_remote_owner(w->circuits, h) == -EINVAL)
				destroy_circuit(w, h, DESTROY_REASON_PROTOCOL);
			destroy_partner(w, peer_link, peer_circ_id, DESTROY_REASON_DESTROYED);
			return;
		}
		/* The partner's worker queued RENDEZVOUS2 before it sent the
		 * join: what our side held follows it. */
		release_held(w, h);
		return;
	}
	w->stats.cross_splice_cells_in++;
	w->splice_cells[w->nb_splice_cells].cell = c->cell;
	w->splice_cells[w->nb_splice_cells].link = c->link;
	w->splice_cells[w->nb_splice_cells].arrival = latency_tag_arrival(c->tag);
	if (++w->nb_splice_cells == CIRCUIT_BURST_MAX)
		run_splice_burst(w);
}

/* Takes up to RELAY_CROSS_BUDGET batches from our cross ring: cells to
 * send on our links, and cells for our circuits that arrived on other
 * workers' links, decided here in bursts. */
static unsigned
cross_input(struct relay_worker *w)
{
	struct cross_batch *b[RELAY_CROSS_BUDGET];
	unsigned n;

	if (!w->cross)
		return 0;
	run_cell_burst(w);
	n = cross_ring_take(w->cfg.cross_rings[w->cfg.index], b, RELAY_CROSS_BUDGET);
	for (unsigned i = 0; i < n; i++) {
		w->stats.cross_batches_in++;
		for (unsigned k = 0; k < b[i]->count; k++) {
			struct cross_cell *c = &b[i]->cells[k];

			w->stats.cells_cross_in++;
			if (c->kind == CROSS_TO_SPLICE) {
				cross_to_splice(w, c);
				continue;
			}
			if (c->kind != CROSS_TO_CIRCUIT) {
				cross_to_link(w, b[i]->from, c);
				continue;
			}
			w->cells[w->nb_cells].cell = c->cell;
			w->cells[w->nb_cells].link = c->link;
			/* its arrival on the other worker's link */
			w->cells[w->nb_cells].arrival = latency_tag_arrival(c->tag);
			if (++w->nb_cells == CIRCUIT_BURST_MAX)
				run_cell_burst(w);
		}
		/* The bursts point into the batch. */
		run_cell_burst(w);
		run_splice_burst(w);
		cross_batch_free(w->cfg.cross_pool, b[i]);
	}
	return n;
}

static unsigned
relay_poll(void *app, struct stack *stack, uint64_t now)
{
	struct relay_worker *w = app;
	unsigned work = w->nb_rx + w->nb_flush;

	(void)stack;
	w->now = now;
	process_records(w);
	work += cross_input(w);
	work += padding_tick(w);
	work += bandwidth_tick(w);
	process_records(w);
	flush_links(w);
	cross_flush(w);
	report_closed(w);
	return work;
}

/* ------------------------------------------------------------------ */
/* Control messages                                                    */

/* Checks that the circuit control names still is the one it meant; a
 * handle of CIRCUIT_NONE asks for whatever circuit has that p side (control
 * answering a DESTROY that overtook its CREATE2 answer). */
static bool
circuit_ref_ok(struct relay_worker *w, struct relay_circuit_ref *ref)
{
	uint32_t found = circuit_lookup(w->circuits, ref->p_link, ref->p_circ_id);

	if (found != CIRCUIT_NONE && (ref->handle == CIRCUIT_NONE || found == ref->handle)) {
		ref->handle = found;
		return true;
	}
	w->stats.stale_messages++;
	return false;
}

/* DESTROY to both sides of a circuit and free it. For a remote entry, the
 * DESTROY goes on its link and to the owner, as if n had sent it. */
static void
destroy_circuit(struct relay_worker *w, uint32_t handle, uint8_t reason)
{
	uint32_t p_link, p_circ_id, n_link, n_circ_id;
	uint32_t peer_link, peer_circ_id, peer;
	int owner = circuit_remote_owner(w->circuits, handle);
	uint8_t cell[CELL_LEN];

	if (circuit_sides(w->circuits, handle, &p_link, &p_circ_id, &n_link, &n_circ_id) < 0 ||
	    circuit_splice_peer(w->circuits, handle, &peer_link, &peer_circ_id, &peer) < 0)
		return;
	memset(cell, 0, sizeof(cell));
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	cell_wire_payload(cell)[0] = reason;
	cell_wire_set_circ_id(cell, p_circ_id);
	queue_cell(w, p_link, cell);
	if (owner >= 0)
		cross_out(w, (unsigned)owner, p_link, CIRCUIT_NONE, CROSS_TO_CIRCUIT, 0, cell, 0);
	if (n_link != CIRCUIT_NO_LINK) {
		cell_wire_set_circ_id(cell, n_circ_id);
		queue_cell(w, n_link, cell);
	}
	/* tor circuitlist.c: a closing circuit's queued cells go with it. */
	circuit_queue_drop(w->queues, handle * 2);
	circuit_queue_drop(w->queues, handle * 2 + 1);
	circuit_free(w->circuits, handle);
	/* A rendezvous partner closes with the same reason (tor
	 * circuit_mark_for_close_()); freeing this side unjoined it. */
	if (peer != CIRCUIT_NONE) {
		destroy_circuit(w, peer, reason);
	} else if (peer_link != CIRCUIT_NO_LINK) {
		cell_wire_set_circ_id(cell, peer_circ_id);
		cross_out(w, relay_link_worker(peer_link), peer_link, CIRCUIT_NONE,
				CROSS_TO_SPLICE, 0, cell, 0);
	}
}

/* Sends a DESTROY for the circuit whose p side is (link, circ_id), which
 * this worker or the worker of link owns (a rendezvous partner). */
static void
destroy_partner(struct relay_worker *w, uint32_t link, uint32_t circ_id, uint8_t reason)
{
	uint8_t cell[CELL_LEN];

	if (!link_is_remote(w, link)) {
		uint32_t h = circuit_lookup(w->circuits, link, circ_id);

		if (h != CIRCUIT_NONE && circuit_remote_owner(w->circuits, h) == -EINVAL)
			destroy_circuit(w, h, reason);
		return;
	}
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	cell_wire_payload(cell)[0] = reason;
	cross_out(w, relay_link_worker(link), link, CIRCUIT_NONE, CROSS_TO_SPLICE, 0, cell, 0);
}

/* RENDEZVOUS2 on the client's circuit, then the join (rend-spec-v3 4.2;
 * tor rendmid.c rend_mid_rendezvous()). */
static void
msg_splice(struct relay_worker *w, struct relay_circuit_splice *s)
{
	bool partner_here = !link_is_remote(w, s->partner.p_link);
	uint8_t cell[CELL_LEN];
	uint32_t p_link;

	if (!circuit_ref_ok(w, &s->circuit)) {
		/* The waiting circuit closed meanwhile: tor would not have
		 * found the cookie and closes the RENDEZVOUS1 circuit. */
		destroy_partner(w, s->partner.p_link, s->partner.p_circ_id,
				DESTROY_REASON_PROTOCOL);
		return;
	}
	if (partner_here && !circuit_ref_ok(w, &s->partner)) {
		destroy_circuit(w, s->circuit.handle, DESTROY_REASON_DESTROYED);
		return;
	}
	if (s->length > RELAY_DATA_MAX ||
	    circuit_splice(w->circuits, s->circuit.handle, s->partner.p_link,
			s->partner.p_circ_id, partner_here ? s->partner.handle : CIRCUIT_NONE) < 0) {
		destroy_circuit(w, s->circuit.handle, DESTROY_REASON_PROTOCOL);
		if (!partner_here)
			destroy_partner(w, s->partner.p_link, s->partner.p_circ_id,
					DESTROY_REASON_PROTOCOL);
		return;
	}
	if (circuit_originate_backward(w->circuits, w->cfg.engine, s->circuit.handle,
			RELAY_COMMAND_RENDEZVOUS2, 0, s->rendezvous2, s->length, cell,
			&p_link) == 0)
		queue_circuit_cell(w, p_link, cell, s->circuit.handle, 1, 0);
	/* What the service sent behind RENDEZVOUS1 follows RENDEZVOUS2. */
	if (partner_here)
		release_held(w, s->partner.handle);
	if (!partner_here) {
		/* The partner's worker joins its side; our cells for it
		 * follow this request on the same ring. */
		memset(cell, 0, sizeof(cell));
		cell_wire_set_circ_id(cell, s->partner.p_circ_id);
		cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
		wire_write_u32(cell_wire_payload(cell), s->circuit.p_link);
		wire_write_u32(cell_wire_payload(cell) + 4, s->circuit.p_circ_id);
		cross_out(w, relay_link_worker(s->partner.p_link), s->partner.p_link,
				s->circuit.handle, CROSS_TO_SPLICE, CROSS_SPLICE_JOIN, cell, 0);
	}
}

static void
msg_tls_ready(struct relay_worker *w, struct relay_link *l, struct rte_mbuf *m)
{
	struct relay_tls_ready *r = rte_pktmbuf_mtod(m, struct relay_tls_ready *);
	struct rte_mbuf *leftover = m->next;
	int rc;


	m->next = NULL;
	m->nb_segs = 1;
	if (l->state != LINK_TLS || m->data_len < sizeof(*r)) {
		rc = -EINVAL;
	} else {
		rc = tls_record_dir_init(w->cfg.engine, &l->rx_dir, r->version, r->read_key,
				r->key_len, r->read_iv, r->iv_len, r->read_seq);
		if (rc == 0)
			rc = tls_record_dir_init(w->cfg.engine, &l->tx_dir, r->version,
					r->write_key, r->key_len, r->write_iv, r->iv_len,
					r->write_seq);
		l->version = r->version;
		l->rx_secret.len = l->tx_secret.len = 0;
		if (rc == 0 && r->version == TLS_RECORD_TLS13 &&
		    r->secret_len <= sizeof(r->read_secret)) {
			memcpy(l->rx_secret.bytes, r->read_secret, r->secret_len);
			memcpy(l->tx_secret.bytes, r->write_secret, r->secret_len);
			l->rx_secret.len = l->tx_secret.len = r->secret_len;
		}
	}
	memset(r, 0, sizeof(*r) < m->data_len ? sizeof(*r) : m->data_len);
	rte_pktmbuf_free(m);
	if (rc < 0) {
		rte_pktmbuf_free(leftover);
		mark_failed(l, rc);
		add_to_flush(w, l);
		return;
	}
	l->state = LINK_RECORDS;
	l->paused = false;
	tls_stream_rx_append(&l->rx, leftover);
	add_to_rx(w, l);
	link_read(w, l);
}

/* Opens or closes the ORPort's listener; established links are not
 * touched. */
static int
set_listening(struct relay_worker *w, bool on)
{
	int rc = 0;

	if (on && !w->listening)
		rc = tcp_listen(w->tcp, w->cfg.local_ip, w->cfg.or_port, &w->listener);
	else if (!on && w->listening)
		rc = tcp_unlisten(w->tcp, w->listener);
	if (rc == 0)
		w->listening = on;
	return rc;
}

static void
relay_message(void *app, struct stack *stack, const struct ring_msg *msg, uint64_t now)
{
	struct relay_worker *w = app;
	struct rte_mbuf *m = msg->ptr;
	struct relay_link *l;

	(void)stack;
	w->now = now;
	switch (msg->type) {
	case RELAY_MSG_LINK_SEND:
		l = link_get(w, msg->u32);
		if (l == NULL || (l->state != LINK_TLS && l->state != LINK_RAW)) {
			w->stats.stale_messages++;
			rte_pktmbuf_free(m);
			break;
		}
		link_send_chain(w, l, m);
		add_to_flush(w, l);	/* closes it if sending failed */
		break;
	case RELAY_MSG_LINK_CONTINUE:
		l = link_get(w, msg->u32);
		if (l == NULL || l->state != LINK_TLS) {
			w->stats.stale_messages++;
			break;
		}
		l->paused = false;
		link_read(w, l);
		break;
	case RELAY_MSG_LINK_TLS_READY:
		l = link_get(w, msg->u32);
		if (l == NULL) {
			w->stats.stale_messages++;
			rte_pktmbuf_free(m);
			break;
		}
		msg_tls_ready(w, l, m);
		break;
	case RELAY_MSG_LINK_CELLS:
		l = link_get(w, msg->u32);
		if (l == NULL || l->state != LINK_RECORDS) {
			w->stats.stale_messages++;
			rte_pktmbuf_free(m);
			break;
		}
		for (struct rte_mbuf *s = m; s != NULL; s = s->next)
			queue_bytes(w, l, rte_pktmbuf_mtod(s, uint8_t *), s->data_len);
		rte_pktmbuf_free(m);
		break;
	case RELAY_MSG_LINK_OPEN:
		l = link_get(w, msg->u32);
		if (l == NULL || l->state != LINK_RECORDS) {
			w->stats.stale_messages++;
			break;
		}
		l->open = true;
		l->link_protocol = (uint16_t)msg->u64;
		l->pad_client = (msg->u64 & RELAY_LINK_OPEN_CLIENT) != 0;
		channel_padding_on_transfer(&l->padding, now);
		break;
	case RELAY_MSG_LINK_CLOSE:
		l = link_get(w, msg->u32);
		if (l == NULL) {
			w->stats.stale_messages++;
			break;
		}
		/* What is queued goes out before the FIN. */
		finish_record(w, l);
		seal_pending(w);
		link_close(w, l, 0, true, true);
		break;
	case RELAY_MSG_LINK_CONNECT: {
		uint32_t conn;
		int rc;

		l = link_alloc(w, LINK_CONNECTING);
		if (l == NULL) {
			w->stats.drop_link_full++;
			event(w, RELAY_EV_LINK_CLOSED, 0, (uint64_t)msg->u32 << 32 | ENOSPC, NULL);
			break;
		}
		rc = tcp_connect(w->tcp, w->cfg.local_ip, 0, (uint32_t)(msg->u64 >> 16),
				(uint16_t)msg->u64, now, &conn);
		l->connect_request = msg->u32;
		l->peer_internal = ipv4_address_is_internal((uint32_t)(msg->u64 >> 16));
		if (rc < 0) {
			link_close(w, l, rc, false, false);
			break;
		}
		l->tcp_conn = conn;
		conn_bind(w, conn, l);
		break;
	}
	case RELAY_MSG_CIRCUIT_CREATE: {
		struct relay_circuit_create *c = rte_pktmbuf_mtod(m, struct relay_circuit_create *);
		uint32_t handle;
		int rc;

		l = link_get(w, c->p_link);
		if (l == NULL || l->state != LINK_RECORDS) {
			w->stats.stale_messages++;
		} else if (c->reply[CELL_CIRC_ID_LEN] == CELL_COMMAND_DESTROY) {
			/* Control refused the CREATE2: only the DESTROY goes. */
			queue_cell(w, c->p_link, c->reply);
		} else {
			rc = circuit_create(w->circuits, w->cfg.engine, &c->keys, c->p_link,
					c->p_circ_id, &handle);
			if (rc == -EEXIST) {
				/* tor command.c: a CREATE for a circuit id in use
				 * is dropped; the circuit that has it goes on. */
				w->stats.stale_messages++;
			} else if (rc < 0) {
				/* tor-spec 5.4: refuse with a reason. */
				memset(c->reply, 0, CELL_LEN);
				cell_wire_set_circ_id(c->reply, c->p_circ_id);
				c->reply[CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
				cell_wire_payload(c->reply)[0] = rc == -ENOSPC
						? DESTROY_REASON_RESOURCELIMIT : DESTROY_REASON_PROTOCOL;
				queue_cell(w, c->p_link, c->reply);
			} else {
				queue_cell(w, c->p_link, c->reply);
			}
		}
		memset(&c->keys, 0, sizeof(c->keys));
		rte_pktmbuf_free(m);
		break;
	}
	case RELAY_MSG_CIRCUIT_EXTEND: {
		struct relay_circuit_extend *x = rte_pktmbuf_mtod(m, struct relay_circuit_extend *);
		struct relay_link *n_link;

		if (!circuit_ref_ok(w, &x->circuit)) {
			rte_pktmbuf_free(m);
			break;
		}
		if (link_is_remote(w, x->n_link)) {
			/* The link is another worker's: it installs the
			 * remote entry before it sends the CREATE2 (both in
			 * one cross cell, so nothing can overtake it). */
			if (!w->cross || circuit_extend_begin(w->circuits, x->circuit.handle,
					x->n_link, x->n_circ_id) < 0)
				destroy_circuit(w, x->circuit.handle, DESTROY_REASON_CONNECTFAILED);
			else
				cross_out(w, relay_link_worker(x->n_link), x->n_link,
						x->circuit.handle, CROSS_TO_LINK, CROSS_REGISTER,
						x->create, 0);
		} else {
			n_link = link_get(w, x->n_link);
			if (n_link == NULL || n_link->state != LINK_RECORDS ||
			    circuit_extend_begin(w->circuits, x->circuit.handle, x->n_link,
					x->n_circ_id) < 0)
				destroy_circuit(w, x->circuit.handle, DESTROY_REASON_CONNECTFAILED);
			else
				queue_cell(w, x->n_link, x->create);
		}
		rte_pktmbuf_free(m);
		break;
	}
	case RELAY_MSG_CIRCUIT_EXTENDED:
	case RELAY_MSG_CIRCUIT_ORIGINATE: {
		struct relay_circuit_relay *r = rte_pktmbuf_mtod(m, struct relay_circuit_relay *);
		uint8_t cell[CELL_LEN];
		uint32_t p_link;
		bool queued = false;

		if (circuit_ref_ok(w, &r->circuit)) {
			if (msg->type == RELAY_MSG_CIRCUIT_EXTENDED)
				circuit_extend_done(w->circuits, r->circuit.handle);
			if (circuit_originate_backward(w->circuits, w->cfg.engine,
					r->circuit.handle, r->relay_command, r->stream_id, r->data,
					r->length, cell, &p_link) == 0) {
				queue_cell(w, p_link, cell);
				queued = true;
				if (msg->type == RELAY_MSG_CIRCUIT_ORIGINATE && r->report_digest) {
					struct relay_circuit_sent_digest sent = { .circuit = r->circuit };

					circuit_backward_digest(w->circuits, r->circuit.handle,
							sent.digest);
					event_copy(w, RELAY_EV_CIRCUIT_SENT_DIGEST, r->circuit.handle,
							0, &sent, sizeof(sent));
				}
			}
		}
		if (msg->type == RELAY_MSG_CIRCUIT_ORIGINATE && r->confirm != 0)
			event(w, RELAY_EV_CIRCUIT_ORIGINATED, r->confirm, queued, NULL);
		rte_pktmbuf_free(m);
		break;
	}
	case RELAY_MSG_CIRCUIT_SPLICE:
		if (rte_pktmbuf_data_len(m) >= sizeof(struct relay_circuit_splice))
			msg_splice(w, rte_pktmbuf_mtod(m, struct relay_circuit_splice *));
		rte_pktmbuf_free(m);
		break;
	case RELAY_MSG_CIRCUIT_DESTROY: {
		struct relay_circuit_ref *ref = rte_pktmbuf_mtod(m, struct relay_circuit_ref *);

		if (circuit_ref_ok(w, ref))
			destroy_circuit(w, ref->handle, (uint8_t)msg->u64);
		rte_pktmbuf_free(m);
		break;
	}
	case RELAY_MSG_STATS:
		relay_worker_stats(w, msg->ptr);
		event(w, RELAY_EV_STATS_DONE, 0, msg->u64, NULL);
		break;
	case RELAY_MSG_LINK_GONE:
		if (link_is_remote(w, msg->u32))
			close_link_circuits(w, msg->u32);
		else
			w->stats.stale_messages++;
		break;
	case RELAY_MSG_PADDING_PARAMS:
		/* tor channelpadding_new_consensus_params(): deadlines drawn
		 * already stay, the next ones use the new window. */
		w->pad_params.ito_low_ms = (uint16_t)(msg->u64 >> 16);
		w->pad_params.ito_high_ms = (uint16_t)msg->u64;
		break;
	case RELAY_MSG_BANDWIDTH: {
		uint32_t rate = (uint32_t)(msg->u64 >> 32), burst = (uint32_t)msg->u64;
		uint32_t interval_ms = msg->u32 & RELAY_BANDWIDTH_INTERVAL_MASK;

		/* tor connection_bucket_adjust(): a reload keeps what the
		 * buckets hold, up to the new burst. */
		if (w->bucket_on)
			token_bucket_rw_adjust(&w->bucket, rate, burst, interval_ms, now);
		else
			token_bucket_rw_init(&w->bucket, rate, burst, interval_ms, now);
		w->bucket_on = true;
		w->count_private = (msg->u32 & RELAY_BANDWIDTH_COUNT_PRIVATE) != 0;
		break;
	}
	case RELAY_MSG_RELAYED_BANDWIDTH: {
		uint32_t rate = (uint32_t)(msg->u64 >> 32), burst = (uint32_t)msg->u64;
		uint32_t interval_ms = msg->u32 & RELAY_BANDWIDTH_INTERVAL_MASK;

		if (msg->u64 == 0)
			w->relayed_on = false;
		else if (w->relayed_on)
			token_bucket_rw_adjust(&w->relayed, rate, burst, interval_ms, now);
		else
			token_bucket_rw_init(&w->relayed, rate, burst, interval_ms, now);
		w->relayed_on = msg->u64 != 0;
		break;
	}
	case RELAY_MSG_LISTEN:
		if (w->cfg.or_port != 0 && set_listening(w, msg->u64 != 0) < 0)
			w->stats.listen_failures++;
		break;
	case RELAY_MSG_QUEUE_LIMITS:
		/* tor relay_consensus_has_changed(): queues longer than a
		 * lowered limit keep their cells and take no more. */
		circuit_queue_set_limits(w->queues, (uint32_t)(msg->u64 >> 32), (uint32_t)msg->u64);
		break;
	case RELAY_MSG_CIRCUIT_WATCH: {
		struct relay_circuit_ref ref = {
			.handle = msg->u32, .p_link = (uint32_t)(msg->u64 >> 32),
			.p_circ_id = (uint32_t)msg->u64,
		};

		/* Gone already (or a remote entry, never a circuit ending
		 * here): say so at once. */
		if (!circuit_ref_ok(w, &ref) || circuit_watch(w->circuits, ref.handle) < 0)
			event(w, RELAY_EV_CIRCUIT_CLOSED, msg->u32, msg->u64, NULL);
		break;
	}
	case RELAY_MSG_CIRCUIT_CLOSE_SIDE: {
		uint32_t h = circuit_lookup(w->circuits, msg->u32, (uint32_t)msg->u64);

		if (h == CIRCUIT_NONE)
			w->stats.stale_messages++;
		else
			destroy_circuit(w, h, (uint8_t)(msg->u64 >> 32));
		break;
	}
	default:
		if (m != NULL && msg->type < RELAY_EV_LINK_NEW)
			rte_pktmbuf_free(m);
		w->stats.stale_messages++;
		break;
	}
	process_records(w);
	flush_links(w);
	cross_flush(w);
	report_closed(w);
}

const struct stack_app_ops relay_worker_app_ops = {
	.events = relay_events,
	.poll = relay_poll,
	.message = relay_message,
};

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

struct relay_worker *
relay_worker_create(const struct relay_worker_config *cfg, int *error)
{
	struct circuit_table_config ccfg = {
		.max_circuits = cfg->max_circuits, .socket_id = cfg->socket_id,
	};
	struct relay_worker *w;

	if (cfg->pool == NULL || cfg->engine == NULL || cfg->event_ring == NULL ||
	    cfg->max_links == 0 || cfg->max_links > LINK_SLOT_MASK || cfg->max_circuits == 0 ||
	    cfg->index >= WORKER_MAX || cfg->n_workers > WORKER_MAX ||
	    (cfg->n_workers > 1 && cfg->index >= cfg->n_workers)) {
		*error = -EINVAL;
		return NULL;
	}
	w = rte_zmalloc_socket("relay_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (w == NULL) {
		*error = -ENOMEM;
		return NULL;
	}
	w->cfg = *cfg;
	w->links = rte_zmalloc_socket("relay_links", sizeof(*w->links) * cfg->max_links,
			RTE_CACHE_LINE_SIZE, cfg->socket_id);
	w->free_slots = rte_malloc_socket("relay_link_free", sizeof(uint32_t) * cfg->max_links,
			0, cfg->socket_id);
	w->max_conns = cfg->max_tcp_connections ? cfg->max_tcp_connections : cfg->max_links * 2;
	w->conn_links = rte_zmalloc_socket("relay_conn_links", sizeof(uint32_t) * w->max_conns, 0,
			cfg->socket_id);
	w->pad_links = rte_malloc_socket("relay_pad_links", sizeof(uint32_t) * cfg->max_links,
			0, cfg->socket_id);
	for (unsigned side = 0; side < PARK_SIDES; side++)
		w->parked[side] = rte_malloc_socket("relay_parked_links",
				sizeof(uint32_t) * cfg->max_links, 0, cfg->socket_id);
	w->park_scratch = rte_malloc_socket("relay_park_order", sizeof(uint32_t) * cfg->max_links,
			0, cfg->socket_id);
	w->pad_next = CHANNEL_PADDING_NEVER;
	w->pad_params.ito_low_ms = CHANNEL_PADDING_ITO_LOW_DEFAULT_MS;
	w->pad_params.ito_high_ms = CHANNEL_PADDING_ITO_HIGH_DEFAULT_MS;
	w->scratch = rte_malloc_socket("relay_scratch", (size_t)RELAY_RECORD_BURST * SCRATCH_LEN,
			RTE_CACHE_LINE_SIZE, cfg->socket_id);
	w->circuits = circuit_table_create(&ccfg, error);
	{
		struct circuit_queues_config qcfg = {
			.max_cells = cfg->max_queued_cells ? cfg->max_queued_cells : 16384,
			.max_queues = cfg->max_circuits * 2,
			.max_links = cfg->max_links,
			.max_per_queue = RELAY_CIRCUIT_QUEUE_MAX,
			.socket_id = cfg->socket_id,
		};
		int qerr;

		w->queues = circuit_queues_create(&qcfg, &qerr);
	}
	if (w->links == NULL || w->free_slots == NULL || w->scratch == NULL ||
	    w->circuits == NULL || w->queues == NULL || w->conn_links == NULL ||
	    w->pad_links == NULL || w->parked[PARK_READ] == NULL ||
	    w->parked[PARK_WRITE] == NULL || w->park_scratch == NULL) {
		relay_worker_destroy(w);
		*error = -ENOMEM;
		return NULL;
	}
	if (cfg->n_workers > 1 && cfg->cross_pool != NULL) {
		int rc = cross_outbox_init(&w->outbox, cfg->index, cfg->n_workers, cfg->cross_pool,
				cfg->cross_rings);

		if (rc < 0) {
			relay_worker_destroy(w);
			*error = rc;
			return NULL;
		}
		w->cross = true;
	}
	for (uint32_t i = 0; i < cfg->max_links; i++)
		w->free_slots[i] = cfg->max_links - 1 - i;
	w->nb_free = cfg->max_links;
	return w;
}

int
relay_worker_attach(struct relay_worker *w, struct stack *stack)
{
	w->stack = stack;
	w->tcp = stack_tcp(stack);
	if (w->cfg.or_port == 0)
		return 0;
	return set_listening(w, true);
}

void
relay_worker_destroy(struct relay_worker *w)
{
	if (w == NULL)
		return;
	if (w->links != NULL) {
		for (uint32_t i = 0; i < w->cfg.max_links; i++) {
			struct relay_link *l = &w->links[i];

			if (l->state == LINK_FREE)
				continue;
			tls_stream_rx_release(&l->rx);
			tls_stream_tx_discard(&l->tx);
			for (uint32_t k = 0; k < l->backlog_count; k++)
				rte_pktmbuf_free(l->backlog[(l->backlog_first + k) %
						RELAY_LINK_BACKLOG_RECORDS]);
			tls_record_dir_clear(&l->rx_dir);
			tls_record_dir_clear(&l->tx_dir);
			tls_traffic_secret_wipe(&l->rx_secret);
			tls_traffic_secret_wipe(&l->tx_secret);
		}
	}
	for (unsigned i = 0; i < w->nb_pending; i++)
		tls_stream_tx_discard(&w->pending[i].rec);
	if (w->cross)
		cross_outbox_discard(&w->outbox);
	circuit_table_destroy(w->circuits);
	circuit_queues_destroy(w->queues);
	rte_free(w->links);
	rte_free(w->conn_links);
	rte_free(w->free_slots);
	rte_free(w->pad_links);
	rte_free(w->parked[PARK_READ]);
	rte_free(w->parked[PARK_WRITE]);
	rte_free(w->park_scratch);
	rte_free(w->scratch);
	rte_free(w);
}

void
relay_worker_stats(const struct relay_worker *w, struct relay_worker_stats *out)
{
	*out = w->stats;
	out->circuits = *circuit_table_counters(w->circuits);
	out->cells_queued = circuit_queue_total(w->queues);
	out->listening = w->listening;
	if (w->stack != NULL)
		out->tcp = *tcp_stack_stats(stack_tcp(w->stack));
}
