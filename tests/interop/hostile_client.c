/* hostile_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR EXTEND_ADDR:PORT
 *
 * A misbehaving Tor client against hsrelay's ORPort (run by
 * relay_hostile.sh), written with the project's own modules over kernel
 * TCP sockets: control/tls_handshake.h as TLS client, then every record
 * sealed and opened with crypto/tls_record.h; control/link_handshake.h as
 * an unauthenticated initiator (a client) that validates the relay's
 * CERTS against the fingerprint in RELAY_DATADIR; CREATE_FAST (KDF-TOR)
 * and ntor CREATE2 (crypto/ntor.h) with the relay's onion key from
 * RELAY_DATADIR; the client's onion layer with crypto/relay_crypto.h.
 * CLIENT_DATADIR holds the client's own keys (made on first use): the
 * link handshake module wants credentials even when it never sends them.
 * EXTEND_ADDR:PORT must be a TCP port nothing listens on, reachable from
 * the relay (the kernel answers RST): an EXTEND2 there ends the circuit
 * with DESTROY reason CHANNEL_CLOSED (tor circuitbuild.c: the next
 * hop's channel failed), which proves the circuit was alive
 * and that both ends' forward crypto and digest were still in step (the
 * relay only reads an EXTEND2 it recognized).
 *
 * Scenarios, each with the relay's exact answer checked (tor-spec section
 * numbers as in the 2023 tor-spec):
 *   1. circuits A (CREATE_FAST) and B (ntor) on link L1; a RELAY cell on A
 *      that no hop recognizes (5.5.2.1: the circuit ends here) -> DESTROY
 *      A PROTOCOL; then CREATE_FAST C -> CREATED_FAST and an EXTEND2 on B
 *      -> DESTROY B CHANNEL_CLOSED, with no cell about B in between;
 *   2. eight RELAY_EARLY cells (RELAY_DROP, recognized and ignored) on D,
 *      a CREATE_FAST barrier answered with nothing before it, then a
 *      ninth RELAY_EARLY carrying an EXTEND2 -> DESTROY D PROTOCOL, not
 *      CHANNEL_CLOSED (5.6); circuit E on the link still extends;
 *   3. CREATE2 with the wrong NODEID, an unknown KEYID, a truncated ntor
 *      onion skin (HLEN 83), TAP (type 0) and an unknown type -> DESTROY
 *      PROTOCOL for that circuit id only; nothing is left installed (the
 *      id is answered again by a CREATE_FAST);
 *   4. CREATE2 and CREATE_FAST reusing the id of open circuit G ->
 *      dropped as tor (command.c: "for known circ. Dropping"): the next
 *      answer is a barrier's CREATED_FAST, and G still extends with the
 *      keys of its first handshake;
 *   5. record-layer garbage on other links, each opened fully with a
 *      circuit first: a record with a bad GCM tag, a record header whose
 *      length exceeds 2^14 + 256, and bytes that are not TLS at all -> the
 *      relay ends that link (TCP RST or FIN, or an alert), while L1's
 *      circuits keep working;
 *   6. on L1, VPADDING cells of 60000 bytes (in 16 KB records and in
 *      1000-byte records) and a 100-byte variable-length cell of unknown
 *      command 0xf0 -> ignored: a CREATE_FAST right after is answered.
 * Then: L1 carries a fresh CREATE_FAST -> CREATED_FAST, and circuit C,
 * made in scenario 1, still extends.
 *
 * Probes where hsrelay may differ from tor 0.4.9 (printed as "diverges:"
 * or "ok:", not counted as failures unless --strict):
 *   P1. CREATE_FAST from a client with the circuit id's high bit clear
 *       (tor-spec 5.1.1; tor command.c answers DESTROY PROTOCOL);
 *   P2. two CREATE_FAST with one new circuit id in one record (tor: the
 *       second is dropped, the id being in use since the first);
 *   P3. a variable-length cell of unknown command with 10000 bytes sent
 *       across records (tor buffers any var cell and ignores unknown
 *       commands).
 * and probes of hsrelay defects found with this tool ("bug:"):
 *   P4. a ClientHello sent right after connect() must be answered (every
 *       other link waits 20 ms after connect() so that the scenarios do
 *       not depend on this);
 *   P5. after 40 more EXTEND2 to the closed port (run last; the relay is
 *       configured with MaxLinksPerWorker 16, i.e. 32 TCP connections), a
 *       new link must still open.
 *
 * Prints one line per scenario ("ok: ..." / "FAIL: ...") and each cell
 * the relay sent ("  [L1] <- ..."). Exit 0 when every scenario passed, 1
 * otherwise (2 for a bad command line); alarm after 50 s.
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

#define IO_TIMEOUT_MS 5000
#define LINK_BUF (1u << 18)
/* tor's TAP onion skin length (onion_tap.h TAP_ONIONSKIN_CHALLENGE_LEN). */
#define TAP_ONIONSKIN_LEN 186
/* CREATE_FAST X[20]; KDF-TOR output KH | Df | Db | Kf | Kb (tor-spec
 * 5.1.5, 5.2.1). */
#define FAST_MATERIAL_LEN (20 + NTOR_TOR1_KEY_MATERIAL_LEN)
/* tor-spec 5.6: a relay accepts 8 RELAY_EARLY cells per circuit. */
#define MAX_RELAY_EARLY 8

static struct crypto_engine *engine;
static struct tls_handshake_context *tls_client;
static struct link_credentials *client_credentials;
static uint8_t relay_fp[RSA_IDENTITY_FINGERPRINT_LEN];
static struct ntor_server_keys relay_ntor;	/* only node_id and public keys used */
static struct sockaddr_in relay_addr, extend_addr;
static uint32_t next_circ_id = 0x80000001u;
static char detail[1024];
static unsigned failures, divergences;
/* What the relay's exit counters must show (relay_hostile.sh compares). */
static struct {
	unsigned links_accepted, tls_failures, create_failures, closed_protocol;
	unsigned drop_bad_record, extend_failures;
} expected;

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

static void
random_bytes(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n)
		die("getrandom");
}

static uint32_t
new_circ_id(void)
{
	return next_circ_id++;
}

/* ------------------------------------------------------------------ */
/* Links: TLS records sealed and opened here, cells cut from them      */

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

/* The relay must end the link (RST, FIN or an alert) within 5 s. */
static bool
expect_closed(struct link *l)
{
	struct cell c;
	int rc;

	while ((rc = next_cell(l, &c, IO_TIMEOUT_MS)) == 1)
		;
	if (rc == 0)
		return why("%s still open %d ms after the garbage", l->name, IO_TIMEOUT_MS);
	return true;
}

static int
export_auth(void *arg, const uint8_t cid[LINK_SHA256_LEN], uint8_t out[LINK_SHA256_LEN])
{
	struct link *l = arg;

	return tls_session_export_auth0003(l->tls, cid, out);
}

/* Connects. settle is kept for probe P4's callers: the other links used
 * to wait before sending; now every link sends at once, as P4 does. */
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
	expected.links_accepted++;
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

/* A CREATE2 cell carrying hdata (any type and length up to the cell). */
static void
create2_cell(uint8_t cell[CELL_LEN], uint32_t circ_id, uint16_t htype, const uint8_t *hdata,
		uint16_t hlen)
{
	struct create2_cell body = { .htype = htype, .hlen = hlen, .hdata = hdata };

	cell_start(cell, circ_id, CELL_COMMAND_CREATE2);
	if (create2_cell_encode(&body, cell_wire_payload(cell), CELL_PAYLOAD_LEN) < 0)
		die("create2_cell_encode");
}

/* An ntor onion skin for the relay, optionally with another NODEID or
 * KEYID. */
static void
ntor_skin(struct ntor_client_state *st, uint8_t skin[NTOR_ONIONSKIN_LEN], bool bad_node,
		bool bad_key)
{
	uint8_t node[NTOR_NODE_ID_LEN], key[NTOR_KEY_LEN];
	struct ntor_keypair other;

	memcpy(node, relay_ntor.node_id, sizeof(node));
	memcpy(key, relay_ntor.onion_keys[0].public_key, sizeof(key));
	if (bad_node)
		node[0] ^= 1;
	if (bad_key) {
		if (ntor_keypair_generate(&other) != 0)
			die("ntor_keypair_generate");
		memcpy(key, other.public_key, sizeof(key));
	}
	if (ntor_client_create(st, node, key, skin, NTOR_ONIONSKIN_LEN) != NTOR_ONIONSKIN_LEN)
		die("ntor_client_create");
}

static bool
ntor_complete(struct hop *hop, uint32_t circ_id, struct ntor_client_state *st,
		const struct cell *c)
{
	struct created2_cell created;
	const uint8_t *p = c->payload;
	uint8_t material[NTOR_TOR1_KEY_MATERIAL_LEN];

	if (created2_cell_parse(&p, c->payload + CELL_PAYLOAD_LEN, &created) != 0)
		return why("CREATED2 on 0x%08x does not parse", circ_id);
	if (ntor_client_complete(st, created.hdata, created.hlen, material,
			sizeof(material)) != 0)
		return why("CREATED2 on 0x%08x: the ntor AUTH does not verify", circ_id);
	hop_init(hop, circ_id, material);
	return true;
}

static bool
create_ntor(struct link *l, struct hop *hop)
{
	uint32_t circ_id = new_circ_id();
	uint8_t cell[CELL_LEN], skin[NTOR_ONIONSKIN_LEN];
	struct ntor_client_state st;
	struct cell c;

	ntor_skin(&st, skin, false, false);
	create2_cell(cell, circ_id, HANDSHAKE_TYPE_NTOR, skin, NTOR_ONIONSKIN_LEN);
	send_cell(l, cell);
	if (!expect(l, circ_id, CELL_COMMAND_CREATED2, -1, &c))
		return false;
	return ntor_complete(hop, circ_id, &st, &c);
}

/* A relay cell for the relay (tor-spec 6.1): header, data, digest
 * stamped, our layer added. */
static void
relay_cell(struct hop *hop, uint8_t cell[CELL_LEN], uint8_t command, uint8_t relay_command,
		const uint8_t *data, uint16_t len)
{
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *cipher = &hop->forward;

	cell_start(cell, hop->circ_id, command);
	payload[RELAY_OFFSET_COMMAND] = relay_command;
	wire_write_u16(payload + RELAY_OFFSET_LENGTH, len);
	memcpy(payload + RELAY_HEADER_LEN, data, len);
	relay_digest_stamp(&hop->forward_digest, payload);
	relay_crypt_burst(engine, &cipher, &payload, 1);
}

/* A relay cell meant for a hop beyond the relay: "recognized" is not
 * zero once the relay removed our layer. */
static void
unrecognized_cell(struct hop *hop, uint8_t cell[CELL_LEN])
{
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *cipher = &hop->forward;

	cell_start(cell, hop->circ_id, CELL_COMMAND_RELAY);
	random_bytes(payload, CELL_PAYLOAD_LEN);
	wire_write_u16(payload + RELAY_OFFSET_RECOGNIZED, 0x5a5a);
	relay_crypt_burst(engine, &cipher, &payload, 1);
}

/* EXTEND2 (tor-spec 5.1.2) to the closed port, with a random RSA
 * identity and an ntor onion skin the next hop would never see. */
static uint16_t
extend2_body(uint8_t out[RELAY_DATA_MAX])
{
	static struct extend2_cell body;
	static uint8_t skin[NTOR_ONIONSKIN_LEN];
	ssize_t n;

	memset(&body, 0, sizeof(body));
	body.n_specifiers = 2;
	body.specifiers[0].type = LINK_SPECIFIER_IPV4;
	body.specifiers[0].length = LINK_SPECIFIER_IPV4_LEN;
	memcpy(body.specifiers[0].u.ipv4.address, &extend_addr.sin_addr.s_addr, 4);
	body.specifiers[0].u.ipv4.port = ntohs(extend_addr.sin_port);
	body.specifiers[1].type = LINK_SPECIFIER_LEGACY_ID;
	body.specifiers[1].length = LINK_SPECIFIER_LEGACY_ID_LEN;
	random_bytes(body.specifiers[1].u.legacy_id, LINK_SPECIFIER_LEGACY_ID_LEN);
	random_bytes(skin, sizeof(skin));
	body.create2.htype = HANDSHAKE_TYPE_NTOR;
	body.create2.hlen = NTOR_ONIONSKIN_LEN;
	body.create2.hdata = skin;
	n = extend2_cell_encode(&body, out, RELAY_DATA_MAX);
	if (n < 0)
		die("extend2_cell_encode");
	return (uint16_t)n;
}

static void
send_extend2(struct link *l, struct hop *hop)
{
	uint8_t cell[CELL_LEN], body[RELAY_DATA_MAX];
	uint16_t len = extend2_body(body);

	relay_cell(hop, cell, CELL_COMMAND_RELAY_EARLY, RELAY_COMMAND_EXTEND2, body, len);
	send_cell(l, cell);
}

/* The circuit is alive and in step: an EXTEND2 to the closed port comes
 * back as DESTROY CHANNEL_CLOSED (tor's and hsrelay's reason for a next hop it
 * cannot reach). This ends the circuit. */
static bool
extends(struct link *l, struct hop *hop)
{
	send_extend2(l, hop);
	if (!expect(l, hop->circ_id, CELL_COMMAND_DESTROY, DESTROY_REASON_CHANNEL_CLOSED, NULL))
		return false;
	expected.extend_failures++;
	return true;
}

/* A CREATE_FAST whose CREATED_FAST must be the next cell on the link:
 * everything the relay did with earlier cells of the link (closing a
 * circuit included) was queued before it. */
static bool
barrier(struct link *l, struct hop *hop)
{
	static struct hop scratch;

	return create_fast(l, hop != NULL ? hop : &scratch);
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */

static struct link *l1;
static struct hop hop_c;	/* made in scenario 1, checked at the end */

static bool
scenario_unrecognized(void)
{
	struct hop a, b;
	uint8_t cell[CELL_LEN];

	if (!create_fast(l1, &a) || !create_ntor(l1, &b))
		return false;
	unrecognized_cell(&a, cell);
	send_cell(l1, cell);
	if (!expect(l1, a.circ_id, CELL_COMMAND_DESTROY, DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.closed_protocol++;
	/* Nothing about B comes before C's answer. */
	if (!barrier(l1, &hop_c))
		return false;
	if (!extends(l1, &b))
		return false;
	snprintf(detail, sizeof(detail), "unrecognized RELAY on A 0x%08x -> DESTROY PROTOCOL; "
			"CREATE_FAST C 0x%08x -> CREATED_FAST; EXTEND2 on B (ntor) 0x%08x -> "
			"DESTROY CHANNEL_CLOSED", a.circ_id, hop_c.circ_id, b.circ_id);
	return true;
}

static bool
scenario_relay_early(void)
{
	struct hop d, e;
	uint8_t cell[CELL_LEN], body[RELAY_DATA_MAX];
	uint16_t len;

	if (!create_fast(l1, &d) || !create_fast(l1, &e))
		return false;
	for (int i = 0; i < MAX_RELAY_EARLY; i++) {
		relay_cell(&d, cell, CELL_COMMAND_RELAY_EARLY, RELAY_COMMAND_DROP, NULL, 0);
		send_cell(l1, cell);
	}
	/* Eight accepted: no DESTROY before the barrier's answer. */
	if (!barrier(l1, NULL))
		return false;
	len = extend2_body(body);
	relay_cell(&d, cell, CELL_COMMAND_RELAY_EARLY, RELAY_COMMAND_EXTEND2, body, len);
	send_cell(l1, cell);
	if (!expect(l1, d.circ_id, CELL_COMMAND_DESTROY, DESTROY_REASON_PROTOCOL, NULL))
		return false;
	expected.closed_protocol++;
	if (!extends(l1, &e))
		return false;
	snprintf(detail, sizeof(detail), "8 RELAY_EARLY on 0x%08x accepted; the 9th (an EXTEND2) "
			"-> DESTROY PROTOCOL; EXTEND2 on 0x%08x -> DESTROY CHANNEL_CLOSED", d.circ_id,
			e.circ_id);
	return true;
}

static bool
scenario_bad_create2(void)
{
	static const char *const names[] = {
		"wrong NODEID", "unknown KEYID", "ntor HLEN 83", "TAP (type 0)", "type 9",
	};
	uint8_t cell[CELL_LEN], skin[TAP_ONIONSKIN_LEN];
	struct ntor_client_state st;
	struct hop keep, again;
	uint32_t ids[5];

	if (!create_fast(l1, &keep))
		return false;
	for (unsigned i = 0; i < 5; i++) {
		ids[i] = new_circ_id();
		switch (i) {
		case 0:
		case 1:
			ntor_skin(&st, skin, i == 0, i == 1);
			create2_cell(cell, ids[i], HANDSHAKE_TYPE_NTOR, skin, NTOR_ONIONSKIN_LEN);
			break;
		case 2:
			ntor_skin(&st, skin, false, false);
			create2_cell(cell, ids[i], HANDSHAKE_TYPE_NTOR, skin, NTOR_ONIONSKIN_LEN - 1);
			break;
		case 3:
			random_bytes(skin, TAP_ONIONSKIN_LEN);
			create2_cell(cell, ids[i], HANDSHAKE_TYPE_TAP, skin, TAP_ONIONSKIN_LEN);
			break;
		default:
			ntor_skin(&st, skin, false, false);
			create2_cell(cell, ids[i], 9, skin, NTOR_ONIONSKIN_LEN);
			break;
		}
		send_cell(l1, cell);
		if (!expect(l1, ids[i], CELL_COMMAND_DESTROY, DESTROY_REASON_PROTOCOL, NULL)) {
			size_t n = strlen(detail);

			snprintf(detail + n, sizeof(detail) - n, " (CREATE2 with %s)", names[i]);
			return false;
		}
		expected.create_failures++;
	}
	/* Nothing was installed for a refused id: it is free for a new
	 * circuit. */
	{
		uint8_t x[CREATE_FAST_KEY_LEN];
		struct cell c;

		fast_cell(cell, ids[0], x);
		send_cell(l1, cell);
		if (!expect(l1, ids[0], CELL_COMMAND_CREATED_FAST, -1, &c) ||
		    !fast_complete(&again, ids[0], x, &c))
			return false;
	}
	if (!extends(l1, &again) || !extends(l1, &keep))
		return false;
	snprintf(detail, sizeof(detail), "CREATE2 with %s, %s, %s, %s, %s -> DESTROY PROTOCOL "
			"each (0x%08x..0x%08x); the first id is free again (CREATED_FAST); the "
			"other circuit extends", names[0], names[1], names[2], names[3], names[4],
			ids[0], ids[4]);
	return true;
}

static bool
scenario_reused_id(void)
{
	uint8_t cell[CELL_LEN], skin[NTOR_ONIONSKIN_LEN], x[CREATE_FAST_KEY_LEN];
	struct ntor_client_state st;
	struct hop g;

	if (!create_ntor(l1, &g))
		return false;
	ntor_skin(&st, skin, false, false);
	create2_cell(cell, g.circ_id, HANDSHAKE_TYPE_NTOR, skin, NTOR_ONIONSKIN_LEN);
	send_cell(l1, cell);
	fast_cell(cell, g.circ_id, x);
	send_cell(l1, cell);
	/* Both dropped: the barrier's CREATED_FAST is the next cell. */
	if (!barrier(l1, NULL))
		return false;
	/* G keeps the keys of its first handshake. */
	if (!extends(l1, &g))
		return false;
	snprintf(detail, sizeof(detail), "CREATE2 and CREATE_FAST on open 0x%08x dropped; it "
			"still extends with its first keys", g.circ_id);
	return true;
}

enum garbage {
	GARBAGE_BAD_TAG,
	GARBAGE_OVERSIZED,
	GARBAGE_NOT_TLS,
};

static bool
garbage_link(enum garbage kind, const char *name, char *how, size_t how_len)
{
	static struct link l;
	struct hop h;
	bool ok;

	if (kind == GARBAGE_NOT_TLS) {
		static const char text[] = "GET / HTTP/1.0\r\n\r\n";

		if (!link_connect(&l, name, true))
			return false;
		send_all(&l, (const uint8_t *)text, sizeof(text) - 1);
	} else {
		if (!link_open(&l, name) || !create_fast(&l, &h))
			return false;
		if (kind == GARBAGE_BAD_TAG) {
			uint8_t cell[CELL_LEN];

			relay_cell(&h, cell, CELL_COMMAND_RELAY, RELAY_COMMAND_DROP, NULL, 0);
			send_record(&l, TLS_CONTENT_APPLICATION_DATA, cell, CELL_LEN, true);
		} else {
			/* RFC 8446 5.2: TLSCiphertext.length must not exceed
			 * 2^14 + 256. */
			static const uint8_t header[5] = { 0x17, 0x03, 0x03, 0x41, 0x01 };

			send_all(&l, header, sizeof(header));
		}
	}
	ok = expect_closed(&l);
	if (ok && kind == GARBAGE_NOT_TLS)
		expected.tls_failures++;
	else if (ok)
		expected.drop_bad_record++;
	/* Before the handover, what the relay sent is plain TLS: an alert
	 * record is readable. */
	if (kind == GARBAGE_NOT_TLS && l.in_len >= 7 && l.in[0] == TLS_CONTENT_ALERT)
		snprintf(how, how_len, "TLS alert %u/%u, then %s", l.in[5], l.in[6], l.how);
	else
		snprintf(how, how_len, "%s", l.how);
	link_close(&l);
	return ok;
}

static bool
scenario_record_garbage(void)
{
	static const char *const names[] = { "L2", "L3", "L4" };
	static const char *const what[] = {
		"bad GCM tag", "record length 16641", "plain HTTP instead of TLS",
	};
	char how[3][160];
	struct hop h;

	for (int k = GARBAGE_BAD_TAG; k <= GARBAGE_NOT_TLS; k++) {
		if (!garbage_link((enum garbage)k, names[k], how[k], sizeof(how[k]))) {
			size_t n = strlen(detail);

			snprintf(detail + n, sizeof(detail) - n, " (%s)", what[k]);
			return false;
		}
	}
	if (!barrier(l1, &h) || !extends(l1, &h))
		return false;
	snprintf(detail, sizeof(detail), "%s -> %s; %s -> %s; %s -> %s; L1 still creates and "
			"extends", what[0], how[0], what[1], how[1], what[2], how[2]);
	return true;
}

/* A variable-length cell (4-byte circuit id 0) with len payload bytes. */
static size_t
var_cell(uint8_t *out, uint8_t command, uint16_t len)
{
	memset(out, 0, 7);
	out[4] = command;
	wire_write_u16(out + 5, len);
	random_bytes(out + 7, len);
	return 7u + len;
}

static bool
scenario_var_cells(void)
{
	static uint8_t buf[7 + 65535];
	struct hop h;
	size_t n;

	n = var_cell(buf, CELL_COMMAND_VPADDING, 60000);
	send_plain(l1, buf, n, TLS_RECORD_MAX_PLAINTEXT);
	n = var_cell(buf, CELL_COMMAND_VPADDING, 60000);
	send_plain(l1, buf, n, 1000);
	n = var_cell(buf, 0xf0, 100);
	send_plain(l1, buf, n, TLS_RECORD_MAX_PLAINTEXT);
	if (!barrier(l1, &h) || !extends(l1, &h))
		return false;
	snprintf(detail, sizeof(detail), "VPADDING 60000 B in 16 KB records and in 1000 B "
			"records, var cell 0xf0 of 100 B: ignored, the link creates and extends");
	return true;
}

/* ------------------------------------------------------------------ */
/* Probes of known differences from tor                                */

/* Prints "ok: NAME: ..." or, when the relay failed the probe, "LABEL:
 * NAME: ..." with LABEL "diverges" (from tor) or "bug" (of hsrelay). */
static void probe(const char *label, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
probe(const char *label, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s: ", ok ? "ok" : label, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		divergences++;
}

/* P1: tor-spec 5.1.1, the initiator sets the high bit. */
static void
probe_low_circ_id(void)
{
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN];
	uint32_t circ_id = 0x00000077u;
	struct cell c;
	int rc;

	fast_cell(cell, circ_id, x);
	send_cell(l1, cell);
	rc = next_cell(l1, &c, IO_TIMEOUT_MS);
	if (rc == 1 && c.circ_id == circ_id && c.command == CELL_COMMAND_DESTROY &&
	    c.payload[0] == DESTROY_REASON_PROTOCOL) {
		/* hsrelay's control thread refuses it as a failed create. */
		expected.create_failures++;
		probe("diverges", "P1 low circuit id from a client", true, "DESTROY PROTOCOL, as tor");
		return;
	}
	if (rc == 1 && c.circ_id == circ_id && c.command == CELL_COMMAND_CREATED_FAST) {
		struct hop h;

		probe("diverges", "P1 low circuit id from a client", false, "CREATE_FAST on 0x%08x answered "
				"CREATED_FAST (tor command.c: DESTROY PROTOCOL, \"unexpected "
				"circ_id\")", circ_id);
		/* Leave nothing open behind. */
		if (fast_complete(&h, circ_id, x, &c))
			extends(l1, &h);
		return;
	}
	probe("diverges", "P1 low circuit id from a client", false, "unexpected answer (%d)", rc);
}

/* P2: two CREATE_FAST with one new id in one record. */
static void
probe_double_create(void)
{
	uint8_t cells[2 * CELL_LEN], x[2][CREATE_FAST_KEY_LEN];
	uint32_t circ_id = new_circ_id();
	struct cell c;
	struct hop h;

	fast_cell(cells, circ_id, x[0]);
	fast_cell(cells + CELL_LEN, circ_id, x[1]);
	send_plain(l1, cells, sizeof(cells), TLS_RECORD_MAX_PLAINTEXT);
	if (!expect(l1, circ_id, CELL_COMMAND_CREATED_FAST, -1, &c) ||
	    !fast_complete(&h, circ_id, x[0], &c)) {
		probe("diverges", "P2 CREATE_FAST twice on one new id", false, "%s", detail);
		return;
	}
	/* tor: the second is dropped; the barrier's answer comes next. */
	{
		uint8_t cell[CELL_LEN], bx[CREATE_FAST_KEY_LEN];
		uint32_t barrier_id = new_circ_id();

		int rc;

		fast_cell(cell, barrier_id, bx);
		send_cell(l1, cell);
		rc = next_cell(l1, &c, IO_TIMEOUT_MS);
		if (rc == 1 && c.circ_id == barrier_id && c.command == CELL_COMMAND_CREATED_FAST) {
			probe("diverges", "P2 CREATE_FAST twice on one new id", true, "second one dropped, "
					"as tor");
			extends(l1, &h);
			return;
		}
		if (rc == 1 && c.circ_id == circ_id && c.command == CELL_COMMAND_DESTROY) {
			char text[96];
			bool alive;

			describe(&c, text, sizeof(text));
			expect(l1, barrier_id, CELL_COMMAND_CREATED_FAST, -1, NULL);
			/* Is the circuit the client was told is destroyed
			 * still open in the relay, with the first keys? */
			alive = extends(l1, &h);
			probe("diverges", "P2 CREATE_FAST twice on one new id", false, "CREATED_FAST then %s "
					"for the second (tor drops it: the id is in use); the relay "
					"%s the circuit%s", text, alive ? "still holds" :
					"does not hold", alive ? " the client was told is gone "
					"(EXTEND2 under the first keys -> DESTROY CHANNEL_CLOSED)" : "");
			return;
		}
		probe("diverges", "P2 CREATE_FAST twice on one new id", false, "unexpected answer");
	}
}

/* P3: unknown var cell longer than the worker's carry buffer. */
static void
probe_long_unknown_var(void)
{
	static struct link l;
	static uint8_t buf[7 + 10000];
	struct hop h;
	size_t n;

	if (!link_open(&l, "L5") || !create_fast(&l, &h)) {
		probe("diverges", "P3 unknown var cell of 10000 B", false, "link set-up: %s", detail);
		link_close(&l);
		return;
	}
	n = var_cell(buf, 0xf0, 10000);
	send_plain(&l, buf, n, 1000);
	if (barrier(&l, NULL) && extends(&l, &h))
		probe("diverges", "P3 unknown var cell of 10000 B", true, "ignored, as tor");
	else
		probe("diverges", "P3 unknown var cell of 10000 B", false, "in 1000 B records: the link "
				"ended (%s) (tor channeltls.c ignores a var cell of unknown "
				"command of any length)", l.closed ? l.how : detail);
	link_close(&l);
}

/* P4: a ClientHello sent as soon as connect() returns; up to 5 tries,
 * each must get an answer within 1.5 s. */
static void
probe_accept_race(void)
{
	for (int attempt = 1; attempt <= 5; attempt++) {
		static struct link l;
		uint8_t buf[16384];
		size_t n;

		if (!link_connect(&l, "race", false)) {
			probe("bug", "P4 ClientHello right after the TCP handshake", false, "%s",
					detail);
			return;
		}
		if (tls_session_create(tls_client, &l.tls) != 0)
			die("tls_session_create");
		tls_session_step(l.tls);
		while ((n = tls_session_drain_output(l.tls, buf, sizeof(buf))) > 0)
			send_all(&l, buf, n);
		if (!pump(&l, 1500)) {
			probe("bug", "P4 ClientHello right after the TCP handshake", false, "connection %d: "
					"no answer in 1.5 s (%s): the worker dropped the READABLE event "
					"that came in one batch with ACCEPTED (ev.user not yet set)",
					attempt, l.closed ? l.how : "open, silent");
			link_close(&l);
			return;
		}
		link_close(&l);
	}
	probe("bug", "P4 ClientHello right after the TCP handshake", true, "5 connections answered");
}

/* P5: every extension to a closed port costs the relay a TCP connection
 * it never releases (the RESET handle is not passed to tcp_abort()).
 * With MaxLinksPerWorker 16 (32 TCP connections), 40 more of them leave
 * no room for a new link. Run last. */
static void
probe_connection_leak(void)
{
	static struct link l;
	struct hop h;
	int done = 0;

	for (; done < 40; done++)
		if (!create_fast(l1, &h) || !extends(l1, &h))
			break;
	if (done < 40) {
		probe("bug", "P5 TCP connections after 40 failed extensions", false, "extension %d: %s",
				done + 1, detail);
		return;
	}
	if (link_open(&l, "L6")) {
		probe("bug", "P5 TCP connections after 40 failed extensions", true, "a new link opens");
	} else {
		/* hsrelay had no connection for it: not accepted. */
		if (!l.closed || strncmp(l.how, "connect", 7) != 0)
			expected.links_accepted--;
		probe("bug", "P5 TCP connections after 40 failed extensions", false, "a new link does "
				"not open (%s): each refused connect leaked a TCP connection", detail);
	}
	link_close(&l);
}

/* ------------------------------------------------------------------ */

static void
run(const char *name, bool (*scenario)(void))
{
	detail[0] = '\0';
	printf("scenario %s\n", name);
	fflush(stdout);
	if (scenario()) {
		printf("ok: %s: %s\n", name, detail);
	} else {
		printf("FAIL: %s: %s\n", name, detail);
		failures++;
	}
	fflush(stdout);
}

static bool
final_check(void)
{
	struct hop h;

	if (!barrier(l1, &h) || !extends(l1, &h) || !extends(l1, &hop_c))
		return false;
	snprintf(detail, sizeof(detail), "L1 carries a fresh circuit 0x%08x (CREATED_FAST, then "
			"extends), and C 0x%08x from scenario 1 still extends", h.circ_id,
			hop_c.circ_id);
	return true;
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

int
main(int argc, char **argv)
{
	bool strict = false;
	char *colon;

	alarm(50);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 7 && strcmp(argv[6], "--strict") == 0) {
		strict = true;
		argc--;
	}
	if (argc != 6 || (colon = strchr(argv[5], ':')) == NULL) {
		fprintf(stderr, "usage: hostile_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR "
				"EXTEND_ADDR:PORT [--strict]\n");
		return 2;
	}
	parse_addr(argv[1], argv[2], &relay_addr);
	*colon = '\0';
	parse_addr(argv[5], colon + 1, &extend_addr);
	load_relay_keys(argv[3]);
	make_client_credentials(argv[4]);
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	if (engine == NULL || tls_handshake_context_create(TLS_ROLE_CLIENT, NULL,
			&tls_client) != 0)
		die("engine / TLS context");
	l1 = calloc(1, sizeof(*l1));
	if (l1 == NULL)
		die("out of memory");
	if (!link_open(l1, "L1"))
		die("L1: %s", detail);
	printf("ok: L1 open: TLS, then VERSIONS CERTS AUTH_CHALLENGE NETINFO from the relay "
			"(CERTS validated for its fingerprint), our NETINFO as a client\n");

	run("1 unrecognized relay cell closes that circuit only", scenario_unrecognized);
	run("2 ninth RELAY_EARLY", scenario_relay_early);
	run("3 bad CREATE2 handshakes", scenario_bad_create2);
	run("4 CREATE2 on an open circuit id", scenario_reused_id);
	run("5 record-layer garbage on other links", scenario_record_garbage);
	run("6 VPADDING 60 KB and an unknown var cell", scenario_var_cells);
	probe_low_circ_id();
	probe_double_create();
	probe_long_unknown_var();
	probe_accept_race();
	run("7 after everything, L1 still serves", final_check);
	probe_connection_leak();

	link_close(l1);
	free(l1);
	link_credentials_free(client_credentials);
	tls_handshake_context_free(tls_client);
	crypto_engine_destroy(engine);
	printf("expect: links_accepted=%u tls_failures=%u create_failures=%u closed_protocol=%u "
			"drop_bad_record=%u extend_failures=%u\n", expected.links_accepted,
			expected.tls_failures, expected.create_failures, expected.closed_protocol,
			expected.drop_bad_record, expected.extend_failures);
	printf("%s: %u scenario failures, %u probes where hsrelay differs from tor or has a bug\n",
			failures == 0 ? "PASS" : "FAIL", failures, divergences);
	return failures > 0 || (strict && divergences > 0) ? 1 : 0;
}
