#!/bin/sh
# docs.sh - the configuration keys in the code, the manual page and the
# sample configuration must agree.
#
# The keys the code accepts (and whether a reload may change each) come
# from, in order of preference:
#   1. "$TOP_BUILDDIR/tests/test_conf --list-keys", if that program exists
#      and answers with one key per line ("NAME" or "NAME reload|restart");
#   2. the settings table in src/conf.c, read by the awk program below.
#      The table is the text between the line matching
#      "^static const struct key keys[] = {" and the next line "};",
#      comments removed, cut into entries at the commas outside any
#      parentheses, braces or strings.  An entry is either
#        a macro call   KEY_KIND(NAME, ..., WHEN)   NAME is the first
#                       argument, WHEN (RELOAD/RESTART or true/false)
#                       the last;
#        a designated   { .name = "NAME", ..., .reloadable = WHEN, ... };
#        a positional   { "NAME", kind, offset, min, max, def_num, def_str,
#                       choices, WHEN, check }   WHEN is the 9th field.
#      Change this parser if the table takes yet another form.
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
# this script), TOP_BUILDDIR (the build directory; optional).
# Exit status: 0 in step, 1 a mismatch, 99 a file is missing or cannot be
# parsed.

set -u

: "${srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
TOP_BUILDDIR=${TOP_BUILDDIR-}

conf_c="$srcdir/src/conf.c"
man5="$srcdir/man/tinyhttpd.conf.5"
sample="$srcdir/conf/tinyhttpd.conf"

for f in "$conf_c" "$man5" "$sample"; do
    if [ ! -r "$f" ]; then
        echo "ERROR: $f is missing"
        exit 99
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/docs.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

failed=0
fail() {
    echo "MISSING: $*"
    failed=1
}

# ------------------------------------------------------------ the code's keys

# src/conf.c's table -> "NAME FLAG" lines (FLAG: true, false, or ? when
# it cannot be told).
awk '
function trim(x) { gsub(/^[ \t\n]+|[ \t\n]+$/, "", x); return x }
# s without its C comments (string literals are kept intact).
function uncomment(s,    i, k, ch, nx, instr, out) {
    out = ""; instr = 0
    for (i = 1; i <= length(s); i++) {
        ch = substr(s, i, 1); nx = substr(s, i + 1, 1)
        if (instr) {
            if (ch == "\\") { out = out ch nx; i++; continue }
            if (ch == "\"") instr = 0
        } else if (ch == "\"") {
            instr = 1
        } else if (ch == "/" && nx == "*") {
            k = index(substr(s, i + 2), "*/")
            i = k ? i + k + 2 : length(s)
            ch = " "
        } else if (ch == "/" && nx == "/") {
            while (i <= length(s) && substr(s, i, 1) != "\n") i++
            ch = "\n"
        }
        out = out ch
    }
    return out
}
function unquote(x) { x = trim(x); if (x ~ /^".*"$/) x = substr(x, 2, length(x) - 2); return x }
function flagof(x) {
    x = trim(x)
    if (x == "RELOAD" || x == "true" || x == "1") return "true"
    if (x == "RESTART" || x == "false" || x == "0") return "false"
    return "?"
}
# Split s at the commas outside (), {} and strings into out[1..n]; returns n.
function splitargs(s, out,    i, ch, depth, instr, cur, n) {
    n = 0; depth = 0; instr = 0; cur = ""
    for (i = 1; i <= length(s); i++) {
        ch = substr(s, i, 1)
        if (instr) {
            if (ch == "\\") { cur = cur ch substr(s, i + 1, 1); i++; continue }
            if (ch == "\"") instr = 0
        } else if (ch == "\"") {
            instr = 1
        } else if (ch == "(" || ch == "{") {
            depth++
        } else if (ch == ")" || ch == "}") {
            depth--
        } else if (ch == "," && depth == 0) {
            out[++n] = cur; cur = ""; continue
        }
        cur = cur ch
    }
    if (trim(cur) != "") out[++n] = cur
    return n
}
function entry(e,    a, n, i, name, flag, body) {
    e = trim(e)
    if (e == "") return
    name = ""; flag = "?"
    if (e ~ /^[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/) {
        body = substr(e, index(e, "(") + 1)
        sub(/\)[ \t]*$/, "", body)
        n = splitargs(body, a)
        name = unquote(a[1]); flag = flagof(a[n])
    } else if (e ~ /^\{/) {
        body = substr(e, 2)
        sub(/\}[ \t]*$/, "", body)
        n = splitargs(body, a)
        if (trim(a[1]) ~ /^\./) {
            for (i = 1; i <= n; i++) {
                if (trim(a[i]) ~ /^\.name[ \t]*=/) { sub(/^[^=]*=/, "", a[i]); name = unquote(a[i]) }
                if (trim(a[i]) ~ /^\.reloadable[ \t]*=/) { sub(/^[^=]*=/, "", a[i]); flag = flagof(a[i]) }
            }
        } else {
            name = unquote(a[1])
            if (n >= 9) flag = flagof(a[9])
        }
    }
    if (name == "") name = "?"
    print name, flag
}
/^static const struct key keys\[\] = \{/ { in_table = 1; next }
in_table && /^\};/ {
    n = splitargs(uncomment(text), ent)
    for (j = 1; j <= n; j++) entry(ent[j])
    exit
}
in_table { text = text $0 "\n" }
' "$conf_c" > "$tmp/parsed"

parsed_ok=yes
if ! grep -q . "$tmp/parsed" || grep -qv '^[a-z_][a-z0-9_]* ' "$tmp/parsed"; then
    parsed_ok=no
    : > "$tmp/parsed"
fi
cut -d' ' -f1 "$tmp/parsed" > "$tmp/parsed.names"

source="src/conf.c (settings table)"
listed="$TOP_BUILDDIR/tests/test_conf"
# Only run a test_conf that knows the option (its binary holds the string);
# an older one would run its whole suite instead.
if [ -n "$TOP_BUILDDIR" ] && [ -x "$listed" ] && grep -q -- '--list-keys' "$listed" 2>/dev/null &&
   "$listed" --list-keys > "$tmp/listed" 2>/dev/null &&
   grep -q . "$tmp/listed" &&
   ! grep -Evq '^[a-z_][a-z0-9_]*([[:space:]]+(reload|restart))?[[:space:]]*$' "$tmp/listed"; then
    source="tests/test_conf --list-keys"
    # "NAME [reload|restart]" -> "NAME FLAG"; a flag not given comes from
    # the table.
    awk -v table="$tmp/parsed" '
        BEGIN { while ((getline l < table) > 0) { split(l, x, " "); t[x[1]] = x[2] } }
        { f = $2 == "reload" ? "true" : $2 == "restart" ? "false" : ($1 in t ? t[$1] : "?")
          print $1, f }' "$tmp/listed" > "$tmp/code"
    cut -d' ' -f1 "$tmp/code" | sort > "$tmp/a"
    sort "$tmp/parsed.names" > "$tmp/b"
    if [ "$parsed_ok" = no ]; then
        echo "note: cannot read the settings table in src/conf.c (using --list-keys);"
        echo "      update the parser in $0"
    elif ! cmp -s "$tmp/a" "$tmp/b"; then
        echo "note: the keys parsed from src/conf.c differ from test_conf --list-keys;"
        echo "      the parser in $0 needs updating (using --list-keys):"
        comm -3 "$tmp/a" "$tmp/b" | sed 's/^/      /'
    fi
elif [ "$parsed_ok" = yes ]; then
    cp "$tmp/parsed" "$tmp/code"
else
    echo "ERROR: cannot read the settings table in $conf_c; update the parser in $0"
    exit 99
fi
cut -d' ' -f1 "$tmp/code" > "$tmp/code.names"
echo "keys in the code, from $source: $(tr '\n' ' ' < "$tmp/code.names")"

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

while read -r key flag; do
    want=$(case $flag in true) echo reload ;; false) echo restart ;; *) echo - ;; esac)

    m=$(awk -v k="$key" '$1 == k { print $2; exit }' "$tmp/man.entries")
    if [ -z "$m" ]; then
        fail "'$key' has no entry (.TP/.B $key) in the SETTINGS section of man/tinyhttpd.conf.5"
    elif [ "$m" = "-" ]; then
        fail "the tinyhttpd.conf(5) entry for '$key' has no 'Reload:' or 'Restart:' line"
    elif [ "$want" != "-" ] && [ "$m" != "$want" ]; then
        echo "MISMATCH: tinyhttpd.conf(5) marks '$key' as needing a $m; the code's table says $want"
        failed=1
    fi

    s=$(awk -v k="$key" '$1 == k { print $2; exit }' "$tmp/sample")
    if [ -z "$s" ]; then
        fail "'$key' does not appear in conf/tinyhttpd.conf (as '$key = ...' or '# $key = ...')"
    elif [ "$s" != "-" ] && [ "$want" != "-" ] && [ "$s" != "$want" ]; then
        echo "MISMATCH: conf/tinyhttpd.conf marks '$key' [$s]; the code's table says $want"
        failed=1
    fi
done < "$tmp/code"

if grep -q ' ?$' "$tmp/code"; then
    echo "note: reload flags not found in src/conf.c for:" \
         "$(grep ' ?$' "$tmp/code" | cut -d' ' -f1 | tr '\n' ' ')- Reload:/Restart: not checked for them"
fi

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
    if grep -q ' ?$' "$tmp/code"; then marks="(marks not all checked)"; else marks="checked"; fi
    echo "ok: $(wc -l < "$tmp/code.names" | tr -d ' ') keys, each in tinyhttpd.conf(5) and in" \
         "conf/tinyhttpd.conf; Reload:/Restart: marks $marks; no unknown key documented or set"
fi
exit $failed
