#!/bin/bash
# t_headers.sh - response header fields from the configuration (key headers)
# and the charset parameter (key charset): rules by prefix and extension,
# in list order with a later rule replacing an earlier one's field of the
# same name, on 200, 206, 304 and HEAD, on error pages only with
# error_pages = true, never on redirects; and -t rejecting bad fields
# (CR/LF in a value, a bad name, a server-owned field, an unknown member)
# with FILE:LINE.
. "$(dirname "$0")/lib.sh"

th_init
R=$TH_ROOT
mkdir -p "$R/assets" "$R/fonts"
printf 'body{}\n' >"$R/assets/app.css"
printf 'var a;\n' >"$R/assets/app.js"
printf 'font\n' >"$R/fonts/f.woff2"
printf '<p>page</p>\n' >"$R/page.html"
printf '{"a":1}\n' >"$R/data.json"
printf '<svg/>\n' >"$R/pic.svg"
head -c 100 /dev/urandom >"$R/blob.bin"
th_conf 'charset = "utf-8";' \
    'headers = (' \
    '  { set = ( "X-Content-Type-Options: nosniff", "Cache-Control: no-store" ); error_pages = true; },' \
    '  { extension = "html"; set = ( "Cache-Control: no-cache" ); },' \
    '  { prefix = "/assets/"; set = ( "Cache-Control: public, max-age=31536000, immutable",' \
    '                               "Link: <https://x.example/>; rel=preconnect" ); },' \
    '  { extension = "WOFF2"; set = ( "Access-Control-Allow-Origin: *", "Expires: Thu, 01 Jan 2099 00:00:00 GMT" ); },' \
    '  { prefix = "/assets/"; extension = "js"; set = ( "X-Both: yes" ); }' \
    ');'
th_start

# one NAME PATH [curl args]: GET PATH
one() { local n=$1 p=$2; shift 2; th_get "$n" "$p" "$@"; }

one css /assets/app.css
th_expect_status css 200
th_expect_hdr css Cache-Control '^public, max-age=31536000, immutable$'
th_eq "css: Cache-Control once (the later rule replaced the first)" 1 "$(th_hdr_count css Cache-Control 1)"
th_expect_hdr css X-Content-Type-Options '^nosniff$'
th_expect_hdr css Link '^<https://x.example/>; rel=preconnect$'
th_expect_hdr css Content-Type '^text/css; charset=utf-8$'
th_expect_no_hdr css X-Both

one js /assets/app.js
th_expect_hdr js X-Both '^yes$'
th_expect_hdr js Content-Type '^(text|application)/javascript; charset=utf-8$'

one html /page.html
th_expect_hdr html Cache-Control '^no-cache$'
th_expect_hdr html Content-Type '^text/html; charset=utf-8$'
one index /
th_expect_hdr index Cache-Control '^no-cache$' # the index file's extension counts

one font /fonts/f.woff2
th_expect_hdr font Access-Control-Allow-Origin '^\*$'
th_expect_hdr font Expires '^Thu, 01 Jan 2099 00:00:00 GMT$'
th_expect_hdr font Cache-Control '^no-store$'
th_expect_hdr font Content-Type '^font/woff2$' # not text: no charset

one json /data.json
th_expect_hdr json Content-Type '^application/json; charset=utf-8$'
one svg /pic.svg
th_expect_hdr svg Content-Type '^image/svg\+xml; charset=utf-8$'
one bin /blob.bin
th_expect_hdr bin Content-Type '^application/octet-stream$'
th_expect_hdr bin Cache-Control '^no-store$'

# 206, 304 and HEAD carry them too
one range /assets/app.css -H 'Range: bytes=0-1'
th_expect_status range 206
th_expect_hdr range Cache-Control '^public, max-age=31536000, immutable$'
etag=$(th_hdr css ETag)
one notmod /assets/app.css -H "If-None-Match: $etag"
th_expect_status notmod 304
th_expect_hdr notmod Cache-Control '^public, max-age=31536000, immutable$'
th_expect_hdr notmod X-Content-Type-Options '^nosniff$'
one notmod-font /fonts/f.woff2 -H "If-None-Match: $(th_hdr font ETag)"
th_expect_status notmod-font 304
th_expect_hdr notmod-font Expires '^Thu, 01 Jan 2099'
one head /assets/app.css -I
th_expect_hdr head Cache-Control '^public, max-age=31536000, immutable$'

# errors: only the error_pages rule, whatever the path
one missing /assets/nothere.css
th_expect_status missing 404
th_expect_hdr missing X-Content-Type-Options '^nosniff$'
th_expect_hdr missing Cache-Control '^no-store$'
th_expect_no_hdr missing Link
th_expect_hdr missing Content-Type '^text/html; charset=utf-8$'
th_req badreq --close-wait 3 "GET /assets/app.css HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status badreq 400
th_expect_hdr badreq X-Content-Type-Options '^nosniff$'
th_req method --close-wait 3 "POST /assets/app.css HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status method 405
th_expect_hdr method Cache-Control '^no-store$'
# a keep-alive connection: the 404's fields do not leak into the next answer
th_req ka --close-wait 3 "GET /nothere HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /assets/app.css HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status ka 404 1
th_expect_status ka 200 2
th_expect_hdr ka Cache-Control '^public, max-age=31536000, immutable$' 2
# redirects get none
one redirect /assets
th_expect_status redirect 301
th_expect_no_hdr redirect X-Content-Type-Options

th_stop

# without the keys: nothing added (the defaults change nothing)
th_conf
th_start
one plain /assets/app.css
th_expect_hdr plain Content-Type '^text/css$'
th_expect_no_hdr plain Cache-Control
th_expect_no_hdr plain X-Content-Type-Options
th_stop

# -t rejects bad fields with FILE:LINE
D=$TH_TMP/cfg
mkdir -p "$D"
# bad NAME LINE MESSAGE-PART LINES...
bad() {
    local name=$1 line=$2 msg=$3 f rc=0
    shift 3
    f=$D/$name.conf
    {
        printf 'listen = [ "127.0.0.1:%s" ];\n' "$TH_PORT"
        printf 'document_root = "%s";\n' "$TH_ROOT"
        printf '%s\n' "$@"
    } >"$f"
    timeout 5 "$TINYHTTPD" -t -c "$f" >"$D/$name.out" 2>"$D/$name.err" </dev/null || rc=$?
    th_eq "$name: -t fails" 1 "$rc"
    if grep -qF -- "$f:$line: 'headers'$msg" "$D/$name.err" || grep -qF -- "$f:$line: $msg" "$D/$name.err"; then
        th_ok "$name: $f:$line: ...$msg"
    else
        th_fail "$name: stderr lacks '$f:$line: ...$msg'" "$(cat "$D/$name.err")"
    fi
}
# The CR and LF are real characters of the string, written as libconfig escapes.
bad crlf 4 ": field 2 of 'set': the field value holds a control character" \
    'headers = ( { set = ( "X-A: b",' \
    '  "X-Bad: a\r\nInjected: yes" ); } );'
bad lf 3 ": field 1 of 'set': the field value holds a control character" \
    'headers = ( { set = ( "X-Bad: a\nb" ); } );'
bad name 3 ": field 1 of 'set': the field name is not a token" \
    'headers = ( { set = ( "X Bad: a" ); } );'
bad nocolon 3 ": field 1 of 'set': a field must be written" \
    'headers = ( { set = ( "X-Bad" ); } );'
bad empty 3 ": field 1 of 'set': the field value is empty" \
    'headers = ( { set = ( "X-Bad:" ); } );'
for h in Content-Length Content-Range Date ETag Connection Transfer-Encoding Content-Encoding Vary Content-Type; do
    bad "owned-$h" 3 ": field 1 of 'set': the server sets this field itself" \
        "headers = ( { set = ( \"$h: 1\" ); } );"
done
bad member 3 ": unknown member 'sett'" 'headers = ( { sett = ( "X-A: b" ); } );'
bad noset 3 ": each rule needs 'set'" 'headers = ( { prefix = "/a/"; } );'
bad prefix 3 ": 'prefix' must start with '/'" 'headers = ( { prefix = "a/"; set = ( "X-A: b" ); } );'
bad ext 3 ": 'extension' must be a file name extension" 'headers = ( { extension = ".css"; set = ( "X-A: b" ); } );'
bad notlist 3 "'headers' must be a list of groups" 'headers = "X-A: b";'
bad charset 3 "'charset' must be a charset name" 'charset = "utf-8; x=y";'

th_done
