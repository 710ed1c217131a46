#!/usr/bin/env bash
# tls_tor.sh CHECKER [TOR]
# Our TLS client session (control/tls_handshake.c) and record layer
# (crypto/tls_record.c) against a real tor relay: starts a throwaway relay
# on 127.0.0.1 (port picked by tor, read from its log), then runs CHECKER
# for TLS 1.3 and for TLS 1.2 (our client capped). See tls_tor_check.c for
# what is checked.
# The relay never reaches outside 127.0.0.1: its only directory authority is
# a fake one on 127.0.0.1:9, no fallback directories, no SOCKS or control
# port, no descriptor upload. tor is killed in the EXIT trap.
# Then the other direction: CHECKER --serve listens on 127.0.0.1 and a tor
# client configured with it as its only bridge connects; our server session
# must complete the handshake and open the client's VERSIONS cell.
# Exit 77 (meson: skipped) when no tor binary is installed.
set -euo pipefail
checker=$1
tor=${2:-$(command -v tor || true)}
if [ -z "$tor" ]; then
  echo "tls_tor.sh: no tor binary; skipping"
  exit 77
fi

work=$(mktemp -d /tmp/hsrelay-interop-tls.XXXXXX)
tor_pid=
client_pid=
serve_pid=
cleanup() {
  for pid in $tor_pid $client_pid $serve_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "tls_tor.sh: FAIL: $*" >&2
  [ -f "$work/tor.log" ] && tail -20 "$work/tor.log" >&2
  exit 1
}

mkdir -m 700 "$work/data"
zeros=0000000000000000000000000000000000000000
cat > "$work/torrc" <<EOF
DataDirectory $work/data
ORPort 127.0.0.1:auto
AssumeReachable 1
PublishServerDescriptor 0
SocksPort 0
ControlPort 0
DirPort 0
ExitRelay 0
Nickname hsrelaytls
ContactInfo hsrelay interop test
DirAuthority fakeauth orport=9 no-v2 v3ident=$zeros 127.0.0.1:9 $zeros
UseDefaultFallbackDirs 0
Log notice file $work/tor.log
RunAsDaemon 0
EOF

"$tor" -f "$work/torrc" --defaults-torrc "$work/torrc" >"$work/tor.out" 2>&1 &
tor_pid=$!

# tor logs "Opened OR listener connection (ready) on 127.0.0.1:PORT" before
# it has made its keys and TLS context; "Bootstrapped 0%" comes after both.
port=
for _ in $(seq 1 300); do
  kill -0 "$tor_pid" 2>/dev/null || { cat "$work/tor.out" >&2; fail "tor exited"; }
  if grep -q 'Bootstrapped 0%' "$work/tor.log" 2>/dev/null; then
    port=$(sed -n 's/.*Opened OR listener.* on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
             "$work/tor.log" | head -1)
    break
  fi
  sleep 0.2
done
[ -n "$port" ] || fail "tor did not open its ORPort within 60 s"
echo "tor relay on 127.0.0.1:$port"

for version in 1.3 1.2; do
  out=$(timeout 60 "$checker" "$port" "$version") || fail "TLS $version: checker failed"
  echo "TLS $version: $out"
done
kill "$tor_pid" 2>/dev/null || true
wait "$tor_pid" 2>/dev/null || true
tor_pid=

# Our server, a tor client: the client treats us as a bridge, which it
# connects to without needing any consensus.
"$checker" --serve >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$work/serve.out")
  [ -n "$port" ] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.2
done
[ -n "$port" ] || { cat "$work/serve.err" >&2; fail "checker --serve did not listen"; }
mkdir -m 700 "$work/client"
cat > "$work/client.torrc" <<EOF
DataDirectory $work/client
SocksPort 127.0.0.1:auto
ControlPort 0
UseBridges 1
Bridge 127.0.0.1:$port
DirAuthority fakeauth orport=9 no-v2 v3ident=$zeros 127.0.0.1:9 $zeros
UseDefaultFallbackDirs 0
Log notice file $work/client.log
EOF
"$tor" -f "$work/client.torrc" --defaults-torrc "$work/client.torrc" \
  >"$work/client.out" 2>&1 &
client_pid=$!
for _ in $(seq 1 300); do
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.2
done
if ! wait "$serve_pid"; then
  serve_pid=
  cat "$work/serve.err" >&2
  tail -20 "$work/client.log" >&2 || true
  fail "server side: checker --serve failed"
fi
serve_pid=
echo "tor client -> our server: $(sed -n '2,$p' "$work/serve.out")"
