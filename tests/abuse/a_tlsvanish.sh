#!/bin/bash
# a_tlsvanish.sh - HTTPS clients that vanish mid-handshake and mid-response.
#
# 30 rounds of: a client that sends a ClientHello and resets (SO_LINGER 0)
# as soon as the server's first byte arrives; one that reads the server's
# whole first flight and resets instead of finishing the handshake; and
# three that complete the handshake, GET the 1 MiB big.bin through a small
# receive buffer and reset after 0, 64 KiB and 512 KiB of the body (while
# the server is in the middle of SSL_write).  Meanwhile normal HTTPS
# requests are answered; afterwards the daemon is alive, its descriptors
# are back to the baseline and its thread count unchanged, and it exits 0
# with a clean log.
#
# This test found a worker spinning at 100 % CPU when the client reset
# while its response was being written over TLS (SSL_write failing with
# EPIPE was taken for a zero-byte write and retried for ever); the
# descriptor and stop checks below are what catch that.
. "$(dirname "$0")/abuselib.sh"

ROUNDS=${AB_TLSVANISH_ROUNDS:-30}
POOL=2

th_init
ab_tls_setup
th_conf "pool_size = $POOL;" 'header_timeout = 10;' 'send_timeout = 10;' "${AB_TLS_CONF[@]}"
th_start
threads0=$(th_threads)
fds0=$(th_fds)
ab_tls_get warmup /big.bin

ab_tls_bg lat tls-latency --n 40 --interval 0.1 --path /file.txt --timeout 60
t0=$(th_now_ms)
ab_tls_py tls-vanish --rounds "$ROUNDS" --after 0,65536,524288 --path /big.bin \
    --timeout $((60 * AB_SLOW)) >"$TH_TMP/vanish.out" 2>&1
echo "# $ROUNDS rounds of vanishing clients in $(($(th_now_ms) - t0)) ms"
sed 's/^/# /' "$TH_TMP/vanish.out"
v() { awk -v k="$1" '$1 == "vanish" && $2 == k { print $4 }' "$TH_TMP/vanish.out"; }
th_eq "clients reset mid-handshake after the server's first byte" "$ROUNDS" "$(v hello)"
th_eq "clients reset after the server's first flight" "$ROUNDS" "$(v flight)"
th_eq "clients reset mid-response" $((ROUNDS * 3)) "$(v response)"
th_eq "no client saw the server close first" "problems 0" "$(grep '^problems' "$TH_TMP/vanish.out")"
th_check "daemon alive after the vanishing clients" ab_alive

ab_bg_done lat 60 || th_fail "latency client did not finish"
echo "# HTTPS requests beside vanishing clients: median $(th_bg_val median_ms) ms, max $(th_bg_val max_ms) ms"
th_eq "HTTPS requests beside vanishing clients all answered 200" 0 "$(th_bg_val bad)"

settled() { [ "$(th_fds)" -le "$fds0" ]; }
th_check "descriptors back to the baseline ($fds0)" th_poll 15 settled
th_eq "thread count unchanged" "$threads0" "$(th_threads)"
ab_tls_get after /file.txt

th_stop
th_done
