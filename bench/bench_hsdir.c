/* A v3 descriptor, its upload and its fetches for the rendezvous bench:
 * see bench_hsdir.h. */
#include "bench/bench_hsdir.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/hs_descriptor.h"
#include "crypto/tor_keys.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"

/* rend-spec-v3 2.4: descriptor-lifetime in minutes, as tor services set
 * it (3 h). */
#define DESCRIPTOR_LIFETIME_MIN 180
#define CERT_LIFETIME_S (3 * 24 * 3600)
/* tor or.h: the windows a tor 0.4.9 client without congestion control
 * keeps (sendme.c). */
#define CIRCWINDOW_START 1000
#define CIRCWINDOW_INCREMENT 100
#define STREAMWINDOW_START 500
#define STREAMWINDOW_INCREMENT 50
/* tor relay.h END_STREAM_REASON_DONE. */
#define END_REASON_DONE 6
#define MAX_PARALLEL 64

/* A growing text buffer; a failed allocation is remembered. */
struct text {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void
text_add(struct text *t, const void *data, size_t len)
{
	if (t->failed)
		return;
	if (t->len + len + 1 > t->cap) {
		size_t cap = (t->len + len + 1) * 2;
		uint8_t *p = realloc(t->p, cap);

		if (p == NULL) {
			t->failed = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, data, len);
	t->len += len;
	t->p[t->len] = '\0';
}

static void
text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

/* label's object: padded base64 in 64-character lines (tor's
 * BASE64_ENCODE_MULTILINE). */
static void
text_object(struct text *t, const char *label, const uint8_t *data, size_t len)
{
	size_t encoded_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *encoded = malloc(encoded_len), line[80];

	if (encoded == NULL) {
		t->failed = true;
		return;
	}
	sodium_bin2base64(encoded, encoded_len, data, len, sodium_base64_VARIANT_ORIGINAL);
	encoded_len = strlen(encoded);
	snprintf(line, sizeof(line), "-----BEGIN %s-----\n", label);
	text_str(t, line);
	for (size_t off = 0; off < encoded_len; off += 64) {
		text_add(t, encoded + off, encoded_len - off < 64 ? encoded_len - off : 64);
		text_str(t, "\n");
	}
	snprintf(line, sizeof(line), "-----END %s-----\n", label);
	text_str(t, line);
	free(encoded);
}

int
bench_hs_descriptor_make(struct bench_hs_descriptor *d, size_t superencrypted_len,
		uint64_t revision, time_t now)
{
	struct ed25519_keypair blinded, signing;
	uint8_t cert[TORCERT_WITH_SIGNING_KEY_LEN + 16], sig[ED25519_SIGNATURE_LEN];
	char line[128], sig64[sodium_base64_ENCODED_LEN(ED25519_SIGNATURE_LEN,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	size_t prefix_len = strlen(HS_DESC_SIG_PREFIX);
	struct text t = { .p = NULL };
	uint8_t *blob = malloc(superencrypted_len), *signed_part = NULL;
	ssize_t cert_len;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (blob == NULL)
		return -ENOMEM;
	if (ed25519_keypair_generate(&blinded) != 0 || ed25519_keypair_generate(&signing) != 0) {
		rc = -EIO;
		goto out;
	}
	memcpy(d->blinded_key, blinded.public_key, sizeof(d->blinded_key));
	/* cert-spec: type 08, the descriptor signing key certified by the
	 * blinded key, which extension 04 carries (rend-spec-v3 2.4). */
	cert_len = torcert_create(TORCERT_TYPE_HS_DESC_SIGNING, TORCERT_KEY_TYPE_ED25519,
			signing.public_key, torcert_hours_from_time(now + CERT_LIFETIME_S), &blinded,
			true, cert, sizeof(cert));
	if (cert_len < 0) {
		rc = (int)cert_len;
		goto out;
	}
	randombytes_buf(blob, superencrypted_len);
	text_str(&t, "hs-descriptor 3\n");
	snprintf(line, sizeof(line), "descriptor-lifetime %u\n", DESCRIPTOR_LIFETIME_MIN);
	text_str(&t, line);
	text_str(&t, "descriptor-signing-key-cert\n");
	text_object(&t, "ED25519 CERT", cert, (size_t)cert_len);
	snprintf(line, sizeof(line), "revision-counter %" PRIu64 "\n", revision);
	text_str(&t, line);
	text_str(&t, "superencrypted\n");
	text_object(&t, "MESSAGE", blob, superencrypted_len);
	if (t.failed) {
		rc = -ENOMEM;
		goto out;
	}
	/* The signature covers the prefix and every byte before "signature "
	 * (tor hs_descriptor.c desc_sig_is_valid). */
	signed_part = malloc(prefix_len + t.len);
	if (signed_part == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(signed_part, HS_DESC_SIG_PREFIX, prefix_len);
	memcpy(signed_part + prefix_len, t.p, t.len);
	rc = ed25519_sign(sig, signed_part, prefix_len + t.len, &signing);
	if (rc < 0)
		goto out;
	sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig),
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	text_str(&t, "signature ");
	text_str(&t, sig64);
	text_str(&t, "\n");
	if (t.failed) {
		rc = -ENOMEM;
		goto out;
	}
	d->text = t.p;
	d->len = t.len;
	t.p = NULL;
	{
		char key64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

		sodium_bin2base64(key64, sizeof(key64), d->blinded_key, sizeof(d->blinded_key),
				sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
		snprintf(d->url, sizeof(d->url), "/tor/hs/3/%s", key64);
	}
out:
	free(t.p);
	free(blob);
	free(signed_part);
	sodium_memzero(&blinded, sizeof(blinded));
	sodium_memzero(&signing, sizeof(signing));
	return rc;
}

void
bench_hs_descriptor_free(struct bench_hs_descriptor *d)
{
	free(d->text);
	memset(d, 0, sizeof(*d));
}

/* ---- streams ---------------------------------------------------------- */

/* One directory stream: what arrived of its answer. */
struct dir_stream {
	uint16_t id;
	bool open, connected;
	int deliver;			/* stream deliver window */
	uint8_t *answer;
	size_t len, cap;
};

void
bench_hsdir_circuit_init(struct bench_hsdir_circuit *c, struct test_link *l, struct test_hop *hop)
{
	memset(c, 0, sizeof(*c));
	c->l = l;
	c->hop = hop;
	c->deliver = CIRCWINDOW_START;
	c->next_stream = 1;
}

static void
queue_cell(struct bench_hsdir_circuit *c, uint8_t relay_command, uint16_t stream, const uint8_t *data,
		uint16_t len)
{
	if (c->out_len + CELL_LEN > sizeof(c->out)) {
		test_link_send_plain(c->l, c->out, c->out_len, TLS_RECORD_MAX_PLAINTEXT);
		c->out_len = 0;
	}
	test_relay_cell(c->hop, c->out + c->out_len, CELL_COMMAND_RELAY, relay_command, stream,
			data, len);
	c->out_len += CELL_LEN;
}

static void
flush_cells(struct bench_hsdir_circuit *c)
{
	if (c->out_len > 0)
		test_link_send_plain(c->l, c->out, c->out_len, TLS_RECORD_MAX_PLAINTEXT);
	c->out_len = 0;
}

/* BEGIN_DIR on a fresh stream id, then request (one or more DATA cells). */
static void
stream_start(struct bench_hsdir_circuit *c, struct dir_stream *s, const uint8_t *request, size_t len)
{
	s->id = c->next_stream++;
	if (c->next_stream == 0)
		c->next_stream = 1;
	s->open = true;
	s->connected = false;
	s->deliver = STREAMWINDOW_START;
	s->len = 0;
	queue_cell(c, RELAY_COMMAND_BEGIN_DIR, s->id, NULL, 0);
	for (size_t off = 0; off < len; off += RELAY_DATA_MAX) {
		size_t n = len - off < RELAY_DATA_MAX ? len - off : RELAY_DATA_MAX;

		queue_cell(c, RELAY_COMMAND_DATA, s->id, request + off, (uint16_t)n);
	}
}

/* One relay cell of the circuit, already opened at our hop. Returns 1 when
 * it ended a stream (*which: its answer is complete), 0 otherwise, -1 with
 * test_detail set on a protocol error. */
static int
stream_cell(struct bench_hsdir_circuit *c, struct dir_stream *streams, unsigned n_streams,
		const uint8_t *payload, struct dir_stream **which)
{
	uint8_t command = payload[RELAY_OFFSET_COMMAND];
	uint16_t sid = wire_read_u16(payload + RELAY_OFFSET_STREAM_ID);
	uint16_t len = wire_read_u16(payload + RELAY_OFFSET_LENGTH);
	struct dir_stream *s = NULL;

	if (len > RELAY_DATA_MAX)
		return test_why("relay cell length %u", len), -1;
	if (command == RELAY_COMMAND_SENDME && sid == 0)
		return 0;	/* the relay's circuit SENDME for our requests */
	for (unsigned i = 0; i < n_streams; i++) {
		if (streams[i].open && streams[i].id == sid)
			s = &streams[i];
	}
	if (s == NULL)
		return test_why("relay command %u on stream %u, which is not open", command, sid), -1;
	switch (command) {
	case RELAY_COMMAND_CONNECTED:
		s->connected = true;
		return 0;
	case RELAY_COMMAND_SENDME:
		return 0;
	case RELAY_COMMAND_DATA:
		if (!s->connected)
			return test_why("DATA on stream %u before CONNECTED", sid), -1;
		if (s->len + len > s->cap)
			return test_why("stream %u: answer longer than %zu bytes", sid, s->cap), -1;
		memcpy(s->answer + s->len, payload + RELAY_HEADER_LEN, len);
		s->len += len;
		c->count.data_cells++;
		/* sendme.c sendme_circuit_consider_sending: version 1 with the
		 * digest of the cell that crossed the threshold (prop 289). */
		if (--c->deliver <= CIRCWINDOW_START - CIRCWINDOW_INCREMENT) {
			uint8_t body[3 + 20];

			c->deliver += CIRCWINDOW_INCREMENT;
			body[0] = 1;
			wire_write_u16(body + 1, 20);
			relay_digest_current(&c->hop->backward_digest, body + 3);
			queue_cell(c, RELAY_COMMAND_SENDME, 0, body, sizeof(body));
			c->count.circuit_sendmes++;
		}
		if (--s->deliver <= STREAMWINDOW_START - STREAMWINDOW_INCREMENT) {
			s->deliver += STREAMWINDOW_INCREMENT;
			queue_cell(c, RELAY_COMMAND_SENDME, sid, NULL, 0);
		}
		return 0;
	case RELAY_COMMAND_END:
		if (len < 1 || payload[RELAY_HEADER_LEN] != END_REASON_DONE)
			return test_why("stream %u: END reason %u, wanted DONE", sid,
					len > 0 ? payload[RELAY_HEADER_LEN] : 0), -1;
		s->open = false;
		*which = s;
		return 1;
	default:
		return test_why("unexpected relay command %u on stream %u", command, sid), -1;
	}
}

/* Reads the link once (up to timeout_ms) and handles every cell of the
 * circuit; *ended gets how many streams ended (their answers complete).
 * Returns false with test_detail set on an error. */
static bool
read_cells(struct bench_hsdir_circuit *c, struct dir_stream *streams, unsigned n_streams, int timeout_ms,
		struct dir_stream **ended, unsigned *n_ended)
{
	struct test_cell cell;
	size_t off = 0;
	bool ok = true;

	*n_ended = 0;
	if (!test_link_pump(c->l, timeout_ms)) {
		if (!c->l->closed)
			return test_why("no answer from the relay for %d ms", timeout_ms);
		if (c->l->plain_len == 0)
			return test_why("the link closed: %s", c->l->how);
	}
	while (ok && test_link_cut_cell(c->l, &off, &cell)) {
		struct dir_stream *which = NULL;
		int rc;

		if (cell.circ_id != c->hop->circ_id)
			continue;
		if (cell.command == CELL_COMMAND_DESTROY) {
			ok = test_why("the relay destroyed the circuit (reason %u)", cell.payload[0]);
			break;
		}
		if (cell.command != CELL_COMMAND_RELAY || !test_relay_cell_open(c->hop, &cell)) {
			ok = test_why("cell %u on the directory circuit is not a relay cell for us",
					cell.command);
			break;
		}
		rc = stream_cell(c, streams, n_streams, cell.payload, &which);
		if (rc < 0)
			ok = false;
		else if (rc == 1)
			ended[(*n_ended)++] = which;
	}
	test_link_drop_cut(c->l, off);
	flush_cells(c);
	return ok;
}

/* The body of an HTTP answer that must have status 200. */
static const uint8_t *
http_body_200(const struct dir_stream *s, size_t *len)
{
	static const char ok[] = "HTTP/1.0 200";
	const uint8_t *end = NULL;

	if (s->len < sizeof(ok) - 1 || memcmp(s->answer, ok, sizeof(ok) - 1) != 0) {
		test_why("stream %u: answer \"%.*s\"", s->id,
				(int)(s->len < 60 ? s->len : 60), (const char *)s->answer);
		return NULL;
	}
	for (size_t i = 0; i + 4 <= s->len; i++) {
		if (memcmp(s->answer + i, "\r\n\r\n", 4) == 0) {
			end = s->answer + i + 4;
			break;
		}
	}
	if (end == NULL) {
		test_why("stream %u: no end of the HTTP headers", s->id);
		return NULL;
	}
	*len = s->len - (size_t)(end - s->answer);
	return end;
}

static bool
stream_alloc(struct dir_stream *s, size_t cap)
{
	s->answer = malloc(cap);
	s->cap = cap;
	return s->answer != NULL;
}

bool
bench_hsdir_publish(struct bench_hsdir_circuit *c, const struct bench_hs_descriptor *d)
{
	struct dir_stream s = { .open = false };
	struct dir_stream *ended[1];
	size_t header_len, len;
	uint8_t *request;
	char header[160];
	unsigned n_ended = 0;
	bool ok = true;

	header_len = (size_t)snprintf(header, sizeof(header), "POST /tor/hs/3/publish HTTP/1.0\r\n"
			"Content-Length: %zu\r\n\r\n", d->len);
	request = malloc(header_len + d->len);
	if (request == NULL || !stream_alloc(&s, 4096))
		test_die("out of memory");
	memcpy(request, header, header_len);
	memcpy(request + header_len, d->text, d->len);
	stream_start(c, &s, request, header_len + d->len);
	flush_cells(c);
	while (ok && n_ended == 0)
		ok = read_cells(c, &s, 1, TEST_IO_TIMEOUT_MS, ended, &n_ended) &&
			(n_ended > 0 || s.open || test_why("the upload stream closed"));
	ok = ok && http_body_200(&s, &len) != NULL;
	free(request);
	free(s.answer);
	return ok;
}

bool
bench_hsdir_fetch(struct bench_hsdir_circuit *c, const struct bench_hs_descriptor *d,
		unsigned n, unsigned parallel, struct bench_hsdir_fetches *res)
{
	struct bench_hsdir_fetches before = c->count;
	struct dir_stream streams[MAX_PARALLEL];
	struct dir_stream *ended[MAX_PARALLEL];
	char request[256];
	size_t request_len;
	unsigned started = 0, open = 0;
	bool ok = true;

	memset(streams, 0, sizeof(streams));
	if (parallel > MAX_PARALLEL)
		parallel = MAX_PARALLEL;
	request_len = (size_t)snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\n"
			"Accept-Encoding: identity\r\n\r\n", d->url);
	for (unsigned i = 0; i < parallel; i++) {
		if (!stream_alloc(&streams[i], d->len + 4096))
			test_die("out of memory");
	}
	while (ok && c->count.fetches - before.fetches < n) {
		unsigned n_ended;

		for (unsigned i = 0; i < parallel && started < n; i++) {
			if (streams[i].open)
				continue;
			stream_start(c, &streams[i], (const uint8_t *)request, request_len);
			started++;
			open++;
		}
		flush_cells(c);
		ok = read_cells(c, streams, parallel, TEST_IO_TIMEOUT_MS, ended, &n_ended);
		for (unsigned i = 0; ok && i < n_ended; i++) {
			size_t len;
			const uint8_t *body = http_body_200(ended[i], &len);

			if (body == NULL)
				ok = false;
			else if (len != d->len || memcmp(body, d->text, len) != 0)
				ok = test_why("stream %u: a body of %zu bytes that is not the descriptor "
						"(%zu bytes)", ended[i]->id, len, d->len);
			c->count.bytes += ended[i]->len;
			c->count.fetches++;
			open--;
		}
		if (ok && n_ended == 0 && open > 0 && c->l->closed)
			ok = test_why("the link closed: %s", c->l->how);
	}
	res->fetches = c->count.fetches - before.fetches;
	res->bytes = c->count.bytes - before.bytes;
	res->data_cells = c->count.data_cells - before.data_cells;
	res->circuit_sendmes = c->count.circuit_sendmes - before.circuit_sendmes;
	for (unsigned i = 0; i < parallel; i++)
		free(streams[i].answer);
	return ok;
}
