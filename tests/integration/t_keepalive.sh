#!/bin/bash
# t_keepalive.sh - persistent connections: curl reuses one, HTTP/1.0 closes
# unless it asks for keep-alive, "Connection: close" closes, pipelined
# requests are answered in order, and keepalive_timeout closes idle ones.
. "$(dirname "$0")/lib.sh"

th_init
th_conf
th_start
R=$TH_ROOT
GET_FILE='GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n'

# --- curl with two URLs reuses the connection
url=http://127.0.0.1:$TH_PORT
if th_curl -v -o "$TH_TMP/c1" -o "$TH_TMP/c2" "$url/file.txt" "$url/index.html" 2>"$TH_TMP/curl-v.err"; then
    th_ok "curl fetched two URLs"
else
    th_fail "curl failed" "$(tail -n 5 "$TH_TMP/curl-v.err")"
fi
th_check "curl: Re-using existing connection" grep -q 'Re-using existing connection' "$TH_TMP/curl-v.err"
th_check "curl: first body" cmp -s "$TH_TMP/c1" "$R/file.txt"
th_check "curl: second body" cmp -s "$TH_TMP/c2" "$R/index.html"

# --- HTTP/1.0 without keep-alive: closed after the response
th_req v10 --close-wait 3 'GET /file.txt HTTP/1.0\r\n\r\n'
th_expect_status v10 200
th_expect_body v10 "$R/file.txt"
th_nomatch "v10: no 'Connection: keep-alive'" '^[Kk]eep-[Aa]live$' "$(th_hdr v10 Connection)"
th_expect_closed v10

# --- HTTP/1.0 with Connection: keep-alive: answered with keep-alive, and the
# connection takes a second request
th_req v10ka --close-wait 3 'GET /file.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' 'GET /index.html HTTP/1.0\r\n\r\n'
th_expect_sum v10ka responses 2
th_expect_status v10ka 200 1
th_expect_hdr v10ka Connection '^[Kk]eep-[Aa]live$' 1
th_expect_body v10ka "$R/file.txt" 1
th_expect_status v10ka 200 2
th_expect_body v10ka "$R/index.html" 2
th_expect_closed v10ka

# --- HTTP/1.1 stays open by default (a second request on it is answered),
# and "Connection: close" closes it
th_req v11 --close-wait 3 "$GET_FILE" 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_sum v11 responses 2
th_expect_status v11 200 1
th_nomatch "v11: response 1 does not say Connection: close" '^[Cc]lose$' "$(th_hdr v11 Connection 1)"
th_expect_body v11 "$R/file.txt" 1
th_expect_status v11 200 2
th_expect_hdr v11 Connection '^[Cc]lose$' 2
th_expect_body v11 "$R/index.html" 2
th_expect_closed v11

# --- three pipelined requests in one write: three responses, in order
th_req pipe3 --close-wait 3 "${GET_FILE}GET /index.html HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /sub/ HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_sum pipe3 responses 3
th_expect_body pipe3 "$R/file.txt" 1
th_expect_body pipe3 "$R/index.html" 2
th_expect_body pipe3 "$R/sub/index.html" 3
th_expect_closed pipe3

# --- many pipelined requests, HEAD and GET mixed
reqs=
for i in $(seq 1 20); do
    if [ $((i % 2)) = 0 ]; then reqs="${reqs}HEAD /index.html HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"; else reqs="$reqs$GET_FILE"; fi
done
th_req pipe20 --close-wait 3 "${reqs}GET /README HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_sum pipe20 responses 21
th_expect_body pipe20 "$R/file.txt" 19
th_expect_hdr pipe20 Content-Length '^56$' 20
th_expect_body pipe20 "$R/README" 21
th_expect_closed pipe20
th_stop

# --- keepalive_timeout = 1: an idle connection is closed after about 1 s
th_conf 'keepalive_timeout = 1;'
th_start
th_req idle --close-wait 5 "$GET_FILE"
th_expect_status idle 200
th_expect_sum idle end closed
ms=$(th_sum idle close_ms)
if [ -n "$ms" ] && [ "$ms" -ge 700 ] && [ "$ms" -le 3000 ]; then
    th_ok "idle connection closed ${ms} ms after the response (keepalive_timeout = 1)"
else
    th_fail "idle connection closed after '${ms}' ms, expected about 1000"
fi

th_done
