/* Streams at a circuit's last hop: windows, SENDMEs and Vegas; see
 * relay_stream.h for what is copied from tor and what is not. */
#include "control/relay_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* SENDME body (tor trunnel/sendme_cell.trunnel): version u8, data_len u16
 * IN [16, 20], data. */
#define SENDME_V1_BODY_LEN (1 + 2 + RELAY_STREAM_DIGEST_LEN)
#define SENDME_DATA_LEN_MIN 16
#define SENDME_DATA_LEN_MAX 20
/* The highest SENDME version we handle (sendme.h). */
#define SENDME_MAX_SUPPORTED_VERSION 1

/* Expected digests and Vegas timestamps pending at once: a fixed window
 * has at most 10; with congestion control cwnd is capped so that
 * cwnd / sendme_inc stays below this. */
#define PENDING_MAX 1024
/* Control cells (CONNECTED, END, SENDME) waiting to be taken. Each input
 * cell queues at most two, so a caller that drains after every input
 * never comes near. */
#define CONTROL_QUEUE_MAX 64

/* congestion_control_common.c and congestion_control_vegas.c defaults;
 * tor picks the exit-position Vegas parameters for a circuit that ends at
 * a relay. OUTBUF_CELLS = 2 * 31. */
#define CC_CWND_INIT (4 * 31)
#define CC_CWND_MIN (4 * 31)
#define CC_CWND_INC 1
#define CC_CWND_INC_PCT_SS 100
#define CC_CWND_INC_RATE 31
#define CC_OUTBUF_CELLS (2 * 31)
#define VEGAS_ALPHA (3 * CC_OUTBUF_CELLS)
#define VEGAS_BETA (4 * CC_OUTBUF_CELLS)
#define VEGAS_GAMMA (3 * CC_OUTBUF_CELLS)
#define VEGAS_DELTA (5 * CC_OUTBUF_CELLS)
#define VEGAS_SS_CWND_CAP 600
#define VEGAS_SS_CWND_MAX 5000
#define VEGAS_CWND_FULL_GAP 4
#define VEGAS_CWND_FULL_MINPCT 25
#define CC_N_EWMA_SS 2
#define CC_N_EWMA_MAX 10
#define CC_N_EWMA_CWND_PCT 50

enum stream_state {
	STREAM_FREE = 0,
	STREAM_OPEN,
	STREAM_FINISHING,	/* END goes out after the queued bytes */
};

struct stream {
	enum stream_state state;
	uint16_t id;
	uint8_t end_reason;
	bool xoff;		/* congestion control: client said XOFF */
	int package_window;
	int deliver_window;
	uint8_t *buf;		/* queued bytes [head, len) */
	size_t head, len, cap;
};

struct control_cell {
	uint8_t command;
	uint16_t stream_id;
	uint8_t length;
	uint8_t data[SENDME_V1_BODY_LEN];
};

struct relay_stream_circuit {
	struct relay_stream_params params;
	const struct relay_stream_callbacks *cb;
	void *ctx;
	bool dead;

	int deliver_window;
	int package_window;		/* without congestion control */

	/* Congestion control (Vegas). */
	uint32_t cwnd, cwnd_max;
	uint32_t inflight;
	bool in_slow_start, cwnd_full;
	uint32_t next_cc_event;
	uint64_t min_rtt, ewma_rtt;
	uint64_t bdp;
	uint64_t stamps[PENDING_MAX];
	size_t stamp_head, stamp_count;

	/* Digests the client's circuit SENDMEs must carry, oldest first. */
	uint8_t digests[PENDING_MAX][RELAY_STREAM_DIGEST_LEN];
	size_t digest_head, digest_count;

	struct control_cell control[CONTROL_QUEUE_MAX];
	size_t control_head, control_count;

	struct stream streams[RELAY_STREAM_MAX_STREAMS];
	size_t rr;
};

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

struct relay_stream_circuit *
relay_stream_circuit_new(const struct relay_stream_params *params,
		const struct relay_stream_callbacks *cb, void *ctx)
{
	struct relay_stream_circuit *circ;

	if (params == NULL || (params->cc_enabled &&
			(params->cc_sendme_inc < 1 || params->cc_sendme_inc > 254)))
		return NULL;
	circ = calloc(1, sizeof(*circ));
	if (circ == NULL)
		return NULL;
	circ->params = *params;
	circ->cb = cb;
	circ->ctx = ctx;
	circ->deliver_window = RELAY_STREAM_CIRCWINDOW_START;
	circ->package_window = RELAY_STREAM_CIRCWINDOW_START;
	if (params->cc_enabled) {
		uint32_t cap = (uint32_t)(PENDING_MAX - 1) * params->cc_sendme_inc;

		circ->cwnd = CC_CWND_INIT;
		circ->cwnd_max = cap < VEGAS_SS_CWND_MAX ? cap : VEGAS_SS_CWND_MAX;
		if (circ->cwnd_max < CC_CWND_MIN)
			circ->cwnd_max = CC_CWND_MIN;
		circ->in_slow_start = true;
		circ->next_cc_event = 1;
	}
	return circ;
}

static void
stream_release(struct stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

void
relay_stream_circuit_free(struct relay_stream_circuit *circ)
{
	if (circ == NULL)
		return;
	for (size_t i = 0; i < RELAY_STREAM_MAX_STREAMS; i++)
		stream_release(&circ->streams[i]);
	free(circ);
}

static struct stream *
stream_find(struct relay_stream_circuit *circ, uint16_t id)
{
	for (size_t i = 0; i < RELAY_STREAM_MAX_STREAMS; i++) {
		struct stream *s = &circ->streams[i];

		if (s->state != STREAM_FREE && s->id == id)
			return s;
	}
	return NULL;
}

static int
control_push(struct relay_stream_circuit *circ, uint8_t command,
		uint16_t stream_id, const uint8_t *data, uint8_t length)
{
	struct control_cell *c;

	if (circ->control_count == CONTROL_QUEUE_MAX)
		return -ENOBUFS;
	c = &circ->control[(circ->control_head + circ->control_count) %
			CONTROL_QUEUE_MAX];
	c->command = command;
	c->stream_id = stream_id;
	c->length = length;
	if (length > 0)
		memcpy(c->data, data, length);
	circ->control_count++;
	return 0;
}

static int
queue_end(struct relay_stream_circuit *circ, uint16_t stream_id,
		uint8_t reason)
{
	return control_push(circ, RELAY_COMMAND_END, stream_id, &reason, 1);
}

/* Marks the circuit for a protocol close and returns the error to hand up. */
static int
circuit_fail(struct relay_stream_circuit *circ, int err)
{
	circ->dead = true;
	return err;
}

static int
handle_begin_dir(struct relay_stream_circuit *circ, uint16_t stream_id)
{
	struct stream *slot = NULL;

	/* relay.c handle_relay_msg: "Begin cell for known stream. Dropping." */
	if (stream_find(circ, stream_id) != NULL)
		return 0;
	if (circ->cb != NULL && circ->cb->open != NULL &&
			!circ->cb->open(circ->ctx, stream_id))
		return queue_end(circ, stream_id,
				RELAY_END_REASON_NOTDIRECTORY);
	for (size_t i = 0; i < RELAY_STREAM_MAX_STREAMS; i++) {
		if (circ->streams[i].state == STREAM_FREE) {
			slot = &circ->streams[i];
			break;
		}
	}
	if (slot == NULL) {
		if (circ->cb != NULL && circ->cb->end != NULL)
			circ->cb->end(circ->ctx, stream_id,
					RELAY_END_REASON_RESOURCELIMIT);
		return queue_end(circ, stream_id,
				RELAY_END_REASON_RESOURCELIMIT);
	}
	slot->state = STREAM_OPEN;
	slot->id = stream_id;
	slot->package_window = RELAY_STREAM_STREAMWINDOW_START;
	slot->deliver_window = RELAY_STREAM_STREAMWINDOW_START;
	/* connection_exit_connect_dir: CONNECTED with no body. */
	return control_push(circ, RELAY_COMMAND_CONNECTED, stream_id, NULL, 0);
}

static int
handle_data(struct relay_stream_circuit *circ, uint16_t stream_id,
		const uint8_t *body, uint16_t length, const uint8_t *digest)
{
	unsigned inc = circ->params.cc_enabled ? circ->params.cc_sendme_inc :
			RELAY_STREAM_CIRCWINDOW_INCREMENT;
	struct stream *s;
	int rc;

	/* relay.c connection_edge_process_relay_cell: the circuit window
	 * counts every DATA cell, before the stream is looked at. */
	if (--circ->deliver_window < 0)
		return circuit_fail(circ, -EPROTO);
	/* sendme.c sendme_circuit_consider_sending: at most one SENDME per
	 * cell, tagged with this cell's digest. */
	if (circ->deliver_window <= RELAY_STREAM_CIRCWINDOW_START - (int)inc) {
		uint8_t body_v1[SENDME_V1_BODY_LEN];

		circ->deliver_window += (int)inc;
		body_v1[0] = 1;
		body_v1[1] = 0;
		body_v1[2] = RELAY_STREAM_DIGEST_LEN;
		memcpy(body_v1 + 3, digest, RELAY_STREAM_DIGEST_LEN);
		rc = control_push(circ, RELAY_COMMAND_SENDME, 0, body_v1,
				SENDME_V1_BODY_LEN);
		if (rc < 0)
			return circuit_fail(circ, rc);
	}
	if (stream_id == 0)
		return 0;
	s = stream_find(circ, stream_id);
	if (s == NULL)
		return 0;	/* "data cell dropped, unknown stream" */
	if (!circ->params.cc_enabled && --s->deliver_window < 0) {
		/* Killing the stream is moot: the circuit goes. */
		return circuit_fail(circ, -EPROTO);
	}
	if (circ->cb != NULL && circ->cb->data != NULL && length > 0)
		circ->cb->data(circ->ctx, stream_id, body, length);
	/* The consumer may have finished the stream from the callback; the
	 * stream SENDME is still due while it lives (tor checks the edge's
	 * outbuf, which we never fill). */
	s = stream_find(circ, stream_id);
	if (s != NULL && !circ->params.cc_enabled &&
			s->deliver_window <= RELAY_STREAM_STREAMWINDOW_START -
			RELAY_STREAM_STREAMWINDOW_INCREMENT) {
		s->deliver_window += RELAY_STREAM_STREAMWINDOW_INCREMENT;
		rc = control_push(circ, RELAY_COMMAND_SENDME, stream_id, NULL, 0);
		if (rc < 0)
			return circuit_fail(circ, rc);
	}
	return 0;
}

static void
handle_end(struct relay_stream_circuit *circ, uint16_t stream_id,
		const uint8_t *body, uint16_t length)
{
	uint8_t reason = length > 0 ? body[0] : RELAY_END_REASON_MISC;
	struct stream *s = stream_find(circ, stream_id);

	if (s == NULL)
		return;
	stream_release(s);
	if (circ->cb != NULL && circ->cb->end != NULL)
		circ->cb->end(circ->ctx, stream_id, reason);
}

/* sendme.c sendme_is_valid. */
static bool
circuit_sendme_valid(struct relay_stream_circuit *circ, const uint8_t *body,
		uint16_t length)
{
	const uint8_t *expected;
	unsigned version = 0;
	uint16_t data_len = 0;

	if (length > 0) {
		version = body[0];
		if (length < 3)
			return false;
		data_len = get_be16(body + 1);
		/* trunnel: version IN [0, 1], data_len IN [16, 20], the data
		 * inside the body. */
		if (version > 1 || data_len < SENDME_DATA_LEN_MIN ||
				data_len > SENDME_DATA_LEN_MAX ||
				(size_t)data_len + 3 > length)
			return false;
	}
	if (circ->params.sendme_accept_min_version >
			SENDME_MAX_SUPPORTED_VERSION ||
			version < circ->params.sendme_accept_min_version)
		return false;
	if (circ->digest_count == 0)
		return false;
	expected = circ->digests[circ->digest_head];
	circ->digest_head = (circ->digest_head + 1) % PENDING_MAX;
	circ->digest_count--;
	if (version == 0)
		return true;
	/* cell_v1_is_valid: a tor1 circuit expects a 20-byte tag. */
	if (data_len != RELAY_STREAM_DIGEST_LEN)
		return false;
	return memcmp(expected, body + 3, RELAY_STREAM_DIGEST_LEN) == 0;
}

static uint64_t
vegas_ewma_n(const struct relay_stream_circuit *circ)
{
	uint64_t n;

	if (circ->in_slow_start)
		return CC_N_EWMA_SS;
	n = (uint64_t)circ->cwnd * CC_N_EWMA_CWND_PCT / 100 /
			circ->params.cc_sendme_inc;
	if (n < 2)
		n = 2;
	if (n > CC_N_EWMA_MAX)
		n = CC_N_EWMA_MAX;
	return n;
}

static uint64_t
rfc3742_ss_inc(const struct relay_stream_circuit *circ)
{
	uint64_t inc_unit = circ->params.cc_sendme_inc;

	if (circ->cwnd <= VEGAS_SS_CWND_CAP)
		return (CC_CWND_INC_PCT_SS * inc_unit + 50) / 100;
	inc_unit = (inc_unit * VEGAS_SS_CWND_CAP + circ->cwnd) /
			(2 * (uint64_t)circ->cwnd);
	return inc_unit > 0 ? inc_unit : 1;
}

/* congestion_control_vegas.c congestion_control_vegas_process_sendme,
 * reduced (relay_stream.h). */
static void
vegas_process_sendme(struct relay_stream_circuit *circ, uint64_t now_usec)
{
	uint64_t sent_at = 0, rtt, queue_use, cwnd;
	unsigned inc = circ->params.cc_sendme_inc;

	if (circ->stamp_count > 0) {
		sent_at = circ->stamps[circ->stamp_head];
		circ->stamp_head = (circ->stamp_head + 1) % PENDING_MAX;
		circ->stamp_count--;
	}
	if (circ->next_cc_event > 0)
		circ->next_cc_event--;
	/* cwnd_became_full / cwnd_became_nonfull, before inflight drops. */
	if (circ->inflight + VEGAS_CWND_FULL_GAP * inc >= circ->cwnd)
		circ->cwnd_full = true;
	else if ((uint64_t)circ->inflight * 100 <
			(uint64_t)VEGAS_CWND_FULL_MINPCT * circ->cwnd)
		circ->cwnd_full = false;
	circ->inflight = circ->inflight >= inc ? circ->inflight - inc : 0;

	if (sent_at == 0 || now_usec <= sent_at)
		return;	/* no RTT sample: tor skips the algorithm too */
	rtt = now_usec - sent_at;
	if (circ->ewma_rtt == 0) {
		circ->ewma_rtt = rtt;
	} else {
		uint64_t n = vegas_ewma_n(circ);

		circ->ewma_rtt = (2 * rtt + (n - 1) * circ->ewma_rtt) / (n + 1);
	}
	if (circ->min_rtt == 0 || circ->ewma_rtt < circ->min_rtt)
		circ->min_rtt = circ->ewma_rtt;
	circ->bdp = (uint64_t)circ->cwnd * circ->min_rtt / circ->ewma_rtt;
	queue_use = circ->bdp > circ->cwnd ? 0 : circ->cwnd - circ->bdp;
	cwnd = circ->cwnd;

	if (circ->in_slow_start) {
		if (queue_use < VEGAS_GAMMA) {
			if (circ->cwnd_full)
				cwnd += rfc3742_ss_inc(circ);
		} else {
			cwnd = circ->bdp + VEGAS_GAMMA;
			circ->in_slow_start = false;
		}
		if (cwnd >= VEGAS_SS_CWND_MAX) {
			cwnd = VEGAS_SS_CWND_MAX;
			circ->in_slow_start = false;
		}
	} else if (circ->next_cc_event == 0) {
		if (queue_use > VEGAS_DELTA)
			cwnd = circ->bdp + VEGAS_DELTA - CC_CWND_INC;
		else if (queue_use > VEGAS_BETA)
			cwnd -= CC_CWND_INC;
		else if (circ->cwnd_full && queue_use < VEGAS_ALPHA)
			cwnd += CC_CWND_INC;
	}
	if (cwnd < CC_CWND_MIN)
		cwnd = CC_CWND_MIN;
	if (cwnd > circ->cwnd_max)
		cwnd = circ->cwnd_max;
	circ->cwnd = (uint32_t)cwnd;
	if (circ->next_cc_event == 0) {
		uint32_t rate = circ->in_slow_start ? 1 :
				circ->cwnd / (CC_CWND_INC_RATE * inc);

		circ->next_cc_event = rate > 0 ? rate : 1;
	}
}

static int
handle_sendme(struct relay_stream_circuit *circ, uint16_t stream_id,
		const uint8_t *body, uint16_t length, uint64_t now_usec)
{
	struct stream *s;

	if (stream_id == 0) {
		if (!circuit_sendme_valid(circ, body, length))
			return circuit_fail(circ, -EPROTO);
		if (circ->params.cc_enabled) {
			vegas_process_sendme(circ, now_usec);
			return 0;
		}
		if (circ->package_window + RELAY_STREAM_CIRCWINDOW_INCREMENT >
				RELAY_STREAM_CIRCWINDOW_START)
			return circuit_fail(circ, -EPROTO);
		circ->package_window += RELAY_STREAM_CIRCWINDOW_INCREMENT;
		return 0;
	}
	s = stream_find(circ, stream_id);
	if (s == NULL)
		return 0;	/* "SENDME cell dropped, unknown stream" */
	if (circ->params.cc_enabled)
		return circuit_fail(circ, -EPROTO);
	if (s->package_window + RELAY_STREAM_STREAMWINDOW_INCREMENT >
			RELAY_STREAM_STREAMWINDOW_START)
		return circuit_fail(circ, -EPROTO);
	s->package_window += RELAY_STREAM_STREAMWINDOW_INCREMENT;
	return 0;
}

static void
handle_xon_xoff(struct relay_stream_circuit *circ, uint8_t command,
		uint16_t stream_id)
{
	struct stream *s = stream_find(circ, stream_id);

	/* congestion_control_flow.c: without congestion control XON and XOFF
	 * are protocol warnings and dropped. */
	if (s == NULL || !circ->params.cc_enabled)
		return;
	s->xoff = command == RELAY_COMMAND_XOFF;
}

int
relay_stream_receive(struct relay_stream_circuit *circ,
		const uint8_t *payload, const uint8_t *digest,
		uint64_t now_usec)
{
	uint8_t command;
	uint16_t stream_id, length;
	const uint8_t *body;

	if (circ->dead)
		return -EPROTO;
	command = payload[RELAY_OFFSET_COMMAND];
	stream_id = get_be16(payload + RELAY_OFFSET_STREAM_ID);
	length = get_be16(payload + RELAY_OFFSET_LENGTH);
	body = payload + RELAY_HEADER_LEN;
	if (length > RELAY_DATA_MAX)
		return circuit_fail(circ, -EPROTO);

	if (stream_id == 0) {
		switch (command) {
		case RELAY_COMMAND_BEGIN:
		case RELAY_COMMAND_CONNECTED:
		case RELAY_COMMAND_END:
		case RELAY_COMMAND_RESOLVE:
		case RELAY_COMMAND_RESOLVED:
		case RELAY_COMMAND_BEGIN_DIR:
			return 0;
		default:
			break;
		}
	}
	switch (command) {
	case RELAY_COMMAND_BEGIN_DIR: {
		int rc = handle_begin_dir(circ, stream_id);

		return rc < 0 ? circuit_fail(circ, rc) : 0;
	}
	case RELAY_COMMAND_BEGIN:
		if (stream_find(circ, stream_id) != NULL)
			return 0;
		if (queue_end(circ, stream_id, RELAY_END_REASON_EXITPOLICY) < 0)
			return circuit_fail(circ, -ENOBUFS);
		return 0;
	case RELAY_COMMAND_DATA:
		return handle_data(circ, stream_id, body, length, digest);
	case RELAY_COMMAND_END:
		handle_end(circ, stream_id, body, length);
		return 0;
	case RELAY_COMMAND_SENDME:
		return handle_sendme(circ, stream_id, body, length, now_usec);
	case RELAY_COMMAND_XOFF:
	case RELAY_COMMAND_XON:
		handle_xon_xoff(circ, command, stream_id);
		return 0;
	default:
		/* Unknown and unhandled commands are dropped (relay.c "for
		 * forward compatibility, don't kill the circuit"). */
		return 0;
	}
}

int
relay_stream_note_sent_digest(struct relay_stream_circuit *circ,
		const uint8_t *digest)
{
	if (circ->digest_count == PENDING_MAX)
		return -ENOSPC;
	memcpy(circ->digests[(circ->digest_head + circ->digest_count) %
			PENDING_MAX], digest, RELAY_STREAM_DIGEST_LEN);
	circ->digest_count++;
	return 0;
}

int
relay_stream_write(struct relay_stream_circuit *circ, uint16_t stream_id,
		const uint8_t *data, size_t len)
{
	struct stream *s;

	if (circ->dead)
		return -EPIPE;
	s = stream_find(circ, stream_id);
	if (s == NULL || s->state != STREAM_OPEN)
		return -ENOENT;
	if (len == 0)
		return 0;
	if (len > RELAY_STREAM_SEND_MAX - (s->len - s->head))
		return -EMSGSIZE;
	if (s->head > 0 && s->len + len > s->cap) {
		memmove(s->buf, s->buf + s->head, s->len - s->head);
		s->len -= s->head;
		s->head = 0;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap > 0 ? s->cap : 4096;
		uint8_t *buf;

		while (cap < s->len + len)
			cap *= 2;
		buf = realloc(s->buf, cap);
		if (buf == NULL)
			return -ENOMEM;
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

int
relay_stream_finish(struct relay_stream_circuit *circ, uint16_t stream_id,
		uint8_t reason)
{
	struct stream *s = stream_find(circ, stream_id);

	if (s == NULL)
		return -ENOENT;
	s->state = STREAM_FINISHING;
	s->end_reason = reason;
	return 0;
}

static bool
circuit_may_send(const struct relay_stream_circuit *circ)
{
	if (circ->params.cc_enabled)
		return circ->inflight < circ->cwnd;
	return circ->package_window > 0;
}

/* congestion_control_common.c circuit_sent_cell_for_sendme, then the
 * window accounting of sendme_note_circuit_data_packaged. */
static bool
note_data_packaged(struct relay_stream_circuit *circ, uint64_t now_usec)
{
	bool expect_sendme;

	if (circ->params.cc_enabled) {
		expect_sendme = circ->inflight > 0 &&
				(circ->inflight + 1) % circ->params.cc_sendme_inc == 0;
		circ->inflight++;
		if (expect_sendme && circ->stamp_count < PENDING_MAX) {
			circ->stamps[(circ->stamp_head + circ->stamp_count) %
					PENDING_MAX] = now_usec;
			circ->stamp_count++;
		}
		return expect_sendme;
	}
	expect_sendme = circ->package_window != RELAY_STREAM_CIRCWINDOW_START &&
			(circ->package_window - 1) %
			RELAY_STREAM_CIRCWINDOW_INCREMENT == 0;
	circ->package_window--;
	return expect_sendme;
}

int
relay_stream_next_cell(struct relay_stream_circuit *circ, uint64_t now_usec,
		struct relay_stream_cell *out)
{
	if (circ->dead)
		return -EPIPE;
	out->report_digest = false;
	if (circ->control_count > 0) {
		const struct control_cell *c = &circ->control[circ->control_head];

		out->command = c->command;
		out->stream_id = c->stream_id;
		out->length = c->length;
		memcpy(out->data, c->data, c->length);
		circ->control_head = (circ->control_head + 1) % CONTROL_QUEUE_MAX;
		circ->control_count--;
		return 1;
	}
	for (size_t n = 0; n < RELAY_STREAM_MAX_STREAMS; n++) {
		size_t i = (circ->rr + n) % RELAY_STREAM_MAX_STREAMS;
		struct stream *s = &circ->streams[i];
		size_t avail, chunk;

		if (s->state == STREAM_FREE)
			continue;
		avail = s->len - s->head;
		if (avail == 0) {
			if (s->state != STREAM_FINISHING)
				continue;
			out->command = RELAY_COMMAND_END;
			out->stream_id = s->id;
			out->length = 1;
			out->data[0] = s->end_reason;
			stream_release(s);
			circ->rr = (i + 1) % RELAY_STREAM_MAX_STREAMS;
			return 1;
		}
		if (!circuit_may_send(circ))
			continue;
		if (circ->params.cc_enabled ? s->xoff : s->package_window <= 0)
			continue;
		chunk = avail < RELAY_DATA_MAX ? avail : RELAY_DATA_MAX;
		out->command = RELAY_COMMAND_DATA;
		out->stream_id = s->id;
		out->length = (uint16_t)chunk;
		memcpy(out->data, s->buf + s->head, chunk);
		s->head += chunk;
		if (s->head == s->len)
			s->head = s->len = 0;
		if (!circ->params.cc_enabled)
			s->package_window--;
		out->report_digest = note_data_packaged(circ, now_usec);
		circ->rr = (i + 1) % RELAY_STREAM_MAX_STREAMS;
		return 1;
	}
	return 0;
}

size_t
relay_stream_count(const struct relay_stream_circuit *circ)
{
	size_t n = 0;

	for (size_t i = 0; i < RELAY_STREAM_MAX_STREAMS; i++)
		n += circ->streams[i].state != STREAM_FREE;
	return n;
}

int
relay_stream_circuit_window(const struct relay_stream_circuit *circ)
{
	if (circ->params.cc_enabled)
		return circ->inflight < circ->cwnd ?
				(int)(circ->cwnd - circ->inflight) : 0;
	return circ->package_window;
}

uint32_t
relay_stream_cwnd(const struct relay_stream_circuit *circ)
{
	return circ->params.cc_enabled ? circ->cwnd : 0;
}
