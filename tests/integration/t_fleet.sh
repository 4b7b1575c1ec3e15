#!/bin/bash
# t_fleet.sh - a rolling restart behind HAProxy loses no request.  HAProxy
# (contrib/haproxy.cfg, addresses replaced) on loopback in front of two
# instances, HTTP health checks, keep-alive to the instances with
# http-reuse safe, retries of refused connections only (retry-on
# conn-failure).  Eight client threads put keep-alive load through HAProxy
# (files of three sizes, every body compared with the file) while the
# instances are restarted one after the other, six times in all: SIGTERM,
# wait for the exit, start again on the same port, wait until HAProxy has
# it back and it has served requests.  No request may fail.
. "$(dirname "$0")/lib.sh"

command -v haproxy >/dev/null 2>&1 || th_skip "haproxy not found"
th_init
HAPCFG_SRC=$TH_LIBDIR/../../contrib/haproxy.cfg
[ -f "$HAPCFG_SRC" ] || th_fatal "no contrib/haproxy.cfg at $HAPCFG_SRC"
FLEET=$TH_LIBDIR/fleet_load.py
RESTARTS=${FLEET_RESTARTS:-6}

head -c 300000 /dev/urandom >"$TH_ROOT/medium.bin"
FILES=(file.txt medium.bin big.bin index.html)

FRONT=$(th_free_port)
PORTS=("$(th_free_port)" "$(th_free_port)")
SOCK=$TH_TMP/haproxy.sock
HAPCFG=$TH_TMP/haproxy.cfg
sed -e "s#127.0.0.1:8080#127.0.0.1:$FRONT#" -e "s#127.0.0.1:8081#127.0.0.1:${PORTS[0]}#" \
    -e "s#127.0.0.1:8082#127.0.0.1:${PORTS[1]}#" -e "s#/run/haproxy/tinyhttpd.sock#$SOCK#" \
    "$HAPCFG_SRC" >"$HAPCFG"
th_check "the test's copy of contrib/haproxy.cfg names our ports" \
    grep -q "127.0.0.1:${PORTS[1]}" "$HAPCFG"
th_check "haproxy -c accepts it" haproxy -q -c -f "$HAPCFG"

# Two daemons at a time: th_keep and th_use (lib.sh) swap their state.
# th__cleanup reaps the daemon in use; the other one first.
fleet_cleanup() {
    local rc=$?
    trap - ERR # (returning rc is not a failure of its own)
    if [ -n "${TH_KEPT[1.DAEMON_SUP]-}" ] && [ "${TH_KEPT[1.DAEMON_SUP]}" != "$DAEMON_SUP" ]; then
        th_use 1
        daemon_reap
    fi
    th_use 0
    return "$rc"
}
trap 'fleet_cleanup; th__cleanup' EXIT

start_instance() {
    local i=$1 conf=$TH_TMP/web$1.conf
    # the defaults, then FLEET_CONF (to measure others)
    printf 'listen = [ "127.0.0.1:%s" ];\ndocument_root = "%s";\n%s\n' \
        "${PORTS[i]}" "$TH_ROOT" "${FLEET_CONF:-}" >"$conf"
    th_start "$TINYHTTPD" -c "$conf"
    th_keep "$i"
}

state() { "$PYTHON3" -I -S "$FLEET" state "$SOCK" 2>/dev/null; }
up() { [ "$(state | grep -c ' UP$')" = "$1" ]; }
up_web() { state | grep -q "^web$1 UP$"; }
served() { [ "$(grep -ac '"GET /' "$TH_LOG")" -ge "$1" ]; }

start_instance 0
start_instance 1
th_bg_start hap haproxy -f "$HAPCFG" -db
th_check "HAProxy has both instances up" th_poll 10 up 2

STOP=$TH_TMP/stop
th_bg_start load "$PYTHON3" -I -S "$FLEET" load --port "$FRONT" --threads 8 --root "$TH_ROOT" \
    --stopfile "$STOP" --max-seconds 120 "${FILES[@]}"
th_bg_expect load '^(READY|RESULT)' 10 || true
th_match "eight keep-alive clients are served through HAProxy" '^READY' "$TH_BG_LINE"

t0=$(th_now_ms)
for ((r = 1; r <= RESTARTS; r++)); do
    i=$(((r - 1) % 2))
    th_use "$i"
    # Both instances take traffic and hold idle keep-alive connections.
    th_check "restart $r: web$((i + 1)) has served requests" th_poll 10 served 100
    th_signal TERM
    if th_wait_exit 15; then
        th_eq "restart $r: web$((i + 1)) exits with status 0 after SIGTERM (${TH_STOP_MS} ms)" 0 "$TH_DEXIT"
    else
        th_fail "restart $r: web$((i + 1)) did not exit within 15 s of SIGTERM"
    fi
    th_stderr_clean
    start_instance "$i"
    th_check "restart $r: HAProxy has web$((i + 1)) back" th_poll 10 up_web $((i + 1))
done
: >"$STOP"
echo "# $RESTARTS restarts in $(($(th_now_ms) - t0)) ms"
th_bg_expect load '^RESULT' 30 || true
th_match "the load ran to its end" '^RESULT' "$TH_BG_LINE"
ok=$(awk '{ print $3 }' <<<"$TH_BG_LINE")
fail=$(awk '{ print $5 }' <<<"$TH_BG_LINE")
echo "# requests through HAProxy: $ok good, ${fail:-?} failed, over $RESTARTS restarts"
th_le "thousands of requests were made" 2000 "${ok:-0}"
th_eq "no request failed" 0 "$fail"
th_bg_wait load 10 || true
for i in 0 1; do
    th_use "$i"
    th_stop
    th_keep "$i"
done
th_done
