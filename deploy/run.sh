#!/usr/bin/env bash
# The main job: install dependencies, build the release configuration and run
# the demo: a private tor 0.4.9 network in network namespaces (3 authorities,
# 3 tor relays, a tor client, an HTTP origin) with hsrelay as one more relay
# on DPDK net_tap. The authorities test and list hsrelay, the client fetches
# pages and a 20 MiB file with hsrelay forced as its middle hop (proven from
# the client's control port), and hsrelay's live MetricsPort is shown.
# Everything runs as root inside namespaces the demo creates and removes.
#   deploy/run.sh            the demo (about a minute)
#   deploy/run.sh bench ...  hsrelay-bench instead (e.g. "bench crypto")
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh"
"$top/deploy/build.sh" release >&2
if [ "${1:-}" = bench ]; then
  shift
  exec "$top/build/release/bench/hsrelay-bench" "$@"
fi
DEMO=1 FETCHES=${FETCHES:-10} exec "$top/tests/interop/relay_testnet.sh" "$top/build/release/hsrelay"
