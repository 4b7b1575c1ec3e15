#!/bin/bash
# t_errors.sh - malformed and over-limit requests over raw sockets: the right
# status (400, 414, 431, 505, 501), a small HTML body naming it, then the
# server closes the connection (EOF after the response), and the daemon
# keeps serving new connections.
. "$(dirname "$0")/lib.sh"

th_init
th_conf
th_start

n=0
# error_case NAME STATUS-ERE REQUEST
error_case() {
    local name=$1 want=$2 req=$3 st
    th_req "$name" --close-wait 3 "$req"
    th_expect_status "$name" "$want"
    st=$(th_status "$name")
    th_expect_hdr "$name" Connection '^[Cc]lose$'
    th_expect_hdr "$name" Content-Type '^text/html'
    th_expect_body_has "$name" "$st"
    th_expect_closed "$name"
    # and a normal request on a new connection still works
    n=$((n + 1))
    th_req "after-$name" 'GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    if [ "$(th_status "after-$name")" = 200 ] && cmp -s "$(th_body "after-$name")" "$TH_ROOT/file.txt"; then
        th_ok "a new connection after $name is served"
    else
        th_expect_status "after-$name" 200
    fi
}

error_case garbage 400 'GARBAGE\r\n\r\n'
error_case bad-version 400 'GET / HTTX/1.1\r\nHost: x\r\n\r\n'
error_case bad-line-extra 400 'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n'
error_case no-target 400 'GET HTTP/1.1\r\nHost: x\r\n\r\n'
error_case no-host 400 'GET /file.txt HTTP/1.1\r\n\r\n'
error_case two-hosts 400 'GET /file.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
error_case cl-and-te 400 'GET /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
error_case cl-conflict 400 'GET /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'
error_case cl-list-conflict 400 'GET /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\n'
error_case cl-invalid 400 'GET /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'
error_case bare-cr 400 'GET /file.txt HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n'
error_case obs-fold 400 'GET /file.txt HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  b\r\n\r\n'
error_case space-before-colon 400 'GET /file.txt HTTP/1.1\r\nHost : x\r\n\r\n'
error_case nul-in-header 400 'GET /file.txt HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'
error_case http2 505 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
error_case http3 505 'GET / HTTP/3.0\r\nHost: x\r\n\r\n'
error_case unknown-te '400|501' 'GET /file.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n'

# an absolute-form target's authority is the request's host (RFC 9112 3.2.2),
# checked as the Host field is: 400 as with nginx and lighttpd
error_case abs-ipv6-unclosed 400 'GET http://[abcd::ef98:0:7654:321 HTTP/1.0\r\n\r\n'
error_case abs-port-dot 400 'GET http://x:1.2/file.txt HTTP/1.1\r\nHost: x\r\n\r\n'
error_case abs-two-ports 400 'GET http://123.40.56.78:9000:80/file.txt HTTP/1.1\r\nHost: x\r\n\r\n'
error_case abs-empty-host 400 'GET http://:80/file.txt HTTP/1.1\r\nHost: x\r\n\r\n'

# over-long target (longer than max_header_size 8192): 414
long=$(head -c 10000 /dev/zero | tr '\0' a)
error_case long-target 414 "GET /$long HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"

# over-large head: 50 fields of 200 bytes (10 KB, fewer than 64 fields): 431
hdrs=
fill=$(head -c 190 /dev/zero | tr '\0' b)
for i in $(seq 10 59); do hdrs="${hdrs}X-Fill-$i: $fill\\r\\n"; done
error_case large-head 431 "GET /file.txt HTTP/1.1\\r\\nHost: x\\r\\n$hdrs\\r\\n"

# too many fields (100 small ones, under 8192 bytes in all): 431
hdrs=
for i in $(seq 100 199); do hdrs="${hdrs}X-$i: v\\r\\n"; done
error_case many-fields 431 "GET /file.txt HTTP/1.1\\r\\nHost: x\\r\\n$hdrs\\r\\n"

# HTTP/1.0 needs no Host: 200, and the connection closes after it
th_req http10 --close-wait 3 'GET /file.txt HTTP/1.0\r\n\r\n'
th_expect_status http10 200
th_expect_body http10 "$TH_ROOT/file.txt"
th_expect_closed http10

th_done
