#!/bin/bash
# t_slowclients.sh - idle and slowloris connections do not pin workers: with
# pool_size = 2, 300 idle connections and 100 half-sent request heads held
# open, a normal GET is still answered within 2 s, and the daemon's thread
# count does not grow.
. "$(dirname "$0")/lib.sh"

IDLE=300
PARTIAL=100
POOL=2

# room for 400+ sockets here and in the daemon (which inherits the limit)
want=4096
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge $want ] || want=$hard
ulimit -n "$want" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((IDLE + PARTIAL + 64)) ] ||
    th_fatal "the open file limit ($(ulimit -n), hard $hard) is too low for $((IDLE + PARTIAL)) sockets"

th_init
th_conf "pool_size = $POOL;" 'max_connections = 1024;' 'header_timeout = 30;' 'keepalive_timeout = 30;'
th_start

threads0=$(th_threads)
fds0=$(th_fds)
echo "# before: $threads0 threads, $fds0 fds"
th_le "threads at most pool_size + 3" "$threads0" $((POOL + 3))

th_bg_start hold "$PYTHON3" -I -S "$TH_CLIENT" hold --port "$TH_PORT" --timeout 60 \
    --idle $IDLE --partial $PARTIAL --partial-data 'GET /file.txt HTTP/1.1\r\nHost: x\r\nX-Slow: '
th_bg_expect hold '^(READY|FAIL)' 20 || true
th_match "hold client has $IDLE idle and $PARTIAL partial connections open" '^READY' "$TH_BG_LINE"

# wait until the daemon has accepted them all
enough() { [ "$(th_fds)" -ge $((fds0 + IDLE + PARTIAL)) ]; }
if th_poll 10 enough; then
    th_ok "daemon holds $(($(th_fds) - fds0)) more fds"
else
    th_fail "daemon has only $(($(th_fds) - fds0)) more fds, expected $((IDLE + PARTIAL))"
fi

threads1=$(th_threads)
th_get normal /file.txt -w '%{http_code} %{time_total}' --max-time 5
th_expect_status normal 200
th_expect_body normal "$TH_ROOT/file.txt"
read -r code secs <"$TH_TMP/resp/normal/code" || true
echo "# GET under load: HTTP $code in $secs s"
ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')
th_le "GET under load answered within 2000 ms" "$ms" 2000

# a raw request, too
th_req raw --close-wait 3 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_status raw 200
th_expect_closed raw

threads2=$(th_threads)
th_bg_kill hold
gone() { [ "$(th_fds)" -le $((fds0 + 2)) ]; }
th_check "daemon closed the connections the client dropped" th_poll 10 gone
threads3=$(th_threads)
echo "# threads: before $threads0, with the load $threads1, after the GET $threads2, after $threads3"
th_eq "thread count unchanged with the load" "$threads0" "$threads1"
th_eq "thread count unchanged after the GET" "$threads0" "$threads2"
th_eq "thread count unchanged after the load" "$threads0" "$threads3"

th_done
