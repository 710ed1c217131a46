#!/usr/bin/env bash
# relay_testnet.sh HSRELAY [WORKERS]
# hsrelay as a middle relay in the private tor 0.4.9 network of
# tests/interop/testnet/lib.sh: 3 tor authorities, 3 tor exit relays, a tor
# client and an HTTP origin in a network namespace this test creates, and
# hsrelay in the seat (10.78.1.2:9001) on DPDK net_tap.
#   1. hsrelay starts, creates its keys, uploads its descriptor; the
#      authorities test its ORPort (TLS and link handshake answered by
#      hsrelay) and list it Running and Valid in their consensus, then the
#      client's and the exits' consensus do;
#   2. the client bootstraps;
#   3. with the client's middle hop forced to hsrelay, 50 fetches of a small
#      page, each on a circuit of its own, are byte-exact, and the client's
#      control port shows each one on a 3-hop circuit whose middle is
#      hsrelay;
#   4. a 20 MiB download through hsrelay has the origin's SHA-256;
# With WORKERS > 1 hsrelay runs that many workers on a multi-queue tap (flows
# are spread by the kernel and handed to their owner by the workers).
#   5. hsrelay's own consensus (fetched from the authorities, verified with
#      their certificates) lists it Running and Valid, and its MetricsPort
#      counts the cells;
#   6. hsrelay is a directory cache: begindir_client (one-hop CREATE_FAST
#      circuit; 100 DATA cells that make hsrelay send a circuit SENDME v1
#      with the right digest; then 12 BEGIN_DIR streams in turn, each a GET
#      of the microdesc consensus, more than 100 DATA cells back, so that
#      hsrelay checks the client's SENDME v1) gets a body byte-identical to
#      a consensus an authority served (the authorities' consensus is
#      sampled every second from the start: it changes every 10 s), and
#      /tor/keys/all with the certificates.
# hsrelay's counters are printed at the end. Exit 77 (meson: skipped)
# without root, tor, tor-gencert or curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/testnet/lib.sh"

hsrelay=$1
workers=${2:-1}
begindir_client=${3:-$(dirname "$hsrelay")/tests/interop/begindir_client}
fetches=${FETCHES:-50}
tap=hsrtap$$

testnet_begin hsrelay 1
"$tn_tor" --version | head -1
testnet_generate 3 0 1
testnet_node_keys hsrelay
middle=${tn_fp[hsrelay]}
conf=$tn_work/hsrelay.conf
{
  echo "# written by $(basename "$0")"
  echo "DPDKLcores $(lcores_for "$workers")"
  echo "DPDKPort net_tap0,iface=$tap"
  echo "DPDKWorkerQueues $workers"
  echo "DPDKMemoryMB 512"
  echo "DPDKMbufsPerWorker 16383"
  echo "DPDKIdleSleepUsec 100"
  echo "DPDKMac $mac_ours"
  echo "Address $ip_ours/24"
  echo "DataDirectory ${tn_dir[hsrelay]}"
  echo "ContactInfo hsrelay interop test"
  echo "BandwidthRate 10 MBytes"
  echo "BandwidthBurst 10 MBytes"
  echo "ExitRelay 0"
  echo "MetricsPort 127.0.0.1:9035"
  echo "MetricsPortPolicy accept 127.0.0.1"
  testnet_network_torrc
  echo "Nickname hsrelay"
  echo "ORPort $tn_seat_addr:$tn_seat_orport"
} >"$conf"
"$hsrelay" -f "$conf" --verify-config >/dev/null || fail "hsrelay --verify-config refused $conf"

testnet_start_origin
testnet_start_network
# Every consensus the authorities serve, kept by content (step 6).
snapshots=$tn_work/consensus_snapshots
mkdir -p "$snapshots"
testnet_spawn "$tn_ns" "$tn_work/snapshots.log" bash -c '
  while :; do
    for port in 5201 5202 5203; do
      if curl -sf --max-time 3 -o "$1/tmp" "http://$2:$port/tor/status-vote/current/consensus-microdesc"; then
        h=$(sha256sum <"$1/tmp" | cut -c1-16)
        mv "$1/tmp" "$1/c.$h"
      fi
    done
    sleep 1
  done' snapshots "$snapshots" "$tn_addr"
testnet_spawn "$tn_ns" "$tn_work/hsrelay.log" "$hsrelay" -f "$conf"
hsrelay_pid=${tn_pids[-1]}
wait_until 30 ip -n "$tn_ns" link show "$tap" >/dev/null 2>&1 ||
  { cat "$tn_work/hsrelay.log"; fail "hsrelay's tap $tap did not appear"; }
testnet_attach_link "$tap"
testnet_log "hsrelay \$$middle started on $tn_seat_addr:$tn_seat_orport ($tap)"

all_fps=()
for name in "${tn_auths[@]}" "${tn_relays[@]}" hsrelay; do all_fps+=("${tn_fp[$name]}"); done

# 1. Running + Valid: the authorities test hsrelay's ORPort themselves.
if ! testnet_wait_running a1 180 "${all_fps[@]}"; then
  tail -40 "$tn_work/hsrelay.log"
  fail "a1's consensus does not list every relay (hsrelay \$$middle) Running+Valid"
fi
kill -0 "$hsrelay_pid" || fail "hsrelay exited"
t_consensus=$(testnet_elapsed)
checked "a1's consensus lists hsrelay and the ${#all_fps[@]} relays Running+Valid at ${t_consensus} s"
testnet_wait_running client 90 "${all_fps[@]}" >/dev/null ||
  fail "the client's consensus lacks Running+Valid relays"
testnet_wait_exits_know 90 "${all_fps[@]}" || fail "an exit's consensus lacks hsrelay"
checked "the client's and the exits' consensus list them at $(testnet_elapsed) s"

# hsrelay fetched the consensus itself, checked it against the authorities'
# certificates and found itself in it.
wait_until 90 grep -q 'consensus .* kept: .* we are listed Running and Valid' "$tn_work/hsrelay.log" ||
  { grep -E 'consensus|certificates|directory' "$tn_work/hsrelay.log" | tail; fail "hsrelay did not keep a verified consensus listing it Running and Valid"; }
checked "hsrelay's own verified consensus lists it Running and Valid at $(testnet_elapsed) s: $(grep -o 'consensus valid-after .*' "$tn_work/hsrelay.log" | tail -1)"

# 2. Bootstrap.
testnet_wait_bootstrap 90 || fail "the client did not bootstrap"
checked "client bootstrapped 100 % at $(testnet_elapsed) s"

# 3. Small page through hsrelay, proven per fetch.
testnet_force_middle "$middle"
start=$(date +%s%N)
if ! testnet_fetch "$tn_origin/index.html" "$tn_work/page" page "$middle" "$fetches" \
    "$tn_work/www/index.html" >"$tn_work/fetches"; then
  cat "$tn_work/fetches"
  tail -40 "$tn_work/hsrelay.log"
  fail "page fetches through hsrelay"
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
sed -n '1,3p;$p' "$tn_work/fetches" | sed 's/^/  /'
[ "$(grep -c ' hops 3 middle .* identical$' "$tn_work/fetches")" -eq "$fetches" ] ||
  fail "not $fetches proven, identical fetches"
distinct=$(awk '{print $5}' "$tn_work/fetches" | sort -u | wc -l)
checked "$fetches page fetches byte-exact, each on a 3-hop circuit with middle hsrelay (\$$middle): $distinct distinct circuits, $ms ms in all"

# 4. 20 MiB through hsrelay.
start=$(date +%s%N)
line=$(testnet_fetch "$tn_origin/big.bin" "$tn_work/big.out" big "$middle") ||
  { tail -40 "$tn_work/hsrelay.log"; fail "20 MiB download through hsrelay"; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
want=$(sha256sum <"$tn_work/www/big.bin" | cut -d' ' -f1)
got=$(sha256sum <"$tn_work/big.out" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "20 MiB download: sha256 $got, expected $want"
echo "  $line"
checked "20 MiB byte-exact through hsrelay (sha256 $want) in $ms ms ($(( 20 * 1024 * 1000 / (ms > 0 ? ms : 1) )) KiB/s)"

# 5. The MetricsPort shows the traffic: tor's names, summed over workers.
sleep 2
ip netns exec "$tn_ns" curl -s --max-time 5 http://127.0.0.1:9035/metrics >"$tn_work/metrics" ||
  fail "hsrelay's MetricsPort did not answer"
grep -E '^(tor_relay_circuits_total|tor_relay_connections_total|hsrelay_cells_total)' "$tn_work/metrics" |
  head -8 | sed 's/^/  metrics: /'
cells=$(awk '/^hsrelay_cells_total\{.*direction="in"/ {s += $2} END {print s + 0}' "$tn_work/metrics")
[ "$cells" -gt 40000 ] || fail "MetricsPort counts $cells cells in, expected more than 40000 after 20 MiB"
checked "MetricsPort: $cells cells in through hsrelay"

# 6. hsrelay's directory cache over BEGIN_DIR.
[ -x "$begindir_client" ] || fail "no begindir_client at $begindir_client"
ok=0
for attempt in 1 2 3 4 5; do
  ip netns exec "$tn_ns" "$begindir_client" "$tn_seat_addr" "$tn_seat_orport" "${tn_dir[hsrelay]}" \
    "$tn_work/begindir_client" "$tn_work/begindir.consensus" \
    /tor/status-vote/current/consensus-microdesc 12 >"$tn_work/begindir.log" 2>&1 ||
    { cat "$tn_work/begindir.log"; tail -20 "$tn_work/hsrelay.log"; fail "begindir_client failed"; }
  head -c 35 "$tn_work/begindir.consensus" | grep -q '^network-status-version 3 microdesc' ||
    fail "hsrelay's consensus over BEGIN_DIR does not start like a microdesc consensus"
  for snap in "$snapshots"/c.*; do
    if cmp -s "$snap" "$tn_work/begindir.consensus"; then ok=1; break; fi
  done
  [ "$ok" = 1 ] && break
  sleep 3
done
[ "$ok" = 1 ] || fail "hsrelay served a consensus ($(grep -m1 '^valid-after' "$tn_work/begindir.consensus")) that no authority served byte for byte"
sed 's/^/  /' "$tn_work/begindir.log"
checked "BEGIN_DIR: hsrelay served the microdesc consensus ($(grep -m1 '^valid-after' "$tn_work/begindir.consensus"), $(wc -c <"$tn_work/begindir.consensus") bytes) identical to an authority's (attempt $attempt, $(ls "$snapshots" | wc -l) authority copies sampled)"
ip netns exec "$tn_ns" "$begindir_client" "$tn_seat_addr" "$tn_seat_orport" "${tn_dir[hsrelay]}" \
  "$tn_work/begindir_client" "$tn_work/begindir.keys" /tor/keys/all >"$tn_work/begindir.log" 2>&1 ||
  { cat "$tn_work/begindir.log"; fail "begindir_client /tor/keys/all failed"; }
certs=$(grep -c '^dir-key-certificate-version 3' "$tn_work/begindir.keys" || true)
[ "$certs" -eq 3 ] || fail "/tor/keys/all over BEGIN_DIR holds $certs certificates, expected 3"
checked "BEGIN_DIR: /tor/keys/all holds the $certs authority certificates"
if [ "${DEMO:-0}" = 1 ]; then
  echo "--- the client's first page through hsrelay (first lines):"
  head -5 "$tn_work/page"* 2>/dev/null | head -8 | sed 's/^/  /'
  echo "--- hsrelay's MetricsPort (http://127.0.0.1:9035/metrics in $tn_ns), samples:"
  grep -v '^#' "$tn_work/metrics" | sed 's/^/  /'
fi

kill -0 "$hsrelay_pid" || fail "hsrelay exited"
kill -TERM "$hsrelay_pid"
wait_until 20 sh -c "! kill -0 $hsrelay_pid 2>/dev/null" || fail "hsrelay did not stop on SIGTERM"
grep -E 'uploaded|stats|relay ' "$tn_work/hsrelay.log" | tail -8 | sed 's/^/  hsrelay: /'
testnet_log "done"
echo "PASS relay_testnet"
