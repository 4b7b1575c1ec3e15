#!/usr/bin/env python3
"""Hostile and load-generating clients for the tinyhttpd abuse tests
(tests/abuse/a_*.sh); python3 stdlib only, loopback only.

Every subcommand is bounded by --timeout (seconds), prints "KEY VALUE"
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
"""

import argparse
import codecs
import ctypes
import errno
import hashlib
import os
import re
import selectors
import signal
import socket
import struct
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
    beyond the rate); report the status, length and SHA-256 of the body."""
    t0 = now()
    deadline = t0 + args.timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    s.settimeout(args.timeout)
    s.connect((args.host, args.port))
    s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % args.path.encode())
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


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd_name")
    sub.required = True

    def common(sp, timeout=30.0):
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default=int(os.environ.get("TH_PORT", "0")))
        sp.add_argument("--timeout", type=float, default=timeout)
        sp.add_argument("--stop-file")

    sp = sub.add_parser("slowloris")
    common(sp, 60)
    sp.add_argument("--conns", type=int, default=1000)
    sp.add_argument("--rounds", type=int, default=1)
    sp.add_argument("--interval", type=float, default=1.0)
    sp.add_argument("--data", default="GET /file.txt HTTP/1.1\\r\\nHost: x\\r\\nX-Slowloris: ")
    sp.set_defaults(fn=cmd_slowloris)

    sp = sub.add_parser("latency")
    common(sp)
    sp.add_argument("--n", type=int, default=20)
    sp.add_argument("--interval", type=float, default=0.1)
    sp.add_argument("--path", default="/file.txt")
    sp.add_argument("--expect-status", type=int, default=200)
    sp.set_defaults(fn=cmd_latency)

    sp = sub.add_parser("flood")
    common(sp)
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
    common(sp)
    sp.add_argument("--after", default="0,65536,1048576,16777216")
    sp.add_argument("--fin", action="store_true", help="close normally instead of resetting")
    sp.add_argument("--path", default="/big.bin")
    sp.set_defaults(fn=cmd_reset)

    sp = sub.add_parser("stall")
    common(sp)
    sp.add_argument("--n", type=int, default=10)
    sp.add_argument("--path", default="/big.bin")
    sp.add_argument("--rcvbuf", type=int, default=4096)
    sp.set_defaults(fn=cmd_stall)

    sp = sub.add_parser("fetch")
    common(sp)
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
    sp.set_defaults(fn=cmd_download)

    sp = sub.add_parser("race")
    common(sp, 15)
    sp.add_argument("--path", default="/")
    sp.set_defaults(fn=cmd_race)

    args = p.parse_args()
    set_pdeathsig()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
