#!/bin/bash
# Run tests/systemd/in-container.sh against a real systemd: install the
# built tree into a DESTDIR, boot a throw-away systemd container with
# ../shared/systemd-sandbox and run the test there.  Needs root.
# Usage (from the build directory): tests/systemd/run.sh
# Exit status: the test's; 77 when the sandbox is unavailable.
set -euo pipefail

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${TOP_BUILDDIR:-$PWD}
sandbox=${SYSTEMD_SANDBOX:-$srcdir/../shared/systemd-sandbox/run-in-systemd}

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the systemd sandbox needs root"
    exit 77
fi
if [ ! -x "$sandbox" ]; then
    echo "SKIP: no systemd sandbox at $sandbox"
    exit 77
fi

dest=$(mktemp -d /var/tmp/tinyhttpd-systemd.XXXXXX)
trap 'rm -rf "$dest"' EXIT
chmod 755 "$dest"
# Build and install as a distribution would: binaries in /usr, the
# configuration in /etc, units in /lib/systemd/system.
obj=$builddir/tests/systemd-build
mkdir -p "$obj"
(
    cd "$obj"
    [ -f Makefile ] || "$srcdir/configure" -q --prefix=/usr --sysconfdir=/etc \
        --localstatedir=/var --with-systemdsystemunitdir=/lib/systemd/system
    make -s -j"$(nproc)" >/dev/null
    make -s install DESTDIR="$dest/root" >/dev/null
)
cp "$srcdir/tests/systemd/in-container.sh" "$dest/"
# The epoll_wait shim for the failed-event-loop step (same C library inside).
"${CC:-cc}" -Wall -Wextra -shared -fPIC -o "$dest/epoll_fail.so" "$srcdir/tests/shim/epoll_fail.c" -ldl
journal="$builddir/tests/systemd-journal.txt"
# The container's root file system gets the run-time libraries (built once
# per machine and cached by the sandbox).
export SANDBOX_PACKAGES="${SANDBOX_PACKAGES:-libconfig9 media-types}"
"$sandbox" -t 240 -j "$journal" "$dest" in-container.sh
