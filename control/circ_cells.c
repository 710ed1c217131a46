/* Circuit extension cell codecs (tor-spec 5.1, 5.1.2, 5.1.5). */
#include "control/circ_cells.h"
#include "dataplane/wire.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* HLEN[2] HDATA[HLEN], shared by CREATED2 and EXTENDED2. */
static int
handshake_reply_parse(const uint8_t **p, const uint8_t *end, size_t hlen_max,
		uint16_t *hlen, const uint8_t **hdata)
{
	const uint8_t *q = *p;
	uint16_t len;

	if (end - q < 2)
		return -EINVAL;
	len = wire_read_u16(q);
	if (len > hlen_max || (size_t)(end - q) - 2 < len)
		return -EINVAL;
	*hlen = len;
	*hdata = q + 2;
	*p = q + 2 + len;
	return 0;
}

static ssize_t
handshake_reply_encode(uint16_t hlen, const uint8_t *hdata, size_t hlen_max,
		uint8_t *out, size_t out_len)
{
	size_t total_len = 2 + (size_t)hlen;

	if (hlen > hlen_max || total_len > out_len)
		return -EMSGSIZE;
	wire_write_u16(out, hlen);
	if (hlen > 0)
		memmove(out + 2, hdata, hlen);
	return (ssize_t)total_len;
}

int
create2_cell_parse(const uint8_t **p, const uint8_t *end,
		struct create2_cell *out)
{
	const uint8_t *q = *p;
	uint16_t hlen;

	if (end - q < 4)
		return -EINVAL;
	hlen = wire_read_u16(q + 2);
	if (hlen > CREATE2_HDATA_MAX || (size_t)(end - q) - 4 < hlen)
		return -EINVAL;
	out->htype = wire_read_u16(q);
	out->hlen = hlen;
	out->hdata = q + 4;
	*p = q + 4 + hlen;
	return 0;
}

ssize_t
create2_cell_encode(const struct create2_cell *in, uint8_t *out,
		size_t out_len)
{
	size_t total_len = 4 + (size_t)in->hlen;

	if (in->hlen > CREATE2_HDATA_MAX || total_len > out_len)
		return -EMSGSIZE;
	wire_write_u16(out, in->htype);
	wire_write_u16(out + 2, in->hlen);
	if (in->hlen > 0)
		memmove(out + 4, in->hdata, in->hlen);
	return (ssize_t)total_len;
}

int
created2_cell_parse(const uint8_t **p, const uint8_t *end,
		struct created2_cell *out)
{
	return handshake_reply_parse(p, end, CREATED2_HDATA_MAX, &out->hlen,
		&out->hdata);
}

ssize_t
created2_cell_encode(const struct created2_cell *in, uint8_t *out,
		size_t out_len)
{
	return handshake_reply_encode(in->hlen, in->hdata, CREATED2_HDATA_MAX,
		out, out_len);
}

int
extended2_cell_parse(const uint8_t **p, const uint8_t *end,
		struct extended2_cell *out)
{
	return handshake_reply_parse(p, end, EXTENDED2_HDATA_MAX, &out->hlen,
		&out->hdata);
}

ssize_t
extended2_cell_encode(const struct extended2_cell *in, uint8_t *out,
		size_t out_len)
{
	return handshake_reply_encode(in->hlen, in->hdata, EXTENDED2_HDATA_MAX,
		out, out_len);
}

int
create_fast_cell_parse(const uint8_t **p, const uint8_t *end,
		struct create_fast_cell *out)
{
	if (end - *p < CREATE_FAST_KEY_LEN)
		return -EINVAL;
	memcpy(out->x, *p, CREATE_FAST_KEY_LEN);
	*p += CREATE_FAST_KEY_LEN;
	return 0;
}

ssize_t
create_fast_cell_encode(const struct create_fast_cell *in, uint8_t *out,
		size_t out_len)
{
	if (out_len < CREATE_FAST_KEY_LEN)
		return -EMSGSIZE;
	memmove(out, in->x, CREATE_FAST_KEY_LEN);
	return CREATE_FAST_KEY_LEN;
}

int
created_fast_cell_parse(const uint8_t **p, const uint8_t *end,
		struct created_fast_cell *out)
{
	if (end - *p < 2 * CREATE_FAST_KEY_LEN)
		return -EINVAL;
	memcpy(out->y, *p, CREATE_FAST_KEY_LEN);
	memcpy(out->kh, *p + CREATE_FAST_KEY_LEN, CREATE_FAST_KEY_LEN);
	*p += 2 * CREATE_FAST_KEY_LEN;
	return 0;
}

ssize_t
created_fast_cell_encode(const struct created_fast_cell *in, uint8_t *out,
		size_t out_len)
{
	if (out_len < 2 * CREATE_FAST_KEY_LEN)
		return -EMSGSIZE;
	memmove(out, in->y, CREATE_FAST_KEY_LEN);
	memmove(out + CREATE_FAST_KEY_LEN, in->kh, CREATE_FAST_KEY_LEN);
	return 2 * CREATE_FAST_KEY_LEN;
}

/* Required LSLEN for a known type; -1 for types kept opaque. */
static int
link_specifier_known_length(uint8_t type)
{
	switch (type) {
	case LINK_SPECIFIER_IPV4:
		return LINK_SPECIFIER_IPV4_LEN;
	case LINK_SPECIFIER_IPV6:
		return LINK_SPECIFIER_IPV6_LEN;
	case LINK_SPECIFIER_LEGACY_ID:
		return LINK_SPECIFIER_LEGACY_ID_LEN;
	case LINK_SPECIFIER_ED25519_ID:
		return LINK_SPECIFIER_ED25519_ID_LEN;
	default:
		return -1;
	}
}

static int
link_specifier_parse(const uint8_t **p, const uint8_t *end,
		struct link_specifier *out)
{
	const uint8_t *q = *p;
	uint8_t type;
	uint8_t length;
	int known_length;

	if (end - q < 2)
		return -EINVAL;
	type = q[0];
	length = q[1];
	q += 2;
	if ((size_t)(end - q) < length)
		return -EINVAL;
	known_length = link_specifier_known_length(type);
	if (known_length >= 0 && length != known_length)
		return -EINVAL;

	out->type = type;
	out->length = length;
	switch (type) {
	case LINK_SPECIFIER_IPV4:
		memcpy(out->u.ipv4.address, q, 4);
		out->u.ipv4.port = wire_read_u16(q + 4);
		break;
	case LINK_SPECIFIER_IPV6:
		memcpy(out->u.ipv6.address, q, 16);
		out->u.ipv6.port = wire_read_u16(q + 16);
		break;
	case LINK_SPECIFIER_LEGACY_ID:
		memcpy(out->u.legacy_id, q, LINK_SPECIFIER_LEGACY_ID_LEN);
		break;
	case LINK_SPECIFIER_ED25519_ID:
		memcpy(out->u.ed25519_id, q, LINK_SPECIFIER_ED25519_ID_LEN);
		break;
	default:
		out->u.unknown = q;
		break;
	}
	*p = q + length;
	return 0;
}

int
extend2_cell_parse(const uint8_t **p, const uint8_t *end,
		struct extend2_cell *out)
{
	const uint8_t *q = *p;
	uint8_t n_specifiers;
	int rc;

	if (end - q < 1)
		return -EINVAL;
	n_specifiers = *q++;
	for (unsigned i = 0; i < n_specifiers; i++) {
		rc = link_specifier_parse(&q, end, &out->specifiers[i]);
		if (rc != 0)
			return rc;
	}
	rc = create2_cell_parse(&q, end, &out->create2);
	if (rc != 0)
		return rc;
	/* The message is the data of one relay cell (tor-spec 6.1). */
	if (q - *p > EXTEND2_MAX_LEN)
		return -EINVAL;
	out->n_specifiers = n_specifiers;
	*p = q;
	return 0;
}

static ssize_t
link_specifier_write(const struct link_specifier *in, uint8_t *out)
{
	int known_length = link_specifier_known_length(in->type);

	if (known_length >= 0 && in->length != known_length)
		return -EINVAL;
	out[0] = in->type;
	out[1] = in->length;
	switch (in->type) {
	case LINK_SPECIFIER_IPV4:
		memmove(out + 2, in->u.ipv4.address, 4);
		wire_write_u16(out + 6, in->u.ipv4.port);
		break;
	case LINK_SPECIFIER_IPV6:
		memmove(out + 2, in->u.ipv6.address, 16);
		wire_write_u16(out + 18, in->u.ipv6.port);
		break;
	case LINK_SPECIFIER_LEGACY_ID:
		memmove(out + 2, in->u.legacy_id, LINK_SPECIFIER_LEGACY_ID_LEN);
		break;
	case LINK_SPECIFIER_ED25519_ID:
		memmove(out + 2, in->u.ed25519_id,
			LINK_SPECIFIER_ED25519_ID_LEN);
		break;
	default:
		if (in->length > 0)
			memmove(out + 2, in->u.unknown, in->length);
		break;
	}
	return 2 + (ssize_t)in->length;
}

ssize_t
extend2_cell_encode(const struct extend2_cell *in, uint8_t *out,
		size_t out_len)
{
	size_t total_len = 1 + 4 + (size_t)in->create2.hlen;
	uint8_t *q = out;
	ssize_t written;

	for (unsigned i = 0; i < in->n_specifiers; i++) {
		int known_length =
			link_specifier_known_length(in->specifiers[i].type);

		if (known_length >= 0 &&
				in->specifiers[i].length != known_length)
			return -EINVAL;
		total_len += 2 + (size_t)in->specifiers[i].length;
	}
	if (total_len > EXTEND2_MAX_LEN || total_len > out_len)
		return -EMSGSIZE;

	*q++ = in->n_specifiers;
	for (unsigned i = 0; i < in->n_specifiers; i++) {
		written = link_specifier_write(&in->specifiers[i], q);
		if (written < 0)
			return written;
		q += written;
	}
	written = create2_cell_encode(&in->create2, q,
		out_len - (size_t)(q - out));
	if (written < 0)
		return written;
	return (ssize_t)total_len;
}
