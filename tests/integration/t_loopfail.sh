#!/bin/bash
# t_loopfail.sh - when epoll_wait fails, the event loop cannot go on: the
# daemon logs it at err ("epoll_wait: ...; the event loop cannot continue")
# and exits 1, so that a service manager restarts it (Restart=on-failure).
# The failure is injected with an LD_PRELOAD shim (tests/shim/epoll_fail.c,
# built here with $CC) that fails epoll_wait with EBADF once a trigger file
# exists; a second run fails it with EINVAL.
. "$(dirname "$0")/lib.sh"

# Started as root, the daemon runs as nobody and the shim then reads the
# trigger file with nobody's rights: keep it in a directory of this test's
# own under /tmp, which any user can reach.
TH_TMPBASE=/tmp
th_init
chmod 755 "$TH_TMP"
th_shim epoll_fail
shim=$TH_SHIM
th_conf 'pool_size = 2;'
trigger=$TH_TMP/trigger

# loop_fails NAME ERRNO MESSAGE: start the daemon with the shim, check that
# it serves, pull the trigger, check its exit status and log.
loop_fails() {
    local name=$1 errno=$2 msg=$3 pid
    rm -f "$trigger"
    th_start env LD_PRELOAD="$shim" EPOLL_FAIL_FILE="$trigger" EPOLL_FAIL_ERRNO="$errno" \
        "$TINYHTTPD" -c "$TH_CONF"
    pid=$TH_DPID
    th_check "$name: the shim is loaded in the daemon" grep -q "$shim" "/proc/$pid/maps"
    th_get "$name-before" /file.txt
    th_expect_status "$name-before" 200
    echo "$pid" >"$trigger"
    if th_wait_exit 10; then
        th_eq "$name: the daemon exits with status 1 when epoll_wait fails" 1 "$TH_DEXIT"
    else
        th_fail "$name: the daemon did not exit within 10 s of epoll_wait failing (killed)"
    fi
    th_check "$name: logged at err: epoll_wait: $msg; the event loop cannot continue" \
        grep -aqE "\\[err\\] epoll_wait: $msg; the event loop cannot continue" "$TH_LOG"
}
loop_fails ebadf 9 'Bad file descriptor'
loop_fails einval 22 'Invalid argument'

# the trigger names another process: the daemon is not disturbed
echo 1 >"$trigger"
th_start env LD_PRELOAD="$shim" EPOLL_FAIL_FILE="$trigger" "$TINYHTTPD" -c "$TH_CONF"
th_get other /file.txt
th_expect_status other 200
th_stop

th_done
