/* A Tor client of one relay for the interop test programs: see
 * test_client.h. */
#include "tests/interop/test_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
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
#include "crypto/engine.h"
#include "crypto/kdf.h"
#include "crypto/torcert.h"
#include "dataplane/wire.h"
#include "tests/interop/test_record.h"

/* CREATE_FAST X[20]; KDF-TOR output KH | Df | Db | Kf | Kb (tor-spec
 * 5.1.5, 5.2.1). */
#define FAST_MATERIAL_LEN (20 + NTOR_TOR1_KEY_MATERIAL_LEN)

bool test_client_authenticate;
bool test_client_quiet;
struct in_addr test_client_source;
char test_detail[TEST_DETAIL_LEN];

static const char *program_name = "test_client";
static struct crypto_engine *engine;
static struct tls_handshake_context *tls_client;
static struct link_credentials *client_credentials;
static uint8_t relay_fp[RSA_IDENTITY_FINGERPRINT_LEN];
static struct ntor_server_keys relay_ntor;	/* only node_id and public keys used */
static struct sockaddr_in relay_addr;
static uint32_t next_circ_id = 0x80000001u;
static unsigned links_connected;

void
test_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

bool
test_why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(test_detail, sizeof(test_detail), fmt, ap);
	va_end(ap);
	return false;
}

void
test_random_bytes(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n)
		test_die("getrandom");
}

uint32_t
test_new_circ_id(void)
{
	return next_circ_id++;
}

/* ------------------------------------------------------------------ */
/* The client's state                                                  */

void
test_parse_addr(const char *host, const char *port, struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1 || out->sin_port == 0)
		test_die("bad address %s:%s", host, port);
}

void
test_client_init(const char *program, const char *relay_host, const char *relay_port)
{
	program_name = program;
	test_parse_addr(relay_host, relay_port, &relay_addr);
}

struct link_credentials *
test_link_credentials_create(const char *datadir)
{
	struct link_credentials *credentials;
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
		test_die("client keys: %s: %s", kerr.path, kerr.message);
	if (tls_link_credentials_create(relay_keys_identity(keys), 0, now, &tls) != 0)
		test_die("tls_link_credentials_create");
	cross_len = rsa_ed25519_crosscert_create(relay_keys_master(keys)->public_key,
			torcert_hours_from_time(now + 86400), relay_keys_identity(keys), crosscert,
			sizeof(crosscert));
	if (cross_len < 0)
		test_die("rsa_ed25519_crosscert_create");
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
	if (link_credentials_new(&p, now, &credentials) != 0)
		test_die("link_credentials_new");
	tls_link_credentials_free(tls);
	relay_keys_free(keys);
	return credentials;
}

static void
load_relay_keys(const char *datadir)
{
	struct relay_keys *keys;
	struct relay_keys_error kerr;

	if (relay_keys_load_or_create(datadir, time(NULL), &keys, &kerr) != 0)
		test_die("relay keys: %s: %s", kerr.path, kerr.message);
	memcpy(relay_fp, relay_keys_fingerprint(keys), sizeof(relay_fp));
	relay_keys_ntor_server_keys(keys, &relay_ntor);
	/* Only the public halves are needed here. */
	for (size_t i = 0; i < NTOR_MAX_ONION_KEYS; i++)
		memset(relay_ntor.onion_keys[i].secret_key, 0, NTOR_KEY_LEN);
	relay_keys_free(keys);
}

void
test_client_load_keys(const char *relay_datadir, const char *client_datadir)
{
	load_relay_keys(relay_datadir);
	client_credentials = test_link_credentials_create(client_datadir);
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	if (engine == NULL || tls_handshake_context_create(TLS_ROLE_CLIENT, NULL,
			&tls_client) != 0)
		test_die("engine / TLS context");
}

void
test_client_free(void)
{
	link_credentials_free(client_credentials);
	client_credentials = NULL;
	tls_handshake_context_free(tls_client);
	tls_client = NULL;
	crypto_engine_destroy(engine);
	engine = NULL;
}

const struct sockaddr_in *
test_client_relay_addr(void)
{
	return &relay_addr;
}

void
test_client_use_engine(struct crypto_engine *e)
{
	engine = e;
}

struct crypto_engine *
test_client_engine(void)
{
	return engine;
}

struct tls_handshake_context *
test_client_tls_context(void)
{
	return tls_client;
}

unsigned
test_client_links_connected(void)
{
	return links_connected;
}

/* ------------------------------------------------------------------ */
/* Cells                                                               */

const char *
test_command_name(uint8_t command)
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

const char *
test_reason_name(uint8_t reason)
{
	static const char *const names[] = {
		"NONE", "PROTOCOL", "INTERNAL", "REQUESTED", "HIBERNATING",
		"RESOURCELIMIT", "CONNECTFAILED", "OR_IDENTITY", "CHANNEL_CLOSED",
		"FINISHED", "TIMEOUT", "DESTROYED", "NOSUCHSERVICE",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

void
test_cell_describe(const struct test_cell *c, char *buf, size_t len)
{
	if (c->command == CELL_COMMAND_DESTROY)
		snprintf(buf, len, "DESTROY circ 0x%08x reason %s(%u)", c->circ_id,
				test_reason_name(c->payload[0]), c->payload[0]);
	else
		snprintf(buf, len, "%s(%u) circ 0x%08x", test_command_name(c->command),
				c->command, c->circ_id);
}

void
test_cell_start(uint8_t cell[CELL_LEN], uint32_t circ_id, uint8_t command)
{
	memset(cell, 0, CELL_LEN);
	cell_wire_set_circ_id(cell, circ_id);
	cell[CELL_CIRC_ID_LEN] = command;
}

/* ------------------------------------------------------------------ */
/* Links: TLS records sealed and opened here, cells cut from them      */

static void mark_closed(struct test_link *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
mark_closed(struct test_link *l, const char *fmt, ...)
{
	va_list ap;

	if (l->closed)
		return;
	l->closed = true;
	va_start(ap, fmt);
	vsnprintf(l->how, sizeof(l->how), fmt, ap);
	va_end(ap);
}

void
test_link_send_raw(struct test_link *l, const uint8_t *p, size_t n)
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

void
test_link_send_record(struct test_link *l, uint8_t type, const uint8_t *plaintext, size_t len,
		bool corrupt)
{
	static uint8_t wire[TEST_RECORD_WIRE_MAX];
	ssize_t total = test_record_seal(engine, &l->wr, type, plaintext, len, wire);

	if (total < 0)
		test_die("%s: seal failed: %zd", l->name, total);
	if (corrupt)
		wire[total - 1] ^= 0x01;
	test_link_send_raw(l, wire, (size_t)total);
}

void
test_link_send_plain(struct test_link *l, const uint8_t *p, size_t len, size_t chunk)
{
	while (len > 0) {
		size_t n = len < chunk ? len : chunk;

		test_link_send_record(l, TLS_CONTENT_APPLICATION_DATA, p, n, false);
		p += n;
		len -= n;
	}
}

void
test_link_send_cell(struct test_link *l, const uint8_t cell[CELL_LEN])
{
	test_link_send_plain(l, cell, CELL_LEN, TLS_RECORD_MAX_PLAINTEXT);
}

/* test_record_open_all() callback: cell bytes to l->plain; an alert or an
 * unexpected content type closes the link and stops. */
static int
deliver_record(void *arg, uint8_t type, const uint8_t *pt, size_t len)
{
	struct test_link *l = arg;

	if (type == TLS_CONTENT_APPLICATION_DATA) {
		if (len > TEST_LINK_BUF - l->plain_len)
			test_die("%s: too many cell bytes buffered", l->name);
		memcpy(l->plain + l->plain_len, pt, len);
		l->plain_len += len;
	} else if (type == TLS_CONTENT_ALERT) {
		mark_closed(l, "TLS alert %u/%u", len > 0 ? pt[0] : 0, len > 1 ? pt[1] : 0);
	} else if (type != TLS_CONTENT_HANDSHAKE) {
		mark_closed(l, "record of content type %u", type);
	}
	return l->closed;
}

/* Opens every whole record received. */
static void
open_records(struct test_link *l)
{
	int rc;

	if (l->closed)
		return;
	rc = test_record_open_all(engine, &l->rd, l->in, &l->in_len, deliver_record, l);
	if (rc < 0)
		mark_closed(l, "a record from the relay did not open (%d)", rc);
}

bool
test_link_pump(struct test_link *l, int timeout_ms)
{
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	ssize_t n;

	if (l->closed)
		return false;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	if (l->in_len == TEST_LINK_BUF)
		test_die("%s: receive buffer full", l->name);
	n = recv(l->fd, l->in + l->in_len, TEST_LINK_BUF - l->in_len, 0);
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

int
test_link_next_cell(struct test_link *l, struct test_cell *c, int timeout_ms)
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
			if (c->command == CELL_COMMAND_PADDING)
				l->padding_cells++;
			if (c->command == CELL_COMMAND_PADDING ||
			    c->command == CELL_COMMAND_VPADDING)
				continue;
			if (!test_client_quiet) {
				test_cell_describe(c, text, sizeof(text));
				printf("  [%s] <- %s\n", l->name, text);
			}
			return 1;
		}
		if (l->closed)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
				(now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
		if (!test_link_pump(l, left) && l->closed && l->plain_len == 0)
			return -1;
	}
}

bool
test_link_cut_cell(struct test_link *l, size_t *off, struct test_cell *c)
{
	for (;;) {
		const uint8_t *p = l->plain + *off;
		struct cell_frame frame;

		if (cell_frame_parse(&p, l->plain + l->plain_len, CELL_CIRC_ID_LEN, &frame,
				NULL) != 0)
			return false;
		*off = (size_t)(p - l->plain);
		c->circ_id = frame.circ_id;
		c->command = frame.command;
		c->len = frame.payload_len;
		memcpy(c->payload, frame.payload, frame.payload_len);
		if (c->command != CELL_COMMAND_PADDING && c->command != CELL_COMMAND_VPADDING)
			return true;
	}
}

void
test_link_drop_cut(struct test_link *l, size_t off)
{
	memmove(l->plain, l->plain + off, l->plain_len - off);
	l->plain_len -= off;
}

bool
test_link_expect(struct test_link *l, uint32_t circ_id, uint8_t command, int reason,
		struct test_cell *c)
{
	static struct test_cell scratch;
	char text[96];
	int rc;

	if (c == NULL)
		c = &scratch;
	rc = test_link_next_cell(l, c, TEST_IO_TIMEOUT_MS);
	if (rc < 0)
		return test_why("%s closed (%s) while waiting for %s on 0x%08x", l->name, l->how,
				test_command_name(command), circ_id);
	if (rc == 0)
		return test_why("no answer on %s within %d ms (wanted %s on 0x%08x)", l->name,
				TEST_IO_TIMEOUT_MS, test_command_name(command), circ_id);
	test_cell_describe(c, text, sizeof(text));
	if (c->circ_id != circ_id || c->command != command ||
	    (reason >= 0 && c->payload[0] != reason))
		return test_why("%s: got %s, wanted %s on 0x%08x%s%s", l->name, text,
				test_command_name(command), circ_id, reason >= 0 ? " reason " : "",
				reason >= 0 ? test_reason_name((uint8_t)reason) : "");
	return true;
}

static int
export_auth(void *arg, const uint8_t cid[LINK_SHA256_LEN], uint8_t out[LINK_SHA256_LEN])
{
	struct test_link *l = arg;

	return tls_session_export_auth0003(l->tls, cid, out);
}

bool
test_link_connect(struct test_link *l, const char *name)
{
	struct timeval limit = { .tv_sec = 3 };

	memset(l, 0, offsetof(struct test_link, in));
	l->name = name;
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (l->fd < 0)
		test_die("socket: %s", strerror(errno));
	/* Linux applies the send timeout to connect(). */
	setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	if (test_client_source.s_addr != INADDR_ANY) {
		struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr = test_client_source };

		if (bind(l->fd, (const struct sockaddr *)&src, sizeof(src)) != 0)
			test_die("bind to %s: %s", inet_ntoa(test_client_source), strerror(errno));
	}
	if (connect(l->fd, (const struct sockaddr *)&relay_addr, sizeof(relay_addr)) != 0) {
		mark_closed(l, "connect: %s", strerror(errno));
		return test_why("%s: connect to the relay: %s", name, strerror(errno));
	}
	links_connected++;
	return true;
}

/* The TLS handshake as a client and the handover of its keys to the
 * record layer here; what came after the handshake is opened. */
static bool
tls_open(struct test_link *l, const char *name)
{
	struct tls_handover h;
	uint8_t buf[16384];
	size_t n;
	int rc;

	if (tls_session_create(tls_client, &l->tls) != 0)
		test_die("tls_session_create");
	for (;;) {
		rc = tls_session_step(l->tls);
		while ((n = tls_session_drain_output(l->tls, buf, sizeof(buf))) > 0)
			test_link_send_raw(l, buf, n);
		if (rc < 0)
			return test_why("%s: TLS handshake: %s", name, tls_session_error(l->tls));
		if (rc == TLS_SESSION_DONE)
			break;
		if (!test_link_pump(l, TEST_IO_TIMEOUT_MS))
			return test_why("%s: TLS handshake: %s", name,
					l->closed ? l->how : "timeout");
		if (tls_session_feed(l->tls, l->in, l->in_len) != 0)
			return test_why("%s: TLS feed: %s", name, tls_session_error(l->tls));
		l->in_len = 0;
	}
	if (tls_session_handover(l->tls, &h) != 0 ||
	    tls_handover_install(engine, &h, &l->rd, &l->wr) != 0)
		return test_why("%s: handover: %s", name, tls_session_error(l->tls));
	if (h.leftover_len > 0)
		memcpy(l->in, h.leftover, h.leftover_len);
	l->in_len = h.leftover_len;
	tls_handover_wipe(&h);
	l->records = true;
	open_records(l);
	return true;
}

/* The link handshake as an initiator (tor-spec 4), unauthenticated unless
 * test_client_authenticate is set: the
 * relay's CERTS must name the fingerprint of its DataDirectory. */
static bool
link_handshake(struct test_link *l, const char *name)
{
	struct link_handshake_params params;
	struct link_handshake *hs;
	const uint8_t *der, *digest;
	uint8_t fp[RSA_IDENTITY_FINGERPRINT_LEN];
	size_t der_len, n;
	int rc;

	if (tls_session_peer_cert(l->tls, &der, &der_len, &digest) != 0)
		return test_why("%s: the relay sent no TLS certificate", name);
	memset(&params, 0, sizeof(params));
	params.role = LINK_ROLE_INITIATOR;
	params.credentials = client_credentials;
	params.export_keying_material = export_auth;
	params.export_arg = l;
	params.peer_address.type = NETINFO_ADDRESS_IPV4;
	memcpy(params.peer_address.bytes, &relay_addr.sin_addr.s_addr, 4);
	params.peer_tls_cert_digest = digest;
	params.expected_rsa_fingerprint = relay_fp;
	params.authenticate = test_client_authenticate;
	if (link_handshake_new(&params, time(NULL), &hs) != 0)
		test_die("link_handshake_new");
	for (;;) {
		const uint8_t *out, *p = l->plain;

		n = link_handshake_output(hs, &out);
		if (n > 0) {
			test_link_send_plain(l, out, n, TLS_RECORD_MAX_PLAINTEXT);
			link_handshake_output_consumed(hs, n);
		}
		if (link_handshake_state(hs) != LINK_HANDSHAKE_IN_PROGRESS)
			break;
		rc = link_handshake_receive(hs, &p, l->plain + l->plain_len, time(NULL), NULL);
		memmove(l->plain, p, l->plain_len - (size_t)(p - l->plain));
		l->plain_len -= (size_t)(p - l->plain);
		if (rc == -EAGAIN && !test_link_pump(l, TEST_IO_TIMEOUT_MS))
			break;
	}
	if (link_handshake_state(hs) != LINK_HANDSHAKE_OPEN) {
		test_why("%s: link handshake: %s%s%s", name, link_handshake_reason(hs),
				l->closed ? "; " : "", l->closed ? l->how : "");
		link_handshake_free(hs);
		return false;
	}
	rc = link_handshake_peer_rsa_fingerprint(hs, fp);
	link_handshake_free(hs);
	if (rc != 0 || memcmp(fp, relay_fp, sizeof(fp)) != 0)
		return test_why("%s: the relay's CERTS do not name its fingerprint", name);
	return true;
}

bool
test_link_open(struct test_link *l, const char *name)
{
	return test_link_connect(l, name) && tls_open(l, name) && link_handshake(l, name);
}

void
test_link_close(struct test_link *l)
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

/* tor-spec 5.2.2 order: Df, Db, Kf, Kb. */
void
test_hop_init(struct test_hop *hop, uint32_t circ_id, const uint8_t *material)
{
	hop->circ_id = circ_id;
	relay_digest_init(&hop->forward_digest, material);
	relay_digest_init(&hop->backward_digest, material + 20);
	relay_cipher_init(engine, &hop->forward, material + 40);
	relay_cipher_init(engine, &hop->backward, material + 56);
}

void
test_create_fast_cell(uint8_t cell[CELL_LEN], uint32_t circ_id, uint8_t x[CREATE_FAST_KEY_LEN])
{
	test_random_bytes(x, CREATE_FAST_KEY_LEN);
	test_cell_start(cell, circ_id, CELL_COMMAND_CREATE_FAST);
	memcpy(cell_wire_payload(cell), x, CREATE_FAST_KEY_LEN);
}

bool
test_create_fast_complete(struct test_hop *hop, uint32_t circ_id,
		const uint8_t x[CREATE_FAST_KEY_LEN], const struct test_cell *c)
{
	uint8_t k0[2 * CREATE_FAST_KEY_LEN], out[FAST_MATERIAL_LEN];

	memcpy(k0, x, CREATE_FAST_KEY_LEN);
	memcpy(k0 + CREATE_FAST_KEY_LEN, c->payload, CREATE_FAST_KEY_LEN);
	if (kdf_tor(k0, sizeof(k0), out, sizeof(out)) != 0)
		test_die("kdf_tor");
	if (memcmp(out, c->payload + CREATE_FAST_KEY_LEN, 20) != 0)
		return test_why("CREATED_FAST on 0x%08x: KH does not match KDF-TOR(X|Y)", circ_id);
	test_hop_init(hop, circ_id, out + 20);
	return true;
}

bool
test_create_fast(struct test_link *l, struct test_hop *hop)
{
	uint32_t circ_id = test_new_circ_id();
	uint8_t cell[CELL_LEN], x[CREATE_FAST_KEY_LEN];
	struct test_cell c;

	test_create_fast_cell(cell, circ_id, x);
	test_link_send_cell(l, cell);
	if (!test_link_expect(l, circ_id, CELL_COMMAND_CREATED_FAST, -1, &c))
		return false;
	return test_create_fast_complete(hop, circ_id, x, &c);
}

void
test_create2_cell(uint8_t cell[CELL_LEN], uint32_t circ_id, uint16_t htype,
		const uint8_t *hdata, uint16_t hlen)
{
	struct create2_cell body = { .htype = htype, .hlen = hlen, .hdata = hdata };

	test_cell_start(cell, circ_id, CELL_COMMAND_CREATE2);
	if (create2_cell_encode(&body, cell_wire_payload(cell), CELL_PAYLOAD_LEN) < 0)
		test_die("create2_cell_encode");
}

void
test_ntor_onion_skin(struct ntor_client_state *st, uint8_t skin[NTOR_ONIONSKIN_LEN],
		bool bad_node, bool bad_key)
{
	uint8_t node[NTOR_NODE_ID_LEN], key[NTOR_KEY_LEN];
	struct ntor_keypair other;

	memcpy(node, relay_ntor.node_id, sizeof(node));
	memcpy(key, relay_ntor.onion_keys[0].public_key, sizeof(key));
	if (bad_node)
		node[0] ^= 1;
	if (bad_key) {
		if (ntor_keypair_generate(&other) != 0)
			test_die("ntor_keypair_generate");
		memcpy(key, other.public_key, sizeof(key));
	}
	if (ntor_client_create(st, node, key, skin, NTOR_ONIONSKIN_LEN) != NTOR_ONIONSKIN_LEN)
		test_die("ntor_client_create");
}

bool
test_ntor_complete(struct test_hop *hop, uint32_t circ_id, struct ntor_client_state *st,
		const struct test_cell *c)
{
	struct created2_cell created;
	const uint8_t *p = c->payload;
	uint8_t material[NTOR_TOR1_KEY_MATERIAL_LEN];

	if (created2_cell_parse(&p, c->payload + CELL_PAYLOAD_LEN, &created) != 0)
		return test_why("CREATED2 on 0x%08x does not parse", circ_id);
	if (ntor_client_complete(st, created.hdata, created.hlen, material,
			sizeof(material)) != 0)
		return test_why("CREATED2 on 0x%08x: the ntor AUTH does not verify", circ_id);
	test_hop_init(hop, circ_id, material);
	return true;
}

bool
test_create_ntor(struct test_link *l, struct test_hop *hop)
{
	uint32_t circ_id = test_new_circ_id();
	uint8_t cell[CELL_LEN], skin[NTOR_ONIONSKIN_LEN];
	struct ntor_client_state st;
	struct test_cell c;

	test_ntor_onion_skin(&st, skin, false, false);
	test_create2_cell(cell, circ_id, HANDSHAKE_TYPE_NTOR, skin, NTOR_ONIONSKIN_LEN);
	test_link_send_cell(l, cell);
	if (!test_link_expect(l, circ_id, CELL_COMMAND_CREATED2, -1, &c))
		return false;
	return test_ntor_complete(hop, circ_id, &st, &c);
}

void
test_relay_cell(struct test_hop *hop, uint8_t cell[CELL_LEN], uint8_t command,
		uint8_t relay_command, uint16_t stream_id, const uint8_t *data, uint16_t len)
{
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *cipher = &hop->forward;

	test_cell_start(cell, hop->circ_id, command);
	payload[RELAY_OFFSET_COMMAND] = relay_command;
	wire_write_u16(payload + RELAY_OFFSET_STREAM_ID, stream_id);
	wire_write_u16(payload + RELAY_OFFSET_LENGTH, len);
	if (len > 0)
		memcpy(payload + RELAY_HEADER_LEN, data, len);
	relay_digest_stamp(&hop->forward_digest, payload);
	relay_crypt_burst(engine, &cipher, &payload, 1);
}

void
test_extend2_send(struct test_link *l, struct test_hop *hop, const struct sockaddr_in *addr,
		const uint8_t rsa_id[LINK_SPECIFIER_LEGACY_ID_LEN],
		const uint8_t skin[NTOR_ONIONSKIN_LEN])
{
	struct extend2_cell body;
	uint8_t data[RELAY_DATA_MAX], cell[CELL_LEN];
	ssize_t n;

	memset(&body, 0, sizeof(body));
	body.n_specifiers = 2;
	body.specifiers[0].type = LINK_SPECIFIER_IPV4;
	body.specifiers[0].length = LINK_SPECIFIER_IPV4_LEN;
	memcpy(body.specifiers[0].u.ipv4.address, &addr->sin_addr.s_addr, 4);
	body.specifiers[0].u.ipv4.port = ntohs(addr->sin_port);
	body.specifiers[1].type = LINK_SPECIFIER_LEGACY_ID;
	body.specifiers[1].length = LINK_SPECIFIER_LEGACY_ID_LEN;
	memcpy(body.specifiers[1].u.legacy_id, rsa_id, LINK_SPECIFIER_LEGACY_ID_LEN);
	body.create2.htype = HANDSHAKE_TYPE_NTOR;
	body.create2.hlen = NTOR_ONIONSKIN_LEN;
	body.create2.hdata = skin;
	n = extend2_cell_encode(&body, data, sizeof(data));
	if (n < 0)
		test_die("extend2_cell_encode");
	test_relay_cell(hop, cell, CELL_COMMAND_RELAY_EARLY, RELAY_COMMAND_EXTEND2, 0, data,
			(uint16_t)n);
	test_link_send_cell(l, cell);
}

void
test_relay_cell_beyond(struct test_hop *hop, uint8_t cell[CELL_LEN])
{
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *cipher = &hop->forward;

	test_cell_start(cell, hop->circ_id, CELL_COMMAND_RELAY);
	test_random_bytes(payload, CELL_PAYLOAD_LEN);
	wire_write_u16(payload + RELAY_OFFSET_RECOGNIZED, 0x5a5a);
	relay_crypt_burst(engine, &cipher, &payload, 1);
}

bool
test_relay_cell_open(struct test_hop *hop, struct test_cell *c)
{
	uint8_t *payload = c->payload;
	struct relay_cipher *cipher = &hop->backward;

	relay_crypt_burst(engine, &cipher, &payload, 1);
	if (wire_read_u16(payload + RELAY_OFFSET_RECOGNIZED) != 0 ||
	    !relay_digest_check(&hop->backward_digest, payload))
		return test_why("a relay cell on 0x%08x is not recognized at our hop", c->circ_id);
	return true;
}
