#!/usr/bin/env python3
"""precompressed.py - does a real browser get the precompressed sibling and
the configured cache headers?  Not part of `make check` (it needs Chromium:
`apt-get install -y chromium`, and brotli and openssl).

It makes a document root with index.html and /assets/app.js, app.js.br
(brotli) and app.js.gz (gzip), where each of the three files sets a
different marker in the page, starts the built tinyhttpd over HTTPS (Chromium
asks for br only over HTTPS) with a headers rule for /assets/, loads the page
with `chromium --headless --dump-dom` and a NetLog, and reports:
  - which file the browser ran (the marker in the DOM it dumps), so br was
    decoded by the browser;
  - the request's Accept-Encoding and the response's Content-Encoding,
    Vary, Cache-Control, Content-Type and ETag for app.js, from the NetLog;
  - the access log line (bytes sent = size of app.js.br).
Exit status 0 when the browser ran the br file and got the headers, 1 if
not, 77 when Chromium, brotli or openssl is missing.

    tests/browser/precompressed.py [BUILT-TINYHTTPD]   (default build/src/tinyhttpd)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DAEMON = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "build", "src", "tinyhttpd")


def which(*names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    chromium = which("chromium", "chromium-browser")
    if not chromium or not which("brotli") or not which("openssl"):
        print("SKIP: needs chromium, brotli and openssl")
        return 77
    tmp = tempfile.mkdtemp(prefix="tinyhttpd-browser.")
    os.chmod(tmp, 0o755)
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "assets"))
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>t</title></head>\n'
                '<body><p id="out">not run</p><script src="/assets/app.js"></script></body></html>\n')
    js = 'document.getElementById("out").textContent = "ran-%s";\n' + "// padding\n" * 200
    app = os.path.join(root, "assets", "app.js")
    for name, marker in (("app.js.br", "br"), ("app.js.gz", "gzip"), ("app.js", "identity")):
        with open(app, "w") as f:
            f.write(js % marker)
        if name == "app.js.br":
            subprocess.run(["brotli", "-f", "-q", "11", "-o", app + ".br", app], check=True)
        elif name == "app.js.gz":
            with open(app + ".gz", "wb") as out:
                subprocess.run(["gzip", "-9", "-c", app], stdout=out, check=True)
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for dirpath, dirs, files in os.walk(tmp):
        for n in dirs + files:
            os.chmod(os.path.join(dirpath, n), 0o755 if n in dirs else 0o644)
    port, tport = free_port(), free_port()
    conf = os.path.join(tmp, "tinyhttpd.conf")
    with open(conf, "w") as f:
        f.write('listen = [ "127.0.0.1:%d" ];\ntls_listen = [ "127.0.0.1:%d" ];\n'
                'tls_certificate = "%s";\ntls_certificate_key = "%s";\n'
                'document_root = "%s";\nlog_target = "stderr";\ncharset = "utf-8";\n'
                'headers = ( { prefix = "/assets/"; set = ( "Cache-Control: public, max-age=31536000, immutable" ); } );\n'
                % (port, tport, cert, key, root))
    log = open(os.path.join(tmp, "daemon.log"), "w+")
    d = subprocess.Popen([DAEMON, "-c", conf], stderr=log, stdout=log)
    ok = False
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", tport), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        netlog = os.path.join(tmp, "netlog.json")
        r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--ignore-certificate-errors", "--user-data-dir=" + os.path.join(tmp, "profile"),
                            "--log-net-log=" + netlog, "--dump-dom",
                            "https://127.0.0.1:%d/" % tport],
                           capture_output=True, text=True, timeout=120)
        dom = r.stdout
        marker = dom.split('<p id="out">', 1)[1].split("<", 1)[0] if '<p id="out">' in dom else "(no DOM)"
        print("DOM marker: %s" % marker)
        req_ae, resp = None, []
        try:
            with open(netlog) as f:
                text = f.read()
            try:
                events = json.loads(text)["events"]
            except ValueError:  # a log cut short: close it
                events = json.loads(text.rstrip().rstrip(",") + "]}")["events"]
        except (OSError, ValueError) as e:
            events = []
            print("NetLog unreadable: %s" % e)
        for ev in events:
            p = ev.get("params", {})
            hdrs = p.get("headers")
            if isinstance(hdrs, list) and any("app.js" in h for h in hdrs + [p.get("line", "")]):
                for h in hdrs:
                    if h.lower().startswith("accept-encoding"):
                        req_ae = h
            if isinstance(hdrs, list) and hdrs and str(hdrs[0]).startswith("HTTP/1.1") and any(
                    h.lower().startswith("content-encoding") or "javascript" in h for h in hdrs):
                resp = hdrs
        print("request  %s" % req_ae)
        for h in resp:
            if h.split(":")[0].lower() in ("content-encoding", "vary", "cache-control", "content-type",
                                            "etag", "content-length") or h.startswith("HTTP/"):
                print("response %s" % h)
        log.flush()
        log.seek(0)
        for line in log:
            if "app.js" in line:
                print("access log: %s" % line.strip())
        print("app.js.br is %d bytes, app.js %d" % (os.path.getsize(app + ".br"), os.path.getsize(app)))
        ok = marker == "ran-br" and any(h.lower() == "content-encoding: br" for h in resp) and any(
            h.lower().startswith("cache-control: public, max-age=31536000") for h in resp)
        print("PASS" if ok else "FAIL")
    finally:
        d.terminate()
        d.wait(timeout=10)
        log.close()
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept %s" % tmp)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
