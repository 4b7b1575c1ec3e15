#!/bin/bash
# t_sockact.sh - socket activation: started by systemd-socket-activate, the
# daemon serves on the sockets it was passed (IPv4, and IPv6 loopback when
# available), says that its listen key is ignored, and does not bind the
# configured address.
. "$(dirname "$0")/lib.sh"

SA=
for c in "$(command -v systemd-socket-activate || true)" /usr/bin/systemd-socket-activate \
    /lib/systemd/systemd-socket-activate /usr/lib/systemd/systemd-socket-activate; do
    if [ -n "$c" ] && [ -x "$c" ]; then SA=$c; break; fi
done
[ -n "$SA" ] || th_skip "systemd-socket-activate not found"

th_init
# The config names a different port than the ones passed.
th_conf
CONF_PORT=$TH_PORT

# activate NAME -l ADDR...: start the daemon under systemd-socket-activate.
# That tool execs the daemon only on the first connection, so send the
# first request while waiting for READY=1: it must be answered too.
activate() {
    local name=$1
    shift
    th_spawn "$SA" "$@" -E NOTIFY_SOCKET "$TINYHTTPD" -c "$TH_CONF"
    if ! th_wait_log 'Listening on' 5; then
        if ! th_ready && grep -q 'in use' "$TH_LOG"; then return 1; fi
        th_fatal "systemd-socket-activate did not listen"
    fi
    th_req "$name" --timeout 10 'GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    if ! th_ready; then
        grep -q 'in use' "$TH_LOG" && return 1
        th_fatal "daemon exited with status $TH_DEXIT before READY=1"
    fi
    th_expect_status "$name" 200
    th_expect_body "$name" "$TH_ROOT/file.txt"
    th_eq "the socket-activated process is the daemon" tinyhttpd "$(cat "/proc/$TH_DPID/comm")"
}

# --- one IPv4 socket
for attempt in 1 2 3; do
    TH_PORT=$(th_free_port)
    [ "$TH_PORT" != "$CONF_PORT" ] || continue
    activate first -l "127.0.0.1:$TH_PORT" && break
done
[ -n "$TH_DPID" ] || th_fatal "could not start the daemon on a free port"
th_get second /index.html
th_expect_status second 200
th_expect_body second "$TH_ROOT/index.html"
th_req conf-port --port "$CONF_PORT" 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
th_expect_sum conf-port connect refused
th_check "log: listening on the passed socket" grep -aqE "\[info\] listening on 127\.0\.0\.1:$TH_PORT" "$TH_LOG"
th_check "log: the listen key is ignored (notice or info)" \
    grep -aqiE '\[(notice|info)\] .*listen.*ignor|\[(notice|info)\] .*ignor.*listen' "$TH_LOG"
th_check "log: so is defer_accept (the socket's own setting applies)" \
    grep -aqE "\[notice\] .*'defer_accept' keys? (is|are) ignored" "$TH_LOG"
th_check "notify: READY=1" grep -q '^READY=1$' "$TH_NOTIFY_LOG"
th_stop

# --- two sockets: IPv4 and IPv6 loopback (a second IPv4 one without IPv6)
if "$PYTHON3" -I -S -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    V6=1
else
    V6=
    echo "# no IPv6 loopback: using two IPv4 sockets"
fi
for attempt in 1 2 3; do
    mapfile -t ports < <(th_free_port -n 2)
    TH_PORT=${ports[0]} PORT2=${ports[1]}
    if [ -n "$V6" ]; then ADDR2="[::1]:$PORT2"; URL2="http://[::1]:$PORT2"; else ADDR2="127.0.0.1:$PORT2"; URL2="http://127.0.0.1:$PORT2"; fi
    activate two-first -l "127.0.0.1:$TH_PORT" -l "$ADDR2" && break
done
[ -n "$TH_DPID" ] || th_fatal "could not start the daemon on free ports"
out=$TH_TMP/two-second.body
code=$(th_curl -g -o "$out" -w '%{http_code}' "$URL2/index.html" 2>&1) || true
th_eq "GET through the second socket ($ADDR2)" 200 "$code"
th_check "second socket: body" cmp -s "$out" "$TH_ROOT/index.html"
th_check "log: listening on 127.0.0.1:$TH_PORT" grep -aqF "listening on 127.0.0.1:$TH_PORT" "$TH_LOG"
th_check "log: listening on $ADDR2" grep -aqF "listening on $ADDR2" "$TH_LOG"
th_stop

th_done
