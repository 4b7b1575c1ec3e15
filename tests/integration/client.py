#!/usr/bin/env python3
"""The test client of tinyhttpd's integration and abuse tests (python3
stdlib only, loopback only): one module, one subcommand per job.

tests/integration/lib.sh names it TH_CLIENT, tests/abuse/abuselib.sh
AB_CLIENT (ab_py, ab_bg); bench/lib.sh and script/robustness use it too.

Starting the daemon:

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

Requests for the integration tests (each bounded by --timeout, 10 s by
default):

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

  burst [--port P] [--conns N] [--path P] [--close] [--hold S]
      Open N connections, then send GET P on every one before reading any
      answer (so they all land before the server's next epoll_wait).
      Keep-alive by default: read each response's head; with --close
      (Connection: close) read each response to EOF.  Prints "status CODE
      COUNT" for each status seen ("none": no response), "retry_after N"
      (503s with a Retry-After field) and "READY ok=<200s>"; then, with
      --hold, keeps the connections open that many seconds or until killed.

Hostile and load-generating clients for the abuse tests.  Every subcommand is bounded by --timeout (seconds), prints "KEY VALUE"
lines (flushed) that the shell tests read with th_bg_expect / th_bg_val, and
exits 0 unless it could not do its job at all (then 2).  Long-running
subcommands print "READY ..." once their load is in place and stop when the
file given by --stop-file appears (or at --timeout).

  slowloris --conns N --rounds R --interval S [--data D]
      N connections, each sending one byte of D every S seconds (never
      finishing the head) until the server answers or closes; each
      connection does that R times.  Reports how many got 408 and how long
      after their first byte (ms).

  latency --n N --interval S --path P [--expect-status C]
      N sequential GETs (a new connection each, Connection: close), each
      timed from connect to the end of the body.  Reports each and the
      median and maximum.

  flood --conns N --duration S [--kinds idle,partial,full]
      Keep N connections opening, as fast as possible, for S seconds: some
      send nothing, some an unfinished head, some one full request with
      Connection: close.  Closed ones are reopened at once.  Reports
      connects, statuses seen.

  idle --conns N --path P [--batch B]
      N keep-alive connections that each complete one GET and then stay
      idle.  READY once all of them have their response; then counts the
      ones the server closes until --stop-file.

  reset --after LIST --path P [--fin]
      One connection per byte count in LIST: GET P, read that many body
      bytes, then close with SO_LINGER 0 (a reset), or with --fin a plain
      close (the server's next writes fail).

  stall --n N --path P [--rcvbuf B]
      N connections that send GET P and never read.  Reports when the
      server closed its end of each (from /proc/net/tcp: the server's socket
      is orphaned), in ms after the requests were sent.  After --stop-file,
      read what arrives: a body shorter than its Content-Length with EOF
      means the server gave up on the connection.

  fetch --request D [--shut-wr] [--pause-after N --pause-file F --resume-file R]
      Send D (one or more requests), optionally half-close, and read every
      response until EOF.  Prints "response I STATUS CONTENT-LENGTH
      BODY-BYTES SHA256" for each.  With --pause-after, stop reading after N
      body bytes, create F, and go on when R exists.

  mixed --count N --conns C [--etag E]
      Mixed keep-alive, pipelined, close, HEAD, 404, 304, 206 and 400
      requests on C connections until N responses arrived; every status is
      checked.  Reports the totals, unexpected ones and the rate.

  download --path P [--rate BYTES_PER_S] [--rcvbuf B]
      GET P at a steady rate through a small receive buffer (steady
      progress, unlike curl --limit-rate); reports "response STATUS
      CONTENT-LENGTH BODY-BYTES SHA256" and how it ended.

  race --path P
      Connect as soon as the port accepts (polling every 2 ms), GET P and
      report the status ("none" if the connection ended without a response).

HTTPS (the tls-* subcommands; --cafile CA checks the server's certificate
for localhost, without it none is checked; each prints its figures and
DONE):

  tls-latency [--n N] [--interval S] [--path P]
      N GETs, each on a new TLS connection (a full handshake): lat lines,
      count, bad, median, p99, max (ms).

  tls-stall [--conns N] [--kinds partial,hello] [--partial BYTES]
      N connections stalled in the handshake (part of a ClientHello, or a
      whole one and no answer to the server's flight); READY once all are
      set, then the times at which the server closed them.

  tls-garbage [--kinds K,...|all] [--each N]
      Garbage instead of a ClientHello (random, zeros, http, truncated,
      badbody, appdata, badlen, sslv2): how each kind was closed/answered.

  tls-vanish [--rounds N] [--after BYTES,...] [--path P]
      Clients that reset mid-handshake and mid-response.

  tls-load [--count N] [--conns C] [--new-every K] [--resume] [--etag E]
      N keep-alive HTTPS requests, every Kth closing (a new handshake,
      resumed with --resume): statuses, handshakes, resumed, errors.
"""

import argparse
import codecs
import ctypes
import errno
import hashlib
import os
import re
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1


def set_pdeathsig(sig=signal.SIGKILL):
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


def now():
    return time.monotonic()


def pct(values, p):
    """The p-th percentile (0..100) of values, nearest rank."""
    if not values:
        return -1
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def raise_nofile(want):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def stop_requested(args):
    return args.stop_file and os.path.exists(args.stop_file)


def nb_socket(rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setblocking(False)
    return s


def nb_connect(s, host, port):
    """Start a non-blocking connect: 0 done, EINPROGRESS, or an errno."""
    return s.connect_ex((host, port))


def reset_close(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


HEAD_END = re.compile(rb"\r?\n\r?\n")
STATUS = re.compile(rb"HTTP/1\.[01] ([0-9]{3})")
CLEN = re.compile(rb"(?im)^content-length:[ \t]*([0-9]+)[ \t]*\r?$")
CLOSE = re.compile(rb"(?im)^connection:[ \t]*close[ \t]*\r?$")


# ------------------------------------------------------------------ responses

class Parser:
    """Incremental response parser for responses with Content-Length (all
    of tinyhttpd's).  feed() returns the completed responses as tuples
    (status, content_length, body_len, sha256-hex or None)."""

    def __init__(self, hash_body=False):
        self.buf = b""
        self.hash_body = hash_body
        self.head = None
        self.status = None
        self.clen = None
        self.need = 0
        self.got = 0
        self.sha = None
        self.head_only = []        # per pending request: True for HEAD
        self.last_close = False    # the last completed response said Connection: close

    def expect(self, head_only):
        self.head_only.append(head_only)

    def feed(self, data):
        done = []
        self.buf += data
        while True:
            if self.head is None:
                m = HEAD_END.search(self.buf)
                if not m:
                    break
                self.head = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                st = STATUS.match(self.head)
                self.status = int(st.group(1)) if st else 0
                cl = CLEN.search(self.head)
                self.clen = int(cl.group(1)) if cl else 0
                ho = self.head_only.pop(0) if self.head_only else False
                nobody = ho or self.status < 200 or self.status in (204, 304)
                self.need = 0 if nobody else self.clen
                self.got = 0
                self.sha = hashlib.sha256() if self.hash_body else None
            take = min(self.need - self.got, len(self.buf))
            if take:
                if self.sha:
                    self.sha.update(self.buf[:take])
                self.buf = self.buf[take:]
                self.got += take
            if self.got < self.need:
                break
            done.append((self.status, self.clen, self.got, self.sha.hexdigest() if self.sha else None))
            self.last_close = CLOSE.search(self.head) is not None
            self.head = None
        return done

    def partial(self):
        """The response in progress, if any (its head arrived)."""
        if self.head is None:
            return None
        return (self.status, self.clen, self.got, self.sha.hexdigest() if self.sha else None)


# ------------------------------------------------------------------ free-port

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


# ------------------------------------------------------------------ run-notify

def cmd_run_notify(args):
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


# ------------------------------------------------------------------ request

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
            m = HEAD_END.search(self.buf)
            if m:
                break
            if not self.fill():
                if self.buf:
                    return None, None, "truncated head %r" % self.buf[:200]
                return None, None, None if self.eof else "timeout, no response"
        head = self.buf[:m.end()]
        self.buf = self.buf[m.end():]
        st = STATUS.match(head)
        if not st:
            return head, b"", "bad status line"
        status = int(st.group(1))
        cls = CLEN.findall(head)
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


# ------------------------------------------------------------------ trickle

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
    st = STATUS.match(buf)
    out("status %s" % (st.group(1).decode() if st else "none"))
    out("first_byte_ms %d" % (first * 1000 if first is not None else -1))
    out("end %s" % end)
    out("end_ms %d" % ((time.monotonic() - t0) * 1000))
    out("sent %d" % sent)
    return 0


# ------------------------------------------------------------------ hold

def cmd_hold(args):
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


# ------------------------------------------------------------------ rewrite

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
        st = STATUS.match(head)
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


# ------------------------------------------------------------------ burst

def cmd_burst(args):
    raise_nofile(args.conns + 64)
    req = b"GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n" % (
        args.path.encode(), b"Connection: close\r\n" if args.close else b"")
    socks = [socket.create_connection((args.host, args.port), timeout=args.timeout)
             for _ in range(args.conns)]
    for s in socks:          # every request lands before any answer is read
        s.sendall(req)
    counts = {}
    retry_after = 0
    for s in socks:
        data = b""
        try:
            while args.close or HEAD_END.search(data) is None:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        st = STATUS.match(data)
        status = st.group(1).decode() if st else "none"
        counts[status] = counts.get(status, 0) + 1
        head = data[:HEAD_END.search(data).end()] if HEAD_END.search(data) else data
        if status == "503" and re.search(rb"(?im)^retry-after:", head):
            retry_after += 1
        if args.close:
            s.close()
    for k in sorted(counts):
        out("status %s %d" % (k, counts[k]))
    out("retry_after %d" % retry_after)
    out("READY ok=%d" % counts.get("200", 0))
    if args.hold > 0:
        time.sleep(args.hold)    # hold the connections until killed
    for s in socks:
        s.close()
    return 0


# ------------------------------------------------------------------ slowloris

def cmd_slowloris(args):
    raise_nofile(args.conns + 64)
    data = unescape(args.data)
    sel = selectors.DefaultSelector()
    t_start = now()
    deadline = t_start + args.timeout

    class Slot:
        pass

    slots = []
    results = []         # (status, ms from first byte, bytes sent)
    connect_errors = {}
    stats = {"opened": 0}

    def open_slot(sl):
        s = nb_socket()
        r = nb_connect(s, args.host, args.port)
        sl.sock = s
        sl.connected = False
        sl.first = None
        sl.sent = 0
        sl.buf = b""
        sl.next_send = None
        stats["opened"] += 1
        if r not in (0, errno.EINPROGRESS):
            connect_errors[errno.errorcode.get(r, str(r))] = connect_errors.get(errno.errorcode.get(r, str(r)), 0) + 1
            s.close()
            sl.sock = None
            return
        sel.register(s, selectors.EVENT_WRITE, sl)

    def send_byte(sl, t):
        b = data[sl.sent:sl.sent + 1] if sl.sent < len(data) else b"a"
        try:
            sl.sock.send(b)
            sl.sent += 1
            if sl.first is None:
                sl.first = t
            sl.next_send = sl.first + args.interval * sl.sent
        except (BlockingIOError, InterruptedError):
            sl.next_send = t + 0.05
        except OSError:
            sl.next_send = None          # the server closed; the read side will tell

    def finish(sl, t, status):
        ms = (t - sl.first) * 1000 if sl.first else -1
        results.append((status, ms, sl.sent))
        sel.unregister(sl.sock)
        sl.sock.close()
        sl.sock = None
        sl.rounds += 1
        if sl.rounds < args.rounds and t < deadline - 1:
            open_slot(sl)

    for i in range(args.conns):
        sl = Slot()
        sl.rounds = 0
        sl.sock = None
        slots.append(sl)
        open_slot(sl)

    ready_said = False
    while now() < deadline and not stop_requested(args):
        live = [sl for sl in slots if sl.sock is not None]
        if not live:
            break
        if not ready_said and all(sl.first is not None or sl.sock is None for sl in slots):
            out("READY %d" % sum(1 for sl in slots if sl.first is not None))
            out("ready_ms %d" % ((now() - t_start) * 1000))
            ready_said = True
        for key, ev in sel.select(0.02):
            sl = key.data
            t = now()
            if not sl.connected:
                err = sl.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    name = errno.errorcode.get(err, str(err))
                    connect_errors[name] = connect_errors.get(name, 0) + 1
                    sel.unregister(sl.sock)
                    sl.sock.close()
                    sl.sock = None
                    sl.rounds += 1
                    continue
                sl.connected = True
                sel.modify(sl.sock, selectors.EVENT_READ, sl)
                send_byte(sl, t)
                continue
            try:
                d = sl.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = None
            if d:
                sl.buf += d
                if HEAD_END.search(sl.buf) is None:
                    continue
            st = STATUS.match(sl.buf or b"")
            finish(sl, t, int(st.group(1)) if st else (0 if d is None else -1))
        t = now()
        for sl in slots:
            if sl.sock is not None and sl.connected and sl.next_send is not None and sl.next_send <= t:
                send_byte(sl, t)
    pending = sum(1 for sl in slots if sl.sock is not None)
    for sl in slots:
        if sl.sock is not None:
            sl.sock.close()
    if not ready_said:
        out("READY 0")
    s408 = [ms for st, ms, _ in results if st == 408]
    others = {}
    for st, _, _ in results:
        if st != 408:
            k = {0: "reset", -1: "closed"}.get(st, str(st))
            others[k] = others.get(k, 0) + 1
    out("opened %d" % stats["opened"])
    out("connect_errors %s" % (",".join("%s:%d" % kv for kv in sorted(connect_errors.items())) or "none"))
    out("finished %d" % len(results))
    out("pending %d" % pending)
    out("got408 %d" % len(s408))
    out("other %s" % (",".join("%s:%d" % kv for kv in sorted(others.items())) or "none"))
    out("other_count %d" % sum(others.values()))
    out("t408_min %d" % (min(s408) if s408 else -1))
    out("t408_median %d" % pct(s408, 50))
    out("t408_p95 %d" % pct(s408, 95))
    out("t408_max %d" % (max(s408) if s408 else -1))
    out("sent_max %d" % max([n for _, _, n in results] or [0]))
    out("DONE %d" % ((now() - t_start) * 1000))
    return 0


# ------------------------------------------------------------------ latency

def one_get(host, port, path, timeout, head=False, extra=b""):
    """A Connection: close GET; returns (status, body bytes, ms) or (None, error, ms)."""
    t0 = now()
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        return None, "connect: %s" % e, (now() - t0) * 1000
    try:
        s.sendall(b"%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n"
                  % (b"HEAD" if head else b"GET", path.encode(), extra))
        p = Parser()
        p.expect(head)
        while True:
            d = s.recv(262144)
            if not d:
                return None, "EOF before the end of the response", (now() - t0) * 1000
            r = p.feed(d)
            if r:
                return r[0][0], r[0][2], (now() - t0) * 1000
    except OSError as e:
        return None, str(e), (now() - t0) * 1000
    finally:
        s.close()


def cmd_latency(args):
    lat = []
    bad = 0
    deadline = now() + args.timeout
    for i in range(args.n):
        if now() > deadline:
            break
        st, body, ms = one_get(args.host, args.port, args.path, max(1.0, deadline - now()))
        out("lat %d %.2f %s" % (i + 1, ms, st if st is not None else "error:" + body))
        if st is None or (args.expect_status and st != args.expect_status):
            bad += 1
        lat.append(ms)
        if i + 1 < args.n:
            time.sleep(args.interval)
    out("count %d" % len(lat))
    out("bad %d" % bad)
    # integers (ms, rounded up) for the shell's checks, and exact figures
    out("median %d" % -(-pct(lat, 50) // 1))
    out("max %d" % -(-(max(lat) if lat else -1) // 1))
    out("median_ms %.2f" % pct(lat, 50))
    out("max_ms %.2f" % (max(lat) if lat else -1))
    out("DONE")
    return 0


# ------------------------------------------------------------------ flood

def cmd_flood(args):
    raise_nofile(args.conns + 64)
    kinds = args.kinds.split(",")
    partial = b"GET /file.txt HTTP/1.1\r\nHost: x\r\n"
    while len(partial) + 20 < args.partial_size:
        n = min(1000, args.partial_size - len(partial) - 20)
        partial += b"X-Pad: " + b"p" * n + b"\r\n"
    partial += b"X-Flood: "
    full = b"GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    sel = selectors.DefaultSelector()
    t_start = now()
    t_end = t_start + args.duration
    deadline = t_start + args.timeout
    st = {"opened": 0, "established": 0, "server_closed": 0, "server_reset": 0, "responses": 0}
    statuses = {}
    cerr = {}
    open_max = [0]
    nopen = [0]

    class Slot:
        pass

    def open_slot(sl):
        s = nb_socket()
        r = nb_connect(s, args.host, args.port)
        st["opened"] += 1
        if r not in (0, errno.EINPROGRESS):
            name = errno.errorcode.get(r, str(r))
            cerr[name] = cerr.get(name, 0) + 1
            s.close()
            sl.sock = None
            return
        sl.sock = s
        sl.connected = False
        sl.parser = Parser()
        nopen[0] += 1
        open_max[0] = max(open_max[0], nopen[0])
        sel.register(s, selectors.EVENT_WRITE, sl)

    def drop(sl, reopen):
        sel.unregister(sl.sock)
        sl.sock.close()
        sl.sock = None
        nopen[0] -= 1
        if reopen and now() < t_end:
            open_slot(sl)

    def send_request(sl):
        try:
            sl.sock.send(full)
            sl.parser.expect(False)
        except OSError:
            pass

    slots = []
    for i in range(args.conns):
        sl = Slot()
        sl.kind = kinds[i % len(kinds)]
        sl.sock = None
        slots.append(sl)
        open_slot(sl)
    out("READY %d" % nopen[0])
    while now() < t_end and now() < deadline and not stop_requested(args):
        for sl in slots:
            if sl.sock is None and now() < t_end:
                open_slot(sl)
        for key, ev in sel.select(0.05):
            sl = key.data
            if not sl.connected:
                err = sl.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    name = errno.errorcode.get(err, str(err))
                    cerr[name] = cerr.get(name, 0) + 1
                    drop(sl, True)
                    continue
                sl.connected = True
                st["established"] += 1
                sel.modify(sl.sock, selectors.EVENT_READ, sl)
                try:
                    if sl.kind == "partial":
                        sl.sock.send(partial)
                    elif sl.kind == "full":
                        send_request(sl)
                except OSError:
                    pass
                continue
            try:
                d = sl.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                st["server_reset"] += 1
                drop(sl, True)
                continue
            if not d:
                # a 408 or the like may have arrived in the same read as EOF
                st["server_closed"] += 1
                for r in sl.parser.feed(b""):
                    pass
                drop(sl, True)
                continue
            if sl.kind != "full":
                sl.parser.expect(False)
            for r in sl.parser.feed(d):
                st["responses"] += 1
                statuses[r[0]] = statuses.get(r[0], 0) + 1
    left = sum(1 for sl in slots if sl.sock is not None)
    for sl in slots:
        if sl.sock is not None:
            if args.reset_at_end:
                reset_close(sl.sock)
            else:
                sl.sock.close()
    for k, v in sorted(st.items()):
        out("%s %d" % (k, v))
    out("open_max %d" % open_max[0])
    out("open_at_end %d" % left)
    out("statuses %s" % (",".join("%d:%d" % kv for kv in sorted(statuses.items())) or "none"))
    out("connect_errors %s" % (",".join("%s:%d" % kv for kv in sorted(cerr.items())) or "none"))
    out("DONE %d" % ((now() - t_start) * 1000))
    return 0


# ------------------------------------------------------------------ idle

def cmd_idle(args):
    raise_nofile(args.conns + 64)
    req = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % args.path.encode()
    sel = selectors.DefaultSelector()
    t_start = now()
    deadline = t_start + args.timeout
    todo = args.conns
    inflight = 0
    done = []
    failed = {}
    statuses = {}

    class Conn:
        pass

    def fail(c, why):
        nonlocal inflight
        failed[why] = failed.get(why, 0) + 1
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        inflight -= 1

    while (todo > 0 or inflight > 0) and now() < deadline:
        while todo > 0 and inflight < args.batch:
            c = Conn()
            c.sock = nb_socket()
            c.parser = Parser()
            c.parser.expect(False)
            c.connected = False
            r = nb_connect(c.sock, args.host, args.port)
            todo -= 1
            inflight += 1
            if r not in (0, errno.EINPROGRESS):
                fail(c, "connect:" + errno.errorcode.get(r, str(r)))
                continue
            sel.register(c.sock, selectors.EVENT_WRITE, c)
        for key, ev in sel.select(0.1):
            c = key.data
            if not c.connected:
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(c, "connect:" + errno.errorcode.get(err, str(err)))
                    continue
                c.connected = True
                try:
                    c.sock.send(req)
                except OSError as e:
                    fail(c, "send:" + e.__class__.__name__)
                    continue
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            try:
                d = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                fail(c, "recv:" + e.__class__.__name__)
                continue
            if not d:
                fail(c, "closed before the response")
                continue
            r = c.parser.feed(d)
            if r:
                statuses[r[0][0]] = statuses.get(r[0][0], 0) + 1
                inflight -= 1
                done.append(c)
    out("READY ok=%d failed=%d" % (len(done), sum(failed.values()) + todo + inflight))
    out("ok %d" % len(done))
    out("setup_ms %d" % ((now() - t_start) * 1000))
    out("statuses %s" % (",".join("%d:%d" % kv for kv in sorted(statuses.items())) or "none"))
    out("failures %s" % (",".join("%s:%d" % kv for kv in sorted(failed.items())) or "none"))
    # hold: every event now is the server closing one of them
    closed = 0
    while now() < deadline and not stop_requested(args):
        for key, ev in sel.select(0.1):
            c = key.data
            try:
                d = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if not d:
                closed += 1
                sel.unregister(c.sock)
                c.sock.close()
    out("closed_during_hold %d" % closed)
    for c in done:
        if c.sock.fileno() >= 0:
            c.sock.close()
    out("DONE %d" % ((now() - t_start) * 1000))
    return 0


# ------------------------------------------------------------------ reset

def cmd_reset(args):
    afters = [int(x) for x in args.after.split(",")]
    sel = selectors.DefaultSelector()
    deadline = now() + args.timeout
    req = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % args.path.encode()
    pending = 0
    ok = 0
    problems = []

    class C:
        pass

    for a in afters:
        c = C()
        c.after = a
        c.sock = socket.create_connection((args.host, args.port), timeout=5)
        c.sock.sendall(req)
        c.sock.setblocking(False)
        c.parser = Parser()
        c.parser.expect(False)
        sel.register(c.sock, selectors.EVENT_READ, c)
        pending += 1
    while pending and now() < deadline:
        for key, ev in sel.select(0.1):
            c = key.data
            try:
                d = c.sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                d = None
                problems.append("after=%d: %s" % (c.after, e))
            if d:
                done = c.parser.feed(d)
                cur = done[0] if done else c.parser.partial()
                if cur is None or (cur[2] < c.after and not done):
                    continue
                ok += 1
            elif d is not None:
                cur = c.parser.partial()
                problems.append("after=%d: EOF at %d body bytes" % (c.after, cur[2] if cur else -1))
            sel.unregister(c.sock)
            if args.fin:
                c.sock.close()
            else:
                reset_close(c.sock)
            pending -= 1
    out("reset %d" % ok)
    out("unfinished %d" % pending)
    for pr in problems:
        out("problem %s" % pr)
    out("DONE")
    return 0


# ------------------------------------------------------------------ stall

def server_side_owned(server_port, client_ports):
    """For each client port, whether the server's end of that loopback
    connection is still owned by a process: /proc/net/tcp lists it with a
    non-zero inode.  Once the server closes it, the entry is orphaned
    (inode 0) or gone."""
    owned = set()
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fl = line.split()
                lport = int(fl[1].split(":")[1], 16)
                rport = int(fl[2].split(":")[1], 16)
                if lport == server_port and rport in client_ports and fl[9] != "0":
                    owned.add(rport)
    except OSError:
        return None
    return owned


def cmd_stall(args):
    socks = []
    req = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % args.path.encode()
    t0 = now()
    for _ in range(args.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        s.settimeout(5)
        s.connect((args.host, args.port))
        s.sendall(req)
        socks.append(s)
    ports = {s.getsockname()[1]: None for s in socks}
    out("READY %d" % len(socks))
    deadline = t0 + args.timeout
    # watch the server give up on each connection (see server_side_owned)
    seen = set()
    while not stop_requested(args) and now() < deadline:
        owned = server_side_owned(args.port, set(ports))
        if owned is None:
            break
        t = now()
        for p in ports:
            if p in owned:
                seen.add(p)      # accepted (a queued socket has no inode yet)
            elif ports[p] is None and p in seen:
                ports[p] = (t - t0) * 1000
        if all(v is not None for v in ports.values()):
            break
        time.sleep(0.02)
    closed = [v for v in ports.values() if v is not None]
    out("server_closed %d" % len(closed))
    out("close_ms_min %d" % (min(closed) if closed else -1))
    out("close_ms_max %d" % (max(closed) if closed else -1))
    while not stop_requested(args) and now() < deadline:
        time.sleep(0.02)
    out("stalled_ms %d" % ((now() - t0) * 1000))
    # now read what the server left us
    cut = full = unfinished = 0
    for s in socks:
        p = Parser()
        p.expect(False)
        end = "timeout"
        try:
            while True:
                s.settimeout(max(0.5, deadline + 15 - now()))
                d = s.recv(1 << 20)
                if not d:
                    end = "closed"
                    break
                if p.feed(d):
                    end = "complete"
                    break
        except ConnectionResetError:
            end = "reset"
        except socket.timeout:
            end = "timeout"
        r = p.partial()
        got = r[2] if r else 0
        clen = r[1] if r else -1
        if end == "complete":
            full += 1
        elif end in ("closed", "reset"):
            cut += 1
        else:
            unfinished += 1
        out("conn end=%s body=%d of %d" % (end, got, clen))
        s.close()
    out("cut %d" % cut)
    out("complete %d" % full)
    out("unfinished %d" % unfinished)
    out("DONE")
    return 0


# ------------------------------------------------------------------ fetch

def cmd_fetch(args):
    data = unescape(args.request)
    heads = re.findall(rb"(?:^|\r\n\r\n)([A-Z]+) ", data)
    t0 = now()
    deadline = t0 + args.timeout
    s = socket.create_connection((args.host, args.port), timeout=args.timeout)
    s.sendall(data)
    if args.shut_wr:
        s.shutdown(socket.SHUT_WR)
    p = Parser(hash_body=True)
    for m in heads:
        p.expect(m == b"HEAD")
    responses = []
    end = "timeout"
    paused = args.pause_after < 0
    try:
        while now() < deadline:
            if not paused:
                cur = p.partial()
                if cur is not None and cur[2] >= args.pause_after:
                    paused = True
                    open(args.pause_file, "w").close()
                    out("paused %d" % cur[2])
                    while not os.path.exists(args.resume_file) and now() < deadline:
                        time.sleep(0.02)
                    out("resumed")
            s.settimeout(max(0.01, deadline - now()))
            d = s.recv(65536 if not paused else 1 << 20)
            if not d:
                end = "closed"
                break
            responses += p.feed(d)
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    s.close()
    for i, (status, clen, got, sha) in enumerate(responses, 1):
        out("response %d %d %d %d %s" % (i, status, clen, got, sha))
    cur = p.partial()
    if cur is not None:
        out("incomplete %d %d %d %s" % cur)
    out("responses %d" % len(responses))
    out("end %s" % end)
    out("elapsed_ms %d" % ((now() - t0) * 1000))
    out("DONE")
    return 0


# ------------------------------------------------------------------ mixed

def mixed_kinds(etag):
    """(name, bytes to send, [(head_only, allowed status...)...], must close)"""
    inm = b"If-None-Match: %s\r\n" % etag.encode() if etag else b""
    return [
        ("get200", b"GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n", [(False, 200)], False),
        ("get404", b"GET /no/such/file HTTP/1.1\r\nHost: x\r\n\r\n", [(False, 404)], False),
        ("cond304", b"GET /file.txt HTTP/1.1\r\nHost: x\r\n%s\r\n" % inm,
         [(False, 304 if etag else 200)], False),
        ("range206", b"GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-1099\r\n\r\n",
         [(False, 206)], False),
        ("head", b"HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", [(True, 200)], False),
        ("index", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", [(False, 200)], False),
        ("pipelined", b"GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n",
         [(False, 200), (True, 200), (False, 404)], False),
        ("post405", b"POST /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
         [(False, 405)], False),
        ("close", b"GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
         [(False, 200)], True),
        ("http10", b"GET /index.html HTTP/1.0\r\n\r\n", [(False, 200)], True),
        ("bad400", b"GET /x HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", [(False, 400)], True),
        ("traversal", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
         [(False, 400, 403, 404)], False),
    ]


def cmd_mixed(args):
    kinds = mixed_kinds(args.etag)
    if args.kinds:
        keep = args.kinds.split(",")
        kinds = [k for k in kinds if k[0] in keep]
    sel = selectors.DefaultSelector()
    t0 = now()
    deadline = t0 + args.timeout
    total = 0
    by_status = {}
    by_kind = {}
    unexpected = []
    errors = {}
    seq = [args.seed]

    class C:
        pass

    def count(d, k):
        d[k] = d.get(k, 0) + 1

    def next_kind():
        seq[0] = (seq[0] * 1103515245 + 12345) & 0x7fffffff
        return kinds[(seq[0] >> 8) % len(kinds)]

    def new_conn():
        c = C()
        c.sock = socket.create_connection((args.host, args.port), timeout=5)
        c.sock.setblocking(False)
        c.parser = Parser()
        c.expect = []
        c.kind = None
        sel.register(c.sock, selectors.EVENT_READ, c)
        return c

    def issue(c):
        k = next_kind()
        c.kind = k[0]
        c.expect = list(k[2])
        c.must_close = k[3]
        for e in k[2]:
            c.parser.expect(e[0])
        c.sock.setblocking(True)
        c.sock.sendall(k[1])
        c.sock.setblocking(False)

    def replace(c):
        sel.unregister(c.sock)
        c.sock.close()
        if total < args.count and now() < deadline:
            issue(new_conn())

    for _ in range(args.conns):
        issue(new_conn())
    while total < args.count and now() < deadline:
        events = sel.select(1.0)
        if not events and not sel.get_map():
            break
        for key, ev in events:
            c = key.data
            try:
                d = c.sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                d = None
                count(errors, "%s:%s" % (c.kind, e.__class__.__name__))
            if not d:
                if c.expect and d is not None:
                    count(errors, "%s:EOF" % c.kind)
                replace(c)
                continue
            for r in c.parser.feed(d):
                total += 1
                count(by_status, r[0])
                count(by_kind, c.kind)
                want = c.expect.pop(0) if c.expect else (False, -1)
                if r[0] not in want[1:]:
                    unexpected.append("%s: got %d, want %s" % (c.kind, r[0], "/".join(map(str, want[1:]))))
            if c.expect:
                continue
            if c.parser.last_close:
                replace(c)         # a lingering close ends when we close
            elif c.must_close:
                unexpected.append("%s: no Connection: close" % c.kind)
                replace(c)
            else:
                issue(c)
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    el = now() - t0
    out("total %d" % total)
    out("by_status %s" % ",".join("%d:%d" % kv for kv in sorted(by_status.items())))
    out("by_kind %s" % ",".join("%s:%d" % kv for kv in sorted(by_kind.items())))
    out("unexpected %d" % len(unexpected))
    for u in unexpected[:10]:
        out("unexpected_example %s" % u)
    out("errors %s" % (",".join("%s:%d" % kv for kv in sorted(errors.items())) or "none"))
    out("rate %d" % (total / el if el > 0 else 0))
    out("DONE %d" % (el * 1000))
    return 0


# ------------------------------------------------------------------ download

def cmd_download(args):
    """GET --path at a steady --rate (bytes/s) through a small receive
    buffer, so the server sees steady progress (unlike curl --limit-rate,
    which reads in bursts and then pauses for as long as a burst took
    beyond the rate); report the status, length and SHA-256 of the body.
    With --tls, over HTTPS."""
    t0 = now()
    deadline = t0 + args.timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    s.settimeout(args.timeout)
    s.connect((args.host, args.port))
    if args.tls:
        s = tls_context(args).wrap_socket(s, server_hostname="localhost")
    close = b"" if args.keep_alive else b"Connection: close\r\n"
    s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (args.path.encode(), close))
    p = Parser(hash_body=True)
    p.expect(False)
    got = 0
    end = "timeout"
    done = []
    chunk = max(1024, int(args.rate / 100))
    next_read = now()
    try:
        while now() < deadline:
            wait = next_read - now()
            if wait > 0:
                time.sleep(wait)
            next_read += chunk / float(args.rate)
            s.settimeout(max(0.01, deadline - now()))
            d = s.recv(chunk)
            if not d:
                end = "closed"
                break
            got += len(d)
            done += p.feed(d)
            if done:
                end = "complete"
                break
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    s.close()
    r = done[0] if done else p.partial()
    if r:
        out("response %d %d %d %s" % r)
    else:
        out("response none")
    out("end %s" % end)
    out("elapsed_ms %d" % ((now() - t0) * 1000))
    out("DONE")
    return 0


# ------------------------------------------------------------------ race

def cmd_race(args):
    """Connect as early as the port accepts (polling every 2 ms), then GET
    --path; report the status (none: the connection ended without a
    response)."""
    t0 = now()
    deadline = t0 + args.timeout
    s = None
    out("STARTED")
    while now() < deadline:
        try:
            s = socket.create_connection((args.host, args.port), timeout=1)
            break
        except OSError:
            s = None
            time.sleep(0.002)
    if s is None:
        out("status none")
        out("error no connection")
        out("DONE")
        return 0
    out("connected_ms %d" % ((now() - t0) * 1000))
    status = "none"
    try:
        s.settimeout(max(0.1, deadline - now()))
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % args.path.encode())
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        st = STATUS.match(buf)
        if st:
            status = st.group(1).decode()
    except OSError as e:
        out("error %s" % e)
    s.close()
    out("status %s" % status)
    out("answered_ms %d" % ((now() - t0) * 1000))
    out("DONE")
    return 0


# ------------------------------------------------------------------ tls

def tls_context(args):
    """A client context that checks the server's certificate against
    --cafile (none: no check) and offers ALPN http/1.1."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if args.cafile:
        ctx.load_verify_locations(args.cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def tls_client_hello(ctx, name="localhost"):
    """The bytes of a fresh ClientHello (memory BIOs, no socket)."""
    import ssl
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, outg, server_hostname=name)
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outg.read()


def tls_get(ctx, host, port, path, timeout, sess=None):
    """A Connection: close GET over a new TLS connection; returns (status,
    body bytes, ms, reused) or (None, error, ms, False)."""
    t0 = now()
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        return None, "connect: %s" % e, (now() - t0) * 1000, False
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost", session=sess)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path.encode())
        p = Parser()
        p.expect(False)
        while True:
            d = s.recv(262144)
            if not d:
                return None, "EOF before the end of the response", (now() - t0) * 1000, False
            r = p.feed(d)
            if r:
                return r[0][0], r[0][2], (now() - t0) * 1000, s.session_reused
    except (OSError, ValueError) as e:
        return None, "%s: %s" % (e.__class__.__name__, e), (now() - t0) * 1000, False
    finally:
        raw.close()


def cmd_tls_latency(args):
    """--n HTTPS GETs, each on a new connection with a full handshake,
    --interval apart; prints like latency, plus p99."""
    ctx = tls_context(args)
    lat = []
    bad = 0
    deadline = now() + args.timeout
    for i in range(args.n):
        if now() > deadline:
            break
        st, body, ms, _ = tls_get(ctx, args.host, args.port, args.path, max(1.0, deadline - now()))
        out("lat %d %.2f %s" % (i + 1, ms, st if st is not None else "error:" + str(body)))
        if st is None or st != args.expect_status:
            bad += 1
        lat.append(ms)
        if i + 1 < args.n:
            time.sleep(args.interval)
    out("count %d" % len(lat))
    out("bad %d" % bad)
    out("median %d" % -(-pct(lat, 50) // 1))
    out("p99 %d" % -(-pct(lat, 99) // 1))
    out("max %d" % -(-(max(lat) if lat else -1) // 1))
    out("median_ms %.2f" % pct(lat, 50))
    out("p99_ms %.2f" % pct(lat, 99))
    out("max_ms %.2f" % (max(lat) if lat else -1))
    out("DONE")
    return 0


def cmd_tls_stall(args):
    """--conns connections that stall in the handshake: kind "partial"
    sends the first --partial bytes of a ClientHello, "hello" a whole one
    and never answers the server's flight (its bytes stay unread until
    the server closes); --kinds alternates among those given.  Prints
    "READY N" once all are sent, then, as the server closes each one (EOF
    or reset), the time from its connect; at the end close_ms_min/max,
    closed and open per kind."""
    raise_nofile(args.conns + 64)
    ctx = tls_context(args)
    kinds = args.kinds.split(",")
    sel = selectors.DefaultSelector()
    t0 = now()
    deadline = t0 + args.timeout

    class C:
        pass

    conns = []
    for i in range(args.conns):
        c = C()
        c.kind = kinds[i % len(kinds)]
        hello = tls_client_hello(ctx)
        if c.kind == "partial":
            hello = hello[:args.partial]
        c.sock = socket.create_connection((args.host, args.port), timeout=5)
        c.t = now()
        c.sock.sendall(hello)
        c.sock.setblocking(False)
        c.got = 0
        c.closed_ms = None
        sel.register(c.sock, selectors.EVENT_READ, c)
        conns.append(c)
    # READY once the server has answered every whole ClientHello with its
    # flight (its handshake work for them is done, and they are stalled)
    hellos = [c for c in conns if c.kind == "hello"]
    ready = False
    pending = len(conns)
    while pending and now() < deadline and not stop_requested(args):
        if not ready and all(c.got > 0 or c.closed_ms is not None for c in hellos):
            out("READY %d" % len(conns))
            ready = True
        for key, ev in sel.select(0.1):
            c = key.data
            try:
                d = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if d:
                c.got += len(d)
                continue
            c.closed_ms = (now() - c.t) * 1000
            sel.unregister(c.sock)
            c.sock.close()
            pending -= 1
    if not ready:
        out("NOTREADY %d" % sum(1 for c in hellos if c.got == 0))
    closed = [c.closed_ms for c in conns if c.closed_ms is not None]
    for k in kinds:
        ks = [c for c in conns if c.kind == k]
        out("kind_%s conns %d closed %d server_bytes_max %d" % (
            k, len(ks), sum(1 for c in ks if c.closed_ms is not None), max([c.got for c in ks] or [0])))
    out("closed %d" % len(closed))
    out("open %d" % pending)
    out("close_ms_min %d" % (min(closed) if closed else -1))
    out("close_ms_median %d" % (pct(closed, 50) if closed else -1))
    out("close_ms_max %d" % (max(closed) if closed else -1))
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    out("DONE")
    return 0


TLS_GARBAGE = {
    # not TLS at all
    "random": lambda ctx: os.urandom(512),
    "zeros": lambda ctx: b"\0" * 300,
    "http": lambda ctx: b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    # a handshake record header that announces more than ever comes
    "truncated": lambda ctx: tls_client_hello(ctx)[:5] + b"\x01\x00",
    # a record of the maximum length, all garbage after a valid header
    "badbody": lambda ctx: b"\x16\x03\x01\x40\x00" + os.urandom(16384),
    # an alert, then application data before any handshake
    "appdata": lambda ctx: b"\x17\x03\x03\x00\x20" + os.urandom(32),
    # a ClientHello whose length field lies (longer than the record)
    "badlen": lambda ctx: (lambda h: h[:6] + b"\xff\xff\xff" + h[9:])(tls_client_hello(ctx)),
    # SSLv2-style hello
    "sslv2": lambda ctx: b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + os.urandom(37),
}


def cmd_tls_garbage(args):
    """For each --kinds (TLS_GARBAGE; "all" = every one) open --each
    connections, send the garbage, then wait up to --timeout for the
    server to close.  Prints per kind: "garbage_ms KIND MS" (the longest
    time from connect to the server's close) and "garbage KIND closed N
    open M http400 H tls_alert A other O" (http400: a plain "HTTP/1.1 400"
    answer; tls_alert: the answer began with a TLS alert record)."""
    ctx = tls_context(args)
    kinds = list(TLS_GARBAGE) if args.kinds == "all" else args.kinds.split(",")
    sel = selectors.DefaultSelector()
    deadline = now() + args.timeout

    class C:
        pass

    conns = []
    for k in kinds:
        for _ in range(args.each):
            c = C()
            c.kind = k
            c.buf = b""
            c.closed = False
            c.sock = socket.create_connection((args.host, args.port), timeout=5)
            c.t = now()
            try:
                c.sock.sendall(TLS_GARBAGE[k](ctx))
            except OSError:
                pass           # the server may close before it has read it all
            c.sock.setblocking(False)
            sel.register(c.sock, selectors.EVENT_READ, c)
            conns.append(c)
    pending = len(conns)
    while pending and now() < deadline:
        for key, ev in sel.select(0.1):
            c = key.data
            try:
                d = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if d:
                c.buf += d
                continue
            c.closed = True
            c.closed_ms = (now() - c.t) * 1000
            sel.unregister(c.sock)
            c.sock.close()
            pending -= 1
    for k in kinds:
        ks = [c for c in conns if c.kind == k]
        out("garbage_ms %s %d" % (k, max([c.closed_ms for c in ks if c.closed] or [-1])))
        h400 = sum(1 for c in ks if c.buf.startswith(b"HTTP/1.1 400"))
        alert = sum(1 for c in ks if c.buf[:1] == b"\x15")
        other = sum(1 for c in ks if c.buf and not c.buf.startswith(b"HTTP/1.1 400") and c.buf[:1] != b"\x15")
        out("garbage %s closed %d open %d http400 %d tls_alert %d other %d" % (
            k, sum(1 for c in ks if c.closed), sum(1 for c in ks if not c.closed), h400, alert, other))
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    out("DONE")
    return 0


def cmd_tls_vanish(args):
    """Clients that reset (SO_LINGER 0) mid-handshake and mid-response,
    --rounds times each: "hello" sends a ClientHello and resets as soon as
    the server's first bytes arrive; "flight" reads the server's whole
    first flight and resets instead of finishing; "response" completes the
    handshake, GETs --path and resets after --after bytes of the body
    (a list: one connection for each).  Prints "vanish KIND done N" and
    problem lines (a server that closed before we reset)."""
    import ssl
    ctx = tls_context(args)
    afters = [int(x) for x in args.after.split(",")]
    counts = {"hello": 0, "flight": 0, "response": 0}
    problems = []
    deadline = now() + args.timeout
    for _ in range(args.rounds):
        if now() > deadline:
            break
        for kind in ("hello", "flight"):
            s = socket.create_connection((args.host, args.port), timeout=5)
            s.sendall(tls_client_hello(ctx))
            try:
                d = s.recv(1 if kind == "hello" else 65536)
                if d:
                    counts[kind] += 1
                else:
                    problems.append("%s: EOF before the server's flight" % kind)
            except OSError as e:
                problems.append("%s: %s" % (kind, e))
            reset_close(s)
        for a in afters:
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            raw.settimeout(10)
            raw.connect((args.host, args.port))
            try:
                s = ctx.wrap_socket(raw, server_hostname="localhost")
                s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % args.path.encode())
                got = 0
                p = Parser()
                p.expect(False)
                while True:
                    d = s.recv(65536)
                    if not d:
                        problems.append("response after=%d: EOF at %d bytes" % (a, got))
                        break
                    got += len(d)
                    r = p.feed(d)
                    cur = r[0] if r else p.partial()
                    if r or (cur is not None and cur[2] >= a):
                        counts["response"] += 1
                        break
            except (OSError, ssl.SSLError) as e:
                problems.append("response after=%d: %s" % (a, e))
            reset_close(raw)
    for k in ("hello", "flight", "response"):
        out("vanish %s done %d" % (k, counts[k]))
    for pr in problems[:20]:
        out("problem %s" % pr)
    out("problems %d" % len(problems))
    out("DONE")
    return 0


def cmd_tls_load(args):
    """--count HTTPS requests on --conns keep-alive connections in turn
    (blocking, one at a time), of the mixed kinds' simple ones (200, 404,
    304, 206, HEAD); every --new-every-th request says Connection: close,
    so that share of requests opens a new connection (a full handshake, or
    a resumed one with --resume).  Prints total, by_status, unexpected,
    handshakes, resumed, errors, rate and DONE."""
    import ssl
    ctx = tls_context(args)
    inm = b"If-None-Match: %s\r\n" % args.etag.encode() if args.etag else b""
    kinds = [
        (b"GET /file.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", False, 200),
        (b"GET /no/such/file HTTP/1.1\r\nHost: localhost\r\n\r\n", False, 404),
        (b"GET /file.txt HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % inm, False, 304 if args.etag else 200),
        (b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=100-1099\r\n\r\n", False, 206),
        (b"HEAD /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n", True, 200),
        (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", False, 200),
    ]
    t0 = now()
    deadline = t0 + args.timeout
    conns = [None] * args.conns
    total = handshakes = resumed = 0
    by_status = {}
    unexpected = []
    errors = {}
    sess = [None]

    def connect():
        raw = socket.create_connection((args.host, args.port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="localhost",
                            session=sess[0] if args.resume else None)
        c = [s, Parser()]
        return c

    i = 0
    while total < args.count and now() < deadline:
        j = i % args.conns
        k = kinds[(i * 7 + args.seed) % len(kinds)]
        close = args.new_every > 0 and i % args.new_every == args.new_every - 1
        i += 1
        try:
            if conns[j] is None:
                conns[j] = connect()
                handshakes += 1
                if conns[j][0].session_reused:
                    resumed += 1
            s, p = conns[j]
            req = k[0]
            if close:
                req = req[:-2] + b"Connection: close\r\n\r\n"
            p.expect(k[1])
            s.sendall(req)
            r = []
            while not r:
                d = s.recv(262144)
                if not d:
                    raise ConnectionError("EOF")
                r = p.feed(d)
            total += 1
            by_status[r[0][0]] = by_status.get(r[0][0], 0) + 1
            if r[0][0] != k[2]:
                unexpected.append("%r: got %d, want %d" % (req[:40], r[0][0], k[2]))
            if close:
                if args.resume:
                    sess[0] = s.session
                # read to the server's close (its close_notify, then EOF)
                try:
                    while s.recv(4096):
                        pass
                except (OSError, ssl.SSLError):
                    pass
                s.close()
                conns[j] = None
        except (OSError, ssl.SSLError) as e:
            key = e.__class__.__name__
            errors[key] = errors.get(key, 0) + 1
            if conns[j] is not None:
                conns[j][0].close()
                conns[j] = None
    for c in conns:
        if c is not None:
            c[0].close()
    el = now() - t0
    out("total %d" % total)
    out("by_status %s" % ",".join("%d:%d" % kv for kv in sorted(by_status.items())))
    out("handshakes %d" % handshakes)
    out("resumed %d" % resumed)
    out("unexpected %d" % len(unexpected))
    for u in unexpected[:10]:
        out("unexpected_example %s" % u)
    out("errors %s" % (",".join("%s:%d" % kv for kv in sorted(errors.items())) or "none"))
    out("rate %d" % (total / el if el > 0 else 0))
    out("DONE %d" % (el * 1000))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd_name", required=True)

    def common(sp, timeout=10.0):
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default=int(os.environ.get("TH_PORT", "0")))
        sp.add_argument("--timeout", type=float, default=timeout)
        sp.add_argument("--stop-file")

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

    sp = sub.add_parser("burst")
    common(sp)
    sp.add_argument("--conns", type=int, default=200)
    sp.add_argument("--path", default="/file.txt")
    sp.add_argument("--close", action="store_true", help="Connection: close; read to EOF")
    sp.add_argument("--hold", type=float, default=0.0, help="seconds to keep the connections")
    sp.set_defaults(fn=cmd_burst)

    sp = sub.add_parser("slowloris")
    common(sp, 60)
    sp.add_argument("--conns", type=int, default=1000)
    sp.add_argument("--rounds", type=int, default=1)
    sp.add_argument("--interval", type=float, default=1.0)
    sp.add_argument("--data", default="GET /file.txt HTTP/1.1\\r\\nHost: x\\r\\nX-Slowloris: ")
    sp.set_defaults(fn=cmd_slowloris)

    sp = sub.add_parser("latency")
    common(sp, 30.0)
    sp.add_argument("--n", type=int, default=20)
    sp.add_argument("--interval", type=float, default=0.1)
    sp.add_argument("--path", default="/file.txt")
    sp.add_argument("--expect-status", type=int, default=200)
    sp.set_defaults(fn=cmd_latency)

    sp = sub.add_parser("flood")
    common(sp, 30.0)
    sp.add_argument("--conns", type=int, default=2000)
    sp.add_argument("--duration", type=float, default=4.0)
    sp.add_argument("--kinds", default="idle,partial,full")
    sp.add_argument("--reset-at-end", action="store_true")
    sp.add_argument("--partial-size", type=int, default=64, help="bytes of the unfinished heads")
    sp.set_defaults(fn=cmd_flood)

    sp = sub.add_parser("idle")
    common(sp, 60)
    sp.add_argument("--conns", type=int, default=10000)
    sp.add_argument("--path", default="/file.txt")
    sp.add_argument("--batch", type=int, default=500)
    sp.set_defaults(fn=cmd_idle)

    sp = sub.add_parser("reset")
    common(sp, 30.0)
    sp.add_argument("--after", default="0,65536,1048576,16777216")
    sp.add_argument("--fin", action="store_true", help="close normally instead of resetting")
    sp.add_argument("--path", default="/big.bin")
    sp.set_defaults(fn=cmd_reset)

    sp = sub.add_parser("stall")
    common(sp, 30.0)
    sp.add_argument("--n", type=int, default=10)
    sp.add_argument("--path", default="/big.bin")
    sp.add_argument("--rcvbuf", type=int, default=4096)
    sp.set_defaults(fn=cmd_stall)

    sp = sub.add_parser("fetch")
    common(sp, 30.0)
    sp.add_argument("--request", required=True)
    sp.add_argument("--shut-wr", action="store_true")
    sp.add_argument("--pause-after", type=int, default=-1)
    sp.add_argument("--pause-file")
    sp.add_argument("--resume-file")
    sp.set_defaults(fn=cmd_fetch)

    sp = sub.add_parser("mixed")
    common(sp, 80)
    sp.add_argument("--count", type=int, default=10000)
    sp.add_argument("--conns", type=int, default=8)
    sp.add_argument("--etag", default="")
    sp.add_argument("--seed", type=int, default=1)
    sp.add_argument("--kinds", default="", help="comma-separated subset of the request kinds")
    sp.set_defaults(fn=cmd_mixed)

    sp = sub.add_parser("download")
    common(sp, 60)
    sp.add_argument("--path", required=True)
    sp.add_argument("--rate", type=float, default=8e6, help="bytes per second")
    sp.add_argument("--rcvbuf", type=int, default=131072)
    sp.add_argument("--tls", action="store_true", help="over HTTPS (--cafile: check the certificate)")
    sp.add_argument("--keep-alive", action="store_true",
                    help="no Connection: close (the server must finish the body unprompted)")
    sp.add_argument("--cafile")
    sp.set_defaults(fn=cmd_download)

    sp = sub.add_parser("race")
    common(sp, 15)
    sp.add_argument("--path", default="/")
    sp.set_defaults(fn=cmd_race)

    sp = sub.add_parser("tls-latency")
    common(sp, 30.0)
    sp.add_argument("--cafile")
    sp.add_argument("--n", type=int, default=20)
    sp.add_argument("--interval", type=float, default=0.1)
    sp.add_argument("--path", default="/file.txt")
    sp.add_argument("--expect-status", type=int, default=200)
    sp.set_defaults(fn=cmd_tls_latency)

    sp = sub.add_parser("tls-stall")
    common(sp, 30.0)
    sp.add_argument("--cafile")
    sp.add_argument("--conns", type=int, default=1000)
    sp.add_argument("--kinds", default="partial,hello")
    sp.add_argument("--partial", type=int, default=100, help="bytes of the ClientHello sent by partial")
    sp.set_defaults(fn=cmd_tls_stall)

    sp = sub.add_parser("tls-garbage")
    common(sp, 10.0)
    sp.add_argument("--cafile")
    sp.add_argument("--kinds", default="all")
    sp.add_argument("--each", type=int, default=10)
    sp.set_defaults(fn=cmd_tls_garbage)

    sp = sub.add_parser("tls-vanish")
    common(sp, 60.0)
    sp.add_argument("--cafile")
    sp.add_argument("--rounds", type=int, default=20)
    sp.add_argument("--after", default="0,65536,524288")
    sp.add_argument("--path", default="/big.bin")
    sp.set_defaults(fn=cmd_tls_vanish)

    sp = sub.add_parser("tls-load")
    common(sp, 120.0)
    sp.add_argument("--cafile")
    sp.add_argument("--count", type=int, default=10000)
    sp.add_argument("--conns", type=int, default=4)
    sp.add_argument("--new-every", type=int, default=20, help="every Nth request closes (0: never)")
    sp.add_argument("--resume", action="store_true", help="resume the last session on reconnect")
    sp.add_argument("--etag", default="")
    sp.add_argument("--seed", type=int, default=0)
    sp.set_defaults(fn=cmd_tls_load)

    args = p.parse_args()
    # every client dies with the test that started it
    set_pdeathsig()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
