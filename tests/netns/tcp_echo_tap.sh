#!/usr/bin/env bash
# tcp_echo_tap.sh NETCHECK [KBYTES] [CONNECTIONS] [LOSS_PERCENT]
# Kernel TCP clients -> hsrelay-netcheck's TCP echo service over net_tap,
# in a fresh network namespace (the kernel's end of the tap is in it too):
#   - CONNECTIONS (default 1) kernel connections at once each send KBYTES
#     (default 100000, i.e. 100 MB) kB of seeded random bytes, half-close, and read the echo
#     until EOF; every echo must match what was sent (SHA-256), byte count
#     included;
#   - with LOSS_PERCENT, nftables drops that share of TCP packets at random
#     in both directions on the kernel side (numgen; the kernel has no
#     netem), so both stacks retransmit;
#   - netcheck exits 0 on SIGTERM; its counters show the connections
#     accepted and closed, no checksum drops and nothing lost at TX;
#   - TCP checksums are the device's both ways (net_tap verifies received
#     ones and computes sent ones, DPDKChecksumOffload's default): every
#     segment in and out was left to it, and the kernel took them all.
# Prints the goodput (MB/s each way) measured by the kernel client.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
netcheck=$1
kbytes=${2:-100000}
connections=${3:-1}
loss=${4:-0}
require_root
require_python

ns=hsnc-te-$$
tap=hsnte$$
port=7007
begin_test 3 tcpecho

add_netns "$ns"
write_netcheck_conf 1 "net_tap0,iface=$tap" "DPDKMemoryMB 512" 65535 20 \
  "NetcheckTcpEchoPort $port"
start_netcheck "$ns" 120 110 15
# A deeper tun queue than the default 1000: 64 kernel senders at once
# overflow it while the worker reads one frame per readv().
tap_up "$ns" "$tap" 10000

if [ "$loss" -gt 0 ]; then
  ip netns exec "$ns" nft -f - <<NFT
table inet impair {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "$tap" meta l4proto tcp numgen random mod 100 < $loss counter drop
  }
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "$tap" meta l4proto tcp numgen random mod 100 < $loss counter drop
  }
}
NFT
  checked "nftables drops $loss % of TCP packets each way on $tap"
fi

bytes=$((kbytes * 1000))
run_echo_client "$ns" 100 "$bytes" "$connections"
echo "kernel side: $(ip -n "$ns" -s link show "$tap" | awk '/TX:/{getline; print "tap tx packets=" $2 " dropped=" $4}')" \
  "$(ip netns exec "$ns" nstat -a 2>/dev/null | awk '/Retrans|Timeout|Drop|Prune|Collapse|OFO|Lost|Loss|Reord/{printf "%s=%s ", $1, $2}')"
checked "$connections x $kbytes kB echoed byte-exact (SHA-256): $(tail -1 "$work/client" | sed 's/^client: //')"
if [ "$loss" -gt 0 ]; then
  ip netns exec "$ns" nft list table inet impair | grep -o 'counter packets [0-9]*' |
    awk '{d += $3} END {print "ok: nftables dropped " d " TCP packets"}'
fi

# Let the last closes finish, then stop.
sleep 0.3
finish_netcheck
accepted=$(counter "$work/out" 0 echo_accepted)
closed=$(counter "$work/out" 0 echo_closed)
csum=$(counter "$work/out" 0 tcp_drop_checksum)
txd=$(counter "$work/out" 0 tx_dropped)
[ "$accepted" -eq "$connections" ] || fail "echo_accepted=$accepted, expected $connections"
[ "$closed" -eq "$connections" ] || fail "echo_closed=$closed, expected $connections"
[ "$csum" -eq 0 ] || fail "tcp_drop_checksum=$csum"
[ "$txd" -eq 0 ] || fail "tx_dropped=$txd"
grep -q '^netcheck: port .* checksum offload rx on tx single-segment ' "$work/out" ||
  fail "net_tap's checksum offloads not enabled: $(head -1 "$work/out")"
check_checksum_offloads "$work/out" 0 1
checked "counters: echo_accepted=$accepted echo_closed=$closed tcp_drop_checksum=0 tx_dropped=0" \
  "retransmitted=$(counter "$work/out" 0 tcp_retransmitted_segments)"
echo "PASS tcp_echo_tap ${connections}x${kbytes}kB loss=${loss}%"
