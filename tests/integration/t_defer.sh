#!/bin/bash
# t_defer.sh - defer_accept: the kernel holds a new connection until its
# request starts to arrive (TCP_DEFER_ACCEPT).  With the default of 1 s a
# silent connection waits in the kernel, not in the daemon, for about a
# second, is then taken over and closed at header_timeout like any other;
# one that speaks after the wait is served; a normal request never waits.
# With defer_accept = 0 the daemon takes a connection over at once.
. "$(dirname "$0")/lib.sh"

th_init
command -v ss >/dev/null 2>&1 || th_skip "ss (iproute2) not found"

# The server side of our connections that the kernel still holds back.
held() { ss -Htn state syn-recv "( sport = :$TH_PORT )" | wc -l; }
fds_are() { [ "$(th_fds)" -eq "$1" ]; }

# silent_closed LO HI WHAT: the hold client's one connection was closed by
# the daemon between LO and HI ms after it connected.
silent_closed() {
    local ms
    if th_bg_expect silent '^(ALLCLOSED|TIMEOUT)' 10 && [[ $TH_BG_LINE == ALLCLOSED* ]]; then
        ms=${TH_BG_LINE#ALLCLOSED }
        if [ "$ms" -ge "$1" ] && [ "$ms" -le "$2" ]; then
            th_ok "the silent connection was closed after $ms ms ($3)"
        else
            th_fail "the silent connection was closed after $ms ms, expected $1..$2"
        fi
    else
        th_fail "the silent connection was not closed" "$TH_BG_LINE"
    fi
    th_bg_wait silent 5 || true
}

# ------------------------------------------------------------ the default
th_conf 'header_timeout = 2;'
th_start
# The file cache keeps a descriptor of file.txt open: open it first, so
# that the count below moves only with connections.
th_get warm /file.txt
th_expect_status warm 200
fds0=$(th_fds)

t0=$(th_now_ms)
th_bg_start silent "$PYTHON3" -I -S "$TH_CLIENT" hold --port "$TH_PORT" --idle 1 --timeout 15
th_bg_expect silent '^READY' 5 || th_fatal "could not connect"
th_eq "the kernel holds the silent connection back" 1 "$(held)"
th_eq "the daemon does not have it" "$fds0" "$(th_fds)"

# A request on another connection is served meanwhile, at once.
th_get normal /file.txt
th_expect_status normal 200

if th_poll 5 fds_are $((fds0 + 1)); then
    ms=$(($(th_now_ms) - t0))
    if [ "$ms" -ge 800 ]; then
        th_ok "the daemon took the silent connection over after $ms ms"
    else
        th_fail "the daemon took the silent connection over after $ms ms, expected >= 800"
    fi
else
    th_fail "the daemon never took the silent connection over"
fi
th_eq "the kernel holds nothing back any more" 0 "$(held)"

# From then on header_timeout (2 s) runs: closed at about 3 s in all.
silent_closed 2500 5000 "defer 1 s + header_timeout 2 s"

# A client that is silent past the deferral and then asks is answered.
th_req late --delay 1.5 'GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_status late 200
th_expect_body late "$TH_ROOT/file.txt"
th_stop

# ------------------------------------------------------------ turned off
th_conf 'header_timeout = 1;' 'defer_accept = 0;'
th_start
# As above (and by then the socket READY=1 went out on is closed).
th_get warm0 /file.txt
th_expect_status warm0 200
fds0=$(th_fds)
th_bg_start silent "$PYTHON3" -I -S "$TH_CLIENT" hold --port "$TH_PORT" --idle 1 --timeout 15
th_bg_expect silent '^READY' 5 || th_fatal "could not connect"
th_check "with defer_accept = 0 the daemon takes the connection at once" th_poll 1 fds_are $((fds0 + 1))
th_eq "and the kernel holds nothing back" 0 "$(held)"
silent_closed 800 2500 "header_timeout 1 s"
th_stop

# ------------------------------------------------------------ bad values
th_conf 'defer_accept = 61;'
out=$("$TINYHTTPD" -t -c "$TH_CONF" 2>&1) && rc=0 || rc=$?
th_eq "defer_accept = 61 is rejected by -t" 1 "$rc"
th_match "with file and line" "tinyhttpd.conf:4: 'defer_accept' must be between 0 and 60" "$out"

th_done
