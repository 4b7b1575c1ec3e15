#!/bin/bash
# a_tlsgarbage.sh - garbage instead of a ClientHello is closed, harmlessly.
#
# On the HTTPS port, 20 connections each of: random bytes, zeros, a plain
# HTTP request, a truncated handshake record, a full-length record of
# garbage, application data before any handshake, a ClientHello whose
# length lies, and an SSLv2-style hello.  With header_timeout = 4, each
# must be closed by the server: those that cannot be the start of a TLS
# record at once (within 1.5 s), the truncated record (a slow client, for
# all the server can tell) at the header deadline, random bytes (which may
# look like the start of a record) by the deadline.  The plain HTTP request
# is answered with the plain-text 400; nothing else gets an HTTP answer,
# at most a TLS alert.  Meanwhile and
# afterwards normal HTTPS and plain requests are answered, the daemon is
# alive, the thread count unchanged and the descriptors back to the
# baseline.
. "$(dirname "$0")/abuselib.sh"

EACH=20
POOL=2
TIMEOUT=4
PROMPT="zeros http badbody appdata badlen sslv2"   # closed at once
KINDS="random truncated $PROMPT"

th_init
ab_tls_setup
th_conf "pool_size = $POOL;" "header_timeout = $TIMEOUT;" "${AB_TLS_CONF[@]}"
th_start
threads0=$(th_threads)
fds0=$(th_fds)
ab_tls_get warmup /file.txt

ab_tls_bg lat tls-latency --n 30 --interval 0.1 --path /file.txt --timeout 30
t0=$(th_now_ms)
ab_tls_py tls-garbage --kinds "${KINDS// /,}" --each $EACH --timeout $((TIMEOUT + 3 * AB_SLOW)) >"$TH_TMP/garbage.out" 2>&1
echo "# garbage sent and answered in $(($(th_now_ms) - t0)) ms"
sed 's/^/# /' "$TH_TMP/garbage.out"
for k in $KINDS; do
    line=$(grep "^garbage $k " "$TH_TMP/garbage.out")
    th_match "garbage '$k': every connection closed by the server" "closed $EACH open 0 " "$line"
    if [ "$k" = http ]; then
        th_match "plain HTTP on the HTTPS port: a plain-text 400 on each" "http400 $EACH " "$line"
    else
        th_match "garbage '$k': no HTTP answer" "http400 0 " "$line"
        th_match "garbage '$k': nothing but a TLS alert (if anything)" " other 0\$" "$line"
    fi
done
ms() { awk -v k="$1" '$1 == "garbage_ms" && $2 == k { print $3 }' "$TH_TMP/garbage.out"; }
for k in $PROMPT; do
    th_le "garbage '$k': closed at once (ms)" "$(ms "$k")" $((1500 * AB_SLOW))
done
th_le "truncated record: not closed before header_timeout (ms)" $((TIMEOUT * 1000 - 50)) "$(ms truncated)"
th_le "truncated record: closed at header_timeout (ms)" "$(ms truncated)" $((TIMEOUT * 1000 + 1500 * AB_SLOW))
th_le "random bytes: closed by header_timeout (ms)" "$(ms random)" $((TIMEOUT * 1000 + 1500 * AB_SLOW))
th_check "daemon alive after the garbage" ab_alive

ab_bg_done lat 30 || th_fail "latency client did not finish"
echo "# HTTPS requests beside the garbage: median $(th_bg_val median_ms) ms, max $(th_bg_val max_ms) ms"
th_eq "HTTPS requests beside the garbage all answered 200" 0 "$(th_bg_val bad)"

settled() { [ "$(th_fds)" -le "$fds0" ]; }
th_check "descriptors back to the baseline ($fds0)" th_poll 10 settled
th_eq "thread count unchanged" "$threads0" "$(th_threads)"
ab_tls_get after /file.txt
ab_quick_get after-plain /file.txt

th_stop
th_done
