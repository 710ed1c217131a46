"""A small tor control-port client for the interop test network (stdlib only).

  torctl.py --port P [--cookie FILE] run COMMAND...
      Sends each control command and prints its reply (data blocks
      unescaped, status codes stripped); exit 1 if a reply is not 250.
  torctl.py --port P [--cookie FILE] bootstrap
      Prints the PROGRESS of GETINFO status/bootstrap-phase (0..100).
  torctl.py --port P [--cookie FILE] flags FINGERPRINT...
      Prints "FINGERPRINT nickname address:orport flags" for each relay in
      the consensus tor uses now (GETINFO ns/id/FP) or "FINGERPRINT absent";
      exit 0 only if every relay is listed with Running and Valid.
  torctl.py --port P [--cookie FILE] fetch --socks HOST:PORT --url URL
            --out FILE --isolation TAG --middle FINGERPRINT [--max-time S]
            [--count N] [--expect FILE]
      Subscribes to STREAM and CIRC events, fetches URL with curl through
      the SOCKS port into --out (SOCKS username TAG, or TAG1..TAGN with
      --count N: with tor's default IsolateSOCKSAuth each fetch gets a
      circuit of its own), finds the stream tor opened for it
      (SOCKS_USERNAME, target = the URL's host:port), the circuit it
      SUCCEEDED on and that circuit's path (CIRC events, else GETINFO
      circuit-status), and prints per fetch
          TAG: stream S circuit C hops N middle FP~nick path HOP,HOP,HOP
               seconds T [identical]
      Exit 0 only if every curl succeeded, every path has 3 hops whose
      second is FINGERPRINT and (--expect) every body equals FILE; 1 at the
      first fetch that does not, with the reason (and the stream's events
      if curl failed) on stderr.

The port is on 127.0.0.1 of the caller's network namespace (--host to
change). Authentication: COOKIE with --cookie, else NULL (control-spec 3.5).
"""
import argparse
import base64
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

REPLY_END = re.compile(r'^(\d{3}) ')
DATA_START = re.compile(r'^\d{3}\+')
LONG_NAME = re.compile(r'^\$([0-9A-F]{40})(?:[~=](\S+))?$')


class ControlError(Exception):
    pass


class Controller:
    """One control connection; a reader thread splits asynchronous events
    (650 replies, control-spec 4.1) from the replies to our commands."""

    def __init__(self, host, port, cookie_path, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(None)
        self.file = self.sock.makefile('rb')
        self.replies = queue.Queue()
        self.events = queue.Queue()
        self.timeout = timeout
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()
        if cookie_path:
            with open(cookie_path, 'rb') as f:
                secret = f.read().hex()
            self.command('AUTHENTICATE ' + secret)
        else:
            self.command('AUTHENTICATE')

    def _line(self):
        raw = self.file.readline()
        if not raw:
            raise EOFError('control connection closed')
        return raw.decode('utf-8', 'replace').rstrip('\r\n')

    def _read_block(self, first):
        """Reads one reply (one or more lines) starting with FIRST; returns
        (status, lines) with status codes stripped and data blocks
        unescaped (control-spec 2.3)."""
        lines = []
        line = first
        while True:
            if DATA_START.match(line):
                lines.append(line[4:])
                while True:
                    data = self._line()
                    if data == '.':
                        break
                    lines.append(data[1:] if data.startswith('.') else data)
            else:
                lines.append(line[4:])
                end = REPLY_END.match(line)
                if end:
                    return end.group(1), lines
            line = self._line()

    def _read_loop(self):
        try:
            while True:
                status, lines = self._read_block(self._line())
                (self.events if status == '650' else self.replies).put((status, lines))
        except (EOFError, OSError, ValueError) as error:
            self.replies.put(('EOF', [str(error)]))
            self.events.put(('EOF', [str(error)]))

    def command(self, text):
        """Sends TEXT; returns the reply lines, raises ControlError unless 250."""
        self.sock.sendall((text + '\r\n').encode())
        try:
            status, lines = self.replies.get(timeout=self.timeout)
        except queue.Empty:
            raise ControlError('no reply to %r within %d s' % (text.split(' ')[0], self.timeout))
        if status != '250':
            raise ControlError('%s: %s %s' % (text.split(' ')[0], status, ' | '.join(lines)))
        return lines

    def getinfo(self, key):
        """The value of one GETINFO key (several lines joined by newlines)."""
        lines = self.command('GETINFO ' + key)
        if lines and lines[-1] == 'OK':
            lines = lines[:-1]
        if not lines or not lines[0].startswith(key + '='):
            raise ControlError('GETINFO %s: unexpected reply %r' % (key, lines[:2]))
        lines[0] = lines[0][len(key) + 1:]
        return '\n'.join(line for line in lines if line != '')

    def close(self):
        try:
            self.sock.sendall(b'QUIT\r\n')
        except OSError:
            pass
        self.sock.close()


def keywords(fields):
    """KEY=VALUE arguments of an event line (quotes removed)."""
    out = {}
    for field in fields:
        if '=' in field:
            key, value = field.split('=', 1)
            out[key] = value.strip('"')
    return out


def split_event(line):
    """Splits an event line, keeping quoted strings whole."""
    return re.findall(r'(?:[^\s"]|"(?:\\.|[^"])*")+', line)


def parse_path(text):
    """[(fingerprint, nickname)] of a circuit path ($FP~nick,...)."""
    hops = []
    for hop in text.split(','):
        match = LONG_NAME.match(hop)
        if not match:
            raise ControlError('unexpected hop %r in path %r' % (hop, text))
        hops.append((match.group(1), match.group(2) or '?'))
    return hops


def cmd_run(ctl, args):
    for text in args.commands:
        print('\n'.join(ctl.command(text)))
    return 0


def cmd_bootstrap(ctl, _args):
    phase = ctl.getinfo('status/bootstrap-phase')
    match = re.search(r'PROGRESS=(\d+)', phase)
    print(match.group(1) if match else 0)
    return 0


def fingerprint_of(identity_b64):
    return base64.b64decode(identity_b64 + '=' * (-len(identity_b64) % 4)).hex().upper()


def cmd_flags(ctl, args):
    ok = True
    for fp in args.fingerprints:
        fp = fp.lstrip('$').upper()
        try:
            entry = ctl.getinfo('ns/id/' + fp)
        except ControlError:
            entry = ''
        router = [line.split() for line in entry.split('\n') if line.startswith('r ')]
        flags = [line.split()[1:] for line in entry.split('\n') if line.startswith('s ')]
        if not router or fingerprint_of(router[0][2]) != fp:
            print(fp, 'absent')
            ok = False
            continue
        r, s = router[0], (flags[0] if flags else [])
        # dir-spec 3.4.1: "r" nickname identity [digest] published-date
        # published-time IP ORPort DirPort; the microdesc flavour has no digest.
        address = '%s:%s' % (r[-3], r[-2])
        print(fp, r[1], address, ' '.join(s))
        ok = ok and 'Running' in s and 'Valid' in s
    return 0 if ok else 1


def print_stream_events(ctl, isolation):
    """After a failed fetch: prints to stderr the STREAM events of streams
    with SOCKS username ISOLATION and the CIRC events of their circuits
    (events of the next 2 s included), to tell why tor gave up."""
    circuits, lines = set(), []
    deadline = time.monotonic() + 2
    while True:
        try:
            status, block = ctl.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if status == 'EOF':
            break
        lines.append(block[0])
    for line in lines:
        fields = split_event(line)
        if (fields[0] == 'STREAM' and len(fields) > 3
                and keywords(fields[5:]).get('SOCKS_USERNAME') == isolation):
            circuits.add(fields[3])
    for line in lines:
        fields = split_event(line)
        if ((fields[0] == 'STREAM' and keywords(fields[5:]).get('SOCKS_USERNAME') == isolation)
                or (fields[0] == 'CIRC' and len(fields) > 1 and fields[1] in circuits)):
            print('  event: ' + line, file=sys.stderr)


class PathTracker:
    """Follows CIRC and STREAM events; finds the circuit a stream used."""

    def __init__(self, ctl):
        self.ctl = ctl
        self.paths = {}

    def stream_circuit(self, isolation, target, seconds):
        """(stream id, circuit id) of the stream to TARGET with SOCKS
        username ISOLATION that SUCCEEDED, from the events of the next
        SECONDS at most; (None, None) if none."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                status, lines = self.ctl.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if status == 'EOF':
                break
            fields = split_event(lines[0])
            if len(fields) >= 4 and fields[0] == 'CIRC' and fields[2] in ('EXTENDED', 'BUILT'):
                self.paths[fields[1]] = fields[3]
            elif (len(fields) >= 5 and fields[0] == 'STREAM' and fields[2] == 'SUCCEEDED'
                  and fields[4] == target
                  and keywords(fields[5:]).get('SOCKS_USERNAME') == isolation):
                return fields[1], fields[3]
        return None, None

    def path(self, circuit):
        """The path of CIRCUIT from its events, else from circuit-status
        (a circuit built before we subscribed)."""
        if circuit not in self.paths:
            for line in self.ctl.getinfo('circuit-status').split('\n'):
                fields = line.split()
                if len(fields) >= 3 and fields[0] == circuit:
                    self.paths[circuit] = fields[2]
        return self.paths.get(circuit)


def fetch_once(ctl, tracker, args, isolation, target, middle, expect):
    """One fetch with SOCKS username ISOLATION; prints its line; returns 0
    if it succeeded on a 3-hop circuit with MIDDLE second (and the body
    equals EXPECT when given)."""
    started = time.monotonic()
    curl = subprocess.run(
        ['curl', '-sS', '--fail', '--max-time', str(args.max_time),
         '--socks5-hostname', '%s:x@%s' % (isolation, args.socks),
         '-o', args.out, args.url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - started
    if curl.returncode != 0:
        print('%s: curl exit %d: %s' % (isolation, curl.returncode,
                                        curl.stdout.decode(errors='replace').strip()),
              file=sys.stderr)
        print_stream_events(ctl, isolation)
        return 1
    # SUCCEEDED precedes the data curl received; it names the circuit.
    stream, circuit = tracker.stream_circuit(isolation, target, 10)
    if circuit is None:
        print('%s: no SUCCEEDED stream to %s among the events' % (isolation, target),
              file=sys.stderr)
        return 1
    path_text = tracker.path(circuit)
    if path_text is None:
        print('%s: circuit %s of stream %s not found' % (isolation, circuit, stream),
              file=sys.stderr)
        return 1
    hops = parse_path(path_text)
    second = '%s~%s' % hops[1] if len(hops) > 1 else '-'
    same = ''
    if expect is not None:
        with open(args.out, 'rb') as f:
            same = ' identical' if f.read() == expect else ' DIFFERENT'
    print('%s: stream %s circuit %s hops %d middle %s path %s seconds %.3f%s'
          % (isolation, stream, circuit, len(hops), second, path_text, seconds, same),
          flush=True)
    if len(hops) != 3 or hops[1][0] != middle:
        print('%s: circuit %s: middle hop is %s, expected $%s'
              % (isolation, circuit, second, middle), file=sys.stderr)
        return 1
    if same == ' DIFFERENT':
        print('%s: the body differs from %s' % (isolation, args.expect), file=sys.stderr)
        return 1
    return 0


def cmd_fetch(ctl, args):
    url = urllib.parse.urlsplit(args.url)
    target = '%s:%d' % (url.hostname, url.port or 80)
    middle = args.middle.lstrip('$').upper()
    expect = None
    if args.expect:
        with open(args.expect, 'rb') as f:
            expect = f.read()
    ctl.command('SETEVENTS STREAM CIRC')
    tracker = PathTracker(ctl)
    for i in range(1, args.count + 1):
        isolation = args.isolation if args.count == 1 else '%s%d' % (args.isolation, i)
        if fetch_once(ctl, tracker, args, isolation, target, middle, expect) != 0:
            return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--cookie', help='control_auth_cookie file (COOKIE authentication)')
    parser.add_argument('--timeout', type=int, default=30, help='seconds to wait for a reply')
    sub = parser.add_subparsers(dest='action', required=True)
    run = sub.add_parser('run')
    run.add_argument('commands', nargs='+')
    sub.add_parser('bootstrap')
    flags = sub.add_parser('flags')
    flags.add_argument('fingerprints', nargs='+')
    fetch = sub.add_parser('fetch')
    fetch.add_argument('--socks', required=True)
    fetch.add_argument('--url', required=True)
    fetch.add_argument('--out', required=True)
    fetch.add_argument('--isolation', required=True)
    fetch.add_argument('--middle', required=True)
    fetch.add_argument('--max-time', type=int, default=60, help="curl's --max-time")
    fetch.add_argument('--count', type=int, default=1)
    fetch.add_argument('--expect', help='a file the body must equal')
    args = parser.parse_args()

    try:
        ctl = Controller(args.host, args.port, args.cookie, args.timeout)
    except (OSError, ControlError) as error:
        print('torctl: %s:%d: %s' % (args.host, args.port, error), file=sys.stderr)
        return 2
    try:
        return {'run': cmd_run, 'bootstrap': cmd_bootstrap, 'flags': cmd_flags,
                'fetch': cmd_fetch}[args.action](ctl, args)
    except ControlError as error:
        print('torctl: %s' % error, file=sys.stderr)
        return 1
    finally:
        ctl.close()


if __name__ == '__main__':
    sys.exit(main())
