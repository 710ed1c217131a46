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
#      counts the cells and the bytes (tor_relay_traffic_bytes) and shows
#      no TCP segment dropped as malformed or for its checksum
#      (hsrelay_tcp_drops_total);
#   6. hsrelay is a directory cache: begindir_client (one-hop CREATE_FAST
#      circuit; 100 DATA cells that make hsrelay send a circuit SENDME v1
#      with the right digest; then 12 BEGIN_DIR streams in turn, each a GET
#      of the microdesc consensus, more than 100 DATA cells back, so that
#      hsrelay checks the client's SENDME v1) gets a body byte-identical to
#      a consensus an authority served (the authorities' consensus is
#      sampled every second from the start: it changes every 10 s), and
#      /tor/keys/all with the certificates;
#   7. hsrelay is a microdescriptor cache: its consensus lists it V2Dir
#      (DirCache=2, tunnelled-dir-server); begindir_client's /tor/micro/d/
#      for 4 digests of that consensus is byte-identical to a1's answer; a
#      second tor client whose only fallback directory and only guard is
#      hsrelay (the authorities vote it Guard for this step) bootstraps
#      to 100 % with every directory answer in its log from hsrelay, the
#      consensus sent to it as x-tor-lzma and microdescriptors as x-zstd;
#      then client2 applies a consensus diff hsrelay made (DirCache=2).
#   8. the authorities' ConsensusParams (nf_ito_*, DoS limits, circuit
#      queue limits) reach hsrelay's padding window, DoS limits and
#      workers' circuit queues;
#   9. hsrelay's MyFamily (r1 by its bare digest, r2 by its nickname, a
#      nickname no router has) is in the descriptor the authorities keep and
#      in the microdescriptor they made of it, as tor writes the family
#      line: members sorted, hsrelay itself among them, r2 by the identity
#      the consensus gives it (hsrelay uploads again once a consensus
#      resolves it), the unknown nickname lower-cased; and its
#      bandwidth-observed is what hsrelay measured, not 0;
#  10. with a family key (tor --keygen-family) and FamilyId, hsrelay's
#      descriptor has a family-cert and a1's microdescriptor of it lists
#      the key in family-ids;
#  11. AccountingMax 1 MBytes by SIGHUP and a download through hsrelay:
#      hsrelay hibernates, a1 keeps its descriptor with "hibernating 1" and
#      stops listing it Running.
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
tn_hsrelay=$hsrelay
testnet_hsrelay_conf "$conf" "$workers" "$tap" 9035 hsrelay
# Step 9: r1 by its digest without the "$", r2 and a sibling by nickname.
echo "MyFamily ${tn_fp[r1]}, R2" >>"$conf"
echo "MyFamily FamilySibling" >>"$conf"
# Step 10: a family key from tor --keygen-family. Only hsrelay holds it: a
# tor relay holding it too would be hsrelay's family, which the client's
# paths through hsrelay then avoid (50 fetches took 57 s instead of 4).
family_id=$("$tn_tor" --keygen-family "$tn_work/testfamily" 2>/dev/null | sed -n 's/^FamilyId //p')
[ -n "$family_id" ] || fail "tor --keygen-family printed no FamilyId"
cp "$tn_work/testfamily.secret_family_key" "${tn_dir[hsrelay]}/keys/"
echo "FamilyId $family_id" >>"$conf"

# Consensus parameters hsrelay must take from the consensus (step 8):
# tor's connection-padding window, DoS limits generous enough for this
# test's own clients, and circuit queue limits (the live network's 1250
# towards the client, 2000 towards the next hop to tell them apart).
for a in "${tn_auths[@]}"; do
  echo "ConsensusParams nf_ito_low=1800 nf_ito_high=4200 DoSCircuitCreationEnabled=1 DoSCircuitCreationMinConnections=5 DoSCircuitCreationRate=50 DoSCircuitCreationBurst=500 DoSConnectionEnabled=1 DoSConnectionMaxConcurrentCount=200 circ_max_cell_queue_size=1250 circ_max_cell_queue_size_out=2000" \
    >>"${tn_dir[$a]}/torrc"
done

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
# tor_relay_traffic_bytes: the 20 MiB came in and went out again.
for direction in read written; do
  v=$(awk -v d="direction=\"$direction\"" 'index($0, "tor_relay_traffic_bytes{") == 1 && index($0, d) {print $2}' "$tn_work/metrics")
  [ -n "$v" ] && [ "${v%.*}" -gt $((20 << 20)) ] ||
    fail "MetricsPort: tor_relay_traffic_bytes{direction=\"$direction\"} is '$v' after 20 MiB"
  checked "MetricsPort: tor_relay_traffic_bytes{direction=\"$direction\"} $v"
done
# hsrelay's TCP counters, per worker: the kernel's segments over the tap
# arrive whole and correctly summed, so after 20 MiB nothing may have been
# dropped as malformed or for its checksum; retransmissions are shown, not
# judged (the kernel peers may lose nothing or a little here).
tcp_sum() {
  awk -v m="$1" -v l="$2" 'index($0, m "{") == 1 && index($0, l) {s += $2; n++}
    END {print (n > 0 ? s : "missing")}' "$tn_work/metrics"
}
for reason in malformed checksum; do
  v=$(tcp_sum hsrelay_tcp_drops_total "reason=\"$reason\"")
  [ "$v" = 0 ] || fail "MetricsPort: hsrelay_tcp_drops_total{reason=\"$reason\"} is $v, expected 0"
done
retrans=$(tcp_sum hsrelay_tcp_retransmits_total 'event="segments"')
[ "$retrans" != missing ] || fail "MetricsPort: no hsrelay_tcp_retransmits_total{event=\"segments\"}"
checked "MetricsPort: hsrelay_tcp_drops_total malformed=0 checksum=0," \
  "retransmitted segments $retrans"
# net_tap verifies received TCP checksums and computes sent ones for
# hsrelay (DPDKChecksumOffload's default): the segments show it.
for direction in rx tx; do
  v=$(tcp_sum hsrelay_tcp_checksum_offloaded_total "direction=\"$direction\"")
  [ "$v" != missing ] && [ "$v" -gt 1000 ] ||
    fail "MetricsPort: hsrelay_tcp_checksum_offloaded_total{direction=\"$direction\"} is $v after 20 MiB"
  checked "MetricsPort: $v segments' checksums by net_tap ($direction)"
done

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

# 7. hsrelay as a microdescriptor cache (DirCache=2, tunnelled-dir-server).
# (b) the consensus hsrelay served (identical to an authority's) lists it V2Dir.
hs_flags=$(awk '/^r hsrelay /{f=1; next} f && /^s /{print; exit}' "$tn_work/begindir.consensus")
case " $hs_flags " in *" V2Dir "*) ;; *) fail "hsrelay is not V2Dir in the consensus: $hs_flags" ;; esac
checked "consensus: hsrelay $hs_flags"
# (a) microdescriptors by digest, byte-identical to an authority's answer for
# the same URL (hsrelay fetches them right after keeping a consensus).
digests=$(awk '/^m /{print $2}' "$tn_work/begindir.consensus" | head -4 | paste -sd-)
[ -n "$digests" ] || fail "no m lines in the consensus"
md_url=/tor/micro/d/$digests
ok=0
for attempt in 1 2 3 4 5 6; do
  ip netns exec "$tn_ns" curl -sf --max-time 5 -o "$tn_work/md.authority" "http://$tn_addr:5201$md_url" ||
    fail "a1 does not serve $md_url"
  if ip netns exec "$tn_ns" "$begindir_client" "$tn_seat_addr" "$tn_seat_orport" "${tn_dir[hsrelay]}" \
      "$tn_work/begindir_client" "$tn_work/md.hsrelay" "$md_url" >"$tn_work/begindir.log" 2>&1 &&
      cmp -s "$tn_work/md.authority" "$tn_work/md.hsrelay"; then
    ok=1; break
  fi
  sleep 3
done
if [ "$ok" != 1 ]; then
  cat "$tn_work/begindir.log"; grep -i microdesc "$tn_work/hsrelay.log" | tail -5
  fail "hsrelay's answer to $md_url differs from a1's"
fi
checked "BEGIN_DIR: $(grep -c '^ntor-onion-key' "$tn_work/md.hsrelay") microdescriptors ($(wc -c <"$tn_work/md.hsrelay") bytes) identical to a1's answer for the same 4 digests (attempt $attempt)"
# (c) a second tor client whose only directory source is hsrelay: hsrelay is
# its only fallback directory (the authorities' fallback weight is 0 and their
# bootstrap schedule an hour away) and its only guard, hence its directory
# guard (the authorities vote hsrelay Guard from now on). It must bootstrap,
# and every directory answer in its log must come from hsrelay.
guards=$(for a in "${tn_auths[@]}"; do printf '$%s,' "${tn_fp[$a]}"; done)
for a in "${tn_auths[@]}"; do
  testnet_ctl "$a" run "SETCONF TestingDirAuthVoteGuard=${guards}\$$middle" >/dev/null ||
    fail "SETCONF TestingDirAuthVoteGuard on $a"
done
wait_until 60 sh -c "ip netns exec $tn_ns curl -sf --max-time 3 http://$tn_addr:5201/tor/status-vote/current/consensus-microdesc | awk '/^r hsrelay /{f=1; next} f && /^s /{print; exit}' | grep -q ' Guard .*V2Dir'" ||
  fail "the authorities did not vote hsrelay Guard"
tn_node client2 "$tn_ns" 9061
{ tn_common_torrc client2; testnet_network_torrc
  sed "s/^SocksPort .*/SocksPort 127.0.0.1:9060/" < <(tn_client_torrc)
  echo "Log info file ${tn_dir[client2]}/info.log"
  echo "FallbackDir $tn_seat_addr:9030 orport=$tn_seat_orport id=$middle"
  echo "DirAuthorityFallbackRate 0"
  echo "ClientBootstrapConsensusAuthorityDownloadInitialDelay 3600"
  echo "UseEntryGuards 1"
  echo "EntryNodes \$$middle"; } >"${tn_dir[client2]}/torrc"
t_client2=$(date +%s)
testnet_start_tor client2
end=$(( $(date +%s) + 90 ))
until [ "$(testnet_ctl client2 bootstrap 2>/dev/null || echo 0)" = 100 ]; do
  if [ "$(date +%s)" -ge "$end" ]; then
    grep -E 'Bootstrapped|from server|microdesc' "${tn_dir[client2]}/info.log" | tail -20
    fail "client2 (directory source: hsrelay only) did not bootstrap"
  fi
  sleep 1
done
grep -E 'Received .* from server' "${tn_dir[client2]}/info.log" >"$tn_work/client2.dir" || true
sed 's/^.*\] //' "$tn_work/client2.dir" | sort | uniq -c | sort -rn | head -8 | sed 's/^/  client2: /'
grep -q "microdescriptor request (status 200" "$tn_work/client2.dir" ||
  fail "client2 got no microdescriptors (its log has no 200 answer to a microdescriptor request)"
if grep -v "$tn_seat_addr" "$tn_work/client2.dir" | grep -q .; then
  grep -v "$tn_seat_addr" "$tn_work/client2.dir" | head -5
  fail "client2 got directory answers from servers other than hsrelay"
fi
checked "client2 bootstrapped 100 % in $(( $(date +%s) - t_client2 )) s with hsrelay as its only directory source: $(wc -l <"$tn_work/client2.dir") directory answers, all from $tn_seat_addr"
# (d) consensus diffs (DirCache=2): once hsrelay holds a newer consensus than
# client2, client2's next fetch names its own in X-Or-Diff-From-Consensus and
# gets a diff, which it applies and checks (digests, then signatures).
wait_until 90 grep -q "Applied consensus diff" "${tn_dir[client2]}/info.log" || {
  grep -iE 'consensus diff|fetching consensus|Received consensus' "${tn_dir[client2]}/info.log" | tail -8
  fail "client2 applied no consensus diff from hsrelay"
}
if grep -qE "Could not apply consensus diff|Refusing to apply consensus diff|Unable to load (microdesc )?consensus" "${tn_dir[client2]}/info.log"; then
  grep -E "consensus diff" "${tn_dir[client2]}/info.log" | tail -5
  fail "client2 refused a consensus diff from hsrelay"
fi
checked "client2 applied $(grep -c "Applied consensus diff" "${tn_dir[client2]}/info.log") consensus diffs from hsrelay: $(grep -m1 -o "Applied consensus diff (size [0-9]*) .*size [0-9]*)" "${tn_dir[client2]}/info.log")"

if [ "${DEMO:-0}" = 1 ]; then
  echo "--- the client's first page through hsrelay (first lines):"
  head -5 "$tn_work/page"* 2>/dev/null | head -8 | sed 's/^/  /'
  echo "--- hsrelay's MetricsPort (http://127.0.0.1:9035/metrics in $tn_ns), samples:"
  grep -v '^#' "$tn_work/metrics" | sed 's/^/  /'
fi

# 8. The consensus's parameters reached hsrelay: the padding window its
# workers use (tor channelpadding.c) and its DoS limits (tor dos.c), both
# from ConsensusParams above, not tor's defaults (1500..9500 ms, off).
grep -q "^params .*nf_ito_high=4200 nf_ito_low=1800" "$tn_work/begindir.consensus" ||
  fail "the consensus lacks the ConsensusParams: $(grep '^params' "$tn_work/begindir.consensus")"
grep -q "connection padding: idle timeout 1800..4200 ms" "$tn_work/hsrelay.log" ||
  fail "hsrelay did not take nf_ito_low/nf_ito_high from the consensus: $(grep 'connection padding' "$tn_work/hsrelay.log")"
grep -q "DoS limits: circuit creation on (min 5 connections, 50/s, burst 500, .*); connections on (max 200 concurrent" "$tn_work/hsrelay.log" ||
  fail "hsrelay did not take the DoS limits from the consensus: $(grep 'DoS limits' "$tn_work/hsrelay.log")"
grep -q "circuit queues: at most 2000 cells towards the next hop, 1250 towards the client" "$tn_work/hsrelay.log" ||
  fail "hsrelay did not take the circuit queue limits from the consensus: $(grep 'circuit queues' "$tn_work/hsrelay.log")"
checked "consensus parameters: $(grep -m1 -o 'connection padding: idle timeout [0-9.]* ms' "$tn_work/hsrelay.log"); $(grep -o 'DoS limits: circuit creation on ([^)]*)' "$tn_work/hsrelay.log" | tail -1); $(grep -m1 -o 'circuit queues: at most [0-9]* cells towards the next hop, [0-9]* towards the client' "$tn_work/hsrelay.log")"
# 9. MyFamily in the authorities' documents (tor's canonical family line).
expected_family="family $(printf '$%s\n' "${tn_fp[r1]}" "${tn_fp[r2]}" "$middle" | LC_ALL=C sort | paste -sd' ') familysibling"
family_at_a1() {
  local md
  ip netns exec "$tn_ns" curl -sf --max-time 5 -o "$tn_work/hsrelay.desc" \
      "http://$tn_addr:5201/tor/server/fp/$middle" || return 1
  desc_family=$(grep '^family ' "$tn_work/hsrelay.desc" || true)
  ip netns exec "$tn_ns" curl -sf --max-time 5 -o "$tn_work/a1.consensus" \
      "http://$tn_addr:5201/tor/status-vote/current/consensus-microdesc" || return 1
  md=$(awk '/^r hsrelay /{f=1; next} f && /^m /{print $2; exit}' "$tn_work/a1.consensus")
  ip netns exec "$tn_ns" curl -sf --max-time 5 -o "$tn_work/hsrelay.md" \
      "http://$tn_addr:5201/tor/micro/d/$md" || return 1
  md_family=$(grep '^family ' "$tn_work/hsrelay.md" || true)
  observed=$(awk '/^bandwidth /{print $4}' "$tn_work/hsrelay.desc")
  [ "$desc_family" = "$expected_family" ] && [ "$md_family" = "$expected_family" ] &&
    [ "${observed:-0}" -gt 0 ] || { sleep 1; return 1; }
}
wait_until 90 family_at_a1 ||
  fail "hsrelay's family at a1: descriptor '${desc_family:-}', microdescriptor '${md_family:-}', expected '$expected_family'; observed bandwidth '${observed:-}'"
grep -q 'MyFamily names the relay "FamilySibling" by nickname' "$tn_work/hsrelay.log" ||
  fail "hsrelay did not warn about the family member given by nickname"
grep -q 'the consensus changes our family line; uploading the descriptor' "$tn_work/hsrelay.log" ||
  fail "hsrelay did not upload again when the consensus resolved R2"
checked "bandwidth-observed: a1's descriptor of hsrelay says $observed bytes/s; hsrelay: $(grep -o 'observed bandwidth [0-9]* -> [0-9]* bytes/s' "$tn_work/hsrelay.log" | paste -sd';' || true)"
checked "MyFamily: a1's descriptor and microdescriptor of hsrelay say '$desc_family'"
# 10. FamilyId: a1 checked the family-cert in hsrelay's descriptor (tor
# lists only certified family keys) and put the key tor --keygen-family
# made into hsrelay's microdescriptor.
[ "$(grep -c '^family-cert$' "$tn_work/hsrelay.desc")" = 1 ] ||
  fail "hsrelay's descriptor at a1 does not have one family-cert"
grep -qx "family-ids ed25519:$family_id" "$tn_work/hsrelay.md" ||
  fail "hsrelay's microdescriptor at a1 lacks 'family-ids ed25519:$family_id': $(grep '^family' "$tn_work/hsrelay.md")"
grep -q "family key $family_id: a family-cert in our descriptor" "$tn_work/hsrelay.log" ||
  fail "hsrelay did not log its family key"
checked "FamilyId: a1's microdescriptor of hsrelay says 'family-ids ed25519:$family_id'"
# 11. AccountingMax by SIGHUP (docs/accounting.md): counting starts at the
# reload; a 20 MiB download through hsrelay spends 1 MByte at once, hsrelay
# goes dormant (its links closed, the download cut), uploads a descriptor
# with "hibernating 1", and the authorities stop listing it Running (tor
# dirserv_set_router_is_running()).
echo "AccountingMax 1 MBytes" >>"$conf"
kill -HUP "$hsrelay_pid"
wait_until 10 grep -q 'SIGHUP: AccountingMax changed: applied' "$tn_work/hsrelay.log" ||
  { grep SIGHUP "$tn_work/hsrelay.log" >&2; fail "SIGHUP did not apply AccountingMax"; }
testnet_fetch "$tn_origin/big.bin" "$tn_work/big2.out" big2 "$middle" >/dev/null 2>&1 &
fetch_pid=$!
wait_until 60 grep -q 'Going dormant until' "$tn_work/hsrelay.log" ||
  { grep -E 'ccounting|ibernat|soft limit' "$tn_work/hsrelay.log" >&2; fail "hsrelay did not go dormant past AccountingMax 1 MBytes"; }
kill "$fetch_pid" 2>/dev/null || true
wait "$fetch_pid" 2>/dev/null || true
t_dormant=$(testnet_elapsed)
hibernating_at_a1() {
  ip netns exec "$tn_ns" curl -sf --max-time 5 -o "$tn_work/hsrelay.desc" \
      "http://$tn_addr:5201/tor/server/fp/$middle" &&
    grep -qx 'hibernating 1' "$tn_work/hsrelay.desc" || { sleep 1; return 1; }
}
wait_until 60 hibernating_at_a1 || fail "a1 does not hold hsrelay's descriptor with 'hibernating 1'"
# Not Running in a1's consensus: absent, or listed without the flag.
not_running_at_a1() {
  local flags
  ip netns exec "$tn_ns" curl -sf --max-time 5 -o "$tn_work/a1.consensus" \
      "http://$tn_addr:5201/tor/status-vote/current/consensus-microdesc" || return 1
  flags=$(awk '/^r hsrelay /{f=1; next} f && /^s /{print; exit}' "$tn_work/a1.consensus")
  case " $flags " in *" Running "*) sleep 1; return 1 ;; esac
  hs_flags_after=${flags:-(not listed)}
}
wait_until 90 not_running_at_a1 || fail "a1's consensus still lists hsrelay Running after it hibernated"
checked "AccountingMax 1 MBytes by SIGHUP: dormant at ${t_dormant} s, a1 keeps 'hibernating 1', its consensus at $(testnet_elapsed) s: hsrelay $hs_flags_after"

kill -0 "$hsrelay_pid" || fail "hsrelay exited"
kill -TERM "$hsrelay_pid"
wait_until 20 sh -c "! kill -0 $hsrelay_pid 2>/dev/null" || fail "hsrelay did not stop on SIGTERM"
grep -E 'uploaded|stats|relay ' "$tn_work/hsrelay.log" | tail -14 | sed 's/^/  hsrelay: /'
# begindir_client asked for microdescriptors once or a few times (step 7a);
# client2's fetches come on top.
md_ok=$(sed -n 's/.*stats dircache microdesc ok=\([0-9]*\).*/\1/p' "$tn_work/hsrelay.log")
[ "${md_ok:-0}" -ge 2 ] ||
  fail "hsrelay's counters show ${md_ok:-no} microdescriptor answers, expected begindir_client's and client2's"
checked "hsrelay answered $md_ok microdescriptor requests"
# 8 (continued): the padding window and the queue limits in the exit
# counters.
grep -q "stats circuit_queues control toward_n=2000 toward_p=1250" "$tn_work/hsrelay.log" ||
  fail "hsrelay's circuit queue limits at exit are not the consensus's"
grep -q "nf_ito_low_ms=1800 nf_ito_high_ms=4200" "$tn_work/hsrelay.log" ||
  fail "hsrelay's padding window at exit is not the consensus's"
# client2 (tor 0.4.9 offers x-tor-lzma, x-zstd, deflate, gzip, identity) was
# sent the consensus as x-tor-lzma and microdescriptors as x-zstd, as tor's
# dircache would, and bootstrapped on them; begindir_client asks for identity.
enc=$(sed -n 's/.*stats dircache encodings //p' "$tn_work/hsrelay.log")
enc_lzma=$(printf '%s\n' "$enc" | sed -n 's/.*x-tor-lzma=\([0-9]*\).*/\1/p')
enc_zstd=$(printf '%s\n' "$enc" | sed -n 's/.*x-zstd=\([0-9]*\).*/\1/p')
[ "${enc_lzma:-0}" -ge 1 ] && [ "${enc_zstd:-0}" -ge 1 ] ||
  fail "hsrelay's answers per encoding ($enc): expected x-tor-lzma and x-zstd answers to client2"
checked "hsrelay's answers per Content-Encoding: $enc"

testnet_log "done"
echo "PASS relay_testnet"
