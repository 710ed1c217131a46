"""Reads a pcapng file (the pcapng spec, draft-ietf-opsawg-pcapng) as
hsrelay's DPDKCapture writes it and prints what the netns tests compare:

  pcapng_check.py FILE [--port N]

One line "key=value ..." with:
  interfaces    interface description blocks (link type 1, Ethernet, each)
  frames, in, out   enhanced packet blocks, by the direction in epb_flags
  first_ns, last_ns timestamps of the first and last frame, in ns since
      1970 (each interface's if_tsresol, a power of ten, default us)
  arp_in, arp_out, icmp_echo_in, icmp_reply_out
  syn_out       TCP SYNs sent (connections the dataplane opened)
  ipv4_bad_checksum IPv4 headers whose checksum does not verify
  tcp_in_sha256, tcp_out_sha256, tcp_in_bytes, tcp_out_bytes: the TCP
      payload to and from --port, each direction's segments put in sequence
      order from the SYN (retransmissions and overlaps counted once)
Exits 1 with a message on anything malformed.
"""
import argparse
import hashlib
import struct
import sys

SHB, IDB, EPB = 0x0A0D0D0A, 0x00000001, 0x00000006


def die(msg):
    print(f"pcapng_check: {msg}", file=sys.stderr)
    sys.exit(1)


def options(data):
    """(code, value) pairs of an options list."""
    pos = 0
    while pos + 4 <= len(data):
        code, length = struct.unpack_from("<HH", data, pos)
        if code == 0:
            return
        yield code, data[pos + 4:pos + 4 + length]
        pos += 4 + ((length + 3) & ~3)


def ipv4_checksum_ok(header):
    total = 0
    for i in range(0, len(header), 2):
        total += (header[i] << 8) | header[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


class Stream:
    """One direction's TCP payload, in sequence order from its SYN."""

    def __init__(self):
        self.isn = None
        self.chunks = {}

    def add(self, seq, flags, payload):
        if flags & 0x02:  # SYN
            self.isn = seq
            return
        if self.isn is None or not payload:
            return
        offset = (seq - self.isn - 1) & 0xFFFFFFFF
        self.chunks.setdefault(offset, payload)

    def data(self):
        out = bytearray()
        for offset in sorted(self.chunks):
            payload = self.chunks[offset]
            if offset > len(out):
                die(f"a hole in the TCP stream at byte {len(out)} (next segment at {offset})")
            out += payload[len(out) - offset:]
        return bytes(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with open(args.file, "rb") as f:
        data = f.read()
    counts = dict(interfaces=0, frames=0, inbound=0, outbound=0, arp_in=0, arp_out=0,
                  icmp_echo_in=0, icmp_reply_out=0, syn_out=0, ipv4_bad_checksum=0)
    first_ns = last_ns = None
    tsresol = []
    streams = {"in": Stream(), "out": Stream()}
    pos = 0
    if len(data) < 28 or struct.unpack_from("<I", data, 0)[0] != SHB:
        die("no section header block")
    if struct.unpack_from("<I", data, 8)[0] != 0x1A2B3C4D:
        die("not a little-endian section")
    while pos < len(data):
        if pos + 12 > len(data):
            die(f"truncated block at {pos}")
        btype, blen = struct.unpack_from("<II", data, pos)
        if blen < 12 or blen % 4 or pos + blen > len(data):
            die(f"bad block length {blen} at {pos}")
        if struct.unpack_from("<I", data, pos + blen - 4)[0] != blen:
            die(f"block at {pos}: trailing length differs")
        body = data[pos + 8:pos + blen - 4]
        if btype == IDB:
            linktype = struct.unpack_from("<H", body, 0)[0]
            if linktype != 1:
                die(f"interface {counts['interfaces']} has link type {linktype}, not Ethernet")
            resolution = 6
            for code, value in options(body[8:]):
                if code == 9 and len(value) == 1:  # if_tsresol
                    if value[0] & 0x80:
                        die("if_tsresol as a power of two")
                    resolution = value[0]
            tsresol.append(resolution)
            counts["interfaces"] += 1
        elif btype == EPB:
            iface, ts_high, ts_low, caplen, origlen = struct.unpack_from("<IIIII", body, 0)
            if iface >= counts["interfaces"]:
                die(f"frame {counts['frames']} names interface {iface} of {counts['interfaces']}")
            if caplen > origlen or 20 + caplen > len(body):
                die(f"frame {counts['frames']}: captured {caplen} of {origlen} bytes")
            frame = body[20:20 + caplen]
            direction = None
            for code, value in options(body[20 + ((caplen + 3) & ~3):]):
                if code == 2 and len(value) == 4:  # epb_flags
                    direction = {1: "in", 2: "out"}.get(struct.unpack("<I", value)[0] & 3)
            if direction is None:
                die(f"frame {counts['frames']} has no direction")
            counts["frames"] += 1
            counts["inbound" if direction == "in" else "outbound"] += 1
            ts = (ts_high << 32) | ts_low
            ts = ts * 10 ** (9 - tsresol[iface]) if tsresol[iface] <= 9 \
                else ts // 10 ** (tsresol[iface] - 9)
            first_ns = ts if first_ns is None else first_ns
            last_ns = ts
            ethertype = struct.unpack_from(">H", frame, 12)[0] if len(frame) >= 14 else 0
            if ethertype == 0x0806:
                counts["arp_" + direction] += 1
            elif ethertype == 0x0800 and len(frame) >= 34:
                ihl = (frame[14] & 0x0F) * 4
                ip = frame[14:14 + ihl]
                if not ipv4_checksum_ok(ip):
                    counts["ipv4_bad_checksum"] += 1
                total_len = struct.unpack_from(">H", frame, 16)[0]
                l4 = frame[14 + ihl:14 + total_len]
                proto = frame[23]
                if proto == 1 and l4:
                    if l4[0] == 8 and direction == "in":
                        counts["icmp_echo_in"] += 1
                    elif l4[0] == 0 and direction == "out":
                        counts["icmp_reply_out"] += 1
                elif proto == 6 and len(l4) >= 20:
                    sport, dport, seq = struct.unpack_from(">HHI", l4, 0)
                    offset = (l4[12] >> 4) * 4
                    flags = l4[13]
                    if direction == "out" and flags & 0x12 == 0x02:
                        counts["syn_out"] += 1
                    if args.port and direction == "in" and dport == args.port:
                        streams["in"].add(seq, flags, l4[offset:])
                    elif args.port and direction == "out" and sport == args.port:
                        streams["out"].add(seq, flags, l4[offset:])
        pos += blen
    tcp_in, tcp_out = streams["in"].data(), streams["out"].data()
    print(" ".join(f"{k}={v}" for k, v in counts.items()),
          f"first_ns={first_ns} last_ns={last_ns}",
          f"tcp_in_bytes={len(tcp_in)} tcp_in_sha256={hashlib.sha256(tcp_in).hexdigest()}",
          f"tcp_out_bytes={len(tcp_out)} tcp_out_sha256={hashlib.sha256(tcp_out).hexdigest()}")


if __name__ == "__main__":
    main()
