#!/usr/bin/env bash
# The main job: install dependencies, build the release configuration and
# show the mission (deploy/onion_demo.sh): a private tor 0.4.9 network in
# network namespaces (3 authorities, 4 tor relays, a tor onion service with
# an HTTP origin, a tor client) with hsrelay on DPDK net_tap as the
# service's only HSDir, one of its introduction points and the client's
# rendezvous point. The client fetches a page and a 20 MiB file from the
# onion service; the demo proves each role from the client's control port
# and hsrelay's MetricsPort and prints the roles and hsrelay's cells/s.
# Everything runs as root inside namespaces the demo creates and removes.
#   deploy/run.sh            the onion-service demo (about two minutes)
#   deploy/run.sh relay      the middle-relay demo (relay_testnet: pages and
#                            20 MiB with hsrelay as middle hop, live metrics)
#   deploy/run.sh bench ...  hsrelay-bench instead (e.g. "bench relay")
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh"
"$top/deploy/build.sh" release >&2
if [ "${1:-}" = bench ]; then
  shift
  exec "$top/build/release/bench/hsrelay-bench" "$@"
fi
if [ "${1:-}" = relay ]; then
  DEMO=1 FETCHES=${FETCHES:-10} exec "$top/tests/interop/relay_testnet.sh" "$top/build/release/hsrelay"
fi
exec "$top/deploy/onion_demo.sh" "$top/build/release/hsrelay"
