#!/bin/bash
# a_slowloris.sh - 1 000 slowloris connections do not starve anyone.
#
# With header_timeout = 3 and pool_size = 4, 1 000 connections each send one
# byte of a request head per second, never finishing it, and reconnect once
# they are answered (two rounds: 2 000 slow heads in about 7 s).  Meanwhile
# 20 normal requests, one every 250 ms, must be answered with a median
# latency under 100 ms; every slow connection must get 408 at its header
# deadline (3 s after its first byte, not earlier, and at most 1 s later:
# trickling does not extend the deadline); the thread count stays
# pool_size + 1 throughout; and afterwards the daemon holds no connection.
. "$(dirname "$0")/abuselib.sh"

CONNS=${AB_SLOWLORIS_CONNS:-1000}
ROUNDS=2
POOL=4
TIMEOUT=3

nofile=$(ab_nofile $((CONNS + 1024)))
[ "$nofile" -ge $((CONNS + 256)) ] ||
    th_skip "the open file limit ($nofile, hard $(ulimit -Hn)) is too low for $CONNS connections"

th_init
th_conf "pool_size = $POOL;" "max_connections = $((CONNS * 2));" "header_timeout = $TIMEOUT;" \
    'keepalive_timeout = 10;'
th_start

threads0=$(th_threads)
fds0=$(th_fds)
th_eq "threads at start: pool_size + 1" $((POOL + 1 + AB_EXTRA_THREADS)) "$threads0"
ab_quick_get warmup /file.txt

ab_bg slow slowloris --conns "$CONNS" --rounds $ROUNDS --interval 1 --timeout 40
th_bg_expect slow '^READY' $((15 * AB_SLOW)) || true
th_match "$CONNS slow connections sent their first byte" "^READY $CONNS\$" "$TH_BG_LINE"

# 20 normal requests spread over both rounds (including the burst of 408s
# and reconnects at the first deadline), while we watch threads and fds.
ab_bg lat latency --n 20 --interval 0.25 --path /file.txt --timeout 30
ab_sample_until_gone lat
ab_bg_done lat 10 || th_fail "latency client did not finish"
median=$(th_bg_val median)
max=$(th_bg_val max)
bad=$(th_bg_val bad)
echo "# normal requests under slowloris: median $(th_bg_val median_ms) ms, max $(th_bg_val max_ms) ms, ${bad} failed"
th_eq "normal requests all answered 200" 0 "$bad"
ab_ms_le "median latency of normal requests under slowloris" "${median:-99999}" 100
ab_ms_le "worst latency of normal requests under slowloris" "${max:-99999}" 1000
echo "# threads over $samples samples: min $tmin, max $tmax; daemon fds at most $fmax (base $fds0)"
th_eq "thread count constant under slowloris (min)" $((POOL + 1 + AB_EXTRA_THREADS)) "$tmin"
th_eq "thread count constant under slowloris (max)" $((POOL + 1 + AB_EXTRA_THREADS)) "$tmax"
th_le "daemon held (nearly) all slow connections at once" $((fds0 + CONNS * 9 / 10)) "$fmax"

ab_bg_done slow $((30 * AB_SLOW)) || th_fail "slowloris client did not finish"
got=$(th_bg_val got408)
other=$(th_bg_val other)
echo "# slowloris: $got of $((CONNS * ROUNDS)) got 408; 408 after the first byte:" \
    "min $(th_bg_val t408_min), median $(th_bg_val t408_median), p95 $(th_bg_val t408_p95)," \
    "max $(th_bg_val t408_max) ms; at most $(th_bg_val sent_max) bytes sent; other endings: $other"
th_eq "every slow connection got 408" $((CONNS * ROUNDS)) "$got"
th_eq "no slow connection ended otherwise" none "$other"
th_le "no 408 before the header deadline (ms)" $((TIMEOUT * 1000 - 50)) "$(th_bg_val t408_min)"
th_le "408 at most 1 s after the header deadline (ms)" "$(th_bg_val t408_max)" $((TIMEOUT * 1000 + 1000 * AB_SLOW))
th_le "trickling did not extend the deadline (bytes sent)" "$(th_bg_val sent_max)" $((TIMEOUT + 1 + AB_SLOW))

settled() { [ "$(th_fds)" -le "$fds0" ]; }
th_check "daemon holds no connection afterwards" th_poll 10 settled
th_eq "thread count unchanged afterwards" $((POOL + 1 + AB_EXTRA_THREADS)) "$(th_threads)"
ab_quick_get after /file.txt 200

th_done
