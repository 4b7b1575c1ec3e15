#!/bin/bash
# t_watchdog.sh - the service watchdog outside systemd: with WATCHDOG_USEC
# (and WATCHDOG_PID naming the daemon) set and NOTIFY_SOCKET pointing at
# the test's socket (run-notify), the daemon sends WATCHDOG=1 while it is
# healthy; when every worker hangs with jobs queued, the pings stop (and
# the daemon says so at err); when the workers move again, they resume.
# Without WATCHDOG_USEC, or with WATCHDOG_PID naming another process,
# nothing is sent.  Workers are made to hang with an LD_PRELOAD shim
# (tests/shim/worker_hang.c, built here with $CC) while a trigger file
# names the daemon's PID.
. "$(dirname "$0")/lib.sh"

# Started as root, the daemon runs as nobody and the shim reads the trigger
# with nobody's rights: a directory of this test's own under /tmp.
TH_TMPBASE=/tmp
th_init
chmod 755 "$TH_TMP"
th_shim worker_hang
shim=$TH_SHIM
th_conf 'pool_size = 2;' 'queue_size = 64;' 'access_log = false;'
trigger=$TH_TMP/trigger

pings() { grep -c '^WATCHDOG=1$' "$TH_NOTIFY_LOG" || true; }
statuses() { grep -c '^STATUS=' "$TH_NOTIFY_LOG" || true; }
pings_above() { [ "$(pings)" -gt "$1" ]; }
statuses_above() { [ "$(statuses)" -gt "$1" ]; }

# --- no watchdog: one STATUS= period (5 s) passes without a ping
quiet() {
    local name=$1 s0
    shift
    th_start "$@"
    s0=$(statuses)
    th_check "$name: a STATUS= update comes (the loop turns)" th_poll 10 statuses_above "$s0"
    th_eq "$name: no WATCHDOG=1 sent" 0 "$(pings)"
    th_stop
}
quiet "no WATCHDOG_USEC" env -u WATCHDOG_USEC -u WATCHDOG_PID "$TINYHTTPD" -c "$TH_CONF"
quiet "WATCHDOG_PID of another process" env WATCHDOG_USEC=300000 WATCHDOG_PID=1 \
    "$TINYHTTPD" -c "$TH_CONF"

# --- a watchdog of 600 ms: a ping every 200 ms while healthy
TH_STDERR_ALLOW='withholding the watchdog ping'
rm -f "$trigger"
# shellcheck disable=SC2016 # $$ is the shell's PID, which exec gives the daemon
th_start env LD_PRELOAD="$shim" WORKER_HANG_FILE="$trigger" WATCHDOG_USEC=600000 \
    sh -c 'WATCHDOG_PID=$$ exec "$0" "$@"' "$TINYHTTPD" -c "$TH_CONF"
th_check "the shim is loaded in the daemon" grep -q "$shim" "/proc/$TH_DPID/maps"
th_check "the watchdog interval is logged" th_wait_log 'service watchdog: 600 ms; pinging every 200 ms'
th_check "WATCHDOG=1 arrives while healthy" th_poll 5 pings_above 2
th_get before /file.txt
th_expect_status before 200
th_check "WATCHDOG=1 goes on after requests" th_poll 5 pings_above $(($(pings) + 2))
th_check "no ping withheld while healthy" sh -c "! grep -q withholding '$TH_LOG'"

# every worker hangs; requests queue behind them
echo "$TH_DPID" >"$trigger"
chmod 644 "$trigger"
for i in 1 2 3 4 5 6; do
    th_bg_start "req$i" curl -sS --max-time 30 -o /dev/null -w 'code %{http_code}\n' \
        "http://127.0.0.1:$TH_PORT/file.txt"
done
th_check "the stall is logged at err" th_wait_log '\[err\] no job finished for [0-9]+ ms with [0-9]+ queued; withholding the watchdog ping' 10
p0=$(pings)
s0=$(statuses)
th_check "a STATUS= update comes while the workers hang (the loop turns)" th_poll 10 statuses_above "$s0"
p1=$(pings)
th_le "no WATCHDOG=1 while every worker hangs with jobs queued (one may have been in flight)" \
    "$p1" $((p0 + 1))

# the workers move again
rm -f "$trigger"
th_check "the recovery is logged" th_wait_log 'watchdog pings resumed' 10
th_check "WATCHDOG=1 arrives again" th_poll 5 pings_above $((p1 + 2))
for i in 1 2 3 4 5 6; do
    if th_bg_expect "req$i" '^code' 10; then
        th_eq "queued request $i is answered" 'code 200' "$TH_BG_LINE"
    else
        th_fail "queued request $i got no answer"
    fi
    th_bg_wait "req$i" 5 || true
done
th_stop

th_done
