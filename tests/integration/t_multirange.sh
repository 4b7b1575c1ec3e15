#!/bin/bash
# t_multirange.sh - several byte ranges (RFC 9110 sections 14.6 and 15.3.7):
# 206 multipart/byteranges whose parts are parsed here and compared with the
# file's bytes, for a small file (sent from memory) and a large one (from its
# descriptor, parts larger than the send slice); ranges sorted and coalesced
# (overlapping, out of order, within 80 bytes, into one part); the bounds
# against amplification (200 overlapping ranges, more than max_ranges, more
# than twice the file: 200 with the whole file; nothing satisfiable: 416);
# max_ranges applied by a reload; HEAD; If-Range; pipelined responses that
# stay in step (Content-Length is exact); the same over HTTPS.
. "$(dirname "$0")/lib.sh"

# Started as root, the daemon serves as nobody and a reload re-reads the
# configuration with those rights: keep the files where any user reads them.
TH_TMPBASE=/tmp

th_init
chmod 755 "$TH_TMP"
SMALL=$TH_ROOT/small.bin
LARGE=$TH_ROOT/large.bin
head -c 3000 /dev/urandom >"$SMALL"
head -c $((10 * 1048576)) /dev/urandom >"$LARGE"
chmod -R a+rX "$TH_ROOT"
th_conf 'log_target = "stderr";'
th_start

# mp.py HEAD BODY FILE TYPE: parse a multipart/byteranges response (the
# boundary from HEAD's Content-Type), check the framing, each part's
# Content-Type and Content-Range and bytes against FILE, and that
# Content-Length is the body's length; print the parts as "a-b a-b ...", or
# "error ..." for the first thing wrong.
cat >"$TH_TMP/mp.py" <<'PY'
import re, sys
head = open(sys.argv[1], "rb").read().decode("latin-1")
body = open(sys.argv[2], "rb").read()
data = open(sys.argv[3], "rb").read()
want_type = sys.argv[4].encode()
def fail(why):
    print("error " + why)
    sys.exit(0)
hdrs = {}
for line in head.split("\r\n")[1:]:
    if ":" in line:
        k, v = line.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
m = re.fullmatch(r"multipart/byteranges; boundary=([0-9a-f]{20,70})", hdrs.get("content-type", ""))
if not m:
    fail("content-type %r" % hdrs.get("content-type"))
b = m.group(1).encode()
if hdrs.get("content-length") != str(len(body)):
    fail("content-length %s, body %d" % (hdrs.get("content-length"), len(body)))
if not body.startswith(b"--" + b + b"\r\n"):
    fail("no first delimiter")
close = b"\r\n--" + b + b"--\r\n"
if not body.endswith(close):
    fail("no closing delimiter")
chunks = body[len(b) + 4:-len(close)].split(b"\r\n--" + b + b"\r\n")
parts = []
for c in chunks:
    h, sep, payload = c.partition(b"\r\n\r\n")
    if not sep:
        fail("part without head")
    fields = dict(l.split(b": ", 1) for l in h.split(b"\r\n"))
    if fields.get(b"Content-Type") != want_type:
        fail("part type %r" % fields.get(b"Content-Type"))
    r = re.fullmatch(rb"bytes (\d+)-(\d+)/(\d+)", fields.get(b"Content-Range", b""))
    if not r:
        fail("part range %r" % fields.get(b"Content-Range"))
    a, z, size = (int(x) for x in r.groups())
    if size != len(data):
        fail("size %d" % size)
    if payload != data[a:z + 1]:
        fail("bytes of %d-%d differ (%d bytes)" % (a, z, len(payload)))
    parts.append("%d-%d" % (a, z))
print(" ".join(parts))
PY

# mp NAME FILE: the parts of saved response NAME, checked against FILE.
mp() {
    "$PYTHON3" -I -S "$TH_TMP/mp.py" "$TH_TMP/resp/$1/1.head" "$TH_TMP/resp/$1/1.body" "$2" \
        application/octet-stream
}

# multi NAME PATH RANGE EXPECTED-PARTS [CURL OPTIONS]: 206 multipart with those parts
multi() {
    local f=$TH_ROOT$2
    th_get "$1" "$2" -H "Range: $3" "${@:5}"
    th_expect_status "$1" 206
    th_expect_no_hdr "$1" Content-Range
    th_eq "$1: parts of $3" "$4" "$(mp "$1" "$f")"
}

# whole NAME PATH RANGE [CURL OPTIONS]: 200 with the whole file
whole() {
    th_get "$1" "$2" -H "Range: $3" "${@:4}"
    th_expect_status "$1" 200
    th_expect_no_hdr "$1" Content-Range
    th_expect_body "$1" "$TH_ROOT$2"
}

# --- from memory (a small cached file)
multi two /small.bin 'bytes=0-99,200-299' '0-99 200-299'
th_get two-again /small.bin -H 'Range: bytes=0-99,200-299'
th_eq "two-again: the file is now a cache hit, same parts" '0-99 200-299' "$(mp two-again "$SMALL")"
th_nomatch "a new boundary per response" "$(th_hdr two Content-Type)" "$(th_hdr two-again Content-Type)"
multi out-of-order /small.bin 'bytes=2000-2099, 0-9,2050-2150,20-29,-10' '0-29 2000-2150 2990-2999'
multi suffix-and-open /small.bin 'bytes=-5,100-199,2900-' '100-199 2900-2999'
multi gap-81 /small.bin 'bytes=0-99,181-199' '0-99 181-199'
multi unsatisfiable-dropped /small.bin 'bytes=0-9,500-509,9000-9999' '0-9 500-509'

# coalesced into one range: a plain 206
th_get one /small.bin -H 'Range: bytes=0-99,50-149,180-199'
th_expect_status one 206
th_expect_hdr one Content-Range '^bytes 0-199/3000$'
th_expect_hdr one Content-Type '^application/octet-stream$'
tail -c +1 "$SMALL" | head -c 200 >"$TH_TMP/one.want"
th_expect_body one "$TH_TMP/one.want"

# nothing satisfiable: 416
th_get none /small.bin -H 'Range: bytes=3000-,5000-6000'
th_expect_status none 416
th_expect_hdr none Content-Range '^bytes \*/3000$'

# --- the bounds: 200 with the whole file
ranges=bytes=0-
for i in $(seq 1 199); do ranges="$ranges,$i-"; done
whole overlapping-200 /small.bin "$ranges"
whole overlapping-200-large /large.bin "$ranges"
ranges=bytes=0-0
for i in $(seq 1 16); do ranges="$ranges,$((i * 100))-$((i * 100))"; done
whole max-ranges-17 /small.bin "$ranges"
multi max-ranges-16 /small.bin "${ranges%,1600-1600}" \
    "$(for i in $(seq 0 15); do printf '%d-%d ' $((i * 100)) $((i * 100)); done | sed 's/ $//')"
whole twice-the-file /small.bin 'bytes=0-,0-,0-0'
# up to twice the file is allowed (here it coalesces into one range)
th_get twice-allowed /small.bin -H 'Range: bytes=0-1499,1500-2999,0-9,2000-2009'
th_expect_status twice-allowed 206
th_expect_hdr twice-allowed Content-Range '^bytes 0-2999/3000$'
th_expect_body twice-allowed "$SMALL"

# --- HEAD: Range is defined for GET only (RFC 9110 section 14.2), so HEAD
# gets the head of the whole file, as with a single range
th_req head --close-wait 3 "HEAD /large.bin HTTP/1.1\\r\\nHost: x\\r\\nRange: bytes=0-99,5000-5099\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_status head 200
th_expect_hdr head Content-Length '^10485760$'
th_expect_closed head

# --- If-Range: a matching ETag applies the ranges, a stale one does not
ETAG=$(th_hdr two ETag)
multi ifrange-match /small.bin 'bytes=0-9,100-109' '0-9 100-109' -H "If-Range: $ETAG"
whole ifrange-stale /small.bin 'bytes=0-9,100-109' -H 'If-Range: "th-stale"'

# --- from the descriptor: small parts, and parts larger than the send slice
multi large /large.bin 'bytes=0-99,500000-500099,-100' '0-99 500000-500099 10485660-10485759'
multi large-slices /large.bin 'bytes=0-4999999,6000000-' '0-4999999 6000000-10485759'

# --- pipelined on one connection: each response is exactly as long as it says
th_req pipe --close-wait 3 "GET /large.bin HTTP/1.1\\r\\nHost: x\\r\\nRange: bytes=0-9,100-109\\r\\n\\r\\nGET /small.bin HTTP/1.1\\r\\nHost: x\\r\\nRange: bytes=0-9,100-109\\r\\n\\r\\nGET /file.txt HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_sum pipe responses 3
th_expect_status pipe 206 1
th_expect_status pipe 206 2
th_expect_status pipe 200 3
th_expect_body pipe "$TH_ROOT/file.txt" 3
th_eq "pipe: parts of the large file" '0-9 100-109' \
    "$("$PYTHON3" -I -S "$TH_TMP/mp.py" "$TH_TMP/resp/pipe/1.head" "$TH_TMP/resp/pipe/1.body" "$LARGE" application/octet-stream)"
th_eq "pipe: parts of the small file" '0-9 100-109' \
    "$("$PYTHON3" -I -S "$TH_TMP/mp.py" "$TH_TMP/resp/pipe/2.head" "$TH_TMP/resp/pipe/2.body" "$SMALL" application/octet-stream)"
th_expect_closed pipe

# --- max_ranges = 2 by a reload
th_conf 'log_target = "stderr";' 'max_ranges = 2;'
chmod 644 "$TH_CONF"
th_signal HUP
th_check "reloaded with max_ranges = 2" th_wait_log '\[notice\] reloaded ' 5
multi reload-two /small.bin 'bytes=0-9,100-109' '0-9 100-109'
whole reload-three /small.bin 'bytes=0-9,100-109,200-209'
th_stop

# --- several ranges with the configuration's fields, its charset, and a
# precompressed sibling (sent whole: Content-Encoding on a multipart body
# would say the multipart body itself is encoded)
base64 -w 76 "$SMALL" >"$TH_ROOT/text.txt"
gzip -c "$TH_ROOT/text.txt" >"$TH_ROOT/text.txt.gz"
chmod a+r "$TH_ROOT/text.txt" "$TH_ROOT/text.txt.gz"
th_conf 'log_target = "stderr";' 'charset = "utf-8";' \
    'headers = ( { extension = "txt"; set = ( "Cache-Control: max-age=60" ); } );'
th_start
th_get text /text.txt -H 'Range: bytes=0-9,100-109'
th_expect_status text 206
th_expect_hdr text Cache-Control '^max-age=60$'
th_expect_hdr text Vary '^Accept-Encoding$'
th_eq "text: each part typed with the charset" '0-9 100-109' \
    "$("$PYTHON3" -I -S "$TH_TMP/mp.py" "$TH_TMP/resp/text/1.head" "$TH_TMP/resp/text/1.body" \
        "$TH_ROOT/text.txt" 'text/plain; charset=utf-8')"
th_get text-gz /text.txt -H 'Range: bytes=0-9,100-109' -H 'Accept-Encoding: gzip'
th_expect_status text-gz 200
th_expect_hdr text-gz Content-Encoding '^gzip$'
th_expect_no_hdr text-gz Content-Range
th_expect_body text-gz "$TH_ROOT/text.txt.gz"
th_stop

# --- HTTPS: the same through TLS (curl --cacert)
printf 'listen = "127.0.0.1:1";\ndocument_root = "/";\ntls_hsts = 0;\n' >"$TH_TMP/probe.conf"
if ! command -v openssl >/dev/null 2>&1; then
    echo "# no openssl: HTTPS part skipped"
elif "$TINYHTTPD" -t -c "$TH_TMP/probe.conf" 2>&1 | grep -q 'built without OpenSSL'; then
    echo "# built without OpenSSL: HTTPS part skipped"
else
    P=$TH_TMP/pki
    th_test_ca "$P"
    th_test_leaf leaf
    chmod -R a+rX "$P"
    TPORT=$(th_free_port)
    th_conf 'log_target = "stderr";' "tls_listen = [ \"127.0.0.1:$TPORT\" ];" \
        "tls_certificate = \"$P/leaf.pem\";" "tls_certificate_key = \"$P/leaf.key\";"
    th_start
    # tls NAME PATH RANGE EXPECTED-PARTS: as multi, over HTTPS
    tls() {
        local d=$TH_TMP/resp/$1
        rm -rf "$d"
        mkdir -p "$d"
        th_curl --cacert "$P/ca.pem" -D "$d/1.head" -o "$d/1.body" -H "Range: $3" \
            "https://localhost:$TPORT$2" --resolve "localhost:$TPORT:127.0.0.1" 2>"$d/curl.err" || true
        printf 'curl %s\n' "$(cat "$d/curl.err")" >"$d/summary"
        th_expect_status "$1" 206
        th_eq "$1: parts of $3 over HTTPS" "$4" "$(mp "$1" "$TH_ROOT$2")"
    }
    tls tls-small /small.bin 'bytes=0-99,200-299,-10' '0-99 200-299 2990-2999'
    tls tls-large /large.bin 'bytes=0-99,500000-500099,-100' '0-99 500000-500099 10485660-10485759'
    tls tls-large-slices /large.bin 'bytes=0-4999999,6000000-' '0-4999999 6000000-10485759'
fi

th_done
