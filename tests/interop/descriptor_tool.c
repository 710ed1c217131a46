/* Interop helper for descriptor_upload.sh: our relay keys, descriptor and
 * directory HTTP messages against a real tor directory authority, over
 * kernel sockets on 127.0.0.1.
 *
 *   descriptor_tool freeport
 *       Prints a TCP port on 127.0.0.1 that was free a moment ago.
 *   descriptor_tool keys DATADIR NICKNAME
 *       relay_keys_load_or_create() and the fingerprint files; prints
 *       "HEXFINGERPRINT ED25519_BASE64 YYYY-MM-DD HH:MM:SS", the last being
 *       the signing certificate's expiry as tor --key-expiration prints it.
 *   descriptor_tool rotate DATADIR
 *       Loads the keys and runs the schedule 28 days ahead (onion keys
 *       rotated, the previous ones in the .old files); prints the result of
 *       relay_keys_rotate_if_due().
 *   descriptor_tool build DATADIR NICKNAME ORPORT OUTFILE [hibernating]
 *       Builds the descriptor (Address 127.0.0.1, all roles, published now)
 *       into OUTFILE; prints its digest in hex. With "hibernating", as a
 *       relay over its AccountingMax sends it: "hibernating 1", observed
 *       bandwidth 0, no tunnelled-dir-server (control/accounting.h).
 *   descriptor_tool post HOST:PORT FILE
 *       POSTs FILE to /tor/ and prints "STATUS REASON" of the reply; exit 0
 *       when the reply parsed, whatever the status.
 *   descriptor_tool get HOST:PORT PATH OUTFILE
 *       GETs PATH, writes the reply body to OUTFILE and prints the status.
 *
 * Exit status 1 with a message on any failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "control/descriptor.h"
#include "control/dir_http.h"
#include "control/relay_keys.h"
#include "crypto/torcert.h"

#define REPLY_MAX (4 * 1024 * 1024)

static int
die(const char *fmt, const char *arg, int rc)
{
	fprintf(stderr, "descriptor_tool: ");
	fprintf(stderr, fmt, arg);
	if (rc != 0)
		fprintf(stderr, " (%s)", strerror(-rc));
	fputc('\n', stderr);
	exit(1);
}

static int
load_keys(const char *datadir, struct relay_keys **keys)
{
	struct relay_keys_error err;
	int rc = relay_keys_load_or_create(datadir, time(NULL), keys, &err);

	if (rc != 0) {
		fprintf(stderr, "descriptor_tool: %s: %s\n", err.path,
				err.message);
		exit(1);
	}
	return 0;
}

static int
cmd_freeport(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
			getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		die("%s", "cannot bind a port", -errno);
	printf("%u\n", (unsigned)ntohs(sin.sin_port));
	close(fd);
	return 0;
}

static int
cmd_keys(const char *datadir, const char *nickname)
{
	struct relay_keys *keys;
	struct relay_keys_error err;
	char hex[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1], ed[64], expiry[32];
	const uint8_t *cert_bytes;
	struct torcert cert;
	size_t cert_len;
	time_t expires;
	struct tm tm;

	load_keys(datadir, &keys);
	cert_bytes = relay_keys_signing_cert(keys, &cert_len);
	if (torcert_parse(&cert_bytes, cert_bytes + cert_len, &cert) != 0)
		die("%s", "our signing certificate does not parse", 0);
	expires = (time_t)cert.expiration_hours * 3600;
	gmtime_r(&expires, &tm);
	strftime(expiry, sizeof(expiry), "%Y-%m-%d %H:%M:%S", &tm);
	if (relay_keys_write_fingerprint_files(keys, datadir, nickname,
			&err) != 0) {
		fprintf(stderr, "descriptor_tool: %s: %s\n", err.path,
				err.message);
		return 1;
	}
	rsa_fingerprint_to_hex(relay_keys_fingerprint(keys), hex);
	sodium_bin2base64(ed, sizeof(ed), relay_keys_master(keys)->public_key,
			ED25519_PUBLIC_KEY_LEN,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	printf("%s %s %s\n", hex, ed, expiry);
	relay_keys_free(keys);
	return 0;
}

static int
cmd_rotate(const char *datadir)
{
	struct relay_keys *keys;
	struct relay_keys_error err;
	int rc;

	load_keys(datadir, &keys);
	rc = relay_keys_rotate_if_due(keys,
			time(NULL) + RELAY_KEYS_ONION_KEY_LIFETIME, &err);
	relay_keys_free(keys);
	if (rc < 0) {
		fprintf(stderr, "descriptor_tool: %s: %s\n", err.path,
				err.message);
		return 1;
	}
	printf("%d\n", rc);
	return 0;
}

static int
cmd_build(const char *datadir, const char *nickname, const char *or_port,
		const char *outfile, bool hibernating)
{
	static char text[DESCRIPTOR_MAX_LEN + 1];
	uint8_t digest[DESCRIPTOR_DIGEST_LEN];
	char hex[2 * DESCRIPTOR_DIGEST_LEN + 1];
	struct descriptor_params params = {
		.nickname = nickname,
		.address = "127.0.0.1",
		.or_port = (uint16_t)atoi(or_port),
		.platform = "hsrelay 0.1.0 on Linux",
		.contact = "hsrelayup@test.invalid",
		.bandwidth_rate = 10485760,
		.bandwidth_burst = 10485760,
		.bandwidth_observed = 1048576,
		.uptime = 0,
		.published = time(NULL),
		.roles = DESCRIPTOR_ROLES_ALL,
		.hibernating = hibernating,
		.no_tunnelled_dir_server = hibernating,
	};
	struct relay_keys *keys;
	ssize_t len;
	FILE *f;

	if (hibernating)
		params.bandwidth_observed = 0;
	load_keys(datadir, &keys);
	len = descriptor_build(&params, keys, text, sizeof(text), digest);
	relay_keys_free(keys);
	if (len < 0)
		die("%s", "descriptor_build failed", (int)len);
	f = fopen(outfile, "wb");
	if (f == NULL || fwrite(text, 1, (size_t)len, f) != (size_t)len ||
			fclose(f) != 0)
		die("cannot write %s", outfile, -errno);
	rsa_fingerprint_to_hex(digest, hex);
	printf("%s\n", hex);
	return 0;
}

/* Connects to "A.B.C.D:PORT". */
static int
connect_to(const char *hostport)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(hostport, ':');
	int fd;

	if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
		die("bad address %s", hostport, 0);
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		die("bad address %s", hostport, 0);
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("cannot connect to %s", hostport, -errno);
	return fd;
}

/* Sends request, reads the reply to EOF, parses its head. */
static void
exchange(const char *hostport, const uint8_t *request, size_t request_len,
		uint8_t *reply, size_t *reply_len,
		struct dir_http_response *response, const uint8_t **body)
{
	struct timeval timeout = { .tv_sec = 30 };
	int fd = connect_to(hostport);
	size_t done = 0;
	const uint8_t *cursor;
	int rc;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	while (done < request_len) {
		ssize_t n = send(fd, request + done, request_len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("send to %s failed", hostport, -errno);
		done += (size_t)n;
	}
	*reply_len = 0;
	for (;;) {
		ssize_t n = recv(fd, reply + *reply_len, REPLY_MAX - *reply_len,
				0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("receive from %s failed", hostport, -errno);
		if (n == 0)
			break;
		*reply_len += (size_t)n;
		if (*reply_len == REPLY_MAX)
			die("reply from %s too large", hostport, 0);
	}
	close(fd);
	cursor = reply;
	rc = dir_http_response_parse(&cursor, reply + *reply_len, response);
	if (rc != 0)
		die("unparsable reply from %s", hostport, rc);
	*body = cursor;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(REPLY_MAX);

	if (f == NULL || buf == NULL)
		die("cannot read %s", path, -errno);
	*len = fread(buf, 1, REPLY_MAX, f);
	fclose(f);
	return buf;
}

static int
cmd_post(const char *hostport, const char *file)
{
	struct dir_http_response response;
	uint8_t *request = malloc(REPLY_MAX), *reply = malloc(REPLY_MAX);
	const uint8_t *body;
	size_t body_len, reply_len;
	uint8_t *descriptor = read_file(file, &body_len);
	ssize_t len;

	if (request == NULL || reply == NULL)
		die("%s", "out of memory", 0);
	len = dir_http_upload_request(hostport, "hsrelay interop test",
			descriptor, body_len, request, REPLY_MAX);
	if (len < 0)
		die("%s", "dir_http_upload_request failed", (int)len);
	exchange(hostport, request, (size_t)len, reply, &reply_len, &response,
			&body);
	printf("%u %.*s%s\n", response.status, (int)response.reason_len,
			response.reason,
			response.descriptor_not_new ? " (not new)" : "");
	free(descriptor);
	free(request);
	free(reply);
	return 0;
}

static int
cmd_get(const char *hostport, const char *path, const char *outfile)
{
	struct dir_http_response response;
	uint8_t request[1024], *reply = malloc(REPLY_MAX);
	const uint8_t *body;
	size_t reply_len, body_len;
	ssize_t len;
	FILE *f;

	if (reply == NULL)
		die("%s", "out of memory", 0);
	len = dir_http_get_request(hostport, path, request, sizeof(request));
	if (len < 0)
		die("%s", "dir_http_get_request failed", (int)len);
	exchange(hostport, request, (size_t)len, reply, &reply_len, &response,
			&body);
	body_len = (size_t)(reply + reply_len - body);
	if (response.has_content_length &&
			response.content_length != body_len)
		die("%s", "body length differs from Content-Length", 0);
	f = fopen(outfile, "wb");
	if (f == NULL || fwrite(body, 1, body_len, f) != body_len ||
			fclose(f) != 0)
		die("cannot write %s", outfile, -errno);
	printf("%u %.*s\n", response.status, (int)response.reason_len,
			response.reason);
	free(reply);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		die("%s", "libsodium init failed", 0);
	if (argc == 2 && strcmp(argv[1], "freeport") == 0)
		return cmd_freeport();
	if (argc == 4 && strcmp(argv[1], "keys") == 0)
		return cmd_keys(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "rotate") == 0)
		return cmd_rotate(argv[2]);
	if (argc == 6 && strcmp(argv[1], "build") == 0)
		return cmd_build(argv[2], argv[3], argv[4], argv[5], false);
	if (argc == 7 && strcmp(argv[1], "build") == 0 && strcmp(argv[6], "hibernating") == 0)
		return cmd_build(argv[2], argv[3], argv[4], argv[5], true);
	if (argc == 4 && strcmp(argv[1], "post") == 0)
		return cmd_post(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "get") == 0)
		return cmd_get(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: descriptor_tool freeport | keys DATADIR NICK | "
			"rotate DATADIR | build DATADIR NICK ORPORT OUT [hibernating] | "
			"post HOST:PORT FILE | "
			"get HOST:PORT PATH OUT\n");
	return 2;
}
