/* ratelimit_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR SOURCE_B DIRECTION CELLS
 *
 * One-way traffic through hsrelay as a rendezvous point, for
 * relay_ratelimit.sh: link A from the host's default source address,
 * link B bound to SOURCE_B (so that the two links may differ in whether
 * their peer is an internal address, which decides whether they count
 * against BandwidthRate when CountPrivateBandwidth is 0). A rendezvous pair
 * joins the client end (on A) with the service end (on B); then the pump
 * (tests/interop/rend_pump.h) sends CELLS full DATA cells one way across
 * the splice, DIRECTION a_to_b (the relay reads them from A and writes
 * them to B) or b_to_a, and one cell the other way (the service only
 * sends once its client has); every cell is checked intact and in order.
 *
 * Prints "run DIRECTION cells=N bytes=B seconds=S": B the wire bytes of
 * the N cells that crossed, S from the first cell sent to the last one
 * received. Exit 0 on success.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/hs_cells.h"
#include "tests/interop/rend_pump.h"
#include "tests/interop/test_client.h"

/* tor hs_cell.c: SERVER_PK (32) || AUTH (32). */
#define TOR_HANDSHAKE_INFO_LEN 64

int
main(int argc, char **argv)
{
	static struct test_link links[2];
	static struct rend_end client, service;
	struct rend_end *ends[2] = { &client, &service };
	struct test_link *ls[2] = { &links[0], &links[1] };
	uint8_t cookie[HS_REND_COOKIE_LEN], info[TOR_HANDSHAKE_INFO_LEN];
	struct rend_pump_config cfg = {
		.window = 64, .burst = 8, .full_cells = true, .service_waits = true,
		.stall_ms = 15000, .settle_ms = 200,
	};
	struct rend_pump_result res;
	struct in_addr source_b;
	bool a_to_b;
	unsigned long cells;

	alarm(150);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 8 || inet_pton(AF_INET, argv[5], &source_b) != 1 ||
	    (strcmp(argv[6], "a_to_b") != 0 && strcmp(argv[6], "b_to_a") != 0) ||
	    (cells = strtoul(argv[7], NULL, 10)) == 0 || cells > 1000000) {
		fprintf(stderr, "usage: ratelimit_client ADDR PORT RELAY_DATADIR CLIENT_DATADIR "
				"SOURCE_B a_to_b|b_to_a CELLS\n");
		return 2;
	}
	a_to_b = strcmp(argv[6], "a_to_b") == 0;
	test_client_init("ratelimit_client", argv[1], argv[2]);
	test_client_load_keys(argv[3], argv[4]);

	if (!test_link_open(&links[0], "A"))
		test_die("%s", test_detail);
	test_client_source = source_b;
	if (!test_link_open(&links[1], "B"))
		test_die("%s", test_detail);

	rend_pair_init(&client, &service, 1);
	client.link = &links[0];
	service.link = &links[1];
	test_random_bytes(cookie, sizeof(cookie));
	test_random_bytes(info, sizeof(info));
	if (!test_create_fast(&links[0], &client.hop) || !test_create_fast(&links[1], &service.hop) ||
	    !rend_establish(&client, cookie))
		test_die("joining the pair: %s", test_detail);
	rend_send_rendezvous1(&service, cookie, info, sizeof(info), 0);
	if (!rend_expect_rendezvous2(&client, info, sizeof(info)))
		test_die("joining the pair: %s", test_detail);

	client.to_send = a_to_b ? (uint32_t)cells : 1;
	service.to_send = a_to_b ? 1 : (uint32_t)cells;
	if (!rend_pump_run(ends, 2, ls, 2, &cfg, &res))
		test_die("%s: %s", argv[6], test_detail);
	printf("run %s cells=%lu bytes=%lu seconds=%.3f\n", argv[6], cells,
			cells * CELL_LEN, res.seconds);
	test_link_close(&links[0]);
	test_link_close(&links[1]);
	return 0;
}
