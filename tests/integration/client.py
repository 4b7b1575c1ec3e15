#!/usr/bin/env python3
"""Test client for the tinyhttpd integration tests (python3 stdlib only).

Subcommands (see lib.sh for how they are used):

  free-port [-n N]
      Print N distinct loopback TCP ports that were free a moment ago.

  run-notify --log FILE --notify-log FILE [--timeout S] -- CMD ARG...
      Bind an abstract AF_UNIX datagram socket, run CMD with NOTIFY_SOCKET
      pointing at it (stdin /dev/null, stdout and stderr appended to --log),
      and report on stdout, one line each, flushed:
          PID <pid>        the command was started
          READY            a datagram with the line READY=1 arrived
          FAIL <reason>    no READY=1 within --timeout (the command is killed)
          EXIT <status>    the command exited (128+N for signal N)
      Every datagram is appended to --notify-log.  Exits with the command's
      status.  The command dies with us (PR_SET_PDEATHSIG), and we die with
      our parent, so nothing outlives a killed test.

  request [--port P] [--timeout S] [--save DIR] [--delay S] [--close-wait S] STEP...
      Connect (and with --delay, stay silent that long), then for each STEP (a string with \\r \\n \\xHH escapes, or
      @FILE for raw bytes): send it in one write and read as many responses
      as it holds requests (HEAD responses and 1xx/204/304 have no body).
      With --close-wait, then wait that long for the server to close.
      Prints a summary; with --save, writes DIR/N.head, DIR/N.body and
      DIR/summary.  The summary lines are:
          connect ok|refused|error <text>
          response N <status> <body length>
          responses N
          end closed|reset|open
          extra <bytes after the expected responses>
          close_ms <ms from the last response to EOF>   (when closed)
          error <text>                                  (when broken)

  trickle [--port P] [--interval S] [--timeout S] PREFIX
      Send PREFIX, then one more header byte every --interval seconds,
      never finishing the head, until the server answers or closes.
      Prints "connected" once PREFIX is sent, then at the end the lines
      status, first_byte_ms, end, end_ms and sent (last).

  hold [--port P] [--idle N] [--partial N] [--partial-data D]
       [--keepalive N] [--request D] [--timeout S]
      Open --idle connections that send nothing, --partial connections
      that send D (an unfinished head), and --keepalive connections that
      send a full request D and read its response.  Print "READY ..." when
      all are set up, then keep them open until killed or --timeout.
      When every connection has been closed by the server, print
      "ALLCLOSED <ms>" and exit.

  rewrite [--port P] [--timeout S] --file F [--count N] [--format T]
          [--mode M] PATH
      Whether a change to file F is seen by the very next request for
      PATH: N times, rewrite F in place (O_TRUNC and write) with T % i
      (default "rw-%06d\n", the same size each time) and GET PATH, which
      must answer 200 with exactly that content.  PATH is fetched twice
      first, so it starts out cached.  TCP_NODELAY, no sleeps.  --mode
      lines the change and the request up:
          keepalive  one connection: response, rewrite, request, response...
          pipelined  one connection: request, rewrite, request, then both
                     responses; only the second is checked, and a round
                     whose first response breaks (the file shrank while
                     it was sent) is skipped, on a new connection
          connect    a new connection each time: connect, rewrite, request
      Prints "checked N", "skipped K", "stale K" (answers with other
      content or status), and for the first few "stale_at I expected E got
      STATUS BODY"; or "error <text>" when a connection breaks (exit
      status 1).
"""

import argparse
import codecs
import ctypes
import os
import re
import select
import selectors
import signal
import socket
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1


def set_pdeathsig(sig):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def unescape(s):
    """'GET / HTTP/1.1\\r\\n' -> bytes; '@path' -> the file's bytes."""
    if s.startswith("@"):
        with open(s[1:], "rb") as f:
            return f.read()
    return codecs.escape_decode(s.encode("utf-8"))[0]


# --------------------------------------------------------------- free-port

def cmd_free_port(args):
    socks = []
    for _ in range(args.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((args.host, 0))
        socks.append(s)
    for s in socks:
        out(str(s.getsockname()[1]))
    for s in socks:
        s.close()
    return 0


# --------------------------------------------------------------- run-notify

def cmd_run_notify(args):
    set_pdeathsig(signal.SIGKILL)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        out("FAIL no command")
        return 2
    name = "tinyhttpd-test-%d-%s" % (os.getpid(), os.urandom(4).hex())
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.setblocking(False)
    env = dict(os.environ, NOTIFY_SOCKET="@" + name)
    log = open(args.log, "ab")
    nlog = open(args.notify_log, "ab")
    try:
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 env=env, preexec_fn=lambda: set_pdeathsig(signal.SIGKILL))
    except OSError as e:
        out("FAIL cannot run %s: %s" % (cmd[0], e))
        return 2
    out("PID %d" % child.pid)

    def on_term(signum, frame):
        child.kill()
    signal.signal(signal.SIGTERM, on_term)

    try:
        pidfd = os.pidfd_open(child.pid)
    except (AttributeError, OSError):
        pidfd = None

    def drain():
        got_ready = False
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                return got_ready
            nlog.write(data if data.endswith(b"\n") else data + b"\n")
            nlog.flush()
            if b"READY=1" in data.split(b"\n"):
                got_ready = True

    deadline = time.monotonic() + args.timeout
    ready = False
    while child.poll() is None:
        if not ready and time.monotonic() > deadline:
            out("FAIL no READY=1 within %gs" % args.timeout)
            child.kill()
            child.wait()
            break
        fds = [sock] + ([pidfd] if pidfd is not None else [])
        select.select(fds, [], [], 0.05 if pidfd is None else 0.5)
        if drain() and not ready:
            ready = True
            out("READY")
    drain()
    rc = child.returncode
    if rc < 0:
        rc = 128 - rc
    out("EXIT %d" % rc)
    return rc


# --------------------------------------------------------------- request

def request_methods(data):
    """The methods of the requests in data, in order (a best effort parse of
    our own, possibly deliberately broken, output).  Unfinished data counts
    as one request."""
    methods = []
    pos = 0
    while pos < len(data):
        m = re.compile(rb"\r?\n\r?\n").search(data, pos)
        head = data[pos:m.start()] if m else data[pos:]
        first = head.lstrip(b"\r\n").split(b" ", 1)[0]
        methods.append(first.decode("latin-1"))
        if not m:
            break
        pos = m.end()
        cl = re.search(rb"(?im)^content-length:[ \t]*([0-9]+)", head)
        if re.search(rb"(?im)^transfer-encoding:[ \t]*chunked", head):
            while True:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    return methods
                try:
                    size = int(data[pos:eol].split(b";")[0], 16)
                except ValueError:
                    return methods
                pos = eol + 2
                if size == 0:
                    end = data.find(b"\r\n\r\n", pos - 2)
                    pos = len(data) if end < 0 else end + 4
                    break
                pos += size + 2
        elif cl:
            pos += int(cl.group(1))
    return methods


class Conn:
    def __init__(self, sock, deadline):
        self.sock = sock
        self.buf = b""
        self.eof = None          # None, "closed" or "reset"
        self.deadline = deadline

    def fill(self, deadline=None):
        """Read more bytes; False on EOF, reset or timeout."""
        if self.eof:
            return False
        deadline = deadline or self.deadline
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        try:
            data = self.sock.recv(262144)
        except ConnectionResetError:
            self.eof = "reset"
            return False
        if not data:
            self.eof = "closed"
            return False
        self.buf += data
        return True

    def read_response(self, head_only):
        """Parse one response from the stream: (head, body, error)."""
        while True:
            m = re.search(rb"\r?\n\r?\n", self.buf)
            if m:
                break
            if not self.fill():
                if self.buf:
                    return None, None, "truncated head %r" % self.buf[:200]
                return None, None, None if self.eof else "timeout, no response"
        head = self.buf[:m.end()]
        self.buf = self.buf[m.end():]
        st = re.match(rb"HTTP/1\.[01] ([0-9]{3})", head)
        if not st:
            return head, b"", "bad status line"
        status = int(st.group(1))
        cls = re.findall(rb"(?im)^content-length:[ \t]*([0-9]+)[ \t]*\r?$", head)
        if head_only or status < 200 or status in (204, 304):
            return head, b"", None
        if re.search(rb"(?im)^transfer-encoding:", head):
            return head, b"", "unexpected Transfer-Encoding in a response"
        if len(set(cls)) > 1:
            return head, b"", "conflicting Content-Length"
        if cls:
            n = int(cls[0])
            while len(self.buf) < n:
                if not self.fill():
                    return head, self.buf, "truncated body (%d of %d)" % (len(self.buf), n)
            body, self.buf = self.buf[:n], self.buf[n:]
            return head, body, None
        while self.fill():
            pass
        body, self.buf = self.buf, b""
        return head, body, None if self.eof else "body without length did not end"


def cmd_request(args):
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    summary = []
    saved = []

    def finish(rc=0):
        for line in summary:
            out(line)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            for i, (head, body) in enumerate(saved, 1):
                with open(os.path.join(args.save, "%d.head" % i), "wb") as f:
                    f.write(head)
                with open(os.path.join(args.save, "%d.body" % i), "wb") as f:
                    f.write(body)
            with open(os.path.join(args.save, "summary"), "w") as f:
                f.write("\n".join(summary) + "\n")
        return rc

    try:
        sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except ConnectionRefusedError:
        summary += ["connect refused", "responses 0", "end closed"]
        return finish()
    except OSError as e:
        summary += ["connect error %s" % e, "responses 0", "end closed"]
        return finish()
    summary.append("connect ok")
    if args.delay > 0:
        time.sleep(args.delay)
    sock.setblocking(True)
    conn = Conn(sock, deadline)
    error = None
    last_done = time.monotonic()
    for step in args.steps:
        data = unescape(step)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            summary.append("send_error %s" % e.__class__.__name__)
        for method in request_methods(data):
            head, body, err = conn.read_response(method == "HEAD")
            if head is not None:
                saved.append((head, body))
                st = re.match(rb"HTTP/\S+ ([0-9]{3})", head)
                summary.append("response %d %s %d" % (len(saved), st.group(1).decode() if st else "???", len(body)))
                last_done = time.monotonic()
            if err:
                error = "response %d: %s" % (len(saved) + (head is None), err)
            if head is None or err:
                break
        if error or conn.eof:
            break
    if not error and args.close_wait > 0:
        cw = time.monotonic() + args.close_wait
        while not conn.eof and conn.fill(cw):
            pass
    extra = conn.buf
    summary.append("responses %d" % len(saved))
    summary.append("end %s" % (conn.eof or "open"))
    summary.append("extra %d" % len(extra))
    if extra:
        summary.append("extra_text %r" % extra[:200])
    if conn.eof:
        summary.append("close_ms %d" % ((time.monotonic() - last_done) * 1000))
    summary.append("elapsed_ms %d" % ((time.monotonic() - t0) * 1000))
    if error:
        summary.append("error %s" % error)
    sock.close()
    return finish()


# --------------------------------------------------------------- trickle

def cmd_trickle(args):
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    sock.sendall(unescape(args.prefix))
    out("connected")
    sent = 0
    buf = b""
    first = None
    end = "timeout"
    next_send = time.monotonic() + args.interval
    while time.monotonic() < deadline:
        wait = max(0.0, min(next_send, deadline) - time.monotonic())
        r, _, _ = select.select([sock], [], [], wait)
        if r:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                end = "reset"
                break
            if not data:
                end = "closed"
                break
            if first is None:
                first = time.monotonic() - t0
            buf += data
            continue
        if time.monotonic() >= next_send:
            try:
                sock.send(b"a")
                sent += 1
            except (BrokenPipeError, ConnectionResetError):
                pass
            next_send += args.interval
    st = re.match(rb"HTTP/1\.[01] ([0-9]{3})", buf)
    out("status %s" % (st.group(1).decode() if st else "none"))
    out("first_byte_ms %d" % (first * 1000 if first is not None else -1))
    out("end %s" % end)
    out("end_ms %d" % ((time.monotonic() - t0) * 1000))
    out("sent %d" % sent)
    return 0


# --------------------------------------------------------------- hold

def cmd_hold(args):
    set_pdeathsig(signal.SIGKILL)
    t0 = time.monotonic()
    socks = []
    try:
        for _ in range(args.idle):
            socks.append(socket.create_connection((args.host, args.port), timeout=5))
        partial = unescape(args.partial_data)
        for _ in range(args.partial):
            s = socket.create_connection((args.host, args.port), timeout=5)
            s.sendall(partial)
            socks.append(s)
        req = unescape(args.request)
        for _ in range(args.keepalive):
            s = socket.create_connection((args.host, args.port), timeout=5)
            s.sendall(req)
            c = Conn(s, time.monotonic() + 5)
            head, _, err = c.read_response(False)
            if head is None or err or c.buf:
                out("FAIL keep-alive request: %s" % (err or "no response"))
                return 1
            socks.append(s)
    except OSError as e:
        out("FAIL after %d connections: %s" % (len(socks), e))
        return 1
    out("READY idle=%d partial=%d keepalive=%d" % (args.idle, args.partial, args.keepalive))
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    open_count = len(socks)
    deadline = time.monotonic() + args.timeout
    while open_count and time.monotonic() < deadline:
        for key, _ in sel.select(deadline - time.monotonic()):
            try:
                data = key.fileobj.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                open_count -= 1
    if not open_count and socks:
        out("ALLCLOSED %d" % ((time.monotonic() - t0) * 1000))
    else:
        out("TIMEOUT open=%d" % open_count)
    return 0


# --------------------------------------------------------------- rewrite

def cmd_rewrite(args):
    fmt = unescape(args.format)
    req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % args.path).encode("latin-1")

    def connect():
        s = socket.create_connection((args.host, args.port), timeout=args.timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Conn(s, time.monotonic() + args.timeout)

    def rewrite(data):
        # O_TRUNC, like the shell's >; no buffering, to keep it quick
        fd = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def answer(conn):
        head, body, err = conn.read_response(False)
        if head is None or err:
            raise OSError(err or "connection closed")
        st = re.match(rb"HTTP/1\.[01] ([0-9]{3})", head)
        return (st.group(1).decode() if st else "???"), body

    stale = skipped = 0
    conn = None
    try:
        conn = connect()
        for _ in range(2):
            conn.sock.sendall(req)
            answer(conn)
        for i in range(1, args.count + 1):
            want = fmt % i
            conn.deadline = time.monotonic() + args.timeout
            if args.mode == "keepalive":
                rewrite(want)
                conn.sock.sendall(req)
            elif args.mode == "pipelined":
                conn.sock.sendall(req)
                rewrite(want)
                conn.sock.sendall(req)
                try:
                    answer(conn)
                except OSError:
                    # The first request raced with the rewrite; a server
                    # may close when the file shrinks under a response.
                    skipped += 1
                    conn.sock.close()
                    conn = connect()
                    continue
            else:
                conn.sock.close()
                conn = connect()
                rewrite(want)
                conn.sock.sendall(req)
            status, body = answer(conn)
            if status != "200" or body != want:
                stale += 1
                if stale <= 5:
                    out("stale_at %d expected %r got %s %r" % (i, want, status, body[:100]))
    except OSError as e:
        out("error %s" % e)
        out("stale %d" % stale)
        return 1
    finally:
        if conn is not None:
            conn.sock.close()
    out("checked %d" % args.count)
    out("skipped %d" % skipped)
    out("stale %d" % stale)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd_name", required=True)

    def common(sp):
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default=int(os.environ.get("TH_PORT", "0")))
        sp.add_argument("--timeout", type=float, default=10.0)

    sp = sub.add_parser("free-port")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("-n", type=int, default=1)
    sp.set_defaults(fn=cmd_free_port)

    sp = sub.add_parser("run-notify")
    sp.add_argument("--log", required=True)
    sp.add_argument("--notify-log", required=True)
    sp.add_argument("--timeout", type=float, default=10.0)
    sp.add_argument("cmd", nargs=argparse.REMAINDER)
    sp.set_defaults(fn=cmd_run_notify)

    sp = sub.add_parser("request")
    common(sp)
    sp.add_argument("--save")
    sp.add_argument("--delay", type=float, default=0.0)
    sp.add_argument("--close-wait", type=float, default=0.0)
    sp.add_argument("steps", nargs="+")
    sp.set_defaults(fn=cmd_request)

    sp = sub.add_parser("trickle")
    common(sp)
    sp.add_argument("--interval", type=float, default=0.3)
    sp.add_argument("prefix")
    sp.set_defaults(fn=cmd_trickle)

    sp = sub.add_parser("hold")
    common(sp)
    sp.add_argument("--idle", type=int, default=0)
    sp.add_argument("--partial", type=int, default=0)
    sp.add_argument("--partial-data", default="GET / HTTP/1.1\\r\\nHost: x\\r\\n")
    sp.add_argument("--keepalive", type=int, default=0)
    sp.add_argument("--request", default="GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    sp.set_defaults(fn=cmd_hold)

    sp = sub.add_parser("rewrite")
    common(sp)
    sp.add_argument("--file", required=True)
    sp.add_argument("--count", type=int, default=100)
    sp.add_argument("--format", default="rw-%06d\\n")
    sp.add_argument("--mode", choices=("keepalive", "pipelined", "connect"), default="keepalive")
    sp.add_argument("path")
    sp.set_defaults(fn=cmd_rewrite)

    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
