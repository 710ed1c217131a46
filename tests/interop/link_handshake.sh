#!/usr/bin/env bash
# link_handshake.sh CHECKER [TOR]
# The link handshake module against the real tor over TLS on 127.0.0.1:
#   1. CHECKER's initiator (authenticating as a relay) to a tor relay's
#      ORPort; tor must accept our CERTS + AUTHENTICATE + NETINFO and answer
#      CREATE_FAST.
#   2. A tor client using CHECKER's responder as its bridge; tor must accept
#      our VERSIONS, CERTS, AUTH_CHALLENGE and NETINFO and start a circuit.
# Both tors get a fake directory authority on 127.0.0.1 so nothing leaves the
# machine. Exit 77 (meson: skipped) when no tor binary is installed.
set -euo pipefail
checker=$1
tor=${2:-$(command -v tor || true)}
if [ -z "$tor" ]; then
  echo "link_handshake.sh: no tor binary; skipping"
  exit 77
fi

work=$(mktemp -d /tmp/hsrelay-interop-link.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "link_handshake.sh: FAIL: $*" >&2
  for f in "$work"/*.log; do [ -f "$f" ] && tail -n 20 "$f" >&2; done
  exit 1
}
: > "$work/torrc"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
fake_auth=$(printf '%040d' 0)
dirport=$(free_port)
common=(-f "$work/torrc" --defaults-torrc "$work/torrc" --SocksPort 0
  --ControlPort 0 --DirAuthority "fakeauth orport=$dirport no-v2 v3ident=$fake_auth 127.0.0.1:$dirport $fake_auth")

# 1. Our initiator -> tor relay.
orport=$(free_port)
mkdir -m 700 "$work/relay"
"$tor" "${common[@]}" --Log "info file $work/relay.log" --DataDirectory "$work/relay" \
  --ORPort "127.0.0.1:$orport" --Address 127.0.0.1 --AssumeReachable 1 \
  --PublishServerDescriptor 0 --ExitRelay 0 --Nickname hsrelaylink \
  >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  (exec 3<>"/dev/tcp/127.0.0.1/$orport") 2>/dev/null && break
  sleep 0.5
done
out=$("$checker" initiator "$orport") || fail "initiator against tor relay"
echo "initiator: $out"
tor_rsa=$(tr -d ' ' < "$work/relay/fingerprint" | sed 's/^hsrelaylink//')
[[ "$out" == "open $tor_rsa "* ]] || fail "peer RSA identity is not tor's $tor_rsa"
tor_ed=$(sed 's/^hsrelaylink //' "$work/relay/fingerprint-ed25519" |
  python3 -c 'import sys,base64; print(base64.b64decode(sys.stdin.read().strip()+"=").hex())')
[[ "$out" == *" $tor_ed link protocol 5 ours "* ]] || fail "peer Ed25519 identity is not tor's $tor_ed"
ours=${out##* ours }
# channeltls.c (info level): our CERTS passed, and after AUTHENTICATE and
# NETINFO the connection is open with our identity (a client's is zero).
grep -q "Got some good RSA and Ed25519 certificates" "$work/relay.log" ||
  fail "tor did not accept our CERTS"
grep -q "OR connection is now open, using protocol version 5. Its ID digest is $ours" \
  "$work/relay.log" || fail "tor did not authenticate us as $ours"
if grep -q "bad AUTHENTICATE\|bad CERTS" "$work/relay.log"; then
  fail "tor complained about our cells"
fi

# 2. tor client -> our responder (as its bridge).
coproc responder { "$checker" responder; }
pids+=($responder_PID)
read -r word port fingerprint <&"${responder[0]}" || fail "responder did not start"
[ "$word" = listening ] || fail "responder: $word"
mkdir -m 700 "$work/client"
"$tor" "${common[@]}" --Log "info file $work/client.log" --DataDirectory "$work/client" \
  --UseBridges 1 --Bridge "127.0.0.1:$port $fingerprint" >/dev/null 2>&1 &
pids+=($!)
read -r -t 100 line <&"${responder[0]}" || fail "responder: no result"
echo "responder: $line"
[[ "$line" == "open client=yes link protocol 5, tor sent "* ]] || fail "responder: $line"
grep -q "Authenticated it with RSA and Ed25519" "$work/client.log" ||
  fail "tor client did not authenticate our responder with RSA and Ed25519"
echo "link_handshake.sh: ok"
