/* config_tor_check FILE [relay]: parses FILE with control/config.c; with
 * "relay" also runs config_check_relay(). Exit 0 when accepted, 1 with the
 * error ("file:line: Key: message") on stderr when refused. Driven by
 * config_tor.sh, which asks tor --verify-config about the same lines. */
#include <stdio.h>
#include <string.h>

#include "control/config.h"

int
main(int argc, char **argv)
{
	struct config config;
	struct config_error err;
	char formatted[512];

	if (argc < 2) {
		fprintf(stderr, "usage: config_tor_check FILE [relay]\n");
		return 2;
	}
	config_init(&config);
	if (config_parse_file(&config, argv[1], &err) < 0 ||
			(argc > 2 && strcmp(argv[2], "relay") == 0 &&
			 config_check_relay(&config, argv[1], &err) < 0)) {
		config_error_format(&err, formatted, sizeof(formatted));
		fprintf(stderr, "%s\n", formatted);
		return 1;
	}
	return 0;
}
