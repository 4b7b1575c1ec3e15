#!/bin/bash
# a_vanish.sh - clients that vanish, stall or half-close, and files that
# change while they are being sent.
#
# With pool_size = 2 (so one stuck worker would show) and send_timeout = 2:
#   A. clients reset (SO_LINGER 0) or close mid-response at various points
#      of a 64 MiB download;
#   B. clients send a request for the 64 MiB file and never read: the server
#      closes each of them about send_timeout after its socket buffer filled
#      (measured from /proc/net/tcp), and the clients then see a body cut
#      short;
#   C. clients send their requests (one, or three pipelined; keep-alive,
#      close, HTTP/1.0) and half-close (SHUT_WR): every response arrives
#      complete and byte-exact, then the server closes;
#   D. a 64 MiB file is truncated to 1 MiB while a client is reading it: the
#      server logs it and closes that connection (the body ends short);
#   E. a file is replaced (rename over it) while being sent: the response in
#      flight stays byte-exact to the old content, the next one is the new.
# During each, a steady download of another 24 MiB file must arrive
# byte-exact and normal requests must be answered within 1 s (no worker is
# blocked); afterwards the daemon is alive, holds no connection and no file
# (descriptor count back to where it was) and still answers.
. "$(dirname "$0")/abuselib.sh"

POOL=2
SEND_TIMEOUT=2
TH_STDERR_ALLOW='file truncated while sending'

th_init
th_conf "pool_size = $POOL;" "send_timeout = $SEND_TIMEOUT;" 'keepalive_timeout = 5;' \
    'header_timeout = 5;'
(
    cd "$TH_ROOT"
    head -c $((64 << 20)) /dev/urandom >big64.bin
    head -c $((24 << 20)) /dev/urandom >ref.bin
    head -c $((16 << 20)) /dev/urandom >repl.bin
    head -c $((20 << 20)) /dev/urandom >"$TH_TMP/repl.new"
)
sha() { sha256sum "$1" | awk '{ print $1 }'; }
sha_big=$(sha "$TH_ROOT/big64.bin")
sha_ref=$(sha "$TH_ROOT/ref.bin")
sha_file=$(sha "$TH_ROOT/file.txt")
sha_old=$(sha "$TH_ROOT/repl.bin")
sha_new=$(sha "$TH_TMP/repl.new")
th_start

ab_quick_get warmup /file.txt
fds0=$(th_fds)
threads0=$(th_threads)

# ---- what runs alongside every scenario

# during_start LABEL RATE: a download of ref.bin at a steady RATE (bytes/s)
# and a few timed normal requests, in the background.
during_start() {
    ab_bg ref download --path /ref.bin --rate "$2" --timeout 60
    ab_bg probe latency --n 6 --interval 0.25 --path /file.txt --timeout 30
}

# during_check LABEL: the download is complete and byte-exact, the requests
# were prompt.
during_check() {
    ab_bg_done probe 30 || th_fail "$1: probe client did not finish"
    echo "# $1: normal requests meanwhile: median $(th_bg_val median_ms) ms, max $(th_bg_val max_ms) ms"
    th_eq "$1: normal requests meanwhile answered 200" 0 "$(th_bg_val bad)"
    ab_ms_le "$1: normal requests meanwhile answered promptly" "$(th_bg_val max)" 1000
    ab_bg_done ref 60 || th_fail "$1: concurrent download did not finish"
    th_eq "$1: concurrent download complete and byte-exact" "200 $((24 << 20)) $((24 << 20)) $sha_ref" \
        "$(th_bg_val response)"
    th_eq "$1: concurrent download ended normally" complete "$(th_bg_val end)"
}

# after_check LABEL: alive, no connection or file left open, still serving.
after_check() {
    th_check "$1: daemon alive" ab_alive
    settled() { [ "$(th_fds)" -le "$fds0" ]; }
    if th_poll 10 settled; then
        th_ok "$1: descriptors back to $fds0"
    else
        th_fail "$1: daemon still has $(th_fds) descriptors (was $fds0)" "$(ls -l "/proc/$TH_DPID/fd" | tail -n +2)"
    fi
    th_eq "$1: thread count unchanged" "$threads0" "$(th_threads)"
}

# fetch_val KEY: like th_bg_val, over the output of the last ab_py fetch.
fetch_out=
fetch() { fetch_out=$(ab_py fetch --port "$TH_PORT" --timeout 30 "$@"); }
fetch_val() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); v = $0 } END { print v }' <<<"$fetch_out"; }
fetch_resp() { awk -v n="$1" '$1 == "response" && $2 == n { $1 = ""; $2 = ""; sub(/^  /, ""); print }' <<<"$fetch_out"; }

# ---- A: resets and plain closes in the middle of a response
during_start A 12000000
ab_bg rst reset --path /big64.bin --after 0,4096,1048576,8388608,33554432 --timeout 30
ab_bg fin reset --fin --path /big64.bin --after 0,4096,1048576,8388608,33554432 --timeout 30
for c in rst fin; do
    ab_bg_done $c 40 || th_fail "A: $c client did not finish"
    th_eq "A: $c: 5 clients went away mid-response" 5 "$(th_bg_val reset)"
    th_eq "A: $c: none cut short by the server" "" "$(th_bg_val problem)"
done
during_check A
after_check A

# ---- B: clients that stop reading
during_start B 8000000
stopB=$TH_TMP/stop.B
ab_bg stall stall --n 10 --path /big64.bin --rcvbuf 4096 --timeout 40 --stop-file "$stopB"
th_bg_expect stall '^READY' 10 || true
TH_BG_OUT=()
th_bg_expect stall '^close_ms_max' $((15 * AB_SLOW)) || true
closed=$(th_bg_val server_closed)
cmin=$(th_bg_val close_ms_min)
cmax=$(th_bg_val close_ms_max)
echo "# B: the server closed $closed of 10 stalled connections, $cmin..$cmax ms after their requests"
th_eq "B: the server closed every stalled connection" 10 "$closed"
th_le "B: not before send_timeout (ms)" $((SEND_TIMEOUT * 1000 - 50)) "${cmin:--1}"
th_le "B: at most 1.5 s after send_timeout (ms)" "${cmax:-99999}" $((SEND_TIMEOUT * 1000 + 1500 * AB_SLOW))
touch "$stopB"
ab_bg_done stall 30 || th_fail "B: stall client did not finish"
th_eq "B: every stalled client then saw its body cut short" 10 "$(th_bg_val cut)"
during_check B
after_check B

# ---- C: half-closed clients
during_start C 12000000
R='GET /ref.bin HTTP/1.1\r\nHost: x\r\n'
fetch --shut-wr --request "${R}Connection: close\r\n\r\n"
th_eq "C: close + SHUT_WR: complete, byte-exact" "200 $((24 << 20)) $((24 << 20)) $sha_ref" "$(fetch_resp 1)"
th_eq "C: close + SHUT_WR: then closed" closed "$(fetch_val end)"
fetch --shut-wr --request "${R}\r\n"
th_eq "C: keep-alive + SHUT_WR: complete, byte-exact" "200 $((24 << 20)) $((24 << 20)) $sha_ref" "$(fetch_resp 1)"
th_eq "C: keep-alive + SHUT_WR: then closed" closed "$(fetch_val end)"
fetch --shut-wr --request 'GET /ref.bin HTTP/1.0\r\n\r\n'
th_eq "C: HTTP/1.0 + SHUT_WR: complete, byte-exact" "200 $((24 << 20)) $((24 << 20)) $sha_ref" "$(fetch_resp 1)"
fetch --shut-wr --request 'GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /ref.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /big64.bin HTTP/1.1\r\nHost: x\r\n\r\n'
th_eq "C: 3 pipelined + SHUT_WR: 3 responses" 3 "$(fetch_val responses)"
th_eq "C: pipelined 1 byte-exact" "200 1024 1024 $sha_file" "$(fetch_resp 1)"
th_match "C: pipelined 2 (HEAD) has no body" "^200 $((24 << 20)) 0 " "$(fetch_resp 2)"
th_eq "C: pipelined 3 complete, byte-exact" "200 $((64 << 20)) $((64 << 20)) $sha_big" "$(fetch_resp 3)"
th_eq "C: pipelined + SHUT_WR: then closed" closed "$(fetch_val end)"
during_check C
after_check C

# ---- D: a file truncated while it is being sent
cp "$TH_ROOT/big64.bin" "$TH_ROOT/trunc.bin"
during_start D 12000000
ab_bg trunc fetch --request 'GET /trunc.bin HTTP/1.1\r\nHost: x\r\n\r\n' --pause-after $((1 << 20)) \
    --pause-file "$TH_TMP/pausedD" --resume-file "$TH_TMP/resumeD" --timeout 30
th_bg_expect trunc '^paused' 10 || th_fail "D: reader did not pause"
truncate -s $((1 << 20)) "$TH_ROOT/trunc.bin"
touch "$TH_TMP/resumeD"
ab_bg_done trunc 30 || th_fail "D: reader did not finish"
inc=$(th_bg_val incomplete)
echo "# D: reader got: ${inc:-a complete response}, end $(th_bg_val end)"
th_match "D: the body ended short of its Content-Length" "^200 $((64 << 20)) [0-9]+ " "$inc"
th_eq "D: the server closed that connection" closed "$(th_bg_val end)"
th_check "D: the truncation is logged" th_wait_log 'file truncated while sending to 127\.0\.0\.1' 5
during_check D
after_check D

# ---- E: a file replaced (renamed over) while it is being sent
during_start E 12000000
ab_bg repl fetch --request 'GET /repl.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    --pause-after $((1 << 20)) --pause-file "$TH_TMP/pausedE" --resume-file "$TH_TMP/resumeE" --timeout 30
th_bg_expect repl '^paused' 10 || th_fail "E: reader did not pause"
cp "$TH_TMP/repl.new" "$TH_ROOT/.repl.tmp"
mv -f "$TH_ROOT/.repl.tmp" "$TH_ROOT/repl.bin"
touch "$TH_TMP/resumeE"
ab_bg_done repl 30 || th_fail "E: reader did not finish"
th_eq "E: the response in flight is the old file, byte-exact" \
    "1 200 $((16 << 20)) $((16 << 20)) $sha_old" "$(th_bg_val response)"
th_eq "E: then closed" closed "$(th_bg_val end)"
fetch --request 'GET /repl.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
th_eq "E: the next response is the new file, byte-exact" "200 $((20 << 20)) $((20 << 20)) $sha_new" "$(fetch_resp 1)"
during_check E
after_check E

ab_quick_get final /index.html
th_done
