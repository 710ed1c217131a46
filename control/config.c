#include "control/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Largest file accepted; a configuration is a few dozen lines. */
#define CONFIG_FILE_MAX (1u << 20)

struct config_key {
	const char *name;
	/* Lines with this key may repeat (each adds an entry); otherwise a
	 * second line is an error rather than silently overriding the first. */
	bool repeatable;
	/* Stores value into config; on a bad value returns -EINVAL with a
	 * message in msg. */
	int (*set)(struct config *config, const char *value, char *msg,
			size_t msg_len);
};

static int
bad(char *msg, size_t msg_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msg_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A decimal integer in [min, max], nothing else. */
static int
parse_uint(const char *value, unsigned min, unsigned max, unsigned *out,
		char *msg, size_t msg_len)
{
	unsigned long v = 0;
	const char *s = value;

	if (*s == '\0')
		return bad(msg, msg_len, "expected a number");
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return bad(msg, msg_len, "'%s' is not a decimal number", value);
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			break;
	}
	if (v < min || v > max)
		return bad(msg, msg_len, "%s is out of range %u..%u", value, min, max);
	*out = (unsigned)v;
	return 0;
}

/* EAL's --lcores syntax: lcore numbers, ranges, commas, and lcore@cpu
 * mappings with parenthesised groups (several lcores may share one CPU on
 * a small test machine). Checked for its alphabet and balance; EAL itself
 * reports a well-formed list naming a CPU that does not exist. */
static bool
lcores_valid(const char *value)
{
	size_t n = strlen(value);
	int depth = 0;

	if (n == 0 || !(isdigit((unsigned char)value[0]) || value[0] == '(') ||
			!(isdigit((unsigned char)value[n - 1]) || value[n - 1] == ')'))
		return false;
	for (const char *s = value; *s; s++) {
		if (*s == '(')
			depth++;
		else if (*s == ')' && --depth < 0)
			return false;
		else if (*s != ')' && !isdigit((unsigned char)*s) && !strchr(",-@", *s))
			return false;
	}
	return depth == 0;
}

static int
set_lcores(struct config *config, const char *value, char *msg, size_t msg_len)
{
	if (strlen(value) >= sizeof(config->dpdk.lcores))
		return bad(msg, msg_len, "longer than %zu characters",
				sizeof(config->dpdk.lcores) - 1);
	if (!lcores_valid(value))
		return bad(msg, msg_len,
				"'%s' is not an lcore list such as 0-1 or 0@0,1@1,2@1", value);
	strcpy(config->dpdk.lcores, value);
	return 0;
}

static bool
all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "DDDD:BB:DD.F" or "BB:DD.F" (PCI domain, bus, device, function). */
static bool
parse_pci(const char *value, char *out, size_t out_len)
{
	size_t n = strlen(value);
	const char *bdf = value;
	char domain[5] = "0000";
	unsigned device;

	if (n == 12) {
		if (!all_hex(value, 4) || value[4] != ':')
			return false;
		memcpy(domain, value, 4);
		bdf = value + 5;
	} else if (n != 7) {
		return false;
	}
	if (!all_hex(bdf, 2) || bdf[2] != ':' || !all_hex(bdf + 3, 2) ||
			bdf[5] != '.' || bdf[6] < '0' || bdf[6] > '7')
		return false;
	device = (unsigned)strtoul((char[]){bdf[3], bdf[4], '\0'}, NULL, 16);
	if (device > 0x1f)
		return false;
	snprintf(out, out_len, "%.4s:%.2s:%.2s.%c", domain, bdf, bdf + 3, bdf[6]);
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return true;
}

static int
set_port(struct config *config, const char *value, char *msg, size_t msg_len)
{
	struct config_port *port;
	size_t name_len;

	if (config->dpdk.n_ports == CONFIG_PORTS_MAX)
		return bad(msg, msg_len, "more than %d ports", CONFIG_PORTS_MAX);
	port = &config->dpdk.ports[config->dpdk.n_ports];
	if (parse_pci(value, port->spec, sizeof(port->spec))) {
		port->is_pci = true;
		config->dpdk.n_ports++;
		return 0;
	}
	/* A vdev: "net_<driver><n>" then optional ",key=value" arguments;
	 * EAL splits its command line on nothing here, but a space would make
	 * the value ambiguous in this file, so none is allowed. */
	if (strlen(value) >= sizeof(port->spec))
		return bad(msg, msg_len, "longer than %zu characters", sizeof(port->spec) - 1);
	if (strncmp(value, "net_", 4) != 0)
		return bad(msg, msg_len,
				"'%s' is neither a PCI address (0000:01:00.0) nor a net_ vdev", value);
	name_len = strcspn(value, ",");
	for (size_t i = 4; i < name_len; i++)
		if (!isalnum((unsigned char)value[i]) && value[i] != '_')
			return bad(msg, msg_len, "bad character in device name '%.*s'",
					(int)name_len, value);
	if (name_len == 4 || !isdigit((unsigned char)value[name_len - 1]))
		return bad(msg, msg_len, "device name '%.*s' must end in an instance number",
				(int)name_len, value);
	for (const char *s = value; *s; s++)
		if (isspace((unsigned char)*s))
			return bad(msg, msg_len, "spaces are not allowed in a vdev string");
	port->is_pci = false;
	strcpy(port->spec, value);
	config->dpdk.n_ports++;
	return 0;
}

static int
set_worker_queues(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_uint(value, 1, CONFIG_WORKER_QUEUES_MAX,
			&config->dpdk.worker_queues, msg, msg_len);
}

static int
set_hugepages(struct config *config, const char *value, char *msg, size_t msg_len)
{
	if (strcasecmp(value, "auto") == 0)
		config->dpdk.hugepages = CONFIG_HUGEPAGES_AUTO;
	else if (strcasecmp(value, "on") == 0 || strcmp(value, "1") == 0)
		config->dpdk.hugepages = CONFIG_HUGEPAGES_ON;
	else if (strcasecmp(value, "off") == 0 || strcmp(value, "0") == 0)
		config->dpdk.hugepages = CONFIG_HUGEPAGES_OFF;
	else
		return bad(msg, msg_len, "'%s' is not auto, on or off", value);
	return 0;
}

static int
set_memory_mb(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_uint(value, 64, 1u << 20, &config->dpdk.memory_mb, msg, msg_len);
}

static int
set_mbufs(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_uint(value, 511, 1u << 22, &config->dpdk.mbufs_per_worker,
			msg, msg_len);
}

static int
set_idle_polls(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_uint(value, 1, 1000000000, &config->dpdk.idle_polls, msg, msg_len);
}

static int
set_idle_sleep(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_uint(value, 0, 1000000, &config->dpdk.idle_sleep_usec, msg, msg_len);
}

static int
set_arp_timeout(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_uint(value, 1, 86400, &config->dpdk.arp_timeout_sec, msg, msg_len);
}

static int
set_mac(struct config *config, const char *value, char *msg, size_t msg_len)
{
	uint8_t mac[6];

	if (strlen(value) != 17)
		return bad(msg, msg_len, "'%s' is not a MAC address such as 02:00:00:00:00:01", value);
	for (int i = 0; i < 6; i++) {
		const char *s = value + 3 * i;

		if (!all_hex(s, 2) || (i < 5 && s[2] != ':'))
			return bad(msg, msg_len,
					"'%s' is not a MAC address such as 02:00:00:00:00:01", value);
		mac[i] = (uint8_t)strtoul((char[]){s[0], s[1], '\0'}, NULL, 16);
	}
	/* The dataplane answers ARP with this address: a group address would
	 * make every neighbour's replies broadcast or multicast. */
	if (mac[0] & 1)
		return bad(msg, msg_len, "%s is a multicast address", value);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return bad(msg, msg_len, "the all-zero address is not usable");
	memcpy(config->dpdk.mac, mac, sizeof(mac));
	config->dpdk.has_mac = true;
	return 0;
}

/* Dotted-quad IPv4 in strict decimal (no leading zeros, which some parsers
 * read as octal). */
static bool
parse_ipv4(const char *s, size_t n, uint32_t *out)
{
	uint32_t addr = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		while (i < n && isdigit((unsigned char)s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return false;
		addr = addr << 8 | v;
		if (part < 3) {
			if (i == n || s[i] != '.')
				return false;
			i++;
		}
	}
	if (i != n)
		return false;
	*out = addr;
	return true;
}

static int
set_address(struct config *config, const char *value, char *msg, size_t msg_len)
{
	const char *slash = strchr(value, '/');
	uint32_t addr;
	unsigned prefix;

	if (!slash)
		return bad(msg, msg_len, "'%s' has no prefix length (e.g. 10.0.0.2/24)", value);
	if (!parse_ipv4(value, (size_t)(slash - value), &addr))
		return bad(msg, msg_len, "'%.*s' is not an IPv4 address",
				(int)(slash - value), value);
	if (parse_uint(slash + 1, 1, 32, &prefix, msg, msg_len) < 0)
		return bad(msg, msg_len, "prefix length '%s' is not in 1..32", slash + 1);
	/* Zero, loopback, multicast and reserved addresses cannot be ours. */
	if (addr == 0 || (addr >> 24) == 127 || (addr >> 28) >= 0xe)
		return bad(msg, msg_len, "%.*s is not a unicast address",
				(int)(slash - value), value);
	config->dpdk.address = addr;
	config->dpdk.prefix_len = (uint8_t)prefix;
	config->dpdk.has_address = true;
	return 0;
}

static int
set_netcheck_echo_port(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	unsigned port;

	if (parse_uint(value, 1, 65535, &port, msg, msg_len) < 0)
		return -EINVAL;
	config->netcheck.tcp_echo_port = (uint16_t)port;
	return 0;
}

/* "A.B.C.D:PORT", the kernel peer netcheck's TCP client connects to. */
static int
set_netcheck_connect(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	const char *colon = strchr(value, ':');
	uint32_t addr;
	unsigned port;

	if (!colon)
		return bad(msg, msg_len, "'%s' has no port (e.g. 10.0.0.1:9000)", value);
	if (!parse_ipv4(value, (size_t)(colon - value), &addr) || addr == 0)
		return bad(msg, msg_len, "'%.*s' is not an IPv4 address",
				(int)(colon - value), value);
	if (parse_uint(colon + 1, 1, 65535, &port, msg, msg_len) < 0)
		return -EINVAL;
	config->netcheck.connect_address = addr;
	config->netcheck.connect_port = (uint16_t)port;
	config->netcheck.has_connect = true;
	return 0;
}

static int
set_netcheck_connect_bytes(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_uint(value, 1, 4000000000u, &config->netcheck.connect_bytes,
			msg, msg_len);
}

static int
set_netcheck_connections(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_uint(value, 1, 1024, &config->netcheck.connections, msg, msg_len);
}

/* Every key the reader knows; a subsystem adds its keys here. */
static const struct config_key config_keys[] = {
	{ "DPDKLcores", false, set_lcores },
	{ "DPDKPort", true, set_port },
	{ "DPDKWorkerQueues", false, set_worker_queues },
	{ "DPDKHugepages", false, set_hugepages },
	{ "DPDKMemoryMB", false, set_memory_mb },
	{ "DPDKMbufsPerWorker", false, set_mbufs },
	{ "DPDKIdlePolls", false, set_idle_polls },
	{ "DPDKIdleSleepUsec", false, set_idle_sleep },
	{ "DPDKMac", false, set_mac },
	{ "DPDKArpTimeout", false, set_arp_timeout },
	{ "Address", false, set_address },
	{ "NetcheckTcpEchoPort", false, set_netcheck_echo_port },
	{ "NetcheckConnect", false, set_netcheck_connect },
	{ "NetcheckConnectBytes", false, set_netcheck_connect_bytes },
	{ "NetcheckConnections", false, set_netcheck_connections },
};

#define CONFIG_N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

void
config_init(struct config *config)
{
	memset(config, 0, sizeof(*config));
	strcpy(config->dpdk.lcores, "0");
	config->dpdk.worker_queues = 1;
	config->dpdk.hugepages = CONFIG_HUGEPAGES_AUTO;
	config->dpdk.memory_mb = 256;
	config->dpdk.mbufs_per_worker = 4095;
	config->dpdk.idle_polls = 64;
	config->dpdk.idle_sleep_usec = 50;
	config->dpdk.arp_timeout_sec = 60;
	config->netcheck.connect_bytes = 1u << 20;
	config->netcheck.connections = 1;
}

static void
error_set(struct config_error *err, const char *name, unsigned line,
		const char *key, size_t key_len, const char *message)
{
	snprintf(err->file, sizeof(err->file), "%s", name);
	err->line = line;
	snprintf(err->key, sizeof(err->key), "%.*s", (int)key_len, key);
	snprintf(err->message, sizeof(err->message), "%s", message);
}

/* Parses one line (without its newline). */
static int
parse_line(struct config *config, const char *line, size_t len,
		const char *name, unsigned line_no, unsigned *seen,
		struct config_error *err)
{
	char value[CONFIG_LINE_MAX + 1];
	char msg[sizeof(err->message)];
	const char *hash = memchr(line, '#', len);
	size_t key_start = 0, key_end, value_start;
	const struct config_key *key = NULL;
	size_t k;

	if (hash)
		len = (size_t)(hash - line);
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	while (key_start < len && isspace((unsigned char)line[key_start]))
		key_start++;
	if (key_start == len)
		return 0;

	key_end = key_start;
	while (key_end < len && !isspace((unsigned char)line[key_end]))
		key_end++;
	for (k = 0; k < CONFIG_N_KEYS; k++) {
		if (strlen(config_keys[k].name) == key_end - key_start &&
				strncasecmp(config_keys[k].name, line + key_start,
					key_end - key_start) == 0) {
			key = &config_keys[k];
			break;
		}
	}
	if (!key) {
		error_set(err, name, line_no, line + key_start, key_end - key_start,
				"unknown key");
		return -EINVAL;
	}
	value_start = key_end;
	while (value_start < len && isspace((unsigned char)line[value_start]))
		value_start++;
	if (value_start == len) {
		error_set(err, name, line_no, key->name, strlen(key->name), "missing value");
		return -EINVAL;
	}
	if (line[len - 1] == '\\' || line[value_start] == '"') {
		error_set(err, name, line_no, key->name, strlen(key->name),
				"line continuations and quoted values are not supported");
		return -EINVAL;
	}
	if (seen[k] && !key->repeatable) {
		snprintf(msg, sizeof(msg), "given twice (first on line %u)", seen[k]);
		error_set(err, name, line_no, key->name, strlen(key->name), msg);
		return -EINVAL;
	}
	memcpy(value, line + value_start, len - value_start);
	value[len - value_start] = '\0';
	msg[0] = '\0';
	if (key->set(config, value, msg, sizeof(msg)) < 0) {
		error_set(err, name, line_no, key->name, strlen(key->name), msg);
		return -EINVAL;
	}
	if (!seen[k])
		seen[k] = line_no;
	return 0;
}

int
config_parse_text(struct config *config, const char *text, size_t len,
		const char *name, struct config_error *err)
{
	unsigned seen[CONFIG_N_KEYS] = { 0 };
	unsigned line_no = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
		int rc;

		line_no++;
		if (line_len > 0 && text[pos + line_len - 1] == '\r')
			line_len--;
		if (line_len > CONFIG_LINE_MAX) {
			error_set(err, name, line_no, "", 0, "line too long");
			return -EINVAL;
		}
		if (memchr(text + pos, '\0', line_len)) {
			error_set(err, name, line_no, "", 0, "NUL byte in line");
			return -EINVAL;
		}
		rc = parse_line(config, text + pos, line_len, name, line_no, seen, err);
		if (rc < 0)
			return rc;
		pos += (nl ? (size_t)(nl - (text + pos)) + 1 : len - pos);
	}
	return 0;
}

int
config_parse_file(struct config *config, const char *path,
		struct config_error *err)
{
	char *text;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		error_set(err, path, 0, "", 0, strerror(-rc));
		return rc;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (!text) {
		close(fd);
		error_set(err, path, 0, "", 0, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, text + len, CONFIG_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			error_set(err, path, 0, "", 0, strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONFIG_FILE_MAX) {
			rc = -EFBIG;
			error_set(err, path, 0, "", 0, "file larger than 1 MiB");
			goto out;
		}
	}
	rc = config_parse_text(config, text, len, path, err);
out:
	free(text);
	close(fd);
	return rc;
}

int
config_check_dataplane(const struct config *config, const char *name,
		struct config_error *err)
{
	if (config->dpdk.n_ports == 0) {
		error_set(err, name, 0, "DPDKPort", 8, "required: at least one port");
		return -EINVAL;
	}
	if (!config->dpdk.has_address) {
		error_set(err, name, 0, "Address", 7, "required: the dataplane's IPv4 address/prefix");
		return -EINVAL;
	}
	return 0;
}

int
config_error_format(const struct config_error *err, char *out, size_t out_len)
{
	const char *sep = err->key[0] ? ": " : "";

	if (err->line == 0)
		return snprintf(out, out_len, "%s: %s%s%s", err->file, err->key, sep,
				err->message);
	return snprintf(out, out_len, "%s:%u: %s%s%s", err->file, err->line,
			err->key, sep, err->message);
}
