#!/usr/bin/env bash
# testnet_tor_only.sh
# The interop test network of tests/interop/testnet/lib.sh with tor only:
# 3 authorities, 3 relays (r1 and r3 exits in the network's namespace; r2 a
# non-exit relay in the seat, 10.78.0.2:9001 behind a veth link, where
# hsrelay will sit on net_tap), a client and an HTTP origin, all inside
# namespaces this test creates.
#   1. every relay is listed Running and Valid in an authority's consensus
#      (authorities test each ORPort themselves), then in the client's and
#      the exits' (exits refuse streams from a middle hop they do not know);
#   2. the client bootstraps to 100 %;
#   3. with the client's middle hop forced to r2, 50 fetches of a small page
#      (each on a circuit of its own) are byte-exact, and the client's
#      control port shows each one's stream on a 3-hop circuit whose middle
#      hop is r2;
#   4. a 20 MiB download through r2 has the origin's SHA-256;
#   5. negative control: relay "ghost", whose descriptor advertises an
#      ORPort nobody listens on, was accepted by the authorities (a1 has its
#      descriptor) but is still not Running in a1's consensus at the end.
# Timings (from the start, key generation included) are printed.
# Exit 77 (meson: skipped) without root, tor, tor-gencert or curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/testnet/lib.sh"

fetches=${FETCHES:-50}
testnet_begin tor-only 0
"$tn_tor" --version | head -1

testnet_generate 3 2 1
middle=${tn_fp[r2]}
testnet_log "keys and torrc written: authorities ${tn_auths[*]}, relays ${tn_relays[*]} (r2 in the seat $tn_seat_addr:$tn_seat_orport, \$$middle)"
testnet_start_origin
testnet_start_network

all_fps=()
for name in "${tn_auths[@]}" "${tn_relays[@]}"; do all_fps+=("${tn_fp[$name]}"); done

# 1. Running + Valid, first in the authorities' consensus, then the client's.
testnet_wait_running a1 150 "${all_fps[@]}" || fail "a1's consensus lacks Running+Valid relays"
t_consensus=$(testnet_elapsed)
checked "a1's consensus lists all ${#all_fps[@]} relays Running+Valid at ${t_consensus} s"
testnet_wait_running client 90 "${all_fps[@]}" >/dev/null ||
  fail "the client's consensus lacks Running+Valid relays"
checked "the client's consensus lists them at $(testnet_elapsed) s"
testnet_wait_exits_know 90 "${all_fps[@]}" || fail "an exit's consensus lacks Running+Valid relays"
checked "the exits' (${tn_exits[*]}) consensus lists them at $(testnet_elapsed) s"

# 2. Bootstrap.
testnet_wait_bootstrap 90 || fail "the client did not bootstrap"
t_bootstrap=$(testnet_elapsed)
checked "client bootstrapped 100 % at ${t_bootstrap} s"

# 3. Small page through r2, proven per fetch.
testnet_force_middle "$middle"
start=$(date +%s%N)
testnet_fetch "$tn_origin/index.html" "$tn_work/page" page "$middle" "$fetches" \
    "$tn_work/www/index.html" >"$tn_work/fetches" || { cat "$tn_work/fetches"; fail "page fetches"; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
sed -n '1,3p;$p' "$tn_work/fetches" | sed 's/^/  /'
[ "$(grep -c ' hops 3 middle .* identical$' "$tn_work/fetches")" -eq "$fetches" ] ||
  fail "not $fetches proven, identical fetches"
distinct=$(awk '{print $5}' "$tn_work/fetches" | sort -u | wc -l)
checked "$fetches page fetches byte-exact, each on a 3-hop circuit with middle r2 (\$$middle): $distinct distinct circuits, $ms ms in all"

# 4. 20 MiB through r2.
start=$(date +%s%N)
line=$(testnet_fetch "$tn_origin/big.bin" "$tn_work/big.out" big "$middle") || fail "20 MiB download"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
want=$(sha256sum <"$tn_work/www/big.bin" | cut -d' ' -f1)
got=$(sha256sum <"$tn_work/big.out" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "20 MiB download: sha256 $got, expected $want"
echo "  $line"
checked "20 MiB byte-exact through r2 (sha256 $want) in $ms ms ($(( 20 * 1024 * 1000 / (ms > 0 ? ms : 1) )) KiB/s)"

# 5. The unreachable relay.
ghost_fp=${tn_fp[$tn_ghost]}
testnet_ctl a1 run "GETINFO desc/id/$ghost_fp" >"$tn_work/ghost.desc" 2>&1 ||
  { cat "$tn_work/ghost.desc" >&2; fail "a1 has no descriptor of the ghost relay"; }
grep -q "^router ghost $tn_addr 5119 " "$tn_work/ghost.desc" ||
  fail "the ghost's descriptor at a1 does not advertise $tn_addr:5119"
if ghost=$(testnet_ctl a1 flags "$ghost_fp"); then
  fail "the ghost relay (nothing listens on its ORPort) is Running: $ghost"
fi
checked "a1 accepted the ghost's descriptor (ORPort $tn_addr:5119, unreachable) and its consensus does not list it Running at $(testnet_elapsed) s: $ghost"

testnet_log "done: consensus ${t_consensus} s, bootstrap ${t_bootstrap} s"
echo "PASS testnet_tor_only"
