#!/bin/sh
# docs.sh - the configuration keys in the code, the manual page and the
# sample configuration must agree.
#
# The keys the code accepts, and whether a reload may change each, come
# from the program itself: `tinyhttpd --print-keys` (a hidden option, see
# src/main.c) prints its settings table, one line per key, "NAME reload"
# or "NAME restart".
#
# Checks, each printing what is wrong:
#   - every key has an entry in the SETTINGS section of
#     man/tinyhttpd.conf.5 (a ".TP" line followed by ".B NAME"), and the
#     entry has a line starting "Reload:" or "Restart:" that matches the
#     table;
#   - every key documented in SETTINGS is a key of the code;
#   - every key appears in conf/tinyhttpd.conf, as "NAME = ..." or as a
#     commented default "# NAME = ...", and every such line there names a
#     key of the code; where the sample marks a key "[reload]" or
#     "[restart]" in the comment above it, the mark matches the table.
#
# Environment: srcdir (the source directory; default: the directory above
# this script), TINYHTTPD (the built daemon; default:
# $TOP_BUILDDIR/src/tinyhttpd).  `make check` sets all three.
# Exit status: 0 in step, 1 a mismatch, 99 a file is missing or the
# program cannot list its keys.

set -u

: "${srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
TOP_BUILDDIR=${TOP_BUILDDIR-}
: "${TINYHTTPD:=${TOP_BUILDDIR:+$TOP_BUILDDIR/src/tinyhttpd}}"

man5="$srcdir/man/tinyhttpd.conf.5"
sample="$srcdir/conf/tinyhttpd.conf"

for f in "$man5" "$sample"; do
    if [ ! -r "$f" ]; then
        echo "ERROR: $f is missing"
        exit 99
    fi
done
if [ -z "$TINYHTTPD" ] || [ ! -x "$TINYHTTPD" ]; then
    echo "ERROR: no built tinyhttpd to list the keys (set TINYHTTPD or TOP_BUILDDIR)"
    exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/docs.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

failed=0
fail() {
    echo "MISSING: $*"
    failed=1
}

# ------------------------------------------------------------ the code's keys

# "NAME reload|restart" lines, in the table's order.
if ! "$TINYHTTPD" --print-keys > "$tmp/code"; then
    echo "ERROR: $TINYHTTPD --print-keys failed"
    exit 99
fi
if ! grep -q . "$tmp/code" ||
   grep -Evq '^[a-z_][a-z0-9_]* (reload|restart)$' "$tmp/code"; then
    echo "ERROR: $TINYHTTPD --print-keys printed something else than 'NAME reload|restart' lines:"
    sed 's/^/    /' "$tmp/code"
    exit 99
fi
cut -d' ' -f1 "$tmp/code" > "$tmp/code.names"
echo "keys in the code, from tinyhttpd --print-keys: $(tr '\n' ' ' < "$tmp/code.names")"

# ------------------------------------------------------------ the manual page

# SETTINGS entries -> "NAME MARK" lines (MARK: reload, restart or -), and
# "BAD LINENO TEXT" for a .TP not followed by ".B NAME".
awk '
function flush() {
    if (key != "")
        print key, (mark == "" ? "-" : mark)
    key = ""; mark = ""
}
/^\.SH/ {
    if (in_s) { flush(); exit }
    if ($0 ~ /^\.SH[ \t]+"?SETTINGS"?[ \t]*$/) in_s = 1
    next
}
!in_s { next }
/^\.TP/ { flush(); want = 1; next }
want {
    want = 0
    if ($0 ~ /^\.B[ \t]+[a-z_][a-z0-9_]*[ \t]*$/) {
        key = $2
    } else {
        print "BAD", NR, $0
    }
    next
}
key != "" && mark == "" && /^Reload:/ { mark = "reload" }
key != "" && mark == "" && /^Restart:/ { mark = "restart" }
END { flush() }
' "$man5" > "$tmp/man"

if grep -q '^BAD ' "$tmp/man"; then
    grep '^BAD ' "$tmp/man" | while read -r _ n text; do
        echo "MALFORMED: $man5:$n: a .TP in SETTINGS must be followed by '.B key', not '$text'"
    done
    failed=1
fi
grep -v '^BAD ' "$tmp/man" > "$tmp/man.entries"
cut -d' ' -f1 "$tmp/man.entries" > "$tmp/man.names"
if ! grep -q . "$tmp/man.names"; then
    echo "ERROR: no SETTINGS entries found in $man5"
    exit 99
fi
sort "$tmp/man.names" | uniq -d | while read -r k; do
    echo "DUPLICATE: $k is documented more than once in tinyhttpd.conf(5)"
done
if [ -n "$(sort "$tmp/man.names" | uniq -d)" ]; then
    failed=1
fi

# ------------------------------------------------------------ the sample configuration

# "NAME MARK" for every "NAME = ..." or "# NAME = ..." line; MARK is the
# [reload]/[restart] mark of the comment block just above it, or -.
awk '
/^[ \t]*#[ \t]*\[(reload|restart)\]/ {
    m = $0; sub(/^[ \t]*#[ \t]*\[/, "", m); sub(/\].*/, "", m); mark = m; next
}
/^[ \t]*(#[ \t]*)?[a-z_][a-z0-9_]*[ \t]*[=:][ \t]*[^ \t]/ {
    line = $0
    sub(/^[ \t]*(#[ \t]*)?/, "", line)
    sub(/[ \t]*[=:].*/, "", line)
    print line, (mark == "" ? "-" : mark)
    mark = ""
    next
}
/^[ \t]*$/ { mark = "" }
' "$sample" > "$tmp/sample"
cut -d' ' -f1 "$tmp/sample" > "$tmp/sample.names"

# ------------------------------------------------------------ compare

while read -r key want; do

    m=$(awk -v k="$key" '$1 == k { print $2; exit }' "$tmp/man.entries")
    if [ -z "$m" ]; then
        fail "'$key' has no entry (.TP/.B $key) in the SETTINGS section of man/tinyhttpd.conf.5"
    elif [ "$m" = "-" ]; then
        fail "the tinyhttpd.conf(5) entry for '$key' has no 'Reload:' or 'Restart:' line"
    elif [ "$m" != "$want" ]; then
        echo "MISMATCH: tinyhttpd.conf(5) marks '$key' as needing a $m; the code's table says $want"
        failed=1
    fi

    s=$(awk -v k="$key" '$1 == k { print $2; exit }' "$tmp/sample")
    if [ -z "$s" ]; then
        fail "'$key' does not appear in conf/tinyhttpd.conf (as '$key = ...' or '# $key = ...')"
    elif [ "$s" != "-" ] && [ "$s" != "$want" ]; then
        echo "MISMATCH: conf/tinyhttpd.conf marks '$key' [$s]; the code's table says $want"
        failed=1
    fi
done < "$tmp/code"

while read -r key; do
    if ! grep -qx "$key" "$tmp/code.names"; then
        echo "UNKNOWN: tinyhttpd.conf(5) documents '$key', which the code does not accept"
        failed=1
    fi
done < "$tmp/man.names"

while read -r key; do
    if ! grep -qx "$key" "$tmp/code.names"; then
        echo "UNKNOWN: conf/tinyhttpd.conf sets '$key', which the code does not accept"
        failed=1
    fi
done < "$tmp/sample.names"

if [ "$failed" -eq 0 ]; then
    echo "ok: $(wc -l < "$tmp/code.names" | tr -d ' ') keys, each in tinyhttpd.conf(5) and in" \
         "conf/tinyhttpd.conf; Reload:/Restart: marks checked; no unknown key documented or set"
fi
exit $failed
