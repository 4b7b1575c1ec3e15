#!/usr/bin/env python3
"""fleet_load.py - the client side of t_fleet.sh and t_reuseport.sh.

load: THREADS threads, each on its own keep-alive connection, GET the
files named on the command line in turn (several sizes) from HOST:PORT
until STOPFILE exists, and compare every body with the file.  A failure
is anything but a 200 whose body is the file's: a connection closed or
reset without a response, a short body, another status.  After a failure
(or a response that says Connection: close) the thread opens a new
connection, as a browser would; --close-every N asks for that on every
Nth request, so that new connections keep arriving.  Prints READY once every thread has had a
good response, a FAILREQ line per failure, then
"RESULT ok N fail M reconnects R".

state SOCKET: print "name status" for each server of HAProxy's stats socket.
"""
import argparse
import http.client
import os
import socket
import sys
import threading
import time


def load(args):
    bodies = []
    for path in args.files:
        with open(os.path.join(args.root, path), "rb") as f:
            bodies.append(("/" + path, f.read()))
    lock = threading.Lock()
    counts = {"ok": 0, "fail": 0, "reconnects": 0}
    started = set()
    ready = threading.Event()
    deadline = time.monotonic() + args.max_seconds

    def stop():
        return os.path.exists(args.stopfile) or time.monotonic() > deadline

    def worker(n):
        conn = None
        i = n
        while not stop():
            path, want = bodies[i % len(bodies)]
            i += 1
            if conn is None:
                conn = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
                with lock:
                    counts["reconnects"] += 1
            err = None
            headers = {"Host": "fleet"}
            if args.close_every and i % args.close_every == 0:
                headers["Connection"] = "close"
            try:
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                body = r.read()
                if r.status != 200:
                    err = "status %d" % r.status
                elif body != want:
                    err = "body of %d bytes differs from the file's %d" % (len(body), len(want))
                elif r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                err = "%s: %s" % (type(e).__name__, e)
            if err is not None:
                if conn is not None:
                    conn.close()
                conn = None
                with lock:
                    counts["fail"] += 1
                print("FAILREQ %.3f thread %d %s: %s" % (time.time(), n, path, err), flush=True)
                continue
            with lock:
                counts["ok"] += 1
                started.add(n)
                if len(started) == args.threads:
                    ready.set()
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(args.threads)]
    for t in threads:
        t.start()
    if ready.wait(args.max_seconds):
        print("READY", flush=True)
    for t in threads:
        t.join()
    print("RESULT ok %d fail %d reconnects %d" % (counts["ok"], counts["fail"], counts["reconnects"]), flush=True)
    return 0


def state(args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(args.socket)
    s.sendall(b"show stat\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    lines = data.decode().splitlines()
    if not lines or not lines[0].startswith("# "):
        print("no stats", flush=True)
        return 1
    cols = lines[0][2:].split(",")
    for line in lines[1:]:
        row = dict(zip(cols, line.split(",")))
        if row.get("svname") not in (None, "", "FRONTEND", "BACKEND"):
            print("%s %s" % (row["svname"], row["status"]))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("load")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--threads", type=int, default=4)
    sp.add_argument("--timeout", type=float, default=10)
    sp.add_argument("--max-seconds", type=float, default=120)
    sp.add_argument("--root", required=True)
    sp.add_argument("--stopfile", required=True)
    sp.add_argument("--close-every", type=int, default=0,
                    help="ask for Connection: close on every Nth request (new connections)")
    sp.add_argument("files", nargs="+")
    sp = sub.add_parser("state")
    sp.add_argument("socket")
    args = p.parse_args()
    return load(args) if args.cmd == "load" else state(args)


if __name__ == "__main__":
    sys.exit(main())
