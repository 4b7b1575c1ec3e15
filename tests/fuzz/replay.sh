#!/bin/sh
# replay.sh - replay the fuzz seed corpora through tests/fuzz_replay in `make check`.
#
# automake runs this from the build directory with srcdir (the absolute source directory)
# and TOP_BUILDDIR (the absolute build directory) in the environment; both default to
# something sensible when it is run by hand from the top of an in-tree build.  Every file
# in tests/fuzz/corpus/TARGET/ is fed to target TARGET (http, path, range, encoding).  The test fails
# when a corpus directory is missing or empty, or when fuzz_replay fails: a target that
# finds a broken invariant traps and kills it.  Exit 99 (hard error) when it is not built.
set -eu

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$(pwd)}
replay="$TOP_BUILDDIR/tests/fuzz_replay"

if [ ! -x "$replay" ]; then
    echo "replay.sh: $replay is not built" >&2
    exit 99
fi

status=0
for target in http path range encoding; do
    dir="$srcdir/tests/fuzz/corpus/$target"
    set -- "$dir"/*
    if [ ! -f "$1" ]; then
        echo "FAIL: $target: corpus $dir is missing or empty" >&2
        status=1
        continue
    fi
    "$replay" "$target" "$@" || {
        rc=$?
        echo "FAIL: $target: fuzz_replay exited with status $rc" >&2
        status=1
    }
done
exit "$status"
