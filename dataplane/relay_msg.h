/* Typed messages between the control thread and the relay running on each
 * worker (dataplane/relay_worker.h), carried as struct ring_msg (24 bytes
 * by value) on two rings per worker: the worker's control ring (control ->
 * worker, handed to the relay by the stack's message hook) and the relay's
 * own event ring (worker -> control, single producer and consumer).
 *
 * Anything bigger than a ring_msg travels in an mbuf chain named by ptr,
 * and the chain's ownership moves with the message: the receiver frees it
 * (rte_pktmbuf_free; mempools are safe for that from any lcore). Fixed
 * request structs sit at the start of the first segment's data.
 *
 * A link id is generation (12 bits) << 20 | owning worker (4 bits) << 16 |
 * slot (16 bits); the generation is never 0 and the slot never 0xffff, so
 * no id is 0 or UINT32_MAX. Any worker can tell whose a link is
 * (RELAY_LINK_WORKER()), which is how a circuit owned by one worker uses a
 * link owned by another (docs/links.md, "Circuits across workers").
 *
 * Links and circuits are named by ids that carry a generation, so a message
 * about a link or circuit that closed while the message was in flight is
 * recognised and ignored rather than applied to a newcomer in the same
 * slot. Circuits are named by their p side (link id, circuit id), which the
 * worker checks against the handle.
 *
 * A link's life (docs/links.md):
 *   inbound:  EV_LINK_NEW -> TLS bytes both ways (EV_LINK_BYTES /
 *             MSG_LINK_SEND, the worker pausing after each EV_LINK_BYTES
 *             until MSG_LINK_CONTINUE or MSG_LINK_TLS_READY) ->
 *             MSG_LINK_TLS_READY (keys, leftover bytes) -> every cell to
 *             control as EV_LINK_CELL and control's cells sealed by the
 *             worker (MSG_LINK_CELLS) -> MSG_LINK_OPEN: from then on cells
 *             go through the circuit table, and only CREATE2 and the like
 *             reach control;
 *   outbound: MSG_LINK_CONNECT -> EV_LINK_CONNECTED -> as above;
 *   raw:      MSG_LINK_CONNECT with RELAY_CONNECT_RAW: plain TCP for the
 *             control thread's directory requests; all bytes both ways,
 *             no pause;
 *   end:      EV_LINK_CLOSED (either side, any reason), after which the id
 *             is dead.
 */
#ifndef HSRELAY_DATAPLANE_RELAY_MSG_H
#define HSRELAY_DATAPLANE_RELAY_MSG_H

#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "crypto/tls_record.h"
#include "dataplane/cell.h"
#include "dataplane/circuit.h"
#include "dataplane/latency_histogram.h"
#include "dataplane/ring_msg.h"
#include "dataplane/tcp.h"

/* MSG_LINK_OPEN's u64: the peer is a client (connection-level padding is
 * for client links only, padding-spec). */
#define RELAY_LINK_OPEN_CLIENT (1ull << 16)
/* Longest per-circuit queue in each direction until a consensus sets
 * circ_max_cell_queue_size and circ_max_cell_queue_size_out
 * (RELAY_MSG_QUEUE_LIMITS): tor's default (relay.c
 * RELAY_CIRC_CELL_QUEUE_SIZE_DEFAULT); the live consensus says 1250. */
#define RELAY_CIRCUIT_QUEUE_MAX 2500
/* tor's lower bound of both parameters (RELAY_CIRC_CELL_QUEUE_SIZE_MIN). */
#define RELAY_CIRCUIT_QUEUE_MIN 50
/* MSG_BANDWIDTH's u32: the refill interval's bits, and the flag that
 * links to internal addresses count too. */
#define RELAY_BANDWIDTH_INTERVAL_MASK 0xffffu
#define RELAY_BANDWIDTH_COUNT_PRIVATE (1u << 16)
/* The first link protocol with PADDING_NEGOTIATE (padding-spec). */
#define RELAY_LINK_PROTOCOL_PADDING 5

enum relay_msg_type {
	/* control -> worker */
	/* u32 link, ptr: bytes to send as they are (TLS handshake, raw). */
	RELAY_MSG_LINK_SEND = RING_MSG_STACK_FIRST,
	/* u32 link: control consumed the last EV_LINK_BYTES; read on. */
	RELAY_MSG_LINK_CONTINUE,
	/* u32 link, ptr: struct relay_tls_ready, then the leftover bytes
	 * (received after the handshake) in the following segments. */
	RELAY_MSG_LINK_TLS_READY,
	/* u32 link, ptr: wire cells (any length, concatenated) to seal. */
	RELAY_MSG_LINK_CELLS,
	/* u32 link: the link handshake is done; u64 = the link protocol
	 * (>= 4), with RELAY_LINK_OPEN_CLIENT when the peer did not
	 * authenticate. */
	RELAY_MSG_LINK_OPEN,
	/* u32 link, u64 reason (enum destroy_reason for its circuits). */
	RELAY_MSG_LINK_CLOSE,
	/* u32 request id, u64 = ipv4 << 16 | port (host order), and
	 * ptr = NULL; RELAY_CONNECT_RAW in the request id's top bit asks for
	 * a raw stream. Answer: EV_LINK_CONNECTED or EV_LINK_CLOSED. */
	RELAY_MSG_LINK_CONNECT,
	/* ptr: struct relay_circuit_create. */
	RELAY_MSG_CIRCUIT_CREATE,
	/* ptr: struct relay_circuit_extend. */
	RELAY_MSG_CIRCUIT_EXTEND,
	/* ptr: struct relay_circuit_relay (EXTENDED2 body): the extension is
	 * done; the worker originates the cell towards p. */
	RELAY_MSG_CIRCUIT_EXTENDED,
	/* ptr: struct relay_circuit_relay: originate towards p. */
	RELAY_MSG_CIRCUIT_ORIGINATE,
	/* ptr: struct relay_circuit_ref + reason in u64: DESTROY both
	 * sides and free. */
	RELAY_MSG_CIRCUIT_DESTROY,
	/* ptr: struct relay_worker_stats owned by control; answered by
	 * EV_STATS_DONE with the same u64. */
	RELAY_MSG_STATS,
	/* u32 link (another worker's, closed): circuits whose n side was
	 * there close as circuit_close_link() closes them locally. */
	RELAY_MSG_LINK_GONE,
	/* u32 link, u64 = reason << 32 | circuit id: close whatever circuit
	 * or remote entry this worker has on (link, circuit id) (answer to
	 * EV_CROSS_LOST). */
	RELAY_MSG_CIRCUIT_CLOSE_SIDE,
	/* ptr: struct relay_circuit_splice: RENDEZVOUS2 on circuit, then
	 * join it with partner (rend-spec-v3 4.2). */
	RELAY_MSG_CIRCUIT_SPLICE,

	/* u32 circuit handle, u64 = p link << 32 | p circuit id: report the
	 * circuit's close (EV_CIRCUIT_CLOSED), at once if it is gone already
	 * (dataplane/circuit.h circuit_watch). */
	RELAY_MSG_CIRCUIT_WATCH,
	/* u64 = nf_ito_low << 16 | nf_ito_high (ms), from the kept consensus
	 * (dataplane/channel_padding.h): the window of later padding
	 * negotiations and deadlines. */
	RELAY_MSG_PADDING_PARAMS,
	/* u64 = toward n << 32 | toward p: the longest circuit queue of each
	 * direction (consensus circ_max_cell_queue_size_out and
	 * circ_max_cell_queue_size, tor relay.c). */
	RELAY_MSG_QUEUE_LIMITS,
	/* u64 = rate << 32 | burst (bytes per second, bytes: this worker's
	 * share of BandwidthRate and BandwidthBurst), u32 = the refill
	 * interval in ms (TokenBucketRefillInterval) | RELAY_BANDWIDTH_COUNT_
	 * PRIVATE (CountPrivateBandwidth): limit the links' reads and writes
	 * from now on (dataplane/token_bucket.h). */
	RELAY_MSG_BANDWIDTH,
	/* u64 = rate << 32 | burst, this worker's share of RelayBandwidthRate
	 * and RelayBandwidthBurst (0: none), u32 = the refill interval in ms:
	 * a second pair of buckets for relayed traffic (tor's
	 * global_relayed_bucket), on the links MSG_BANDWIDTH limits but the
	 * raw ones (RELAY_CONNECT_RAW). Control sends it before each
	 * MSG_BANDWIDTH. */
	RELAY_MSG_RELAYED_BANDWIDTH,
	/* u64 = 1: accept inbound connections on the ORPort again; 0: stop
	 * (tor's hibernation closes its listeners; established links go on;
	 * a SYN then gets a RST, as from a closed port). */
	RELAY_MSG_LISTEN,

	/* worker -> control */
	/* u32 link, u64 = remote ipv4 << 16 | remote port. */
	RELAY_EV_LINK_NEW = RING_MSG_STACK_FIRST + 64,
	/* u32 link, u64 = the request id of MSG_LINK_CONNECT. */
	RELAY_EV_LINK_CONNECTED,
	/* u32 link, ptr: received bytes (TLS handshake, raw). */
	RELAY_EV_LINK_BYTES,
	/* u32 link, u64 circuit handle or CIRCUIT_NONE, ptr: one wire cell
	 * as cut from the stream (2-byte circuit id for the first one). */
	RELAY_EV_LINK_CELL,
	/* u32 circuit handle, ptr: struct relay_circuit_local: a relay cell
	 * recognized at this hop, decrypted and digest-checked. */
	RELAY_EV_CIRCUIT_RELAY,
	/* u32 link, u64 = request id (for a failed connect, else 0) << 32 |
	 * -errno. */
	RELAY_EV_LINK_CLOSED,
	/* u64: the request's. */
	RELAY_EV_STATS_DONE,
	/* u32 link, u64 = worker << 32 | circuit id: a cell for worker's
	 * side of that circuit was lost between workers (cross ring full):
	 * control asks worker to close it (MSG_CIRCUIT_CLOSE_SIDE). */
	RELAY_EV_CROSS_LOST,
	/* u32 circuit handle, ptr: struct relay_circuit_sent_digest: the
	 * running backward digest right after an ORIGINATE cell that had
	 * report_digest set, sent in the iteration that stamped it. */
	RELAY_EV_CIRCUIT_SENT_DIGEST,
	/* u32 circuit handle, u64 = p link << 32 | p circuit id: a circuit
	 * named in MSG_CIRCUIT_WATCH was freed (or was gone when asked). */
	RELAY_EV_CIRCUIT_CLOSED,
	/* u32 = the confirm id of an ORIGINATE, u64 = 1 when its cell was
	 * queued, 0 when the circuit was gone. */
	RELAY_EV_CIRCUIT_ORIGINATED,
	/* u32 = p link: a circuit from that link was closed because its
	 * queue towards the next hop was full (tor's dos_note_circ_max_outq). */
	RELAY_EV_CIRCUIT_MAX_OUTQ,
};

#define RELAY_LINK_SLOT_BITS 16
#define RELAY_LINK_WORKER_BITS 4
#define RELAY_LINK_GENERATION_SHIFT (RELAY_LINK_SLOT_BITS + RELAY_LINK_WORKER_BITS)
#define RELAY_LINK_GENERATION_MAX ((1u << (32 - RELAY_LINK_GENERATION_SHIFT)) - 1)

/* The worker that owns link id. */
static inline unsigned
relay_link_worker(uint32_t id)
{
	return (id >> RELAY_LINK_SLOT_BITS) & ((1u << RELAY_LINK_WORKER_BITS) - 1);
}

/* The top bit of a connect request id asks for a raw stream. */
#define RELAY_CONNECT_RAW 0x80000000u

/* MSG_LINK_TLS_READY: the record keys from the TLS handshake (see
 * crypto/tls_record.h for the key and IV lengths). */
struct relay_tls_ready {
	uint8_t version;	/* enum tls_record_version */
	uint8_t key_len;	/* 16 or 32 */
	uint8_t iv_len;		/* 12 (TLS 1.3) or 4 (TLS 1.2 salt) */
	uint8_t initiator;	/* we opened the link */
	uint8_t read_key[32], read_iv[12];
	uint8_t write_key[32], write_iv[12];
	uint64_t read_seq, write_seq;
	/* TLS 1.3: the application traffic secrets the keys came from; the
	 * worker derives the next keys from them on KeyUpdate (RFC 8446
	 * 4.6.3, docs/links.md). secret_len 32 or 48; 0 for TLS 1.2. */
	uint8_t secret_len;
	uint8_t read_secret[48], write_secret[48];
};

struct relay_circuit_ref {
	uint32_t handle;
	uint32_t p_link;
	uint32_t p_circ_id;
};

/* MSG_CIRCUIT_CREATE: install a circuit ending here and send the reply
 * (CREATED2 / CREATED_FAST) on p. */
struct relay_circuit_create {
	uint32_t p_link;
	uint32_t p_circ_id;
	struct circuit_keys keys;
	uint8_t reply[CELL_LEN];
};

/* MSG_CIRCUIT_EXTEND: register n = (n_link, n_circ_id) and send the
 * CREATE2 cell there. */
struct relay_circuit_extend {
	struct relay_circuit_ref circuit;
	uint32_t n_link;
	uint32_t n_circ_id;
	uint8_t create[CELL_LEN];
};

/* MSG_CIRCUIT_EXTENDED / ORIGINATE. */
struct relay_circuit_relay {
	struct relay_circuit_ref circuit;
	uint8_t relay_command;
	uint16_t stream_id;
	uint16_t length;
	uint8_t data[RELAY_DATA_MAX];
	/* ORIGINATE: report the backward digest after this cell
	 * (EV_CIRCUIT_SENT_DIGEST) */
	uint8_t report_digest;
	/* ORIGINATE: when not 0, answer EV_CIRCUIT_ORIGINATED with this id
	 * (an INTRODUCE2 whose INTRODUCE_ACK waits for it) */
	uint32_t confirm;
};

/* MSG_CIRCUIT_SPLICE, to the worker owning circuit (the client's circuit
 * waiting on the cookie): originate RENDEZVOUS2 with body rendezvous2 on
 * it, then join it with partner (the circuit that sent RENDEZVOUS1),
 * which the worker of partner.p_link owns (a CROSS_SPLICE_JOIN cell asks
 * that worker to join its side when it is another one). When circuit is
 * gone, partner is closed (DESTROY TORPROTOCOL, as tor closes a
 * RENDEZVOUS1 circuit whose cookie has no waiting circuit); when partner
 * is gone, circuit is closed (DESTROYED). */
struct relay_circuit_splice {
	struct relay_circuit_ref circuit;
	struct relay_circuit_ref partner;
	uint16_t length;
	uint8_t rendezvous2[RELAY_DATA_MAX];
};

/* EV_CIRCUIT_RELAY. */
struct relay_circuit_local {
	struct relay_circuit_ref circuit;
	uint8_t command;	/* CELL_COMMAND_RELAY or _RELAY_EARLY as received */
	/* the circuit has an n side (extended, or CREATE2 sent there): it
	 * does not end here (tor's n_chan, hs_intropoint.c) */
	uint8_t has_next_hop;
	uint8_t payload[CELL_PAYLOAD_LEN];
	/* the full running forward digest right after this cell (prop 289
	 * SENDME v1 tag) */
	uint8_t digest[20];
};

/* EV_CIRCUIT_SENT_DIGEST. */
struct relay_circuit_sent_digest {
	struct relay_circuit_ref circuit;
	uint8_t digest[20];
};

/* What the relay on a worker counted (MSG_STATS). */
struct relay_worker_stats {
	uint64_t links_open;		/* gauge */
	uint64_t listening;		/* gauge: 1 while the ORPort accepts */
	uint64_t listen_failures;	/* MSG_LISTEN could not (un)listen */
	uint64_t links_accepted;
	uint64_t links_connected;
	uint64_t links_closed;
	uint64_t records_opened;
	uint64_t records_sealed;
	uint64_t cells_in;
	uint64_t cells_out;
	uint64_t cells_to_control;
	uint64_t drop_link_full;	/* no link slot for an accepted connection */
	uint64_t drop_bad_record;	/* records that failed: link closed */
	uint64_t drop_bad_cell;		/* unframeable cells: link closed */
	uint64_t drop_no_mbuf;
	uint64_t drop_no_link;		/* cells for a link that is gone */
	uint64_t drop_events;		/* event ring full */
	uint64_t backlog_overflow;	/* links closed: send backlog too big */
	uint64_t stale_messages;	/* control messages about dead ids */
	uint64_t cells_queued;		/* gauge: in per-circuit queues */
	uint64_t closed_queue_limit;	/* circuits closed: queue too long */
	uint64_t closed_queue_limit_outq;	/* ... the queue towards the next hop */
	uint64_t closed_oom;		/* circuits closed: queue memory full */
	uint64_t cells_cross_out;	/* cells handed to other workers */
	uint64_t cells_cross_in;	/* cells taken from other workers */
	uint64_t cross_batches_in;	/* batches taken from other workers */
	uint64_t cross_ring_full;	/* cells lost between workers: ring full or
					 * no batch left (their circuits close) */
	/* rendezvous splices across workers: cells of a partner circuit
	 * another worker owns (CROSS_TO_SPLICE, DESTROYs included) and
	 * requests to join our side to such a partner (CROSS_SPLICE_JOIN),
	 * taken from our cross ring */
	uint64_t cross_splice_cells_in;
	uint64_t cross_splice_joins_in;
	uint64_t tls_key_updates_in;	/* KeyUpdates received (TLS 1.3) */
	uint64_t tls_key_updates_out;	/* KeyUpdates sent in answer */
	/* connection-level padding (dataplane/channel_padding.h) */
	uint64_t padding_negotiations;	/* PADDING_NEGOTIATE applied */
	uint64_t padding_negotiate_ignored;	/* malformed, bad version, link
						 * protocol < 5 */
	uint64_t padding_cells_sent;
	/* BandwidthRate: the read and the write bucket became empty (tor's
	 * tor_relay_load_global_rate_limit_reached_total{side}) */
	uint64_t rate_limit_read_reached;
	uint64_t rate_limit_write_reached;
	/* RelayBandwidthRate: the relayed read and write buckets emptied */
	uint64_t relayed_limit_read_reached;
	uint64_t relayed_limit_write_reached;
	struct circuit_counters circuits;
	/* Latency of the relay cells this worker sent on its links
	 * (dataplane/latency_histogram.h), [LATENCY_KIND_FORWARD - 1]:
	 * relay cells passed on along their circuit, [LATENCY_KIND_SPLICE -
	 * 1]: relay cells passed across a rendezvous splice. From the start of
	 * the worker iteration whose RX burst brought the last bytes of the
	 * record that carried the cell in (on this worker or the one that
	 * handed it over) to the end of the flush that sealed the record
	 * taking it out: queue and cross-ring time included. Counted once
	 * per cell appended to an outbound record; not: cells made here
	 * (DESTROY, TRUNCATED, originated relay cells), cells to the control
	 * thread, dropped cells. */
	struct latency_histogram latency[LATENCY_KINDS];
	/* The worker's TCP stack (dataplane/tcp.h): loss recovery and what
	 * it dropped. */
	struct tcp_stats tcp;
};

/* A new mbuf chain from pool holding a copy of len bytes (at least one
 * segment, also for len 0): how both sides put message payloads into
 * mbufs. NULL when the pool ran dry (nothing is left allocated). */
static inline struct rte_mbuf *
relay_msg_mbuf_from(struct rte_mempool *pool, const void *data, size_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	size_t done = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		size_t chunk;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		chunk = RTE_MIN(len - done, (size_t)rte_pktmbuf_tailroom(m));
		if (chunk > 0)
			memcpy(rte_pktmbuf_append(m, (uint16_t)chunk),
					(const uint8_t *)data + done, chunk);
		done += chunk;
		if (head == NULL) {
			head = tail = m;
		} else {
			tail->next = m;
			tail = m;
			head->nb_segs++;
			head->pkt_len += (uint32_t)chunk;
		}
	} while (done < len);
	return head;
}

#endif
