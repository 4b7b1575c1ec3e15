#!/bin/bash
# container-lib.sh - sourced by the scripts that run INSIDE a booted systemd
# container (in-container*.sh, package-in-container.sh): steps, failure
# with the units' journal, and bounded polling.  UNITS names the units
# whose journal a failure shows (default: the service and its socket).
UNITS=${UNITS:-tinyhttpd.service tinyhttpd.socket}
step() { echo "== $*"; }
fail() {
    local u args=()
    echo "FAIL: $*"
    for u in $UNITS; do args+=(-u "$u"); done
    journalctl --no-pager "${args[@]}" -b | tail -n 40
    exit 1
}
# wait_for WHAT COMMAND...: poll for COMMAND to succeed for up to 10 s.
wait_for() {
    local what=$1
    shift
    for _ in $(seq 100); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "timed out waiting for: $what"
}
journal_has() { journalctl -q -u tinyhttpd.service -b "$@" | grep -q .; }

# load_start MAX WANT COMMAND...: a client loop in the background (its pid
# in LOAD_PID) that runs COMMAND, which prints a response body, until
# load_stop or MAX requests; a line per request in /tmp/load.out: ok,
# wrong-body or failed, then its start and end times.
load_start() {
    local max=$1 want=$2
    shift 2
    rm -f /tmp/load.out /tmp/load.stop
    (
        n=0
        while [ ! -e /tmp/load.stop ] && [ $n -lt "$max" ]; do
            n=$((n + 1))
            t0=$EPOCHREALTIME
            if body=$("$@" 2>&1); then
                if [ "$body" = "$want" ]; then r=ok; else r=wrong-body; fi
            else
                r=failed
            fi
            echo "$r $t0 $EPOCHREALTIME"
        done
    ) >/tmp/load.out &
    LOAD_PID=$!
}
load_stop() {
    touch /tmp/load.stop
    wait "$LOAD_PID"
}
count_ok() { grep -c '^ok ' /tmp/load.out || true; }
ok_at_least() { [ "$(count_ok)" -ge "$1" ]; }

# load_check R0 R1 WHAT: every request of the stopped loop answered right,
# at least 40 of them, and one under way between R0 and R1 (the restart).
load_check() {
    local total oks during
    total=$(wc -l </tmp/load.out)
    oks=$(count_ok)
    during=$(awk -v a="$1" -v b="$2" '$2 < b && $3 > a' /tmp/load.out | wc -l)
    echo "restart took $(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms;" \
        "$total $3, $oks answered correctly, $during of them under way during the restart"
    [ "$oks" -eq "$total" ] ||
        fail "$((total - oks)) of $total requests failed across a restart: $(grep -v '^ok ' /tmp/load.out | head -n 5 | tr '\n' ' ')"
    [ "$total" -ge 40 ] || fail "only $total requests ran across the restart"
    [ "$during" -ge 1 ] || fail "no request was under way during the restart"
}
