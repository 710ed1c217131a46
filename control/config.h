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

#include "control/accounting.h"
#include "control/relay_family.h"

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

/* TCPRecvBuffer and TCPSendBuffer: per link, the receive window's and the
 * send queue's bound. A link carries at most one of them per round trip
 * (256 KBytes at 100 ms is 21 Mbit/s); every byte held is in the worker's
 * mbuf pool (DPDKMbufsPerWorker, 2 KB each). */
#define CONFIG_TCP_BUFFER_DEFAULT (256u << 10)
#define CONFIG_TCP_BUFFER_MIN (16u << 10)
#define CONFIG_TCP_BUFFER_MAX (64u << 20)

/* TCPCongestionControl: the dataplane TCP's congestion control on every
 * link (dataplane/tcp.h enum tcp_congestion_control). */
enum config_tcp_congestion {
	CONFIG_TCP_CUBIC = 0,
	CONFIG_TCP_NEWRENO,
};

/* One DPDKPort line: a PCI device in deployment (given to EAL with -a) or
 * a virtual device string for tests (given with --vdev). */
struct config_port {
	bool is_pci;
	/* PCI: normalised to "DDDD:BB:DD.F" (lower-case hex). vdev: as written,
	 * "<driver><n>[,key=value...]". */
	char spec[CONFIG_PORT_SPEC_MAX];
};

/* Longest path a key takes (DataDirectory, Log file, DPDKCapture). */
#define CONFIG_PATH_MAX 256

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
	uint32_t gateway;                    /* DPDKGateway, host order; 0: none */
	unsigned gateway_line;               /* its line, for config_check_dataplane() */
	enum config_tcp_congestion tcp_congestion; /* TCPCongestionControl, default cubic */
	uint32_t tcp_recv_buffer;            /* TCPRecvBuffer, bytes, default 256 KBytes */
	uint32_t tcp_send_buffer;            /* TCPSendBuffer, bytes, default 256 KBytes */
	bool checksum_offload;               /* DPDKChecksumOffload, default 1 */
	/* DPDKCapture: a pcapng file of every frame the port received and
	 * sent (dataplane/capture.h), "" = none; DPDKCapturePackets: frames
	 * written at most, default 1000000, 0 = no limit */
	char capture_path[CONFIG_PATH_MAX];
	uint64_t capture_packets;
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

/* The Tor relay's keys, written and validated as tor 0.4.9 does (tor's
 * manual and src/app/config/config.c) for the subset hsrelay implements;
 * anything tor accepts but hsrelay cannot honour is refused with a message
 * saying so instead of being ignored. Defaults are set by config_init(). */

/* Nicknames: 1 to 19 characters [A-Za-z0-9] (tor's MAX_NICKNAME_LEN). */
#define CONFIG_NICKNAME_MAX 19
/* Longest ContactInfo. */
#define CONFIG_CONTACT_MAX 256
/* DirAuthority lines kept (a test network has 3, the public one 9). */
#define CONFIG_DIR_AUTHORITIES_MAX 16
/* MetricsPortPolicy entries kept over all lines. */
#define CONFIG_POLICY_MAX 32
/* Log lines kept. */
#define CONFIG_LOGS_MAX 8
/* SHA-1 digests: RSA identity fingerprints and v3 authority identities. */
#define CONFIG_DIGEST_LEN 20
/* tor's ROUTER_MAX_DECLARED_BANDWIDTH (INT32_MAX bytes/s) and, for a
 * public relay, RELAY_REQUIRED_MIN_BANDWIDTH (75 KBytes/s). */
#define CONFIG_BANDWIDTH_MAX 2147483647u
#define CONFIG_RELAY_BANDWIDTH_MIN (75u * 1024u)
/* tor's options_validate_relay_bandwidth(): a relay's MaxAdvertisedBandwidth
 * is at least half of RELAY_REQUIRED_MIN_BANDWIDTH. */
#define CONFIG_MAX_ADVERTISED_BANDWIDTH_MIN (CONFIG_RELAY_BANDWIDTH_MIN / 2)

/* One DirAuthority line: "[nickname] [flags] address:dirport fingerprint"
 * (tor's parse_dir_authority_line). */
struct config_dir_authority {
	char nickname[CONFIG_NICKNAME_MAX + 1];	/* "" when not given */
	uint32_t address;			/* DirPort address, host order */
	uint16_t dir_port;
	uint16_t or_port;			/* orport=, 0 when not given */
	bool has_v3ident;			/* v3ident= given: a v3 authority */
	uint8_t v3ident[CONFIG_DIGEST_LEN];	/* SHA-1 of the authority identity key */
	uint8_t fingerprint[CONFIG_DIGEST_LEN];	/* SHA-1 of the relay RSA identity */
	bool is_bridge;				/* bridge: a bridge authority */
	double weight;				/* weight=, default 1.0 */
};

/* Log severities, least severe first (tor's debug..err). */
enum config_log_severity {
	CONFIG_LOG_DEBUG = 0,
	CONFIG_LOG_INFO,
	CONFIG_LOG_NOTICE,
	CONFIG_LOG_WARN,
	CONFIG_LOG_ERR,
};

enum config_log_dest {
	CONFIG_LOG_STDOUT = 0,
	CONFIG_LOG_STDERR,
	CONFIG_LOG_SYSLOG,
	CONFIG_LOG_FILE,
};

/* One Log line: "minSeverity[-maxSeverity] [stdout|stderr|syslog|file PATH]".
 * Messages with min_severity <= severity <= max_severity are written. */
struct config_log {
	enum config_log_severity min_severity;
	enum config_log_severity max_severity;
	enum config_log_dest dest;
	char path[CONFIG_PATH_MAX];		/* CONFIG_LOG_FILE only */
};

/* An address policy (MetricsPortPolicy): the first entry whose network
 * contains the address decides; no match rejects (tor: "a reject all by
 * default policy"). IPv4 only. */
struct config_policy_entry {
	bool accept;
	uint32_t network;			/* host order, host bits cleared */
	uint8_t prefix_len;			/* 0..32; 0 with network 0 is "*" */
};

struct config_policy {
	unsigned n_entries;
	struct config_policy_entry entries[CONFIG_POLICY_MAX];
};

/* The DoS keys of tor's dos_options.inc (tor's manual, "DENIAL OF
 * SERVICE MITIGATION OPTIONS"; control/dos_guard.h, docs/dos.md), kept as
 * written, with tor's types: the Enabled keys are 0, 1 or auto (-1, the
 * default: the consensus decides); the others are 0 by default, "use the
 * consensus". POSINT keys take 0..2147483647, the DefenseType keys any
 * int (tor does not clamp them: only 2 defends), the TimePeriod keys an
 * interval (N [seconds|minutes|hours|days|weeks|months]) up to
 * 2147483647 seconds. */
struct config_dos {
	int circuit_creation_enabled;		/* DoSCircuitCreationEnabled */
	uint32_t circuit_creation_min_connections;	/* DoSCircuitCreationMinConnections */
	uint32_t circuit_creation_rate;		/* DoSCircuitCreationRate */
	uint32_t circuit_creation_burst;	/* DoSCircuitCreationBurst */
	int32_t circuit_creation_defense_type;	/* DoSCircuitCreationDefenseType */
	int32_t circuit_creation_defense_time_period;	/* ...DefenseTimePeriod, seconds */
	int connection_enabled;			/* DoSConnectionEnabled */
	uint32_t connection_max_concurrent_count;	/* DoSConnectionMaxConcurrentCount */
	int32_t connection_defense_type;	/* DoSConnectionDefenseType */
	uint32_t connection_connect_rate;	/* DoSConnectionConnectRate */
	uint32_t connection_connect_burst;	/* DoSConnectionConnectBurst */
	int32_t connection_connect_defense_time_period;	/* ...ConnectDefenseTimePeriod, s */
};

struct config_tor {
	char nickname[CONFIG_NICKNAME_MAX + 1];	/* Nickname, "" = not given */
	/* ORPort: "PORT" or "ADDR:PORT" [IPv4Only]. hsrelay accepts on the
	 * dataplane's Address (struct config_dpdk): an ORPort address, if
	 * given, must be that address or 0.0.0.0 (config_check_relay()). */
	bool has_or_port;
	bool or_port_has_address;
	uint32_t or_address;			/* host order, when given */
	uint16_t or_port;
	char data_directory[CONFIG_PATH_MAX];	/* DataDirectory, "" = not given */
	char contact_info[CONFIG_CONTACT_MAX];	/* ContactInfo, "" = not given */
	/* MyFamily items in file order, each normalized as tor does
	 * (control/relay_family.h): a nickname or "$" + 40 hex digits with an
	 * optional "=NICK" / "~NICK". */
	unsigned n_family;
	char family[RELAY_FAMILY_MAX][RELAY_FAMILY_ITEM_MAX + 1];
	/* FamilyId lines (tor 0.4.9): the family keys' public keys, and "*"
	 * (every key found); FamilyKeyDirectory, "" = DataDirectory/keys. */
	unsigned n_family_ids;
	uint8_t family_ids[RELAY_FAMILY_IDS_MAX][RELAY_FAMILY_ID_LEN];
	bool family_id_all;
	char family_key_directory[CONFIG_PATH_MAX];
	unsigned n_dir_authorities;
	struct config_dir_authority dir_authorities[CONFIG_DIR_AUTHORITIES_MAX];
	bool testing_tor_network;		/* TestingTorNetwork, default 0 */
	uint64_t bandwidth_rate;		/* BandwidthRate, bytes/s, default 1 GByte */
	uint64_t bandwidth_burst;		/* BandwidthBurst, bytes, default 1 GByte */
	/* RelayBandwidthRate and RelayBandwidthBurst (tor's MEMUNIT, default
	 * 0 = not set): a separate limit for relayed traffic, on OR links.
	 * config_check_relay() resolves them as tor's
	 * options_validate_relay_bandwidth() does: either one given alone is
	 * copied into the other, so after a successful check both are 0 or
	 * both are set, with burst >= rate; and BandwidthRate/BandwidthBurst
	 * are raised to them when lower. */
	uint64_t relay_bandwidth_rate;
	uint64_t relay_bandwidth_burst;
	/* MaxAdvertisedBandwidth (tor's MEMUNIT, default 1 GByte): a cap on the
	 * rate the descriptor advertises, never on traffic; at least
	 * CONFIG_MAX_ADVERTISED_BANDWIDTH_MIN for a relay. */
	uint64_t max_advertised_bandwidth;
	/* The lines of the three keys above (0: not given), so that
	 * config_check_relay()'s cross-key errors name them. */
	unsigned relay_bandwidth_rate_line;
	unsigned relay_bandwidth_burst_line;
	unsigned max_advertised_bandwidth_line;
	/* CountPrivateBandwidth (tor's BOOL, default 0; 1 under
	 * TestingTorNetwork, tor's testnet.inc): whether links to internal
	 * IPv4 peers (tor's tor_addr_is_internal()) count against
	 * BandwidthRate and BandwidthBurst. -1 until config_check_relay()
	 * resolves it, so 0 or 1 once a configuration is checked. */
	int count_private_bandwidth;
	bool count_private_bandwidth_given;	/* the key is in the file */
	/* TokenBucketRefillInterval (tor's MSEC_INTERVAL, 1..1000, default
	 * 100): how often the rate limiter's token buckets are refilled. */
	uint32_t token_bucket_refill_interval_ms;
	/* MetricsPort: served by the control process on a kernel socket
	 * (control/metrics.h), not on the dataplane; default off. */
	bool has_metrics_port;
	uint32_t metrics_address;		/* host order; 127.0.0.1 if only a port */
	uint16_t metrics_port;
	struct config_policy metrics_policy;	/* MetricsPortPolicy lines, in order */
	unsigned n_logs;			/* 0: tor's default, notice to stdout */
	struct config_log logs[CONFIG_LOGS_MAX];
	bool publish_server_descriptor;		/* PublishServerDescriptor, default 1 */
	bool assume_reachable;			/* AssumeReachable, default 0 */
	unsigned max_circuits_per_worker;	/* MaxCircuitsPerWorker, default 65536 */
	unsigned max_links_per_worker;		/* MaxLinksPerWorker, default 4096 */
	/* MaxHSDirCacheBytes (tor 0.4.9, a memory unit): the HSDir cache cap;
	 * 0 (default) = a fifth of tor's automatic MaxMemInQueues
	 * (hsdir_store_auto_max_bytes). */
	uint64_t max_hsdir_cache_bytes;
	/* AccountingMax (tor's MEMUNIT, default 0 = accounting off): the bytes
	 * an accounting interval may carry, counted as accounting_rule says,
	 * before the relay hibernates (control/accounting.h). */
	uint64_t accounting_max;
	/* AccountingRule: "max" (default), "sum", "in" or "out", compared
	 * case-sensitively as tor's options_validate_relay_accounting() does. */
	enum accounting_rule accounting_rule;
	/* AccountingStart: the interval (month, week or day) and where it
	 * starts, as tor's accounting_parse_options() reads it; default
	 * ACCOUNTING_START_DEFAULT, month 1 00:00. Checked whether or not
	 * AccountingMax is set, as tor does. */
	struct accounting_start accounting_start;
	struct config_dos dos;			/* the DoS keys */
};

struct config {
	struct config_dpdk dpdk;
	struct config_netcheck netcheck;
	struct config_tor tor;
};

/* What went wrong and where. line is 0 for a problem with the whole file
 * (it cannot be read, or a required key is missing); key is empty when
 * the line has no key (a malformed line). */
struct config_error {
	char file[128];
	unsigned line;
	char key[64];
	char message[256];
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

/* Checks what the relay needs after parsing, in this order, with *err
 * naming the missing or inconsistent key (line 0):
 * - everything config_check_dataplane() checks (DPDKPort, Address);
 * - Nickname, ORPort and DataDirectory are given (tor would default the
 *   first and last; a relay operator should choose them);
 * - an ORPort address, if any, is the dataplane's Address or 0.0.0.0;
 * - at least one DirAuthority with v3ident= that is not a bridge
 *   authority: hsrelay has no built-in authority list (so this holds with
 *   and without TestingTorNetwork), and a relay uploads its descriptor
 *   only to v3 authorities;
 * - BandwidthRate is at least 75 KBytes, MaxAdvertisedBandwidth at least
 *   37.5 KBytes, a RelayBandwidthRate (given, or copied from a lone
 *   RelayBandwidthBurst) at least 75 KBytes, RelayBandwidthBurst at least
 *   RelayBandwidthRate, and BandwidthBurst at least BandwidthRate once
 *   both are raised to RelayBandwidthRate/Burst (tor's rules for a relay,
 *   options_validate_relay_bandwidth() and options_validate_cb(), in their
 *   order; the relay keys' errors name their line when given);
 * - CountPrivateBandwidth, when not given, takes its default: 1 with
 *   TestingTorNetwork, 0 without;
 * - MetricsPort, when set, has a MetricsPortPolicy (tor would refuse every
 *   request without one, which is never what the operator meant).
 * It writes only the fields tor's validation resolves: CountPrivateBandwidth's
 * default, RelayBandwidthRate/Burst when one is given alone, and
 * BandwidthRate/BandwidthBurst when RelayBandwidthRate/Burst is higher (tor:
 * "if they set relaybandwidth* really high but left bandwidth* at the
 * default, raise the defaults"). Checking again gives the same result.
 * Returns 0 or -EINVAL. */
int config_check_relay(struct config *config, const char *name,
		struct config_error *err);

/* The rate and burst a relay advertises in its descriptor's "bandwidth"
 * line, tor's relay_get_effective_bwrate() and relay_get_effective_bwburst()
 * (src/feature/relay/relay_config.c):
 *   rate  = min(BandwidthRate, MaxAdvertisedBandwidth, RelayBandwidthRate if set)
 *   burst = min(BandwidthBurst, RelayBandwidthBurst if set)
 * For a configuration config_check_relay() accepted. Not the limits the
 * token buckets enforce: MaxAdvertisedBandwidth caps only what is
 * advertised. */
void config_effective_bandwidth(const struct config_tor *tor, uint64_t *rate,
		uint64_t *burst);

/* Whether policy lets address (host order) in: the first matching entry's
 * verdict, false when none matches. */
bool config_policy_allows(const struct config_policy *policy, uint32_t address);

/* Writes "file:line: Key: message" (or "file: Key: message" for line 0)
 * into out; returns what snprintf returns. */
int config_error_format(const struct config_error *err, char *out,
		size_t out_len);

#endif
