#!/bin/bash
# t_reuseport.sh - reuse_port = true: a second instance binds the port of a
# running one, and handing over from the old to the new loses no request.
# Eight keep-alive client threads load the port, each opening a new
# connection after every fifth request (so that connections keep arriving
# at both listeners, and some wait in the old one's queue at its SIGTERM) (files of three sizes,
# every body compared with the file) while, four times, a new instance is
# started on the same port and then the old one gets SIGTERM.  Without
# reuse_port the second instance cannot start.

# The kernel resets the connections a listener of a SO_REUSEPORT group
# still has when it closes (a handshake completing at that moment) unless
# net.ipv4.tcp_migrate_req = 1 passes them to another listener of the
# group.  Where it is 0, the test runs in a network namespace of its own
# with it set (as root); without root, it is skipped.
MIGRATE=/proc/sys/net/ipv4/tcp_migrate_req
if [ -z "${TH_NETNS:-}" ] && [ "$(cat "$MIGRATE" 2>/dev/null)" != 1 ]; then
    [ -f "$MIGRATE" ] || { echo "SKIP: no $MIGRATE (Linux 5.14 or later)"; exit 77; }
    if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
        unshare -n true 2>/dev/null; then
        echo "# in a network namespace with net.ipv4.tcp_migrate_req = 1"
        exec unshare -n env TH_NETNS=1 bash -c \
            'ip link set lo up && echo 1 >"$1" && exec bash "$0"' "$0" "$MIGRATE"
    fi
    echo "SKIP: net.ipv4.tcp_migrate_req is 0, and setting it in a namespace needs root"
    exit 77
fi
. "$(dirname "$0")/lib.sh"

th_init
FLEET=$TH_LIBDIR/fleet_load.py
head -c 300000 /dev/urandom >"$TH_ROOT/medium.bin"
FILES=(file.txt medium.bin big.bin index.html)

# Two daemons at a time: th_keep and th_use (lib.sh) swap their state.
fleet_cleanup() {
    local rc=$?
    trap - ERR # (returning rc is not a failure of its own) i
    for i in 0 1; do
        if [ -n "${TH_KEPT[$i.DAEMON_SUP]-}" ] && [ "${TH_KEPT[$i.DAEMON_SUP]}" != "$DAEMON_SUP" ]; then
            th_use "$i"
            daemon_reap
        fi
    done
    return "$rc"
}
trap 'fleet_cleanup; th__cleanup' EXIT
served() { [ "$(grep -ac '"GET /' "$TH_LOG")" -ge "$1" ]; }

# ------------------------------------------------------------ without it
th_conf
th_start
th_keep 0
th_spawn "$TINYHTTPD" -c "$TH_CONF"
if th_ready; then
    th_fail "a second instance started on the port without reuse_port"
    th_stop
else
    th_check "without reuse_port a second instance cannot bind the port" \
        grep -aq 'in use' "$TH_LOG"
fi
th_use 0
th_stop

# ------------------------------------------------------------ with it
th_conf 'reuse_port = true;'
th_start
th_keep 0
STOP=$TH_TMP/stop
th_bg_start load "$PYTHON3" -I -S "$FLEET" load --port "$TH_PORT" --threads 8 --root "$TH_ROOT" \
    --stopfile "$STOP" --max-seconds 120 --close-every 5 "${FILES[@]}"
th_bg_expect load '^(READY|RESULT)' 10 || true
th_match "eight keep-alive clients are served" '^READY' "$TH_BG_LINE"

old=0
for ((r = 1; r <= 4; r++)); do
    new=$((1 - old))
    th_start
    th_keep "$new"
    th_check "handover $r: the new instance serves requests beside the old one" th_poll 10 served 50
    th_use "$old"
    th_signal TERM
    if th_wait_exit 15; then
        th_eq "handover $r: the old instance exits with status 0 (${TH_STOP_MS} ms)" 0 "$TH_DEXIT"
    else
        th_fail "handover $r: the old instance did not exit within 15 s of SIGTERM"
    fi
    th_stderr_clean
    th_keep "$old"
    th_use "$new"
    old=$new
done
: >"$STOP"
th_bg_expect load '^RESULT' 30 || true
th_match "the load ran to its end" '^RESULT' "$TH_BG_LINE"
ok=$(awk '{ print $3 }' <<<"$TH_BG_LINE")
fail=$(awk '{ print $5 }' <<<"$TH_BG_LINE")
echo "# requests: $ok good, ${fail:-?} failed, over 4 handovers"
th_le "thousands of requests were made" 2000 "${ok:-0}"
th_eq "no request failed" 0 "$fail"
th_bg_wait load 10 || true
th_stop
th_done
