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
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

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
standalone_config keyupdatetarget 1
standalone_start

rc=0
ip netns exec "$ns" timeout 55 "$client" "$ip_ours" "$orport" "$work/client" \
  >"$work/client.out" 2>&1 || rc=$?
cat "$work/client.out"
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  fail "keyupdate_client exited $rc"
fi

sleep 0.3
standalone_stop

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
