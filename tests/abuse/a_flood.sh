#!/bin/bash
# a_flood.sh - a connection flood far beyond max_connections.
#
# max_connections = 200, header_timeout = 1; for 5 s a client keeps 2 000 connections opening as
# fast as it can (non-blocking connects, reopened as soon as they close):
# half send an unfinished head of nearly max_header_size bytes (the worst
# case for memory), a quarter nothing, a quarter one full request
# (Connection: close).  The daemon must not crash, must never hold more than
# max_connections connections (its descriptors stay under base +
# 2 x max_connections: a socket and at most one file each), its thread count
# stays pool_size + 1, and its peak resident memory (VmHWM) stays under
#
#     bound = RSS at start + max_connections x (2 x max_header_size + 2048) x 3/2
#             + 4 MiB
#
# i.e. every connection holding its request buffer (max_header_size for the
# head plus max_header_size + 2048 for the response head: 18 KiB with the
# default 8 KiB), half as much again for allocator overhead and
# fragmentation over the per-thread malloc arenas, and 4 MiB for the
# workers' stacks and arenas being touched for the first time.  Once the
# flood ends, a normal request is answered at once.
. "$(dirname "$0")/abuselib.sh"

MAXC=200
FLOOD=${AB_FLOOD_CONNS:-2000}
SECS=5
POOL=4
HDR=8192

nofile=$(ab_nofile $((FLOOD + 1024)))
[ "$nofile" -ge $((FLOOD + 256)) ] ||
    th_skip "the open file limit ($nofile, hard $(ulimit -Hn)) is too low for $FLOOD connections"

th_init
th_conf "pool_size = $POOL;" "max_connections = $MAXC;" "max_header_size = $HDR;" \
    'header_timeout = 1;' 'keepalive_timeout = 1;' 'access_log = false;'
th_start

ab_quick_get warmup /file.txt
threads0=$(th_threads)
fds0=$(th_fds)
rss0=$(ab_rss_kb)
per_conn=$((2 * HDR + 2048))
bound=$((rss0 + MAXC * per_conn * 3 / 2 / 1024 + 4096))
echo "# start: RSS $rss0 KiB, $fds0 fds, $threads0 threads; memory bound $bound KiB" \
    "($rss0 + $MAXC x $per_conn B x 1.5 + 4 MiB)"

ab_bg flood flood --conns "$FLOOD" --duration $SECS --timeout 30 \
    --kinds partial,idle,partial,full --partial-size $((HDR - 200))
th_bg_expect flood '^READY' 10 || true
th_match "flood client started $FLOOD connections" "^READY [0-9]+" "$TH_BG_LINE"

# a request in the middle of the flood queues behind it (informational)
( sleep 1; th_curl -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$TH_PORT/file.txt" \
    >"$TH_TMP/during" 2>&1 || true ) &
during_pid=$!

tmin=$threads0 tmax=$threads0 fmax=0 rmax=0 samples=0
while ! th__gone "${TH_BG_PID[flood]}"; do
    ab_alive || break
    t=$(th_threads)
    f=$(th_fds)
    r=$(ab_rss_kb)
    [ "$t" -ge "$tmin" ] || tmin=$t
    [ "$t" -le "$tmax" ] || tmax=$t
    [ "$f" -le "$fmax" ] || fmax=$f
    [ "$r" -le "$rmax" ] || rmax=$r
    samples=$((samples + 1))
    sleep 0.1
done
th_check "daemon survived the flood" ab_alive
ab_bg_done flood 20 || th_fail "flood client did not finish"
echo "# flood: $(th_bg_val opened) connects, $(th_bg_val established) established," \
    "at most $(th_bg_val open_max) open; responses $(th_bg_val statuses);" \
    "server closed $(th_bg_val server_closed), reset $(th_bg_val server_reset);" \
    "connect errors $(th_bg_val connect_errors)"
th_le "the client opened more than max_connections connections" $((MAXC * 5)) "$(th_bg_val open_max)"
th_match "only 200 and 408 responses in the flood" '^(200:[0-9]+)?,?(408:[0-9]+)?$' "$(th_bg_val statuses)"

after_ms=$(th_now_ms)
ab_quick_get after /file.txt 1000
echo "# a normal request after the flood was answered $(($(th_now_ms) - after_ms)) ms after the flood client exited"
wait "$during_pid" || true
echo "# a request during the flood: $(cat "$TH_TMP/during" 2>/dev/null) (HTTP status, seconds; it waits its turn in the backlog)"

hwm=$(ab_hwm_kb)
[ "$hwm" -ge "$rmax" ] || hwm=$rmax     # VmHWM is updated lazily
echo "# over $samples samples: threads $tmin..$tmax, daemon fds at most $fmax, RSS at most $rmax KiB; VmHWM $hwm KiB"
th_eq "thread count constant (min)" "$threads0" "$tmin"
th_eq "thread count constant (max)" "$threads0" "$tmax"
th_le "descriptors stay within max_connections (base + 2 x max_connections)" "$fmax" $((fds0 + 2 * MAXC))
ab_mem_le "peak RSS (VmHWM, KiB) within the bound" "$hwm" "$bound"

settled() { [ "$(th_fds)" -le "$fds0" ]; }
th_check "daemon holds no connection once the flood is over" th_poll 10 settled
th_eq "thread count unchanged afterwards" "$threads0" "$(th_threads)"

th_done
