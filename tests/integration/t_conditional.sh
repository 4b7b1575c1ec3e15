#!/bin/bash
# t_conditional.sh - conditional requests (RFC 9110 section 13):
# If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since and their
# precedence; 304 has no body and keeps the connection in step.
. "$(dirname "$0")/lib.sh"

th_init
F=$TH_ROOT/cond.txt
printf 'th-conditional\n' >"$F"
touch -d '2020-01-02 03:04:05 UTC' "$F"
th_conf
th_start

th_get base /cond.txt
th_expect_status base 200
th_expect_hdr base Last-Modified '^Thu, 02 Jan 2020 03:04:05 GMT$'
th_expect_hdr base ETag '^"[^"]+"$'
ETAG=$(th_hdr base ETag)
LM=$(th_hdr base Last-Modified)
if [ -z "$ETAG" ] || [ -z "$LM" ]; then th_fatal "no ETag or Last-Modified to test with"; fi

# cond NAME STATUS-ERE HEADER-LINES...: GET /cond.txt with the header lines
cond() {
    local name=$1 want=$2 h=
    shift 2
    for l in "$@"; do h="$h$l\\r\\n"; done
    th_req "$name" --close-wait 3 "GET /cond.txt HTTP/1.1\\r\\nHost: x\\r\\n${h}Connection: close\\r\\n\\r\\n"
    th_expect_status "$name" "$want"
    case $want in
    304)
        th_expect_body_empty "$name"
        th_expect_closed "$name"
        th_expect_hdr "$name" ETag "^$(printf '%s' "$ETAG" | sed 's/[].[^$*+?(){}|\\]/\\&/g')\$"
        ;;
    200) th_expect_body "$name" "$F" ;;
    esac
}

OLD='Sat, 01 Jan 2000 00:00:00 GMT'
NEWER='Fri, 01 Jan 2038 00:00:00 GMT'

# If-None-Match
cond inm-match 304 "If-None-Match: $ETAG"
cond inm-list 304 "If-None-Match: \"nope\", $ETAG"
cond inm-weak 304 "If-None-Match: W/$ETAG"
cond inm-other 200 'If-None-Match: "th-other-etag"'
cond inm-star 304 'If-None-Match: *'
# If-Modified-Since
cond ims-equal 304 "If-Modified-Since: $LM"
cond ims-newer 304 "If-Modified-Since: $NEWER"
cond ims-older 200 "If-Modified-Since: $OLD"
cond ims-invalid 200 'If-Modified-Since: not a date'
cond ims-rfc850 304 'If-Modified-Since: Thursday, 02-Jan-20 03:04:05 GMT'
cond ims-asctime 304 'If-Modified-Since: Thu Jan  2 03:04:05 2020'
# If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3)
cond inm-beats-ims-200 200 'If-None-Match: "th-other-etag"' "If-Modified-Since: $LM"
cond inm-beats-ims-304 304 "If-None-Match: $ETAG" "If-Modified-Since: $OLD"
# If-Match (strong comparison)
cond im-match 200 "If-Match: $ETAG"
cond im-mismatch 412 'If-Match: "th-other-etag"'
cond im-weak 412 "If-Match: W/$ETAG"
cond im-star 200 'If-Match: *'
# If-Unmodified-Since
cond ius-past 412 "If-Unmodified-Since: $OLD"
cond ius-equal 200 "If-Unmodified-Since: $LM"
cond ius-future 200 "If-Unmodified-Since: $NEWER"
# If-Match wins over If-Unmodified-Since
cond im-beats-ius 200 "If-Match: $ETAG" "If-Unmodified-Since: $OLD"

# HEAD with a matching If-None-Match: 304 too
th_req head-304 --close-wait 3 "HEAD /cond.txt HTTP/1.1\\r\\nHost: x\\r\\nIf-None-Match: $ETAG\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status head-304 304
th_expect_closed head-304

# a 304 on a kept-alive connection carries no body: the next response parses
th_req pipe --close-wait 3 \
    "GET /cond.txt HTTP/1.1\\r\\nHost: x\\r\\nIf-None-Match: $ETAG\\r\\n\\r\\nGET /cond.txt HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status pipe 304 1
th_expect_status pipe 200 2
th_expect_body pipe "$F" 2
th_expect_closed pipe

# a changed file gets a new validator
printf 'th-conditional, changed\n' >"$F"
touch -d '2021-01-02 03:04:05 UTC' "$F"
th_req changed "GET /cond.txt HTTP/1.1\\r\\nHost: x\\r\\nIf-None-Match: $ETAG\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status changed 200
th_expect_body changed "$F"
th_nomatch "changed: the ETag changed" "^$(printf '%s' "$ETAG" | sed 's/[].[^$*+?(){}|\\]/\\&/g')\$" "$(th_hdr changed ETag)"

th_done
