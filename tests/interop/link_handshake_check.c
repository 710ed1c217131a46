/* The link handshake (control/link_handshake.c) against a real tor over
 * TLS on 127.0.0.1. TLS is done here with OpenSSL's SSL API (the module
 * itself never touches it); the module sees cells and the exporter only.
 *
 *   link_handshake_check initiator PORT
 *     connects to a tor relay's ORPort, runs our initiator with
 *     authentication (CERTS + AUTHENTICATE + NETINFO), then sends
 *     CREATE_FAST and waits for CREATED_FAST: tor closes a connection whose
 *     AUTHENTICATE it rejects, so the answer proves it accepted ours.
 *     Prints "open <tor rsa fingerprint> <tor ed25519 identity hex> link
 *     protocol <n> ours <our rsa fingerprint>".
 *   link_handshake_check responder
 *     listens on 127.0.0.1 (port chosen by the kernel), prints
 *     "listening <port> <our rsa fingerprint>" and serves one connection
 *     from a tor client (a Bridge line): our responder must reach open and
 *     tor must then send CREATE_FAST or CREATE2 on the link.
 * Both exit 0 on success and 1 with a message otherwise (alarm 90 s). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "control/link_handshake.h"
#include "crypto/kdf.h"
#include "crypto/rsa_identity.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"

static void
die(const char *what)
{
	fprintf(stderr, "link_handshake_check: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

struct relay {
	struct rsa_identity *rsa;
	EVP_PKEY *rsa_evp;
	EVP_PKEY *link_evp;
	X509 *link_cert;
	struct link_credentials *creds;
	uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN];
};

static X509 *
make_x509(EVP_PKEY *subject, EVP_PKEY *issuer, const char *subject_cn,
		const char *issuer_cn, time_t now, uint8_t **der, size_t *der_len)
{
	X509 *cert = X509_new();
	time_t not_before = now - 86400, not_after = now + 365 * 86400;
	int len;

	if (cert == NULL || X509_set_version(cert, 2) != 1 ||
			ASN1_INTEGER_set(X509_get_serialNumber(cert),
				(long)(now & 0xffff)) != 1 ||
			!X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0,
				&not_before) ||
			!X509_time_adj_ex(X509_getm_notAfter(cert), 0, 0,
				&not_after) ||
			X509_NAME_add_entry_by_txt(X509_get_subject_name(cert),
				"CN", MBSTRING_ASC,
				(const unsigned char *)subject_cn, -1, -1, 0) != 1 ||
			X509_NAME_add_entry_by_txt(X509_get_issuer_name(cert),
				"CN", MBSTRING_ASC,
				(const unsigned char *)issuer_cn, -1, -1, 0) != 1 ||
			X509_set_pubkey(cert, subject) != 1 ||
			X509_sign(cert, issuer, EVP_sha256()) <= 0)
		die("making an X.509 certificate");
	*der = NULL;
	len = i2d_X509(cert, der);
	if (len <= 0)
		die("encoding an X.509 certificate");
	*der_len = (size_t)len;
	return cert;
}

/* Fresh relay keys as tor has them: RSA-1024 identity, Ed25519 identity and
 * signing keys, type 4 and type 7 certificates, and X.509 identity and link
 * certificates (the link key is RSA-2048, as tor 0.4.9's). */
static void
relay_make(struct relay *r, time_t now)
{
	struct ed25519_keypair identity, signing;
	uint8_t signing_cert[TORCERT_WITH_SIGNING_KEY_LEN];
	uint8_t crosscert[RSA_CROSSCERT_SIGNED_LEN + 1 + 128];
	uint8_t *identity_der, *link_der;
	size_t identity_len, link_len;
	ssize_t cross_len;
	BIO *bio = BIO_new(BIO_s_mem());
	X509 *identity_cert;
	char *pem;
	long pem_len;

	r->rsa_evp = EVP_RSA_gen(1024);
	r->link_evp = EVP_RSA_gen(2048);
	if (r->rsa_evp == NULL || r->link_evp == NULL || bio == NULL ||
			PEM_write_bio_PrivateKey_traditional(bio, r->rsa_evp,
				NULL, NULL, 0, NULL, NULL) != 1)
		die("making RSA keys");
	pem_len = BIO_get_mem_data(bio, &pem);
	if (rsa_identity_from_private_pem(pem, (size_t)pem_len, &r->rsa) != 0 ||
			rsa_identity_fingerprint(r->rsa, r->fingerprint) != 0)
		die("loading the RSA identity");
	BIO_free(bio);
	identity_cert = make_x509(r->rsa_evp, r->rsa_evp, "www.hsrelayid.net",
		"www.hsrelayid.net", now, &identity_der, &identity_len);
	X509_free(identity_cert);
	r->link_cert = make_x509(r->link_evp, r->rsa_evp, "www.hsrelaylink.com",
		"www.hsrelayid.net", now, &link_der, &link_len);

	if (ed25519_keypair_generate(&identity) != 0 ||
			ed25519_keypair_generate(&signing) != 0 ||
			torcert_create(TORCERT_TYPE_SIGNING,
				TORCERT_KEY_TYPE_ED25519, signing.public_key,
				torcert_hours_from_time(now + 30 * 86400),
				&identity, true, signing_cert,
				sizeof(signing_cert)) != sizeof(signing_cert))
		die("making Ed25519 keys");
	cross_len = rsa_ed25519_crosscert_create(identity.public_key,
		torcert_hours_from_time(now + 365 * 86400), r->rsa, crosscert,
		sizeof(crosscert));
	if (cross_len <= 0)
		die("making the cross-certificate");

	struct link_credentials_params params = {
		.rsa_identity = r->rsa,
		.ed25519_identity = identity.public_key,
		.ed25519_signing = &signing,
		.signing_cert = signing_cert,
		.signing_cert_len = sizeof(signing_cert),
		.rsa_crosscert = crosscert,
		.rsa_crosscert_len = (size_t)cross_len,
		.identity_x509 = identity_der,
		.identity_x509_len = identity_len,
		.link_x509 = link_der,
		.link_x509_len = link_len,
	};
	if (link_credentials_new(&params, now, &r->creds) != 0)
		die("link_credentials_new");
	OPENSSL_free(identity_der);
	OPENSSL_free(link_der);
}

static void
relay_free(struct relay *r)
{
	link_credentials_free(r->creds);
	rsa_identity_free(r->rsa);
	EVP_PKEY_free(r->rsa_evp);
	EVP_PKEY_free(r->link_evp);
	X509_free(r->link_cert);
}

static int
tls_export(void *arg, const uint8_t cid[LINK_SHA256_LEN],
		uint8_t out[LINK_SHA256_LEN])
{
	static const char label[] =
		"EXPORTER FOR TOR TLS CLIENT BINDING AUTH0003";

	return SSL_export_keying_material(arg, out, LINK_SHA256_LEN, label,
		sizeof(label) - 1, cid, LINK_SHA256_LEN, 1) == 1 ? 0 : -1;
}

static void
flush_output(SSL *ssl, struct link_handshake *hs)
{
	const uint8_t *data;
	size_t len = link_handshake_output(hs, &data);

	if (len > 0 && SSL_write(ssl, data, (int)len) != (int)len)
		die("SSL_write");
	link_handshake_output_consumed(hs, len);
}

static uint8_t inbuf[1 << 17];
static size_t inlen;

static void
read_more(SSL *ssl)
{
	int n;

	if (inlen == sizeof(inbuf))
		die("input buffer full");
	n = SSL_read(ssl, inbuf + inlen, (int)(sizeof(inbuf) - inlen));
	if (n <= 0)
		die("connection closed by tor");
	inlen += (size_t)n;
}

static void
consume(const uint8_t *p)
{
	size_t used = (size_t)(p - inbuf);

	memmove(inbuf, p, inlen - used);
	inlen -= used;
}

/* Runs the handshake to open; leaves any later bytes in inbuf. */
static void
run_handshake(SSL *ssl, struct link_handshake *hs)
{
	flush_output(ssl, hs);
	while (link_handshake_state(hs) == LINK_HANDSHAKE_IN_PROGRESS) {
		const uint8_t *p = inbuf;
		int rc = link_handshake_receive(hs, &p, inbuf + inlen,
			time(NULL), NULL);

		consume(p);
		flush_output(ssl, hs);
		if (rc == -EAGAIN)
			read_more(ssl);
		else if (rc != 0)
			break;
	}
	if (link_handshake_state(hs) != LINK_HANDSHAKE_OPEN) {
		fprintf(stderr, "link_handshake_check: handshake failed: %s\n",
			link_handshake_reason(hs));
		exit(1);
	}
}

/* The next cell after the handshake (4-byte circuit ids). */
static struct cell_frame
next_cell(SSL *ssl)
{
	struct cell_frame frame;

	for (;;) {
		const uint8_t *p = inbuf;

		if (cell_frame_parse(&p, inbuf + inlen, CELL_CIRC_ID_LEN,
				&frame, NULL) == 0)
			return frame; /* payload stays valid until read_more */
		read_more(ssl);
	}
}

static int
connect_to(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("connect");
	return fd;
}

static int
run_initiator(int port)
{
	struct relay self;
	time_t now = time(NULL);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	uint8_t *der = NULL, digest[32], fp[20], ed[32], slog[32], clog[32];
	uint8_t create_fast[CELL_LEN] = { 0x80, 0, 0, 1,
		CELL_COMMAND_CREATE_FAST };
	struct link_handshake *hs;
	struct cell_frame frame;
	X509 *peer;
	SSL *ssl;
	int len;

	relay_make(&self, now);
	if (ctx == NULL)
		die("SSL_CTX_new");
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, connect_to(port)) != 1 ||
			SSL_connect(ssl) != 1)
		die("TLS handshake with tor");
	peer = SSL_get1_peer_certificate(ssl);
	if (peer == NULL || (len = i2d_X509(peer, &der)) <= 0 ||
			kdf_sha256(der, (size_t)len, digest) != 0)
		die("tor's TLS certificate");
	struct link_handshake_params params = {
		.role = LINK_ROLE_INITIATOR,
		.credentials = self.creds,
		.export_keying_material = tls_export,
		.export_arg = ssl,
		.peer_address = { 4, { 127, 0, 0, 1 } },
		.my_addresses = { { 4, { 127, 0, 0, 1 } } },
		.n_my_addresses = 1,
		.peer_tls_cert_digest = digest,
		.authenticate = true,
	};
	if (link_handshake_new(&params, now, &hs) != 0)
		die("link_handshake_new");
	run_handshake(ssl, hs);
	if (link_handshake_auth_logs(hs, slog, clog) != 0)
		die("the initiator did not authenticate");

	/* CREATE_FAST (tor-spec 5.1.5): 20 bytes of key material. */
	if (RAND_bytes(create_fast + 5, 20) != 1 ||
			SSL_write(ssl, create_fast, sizeof(create_fast)) !=
				(int)sizeof(create_fast))
		die("sending CREATE_FAST");
	frame = next_cell(ssl);
	while (frame.command == CELL_COMMAND_PADDING ||
			frame.command == CELL_COMMAND_VPADDING) {
		const uint8_t *p = inbuf;

		cell_frame_parse(&p, inbuf + inlen, CELL_CIRC_ID_LEN, &frame,
			NULL);
		consume(p);
		frame = next_cell(ssl);
	}
	if (frame.command != CELL_COMMAND_CREATED_FAST ||
			frame.circ_id != 0x80000001u)
		die("tor did not answer CREATE_FAST with CREATED_FAST");
	if (link_handshake_peer_rsa_fingerprint(hs, fp) != 0 ||
			link_handshake_peer_ed25519_identity(hs, ed) != 0)
		die("no peer identity");
	printf("open ");
	for (int i = 0; i < 20; i++)
		printf("%02X", fp[i]);
	printf(" ");
	for (int i = 0; i < 32; i++)
		printf("%02x", ed[i]);
	printf(" link protocol %u ours ", link_handshake_link_protocol(hs));
	for (int i = 0; i < 20; i++)
		printf("%02X", self.fingerprint[i]);
	printf("\n");
	link_handshake_free(hs);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	X509_free(peer);
	OPENSSL_free(der);
	relay_free(&self);
	return 0;
}

static int
run_responder(void)
{
	struct relay self;
	time_t now = time(NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sin_len = sizeof(sin);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct link_handshake *hs;
	struct cell_frame frame;
	int listener, fd;
	SSL *ssl;
	char hex[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1];

	relay_make(&self, now);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&sin,
			sizeof(sin)) != 0 || listen(listener, 4) != 0 ||
			getsockname(listener, (struct sockaddr *)&sin,
				&sin_len) != 0)
		die("listen");
	rsa_fingerprint_to_hex(self.fingerprint, hex);
	printf("listening %u %s\n", ntohs(sin.sin_port), hex);
	fflush(stdout);

	if (ctx == NULL || SSL_CTX_use_certificate(ctx, self.link_cert) != 1 ||
			SSL_CTX_use_PrivateKey(ctx, self.link_evp) != 1)
		die("server TLS context");
	SSL_CTX_set_num_tickets(ctx, 0);
	fd = accept(listener, NULL, NULL);
	ssl = SSL_new(ctx);
	if (fd < 0 || ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
			SSL_accept(ssl) != 1)
		die("TLS handshake with tor");
	struct link_handshake_params params = {
		.role = LINK_ROLE_RESPONDER,
		.credentials = self.creds,
		.export_keying_material = tls_export,
		.export_arg = ssl,
		.peer_address = { 4, { 127, 0, 0, 1 } },
		.my_addresses = { { 4, { 127, 0, 0, 1 } } },
		.n_my_addresses = 1,
	};
	if (link_handshake_new(&params, now, &hs) != 0)
		die("link_handshake_new");
	run_handshake(ssl, hs);
	for (;;) {
		const uint8_t *p = inbuf;
		int rc;

		frame = next_cell(ssl);
		rc = link_handshake_receive(hs, &p, inbuf + inlen, time(NULL),
			NULL);
		if (rc == -ENOTSUP)
			break;
		if (rc != 0)
			die("link-level cell after open failed");
		consume(p);
	}
	if (frame.command != CELL_COMMAND_CREATE_FAST &&
			frame.command != CELL_COMMAND_CREATE2)
		die("tor sent no CREATE_FAST / CREATE2 on the open link");
	printf("open client=%s link protocol %u, tor sent %s\n",
		link_handshake_peer_authenticated(hs) ? "no" : "yes",
		link_handshake_link_protocol(hs),
		frame.command == CELL_COMMAND_CREATE_FAST ? "CREATE_FAST" :
		"CREATE2");
	link_handshake_free(hs);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(listener);
	relay_free(&self);
	return 0;
}

int
main(int argc, char **argv)
{
	alarm(90);
	if (argc == 3 && strcmp(argv[1], "initiator") == 0)
		return run_initiator(atoi(argv[2]));
	if (argc == 2 && strcmp(argv[1], "responder") == 0)
		return run_responder();
	fprintf(stderr, "usage: link_handshake_check initiator PORT | responder\n");
	return 2;
}
