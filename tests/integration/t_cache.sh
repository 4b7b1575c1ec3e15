#!/bin/bash
# The small-file cache never serves what is no longer on disk: a file
# rewritten in place (same size), replaced, deleted, or swapped for a
# symlink that leaves the document root is seen at the next request.
. "$(dirname "$0")/lib.sh"

th_init
f=$TH_ROOT/small.txt
printf 'version-A\n' >"$f"
th_conf
th_start

th_get first /small.txt
th_expect_body first "$f"
etag1=$(th_hdr first ETag)
th_get again /small.txt
th_expect_body again "$f"
th_eq "a cached answer keeps the ETag" "$etag1" "$(th_hdr again ETag)"

# same size, same second: the nanoseconds of the mtime differ
printf 'version-B\n' >"$f"
th_get rewritten /small.txt
th_expect_body rewritten "$f"
th_check "the ETag changed with the content" test "$etag1" != "$(th_hdr rewritten ETag)"

printf 'version-C, longer\n' >"$f.new" && mv "$f.new" "$f"
th_get replaced /small.txt
th_expect_body replaced "$f"

rm "$f"
th_get deleted /small.txt
th_expect_status deleted 404

ln -s "$TH_OUTSIDE/secret.txt" "$f"
th_get symlinked /small.txt
th_expect_status symlinked '403|404'
th_nomatch "no content from outside the root" 'th-outside-secret' "$(cat "$(th_body symlinked)")"

# the index of a directory is cached under the directory's path
printf 'index-A\n' >"$TH_ROOT/sub/index.html"
th_get idx1 /sub/
th_expect_body idx1 "$TH_ROOT/sub/index.html"
printf 'index-B\n' >"$TH_ROOT/sub/index.html"
th_get idx2 /sub/
th_expect_body idx2 "$TH_ROOT/sub/index.html"

th_done
