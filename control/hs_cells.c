/* Onion-service relay message codecs (rend-spec-v3 3.1, 3.2, 4.1, 4.2) and
 * tor 0.4.9's checks on them. */
#include "control/hs_cells.h"

#include <errno.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/kdf.h"
#include "dataplane/cell.h"
#include "dataplane/wire.h"

/* DoS parameter: TYPE u8, VALUE u64 (prop 305). */
#define HS_DOS_PARAM_LEN 9

static uint64_t
read_u64(const uint8_t *p)
{
	return (uint64_t)wire_read_u32(p) << 32 | wire_read_u32(p + 4);
}

static void
write_u64(uint8_t *p, uint64_t v)
{
	wire_write_u32(p, (uint32_t)(v >> 32));
	wire_write_u32(p + 4, (uint32_t)v);
}

bool
hs_extension_next(const struct hs_extension_list *list,
		const uint8_t **cursor, struct hs_extension *out)
{
	const uint8_t *q = *cursor == NULL ? list->fields : *cursor;
	const uint8_t *end = list->fields + list->fields_len;

	if (list->fields == NULL || end - q < 2 || end - q - 2 < q[1])
		return false;
	out->type = q[0];
	out->len = q[1];
	out->data = q + 2;
	*cursor = q + 2 + q[1];
	return true;
}

/* N_EXTENSIONS then the fields; every field must be whole (tor's
 * trn_extension_parse: truncation is an error). */
static int
extension_list_parse(const uint8_t **p, const uint8_t *end,
		struct hs_extension_list *out)
{
	const uint8_t *q = *p;
	const uint8_t *cursor = NULL;
	struct hs_extension ext;

	if (q >= end)
		return -EMSGSIZE;
	out->count = *q++;
	out->fields = q;
	out->fields_len = (size_t)(end - q);
	for (unsigned i = 0; i < out->count; i++) {
		if (!hs_extension_next(out, &cursor, &ext))
			return -EMSGSIZE;
	}
	if (cursor != NULL)
		q = cursor;
	out->fields_len = (size_t)(q - out->fields);
	*p = q;
	return 0;
}

/* AUTH_KEY_TYPE u8 (one of 0, 1, 2), AUTH_KEY_LEN u16, AUTH_KEY. */
static int
auth_key_parse(const uint8_t **p, const uint8_t *end, uint8_t *type,
		uint16_t *len, const uint8_t **key)
{
	const uint8_t *q = *p;

	if (q >= end)
		return -EMSGSIZE;
	if (q[0] > HS_AUTH_KEY_TYPE_ED25519)
		return -EINVAL;
	if (end - q < 3)
		return -EMSGSIZE;
	*type = q[0];
	*len = wire_read_u16(q + 1);
	if ((size_t)(end - q) - 3 < *len)
		return -EMSGSIZE;
	*key = q + 3;
	*p = q + 3 + *len;
	return 0;
}

/* The AUTH_KEY fields, then the extension list: what ESTABLISH_INTRO and
 * INTRODUCE1 share after their first fields. */
static int
auth_key_and_extensions_parse(const uint8_t **p, const uint8_t *end, uint8_t *type,
		uint16_t *len, const uint8_t **key, struct hs_extension_list *extensions)
{
	int rc = auth_key_parse(p, end, type, len, key);

	return rc < 0 ? rc : extension_list_parse(p, end, extensions);
}

/* names[check], or "unknown" past the table. */
static const char *
check_name(const char *const *names, size_t count, unsigned check)
{
	return check < count && names[check] != NULL ? names[check] : "unknown";
}

int
establish_intro_cell_parse(const uint8_t **p, const uint8_t *end,
		struct establish_intro_cell *out)
{
	const uint8_t *q = *p;
	struct establish_intro_cell cell;
	int rc;

	memset(&cell, 0, sizeof(cell));
	cell.start = q;
	rc = auth_key_and_extensions_parse(&q, end, &cell.auth_key_type, &cell.auth_key_len,
			&cell.auth_key, &cell.extensions);
	if (rc < 0)
		return rc;
	cell.mac_covered_len = (size_t)(q - cell.start);
	if (end - q < ESTABLISH_INTRO_MAC_LEN)
		return -EMSGSIZE;
	cell.handshake_mac = q;
	q += ESTABLISH_INTRO_MAC_LEN;
	cell.sig_covered_len = (size_t)(q - cell.start);
	if (end - q < 2)
		return -EMSGSIZE;
	cell.sig_len = wire_read_u16(q);
	q += 2;
	if ((size_t)(end - q) < cell.sig_len)
		return -EMSGSIZE;
	cell.sig = q;
	q += cell.sig_len;
	*out = cell;
	*p = q;
	return 0;
}

static const char *const establish_intro_check_names[] = {
	[ESTABLISH_INTRO_OK] = "ok",
	[ESTABLISH_INTRO_EMPTY] = "empty",
	[ESTABLISH_INTRO_LEGACY_KEY_TYPE] = "legacy-auth-key-type",
	[ESTABLISH_INTRO_UNKNOWN_KEY_TYPE] = "unknown-auth-key-type",
	[ESTABLISH_INTRO_TRUNCATED] = "truncated",
	[ESTABLISH_INTRO_INVALID] = "invalid",
	[ESTABLISH_INTRO_BAD_AUTH_KEY_LEN] = "bad-auth-key-len",
	[ESTABLISH_INTRO_BAD_SIG_LEN] = "bad-sig-len",
	[ESTABLISH_INTRO_BAD_SIGNATURE] = "bad-signature",
	[ESTABLISH_INTRO_BAD_MAC] = "bad-mac",
};

const char *
establish_intro_check_name(enum establish_intro_check check)
{
	return check_name(establish_intro_check_names, sizeof(establish_intro_check_names) /
			sizeof(establish_intro_check_names[0]), (unsigned)check);
}

enum establish_intro_check
establish_intro_precheck(const uint8_t *body, size_t body_len)
{
	if (body_len == 0)
		return ESTABLISH_INTRO_EMPTY;
	if (body[0] == HS_AUTH_KEY_TYPE_LEGACY0 ||
			body[0] == HS_AUTH_KEY_TYPE_LEGACY1)
		return ESTABLISH_INTRO_LEGACY_KEY_TYPE;
	if (body[0] != HS_AUTH_KEY_TYPE_ED25519)
		return ESTABLISH_INTRO_UNKNOWN_KEY_TYPE;
	return ESTABLISH_INTRO_OK;
}

/* tor's crypto_mac_sha3_256: SHA3-256(INT_8(key_len) || key || msg). */
static int
mac_sha3_256(const uint8_t *key, size_t key_len, const uint8_t *msg,
		size_t msg_len, uint8_t out[KDF_SHA3_256_LEN])
{
	uint8_t key_len_be[8];
	struct kdf_digest *digest = kdf_digest_new(KDF_HASH_SHA3_256);
	int rc = -EIO;

	if (digest == NULL)
		return -EIO;
	write_u64(key_len_be, key_len);
	if (kdf_digest_update(digest, key_len_be, sizeof(key_len_be)) == 0 &&
			kdf_digest_update(digest, key, key_len) == 0 &&
			kdf_digest_update(digest, msg, msg_len) == 0 &&
			kdf_digest_peek(digest, out, KDF_SHA3_256_LEN) ==
			KDF_SHA3_256_LEN)
		rc = 0;
	kdf_digest_free(digest);
	return rc;
}

/* The signed message: prefix || covered bytes. An ESTABLISH_INTRO is one
 * relay message, so this fits on the stack. */
#define ESTABLISH_INTRO_PREFIX_LEN (sizeof(ESTABLISH_INTRO_SIG_PREFIX) - 1)
#define ESTABLISH_INTRO_SIGNED_MAX (ESTABLISH_INTRO_PREFIX_LEN + RELAY_DATA_MAX)

static size_t
establish_intro_signed_message(const struct establish_intro_cell *cell,
		uint8_t *msg)
{
	memcpy(msg, ESTABLISH_INTRO_SIG_PREFIX, ESTABLISH_INTRO_PREFIX_LEN);
	memcpy(msg + ESTABLISH_INTRO_PREFIX_LEN, cell->start,
		cell->sig_covered_len);
	return ESTABLISH_INTRO_PREFIX_LEN + cell->sig_covered_len;
}

int
establish_intro_verify(const uint8_t *body, size_t body_len,
		const uint8_t kh[HS_CIRCUIT_KH_LEN],
		struct establish_intro_cell *out,
		enum establish_intro_check *failed)
{
	uint8_t msg[ESTABLISH_INTRO_SIGNED_MAX];
	const uint8_t *p = body;
	uint8_t mac[KDF_SHA3_256_LEN];
	size_t msg_len;
	int rc;

	*failed = ESTABLISH_INTRO_OK;
	if (body_len > RELAY_DATA_MAX)
		return -EINVAL;
	rc = establish_intro_cell_parse(&p, body + body_len, out);
	if (rc < 0) {
		*failed = rc == -EMSGSIZE ? ESTABLISH_INTRO_TRUNCATED :
			ESTABLISH_INTRO_INVALID;
		return -EPROTO;
	}
	/* verify_establish_intro_cell is only reached for type 02. */
	if (out->auth_key_type != HS_AUTH_KEY_TYPE_ED25519) {
		*failed = out->auth_key_type > HS_AUTH_KEY_TYPE_ED25519 ?
			ESTABLISH_INTRO_UNKNOWN_KEY_TYPE :
			ESTABLISH_INTRO_LEGACY_KEY_TYPE;
		return -EPROTO;
	}
	if (out->auth_key_len != HS_AUTH_KEY_LEN) {
		*failed = ESTABLISH_INTRO_BAD_AUTH_KEY_LEN;
		return -EPROTO;
	}
	if (out->sig_len != ESTABLISH_INTRO_SIG_LEN) {
		*failed = ESTABLISH_INTRO_BAD_SIG_LEN;
		return -EPROTO;
	}
	msg_len = establish_intro_signed_message(out, msg);
	rc = ed25519_verify(out->sig, msg, msg_len, out->auth_key);
	if (rc == -EBADMSG) {
		*failed = ESTABLISH_INTRO_BAD_SIGNATURE;
		return -EPROTO;
	}
	if (rc < 0)
		return -EIO;
	if (mac_sha3_256(kh, HS_CIRCUIT_KH_LEN, out->start,
			out->mac_covered_len, mac) != 0)
		return -EIO;
	if (!ct_equal(mac, out->handshake_mac, sizeof(mac))) {
		*failed = ESTABLISH_INTRO_BAD_MAC;
		return -EPROTO;
	}
	return 0;
}

ssize_t
establish_intro_cell_build(const struct ed25519_keypair *auth_key,
		const uint8_t kh[HS_CIRCUIT_KH_LEN], const uint8_t *extensions,
		size_t extensions_len, uint8_t *out, size_t out_len)
{
	static const uint8_t no_extensions[1] = { 0 };
	uint8_t msg[ESTABLISH_INTRO_SIGNED_MAX];
	struct establish_intro_cell cell;
	size_t total_len, off = 0;
	size_t msg_len;

	if (extensions == NULL) {
		extensions = no_extensions;
		extensions_len = sizeof(no_extensions);
	}
	if (extensions_len == 0)
		return -EINVAL;
	if (extensions_len > RELAY_DATA_MAX)
		return -EMSGSIZE;
	total_len = 3 + HS_AUTH_KEY_LEN + extensions_len +
		ESTABLISH_INTRO_MAC_LEN + 2 + ESTABLISH_INTRO_SIG_LEN;
	if (total_len > out_len || total_len > RELAY_DATA_MAX)
		return -EMSGSIZE;
	out[off++] = HS_AUTH_KEY_TYPE_ED25519;
	wire_write_u16(out + off, HS_AUTH_KEY_LEN);
	off += 2;
	memcpy(out + off, auth_key->public_key, HS_AUTH_KEY_LEN);
	off += HS_AUTH_KEY_LEN;
	memmove(out + off, extensions, extensions_len);
	off += extensions_len;
	if (mac_sha3_256(kh, HS_CIRCUIT_KH_LEN, out, off, out + off) != 0)
		return -EIO;
	off += ESTABLISH_INTRO_MAC_LEN;
	wire_write_u16(out + off, ESTABLISH_INTRO_SIG_LEN);
	memset(&cell, 0, sizeof(cell));
	cell.start = out;
	cell.sig_covered_len = off;
	off += 2;
	msg_len = establish_intro_signed_message(&cell, msg);
	if (ed25519_sign(out + off, msg, msg_len, auth_key) != 0)
		return -EIO;
	off += ESTABLISH_INTRO_SIG_LEN;
	return (ssize_t)off;
}

ssize_t
hs_dos_extension_list_build(uint64_t rate_per_sec, uint64_t burst_per_sec,
		uint8_t *out, size_t out_len)
{
	const size_t field_len = 1 + 2 * HS_DOS_PARAM_LEN;
	const size_t total_len = 1 + 2 + field_len;

	if (out_len < total_len)
		return -EMSGSIZE;
	out[0] = 1;
	out[1] = HS_EXT_TYPE_DOS_PARAMS;
	out[2] = (uint8_t)field_len;
	out[3] = 2;
	out[4] = HS_DOS_PARAM_INTRODUCE2_RATE_PER_SEC;
	write_u64(out + 5, rate_per_sec);
	out[13] = HS_DOS_PARAM_INTRODUCE2_BURST_PER_SEC;
	write_u64(out + 14, burst_per_sec);
	return (ssize_t)total_len;
}

/* handle_establish_intro_cell_dos_extension. */
static void
apply_dos_extension(const struct hs_extension *ext,
		struct hs_intro_dos_params *params)
{
	uint64_t rate = 0, burst = 0;
	unsigned n_params;

	/* N_PARAMS u8, N_PARAMS x { TYPE u8, VALUE u64 }; bytes after them
	 * are tolerated, a short field makes the extension unparseable. */
	if (ext->len < 1)
		return;
	n_params = ext->data[0];
	if ((size_t)ext->len - 1 < (size_t)n_params * HS_DOS_PARAM_LEN)
		return;
	for (unsigned i = 0; i < n_params; i++) {
		const uint8_t *param = ext->data + 1 + i * HS_DOS_PARAM_LEN;

		switch (param[0]) {
		case HS_DOS_PARAM_INTRODUCE2_RATE_PER_SEC:
			rate = read_u64(param + 1);
			break;
		case HS_DOS_PARAM_INTRODUCE2_BURST_PER_SEC:
			burst = read_u64(param + 1);
			break;
		default:
			return;
		}
	}
	params->explicit_params = true;
	if (rate == 0 || burst == 0 || rate > HS_DOS_PARAM_MAX ||
			burst > HS_DOS_PARAM_MAX || burst < rate) {
		params->enabled = false;
		return;
	}
	params->enabled = true;
	params->rate_per_sec = (uint32_t)rate;
	params->burst_per_sec = (uint32_t)burst;
}

void
establish_intro_apply_extensions(const struct establish_intro_cell *cell,
		struct hs_intro_dos_params *params)
{
	const uint8_t *cursor = NULL;
	struct hs_extension ext;

	while (hs_extension_next(&cell->extensions, &cursor, &ext)) {
		if (ext.type == HS_EXT_TYPE_DOS_PARAMS)
			apply_dos_extension(&ext, params);
	}
}

ssize_t
intro_established_build(uint8_t *out, size_t out_len)
{
	if (out_len < INTRO_ESTABLISHED_LEN)
		return -EMSGSIZE;
	out[0] = 0;
	return INTRO_ESTABLISHED_LEN;
}

int
introduce1_cell_parse(const uint8_t **p, const uint8_t *end,
		struct introduce1_cell *out)
{
	const uint8_t *q = *p;
	struct introduce1_cell cell;
	int rc;

	memset(&cell, 0, sizeof(cell));
	if (end - q < INTRODUCE1_LEGACY_KEY_ID_LEN)
		return -EMSGSIZE;
	cell.legacy_key_id = q;
	q += INTRODUCE1_LEGACY_KEY_ID_LEN;
	rc = auth_key_and_extensions_parse(&q, end, &cell.auth_key_type, &cell.auth_key_len,
			&cell.auth_key, &cell.extensions);
	if (rc < 0)
		return rc;
	cell.encrypted = q;
	cell.encrypted_len = (size_t)(end - q);
	*out = cell;
	*p = end;
	return 0;
}

static const char *const introduce1_check_names[] = {
	[INTRODUCE1_OK] = "ok",
	[INTRODUCE1_TOO_SHORT] = "too-short",
	[INTRODUCE1_TOO_LONG] = "too-long",
	[INTRODUCE1_TRUNCATED] = "truncated",
	[INTRODUCE1_INVALID] = "invalid",
	[INTRODUCE1_LEGACY_KEY_ID] = "legacy-key-id",
	[INTRODUCE1_BAD_AUTH_KEY_TYPE] = "bad-auth-key-type",
	[INTRODUCE1_BAD_AUTH_KEY_LEN] = "bad-auth-key-len",
	[INTRODUCE1_NO_ENCRYPTED] = "no-encrypted-section",
};

const char *
introduce1_check_name(enum introduce1_check check)
{
	return check_name(introduce1_check_names, sizeof(introduce1_check_names) /
			sizeof(introduce1_check_names[0]), (unsigned)check);
}

bool
introduce1_is_too_short(size_t body_len)
{
	return body_len < INTRODUCE1_MIN_LEN;
}

int
introduce1_validate(const uint8_t *body, size_t body_len,
		struct introduce1_cell *out, enum introduce1_check *failed)
{
	const uint8_t *p = body;
	int rc;

	*failed = INTRODUCE1_OK;
	if (introduce1_is_too_short(body_len))
		*failed = INTRODUCE1_TOO_SHORT;
	else if (body_len > INTRODUCE1_MAX_LEN)
		*failed = INTRODUCE1_TOO_LONG;
	if (*failed != INTRODUCE1_OK)
		return -EPROTO;
	rc = introduce1_cell_parse(&p, body + body_len, out);
	if (rc < 0)
		*failed = rc == -EMSGSIZE ? INTRODUCE1_TRUNCATED :
			INTRODUCE1_INVALID;
	else if (!ct_is_zero(out->legacy_key_id, INTRODUCE1_LEGACY_KEY_ID_LEN))
		*failed = INTRODUCE1_LEGACY_KEY_ID;
	else if (out->auth_key_type != HS_AUTH_KEY_TYPE_ED25519)
		*failed = INTRODUCE1_BAD_AUTH_KEY_TYPE;
	else if (out->auth_key_len != HS_AUTH_KEY_LEN)
		*failed = INTRODUCE1_BAD_AUTH_KEY_LEN;
	else if (out->encrypted_len == 0)
		*failed = INTRODUCE1_NO_ENCRYPTED;
	return *failed == INTRODUCE1_OK ? 0 : -EPROTO;
}

ssize_t
introduce_ack_build(uint16_t status, uint8_t *out, size_t out_len)
{
	if (out_len < INTRODUCE_ACK_LEN)
		return -EMSGSIZE;
	wire_write_u16(out, status);
	out[2] = 0;
	return INTRODUCE_ACK_LEN;
}

int
introduce_ack_parse(const uint8_t **p, const uint8_t *end, uint16_t *status,
		struct hs_extension_list *extensions)
{
	const uint8_t *q = *p;
	int rc;

	if (end - q < 2)
		return -EMSGSIZE;
	*status = wire_read_u16(q);
	q += 2;
	rc = extension_list_parse(&q, end, extensions);
	if (rc < 0)
		return rc;
	*p = q;
	return 0;
}

int
establish_rendezvous_parse(const uint8_t *body, size_t body_len,
		uint8_t cookie[HS_REND_COOKIE_LEN])
{
	if (body_len != HS_REND_COOKIE_LEN)
		return -EINVAL;
	memcpy(cookie, body, HS_REND_COOKIE_LEN);
	return 0;
}

int
rendezvous1_cell_parse(const uint8_t **p, const uint8_t *end,
		struct rendezvous1_cell *out)
{
	const uint8_t *q = *p;

	if (end - q < HS_REND_COOKIE_LEN)
		return -EINVAL;
	out->cookie = q;
	out->handshake_info = q + HS_REND_COOKIE_LEN;
	out->handshake_info_len = (size_t)(end - q) - HS_REND_COOKIE_LEN;
	*p = end;
	return 0;
}

ssize_t
rendezvous2_build(const struct rendezvous1_cell *in, uint8_t *out,
		size_t out_len)
{
	if (in->handshake_info_len > out_len)
		return -EMSGSIZE;
	if (in->handshake_info_len > 0)
		memmove(out, in->handshake_info, in->handshake_info_len);
	return (ssize_t)in->handshake_info_len;
}
