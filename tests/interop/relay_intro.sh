#!/usr/bin/env bash
# relay_intro.sh HSRELAY INTRO_CLIENT
# hsrelay as an onion-service introduction point (rend-spec-v3 3.1, 3.2;
# control/intro_point.c): hsrelay runs alone on DPDK net_tap in a network
# namespace this test creates, at 10.77.7.2:9001 (no tor network:
# PublishServerDescriptor 0, one DirAuthority nothing listens on);
# intro_client (intro_client.c) connects from the namespace's kernel side
# as a service and as clients and checks every answer (INTRO_ESTABLISHED,
# INTRODUCE2 with the INTRODUCE1 body, INTRODUCE_ACK statuses, DESTROY
# reasons, the INTRODUCE2 rate limit from the ESTABLISH_INTRO DoS
# extension). Then hsrelay must still be running, stop on SIGTERM with
# status 0, and its intro counters (tor's metric label values) must be
# what the client caused. Exit 77 (meson: skipped) without root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"

hsrelay=$1
client=$2
require_root

ns=hsintro-$$
tap=hsintro$$
orport=9001
begin_test 7 intro hsrelay_pid
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay" "$work/client"
conf=$work/hsrelay.conf
{
  echo "# written by $(basename "$0")"
  echo "DPDKLcores $(lcores_for 1)"
  echo "DPDKPort net_tap0,iface=$tap"
  echo "DPDKWorkerQueues 1"
  echo "DPDKMemoryMB 512"
  echo "DPDKMbufsPerWorker 16383"
  echo "DPDKIdleSleepUsec 100"
  echo "DPDKMac $mac_ours"
  echo "Address $ip_ours/24"
  echo "DataDirectory $work/hsrelay"
  echo "Nickname introtarget"
  echo "ORPort $orport"
  echo "ContactInfo hsrelay intro-client test"
  echo "ExitRelay 0"
  echo "PublishServerDescriptor 0"
  echo "TestingTorNetwork 1"
  # Nothing listens there; with PublishServerDescriptor 0 it is never used.
  echo "DirAuthority nowhere orport=5101 v3ident=0123456789ABCDEF0123456789ABCDEF01234567" \
    "$ip_kernel:5201 89AB CDEF 0123 4567 89AB CDEF 0123 4567 89AB CDEF"
} >"$conf"
"$hsrelay" -f "$conf" --verify-config >/dev/null || fail "hsrelay --verify-config refused $conf"

ip netns exec "$ns" "$hsrelay" -f "$conf" >"$work/hsrelay.out" 2>"$work/hsrelay.err" &
hsrelay_pid=$!
wait_until 30 ip -n "$ns" link show "$tap" ||
  { cat "$work/hsrelay.err" >&2; fail "hsrelay's tap $tap did not appear"; }
tap_up "$ns" "$tap"
wait_until 30 grep -q '^hsrelay: relay ' "$work/hsrelay.out" ||
  { cat "$work/hsrelay.err" >&2; fail "hsrelay did not start"; }
checked "hsrelay up: $(head -1 "$work/hsrelay.out")"

rc=0
ip netns exec "$ns" timeout 55 "$client" "$ip_ours" "$orport" "$work/hsrelay" "$work/client" \
  >"$work/client.out" 2>&1 || rc=$?
cat "$work/client.out"
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  fail "intro_client exited $rc"
fi

sleep 0.3
kill -0 "$hsrelay_pid" 2>/dev/null || fail "hsrelay is gone after the intro client"
checked "hsrelay still running after the intro client"
kill -TERM "$hsrelay_pid"
wait_until 15 sh -c "! kill -0 $hsrelay_pid 2>/dev/null" || fail "hsrelay did not stop on SIGTERM"
status=0
wait "$hsrelay_pid" || status=$?
hsrelay_pid=
[ "$status" -eq 0 ] || fail "hsrelay exited $status after SIGTERM"
grep '^hsrelay: stats' "$work/hsrelay.out" | sed 's/^/  /'
checked "hsrelay stopped on SIGTERM with status 0"

# stat NAME: NAME=value from hsrelay's "hsrelay: stats intro ..." line.
stat() {
  grep '^hsrelay: stats intro ' "$work/hsrelay.out" | head -1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}
want() {
  grep '^expect: ' "$work/client.out" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
summary=""
for name in $(grep '^expect: ' "$work/client.out" | tr ' ' '\n' | sed -n 's/=.*//p'); do
  got=$(stat "$name")
  expected=$(want "$name")
  [ -n "$got" ] || fail "hsrelay printed no $name"
  [ "$got" = "$expected" ] || fail "hsrelay $name=$got, the client caused $expected"
  summary="$summary $name=$got"
done
[ -n "$summary" ] || fail "the client printed no expect: line"
checked "intro counters match the client's doing:$summary"
[ "$(stat no_kh)" = 0 ] || fail "no_kh=$(stat no_kh)"
# Every circuit closed with its link: nothing left in the intro table.
[ "$(stat circuits)" = 0 ] || fail "intro state of $(stat circuits) circuits left"
checked "no_kh=0, no intro state left after every link closed"
echo "PASS relay_intro in $(( ($(date +%s%N) - start) / 1000000 )) ms"
