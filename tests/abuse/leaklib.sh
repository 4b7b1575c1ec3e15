#!/bin/bash
# leaklib.sh - what a_leaks.sh and a_tlsleaks.sh share: wrk and python
# load with every status counted, and the descriptor, memory and thread
# counts before and after.  Sourced after abuselib.sh; the test defines
# py_start COUNT (its python clients, in the background, pids in PY_PIDS)
# and sets WRK, etag, LIMIT_S, LEAK_KIB and WRK_RATE (wrk responses a
# second, to size its runs).

declare -A STATUS=()
NREQ=0
BAD=0
PY_PIDS=()

# leak_lua_counts: the end of a wrk Lua script that counts the statuses per
# thread and prints them, and the socket errors, from done().
leak_lua_counts() {
    cat <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
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
LUA
}

# leak_wrk SECONDS LUA URL: one wrk run; adds its statuses to STATUS and NREQ.
leak_wrk() {
    local out=$TH_TMP/wrk.out k v c r w s t
    AB_ETAG=$etag timeout $(($1 + 20)) "$WRK" -t2 -c16 -d"${1}s" -s "$2" "$3" >"$out" 2>&1 ||
        { th_fail "wrk failed" "$(cat "$out")"; return 1; }
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

# leak_py_collect: wait for the python clients; add their counts.
leak_py_collect() {
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
        grep -E '^(handshakes|resumed|rate)' "$f" | sed "s/^/# python client $i: /" || true
    done
    PY_PIDS=()
}

# leak_load COUNT LUA URL: at least COUNT responses: wrk runs beside the
# python clients doing a tenth, or the python clients alone.
leak_load() {
    local want=$1 t0 secs
    NREQ=0
    t0=$(th_now_ms)
    if [ -n "$WRK" ]; then
        py_start $((want / 10))
        while [ "$NREQ" -lt $((want - want / 10)) ] && [ $(($(th_now_ms) - t0)) -lt $((LIMIT_S * 1000)) ]; do
            secs=$(((want - want / 10 - NREQ) / WRK_RATE + 1))
            [ "$secs" -le 5 ] || secs=5
            leak_wrk "$secs" "$2" "$3" || break
        done
        leak_py_collect
    else
        py_start "$want"
        leak_py_collect
    fi
    echo "# $NREQ responses in $(($(th_now_ms) - t0)) ms${WRK:+ (wrk and python)}"
}

# leak_settle FDS: wait (up to 10 s) until the daemon has at most FDS descriptors.
leak_settle() {
    gone() { [ "$(th_fds)" -le "$1" ]; }
    th_poll 10 gone "$1" || true
}

# leak_baseline: after the warm-up, the counts to compare with (fds0,
# threads0, rss0); the statuses start again from nothing.
leak_baseline() {
    fds0=$(th_fds)
    leak_settle "$fds0"
    fds0=$(th_fds)
    threads0=$(th_threads)
    rss0=$(ab_settled_rss_kb)
    echo "# baseline after $NREQ warm-up requests: $fds0 fds, RSS $rss0 KiB (at start: $rss_start KiB), $threads0 threads"
    STATUS=()
    BAD=0
}

# leak_statuses TOTAL STATUS...: at least TOTAL responses, none unexpected,
# and some of each STATUS.
leak_statuses() {
    local total=$1 s summary
    shift
    summary=$(for s in $(printf '%s\n' "${!STATUS[@]}" | sort -n); do printf '%s:%s ' "$s" "${STATUS[$s]}"; done)
    echo "# statuses: $summary"
    th_le "at least $total requests" "$total" "$NREQ"
    th_eq "every response had the expected status" 0 "$BAD"
    for s in "$@"; do
        th_le "some $s responses" 100 "${STATUS[$s]:-0}"
    done
}

# leak_after METRIC: descriptors exactly the baseline, RSS growth (printed
# as "METRIC KiB") within LEAK_KIB, threads unchanged.
leak_after() {
    local fds1 rss1 threads1
    leak_settle "$fds0"
    fds1=$(th_fds)
    rss1=$(ab_settled_rss_kb)
    threads1=$(th_threads)
    echo "# after: $fds1 fds, RSS $rss1 KiB ($((rss1 - rss0)) KiB more than the baseline), $threads1 threads"
    echo "$1 $((rss1 - rss0))"
    if [ "$fds1" -eq "$fds0" ]; then
        th_ok "descriptor count unchanged ($fds0)"
    else
        th_fail "descriptor count changed: $fds0 -> $fds1" "$(ls -l "/proc/$TH_DPID/fd" | tail -n +2)"
    fi
    ab_mem_le "RSS growth over $NREQ requests (KiB)" $((rss1 - rss0)) "$LEAK_KIB"
    th_eq "thread count unchanged" "$threads0" "$threads1"
}
