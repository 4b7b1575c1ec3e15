#!/bin/bash
# a_leaks.sh - no descriptor or memory leak across 100 000 requests.
#
# After a warm-up of 10 000 requests (so one-time allocations: worker
# stacks, malloc arenas, the date cache, are in the baseline), the daemon's
# descriptor count (/proc/PID/fd) and VmRSS are taken; then at least
# 100 000 more requests of mixed kinds: 200, 404, 304, 206, 405 (a POST with
# a body to drop), 400 (closes), Connection: close, HTTP/1.0, keep-alive,
# and, from the python client, pipelined ones, HEAD and a traversal attempt.
# wrk (with a Lua script that checks the statuses) does the bulk when it is
# installed; else several python clients.  Once every connection is gone
# the descriptor count must be exactly the baseline and VmRSS at most
# AB_LEAK_KIB (default 2 MiB) above it; the thread count is unchanged.
. "$(dirname "$0")/abuselib.sh"
. "$(dirname "$0")/leaklib.sh"

TOTAL=${AB_LEAK_REQUESTS:-100000}
WARMUP=10000
LEAK_KIB=${AB_LEAK_KIB:-2048}
POOL=4
LIMIT_S=50                     # give up on reaching TOTAL after this long

th_init
# access_log on (its code path counts too), to a file we do not print
th_conf "pool_size = $POOL;" 'keepalive_timeout = 10;' 'header_timeout = 10;'
head -c 4096 /dev/urandom >>"$TH_ROOT/big.bin"
th_start

etag=$(th_curl -sI "http://127.0.0.1:$TH_PORT/file.txt" | tr -d '\r' | awk 'tolower($1) == "etag:" { print $2 }')
th_match "file.txt has an ETag" '^"' "$etag"
rss_start=$(ab_rss_kb)

WRK=$(command -v wrk || true)
[ "${AB_NO_WRK:-0}" = 1 ] && WRK=

# wrk: one request per call of request() (wrk cannot pipeline requests of
# varying counts, and waits forever for the body of a HEAD response); the
# statuses are counted per thread and printed by done().
cat >"$TH_TMP/mixed.lua" <<'EOF'
local etag = os.getenv("AB_ETAG") or '""'
local reqs = {
  "GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /no/such/file HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /file.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: " .. etag .. "\r\n\r\n",
  "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-1099\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
  "GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  "GET /index.html HTTP/1.0\r\n\r\n",
  "GET /x HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
}
function init(args) counts = {}; n = math.random(#reqs) end
function request() n = n + 1; return reqs[(n % #reqs) + 1] end
EOF
leak_lua_counts >>"$TH_TMP/mixed.lua"

WRK_RATE=25000

# py_start COUNT [PROCS]: python clients in the background (every kind,
# pipelined and HEAD included); leak_py_collect adds their counts.
py_start() {
    local i procs=${2:-2}
    PY_PIDS=()
    for i in $(seq 1 "$procs"); do
        ab_py mixed --port "$TH_PORT" --count "$(($1 / procs))" --conns 8 --etag "$etag" \
            --seed "$i$RANDOM" --timeout $LIMIT_S >"$TH_TMP/py.$i.out" 2>&1 &
        PY_PIDS+=($!)
    done
}

URL="http://127.0.0.1:$TH_PORT/"

leak_load $WARMUP "$TH_TMP/mixed.lua" "$URL"
leak_baseline
leak_load "$TOTAL" "$TH_TMP/mixed.lua" "$URL"
leak_statuses "$TOTAL" 200 206 304 400 404 405
leak_after leak_rss_growth_kib
ab_quick_get after /file.txt

th_done
