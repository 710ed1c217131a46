/* keyupdate_client ADDR PORT CLIENT_DATADIR
 *
 * TLS 1.3 KeyUpdate against hsrelay's ORPort (run by relay_keyupdate.sh).
 * The TLS client is OpenSSL's own stack (libssl over memory BIOs and a
 * kernel TCP socket), so every KeyUpdate hsrelay sends and every record it
 * seals under its next keys is checked by OpenSSL. The link handshake is
 * control/link_handshake.h as an unauthenticated initiator (a client;
 * CLIENT_DATADIR holds the keys the module wants, made on first use).
 *
 * Scenarios:
 *   1. links L1 (TLS_AES_128_GCM_SHA256) and L2 (TLS_AES_256_GCM_SHA384):
 *      CREATE_FAST -> CREATED_FAST; then rounds of SSL_key_update()
 *      (update_requested and update_not_requested, alone and two in one
 *      flight) each sent in one TCP write together with VPADDING records
 *      and a CREATE_FAST behind it: every CREATE_FAST must be answered by
 *      a CREATED_FAST whose KH matches (cells both ways, under keys
 *      updated on both sides), and hsrelay must have sent exactly one
 *      KeyUpdate(update_not_requested) per update_requested (counted by
 *      OpenSSL's message callback);
 *   2. on new links, records sealed by hand under the client's traffic
 *      key (from the keylog callback, at the sequence number OpenSSL
 *      reached): a KeyUpdate with request_update 2, one with length 2, and
 *      a KeyUpdate followed by a NewSessionTicket in the same record (not
 *      at a record boundary) -> hsrelay closes that link; and a valid
 *      KeyUpdate followed by a CREATE_FAST still under the old key ->
 *      hsrelay closes the link without answering (it must not open
 *      records after a KeyUpdate with the old key);
 *   3. L1 and L2 still answer a CREATE_FAST.
 * Prints "ok: ..." / "FAIL: ..." per scenario and an "expect:" line with
 * the counters hsrelay must show. Exit 0 when all passed; alarm after 50 s.
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

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "control/link_cells.h"
#include "control/link_handshake.h"
#include "control/relay_keys.h"
#include "control/tls_handshake.h"
#include "crypto/engine.h"
#include "crypto/kdf.h"
#include "crypto/rsa_identity.h"
#include "crypto/tls_key_update.h"
#include "crypto/tls_record.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"
#include "tests/interop/test_client.h"

#define IO_TIMEOUT_MS 5000
#define PLAIN_MAX (1u << 18)
/* CREATE_FAST X[20]; KDF-TOR output KH | ... (tor-spec 5.1.5, 5.2.1). */
#define FAST_KEY_LEN 20

struct link {
	const char *name;
	int fd;
	SSL *ssl;
	BIO *rbio, *wbio;
	bool closed;
	char how[96];
	bool counting;		/* count records we send (after the handshake) */
	uint64_t records_out;
	uint64_t bytes_in;
	unsigned key_updates_in;	/* KeyUpdates OpenSSL read from hsrelay */
	uint8_t secret[48];	/* CLIENT_TRAFFIC_SECRET_0 */
	size_t secret_len;
	size_t plain_len;
	uint8_t plain[PLAIN_MAX];
};

static struct crypto_engine *engine;
static struct link_credentials *client_credentials;
static struct sockaddr_in relay_addr;
static uint32_t next_circ_id = 0x80000001u;
static int ex_index;
static char detail[512];
static unsigned failures;
static struct {
	unsigned links_accepted, key_updates_in, key_updates_out, drop_bad_record;
} expected;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("keyupdate_client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

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
run(const char *name, bool (*scenario)(void))
{
	detail[0] = '\0';
	if (scenario()) {
		printf("ok: %s\n", name);
	} else {
		printf("FAIL: %s: %s\n", name, detail);
		failures++;
	}
}

/* ------------------------------------------------------------------ */
/* OpenSSL over a socket, with the bytes moved by hand                 */

static void
keylog(const SSL *ssl, const char *line)
{
	static const char label[] = "CLIENT_TRAFFIC_SECRET_0 ";
	struct link *l = SSL_get_ex_data(ssl, ex_index);
	const char *hex;
	size_t n = 0;

	if (l == NULL || strncmp(line, label, sizeof(label) - 1) != 0)
		return;
	hex = strchr(line + sizeof(label) - 1, ' ');
	if (hex == NULL)
		return;
	for (hex++; hex[0] && hex[1] && n < sizeof(l->secret); hex += 2) {
		unsigned v;

		if (sscanf(hex, "%2x", &v) != 1)
			return;
		l->secret[n++] = (uint8_t)v;
	}
	l->secret_len = n;
}

/* Counts the KeyUpdate messages OpenSSL reads from hsrelay. */
static void
message_seen(int write_p, int version, int content_type, const void *buf, size_t len,
		SSL *ssl, void *arg)
{
	struct link *l = arg;

	(void)version;
	(void)ssl;
	if (!write_p && content_type == SSL3_RT_HANDSHAKE && len >= 1 &&
	    ((const uint8_t *)buf)[0] == TLS_HANDSHAKE_KEY_UPDATE)
		l->key_updates_in++;
}

static void
mark_closed(struct link *l, const char *how)
{
	if (!l->closed)
		snprintf(l->how, sizeof(l->how), "%s", how);
	l->closed = true;
}

static void
send_all(struct link *l, const uint8_t *p, size_t n)
{
	while (n > 0 && !l->closed) {
		ssize_t k = send(l->fd, p, n, MSG_NOSIGNAL);

		if (k <= 0) {
			mark_closed(l, "send failed");
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

/* Sends everything OpenSSL wrote, in one send(). */
static void
flush(struct link *l)
{
	static uint8_t buf[1 << 18];
	size_t n = BIO_ctrl_pending(l->wbio);

	if (n == 0)
		return;
	if (n > sizeof(buf))
		die("%s: too much output", l->name);
	if (BIO_read(l->wbio, buf, (int)n) != (int)n)
		die("BIO_read");
	if (l->counting) {
		for (size_t off = 0; off + TLS_RECORD_HEADER_LEN <= n;
		     off += TLS_RECORD_HEADER_LEN + ((size_t)buf[off + 3] << 8 | buf[off + 4]))
			l->records_out++;
	}
	send_all(l, buf, n);
}

/* Waits for bytes from hsrelay and gives them to OpenSSL. */
static bool
pump_in(struct link *l, int timeout_ms)
{
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	uint8_t buf[65536];
	ssize_t n;

	if (l->closed)
		return false;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	n = recv(l->fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		mark_closed(l, n == 0 ? "TCP FIN" : errno == ECONNRESET ? "TCP RST" : "recv error");
		return false;
	}
	if (BIO_write(l->rbio, buf, (int)n) != (int)n)
		die("BIO_write");
	l->bytes_in += (uint64_t)n;
	return true;
}

/* Reads what OpenSSL can give into l->plain, waiting up to timeout_ms for
 * more bytes. False when nothing came (timeout or closed). */
static bool
read_more(struct link *l, int timeout_ms)
{
	for (;;) {
		int r;

		if (l->plain_len == PLAIN_MAX)
			die("%s: plaintext buffer full", l->name);
		r = SSL_read(l->ssl, l->plain + l->plain_len, (int)(PLAIN_MAX - l->plain_len));
		flush(l);
		if (r > 0) {
			l->plain_len += (size_t)r;
			return true;
		}
		switch (SSL_get_error(l->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			/* After a post-handshake message SSL_read returns with
			 * more records still in the rbio. */
			if (BIO_ctrl_pending(l->rbio) > 0)
				continue;
			if (!pump_in(l, timeout_ms))
				return false;
			continue;
		case SSL_ERROR_ZERO_RETURN:
			mark_closed(l, "close_notify");
			return false;
		default:
			mark_closed(l, "TLS error or alert");
			ERR_clear_error();
			return false;
		}
	}
}

/* Queues plaintext with SSL_write (one record per call); flush() sends. */
static void
write_plain(struct link *l, const uint8_t *p, size_t n)
{
	if (SSL_write(l->ssl, p, (int)n) != (int)n)
		die("%s: SSL_write", l->name);
}

/* ------------------------------------------------------------------ */
/* Cells                                                               */

struct cell {
	uint32_t circ_id;
	uint8_t command;
	uint16_t len;
	uint8_t payload[CELL_PAYLOAD_LEN];
};

static uint32_t
new_circ_id(void)
{
	return next_circ_id++;
}

/* The next cell other than padding: 1, 0 on timeout, -1 when closed. */
static int
next_cell(struct link *l, struct cell *c)
{
	for (;;) {
		const uint8_t *p = l->plain;
		struct cell_frame frame;

		if (cell_frame_parse(&p, l->plain + l->plain_len, CELL_CIRC_ID_LEN, &frame,
				NULL) == 0) {
			size_t used = (size_t)(p - l->plain);

			c->circ_id = frame.circ_id;
			c->command = frame.command;
			c->len = frame.payload_len;
			memcpy(c->payload, frame.payload, frame.payload_len);
			memmove(l->plain, p, l->plain_len - used);
			l->plain_len -= used;
			if (c->command == CELL_COMMAND_PADDING || c->command == CELL_COMMAND_VPADDING)
				continue;
			return 1;
		}
		if (!read_more(l, IO_TIMEOUT_MS))
			return l->closed ? -1 : 0;
	}
}

static void
create_fast_cell(uint8_t cell[CELL_LEN], uint32_t circ_id, uint8_t x[FAST_KEY_LEN])
{
	if (getrandom(x, FAST_KEY_LEN, 0) != FAST_KEY_LEN)
		die("getrandom");
	memset(cell, 0, CELL_LEN);
	cell_wire_set_circ_id(cell, circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE_FAST;
	memcpy(cell_wire_payload(cell), x, FAST_KEY_LEN);
}

/* The next cell must be CREATED_FAST on circ_id with KH = KDF-TOR(X|Y). */
static bool
expect_created_fast(struct link *l, uint32_t circ_id, const uint8_t x[FAST_KEY_LEN])
{
	uint8_t k0[2 * FAST_KEY_LEN], kh[20];
	struct cell c;
	int rc = next_cell(l, &c);

	if (rc < 0)
		return why("%s closed (%s) while waiting for CREATED_FAST on 0x%08x", l->name,
				l->how, circ_id);
	if (rc == 0)
		return why("%s: no CREATED_FAST on 0x%08x within %d ms (%u KeyUpdates read, "
				"%llu bytes received in all)", l->name, circ_id, IO_TIMEOUT_MS,
				l->key_updates_in, (unsigned long long)l->bytes_in);
	if (c.command != CELL_COMMAND_CREATED_FAST || c.circ_id != circ_id)
		return why("%s: got command %u on 0x%08x, wanted CREATED_FAST on 0x%08x", l->name,
				c.command, c.circ_id, circ_id);
	memcpy(k0, x, FAST_KEY_LEN);
	memcpy(k0 + FAST_KEY_LEN, c.payload, FAST_KEY_LEN);
	if (kdf_tor(k0, sizeof(k0), kh, sizeof(kh)) != 0)
		die("kdf_tor");
	if (memcmp(kh, c.payload + FAST_KEY_LEN, sizeof(kh)) != 0)
		return why("%s: CREATED_FAST KH does not match", l->name);
	return true;
}

static bool
create_fast(struct link *l)
{
	uint8_t cell[CELL_LEN], x[FAST_KEY_LEN];
	uint32_t circ_id = new_circ_id();

	create_fast_cell(cell, circ_id, x);
	write_plain(l, cell, CELL_LEN);
	flush(l);
	return expect_created_fast(l, circ_id, x);
}

/* A VPADDING cell of len payload bytes (ignored by the relay). */
static void
write_vpadding(struct link *l, uint16_t len)
{
	static uint8_t cell[CELL_CIRC_ID_LEN + 3 + 4096];

	memset(cell, 0, sizeof(cell));
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_VPADDING;
	cell[CELL_CIRC_ID_LEN + 1] = (uint8_t)(len >> 8);
	cell[CELL_CIRC_ID_LEN + 2] = (uint8_t)len;
	write_plain(l, cell, CELL_CIRC_ID_LEN + 3 + (size_t)len);
}

/* ------------------------------------------------------------------ */
/* Links                                                               */

static int
export_auth(void *arg, const uint8_t cid[LINK_SHA256_LEN], uint8_t out[LINK_SHA256_LEN])
{
	struct link *l = arg;
	static const char label[] = TLS_EXPORTER_LABEL_AUTH0003;

	return SSL_export_keying_material(l->ssl, out, LINK_SHA256_LEN, label,
			sizeof(label) - 1, cid, LINK_SHA256_LEN, 1) == 1 ? 0 : -EIO;
}

static bool
link_open(struct link *l, const char *name, const char *suite)
{
	struct link_handshake_params params;
	struct link_handshake *hs;
	struct timeval limit = { .tv_sec = 3 };
	uint8_t digest[32], *der = NULL;
	SSL_CTX *ctx;
	X509 *cert;
	int der_len, rc;

	memset(l, 0, offsetof(struct link, plain));
	l->name = name;
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (l->fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	if (connect(l->fd, (const struct sockaddr *)&relay_addr, sizeof(relay_addr)) != 0)
		return why("%s: connect: %s", name, strerror(errno));
	expected.links_accepted++;

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, suite) != 1)
		die("SSL_CTX");
	SSL_CTX_set_keylog_callback(ctx, keylog);
	l->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);	/* the SSL keeps its reference */
	l->rbio = BIO_new(BIO_s_mem());
	l->wbio = BIO_new(BIO_s_mem());
	if (l->ssl == NULL || l->rbio == NULL || l->wbio == NULL)
		die("SSL_new");
	BIO_set_mem_eof_return(l->rbio, -1);
	SSL_set_bio(l->ssl, l->rbio, l->wbio);
	SSL_set_ex_data(l->ssl, ex_index, l);
	SSL_set_msg_callback(l->ssl, message_seen);
	SSL_set_msg_callback_arg(l->ssl, l);
	SSL_set_connect_state(l->ssl);
	while ((rc = SSL_do_handshake(l->ssl)) != 1) {
		flush(l);
		if (SSL_get_error(l->ssl, rc) != SSL_ERROR_WANT_READ)
			return why("%s: TLS handshake failed", name);
		if (!pump_in(l, IO_TIMEOUT_MS))
			return why("%s: TLS handshake: %s", name, l->closed ? l->how : "timeout");
	}
	flush(l);
	l->counting = true;
	if (l->secret_len == 0)
		return why("%s: no CLIENT_TRAFFIC_SECRET_0 from the keylog callback", name);
	cert = SSL_get0_peer_certificate(l->ssl);
	if (cert == NULL || (der_len = i2d_X509(cert, &der)) <= 0 ||
	    kdf_sha256(der, (size_t)der_len, digest) != 0)
		die("%s: peer certificate", name);
	OPENSSL_free(der);

	memset(&params, 0, sizeof(params));
	params.role = LINK_ROLE_INITIATOR;
	params.credentials = client_credentials;
	params.export_keying_material = export_auth;
	params.export_arg = l;
	params.peer_address.type = NETINFO_ADDRESS_IPV4;
	memcpy(params.peer_address.bytes, &relay_addr.sin_addr.s_addr, 4);
	params.peer_tls_cert_digest = digest;
	params.authenticate = false;
	if (link_handshake_new(&params, time(NULL), &hs) != 0)
		die("link_handshake_new");
	for (;;) {
		const uint8_t *out, *p = l->plain;
		size_t n = link_handshake_output(hs, &out);

		if (n > 0) {
			write_plain(l, out, n);
			flush(l);
			link_handshake_output_consumed(hs, n);
		}
		if (link_handshake_state(hs) != LINK_HANDSHAKE_IN_PROGRESS)
			break;
		rc = link_handshake_receive(hs, &p, l->plain + l->plain_len, time(NULL), NULL);
		memmove(l->plain, p, l->plain_len - (size_t)(p - l->plain));
		l->plain_len -= (size_t)(p - l->plain);
		if (rc == -EAGAIN && !read_more(l, IO_TIMEOUT_MS))
			break;
	}
	rc = link_handshake_state(hs) == LINK_HANDSHAKE_OPEN;
	if (!rc)
		why("%s: link handshake: %s%s%s", name, link_handshake_reason(hs),
				l->closed ? "; " : "", l->closed ? l->how : "");
	link_handshake_free(hs);
	return rc;
}

static void
link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	SSL_free(l->ssl);
	l->ssl = NULL;
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */

static struct link *l1, *l2;

/* Rounds of key updates on l, each in one TCP write with VPADDING records
 * and a CREATE_FAST behind the KeyUpdate. */
static bool
key_update_rounds(struct link *l)
{
	static const int kinds[][2] = {
		{ SSL_KEY_UPDATE_REQUESTED, -1 },
		{ SSL_KEY_UPDATE_NOT_REQUESTED, -1 },
		{ SSL_KEY_UPDATE_REQUESTED, SSL_KEY_UPDATE_NOT_REQUESTED },
		{ SSL_KEY_UPDATE_NOT_REQUESTED, SSL_KEY_UPDATE_REQUESTED },
		{ SSL_KEY_UPDATE_REQUESTED, SSL_KEY_UPDATE_REQUESTED },
	};
	unsigned requested = 0, sent = 0;

	if (!create_fast(l))
		return false;
	for (unsigned round = 0; round < 3 * sizeof(kinds) / sizeof(kinds[0]); round++) {
		const int *k = kinds[round % (sizeof(kinds) / sizeof(kinds[0]))];
		uint8_t cell[CELL_LEN], x[FAST_KEY_LEN];
		uint32_t circ_id = new_circ_id();

		for (unsigned i = 0; i < 2 && k[i] >= 0; i++) {
			if (SSL_key_update(l->ssl, k[i]) != 1)
				die("SSL_key_update");
			requested += k[i] == SSL_KEY_UPDATE_REQUESTED;
			sent++;
			/* the KeyUpdate goes out with the next record; several
			 * records follow it in the same flight */
			write_vpadding(l, (uint16_t)(100 + 250 * round));
			write_vpadding(l, 7);
		}
		create_fast_cell(cell, circ_id, x);
		write_plain(l, cell, CELL_LEN);
		flush(l);
		if (!expect_created_fast(l, circ_id, x)) {
			char what[sizeof(detail)];

			snprintf(what, sizeof(what), "%s", detail);
			return why("round %u: %s", round, what);
		}
	}
	/* Every KeyUpdate(update_requested) was answered by exactly one
	 * KeyUpdate before the CREATED_FAST that followed it. */
	if (l->key_updates_in != requested)
		return why("%s: hsrelay sent %u KeyUpdates for %u update_requested", l->name,
				l->key_updates_in, requested);
	expected.key_updates_in += sent;
	expected.key_updates_out += requested;
	printf("  [%s] %u KeyUpdates sent (%u update_requested), %u received\n", l->name, sent,
			requested, l->key_updates_in);
	return true;
}

static bool
scenario_valid_aes128(void)
{
	return key_update_rounds(l1);
}

static bool
scenario_valid_aes256(void)
{
	return key_update_rounds(l2);
}

/* Seals a record under the client's first application key at the
 * sequence number OpenSSL reached (the link must not have updated its
 * keys), and sends it at once. */
static void
send_sealed(struct link *l, struct tls_record_dir *dir, uint8_t type, const uint8_t *plaintext,
		size_t len)
{
	static uint8_t wire[TLS_RECORD_MAX_PLAINTEXT + 64];
	struct crypto_iov iov = { wire + TLS_RECORD_HEADER_LEN, (uint32_t)len };
	struct tls_record_seal rec;

	memcpy(wire + TLS_RECORD_HEADER_LEN, plaintext, len);
	memset(&rec, 0, sizeof(rec));
	rec.dir = dir;
	rec.prefix = wire;
	rec.segments = &iov;
	rec.nb_segments = 1;
	rec.content_type = type;
	rec.suffix = wire + TLS_RECORD_HEADER_LEN + len;
	if (tls_record_seal_burst(engine, &rec, 1) != 1)
		die("tls_record_seal_burst");
	send_all(l, wire, TLS_RECORD_HEADER_LEN + len + tls_record_suffix_len(TLS_RECORD_TLS13));
}

static void
first_write_dir(struct link *l, struct tls_record_dir *dir)
{
	uint8_t key[16], iv[12];

	if (l->secret_len != 32 ||
	    kdf_tls13_expand_label(KDF_HASH_SHA256, l->secret, 32, "key", NULL, 0, key, 16) ||
	    kdf_tls13_expand_label(KDF_HASH_SHA256, l->secret, 32, "iv", NULL, 0, iv, 12) ||
	    tls_record_dir_init(engine, dir, TLS_RECORD_TLS13, key, 16, iv, 12, l->records_out))
		die("%s: client write key", l->name);
}

/* A fresh link, a circuit on it, then handshake record body (and, when
 * after is set, an application record still under the first key
 * holding a CREATE_FAST): hsrelay must close the link, without any
 * CREATED_FAST for that CREATE_FAST; and L1 goes on. */
static bool
bad_record(const char *name, const uint8_t *body, size_t len, bool valid_key_update)
{
	struct link *l = calloc(1, sizeof(*l));
	struct tls_record_dir dir;
	struct cell c;
	bool ok = true;
	int rc;

	if (l == NULL)
		die("out of memory");
	if (!link_open(l, name, "TLS_AES_128_GCM_SHA256") || !create_fast(l)) {
		ok = false;
		goto out;
	}
	first_write_dir(l, &dir);
	send_sealed(l, &dir, TLS_CONTENT_HANDSHAKE, body, len);
	if (valid_key_update) {
		uint8_t cell[CELL_LEN], x[FAST_KEY_LEN];

		expected.key_updates_in++;
		create_fast_cell(cell, new_circ_id(), x);
		send_sealed(l, &dir, TLS_CONTENT_APPLICATION_DATA, cell, CELL_LEN);
	}
	expected.drop_bad_record++;
	while ((rc = next_cell(l, &c)) == 1) {
		ok = why("%s: hsrelay answered (command %u) after the record", name, c.command);
	}
	if (ok && rc == 0)
		ok = why("%s still open %d ms after the record", name, IO_TIMEOUT_MS);
	if (ok)
		printf("  [%s] closed by hsrelay (%s)\n", name, l->how);
	tls_record_dir_clear(&dir);
	if (ok && !create_fast(l1))
		ok = false;
out:
	link_close(l);
	free(l);
	return ok;
}

static bool
scenario_bad_request_value(void)
{
	return bad_record("M1", (const uint8_t *)"\x18\x00\x00\x01\x02", 5, false);
}

static bool
scenario_bad_length(void)
{
	return bad_record("M2", (const uint8_t *)"\x18\x00\x00\x02\x00\x00", 6, false);
}

static bool
scenario_not_at_record_end(void)
{
	return bad_record("M3", (const uint8_t *)"\x18\x00\x00\x01\x00\x04\x00\x00\x00", 9, false);
}

static bool
scenario_old_key_after_update(void)
{
	return bad_record("M4", (const uint8_t *)"\x18\x00\x00\x01\x00", 5, true);
}

static bool
final_check(void)
{
	return create_fast(l1) && create_fast(l2);
}

/* ------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	alarm(50);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4) {
		fprintf(stderr, "usage: keyupdate_client ADDR PORT CLIENT_DATADIR\n");
		return 2;
	}
	memset(&relay_addr, 0, sizeof(relay_addr));
	relay_addr.sin_family = AF_INET;
	relay_addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &relay_addr.sin_addr) != 1)
		die("bad address %s", argv[1]);
	test_client_init("keyupdate_client", argv[1], argv[2]);
	client_credentials = test_link_credentials_create(argv[3]);
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	l1 = calloc(1, sizeof(*l1));
	l2 = calloc(1, sizeof(*l2));
	if (engine == NULL || l1 == NULL || l2 == NULL || ex_index < 0)
		die("setup");
	if (!link_open(l1, "L1", "TLS_AES_128_GCM_SHA256"))
		die("L1: %s", detail);
	if (!link_open(l2, "L2", "TLS_AES_256_GCM_SHA384"))
		die("L2: %s", detail);
	printf("ok: L1 (AES-128) and L2 (AES-256) open: OpenSSL TLS 1.3, link handshake\n");

	run("1a KeyUpdates both ways on L1 (TLS_AES_128_GCM_SHA256)", scenario_valid_aes128);
	run("1b KeyUpdates both ways on L2 (TLS_AES_256_GCM_SHA384)", scenario_valid_aes256);
	run("2a KeyUpdate with request_update 2 closes that link only",
			scenario_bad_request_value);
	run("2b KeyUpdate of length 2 closes that link only", scenario_bad_length);
	run("2c KeyUpdate not at a record boundary closes that link only",
			scenario_not_at_record_end);
	run("2d a record under the old key after a KeyUpdate closes that link only",
			scenario_old_key_after_update);
	run("3 L1 and L2 still answer", final_check);

	link_close(l1);
	link_close(l2);
	free(l1);
	free(l2);
	link_credentials_free(client_credentials);
	crypto_engine_destroy(engine);
	printf("expect: links_accepted=%u key_updates_in=%u key_updates_out=%u "
			"drop_bad_record=%u\n", expected.links_accepted, expected.key_updates_in,
			expected.key_updates_out, expected.drop_bad_record);
	printf("%s: %u scenario failures\n", failures == 0 ? "PASS" : "FAIL", failures);
	return failures > 0 ? 1 : 0;
}
