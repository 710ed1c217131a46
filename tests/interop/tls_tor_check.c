/* tls_tor_check PORT [1.2|1.3]
 * tls_tor_check --serve
 *
 * Interop of control/tls_handshake.c and crypto/tls_record.c with a real
 * tor relay listening on 127.0.0.1:PORT (started by tls_tor.sh):
 *   1. TLS handshake as client with our session over a kernel TCP socket,
 *      capped at TLS 1.2 when asked;
 *   2. handover: from here on OpenSSL does no I/O; every record is sealed
 *      and opened by tls_record with the handed-over keys and sequence
 *      numbers;
 *   3. we send VERSIONS (3 4 5); tor's NewSessionTicket records are opened
 *      and discarded; tor's reply must be VERSIONS (circ id 0, command 7,
 *      offering 3, 4 and 5), CERTS, AUTH_CHALLENGE and NETINFO. CERTS is
 *      checked against the TLS session: the type 1 certificate is the
 *      certificate tor presented in TLS, signed by the type 2 identity
 *      certificate's key, and the Ed25519 type 5 certificate (signed by the
 *      type 4 signing key) certifies the SHA-256 we computed of it;
 *   4. we send NETINFO and CREATE_FAST (two more records under our keys)
 *      and tor must answer CREATED_FAST, then we send close_notify.
 * With --serve, the other direction: listens on 127.0.0.1 (an ephemeral
 * port, printed as "listening PORT"), accepts one connection from a tor
 * client that uses us as its bridge, runs the handshake with our server
 * session (fresh link credentials), hands over, and opens the client's
 * first records with tls_record: they must hold its VERSIONS cell.
 * Prints one summary line; exit 0 on success, 1 on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control/link_cells.h"
#include "control/tls_handshake.h"
#include "crypto/engine.h"
#include "crypto/rsa_identity.h"
#include "crypto/tls_record.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"
#include "tests/interop/test_record.h"

#define IO_TIMEOUT_MS 15000

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tls_tor_check: FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void
send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("send: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* Reads what is there (waiting up to IO_TIMEOUT_MS); 0 on EOF. */
static size_t
recv_some(int fd, uint8_t *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, IO_TIMEOUT_MS) != 1)
		die("timed out waiting for tor");
	n = recv(fd, buf, len, 0);
	if (n < 0)
		die("recv: %s", strerror(errno));
	return (size_t)n;
}

/* ------------------------------------------------------------------ */
/* Records, after the handover. */

struct link {
	int fd;
	struct crypto_engine *engine;
	struct tls_record_dir rd, wr;
	/* ciphertext received, not yet opened */
	uint8_t *in;
	size_t in_len, in_cap;
	/* plaintext of application-data records, not yet cut into cells */
	uint8_t cells[1 << 17];
	size_t cells_len;
	unsigned tickets;
	unsigned records_in;
};

static void
link_add_ciphertext(struct link *l, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (l->in_len + n > l->in_cap) {
		l->in_cap = (l->in_len + n) * 2;
		l->in = realloc(l->in, l->in_cap);
		if (!l->in)
			die("out of memory");
	}
	memcpy(l->in + l->in_len, p, n);
	l->in_len += n;
}

/* test_record_open_all() callback: tor's NewSessionTicket messages are
 * counted and discarded, cell bytes kept; anything else ends the test. */
static int
deliver_record(void *arg, uint8_t type, const uint8_t *pt, size_t len)
{
	struct link *l = arg;

	l->records_in++;
	switch (type) {
	case TLS_CONTENT_HANDSHAKE:
		/* RFC 8446 4.6.1: NewSessionTicket, to be discarded */
		if (len < 4 || pt[0] != 4)
			die("post-handshake message of type %u", pt[0]);
		l->tickets++;
		break;
	case TLS_CONTENT_APPLICATION_DATA:
		if (len > sizeof(l->cells) - l->cells_len)
			die("too much cell data");
		memcpy(l->cells + l->cells_len, pt, len);
		l->cells_len += len;
		break;
	case TLS_CONTENT_ALERT:
		die("tor sent alert %u/%u", pt[0], len > 1 ? pt[1] : 0);
		break;
	default:
		die("record of content type %u", type);
	}
	return 0;
}

/* Opens every whole record received so far. */
static void
link_open_records(struct link *l)
{
	int rc = test_record_open_all(l->engine, &l->rd, l->in, &l->in_len, deliver_record, l);

	if (rc != 0)
		die("record %u (seq %llu) did not open: %d", l->records_in,
		    (unsigned long long)l->rd.seq - 1, rc);
}

static void
link_seal_send(struct link *l, uint8_t type, const uint8_t *plaintext, size_t len)
{
	uint8_t wire[TEST_RECORD_WIRE_MAX];
	ssize_t n = test_record_seal(l->engine, &l->wr, type, plaintext, len, wire);

	if (n < 0)
		die("seal failed: %zd", n);
	send_all(l->fd, wire, (size_t)n);
}

static void
link_send_cell(struct link *l, const struct cell_frame *cell)
{
	uint8_t buf[CELL_LEN + 16];
	ssize_t n = cell_frame_encode(cell, buf, sizeof(buf));

	if (n < 0)
		die("cell_frame_encode: %zd", n);
	link_seal_send(l, TLS_CONTENT_APPLICATION_DATA, buf, (size_t)n);
}

/* Next cell of the stream, reading and opening records as needed. The
 * cell's payload stays valid until the next call. */
static void
link_next_cell(struct link *l, unsigned circ_id_len, struct cell_frame *cell)
{
	static uint8_t current[CELL_VAR_PAYLOAD_MAX + 16];

	for (;;) {
		const uint8_t *p = l->cells;
		size_t need;
		int rc = cell_frame_parse(&p, l->cells + l->cells_len, circ_id_len, cell, &need);

		if (rc == 0) {
			size_t used = (size_t)(p - l->cells);

			memcpy(current, l->cells, used);
			cell->payload = current + (cell->payload - l->cells);
			memmove(l->cells, p, l->cells_len - used);
			l->cells_len -= used;
			return;
		}
		if (rc != -EAGAIN)
			die("cell_frame_parse: %d", rc);
		{
			uint8_t buf[16384];
			size_t n = recv_some(l->fd, buf, sizeof(buf));

			if (n == 0)
				die("tor closed the connection");
			link_add_ciphertext(l, buf, n);
			link_open_records(l);
		}
	}
}

/* Skips the padding cells tor may send between the others. */
static void
link_next_real_cell(struct link *l, struct cell_frame *cell)
{
	do {
		link_next_cell(l, CELL_CIRC_ID_LEN, cell);
	} while (cell->command == CELL_COMMAND_PADDING ||
		 cell->command == CELL_COMMAND_VPADDING ||
		 cell->command == CELL_COMMAND_PADDING_NEGOTIATE);
}

/* ------------------------------------------------------------------ */

static void
check_certs(const struct cell_frame *cell, struct tls_session *session)
{
	static struct certs_cell certs;
	const uint8_t *p = cell->payload, *peer_der, *peer_sha;
	const struct certs_cell_entry *link, *id, *signing, *tlslink;
	struct torcert signing_cert, link_cert;
	struct rsa_identity *identity;
	size_t peer_len;
	int rc;

	if (certs_cell_parse(&p, cell->payload + cell->payload_len, &certs) != 0)
		die("CERTS does not parse");
	link = certs_cell_find(&certs, CERT_TYPE_RSA_LINK);
	id = certs_cell_find(&certs, CERT_TYPE_RSA_ID);
	signing = certs_cell_find(&certs, CERT_TYPE_ED_ID_SIGNING);
	tlslink = certs_cell_find(&certs, CERT_TYPE_ED_SIGNING_LINK);
	if (!link || !id || !signing || !tlslink ||
	    !certs_cell_find(&certs, CERT_TYPE_RSA_ED_CROSSCERT))
		die("CERTS lacks one of types 1 2 4 5 7");
	if (tls_session_peer_cert(session, &peer_der, &peer_len, &peer_sha) != 0)
		die("no peer certificate kept");
	/* tor-spec 4.2: the link certificate is the TLS certificate */
	if (link->length != peer_len || memcmp(link->body, peer_der, peer_len) != 0)
		die("CERTS type 1 is not the certificate tor presented in TLS");
	if (rsa_identity_from_x509(id->body, id->length, &identity) != 0 ||
	    rsa_identity_check_tor_params(identity) != 0)
		die("CERTS type 2 is not an RSA-1024 identity certificate");
	if (rsa_identity_x509_check_signature(link->body, link->length, identity) != 0)
		die("TLS certificate not signed by the identity key");
	rsa_identity_free(identity);
	p = signing->body;
	if (torcert_parse(&p, signing->body + signing->length, &signing_cert) != 0)
		die("type 4 does not parse");
	p = tlslink->body;
	if (torcert_parse(&p, tlslink->body + tlslink->length, &link_cert) != 0)
		die("type 5 does not parse");
	rc = torcert_verify(&link_cert, signing_cert.certified_key, time(NULL));
	if (rc != 0)
		die("type 5 does not verify under the type 4 signing key: %d", rc);
	/* cert-spec A.1: type 5 certifies SHA-256 of the TLS certificate */
	if (link_cert.key_type != TORCERT_KEY_TYPE_SHA256_X509 ||
	    memcmp(link_cert.certified_key, peer_sha, 32) != 0)
		die("type 5 does not certify the SHA-256 of our peer certificate");
}

/* Runs our session's handshake on fd; returns when it is done. */
static void
handshake(int fd, struct tls_session *session)
{
	uint8_t buf[16384];

	for (;;) {
		size_t n;
		int rc = tls_session_step(session);

		while ((n = tls_session_drain_output(session, buf, sizeof(buf))) > 0)
			send_all(fd, buf, n);
		if (rc < 0)
			die("handshake: %d %s", rc, tls_session_error(session));
		if (rc == TLS_SESSION_DONE)
			return;
		n = recv_some(fd, buf, sizeof(buf));
		if (n == 0)
			die("peer closed during the handshake");
		if (tls_session_feed(session, buf, n) != 0)
			die("feed: %s", tls_session_error(session));
	}
}

static void
check_versions(const struct cell_frame *cell, const uint16_t *ours, size_t n_ours)
{
	struct versions_cell versions;
	const uint8_t *p = cell->payload;

	if (cell->circ_id != 0 || cell->command != CELL_COMMAND_VERSIONS)
		die("first cell: circ %u command %u", cell->circ_id, cell->command);
	if (versions_cell_parse(&p, cell->payload + cell->payload_len, &versions) != 0)
		die("VERSIONS does not parse");
	for (size_t i = 0; i < n_ours; i++) {
		bool found = false;

		for (size_t j = 0; j < versions.n_versions; j++)
			found |= versions_cell_version(&versions, j) == ours[i];
		if (!found)
			die("tor's VERSIONS lacks %u", ours[i]);
	}
}

/* We are the server: a tor client connects to us as its bridge. */
static int
serve(void)
{
	static const uint16_t wanted[] = { 3, 4, 5 };
	static struct link l;
	struct rsa_identity *identity;
	struct tls_link_credentials *credentials;
	struct tls_handshake_context *context;
	struct tls_session *session;
	struct tls_handover h;
	struct cell_frame cell;
	struct sockaddr_in sa;
	socklen_t sa_len = sizeof(sa);
	struct pollfd pfd;
	int listener, one = 1;

	if (rsa_identity_generate(&identity) != 0 ||
	    tls_link_credentials_create(identity, 0, time(NULL), &credentials) != 0 ||
	    tls_handshake_context_create(TLS_ROLE_SERVER, credentials, &context) != 0 ||
	    tls_session_create(context, &session) != 0)
		die("creating the server session");
	listener = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(listener, 1) != 0 ||
	    getsockname(listener, (struct sockaddr *)&sa, &sa_len) != 0)
		die("listen: %s", strerror(errno));
	printf("listening %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	pfd = (struct pollfd){ .fd = listener, .events = POLLIN };
	if (poll(&pfd, 1, 90000) != 1)
		die("no tor client connected");
	l.fd = accept(listener, NULL, NULL);
	if (l.fd < 0)
		die("accept: %s", strerror(errno));
	close(listener);

	handshake(l.fd, session);
	l.engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	if (!l.engine || tls_session_handover(session, &h) != 0 ||
	    tls_handover_install(l.engine, &h, &l.rd, &l.wr) != 0)
		die("handover: %s", tls_session_error(session));
	printf("TLS 0x%04x suite 0x%04x group nid %d seq r%llu/w%llu leftover %zu; ",
	       h.protocol_version, h.cipher_suite, tls_session_group_nid(session),
	       (unsigned long long)h.read.seq, (unsigned long long)h.write.seq,
	       h.leftover_len);
	link_add_ciphertext(&l, h.leftover, h.leftover_len);
	tls_handover_wipe(&h);
	link_open_records(&l);
	link_next_cell(&l, CELL_CIRC_ID_LEN_LEGACY, &cell);
	check_versions(&cell, wanted, 3);
	printf("tor client's VERSIONS opened at read seq %llu\n",
	       (unsigned long long)l.rd.seq - 1);
	if (tls_session_peer_cert(session, NULL, NULL, NULL) != -ENOENT)
		die("a tor client sent a TLS certificate");
	link_seal_send(&l, TLS_CONTENT_ALERT, (const uint8_t *)"\x01\x00", 2);
	close(l.fd);
	tls_record_dir_clear(&l.rd);
	tls_record_dir_clear(&l.wr);
	crypto_engine_destroy(l.engine);
	tls_session_free(session);
	tls_handshake_context_free(context);
	tls_link_credentials_free(credentials);
	rsa_identity_free(identity);
	free(l.in);
	return 0;
}

int
main(int argc, char **argv)
{
	static const uint16_t ours[] = { 3, 4, 5 };
	static struct link l;
	struct tls_handshake_context *context;
	struct tls_session *session;
	struct tls_handover h;
	struct sockaddr_in sa;
	struct cell_frame cell;
	struct versions_cell versions;
	uint8_t payload[CELL_PAYLOAD_LEN];
	const uint8_t *p;
	bool cap12;
	uint16_t link_version;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--serve") == 0)
		return serve();
	if (argc < 2 || argc > 3)
		die("usage: tls_tor_check PORT [1.2|1.3] | --serve");
	cap12 = argc == 3 && strcmp(argv[2], "1.2") == 0;

	l.fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l.fd < 0 || connect(l.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("connect 127.0.0.1:%s: %s", argv[1], strerror(errno));

	/* 1. TLS handshake */
	if (tls_handshake_context_create(TLS_ROLE_CLIENT, NULL, &context) != 0 ||
	    tls_session_create(context, &session) != 0)
		die("creating the TLS session");
	if (cap12 && tls_session_set_max_version(session, 0x0303) != 0)
		die("capping the version");
	handshake(l.fd, session);

	/* 2. handover: no OpenSSL I/O from here on */
	l.engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	if (!l.engine)
		die("crypto_engine_create");
	rc = tls_session_handover(session, &h);
	if (rc != 0)
		die("handover: %d %s", rc, tls_session_error(session));
	if (h.protocol_version != (cap12 ? 0x0303 : 0x0304))
		die("negotiated version 0x%04x", h.protocol_version);
	if (tls_handover_install(l.engine, &h, &l.rd, &l.wr) != 0)
		die("tls_handover_install");
	printf("TLS 0x%04x suite 0x%04x group nid %d seq r%llu/w%llu leftover %zu; ",
	       h.protocol_version, h.cipher_suite, tls_session_group_nid(session),
	       (unsigned long long)h.read.seq, (unsigned long long)h.write.seq,
	       h.leftover_len);
	link_add_ciphertext(&l, h.leftover, h.leftover_len);
	tls_handover_wipe(&h);

	/* 3. VERSIONS out, VERSIONS CERTS AUTH_CHALLENGE NETINFO back */
	rc = (int)versions_cell_encode(ours, 3, payload, sizeof(payload));
	cell = (struct cell_frame){ .circ_id = 0, .circ_id_len = CELL_CIRC_ID_LEN_LEGACY,
		.command = CELL_COMMAND_VERSIONS, .payload_len = (uint16_t)rc, .payload = payload };
	link_send_cell(&l, &cell);
	link_open_records(&l);
	link_next_cell(&l, CELL_CIRC_ID_LEN_LEGACY, &cell);
	check_versions(&cell, ours, 3);
	p = cell.payload;
	versions_cell_parse(&p, cell.payload + cell.payload_len, &versions);
	link_version = versions_cell_highest_common(&versions, ours, 3);
	printf("link v%u; ", link_version);

	link_next_real_cell(&l, &cell);
	if (cell.command != CELL_COMMAND_CERTS)
		die("expected CERTS, got %u", cell.command);
	check_certs(&cell, session);
	link_next_real_cell(&l, &cell);
	if (cell.command != CELL_COMMAND_AUTH_CHALLENGE)
		die("expected AUTH_CHALLENGE, got %u", cell.command);
	{
		struct auth_challenge_cell challenge;

		p = cell.payload;
		if (auth_challenge_cell_parse(&p, cell.payload + cell.payload_len, &challenge) ||
		    !auth_challenge_cell_has_method(&challenge, AUTH_METHOD_ED25519_SHA256_RFC5705))
			die("AUTH_CHALLENGE without method 3");
	}
	link_next_real_cell(&l, &cell);
	if (cell.command != CELL_COMMAND_NETINFO)
		die("expected NETINFO, got %u", cell.command);
	{
		static struct netinfo_cell netinfo;
		static const uint8_t loopback[4] = { 127, 0, 0, 1 };

		p = cell.payload;
		if (netinfo_cell_parse(&p, cell.payload + cell.payload_len, &netinfo) != 0 ||
		    !netinfo_address_is_ipv4(&netinfo.other_address) ||
		    memcmp(netinfo.other_address.value, loopback, 4) != 0)
			die("NETINFO does not name 127.0.0.1 as our address");
	}
	if (l.tickets != (cap12 ? 0u : 2u))
		die("%u NewSessionTicket records (expected %u)", l.tickets, cap12 ? 0 : 2);

	/* 4. NETINFO and CREATE_FAST out, CREATED_FAST back */
	{
		static struct netinfo_cell netinfo;
		static const uint8_t tor_address[4] = { 127, 0, 0, 1 };
		ssize_t n;

		netinfo.time = 0;
		netinfo.other_address = (struct netinfo_address){ NETINFO_ADDRESS_IPV4, 4,
			tor_address };
		netinfo.n_my_addresses = 0;
		n = netinfo_cell_encode(&netinfo, payload, sizeof(payload));
		if (n < 0)
			die("netinfo_cell_encode: %zd", n);
		cell = (struct cell_frame){ .circ_id = 0, .circ_id_len = CELL_CIRC_ID_LEN,
			.command = CELL_COMMAND_NETINFO, .payload_len = (uint16_t)n,
			.payload = payload };
		link_send_cell(&l, &cell);
		/* tor-spec 5.1: an initiator with link protocol 4+ sets the
		 * high bit of the circuit ids it picks. */
		memset(payload, 0x5a, 20);
		cell = (struct cell_frame){ .circ_id = 0x80000001u, .circ_id_len = CELL_CIRC_ID_LEN,
			.command = CELL_COMMAND_CREATE_FAST, .payload_len = 20, .payload = payload };
		link_send_cell(&l, &cell);
	}
	link_next_real_cell(&l, &cell);
	if (cell.command != CELL_COMMAND_CREATED_FAST || cell.circ_id != 0x80000001u)
		die("expected CREATED_FAST on circ 0x80000001, got command %u circ 0x%x",
		    cell.command, cell.circ_id);
	printf("tickets %u, VERSIONS CERTS AUTH_CHALLENGE NETINFO checked, CREATED_FAST at read "
	       "seq %llu, write seq %llu\n", l.tickets, (unsigned long long)l.rd.seq - 1,
	       (unsigned long long)l.wr.seq);

	/* close_notify under our keys (RFC 8446 6.1) */
	link_seal_send(&l, TLS_CONTENT_ALERT, (const uint8_t *)"\x01\x00", 2);
	close(l.fd);
	tls_record_dir_clear(&l.rd);
	tls_record_dir_clear(&l.wr);
	crypto_engine_destroy(l.engine);
	tls_session_free(session);
	tls_handshake_context_free(context);
	free(l.in);
	return 0;
}
