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
    RANGE_EXCESSIVE,     /* range_parse_set only: more ranges than allowed, or
                            too many bytes requested: 200 (whole file) */
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

/* One satisfiable range: [first, first + length), 1 <= length. */
struct range_span {
    uint64_t first;
    uint64_t length;
};

/* Ranges closer than this are sent as one part (as Apache does): a part
 * head costs about as much as the gap. */
#define RANGE_GAP 80

/*
 * The same field value, as a set of ranges (for multipart/byteranges).
 * spans has room for cap ranges (cap >= 1).  Returns what range_parse
 * returns, except that RANGE_MULTI now means "*n >= 2 parts in spans" and a
 * request of several ranges may also give:
 *   RANGE_SINGLE     they coalesce into one range, spans[0];
 *   RANGE_EXCESSIVE  more than cap range-specs, or the satisfiable ranges
 *                    add up (before coalescing) to more than twice the
 *                    size: the defence against range amplification
 *                    (CVE-2011-3192); answer 200 with the whole file.
 * RANGE_UNSATISFIABLE wins over RANGE_EXCESSIVE.  For RANGE_SINGLE and
 * RANGE_MULTI, spans[0..*n) are sorted, each within [0, size), and no two
 * overlap, touch or lie within RANGE_GAP bytes of each other.  *n is 0 for
 * the other results.
 */
enum range_result range_parse_set(const char *value, size_t len, uint64_t size,
                                  struct range_span *spans, size_t cap, size_t *n);

#endif
