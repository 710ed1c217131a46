#!/usr/bin/env bash
# relay_keyupdate.sh HSRELAY KEYUPDATE_CLIENT
# TLS 1.3 KeyUpdate on established links: hsrelay runs alone (no tor
# network, as in relay_hostile.sh) on DPDK net_tap in a network namespace
# this test creates, at 10.77.9.2:9001; keyupdate_client
# (keyupdate_client.c, OpenSSL's TLS client) connects from the namespace's
# kernel side and sends KeyUpdates mid-link, each followed by cells that
# must be answered, then malformed KeyUpdates and a record under the old
# key on links of their own, which hsrelay must close while the first
# links keep working. Then hsrelay must stop on SIGTERM with status 0 and
# its exit counters (KeyUpdates received and answered, bad records) must
# match what the client did. Exit 77 (meson: skipped) without root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"

hsrelay=$1
client=$2
require_root

ns=hskeyup-$$
tap=hskeyup$$
orport=9001
begin_test 9 keyupdate hsrelay_pid
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
  echo "Nickname keyupdatetarget"
  echo "ORPort $orport"
  echo "ContactInfo hsrelay keyupdate test"
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
ip netns exec "$ns" timeout 55 "$client" "$ip_ours" "$orport" "$work/client" \
  >"$work/client.out" 2>&1 || rc=$?
cat "$work/client.out"
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  fail "keyupdate_client exited $rc"
fi

sleep 0.3
kill -0 "$hsrelay_pid" 2>/dev/null || fail "hsrelay is gone after the client"
kill -TERM "$hsrelay_pid"
wait_until 15 sh -c "! kill -0 $hsrelay_pid 2>/dev/null" || fail "hsrelay did not stop on SIGTERM"
status=0
wait "$hsrelay_pid" || status=$?
hsrelay_pid=
[ "$status" -eq 0 ] || fail "hsrelay exited $status after SIGTERM"
grep '^hsrelay: stats' "$work/hsrelay.out" | sed 's/^/  /'
checked "hsrelay stopped on SIGTERM with status 0"

# stat LINE_PREFIX NAME: NAME=value from hsrelay's "hsrelay: stats ..." line.
stat() {
  grep "^hsrelay: stats $1 " "$work/hsrelay.out" | head -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
# want NAME: the value the client printed in its "expect:" line.
want() {
  grep '^expect: ' "$work/client.out" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
check_stat() {
  local line=$1 name=$2 as=${3:-$2} got expected
  got=$(stat "$line" "$name")
  expected=$(want "$as")
  [ -n "$got" ] || fail "hsrelay printed no $name"
  [ "$got" = "$expected" ] || fail "hsrelay $name=$got, the client caused $expected"
  echo "$name=$got"
}
summary=$(
  check_stat "worker 0" links_accepted
  check_stat "worker 0" drop_bad_record
  check_stat "tls worker 0" key_updates_in
  check_stat "tls worker 0" key_updates_out
) || exit 1
checked "exit counters match the client's doing: $(echo "$summary" | tr '\n' ' ')"
[ "$(stat control link_failures)" = 0 ] || fail "link_failures=$(stat control link_failures)"
[ "$(stat "worker 0" drop_no_mbuf)" = 0 ] || fail "drop_no_mbuf=$(stat "worker 0" drop_no_mbuf)"
[ "$(stat "worker 0" circuits_open)" = 0 ] ||
  fail "circuits_open=$(stat "worker 0" circuits_open) after every link closed"
checked "link_failures=0 drop_no_mbuf=0 circuits_open=0"
echo "PASS relay_keyupdate in $(( ($(date +%s%N) - start) / 1000000 )) ms"
