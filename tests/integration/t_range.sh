#!/bin/bash
# t_range.sh - byte ranges (RFC 9110 section 14): single ranges (206 with
# Content-Range and the exact bytes), suffix and open ranges, clamping, 416
# for unsatisfiable ones, 200 for invalid syntax, several ranges that
# coalesce into one (more in t_multirange.sh), If-Range, and HEAD with Range.
. "$(dirname "$0")/lib.sh"

th_init
F=$TH_ROOT/range.bin
SIZE=10000
head -c $SIZE /dev/urandom >"$F"
th_conf
th_start

# expected bytes FIRST COUNT > FILE
slice() { tail -c +$(($1 + 1)) "$F" | head -c "$2" >"$TH_TMP/slice.$3"; echo "$TH_TMP/slice.$3"; }

# range NAME RANGE-VALUE [EXTRA HEADER LINES]
range() {
    th_req "$1" --close-wait 3 "GET /range.bin HTTP/1.1\\r\\nHost: x\\r\\nRange: $2\\r\\n${3:-}Connection: close\\r\\n\\r\\n"
    th_expect_closed "$1"
}

# partial NAME RANGE-VALUE FIRST LAST
partial() {
    range "$1" "$2"
    th_expect_status "$1" 206
    th_expect_hdr "$1" Content-Range "^bytes $3-$4/$SIZE\$"
    th_expect_hdr "$1" Content-Length "^$(($4 - $3 + 1))\$"
    th_expect_body "$1" "$(slice "$3" $(($4 - $3 + 1)) "$1")"
}

# whole NAME RANGE-VALUE [EXTRA HEADER LINES]: the Range is ignored
whole() {
    range "$1" "$2" "${3:-}"
    th_expect_status "$1" 200
    th_expect_no_hdr "$1" Content-Range
    th_expect_hdr "$1" Content-Length "^$SIZE\$"
    th_expect_body "$1" "$F"
}

# unsatisfiable NAME RANGE-VALUE
unsatisfiable() {
    range "$1" "$2"
    th_expect_status "$1" 416
    th_expect_hdr "$1" Content-Range "^bytes \\*/$SIZE\$"
}

partial first100 'bytes=0-99' 0 99
partial one-byte 'bytes=0-0' 0 0
partial middle 'bytes=1234-5677' 1234 5677
partial suffix 'bytes=-100' 9900 9999
partial suffix-too-long 'bytes=-20000' 0 9999
partial open 'bytes=100-' 100 9999
partial clamp 'bytes=9990-20000' 9990 9999
partial last-byte 'bytes=9999-9999' 9999 9999
partial unit-case 'Bytes=0-99' 0 99

unsatisfiable at-size "bytes=$SIZE-"
unsatisfiable beyond 'bytes=20000-30000'
unsatisfiable suffix-zero 'bytes=-0'

partial multi-near 'bytes=0-9,20-29' 0 29
partial multi-overlap 'bytes=0-99,50-150' 0 150
whole bad-syntax 'bytes=abc'
whole reversed 'bytes=500-100'
whole other-unit 'items=0-99'
whole no-equals 'bytes 0-99'

# If-Range: a matching ETag applies the Range, a stale one does not
th_get etag /range.bin
ETAG=$(th_hdr etag ETag)
th_req ifrange-match --close-wait 3 "GET /range.bin HTTP/1.1\\r\\nHost: x\\r\\nRange: bytes=0-99\\r\\nIf-Range: $ETAG\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status ifrange-match 206
th_expect_hdr ifrange-match Content-Range "^bytes 0-99/$SIZE\$"
th_expect_body ifrange-match "$(slice 0 100 ifrange)"
whole ifrange-stale 'bytes=0-99' 'If-Range: "th-stale-etag"\r\n'

# HEAD with a Range: no body either way; 206 with the range's headers, or
# 200 (range handling is only defined for GET)
th_req head --close-wait 3 "HEAD /range.bin HTTP/1.1\\r\\nHost: x\\r\\nRange: bytes=0-99\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status head '200|206'
if [ "$(th_status head)" = 206 ]; then
    th_expect_hdr head Content-Range "^bytes 0-99/$SIZE\$"
    th_expect_hdr head Content-Length '^100$'
else
    th_expect_hdr head Content-Length "^$SIZE\$"
fi
th_expect_closed head

# ranges on a kept-alive connection keep it in step (206, 416, 200)
th_req pipe --close-wait 3 "GET /range.bin HTTP/1.1\\r\\nHost: x\\r\\nRange: bytes=-10\\r\\n\\r\\nGET /range.bin HTTP/1.1\\r\\nHost: x\\r\\nRange: bytes=$SIZE-\\r\\n\\r\\nGET /file.txt HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_sum pipe responses 3
th_expect_status pipe 206 1
th_expect_body pipe "$(slice 9990 10 pipe)" 1
th_expect_status pipe 416 2
th_expect_status pipe 200 3
th_expect_body pipe "$TH_ROOT/file.txt" 3
th_expect_closed pipe

# curl's own range support on the 1 MiB file
th_get curl-range /big.bin -r 1000-2999
th_expect_status curl-range 206
th_expect_hdr curl-range Content-Range '^bytes 1000-2999/1048576$'
tail -c +1001 "$TH_ROOT/big.bin" | head -c 2000 >"$TH_TMP/big.slice"
th_expect_body curl-range "$TH_TMP/big.slice"

th_done
