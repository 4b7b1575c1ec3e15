#!/bin/bash
# a_tlsstall.sh - 1 000 stalled TLS handshakes hold no worker.
#
# With pool_size = 2 and header_timeout = 5, 1 000 connections to the HTTPS
# port stall in the handshake: half send the first 100 bytes of a
# ClientHello and nothing more, half a whole ClientHello and never answer
# the server's flight.  Once the server has sent its flight to every one
# of those (its key exchange work done), 40 normal HTTPS requests (each on a new
# connection, so each a full handshake), one every 150 ms, must be answered
# 200 with p99 under 1 s; the thread count stays pool_size + 1 throughout;
# every stalled connection is closed by the server at its header deadline
# (not before 5 s from its connect, at most 2 s later); afterwards the
# daemon's descriptors are back to the baseline.
. "$(dirname "$0")/abuselib.sh"

CONNS=${AB_TLSSTALL_CONNS:-1000}
POOL=2
TIMEOUT=5

nofile=$(ab_nofile $((CONNS + 1024)))
[ "$nofile" -ge $((CONNS + 256)) ] ||
    th_skip "the open file limit ($nofile, hard $(ulimit -Hn)) is too low for $CONNS connections"

th_init
ab_tls_setup
th_conf "pool_size = $POOL;" "max_connections = $((CONNS * 2));" "header_timeout = $TIMEOUT;" \
    'keepalive_timeout = 10;' "${AB_TLS_CONF[@]}"
th_start

threads0=$(th_threads)
fds0=$(th_fds)
th_eq "threads at start: pool_size + 1" $((POOL + 1 + AB_EXTRA_THREADS)) "$threads0"
ab_tls_get warmup /file.txt

t0=$(th_now_ms)
ab_tls_bg stall tls-stall --conns "$CONNS" --kinds partial,hello --timeout $((TIMEOUT + 20 * AB_SLOW))
th_bg_expect stall '^READY' $((20 * AB_SLOW)) || true
th_match "$CONNS connections stalled in the handshake" "^READY $CONNS\$" "$TH_BG_LINE"
echo "# $CONNS stalled handshakes opened in $(($(th_now_ms) - t0)) ms"

# the normal requests, while the stalled connections are held and then
# closed; threads and descriptors sampled meanwhile
ab_tls_bg lat tls-latency --n 40 --interval 0.15 --path /file.txt --timeout 40
ab_sample_until_gone lat
ab_bg_done lat 10 || th_fail "latency client did not finish"
bad=$(th_bg_val bad)
echo "# HTTPS requests beside $CONNS stalled handshakes: median $(th_bg_val median_ms) ms," \
    "p99 $(th_bg_val p99_ms) ms, max $(th_bg_val max_ms) ms, ${bad:-?} failed"
th_eq "normal HTTPS requests all answered 200" 0 "${bad:-none}"
p99=$(th_bg_val p99)
ab_ms_le "p99 latency of HTTPS requests beside stalled handshakes" "${p99:-99999}" 1000
echo "# threads over $samples samples: min $tmin, max $tmax; daemon fds at most $fmax (base $fds0)"
th_eq "thread count constant beside stalled handshakes (min)" $((POOL + 1 + AB_EXTRA_THREADS)) "$tmin"
th_eq "thread count constant beside stalled handshakes (max)" $((POOL + 1 + AB_EXTRA_THREADS)) "$tmax"
th_le "daemon held (nearly) all stalled handshakes at once" $((fds0 + CONNS * 9 / 10)) "$fmax"

ab_bg_done stall $((TIMEOUT + 25 * AB_SLOW)) || th_fail "stall client did not finish"
echo "# stalled handshakes closed by the server: $(th_bg_val closed) of $CONNS, $(th_bg_val open) left open;" \
    "after min $(th_bg_val close_ms_min), median $(th_bg_val close_ms_median), max $(th_bg_val close_ms_max) ms"
for k in partial hello; do echo "# $k: $(th_bg_val "kind_$k")"; done
th_eq "every stalled handshake was closed by the server" "$CONNS" "$(th_bg_val closed)"
th_le "no stalled handshake closed before header_timeout (ms)" $((TIMEOUT * 1000 - 50)) "$(th_bg_val close_ms_min)"
th_le "stalled handshakes closed at most 2 s after header_timeout (ms)" "$(th_bg_val close_ms_max)" \
    $((TIMEOUT * 1000 + 2000 * AB_SLOW))

settled() { [ "$(th_fds)" -le "$fds0" ]; }
th_check "descriptors back to the baseline ($fds0)" th_poll 10 settled
th_eq "thread count unchanged afterwards" $((POOL + 1 + AB_EXTRA_THREADS)) "$(th_threads)"
ab_tls_get after /file.txt

th_done
