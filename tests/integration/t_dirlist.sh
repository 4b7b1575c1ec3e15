#!/bin/bash
# t_dirlist.sh - directory_listing: off by default (403 as before); when on,
# a directory without an index file gets an HTML listing with names escaped
# for HTML (a&b<c>.txt, quotes) and percent-encoded in links (%, spaces,
# UTF-8), sizes and modification times, directories first then byte order,
# hidden names left out, and symlinks that leave the root (or lead nowhere)
# neither listed nor followed; a directory with an index still gets it, the
# trailing-slash 301 stays, HEAD has GET's length, a reload turns it off.
# A directory of 100 000 entries is listed in full; the time it takes, and
# that of a request answered meanwhile, are reported (not asserted).
. "$(dirname "$0")/lib.sh"

# Started as root, the daemon serves as nobody and a reload re-reads the
# configuration with those rights: keep the files where any user reads them.
TH_TMPBASE=/tmp

th_init
chmod 755 "$TH_TMP"
L=$TH_ROOT/list
mkdir -p "$L/zdir" "$L/adir" "$L/.hiddendir" "$TH_OUTSIDE/dir"
chmod -R a+rX "$TH_ROOT" "$TH_OUTSIDE"
(
    cd "$L"
    printf 'x' >'a&b<c>.txt'
    printf 'x' >'100%.txt'
    printf 'x' >'with space.txt'
    printf 'x' >$'caf\xc3\xa9.txt'
    printf 'x' >"q\"'.txt"
    printf 'x' >'B.txt'
    printf 'x' >.hidden
    head -c 1234 /dev/zero >sized.txt
    touch -d '2001-02-03 04:05:06 UTC' sized.txt
    ln -s ../file.txt in-link
    ln -s ../../outside/secret.txt out-link
    ln -s "$TH_OUTSIDE/secret.txt" out-abs-link
    ln -s ../../outside/dir out-dir-link
    ln -s nowhere dangling-link
    mkfifo fifo
)
chmod -R a+rX "$TH_ROOT"
th_conf 'log_target = "stderr";'
th_start

# --- off by default: as before
th_get off /noindex/
th_expect_status off 403
th_get off-list /list/
th_expect_status off-list 403
th_stop

th_conf 'log_target = "stderr";' 'directory_listing = true;'
th_start

th_get list /list/
th_expect_status list 200
th_expect_hdr list Content-Type '^text/html'
B=$(th_body list)
th_eq "list: Content-Length is the body's" "$(wc -c <"$B")" "$(th_hdr list Content-Length)"
th_expect_body_has list '<title>Index of /list/</title>'
th_expect_body_has list '<a href="a%26b%3Cc%3E.txt">a&amp;b&lt;c&gt;.txt</a>'
th_expect_body_has list '<a href="100%25.txt">100%.txt</a>'
th_expect_body_has list '<a href="with%20space.txt">with space.txt</a>'
th_expect_body_has list $'<a href="caf%C3%A9.txt">caf\xc3\xa9.txt</a>'
th_expect_body_has list '<a href="q%22%27.txt">q&quot;&#39;.txt</a>'
th_expect_body_has list '<a href="sized.txt">sized.txt</a></td><td>1234</td><td>2001-02-03 04:05</td>'
th_expect_body_has list '<a href="in-link">in-link</a></td><td>1024</td>'
th_expect_body_has list '<a href="adir/">adir/</a></td><td>-</td>'
for n in hidden hiddendir out-link out-abs-link out-dir-link dangling-link fifo; do
    if grep -aq -- "$n" "$B"; then th_fail "list: $n is not listed" "$(grep -a -- "$n" "$B")"; else th_ok "list: $n is not listed"; fi
done
order=$(grep -ao 'href="[^"]*"' "$B" | sed 's/^href="//; s/"$//' | tr '\n' ' ')
th_eq "list: parent, directories, then files in byte order" \
    '../ adir/ zdir/ 100%25.txt B.txt a%26b%3Cc%3E.txt caf%C3%A9.txt in-link q%22%27.txt sized.txt with%20space.txt ' \
    "$order"

# the links work, and links out of the root are not followed
th_get follow-in '/list/in-link'
th_expect_status follow-in 200
th_expect_body follow-in "$TH_ROOT/file.txt"
th_get follow-encoded '/list/a%26b%3Cc%3E.txt'
th_expect_status follow-encoded 200
th_get follow-out-dir '/list/out-dir-link/'
th_expect_status follow-out-dir 404
th_get follow-out '/list/out-link'
th_expect_status follow-out 404
th_get empty /list/zdir/
th_expect_status empty 200
th_eq "empty: only the parent link" 'href="../"' "$(grep -ao 'href="[^"]*"' "$(th_body empty)" | tr '\n' ' ' | sed 's/ $//')"
th_get root-list /noindex/
th_expect_body_has root-list '<a href="a.txt">a.txt</a>'

# a directory with an index gets the index; no slash still gets the 301
th_get with-index /sub/
th_expect_body_has with-index 'th-index-sub'
th_get no-slash /list
th_expect_status no-slash 301
th_expect_hdr no-slash Location '/list/$'
# a hidden directory is not listed either
th_get hidden-dir /list/.hiddendir/
th_expect_status hidden-dir 404

# HEAD: the same length, no body
th_get head /list/ -I
th_expect_status head 200
th_eq "head: Content-Length as for GET" "$(th_hdr list Content-Length)" "$(th_hdr head Content-Length)"

# --- 100 000 entries
mkdir "$TH_ROOT/many"
"$PYTHON3" -I -S -c '
import os, sys
d = sys.argv[1]
for i in range(100000):
    os.close(os.open("%s/entry-%06d.txt" % (d, i), os.O_CREAT | os.O_WRONLY, 0o644))
' "$TH_ROOT/many"
chmod -R a+rX "$TH_ROOT/many"
# a small request alone, then the listing in the background and the same request meanwhile
t0=$(th_now_ms)
th_get alone /file.txt
t1=$(th_now_ms)
th_expect_status alone 200
alone_ms=$((t1 - t0))
th_bg_start many "$PYTHON3" -I -S -c '
import subprocess, sys, time
t = time.monotonic()
r = subprocess.run(["curl", "-sS", "--max-time", "60", "-o", sys.argv[2], "-w", "%{http_code}",
                    "http://127.0.0.1:%s/many/" % sys.argv[1]], capture_output=True, text=True)
print("many %s %.0f" % (r.stdout, (time.monotonic() - t) * 1000), flush=True)
' "$TH_PORT" "$TH_TMP/many.html"
t0=$(th_now_ms)
th_get during /file.txt
t1=$(th_now_ms)
th_expect_status during 200
if th_bg_expect many '^many ' 60; then
    set -- $TH_BG_LINE
    th_eq "many: status" 200 "$2"
    echo "# 100000 entries: listing answered in $3 ms; a request sent meanwhile took $((t1 - t0)) ms (alone: $alone_ms ms)"
    th_eq "many: every entry listed" 100000 "$(grep -c 'href="entry-' "$TH_TMP/many.html")"
    th_eq "many: first and last in order" 'entry-000000.txt entry-099999.txt' \
        "$(grep -o 'href="entry-[0-9]*.txt' "$TH_TMP/many.html" | sed -n '1p;$p' | sed 's/href="//' | tr '\n' ' ' | sed 's/ $//')"
    echo "# listing page: $(wc -c <"$TH_TMP/many.html") bytes"
    # the server's own time, from the access log (its last field, in microseconds)
    if th_wait_log '"GET /many/ HTTP/1.1" 200 ' 5; then
        us=$(grep -a '"GET /many/ HTTP/1.1" 200 ' "$TH_LOG" | tail -n 1 | awk '{ print $NF }')
        echo "# 100000 entries: the daemon took $((us / 1000)) ms from request to last byte"
    fi
else
    th_fail "many: no answer to the listing of 100000 entries within 60 s"
fi
th_bg_wait many 10 || true

# --- a reload turns it off
th_conf 'log_target = "stderr";'
chmod 644 "$TH_CONF"
th_signal HUP
th_check "reloaded without directory_listing" th_wait_log '\[notice\] reloaded ' 5
th_get off-again /list/
th_expect_status off-again 403

th_done
