#!/usr/bin/env bash
# config_tor.sh CHECKER VECTORS_DIR
# The Tor part of hsrelay's configuration against tor's own validation
# (tor --verify-config, tor 0.4.9.11):
#  1. the realistic relay file (VECTORS_DIR/relay.conf) is accepted by
#     hsrelay (parse + config_check_relay) and, without hsrelay's own keys,
#     by tor;
#  2. every line of tor-both-accept.txt is accepted by both, added to a
#     minimal relay configuration;
#  3. every line of tor-both-refuse.txt is refused by both;
#  4. every case of tor-relay-cases.txt ("accept|refuse LINES", the lines
#     separated by \n) gets that verdict from both, hsrelay running
#     config_check_relay() too: the rules that need the whole file (tor's
#     options_validate_relay_bandwidth()).
# Lines hsrelay refuses on purpose although tor accepts them (IPv6,
# NoAdvertise, exits, logging domains...) are documented in control/config.h
# and tested in tests/unit/test_config.c, not here.
set -euo pipefail
checker=$1 vectors=$2
work=$(mktemp -d /tmp/hsrelay-config-tor.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# tor --verify-config does not parse MetricsPortPolicy (tor parses it when
# it acts on the options), so for those lines tor runs for a few seconds
# and its verdict is whether it logged "Malformed policy".
tor_accepts() {
  if grep -q '^MetricsPortPolicy' "$1"; then
    printf 'MetricsPort 127.0.0.1:%d\nLog notice stdout\n' $((30000 + RANDOM % 20000)) >>"$1"
    timeout 3 tor --defaults-torrc /dev/null -f "$1" >"$work/tor.out" 2>&1 || true
    grep -q 'Opened Metrics listener' "$work/tor.out" &&
      ! grep -q 'Malformed policy' "$work/tor.out"
    return
  fi
  tor --verify-config --defaults-torrc /dev/null -f "$1" >"$work/tor.out" 2>&1 &&
    grep -q 'Configuration was valid' "$work/tor.out"
}

# hsrelay's keys and Address (a prefix in hsrelay, a bare address in tor).
strip_hsrelay() {
  grep -v -E '^(DPDK|Netcheck|MaxCircuitsPerWorker|MaxLinksPerWorker|Address )' "$1" |
    sed "s#/var/lib/hsrelay#$work/data#g"
}

check() {
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

mkdir -p "$work/data"
sed "s#/var/lib/hsrelay#$work/data#g" "$vectors/relay.conf" >"$work/relay.conf"
check "$checker" "$work/relay.conf" relay
strip_hsrelay "$vectors/relay.conf" >"$work/torrc"
if tor_accepts "$work/torrc"; then passed=$((passed + 1)); else
  echo "tor refused relay.conf:"; tail -3 "$work/tor.out"; failed=$((failed + 1)); fi

# A minimal relay for the single lines (tor: a test network's relay).
base="TestingTorNetwork 1
DataDirectory $work/data
SocksPort 0
DirAuthority a0 orport=21100 no-v2 v3ident=19E23A2429C5D0D03D775AF958B94D797F7D8CD3 127.0.0.1:21200 AEDF243C9ABD0F38C680DC12B5259F5627DC11E5"

while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  printf '%s\n' "$line" >"$work/line.conf"
  printf '%s\nORPort 9001\n%s\n' "$base" "$line" >"$work/torrc"
  # A second ORPort or Log line would change what tor checks; keep the
  # line alone for those keys.
  case "$line" in ORPort*) printf '%s\n%s\n' "$base" "$line" >"$work/torrc" ;; esac
  if ! "$checker" "$work/line.conf" 2>"$work/hs.err"; then
    echo "hsrelay refused '$line': $(cat "$work/hs.err")"; failed=$((failed + 1)); continue
  fi
  if ! tor_accepts "$work/torrc"; then
    echo "tor refused '$line':"; grep -E 'warn|err' "$work/tor.out" | tail -2
    failed=$((failed + 1)); continue
  fi
  passed=$((passed + 1))
done <"$vectors/tor-both-accept.txt"

while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  printf '%s\n' "$line" >"$work/line.conf"
  printf '%s\nORPort 9001\n%s\n' "$base" "$line" >"$work/torrc"
  case "$line" in ORPort*) printf '%s\n%s\n' "$base" "$line" >"$work/torrc" ;; esac
  if "$checker" "$work/line.conf" 2>/dev/null; then
    echo "hsrelay accepted '$line'"; failed=$((failed + 1)); continue
  fi
  if tor_accepts "$work/torrc"; then
    echo "tor accepted '$line'"; failed=$((failed + 1)); continue
  fi
  passed=$((passed + 1))
done <"$vectors/tor-both-refuse.txt"

# hsrelay's side of a case: a relay (config_check_relay() needs the
# dataplane's keys and a v3 authority) with the case's lines after it.
hs_relay="DPDKPort net_null0
Address 10.77.1.2/24
Nickname case0
ORPort 9001
DataDirectory $work/data
DirAuthority a0 orport=21100 v3ident=19E23A2429C5D0D03D775AF958B94D797F7D8CD3 127.0.0.1:21200 AEDF243C9ABD0F38C680DC12B5259F5627DC11E5"

while IFS= read -r case; do
  case "$case" in ''|'#'*) continue ;; esac
  verdict=${case%% *} lines=$(printf '%b' "${case#* }")
  printf '%s\n%s\n' "$hs_relay" "$lines" >"$work/case.conf"
  printf '%s\nORPort 9001\n%s\n' "$base" "$lines" >"$work/torrc"
  hs=refuse tor=refuse
  if "$checker" "$work/case.conf" relay 2>"$work/hs.err"; then hs=accept; fi
  if tor_accepts "$work/torrc"; then tor=accept; fi
  if [ "$hs" != "$verdict" ] || [ "$tor" != "$verdict" ]; then
    echo "case '$case': expected $verdict, hsrelay ${hs}s ($(cat "$work/hs.err")), tor ${tor}s:"
    grep -E 'Failed to parse|Configuration was valid|Malformed' "$work/tor.out" | tail -1
    failed=$((failed + 1)); continue
  fi
  passed=$((passed + 1))
done <"$vectors/tor-relay-cases.txt"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
