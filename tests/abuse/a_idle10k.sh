#!/bin/bash
# a_idle10k.sh - the memory cost of 10 000 idle keep-alive connections.
#
# 10 000 connections each complete one GET and then stay open, idle.  The
# daemon's resident memory is measured before (after a warm-up, so the
# workers' stacks and malloc arenas already count) and with them (once the
# loop has given the idle connections' buffers back); the difference per
# connection must stay under AB_IDLE_BOUND bytes (default 8 KiB) and is
# printed as "idle_bytes_per_connection N" for the README.  The thread count
# stays pool_size + 1 and a normal request is answered at once while they
# are held; none of them is closed by the server within keepalive_timeout.
#
# The daemon needs two descriptors per connection plus 128 (see
# fit_connections in src/server.c), so 10 000 connections need an open file
# hard limit of at least 20 128 (raised by the test, inherited by the
# daemon).  With a lower hard limit the test holds as many as fit (at least
# 5 000, and says so); below that it is skipped.
. "$(dirname "$0")/abuselib.sh"

# When the client closes all of them at once, every EOF becomes a pool job;
# the job queue (1024) overflows and the loop "answers" a few of these
# closing connections with 503 and a warning.  Expected, and counted below.
TH_STDERR_ALLOW='job queue full'

WANT=${AB_IDLE_CONNS:-10000}
BOUND=${AB_IDLE_BOUND:-8192}
POOL=4

hard=$(ulimit -Hn)
if [ "$hard" = unlimited ]; then hard=$((4 * WANT + 1024)); fi
nofile=$(ab_nofile $((2 * WANT + 1024)))
# the daemon takes (limit - 128) / 2 connections; keep a margin of 36
room=$(((nofile - 128) / 2 - 36))
CONNS=$WANT
if [ "$room" -lt "$CONNS" ]; then
    CONNS=$((room / 100 * 100))
    [ "$CONNS" -ge 5000 ] ||
        th_skip "the open file hard limit ($hard) is too low for $WANT idle connections (the daemon needs $((2 * WANT + 128)))"
    echo "# NOTE: the open file hard limit ($hard) lets the daemon take only $(((nofile - 128) / 2))" \
        "connections; holding $CONNS instead of $WANT"
fi

th_init
th_conf "pool_size = $POOL;" "max_connections = $((CONNS + 30));" 'keepalive_timeout = 300;' \
    'header_timeout = 30;' 'access_log = false;'
th_start
th_eq "threads at start: pool_size + 1" $((POOL + 1 + AB_EXTRA_THREADS)) "$(th_threads)"

# warm-up: every worker serves requests (its stack and arena get touched)
ab_py mixed --port "$TH_PORT" --count 2000 --conns 8 --kinds get200,get404,head,index --timeout 20 \
    >"$TH_TMP/warmup.out"
grep -q '^unexpected 0$' "$TH_TMP/warmup.out" || th_fail "warm-up requests" "$(cat "$TH_TMP/warmup.out")"
fds0=$(th_fds)
rss0=$(ab_settled_rss_kb)
echo "# before: RSS $rss0 KiB, $fds0 fds"

stop=$TH_TMP/stop.idle
ab_bg idle idle --conns "$CONNS" --path /file.txt --batch 500 --timeout 80 --stop-file "$stop"
th_bg_expect idle '^READY' $((40 * AB_SLOW)) || true
th_match "$CONNS idle keep-alive connections completed a request" "^READY ok=$CONNS failed=0\$" "$TH_BG_LINE"
enough() { [ "$(th_fds)" -ge $((fds0 + CONNS)) ]; }
th_check "the daemon holds all $CONNS connections" th_poll 10 enough
hwm=$(ab_hwm_kb)
# The loop gives idle connections' buffers back when it sweeps, 4 times a
# second.  Nothing is sent now, so each wake-up of the loop thread (the
# main thread: a voluntary context switch, leaving epoll_wait) is a timeout,
# that is a sweep: wait for three, so that at least two whole sweeps ran.
loop_wakes() { awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$TH_DPID/task/$TH_DPID/status"; }
wakes0=$(loop_wakes)
swept() { [ "$(loop_wakes)" -ge $((wakes0 + 3)) ]; }
th_check "the event loop swept the idle connections (woke 3 times)" th_poll $((5 * AB_SLOW)) swept
rss1=$(ab_settled_rss_kb)
fds1=$(th_fds)
threads1=$(th_threads)
per=$(((rss1 - rss0) * 1024 / CONNS))
echo "# with $CONNS idle connections: RSS $rss1 KiB ($((rss1 - rss0)) KiB more), $fds1 fds, $threads1 threads;" \
    "peak while they were set up (VmHWM) $hwm KiB"
echo "idle_bytes_per_connection $per"
echo "# => $per bytes of resident memory per idle keep-alive connection (bound $BOUND)"
ab_mem_le "resident memory per idle connection (bytes)" "$per" "$BOUND"
th_eq "thread count constant with $CONNS idle connections" $((POOL + 1 + AB_EXTRA_THREADS)) "$threads1"
ab_quick_get normal /file.txt 200
ab_quick_get normal2 /index.html 200

touch "$stop"
ab_bg_done idle 30 || th_fail "idle client did not finish"
th_eq "the server closed none of the idle connections (keepalive_timeout 300)" 0 \
    "$(th_bg_val closed_during_hold)"
settled() { [ "$(th_fds)" -le "$fds0" ]; }
th_check "daemon holds no connection once the client is gone" th_poll 15 settled
rss2=$(ab_settled_rss_kb)
echo "# after: RSS $rss2 KiB; job-queue-full warnings when the client closed them all at once:" \
    "$(grep -ac 'job queue full' "$TH_LOG" || true)"
th_eq "thread count unchanged afterwards" $((POOL + 1 + AB_EXTRA_THREADS)) "$(th_threads)"

th_done
