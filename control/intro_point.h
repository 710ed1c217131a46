/* The introduction point (rend-spec-v3 3.1, 3.2; tor 0.4.9's
 * hs_intropoint.c, hs_circuitmap.c, hs_dos.c): ESTABLISH_INTRO turns a
 * service's circuit that ends here into an intro circuit registered by its
 * auth key; INTRODUCE1 on a client's circuit is relayed unchanged as
 * INTRODUCE2 on the intro circuit of that key, within the circuit's
 * INTRODUCE2 token bucket, and answered with INTRODUCE_ACK.
 *
 * The message checks are control/hs_cells.h's; this module holds the
 * per-circuit state tor keeps on its or_circuit_t (purpose INTRO_POINT,
 * the DoS parameters and bucket, already_received_introduce1) and the
 * auth-key map, and makes the circuit-level checks in tor's order. It does
 * no I/O: replies, closes and close notifications go through the
 * callbacks in struct intro_point_ops. Time is passed in as monotonic
 * seconds (the bucket refills once per second, as tor's
 * monotime_coarse_absolute_sec()).
 *
 * Circuits are named by struct intro_circuit: the worker and handle plus
 * the p side, so a handle reused for a newer circuit is not mistaken for
 * the old one. Single-threaded (the control thread).
 */
#ifndef HSRELAY_CONTROL_INTRO_POINT_H
#define HSRELAY_CONTROL_INTRO_POINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/hs_cells.h"

struct intro_point;

/* A circuit that ends here, as the worker names it. */
struct intro_circuit {
	uint32_t worker;
	uint32_t handle;
	uint32_t p_link;
	uint32_t p_circ_id;
};

/* What the caller knows of the circuit a message arrived on. */
struct intro_circuit_info {
	/* it has an n side: tor's n_chan, "non-edge circuit" */
	bool has_next_hop;
	/* another role took it (rendezvous point): tor's purpose is no
	 * longer OR */
	bool other_purpose;
	/* the previous hop did not authenticate in the link handshake: tor's
	 * channel_is_client() */
	bool previous_hop_is_client;
};

/* What the module asks of the caller. ctx is intro_point_config.ctx. */
struct intro_point_ops {
	/* Originates a relay message (stream id 0) on circ towards its p
	 * side, with this hop's backward digest and key. Returns 0, or a
	 * negative errno when it could not be queued (tor's "circuit dead"). */
	int (*send)(void *ctx, const struct intro_circuit *circ, uint8_t relay_command,
			const uint8_t *body, size_t len);
	/* Closes circ with DESTROY(reason) to both sides. The module has
	 * already forgotten it. */
	void (*close)(void *ctx, const struct intro_circuit *circ, uint8_t reason);
	/* Asks to be told, through intro_point_circuit_closed(), when circ
	 * closes for any reason (also when it is gone already). */
	void (*watch)(void *ctx, const struct intro_circuit *circ);
	/* Optional. As send, and the caller later tells through
	 * intro_point_introduce2_sent(id, ...) whether the message was
	 * queued on circ or circ was gone (the worker's answer): the
	 * INTRODUCE_ACK waits for it. NULL: INTRODUCE2 goes out with send
	 * and the ACK at once. */
	int (*send_confirmed)(void *ctx, const struct intro_circuit *circ, uint8_t relay_command,
			const uint8_t *body, size_t len, uint32_t id);
	/* Optional. circ, the intro circuit of auth_key, is forgotten (it
	 * closed, was replaced or its link went); introduce2 INTRODUCE2
	 * messages were handed to send or send_confirmed on it. For the
	 * operator's log: which key stopped taking introductions, and when. */
	void (*intro_gone)(void *ctx, const struct intro_circuit *circ,
			const uint8_t auth_key[HS_AUTH_KEY_LEN], uint64_t introduce2);
};

/* The INTRODUCE2 defence defaults from the consensus (tor hs_dos.c):
 * HiddenServiceEnableIntroDoSDefense (0), ...RatePerSec (25),
 * ...BurstPerSec (200). */
struct intro_point_dos_defaults {
	bool enabled;
	uint32_t rate_per_sec;
	uint32_t burst_per_sec;
};

#define INTRO_POINT_MAX_CIRCUITS_DEFAULT 65536
/* INTRODUCE_ACKs waiting for the worker's word on their INTRODUCE2 (a
 * power of two); an introduction finding its slot taken is answered at
 * once, as without send_confirmed. */
#define INTRO_POINT_PENDING_ACKS 1024
/* An ACK whose answer did not come (the event was lost) is sent as
 * SUCCESS after this many seconds (intro_point_poll). */
#define INTRO_POINT_ACK_TIMEOUT_SEC 2
/* intro_point_introduce1(): the ACK waits for intro_point_introduce2_sent(). */
#define INTRO_POINT_ACK_PENDING 0x10000

struct intro_point_config {
	struct intro_point_ops ops;
	void *ctx;
	/* circuits with state here (intro circuits and client circuits that
	 * sent INTRODUCE1); 0: INTRO_POINT_MAX_CIRCUITS_DEFAULT */
	size_t max_circuits;
};

/* tor's est_intro_action_t and intro1_action_t, in tor's order; the names
 * are the label values of tor_relay_est_intro_total{action} and
 * tor_relay_intro1_total{action} (tor relay_metrics.c). */
enum intro_point_est_action {
	INTRO_EST_SUCCESS,
	INTRO_EST_MALFORMED,
	INTRO_EST_UNSUITABLE_CIRCUIT,
	INTRO_EST_CIRCUIT_DEAD,
	INTRO_EST_ACTIONS,
};

enum intro_point_intro1_action {
	INTRO1_SUCCESS,
	INTRO1_CIRCUIT_DEAD,
	INTRO1_MALFORMED,
	INTRO1_UNKNOWN_SERVICE,
	INTRO1_RATE_LIMITED,
	INTRO1_CIRCUIT_REUSED,
	INTRO1_SINGLE_HOP,
	INTRO1_ACTIONS,
};

const char *intro_point_est_action_name(enum intro_point_est_action action);
const char *intro_point_intro1_action_name(enum intro_point_intro1_action action);

struct intro_point_stats {
	uint64_t est_intro[INTRO_EST_ACTIONS];
	uint64_t intro1[INTRO1_ACTIONS];
	/* tor_relay_dos_total{type="introduce2_rejected"} */
	uint64_t introduce2_rejected;
	/* hsrelay's own */
	uint64_t replaced;		/* older intro circuit of a key closed */
	uint64_t no_kh;			/* ESTABLISH_INTRO without a known KH */
	uint64_t table_full;		/* closed: max_circuits reached */
	uint64_t intro_circuits;	/* gauge */
	uint64_t acks_pending;		/* gauge: waiting for the worker */
	/* ACKs sent without the worker's word: no pending slot free, or its
	 * answer did not come in time */
	uint64_t acks_unconfirmed;
	uint64_t circuits;		/* gauge: entries of either kind */
};

/* Allocates an empty introduction point with the consensus defaults of
 * tor 0.4.9 (defence off, 25/s, burst 200). NULL when out of memory or
 * when cfg->ops lacks a callback. */
struct intro_point *intro_point_new(const struct intro_point_config *cfg);

/* Frees ip (closing nothing). NULL is fine. */
void intro_point_free(struct intro_point *ip);

/* New consensus defaults: applied to later intro circuits and, as tor's
 * update_intro_circuits() does, to the existing ones whose parameters
 * did not come from an ESTABLISH_INTRO DoS extension (enabled flag set,
 * bucket capped at the new burst). */
void intro_point_set_dos_defaults(struct intro_point *ip,
		const struct intro_point_dos_defaults *defaults);

/* An ESTABLISH_INTRO body on circ (tor hs_intro_received_establish_intro):
 * hs_cells precheck, then the circuit (not an intro circuit already, no
 * next hop, no other role), then establish_intro_verify() with kh (NULL
 * when the caller does not know this hop's KH: refused as malformed),
 * then the DoS defaults and extensions, INTRO_ESTABLISHED on circ, and
 * the registration of the auth key (an older circuit with that key is
 * closed with FINISHED, as tor's circuitmap does). Any failure closes circ
 * with TORPROTOCOL and counts. Returns 0 when circ is now an intro circuit,
 * -EPROTO when it was refused (and closed), -ENOSPC when the table is full
 * (closed with RESOURCELIMIT). */
int intro_point_establish(struct intro_point *ip, const struct intro_circuit *circ,
		const struct intro_circuit_info *info, const uint8_t *kh,
		const uint8_t *body, size_t body_len, uint32_t now_sec);

/* An INTRODUCE1 body on circ (tor hs_intro_received_introduce1,
 * handle_introduce1): shorter than 20 bytes, or an unsuitable circuit (an
 * intro circuit, next hop, other role, a second INTRODUCE1, a client
 * previous hop) closes circ with TORPROTOCOL and no ACK; otherwise circ is
 * marked and answered with INTRODUCE_ACK: BAD_FORMAT for a message
 * hs_cells refuses, UNKNOWN_ID when no intro circuit has the auth key,
 * when its token bucket is empty or INTRODUCE2 cannot be sent, else
 * SUCCESS after INTRODUCE2 (the same body) went out on the intro circuit.
 * With ops.send_confirmed the last answer waits for the worker, as tor
 * answers after relay_send_command_from_edge() (hs_intropoint.c
 * handle_introduce1()): see intro_point_introduce2_sent(). Returns the
 * status sent (>= 0), INTRO_POINT_ACK_PENDING when the ACK waits,
 * -EPROTO when circ was closed, -ENOSPC when the table is full (closed
 * with RESOURCELIMIT). */
int intro_point_introduce1(struct intro_point *ip, const struct intro_circuit *circ,
		const struct intro_circuit_info *info, const uint8_t *body, size_t body_len,
		uint32_t now_sec);

/* The worker's answer for the INTRODUCE2 that ops.send_confirmed sent
 * with id: sent, and the client gets INTRODUCE_ACK SUCCESS (counted
 * success); or the intro circuit was gone (closed, its close report still
 * on the way), which tor, whose circuitmap skips circuits marked for close,
 * sees as no intro circuit for the key: ACK UNKNOWN_ID, counted
 * unknown_service, and the intro circuit is forgotten at once. Unknown or
 * answered ids are ignored. */
void intro_point_introduce2_sent(struct intro_point *ip, uint32_t id, bool sent);

/* Sends SUCCESS for ACKs that waited INTRO_POINT_ACK_TIMEOUT_SEC or more
 * without an answer (counted acks_unconfirmed). Call about once a second. */
void intro_point_poll(struct intro_point *ip, uint32_t now_sec);

/* circ closed (or its handle is free): its state goes, and an intro
 * circuit's auth key is unregistered. Only an exact match counts: a newer
 * circuit on a reused handle stays. */
void intro_point_circuit_closed(struct intro_point *ip, const struct intro_circuit *circ);

/* Every circuit whose p side was on link p_link is gone (the link
 * closed). */
void intro_point_link_closed(struct intro_point *ip, uint32_t p_link);

/* The circuit whose p side is (p_link, p_circ_id) is gone, whatever its
 * handle (a DESTROY the control thread saw). */
void intro_point_circuit_gone(struct intro_point *ip, uint32_t p_link, uint32_t p_circ_id);

/* Whether circ is an intro circuit here (tor's purpose INTRO_POINT), for
 * the other roles' purpose checks. */
bool intro_point_is_intro_circuit(const struct intro_point *ip,
		const struct intro_circuit *circ);

const struct intro_point_stats *intro_point_stats(const struct intro_point *ip);

#endif
