#!/bin/sh
# man-lint.sh - the manual pages must be lint-clean.
#
# Runs `mandoc -Tlint -W warning` and `groff -man -ww -z` on
# man/tinyhttpd.8 and man/tinyhttpd.conf.5.  A page fails when a linter
# prints anything or exits non-zero.
#
# Environment (set by `make check` through AM_TESTS_ENVIRONMENT):
#   srcdir   the source directory (default: the directory above this script)
#   MANDOC   the mandoc program, as configure found it; empty: none
#   GROFF    the groff program, as configure found it; empty: none
# When MANDOC or GROFF is unset (the script run by hand), the program of
# that name is looked up in PATH.  Whatever exists is run; the test is
# skipped (exit 77) only when neither linter is available.
#
# Exit status: 0 clean, 1 a page is not clean, 77 skipped, 99 hard error.

set -u

: "${srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
MANDOC=${MANDOC-mandoc}
GROFF=${GROFF-groff}

pages="man/tinyhttpd.8 man/tinyhttpd.conf.5"

# The program named $1 if it can be run, else nothing.
usable() {
    if [ -n "$1" ] && command -v "$1" >/dev/null 2>&1; then
        printf '%s\n' "$1"
    fi
}

mandoc_prog=$(usable "$MANDOC")
groff_prog=$(usable "$GROFF")

if [ -z "$mandoc_prog" ] && [ -z "$groff_prog" ]; then
    echo "SKIP: neither mandoc nor groff is installed (apt-get install mandoc groff-base)"
    exit 77
fi

for p in $pages; do
    if [ ! -r "$srcdir/$p" ]; then
        echo "ERROR: $srcdir/$p is missing"
        exit 99
    fi
done

failed=0
ran=""

# lint NAME COMMAND...: run COMMAND on every page; it must print nothing
# and exit 0.
lint() {
    name=$1
    shift
    ran="$ran $name"
    for p in $pages; do
        out=$("$@" "$srcdir/$p" 2>&1)
        rc=$?
        if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
            echo "FAIL: $name on $p (exit status $rc):"
            printf '%s\n' "$out" | sed 's/^/    /'
            failed=1
        else
            echo "ok: $name on $p"
        fi
    done
}

if [ -n "$mandoc_prog" ]; then
    lint "mandoc -Tlint -W warning" "$mandoc_prog" -Tlint -W warning
else
    echo "note: mandoc not found; only groff runs"
fi
if [ -n "$groff_prog" ]; then
    lint "groff -man -ww -z" "$groff_prog" -man -ww -z
else
    echo "note: groff not found; only mandoc runs"
fi

echo "linters run:$ran"
exit $failed
