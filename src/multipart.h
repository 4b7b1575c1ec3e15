/*
 * multipart.h - the framing of a multipart/byteranges body (RFC 9110
 * section 14.6): the boundary, each part's head, the closing delimiter and
 * the total length.  No I/O but getrandom; no allocation; any thread.
 */
#ifndef TINYHTTPD_MULTIPART_H
#define TINYHTTPD_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "range.h"

#define MULTIPART_BOUNDARY_LEN 32 /* hex digits: 128 random bits */
#define MULTIPART_HEAD_MAX 512    /* room for any part head multipart_head accepts */

struct multipart {
    char boundary[MULTIPART_BOUNDARY_LEN + 1];
    const char *content_type; /* of the file; NULL: parts carry none */
    uint64_t size;            /* of the whole file, for Content-Range */
    const struct range_span *parts;
    unsigned nparts;
};

/* Fill out with MULTIPART_BOUNDARY_LEN random lower-case hex digits and a NUL
 * (getrandom, never blocking).  0, or -errno. */
int multipart_boundary(char *out);

/*
 * The text before part i (0 <= i < nparts): the delimiter, Content-Type and
 * Content-Range lines and the empty line; for i == nparts, the closing
 * delimiter.  Written to buf[0..cap); returns its length, which may be cap
 * or more when it does not fit (then buf holds nothing usable).
 */
size_t multipart_head(const struct multipart *m, unsigned i, char *buf, size_t cap);

/* The whole body's length (every head, every part, the closing delimiter),
 * or UINT64_MAX when a head does not fit in MULTIPART_HEAD_MAX. */
uint64_t multipart_length(const struct multipart *m);

#endif
