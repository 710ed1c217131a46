#include "crypto/tor_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/ct.h"

/* Ed25519 scalars (mod L) are 32 bytes little-endian. */
#define SCALAR_LEN 32

static int
sodium_ready(void)
{
	/* Idempotent and thread-safe; libsodium wants it before any other call
	 * (it picks implementations and opens the RNG). 1 = already done. */
	return sodium_init() < 0 ? -EIO : 0;
}

int
ed25519_keypair_from_seed(struct ed25519_keypair *out,
		const uint8_t seed[ED25519_SEED_LEN])
{
	if (sodium_ready() != 0)
		return -EIO;
	/* RFC 8032 5.1.5: h = SHA-512(seed); a = clamp(h[0..32)). */
	crypto_hash_sha512(out->secret, seed, ED25519_SEED_LEN);
	out->secret[0] &= 248;
	out->secret[31] &= 63;
	out->secret[31] |= 64;
	return ed25519_keypair_from_expanded(out, out->secret);
}

int
ed25519_keypair_from_expanded(struct ed25519_keypair *out,
		const uint8_t secret[ED25519_EXPANDED_SECRET_KEY_LEN])
{
	if (sodium_ready() != 0)
		return -EIO;
	if (secret != out->secret)
		memcpy(out->secret, secret, ED25519_EXPANDED_SECRET_KEY_LEN);
	/* base_noclamp ignores bit 255 of the scalar (tor's keys are clamped,
	 * so it is clear anyway) and fails on a zero scalar or identity. */
	if (crypto_scalarmult_ed25519_base_noclamp(out->public_key,
			out->secret) != 0) {
		ct_wipe(out, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

int
ed25519_keypair_generate(struct ed25519_keypair *out)
{
	uint8_t seed[ED25519_SEED_LEN];
	int rc;

	if (sodium_ready() != 0)
		return -EIO;
	randombytes_buf(seed, sizeof(seed));
	rc = ed25519_keypair_from_seed(out, seed);
	ct_wipe(seed, sizeof(seed));
	return rc;
}

/* Reduces a 32-byte little-endian scalar mod L. */
static void
scalar_reduce32(uint8_t out[SCALAR_LEN], const uint8_t in[SCALAR_LEN])
{
	uint8_t wide[crypto_core_ed25519_NONREDUCEDSCALARBYTES];

	memcpy(wide, in, SCALAR_LEN);
	memset(wide + SCALAR_LEN, 0, sizeof(wide) - SCALAR_LEN);
	crypto_core_ed25519_scalar_reduce(out, wide);
	ct_wipe(wide, sizeof(wide));
}

int
ed25519_sign(uint8_t signature[ED25519_SIGNATURE_LEN],
		const uint8_t *message, size_t message_len,
		const struct ed25519_keypair *key)
{
	crypto_hash_sha512_state hash;
	uint8_t digest[crypto_hash_sha512_BYTES];
	uint8_t nonce[SCALAR_LEN], challenge[SCALAR_LEN], a[SCALAR_LEN];
	uint8_t product[SCALAR_LEN];
	int rc = 0;

	if (sodium_ready() != 0)
		return -EIO;
	/* RFC 8032 5.1.6 step 2: r = SHA-512(prefix || M) mod L. */
	crypto_hash_sha512_init(&hash);
	crypto_hash_sha512_update(&hash, key->secret + SCALAR_LEN, SCALAR_LEN);
	crypto_hash_sha512_update(&hash, message, message_len);
	crypto_hash_sha512_final(&hash, digest);
	crypto_core_ed25519_scalar_reduce(nonce, digest);

	/* Step 3: R = [r]B. */
	if (crypto_scalarmult_ed25519_base_noclamp(signature, nonce) != 0) {
		rc = -EINVAL;
		goto out;
	}

	/* Step 4: k = SHA-512(R || A || M) mod L. */
	crypto_hash_sha512_init(&hash);
	crypto_hash_sha512_update(&hash, signature, 32);
	crypto_hash_sha512_update(&hash, key->public_key,
			ED25519_PUBLIC_KEY_LEN);
	crypto_hash_sha512_update(&hash, message, message_len);
	crypto_hash_sha512_final(&hash, digest);
	crypto_core_ed25519_scalar_reduce(challenge, digest);

	/* Step 5: S = (r + k * a) mod L. */
	scalar_reduce32(a, key->secret);
	crypto_core_ed25519_scalar_mul(product, challenge, a);
	crypto_core_ed25519_scalar_add(signature + 32, nonce, product);
out:
	ct_wipe(&hash, sizeof(hash));
	ct_wipe(digest, sizeof(digest));
	ct_wipe(nonce, sizeof(nonce));
	ct_wipe(a, sizeof(a));
	ct_wipe(product, sizeof(product));
	return rc;
}

int
ed25519_verify(const uint8_t signature[ED25519_SIGNATURE_LEN],
		const uint8_t *message, size_t message_len,
		const uint8_t public_key[ED25519_PUBLIC_KEY_LEN])
{
	if (sodium_ready() != 0)
		return -EIO;
	if (crypto_sign_verify_detached(signature, message, message_len,
			public_key) != 0)
		return -EBADMSG;
	return 0;
}

int
curve25519_keypair_generate(struct curve25519_keypair *out)
{
	if (sodium_ready() != 0)
		return -EIO;
	randombytes_buf(out->secret, sizeof(out->secret));
	/* Stored clamped, as tor's curve25519_secret_key_generate does. */
	out->secret[0] &= 248;
	out->secret[31] &= 127;
	out->secret[31] |= 64;
	if (crypto_scalarmult_curve25519_base(out->public_key,
			out->secret) != 0) {
		ct_wipe(out, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

/* Tagged files (tor's crypto_format.c). */

int
tor_tagged_file_parse(const uint8_t **p, const uint8_t *end,
		struct tor_tagged_file *out)
{
	const uint8_t *in = *p;
	size_t text_len, i, type_len, tag_len;

	if (end < in || (size_t)(end - in) < TOR_KEY_FILE_HEADER_LEN)
		return -EMSGSIZE;
	for (text_len = 0; text_len < TOR_KEY_FILE_HEADER_LEN; text_len++)
		if (in[text_len] == 0)
			break;
	/* Tor's writer always NUL-terminates within the 32 bytes. */
	if (text_len == TOR_KEY_FILE_HEADER_LEN)
		return -EINVAL;
	for (i = text_len; i < TOR_KEY_FILE_HEADER_LEN; i++)
		if (in[i] != 0)
			return -EINVAL;
	if (text_len < 8 || memcmp(in, "== ", 3) != 0 ||
			memcmp(in + text_len - 3, " ==", 3) != 0)
		return -EINVAL;
	/* The type ends at the first ": " after "== ". */
	for (type_len = 0; 3 + type_len + 2 <= text_len - 3; type_len++)
		if (in[3 + type_len] == ':' && in[3 + type_len + 1] == ' ')
			break;
	if (3 + type_len + 2 > text_len - 3 || type_len == 0)
		return -EINVAL;
	tag_len = text_len - 3 - type_len - 2 - 3;

	memcpy(out->type, in + 3, type_len);
	out->type[type_len] = '\0';
	memcpy(out->tag, in + 3 + type_len + 2, tag_len);
	out->tag[tag_len] = '\0';
	out->body = in + TOR_KEY_FILE_HEADER_LEN;
	out->body_len = (size_t)(end - in) - TOR_KEY_FILE_HEADER_LEN;
	*p = end;
	return 0;
}

ssize_t
tor_tagged_file_encode(const struct tor_tagged_file *in,
		uint8_t *out, size_t out_len)
{
	size_t type_len = strnlen(in->type, sizeof(in->type));
	size_t tag_len = strnlen(in->tag, sizeof(in->tag));
	size_t text_len = 3 + type_len + 2 + tag_len + 3;

	if (type_len == 0 || type_len == sizeof(in->type) ||
			tag_len == sizeof(in->tag) ||
			text_len >= TOR_KEY_FILE_HEADER_LEN)
		return -EINVAL;
	if (in->body_len > (size_t)SSIZE_MAX - TOR_KEY_FILE_HEADER_LEN ||
			out_len < TOR_KEY_FILE_HEADER_LEN + in->body_len)
		return -EMSGSIZE;
	memset(out, 0, TOR_KEY_FILE_HEADER_LEN);
	memcpy(out, "== ", 3);
	memcpy(out + 3, in->type, type_len);
	memcpy(out + 3 + type_len, ": ", 2);
	memcpy(out + 3 + type_len + 2, in->tag, tag_len);
	memcpy(out + text_len - 3, " ==", 3);
	if (in->body_len > 0)
		memmove(out + TOR_KEY_FILE_HEADER_LEN, in->body, in->body_len);
	return (ssize_t)(TOR_KEY_FILE_HEADER_LEN + in->body_len);
}

/* Parses a tagged file whose type must be `type`; copies the tag. */
static int
parse_typed(const uint8_t **p, const uint8_t *end, const char *type,
		struct tor_tagged_file *file, char tag[TOR_KEY_FILE_NAME_MAX + 1])
{
	const uint8_t *cursor = *p;
	int rc = tor_tagged_file_parse(&cursor, end, file);

	if (rc != 0)
		return rc;
	if (strcmp(file->type, type) != 0)
		return -EINVAL;
	memcpy(tag, file->tag, TOR_KEY_FILE_NAME_MAX + 1);
	return 0;
}

int
ed25519_secret_key_file_parse(const uint8_t **p, const uint8_t *end,
		struct ed25519_secret_key_file *out)
{
	struct tor_tagged_file file;
	int rc = parse_typed(p, end, TOR_KEY_FILE_TYPE_ED25519_SECRET, &file,
			out->tag);

	if (rc != 0)
		return rc;
	if (file.body_len != ED25519_EXPANDED_SECRET_KEY_LEN)
		return -EINVAL;
	rc = ed25519_keypair_from_expanded(&out->keypair, file.body);
	if (rc != 0)
		return rc;
	*p = end;
	return 0;
}

int
ed25519_public_key_file_parse(const uint8_t **p, const uint8_t *end,
		struct ed25519_public_key_file *out)
{
	struct tor_tagged_file file;
	int rc = parse_typed(p, end, TOR_KEY_FILE_TYPE_ED25519_PUBLIC, &file,
			out->tag);

	if (rc != 0)
		return rc;
	if (file.body_len != ED25519_PUBLIC_KEY_LEN)
		return -EINVAL;
	memcpy(out->public_key, file.body, ED25519_PUBLIC_KEY_LEN);
	*p = end;
	return 0;
}

int
ed25519_cert_file_parse(const uint8_t **p, const uint8_t *end,
		struct ed25519_cert_file *out)
{
	struct tor_tagged_file file;
	int rc = parse_typed(p, end, TOR_KEY_FILE_TYPE_ED25519_CERT, &file,
			out->tag);

	if (rc != 0)
		return rc;
	if (file.body_len == 0 || file.body_len > TOR_CERT_FILE_BODY_MAX)
		return -EINVAL;
	memcpy(out->cert, file.body, file.body_len);
	out->cert_len = file.body_len;
	*p = end;
	return 0;
}

int
curve25519_key_file_parse(const uint8_t **p, const uint8_t *end,
		struct curve25519_key_file *out)
{
	struct tor_tagged_file file;
	uint8_t derived[CURVE25519_KEY_LEN];
	int rc = parse_typed(p, end, TOR_KEY_FILE_TYPE_CURVE25519, &file,
			out->tag);

	if (rc != 0)
		return rc;
	if (file.body_len != 2 * CURVE25519_KEY_LEN)
		return -EINVAL;
	if (sodium_ready() != 0)
		return -EIO;
	/* Body is secret || public; a public key that is not the secret's
	 * would make every ntor handshake fail, so reject it here. */
	if (crypto_scalarmult_curve25519_base(derived, file.body) != 0 ||
			!ct_equal(derived, file.body + CURVE25519_KEY_LEN,
				CURVE25519_KEY_LEN))
		return -EINVAL;
	memcpy(out->keypair.secret, file.body, CURVE25519_KEY_LEN);
	memcpy(out->keypair.public_key, file.body + CURVE25519_KEY_LEN,
			CURVE25519_KEY_LEN);
	*p = end;
	return 0;
}

/* Encodes a typed file whose body is assembled in `body`. */
static ssize_t
encode_typed(const char *type, const char *tag, const uint8_t *body,
		size_t body_len, uint8_t *out, size_t out_len)
{
	struct tor_tagged_file file;

	if (strlen(type) > TOR_KEY_FILE_NAME_MAX ||
			strnlen(tag, TOR_KEY_FILE_NAME_MAX + 1) >
				TOR_KEY_FILE_NAME_MAX)
		return -EINVAL;
	memcpy(file.type, type, strlen(type) + 1);
	memcpy(file.tag, tag, strlen(tag) + 1);
	file.body = body;
	file.body_len = body_len;
	return tor_tagged_file_encode(&file, out, out_len);
}

ssize_t
ed25519_secret_key_file_encode(const struct ed25519_secret_key_file *in,
		uint8_t *out, size_t out_len)
{
	return encode_typed(TOR_KEY_FILE_TYPE_ED25519_SECRET, in->tag,
			in->keypair.secret, ED25519_EXPANDED_SECRET_KEY_LEN,
			out, out_len);
}

ssize_t
ed25519_public_key_file_encode(const struct ed25519_public_key_file *in,
		uint8_t *out, size_t out_len)
{
	return encode_typed(TOR_KEY_FILE_TYPE_ED25519_PUBLIC, in->tag,
			in->public_key, ED25519_PUBLIC_KEY_LEN, out, out_len);
}

ssize_t
ed25519_cert_file_encode(const struct ed25519_cert_file *in,
		uint8_t *out, size_t out_len)
{
	if (in->cert_len == 0 || in->cert_len > TOR_CERT_FILE_BODY_MAX)
		return -EINVAL;
	return encode_typed(TOR_KEY_FILE_TYPE_ED25519_CERT, in->tag,
			in->cert, in->cert_len, out, out_len);
}

ssize_t
curve25519_key_file_encode(const struct curve25519_key_file *in,
		uint8_t *out, size_t out_len)
{
	uint8_t body[2 * CURVE25519_KEY_LEN];
	ssize_t n;

	memcpy(body, in->keypair.secret, CURVE25519_KEY_LEN);
	memcpy(body + CURVE25519_KEY_LEN, in->keypair.public_key,
			CURVE25519_KEY_LEN);
	n = encode_typed(TOR_KEY_FILE_TYPE_CURVE25519, in->tag, body,
			sizeof(body), out, out_len);
	ct_wipe(body, sizeof(body));
	return n;
}

/* File I/O. */

int
tor_key_file_read(const char *path, uint8_t *buf, size_t buf_len,
		size_t *len_out)
{
	struct stat st;
	size_t done = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > buf_len) {
		rc = -EMSGSIZE;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*len_out = done;
out:
	close(fd);
	return rc;
}

int
tor_key_file_write(const char *path, const uint8_t *data, size_t len)
{
	char tmp[4096];
	size_t done = 0;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* An existing .tmp keeps its old mode; the umask may narrow 0600 but
	 * never widen it. Force 0600 either way, as tor does for keys. */
	if (fchmod(fd, 0600) != 0) {
		rc = -errno;
		goto fail;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto fail;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0) {
		rc = -errno;
		goto fail;
	}
	if (close(fd) != 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path) != 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return rc;
}

/* Big enough for every fixed-size key file and the largest cert file. */
#define KEY_FILE_BUF_LEN (TOR_KEY_FILE_HEADER_LEN + TOR_CERT_FILE_BODY_MAX)

#define DEFINE_LOAD(name, type)						\
int									\
name##_load(const char *path, type *out)				\
{									\
	uint8_t buf[KEY_FILE_BUF_LEN];					\
	const uint8_t *cursor = buf;					\
	size_t len = 0;							\
	int rc = tor_key_file_read(path, buf, sizeof(buf), &len);	\
									\
	if (rc == -EMSGSIZE)						\
		rc = -EINVAL;						\
	if (rc == 0)							\
		rc = name##_parse(&cursor, buf + len, out);		\
	ct_wipe(buf, sizeof(buf));					\
	return rc;							\
}

#define DEFINE_STORE(name, type)					\
int									\
name##_store(const char *path, const type *in)			\
{									\
	uint8_t buf[KEY_FILE_BUF_LEN];					\
	ssize_t n = name##_encode(in, buf, sizeof(buf));		\
	int rc = n < 0 ? (int)n : tor_key_file_write(path, buf, (size_t)n); \
									\
	ct_wipe(buf, sizeof(buf));					\
	return rc;							\
}

DEFINE_LOAD(ed25519_secret_key_file, struct ed25519_secret_key_file)
DEFINE_LOAD(ed25519_public_key_file, struct ed25519_public_key_file)
DEFINE_LOAD(ed25519_cert_file, struct ed25519_cert_file)
DEFINE_LOAD(curve25519_key_file, struct curve25519_key_file)
DEFINE_STORE(ed25519_secret_key_file, struct ed25519_secret_key_file)
DEFINE_STORE(ed25519_public_key_file, struct ed25519_public_key_file)
DEFINE_STORE(ed25519_cert_file, struct ed25519_cert_file)
DEFINE_STORE(curve25519_key_file, struct curve25519_key_file)
