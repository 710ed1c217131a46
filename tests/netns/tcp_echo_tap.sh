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
#     accepted and closed, no checksum drops and nothing lost at TX.
# Prints the goodput (MB/s each way) measured by the kernel client.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
netcheck=$1
kbytes=${2:-100000}
connections=${3:-1}
loss=${4:-0}
require_root
python=/usr/bin/python3
[ -x "$python" ] || fail "needs $python"

ns=hsnc-te-$$
tap=hsnte$$
ip_ours=10.77.3.2
ip_kernel=10.77.3.1
mac_ours=02:00:00:77:03:02
port=7007
work=$(mktemp -d /tmp/hsrelay-netns-tcpecho.XXXXXX)
pid=

cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
  net.ipv6.conf.default.disable_ipv6=1

cat > "$work/netcheck.conf" <<CONF
# written by tcp_echo_tap.sh
DPDKLcores $(lcores_for 1)
DPDKPort net_tap0,iface=$tap
DPDKWorkerQueues 1
DPDKMemoryMB 512
DPDKMbufsPerWorker 65535
DPDKIdleSleepUsec 20
DPDKMac $mac_ours
Address $ip_ours/24
NetcheckTcpEchoPort $port
CONF

ip netns exec "$ns" timeout 120 "$netcheck" -f "$work/netcheck.conf" --seconds 110 \
  >"$work/out" 2>"$work/err" &
pid=$!
if ! wait_until 15 grep -q '^netcheck: port' "$work/out"; then
  cat "$work/err" >&2
  fail "netcheck did not come up"
fi
checked "netcheck up: $(head -1 "$work/out")"
ip -n "$ns" addr add "$ip_kernel/24" dev "$tap"
# A deeper tun queue than the default 1000: 64 kernel senders at once
# overflow it while the worker reads one frame per readv().
ip -n "$ns" link set "$tap" txqueuelen 10000
ip -n "$ns" link set "$tap" up

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
if ! ip netns exec "$ns" timeout 100 "$python" "$here/tcp_peer.py" client "$ip_ours" "$port" \
    --bytes "$bytes" --connections "$connections" >"$work/client" 2>&1; then
  cat "$work/client" >&2
  stop_netcheck "$pid" "$work/out" || true
  pid=
  cat "$work/out" >&2
  fail "kernel client: echo incomplete or different"
fi
cat "$work/client"
echo "kernel side: $(ip -n "$ns" -s link show "$tap" | awk '/TX:/{getline; print "tap tx packets=" $2 " dropped=" $4}')" \
  "$(ip netns exec "$ns" nstat -a 2>/dev/null | awk '/Retrans|Timeout|Drop|Prune|Collapse|OFO|Lost|Loss|Reord/{printf "%s=%s ", $1, $2}')"
checked "$connections x $kbytes kB echoed byte-exact (SHA-256): $(tail -1 "$work/client" | sed 's/^client: //')"
if [ "$loss" -gt 0 ]; then
  ip netns exec "$ns" nft list table inet impair | grep -o 'counter packets [0-9]*' |
    awk '{d += $3} END {print "ok: nftables dropped " d " TCP packets"}'
fi

# Let the last closes finish, then stop.
sleep 0.3
stop_netcheck "$pid" "$work/out"
pid=
cat "$work/out"
accepted=$(counter "$work/out" 0 echo_accepted)
closed=$(counter "$work/out" 0 echo_closed)
csum=$(counter "$work/out" 0 tcp_drop_checksum)
txd=$(counter "$work/out" 0 tx_dropped)
[ "$accepted" -eq "$connections" ] || fail "echo_accepted=$accepted, expected $connections"
[ "$closed" -eq "$connections" ] || fail "echo_closed=$closed, expected $connections"
[ "$csum" -eq 0 ] || fail "tcp_drop_checksum=$csum"
[ "$txd" -eq 0 ] || fail "tx_dropped=$txd"
checked "counters: echo_accepted=$accepted echo_closed=$closed tcp_drop_checksum=0 tx_dropped=0" \
  "retransmitted=$(counter "$work/out" 0 tcp_retransmitted_segments)"
echo "PASS tcp_echo_tap ${connections}x${kbytes}kB loss=${loss}%"
