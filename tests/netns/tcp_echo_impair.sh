#!/usr/bin/env bash
# tcp_echo_impair.sh NETCHECK [KBYTES] [CONNECTIONS] [IMPAIR_ARGS...]
# Kernel TCP clients -> hsrelay-netcheck's TCP echo service through the
# user-space impairment bridge (the kernel has no netem):
#   A: vk 10.77.5.1  <->  I: ia [impair] ib  <->  D: vdp (net_af_packet)
# impair (../shared/tools/impair.c, built here from the shared copy at run
# time; skipped when it is absent) delays every frame, adds uniform jitter
# (which reorders), loses and duplicates frames, per direction, from a
# fixed seed. Default IMPAIR_ARGS: -d 5 -j 3 -l 1 -u 0.5 -s 42.
# Every echo must match what was sent (SHA-256), and netcheck's counters
# must show no checksum drops.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
netcheck=$1
kbytes=${2:-2000}
connections=${3:-1}
shift $(( $# < 3 ? $# : 3 ))
impair_args=("$@")
[ ${#impair_args[@]} -gt 0 ] || impair_args=(-d 5 -j 3 -l 1 -u 0.5 -s 42)
require_root
require_python
impair_src=${HSRELAY_IMPAIR_SRC:-$here/../../../shared/tools/impair.c}
if [ ! -f "$impair_src" ]; then
  echo "skipping: no impair.c at $impair_src (set HSRELAY_IMPAIR_SRC)"
  exit 77
fi

nsa=hsnc-ia-$$
nsi=hsnc-ii-$$
nsd=hsnc-id-$$
port=7011
begin_test 5 impair impair

cc -O2 -Wall -Wextra -o "$work/impair" "$impair_src" || fail "cannot build $impair_src"

add_netns "$nsa" "$nsi" "$nsd"
ip link add vk netns "$nsa" type veth peer name ia netns "$nsi"
ip link add ib netns "$nsi" type veth peer name vdp netns "$nsd"
# Offloads off wherever frames enter an AF_PACKET socket: otherwise they
# carry partial checksums or arrive as 64 KB super-frames
# (dpdk-on-ci-machines.md, sections 2 and 5).
ip netns exec "$nsa" ethtool -K vk tx off tso off gso off >/dev/null
for i in ia ib; do ip netns exec "$nsi" ethtool -K "$i" tx off tso off gso off gro off >/dev/null; done
ip netns exec "$nsd" ethtool -K vdp tx off tso off gso off gro off >/dev/null
ip -n "$nsa" addr add "$ip_kernel/24" dev vk
ip -n "$nsa" link set vk up
ip -n "$nsi" link set ia up
ip -n "$nsi" link set ib up
ip -n "$nsd" link set vdp up

ip netns exec "$nsi" "$work/impair" ia ib "${impair_args[@]}" -t 100 \
  >"$work/impair.log" 2>&1 &
impair=$!

# Windows of 1 MByte each way (TCPRecvBuffer, TCPSendBuffer) with CUBIC,
# the settings of a relay on long paths (docs/real-nic.md).
write_netcheck_conf 1 net_af_packet0,iface=vdp,qpairs=1 "DPDKMemoryMB 512" 32767 20 \
  "NetcheckTcpEchoPort $port" "TCPCongestionControl cubic" "TCPRecvBuffer 1 MBytes" \
  "TCPSendBuffer 1 MBytes"
start_netcheck "$nsd" 120 110 15
ping_out=$(ip netns exec "$nsa" ping -c 5 -i 0.2 -W 2 "$ip_ours" 2>&1) || true
checked "ping through impair (${impair_args[*]}): $(echo "$ping_out" | grep -E 'transmitted|rtt' | tr '\n' ' ')"

bytes=$((kbytes * 1000))
run_echo_client "$nsa" 90 "$bytes" "$connections"
checked "$connections x $kbytes kB echoed byte-exact through impair (${impair_args[*]}): $(tail -1 "$work/client" | sed 's/^client: //')"
sleep 0.3
stop_netcheck "$pid" "$work/out"
pid=
kill -INT "$impair" 2>/dev/null || true
wait "$impair" 2>/dev/null || true
impair=
cat "$work/impair.log"
cat "$work/out"
[ "$(counter "$work/out" 0 echo_accepted)" -eq "$connections" ] || fail "not every connection accepted"
[ "$(counter "$work/out" 0 tcp_drop_checksum)" -eq 0 ] || fail "TCP checksum drops"
checked "counters: ooo_segments=$(counter "$work/out" 0 tcp_ooo_segments)" \
  "retransmitted=$(counter "$work/out" 0 tcp_retransmitted_segments)" \
  "fast_retransmits=$(counter "$work/out" 0 tcp_fast_retransmits)" \
  "timeouts=$(counter "$work/out" 0 tcp_retransmit_timeouts)"
echo "PASS tcp_echo_impair ${connections}x${kbytes}kB (${impair_args[*]})"
