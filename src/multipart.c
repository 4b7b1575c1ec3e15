/*
 * multipart.c - the framing of a multipart/byteranges body.
 *
 * The body is, for parts p0..pn-1 of a file of type T and size S:
 *
 *     --B CRLF Content-Type: T CRLF Content-Range: bytes a-b/S CRLF CRLF <bytes of p0>
 *     CRLF --B CRLF ... <bytes of pn-1>
 *     CRLF --B-- CRLF
 *
 * (RFC 2046 section 5.1.1: the CRLF before a delimiter belongs to it).  Each head is
 * produced by multipart_head alone, and the total length is computed by calling it, so
 * the Content-Length sent up front and the bytes sent afterwards agree by construction.
 * The boundary is 128 random bits in hex; whether it may occur in the parts is the
 * caller's concern (conn.c checks the bytes it has in memory).
 */
#include "config.h"

#include "multipart.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>

int multipart_boundary(char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[MULTIPART_BOUNDARY_LEN / 2];
    size_t got = 0;

    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, GRND_NONBLOCK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof r; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[MULTIPART_BOUNDARY_LEN] = '\0';
    return 0;
}

size_t multipart_head(const struct multipart *m, unsigned i, char *buf, size_t cap)
{
    const char *sep = i == 0 ? "" : "\r\n";
    int n;

    if (i >= m->nparts) {
        n = snprintf(buf, cap, "\r\n--%s--\r\n", m->boundary);
    } else {
        const struct range_span *p = &m->parts[i];

        n = snprintf(buf, cap,
                     "%s--%s\r\n%s%s%sContent-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
                     "\r\n\r\n",
                     sep, m->boundary, m->content_type ? "Content-Type: " : "",
                     m->content_type ? m->content_type : "", m->content_type ? "\r\n" : "",
                     p->first, p->first + p->length - 1, m->size);
    }
    return n < 0 ? cap : (size_t)n;
}

uint64_t multipart_length(const struct multipart *m)
{
    char buf[MULTIPART_HEAD_MAX];
    uint64_t total = 0;

    for (unsigned i = 0; i <= m->nparts; i++) {
        size_t n = multipart_head(m, i, buf, sizeof buf);

        if (n >= sizeof buf)
            return UINT64_MAX;
        total += n;
        if (i < m->nparts)
            total += m->parts[i].length;
    }
    return total;
}
