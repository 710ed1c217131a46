#!/usr/bin/env bash
# relay_hostile.sh HSRELAY HOSTILE_CLIENT
# Malformed input closes only what it concerns, and hsrelay keeps serving:
# hsrelay runs alone (no tor network: one DirAuthority line pointing at an
# address nothing listens on, PublishServerDescriptor 0, TestingTorNetwork
# so that it extends to private addresses) on DPDK net_tap in a network
# namespace this test creates, at 10.77.6.2:9001; hostile_client
# (hostile_client.c) connects from the namespace's kernel side
# (10.77.6.1) and runs its scenarios against it, each checking hsrelay's
# exact answer; EXTEND2 cells name 10.77.6.1:9, where nothing listens.
# Then hsrelay must still be running, stop on SIGTERM with status 0, and
# its exit counters must match what the client caused (links accepted, TLS
# failures, refused CREATE2, circuits closed for protocol violations, bad
# records, failed extensions). Exit 77 (meson: skipped) without root.
# The probes where hsrelay used to differ from tor (P1-P5) fail the test too
# (--strict).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

hsrelay=$1
client=$2
require_root

ns=hshost-$$
tap=hshost$$
orport=9001
closed_port=9
begin_test 6 hostile hsrelay_pid
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay" "$work/client"
standalone_config hostiletarget 1 "MaxLinksPerWorker 16"
standalone_start

rc=0
ip netns exec "$ns" timeout 55 "$client" "$ip_ours" "$orport" "$work/hsrelay" "$work/client" \
  "$ip_kernel:$closed_port" --strict >"$work/client.out" 2>&1 || rc=$?
cat "$work/client.out"
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  fail "hostile_client exited $rc"
fi

# The client closed its last link; let hsrelay see the FIN.
sleep 0.3
standalone_stop

summary=$(
  check_stat "worker 0" links_accepted
  check_stat "worker 0" drop_bad_record
  check_stat "circuits worker 0" closed_protocol
  check_stat control tls_failures
  check_stat control create_failures
  check_stat control extend_failures
) || exit 1
checked "exit counters match the client's doing: $(echo "$summary" | tr '\n' ' ')"
[ "$(stat control link_failures)" = 0 ] || fail "link_failures=$(stat control link_failures)"
[ "$(stat "worker 0" drop_no_mbuf)" = 0 ] || fail "drop_no_mbuf=$(stat "worker 0" drop_no_mbuf)"
[ "$(stat "worker 0" drop_events)" = 0 ] || fail "drop_events=$(stat "worker 0" drop_events)"
[ "$(stat "worker 0" circuits_open)" = 0 ] ||
  fail "circuits_open=$(stat "worker 0" circuits_open) after every link closed"
checked "link_failures=0 drop_no_mbuf=0 drop_events=0 circuits_open=0"
echo "PASS relay_hostile in $(( ($(date +%s%N) - start) / 1000000 )) ms"
