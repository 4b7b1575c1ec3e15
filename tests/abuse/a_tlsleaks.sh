#!/bin/bash
# a_tlsleaks.sh - no descriptor or memory leak across 100 000 HTTPS requests.
#
# Like a_leaks.sh, over HTTPS.  After a warm-up of 5 000 HTTPS requests
# (one-time allocations, OpenSSL's included, are then in the baseline) the
# daemon's descriptor count and VmRSS are taken; then at least
# AB_TLSLEAK_REQUESTS (default 100 000) more HTTPS requests: wrk over
# https:// (keep-alive 200, 404, 304, 206 and 405 responses, and one
# request in 25 that closes: Connection: close, HTTP/1.0 or a malformed
# head's 400, so its connection's next request is a new full handshake),
# beside two python clients (client.py tls-load): one keep-alive with
# every 20th request closing, one with every 5th request closing and the
# next connection resuming the session (TLS 1.3 tickets), HEAD included.
# Without wrk the python clients do it all.  Once every connection is
# gone the descriptor count must be exactly the baseline, VmRSS at most
# AB_TLSLEAK_KIB (default 3 MiB) above it (reported only under a
# sanitizer), the thread count unchanged.
. "$(dirname "$0")/abuselib.sh"
. "$(dirname "$0")/leaklib.sh"

TOTAL=${AB_TLSLEAK_REQUESTS:-100000}
WARMUP=5000
LEAK_KIB=${AB_TLSLEAK_KIB:-3072}
POOL=4
LIMIT_S=$((60 * AB_SLOW))   # give up on reaching TOTAL after this long

th_init
ab_tls_setup
# access_log on (the TLS fields of its lines count too), to the log file
th_conf "pool_size = $POOL;" 'keepalive_timeout = 10;' 'header_timeout = 10;' "${AB_TLS_CONF[@]}"
head -c 4096 /dev/urandom >>"$TH_ROOT/big.bin"
th_start

etag=$(th_curl --cacert "$AB_CA" -sI "https://127.0.0.1:$AB_TLS_PORT/file.txt" | tr -d '\r' |
    awk 'tolower($1) == "etag:" { print $2 }')
th_match "file.txt has an ETag over HTTPS" '^"' "$etag"
rss_start=$(ab_rss_kb)

WRK=$(command -v wrk || true)
[ "${AB_NO_WRK:-0}" = 1 ] && WRK=

cat >"$TH_TMP/tls.lua" <<'EOF2'
local etag = os.getenv("AB_ETAG") or '""'
local keep = {
  "GET /file.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
  "GET /no/such/file HTTP/1.1\r\nHost: localhost\r\n\r\n",
  "GET /file.txt HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: " .. etag .. "\r\n\r\n",
  "GET /big.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=100-1099\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
  "POST /file.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
}
local closing = {
  "GET /file.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
  "GET /index.html HTTP/1.0\r\n\r\n",
  "GET /x HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n",
}
function init(args) counts = {}; n = math.random(1000) end
function request()
  n = n + 1
  if n % 25 == 0 then return closing[(n / 25) % #closing + 1] end
  return keep[n % #keep + 1]
end
EOF2
leak_lua_counts >>"$TH_TMP/tls.lua"

WRK_RATE=8000

# py_start COUNT: the two python clients in the background, COUNT
# requests between them; leak_py_collect adds their counts.
py_start() {
    PY_PIDS=()
    ab_tls_py tls-load --count $(($1 * 3 / 4)) --conns 4 --new-every 20 --etag "$etag" --seed 1 \
        --timeout $LIMIT_S >"$TH_TMP/py.1.out" 2>&1 &
    PY_PIDS+=($!)
    ab_tls_py tls-load --count $(($1 / 4)) --conns 2 --new-every 5 --resume --etag "$etag" --seed 2 \
        --timeout $LIMIT_S >"$TH_TMP/py.2.out" 2>&1 &
    PY_PIDS+=($!)
}

URL="https://127.0.0.1:$AB_TLS_PORT/"

leak_load $WARMUP "$TH_TMP/tls.lua" "$URL"
leak_baseline
leak_load "$TOTAL" "$TH_TMP/tls.lua" "$URL"
if [ -n "$WRK" ]; then
    leak_statuses "$TOTAL" 200 206 304 404 400 405
else
    leak_statuses "$TOTAL" 200 206 304 404
fi
th_le "some resumed handshakes" 100 "$(awk '$1 == "resumed" { print $2 }' "$TH_TMP/py.2.out")"
leak_after tls_leak_rss_growth_kib
ab_tls_get after /file.txt

th_done
