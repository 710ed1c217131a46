#!/usr/bin/env bash
# relay_dos_outq.sh HSRELAY OUTQ_CLIENT [TOR]
# hsrelay's outbound queue limit and tor's dos_num_circ_max_outq detection
# (docs/dos.md, "Full outbound queues"): hsrelay runs alone on DPDK net_tap
# in a network namespace this test creates, at 10.77.7.2:9001, with
# DoSCircuitCreationEnabled 1 (no consensus: dos_num_circ_max_outq is 3,
# tor's default) and its MetricsPort on the namespace's 127.0.0.1; a real
# tor relay (Debian's tor 0.4.9, not publishing) runs on the namespace's
# kernel side at 10.77.7.1:9002 as the next hop. outq_client
# (outq_client.c) builds three circuits client -> hsrelay -> tor from
# 10.77.7.1, stops tor (SIGSTOP), and pushes cells on each circuit until
# hsrelay closes it with DESTROY RESOURCELIMIT; the third full queue must
# mark the client's address (its next CREATE_FAST refused). Then the
# MetricsPort's tor_relay_dos_total{type="circuit_killed_max_cell",
# "circuit_killed_max_cell_outq","marked_address_maxq","circuit_rejected"}
# and hsrelay's exit counters must equal what the client caused, hsrelay
# must log the mark and stop on SIGTERM with status 0. Exit 77 (meson:
# skipped) without root or tor.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

hsrelay=$1
client=$2
tor=${3:-$(command -v tor || true)}
require_root
[ -n "$tor" ] || { echo "SKIP: no tor binary"; exit 77; }

ns=hsoutq-$$
tap=hsoutq$$
orport=9001
tor_orport=9002
metrics_port=9035
begin_test 7 outq hsrelay_pid tor_pid
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay" "$work/client" "$work/tor"
standalone_config outqrelay 1 \
  "DoSCircuitCreationEnabled 1" \
  "MetricsPort 127.0.0.1:$metrics_port" \
  "MetricsPortPolicy accept 127.0.0.1"
standalone_start

# The next hop: tor as a relay that publishes nothing and knows no real
# authority (its one DirAuthority is never reached); it answers CREATE2
# on its ORPort all the same. It listens once hsrelay's tap is up.
cat >"$work/torrc" <<EOF
DataDirectory $work/tor
ORPort $ip_kernel:$tor_orport
Address $ip_kernel
Nickname outqnexthop
ContactInfo hsrelay relay_dos_outq test
ExitRelay 0
PublishServerDescriptor 0
AssumeReachable 1
TestingTorNetwork 1
DirAuthority nowhere orport=5101 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 $ip_kernel:5201 89AB CDEF 0123 4567 89AB CDEF 0123 4567 89AB CDEF
SocksPort 0
Log notice file $work/tor.log
EOF
ip netns exec "$ns" "$tor" -f "$work/torrc" --quiet &
tor_pid=$!
wait_until 30 grep -q 'Opened OR listener connection (ready)' "$work/tor.log" 2>/dev/null ||
  { tail -20 "$work/tor.log" >&2 || true; fail "tor did not open its ORPort"; }
wait_until 10 test -s "$work/tor/keys/secret_onion_key_ntor" -a -s "$work/tor/fingerprint" ||
  fail "tor wrote no keys"
fingerprint=$(awk '{print $2}' "$work/tor/fingerprint")
# tor's curve25519 key file: a 32-byte tag, the secret key, the public key.
ntor_key=$(od -An -v -tx1 -j64 -N32 "$work/tor/keys/secret_onion_key_ntor" | tr -d ' \n')
[ ${#fingerprint} -eq 40 ] && [ ${#ntor_key} -eq 64 ] ||
  fail "tor's fingerprint '$fingerprint' or ntor key '$ntor_key' unreadable"
checked "tor $("$tor" --version | head -1 | sed 's/\.$//') at $ip_kernel:$tor_orport, $fingerprint"

rc=0
ip netns exec "$ns" timeout 90 "$client" "$ip_ours" "$orport" "$work/hsrelay" "$work/client" \
  "$ip_kernel" "$tor_orport" "$fingerprint" "$ntor_key" "$tor_pid" >"$work/client.out" 2>&1 ||
  rc=$?
kill -CONT "$tor_pid" 2>/dev/null || true
cat "$work/client.out"
if [ "$rc" -ne 0 ]; then
  tail -30 "$work/hsrelay.err" | sed 's/^/  hsrelay: /' >&2
  fail "outq_client exited $rc"
fi
grep -q "DoS: $ip_kernel marked: 3 circuits closed for a full outbound queue" "$work/hsrelay.err" ||
  fail "hsrelay did not log the mark of $ip_kernel"
checked "hsrelay: $(grep -o 'DoS: .* marked: .*' "$work/hsrelay.err" | head -1)"

standalone_metrics "$metrics_port"
grep '^tor_relay_dos_total' "$work/metrics" | sed 's/^/  metrics: /'
for type in circuit_killed_max_cell circuit_killed_max_cell_outq; do
  got=$(metric "tor_relay_dos_total{type=\"$type\"}")
  [ "$got" = "$(want closed_queue_limit_outq)" ] ||
    fail "MetricsPort $type=$got, the client caused $(want closed_queue_limit_outq)"
done
for type in marked_address_maxq circuit_rejected; do
  got=$(metric "tor_relay_dos_total{type=\"$type\"}")
  [ "$got" = "$(want "$type")" ] || fail "MetricsPort $type=$got, the client caused $(want "$type")"
done
got=$(metric 'tor_relay_dos_total{type="marked_address"}')
[ "$got" = 0 ] || fail "MetricsPort marked_address=$got: the circuit bucket marked too"
checked "MetricsPort: circuit_killed_max_cell=3 circuit_killed_max_cell_outq=3" \
  "marked_address_maxq=1 circuit_rejected=1 marked_address=0"

standalone_stop
summary=$(
  check_stat "worker 0" closed_queue_limit closed_queue_limit_outq
  check_stat "worker 0" closed_queue_limit_outq
  check_stat dos marked_address_maxq
  check_stat dos circuit_rejected
) || exit 1
checked "exit counters match the client's doing: $(echo "$summary" | tr '\n' ' ')"
kill -TERM "$tor_pid" 2>/dev/null || true
wait "$tor_pid" 2>/dev/null || true
tor_pid=
echo "PASS relay_dos_outq in $(( ($(date +%s%N) - start) / 1000000 )) ms"
