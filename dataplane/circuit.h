/* The worker's circuit table and the relay-cell fast path (tor-spec 5 and
 * "Routing relay cells").
 *
 * A worker owns the circuits whose previous-hop side (p) arrives on a link
 * it owns. Each circuit has one or two keys in an rte_hash: (p link,
 * p circ id) and, once it is extended, (n link, n circ id). The relay
 * crypto state of both directions sits in the circuit entry (two
 * struct relay_cipher, 3 cache lines each); the running digests, touched
 * only by cells for or from this hop, are kept apart.
 *
 * circuit_cells_burst() takes a burst of fixed-size cells (4-byte circuit
 * ids, link protocol 4 and later) that arrived on the worker's links and
 * decides each one, rewriting forwarded cells in place:
 *   RELAY / RELAY_EARLY from p: one layer removed (tor1, Kf); when the
 *     "recognized" field and the running digest say it is for this hop,
 *     it goes to the caller as LOCAL (the control thread handles EXTEND2,
 *     and later the onion-service commands), else it is forwarded to n
 *     with n's circuit id (FORWARD); a cell no hop recognizes on a circuit
 *     that ends here closes the circuit (tor-spec 5.5.2.1).
 *   RELAY from n: one layer added (Kb) and forwarded to p.
 *   RELAY_EARLY from n, or a ninth RELAY_EARLY from p: protocol violation,
 *     the circuit closes (tor-spec 5.6).
 *   DESTROY from p: the circuit is freed and the DESTROY goes on to n with
 *     the same reason; DESTROY from n: n is detached and a RELAY_TRUNCATED
 *     carrying the reason goes to p (tor-spec 5.4, tor command.c).
 *   CREATE2 / CREATE_FAST on an unknown circuit id: CONTROL (ntor runs on
 *     the control thread), and so is DESTROY there (it may cancel a
 *     CREATE2 in progress); CREATED2 for a pending extension: CONTROL.
 *   PADDING, and anything on an unknown circuit: DROP, counted.
 * A circuit that closes sends DESTROY to each side it has: the cell that
 * caused it is rewritten into the first one, the second is written into
 * the caller's extra[] array.
 *
 * Nothing here allocates, locks or makes a system call after
 * circuit_table_create(). Single-threaded: the owning worker only.
 */
#ifndef HSRELAY_DATAPLANE_CIRCUIT_H
#define HSRELAY_DATAPLANE_CIRCUIT_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/engine.h"
#include "crypto/relay_crypto.h"
#include "dataplane/cell.h"

#define CIRCUIT_NO_LINK UINT32_MAX
#define CIRCUIT_NONE UINT32_MAX
/* tor-spec 5.6: at most 8 RELAY_EARLY cells per circuit from the client. */
#define CIRCUIT_MAX_RELAY_EARLY 8
/* The largest burst circuit_cells_burst() takes (rte_hash bulk lookup). */
#define CIRCUIT_BURST_MAX 32

struct circuit_table;

struct circuit_table_config {
	uint32_t max_circuits;
	int socket_id;
};

/* Key material of one hop, from ntor / ntor-v3 / CREATE_FAST (tor-spec 5.2):
 * Kf and Kb for the tor1 ciphers, Df and Db to seed the digests. */
struct circuit_keys {
	uint8_t forward_key[RELAY_CRYPTO_KEY_LEN];
	uint8_t backward_key[RELAY_CRYPTO_KEY_LEN];
	uint8_t forward_digest[RELAY_CRYPTO_DIGEST_SEED_LEN];
	uint8_t backward_digest[RELAY_CRYPTO_DIGEST_SEED_LEN];
};

enum circuit_verdict {
	CIRCUIT_VERDICT_FORWARD,	/* rewritten in place: send on out_link */
	CIRCUIT_VERDICT_LOCAL,		/* relay payload for this hop, decrypted and verified */
	CIRCUIT_VERDICT_CONTROL,	/* for the control thread (CREATE2, CREATED2, ...) */
	CIRCUIT_VERDICT_DROP,		/* dropped and counted */
	/* for a circuit another worker owns (a remote entry): hand the cell,
	 * unchanged, to worker `owner`, which decides it with link as the
	 * arrival link */
	CIRCUIT_VERDICT_REMOTE,
	/* a cell for the rendezvous partner of a spliced circuit that another
	 * worker owns (rend-spec-v3 4.2): hand it, already carrying the
	 * partner's p circuit id, to the worker of out_link, which finishes
	 * it with circuit_splice_in_burst() */
	CIRCUIT_VERDICT_SPLICE_REMOTE,
	/* a cell no hop recognizes on a circuit that sent RENDEZVOUS1 and is
	 * not joined yet: kept by the table until circuit_take_held() or the
	 * circuit's close */
	CIRCUIT_VERDICT_HELD,
};

/* circuit_cell.kind of a FORWARD cell: what the relay worker's latency
 * histogram (dataplane/latency_histogram.h) counts it as. */
enum circuit_cell_kind {
	CIRCUIT_CELL_MADE = 0,		/* made here: DESTROY, TRUNCATED */
	CIRCUIT_CELL_FORWARDED = 1,	/* a relay cell passed on towards n or p */
	CIRCUIT_CELL_SPLICED = 2,	/* a relay cell passed to the rendezvous partner */
};

/* One cell of a burst. cell points at a CELL_LEN-byte wire cell (4-byte
 * circuit id, command, 509-byte payload) that the burst may rewrite. */
struct circuit_cell {
	uint8_t *cell;
	/* when the cell entered hsrelay (ns, the caller's clock): not read
	 * here, only kept with a held cell and given back with it
	 * (circuit_take_held()) */
	uint64_t arrival;
	uint32_t link;		/* the link it arrived on */
	/* results */
	uint32_t out_link;	/* FORWARD: where to send it */
	/* LOCAL / CONTROL: the circuit handle, or CIRCUIT_NONE; FORWARD: the
	 * circuit the cell travels on while it stays open (relay cells,
	 * TRUNCATED), CIRCUIT_NONE for a DESTROY */
	uint32_t circuit;
	uint8_t verdict;	/* enum circuit_verdict */
	uint8_t relay_early;	/* FORWARD of a relay cell: it must leave as RELAY_EARLY */
	uint8_t toward_p;	/* FORWARD on a live circuit (circuit set): 1 toward the
				 * client side, 0 toward n */
	uint8_t owner;		/* REMOTE: the worker that owns the circuit */
	uint8_t kind;		/* FORWARD (and SPLICE_REMOTE): enum circuit_cell_kind */
};

/* A DESTROY produced by a closing circuit in addition to the rewritten
 * cell (to its other side). */
struct circuit_extra_cell {
	uint8_t cell[CELL_LEN];
	uint32_t link;
	/* 1: the DESTROY of a rendezvous partner another worker owns: hand
	 * it to the worker of link (circuit_splice_in_burst()), which frees
	 * the partner and sends it on */
	uint8_t splice_remote;
};

struct circuit_counters {
	uint64_t forwarded;		/* relay cells towards n */
	uint64_t backwarded;		/* relay cells towards p */
	uint64_t local;			/* relay cells for this hop */
	uint64_t to_control;
	uint64_t drop_unknown_circuit;
	uint64_t drop_padding;
	uint64_t drop_other;
	uint64_t destroy_received;
	uint64_t truncated_sent;
	uint64_t closed_protocol;	/* circuits closed for a protocol violation */
	uint64_t closed_by_destroy;
	uint64_t closed_by_link;		/* their link went away */
	uint64_t circuits_open;		/* gauge */
	uint64_t remote_cells;		/* cells for circuits other workers own */
	uint64_t remotes_open;		/* gauge: remote entries */
	uint64_t spliced;		/* relay cells re-encrypted for a rendezvous
					 * partner circuit here */
	uint64_t splices_open;		/* gauge: circuits joined to a partner */
	uint64_t closed_by_splice;	/* circuits closed because their partner
					 * closed */

	/* gauge: slots of watched circuits freed and not yet taken by
	 * circuit_take_closed() (not reusable until then) */
	uint64_t closed_unreported;
	/* cells held behind a RENDEZVOUS1 (gauge, and all ever held), and
	 * circuits closed because their hold was full */
	uint64_t cells_held;
	uint64_t held_total;
	uint64_t closed_hold_full;
};

/* Allocates a table for max_circuits on socket_id. NULL with *error set
 * (-EINVAL, -ENOMEM) on failure. Not fast path. */
struct circuit_table *circuit_table_create(const struct circuit_table_config *cfg, int *error);

/* Frees the table and wipes every key in it. */
void circuit_table_destroy(struct circuit_table *t);

/* Installs a circuit that ends at this hop (after CREATE2 was answered):
 * its p side is (p_link, p_circ_id). Returns 0 and sets *handle, -EEXIST
 * (the circuit id is taken on that link) or -ENOSPC. */
int circuit_create(struct circuit_table *t, struct crypto_engine *engine,
		const struct circuit_keys *keys, uint32_t p_link, uint32_t p_circ_id,
		uint32_t *handle);

/* Registers the n side of an extension in progress (CREATE2 sent on
 * (n_link, n_circ_id)): CREATED2 and DESTROY from there reach the caller
 * as CONTROL / are handled; relay cells for this hop are not forwarded
 * until circuit_extend_done(). Returns 0, -EEXIST (n side taken or the
 * circuit already has one), -ENOENT. */
int circuit_extend_begin(struct circuit_table *t, uint32_t handle, uint32_t n_link,
		uint32_t n_circ_id);

/* The extension is complete (CREATED2 arrived and EXTENDED2 was sent):
 * from now on unrecognized cells from p go to n. -ENOENT, -EINVAL when no
 * extension is pending. */
int circuit_extend_done(struct circuit_table *t, uint32_t handle);

/* Frees a circuit (both keys); the caller sends any DESTROY cells. */
int circuit_free(struct circuit_table *t, uint32_t handle);

/* The sides of a circuit. -ENOENT for a free handle. */
int circuit_sides(const struct circuit_table *t, uint32_t handle, uint32_t *p_link,
		uint32_t *p_circ_id, uint32_t *n_link, uint32_t *n_circ_id);

/* The circuit keyed by (link, circ id) on either side, or CIRCUIT_NONE. */
uint32_t circuit_lookup(const struct circuit_table *t, uint32_t link, uint32_t circ_id);

/* Decides a burst of at most CIRCUIT_BURST_MAX cells (see the top of this
 * header), in array order per circuit. extra has room for n cells; the
 * number of extra DESTROY cells written is returned in *nb_extra.
 * Returns n. */
unsigned circuit_cells_burst(struct circuit_table *t, struct crypto_engine *engine,
		struct circuit_cell cells[], unsigned n, struct circuit_extra_cell extra[],
		unsigned *nb_extra);

/* Builds, in cell, a relay cell this hop originates towards p on circuit
 * handle (e.g. EXTENDED2 from the control thread): relay header with
 * command, stream id and data, tor-spec padding, digest stamped with the
 * backward running digest, one layer added. Returns 0 and sets *p_link,
 * -ENOENT, -EMSGSIZE (more than RELAY_DATA_MAX bytes). */
int circuit_originate_backward(struct circuit_table *t, struct crypto_engine *engine,
		uint32_t handle, uint8_t relay_command, uint16_t stream_id, const uint8_t *data,
		uint16_t len, uint8_t cell[CELL_LEN], uint32_t *p_link);

/* Closes circuits with a side on link (the link went away), writing a
 * DESTROY (reason CHANNEL_CLOSED) for each other side into out (remote
 * entries on link are freed and write nothing: their owner hears of the
 * link from the control thread), until out
 * (room for max, at least 1) is full. Returns how many DESTROY cells were
 * written; call again until it returns 0 (circuits with no other side are
 * freed on the way and write nothing). Slow path: scans the table. */
unsigned circuit_close_link(struct circuit_table *t, uint32_t link,
		struct circuit_extra_cell out[], unsigned max);

/* Registers a remote entry: the circuit whose n side is (link, circ_id),
 * a link of this table's worker, is owned by worker owner, whose table
 * holds its keys. Every cell arriving on that key is handed to the owner
 * unchanged (CIRCUIT_VERDICT_REMOTE); a DESTROY arriving there also frees
 * the entry. The entry takes a circuit slot, whose handle names it for
 * per-circuit queues (its p side reads as (link, circ_id), it has no n
 * side) and for circuit_free(). Returns 0 and sets *handle, -EINVAL,
 * -EEXIST (the key is taken) or -ENOSPC. */
int circuit_remote_add(struct circuit_table *t, uint32_t link, uint32_t circ_id, uint8_t owner,
		uint32_t *handle);

/* The owning worker of remote entry handle, -ENOENT for a free handle,
 * -EINVAL for a circuit this table owns. */
int circuit_remote_owner(const struct circuit_table *t, uint32_t handle);

/* After circuit_cells_burst(): for cell index i of that burst whose
 * verdict is LOCAL, the full 20-byte running forward digest right after
 * that cell (the SENDME v1 tag a client expects back, prop 289); valid
 * until the next burst. Other indexes give unspecified bytes. */
const uint8_t *circuit_burst_local_digest(const struct circuit_table *t, unsigned i);

/* The full 20-byte running backward digest of circuit handle after the
 * last cell it originated (circuit_originate_backward): the tag the
 * client's next circuit SENDME must carry when that cell was the one the
 * window counts (prop 289). -ENOENT for a free handle. */
int circuit_backward_digest(const struct circuit_table *t, uint32_t handle, uint8_t out[20]);

/* Rendezvous splice (rend-spec-v3 4.2, tor relay.c): joins circuit
 * handle, which ends here, to its partner whose p side is (peer_link,
 * peer_circ_id). From then on a relay cell from handle's p side that is
 * not recognized at this hop leaves on the partner's p side, one layer of
 * the partner's Kb added, as RELAY, and the other way round; a DESTROY or
 * close of one closes the other (DESTROY reason DESTROYED for a received
 * DESTROY, tor command.c). peer_handle: the partner's handle when this
 * table owns it as well (both sides are joined by this call), or
 * CIRCUIT_NONE when the worker of peer_link owns it (that worker joins its
 * side with its own call). Returns 0, -ENOENT (a circuit is not live),
 * -EBUSY (one has an n side or a partner already), -EINVAL (a remote
 * entry, a circuit joined to itself, no link). */
int circuit_splice(struct circuit_table *t, uint32_t handle, uint32_t peer_link,
		uint32_t peer_circ_id, uint32_t peer_handle);

/* The partner of circuit handle: its p side and its handle here (or
 * CIRCUIT_NONE when another worker owns it); *peer_link is CIRCUIT_NO_LINK
 * for a circuit without one. -ENOENT for a free handle. */
int circuit_splice_peer(const struct circuit_table *t, uint32_t handle, uint32_t *peer_link,
		uint32_t *peer_circ_id, uint32_t *peer_handle);

/* Finishes cells another worker produced with CIRCUIT_VERDICT_SPLICE_REMOTE
 * (or a DESTROY for a partner it closed): cells[i].cell carries the circuit
 * id of our circuit's p side and cells[i].link is that p link. A RELAY cell
 * for a joined circuit gets its Kb layer (one crypto burst, array order) and
 * becomes FORWARD towards p (toward_p 1); a DESTROY frees the circuit (its
 * partner link is forgotten) and is forwarded to p as it is (circuit
 * CIRCUIT_NONE); anything else, or an unknown circuit, is DROP. At most
 * CIRCUIT_BURST_MAX cells. Returns n. */
unsigned circuit_splice_in_burst(struct circuit_table *t, struct crypto_engine *engine,
		struct circuit_cell cells[], unsigned n);

const struct circuit_counters *circuit_table_counters(const struct circuit_table *t);

/* Cells behind a RENDEZVOUS1 (rend-spec-v3 4.2): tor joins the two
 * circuits when it handles RENDEZVOUS1, before it reads the service's next
 * cell, which then crosses the splice. Here the control thread decides the
 * join later, so a circuit that sent a RENDEZVOUS1 recognized at this hop
 * (no n side, no partner) holds the cells no hop recognizes that follow
 * it (CIRCUIT_VERDICT_HELD, this hop's layer removed), at most
 * CIRCUIT_HOLD_PER_CIRCUIT per circuit and CIRCUIT_HOLD_CELLS per table, in
 * a pool made by circuit_table_create(); one more closes the circuit
 * (DESTROY RESOURCELIMIT, closed_hold_full). Held cells are dropped when
 * the circuit closes (the join failed). */
#define CIRCUIT_HOLD_PER_CIRCUIT 16
#define CIRCUIT_HOLD_CELLS 512

/* After circuit_splice() joined circuit handle: moves up to max (at most
 * CIRCUIT_BURST_MAX) of its held cells, oldest first, into cells[] and
 * out[] as circuit_cells_burst() would have decided them on the joined
 * circuit: FORWARD with the partner's Kb layer added (the partner is in
 * this table) or SPLICE_REMOTE for the partner's worker. Call it right
 * after the join (and after the partner's RENDEZVOUS2 was queued) until it
 * returns 0. Returns how many; 0 for a circuit that is not joined. */
unsigned circuit_take_held(struct circuit_table *t, struct crypto_engine *engine, uint32_t handle,
		struct circuit_cell out[], uint8_t (*cells)[CELL_LEN], unsigned max);

/* A watched circuit that was freed: what the control thread knew it by. */
struct circuit_closed {
	uint32_t handle;
	uint32_t p_link;
	uint32_t p_circ_id;
};

/* Asks to be told when circuit handle is freed, however that happens
 * (DESTROY from p, protocol violation, circuit_free()): the control thread
 * keeps state for circuits ending here (an introduction point's circuit
 * table) and is otherwise not told of every close. Returns 0, -ENOENT for
 * a free handle, -EINVAL for a remote entry. */
int circuit_watch(struct circuit_table *t, uint32_t handle);

/* Moves up to max reports of freed watched circuits into out, oldest
 * first, and frees their slots for reuse. Reports are never lost: a
 * watched circuit's slot stays out of use (counted in closed_unreported)
 * until it is taken here, so a caller that cannot pass them all on now
 * takes the rest later. Returns how many. */
unsigned circuit_take_closed(struct circuit_table *t, struct circuit_closed out[], unsigned max);

#endif
