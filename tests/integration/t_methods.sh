#!/bin/bash
# t_methods.sh - methods other than GET and HEAD (405 with Allow, 501 for
# unknown ones), HEAD never has a body (errors included), and request bodies
# are consumed so that pipelined requests stay in step.
. "$(dirname "$0")/lib.sh"

th_init
th_conf
th_start

F=$TH_ROOT/file.txt

# --- known methods we do not allow: 405 + Allow
for m in POST PUT DELETE OPTIONS PATCH TRACE; do
    th_req "$m" --close-wait 3 "$m /file.txt HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n"
    th_expect_status "$m" 405
    th_expect_hdr "$m" Allow '^GET, HEAD$'
    th_expect_body_has "$m" 405
    th_expect_closed "$m"
done

# a 405 with a request body: the body is not taken for the next request
th_req post-body --close-wait 3 \
    'POST /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_status post-body 405
th_expect_sum post-body end closed
if [ "$(th_sum post-body responses)" = 2 ]; then
    th_expect_status post-body 200 2
    th_expect_body post-body "$F" 2
    th_expect_sum post-body extra 0
else
    # closing after the 405 is fine too; a response to "hello..." is not
    th_expect_sum post-body responses 1
    th_expect_sum post-body extra 0
fi

# --- unknown methods (case matters): 501
for m in FOO get Get; do
    th_req "m-$m" --close-wait 3 "$m /file.txt HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
    th_expect_status "m-$m" 501
    th_expect_body_has "m-$m" 501
    th_expect_closed "m-$m"
done

# --- HEAD has no body, on errors either
head_case() { # NAME STATUS-ERE TARGET [EXTRA HEADER LINES]
    th_req "$1" --close-wait 3 "HEAD $3 HTTP/1.1\\r\\nHost: x\\r\\n${4:-}Connection: close\\r\\n\\r\\n"
    th_expect_status "$1" "$2"
    th_expect_closed "$1" # extra 0: nothing after the head
}
head_case head-200 200 /file.txt
head_case head-404 404 /missing.txt
head_case head-403 '403|404' /noindex/
head_case head-301 301 /sub
head_case head-400 400 '/a%00b'
# (range handling is defined for GET only, so a HEAD may ignore Range)
head_case head-range '200|416' /file.txt 'Range: bytes=5000-\r\n'
# errors found while checking the head (no Host, two Hosts, CL with TE)
th_req head-nohost --close-wait 3 'HEAD /file.txt HTTP/1.1\r\n\r\n'
th_expect_status head-nohost 400
th_expect_closed head-nohost
th_req head-twohosts --close-wait 3 'HEAD /file.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
th_expect_status head-twohosts 400
th_expect_closed head-twohosts
th_req head-http2 --close-wait 3 'HEAD /file.txt HTTP/2.0\r\nHost: x\r\n\r\n'
th_expect_status head-http2 505
th_expect_closed head-http2

# HEAD errors on a kept-alive connection: the next response parses cleanly
th_req head-pipe --close-wait 3 \
    'HEAD /missing.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /sub HTTP/1.1\r\nHost: x\r\n\r\nGET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_sum head-pipe responses 3
th_expect_status head-pipe 404 1
th_expect_status head-pipe 301 2
th_expect_status head-pipe 200 3
th_expect_body head-pipe "$F" 3
th_expect_closed head-pipe

# --- a GET with a small body, then a pipelined GET: both answered in order
th_req get-body --close-wait 3 \
    'GET /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_sum get-body responses 2
th_expect_status get-body 200 1
th_expect_body get-body "$F" 1
th_expect_status get-body 200 2
th_expect_body get-body "$TH_ROOT/index.html" 2
th_expect_closed get-body

# --- a chunked body (RFC 9112 section 7.1) is decoded and dropped, so the
# request pipelined after it is answered in step
th_req chunked --close-wait 3 \
    'GET /file.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_sum chunked responses 2
th_expect_status chunked 200 1
th_expect_body chunked "$F" 1
th_expect_status chunked 200 2
th_expect_body chunked "$TH_ROOT/index.html" 2
th_expect_closed chunked

# extensions, upper-case hex, several chunks and a trailer section
th_req chunked-ext --close-wait 3 \
    'GET /file.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;name="v;x"\r\nabc\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\nY: two\r\n\r\nHEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_expect_sum chunked-ext responses 2
th_expect_status chunked-ext 200 1
th_expect_status chunked-ext 200 2
th_expect_closed chunked-ext

# a malformed chunked body: the response already sent stands, then the
# connection closes; the bytes after it are never taken for a request
th_req chunked-bad --close-wait 3 \
    'GET /file.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n'
th_expect_sum chunked-bad responses 1
th_expect_status chunked-bad 200 1
th_expect_closed chunked-bad

# a chunked body larger than what is dropped (64 KiB): answered, then closed
big=$(head -c 70000 /dev/zero | tr '\0' a)
th_req chunked-big --close-wait 3 \
    "GET /file.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n11170\r\n$big\r\n0\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
th_expect_sum chunked-big responses 1
th_expect_status chunked-big 200 1
th_expect_closed chunked-big

th_done
