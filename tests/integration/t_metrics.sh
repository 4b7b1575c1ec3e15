#!/bin/bash
# t_metrics.sh - the metrics listener (metrics_listen): GET and HEAD
# /metrics in the Prometheus text format 0.0.4, checked by a strict parser
# (promparse.py, which first proves on its own cases that it rejects bad
# documents); the counters move as this test's requests say; gauges of
# idle connections and slow clients; 503s of a full queue; pauses at
# max_connections, and a scrape still answered then; counters kept across a
# reload; nothing but /metrics served; a silent client does not hold the
# loop; TLS handshakes and failures; and a metrics address that is also in
# listen refused by -t.
. "$(dirname "$0")/lib.sh"

TH_TMPBASE=/tmp
th_init
chmod 755 "$TH_TMP"
PARSER=$TH_LIBDIR/promparse.py
th_check "the parser accepts valid and rejects invalid documents (--self-test)" \
    "$PYTHON3" -I -S "$PARSER" --self-test
MPORT=$TH_PORT
while [ "$MPORT" = "$TH_PORT" ]; do MPORT=$(th_free_port); done
head -c 16777216 /dev/zero >"$TH_ROOT/huge.bin"

# scrape NAME: GET /metrics, saved and parsed into $TH_TMP/m.NAME
scrape() {
    local f=$TH_TMP/m.$1
    th_curl -D "$f.head" -o "$f.raw" "http://127.0.0.1:$MPORT/metrics" || true
    if "$PYTHON3" -I -S "$PARSER" "$f.raw" >"$f" 2>&1; then
        th_ok "scrape $1: the exposition parses strictly ($(wc -l <"$f") samples)"
    else
        th_fail "scrape $1: the exposition does not parse" "$(tail -n 1 "$f")"
    fi
}
# val NAME SERIES: the value of SERIES (as promparse prints it) in scrape NAME
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' "$TH_TMP/m.$1"; }
# delta DESC A B SERIES WANT: SERIES grew by WANT from scrape A to scrape B
delta() {
    local a b
    a=$(val "$2" "$4")
    b=$(val "$3" "$4")
    if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]]; then
        th_eq "$1: $4 +$5" "$5" $((b - a))
    else
        th_fail "$1: $4 not an integer ($a, $b)"
    fi
}
R='tinyhttpd_requests_total'

# ---------------------------------------------------------------- counters
th_conf "metrics_listen = \"127.0.0.1:$MPORT\";" 'pool_size = 2;'
th_start
th_check "the metrics address is logged" th_wait_log "metrics on http://127.0.0.1:$MPORT/metrics"
scrape s0
th_match "Content-Type of the exposition" $'Content-Type: text/plain; version=0.0.4; charset=utf-8\r' \
    "$(grep -i '^Content-Type:' "$TH_TMP/m.s0.head")"
th_match "status 200" '^HTTP/1.1 200 ' "$(head -n 1 "$TH_TMP/m.s0.head")"

for i in 1 2 3; do th_get "get$i" /file.txt; th_expect_status "get$i" 200; done
th_get nf1 /nope
th_get nf2 /nope/either
th_get head /file.txt -I
th_req other 'OPTIONS /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
ostatus=$(th_status other)
nf_bytes=$(($(stat -c %s "$(th_body nf1)") + $(stat -c %s "$(th_body nf2)")))
other_bytes=$(stat -c %s "$(th_body other)")
scrape s1
delta "3 GETs of file.txt" s0 s1 "$R{code=\"2xx\",method=\"GET\"}" 3
delta "2 GETs of missing files" s0 s1 "$R{code=\"4xx\",method=\"GET\"}" 2
delta "1 HEAD" s0 s1 "$R{code=\"2xx\",method=\"HEAD\"}" 1
delta "1 OPTIONS (status $ostatus)" s0 s1 "$R{code=\"${ostatus:0:1}xx\",method=\"other\"}" 1
delta "body bytes: 3 x 1024, the 404 pages, the OPTIONS answer" s0 s1 \
    tinyhttpd_response_body_bytes_total $((3 * 1024 + nf_bytes + other_bytes))
delta "7 durations" s0 s1 tinyhttpd_request_duration_seconds_count 7
delta "7 durations in the +Inf bucket" s0 s1 'tinyhttpd_request_duration_seconds_bucket{le="+Inf"}' 7
delta "7 connections accepted" s0 s1 tinyhttpd_connections_accepted_total 7
hits=$(($(val s1 tinyhttpd_cache_hits_total) - $(val s0 tinyhttpd_cache_hits_total)))
misses=$(($(val s1 tinyhttpd_cache_misses_total) - $(val s0 tinyhttpd_cache_misses_total)))
th_check "file.txt again came from the cache (hits +$hits)" test "$hits" -ge 2
th_check "the first lookups missed (misses +$misses)" test "$misses" -ge 1
th_eq "2 workers" 2 "$(val s1 tinyhttpd_workers)"
th_eq "no TLS handshake" 0 "$(val s1 tinyhttpd_tls_handshakes_total)"

# ---------------------------------------------------------------- gauges
th_bg_start hold "$PYTHON3" -I -S "$TH_CLIENT" hold --port "$TH_PORT" --idle 2 --keepalive 3 --timeout 30
th_bg_expect hold '^READY' 10 || th_fatal "could not open 5 connections"
idle_at_least() { scrape idle >/dev/null; [ "$(val idle tinyhttpd_connections_idle)" -ge "$1" ]; }
th_check "5 idle connections are counted" th_poll 10 idle_at_least 5
th_check "and open" test "$(val idle tinyhttpd_connections_open)" -ge 5
th_bg_kill hold
th_bg_start slow "$PYTHON3" -I -S -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
print("SENT", flush=True)
time.sleep(30)' "$TH_PORT"
th_bg_expect slow '^SENT' 10 || th_fatal "the slow client did not start"
slow_at_least() { scrape slow >/dev/null; [ "$(val slow tinyhttpd_connections_slow_client)" -ge "$1" ]; }
th_check "a client that does not read is counted as slow" th_poll 10 slow_at_least 1
th_bg_kill slow

# ---------------------------------------------------------------- only /metrics
mreq() { th_curl -o /dev/null -w '%{http_code}' "$@"; }
th_eq "GET / on the metrics port: 404" 404 "$(mreq "http://127.0.0.1:$MPORT/")"
th_eq "GET /file.txt on the metrics port: 404 (no files)" 404 "$(mreq "http://127.0.0.1:$MPORT/file.txt")"
th_eq "POST /metrics: 405" 405 "$(mreq -X POST "http://127.0.0.1:$MPORT/metrics")"
th_eq "HEAD /metrics: 200" 200 "$(mreq -I "http://127.0.0.1:$MPORT/metrics")"
th_eq "GET /metrics?x=1: 200" 200 "$(mreq "http://127.0.0.1:$MPORT/metrics?x=1")"
# a client that connects and says nothing holds no one up
exec {silent}<>"/dev/tcp/127.0.0.1/$MPORT"
t0=$(th_now_ms)
scrape silent
th_le "a scrape beside a silent client is answered at once (ms)" $(($(th_now_ms) - t0)) 2000
th_get during /file.txt
th_expect_status during 200
exec {silent}>&-

# ---------------------------------------------------------------- reload
scrape r0
th_signal HUP
th_check "reloaded" th_wait_log 'reloaded '
th_get after /file.txt
scrape r1
delta "counters go on across a reload" r0 r1 "$R{code=\"2xx\",method=\"GET\"}" 1
th_stop

# ---------------------------------------------------------------- a full queue
th_conf "metrics_listen = \"127.0.0.1:$MPORT\";" 'pool_size = 1;' 'queue_size = 1;' 'access_log = false;'
TH_STDERR_ALLOW='job queue full'
th_start
scrape q0
out=$("$PYTHON3" -I -S "$TH_CLIENT" burst --port "$TH_PORT" --conns 200 --close)
busy=$(awk '$1 == "status" && $2 == "503" { print $3 }' <<<"$out")
ok=$(awk '$1 == "status" && $2 == "200" { print $3 }' <<<"$out")
scrape q1
echo "# burst: ${ok:-0} x 200, ${busy:-0} x 503"
th_check "the burst met a full queue (${busy:-0} x 503)" test "${busy:-0}" -gt 0
delta "every 503 of the full queue" q0 q1 tinyhttpd_queue_full_total "${busy:-0}"
delta "the 503s by class" q0 q1 "$R{code=\"5xx\",method=\"other\"}" "${busy:-0}"
delta "the 200s" q0 q1 "$R{code=\"2xx\",method=\"GET\"}" "${ok:-0}"
th_stop
TH_STDERR_ALLOW=

# ---------------------------------------------------------------- max_connections
th_conf "metrics_listen = \"127.0.0.1:$MPORT\";" 'max_connections = 3;' 'header_timeout = 30;'
th_start
th_bg_start hold "$PYTHON3" -I -S "$TH_CLIENT" hold --port "$TH_PORT" --idle 3 --timeout 30
th_bg_expect hold '^READY' 10 || th_fatal "could not open 3 connections"
th_bg_start waiter curl -sS --max-time 20 -o /dev/null -w 'code %{http_code}\n' "http://127.0.0.1:$TH_PORT/file.txt"
paused() { scrape full >/dev/null; [ "$(val full tinyhttpd_max_connections_reached_total)" -ge 1 ]; }
th_check "the pause at max_connections is counted, and the scrape answered meanwhile" th_poll 10 paused
th_eq "3 connections open (max_connections)" 3 "$(val full tinyhttpd_connections_open)"
th_eq "tinyhttpd_connections_max" 3 "$(val full tinyhttpd_connections_max)"
th_bg_kill hold
th_bg_expect waiter '^code' 10 && th_eq "the waiting client is served" 'code 200' "$TH_BG_LINE"
th_bg_wait waiter 5 || true
th_stop

# ---------------------------------------------------------------- TLS
printf 'listen = "127.0.0.1:1";\ndocument_root = "/";\ntls_hsts = 0;\n' >"$TH_TMP/probe.conf"
if ! command -v openssl >/dev/null 2>&1 ||
    "$TINYHTTPD" -t -c "$TH_TMP/probe.conf" 2>&1 | grep -q 'built without OpenSSL'; then
    echo "# no HTTPS here: the TLS counters are not checked"
else
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost -keyout "$TH_TMP/key.pem" -out "$TH_TMP/cert.pem" \
        >"$TH_TMP/openssl.log" 2>&1 || th_fatal "openssl req failed" "$(cat "$TH_TMP/openssl.log")"
    chmod 644 "$TH_TMP/key.pem" "$TH_TMP/cert.pem"
    TPORT=$MPORT
    while [ "$TPORT" = "$MPORT" ] || [ "$TPORT" = "$TH_PORT" ]; do TPORT=$(th_free_port); done
    th_conf "metrics_listen = \"127.0.0.1:$MPORT\";" "tls_listen = \"127.0.0.1:$TPORT\";" \
        "tls_certificate = \"$TH_TMP/cert.pem\";" "tls_certificate_key = \"$TH_TMP/key.pem\";"
    th_start
    scrape t0
    th_eq "a request over HTTPS" 200 "$(th_curl --cacert "$TH_TMP/cert.pem" -o /dev/null -w '%{http_code}' \
        --resolve "localhost:$TPORT:127.0.0.1" "https://localhost:$TPORT/file.txt")"
    th_curl -o /dev/null "http://127.0.0.1:$TPORT/file.txt" || true
    th_curl --tls-max 1.1 -k -o /dev/null "https://127.0.0.1:$TPORT/file.txt" 2>/dev/null || true
    gone() { scrape t1 >/dev/null; [ "$(val t1 tinyhttpd_tls_handshake_failures_total)" -ge 2 ]; }
    th_check "failed handshakes counted (plain HTTP, TLS 1.1)" th_poll 5 gone
    delta "one handshake" t0 t1 tinyhttpd_tls_handshakes_total 1
    delta "two failures" t0 t1 tinyhttpd_tls_handshake_failures_total 2
    th_stop
fi

# ---------------------------------------------------------------- configuration
printf 'listen = "127.0.0.1:%s";\ndocument_root = "%s";\nmetrics_listen = "127.0.0.1:%s";\n' \
    "$TH_PORT" "$TH_ROOT" "$TH_PORT" >"$TH_TMP/same.conf"
msg=$("$TINYHTTPD" -t -c "$TH_TMP/same.conf" 2>&1) && th_fail "-t accepted metrics_listen = listen"
th_match "metrics_listen in listen too is refused" "'metrics_listen': '127.0.0.1:$TH_PORT' is in 'listen' too" "$msg"

th_done
