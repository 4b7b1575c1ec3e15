#!/bin/bash
# t_tls.sh - HTTPS: a test CA and ECDSA P-256 and RSA 2048 certificates made
# here with openssl; curl --cacert for GET/HEAD, keep-alive, ranges, 304,
# errors and traversal; raw TLS pipelining and close_notify (python ssl);
# TLS 1.0/1.1 refused, 1.2/1.3 accepted, tls_protocols = "TLSv1.3" refuses
# 1.2; ALPN; resumption with and without session tickets; plain HTTP on the
# HTTPS port and a ClientHello on the plain port; tls_redirect and tls_hsts;
# the access log; reload with a renewed certificate (a download in flight
# completes) and with a mismatched pair (refused); the expiry warning.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null 2>&1 || th_skip "openssl not found"
# Started as root, the daemon serves as nobody and a reload re-reads the
# configuration, the document root and the certificate with those rights:
# keep them where any user can read them (test keys only).
TH_TMPBASE=/tmp
th_init
# built without OpenSSL, -t refuses every tls_* key (script/test checks that)
printf 'listen = "127.0.0.1:1";\ndocument_root = "/";\ntls_hsts = 0;\n' >"$TH_TMP/probe.conf"
if "$TINYHTTPD" -t -c "$TH_TMP/probe.conf" 2>&1 | grep -q 'built without OpenSSL'; then
    th_skip "tinyhttpd was built without OpenSSL"
fi
pub=$TH_TMP
chmod 755 "$pub"
P=$pub/pki

# ---------------------------------------------------------------- certificates
th_test_ca "$P"
th_test_leaf ec ec 30 0x1001
th_test_leaf ec2 ec 30 0x1002
th_test_leaf rsa rsa 5 0x2001
chmod -R a+rX "$pub"

serial() { openssl x509 -noout -serial -in "$1" | sed 's/^serial=//'; }
S1=$(serial "$P/ec.crt")
S2=$(serial "$P/ec2.crt")

# The files the daemon reads (a renewal replaces them).
cp "$P/ec.pem" "$pub/cert.pem"
cp "$P/ec.key" "$pub/key.pem"
chmod 644 "$pub/cert.pem" "$pub/key.pem"

head -c $((4 * 1048576)) /dev/urandom >"$TH_ROOT/big4.bin"
chmod -R a+rX "$TH_ROOT" "$TH_OUTSIDE"

TPORT=$(th_free_port)
conf=$pub/tinyhttpd.conf
# write_conf LINE...: plain on $TH_PORT, HTTPS on $TPORT, and the lines
write_conf() {
    {
        printf 'listen = [ "127.0.0.1:%s" ];\n' "$TH_PORT"
        printf 'tls_listen = [ "127.0.0.1:%s" ];\n' "$TPORT"
        printf 'document_root = "%s";\n' "$TH_ROOT"
        printf 'tls_certificate = "%s";\ntls_certificate_key = "%s";\n' "$pub/cert.pem" "$pub/key.pem"
        printf 'keepalive_timeout = 30;\naccess_log = true;\nlog_target = "stderr";\n'
        local l
        for l in "$@"; do printf '%s\n' "$l"; done
    } >"$conf"
    chmod 644 "$conf"
}

# The python helper: raw TLS where curl cannot go.
cat >"$TH_TMP/tlsc.py" <<'PY'
import socket, ssl, sys
cmd, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def ctx():
    c = ssl.create_default_context(cafile=ca)
    return c
def tls(timeout=10):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx().wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
def read_all(s):
    buf = b""
    while True:
        try:
            d = s.recv(65536)
        except ssl.SSLEOFError as e:
            return buf, "ragged-eof"
        except (ConnectionResetError, ssl.SSLError) as e:
            return buf, "error " + type(e).__name__
        if not d:
            return buf, "clean-eof"
        buf += d
def req(path, extra=b""):
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n" + extra + b"\r\n"
if cmd == "pipeline":
    # three requests in one write, the last one closes: three 200s in order
    s = tls()
    s.sendall(req("/file.txt") + req("/sub/") + req("/index.html", b"Connection: close\r\n"))
    buf, end = read_all(s)
    import re
    print("statuses", " ".join(m.decode() for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", buf)))
    print("markers", int(b"th-index-sub" in buf), int(b"th-index-root" in buf))
    print("end", end)
elif cmd == "records":
    # three requests, each in a TLS record of its own, corked into one
    # segment so that one read of the server takes them all: the second and
    # third wait in OpenSSL's buffer, not in the socket, and must be
    # answered without any more input
    s = tls(timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    for i in range(3):
        s.sendall(req("/file.txt"))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    buf = b""
    try:
        while buf.count(b"HTTP/1.1 200 ") < 3 or len(buf.rsplit(b"\r\n\r\n", 1)[1]) < 1024:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        print("answered", buf.count(b"HTTP/1.1 200 "))
    except socket.timeout:
        print("answered", buf.count(b"HTTP/1.1 200 "), "then nothing for 5 s")
elif cmd == "close-notify":
    # the server closes after Connection: close with close_notify: recv
    # returns b"" (a ragged EOF raises SSLEOFError), and unwrap succeeds
    s = tls()
    s.sendall(req("/file.txt", b"Connection: close\r\n"))
    buf, end = read_all(s)
    print("status", buf.split(b" ")[1].decode() if buf else "none")
    print("end", end)
elif cmd == "plain-to-tls":
    # an HTTPS connection is kept open across a plain request to the HTTPS port
    k = tls()
    k.sendall(req("/file.txt"))
    first = k.recv(65536)
    p = socket.create_connection(("127.0.0.1", port), timeout=10)
    p.sendall(b"GET /file.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
    buf = b""
    while True:
        d = p.recv(65536)
        if not d:
            break
        buf += d
    print("plain", buf.split(b"\r\n")[0].decode(errors="replace"))
    print("plainmsg", int(b"This port speaks HTTPS" in buf))
    print("plainclosed 1")
    k.sendall(req("/index.html", b"Connection: close\r\n"))
    buf2, _ = read_all(k)
    print("kept", first.split(b"\r\n")[0].decode(), int(b"th-index-root" in buf2))
elif cmd == "hello-to-plain":
    # a real ClientHello (made by the ssl module) sent to the plain port
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx().wrap_bio(inc, out, server_hostname="localhost")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    p = socket.create_connection(("127.0.0.1", port), timeout=10)
    p.sendall(hello)
    buf = b""
    while True:
        try:
            d = p.recv(65536)
        except ConnectionResetError:
            print("reset 1")
            break
        if not d:
            break
        buf += d
    print("hellolen", len(hello), "first", hello[0])
    print("answer", buf.split(b"\r\n")[0].decode(errors="replace"))
    print("closed 1")
PY
tlsc() { timeout 20 "$PYTHON3" -I -S "$TH_TMP/tlsc.py" "$1" "$2" "$P/ca.pem" 2>&1; }
val() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' <<<"$2"; }

U=https://localhost:$TPORT
R=(--resolve "localhost:$TPORT:127.0.0.1")
D=$TH_TMP/out
mkdir -p "$D"
# hget NAME PATH [CURL OPTIONS]: an HTTPS GET; $D/NAME.{head,body,code}
hget() {
    local name=$1 path=$2
    shift 2
    th_curl --cacert "$P/ca.pem" "${R[@]}" -D "$D/$name.head" -o "$D/$name.body" \
        -w '%{http_code}' "$@" "$U$path" >"$D/$name.code" 2>"$D/$name.err" || true
    [ -f "$D/$name.body" ] || : >"$D/$name.body"
}
code() { cat "$D/$1.code"; }
absent() { ! grep -aqE -- "$1" "$2"; }
nreloaded() { grep -ac 'certificate reloaded' "$TH_LOG" || true; }
reloaded_since() { [ "$(nreloaded)" -gt "$1" ]; }
hdr() { tr -d '\r' <"$D/$1.head" | awk -v h="$2" 'tolower($0) ~ "^" tolower(h) ":" { sub(/^[^:]*: */, ""); print; exit }'; }
# s_client ARGS...: one connection, a GET / with Connection: close, all output
sclient() {
    printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
        timeout 10 openssl s_client -connect "127.0.0.1:$TPORT" -servername localhost \
            -CAfile "$P/ca.pem" -ign_eof "$@" 2>&1 || true
}

# ================================================================ daemon 1: ECDSA
write_conf 'tls_hsts = 31536000;'
th_start "$TINYHTTPD" -c "$conf"
pid=$TH_DPID

# --- GET / HEAD
hget get /file.txt
th_eq "GET over HTTPS: 200" 200 "$(code get)"
th_check "GET over HTTPS: body byte-exact" cmp -s "$D/get.body" "$TH_ROOT/file.txt"
th_eq "HTTPS response carries Strict-Transport-Security" "max-age=31536000" "$(hdr get Strict-Transport-Security)"
hget head /file.txt -I
th_eq "HEAD over HTTPS: 200" 200 "$(code head)"
th_eq "HEAD over HTTPS: Content-Length" 1024 "$(hdr head Content-Length)"
# the raw bytes: the header block and nothing after it
out=$(printf 'HEAD /file.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout 10 openssl s_client -connect "127.0.0.1:$TPORT" -quiet -servername localhost \
        -CAfile "$P/ca.pem" 2>/dev/null | tr -d '\r' | sed -n '/^$/,$p' | wc -c) || true
th_eq "HEAD over HTTPS: no body (raw)" 1 "$out"
th_get plain /file.txt
th_expect_status plain 200
th_expect_no_hdr plain Strict-Transport-Security

# --- keep-alive: two requests, one connection
n=$(th_curl --cacert "$P/ca.pem" "${R[@]}" -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
    "$U/file.txt" "$U/index.html" 2>&1 | tr '\n' ' ') || true
th_eq "keep-alive over HTTPS: two 200s, the second on the same connection" "200 1 200 0 " "$n"

# --- pipelining (raw TLS)
out=$(tlsc pipeline "$TPORT")
echo "$out" | sed 's/^/# pipeline: /'
th_eq "pipelined over TLS: three 200s" "200 200 200" "$(val statuses "$out")"
th_eq "pipelined over TLS: the bodies in order" "1 1" "$(val markers "$out")"

out=$(tlsc records "$TPORT")
echo "$out" | sed 's/^/# records: /'
th_eq "three requests in three TLS records, read at once: three 200s" "3" "$(val answered "$out")"

# --- ranges and 304
hget range /file.txt -r 10-19
th_eq "range over HTTPS: 206" 206 "$(code range)"
th_eq "range over HTTPS: Content-Range" "bytes 10-19/1024" "$(hdr range Content-Range)"
th_check "range over HTTPS: the bytes" cmp -s "$D/range.body" <(tail -c +11 "$TH_ROOT/file.txt" | head -c 10)
hget r416 /file.txt -r 5000-6000
th_eq "unsatisfiable range over HTTPS: 416" 416 "$(code r416)"
etag=$(hdr get ETag)
th_match "ETag over HTTPS" '^(W/)?".+"$' "$etag"
hget inm /file.txt -H "If-None-Match: $etag"
th_eq "If-None-Match over HTTPS: 304" 304 "$(code inm)"
th_eq "304 over HTTPS: no body" 0 "$(wc -c <"$D/inm.body")"

# --- errors and traversal
hget e404 /no-such-file
th_eq "404 over HTTPS" 404 "$(code e404)"
hget e405 /file.txt -X DELETE
th_eq "405 over HTTPS" 405 "$(code e405)"
out=$(printf 'GARBAGE\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$TPORT" -quiet \
    -servername localhost -CAfile "$P/ca.pem" 2>/dev/null | head -n 1 | tr -d '\r') || true
th_match "garbage over HTTPS: 400" '^HTTP/1\.1 400 ' "$out"
for t in /../outside/secret.txt /%2e%2e/outside/secret.txt /sub/..%2f..%2foutside/secret.txt; do
    hget trav "$t" --path-as-is
    th_match "traversal over HTTPS refused: $t" '^(400|403|404)$' "$(code trav)"
    th_check "traversal over HTTPS: no secret in the body ($t)" absent th-outside-secret "$D/trav.body"
done

# --- a large file byte-exact, a small cached file twice
hget big /big4.bin
th_eq "4 MiB over HTTPS: 200" 200 "$(code big)"
th_check "4 MiB over HTTPS: byte-exact" cmp -s "$D/big.body" "$TH_ROOT/big4.bin"
# A reader behind a small window fills the socket again and again, so the
# server must park with records still gathered and send them when it can,
# the last ones of the body included, on a connection that stays open (so
# that nothing but the response itself makes them go).
out=$(timeout 60 "$PYTHON3" -I -S "$TH_CLIENT" download --port "$TPORT" --tls --cafile "$P/ca.pem" \
    --keep-alive --path /big4.bin --rcvbuf 8192 --rate 16000000 --timeout 20 2>&1) || true
big_sha=$(sha256sum "$TH_ROOT/big4.bin" | cut -d' ' -f1)
th_eq "4 MiB over HTTPS to a slow reader: complete" complete "$(val end "$out")"
th_match "4 MiB over HTTPS to a slow reader: byte-exact" "^200 4194304 4194304 $big_sha\$" \
    "$(val response "$out")"
hget small1 /index.html
hget small2 /index.html
th_check "small file over HTTPS twice (cache): both byte-exact" \
    cmp -s "$D/small1.body" "$TH_ROOT/index.html" && cmp -s "$D/small2.body" "$TH_ROOT/index.html"

# --- protocols: 1.0 and 1.1 refused by the server, 1.2 and 1.3 accepted
# The control: this client, so configured, does complete TLS 1.0 and 1.1
# with a server that allows them (openssl s_server), so the refusal below
# is tinyhttpd's.
CPORT=$(th_free_port)
th_bg_start ctl openssl s_server -accept "127.0.0.1:$CPORT" -cert "$P/ec.pem" -key "$P/ec.key" \
    -cipher 'DEFAULT@SECLEVEL=0' -tls1 -www
th_bg_expect ctl '^ACCEPT' 5 || th_fail "the control s_server did not start"
out=$(timeout 10 openssl s_client -connect "127.0.0.1:$CPORT" -tls1 -cipher 'DEFAULT@SECLEVEL=0' </dev/null 2>&1 || true)
th_match "control: the client completes TLS 1.0 with a server that allows it" 'New, TLSv1(\.0)?, Cipher is [A-Z]' "$out"
th_bg_kill ctl
for v in tls1 tls1_1; do
    out=$(sclient "-$v" -cipher 'DEFAULT@SECLEVEL=0')
    th_nomatch "-$v: the client offered it (not refused by the client's own policy)" \
        'no protocols available|unsupported protocol.*ssl_choose_client_version' "$out"
    th_match "-$v: the server refuses the handshake with a protocol_version alert" 'alert protocol version' "$out"
    th_nomatch "-$v: no session established" 'HTTP/1\.1 200|Cipher is [A-Z]' "$out"
done
for v in tls1_2 tls1_3; do
    out=$(sclient "-$v")
    th_match "-$v accepted" "New, TLSv1\\.${v#tls1_}, Cipher is" "$out"
    th_match "-$v: request answered" 'HTTP/1\.1 200' "$out"
done

# --- ALPN
out=$(sclient -alpn http/1.1)
th_match "ALPN http/1.1 answered" 'ALPN protocol: http/1\.1' "$out"
out=$(sclient -alpn h2)
th_match "ALPN h2 only: no ALPN selected" 'No ALPN negotiated' "$out"
th_match "ALPN h2 only: the request is still answered" 'HTTP/1\.1 200' "$out"

# --- resumption with tickets (the default)
for v in tls1_3 tls1_2; do
    rm -f "$TH_TMP/sess"
    sclient "-$v" -sess_out "$TH_TMP/sess" >/dev/null
    out=$(sclient "-$v" -sess_in "$TH_TMP/sess")
    th_match "resumption with tickets, $v" "Reused, TLSv1\\.${v#tls1_}" "$out"
done

# --- close_notify on close
out=$(tlsc close-notify "$TPORT")
echo "$out" | sed 's/^/# close-notify: /'
th_eq "Connection: close over TLS: 200" 200 "$(val status "$out")"
th_eq "the server sends close_notify before it closes" clean-eof "$(val end "$out")"
# s_client (OpenSSL 3) prints "closed" on close_notify (SSL_ERROR_ZERO_RETURN)
# and "unexpected eof while reading" or "read:errno=0" on a bare TCP close
out=$(sclient)
th_match "s_client sees close_notify" $'(^|\n)closed($|\n)' "$out"
th_nomatch "s_client sees no bare TCP close" 'unexpected eof|read:errno' "$out"

# --- plain HTTP to the HTTPS port, TLS to the plain port
out=$(tlsc plain-to-tls "$TPORT")
echo "$out" | sed 's/^/# plain-to-tls: /'
th_match "plain HTTP on the HTTPS port: 400" '^HTTP/1\.1 400 ' "$(val plain "$out")"
th_eq "plain HTTP on the HTTPS port: the message" 1 "$(val plainmsg "$out")"
th_eq "plain HTTP on the HTTPS port: closed" 1 "$(val plainclosed "$out")"
th_eq "an HTTPS connection open meanwhile is still served" "HTTP/1.1 200 OK 1" "$(val kept "$out")"
out=$(tlsc hello-to-plain "$TH_PORT")
echo "$out" | sed 's/^/# hello-to-plain: /'
th_match "a ClientHello was sent (a handshake record)" '^[0-9]+ first 22$' "$(val hellolen "$out")"
th_match "a ClientHello on the plain port: 400" '^HTTP/1\.1 400 ' "$(val answer "$out")"
th_eq "a ClientHello on the plain port: closed" 1 "$(val closed "$out")"
hget after-abuse /file.txt
th_eq "HTTPS still served after both" 200 "$(code after-abuse)"

# --- the access log: protocol and cipher on HTTPS lines, plain lines unchanged
hget alog /alog-https
th_get alog-plain /alog-plain
th_check "access log: HTTPS line" th_wait_log '"GET /alog-https HTTP/1\.1" 404 .* TLSv1\.[23] [A-Z][A-Z0-9_-]+$'
th_check "access log: plain line without TLS fields" th_wait_log '"GET /alog-plain HTTP/1\.1" 404 [0-9]+ "-" "curl/[^"]*" [0-9]+$'
th_check "access log: plain line has no TLS fields" absent '/alog-plain .*TLSv1' "$TH_LOG"

# --- tls_redirect (reload)
write_conf 'tls_hsts = 31536000;' 'tls_redirect = true;'
th_signal HUP
th_check "reload with tls_redirect" th_wait_log 'reloaded .*certificate reloaded' 5
th_req redir "GET /file.txt?q=1 HTTP/1.1\\r\\nHost: 127.0.0.1:$TH_PORT\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status redir 301
th_expect_hdr redir Location "^https://127\\.0\\.0\\.1:$TPORT/file\\.txt\\?q=1\$"
hget noredir /file.txt
th_eq "HTTPS is not redirected" 200 "$(code noredir)"

# --- reload with a renewed certificate; a slow download started before completes
srv_serial() {
    openssl s_client -connect "127.0.0.1:$TPORT" -servername localhost </dev/null 2>/dev/null |
        openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//' || true
}
th_eq "the first certificate is served" "$S1" "$(srv_serial)"
th_bg_start slow curl -sS --max-time 30 --cacert "$P/ca.pem" "${R[@]}" --limit-rate 1M \
    -o "$TH_TMP/slow.bin" -w 'done %{http_code}\n' "$U/big4.bin"
th_check "the slow download has started" th_poll 5 test -s "$TH_TMP/slow.bin"
cp "$P/ec2.pem" "$pub/cert.new" && cp "$P/ec2.key" "$pub/key.new" && chmod 644 "$pub"/*.new
mv "$pub/cert.new" "$pub/cert.pem" && mv "$pub/key.new" "$pub/key.pem"
write_conf 'tls_hsts = 31536000;'
nrel=$(nreloaded)
th_signal HUP
th_check "renewed certificate reloaded" th_poll 5 reloaded_since "$nrel"
th_check "the slow download is still in flight at the reload" kill -0 "${TH_BG_PID[slow]}"
th_eq "a new connection sees the renewed certificate's serial" "$S2" "$(srv_serial)"
th_bg_expect slow '^done ' 25 || true
th_eq "the download started before the reload ends with 200" "done 200" "$TH_BG_LINE"
th_bg_wait slow 5 || true
th_check "the download started before the reload is byte-exact" cmp -s "$TH_TMP/slow.bin" "$TH_ROOT/big4.bin"

# --- a mismatched pair is refused, the running one stays
# (the daemon's message for this case is OpenSSL's "key values mismatch",
# from SSL_CTX_use_PrivateKey, not its own "does not match the certificate")
TH_STDERR_ALLOW='reload failed'
cp "$P/ec.pem" "$pub/cert.pem"
th_signal HUP
th_check "mismatched pair: reload failed" \
    th_wait_log '\[err\] reload failed.*tls_certificate.*(does not match|key values mismatch)' 5
th_eq "mismatched pair: the renewed certificate is still served" "$S2" "$(srv_serial)"
hget after-bad /file.txt
th_eq "mismatched pair: HTTPS still served" 200 "$(code after-bad)"
th_eq "same daemon throughout" "$pid" "$TH_DPID"
th_stop

# ================================================================ daemon 2: RSA, TLS 1.3 only, no tickets, expiring
cp "$P/rsa.pem" "$pub/cert.pem"
cp "$P/rsa.key" "$pub/key.pem"
write_conf 'tls_protocols = "TLSv1.3";' 'tls_session_tickets = false;'
out=$(timeout 10 "$TINYHTTPD" -t -c "$conf" 2>&1) && rc=0 || rc=$?
th_eq "-t with a certificate expiring in 5 days succeeds" 0 "$rc"
th_match "-t warns about the expiry" "tinyhttpd: warning: the certificate in $pub/cert\\.pem expires in [45] days" "$out"
TH_STDERR_ALLOW='expires in [0-9]+ day'
th_start "$TINYHTTPD" -c "$conf"
th_check "the daemon warns about the expiry" th_wait_log '\[warning\].*the certificate in .* expires in [45] days' 5
hget rsa /big4.bin
th_eq "RSA certificate: 200" 200 "$(code rsa)"
th_check "RSA certificate: 4 MiB byte-exact" cmp -s "$D/rsa.body" "$TH_ROOT/big4.bin"
out=$(sclient -tls1_2)
th_match "tls_protocols = TLSv1.3 refuses TLS 1.2" 'alert protocol version' "$out"
th_nomatch "tls_protocols = TLSv1.3: no TLS 1.2 session" 'HTTP/1\.1 200|New, TLSv1\.2' "$out"
out=$(sclient -tls1_3)
th_match "tls_protocols = TLSv1.3 accepts TLS 1.3" 'New, TLSv1\.3, Cipher is' "$out"
th_match "RSA leaf: the server key is RSA 2048" 'Server public key is 2048 bit' "$out"
# Resumption without tickets: by the server's session cache, TLS 1.3
# stateful (one NewSessionTicket that names a cache entry).
rm -f "$TH_TMP/sess"
sclient -sess_out "$TH_TMP/sess" >/dev/null
out=$(sclient -sess_in "$TH_TMP/sess")
th_match "tls_session_tickets = false: TLS 1.3 resumed from the session cache" 'Reused, TLSv1\.3' "$out"
# TLS 1.2 session IDs
write_conf 'tls_session_tickets = false;'
nrel=$(nreloaded)
th_signal HUP
th_check "reload with both protocols, no tickets" th_poll 5 reloaded_since "$nrel"
rm -f "$TH_TMP/sess"
out=$(sclient -tls1_2 -sess_out "$TH_TMP/sess")
th_nomatch "tls_session_tickets = false: no TLS 1.2 ticket" 'TLS session ticket:' "$out"
out=$(sclient -tls1_2 -sess_in "$TH_TMP/sess")
th_match "tls_session_tickets = false: TLS 1.2 resumed by session ID" 'Reused, TLSv1\.2' "$out"
th_done
