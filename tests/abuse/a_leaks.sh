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
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {}; n = math.random(#reqs) end
function request() n = n + 1; return reqs[(n % #reqs) + 1] end
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
EOF

declare -A STATUS=()
NREQ=0
BAD=0

# run_wrk SECONDS: one wrk run; adds its statuses to STATUS and NREQ.
run_wrk() {
    local out=$TH_TMP/wrk.out k v c r w s t
    AB_ETAG=$etag timeout $(($1 + 20)) "$WRK" -t2 -c16 -d"${1}s" -s "$TH_TMP/mixed.lua" \
        "http://127.0.0.1:$TH_PORT/" >"$out" 2>&1 || { th_fail "wrk failed" "$(cat "$out")"; return 1; }
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

# py_start COUNT PROCS: python clients in the background (every kind,
# pipelined and HEAD included); py_collect adds their counts to STATUS and
# NREQ.
PY_PIDS=()
py_start() {
    local i
    PY_PIDS=()
    for i in $(seq 1 "$2"); do
        ab_py mixed --port "$TH_PORT" --count "$(($1 / $2))" --conns 8 --etag "$etag" \
            --seed "$i$RANDOM" --timeout $LIMIT_S >"$TH_TMP/py.$i.out" 2>&1 &
        PY_PIDS+=($!)
    done
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
    done
    PY_PIDS=()
}

# load COUNT: at least COUNT responses: wrk runs (until the count is
# reached) beside one python client doing a tenth, or python clients alone.
load() {
    local want=$1 t0 secs
    NREQ=0
    t0=$(th_now_ms)
    if [ -n "$WRK" ]; then
        py_start $((want / 10)) 1
        while [ "$NREQ" -lt $((want - want / 10)) ] && [ $(($(th_now_ms) - t0)) -lt $((LIMIT_S * 1000)) ]; do
            secs=$(((want - want / 10 - NREQ) / 25000 + 1))
            [ "$secs" -le 5 ] || secs=5
            run_wrk "$secs" || break
        done
        py_collect
    else
        py_start "$want" 2
        py_collect
    fi
    echo "# $NREQ responses in $(($(th_now_ms) - t0)) ms${WRK:+ (wrk and python)}"
}

# settle FDS: wait (up to 10 s) until the daemon has at most FDS descriptors
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
th_le "at least $TOTAL requests" "$TOTAL" "$NREQ"
th_eq "every response had the expected status" 0 "$BAD"
for s in 200 206 304 400 404 405; do
    th_le "some $s responses" 100 "${STATUS[$s]:-0}"
done

settle "$fds0"
fds1=$(th_fds)
rss1=$(ab_settled_rss_kb)
threads1=$(th_threads)
echo "# after: $fds1 fds, RSS $rss1 KiB ($((rss1 - rss0)) KiB more than the baseline), $threads1 threads"
echo "leak_rss_growth_kib $((rss1 - rss0))"
if [ "$fds1" -eq "$fds0" ]; then
    th_ok "descriptor count unchanged ($fds0)"
else
    th_fail "descriptor count changed: $fds0 -> $fds1" "$(ls -l "/proc/$TH_DPID/fd" | tail -n +2)"
fi
ab_mem_le "RSS growth over $NREQ requests (KiB)" $((rss1 - rss0)) "$LEAK_KIB"
th_eq "thread count unchanged" "$threads0" "$threads1"
ab_quick_get after /file.txt

th_done
