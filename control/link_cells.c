/* Link handshake cell codecs (tor-spec 4.1-4.5). */
#include "control/link_cells.h"

#include "dataplane/cell.h"
#include "dataplane/wire.h"

#include <errno.h>
#include <string.h>

int
versions_cell_parse(const uint8_t **p, const uint8_t *end,
		struct versions_cell *out)
{
	size_t len = (size_t)(end - *p);

	/* tor-spec 4.1: "the payload contains an odd number of bytes" is the
	 * example of a VERSIONS cell that is not well-formed. */
	if (len % 2 != 0)
		return -EINVAL;
	out->n_versions = len / 2;
	out->versions = *p;
	*p = end;
	return 0;
}

uint16_t
versions_cell_version(const struct versions_cell *cell, size_t index)
{
	return wire_read_u16(cell->versions + 2 * index);
}

uint16_t
versions_cell_highest_common(const struct versions_cell *cell,
		const uint16_t *ours, size_t n_ours)
{
	uint16_t best = 0;

	for (size_t i = 0; i < cell->n_versions; i++) {
		uint16_t theirs = versions_cell_version(cell, i);

		if (theirs <= best)
			continue;
		for (size_t j = 0; j < n_ours; j++) {
			if (ours[j] == theirs) {
				best = theirs;
				break;
			}
		}
	}
	return best;
}

ssize_t
versions_cell_encode(const uint16_t *versions, size_t n_versions,
		uint8_t *out, size_t out_len)
{
	if (n_versions > CELL_VAR_PAYLOAD_MAX / 2 || out_len / 2 < n_versions)
		return -EMSGSIZE;
	for (size_t i = 0; i < n_versions; i++)
		wire_write_u16(out + 2 * i, versions[i]);
	return (ssize_t)(2 * n_versions);
}

int
certs_cell_parse(const uint8_t **p, const uint8_t *end, struct certs_cell *out)
{
	const uint8_t *q = *p;
	uint8_t n_certs;

	if (end - q < 1)
		return -EINVAL;
	n_certs = *q++;
	for (unsigned i = 0; i < n_certs; i++) {
		struct certs_cell_entry *entry = &out->certs[i];

		if (end - q < 3)
			return -EINVAL;
		entry->type = q[0];
		entry->length = wire_read_u16(q + 1);
		q += 3;
		if ((size_t)(end - q) < entry->length)
			return -EINVAL;
		entry->body = q;
		q += entry->length;
	}
	out->n_certs = n_certs;
	*p = q;
	return 0;
}

unsigned
certs_cell_count_type(const struct certs_cell *cell, uint8_t type)
{
	unsigned count = 0;

	for (unsigned i = 0; i < cell->n_certs; i++)
		if (cell->certs[i].type == type)
			count++;
	return count;
}

const struct certs_cell_entry *
certs_cell_find(const struct certs_cell *cell, uint8_t type)
{
	for (unsigned i = 0; i < cell->n_certs; i++)
		if (cell->certs[i].type == type)
			return &cell->certs[i];
	return NULL;
}

ssize_t
certs_cell_encode(const struct certs_cell *in, uint8_t *out, size_t out_len)
{
	size_t total_len = 1;
	uint8_t *q = out;

	for (unsigned i = 0; i < in->n_certs; i++)
		total_len += 3 + (size_t)in->certs[i].length;
	if (total_len > CELL_VAR_PAYLOAD_MAX || total_len > out_len)
		return -EMSGSIZE;

	*q++ = in->n_certs;
	for (unsigned i = 0; i < in->n_certs; i++) {
		const struct certs_cell_entry *entry = &in->certs[i];

		q[0] = entry->type;
		wire_write_u16(q + 1, entry->length);
		q += 3;
		if (entry->length > 0)
			memmove(q, entry->body, entry->length);
		q += entry->length;
	}
	return (ssize_t)total_len;
}

int
auth_challenge_cell_parse(const uint8_t **p, const uint8_t *end,
		struct auth_challenge_cell *out)
{
	const uint8_t *q = *p;
	uint16_t n_methods;

	if (end - q < AUTH_CHALLENGE_LEN + 2)
		return -EINVAL;
	n_methods = wire_read_u16(q + AUTH_CHALLENGE_LEN);
	if ((size_t)(end - q) - (AUTH_CHALLENGE_LEN + 2) < 2 * (size_t)n_methods)
		return -EINVAL;
	memcpy(out->challenge, q, AUTH_CHALLENGE_LEN);
	out->n_methods = n_methods;
	out->methods = q + AUTH_CHALLENGE_LEN + 2;
	*p = out->methods + 2 * (size_t)n_methods;
	return 0;
}

uint16_t
auth_challenge_cell_method(const struct auth_challenge_cell *cell,
		size_t index)
{
	return wire_read_u16(cell->methods + 2 * index);
}

bool
auth_challenge_cell_has_method(const struct auth_challenge_cell *cell,
		uint16_t method)
{
	for (size_t i = 0; i < cell->n_methods; i++)
		if (auth_challenge_cell_method(cell, i) == method)
			return true;
	return false;
}

ssize_t
auth_challenge_cell_encode(const uint8_t challenge[AUTH_CHALLENGE_LEN],
		const uint16_t *methods, size_t n_methods, uint8_t *out,
		size_t out_len)
{
	size_t total_len;

	if (n_methods > (CELL_VAR_PAYLOAD_MAX - AUTH_CHALLENGE_LEN - 2) / 2)
		return -EMSGSIZE;
	total_len = AUTH_CHALLENGE_LEN + 2 + 2 * n_methods;
	if (total_len > out_len)
		return -EMSGSIZE;
	memmove(out, challenge, AUTH_CHALLENGE_LEN);
	wire_write_u16(out + AUTH_CHALLENGE_LEN, (uint16_t)n_methods);
	for (size_t i = 0; i < n_methods; i++)
		wire_write_u16(out + AUTH_CHALLENGE_LEN + 2 + 2 * i, methods[i]);
	return (ssize_t)total_len;
}

int
authenticate_cell_parse(const uint8_t **p, const uint8_t *end,
		struct authenticate_cell *out)
{
	const uint8_t *q = *p;
	uint16_t auth_length;

	if (end - q < 4)
		return -EINVAL;
	auth_length = wire_read_u16(q + 2);
	if ((size_t)(end - q) - 4 < auth_length)
		return -EINVAL;
	out->auth_type = wire_read_u16(q);
	out->auth_length = auth_length;
	out->auth = q + 4;
	*p = q + 4 + auth_length;
	return 0;
}

ssize_t
authenticate_cell_encode(const struct authenticate_cell *in, uint8_t *out,
		size_t out_len)
{
	size_t total_len = 4 + (size_t)in->auth_length;

	if (total_len > CELL_VAR_PAYLOAD_MAX || total_len > out_len)
		return -EMSGSIZE;
	wire_write_u16(out, in->auth_type);
	wire_write_u16(out + 2, in->auth_length);
	if (in->auth_length > 0)
		memmove(out + 4, in->auth, in->auth_length);
	return (ssize_t)total_len;
}

int
auth0003_body_parse(const uint8_t **p, const uint8_t *end,
		struct auth0003_body *out)
{
	const uint8_t *q = *p;
	size_t len = (size_t)(end - q);
	uint8_t (*const fields[])[AUTH0003_FIELD_LEN] = {
		&out->cid, &out->sid, &out->cid_ed, &out->sid_ed,
		&out->slog, &out->clog, &out->scert, &out->tlssecrets,
	};

	if (len < AUTH0003_FIXED_LEN + AUTH0003_SIG_LEN)
		return -EINVAL;
	if (memcmp(q, AUTH0003_TYPE, AUTH0003_TYPE_LEN) != 0)
		return -EINVAL;
	q += AUTH0003_TYPE_LEN;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memcpy(*fields[i], q, AUTH0003_FIELD_LEN);
		q += AUTH0003_FIELD_LEN;
	}
	memcpy(out->rand, q, AUTH0003_RAND_LEN);
	q += AUTH0003_RAND_LEN;
	out->extra_length = len - AUTH0003_FIXED_LEN - AUTH0003_SIG_LEN;
	out->extra = q;
	q += out->extra_length;
	memcpy(out->sig, q, AUTH0003_SIG_LEN);
	*p = end;
	return 0;
}

ssize_t
auth0003_body_encode(const struct auth0003_body *in, uint8_t *out,
		size_t out_len)
{
	const uint8_t (*const fields[])[AUTH0003_FIELD_LEN] = {
		&in->cid, &in->sid, &in->cid_ed, &in->sid_ed,
		&in->slog, &in->clog, &in->scert, &in->tlssecrets,
	};
	size_t total_len;
	uint8_t *q = out;

	/* The authenticator travels in a 16-bit AuthLen field. */
	if (in->extra_length > CELL_VAR_PAYLOAD_MAX - 4 - AUTH0003_FIXED_LEN -
			AUTH0003_SIG_LEN)
		return -EMSGSIZE;
	total_len = AUTH0003_FIXED_LEN + in->extra_length + AUTH0003_SIG_LEN;
	if (total_len > out_len)
		return -EMSGSIZE;
	memcpy(q, AUTH0003_TYPE, AUTH0003_TYPE_LEN);
	q += AUTH0003_TYPE_LEN;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memmove(q, *fields[i], AUTH0003_FIELD_LEN);
		q += AUTH0003_FIELD_LEN;
	}
	memmove(q, in->rand, AUTH0003_RAND_LEN);
	q += AUTH0003_RAND_LEN;
	if (in->extra_length > 0)
		memmove(q, in->extra, in->extra_length);
	q += in->extra_length;
	memmove(q, in->sig, AUTH0003_SIG_LEN);
	return (ssize_t)total_len;
}

static int
netinfo_address_parse(const uint8_t **p, const uint8_t *end,
		struct netinfo_address *out)
{
	const uint8_t *q = *p;

	if (end - q < 2)
		return -EINVAL;
	if ((size_t)(end - q) - 2 < q[1])
		return -EINVAL;
	out->type = q[0];
	out->length = q[1];
	out->value = q + 2;
	*p = q + 2 + out->length;
	return 0;
}

int
netinfo_cell_parse(const uint8_t **p, const uint8_t *end,
		struct netinfo_cell *out)
{
	const uint8_t *q = *p;
	uint8_t n_my_addresses;
	int rc;

	if (end - q < 4)
		return -EINVAL;
	out->time = wire_read_u32(q);
	q += 4;
	rc = netinfo_address_parse(&q, end, &out->other_address);
	if (rc != 0)
		return rc;
	if (end - q < 1)
		return -EINVAL;
	n_my_addresses = *q++;
	for (unsigned i = 0; i < n_my_addresses; i++) {
		rc = netinfo_address_parse(&q, end, &out->my_addresses[i]);
		if (rc != 0)
			return rc;
	}
	out->n_my_addresses = n_my_addresses;
	*p = q;
	return 0;
}

bool
netinfo_address_is_ipv4(const struct netinfo_address *address)
{
	return address->type == NETINFO_ADDRESS_IPV4 && address->length == 4;
}

bool
netinfo_address_is_ipv6(const struct netinfo_address *address)
{
	return address->type == NETINFO_ADDRESS_IPV6 && address->length == 16;
}

static uint8_t *
netinfo_address_write(const struct netinfo_address *address, uint8_t *q)
{
	q[0] = address->type;
	q[1] = address->length;
	if (address->length > 0)
		memmove(q + 2, address->value, address->length);
	return q + 2 + address->length;
}

ssize_t
netinfo_cell_encode(const struct netinfo_cell *in, uint8_t *out,
		size_t out_len)
{
	size_t total_len = 4 + 2 + (size_t)in->other_address.length + 1;
	uint8_t *q = out;

	for (unsigned i = 0; i < in->n_my_addresses; i++)
		total_len += 2 + (size_t)in->my_addresses[i].length;
	/* NETINFO is a fixed-size cell (tor-spec 3). */
	if (total_len > CELL_PAYLOAD_LEN || total_len > out_len)
		return -EMSGSIZE;

	wire_write_u32(q, in->time);
	q += 4;
	q = netinfo_address_write(&in->other_address, q);
	*q++ = in->n_my_addresses;
	for (unsigned i = 0; i < in->n_my_addresses; i++)
		q = netinfo_address_write(&in->my_addresses[i], q);
	return (ssize_t)total_len;
}
