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
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {}; n = math.random(1000) end
function request()
  n = n + 1
  if n % 25 == 0 then return closing[(n / 25) % #closing + 1] end
  return keep[n % #keep + 1]
end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do agg[k] = (agg[k] or 0) + v end
  end
  for k, v in pairs(agg) do io.write(string.format("status %d %d\n", k, v)) end
  io.write(string.format("errors %d %d %d %d %d\n", summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
EOF2

declare -A STATUS=()
NREQ=0
BAD=0

# run_wrk SECONDS: one wrk run over HTTPS; adds its statuses to STATUS and NREQ.
run_wrk() {
    local out=$TH_TMP/wrk.out k v c r w s t
    AB_ETAG=$etag timeout $(($1 + 20)) "$WRK" -t2 -c16 -d"${1}s" -s "$TH_TMP/tls.lua" \
        "https://127.0.0.1:$AB_TLS_PORT/" >"$out" 2>&1 || { th_fail "wrk failed" "$(cat "$out")"; return 1; }
    while read -r k v c; do
        [ "$k" = status ] || continue
        STATUS[$v]=$((${STATUS[$v]:-0} + c))
        NREQ=$((NREQ + c))
        case $v in 200 | 206 | 304 | 400 | 404 | 405) ;; *) BAD=$((BAD + c)) ;; esac
    done <"$out"
    read -r k c r w s t < <(grep '^errors' "$out") || true
    if [ "${c:-0}${r:-0}${w:-0}${t:-0}" != 0000 ]; then
        th_fail "wrk saw socket errors (connect read write status timeout): $c $r $w $s $t" "$(cat "$out")"
    fi
}

# py_start COUNT: the two python clients in the background, COUNT
# requests between them; py_collect adds their counts.
PY_PIDS=()
py_start() {
    PY_PIDS=()
    ab_tls_py tls-load --count $(($1 * 3 / 4)) --conns 4 --new-every 20 --etag "$etag" --seed 1 \
        --timeout $LIMIT_S >"$TH_TMP/py.1.out" 2>&1 &
    PY_PIDS+=($!)
    ab_tls_py tls-load --count $(($1 / 4)) --conns 2 --new-every 5 --resume --etag "$etag" --seed 2 \
        --timeout $LIMIT_S >"$TH_TMP/py.2.out" 2>&1 &
    PY_PIDS+=($!)
}

py_collect() {
    local i f k v kv
    for i in "${!PY_PIDS[@]}"; do wait "${PY_PIDS[$i]}" || true; done
    for i in $(seq 1 "${#PY_PIDS[@]}"); do
        f=$TH_TMP/py.$i.out
        grep -q '^DONE' "$f" || { th_fail "python client $i did not finish" "$(cat "$f")"; continue; }
        for kv in $(awk '$1 == "by_status" { print $2 }' "$f" | tr ',' ' '); do
            k=${kv%%:*} v=${kv#*:}
            STATUS[$k]=$((${STATUS[$k]:-0} + v))
            NREQ=$((NREQ + v))
        done
        v=$(awk '$1 == "unexpected" { print $2 }' "$f")
        BAD=$((BAD + ${v:-1}))
        if [ "${v:-1}" != 0 ]; then grep -E '^unexpected' "$f" | sed "s/^/# python client $i: /"; fi
        grep -q '^errors none$' "$f" || { BAD=$((BAD + 1)); grep '^errors' "$f" | sed "s/^/# python client $i: /"; }
        echo "# python client $i: $(grep -E '^(handshakes|resumed|rate)' "$f" | tr '\n' ' ')"
    done
    PY_PIDS=()
}

# load COUNT: at least COUNT responses: wrk runs beside the python clients
# doing a tenth, or the python clients alone.
load() {
    local want=$1 t0 secs
    NREQ=0
    t0=$(th_now_ms)
    if [ -n "$WRK" ]; then
        py_start $((want / 10))
        while [ "$NREQ" -lt $((want - want / 10)) ] && [ $(($(th_now_ms) - t0)) -lt $((LIMIT_S * 1000)) ]; do
            secs=$(((want - want / 10 - NREQ) / 8000 + 1))
            [ "$secs" -le 5 ] || secs=5
            run_wrk "$secs" || break
        done
        py_collect
    else
        py_start "$want"
        py_collect
    fi
    echo "# $NREQ HTTPS responses in $(($(th_now_ms) - t0)) ms${WRK:+ (wrk and python)}"
}

settle() {
    gone() { [ "$(th_fds)" -le "$1" ]; }
    th_poll 10 gone "$1" || true
}

load $WARMUP
fds0=$(th_fds)
settle "$fds0"
fds0=$(th_fds)
threads0=$(th_threads)
rss0=$(ab_settled_rss_kb)
echo "# baseline after $NREQ warm-up requests: $fds0 fds, RSS $rss0 KiB (at start: $rss_start KiB), $threads0 threads"
STATUS=()
BAD=0

load "$TOTAL"
summary=$(for k in $(printf '%s\n' "${!STATUS[@]}" | sort -n); do printf '%s:%s ' "$k" "${STATUS[$k]}"; done)
echo "# statuses: $summary"
th_le "at least $TOTAL HTTPS requests" "$TOTAL" "$NREQ"
th_eq "every response had the expected status" 0 "$BAD"
for s in 200 206 304 404; do
    th_le "some $s responses" 100 "${STATUS[$s]:-0}"
done
if [ -n "$WRK" ]; then
    for s in 400 405; do th_le "some $s responses" 100 "${STATUS[$s]:-0}"; done
fi
th_le "some resumed handshakes" 100 "$(awk '$1 == "resumed" { print $2 }' "$TH_TMP/py.2.out")"

settle "$fds0"
fds1=$(th_fds)
rss1=$(ab_settled_rss_kb)
threads1=$(th_threads)
echo "# after: $fds1 fds, RSS $rss1 KiB ($((rss1 - rss0)) KiB more than the baseline), $threads1 threads"
echo "tls_leak_rss_growth_kib $((rss1 - rss0))"
if [ "$fds1" -eq "$fds0" ]; then
    th_ok "descriptor count unchanged ($fds0)"
else
    th_fail "descriptor count changed: $fds0 -> $fds1" "$(ls -l "/proc/$TH_DPID/fd" | tail -n +2)"
fi
ab_mem_le "RSS growth over $NREQ HTTPS requests (KiB)" $((rss1 - rss0)) "$LEAK_KIB"
th_eq "thread count unchanged" "$threads0" "$threads1"
ab_tls_get after /file.txt

th_done
