#!/usr/bin/env bash
# relay_sighup.sh HSRELAY
# SIGHUP reloads what can be reloaded (docs/config.md "Reloading"): hsrelay
# runs alone on DPDK net_tap in a network namespace this test creates, with
# a MetricsPort inside the namespace and a stub directory authority on the
# kernel side that keeps every descriptor POSTed to it (and answers 404 to
# everything else). The test edits the file and sends SIGHUP three times:
#  1. Nickname, ContactInfo, MyFamily, MaxHSDirCacheBytes,
#     MaxAdvertisedBandwidth, RelayBandwidthRate (reloadable; the latter
#     also sets RelayBandwidthBurst, as in tor) and DPDKMemoryMB (needs a
#     restart): one log line per key says which, the MetricsPort's
#     hsrelay_hsdir_max_bytes shows the new cap, DataDirectory/fingerprint
#     the new nickname, the workers get the relayed-traffic limit, and a new
#     descriptor with the new nickname, contact, family line and tor's
#     effective bandwidth reaches the authority at once;
#  2. an invalid Nickname: the error names file, line and key, hsrelay keeps
#     running with the previous values;
#  3. a MetricsPortPolicy that rejects 127.0.0.1: the MetricsPort answers 403.
# Then SIGTERM must stop it with status 0 and "stats reload valid=2
# refused=1", and its DPDKCapture file must hold the uploads it sent (the
# capture through hsrelay's main loop). Exit 77 (meson: skipped) without root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$here/../netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=standalone_lib.sh
. "$here/standalone_lib.sh"

hsrelay=$1
require_root
require_python

ns=hssighup-$$
tap=hssighup$$
orport=9001
metrics_port=9035
begin_test 0 sighup hsrelay_pid authority_pid
add_netns "$ns"
start=$(date +%s%N)

mkdir -m 0700 "$work/hsrelay"
conf=$work/hsrelay.conf
# write_conf NICKNAME CONTACT HSDIR_CAP MEMORY_MB POLICY [FAMILY]; the
# lines in $bandwidth_lines too.
bandwidth_lines=()
write_conf() {
  {
    echo "# written by $(basename "$0")"
    echo "DPDKLcores $(lcores_for 1)"
    echo "DPDKPort net_tap0,iface=$tap"
    echo "DPDKWorkerQueues 1"
    echo "DPDKMemoryMB $4"
    echo "DPDKIdleSleepUsec 100"
    echo "DPDKMac $mac_ours"
    echo "DPDKCapture $work/hsrelay.pcapng"
    echo "Address $ip_ours/24"
    echo "DataDirectory $work/hsrelay"
    echo "Nickname $1"
    echo "ORPort $orport"
    echo "ContactInfo $2"
    [ -z "${6:-}" ] || echo "MyFamily $6"
    [ "${#bandwidth_lines[@]}" -eq 0 ] || printf '%s\n' "${bandwidth_lines[@]}"
    echo "PublishServerDescriptor 1"
    echo "TestingTorNetwork 1"
    echo "MaxHSDirCacheBytes $3"
    echo "MetricsPort 127.0.0.1:$metrics_port"
    echo "MetricsPortPolicy $5"
    # The stub below: uploads are kept, fetches get 404.
    echo "DirAuthority stub orport=5101 v3ident=0123456789ABCDEF0123456789ABCDEF01234567" \
      "$ip_kernel:5201 89AB CDEF 0123 4567 89AB CDEF 0123 4567 89AB CDEF"
  } >"$conf"
}
write_conf sighupfirst "first contact" "64 MB" 512 "accept 127.0.0.1"
"$hsrelay" -f "$conf" --verify-config >/dev/null || fail "hsrelay --verify-config refused $conf"

standalone_stub_authority
standalone_start

# metric NAME: its value on the MetricsPort (empty when refused).
metric() {
  ip netns exec "$ns" curl -s --max-time 5 "http://127.0.0.1:$metrics_port/metrics" |
    sed -n "s/^$1 //p"
}
# http_status: the MetricsPort's answer to GET /metrics.
http_status() {
  ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    "http://127.0.0.1:$metrics_port/metrics"
}
# hup PATTERN: SIGHUP and wait for PATTERN in hsrelay's log.
hup() {
  kill -HUP "$hsrelay_pid"
  wait_until 10 grep -q "$1" "$work/hsrelay.err" ||
    { tail -20 "$work/hsrelay.err" >&2; fail "no '$1' after SIGHUP"; }
}
wait_until 10 sh -c "ip netns exec $ns curl -s --max-time 2 http://127.0.0.1:$metrics_port/metrics |
  grep -q '^hsrelay_hsdir_max_bytes 67108864$'" ||
  fail "hsrelay_hsdir_max_bytes is '$(metric hsrelay_hsdir_max_bytes)', not 64 MB"
checked "MetricsPort: hsrelay_hsdir_max_bytes 67108864"
wait_until 30 uploaded "contact first contact" ||
  { tail -20 "$work/hsrelay.err" >&2; fail "no descriptor reached the stub authority"; }
checked "descriptor uploaded at start: $(ls "$work/uploads" | wc -l) upload(s)"

uploaded "family.*" && fail "a descriptor without MyFamily has a family line"
uploaded "bandwidth 1073741824 1073741824 [0-9]*" ||
  fail "the first descriptor does not advertise BandwidthRate's default"
family="bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, \$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~sister"
bandwidth_lines=("MaxAdvertisedBandwidth 100 KBytes" "RelayBandwidthRate 200 KBytes")
write_conf sighupsecond "second contact" "32 MB" 256 "accept 127.0.0.1" "$family"
hup 'SIGHUP: MaxHSDirCacheBytes changed'
for line in "SIGHUP: DPDKMemoryMB changed: needs restart, kept old value" \
    "SIGHUP: Nickname changed: applied" "SIGHUP: ContactInfo changed: applied" \
    "SIGHUP: MyFamily changed: applied" "SIGHUP: MaxHSDirCacheBytes changed: applied" \
    "SIGHUP: MaxAdvertisedBandwidth changed: applied" \
    "SIGHUP: RelayBandwidthRate changed: applied" \
    "SIGHUP: RelayBandwidthBurst changed: applied"; do
  grep -qF "$line" "$work/hsrelay.err" || fail "no '$line' in the log"
done
[ "$(grep -c 'SIGHUP: .* changed: ' "$work/hsrelay.err")" = 8 ] ||
  fail "expected 8 changed keys: $(grep 'SIGHUP' "$work/hsrelay.err")"
grep -q 'bandwidth: relayed traffic limited to 204800 bytes/s, bursts of 204800 bytes' \
  "$work/hsrelay.err" || fail "the workers did not get RelayBandwidthRate"
checked "one line per changed key: $(grep -c 'SIGHUP: .* changed: ' "$work/hsrelay.err")"
wait_until 5 sh -c "ip netns exec $ns curl -s --max-time 2 http://127.0.0.1:$metrics_port/metrics |
  grep -q '^hsrelay_hsdir_max_bytes 33554432$'" ||
  fail "hsrelay_hsdir_max_bytes is '$(metric hsrelay_hsdir_max_bytes)' after the reload"
grep -q '^sighupsecond ' "$work/hsrelay/fingerprint" ||
  fail "fingerprint file: $(cat "$work/hsrelay/fingerprint")"
checked "applied: hsrelay_hsdir_max_bytes 33554432, fingerprint names sighupsecond"
# The periodic upload is a minute away (TestingTorNetwork): a new
# descriptor within 10 s comes from the reload.
wait_until 10 uploaded "contact second contact" ||
  fail "no descriptor with the new ContactInfo after SIGHUP"
uploaded "router sighupsecond $ip_ours $orport 0 0" ||
  fail "the new descriptor does not carry the new nickname"
# tor's family line: identities sorted, ours among them, "~sister" dropped.
our_fp=$(sed -n 's/^sighupsecond //p' "$work/hsrelay/fingerprint" | tr -d ' ')
expected_family="family $(printf '$%s\n' AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
  BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB "$our_fp" | LC_ALL=C sort | paste -sd' ')"
uploaded "$expected_family" || fail "no descriptor with '$expected_family'"
grep -q 'SIGHUP: descriptor changed; uploading it' "$work/hsrelay.err" ||
  fail "no 'descriptor changed' line"
# tor router.c relay_get_effective_bwrate(): the least of BandwidthRate,
# MaxAdvertisedBandwidth and RelayBandwidthRate; the burst the lesser of
# BandwidthBurst and RelayBandwidthBurst.
uploaded "bandwidth 102400 204800 [0-9]*" ||
  fail "no descriptor advertising 'bandwidth 102400 204800 ...' after SIGHUP"
checked "descriptor with the new nickname, contact, '$expected_family' and tor's effective" \
  "bandwidth 102400 204800 uploaded after SIGHUP"

write_conf 'bad_nickname!' "third contact" "16 MB" 256 "accept 127.0.0.1" "$family"
hup 'keeping the running configuration'
grep -q "SIGHUP: $conf:[0-9]*: Nickname: .*keeping the running configuration" \
  "$work/hsrelay.err" || fail "the error does not name file, line and key: $(tail -1 "$work/hsrelay.err")"
sleep 0.5
kill -0 "$hsrelay_pid" 2>/dev/null || fail "hsrelay exited on an invalid file"
[ "$(metric hsrelay_hsdir_max_bytes)" = 33554432 ] ||
  fail "an invalid file changed hsrelay_hsdir_max_bytes to $(metric hsrelay_hsdir_max_bytes)"
checked "invalid file: $(grep 'keeping the running' "$work/hsrelay.err" | tail -1); still running"

[ "$(http_status)" = 200 ] || fail "MetricsPort answered $(http_status) before the policy change"
write_conf sighupsecond "second contact" "32 MB" 256 "reject 127.0.0.1, accept *" "$family"
hup 'SIGHUP: MetricsPortPolicy changed: applied'
[ "$(http_status)" = 403 ] || fail "MetricsPort answered $(http_status) after rejecting 127.0.0.1"
checked "MetricsPortPolicy reloaded: 127.0.0.1 now gets 403"

standalone_stop
grep -q '^hsrelay: stats reload valid=2 refused=1$' "$work/hsrelay.out" ||
  fail "reload counters: $(grep 'stats reload' "$work/hsrelay.out")"
checked "stopped with status 0; $(grep 'stats reload' "$work/hsrelay.out")"
"$python" "$here/../netns/pcapng_check.py" "$work/hsrelay.pcapng" >"$work/capture" ||
  fail "pcapng_check.py refused hsrelay's capture"
uploads=$(find "$work/uploads" -type f ! -name '*.tmp' | wc -l)
syn_out=$(tr ' ' '\n' <"$work/capture" | sed -n 's/^syn_out=//p')
[ "$syn_out" -ge "$uploads" ] ||
  fail "the capture has $syn_out connections opened, hsrelay uploaded $uploads descriptors: $(cat "$work/capture")"
checked "DPDKCapture: $(cut -d' ' -f1-4 "$work/capture"), $syn_out connections opened for $uploads uploads"
echo "PASS relay_sighup in $(( ($(date +%s%N) - start) / 1000000 )) ms"
