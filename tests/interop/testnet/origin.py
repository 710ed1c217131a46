"""The HTTP origin of the interop test network (stdlib only).

  origin.py --bind ADDR --port PORT --directory DIR --owner PID

Serves the files of DIR over HTTP/1.0 (one thread per connection) and exits
when process PID (the test's shell) is gone, so that a test killed without
running its cleanup leaves no server behind.
"""
import argparse
import functools
import http.server
import os
import sys
import threading
import time


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def owner_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--bind', required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--directory', required=True)
    parser.add_argument('--owner', type=int, required=True)
    args = parser.parse_args()

    handler = functools.partial(QuietHandler, directory=args.directory)
    server = http.server.ThreadingHTTPServer((args.bind, args.port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print('serving %s on %s:%d' % (args.directory, args.bind, args.port), flush=True)
    while owner_alive(args.owner):
        time.sleep(1)
    server.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
