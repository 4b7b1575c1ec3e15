#!/bin/bash
# Run tests/systemd/in-container.sh (plain HTTP) and in-container-tls.sh
# (HTTPS) against a real systemd: install the built tree into a DESTDIR,
# boot a throw-away systemd container with ../shared/systemd-sandbox for
# each and run the test there.  Needs root.
# Usage (from the build directory): tests/systemd/run.sh
# SYSTEMD_TESTS="in-container-tls.sh" runs only the ones named.
# Exit status: 1 when a test failed, else 0; 77 when the sandbox is
# unavailable.
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
tests=${SYSTEMD_TESTS:-in-container.sh in-container-tls.sh}
for t in $tests container-lib.sh; do
    cp "$srcdir/tests/systemd/$t" "$dest/"
done
# The epoll_wait shim for the failed-event-loop step (same C library inside).
"${CC:-cc}" -Wall -Wextra -shared -fPIC -o "$dest/epoll_fail.so" "$srcdir/tests/shim/epoll_fail.c" -ldl
# The worker shim for the watchdog steps: every worker hangs on demand.
"${CC:-cc}" -Wall -Wextra -shared -fPIC -o "$dest/worker_hang.so" "$srcdir/tests/shim/worker_hang.c" -ldl
# The container's root file system gets the run-time libraries, and openssl
# and ssl-cert (its group and /etc/ssl/private) for the HTTPS test (built
# once per machine and cached by the sandbox).
export SANDBOX_PACKAGES="${SANDBOX_PACKAGES:-libconfig9 media-types openssl ssl-cert}"
rc=0
for t in $tests; do
    case $t in
    in-container.sh) journal="$builddir/tests/systemd-journal.txt" limit=240 ;;
    *) journal="$builddir/tests/systemd-journal-${t#in-container-}" limit=180
       journal=${journal%.sh}.txt ;;
    esac
    echo "=== $t (journal: $journal)"
    s=0
    "$sandbox" -t "$limit" -j "$journal" "$dest" "$t" || s=$?
    case $s in
    0) ;;
    77) [ "$rc" -ne 0 ] || rc=77 ;;
    *) echo "FAIL: $t (exit status $s)"; rc=1 ;;
    esac
done
exit "$rc"
