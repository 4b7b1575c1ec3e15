#!/usr/bin/env python3
"""idle-conns.py - scenarios f and j of bench/run: hold many idle keep-alive connections.

Usage: idle-conns.py [--tls] HOST PORT COUNT PATH HOLD_SECONDS CONCURRENCY

Opens COUNT connections to HOST:PORT (at most CONCURRENCY of them being set
up at a time, so that no listen backlog overflows), sends one keep-alive
GET for PATH on each and reads the whole response, then keeps every
connection open and idle.  With --tls (scenario j) each connection first
makes a full TLS handshake (TLS 1.2 or 1.3 as the server chooses, no
session resumption: every connection gets a fresh session; the
certificate is not verified) and the request and response go over TLS.
When all are open it prints

    ready open=N failed=M seconds=S

on stdout.  It then waits until it gets SIGTERM or SIGINT, or until HOLD
seconds have passed (a bound, so it never outlives the benchmark), prints

    done open=N closed_by_server=K

and closes every connection with a reset (SO_LINGER 0; no close_notify),
so that no TIME_WAIT socket is left behind for the next server.  Exit status: 0 when
every connection was opened and answered with 200, else 1.

Only the standard library is used.
"""

import errno
import resource
import selectors
import signal
import socket
import ssl
import struct
import sys
import time


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


class Conn:
    __slots__ = ("sock", "buf", "sent", "need", "status", "connected", "handshaken")

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.sent = False
        self.need = None      # total response bytes, once the head is in
        self.status = None
        self.connected = False
        self.handshaken = False


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    # No session is ever passed to the next connection (wrap_socket without
    # session=): each handshake is a full one.
    return ctx


def main():
    args = sys.argv[1:]
    use_tls = "--tls" in args
    args = [a for a in args if a != "--tls"]
    if len(args) != 6:
        print("usage: idle-conns.py [--tls] HOST PORT COUNT PATH HOLD_SECONDS CONCURRENCY",
              file=sys.stderr)
        return 2
    host, port, count, path = args[0], int(args[1]), int(args[2]), args[3]
    hold, concurrency = float(args[4]), int(args[5])
    ctx = tls_context() if use_tls else None

    limit = raise_fd_limit(count + 64)
    if limit < count + 16:
        print("idle-conns.py: open file limit %d is too low for %d connections" % (limit, count),
              file=sys.stderr)
        return 1

    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: bench-idle\r\n\r\n"
               % (path, host, port)).encode()
    sel = selectors.DefaultSelector()
    pending = {}        # fd -> Conn, being set up
    held = []           # sockets that are open and idle
    failed = 0
    started = 0
    t0 = time.monotonic()
    deadline = t0 + 60.0   # bound for the set-up phase (bench/run waits 90 s)

    def start_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return False
        c = Conn(s)
        pending[s.fileno()] = c
        sel.register(s, selectors.EVENT_WRITE, c)
        return True

    def fail(c):
        nonlocal failed
        failed += 1
        sel.unregister(c.sock)
        del pending[c.sock.fileno()]
        c.sock.close()

    while (started < count or pending) and time.monotonic() < deadline:
        while started < count and len(pending) < concurrency:
            started += 1
            if not start_one():
                failed += 1
        for key, mask in sel.select(timeout=1.0):
            c = key.data
            if not c.connected:
                if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    fail(c)
                    continue
                c.connected = True
                if ctx is not None:
                    # Same descriptor, now wrapped: re-register the new object.
                    fd = c.sock.fileno()
                    sel.unregister(c.sock)
                    c.sock = ctx.wrap_socket(c.sock, server_hostname="localhost",
                                             do_handshake_on_connect=False)
                    pending[fd] = c
                    sel.register(c.sock, selectors.EVENT_WRITE, c)
                else:
                    c.handshaken = True
            if not c.handshaken:
                try:
                    c.sock.do_handshake()
                except ssl.SSLWantReadError:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                except ssl.SSLWantWriteError:
                    sel.modify(c.sock, selectors.EVENT_WRITE, c)
                    continue
                except OSError:
                    fail(c)
                    continue
                c.handshaken = True
            if not c.sent:
                try:
                    c.sock.send(request)   # small: goes out whole
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
                    continue
                except OSError:
                    fail(c)
                    continue
                c.sent = True
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            data = b""
            try:
                # Over TLS, read on until OpenSSL has nothing buffered.
                while True:
                    piece = c.sock.recv(65536)
                    data += piece
                    if not piece or ctx is None or not c.sock.pending():
                        break
            except (ssl.SSLWantReadError, BlockingIOError):
                if not data:
                    continue
            except OSError:
                fail(c)
                continue
            if not data:
                fail(c)
                continue
            c.buf += data
            if c.need is None:
                end = c.buf.find(b"\r\n\r\n")
                if end < 0:
                    continue
                head = c.buf[:end].decode("latin-1").split("\r\n")
                try:
                    c.status = int(head[0].split()[1])
                except (IndexError, ValueError):
                    fail(c)
                    continue
                length = 0
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                c.need = end + 4 + length
            if len(c.buf) >= c.need:
                sel.unregister(c.sock)
                del pending[c.sock.fileno()]
                if c.status != 200:
                    failed += 1
                    c.sock.close()
                else:
                    held.append(c.sock)
    failed += len(pending) + (count - started)
    for c in list(pending.values()):
        c.sock.close()
    sel.close()

    print("ready open=%d failed=%d seconds=%.2f" % (len(held), failed, time.monotonic() - t0),
          flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    end = time.monotonic() + hold
    while not stop and time.monotonic() < end:
        time.sleep(0.05)

    # A connection the server closed is readable with nothing to read
    # (over TLS: a close_notify, an EOF or an error; something readable
    # that is no application data, such as a late session ticket, is not).
    closed = 0
    sel = selectors.DefaultSelector()
    for s in held:
        sel.register(s, selectors.EVENT_READ)
    for key, _ in sel.select(timeout=0):
        try:
            if ctx is None:
                if key.fileobj.recv(1, socket.MSG_PEEK) == b"":
                    closed += 1
            elif key.fileobj.recv(1) == b"":
                closed += 1
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except OSError:
            closed += 1
    sel.close()
    print("done open=%d closed_by_server=%d" % (len(held), closed), flush=True)

    linger = struct.pack("ii", 1, 0)
    for s in held:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        s.close()
    return 0 if failed == 0 and closed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
