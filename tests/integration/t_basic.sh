#!/bin/bash
# t_basic.sh - GET and HEAD of files and directories, response headers, 301,
# 403/404 (and a custom 404.html), percent-encoded names, the query string,
# and the access log (combined format, escaped request data).
. "$(dirname "$0")/lib.sh"

th_init
th_conf
th_start

R=$TH_ROOT
IMF='^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$'
mtime_of() { date -u -r "$1" '+%a, %d %b %Y %H:%M:%S GMT'; }

# --- GET / serves index.html
th_get root /
th_expect_status root 200
th_expect_hdr root Content-Type '^text/html'
th_expect_body root "$R/index.html"

# --- GET /file.txt: body and every header
th_get file /file.txt -A th-ua-basic/1.0
th_expect_status file 200
th_expect_body file "$R/file.txt"
th_expect_hdr file Date "$IMF"
th_expect_hdr file Server '^tinyhttpd/[0-9]'
th_expect_hdr file Content-Type '^text/plain'
th_expect_hdr file Content-Length '^1024$'
th_expect_hdr file Last-Modified "^$(mtime_of "$R/file.txt")\$"
th_expect_hdr file ETag '^"[^"]+"$'
th_expect_hdr file Accept-Ranges '^bytes$'
etag=$(th_hdr file ETag)

# --- the access log line for it (combined format + duration)
re='^127\.0\.0\.1 - - \[[0-9]{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\] "GET /file\.txt HTTP/1\.1" 200 1024 "-" "th-ua-basic/1\.0" [0-9]+$'
if th_wait_log "$re"; then
    th_ok "access log line in combined format: $(grep -aE "$re" "$TH_LOG" | head -n 1)"
else
    th_fail "no access log line matching $re" "$(grep -a 'th-ua-basic' "$TH_LOG" | head -n 3)"
fi

# --- HEAD: the same headers, no body (the server closes, nothing follows the head)
th_req head --close-wait 3 'HEAD /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_status head 200
th_expect_hdr head Content-Length '^1024$'
th_expect_hdr head Content-Type '^text/plain'
th_eq "head: ETag same as GET" "$etag" "$(th_hdr head ETag)"
th_expect_hdr head Last-Modified "^$(mtime_of "$R/file.txt")\$"
th_expect_hdr head Accept-Ranges '^bytes$'
th_expect_hdr head Date "$IMF"
th_expect_closed head

# --- 1 MiB of random bytes, byte-exact
th_get big /big.bin
th_expect_status big 200
th_expect_hdr big Content-Length '^1048576$'
th_expect_body big "$R/big.bin"

# --- a file without an extension
th_get noext /README
th_expect_status noext 200
th_expect_hdr noext Content-Type '^application/octet-stream$'
th_expect_body noext "$R/README"

# --- directories
th_get subdir /sub/
th_expect_status subdir 200
th_expect_hdr subdir Content-Type '^text/html'
th_expect_body subdir "$R/sub/index.html"

th_get redirect /sub
th_expect_status redirect 301
th_expect_hdr redirect Location '^(http://[^/]+)?/sub/$'

th_get noindex /noindex/
th_expect_status noindex '403|404'
th_expect_body_has noindex "$(th_status noindex)"

# --- missing file: 404 with a small HTML body naming the status
th_get missing /missing.txt
th_expect_status missing 404
th_expect_hdr missing Content-Type '^text/html'
th_expect_body_has missing '404'

# --- names with a space and UTF-8, percent-encoded
th_get space /with%20space.txt
th_expect_status space 200
th_expect_body space "$R/with space.txt"
th_get utf8 /caf%C3%A9-%C3%BC.txt
th_expect_status utf8 200
th_expect_body utf8 "$R/"$'caf\xc3\xa9-\xc3\xbc.txt'
th_get utf8lc /caf%c3%a9-%c3%bc.txt
th_expect_status utf8lc 200

# --- the query string is ignored
th_get query '/file.txt?foo=bar&q=%2F..%2F'
th_expect_status query 200
th_expect_body query "$R/file.txt"

# --- a control byte in the target is rejected
th_req ctl 'GET /a%01b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_status ctl 400

# --- request data is escaped in the access log: a quote and a non-ASCII
# byte in the User-Agent; a raw DEL in a header value is refused (400)
th_req esc 'GET /file.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: th-esc"q\xe9\r\nConnection: close\r\n\r\n'
th_expect_status esc 200
if th_wait_log 'th-esc(\\x22|\\")q\\x[eE]9"'; then
    th_ok "User-Agent escaped in the access log: $(grep -a 'th-esc' "$TH_LOG" | head -n 1)"
else
    th_fail "User-Agent not escaped as expected in the access log" "$(grep -a 'th-esc' "$TH_LOG" | cat -v)"
fi
th_req del --close-wait 3 'GET /file.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: th-del\x7fx\r\nConnection: close\r\n\r\n'
th_expect_status del 400
th_expect_closed del
# its access record: the head was refused, so the request line is "-"
re='^127\.0\.0\.1 - - \[[^]]+\] "-" 400 [0-9]+ "-" "-" [0-9]+$'
if th_wait_log "$re"; then
    th_ok "access log line for the refused DEL request: $(grep -aE "$re" "$TH_LOG" | tail -n 1)"
else
    th_fail "no access log line matching $re for the DEL request" "$(grep -a '" 400 ' "$TH_LOG" | cat -v)"
fi

th_stop
# Only printable ASCII (and tabs) in the whole log, so no raw request bytes.
if bad=$(grep -naP '[^\t\x20-\x7e]' "$TH_LOG"); then
    th_fail "raw control or non-ASCII bytes in the daemon log" "$(printf '%s\n' "$bad" | head -n 5 | cat -v)"
else
    th_ok "no raw control or non-ASCII bytes in the daemon log"
fi
th_check "log has 'listening on 127.0.0.1:$TH_PORT'" grep -aq "\[info\] listening on 127.0.0.1:$TH_PORT" "$TH_LOG"
th_check "log has a 'ready' line" grep -aqi 'ready' "$TH_LOG"
th_check "log has 'got SIGTERM'" grep -aqE '\[notice\] got SIGTERM' "$TH_LOG"
th_check "log ends with '[info] stopped'" grep -aqE '\[info\] stopped' "$TH_LOG"
th_check "notify: READY=1" grep -q '^READY=1$' "$TH_NOTIFY_LOG"
th_check "notify: STOPPING=1" grep -q '^STOPPING=1$' "$TH_NOTIFY_LOG"

# --- with a 404.html in the document root, it is the 404 body
th_add_404
th_start
th_get custom404 /missing.txt
th_expect_status custom404 404
th_expect_hdr custom404 Content-Type '^text/html'
th_expect_body custom404 "$R/404.html"
th_req custom404head --close-wait 3 'HEAD /missing.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_status custom404head 404
th_expect_closed custom404head

th_done
