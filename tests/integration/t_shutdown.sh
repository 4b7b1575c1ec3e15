#!/bin/bash
# t_shutdown.sh - graceful shutdown on SIGTERM: a download in flight
# completes byte-exact while new connections are refused, STOPPING=1 is
# sent, and the exit status is 0; idle keep-alive connections do not delay
# the exit; shutdown_timeout bounds the wait for a slow client.
. "$(dirname "$0")/lib.sh"

th_init
HUGE=$TH_ROOT/huge.bin
HUGE_SIZE=$((64 * 1024 * 1024))
head -c $HUGE_SIZE /dev/urandom >"$HUGE"
DL=$TH_TMP/dl.out

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
started() { [ "$(size_of "$DL")" -gt 0 ]; }
stopping() { grep -q '^STOPPING=1$' "$TH_NOTIFY_LOG"; }

# --- 1. SIGTERM during a download of 64 MiB at 16 MB/s (about 4 s)
th_conf
th_start
rm -f "$DL"
th_bg_start dl curl -sS --max-time 20 --limit-rate 16M -o "$DL" "http://127.0.0.1:$TH_PORT/huge.bin"
th_check "download started" th_poll 5 started
th_signal TERM
at_term=$(size_of "$DL")
echo "# SIGTERM after $at_term of $HUGE_SIZE bytes"
th_check "the download was in flight at SIGTERM" [ "$at_term" -lt "$HUGE_SIZE" ]
th_check "notify: STOPPING=1 after SIGTERM" th_poll 5 stopping
th_check "log: got SIGTERM" th_wait_log '\[notice\] got SIGTERM' 5
th_check "log: the listeners closed after their drain" th_wait_log '\[info\] listeners closed' 5
# no new connection is served now
th_req after --timeout 2 'GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
if [ "$(th_sum after responses)" = 0 ]; then
    th_ok "a new connection after SIGTERM is not served (connect $(th_sum after connect), end $(th_sum after end))"
else
    th_fail "a new connection after SIGTERM was served: $(th_status after)"
fi
th_check "the daemon still runs while the download goes on" [ -d "/proc/$TH_DPID" ]
if th_bg_wait dl 20; then
    th_eq "curl finished the download" 0 "$TH_BG_RC"
else
    th_fail "curl did not finish within 20 s"
fi
th_check "the download is byte-exact ($(size_of "$DL") bytes)" cmp -s "$DL" "$HUGE"
if th_wait_exit 10; then
    th_eq "daemon exit status after the drain" 0 "$TH_DEXIT"
else
    th_fail "daemon did not exit within 10 s after the download"
fi
th_check "log: stopped" grep -aq '\[info\] stopped' "$TH_LOG"
th_stderr_clean

# --- 2. only idle keep-alive connections: SIGTERM exits promptly
th_start
th_bg_start hold "$PYTHON3" -I -S "$TH_CLIENT" hold --port "$TH_PORT" --timeout 20 \
    --keepalive 5 --request 'GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n'
th_bg_expect hold '^(READY|FAIL)' 10 || true
th_match "5 idle keep-alive connections" '^READY' "$TH_BG_LINE"
th_signal TERM
if th_wait_exit 5; then
    th_eq "daemon exit status with idle connections" 0 "$TH_DEXIT"
    th_le "exit within 2000 ms of SIGTERM" "$TH_STOP_MS" 2000
else
    th_fail "daemon did not exit within 5 s with only idle connections"
fi
th_check "the idle connections were closed" th_bg_expect hold '^ALLCLOSED' 3
th_bg_wait hold 5 || true
th_stderr_clean

# --- 3. shutdown_timeout = 1 and a client that reads 16 KB/s: the daemon
# gives up on it after about 1 s
th_conf 'shutdown_timeout = 1;'
th_start
rm -f "$DL"
th_bg_start slow curl -sS --max-time 20 --limit-rate 16K -o "$DL" "http://127.0.0.1:$TH_PORT/huge.bin"
th_check "slow download started" th_poll 5 started
th_signal TERM
if th_wait_exit 6; then
    th_eq "daemon exit status after shutdown_timeout" 0 "$TH_DEXIT"
    th_le "exit within 3500 ms of SIGTERM with shutdown_timeout = 1" "$TH_STOP_MS" 3500
else
    th_fail "daemon did not exit within 6 s (shutdown_timeout = 1)"
fi
th_check "notify: STOPPING=1" stopping
th_check "log: says it closed the remaining connection" \
    grep -aqiE 'clos.*(remaining|connection)|(remaining|connection).*clos' "$TH_LOG"
# (curl still has megabytes buffered to read at 16 KB/s: stop it)
th_bg_kill slow
TH_STDERR_ALLOW='\[warning\].*(clos|remaining|timeout)'
th_stderr_clean

# --- 4. a burst of concurrent requests in flight at SIGTERM: all complete
th_conf
th_start
for i in $(seq 1 20); do
    th_bg_start "burst$i" curl -sS --max-time 20 --limit-rate 1M -o "$TH_TMP/burst$i.out" \
        "http://127.0.0.1:$TH_PORT/big.bin"
done
burst_started() {
    local i
    for i in $(seq 1 20); do [ "$(size_of "$TH_TMP/burst$i.out")" -gt 0 ] || return 1; done
}
th_check "20 downloads in flight" th_poll 10 burst_started
th_signal TERM
bad=0
for i in $(seq 1 20); do
    th_bg_wait "burst$i" 20 || true
    [ "$TH_BG_RC" = 0 ] && cmp -s "$TH_TMP/burst$i.out" "$TH_ROOT/big.bin" || bad=$((bad + 1))
done
th_eq "every download in flight at SIGTERM completed byte-exact" 0 "$bad"
if th_wait_exit 10; then
    th_eq "daemon exit status after the burst" 0 "$TH_DEXIT"
else
    th_fail "daemon did not exit after the burst"
fi
th_stderr_clean

# --- 5. a second signal during the drain ends it at once
th_conf
th_start
rm -f "$DL"
th_bg_start slow curl -sS --max-time 30 --limit-rate 16K -o "$DL" "http://127.0.0.1:$TH_PORT/huge.bin"
th_check "slow download started" th_poll 5 started
th_signal TERM
th_check "draining" th_wait_log 'got SIGTERM' 5
th_signal INT
if th_wait_exit 3; then
    th_eq "exit status after a second signal" 0 "$TH_DEXIT"
    th_le "exit within 3 s of the second signal" "$TH_STOP_MS" 3000
else
    th_fail "the daemon did not end at once on a second signal"
fi
th_check "log: second signal noticed" grep -aq 'got SIGINT again' "$TH_LOG"
th_bg_wait slow 5 || true

# --- 6. SIGTERM and a new connection in the same batch of events: the
# signal drains and closes the listeners, and the listener's event after
# it in the batch must not reach accept().  The daemon is stopped while both become
# ready, so that one epoll_wait returns them together, the signal first.
th_conf 'defer_accept = 0;'
th_start
queued() { [ "$(ss -Hltn "sport = :$TH_PORT" | awk '{ print $2 }')" = 1 ]; }
th_signal STOP
th_signal TERM
th_bg_start late curl -sS --max-time 10 -o /dev/null "http://127.0.0.1:$TH_PORT/file.txt"
th_check "a connection waits in the backlog of the stopped daemon" th_poll 5 queued
th_signal CONT
if th_wait_exit 10; then
    th_eq "exit status after a signal and a connection in one batch" 0 "$TH_DEXIT"
else
    th_fail "the daemon did not exit after SIGTERM"
fi
th_nomatch "no accept on a closed listener" 'accept on' "$(cat "$TH_LOG")"
th_stderr_clean
# The connection waited in the kernel when the signal came: it is taken
# over before the listener closes, and answered, not reset.
if th_bg_wait late 10; then
    th_eq "the connection queued at SIGTERM was answered (curl status)" 0 "$TH_BG_RC"
else
    th_fail "curl on the connection queued at SIGTERM did not finish"
fi

# --- 7. a request that arrives on an idle keep-alive connection after
# SIGTERM (sent by a client that could not know yet) is answered, with
# Connection: close, within shutdown_grace (5 s here, so that a slow
# machine still sends it in time); with shutdown_grace = 0 the daemon
# closes the connection and exits without waiting for it.
KA_PY='
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
req = b"GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n"
def response():
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(65536)
        if not c:
            return None
        data += c
    head, _, body = data.partition(b"\r\n\r\n")
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
    while len(body) < n:
        c = s.recv(65536)
        if not c:
            return None
        body += c
    return head
s.sendall(req)
print("FIRST", response().split(b"\r\n")[0].decode(), flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
try:
    s.sendall(req)
    h = response()
except OSError:
    h = None
if h is None:
    print("SECOND closed", flush=True)
else:
    print("SECOND", h.split(b"\r\n")[0].decode(), "close" if b"\r\nconnection: close" in h.lower() else "keep-alive", flush=True)
'
for grace in 5 0; do
    th_conf "shutdown_grace = $grace;"
    th_start
    GO=$TH_TMP/go.$grace
    th_bg_start ka "$PYTHON3" -I -S -c "$KA_PY" "$TH_PORT" "$GO"
    th_bg_expect ka '^(FIRST|SECOND|Traceback)' 5 || true
    th_match "grace $grace: a keep-alive connection got its first response" '^FIRST HTTP/1.1 200' "$TH_BG_LINE"
    th_signal TERM
    th_check "grace $grace: the daemon is stopping" th_wait_log 'got SIGTERM' 5
    if [ "$grace" = 0 ]; then
        if th_wait_exit 5; then
            th_eq "grace 0: exit status, the idle connection still open on the client's side" 0 "$TH_DEXIT"
        else
            th_fail "grace 0: the daemon did not exit within 5 s"
        fi
    fi
    : >"$GO"
    th_bg_expect ka '^(SECOND|Traceback)' 5 || true
    if [ "$grace" = 5 ]; then
        th_eq "grace 5: the request sent after SIGTERM on the idle connection is answered, Connection: close" \
            "SECOND HTTP/1.1 200 OK close" "$TH_BG_LINE"
        if th_wait_exit 5; then
            th_eq "grace 5: exit status" 0 "$TH_DEXIT"
            th_le "grace 5: exit without waiting out the grace once the connection closed" "$TH_STOP_MS" 4000
        else
            th_fail "grace 5: the daemon did not exit within 5 s"
        fi
    else
        th_eq "grace 0: the idle connection was closed" "SECOND closed" "$TH_BG_LINE"
    fi
    th_bg_wait ka 5 || true
    th_stderr_clean
done


# --- 8. a connection that the kernel defers (defer_accept: its request not
# there yet) when SIGTERM comes is not reset: its request, sent after the
# signal, is answered; a new connection after the signal gets no handshake
# (its SYN is dropped while the listener drains, and it finds the port
# closed when it tries again), or, where the kernel lets only CAP_NET_ADMIN
# attach the filter that drops it, is answered with Connection: close.  The daemon is stopped (SIGSTOP) after it
# logged the signal, so that both happen inside its drain.
DEFER_PY='
import os, select, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
a = socket.create_connection(("127.0.0.1", port), timeout=10)
print("A connected", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
b = socket.socket()
b.setblocking(False)
b.connect_ex(("127.0.0.1", port))
a.sendall(b"GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
_, w, _ = select.select([], [b], [], 0.5)
up = bool(w) and b.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
print("B", "connected" if up else "no-handshake", flush=True)
if up:
    b.setblocking(True)
    b.settimeout(10)
    b.sendall(b"GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    try:
        while b"\r\n\r\n" not in head:
            c = b.recv(65536)
            if not c:
                break
            head += c
    except OSError:
        pass
    close = b"close" if b"\r\nconnection: close" in head.lower() else b"keep-alive"
    print("B served", (head.split(b"\r\n")[0] + b" " + close).decode(), flush=True)
data = b""
try:
    while True:
        c = a.recv(65536)
        if not c:
            break
        data += c
except OSError as e:
    print("A error", e.__class__.__name__, flush=True)
print("A", data.split(b"\r\n")[0].decode() or "nothing", flush=True)
'
th_conf 'defer_accept = 1;' 'shutdown_grace = 5;'
th_start
GO=$TH_TMP/go.defer
th_bg_start defer "$PYTHON3" -I -S -c "$DEFER_PY" "$TH_PORT" "$GO"
th_bg_expect defer '^(A connected|Traceback)' 5 || true
th_eq "deferred: the client connected" "A connected" "$TH_BG_LINE"
th_signal TERM
th_check "deferred: the daemon logged the signal" th_wait_log 'got SIGTERM' 5
th_signal STOP
: >"$GO"
th_bg_expect defer '^(B |Traceback)' 5 || true
if [ "$TH_BG_LINE" = "B connected" ]; then
    # The kernel would not attach the filter for an unprivileged daemon:
    # then a new connection during the drain is answered, not dropped.
    th_signal CONT
    th_bg_expect defer '^(B served|Traceback)' 10 || true
    th_eq "a new connection during the drain is answered, Connection: close" \
        "B served HTTP/1.1 200 OK close" "$TH_BG_LINE"
else
    th_eq "a new connection after SIGTERM gets no handshake" "B no-handshake" "$TH_BG_LINE"
    th_signal CONT
fi
th_bg_expect defer '^(A |Traceback)' 10 || true
th_eq "the deferred connection's request, sent after SIGTERM, is answered" "A HTTP/1.1 200 OK" \
    "$TH_BG_LINE"
if th_wait_exit 10; then
    th_eq "deferred: exit status" 0 "$TH_DEXIT"
else
    th_fail "deferred: the daemon did not exit"
fi
th_bg_wait defer 5 || true
th_stderr_clean

th_done
