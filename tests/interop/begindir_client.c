/* begindir_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR OUT [URL [REPEAT]]
 *
 * A directory client of hsrelay's directory cache over a one-hop circuit
 * (run by relay_testnet.sh), written with the project's own modules over a
 * kernel TCP socket, as tor's dirclient does it for a tunnelled request
 * (tor-spec "Opening a directory stream"; dir-spec "HTTP headers"):
 * TLS and an unauthenticated link handshake as a client (the relay's CERTS
 * checked against the fingerprint in RELAY_DATADIR), CREATE_FAST; 100 DATA
 * cells on a stream that does not exist, after which the relay must send a
 * circuit SENDME v1 carrying our forward digest after the 100th (prop 289:
 * this checks the digests the worker reports with received cells); then
 * REPEAT times (default 1), on streams 1, 2, ...: BEGIN_DIR -> CONNECTED;
 * one DATA cell with "GET URL HTTP/1.0" (default the microdesc
 * consensus); DATA cells until END DONE. The last response is checked for
 * "HTTP/1.0 200" and its body written to OUT; the caller compares it with
 * what an authority serves.
 *
 * Flow control as a tor 0.4.9 client without congestion control does it
 * (CREATE_FAST negotiates none; tor relay.c, sendme.c): every received
 * DATA cell counts against the circuit deliver window (1000) and the
 * stream's (500); at 900 the client sends a circuit SENDME version 1
 * carrying the 20-byte backward running digest right after that DATA
 * cell (prop 289), at 450 an empty stream SENDME. So a response of more
 * than 1000 cells only arrives when these SENDMEs are right, and the relay
 * closes the circuit for a wrong digest: with more than 100 DATA cells
 * over the REPEAT streams, the later streams work only if the relay
 * accepted our SENDME (this checks the digests the worker reports for
 * cells it sent).
 *
 * Every relay cell from the relay must be recognized at our hop
 * (recognized == 0 and the backward digest matching). Prints the counts;
 * exit 0 on success.
 *
 * Helpers copied from hostile_client.c (links, CREATE_FAST, relay cells).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "control/circ_cells.h"
#include "control/link_cells.h"
#include "control/link_handshake.h"
#include "control/relay_keys.h"
#include "control/tls_handshake.h"
#include "crypto/engine.h"
#include "crypto/kdf.h"
#include "crypto/ntor.h"
#include "crypto/relay_crypto.h"
#include "crypto/tls_record.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"

#define IO_TIMEOUT_MS 5000
#define LINK_BUF (1u << 18)
/* CREATE_FAST X[20]; KDF-TOR output KH | Df | Db | Kf | Kb (tor-spec
 * 5.1.5, 5.2.1). */
#define FAST_MATERIAL_LEN (20 + NTOR_TOR1_KEY_MATERIAL_LEN)
/* tor or.h */
#define CIRCWINDOW_START 1000
#define CIRCWINDOW_INCREMENT 100
#define STREAMWINDOW_START 500
#define STREAMWINDOW_INCREMENT 50
#define RESPONSE_MAX (64u << 20)

static struct crypto_engine *engine;
static struct tls_handshake_context *tls_client;
static struct link_credentials *client_credentials;
static uint8_t relay_fp[RSA_IDENTITY_FINGERPRINT_LEN];
static struct ntor_server_keys relay_ntor;
static struct sockaddr_in relay_addr;
static uint32_t next_circ_id = 0x80000001u;
static char detail[1024];



static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hostile_client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Records why the current scenario fails; returns false for the caller's
 * return statement. */
static bool why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static bool
why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return false;
}

static uint32_t
new_circ_id(void)
{
	return next_circ_id++;
}

static void
random_bytes(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n)
		die("getrandom");
}



struct link {
	const char *name;
	int fd;
	struct tls_session *tls;
	struct tls_record_dir rd, wr;
	bool records;		/* keys installed */
	bool closed;		/* FIN, RST or alert seen */
	char how[96];		/* how it closed */
	size_t in_len, plain_len;
	uint8_t in[LINK_BUF];	/* ciphertext not yet opened */
	uint8_t plain[LINK_BUF];	/* cell bytes not yet cut */
};

struct cell {
	uint32_t circ_id;
	uint8_t command;
	uint16_t len;
	uint8_t payload[CELL_VAR_PAYLOAD_MAX];
};

static const char *
command_name(uint8_t command)
{
	switch (command) {
	case CELL_COMMAND_PADDING: return "PADDING";
	case CELL_COMMAND_RELAY: return "RELAY";
	case CELL_COMMAND_DESTROY: return "DESTROY";
	case CELL_COMMAND_CREATED_FAST: return "CREATED_FAST";
	case CELL_COMMAND_VERSIONS: return "VERSIONS";
	case CELL_COMMAND_NETINFO: return "NETINFO";
	case CELL_COMMAND_RELAY_EARLY: return "RELAY_EARLY";
	case CELL_COMMAND_CREATED2: return "CREATED2";
	case CELL_COMMAND_PADDING_NEGOTIATE: return "PADDING_NEGOTIATE";
	case CELL_COMMAND_VPADDING: return "VPADDING";
	case CELL_COMMAND_CERTS: return "CERTS";
	case CELL_COMMAND_AUTH_CHALLENGE: return "AUTH_CHALLENGE";
	default: return "?";
	}
}

static const char *
reason_name(uint8_t reason)
{
	static const char *const names[] = {
		"NONE", "PROTOCOL", "INTERNAL", "REQUESTED", "HIBERNATING",
		"RESOURCELIMIT", "CONNECTFAILED", "OR_IDENTITY", "CHANNEL_CLOSED",
		"FINISHED", "TIMEOUT", "DESTROYED", "NOSUCHSERVICE",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

static void
describe(const struct cell *c, char *buf, size_t len)
{
	if (c->command == CELL_COMMAND_DESTROY)
		snprintf(buf, len, "DESTROY circ 0x%08x reason %s(%u)", c->circ_id,
				reason_name(c->payload[0]), c->payload[0]);
	else
		snprintf(buf, len, "%s(%u) circ 0x%08x", command_name(c->command), c->command,
				c->circ_id);
}

static void mark_closed(struct link *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
mark_closed(struct link *l, const char *fmt, ...)
{
	va_list ap;

	if (l->closed)
		return;
	l->closed = true;
	va_start(ap, fmt);
	vsnprintf(l->how, sizeof(l->how), fmt, ap);
	va_end(ap);
}

static void
send_all(struct link *l, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(l->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			mark_closed(l, "send failed: %s", strerror(errno));
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Seals plaintext into one record of content type type and sends it;
 * corrupt flips a bit of the tag. */
static void
send_record(struct link *l, uint8_t type, const uint8_t *plaintext, size_t len, bool corrupt)
{
	static uint8_t wire[TLS_RECORD_MAX_PLAINTEXT + 64];
	enum tls_record_version v = (enum tls_record_version)l->wr.version;
	unsigned pre = tls_record_prefix_len(v), total;
	struct crypto_iov iov = { wire + pre, (uint32_t)len };
	struct tls_record_seal rec;

	memcpy(wire + pre, plaintext, len);
	memset(&rec, 0, sizeof(rec));
	rec.dir = &l->wr;
	rec.prefix = wire;
	rec.segments = &iov;
	rec.nb_segments = 1;
	rec.content_type = type;
	rec.suffix = wire + pre + len;
	if (tls_record_seal_burst(engine, &rec, 1) != 1)
		die("%s: seal failed: %d", l->name, rec.status);
	total = pre + (unsigned)len + tls_record_suffix_len(v);
	if (corrupt)
		wire[total - 1] ^= 0x01;
	send_all(l, wire, total);
}

/* Sends cell bytes in records of at most chunk bytes. */
static void
send_plain(struct link *l, const uint8_t *p, size_t len, size_t chunk)
{
	while (len > 0) {
		size_t n = len < chunk ? len : chunk;

		send_record(l, TLS_CONTENT_APPLICATION_DATA, p, n, false);
		p += n;
		len -= n;
	}
}

static void
send_cell(struct link *l, const uint8_t cell[CELL_LEN])
{
	send_plain(l, cell, CELL_LEN, TLS_RECORD_MAX_PLAINTEXT);
}

/* Opens every whole record received. */
static void
open_records(struct link *l)
{
	size_t off = 0;

	while (!l->closed && l->in_len - off >= TLS_RECORD_HEADER_LEN) {
		uint8_t *h = l->in + off;
		size_t body = (size_t)h[3] << 8 | h[4];
		struct crypto_iov iov;
		struct tls_record_open rec;
		const uint8_t *pt;

		if (l->in_len - off < TLS_RECORD_HEADER_LEN + body)
			break;
		iov.base = h + TLS_RECORD_HEADER_LEN;
		iov.len = (uint32_t)body;
		memset(&rec, 0, sizeof(rec));
		rec.dir = &l->rd;
		rec.header = h;
		rec.segments = &iov;
		rec.nb_segments = 1;
		tls_record_open_burst(engine, &rec, 1);
		if (rec.status != 0) {
			mark_closed(l, "a record from the relay did not open (%d)", rec.status);
			break;
		}
		pt = iov.base + rec.plaintext_offset;
		if (rec.content_type == TLS_CONTENT_APPLICATION_DATA) {
			if (rec.plaintext_len > LINK_BUF - l->plain_len)
				die("%s: too many cell bytes buffered", l->name);
			memcpy(l->plain + l->plain_len, pt, rec.plaintext_len);
			l->plain_len += rec.plaintext_len;
		} else if (rec.content_type == TLS_CONTENT_ALERT) {
			mark_closed(l, "TLS alert %u/%u", rec.plaintext_len > 0 ? pt[0] : 0,
					rec.plaintext_len > 1 ? pt[1] : 0);
		} else if (rec.content_type != TLS_CONTENT_HANDSHAKE) {
			mark_closed(l, "record of content type %u", rec.content_type);
		}
		off += TLS_RECORD_HEADER_LEN + body;
	}
	memmove(l->in, l->in + off, l->in_len - off);
	l->in_len -= off;
}

/* Waits up to timeout_ms for bytes; false on timeout or close. */
static bool
pump(struct link *l, int timeout_ms)
{
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	ssize_t n;

	if (l->closed)
		return false;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	if (l->in_len == LINK_BUF)
		die("%s: receive buffer full", l->name);
	n = recv(l->fd, l->in + l->in_len, LINK_BUF - l->in_len, 0);
	if (n == 0) {
		mark_closed(l, "TCP FIN");
		return false;
	}
	if (n < 0) {
		if (errno == ECONNRESET)
			mark_closed(l, "TCP RST");
		else
			mark_closed(l, "recv: %s", strerror(errno));
		return false;
	}
	l->in_len += (size_t)n;
	if (l->records)
		open_records(l);
	return true;
}

/* The next cell other than padding: 1, 0 on timeout, -1 when the link
 * closed. Prints it. */
static int
next_cell(struct link *l, struct cell *c, int timeout_ms)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		const uint8_t *p = l->plain;
		struct cell_frame frame;
		struct timespec now;
		int left;

		if (cell_frame_parse(&p, l->plain + l->plain_len, CELL_CIRC_ID_LEN, &frame,
				NULL) == 0) {
			size_t used = (size_t)(p - l->plain);
			char text[96];

			c->circ_id = frame.circ_id;
			c->command = frame.command;
			c->len = frame.payload_len;
			memcpy(c->payload, frame.payload, frame.payload_len);
			memmove(l->plain, p, l->plain_len - used);
			l->plain_len -= used;
			if (c->command == CELL_COMMAND_PADDING || c->command == CELL_COMMAND_VPADDING)
				continue;
			describe(c, text, sizeof(text));
			printf("  [%s] <- %s\n", l->name, text);
			return 1;
		}
		if (l->closed)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
				(now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
		if (!pump(l, left) && l->closed && l->plain_len == 0)
			return -1;
	}
}

/* The next cell must be command on circ_id (and, for DESTROY, carry
 * reason). */
static bool
expect(struct link *l, uint32_t circ_id, uint8_t command, int reason, struct cell *c)
{
	static struct cell scratch;
	char text[96];
	int rc;

	if (c == NULL)
		c = &scratch;
	rc = next_cell(l, c, IO_TIMEOUT_MS);
	if (rc < 0)
		return why("%s closed (%s) while waiting for %s on 0x%08x", l->name, l->how,
				command_name(command), circ_id);
	if (rc == 0)
		return why("no answer on %s within %d ms (wanted %s on 0x%08x)", l->name,
				IO_TIMEOUT_MS, command_name(command), circ_id);
	describe(c, text, sizeof(text));
	if (c->circ_id != circ_id || c->command != command ||
	    (reason >= 0 && c->payload[0] != reason))
		return why("%s: got %s, wanted %s on 0x%08x%s%s", l->name, text,
				command_name(command), circ_id, reason >= 0 ? " reason " : "",
				reason >= 0 ? reason_name((uint8_t)reason) : "");
	return true;
}

static int
export_auth(void *arg, const uint8_t cid[LINK_SHA256_LEN], uint8_t out[LINK_SHA256_LEN])
{
	struct link *l = arg;

	return tls_session_export_auth0003(l->tls, cid, out);
}

/* Connects. */
static bool
link_connect(struct link *l, const char *name, bool settle)
{
	struct timeval limit = { .tv_sec = 3 };

	memset(l, 0, offsetof(struct link, in));
	l->name = name;
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (l->fd < 0)
		die("socket: %s", strerror(errno));
	/* Linux applies the send timeout to connect(). */
	setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	if (connect(l->fd, (const struct sockaddr *)&relay_addr, sizeof(relay_addr)) != 0) {
		mark_closed(l, "connect: %s", strerror(errno));
		return why("%s: connect to the relay: %s", name, strerror(errno));
	}
	(void)settle;
	return true;
}

/* TLS handshake, handover, link handshake: true when the link is open. */
static bool
link_open(struct link *l, const char *name)
{
	struct link_handshake_params params;
	struct link_handshake *hs;
	struct tls_handover h;
	const uint8_t *der, *digest;
	uint8_t buf[16384], fp[RSA_IDENTITY_FINGERPRINT_LEN];
	size_t der_len, n;
	int rc;

	if (!link_connect(l, name, true))
		return false;
	if (tls_session_create(tls_client, &l->tls) != 0)
		die("tls_session_create");
	for (;;) {
		rc = tls_session_step(l->tls);
		while ((n = tls_session_drain_output(l->tls, buf, sizeof(buf))) > 0)
			send_all(l, buf, n);
		if (rc < 0)
			return why("%s: TLS handshake: %s", name, tls_session_error(l->tls));
		if (rc == TLS_SESSION_DONE)
			break;
		if (!pump(l, IO_TIMEOUT_MS))
			return why("%s: TLS handshake: %s", name, l->closed ? l->how : "timeout");
		if (tls_session_feed(l->tls, l->in, l->in_len) != 0)
			return why("%s: TLS feed: %s", name, tls_session_error(l->tls));
		l->in_len = 0;
	}
	if (tls_session_handover(l->tls, &h) != 0 ||
	    tls_handover_install(engine, &h, &l->rd, &l->wr) != 0)
		return why("%s: handover: %s", name, tls_session_error(l->tls));
	memcpy(l->in, h.leftover, h.leftover_len);
	l->in_len = h.leftover_len;
	tls_handover_wipe(&h);
	l->records = true;
	open_records(l);
	if (tls_session_peer_cert(l->tls, &der, &der_len, &digest) != 0)
		return why("%s: the relay sent no TLS certificate", name);

	memset(&params, 0, sizeof(params));
	params.role = LINK_ROLE_INITIATOR;
	params.credentials = client_credentials;
	params.export_keying_material = export_auth;
	params.export_arg = l;
	params.peer_address.type = NETINFO_ADDRESS_IPV4;
	memcpy(params.peer_address.bytes, &relay_addr.sin_addr.s_addr, 4);
	params.peer_tls_cert_digest = digest;
	params.expected_rsa_fingerprint = relay_fp;
	params.authenticate = false;
	if (link_handshake_new(&params, time(NULL), &hs) != 0)
		die("link_handshake_new");
	for (;;) {
		const uint8_t *out, *p = l->plain;

		n = link_handshake_output(hs, &out);
		if (n > 0) {
			send_plain(l, out, n, TLS_RECORD_MAX_PLAINTEXT);
			link_handshake_output_consumed(hs, n);
		}
		if (link_handshake_state(hs) != LINK_HANDSHAKE_IN_PROGRESS)
			break;
		rc = link_handshake_receive(hs, &p, l->plain + l->plain_len, time(NULL), NULL);
		memmove(l->plain, p, l->plain_len - (size_t)(p - l->plain));
		l->plain_len -= (size_t)(p - l->plain);
		if (rc == -EAGAIN && !pump(l, IO_TIMEOUT_MS))
			break;
	}
	if (link_handshake_state(hs) != LINK_HANDSHAKE_OPEN) {
		why("%s: link handshake: %s%s%s", name, link_handshake_reason(hs),
				l->closed ? "; " : "", l->closed ? l->how : "");
		link_handshake_free(hs);
		return false;
	}
	rc = link_handshake_peer_rsa_fingerprint(hs, fp);
	link_handshake_free(hs);
	if (rc != 0 || memcmp(fp, relay_fp, sizeof(fp)) != 0)
		return why("%s: the relay's CERTS do not name its fingerprint", name);
	return true;
}

static void
link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	tls_session_free(l->tls);
	l->tls = NULL;
	tls_record_dir_clear(&l->rd);
	tls_record_dir_clear(&l->wr);
}

/* ------------------------------------------------------------------ */
/* Circuits: one hop, the relay                                        */

struct hop {
	uint32_t circ_id;
	struct relay_cipher forward, backward;
	struct relay_digest forward_digest, backward_digest;
};

/* tor-spec 5.2.2 order: Df, Db, Kf, Kb. */
static void
hop_init(struct hop *hop, uint32_t circ_id, const uint8_t *material)
{
	hop->circ_id = circ_id;
	relay_digest_init(&hop->forward_digest, material);
	relay_digest_init(&hop->backward_digest, material + 20);
	relay_cipher_init(engine, &hop->forward, material + 40);
	relay_cipher_init(engine, &hop->backward, material + 56);
}

static void
cell_start(uint8_t cell[CELL_LEN], uint32_t circ_id, uint8_t command)
{
	memset(cell, 0, CELL_LEN);
	cell_wire_set_circ_id(cell, circ_id);
	cell[CELL_CIRC_ID_LEN] = command;
}

static void
fast_cell(uint8_t cell[CELL_LEN], uint32_t circ_id, uint8_t x[CREATE_FAST_KEY_LEN])
{
	random_bytes(x, CREATE_FAST_KEY_LEN);
	cell_start(cell, circ_id, CELL_COMMAND_CREATE_FAST);
	memcpy(cell_wire_payload(cell), x, CREATE_FAST_KEY_LEN);
}

/* Checks CREATED_FAST against X (KH, tor-spec 5.1.5) and sets up hop. */
static bool
fast_complete(struct hop *hop, uint32_t circ_id, const uint8_t x[CREATE_FAST_KEY_LEN],
		const struct cell *c)
{
	uint8_t k0[2 * CREATE_FAST_KEY_LEN], out[FAST_MATERIAL_LEN];

	memcpy(k0, x, CREATE_FAST_KEY_LEN);
	memcpy(k0 + CREATE_FAST_KEY_LEN, c->payload, CREATE_FAST_KEY_LEN);
	if (kdf_tor(k0, sizeof(k0), out, sizeof(out)) != 0)
		die("kdf_tor");
	if (memcmp(out, c->payload + CREATE_FAST_KEY_LEN, 20) != 0)
		return why("CREATED_FAST on 0x%08x: KH does not match KDF-TOR(X|Y)", circ_id);
	hop_init(hop, circ_id, out + 20);
	return true;
}

static bool
create_fast(struct link *l, struct hop *hop)
{
	uint32_t circ_id = new_circ_id();
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN];
	struct cell c;

	fast_cell(cell, circ_id, x);
	send_cell(l, cell);
	if (!expect(l, circ_id, CELL_COMMAND_CREATED_FAST, -1, &c))
		return false;
	return fast_complete(hop, circ_id, x, &c);
}

static void
stream_cell(struct hop *hop, uint8_t cell[CELL_LEN], uint8_t relay_command, uint16_t stream_id,
		const uint8_t *data, uint16_t len)
{
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *cipher = &hop->forward;

	cell_start(cell, hop->circ_id, CELL_COMMAND_RELAY);
	payload[RELAY_OFFSET_COMMAND] = relay_command;
	wire_write_u16(payload + RELAY_OFFSET_STREAM_ID, stream_id);
	wire_write_u16(payload + RELAY_OFFSET_LENGTH, len);
	if (len > 0)
		memcpy(payload + RELAY_HEADER_LEN, data, len);
	relay_digest_stamp(&hop->forward_digest, payload);
	relay_crypt_burst(engine, &cipher, &payload, 1);
}

static void
parse_addr(const char *host, const char *port, struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1 || out->sin_port == 0)
		die("bad address %s:%s", host, port);
}

/* The client's link credentials from its own key set (the way the relay
 * makes its own in control/relay_control.c). */
static void
make_client_credentials(const char *datadir)
{
	struct relay_keys *keys;
	struct relay_keys_error kerr;
	struct tls_link_credentials *tls;
	struct link_credentials_params p;
	uint8_t crosscert[512];
	const uint8_t *signing_cert, *link_der, *id_der;
	size_t signing_len, link_len, id_len;
	ssize_t cross_len;
	time_t now = time(NULL);

	if (relay_keys_load_or_create(datadir, now, &keys, &kerr) != 0)
		die("client keys: %s: %s", kerr.path, kerr.message);
	if (tls_link_credentials_create(relay_keys_identity(keys), 0, now, &tls) != 0)
		die("tls_link_credentials_create");
	cross_len = rsa_ed25519_crosscert_create(relay_keys_master(keys)->public_key,
			torcert_hours_from_time(now + 86400), relay_keys_identity(keys), crosscert,
			sizeof(crosscert));
	if (cross_len < 0)
		die("rsa_ed25519_crosscert_create");
	signing_cert = relay_keys_signing_cert(keys, &signing_len);
	link_der = tls_link_credentials_link_cert(tls, &link_len);
	id_der = tls_link_credentials_identity_cert(tls, &id_len);
	memset(&p, 0, sizeof(p));
	p.rsa_identity = relay_keys_identity(keys);
	p.ed25519_identity = relay_keys_master(keys)->public_key;
	p.ed25519_signing = relay_keys_signing(keys);
	p.signing_cert = signing_cert;
	p.signing_cert_len = signing_len;
	p.rsa_crosscert = crosscert;
	p.rsa_crosscert_len = (size_t)cross_len;
	p.identity_x509 = id_der;
	p.identity_x509_len = id_len;
	p.link_x509 = link_der;
	p.link_x509_len = link_len;
	if (link_credentials_new(&p, now, &client_credentials) != 0)
		die("link_credentials_new");
	tls_link_credentials_free(tls);
	relay_keys_free(keys);
}

static void
load_relay_keys(const char *datadir)
{
	struct relay_keys *keys;
	struct relay_keys_error kerr;

	if (relay_keys_load_or_create(datadir, time(NULL), &keys, &kerr) != 0)
		die("relay keys: %s: %s", kerr.path, kerr.message);
	memcpy(relay_fp, relay_keys_fingerprint(keys), sizeof(relay_fp));
	relay_keys_ntor_server_keys(keys, &relay_ntor);
	/* Only the public halves are needed here. */
	for (size_t i = 0; i < NTOR_MAX_ONION_KEYS; i++)
		memset(relay_ntor.onion_keys[i].secret_key, 0, NTOR_KEY_LEN);
	relay_keys_free(keys);
}

/* ------------------------------------------------------------------ */
/* The directory request                                               */

/* Takes our layer off a relay cell from the relay and checks that it is
 * for us (tor-spec "Routing relay cells"): the backward digest advances. */
static bool
relay_cell_open(struct hop *hop, struct cell *c)
{
	uint8_t *payload = c->payload;
	struct relay_cipher *cipher = &hop->backward;

	relay_crypt_burst(engine, &cipher, &payload, 1);
	if (wire_read_u16(payload + RELAY_OFFSET_RECOGNIZED) != 0 ||
	    !relay_digest_check(&hop->backward_digest, payload))
		return why("a relay cell on 0x%08x is not recognized at our hop", c->circ_id);
	return true;
}

/* Circuit-level counters across the streams of the circuit. */
struct circuit_state {
	int deliver_window;
	unsigned nb_data, nb_circ_sendme, nb_stream_sendme;
	/* prop 289 from our side: the forward digests the relay's circuit
	 * SENDMEs must carry, in order */
	uint8_t expected[8][20];
	unsigned nb_expected, next_expected, nb_sendme_checked;
};

/* A circuit SENDME from the relay (sendme.c build_cell_payload_v1): must
 * be version 1 with the digest of the DATA cell of ours that crossed the
 * relay's threshold. */
static bool
check_sendme(struct circuit_state *cs, const uint8_t *body, uint16_t length)
{
	if (length != 23 || body[0] != 1 || wire_read_u16(body + 1) != 20)
		return why("circuit SENDME from the relay is not v1 with 20 bytes (length %u)",
				length);
	if (cs->next_expected == cs->nb_expected)
		return why("circuit SENDME from the relay that we did not ask for");
	if (memcmp(body + 3, cs->expected[cs->next_expected++], 20) != 0)
		return why("circuit SENDME from the relay carries the wrong digest");
	cs->nb_sendme_checked++;
	return true;
}

/* 100 DATA cells on a stream that does not exist: each counts against the
 * relay's circuit deliver window (tor relay.c), so the 100th makes it send
 * a circuit SENDME v1 carrying our forward digest after that cell. */
static bool
provoke_sendme(struct link *l, struct hop *hop, struct circuit_state *cs)
{
	uint8_t cell[CELL_LEN], junk[RELAY_DATA_MAX];
	struct cell c;

	memset(junk, 'x', sizeof(junk));
	for (unsigned i = 1; i <= CIRCWINDOW_INCREMENT; i++) {
		stream_cell(hop, cell, RELAY_COMMAND_DATA, 9, junk, sizeof(junk));
		send_cell(l, cell);
	}
	relay_digest_current(&hop->forward_digest, cs->expected[cs->nb_expected++]);
	for (;;) {
		int rc = next_cell(l, &c, 3 * IO_TIMEOUT_MS);

		if (rc <= 0)
			return why("no circuit SENDME after %u DATA cells", CIRCWINDOW_INCREMENT);
		if (c.command == CELL_COMMAND_DESTROY)
			return why("the relay destroyed the circuit: reason %u", c.payload[0]);
		if (c.command != CELL_COMMAND_RELAY || c.circ_id != hop->circ_id)
			continue;
		if (!relay_cell_open(hop, &c))
			return false;
		if (c.payload[RELAY_OFFSET_COMMAND] != RELAY_COMMAND_SENDME ||
		    wire_read_u16(c.payload + RELAY_OFFSET_STREAM_ID) != 0)
			return why("relay command %u while waiting for a circuit SENDME",
					c.payload[RELAY_OFFSET_COMMAND]);
		return check_sendme(cs, c.payload + RELAY_HEADER_LEN,
				wire_read_u16(c.payload + RELAY_OFFSET_LENGTH));
	}
}

static bool
fetch(struct link *l, struct hop *hop, struct circuit_state *cs, uint16_t stream_id,
		const char *url, uint8_t **out, size_t *out_len)
{
	int stream_deliver = STREAMWINDOW_START;
	uint8_t cell[CELL_LEN], request[512];
	size_t len = 0, cap = 1 << 16;
	uint8_t *response = malloc(cap);
	bool connected = false;
	struct cell c;
	int n;

	if (response == NULL)
		die("out of memory");
	stream_cell(hop, cell, RELAY_COMMAND_BEGIN_DIR, stream_id, NULL, 0);
	send_cell(l, cell);
	n = snprintf((char *)request, sizeof(request), "GET %s HTTP/1.0\r\nHost: %s\r\n"
			"Accept-Encoding: identity\r\n\r\n", url, inet_ntoa(relay_addr.sin_addr));
	if (n < 0 || (size_t)n >= sizeof(request))
		die("URL too long");
	stream_cell(hop, cell, RELAY_COMMAND_DATA, stream_id, request, (uint16_t)n);
	send_cell(l, cell);
	for (;;) {
		const uint8_t *payload;
		uint16_t length, sid;
		int rc = next_cell(l, &c, 3 * IO_TIMEOUT_MS);

		if (rc < 0)
			return why("the link closed (%s) during the fetch", l->how);
		if (rc == 0)
			return why("no cell for %d ms during the fetch (%zu bytes so far)",
					3 * IO_TIMEOUT_MS, len);
		if (c.command == CELL_COMMAND_DESTROY)
			return why("the relay destroyed the circuit: reason %u", c.payload[0]);
		if (c.command != CELL_COMMAND_RELAY || c.circ_id != hop->circ_id)
			continue;
		if (!relay_cell_open(hop, &c))
			return false;
		payload = c.payload;
		length = wire_read_u16(payload + RELAY_OFFSET_LENGTH);
		sid = wire_read_u16(payload + RELAY_OFFSET_STREAM_ID);
		if (length > RELAY_DATA_MAX)
			return why("relay cell length %u", length);
		switch (payload[RELAY_OFFSET_COMMAND]) {
		case RELAY_COMMAND_CONNECTED:
			if (sid != stream_id || connected)
				return why("CONNECTED on stream %u", sid);
			connected = true;
			break;
		case RELAY_COMMAND_DATA:
			if (sid != stream_id || !connected)
				return why("DATA on stream %u before CONNECTED", sid);
			cs->nb_data++;
			if (len + length > RESPONSE_MAX)
				return why("response too long");
			if (len + length > cap) {
				cap *= 2;
				response = realloc(response, cap);
				if (response == NULL)
					die("out of memory");
			}
			memcpy(response + len, payload + RELAY_HEADER_LEN, length);
			len += length;
			/* sendme.c sendme_circuit_consider_sending: version 1 with
			 * the digest of the cell that crossed the threshold. */
			if (--cs->deliver_window <= CIRCWINDOW_START - CIRCWINDOW_INCREMENT) {
				uint8_t body[3 + 20];

				cs->deliver_window += CIRCWINDOW_INCREMENT;
				body[0] = 1;
				wire_write_u16(body + 1, 20);
				relay_digest_current(&hop->backward_digest, body + 3);
				stream_cell(hop, cell, RELAY_COMMAND_SENDME, 0, body, sizeof(body));
				send_cell(l, cell);
				cs->nb_circ_sendme++;
			}
			if (--stream_deliver <= STREAMWINDOW_START - STREAMWINDOW_INCREMENT) {
				stream_deliver += STREAMWINDOW_INCREMENT;
				stream_cell(hop, cell, RELAY_COMMAND_SENDME, stream_id, NULL, 0);
				send_cell(l, cell);
				cs->nb_stream_sendme++;
			}
			break;
		case RELAY_COMMAND_END:
			if (sid != stream_id)
				return why("END on stream %u", sid);
			if (length < 1 || payload[RELAY_HEADER_LEN] != 6)
				return why("END reason %u, wanted DONE (6)",
						length > 0 ? payload[RELAY_HEADER_LEN] : 0);
			*out = response;
			*out_len = len;
			return true;
		case RELAY_COMMAND_SENDME:
			if (sid == 0 && !check_sendme(cs, payload + RELAY_HEADER_LEN, length))
				return false;
			break;
		default:
			return why("unexpected relay command %u", payload[RELAY_OFFSET_COMMAND]);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *url = "/tor/status-vote/current/consensus-microdesc";
	struct circuit_state cs = { .deliver_window = CIRCWINDOW_START };
	unsigned repeat = 1;
	static struct link link;
	struct hop hop;
	uint8_t *response = NULL;
	size_t len = 0;
	const uint8_t *body;
	FILE *f;

	alarm(120);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: begindir_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR OUT "
				"[URL [REPEAT]]\n");
		return 2;
	}
	if (argc >= 7)
		url = argv[6];
	if (argc == 8 && (repeat = (unsigned)atoi(argv[7])) == 0)
		die("bad REPEAT %s", argv[7]);
	parse_addr(argv[1], argv[2], &relay_addr);
	load_relay_keys(argv[3]);
	make_client_credentials(argv[4]);
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	if (engine == NULL || tls_handshake_context_create(TLS_ROLE_CLIENT, NULL,
			&tls_client) != 0)
		die("engine / TLS context");
	if (!link_open(&link, "L"))
		die("%s", detail);
	if (!create_fast(&link, &hop))
		die("%s", detail);
	if (!provoke_sendme(&link, &hop, &cs))
		die("%s", detail);
	/* REPEAT requests on streams 1, 2, ... of the same circuit: with more
	 * than 100 DATA cells in all, our circuit SENDME v1 reaches the relay,
	 * which checks its digest, and the next stream only works if it
	 * matched. */
	for (unsigned i = 0; i < repeat; i++) {
		free(response);
		response = NULL;
		if (!fetch(&link, &hop, &cs, (uint16_t)(i + 1), url, &response, &len))
			die("stream %u: %s", i + 1, detail);
	}
	if (len < 13 || memcmp(response, "HTTP/1.0 200 ", 13) != 0)
		die("response does not start with HTTP/1.0 200: %.40s", (const char *)response);
	body = memmem(response, len, "\r\n\r\n", 4);
	if (body == NULL)
		die("response without a header end");
	body += 4;
	f = fopen(argv[5], "wb");
	if (f == NULL || fwrite(body, 1, len - (size_t)(body - response), f) !=
			len - (size_t)(body - response) || fclose(f) != 0)
		die("cannot write %s", argv[5]);
	printf("begindir: %s on %u streams of one circuit: %zu response bytes (%zu body) "
			"each, END DONE; %u DATA cells in all; we sent %u circuit SENDMEs (v1) and %u "
			"stream SENDMEs; the relay sent %u circuit SENDMEs (v1), digests checked\n",
			url, repeat, len, len - (size_t)(body - response), cs.nb_data,
			cs.nb_circ_sendme, cs.nb_stream_sendme, cs.nb_sendme_checked);
	free(response);
	link_close(&link);
	link_credentials_free(client_credentials);
	tls_handshake_context_free(tls_client);
	crypto_engine_destroy(engine);
	return 0;
}
