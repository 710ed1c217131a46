#!/usr/bin/env bash
# tor_keys.sh CHECKER [TOR]
# Interop between our key/cert code (crypto/tor_keys, torcert, rsa_identity)
# and the real tor binary, in both directions:
#   1. tor generates a relay's keys in a fresh DataDirectory; CHECKER loads
#      them, verifies ed25519_signing_cert, signs with tor's expanded keys
#      and must compute the fingerprints tor printed and wrote.
#   2. CHECKER writes a complete key set; tor must load it unchanged and
#      print our fingerprints.
# tor runs only as `--list-fingerprint` with DisableNetwork 1 and an ORPort
# on 127.0.0.1: it writes keys and exits without opening any connection.
# Exit 77 (meson: skipped) when no tor binary is installed.
set -euo pipefail
checker=$1
tor=${2:-$(command -v tor || true)}
if [ -z "$tor" ]; then
  echo "tor_keys.sh: no tor binary; skipping"
  exit 77
fi

work=$(mktemp -d /tmp/hsrelay-interop-keys.XXXXXX)
trap 'rm -rf "$work"' EXIT
: > "$work/torrc"
nick=hsrelayinterop

fail() { echo "tor_keys.sh: FAIL: $*" >&2; exit 1; }

# run_tor DATADIR: runs tor --list-fingerprint; leaves stdout in
# DATADIR.out and stderr in DATADIR.log (tor 0.4.9 logs to stdout during
# --list-fingerprint whatever --Log says, so the log lines land in .out).
run_tor() {
  if ! timeout 120 "$tor" -f "$work/torrc" --defaults-torrc "$work/torrc" \
      --list-fingerprint --DataDirectory "$1" \
      --ORPort 127.0.0.1:auto --PublishServerDescriptor 0 \
      --DisableNetwork 1 --SocksPort 0 --ControlPort 0 --ExitRelay 0 \
      --Nickname "$nick" --Log "notice stderr" \
      >"$1.out" 2>"$1.log"; then
    cat "$1.log" >&2
    fail "tor --list-fingerprint failed on $1"
  fi
}

# tor_rsa DATADIR / tor_ed DATADIR: the fingerprints tor printed.
tor_rsa() { sed -n "s/^$nick \(.*\)$/\1/p" "$1.out" | tr -d ' '; }
tor_ed() {
  cat "$1.out" "$1.log" |
    sed -n "s/.*identity key ed25519 fingerprint is '$nick \([^']*\)'.*/\1/p"
}

# 1. tor writes, we read.
dir1=$work/tor-made
mkdir -m 700 "$dir1"
run_tor "$dir1"
[ -s "$dir1/keys/ed25519_signing_cert" ] || fail "tor wrote no ed25519_signing_cert"
ours=$("$checker" check "$dir1" "$nick") || fail "checking tor's keys"
read -r our_rsa our_ed <<<"$ours"
[ "$our_rsa" = "$(tor_rsa "$dir1")" ] ||
  fail "RSA fingerprint: ours $our_rsa, tor printed $(tor_rsa "$dir1")"
[ "$our_ed" = "$(tor_ed "$dir1")" ] ||
  fail "ed25519 identity: ours $our_ed, tor logged $(tor_ed "$dir1")"
echo "tor-made keys: $our_rsa $our_ed"

# 2. We write, tor reads.
dir2=$work/ours
mkdir -m 700 "$dir2"
ours=$("$checker" generate "$dir2") || fail "generating keys"
read -r our_rsa our_ed <<<"$ours"
before=$(cd "$dir2/keys" && sha256sum ./*)
run_tor "$dir2"
after=$(cd "$dir2/keys" && sha256sum ./*)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") >&2 || true
  fail "tor rewrote key files we wrote (it rejected them)"
fi
[ "$our_rsa" = "$(tor_rsa "$dir2")" ] ||
  fail "RSA fingerprint: ours $our_rsa, tor printed $(tor_rsa "$dir2")"
[ "$our_ed" = "$(tor_ed "$dir2")" ] ||
  fail "ed25519 identity: ours $our_ed, tor logged $(tor_ed "$dir2")"
"$checker" check "$dir2" "$nick" >/dev/null || fail "checking our keys after tor"
echo "our keys, loaded by tor: $our_rsa $our_ed"
