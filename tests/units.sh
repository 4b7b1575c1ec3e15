#!/bin/sh
# The generated unit files: systemd-analyze rates the service's exposure at
# 2.0 or lower (the bound this test holds them to; nginx's Debian unit
# rates 9.6).
# systemd-analyze verify runs on the installed units under a real systemd
# (tests/systemd/in-container.sh), where the binary paths exist.
set -eu
unit=${TOP_BUILDDIR:-.}/systemd/tinyhttpd.service
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze not found"
    exit 77
fi
[ -f "$unit" ] || { echo "FAIL: $unit not built"; exit 1; }
out=$(systemd-analyze security --offline=yes "$unit" 2>&1) || true
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
    printf '%s\n' "$out" | tail -n 5
    echo "FAIL: no exposure level in the output"
    exit 1
fi
echo "exposure level: $level"
if awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
    echo "PASS: exposure $level <= 2.0"
else
    printf '%s\n' "$out" | grep '✗' || true
    echo "FAIL: exposure $level > 2.0"
    exit 1
fi
