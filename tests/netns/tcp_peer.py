"""Kernel-side TCP peers for the netns tests of hsrelay's TCP stack.

  tcp_peer.py client HOST PORT --bytes N [--connections K] [--seed S]
      K connections at once; each sends N bytes (seeded random, distinct per
      connection), half-closes, reads the echo until EOF and compares its
      SHA-256 with what it sent. Prints one line per connection and the
      aggregate goodput; exit 0 only if every echo matched.
  tcp_peer.py server PORT --connections K --out FILE
      Echo server: accepts K connections, echoes every byte, closes after
      the peer's EOF, and writes "conn I bytes=N sha256=H" per connection
      (what it received) to FILE; then exits.
  tcp_peer.py pattern N
      Prints the SHA-256 of the first N bytes of hsrelay-netcheck's client
      stream: byte i is byte i % 4 of the little-endian 32-bit number i / 4.
"""
import argparse
import array
import hashlib
import random
import socket
import sys
import threading
import time

TIMEOUT = 60
CHUNK = 1 << 18


def pattern_sha256(n):
    h = hashlib.sha256()
    words = 1 << 20
    for start in range(0, (n + 3) // 4, words):
        block = array.array('I', range(start, min(start + words, (n + 3) // 4)))
        if sys.byteorder != 'little':
            block.byteswap()
        data = block.tobytes()
        if (start + words) * 4 > n:
            data = data[:n - start * 4]
        h.update(data)
    return h.hexdigest()


def one_client(host, port, data, result):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    err = []

    def sender():
        try:
            view = memoryview(data)
            for off in range(0, len(data), CHUNK):
                s.sendall(view[off:off + CHUNK])
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=sender)
    t.start()
    h = hashlib.sha256()
    got = 0
    try:
        while True:
            b = s.recv(CHUNK)
            if not b:
                break
            h.update(b)
            got += len(b)
    except OSError as e:
        err.append(e)
    t.join()
    s.close()
    result.update(bytes=got, sha256=h.hexdigest(), error=err[0] if err else None)


def client(args):
    results = []
    threads = []
    sent_sha = []
    payloads = []
    for k in range(args.connections):
        data = random.Random(args.seed + k).randbytes(args.bytes)
        payloads.append(data)
        sent_sha.append(hashlib.sha256(data).hexdigest())
    start = time.monotonic()
    for k in range(args.connections):
        r = {}
        results.append(r)
        t = threading.Thread(target=one_client, args=(args.host, args.port, payloads[k], r))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    bad = 0
    total = 0
    for k, r in enumerate(results):
        ok = r.get('bytes') == args.bytes and r.get('sha256') == sent_sha[k] and not r.get('error')
        bad += not ok
        total += r.get('bytes', 0)
        if args.connections <= 4 or not ok:
            print(f"conn {k} sent={args.bytes} echoed={r.get('bytes')} "
                  f"sent_sha256={sent_sha[k]} echo_sha256={r.get('sha256')} "
                  f"error={r.get('error')} {'ok' if ok else 'MISMATCH'}")
    print(f"client: {args.connections} connections, {total} bytes echoed in {elapsed:.2f} s: "
          f"{total / 1e6 / elapsed:.1f} MB/s each way, {bad} failed")
    return 1 if bad else 0


def serve_one(conn, index, results):
    conn.settimeout(TIMEOUT)
    h = hashlib.sha256()
    got = 0
    try:
        while True:
            b = conn.recv(CHUNK)
            if not b:
                break
            h.update(b)
            got += len(b)
            conn.sendall(b)
    except OSError as e:
        print(f"server: conn {index}: {e}", file=sys.stderr)
    conn.close()
    results[index] = (got, h.hexdigest())


def server(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', args.port))
    ls.listen(128)
    ls.settimeout(TIMEOUT)
    print("listening", flush=True)
    results = {}
    threads = []
    for i in range(args.connections):
        conn, peer = ls.accept()
        print(f"accepted {i} peer={peer[0]}:{peer[1]}", flush=True)
        t = threading.Thread(target=serve_one, args=(conn, i, results))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    with open(args.out, 'w') as f:
        for i in sorted(results):
            f.write(f"conn {i} bytes={results[i][0]} sha256={results[i][1]}\n")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('client')
    c.add_argument('host')
    c.add_argument('port', type=int)
    c.add_argument('--bytes', type=int, required=True)
    c.add_argument('--connections', type=int, default=1)
    c.add_argument('--seed', type=int, default=1)
    s = sub.add_parser('server')
    s.add_argument('port', type=int)
    s.add_argument('--connections', type=int, default=1)
    s.add_argument('--out', required=True)
    q = sub.add_parser('pattern')
    q.add_argument('n', type=int)
    args = p.parse_args()
    if args.cmd == 'client':
        return client(args)
    if args.cmd == 'server':
        return server(args)
    print(pattern_sha256(args.n))
    return 0


if __name__ == '__main__':
    sys.exit(main())
