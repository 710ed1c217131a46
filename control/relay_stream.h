/* Streams on a circuit that ends at this relay (tor-spec "Opening streams
 * and transferring data", "Closing streams", "Flow control"; prop 289
 * authenticated SENDMEs; prop 324 congestion control): the BEGIN_DIR
 * streams of a directory cache.
 *
 * Pure: no DPDK, no I/O, no clock. The caller feeds the relay payloads the
 * worker recognized at this hop (509 bytes, already decrypted and
 * digest-checked) together with the 20-byte running digest after that cell
 * (tor1 "sendme_digest": relay_crypto_tor1.c keeps the full SHA-1 of Df
 * after every recognized cell), and takes the cells to originate towards
 * the client out of an output queue, in order.
 *
 * What the module copies from tor 0.4.9 (src/core/or/):
 *   - relay.c connection_edge_process_relay_cell: every DATA cell, for a
 *     known stream or not, counts against the circuit deliver window
 *     (1000); below 0 closes the circuit (TORPROTOCOL). A circuit SENDME is
 *     queued at once when the window is at or below 1000 - increment
 *     (sendme.c sendme_circuit_consider_sending), carrying version 1 and
 *     the digest of the DATA cell that triggered it (sendme.c
 *     build_cell_payload_v1; the tag is relay_crypto_get_sendme_tag, the
 *     digest of the last recognized cell);
 *   - stream deliver window 500, SENDME (empty) at or below 450
 *     (sendme_connection_edge_consider_sending); below 0 closes;
 *   - circuit SENDME in (sendme.c sendme_is_valid): v0 is an empty body,
 *     otherwise version (u8, 0 or 1), data_len (u16, 16..20), data; the
 *     first expected digest is popped even for v0; no expected digest, a
 *     version below the accepted minimum, or a digest mismatch closes the
 *     circuit with TORPROTOCOL. The package window may not exceed 1000
 *     (sendme_process_circuit_level_impl);
 *   - an expected digest is recorded after the DATA cell that leaves the
 *     package window at a multiple of 100 below 1000
 *     (congestion_control_common.c circuit_sent_cell_for_sendme: the
 *     window before this cell, minus one, is a multiple of 100), or with
 *     congestion control when (inflight + 1) is a multiple of
 *     cc_sendme_inc and inflight > 0;
 *   - stream SENDME in: package window + 50 > 500 closes the circuit;
 *     with congestion control a stream SENDME closes the circuit
 *     (sendme_process_stream_level);
 *   - BEGIN_DIR (connection_edge.c connection_exit_begin_conn and
 *     connection_exit_connect_dir): CONNECTED with an empty body, or END
 *     NOTDIRECTORY when the consumer refuses; a BEGIN_DIR for a known
 *     stream, and BEGIN/END/CONNECTED/BEGIN_DIR/RESOLVE/RESOLVED with
 *     stream id 0 are dropped; BEGIN (we are no exit) gets END EXITPOLICY;
 *   - END in: reason is the first body byte or MISC; the stream is gone,
 *     no END goes back;
 *   - with congestion control (prop 324, congestion_control_flow.c),
 *     XOFF stops a stream's data and XON resumes it; we never send XOFF,
 *     because the consumer takes data as it arrives (bounded requests).
 *     The XON rate field is ignored (no per-stream rate limit).
 *   - Vegas (congestion_control_vegas.c), reduced: cwnd starts at
 *     4 * 31 = 124 cells, cwnd_min 124; one timestamp per cc_sendme_inc
 *     cells; RTT samples give min_rtt and an EWMA (N 2 in slow start, else
 *     clamp(cwnd/sendme_inc/2, 2, 10)); bdp = cwnd * min_rtt / ewma_rtt;
 *     exit-position parameters (alpha 186, beta 248, gamma 186, delta 310,
 *     ss cap 600, ss cwnd max 5000); slow start grows by rfc3742_ss_inc
 *     when the window was full and leaves at queue_use >= gamma with
 *     cwnd = bdp + gamma; in steady state, once per cwnd_update_rate
 *     SENDMEs: above delta cwnd = bdp + delta - 1, above beta cwnd - 1,
 *     below alpha (window full) cwnd + 1. Not copied: the blocked-channel
 *     signal, the BDP clock-stall heuristics and conflux.
 *
 * Only DATA cells count against windows; CONNECTED, END and SENDME do not.
 * Output order: control cells (CONNECTED, END, SENDME) first, in the order
 * they were queued, then DATA round-robin over the streams that may send.
 */
#ifndef HSRELAY_CONTROL_RELAY_STREAM_H
#define HSRELAY_CONTROL_RELAY_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/cell.h"

/* tor or.h */
#define RELAY_STREAM_CIRCWINDOW_START 1000
#define RELAY_STREAM_CIRCWINDOW_INCREMENT 100
#define RELAY_STREAM_STREAMWINDOW_START 500
#define RELAY_STREAM_STREAMWINDOW_INCREMENT 50
/* The tor1 SENDME tag: a SHA-1 digest (sendme.h SENDME_TAG_LEN_TOR1). */
#define RELAY_STREAM_DIGEST_LEN 20
/* Streams open at once on one circuit; a BEGIN_DIR beyond gets END
 * RESOURCELIMIT. */
#define RELAY_STREAM_MAX_STREAMS 16
/* Bytes a stream may hold queued for sending (a consensus is ~3 MB). */
#define RELAY_STREAM_SEND_MAX (16u << 20)

/* RELAY_END reasons (tor-spec "Closing streams"). */
enum relay_end_reason {
	RELAY_END_REASON_MISC = 1,
	RELAY_END_REASON_RESOLVEFAILED = 2,
	RELAY_END_REASON_CONNECTREFUSED = 3,
	RELAY_END_REASON_EXITPOLICY = 4,
	RELAY_END_REASON_DESTROY = 5,
	RELAY_END_REASON_DONE = 6,
	RELAY_END_REASON_TIMEOUT = 7,
	RELAY_END_REASON_NOROUTE = 8,
	RELAY_END_REASON_HIBERNATING = 9,
	RELAY_END_REASON_INTERNAL = 10,
	RELAY_END_REASON_RESOURCELIMIT = 11,
	RELAY_END_REASON_CONNRESET = 12,
	RELAY_END_REASON_TORPROTOCOL = 13,
	RELAY_END_REASON_NOTDIRECTORY = 14,
};

/* What the stream consumer (the directory server) is told. All optional. */
struct relay_stream_callbacks {
	/* A BEGIN_DIR for a new stream: return true to accept (CONNECTED is
	 * queued), false to refuse (END NOTDIRECTORY). NULL accepts. */
	bool (*open)(void *ctx, uint16_t stream_id);
	/* Bytes of a DATA cell on an open stream. */
	void (*data)(void *ctx, uint16_t stream_id, const uint8_t *data,
			size_t len);
	/* The client ended the stream (reason as sent). */
	void (*end)(void *ctx, uint16_t stream_id, uint8_t reason);
};

struct relay_stream_params {
	/* ntor-v3 negotiated congestion control (circuit_handshake.h
	 * result.cc_enabled / cc_sendme_inc). */
	bool cc_enabled;
	uint8_t cc_sendme_inc;			/* 1..254 when cc_enabled */
	/* Consensus sendme_accept_min_version (tor's default 0). */
	uint8_t sendme_accept_min_version;
};

/* One cell to originate towards the client. */
struct relay_stream_cell {
	uint8_t command;
	uint16_t stream_id;
	uint16_t length;
	uint8_t data[RELAY_DATA_MAX];
	/* The caller must report the running digest after originating this
	 * cell with relay_stream_note_sent_digest() (prop 289): the client's
	 * next circuit SENDME will carry it. */
	bool report_digest;
};

struct relay_stream_circuit;

/* A new circuit endpoint. cb may be NULL; cb and ctx are borrowed for the
 * circuit's life. NULL on allocation failure or bad params (-EINVAL
 * cases: cc_enabled with cc_sendme_inc 0 or 255). */
struct relay_stream_circuit *relay_stream_circuit_new(
		const struct relay_stream_params *params,
		const struct relay_stream_callbacks *cb, void *ctx);

/* Frees the circuit, its streams and queued bytes; no callbacks. NULL is
 * fine. */
void relay_stream_circuit_free(struct relay_stream_circuit *circ);

/* Handles one relay payload recognized at this hop (CELL_PAYLOAD_LEN
 * bytes, header as tor-spec 6.1) whose running digest after the cell is
 * digest (RELAY_STREAM_DIGEST_LEN bytes). now_usec is a monotonic clock
 * (Vegas RTT). Returns 0 (cells may have been queued), or -EPROTO: the
 * circuit must be destroyed with reason DESTROY_REASON_PROTOCOL (tor's
 * END_CIRC_REASON_TORPROTOCOL); or -ENOBUFS: the control-cell queue is
 * full because the caller did not drain relay_stream_next_cell() between
 * inputs (destroy with DESTROY_REASON_RESOURCELIMIT). After either, the
 * circuit object refuses further input and output but must still be
 * freed. */
int relay_stream_receive(struct relay_stream_circuit *circ,
		const uint8_t *payload, const uint8_t *digest,
		uint64_t now_usec);

/* Records the running digest after the caller originated a cell that had
 * report_digest set, in the order those cells were sent. -ENOSPC when more
 * digests are pending than the window allows (a caller bug). */
int relay_stream_note_sent_digest(struct relay_stream_circuit *circ,
		const uint8_t *digest);

/* Queues len bytes to send on stream_id (copied). -ENOENT for a stream
 * that is not open or already finishing, -EMSGSIZE beyond
 * RELAY_STREAM_SEND_MAX queued, -ENOMEM, -EPIPE after a protocol close. */
int relay_stream_write(struct relay_stream_circuit *circ, uint16_t stream_id,
		const uint8_t *data, size_t len);

/* Ends stream_id with reason once its queued bytes are sent (reason DONE
 * for a finished response); -ENOENT for an unknown stream. */
int relay_stream_finish(struct relay_stream_circuit *circ, uint16_t stream_id,
		uint8_t reason);

/* The next cell to originate, written to out: returns 1, or 0 when nothing
 * may be sent now (empty, or the windows are closed until a SENDME),
 * -EPIPE after a protocol close. now_usec: as in relay_stream_receive. */
int relay_stream_next_cell(struct relay_stream_circuit *circ,
		uint64_t now_usec, struct relay_stream_cell *out);

/* Number of open streams (also those finishing). */
size_t relay_stream_count(const struct relay_stream_circuit *circ);

/* Cells that may still be sent before a SENDME (circuit level): the
 * package window, or cwnd - inflight with congestion control. */
int relay_stream_circuit_window(const struct relay_stream_circuit *circ);

/* The current Vegas cwnd (0 without congestion control), for tests and
 * metrics. */
uint32_t relay_stream_cwnd(const struct relay_stream_circuit *circ);

#endif
