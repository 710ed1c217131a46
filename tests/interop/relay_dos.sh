#!/usr/bin/env bash
# relay_dos.sh HSRELAY DOS_CLIENT
# hsrelay's DoS limits (control/dos_guard.c, docs/dos.md), turned on by its
# configuration file as tor's torrc options do (standalone hsrelay has no
# consensus): hsrelay runs alone on DPDK net_tap in a network namespace
# this test creates, at 10.77.7.2:9001, with
#   DoSCircuitCreationEnabled 1, MinConnections 2, Burst 10, Rate 1,
#   DoSConnectionEnabled 1, DoSConnectionMaxConcurrentCount 4
# and its MetricsPort on the namespace's 127.0.0.1. dos_client
# (dos_client.c) floods it from 10.77.7.1 (address A) and also connects
# from 10.77.7.3 (address B, a second address on the kernel's side of the
# tap): A's circuits beyond the burst get DESTROY RESOURCELIMIT, A's fifth
# concurrent link is closed at once, B is unaffected, and the relay keeps
# serving. Then the MetricsPort's tor_relay_dos_total and
# tor_relay_connections_total{state="rejected"} and hsrelay's exit
# counters must equal what the client caused, and hsrelay must stop on
# SIGTERM with status 0. Exit 77 (meson: skipped) without root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

hsrelay=$1
client=$2
require_root

ns=hsdos-$$
tap=hsdos$$
orport=9001
metrics_port=9035
min_connections=2
burst=10
max_concurrent=4
begin_test 7 dos hsrelay_pid
ip_other=10.77.7.3
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay" "$work/client"
standalone_config dostarget 1 \
  "DoSCircuitCreationEnabled 1" \
  "DoSCircuitCreationMinConnections $min_connections" \
  "DoSCircuitCreationBurst $burst" \
  "DoSCircuitCreationRate 1" \
  "DoSConnectionEnabled 1" \
  "DoSConnectionMaxConcurrentCount $max_concurrent" \
  "MetricsPort 127.0.0.1:$metrics_port" \
  "MetricsPortPolicy accept 127.0.0.1"
standalone_start
ip -n "$ns" addr add "$ip_other/24" dev "$tap"
grep -q 'DoS limits: circuit creation on' "$work/hsrelay.err" ||
  fail "hsrelay did not log its DoS limits as on"
checked "$(grep -o 'DoS limits: .*' "$work/hsrelay.err" | head -1)"

rc=0
ip netns exec "$ns" timeout 70 "$client" "$ip_ours" "$orport" "$work/hsrelay" "$work/client" \
  "$ip_other" "$min_connections" "$burst" "$max_concurrent" >"$work/client.out" 2>&1 || rc=$?
cat "$work/client.out"
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  fail "dos_client exited $rc"
fi

standalone_metrics "$metrics_port"
grep -E '^tor_relay_dos_total|^tor_relay_connections_total\{type="OR",direction="received"' \
  "$work/metrics" | sed 's/^/  metrics: /'
for type in circuit_rejected marked_address conn_rejected concurrent_conn_rejected; do
  got=$(metric "tor_relay_dos_total{type=\"$type\"}")
  [ "$got" = "$(want "$type")" ] || fail "MetricsPort $type=$got, the client caused $(want "$type")"
done
got=$(metric 'tor_relay_connections_total{type="OR",direction="received",state="rejected",family="ipv4"}')
[ "$got" = "$(want connections_closed)" ] ||
  fail "MetricsPort connections rejected=$got, the client caused $(want connections_closed)"
checked "MetricsPort: circuit_rejected=$(want circuit_rejected) marked_address=1 concurrent_conn_rejected=1, 1 connection rejected"

# Let hsrelay see the client's FINs, then stop it.
sleep 0.3
standalone_stop
summary=$(
  check_stat dos circuit_rejected
  check_stat dos marked_address
  check_stat dos concurrent_conn_rejected
  check_stat dos connections_closed
) || exit 1
checked "exit counters match the client's doing: $(echo "$summary" | tr '\n' ' ')"
[ "$(stat "worker 0" circuits_open)" = 0 ] ||
  fail "circuits_open=$(stat "worker 0" circuits_open) after every link closed"
echo "PASS relay_dos in $(( ($(date +%s%N) - start) / 1000000 )) ms"
