#!/bin/bash
# t_timeouts.sh - header_timeout bounds the whole request head: a client
# that keeps trickling header bytes still gets 408 at the deadline and is
# closed, while other clients are served; a connection that sends nothing
# is closed too.
. "$(dirname "$0")/lib.sh"

th_init
th_conf 'header_timeout = 1;' 'keepalive_timeout = 1;'
th_start

# A head that never ends: one more header byte every 300 ms, for up to 6 s.
th_bg_start trickle "$PYTHON3" -I -S "$TH_CLIENT" trickle --port "$TH_PORT" \
    --interval 0.3 --timeout 6 'GET /file.txt HTTP/1.1\r\nHost: x\r\nX-Trickle: '
th_bg_expect trickle '^connected' 5 || th_fatal "trickle client did not connect"

# Meanwhile a normal request is served at once.
th_get normal /file.txt -w '%{http_code} %{time_total}'
th_expect_status normal 200
th_expect_body normal "$TH_ROOT/file.txt"
echo "# normal request while trickling: $(cat "$TH_TMP/resp/normal/code")"

# And one that sends nothing at all is closed within a few seconds.
th_req silent --close-wait 5 ''
th_expect_sum silent end closed
ms=$(th_sum silent close_ms)
if [ -n "$ms" ] && [ "$ms" -le 3000 ]; then
    th_ok "a silent connection was closed after $ms ms"
else
    th_fail "a silent connection was closed after '$ms' ms, expected <= 3000"
fi

if th_bg_expect trickle '^sent ' 10; then
    th_ok "trickle client finished"
else
    th_fail "trickle client did not finish"
fi
th_bg_wait trickle 5 || true
st=$(th_bg_val status)
first=$(th_bg_val first_byte_ms)
sent=$(th_bg_val sent)
th_eq "trickling client gets 408" 408 "$st"
th_eq "and is then closed" closed "$(th_bg_val end)"
if [ -n "$first" ] && [ "$first" -ge 800 ] && [ "$first" -le 3000 ]; then
    th_ok "408 came after $first ms (header_timeout = 1), after $sent bytes trickled"
else
    th_fail "408 came after '$first' ms, expected 800..3000 ($sent bytes trickled)"
fi
if [ -n "$sent" ] && [ "$sent" -ge 2 ]; then
    th_ok "the client kept sending during the deadline ($sent bytes)"
else
    th_fail "the client sent only '$sent' bytes before the answer"
fi

th_done
