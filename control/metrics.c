#include "control/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

/* A growable text buffer; len excludes the NUL kept after the text. */
struct text {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

static void
text_reserve(struct text *t, size_t more)
{
	size_t cap = t->cap ? t->cap : 256;
	char *data;

	if (t->failed || t->len + more + 1 <= t->cap)
		return;
	while (cap < t->len + more + 1)
		cap *= 2;
	data = realloc(t->data, cap);
	if (!data) {
		t->failed = true;
		return;
	}
	t->data = data;
	t->cap = cap;
}

static void
text_add(struct text *t, const char *s, size_t n)
{
	text_reserve(t, n);
	if (t->failed)
		return;
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

static void
text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

/* Exposition format 0.0.4: HELP text escapes '\' and newline; label
 * values escape '"' as well. */
static void
text_escaped(struct text *t, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			text_add(t, "\\\\", 2);
		else if (*s == '\n')
			text_add(t, "\\n", 2);
		else if (*s == '"' && quote)
			text_add(t, "\\\"", 2);
		else
			text_add(t, s, 1);
	}
}

struct metrics_sample {
	const char *suffix;	/* after the family name: "", "_bucket", "_sum", "_count" */
	char *labels;		/* rendered "{a=\"b\"}", or "" */
	uint64_t value;		/* rendered as value / 10^decimals */
	unsigned decimals;
};

struct metrics_family {
	char *name;
	char *help;
	enum metrics_type type;
	size_t n_samples;
	size_t cap_samples;
	struct metrics_sample *samples;
};

struct metrics_snapshot {
	size_t n_families;
	size_t cap_families;
	struct metrics_family *families;
};

struct metrics_snapshot *
metrics_snapshot_new(void)
{
	return calloc(1, sizeof(struct metrics_snapshot));
}

void
metrics_snapshot_free(struct metrics_snapshot *s)
{
	if (!s)
		return;
	for (size_t f = 0; f < s->n_families; f++) {
		struct metrics_family *family = &s->families[f];

		for (size_t i = 0; i < family->n_samples; i++)
			free(family->samples[i].labels);
		free(family->samples);
		free(family->name);
		free(family->help);
	}
	free(s->families);
	free(s);
}

static bool
name_valid(const char *name, bool colons)
{
	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *c = name; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			(*c >= '0' && *c <= '9') || *c == '_' || (colons && *c == ':');

		if (!ok)
			return false;
	}
	return true;
}

int
metrics_snapshot_family(struct metrics_snapshot *s, const char *name,
		const char *help, enum metrics_type type)
{
	struct metrics_family *family;

	if (!name_valid(name, true) || !help ||
			(type != METRICS_COUNTER && type != METRICS_GAUGE &&
			 type != METRICS_HISTOGRAM))
		return -EINVAL;
	for (size_t f = 0; f < s->n_families; f++)
		if (strcmp(s->families[f].name, name) == 0)
			return -EEXIST;
	if (s->n_families > INT32_MAX - 1)
		return -ENOMEM;
	if (s->n_families == s->cap_families) {
		size_t cap = s->cap_families ? 2 * s->cap_families : 16;
		struct metrics_family *families = realloc(s->families, cap * sizeof(*families));

		if (!families)
			return -ENOMEM;
		s->families = families;
		s->cap_families = cap;
	}
	family = &s->families[s->n_families];
	memset(family, 0, sizeof(*family));
	family->name = strdup(name);
	family->help = strdup(help);
	if (!family->name || !family->help) {
		free(family->name);
		free(family->help);
		return -ENOMEM;
	}
	family->type = type;
	return (int)s->n_families++;
}

static void
text_label(struct text *t, bool first, const char *name, const char *value)
{
	text_str(t, first ? "{" : ",");
	text_str(t, name);
	text_str(t, "=\"");
	text_escaped(t, value, true);
	text_str(t, "\"");
}

/* Adds a sample with suffix after the family's name and, when le is not
 * NULL, a last label le="le" (a histogram bucket). */
static int
add_sample(struct metrics_family *family, const struct metrics_label *labels, size_t n_labels,
		const char *le, const char *suffix, uint64_t value, unsigned decimals)
{
	struct text t = { 0 };

	for (size_t i = 0; i < n_labels; i++) {
		if (!name_valid(labels[i].name, false) ||
				strncmp(labels[i].name, "__", 2) == 0 || !labels[i].value ||
				(le != NULL && strcmp(labels[i].name, "le") == 0)) {
			free(t.data);
			return -EINVAL;
		}
		text_label(&t, i == 0, labels[i].name, labels[i].value);
	}
	if (le != NULL)
		text_label(&t, n_labels == 0, "le", le);
	text_str(&t, n_labels || le != NULL ? "}" : "");
	if (!t.data)
		t.data = strdup("");
	if (t.failed || !t.data) {
		free(t.data);
		return -ENOMEM;
	}
	/* Two samples with one label set would be one series twice. */
	for (size_t i = 0; i < family->n_samples; i++) {
		if (strcmp(family->samples[i].suffix, suffix) == 0 &&
				strcmp(family->samples[i].labels, t.data) == 0) {
			free(t.data);
			return -EEXIST;
		}
	}
	if (family->n_samples == family->cap_samples) {
		size_t cap = family->cap_samples ? 2 * family->cap_samples : 8;
		struct metrics_sample *samples = realloc(family->samples,
				cap * sizeof(*samples));

		if (!samples) {
			free(t.data);
			return -ENOMEM;
		}
		family->samples = samples;
		family->cap_samples = cap;
	}
	family->samples[family->n_samples] = (struct metrics_sample){
		.suffix = suffix, .labels = t.data, .value = value, .decimals = decimals,
	};
	family->n_samples++;
	return 0;
}

int
metrics_snapshot_sample(struct metrics_snapshot *s, int family_id,
		const struct metrics_label *labels, size_t n_labels, uint64_t value)
{
	if (family_id < 0 || (size_t)family_id >= s->n_families ||
			s->families[family_id].type == METRICS_HISTOGRAM)
		return -EINVAL;
	return add_sample(&s->families[family_id], labels, n_labels, NULL, "", value, 0);
}

int
metrics_snapshot_histogram(struct metrics_snapshot *s, int family_id,
		const struct metrics_label *labels, size_t n_labels, const char *const bounds[],
		const uint64_t cumulative[], size_t n_bounds, uint64_t count, uint64_t sum,
		unsigned sum_decimals)
{
	struct metrics_family *family;
	size_t before;
	int rc = 0;

	if (family_id < 0 || (size_t)family_id >= s->n_families ||
			s->families[family_id].type != METRICS_HISTOGRAM || sum_decimals > 19)
		return -EINVAL;
	for (size_t i = 0; i < n_bounds; i++)
		if (bounds[i] == NULL || cumulative[i] > count ||
				(i > 0 && cumulative[i] < cumulative[i - 1]))
			return -EINVAL;
	family = &s->families[family_id];
	before = family->n_samples;
	for (size_t i = 0; i < n_bounds && rc == 0; i++)
		rc = add_sample(family, labels, n_labels, bounds[i], "_bucket", cumulative[i], 0);
	if (rc == 0)
		rc = add_sample(family, labels, n_labels, "+Inf", "_bucket", count, 0);
	if (rc == 0)
		rc = add_sample(family, labels, n_labels, NULL, "_sum", sum, sum_decimals);
	if (rc == 0)
		rc = add_sample(family, labels, n_labels, NULL, "_count", count, 0);
	if (rc < 0) {
		/* s is unchanged on error. */
		while (family->n_samples > before)
			free(family->samples[--family->n_samples].labels);
	}
	return rc;
}

/* value / 10^decimals in decimal, exactly (no floating point). */
static void
text_value(struct text *t, uint64_t value, unsigned decimals)
{
	char buf[48];
	uint64_t scale = 1;

	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	if (decimals == 0)
		snprintf(buf, sizeof(buf), " %" PRIu64 "\n", value);
	else
		snprintf(buf, sizeof(buf), " %" PRIu64 ".%0*" PRIu64 "\n", value / scale,
				(int)decimals, value % scale);
	text_str(t, buf);
}

int
metrics_snapshot_render(const struct metrics_snapshot *s, char **text, size_t *len)
{
	struct text t = { 0 };

	text_reserve(&t, 0);
	if (t.data)
		t.data[0] = '\0';
	for (size_t f = 0; s && f < s->n_families; f++) {
		const struct metrics_family *family = &s->families[f];

		text_str(&t, "# HELP ");
		text_str(&t, family->name);
		text_str(&t, " ");
		text_escaped(&t, family->help, false);
		text_str(&t, "\n# TYPE ");
		text_str(&t, family->name);
		text_str(&t, family->type == METRICS_COUNTER ? " counter\n"
				: family->type == METRICS_GAUGE ? " gauge\n" : " histogram\n");
		for (size_t i = 0; i < family->n_samples; i++) {
			text_str(&t, family->name);
			text_str(&t, family->samples[i].suffix);
			text_str(&t, family->samples[i].labels);
			text_value(&t, family->samples[i].value, family->samples[i].decimals);
		}
	}
	if (t.failed || !t.data) {
		free(t.data);
		return -ENOMEM;
	}
	*text = t.data;
	*len = t.len;
	return 0;
}

struct metrics_server {
	struct MHD_Daemon *daemon;
	int listen_fd;
	uint16_t port;
	struct config_policy policy;
	/* Guards snapshot (publish swaps it, requests render it) and policy
	 * (a reload replaces it, requests read it). */
	pthread_mutex_t lock;
	struct metrics_snapshot *snapshot;
};

static enum MHD_Result
answer(struct MHD_Connection *connection, unsigned status, const char *body)
{
	struct MHD_Response *response = MHD_create_response_from_buffer(strlen(body),
			(void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
			"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET");
	rc = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return rc;
}

static bool
client_allowed(struct metrics_server *server, struct MHD_Connection *connection)
{
	bool allowed;
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection,
			MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr_in *sin;

	if (!info || !info->client_addr || info->client_addr->sa_family != AF_INET)
		return false;
	sin = (const struct sockaddr_in *)(const void *)info->client_addr;
	pthread_mutex_lock(&server->lock);
	allowed = config_policy_allows(&server->policy, ntohl(sin->sin_addr.s_addr));
	pthread_mutex_unlock(&server->lock);
	return allowed;
}

/* libmicrohttpd's request callback, on its thread. */
static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *connection, const char *url,
		const char *method, const char *version, const char *upload_data,
		size_t *upload_data_size, void **request_state)
{
	struct metrics_server *server = cls;
	struct MHD_Response *response;
	enum MHD_Result rc;
	char *text;
	size_t len;
	int render_rc;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)request_state;
	if (!client_allowed(server, connection))
		return answer(connection, MHD_HTTP_FORBIDDEN, "Forbidden\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return answer(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n");
	if (strcmp(url, "/metrics") != 0)
		return answer(connection, MHD_HTTP_NOT_FOUND, "Not Found\n");

	pthread_mutex_lock(&server->lock);
	render_rc = metrics_snapshot_render(server->snapshot, &text, &len);
	pthread_mutex_unlock(&server->lock);
	if (render_rc < 0)
		return answer(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory\n");
	response = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
			METRICS_CONTENT_TYPE);
	rc = MHD_queue_response(connection, MHD_HTTP_OK, response);
	MHD_destroy_response(response);
	return rc;
}

static int
open_listener(uint32_t address, uint16_t port, int *fd_out, uint16_t *port_out)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sin_len = sizeof(sin);
	int one = 1, fd, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	sin.sin_addr.s_addr = htonl(address);
	sin.sin_port = htons(port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
			bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
			listen(fd, 16) < 0 ||
			getsockname(fd, (struct sockaddr *)&sin, &sin_len) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	*fd_out = fd;
	*port_out = ntohs(sin.sin_port);
	return 0;
}

void
metrics_server_set_policy(struct metrics_server *server, const struct config_policy *policy)
{
	pthread_mutex_lock(&server->lock);
	server->policy = *policy;
	pthread_mutex_unlock(&server->lock);
}

int
metrics_server_start(uint32_t address, uint16_t port,
		const struct config_policy *policy, struct metrics_server **out)
{
	struct metrics_server *server = calloc(1, sizeof(*server));
	int rc;

	if (!server)
		return -ENOMEM;
	server->policy = *policy;
	rc = open_listener(address, port, &server->listen_fd, &server->port);
	if (rc < 0) {
		free(server);
		return rc;
	}
	pthread_mutex_init(&server->lock, NULL);
	/* One internal thread serves every connection: a scrape every few
	 * seconds needs no more. Limits keep a misbehaving client from
	 * holding the slow path. */
	server->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL,
			handle_request, server,
			MHD_OPTION_LISTEN_SOCKET, server->listen_fd,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
			MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
			MHD_OPTION_END);
	if (!server->daemon) {
		close(server->listen_fd);
		pthread_mutex_destroy(&server->lock);
		free(server);
		return -EIO;
	}
	*out = server;
	return 0;
}

uint16_t
metrics_server_port(const struct metrics_server *server)
{
	return server->port;
}

void
metrics_server_publish(struct metrics_server *server, struct metrics_snapshot *snapshot)
{
	struct metrics_snapshot *old;

	pthread_mutex_lock(&server->lock);
	old = server->snapshot;
	server->snapshot = snapshot;
	pthread_mutex_unlock(&server->lock);
	metrics_snapshot_free(old);
}

void
metrics_server_stop(struct metrics_server *server)
{
	if (!server)
		return;
	MHD_stop_daemon(server->daemon);
	/* The socket was handed in with MHD_OPTION_LISTEN_SOCKET, and
	 * libmicrohttpd closes it when the daemon stops. */
	pthread_mutex_destroy(&server->lock);
	metrics_snapshot_free(server->snapshot);
	free(server);
}
