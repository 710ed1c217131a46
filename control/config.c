#include "control/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
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
set_tcp_congestion(struct config *config, const char *value, char *msg, size_t msg_len)
{
	if (strcasecmp(value, "cubic") == 0)
		config->dpdk.tcp_congestion = CONFIG_TCP_CUBIC;
	else if (strcasecmp(value, "newreno") == 0)
		config->dpdk.tcp_congestion = CONFIG_TCP_NEWRENO;
	else
		return bad(msg, msg_len, "'%s' is not cubic or newreno", value);
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

/* "A.B.C.D": the next hop for destinations off Address's subnet (an
 * operator's default route). Whether it is on the subnet is checked by
 * config_check_dataplane(), when Address is known whatever the key order. */
static int
set_gateway(struct config *config, const char *value, char *msg, size_t msg_len)
{
	uint32_t addr;

	if (!parse_ipv4(value, strlen(value), &addr))
		return bad(msg, msg_len, "'%s' is not an IPv4 address", value);
	if (addr == 0 || (addr >> 24) == 127 || (addr >> 28) >= 0xe)
		return bad(msg, msg_len, "%s is not a unicast address", value);
	config->dpdk.gateway = addr;
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

/* ---- The Tor relay's keys (struct config_tor) ---- */

/* Splits a copy of value (in buf) at whitespace into at most max tokens.
 * Returns the token count, or -1 when there are more than max. */
static int
split_tokens(const char *value, char *buf, size_t buf_len, char **tokens, int max)
{
	int n = 0;
	char *s = buf;

	snprintf(buf, buf_len, "%s", value);
	for (;;) {
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			return n;
		if (n == max)
			return -1;
		tokens[n++] = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
}

/* tor's is_legal_nickname(): 1..19 characters of [A-Za-z0-9]. */
static bool
legal_nickname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFIG_NICKNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

/* A decimal port in [min, 65535], nothing else. */
static bool
parse_port(const char *s, unsigned min, uint16_t *out)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < min || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "A.B.C.D:PORT" with a port in 1..65535. */
static bool
parse_ipv4_port(const char *s, uint32_t *addr, uint16_t *port)
{
	const char *colon = strrchr(s, ':');

	return colon && parse_ipv4(s, (size_t)(colon - s), addr) &&
		parse_port(colon + 1, 1, port);
}

/* Exactly 40 hex digits into CONFIG_DIGEST_LEN bytes. */
static bool
parse_hex_digest(const char *s, uint8_t out[CONFIG_DIGEST_LEN])
{
	if (strlen(s) != 2 * CONFIG_DIGEST_LEN || !all_hex(s, 2 * CONFIG_DIGEST_LEN))
		return false;
	for (int i = 0; i < CONFIG_DIGEST_LEN; i++)
		out[i] = (uint8_t)strtoul((char[]){ s[2 * i], s[2 * i + 1], '\0' }, NULL, 16);
	return true;
}

/* 0 or 1, as tor's BOOL options. */
static int
parse_bool(const char *value, bool *out, char *msg, size_t msg_len)
{
	if (strcmp(value, "0") == 0)
		*out = false;
	else if (strcmp(value, "1") == 0)
		*out = true;
	else
		return bad(msg, msg_len, "'%s' is not 0 or 1", value);
	return 0;
}

/* 0 keeps TCP checksums in software even where the device offers them
 * (a driver suspected of getting them wrong, or to compare). */
static int
set_checksum_offload(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_bool(value, &config->dpdk.checksum_offload, msg, msg_len);
}

static int
set_nickname(struct config *config, const char *value, char *msg, size_t msg_len)
{
	if (!legal_nickname(value))
		return bad(msg, msg_len,
				"'%s' is not a nickname: 1 to 19 characters A-Z, a-z, 0-9", value);
	strcpy(config->tor.nickname, value);
	return 0;
}

/* tor: "ORPort [address:]PORT|auto [flags]". hsrelay has one IPv4 ORPort
 * on the dataplane's Address, so only "PORT" and "ADDR:PORT" are taken. */
static int
set_or_port(struct config *config, const char *value, char *msg, size_t msg_len)
{
	char buf[CONFIG_LINE_MAX + 1];
	char *tokens[8];
	int n = split_tokens(value, buf, sizeof(buf), tokens, 8);
	struct config_tor *tor = &config->tor;
	const char *colon;

	if (n < 1)
		return bad(msg, msg_len, "too many flags");
	for (int i = 1; i < n; i++) {
		/* IPv4Only is what hsrelay does anyway. */
		if (strcasecmp(tokens[i], "IPv4Only") == 0)
			continue;
		if (strcasecmp(tokens[i], "NoAdvertise") == 0 ||
				strcasecmp(tokens[i], "NoListen") == 0 ||
				strcasecmp(tokens[i], "IPv6Only") == 0)
			return bad(msg, msg_len, "flag %s is not supported: hsrelay listens "
					"on and advertises one IPv4 ORPort", tokens[i]);
		return bad(msg, msg_len, "unknown flag '%s'", tokens[i]);
	}
	if (tokens[0][0] == '[')
		return bad(msg, msg_len, "IPv6 ORPorts are not supported");
	if (strcasecmp(tokens[0], "auto") == 0)
		return bad(msg, msg_len, "auto is not supported: give a port number");
	if (strcmp(tokens[0], "0") == 0)
		return bad(msg, msg_len, "0 (no ORPort) is not supported: hsrelay is a relay");
	colon = strrchr(tokens[0], ':');
	if (!colon) {
		if (!parse_port(tokens[0], 1, &tor->or_port))
			return bad(msg, msg_len, "'%s' is not a port 1..65535", tokens[0]);
		tor->or_port_has_address = false;
	} else {
		if (strchr(tokens[0], ':') != colon)
			return bad(msg, msg_len, "IPv6 ORPorts are not supported");
		if (!parse_ipv4(tokens[0], (size_t)(colon - tokens[0]), &tor->or_address))
			return bad(msg, msg_len, "'%.*s' is not an IPv4 address",
					(int)(colon - tokens[0]), tokens[0]);
		if (!parse_port(colon + 1, 1, &tor->or_port))
			return bad(msg, msg_len, "'%s' is not a port 1..65535", colon + 1);
		tor->or_port_has_address = true;
	}
	tor->has_or_port = true;
	return 0;
}

static int
set_path(char *dest, size_t size, const char *value, char *msg, size_t msg_len)
{
	if (strlen(value) >= size)
		return bad(msg, msg_len, "longer than %zu characters", size - 1);
	/* tor expands "~"; hsrelay runs as a service with no home to expand. */
	if (value[0] == '~')
		return bad(msg, msg_len, "'~' is not expanded: give an absolute path");
	strcpy(dest, value);
	return 0;
}

static int
set_capture(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return set_path(config->dpdk.capture_path, sizeof(config->dpdk.capture_path), value,
			msg, msg_len);
}

static int
set_capture_packets(struct config *config, const char *value, char *msg, size_t msg_len)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end != '\0' || errno == ERANGE)
		return bad(msg, msg_len, "'%s' is not a number of packets (0: no limit)", value);
	config->dpdk.capture_packets = v;
	return 0;
}

static int
set_data_directory(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return set_path(config->tor.data_directory, sizeof(config->tor.data_directory), value,
			msg, msg_len);
}

/* Free text; the descriptor's "contact" line (dir-spec 2.1.1) carries it
 * to the end of the line, so only printable text and UTF-8 are taken (tor
 * refuses ContactInfo that is not UTF-8). */
static int
set_contact_info(struct config *config, const char *value, char *msg, size_t msg_len)
{
	const unsigned char *s = (const unsigned char *)value;

	if (strlen(value) >= sizeof(config->tor.contact_info))
		return bad(msg, msg_len, "longer than %zu characters",
				sizeof(config->tor.contact_info) - 1);
	while (*s) {
		unsigned extra;
		uint32_t cp;

		if (*s < 0x80) {
			if (*s < 0x20 || *s == 0x7f)
				return bad(msg, msg_len, "control characters are not allowed");
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			extra = 1;
			cp = *s & 0x1f;
		} else if ((*s & 0xf0) == 0xe0) {
			extra = 2;
			cp = *s & 0x0f;
		} else if ((*s & 0xf8) == 0xf0) {
			extra = 3;
			cp = *s & 0x07;
		} else {
			return bad(msg, msg_len, "not UTF-8");
		}
		s++;
		for (unsigned i = 0; i < extra; i++, s++) {
			if ((*s & 0xc0) != 0x80)
				return bad(msg, msg_len, "not UTF-8");
			cp = cp << 6 | (*s & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
				(extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
				(cp >= 0xd800 && cp <= 0xdfff))
			return bad(msg, msg_len, "not UTF-8");
	}
	strcpy(config->tor.contact_info, value);
	return 0;
}

/* tor's comma lists (policies, MyFamily): copies the next item of *list,
 * as it stands, into item and moves *list past its comma, to NULL after the
 * last item. An empty value or a trailing comma gives an empty item, which
 * each caller judges. Returns false once *list is NULL. */
static bool
next_list_item(const char **list, char item[CONFIG_LINE_MAX + 1])
{
	size_t len;

	if (*list == NULL)
		return false;
	len = strcspn(*list, ",");
	memcpy(item, *list, len);
	item[len] = '\0';
	*list = (*list)[len] == ',' ? *list + len + 1 : NULL;
	return true;
}

/* MyFamily: comma-separated relays, each a nickname or "$" + 40 hex digits
 * (tor's normalize_nickname_list(): blanks around items and empty items
 * are skipped; 40 hex digits get their "$"). */
static int
set_my_family(struct config *config, const char *value, char *msg, size_t msg_len)
{
	struct config_tor *tor = &config->tor;
	char buf[CONFIG_LINE_MAX + 1];

	while (next_list_item(&value, buf)) {
		char *item = buf;
		size_t len = strlen(item);

		while (isspace((unsigned char)*item)) {
			item++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)item[len - 1]))
			item[--len] = '\0';
		if (len == 0)
			continue;
		if (tor->n_family == RELAY_FAMILY_MAX)
			return bad(msg, msg_len, "more than %d relays in MyFamily", RELAY_FAMILY_MAX);
		if (relay_family_normalize(item, tor->family[tor->n_family],
				sizeof(tor->family[0])) != 0)
			return bad(msg, msg_len, "invalid nickname '%s' in MyFamily line "
					"(a nickname or $ and 40 hex digits)", item);
		tor->n_family++;
	}
	return 0;
}

/* FamilyId (tor 0.4.9, proposal 321): a family key's identity as
 * tor --keygen-family prints it, or "*" for every key in the family key
 * directory. The keys are loaded at start (control/relay_family.h). */
static int
set_family_id(struct config *config, const char *value, char *msg, size_t msg_len)
{
	struct config_tor *tor = &config->tor;
	uint8_t id[RELAY_FAMILY_ID_LEN];

	if (strcmp(value, "*") == 0) {
		tor->family_id_all = true;
		return 0;
	}
	if (relay_family_id_parse(value, id) != 0)
		return bad(msg, msg_len, "'%s' is not a family ID (43 base64 characters, "
				"as tor --keygen-family prints it) or *", value);
	for (unsigned i = 0; i < tor->n_family_ids; i++)
		if (memcmp(tor->family_ids[i], id, sizeof(id)) == 0)
			return 0;
	if (tor->n_family_ids == RELAY_FAMILY_IDS_MAX)
		return bad(msg, msg_len, "more than %d family IDs", RELAY_FAMILY_IDS_MAX);
	memcpy(tor->family_ids[tor->n_family_ids++], id, sizeof(id));
	return 0;
}

static int
set_family_key_directory(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return set_path(config->tor.family_key_directory,
			sizeof(config->tor.family_key_directory), value, msg, msg_len);
}

/* "http://ADDR:PORT" with an optional "/" (tor's parse_dirauth_dirport):
 * checked, not kept; hsrelay talks to an authority's main DirPort. */
static bool
dirauth_url_valid(const char *url)
{
	char hostport[64];
	const char *slash;
	size_t n;
	uint32_t addr;
	uint16_t port;

	if (strncmp(url, "http://", 7) != 0)
		return false;
	url += 7;
	slash = strchr(url, '/');
	if (slash && strcmp(slash, "/") != 0)
		return false;
	n = slash ? (size_t)(slash - url) : strlen(url);
	if (n >= sizeof(hostport))
		return false;
	memcpy(hostport, url, n);
	hostport[n] = '\0';
	return parse_ipv4_port(hostport, &addr, &port);
}

/* "[ADDR]:PORT" with an IPv6 address. */
static bool
ipv6_port_valid(const char *s)
{
	const char *close = strchr(s, ']');
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr in6;
	uint16_t port;

	if (s[0] != '[' || !close || (size_t)(close - s - 1) >= sizeof(addr) ||
			close[1] != ':')
		return false;
	memcpy(addr, s + 1, (size_t)(close - s - 1));
	addr[close - s - 1] = '\0';
	return inet_pton(AF_INET6, addr, &in6) == 1 && parse_port(close + 2, 1, &port);
}

/* A non-negative decimal number with an optional fraction ("2", "0.5"). */
static bool
parse_weight(const char *s, double *out)
{
	double v = 0, scale = 1;
	bool digits = false, dot = false;

	for (; *s; s++) {
		if (*s == '.' && !dot) {
			dot = true;
		} else if (isdigit((unsigned char)*s)) {
			digits = true;
			if (dot)
				v += (scale /= 10) * (*s - '0');
			else
				v = v * 10 + (*s - '0');
		} else {
			return false;
		}
	}
	if (!digits || v > 1e18)
		return false;
	*out = v;
	return true;
}

/* tor's parse_dir_authority_line: an optional nickname (a legal nickname
 * as the first word), flags up to the first word that starts with a digit,
 * then "IPv4:dirport" and the fingerprint (the remaining words joined, so
 * tor's "XXXX XXXX ..." spacing works). tor logs and skips an unknown flag
 * or a bad orport=, weight= or v3ident=; hsrelay refuses them, because a
 * skipped v3ident= silently makes the line useless to a relay. */
static int
set_dir_authority(struct config *config, const char *value, char *msg, size_t msg_len)
{
	char buf[CONFIG_LINE_MAX + 1];
	char *tokens[32];
	int n = split_tokens(value, buf, sizeof(buf), tokens, 32);
	struct config_tor *tor = &config->tor;
	struct config_dir_authority auth;
	char fingerprint[2 * CONFIG_DIGEST_LEN + 1];
	size_t fp_len = 0;
	bool has_ipv6 = false;
	int i = 0;

	if (n < 0)
		return bad(msg, msg_len, "too many words");
	if (tor->n_dir_authorities == CONFIG_DIR_AUTHORITIES_MAX)
		return bad(msg, msg_len, "more than %d authorities", CONFIG_DIR_AUTHORITIES_MAX);
	memset(&auth, 0, sizeof(auth));
	auth.weight = 1.0;
	if (n > 0 && legal_nickname(tokens[0]))
		strcpy(auth.nickname, tokens[i++]);
	for (; i < n && !isdigit((unsigned char)tokens[i][0]); i++) {
		const char *flag = tokens[i];

		if (strcasecmp(flag, "hs") == 0 || strcasecmp(flag, "no-hs") == 0 ||
				strcasecmp(flag, "no-v2") == 0) {
			/* Obsolete flags tor still accepts (tools write no-v2). */
		} else if (strcasecmp(flag, "bridge") == 0) {
			auth.is_bridge = true;
		} else if (strncasecmp(flag, "orport=", 7) == 0) {
			if (!parse_port(flag + 7, 1, &auth.or_port))
				return bad(msg, msg_len, "orport '%s' is not a port 1..65535", flag + 7);
		} else if (strncmp(flag, "weight=", 7) == 0) {
			if (!parse_weight(flag + 7, &auth.weight))
				return bad(msg, msg_len, "weight '%s' is not a non-negative number",
						flag + 7);
		} else if (strncasecmp(flag, "v3ident=", 8) == 0) {
			if (!parse_hex_digest(flag + 8, auth.v3ident))
				return bad(msg, msg_len, "v3ident '%s' is not 40 hex digits", flag + 8);
			auth.has_v3ident = true;
		} else if (strncasecmp(flag, "ipv6=", 5) == 0) {
			/* Checked as tor does; hsrelay reaches authorities over IPv4. */
			if (has_ipv6)
				return bad(msg, msg_len, "ipv6= given twice");
			if (!ipv6_port_valid(flag + 5))
				return bad(msg, msg_len, "ipv6 '%s' is not [IPv6 address]:port", flag + 5);
			has_ipv6 = true;
		} else if (strncasecmp(flag, "upload=", 7) == 0 ||
				strncasecmp(flag, "download=", 9) == 0 ||
				strncasecmp(flag, "vote=", 5) == 0) {
			if (!dirauth_url_valid(strchr(flag, '=') + 1))
				return bad(msg, msg_len, "'%s' is not a flag=http://IPv4:port URL", flag);
		} else {
			return bad(msg, msg_len, "unknown flag '%s'", flag);
		}
	}
	if (n - i < 2)
		return bad(msg, msg_len, "expected [nickname] [flags] address:dirport fingerprint");
	if (!parse_ipv4_port(tokens[i], &auth.address, &auth.dir_port))
		return bad(msg, msg_len, "'%s' is not an IPv4 address:dirport", tokens[i]);
	for (i++; i < n; i++) {
		size_t len = strlen(tokens[i]);

		if (fp_len + len > 2 * CONFIG_DIGEST_LEN)
			return bad(msg, msg_len, "the fingerprint is not 40 hex digits");
		memcpy(fingerprint + fp_len, tokens[i], len);
		fp_len += len;
	}
	fingerprint[fp_len] = '\0';
	if (!parse_hex_digest(fingerprint, auth.fingerprint))
		return bad(msg, msg_len, "the fingerprint is not 40 hex digits");
	tor->dir_authorities[tor->n_dir_authorities++] = auth;
	return 0;
}

static int
set_testing_tor_network(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_bool(value, &config->tor.testing_tor_network, msg, msg_len);
}

/* tor's memory units (src/lib/confmgt/unitparse.c): powers of two; "bits"
 * units count bits, so a KBit is 128 bytes. Compared case-insensitively. */
static const struct {
	const char *name;
	uint64_t bytes;
} memory_units[] = {
	{ "", 1 }, { "b", 1 }, { "byte", 1 }, { "bytes", 1 },
	{ "kb", 1u << 10 }, { "kbyte", 1u << 10 }, { "kbytes", 1u << 10 },
	{ "kilobyte", 1u << 10 }, { "kilobytes", 1u << 10 },
	{ "kbit", 1u << 7 }, { "kbits", 1u << 7 },
	{ "kilobit", 1u << 7 }, { "kilobits", 1u << 7 },
	{ "m", 1u << 20 }, { "mb", 1u << 20 }, { "mbyte", 1u << 20 },
	{ "mbytes", 1u << 20 }, { "megabyte", 1u << 20 }, { "megabytes", 1u << 20 },
	{ "mbit", 1u << 17 }, { "mbits", 1u << 17 },
	{ "megabit", 1u << 17 }, { "megabits", 1u << 17 },
	{ "gb", 1u << 30 }, { "gbyte", 1u << 30 }, { "gbytes", 1u << 30 },
	{ "gigabyte", 1u << 30 }, { "gigabytes", 1u << 30 },
	{ "gbit", 1u << 27 }, { "gbits", 1u << 27 },
	{ "gigabit", 1u << 27 }, { "gigabits", 1u << 27 },
	{ "tb", 1ull << 40 }, { "tbyte", 1ull << 40 }, { "tbytes", 1ull << 40 },
	{ "terabyte", 1ull << 40 }, { "terabytes", 1ull << 40 },
	{ "tbit", 1ull << 37 }, { "tbits", 1ull << 37 },
	{ "terabit", 1ull << 37 }, { "terabits", 1ull << 37 },
};

/* "N [unit]" (N may have a fraction, "1.5 MBytes") into bytes, capped as
 * tor's config_ensure_bandwidth_cap: INT32_MAX + 1 ("2 GBytes") is taken
 * as INT32_MAX, anything larger is refused. */
static int
parse_bandwidth(const char *value, uint64_t *out, char *msg, size_t msg_len)
{
	const char *s = value;
	uint64_t whole = 0;
	double fraction = 0, scale = 1;
	bool has_fraction = false;
	double bytes;

	if (!isdigit((unsigned char)*s))
		return bad(msg, msg_len, "'%s' is not a number with a unit such as "
				"75 KBytes or 10 MBits", value);
	for (; isdigit((unsigned char)*s); s++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return bad(msg, msg_len, "%s is more than %u bytes", value,
					CONFIG_BANDWIDTH_MAX);
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		has_fraction = true;
		for (s++; isdigit((unsigned char)*s); s++)
			fraction += (scale /= 10) * (*s - '0');
	}
	while (isspace((unsigned char)*s))
		s++;
	for (size_t u = 0; u < sizeof(memory_units) / sizeof(memory_units[0]); u++) {
		if (strcasecmp(s, memory_units[u].name) != 0)
			continue;
		bytes = ((double)whole + fraction) * (double)memory_units[u].bytes;
		if (bytes > (double)CONFIG_BANDWIDTH_MAX + 1 ||
				(!has_fraction && whole > ((uint64_t)CONFIG_BANDWIDTH_MAX + 1) /
					memory_units[u].bytes))
			return bad(msg, msg_len, "%s is more than %u bytes", value,
					CONFIG_BANDWIDTH_MAX);
		*out = has_fraction ? (uint64_t)bytes : whole * memory_units[u].bytes;
		if (*out > CONFIG_BANDWIDTH_MAX)
			*out = CONFIG_BANDWIDTH_MAX;
		return 0;
	}
	return bad(msg, msg_len, "unknown unit '%s' (bytes, KBytes, MBytes, GBytes, "
			"TBytes, KBits, MBits, GBits, TBits)", s);
}

static int
set_bandwidth_rate(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_bandwidth(value, &config->tor.bandwidth_rate, msg, msg_len);
}

static int
set_bandwidth_burst(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_bandwidth(value, &config->tor.bandwidth_burst, msg, msg_len);
}

/* RelayBandwidthRate and RelayBandwidthBurst: tor's MEMUNIT (default 0,
 * not set) with the same cap as BandwidthRate (options_validate_relay_bandwidth()
 * calls config_ensure_bandwidth_cap() on them). Their resolution and
 * minimums need the whole file: config_check_relay(). */
static int
set_relay_bandwidth_rate(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_bandwidth(value, &config->tor.relay_bandwidth_rate, msg, msg_len);
}

static int
set_relay_bandwidth_burst(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_bandwidth(value, &config->tor.relay_bandwidth_burst, msg, msg_len);
}

/* MaxAdvertisedBandwidth: tor's MEMUNIT (default 1 GByte), capped as
 * BandwidthRate; its relay minimum is checked by config_check_relay(). */
static int
set_max_advertised_bandwidth(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_bandwidth(value, &config->tor.max_advertised_bandwidth, msg, msg_len);
}

/* tor's BOOL. Stored as an int so that "not given" (-1, config_init())
 * stays apart from an explicit 0: config_check_relay() gives it the
 * default that depends on TestingTorNetwork, whatever the line order. */
static int
set_count_private_bandwidth(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	bool count = false;
	int rc = parse_bool(value, &count, msg, msg_len);

	if (rc == 0) {
		config->tor.count_private_bandwidth = count ? 1 : 0;
		config->tor.count_private_bandwidth_given = true;
	}
	return rc;
}

/* tor: "MetricsPort [address:]port [format]"; a port alone listens on
 * 127.0.0.1 (tor's metrics_parse_ports); 0 leaves it off. */
static int
set_metrics_port(struct config *config, const char *value, char *msg, size_t msg_len)
{
	char buf[CONFIG_LINE_MAX + 1];
	char *tokens[3];
	int n = split_tokens(value, buf, sizeof(buf), tokens, 3);
	struct config_tor *tor = &config->tor;
	const char *colon;

	if (n < 1 || n > 2)
		return bad(msg, msg_len, "expected [address:]port [prometheus]");
	if (n == 2 && strcasecmp(tokens[1], "prometheus") != 0)
		return bad(msg, msg_len, "unknown format '%s': only prometheus", tokens[1]);
	if (tokens[0][0] == '[')
		return bad(msg, msg_len, "IPv6 addresses are not supported");
	colon = strrchr(tokens[0], ':');
	if (!colon) {
		if (!parse_port(tokens[0], 0, &tor->metrics_port))
			return bad(msg, msg_len, "'%s' is not a port 0..65535", tokens[0]);
		tor->metrics_address = 0x7f000001;
		tor->has_metrics_port = tor->metrics_port != 0;
		return 0;
	}
	if (!parse_ipv4(tokens[0], (size_t)(colon - tokens[0]), &tor->metrics_address))
		return bad(msg, msg_len, "'%.*s' is not an IPv4 address",
				(int)(colon - tokens[0]), tokens[0]);
	if (!parse_port(colon + 1, 1, &tor->metrics_port))
		return bad(msg, msg_len, "'%s' is not a port 1..65535", colon + 1);
	tor->has_metrics_port = true;
	return 0;
}

/* One policy entry: "accept|reject ADDR[/BITS][:PORTS]" where ADDR is an
 * IPv4 address, "*" or "*4"; the port part is checked and, as tor does for
 * MetricsPortPolicy, ignored. */
static int
parse_policy_entry(const char *entry, struct config_policy_entry *out, char *msg,
		size_t msg_len)
{
	char buf[CONFIG_LINE_MAX + 1];
	char *tokens[3];
	int n = split_tokens(entry, buf, sizeof(buf), tokens, 3);
	char *target, *colon, *slash;
	unsigned prefix = 32;
	uint32_t addr = 0;

	if (n != 2)
		return bad(msg, msg_len, "'%s' is not 'accept|reject address[/bits]'", entry);
	if (strcasecmp(tokens[0], "accept6") == 0 || strcasecmp(tokens[0], "reject6") == 0)
		return bad(msg, msg_len, "IPv6 entries (%s) are not supported", tokens[0]);
	if (strcasecmp(tokens[0], "accept") == 0)
		out->accept = true;
	else if (strcasecmp(tokens[0], "reject") == 0)
		out->accept = false;
	else
		return bad(msg, msg_len, "'%s' is not accept or reject", tokens[0]);
	target = tokens[1];
	if (target[0] == '[' || strcmp(target, "*6") == 0 || strncmp(target, "*6:", 3) == 0)
		return bad(msg, msg_len, "IPv6 addresses are not supported");
	if (strncasecmp(target, "private", 7) == 0)
		return bad(msg, msg_len, "'private' is not supported: list the networks");
	colon = strchr(target, ':');
	if (colon) {
		char *dash = strchr(colon + 1, '-');
		uint16_t lo, hi;

		*colon = '\0';
		if (strcmp(colon + 1, "*") != 0) {
			if (dash)
				*dash = '\0';
			if (!parse_port(colon + 1, 1, &lo) ||
					(dash && (!parse_port(dash + 1, 1, &hi) || hi < lo)))
				return bad(msg, msg_len, "bad port in '%s'", entry);
		}
	}
	if (strcmp(target, "*") == 0 || strcmp(target, "*4") == 0) {
		out->network = 0;
		out->prefix_len = 0;
		return 0;
	}
	slash = strchr(target, '/');
	if (slash) {
		*slash = '\0';
		if (strchr(slash + 1, '.'))
			return bad(msg, msg_len, "only /bits masks are supported, not /%s", slash + 1);
		if (parse_uint(slash + 1, 0, 32, &prefix, msg, msg_len) < 0)
			return bad(msg, msg_len, "mask '/%s' is not 0..32", slash + 1);
	}
	if (!parse_ipv4(target, strlen(target), &addr))
		return bad(msg, msg_len, "'%s' is not an IPv4 address", target);
	out->prefix_len = (uint8_t)prefix;
	out->network = prefix ? addr & (UINT32_MAX << (32 - prefix)) : 0;
	return 0;
}

/* "policy,policy,..."; the line may repeat, entries keep their order. */
static int
set_metrics_policy(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	struct config_policy *policy = &config->tor.metrics_policy;
	char entry[CONFIG_LINE_MAX + 1];

	while (next_list_item(&value, entry)) {
		if (policy->n_entries == CONFIG_POLICY_MAX)
			return bad(msg, msg_len, "more than %d entries", CONFIG_POLICY_MAX);
		if (parse_policy_entry(entry, &policy->entries[policy->n_entries],
					msg, msg_len) < 0)
			return -EINVAL;
		policy->n_entries++;
	}
	return 0;
}

bool
config_policy_allows(const struct config_policy *policy, uint32_t address)
{
	for (unsigned i = 0; i < policy->n_entries; i++) {
		const struct config_policy_entry *e = &policy->entries[i];
		uint32_t mask = e->prefix_len ? UINT32_MAX << (32 - e->prefix_len) : 0;

		if ((address & mask) == e->network)
			return e->accept;
	}
	return false;
}

static bool
parse_severity(const char *s, size_t n, enum config_log_severity *out)
{
	static const char *const names[] = { "debug", "info", "notice", "warn", "err" };

	for (int i = 0; i < 5; i++) {
		if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0) {
			*out = (enum config_log_severity)i;
			return true;
		}
	}
	return false;
}

/* tor: "Log minSeverity[-maxSeverity] stderr|stdout|syslog" or "... file
 * FILENAME"; no destination means stdout. Logging domains ("[handshake]")
 * are not supported. */
static int
set_log(struct config *config, const char *value, char *msg, size_t msg_len)
{
	struct config_tor *tor = &config->tor;
	struct config_log log;
	size_t sev_len = strcspn(value, " \t");
	const char *dash = memchr(value, '-', sev_len);
	const char *dest = value + sev_len;

	if (tor->n_logs == CONFIG_LOGS_MAX)
		return bad(msg, msg_len, "more than %d Log lines", CONFIG_LOGS_MAX);
	if (value[0] == '[')
		return bad(msg, msg_len, "logging domains ([...]) are not supported");
	memset(&log, 0, sizeof(log));
	if (!parse_severity(value, dash ? (size_t)(dash - value) : sev_len,
				&log.min_severity) ||
			(dash && !parse_severity(dash + 1, sev_len - (size_t)(dash + 1 - value),
				&log.max_severity)))
		return bad(msg, msg_len, "'%.*s' is not a severity or range of debug, "
				"info, notice, warn, err", (int)sev_len, value);
	if (!dash)
		log.max_severity = CONFIG_LOG_ERR;
	if (log.max_severity < log.min_severity)
		return bad(msg, msg_len, "range '%.*s' is empty: put the less severe level first",
				(int)sev_len, value);
	while (isspace((unsigned char)*dest))
		dest++;
	if (*dest == '\0' || strcasecmp(dest, "stdout") == 0) {
		log.dest = CONFIG_LOG_STDOUT;
	} else if (strcasecmp(dest, "stderr") == 0) {
		log.dest = CONFIG_LOG_STDERR;
	} else if (strcasecmp(dest, "syslog") == 0) {
		log.dest = CONFIG_LOG_SYSLOG;
	} else if (strncasecmp(dest, "file", 4) == 0 && isspace((unsigned char)dest[4])) {
		const char *path = dest + 4;

		while (isspace((unsigned char)*path))
			path++;
		if (strlen(path) >= sizeof(log.path))
			return bad(msg, msg_len, "file name longer than %zu characters",
					sizeof(log.path) - 1);
		if (path[0] == '~')
			return bad(msg, msg_len, "'~' is not expanded: give an absolute path");
		log.dest = CONFIG_LOG_FILE;
		strcpy(log.path, path);
	} else if (strcasecmp(dest, "file") == 0) {
		return bad(msg, msg_len, "file needs a file name");
	} else {
		return bad(msg, msg_len, "'%s' is not stdout, stderr, syslog or file FILENAME",
				dest);
	}
	tor->logs[tor->n_logs++] = log;
	return 0;
}

static int
set_publish_server_descriptor(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	/* "v3" is what "1" means for a relay; bridge descriptors are not made. */
	if (strcasecmp(value, "v3") == 0) {
		config->tor.publish_server_descriptor = true;
		return 0;
	}
	if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
		return bad(msg, msg_len, "'%s' is not 0, 1 or v3 (hsrelay is not a bridge)",
				value);
	return parse_bool(value, &config->tor.publish_server_descriptor, msg, msg_len);
}

static int
set_assume_reachable(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	return parse_bool(value, &config->tor.assume_reachable, msg, msg_len);
}

static int
set_exit_relay(struct config *config, const char *value, char *msg, size_t msg_len)
{
	(void)config;
	if (strcmp(value, "0") != 0)
		return bad(msg, msg_len, "'%s' is not supported: hsrelay is a non-exit "
				"relay (ExitRelay 0)", value);
	return 0;
}

/* Only the reject-everything policy, in tor's spelling "reject *:*" (or
 * "reject *", the port defaulting to "*"), possibly repeated in a list. */
static int
set_exit_policy(struct config *config, const char *value, char *msg, size_t msg_len)
{
	char entry[CONFIG_LINE_MAX + 1];

	(void)config;
	while (next_list_item(&value, entry)) {
		char buf[CONFIG_LINE_MAX + 1];
		char *tokens[3];
		int n = split_tokens(entry, buf, sizeof(buf), tokens, 3);

		if (n != 2 || strcasecmp(tokens[0], "reject") != 0 ||
				(strcmp(tokens[1], "*:*") != 0 && strcmp(tokens[1], "*") != 0))
			return bad(msg, msg_len, "'%s' is not supported: hsrelay is a non-exit "
					"relay (ExitPolicy reject *:*)", entry);
	}
	return 0;
}

static int
set_max_circuits(struct config *config, const char *value, char *msg, size_t msg_len)
{
	/* dataplane/circuit.c takes at most 2^24 circuits per table. */
	return parse_uint(value, 1, 1u << 24, &config->tor.max_circuits_per_worker,
			msg, msg_len);
}

/* The number of tor's config_parse_units(): strtoull's integer, or
 * strtod's when it has a '.' or is no integer (".5", "1.5e3"), then
 * optional spaces. Returns where the unit word starts, or NULL when no
 * number within 0..UINT64_MAX is there; a NaN comes back (fractional) for
 * the caller to judge. */
static const char *
read_unit_number(const char *value, uint64_t *integer, double *fraction, bool *fractional)
{
	char *end;

	*fraction = 0;
	*fractional = false;
	errno = 0;
	*integer = strtoull(value, &end, 10);
	if (errno == ERANGE || end == value || *end == '.') {
		errno = 0;
		*fraction = strtod(value, &end);
		if (errno == ERANGE || end == value || *fraction < 0 ||
				*fraction > (double)UINT64_MAX)
			return NULL;
		*fractional = true;
	}
	while (isspace((unsigned char)*end))
		end++;
	return end;
}

/* tor's MEMUNIT (config_parse_memunit(), that is config_parse_units() with
 * memory_units): strtoull's number, or strtod's when it has a '.' or is no
 * integer (".5 GB", "1.5e3 MBytes"), then optional spaces and one of the
 * memory units above; the bytes at most INT64_MAX, tor's "Overflow while
 * parsing" (strtoull's wrap makes "-1" such an overflow and "-0" a zero, as
 * in tor). A NaN, which tor's double-to-integer cast takes as 0, is refused. */
static int
parse_memunit(const char *value, uint64_t *out, char *msg, size_t msg_len)
{
	uint64_t v;
	double d;
	bool fractional;
	const char *end = read_unit_number(value, &v, &d, &fractional);

	if (end == NULL || (fractional && isnan(d)))
		return bad(msg, msg_len, "'%s' is not a number with a unit such as "
				"512 MBytes", value);
	for (size_t u = 0; u < sizeof(memory_units) / sizeof(memory_units[0]); u++) {
		uint64_t unit = memory_units[u].bytes;

		if (strcasecmp(end, memory_units[u].name) != 0)
			continue;
		/* tor: a double from 2^63 up, or a product over INT64_MAX. */
		if (fractional ? d * (double)unit >= 0x1p63 : v > INT64_MAX / unit)
			return bad(msg, msg_len, "%s is too large", value);
		*out = fractional ? (uint64_t)(d * (double)unit) : v * unit;
		return 0;
	}
	return bad(msg, msg_len, "unknown unit '%s' (bytes, KBytes, MBytes, GBytes, TBytes)",
			end);
}

static int
set_max_hsdir_cache_bytes(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_memunit(value, &config->tor.max_hsdir_cache_bytes, msg, msg_len);
}

/* AccountingMax: tor's MEMUNIT, so unlike the bandwidth keys not capped at
 * INT32_MAX bytes ("1 TB" is a usual monthly budget). */
static int
set_accounting_max(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return parse_memunit(value, &config->tor.accounting_max, msg, msg_len);
}

/* AccountingRule: tor's options_validate_relay_accounting() compares the
 * word with strcmp(), so "MAX" is refused; tor's message, then the value. */
static int
set_accounting_rule(struct config *config, const char *value, char *msg, size_t msg_len)
{
	if (accounting_rule_parse(value, &config->tor.accounting_rule) < 0)
		return bad(msg, msg_len, "AccountingRule must be 'sum', 'max', 'in', or "
				"'out', not '%s'", value);
	return 0;
}

/* AccountingStart: tor's accounting_parse_options() via
 * accounting_start_parse(), whose message is the one tor logs before its
 * "Failed to parse accounting options. See logs for details." */
static int
set_accounting_start(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return accounting_start_parse(value, &config->tor.accounting_start, msg, msg_len);
}

/* TCPRecvBuffer, TCPSendBuffer: what one link's TCP may hold unread /
 * unacknowledged, so the most it carries per round trip (the window). */
static int
set_tcp_buffer(uint32_t *out, const char *value, char *msg, size_t msg_len)
{
	uint64_t bytes = 0;
	int rc = parse_memunit(value, &bytes, msg, msg_len);

	if (rc < 0)
		return rc;
	if (bytes < CONFIG_TCP_BUFFER_MIN || bytes > CONFIG_TCP_BUFFER_MAX)
		return bad(msg, msg_len, "%s is not within 16 KBytes .. 64 MBytes", value);
	*out = (uint32_t)bytes;
	return 0;
}

static int
set_tcp_recv_buffer(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return set_tcp_buffer(&config->dpdk.tcp_recv_buffer, value, msg, msg_len);
}

static int
set_tcp_send_buffer(struct config *config, const char *value, char *msg, size_t msg_len)
{
	return set_tcp_buffer(&config->dpdk.tcp_send_buffer, value, msg, msg_len);
}

static int
set_max_links(struct config *config, const char *value, char *msg, size_t msg_len)
{
	/* dataplane/relay_worker.h: link ids fit 16 bits. */
	return parse_uint(value, 1, 65535, &config->tor.max_links_per_worker, msg, msg_len);
}

/* tor's AUTOBOOL: "0", "1" or "auto" (any case), auto as -1. */
static int
set_autobool(int *out, const char *value, char *msg, size_t msg_len)
{
	if (strcasecmp(value, "auto") == 0)
		*out = -1;
	else if (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)
		*out = value[0] - '0';
	else
		return bad(msg, msg_len, "'%s' is not 0, 1 or auto", value);
	return 0;
}

/* tor's INT and POSINT (tor_parse_long(value, 10, min, max)): strtol's
 * syntax, the whole value, within [min, max]. */
static int
set_long(long *out, const char *value, long min, long max, char *msg, size_t msg_len)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno == ERANGE || end == value || *end != '\0' || v < min || v > max)
		return bad(msg, msg_len, "integer %s is malformed or out of bounds %ld..%ld",
				value, min, max);
	*out = v;
	return 0;
}

static int
set_posint(uint32_t *out, const char *value, char *msg, size_t msg_len)
{
	long v = 0;
	int rc = set_long(&v, value, 0, INT_MAX, msg, msg_len);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int
set_int(int32_t *out, const char *value, char *msg, size_t msg_len)
{
	long v = 0;
	int rc = set_long(&v, value, INT_MIN, INT_MAX, msg, msg_len);

	if (rc == 0)
		*out = (int32_t)v;
	return rc;
}

/* A unit of a time interval and how many of the interval's base unit it
 * holds (tor's unit_table_t). */
struct time_unit {
	const char *name;
	uint64_t multiplier;
};

/* A unit table and the names the unknown-unit error lists. */
struct time_unit_table {
	const struct time_unit *units;
	size_t n_units;
	const char *names;
};

/* tor's time_units (src/lib/confmgt/unitparse.c): INTERVAL, in seconds. */
static const struct time_unit time_second_units[] = {
	{ "", 1 }, { "second", 1 }, { "seconds", 1 }, { "minute", 60 },
	{ "minutes", 60 }, { "hour", 3600 }, { "hours", 3600 }, { "day", 86400 },
	{ "days", 86400 }, { "week", 604800 }, { "weeks", 604800 },
	{ "month", 2629728 }, { "months", 2629728 },
};

static const struct time_unit_table time_seconds = {
	time_second_units, sizeof(time_second_units) / sizeof(time_second_units[0]),
	"seconds, minutes, hours, days, weeks, months",
};

/* tor's time_msec_units (src/lib/confmgt/unitparse.c): MSEC_INTERVAL, in
 * milliseconds; a bare number is milliseconds, and there are no months. */
static const struct time_unit time_msec_units[] = {
	{ "", 1 }, { "msec", 1 }, { "millisecond", 1 }, { "milliseconds", 1 },
	{ "second", 1000 }, { "seconds", 1000 }, { "minute", 60000 },
	{ "minutes", 60000 }, { "hour", 3600000 }, { "hours", 3600000 },
	{ "day", 86400000 }, { "days", 86400000 }, { "week", 604800000 },
	{ "weeks", 604800000 },
};

static const struct time_unit_table time_milliseconds = {
	time_msec_units, sizeof(time_msec_units) / sizeof(time_msec_units[0]),
	"msec, seconds, minutes, hours, days, weeks",
};

/* tor's config_parse_units() with a time unit table, capped at INT_MAX as
 * config_parse_interval() and config_parse_msec_interval() do: a number,
 * fractional when it has a '.', then optional spaces and a unit compared
 * case-insensitively. */
static int
parse_time_interval(const struct time_unit_table *table, int32_t *out,
		const char *value, char *msg, size_t msg_len)
{
	uint64_t v;
	double d;
	bool fractional;
	const char *end = read_unit_number(value, &v, &d, &fractional);

	if (end == NULL)
		return bad(msg, msg_len, "unable to parse %s as a number", value);
	for (size_t u = 0; u < table->n_units; u++) {
		uint64_t multiplier = table->units[u].multiplier;

		if (strcasecmp(end, table->units[u].name) != 0)
			continue;
		if (fractional)
			d *= (double)multiplier;
		else if (v > INT64_MAX / multiplier)
			return bad(msg, msg_len, "overflow while parsing %s", value);
		if (fractional ? d > (double)INT_MAX : v * multiplier > INT_MAX)
			return bad(msg, msg_len, "%s is too large", value);
		*out = fractional ? (int32_t)d : (int32_t)(v * multiplier);
		return 0;
	}
	return bad(msg, msg_len, "unknown unit in %s (%s)", value, table->names);
}

/* tor's INTERVAL: at most INT_MAX seconds. */
static int
set_interval(int32_t *out, const char *value, char *msg, size_t msg_len)
{
	return parse_time_interval(&time_seconds, out, value, msg, msg_len);
}

/* tor's MSEC_INTERVAL, then the range options_validate_cb() (tor's
 * src/app/config/config.c) enforces: "TokenBucketRefillInterval must be
 * between 1 and 1000 inclusive." Checked here, where the line is known. */
static int
set_token_bucket_refill_interval(struct config *config, const char *value, char *msg,
		size_t msg_len)
{
	int32_t interval_ms = 0;
	int rc = parse_time_interval(&time_milliseconds, &interval_ms, value, msg, msg_len);

	if (rc < 0)
		return rc;
	if (interval_ms < 1 || interval_ms > 1000)
		return bad(msg, msg_len, "%s is %ld msec: must be between 1 and 1000 inclusive",
				value, (long)interval_ms);
	config->tor.token_bucket_refill_interval_ms = (uint32_t)interval_ms;
	return 0;
}

#define DOS_KEY_SETTER(fn, parse, field)						\
	static int									\
	fn(struct config *config, const char *value, char *msg, size_t msg_len)	\
	{										\
		return parse(&config->tor.dos.field, value, msg, msg_len);		\
	}
DOS_KEY_SETTER(set_dos_cc_enabled, set_autobool, circuit_creation_enabled)
DOS_KEY_SETTER(set_dos_cc_min_connections, set_posint, circuit_creation_min_connections)
DOS_KEY_SETTER(set_dos_cc_rate, set_posint, circuit_creation_rate)
DOS_KEY_SETTER(set_dos_cc_burst, set_posint, circuit_creation_burst)
DOS_KEY_SETTER(set_dos_cc_defense_type, set_int, circuit_creation_defense_type)
DOS_KEY_SETTER(set_dos_cc_defense_time_period, set_interval,
		circuit_creation_defense_time_period)
DOS_KEY_SETTER(set_dos_conn_enabled, set_autobool, connection_enabled)
DOS_KEY_SETTER(set_dos_conn_max_concurrent, set_posint, connection_max_concurrent_count)
DOS_KEY_SETTER(set_dos_conn_defense_type, set_int, connection_defense_type)
DOS_KEY_SETTER(set_dos_conn_connect_rate, set_posint, connection_connect_rate)
DOS_KEY_SETTER(set_dos_conn_connect_burst, set_posint, connection_connect_burst)
DOS_KEY_SETTER(set_dos_conn_connect_defense_time_period, set_interval,
		connection_connect_defense_time_period)

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
	{ "DPDKChecksumOffload", false, set_checksum_offload },
	{ "DPDKCapture", false, set_capture },
	{ "DPDKCapturePackets", false, set_capture_packets },
	{ "Address", false, set_address },
	{ "DPDKGateway", false, set_gateway },
	{ "TCPCongestionControl", false, set_tcp_congestion },
	{ "TCPRecvBuffer", false, set_tcp_recv_buffer },
	{ "TCPSendBuffer", false, set_tcp_send_buffer },
	{ "NetcheckTcpEchoPort", false, set_netcheck_echo_port },
	{ "NetcheckConnect", false, set_netcheck_connect },
	{ "NetcheckConnectBytes", false, set_netcheck_connect_bytes },
	{ "NetcheckConnections", false, set_netcheck_connections },
	{ "Nickname", false, set_nickname },
	{ "ORPort", false, set_or_port },
	{ "DataDirectory", false, set_data_directory },
	{ "ContactInfo", false, set_contact_info },
	{ "MyFamily", true, set_my_family },
	{ "FamilyId", true, set_family_id },
	{ "FamilyKeyDirectory", false, set_family_key_directory },
	{ "DirAuthority", true, set_dir_authority },
	{ "TestingTorNetwork", false, set_testing_tor_network },
	{ "BandwidthRate", false, set_bandwidth_rate },
	{ "BandwidthBurst", false, set_bandwidth_burst },
	{ "RelayBandwidthRate", false, set_relay_bandwidth_rate },
	{ "RelayBandwidthBurst", false, set_relay_bandwidth_burst },
	{ "MaxAdvertisedBandwidth", false, set_max_advertised_bandwidth },
	{ "CountPrivateBandwidth", false, set_count_private_bandwidth },
	{ "TokenBucketRefillInterval", false, set_token_bucket_refill_interval },
	{ "MetricsPort", false, set_metrics_port },
	{ "MetricsPortPolicy", true, set_metrics_policy },
	{ "Log", true, set_log },
	{ "PublishServerDescriptor", false, set_publish_server_descriptor },
	{ "AssumeReachable", false, set_assume_reachable },
	{ "ExitRelay", false, set_exit_relay },
	{ "ExitPolicy", true, set_exit_policy },
	{ "MaxCircuitsPerWorker", false, set_max_circuits },
	{ "MaxLinksPerWorker", false, set_max_links },
	{ "MaxHSDirCacheBytes", false, set_max_hsdir_cache_bytes },
	{ "AccountingMax", false, set_accounting_max },
	{ "AccountingRule", false, set_accounting_rule },
	{ "AccountingStart", false, set_accounting_start },
	{ "DoSCircuitCreationEnabled", false, set_dos_cc_enabled },
	{ "DoSCircuitCreationMinConnections", false, set_dos_cc_min_connections },
	{ "DoSCircuitCreationRate", false, set_dos_cc_rate },
	{ "DoSCircuitCreationBurst", false, set_dos_cc_burst },
	{ "DoSCircuitCreationDefenseType", false, set_dos_cc_defense_type },
	{ "DoSCircuitCreationDefenseTimePeriod", false, set_dos_cc_defense_time_period },
	{ "DoSConnectionEnabled", false, set_dos_conn_enabled },
	{ "DoSConnectionMaxConcurrentCount", false, set_dos_conn_max_concurrent },
	{ "DoSConnectionDefenseType", false, set_dos_conn_defense_type },
	{ "DoSConnectionConnectRate", false, set_dos_conn_connect_rate },
	{ "DoSConnectionConnectBurst", false, set_dos_conn_connect_burst },
	{ "DoSConnectionConnectDefenseTimePeriod", false,
	  set_dos_conn_connect_defense_time_period },
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
	config->dpdk.tcp_congestion = CONFIG_TCP_CUBIC;
	config->dpdk.tcp_recv_buffer = CONFIG_TCP_BUFFER_DEFAULT;
	config->dpdk.tcp_send_buffer = CONFIG_TCP_BUFFER_DEFAULT;
	config->dpdk.checksum_offload = true;
	config->dpdk.capture_packets = 1000000;
	config->netcheck.connect_bytes = 1u << 20;
	config->netcheck.connections = 1;
	config->tor.bandwidth_rate = 1u << 30;
	config->tor.bandwidth_burst = 1u << 30;
	config->tor.max_advertised_bandwidth = 1u << 30;
	config->tor.count_private_bandwidth = -1;
	config->tor.token_bucket_refill_interval_ms = 100;
	config->tor.publish_server_descriptor = true;
	config->tor.max_circuits_per_worker = 65536;
	config->tor.max_links_per_worker = 4096;
	config->tor.accounting_rule = ACCOUNTING_RULE_MAX;
	config->tor.accounting_start = ACCOUNTING_START_DEFAULT;
	config->tor.dos.circuit_creation_enabled = -1;
	config->tor.dos.connection_enabled = -1;
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
	/* The cross-key checks made after parsing name these lines. */
	if (key->set == set_gateway)
		config->dpdk.gateway_line = line_no;
	else if (key->set == set_relay_bandwidth_rate)
		config->tor.relay_bandwidth_rate_line = line_no;
	else if (key->set == set_relay_bandwidth_burst)
		config->tor.relay_bandwidth_burst_line = line_no;
	else if (key->set == set_max_advertised_bandwidth)
		config->tor.max_advertised_bandwidth_line = line_no;
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
	if (config->dpdk.gateway != 0) {
		uint32_t mask = ~0u << (32 - config->dpdk.prefix_len);
		uint32_t g = config->dpdk.gateway;
		char msg[sizeof(err->message)];

		if ((g & mask) != (config->dpdk.address & mask) || g == config->dpdk.address) {
			snprintf(msg, sizeof(msg), "%u.%u.%u.%u is not another host on Address's "
					"subnet /%u", g >> 24, (g >> 16) & 0xff, (g >> 8) & 0xff,
					g & 0xff, config->dpdk.prefix_len);
			error_set(err, name, config->dpdk.gateway_line, "DPDKGateway", 11, msg);
			return -EINVAL;
		}
	}
	return 0;
}

/* tor's options_validate_relay_bandwidth() (src/feature/relay/relay_config.c)
 * for a public relay (server_mode() and public_server_mode(): hsrelay is
 * never a bridge or a client), after BandwidthRate's minimum, in tor's
 * order:
 * - a RelayBandwidthRate given alone is the burst too, and a lone
 *   RelayBandwidthBurst the rate too (tor bug 2470: a burst without a
 *   rate used to be ignored);
 * - MaxAdvertisedBandwidth at least RELAY_REQUIRED_MIN_BANDWIDTH / 2;
 * - RelayBandwidthRate, when set, at least RELAY_REQUIRED_MIN_BANDWIDTH;
 * - "RelayBandwidthBurst must be at least equal to RelayBandwidthRate.";
 * - BandwidthRate and BandwidthBurst raised to RelayBandwidthRate and
 *   RelayBandwidthBurst when lower, before the caller's "BandwidthBurst
 *   must be at least equal to BandwidthRate." (options_validate_cb()).
 * The errors carry tor's text and name the line of the key that gave the
 * value (a copied rate names RelayBandwidthBurst's line). The resolution
 * is idempotent, so a configuration may be checked twice. */
static int
check_relay_bandwidth(struct config_tor *tor, const char *name, struct config_error *err)
{
	char msg[sizeof(err->message)];
	unsigned rate_line = tor->relay_bandwidth_rate_line;

	if (tor->relay_bandwidth_rate != 0 && tor->relay_bandwidth_burst == 0)
		tor->relay_bandwidth_burst = tor->relay_bandwidth_rate;
	if (tor->relay_bandwidth_burst != 0 && tor->relay_bandwidth_rate == 0) {
		tor->relay_bandwidth_rate = tor->relay_bandwidth_burst;
		rate_line = tor->relay_bandwidth_burst_line;
	}
	if (tor->max_advertised_bandwidth < CONFIG_MAX_ADVERTISED_BANDWIDTH_MIN) {
		snprintf(msg, sizeof(msg), "is set to %llu bytes/second. For servers, it must "
				"be at least %u.", (unsigned long long)tor->max_advertised_bandwidth,
				CONFIG_MAX_ADVERTISED_BANDWIDTH_MIN);
		error_set(err, name, tor->max_advertised_bandwidth_line,
				"MaxAdvertisedBandwidth", 22, msg);
		return -EINVAL;
	}
	if (tor->relay_bandwidth_rate != 0 &&
			tor->relay_bandwidth_rate < CONFIG_RELAY_BANDWIDTH_MIN) {
		snprintf(msg, sizeof(msg), "is set to %llu bytes/second. For servers, it must "
				"be at least %u.", (unsigned long long)tor->relay_bandwidth_rate,
				CONFIG_RELAY_BANDWIDTH_MIN);
		error_set(err, name, rate_line, "RelayBandwidthRate", 18, msg);
		return -EINVAL;
	}
	if (tor->relay_bandwidth_rate > tor->relay_bandwidth_burst) {
		error_set(err, name, tor->relay_bandwidth_burst_line, "RelayBandwidthBurst", 19,
				"must be at least equal to RelayBandwidthRate.");
		return -EINVAL;
	}
	if (tor->relay_bandwidth_rate > tor->bandwidth_rate)
		tor->bandwidth_rate = tor->relay_bandwidth_rate;
	if (tor->relay_bandwidth_burst > tor->bandwidth_burst)
		tor->bandwidth_burst = tor->relay_bandwidth_burst;
	return 0;
}

void
config_effective_bandwidth(const struct config_tor *tor, uint64_t *rate, uint64_t *burst)
{
	uint64_t r = tor->bandwidth_rate, b = tor->bandwidth_burst;

	/* tor's relay_get_effective_bwrate() */
	if (r > tor->max_advertised_bandwidth)
		r = tor->max_advertised_bandwidth;
	if (tor->relay_bandwidth_rate > 0 && r > tor->relay_bandwidth_rate)
		r = tor->relay_bandwidth_rate;
	/* tor's relay_get_effective_bwburst() */
	if (tor->relay_bandwidth_burst > 0 && b > tor->relay_bandwidth_burst)
		b = tor->relay_bandwidth_burst;
	*rate = r;
	*burst = b;
}

int
config_check_relay(struct config *config, const char *name,
		struct config_error *err)
{
	struct config_tor *tor = &config->tor;
	char msg[sizeof(err->message)];
	bool has_v3_authority = false;
	int rc;

	rc = config_check_dataplane(config, name, err);
	if (rc < 0)
		return rc;
	if (tor->nickname[0] == '\0') {
		error_set(err, name, 0, "Nickname", 8, "required: the relay's nickname");
		return -EINVAL;
	}
	if (!tor->has_or_port) {
		error_set(err, name, 0, "ORPort", 6, "required: the port relays and clients connect to");
		return -EINVAL;
	}
	if (tor->data_directory[0] == '\0') {
		error_set(err, name, 0, "DataDirectory", 13,
				"required: where the relay keeps its keys and state");
		return -EINVAL;
	}
	/* The dataplane accepts on Address only; an ORPort address is a
	 * restatement of it (or tor's 0.0.0.0 "every address"). */
	if (tor->or_port_has_address && tor->or_address != 0 &&
			tor->or_address != config->dpdk.address) {
		uint32_t a = tor->or_address, d = config->dpdk.address;

		snprintf(msg, sizeof(msg), "address %u.%u.%u.%u is not the dataplane's "
				"Address %u.%u.%u.%u: give the port alone", a >> 24, (a >> 16) & 0xff,
				(a >> 8) & 0xff, a & 0xff, d >> 24, (d >> 16) & 0xff,
				(d >> 8) & 0xff, d & 0xff);
		error_set(err, name, 0, "ORPort", 6, msg);
		return -EINVAL;
	}
	for (unsigned i = 0; i < tor->n_dir_authorities; i++)
		if (tor->dir_authorities[i].has_v3ident && !tor->dir_authorities[i].is_bridge)
			has_v3_authority = true;
	if (!has_v3_authority) {
		error_set(err, name, 0, "DirAuthority", 12, tor->n_dir_authorities == 0 ?
				"required: hsrelay has no built-in list of directory authorities" :
				"required: at least one with v3ident= (relays upload descriptors "
				"to v3 authorities only)");
		return -EINVAL;
	}
	if (tor->bandwidth_rate < CONFIG_RELAY_BANDWIDTH_MIN) {
		snprintf(msg, sizeof(msg), "%llu bytes/s is below the %u a relay needs",
				(unsigned long long)tor->bandwidth_rate, CONFIG_RELAY_BANDWIDTH_MIN);
		error_set(err, name, 0, "BandwidthRate", 13, msg);
		return -EINVAL;
	}
	rc = check_relay_bandwidth(tor, name, err);
	if (rc < 0)
		return rc;
	if (tor->bandwidth_burst < tor->bandwidth_rate) {
		error_set(err, name, 0, "BandwidthBurst", 14, "must be at least BandwidthRate");
		return -EINVAL;
	}
	/* tor's testnet.inc sets CountPrivateBandwidth's default to 1 under
	 * TestingTorNetwork (a test network's relays all have private
	 * addresses); an explicit 0 or 1 stays. */
	if (tor->count_private_bandwidth < 0)
		tor->count_private_bandwidth = tor->testing_tor_network ? 1 : 0;
	if (tor->has_metrics_port && tor->metrics_policy.n_entries == 0) {
		error_set(err, name, 0, "MetricsPortPolicy", 17,
				"required with MetricsPort (without it every request is refused)");
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
