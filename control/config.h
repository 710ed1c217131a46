/* The hsrelay configuration file: torrc syntax (tor's manual, "THE
 * CONFIGURATION FILE FORMAT"), read by the control thread at start-up.
 *
 * Syntax: one "Key value" per line; keys are case-insensitive; the value is
 * the rest of the line with surrounding whitespace removed; '#' starts a
 * comment that runs to the end of the line; blank lines are ignored. Line
 * continuations and quoted values are not used by any key here and are
 * rejected rather than misread.
 *
 * Every problem is reported in a struct config_error that names the file,
 * the 1-based line and the key, so that an operator can fix it without
 * reading the source. Keys belong to subsystems: each subsystem has its own
 * struct inside struct config and its own rows in the key table of
 * config.c, so the Tor keys extend this reader without touching the DPDK
 * ones.
 */
#ifndef HSRELAY_CONTROL_CONFIG_H
#define HSRELAY_CONTROL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest accepted line, including the key, excluding the newline. */
#define CONFIG_LINE_MAX 1024
/* Ports the dataplane can drive (one DPDKPort line each). */
#define CONFIG_PORTS_MAX 4
/* Longest DPDKPort value (a vdev string with its arguments). */
#define CONFIG_PORT_SPEC_MAX 256
/* Longest DPDKLcores value (an EAL -l core list). */
#define CONFIG_LCORES_MAX 128
/* Most worker queues per port (net_tap and net_af_packet stop at 16). */
#define CONFIG_WORKER_QUEUES_MAX 16

/* DPDKHugepages: whether EAL runs on hugepages (--in-memory) or on plain
 * memory (--no-huge); auto picks hugepages when enough 2 MB pages are
 * free (dataplane/eal.h). */
enum config_hugepages {
	CONFIG_HUGEPAGES_AUTO = 0,
	CONFIG_HUGEPAGES_ON,
	CONFIG_HUGEPAGES_OFF,
};

/* One DPDKPort line: a PCI device in deployment (given to EAL with -a) or
 * a virtual device string for tests (given with --vdev). */
struct config_port {
	bool is_pci;
	/* PCI: normalised to "DDDD:BB:DD.F" (lower-case hex). vdev: as written,
	 * "<driver><n>[,key=value...]". */
	char spec[CONFIG_PORT_SPEC_MAX];
};

/* The dataplane's keys. Defaults are set by config_init(). */
struct config_dpdk {
	char lcores[CONFIG_LCORES_MAX];      /* DPDKLcores, default "0" */
	unsigned n_ports;                    /* DPDKPort lines seen */
	struct config_port ports[CONFIG_PORTS_MAX];
	unsigned worker_queues;              /* DPDKWorkerQueues, 1..16, default 1 */
	enum config_hugepages hugepages;     /* DPDKHugepages, default auto */
	unsigned memory_mb;                  /* DPDKMemoryMB, default 256 */
	unsigned mbufs_per_worker;           /* DPDKMbufsPerWorker, default 4095 */
	unsigned idle_polls;                 /* DPDKIdlePolls, default 64 */
	unsigned idle_sleep_usec;            /* DPDKIdleSleepUsec, 0 = busy poll, default 50 */
	bool has_mac;                        /* DPDKMac given */
	uint8_t mac[6];                      /* DPDKMac, else the port's MAC */
	bool has_address;                    /* Address given */
	uint32_t address;                    /* Address, host byte order */
	uint8_t prefix_len;                  /* Address prefix, 1..32 */
	unsigned arp_timeout_sec;            /* DPDKArpTimeout, default 60 */
};

/* hsrelay-netcheck's TCP checks (dataplane/netcheck_main.c). Defaults
 * are set by config_init(). */
struct config_netcheck {
	uint16_t tcp_echo_port;              /* NetcheckTcpEchoPort, 0 = no echo service */
	bool has_connect;                    /* NetcheckConnect given */
	uint32_t connect_address;            /* NetcheckConnect address, host order */
	uint16_t connect_port;               /* NetcheckConnect port */
	unsigned connect_bytes;              /* NetcheckConnectBytes, default 1 MiB */
	unsigned connections;                /* NetcheckConnections, 1..1024, default 1 */
};

struct config {
	struct config_dpdk dpdk;
	struct config_netcheck netcheck;
};

/* What went wrong and where. line is 0 for a problem with the whole file
 * (it cannot be read, or a required key is missing); key is empty when
 * the line has no key (a malformed line). */
struct config_error {
	char file[128];
	unsigned line;
	char key[64];
	char message[160];
};

/* Sets every key to its default. */
void config_init(struct config *config);

/* Parses text[0..len) as the contents of a file called name (used only in
 * errors) on top of the values already in config. Returns 0, or -EINVAL
 * with *err filled in at the first bad line; config is then partly
 * updated and must not be used. */
int config_parse_text(struct config *config, const char *text, size_t len,
		const char *name, struct config_error *err);

/* Reads and parses the file at path. Returns 0, -EINVAL as
 * config_parse_text(), or a negative errno from opening or reading it
 * (with *err naming the file, line 0). */
int config_parse_file(struct config *config, const char *path,
		struct config_error *err);

/* Checks what the dataplane needs after parsing: at least one DPDKPort
 * and an Address. Returns 0 or -EINVAL with *err naming the missing key
 * (line 0). */
int config_check_dataplane(const struct config *config, const char *name,
		struct config_error *err);

/* Writes "file:line: Key: message" (or "file: Key: message" for line 0)
 * into out; returns what snprintf returns. */
int config_error_format(const struct config_error *err, char *out,
		size_t out_len);

#endif
