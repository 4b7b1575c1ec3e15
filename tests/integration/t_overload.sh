#!/bin/bash
# Overload: a full job queue answers 503 with Retry-After and the server
# keeps serving; at max_connections the server stops accepting (the kernel
# backlog holds the next client) until a slot frees.
. "$(dirname "$0")/lib.sh"

th_init
# --- a full queue: one worker, one queue slot, a burst of 200 requests
th_conf 'pool_size = 1;' 'queue_size = 1;' 'access_log = false;'
TH_STDERR_ALLOW='job queue full'
th_start
out=$("$PYTHON3" -I -S "$TH_CLIENT" burst --port "$TH_PORT" --conns 200 --close)
echo "$out" | sed 's/^/# /'
ok=$(awk '$1 == "status" && $2 == "200" { print $3 }' <<<"$out")
busy=$(awk '$1 == "status" && $2 == "503" { print $3 }' <<<"$out")
other=$(awk '$1 == "status" && $2 != "200" && $2 != "503" { n += $3 } END { print n + 0 }' <<<"$out")
ra=$(awk '$1 == "retry_after" { print $2 }' <<<"$out")
th_eq "every answer is 200 or 503" 0 "$other"
th_check "some requests were served (${ok:-0})" test "${ok:-0}" -gt 0
th_check "the full queue answered 503 (${busy:-0} times)" test "${busy:-0}" -gt 0
th_eq "every 503 carries Retry-After" "${busy:-0}" "$ra"
th_check "503s were logged" grep -q 'job queue full' "$TH_LOG"
th_get after /file.txt
th_expect_status after 200
th_stop

# --- max_connections: 5 held connections fill the table; a sixth waits
TH_STDERR_ALLOW=
th_conf 'max_connections = 5;' 'header_timeout = 30;'
th_start
th_bg_start hold "$PYTHON3" -I -S "$TH_CLIENT" hold --port "$TH_PORT" --idle 5 --timeout 30
th_bg_expect hold '^READY' 10 || th_fatal "could not open 5 connections"
fds_at_least() { [ "$(th_fds)" -ge "$1" ]; }
th_check "5 connections open" th_poll 5 fds_at_least 10
th_bg_start waiter curl -sS --max-time 20 -o /dev/null -w 'code %{http_code}\n' "http://127.0.0.1:$TH_PORT/file.txt"
if th_bg_expect waiter '^code' 1; then
    th_fail "a sixth connection was served while 5 were open" "$TH_BG_LINE"
else
    th_ok "a sixth connection waits while max_connections are open"
fi
th_bg_kill hold
if th_bg_expect waiter '^code' 10; then
    th_match "the waiting client is served once slots free" '^code 200$' "$TH_BG_LINE"
else
    th_fail "the waiting client was never served"
fi
th_bg_wait waiter 5 || true

th_done
