/* The Tor link handshake state machine (tor-spec 4, 4.1-4.5; cert-spec;
 * behaviour of tor 0.4.9's channeltls.c, connection_or.c,
 * relay_handshake.c and torcert.c). */
#include "control/link_handshake.h"

#include "control/link_cells.h"
#include "crypto/ct.h"
#include "crypto/kdf.h"
#include "crypto/rsa_identity.h"
#include "crypto/torcert.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/x509.h>

/* The link protocols we speak: 4 (4-byte circuit ids) and 5 (padding
 * negotiation). 3 is not offered: nothing we talk to needs it. */
static const uint16_t our_versions[] = { 4, 5 };
#define LINK_PROTOCOL_MIN 4
/* padding-spec 2: PADDING_NEGOTIATE exists from link protocol 5 on. */
#define LINK_PROTOCOL_PADDING 5

#define AUTH0003_LEN (AUTH0003_FIXED_LEN + AUTH0003_SIG_LEN)
/* Bytes of the authenticator from TYPE through TLSSECRETS: what the
 * responder can recompute (tor's V3_AUTH_FIXED_PART_LEN). */
#define AUTH0003_CHECKED_LEN (AUTH0003_FIXED_LEN - AUTH0003_RAND_LEN)

/* An Ed25519 certificate with only the mandatory fields, as type 5 and 6
 * certificates are made (tor passes no flags for them). */
#define SHORT_TORCERT_LEN TORCERT_MIN_LEN

struct link_credentials {
	uint8_t rsa_id_digest[LINK_SHA256_LEN]; /* SHA-256 of the DER key */
	uint8_t ed_identity[ED25519_PUBLIC_KEY_LEN];
	struct ed25519_keypair signing;
	struct ed25519_keypair auth;
	uint8_t *signing_cert;
	size_t signing_cert_len;
	uint8_t *crosscert;
	size_t crosscert_len;
	uint8_t *identity_x509;
	size_t identity_x509_len;
	uint8_t *link_x509;
	size_t link_x509_len;
	uint8_t link_digest[LINK_SHA256_LEN];
	uint8_t link_cert[SHORT_TORCERT_LEN];   /* type 5 */
	uint8_t auth_cert[SHORT_TORCERT_LEN];   /* type 6 */
	uint32_t expiration_hours;              /* of types 5 and 6 */
};

enum step {
	STEP_R_WAIT_VERSIONS,
	STEP_R_WAIT_INITIATOR,          /* CERTS (relay) or NETINFO (client) */
	STEP_R_WAIT_AUTHENTICATE,
	STEP_R_WAIT_NETINFO,
	STEP_I_WAIT_VERSIONS,
	STEP_I_WAIT_CERTS,
	STEP_I_WAIT_AUTH_CHALLENGE,
	STEP_I_WAIT_NETINFO,
	STEP_OPEN,
	STEP_FAILED,
};

#define REASON_MAX 160
#define OUTPUT_MAX (4 * CELL_VAR_PAYLOAD_MAX)

struct link_handshake {
	enum link_role role;
	enum step step;
	int error;
	char reason[REASON_MAX];
	uint16_t link_protocol;
	unsigned circ_id_len;

	/* Our side, copied from the credentials. */
	uint8_t *our_certs;     /* CERTS payload for our role */
	size_t our_certs_len;
	uint8_t our_rsa_id_digest[LINK_SHA256_LEN];
	uint8_t our_ed_identity[ED25519_PUBLIC_KEY_LEN];
	struct ed25519_keypair auth_key;
	uint8_t our_link_digest[LINK_SHA256_LEN];

	link_export_fn export_keying_material;
	void *export_arg;
	link_random_fn random_bytes;
	void *random_arg;
	struct link_address peer_address;
	struct link_address my_addresses[LINK_MAX_MY_ADDRESSES];
	size_t n_my_addresses;
	uint8_t peer_tls_digest[LINK_SHA256_LEN];
	bool has_expected_rsa;
	uint8_t expected_rsa[RSA_IDENTITY_FINGERPRINT_LEN];
	bool has_expected_ed;
	uint8_t expected_ed[ED25519_PUBLIC_KEY_LEN];
	bool authenticate;

	time_t versions_sent_at;
	/* tor-spec 4.4.2 SLOG / CLOG: SHA-256 of the handshake bytes sent and
	 * received, as tor's or_handshake_state_record_{,var_}cell keep them. */
	struct kdf_digest *sent_log;
	struct kdf_digest *received_log;
	bool logging_sent;

	/* The peer, from its CERTS. */
	bool peer_certs_checked;
	bool peer_authenticated;
	uint8_t peer_rsa_fingerprint[RSA_IDENTITY_FINGERPRINT_LEN];
	uint8_t peer_rsa_id_digest[LINK_SHA256_LEN];
	uint8_t peer_ed_identity[ED25519_PUBLIC_KEY_LEN];
	uint8_t peer_auth_key[ED25519_PUBLIC_KEY_LEN];

	bool auth_logs_known;
	uint8_t slog[LINK_SHA256_LEN];
	uint8_t clog[LINK_SHA256_LEN];

	bool netinfo_known;
	struct link_peer_netinfo netinfo;

	bool padding_known;
	uint8_t padding_command;
	uint16_t padding_ito_low;
	uint16_t padding_ito_high;

	uint8_t *out;
	size_t out_len;
	size_t out_cap;
};

/* Credentials. */

static int
dup_bytes(uint8_t **out, const uint8_t *in, size_t len)
{
	*out = malloc(len > 0 ? len : 1);
	if (*out == NULL)
		return -ENOMEM;
	memcpy(*out, in, len);
	return 0;
}

static int
rsa_key_digest(const struct rsa_identity *key, uint8_t out[LINK_SHA256_LEN])
{
	uint8_t der[RSA_PUBLIC_DER_MAX];
	ssize_t der_len = rsa_identity_public_der(key, der, sizeof(der));

	if (der_len < 0)
		return (int)der_len;
	return kdf_sha256(der, (size_t)der_len, out);
}

static bool
same_rsa_key(const struct rsa_identity *a, const struct rsa_identity *b)
{
	uint8_t da[LINK_SHA256_LEN];
	uint8_t db[LINK_SHA256_LEN];

	return rsa_key_digest(a, da) == 0 && rsa_key_digest(b, db) == 0 &&
		memcmp(da, db, sizeof(da)) == 0;
}

/* tor_x509_check_cert_lifetime_internal() with tor's slops: 0, -EKEYEXPIRED
 * past notAfter, -ETIME before notBefore, -EINVAL for bad DER. */
static int
x509_check_lifetime(const uint8_t *der, size_t der_len, time_t now)
{
	const unsigned char *q = der;
	X509 *cert;
	time_t t;
	int rc = 0;

	if (der_len == 0 || der_len > LONG_MAX)
		return -EINVAL;
	cert = d2i_X509(NULL, &q, (long)der_len);
	if (cert == NULL)
		return -EINVAL;
	if (q != der + der_len) {
		X509_free(cert);
		return -EINVAL;
	}
	t = now + LINK_X509_FUTURE_SLOP;
	if (X509_cmp_time(X509_get0_notBefore(cert), &t) >= 0)
		rc = -ETIME;
	t = now - LINK_X509_PAST_SLOP;
	if (rc == 0 && X509_cmp_time(X509_get0_notAfter(cert), &t) <= 0)
		rc = -EKEYEXPIRED;
	X509_free(cert);
	return rc;
}

static int
random_fill(link_random_fn fn, void *arg, uint8_t *out, size_t len)
{
	if (fn != NULL)
		return fn(arg, out, len) == 0 ? 0 : -EIO;
	return RAND_bytes(out, (int)len) == 1 ? 0 : -EIO;
}

/* New auth key; type 5 over link_digest and type 6 over the auth key. */
static int
make_short_certs(struct link_credentials *creds, time_t now)
{
	struct ed25519_keypair auth;
	uint32_t hours = torcert_hours_from_time(now + LINK_CERT_LIFETIME);
	ssize_t n;
	int rc;

	rc = ed25519_keypair_generate(&auth);
	if (rc != 0)
		return rc;
	n = torcert_create(TORCERT_TYPE_LINK, TORCERT_KEY_TYPE_SHA256_X509,
			creds->link_digest, hours, &creds->signing, false,
			creds->link_cert, sizeof(creds->link_cert));
	if (n != SHORT_TORCERT_LEN) {
		ct_wipe(&auth, sizeof(auth));
		return n < 0 ? (int)n : -EIO;
	}
	n = torcert_create(TORCERT_TYPE_AUTH, TORCERT_KEY_TYPE_ED25519,
			auth.public_key, hours, &creds->signing, false,
			creds->auth_cert, sizeof(creds->auth_cert));
	if (n != SHORT_TORCERT_LEN) {
		ct_wipe(&auth, sizeof(auth));
		return n < 0 ? (int)n : -EIO;
	}
	ct_wipe(&creds->auth, sizeof(creds->auth));
	creds->auth = auth;
	ct_wipe(&auth, sizeof(auth));
	creds->expiration_hours = hours;
	return 0;
}

static int
check_own_certs(const struct link_credentials_params *params, time_t now)
{
	const uint8_t *p = params->signing_cert;
	const uint8_t *end = p + params->signing_cert_len;
	struct rsa_ed25519_crosscert cross;
	struct rsa_identity *x509_key = NULL;
	struct torcert cert;
	int rc;

	if (torcert_parse(&p, end, &cert) != 0 || p != end ||
			cert.cert_type != TORCERT_TYPE_SIGNING ||
			cert.key_type != TORCERT_KEY_TYPE_ED25519 ||
			!cert.has_signing_key ||
			memcmp(cert.signing_key, params->ed25519_identity,
				ED25519_PUBLIC_KEY_LEN) != 0 ||
			memcmp(cert.certified_key,
				params->ed25519_signing->public_key,
				ED25519_PUBLIC_KEY_LEN) != 0)
		return -EINVAL;
	rc = torcert_verify(&cert, NULL, now);
	if (rc != 0)
		return rc == -EKEYEXPIRED ? rc : -EINVAL;

	p = params->rsa_crosscert;
	end = p + params->rsa_crosscert_len;
	if (rsa_ed25519_crosscert_parse(&p, end, &cross) != 0 || p != end ||
			memcmp(cross.ed25519_key, params->ed25519_identity,
				ED25519_PUBLIC_KEY_LEN) != 0)
		return -EINVAL;
	rc = rsa_ed25519_crosscert_verify(&cross, params->rsa_identity, now);
	if (rc != 0)
		return rc == -EKEYEXPIRED ? rc : -EINVAL;

	if (rsa_identity_from_x509(params->identity_x509,
			params->identity_x509_len, &x509_key) != 0)
		return -EINVAL;
	rc = same_rsa_key(x509_key, params->rsa_identity) ? 0 : -EINVAL;
	rsa_identity_free(x509_key);
	if (rc != 0 || rsa_identity_x509_check_signature(params->identity_x509,
			params->identity_x509_len, params->rsa_identity) != 0 ||
			rsa_identity_x509_check_signature(params->link_x509,
			params->link_x509_len, params->rsa_identity) != 0)
		return -EINVAL;
	rc = x509_check_lifetime(params->identity_x509,
			params->identity_x509_len, now);
	if (rc == 0)
		rc = x509_check_lifetime(params->link_x509,
				params->link_x509_len, now);
	if (rc != 0)
		return rc == -EKEYEXPIRED ? rc : -EINVAL;
	return 0;
}

void
link_credentials_free(struct link_credentials *creds)
{
	if (creds == NULL)
		return;
	free(creds->signing_cert);
	free(creds->crosscert);
	free(creds->identity_x509);
	free(creds->link_x509);
	ct_wipe(creds, sizeof(*creds));
	free(creds);
}

int
link_credentials_new(const struct link_credentials_params *params,
		time_t now, struct link_credentials **out)
{
	struct link_credentials *creds;
	int rc;

	if (params == NULL || params->rsa_identity == NULL ||
			params->ed25519_identity == NULL ||
			params->ed25519_signing == NULL ||
			params->signing_cert == NULL ||
			params->rsa_crosscert == NULL ||
			params->identity_x509 == NULL ||
			params->link_x509 == NULL ||
			params->signing_cert_len > UINT16_MAX ||
			params->rsa_crosscert_len > UINT16_MAX ||
			params->identity_x509_len > UINT16_MAX ||
			params->link_x509_len > UINT16_MAX)
		return -EINVAL;
	rc = check_own_certs(params, now);
	if (rc != 0)
		return rc;

	creds = calloc(1, sizeof(*creds));
	if (creds == NULL)
		return -ENOMEM;
	memcpy(creds->ed_identity, params->ed25519_identity,
			ED25519_PUBLIC_KEY_LEN);
	creds->signing = *params->ed25519_signing;
	rc = rsa_key_digest(params->rsa_identity, creds->rsa_id_digest);
	if (rc == 0)
		rc = dup_bytes(&creds->signing_cert, params->signing_cert,
				params->signing_cert_len);
	if (rc == 0)
		rc = dup_bytes(&creds->crosscert, params->rsa_crosscert,
				params->rsa_crosscert_len);
	if (rc == 0)
		rc = dup_bytes(&creds->identity_x509, params->identity_x509,
				params->identity_x509_len);
	if (rc == 0)
		rc = dup_bytes(&creds->link_x509, params->link_x509,
				params->link_x509_len);
	if (rc == 0)
		rc = kdf_sha256(params->link_x509, params->link_x509_len,
				creds->link_digest);
	if (rc == 0)
		rc = make_short_certs(creds, now);
	if (rc != 0) {
		link_credentials_free(creds);
		return rc;
	}
	creds->signing_cert_len = params->signing_cert_len;
	creds->crosscert_len = params->rsa_crosscert_len;
	creds->identity_x509_len = params->identity_x509_len;
	creds->link_x509_len = params->link_x509_len;
	*out = creds;
	return 0;
}

int
link_credentials_set_link_cert(struct link_credentials *creds,
		const uint8_t *link_x509, size_t link_x509_len, time_t now)
{
	struct link_credentials saved = *creds;
	uint8_t *copy;
	int rc;

	if (link_x509 == NULL || link_x509_len > UINT16_MAX ||
			x509_check_lifetime(link_x509, link_x509_len, now) ==
			-EINVAL)
		return -EINVAL;
	rc = dup_bytes(&copy, link_x509, link_x509_len);
	if (rc != 0)
		return rc;
	rc = kdf_sha256(link_x509, link_x509_len, creds->link_digest);
	if (rc == 0)
		rc = make_short_certs(creds, now);
	if (rc != 0) {
		*creds = saved;
		ct_wipe(&saved, sizeof(saved));
		free(copy);
		return rc;
	}
	ct_wipe(&saved, sizeof(saved));
	free(creds->link_x509);
	creds->link_x509 = copy;
	creds->link_x509_len = link_x509_len;
	return 0;
}

int
link_credentials_refresh(struct link_credentials *creds, time_t now)
{
	int rc;

	if (now >= 0 && (uint64_t)now + LINK_CERT_REFRESH_SLOP <
			(uint64_t)creds->expiration_hours * 3600)
		return 0;
	rc = make_short_certs(creds, now);
	return rc == 0 ? 1 : rc;
}

void
link_credentials_link_cert_digest(const struct link_credentials *creds,
		uint8_t out[LINK_SHA256_LEN])
{
	memcpy(out, creds->link_digest, LINK_SHA256_LEN);
}

time_t
link_credentials_expiry(const struct link_credentials *creds)
{
	return (time_t)creds->expiration_hours * 3600;
}

/* The CERTS payload for a role (relay_handshake.c order): responder 1 2 4 5
 * 7, initiator 2 4 6 7 (tor-spec 4.4: an Ed25519 AUTHENTICATE key instead
 * of the link certificate; the type 3 RSA auth certificate is not needed
 * once Ed25519 identities are in use). */
static int
encode_our_certs(const struct link_credentials *creds, enum link_role role,
		uint8_t **out, size_t *out_len)
{
	struct certs_cell local;
	size_t n = 0;
	size_t need = 1;
	uint8_t *buf;
	ssize_t len;

	if (role == LINK_ROLE_RESPONDER) {
		local.certs[n++] = (struct certs_cell_entry){ CERT_TYPE_RSA_LINK,
			(uint16_t)creds->link_x509_len, creds->link_x509 };
	}
	local.certs[n++] = (struct certs_cell_entry){ CERT_TYPE_RSA_ID,
		(uint16_t)creds->identity_x509_len, creds->identity_x509 };
	local.certs[n++] = (struct certs_cell_entry){ CERT_TYPE_ED_ID_SIGNING,
		(uint16_t)creds->signing_cert_len, creds->signing_cert };
	if (role == LINK_ROLE_RESPONDER)
		local.certs[n++] = (struct certs_cell_entry){
			CERT_TYPE_ED_SIGNING_LINK, SHORT_TORCERT_LEN,
			creds->link_cert };
	else
		local.certs[n++] = (struct certs_cell_entry){
			CERT_TYPE_ED_SIGNING_AUTH, SHORT_TORCERT_LEN,
			creds->auth_cert };
	local.certs[n++] = (struct certs_cell_entry){ CERT_TYPE_RSA_ED_CROSSCERT,
		(uint16_t)creds->crosscert_len, creds->crosscert };
	local.n_certs = (uint8_t)n;

	for (size_t i = 0; i < n; i++)
		need += 3 + (size_t)local.certs[i].length;
	buf = malloc(need);
	if (buf == NULL)
		return -ENOMEM;
	len = certs_cell_encode(&local, buf, need);
	if (len < 0) {
		free(buf);
		return (int)len;
	}
	*out = buf;
	*out_len = (size_t)len;
	return 0;
}

/* Handshake: failure, output and logs. */

static int
fail(struct link_handshake *hs, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hs->reason, sizeof(hs->reason), fmt, ap);
	va_end(ap);
	hs->error = error;
	hs->step = STEP_FAILED;
	return error;
}

static const char *
command_name(uint8_t command)
{
	switch (command) {
	case CELL_COMMAND_PADDING: return "PADDING";
	case CELL_COMMAND_VERSIONS: return "VERSIONS";
	case CELL_COMMAND_NETINFO: return "NETINFO";
	case CELL_COMMAND_PADDING_NEGOTIATE: return "PADDING_NEGOTIATE";
	case CELL_COMMAND_VPADDING: return "VPADDING";
	case CELL_COMMAND_CERTS: return "CERTS";
	case CELL_COMMAND_AUTH_CHALLENGE: return "AUTH_CHALLENGE";
	case CELL_COMMAND_AUTHENTICATE: return "AUTHENTICATE";
	case CELL_COMMAND_AUTHORIZE: return "AUTHORIZE";
	default: return "cell";
	}
}

/* Appends one cell with circuit id 0 to the output, and to SLOG/CLOG while
 * the sent bytes are still being logged (tor stops before its NETINFO). */
static int
emit(struct link_handshake *hs, uint8_t command, const uint8_t *payload,
		size_t payload_len, unsigned circ_id_len)
{
	struct cell_frame frame = {
		.circ_id = 0,
		.circ_id_len = (uint8_t)circ_id_len,
		.command = command,
		.payload_len = (uint16_t)payload_len,
		.payload = payload,
	};
	ssize_t need = cell_frame_encoded_len(&frame);
	ssize_t n;

	if (payload_len > CELL_VAR_PAYLOAD_MAX || need < 0)
		return fail(hs, -EIO, "cannot encode our %s cell",
				command_name(command));
	if (hs->out_len + (size_t)need > OUTPUT_MAX)
		return fail(hs, -ENOMEM, "output queue full");
	if (hs->out_len + (size_t)need > hs->out_cap) {
		size_t cap = hs->out_len + (size_t)need + 1024;
		uint8_t *grown = realloc(hs->out, cap);

		if (grown == NULL)
			return fail(hs, -ENOMEM, "out of memory");
		hs->out = grown;
		hs->out_cap = cap;
	}
	n = cell_frame_encode(&frame, hs->out + hs->out_len,
			hs->out_cap - hs->out_len);
	if (n != need)
		return fail(hs, -EIO, "cannot encode our %s cell",
				command_name(command));
	if (hs->logging_sent && kdf_digest_update(hs->sent_log,
			hs->out + hs->out_len, (size_t)n) != 0)
		return fail(hs, -EIO, "digest failure");
	hs->out_len += (size_t)n;
	return 0;
}

static int
emit_versions(struct link_handshake *hs)
{
	uint8_t payload[sizeof(our_versions)];
	ssize_t n = versions_cell_encode(our_versions,
			sizeof(our_versions) / sizeof(our_versions[0]),
			payload, sizeof(payload));

	if (n < 0)
		return fail(hs, -EIO, "cannot encode VERSIONS");
	/* tor-spec 3: VERSIONS always has a 2-byte circuit id. */
	return emit(hs, CELL_COMMAND_VERSIONS, payload, (size_t)n,
			CELL_CIRC_ID_LEN_LEGACY);
}

static void
address_to_netinfo(const struct link_address *in, struct netinfo_address *out)
{
	out->type = in->type;
	out->length = in->type == NETINFO_ADDRESS_IPV4 ? 4 : 16;
	out->value = in->bytes;
}

/* tor's connection_or_send_netinfo(): relays send the time and their
 * addresses, clients (a non-authenticating initiator) neither. The sent
 * log stops here. */
static int
emit_netinfo(struct link_handshake *hs, time_t now, bool as_relay)
{
	struct netinfo_cell cell;
	uint8_t payload[CELL_PAYLOAD_LEN];
	ssize_t n;

	memset(&cell, 0, sizeof(cell));
	cell.time = as_relay && now > 0 ? (uint32_t)now : 0;
	address_to_netinfo(&hs->peer_address, &cell.other_address);
	if (as_relay) {
		for (size_t i = 0; i < hs->n_my_addresses; i++)
			address_to_netinfo(&hs->my_addresses[i],
					&cell.my_addresses[i]);
		cell.n_my_addresses = (uint8_t)hs->n_my_addresses;
	}
	n = netinfo_cell_encode(&cell, payload, sizeof(payload));
	if (n < 0)
		return fail(hs, -EIO, "cannot encode NETINFO");
	hs->logging_sent = false;
	return emit(hs, CELL_COMMAND_NETINFO, payload, (size_t)n,
			CELL_CIRC_ID_LEN);
}

static int
log_peek(struct link_handshake *hs, const struct kdf_digest *log,
		uint8_t out[LINK_SHA256_LEN])
{
	if (kdf_digest_peek(log, out, LINK_SHA256_LEN) != LINK_SHA256_LEN)
		return fail(hs, -EIO, "digest failure");
	return 0;
}

/* Peer certificates (tor-spec 4.2; torcert.c or_handshake_certs_*_ok). */

struct peer_certs {
	const struct certs_cell_entry *entry[CERT_TYPE_RSA_ED_CROSSCERT + 1];
};

static int
collect_certs(struct link_handshake *hs, const struct certs_cell *cell,
		struct peer_certs *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < cell->n_certs; i++) {
		uint8_t type = cell->certs[i].type;

		/* Unknown types are ignored, as tor does. */
		if (type < CERT_TYPE_RSA_LINK || type > CERT_TYPE_RSA_ED_CROSSCERT)
			continue;
		if (out->entry[type] != NULL)
			return fail(hs, -EPROTO,
				"CERTS: duplicate type %u certificate", type);
		out->entry[type] = &cell->certs[i];
	}
	return 0;
}

static const struct certs_cell_entry *
require_cert(struct link_handshake *hs, const struct peer_certs *certs,
		uint8_t type)
{
	if (certs->entry[type] == NULL)
		fail(hs, -EPROTO, "CERTS: no type %u certificate", type);
	return certs->entry[type];
}

/* Type 2: a self-signed X.509 certificate for an RSA-1024 key, within its
 * validity dates (tor_tls_cert_is_valid with check_rsa_1024). */
static int
check_identity_cert(struct link_handshake *hs,
		const struct certs_cell_entry *entry, time_t now,
		struct rsa_identity **key_out)
{
	struct rsa_identity *key = NULL;
	int rc;

	if (rsa_identity_from_x509(entry->body, entry->length, &key) != 0)
		return fail(hs, -EPROTO,
			"CERTS: type 2 certificate is not an X.509 RSA certificate");
	if (rsa_identity_bits(key) != RSA_IDENTITY_BITS) {
		rsa_identity_free(key);
		return fail(hs, -EPROTO,
			"CERTS: type 2 certificate key is not RSA-1024");
	}
	if (rsa_identity_x509_check_signature(entry->body, entry->length,
			key) != 0) {
		rsa_identity_free(key);
		return fail(hs, -EBADMSG,
			"CERTS: type 2 certificate is not correctly self-signed");
	}
	rc = x509_check_lifetime(entry->body, entry->length, now);
	if (rc != 0) {
		rsa_identity_free(key);
		if (rc == -EINVAL)
			return fail(hs, -EPROTO,
				"CERTS: type 2 certificate is malformed");
		return fail(hs, -EKEYEXPIRED, "CERTS: type 2 certificate %s",
			rc == -ETIME ? "is not yet valid" : "expired");
	}
	*key_out = key;
	return 0;
}

/* Types 4, 5, 6: an Ed25519 certificate filling its CERTS entry, of the
 * cert type of its slot and certifying the key type the slot needs. */
static int
parse_ed_cert(struct link_handshake *hs, const struct certs_cell_entry *entry,
		uint8_t key_type, struct torcert *out)
{
	const uint8_t *p = entry->body;
	const uint8_t *end = p + entry->length;

	if (torcert_parse(&p, end, out) != 0 || p != end)
		return fail(hs, -EPROTO, "CERTS: type %u certificate is malformed",
			entry->type);
	if (out->cert_type != entry->type)
		return fail(hs, -EPROTO,
			"CERTS: type %u certificate has cert type %u",
			entry->type, out->cert_type);
	if (out->key_type != key_type)
		return fail(hs, -EPROTO,
			"CERTS: type %u certificate certifies key type %u",
			entry->type, out->key_type);
	return 0;
}

static int
verify_ed_cert(struct link_handshake *hs, const struct torcert *cert,
		const uint8_t *signing_key, time_t now)
{
	switch (torcert_verify(cert, signing_key, now)) {
	case 0:
		return 0;
	case -EKEYEXPIRED:
		return fail(hs, -EKEYEXPIRED, "CERTS: type %u certificate expired",
			cert->cert_type);
	case -ENOTSUP:
		return fail(hs, -EPROTO,
			"CERTS: type %u certificate has an unknown critical extension",
			cert->cert_type);
	case -EINVAL:
		return fail(hs, -EPROTO,
			"CERTS: type %u certificate lacks the signed-with-key extension",
			cert->cert_type);
	default:
		return fail(hs, -EBADMSG,
			"CERTS: type %u certificate is badly signed",
			cert->cert_type);
	}
}

/* What both roles check (tor-spec 4.2 lists): type 2, then type 4 with its
 * signed-with-key identity, then the link or auth certificate (type 5 or 6)
 * under the signing key, then the type 7 cross-certificate. On success the
 * peer's identities and the type 5/6 certified key are stored. */
static int
check_peer_certs(struct link_handshake *hs, const struct certs_cell *cell,
		time_t now)
{
	const bool responder_certs = hs->role == LINK_ROLE_INITIATOR;
	const uint8_t leaf_type = responder_certs ? CERT_TYPE_ED_SIGNING_LINK :
		CERT_TYPE_ED_SIGNING_AUTH;
	const struct certs_cell_entry *id_entry, *signing_entry, *leaf_entry;
	const struct certs_cell_entry *cross_entry;
	struct rsa_identity *rsa_key = NULL;
	struct rsa_ed25519_crosscert cross;
	struct torcert signing, leaf;
	const uint8_t *p, *end;
	struct peer_certs certs;
	int rc;

	rc = collect_certs(hs, cell, &certs);
	if (rc != 0)
		return rc;
	if ((id_entry = require_cert(hs, &certs, CERT_TYPE_RSA_ID)) == NULL ||
			(signing_entry = require_cert(hs, &certs,
				CERT_TYPE_ED_ID_SIGNING)) == NULL ||
			(leaf_entry = require_cert(hs, &certs, leaf_type)) ==
				NULL ||
			(cross_entry = require_cert(hs, &certs,
				CERT_TYPE_RSA_ED_CROSSCERT)) == NULL)
		return hs->error;

	rc = check_identity_cert(hs, id_entry, now, &rsa_key);
	if (rc != 0)
		return rc;

	rc = parse_ed_cert(hs, signing_entry, TORCERT_KEY_TYPE_ED25519,
			&signing);
	if (rc == 0 && !signing.has_signing_key)
		rc = fail(hs, -EPROTO,
			"CERTS: type 4 certificate lacks the signed-with-key extension");
	if (rc == 0)
		rc = verify_ed_cert(hs, &signing, NULL, now);

	if (rc == 0)
		rc = parse_ed_cert(hs, leaf_entry, responder_certs ?
				TORCERT_KEY_TYPE_SHA256_X509 :
				TORCERT_KEY_TYPE_ED25519, &leaf);
	if (rc == 0)
		rc = verify_ed_cert(hs, &leaf, signing.certified_key, now);
	if (rc == 0 && responder_certs && !ct_equal(leaf.certified_key,
			hs->peer_tls_digest, LINK_SHA256_LEN))
		rc = fail(hs, -EBADMSG,
			"CERTS: type 5 certificate does not certify the peer's TLS certificate");

	if (rc == 0) {
		p = cross_entry->body;
		end = p + cross_entry->length;
		if (rsa_ed25519_crosscert_parse(&p, end, &cross) != 0 ||
				p != end)
			rc = fail(hs, -EPROTO,
				"CERTS: type 7 certificate is malformed");
	}
	if (rc == 0 && memcmp(cross.ed25519_key, signing.signing_key,
			ED25519_PUBLIC_KEY_LEN) != 0)
		rc = fail(hs, -EBADMSG,
			"CERTS: type 7 certificate is for another Ed25519 identity");
	if (rc == 0) {
		rc = rsa_ed25519_crosscert_verify(&cross, rsa_key, now);
		if (rc == -EKEYEXPIRED)
			rc = fail(hs, rc, "CERTS: type 7 certificate expired");
		else if (rc != 0)
			rc = fail(hs, -EBADMSG,
				"CERTS: type 7 certificate is badly signed");
	}

	/* tor sends its TLS certificate as type 1 (relay_handshake.c); it
	 * must then be the certificate the TLS handshake showed us. */
	if (rc == 0 && responder_certs &&
			certs.entry[CERT_TYPE_RSA_LINK] != NULL) {
		const struct certs_cell_entry *link =
			certs.entry[CERT_TYPE_RSA_LINK];
		uint8_t digest[LINK_SHA256_LEN];

		if (kdf_sha256(link->body, link->length, digest) != 0)
			rc = fail(hs, -EIO, "digest failure");
		else if (!ct_equal(digest, hs->peer_tls_digest,
				LINK_SHA256_LEN))
			rc = fail(hs, -EBADMSG,
				"CERTS: type 1 certificate is not the peer's TLS certificate");
	}

	if (rc == 0 && (rsa_identity_fingerprint(rsa_key,
			hs->peer_rsa_fingerprint) != 0 ||
			rsa_key_digest(rsa_key, hs->peer_rsa_id_digest) != 0))
		rc = fail(hs, -EIO, "digest failure");
	rsa_identity_free(rsa_key);
	if (rc != 0)
		return rc;

	memcpy(hs->peer_ed_identity, signing.signing_key,
			ED25519_PUBLIC_KEY_LEN);
	memcpy(hs->peer_auth_key, leaf.certified_key, ED25519_PUBLIC_KEY_LEN);
	hs->peer_certs_checked = true;

	if (hs->has_expected_rsa && memcmp(hs->expected_rsa,
			hs->peer_rsa_fingerprint, RSA_IDENTITY_FINGERPRINT_LEN) != 0)
		return fail(hs, -EKEYREJECTED,
			"CERTS: RSA identity is not the expected one");
	if (hs->has_expected_ed && memcmp(hs->expected_ed,
			hs->peer_ed_identity, ED25519_PUBLIC_KEY_LEN) != 0)
		return fail(hs, -EKEYREJECTED,
			"CERTS: Ed25519 identity is not the expected one");
	return 0;
}

/* Cell handlers. */

static int
handle_versions(struct link_handshake *hs, const struct cell_frame *frame,
		time_t now)
{
	const uint8_t *p = frame->payload;
	struct versions_cell cell;
	uint16_t version;
	char offered[64];
	size_t used = 0;
	int rc;

	if (versions_cell_parse(&p, p + frame->payload_len, &cell) != 0)
		return fail(hs, -EPROTO, "VERSIONS with odd length %u",
			frame->payload_len);
	version = versions_cell_highest_common(&cell, our_versions,
			sizeof(our_versions) / sizeof(our_versions[0]));
	if (version < LINK_PROTOCOL_MIN) {
		offered[0] = '\0';
		for (size_t i = 0; i < cell.n_versions && i < 8; i++) {
			int n = snprintf(offered + used, sizeof(offered) - used,
				"%s%u", i > 0 ? " " : "",
				versions_cell_version(&cell, i));

			if (n < 0 || (size_t)n >= sizeof(offered) - used)
				break;
			used += (size_t)n;
		}
		return fail(hs, -EPROTONOSUPPORT,
			"VERSIONS: no link protocol in common (peer offers [%s]%s, we need 4 or 5)",
			offered, cell.n_versions > 8 ? " ..." : "");
	}
	hs->link_protocol = version;
	/* tor-spec 4.1, 3: from here on circuit ids are 4 bytes wide. */
	hs->circ_id_len = CELL_CIRC_ID_LEN;

	if (hs->role == LINK_ROLE_INITIATOR) {
		hs->step = STEP_I_WAIT_CERTS;
		return 0;
	}

	/* channeltls.c: a responder answers VERSIONS with VERSIONS, CERTS,
	 * AUTH_CHALLENGE and NETINFO in one go. */
	{
		uint8_t challenge[AUTH_CHALLENGE_LEN];
		uint8_t payload[AUTH_CHALLENGE_LEN + 4];
		const uint16_t methods[] = {
			AUTH_METHOD_ED25519_SHA256_RFC5705,
		};
		ssize_t n;

		hs->versions_sent_at = now;
		rc = emit_versions(hs);
		if (rc == 0)
			rc = emit(hs, CELL_COMMAND_CERTS, hs->our_certs,
				hs->our_certs_len, CELL_CIRC_ID_LEN);
		if (rc != 0)
			return rc;
		if (random_fill(hs->random_bytes, hs->random_arg, challenge,
				sizeof(challenge)) != 0)
			return fail(hs, -EIO, "no random bytes for AUTH_CHALLENGE");
		n = auth_challenge_cell_encode(challenge, methods, 1, payload,
				sizeof(payload));
		if (n < 0)
			return fail(hs, -EIO, "cannot encode AUTH_CHALLENGE");
		rc = emit(hs, CELL_COMMAND_AUTH_CHALLENGE, payload, (size_t)n,
				CELL_CIRC_ID_LEN);
		if (rc == 0)
			rc = emit_netinfo(hs, now, true);
		if (rc != 0)
			return rc;
	}
	hs->step = STEP_R_WAIT_INITIATOR;
	return 0;
}

static int
handle_certs(struct link_handshake *hs, const struct cell_frame *frame,
		time_t now)
{
	struct certs_cell *cell;
	const uint8_t *p = frame->payload;
	int rc;

	switch (hs->step) {
	case STEP_R_WAIT_INITIATOR:
	case STEP_I_WAIT_CERTS:
		break;
	default:
		return fail(hs, -EPROTO, "second CERTS cell");
	}
	if (frame->circ_id != 0)
		return fail(hs, -EPROTO, "CERTS with circuit id %u",
			frame->circ_id);
	cell = malloc(sizeof(*cell));
	if (cell == NULL)
		return fail(hs, -ENOMEM, "out of memory");
	if (certs_cell_parse(&p, p + frame->payload_len, cell) != 0) {
		free(cell);
		return fail(hs, -EPROTO, "CERTS cell is malformed");
	}
	rc = check_peer_certs(hs, cell, now);
	free(cell);
	if (rc != 0)
		return rc;
	if (hs->role == LINK_ROLE_INITIATOR) {
		/* tor-spec 4.2: the responder is now authenticated. */
		hs->peer_authenticated = true;
		hs->step = STEP_I_WAIT_AUTH_CHALLENGE;
	} else {
		hs->step = STEP_R_WAIT_AUTHENTICATE;
	}
	return 0;
}

/* tor-spec 4.4.2: our AUTHENTICATE, preceded by our CERTS (which CLOG
 * covers) and followed by NETINFO, as channeltls.c does on AUTH_CHALLENGE. */
static int
send_authentication(struct link_handshake *hs, time_t now)
{
	struct auth0003_body body;
	struct authenticate_cell cell;
	uint8_t auth[AUTH0003_LEN];
	uint8_t payload[4 + AUTH0003_LEN];
	ssize_t n;
	int rc;

	memset(&body, 0, sizeof(body));
	rc = log_peek(hs, hs->received_log, body.slog);
	if (rc == 0)
		rc = emit(hs, CELL_COMMAND_CERTS, hs->our_certs,
				hs->our_certs_len, CELL_CIRC_ID_LEN);
	if (rc == 0)
		rc = log_peek(hs, hs->sent_log, body.clog);
	if (rc != 0)
		return rc;
	memcpy(body.cid, hs->our_rsa_id_digest, LINK_SHA256_LEN);
	memcpy(body.sid, hs->peer_rsa_id_digest, LINK_SHA256_LEN);
	memcpy(body.cid_ed, hs->our_ed_identity, LINK_SHA256_LEN);
	memcpy(body.sid_ed, hs->peer_ed_identity, LINK_SHA256_LEN);
	memcpy(body.scert, hs->peer_tls_digest, LINK_SHA256_LEN);
	if (hs->export_keying_material(hs->export_arg, body.cid,
			body.tlssecrets) != 0)
		return fail(hs, -EIO, "TLS exporter failed");
	if (random_fill(hs->random_bytes, hs->random_arg, body.rand,
			sizeof(body.rand)) != 0)
		return fail(hs, -EIO, "no random bytes for AUTHENTICATE");
	n = auth0003_body_encode(&body, auth, sizeof(auth));
	if (n != AUTH0003_LEN || ed25519_sign(auth + AUTH0003_FIXED_LEN, auth,
			AUTH0003_FIXED_LEN, &hs->auth_key) != 0)
		return fail(hs, -EIO, "cannot sign AUTHENTICATE");
	cell.auth_type = AUTH_METHOD_ED25519_SHA256_RFC5705;
	cell.auth_length = AUTH0003_LEN;
	cell.auth = auth;
	n = authenticate_cell_encode(&cell, payload, sizeof(payload));
	if (n < 0)
		return fail(hs, -EIO, "cannot encode AUTHENTICATE");
	memcpy(hs->slog, body.slog, LINK_SHA256_LEN);
	memcpy(hs->clog, body.clog, LINK_SHA256_LEN);
	hs->auth_logs_known = true;
	hs->logging_sent = false;
	rc = emit(hs, CELL_COMMAND_AUTHENTICATE, payload, (size_t)n,
			CELL_CIRC_ID_LEN);
	if (rc == 0)
		rc = emit_netinfo(hs, now, true);
	return rc;
}

static int
handle_auth_challenge(struct link_handshake *hs,
		const struct cell_frame *frame, time_t now)
{
	const uint8_t *p = frame->payload;
	struct auth_challenge_cell cell;

	if (hs->role == LINK_ROLE_RESPONDER)
		return fail(hs, -EPROTO, "AUTH_CHALLENGE sent to the responder");
	if (hs->step == STEP_I_WAIT_CERTS)
		return fail(hs, -EPROTO, "AUTH_CHALLENGE before CERTS");
	if (hs->step != STEP_I_WAIT_AUTH_CHALLENGE)
		return fail(hs, -EPROTO, "second AUTH_CHALLENGE cell");
	if (frame->circ_id != 0)
		return fail(hs, -EPROTO, "AUTH_CHALLENGE with circuit id %u",
			frame->circ_id);
	if (auth_challenge_cell_parse(&p, p + frame->payload_len, &cell) != 0)
		return fail(hs, -EPROTO, "AUTH_CHALLENGE cell is malformed");
	hs->step = STEP_I_WAIT_NETINFO;
	/* channeltls.c: a relay answers with method 3 when offered; without
	 * a method it knows it only sends NETINFO, as a client does. */
	if (hs->authenticate && auth_challenge_cell_has_method(&cell,
			AUTH_METHOD_ED25519_SHA256_RFC5705))
		return send_authentication(hs, now);
	return emit_netinfo(hs, now, hs->authenticate);
}

static int
handle_authenticate(struct link_handshake *hs, const struct cell_frame *frame)
{
	const uint8_t *p = frame->payload;
	struct authenticate_cell cell;
	struct auth0003_body body;
	struct {
		const char *name;
		const uint8_t *got;
		uint8_t want[LINK_SHA256_LEN];
	} fields[8];
	int rc;

	if (hs->role == LINK_ROLE_INITIATOR)
		return fail(hs, -EPROTO, "AUTHENTICATE sent to the initiator");
	if (hs->step == STEP_R_WAIT_INITIATOR)
		return fail(hs, -EPROTO, "AUTHENTICATE before CERTS");
	if (hs->step != STEP_R_WAIT_AUTHENTICATE)
		return fail(hs, -EPROTO, "second AUTHENTICATE cell");
	if (frame->circ_id != 0)
		return fail(hs, -EPROTO, "AUTHENTICATE with circuit id %u",
			frame->circ_id);
	if (authenticate_cell_parse(&p, p + frame->payload_len, &cell) != 0)
		return fail(hs, -EPROTO, "AUTHENTICATE cell is truncated");
	if (cell.auth_type != AUTH_METHOD_ED25519_SHA256_RFC5705)
		return fail(hs, -EPROTONOSUPPORT,
			"AUTHENTICATE of unsupported type %u", cell.auth_type);
	if (cell.auth_length != AUTH0003_LEN)
		return fail(hs, -EPROTO,
			"AUTH0003 authenticator of %u bytes (want %u)",
			cell.auth_length, (unsigned)AUTH0003_LEN);
	p = cell.auth;
	if (auth0003_body_parse(&p, cell.auth + cell.auth_length, &body) != 0)
		return fail(hs, -EPROTO, "AUTHENTICATE: TYPE is not AUTH0003");

	/* relay_handshake.c with server = 1: every field from TYPE through
	 * TLSSECRETS has one right value. */
	fields[0].name = "CID";
	fields[0].got = body.cid;
	memcpy(fields[0].want, hs->peer_rsa_id_digest, LINK_SHA256_LEN);
	fields[1].name = "SID";
	fields[1].got = body.sid;
	memcpy(fields[1].want, hs->our_rsa_id_digest, LINK_SHA256_LEN);
	fields[2].name = "CID_ED";
	fields[2].got = body.cid_ed;
	memcpy(fields[2].want, hs->peer_ed_identity, LINK_SHA256_LEN);
	fields[3].name = "SID_ED";
	fields[3].got = body.sid_ed;
	memcpy(fields[3].want, hs->our_ed_identity, LINK_SHA256_LEN);
	fields[4].name = "SLOG";
	fields[4].got = body.slog;
	rc = log_peek(hs, hs->sent_log, fields[4].want);
	fields[5].name = "CLOG";
	fields[5].got = body.clog;
	if (rc == 0)
		rc = log_peek(hs, hs->received_log, fields[5].want);
	if (rc != 0)
		return rc;
	fields[6].name = "SCERT";
	fields[6].got = body.scert;
	memcpy(fields[6].want, hs->our_link_digest, LINK_SHA256_LEN);
	fields[7].name = "TLSSECRETS";
	fields[7].got = body.tlssecrets;
	if (hs->export_keying_material(hs->export_arg, fields[0].want,
			fields[7].want) != 0)
		return fail(hs, -EIO, "TLS exporter failed");
	memcpy(hs->slog, fields[4].want, LINK_SHA256_LEN);
	memcpy(hs->clog, fields[5].want, LINK_SHA256_LEN);
	hs->auth_logs_known = true;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!ct_equal(fields[i].got, fields[i].want, LINK_SHA256_LEN))
			return fail(hs, -EBADMSG,
				"AUTHENTICATE: %s does not match", fields[i].name);
	}
	if (ed25519_verify(body.sig, cell.auth, AUTH0003_FIXED_LEN,
			hs->peer_auth_key) != 0)
		return fail(hs, -EBADMSG,
			"AUTHENTICATE: bad signature by the type 6 key");
	hs->peer_authenticated = true;
	hs->step = STEP_R_WAIT_NETINFO;
	return 0;
}

static void
netinfo_address_copy(const struct netinfo_address *in,
		struct link_address *out)
{
	memset(out, 0, sizeof(*out));
	out->type = in->type;
	memcpy(out->bytes, in->value, in->length);
}

static int
handle_netinfo(struct link_handshake *hs, const struct cell_frame *frame,
		time_t now)
{
	struct netinfo_cell cell;
	struct link_peer_netinfo *info = &hs->netinfo;
	const uint8_t *p = frame->payload;
	int rc = 0;

	switch (hs->step) {
	case STEP_R_WAIT_INITIATOR:     /* a client: no CERTS */
	case STEP_R_WAIT_NETINFO:
	case STEP_I_WAIT_NETINFO:
		break;
	case STEP_I_WAIT_AUTH_CHALLENGE:
		/* channeltls.c: a responder that sent no AUTH_CHALLENGE
		 * gets our NETINFO now, unauthenticated. */
		rc = emit_netinfo(hs, now, hs->authenticate);
		if (rc != 0)
			return rc;
		break;
	case STEP_R_WAIT_AUTHENTICATE:
		return fail(hs, -EPROTO,
			"NETINFO after CERTS without AUTHENTICATE");
	default:
		return fail(hs, -EPROTO, "NETINFO before CERTS");
	}
	if (netinfo_cell_parse(&p, p + frame->payload_len, &cell) != 0)
		return fail(hs, -EPROTO, "NETINFO cell is malformed");
	/* channeltls.c closes on an OTHERADDR it cannot read. */
	if (!netinfo_address_is_ipv4(&cell.other_address) &&
			!netinfo_address_is_ipv6(&cell.other_address))
		return fail(hs, -EPROTO,
			"NETINFO: other address is not IPv4 or IPv6");

	memset(info, 0, sizeof(*info));
	info->time = cell.time;
	if (cell.time != 0 && now - hs->versions_sent_at <
			LINK_NETINFO_SKEW_WINDOW) {
		info->skew_known = true;
		info->clock_skew = (int64_t)now - (int64_t)cell.time;
	}
	info->has_other_address = true;
	netinfo_address_copy(&cell.other_address, &info->other_address);
	for (unsigned i = 0; i < cell.n_my_addresses &&
			info->n_addresses < LINK_MAX_PEER_ADDRESSES; i++) {
		const struct netinfo_address *a = &cell.my_addresses[i];

		/* tor-spec 4.5: addresses of the wrong length are ignored. */
		if (netinfo_address_is_ipv4(a) || netinfo_address_is_ipv6(a))
			netinfo_address_copy(a,
				&info->addresses[info->n_addresses++]);
	}
	hs->netinfo_known = true;
	hs->step = STEP_OPEN;
	return 0;
}

/* After the handshake: link-level cells tor still handles itself. */
static int
handle_open(struct link_handshake *hs, const struct cell_frame *frame)
{
	struct padding_negotiate_cell negotiate;
	const uint8_t *p = frame->payload;

	switch (frame->command) {
	case CELL_COMMAND_PADDING:
	case CELL_COMMAND_VPADDING:
	case CELL_COMMAND_AUTHORIZE:
		return 0;
	case CELL_COMMAND_VERSIONS:
	case CELL_COMMAND_NETINFO:
		/* tor-spec 4.1: later VERSIONS are ignored; tor drops a
		 * NETINFO on an open connection. */
		return 0;
	case CELL_COMMAND_PADDING_NEGOTIATE:
		/* channeltls.c drops it before link protocol 5 or when
		 * malformed. */
		if (hs->link_protocol >= LINK_PROTOCOL_PADDING &&
				padding_negotiate_cell_parse(&p,
					p + frame->payload_len, &negotiate) == 0) {
			hs->padding_known = true;
			hs->padding_command = negotiate.command;
			hs->padding_ito_low = negotiate.ito_low_ms;
			hs->padding_ito_high = negotiate.ito_high_ms;
		}
		return 0;
	case CELL_COMMAND_CERTS:
	case CELL_COMMAND_AUTH_CHALLENGE:
	case CELL_COMMAND_AUTHENTICATE:
		return fail(hs, -EPROTO, "%s cell after the handshake",
			command_name(frame->command));
	default:
		return -ENOTSUP;
	}
}

int
link_handshake_receive(struct link_handshake *hs, const uint8_t **p,
		const uint8_t *end, time_t now, size_t *need)
{
	const uint8_t *start = *p;
	const uint8_t *q = *p;
	struct cell_frame frame;
	int rc;

	if (hs->step == STEP_FAILED)
		return hs->error;
	rc = cell_frame_parse(&q, end, hs->circ_id_len, &frame, need);
	if (rc != 0)
		return rc == -EAGAIN ? rc : fail(hs, -EPROTO, "bad framing");

	if (hs->step == STEP_OPEN) {
		rc = handle_open(hs, &frame);
		if (rc != -ENOTSUP)
			*p = q;
		return rc;
	}
	*p = q;

	if (frame.command == CELL_COMMAND_VERSIONS ||
			frame.command == CELL_COMMAND_VPADDING ||
			frame.command == CELL_COMMAND_AUTHORIZE ||
			frame.command == CELL_COMMAND_CERTS ||
			frame.command == CELL_COMMAND_AUTH_CHALLENGE ||
			frame.command == CELL_COMMAND_NETINFO) {
		/* connection_or.c / channeltls.c: every handshake cell
		 * received except AUTHENTICATE goes into the received log. */
		if (kdf_digest_update(hs->received_log, start,
				(size_t)(q - start)) != 0)
			return fail(hs, -EIO, "digest failure");
	}

	switch (frame.command) {
	case CELL_COMMAND_VPADDING:
	case CELL_COMMAND_AUTHORIZE:
		/* tor-spec 4: allowed anywhere in the handshake, and
		 * before VERSIONS; AUTHORIZE is reserved and ignored. */
		return 0;
	case CELL_COMMAND_VERSIONS:
		if (hs->link_protocol != 0)
			return 0;
		return handle_versions(hs, &frame, now);
	default:
		break;
	}
	if (hs->link_protocol == 0)
		return fail(hs, -EPROTO, "%s cell (command %u) before VERSIONS",
			command_name(frame.command), frame.command);
	switch (frame.command) {
	case CELL_COMMAND_CERTS:
		return handle_certs(hs, &frame, now);
	case CELL_COMMAND_AUTH_CHALLENGE:
		return handle_auth_challenge(hs, &frame, now);
	case CELL_COMMAND_AUTHENTICATE:
		return handle_authenticate(hs, &frame);
	case CELL_COMMAND_NETINFO:
		return handle_netinfo(hs, &frame, now);
	default:
		/* tor-spec 4: no other cell may intervene. */
		return fail(hs, -EPROTO,
			"unexpected %s cell (command %u) during the handshake",
			command_name(frame.command), frame.command);
	}
}

/* Lifetime and accessors. */

static bool
address_ok(const struct link_address *a)
{
	return a->type == NETINFO_ADDRESS_IPV4 ||
		a->type == NETINFO_ADDRESS_IPV6;
}

void
link_handshake_free(struct link_handshake *hs)
{
	if (hs == NULL)
		return;
	kdf_digest_free(hs->sent_log);
	kdf_digest_free(hs->received_log);
	free(hs->our_certs);
	free(hs->out);
	ct_wipe(hs, sizeof(*hs));
	free(hs);
}

int
link_handshake_new(const struct link_handshake_params *params, time_t now,
		struct link_handshake **out)
{
	const struct link_credentials *creds;
	struct link_handshake *hs;
	int rc;

	if (params == NULL || params->credentials == NULL ||
			params->export_keying_material == NULL ||
			(params->role != LINK_ROLE_RESPONDER &&
			 params->role != LINK_ROLE_INITIATOR) ||
			params->n_my_addresses > LINK_MAX_MY_ADDRESSES ||
			!address_ok(&params->peer_address) ||
			(params->role == LINK_ROLE_INITIATOR &&
			 params->peer_tls_cert_digest == NULL))
		return -EINVAL;
	for (size_t i = 0; i < params->n_my_addresses; i++)
		if (!address_ok(&params->my_addresses[i]))
			return -EINVAL;
	creds = params->credentials;

	hs = calloc(1, sizeof(*hs));
	if (hs == NULL)
		return -ENOMEM;
	hs->role = params->role;
	hs->circ_id_len = CELL_CIRC_ID_LEN_LEGACY;
	hs->export_keying_material = params->export_keying_material;
	hs->export_arg = params->export_arg;
	hs->random_bytes = params->random_bytes;
	hs->random_arg = params->random_arg;
	hs->peer_address = params->peer_address;
	memcpy(hs->my_addresses, params->my_addresses,
			sizeof(hs->my_addresses));
	hs->n_my_addresses = params->n_my_addresses;
	hs->authenticate = params->authenticate;
	if (params->peer_tls_cert_digest != NULL)
		memcpy(hs->peer_tls_digest, params->peer_tls_cert_digest,
				LINK_SHA256_LEN);
	if (params->expected_rsa_fingerprint != NULL) {
		hs->has_expected_rsa = true;
		memcpy(hs->expected_rsa, params->expected_rsa_fingerprint,
				RSA_IDENTITY_FINGERPRINT_LEN);
	}
	if (params->expected_ed25519_identity != NULL) {
		hs->has_expected_ed = true;
		memcpy(hs->expected_ed, params->expected_ed25519_identity,
				ED25519_PUBLIC_KEY_LEN);
	}
	memcpy(hs->our_rsa_id_digest, creds->rsa_id_digest, LINK_SHA256_LEN);
	memcpy(hs->our_ed_identity, creds->ed_identity, ED25519_PUBLIC_KEY_LEN);
	memcpy(hs->our_link_digest, creds->link_digest, LINK_SHA256_LEN);
	hs->auth_key = creds->auth;
	hs->versions_sent_at = now;
	hs->logging_sent = true;

	rc = encode_our_certs(creds, hs->role, &hs->our_certs,
			&hs->our_certs_len);
	if (rc == 0) {
		hs->sent_log = kdf_digest_new(KDF_HASH_SHA256);
		hs->received_log = kdf_digest_new(KDF_HASH_SHA256);
		if (hs->sent_log == NULL || hs->received_log == NULL)
			rc = -ENOMEM;
	}
	if (rc == 0 && hs->role == LINK_ROLE_INITIATOR) {
		hs->step = STEP_I_WAIT_VERSIONS;
		rc = emit_versions(hs);
	} else {
		hs->step = STEP_R_WAIT_VERSIONS;
	}
	if (rc != 0) {
		link_handshake_free(hs);
		return rc;
	}
	*out = hs;
	return 0;
}

unsigned
link_handshake_circ_id_len(const struct link_handshake *hs)
{
	return hs->circ_id_len;
}

size_t
link_handshake_output(const struct link_handshake *hs, const uint8_t **data)
{
	*data = hs->out;
	return hs->out_len;
}

void
link_handshake_output_consumed(struct link_handshake *hs, size_t n)
{
	if (n >= hs->out_len) {
		hs->out_len = 0;
		return;
	}
	memmove(hs->out, hs->out + n, hs->out_len - n);
	hs->out_len -= n;
}

enum link_handshake_state
link_handshake_state(const struct link_handshake *hs)
{
	switch (hs->step) {
	case STEP_OPEN:
		return LINK_HANDSHAKE_OPEN;
	case STEP_FAILED:
		return LINK_HANDSHAKE_FAILED;
	default:
		return LINK_HANDSHAKE_IN_PROGRESS;
	}
}

int
link_handshake_error(const struct link_handshake *hs)
{
	return hs->step == STEP_FAILED ? hs->error : 0;
}

const char *
link_handshake_reason(const struct link_handshake *hs)
{
	return hs->step == STEP_FAILED ? hs->reason : "";
}

uint16_t
link_handshake_link_protocol(const struct link_handshake *hs)
{
	return hs->link_protocol;
}

bool
link_handshake_peer_authenticated(const struct link_handshake *hs)
{
	return hs->peer_authenticated && hs->step != STEP_FAILED;
}

int
link_handshake_peer_rsa_fingerprint(const struct link_handshake *hs,
		uint8_t out[RSA_IDENTITY_FINGERPRINT_LEN])
{
	if (!link_handshake_peer_authenticated(hs))
		return -ENOENT;
	memcpy(out, hs->peer_rsa_fingerprint, RSA_IDENTITY_FINGERPRINT_LEN);
	return 0;
}

int
link_handshake_peer_ed25519_identity(const struct link_handshake *hs,
		uint8_t out[ED25519_PUBLIC_KEY_LEN])
{
	if (!link_handshake_peer_authenticated(hs))
		return -ENOENT;
	memcpy(out, hs->peer_ed_identity, ED25519_PUBLIC_KEY_LEN);
	return 0;
}

int
link_handshake_peer_netinfo(const struct link_handshake *hs,
		struct link_peer_netinfo *out)
{
	if (!hs->netinfo_known)
		return -ENOENT;
	*out = hs->netinfo;
	return 0;
}

int
link_handshake_auth_logs(const struct link_handshake *hs,
		uint8_t slog[LINK_SHA256_LEN], uint8_t clog[LINK_SHA256_LEN])
{
	if (!hs->auth_logs_known)
		return -ENOENT;
	memcpy(slog, hs->slog, LINK_SHA256_LEN);
	memcpy(clog, hs->clog, LINK_SHA256_LEN);
	return 0;
}

int
link_handshake_padding_request(const struct link_handshake *hs,
		uint8_t *command, uint16_t *ito_low_ms, uint16_t *ito_high_ms)
{
	if (!hs->padding_known)
		return -ENOENT;
	*command = hs->padding_command;
	*ito_low_ms = hs->padding_ito_low;
	*ito_high_ms = hs->padding_ito_high;
	return 0;
}
