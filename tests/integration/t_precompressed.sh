#!/bin/bash
# t_precompressed.sh - precompressed siblings (key precompressed): a request
# for F that accepts br, zstd or gzip gets F.br, F.zst or F.gz when it is a
# regular file beside F, with Content-Encoding, its own length and ETag, F's
# media type, and Vary: Accept-Encoding on every representation of F.
# q-values (q=0 refuses, "*", identity;q=0), Range, If-None-Match and HEAD
# apply to the representation sent; a sibling that is a directory or a
# symlink out of the root is ignored; F.gz asked for by name is a plain file;
# the cache sees a sibling replaced, created and deleted at the next request;
# a missing F does not stop its sibling from being sent;
# precompressed = false turns it all off.
. "$(dirname "$0")/lib.sh"

th_init
R=$TH_ROOT
# The sibling contents are marked, so a test can tell which file was sent
# (real compressed data is not needed: the server never decodes it).
printf 'var app = "identity";\n' >"$R/app.js"
printf 'BR-app\n' >"$R/app.js.br"
printf 'ZSTD-app\n' >"$R/app.js.zst"
printf 'GZIP-app-longer\n' >"$R/app.js.gz"
printf 'plain\n' >"$R/plain.css"
printf 'only-gz\n' >"$R/gzonly.txt"
printf 'GZ-only-gz\n' >"$R/gzonly.txt.gz"
printf '<p>index</p>\n' >"$R/sub/index.html"
printf 'BR-index\n' >"$R/sub/index.html.br"
printf 'dir-sibling\n' >"$R/dirsib.js"
mkdir "$R/dirsib.js.br"
printf 'link-sibling\n' >"$R/linksib.js"
printf 'th-outside-secret\n' >"$TH_OUTSIDE/linksib.br"
ln -s "$TH_OUTSIDE/linksib.br" "$R/linksib.js.br"
# larger than the small-file cache: served from a descriptor
head -c 20000 /dev/urandom >"$R/big.bin"
head -c 12000 /dev/urandom >"$R/big.bin.br"
th_conf
th_start

# ae NAME PATH ACCEPT-ENCODING [curl args]
ae() { local n=$1 p=$2 a=$3; shift 3; th_get "$n" "$p" -H "Accept-Encoding: $a" "$@"; }

# sent NAME FILE CODING: 200 with FILE's bytes, Content-Encoding CODING ("" for none),
# F's type and Vary
sent() {
    th_expect_status "$1" 200
    th_expect_body "$1" "$2"
    if [ -n "$3" ]; then th_expect_hdr "$1" Content-Encoding "^$3\$"; else th_expect_no_hdr "$1" Content-Encoding; fi
    th_expect_hdr "$1" Content-Length "^$(wc -c <"$2")\$"
    th_expect_hdr "$1" Vary '^Accept-Encoding$'
}

ae chrome /app.js 'gzip, deflate, br, zstd'
sent chrome "$R/app.js.br" br
th_expect_hdr chrome Content-Type '^(text|application)/javascript'
ae gzip /app.js 'gzip'
sent gzip "$R/app.js.gz" gzip
ae zstd /app.js 'zstd, gzip'
sent zstd "$R/app.js.zst" zstd
ae xgzip /app.js 'x-gzip'
sent xgzip "$R/app.js.gz" gzip
th_get none /app.js
sent none "$R/app.js" ""
ae deflate /app.js 'deflate'
sent deflate "$R/app.js" ""

# q-values: q=0 refuses, the server's order decides among the rest
ae br-refused /app.js 'br;q=0, zstd;q=0, gzip;q=0.5'
sent br-refused "$R/app.js.gz" gzip
ae star /app.js 'br;q=0, *'
sent star "$R/app.js.zst" zstd
ae star-zero /app.js '*;q=0'
sent star-zero "$R/app.js" ""
ae q-low /app.js 'gzip;q=1, br;q=0.001'
sent q-low "$R/app.js.br" br
ae q-bad /app.js 'br;q=1.5, gzip;q=0.0001, zstd;q=abc'
sent q-bad "$R/app.js" ""
ae q-case /app.js 'BR ; Q=0.9'
sent q-case "$R/app.js.br" br
ae identity-refused /app.js 'identity;q=0'
sent identity-refused "$R/app.js" ""
ae identity-refused-gz /app.js 'identity;q=0, gzip'
sent identity-refused-gz "$R/app.js.gz" gzip

# two Accept-Encoding fields are one list
th_req twofields --close-wait 3 "GET /app.js HTTP/1.1\\r\\nHost: x\\r\\nAccept-Encoding: br;q=0\\r\\nAccept-Encoding: *\\r\\nConnection: close\\r\\n\\r\\n"
th_expect_hdr twofields Content-Encoding '^zstd$'

# ETags differ per representation; conditionals apply to the one sent
ae e-br /app.js br
ae e-id /app.js identity
etag_br=$(th_hdr e-br ETag)
etag_id=$(th_hdr e-id ETag)
th_match "the br ETag is marked" '^".*-br"$' "$etag_br"
th_check "br and identity ETags differ" test "$etag_br" != "$etag_id"
ae inm-br /app.js br -H "If-None-Match: $etag_br"
th_expect_status inm-br 304
th_expect_hdr inm-br Vary '^Accept-Encoding$'
th_expect_hdr inm-br ETag "^$etag_br\$"
ae inm-cross /app.js gzip -H "If-None-Match: $etag_br"
th_expect_status inm-cross 200
th_expect_body inm-cross "$R/app.js.gz"

# Range and If-Range apply to the compressed bytes
ae range-br /app.js br -H 'Range: bytes=0-1'
th_expect_status range-br 206
th_expect_hdr range-br Content-Range "^bytes 0-1/$(wc -c <"$R/app.js.br")\$"
th_eq "range-br: the first two bytes of app.js.br" "BR" "$(cat "$(th_body range-br)")"
ae ifrange-id /app.js br -H 'Range: bytes=0-1' -H "If-Range: $etag_id"
th_expect_status ifrange-id 200
th_expect_body ifrange-id "$R/app.js.br"

# HEAD: the variant's head, no body
ae head-br /app.js br -I
th_expect_status head-br 200
th_expect_hdr head-br Content-Encoding '^br$'
th_expect_hdr head-br Content-Length "^$(wc -c <"$R/app.js.br")\$"

# large files (sendfile) too
ae big /big.bin br
sent big "$R/big.bin.br" br

# a directory's index file has siblings too
ae index /sub/ br
sent index "$R/sub/index.html.br" br
th_expect_hdr index Content-Type '^text/html'

# a file without siblings: no Vary; only a gz sibling: Vary even for identity
ae plain /plain.css 'br, gzip'
th_expect_status plain 200
th_expect_no_hdr plain Vary
th_expect_no_hdr plain Content-Encoding
ae gzonly-id /gzonly.txt br
sent gzonly-id "$R/gzonly.txt" ""

# F.gz by name is a plain file of its own type, without Content-Encoding
ae byname /app.js.gz 'gzip'
th_expect_status byname 200
th_expect_body byname "$R/app.js.gz"
th_expect_no_hdr byname Content-Encoding

# bad siblings: a directory, a symlink out of the root
# (neither is a sibling: no Content-Encoding and no Vary)
ae dirsib /dirsib.js br
th_expect_body dirsib "$R/dirsib.js"
th_expect_no_hdr dirsib Content-Encoding
th_expect_no_hdr dirsib Vary
ae dirsib-again /dirsib.js br
th_expect_body dirsib-again "$R/dirsib.js"
th_expect_no_hdr dirsib-again Content-Encoding
ae linksib /linksib.js br
th_expect_status linksib 200
th_expect_body linksib "$R/linksib.js"
th_expect_no_hdr linksib Content-Encoding
th_expect_no_hdr linksib Vary
th_nomatch "no content from outside the root" 'th-outside-secret' "$(cat "$(th_body linksib)")"

# the cache: a sibling replaced, created, deleted is seen at the next request
printf 'BR-app-v2, longer\n' >"$R/app.js.br.new" && mv "$R/app.js.br.new" "$R/app.js.br"
ae replaced /app.js br
sent replaced "$R/app.js.br" br
printf 'BR-app-v3, same\n' >"$R/app.js.br"
ae rewritten /app.js br
sent rewritten "$R/app.js.br" br
ae before-create /plain.css br
th_expect_no_hdr before-create Content-Encoding
ae before-create2 /plain.css br
th_expect_no_hdr before-create2 Content-Encoding
printf 'BR-plain\n' >"$R/plain.css.br"
ae created /plain.css br
sent created "$R/plain.css.br" br
th_expect_hdr created Content-Type '^text/css'
rm "$R/plain.css.br"
ae deleted /plain.css br
th_expect_status deleted 200
th_expect_body deleted "$R/plain.css"
th_expect_no_hdr deleted Vary

# F itself missing: a client that accepts the coding still gets the sibling
# (as with nginx's gzip_static), the same whether the sibling is in the cache
# (the short way, which does not open F) or not; others get 404
printf 'orphan-BR\n' >"$R/orphan.js.br"
ae orphan-cold /orphan.js br
sent orphan-cold "$R/orphan.js.br" br
th_expect_hdr orphan-cold Content-Type '^(text|application)/javascript'
ae orphan-warm /orphan.js br
sent orphan-warm "$R/orphan.js.br" br
th_get orphan-identity /orphan.js
th_expect_status orphan-identity 404
printf 'var gone;\n' >"$R/gone.js"
printf 'gone-BR\n' >"$R/gone.js.br"
ae gone-cached /gone.js br
sent gone-cached "$R/gone.js.br" br
rm "$R/gone.js"
ae gone-after /gone.js br
sent gone-after "$R/gone.js.br" br
th_get gone-identity /gone.js
th_expect_status gone-identity 404

# precompressed = false: F for everyone, no Vary
th_stop
th_conf 'precompressed = false;'
th_start
ae off /app.js 'br, gzip'
th_expect_status off 200
th_expect_body off "$R/app.js"
th_expect_no_hdr off Content-Encoding
th_expect_no_hdr off Vary

th_done
