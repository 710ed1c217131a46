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
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

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
standalone_config introtarget 1
standalone_start

rc=0
ip netns exec "$ns" timeout 55 "$client" "$ip_ours" "$orport" "$work/hsrelay" "$work/client" \
  >"$work/client.out" 2>&1 || rc=$?
cat "$work/client.out"
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  fail "intro_client exited $rc"
fi

sleep 0.3
standalone_stop

# intro_stat NAME: NAME=value from hsrelay's "hsrelay: stats intro ..." line.
intro_stat() {
  grep '^hsrelay: stats intro ' "$work/hsrelay.out" | head -1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}
summary=""
for name in $(grep '^expect: ' "$work/client.out" | tr ' ' '\n' | sed -n 's/=.*//p'); do
  got=$(intro_stat "$name")
  expected=$(want "$name")
  [ -n "$got" ] || fail "hsrelay printed no $name"
  [ "$got" = "$expected" ] || fail "hsrelay $name=$got, the client caused $expected"
  summary="$summary $name=$got"
done
[ -n "$summary" ] || fail "the client printed no expect: line"
checked "intro counters match the client's doing:$summary"
[ "$(intro_stat no_kh)" = 0 ] || fail "no_kh=$(intro_stat no_kh)"
# Every circuit closed with its link: nothing left in the intro table.
[ "$(intro_stat circuits)" = 0 ] || fail "intro state of $(intro_stat circuits) circuits left"
checked "no_kh=0, no intro state left after every link closed"
# Every relayed INTRODUCE1's ACK waited for the worker's word on its
# INTRODUCE2 and got it (none sent on the timeout, none left waiting).
[ "$(stat intro_acks unconfirmed)" = 0 ] || fail "$(stat intro_acks unconfirmed) ACKs sent unconfirmed"
[ "$(stat intro_acks pending)" = 0 ] || fail "$(stat intro_acks pending) ACKs still pending"
checked "every INTRODUCE_ACK after a relayed INTRODUCE2 waited for the worker's confirmation"
echo "PASS relay_intro in $(( ($(date +%s%N) - start) / 1000000 )) ms"
