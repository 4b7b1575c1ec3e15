#!/bin/sh
# The generated unit files: systemd-analyze rates the service's exposure at
# 1.2 or lower (nginx's Debian unit rates 9.6), and the HTTPS socket is
# named https (the daemon tells HTTPS from plain HTTP by that name), is
# tied to tinyhttpd.service and is not enabled by default.
# systemd-analyze verify runs on the installed units under a real systemd
# (tests/systemd/in-container*.sh), where the binary paths exist.
set -eu
dir=${TOP_BUILDDIR:-.}/systemd
unit=$dir/tinyhttpd.service
https=$dir/tinyhttpd-https.socket
max=1.2
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze not found"
    exit 77
fi
for f in "$unit" "$https"; do
    [ -f "$f" ] || { echo "FAIL: $f not built"; exit 1; }
done

# The HTTPS socket: the settings the daemon and the service rely on.
for line in ListenStream=443 FileDescriptorName=https Service=tinyhttpd.service \
            WantedBy=sockets.target; do
    grep -qx "$line" "$https" || { echo "FAIL: $https lacks $line"; exit 1; }
done
# Not enabled by default: nothing pulls it in but its own [Install].
if grep -q 'tinyhttpd-https' "$unit" "$dir/tinyhttpd.socket"; then
    echo "FAIL: the plain units refer to tinyhttpd-https.socket (it must stay opt-in)"
    exit 1
fi
echo "PASS: tinyhttpd-https.socket is named https, for tinyhttpd.service, opt-in"

out=$(systemd-analyze security --offline=yes "$unit" 2>&1) || true
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
    printf '%s\n' "$out" | tail -n 5
    echo "FAIL: no exposure level in the output"
    exit 1
fi
echo "exposure level: $level"
if awk -v l="$level" -v m="$max" 'BEGIN { exit !(l <= m) }'; then
    echo "PASS: exposure $level <= $max"
else
    printf '%s\n' "$out" | grep '✗' || true
    echo "FAIL: exposure $level > $max"
    exit 1
fi
