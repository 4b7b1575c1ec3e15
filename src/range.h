/*
 * range.h - the Range request header (RFC 9110 section 14) against a size.
 *
 * Pure functions: no I/O, no allocation, safe from any thread.
 */
#ifndef TINYHTTPD_RANGE_H
#define TINYHTTPD_RANGE_H

#include <stddef.h>
#include <stdint.h>

enum range_result {
    RANGE_NONE,          /* no usable Range (absent, other unit, or invalid
                             syntax, which RFC 9110 lets us ignore): 200 */
    RANGE_SINGLE,        /* one satisfiable range in *first, *length: 206 */
    RANGE_MULTI,         /* several ranges, at least one satisfiable: we
                             answer 200 with the whole representation */
    RANGE_UNSATISFIABLE, /* no range overlaps [0, size): 416 */
};

/*
 * Interpret the Range field value[0..len) for a representation of size
 * bytes.  "bytes=0-499", "bytes=500-", "bytes=-500" (the last 500), a last
 * position past the end is clamped, a first position at or past the end is
 * unsatisfiable, "bytes=-0" is unsatisfiable, and any range of an empty
 * representation is unsatisfiable.  The unit is case-insensitive; spaces
 * around commas are allowed.  *first and *length are set only for
 * RANGE_SINGLE.  value may be NULL (then RANGE_NONE).
 */
enum range_result range_parse(const char *value, size_t len, uint64_t size, uint64_t *first,
                              uint64_t *length);

#endif
