#!/usr/bin/env bash
# netcheck_capture.sh NETCHECK
# DPDKCapture: the dataplane writes a pcapng file of what its port received
# and sent, which tcpdump cannot show with the kernel bypassed.
# hsrelay-netcheck runs on net_tap in a fresh network namespace with its
# TCP echo service:
#   1. the kernel pings it 5 times and sends 200000 random bytes through
#      the echo; after SIGTERM the file (read by pcapng_check.py, the pcapng
#      spec) holds exactly the frames the worker counted in and out, each
#      with its direction, on an Ethernet interface, timestamped within the
#      test; the 5 echo requests and 5 replies; IPv4 checksums that verify;
#      and the TCP payload of each direction, put in sequence order, is
#      byte for byte what the kernel client sent and got back (SHA-256);
#   2. with DPDKCapturePackets 6 the file holds the first 6 frames only and
#      netcheck says the capture is complete.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
netcheck=$1
require_root
require_python

ns=hsnc-cap-$$
tap=hsncap$$
port=7010
begin_test 1 capture
add_netns "$ns"

# 1. Everything.
t0=$(date +%s%N)
write_netcheck_conf 1 "net_tap0,iface=$tap" "DPDKMemoryMB 512" 4095 100 \
  "NetcheckTcpEchoPort $port" "DPDKCapture $work/all.pcapng"
start_netcheck "$ns" 60 50 10
tap_up "$ns" "$tap"
ip netns exec "$ns" ping -c 5 -i 0.2 -W 2 "$ip_ours" >"$work/ping" 2>&1 ||
  { cat "$work/ping" >&2; fail "ping failed"; }
run_echo_client "$ns" 60 200000 1
finish_netcheck >/dev/null
t1=$(date +%s%N)
grep "capture:" "$work/err" | sed 's/^/  /'
grep -q "capture: .* frames, .* bytes written to $work/all.pcapng; 0 copied beyond the limit, 0 write errors" \
  "$work/err" || fail "netcheck did not report the capture file"
"$python" "$here/pcapng_check.py" "$work/all.pcapng" --port "$port" >"$work/check" ||
  fail "pcapng_check.py refused the file"
cat "$work/check"
got() { tr ' ' '\n' <"$work/check" | sed -n "s/^$1=//p"; }
rx=$(counter "$work/out" 0 rx)
tx=$(counter "$work/out" 0 tx)
[ "$(counter "$work/out" 0 capture_dropped)" = 0 ] ||
  fail "the worker could not copy $(counter "$work/out" 0 capture_dropped) frames"
[ "$(got interfaces)" -ge 1 ] || fail "no interface block"
[ "$(got inbound)" = "$rx" ] && [ "$(got outbound)" = "$tx" ] ||
  fail "the file has $(got inbound) frames in and $(got outbound) out, the worker received $rx and sent $tx"
checked "all $((rx + tx)) frames the worker received ($rx) and sent ($tx) are in the file, with their direction"
[ "$(got first_ns)" -ge "$t0" ] && [ "$(got last_ns)" -le "$t1" ] ||
  fail "timestamps $(got first_ns)..$(got last_ns) outside the test's $t0..$t1"
[ "$(got icmp_echo_in)" = 5 ] && [ "$(got icmp_reply_out)" = 5 ] ||
  fail "echo requests in: $(got icmp_echo_in), replies out: $(got icmp_reply_out); ping sent 5"
[ "$(got arp_in)" -ge 1 ] && [ "$(got arp_out)" -ge 1 ] || fail "no ARP both ways"
[ "$(got ipv4_bad_checksum)" = 0 ] || fail "$(got ipv4_bad_checksum) IPv4 headers with a bad checksum"
sent_sha=$(sed -n 's/.* sent_sha256=\([0-9a-f]*\).*/\1/p' "$work/client")
[ "$(got tcp_in_bytes)" = 200000 ] && [ "$(got tcp_in_sha256)" = "$sent_sha" ] ||
  fail "the TCP stream in the file ($(got tcp_in_bytes) bytes) is not what the client sent"
[ "$(got tcp_out_bytes)" = 200000 ] && [ "$(got tcp_out_sha256)" = "$sent_sha" ] ||
  fail "the TCP stream out in the file ($(got tcp_out_bytes) bytes) is not the echo"
checked "timestamps within the test; 5 echo requests and 5 replies; ARP both ways; IPv4 checksums good;" \
  "the 200000 bytes each way reassemble to the client's SHA-256"

# 2. DPDKCapturePackets.
write_netcheck_conf 1 "net_tap0,iface=$tap" "DPDKMemoryMB 512" 4095 100 \
  "DPDKCapture $work/six.pcapng" "DPDKCapturePackets 6"
start_netcheck "$ns" 60 50 10
tap_up "$ns" "$tap"
ip netns exec "$ns" ping -c 5 -i 0.2 -W 2 "$ip_ours" >"$work/ping" 2>&1 ||
  { cat "$work/ping" >&2; fail "ping failed (second run)"; }
wait_until 5 grep -q "capture: $work/six.pcapng holds 6 frames (DPDKCapturePackets); no more are copied" \
  "$work/err" || { cat "$work/err" >&2; fail "no 'holds 6 frames' line"; }
finish_netcheck >/dev/null
"$python" "$here/pcapng_check.py" "$work/six.pcapng" >"$work/check" ||
  fail "pcapng_check.py refused the limited file"
[ "$(got frames)" = 6 ] || fail "DPDKCapturePackets 6: the file has $(got frames) frames"
checked "DPDKCapturePackets 6: 6 frames, then no more ($(grep -o 'capture: .* frames, .* written' "$work/err" | tail -1))"
echo "PASS netcheck_capture"
