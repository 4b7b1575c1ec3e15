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
