#!/usr/bin/env bash
# relay_padding.sh HSRELAY PADDING_CLIENT
# Connection-level padding: hsrelay runs alone (no tor network) on DPDK
# net_tap in a network namespace this test creates, at 10.77.9.2:9001 (the
# subnet relay_keyupdate uses too; tests of this tier never run at once);
# padding_client (padding_client.c) opens a client link, uses it, sends
# PADDING_NEGOTIATE START and must receive PADDING cells while it stays
# silent, then STOP and must receive none. hsrelay's exit counters must
# show both negotiations and at least the cells the client counted.
# Exit 77 (meson: skipped) without root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

hsrelay=$1
client=$2
require_root

ns=hspad-$$
tap=hspad$$
orport=9001
begin_test 9 padding hsrelay_pid
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay" "$work/client"
standalone_config paddingtarget 1
standalone_start

rc=0
ip netns exec "$ns" timeout 55 "$client" "$ip_ours" "$orport" "$work/hsrelay" "$work/client" \
  >"$work/client.out" 2>&1 || rc=$?
cat "$work/client.out"
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  fail "padding_client exited $rc"
fi

sleep 0.3
standalone_stop
negotiations=$(stat "padding worker 0" negotiations)
sent=$(stat "padding worker 0" cells_sent)
[ "$negotiations" = "$(want negotiations)" ] ||
  fail "hsrelay counted $negotiations negotiations, the client sent $(want negotiations)"
[ -n "$sent" ] && [ "$sent" -ge "$(want cells_sent_min)" ] ||
  fail "hsrelay sent $sent PADDING cells, the client received $(want cells_sent_min)"
[ "$(stat "padding worker 0" negotiate_ignored)" = 0 ] ||
  fail "negotiate_ignored=$(stat "padding worker 0" negotiate_ignored)"
checked "exit counters: negotiations=$negotiations cells_sent=$sent negotiate_ignored=0"
echo "PASS relay_padding in $(( ($(date +%s%N) - start) / 1000000 )) ms"
