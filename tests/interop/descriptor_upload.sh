#!/usr/bin/env bash
# descriptor_upload.sh TOOL [TOR]
# Our relay keys and server descriptor against one real tor 0.4.9 directory
# authority on 127.0.0.1 (tor-roles-and-directory 5: tor-gencert keys,
# AuthoritativeDirectory, V3AuthoritativeDirectory, TestingTorNetwork, its
# own DirAuthority line):
#   1. TOOL creates a DataDirectory with our keys; `tor --list-fingerprint`
#      and `tor --key-expiration sign` over it print our fingerprints and
#      our signing certificate's expiry and leave every key file unchanged;
#      after an onion key rotation tor starts as a relay (DisableNetwork 1)
#      on it, loading the .old keys too.
#   2. Copies of our descriptor with one byte changed are POSTed to the
#      authority's DirPort: a changed contact byte must fail the signature
#      check and not be stored (tor still answers "200 [None]", see below),
#      a non-UTF-8 byte gets 400.
#   3. Our descriptor is POSTed and must get "HTTP/1.0 200"; the authority
#      must then serve it back byte for byte under /tor/server/d/DIGEST and
#      /tor/server/fp/FINGERPRINT.
#   4. A newer one of ours with "hibernating 1" (AccountingMax) likewise
#      replaces it.
# Exit 77 (meson: skipped) when tor or tor-gencert is not installed.
set -euo pipefail
tool=$1
tor=${2:-$(command -v tor || true)}
gencert=$(command -v tor-gencert || true)
if [ -z "$tor" ] || [ -z "$gencert" ]; then
  echo "descriptor_upload.sh: no tor or tor-gencert; skipping"
  exit 77
fi

work=$(mktemp -d /tmp/hsrelay-interop-desc.XXXXXX)
tor_pid=
cleanup() {
  if [ -n "$tor_pid" ]; then
    kill "$tor_pid" 2>/dev/null || true
    wait "$tor_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "descriptor_upload.sh: FAIL: $*" >&2
  if [ -f "$work/auth/notice.log" ]; then
    echo "--- authority log (tail) ---" >&2
    tail -n 30 "$work/auth/notice.log" >&2
  fi
  exit 1
}

: > "$work/empty"
nick=hsrelayup
auth_or=$("$tool" freeport)
auth_dir=$("$tool" freeport)
our_or=$("$tool" freeport)
[ "$auth_or" != "$auth_dir" ] || auth_dir=$("$tool" freeport)

# 1. Our DataDirectory, read by tor.
ours=$work/ours
read -r our_fp our_ed our_expiry <<<"$("$tool" keys "$ours" "$nick")" ||
  fail "creating our keys"
[ "$(stat -c %a "$ours")" = 700 ] || fail "DataDirectory mode $(stat -c %a "$ours")"
[ "$(stat -c %a "$ours/keys")" = 700 ] || fail "keys/ mode $(stat -c %a "$ours/keys")"
for f in secret_id_key ed25519_master_id_secret_key ed25519_master_id_public_key \
    ed25519_signing_secret_key ed25519_signing_cert secret_onion_key \
    secret_onion_key_ntor; do
  [ -f "$ours/keys/$f" ] || fail "missing keys/$f"
  [ "$(stat -c %a "$ours/keys/$f")" = 600 ] || fail "keys/$f mode $(stat -c %a "$ours/keys/$f")"
done
before=$(cd "$ours/keys" && sha256sum ./*)
list_out=$(timeout 60 "$tor" -f "$work/empty" --defaults-torrc "$work/empty" \
    --list-fingerprint --DataDirectory "$ours" --Nickname "$nick" \
    --ORPort "127.0.0.1:$our_or" --PublishServerDescriptor 0 \
    --DisableNetwork 1 --SocksPort 0 --Log "notice stdout" 2>&1) ||
  { echo "$list_out" >&2; fail "tor --list-fingerprint on our DataDirectory"; }
tor_fp=$(echo "$list_out" | sed -n "s/^$nick \([0-9A-F ]*\)$/\1/p" | tr -d ' ')
tor_ed=$(echo "$list_out" |
  sed -n "s/.*identity key ed25519 fingerprint is '$nick \([^']*\)'.*/\1/p")
[ "$tor_fp" = "$our_fp" ] || fail "tor printed fingerprint '$tor_fp', ours $our_fp"
[ "$tor_ed" = "$our_ed" ] || fail "tor printed ed25519 id '$tor_ed', ours $our_ed"
expiry_out=$(timeout 60 "$tor" -f "$work/empty" --defaults-torrc "$work/empty" \
    --key-expiration sign --DataDirectory "$ours" \
    --ORPort "127.0.0.1:$our_or" --DisableNetwork 1 --SocksPort 0 \
    --Log "err stderr" 2>&1) ||
  { echo "$expiry_out" >&2; fail "tor --key-expiration sign on our DataDirectory"; }
tor_expiry=$(echo "$expiry_out" | sed -n 's/^signing-cert-expiry: //p')
[ "$tor_expiry" = "$our_expiry" ] ||
  fail "tor says the signing cert expires '$tor_expiry', ours $our_expiry"
after=$(cd "$ours/keys" && sha256sum ./*)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") >&2 || true
  fail "tor rewrote key files of ours (it rejected them)"
fi
echo "tor reads our keys: $our_fp $our_ed, signing cert until $our_expiry"
# After an onion key rotation: tor started as a relay (DisableNetwork 1, so
# it opens no connection) loads every key file including the .old ones
# (--list-fingerprint does not read onion keys); a file it cannot load is an
# "[err]" in its log.
[ "$("$tool" rotate "$ours")" = 1 ] || fail "rotating our onion keys"
[ -f "$ours/keys/secret_onion_key.old" ] && [ -f "$ours/keys/secret_onion_key_ntor.old" ] ||
  fail "no .old onion keys after the rotation"
before=$(cd "$ours/keys" && sha256sum ./*)
"$tor" -f "$work/empty" --defaults-torrc "$work/empty" --DataDirectory "$ours" \
  --Nickname "$nick" --ORPort "127.0.0.1:$our_or" --PublishServerDescriptor 0 \
  --DisableNetwork 1 --SocksPort 0 --Log "info file $work/relay.log" \
  >"$work/relay.out" 2>&1 &
tor_pid=$!
started=
for _ in $(seq 1 60); do
  if grep -q "identity key ed25519 fingerprint is '$nick $our_ed'" "$work/relay.log" 2>/dev/null; then
    started=1
    break
  fi
  kill -0 "$tor_pid" 2>/dev/null || break
  sleep 0.5
done
sleep 1
kill "$tor_pid" 2>/dev/null || true
wait "$tor_pid" 2>/dev/null || true
tor_pid=
if [ -z "$started" ] || grep -q '\[err\]' "$work/relay.log"; then
  grep -E '\[(err|warn)\]' "$work/relay.log" >&2 || true
  fail "tor did not start as a relay on our rotated DataDirectory"
fi
grep -q 'Reading/making onion key' "$work/relay.log" ||
  fail "tor did not load our onion keys"
after=$(cd "$ours/keys" && sha256sum ./*)
[ "$before" = "$after" ] || fail "tor rewrote key files after our rotation"
echo "tor runs as a relay on our rotated keys (with .old files)"

# The authority.
auth=$work/auth
mkdir -m 700 "$auth" "$auth/keys"
echo "" | "$gencert" --create-identity-key --passphrase-fd 0 -m 12 \
  -a "127.0.0.1:$auth_dir" -i "$auth/keys/authority_identity_key" \
  -s "$auth/keys/authority_signing_key" -c "$auth/keys/authority_certificate" \
  >"$work/gencert.log" 2>&1 || { cat "$work/gencert.log" >&2; fail "tor-gencert"; }
v3ident=$(sed -n 's/^fingerprint //p' "$auth/keys/authority_certificate")
auth_fp=$(timeout 60 "$tor" -f "$work/empty" --defaults-torrc "$work/empty" \
    --list-fingerprint --DataDirectory "$auth" --Nickname auth0 \
    --ORPort "127.0.0.1:$auth_or" --DisableNetwork 1 --SocksPort 0 \
    --Log "err stderr" 2>&1 | sed -n 's/^auth0 \([0-9A-F ]*\)$/\1/p' | tr -d ' ')
[ ${#auth_fp} = 40 ] || fail "no authority fingerprint"
cat >"$auth/torrc" <<EOF
TestingTorNetwork 1
DataDirectory $auth
Nickname auth0
Log notice file $auth/notice.log
SafeLogging 0
Sandbox 0
RunAsDaemon 0
Address 127.0.0.1
ORPort 127.0.0.1:$auth_or
DirPort 127.0.0.1:$auth_dir
SocksPort 0
ExitRelay 0
ExitPolicy reject *:*
AssumeReachable 1
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
AuthDirTestReachability 0
ContactInfo auth0@test.invalid
DirAuthority auth0 orport=$auth_or no-v2 v3ident=$v3ident 127.0.0.1:$auth_dir $auth_fp
EOF
"$tor" -f "$auth/torrc" --defaults-torrc "$work/empty" >"$work/auth.out" 2>&1 &
tor_pid=$!
dirport=127.0.0.1:$auth_dir
ready=
for _ in $(seq 1 60); do
  kill -0 "$tor_pid" 2>/dev/null || { cat "$work/auth.out" >&2; fail "the authority exited"; }
  if status=$("$tool" get "$dirport" /tor/server/authority "$work/auth-desc" 2>/dev/null) &&
      [ "${status%% *}" = 200 ]; then
    ready=1
    break
  fi
  sleep 0.5
done
[ -n "$ready" ] || fail "the authority's DirPort $dirport never served its descriptor"
echo "authority $auth_fp up on DirPort $dirport"

# 2. Tampered descriptors. tor's authority answers "200 [None]" both to an
# accepted descriptor and to a POST in which no descriptor parses (dircache.c
# starts msg as "[None]"; process_descs.c dirserv_add_multiple_descriptors
# keeps ROUTER_ADDED_SUCCESSFULLY when nothing parsed), and a descriptor with
# a bad signature does not parse. So rejection is checked by what the
# authority logs and stores: the signature warning, and nothing under the
# tampered digest or our fingerprint. A byte that breaks UTF-8 gets "400".
digest=$("$tool" build "$ours" "$nick" "$our_or" "$work/desc") || fail "building our descriptor"
sed 's/^contact hsrelayup@/contact hsrelayuq@/' "$work/desc" >"$work/desc-tampered"
changed=$( (cmp -l "$work/desc" "$work/desc-tampered" || true) | wc -l)
[ "$changed" = 1 ] || fail "tampering changed $changed bytes, not 1"
tampered_digest=$(sed -n '1,/^router-signature$/p' "$work/desc-tampered" |
  sha1sum | cut -c1-40 | tr a-f A-F)
status=$("$tool" post "$dirport" "$work/desc-tampered") || fail "posting the tampered descriptor"
echo "tampered descriptor (contact byte): $status"
[ "$status" = "200 [None]" ] || fail "tampered descriptor: expected '200 [None]', got '$status'"
grep -q 'Incorrect ed25519 signature' "$auth/notice.log" ||
  fail "the authority logged no signature failure for the tampered descriptor"
for path in "/tor/server/d/$tampered_digest" "/tor/server/fp/$our_fp"; do
  status=$("$tool" get "$dirport" "$path" "$work/served") || fail "GET $path"
  [ "${status%% *}" = 404 ] || fail "after the tampered upload, GET $path: $status"
done
cp "$work/desc" "$work/desc-utf8"
printf '\377' | dd of="$work/desc-utf8" bs=1 seek=7 conv=notrunc 2>/dev/null
changed=$( (cmp -l "$work/desc" "$work/desc-utf8" || true) | wc -l)
[ "$changed" = 1 ] || fail "UTF-8 tampering changed $changed bytes, not 1"
status=$("$tool" post "$dirport" "$work/desc-utf8") || fail "posting the non-UTF-8 descriptor"
echo "tampered descriptor (non-UTF-8 byte): $status"
[ "${status%% *}" = 400 ] || fail "non-UTF-8 descriptor: expected 400, got '$status'"

# 3. Ours.
status=$("$tool" post "$dirport" "$work/desc") || fail "posting our descriptor"
echo "our descriptor: $status"
[ "${status%% *}" = 200 ] || fail "the authority refused our descriptor: $status"
# What the authority stores and serves is the signed document, through the
# END SIGNATURE line: tor's own text has one more "\n" after it.
signed_len=$(grep -b -- '^-----END SIGNATURE-----$' "$work/desc" | tail -1 | cut -d: -f1)
signed_len=$((signed_len + 24))
head -c "$signed_len" "$work/desc" >"$work/desc-signed"
for path in "/tor/server/d/$digest" "/tor/server/fp/$our_fp"; do
  status=$("$tool" get "$dirport" "$path" "$work/served") || fail "GET $path"
  [ "${status%% *}" = 200 ] || fail "GET $path: $status"
  cmp "$work/desc-signed" "$work/served" >&2 || fail "GET $path served other bytes than ours"
  echo "GET $path: $status, $(wc -c <"$work/served") bytes, identical"
done
echo "descriptor digest $digest"

# 4. The same relay hibernating (AccountingMax, docs/accounting.md): a
# newer descriptor with "hibernating 1", observed bandwidth 0 and no
# tunnelled-dir-server; tor's authority must take it over the first one
# (the change is not cosmetic to it) and serve it under our fingerprint.
sleep 1
hib_digest=$("$tool" build "$ours" "$nick" "$our_or" "$work/desc-hib" hibernating) ||
  fail "building our hibernating descriptor"
grep -qx 'hibernating 1' "$work/desc-hib" || fail "no 'hibernating 1' line in it"
status=$("$tool" post "$dirport" "$work/desc-hib") || fail "posting our hibernating descriptor"
echo "our hibernating descriptor: $status"
[ "${status%% *}" = 200 ] || fail "the authority refused our hibernating descriptor: $status"
signed_len=$(grep -b -- '^-----END SIGNATURE-----$' "$work/desc-hib" | tail -1 | cut -d: -f1)
head -c $((signed_len + 24)) "$work/desc-hib" >"$work/desc-hib-signed"
for path in "/tor/server/d/$hib_digest" "/tor/server/fp/$our_fp"; do
  status=$("$tool" get "$dirport" "$path" "$work/served") || fail "GET $path"
  [ "${status%% *}" = 200 ] || fail "GET $path: $status"
  cmp "$work/desc-hib-signed" "$work/served" >&2 ||
    fail "GET $path served other bytes than our hibernating descriptor"
  echo "GET $path: $status, the hibernating descriptor"
done
cat "$work/desc"
