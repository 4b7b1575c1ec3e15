/*
 * path.h - turn a request target into a safe path below the document root.
 *
 * Pure functions: no I/O, no allocation, safe from any thread.
 */
#ifndef TINYHTTPD_PATH_H
#define TINYHTTPD_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Decode and normalise target[0..len) (origin-form "/a/b?q", or
 * absolute-form "http://host/a/b?q") into out, a NUL-terminated path that
 * starts with '/'.  The query and fragment are dropped; percent-escapes
 * are decoded; "." and ".." segments are removed (RFC 3986 section 5.2.4)
 * and runs of '/' are merged.  A trailing '/' is kept ("/dir/" stays
 * "/dir/", "/dir/." becomes "/dir/").
 *
 * Returns the length of out (>= 1), or a negative HTTP status:
 *   -400  not origin-form or absolute-form (e.g. "*", "x"), a bad
 *         percent-escape, an encoded NUL (%00) or any control byte after
 *         decoding, an encoded slash (%2F) or backslash (%5C), or a ".."
 *         that would climb above the root
 *   -414  the result does not fit in out_size bytes
 */
ssize_t path_normalize(const char *target, size_t len, char *out, size_t out_size);

/*
 * Whether a normalised path has a segment that starts with '.' (a hidden
 * file or directory), not counting a path under "/.well-known/" whose other
 * segments are not hidden.
 */
bool path_is_hidden(const char *path);

/* The query string of target[0..len) (after '?', without '#...'), or NULL. */
const char *path_query(const char *target, size_t len, size_t *query_len);

#endif
